/* Route handlers: read the store, the registration record and the queue, and turn what they
 * say (or the store's answer to a submission) into replies. */
#define GW_LOG_MODULE "http"
#include "http/handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "http/json.h"

#define MAX_EVENTS 64

void gw_reply_clear(struct gw_reply *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

void gw_reply_problem(struct gw_reply *r, const struct gw_problem *p)
{
    gw_reply_clear(r);
    r->status = gw_problem_status(p->code);
    r->problem = true;
    r->retry_after = gw_problem_retry_after(p->code);
    r->challenge = p->code == GW_PROB_UNAUTHORIZED;
    if (gw_problem_body(p, &r->body, &r->len) != 0) {
        r->body = NULL;
        r->len = 0;
    }
}

void gw_reply_error(struct gw_reply *r, enum gw_problem_code code, const char *detail)
{
    struct gw_problem p;
    gw_problem_set(&p, code, NULL, "%s", detail);
    gw_reply_problem(r, &p);
}

static void reply_body(struct gw_reply *r, unsigned status, int err, char *body, size_t len)
{
    gw_reply_clear(r);
    if (err) {
        gw_reply_error(r, GW_PROB_INTERNAL_ERROR, "out of memory while building the answer");
        return;
    }
    r->status = status;
    r->body = body;
    r->len = len;
}

void gw_handlers_message(const struct gw_http_deps *d, const char *id, struct gw_reply *r)
{
    struct gw_msg_view *v = malloc(sizeof(*v));
    struct gw_msg_event *ev = calloc(MAX_EVENTS, sizeof(*ev));
    if (!v || !ev) {
        gw_reply_error(r, GW_PROB_INTERNAL_ERROR, "out of memory");
        goto out;
    }
    int err = gw_store_get(d->store, id, v);
    if (err == ENOENT) {
        gw_reply_error(r, GW_PROB_NOT_FOUND, "there is no message with this id");
        goto out;
    }
    size_t nev = 0;
    if (!err)
        err = gw_store_events(d->store, id, ev, MAX_EVENTS, &nev);
    if (err) {
        GW_LOG_WARN("reading message failed id=%s err=%d", id, err);
        gw_reply_error(r, GW_PROB_STORE_UNAVAILABLE, "the message store cannot be read now");
        goto out;
    }
    char *body = NULL;
    size_t len = 0;
    err = gw_json_message(v, ev, nev, &body, &len);
    reply_body(r, 200, err, body, len);
out:
    free(ev);
    free(v);
}

static int add_item(void *arg, const struct gw_msg_view *v)
{
    return gw_json_list_add(arg, v);
}

void gw_handlers_list(const struct gw_http_deps *d, const struct gw_store_query *q,
                      struct gw_reply *r)
{
    struct gw_json_list *list = NULL;
    char next[GW_ID_LEN] = "";
    int err = gw_json_list_new(&list);
    if (!err)
        err = gw_store_list(d->store, q, add_item, list, next);
    if (err == ENOMEM) {
        gw_json_list_free(list);
        gw_reply_error(r, GW_PROB_INTERNAL_ERROR, "out of memory while building the answer");
        return;
    }
    if (err) {
        gw_json_list_free(list);
        GW_LOG_WARN("listing messages failed err=%d", err);
        gw_reply_error(r, GW_PROB_STORE_UNAVAILABLE, "the message store cannot be read now");
        return;
    }
    char *body = NULL;
    size_t len = 0;
    err = gw_json_list_finish(list, next, &body, &len);
    reply_body(r, 200, err, body, len);
}

void gw_handlers_cancelled(int err, const struct gw_msg_view *view, struct gw_reply *r)
{
    if ((err == 0 || err == EALREADY) && view) {
        char *body = NULL;
        size_t len = 0;
        int rc = gw_json_summary(view, &body, &len);
        reply_body(r, 200, rc, body, len);
        return;
    }
    if (err == EBUSY && view) {
        struct gw_problem p;
        gw_problem_set(&p, GW_PROB_NOT_CANCELLABLE, NULL,
                       "the message is %s; only a queued message can be cancelled",
                       gw_status_name(view->status));
        gw_reply_problem(r, &p);
        return;
    }
    if (err == ENOENT) {
        gw_reply_error(r, GW_PROB_NOT_FOUND, "there is no message with this id");
        return;
    }
    GW_LOG_WARN("cancellation not stored err=%d", err);
    gw_reply_error(r, GW_PROB_STORE_UNAVAILABLE,
                   "the cancellation could not be stored; the message is unchanged, try again");
}

static void read_reg(const struct gw_http_deps *d, struct gw_reg_view *v)
{
    memset(v, 0, sizeof(*v));
    gw_sip_answer_init(&v->last);
    v->state = GW_REG_DISABLED;
    if (d->reg)
        gw_registration_get(d->reg, v);
}

void gw_handlers_registrations(const struct gw_http_deps *d, struct gw_reply *r)
{
    struct gw_reg_view v;
    read_reg(d, &v);
    char *body = NULL;
    size_t len = 0;
    int err = gw_json_registration(&v, &body, &len);
    reply_body(r, 200, err, body, len);
}

void gw_handlers_health(const struct gw_http_deps *d, enum gw_route route, struct gw_reply *r)
{
    char *body = NULL;
    size_t len = 0;
    int err;
    if (route == GW_ROUTE_HEALTH_LIVE) {
        err = gw_json_status("ok", &body, &len);
        reply_body(r, 200, err, body, len);
        return;
    }
    struct gw_json_health h;
    memset(&h, 0, sizeof(h));
    read_reg(d, &h.reg);
    if (d->store)
        gw_store_get_stats(d->store, &h.store);
    h.queue_depth = d->queue ? gw_queue_depth(d->queue) : 0;
    h.queue_capacity = d->cfg->limits.queue_depth;
    h.ok = gw_reg_state_ready(h.reg.state) && h.store.healthy;
    if (route == GW_ROUTE_HEALTH) {
        /* Monitoring must see an operator that stopped answering even while we are
         * registered; readiness stays up because messages are still accepted and wait. */
        h.ok = h.ok && !h.store.paused;
        err = gw_json_health(&h, &body, &len);
    } else {
        err = gw_json_status(h.ok ? "ok" : "degraded", &body, &len);
    }
    reply_body(r, h.ok ? 200 : 503, err, body, len);
}

static void accepted(const struct gw_msg_view *view, bool replay, struct gw_reply *r)
{
    char *body = NULL;
    size_t len = 0;
    if (gw_json_accepted(view, &body, &len) != 0) {
        struct gw_problem p;
        gw_problem_set(&p, GW_PROB_INTERNAL_ERROR, NULL,
                       "the message was stored as %s, but the answer could not be built", view->id);
        gw_reply_problem(r, &p);
        return;
    }
    gw_reply_clear(r);
    r->status = 202;
    r->body = body;
    r->len = len;
    r->replayed = replay;
    int n = snprintf(r->location, sizeof(r->location), "/messages/%s", view->id);
    if (n < 0 || (size_t)n >= sizeof(r->location))
        r->location[0] = '\0';
}

void gw_handlers_stored(int err, const struct gw_msg_view *view, struct gw_reply *r)
{
    if ((err == 0 || err == EEXIST) && view) {
        if (err == 0)
            GW_LOG_INFO("accepted id=%s segments=%u encoding=%s", view->id, view->info.segments,
                        gw_text_encoding_name(view->info.encoding));
        else
            GW_LOG_INFO("idempotent replay id=%s", view->id);
        accepted(view, err == EEXIST, r);
        return;
    }
    if (err == EBADMSG) {
        gw_reply_error(r, GW_PROB_IDEMPOTENCY_KEY_REUSED,
                       "this Idempotency-Key was used before with a different request");
        return;
    }
    GW_LOG_WARN("submission not stored err=%d", err);
    gw_reply_error(r, GW_PROB_STORE_UNAVAILABLE,
                   "the message could not be stored; nothing was accepted, try again later");
}

void gw_handlers_submit_failed(int err, struct gw_reply *r)
{
    if (err == EAGAIN) {
        GW_LOG_WARN("store backlog full, answering 503");
        gw_reply_error(r, GW_PROB_OVERLOADED,
                       "too many messages are waiting to be stored; try again shortly");
        return;
    }
    GW_LOG_WARN("store refused the submission err=%d", err);
    gw_reply_error(r, GW_PROB_STORE_UNAVAILABLE,
                   "the message store is not accepting messages; try again later");
}
