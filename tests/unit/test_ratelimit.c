/* Tests for gateway/ratelimit.c: the token bucket that paces claims for the SIP queue, driven
 * by a fake clock (every call takes the time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gateway/ratelimit.h"

static void unlimited(void **state)
{
    (void)state;
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 0, 0, 1000);
    assert_int_equal(gw_ratelimit_available(&rl, 1000), SIZE_MAX);
    gw_ratelimit_take(&rl, 1000000, 1000);
    assert_int_equal(gw_ratelimit_available(&rl, 1000), SIZE_MAX);
    assert_int_equal(gw_ratelimit_wait_ms(&rl, 1000), 0);
}

static void default_burst(void **state)
{
    (void)state;
    assert_int_equal(gw_ratelimit_default_burst(0), 1);
    assert_int_equal(gw_ratelimit_default_burst(1), 1);
    assert_int_equal(gw_ratelimit_default_burst(19), 1);
    assert_int_equal(gw_ratelimit_default_burst(50), 5);
    assert_int_equal(gw_ratelimit_default_burst(100), 10);
    assert_int_equal(gw_ratelimit_default_burst(1000), 100);
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 100, 0, 0);
    assert_int_equal(rl.burst, 10);
    assert_int_equal(gw_ratelimit_available(&rl, 0), 10); /* starts full */
}

/* 10 per second, burst 1: one message every 100 ms, never two at once. */
static void steady_pace(void **state)
{
    (void)state;
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 10, 0, 5000);
    assert_int_equal(gw_ratelimit_available(&rl, 5000), 1);
    gw_ratelimit_take(&rl, 1, 5000);
    assert_int_equal(gw_ratelimit_available(&rl, 5000), 0);
    assert_int_equal(gw_ratelimit_wait_ms(&rl, 5000), 100);
    assert_int_equal(gw_ratelimit_wait_ms(&rl, 5040), 60);
    assert_int_equal(gw_ratelimit_available(&rl, 5099), 0);
    assert_int_equal(gw_ratelimit_available(&rl, 5100), 1);
    assert_int_equal(gw_ratelimit_wait_ms(&rl, 5100), 0);
    /* idle for a minute: still only the burst */
    assert_int_equal(gw_ratelimit_available(&rl, 65100), 1);
}

/* A rate that does not divide 1000: the wait rounds up, no token is lost. */
static void fractional_rate(void **state)
{
    (void)state;
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 3, 1, 0);
    gw_ratelimit_take(&rl, 1, 0);
    assert_int_equal(gw_ratelimit_wait_ms(&rl, 0), 334);
    assert_int_equal(gw_ratelimit_available(&rl, 333), 0);
    assert_int_equal(gw_ratelimit_available(&rl, 334), 1);
    gw_ratelimit_take(&rl, 1, 334);
    /* the bucket holds one message at most: the 2 extra thousandths were not kept */
    assert_int_equal(gw_ratelimit_available(&rl, 667), 0);
    assert_int_equal(gw_ratelimit_available(&rl, 668), 1);
    /* below the cap a remainder is kept: 2.5 tokens' time with a bucket of 2 */
    gw_ratelimit_init(&rl, 3, 2, 0);
    gw_ratelimit_take(&rl, 2, 0);
    assert_int_equal(gw_ratelimit_available(&rl, 500), 1); /* 1500 thousandths */
    gw_ratelimit_take(&rl, 1, 500);
    assert_int_equal(gw_ratelimit_wait_ms(&rl, 500), 167); /* 500 left: 500 / 3 rounded up */
    assert_int_equal(gw_ratelimit_available(&rl, 667), 1);
}

/* Taking everything available every millisecond for 10 s gives burst + rate * 10. */
static void long_run_average(void **state)
{
    (void)state;
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 250, 0, 0);
    size_t total = 0;
    for (int64_t t = 0; t <= 10000; t++) {
        size_t n = gw_ratelimit_available(&rl, t);
        assert_true(n <= rl.burst);
        gw_ratelimit_take(&rl, n, t);
        total += n;
    }
    assert_int_equal(total, 25 + 250 * 10);
}

static void clock_steps(void **state)
{
    (void)state;
    struct gw_ratelimit rl;
    gw_ratelimit_init(&rl, 5, 2, 10000);
    gw_ratelimit_take(&rl, 2, 10000);
    /* the clock steps back: nothing is earned, and earning restarts from there */
    assert_int_equal(gw_ratelimit_available(&rl, 4000), 0);
    assert_int_equal(gw_ratelimit_available(&rl, 4199), 0);
    assert_int_equal(gw_ratelimit_available(&rl, 4200), 1);
    /* a huge step forward fills the bucket, no more, and does not overflow */
    assert_int_equal(gw_ratelimit_available(&rl, INT64_MAX / 2), 2);
    /* taking more than there is leaves an empty bucket, not a wrapped one */
    gw_ratelimit_take(&rl, 5, INT64_MAX / 2);
    assert_int_equal(gw_ratelimit_available(&rl, INT64_MAX / 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unlimited),        cmocka_unit_test(default_burst),
        cmocka_unit_test(steady_pace),      cmocka_unit_test(fractional_rate),
        cmocka_unit_test(long_run_average), cmocka_unit_test(clock_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
