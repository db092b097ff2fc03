/* SMS text analysis: checks that the text is well-formed UTF-8 and counts how the SMS network
 * will carry it: GSM-7 (with the extension table) or UCS-2, units and segments
 * (160/153 septets, 70/67 UTF-16 units; an escape pair or a surrogate pair is never split). */
#ifndef GW_GATEWAY_TEXT_H
#define GW_GATEWAY_TEXT_H

#include <stddef.h>

#include "gateway/log.h"

enum gw_text_encoding {
    GW_TEXT_GSM7 = 0,
    GW_TEXT_UCS2,
};

struct gw_text_info {
    enum gw_text_encoding encoding;
    unsigned chars;    /* Unicode code points */
    unsigned units;    /* septets (GSM-7, an extension character counts 2) or UTF-16 units */
    unsigned segments; /* SMS parts the network needs */
};

/* Analyses len bytes of text (borrowed; need not be NUL-terminated). GSM-7 is chosen when every
 * character is in the default alphabet or the extension table, else UCS-2. segments counts
 * parts by filling them in order: 160 septets or 70 UTF-16 units fit one SMS; longer texts go
 * in parts of 153 or 67, and a character that does not fit whole starts the next part.
 * Rejects (EINVAL) an empty text, a NULL argument, more than UINT_MAX / 2 bytes, invalid UTF-8
 * (bad or truncated sequences, overlong forms, surrogates, code points above U+10FFFF), NUL,
 * the C0 control characters other than TAB, LF and CR, and DEL. *out is written only on
 * success. Any thread. Returns 0 or EINVAL. */
int gw_text_analyse(const char *text, size_t len, struct gw_text_info *out) GW_MUST_CHECK;

/* "GSM-7" or "UCS-2" (a static string). */
const char *gw_text_encoding_name(enum gw_text_encoding enc);

#endif
