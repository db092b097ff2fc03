/* The query string of GET /messages: status, direction, since, limit and cursor, checked
 * strictly (unknown or repeated parameters are errors, like unknown JSON fields) into a
 * struct gw_store_query. Pure functions, any thread; no libmicrohttpd types. */
#ifndef GW_HTTP_QUERY_H
#define GW_HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/store.h"
#include "http/problem.h"

#define GW_QUERY_MAX_ARGS      16 /* parameters looked at; more is an error */
#define GW_QUERY_LIMIT_DEFAULT 50

/* One decoded query parameter; value is NULL when the name came without "=". Borrowed. */
struct gw_query_arg {
    const char *name;
    const char *value;
};

/* Parses n arguments (more_args: the request had more than were collected) into *out:
 *   status     one status name (queued, sending, sent, delivered, undelivered, failed,
 *              expired, received, cancelled)
 *   direction  outbound or inbound
 *   since      an RFC 3339 date-time (gw_query_time): created at or after it
 *   limit      1..GW_STORE_LIST_MAX, default GW_QUERY_LIMIT_DEFAULT
 *   cursor     the next_cursor of the previous page (a message id)
 * Anything else, a name given twice, a missing or empty value, or a bad value sets err to
 * invalid_parameter with the parameter as its field. *out is written only on success.
 * Returns 0 or EINVAL. */
int gw_query_list(const struct gw_query_arg *args, size_t n, bool more_args,
                  struct gw_store_query *out, struct gw_problem *err) GW_MUST_CHECK;

/* Parses an RFC 3339 date-time, "2026-11-26T07:30:50Z" or "2026-11-26T09:30:50.123+02:00"
 * ("T" and "Z" in either case; any number of fraction digits, cut to milliseconds; a space
 * where the offset's "+" belongs is read as "+", since an unencoded "+" in a query string
 * arrives as a space), into milliseconds since the epoch (times before 1970 give 0). Returns 0
 * or EINVAL; *ms is written only on success. */
int gw_query_time(const char *s, int64_t *ms) GW_MUST_CHECK;

#endif
