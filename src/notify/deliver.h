/*
 * deliver.h — the delivery worker: sends outbox jobs (store/db_outbox.h)
 * to their receivers (notify/receiver.h) and records the outcome.
 *
 * For each receiver, `concurrency` threads (default 1) claim due jobs of
 * that receiver, in order (jobs of one issue never overtake each other,
 * whatever the concurrency), and drive the receiver's step machine:
 *
 *   parse the payload, read the per-issue state
 *   for step = job.step ...:
 *     build → (nothing to send: done) | request
 *     wait for a token of the receiver's rate limit and for any pause the
 *       receiver asked for (429, x-ratelimit-remaining: 0)
 *     send (notify/http_client.h) → response
 *     result → new state? saved at once, before the next request
 *            → next step | done | retry (backoff) | fail (dead letter)
 *
 * Retries: exponential backoff with full jitter (a uniform delay in
 * [0, min(cap, base * 2^(attempts-1))]), never earlier than the
 * Retry-After or x-ratelimit-reset the receiver gave, from the step that
 * failed. No answer (status 0), 429 and 5xx are always transient, whatever
 * the receiver's result says. After max_attempts, or on a permanent
 * failure, the job is dead with last_error.
 *
 * Lifecycle: deliver_new → deliver_start (opens its own store handles,
 * makes jobs left inflight by an earlier process pending again, starts
 * the threads) → deliver_kick any time new jobs were committed →
 * deliver_stop (bounded: each in-flight request gets stop_grace_ms to
 * finish, then is abandoned; an abandoned job stays inflight until the next
 * deliver_start) → deliver_free. Only one started worker per store.
 *
 * Thread safety: deliver_kick and deliver_metrics may be called from any
 * thread while the worker runs; the others from the owning thread.
 * Ownership: the receivers are borrowed and must outlive the worker; the
 * configuration strings are copied.
 */
#ifndef KOBAN_DELIVER_H
#define KOBAN_DELIVER_H

#include "lib/buf.h"
#include "lib/kb.h"
#include "notify/receiver.h"

#define DELIVER_MAX_RECEIVERS 64
#define DELIVER_MAX_CONCURRENCY 16
#define DELIVER_MAX_STEPS 16          /* requests per job; past it, dead */
#define DELIVER_MAX_PAYLOAD (8 << 20) /* bytes of one job's payload */

struct db_gate;

struct deliver_config {
    const char *db_path;        /* the store (koban.db) */
    int64_t connect_timeout_ms; /* 0: 5000 */
    int64_t timeout_ms;         /* one request, whole; 0: 30000 */
    size_t max_response;        /* response body bytes kept; 0: 1 MiB */
    int64_t backoff_base_ms;    /* 0: 1000 */
    int64_t backoff_cap_ms;     /* 0: 600000 (10 min) */
    int max_attempts;           /* 0: 20 */
    int64_t poll_ms;            /* how often an idle thread looks for jobs; 0: 1000 */
    int64_t stop_grace_ms;      /* deliver_stop's wait for in-flight requests; 0: 5000 */
    int64_t keep_done_ms;       /* done and dropped jobs are deleted after; 0: 7 days */
    /* koban's own operational errors: a dead-lettered job writes an "ops"
     * job for this receiver (a name among the targets; NULL: none), with
     * mention (may be NULL) to put before the text. Jobs of that receiver
     * and "ops" jobs never cause another. */
    const char *ops_receiver;
    const char *ops_mention;
    struct db_gate *gate;       /* writer gate (store/db.h), borrowed; NULL: none */
};

struct deliver_target {
    struct receiver *receiver; /* borrowed */
    unsigned concurrency;      /* threads; 0: 1 */
    double rate_per_sec;       /* requests per second (token bucket); 0: unlimited */
    double burst;              /* bucket size; 0: max(1, rate_per_sec) */
};

struct deliver;

/* Checks and copies the configuration (KB_EINVAL with why naming the
 * field: no db_path, too many receivers, a duplicate name, concurrency
 * over DELIVER_MAX_CONCURRENCY). */
kb_err deliver_new(const struct deliver_config *c, const struct deliver_target *t, size_t n,
                   struct deliver **out, struct kb_why *why);
/* Opens the store, recovers inflight jobs and starts the threads. Once per
 * worker; on failure deliver_free stops what did start. */
kb_err deliver_start(struct deliver *d, struct kb_why *why);
/* Wakes idle threads to look for jobs now (call after committing jobs). */
void deliver_kick(struct deliver *d);
/* Stops the threads (see above); safe to call twice or when not started. */
void deliver_stop(struct deliver *d);
/* Stops if needed and frees. NULL is fine. */
void deliver_free(struct deliver *d);

/* Appends Prometheus text: koban_notify_sent_total{receiver},
 * koban_notify_failed_total{receiver} (dead letters),
 * koban_notify_retries_total{receiver}, koban_outbox_jobs{receiver,state}
 * (read from the store) and koban_notify_latency_seconds (sum and count,
 * from a job's creation to its delivery). */
kb_err deliver_metrics(struct deliver *d, struct buf *out);

#endif
