/* The HTTP server: libmicrohttpd with one internal epoll thread. Each request gets a struct
 * req (its con_cls) that MHD owns from the first handler call to NOTIFY_COMPLETED. The first
 * call checks everything the headers can tell (auth, route, media type, size, Idempotency-Key)
 * and answers at once if anything is wrong, so an oversized body is never read. The body is
 * collected with a cap, decoded strictly, and POST /messages (like DELETE /messages/{id}) is
 * then suspended while the store's writer commits it; the writer's callback stores the answer
 * in the req and resumes the connection, and MHD calls the handler again to send it.
 *
 * Ownership during a submission: from the suspend until the resume, the req is the store's
 * (only srv->lock-guarded fields are touched by others). If shutdown gives up waiting, it
 * answers the connection itself and marks the req an orphan; then whichever of the writer's
 * callback and NOTIFY_COMPLETED comes second frees it.
 *
 * Lock order: srv->lock, then libmicrohttpd's own (taken inside suspend and resume). MHD runs
 * NOTIFY_COMPLETED without its locks held, so on_completed may take srv->lock. */
#define GW_LOG_MODULE "http"
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "gateway/clock.h"
#include "gateway/log.h"
#include "http/auth.h"
#include "http/handlers.h"
#include "http/idem.h"
#include "http/json.h"
#include "http/problem.h"
#include "http/query.h"
#include "http/routes.h"

#define MEMORY_LIMIT        (32 * 1024) /* per connection: bounds the header block */
#define REQUEST_DEADLINE_MS 30000       /* whole request, against slow bodies */
#define DISCARD_FACTOR      4           /* bytes read and dropped before we hang up */
#define STOP_WAIT_MS        5000
#define ORPHAN_WAIT_MS      1000
#define BODY_CHUNK          4096

struct req {
    struct gw_http_server *srv;
    struct MHD_Connection *conn;
    struct gw_route_match route;
    int64_t started_ms;
    char *body;
    size_t len, cap;
    size_t discarded;
    bool too_large;
    char idem_key[GW_IDEM_KEY_LEN];
    bool counted; /* submitted: counted in srv->inflight until completed */
    /* guarded by srv->lock while counted */
    bool in_store;           /* the store still holds this req and will call back */
    bool orphan;             /* shutdown answered it; the callback must not resume */
    bool conn_done;          /* NOTIFY_COMPLETED has run */
    bool answered;           /* reply holds the final answer */
    struct req *prev, *next; /* srv->suspended */
    struct gw_reply reply;
};

struct gw_http_server {
    struct gw_http_deps deps;
    struct MHD_Daemon *mhd;
    pthread_mutex_t lock;
    struct req *suspended; /* list of suspended requests */
    unsigned inflight;     /* submitted and not yet completed */
    unsigned orphans;      /* orphans whose store callback is still due */
    bool refuse;           /* shutdown: answer 503 instead of suspending */
};

static void req_free(struct req *r)
{
    free(r->body);
    gw_reply_clear(&r->reply);
    free(r);
}

static const char *route_name(enum gw_route route)
{
    switch (route) {
    case GW_ROUTE_NONE:
        return "none";
    case GW_ROUTE_MESSAGES:
        return "post_message";
    case GW_ROUTE_LIST_MESSAGES:
        return "list_messages";
    case GW_ROUTE_MESSAGE:
        return "get_message";
    case GW_ROUTE_CANCEL:
        return "cancel_message";
    case GW_ROUTE_REGISTRATIONS:
        return "registrations";
    case GW_ROUTE_HEALTH:
        return "health";
    case GW_ROUTE_HEALTH_LIVE:
        return "health_live";
    case GW_ROUTE_HEALTH_READY:
        return "health_ready";
    }
    return "unknown";
}

/* ---- responses ---- */

static bool add_headers(struct MHD_Response *resp, const struct gw_reply *rep)
{
    char retry[16];
    bool ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                      rep->problem ? "application/problem+json"
                                                   : "application/json") == MHD_YES;
    ok = ok && MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ok = ok && MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (ok && rep->retry_after > 0) {
        snprintf(retry, sizeof(retry), "%u", rep->retry_after);
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry) == MHD_YES;
    }
    if (ok && rep->challenge)
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                     "Bearer realm=\"smsgw\"") == MHD_YES;
    if (ok && rep->replayed)
        ok = MHD_add_response_header(resp, "Idempotent-Replayed", "true") == MHD_YES;
    if (ok && rep->allow)
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rep->allow) == MHD_YES;
    if (ok && rep->location[0] != '\0')
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, rep->location) == MHD_YES;
    return ok;
}

/* Queues r->reply on the connection; its body moves into MHD, which frees it with free(). */
static enum MHD_Result send_reply(struct req *r)
{
    static char empty[1];
    struct gw_reply *rep = &r->reply;
    struct MHD_Response *resp;
    if (rep->body) {
        resp = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
        if (resp)
            rep->body = NULL;
    } else {
        resp = MHD_create_response_from_buffer(0, empty, MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_NO;
    if (add_headers(resp, rep))
        ret = MHD_queue_response(r->conn, rep->status, resp);
    MHD_destroy_response(resp);
    if (rep->status >= 500)
        GW_LOG_WARN("route=%s status=%u", route_name(r->route.route), rep->status);
    else
        GW_LOG_DEBUG("route=%s status=%u", route_name(r->route.route), rep->status);
    return ret;
}

static enum MHD_Result send_problem(struct req *r, const struct gw_problem *p)
{
    GW_LOG_DEBUG("route=%s code=%s field=%s", route_name(r->route.route), gw_problem_name(p->code),
                 p->field);
    gw_reply_problem(&r->reply, p);
    if (p->code == GW_PROB_METHOD_NOT_ALLOWED)
        r->reply.allow = r->route.allow;
    return send_reply(r);
}

/* ---- first call: everything the headers can decide ---- */

static const char *header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static int check_upload(struct req *r, struct gw_problem *p)
{
    size_t max = r->srv->deps.cfg->limits.max_body;
    if (!gw_json_media_type_ok(header(r, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        gw_problem_set(p, GW_PROB_UNSUPPORTED_MEDIA_TYPE, NULL,
                       "send the body as Content-Type: application/json (UTF-8)");
        return EINVAL;
    }
    const char *cl = header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && *end == '\0' && (errno == ERANGE || n > max)) {
            gw_problem_set(p, GW_PROB_BODY_TOO_LARGE, NULL, "the body may be at most %zu bytes",
                           max);
            return EINVAL;
        }
    }
    return gw_idem_key(header(r, "Idempotency-Key"), r->idem_key, p);
}

struct framing {
    unsigned lengths;       /* Content-Length fields */
    bool differ;            /* ... with different values */
    bool transfer_encoding; /* a Transfer-Encoding field */
    const char *length;     /* the first Content-Length value */
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct framing *f = cls;
    const char *v = value ? value : "";
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->lengths++ == 0)
            f->length = v;
        else if (strcmp(f->length, v) != 0)
            f->differ = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding = true;
    }
    return MHD_YES;
}

/* RFC 9112 §6.3: Content-Length fields that disagree, or Content-Length together with
 * Transfer-Encoding, leave the end of the body ambiguous (the stuff of request smuggling);
 * libmicrohttpd would silently pick one, so such a request is refused before its body. */
static int check_framing(struct req *r, struct gw_problem *p)
{
    struct framing f;
    memset(&f, 0, sizeof(f));
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_framing, &f);
    if (!f.differ && !(f.lengths > 0 && f.transfer_encoding))
        return 0;
    gw_problem_set(p, GW_PROB_AMBIGUOUS_LENGTH, NULL,
                   f.differ ? "the request has Content-Length fields that disagree"
                            : "the request has both Content-Length and Transfer-Encoding");
    return EINVAL;
}

static int precheck(struct req *r, struct gw_problem *p)
{
    const struct gw_config *cfg = r->srv->deps.cfg;
    if (check_framing(r, p) != 0)
        return EINVAL;
    if (!gw_routes_public(r->route.route) &&
        !gw_auth_check(cfg, header(r, MHD_HTTP_HEADER_AUTHORIZATION))) {
        gw_problem_set(p, GW_PROB_UNAUTHORIZED, NULL,
                       "a valid API key is required: Authorization: Bearer <key>");
        return EINVAL;
    }
    if (r->route.route == GW_ROUTE_NONE) {
        gw_problem_set(p, GW_PROB_NOT_FOUND, NULL, "there is nothing at this path");
        return EINVAL;
    }
    if (!r->route.method_ok) {
        gw_problem_set(p, GW_PROB_METHOD_NOT_ALLOWED, NULL, "this path allows %s only",
                       r->route.allow);
        return EINVAL;
    }
    if (!gw_routes_takes_body(r->route.route))
        return 0;
    return check_upload(r, p);
}

static enum MHD_Result begin(struct gw_http_server *srv, struct MHD_Connection *conn,
                             const char *url, const char *method, void **con_cls)
{
    struct req *r = calloc(1, sizeof(*r));
    if (!r)
        return MHD_NO;
    r->srv = srv;
    r->conn = conn;
    r->started_ms = gw_clock_mono_ms();
    gw_routes_match(method, url, &r->route);
    *con_cls = r;
    struct gw_problem p;
    if (precheck(r, &p) != 0)
        return send_problem(r, &p); /* early: MHD then refuses the body and closes */
    return MHD_YES;
}

/* ---- body ---- */

static enum MHD_Result take_body(struct req *r, const char *data, size_t *size)
{
    size_t n = *size;
    size_t max = r->srv->deps.cfg->limits.max_body;
    *size = 0;
    if (gw_clock_mono_ms() - r->started_ms > REQUEST_DEADLINE_MS) {
        GW_LOG_INFO("route=%s request took too long, closing", route_name(r->route.route));
        return MHD_NO;
    }
    if (!r->too_large && gw_routes_takes_body(r->route.route) && n > max - r->len)
        r->too_large = true;
    if (r->too_large || !gw_routes_takes_body(r->route.route)) {
        /* Read on to answer 413 when the body ends, but not without limit. */
        r->discarded += n;
        return r->discarded > max * DISCARD_FACTOR ? MHD_NO : MHD_YES;
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : BODY_CHUNK;
        while (cap < r->len + n)
            cap *= 2;
        if (cap > max)
            cap = max;
        char *p = realloc(r->body, cap);
        if (!p)
            return MHD_NO;
        r->body = p;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    return MHD_YES;
}

/* ---- POST /messages: submission, suspend and resume ---- */

/* Gives the submission's answer to the connection and resumes it. Store writer thread (or
 * the MHD thread when the submission failed at once). Consumes rep. */
static void deliver(struct req *r, struct gw_reply *rep)
{
    struct gw_http_server *srv = r->srv;
    bool free_it = false;
    pthread_mutex_lock(&srv->lock);
    r->in_store = false;
    if (r->orphan) {
        srv->orphans--;
        free_it = r->conn_done;
    } else {
        gw_reply_clear(&r->reply);
        r->reply = *rep;
        memset(rep, 0, sizeof(*rep));
        r->answered = true;
        if (r->prev)
            r->prev->next = r->next;
        else
            srv->suspended = r->next;
        if (r->next)
            r->next->prev = r->prev;
        MHD_resume_connection(r->conn); /* from here on MHD owns r again */
    }
    pthread_mutex_unlock(&srv->lock);
    gw_reply_clear(rep);
    if (free_it)
        req_free(r);
}

static void on_stored(void *arg, int err, const struct gw_msg_view *view)
{
    struct gw_reply rep;
    memset(&rep, 0, sizeof(rep));
    gw_handlers_stored(err, view, &rep);
    deliver(arg, &rep);
}

/* Suspends r until the store calls back. False when shutting down: r->reply then holds the
 * 503 to send at once. */
static bool suspend(struct req *r)
{
    struct gw_http_server *srv = r->srv;
    /* Suspend first, as the writer may call back before the store call returns; and under
     * the lock, so that shutdown never resumes a connection that is not yet suspended. */
    pthread_mutex_lock(&srv->lock);
    bool refuse = srv->refuse;
    if (!refuse) {
        r->counted = true;
        r->in_store = true;
        srv->inflight++;
        r->next = srv->suspended;
        if (srv->suspended)
            srv->suspended->prev = r;
        srv->suspended = r;
        MHD_suspend_connection(r->conn);
    }
    pthread_mutex_unlock(&srv->lock);
    if (refuse)
        gw_handlers_submit_failed(ESHUTDOWN, &r->reply);
    return !refuse;
}

/* The store refused the work at once (err): answer through the suspended path. */
static void refused(struct req *r, int err)
{
    struct gw_reply rep;
    memset(&rep, 0, sizeof(rep));
    gw_handlers_submit_failed(err, &rep);
    deliver(r, &rep);
}

static enum MHD_Result submit(struct req *r, const struct gw_msg_new *m)
{
    if (!suspend(r))
        return send_reply(r);
    int err = gw_store_submit(r->srv->deps.store, m, on_stored, r);
    if (err)
        refused(r, err);
    return MHD_YES;
}

/* ---- DELETE /messages/{id}: the writer cancels it, like a submission ---- */

static void on_cancelled(void *arg, int err, const struct gw_msg_view *view)
{
    struct gw_reply rep;
    memset(&rep, 0, sizeof(rep));
    gw_handlers_cancelled(err, view, &rep);
    deliver(arg, &rep);
}

static enum MHD_Result cancel_message(struct req *r)
{
    if (!suspend(r))
        return send_reply(r);
    int err = gw_store_cancel(r->srv->deps.store, r->route.id, on_cancelled, r);
    if (err)
        refused(r, err);
    return MHD_YES;
}

/* ---- GET /messages ---- */

struct query_args {
    struct gw_query_arg args[GW_QUERY_MAX_ARGS];
    size_t n;
    bool more;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct query_args *q = cls;
    if (q->n < GW_QUERY_MAX_ARGS)
        q->args[q->n++] = (struct gw_query_arg){.name = key, .value = value};
    else
        q->more = true;
    return MHD_YES;
}

static void list_messages(struct req *r)
{
    struct query_args qa;
    memset(&qa, 0, sizeof(qa));
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &qa);
    struct gw_store_query q;
    struct gw_problem p;
    if (gw_query_list(qa.args, qa.n, qa.more, &q, &p) != 0) {
        GW_LOG_DEBUG("route=list_messages code=%s field=%s", gw_problem_name(p.code), p.field);
        gw_reply_problem(&r->reply, &p);
        return;
    }
    gw_handlers_list(&r->srv->deps, &q, &r->reply);
}

static enum MHD_Result post_message(struct req *r)
{
    const struct gw_config *cfg = r->srv->deps.cfg;
    struct gw_problem p;
    if (r->too_large) {
        gw_problem_set(&p, GW_PROB_BODY_TOO_LARGE, NULL, "the body may be at most %zu bytes",
                       cfg->limits.max_body);
        return send_problem(r, &p);
    }
    char *text = malloc(GW_TEXT_MAX + 1);
    if (!text) {
        gw_problem_set(&p, GW_PROB_INTERNAL_ERROR, NULL, "out of memory");
        return send_problem(r, &p);
    }
    enum MHD_Result ret;
    struct gw_msg_new m;
    int err =
        gw_json_decode_message(r->body ? r->body : "", r->len, cfg, &m, text, GW_TEXT_MAX + 1, &p);
    if (!err) {
        memcpy(m.idem_key, r->idem_key, sizeof(m.idem_key));
        if (m.idem_key[0] != '\0' && gw_idem_fingerprint(&m) != 0) {
            gw_problem_set(&p, GW_PROB_INTERNAL_ERROR, NULL, "cannot fingerprint the request");
            err = EIO;
        }
    }
    if (err) {
        ret = send_problem(r, &p);
    } else {
        GW_LOG_DEBUG("submitting to=%s segments=%u", m.to, m.info.segments);
        ret = submit(r, &m);
    }
    free(text);
    return ret;
}

/* ---- dispatch ---- */

static enum MHD_Result finish(struct req *r)
{
    if (r->counted) {
        pthread_mutex_lock(&r->srv->lock);
        bool answered = r->answered;
        pthread_mutex_unlock(&r->srv->lock);
        /* Not answered yet: still suspended; MHD will call again after the resume. */
        return answered ? send_reply(r) : MHD_YES;
    }
    const struct gw_http_deps *d = &r->srv->deps;
    switch (r->route.route) {
    case GW_ROUTE_MESSAGES:
        return post_message(r);
    case GW_ROUTE_LIST_MESSAGES:
        list_messages(r);
        break;
    case GW_ROUTE_MESSAGE:
        gw_handlers_message(d, r->route.id, &r->reply);
        break;
    case GW_ROUTE_CANCEL:
        return cancel_message(r);
    case GW_ROUTE_REGISTRATIONS:
        gw_handlers_registrations(d, &r->reply);
        break;
    case GW_ROUTE_HEALTH:
    case GW_ROUTE_HEALTH_LIVE:
    case GW_ROUTE_HEALTH_READY:
        gw_handlers_health(d, r->route.route, &r->reply);
        break;
    case GW_ROUTE_NONE:
        gw_reply_error(&r->reply, GW_PROB_NOT_FOUND, "there is nothing at this path");
        break;
    }
    return send_reply(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct req *r = *con_cls;
    if (!r)
        return begin(cls, conn, url, method, con_cls);
    if (*upload_data_size != 0)
        return take_body(r, upload_data, upload_data_size);
    return finish(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct gw_http_server *srv = cls;
    struct req *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    bool free_it = true;
    if (r->counted) {
        pthread_mutex_lock(&srv->lock);
        r->conn_done = true;
        srv->inflight--;
        free_it = !r->in_store;
        pthread_mutex_unlock(&srv->lock);
    }
    if (free_it)
        req_free(r);
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        return;
    size_t len = strlen(buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    GW_LOG_WARN("libmicrohttpd: %s", buf);
}

/* ---- start and stop ---- */

/* Fills ss from an IPv4 or IPv6 literal (or "localhost"); sets *v6. Returns 0 or EINVAL. */
static int make_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, bool *v6)
{
    char h[GW_CFG_STR];
    int n = snprintf(h, sizeof(h), "%s", host);
    if (n < 0 || (size_t)n >= sizeof(h))
        return EINVAL;
    size_t len = (size_t)n;
    if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
        memmove(h, h + 1, len - 2);
        h[len - 2] = '\0';
    }
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    const char *v4 = strcasecmp(h, "localhost") == 0 || h[0] == '\0'
                         ? (h[0] == '\0' ? "0.0.0.0" : "127.0.0.1")
                         : h;
    if (inet_pton(AF_INET, v4, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        *v6 = false;
        return 0;
    }
    if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *v6 = true;
        return 0;
    }
    return EINVAL;
}

static int check_exposure(const struct gw_config *cfg)
{
    if (gw_auth_required(cfg))
        return 0;
    if (!gw_config_host_is_loopback(cfg->http.host)) {
        GW_LOG_ERR("refusing to serve the API on %s without API keys: set [api] keys, or "
                   "listen on 127.0.0.1 or ::1",
                   cfg->http.listen);
        return EINVAL;
    }
    GW_LOG_WARN("no [api] keys are configured: the API is unauthenticated (loopback only)");
    return 0;
}

static struct MHD_Daemon *start_daemon(struct gw_http_server *srv, bool v6,
                                       const struct sockaddr_storage *ss)
{
    const struct gw_config *cfg = srv->deps.cfg;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                         MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    /* The logger goes first so that MHD reports option errors through it. */
    return MHD_start_daemon(
        flags, cfg->http.port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        srv, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->http.connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->http.connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT, MHD_OPTION_STRICT_FOR_CLIENT,
        (int)1, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)ss, MHD_OPTION_END);
}

int gw_http_server_start(struct gw_http_server **out, const struct gw_http_deps *deps)
{
    if (!out || !deps || !deps->cfg || !deps->store)
        return EINVAL;
    const struct gw_config *cfg = deps->cfg;
    struct sockaddr_storage ss;
    bool v6 = false;
    int err = check_exposure(cfg);
    if (err)
        return err;
    if (make_addr(cfg->http.host, cfg->http.port, &ss, &v6) != 0) {
        GW_LOG_ERR("[http] listen: %s is not an IPv4 or IPv6 address", cfg->http.host);
        return EINVAL;
    }
    struct gw_http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return ENOMEM;
    srv->deps = *deps;
    pthread_mutex_init(&srv->lock, NULL);
    srv->mhd = start_daemon(srv, v6, &ss);
    if (!srv->mhd) {
        GW_LOG_ERR("cannot listen on %s", cfg->http.listen);
        pthread_mutex_destroy(&srv->lock);
        free(srv);
        return EADDRINUSE;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    GW_LOG_INFO("listening on %s port %u", cfg->http.host,
                info ? (unsigned)info->port : (unsigned)cfg->http.port);
    *out = srv;
    return 0;
}

/* Waits up to ms for every submitted request to be answered and completed. */
static bool wait_idle(struct gw_http_server *srv, int64_t ms)
{
    int64_t deadline = gw_clock_mono_ms() + ms;
    for (;;) {
        pthread_mutex_lock(&srv->lock);
        unsigned n = srv->inflight;
        pthread_mutex_unlock(&srv->lock);
        if (n == 0)
            return true;
        if (gw_clock_mono_ms() >= deadline)
            return false;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10L * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Answers every still-suspended request with 503 and leaves its req to the store callback. */
static void orphan_all(struct gw_http_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->refuse = true;
    for (struct req *r = srv->suspended; r; r = r->next) {
        r->orphan = true;
        srv->orphans++;
        gw_reply_error(&r->reply, GW_PROB_STORE_UNAVAILABLE,
                       "the gateway stopped before the store answered; the message may or "
                       "may not have been stored");
        r->answered = true;
        MHD_resume_connection(r->conn);
    }
    srv->suspended = NULL;
    pthread_mutex_unlock(&srv->lock);
}

void gw_http_server_stop(struct gw_http_server *srv)
{
    if (!srv)
        return;
    MHD_socket ls = MHD_quiesce_daemon(srv->mhd);
    if (!wait_idle(srv, STOP_WAIT_MS)) {
        GW_LOG_ERR("the store did not answer every request within %d ms; answering 503",
                   STOP_WAIT_MS);
        orphan_all(srv);
        (void)wait_idle(srv, ORPHAN_WAIT_MS);
    }
    MHD_stop_daemon(srv->mhd);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    pthread_mutex_lock(&srv->lock);
    unsigned orphans = srv->orphans;
    pthread_mutex_unlock(&srv->lock);
    if (orphans > 0) {
        /* Their callbacks still lock srv->lock: leave srv allocated. */
        GW_LOG_ERR("%u requests are still with the store; leaving their state", orphans);
        return;
    }
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}
