/* Phone numbers: normalisation of API input to E.164 ("+" and 8 to 15 digits), and expansion
 * of the operator's Request-URI template for a recipient. Pure functions, any thread. */
#ifndef GW_GATEWAY_NUMBER_H
#define GW_GATEWAY_NUMBER_H

#include <stddef.h>

#include "gateway/log.h"

#define GW_E164_LEN 17 /* "+", at most 15 digits, NUL */

/* Normalises in to E.164 in out: drops the visual separators space - . ( ) /, turns a leading
 * "00" (or "011" when default_cc is "1") into "+", and a single leading trunk "0" into
 * "+<default_cc>" when default_cc is non-empty. Rejects anything else: letters, control
 * characters, "@", ";", "<", a "+" not at the start, a country code starting with 0, fewer than
 * 8 or more than 15 digits. default_cc may be NULL or "". Returns 0 or EINVAL. */
int gw_number_normalize(const char *in, const char *default_cc, char out[GW_E164_LEN])
    GW_MUST_CHECK;

/* Expands a URI template: "{e164}" becomes the number with its "+", "{digits}" the number
 * without it, "{domain}" the domain. Other text is copied. Returns 0, EINVAL (an unknown
 * "{...}" placeholder, or a template that yields no "sip:", "sips:" or "tel:" URI) or
 * EMSGSIZE (out too small). */
int gw_number_format_uri(const char *tmpl, const char *e164, const char *domain, char *out,
                         size_t outlen) GW_MUST_CHECK;

#endif
