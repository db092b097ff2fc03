/* Tests for the error side of the HTTP API: the one problem table (http/problem.c), the
 * problem+json body, the replies built from store results (http/handlers.c: submissions and
 * cancellations) and the route table that decides 404 and 405 (http/routes.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "gateway/log.h"
#include "gateway/registration.h"
#include "http/handlers.h"
#include "http/problem.h"
#include "http/routes.h"

#define ID "01JDQ7ZC0000000000000000AB"

static void table_is_complete(void **state)
{
    (void)state;
    for (int i = 0; i < GW_PROB_COUNT; i++) {
        enum gw_problem_code c = (enum gw_problem_code)i;
        unsigned status = gw_problem_status(c);
        assert_true(status >= 400 && status <= 599);
        assert_non_null(gw_problem_name(c));
        assert_non_null(gw_problem_title(c));
        assert_true(strlen(gw_problem_title(c)) > 0);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(gw_problem_name(c), gw_problem_name((enum gw_problem_code)j));
        /* 503 always tells the client when to come back */
        assert_int_equal(status == 503, gw_problem_retry_after(c) > 0);
    }
}

static void table_mapping(void **state)
{
    (void)state;
    static const struct {
        enum gw_problem_code code;
        const char *name;
        unsigned status;
    } want[] = {
        {GW_PROB_INVALID_JSON, "invalid_json", 400},
        {GW_PROB_BODY_MUST_BE_OBJECT, "body_must_be_object", 422},
        {GW_PROB_UNKNOWN_FIELD, "unknown_field", 422},
        {GW_PROB_MISSING_FIELD, "missing_field", 422},
        {GW_PROB_WRONG_TYPE, "wrong_type", 422},
        {GW_PROB_INVALID_NUMBER, "invalid_number", 422},
        {GW_PROB_INVALID_TEXT, "invalid_text", 422},
        {GW_PROB_EMPTY_TEXT, "empty_text", 422},
        {GW_PROB_TEXT_TOO_LONG, "text_too_long", 422},
        {GW_PROB_OUT_OF_RANGE, "out_of_range", 422},
        {GW_PROB_INVALID_REFERENCE, "invalid_reference", 422},
        {GW_PROB_SENDER_NOT_ALLOWED, "sender_not_allowed", 403},
        {GW_PROB_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415},
        {GW_PROB_BODY_TOO_LARGE, "body_too_large", 413},
        {GW_PROB_INVALID_IDEMPOTENCY_KEY, "invalid_idempotency_key", 400},
        {GW_PROB_IDEMPOTENCY_KEY_REUSED, "idempotency_key_reused", 422},
        {GW_PROB_UNAUTHORIZED, "unauthorized", 401},
        {GW_PROB_NOT_FOUND, "not_found", 404},
        {GW_PROB_METHOD_NOT_ALLOWED, "method_not_allowed", 405},
        {GW_PROB_OVERLOADED, "overloaded", 503},
        {GW_PROB_STORE_UNAVAILABLE, "store_unavailable", 503},
        {GW_PROB_INVALID_PARAMETER, "invalid_parameter", 422},
        {GW_PROB_NOT_CANCELLABLE, "not_cancellable", 409},
        {GW_PROB_TOO_LARGE_FOR_UDP, "too_large_for_udp", 413},
        {GW_PROB_AMBIGUOUS_LENGTH, "ambiguous_length", 400},
        {GW_PROB_INTERNAL_ERROR, "internal_error", 500},
    };
    assert_int_equal(sizeof(want) / sizeof(want[0]), GW_PROB_COUNT);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_string_equal(gw_problem_name(want[i].code), want[i].name);
        assert_int_equal(gw_problem_status(want[i].code), want[i].status);
    }
    assert_int_equal(gw_problem_retry_after(GW_PROB_OVERLOADED), 1);
    assert_int_equal(gw_problem_retry_after(GW_PROB_NOT_FOUND), 0);
}

static json_t *load(const char *s, size_t len)
{
    json_error_t je;
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        fail_msg("not JSON: %s", je.text);
    return j;
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static void body_with_field(void **state)
{
    (void)state;
    struct gw_problem p;
    gw_problem_set(&p, GW_PROB_INVALID_NUMBER, "to", "to must be %s", "E.164");
    char *s = NULL;
    size_t len = 0;
    assert_int_equal(gw_problem_body(&p, &s, &len), 0);
    json_t *j = load(s, len);
    free(s);
    assert_string_equal(str(j, "type"), GW_PROBLEM_TYPE_BASE "invalid_number");
    assert_string_equal(str(j, "title"), gw_problem_title(GW_PROB_INVALID_NUMBER));
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 422);
    assert_string_equal(str(j, "detail"), "to must be E.164");
    assert_string_equal(str(j, "code"), "invalid_number");
    json_t *errors = json_object_get(j, "errors");
    assert_int_equal(json_array_size(errors), 1);
    assert_string_equal(str(json_array_get(errors, 0), "field"), "to");
    assert_string_equal(str(json_array_get(errors, 0), "code"), "invalid_number");
    assert_int_equal(json_object_size(j), 6);
    json_decref(j);
}

static void body_without_field(void **state)
{
    (void)state;
    struct gw_problem p;
    gw_problem_set(&p, GW_PROB_UNAUTHORIZED, NULL, "key \x01\xff needed");
    assert_string_equal(p.detail, "key ?? needed");
    char *s = NULL;
    size_t len = 0;
    assert_int_equal(gw_problem_body(&p, &s, &len), 0);
    json_t *j = load(s, len);
    free(s);
    assert_null(json_object_get(j, "errors"));
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 401);
    assert_int_equal(json_object_size(j), 5);
    json_decref(j);

    /* a detail longer than the buffer is cut, not overflowed */
    char big[1000];
    memset(big, 'd', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    gw_problem_set(&p, GW_PROB_INVALID_JSON, NULL, "%s", big);
    assert_int_equal(strlen(p.detail), GW_PROBLEM_DETAIL_LEN - 1);
}

static void replies(void **state)
{
    (void)state;
    struct gw_reply r;
    memset(&r, 0, sizeof(r));
    gw_reply_error(&r, GW_PROB_UNAUTHORIZED, "no key");
    assert_int_equal(r.status, 401);
    assert_true(r.problem);
    assert_true(r.challenge);
    assert_int_equal(r.retry_after, 0);
    json_t *j = load(r.body, r.len);
    assert_string_equal(str(j, "code"), "unauthorized");
    json_decref(j);

    gw_handlers_submit_failed(EAGAIN, &r);
    assert_int_equal(r.status, 503);
    assert_false(r.challenge);
    assert_int_equal(r.retry_after, 1);
    j = load(r.body, r.len);
    assert_string_equal(str(j, "code"), "overloaded");
    json_decref(j);

    gw_handlers_submit_failed(ESHUTDOWN, &r);
    assert_int_equal(r.status, 503);
    assert_true(r.retry_after > 0);
    j = load(r.body, r.len);
    assert_string_equal(str(j, "code"), "store_unavailable");
    json_decref(j);
    gw_reply_clear(&r);
    assert_null(r.body);
}

static void stored_replies(void **state)
{
    (void)state;
    struct gw_msg_view *v = calloc(1, sizeof(*v));
    assert_non_null(v);
    snprintf(v->id, sizeof(v->id), ID);
    snprintf(v->to, sizeof(v->to), "+4915112345678");
    v->created_at_ms = 1;
    struct gw_reply r;
    memset(&r, 0, sizeof(r));

    gw_handlers_stored(0, v, &r);
    assert_int_equal(r.status, 202);
    assert_false(r.problem);
    assert_false(r.replayed);
    assert_string_equal(r.location, "/messages/" ID);
    json_t *j = load(r.body, r.len);
    assert_string_equal(str(j, "id"), ID);
    assert_string_equal(str(j, "status"), "queued");
    json_decref(j);

    gw_handlers_stored(EEXIST, v, &r);
    assert_int_equal(r.status, 202);
    assert_true(r.replayed);
    assert_string_equal(r.location, "/messages/" ID);

    gw_handlers_stored(EBADMSG, NULL, &r);
    assert_int_equal(r.status, 422);
    assert_true(r.problem);
    assert_false(r.replayed);
    assert_string_equal(r.location, "");
    j = load(r.body, r.len);
    assert_string_equal(str(j, "code"), "idempotency_key_reused");
    json_decref(j);

    gw_handlers_stored(EIO, NULL, &r);
    assert_int_equal(r.status, 503);
    assert_true(r.retry_after > 0);
    j = load(r.body, r.len);
    assert_string_equal(str(j, "code"), "store_unavailable");
    json_decref(j);
    gw_reply_clear(&r);
    free(v);
}

static void cancel_replies(void **state)
{
    (void)state;
    struct gw_msg_view *v = calloc(1, sizeof(*v));
    assert_non_null(v);
    snprintf(v->id, sizeof(v->id), ID);
    snprintf(v->to, sizeof(v->to), "+4915112345678");
    snprintf(v->text, sizeof(v->text), "hi");
    v->text_len = 2;
    v->status = GW_STATUS_CANCELLED;
    v->created_at_ms = 1;
    snprintf(v->error_code, sizeof(v->error_code), "timeout"); /* a retry was pending */
    struct gw_reply r;
    memset(&r, 0, sizeof(r));

    gw_handlers_cancelled(0, v, &r);
    assert_int_equal(r.status, 200);
    assert_false(r.problem);
    json_t *j = load(r.body, r.len);
    assert_string_equal(str(j, "id"), ID);
    assert_string_equal(str(j, "status"), "cancelled");
    assert_string_equal(str(j, "text"), "hi");
    assert_true(json_is_null(json_object_get(j, "error"))); /* withdrawn, not an error */
    assert_null(json_object_get(j, "events"));              /* a summary */
    json_decref(j);

    gw_handlers_cancelled(EALREADY, v, &r); /* a repeated DELETE answers the same */
    assert_int_equal(r.status, 200);

    v->status = GW_STATUS_SENDING;
    gw_handlers_cancelled(EBUSY, v, &r);
    assert_int_equal(r.status, 409);
    assert_true(r.problem);
    j = load(r.body, r.len);
    assert_string_equal(str(j, "code"), "not_cancellable");
    assert_non_null(strstr(str(j, "detail"), "sending"));
    json_decref(j);

    gw_handlers_cancelled(ENOENT, NULL, &r);
    assert_int_equal(r.status, 404);
    gw_handlers_cancelled(EIO, NULL, &r);
    assert_int_equal(r.status, 503);
    assert_true(r.retry_after > 0);
    gw_reply_clear(&r);
    free(v);
}

/* /health is 200 only when the registration is ready and the store healthy. */
static void health_rule(void **state)
{
    (void)state;
    struct gw_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.limits.queue_depth = 10;
    struct gw_registration *reg = NULL;
    assert_int_equal(gw_registration_create(&reg, GW_REG_REGISTERED), 0);
    struct gw_http_deps d = {.cfg = &cfg, .store = NULL, .reg = reg, .queue = NULL};
    struct gw_reply r;
    memset(&r, 0, sizeof(r));

    gw_handlers_health(&d, GW_ROUTE_HEALTH_LIVE, &r);
    assert_int_equal(r.status, 200);
    json_t *j = load(r.body, r.len);
    assert_string_equal(str(j, "status"), "ok");
    json_decref(j);

    /* no store: not healthy */
    gw_handlers_health(&d, GW_ROUTE_HEALTH, &r);
    assert_int_equal(r.status, 503);
    assert_false(r.problem);
    j = load(r.body, r.len);
    assert_string_equal(str(j, "status"), "degraded");
    assert_string_equal(str(json_object_get(j, "registration"), "state"), "registered");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "queue"), "capacity")),
                     10);
    json_t *dispatch = json_object_get(j, "dispatch");
    assert_true(json_is_false(json_object_get(dispatch, "paused")));
    assert_true(json_is_null(json_object_get(dispatch, "reason")));
    assert_true(json_is_null(json_object_get(dispatch, "until")));
    json_decref(j);
    gw_handlers_health(&d, GW_ROUTE_HEALTH_READY, &r);
    assert_int_equal(r.status, 503);

    gw_handlers_registrations(&d, &r);
    assert_int_equal(r.status, 200);
    j = load(r.body, r.len);
    assert_string_equal(str(j, "state"), "registered");
    json_decref(j);
    gw_reply_clear(&r);
    gw_registration_free(reg);
}

static void route(const char *method, const char *url, enum gw_route want, bool ok,
                  const char *allow)
{
    struct gw_route_match m;
    gw_routes_match(method, url, &m);
    if (m.route != want || (want != GW_ROUTE_NONE && m.method_ok != ok))
        fail_msg("%s %s: route %d ok %d, want %d %d", method, url, m.route, m.method_ok, want, ok);
    if (allow)
        assert_string_equal(m.allow, allow);
    else
        assert_null(m.allow);
}

static void routes(void **state)
{
    (void)state;
    route("POST", "/messages", GW_ROUTE_MESSAGES, true, "GET, HEAD, POST");
    route("GET", "/messages", GW_ROUTE_LIST_MESSAGES, true, "GET, HEAD, POST");
    route("HEAD", "/messages", GW_ROUTE_LIST_MESSAGES, true, "GET, HEAD, POST");
    route("PUT", "/messages", GW_ROUTE_LIST_MESSAGES, false, "GET, HEAD, POST");
    route("DELETE", "/messages", GW_ROUTE_LIST_MESSAGES, false, "GET, HEAD, POST");
    route("GET", "/messages/" ID, GW_ROUTE_MESSAGE, true, "GET, HEAD, DELETE");
    route("HEAD", "/messages/" ID, GW_ROUTE_MESSAGE, true, "GET, HEAD, DELETE");
    route("DELETE", "/messages/" ID, GW_ROUTE_CANCEL, true, "GET, HEAD, DELETE");
    route("POST", "/messages/" ID, GW_ROUTE_MESSAGE, false, "GET, HEAD, DELETE");
    route("PATCH", "/messages/" ID, GW_ROUTE_MESSAGE, false, "GET, HEAD, DELETE");
    route("delete", "/messages/" ID, GW_ROUTE_MESSAGE, false, "GET, HEAD, DELETE");
    route("DELETE", "/health", GW_ROUTE_HEALTH, false, "GET, HEAD");
    route("GET", "/registrations", GW_ROUTE_REGISTRATIONS, true, "GET, HEAD");
    route("GET", "/health", GW_ROUTE_HEALTH, true, "GET, HEAD");
    route("GET", "/health/live", GW_ROUTE_HEALTH_LIVE, true, "GET, HEAD");
    route("GET", "/health/ready", GW_ROUTE_HEALTH_READY, true, "GET, HEAD");
    route("POST", "/health", GW_ROUTE_HEALTH, false, "GET, HEAD");
    /* row 48/49: anything else is 404 */
    static const char *const none[] = {
        "/",         "/messages/",         "/messages/" ID "/",  "/messages/" ID "x",
        "/Messages", "//messages",         "/messages/../admin", "/messages/abc",
        "/health/",  "/messages/" ID "?x", "/v1/messages",       "",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        route("GET", none[i], GW_ROUTE_NONE, false, NULL);
    /* an id in lower case or with letters outside Crockford's alphabet */
    route("GET", "/messages/01jdq7zc0000000000000000ab", GW_ROUTE_NONE, false, NULL);
    route("GET", "/messages/01JDQ7ZC0000000000000000AU", GW_ROUTE_NONE, false, NULL);

    struct gw_route_match m;
    gw_routes_match("GET", "/messages/" ID, &m);
    assert_string_equal(m.id, ID);
    gw_routes_match("DELETE", "/messages/" ID, &m);
    assert_string_equal(m.id, ID);
    assert_true(gw_routes_takes_body(GW_ROUTE_MESSAGES));
    assert_false(gw_routes_takes_body(GW_ROUTE_MESSAGE));
    assert_false(gw_routes_takes_body(GW_ROUTE_CANCEL));
    assert_false(gw_routes_takes_body(GW_ROUTE_LIST_MESSAGES));
    assert_true(gw_routes_takes_query(GW_ROUTE_LIST_MESSAGES));
    assert_false(gw_routes_takes_query(GW_ROUTE_MESSAGES));
    assert_false(gw_routes_public(GW_ROUTE_CANCEL));
    assert_true(gw_routes_public(GW_ROUTE_HEALTH_LIVE));
    assert_false(gw_routes_public(GW_ROUTE_HEALTH));
    assert_false(gw_routes_public(GW_ROUTE_HEALTH_READY));
    assert_false(gw_routes_public(GW_ROUTE_NONE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_complete),
        cmocka_unit_test(table_mapping),
        cmocka_unit_test(body_with_field),
        cmocka_unit_test(body_without_field),
        cmocka_unit_test(replies),
        cmocka_unit_test(stored_replies),
        cmocka_unit_test(cancel_replies),
        cmocka_unit_test(health_rule),
        cmocka_unit_test(routes),
    };
    gw_log_set_level(GW_LOG_LEVEL_ERR); /* the handlers log every answer */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
