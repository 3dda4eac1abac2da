/*
 * pipeline.h — the one-way flow after the journal:
 *   journal → normalize → identity → fold into issues (SQLite)
 *
 * The pipeline reads durable journal records after its checkpoint, in
 * batches; each batch is one SQLite transaction that also moves the
 * checkpoint, so a crash at any moment neither loses nor double-counts an
 * event (the batch is simply replayed). Rejected events (JOURNAL_REJECT) go
 * to the quarantine table; an event that no longer normalizes (a normalizer
 * changed) is quarantined too, with the reason: nothing is dropped silently.
 *
 * With a triage (o->triage), every alert goes through Sigma rules,
 * correlation and policies before it folds (ingest/triage.h); sources no
 * loaded rule or policy can apply to keep the short path from the intake's
 * summary. Between batches the pipeline thread reloads the triage when asked
 * (SIGHUP) or when its files changed.
 *
 * Ownership: the pipeline borrows the journal and owns its own SQLite
 * connection (opened from db_path). pipeline_stop() finishes and commits the
 * batch in hand, then frees everything.
 */
#ifndef KOBAN_PIPELINE_H
#define KOBAN_PIPELINE_H

#include "lib/buf.h"
#include "store/db.h"
#include "store/journal.h"

struct triage;

struct pipeline_opts {
    unsigned batch;          /* records per transaction; 0 = 32768 */
    unsigned cache_mib;      /* SQLite cache; 0 = 16 */
    uint32_t max_json_depth; /* 0 = 64 */
    size_t max_event_bytes;  /* 0 = 1 MiB */
    int64_t retention_ms;    /* trim applied journal segments older than
                                this (checked every minute); 0 = keep */
    struct triage *triage;   /* rules and policies (ingest/triage.h), borrowed:
                                it must outlive the pipeline, and only the
                                pipeline's thread uses it; NULL = none */
    struct db_gate *gate;    /* writer gate shared with the daemon's other
                                store connections (store/db.h); NULL: none */
    struct notifier *notifier; /* notifications (notify/notifier.h), borrowed:
                                  every issue change becomes outbox jobs in
                                  the batch's transaction, and between
                                  batches notifier_tick runs every second;
                                  NULL = none */
};

struct pipeline_stats {
    uint64_t applied_seq;    /* checkpoint: last journal seq applied */
    uint64_t records;        /* records processed since start */
    uint64_t alerts;         /* alerts produced */
    uint64_t quarantined;    /* rejects and late normalize failures */
    uint64_t created, reopened, updated;
    uint64_t batches;
    uint64_t errors;         /* store errors (retried) */
    uint64_t summarized;     /* records folded from the intake's summary */
    uint64_t closed;         /* issues closed by a policy */
};

struct pipeline;

kb_err pipeline_new(struct journal *j, const char *db_path, const struct pipeline_opts *o,
                    struct pipeline **out, struct kb_why *why);
/* Starts the background thread. */
kb_err pipeline_start(struct pipeline *p);
/* Processes what is durable now, in this thread, until caught up (for
 * `koban ingest` and tests). Must not be used while the thread runs. */
kb_err pipeline_run_until_idle(struct pipeline *p, struct kb_why *why);
/* Waits until the checkpoint reaches seq. KB_ETIMEOUT after timeout_ms. A
 * pipeline gathering records under load applies up to seq without waiting
 * for more. */
kb_err pipeline_wait(struct pipeline *p, uint64_t seq, int timeout_ms);
void pipeline_get_stats(struct pipeline *p, struct pipeline_stats *out);
/* Prometheus text: pipeline counters, journal lag, issues by state. */
kb_err pipeline_metrics(struct pipeline *p, struct buf *out);
/* Stops the thread (if started) after committing the batch in hand; frees. */
void pipeline_stop(struct pipeline *p);

#endif
