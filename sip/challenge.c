/* Digest challenges of MESSAGE answered with our own digest code (sip/digest.c): Sofia computes
 * MD5 only, fails a whole 401/407 that offers SHA-256 or SHA-512-256 (RFC 7616/8760), and
 * would restart a request by itself where the gateway wants to decide. We pick the strongest
 * challenge we support and compute the Authorization/Proxy-Authorization header ourselves. */
#include "sip/ua.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sip/digest.h"

#define GW_LOG_MODULE  "sip"
#define MAX_CHALLENGES 8

/* Rebuilds "Digest p1, p2, ..." from Sofia's parsed header. */
static int rebuild(const msg_auth_t *au, char *out, size_t len)
{
    size_t used = 0;
    int n = snprintf(out, len, "%s", au->au_scheme ? au->au_scheme : "");
    if (n < 0 || (size_t)n >= len)
        return EMSGSIZE;
    used = (size_t)n;
    for (size_t i = 0; au->au_params && au->au_params[i]; i++) {
        n = snprintf(out + used, len - used, "%s%s", i ? ", " : " ", au->au_params[i]);
        if (n < 0 || (size_t)n >= len - used)
            return EMSGSIZE;
        used += (size_t)n;
    }
    return 0;
}

int gw_sip_pick_challenge(int status, const sip_t *sip, struct gw_digest_challenge *out)
{
    if (!sip)
        return ENOENT;
    const msg_auth_t *au = status == 401 ? (const msg_auth_t *)sip->sip_www_authenticate
                                         : (const msg_auth_t *)sip->sip_proxy_authenticate;
    char bufs[MAX_CHALLENGES][1024];
    const char *values[MAX_CHALLENGES];
    size_t n = 0;
    for (; au && n < MAX_CHALLENGES; au = au->au_next) {
        if (rebuild(au, bufs[n], sizeof(bufs[n])) == 0) {
            values[n] = bufs[n];
            n++;
        }
    }
    return n ? gw_digest_pick(values, n, out) : ENOENT;
}

int gw_sip_own_authorization(struct gw_sip_agent *ag, const struct gw_digest_challenge *ch,
                             const char *method, const char *uri, const char *body, size_t body_len,
                             unsigned nc, char *out, size_t outlen)
{
    const struct gw_config *cfg = ag->cfg;
    if (!cfg->sip.password[0])
        return ENOENT;
    struct gw_digest_creds cr = {.user = cfg->sip.auth_username, .password = cfg->sip.password};
    return gw_digest_answer(ch, &cr, method, uri, body, body_len, NULL, nc, out, outlen);
}
