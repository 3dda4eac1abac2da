/* feed.c — the feed framework: defaults, the sync of every enabled feed,
 * and what fetchers share: GET with rate limit and retries, state, and
 * delivery to the sink.
 *
 * One request's life in feed_get:
 *   wait for the rate limit ─► send ─► 2xx/304 (or an accepted status): done
 *                                  ├─► no answer, 429, 5xx, GitHub's 403 at
 *                                  │   rate limit 0: wait (Retry-After, the
 *                                  │   reset time, or backoff) and send again,
 *                                  │   at most max_retries times
 *                                  └─► another status: failed
 * Every wait is checked against the feed's deadline first: a feed never
 * sleeps past its time budget. */
#include "vuln/feed_internal.h"

#include "lib/buf.h"
#include "lib/timeutil.h"
#include "notify/http_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const names[FEED_COUNT] = {"osv", "nvd", "ghsa", "jvn", "kev", "epss"};
static const char *const urls[FEED_COUNT] = {"https://osv-vulnerabilities.storage.googleapis.com",
                                             "https://services.nvd.nist.gov",
                                             "https://api.github.com",
                                             "https://jvndb.jvn.jp",
                                             "https://www.cisa.gov",
                                             "https://epss.cyentia.com"};

typedef kb_err (*feed_sync_fn)(struct feed_run *r, struct kb_why *why);
/* The fetchers, in sync order; adding a feed is adding a file and a line. */
static const feed_sync_fn fetchers[FEED_COUNT] = {feed_osv_sync, feed_nvd_sync, feed_ghsa_sync,
                                                  feed_jvn_sync, feed_kev_sync, feed_epss_sync};

const char *feed_name(enum feed_id id)
{
    return (unsigned)id < FEED_COUNT ? names[id] : NULL;
}

kb_err feed_parse_name(const char *name, enum feed_id *out)
{
    for (int i = 0; i < FEED_COUNT; i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = (enum feed_id)i;
            return KB_OK;
        }
    return KB_ENOTFOUND;
}

const char *feed_default_url(enum feed_id id)
{
    return (unsigned)id < FEED_COUNT ? urls[id] : NULL;
}

void feed_config_defaults(struct feed_config *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < FEED_COUNT; i++)
        c->feed[i].enabled = true;
}

#define DAY_MS (24LL * 3600 * 1000)

/* Fills the zeros of o with feed id's defaults. */
static void apply_defaults(enum feed_id id, struct feed_opts *o)
{
    bool key = o->api_key && o->api_key[0];
    if (!o->base_url || !o->base_url[0])
        o->base_url = urls[id];
    if (o->page_size <= 0)
        o->page_size = id == FEED_NVD ? 2000 : id == FEED_GHSA ? 100 : 50;
    if (o->rate_count <= 0)
        o->rate_count = id == FEED_NVD ? (key ? 50 : 5) : id == FEED_GHSA ? (key ? 5000 : 60) : 10;
    if (o->rate_count > FEED_RATE_MAX)
        o->rate_count = FEED_RATE_MAX;
    if (o->rate_window_ms <= 0)
        o->rate_window_ms = id == FEED_NVD ? 30000 : id == FEED_GHSA ? 3600000 : 1000;
    if (o->connect_timeout_ms <= 0)
        o->connect_timeout_ms = 10000;
    if (o->timeout_ms <= 0)
        o->timeout_ms = id == FEED_OSV ? 600000 : 120000;
    if (!o->max_body)
        o->max_body = id == FEED_OSV ? FEED_MAX_BODY : 64u << 20;
    if (o->max_body > FEED_MAX_BODY)
        o->max_body = FEED_MAX_BODY;
    if (o->max_retries <= 0)
        o->max_retries = 4;
    if (o->max_retries > 20)
        o->max_retries = 20;
    if (o->backoff_ms <= 0)
        o->backoff_ms = 1000;
    if (o->backoff_max_ms <= 0)
        o->backoff_max_ms = 60000;
    if (o->max_time_ms <= 0)
        o->max_time_ms = 6LL * 3600 * 1000;
    if (o->max_requests <= 0)
        o->max_requests = 200000;
    if (o->window_ms <= 0 || (id == FEED_NVD && o->window_ms > 120 * DAY_MS))
        o->window_ms = id == FEED_NVD ? 120 * DAY_MS : 30 * DAY_MS;
    if (o->since_ms <= 0 && id != FEED_GHSA)
        o->since_ms = kb_days_from_civil(1999, 1, 1) * DAY_MS;
    if (!o->lang || !o->lang[0])
        o->lang = "en";
}

/* Sleeps ms (bounded by the caller). */
static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

bool feed_over_budget(struct feed_run *r, struct kb_why *why)
{
    if (kb_mono_ns() > r->deadline_ns) {
        kb_fail(why, KB_ETIMEOUT, "%s: sync took longer than %lld s", r->name,
                (long long)(r->o.max_time_ms / 1000));
        return true;
    }
    if (r->res->requests >= r->o.max_requests) {
        kb_fail(why, KB_ETOOBIG, "%s: more than %lld requests in one sync", r->name,
                (long long)r->o.max_requests);
        return true;
    }
    return false;
}

/* Waits until one more request fits the rate limit; false when that wait
 * would pass the deadline. */
static bool rate_wait(struct feed_run *r)
{
    size_t cap = (size_t)r->o.rate_count;
    if (r->sent_n == cap) {
        int64_t oldest = r->sent_ns[r->sent_at];
        int64_t until = oldest + r->o.rate_window_ms * 1000000;
        int64_t now = kb_mono_ns();
        if (until > now) {
            if (until > r->deadline_ns)
                return false;
            sleep_ms((until - now) / 1000000 + 1);
        }
    }
    r->sent_ns[r->sent_at] = kb_mono_ns();
    r->sent_at = (r->sent_at + 1) % cap;
    if (r->sent_n < cap)
        r->sent_n++;
    return true;
}

static bool status_in(long st, const long *ok)
{
    for (size_t i = 0; ok && ok[i] && i < 16; i++)
        if (ok[i] == st)
            return true;
    return false;
}

kb_err feed_catalog_sync(struct feed_run *r, const char *path,
                         kb_err (*body)(struct feed_run *r, const char *body, size_t len,
                                        struct kb_why *why),
                         const int64_t *done, struct kb_why *why)
{
    char etag[FEED_STATE_MAX], lm[FEED_STATE_MAX], h1[FEED_STATE_MAX + 32], h2[FEED_STATE_MAX + 32],
        url[RECV_URL_MAX];
    const char *hdr[2];
    size_t nh = 0;
    if (feed_state_get(r, "etag", etag, sizeof etag)) {
        snprintf(h1, sizeof h1, "If-None-Match: %s", etag);
        hdr[nh++] = h1;
    }
    if (feed_state_get(r, "last_modified", lm, sizeof lm)) {
        snprintf(h2, sizeof h2, "If-Modified-Since: %s", lm);
        hdr[nh++] = h2;
    }
    if ((size_t)snprintf(url, sizeof url, "%s%s", r->o.base_url, path) >= sizeof url)
        return kb_fail(why, KB_ETOOBIG, "%s: URL too long", r->name);
    struct recv_response resp;
    kb_err e = feed_get(r, url, hdr, nh, NULL, &resp, why);
    if (e != KB_OK)
        return e;
    if (resp.status == 304) {
        r->res->not_modified = true;
        return KB_OK;
    }
    /* Copied: the sink's state_set may not touch the client, but the
     * values must outlive the parse. */
    snprintf(etag, sizeof etag, "%s", resp.etag ? resp.etag : "");
    snprintf(lm, sizeof lm, "%s", resp.last_modified ? resp.last_modified : "");
    if ((e = body(r, resp.body.p, resp.body.n, why)) != KB_OK)
        return e;
    feed_progress(r, *done, *done);
    if ((e = feed_state_set(r, "etag", etag[0] ? etag : NULL, why)) != KB_OK)
        return e;
    return feed_state_set(r, "last_modified", lm[0] ? lm : NULL, why);
}

kb_err feed_get(struct feed_run *r, const char *url, const char *const *headers, size_t nh,
                const long *ok_status, struct recv_response *resp, struct kb_why *why)
{
    struct recv_request req = {.method = "GET"};
    kb_err e = KB_OK;
    if (strlen(url) >= sizeof req.url)
        return kb_fail(why, KB_ETOOBIG, "%s: URL longer than %zu bytes", r->name, sizeof req.url);
    snprintf(req.url, sizeof req.url, "%s", url);
    for (size_t i = 0; i < nh && e == KB_OK; i++)
        e = recv_request_header(&req, "%s", headers[i]);
    if (e != KB_OK) {
        recv_request_release(&req);
        return kb_fail(why, e, "%s: too many request headers", r->name);
    }
    char last[320] = "";
    for (int attempt = 0;; attempt++) {
        if (feed_over_budget(r, why)) {
            e = KB_ETIMEOUT;
            break;
        }
        if (!rate_wait(r)) {
            e = kb_fail(why, KB_ETIMEOUT, "%s: the rate limit leaves no time for GET %s", r->name,
                        url);
            break;
        }
        r->res->requests++;
        http_client_send(r->http, &req, resp, NULL);
        long st = resp->status;
        if ((st >= 200 && st < 300) || st == 304 || status_in(st, ok_status)) {
            if (resp->body_cut)
                e = kb_fail(why, KB_ETOOBIG, "%s: answer over %zu bytes: GET %s", r->name,
                            r->o.max_body, url);
            break;
        }
        bool limited = st == 403 && resp->ratelimit_remaining == 0;
        if (st == 0)
            snprintf(last, sizeof last, "%s", resp->err ? resp->err : "no answer");
        else
            snprintf(last, sizeof last, "HTTP %ld", st);
        if (st != 0 && st != 429 && st < 500 && !limited) {
            e = kb_fail(why, KB_EIO, "%s: %s: GET %s", r->name, last, url);
            break;
        }
        if (attempt >= r->o.max_retries) {
            /* The reason first: the URL may not fit. */
            e = kb_fail(why, KB_EIO, "%s: after %d tries: %s: GET %s", r->name, attempt + 1, last,
                        url);
            break;
        }
        int64_t delay = r->o.backoff_ms;
        for (int i = 0; i < attempt && delay < r->o.backoff_max_ms; i++)
            delay *= 2;
        delay = KB_MIN(delay, r->o.backoff_max_ms);
        if (resp->retry_after_ms >= 0)
            delay = resp->retry_after_ms;
        else if (limited && resp->ratelimit_reset_ms > 0)
            delay = KB_MAX(resp->ratelimit_reset_ms - kb_now_ms(), 0) + 1000;
        if (delay > r->o.backoff_max_ms) {
            e = kb_fail(why, KB_EIO, "%s: %s, asked to wait %lld s (over %lld s): GET %s", r->name,
                        last, (long long)(delay / 1000), (long long)(r->o.backoff_max_ms / 1000),
                        url);
            break;
        }
        if (kb_mono_ns() + delay * 1000000 > r->deadline_ns) {
            e = kb_fail(why, KB_ETIMEOUT, "%s: %s, no time left to retry: GET %s", r->name, last,
                        url);
            break;
        }
        feed_warn(r, "%s; retrying in %lld ms: GET %s", last, (long long)delay, url);
        sleep_ms(delay);
    }
    recv_request_release(&req);
    return e;
}

bool feed_state_get(struct feed_run *r, const char *key, char *out, size_t outsz)
{
    out[0] = '\0';
    if (!r->sink->state_get)
        return false;
    char v[FEED_STATE_MAX];
    if (r->sink->state_get(r->sink->ctx, r->name, key, v, sizeof v) != KB_OK || !v[0])
        return false;
    snprintf(out, outsz, "%s", v);
    return true;
}

kb_err feed_state_set(struct feed_run *r, const char *key, const char *value, struct kb_why *why)
{
    if (!r->sink->state_set)
        return KB_OK;
    kb_err e = r->sink->state_set(r->sink->ctx, r->name, key, value);
    if (e != KB_OK)
        return kb_fail(why, e, "%s: cannot store state %s: %s", r->name, key, kb_strerror(e));
    return KB_OK;
}

kb_err feed_deliver(struct feed_run *r, const char *id, const char *json, size_t len,
                    struct kb_why *why)
{
    kb_err e = r->sink->advisory(r->sink->ctx, r->name, id, json, len);
    if (e != KB_OK)
        return kb_fail(why, e, "%s: %s: the sink failed: %s", r->name, id, kb_strerror(e));
    r->res->advisories++;
    return KB_OK;
}

kb_err feed_deliver_cb(void *ctx, const char *id, const char *osv_json, size_t len)
{
    struct feed_run *r = ctx;
    return feed_deliver(r, id, osv_json, len, &r->cb_why);
}

void feed_skip_cb(void *ctx, const char *where, const char *why)
{
    feed_warn(ctx, "%s: skipped: %s", where, why);
}

void feed_warn(struct feed_run *r, const char *fmt, ...)
{
    if (!r->sink->warn)
        return;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->sink->warn(r->sink->ctx, r->name, msg);
}

void feed_progress(struct feed_run *r, int64_t done, int64_t total)
{
    if (r->sink->progress)
        r->sink->progress(r->sink->ctx, r->name, done, total);
}

/* The order feeds sync in: EPSS first, so that the alerts the advisories
 * of the same sync cause carry the day's scores (the engine reads them
 * when it writes an alert); the others by id. */
static const enum feed_id sync_order[FEED_COUNT] = {FEED_EPSS, FEED_OSV, FEED_NVD,
                                                    FEED_GHSA, FEED_JVN, FEED_KEV};

kb_err feed_sync(const struct feed_config *c, const struct feed_sink *sink,
                 struct feed_result res[FEED_COUNT], struct kb_why *why)
{
    kb_err first = KB_OK;
    for (int i = 0; i < FEED_COUNT; i++)
        memset(&res[i], 0, sizeof res[i]);
    for (int k = 0; k < FEED_COUNT; k++) {
        int i = (int)sync_order[k];
        if (!c->feed[i].enabled)
            continue;
        res[i].ran = true;
        struct feed_run r = {
            .id = (enum feed_id)i, .name = names[i], .o = c->feed[i], .sink = sink, .res = &res[i]};
        apply_defaults(r.id, &r.o);
        r.deadline_ns = kb_mono_ns() + r.o.max_time_ms * 1000000;
        r.sent_ns = kb_calloc((size_t)r.o.rate_count, sizeof *r.sent_ns);
        struct http_client_opts ho = {.connect_timeout_ms = r.o.connect_timeout_ms,
                                      .timeout_ms = r.o.timeout_ms,
                                      .max_body = r.o.max_body};
        struct kb_why w = {{0}};
        kb_err e = http_client_new(&ho, &r.http);
        if (e != KB_OK)
            kb_fail(&w, e, "%s: cannot start the HTTP client", r.name);
        else
            e = fetchers[i](&r, &w);
        http_client_free(r.http);
        free(r.sent_ns);
        res[i].err = e;
        if (e != KB_OK)
            snprintf(res[i].msg, sizeof res[i].msg, "%s", w.msg[0] ? w.msg : kb_strerror(e));
    }
    for (int i = 0; i < FEED_COUNT && first == KB_OK; i++)
        if (res[i].ran && res[i].err != KB_OK) {
            first = res[i].err;
            kb_fail(why, first, "%s", res[i].msg);
        }
    return first;
}
