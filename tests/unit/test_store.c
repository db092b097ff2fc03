/* Store tests on a real SQLite file: durable submit, idempotency, dispatch into the queue,
 * results (sent, failed, retry, expired), the event timeline and recovery after a restart. */
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
#include "gateway/store.h"

struct fixture {
    char dir[64];
    char path[128];
    struct gw_store *store;
    struct gw_queue *queue;
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

static int submit_wait(struct gw_store *s, const struct gw_msg_new *m, struct result *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    int err = gw_store_submit(s, m, on_done, r);
    if (err)
        return err;
    pthread_mutex_lock(&r->lock);
    while (!r->done)
        pthread_cond_wait(&r->cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
    return r->err;
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
    return gw_store_start(f->store, f->queue, NULL);
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
    assert_true(r.view.expires_at_ms - r.view.created_at_ms == 3600 * 1000);

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
