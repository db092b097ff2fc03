/* Tests for gateway/breaker.c: which outcomes count against the operator, and the closed ->
 * open -> probing -> closed cycle with a doubling, capped pause, on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/breaker.h"

static bool counts(int status, int cause)
{
    struct gw_sip_answer a;
    gw_sip_answer_init(&a);
    a.status = status;
    if (cause >= 0) {
        snprintf(a.reason_protocol, sizeof(a.reason_protocol), "Q.850");
        a.reason_cause = cause;
    }
    struct gw_outcome oc;
    gw_outcome_classify(&a, &oc);
    return gw_breaker_counts(&oc);
}

static void what_counts(void **state)
{
    (void)state;
    assert_true(counts(503, -1));              /* operator_unavailable */
    assert_true(counts(500, -1));              /* operator_unavailable */
    assert_true(counts(504, -1));              /* operator timed out */
    assert_true(counts(408, -1));              /* timeout */
    assert_true(counts(GW_SIP_NO_ANSWER, -1)); /* our own deadline */
    assert_true(counts(503, 34));              /* network_busy */
    assert_true(counts(503, 38));              /* network_error */
    assert_false(counts(200, -1));
    assert_false(counts(202, -1));
    assert_false(counts(404, -1)); /* the operator answered: the number is unknown */
    assert_false(counts(403, 55)); /* barred: permanent */
    assert_false(counts(480, -1)); /* the recipient, not the operator */
    assert_false(counts(486, -1));
    assert_false(counts(503, 6)); /* network_error but permanent */
    struct gw_outcome oc = {.success = false, .code = NULL, .permanent = false};
    assert_false(gw_breaker_counts(&oc));
}

static void op_fail(struct gw_breaker *b, int64_t t)
{
    gw_breaker_record(b, true, false, "operator_unavailable", t);
}

static void opens_probes_closes(void **state)
{
    (void)state;
    struct gw_breaker b;
    gw_breaker_init(&b, 3, 1000, 4000, 10000);
    assert_int_equal(gw_breaker_allow(&b, 0), SIZE_MAX);
    op_fail(&b, 0);
    op_fail(&b, 1);
    gw_breaker_record(&b, false, false, "", 2); /* a success in between resets the count */
    op_fail(&b, 3);
    op_fail(&b, 4);
    assert_int_equal(b.state, GW_BREAKER_CLOSED);
    assert_int_equal(gw_breaker_allow(&b, 4), SIZE_MAX);
    op_fail(&b, 5); /* the third in a row */
    assert_int_equal(b.state, GW_BREAKER_OPEN);
    assert_string_equal(b.last_code, "operator_unavailable");
    assert_int_equal(b.until_ms, 1005);
    assert_int_equal(gw_breaker_allow(&b, 1004), 0);
    /* attempts still out when it opened do not stretch the pause */
    op_fail(&b, 600);
    assert_int_equal(b.until_ms, 1005);
    assert_int_equal(gw_breaker_allow(&b, 1005), 1);
    assert_int_equal(gw_breaker_allow(&b, 1500), 1); /* nothing was due: still one */
    gw_breaker_probe_sent(&b, 1500);
    assert_int_equal(b.state, GW_BREAKER_PROBING);
    assert_int_equal(gw_breaker_allow(&b, 1501), 0);
    op_fail(&b, 1600); /* not the probe */
    assert_int_equal(b.state, GW_BREAKER_PROBING);
    /* the probe fails: paused twice as long */
    gw_breaker_record(&b, true, true, "timeout", 2000);
    assert_int_equal(b.state, GW_BREAKER_OPEN);
    assert_int_equal(b.until_ms, 4000);
    assert_string_equal(b.last_code, "timeout");
    /* and again: 4000, then the cap */
    assert_int_equal(gw_breaker_allow(&b, 4000), 1);
    gw_breaker_probe_sent(&b, 4000);
    gw_breaker_record(&b, true, true, "timeout", 4100);
    assert_int_equal(b.until_ms, 8100);
    gw_breaker_probe_sent(&b, 8100);
    gw_breaker_record(&b, true, true, "timeout", 8200);
    assert_int_equal(b.until_ms, 12200);
    /* the probe gets through: closed, and the next opening starts at the base again */
    gw_breaker_probe_sent(&b, 12200);
    gw_breaker_record(&b, false, true, "", 12300);
    assert_int_equal(b.state, GW_BREAKER_CLOSED);
    assert_int_equal(gw_breaker_allow(&b, 12300), SIZE_MAX);
    op_fail(&b, 13000);
    op_fail(&b, 13001);
    op_fail(&b, 13002);
    assert_int_equal(b.until_ms, 14002);
}

/* Any answer that is not an operator failure shows the operator is up. */
static void other_answer_closes(void **state)
{
    (void)state;
    struct gw_breaker b;
    gw_breaker_init(&b, 1, 1000, 30000, 10000);
    op_fail(&b, 0);
    assert_int_equal(b.state, GW_BREAKER_OPEN);
    gw_breaker_record(&b, false, false, "unknown_number", 10); /* a 404 from the operator */
    assert_int_equal(b.state, GW_BREAKER_CLOSED);
    assert_int_equal(gw_breaker_allow(&b, 10), SIZE_MAX);
}

/* A probe whose outcome never comes counts as failed at its timeout. */
static void lost_probe(void **state)
{
    (void)state;
    struct gw_breaker b;
    gw_breaker_init(&b, 1, 1000, 30000, 5000);
    op_fail(&b, 0);
    assert_int_equal(gw_breaker_allow(&b, 1000), 1);
    gw_breaker_probe_sent(&b, 1000);
    assert_int_equal(gw_breaker_allow(&b, 5999), 0);
    assert_int_equal(b.state, GW_BREAKER_PROBING);
    assert_int_equal(gw_breaker_allow(&b, 6000), 0);
    assert_int_equal(b.state, GW_BREAKER_OPEN);
    assert_string_equal(b.last_code, "probe_lost");
    assert_int_equal(b.until_ms, 8000);
    assert_int_equal(gw_breaker_allow(&b, 8000), 1);
    /* a probe whose claim was rolled back: the next message due is the probe at once */
    gw_breaker_probe_sent(&b, 8000);
    gw_breaker_probe_withdrawn(&b, 8001);
    assert_int_equal(b.state, GW_BREAKER_OPEN);
    assert_int_equal(gw_breaker_allow(&b, 8001), 1);
    assert_int_equal(b.pause_ms, 2000);   /* not counted as a failure */
    gw_breaker_probe_withdrawn(&b, 8002); /* only while probing */
    assert_int_equal(b.until_ms, 8001);
}

static void disabled_and_limits(void **state)
{
    (void)state;
    struct gw_breaker b;
    gw_breaker_init(&b, 0, 1000, 30000, 5000);
    for (int i = 0; i < 100; i++)
        op_fail(&b, i);
    assert_int_equal(b.state, GW_BREAKER_CLOSED);
    assert_int_equal(gw_breaker_allow(&b, 100), SIZE_MAX);
    /* probe_sent outside OPEN changes nothing */
    gw_breaker_probe_sent(&b, 100);
    assert_int_equal(b.state, GW_BREAKER_CLOSED);
    /* a cap below the base is raised to it */
    gw_breaker_init(&b, 1, 2000, 10, 5000);
    op_fail(&b, 0);
    assert_int_equal(b.until_ms, 2000);
    gw_breaker_probe_sent(&b, 2000);
    gw_breaker_record(&b, true, true, "timeout", 2000);
    assert_int_equal(b.until_ms, 4000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(what_counts),         cmocka_unit_test(opens_probes_closes),
        cmocka_unit_test(other_answer_closes), cmocka_unit_test(lost_probe),
        cmocka_unit_test(disabled_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
