/* Status lifecycle: the whole transition table, names round-trip, final states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "gateway/status.h"

static void transitions_table(void **state)
{
    (void)state;
    /* expected[from][to]: 1 = allowed */
    static const int expected[GW_STATUS_COUNT][GW_STATUS_COUNT] = {
        /* to: Q  S  Sent D  U  F  E  R  C */
        [GW_STATUS_QUEUED] = {0, 1, 0, 0, 0, 1, 1, 0, 1},
        [GW_STATUS_SENDING] = {1, 0, 1, 0, 0, 1, 1, 0, 0},
        [GW_STATUS_SENT] = {0, 0, 0, 1, 1, 0, 0, 0, 0},
        /* delivered, undelivered, failed, expired, received and cancelled go nowhere */
    };
    for (int from = 0; from < GW_STATUS_COUNT; from++) {
        for (int to = 0; to < GW_STATUS_COUNT; to++) {
            bool got = gw_status_can_move((enum gw_status)from, (enum gw_status)to);
            if (got != (expected[from][to] == 1))
                fail_msg("%s -> %s: got %d", gw_status_name((enum gw_status)from),
                         gw_status_name((enum gw_status)to), got);
        }
    }
    assert_false(gw_status_can_move((enum gw_status)99, GW_STATUS_SENT));
}

static void names_round_trip(void **state)
{
    (void)state;
    static const char *const want[] = {"queued", "sending", "sent",     "delivered", "undelivered",
                                       "failed", "expired", "received", "cancelled"};
    assert_int_equal(sizeof(want) / sizeof(want[0]), GW_STATUS_COUNT);
    for (int i = 0; i < GW_STATUS_COUNT; i++) {
        enum gw_status s;
        assert_string_equal(gw_status_name((enum gw_status)i), want[i]);
        assert_int_equal(gw_status_parse(want[i], &s), 0);
        assert_int_equal(s, i);
    }
    enum gw_status s = GW_STATUS_SENT;
    assert_int_not_equal(gw_status_parse("Sent", &s), 0);
    assert_int_equal(s, GW_STATUS_SENT);
    assert_string_equal(gw_status_name((enum gw_status)42), "unknown");
}

static void final_states(void **state)
{
    (void)state;
    assert_false(gw_status_is_final(GW_STATUS_QUEUED));
    assert_false(gw_status_is_final(GW_STATUS_SENDING));
    assert_false(gw_status_is_final(GW_STATUS_SENT));
    assert_true(gw_status_is_final(GW_STATUS_FAILED));
    assert_true(gw_status_is_final(GW_STATUS_EXPIRED));
    assert_true(gw_status_is_final(GW_STATUS_DELIVERED));
    assert_true(gw_status_is_final(GW_STATUS_RECEIVED));
    assert_true(gw_status_is_final(GW_STATUS_CANCELLED));
    assert_true(gw_status_is_final(GW_STATUS_UNDELIVERED));
    /* a cancelled message never goes out again */
    for (int to = 0; to < GW_STATUS_COUNT; to++)
        assert_false(gw_status_can_move(GW_STATUS_CANCELLED, (enum gw_status)to));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transitions_table),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(final_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
