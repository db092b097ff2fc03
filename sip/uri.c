/* Host-name resolution for configured SIP URIs. */
#include "sip/uri.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define GW_LOG_MODULE "sip"

/* Resolves host (a name or an address literal) to a numeric address; IPv6 in brackets. */
static int resolve_host(const char *host, char *out, size_t outlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    char addr[INET6_ADDRSTRLEN];
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) {
        GW_LOG_ERR("cannot resolve SIP host '%s'", host);
        return EINVAL;
    }
    /* Prefer IPv4: "localhost" gives ::1 first on some machines, and loopback peers here
     * listen on 127.0.0.1. */
    struct addrinfo *pick = res;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    }
    int err =
        getnameinfo(pick->ai_addr, pick->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
    int fam = pick->ai_family;
    freeaddrinfo(res);
    if (err)
        return EINVAL;
    int n = snprintf(out, outlen, fam == AF_INET6 ? "[%s]" : "%s", addr);
    return n < 0 || (size_t)n >= outlen ? EMSGSIZE : 0;
}

int gw_sip_uri_resolve(const char *uri, enum gw_transport transport, char *out, size_t outlen)
{
    const char *rest;
    if (strncasecmp(uri, "sip:", 4) == 0)
        rest = uri + 4;
    else if (strncasecmp(uri, "sips:", 5) == 0)
        rest = uri + 5;
    else
        return EINVAL;
    const char *at = strchr(rest, '@');
    const char *host = at ? at + 1 : rest;
    const char *end;
    char name[256];
    if (*host == '[') {
        end = strchr(host, ']');
        if (!end)
            return EINVAL;
        end++;
        snprintf(name, sizeof(name), "%.*s", (int)(end - host - 2), host + 1);
    } else {
        end = host + strcspn(host, ":;?>");
        if ((size_t)(end - host) >= sizeof(name) || end == host)
            return EINVAL;
        snprintf(name, sizeof(name), "%.*s", (int)(end - host), host);
    }
    char addr[INET6_ADDRSTRLEN + 2];
    int err = resolve_host(name, addr, sizeof(addr));
    if (err)
        return err;
    const char *tp = "";
    if (!strstr(end, "transport=")) {
        if (transport == GW_TRANSPORT_TCP)
            tp = ";transport=tcp";
        else if (transport == GW_TRANSPORT_TLS)
            tp = ";transport=tls";
    }
    int n = snprintf(out, outlen, "%.*s%s%s%s", (int)(host - uri), uri, addr, end, tp);
    return n < 0 || (size_t)n >= outlen ? EMSGSIZE : 0;
}
