/* Route table: exact paths plus the one parameterised path /messages/{id}. */
#include "http/routes.h"

#include <stdio.h>
#include <string.h>

#define ALLOW_GET  "GET, HEAD"
#define ALLOW_POST "POST"

struct route {
    const char *path;
    enum gw_route route;
    const char *allow;
};

static const struct route table[] = {
    {"/messages", GW_ROUTE_MESSAGES, ALLOW_POST},
    {"/registrations", GW_ROUTE_REGISTRATIONS, ALLOW_GET},
    {"/health", GW_ROUTE_HEALTH, ALLOW_GET},
    {"/health/live", GW_ROUTE_HEALTH_LIVE, ALLOW_GET},
    {"/health/ready", GW_ROUTE_HEALTH_READY, ALLOW_GET},
};

static bool method_allowed(const char *method, const char *allow)
{
    if (strcmp(allow, ALLOW_POST) == 0)
        return strcmp(method, "POST") == 0;
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

void gw_routes_match(const char *method, const char *url, struct gw_route_match *out)
{
    static const char prefix[] = "/messages/";
    memset(out, 0, sizeof(*out));
    out->route = GW_ROUTE_NONE;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(url, table[i].path) == 0) {
            out->route = table[i].route;
            out->allow = table[i].allow;
            break;
        }
    }
    if (out->route == GW_ROUTE_NONE && strncmp(url, prefix, sizeof(prefix) - 1) == 0) {
        const char *id = url + sizeof(prefix) - 1;
        if (!gw_id_valid(id))
            return;
        snprintf(out->id, sizeof(out->id), "%s", id);
        out->route = GW_ROUTE_MESSAGE;
        out->allow = ALLOW_GET;
    }
    if (out->route != GW_ROUTE_NONE)
        out->method_ok = method_allowed(method, out->allow);
}

bool gw_routes_takes_body(enum gw_route route)
{
    return route == GW_ROUTE_MESSAGES;
}

bool gw_routes_public(enum gw_route route)
{
    return route == GW_ROUTE_HEALTH_LIVE;
}
