/* The API's handlers, free of libmicrohttpd: each turns its inputs into a struct gw_reply
 * (status, body and the few headers the API uses), which http/server.c sends. */
#ifndef GW_HTTP_HANDLERS_H
#define GW_HTTP_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/store.h"
#include "http/problem.h"
#include "http/routes.h"
#include "http/server.h"

#define GW_REPLY_LOCATION_LEN 64

/* One answer. problem selects application/problem+json over application/json. */
struct gw_reply {
    unsigned status;
    bool problem;
    char *body; /* owned; free with gw_reply_clear. NULL: empty body */
    size_t len;
    unsigned retry_after;                 /* seconds for Retry-After; 0: no header */
    bool challenge;                       /* add WWW-Authenticate: Bearer realm="smsgw" */
    bool replayed;                        /* add Idempotent-Replayed: true */
    const char *allow;                    /* static value for Allow, or NULL */
    char location[GW_REPLY_LOCATION_LEN]; /* "" or the Location value */
};

/* Frees the body and resets r to an empty reply. Accepts a zeroed reply. */
void gw_reply_clear(struct gw_reply *r);

/* Replaces r with the problem p: its status, problem+json body, Retry-After and, for
 * unauthorized, the challenge. If the body cannot be built, r keeps the status with an empty
 * body. Any thread. */
void gw_reply_problem(struct gw_reply *r, const struct gw_problem *p);

/* Shorthand: gw_problem_set with a fixed detail, then gw_reply_problem. */
void gw_reply_error(struct gw_reply *r, enum gw_problem_code code, const char *detail);

/* GET /messages/{id}: 200 with the message, or 404 not_found, 503 store_unavailable.
 * MHD thread (reads the store). */
void gw_handlers_message(const struct gw_http_deps *d, const char *id, struct gw_reply *r);

/* GET /messages: 200 with the page q selects ({items, next_cursor}), or 503
 * store_unavailable. MHD thread (reads the store). */
void gw_handlers_list(const struct gw_http_deps *d, const struct gw_store_query *q,
                      struct gw_reply *r);

/* The answer to a cancellation, from the store's result (see gw_store_cancel): 200 with the
 * message summary (also when it was cancelled before), 409 not_cancellable (EBUSY), 404
 * not_found (ENOENT), 503 store_unavailable otherwise. Store writer thread. */
void gw_handlers_cancelled(int err, const struct gw_msg_view *view, struct gw_reply *r);

/* GET /registrations: 200 with the registration record. */
void gw_handlers_registrations(const struct gw_http_deps *d, struct gw_reply *r);

/* GET /health, /health/live or /health/ready (route says which): 200 when the registration
 * is ready and the store healthy, else 503 (live: always 200). */
void gw_handlers_health(const struct gw_http_deps *d, enum gw_route route, struct gw_reply *r);

/* The answer to a submission, from the store's result (see gw_store_submit_fn): 202 with
 * Location (and Idempotent-Replayed for EEXIST), 422 idempotency_key_reused for EBADMSG,
 * 503 store_unavailable otherwise. Store writer thread. */
void gw_handlers_stored(int err, const struct gw_msg_view *view, struct gw_reply *r);

/* The answer when gw_store_submit (or gw_store_cancel) itself failed with err: 503
 * overloaded (EAGAIN) or 503 store_unavailable. */
void gw_handlers_submit_failed(int err, struct gw_reply *r);

#endif
