/* The bounded dispatch queue into the SIP thread: a mutex-protected FIFO plus an eventfd.
 * Producers push jobs; the SIP thread watches the eventfd and drains the queue on each wake-up
 * (wake-ups coalesce). A pushed job belongs to the queue, and then to whoever pops it. */
#ifndef GW_GATEWAY_QUEUE_H
#define GW_GATEWAY_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/id.h"
#include "gateway/number.h"

enum gw_job_kind {
    GW_JOB_SEND = 0, /* send one MESSAGE */
    GW_JOB_STOP,     /* unregister, shut the SIP stack down, end the SIP thread */
};

struct gw_job {
    enum gw_job_kind kind;
    char id[GW_ID_LEN];
    char to[GW_E164_LEN];
    char from[GW_E164_LEN]; /* "" = our configured identity */
    unsigned attempt;       /* 1 for the first attempt */
    int64_t expires_at_ms;  /* wall clock: the validity end; no attempt starts after it */
    size_t text_len;
    char text[]; /* text_len bytes of UTF-8 and a NUL */
};

struct gw_queue;

/* Allocates a job carrying a copy of text. Returns NULL on ENOMEM. Free with gw_job_free. */
struct gw_job *gw_job_new(enum gw_job_kind kind, const char *text, size_t text_len);
void gw_job_free(struct gw_job *job);

/* Creates a queue for at most capacity jobs. Returns 0, EINVAL, ENOMEM or an eventfd error. */
int gw_queue_create(struct gw_queue **out, unsigned capacity) GW_MUST_CHECK;

/* Frees the queue and every job still in it. Accepts NULL. */
void gw_queue_free(struct gw_queue *q);

/* Appends job. Any thread. On success the queue owns job. Returns 0 or EAGAIN (full).
 * A STOP job is accepted even when the queue is full. */
int gw_queue_push(struct gw_queue *q, struct gw_job *job) GW_MUST_CHECK;

/* Removes the oldest job, or returns NULL when empty. Any thread; the caller owns the job. */
struct gw_job *gw_queue_pop(struct gw_queue *q);

/* Jobs the queue can still take. Any thread. */
unsigned gw_queue_space(struct gw_queue *q);

/* Jobs in the queue. Any thread. */
unsigned gw_queue_depth(struct gw_queue *q);

/* The eventfd that becomes readable after a push. */
int gw_queue_fd(const struct gw_queue *q);

/* Clears the eventfd's readiness; call before draining. */
void gw_queue_clear_wakeup(struct gw_queue *q);

#endif
