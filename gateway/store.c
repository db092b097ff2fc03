/* The store's writer thread and its hand-off lists. Producers (HTTP threads, the SIP thread)
 * append to mutex-protected lists and signal; the writer takes everything pending, applies it
 * in ONE transaction (group commit: under load many submissions share one fsync, when idle a
 * submission is committed at once), then answers the submitters and pushes the messages it
 * claimed into the SIP queue. Nothing is handed to SIP or answered 202 before its commit. */
#include "gateway/store.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "gateway/clock.h"
#include "gateway/storedb.h"

#define GW_LOG_MODULE "store"

#define READERS        4
#define CLAIM_BATCH    256
#define MAINTENANCE_MS 1000
#define BUSY_POLL_MS   20

struct submission {
    struct submission *next;
    struct gw_msg_new m; /* m.text points at text below */
    bool inbound;
    char in_from[GW_ADDR_LEN], in_to[GW_ADDR_LEN];
    gw_store_submit_fn fn;
    void *arg;
    int err;            /* outcome, set by the writer */
    char id[GW_ID_LEN]; /* the new message, or the replayed one */
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

    pthread_t thread;
    struct gw_queue *queue;
    struct gw_registration *reg;
    int64_t next_maintenance_ms;
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

int gw_store_submit(struct gw_store *s, const struct gw_msg_new *m, gw_store_submit_fn fn,
                    void *arg)
{
    if (!m->text || m->text_len == 0 || m->text_len > GW_TEXT_MAX || m->validity_s <= 0)
        return EINVAL;
    struct submission *sub = calloc(1, sizeof(*sub) + m->text_len + 1);
    if (!sub)
        return ENOMEM;
    sub->m = *m;
    memcpy(sub->text, m->text, m->text_len);
    sub->m.text = sub->text;
    sub->fn = fn;
    sub->arg = arg;
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
    struct submission *sub = calloc(1, sizeof(*sub) + text_len + 1);
    if (!sub)
        return ENOMEM;
    struct waiter w = {.err = 0};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.done_cond, NULL);
    sub->inbound = true;
    snprintf(sub->in_from, sizeof(sub->in_from), "%s", from);
    snprintf(sub->in_to, sizeof(sub->in_to), "%s", to);
    memcpy(sub->text, text, text_len);
    sub->m.text = sub->text;
    sub->m.text_len = text_len;
    sub->fn = wake_waiter;
    sub->arg = &w;
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
    sub->created_at_ms = now;
    if (gw_id_new(now, sub->id) != 0)
        return EIO;
    if (sub->inbound)
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
    size_t expired = 0, requeued = 0;
    if (gw_storedb_expire(s->wdb, now, &expired) != 0 ||
        gw_storedb_requeue_leases(s->wdb, now, &requeued) != 0)
        return EIO;
    if (expired)
        GW_LOG_INFO("%zu queued messages expired", expired);
    if (requeued)
        GW_LOG_WARN("%zu leases ran out; messages requeued (may duplicate)", requeued);
    return 0;
}

/* Claims due messages into jobs (pushed after the commit). Sets *more when the batch was
 * cut by the queue's space, i.e. more may be due right now. */
static int dispatch(struct gw_store *s, int64_t now, struct gw_job **jobs, size_t *njobs,
                    bool *more)
{
    *njobs = 0;
    *more = false;
    if (!s->queue)
        return 0;
    if (s->reg) {
        struct gw_reg_view rv;
        gw_registration_get(s->reg, &rv);
        if (!gw_reg_state_ready(rv.state))
            return 0;
    }
    size_t space = gw_queue_space(s->queue);
    if (space > CLAIM_BATCH)
        space = CLAIM_BATCH;
    struct gw_storedb_claim claims[CLAIM_BATCH];
    size_t n = 0;
    int64_t lease = now + (int64_t)s->opt.lease_s * 1000;
    if (space && gw_storedb_claim_due(s->wdb, now, lease, claims, space, &n) != 0)
        return EIO;
    *more = space == 0 || n == space;
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

/* The view handed to a submitter's callback. */
static const struct gw_msg_view *result_view(struct gw_store *s, struct submission *sub)
{
    struct gw_msg_view *v = &s->scratch;
    if (sub->err == EEXIST)
        return gw_storedb_get(s->wdb, sub->id, v) == 0 ? v : NULL;
    if (sub->err != 0)
        return NULL;
    memset(v, 0, offsetof(struct gw_msg_view, text));
    memcpy(v->id, sub->id, sizeof(v->id));
    v->inbound = sub->inbound;
    v->status = sub->inbound ? GW_STATUS_RECEIVED : GW_STATUS_QUEUED;
    snprintf(v->to, sizeof(v->to), "%s", sub->inbound ? sub->in_to : sub->m.to);
    snprintf(v->from, sizeof(v->from), "%s", sub->inbound ? sub->in_from : sub->m.from);
    v->text[0] = '\0'; /* callers of a fresh submission know their text */
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

/* One transaction: submissions, reports, maintenance, dispatch. Returns the milliseconds
 * the writer may sleep before the next cycle when nothing arrives. */
static int64_t cycle(struct gw_store *s, struct submission *subs, struct report *reps,
                     bool stopping)
{
    int64_t now = gw_clock_now_ms();
    struct gw_job **jobs = s->jobs;
    size_t njobs = 0;
    bool more = false;
    int err = gw_storedb_begin(s->wdb);
    for (struct submission *sub = subs; err == 0 && sub; sub = sub->next)
        err = write_submission(s, sub, now);
    for (struct report *r = reps; err == 0 && r; r = r->next)
        err = apply_report(s, r, now);
    if (err == 0)
        err = maintain(s, now);
    if (err == 0 && !stopping)
        err = dispatch(s, now, jobs, &njobs, &more);
    if (err == 0)
        err = gw_storedb_commit(s->wdb);
    if (err) {
        GW_LOG_ERR("transaction failed: %s", gw_storedb_errmsg(s->wdb));
        gw_storedb_rollback(s->wdb);
    }
    set_health(s, err == 0, now);

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
    int64_t due = INT64_MAX;
    if (gw_storedb_next_due(s->wdb, &due) != 0 || due == INT64_MAX)
        return MAINTENANCE_MS;
    int64_t wait = due - gw_clock_now_ms();
    return wait < 1 ? BUSY_POLL_MS : wait < MAINTENANCE_MS ? wait : MAINTENANCE_MS;
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
    pthread_mutex_unlock(&s->lock);
}
