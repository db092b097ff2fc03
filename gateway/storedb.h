/* The SQL side of the store: schema, prepared statements and row operations on one SQLite
 * connection. Internal to gateway/store.c; a connection is used by one thread at a time. */
#ifndef GW_GATEWAY_STOREDB_H
#define GW_GATEWAY_STOREDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/store.h"

struct gw_storedb;

/* A due message claimed for sending. */
struct gw_storedb_claim {
    int64_t seq;
    char id[GW_ID_LEN];
    char to[GW_E164_LEN];
    char from[GW_E164_LEN];
    unsigned attempt;
    int64_t expires_at_ms;
};

/* Opens a connection; writer=true creates the schema and sets WAL + synchronous=FULL.
 * Returns 0 or EIO (err gets SQLite's message). */
int gw_storedb_open(struct gw_storedb **out, const char *path, bool writer, char *err,
                    size_t errlen) GW_MUST_CHECK;
void gw_storedb_close(struct gw_storedb *db);

/* The last SQLite error message of this connection. */
const char *gw_storedb_errmsg(struct gw_storedb *db);

int gw_storedb_begin(struct gw_storedb *db) GW_MUST_CHECK;
int gw_storedb_commit(struct gw_storedb *db) GW_MUST_CHECK;
void gw_storedb_rollback(struct gw_storedb *db);

/* Inserts an outbound message (status queued) and its first event. id and times are given. */
int gw_storedb_insert(struct gw_storedb *db, const char *id, const struct gw_msg_new *m,
                      int64_t now_ms, int64_t expires_at_ms) GW_MUST_CHECK;

/* Inserts an inbound message (status received) and its event. */
int gw_storedb_insert_inbound(struct gw_storedb *db, const char *id, const char *from,
                              const char *to, const char *text, size_t text_len,
                              int64_t now_ms) GW_MUST_CHECK;

/* Idempotency: looks key up. Returns 0 and fills fingerprint/msg_id when found, ENOENT when
 * not, EIO on error. */
int gw_storedb_idem_find(struct gw_storedb *db, const char *key, unsigned char fingerprint[32],
                         char msg_id[GW_ID_LEN]) GW_MUST_CHECK;
int gw_storedb_idem_insert(struct gw_storedb *db, const char *key,
                           const unsigned char fingerprint[32], const char *msg_id,
                           int64_t now_ms) GW_MUST_CHECK;

/* Appends an event to message seq. */
int gw_storedb_event(struct gw_storedb *db, int64_t seq, int64_t at_ms, enum gw_status status,
                     const char *layer, const char *detail) GW_MUST_CHECK;

/* Claims up to max due outbound messages (queued, next attempt due, not expired): they become
 * sending with attempts+1 and a lease. Fills claims and *n. */
int gw_storedb_claim_due(struct gw_storedb *db, int64_t now_ms, int64_t lease_until_ms,
                         struct gw_storedb_claim *claims, size_t max, size_t *n) GW_MUST_CHECK;

/* Reads what gw_storedb_claim_due claimed: the text of message seq into job. */
int gw_storedb_read_text(struct gw_storedb *db, int64_t seq, char *buf, size_t buflen,
                         size_t *len) GW_MUST_CHECK;

/* Moves queued messages past their validity to expired. Sets *n to how many. */
int gw_storedb_expire(struct gw_storedb *db, int64_t now_ms, size_t *n) GW_MUST_CHECK;

/* Moves sending messages whose lease ended before now_ms (all of them if now_ms is
 * INT64_MAX) back to queued. Sets *n. */
int gw_storedb_requeue_leases(struct gw_storedb *db, int64_t now_ms, size_t *n) GW_MUST_CHECK;

/* The earliest next_attempt_at of a queued message, or INT64_MAX. */
int gw_storedb_next_due(struct gw_storedb *db, int64_t *out) GW_MUST_CHECK;

/* Applies the final answer of attempt `attempt` to message id at now_ms. The caller decides
 * the new status and next attempt. Returns ENOENT when the message is not sending with that
 * attempt number (a stale report). */
struct gw_storedb_result {
    enum gw_status status;   /* sent, failed, queued (retry) or expired */
    int64_t next_attempt_ms; /* for queued */
    const char *error_code;  /* "" on success */
    const char *detail;      /* the event's text */
};
int gw_storedb_lookup_sending(struct gw_storedb *db, const char *id, unsigned attempt, int64_t *seq,
                              int64_t *expires_at_ms) GW_MUST_CHECK;
int gw_storedb_apply(struct gw_storedb *db, int64_t seq, const struct gw_sip_answer *a,
                     const struct gw_storedb_result *r, int64_t now_ms) GW_MUST_CHECK;

/* Reads message id. Returns 0, ENOENT or EIO. */
int gw_storedb_get(struct gw_storedb *db, const char *id, struct gw_msg_view *out) GW_MUST_CHECK;

/* Reads up to max events of message id, oldest first. */
int gw_storedb_events(struct gw_storedb *db, const char *id, struct gw_msg_event *ev, size_t max,
                      size_t *n) GW_MUST_CHECK;

/* Cancels message id at now_ms if it is queued: status cancelled and an event. Sets *status
 * to the message's status afterwards. Returns 0, ENOENT (no such message), EALREADY (already
 * cancelled), EBUSY (in another status, *status says which) or EIO. */
int gw_storedb_cancel(struct gw_storedb *db, const char *id, int64_t now_ms,
                      enum gw_status *status) GW_MUST_CHECK;

/* Deletes up to max idempotency records created before before_ms; *n gets how many. */
int gw_storedb_idem_prune(struct gw_storedb *db, int64_t before_ms, size_t max,
                          size_t *n) GW_MUST_CHECK;

/* Reads the messages q selects, newest id first, into v one at a time and calls fn with each;
 * a non-zero return of fn stops the walk and is returned. next_cursor gets the id of the
 * last message passed to fn when more follow, else it is left alone. Returns 0, EIO or fn's
 * error. */
int gw_storedb_list(struct gw_storedb *db, const struct gw_store_query *q, struct gw_msg_view *v,
                    gw_store_list_fn fn, void *arg, char next_cursor[GW_ID_LEN]) GW_MUST_CHECK;

/* Counts outbound messages queued and sending. */
int gw_storedb_counts(struct gw_storedb *db, unsigned *queued, unsigned *sending) GW_MUST_CHECK;

#endif
