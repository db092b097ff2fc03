/* Bounded FIFO of job pointers in a ring, a mutex, and an eventfd for the consumer's loop. */
#include "gateway/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct gw_queue {
    pthread_mutex_t lock;
    struct gw_job **ring;
    unsigned capacity; /* ring has capacity + 1 slots: one for a STOP job on a full queue */
    unsigned head, count;
    int efd;
};

struct gw_job *gw_job_new(enum gw_job_kind kind, const char *text, size_t text_len)
{
    struct gw_job *job = calloc(1, sizeof(*job) + text_len + 1);
    if (!job)
        return NULL;
    job->kind = kind;
    job->text_len = text_len;
    if (text_len)
        memcpy(job->text, text, text_len);
    return job;
}

void gw_job_free(struct gw_job *job)
{
    free(job);
}

int gw_queue_create(struct gw_queue **out, unsigned capacity)
{
    int err = 0;
    struct gw_queue *q = NULL;
    if (capacity == 0 || capacity > 10000000) {
        err = EINVAL;
        goto out;
    }
    q = calloc(1, sizeof(*q));
    if (!q) {
        err = ENOMEM;
        goto out;
    }
    q->efd = -1;
    q->ring = calloc((size_t)capacity + 1, sizeof(struct gw_job *));
    if (!q->ring) {
        err = ENOMEM;
        goto out;
    }
    q->capacity = capacity;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0) {
        err = errno;
        goto out;
    }
    pthread_mutex_init(&q->lock, NULL);
    *out = q;
    q = NULL;
out:
    if (q) {
        free(q->ring);
        free(q);
    }
    return err;
}

void gw_queue_free(struct gw_queue *q)
{
    if (!q)
        return;
    struct gw_job *job;
    while ((job = gw_queue_pop(q)) != NULL)
        gw_job_free(job);
    close(q->efd);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q);
}

int gw_queue_push(struct gw_queue *q, struct gw_job *job)
{
    pthread_mutex_lock(&q->lock);
    unsigned limit = job->kind == GW_JOB_STOP ? q->capacity + 1 : q->capacity;
    if (q->count >= limit) {
        pthread_mutex_unlock(&q->lock);
        return EAGAIN;
    }
    q->ring[(q->head + q->count) % (q->capacity + 1)] = job;
    q->count++;
    pthread_mutex_unlock(&q->lock);
    uint64_t one = 1;
    ssize_t w = write(q->efd, &one, sizeof(one));
    (void)w; /* EAGAIN only when the counter is saturated: still readable */
    return 0;
}

struct gw_job *gw_queue_pop(struct gw_queue *q)
{
    struct gw_job *job = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->count > 0) {
        job = q->ring[q->head];
        q->ring[q->head] = NULL;
        q->head = (q->head + 1) % (q->capacity + 1);
        q->count--;
    }
    pthread_mutex_unlock(&q->lock);
    return job;
}

unsigned gw_queue_space(struct gw_queue *q)
{
    pthread_mutex_lock(&q->lock);
    unsigned space = q->count >= q->capacity ? 0 : q->capacity - q->count;
    pthread_mutex_unlock(&q->lock);
    return space;
}

unsigned gw_queue_depth(struct gw_queue *q)
{
    pthread_mutex_lock(&q->lock);
    unsigned n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

int gw_queue_fd(const struct gw_queue *q)
{
    return q->efd;
}

void gw_queue_clear_wakeup(struct gw_queue *q)
{
    uint64_t v;
    ssize_t r = read(q->efd, &v, sizeof(v));
    (void)r; /* EAGAIN: nothing pending */
}
