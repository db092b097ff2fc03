/* Store tests on a real SQLite file: durable submit, idempotency (and its pruning), dispatch
 * into the queue, results (sent, failed, retry, expired), the event timeline, recovery after
 * a restart, listing with filters and cursors, cancellation, the circuit breaker that pauses
 * dispatch while the operator fails, and the send-rate bucket. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/clock.h"
#include "gateway/registration.h"
#include "gateway/store.h"

struct fixture {
    char dir[64];
    char path[128];
    struct gw_store *store;
    struct gw_queue *queue;
    struct gw_registration *reg; /* NULL: dispatch runs; else it runs while this is ready */
};

struct result {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int err;
    struct gw_msg_view view;
};

static void on_done(void *arg, int err, const struct gw_msg_view *view)
{
    struct result *r = arg;
    pthread_mutex_lock(&r->lock);
    r->err = err;
    if (view)
        r->view = *view;
    r->done = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static int wait_result(struct result *r)
{
    pthread_mutex_lock(&r->lock);
    while (!r->done)
        pthread_cond_wait(&r->cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
    return r->err;
}

static int submit_wait(struct gw_store *s, const struct gw_msg_new *m, struct result *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    int err = gw_store_submit(s, m, on_done, r);
    return err ? err : wait_result(r);
}

static int cancel_wait(struct gw_store *s, const char *id, struct result *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    int err = gw_store_cancel(s, id, on_done, r);
    return err ? err : wait_result(r);
}

static void fill(struct gw_msg_new *m, const char *to, const char *text, int64_t validity)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->to, sizeof(m->to), "%s", to);
    m->text = text;
    m->text_len = strlen(text);
    m->validity_s = validity;
    m->info.encoding = GW_TEXT_GSM7;
    m->info.segments = 1;
    m->info.units = m->info.chars = (unsigned)m->text_len;
}

static int open_store(struct fixture *f, const struct gw_store_options *opt)
{
    if (gw_store_open(&f->store, f->path, opt) != 0)
        return -1;
    return gw_store_start(f->store, f->queue, f->reg);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/gw-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    if (gw_queue_create(&f->queue, 16) != 0)
        return -1;
    struct gw_store_options opt = {.retry_base_ms = 10, .retry_cap_ms = 20};
    if (open_store(f, &opt) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gw_store_close(f->store);
    gw_queue_free(f->queue);
    gw_registration_free(f->reg);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* Waits (bounded) for a job to appear in the queue; fails the test when none comes. */
static struct gw_job *pop_job(struct gw_queue *q)
{
    for (int i = 0; i < 300; i++) {
        struct gw_job *job = gw_queue_pop(q);
        if (job)
            return job;
        usleep(10000);
    }
    fail_msg("no job reached the queue within 3 s");
    abort(); /* not reached: tells the compiler the result is never NULL */
}

/* Waits (bounded) until message id reaches status. */
static void wait_status(struct gw_store *s, const char *id, enum gw_status want,
                        struct gw_msg_view *v)
{
    for (int i = 0; i < 300; i++) {
        assert_int_equal(gw_store_get(s, id, v), 0);
        if (v->status == want)
            return;
        usleep(10000);
    }
    fail_msg("message %s stayed %s, wanted %s", id, gw_status_name(v->status),
             gw_status_name(want));
}

static void submit_then_get(void **state)
{
    struct fixture *f = *state;
    struct gw_msg_new m;
    struct result r;
    fill(&m, "+15550100", "hello", 3600);
    snprintf(m.reference, sizeof(m.reference), "order-7");
    assert_int_equal(submit_wait(f->store, &m, &r), 0);
    assert_true(gw_id_valid(r.view.id));
    assert_int_equal(r.view.status, GW_STATUS_QUEUED);
    assert_true(r.view.expires_at_ms - r.view.created_at_ms == 3600000);

    static struct gw_msg_view v;
    assert_int_equal(gw_store_get(f->store, r.view.id, &v), 0);
    assert_string_equal(v.to, "+15550100");
    assert_string_equal(v.text, "hello");
    assert_string_equal(v.reference, "order-7");
    assert_false(v.inbound);
    assert_int_equal(gw_store_get(f->store, "01ARZ3NDEKTSV4RRFFQ69G5FAV", &v), ENOENT);
}

static void dispatch_and_sent(void **state)
{
    struct fixture *f = *state;
    struct gw_msg_new m;
    struct result r;
    fill(&m, "+15550100", "to be sent", 3600);
    assert_int_equal(submit_wait(f->store, &m, &r), 0);
    struct gw_job *job = pop_job(f->queue);
    assert_non_null(job);
    assert_string_equal(job->id, r.view.id);
    assert_string_equal(job->text, "to be sent");
    assert_int_equal(job->attempt, 1);

    struct gw_sip_answer a;
    gw_sip_answer_init(&a);
    a.status = 200;
    snprintf(a.phrase, sizeof(a.phrase), "OK");
    snprintf(a.call_id, sizeof(a.call_id), "abc@host");
    gw_store_report(f->store, job->id, job->attempt, &a);
    static struct gw_msg_view v;
    wait_status(f->store, job->id, GW_STATUS_SENT, &v);
    assert_true(v.has_answer);
    assert_int_equal(v.answer.status, 200);
    assert_string_equal(v.answer.call_id, "abc@host");
    assert_int_equal(v.attempts, 1);
    assert_string_equal(v.error_code, "");

    struct gw_msg_event ev[8];
    size_t n = 0;
    assert_int_equal(gw_store_events(f->store, job->id, ev, 8, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ev[0].status, GW_STATUS_QUEUED);
    assert_int_equal(ev[1].status, GW_STATUS_SENDING);
    assert_int_equal(ev[2].status, GW_STATUS_SENT);
    assert_string_equal(ev[2].layer, "sip");
    gw_job_free(job);
}

static void permanent_failure_keeps_reason(void **state)
{
    struct fixture *f = *state;
    struct gw_msg_new m;
    struct result r;
    fill(&m, "+15550100", "barred", 3600);
    assert_int_equal(submit_wait(f->store, &m, &r), 0);
    struct gw_job *job = pop_job(f->queue);
    assert_non_null(job);
    struct gw_sip_answer a;
    gw_sip_answer_init(&a);
    a.status = 403;
    snprintf(a.phrase, sizeof(a.phrase), "Forbidden");
    snprintf(a.reason_protocol, sizeof(a.reason_protocol), "Q.850");
    a.reason_cause = 55;
    gw_store_report(f->store, job->id, job->attempt, &a);
    static struct gw_msg_view v;
    wait_status(f->store, job->id, GW_STATUS_FAILED, &v);
    assert_string_equal(v.error_code, "barred");
    assert_int_equal(v.answer.reason_cause, 55);
    assert_string_equal(v.answer.reason_protocol, "Q.850");
    gw_job_free(job);
}

static void retry_then_stale_report_ignored(void **state)
{
    struct fixture *f = *state;
    struct gw_msg_new m;
    struct result r;
    fill(&m, "+15550100", "retry me", 3600);
    assert_int_equal(submit_wait(f->store, &m, &r), 0);
    struct gw_job *job = pop_job(f->queue);
    assert_non_null(job);
    struct gw_sip_answer a;
    gw_sip_answer_init(&a);
    a.status = 503;
    snprintf(a.phrase, sizeof(a.phrase), "Service Unavailable");
    gw_store_report(f->store, job->id, 1, &a);
    /* retry base 10 ms in this fixture: attempt 2 comes quickly */
    struct gw_job *again = pop_job(f->queue);
    assert_non_null(again);
    assert_string_equal(again->id, job->id);
    assert_int_equal(again->attempt, 2);
    /* a late answer to attempt 1 must not finish attempt 2 */
    a.status = 200;
    gw_store_report(f->store, job->id, 1, &a);
    usleep(100000);
    static struct gw_msg_view v;
    assert_int_equal(gw_store_get(f->store, job->id, &v), 0);
    assert_int_equal(v.status, GW_STATUS_SENDING);
    gw_store_report(f->store, job->id, 2, &a);
    wait_status(f->store, job->id, GW_STATUS_SENT, &v);
    assert_int_equal(v.attempts, 2);
    gw_job_free(job);
    gw_job_free(again);
}

static void retry_past_validity_expires(void **state)
{
    struct fixture *f = *state;
    gw_store_close(f->store);
    /* backoff far beyond the 1 s validity */
    struct gw_store_options opt = {.retry_base_ms = 60000, .retry_cap_ms = 60000};
    assert_int_equal(open_store(f, &opt), 0);
    struct gw_msg_new m;
    struct result r;
    fill(&m, "+15550100", "short-lived", 1);
    assert_int_equal(submit_wait(f->store, &m, &r), 0);
    struct gw_job *job = pop_job(f->queue);
    assert_non_null(job);
    struct gw_sip_answer a;
    gw_sip_answer_init(&a);
    a.status = 480;
    snprintf(a.phrase, sizeof(a.phrase), "Temporarily Unavailable");
    a.retry_after = 30;
    gw_store_report(f->store, job->id, 1, &a);
    static struct gw_msg_view v;
    wait_status(f->store, job->id, GW_STATUS_EXPIRED, &v);
    assert_string_equal(v.error_code, "recipient_unavailable");
    gw_job_free(job);
}

static void idempotency_replay_and_conflict(void **state)
{
    struct fixture *f = *state;
    struct gw_msg_new m;
    struct result first, again, other;
    fill(&m, "+15550100", "once", 3600);
    snprintf(m.idem_key, sizeof(m.idem_key), "key-1");
    memset(m.fingerprint, 0xAB, sizeof(m.fingerprint));
    assert_int_equal(submit_wait(f->store, &m, &first), 0);
    assert_int_equal(submit_wait(f->store, &m, &again), EEXIST);
    assert_string_equal(again.view.id, first.view.id);
    memset(m.fingerprint, 0xCD, sizeof(m.fingerprint));
    assert_int_equal(submit_wait(f->store, &m, &other), EBADMSG);
}

static void restart_requeues_sending(void **state)
{
    struct fixture *f = *state;
    struct gw_msg_new m;
    struct result r;
    fill(&m, "+15550100", "in flight at the crash", 3600);
    assert_int_equal(submit_wait(f->store, &m, &r), 0);
    struct gw_job *job = pop_job(f->queue);
    assert_non_null(job);
    gw_job_free(job); /* the SIP side "crashes": no report */
    gw_store_close(f->store);

    assert_int_equal(open_store(f, NULL), 0);
    job = pop_job(f->queue);
    assert_non_null(job);
    assert_string_equal(job->id, r.view.id);
    assert_int_equal(job->attempt, 2);
    gw_job_free(job);
}

static void inbound_is_stored(void **state)
{
    struct fixture *f = *state;
    char id[GW_ID_LEN];
    assert_int_equal(gw_store_add_inbound(f->store, "sip:+15550100@operator.test",
                                          "sip:smsgw@operator.test", "reply", 5, id),
                     0);
    static struct gw_msg_view v;
    assert_int_equal(gw_store_get(f->store, id, &v), 0);
    assert_true(v.inbound);
    assert_int_equal(v.status, GW_STATUS_RECEIVED);
    assert_string_equal(v.text, "reply");
    assert_string_equal(v.from, "sip:+15550100@operator.test");
}

static void stopped_store_refuses(void **state)
{
    struct fixture *f = *state;
    gw_store_stop(f->store);
    struct gw_msg_new m;
    fill(&m, "+15550100", "late", 3600);
    struct result r;
    assert_int_equal(submit_wait(f->store, &m, &r), ESHUTDOWN);
    struct gw_store_stats st;
    gw_store_get_stats(f->store, &st);
    assert_true(st.healthy);
}

/* Reopens the store with dispatch held back: the registration is not ready. */
static void hold_dispatch(struct fixture *f, const struct gw_store_options *opt)
{
    gw_store_close(f->store);
    assert_int_equal(gw_registration_create(&f->reg, GW_REG_UNREGISTERED), 0);
    assert_int_equal(open_store(f, opt), 0);
}

static void set_reg(struct fixture *f, enum gw_reg_state state)
{
    struct gw_reg_view v;
    gw_registration_get(f->reg, &v);
    v.state = state;
    gw_registration_set(f->reg, &v);
}

/* Submits a message and returns its id in id. */
static void add(struct fixture *f, const char *text, char id[GW_ID_LEN])
{
    struct gw_msg_new m;
    struct result r;
    fill(&m, "+15550100", text, 3600);
    assert_int_equal(submit_wait(f->store, &m, &r), 0);
    memcpy(id, r.view.id, GW_ID_LEN);
}

struct page {
    size_t n;
    char ids[GW_STORE_LIST_MAX][GW_ID_LEN];
    bool inbound[GW_STORE_LIST_MAX];
    enum gw_status status[GW_STORE_LIST_MAX];
    size_t stop_after; /* 0: never */
};

static int collect(void *arg, const struct gw_msg_view *v)
{
    struct page *p = arg;
    if (p->stop_after && p->n == p->stop_after)
        return ENOMEM;
    memcpy(p->ids[p->n], v->id, GW_ID_LEN);
    p->inbound[p->n] = v->inbound;
    p->status[p->n] = v->status;
    p->n++;
    return 0;
}

static struct page pg;

/* Lists with q into pg; returns how many came, and the cursor in next. */
static size_t list(struct fixture *f, const struct gw_store_query *q, char next[GW_ID_LEN])
{
    memset(&pg, 0, sizeof(pg));
    snprintf(next, GW_ID_LEN, "unset");
    assert_int_equal(gw_store_list(f->store, q, collect, &pg, next), 0);
    return pg.n;
}

static void query(struct gw_store_query *q, unsigned limit)
{
    memset(q, 0, sizeof(*q));
    q->limit = limit;
}

static char ids[5][GW_ID_LEN], in_id[GW_ID_LEN];

/* Five outbound messages a few milliseconds apart, then one inbound; dispatch held. */
static void add_six(struct fixture *f)
{
    hold_dispatch(f, NULL);
    for (int i = 0; i < 5; i++) {
        add(f, "listed", ids[i]);
        usleep(3000); /* distinct milliseconds, so since can split them */
    }
    assert_int_equal(gw_store_add_inbound(f->store, "sip:+15550100@operator.test",
                                          "sip:smsgw@operator.test", "in", 2, in_id),
                     0);
}

static void list_pages(void **state)
{
    struct fixture *f = *state;
    add_six(f);
    char next[GW_ID_LEN];
    struct gw_store_query q;
    query(&q, 50);
    assert_int_equal(list(f, &q, next), 6);
    assert_string_equal(next, "");         /* the last page */
    assert_string_equal(pg.ids[0], in_id); /* newest first */
    assert_true(pg.inbound[0]);
    for (int i = 0; i < 5; i++)
        assert_string_equal(pg.ids[1 + i], ids[4 - i]);

    /* pages of two: the cursor is the last id of a page; the last page has none */
    query(&q, 2);
    assert_int_equal(list(f, &q, next), 2);
    assert_string_equal(pg.ids[1], ids[4]);
    assert_string_equal(next, ids[4]);
    snprintf(q.cursor, sizeof(q.cursor), "%s", next);
    assert_int_equal(list(f, &q, next), 2);
    assert_string_equal(pg.ids[0], ids[3]);
    assert_string_equal(pg.ids[1], ids[2]);
    assert_string_equal(next, ids[2]);
    snprintf(q.cursor, sizeof(q.cursor), "%s", next);
    assert_int_equal(list(f, &q, next), 2);
    assert_string_equal(pg.ids[1], ids[0]);
    assert_string_equal(next, "");

    /* a well-formed cursor that names no message is still a bound */
    query(&q, 50);
    snprintf(q.cursor, sizeof(q.cursor), "00000000000000000000000000");
    assert_int_equal(list(f, &q, next), 0);
    snprintf(q.cursor, sizeof(q.cursor), "ZZZZZZZZZZZZZZZZZZZZZZZZZZ");
    assert_int_equal(list(f, &q, next), 6);

    /* bad queries, and a callback that stops the listing */
    query(&q, 0);
    assert_int_equal(gw_store_list(f->store, &q, collect, &pg, next), EINVAL);
    query(&q, GW_STORE_LIST_MAX + 1);
    assert_int_equal(gw_store_list(f->store, &q, collect, &pg, next), EINVAL);
    query(&q, 10);
    snprintf(q.cursor, sizeof(q.cursor), "not-an-id");
    assert_int_equal(gw_store_list(f->store, &q, collect, &pg, next), EINVAL);
    query(&q, 10);
    memset(&pg, 0, sizeof(pg));
    pg.stop_after = 2;
    assert_int_equal(gw_store_list(f->store, &q, collect, &pg, next), ENOMEM);
    assert_int_equal(pg.n, 2);
}

static void list_filters(void **state)
{
    struct fixture *f = *state;
    add_six(f);
    char next[GW_ID_LEN];
    struct gw_store_query q;
    query(&q, 50);
    q.has_direction = true;
    assert_int_equal(list(f, &q, next), 5);
    assert_false(pg.inbound[0]);
    q.inbound = true;
    assert_int_equal(list(f, &q, next), 1);
    assert_string_equal(pg.ids[0], in_id);
    q.has_status = true;
    q.status = GW_STATUS_QUEUED;
    assert_int_equal(list(f, &q, next), 0); /* queued and inbound: none */
    q.has_direction = false;
    assert_int_equal(list(f, &q, next), 5);
    q.status = GW_STATUS_RECEIVED;
    assert_int_equal(list(f, &q, next), 1);

    struct result r;
    assert_int_equal(cancel_wait(f->store, ids[0], &r), 0);
    q.status = GW_STATUS_CANCELLED;
    assert_int_equal(list(f, &q, next), 1);
    assert_string_equal(pg.ids[0], ids[0]);
    assert_int_equal(pg.status[0], GW_STATUS_CANCELLED);
    q.status = GW_STATUS_QUEUED;
    assert_int_equal(list(f, &q, next), 4);

    /* since: created at or after that message's time */
    static struct gw_msg_view v;
    assert_int_equal(gw_store_get(f->store, ids[2], &v), 0);
    query(&q, 50);
    q.since_ms = v.created_at_ms;
    assert_int_equal(list(f, &q, next), 4);
    assert_string_equal(pg.ids[3], ids[2]);
    q.since_ms = v.created_at_ms + 1;
    assert_int_equal(list(f, &q, next), 3);
    q.since_ms = gw_clock_now_ms() + 60000;
    assert_int_equal(list(f, &q, next), 0);
    q.since_ms = INT64_MAX;
    assert_int_equal(list(f, &q, next), 0);
    q.since_ms = 0;
    q.has_status = true;
    q.status = GW_STATUS_QUEUED;
    q.has_direction = true;
    q.inbound = false;
    assert_int_equal(list(f, &q, next), 4); /* a status and its own direction */
}

static void cancel_only_queued(void **state)
{
    struct fixture *f = *state;
    hold_dispatch(f, NULL);
    char a[GW_ID_LEN], b[GW_ID_LEN];
    add(f, "to be withdrawn", a);
    add(f, "to be sent", b);
    struct result r;
    assert_int_equal(cancel_wait(f->store, a, &r), 0);
    assert_string_equal(r.view.id, a);
    assert_int_equal(r.view.status, GW_STATUS_CANCELLED);
    assert_string_equal(r.view.text, "to be withdrawn");
    assert_int_equal(cancel_wait(f->store, a, &r), EALREADY); /* a repeated DELETE */
    assert_int_equal(r.view.status, GW_STATUS_CANCELLED);
    assert_int_equal(cancel_wait(f->store, "01ARZ3NDEKTSV4RRFFQ69G5FAV", &r), ENOENT);
    assert_int_equal(gw_store_cancel(f->store, "bad id", on_done, &r), EINVAL);

    struct gw_msg_event ev[8];
    size_t n = 0;
    assert_int_equal(gw_store_events(f->store, a, ev, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ev[1].status, GW_STATUS_CANCELLED);
    assert_string_equal(ev[1].layer, "http");

    /* registered: only the other message goes out */
    set_reg(f, GW_REG_REGISTERED);
    struct gw_job *job = pop_job(f->queue);
    assert_string_equal(job->id, b);
    usleep(200000);
    assert_null(gw_queue_pop(f->queue));
    static struct gw_msg_view v;
    assert_int_equal(gw_store_get(f->store, a, &v), 0);
    assert_int_equal(v.status, GW_STATUS_CANCELLED);
    assert_int_equal(v.attempts, 0);

    /* out to the operator already: too late */
    assert_int_equal(cancel_wait(f->store, b, &r), EBUSY);
    assert_int_equal(r.view.status, GW_STATUS_SENDING);
    gw_job_free(job);

    gw_store_stop(f->store);
    assert_int_equal(gw_store_cancel(f->store, a, on_done, &r), ESHUTDOWN);
}

/* Idempotency keys are pruned after idem_keep_s, by the writer's maintenance. */
static void idempotency_keys_pruned(void **state)
{
    struct fixture *f = *state;
    gw_store_close(f->store);
    struct gw_store_options opt = {.idem_keep_s = 1};
    assert_int_equal(open_store(f, &opt), 0);
    struct gw_msg_new m;
    struct result first, r;
    fill(&m, "+15550100", "kept a while", 3600);
    snprintf(m.idem_key, sizeof(m.idem_key), "key-prune");
    memset(m.fingerprint, 0xAB, sizeof(m.fingerprint));
    int64_t t0 = gw_clock_mono_ms();
    assert_int_equal(submit_wait(f->store, &m, &first), 0);
    memset(m.fingerprint, 0xCD, sizeof(m.fingerprint));
    assert_int_equal(submit_wait(f->store, &m, &r), EBADMSG);
    int err = EBADMSG;
    for (int i = 0; i < 50 && err == EBADMSG; i++) {
        usleep(100000);
        err = submit_wait(f->store, &m, &r);
    }
    assert_int_equal(err, 0); /* the key was free again: a new message */
    assert_true(gw_clock_mono_ms() - t0 >= 1000);
    assert_string_not_equal(r.view.id, first.view.id);
    assert_int_equal(submit_wait(f->store, &m, &r), EEXIST);
}

static void stats_show_registration_pause(void **state)
{
    struct fixture *f = *state;
    hold_dispatch(f, NULL);
    char id[GW_ID_LEN];
    add(f, "waits", id);
    struct gw_store_stats st;
    gw_store_get_stats(f->store, &st);
    assert_true(st.paused);
    assert_non_null(strstr(st.pause_reason, "registration is unregistered"));
    assert_int_equal(st.paused_until_ms, 0);
    set_reg(f, GW_REG_REGISTERED);
    struct gw_job *job = pop_job(f->queue);
    gw_job_free(job);
    for (int i = 0; i < 100; i++) {
        gw_store_get_stats(f->store, &st);
        if (!st.paused)
            break;
        usleep(10000);
    }
    assert_false(st.paused);
    assert_string_equal(st.pause_reason, "");
}

static void report_status(struct gw_store *s, const struct gw_job *job, int status)
{
    struct gw_sip_answer a;
    gw_sip_answer_init(&a);
    a.status = status;
    snprintf(a.phrase, sizeof(a.phrase), "%s", status == 200 ? "OK" : "Service Unavailable");
    gw_store_report(s, job->id, job->attempt, &a);
}

/* Two 503s in a row pause dispatch; the retries wait without spending attempts; after the
 * pause one probe goes alone; its 200 resumes dispatch. */
static void breaker_pauses_dispatch(void **state)
{
    struct fixture *f = *state;
    gw_store_close(f->store);
    struct gw_store_options opt = {.retry_base_ms = 10,
                                   .retry_cap_ms = 20,
                                   .breaker_threshold = 2,
                                   .breaker_base_ms = 400,
                                   .breaker_cap_ms = 800};
    assert_int_equal(open_store(f, &opt), 0);
    char a[GW_ID_LEN], b[GW_ID_LEN];
    add(f, "first", a);
    add(f, "second", b);
    struct gw_job *ja = pop_job(f->queue);
    struct gw_job *jb = pop_job(f->queue);
    int64_t t0 = gw_clock_mono_ms();
    report_status(f->store, ja, 503);
    report_status(f->store, jb, 503);
    gw_job_free(ja);
    gw_job_free(jb);
    usleep(150000); /* the retries are due after 20 ms, but dispatch is paused */
    struct gw_store_stats st;
    gw_store_get_stats(f->store, &st);
    static struct gw_msg_view v;
    assert_int_equal(gw_store_get(f->store, a, &v), 0);
    if (gw_clock_mono_ms() - t0 < 350) { /* still within the pause (not so on a busy box) */
        assert_null(gw_queue_pop(f->queue));
        assert_true(st.paused);
        assert_non_null(strstr(st.pause_reason, "operator_unavailable"));
        assert_true(st.paused_until_ms > 0);
        assert_int_equal(v.status, GW_STATUS_QUEUED);
        assert_int_equal(v.attempts, 1); /* waiting spends no attempt */
    }

    struct gw_job *probe = pop_job(f->queue);
    assert_true(gw_clock_mono_ms() - t0 >= 350);
    assert_int_equal(probe->attempt, 2);
    usleep(100000);
    assert_null(gw_queue_pop(f->queue)); /* only the probe */
    gw_store_get_stats(f->store, &st);
    assert_true(st.paused);
    report_status(f->store, probe, 200);
    struct gw_job *rest = pop_job(f->queue);
    assert_string_not_equal(rest->id, probe->id);
    assert_int_equal(rest->attempt, 2);
    gw_store_get_stats(f->store, &st);
    assert_false(st.paused);
    gw_job_free(probe);
    gw_job_free(rest);
}

/* send_rate 20/s (burst 2): six messages take about 200 ms to reach the queue. */
static void send_rate_paces(void **state)
{
    struct fixture *f = *state;
    gw_store_close(f->store);
    struct gw_store_options opt = {.send_rate = 20};
    assert_int_equal(open_store(f, &opt), 0);
    char id[GW_ID_LEN];
    usleep(150000); /* a full bucket */
    int64_t t0 = gw_clock_mono_ms();
    for (int i = 0; i < 6; i++)
        add(f, "paced", id);
    int64_t arrived[6];
    for (int i = 0; i < 6; i++) {
        struct gw_job *job = pop_job(f->queue);
        arrived[i] = gw_clock_mono_ms() - t0;
        gw_job_free(job);
    }
    /* two at once, then one per 50 ms: job k (k >= 2) cannot leave before (k - 1) * 50 ms;
     * only lower bounds, as a busy machine may pop jobs late but never early */
    for (int i = 2; i < 6; i++)
        assert_true(arrived[i] >= (i - 1) * 50 - 5);
    assert_true(arrived[5] < 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(submit_then_get, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_and_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(permanent_failure_keeps_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(retry_then_stale_report_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(retry_past_validity_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(idempotency_replay_and_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_requeues_sending, setup, teardown),
        cmocka_unit_test_setup_teardown(inbound_is_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(stopped_store_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(list_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_only_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(idempotency_keys_pruned, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_show_registration_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(breaker_pauses_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(send_rate_paces, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
