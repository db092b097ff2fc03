/* Strict request decoding and response encoding with jansson. The decoder parses with
 * JSON_REJECT_DUPLICATES, walks the keys against an allow-list, then validates each field in a
 * fixed order so that the first problem reported is always the same for the same body. */
#include "http/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "gateway/clock.h"
#include "gateway/msgsize.h"
#include "gateway/number.h"
#include "gateway/text.h"

#define VALIDITY_MIN 60

/* The object o if every member was set (bad == 0), else NULL with o released. */
static json_t *built(json_t *o, int bad)
{
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *const known_fields[] = {"to", "text", "from", "validity", "reference"};

/* ---- Content-Type ---- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads one parameter "name=value" (value a token or a quoted string) at p and returns the
 * position after it, or NULL when malformed. *bad_charset is set for a charset not UTF-8. */
static const char *media_param(const char *p, bool *bad_charset)
{
    const char *name = p;
    while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
        p++;
    size_t nlen = (size_t)(p - name);
    if (nlen == 0 || *p != '=')
        return NULL;
    p++;
    const char *val = p;
    size_t vlen;
    if (*p == '"') {
        val = ++p;
        while (*p && *p != '"')
            p++;
        if (*p != '"')
            return NULL;
        vlen = (size_t)(p - val);
        p++;
    } else {
        while (*p && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        vlen = (size_t)(p - val);
    }
    if (nlen == 7 && strncasecmp(name, "charset", 7) == 0)
        *bad_charset = !(vlen == 5 && strncasecmp(val, "utf-8", 5) == 0);
    return p;
}

bool gw_json_media_type_ok(const char *content_type)
{
    static const char type[] = "application/json";
    if (!content_type)
        return false;
    const char *p = skip_ws(content_type);
    if (strncasecmp(p, type, sizeof(type) - 1) != 0)
        return false;
    p = skip_ws(p + sizeof(type) - 1);
    bool bad_charset = false;
    while (*p == ';') {
        p = skip_ws(p + 1);
        if (*p == '\0')
            break;
        p = media_param(p, &bad_charset);
        if (!p || bad_charset)
            return false;
        p = skip_ws(p);
    }
    return *p == '\0';
}

/* ---- decoding ---- */

static int parse(const char *body, size_t len, json_t **root, struct gw_problem *err)
{
    if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
        gw_problem_set(err, GW_PROB_INVALID_JSON, NULL,
                       "the body starts with a byte order mark; send plain UTF-8 JSON");
        return EINVAL;
    }
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!j && json_error_code(&je) == json_error_out_of_memory) {
        gw_problem_set(err, GW_PROB_INTERNAL_ERROR, NULL, "out of memory");
        return ENOMEM;
    }
    if (!j) {
        gw_problem_set(err, GW_PROB_INVALID_JSON, NULL, "line %d, column %d: %s", je.line,
                       je.column, je.text);
        return EINVAL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        gw_problem_set(err, GW_PROB_BODY_MUST_BE_OBJECT, NULL,
                       "the body must be a JSON object such as {\"to\": ..., \"text\": ...}");
        return EINVAL;
    }
    *root = j;
    return 0;
}

static int check_keys(json_t *root, struct gw_problem *err)
{
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof(known_fields) / sizeof(known_fields[0]); i++)
            known = known || strcmp(key, known_fields[i]) == 0;
        if (!known) {
            gw_problem_set(err, GW_PROB_UNKNOWN_FIELD, key,
                           "unknown field \"%.64s\"; allowed: to, text, from, validity, "
                           "reference",
                           key);
            return EINVAL;
        }
    }
    return 0;
}

/* Fetches string field name. Absent (or null when optional) leaves *s NULL. */
static int get_string(json_t *root, const char *name, bool required, const char **s, size_t *len,
                      struct gw_problem *err)
{
    json_t *v = json_object_get(root, name);
    *s = NULL;
    *len = 0;
    if (!v || (!required && json_is_null(v))) {
        if (!required)
            return 0;
        gw_problem_set(err, GW_PROB_MISSING_FIELD, name, "%s is required", name);
        return EINVAL;
    }
    if (!json_is_string(v)) {
        gw_problem_set(err, GW_PROB_WRONG_TYPE, name, "%s must be a string", name);
        return EINVAL;
    }
    *s = json_string_value(v);
    *len = json_string_length(v);
    return 0;
}

static int decode_number(const char *name, const char *s, size_t len, const struct gw_config *cfg,
                         char out[GW_E164_LEN], struct gw_problem *err)
{
    if (len == 0 || len > GW_JSON_NUMBER_MAX || strlen(s) != len ||
        gw_number_normalize(s, cfg->api.default_country_code, out) != 0) {
        gw_problem_set(err, GW_PROB_INVALID_NUMBER, name,
                       "%s must be a phone number in international format, such as "
                       "+4915112345678",
                       name);
        return EINVAL;
    }
    return 0;
}

static int decode_to(json_t *root, const struct gw_config *cfg, struct gw_msg_new *m,
                     struct gw_problem *err)
{
    const char *s;
    size_t len;
    int rc = get_string(root, "to", true, &s, &len, err);
    if (rc)
        return rc;
    return decode_number("to", s, len, cfg, m->to, err);
}

static bool sender_allowed(const struct gw_config *cfg, const char *from)
{
    unsigned n = cfg->api.nsenders < GW_CFG_MAX_SENDERS ? cfg->api.nsenders : GW_CFG_MAX_SENDERS;
    for (unsigned i = 0; i < n; i++) {
        char norm[GW_E164_LEN];
        const char *allowed = cfg->api.senders[i];
        if (gw_number_normalize(allowed, cfg->api.default_country_code, norm) == 0)
            allowed = norm;
        if (strcmp(allowed, from) == 0)
            return true;
    }
    return false;
}

static int decode_from(json_t *root, const struct gw_config *cfg, struct gw_msg_new *m,
                       struct gw_problem *err)
{
    const char *s;
    size_t len;
    int rc = get_string(root, "from", false, &s, &len, err);
    m->from[0] = '\0';
    if (rc || !s)
        return rc;
    rc = decode_number("from", s, len, cfg, m->from, err);
    if (rc)
        return rc;
    if (!sender_allowed(cfg, m->from)) {
        gw_problem_set(err, GW_PROB_SENDER_NOT_ALLOWED, "from",
                       cfg->api.nsenders ? "from is not one of the configured senders"
                                         : "no senders are configured; leave from out to send "
                                           "as the gateway's own identity");
        return EINVAL;
    }
    return 0;
}

static int decode_text(json_t *root, const struct gw_config *cfg, struct gw_msg_new *m, char *buf,
                       size_t cap, struct gw_problem *err)
{
    const char *s;
    size_t len;
    int rc = get_string(root, "text", true, &s, &len, err);
    if (rc)
        return rc;
    if (len == 0) {
        gw_problem_set(err, GW_PROB_EMPTY_TEXT, "text", "text must not be empty");
        return EINVAL;
    }
    size_t max = cap > 0 && cap - 1 < GW_TEXT_MAX ? cap - 1 : GW_TEXT_MAX;
    if (len > max) {
        gw_problem_set(err, GW_PROB_TEXT_TOO_LONG, "text",
                       "text has %zu bytes; at most %zu are allowed", len, max);
        return EINVAL;
    }
    struct gw_text_info info;
    if (gw_text_analyse(s, len, &info) != 0) {
        gw_problem_set(err, GW_PROB_INVALID_TEXT, "text",
                       "text holds a character SMS cannot carry (NUL or a control character "
                       "other than tab, line feed and carriage return)");
        return EINVAL;
    }
    if (info.segments > cfg->limits.max_segments) {
        gw_problem_set(err, GW_PROB_TEXT_TOO_LONG, "text",
                       "text needs %u %s segments; at most %u are allowed", info.segments,
                       gw_text_encoding_name(info.encoding), cfg->limits.max_segments);
        return EINVAL;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    m->text = buf;
    m->text_len = len;
    m->info = info;
    return 0;
}

static int decode_validity(json_t *root, const struct gw_config *cfg, struct gw_msg_new *m,
                           struct gw_problem *err)
{
    json_t *v = json_object_get(root, "validity");
    m->validity_s = cfg->limits.validity_default;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v)) {
        gw_problem_set(err, GW_PROB_WRONG_TYPE, "validity",
                       "validity must be a whole number of seconds");
        return EINVAL;
    }
    json_int_t n = json_integer_value(v);
    if (n < VALIDITY_MIN || n > (json_int_t)cfg->limits.validity_max) {
        gw_problem_set(err, GW_PROB_OUT_OF_RANGE, "validity",
                       "validity must be between %d and %u seconds", VALIDITY_MIN,
                       cfg->limits.validity_max);
        return EINVAL;
    }
    m->validity_s = (int64_t)n;
    return 0;
}

/* C0 controls, DEL and the C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F). */
static bool has_control(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return true;
        if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
            return true;
    }
    return false;
}

static int decode_reference(json_t *root, struct gw_msg_new *m, struct gw_problem *err)
{
    const char *s;
    size_t len;
    int rc = get_string(root, "reference", false, &s, &len, err);
    m->reference[0] = '\0';
    if (rc || !s)
        return rc;
    if (len >= GW_REF_LEN || has_control(s, len)) {
        gw_problem_set(err, GW_PROB_INVALID_REFERENCE, "reference",
                       "reference must be at most %d bytes without control characters",
                       GW_REF_LEN - 1);
        return EINVAL;
    }
    memcpy(m->reference, s, len + 1);
    return 0;
}

/* Over UDP a MESSAGE must stay within 1300 bytes (RFC 3261 §18.1.1). */
static int check_udp_size(const struct gw_config *cfg, const struct gw_msg_new *m,
                          struct gw_problem *err)
{
    if (cfg->sip.transport != GW_TRANSPORT_UDP)
        return 0;
    size_t est = gw_msgsize_estimate(cfg, m->to, m->from, m->text_len);
    if (est <= GW_MSGSIZE_UDP_MAX)
        return 0;
    gw_problem_set(err, GW_PROB_TOO_LARGE_FOR_UDP, "text",
                   "the SIP MESSAGE would be about %zu bytes, more than the %d that may go over "
                   "UDP; shorten the text to at most %zu bytes, or set [sip] transport = tcp",
                   est, GW_MSGSIZE_UDP_MAX, gw_msgsize_udp_text_max(cfg, m->to, m->from));
    return EINVAL;
}

int gw_json_decode_message(const char *body, size_t len, const struct gw_config *cfg,
                           struct gw_msg_new *out, char *text_buf, size_t text_cap,
                           struct gw_problem *err)
{
    json_t *root = NULL;
    struct gw_msg_new m;
    memset(&m, 0, sizeof(m));
    int rc = parse(body, len, &root, err);
    if (rc)
        goto out;
    rc = check_keys(root, err);
    if (!rc)
        rc = decode_to(root, cfg, &m, err);
    if (!rc)
        rc = decode_text(root, cfg, &m, text_buf, text_cap, err);
    if (!rc)
        rc = decode_from(root, cfg, &m, err);
    if (!rc)
        rc = decode_validity(root, cfg, &m, err);
    if (!rc)
        rc = decode_reference(root, &m, err);
    if (!rc)
        rc = check_udp_size(cfg, &m, err);
    if (!rc)
        *out = m;
out:
    json_decref(root);
    return rc;
}

/* ---- encoding ---- */

/* A JSON string of n bytes. Bytes from a peer may not be UTF-8; then everything outside
 * ASCII becomes '?' rather than failing the whole answer. */
static json_t *jstrn(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < n; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    copy[n] = '\0';
    j = json_stringn(copy, n);
    free(copy);
    return j;
}

static json_t *jstr(const char *s)
{
    return jstrn(s, strlen(s));
}

/* "" is null. */
static json_t *jopt(const char *s)
{
    return s[0] != '\0' ? jstr(s) : json_null();
}

/* 0 (unset) is null, anything else RFC 3339 UTC with milliseconds. */
static json_t *jtime(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char buf[GW_TIME_LEN];
    gw_clock_format(ms, buf);
    return json_string(buf);
}

/* Negative (absent) is null. */
static json_t *jint_opt(long long v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static int dump(json_t *o, int bad, char **out, size_t *len)
{
    int err = ENOMEM;
    if (!o || bad)
        goto out;
    char *s = json_dumps(o, JSON_COMPACT);
    if (!s)
        goto out;
    *len = strlen(s);
    *out = s;
    err = 0;
out:
    json_decref(o);
    return err;
}

static json_t *reason_json(const struct gw_sip_answer *a)
{
    if (a->reason_protocol[0] == '\0')
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    const char *name = NULL;
    if (strcasecmp(a->reason_protocol, "Q.850") == 0 && a->reason_cause >= 0)
        name = gw_q850_name(a->reason_cause);
    int bad = 0;
    bad |= json_object_set_new(o, "protocol", jstr(a->reason_protocol));
    bad |= json_object_set_new(o, "cause", jint_opt(a->reason_cause));
    bad |= json_object_set_new(o, "text", jopt(a->reason_text));
    bad |= json_object_set_new(o, "name", name ? json_string(name) : json_null());
    return built(o, bad);
}

static json_t *warning_json(const struct gw_sip_answer *a)
{
    if (a->warning_code < 0)
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "code", json_integer(a->warning_code));
    bad |= json_object_set_new(o, "text", jopt(a->warning_text));
    return built(o, bad);
}

/* The final SIP answer, or null when there was none (status 0: our own deadline). */
static json_t *sip_json(const struct gw_sip_answer *a)
{
    if (a->status == GW_SIP_NO_ANSWER)
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "status", json_integer(a->status));
    bad |= json_object_set_new(o, "phrase", jstr(a->phrase));
    bad |= json_object_set_new(o, "call_id", jopt(a->call_id));
    bad |= json_object_set_new(o, "reason", reason_json(a));
    bad |= json_object_set_new(o, "warning", warning_json(a));
    bad |= json_object_set_new(o, "retry_after", jint_opt(a->retry_after));
    return built(o, bad);
}

/* error.sip: the status line and Warning of the answer that caused the error. */
static json_t *error_sip_json(const struct gw_sip_answer *a)
{
    if (a->status == GW_SIP_NO_ANSWER)
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "status", json_integer(a->status));
    bad |= json_object_set_new(o, "phrase", jstr(a->phrase));
    bad |= json_object_set_new(o, "warning", warning_json(a));
    return built(o, bad);
}

static const char *no_answer_advice(enum gw_status s)
{
    if (s == GW_STATUS_EXPIRED)
        return "The validity period ran out before the message could be sent; send it again "
               "if it is still wanted.";
    return "The message could not be sent; check the events for what happened.";
}

/* The error object: present when the store recorded an error code (failed, expired, or a
 * retry pending after an error), or the message failed or expired without one; never for a
 * cancelled message (the client withdrew it; sip and the events keep what happened). */
static json_t *error_json(const struct gw_msg_view *v)
{
    bool dead = v->status == GW_STATUS_FAILED || v->status == GW_STATUS_EXPIRED;
    if ((v->error_code[0] == '\0' && !dead) || v->status == GW_STATUS_CANCELLED)
        return json_null();
    struct gw_outcome oc = {.success = true};
    if (v->has_answer)
        gw_outcome_classify(&v->answer, &oc);
    bool classified = v->has_answer && !oc.success;
    const char *code = v->error_code[0] != '\0' ? v->error_code
                       : classified             ? oc.code
                                                : gw_status_name(v->status);
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "code", jstr(code));
    bad |= json_object_set_new(o, "permanent", json_boolean(classified ? oc.permanent : dead));
    bad |= json_object_set_new(o, "advice",
                               json_string(classified ? oc.advice : no_answer_advice(v->status)));
    bad |= json_object_set_new(o, "sip", v->has_answer ? error_sip_json(&v->answer) : json_null());
    bad |= json_object_set_new(o, "reason", v->has_answer ? reason_json(&v->answer) : json_null());
    return built(o, bad);
}

static json_t *events_json(const struct gw_msg_event *ev, size_t nev)
{
    json_t *list = json_array();
    if (!list)
        return NULL;
    for (size_t i = 0; i < nev; i++) {
        json_t *e = json_object();
        int bad = !e;
        if (e) {
            bad |= json_object_set_new(e, "at", jtime(ev[i].at_ms));
            bad |= json_object_set_new(e, "status", json_string(gw_status_name(ev[i].status)));
            bad |= json_object_set_new(e, "layer", jstr(ev[i].layer));
            bad |= json_object_set_new(e, "detail", jstr(ev[i].detail));
            bad |= json_array_append_new(list, e);
        }
        if (bad) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

int gw_json_accepted(const struct gw_msg_view *v, char **out, size_t *len)
{
    json_t *o = json_object();
    int bad = 0;
    if (o) {
        bad |= json_object_set_new(o, "id", json_string(v->id));
        bad |= json_object_set_new(o, "status", json_string(gw_status_name(v->status)));
        bad |= json_object_set_new(o, "to", jstr(v->to));
        bad |= json_object_set_new(o, "from", jopt(v->from));
        bad |= json_object_set_new(o, "reference", jopt(v->reference));
        bad |= json_object_set_new(o, "encoding",
                                   json_string(gw_text_encoding_name(v->info.encoding)));
        bad |= json_object_set_new(o, "segments", json_integer(v->info.segments));
        bad |= json_object_set_new(o, "created_at", jtime(v->created_at_ms));
        bad |= json_object_set_new(o, "expires_at", jtime(v->expires_at_ms));
    }
    return dump(o, bad, out, len);
}

/* Every field of a message but its events: the list item, the DELETE answer, and the start
 * of GET /messages/{id}. NULL on ENOMEM. */
static json_t *summary_json(const struct gw_msg_view *v)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool queued = v->status == GW_STATUS_QUEUED;
    int bad = 0;
    bad |= json_object_set_new(o, "id", json_string(v->id));
    bad |= json_object_set_new(o, "direction", json_string(v->inbound ? "inbound" : "outbound"));
    bad |= json_object_set_new(o, "status", json_string(gw_status_name(v->status)));
    bad |= json_object_set_new(o, "to", jstr(v->to));
    bad |= json_object_set_new(o, "from", jopt(v->from));
    bad |= json_object_set_new(o, "text", jstrn(v->text, v->text_len));
    bad |= json_object_set_new(o, "reference", jopt(v->reference));
    bad |= json_object_set_new(o, "encoding", json_string(gw_text_encoding_name(v->info.encoding)));
    bad |= json_object_set_new(o, "segments", json_integer(v->info.segments));
    bad |= json_object_set_new(o, "created_at", jtime(v->created_at_ms));
    bad |= json_object_set_new(o, "updated_at", jtime(v->updated_at_ms));
    bad |= json_object_set_new(o, "expires_at", jtime(v->expires_at_ms));
    bad |=
        json_object_set_new(o, "next_attempt_at", queued ? jtime(v->next_attempt_ms) : json_null());
    bad |= json_object_set_new(o, "attempts", json_integer(v->attempts));
    bad |= json_object_set_new(o, "sip", v->has_answer ? sip_json(&v->answer) : json_null());
    bad |= json_object_set_new(o, "error", error_json(v));
    return built(o, bad);
}

int gw_json_message(const struct gw_msg_view *v, const struct gw_msg_event *ev, size_t nev,
                    char **out, size_t *len)
{
    json_t *o = summary_json(v);
    int bad = 0;
    if (o)
        bad |= json_object_set_new(o, "events", events_json(ev, nev));
    return dump(o, bad, out, len);
}

int gw_json_summary(const struct gw_msg_view *v, char **out, size_t *len)
{
    return dump(summary_json(v), 0, out, len);
}

struct gw_json_list {
    json_t *items;
};

int gw_json_list_new(struct gw_json_list **out)
{
    struct gw_json_list *l = calloc(1, sizeof(*l));
    if (!l)
        return ENOMEM;
    l->items = json_array();
    if (!l->items) {
        free(l);
        return ENOMEM;
    }
    *out = l;
    return 0;
}

int gw_json_list_add(struct gw_json_list *l, const struct gw_msg_view *v)
{
    json_t *o = summary_json(v);
    if (!o || json_array_append_new(l->items, o) != 0)
        return ENOMEM;
    return 0;
}

int gw_json_list_finish(struct gw_json_list *l, const char *next_cursor, char **out, size_t *len)
{
    json_t *o = json_object();
    int bad = 0;
    if (o) {
        bad |= json_object_set(o, "items", l->items);
        bad |= json_object_set_new(o, "next_cursor", jopt(next_cursor));
    }
    gw_json_list_free(l);
    return dump(o, bad, out, len);
}

void gw_json_list_free(struct gw_json_list *l)
{
    if (!l)
        return;
    json_decref(l->items);
    free(l);
}

int gw_json_registration(const struct gw_reg_view *r, char **out, size_t *len)
{
    json_t *o = json_object();
    int bad = 0;
    if (o) {
        bad |= json_object_set_new(o, "state", json_string(gw_reg_state_name(r->state)));
        bad |= json_object_set_new(o, "aor", jopt(r->aor));
        bad |= json_object_set_new(o, "registrar", jopt(r->registrar));
        bad |= json_object_set_new(o, "last", sip_json(&r->last));
        bad |= json_object_set_new(o, "granted_expires", json_integer(r->granted_expires));
        bad |= json_object_set_new(o, "registered_at", jtime(r->registered_at_ms));
        bad |= json_object_set_new(o, "expires_at", jtime(r->expires_at_ms));
        bad |= json_object_set_new(o, "next_attempt_at", jtime(r->next_attempt_ms));
        bad |= json_object_set_new(o, "failures", json_integer(r->failures));
        bad |= json_object_set_new(o, "detail", jopt(r->detail));
    }
    return dump(o, bad, out, len);
}

static json_t *health_reg_json(const struct gw_reg_view *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "state", json_string(gw_reg_state_name(r->state)));
    bad |= json_object_set_new(o, "ready", json_boolean(gw_reg_state_ready(r->state)));
    bad |= json_object_set_new(o, "failures", json_integer(r->failures));
    bad |= json_object_set_new(o, "expires_at", jtime(r->expires_at_ms));
    bad |= json_object_set_new(o, "detail", jopt(r->detail));
    return built(o, bad);
}

static json_t *health_store_json(const struct gw_store_stats *s)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "healthy", json_boolean(s->healthy));
    bad |= json_object_set_new(o, "queued", json_integer(s->queued));
    bad |= json_object_set_new(o, "sending", json_integer(s->sending));
    bad |= json_object_set_new(o, "backlog", json_integer(s->backlog));
    bad |= json_object_set_new(o, "last_error", jopt(s->last_error));
    return built(o, bad);
}

static json_t *health_dispatch_json(const struct gw_store_stats *s)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "paused", json_boolean(s->paused));
    bad |= json_object_set_new(o, "reason", jopt(s->paused ? s->pause_reason : ""));
    bad |= json_object_set_new(o, "until", jtime(s->paused ? s->paused_until_ms : 0));
    return built(o, bad);
}

int gw_json_health(const struct gw_json_health *h, char **out, size_t *len)
{
    json_t *o = json_object();
    json_t *q = json_object();
    int bad = !q;
    if (o && q) {
        bad |= json_object_set_new(q, "depth", json_integer(h->queue_depth));
        bad |= json_object_set_new(q, "capacity", json_integer(h->queue_capacity));
        bad |= json_object_set_new(o, "status", json_string(h->ok ? "ok" : "degraded"));
        bad |= json_object_set_new(o, "registration", health_reg_json(&h->reg));
        bad |= json_object_set_new(o, "store", health_store_json(&h->store));
        bad |= json_object_set(o, "queue", q);
        bad |= json_object_set_new(o, "dispatch", health_dispatch_json(&h->store));
    }
    json_decref(q);
    return dump(o, bad, out, len);
}

int gw_json_status(const char *status, char **out, size_t *len)
{
    json_t *o = json_object();
    int bad = 0;
    if (o)
        bad |= json_object_set_new(o, "status", json_string(status));
    return dump(o, bad, out, len);
}
