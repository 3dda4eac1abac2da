/* api_vuln.c — POST /v1/inventory/{asset} and the triage expiry tick
 * (api_vuln.h). */
#include "web/api_vuln.h"

#include "formats/format.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "notify/notifier.h"
#include "store/db.h"
#include "vuln/inventory.h"
#include "vuln/vuln_engine.h"
#include "vuln/vuln_triage.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AV_DURABLE_WAIT_MS 10000 /* per alert; the journal's group commit is far faster */
#define AV_MAX_ASSET 256

struct api_vuln {
    pthread_mutex_t mu;
    struct db *db;
    struct intake *intake;   /* borrowed */
    struct journal *journal; /* borrowed */
    struct notifier *nt;     /* borrowed; NULL: none */
    struct issue_observer obs;
    struct vuln_triage *triage;
    struct vuln_engine *eng; /* opened on the first inventory */
    const struct format *fmt;
    /* the request being served (under mu) */
    struct jw *changes;
    size_t nchanges, alerts;
    kb_err sink_err;
};

static kb_err av_alert(void *ctx, const char *json, size_t len);

kb_err api_vuln_new(const char *db_path, struct intake *intake, struct journal *journal,
                    struct db_gate *gate, struct api_vuln **out, struct kb_why *why)
{
    *out = NULL;
    struct api_vuln *a = kb_calloc(1, sizeof *a);
    a->intake = intake;
    a->journal = journal;
    a->fmt = format_by_name("vuln");
    kb_err e = a->fmt ? KB_OK : kb_fail(why, KB_ENOTFOUND, "the vuln format is not registered");
    if (!e)
        e = db_open(db_path, DB_CLIENT, 8, &a->db, why);
    if (!e) {
        db_use_gate(a->db, gate);
        /* an advisory change or an inventory must not pay for a checkpoint
         * (two fsyncs); api_vuln_tick checkpoints instead */
        db_autocheckpoint(a->db, 0);
        struct vuln_triage_opts to = {.obs = &a->obs};
        e = vuln_triage_open(a->db, &to, &a->triage);
        if (e)
            kb_fail(why, e, "vulnerability store: %s", kb_strerror(e));
    }
    if (e) {
        vuln_triage_close(a->triage);
        db_close(a->db);
        free(a);
        return e;
    }
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return KB_OK;
}

void api_vuln_notify(struct api_vuln *a, struct notifier *n)
{
    pthread_mutex_lock(&a->mu);
    a->nt = n;
    /* the triage handle keeps its own copy: reopen it with the observer */
    a->obs = n ? notifier_observer(n) : (struct issue_observer){0};
    vuln_triage_close(a->triage);
    a->triage = NULL;
    struct vuln_triage_opts to = {.obs = &a->obs};
    if (vuln_triage_open(a->db, &to, &a->triage) != KB_OK)
        a->triage = NULL;
    pthread_mutex_unlock(&a->mu);
}

void api_vuln_free(struct api_vuln *a)
{
    if (!a)
        return;
    vuln_engine_close(a->eng);
    vuln_triage_close(a->triage);
    db_close(a->db);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* The engine's alert callback: one change into the answer's list, then
 * into the journal, durable before the engine commits. */
static kb_err av_alert(void *ctx, const char *json, size_t len)
{
    struct api_vuln *a = ctx;
    if (a->triage && !vuln_triage_alert_keep(a->triage, json, len, vuln_triage_now(a->triage)))
        return KB_OK;
    struct intake_report *rep = kb_calloc(1, sizeof *rep);
    struct kb_why why = {{0}};
    uint64_t seq = 0;
    kb_err e = intake_body(a->intake, json, len, JOURNAL_PATH_HTTP, a->fmt, rep, &seq, &why);
    free(rep);
    if (!e && seq)
        e = journal_wait(a->journal, seq, AV_DURABLE_WAIT_MS);
    if (e) {
        a->sink_err = e;
        return e;
    }
    a->alerts++;
    if (a->changes && a->nchanges < API_VULN_MAX_CHANGES) {
        struct arena ar;
        arena_init(&ar, 4u * 1024 * 1024);
        struct json_value *root = NULL;
        if (json_parse(json, len, NULL, &ar, &root, NULL) == KB_OK) {
            jw_obj_begin(a->changes);
            jw_kv_kstr(a->changes, "state", json_str(json_get(root, "state")));
            jw_kv_kstr(a->changes, "severity", json_str(json_get(root, "severity")));
            jw_kv_kstr(a->changes, "title", json_str(json_get(root, "title")));
            jw_obj_end(a->changes);
            a->nchanges++;
        }
        arena_release(&ar);
    }
    return KB_OK;
}

static bool asset_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > AV_MAX_ASSET)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '/')
            return false;
    return true;
}

/* Parses the inventory once before the engine does, for its warnings: an
 * inventory with warnings and no package is refused (400 with them) rather
 * than taken as "the asset runs nothing". The warnings of a good one go
 * into the answer. */
static kb_err precheck(const char *format, const char *fname, const struct web_request *req,
                       struct web_response *resp, struct buf *warnings)
{
    enum inventory_format f;
    if (format ? inventory_format_parse(format, &f) != KB_OK
               : inventory_detect(fname, req->body, req->body_len, &f) != KB_OK)
        return web_fail(resp, 400, "not an inventory format koban reads (give ?format=NAME)");
    struct inventory inv = INVENTORY_INIT;
    struct kb_why why = {{0}};
    kb_err e = inventory_parse(f, req->body, req->body_len, fname, &inv, &why);
    struct jw w;
    jw_init(&w, warnings);
    jw_arr_begin(&w);
    for (size_t i = 0; i < inv.nwarnings; i++)
        jw_str(&w, inv.warnings[i]);
    jw_arr_end(&w);
    bool empty = !e && inv.n == 0 && inv.nwarnings > 0;
    size_t total = inv.warnings_total;
    inventory_release(&inv);
    if (e)
        return web_fail(resp, 400, why.msg);
    if (jw_finish(&w) != KB_OK)
        return web_fail(resp, 400, "too many warnings");
    if (empty) {
        resp->status = 400;
        buf_reset(&resp->body);
        buf_printf(&resp->body, "{\"error\":\"no package read: %zu warning%s\",\"warnings\":%s}",
                   total, total == 1 ? "" : "s", warnings->p);
        return KB_EINVAL;
    }
    return KB_OK;
}

static kb_err do_inventory(struct api_vuln *a, const char *asset, const struct web_request *req,
                           struct web_response *resp)
{
    const char *format = web_query(req, "format"), *kind = web_query(req, "kind");
    const char *fname = web_query(req, "filename");
    enum inventory_format f;
    int k;
    if (format && inventory_format_parse(format, &f) != KB_OK)
        return web_fail(resp, 400, "unknown format (see 'koban help vuln')");
    if (kind && db_vuln_asset_kind_parse(kind, &k) != KB_OK)
        return web_fail(resp, 400, "kind is host or repository");
    if (req->body_len > INVENTORY_MAX_BYTES)
        return web_fail(resp, 413, "inventory too large");
    if (!fname || !*fname)
        fname = asset;
    struct buf warnings = BUF_INIT(1 << 20);
    kb_err e = precheck(format, fname, req, resp, &warnings);
    if (e) {
        buf_release(&warnings);
        return e;
    }
    struct kb_why why = {{0}};
    if (!a->eng) {
        struct vuln_engine_opts eo = {.alert = av_alert, .ctx = a};
        if ((e = vuln_engine_open(a->db, &eo, &a->eng, &why)) != KB_OK) {
            buf_release(&warnings);
            return web_fail(resp, 503, why.msg);
        }
    }
    const char *release = web_query(req, "release"), *lbl = web_query(req, "labels");
    if (release && (!*release || strlen(release) > 64 || !strchr(release, ':'))) {
        buf_release(&warnings);
        return web_fail(resp, 400, "release: an ecosystem and its release, e.g. Debian:12");
    }
    if (kind || release || lbl) {
        struct db_vuln_asset old;
        bool had = db_vuln_asset_get(vuln_triage_store(a->triage), asset, &old) == KB_OK;
        /* the labels given replace those of the same name; the others stay */
        struct kb_str kv[API_VULN_MAX_LABELS + 1];
        size_t nkv = 0;
        kb_err le = KB_OK;
        for (const char *p = lbl ? lbl : ""; *p && !le;) {
            size_t n = strcspn(p, ",");
            if (nkv == API_VULN_MAX_LABELS)
                le = kb_fail(&why, KB_EINVAL, "more than %d labels", API_VULN_MAX_LABELS);
            else
                kv[nkv++] = (struct kb_str){p, n};
            p += n + (p[n] == ',');
        }
        char rel[80];
        if (release && !le) {
            snprintf(rel, sizeof rel, "release=%s", release);
            kv[nkv++] = kb_str_c(rel);
        }
        struct buf cur = BUF_INIT(64 * 1024);
        if (!le)
            le = vuln_labels_merge(had ? old.labels : NULL, kv, nkv, &cur, &why);
        const char *k2 = kind ? kind : had ? db_vuln_asset_kind_name(old.kind) : "host";
        e = le ? le : vuln_engine_set_asset(a->eng, asset, k2, cur.p, &why);
        buf_release(&cur);
        if (had)
            db_vuln_asset_release(&old);
        if (e) {
            buf_release(&warnings);
            return web_fail(resp, 400, why.msg);
        }
    }
    struct buf changes = BUF_INIT(WEB_MAX_RESPONSE / 2);
    struct jw cw;
    jw_init(&cw, &changes);
    jw_arr_begin(&cw);
    a->changes = &cw;
    a->nchanges = a->alerts = 0;
    a->sink_err = KB_OK;
    struct vuln_eval_stats st = {0};
    e = vuln_engine_replace_inventory(a->eng, asset, format, fname, req->body, req->body_len, &st,
                                      &why);
    a->changes = NULL;
    jw_arr_end(&cw);
    if (e) {
        buf_release(&changes);
        buf_release(&warnings);
        if (a->sink_err)
            return web_fail(resp, 503, "journal failure: the inventory was not stored");
        return web_fail(resp, e == KB_EPARSE || e == KB_ENOTFOUND || e == KB_EINVAL ? 400 : 500,
                    why.msg[0] ? why.msg : kb_strerror(e));
    }
    struct jw w;
    buf_reset(&resp->body);
    jw_init(&w, &resp->body);
    jw_obj_begin(&w);
    jw_kv_str(&w, "asset", asset);
    jw_kv_int(&w, "packages", (int64_t)st.packages);
    jw_kv_int(&w, "new", (int64_t)st.opened);
    jw_kv_int(&w, "updated", (int64_t)st.updated);
    jw_kv_int(&w, "resolved", (int64_t)st.resolved);
    jw_kv_int(&w, "unsure", (int64_t)st.unsure);
    jw_kv_int(&w, "alerts", (int64_t)a->alerts);
    jw_key(&w, "warnings");
    jw_raw(&w, warnings.p, warnings.len);
    jw_key(&w, "changes");
    if (jw_finish(&cw) == KB_OK)
        jw_raw(&w, changes.p, changes.len);
    else
        jw_str(&w, "too many to list");
    jw_obj_end(&w);
    buf_release(&changes);
    buf_release(&warnings);
    return jw_finish(&w) == KB_OK ? KB_OK : web_fail(resp, 500, "answer too large");
}

kb_err api_vuln_route(void *ctx, const struct web_request *req, struct web_response *resp)
{
    struct api_vuln *a = ctx;
    static const char prefix[] = "/v1/inventory/";
    if (strncmp(req->path, prefix, sizeof prefix - 1) != 0)
        return KB_ENOTFOUND;
    const char *asset = req->path + sizeof prefix - 1;
    if (strcmp(req->method, "POST") != 0) {
        return web_fail(resp, 405, "method not allowed");
    }
    if (!asset_ok(asset))
        return web_fail(resp, 400, "asset name: 1 to 256 bytes, no '/' or control characters");
    pthread_mutex_lock(&a->mu);
    kb_err e = a->triage ? do_inventory(a, asset, req, resp)
                         : web_fail(resp, 503, "vulnerability store unavailable");
    pthread_mutex_unlock(&a->mu);
    return e;
}

kb_err api_vuln_tick(struct api_vuln *a, int64_t now_ms, size_t *reopened, struct kb_why *why)
{
    pthread_mutex_lock(&a->mu);
    size_t n = 0;
    kb_err e = a->triage ? vuln_triage_expire(a->triage, now_ms, NULL, &n, why)
                         : kb_fail(why, KB_ECLOSED, "vulnerability store unavailable");
    if (!e)
        db_checkpoint(a->db); /* what its commits left in the WAL */
    if (!e && a->nt && n)
        notifier_committed(a->nt); /* wake the delivery for the reopen jobs */
    pthread_mutex_unlock(&a->mu);
    if (reopened)
        *reopened = n;
    return e;
}

/* The engine, opened on first use (under mu). */
static kb_err engine(struct api_vuln *a, struct kb_why *why)
{
    if (a->eng)
        return KB_OK;
    struct vuln_engine_opts eo = {.alert = av_alert, .ctx = a};
    return vuln_engine_open(a->db, &eo, &a->eng, why);
}

kb_err api_vuln_advisories_changed(void *ctx, const char *const *ids, size_t n,
                                   struct vuln_eval_stats *st, struct kb_why *why)
{
    struct api_vuln *a = ctx;
    pthread_mutex_lock(&a->mu);
    a->sink_err = KB_OK;
    kb_err e = engine(a, why);
    if (!e)
        e = vuln_engine_advisories_changed(a->eng, ids, n, st, why);
    pthread_mutex_unlock(&a->mu);
    return e;
}

kb_err api_vuln_evaluate_all(void *ctx, struct vuln_eval_stats *st, struct kb_why *why)
{
    struct api_vuln *a = ctx;
    pthread_mutex_lock(&a->mu);
    a->sink_err = KB_OK;
    kb_err e = engine(a, why);
    if (!e)
        e = vuln_engine_evaluate_all(a->eng, st, why);
    pthread_mutex_unlock(&a->mu);
    return e;
}
