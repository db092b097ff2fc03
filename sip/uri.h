/* SIP URI helpers for the agent: Sofia's resolver ignores /etc/hosts, so host names in the
 * configured proxy and registrar are resolved here with getaddrinfo, once, at start. */
#ifndef GW_SIP_URI_H
#define GW_SIP_URI_H

#include <stddef.h>

#include "gateway/config.h"

/* Copies uri ("sip:host[:port][;params]") to out with the host replaced by its address and
 * the transport parameter added when the URI has none (tcp, tls). SIP thread or main.
 * Returns 0, EINVAL (not a sip:/sips: URI, or the host does not resolve) or EMSGSIZE. */
int gw_sip_uri_resolve(const char *uri, enum gw_transport transport, char *out,
                       size_t outlen) GW_MUST_CHECK;

#endif
