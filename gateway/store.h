/* The message store: SQLite in WAL mode with synchronous=FULL, the single source of truth.
 * One writer thread owns the write connection: it commits submissions and cancellations in
 * groups (many requests per fsync under load, no added wait when idle), applies SIP results,
 * schedules retries, prunes old idempotency keys, and dispatches due messages into the SIP
 * queue under a lease, paced by a token bucket and paused by a circuit breaker while the
 * operator looks down. Readers (HTTP threads) use their own read connections and get copies,
 * never pointers into the store. */
#ifndef GW_GATEWAY_STORE_H
#define GW_GATEWAY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/id.h"
#include "gateway/number.h"
#include "gateway/outcome.h"
#include "gateway/queue.h"
#include "gateway/registration.h"
#include "gateway/status.h"
#include "gateway/text.h"

#define GW_TEXT_MAX       16384 /* bytes of message text, hard cap */
#define GW_REF_LEN        129   /* client reference, 128 bytes and NUL */
#define GW_IDEM_KEY_LEN   256   /* Idempotency-Key, 255 bytes and NUL */
#define GW_ADDR_LEN       256   /* from/to: E.164 outbound, a SIP URI for inbound */
#define GW_CODE_LEN       32
#define GW_DETAIL_LEN     256
#define GW_STORE_LIST_MAX 200 /* messages per gw_store_list page */

/* A validated message to accept. Filled by the HTTP side; every field is copied. */
struct gw_msg_new {
    char to[GW_E164_LEN];
    char from[GW_E164_LEN]; /* "" = the configured identity */
    const char *text;       /* borrowed; text_len bytes of validated UTF-8 */
    size_t text_len;
    char reference[GW_REF_LEN];
    int64_t validity_s; /* > 0 */
    struct gw_text_info info;
    char idem_key[GW_IDEM_KEY_LEN]; /* "" = none */
    unsigned char fingerprint[32];  /* SHA-256 of the canonical request, when idem_key is set */
};

/* A copy of one stored message. */
struct gw_msg_view {
    char id[GW_ID_LEN];
    bool inbound;
    enum gw_status status;
    char to[GW_ADDR_LEN];
    char from[GW_ADDR_LEN];
    char text[GW_TEXT_MAX + 1];
    size_t text_len;
    char reference[GW_REF_LEN];
    struct gw_text_info info;
    int64_t created_at_ms, updated_at_ms, expires_at_ms;
    int64_t next_attempt_ms; /* queued: when the next attempt may start */
    unsigned attempts;
    bool has_answer; /* answer holds the last final SIP answer */
    struct gw_sip_answer answer;
    char error_code[GW_CODE_LEN]; /* "" unless failed/expired or retrying after an error */
};

struct gw_msg_event {
    int64_t at_ms;
    enum gw_status status;
    char layer[8]; /* "http", "store", "sip" */
    char detail[GW_DETAIL_LEN];
};

struct gw_store_stats {
    bool healthy; /* the last commit succeeded */
    char last_error[GW_DETAIL_LEN];
    unsigned queued, sending; /* outbound messages in these states */
    unsigned backlog;         /* submissions waiting for the writer */
    int64_t last_commit_ms;
    /* dispatch into the SIP queue, as of the writer's last cycle */
    bool paused;                      /* nothing is claimed now (or only a probe) */
    char pause_reason[GW_DETAIL_LEN]; /* why, in plain words; "" when running */
    int64_t paused_until_ms;          /* wall clock when a probe may go; 0: not known */
};

struct gw_store_options {
    unsigned max_backlog;       /* submissions waiting for commit before EAGAIN, default 4096 */
    unsigned lease_s;           /* how long a claimed message stays "sending", default 120 */
    unsigned retry_base_ms;     /* exponential backoff base, default 2000 */
    unsigned retry_cap_ms;      /* backoff cap, default 600000 */
    unsigned idem_keep_s;       /* idempotency keys live at least this long, default 86400 */
    unsigned send_rate;         /* MESSAGEs per second into the SIP queue, 0 (default) = no limit */
    unsigned send_burst;        /* back to back at most, default gw_ratelimit_default_burst */
    unsigned breaker_threshold; /* operator failures in a row that pause dispatch, default 5 */
    unsigned breaker_base_ms;   /* the first pause, default 1000 */
    unsigned breaker_cap_ms;    /* the longest pause, default 30000 */
};

/* What gw_store_list selects. */
struct gw_store_query {
    bool has_status;
    enum gw_status status;
    bool has_direction;
    bool inbound;           /* with has_direction: inbound (true) or outbound */
    int64_t since_ms;       /* created at or after this wall-clock time; 0: any */
    char cursor[GW_ID_LEN]; /* "" for the first page, else only ids below this one */
    unsigned limit;         /* 1..GW_STORE_LIST_MAX */
};

/* Gets each listed message; valid during the call only. Return 0 to go on, or an errno
 * value to stop the listing with it. */
typedef int (*gw_store_list_fn)(void *arg, const struct gw_msg_view *v);

/* Called once per accepted submission, on the writer thread, after the commit (or failure).
 * err: 0 stored (view is the new message); EEXIST replay of an earlier submission with the
 * same Idempotency-Key and body (view is that message); EBADMSG the key was used with another
 * body (view NULL); EIO the commit failed (view NULL). view is valid during the call only. */
typedef void (*gw_store_submit_fn)(void *arg, int err, const struct gw_msg_view *view);

struct gw_store;

/* Opens (and creates) the store at path; opt may be NULL for the defaults. Messages left
 * "sending" by an earlier run go back to "queued" (at-least-once). Returns 0, ENOMEM or EIO. */
int gw_store_open(struct gw_store **out, const char *path,
                  const struct gw_store_options *opt) GW_MUST_CHECK;

/* Starts the writer thread. It dispatches due messages into q while reg says ready (reg may
 * be NULL: always ready). Borrows q and reg until gw_store_stop. Returns 0 or an errno. */
int gw_store_start(struct gw_store *s, struct gw_queue *q,
                   struct gw_registration *reg) GW_MUST_CHECK;

/* Commits what is pending and joins the writer thread. Submissions after this get ESHUTDOWN.
 * Accepts a store that was never started. */
void gw_store_stop(struct gw_store *s);

/* Stops if needed and closes. Accepts NULL. */
void gw_store_close(struct gw_store *s);

/* Hands a message to the writer. Any thread. Copies m. On 0, fn runs exactly once later.
 * Returns 0, EAGAIN (backlog full), ESHUTDOWN (stopping) or ENOMEM; then fn never runs. */
int gw_store_submit(struct gw_store *s, const struct gw_msg_new *m, gw_store_submit_fn fn,
                    void *arg) GW_MUST_CHECK;

/* Asks the writer to cancel message id (it must be queued). Any thread; borrows id. On 0, fn
 * runs exactly once later on the writer thread with: 0 cancelled now (view: the message, now
 * cancelled); EALREADY it was cancelled before (view: the message); EBUSY it is in another
 * status and was left alone (view: the message); ENOENT no such message (view NULL); EIO the
 * commit failed (view NULL). Returns 0, EAGAIN (backlog full), ESHUTDOWN (stopping) or
 * ENOMEM; then fn never runs. */
int gw_store_cancel(struct gw_store *s, const char *id, gw_store_submit_fn fn,
                    void *arg) GW_MUST_CHECK;

/* Reports the final answer to attempt number `attempt` of message id. SIP thread (or any);
 * never waits for disk. The writer classifies it (gw_outcome_classify): 2xx -> sent,
 * permanent -> failed, otherwise a retry or expired. A report for a stale attempt is ignored. */
void gw_store_report(struct gw_store *s, const char *id, unsigned attempt,
                     const struct gw_sip_answer *a);

/* Records an inbound MESSAGE (status received) and waits for its commit. SIP thread.
 * Returns 0, EIO or ESHUTDOWN; out_id (may be NULL) gets the new id. */
int gw_store_add_inbound(struct gw_store *s, const char *from, const char *to, const char *text,
                         size_t text_len, char out_id[GW_ID_LEN]) GW_MUST_CHECK;

/* Copies message id into out. Any thread. Returns 0, ENOENT or EIO. */
int gw_store_get(struct gw_store *s, const char *id, struct gw_msg_view *out) GW_MUST_CHECK;

/* Copies up to max events of message id, oldest first, and sets *n. Any thread.
 * Returns 0 or EIO (an unknown id gives *n = 0). */
int gw_store_events(struct gw_store *s, const char *id, struct gw_msg_event *ev, size_t max,
                    size_t *n) GW_MUST_CHECK;

/* Lists the messages q selects, newest first (by id, i.e. by creation time), calling fn with
 * each, at most q->limit. next_cursor gets the last listed id when more messages follow, ""
 * when this was the last page. Any thread; fn runs on the calling thread while a read
 * connection is held, so it must not call back into the store. Returns 0, EINVAL (a limit
 * out of range or a malformed cursor), ENOMEM, EIO or fn's error. */
int gw_store_list(struct gw_store *s, const struct gw_store_query *q, gw_store_list_fn fn,
                  void *arg, char next_cursor[GW_ID_LEN]) GW_MUST_CHECK;

/* Copies the health figures. Any thread. */
void gw_store_get_stats(struct gw_store *s, struct gw_store_stats *out);

#endif
