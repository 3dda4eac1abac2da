/*
 * cmd_ingest.c — `koban ingest FILE...`: one-off loads and replays.
 *
 * Runs the same intake and pipeline as the server, in this process, on the
 * data_dir's journal and store (so the server must not be running on the
 * same data_dir: the journal lock says so). The pipeline thread folds while
 * files are read, so parsing for intake and for the store use both cores.
 * Large NDJSON and text files are fed in chunks cut at line ends.
 */
#include "builtin/builtin.h"

#include "formats/format.h"
#include "formats/split.h"
#include "ingest/intake.h"
#include "ingest/pipeline.h"
#include "lib/log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const struct builtin builtin_ingest = {
    "ingest", cmd_ingest, "load events from files or stdin into the store",
    "usage: koban ingest [--source NAME] [--config FILE] [--data-dir DIR] [--quiet]\n"
    "                    FILE... | -\n\n"
    "Reads JSON (object, array, {\"Records\":[...]}, NDJSON) or text lines (syslog),\n"
    "journals every event durably, and folds them into issues. Rejected events\n"
    "are listed with their index and reason and kept in quarantine; the exit\n"
    "code is 1 when any event was rejected (the others are stored).\n"
    "'koban serve' must not be running on the same data_dir.\n\n"
    "  -s, --source NAME   force a format (see 'koban help formats')\n"
    "  -q, --quiet         no progress line\n",
};

#define INGEST_CHUNK (8u * 1024 * 1024)
#define INGEST_MAX_FILE (4ull * 1024 * 1024 * 1024)

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

static int ingest_chunk(struct intake *in, const char *file, const char *p, size_t n,
                        size_t index_base, const struct format *forced, struct totals *t)
{
    struct intake_report *rep = kb_calloc(1, sizeof *rep);
    struct kb_why why = {{0}};
    uint64_t last = 0;
    kb_err e = intake_body(in, p, n, JOURNAL_PATH_CLI, forced, rep, &last, &why);
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
        if (last)
            t->last_seq = last;
    }
    free(rep);
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
    if (whole) {
        rc = ingest_chunk(in, file, p, len, 0, forced, t);
    } else {
        size_t pos = 0;
        while (pos < len && !rc) {
            size_t end = pos + INGEST_CHUNK < len ? pos + INGEST_CHUNK : len;
            if (end < len) {
                const char *nl = memrchr(p + pos, '\n', end - pos);
                end = nl ? (size_t)(nl - p) + 1 : end;
            }
            size_t before = t->accepted + t->rejected;
            rc = ingest_chunk(in, file, p + pos, end - pos, before, forced, t);
            pos = end;
            show_progress(t, file, false);
        }
    }
    show_progress(t, file, true);
    builtin_input_close(&data);
    return rc;
}

int cmd_ingest(int argc, char **argv)
{
    static const struct option lo[] = {
        {"source", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
        {"data-dir", required_argument, NULL, 'd'}, {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0}};
    const char *config = NULL, *data_dir = NULL;
    const struct format *forced = NULL;
    bool quiet = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:c:d:q", lo, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (!(forced = format_by_name(optarg)))
                return builtin_error("ingest", "unknown source '%s' (see 'koban help formats')",
                                     optarg), 2;
            break;
        case 'c': config = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'q': quiet = true; break;
        default: return builtin_usage(&builtin_ingest);
        }
    }
    if (optind >= argc)
        return builtin_usage(&builtin_ingest);
    struct kb_config cfg;
    if (builtin_load_config(config, data_dir, &cfg))
        return 1;
    kb_log_set_level(KB_LOG_WARN);
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
    struct journal_opts jo = {.segment_bytes = cfg.journal.segment_bytes,
                              .no_sync = !cfg.journal.fsync};
    struct intake_opts io = {.max_event_bytes = cfg.ingest.max_event,
                             .max_events = SIZE_MAX / 4,
                             .max_json_depth = cfg.ingest.max_depth};
    struct pipeline_opts po = {.batch = cfg.store.batch, .cache_mib = cfg.store.cache_mib,
                               .max_json_depth = cfg.ingest.max_depth,
                               .max_event_bytes = cfg.ingest.max_event};
    int rc = 0;
    kb_err e = journal_open(jpath, &jo, &j, &why);
    if (e == KB_EBUSY) {
        rc = builtin_error("ingest", "%s\n(is 'koban serve' running on data_dir %s? send events "
                                     "to it over HTTP instead: POST /v1/events)",
                           why.msg, cfg.data_dir);
        config_release(&cfg);
        return rc;
    }
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
    if (t.rejected)
        rc = 1;
out:
    pipeline_stop(pl);
    intake_free(in);
    journal_close(j);
    config_release(&cfg);
    return rc;
}
