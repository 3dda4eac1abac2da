/*
 * cmd_ingest.c — `koban ingest FILE...`: one-off loads and replays.
 *
 * Runs the same intake and pipeline as the server, in this process, on the
 * data_dir's journal and store (so the server must not be running on the
 * same data_dir: the journal lock says so). The pipeline thread folds while
 * files are read. Large NDJSON and text files are cut into chunks at line
 * ends and checked by a few worker threads at once (intake_body is safe to
 * call concurrently); results are reported in file order.
 */
#include "builtin/builtin.h"
#include "builtin/serve_client.h"

#include "formats/format.h"
#include "formats/split.h"
#include "ingest/intake.h"
#include "ingest/pipeline.h"
#include "ingest/triage.h"
#include "lib/inflate.h"
#include "lib/log.h"
#include "notify/notifier.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const struct builtin builtin_ingest = {
    "ingest", cmd_ingest, "load events from files or stdin into the store",
    "usage: koban ingest [--source NAME] [--config FILE] [--data-dir DIR] [--rules DIR]\n"
    "                    [--quiet] FILE... | -\n\n"
    "Reads JSON (object, array, {\"Records\":[...]}, NDJSON) or text lines (syslog),\n"
    "plain or gzip-compressed, journals every event durably, and folds them into\n"
    "issues. Rejected events\n"
    "are listed with their index and reason and kept in quarantine; the exit\n"
    "code is 1 when any event was rejected (the others are stored).\n"
    "When 'koban serve' runs on the same data_dir, the files are sent to it\n"
    "over HTTP instead (POST /v1/events, with http.token when set).\n\n"
    "  -s, --source NAME   force a format (see 'koban help formats')\n"
    "  -r, --rules DIR     override rules.dir (Sigma rules applied before folding)\n"
    "  -q, --quiet         no progress line\n",
};

#define INGEST_CHUNK (8u * 1024 * 1024)
#define INGEST_MAX_FILE (4ull * 1024 * 1024 * 1024)
#define INGEST_MAX_WORKERS 4u

struct totals {
    size_t accepted, rejected, files;
    uint64_t last_seq;
    bool progress;
    int64_t start_ns;
};

static void show_progress(struct totals *t, const char *file, bool final)
{
    if (!t->progress)
        return;
    double s = (double)(kb_mono_ns() - t->start_ns) / 1e9;
    fprintf(stderr, "\r%s: %zu events accepted, %zu rejected (%.0f/s)%s", file, t->accepted,
            t->rejected, s > 0 ? (double)t->accepted / s : 0.0, final ? "\n" : "   ");
}

/* One chunk's outcome, kept until it is reported in file order. */
struct chunk {
    const char *p;
    size_t n;
    struct intake_report *rep;
    struct kb_why why;
    uint64_t last;
    kb_err e;
    bool done;
};

static int report_chunk(const char *file, struct chunk *c, size_t index_base,
                        struct totals *t)
{
    struct intake_report *rep = c->rep;
    struct kb_why why = c->why;
    uint64_t last = c->last;
    kb_err e = c->e;
    int rc = 0;
    if (e) {
        if (t->progress)
            fputc('\n', stderr);
        rc = builtin_error("ingest", "%s: %s", file, why.msg[0] ? why.msg : kb_strerror(e));
    } else {
        for (size_t i = 0; i < rep->nreported; i++) {
            if (t->progress)
                fputc('\n', stderr);
            fprintf(stderr, "%s: event %zu: %s\n", file, index_base + rep->rejects[i].index,
                    rep->rejects[i].reason);
        }
        if (rep->rejected > rep->nreported)
            fprintf(stderr, "%s: ... and %zu more rejected (see 'koban quarantine')\n", file,
                    rep->rejected - rep->nreported);
        t->accepted += rep->accepted;
        t->rejected += rep->rejected;
        if (last > t->last_seq)
            t->last_seq = last;
    }
    return rc;
}

static void run_chunk(struct intake *in, const struct format *forced, struct chunk *c)
{
    c->e = intake_body(in, c->p, c->n, JOURNAL_PATH_CLI, forced, c->rep, &c->last, &c->why);
}

static int ingest_chunk(struct intake *in, const char *file, const char *p, size_t n,
                        size_t index_base, const struct format *forced, struct totals *t)
{
    struct chunk c = {.p = p, .n = n, .rep = kb_calloc(1, sizeof *c.rep)};
    run_chunk(in, forced, &c);
    int rc = report_chunk(file, &c, index_base, t);
    free(c.rep);
    return rc;
}

/* Workers take chunks in order from `next`; the main thread reports them in
 * order as they complete. A failed chunk stops the hand-out of new ones. */
struct pool {
    struct intake *in;
    const struct format *forced;
    struct chunk *chunks;
    size_t n, next;
    bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *pool_worker(void *arg)
{
    struct pool *pl = arg;
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        if (pl->stop || pl->next >= pl->n) {
            pthread_mutex_unlock(&pl->mu);
            return NULL;
        }
        struct chunk *c = &pl->chunks[pl->next++];
        pthread_mutex_unlock(&pl->mu);
        run_chunk(pl->in, pl->forced, c);
        pthread_mutex_lock(&pl->mu);
        c->done = true;
        if (c->e)
            pl->stop = true;
        pthread_cond_broadcast(&pl->cv);
        pthread_mutex_unlock(&pl->mu);
    }
}

static unsigned ingest_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)KB_MIN((long)INGEST_MAX_WORKERS, n);
}

static int ingest_chunks(struct intake *in, const char *file, const char *p, size_t len,
                         const struct format *forced, struct totals *t)
{
    struct pool pl = {.in = in, .forced = forced};
    size_t cap = len / INGEST_CHUNK + 2;
    pl.chunks = kb_calloc(cap, sizeof *pl.chunks);
    for (size_t pos = 0; pos < len && pl.n < cap;) {
        size_t end = pos + INGEST_CHUNK < len ? pos + INGEST_CHUNK : len;
        if (end < len) {
            const char *nl = memrchr(p + pos, '\n', end - pos);
            end = nl ? (size_t)(nl - p) + 1 : end;
        }
        pl.chunks[pl.n++] = (struct chunk){.p = p + pos, .n = end - pos};
        pos = end;
    }
    for (size_t i = 0; i < pl.n; i++)
        pl.chunks[i].rep = kb_calloc(1, sizeof *pl.chunks[i].rep);
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.cv, NULL);
    pthread_t th[INGEST_MAX_WORKERS];
    unsigned nth = 0, want = ingest_workers();
    for (; nth < want; nth++)
        if (pthread_create(&th[nth], NULL, pool_worker, &pl) != 0)
            break;
    if (nth == 0) /* no thread: do it here */
        pool_worker(&pl);
    int rc = 0;
    size_t reported = 0;
    for (; reported < pl.n; reported++) {
        struct chunk *c = &pl.chunks[reported];
        pthread_mutex_lock(&pl.mu);
        while (!c->done && !(pl.stop && pl.next <= reported))
            pthread_cond_wait(&pl.cv, &pl.mu);
        bool done = c->done;
        pthread_mutex_unlock(&pl.mu);
        if (!done)
            break; /* never handed out: an earlier chunk failed */
        size_t before = t->accepted + t->rejected;
        rc |= report_chunk(file, c, before, t);
        show_progress(t, file, false);
    }
    for (unsigned i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    /* chunks done after the failure are journaled: count them too */
    for (; reported < pl.n; reported++)
        if (pl.chunks[reported].done)
            rc |= report_chunk(file, &pl.chunks[reported], t->accepted + t->rejected, t);
    for (size_t i = 0; i < pl.n; i++)
        free(pl.chunks[i].rep);
    free(pl.chunks);
    pthread_mutex_destroy(&pl.mu);
    pthread_cond_destroy(&pl.cv);
    return rc;
}

/* Index of events so far in this file, to report rejects by file position. */
static int ingest_file(struct intake *in, const char *file, const struct format *forced,
                       struct totals *t)
{
    struct builtin_input data;
    struct kb_why why = {{0}};
    if (builtin_input_open(file, INGEST_MAX_FILE, &data, &why)) {
        builtin_input_close(&data);
        return builtin_error("ingest", "%s", why.msg);
    }
    t->files++;
    const char *p = data.p;
    size_t len = data.n;
    struct buf plain = BUF_INIT(INGEST_MAX_FILE);
    if (inflate_is_gzip(p, len)) { /* e.g. CloudTrail's .json.gz as S3 delivers it */
        if (inflate_all(p, len, INGEST_MAX_FILE, &plain, &why)) {
            buf_release(&plain);
            builtin_input_close(&data);
            return builtin_error("ingest", "%s: %s", file, why.msg);
        }
        p = plain.p ? plain.p : "";
        len = plain.len;
    }
    int rc = 0;
    /* Line-oriented input (NDJSON or text) is fed in chunks; one JSON
     * document (array, Records) must be taken whole. */
    bool whole = len <= INGEST_CHUNK;
    if (!whole && split_looks_json(p, len)) {
        const char *nl = memchr(p, '\n', len);
        struct arena ar = ARENA_INIT(64u * 1024 * 1024);
        struct json_value *v;
        struct json_limits lim = {.max_depth = 64, .max_bytes = 8u * 1024 * 1024};
        whole = !nl || json_parse(p, (size_t)(nl - p), &lim, &ar, &v, NULL) != KB_OK;
        arena_release(&ar);
    }
    if (whole)
        rc = ingest_chunk(in, file, p, len, 0, forced, t);
    else
        rc = ingest_chunks(in, file, p, len, forced, t);
    show_progress(t, file, true);
    buf_release(&plain);
    builtin_input_close(&data);
    return rc;
}

int cmd_ingest(int argc, char **argv)
{
    static const struct option lo[] = {
        {"source", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
        {"data-dir", required_argument, NULL, 'd'}, {"quiet", no_argument, NULL, 'q'},
        {"rules", required_argument, NULL, 'r'},    {NULL, 0, NULL, 0}};
    const char *config = NULL, *data_dir = NULL, *rules = NULL;
    const struct format *forced = NULL;
    bool quiet = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:c:d:qr:", lo, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (!(forced = format_by_name(optarg)))
                return builtin_error("ingest", "unknown source '%s' (see 'koban help formats')",
                                     optarg), 2;
            break;
        case 'c': config = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'q': quiet = true; break;
        case 'r': rules = optarg; break;
        default: return builtin_usage(&builtin_ingest);
        }
    }
    if (optind >= argc)
        return builtin_usage(&builtin_ingest);
    struct kb_config cfg;
    if (builtin_load_config(config, data_dir, &cfg))
        return 1;
    kb_log_set_level(KB_LOG_WARN);
    if (rules) {
        free(cfg.rules.dir);
        cfg.rules.dir = kb_strdup(rules);
    }
    if (builtin_ensure_data_dir(&cfg)) {
        config_release(&cfg);
        return 1;
    }
    char jpath[4096], dbpath[4096];
    builtin_journal_path(&cfg, jpath, sizeof jpath);
    builtin_db_path(&cfg, dbpath, sizeof dbpath);
    struct kb_why why = {{0}};
    struct journal *j = NULL;
    struct intake *in = NULL;
    struct pipeline *pl = NULL;
    struct triage *tr = NULL;
    struct route_set *routes = NULL;
    struct notifier *nt = NULL;
    struct journal_opts jo = {.segment_bytes = cfg.journal.segment_bytes,
                              .no_sync = !cfg.journal.fsync,
                              .compress_level = cfg.journal.compress_level};
    struct intake_opts io = {.max_event_bytes = cfg.ingest.max_event,
                             .max_events = SIZE_MAX / 4,
                             .max_json_depth = cfg.ingest.max_depth};
    struct pipeline_opts po = {.batch = cfg.store.batch, .cache_mib = cfg.store.cache_mib,
                               .max_json_depth = cfg.ingest.max_depth,
                               .max_event_bytes = cfg.ingest.max_event};
    int rc = 0;
    kb_err e = journal_open(jpath, &jo, &j, &why);
    if (e == KB_EBUSY) {
        /* koban serve holds the journal: hand the files to it */
        char addr[256];
        if (serve_addr(cfg.data_dir, addr, sizeof addr) == KB_OK)
            rc = serve_ingest(&cfg, addr, argc - optind, argv + optind,
                                forced ? forced->name : NULL, quiet);
        else
            rc = builtin_error("ingest", "%s\n(is 'koban serve' running on data_dir %s? send "
                                         "events to it over HTTP instead: POST /v1/events)",
                               why.msg, cfg.data_dir);
        config_release(&cfg);
        return rc;
    }
    if (!e) { /* a rule or policy that fails is logged; the others are used */
        struct triage_opts to = {.rules_dir = cfg.rules.dir, .rules_mapping = cfg.rules.mapping,
                                 .stock_policies = cfg.policies.stock,
                                 .policies_dir = cfg.policies.dir, .no_watch = true,
                                 .geoip_db = cfg.enrich.geoip_db};
        e = triage_new(&to, NULL, NULL, NULL, &tr, &why);
        po.triage = tr;
        io.triage = tr;
    }
    /* Issue changes become outbox jobs here as in the daemon; 'koban serve'
     * delivers them (it runs the delivery worker, not this command). */
    if (!e)
        e = builtin_notifier_open(&cfg, &routes, &nt, &why);
    po.notifier = nt;
    if (!e)
        e = intake_new(j, &io, &in);
    if (!e)
        e = pipeline_new(j, dbpath, &po, &pl, &why);
    if (!e)
        e = pipeline_start(pl);
    if (e) {
        rc = builtin_error("ingest", "%s", why.msg[0] ? why.msg : kb_strerror(e));
        goto out;
    }
    struct pipeline_stats before;
    pipeline_get_stats(pl, &before);
    struct totals t = {.progress = !quiet && isatty(STDERR_FILENO), .start_ns = kb_mono_ns()};
    for (int i = optind; i < argc; i++)
        rc |= ingest_file(in, argv[i], forced, &t);
    if (t.last_seq) {
        if (journal_wait(j, t.last_seq, -1) != KB_OK) {
            rc = builtin_error("ingest", "the journal failed: events after seq %llu may be lost",
                               (unsigned long long)journal_durable_seq(j));
            goto out;
        }
        pipeline_wait(pl, t.last_seq, 3600 * 1000);
    }
    struct pipeline_stats after;
    pipeline_get_stats(pl, &after);
    double secs = (double)(kb_mono_ns() - t.start_ns) / 1e9;
    printf("ingested %zu events from %zu file%s in %.2fs (%.0f events/s); %zu rejected\n",
           t.accepted, t.files, t.files == 1 ? "" : "s", secs,
           secs > 0 ? (double)t.accepted / secs : 0.0, t.rejected);
    printf("issues: %llu new, %llu updated, %llu reopened — see 'koban issues'\n",
           (unsigned long long)(after.created - before.created),
           (unsigned long long)(after.updated - before.updated),
           (unsigned long long)(after.reopened - before.reopened));
    if (nt) {
        struct notifier_stats ns;
        notifier_get_stats(nt, &ns);
        printf("notifications: %llu queued for 'koban serve' to deliver — see 'koban outbox "
               "list'\n",
               (unsigned long long)ns.jobs);
    }
    if (t.rejected)
        rc = 1;
out:
    pipeline_stop(pl);
    builtin_notifier_close(routes, nt);
    triage_free(tr);
    intake_free(in);
    journal_close(j);
    config_release(&cfg);
    return rc;
}
