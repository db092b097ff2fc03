/* Reading final responses: the fields of a gw_sip_answer, and the one answer we give to a
 * 401/407 digest challenge. Credentials go to Sofia in the HA1 form so that a password with
 * ':' in it is not cut at the colon. */
#include "sip/ua.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_md5.h>

#define GW_LOG_MODULE "sip"

/* Copies a possibly quoted string without its quotes and backslash escapes. */
static void unquote(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    if (!in) {
        out[0] = '\0';
        return;
    }
    bool quoted = in[0] == '"';
    for (const char *p = in + (quoted ? 1 : 0); *p && o + 1 < outlen; p++) {
        if (quoted && *p == '"')
            break;
        if (quoted && *p == '\\' && p[1])
            p++;
        out[o++] = *p;
    }
    out[o] = '\0';
}

static int parse_cause(const char *s)
{
    if (!s)
        return -1;
    char buf[16];
    unquote(s, buf, sizeof(buf));
    char *end = NULL;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || end == buf || *end || v < 0 || v > 9999)
        return -1;
    return (int)v;
}

/* Prefers a Q.850 Reason over others: that is the one that explains a network refusal. */
static const sip_reason_t *pick_reason(const sip_t *sip)
{
    const sip_reason_t *first = sip->sip_reason;
    for (const sip_reason_t *re = first; re; re = re->re_next) {
        if (re->re_protocol && strcasecmp(re->re_protocol, "Q.850") == 0)
            return re;
    }
    return first;
}

void gw_sip_copy_answer(int status, const char *phrase, const sip_t *sip, struct gw_sip_answer *out)
{
    gw_sip_answer_init(out);
    out->status = status;
    snprintf(out->phrase, sizeof(out->phrase), "%s", phrase ? phrase : "");
    if (!sip)
        return;
    if (sip->sip_call_id && sip->sip_call_id->i_id)
        snprintf(out->call_id, sizeof(out->call_id), "%s", sip->sip_call_id->i_id);
    const sip_reason_t *re = pick_reason(sip);
    if (re) {
        snprintf(out->reason_protocol, sizeof(out->reason_protocol), "%s",
                 re->re_protocol ? re->re_protocol : "");
        out->reason_cause = parse_cause(re->re_cause);
        unquote(re->re_text, out->reason_text, sizeof(out->reason_text));
    }
    if (sip->sip_warning) {
        out->warning_code = (int)sip->sip_warning->w_code;
        unquote(sip->sip_warning->w_text, out->warning_text, sizeof(out->warning_text));
    }
    if (sip->sip_retry_after)
        out->retry_after =
            sip->sip_retry_after->af_delta > 86400 ? 86400 : (int)sip->sip_retry_after->af_delta;
}

int gw_sip_authenticate(struct gw_sip_agent *ag, nua_handle_t *nh, int status, const sip_t *sip)
{
    const struct gw_config *cfg = ag->cfg;
    if (!sip || !cfg->sip.password[0])
        return ENOENT;
    const msg_auth_t *au = status == 401 ? (const msg_auth_t *)sip->sip_www_authenticate
                                         : (const msg_auth_t *)sip->sip_proxy_authenticate;
    if (!au || !au->au_scheme)
        return ENOENT;
    const char *realm = msg_params_find(au->au_params, "realm=");
    if (!realm)
        return ENOENT;
    char plain[GW_CFG_STR];
    unquote(realm, plain, sizeof(plain));
    char hex[33];
    su_md5_t md5[1];
    su_md5_init(md5);
    su_md5_strupdate(md5, cfg->sip.auth_username);
    su_md5_update(md5, ":", 1);
    su_md5_strupdate(md5, plain);
    su_md5_update(md5, ":", 1);
    su_md5_strupdate(md5, cfg->sip.password);
    su_md5_hexdigest(md5, hex);
    su_md5_deinit(md5);
    char cred[3 * GW_CFG_STR + 64];
    int n = snprintf(cred, sizeof(cred), "HA1+%s:\"%s\":%s:HA1+%s", au->au_scheme, plain,
                     cfg->sip.auth_username, hex);
    if (n < 0 || (size_t)n >= sizeof(cred))
        return ENOENT;
    nua_authenticate(nh, NUTAG_AUTH(cred), TAG_END());
    explicit_bzero(cred, sizeof(cred));
    explicit_bzero(hex, sizeof(hex));
    return 0;
}
