/* vuln_feed_store.c — the feeds' sink into the store (vuln_feed_store.h). */
#include "vuln/vuln_feed_store.h"

#include "store/db_vuln.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vuln_feed_store {
    struct db *db;
    struct vuln_feed_store_eval ev;
    struct db_vuln *dv;
    char *ids[VULN_FEED_STORE_BATCH]; /* stored, not yet evaluated */
    size_t n;
    bool in_txn;   /* a batch's transaction is open */
    bool kev_new;  /* a complete catalog came: evaluate everything at the end */
    int64_t kev_count;
    bool epss_txn; /* the open transaction is an EPSS file's */
    int64_t epss_count;
    struct vuln_feed_store_stats st;
    char err[512];
    void (*warn)(void *ctx, const char *feed, const char *msg);
    void (*progress)(void *ctx, const char *feed, int64_t done, int64_t total);
    void *warn_ctx;
};

static kb_err eng_changed(void *ctx, const char *const *ids, size_t n, struct vuln_eval_stats *st,
                          struct kb_why *why)
{
    return vuln_engine_advisories_changed(ctx, ids, n, st, why);
}

static kb_err eng_all(void *ctx, struct vuln_eval_stats *st, struct kb_why *why)
{
    return vuln_engine_evaluate_all(ctx, st, why);
}

struct vuln_feed_store_eval vuln_feed_store_engine_eval(struct vuln_engine *e)
{
    return (struct vuln_feed_store_eval){.changed = eng_changed, .all = eng_all, .ctx = e};
}

kb_err vuln_feed_store_new(struct db *db, const struct vuln_feed_store_eval *ev,
                           struct vuln_feed_store **out, struct kb_why *why)
{
    *out = NULL;
    struct vuln_feed_store *s = kb_calloc(1, sizeof *s);
    s->db = db;
    s->ev = *ev;
    if (db_vuln_open(db, &s->dv) != KB_OK) {
        free(s);
        return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    }
    *out = s;
    return KB_OK;
}

static kb_err fail(struct vuln_feed_store *s, kb_err e, const char *msg)
{
    snprintf(s->err, sizeof s->err, "%s", msg);
    return e;
}

static kb_err commit(struct vuln_feed_store *s)
{
    if (!s->in_txn)
        return KB_OK;
    s->in_txn = false;
    if (db_commit(s->db) != KB_OK) {
        db_rollback(s->db);
        return fail(s, KB_EDB, db_errmsg(s->db));
    }
    return KB_OK;
}

static void add_stats(struct vuln_eval_stats *to, const struct vuln_eval_stats *x)
{
    to->packages += x->packages;
    to->opened += x->opened;
    to->updated += x->updated;
    to->resolved += x->resolved;
    to->unsure += x->unsure;
}

/* Commits the batch and evaluates it. */
static kb_err flush(struct vuln_feed_store *s)
{
    kb_err e = commit(s);
    if (!e && s->n) {
        struct vuln_eval_stats es = {0};
        struct kb_why why = {{0}};
        e = s->ev.changed(s->ev.ctx, (const char *const *)s->ids, s->n, &es, &why);
        if (e)
            fail(s, e, why.msg);
        else
            add_stats(&s->st.eval, &es);
    }
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    s->n = 0;
    return e;
}

static kb_err on_advisory(void *ctx, const char *feed, const char *id, const char *json,
                          size_t len)
{
    struct vuln_feed_store *s = ctx;
    if (!s->in_txn) {
        if (db_begin(s->db) != KB_OK)
            return fail(s, KB_EDB, db_errmsg(s->db));
        s->in_txn = true;
    }
    struct kb_why why = {{0}};
    kb_err e = vuln_advisory_store(s->dv, feed, json, len, kb_now_ms(), &why);
    if (e == KB_EPARSE || e == KB_EINVAL) {
        /* A record the parser refuses is skipped, the feed goes on. */
        s->st.refused++;
        if (s->warn) {
            char msg[600];
            snprintf(msg, sizeof msg, "%s: not stored: %s", id, why.msg);
            s->warn(s->warn_ctx, feed, msg);
        }
        return KB_OK;
    }
    if (e)
        return fail(s, e, why.msg);
    s->st.stored++;
    s->ids[s->n++] = kb_strdup(id);
    return s->n == VULN_FEED_STORE_BATCH ? flush(s) : KB_OK;
}

static kb_err on_kev_begin(void *ctx)
{
    struct vuln_feed_store *s = ctx;
    kb_err e = flush(s); /* the catalog gets its own transaction */
    if (!e && db_begin(s->db) != KB_OK)
        e = fail(s, KB_EDB, db_errmsg(s->db));
    if (!e) {
        s->in_txn = true;
        s->kev_count = 0;
        if (db_vuln_kev_clear(s->dv) != KB_OK)
            e = fail(s, KB_EDB, db_errmsg(s->db));
    }
    return e;
}

static kb_err on_kev(void *ctx, const struct feed_kev *k)
{
    struct vuln_feed_store *s = ctx;
    if (!s->in_txn)
        return fail(s, KB_EINVAL, "KEV entry outside kev_begin .. kev_end");
    if (db_vuln_kev_put(s->dv, k->cve, k->date_added_ms, k->ransomware) != KB_OK)
        return fail(s, KB_EDB, db_errmsg(s->db));
    s->kev_count++;
    return KB_OK;
}

static kb_err on_kev_end(void *ctx, bool complete)
{
    struct vuln_feed_store *s = ctx;
    if (!s->in_txn)
        return KB_OK;
    if (!complete) {
        s->in_txn = false;
        db_rollback(s->db);
        return KB_OK;
    }
    kb_err e = commit(s);
    if (!e) {
        s->kev_new = true;
        s->st.kev = s->kev_count;
    }
    return e;
}

static kb_err on_epss_begin(void *ctx)
{
    struct vuln_feed_store *s = ctx;
    kb_err e = flush(s); /* the scores get their own transaction */
    if (!e && db_begin(s->db) != KB_OK)
        e = fail(s, KB_EDB, db_errmsg(s->db));
    if (!e) {
        s->in_txn = true;
        s->epss_txn = true;
        s->epss_count = 0;
        if (db_vuln_epss_clear(s->dv) != KB_OK)
            e = fail(s, KB_EDB, db_errmsg(s->db));
    }
    return e;
}

static kb_err on_epss(void *ctx, const struct feed_epss *x)
{
    struct vuln_feed_store *s = ctx;
    if (!s->in_txn || !s->epss_txn)
        return fail(s, KB_EINVAL, "EPSS score outside epss_begin .. epss_end");
    kb_err e = db_vuln_epss_put(s->dv, x->cve, x->score, x->percentile, x->date_ms);
    if (e == KB_EINVAL)
        return fail(s, e, "EPSS score out of range");
    if (e != KB_OK)
        return fail(s, KB_EDB, db_errmsg(s->db));
    s->epss_count++;
    return KB_OK;
}

static kb_err on_epss_end(void *ctx, bool complete)
{
    struct vuln_feed_store *s = ctx;
    if (!s->in_txn || !s->epss_txn)
        return KB_OK;
    s->epss_txn = false;
    if (!complete) {
        s->in_txn = false;
        db_rollback(s->db);
        return KB_OK;
    }
    kb_err e = commit(s);
    if (!e)
        s->st.epss = s->epss_count;
    return e;
}

static kb_err on_state_get(void *ctx, const char *feed, const char *key, char *out, size_t outsz)
{
    struct vuln_feed_store *s = ctx;
    char *v = NULL;
    kb_err e = db_vuln_feed_get(s->dv, feed, key, &v);
    if (e == KB_ENOTFOUND)
        return e;
    if (e)
        return fail(s, KB_EDB, db_errmsg(s->db));
    snprintf(out, outsz, "%s", v);
    free(v);
    return KB_OK;
}

static kb_err on_state_set(void *ctx, const char *feed, const char *key, const char *value)
{
    struct vuln_feed_store *s = ctx;
    /* What came before the cursor is stored and evaluated first. */
    kb_err e = flush(s);
    if (!e && db_vuln_feed_set(s->dv, feed, key, value) != KB_OK)
        e = fail(s, KB_EDB, db_errmsg(s->db));
    return e;
}

static void on_warn(void *ctx, const char *feed, const char *msg)
{
    struct vuln_feed_store *s = ctx;
    if (s->warn)
        s->warn(s->warn_ctx, feed, msg);
}

static void on_progress(void *ctx, const char *feed, int64_t done, int64_t total)
{
    struct vuln_feed_store *s = ctx;
    if (s->progress)
        s->progress(s->warn_ctx, feed, done, total);
}

void vuln_feed_store_sink(struct vuln_feed_store *s, struct feed_sink *sink,
                          void (*warn)(void *ctx, const char *feed, const char *msg),
                          void (*progress)(void *ctx, const char *feed, int64_t done,
                                           int64_t total),
                          void *warn_ctx)
{
    s->warn = warn;
    s->progress = progress;
    s->warn_ctx = warn_ctx;
    *sink = (struct feed_sink){.ctx = s,
                               .advisory = on_advisory,
                               .kev_begin = on_kev_begin,
                               .kev = on_kev,
                               .kev_end = on_kev_end,
                               .epss_begin = on_epss_begin,
                               .epss = on_epss,
                               .epss_end = on_epss_end,
                               .state_get = on_state_get,
                               .state_set = on_state_set,
                               .progress = on_progress,
                               .warn = on_warn};
}

kb_err vuln_feed_store_finish(struct vuln_feed_store *s, struct kb_why *why)
{
    kb_err e = flush(s);
    if (!e && s->kev_new) {
        struct vuln_eval_stats es = {0};
        e = s->ev.all(s->ev.ctx, &es, why);
        if (!e)
            add_stats(&s->st.eval, &es);
        s->kev_new = false;
    } else if (e) {
        kb_fail(why, e, "%s", s->err);
    }
    return e;
}

void vuln_feed_store_get_stats(const struct vuln_feed_store *s, struct vuln_feed_store_stats *out)
{
    *out = s->st;
}

const char *vuln_feed_store_error(const struct vuln_feed_store *s)
{
    return s->err;
}

void vuln_feed_store_free(struct vuln_feed_store *s)
{
    if (!s)
        return;
    if (s->in_txn)
        db_rollback(s->db);
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    db_vuln_close(s->dv);
    free(s);
}
