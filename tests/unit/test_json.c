/* Tests for http/json.c: the strict POST /messages decoder over the bad-input catalogue
 * (reliability.md §5.1) and the UDP size rule, the Content-Type rule, and the shapes of the
 * response encoders (message, summary, list, registration, health). */
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

#include "gateway/config.h"
#include "gateway/msgsize.h"
#include "gateway/outcome.h"
#include "gateway/store.h"
#include "http/json.h"
#include "http/problem.h"

#define SENDER "+4930123456"

static struct gw_config cfg;
static char text_buf[GW_TEXT_MAX + 1];

static void make_cfg(unsigned nsenders)
{
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.api.default_country_code, sizeof(cfg.api.default_country_code), "49");
    cfg.api.nsenders = nsenders;
    snprintf(cfg.api.senders[0], sizeof(cfg.api.senders[0]), "%s", SENDER);
    cfg.limits.max_body = 16384;
    cfg.limits.max_segments = 10;
    cfg.limits.validity_default = 86400;
    cfg.limits.validity_max = 259200;
    /* TCP: the long-text cases are not about UDP; udp_size switches */
    cfg.sip.transport = GW_TRANSPORT_TCP;
    snprintf(cfg.sip.domain, sizeof(cfg.sip.domain), "operator.test");
    snprintf(cfg.sip.username, sizeof(cfg.sip.username), "smsgw");
    snprintf(cfg.sip.local, sizeof(cfg.sip.local), "127.0.0.1:0");
    snprintf(cfg.sip.recipient_uri, sizeof(cfg.sip.recipient_uri),
             "sip:{e164}@{domain};user=phone");
}

static int setup(void **state)
{
    (void)state;
    make_cfg(1);
    return 0;
}

static int decode_n(const char *body, size_t len, struct gw_msg_new *m, struct gw_problem *p)
{
    return gw_json_decode_message(body, len, &cfg, m, text_buf, sizeof(text_buf), p);
}

/* Decodes body and expects the problem code (with its HTTP status) and field. */
static void bad_n(const char *body, size_t len, enum gw_problem_code code, unsigned status,
                  const char *field)
{
    struct gw_msg_new m, before;
    struct gw_problem p;
    memset(&m, 0xa5, sizeof(m));
    before = m;
    int err = decode_n(body, len, &m, &p);
    if (err != EINVAL)
        fail_msg("accepted (err %d): %.80s", err, body);
    if (p.code != code)
        fail_msg("got %s, want %s for: %.80s (%s)", gw_problem_name(p.code), gw_problem_name(code),
                 body, p.detail);
    assert_int_equal(gw_problem_status(p.code), status);
    assert_string_equal(p.field, field ? field : "");
    assert_memory_equal(&m, &before, sizeof(m)); /* out untouched on failure */
}

static void bad(const char *body, enum gw_problem_code code, unsigned status, const char *field)
{
    bad_n(body, strlen(body), code, status, field);
}

static void good(const char *body, struct gw_msg_new *m)
{
    struct gw_problem p;
    int err = decode_n(body, strlen(body), m, &p);
    if (err != 0)
        fail_msg("refused (%s: %s): %.80s", gw_problem_name(p.code), p.detail, body);
}

static void valid_minimal(void **state)
{
    (void)state;
    struct gw_msg_new m;
    good("{\"to\":\"+4915112345678\",\"text\":\"hello\"}", &m);
    assert_string_equal(m.to, "+4915112345678");
    assert_string_equal(m.from, "");
    assert_int_equal(m.text_len, 5);
    assert_memory_equal(m.text, "hello", 5);
    assert_ptr_equal(m.text, text_buf);
    assert_int_equal(m.validity_s, 86400);
    assert_string_equal(m.reference, "");
    assert_string_equal(m.idem_key, "");
    assert_int_equal(m.info.encoding, GW_TEXT_GSM7);
    assert_int_equal(m.info.segments, 1);
}

static void valid_full(void **state)
{
    (void)state;
    struct gw_msg_new m;
    good(" {\"text\":\"caf\\u00e9 \\ud83d\\ude00\",\"to\":\"0151 1234 5678\",\"from\":\"+49 30 "
         "123456\",\"validity\":600,\"reference\":\"order-17 \\u00fc\"}\n",
         &m);
    assert_string_equal(m.to, "+4915112345678");
    assert_string_equal(m.from, SENDER);
    assert_int_equal(m.validity_s, 600);
    assert_string_equal(m.reference, "order-17 \xc3\xbc");
    assert_int_equal(m.text_len, strlen("caf\xc3\xa9 \xf0\x9f\x98\x80"));
    assert_memory_equal(m.text, "caf\xc3\xa9 \xf0\x9f\x98\x80", m.text_len);
    assert_int_equal(m.info.encoding, GW_TEXT_UCS2);
}

static void optional_null_is_absent(void **state)
{
    (void)state;
    struct gw_msg_new m;
    good("{\"to\":\"+4915112345678\",\"text\":\"x\",\"from\":null,\"validity\":null,"
         "\"reference\":null}",
         &m);
    assert_string_equal(m.from, "");
    assert_int_equal(m.validity_s, 86400);
    assert_string_equal(m.reference, "");
}

/* Rows 12-16, 27-35: what jansson refuses is 400 invalid_json. */
static void malformed_json(void **state)
{
    (void)state;
    const enum gw_problem_code J = GW_PROB_INVALID_JSON;
    bad("", J, 400, NULL);
    bad("   \n\t ", J, 400, NULL);
    bad("{\"to\":", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\"", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\"}x", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\"}{}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"to\":\"+4915112345679\",\"text\":\"hi\"}", J, 400, NULL);
    bad("{'to':'+4915112345678'}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",}", J, 400, NULL);
}

static void bad_bytes(void **state)
{
    (void)state;
    const enum gw_problem_code J = GW_PROB_INVALID_JSON;
    bad("{\"to\":\"+4915112345678\",\"text\":\"a\\u0000b\"}", J, 400, NULL);
    static const char nul[] = "{\"to\":\"+4915112345678\",\"text\":\"a\0b\"}";
    bad_n(nul, sizeof(nul) - 1, J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"a\rb\"}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"a\nb\"}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"a\tb\"}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"\xff\"}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"\xc0\xaf\"}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"\xed\xa0\x80\"}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"\\ud800\"}", J, 400, NULL);
    bad("\xef\xbb\xbf{\"to\":\"+4915112345678\",\"text\":\"hi\"}", J, 400, NULL);
}

static void bad_numbers(void **state)
{
    (void)state;
    const enum gw_problem_code J = GW_PROB_INVALID_JSON;
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":92233720368547758070}", J, 400,
        NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":1e999}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":NaN}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":Infinity}", J, 400, NULL);
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":012}", J, 400, NULL);
}

static void deep_nesting(void **state)
{
    (void)state;
    size_t depth = 3000;
    char *body = malloc(2 * depth + 1);
    assert_non_null(body);
    memset(body, '[', depth);
    memset(body + depth, ']', depth);
    body[2 * depth] = '\0';
    bad(body, GW_PROB_INVALID_JSON, 400, NULL);
    free(body);
    bad("{\"to\":[[[[[[[[[[\"+4915112345678\"]]]]]]]]]],\"text\":\"hi\"}", GW_PROB_WRONG_TYPE, 422,
        "to");
}

static void not_an_object(void **state)
{
    (void)state;
    const enum gw_problem_code O = GW_PROB_BODY_MUST_BE_OBJECT;
    bad("[1]", O, 422, NULL);
    bad("[{\"to\":\"+4915112345678\",\"text\":\"hi\"}]", O, 422, NULL);
    bad("\"text\"", O, 422, NULL);
    bad("42", O, 422, NULL);
    bad("null", O, 422, NULL);
    bad("true", O, 422, NULL);
}

static void unknown_and_missing(void **state)
{
    (void)state;
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"status\":\"delivered\"}",
        GW_PROB_UNKNOWN_FIELD, 422, "status");
    bad("{\"admin\":true,\"to\":\"+4915112345678\",\"text\":\"hi\"}", GW_PROB_UNKNOWN_FIELD, 422,
        "admin");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"To\":\"x\"}", GW_PROB_UNKNOWN_FIELD, 422,
        "To");
    /* an unknown field wins over a missing one */
    bad("{\"id\":\"x\"}", GW_PROB_UNKNOWN_FIELD, 422, "id");
    bad("{}", GW_PROB_MISSING_FIELD, 422, "to");
    bad("{\"text\":\"hi\"}", GW_PROB_MISSING_FIELD, 422, "to");
    bad("{\"to\":\"+4915112345678\"}", GW_PROB_MISSING_FIELD, 422, "text");
}

static void wrong_types(void **state)
{
    (void)state;
    const enum gw_problem_code T = GW_PROB_WRONG_TYPE;
    bad("{\"to\":4915112345678,\"text\":\"hi\"}", T, 422, "to");
    bad("{\"to\":null,\"text\":\"hi\"}", T, 422, "to");
    bad("{\"to\":\"+4915112345678\",\"text\":42}", T, 422, "text");
    bad("{\"to\":\"+4915112345678\",\"text\":[\"hi\"]}", T, 422, "text");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"from\":4930123456}", T, 422, "from");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":\"600\"}", T, 422, "validity");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":1.0}", T, 422, "validity");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":600.5}", T, 422, "validity");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":true}", T, 422, "validity");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"reference\":17}", T, 422, "reference");
}

/* Rows 20-22: to must be a phone number, checked after JSON unescaping. */
static void invalid_numbers(void **state)
{
    (void)state;
    static const char *const tos[] = {
        "",
        "+",
        "+0151123456",
        "+49 151 abc 5678",
        "sip:evil@host",
        "<+4915112345678>",
        "+4915112345678;user=phone",
        "+49151@x",
        "+4912",
        "+4915112345678901234",
        "+4915112345678\\r\\nX-Evil: 1",
        "4915112345678",
        "+49151123456789012345678901234567890123456789012345678901234567890123",
    };
    for (size_t i = 0; i < sizeof(tos) / sizeof(tos[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body), "{\"to\":\"%s\",\"text\":\"hi\"}", tos[i]);
        bad(body, GW_PROB_INVALID_NUMBER, 422, "to");
    }
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"from\":\"sip:me@host\"}",
        GW_PROB_INVALID_NUMBER, 422, "from");
}

/* Row 24: from must be a configured sender; none configured means none allowed. */
static void senders(void **state)
{
    (void)state;
    struct gw_msg_new m;
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"from\":\"+4930999999\"}",
        GW_PROB_SENDER_NOT_ALLOWED, 403, "from");
    good("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"from\":\"030 123456\"}", &m);
    assert_string_equal(m.from, SENDER);
    make_cfg(0);
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"from\":\"" SENDER "\"}",
        GW_PROB_SENDER_NOT_ALLOWED, 403, "from");
    good("{\"to\":\"+4915112345678\",\"text\":\"hi\"}", &m);
    make_cfg(1);
}

static char *text_body(const char *unit, size_t count)
{
    size_t ulen = strlen(unit);
    size_t cap = 64 + ulen * count;
    char *body = malloc(cap);
    assert_non_null(body);
    int n = snprintf(body, cap, "{\"to\":\"+4915112345678\",\"text\":\"");
    size_t pos = (size_t)n;
    for (size_t i = 0; i < count; i++, pos += ulen)
        snprintf(body + pos, cap - pos, "%s", unit);
    snprintf(body + pos, cap - pos, "\"}");
    return body;
}

/* Rows 25-26 plus the text rules. */
static void texts(void **state)
{
    (void)state;
    struct gw_msg_new m;
    struct gw_problem p;
    bad("{\"to\":\"+4915112345678\",\"text\":\"\"}", GW_PROB_EMPTY_TEXT, 422, "text");
    bad("{\"to\":\"+4915112345678\",\"text\":\"bell\\u0007\"}", GW_PROB_INVALID_TEXT, 422, "text");
    bad("{\"to\":\"+4915112345678\",\"text\":\"del\\u007f\"}", GW_PROB_INVALID_TEXT, 422, "text");

    char *body = text_body("a", 1530); /* exactly 10 GSM-7 segments */
    good(body, &m);
    assert_int_equal(m.info.segments, 10);
    free(body);

    body = text_body("a", 1531);
    bad(body, GW_PROB_TEXT_TOO_LONG, 422, "text");
    assert_int_equal(decode_n(body, strlen(body), &m, &p), EINVAL);
    assert_non_null(strstr(p.detail, "11 GSM-7 segments"));
    free(body);

    body = text_body("\xf0\x9f\x98\x80", 400); /* emoji: UCS-2 surrogate pairs */
    assert_int_equal(decode_n(body, strlen(body), &m, &p), EINVAL);
    assert_int_equal(p.code, GW_PROB_TEXT_TOO_LONG);
    assert_non_null(strstr(p.detail, "UCS-2 segments"));
    free(body);

    body = text_body("a", GW_TEXT_MAX + 1); /* over the byte cap whatever the segments */
    cfg.limits.max_segments = 255;
    bad(body, GW_PROB_TEXT_TOO_LONG, 422, "text");
    cfg.limits.max_segments = 10;
    free(body);
}

/* Over UDP the estimated MESSAGE must fit in 1300 bytes; over TCP any valid text goes. */
static void udp_size(void **state)
{
    (void)state;
    struct gw_msg_new m;
    struct gw_problem p;
    cfg.sip.transport = GW_TRANSPORT_UDP;
    size_t max = gw_msgsize_udp_text_max(&cfg, "+4915112345678", "");
    assert_true(max > 300 && max < 800);
    char *body = text_body("a", max);
    good(body, &m);
    assert_int_equal(m.text_len, max);
    free(body);

    body = text_body("a", max + 1);
    bad(body, GW_PROB_TOO_LARGE_FOR_UDP, 413, "text");
    assert_int_equal(decode_n(body, strlen(body), &m, &p), EINVAL);
    assert_non_null(strstr(p.detail, "transport = tcp"));
    char want[32];
    snprintf(want, sizeof(want), "at most %zu bytes", max);
    assert_non_null(strstr(p.detail, want));
    /* the other checks come first: an over-long text is text_too_long, not this */
    char *longer = text_body("a", 1531);
    bad(longer, GW_PROB_TEXT_TOO_LONG, 422, "text");
    free(longer);

    cfg.sip.transport = GW_TRANSPORT_TCP;
    good(body, &m);
    cfg.sip.transport = GW_TRANSPORT_TLS;
    good(body, &m);
    free(body);

    /* a sender number makes From longer: fewer text bytes fit */
    cfg.sip.transport = GW_TRANSPORT_UDP;
    assert_true(gw_msgsize_udp_text_max(&cfg, "+4915112345678", SENDER) < max);
}

/* Row 34: validity bounds. */
static void validity(void **state)
{
    (void)state;
    struct gw_msg_new m;
    const enum gw_problem_code R = GW_PROB_OUT_OF_RANGE;
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":0}", R, 422, "validity");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":-5}", R, 422, "validity");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":59}", R, 422, "validity");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":259201}", R, 422, "validity");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":9223372036854775807}", R, 422,
        "validity");
    good("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":60}", &m);
    assert_int_equal(m.validity_s, 60);
    good("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"validity\":259200}", &m);
    assert_int_equal(m.validity_s, 259200);
}

static void references(void **state)
{
    (void)state;
    struct gw_msg_new m;
    const enum gw_problem_code R = GW_PROB_INVALID_REFERENCE;
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"reference\":\"a\\r\\nX-Evil: 1\"}", R, 422,
        "reference");
    bad("{\"to\":\"+4915112345678\",\"text\":\"hi\",\"reference\":\"nel\\u0085\"}", R, 422,
        "reference");
    char body[512];
    char ref[130];
    memset(ref, 'r', 129);
    ref[129] = '\0';
    snprintf(body, sizeof(body), "{\"to\":\"+4915112345678\",\"text\":\"hi\",\"reference\":\"%s\"}",
             ref);
    bad(body, R, 422, "reference");
    ref[128] = '\0';
    snprintf(body, sizeof(body), "{\"to\":\"+4915112345678\",\"text\":\"hi\",\"reference\":\"%s\"}",
             ref);
    good(body, &m);
    assert_string_equal(m.reference, ref);
}

/* The detail quotes client bytes only as printable ASCII. */
static void detail_is_scrubbed(void **state)
{
    (void)state;
    struct gw_msg_new m;
    struct gw_problem p;
    const char *body = "{\"to\":\"+4915112345678\",\"text\":\"hi\",\"\\u00e9\\r\\n\":1}";
    assert_int_equal(decode_n(body, strlen(body), &m, &p), EINVAL);
    assert_int_equal(p.code, GW_PROB_UNKNOWN_FIELD);
    for (const char *s = p.detail; *s; s++)
        assert_true(*s >= 0x20 && *s <= 0x7e);
    for (const char *s = p.field; *s; s++)
        assert_true(*s >= 0x20 && *s <= 0x7e);
}

static void media_types(void **state)
{
    (void)state;
    assert_true(gw_json_media_type_ok("application/json"));
    assert_true(gw_json_media_type_ok("application/json; charset=utf-8"));
    assert_true(gw_json_media_type_ok("Application/JSON;charset=\"UTF-8\""));
    assert_true(gw_json_media_type_ok("application/json ;  charset=UTF-8 "));
    assert_false(gw_json_media_type_ok(NULL));
    assert_false(gw_json_media_type_ok(""));
    assert_false(gw_json_media_type_ok("text/plain"));
    assert_false(gw_json_media_type_ok("application/x-www-form-urlencoded"));
    assert_false(gw_json_media_type_ok("application/json; charset=iso-8859-1"));
    assert_false(gw_json_media_type_ok("application/json;charset=\"utf-16\""));
    assert_false(gw_json_media_type_ok("application/jsonx"));
    assert_false(gw_json_media_type_ok("application/json-seq"));
    assert_false(gw_json_media_type_ok("application/json; charset"));
}

/* ---- encoders ---- */

static json_t *load(char *s, size_t len)
{
    json_error_t je;
    assert_int_equal(strlen(s), len);
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        fail_msg("encoder output is not JSON: %s", je.text);
    free(s);
    return j;
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static void make_view(struct gw_msg_view *v)
{
    memset(v, 0, sizeof(*v));
    snprintf(v->id, sizeof(v->id), "01JDQ7ZC0000000000000000AB");
    v->status = GW_STATUS_QUEUED;
    snprintf(v->to, sizeof(v->to), "+4915112345678");
    snprintf(v->text, sizeof(v->text), "hello");
    v->text_len = 5;
    v->info.encoding = GW_TEXT_GSM7;
    v->info.segments = 1;
    v->created_at_ms = 1764142250123;
    v->updated_at_ms = 1764142250123;
    v->expires_at_ms = 1764142250123 + 86400000;
    v->next_attempt_ms = 1764142250123;
    gw_sip_answer_init(&v->answer);
}

static void encode_accepted(void **state)
{
    (void)state;
    struct gw_msg_view *v = malloc(sizeof(*v));
    assert_non_null(v);
    make_view(v);
    char *s = NULL;
    size_t len = 0;
    assert_int_equal(gw_json_accepted(v, &s, &len), 0);
    json_t *j = load(s, len);
    assert_string_equal(str(j, "id"), v->id);
    assert_string_equal(str(j, "status"), "queued");
    assert_string_equal(str(j, "to"), "+4915112345678");
    assert_true(json_is_null(json_object_get(j, "from")));
    assert_true(json_is_null(json_object_get(j, "reference")));
    assert_null(json_object_get(j, "text"));
    assert_string_equal(str(j, "encoding"), "GSM-7");
    assert_int_equal(json_integer_value(json_object_get(j, "segments")), 1);
    assert_string_equal(str(j, "created_at"), "2025-11-26T07:30:50.123Z");
    assert_string_equal(str(j, "expires_at"), "2025-11-27T07:30:50.123Z");
    assert_int_equal(json_object_size(j), 9);
    json_decref(j);
    free(v);
}

static void encode_failed_message(void **state)
{
    (void)state;
    struct gw_msg_view *v = malloc(sizeof(*v));
    assert_non_null(v);
    make_view(v);
    v->status = GW_STATUS_FAILED;
    v->attempts = 1;
    v->has_answer = true;
    v->answer.status = 403;
    snprintf(v->answer.phrase, sizeof(v->answer.phrase), "Forbidden \xff");
    snprintf(v->answer.call_id, sizeof(v->answer.call_id), "abc@host");
    snprintf(v->answer.reason_protocol, sizeof(v->answer.reason_protocol), "Q.850");
    v->answer.reason_cause = 55;
    snprintf(v->error_code, sizeof(v->error_code), "barred");
    struct gw_msg_event ev[2];
    memset(ev, 0, sizeof(ev));
    ev[0].at_ms = v->created_at_ms;
    ev[0].status = GW_STATUS_QUEUED;
    snprintf(ev[0].layer, sizeof(ev[0].layer), "http");
    snprintf(ev[0].detail, sizeof(ev[0].detail), "accepted");
    ev[1].at_ms = v->created_at_ms + 1500;
    ev[1].status = GW_STATUS_FAILED;
    snprintf(ev[1].layer, sizeof(ev[1].layer), "sip");
    snprintf(ev[1].detail, sizeof(ev[1].detail), "403 Forbidden");

    char *s = NULL;
    size_t len = 0;
    assert_int_equal(gw_json_message(v, ev, 2, &s, &len), 0);
    json_t *j = load(s, len);
    assert_string_equal(str(j, "direction"), "outbound");
    assert_string_equal(str(j, "status"), "failed");
    assert_string_equal(str(j, "text"), "hello");
    assert_true(json_is_null(json_object_get(j, "next_attempt_at")));
    json_t *sip = json_object_get(j, "sip");
    assert_int_equal(json_integer_value(json_object_get(sip, "status")), 403);
    assert_string_equal(str(sip, "phrase"), "Forbidden ?"); /* not UTF-8: scrubbed */
    assert_true(json_is_null(json_object_get(sip, "warning")));
    assert_true(json_is_null(json_object_get(sip, "retry_after")));
    json_t *reason = json_object_get(sip, "reason");
    assert_string_equal(str(reason, "protocol"), "Q.850");
    assert_int_equal(json_integer_value(json_object_get(reason, "cause")), 55);
    assert_non_null(gw_q850_name(55));
    assert_string_equal(str(reason, "name"), gw_q850_name(55));
    json_t *error = json_object_get(j, "error");
    assert_string_equal(str(error, "code"), "barred");
    struct gw_outcome oc;
    gw_outcome_classify(&v->answer, &oc);
    assert_int_equal(json_is_true(json_object_get(error, "permanent")), oc.permanent);
    assert_string_equal(str(error, "advice"), oc.advice);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(error, "sip"), "status")),
                     403);
    json_t *events = json_object_get(j, "events");
    assert_int_equal(json_array_size(events), 2);
    assert_string_equal(str(json_array_get(events, 1), "status"), "failed");
    assert_string_equal(str(json_array_get(events, 1), "layer"), "sip");
    assert_string_equal(str(json_array_get(events, 1), "at"), "2025-11-26T07:30:51.623Z");
    json_decref(j);
    free(v);
}

static void encode_timeout_and_ok(void **state)
{
    (void)state;
    struct gw_msg_view *v = malloc(sizeof(*v));
    assert_non_null(v);
    make_view(v);
    char *s = NULL;
    size_t len = 0;
    /* queued, no error: sip and error are null, next_attempt_at is set */
    assert_int_equal(gw_json_message(v, NULL, 0, &s, &len), 0);
    json_t *j = load(s, len);
    assert_true(json_is_null(json_object_get(j, "sip")));
    assert_true(json_is_null(json_object_get(j, "error")));
    assert_string_equal(str(j, "next_attempt_at"), "2025-11-26T07:30:50.123Z");
    assert_int_equal(json_array_size(json_object_get(j, "events")), 0);
    json_decref(j);
    /* retry pending after our own deadline: no SIP answer, but an error object */
    v->has_answer = true;
    v->answer.status = GW_SIP_NO_ANSWER;
    snprintf(v->error_code, sizeof(v->error_code), "timeout");
    assert_int_equal(gw_json_message(v, NULL, 0, &s, &len), 0);
    j = load(s, len);
    assert_true(json_is_null(json_object_get(j, "sip")));
    json_t *error = json_object_get(j, "error");
    assert_string_equal(str(error, "code"), "timeout");
    assert_true(json_is_false(json_object_get(error, "permanent")));
    assert_true(json_is_null(json_object_get(error, "sip")));
    json_decref(j);
    /* expired before any attempt: an error object without an answer */
    v->has_answer = false;
    v->status = GW_STATUS_EXPIRED;
    v->error_code[0] = '\0';
    assert_int_equal(gw_json_message(v, NULL, 0, &s, &len), 0);
    j = load(s, len);
    error = json_object_get(j, "error");
    assert_string_equal(str(error, "code"), "expired");
    assert_true(json_is_true(json_object_get(error, "permanent")));
    json_decref(j);
    free(v);
}

static void encode_summary_and_list(void **state)
{
    (void)state;
    struct gw_msg_view *v = malloc(sizeof(*v));
    assert_non_null(v);
    make_view(v);
    char *s = NULL;
    size_t len = 0;
    assert_int_equal(gw_json_summary(v, &s, &len), 0);
    json_t *j = load(s, len);
    assert_string_equal(str(j, "id"), v->id);
    assert_string_equal(str(j, "text"), "hello");
    assert_null(json_object_get(j, "events"));
    assert_int_equal(json_object_size(j), 16); /* Message without events */
    json_decref(j);

    struct gw_json_list *l = NULL;
    assert_int_equal(gw_json_list_new(&l), 0);
    assert_int_equal(gw_json_list_add(l, v), 0);
    v->status = GW_STATUS_CANCELLED;
    v->inbound = true;
    assert_int_equal(gw_json_list_add(l, v), 0);
    assert_int_equal(gw_json_list_finish(l, "01JDQ7ZC0000000000000000AB", &s, &len), 0);
    j = load(s, len);
    assert_int_equal(json_object_size(j), 2);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(str(json_array_get(items, 0), "status"), "queued");
    assert_string_equal(str(json_array_get(items, 1), "status"), "cancelled");
    assert_string_equal(str(json_array_get(items, 1), "direction"), "inbound");
    assert_true(json_is_null(json_object_get(json_array_get(items, 1), "next_attempt_at")));
    assert_null(json_object_get(json_array_get(items, 0), "events"));
    assert_string_equal(str(j, "next_cursor"), "01JDQ7ZC0000000000000000AB");
    json_decref(j);

    /* the last page: next_cursor null; an empty page is an empty array */
    assert_int_equal(gw_json_list_new(&l), 0);
    assert_int_equal(gw_json_list_finish(l, "", &s, &len), 0);
    j = load(s, len);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
    assert_true(json_is_array(json_object_get(j, "items")));
    assert_true(json_is_null(json_object_get(j, "next_cursor")));
    json_decref(j);
    assert_int_equal(gw_json_list_new(&l), 0);
    gw_json_list_free(l);
    gw_json_list_free(NULL);
    free(v);
}

static void encode_registration_and_health(void **state)
{
    (void)state;
    struct gw_reg_view r;
    memset(&r, 0, sizeof(r));
    gw_sip_answer_init(&r.last);
    r.last.status = 0;
    r.state = GW_REG_REGISTERING;
    snprintf(r.aor, sizeof(r.aor), "sip:gw@example.net");
    char *s = NULL;
    size_t len = 0;
    assert_int_equal(gw_json_registration(&r, &s, &len), 0);
    json_t *j = load(s, len);
    assert_string_equal(str(j, "state"), "registering");
    assert_string_equal(str(j, "aor"), "sip:gw@example.net");
    assert_true(json_is_null(json_object_get(j, "last")));
    assert_true(json_is_null(json_object_get(j, "registered_at")));
    assert_true(json_is_null(json_object_get(j, "detail")));
    assert_int_equal(json_object_size(j), 10);
    json_decref(j);

    struct gw_json_health h;
    memset(&h, 0, sizeof(h));
    h.reg = r;
    h.store.healthy = true;
    h.store.queued = 3;
    h.queue_depth = 2;
    h.queue_capacity = 4096;
    assert_int_equal(gw_json_health(&h, &s, &len), 0);
    j = load(s, len);
    assert_string_equal(str(j, "status"), "degraded");
    assert_string_equal(str(json_object_get(j, "registration"), "state"), "registering");
    assert_true(json_is_false(json_object_get(json_object_get(j, "registration"), "ready")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "store"), "queued")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "queue"), "capacity")),
                     4096);
    json_t *d = json_object_get(j, "dispatch");
    assert_int_equal(json_object_size(d), 3);
    assert_true(json_is_false(json_object_get(d, "paused")));
    assert_true(json_is_null(json_object_get(d, "reason")));
    assert_true(json_is_null(json_object_get(d, "until")));
    assert_int_equal(json_object_size(j), 5);
    json_decref(j);

    /* paused by the breaker: the reason and when the probe goes */
    h.store.paused = true;
    snprintf(h.store.pause_reason, sizeof(h.store.pause_reason), "the operator looks down");
    h.store.paused_until_ms = 1764142250123;
    assert_int_equal(gw_json_health(&h, &s, &len), 0);
    j = load(s, len);
    d = json_object_get(j, "dispatch");
    assert_true(json_is_true(json_object_get(d, "paused")));
    assert_string_equal(str(d, "reason"), "the operator looks down");
    assert_string_equal(str(d, "until"), "2025-11-26T07:30:50.123Z");
    json_decref(j);
    /* paused by the registration: no end time */
    h.store.paused_until_ms = 0;
    assert_int_equal(gw_json_health(&h, &s, &len), 0);
    j = load(s, len);
    assert_true(json_is_null(json_object_get(json_object_get(j, "dispatch"), "until")));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(valid_minimal, setup),
        cmocka_unit_test_setup(valid_full, setup),
        cmocka_unit_test_setup(optional_null_is_absent, setup),
        cmocka_unit_test_setup(malformed_json, setup),
        cmocka_unit_test_setup(bad_bytes, setup),
        cmocka_unit_test_setup(bad_numbers, setup),
        cmocka_unit_test_setup(deep_nesting, setup),
        cmocka_unit_test_setup(not_an_object, setup),
        cmocka_unit_test_setup(unknown_and_missing, setup),
        cmocka_unit_test_setup(wrong_types, setup),
        cmocka_unit_test_setup(invalid_numbers, setup),
        cmocka_unit_test_setup(senders, setup),
        cmocka_unit_test_setup(texts, setup),
        cmocka_unit_test_setup(udp_size, setup),
        cmocka_unit_test_setup(validity, setup),
        cmocka_unit_test_setup(references, setup),
        cmocka_unit_test_setup(detail_is_scrubbed, setup),
        cmocka_unit_test(media_types),
        cmocka_unit_test(encode_accepted),
        cmocka_unit_test(encode_failed_message),
        cmocka_unit_test(encode_timeout_and_ok),
        cmocka_unit_test(encode_summary_and_list),
        cmocka_unit_test(encode_registration_and_health),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
