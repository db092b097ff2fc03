/* The error table and the problem+json encoder. The table is indexed by enum gw_problem_code
 * so that a code, its status and its title can never drift apart. */
#include "http/problem.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

struct entry {
    const char *name;
    const char *title;
    unsigned status;
    unsigned retry_after;
};

static_assert(GW_PROB_COUNT == GW_PROB_INTERNAL_ERROR + 1, "GW_PROB_COUNT is out of date");

static const struct entry table[GW_PROB_COUNT] = {
    [GW_PROB_INVALID_JSON] = {"invalid_json", "Malformed JSON", 400, 0},
    [GW_PROB_BODY_MUST_BE_OBJECT] = {"body_must_be_object", "The body must be a JSON object", 422,
                                     0},
    [GW_PROB_UNKNOWN_FIELD] = {"unknown_field", "Unknown field", 422, 0},
    [GW_PROB_MISSING_FIELD] = {"missing_field", "Missing required field", 422, 0},
    [GW_PROB_WRONG_TYPE] = {"wrong_type", "Field has the wrong type", 422, 0},
    [GW_PROB_INVALID_NUMBER] = {"invalid_number", "Invalid phone number", 422, 0},
    [GW_PROB_INVALID_TEXT] = {"invalid_text", "Text cannot be sent as SMS", 422, 0},
    [GW_PROB_EMPTY_TEXT] = {"empty_text", "Text is empty", 422, 0},
    [GW_PROB_TEXT_TOO_LONG] = {"text_too_long", "Text is too long", 422, 0},
    [GW_PROB_OUT_OF_RANGE] = {"out_of_range", "Value out of range", 422, 0},
    [GW_PROB_INVALID_REFERENCE] = {"invalid_reference", "Invalid reference", 422, 0},
    [GW_PROB_SENDER_NOT_ALLOWED] = {"sender_not_allowed", "Sender not allowed", 403, 0},
    [GW_PROB_UNSUPPORTED_MEDIA_TYPE] = {"unsupported_media_type", "Unsupported media type", 415, 0},
    [GW_PROB_BODY_TOO_LARGE] = {"body_too_large", "Request body too large", 413, 0},
    [GW_PROB_INVALID_IDEMPOTENCY_KEY] = {"invalid_idempotency_key", "Invalid Idempotency-Key", 400,
                                         0},
    [GW_PROB_IDEMPOTENCY_KEY_REUSED] = {"idempotency_key_reused",
                                        "Idempotency-Key reused with another request", 422, 0},
    [GW_PROB_UNAUTHORIZED] = {"unauthorized", "Unauthorized", 401, 0},
    [GW_PROB_NOT_FOUND] = {"not_found", "Not found", 404, 0},
    [GW_PROB_METHOD_NOT_ALLOWED] = {"method_not_allowed", "Method not allowed", 405, 0},
    [GW_PROB_OVERLOADED] = {"overloaded", "Gateway overloaded", 503, 1},
    [GW_PROB_STORE_UNAVAILABLE] = {"store_unavailable", "Message store unavailable", 503, 5},
    [GW_PROB_INVALID_PARAMETER] = {"invalid_parameter", "Invalid query parameter", 422, 0},
    [GW_PROB_NOT_CANCELLABLE] = {"not_cancellable", "Message cannot be cancelled", 409, 0},
    [GW_PROB_AMBIGUOUS_LENGTH] = {"ambiguous_length", "Ambiguous message length", 400, 0},
    [GW_PROB_TOO_LARGE_FOR_UDP] = {"too_large_for_udp", "Message too large for SIP over UDP", 413,
                                   0},
    [GW_PROB_INTERNAL_ERROR] = {"internal_error", "Internal error", 500, 0},
};

static const struct entry *find(enum gw_problem_code code)
{
    if ((unsigned)code >= GW_PROB_COUNT)
        return &table[GW_PROB_INTERNAL_ERROR];
    return &table[code];
}

unsigned gw_problem_status(enum gw_problem_code code)
{
    return find(code)->status;
}

const char *gw_problem_name(enum gw_problem_code code)
{
    return find(code)->name;
}

const char *gw_problem_title(enum gw_problem_code code)
{
    return find(code)->title;
}

unsigned gw_problem_retry_after(enum gw_problem_code code)
{
    return find(code)->retry_after;
}

/* Client bytes may be quoted in a detail; keep only printable ASCII. */
static void scrub(char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c > 0x7e)
            *s = '?';
    }
}

void gw_problem_set(struct gw_problem *p, enum gw_problem_code code, const char *field,
                    const char *fmt, ...)
{
    p->code = code;
    snprintf(p->field, sizeof(p->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
    va_end(ap);
    if (n < 0)
        p->detail[0] = '\0';
    scrub(p->field);
    scrub(p->detail);
}

static json_t *field_errors(const struct gw_problem *p)
{
    json_t *item = json_object();
    json_t *list = json_array();
    int bad = !item || !list;
    if (!bad) {
        bad |= json_object_set_new(item, "field", json_string(p->field));
        bad |= json_object_set_new(item, "code", json_string(gw_problem_name(p->code)));
        bad |= json_array_append(list, item);
    }
    json_decref(item);
    if (bad) {
        json_decref(list);
        return NULL;
    }
    return list;
}

int gw_problem_body(const struct gw_problem *p, char **out, size_t *len)
{
    const struct entry *e = find(p->code);
    char type[128];
    int n = snprintf(type, sizeof(type), "%s%s", GW_PROBLEM_TYPE_BASE, e->name);
    if (n < 0 || (size_t)n >= sizeof(type))
        return ENOMEM;
    int err = ENOMEM;
    char *s = NULL;
    json_t *o = json_object();
    if (!o)
        goto out;
    int bad = 0;
    bad |= json_object_set_new(o, "type", json_string(type));
    bad |= json_object_set_new(o, "title", json_string(e->title));
    bad |= json_object_set_new(o, "status", json_integer(e->status));
    bad |= json_object_set_new(o, "detail", json_string(p->detail));
    bad |= json_object_set_new(o, "code", json_string(e->name));
    if (p->field[0] != '\0')
        bad |= json_object_set_new(o, "errors", field_errors(p));
    if (bad)
        goto out;
    s = json_dumps(o, JSON_COMPACT);
    if (!s)
        goto out;
    *len = strlen(s);
    *out = s;
    err = 0;
out:
    json_decref(o);
    return err;
}
