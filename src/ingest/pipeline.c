/* pipeline.c — journal → normalize → issues, one transaction per batch. */
#include "ingest/pipeline.h"

#include "formats/format.h"
#include "issues/issue.h"
#include "ingest/triage.h"
#include "issues/issue_summary.h"
#include "notify/notifier.h"
#include "lib/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define PIPELINE_CONSUMER "issues"
#define PIPELINE_RECOUNT_NS 15000000000LL /* issues-by-state recount */
/* Under load (PIPELINE_GATHER_RATE records/s or more in the last second),
 * a batch smaller than this waits up to PIPELINE_GATHER_MS for more records
 * before the next one: with one event per request, each group commit holds
 * a few records, and a store transaction per handful of events costs more
 * than the events. The wait also sets how often each repeating issue is
 * written, once per batch: at 2,048 records / 20 ms, SQLite was 19% of the
 * daemon's CPU with batches of 100 CloudTrail events over HTTP (1,000
 * identities). 32,768 records (store.batch's default) or 250 ms halves the
 * writes of 16,384 / 100 ms again. Issues then show up to 250 ms later;
 * acknowledgements never wait for this. Below that rate nothing waits. */
#define PIPELINE_GATHER_RECORDS 32768u
#define PIPELINE_GATHER_MS 250
#define PIPELINE_GATHER_RATE 1000u

struct pipeline {
    struct journal *journal;
    struct db *db;
    struct pipeline_opts o;
    struct json_limits lim;
    struct issue_folder *folder;
    struct issue_summary summary; /* decoding scratch */
    uint64_t batch_summarized;    /* this batch's short-path records */
    struct issue_fold_stats fs;   /* this batch's folds and closes */
    struct arena arena;           /* per-record parse memory */
    pthread_t thread;
    bool started;
    atomic_bool stop;
    pthread_mutex_t mu;           /* guards stats, applied */
    pthread_cond_t cond;          /* signalled when applied moves */
    uint64_t wanted;              /* highest seq a pipeline_wait() awaits (mu) */
    struct pipeline_stats stats;
    int64_t by_state[ISSUE_STATE_COUNT];
    int64_t quarantine_rows;
};

/* Context for one record's alerts. */
struct emit_ctx {
    struct pipeline *p;
    uint64_t seq;
    int64_t recv_ms;
    uint64_t alerts;
};

static kb_err fold_emit(void *ctx, struct alert *a)
{
    struct emit_ctx *c = ctx;
    if (c->p->o.triage) {
        struct triage_sink s = {.folder = c->p->folder, .db = c->p->db, .st = &c->p->fs,
                                .arena = &c->p->arena, .seq = c->seq, .recv_ms = c->recv_ms};
        return triage_alert(c->p->o.triage, a, &s, &c->alerts);
    }
    c->alerts++;
    return issue_fold_add(c->p->folder, a, c->seq, c->recv_ms);
}

kb_err pipeline_new(struct journal *j, const char *db_path, const struct pipeline_opts *o,
                    struct pipeline **out, struct kb_why *why)
{
    struct pipeline *p = kb_calloc(1, sizeof *p);
    p->journal = j;
    if (o)
        p->o = *o;
    if (!p->o.batch)
        p->o.batch = 32768;
    p->lim.max_depth = p->o.max_json_depth ? p->o.max_json_depth : 64;
    p->lim.max_bytes = p->o.max_event_bytes ? p->o.max_event_bytes : 1024 * 1024;
    kb_err e = db_open(db_path, DB_DAEMON, p->o.cache_mib, &p->db, why);
    if (!e)
        db_use_gate(p->db, p->o.gate);
    if (e) {
        free(p);
        return e;
    }
    e = db_checkpoint_get(p->db, PIPELINE_CONSUMER, &p->stats.applied_seq);
    if (e) {
        kb_fail(why, e, "store: reading the checkpoint: %s", db_errmsg(p->db));
        db_close(p->db);
        free(p);
        return e;
    }
    p->folder = issue_folder_new();
    if (p->o.notifier) {
        struct issue_observer obs = notifier_observer(p->o.notifier);
        issue_folder_observe(p->folder, &obs);
    }
    e = issue_fold_load_known(p->folder, p->db);
    if (e) {
        kb_fail(why, e, "store: reading issue fingerprints: %s", db_errmsg(p->db));
        issue_folder_free(p->folder);
        db_close(p->db);
        free(p);
        return e;
    }
    arena_init(&p->arena, 64u * 1024 * 1024);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    atomic_init(&p->stop, false);
    db_issue_counts(p->db, p->by_state, NULL);
    db_quarantine_count(p->db, &p->quarantine_rows);
    *out = p;
    return KB_OK;
}

static const char *path_name(uint8_t path)
{
    switch (path) {
    case JOURNAL_PATH_HTTP: return "http";
    case JOURNAL_PATH_SPOOL: return "spool";
    case JOURNAL_PATH_SYSLOG: return "syslog";
    case JOURNAL_PATH_CLI: return "cli";
    default: return "other";
    }
}

/* The short path: the intake's summary names every alert of the event and
 * each one's issue is already pending or in the store, so the occurrences
 * fold without the event being parsed. False: take the full path (no
 * summary, another version, or a new identity, whose issue needs the
 * alert's fields). */
static bool fold_summary(struct pipeline *p, const struct journal_entry *e, uint64_t *alerts)
{
    struct issue_summary *s = &p->summary;
    if (issue_summary_decode(e->aux, s) != KB_OK)
        return false;
    const struct format *f = format_by_id(s->format_id);
    if (!f)
        return false;
    /* A rule or policy may change what the event means: the summary must
     * say what they said, under the rules and policies in use. */
    bool triaged = p->o.triage && triage_applies(p->o.triage, f->name);
    bool v2 = s->version == ISSUE_SUMMARY_VERSION_TRIAGED;
    if (triaged != v2 || (v2 && s->triage_gen != triage_generation(p->o.triage)))
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (!issue_fold_can_repeat(p->folder, s->alerts[i].fp))
            return false;
    for (size_t i = 0; i < s->n; i++) {
        const struct issue_summary_alert *a = &s->alerts[i];
        if (issue_fold_repeat(p->folder, a->fp, a->time_ms, a->severity, a->title, f->name,
                              e->seq, e->recv_ms, a) != KB_OK)
            return false; /* cannot happen after can_repeat; be safe */
        if (triaged)
            triage_note_repeat(p->o.triage, e->seq, a->fp, a->time_ms, a->rules.p != NULL);
    }
    *alerts += s->n;
    p->batch_summarized++;
    return true;
}

/* r: the reader e came from, which fills e->data when the summary is not
 * enough (journal_reader_set_lazy). */
static kb_err process_record(struct pipeline *p, struct journal_reader *r,
                             struct journal_entry *e, uint64_t *alerts, uint64_t *quarantined)
{
    const struct format *forced = e->format_id ? format_by_id(e->format_id) : NULL;
    if (e->aux.n && e->kind != JOURNAL_REJECT && fold_summary(p, e, alerts))
        return KB_OK;
    kb_err de = journal_reader_data(r, e);
    if (de != KB_OK)
        return de;
    if (e->kind == JOURNAL_REJECT) {
        size_t rl = e->data.n >= 2 ? (size_t)(uint8_t)e->data.p[0] |
                                         ((size_t)(uint8_t)e->data.p[1] << 8)
                                   : 0;
        if (rl > e->data.n - 2)
            rl = e->data.n >= 2 ? e->data.n - 2 : 0;
        struct kb_str reason = {e->data.p + 2, rl};
        struct kb_str raw = {e->data.p + 2 + rl, e->data.n >= 2 ? e->data.n - 2 - rl : 0};
        (*quarantined)++;
        return db_quarantine_add(p->db, e->seq, e->recv_ms, path_name(e->path),
                                 forced ? forced->name : NULL, reason, raw);
    }
    arena_reset(&p->arena);
    struct emit_ctx c = {.p = p, .seq = e->seq, .recv_ms = e->recv_ms};
    struct kb_why why = {{0}};
    kb_err err = format_normalize(forced, e->data, e->kind == JOURNAL_EVENT_TEXT, &p->lim,
                                  &p->arena, fold_emit, &c, &why);
    *alerts += c.alerts;
    if (err == KB_OK)
        return KB_OK;
    if (err == KB_EDB || err == KB_EIO)
        return err;
    /* Accepted at intake but no longer normalizes: keep it visible. */
    char reason[300];
    int n = snprintf(reason, sizeof reason, "pipeline: %s",
                     why.msg[0] ? why.msg : kb_strerror(err));
    (*quarantined)++;
    return db_quarantine_add(p->db, e->seq, e->recv_ms, path_name(e->path),
                             forced ? forced->name : NULL,
                             (struct kb_str){reason, (size_t)KB_MIN(n, (int)sizeof reason - 1)},
                             e->data);
}

/* Reads up to one batch after the checkpoint and applies it in one
 * transaction. *n is the number of records applied (0: caught up). */
static kb_err pipeline_batch(struct pipeline *p, size_t *n, struct kb_why *why)
{
    *n = 0;
    uint64_t from;
    pthread_mutex_lock(&p->mu);
    from = p->stats.applied_seq;
    pthread_mutex_unlock(&p->mu);
    struct journal_reader *r;
    kb_err e = journal_reader_open(p->journal, from, &r);
    if (e)
        return kb_fail(why, e, "journal reader: %s", kb_strerror(e));
    journal_reader_set_lazy(r, true); /* most events fold from their summary */
    e = db_begin(p->db);
    if (e) {
        journal_reader_close(r);
        return kb_fail(why, e, "store: %s", db_errmsg(p->db));
    }
    issue_fold_reset(p->folder);
    p->batch_summarized = 0;
    memset(&p->fs, 0, sizeof p->fs);
    if (p->o.triage)
        triage_batch_begin(p->o.triage);
    uint64_t last = from, alerts = 0, quarantined = 0;
    struct journal_entry ent;
    while (*n < p->o.batch) {
        kb_err re = journal_reader_next(r, &ent);
        if (re == KB_ENOTFOUND)
            break;
        if (re) {
            e = kb_fail(why, re, "journal read after seq %llu: %s", (unsigned long long)last,
                        kb_strerror(re));
            break;
        }
        e = process_record(p, r, &ent, &alerts, &quarantined);
        if (e) {
            kb_fail(why, e, "seq %llu: %s", (unsigned long long)ent.seq,
                    e == KB_EDB ? db_errmsg(p->db) : kb_strerror(e));
            break;
        }
        last = ent.seq;
        (*n)++;
    }
    journal_reader_close(r);
    if (!e && *n) {
        e = issue_fold_apply(p->folder, p->db, &p->fs);
        if (e)
            kb_fail(why, e, "store: %s", db_errmsg(p->db));
    }
    if (!e && *n)
        e = db_checkpoint_set(p->db, PIPELINE_CONSUMER, last);
    if (!e)
        e = db_commit(p->db);
    if (e) {
        if (!why || !why->msg[0])
            kb_fail(why, e, "store: %s", db_errmsg(p->db));
        db_rollback(p->db);
        *n = 0;
        pthread_mutex_lock(&p->mu);
        p->stats.errors++;
        pthread_mutex_unlock(&p->mu);
        return e;
    }
    issue_fold_committed(p->folder); /* its new issues are in the store now */
    if (p->o.notifier)
        notifier_committed(p->o.notifier); /* wake delivery for the batch's jobs */
    pthread_mutex_lock(&p->mu);
    p->stats.summarized += p->batch_summarized;
    p->stats.applied_seq = last;
    p->stats.records += *n;
    p->stats.alerts += alerts;
    p->stats.quarantined += quarantined;
    p->quarantine_rows += (int64_t)quarantined;
    const struct issue_fold_stats fs = p->fs;
    p->stats.created += fs.created;
    p->stats.reopened += fs.reopened;
    p->stats.updated += fs.updated;
    p->stats.closed += fs.closed;
    if (*n)
        p->stats.batches++;
    /* The gauge moves with what this batch did; people's transitions (ack,
     * close) are picked up by the periodic recount in pipeline_main. */
    p->by_state[ISSUE_OPEN] += (int64_t)(fs.created + fs.reopened);
    p->by_state[ISSUE_CLOSED] -= (int64_t)fs.reopened;
    p->by_state[ISSUE_CLOSED] += (int64_t)fs.closed;
    p->by_state[ISSUE_OPEN] -= (int64_t)(fs.closed - fs.closed_acked);
    p->by_state[ISSUE_ACKED] -= (int64_t)fs.closed_acked;
    for (int i = 0; i < ISSUE_STATE_COUNT; i++)
        if (p->by_state[i] < 0)
            p->by_state[i] = 0;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    return KB_OK;
}

kb_err pipeline_run_until_idle(struct pipeline *p, struct kb_why *why)
{
    for (;;) {
        size_t n;
        kb_err e = pipeline_batch(p, &n, why);
        if (e)
            return e;
        if (n == 0)
            return KB_OK;
    }
}

static void *pipeline_main(void *arg)
{
    struct pipeline *p = arg;
    pthread_setname_np(pthread_self(), "kb-pipeline"); /* for top -H, perf */
    int backoff_ms = 100;
    int64_t counted_ns = kb_mono_ns();
    int64_t trimmed_ns = 0, ticked_ns = 0;
    int64_t window_ns = kb_mono_ns(); /* the rate of the last second */
    uint64_t window_records = 0;
    bool busy = false;
    while (!atomic_load(&p->stop)) {
        size_t n = 0;
        struct kb_why why = {{0}};
        kb_err e = pipeline_batch(p, &n, &why);
        if (e) {
            log_error("pipeline batch failed; will retry", "err=\"%s\" retry_ms=%d",
                      why.msg, backoff_ms);
            for (int waited = 0; waited < backoff_ms && !atomic_load(&p->stop); waited += 50) {
                struct timespec ts = {0, 50 * 1000000L};
                nanosleep(&ts, NULL);
            }
            backoff_ms = KB_MIN(backoff_ms * 2, 5000);
            continue;
        }
        backoff_ms = 100;
        if (p->o.triage) /* between batches: the sets are not in use */
            triage_maybe_reload(p->o.triage);
        if (p->o.notifier && kb_mono_ns() - ticked_ns > 1000000000LL) {
            size_t nj = 0;
            kb_err te = notifier_tick(p->o.notifier, p->db, kb_now_ms(), &nj);
            if (te)
                log_error("notification reminders and flood summaries failed; will retry",
                          "err=%s", kb_strerror(te));
            ticked_ns = kb_mono_ns();
        }
        if (kb_mono_ns() - counted_ns > PIPELINE_RECOUNT_NS) {
            /* people change states too (ack, close): refresh the gauge. A
             * count over the state index, so it is kept infrequent. */
            int64_t by_state[ISSUE_STATE_COUNT];
            if (db_issue_counts(p->db, by_state, NULL) == KB_OK) {
                pthread_mutex_lock(&p->mu);
                memcpy(p->by_state, by_state, sizeof by_state);
                pthread_mutex_unlock(&p->mu);
            }
            counted_ns = kb_mono_ns();
        }
        if (p->o.retention_ms > 0 && kb_mono_ns() - trimmed_ns > 60000000000LL) {
            uint64_t upto;
            pthread_mutex_lock(&p->mu);
            upto = p->stats.applied_seq;
            pthread_mutex_unlock(&p->mu);
            kb_err te = journal_trim(p->journal, upto, p->o.retention_ms);
            if (te)
                log_warn("journal trim failed", "err=\"%s\"", kb_strerror(te));
            trimmed_ns = kb_mono_ns();
        }
        /* The kick generation first: a pipeline_wait() or pipeline_stop()
         * after this line ends the wait below, one before it is seen here. */
        uint64_t gen = journal_kicks(p->journal);
        uint64_t next, wanted;
        pthread_mutex_lock(&p->mu);
        next = p->stats.applied_seq + 1;
        wanted = p->wanted;
        pthread_mutex_unlock(&p->mu);
        window_records += n;
        int64_t now_ns = kb_mono_ns();
        /* A second's worth of records before the second is over: the rate
         * is reached now, not when the window closes (a burst of load shorter
         * than a second would otherwise run in small batches throughout). */
        if (window_records >= PIPELINE_GATHER_RATE)
            busy = true;
        if (now_ns - window_ns >= 1000000000LL) {
            busy = window_records * 1000000000ull >=
                   (uint64_t)PIPELINE_GATHER_RATE * (uint64_t)(now_ns - window_ns);
            window_ns = now_ns;
            window_records = 0;
        }
        if (atomic_load(&p->stop))
            break;
        if (n == 0) {
            journal_wait_kickable(p->journal, next, 100, gen); /* wakes when more is durable */
        } else if (busy && n < PIPELINE_GATHER_RECORDS && n < p->o.batch) {
            /* gathers, but not past what a pipeline_wait() caller waits for */
            uint64_t until = next + PIPELINE_GATHER_RECORDS - 1;
            if (wanted >= next && wanted < until)
                until = wanted;
            journal_wait_kickable(p->journal, until, PIPELINE_GATHER_MS, gen);
        }
    }
    /* Drain what is durable so a clean stop leaves no lag. */
    struct kb_why why = {{0}};
    if (pipeline_run_until_idle(p, &why))
        log_error("pipeline drain at stop failed", "err=\"%s\"", why.msg);
    return NULL;
}

kb_err pipeline_start(struct pipeline *p)
{
    if (pthread_create(&p->thread, NULL, pipeline_main, p) != 0)
        return KB_EIO;
    p->started = true;
    return KB_OK;
}

kb_err pipeline_wait(struct pipeline *p, uint64_t seq, int timeout_ms)
{
    pthread_mutex_lock(&p->mu);
    bool behind = p->stats.applied_seq < seq;
    if (behind && seq > p->wanted)
        p->wanted = seq;
    pthread_mutex_unlock(&p->mu);
    if (behind) /* the thread may be gathering: it stops at seq */
        journal_kick(p->journal);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    kb_err e = KB_OK;
    pthread_mutex_lock(&p->mu);
    while (p->stats.applied_seq < seq) {
        if (pthread_cond_timedwait(&p->cond, &p->mu, &dl) != 0) {
            e = p->stats.applied_seq >= seq ? KB_OK : KB_ETIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return e;
}

void pipeline_get_stats(struct pipeline *p, struct pipeline_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->stats;
    pthread_mutex_unlock(&p->mu);
}

kb_err pipeline_metrics(struct pipeline *p, struct buf *out)
{
    struct pipeline_stats s;
    int64_t by_state[ISSUE_STATE_COUNT];
    int64_t qrows;
    pthread_mutex_lock(&p->mu);
    s = p->stats;
    memcpy(by_state, p->by_state, sizeof by_state);
    qrows = p->quarantine_rows;
    pthread_mutex_unlock(&p->mu);
    uint64_t durable = journal_durable_seq(p->journal);
    buf_printf(out,
               "# HELP koban_pipeline_applied_seq Last journal seq applied to the store.\n"
               "# TYPE koban_pipeline_applied_seq gauge\n"
               "koban_pipeline_applied_seq %llu\n"
               "# HELP koban_journal_lag_records Durable records not yet applied.\n"
               "# TYPE koban_journal_lag_records gauge\n"
               "koban_journal_lag_records %llu\n"
               "# TYPE koban_pipeline_records_total counter\n"
               "koban_pipeline_records_total %llu\n"
               "# TYPE koban_pipeline_alerts_total counter\n"
               "koban_pipeline_alerts_total %llu\n"
               "# TYPE koban_pipeline_batches_total counter\n"
               "koban_pipeline_batches_total %llu\n"
               "# HELP koban_pipeline_summarized_total Records folded from the intake's "
               "summary, without normalizing again.\n"
               "# TYPE koban_pipeline_summarized_total counter\n"
               "koban_pipeline_summarized_total %llu\n"
               "# TYPE koban_pipeline_errors_total counter\n"
               "koban_pipeline_errors_total %llu\n"
               "# TYPE koban_issues_created_total counter\n"
               "koban_issues_created_total %llu\n"
               "# TYPE koban_issues_reopened_total counter\n"
               "koban_issues_reopened_total %llu\n"
               "# HELP koban_quarantine_events Events kept in quarantine.\n"
               "# TYPE koban_quarantine_events gauge\n"
               "koban_quarantine_events %lld\n"
               "# HELP koban_issues Issues by state.\n"
               "# TYPE koban_issues gauge\n",
               (unsigned long long)s.applied_seq,
               (unsigned long long)(durable > s.applied_seq ? durable - s.applied_seq : 0),
               (unsigned long long)s.records, (unsigned long long)s.alerts,
               (unsigned long long)s.batches, (unsigned long long)s.summarized,
               (unsigned long long)s.errors,
               (unsigned long long)s.created, (unsigned long long)s.reopened, (long long)qrows);
    for (int i = 0; i < ISSUE_STATE_COUNT; i++)
        buf_printf(out, "koban_issues{state=\"%s\"} %lld\n", issue_state_name(i),
                   (long long)by_state[i]);
    if (p->o.triage)
        triage_metrics(p->o.triage, out);
    return KB_OK;
}

void pipeline_stop(struct pipeline *p)
{
    if (!p)
        return;
    if (p->started) {
        atomic_store(&p->stop, true);
        journal_kick(p->journal); /* out of a gathering wait */
        pthread_join(p->thread, NULL);
    }
    issue_folder_free(p->folder);
    arena_release(&p->arena);
    db_close(p->db);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    free(p);
}
