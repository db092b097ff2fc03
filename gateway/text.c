/* SMS text analysis: strict UTF-8 validation, the choice between GSM-7 and UCS-2, and the
 * number of SMS parts, counted by filling parts character by character so that an escape pair
 * or a surrogate pair never straddles two parts. */
#include "gateway/text.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define NO_CP 0x110000u /* above Unicode: matches no decoded character */

/* GSM 03.38 default alphabet, indexed by septet value (TS 23.038 §6.2.1). */
static const uint32_t gsm7_basic[128] = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, /* @ £ $ ¥ è é ù ì */
    0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5, /* ò Ç LF Ø ø CR Å å */
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, /* Δ _ Φ Γ Λ Ω Π Ψ */
    0x03A3, 0x0398, 0x039E, NO_CP,  0x00C6, 0x00E6, 0x00DF, 0x00C9, /* Σ Θ Ξ ESC Æ æ ß É */
    0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, /* SP ! " # ¤ % & ' */
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F, /* ( ) * + , - . / */
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, /* 0-7 */
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, /* 8 9 : ; < = > ? */
    0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, /* ¡ A-G */
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F, /* H-O */
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, /* P-W */
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, /* X Y Z Ä Ö Ñ Ü § */
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, /* ¿ a-g */
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F, /* h-o */
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, /* p-w */
    0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0, /* x y z ä ö ñ ü à */
};

/* The extension table: each is sent as ESC (0x1B) and the septet in the comment. */
static const uint32_t gsm7_ext[] = {
    0x000C, /* 0A form feed */
    0x005E, /* 14 ^ */
    0x007B, /* 28 { */
    0x007D, /* 29 } */
    0x005C, /* 2F \ */
    0x005B, /* 3C [ */
    0x007E, /* 3D ~ */
    0x005D, /* 3E ] */
    0x007C, /* 40 | */
    0x20AC, /* 65 € */
};

/* Septets that cp costs in GSM-7: 1 (default alphabet), 2 (extension table) or 0 (absent). */
static unsigned gsm7_cost(uint32_t cp)
{
    /* most ASCII letters, digits and punctuation sit at their own code */
    if (cp < 128 && gsm7_basic[cp] == cp)
        return 1;
    for (unsigned i = 0; i < 128; i++) {
        if (gsm7_basic[i] == cp)
            return 1;
    }
    for (unsigned i = 0; i < sizeof(gsm7_ext) / sizeof(gsm7_ext[0]); i++) {
        if (gsm7_ext[i] == cp)
            return 2;
    }
    return 0;
}

static bool is_cont(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

/* Decodes one character of well-formed UTF-8 (RFC 3629, Unicode table 3-7): no overlong
 * forms, no surrogates, nothing above U+10FFFF, no truncated sequence. Returns its length in
 * bytes, or 0 if the bytes at s are not valid. */
static size_t decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char b = s[0];
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    size_t n;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        lo = b == 0xE0 ? 0xA0 : 0x80; /* E0 80..9F would be overlong */
        hi = b == 0xED ? 0x9F : 0xBF; /* ED A0..BF would be a surrogate */
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        lo = b == 0xF0 ? 0x90 : 0x80; /* F0 80..8F would be overlong */
        hi = b == 0xF4 ? 0x8F : 0xBF; /* F4 90.. would be above U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    uint32_t c = b & (0xFFu >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        if (!is_cont(s[i]))
            return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    *cp = c;
    return n;
}

/* NUL, the C0 controls other than TAB, LF and CR, and DEL have no business in an SMS. */
static bool is_banned(uint32_t cp)
{
    return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F;
}

/* Units cp takes in the given encoding: septets, or UTF-16 code units. */
static unsigned cost(enum gw_text_encoding enc, uint32_t cp)
{
    if (enc == GW_TEXT_GSM7)
        return gsm7_cost(cp);
    return cp > 0xFFFF ? 2 : 1;
}

/* First pass: validates everything and counts characters and units for both encodings. */
static int scan(const unsigned char *s, size_t len, struct gw_text_info *info)
{
    unsigned chars = 0, septets = 0, utf16 = 0;
    bool gsm7 = true;

    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = decode(s + i, len - i, &cp);
        if (n == 0 || is_banned(cp))
            return EINVAL;
        unsigned c = gsm7_cost(cp);
        if (c == 0)
            gsm7 = false;
        septets += c;
        utf16 += cost(GW_TEXT_UCS2, cp);
        chars++;
        i += n;
    }
    info->encoding = gsm7 ? GW_TEXT_GSM7 : GW_TEXT_UCS2;
    info->chars = chars;
    info->units = gsm7 ? septets : utf16;
    return 0;
}

/* Second pass, for a text too long for one SMS: fills parts of `part` units in order, and
 * starts a new part whenever the next character does not fit whole. */
static unsigned count_parts(const unsigned char *s, size_t len, enum gw_text_encoding enc,
                            unsigned part)
{
    unsigned parts = 1, used = 0;

    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n = decode(s + i, len - i, &cp);
        unsigned c = cost(enc, cp);
        if (used + c > part) {
            parts++;
            used = 0;
        }
        used += c;
        i += n;
    }
    return parts;
}

int gw_text_analyse(const char *text, size_t len, struct gw_text_info *out)
{
    struct gw_text_info info = {0};
    const unsigned char *s = (const unsigned char *)text;
    int err;

    /* a character costs at most 2 units per byte, so the counters cannot overflow */
    if (text == NULL || out == NULL || len == 0 || len > UINT_MAX / 2)
        return EINVAL;
    err = scan(s, len, &info);
    if (err)
        return err;
    bool gsm7 = info.encoding == GW_TEXT_GSM7;
    unsigned single = gsm7 ? 160 : 70;
    unsigned part = gsm7 ? 153 : 67; /* 6 octets of concatenation header taken */
    info.segments = info.units <= single ? 1 : count_parts(s, len, info.encoding, part);
    *out = info;
    return 0;
}

const char *gw_text_encoding_name(enum gw_text_encoding enc)
{
    switch (enc) {
    case GW_TEXT_GSM7:
        return "GSM-7";
    case GW_TEXT_UCS2:
        return "UCS-2";
    }
    return "unknown";
}
