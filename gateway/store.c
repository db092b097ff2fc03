/* The store's writer thread and its hand-off lists. Producers (HTTP threads, the SIP thread)
 * append to mutex-protected lists and signal; the writer takes everything pending, applies it
 * in ONE transaction (group commit: under load many submissions share one fsync, when idle a
 * submission is committed at once), then answers the submitters and pushes the messages it
 * claimed into the SIP queue. Nothing is handed to SIP or answered 202 before its commit.
 * Claiming is gated three ways: the registration must be ready, the circuit breaker closed
 * (or letting its one probe through), and the token bucket must hold a token per message. */
#include "gateway/store.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "gateway/breaker.h"
#include "gateway/clock.h"
#include "gateway/ratelimit.h"
#include "gateway/storedb.h"

#define GW_LOG_MODULE "store"

#define READERS        4
#define CLAIM_BATCH    256
#define MAINTENANCE_MS 1000
#define BUSY_POLL_MS   20
#define REG_POLL_MS    100  /* how often dispatch looks again while not registered */
#define PRUNE_BATCH    1024 /* idempotency keys deleted per maintenance step (about 17 ms) */
#define DAY_S          86400

enum sub_kind {
    SUB_OUTBOUND = 0, /* POST /messages */
    SUB_INBOUND,      /* an inbound MESSAGE */
    SUB_CANCEL,       /* DELETE /messages/{id}: id names the message */
};

struct submission {
    struct submission *next;
    struct gw_msg_new m; /* m.text points at text below */
    enum sub_kind kind;
    char in_from[GW_ADDR_LEN], in_to[GW_ADDR_LEN];
    gw_store_submit_fn fn;
    void *arg;
    int err;            /* outcome, set by the writer */
    char id[GW_ID_LEN]; /* the new message, the replayed one, or the one to cancel */
    int64_t created_at_ms, expires_at_ms;
    char text[];
};

struct report {
    struct report *next;
    char id[GW_ID_LEN];
    unsigned attempt;
    struct gw_sip_answer answer;
};

struct reader {
    pthread_mutex_t lock;
    struct gw_storedb *db;
};

struct gw_store {
    struct gw_store_options opt;
    struct gw_storedb *wdb; /* the writer's connection */
    struct reader readers[READERS];

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    struct submission *subs, **subs_tail;
    struct report *reps, **reps_tail;
    unsigned backlog;
    bool started, stopping;
    bool healthy;
    char last_error[GW_DETAIL_LEN];
    int64_t last_commit_ms;

    bool paused; /* dispatch state for gw_store_get_stats */
    char pause_reason[GW_DETAIL_LEN];
    int64_t paused_until_ms;

    pthread_t thread;
    struct gw_queue *queue;
    struct gw_registration *reg;
    int64_t next_maintenance_ms;
    /* the writer's own */
    struct gw_ratelimit rate;
    struct gw_breaker breaker;
    char probe_id[GW_ID_LEN]; /* the breaker's probe and its attempt, while it is out */
    unsigned probe_attempt;
    bool probe_claimed;         /* in the current cycle, so undone if the cycle rolls back */
    struct gw_msg_view scratch; /* the writer's view buffer for callbacks */
    char text_buf[GW_TEXT_MAX + 1];
    struct gw_job *jobs[CLAIM_BATCH]; /* claimed in this cycle, pushed after the commit */
};

static void set_defaults(struct gw_store_options *o, const struct gw_store_options *in)
{
    *o = in ? *in : (struct gw_store_options){0};
    if (!o->max_backlog)
        o->max_backlog = 4096;
    if (!o->lease_s)
        o->lease_s = 120;
    if (!o->retry_base_ms)
        o->retry_base_ms = 2000;
    if (!o->retry_cap_ms)
        o->retry_cap_ms = 600000;
    if (!o->idem_keep_s)
        o->idem_keep_s = DAY_S;
    if (!o->breaker_threshold)
        o->breaker_threshold = 5;
    if (!o->breaker_base_ms)
        o->breaker_base_ms = 1000;
    if (!o->breaker_cap_ms)
        o->breaker_cap_ms = 30000;
}

/* Messages left "sending" by an earlier run: their outcome is unknown, so they go out again. */
static int recover_leases(struct gw_store *s)
{
    size_t n = 0, total = 0;
    do {
        if (gw_storedb_begin(s->wdb) != 0)
            return EIO;
        if (gw_storedb_requeue_leases(s->wdb, INT64_MAX, &n) != 0 ||
            gw_storedb_commit(s->wdb) != 0) {
            gw_storedb_rollback(s->wdb);
            return EIO;
        }
        total += n;
    } while (n > 0);
    if (total)
        GW_LOG_WARN("requeued %zu messages left sending by the previous run (may duplicate)",
                    total);
    return 0;
}

int gw_store_open(struct gw_store **out, const char *path, const struct gw_store_options *opt)
{
    int err = 0;
    char msg[GW_DETAIL_LEN];
    struct gw_store *s = calloc(1, sizeof(*s));
    if (!s)
        return ENOMEM;
    set_defaults(&s->opt, opt);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    s->subs_tail = &s->subs;
    s->reps_tail = &s->reps;
    s->healthy = true;
    for (int i = 0; i < READERS; i++)
        pthread_mutex_init(&s->readers[i].lock, NULL);

    err = gw_storedb_open(&s->wdb, path, true, msg, sizeof(msg));
    for (int i = 0; err == 0 && i < READERS; i++)
        err = gw_storedb_open(&s->readers[i].db, path, false, msg, sizeof(msg));
    if (err) {
        GW_LOG_ERR("cannot open %s", msg);
        goto out;
    }
    err = recover_leases(s);
    if (err) {
        GW_LOG_ERR("cannot recover leases: %s", gw_storedb_errmsg(s->wdb));
        goto out;
    }
    *out = s;
    s = NULL;
out:
    gw_store_close(s);
    return err;
}

void gw_store_close(struct gw_store *s)
{
    if (!s)
        return;
    gw_store_stop(s);
    for (struct report *r = s->reps, *next; r; r = next) { /* arrived after the last cycle */
        next = r->next;
        free(r);
    }
    gw_storedb_close(s->wdb);
    for (int i = 0; i < READERS; i++) {
        gw_storedb_close(s->readers[i].db);
        pthread_mutex_destroy(&s->readers[i].lock);
    }
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ---- producers ------------------------------------------------------------------------ */

static int enqueue(struct gw_store *s, struct submission *sub)
{
    int err = 0;
    pthread_mutex_lock(&s->lock);
    if (s->stopping || !s->started)
        err = ESHUTDOWN;
    else if (s->backlog >= s->opt.max_backlog)
        err = EAGAIN;
    if (err == 0) {
        *s->subs_tail = sub;
        s->subs_tail = &sub->next;
        s->backlog++;
        pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->lock);
    return err;
}

/* A submission of kind carrying a copy of text, answered through fn(arg). */
static struct submission *new_submission(enum sub_kind kind, const char *text, size_t text_len,
                                         gw_store_submit_fn fn, void *arg)
{
    struct submission *sub = calloc(1, sizeof(*sub) + text_len + 1);
    if (!sub)
        return NULL;
    sub->kind = kind;
    memcpy(sub->text, text, text_len);
    sub->m.text = sub->text;
    sub->m.text_len = text_len;
    sub->fn = fn;
    sub->arg = arg;
    return sub;
}

int gw_store_submit(struct gw_store *s, const struct gw_msg_new *m, gw_store_submit_fn fn,
                    void *arg)
{
    if (!m->text || m->text_len == 0 || m->text_len > GW_TEXT_MAX || m->validity_s <= 0)
        return EINVAL;
    struct submission *sub = new_submission(SUB_OUTBOUND, m->text, m->text_len, fn, arg);
    if (!sub)
        return ENOMEM;
    const char *text = sub->m.text;
    sub->m = *m;
    sub->m.text = text;
    int err = enqueue(s, sub);
    if (err)
        free(sub);
    return err;
}

int gw_store_cancel(struct gw_store *s, const char *id, gw_store_submit_fn fn, void *arg)
{
    if (!gw_id_valid(id))
        return EINVAL;
    struct submission *sub = new_submission(SUB_CANCEL, "", 0, fn, arg);
    if (!sub)
        return ENOMEM;
    snprintf(sub->id, sizeof(sub->id), "%s", id);
    int err = enqueue(s, sub);
    if (err)
        free(sub);
    return err;
}

void gw_store_report(struct gw_store *s, const char *id, unsigned attempt,
                     const struct gw_sip_answer *a)
{
    struct report *r = calloc(1, sizeof(*r));
    if (!r) {
        /* The lease will run out and the message goes out again: at-least-once holds. */
        GW_LOG_ERR("out of memory: report for id=%s dropped", id);
        return;
    }
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->attempt = attempt;
    r->answer = *a;
    pthread_mutex_lock(&s->lock);
    *s->reps_tail = r;
    s->reps_tail = &r->next;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    bool done;
    int err;
    char id[GW_ID_LEN];
};

static void wake_waiter(void *arg, int err, const struct gw_msg_view *view)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->err = err;
    if (view)
        snprintf(w->id, sizeof(w->id), "%s", view->id);
    w->done = true;
    pthread_cond_signal(&w->done_cond);
    pthread_mutex_unlock(&w->lock);
}

int gw_store_add_inbound(struct gw_store *s, const char *from, const char *to, const char *text,
                         size_t text_len, char out_id[GW_ID_LEN])
{
    if (text_len > GW_TEXT_MAX)
        return EMSGSIZE;
    struct waiter w = {.err = 0};
    struct submission *sub = new_submission(SUB_INBOUND, text, text_len, wake_waiter, &w);
    if (!sub)
        return ENOMEM;
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.done_cond, NULL);
    snprintf(sub->in_from, sizeof(sub->in_from), "%s", from);
    snprintf(sub->in_to, sizeof(sub->in_to), "%s", to);
    int err = enqueue(s, sub);
    if (err) {
        free(sub);
        goto out;
    }
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.done_cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    err = w.err;
    if (err == 0 && out_id)
        snprintf(out_id, GW_ID_LEN, "%s", w.id);
out:
    pthread_cond_destroy(&w.done_cond);
    pthread_mutex_destroy(&w.lock);
    return err;
}

/* ---- the writer ------------------------------------------------------------------------ */

/* Writes one submission inside the open transaction. Sets sub->err for the submitter;
 * returns EIO only when the transaction itself must be abandoned. */
static int write_submission(struct gw_store *s, struct submission *sub, int64_t now)
{
    if (sub->kind == SUB_CANCEL) {
        enum gw_status st = GW_STATUS_QUEUED;
        int err = gw_storedb_cancel(s->wdb, sub->id, now, &st);
        if (err == EIO)
            return EIO;
        sub->err = err;
        if (err == 0)
            GW_LOG_INFO("id=%s cancelled", sub->id);
        return 0;
    }
    sub->created_at_ms = now;
    if (gw_id_new(now, sub->id) != 0)
        return EIO;
    if (sub->kind == SUB_INBOUND)
        return gw_storedb_insert_inbound(s->wdb, sub->id, sub->in_from, sub->in_to, sub->text,
                                         sub->m.text_len, now);
    if (sub->m.idem_key[0]) {
        unsigned char fp[32];
        char prior[GW_ID_LEN];
        int err = gw_storedb_idem_find(s->wdb, sub->m.idem_key, fp, prior);
        if (err == 0) {
            bool same = memcmp(fp, sub->m.fingerprint, sizeof(fp)) == 0;
            sub->err = same ? EEXIST : EBADMSG;
            snprintf(sub->id, sizeof(sub->id), "%s", prior);
            return 0;
        }
        if (err != ENOENT ||
            gw_storedb_idem_insert(s->wdb, sub->m.idem_key, sub->m.fingerprint, sub->id, now))
            return EIO;
    }
    sub->expires_at_ms = now + sub->m.validity_s * 1000;
    return gw_storedb_insert(s->wdb, sub->id, &sub->m, now, sub->expires_at_ms);
}

/* Full-jitter exponential backoff, at least Retry-After. */
static int64_t retry_delay_ms(const struct gw_store *s, unsigned attempt, int retry_after)
{
    uint64_t cap = s->opt.retry_base_ms;
    for (unsigned i = 1; i < attempt && cap < s->opt.retry_cap_ms; i++)
        cap *= 2;
    if (cap > s->opt.retry_cap_ms)
        cap = s->opt.retry_cap_ms;
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (uint32_t)gw_clock_mono_ms();
    int64_t delay = (int64_t)(r % (cap + 1));
    if (retry_after > 0 && delay < (int64_t)retry_after * 1000)
        delay = (int64_t)retry_after * 1000;
    return delay;
}

static void describe(const struct gw_sip_answer *a, const char *what, char *out, size_t len)
{
    if (a->status == GW_SIP_NO_ANSWER)
        snprintf(out, len, "no final answer within the deadline; %s", what);
    else
        snprintf(out, len, "%d %s; %s", a->status, a->phrase, what);
}

/* Feeds one attempt's outcome to the breaker and logs when it opens or closes. Local stack
 * failures (9xx) say nothing about the operator unless they are its probe's outcome. */
static void note_outcome(struct gw_store *s, const struct report *r, const struct gw_outcome *oc,
                         int64_t now)
{
    bool down = gw_breaker_counts(oc);
    bool probe =
        s->probe_id[0] != '\0' && strcmp(r->id, s->probe_id) == 0 && r->attempt == s->probe_attempt;
    if (probe)
        s->probe_id[0] = '\0';
    if (!down && !probe && r->answer.status >= 900)
        return;
    enum gw_breaker_state before = s->breaker.state;
    gw_breaker_record(&s->breaker, down, probe, oc->success ? "" : oc->code, now);
    if (s->breaker.state == GW_BREAKER_OPEN && before != GW_BREAKER_OPEN)
        GW_LOG_WARN("dispatch paused for %lld ms: the operator looks down (%s)",
                    (long long)s->breaker.pause_ms, s->breaker.last_code);
    else if (s->breaker.state == GW_BREAKER_CLOSED && before != GW_BREAKER_CLOSED)
        GW_LOG_INFO("dispatch resumed: id=%s got an answer from the operator", r->id);
}

static int apply_report(struct gw_store *s, const struct report *r, int64_t now)
{
    int64_t seq, expires_at;
    int err = gw_storedb_lookup_sending(s->wdb, r->id, r->attempt, &seq, &expires_at);
    if (err == ENOENT) {
        GW_LOG_WARN("stale report ignored id=%s attempt=%u", r->id, r->attempt);
        return 0;
    }
    if (err)
        return err;
    struct gw_outcome oc;
    gw_outcome_classify(&r->answer, &oc);
    note_outcome(s, r, &oc, now);
    struct gw_storedb_result res = {.error_code = oc.success ? "" : oc.code};
    char detail[GW_DETAIL_LEN], what[96];
    if (oc.success) {
        res.status = GW_STATUS_SENT;
        describe(&r->answer, "accepted by the operator", detail, sizeof(detail));
    } else if (oc.permanent) {
        res.status = GW_STATUS_FAILED;
        snprintf(what, sizeof(what), "permanent error %s", oc.code);
        describe(&r->answer, what, detail, sizeof(detail));
    } else {
        int64_t next = now + retry_delay_ms(s, r->attempt, r->answer.retry_after);
        bool expired = next >= expires_at;
        res.status = expired ? GW_STATUS_EXPIRED : GW_STATUS_QUEUED;
        res.next_attempt_ms = next;
        if (expired)
            snprintf(what, sizeof(what), "%s; validity ends before a retry", oc.code);
        else
            snprintf(what, sizeof(what), "%s; retry in %.1f s", oc.code,
                     (double)(next - now) / 1000.0);
        describe(&r->answer, what, detail, sizeof(detail));
    }
    res.detail = detail;
    GW_LOG_INFO("id=%s attempt=%u status=%d -> %s", r->id, r->attempt, r->answer.status,
                gw_status_name(res.status));
    return gw_storedb_apply(s->wdb, seq, &r->answer, &res, now);
}

static int maintain(struct gw_store *s, int64_t now)
{
    if (now < s->next_maintenance_ms)
        return 0;
    s->next_maintenance_ms = now + MAINTENANCE_MS;
    size_t expired = 0, requeued = 0, pruned = 0;
    int64_t keep_ms = (int64_t)s->opt.idem_keep_s * 1000;
    if (gw_storedb_expire(s->wdb, now, &expired) != 0 ||
        gw_storedb_requeue_leases(s->wdb, now, &requeued) != 0 ||
        gw_storedb_idem_prune(s->wdb, now - keep_ms, PRUNE_BATCH, &pruned) != 0)
        return EIO;
    if (expired)
        GW_LOG_INFO("%zu queued messages expired", expired);
    if (requeued)
        GW_LOG_WARN("%zu leases ran out; messages requeued (may duplicate)", requeued);
    if (pruned)
        GW_LOG_DEBUG("%zu idempotency keys older than %u s pruned", pruned, s->opt.idem_keep_s);
    return 0;
}

/* What one dispatch step did, for the writer's sleep and for GET /health. */
struct gate {
    bool paused; /* the registration or the breaker held dispatch back */
    char reason[GW_DETAIL_LEN];
    int64_t until_ms; /* the breaker's pause ends (wall clock), 0 if not paused by it */
    int64_t wake_ms;  /* held back: look again after this long; 0: when due or woken */
};

/* How many messages may be claimed now; explains any hold in g. */
static size_t allowance(struct gw_store *s, int64_t now, struct gate *g)
{
    if (s->reg) {
        struct gw_reg_view rv;
        gw_registration_get(s->reg, &rv);
        if (!gw_reg_state_ready(rv.state)) {
            g->paused = true;
            snprintf(g->reason, sizeof(g->reason),
                     "the registration is %s; messages wait until it is registered",
                     gw_reg_state_name(rv.state));
            g->wake_ms = REG_POLL_MS;
            return 0;
        }
    }
    size_t allow = gw_breaker_allow(&s->breaker, now);
    if (s->breaker.state == GW_BREAKER_OPEN && allow == 0) {
        g->paused = true;
        g->until_ms = s->breaker.until_ms;
        snprintf(g->reason, sizeof(g->reason),
                 "the operator looks down (%u attempts in a row ended %s); one message goes out "
                 "as a probe when the pause ends",
                 s->breaker.threshold, s->breaker.last_code);
        g->wake_ms = s->breaker.until_ms - now;
    } else if (s->breaker.state == GW_BREAKER_PROBING) {
        g->paused = true;
        snprintf(g->reason, sizeof(g->reason),
                 "the operator looked down; waiting for the answer to one probe message");
        g->wake_ms = s->breaker.until_ms - now;
    } else if (s->breaker.state == GW_BREAKER_OPEN) {
        g->paused = true; /* the probe goes in this step */
        snprintf(g->reason, sizeof(g->reason),
                 "the operator looked down; the next message due goes out as a probe");
    }
    size_t tokens = gw_ratelimit_available(&s->rate, now);
    return allow < tokens ? allow : tokens;
}

/* Claims due messages into jobs (pushed after the commit). Sets *more when the batch was
 * cut by the queue's space, i.e. more may be due right now. */
static int dispatch(struct gw_store *s, int64_t now, struct gw_job **jobs, size_t *njobs,
                    bool *more, struct gate *g)
{
    *njobs = 0;
    *more = false;
    if (!s->queue)
        return 0;
    size_t space = gw_queue_space(s->queue);
    if (space > CLAIM_BATCH)
        space = CLAIM_BATCH;
    size_t allow = allowance(s, now, g);
    size_t max = space < allow ? space : allow;
    struct gw_storedb_claim claims[CLAIM_BATCH];
    size_t n = 0;
    int64_t lease = now + (int64_t)s->opt.lease_s * 1000;
    if (max && gw_storedb_claim_due(s->wdb, now, lease, claims, max, &n) != 0)
        return EIO;
    gw_ratelimit_take(&s->rate, n, now);
    if (n > 0 && s->breaker.state == GW_BREAKER_OPEN) {
        gw_breaker_probe_sent(&s->breaker, now);
        memcpy(s->probe_id, claims[0].id, sizeof(s->probe_id));
        s->probe_attempt = claims[0].attempt;
        s->probe_claimed = true;
        GW_LOG_INFO("id=%s attempt=%u goes out as the probe", claims[0].id, claims[0].attempt);
    }
    *more = space == 0 || (n == space && space <= allow);
    if (n == max && allow < space && !g->paused && allow != SIZE_MAX)
        g->wake_ms = gw_ratelimit_wait_ms(&s->rate, now); /* the bucket cut the batch */
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        if (gw_storedb_read_text(s->wdb, claims[i].seq, s->text_buf, sizeof(s->text_buf), &len))
            return EIO;
        struct gw_job *job = gw_job_new(GW_JOB_SEND, s->text_buf, len);
        if (!job)
            return ENOMEM;
        memcpy(job->id, claims[i].id, sizeof(job->id));
        memcpy(job->to, claims[i].to, sizeof(job->to));
        memcpy(job->from, claims[i].from, sizeof(job->from));
        job->attempt = claims[i].attempt;
        job->expires_at_ms = claims[i].expires_at_ms;
        jobs[(*njobs)++] = job;
    }
    return 0;
}

/* The view handed to a submitter's callback: read back for a replay or a cancellation,
 * built from the submission for a new message. */
static const struct gw_msg_view *result_view(struct gw_store *s, struct submission *sub)
{
    struct gw_msg_view *v = &s->scratch;
    bool read_back =
        sub->err == EEXIST ||
        (sub->kind == SUB_CANCEL && (sub->err == 0 || sub->err == EALREADY || sub->err == EBUSY));
    if (read_back)
        return gw_storedb_get(s->wdb, sub->id, v) == 0 ? v : NULL;
    if (sub->err != 0)
        return NULL;
    bool inbound = sub->kind == SUB_INBOUND;
    memset(v, 0, offsetof(struct gw_msg_view, text));
    memcpy(v->id, sub->id, sizeof(v->id));
    v->inbound = inbound;
    v->status = inbound ? GW_STATUS_RECEIVED : GW_STATUS_QUEUED;
    snprintf(v->to, sizeof(v->to), "%s", inbound ? sub->in_to : sub->m.to);
    snprintf(v->from, sizeof(v->from), "%s", inbound ? sub->in_from : sub->m.from);
    v->text[0] = '\0'; /* callers of a fresh submission know their text */
    v->text_len = 0;
    v->attempts = 0;
    v->has_answer = false;
    v->error_code[0] = '\0';
    snprintf(v->reference, sizeof(v->reference), "%s", sub->m.reference);
    v->info = sub->m.info;
    v->created_at_ms = v->updated_at_ms = v->next_attempt_ms = sub->created_at_ms;
    v->expires_at_ms = sub->expires_at_ms;
    gw_sip_answer_init(&v->answer);
    return v;
}

static void set_health(struct gw_store *s, bool ok, int64_t now)
{
    pthread_mutex_lock(&s->lock);
    if (ok) {
        s->last_commit_ms = now;
        s->last_error[0] = '\0';
    } else {
        snprintf(s->last_error, sizeof(s->last_error), "%s", gw_storedb_errmsg(s->wdb));
    }
    s->healthy = ok;
    pthread_mutex_unlock(&s->lock);
}

/* Publishes the dispatch state for gw_store_get_stats. */
static void set_gate(struct gw_store *s, const struct gate *g, int64_t now)
{
    pthread_mutex_lock(&s->lock);
    s->paused = g->paused;
    snprintf(s->pause_reason, sizeof(s->pause_reason), "%s", g->paused ? g->reason : "");
    s->paused_until_ms = g->until_ms > now ? g->until_ms : 0;
    pthread_mutex_unlock(&s->lock);
}

/* How long the writer may sleep when nothing arrives: until the dispatch gate (registration,
 * breaker, bucket) may let a held-back message go, else until the next message is due or
 * maintenance is. */
static int64_t idle_wait(struct gw_store *s, const struct gate *g)
{
    int64_t wait = MAINTENANCE_MS;
    if (g->wake_ms > 0) {
        wait = g->wake_ms;
    } else {
        int64_t due = INT64_MAX;
        if (gw_storedb_next_due(s->wdb, &due) != 0)
            return MAINTENANCE_MS;
        if (due != INT64_MAX)
            wait = due - gw_clock_now_ms();
    }
    if (wait < 1)
        return BUSY_POLL_MS;
    return wait < MAINTENANCE_MS ? wait : MAINTENANCE_MS;
}

/* One transaction: submissions, reports, maintenance, dispatch. Returns the milliseconds
 * the writer may sleep before the next cycle when nothing arrives. */
static int64_t cycle(struct gw_store *s, struct submission *subs, struct report *reps,
                     bool stopping)
{
    int64_t now = gw_clock_now_ms();
    struct gw_job **jobs = s->jobs;
    size_t njobs = 0;
    bool more = false;
    struct gate g = {.paused = false};
    s->probe_claimed = false;
    int err = gw_storedb_begin(s->wdb);
    for (struct submission *sub = subs; err == 0 && sub; sub = sub->next)
        err = write_submission(s, sub, now);
    for (struct report *r = reps; err == 0 && r; r = r->next)
        err = apply_report(s, r, now);
    if (err == 0)
        err = maintain(s, now);
    if (err == 0 && !stopping)
        err = dispatch(s, now, jobs, &njobs, &more, &g);
    if (err == 0)
        err = gw_storedb_commit(s->wdb);
    if (err) {
        GW_LOG_ERR("transaction failed: %s", gw_storedb_errmsg(s->wdb));
        gw_storedb_rollback(s->wdb);
        if (s->probe_claimed) { /* the probe's claim was undone with the rest */
            gw_breaker_probe_withdrawn(&s->breaker, now);
            s->probe_id[0] = '\0';
        }
    }
    set_health(s, err == 0, now);
    set_gate(s, &g, now);

    for (struct submission *sub = subs, *next; sub; sub = next) {
        next = sub->next;
        if (err)
            sub->err = EIO;
        sub->fn(sub->arg, sub->err, result_view(s, sub));
        free(sub);
    }
    for (size_t i = 0; i < njobs; i++) {
        if (err || gw_queue_push(s->queue, jobs[i]) != 0) {
            if (!err) /* cannot happen: only this thread fills the queue, within its space */
                GW_LOG_ERR("queue refused id=%s; its lease will requeue it", jobs[i]->id);
            gw_job_free(jobs[i]);
        }
    }
    for (struct report *r = reps, *next; r; r = next) {
        next = r->next;
        free(r);
    }
    if (err || more)
        return BUSY_POLL_MS;
    return idle_wait(s, &g);
}

static void wait_until(struct gw_store *s, int64_t deadline_mono)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_mono / 1000),
                          .tv_nsec = (long)(deadline_mono % 1000) * 1000000};
    pthread_cond_timedwait(&s->wake, &s->lock, &ts);
}

static void *writer_main(void *arg)
{
    struct gw_store *s = arg;
    int64_t sleep_ms = 0;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int64_t deadline = gw_clock_mono_ms() + sleep_ms;
        while (!s->subs && !s->reps && !s->stopping && gw_clock_mono_ms() < deadline)
            wait_until(s, deadline);
        struct submission *subs = s->subs;
        struct report *reps = s->reps;
        bool stopping = s->stopping;
        s->subs = NULL;
        s->subs_tail = &s->subs;
        s->reps = NULL;
        s->reps_tail = &s->reps;
        s->backlog = 0;
        pthread_mutex_unlock(&s->lock);
        sleep_ms = cycle(s, subs, reps, stopping);
        if (stopping)
            break;
    }
    return NULL;
}

int gw_store_start(struct gw_store *s, struct gw_queue *q, struct gw_registration *reg)
{
    s->queue = q;
    s->reg = reg;
    int64_t now = gw_clock_now_ms();
    gw_ratelimit_init(&s->rate, s->opt.send_rate, s->opt.send_burst, now);
    /* a probe that never reports (lost report) counts as failed when its lease would end */
    gw_breaker_init(&s->breaker, s->opt.breaker_threshold, s->opt.breaker_base_ms,
                    s->opt.breaker_cap_ms, (int64_t)s->opt.lease_s * 1000);
    s->probe_id[0] = '\0';
    pthread_mutex_lock(&s->lock);
    s->started = true;
    pthread_mutex_unlock(&s->lock);
    int err = pthread_create(&s->thread, NULL, writer_main, s);
    if (err) {
        pthread_mutex_lock(&s->lock);
        s->started = false;
        pthread_mutex_unlock(&s->lock);
    }
    return err;
}

void gw_store_stop(struct gw_store *s)
{
    pthread_mutex_lock(&s->lock);
    bool running = s->started && !s->stopping;
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (running)
        pthread_join(s->thread, NULL);
}

/* ---- readers --------------------------------------------------------------------------- */

static struct reader *take_reader(struct gw_store *s)
{
    for (int i = 0; i < READERS; i++) {
        if (pthread_mutex_trylock(&s->readers[i].lock) == 0)
            return &s->readers[i];
    }
    struct reader *r = &s->readers[(size_t)pthread_self() % READERS];
    pthread_mutex_lock(&r->lock);
    return r;
}

int gw_store_get(struct gw_store *s, const char *id, struct gw_msg_view *out)
{
    struct reader *r = take_reader(s);
    int err = gw_storedb_get(r->db, id, out);
    pthread_mutex_unlock(&r->lock);
    return err;
}

int gw_store_events(struct gw_store *s, const char *id, struct gw_msg_event *ev, size_t max,
                    size_t *n)
{
    struct reader *r = take_reader(s);
    int err = gw_storedb_events(r->db, id, ev, max, n);
    pthread_mutex_unlock(&r->lock);
    return err;
}

void gw_store_get_stats(struct gw_store *s, struct gw_store_stats *out)
{
    memset(out, 0, sizeof(*out));
    struct reader *r = take_reader(s);
    bool counted = gw_storedb_counts(r->db, &out->queued, &out->sending) == 0;
    pthread_mutex_unlock(&r->lock);
    pthread_mutex_lock(&s->lock);
    out->healthy = s->healthy && counted;
    snprintf(out->last_error, sizeof(out->last_error), "%s",
             counted ? s->last_error : "cannot read the store");
    out->backlog = s->backlog;
    out->last_commit_ms = s->last_commit_ms;
    out->paused = s->paused;
    snprintf(out->pause_reason, sizeof(out->pause_reason), "%s", s->pause_reason);
    out->paused_until_ms = s->paused_until_ms;
    pthread_mutex_unlock(&s->lock);
}

int gw_store_list(struct gw_store *s, const struct gw_store_query *q, gw_store_list_fn fn,
                  void *arg, char next_cursor[GW_ID_LEN])
{
    if (q->limit < 1 || q->limit > GW_STORE_LIST_MAX || (q->cursor[0] && !gw_id_valid(q->cursor)))
        return EINVAL;
    struct gw_msg_view *v = malloc(sizeof(*v));
    if (!v)
        return ENOMEM;
    char next[GW_ID_LEN] = "";
    struct reader *r = take_reader(s);
    int err = gw_storedb_list(r->db, q, v, fn, arg, next);
    pthread_mutex_unlock(&r->lock);
    free(v);
    if (err == 0)
        memcpy(next_cursor, next, GW_ID_LEN);
    return err;
}
