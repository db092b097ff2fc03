/* Tests for gateway/outcome.c: final SIP answers to codes, retry decisions and advice, and the
 * Q.850 cause names. The expectations come from docs/protocol.md §4.2-4.4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gateway/outcome.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define NONE     (-1)

struct answer_case {
    int status;
    const char *proto; /* Reason protocol, NULL for none */
    int cause;
    int warning_code;
    const char *warning_text;
    int retry_after;
    const char *code;
    bool permanent;
    const char *advice_has; /* a word the advice must contain, or NULL */
};

static const struct answer_case answers[] = {
    /* plain statuses */
    {302, NULL, NONE, NONE, NULL, NONE, "routing_error", true, NULL},
    {400, NULL, NONE, NONE, NULL, NONE, "protocol_error", true, NULL},
    {401, NULL, NONE, NONE, NULL, NONE, "auth_failed", true, NULL},
    {407, NULL, NONE, NONE, NULL, NONE, "auth_failed", true, NULL},
    {904, NULL, NONE, NONE, NULL, NONE, "auth_failed", true, NULL},
    {403, NULL, NONE, NONE, NULL, NONE, "rejected", true, NULL},
    {404, NULL, NONE, NONE, NULL, NONE, "unknown_number", true, NULL},
    {604, NULL, NONE, NONE, NULL, NONE, "unknown_number", true, NULL},
    {410, NULL, NONE, NONE, NULL, NONE, "unknown_number", true, NULL},
    {484, NULL, NONE, NONE, NULL, NONE, "invalid_number", true, NULL},
    {485, NULL, NONE, NONE, NULL, NONE, "invalid_number", true, NULL},
    {408, NULL, NONE, NONE, NULL, NONE, "timeout", false, "duplicate"},
    {GW_SIP_NO_ANSWER, NULL, NONE, NONE, NULL, NONE, "timeout", false, "duplicate"},
    {413, NULL, NONE, NONE, NULL, NONE, "too_large", true, NULL},
    {413, NULL, NONE, NONE, NULL, 60, "too_large", false, "wait"},
    {513, NULL, NONE, NONE, NULL, NONE, "too_large", true, NULL},
    {415, NULL, NONE, NONE, NULL, NONE, "unsupported_content", true, NULL},
    {488, NULL, NONE, NONE, NULL, NONE, "unsupported_content", true, NULL},
    {606, NULL, NONE, NONE, NULL, NONE, "unsupported_content", true, NULL},
    {416, NULL, NONE, NONE, NULL, NONE, "config_error", true, NULL},
    {420, NULL, NONE, NONE, NULL, NONE, "config_error", true, NULL},
    {421, NULL, NONE, NONE, NULL, NONE, "config_error", true, NULL},
    {494, NULL, NONE, NONE, NULL, NONE, "config_error", true, NULL},
    {480, NULL, NONE, NONE, NULL, NONE, "recipient_unavailable", false, NULL},
    {486, NULL, NONE, NONE, NULL, NONE, "recipient_unavailable", false, NULL},
    {480, NULL, NONE, NONE, NULL, 30, "recipient_unavailable", false, "wait"},
    {482, NULL, NONE, NONE, NULL, NONE, "routing_error", true, NULL},
    {483, NULL, NONE, NONE, NULL, NONE, "routing_error", true, NULL},
    {500, NULL, NONE, NONE, NULL, NONE, "operator_unavailable", false, NULL},
    {502, NULL, NONE, NONE, NULL, NONE, "operator_unavailable", false, NULL},
    {503, NULL, NONE, NONE, NULL, NONE, "operator_unavailable", false, NULL},
    {503, NULL, NONE, NONE, NULL, 120, "operator_unavailable", false, "wait"},
    {504, NULL, NONE, NONE, NULL, NONE, "operator_unavailable", false, "duplicate"},
    {599, NULL, NONE, NONE, NULL, NONE, "operator_unavailable", false, NULL},
    {501, NULL, NONE, NONE, NULL, NONE, "unsupported", true, NULL},
    {603, NULL, NONE, NONE, NULL, NONE, "rejected", true, NULL},
    {600, NULL, NONE, NONE, NULL, NONE, "rejected", true, NULL},
    {607, NULL, NONE, NONE, NULL, NONE, "rejected", true, NULL},
    {699, NULL, NONE, NONE, NULL, NONE, "rejected", true, NULL},
    {499, NULL, NONE, NONE, NULL, NONE, "rejected", true, NULL},
    {404, NULL, NONE, NONE, NULL, 60, "unknown_number", true, NULL},
    {900, NULL, NONE, NONE, NULL, NONE, "gateway_error", true, NULL},
    {903, NULL, NONE, NONE, NULL, NONE, "gateway_error", true, NULL},
    {180, NULL, NONE, NONE, NULL, NONE, "gateway_error", true, NULL},
    {42, NULL, NONE, NONE, NULL, NONE, "gateway_error", true, NULL},
    {-5, NULL, NONE, NONE, NULL, NONE, "gateway_error", true, NULL},
    {777, NULL, NONE, NONE, NULL, NONE, "gateway_error", true, NULL},
    /* a Q.850 cause decides over the status */
    {403, "Q.850", 55, NONE, NULL, NONE, "barred", true, "Request-URI"},
    {403, "q.850", 55, NONE, NULL, NONE, "barred", true, "register"},
    {403, "Q.850", 87, NONE, NULL, NONE, "barred", true, NULL},
    {403, "Q.850", 52, NONE, NULL, NONE, "barred", true, NULL},
    {503, "Q.850", 88, NONE, NULL, NONE, "unsupported", true, NULL},
    {503, "Q.850", 88, NONE, NULL, 60, "unsupported", true, NULL},
    {480, "Q.850", 20, NONE, NULL, NONE, "recipient_unavailable", false, NULL},
    {403, "Q.850", 21, NONE, NULL, NONE, "rejected", true, NULL},
    {404, "Q.850", 50, NONE, NULL, NONE, "not_allowed", true, NULL},
    {503, "Q.850", 34, NONE, NULL, NONE, "network_busy", false, NULL},
    {503, "Q.850", 34, NONE, NULL, 10, "network_busy", false, "wait"},
    {503, "Q.850", 41, NONE, NULL, NONE, "network_error", false, NULL},
    {500, "Q.850", 111, NONE, NULL, NONE, "protocol_error", false, NULL},
    {504, "Q.850", 102, NONE, NULL, NONE, "timeout", false, "duplicate"},
    {480, "Q.850", 1, NONE, NULL, NONE, "unknown_number", true, NULL},
    {404, "Q.850", 3, NONE, NULL, NONE, "routing_error", true, NULL},
    /* causes that say nothing about the message, and bad causes, leave the status in charge */
    {403, "Q.850", 16, NONE, NULL, NONE, "rejected", true, NULL},
    {503, "Q.850", 200, NONE, NULL, NONE, "operator_unavailable", false, NULL},
    {503, "Q.850", 45, NONE, NULL, NONE, "operator_unavailable", false, NULL},
    {503, "Q.850", NONE, NONE, NULL, NONE, "operator_unavailable", false, NULL},
    /* a SIP Reason is not a network cause */
    {503, "SIP", 88, NONE, NULL, NONE, "operator_unavailable", false, NULL},
    {403, "SIP", 55, NONE, NULL, NONE, "rejected", true, NULL},
    {480, "", 88, NONE, NULL, NONE, "recipient_unavailable", false, NULL},
    /* Warning 399 "not registered" on a 403 */
    {403, NULL, NONE, 399, "User Not Registered", NONE, "not_registered", false, "register"},
    {403, "Q.850", 55, 399, "not registered", NONE, "not_registered", false, NULL},
    {403, NULL, NONE, 399, "forbidden by policy", NONE, "rejected", true, NULL},
    {403, NULL, NONE, 301, "not registered", NONE, "rejected", true, NULL},
    {480, NULL, NONE, 399, "not registered", NONE, "recipient_unavailable", false, NULL},
};

static void fill(struct gw_sip_answer *a, const struct answer_case *c)
{
    gw_sip_answer_init(a);
    a->status = c->status;
    if (c->proto)
        snprintf(a->reason_protocol, sizeof(a->reason_protocol), "%s", c->proto);
    a->reason_cause = c->cause;
    a->warning_code = c->warning_code;
    if (c->warning_text)
        snprintf(a->warning_text, sizeof(a->warning_text), "%s", c->warning_text);
    a->retry_after = c->retry_after;
}

/* True if the advice says whether a retry can help. */
static bool speaks_of_retry(const char *advice)
{
    return advice != NULL && strstr(advice, "retr") != NULL;
}

static void test_answer_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(answers); i++) {
        const struct answer_case *c = &answers[i];
        struct gw_sip_answer a;
        struct gw_outcome out;
        fill(&a, c);
        gw_outcome_classify(&a, &out);
        if (out.success || out.code == NULL || strcmp(out.code, c->code) != 0)
            fail_msg("row %zu (%d): code %s, want %s", i, c->status, out.code, c->code);
        if (out.permanent != c->permanent)
            fail_msg("row %zu (%d): permanent %d, want %d", i, c->status, out.permanent,
                     c->permanent);
        if (!speaks_of_retry(out.advice))
            fail_msg("row %zu (%d): advice does not speak of a retry: %s", i, c->status,
                     out.advice);
        if (c->advice_has && strcasestr(out.advice, c->advice_has) == NULL)
            fail_msg("row %zu (%d): advice lacks \"%s\": %s", i, c->status, c->advice_has,
                     out.advice);
    }
}

/* Every stable code appears in the table above, so each has at least one checked answer. */
static void test_every_code_covered(void **state)
{
    static const char *const codes[] = {
        "barred",
        "unknown_number",
        "invalid_number",
        "auth_failed",
        "not_registered",
        "operator_unavailable",
        "timeout",
        "rejected",
        "too_large",
        "unsupported_content",
        "recipient_unavailable",
        "routing_error",
        "not_allowed",
        "unsupported",
        "network_busy",
        "network_error",
        "protocol_error",
        "gateway_error",
        "config_error",
    };
    (void)state;
    for (size_t i = 0; i < COUNT(codes); i++) {
        bool found = false;
        for (size_t j = 0; j < COUNT(answers) && !found; j++)
            found = strcmp(answers[j].code, codes[i]) == 0;
        if (!found)
            fail_msg("code %s has no test row", codes[i]);
    }
}

static void test_success(void **state)
{
    static const int ok[] = {200, 202, 299};
    (void)state;
    for (size_t i = 0; i < COUNT(ok); i++) {
        struct gw_sip_answer a;
        struct gw_outcome out = {.code = "x", .advice = "x", .permanent = true};
        gw_sip_answer_init(&a);
        a.status = ok[i];
        /* a cause on a 2xx changes nothing */
        snprintf(a.reason_protocol, sizeof(a.reason_protocol), "Q.850");
        a.reason_cause = 55;
        gw_outcome_classify(&a, &out);
        assert_true(out.success);
        assert_null(out.code);
        assert_null(out.advice);
        assert_false(out.permanent);
    }
}

static void test_init(void **state)
{
    struct gw_sip_answer a;
    (void)state;
    memset(&a, 0x5a, sizeof(a));
    gw_sip_answer_init(&a);
    assert_int_equal(a.status, 0);
    assert_string_equal(a.phrase, "");
    assert_string_equal(a.call_id, "");
    assert_string_equal(a.reason_protocol, "");
    assert_int_equal(a.reason_cause, -1);
    assert_string_equal(a.reason_text, "");
    assert_int_equal(a.warning_code, -1);
    assert_string_equal(a.warning_text, "");
    assert_int_equal(a.retry_after, -1);
}

/* Every status, with and without Retry-After, gives a code and advice that speaks of a retry. */
static void test_every_status_has_advice(void **state)
{
    (void)state;
    for (int status = -1; status <= 1000; status++) {
        for (int ra = -1; ra <= 0; ra++) {
            struct gw_sip_answer a;
            struct gw_outcome out;
            gw_sip_answer_init(&a);
            a.status = status;
            a.retry_after = ra;
            gw_outcome_classify(&a, &out);
            if (status >= 200 && status <= 299) {
                assert_true(out.success);
                continue;
            }
            assert_false(out.success);
            assert_non_null(out.code);
            if (!speaks_of_retry(out.advice))
                fail_msg("status %d: advice %s", status, out.advice);
        }
    }
}

/* The Q.850 causes of protocol.md §4.2, with what each must mean. code NULL: the cause says
 * nothing about the message and the status (here 503) decides. */
struct cause_case {
    int cause;
    const char *code;
    bool permanent;
};

static const struct cause_case cause_cases[] = {
    {1, "unknown_number", true},
    {2, "routing_error", true},
    {3, "routing_error", true},
    {4, "unknown_number", true},
    {5, "invalid_number", true},
    {6, "network_error", true},
    {7, "network_error", true},
    {8, "network_busy", false},
    {9, "network_busy", false},
    {14, "routing_error", true},
    {16, NULL, false},
    {17, "recipient_unavailable", false},
    {18, "recipient_unavailable", false},
    {19, "recipient_unavailable", false},
    {20, "recipient_unavailable", false},
    {21, "rejected", true},
    {22, "unknown_number", true},
    {23, "unknown_number", true},
    {24, "rejected", true},
    {25, "routing_error", true},
    {26, NULL, false},
    {27, "recipient_unavailable", false},
    {28, "invalid_number", true},
    {29, "rejected", true},
    {30, NULL, false},
    {31, "recipient_unavailable", false},
    {34, "network_busy", false},
    {38, "network_error", false},
    {39, NULL, false},
    {40, NULL, false},
    {41, "network_error", false},
    {42, "network_busy", false},
    {43, "network_error", true},
    {44, "network_busy", false},
    {46, "network_busy", false},
    {47, "network_busy", false},
    {49, "network_error", false},
    {50, "not_allowed", true},
    {52, "barred", true},
    {53, "barred", true},
    {54, "barred", true},
    {55, "barred", true},
    {57, "not_allowed", true},
    {58, "network_busy", false},
    {62, "not_allowed", true},
    {63, "not_allowed", true},
    {65, "unsupported", true},
    {66, "unsupported", true},
    {69, "unsupported", true},
    {70, "unsupported", true},
    {79, "unsupported", true},
    {81, "protocol_error", true},
    {82, "protocol_error", true},
    {83, "protocol_error", true},
    {84, "protocol_error", true},
    {85, "protocol_error", true},
    {86, "protocol_error", true},
    {87, "barred", true},
    {88, "unsupported", true},
    {90, "not_allowed", true},
    {91, "routing_error", true},
    {95, "protocol_error", true},
    {96, "protocol_error", true},
    {97, "protocol_error", true},
    {98, "protocol_error", true},
    {99, "protocol_error", true},
    {100, "protocol_error", true},
    {101, "protocol_error", true},
    {102, "timeout", false},
    {103, "protocol_error", true},
    {110, "protocol_error", true},
    {111, "protocol_error", false},
    {127, "network_error", false},
};

static void test_causes(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(cause_cases); i++) {
        const struct cause_case *c = &cause_cases[i];
        struct gw_sip_answer a;
        struct gw_outcome out;
        gw_sip_answer_init(&a);
        a.status = 503;
        snprintf(a.reason_protocol, sizeof(a.reason_protocol), "Q.850");
        a.reason_cause = c->cause;
        gw_outcome_classify(&a, &out);
        const char *name = gw_q850_name(c->cause);
        if (name == NULL || name[0] == '\0')
            fail_msg("cause %d has no name", c->cause);
        const char *want = c->code ? c->code : "operator_unavailable";
        if (out.code == NULL || strcmp(out.code, want) != 0)
            fail_msg("cause %d: code %s, want %s", c->cause, out.code, want);
        if (c->code && out.permanent != c->permanent)
            fail_msg("cause %d: permanent %d, want %d", c->cause, out.permanent, c->permanent);
        if (!speaks_of_retry(out.advice))
            fail_msg("cause %d: advice %s", c->cause, out.advice);
    }
}

static void test_q850_names(void **state)
{
    static const struct {
        int cause;
        const char *name;
    } names[] = {
        {1, "Unallocated (unassigned) number"},
        {39, "Permanent frame mode connection out of service"},
        {40, "Permanent frame mode connection operational"},
        {52, "Outgoing calls barred"},
        {53, "Outgoing calls barred within CUG"},
        {54, "Incoming calls barred"},
        {55, "Incoming calls barred within CUG"},
        {82, "Identified channel does not exist"},
        {83, "A suspended call exists, but this call identity does not"},
        {84, "Call identity in use"},
        {85, "No call suspended"},
        {86, "Call having the requested call identity has been cleared"},
        {88, "Incompatible destination"},
        {127, "Interworking, unspecified"},
    };
    static const int unknown[] = {-1, 0, 10, 15, 32, 45, 128, 255, 1000};
    (void)state;
    for (size_t i = 0; i < COUNT(names); i++) {
        const char *got = gw_q850_name(names[i].cause);
        assert_non_null(got);
        assert_string_equal(got, names[i].name);
    }
    for (size_t i = 0; i < COUNT(unknown); i++)
        assert_null(gw_q850_name(unknown[i]));
}

/* Advice for cause 55 names both usual reasons: our registration and the Request-URI. */
static void test_cause55_advice(void **state)
{
    struct gw_sip_answer a;
    struct gw_outcome out;
    (void)state;
    gw_sip_answer_init(&a);
    a.status = 403;
    snprintf(a.reason_protocol, sizeof(a.reason_protocol), "Q.850");
    a.reason_cause = 55;
    snprintf(a.reason_text, sizeof(a.reason_text), "Call Terminated");
    gw_outcome_classify(&a, &out);
    assert_string_equal(out.code, "barred");
    assert_true(out.permanent);
    assert_non_null(strstr(out.advice, "register"));
    assert_non_null(strstr(out.advice, "Request-URI"));
    assert_non_null(strstr(out.advice, "recipient"));
}

/* Fields that are not terminated are read within their size and ignored. */
static void test_unterminated_fields(void **state)
{
    struct gw_sip_answer a;
    struct gw_outcome out;
    (void)state;
    gw_sip_answer_init(&a);
    a.status = 403;
    a.warning_code = 399;
    memset(a.warning_text, 'x', sizeof(a.warning_text));
    memcpy(a.warning_text, "not registered", strlen("not registered"));
    memcpy(a.reason_protocol, "Q.850", strlen("Q.850"));
    memset(a.reason_protocol + 5, 'x', sizeof(a.reason_protocol) - 5);
    a.reason_cause = 55;
    gw_outcome_classify(&a, &out);
    assert_string_equal(out.code, "rejected");
    assert_true(out.permanent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_success),
        cmocka_unit_test(test_answer_table),
        cmocka_unit_test(test_every_code_covered),
        cmocka_unit_test(test_every_status_has_advice),
        cmocka_unit_test(test_causes),
        cmocka_unit_test(test_q850_names),
        cmocka_unit_test(test_cause55_advice),
        cmocka_unit_test(test_unterminated_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
