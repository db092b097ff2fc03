/* The one error table of the HTTP API: every error the API can answer has a stable machine
 * code, an HTTP status, a title and (for 503) a Retry-After. Error bodies are RFC 9457
 * application/problem+json: {type, title, status, detail, code, errors?}. */
#ifndef GW_HTTP_PROBLEM_H
#define GW_HTTP_PROBLEM_H

#include <stddef.h>

#include "gateway/log.h"

enum gw_problem_code {
    GW_PROB_INVALID_JSON = 0,
    GW_PROB_BODY_MUST_BE_OBJECT,
    GW_PROB_UNKNOWN_FIELD,
    GW_PROB_MISSING_FIELD,
    GW_PROB_WRONG_TYPE,
    GW_PROB_INVALID_NUMBER,
    GW_PROB_INVALID_TEXT,
    GW_PROB_EMPTY_TEXT,
    GW_PROB_TEXT_TOO_LONG,
    GW_PROB_OUT_OF_RANGE,
    GW_PROB_INVALID_REFERENCE,
    GW_PROB_SENDER_NOT_ALLOWED,
    GW_PROB_UNSUPPORTED_MEDIA_TYPE,
    GW_PROB_BODY_TOO_LARGE,
    GW_PROB_INVALID_IDEMPOTENCY_KEY,
    GW_PROB_IDEMPOTENCY_KEY_REUSED,
    GW_PROB_UNAUTHORIZED,
    GW_PROB_NOT_FOUND,
    GW_PROB_METHOD_NOT_ALLOWED,
    GW_PROB_OVERLOADED,
    GW_PROB_STORE_UNAVAILABLE,
    GW_PROB_INVALID_PARAMETER,
    GW_PROB_NOT_CANCELLABLE,
    GW_PROB_TOO_LARGE_FOR_UDP,
    GW_PROB_AMBIGUOUS_LENGTH,
    GW_PROB_INTERNAL_ERROR, /* always last */
};
#define GW_PROB_COUNT 26

/* Prefix of every problem "type" URI; the code follows it. */
#define GW_PROBLEM_TYPE_BASE "https://smsgw.dev/errors/"

#define GW_PROBLEM_FIELD_LEN  64
#define GW_PROBLEM_DETAIL_LEN 256

/* One error answer: the code, the request field it is about ("" for none) and one sentence of
 * detail. Plain value; fill it with gw_problem_set. */
struct gw_problem {
    enum gw_problem_code code;
    char field[GW_PROBLEM_FIELD_LEN];
    char detail[GW_PROBLEM_DETAIL_LEN];
};

/* Sets every member of p. field may be NULL (no field). The detail is formatted from fmt and
 * cut to fit; bytes outside printable ASCII in field and detail become '?', so client input
 * quoted in them can neither break the JSON nor a log line. Any thread. */
void gw_problem_set(struct gw_problem *p, enum gw_problem_code code, const char *field,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The HTTP status of code (400..599). */
unsigned gw_problem_status(enum gw_problem_code code);

/* The stable machine name of code, e.g. "invalid_json". */
const char *gw_problem_name(enum gw_problem_code code);

/* The short human title of code, e.g. "Malformed JSON". */
const char *gw_problem_title(enum gw_problem_code code);

/* Seconds for the Retry-After header of code, 0 when the answer has none. */
unsigned gw_problem_retry_after(enum gw_problem_code code);

/* Encodes p as an application/problem+json body. On success *out is an owned NUL-terminated
 * string (free with free()) of *len bytes. Any thread. Returns 0 or ENOMEM. */
int gw_problem_body(const struct gw_problem *p, char **out, size_t *len) GW_MUST_CHECK;

#endif
