/* feed_epss.c — FIRST's EPSS scores: the daily CSV (gzip or plain) into
 * one struct feed_epss per row (feed_convert.h), and the feed's fetch:
 *
 * EPSS:  GET {base}/epss_scores-current.csv.gz with If-None-Match /
 *        If-Modified-Since from the state; 304: nothing to do; 200: the
 *        whole file (epss_begin, a score per row, epss_end), then the new
 *        ETag and Last-Modified, as KEV does. */
#include "vuln/feed_internal.h"
#include "vuln/feed_util.h"

#include "lib/buf.h"
#include "lib/inflate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the CSV ---- */

/* "CVE-YYYY-N{4,}" */
static bool epss_cve_ok(struct kb_str s)
{
    if (s.n < 13 || s.n > 30 || memcmp(s.p, "CVE-", 4) != 0 || s.p[8] != '-')
        return false;
    for (size_t i = 4; i < s.n; i++)
        if (i != 8 && (s.p[i] < '0' || s.p[i] > '9'))
            return false;
    return true;
}

/* A decimal number in [0, 1] ("0.97234", "1.0", "4.3e-05"). */
static bool epss_num(struct kb_str s, double *out)
{
    char t[40];
    if (s.n == 0 || s.n >= sizeof t)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!strchr("0123456789.eE+-", s.p[i]))
            return false;
    if (s.p[0] < '0' || s.p[0] > '9') /* no sign, no ".5" */
        return false;
    memcpy(t, s.p, s.n);
    t[s.n] = '\0';
    char *end = NULL;
    double v = strtod(t, &end);
    if (end != t + s.n || !isfinite(v) || v < 0 || v > 1)
        return false;
    *out = v;
    return true;
}

/* The score date of "#model_version:...,score_date:2024-03-01T00:00:00+0000"
 * (0 when the comment has none or it is not a date). */
static int64_t epss_comment_date(struct kb_str line)
{
    static const char key[] = "score_date:";
    for (size_t i = 0; i + sizeof key - 1 + 10 <= line.n; i++)
        if (memcmp(line.p + i, key, sizeof key - 1) == 0) {
            int64_t ms;
            struct kb_str d = {line.p + i + sizeof key - 1, 10};
            return feed_date(d, &ms) == KB_OK ? ms : 0;
        }
    return 0;
}

/* Splits line at commas into f[0..2]; false unless exactly three. */
static bool epss_split(struct kb_str line, struct kb_str f[3])
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= line.n; i++)
        if (i == line.n || line.p[i] == ',') {
            if (k == 3)
                return false;
            f[k++] = (struct kb_str){line.p + start, i - start};
            start = i + 1;
        }
    return k == 3;
}

struct epss_walk {
    feed_epss_fn fn;
    feed_skip_fn skip;
    void *ctx;
    int64_t n, date_ms;
};

static void epss_skip(struct epss_walk *w, size_t lineno, const char *why)
{
    if (w->skip) {
        char at[32];
        snprintf(at, sizeof at, "line %zu", lineno);
        w->skip(w->ctx, at, why);
    }
}

static kb_err epss_lines(struct epss_walk *w, const char *p, size_t len, struct kb_why *why)
{
    size_t lineno = 0;
    bool header = false;
    size_t start = len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0; /* a UTF-8 BOM */
    for (size_t off = start; off < len;) {
        const char *nl = memchr(p + off, '\n', len - off);
        struct kb_str line = {p + off, nl ? (size_t)(nl - (p + off)) : len - off};
        off += line.n + (nl ? 1 : 0);
        lineno++;
        if (line.n && line.p[line.n - 1] == '\r')
            line.n--;
        if (line.n > FEED_EPSS_MAX_LINE)
            return kb_fail(why, KB_EINVAL, "line %zu: longer than %d bytes", lineno,
                           FEED_EPSS_MAX_LINE);
        if (!header) {
            if (line.n && line.p[0] == '#' && lineno == 1) {
                w->date_ms = epss_comment_date(line);
                continue;
            }
            if (!kb_str_eq(line, "cve,epss,percentile"))
                return kb_fail(why, KB_EINVAL, "line %zu: not the header cve,epss,percentile",
                               lineno);
            header = true;
            continue;
        }
        if (line.n == 0)
            continue;
        struct kb_str f[3];
        struct feed_epss s = {.date_ms = w->date_ms};
        if (!epss_split(line, f)) {
            epss_skip(w, lineno, "not three comma-separated fields");
            continue;
        }
        if (!epss_cve_ok(f[0])) {
            epss_skip(w, lineno, "not a CVE id");
            continue;
        }
        if (!epss_num(f[1], &s.score) || !epss_num(f[2], &s.percentile)) {
            epss_skip(w, lineno, "score or percentile is not a number from 0 to 1");
            continue;
        }
        if (w->n >= (int64_t)FEED_EPSS_MAX_ROWS)
            return kb_fail(why, KB_ETOOBIG, "more than %u rows", FEED_EPSS_MAX_ROWS);
        char cve[32];
        memcpy(cve, f[0].p, f[0].n);
        cve[f[0].n] = '\0';
        s.cve = cve;
        kb_err e = w->fn(w->ctx, &s);
        if (e)
            return kb_fail(why, e, "line %zu %s: the callback failed (%s)", lineno, cve,
                           kb_strerror(e));
        w->n++;
    }
    if (!header)
        return kb_fail(why, KB_EINVAL, "no header cve,epss,percentile");
    return KB_OK;
}

kb_err feed_epss_parse(const char *body, size_t len, feed_epss_fn fn, feed_skip_fn skip, void *ctx,
                       int64_t *count, int64_t *date_ms, struct kb_why *why)
{
    struct epss_walk w = {.fn = fn, .skip = skip, .ctx = ctx};
    kb_err e = KB_OK;
    if (!fn)
        e = kb_fail(why, KB_EINVAL, "no callback");
    else if (len > FEED_MAX_BODY)
        e = kb_fail(why, KB_ETOOBIG, "body over %u bytes", FEED_MAX_BODY);
    else if (inflate_is_gzip(body, len)) {
        struct buf plain = BUF_INIT(FEED_MAX_BODY);
        e = inflate_all(body, len, FEED_MAX_BODY, &plain, why);
        if (!e)
            e = epss_lines(&w, plain.p ? plain.p : "", plain.len, why);
        buf_release(&plain);
    } else {
        e = epss_lines(&w, body ? body : "", body ? len : 0, why);
    }
    if (count)
        *count = w.n;
    if (date_ms)
        *date_ms = w.date_ms;
    return e;
}

/* ---- the feed ---- */

struct epss_deliver {
    struct feed_run *r;
    kb_err sink_err;
};

static kb_err epss_entry(void *ctx, const struct feed_epss *s)
{
    struct epss_deliver *d = ctx;
    kb_err e = d->r->sink->epss ? d->r->sink->epss(d->r->sink->ctx, s) : KB_OK;
    if (e != KB_OK)
        d->sink_err = e;
    else
        d->r->res->epss++;
    return e;
}

static void epss_skip_cb(void *ctx, const char *where, const char *why)
{
    struct epss_deliver *d = ctx;
    feed_skip_cb(d->r, where, why);
}

kb_err feed_epss_body(struct feed_run *r, const char *body, size_t len, struct kb_why *why)
{
    const struct feed_sink *s = r->sink;
    kb_err e = s->epss_begin ? s->epss_begin(s->ctx) : KB_OK;
    if (e != KB_OK)
        return kb_fail(why, e, "%s: the sink failed: %s", r->name, kb_strerror(e));
    struct epss_deliver d = {.r = r};
    e = feed_epss_parse(body, len, epss_entry, epss_skip_cb, &d, NULL, NULL, why);
    if (e != KB_OK && d.sink_err != KB_OK)
        kb_fail(why, e, "%s: the sink failed: %s", r->name, kb_strerror(e));
    else if (e != KB_OK) {
        char msg[sizeof why->msg];
        snprintf(msg, sizeof msg, "%s", why->msg);
        kb_fail(why, e, "%s: %s", r->name, msg);
    }
    kb_err e2 = s->epss_end ? s->epss_end(s->ctx, e == KB_OK) : KB_OK;
    if (e == KB_OK && e2 != KB_OK)
        e = kb_fail(why, e2, "%s: the sink failed: %s", r->name, kb_strerror(e2));
    return e;
}

kb_err feed_epss_sync(struct feed_run *r, struct kb_why *why)
{
    return feed_catalog_sync(r, "/epss_scores-current.csv.gz", feed_epss_body,
                             &r->res->epss, why);
}
