/*
 * issue.h — tracked alert identities ("issues"): identity, folding of
 * repeats, and the lifecycle.
 *
 * Lifecycle (the only transitions issue_transition() allows):
 *
 *            ack                close
 *   open ───────────► acknowledged ──────► closed
 *    │ ▲                  │                 │
 *    │ └──── unack ───────┘                 │
 *    └──────────────── close ──────────────►│
 *    ▲                                      │
 *    └──── reopen (a person, or a recurrence) ┘
 *
 * A recurrence of a closed issue reopens it (history: actor "koban",
 * reason "recurred", the journal seq). A recurrence of an acknowledged issue
 * keeps it acknowledged (the count and last_seen still move).
 *
 * Identity: the alert's identity names (alert->identity, chosen per format,
 * overridable by rules) and their values, with the source, are hashed with
 * XXH3-128 over a length-prefixed encoding (so "a","bc" != "ab","c"). The
 * readable form "account=… kind=… resource=…" is kept beside it.
 */
#ifndef KOBAN_ISSUE_H
#define KOBAN_ISSUE_H

#include "formats/alert.h"
#include "store/db.h"

#define ISSUE_IDENTITY_MAX 2048 /* readable identity is cut here; hash is not */

/* Computes the fingerprint and (when text is non-NULL) the readable identity. */
kb_err issue_identity(const struct alert *a, uint8_t fp[16], struct buf *text);

/* Lower-case hex of a fingerprint (32 chars + NUL). */
void issue_fp_hex(const uint8_t fp[16], char out[33]);

/* Writes an issue row as one JSON object (the API's and `issues --json`'s
 * shape); with db non-NULL the object includes its "history" array. */
void issue_write_json(struct jw *w, const struct db_issue *r, struct db *db);

/* What happened to an issue, told to an observer inside the transaction
 * that made the change, after the store has it: so what the observer writes
 * (notification jobs, notify/) commits or rolls back with the change. */
enum issue_event {
    ISSUE_EV_OPENED = 0, /* first occurrence */
    ISSUE_EV_REPEATED,   /* more occurrences of an open or acknowledged issue */
    ISSUE_EV_REOPENED,   /* a closed issue recurred, or a person reopened it */
    ISSUE_EV_CLOSED,     /* by a close rule or a person */
    ISSUE_EV_ACKED,
    ISSUE_EV_UNACKED,
    ISSUE_EV_COUNT
};
/* "opened", "repeated", "reopened", "closed", "acknowledged", "unacknowledged". */
const char *issue_event_name(int ev);

struct issue_change {
    int event;            /* enum issue_event */
    int64_t id;
    const uint8_t *fp;    /* 16 bytes */
    int severity;         /* the issue's severity after the change */
    int64_t added;        /* occurrences this change added (0 for transitions) */
    const char *actor;    /* "koban" or the person; never NULL */
    const char *reason;   /* may be NULL */
};
/* Returning an error rolls the caller's transaction back. */
struct issue_observer {
    kb_err (*fn)(void *ctx, struct db *db, const struct issue_change *c);
    void *ctx;
};

/* Applies a lifecycle transition by a person or a rule, with history.
 * KB_EINVAL (why says which) when the transition is not allowed;
 * KB_ENOTFOUND when there is no such issue. Runs in its own transaction;
 * obs (may be NULL) is told of the change inside it. */
kb_err issue_transition(struct db *db, int64_t id, int to, const char *actor,
                        const char *reason, const struct issue_observer *obs,
                        struct kb_why *why);

/* Folds a batch of alerts into issues. Add alerts with issue_fold_add(),
 * then issue_fold_apply() inside the caller's transaction. The folder owns
 * copies of what it needs; issue_fold_reset() empties it for the next batch. */
struct issue_folder;

struct issue_fold_stats {
    uint64_t alerts;      /* alerts folded */
    uint64_t created;     /* new issues */
    uint64_t reopened;    /* closed issues reopened by a recurrence */
    uint64_t updated;     /* existing issues that got occurrences */
    uint64_t closed;      /* issues closed by issue_fold_close() */
    uint64_t closed_acked;/* of which were acknowledged (for the gauges) */
};

/* What rules and policies said about an alert, stored on its issue (see
 * struct db_issue). Strings are JSON text (rules, policies: arrays of ids;
 * labels: an object; annotations: an array of objects) or NULL, borrowed
 * for the call; the folder copies them. */
struct issue_triage {
    const char *rules, *policies, *labels, *annotations;
    const char *mute_reason; /* non-NULL: the alert is muted */
    int64_t mute_until_ms;   /* 0: no expiry */
};

struct issue_folder *issue_folder_new(void);
void issue_folder_free(struct issue_folder *f);
/* Every change issue_fold_apply and issue_fold_close make is told to obs
 * (copied; NULL: none) inside the caller's transaction. */
void issue_folder_observe(struct issue_folder *f, const struct issue_observer *obs);
kb_err issue_fold_add(struct issue_folder *f, const struct alert *a, uint64_t seq,
                      int64_t received_ms);
/* The same with the fingerprint and readable identity already chosen (by a
 * triage policy's `identity:`); identity may be NULL (then the alert's own
 * readable form is used). t (may be NULL) replaces the triage the issue
 * records; an occurrence without one leaves it as it was. */
kb_err issue_fold_add_fp(struct issue_folder *f, const struct alert *a, const uint8_t fp[16],
                         const char *identity, const struct issue_triage *t, uint64_t seq,
                         int64_t received_ms);
/* Writes the pending entries to the store (inside the caller's
 * transaction) and empties the pending set; the issues created are
 * remembered for issue_fold_committed(). */
kb_err issue_fold_apply(struct issue_folder *f, struct db *db, struct issue_fold_stats *st);
/* Closes the issue with fingerprint fp inside the caller's transaction, in
 * event order: occurrences of it folded before are applied first. History:
 * actor "koban", reason, seq. Only an open or acknowledged issue is closed
 * (*closed true); KB_ENOTFOUND when no such issue exists. */
kb_err issue_fold_close(struct issue_folder *f, struct db *db, const uint8_t fp[16],
                        const char *reason, uint64_t seq, struct issue_fold_stats *st,
                        bool *closed);
void issue_fold_reset(struct issue_folder *f);
/* Number of distinct identities pending. */
size_t issue_fold_pending(const struct issue_folder *f);

/* Known identities: the folder can remember every fingerprint the store
 * holds (about 32 bytes each), so that a repeat described only by its
 * summary (issue_summary.h) folds without the event being normalized again.
 * issue_fold_load_known() reads them from the store (call once, before
 * folding); issue_fold_committed() records the issues the last apply created,
 * once the caller's transaction has committed. */
kb_err issue_fold_load_known(struct issue_folder *f, struct db *db);
void issue_fold_committed(struct issue_folder *f);
/* Whether an alert with this fingerprint can fold from a summary alone:
 * it is pending in this batch or known to the store. */
bool issue_fold_can_repeat(const struct issue_folder *f, const uint8_t fp[16]);
/* Folds one occurrence described by a summary (fingerprint, time, severity,
 * title). KB_ENOTFOUND when issue_fold_can_repeat() is false: the caller
 * normalizes the event and uses issue_fold_add(). triage (may be NULL) is
 * the summary's alert: with has_triage its texts replace the issue's
 * triage, as issue_fold_add_fp's t does. */
struct issue_summary_alert;
kb_err issue_fold_repeat(struct issue_folder *f, const uint8_t fp[16], int64_t time_ms,
                         int severity, struct kb_str title, const char *source, uint64_t seq,
                         int64_t received_ms, const struct issue_summary_alert *triage);

#endif
