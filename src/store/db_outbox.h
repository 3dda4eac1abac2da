/*
 * db_outbox.h — the notification outbox: durable jobs, one per notification
 * for one receiver, and each receiver's per-issue state (docs/DESIGN.md,
 * "Outbox and delivery").
 *
 * Job state machine (the `state` column; every transition below is one SQL
 * statement whose WHERE clause requires the "from" state, so a transition
 * from any other state changes nothing: KB_ENOTFOUND, or KB_EINVAL where
 * noted below):
 *
 *              db_outbox_enqueue
 *                     │
 *                     ▼          db_outbox_reschedule (transient failure)
 *   ┌──────────► pending ◄──────────────────────────────┐
 *   │                 │  db_outbox_claim                 │
 *   │                 ▼                                  │
 *   │             inflight ──────────────────────────────┤
 *   │              │    │    db_outbox_unclaim,          │
 *   │   db_outbox_done  │    db_outbox_recover (a process│
 *   │              ▼    │    died or stopped mid-send) ──┘
 *   │            done   │ db_outbox_dead (permanent failure or too many attempts)
 *   │                   ▼
 *   └──────────────── dead          any state ── db_outbox_drop ──► dropped
 *     db_outbox_retry (`koban outbox retry`)
 *
 * Order: jobs of one (receiver, issue) are delivered in the order they were
 * written (by id). A pending job is claimable only when it is due (next_at
 * <= now) and no job of the same (receiver, issue) with a smaller id is
 * pending or inflight. Dead, done and dropped jobs do not hold later ones
 * back (a dead letter must not silence an issue forever).
 *
 * So that claims do not scan jobs that must wait anyway (a receiver down
 * for an hour with thousands of jobs for one issue), a job written behind
 * a pending or inflight job of its issue gets next_at = OUTBOX_BLOCKED, and
 * when a job leaves pending/inflight (done, dead, dropped) the next one of
 * its issue is released (next_at = max(now, not_before)). The rule above
 * is still what claims check; the sentinel only keeps waiting jobs out of
 * the due range. db_outbox_recover also releases any blocked job that
 * nothing holds back, so a lost release costs at most a restart.
 *
 * Transactions: db_outbox_enqueue must run inside the caller's open
 * transaction (db_begin ... db_commit), so a job exists exactly when the
 * state change that caused it does. db_outbox_claim and db_outbox_recover
 * run their own transaction and fail with KB_EINVAL inside one; the other
 * calls join the caller's transaction when one is open.
 *
 * Ownership: strings in struct db_outbox_job are owned (malloc) until
 * db_outbox_job_release(); db_outbox_state_get returns a malloc'd string
 * the caller frees. Jobs passed to a db_outbox_fn callback are released by
 * the store after the callback returns.
 */
#ifndef KOBAN_DB_OUTBOX_H
#define KOBAN_DB_OUTBOX_H

#include "lib/kb.h"
#include "store/db.h"

enum outbox_state {
    OUTBOX_PENDING = 0,
    OUTBOX_INFLIGHT,
    OUTBOX_DONE,
    OUTBOX_DEAD,
    OUTBOX_DROPPED,
    OUTBOX_STATE_COUNT
};

/* "pending", "inflight", "done", "dead", "dropped"; "?" when out of range. */
const char *db_outbox_state_name(int state);
/* The names above; KB_EINVAL when unknown. */
kb_err db_outbox_state_parse(const char *s, int *out);

#define OUTBOX_ERROR_MAX 1024 /* last_error is cut to this many bytes */
/* next_at of a pending job waiting for an earlier job of its issue. */
#define OUTBOX_BLOCKED INT64_C(4611686018427387904)

/* A job to write. Strings borrowed. */
struct db_outbox_new {
    const char *receiver; /* receiver name (config) */
    int64_t issue_id;     /* the issue it is about; jobs of one issue stay in order */
    const uint8_t *fp;    /* the issue fingerprint (16 bytes), or NULL */
    const char *event;    /* "opened", "repeated", ... (also inside payload) */
    const char *payload;  /* JSON text (notify/receiver.h describes it) */
    int64_t not_before;   /* ms; 0: due now */
};

struct db_outbox_job {
    int64_t id;
    char *receiver;
    int64_t issue_id;
    uint8_t fp[16];
    bool has_fp;
    char *event;
    char *payload;
    int state;        /* enum outbox_state */
    int attempts;     /* attempts started (a claim counts one) */
    int step;         /* receiver step to resume from after a retry */
    int64_t next_at;  /* ms: due time when pending; OUTBOX_BLOCKED: waits for an
                         earlier job of its issue */
    int64_t created;  /* ms */
    int64_t updated;  /* ms: last transition */
    char *last_error; /* NULL when none */
};
void db_outbox_job_release(struct db_outbox_job *j);

/* Writes a pending job inside the caller's open transaction (KB_EINVAL
 * when none is open) and sets *id (may be NULL). Due at max(now,
 * not_before), or blocked behind an earlier job of its issue (see above). */
kb_err db_outbox_enqueue(struct db *db, const struct db_outbox_new *j, int64_t now, int64_t *id);

/* Claims up to max due jobs of receiver (see "Order" above) in one
 * transaction: each becomes inflight with attempts + 1. out[0..*n) are
 * filled in due order; release each with db_outbox_job_release. */
kb_err db_outbox_claim(struct db *db, const char *receiver, int64_t now, struct db_outbox_job *out,
                       size_t max, size_t *n);
/* The earliest next_at among pending jobs of receiver (*at = -1: none).
 * Lets a worker sleep until then; a job blocked by an earlier one of its
 * issue may make this earlier than the next claimable time. */
kb_err db_outbox_next_due(struct db *db, const char *receiver, int64_t *at);

/* inflight → done. KB_ENOTFOUND when the job is not inflight (e.g. dropped
 * meanwhile). */
kb_err db_outbox_done(struct db *db, int64_t id, int64_t now);
/* inflight → pending, due at next_at, resuming at step, with error kept as
 * last_error. */
kb_err db_outbox_reschedule(struct db *db, int64_t id, int step, int64_t next_at, const char *error,
                            int64_t now);
/* inflight → dead with error as last_error. */
kb_err db_outbox_dead(struct db *db, int64_t id, const char *error, int64_t now);
/* inflight → pending without counting the attempt (a claimed job the
 * worker did not start, e.g. when stopping). */
kb_err db_outbox_unclaim(struct db *db, int64_t id, int64_t now);
/* Every inflight job → pending, due now (the attempt stays counted), and
 * every blocked job that nothing holds back released. Run by the delivery
 * worker at start, before it claims: a job left inflight belongs to a
 * process that died or stopped mid-send. *n (may be NULL): jobs made
 * pending. Never run it while another worker on the store is live. */
kb_err db_outbox_recover(struct db *db, int64_t now, int64_t *n);

/* dead → pending, due now, attempts reset to 0. KB_ENOTFOUND: no such job;
 * KB_EINVAL: the job is not dead. */
kb_err db_outbox_retry(struct db *db, int64_t id, int64_t now);
/* Every dead job (of receiver, or of all when NULL) → pending; *n retried. */
kb_err db_outbox_retry_dead(struct db *db, const char *receiver, int64_t now, int64_t *n);
/* Any state but dropped → dropped (kept for the record, never sent).
 * KB_ENOTFOUND: no such job; KB_EINVAL: already dropped. */
kb_err db_outbox_drop(struct db *db, int64_t id, int64_t now);
/* Deletes done and dropped jobs last changed before `before`, at most
 * limit of them (0: 10000) per call; *n deleted (may be NULL). */
kb_err db_outbox_prune(struct db *db, int64_t before, size_t limit, int64_t *n);

kb_err db_outbox_get(struct db *db, int64_t id, struct db_outbox_job *out);

struct db_outbox_filter {
    int state;            /* enum outbox_state, -1: any */
    const char *receiver; /* NULL: any */
    size_t limit;         /* 0: 1000 */
};
typedef kb_err (*db_outbox_fn)(void *ctx, const struct db_outbox_job *j);
/* Jobs matching f in id order; fn returning an error stops the walk and
 * is returned. */
kb_err db_outbox_list(struct db *db, const struct db_outbox_filter *f, db_outbox_fn fn, void *ctx);

/* Calls fn once per (receiver, state) that has jobs, with the count. */
typedef kb_err (*db_outbox_count_fn)(void *ctx, const char *receiver, int state, int64_t n);
kb_err db_outbox_counts(struct db *db, db_outbox_count_fn fn, void *ctx);

/* The receiver's state for an issue: *state = malloc'd JSON text, or NULL
 * when none was saved. */
kb_err db_outbox_state_get(struct db *db, const char *receiver, int64_t issue_id, char **state);
/* Saves (replaces) the receiver's state for an issue. */
kb_err db_outbox_state_set(struct db *db, const char *receiver, int64_t issue_id, const char *state,
                           int64_t now);

#endif
