/* Inbound MESSAGE from the operator: accepted (200) only from the operator's own address,
 * stored as an inbound message before the 200 goes out, so an answered message is never lost.
 * Anyone else gets 403; a body we cannot store gets 415 or 413. */
#include "sip/ua.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/su.h>

#define GW_LOG_MODULE "sip"

/* True if the request came from the host of our proxy URI. */
static bool from_operator(struct gw_sip_agent *ag)
{
    msg_t *req = nua_current_request(ag->nua);
    su_addrinfo_t *ai = req ? msg_addrinfo(req) : NULL;
    if (!ai || !ai->ai_addr)
        return false;
    char addr[INET6_ADDRSTRLEN] = "";
    const su_sockaddr_t *su = (const su_sockaddr_t *)(const void *)ai->ai_addr;
    if (su->su_family == AF_INET)
        inet_ntop(AF_INET, &su->su_sin.sin_addr, addr, sizeof(addr));
    else if (su->su_family == AF_INET6)
        inet_ntop(AF_INET6, &su->su_sin6.sin6_addr, addr, sizeof(addr));
    const char *host = ag->proxy + (strncasecmp(ag->proxy, "sips:", 5) == 0 ? 5 : 4);
    size_t len = strlen(addr);
    if (host[0] == '[')
        return strncmp(host + 1, addr, len) == 0 && host[len + 1] == ']';
    return len > 0 && strncmp(host, addr, len) == 0 && strchr(":;>", host[len]) != NULL;
}

static void addr_of(const sip_addr_t *a, char *out, size_t len)
{
    const url_t *u = a ? a->a_url : NULL;
    if (!u || !u->url_host) {
        snprintf(out, len, "unknown");
        return;
    }
    snprintf(out, len, "%s:%s%s%s", u->url_scheme ? u->url_scheme : "sip",
             u->url_user ? u->url_user : "", u->url_user ? "@" : "", u->url_host);
}

static void respond(struct gw_sip_agent *ag, nua_handle_t *nh, int status, const char *phrase)
{
    nua_respond(nh, status, phrase, NUTAG_WITH_THIS(ag->nua), TAG_END());
    nua_handle_destroy(nh);
}

void gw_sip_inbound_message(struct gw_sip_agent *ag, nua_handle_t *nh, const sip_t *sip)
{
    gw_sip_assert_thread(ag);
    if (!sip || !from_operator(ag)) {
        GW_LOG_WARN("inbound MESSAGE from an address that is not the operator: 403");
        respond(ag, nh, SIP_403_FORBIDDEN);
        return;
    }
    const sip_content_type_t *ct = sip->sip_content_type;
    if (ct && ct->c_type && strncasecmp(ct->c_type, "text/plain", 10) != 0) {
        respond(ag, nh, SIP_415_UNSUPPORTED_MEDIA);
        return;
    }
    const sip_payload_t *pl = sip->sip_payload;
    size_t len = pl ? pl->pl_len : 0;
    if (len > GW_TEXT_MAX || (pl && memchr(pl->pl_data, '\0', len))) {
        respond(ag, nh, SIP_413_REQUEST_TOO_LARGE);
        return;
    }
    char from[GW_ADDR_LEN], to[GW_ADDR_LEN], id[GW_ID_LEN];
    addr_of(sip->sip_from, from, sizeof(from));
    addr_of(sip->sip_to, to, sizeof(to));
    int err = gw_store_add_inbound(ag->store, from, to, pl ? pl->pl_data : "", len, id);
    if (err) {
        /* The operator will retransmit or retry: nothing is lost by saying no now. */
        respond(ag, nh, SIP_500_INTERNAL_SERVER_ERROR);
        return;
    }
    GW_LOG_INFO("inbound MESSAGE stored id=%s", id);
    respond(ag, nh, SIP_200_OK);
}
