/* Token bucket in integer thousandths of a message: a rate of r per second refills r
 * thousandths per millisecond, so no floating point and no drift. */
#include "gateway/ratelimit.h"

#define MILLI 1000u

unsigned gw_ratelimit_default_burst(unsigned rate)
{
    return rate / 10 > 1 ? rate / 10 : 1;
}

void gw_ratelimit_init(struct gw_ratelimit *rl, unsigned rate, unsigned burst, int64_t now_ms)
{
    rl->rate = rate;
    rl->burst = burst ? burst : gw_ratelimit_default_burst(rate);
    rl->milli = (uint64_t)rl->burst * MILLI;
    rl->last_ms = now_ms;
}

/* Adds the tokens earned since last_ms. A clock that steps back earns nothing. */
static void refill(struct gw_ratelimit *rl, int64_t now_ms)
{
    uint64_t cap = (uint64_t)rl->burst * MILLI;
    if (now_ms <= rl->last_ms) {
        if (now_ms < rl->last_ms)
            rl->last_ms = now_ms;
        return;
    }
    uint64_t elapsed = (uint64_t)(now_ms - rl->last_ms);
    rl->last_ms = now_ms;
    /* past a full bucket's worth of time the product could only overflow */
    if (elapsed >= cap / rl->rate + 1) {
        rl->milli = cap;
        return;
    }
    uint64_t m = rl->milli + elapsed * rl->rate;
    rl->milli = m < cap ? m : cap;
}

size_t gw_ratelimit_available(struct gw_ratelimit *rl, int64_t now_ms)
{
    if (rl->rate == 0)
        return SIZE_MAX;
    refill(rl, now_ms);
    return (size_t)(rl->milli / MILLI);
}

void gw_ratelimit_take(struct gw_ratelimit *rl, size_t n, int64_t now_ms)
{
    if (rl->rate == 0)
        return;
    refill(rl, now_ms);
    uint64_t want = (uint64_t)n * MILLI;
    rl->milli = want < rl->milli ? rl->milli - want : 0;
}

int64_t gw_ratelimit_wait_ms(struct gw_ratelimit *rl, int64_t now_ms)
{
    if (rl->rate == 0)
        return 0;
    refill(rl, now_ms);
    if (rl->milli >= MILLI)
        return 0;
    return (int64_t)((MILLI - rl->milli + rl->rate - 1) / rl->rate);
}
