/*
 * notifier.h — from issue changes to notification jobs: the enqueueing side
 * of notifications (docs/NOTIFY.md, docs/ROUTING.md).
 *
 *   issue change (issues/issue.h observer, inside the store transaction)
 *     → mute?         a muted issue notifies no one
 *     → repeat limit  "repeated" at most once per repeat interval per issue
 *     → route         route_match(): which receivers (notify/route.h)
 *     → flood control per identity and per rule (notify/flood.h): past the
 *                     bucket one "flood_started" job, then nothing until
 *                     notifier_tick() reports the end ("flood_ended",
 *                     with how many were held back)
 *     → outbox        one job per receiver, written in the same
 *                     transaction (store/db_outbox.h)
 *
 * Closes, acknowledgements and reopenings are never held by flood control
 * or the repeat limit: they change what a person must do.
 *
 * notifier_tick() runs between pipeline batches, in its own transaction:
 * flood-ended summaries and reminders (unacknowledged issues at or above a
 * severity re-notified after route_reminder_ms(); after the routing file's
 * `escalate.after` reminders the escalation receiver is added).
 *
 * Thread safety: the observer may be called from the pipeline thread and
 * from API threads (a person acknowledging an issue); a mutex guards the
 * flood tables and the repeat tracker. Each caller passes its own db.
 *
 * Ownership: notifier_new borrows the route set (which must outlive the
 * notifier) and owns everything else; notifier_free frees it.
 */
#ifndef KOBAN_NOTIFIER_H
#define KOBAN_NOTIFIER_H

#include "issues/issue.h"
#include "lib/buf.h"
#include "notify/route.h"

#define NOTIFIER_REPEAT_SLOTS 65536 /* repeat tracker (direct-mapped, 24 B each) */

struct notifier_opts {
    int64_t repeat_interval_ms; /* 0: one hour */
    int64_t (*now_ms)(void);    /* NULL: kb_now_ms (tests pass a fake clock) */
    /* Called by notifier_committed() when jobs were written since the last
     * call (the delivery worker's deliver_kick); NULL: none. */
    void (*kick)(void *ctx);
    void *kick_ctx;
};

struct notifier;

kb_err notifier_new(const struct route_set *rs, const struct notifier_opts *o,
                    struct notifier **out, struct kb_why *why);
void notifier_free(struct notifier *n);

/* The observer to give issue_folder_observe() and issue_transition(). */
struct issue_observer notifier_observer(struct notifier *n);

/* After the transaction an observer call ran in has committed: wakes the
 * delivery worker (opts.kick) when jobs were written. Any thread. */
void notifier_committed(struct notifier *n);

/* Flood-ended summaries and reminders due at now, each as outbox jobs, in
 * one transaction of its own on db. *njobs (may be NULL): jobs written. */
kb_err notifier_tick(struct notifier *n, struct db *db, int64_t now_ms, size_t *njobs);

struct notifier_stats {
    uint64_t changes;      /* issue changes heard */
    uint64_t jobs;         /* outbox jobs written */
    uint64_t unrouted;     /* changes no receiver takes (incl. severity none) */
    uint64_t muted;        /* changes of muted issues */
    uint64_t repeats_held; /* "repeated" within the repeat interval */
    uint64_t flood_held;   /* copies held by flood control */
    uint64_t floods;       /* floods started */
    uint64_t reminders;    /* reminder jobs */
};
void notifier_get_stats(struct notifier *n, struct notifier_stats *out);
/* Prometheus text: koban_notify_changes_total, koban_notify_jobs_total, ... */
kb_err notifier_metrics(struct notifier *n, struct buf *out);

/* The job payload (notify/receiver.h) for issue r: event, the issue
 * without history, reason (may be NULL), held_back (< 0: absent), and the
 * link koban_url/v1/issues/ID when koban_url is set. */
kb_err notifier_payload(const struct db_issue *r, const char *event, const char *reason,
                        int64_t held_back, const char *koban_url, struct buf *out);

#endif
