/* Query-string parsing for GET /messages, and a strict RFC 3339 date-time reader. */
#include "http/query.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/id.h"
#include "gateway/status.h"

static_assert(GW_STORE_LIST_MAX == 200, "the limit's detail text names 200");

/* ---- RFC 3339 ---- */

/* Reads exactly n decimal digits at *p into *v and advances. */
static bool digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return true;
}

static bool expect(const char **p, char a, char b)
{
    if (**p != a && **p != b)
        return false;
    (*p)++;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads ".fff..." (optional) as milliseconds. */
static bool fraction(const char **p, int *ms)
{
    *ms = 0;
    if (**p != '.')
        return true;
    (*p)++;
    int n = 0;
    while (**p >= '0' && **p <= '9') {
        if (n < 3)
            *ms = *ms * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    for (int i = n; i < 3; i++)
        *ms *= 10;
    return n > 0;
}

/* Reads "Z" or "+hh:mm" / "-hh:mm" (or " hh:mm") as minutes east of UTC. */
static bool offset(const char **p, int *minutes)
{
    if (expect(p, 'Z', 'z')) {
        *minutes = 0;
        return true;
    }
    char sign = **p;
    if (sign != '+' && sign != '-' && sign != ' ')
        return false;
    (*p)++;
    int h, m;
    if (!digits(p, 2, &h) || !expect(p, ':', ':') || !digits(p, 2, &m) || h > 23 || m > 59)
        return false;
    *minutes = (sign == '-' ? -1 : 1) * (h * 60 + m);
    return true;
}

int gw_query_time(const char *s, int64_t *ms)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, frac, off;
    if (!digits(&p, 4, &y) || !expect(&p, '-', '-') || !digits(&p, 2, &mo) ||
        !expect(&p, '-', '-') || !digits(&p, 2, &d) || !expect(&p, 'T', 't') ||
        !digits(&p, 2, &h) || !expect(&p, ':', ':') || !digits(&p, 2, &mi) ||
        !expect(&p, ':', ':') || !digits(&p, 2, &sec) || !fraction(&p, &frac) ||
        !offset(&p, &off) || *p != '\0')
        return EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return EINVAL;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec -
                   (int64_t)off * 60;
    int64_t v = secs * 1000 + frac;
    *ms = v > 0 ? v : 0;
    return 0;
}

/* ---- GET /messages ---- */

static int bad(struct gw_problem *err, const char *name, const char *detail)
{
    gw_problem_set(err, GW_PROB_INVALID_PARAMETER, name, "%s %s", name, detail);
    return EINVAL;
}

static int parse_limit(const char *v, unsigned *out)
{
    size_t len = strlen(v);
    unsigned n = 0;
    if (len == 0 || len > 3)
        return EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return EINVAL;
        n = n * 10 + (unsigned)(v[i] - '0');
    }
    if (n < 1 || n > GW_STORE_LIST_MAX)
        return EINVAL;
    *out = n;
    return 0;
}

/* Applies one parameter to q. */
static int apply(const char *name, const char *v, struct gw_store_query *q, struct gw_problem *err)
{
    if (strcmp(name, "status") == 0) {
        if (gw_status_parse(v, &q->status) != 0)
            return bad(err, name,
                       "must be one of queued, sending, sent, delivered, undelivered, failed, "
                       "expired, received, cancelled");
        q->has_status = true;
    } else if (strcmp(name, "direction") == 0) {
        if (strcmp(v, "outbound") != 0 && strcmp(v, "inbound") != 0)
            return bad(err, name, "must be outbound or inbound");
        q->has_direction = true;
        q->inbound = strcmp(v, "inbound") == 0;
    } else if (strcmp(name, "since") == 0) {
        if (gw_query_time(v, &q->since_ms) != 0)
            return bad(err, name, "must be an RFC 3339 date-time such as 2026-11-26T07:30:50Z");
    } else if (strcmp(name, "limit") == 0) {
        if (parse_limit(v, &q->limit) != 0)
            return bad(err, name, "must be a whole number from 1 to 200");
    } else if (strcmp(name, "cursor") == 0) {
        if (!gw_id_valid(v))
            return bad(err, name, "must be the next_cursor of an earlier page (a message id)");
        snprintf(q->cursor, sizeof(q->cursor), "%s", v);
    }
    return 0;
}

static bool known(const char *name)
{
    static const char *const names[] = {"status", "direction", "since", "limit", "cursor"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0)
            return true;
    }
    return false;
}

int gw_query_list(const struct gw_query_arg *args, size_t n, bool more_args,
                  struct gw_store_query *out, struct gw_problem *err)
{
    struct gw_store_query q;
    memset(&q, 0, sizeof(q));
    q.limit = GW_QUERY_LIMIT_DEFAULT;
    if (more_args || n > GW_QUERY_MAX_ARGS) {
        gw_problem_set(err, GW_PROB_INVALID_PARAMETER, NULL,
                       "too many query parameters; allowed: status, direction, since, limit, "
                       "cursor");
        return EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = args[i].name ? args[i].name : "";
        if (!known(name)) {
            gw_problem_set(err, GW_PROB_INVALID_PARAMETER, name,
                           "unknown query parameter \"%.64s\"; allowed: status, direction, "
                           "since, limit, cursor",
                           name);
            return EINVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (args[j].name && strcmp(args[j].name, name) == 0)
                return bad(err, name, "is given more than once");
        }
        if (!args[i].value || args[i].value[0] == '\0')
            return bad(err, name, "needs a value");
        int rc = apply(name, args[i].value, &q, err);
        if (rc)
            return rc;
    }
    *out = q;
    return 0;
}
