/* vuln_service.c — triage expiry and scheduled feed syncs in the daemon
 * (vuln_service.h). */
#include "web/vuln_service.h"

#include "lib/jsonw.h"
#include "lib/log.h"
#include "notify/http_client.h"
#include "store/db.h"
#include "vuln/feed_settings.h"
#include "vuln/vuln_feed_store.h"
#include "web/api_vuln.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VS_TICK_MS 60000 /* triage expiry */

struct vuln_service {
    const struct kb_config *cfg;
    char *db_path;
    struct api_vuln *api;
    struct db_gate *gate;
    struct feed_config feeds;
    char *feeds_mem;
    int64_t interval_ms; /* 0: no sync */
    pthread_t thread;
    pthread_mutex_t mu; /* stop, with cv */
    pthread_cond_t cv;
    bool stop, running, http;
    /* on-demand syncs (POST /v1/vuln/sync), under mu */
    bool sync_requested, syncing, last_ok;
    int64_t runs, last_end_ms;
    char last_msg[512];
    atomic_uint_fast64_t sync_ok, sync_failed, reopened;
};

static void warn(void *ctx, const char *feed, const char *msg)
{
    (void)ctx;
    char q[300];
    log_warn("vulnerability feed", "feed=%s msg=%s", feed, kb_logq(q, sizeof q, msg));
}

static void sync_once(struct vuln_service *s, bool *ok, char *msg, size_t msgn)
{
    struct db *db = NULL;
    struct kb_why why = {{0}};
    struct vuln_feed_store *fs = NULL;
    struct vuln_feed_store_eval ev = {.changed = api_vuln_advisories_changed,
                                      .all = api_vuln_evaluate_all,
                                      .ctx = s->api};
    kb_err e = db_open(s->db_path, DB_DAEMON, 8, &db, &why);
    if (!e) {
        db_use_gate(db, s->gate);
        e = vuln_feed_store_new(db, &ev, &fs, &why);
    }
    struct feed_result res[FEED_COUNT];
    memset(res, 0, sizeof res);
    if (!e) {
        struct feed_sink sink;
        vuln_feed_store_sink(fs, &sink, warn, NULL, NULL);
        kb_err se = feed_sync(&s->feeds, &sink, res, &why);
        struct kb_why fw = {{0}};
        e = vuln_feed_store_finish(fs, &fw);
        if (e)
            why = fw;
        else
            e = se;
    }
    struct vuln_feed_store_stats st = {0};
    if (fs)
        vuln_feed_store_get_stats(fs, &st);
    char q[600];
    *ok = e == KB_OK;
    if (e) {
        atomic_fetch_add(&s->sync_failed, 1);
        log_error("vulnerability feeds sync failed", "stored=%lld err=%s", (long long)st.stored,
                  kb_logq(q, sizeof q, why.msg[0] ? why.msg : kb_strerror(e)));
        snprintf(msg, msgn, "failed after %lld advisories stored: %s", (long long)st.stored,
                 why.msg[0] ? why.msg : kb_strerror(e));
    } else {
        atomic_fetch_add(&s->sync_ok, 1);
        log_info("vulnerability feeds synced", "stored=%lld refused=%lld new=%zu resolved=%zu",
                 (long long)st.stored, (long long)st.refused, st.eval.opened, st.eval.resolved);
        snprintf(msg, msgn, "%lld advisories stored, %lld refused; findings: %zu new, %zu "
                            "updated, %zu resolved",
                 (long long)st.stored, (long long)st.refused, st.eval.opened, st.eval.updated,
                 st.eval.resolved);
    }
    vuln_feed_store_free(fs);
    db_close(db);
}

/* Waits until `until` (ms) or stop; true when stopping. */
static bool wait_until(struct vuln_service *s, int64_t until)
{
    pthread_mutex_lock(&s->mu);
    while (!s->stop && !s->sync_requested && kb_now_ms() < until) {
        struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                              .tv_nsec = (long)(until % 1000) * 1000000L};
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static void *run(void *arg)
{
    struct vuln_service *s = arg;
    int64_t next_sync = s->interval_ms ? kb_now_ms() + 5000 : INT64_MAX; /* after start-up */
    int64_t next_tick = kb_now_ms() + 1000;
    for (;;) {
        int64_t until = next_sync < next_tick ? next_sync : next_tick;
        if (wait_until(s, until))
            break;
        int64_t now = kb_now_ms();
        if (now >= next_tick) {
            size_t n = 0;
            struct kb_why why = {{0}};
            if (api_vuln_tick(s->api, now, &n, &why) == KB_OK) {
                atomic_fetch_add(&s->reopened, n);
                if (n)
                    log_info("triage expired", "reopened=%zu", n);
            }
            next_tick = now + VS_TICK_MS;
        }
        pthread_mutex_lock(&s->mu);
        bool asked = s->sync_requested;
        s->sync_requested = false;
        s->syncing = asked || now >= next_sync;
        pthread_mutex_unlock(&s->mu);
        if (s->syncing) {
            bool ok = false;
            char msg[512];
            sync_once(s, &ok, msg, sizeof msg);
            pthread_mutex_lock(&s->mu);
            s->syncing = false;
            s->last_ok = ok;
            s->runs++;
            s->last_end_ms = kb_now_ms();
            snprintf(s->last_msg, sizeof s->last_msg, "%s", msg);
            pthread_mutex_unlock(&s->mu);
            if (!asked || now >= next_sync)
                next_sync = s->interval_ms ? kb_now_ms() + s->interval_ms : INT64_MAX;
        }
    }
    return NULL;
}

kb_err vuln_service_start(const struct kb_config *cfg, const char *db_path, struct api_vuln *api,
                          struct db_gate *gate, struct vuln_service **out, struct kb_why *why)
{
    *out = NULL;
    struct vuln_service *s = kb_calloc(1, sizeof *s);
    s->cfg = cfg;
    s->api = api;
    s->gate = gate;
    s->db_path = kb_strdup(db_path);
    s->interval_ms = (int64_t)cfg->vuln.sync_interval_s * 1000;
    kb_err e = feed_settings(cfg, &s->feeds, &s->feeds_mem, why);
    if (e) {
        free(s->db_path);
        free(s);
        return e;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->sync_ok, 0);
    atomic_init(&s->sync_failed, 0);
    atomic_init(&s->reopened, 0);
    if (http_client_global_init() != KB_OK) {
        vuln_service_stop(s);
        return kb_fail(why, KB_EIO, "vulnerability service: cannot initialise HTTP");
    }
    s->http = true;
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        vuln_service_stop(s);
        return kb_fail(why, KB_EIO, "vulnerability service: cannot start its thread");
    }
    s->running = true;
    *out = s;
    return KB_OK;
}

void vuln_service_stop(struct vuln_service *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->running)
        pthread_join(s->thread, NULL);
    if (s->http)
        http_client_global_cleanup();
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->feeds_mem);
    free(s->db_path);
    free(s);
}

kb_err vuln_service_metrics(struct vuln_service *s, struct buf *out)
{
    return buf_printf(out,
                      "# TYPE koban_vuln_sync_runs_total counter\n"
                      "koban_vuln_sync_runs_total{result=\"ok\"} %llu\n"
                      "koban_vuln_sync_runs_total{result=\"failed\"} %llu\n"
                      "# TYPE koban_vuln_triage_reopened_total counter\n"
                      "koban_vuln_triage_reopened_total %llu\n",
                      (unsigned long long)atomic_load(&s->sync_ok),
                      (unsigned long long)atomic_load(&s->sync_failed),
                      (unsigned long long)atomic_load(&s->reopened));
}

kb_err vuln_service_route(void *ctx, const struct web_request *req, struct web_response *resp)
{
    struct vuln_service *s = ctx;
    if (!s || strcmp(req->path, "/v1/vuln/sync") != 0)
        return KB_ENOTFOUND;
    bool post = strcmp(req->method, "POST") == 0;
    if (!post && strcmp(req->method, "GET") != 0) {
        return web_fail(resp, 405, "use GET or POST");
    }
    pthread_mutex_lock(&s->mu);
    if (post && !s->syncing) {
        s->sync_requested = true;
        pthread_cond_broadcast(&s->cv);
    }
    struct jw w;
    jw_init(&w, &resp->body);
    jw_obj_begin(&w);
    jw_key(&w, "requested");
    jw_bool(&w, s->sync_requested);
    jw_key(&w, "syncing");
    jw_bool(&w, s->syncing);
    jw_kv_int(&w, "runs", s->runs);
    jw_key(&w, "last_ok");
    if (s->runs)
        jw_bool(&w, s->last_ok);
    else
        jw_null(&w);
    jw_kv_str(&w, "last_message", s->runs ? s->last_msg : NULL);
    jw_obj_end(&w);
    pthread_mutex_unlock(&s->mu);
    resp->status = post ? 202 : 200;
    return jw_finish(&w);
}
