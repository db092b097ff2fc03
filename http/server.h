/* The HTTP API: libmicrohttpd with an internal epoll thread and suspend/resume, so that no
 * thread waits for the disk: POST /messages is suspended until the store's writer has
 * committed it, then answered 202. Exposes no libmicrohttpd types. */
#ifndef GW_HTTP_SERVER_H
#define GW_HTTP_SERVER_H

#include "gateway/config.h"
#include "gateway/queue.h"
#include "gateway/registration.h"
#include "gateway/store.h"

/* What the server borrows; all of it must outlive gw_http_server_stop. */
struct gw_http_deps {
    const struct gw_config *cfg;
    struct gw_store *store;
    struct gw_registration *reg;
    struct gw_queue *queue;
};

struct gw_http_server;

/* Binds cfg->http.host:port and starts serving. Main thread.
 * Returns 0, EADDRINUSE, EINVAL (bad address) or ENOMEM. */
int gw_http_server_start(struct gw_http_server **out,
                         const struct gw_http_deps *deps) GW_MUST_CHECK;

/* Stops accepting, finishes or answers every suspended request, stops the daemon and frees
 * the server. Main thread. Accepts NULL. */
void gw_http_server_stop(struct gw_http_server *srv);

#endif
