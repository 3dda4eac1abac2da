/*
 * feed_kev.c — the CISA Known Exploited Vulnerabilities catalog (JSON)
 * into one struct feed_kev per entry (feed_convert.h).
 */
#include <stdio.h>

#include "vuln/feed_util.h"

/* "CVE-YYYY-N{4,}" */
static bool cve_id_ok(struct kb_str s)
{
    if (s.n < 13 || s.n > 30 || memcmp(s.p, "CVE-", 4) != 0 || s.p[8] != '-')
        return false;
    for (size_t i = 4; i < s.n; i++)
        if (i != 8 && (s.p[i] < '0' || s.p[i] > '9'))
            return false;
    return true;
}

static kb_err kev_date(const struct json_value *v, const char *key, const char *where, int64_t *ms,
                       struct kb_why *why)
{
    struct kb_str s;
    *ms = 0;
    kb_err e = feed_str(v, key, false, where, &s, why);
    if (!e && !kb_str_empty(s) && feed_date(s, ms))
        e = kb_fail(why, KB_EINVAL, "%s.%s: '%.*s' is not a YYYY-MM-DD date", where, key,
                    (int)KB_MIN(s.n, 40), s.p);
    return e;
}

/* A NUL-terminated copy of an optional string member, or NULL. */
static kb_err kev_text(const struct json_value *v, const char *key, const char *where,
                       struct arena *a, const char **out, struct kb_why *why)
{
    struct kb_str s;
    *out = NULL;
    kb_err e = feed_str(v, key, false, where, &s, why);
    if (!e && s.p && !(*out = arena_strndup(a, s.p, s.n)))
        e = kb_fail(why, KB_ETOOBIG, "%s.%s: out of memory budget", where, key);
    return e;
}

static kb_err kev_one(const struct json_value *v, const char *where, struct arena *a,
                      struct feed_kev *k, struct kb_why *why)
{
    memset(k, 0, sizeof *k);
    if (v->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, "%s: not an object", where);
    struct kb_str cve, rw;
    kb_err e;
    if ((e = feed_str(v, "cveID", true, where, &cve, why)))
        return e;
    if (!cve_id_ok(cve))
        return kb_fail(why, KB_EINVAL, "%s.cveID: '%.*s' is not a CVE id", where,
                       (int)KB_MIN(cve.n, 40), cve.p);
    if ((e = kev_date(v, "dateAdded", where, &k->date_added_ms, why)) ||
        (e = kev_date(v, "dueDate", where, &k->due_date_ms, why)) ||
        (e = feed_str(v, "knownRansomwareCampaignUse", false, where, &rw, why)) ||
        (e = kev_text(v, "vendorProject", where, a, &k->vendor, why)) ||
        (e = kev_text(v, "product", where, a, &k->product, why)) ||
        (e = kev_text(v, "vulnerabilityName", where, a, &k->name, why)))
        return e;
    if (!(k->cve = arena_strndup(a, cve.p, cve.n)))
        return kb_fail(why, KB_ETOOBIG, "%s: out of memory budget", where);
    k->ransomware = kb_str_eq(rw, "Known");
    return KB_OK;
}

kb_err feed_kev_parse(const char *body, size_t len, feed_kev_fn fn, feed_skip_fn skip, void *ctx,
                      int64_t *count, struct kb_why *why)
{
    if (count)
        *count = 0;
    if (!fn)
        return kb_fail(why, KB_EINVAL, "no callback");
    struct arena a, scratch;
    arena_init(&a, KB_MIN((size_t)len * 8 + (1u << 20), (size_t)FEED_MAX_BODY * 8));
    arena_init(&scratch, 1u << 20); /* one entry's strings at a time */
    struct json_value *root = NULL;
    const struct json_value *vulns = NULL;
    kb_err e = feed_json_parse(body, len, &a, &root, why);
    if (!e && root->type != JSON_OBJECT)
        e = kb_fail(why, KB_EINVAL, "the body is not a JSON object");
    if (!e && !(e = feed_arr(root, "vulnerabilities", "catalog", &vulns, why)) && !vulns)
        e = kb_fail(why, KB_EINVAL, "catalog.vulnerabilities: missing");
    int64_t n = 0;
    size_t i = 0;
    for (const struct json_value *v = e ? NULL : vulns->u.child; v; v = v->next, i++) {
        char where[48];
        snprintf(where, sizeof where, "vulnerabilities[%zu]", i);
        struct feed_kev k;
        struct kb_why rw = {{0}};
        arena_reset(&scratch);
        kb_err re = kev_one(v, where, &scratch, &k, &rw);
        if (re) {
            if (skip) {
                char at[96];
                struct kb_str cve = json_str(v->type == JSON_OBJECT ? json_get(v, "cveID") : NULL);
                snprintf(at, sizeof at, "%s%s%.*s", where, cve.n ? " " : "",
                         (int)KB_MIN(cve.n, 40), cve.p ? cve.p : "");
                skip(ctx, at, rw.msg);
            }
            continue;
        }
        if ((e = fn(ctx, &k))) {
            kb_fail(why, e, "%s %s: the callback failed (%s)", where, k.cve, kb_strerror(e));
            break;
        }
        n++;
    }
    arena_release(&scratch);
    arena_release(&a);
    if (count)
        *count = n;
    return e;
}
