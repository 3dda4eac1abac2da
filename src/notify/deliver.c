/* deliver.c — the delivery worker (lifecycle, ordering and retries in
 * deliver.h; the outbox's state machine in store/db_outbox.h). */
#include "notify/deliver.h"

#include "lib/arena.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "notify/http_client.h"
#include "store/db_outbox.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CLAIM_BATCH 8                           /* jobs claimed per transaction */
#define MAX_RETRY_AFTER_MS (24LL * 3600 * 1000) /* a receiver's wait is honoured up to this */
#define PRUNE_EVERY_MS (3600LL * 1000)
#define PAYLOAD_ARENA (32u << 20)

/* One receiver: its rate limit, its pause, its counters. */
struct drecv {
    struct deliver *d;
    struct receiver *r;
    unsigned concurrency;
    double rate, burst;
    pthread_mutex_t mu; /* tokens, bucket_ns, paused_until */
    double tokens;
    int64_t bucket_ns;    /* when tokens was last refilled (mono) */
    int64_t paused_until; /* wall ms: the receiver asked koban to wait */
    atomic_uint_fast64_t sent, failed, retries, latency_n, latency_ms;
};

/* One thread. */
struct dworker {
    struct drecv *rc;
    struct deliver *d;
    struct db *db;
    struct http_client *http;
    struct arena arena;
    uint64_t rng;
    bool prunes; /* this thread deletes old finished jobs */
    pthread_t th;
    bool started;
};

struct deliver {
    struct deliver_config c;
    char *db_path;
    char *ops_receiver, *ops_mention; /* owned copies (c points to them) */
    struct drecv *recv;
    size_t nrecv;
    struct dworker *w;
    size_t nw;
    pthread_mutex_t mu;    /* stopping, running, kicks */
    pthread_cond_t wake;   /* kicks and stop */
    pthread_cond_t exited; /* a thread ended */
    bool stopping;
    unsigned running;
    uint64_t kicks;
    pthread_mutex_t mdb_mu; /* mdb, used by deliver_metrics */
    struct db *mdb;
    bool started, stopped, curl;
};

kb_err deliver_new(const struct deliver_config *c, const struct deliver_target *t, size_t n,
                   struct deliver **out, struct kb_why *why)
{
    *out = NULL;
    if (!c->db_path || !*c->db_path)
        return kb_fail(why, KB_EINVAL, "deliver: db_path is required");
    if (n > DELIVER_MAX_RECEIVERS)
        return kb_fail(why, KB_EINVAL, "deliver: %zu receivers, at most %d", n,
                       DELIVER_MAX_RECEIVERS);
    for (size_t i = 0; i < n; i++) {
        if (!t[i].receiver)
            return kb_fail(why, KB_EINVAL, "deliver: receiver %zu is missing", i);
        const char *name = receiver_name(t[i].receiver);
        if (t[i].concurrency > DELIVER_MAX_CONCURRENCY)
            return kb_fail(why, KB_EINVAL, "receiver %s: concurrency: %u, at most %d", name,
                           t[i].concurrency, DELIVER_MAX_CONCURRENCY);
        if (t[i].rate_per_sec < 0 || t[i].burst < 0)
            return kb_fail(why, KB_EINVAL, "receiver %s: rate: must not be negative", name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(receiver_name(t[k].receiver), name) == 0)
                return kb_fail(why, KB_EINVAL, "receiver %s: name: used twice", name);
    }
    struct deliver *d = kb_calloc(1, sizeof *d);
    d->c = *c;
    d->db_path = kb_strdup(c->db_path);
    d->c.db_path = d->db_path;
    d->ops_receiver = c->ops_receiver && *c->ops_receiver ? kb_strdup(c->ops_receiver) : NULL;
    d->ops_mention = c->ops_mention && *c->ops_mention ? kb_strdup(c->ops_mention) : NULL;
    d->c.ops_receiver = d->ops_receiver;
    d->c.ops_mention = d->ops_mention;
    if (d->c.connect_timeout_ms <= 0)
        d->c.connect_timeout_ms = 5000;
    if (d->c.timeout_ms <= 0)
        d->c.timeout_ms = 30000;
    if (!d->c.max_response)
        d->c.max_response = 1 << 20;
    if (d->c.backoff_base_ms <= 0)
        d->c.backoff_base_ms = 1000;
    if (d->c.backoff_cap_ms <= 0)
        d->c.backoff_cap_ms = 600000;
    if (d->c.max_attempts <= 0)
        d->c.max_attempts = 20;
    if (d->c.poll_ms <= 0)
        d->c.poll_ms = 1000;
    if (d->c.stop_grace_ms <= 0)
        d->c.stop_grace_ms = 5000;
    if (d->c.keep_done_ms <= 0)
        d->c.keep_done_ms = 7LL * 24 * 3600 * 1000;
    d->nrecv = n;
    d->recv = kb_calloc(n ? n : 1, sizeof *d->recv);
    for (size_t i = 0; i < n; i++) {
        struct drecv *rc = &d->recv[i];
        rc->d = d;
        rc->r = t[i].receiver;
        rc->concurrency = t[i].concurrency ? t[i].concurrency : 1;
        rc->rate = t[i].rate_per_sec;
        rc->burst = t[i].burst > 0 ? t[i].burst : KB_MAX(1.0, rc->rate);
        rc->tokens = rc->burst;
        rc->bucket_ns = kb_mono_ns();
        pthread_mutex_init(&rc->mu, NULL);
        d->nw += rc->concurrency;
    }
    d->w = kb_calloc(d->nw ? d->nw : 1, sizeof *d->w);
    pthread_mutex_init(&d->mu, NULL);
    pthread_mutex_init(&d->mdb_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->wake, &ca);
    pthread_cond_init(&d->exited, &ca);
    pthread_condattr_destroy(&ca);
    *out = d;
    return KB_OK;
}

/* An absolute CLOCK_MONOTONIC deadline ms from now. */
static struct timespec mono_in(int64_t ms)
{
    int64_t ns = kb_mono_ns() + KB_MAX(ms, 0) * 1000000;
    return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

/* Sleeps up to ms, or until a kick or stop. False when stopping. */
static bool nap(struct deliver *d, int64_t ms)
{
    struct timespec dl = mono_in(ms);
    pthread_mutex_lock(&d->mu);
    uint64_t k = d->kicks;
    while (!d->stopping && d->kicks == k)
        if (pthread_cond_timedwait(&d->wake, &d->mu, &dl) != 0)
            break;
    bool go = !d->stopping;
    pthread_mutex_unlock(&d->mu);
    return go;
}

static bool stopping(struct deliver *d)
{
    pthread_mutex_lock(&d->mu);
    bool s = d->stopping;
    pthread_mutex_unlock(&d->mu);
    return s;
}

void deliver_kick(struct deliver *d)
{
    pthread_mutex_lock(&d->mu);
    d->kicks++;
    pthread_cond_broadcast(&d->wake);
    pthread_mutex_unlock(&d->mu);
}

static uint64_t rnd(struct dworker *w)
{
    /* xorshift64*: jitter only, per thread, so no shared state. */
    uint64_t x = w->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Full jitter: uniform in [0, min(cap, base * 2^(attempts-1))]. */
static int64_t backoff(struct dworker *w, int attempts)
{
    const struct deliver_config *c = &w->d->c;
    int shift = KB_MIN(KB_MAX(attempts - 1, 0), 40);
    int64_t ceil = c->backoff_cap_ms;
    if (c->backoff_base_ms <= (c->backoff_cap_ms >> shift))
        ceil = c->backoff_base_ms << shift;
    return (int64_t)(rnd(w) % (uint64_t)(ceil + 1));
}

/* Waits for the receiver's pause to end and for a rate token. False when
 * stopping. */
static bool wait_turn(struct dworker *w)
{
    struct drecv *rc = w->rc;
    for (int guard = 0; guard < 1000000; guard++) {
        int64_t wait_ms = 0;
        pthread_mutex_lock(&rc->mu);
        int64_t now = kb_now_ms();
        if (rc->paused_until > now) {
            wait_ms = rc->paused_until - now;
        } else if (rc->rate > 0) {
            int64_t t = kb_mono_ns();
            rc->tokens =
                KB_MIN(rc->burst, rc->tokens + (double)(t - rc->bucket_ns) / 1e9 * rc->rate);
            rc->bucket_ns = t;
            if (rc->tokens >= 1.0)
                rc->tokens -= 1.0;
            else
                wait_ms = (int64_t)((1.0 - rc->tokens) / rc->rate * 1000.0) + 1;
        }
        pthread_mutex_unlock(&rc->mu);
        if (wait_ms == 0)
            return !stopping(w->d);
        if (!nap(w->d, KB_MIN(wait_ms, 1000)))
            return false;
    }
    return false;
}

/* The receiver asked for a pause (429 or its rate-limit budget at 0). */
static void pause_receiver(struct drecv *rc, const struct recv_response *resp, int64_t now)
{
    int64_t until = 0;
    if (resp->status == 429 && resp->retry_after_ms >= 0)
        until = now + KB_MIN(resp->retry_after_ms, MAX_RETRY_AFTER_MS);
    if (resp->ratelimit_remaining == 0 && resp->ratelimit_reset_ms > now)
        until = KB_MAX(until, KB_MIN(resp->ratelimit_reset_ms, now + MAX_RETRY_AFTER_MS));
    if (!until)
        return;
    pthread_mutex_lock(&rc->mu);
    rc->paused_until = KB_MAX(rc->paused_until, until);
    pthread_mutex_unlock(&rc->mu);
}

/* Tells the ops receiver that a notification was given up on: an "ops" job
 * (payload: event, text, mention, and a small "issue" naming koban itself,
 * so receivers that render issues have one). Never for the ops receiver's
 * own jobs, so a broken ops receiver cannot feed itself. */
static void ops_notice(struct dworker *w, const struct db_outbox_job *j, const char *why)
{
    const struct deliver_config *c = &w->d->c;
    const char *name = receiver_name(w->rc->r);
    if (!c->ops_receiver || !strcmp(name, c->ops_receiver) || (j->event && !strcmp(j->event, "ops")))
        return;
    char text[1400];
    snprintf(text, sizeof text,
             "koban gave up on a notification: %s about issue %lld (%s) after %d attempts: %s",
             name, (long long)j->issue_id, j->event ? j->event : "?", j->attempts, why);
    struct buf b = BUF_INIT(8192);
    struct jw jw;
    jw_init(&jw, &b);
    jw_obj_begin(&jw);
    jw_kv_str(&jw, "event", "ops");
    jw_kv_str(&jw, "text", text);
    if (c->ops_mention)
        jw_kv_str(&jw, "mention", c->ops_mention);
    jw_key(&jw, "issue");
    jw_obj_begin(&jw);
    jw_kv_int(&jw, "id", 0);
    jw_kv_str(&jw, "source", "koban");
    jw_kv_str(&jw, "kind", "koban.ops");
    jw_kv_str(&jw, "title", text);
    jw_kv_str(&jw, "severity", "high");
    jw_kv_str(&jw, "state", "open");
    jw_obj_end(&jw);
    jw_obj_end(&jw);
    struct db_outbox_new o = {.receiver = c->ops_receiver, .issue_id = 0, .fp = NULL,
                              .event = "ops", .payload = b.p};
    int64_t now = kb_now_ms();
    kb_err e = jw_finish(&jw);
    if (!e && !(e = db_begin(w->db))) {
        e = db_outbox_enqueue(w->db, &o, now, NULL);
        if (!e)
            e = db_commit(w->db);
        if (e)
            db_rollback(w->db);
    }
    if (e)
        log_error("operational notice not written", "err=%s", kb_strerror(e));
    else
        deliver_kick(w->d);
    buf_release(&b);
}

static void job_dead(struct dworker *w, const struct db_outbox_job *j, const char *why)
{
    const char *name = receiver_name(w->rc->r);
    char q[300];
    log_warn("notification dead-lettered", "receiver=%s job=%lld issue=%lld attempts=%d error=%s",
             name, (long long)j->id, (long long)j->issue_id, j->attempts,
             kb_logq(q, sizeof q, why));
    if (db_outbox_dead(w->db, j->id, why, kb_now_ms()) == KB_OK) {
        atomic_fetch_add(&w->rc->failed, 1);
        ops_notice(w, j, why);
    }
}

static void job_done(struct dworker *w, const struct db_outbox_job *j)
{
    int64_t now = kb_now_ms();
    if (db_outbox_done(w->db, j->id, now) != KB_OK)
        return; /* dropped meanwhile, or the store failed: nothing to count */
    atomic_fetch_add(&w->rc->sent, 1);
    atomic_fetch_add(&w->rc->latency_n, 1);
    atomic_fetch_add(&w->rc->latency_ms, (uint64_t)KB_MAX(now - j->created, 0));
}

static void job_retry(struct dworker *w, const struct db_outbox_job *j, int step, int64_t wait_ms,
                      const char *why)
{
    if (j->attempts >= w->d->c.max_attempts) {
        char msg[OUTBOX_ERROR_MAX];
        snprintf(msg, sizeof msg, "after %d attempts: %s", j->attempts, why);
        job_dead(w, j, msg);
        return;
    }
    int64_t now = kb_now_ms();
    int64_t delay = KB_MAX(backoff(w, j->attempts), wait_ms);
    char q[300];
    log_debug("notification retry", "receiver=%s job=%lld attempt=%d in_ms=%lld error=%s",
              receiver_name(w->rc->r), (long long)j->id, j->attempts, (long long)delay,
              kb_logq(q, sizeof q, why));
    if (db_outbox_reschedule(w->db, j->id, step, now + delay, why, now) == KB_OK)
        atomic_fetch_add(&w->rc->retries, 1);
}

/* No answer, 429 and 5xx can succeed later, whatever the receiver says. */
static bool transient(const struct recv_response *resp)
{
    return resp->status == 0 || resp->status == 429 || resp->status >= 500;
}

/* Runs one claimed job to an outcome; false when the worker is stopping
 * and abandoned it (it stays inflight until the next start). */
static bool run_job(struct dworker *w, const struct db_outbox_job *j)
{
    struct receiver *r = w->rc->r;
    const struct recv_ops *ops = receiver_ops(r);
    const char *name = receiver_name(r);
    size_t plen = strlen(j->payload ? j->payload : "");
    struct json_value *root = NULL;
    struct json_error jerr = {0};
    struct json_limits lim = {.max_bytes = DELIVER_MAX_PAYLOAD};
    arena_reset(&w->arena);
    if (!j->payload || json_parse(j->payload, plen, &lim, &w->arena, &root, &jerr) != KB_OK) {
        char msg[160];
        snprintf(msg, sizeof msg, "payload: %s", j->payload ? jerr.msg : "missing");
        job_dead(w, j, msg);
        return true;
    }
    char *state = NULL;
    if (db_outbox_state_get(w->db, name, j->issue_id, &state) != KB_OK) {
        job_retry(w, j, j->step, 0, "store: cannot read the receiver state");
        return true;
    }
    struct recv_job rj = {.id = j->id,
                          .payload = root,
                          .payload_text = j->payload,
                          .state = state,
                          .attempt = j->attempts};
    bool kept = true;
    int step = j->step;
    for (int n = 0;; n++, step++) {
        if (n >= DELIVER_MAX_STEPS) {
            job_dead(w, j, "too many steps");
            break;
        }
        struct recv_request req = {.body = BUF_INIT(DELIVER_MAX_PAYLOAD)};
        struct kb_why why = {{0}};
        kb_err e = ops->build(r, &rj, step, &req, &why);
        if (e == KB_ENOTFOUND) {
            recv_request_release(&req);
            job_done(w, j);
            break;
        }
        if (e) {
            recv_request_release(&req);
            char msg[300];
            snprintf(msg, sizeof msg, "step %d: %s", step, why.msg[0] ? why.msg : kb_strerror(e));
            job_dead(w, j, msg);
            break;
        }
        if (!wait_turn(w)) {
            recv_request_release(&req);
            /* Stopping before this step was sent: the next start resumes
             * here (the state of the steps before is saved). */
            if (n == 0)
                db_outbox_unclaim(w->db, j->id, kb_now_ms());
            else
                db_outbox_reschedule(w->db, j->id, step, kb_now_ms(), "stopped", kb_now_ms());
            kept = false;
            break;
        }
        struct recv_response resp;
        bool aborted = false;
        http_client_send(w->http, &req, &resp, &aborted);
        recv_request_release(&req);
        if (aborted) {
            kept = false;
            break;
        }
        int64_t now = kb_now_ms();
        pause_receiver(w->rc, &resp, now);
        struct recv_result res = {.retry_after_ms = -1};
        ops->result(r, &rj, step, &resp, &res);
        if (res.state) {
            /* Saved before anything else is sent: a job retried after a
             * crash finds what this step created (issue number, ts). */
            if (db_outbox_state_set(w->db, name, j->issue_id, res.state, now) != KB_OK) {
                recv_result_release(&res);
                job_retry(w, j, step, 0, "store: cannot save the receiver state");
                break;
            }
            free(state);
            state = res.state;
            res.state = NULL;
            rj.state = state;
        }
        enum recv_outcome out = res.outcome;
        if (out == RECV_FAIL && transient(&resp))
            out = RECV_RETRY;
        char reason[sizeof res.reason + 64];
        if (res.reason[0])
            snprintf(reason, sizeof reason, "%s", res.reason);
        else if (resp.status == 0)
            snprintf(reason, sizeof reason, "%s", resp.err ? resp.err : "no answer");
        else
            snprintf(reason, sizeof reason, "HTTP %ld", resp.status);
        recv_result_release(&res);
        if (out == RECV_NEXT)
            continue;
        if (out == RECV_DONE) {
            job_done(w, j);
        } else if (out == RECV_RETRY) {
            int64_t wait_ms = KB_MAX(res.retry_after_ms, resp.retry_after_ms);
            if (resp.ratelimit_remaining == 0 && resp.ratelimit_reset_ms > now)
                wait_ms = KB_MAX(wait_ms, resp.ratelimit_reset_ms - now);
            job_retry(w, j, step, KB_MIN(wait_ms, MAX_RETRY_AFTER_MS), reason);
        } else {
            job_dead(w, j, reason);
        }
        break;
    }
    free(state);
    return kept;
}

static void *worker_main(void *arg)
{
    struct dworker *w = arg;
    struct deliver *d = w->d;
    const char *name = receiver_name(w->rc->r);
    int64_t next_prune = 0;
    while (!stopping(d)) {
        int64_t now = kb_now_ms();
        if (w->prunes && now >= next_prune) {
            db_outbox_prune(w->db, now - d->c.keep_done_ms, 0, NULL);
            next_prune = now + PRUNE_EVERY_MS;
        }
        struct db_outbox_job jobs[CLAIM_BATCH];
        size_t n = 0;
        if (db_outbox_claim(w->db, name, now, jobs, w->rc->concurrency > 1 ? 1 : CLAIM_BATCH, &n) !=
            KB_OK) {
            log_warn("outbox: cannot claim jobs", "receiver=%s error=\"%s\"", name,
                     db_errmsg(w->db));
            nap(d, d->c.poll_ms);
            continue;
        }
        if (n == 0) {
            int64_t due = -1, wait = d->c.poll_ms;
            if (db_outbox_next_due(w->db, name, &due) == KB_OK && due >= 0)
                wait = KB_MIN(wait, KB_MAX(due - kb_now_ms(), 1));
            nap(d, wait);
            continue;
        }
        size_t i = 0;
        while (i < n && !stopping(d))
            if (!run_job(w, &jobs[i++]))
                break;
        for (; i < n; i++) /* claimed but not started: hand back */
            db_outbox_unclaim(w->db, jobs[i].id, kb_now_ms());
        for (size_t k = 0; k < n; k++)
            db_outbox_job_release(&jobs[k]);
    }
    pthread_mutex_lock(&d->mu);
    d->running--;
    pthread_cond_broadcast(&d->exited);
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

kb_err deliver_start(struct deliver *d, struct kb_why *why)
{
    if (d->started)
        return kb_fail(why, KB_EINVAL, "deliver: already started");
    d->started = true;
    kb_err e = db_open(d->db_path, DB_DAEMON, 4, &d->mdb, why);
    if (e)
        return e;
    int64_t recovered = 0;
    if ((e = db_outbox_recover(d->mdb, kb_now_ms(), &recovered)))
        return kb_fail(why, e, "outbox: cannot recover inflight jobs: %s", db_errmsg(d->mdb));
    if (recovered)
        log_info("outbox: jobs interrupted by the last stop are pending again", "jobs=%lld",
                 (long long)recovered);
    if ((e = http_client_global_init()))
        return kb_fail(why, e, "deliver: libcurl did not initialise");
    d->curl = true;
    struct http_client_opts ho = {.connect_timeout_ms = d->c.connect_timeout_ms,
                                  .timeout_ms = d->c.timeout_ms,
                                  .max_body = d->c.max_response};
    size_t k = 0;
    for (size_t i = 0; i < d->nrecv; i++)
        for (unsigned c = 0; c < d->recv[i].concurrency; c++, k++) {
            struct dworker *w = &d->w[k];
            w->rc = &d->recv[i];
            w->d = d;
            w->prunes = k == 0;
            w->rng = (uint64_t)kb_mono_ns() ^ ((uint64_t)(k + 1) * 0x9E3779B97F4A7C15ULL);
            if (!w->rng)
                w->rng = 1;
            arena_init(&w->arena, PAYLOAD_ARENA);
            if (!(e = db_open(d->db_path, DB_DAEMON, 4, &w->db, why)))
                db_use_gate(w->db, d->c.gate);
            if (e)
                break;
            if ((e = http_client_new(&ho, &w->http))) {
                kb_fail(why, e, "deliver: cannot create an HTTP client");
                break;
            }
        }
    for (size_t i = 0; !e && i < d->nw; i++) {
        pthread_mutex_lock(&d->mu);
        d->running++;
        pthread_mutex_unlock(&d->mu);
        if (pthread_create(&d->w[i].th, NULL, worker_main, &d->w[i]) != 0) {
            pthread_mutex_lock(&d->mu);
            d->running--;
            pthread_mutex_unlock(&d->mu);
            e = kb_fail(why, KB_EIO, "deliver: cannot start a thread");
            break;
        }
        d->w[i].started = true;
    }
    return e;
}

void deliver_stop(struct deliver *d)
{
    if (!d || !d->started || d->stopped)
        return;
    d->stopped = true;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_cond_broadcast(&d->wake);
    struct timespec dl = mono_in(d->c.stop_grace_ms);
    while (d->running > 0)
        if (pthread_cond_timedwait(&d->exited, &d->mu, &dl) != 0)
            break;
    pthread_mutex_unlock(&d->mu);
    /* Past the grace: abandon the requests still in flight. */
    for (size_t i = 0; i < d->nw; i++)
        if (d->w[i].http)
            http_client_abort(d->w[i].http);
    for (size_t i = 0; i < d->nw; i++)
        if (d->w[i].started) {
            pthread_join(d->w[i].th, NULL);
            d->w[i].started = false;
        }
}

void deliver_free(struct deliver *d)
{
    if (!d)
        return;
    deliver_stop(d);
    for (size_t i = 0; i < d->nw; i++) {
        http_client_free(d->w[i].http);
        db_close(d->w[i].db);
        arena_release(&d->w[i].arena);
    }
    for (size_t i = 0; i < d->nrecv; i++)
        pthread_mutex_destroy(&d->recv[i].mu);
    if (d->curl)
        http_client_global_cleanup();
    db_close(d->mdb);
    pthread_mutex_destroy(&d->mu);
    pthread_mutex_destroy(&d->mdb_mu);
    pthread_cond_destroy(&d->wake);
    pthread_cond_destroy(&d->exited);
    free(d->w);
    free(d->recv);
    free(d->db_path);
    free(d->ops_receiver);
    free(d->ops_mention);
    free(d);
}

/* A Prometheus label value: \ " and newline escaped. */
static void label(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_putc(b, '\\');
        if (*s == '\n') {
            buf_puts(b, "\\n");
            continue;
        }
        buf_putc(b, *s);
    }
}

struct mcount {
    struct deliver *d;
    int64_t (*n)[OUTBOX_STATE_COUNT]; /* per configured receiver */
    struct buf *other;                /* lines of receivers not configured */
};

static kb_err on_count(void *ctx, const char *recv, int state, int64_t n)
{
    struct mcount *m = ctx;
    for (size_t i = 0; i < m->d->nrecv; i++)
        if (strcmp(receiver_name(m->d->recv[i].r), recv) == 0) {
            m->n[i][state] = n;
            return KB_OK;
        }
    buf_puts(m->other, "koban_outbox_jobs{receiver=\"");
    label(m->other, recv);
    return buf_printf(m->other, "\",state=\"%s\"} %lld\n", db_outbox_state_name(state),
                      (long long)n);
}

kb_err deliver_metrics(struct deliver *d, struct buf *out)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } counters[] = {
        {"koban_notify_sent_total", "Notifications delivered.", offsetof(struct drecv, sent)},
        {"koban_notify_failed_total", "Notifications dead-lettered.",
         offsetof(struct drecv, failed)},
        {"koban_notify_retries_total", "Deliveries rescheduled after a transient failure.",
         offsetof(struct drecv, retries)},
    };
    for (size_t c = 0; c < KB_ARRAY_LEN(counters); c++) {
        buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", counters[c].name, counters[c].help,
                   counters[c].name);
        for (size_t i = 0; i < d->nrecv; i++) {
            atomic_uint_fast64_t *v =
                (atomic_uint_fast64_t *)((char *)&d->recv[i] + counters[c].off);
            buf_printf(out, "%s{receiver=\"", counters[c].name);
            label(out, receiver_name(d->recv[i].r));
            buf_printf(out, "\"} %llu\n", (unsigned long long)atomic_load(v));
        }
    }
    uint64_t lat_n = 0, lat_ms = 0;
    for (size_t i = 0; i < d->nrecv; i++) {
        lat_n += atomic_load(&d->recv[i].latency_n);
        lat_ms += atomic_load(&d->recv[i].latency_ms);
    }
    buf_printf(out,
               "# HELP koban_notify_latency_seconds From a job's creation to its delivery.\n"
               "# TYPE koban_notify_latency_seconds summary\n"
               "koban_notify_latency_seconds_sum %.3f\nkoban_notify_latency_seconds_count %llu\n",
               (double)lat_ms / 1000.0, (unsigned long long)lat_n);
    int64_t(*n)[OUTBOX_STATE_COUNT] = kb_calloc(d->nrecv ? d->nrecv : 1, sizeof *n);
    struct buf other = BUF_INIT(1 << 20);
    struct mcount m = {.d = d, .n = n, .other = &other};
    kb_err e = KB_OK;
    pthread_mutex_lock(&d->mdb_mu);
    if (d->mdb)
        e = db_outbox_counts(d->mdb, on_count, &m);
    pthread_mutex_unlock(&d->mdb_mu);
    buf_puts(out, "# HELP koban_outbox_jobs Outbox jobs by receiver and state.\n"
                  "# TYPE koban_outbox_jobs gauge\n");
    for (size_t i = 0; i < d->nrecv; i++)
        for (int s = 0; s < OUTBOX_STATE_COUNT; s++) {
            buf_puts(out, "koban_outbox_jobs{receiver=\"");
            label(out, receiver_name(d->recv[i].r));
            buf_printf(out, "\",state=\"%s\"} %lld\n", db_outbox_state_name(s), (long long)n[i][s]);
        }
    if (other.len)
        buf_append(out, other.p, other.len);
    buf_release(&other);
    free(n);
    return e;
}
