/* Outbound pacing: a token bucket that the store's writer consults before it claims messages
 * for the SIP queue, so that the operator never sees more than `rate` MESSAGEs per second on
 * average and at most `burst` back to back. A plain value with an injectable clock: every call
 * takes the time, so tests need no sleeping. Not thread-safe; one owner (the writer). */
#ifndef GW_GATEWAY_RATELIMIT_H
#define GW_GATEWAY_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct gw_ratelimit {
    unsigned rate;   /* messages per second; 0 = no limit */
    unsigned burst;  /* bucket size in messages */
    uint64_t milli;  /* tokens held, in thousandths of a message */
    int64_t last_ms; /* when milli was last refilled */
};

/* The burst used when none is given: a tenth of a second's worth, at least 1. */
unsigned gw_ratelimit_default_burst(unsigned rate);

/* Sets rl up for rate messages per second (0: unlimited) and a bucket of burst messages
 * (0: gw_ratelimit_default_burst), full at now_ms. */
void gw_ratelimit_init(struct gw_ratelimit *rl, unsigned rate, unsigned burst, int64_t now_ms);

/* Whole messages that may go at now_ms (SIZE_MAX when unlimited), without taking them. */
size_t gw_ratelimit_available(struct gw_ratelimit *rl, int64_t now_ms);

/* Takes n messages' tokens at now_ms; n must not exceed gw_ratelimit_available. */
void gw_ratelimit_take(struct gw_ratelimit *rl, size_t n, int64_t now_ms);

/* Milliseconds from now_ms until one message may go: 0 when one may go now or unlimited. */
int64_t gw_ratelimit_wait_ms(struct gw_ratelimit *rl, int64_t now_ms);

#endif
