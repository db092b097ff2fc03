/* Tests for gateway/number.c: E.164 normalisation (protocol.md §5, reliability.md §5.1 rows
 * 20-22) and Request-URI template expansion, including attempts to inject SIP syntax. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/number.h"

static void good(const char *in, const char *cc, const char *want)
{
    char out[GW_E164_LEN];

    if (gw_number_normalize(in, cc, out) != 0)
        fail_msg("refused \"%s\" (cc %s)", in, cc != NULL ? cc : "NULL");
    assert_string_equal(out, want);
}

static void bad(const char *in, const char *cc)
{
    char out[GW_E164_LEN] = "untouched";

    if (gw_number_normalize(in, cc, out) != EINVAL)
        fail_msg("accepted \"%s\" (cc %s)", in, cc != NULL ? cc : "NULL");
    assert_string_equal(out, "untouched");
}

static void protocol_examples(void **state)
{
    (void)state;
    good("0176 1234 5678", "49", "+4917612345678");
    good("0049 176 1234 5678", NULL, "+4917612345678");
    good("004917612345678", "", "+4917612345678");
    good("+49 (176) 1234-5678", NULL, "+4917612345678");
    good("+4917612345678", "49", "+4917612345678");
    good("+49.176.1234.5678", NULL, "+4917612345678");
    good("+49/176/12345678", NULL, "+4917612345678");
    good("011 44 20 7946 0958", "1", "+442079460958");
    good("(0176) 1234-5678", "+49", "+4917612345678");
}

static void prefixes(void **state)
{
    (void)state;
    /* "011" is an international prefix only in NANP */
    bad("011 44 20 7946 0958", "49");
    bad("011 44 20 7946 0958", NULL);
    /* a trunk "0" needs a country code */
    bad("0176 1234 5678", NULL);
    bad("0176 1234 5678", "");
    bad("0176 1234 5678", "0");
    bad("0176 1234 5678", "049");
    bad("0176 1234 5678", "4a");
    bad("0176 1234 5678", "1234");
    /* bare digits: international or national is a guess */
    bad("4917612345678", "49");
    bad("17612345678", NULL);
    /* the country code never starts with 0 */
    bad("+0176 1234 5678", NULL);
    bad("+049176123456", NULL);
    bad("000176 1234 5678", NULL);
    bad("0110176 1234 5678", "1");
    good("+1 212 555 0100", "1", "+12125550100");
    good("0212 555 0100", "1", "+12125550100");
}

static void lengths(void **state)
{
    (void)state;
    good("+12345678", NULL, "+12345678");                 /* 8 digits */
    good("+123456789012345", NULL, "+123456789012345");   /* 15 digits */
    bad("+1234567", NULL);                                /* 7 */
    bad("+1234567890123456", NULL);                       /* 16 */
    bad("00 1234 5678 9012 3456", NULL);                  /* 16 after "00" */
    good("0 1234 5678 9012 3", "49", "+491234567890123"); /* "49" + 13 */
    bad("0 1234 5678 9012 34", "49");                     /* "49" + 14 */
    good("0 1234 5678 9012 34", "1", "+112345678901234");
    bad("0 123 45", "49"); /* +4912345: 7 */
    bad("", NULL);
    bad("+", NULL);
    bad("00", NULL);
    bad("0", "49");
    bad(" - . ( ) / ", "49");
    /* 64 bytes is the cap on the raw input, separators included */
    char in[80];
    memset(in, ' ', sizeof(in));
    memcpy(in, "+4917612345678", 14);
    in[64] = '\0';
    good(in, NULL, "+4917612345678");
    in[64] = ' ';
    in[65] = '\0';
    bad(in, NULL);
}

static void injection(void **state)
{
    (void)state;
    bad("+4915112345678\r\nX-Evil: 1", NULL);
    bad("+4915112345678\n", NULL);
    bad("+4915112345678\r", NULL);
    bad("+49\t15112345678", NULL);
    bad("+49\v15112345678", NULL);
    bad("+49\x7f"
        "15112345678",
        NULL);
    bad("sip:evil@host", NULL);
    bad("sip:+4915112345678@host", NULL);
    bad("tel:+4915112345678", NULL);
    bad("<+4915112345678>", NULL);
    bad("+4915112345678>", NULL);
    bad("+49;15112345678", NULL);
    bad("+4915112345678;x", NULL);
    bad("+49@15112345678", NULL);
    bad("+4915112345678*", NULL);
    bad("#31#+4915112345678", NULL);
    bad("+49 151 ABC 45678", NULL);
    bad("+49 151 l2345678", NULL);
    bad("+49\xef\xbc\x91"
        "5112345678",
        NULL); /* fullwidth digit one */
    bad("+49+15112345678", NULL);
    bad("++4915112345678", NULL);
    bad("49+15112345678", "49");
    bad(" +4915112345678", NULL); /* "+" only as the very first character */
    bad("+49_15112345678", NULL);
    bad("+49,15112345678", NULL);
    bad(NULL, "49");
}

static void uri(const char *tmpl, const char *e164, const char *domain, const char *want)
{
    char out[128];

    if (gw_number_format_uri(tmpl, e164, domain, out, sizeof(out)) != 0)
        fail_msg("refused template \"%s\"", tmpl);
    assert_string_equal(out, want);
}

static void uri_bad(const char *tmpl, const char *e164, const char *domain, int want)
{
    char out[128] = "untouched";

    assert_int_equal(gw_number_format_uri(tmpl, e164, domain, out, sizeof(out)), want);
    assert_string_equal(out, "untouched");
}

static void templates(void **state)
{
    (void)state;
    uri("sip:{e164}@{domain};user=phone", "+4917612345678", "ims.op.example",
        "sip:+4917612345678@ims.op.example;user=phone");
    uri("tel:{e164}", "+4917612345678", NULL, "tel:+4917612345678");
    uri("sip:{digits}@{domain}", "+4917612345678", "ims.op.example",
        "sip:4917612345678@ims.op.example");
    uri("sips:{e164}@sms.{domain}:5061", "+4917612345678", "op.example",
        "sips:+4917612345678@sms.op.example:5061");
    uri("sip:{e164}@{domain}", "+12125550100", "[2001:db8::1]:5060",
        "sip:+12125550100@[2001:db8::1]:5060");
    uri("sip:{digits}@{domain};user=phone?x={e164}", "+4917612345678", "a.b",
        "sip:4917612345678@a.b;user=phone?x=+4917612345678");
}

static void bad_templates(void **state)
{
    static const char *const n = "+4917612345678";
    static const char *const d = "ims.op.example";

    (void)state;
    uri_bad("sip:{number}@{domain}", n, d, EINVAL);
    uri_bad("sip:{E164}@{domain}", n, d, EINVAL);
    uri_bad("sip:{}@{domain}", n, d, EINVAL);
    uri_bad("sip:{e164@{domain}", n, d, EINVAL);
    uri_bad("sip:{e164}@{domain", n, d, EINVAL);
    uri_bad("sip:e164}@{domain}", n, d, EINVAL);
    uri_bad("sip:{{e164}}@{domain}", n, d, EINVAL);
    uri_bad("{e164}@{domain}", n, d, EINVAL);
    uri_bad("http://{domain}/{e164}", n, d, EINVAL);
    uri_bad("{domain}:{e164}", n, "sip", EINVAL);  /* the scheme must be literal */
    uri_bad("sip:gateway@{domain}", n, d, EINVAL); /* no number in it */
    uri_bad("tel:+{e164}", n, d, EINVAL);          /* would give "tel:++49..." */
    uri_bad("", n, d, EINVAL);
    uri_bad("sip:{e164}@{domain}>;evil", n, d, EINVAL);
    uri_bad("<sip:{e164}@{domain}>", n, d, EINVAL);
    uri_bad("sip:{e164}@{domain} x", n, d, EINVAL);
    uri_bad("sip:{e164}@{domain}\r\nX-Evil: 1", n, d, EINVAL);
    uri_bad("sip:\"{e164}\"@{domain}", n, d, EINVAL);
    uri_bad("sip:{e164}@h\xc3\xa9.example", n, d, EINVAL);
    uri_bad(NULL, n, d, EINVAL);
}

static void bad_domains_and_numbers(void **state)
{
    static const char *const t = "sip:{e164}@{domain};user=phone";
    static const char *const n = "+4917612345678";

    (void)state;
    uri_bad(t, n, "ims.op.example\r\nX-Evil: 1", EINVAL);
    uri_bad(t, n, "ims.op.example\n", EINVAL);
    uri_bad(t, n, "ims.op.example>", EINVAL);
    uri_bad(t, n, "a.example;maddr=evil.example", EINVAL);
    uri_bad(t, n, "a.example;lr", EINVAL);
    uri_bad(t, n, "evil@a.example", EINVAL);
    uri_bad(t, n, "a.example?Route=x", EINVAL);
    uri_bad(t, n, "a example", EINVAL);
    uri_bad(t, n, "", EINVAL);
    uri_bad(t, n, NULL, EINVAL);
    uri_bad(t, "4917612345678", "a.b", EINVAL);
    uri_bad(t, "+1234567", "a.b", EINVAL);
    uri_bad(t, "+1234567890123456", "a.b", EINVAL);
    uri_bad(t, "+0176123456789", "a.b", EINVAL);
    uri_bad(t, "+49176123x5678", "a.b", EINVAL);
    uri_bad(t, "+4917612345678\r\n", "a.b", EINVAL);
    uri_bad(t, NULL, "a.b", EINVAL);
}

static void too_small(void **state)
{
    static const char *const want = "sip:+4917612345678@ims.op.example;user=phone";
    char out[64];
    size_t need = strlen(want) + 1;

    (void)state;
    memset(out, 'x', sizeof(out));
    assert_int_equal(gw_number_format_uri("sip:{e164}@{domain};user=phone", "+4917612345678",
                                          "ims.op.example", out, need - 1),
                     EMSGSIZE);
    assert_int_equal(out[0], 'x');
    assert_int_equal(gw_number_format_uri("tel:{e164}", "+4917612345678", NULL, out, 0), EMSGSIZE);
    assert_int_equal(out[0], 'x');
    assert_int_equal(gw_number_format_uri("sip:{e164}@{domain};user=phone", "+4917612345678",
                                          "ims.op.example", out, need),
                     0);
    assert_string_equal(out, want);
    /* a bad template is reported as such even when out is also too small */
    assert_int_equal(gw_number_format_uri("sip:{x}", "+4917612345678", NULL, out, 1), EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(protocol_examples),
        cmocka_unit_test(prefixes),
        cmocka_unit_test(lengths),
        cmocka_unit_test(injection),
        cmocka_unit_test(templates),
        cmocka_unit_test(bad_templates),
        cmocka_unit_test(bad_domains_and_numbers),
        cmocka_unit_test(too_small),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
