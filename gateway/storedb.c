/* SQLite schema and row operations for the store. Statements are prepared once per
 * connection and reset after each use. Partial indexes keep the dispatcher's queries
 * proportional to the messages in flight, not to everything ever stored. */
#include "gateway/storedb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define GW_LOG_MODULE "store"

#define ID_TIME_MAX (((int64_t)1 << 50) - 1) /* what the 10 time characters of an id hold */

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS messages ("
    " seq INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " inbound INTEGER NOT NULL,"
    " status INTEGER NOT NULL,"
    " to_addr TEXT NOT NULL,"
    " from_addr TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " reference TEXT NOT NULL DEFAULT '',"
    " encoding INTEGER NOT NULL DEFAULT 0,"
    " chars INTEGER NOT NULL DEFAULT 0,"
    " units INTEGER NOT NULL DEFAULT 0,"
    " segments INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " next_attempt_at INTEGER NOT NULL DEFAULT 0,"
    " lease_until INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " sip_status INTEGER,"
    " sip_phrase TEXT, call_id TEXT,"
    " reason_protocol TEXT, reason_cause INTEGER, reason_text TEXT,"
    " warning_code INTEGER, warning_text TEXT, retry_after INTEGER,"
    " error_code TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS messages_due ON messages(next_attempt_at) WHERE status = 0;"
    "CREATE INDEX IF NOT EXISTS messages_expiry ON messages(expires_at) WHERE status = 0;"
    "CREATE INDEX IF NOT EXISTS messages_lease ON messages(lease_until) WHERE status = 1;"
    /* GET /messages: newest first by id (ids sort by creation time), per status or direction */
    "CREATE INDEX IF NOT EXISTS messages_status_id ON messages(status, id);"
    "CREATE INDEX IF NOT EXISTS messages_inbound_id ON messages(inbound, id);"
    "CREATE TABLE IF NOT EXISTS events ("
    " msg_seq INTEGER NOT NULL, at INTEGER NOT NULL, status INTEGER NOT NULL,"
    " layer TEXT NOT NULL, detail TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_msg ON events(msg_seq);"
    "CREATE TABLE IF NOT EXISTS idempotency ("
    " key TEXT PRIMARY KEY, fingerprint BLOB NOT NULL, msg_id TEXT NOT NULL,"
    " created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS idempotency_age ON idempotency(created_at);";

enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_INSERT,
    S_EVENT,
    S_IDEM_FIND,
    S_IDEM_INSERT,
    S_DUE,
    S_CLAIM,
    S_TEXT,
    S_EXPIRE_FIND,
    S_SET_STATUS,
    S_LEASE_FIND,
    S_REQUEUE,
    S_NEXT_DUE,
    S_LOOKUP_SENDING,
    S_APPLY,
    S_GET,
    S_EVENTS,
    S_COUNT,
    S_FIND,
    S_CANCEL,
    S_IDEM_PRUNE,
    S_LIST_ALL,
    S_LIST_STATUS,
    S_LIST_DIRECTION,
    S_COUNT_MAX,
};

/* The columns read_view expects, in its order. */
#define VIEW_COLUMNS                                                                               \
    "id, inbound, status, to_addr, from_addr, text, reference, encoding, chars, units,"            \
    " segments, created_at, updated_at, expires_at, next_attempt_at, attempts, sip_status,"        \
    " sip_phrase, call_id, reason_protocol, reason_cause, reason_text, warning_code,"              \
    " warning_text, retry_after, error_code"

/* ?1 lowest id (inclusive), ?2 highest id (exclusive), ?3 limit, ?4 the filter. Each form
 * walks one index backwards from ?2: the id index, (status, id) or (inbound, id). */
#define LIST_SQL(filter)                                                                           \
    "SELECT " VIEW_COLUMNS " FROM messages WHERE " filter "id >= ?1 AND id < ?2"                   \
    " ORDER BY id DESC LIMIT ?3"

static const char *const sql[S_COUNT_MAX] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_INSERT] = "INSERT INTO messages (id, inbound, status, to_addr, from_addr, text, reference,"
                 " encoding, chars, units, segments, created_at, updated_at, expires_at,"
                 " next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                 " ?12, ?13, ?12)",
    [S_EVENT] = "INSERT INTO events (msg_seq, at, status, layer, detail) VALUES (?, ?, ?, ?, ?)",
    [S_IDEM_FIND] = "SELECT fingerprint, msg_id FROM idempotency WHERE key = ?",
    [S_IDEM_INSERT] = "INSERT INTO idempotency (key, fingerprint, msg_id, created_at)"
                      " VALUES (?, ?, ?, ?)",
    /* INDEXED BY: the planner would otherwise take (status, id) and sort every queued row */
    [S_DUE] = "SELECT seq, id, to_addr, from_addr, attempts, expires_at FROM messages"
              " INDEXED BY messages_due"
              " WHERE status = 0 AND next_attempt_at <= ?1 AND expires_at > ?1"
              " ORDER BY next_attempt_at LIMIT ?2",
    [S_CLAIM] = "UPDATE messages SET status = 1, attempts = attempts + 1, lease_until = ?2,"
                " updated_at = ?3 WHERE seq = ?1",
    [S_TEXT] = "SELECT text FROM messages WHERE seq = ?",
    [S_EXPIRE_FIND] = "SELECT seq FROM messages INDEXED BY messages_expiry"
                      " WHERE status = 0 AND expires_at <= ? LIMIT 256",
    [S_SET_STATUS] = "UPDATE messages SET status = ?2, updated_at = ?3,"
                     " next_attempt_at = ?4 WHERE seq = ?1",
    [S_LEASE_FIND] = "SELECT seq FROM messages INDEXED BY messages_lease"
                     " WHERE status = 1 AND lease_until < ? LIMIT 256",
    [S_REQUEUE] = "UPDATE messages SET status = 0, updated_at = ?2, next_attempt_at = ?2"
                  " WHERE seq = ?1",
    [S_NEXT_DUE] = "SELECT min(next_attempt_at) FROM messages INDEXED BY messages_due"
                   " WHERE status = 0",
    [S_LOOKUP_SENDING] = "SELECT seq, expires_at FROM messages"
                         " WHERE id = ? AND status = 1 AND attempts = ?",
    [S_APPLY] = "UPDATE messages SET status = ?2, updated_at = ?3, next_attempt_at = ?4,"
                " sip_status = ?5, sip_phrase = ?6, call_id = ?7, reason_protocol = ?8,"
                " reason_cause = ?9, reason_text = ?10, warning_code = ?11, warning_text = ?12,"
                " retry_after = ?13, error_code = ?14 WHERE seq = ?1",
    [S_GET] = "SELECT " VIEW_COLUMNS " FROM messages WHERE id = ?",
    [S_EVENTS] = "SELECT e.at, e.status, e.layer, e.detail FROM events e"
                 " JOIN messages m ON m.seq = e.msg_seq WHERE m.id = ? ORDER BY e.rowid LIMIT ?",
    [S_COUNT] = "SELECT (SELECT count(*) FROM messages WHERE status = 0),"
                " (SELECT count(*) FROM messages WHERE status = 1)",
    [S_FIND] = "SELECT seq, status FROM messages WHERE id = ?",
    [S_CANCEL] = "UPDATE messages SET status = ?3, updated_at = ?2 WHERE seq = ?1 AND status = ?4",
    [S_IDEM_PRUNE] = "DELETE FROM idempotency WHERE key IN"
                     " (SELECT key FROM idempotency WHERE created_at < ?1 LIMIT ?2)",
    [S_LIST_ALL] = LIST_SQL(""),
    [S_LIST_STATUS] = LIST_SQL("status = ?4 AND "),
    [S_LIST_DIRECTION] = LIST_SQL("inbound = ?4 AND "),
};

struct gw_storedb {
    sqlite3 *conn;
    sqlite3_stmt *stmts[S_COUNT_MAX];
};

/* Returns the prepared statement, reset and unbound, or NULL on error. */
static sqlite3_stmt *stmt(struct gw_storedb *db, enum stmt_id id)
{
    sqlite3_stmt *st = db->stmts[id];
    if (!st) {
        if (sqlite3_prepare_v3(db->conn, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            GW_LOG_ERR("prepare failed: %s", sqlite3_errmsg(db->conn));
            return NULL;
        }
        db->stmts[id] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Runs a statement that returns no rows to completion. */
static int run(struct gw_storedb *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        GW_LOG_ERR("statement failed: %s", sqlite3_errmsg(db->conn));
        return EIO;
    }
    return 0;
}

/* Steps a query that returns at most one row: 0 on a row, ENOENT on none, EIO on error. */
static int step_one(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? ENOENT : EIO;
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    snprintf(out, outlen, "%s", v ? (const char *)v : "");
}

static int int_col(sqlite3_stmt *st, int col, int absent)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return absent;
    return sqlite3_column_int(st, col);
}

int gw_storedb_open(struct gw_storedb **out, const char *path, bool writer, char *err,
                    size_t errlen)
{
    int rc = 0;
    struct gw_storedb *db = calloc(1, sizeof(*db));
    if (!db)
        return ENOMEM;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db->conn, flags, NULL) != SQLITE_OK) {
        rc = EIO;
        goto out;
    }
    sqlite3_busy_timeout(db->conn, 5000);
    const char *setup = writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                 "PRAGMA foreign_keys=OFF;"
                               : "PRAGMA query_only=1;";
    if (sqlite3_exec(db->conn, setup, NULL, NULL, NULL) != SQLITE_OK ||
        (writer && sqlite3_exec(db->conn, schema, NULL, NULL, NULL) != SQLITE_OK)) {
        rc = EIO;
        goto out;
    }
    *out = db;
    db = NULL;
out:
    if (db) {
        snprintf(err, errlen, "%s: %s", path, db->conn ? sqlite3_errmsg(db->conn) : "cannot open");
        gw_storedb_close(db);
    }
    return rc;
}

void gw_storedb_close(struct gw_storedb *db)
{
    if (!db)
        return;
    for (int i = 0; i < S_COUNT_MAX; i++)
        sqlite3_finalize(db->stmts[i]);
    sqlite3_close(db->conn);
    free(db);
}

const char *gw_storedb_errmsg(struct gw_storedb *db)
{
    return sqlite3_errmsg(db->conn);
}

static int run_simple(struct gw_storedb *db, enum stmt_id id)
{
    sqlite3_stmt *st = stmt(db, id);
    return st ? run(db, st) : EIO;
}

int gw_storedb_begin(struct gw_storedb *db)
{
    return run_simple(db, S_BEGIN);
}

int gw_storedb_commit(struct gw_storedb *db)
{
    return run_simple(db, S_COMMIT);
}

void gw_storedb_rollback(struct gw_storedb *db)
{
    if (sqlite3_get_autocommit(db->conn) == 0 && run_simple(db, S_ROLLBACK) != 0)
        GW_LOG_ERR("rollback failed: %s", sqlite3_errmsg(db->conn));
}

static int insert_row(struct gw_storedb *db, const char *id, bool inbound, enum gw_status status,
                      const char *to, const char *from, const char *text, size_t text_len,
                      const char *reference, const struct gw_text_info *info, int64_t now_ms,
                      int64_t expires_at_ms)
{
    sqlite3_stmt *st = stmt(db, S_INSERT);
    if (!st)
        return EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, inbound);
    sqlite3_bind_int(st, 3, (int)status);
    sqlite3_bind_text(st, 4, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, text, (int)text_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, reference, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, (int)info->encoding);
    sqlite3_bind_int(st, 9, (int)info->chars);
    sqlite3_bind_int(st, 10, (int)info->units);
    sqlite3_bind_int(st, 11, (int)info->segments);
    sqlite3_bind_int64(st, 12, now_ms);
    sqlite3_bind_int64(st, 13, expires_at_ms);
    return run(db, st);
}

int gw_storedb_insert(struct gw_storedb *db, const char *id, const struct gw_msg_new *m,
                      int64_t now_ms, int64_t expires_at_ms)
{
    int err = insert_row(db, id, false, GW_STATUS_QUEUED, m->to, m->from, m->text, m->text_len,
                         m->reference, &m->info, now_ms, expires_at_ms);
    if (err)
        return err;
    return gw_storedb_event(db, sqlite3_last_insert_rowid(db->conn), now_ms, GW_STATUS_QUEUED,
                            "http", "accepted and stored");
}

int gw_storedb_insert_inbound(struct gw_storedb *db, const char *id, const char *from,
                              const char *to, const char *text, size_t text_len, int64_t now_ms)
{
    struct gw_text_info info = {0};
    if (gw_text_analyse(text, text_len, &info) != 0)
        info.encoding = GW_TEXT_UCS2; /* stored as received; the counts stay 0 */
    int err = insert_row(db, id, true, GW_STATUS_RECEIVED, to, from, text, text_len, "", &info,
                         now_ms, now_ms);
    if (err)
        return err;
    return gw_storedb_event(db, sqlite3_last_insert_rowid(db->conn), now_ms, GW_STATUS_RECEIVED,
                            "sip", "inbound MESSAGE answered 200");
}

int gw_storedb_idem_find(struct gw_storedb *db, const char *key, unsigned char fingerprint[32],
                         char msg_id[GW_ID_LEN])
{
    sqlite3_stmt *st = stmt(db, S_IDEM_FIND);
    if (!st)
        return EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int err = step_one(st);
    if (err == 0) {
        const void *fp = sqlite3_column_blob(st, 0);
        if (fp && sqlite3_column_bytes(st, 0) == 32)
            memcpy(fingerprint, fp, 32);
        else
            memset(fingerprint, 0, 32);
        copy_col(st, 1, msg_id, GW_ID_LEN);
    }
    sqlite3_reset(st);
    return err;
}

int gw_storedb_idem_insert(struct gw_storedb *db, const char *key,
                           const unsigned char fingerprint[32], const char *msg_id, int64_t now_ms)
{
    sqlite3_stmt *st = stmt(db, S_IDEM_INSERT);
    if (!st)
        return EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, fingerprint, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, msg_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    return run(db, st);
}

int gw_storedb_event(struct gw_storedb *db, int64_t seq, int64_t at_ms, enum gw_status status,
                     const char *layer, const char *detail)
{
    sqlite3_stmt *st = stmt(db, S_EVENT);
    if (!st)
        return EIO;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, at_ms);
    sqlite3_bind_int(st, 3, (int)status);
    sqlite3_bind_text(st, 4, layer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
    return run(db, st);
}

int gw_storedb_claim_due(struct gw_storedb *db, int64_t now_ms, int64_t lease_until_ms,
                         struct gw_storedb_claim *claims, size_t max, size_t *n)
{
    sqlite3_stmt *st = stmt(db, S_DUE);
    if (!st)
        return EIO;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    size_t count = 0;
    while (count < max && sqlite3_step(st) == SQLITE_ROW) {
        struct gw_storedb_claim *c = &claims[count++];
        c->seq = sqlite3_column_int64(st, 0);
        copy_col(st, 1, c->id, sizeof(c->id));
        copy_col(st, 2, c->to, sizeof(c->to));
        copy_col(st, 3, c->from, sizeof(c->from));
        c->attempt = (unsigned)sqlite3_column_int(st, 4) + 1;
        c->expires_at_ms = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    for (size_t i = 0; i < count; i++) {
        st = stmt(db, S_CLAIM);
        if (!st)
            return EIO;
        sqlite3_bind_int64(st, 1, claims[i].seq);
        sqlite3_bind_int64(st, 2, lease_until_ms);
        sqlite3_bind_int64(st, 3, now_ms);
        char detail[64];
        snprintf(detail, sizeof(detail), "attempt %u handed to the SIP agent", claims[i].attempt);
        if (run(db, st) != 0 ||
            gw_storedb_event(db, claims[i].seq, now_ms, GW_STATUS_SENDING, "store", detail) != 0)
            return EIO;
    }
    *n = count;
    return 0;
}

int gw_storedb_read_text(struct gw_storedb *db, int64_t seq, char *buf, size_t buflen, size_t *len)
{
    sqlite3_stmt *st = stmt(db, S_TEXT);
    if (!st)
        return EIO;
    sqlite3_bind_int64(st, 1, seq);
    int err = EIO;
    if (sqlite3_step(st) == SQLITE_ROW) {
        int bytes = sqlite3_column_bytes(st, 0);
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (t && (size_t)bytes < buflen) {
            memcpy(buf, t, (size_t)bytes);
            buf[bytes] = '\0';
            *len = (size_t)bytes;
            err = 0;
        }
    }
    sqlite3_reset(st);
    return err;
}

/* Collects up to 256 seqs from a one-column query bound to one int64. */
static int collect_seqs(struct gw_storedb *db, enum stmt_id id, int64_t arg, int64_t *seqs,
                        size_t *n)
{
    sqlite3_stmt *st = stmt(db, id);
    if (!st)
        return EIO;
    sqlite3_bind_int64(st, 1, arg);
    size_t count = 0;
    while (count < 256 && sqlite3_step(st) == SQLITE_ROW)
        seqs[count++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    *n = count;
    return 0;
}

int gw_storedb_expire(struct gw_storedb *db, int64_t now_ms, size_t *n)
{
    int64_t seqs[256];
    size_t count = 0;
    if (collect_seqs(db, S_EXPIRE_FIND, now_ms, seqs, &count) != 0)
        return EIO;
    for (size_t i = 0; i < count; i++) {
        sqlite3_stmt *st = stmt(db, S_SET_STATUS);
        if (!st)
            return EIO;
        sqlite3_bind_int64(st, 1, seqs[i]);
        sqlite3_bind_int(st, 2, GW_STATUS_EXPIRED);
        sqlite3_bind_int64(st, 3, now_ms);
        sqlite3_bind_int64(st, 4, 0);
        if (run(db, st) != 0 ||
            gw_storedb_event(db, seqs[i], now_ms, GW_STATUS_EXPIRED, "store",
                             "validity period ended before the message could be sent") != 0)
            return EIO;
    }
    *n = count;
    return 0;
}

int gw_storedb_requeue_leases(struct gw_storedb *db, int64_t now_ms, size_t *n)
{
    int64_t seqs[256];
    size_t count = 0;
    if (collect_seqs(db, S_LEASE_FIND, now_ms, seqs, &count) != 0)
        return EIO;
    int64_t now = now_ms == INT64_MAX ? 0 : now_ms;
    for (size_t i = 0; i < count; i++) {
        sqlite3_stmt *st = stmt(db, S_REQUEUE);
        if (!st)
            return EIO;
        sqlite3_bind_int64(st, 1, seqs[i]);
        sqlite3_bind_int64(st, 2, now);
        if (run(db, st) != 0 ||
            gw_storedb_event(db, seqs[i], now, GW_STATUS_QUEUED, "store",
                             "attempt outcome unknown (restart or lost lease); sending again,"
                             " which may duplicate the SMS") != 0)
            return EIO;
    }
    *n = count;
    return 0;
}

int gw_storedb_next_due(struct gw_storedb *db, int64_t *out)
{
    sqlite3_stmt *st = stmt(db, S_NEXT_DUE);
    if (!st)
        return EIO;
    int err = EIO;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_type(st, 0) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 0);
        err = 0;
    }
    sqlite3_reset(st);
    return err;
}

int gw_storedb_lookup_sending(struct gw_storedb *db, const char *id, unsigned attempt, int64_t *seq,
                              int64_t *expires_at_ms)
{
    sqlite3_stmt *st = stmt(db, S_LOOKUP_SENDING);
    if (!st)
        return EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)attempt);
    int err = step_one(st);
    if (err == 0) {
        *seq = sqlite3_column_int64(st, 0);
        *expires_at_ms = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return err;
}

static void bind_opt_int(sqlite3_stmt *st, int idx, int v, int absent)
{
    if (v == absent)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_int(st, idx, v);
}

static void bind_opt_text(sqlite3_stmt *st, int idx, const char *v)
{
    if (v[0] == '\0')
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
}

int gw_storedb_apply(struct gw_storedb *db, int64_t seq, const struct gw_sip_answer *a,
                     const struct gw_storedb_result *r, int64_t now_ms)
{
    sqlite3_stmt *st = stmt(db, S_APPLY);
    if (!st)
        return EIO;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int(st, 2, (int)r->status);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, r->next_attempt_ms);
    sqlite3_bind_int(st, 5, a->status);
    bind_opt_text(st, 6, a->phrase);
    bind_opt_text(st, 7, a->call_id);
    bind_opt_text(st, 8, a->reason_protocol);
    bind_opt_int(st, 9, a->reason_cause, -1);
    bind_opt_text(st, 10, a->reason_text);
    bind_opt_int(st, 11, a->warning_code, -1);
    bind_opt_text(st, 12, a->warning_text);
    bind_opt_int(st, 13, a->retry_after, -1);
    sqlite3_bind_text(st, 14, r->error_code, -1, SQLITE_STATIC);
    if (run(db, st) != 0)
        return EIO;
    return gw_storedb_event(db, seq, now_ms, r->status, "sip", r->detail);
}

static void read_answer(sqlite3_stmt *st, struct gw_msg_view *v)
{
    gw_sip_answer_init(&v->answer);
    v->has_answer = sqlite3_column_type(st, 16) != SQLITE_NULL;
    if (!v->has_answer)
        return;
    v->answer.status = sqlite3_column_int(st, 16);
    copy_col(st, 17, v->answer.phrase, sizeof(v->answer.phrase));
    copy_col(st, 18, v->answer.call_id, sizeof(v->answer.call_id));
    copy_col(st, 19, v->answer.reason_protocol, sizeof(v->answer.reason_protocol));
    v->answer.reason_cause = int_col(st, 20, -1);
    copy_col(st, 21, v->answer.reason_text, sizeof(v->answer.reason_text));
    v->answer.warning_code = int_col(st, 22, -1);
    copy_col(st, 23, v->answer.warning_text, sizeof(v->answer.warning_text));
    v->answer.retry_after = int_col(st, 24, -1);
}

/* Copies the VIEW_COLUMNS of the current row into out. */
static void read_view(sqlite3_stmt *st, struct gw_msg_view *out)
{
    copy_col(st, 0, out->id, sizeof(out->id));
    out->inbound = sqlite3_column_int(st, 1) != 0;
    out->status = (enum gw_status)sqlite3_column_int(st, 2);
    copy_col(st, 3, out->to, sizeof(out->to));
    copy_col(st, 4, out->from, sizeof(out->from));
    copy_col(st, 5, out->text, sizeof(out->text));
    out->text_len = strlen(out->text);
    copy_col(st, 6, out->reference, sizeof(out->reference));
    out->info.encoding = (enum gw_text_encoding)sqlite3_column_int(st, 7);
    out->info.chars = (unsigned)sqlite3_column_int(st, 8);
    out->info.units = (unsigned)sqlite3_column_int(st, 9);
    out->info.segments = (unsigned)sqlite3_column_int(st, 10);
    out->created_at_ms = sqlite3_column_int64(st, 11);
    out->updated_at_ms = sqlite3_column_int64(st, 12);
    out->expires_at_ms = sqlite3_column_int64(st, 13);
    out->next_attempt_ms = sqlite3_column_int64(st, 14);
    out->attempts = (unsigned)sqlite3_column_int(st, 15);
    read_answer(st, out);
    copy_col(st, 25, out->error_code, sizeof(out->error_code));
}

int gw_storedb_get(struct gw_storedb *db, const char *id, struct gw_msg_view *out)
{
    sqlite3_stmt *st = stmt(db, S_GET);
    if (!st)
        return EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int err = step_one(st);
    if (err == 0)
        read_view(st, out);
    sqlite3_reset(st);
    return err;
}

int gw_storedb_events(struct gw_storedb *db, const char *id, struct gw_msg_event *ev, size_t max,
                      size_t *n)
{
    sqlite3_stmt *st = stmt(db, S_EVENTS);
    if (!st)
        return EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    size_t count = 0;
    while (count < max && sqlite3_step(st) == SQLITE_ROW) {
        ev[count].at_ms = sqlite3_column_int64(st, 0);
        ev[count].status = (enum gw_status)sqlite3_column_int(st, 1);
        copy_col(st, 2, ev[count].layer, sizeof(ev[count].layer));
        copy_col(st, 3, ev[count].detail, sizeof(ev[count].detail));
        count++;
    }
    sqlite3_reset(st);
    *n = count;
    return 0;
}

int gw_storedb_counts(struct gw_storedb *db, unsigned *queued, unsigned *sending)
{
    sqlite3_stmt *st = stmt(db, S_COUNT);
    if (!st)
        return EIO;
    int err = EIO;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *queued = (unsigned)sqlite3_column_int(st, 0);
        *sending = (unsigned)sqlite3_column_int(st, 1);
        err = 0;
    }
    sqlite3_reset(st);
    return err;
}

int gw_storedb_cancel(struct gw_storedb *db, const char *id, int64_t now_ms, enum gw_status *status)
{
    sqlite3_stmt *st = stmt(db, S_FIND);
    if (!st)
        return EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    enum gw_status cur = rc == SQLITE_ROW ? (enum gw_status)sqlite3_column_int(st, 1) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? ENOENT : EIO;
    *status = cur;
    if (cur == GW_STATUS_CANCELLED)
        return EALREADY;
    if (!gw_status_can_move(cur, GW_STATUS_CANCELLED))
        return EBUSY;
    st = stmt(db, S_CANCEL);
    if (!st)
        return EIO;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int(st, 3, GW_STATUS_CANCELLED);
    sqlite3_bind_int(st, 4, (int)cur);
    if (run(db, st) != 0 || sqlite3_changes(db->conn) != 1)
        return EIO;
    *status = GW_STATUS_CANCELLED;
    return gw_storedb_event(db, seq, now_ms, GW_STATUS_CANCELLED, "http",
                            "cancelled by the client before it was sent");
}

int gw_storedb_idem_prune(struct gw_storedb *db, int64_t before_ms, size_t max, size_t *n)
{
    sqlite3_stmt *st = stmt(db, S_IDEM_PRUNE);
    if (!st)
        return EIO;
    sqlite3_bind_int64(st, 1, before_ms);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    if (run(db, st) != 0)
        return EIO;
    *n = (size_t)sqlite3_changes(db->conn);
    return 0;
}

/* The lowest id a message created at ms can have: its time part and zeros. */
static void id_floor(int64_t ms, char out[GW_ID_LEN])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    uint64_t t = ms > 0 ? (uint64_t)ms : 0;
    for (int i = 9; i >= 0; i--) {
        out[i] = alphabet[t & 31u];
        t >>= 5;
    }
    memset(out + 10, '0', 16);
    out[26] = '\0';
}

/* The statement for q, bound; *none when q cannot match anything. A status decides the
 * direction (only inbound messages are received), so status and direction together never
 * need a second filter that an index cannot serve. */
static sqlite3_stmt *list_stmt(struct gw_storedb *db, const struct gw_store_query *q, bool *none)
{
    bool by_status = q->has_status;
    bool by_direction = q->has_direction && !by_status;
    *none = q->has_status && q->has_direction && (q->status == GW_STATUS_RECEIVED) != q->inbound;
    enum stmt_id id = by_status ? S_LIST_STATUS : by_direction ? S_LIST_DIRECTION : S_LIST_ALL;
    sqlite3_stmt *st = stmt(db, id);
    if (!st)
        return NULL;
    char lo[GW_ID_LEN];
    id_floor(q->since_ms < ID_TIME_MAX ? q->since_ms : ID_TIME_MAX, lo);
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
    /* "~" sorts after every id character */
    sqlite3_bind_text(st, 2, q->cursor[0] ? q->cursor : "~", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)q->limit + 1);
    if (by_status)
        sqlite3_bind_int(st, 4, (int)q->status);
    else if (by_direction)
        sqlite3_bind_int(st, 4, q->inbound);
    return st;
}

int gw_storedb_list(struct gw_storedb *db, const struct gw_store_query *q, struct gw_msg_view *v,
                    gw_store_list_fn fn, void *arg, char next_cursor[GW_ID_LEN])
{
    bool none = false;
    sqlite3_stmt *st = list_stmt(db, q, &none);
    if (!st)
        return EIO;
    if (none)
        return 0;
    int err = 0, rc = SQLITE_DONE;
    unsigned count = 0;
    char last[GW_ID_LEN] = "";
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == q->limit) {
            snprintf(next_cursor, GW_ID_LEN, "%s", last); /* one more row exists */
            break;
        }
        read_view(st, v);
        memcpy(last, v->id, sizeof(last));
        count++;
        err = fn(arg, v);
    }
    if (err == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        GW_LOG_ERR("list failed: %s", sqlite3_errmsg(db->conn));
        err = EIO;
    }
    sqlite3_reset(st);
    return err;
}
