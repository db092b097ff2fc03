/* Tests for http/query.c: the GET /messages query parameters (strict: unknown, repeated, empty
 * or malformed ones are invalid_parameter) and the RFC 3339 reader behind since. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/query.h"

#define ID "01JDQ7ZC0000000000000000AB"

static int parse1(const char *name, const char *value, struct gw_store_query *q,
                  struct gw_problem *p)
{
    struct gw_query_arg a = {.name = name, .value = value};
    return gw_query_list(&a, 1, false, q, p);
}

/* Expects name=value to be refused with the parameter named. */
static void bad(const char *name, const char *value)
{
    struct gw_store_query q;
    memset(&q, 0x5a, sizeof(q));
    struct gw_store_query before = q;
    struct gw_problem p;
    if (parse1(name, value, &q, &p) != EINVAL)
        fail_msg("accepted %s=%s", name, value ? value : "(none)");
    assert_int_equal(p.code, GW_PROB_INVALID_PARAMETER);
    assert_int_equal(gw_problem_status(p.code), 422);
    assert_string_equal(p.field, name);
    assert_memory_equal(&q, &before, sizeof(q)); /* out untouched */
}

static void defaults(void **state)
{
    (void)state;
    struct gw_store_query q;
    struct gw_problem p;
    assert_int_equal(gw_query_list(NULL, 0, false, &q, &p), 0);
    assert_false(q.has_status);
    assert_false(q.has_direction);
    assert_int_equal(q.since_ms, 0);
    assert_string_equal(q.cursor, "");
    assert_int_equal(q.limit, 50);
}

static void every_parameter(void **state)
{
    (void)state;
    struct gw_query_arg a[] = {
        {"status", "failed"},
        {"direction", "outbound"},
        {"limit", "200"},
        {"cursor", ID},
        {"since", "2025-11-26T07:30:50.123Z"},
    };
    struct gw_store_query q;
    struct gw_problem p;
    assert_int_equal(gw_query_list(a, 5, false, &q, &p), 0);
    assert_true(q.has_status);
    assert_int_equal(q.status, GW_STATUS_FAILED);
    assert_true(q.has_direction);
    assert_false(q.inbound);
    assert_int_equal(q.limit, 200);
    assert_string_equal(q.cursor, ID);
    assert_int_equal(q.since_ms, 1764142250123);
    assert_int_equal(parse1("direction", "inbound", &q, &p), 0);
    assert_true(q.inbound);
    assert_int_equal(parse1("status", "cancelled", &q, &p), 0);
    assert_int_equal(q.status, GW_STATUS_CANCELLED);
    assert_int_equal(parse1("limit", "1", &q, &p), 0);
    assert_int_equal(q.limit, 1);
}

static void refused(void **state)
{
    (void)state;
    bad("status", "Failed");
    bad("status", "dead");
    bad("status", "");
    bad("status", NULL);
    bad("direction", "both");
    bad("direction", "OUTBOUND");
    bad("limit", "0");
    bad("limit", "201");
    bad("limit", "-1");
    bad("limit", "+5");
    bad("limit", "1e2");
    bad("limit", "5 ");
    bad("limit", "99999999999999999999");
    bad("cursor", "abc");
    bad("cursor", "01jdq7zc0000000000000000ab");
    bad("since", "yesterday");
    bad("since", "1764142250123"); /* epoch milliseconds are not taken */
    bad("since", "2025-11-26");
    bad("sort", "id");
    bad("Status", "queued");
    bad("", "x");

    struct gw_query_arg twice[] = {{"limit", "5"}, {"limit", "6"}};
    struct gw_store_query q;
    struct gw_problem p;
    assert_int_equal(gw_query_list(twice, 2, false, &q, &p), EINVAL);
    assert_string_equal(p.field, "limit");
    assert_non_null(strstr(p.detail, "more than once"));
    struct gw_query_arg one[] = {{"limit", "5"}};
    assert_int_equal(gw_query_list(one, 1, true, &q, &p), EINVAL);
    assert_int_equal(p.code, GW_PROB_INVALID_PARAMETER);
    assert_string_equal(p.field, "");
    /* the detail never echoes control bytes */
    assert_int_equal(parse1("x\x01y", "1", &q, &p), EINVAL);
    assert_null(strchr(p.detail, '\x01'));
}

static int64_t t(const char *s)
{
    int64_t ms = -1;
    if (gw_query_time(s, &ms) != 0)
        fail_msg("refused %s", s);
    return ms;
}

static void bad_time(const char *s)
{
    int64_t ms = 42;
    if (gw_query_time(s, &ms) != EINVAL)
        fail_msg("accepted %s", s);
    assert_int_equal(ms, 42);
}

static void rfc3339(void **state)
{
    (void)state;
    assert_int_equal(t("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(t("2025-11-26T07:30:50Z"), 1764142250000);
    assert_int_equal(t("2025-11-26t07:30:50z"), 1764142250000);
    assert_int_equal(t("2025-11-26T07:30:50.1Z"), 1764142250100);
    assert_int_equal(t("2025-11-26T07:30:50.123456789Z"), 1764142250123);
    assert_int_equal(t("2025-11-26T09:30:50.123+02:00"), 1764142250123);
    assert_int_equal(t("2025-11-26T02:00:50.123-05:30"), 1764142250123);
    assert_int_equal(t("2025-11-26T09:30:50.123 02:00"), 1764142250123); /* "+" as a space */
    assert_int_equal(t("2024-02-29T00:00:00Z"), 1709164800000);          /* leap day */
    assert_int_equal(t("2000-02-29T23:59:60Z"), 951868800000);           /* leap second */
    assert_int_equal(t("1969-12-31T23:59:59Z"), 0);                      /* before: any */
    assert_int_equal(t("9999-12-31T23:59:59.999Z"), 253402300799999);
    bad_time("");
    bad_time("2025-11-26");
    bad_time("2025-11-26T07:30Z");
    bad_time("2025-11-26 07:30:50Z");
    bad_time("2025-11-26T07:30:50");
    bad_time("2025-11-26T07:30:50.Z");
    bad_time("2025-11-26T07:30:50Zx");
    bad_time("2025-13-01T00:00:00Z");
    bad_time("2025-00-01T00:00:00Z");
    bad_time("2025-02-29T00:00:00Z"); /* not a leap year */
    bad_time("1900-02-29T00:00:00Z");
    bad_time("2025-04-31T00:00:00Z");
    bad_time("2025-11-26T24:00:00Z");
    bad_time("2025-11-26T23:60:00Z");
    bad_time("2025-11-26T23:59:61Z");
    bad_time("2025-11-26T07:30:50+2:00");
    bad_time("2025-11-26T07:30:50+24:00");
    bad_time("2025-11-26T07:30:50+0200");
    bad_time("+2025-11-26T07:30:50Z");
    bad_time("2025-1-26T07:30:50Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(every_parameter),
        cmocka_unit_test(refused),
        cmocka_unit_test(rfc3339),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
