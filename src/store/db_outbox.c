/* db_outbox.c — the notification outbox and per-issue receiver state in
 * SQLite (state machine and ordering in db_outbox.h; schema: migration 3 in
 * db.c). */
#include "store/db_outbox.h"
#include "store/db_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const state_names[OUTBOX_STATE_COUNT] = {"pending", "inflight", "done", "dead",
                                                            "dropped"};

const char *db_outbox_state_name(int s)
{
    return s >= 0 && s < OUTBOX_STATE_COUNT ? state_names[s] : "?";
}

kb_err db_outbox_state_parse(const char *s, int *out)
{
    for (int i = 0; s && i < OUTBOX_STATE_COUNT; i++)
        if (strcmp(s, state_names[i]) == 0) {
            *out = i;
            return KB_OK;
        }
    return KB_EINVAL;
}

#define JOB_COLUMNS                                                                                \
    "id, receiver, issue_id, fp, event, payload, state, attempts, step, next_at, created,"         \
    " updated, last_error"

enum ob_stmt {
    O_ENQUEUE,
    O_CHAIN_BUSY,
    O_CLAIM_SELECT,
    O_CLAIM_MARK,
    O_NEXT_DUE,
    O_DONE,
    O_RESCHEDULE,
    O_RELEASE,
    O_RELEASE_ALL,
    O_DEAD,
    O_UNCLAIM,
    O_RECOVER,
    O_RETRY,
    O_RETRY_DEAD,
    O_DROP,
    O_PRUNE,
    O_GET,
    O_STATE_OF,
    O_STATE_GET,
    O_STATE_SET,
    O_COUNTS,
    O_COUNT
};

_Static_assert(O_COUNT <= DB_OUTBOX_STMT_MAX, "raise DB_OUTBOX_STMT_MAX in db_internal.h");

static const char *const ob_sql[O_COUNT] = {
    [O_ENQUEUE] = "INSERT INTO outbox(receiver, issue_id, fp, event, payload, state, next_at,"
                  " not_before, created, updated)"
                  " VALUES(?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?8)",
    /* Without INDEXED BY, SQLite may walk outbox_due over every pending
     * job of the receiver (measured: 1,200 enqueues/s at 100,000 jobs). */
    [O_CHAIN_BUSY] = "SELECT 1 FROM outbox INDEXED BY outbox_chain WHERE receiver = ?1"
                     " AND issue_id = ?2 AND state IN ('pending', 'inflight') LIMIT 1",
    /* The NOT EXISTS is the ordering rule; outbox_chain answers it from the
     * index. */
    [O_CLAIM_SELECT] = "SELECT " JOB_COLUMNS " FROM outbox o"
                       " WHERE receiver = ?1 AND state = 'pending' AND next_at <= ?2"
                       " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.receiver = ?1"
                       "  AND p.issue_id = o.issue_id AND p.state IN ('pending', 'inflight')"
                       "  AND p.id < o.id)"
                       " ORDER BY next_at, id LIMIT ?3",
    [O_CLAIM_MARK] = "UPDATE outbox SET state = 'inflight', attempts = attempts + 1,"
                     " updated = ?2 WHERE id = ?1 AND state = 'pending'",
    [O_NEXT_DUE] = "SELECT min(next_at) FROM outbox WHERE receiver = ?1 AND state = 'pending'"
                   " AND next_at < ?2",
    [O_DONE] = "UPDATE outbox SET state = 'done', updated = ?2, last_error = NULL"
               " WHERE id = ?1 AND state = 'inflight' RETURNING receiver, issue_id",
    [O_RESCHEDULE] = "UPDATE outbox SET state = 'pending', step = ?2, next_at = ?3,"
                     " last_error = substr(?4, 1, 1024), updated = ?5"
                     " WHERE id = ?1 AND state = 'inflight'",
    /* The issue's first pending or inflight job, when it is a blocked
     * pending one, becomes due. */
    [O_RELEASE] = "UPDATE outbox SET next_at = max(?3, not_before) WHERE id = ("
                  "SELECT id FROM outbox INDEXED BY outbox_chain WHERE receiver = ?1"
                  " AND issue_id = ?2 AND state IN ('pending', 'inflight') ORDER BY id LIMIT 1)"
                  " AND state = 'pending' AND next_at = ?4",
    [O_RELEASE_ALL] = "UPDATE outbox SET next_at = max(?1, not_before)"
                      " WHERE state = 'pending' AND next_at = ?2 AND NOT EXISTS ("
                      "SELECT 1 FROM outbox p WHERE p.receiver = outbox.receiver"
                      " AND p.issue_id = outbox.issue_id AND p.state IN ('pending', 'inflight')"
                      " AND p.id < outbox.id)",
    [O_DEAD] = "UPDATE outbox SET state = 'dead', last_error = substr(?2, 1, 1024),"
               " updated = ?3 WHERE id = ?1 AND state = 'inflight' RETURNING receiver, issue_id",
    [O_UNCLAIM] = "UPDATE outbox SET state = 'pending', attempts = max(attempts - 1, 0),"
                  " updated = ?2 WHERE id = ?1 AND state = 'inflight'",
    [O_RECOVER] = "UPDATE outbox SET state = 'pending', next_at = ?1, updated = ?1"
                  " WHERE state = 'inflight'",
    [O_RETRY] = "UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?2,"
                " updated = ?2 WHERE id = ?1 AND state = 'dead'",
    [O_RETRY_DEAD] = "UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?2,"
                     " updated = ?2 WHERE state = 'dead' AND (?1 IS NULL OR receiver = ?1)",
    [O_DROP] = "UPDATE outbox SET state = 'dropped', updated = ?2"
               " WHERE id = ?1 AND state != 'dropped' RETURNING receiver, issue_id",
    [O_PRUNE] = "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
                " WHERE state IN ('done', 'dropped') AND updated < ?1 LIMIT ?2)",
    [O_GET] = "SELECT " JOB_COLUMNS " FROM outbox WHERE id = ?1",
    [O_STATE_OF] = "SELECT state FROM outbox WHERE id = ?1",
    [O_STATE_GET] = "SELECT state FROM notify_state WHERE receiver = ?1 AND issue_id = ?2",
    [O_STATE_SET] = "INSERT INTO notify_state(receiver, issue_id, state, updated)"
                    " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(receiver, issue_id)"
                    " DO UPDATE SET state = excluded.state, updated = excluded.updated",
    [O_COUNTS] = "SELECT receiver, state, count(*) FROM outbox GROUP BY receiver, state",
};

/* The statement, prepared on first use and kept until db_close. NULL when
 * SQLite cannot prepare it (the schema is older than this code). */
static sqlite3_stmt *ob_stmt(struct db *db, enum ob_stmt i)
{
    if (!db->outbox[i] && sqlite3_prepare_v3(db->h, ob_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                             &db->outbox[i], NULL) != SQLITE_OK)
        return NULL;
    return db->outbox[i];
}

static void ob_reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows; *changes (may be NULL) is the
 * number of rows it changed. */
static kb_err run(struct db *db, sqlite3_stmt *st, int64_t *changes)
{
    int rc = sqlite3_step(st);
    ob_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return KB_EDB;
    if (changes)
        *changes = sqlite3_changes64(db->h);
    return KB_OK;
}

static bool in_txn(struct db *db)
{
    return !sqlite3_get_autocommit(db->h);
}

static void read_job(sqlite3_stmt *st, struct db_outbox_job *j)
{
    memset(j, 0, sizeof *j);
    j->id = sqlite3_column_int64(st, 0);
    j->receiver = db_col_dup(st, 1);
    j->issue_id = sqlite3_column_int64(st, 2);
    const void *fp = sqlite3_column_blob(st, 3);
    if (fp && sqlite3_column_bytes(st, 3) == 16) {
        memcpy(j->fp, fp, 16);
        j->has_fp = true;
    }
    j->event = db_col_dup(st, 4);
    j->payload = db_col_dup(st, 5);
    const char *s = (const char *)sqlite3_column_text(st, 6);
    j->state = -1;
    if (s)
        db_outbox_state_parse(s, &j->state);
    j->attempts = sqlite3_column_int(st, 7);
    j->step = sqlite3_column_int(st, 8);
    j->next_at = sqlite3_column_int64(st, 9);
    j->created = sqlite3_column_int64(st, 10);
    j->updated = sqlite3_column_int64(st, 11);
    j->last_error = db_col_dup(st, 12);
}

void db_outbox_job_release(struct db_outbox_job *j)
{
    free(j->receiver);
    free(j->event);
    free(j->payload);
    free(j->last_error);
    j->receiver = j->event = j->payload = j->last_error = NULL;
}

kb_err db_outbox_enqueue(struct db *db, const struct db_outbox_new *j, int64_t now, int64_t *id)
{
    if (!in_txn(db) || !j->receiver || !j->event || !j->payload)
        return KB_EINVAL;
    sqlite3_stmt *st = ob_stmt(db, O_CHAIN_BUSY);
    if (!st)
        return KB_EDB;
    int64_t due = KB_MAX(now, j->not_before);
    db_bind_text(st, 1, j->receiver);
    sqlite3_bind_int64(st, 2, j->issue_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        due = OUTBOX_BLOCKED; /* behind an earlier job of the issue */
    ob_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return KB_EDB;
    if (!(st = ob_stmt(db, O_ENQUEUE)))
        return KB_EDB;
    db_bind_text(st, 1, j->receiver);
    sqlite3_bind_int64(st, 2, j->issue_id);
    if (j->fp)
        sqlite3_bind_blob(st, 3, j->fp, 16, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    db_bind_text(st, 4, j->event);
    db_bind_text(st, 5, j->payload);
    sqlite3_bind_int64(st, 6, due);
    sqlite3_bind_int64(st, 7, j->not_before);
    sqlite3_bind_int64(st, 8, now);
    kb_err e = run(db, st, NULL);
    if (!e && id)
        *id = sqlite3_last_insert_rowid(db->h);
    return e;
}

kb_err db_outbox_claim(struct db *db, const char *receiver, int64_t now, struct db_outbox_job *out,
                       size_t max, size_t *n)
{
    *n = 0;
    if (in_txn(db) || !receiver)
        return KB_EINVAL;
    sqlite3_stmt *sel = ob_stmt(db, O_CLAIM_SELECT), *mark = ob_stmt(db, O_CLAIM_MARK);
    if (!sel || !mark)
        return KB_EDB;
    kb_err e = db_begin(db);
    if (e)
        return e;
    db_bind_text(sel, 1, receiver);
    sqlite3_bind_int64(sel, 2, now);
    sqlite3_bind_int64(sel, 3, (sqlite3_int64)max);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(sel)) == SQLITE_ROW)
        read_job(sel, &out[(*n)++]);
    if (*n < max && rc != SQLITE_DONE)
        e = KB_EDB;
    ob_reset(sel);
    for (size_t i = 0; !e && i < *n; i++) {
        sqlite3_bind_int64(mark, 1, out[i].id);
        sqlite3_bind_int64(mark, 2, now);
        e = run(db, mark, NULL);
        out[i].state = OUTBOX_INFLIGHT;
        out[i].attempts++;
        out[i].updated = now;
    }
    if (!e)
        e = db_commit(db);
    if (e) {
        db_rollback(db);
        for (size_t i = 0; i < *n; i++)
            db_outbox_job_release(&out[i]);
        *n = 0;
    }
    return e;
}

kb_err db_outbox_next_due(struct db *db, const char *receiver, int64_t *at)
{
    *at = -1;
    sqlite3_stmt *st = ob_stmt(db, O_NEXT_DUE);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, receiver);
    sqlite3_bind_int64(st, 2, OUTBOX_BLOCKED);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *at = sqlite3_column_int64(st, 0);
    ob_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KB_OK : KB_EDB;
}

/* Runs a one-job transition; KB_ENOTFOUND when it changed nothing. */
static kb_err transition(struct db *db, sqlite3_stmt *st)
{
    int64_t changed = 0;
    kb_err e = run(db, st, &changed);
    return e ? e : changed ? KB_OK : KB_ENOTFOUND;
}

/* Runs a one-job transition out of pending/inflight (its statement
 * returns the job's receiver and issue), then releases the next job of
 * that issue, in one transaction (the caller's, when one is open).
 * KB_ENOTFOUND when the transition changed nothing. */
static kb_err transition_release(struct db *db, sqlite3_stmt *st, int64_t now)
{
    sqlite3_stmt *rel = ob_stmt(db, O_RELEASE);
    bool own = !in_txn(db);
    kb_err e = !rel ? KB_EDB : own ? db_begin(db) : KB_OK;
    if (e) {
        ob_reset(st);
        return e;
    }
    char *recv = NULL;
    int64_t issue = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        recv = db_col_dup(st, 0);
        issue = sqlite3_column_int64(st, 1);
        rc = sqlite3_step(st);
    }
    ob_reset(st);
    if (rc != SQLITE_DONE) {
        e = KB_EDB;
    } else if (!recv) {
        e = KB_ENOTFOUND;
    } else {
        db_bind_text(rel, 1, recv);
        sqlite3_bind_int64(rel, 2, issue);
        sqlite3_bind_int64(rel, 3, now);
        sqlite3_bind_int64(rel, 4, OUTBOX_BLOCKED);
        e = run(db, rel, NULL);
    }
    free(recv);
    if (own) {
        if (!e)
            e = db_commit(db);
        if (e)
            db_rollback(db);
    }
    return e;
}

kb_err db_outbox_done(struct db *db, int64_t id, int64_t now)
{
    sqlite3_stmt *st = ob_stmt(db, O_DONE);
    if (!st)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    return transition_release(db, st, now);
}

kb_err db_outbox_reschedule(struct db *db, int64_t id, int step, int64_t next_at, const char *error,
                            int64_t now)
{
    sqlite3_stmt *st = ob_stmt(db, O_RESCHEDULE);
    if (!st)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, step);
    sqlite3_bind_int64(st, 3, KB_MIN(next_at, OUTBOX_BLOCKED - 1));
    db_bind_text(st, 4, error);
    sqlite3_bind_int64(st, 5, now);
    return transition(db, st);
}

kb_err db_outbox_dead(struct db *db, int64_t id, const char *error, int64_t now)
{
    sqlite3_stmt *st = ob_stmt(db, O_DEAD);
    if (!st)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    db_bind_text(st, 2, error ? error : "failed");
    sqlite3_bind_int64(st, 3, now);
    return transition_release(db, st, now);
}

kb_err db_outbox_unclaim(struct db *db, int64_t id, int64_t now)
{
    sqlite3_stmt *st = ob_stmt(db, O_UNCLAIM);
    if (!st)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    return transition(db, st);
}

kb_err db_outbox_recover(struct db *db, int64_t now, int64_t *n)
{
    int64_t changed = 0;
    sqlite3_stmt *st = ob_stmt(db, O_RECOVER), *rel = ob_stmt(db, O_RELEASE_ALL);
    if (!st || !rel)
        return KB_EDB;
    if (in_txn(db))
        return KB_EINVAL;
    kb_err e = db_begin(db);
    if (e)
        return e;
    sqlite3_bind_int64(st, 1, now);
    e = run(db, st, &changed);
    if (!e) {
        sqlite3_bind_int64(rel, 1, now);
        sqlite3_bind_int64(rel, 2, OUTBOX_BLOCKED);
        e = run(db, rel, NULL);
    }
    if (!e)
        e = db_commit(db);
    if (e)
        db_rollback(db);
    if (n)
        *n = e ? 0 : changed;
    return e;
}

/* The state of job id: KB_ENOTFOUND when there is no such job. */
static kb_err job_state(struct db *db, int64_t id, int *state)
{
    sqlite3_stmt *st = ob_stmt(db, O_STATE_OF);
    if (!st)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    kb_err e = rc == SQLITE_ROW ? KB_OK : rc == SQLITE_DONE ? KB_ENOTFOUND : KB_EDB;
    *state = -1;
    if (!e)
        db_outbox_state_parse((const char *)sqlite3_column_text(st, 0), state);
    ob_reset(st);
    return e;
}

kb_err db_outbox_retry(struct db *db, int64_t id, int64_t now)
{
    sqlite3_stmt *st = ob_stmt(db, O_RETRY);
    if (!st)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    kb_err e = transition(db, st);
    int state;
    if (e == KB_ENOTFOUND && job_state(db, id, &state) == KB_OK)
        e = KB_EINVAL; /* the job exists but is not dead */
    return e;
}

kb_err db_outbox_retry_dead(struct db *db, const char *receiver, int64_t now, int64_t *n)
{
    int64_t changed = 0;
    sqlite3_stmt *st = ob_stmt(db, O_RETRY_DEAD);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, receiver);
    sqlite3_bind_int64(st, 2, now);
    kb_err e = run(db, st, &changed);
    if (n)
        *n = changed;
    return e;
}

kb_err db_outbox_drop(struct db *db, int64_t id, int64_t now)
{
    sqlite3_stmt *st = ob_stmt(db, O_DROP);
    if (!st)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    kb_err e = transition_release(db, st, now);
    int state;
    if (e == KB_ENOTFOUND && job_state(db, id, &state) == KB_OK)
        e = KB_EINVAL; /* already dropped */
    return e;
}

kb_err db_outbox_prune(struct db *db, int64_t before, size_t limit, int64_t *n)
{
    int64_t changed = 0;
    sqlite3_stmt *st = ob_stmt(db, O_PRUNE);
    if (!st)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, before);
    sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : 10000);
    kb_err e = run(db, st, &changed);
    if (n)
        *n = changed;
    return e;
}

kb_err db_outbox_get(struct db *db, int64_t id, struct db_outbox_job *out)
{
    sqlite3_stmt *st = ob_stmt(db, O_GET);
    if (!st)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    kb_err e = KB_OK;
    if (rc == SQLITE_ROW)
        read_job(st, out);
    else
        e = rc == SQLITE_DONE ? KB_ENOTFOUND : KB_EDB;
    ob_reset(st);
    return e;
}

kb_err db_outbox_list(struct db *db, const struct db_outbox_filter *f, db_outbox_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h,
                           "SELECT " JOB_COLUMNS " FROM outbox"
                           " WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR receiver = ?2)"
                           " ORDER BY id LIMIT ?3",
                           -1, &st, NULL) != SQLITE_OK)
        return KB_EDB;
    db_bind_text(st, 1, f->state >= 0 ? db_outbox_state_name(f->state) : NULL);
    db_bind_text(st, 2, f->receiver);
    sqlite3_bind_int64(st, 3, f->limit ? (sqlite3_int64)f->limit : 1000);
    kb_err e = KB_OK;
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_outbox_job j;
        read_job(st, &j);
        e = fn(ctx, &j);
        db_outbox_job_release(&j);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    sqlite3_finalize(st);
    return e;
}

kb_err db_outbox_counts(struct db *db, db_outbox_count_fn fn, void *ctx)
{
    sqlite3_stmt *st = ob_stmt(db, O_COUNTS);
    if (!st)
        return KB_EDB;
    kb_err e = KB_OK;
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int state = -1;
        const char *recv = (const char *)sqlite3_column_text(st, 0);
        if (db_outbox_state_parse((const char *)sqlite3_column_text(st, 1), &state) == KB_OK)
            e = fn(ctx, recv ? recv : "", state, sqlite3_column_int64(st, 2));
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    ob_reset(st);
    return e;
}

kb_err db_outbox_state_get(struct db *db, const char *receiver, int64_t issue_id, char **state)
{
    *state = NULL;
    sqlite3_stmt *st = ob_stmt(db, O_STATE_GET);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, receiver);
    sqlite3_bind_int64(st, 2, issue_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *state = db_col_dup(st, 0);
    ob_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KB_OK : KB_EDB;
}

kb_err db_outbox_state_set(struct db *db, const char *receiver, int64_t issue_id, const char *state,
                           int64_t now)
{
    if (!receiver || !state)
        return KB_EINVAL;
    sqlite3_stmt *st = ob_stmt(db, O_STATE_SET);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, receiver);
    sqlite3_bind_int64(st, 2, issue_id);
    db_bind_text(st, 3, state);
    sqlite3_bind_int64(st, 4, now);
    return run(db, st, NULL);
}
