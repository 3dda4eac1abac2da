/*
 * db.h — koban's SQLite store: issues, their history, the quarantine, and
 * the pipeline's checkpoint into the journal.
 *
 * What is kept where (docs/DESIGN.md, "Storage"): every raw event lives in
 * the journal (store/journal.h); SQLite holds one row per issue (an alert
 * identity) with counters and journal pointers to its first and last
 * occurrence, one row per state change, and one row per rejected event. So
 * a million CloudTrail calls that fold into 200 issues cost 200 rows.
 *
 * The pipeline's checkpoint (last journal seq applied) is written in the same
 * transaction as the issue changes it caused: after a crash the pipeline
 * resumes from the checkpoint and no event is counted twice or lost. That is
 * also why the daemon's connection may use synchronous=NORMAL: a transaction
 * lost to power failure is replayed from the journal, which is fsynced.
 *
 * Ownership: db_open returns a handle freed by db_close. One handle per
 * thread. Rows read into struct db_issue own their strings until
 * db_issue_release(). Schema changes are numbered migrations in db.c,
 * applied in order at open inside a transaction.
 */
#ifndef KOBAN_DB_H
#define KOBAN_DB_H

#include "lib/kb.h"

enum issue_state { ISSUE_OPEN = 0, ISSUE_ACKED = 1, ISSUE_CLOSED = 2 };
#define ISSUE_STATE_COUNT 3

/* "open", "acknowledged", "closed". */
const char *issue_state_name(int state);
/* Accepts those names and "ack"/"acked". KB_EINVAL when unknown. */
kb_err issue_state_parse(const char *s, int *out);

struct db;

enum db_mode { DB_DAEMON = 0, DB_CLIENT = 1 }; /* DB_CLIENT: synchronous=FULL */

/* Process-wide SQLite settings, once at start before any db_open (main):
 * no memory statistics, whose global mutex and counters cost the pipeline
 * thread about 7% of its time in profiles. Harmless if called late (then
 * SQLite keeps its defaults). */
void db_global_init(void);

kb_err db_open(const char *path, enum db_mode mode, unsigned cache_mib, struct db **out,
               struct kb_why *why);
void db_close(struct db *db);

/* A writer gate: connections of one process that share it take turns at
 * write transactions in arrival order (a ticket lock around db_begin ..
 * commit/rollback). Without it SQLite's busy handler decides, and a thread
 * that commits and begins again at once (the pipeline under sustained load)
 * kept the delivery threads waiting for as long as the load lasted.
 * Owner: the caller of db_gate_new (free it after every db using it). */
struct db_gate;
kb_err db_gate_new(struct db_gate **out);
void db_gate_free(struct db_gate *g);
/* Makes db's write transactions take turns at g (borrowed; NULL: none).
 * Not while a transaction is open. */
void db_use_gate(struct db *db, struct db_gate *g);

kb_err db_begin(struct db *db);
kb_err db_commit(struct db *db);
void db_rollback(struct db *db);
/* WAL checkpoints. By default a connection whose commit fills the WAL past
 * 1,000 pages checkpoints inside that commit (two fsyncs). A connection
 * whose commits must stay short (the vulnerability engine's) turns that
 * off with db_autocheckpoint(db, 0) and someone calls db_checkpoint
 * (PASSIVE: never waits for readers or writers) from a background chore. */
kb_err db_autocheckpoint(struct db *db, int pages);
kb_err db_checkpoint(struct db *db);

/* The last SQLite error message (for logs). */
const char *db_errmsg(struct db *db);

kb_err db_checkpoint_get(struct db *db, const char *consumer, uint64_t *seq);
kb_err db_checkpoint_set(struct db *db, const char *consumer, uint64_t seq);

struct db_issue {
    int64_t id;
    uint8_t fp[16];
    char *identity;       /* "account=123 kind=... resource=..." */
    char *source, *kind, *title, *account, *region, *resource;
    char *actor_user, *actor_ip, *host, *native_severity;
    int severity;         /* enum kb_severity */
    int state;            /* enum issue_state */
    int64_t count;        /* occurrences */
    int64_t first_seen;   /* ms: event time (receive time when unknown) */
    int64_t last_seen;
    int64_t last_received;/* ms: when koban last received an occurrence */
    uint64_t first_seq;   /* journal seq of the first / last occurrence */
    uint64_t last_seq;
    int64_t state_changed;/* ms */
    int64_t reopened;     /* times reopened by a recurrence */
    /* Triage of the newest occurrence that went through rules or policies
     * (NULL when none did): JSON text written by koban. */
    char *rules;          /* ["rule id", ...]: Sigma/correlation rules matched */
    char *policies;       /* ["policy id", ...]: policies applied */
    char *labels;         /* {"key":"value", ...} */
    char *annotations;    /* [{"text":..,"link":..,"policy":..}, ...] */
    char *mute_reason;    /* non-NULL: muted */
    int64_t mute_until;   /* ms; 0 = no expiry */
};
void db_issue_release(struct db_issue *r);

kb_err db_issue_find(struct db *db, const uint8_t fp[16], int64_t *id, int *state);
/* Calls fn for the fingerprint of every issue (in no particular order);
 * fn returning non-zero stops the walk. */
kb_err db_issue_each_fp(struct db *db, int (*fn)(void *ctx, const uint8_t fp[16]), void *ctx);
/* Inserts r (id ignored) and sets *id. */
kb_err db_issue_insert(struct db *db, const struct db_issue *r, int64_t *id);
/* Adds occurrences: count += add; last_seen = max; last_received, last_seq,
 * severity and title take the newest values. */
kb_err db_issue_bump(struct db *db, int64_t id, int64_t add, int64_t last_seen,
                     int64_t received, uint64_t last_seq, int severity, const char *title);
/* The triage columns of an issue (each may be NULL; they replace the
 * stored values). Strings are borrowed. */
struct db_triage {
    const char *rules, *policies, *labels, *annotations, *mute_reason;
    int64_t mute_until;
};
kb_err db_issue_set_triage(struct db *db, int64_t id, const struct db_triage *t);
/* Sets the state and appends a history row (from may be -1: none). */
kb_err db_issue_set_state(struct db *db, int64_t id, int from, int to, int64_t at,
                          const char *actor, const char *reason, uint64_t seq);
kb_err db_issue_get(struct db *db, int64_t id, struct db_issue *out);

struct db_issue_filter {
    int state;            /* -1: any */
    bool active_only;     /* open or acknowledged (state must be -1) */
    int min_severity;     /* 0: any */
    const char *source;   /* NULL: any */
    const char *text;     /* substring of title/identity/kind/resource; NULL: any */
    size_t limit;         /* 0: 1000 */
};
typedef kb_err (*db_issue_fn)(void *ctx, const struct db_issue *r);
kb_err db_issue_list(struct db *db, const struct db_issue_filter *f, db_issue_fn fn, void *ctx);

struct db_history {
    int64_t at;
    int from;             /* -1 for the first row */
    int to;
    const char *actor;
    const char *reason;
    uint64_t seq;         /* journal seq that caused it, 0 for people */
};
typedef kb_err (*db_history_fn)(void *ctx, const struct db_history *h);
kb_err db_issue_history(struct db *db, int64_t id, db_history_fn fn, void *ctx);

kb_err db_quarantine_add(struct db *db, uint64_t seq, int64_t received, const char *path,
                         const char *source, struct kb_str reason, struct kb_str raw);
struct db_quarantine {
    int64_t id;
    uint64_t seq;
    int64_t received;
    const char *path, *source, *reason;
    struct kb_str raw;
};
typedef kb_err (*db_quarantine_fn)(void *ctx, const struct db_quarantine *q);
kb_err db_quarantine_list(struct db *db, size_t limit, db_quarantine_fn fn, void *ctx);

/* Issues per state, and the total occurrence count. */
kb_err db_issue_counts(struct db *db, int64_t by_state[ISSUE_STATE_COUNT], int64_t *occurrences);
kb_err db_quarantine_count(struct db *db, int64_t *n);

#endif
