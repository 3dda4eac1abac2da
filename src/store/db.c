/* db.c — SQLite store: schema migrations, issues, history, quarantine. */
#include "store/db.h"
#include "store/db_internal.h"
#include "store/db_incident_schema.h"
#include "store/db_vuln_schema.h"

#include <pthread.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* Numbered migrations; index + 1 is the schema version. Append only. */
static const char *const db_migrations[] = {
    /* 1 */
    "CREATE TABLE checkpoint(consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL);"
    "CREATE TABLE issues("
    " id INTEGER PRIMARY KEY,"
    " fingerprint BLOB NOT NULL UNIQUE,"
    " identity TEXT NOT NULL,"
    " source TEXT NOT NULL, kind TEXT, title TEXT, account TEXT, region TEXT,"
    " resource TEXT, actor_user TEXT, actor_ip TEXT, host TEXT, native_severity TEXT,"
    " severity INTEGER NOT NULL, state INTEGER NOT NULL,"
    " count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " last_received INTEGER NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,"
    " state_changed INTEGER NOT NULL, reopened INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX issues_by_state ON issues(state, severity, last_seen);"
    "CREATE TABLE issue_history("
    " id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL REFERENCES issues(id),"
    " at INTEGER NOT NULL, from_state INTEGER, to_state INTEGER NOT NULL,"
    " actor TEXT NOT NULL, reason TEXT, seq INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX issue_history_by_issue ON issue_history(issue_id, id);"
    "CREATE TABLE quarantine("
    " id INTEGER PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, received INTEGER NOT NULL,"
    " path TEXT, source TEXT, reason TEXT NOT NULL, raw BLOB NOT NULL);",
    /* 2: triage — what rules and policies said about the newest occurrence */
    "ALTER TABLE issues ADD COLUMN rules TEXT;"
    "ALTER TABLE issues ADD COLUMN policies TEXT;"
    "ALTER TABLE issues ADD COLUMN labels TEXT;"
    "ALTER TABLE issues ADD COLUMN annotations TEXT;"
    "ALTER TABLE issues ADD COLUMN mute_reason TEXT;"
    "ALTER TABLE issues ADD COLUMN mute_until INTEGER;",
    /* 3: notifications — the outbox and each receiver's per-issue state
     * (state machine and ordering in src/store/db_outbox.h) */
    "CREATE TABLE outbox("
    " id INTEGER PRIMARY KEY, receiver TEXT NOT NULL, issue_id INTEGER NOT NULL,"
    " fp BLOB, event TEXT NOT NULL, payload TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending'"
    "  CHECK(state IN ('pending','inflight','done','dead','dropped')),"
    " attempts INTEGER NOT NULL DEFAULT 0, step INTEGER NOT NULL DEFAULT 0,"
    " next_at INTEGER NOT NULL, not_before INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL, last_error TEXT);"
    "CREATE INDEX outbox_due ON outbox(receiver, state, next_at, id);"
    "CREATE INDEX outbox_chain ON outbox(receiver, issue_id, state, id, next_at);"
    "CREATE TABLE notify_state("
    " receiver TEXT NOT NULL, issue_id INTEGER NOT NULL, state TEXT NOT NULL,"
    " updated INTEGER NOT NULL, PRIMARY KEY(receiver, issue_id)) WITHOUT ROWID;",
    /* 4: reminders — each issue's last notice and the reminders since
     * (store/db_notice.h) */
    "CREATE TABLE notice("
    " issue_id INTEGER PRIMARY KEY, last INTEGER NOT NULL,"
    " reminders INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX notice_by_last ON notice(last);",
    /* 5: vulnerabilities — advisories, feeds' state, assets, findings,
     * triage (store/db_vuln_schema.h) */
    DB_MIGRATION_VULN,
    /* 6: incidents (store/db_incident_schema.h) */
    DB_MIGRATION_INCIDENT,
};

enum stmt_id {
    S_BEGIN, S_COMMIT, S_ROLLBACK, S_CP_GET, S_CP_SET, S_FIND, S_INSERT, S_BUMP,
    S_SET_STATE, S_HISTORY_ADD, S_GET, S_HISTORY, S_Q_ADD, S_TRIAGE, S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_CP_GET] = "SELECT seq FROM checkpoint WHERE consumer = ?1",
    [S_CP_SET] = "INSERT INTO checkpoint(consumer, seq) VALUES(?1, ?2)"
                 " ON CONFLICT(consumer) DO UPDATE SET seq = excluded.seq",
    [S_FIND] = "SELECT id, state FROM issues WHERE fingerprint = ?1",
    [S_INSERT] = "INSERT INTO issues(fingerprint, identity, source, kind, title, account,"
                 " region, resource, actor_user, actor_ip, host, native_severity, severity,"
                 " state, count, first_seen, last_seen, last_received, first_seq, last_seq,"
                 " state_changed) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
                 "?16,?17,?18,?19,?20,?21)",
    [S_BUMP] = "UPDATE issues SET count = count + ?2, last_seen = max(last_seen, ?3),"
               " last_received = ?4, last_seq = ?5, severity = ?6,"
               " title = coalesce(?7, title) WHERE id = ?1",
    [S_SET_STATE] = "UPDATE issues SET state = ?2, state_changed = ?3,"
                    " reopened = reopened + ?4 WHERE id = ?1",
    [S_HISTORY_ADD] = "INSERT INTO issue_history(issue_id, at, from_state, to_state, actor,"
                      " reason, seq) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_GET] = "SELECT id, fingerprint, identity, source, kind, title, account, region,"
              " resource, actor_user, actor_ip, host, native_severity, severity, state, count,"
              " first_seen, last_seen, last_received, first_seq, last_seq, state_changed,"
              " reopened, rules, policies, labels, annotations, mute_reason, mute_until"
              " FROM issues WHERE id = ?1",
    [S_HISTORY] = "SELECT at, from_state, to_state, actor, reason, seq FROM issue_history"
                  " WHERE issue_id = ?1 ORDER BY id",
    [S_Q_ADD] = "INSERT OR IGNORE INTO quarantine(seq, received, path, source, reason, raw)"
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_TRIAGE] = "UPDATE issues SET rules = ?2, policies = ?3, labels = ?4, annotations = ?5,"
                 " mute_reason = ?6, mute_until = ?7 WHERE id = ?1",
};

#define ISSUE_COLUMNS                                                                    \
    "id, fingerprint, identity, source, kind, title, account, region, resource,"        \
    " actor_user, actor_ip, host, native_severity, severity, state, count, first_seen," \
    " last_seen, last_received, first_seq, last_seq, state_changed, reopened, rules,"     \
    " policies, labels, annotations, mute_reason, mute_until"

_Static_assert(S_COUNT <= DB_STMT_MAX, "raise DB_STMT_MAX in db_internal.h");

static const char *const state_names[ISSUE_STATE_COUNT] = {"open", "acknowledged", "closed"};

const char *issue_state_name(int s)
{
    return s >= 0 && s < ISSUE_STATE_COUNT ? state_names[s] : "?";
}

kb_err issue_state_parse(const char *s, int *out)
{
    for (int i = 0; i < ISSUE_STATE_COUNT; i++)
        if (strcasecmp(s, state_names[i]) == 0) {
            *out = i;
            return KB_OK;
        }
    if (!strcasecmp(s, "ack") || !strcasecmp(s, "acked")) {
        *out = ISSUE_ACKED;
        return KB_OK;
    }
    return KB_EINVAL;
}

kb_err db_autocheckpoint(struct db *db, int pages)
{
    return sqlite3_wal_autocheckpoint(db->h, pages < 0 ? 0 : pages) == SQLITE_OK ? KB_OK : KB_EDB;
}

kb_err db_checkpoint(struct db *db)
{
    int rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? KB_OK : KB_EDB;
}

const char *db_errmsg(struct db *db)
{
    return sqlite3_errmsg(db->h);
}

static kb_err db_exec(struct db *db, const char *sql, struct kb_why *why)
{
    char *err = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &err) != SQLITE_OK) {
        kb_fail(why, KB_EDB, "sqlite: %s", err ? err : "?");
        sqlite3_free(err);
        return KB_EDB;
    }
    return KB_OK;
}

static kb_err db_migrate(struct db *db, struct kb_why *why)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return kb_fail(why, KB_EDB, "sqlite: %s", sqlite3_errmsg(db->h));
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    int latest = (int)KB_ARRAY_LEN(db_migrations);
    if (version > latest)
        return kb_fail(why, KB_EUNSUPPORTED,
                       "the store has schema version %d, newer than this koban (%d)", version,
                       latest);
    for (int v = version; v < latest; v++) {
        kb_err e = db_exec(db, "BEGIN IMMEDIATE", why);
        if (e)
            return e;
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if ((e = db_exec(db, db_migrations[v], why)) || (e = db_exec(db, pragma, why)) ||
            (e = db_exec(db, "COMMIT", why))) {
            db_exec(db, "ROLLBACK", NULL);
            return e;
        }
    }
    return KB_OK;
}

void db_global_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

kb_err db_open(const char *path, enum db_mode mode, unsigned cache_mib, struct db **out,
               struct kb_why *why)
{
    struct db *db = kb_calloc(1, sizeof *db);
    if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                          SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        kb_fail(why, KB_EDB, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : "cannot open");
        db_close(db);
        return KB_EDB;
    }
    sqlite3_busy_timeout(db->h, 10000);
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
             " PRAGMA cache_size=-%u; PRAGMA temp_store=MEMORY;",
             mode == DB_CLIENT ? "FULL" : "NORMAL", (cache_mib ? cache_mib : 16) * 1024);
    kb_err e = db_exec(db, pragmas, why);
    if (!e)
        e = db_migrate(db, why);
    for (int i = 0; !e && i < S_COUNT; i++)
        if (sqlite3_prepare_v3(db->h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i],
                               NULL) != SQLITE_OK)
            e = kb_fail(why, KB_EDB, "sqlite: %s", sqlite3_errmsg(db->h));
    if (e) {
        if (why && !strstr(why->msg, path)) {
            char tmp[sizeof why->msg + 8];
            int n = snprintf(tmp, sizeof tmp, "%s: %s", path, why->msg);
            (void)n;
            memcpy(why->msg, tmp, sizeof why->msg - 1);
            why->msg[sizeof why->msg - 1] = '\0';
        }
        db_close(db);
        return e;
    }
    *out = db;
    return KB_OK;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    db_rollback(db); /* an open transaction, and the gate turn with it */
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(db->st[i]);
    for (int i = 0; i < DB_OUTBOX_STMT_MAX; i++)
        sqlite3_finalize(db->outbox[i]);
    sqlite3_close(db->h);
    free(db);
}

/* Runs a prepared statement that returns no rows. */
static kb_err step_done(struct db *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    (void)db;
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? KB_OK : KB_EDB;
}

struct db_gate {
    pthread_mutex_t mu;
    pthread_cond_t turn;
    uint64_t next;    /* the next ticket to hand out */
    uint64_t serving; /* the ticket whose holder may write */
};

kb_err db_gate_new(struct db_gate **out)
{
    struct db_gate *g = kb_calloc(1, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->turn, NULL);
    *out = g;
    return KB_OK;
}

void db_gate_free(struct db_gate *g)
{
    if (!g)
        return;
    pthread_cond_destroy(&g->turn);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

void db_use_gate(struct db *db, struct db_gate *g)
{
    db->gate = g;
}

static void gate_enter(struct db *db)
{
    struct db_gate *g = db->gate;
    if (!g || db->gate_held)
        return;
    pthread_mutex_lock(&g->mu);
    uint64_t t = g->next++;
    while (g->serving != t)
        pthread_cond_wait(&g->turn, &g->mu);
    pthread_mutex_unlock(&g->mu);
    db->gate_held = true;
}

static void gate_leave(struct db *db)
{
    struct db_gate *g = db->gate;
    if (!g || !db->gate_held)
        return;
    db->gate_held = false;
    pthread_mutex_lock(&g->mu);
    g->serving++;
    pthread_cond_broadcast(&g->turn);
    pthread_mutex_unlock(&g->mu);
}

kb_err db_begin(struct db *db)
{
    gate_enter(db);
    kb_err e = step_done(db, db->st[S_BEGIN]);
    if (e)
        gate_leave(db);
    return e;
}

kb_err db_commit(struct db *db)
{
    kb_err e = step_done(db, db->st[S_COMMIT]);
    if (!e || sqlite3_get_autocommit(db->h))
        gate_leave(db); /* committed, or SQLite rolled it back itself */
    return e;
}

void db_rollback(struct db *db)
{
    if (!sqlite3_get_autocommit(db->h))
        step_done(db, db->st[S_ROLLBACK]);
    gate_leave(db);
}

kb_err db_checkpoint_get(struct db *db, const char *consumer, uint64_t *seq)
{
    sqlite3_stmt *st = db->st[S_CP_GET];
    sqlite3_bind_text(st, 1, consumer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *seq = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KB_OK : KB_EDB;
}

kb_err db_checkpoint_set(struct db *db, const char *consumer, uint64_t seq)
{
    sqlite3_stmt *st = db->st[S_CP_SET];
    sqlite3_bind_text(st, 1, consumer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    return step_done(db, st);
}

kb_err db_issue_find(struct db *db, const uint8_t fp[16], int64_t *id, int *state)
{
    sqlite3_stmt *st = db->st[S_FIND];
    sqlite3_bind_blob(st, 1, fp, 16, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    kb_err e = KB_OK;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *state = sqlite3_column_int(st, 1);
    } else {
        e = rc == SQLITE_DONE ? KB_ENOTFOUND : KB_EDB;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

kb_err db_issue_each_fp(struct db *db, int (*fn)(void *ctx, const uint8_t fp[16]), void *ctx)
{
    sqlite3_stmt *st;
    /* SQLite answers this from the UNIQUE index on fingerprint (a covering
     * index, smaller than the rows). */
    if (sqlite3_prepare_v2(db->h, "SELECT fingerprint FROM issues", -1, &st, NULL) != SQLITE_OK)
        return KB_EDB;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != 16)
            continue;
        if (fn(ctx, sqlite3_column_blob(st, 0))) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KB_OK : KB_EDB;
}

kb_err db_issue_insert(struct db *db, const struct db_issue *r, int64_t *id)
{
    sqlite3_stmt *st = db->st[S_INSERT];
    sqlite3_bind_blob(st, 1, r->fp, 16, SQLITE_STATIC);
    db_bind_text(st, 2, r->identity ? r->identity : "");
    db_bind_text(st, 3, r->source ? r->source : "");
    db_bind_text(st, 4, r->kind);
    db_bind_text(st, 5, r->title);
    db_bind_text(st, 6, r->account);
    db_bind_text(st, 7, r->region);
    db_bind_text(st, 8, r->resource);
    db_bind_text(st, 9, r->actor_user);
    db_bind_text(st, 10, r->actor_ip);
    db_bind_text(st, 11, r->host);
    db_bind_text(st, 12, r->native_severity);
    sqlite3_bind_int(st, 13, r->severity);
    sqlite3_bind_int(st, 14, r->state);
    sqlite3_bind_int64(st, 15, r->count);
    sqlite3_bind_int64(st, 16, r->first_seen);
    sqlite3_bind_int64(st, 17, r->last_seen);
    sqlite3_bind_int64(st, 18, r->last_received);
    sqlite3_bind_int64(st, 19, (sqlite3_int64)r->first_seq);
    sqlite3_bind_int64(st, 20, (sqlite3_int64)r->last_seq);
    sqlite3_bind_int64(st, 21, r->state_changed);
    kb_err e = step_done(db, st);
    if (!e)
        *id = sqlite3_last_insert_rowid(db->h);
    return e;
}

kb_err db_issue_bump(struct db *db, int64_t id, int64_t add, int64_t last_seen,
                     int64_t received, uint64_t last_seq, int severity, const char *title)
{
    sqlite3_stmt *st = db->st[S_BUMP];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, add);
    sqlite3_bind_int64(st, 3, last_seen);
    sqlite3_bind_int64(st, 4, received);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)last_seq);
    sqlite3_bind_int(st, 6, severity);
    db_bind_text(st, 7, title);
    return step_done(db, st);
}

kb_err db_issue_set_triage(struct db *db, int64_t id, const struct db_triage *t)
{
    sqlite3_stmt *st = db->st[S_TRIAGE];
    sqlite3_bind_int64(st, 1, id);
    db_bind_text(st, 2, t->rules);
    db_bind_text(st, 3, t->policies);
    db_bind_text(st, 4, t->labels);
    db_bind_text(st, 5, t->annotations);
    db_bind_text(st, 6, t->mute_reason);
    if (t->mute_reason && t->mute_until)
        sqlite3_bind_int64(st, 7, t->mute_until);
    else
        sqlite3_bind_null(st, 7);
    return step_done(db, st);
}

kb_err db_issue_set_state(struct db *db, int64_t id, int from, int to, int64_t at,
                          const char *actor, const char *reason, uint64_t seq)
{
    sqlite3_stmt *st = db->st[S_SET_STATE];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, to);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_int(st, 4, from == ISSUE_CLOSED && to == ISSUE_OPEN && seq ? 1 : 0);
    kb_err e = step_done(db, st);
    if (e)
        return e;
    st = db->st[S_HISTORY_ADD];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    if (from < 0)
        sqlite3_bind_null(st, 3);
    else
        sqlite3_bind_int(st, 3, from);
    sqlite3_bind_int(st, 4, to);
    db_bind_text(st, 5, actor ? actor : "koban");
    db_bind_text(st, 6, reason);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)seq);
    return step_done(db, st);
}

static void read_issue(sqlite3_stmt *st, struct db_issue *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    const void *fp = sqlite3_column_blob(st, 1);
    if (fp && sqlite3_column_bytes(st, 1) == 16)
        memcpy(r->fp, fp, 16);
    r->identity = db_col_dup(st, 2);
    r->source = db_col_dup(st, 3);
    r->kind = db_col_dup(st, 4);
    r->title = db_col_dup(st, 5);
    r->account = db_col_dup(st, 6);
    r->region = db_col_dup(st, 7);
    r->resource = db_col_dup(st, 8);
    r->actor_user = db_col_dup(st, 9);
    r->actor_ip = db_col_dup(st, 10);
    r->host = db_col_dup(st, 11);
    r->native_severity = db_col_dup(st, 12);
    r->severity = sqlite3_column_int(st, 13);
    r->state = sqlite3_column_int(st, 14);
    r->count = sqlite3_column_int64(st, 15);
    r->first_seen = sqlite3_column_int64(st, 16);
    r->last_seen = sqlite3_column_int64(st, 17);
    r->last_received = sqlite3_column_int64(st, 18);
    r->first_seq = (uint64_t)sqlite3_column_int64(st, 19);
    r->last_seq = (uint64_t)sqlite3_column_int64(st, 20);
    r->state_changed = sqlite3_column_int64(st, 21);
    r->reopened = sqlite3_column_int64(st, 22);
    r->rules = db_col_dup(st, 23);
    r->policies = db_col_dup(st, 24);
    r->labels = db_col_dup(st, 25);
    r->annotations = db_col_dup(st, 26);
    r->mute_reason = db_col_dup(st, 27);
    r->mute_until = sqlite3_column_int64(st, 28);
}

void db_issue_release(struct db_issue *r)
{
    char **strs[] = {&r->identity, &r->source, &r->kind, &r->title, &r->account,
                     &r->region, &r->resource, &r->actor_user, &r->actor_ip, &r->host,
                     &r->native_severity, &r->rules, &r->policies, &r->labels,
                     &r->annotations, &r->mute_reason};
    for (size_t i = 0; i < KB_ARRAY_LEN(strs); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

kb_err db_issue_get(struct db *db, int64_t id, struct db_issue *out)
{
    sqlite3_stmt *st = db->st[S_GET];
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    kb_err e = KB_OK;
    if (rc == SQLITE_ROW)
        read_issue(st, out);
    else
        e = rc == SQLITE_DONE ? KB_ENOTFOUND : KB_EDB;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

kb_err db_issue_list(struct db *db, const struct db_issue_filter *f, db_issue_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    const char *sql =
        "SELECT " ISSUE_COLUMNS " FROM issues WHERE (?1 < 0 OR state = ?1)"
        " AND severity >= ?2 AND (?3 IS NULL OR source = ?3)"
        " AND (?4 IS NULL OR instr(lower(coalesce(title,'') || ' ' || identity || ' ' ||"
        " coalesce(kind,'') || ' ' || coalesce(resource,'')), lower(?4)) > 0)"
        " AND (?6 = 0 OR state != 2)"
        " ORDER BY severity DESC, last_seen DESC, id DESC LIMIT ?5";
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        return KB_EDB;
    sqlite3_bind_int(st, 1, f->state);
    sqlite3_bind_int(st, 2, f->min_severity);
    db_bind_text(st, 3, f->source);
    db_bind_text(st, 4, f->text);
    sqlite3_bind_int64(st, 5, f->limit ? (sqlite3_int64)f->limit : 1000);
    sqlite3_bind_int(st, 6, f->active_only ? 1 : 0);
    kb_err e = KB_OK;
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_issue r;
        read_issue(st, &r);
        e = fn(ctx, &r);
        db_issue_release(&r);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    sqlite3_finalize(st);
    return e;
}

kb_err db_issue_history(struct db *db, int64_t id, db_history_fn fn, void *ctx)
{
    sqlite3_stmt *st = db->st[S_HISTORY];
    sqlite3_bind_int64(st, 1, id);
    kb_err e = KB_OK;
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_history h = {
            .at = sqlite3_column_int64(st, 0),
            .from = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 1),
            .to = sqlite3_column_int(st, 2),
            .actor = (const char *)sqlite3_column_text(st, 3),
            .reason = (const char *)sqlite3_column_text(st, 4),
            .seq = (uint64_t)sqlite3_column_int64(st, 5),
        };
        e = fn(ctx, &h);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

kb_err db_quarantine_add(struct db *db, uint64_t seq, int64_t received, const char *path,
                         const char *source, struct kb_str reason, struct kb_str raw)
{
    sqlite3_stmt *st = db->st[S_Q_ADD];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_int64(st, 2, received);
    db_bind_text(st, 3, path);
    db_bind_text(st, 4, source);
    sqlite3_bind_text(st, 5, reason.p ? reason.p : "", (int)reason.n, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, raw.p ? raw.p : "", (int)raw.n, SQLITE_STATIC);
    return step_done(db, st);
}

kb_err db_quarantine_list(struct db *db, size_t limit, db_quarantine_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h,
                           "SELECT id, seq, received, path, source, reason, raw FROM quarantine"
                           " ORDER BY id DESC LIMIT ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : 100);
    kb_err e = KB_OK;
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_quarantine q = {
            .id = sqlite3_column_int64(st, 0),
            .seq = (uint64_t)sqlite3_column_int64(st, 1),
            .received = sqlite3_column_int64(st, 2),
            .path = (const char *)sqlite3_column_text(st, 3),
            .source = (const char *)sqlite3_column_text(st, 4),
            .reason = (const char *)sqlite3_column_text(st, 5),
            .raw = {sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6)},
        };
        e = fn(ctx, &q);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    sqlite3_finalize(st);
    return e;
}

kb_err db_issue_counts(struct db *db, int64_t by_state[ISSUE_STATE_COUNT], int64_t *occurrences)
{
    sqlite3_stmt *st;
    for (int i = 0; i < ISSUE_STATE_COUNT; i++)
        by_state[i] = 0;
    if (occurrences)
        *occurrences = 0;
    /* Without occurrences the query is answered from the issues_by_state
     * index alone, without reading the rows. */
    const char *sql = occurrences
                          ? "SELECT state, count(*), sum(count) FROM issues GROUP BY state"
                          : "SELECT state, count(*), 0 FROM issues GROUP BY state";
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        return KB_EDB;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int s = sqlite3_column_int(st, 0);
        if (s >= 0 && s < ISSUE_STATE_COUNT)
            by_state[s] = sqlite3_column_int64(st, 1);
        if (occurrences)
            *occurrences += sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KB_OK : KB_EDB;
}

kb_err db_quarantine_count(struct db *db, int64_t *n)
{
    sqlite3_stmt *st;
    *n = 0;
    if (sqlite3_prepare_v2(db->h, "SELECT count(*) FROM quarantine", -1, &st, NULL) != SQLITE_OK)
        return KB_EDB;
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return KB_OK;
}
