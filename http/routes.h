/* The URL and method table of the API. Pure functions, any thread; no libmicrohttpd types. */
#ifndef GW_HTTP_ROUTES_H
#define GW_HTTP_ROUTES_H

#include <stdbool.h>

#include "gateway/id.h"

enum gw_route {
    GW_ROUTE_NONE = 0,      /* no such path */
    GW_ROUTE_MESSAGES,      /* POST /messages */
    GW_ROUTE_LIST_MESSAGES, /* GET /messages */
    GW_ROUTE_MESSAGE,       /* GET /messages/{id} */
    GW_ROUTE_CANCEL,        /* DELETE /messages/{id} */
    GW_ROUTE_REGISTRATIONS, /* GET /registrations */
    GW_ROUTE_HEALTH,        /* GET /health */
    GW_ROUTE_HEALTH_LIVE,   /* GET /health/live */
    GW_ROUTE_HEALTH_READY,  /* GET /health/ready */
};

struct gw_route_match {
    enum gw_route route; /* with method_ok false: the path's GET route (POST if none) */
    bool method_ok;      /* false: answer 405 with `allow` */
    const char *allow;   /* the Allow header value of the path (static), NULL for NONE */
    char id[GW_ID_LEN];  /* GW_ROUTE_MESSAGE, GW_ROUTE_CANCEL: the id from the path */
};

/* Matches method and path (without the query string) exactly: no trailing slash, no dot
 * segments, no doubled slashes. /messages/{id} matches only a well-formed id (gw_id_valid);
 * anything else is GW_ROUTE_NONE. HEAD is accepted wherever GET is. Allow is "GET, HEAD,
 * POST" for /messages, "GET, HEAD, DELETE" for /messages/{id}, "GET, HEAD" elsewhere.
 * Fills *out always. */
void gw_routes_match(const char *method, const char *url, struct gw_route_match *out);

/* True for routes that read a request body (POST /messages). */
bool gw_routes_takes_body(enum gw_route route);

/* True for routes that read the query string (GET /messages). */
bool gw_routes_takes_query(enum gw_route route);

/* True for routes open without an API key (GET /health/live). */
bool gw_routes_public(enum gw_route route);

#endif
