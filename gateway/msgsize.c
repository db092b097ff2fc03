/* SIP MESSAGE size estimate: fixed header text plus every part that depends on the
 * configuration, the recipient, the sender and the text. */
#include "gateway/msgsize.h"

#include <stdio.h>
#include <string.h>

#include "gateway/number.h"

#define VIA_ADDR_MIN     21 /* "255.255.255.255:65535" */
#define NONCE_BUDGET     64
#define RESPONSE_LEN     64 /* a SHA-256 or SHA-512-256 response in hex; MD5 has 32 */
#define IDENTITY_HEADER  26 /* "P-Preferred-Identity: <>" and CRLF, the longer of the two */
#define USER_PHONE_PARAM 11 /* ";user=phone" */

static size_t digits(size_t n)
{
    size_t d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

/* The Request-URI's length; when the template cannot be expanded, an upper bound. */
static size_t ruri_len(const struct gw_config *cfg, const char *to)
{
    char uri[2 * GW_CFG_STR + 64];
    if (gw_number_format_uri(cfg->sip.recipient_uri, to, cfg->sip.domain, uri, sizeof(uri)) == 0)
        return strlen(uri);
    return strlen(cfg->sip.recipient_uri) + strlen(cfg->sip.domain) + 2 * (size_t)GW_E164_LEN;
}

/* From: "sip:<number>@<domain>;user=phone" for a sender, else "sip:<username>@<domain>". */
static size_t from_len(const struct gw_config *cfg, const char *from)
{
    size_t user = from && from[0] ? strlen(from) + USER_PHONE_PARAM : strlen(cfg->sip.username);
    return 4 + user + 1 + strlen(cfg->sip.domain);
}

static size_t identity_len(const char *uri)
{
    return uri[0] ? IDENTITY_HEADER + strlen(uri) : 0;
}

size_t gw_msgsize_estimate(const struct gw_config *cfg, const char *to, const char *from,
                           size_t text_len)
{
    const char *auth_user = cfg->sip.auth_username[0] ? cfg->sip.auth_username : cfg->sip.username;
    size_t via = strlen(cfg->sip.local) + 5; /* ":0" may become a five-digit port */
    if (via < VIA_ADDR_MIN)
        via = VIA_ADDR_MIN;
    return GW_MSGSIZE_FIXED + 3 * ruri_len(cfg, to) + from_len(cfg, from) + strlen(auth_user) +
           strlen(cfg->sip.domain) + via + NONCE_BUDGET + RESPONSE_LEN +
           identity_len(cfg->sip.p_asserted_identity) +
           identity_len(cfg->sip.p_preferred_identity) + (digits(text_len) - 1) + text_len;
}

size_t gw_msgsize_udp_text_max(const struct gw_config *cfg, const char *to, const char *from)
{
    size_t lo = 0, hi = GW_MSGSIZE_UDP_MAX;
    if (gw_msgsize_estimate(cfg, to, from, 0) > GW_MSGSIZE_UDP_MAX)
        return 0;
    /* the estimate grows with the text: find the largest length that fits */
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (gw_msgsize_estimate(cfg, to, from, mid) <= GW_MSGSIZE_UDP_MAX)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}
