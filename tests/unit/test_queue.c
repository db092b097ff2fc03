/* Queue tests: FIFO order, the capacity bound, the STOP slot, the eventfd wake-up, and
 * several producer threads against one consumer (run under TSan by `make tsan`). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/queue.h"

static struct gw_job *job_with(const char *id)
{
    struct gw_job *job = gw_job_new(GW_JOB_SEND, "x", 1);
    snprintf(job->id, sizeof(job->id), "%s", id);
    return job;
}

static void fifo_and_bound(void **state)
{
    (void)state;
    struct gw_queue *q = NULL;
    assert_int_equal(gw_queue_create(&q, 2), 0);
    assert_int_equal(gw_queue_space(q), 2);
    struct gw_job *a = job_with("a"), *b = job_with("b"), *c = job_with("c");
    assert_int_equal(gw_queue_push(q, a), 0);
    assert_int_equal(gw_queue_push(q, b), 0);
    assert_int_equal(gw_queue_push(q, c), EAGAIN); /* full: c still ours */
    assert_int_equal(gw_queue_space(q), 0);
    struct gw_job *stop = gw_job_new(GW_JOB_STOP, NULL, 0);
    assert_int_equal(gw_queue_push(q, stop), 0); /* STOP has its own slot */
    assert_int_equal(gw_queue_depth(q), 3);
    struct gw_job *got = gw_queue_pop(q);
    assert_string_equal(got->id, "a");
    gw_job_free(got);
    got = gw_queue_pop(q);
    assert_string_equal(got->id, "b");
    gw_job_free(got);
    got = gw_queue_pop(q);
    assert_int_equal(got->kind, GW_JOB_STOP);
    gw_job_free(got);
    assert_null(gw_queue_pop(q));
    gw_job_free(c);
    gw_queue_free(q);
}

static void eventfd_signals_push(void **state)
{
    (void)state;
    struct gw_queue *q = NULL;
    assert_int_equal(gw_queue_create(&q, 4), 0);
    struct pollfd p = {.fd = gw_queue_fd(q), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_int_equal(gw_queue_push(q, job_with("x")), 0);
    assert_int_equal(gw_queue_push(q, job_with("y")), 0);
    assert_int_equal(poll(&p, 1, 0), 1);
    gw_queue_clear_wakeup(q);
    assert_int_equal(poll(&p, 1, 0), 0); /* coalesced: one read clears both pushes */
    assert_int_equal(gw_queue_depth(q), 2);
    gw_queue_free(q); /* frees the jobs still queued */
}

#define PRODUCERS    4
#define PER_PRODUCER 2000

static void *produce(void *arg)
{
    struct gw_queue *q = arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        struct gw_job *job = job_with("p");
        while (gw_queue_push(q, job) == EAGAIN) {
            struct pollfd p = {.fd = -1};
            poll(&p, 0, 1);
        }
    }
    return NULL;
}

static void producers_and_consumer(void **state)
{
    (void)state;
    struct gw_queue *q = NULL;
    assert_int_equal(gw_queue_create(&q, 64), 0);
    pthread_t t[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, produce, q), 0);
    int got = 0;
    struct pollfd p = {.fd = gw_queue_fd(q), .events = POLLIN};
    while (got < PRODUCERS * PER_PRODUCER) {
        assert_true(poll(&p, 1, 5000) >= 0);
        gw_queue_clear_wakeup(q);
        struct gw_job *job;
        while ((job = gw_queue_pop(q)) != NULL) {
            gw_job_free(job);
            got++;
        }
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(got, PRODUCERS * PER_PRODUCER);
    assert_int_equal(gw_queue_depth(q), 0);
    gw_queue_free(q);
}

static void bad_capacity(void **state)
{
    (void)state;
    struct gw_queue *q = NULL;
    assert_int_equal(gw_queue_create(&q, 0), EINVAL);
    assert_null(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_and_bound),
        cmocka_unit_test(eventfd_signals_push),
        cmocka_unit_test(producers_and_consumer),
        cmocka_unit_test(bad_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
