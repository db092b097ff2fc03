/* Idempotency-Key: the header's syntax and the fingerprint of a request, so that a retry with
 * the same key and the same request is answered with the first message, and the same key with
 * another request is refused. */
#ifndef GW_HTTP_IDEM_H
#define GW_HTTP_IDEM_H

#include "gateway/store.h"
#include "http/problem.h"

/* Checks the Idempotency-Key header value (NULL when absent) and copies it into out ("" when
 * absent). A key is 1 to 255 printable ASCII characters (0x20..0x7e); anything else sets err
 * to invalid_idempotency_key. Writes out only on success. Any thread. Returns 0 or EINVAL. */
int gw_idem_key(const char *header, char out[GW_IDEM_KEY_LEN],
                struct gw_problem *err) GW_MUST_CHECK;

/* Sets m->fingerprint to SHA-256 over the canonical request: the normalised to, from, text,
 * reference and validity, each written as "<length>:<bytes>;" so that no two requests share
 * an encoding. Two bodies that decode to the same values (other spacing, key order, escapes
 * or an explicit default) have the same fingerprint. Any thread. Returns 0 or EIO. */
int gw_idem_fingerprint(struct gw_msg_new *m) GW_MUST_CHECK;

#endif
