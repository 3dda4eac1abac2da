/*
 * check_feed.h — one fuzz input through the advisory feed converters
 * (vuln/feed_convert.h), shared by fuzz/fuzz_feed.c and the unit-test
 * smoke run. The first byte chooses the converter (modulo FZ_FEED_COUNT):
 * 0 feed_nvd_page, 1 feed_ghsa_page, 2 feed_jvn_overview, 3 feed_jvn_detail,
 * 4 feed_kev_parse, 5 feed_epss_parse; the rest is the body. Every call must return KB_OK or
 * an error with a message; every string handed to a callback is read in
 * full (ASan sees a short or dangling one).
 */
#ifndef KOBAN_FUZZ_CHECK_FEED_H
#define KOBAN_FUZZ_CHECK_FEED_H

#include "check.h"
#include "vuln/feed_convert.h"

enum { FZ_NVD, FZ_GHSA, FZ_JVN_OVERVIEW, FZ_JVN_DETAIL, FZ_KEV, FZ_EPSS, FZ_FEED_COUNT };

struct fz_feed {
    unsigned sum;
    const char *bad; /* set by a callback given something wrong */
};

static inline kb_err fz_feed_adv(void *ctx, const char *id, const char *json, size_t len)
{
    struct fz_feed *f = ctx;
    if (!id || !json)
        f->bad = "advisory without id or text";
    fz_touch(&f->sum, id);
    fz_touchn(&f->sum, json, len);
    return KB_OK;
}

static inline void fz_feed_skip(void *ctx, const char *where, const char *why)
{
    struct fz_feed *f = ctx;
    if (!why || !why[0])
        f->bad = "skip without a reason";
    fz_touch(&f->sum, where);
    fz_touch(&f->sum, why);
}

static inline kb_err fz_feed_jvn_id(void *ctx, const char *id, int64_t modified_ms)
{
    struct fz_feed *f = ctx;
    fz_touch(&f->sum, id);
    f->sum += (unsigned)modified_ms;
    return KB_OK;
}

static inline kb_err fz_feed_kev(void *ctx, const struct feed_kev *k)
{
    struct fz_feed *f = ctx;
    if (!k->cve)
        f->bad = "KEV entry without a CVE";
    fz_touch(&f->sum, k->cve);
    fz_touch(&f->sum, k->vendor);
    fz_touch(&f->sum, k->product);
    fz_touch(&f->sum, k->name);
    return KB_OK;
}

static inline kb_err fz_feed_epss(void *ctx, const struct feed_epss *x)
{
    struct fz_feed *f = ctx;
    if (!x->cve || !(x->score >= 0 && x->score <= 1) || !(x->percentile >= 0 && x->percentile <= 1))
        f->bad = "EPSS row without a CVE or with a score outside [0, 1]";
    fz_touch(&f->sum, x->cve);
    return KB_OK;
}

/* NULL when the converters behaved on this input, else why not. */
static inline const char *fz_feed_one(const char *in, size_t size, void *stats)
{
    if (size == 0)
        return NULL;
    const char *body = in + 1;
    size_t len = size - 1;
    struct fz_feed f = {0};
    struct kb_why why = {{0}};
    struct feed_page_info info = {0};
    int64_t count = 0;
    kb_err e;
    switch ((unsigned char)in[0] % FZ_FEED_COUNT) {
    case FZ_NVD:
        e = feed_nvd_page(body, len, fz_feed_adv, fz_feed_skip, &f, &info, &why);
        break;
    case FZ_GHSA:
        e = feed_ghsa_page(body, len, fz_feed_adv, fz_feed_skip, &f, &why);
        break;
    case FZ_JVN_OVERVIEW:
        e = feed_jvn_overview(body, len, fz_feed_jvn_id, &f, &info, &why);
        break;
    case FZ_JVN_DETAIL:
        e = feed_jvn_detail(body, len, fz_feed_adv, fz_feed_skip, &f, &why);
        break;
    case FZ_KEV:
        e = feed_kev_parse(body, len, fz_feed_kev, fz_feed_skip, &f, &count, &why);
        break;
    default: {
        int64_t date = 0;
        e = feed_epss_parse(body, len, fz_feed_epss, fz_feed_skip, &f, &count, &date, &why);
        break;
    }
    }
    fz_count(stats, e);
    if (!fz_err_ok(e, why.msg))
        return "error without a message";
    return f.bad;
}

#endif
