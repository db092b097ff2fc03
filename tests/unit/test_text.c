/* Tests for gateway/text.c: the vectors of protocol.md §6.4, the GSM-7 tables, UTF-8 that must
 * be refused, and the rule that an escape pair or a surrogate pair never straddles two parts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/text.h"

#define BUF_MAX 2048

/* A text made of pieces, each repeated: {"a", 152}, {"€", 1}, ... */
struct piece {
    const char *s;
    unsigned times;
};

static size_t build(char *buf, size_t cap, const struct piece *p, size_t n)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(p[i].s);
        for (unsigned t = 0; t < p[i].times; t++) {
            assert_true(len + l < cap);
            memcpy(buf + len, p[i].s, l);
            len += l;
        }
    }
    buf[len] = '\0';
    return len;
}

static void check(const char *text, size_t len, enum gw_text_encoding enc, unsigned chars,
                  unsigned units, unsigned segments)
{
    struct gw_text_info info;

    assert_int_equal(gw_text_analyse(text, len, &info), 0);
    assert_int_equal(info.encoding, enc);
    assert_int_equal(info.chars, chars);
    assert_int_equal(info.units, units);
    assert_int_equal(info.segments, segments);
}

static void check_pieces(const struct piece *p, size_t n, enum gw_text_encoding enc, unsigned chars,
                         unsigned units, unsigned segments)
{
    char buf[BUF_MAX];
    size_t len = build(buf, sizeof(buf), p, n);

    check(buf, len, enc, chars, units, segments);
}

static void check_str(const char *text, enum gw_text_encoding enc, unsigned chars, unsigned units,
                      unsigned segments)
{
    check(text, strlen(text), enc, chars, units, segments);
}

static void check_bad(const char *text, size_t len)
{
    struct gw_text_info info = {.chars = 77};

    assert_int_equal(gw_text_analyse(text, len, &info), EINVAL);
    assert_int_equal(info.chars, 77); /* left alone on failure */
}

static void vectors_1_to_4(void **state)
{
    (void)state;
    check_str("hellohello", GW_TEXT_GSM7, 10, 10, 1);
    check_pieces((struct piece[]){{"a", 160}}, 1, GW_TEXT_GSM7, 160, 160, 1);
    check_pieces((struct piece[]){{"a", 161}}, 1, GW_TEXT_GSM7, 161, 161, 2);
    check_pieces((struct piece[]){{"\u20ac", 80}}, 1, GW_TEXT_GSM7, 80, 160, 1);
}

static void vectors_5_to_8(void **state)
{
    (void)state;
    check_pieces((struct piece[]){{"\u20ac", 81}}, 1, GW_TEXT_GSM7, 81, 162, 2);
    check_pieces((struct piece[]){{"a", 152}, {"\u20ac", 1}, {"a", 10}}, 3, GW_TEXT_GSM7, 163, 164,
                 2);
    check_str("[test]", GW_TEXT_GSM7, 6, 8, 1);
    check_str("{}[]~^|\\\u20ac", GW_TEXT_GSM7, 9, 18, 1);
}

static void vectors_9_to_12(void **state)
{
    (void)state;
    check_str("Stra\u00dfe caf\u00e9", GW_TEXT_GSM7, 11, 11, 1);
    check_str("na\u00efve", GW_TEXT_UCS2, 5, 5, 1);
    check_str("it`s", GW_TEXT_UCS2, 4, 4, 1);
    check_str("Hello \xF0\x9F\x98\x80", GW_TEXT_UCS2, 7, 8, 1);
}

static void vectors_13_to_16(void **state)
{
    (void)state;
    check_pieces((struct piece[]){{"\u0436", 70}}, 1, GW_TEXT_UCS2, 70, 70, 1);
    check_pieces((struct piece[]){{"\u0436", 71}}, 1, GW_TEXT_UCS2, 71, 71, 2);
    check_pieces((struct piece[]){{"\u0436", 66}, {"\xF0\x9F\x98\x80", 1}, {"\u0436", 3}}, 3,
                 GW_TEXT_UCS2, 70, 71, 2);
    check_pieces((struct piece[]){{"a", 306}}, 1, GW_TEXT_GSM7, 306, 306, 2);
    check_pieces((struct piece[]){{"a", 307}}, 1, GW_TEXT_GSM7, 307, 307, 3);
}

/* Where the no-split rule changes the count, and where it must not. */
static void part_boundaries(void **state)
{
    (void)state;
    /* 153 + 153 exactly, then one escape pair that would straddle the second boundary */
    check_pieces((struct piece[]){{"a", 305}, {"\u20ac", 1}}, 2, GW_TEXT_GSM7, 306, 307, 3);
    /* an escape pair exactly at the end of part one fits */
    check_pieces((struct piece[]){{"a", 151}, {"\u20ac", 1}, {"a", 10}}, 3, GW_TEXT_GSM7, 162, 163,
                 2);
    /* 306 units would make 2 parts by division; whole pairs make 3 (152 + 152 + 2) */
    check_pieces((struct piece[]){{"\u20ac", 153}}, 1, GW_TEXT_GSM7, 153, 306, 3);
    /* 67 + 67, then a surrogate pair split at the second boundary */
    check_pieces((struct piece[]){{"\u0436", 133}, {"\xF0\x9F\x98\x80", 1}}, 2, GW_TEXT_UCS2, 134,
                 135, 3);
    check_pieces((struct piece[]){{"\xF0\x9F\x98\x80", 35}}, 1, GW_TEXT_UCS2, 35, 70, 1);
    check_pieces((struct piece[]){{"\xF0\x9F\x98\x80", 36}}, 1, GW_TEXT_UCS2, 36, 72, 2);
    check_pieces((struct piece[]){{"\xF0\x9F\x98\x80", 67}}, 1, GW_TEXT_UCS2, 67, 134, 3);
    /* full parts: 153 + 153 septets, 67 + 67 UTF-16 units */
    check_pieces((struct piece[]){{"\u0436", 134}}, 1, GW_TEXT_UCS2, 134, 134, 2);
    check_pieces((struct piece[]){{"\u0436", 135}}, 1, GW_TEXT_UCS2, 135, 135, 3);
    /* one non-GSM character turns a long text into UCS-2 */
    check_pieces((struct piece[]){{"a", 100}, {"`", 1}}, 2, GW_TEXT_UCS2, 101, 101, 2);
}

/* Every character of the basic table costs 1 septet, every extension character 2. */
static void gsm7_tables(void **state)
{
    static const char *const basic =
        "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5"
        "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9"
        " !\"#\u00a4%&'()*+,-./0123456789:;<=>?"
        "\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"
        "\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0";

    (void)state;
    check_str(basic, GW_TEXT_GSM7, 127, 127, 1);
    check_str("^{}\\[~]|\u20ac", GW_TEXT_GSM7, 9, 18, 1);
}

static void not_gsm7(void **state)
{
    static const char *const outside[] = {
        "`",      "\u00e7",   "\u00ef", "\u201c", "\u201d", "\u2018", "\u2019",
        "\u2013", "\u2014",   "\u2026", "\u00a0", "\u0436", "\u03b1", "\u4e2d",
        "\t",     "\xc2\x80", "\u00a2", "\u00ff", "\ufeff", "\u0391", "\u00e1",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "ab%sc", outside[i]);
        assert_true(n > 0 && (size_t)n < sizeof(buf));
        struct gw_text_info info;
        assert_int_equal(gw_text_analyse(buf, (size_t)n, &info), 0);
        assert_int_equal(info.encoding, GW_TEXT_UCS2);
        assert_int_equal(info.chars, 4);
        assert_int_equal(info.units, 4);
    }
}

static void controls(void **state)
{
    (void)state;
    check_bad("", 0);
    check_bad("a\0b", 3);
    check_bad("\0", 1);
    for (unsigned c = 1; c < 0x20; c++) {
        char buf[4] = {'a', (char)c, 'b', '\0'};
        struct gw_text_info info;
        int err = gw_text_analyse(buf, 3, &info);
        if (c == '\t' || c == '\n' || c == '\r')
            assert_int_equal(err, 0);
        else
            assert_int_equal(err, EINVAL);
    }
    check_bad("a\x7f", 2);
    check_bad("\x0c", 1); /* form feed: in the extension table, but a control character */
    check_str("a\r\nb", GW_TEXT_GSM7, 4, 4, 1);
    check_str("a\tb", GW_TEXT_UCS2, 3, 3, 1);
}

static void bad_utf8(void **state)
{
    (void)state;
    check_bad("\xff", 1);
    check_bad("\xfe", 1);
    check_bad("a\x80", 2);                    /* lone continuation byte */
    check_bad("\xc0\xaf", 2);                 /* overlong "/" */
    check_bad("\xc1\xbf", 2);                 /* overlong */
    check_bad("\xe0\x80\xaf", 3);             /* overlong "/" in 3 bytes */
    check_bad("\xe0\x9f\xbf", 3);             /* overlong U+07FF */
    check_bad("\xf0\x80\x80\xaf", 4);         /* overlong "/" in 4 bytes */
    check_bad("\xf0\x8f\xbf\xbf", 4);         /* overlong U+FFFF */
    check_bad("\xed\xa0\x80", 3);             /* U+D800 */
    check_bad("\xed\xbf\xbf", 3);             /* U+DFFF */
    check_bad("\xed\xa0\xbd\xed\xb8\x80", 6); /* CESU-8 pair for U+1F600 */
    check_bad("\xf4\x90\x80\x80", 4);         /* U+110000 */
    check_bad("\xf5\x80\x80\x80", 4);
    check_bad("\xc3", 1);             /* truncated */
    check_bad("ab\xe2\x82", 4);       /* truncated euro sign */
    check_bad("\xf0\x9f\x98", 3);     /* truncated emoji */
    check_bad("\xe2\x28\xa1", 3);     /* bad continuation */
    check_bad("\xf0\x9f\x98\x28", 4); /* bad last continuation */
    check_bad("\xc3\xa9\xc3", 3);     /* valid, then truncated */
    /* the len argument is what counts, not a NUL */
    check_bad("\xe2\x82\xac", 2);
}

static void good_utf8_edges(void **state)
{
    (void)state;
    check_str("\xc2\x80", GW_TEXT_UCS2, 1, 1, 1);         /* U+0080 */
    check_str("\xdf\xbf", GW_TEXT_UCS2, 1, 1, 1);         /* U+07FF */
    check_str("\xe0\xa0\x80", GW_TEXT_UCS2, 1, 1, 1);     /* U+0800 */
    check_str("\xed\x9f\xbf", GW_TEXT_UCS2, 1, 1, 1);     /* U+D7FF */
    check_str("\xee\x80\x80", GW_TEXT_UCS2, 1, 1, 1);     /* U+E000 */
    check_str("\xef\xbf\xbf", GW_TEXT_UCS2, 1, 1, 1);     /* U+FFFF */
    check_str("\xf0\x90\x80\x80", GW_TEXT_UCS2, 1, 2, 1); /* U+10000 */
    check_str("\xf4\x8f\xbf\xbf", GW_TEXT_UCS2, 1, 2, 1); /* U+10FFFF */
    /* only len bytes are read: the euro sign of "a€" is cut off by len */
    check("a\xe2\x82\xac", 1, GW_TEXT_GSM7, 1, 1, 1);
}

static void arguments(void **state)
{
    struct gw_text_info info;

    (void)state;
    assert_int_equal(gw_text_analyse(NULL, 0, &info), EINVAL);
    assert_int_equal(gw_text_analyse(NULL, 3, &info), EINVAL);
    assert_int_equal(gw_text_analyse("abc", 3, NULL), EINVAL);
    assert_string_equal(gw_text_encoding_name(GW_TEXT_GSM7), "GSM-7");
    assert_string_equal(gw_text_encoding_name(GW_TEXT_UCS2), "UCS-2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vectors_1_to_4),  cmocka_unit_test(vectors_5_to_8),
        cmocka_unit_test(vectors_9_to_12), cmocka_unit_test(vectors_13_to_16),
        cmocka_unit_test(part_boundaries), cmocka_unit_test(gsm7_tables),
        cmocka_unit_test(not_gsm7),        cmocka_unit_test(controls),
        cmocka_unit_test(bad_utf8),        cmocka_unit_test(good_utf8_edges),
        cmocka_unit_test(arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
