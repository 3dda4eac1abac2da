/* cmd_vuln_sync_store.c — `koban vuln sync` into koban's store (without
 * --mirror): the feeds' advisories stored and matched against every asset
 * by the engine, whose finding changes become alerts in the journal (as
 * `koban vuln advisory add` does; builtin/vuln_sink.h). */
#include "builtin/builtin.h"
#include "builtin/cmd_vuln.h"
#include "builtin/vuln_sink.h"
#include "notify/http_client.h"
#include "store/db.h"
#include "vuln/feed.h"
#include "vuln/vuln_engine.h"
#include "vuln/vuln_feed_store.h"
#include "vuln/vuln_triage.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct progress {
    bool tty;
    bool shown;
};

static void on_warn(void *ctx, const char *feed, const char *msg)
{
    struct progress *p = ctx;
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = false;
    fprintf(stderr, "koban vuln sync: %s: %s\n", feed, msg);
}

static void on_progress(void *ctx, const char *feed, int64_t done, int64_t total)
{
    struct progress *p = ctx;
    if (!p->tty)
        return;
    if (total > 0)
        fprintf(stderr, "\r\033[K%s: %lld / %lld", feed, (long long)done, (long long)total);
    else
        fprintf(stderr, "\r\033[K%s: %lld", feed, (long long)done);
    p->shown = true;
}

int vuln_sync_store(const struct kb_config *cfg, const struct feed_config *c, const char *offline)
{
    struct vuln_sink *sink = NULL;
    int rc = vuln_sink_open("sync", cfg,
                            "set vuln.sync_interval_s and let it sync, or stop it first", &sink);
    struct db *db = NULL;
    struct vuln_triage *tr = NULL;
    struct vuln_engine *eng = NULL;
    struct vuln_feed_store *fs = NULL;
    struct kb_why why = {{0}};
    if (!rc)
        rc = vuln_store_open("sync", cfg, true, &db);
    if (!rc) {
        db_use_gate(db, vuln_sink_gate(sink));
        struct vuln_engine_opts eo = {.alert = vuln_sink_alert, .ctx = sink};
        kb_err e = vuln_triage_open(db, NULL, &tr);
        if (!e)
            e = vuln_engine_open(db, &eo, &eng, &why);
        struct vuln_feed_store_eval ev = vuln_feed_store_engine_eval(eng);
        if (!e)
            e = vuln_feed_store_new(db, &ev, &fs, &why);
        if (e)
            rc = builtin_error("vuln sync", "%s", why.msg[0] ? why.msg : kb_strerror(e));
        vuln_sink_filter(sink, tr);
    }
    struct feed_result res[FEED_COUNT];
    memset(res, 0, sizeof res);
    kb_err e = KB_OK;
    struct progress pr = {.tty = isatty(2) == 1};
    if (!rc) {
        struct feed_sink fsink;
        vuln_feed_store_sink(fs, &fsink, on_warn, on_progress, &pr);
        if (offline) {
            e = feed_import_dir(offline, &fsink, res, &why);
        } else if (http_client_global_init() != KB_OK) {
            rc = builtin_error("vuln sync", "cannot initialise HTTP");
        } else {
            e = feed_sync(c, &fsink, res, &why);
            http_client_global_cleanup();
        }
        if (pr.shown)
            fputs("\r\033[K", stderr);
    }
    struct kb_why fw = {{0}};
    if (!rc && vuln_feed_store_finish(fs, &fw) != KB_OK)
        rc = builtin_error("vuln sync", "store: %s", fw.msg);
    for (int i = 0; !rc && i < FEED_COUNT; i++) {
        if (!res[i].ran)
            continue;
        if (res[i].err == KB_OK)
            printf("%s: ok, %lld advisories, %lld kev entries, %lld epss scores, %lld "
                   "requests%s\n",
                   feed_name((enum feed_id)i), (long long)res[i].advisories, (long long)res[i].kev,
                   (long long)res[i].epss, (long long)res[i].requests,
                   res[i].not_modified ? ", not modified" : "");
        else
            printf("%s: FAILED after %lld advisories: %s\n", feed_name((enum feed_id)i),
                   (long long)res[i].advisories, res[i].msg);
    }
    if (fs) {
        struct vuln_feed_store_stats st;
        vuln_feed_store_get_stats(fs, &st);
        printf("store: %lld advisories stored, %lld refused; findings: %zu new, %zu updated, "
               "%zu resolved\n",
               (long long)st.stored, (long long)st.refused, st.eval.opened, st.eval.updated,
               st.eval.resolved);
    }
    if (!rc && e != KB_OK) {
        if (why.msg[0])
            builtin_error("vuln sync", "%s", why.msg);
        rc = 1;
    }
    int frc = sink && !rc ? vuln_sink_finish(sink) : 0;
    if (!rc)
        rc = frc;
    vuln_feed_store_free(fs);
    vuln_engine_close(eng);
    vuln_triage_close(tr);
    db_close(db);
    vuln_sink_close(sink);
    return rc;
}
