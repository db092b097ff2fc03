/* How large the SIP MESSAGE carrying a text will be, estimated from the configuration before
 * the message is accepted. RFC 3261 §18.1.1: a request larger than 1300 bytes must not go
 * over UDP (it would be fragmented, or refused by the SIP stack), so over UDP such a text is
 * refused at the API instead of failing later. Pure functions, any thread. */
#ifndef GW_GATEWAY_MSGSIZE_H
#define GW_GATEWAY_MSGSIZE_H

#include <stddef.h>

#include "gateway/config.h"

#define GW_MSGSIZE_UDP_MAX 1300 /* bytes a SIP request may have over UDP */

/* The fixed part of the estimate: request line and headers without their variable parts
 * (Via, Max-Forwards, tags, Call-ID, CSeq, User-Agent, Allow, Supported, Content-Type,
 * Content-Length and the constant text of Proxy-Authorization). Measured: 498 bytes with
 * algorithm=MD5 and no opaque; the rest leaves room for a longer algorithm name, qop=auth-int
 * and an opaque parameter. */
#define GW_MSGSIZE_FIXED 540

/* Estimates the bytes of the MESSAGE that carries text_len bytes of text to the E.164 number
 * `to`, sent as `from` ("" or NULL: the configured identity), answering a digest challenge:
 * GW_MSGSIZE_FIXED, three times the Request-URI (request line, To, the digest uri), From,
 * the digest username and realm (taken as the domain), our Via address (at least
 * "255.255.255.255:65535"), 64 bytes each for the nonce and the digest response, the
 * P-Asserted-Identity and P-Preferred-Identity headers, Content-Length's digits and the
 * text. It errs on the large side: the example configuration estimates 849 bytes for a
 * 5-byte text to +15550100 whose MESSAGE measured 737. Borrows everything. */
size_t gw_msgsize_estimate(const struct gw_config *cfg, const char *to, const char *from,
                           size_t text_len);

/* The most text bytes to `to` as `from` whose estimate stays within GW_MSGSIZE_UDP_MAX
 * (0 when none fit). */
size_t gw_msgsize_udp_text_max(const struct gw_config *cfg, const char *to, const char *from);

#endif
