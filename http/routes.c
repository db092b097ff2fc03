/* Route table: exact paths plus the one parameterised path /messages/{id}; each path names
 * the route of every method it answers. */
#include "http/routes.h"

#include <stdio.h>
#include <string.h>

struct route {
    const char *path;
    const char *allow;
    enum gw_route get, post, del; /* GW_ROUTE_NONE: the method is not allowed */
};

static const struct route table[] = {
    {"/messages", "GET, HEAD, POST", GW_ROUTE_LIST_MESSAGES, GW_ROUTE_MESSAGES, GW_ROUTE_NONE},
    {"/registrations", "GET, HEAD", GW_ROUTE_REGISTRATIONS, GW_ROUTE_NONE, GW_ROUTE_NONE},
    {"/health", "GET, HEAD", GW_ROUTE_HEALTH, GW_ROUTE_NONE, GW_ROUTE_NONE},
    {"/health/live", "GET, HEAD", GW_ROUTE_HEALTH_LIVE, GW_ROUTE_NONE, GW_ROUTE_NONE},
    {"/health/ready", "GET, HEAD", GW_ROUTE_HEALTH_READY, GW_ROUTE_NONE, GW_ROUTE_NONE},
};

static const struct route message_route = {NULL, "GET, HEAD, DELETE", GW_ROUTE_MESSAGE,
                                           GW_ROUTE_NONE, GW_ROUTE_CANCEL};

static void pick(const char *method, const struct route *r, struct gw_route_match *out)
{
    enum gw_route by_method = GW_ROUTE_NONE;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        by_method = r->get;
    else if (strcmp(method, "POST") == 0)
        by_method = r->post;
    else if (strcmp(method, "DELETE") == 0)
        by_method = r->del;
    out->allow = r->allow;
    out->method_ok = by_method != GW_ROUTE_NONE;
    out->route = out->method_ok ? by_method : r->get != GW_ROUTE_NONE ? r->get : r->post;
}

void gw_routes_match(const char *method, const char *url, struct gw_route_match *out)
{
    static const char prefix[] = "/messages/";
    memset(out, 0, sizeof(*out));
    out->route = GW_ROUTE_NONE;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(url, table[i].path) == 0) {
            pick(method, &table[i], out);
            return;
        }
    }
    if (strncmp(url, prefix, sizeof(prefix) - 1) == 0) {
        const char *id = url + sizeof(prefix) - 1;
        if (!gw_id_valid(id))
            return;
        snprintf(out->id, sizeof(out->id), "%s", id);
        pick(method, &message_route, out);
    }
}

bool gw_routes_takes_body(enum gw_route route)
{
    return route == GW_ROUTE_MESSAGES;
}

bool gw_routes_takes_query(enum gw_route route)
{
    return route == GW_ROUTE_LIST_MESSAGES;
}

bool gw_routes_public(enum gw_route route)
{
    return route == GW_ROUTE_HEALTH_LIVE;
}
