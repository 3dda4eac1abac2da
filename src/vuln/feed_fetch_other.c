/* feed_fetch_other.c — the GitHub advisory, JVN and KEV feeds.
 *
 * GHSA:  GET {base}/advisories?per_page=P&sort=updated&direction=asc
 *            [&updated=>=CURSOR]      (Authorization: Bearer TOKEN when set;
 *                                      no cursor yet: since_ms, when given)
 *        then the Link rel="next" URL, page after page; after each page the
 *        cursor is its newest updated_at (asked again with >=: never missed).
 * JVN:   per window of days [d0, d1] from the cursor (or since) to today:
 *          GET {base}/myjvn?method=getVulnOverviewList&feed=hnd&...
 *              &datePublishedStartY/M/D=d0&datePublishedEndY/M/D=d1
 *              &startItem=N&maxCountItem=P         (N from 1, page by page)
 *          GET {base}/myjvn?method=getVulnDetailInfo&feed=hnd&vulnId=A+B+..
 *              (10 ids per request) for the ids listed
 *        cursor := d1 once the window is delivered (dates include both
 *        ends: the last day is asked again next time).
 * KEV:   GET {base}/feeds/known_exploited_vulnerabilities.json with
 *        If-None-Match / If-Modified-Since from the state; 304: nothing to
 *        do; 200: the whole catalog, then the new ETag and Last-Modified. */
#include "vuln/feed_internal.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GHSA_MAX_PAGES 100000
#define JVN_MAX_WINDOWS 2000
#define JVN_MAX_IDS 100000 /* ids of one window */
#define JVN_DETAIL_BATCH 10
#define DAY_MS (24LL * 3600 * 1000)

/* ---- GHSA ---- */

/* The newest "updated_at" of a page (out: "" when none). */
static void ghsa_newest(const char *body, size_t len, char *out, size_t outsz)
{
    out[0] = '\0';
    struct arena a = ARENA_INIT(256u << 20);
    struct json_value *root = NULL;
    int64_t best = -1;
    if (json_parse(body, len, NULL, &a, &root, NULL) == KB_OK && root->type == JSON_ARRAY)
        for (const struct json_value *v = root->u.child; v; v = v->next) {
            struct kb_str s = json_str(json_get(v, "updated_at"));
            int64_t ms;
            if (s.p && s.n < outsz && kb_time_parse_rfc3339(s, &ms) == KB_OK && ms > best) {
                best = ms;
                memcpy(out, s.p, s.n);
                out[s.n] = '\0';
            }
        }
    arena_release(&a);
}

/* The rel="next" URL of a Link header into out; false when none. */
static bool link_next(const char *link, char *out, size_t outsz)
{
    for (const char *p = link; p && *p;) {
        const char *lt = strchr(p, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        if (!gt)
            return false;
        const char *comma = strchr(gt, ',');
        size_t plen = comma ? (size_t)(comma - gt) : strlen(gt);
        char params[256];
        snprintf(params, sizeof params, "%.*s", (int)KB_MIN(plen, sizeof params - 1), gt);
        if (strstr(params, "rel=\"next\"") || strstr(params, "rel=next")) {
            size_t n = (size_t)(gt - lt - 1);
            if (n >= outsz)
                return false;
            memcpy(out, lt + 1, n);
            out[n] = '\0';
            return true;
        }
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

kb_err feed_ghsa_sync(struct feed_run *r, struct kb_why *why)
{
    char cur[FEED_STATE_MAX], auth[FEED_STATE_MAX + 32], url[RECV_URL_MAX];
    const char *hdr[3] = {"Accept: application/vnd.github+json", "X-GitHub-Api-Version: 2022-11-28",
                          auth};
    size_t nh = 2;
    if (r->o.api_key && r->o.api_key[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->o.api_key);
        nh = 3;
    }
    struct buf u = BUF_INIT(RECV_URL_MAX);
    kb_err e = buf_printf(&u, "%s/advisories?per_page=%d&sort=updated&direction=asc", r->o.base_url,
                          r->o.page_size);
    bool have = feed_state_get(r, "updated", cur, sizeof cur);
    if (!have && r->o.since_ms > 0) {
        char t[32];
        kb_time_format(r->o.since_ms, t);
        snprintf(cur, sizeof cur, "%.19sZ", t); /* GitHub's form: no fraction */
        have = true;
    }
    if (e == KB_OK && have) {
        e = buf_puts(&u, "&updated=");
        if (e == KB_OK)
            e = buf_url_escape(&u, ">=", 2);
        if (e == KB_OK)
            e = buf_url_escape(&u, cur, strlen(cur));
    }
    if (e != KB_OK) {
        buf_release(&u);
        return kb_fail(why, e, "%s: URL too long", r->name);
    }
    snprintf(url, sizeof url, "%s", u.p);
    buf_release(&u);
    size_t base_len = strlen(r->o.base_url);
    for (int page = 0;; page++) {
        if (page >= GHSA_MAX_PAGES)
            return kb_fail(why, KB_ETOOBIG, "%s: more than %d pages", r->name, GHSA_MAX_PAGES);
        struct recv_response resp;
        if ((e = feed_get(r, url, hdr, nh, NULL, &resp, why)) != KB_OK)
            return e;
        char newest[64];
        ghsa_newest(resp.body.p, resp.body.n, newest, sizeof newest);
        r->cb_why.msg[0] = '\0';
        e = feed_ghsa_page(resp.body.p, resp.body.n, feed_deliver_cb, feed_skip_cb, r, why);
        if (e != KB_OK) {
            if (r->cb_why.msg[0])
                *why = r->cb_why;
            return e;
        }
        if (newest[0] && (e = feed_state_set(r, "updated", newest, why)) != KB_OK)
            return e;
        feed_progress(r, r->res->advisories, -1);
        char next[RECV_URL_MAX];
        if (!resp.link || !link_next(resp.link, next, sizeof next))
            break;
        /* The token goes only where the base URL points. */
        if (strncmp(next, r->o.base_url, base_len) != 0 || next[base_len] != '/') {
            feed_warn(r, "Link next %s is outside %s: not followed", next, r->o.base_url);
            break;
        }
        snprintf(url, sizeof url, "%s", next);
    }
    return KB_OK;
}

/* ---- JVN ---- */

struct jvn_ids {
    char **v;
    size_t n;
    struct feed_run *r;
};

static kb_err jvn_id(void *ctx, const char *id, int64_t modified_ms)
{
    struct jvn_ids *ids = ctx;
    if (ids->n >= JVN_MAX_IDS)
        return KB_ETOOBIG;
    if (!id || !id[0] || strlen(id) > 64) {
        feed_warn(ids->r, "an overview entry without a usable id was skipped");
        return KB_OK;
    }
    if (ids->n % 256 == 0)
        ids->v = kb_realloc(ids->v, (ids->n + 256) * sizeof *ids->v);
    ids->v[ids->n++] = kb_strdup(id);
    return KB_OK;
}

static void ymd(int64_t ms, int *y, int *m, int *d)
{
    char t[32];
    kb_time_format(ms, t);
    *y = (int)strtol(t, NULL, 10);
    *m = (int)strtol(t + 5, NULL, 10);
    *d = (int)strtol(t + 8, NULL, 10);
}

/* Details of ids[from, from+n) delivered. */
static kb_err jvn_details(struct feed_run *r, char **ids, size_t n, struct kb_why *why)
{
    struct buf u = BUF_INIT(RECV_URL_MAX);
    kb_err e = buf_printf(
        &u, "%s/myjvn?method=getVulnDetailInfo&feed=hnd&lang=%s&vulnId=", r->o.base_url, r->o.lang);
    for (size_t i = 0; i < n && e == KB_OK; i++) {
        if (i)
            e = buf_putc(&u, '+');
        if (e == KB_OK)
            e = buf_url_escape(&u, ids[i], strlen(ids[i]));
    }
    struct recv_response resp;
    if (e == KB_OK)
        e = feed_get(r, u.p, NULL, 0, NULL, &resp, why);
    buf_release(&u);
    if (e != KB_OK)
        return e;
    r->cb_why.msg[0] = '\0';
    e = feed_jvn_detail(resp.body.p, resp.body.n, feed_deliver_cb, feed_skip_cb, r, why);
    if (e != KB_OK && r->cb_why.msg[0])
        *why = r->cb_why;
    return e;
}

static kb_err jvn_window(struct feed_run *r, int64_t d0, int64_t d1, struct kb_why *why)
{
    int y0, m0, dd0, y1, m1, dd1;
    ymd(d0, &y0, &m0, &dd0);
    ymd(d1, &y1, &m1, &dd1);
    struct jvn_ids ids = {.r = r};
    struct buf u = BUF_INIT(RECV_URL_MAX);
    kb_err e = KB_OK;
    int64_t start = 1;
    for (;;) {
        buf_reset(&u);
        e = buf_printf(&u,
                       "%s/myjvn?method=getVulnOverviewList&feed=hnd&lang=%s"
                       "&rangeDatePublic=n&rangeDatePublished=n&rangeDateFirstPublished=n"
                       "&datePublishedStartY=%d&datePublishedStartM=%d&datePublishedStartD=%d"
                       "&datePublishedEndY=%d&datePublishedEndM=%d&datePublishedEndD=%d"
                       "&startItem=%lld&maxCountItem=%d",
                       r->o.base_url, r->o.lang, y0, m0, dd0, y1, m1, dd1, (long long)start,
                       r->o.page_size);
        struct recv_response resp;
        if (e == KB_OK)
            e = feed_get(r, u.p, NULL, 0, NULL, &resp, why);
        if (e != KB_OK)
            break;
        struct feed_page_info info = {0};
        e = feed_jvn_overview(resp.body.p, resp.body.n, jvn_id, &ids, &info, why);
        if (e != KB_OK)
            break;
        if (info.count <= 0)
            break;
        start += info.count;
        if (start > info.total)
            break;
        if (feed_over_budget(r, why)) {
            e = KB_ETIMEOUT;
            break;
        }
    }
    buf_release(&u);
    for (size_t i = 0; i < ids.n && e == KB_OK; i += JVN_DETAIL_BATCH) {
        e = jvn_details(r, ids.v + i, KB_MIN(ids.n - i, (size_t)JVN_DETAIL_BATCH), why);
        feed_progress(r, (int64_t)KB_MIN(i + JVN_DETAIL_BATCH, ids.n), (int64_t)ids.n);
    }
    for (size_t i = 0; i < ids.n; i++)
        free(ids.v[i]);
    free(ids.v);
    return e;
}

kb_err feed_jvn_sync(struct feed_run *r, struct kb_why *why)
{
    char cur[FEED_STATE_MAX];
    int64_t from = r->o.since_ms;
    if (feed_state_get(r, "updated", cur, sizeof cur) &&
        kb_time_parse_rfc3339(kb_str_c(cur), &from) != KB_OK) {
        feed_warn(r, "state updated is not a time (%s): starting from since", cur);
        from = r->o.since_ms;
    }
    from -= from % DAY_MS;
    int64_t today = kb_now_ms();
    today -= today % DAY_MS;
    int64_t span = KB_MAX(r->o.window_ms / DAY_MS, 1) * DAY_MS;
    for (int w = 0; from <= today; w++) {
        if (w >= JVN_MAX_WINDOWS)
            return kb_fail(why, KB_ETOOBIG, "%s: more than %d windows", r->name, JVN_MAX_WINDOWS);
        int64_t last = KB_MIN(from + span - DAY_MS, today);
        kb_err e = jvn_window(r, from, last, why);
        if (e != KB_OK)
            return e;
        char t[32];
        kb_time_format(last, t);
        if ((e = feed_state_set(r, "updated", t, why)) != KB_OK)
            return e;
        from = last + DAY_MS;
    }
    return KB_OK;
}

/* ---- KEV ---- */

struct kev_walk {
    struct feed_run *r;
    kb_err sink_err;
};

static kb_err kev_entry(void *ctx, const struct feed_kev *k)
{
    struct kev_walk *w = ctx;
    kb_err e = w->r->sink->kev ? w->r->sink->kev(w->r->sink->ctx, k) : KB_OK;
    if (e != KB_OK)
        w->sink_err = e;
    else
        w->r->res->kev++;
    return e;
}

static void kev_skip(void *ctx, const char *where, const char *why)
{
    struct kev_walk *w = ctx;
    feed_skip_cb(w->r, where, why);
}

kb_err feed_kev_body(struct feed_run *r, const char *body, size_t len, struct kb_why *why)
{
    const struct feed_sink *s = r->sink;
    kb_err e = s->kev_begin ? s->kev_begin(s->ctx) : KB_OK;
    if (e != KB_OK)
        return kb_fail(why, e, "%s: the sink failed: %s", r->name, kb_strerror(e));
    struct kev_walk w = {.r = r};
    int64_t count = 0;
    e = feed_kev_parse(body, len, kev_entry, kev_skip, &w, &count, why);
    if (e != KB_OK && w.sink_err != KB_OK)
        kb_fail(why, e, "%s: the sink failed: %s", r->name, kb_strerror(e));
    kb_err e2 = s->kev_end ? s->kev_end(s->ctx, e == KB_OK) : KB_OK;
    if (e == KB_OK && e2 != KB_OK)
        e = kb_fail(why, e2, "%s: the sink failed: %s", r->name, kb_strerror(e2));
    return e;
}

kb_err feed_kev_sync(struct feed_run *r, struct kb_why *why)
{
    return feed_catalog_sync(r, "/feeds/known_exploited_vulnerabilities.json", feed_kev_body,
                             &r->res->kev, why);
}
