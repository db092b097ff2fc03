/* API keys: "Authorization: Bearer <key>" checked against the SHA-256 hashes in [api] keys
 * in constant time (the loopback rule for keyless APIs is gw_config_host_is_loopback). Keys
 * are never logged or copied. */
#ifndef GW_HTTP_AUTH_H
#define GW_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/config.h"

#define GW_AUTH_MAX_KEY 512 /* longer bearer tokens are refused without hashing */

/* True when cfg has at least one API key, i.e. requests must authenticate. */
bool gw_auth_required(const struct gw_config *cfg);

/* True when the Authorization header value (NULL when absent) carries a bearer token whose
 * SHA-256 (lower-case hex) equals one of cfg->api.keys. The scheme name is case-insensitive.
 * Every configured hash is compared, each with CRYPTO_memcmp, so the time does not depend on
 * which key matched. Also true when no keys are configured. Any thread; borrows both. */
bool gw_auth_check(const struct gw_config *cfg, const char *authorization);

/* Writes SHA-256 of len bytes at data into out. Any thread. Returns 0 or EIO. */
int gw_auth_sha256(const void *data, size_t len, unsigned char out[32]) GW_MUST_CHECK;

#define GW_AUTH_NEW_KEY_LEN 44 /* 43 characters of base64url (32 random bytes) and NUL */

/* Makes a new API key: 32 bytes from the OpenSSL CSPRNG as unpadded base64url (43 characters)
 * in key, and its SHA-256 as 64 lower-case hex digits (what [api] keys lists) in hash.
 * Any thread. Returns 0 or EIO (no randomness); nothing is written on failure. */
int gw_auth_new_key(char key[GW_AUTH_NEW_KEY_LEN], char hash[65]) GW_MUST_CHECK;

#endif
