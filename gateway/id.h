/* Message ids: 26 characters of Crockford base32 (ULID layout): 48 bits of milliseconds, then
 * 80 random bits from OpenSSL. Ids sort by creation time. Any thread. */
#ifndef GW_GATEWAY_ID_H
#define GW_GATEWAY_ID_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/log.h"

#define GW_ID_LEN 27 /* 26 characters and NUL */

/* Writes a new id for time ms. Returns 0 or EIO (no randomness). */
int gw_id_new(int64_t ms, char out[GW_ID_LEN]) GW_MUST_CHECK;

/* True if s has the form of an id (26 base32 characters). */
bool gw_id_valid(const char *s);

#endif
