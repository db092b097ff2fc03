/* JSON for the HTTP API (jansson): the strict decoder of POST /messages bodies and the
 * encoders of every success body (the message list is built item by item). The decoder is a pure
 * function of the body and the config, so it is tested without a server. Encoders return owned
 * strings (free with free()). */
#ifndef GW_HTTP_JSON_H
#define GW_HTTP_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/config.h"
#include "gateway/registration.h"
#include "gateway/store.h"
#include "http/problem.h"

#define GW_JSON_NUMBER_MAX 64 /* longest "to"/"from" string looked at as a number */

/* True when the Content-Type value (NULL when absent) is application/json, optionally with
 * charset=utf-8 (any case, quoted or not) or other parameters. Any other charset is false. */
bool gw_json_media_type_ok(const char *content_type);

/* Decodes and validates a POST /messages body of len bytes (no NUL needed) against cfg:
 * a single JSON object (RFC 8259, UTF-8, no byte order mark, no duplicate keys, no NUL), with
 * only the fields to (required), text (required), from, validity and reference (optional;
 * null counts as absent). to and from are normalised to E.164 (default country code from
 * cfg), from must be one of cfg->api.senders, text must be SMS-able and fit
 * cfg->limits.max_segments, validity is 60..cfg->limits.validity_max seconds (default
 * cfg->limits.validity_default), reference is at most 128 bytes without control characters,
 * and with cfg->sip.transport UDP the estimated SIP MESSAGE (gw_msgsize_estimate) must fit in
 * GW_MSGSIZE_UDP_MAX bytes (else too_large_for_udp, field text).
 * On success *out is filled whole: out->text points into text_buf (text_cap bytes, borrowed;
 * keep it alive while out is used), idem_key is "" and fingerprint zero. On failure err
 * names the first problem and *out is untouched. Any thread.
 * Returns 0, EINVAL (err set) or ENOMEM (err set to internal_error). */
int gw_json_decode_message(const char *body, size_t len, const struct gw_config *cfg,
                           struct gw_msg_new *out, char *text_buf, size_t text_cap,
                           struct gw_problem *err) GW_MUST_CHECK;

/* The 202 body for an accepted (or replayed) message:
 * {id, status, to, from, reference, encoding, segments, created_at, expires_at}.
 * Any thread. Returns 0 or ENOMEM; *out is owned by the caller, *len its length. */
int gw_json_accepted(const struct gw_msg_view *v, char **out, size_t *len) GW_MUST_CHECK;

/* The GET /messages/{id} body: the message, its last SIP answer, its error object and its
 * nev events (oldest first). Any thread. Returns 0 or ENOMEM. */
int gw_json_message(const struct gw_msg_view *v, const struct gw_msg_event *ev, size_t nev,
                    char **out, size_t *len) GW_MUST_CHECK;

/* The same without "events": a message summary (the DELETE /messages/{id} body). Any thread.
 * Returns 0 or ENOMEM. */
int gw_json_summary(const struct gw_msg_view *v, char **out, size_t *len) GW_MUST_CHECK;

/* The GET /messages body {items: [summary...], next_cursor}, built one item at a time. */
struct gw_json_list;

/* Starts an empty list. Returns 0 or ENOMEM. */
int gw_json_list_new(struct gw_json_list **out) GW_MUST_CHECK;

/* Appends the summary of v. Returns 0 or ENOMEM (the list stays usable, without v). */
int gw_json_list_add(struct gw_json_list *l, const struct gw_msg_view *v) GW_MUST_CHECK;

/* Encodes the body with next_cursor ("" gives null) and frees l. Returns 0 or ENOMEM. */
int gw_json_list_finish(struct gw_json_list *l, const char *next_cursor, char **out,
                        size_t *len) GW_MUST_CHECK;

/* Frees an unfinished list. Accepts NULL. */
void gw_json_list_free(struct gw_json_list *l);

/* The GET /registrations body. Any thread. Returns 0 or ENOMEM. */
int gw_json_registration(const struct gw_reg_view *r, char **out, size_t *len) GW_MUST_CHECK;

/* What GET /health reports. */
struct gw_json_health {
    bool ok; /* registration ready, store healthy (and, for /health, dispatch not paused) */
    struct gw_reg_view reg;
    struct gw_store_stats store; /* also the dispatch state (paused, pause_reason, until) */
    unsigned queue_depth;
    unsigned queue_capacity;
};

/* The GET /health body. Any thread. Returns 0 or ENOMEM. */
int gw_json_health(const struct gw_json_health *h, char **out, size_t *len) GW_MUST_CHECK;

/* A {"status": status} body (GET /health/live and /health/ready). Returns 0 or ENOMEM. */
int gw_json_status(const char *status, char **out, size_t *len) GW_MUST_CHECK;

#endif
