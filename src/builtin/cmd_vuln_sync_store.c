/* cmd_vuln_sync_store.c — `koban vuln sync` into koban's store (without
 * --mirror): the feeds' advisories stored and matched against every asset
 * by the engine, whose finding changes become alerts in the journal (as
 * `koban vuln advisory add` does; builtin/vuln_sink.h). */
#include "builtin/builtin.h"
#include "builtin/cmd_vuln.h"
#include "builtin/serve_client.h"
#include "builtin/vuln_sink.h"
#include "lib/json.h"
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

/* GET or POST /v1/vuln/sync on the daemon: *v its answer (in ar). 0, or
 * an exit code after printing. */
static int remote(struct http_client *hc, const struct kb_config *cfg, const char *addr,
                  const char *method, struct arena *ar, const struct json_value **v)
{
    struct serve_answer ans;
    serve_call(hc, cfg, addr, method, "/v1/vuln/sync", NULL, NULL, 0, ar, &ans);
    if ((ans.status != 200 && ans.status != 202) || !ans.json)
        return serve_error("vuln sync", addr, &ans);
    *v = ans.json;
    return 0;
}

#define VS_REMOTE_MAX_S (6 * 3600) /* a whole sync's bound (feed.h: 6 h per feed) */

/* koban serve holds the journal: ask it to sync (with its koban.yaml's
 * feeds) and wait for the run to end. */
static int sync_remote(const struct kb_config *cfg, const char *addr)
{
    struct http_client *hc = NULL;
    struct http_client_opts o = {.timeout_ms = 30000, .max_body = 64 * 1024};
    if (http_client_global_init() != KB_OK || http_client_new(&o, &hc) != KB_OK)
        return builtin_error("vuln sync", "cannot initialise HTTP");
    fprintf(stderr, "koban vuln sync: koban serve runs on this data_dir: it syncs (feeds from its "
                    "koban.yaml)\n");
    struct arena ar = ARENA_INIT(1 << 20);
    const struct json_value *v = NULL;
    int64_t runs = 0;
    int rc = remote(hc, cfg, addr, "POST", &ar, &v);
    if (!rc)
        json_as_int(json_get(v, "runs"), &runs);
    bool waiting = rc == 0;
    for (int i = 0; waiting && i < VS_REMOTE_MAX_S; i++) {
        sleep(1);
        arena_reset(&ar);
        if ((rc = remote(hc, cfg, addr, "GET", &ar, &v)) != 0)
            break;
        int64_t now_runs = 0;
        json_as_int(json_get(v, "runs"), &now_runs);
        const struct json_value *busy = json_get(v, "syncing"), *req = json_get(v, "requested");
        if (now_runs > runs && !(busy && busy->type == JSON_TRUE) &&
            !(req && req->type == JSON_TRUE)) {
            struct kb_str msg = json_str(json_get(v, "last_message"));
            const struct json_value *ok = json_get(v, "last_ok");
            printf("%.*s (by koban serve at %s)\n", (int)msg.n, msg.p ? msg.p : "", addr);
            rc = ok && ok->type == JSON_TRUE ? 0 : 1;
            waiting = false;
        }
    }
    if (waiting)
        rc = builtin_error("vuln sync", "koban serve at %s did not finish within %d s", addr,
                           VS_REMOTE_MAX_S);
    arena_release(&ar);
    http_client_free(hc);
    http_client_global_cleanup();
    return rc;
}

int vuln_sync_store(const struct kb_config *cfg, const struct feed_config *c, const char *offline)
{
    char addr[256];
    if (!offline && serve_addr(cfg->data_dir, addr, sizeof addr) == KB_OK)
        return sync_remote(cfg, addr);
    struct vuln_sink *sink = NULL;
    int rc = vuln_sink_open("sync", cfg,
                            "without --offline the sync is handed to it; for files, stop it first",
                            &sink);
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
