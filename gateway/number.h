/* Phone numbers: normalisation of API input to E.164 ("+" and 8 to 15 digits), and expansion
 * of the operator's Request-URI template for a recipient. Pure functions, any thread. */
#ifndef GW_GATEWAY_NUMBER_H
#define GW_GATEWAY_NUMBER_H

#include <stddef.h>

#include "gateway/log.h"

#define GW_E164_LEN 17 /* "+", at most 15 digits, NUL */

/* Normalises in (borrowed, NUL-terminated, at most 64 bytes) to E.164 in out: drops the visual
 * separators space - . ( ) /, keeps a "+" that is the very first character, turns a leading
 * "00" (or "011" when default_cc is "1") into "+", and a single leading trunk "0" into
 * "+<default_cc>". default_cc is 1 to 3 digits, optionally after a "+"; it may be NULL or "",
 * and then national numbers are refused. Rejects anything else: letters, control characters,
 * "@", ";", "<", "*", "#", a "+" not at the start, bare digits with no "+", "00" or "0" in
 * front (international and national cannot be told apart), a country code starting with 0,
 * fewer than 8 or more than 15 digits. out is written only on success. Any thread.
 * Returns 0 or EINVAL. */
int gw_number_normalize(const char *in, const char *default_cc,
                        char out[GW_E164_LEN]) GW_MUST_CHECK;

/* Expands a URI template: "{e164}" becomes the number with its "+", "{digits}" the number
 * without it, "{domain}" the domain. Other text is copied. The template must start with
 * "sip:", "sips:" or "tel:" and use "{e164}" or "{digits}" at least once; e164 must be an
 * E.164 number as gw_number_normalize writes it; domain (may be NULL if unused) must be a
 * host or host:port made of letters, digits and . - _ : [ ]. The result never holds a
 * control character, a space, a non-ASCII byte, "<", ">" or '"', so it can go into a SIP
 * header as it is. All strings are borrowed; out (outlen bytes) is written only on success.
 * Any thread. Returns 0, EINVAL (a bad template, number or domain, an unknown "{...}"
 * placeholder or an unmatched brace) or EMSGSIZE (out too small). */
int gw_number_format_uri(const char *tmpl, const char *e164, const char *domain, char *out,
                         size_t outlen) GW_MUST_CHECK;

#endif
