/*
 * feed_nvd.c — NVD CVE API 2.0 answers into OSV records (feed_convert.h).
 *
 * One CVE becomes one record with the CVE id as its id (no aliases: the
 * grouping joins it with the records that alias that CVE). The English
 * description is the summary (cut) and the details; CVSS v4.0 and v3.x
 * vectors go to severity (NVD's own "Primary" score first, else the first
 * given); every cpeMatch with vulnerable=true, outside a negated node,
 * becomes one "CPE" affected entry (feed_put_cpe_entry).
 */
#include <stdio.h>

#include "vuln/feed_util.h"

/* The vector of metrics.<key>[]: the Primary entry's, else the first. */
static kb_err nvd_vector(const struct json_value *metrics, const char *key, const char *where,
                         struct kb_str *out, struct kb_why *why)
{
    *out = KB_STR_NULL;
    const struct json_value *arr;
    kb_err e = feed_arr(metrics, key, where, &arr, why);
    if (e || !arr)
        return e;
    size_t i = 0;
    for (const struct json_value *m = arr->u.child; m; m = m->next, i++) {
        char at[160];
        snprintf(at, sizeof at, "%s.%s[%zu]", where, key, i);
        if (m->type != JSON_OBJECT)
            return kb_fail(why, KB_EINVAL, "%s: not an object", at);
        const struct json_value *data;
        struct kb_str vec, type;
        if ((e = feed_obj(m, "cvssData", at, &data, why)) || (e = feed_str(m, "type", false, at, &type, why)))
            return e;
        if (!data)
            continue;
        char dat[176];
        snprintf(dat, sizeof dat, "%s.cvssData", at);
        if ((e = feed_str(data, "vectorString", false, dat, &vec, why)))
            return e;
        if (kb_str_empty(vec))
            continue;
        if (kb_str_empty(*out) || kb_str_eq(type, "Primary"))
            *out = vec;
        if (kb_str_eq(type, "Primary"))
            break;
    }
    return KB_OK;
}

static void put_severity(struct jw *w, const char *type, struct kb_str vec)
{
    jw_obj_begin(w);
    jw_kv_str(w, "type", type);
    jw_kv_kstr(w, "score", vec);
    jw_obj_end(w);
}

static kb_err nvd_metrics(struct feed_rec *r, const struct json_value *cve, const char *where,
                          struct kb_why *why)
{
    const struct json_value *metrics;
    char at[128];
    snprintf(at, sizeof at, "%s.metrics", where);
    kb_err e = feed_obj(cve, "metrics", where, &metrics, why);
    if (e || !metrics)
        return e;
    struct kb_str v4, v31, v30;
    if ((e = nvd_vector(metrics, "cvssMetricV40", at, &v4, why)) ||
        (e = nvd_vector(metrics, "cvssMetricV31", at, &v31, why)) ||
        (e = nvd_vector(metrics, "cvssMetricV30", at, &v30, why)))
        return e;
    if (kb_str_empty(v4) && kb_str_empty(v31) && kb_str_empty(v30))
        return KB_OK;
    jw_key(&r->w, "severity");
    jw_arr_begin(&r->w);
    if (!kb_str_empty(v31) || !kb_str_empty(v30))
        put_severity(&r->w, "CVSS_V3", !kb_str_empty(v31) ? v31 : v30);
    if (!kb_str_empty(v4))
        put_severity(&r->w, "CVSS_V4", v4);
    jw_arr_end(&r->w);
    return KB_OK;
}

/* English text of an NVD [{"lang":..,"value":..}] list. */
static kb_err nvd_english(const struct json_value *arr, const char *where, struct kb_str *out,
                          struct kb_why *why)
{
    *out = KB_STR_NULL;
    size_t i = 0;
    for (const struct json_value *d = arr ? arr->u.child : NULL; d; d = d->next, i++) {
        char at[160];
        snprintf(at, sizeof at, "%s[%zu]", where, i);
        if (d->type != JSON_OBJECT)
            return kb_fail(why, KB_EINVAL, "%s: not an object", at);
        struct kb_str lang, value;
        kb_err e;
        if ((e = feed_str(d, "lang", false, at, &lang, why)) ||
            (e = feed_str(d, "value", false, at, &value, why)))
            return e;
        if ((kb_str_eq(lang, "en") || kb_str_empty(*out)) && !kb_str_empty(value))
            *out = value;
        if (kb_str_eq(lang, "en"))
            break;
    }
    return KB_OK;
}

static kb_err nvd_weaknesses(struct feed_rec *r, const struct json_value *cve, const char *where,
                             struct kb_why *why)
{
    const struct json_value *arr;
    kb_err e = feed_arr(cve, "weaknesses", where, &arr, why);
    size_t i = 0;
    for (const struct json_value *wk = arr ? arr->u.child : NULL; !e && wk; wk = wk->next, i++) {
        char at[160];
        snprintf(at, sizeof at, "%s.weaknesses[%zu]", where, i);
        if (wk->type != JSON_OBJECT)
            return kb_fail(why, KB_EINVAL, "%s: not an object", at);
        const struct json_value *desc;
        if ((e = feed_arr(wk, "description", at, &desc, why)))
            return e;
        size_t j = 0;
        for (const struct json_value *d = desc ? desc->u.child : NULL; d; d = d->next, j++) {
            char dat[176];
            snprintf(dat, sizeof dat, "%s.description[%zu]", at, j);
            struct kb_str v;
            if (d->type != JSON_OBJECT)
                return kb_fail(why, KB_EINVAL, "%s: not an object", dat);
            if ((e = feed_str(d, "value", false, dat, &v, why)))
                return e;
            /* NVD-CWE-Other and NVD-CWE-noinfo name no weakness */
            if (v.n > 4 && memcmp(v.p, "CWE-", 4) == 0)
                feed_strs_add(&r->cwe, v.p, v.n);
        }
    }
    return e;
}

/* OSV reference type from NVD's tags. */
static const char *ref_type(const struct json_value *tags)
{
    const char *t = "WEB";
    for (const struct json_value *g = tags ? tags->u.child : NULL; g; g = g->next) {
        struct kb_str s = json_str(g);
        if (kb_str_eq(s, "Patch"))
            return "FIX";
        if (kb_str_eq(s, "Vendor Advisory") || kb_str_eq(s, "Third Party Advisory"))
            t = "ADVISORY";
        else if (kb_str_eq(s, "Exploit") && strcmp(t, "ADVISORY") != 0)
            t = "EVIDENCE";
        else if (kb_str_eq(s, "Issue Tracking") && !strcmp(t, "WEB"))
            t = "REPORT";
    }
    return t;
}

static kb_err nvd_references(struct feed_rec *r, const struct json_value *cve, struct kb_str id,
                             const char *where, struct kb_why *why)
{
    const struct json_value *arr;
    kb_err e = feed_arr(cve, "references", where, &arr, why);
    if (e)
        return e;
    struct jw *w = &r->w;
    char url[128];
    int un = snprintf(url, sizeof url, "https://nvd.nist.gov/vuln/detail/%.*s", (int)id.n, id.p);
    jw_key(w, "references");
    jw_arr_begin(w);
    jw_obj_begin(w);
    jw_kv_str(w, "type", "ADVISORY");
    jw_key(w, "url");
    jw_strn(w, url, (size_t)un);
    jw_obj_end(w);
    /* NVD lists a URL once per source that gave it: keep the first */
    struct feed_strs seen;
    feed_strs_init(&seen, OSV_MAX_ITEMS, SIZE_MAX);
    size_t i = 0;
    for (const struct json_value *ref = arr ? arr->u.child : NULL; ref; ref = ref->next, i++) {
        char at[160];
        snprintf(at, sizeof at, "%s.references[%zu]", where, i);
        struct kb_str u;
        const struct json_value *tags;
        if (ref->type != JSON_OBJECT) {
            e = kb_fail(why, KB_EINVAL, "%s: not an object", at);
            break;
        }
        if ((e = feed_str(ref, "url", true, at, &u, why)) ||
            (e = feed_arr(ref, "tags", at, &tags, why)))
            break;
        if (feed_strs_has(&seen, u.p, u.n))
            continue;
        feed_strs_add(&seen, u.p, u.n);
        jw_obj_begin(w);
        jw_kv_str(w, "type", ref_type(tags));
        jw_kv_kstr(w, "url", u);
        jw_obj_end(w);
    }
    feed_strs_release(&seen);
    jw_arr_end(w);
    return e;
}

/* One cpeMatch element into an affected entry. */
static kb_err nvd_match(struct feed_rec *r, const struct json_value *m, const char *at,
                        struct kb_why *why)
{
    if (m->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, "%s: not an object", at);
    const struct json_value *vuln = json_get(m, "vulnerable");
    if (!vuln || (vuln->type != JSON_TRUE && vuln->type != JSON_FALSE))
        return kb_fail(why, KB_EINVAL, "%s.vulnerable: missing or not a boolean", at);
    if (vuln->type == JSON_FALSE)
        return KB_OK; /* a platform the vulnerable product runs on or with */
    struct kb_str criteria;
    struct feed_cpe_range rg;
    kb_err e;
    if ((e = feed_str(m, "criteria", true, at, &criteria, why)) ||
        (e = feed_str(m, "versionStartIncluding", false, at, &rg.start_incl, why)) ||
        (e = feed_str(m, "versionStartExcluding", false, at, &rg.start_excl, why)) ||
        (e = feed_str(m, "versionEndIncluding", false, at, &rg.end_incl, why)) ||
        (e = feed_str(m, "versionEndExcluding", false, at, &rg.end_excl, why)))
        return e;
    struct feed_cpe c;
    struct kb_why cw = {{0}};
    if (feed_cpe_parse(criteria, &c, &cw))
        return kb_fail(why, KB_EINVAL, "%s.criteria: %s", at, cw.msg);
    feed_put_cpe_entry(r, &c, &rg, criteria);
    return KB_OK;
}

static kb_err nvd_configurations(struct feed_rec *r, const struct json_value *cve,
                                 const char *where, struct kb_why *why)
{
    const struct json_value *cfgs;
    kb_err e = feed_arr(cve, "configurations", where, &cfgs, why);
    if (e)
        return e;
    struct jw *w = &r->w;
    size_t entries = 0;
    jw_key(w, "affected");
    jw_arr_begin(w);
    size_t i = 0;
    for (const struct json_value *cfg = cfgs ? cfgs->u.child : NULL; !e && cfg;
         cfg = cfg->next, i++) {
        char at[128];
        snprintf(at, sizeof at, "%s.configurations[%zu]", where, i);
        const struct json_value *nodes;
        if (cfg->type != JSON_OBJECT)
            e = kb_fail(why, KB_EINVAL, "%s: not an object", at);
        else
            e = feed_arr(cfg, "nodes", at, &nodes, why);
        size_t j = 0;
        for (const struct json_value *nd = !e && nodes ? nodes->u.child : NULL; !e && nd;
             nd = nd->next, j++) {
            char nat[160];
            snprintf(nat, sizeof nat, "%s.nodes[%zu]", at, j);
            if (nd->type != JSON_OBJECT) {
                e = kb_fail(why, KB_EINVAL, "%s: not an object", nat);
                break;
            }
            const struct json_value *neg = json_get(nd, "negate"), *ms;
            if ((e = feed_arr(nd, "cpeMatch", nat, &ms, why)))
                break;
            /* a negated node lists what is NOT affected */
            if (neg && neg->type == JSON_TRUE)
                continue;
            size_t k = 0;
            for (const struct json_value *m = ms ? ms->u.child : NULL; !e && m; m = m->next, k++) {
                char mat[192];
                snprintf(mat, sizeof mat, "%s.cpeMatch[%zu]", nat, k);
                if (++entries > OSV_MAX_ITEMS)
                    e = kb_fail(why, KB_ETOOBIG, "%s: over %d CPE matches", where, OSV_MAX_ITEMS);
                else
                    e = nvd_match(r, m, mat, why);
            }
        }
    }
    jw_arr_end(w);
    /* No configuration at all (not analysed yet): nothing to evaluate */
    if (!e && r->cpe.n == 0 && r->cpe.more == 0)
        r->suspected = true;
    return e;
}

/* Converts one {"cve": {...}} element (or the cve object itself). */
static kb_err nvd_one(const struct json_value *cve, const char *where, char *id_out,
                      size_t id_sz, struct feed_rec *r, struct kb_why *why)
{
    if (cve->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, "%s: not an object", where);
    struct kb_str id, status, pub, mod;
    kb_err e;
    if ((e = feed_str(cve, "id", true, where, &id, why)))
        return e;
    snprintf(id_out, id_sz, "%.*s", (int)KB_MIN(id.n, id_sz - 1), id.p);
    if (id.n >= id_sz)
        return kb_fail(why, KB_EINVAL, "%s.id: longer than %zu bytes", where, id_sz - 1);
    if ((e = feed_str(cve, "vulnStatus", false, where, &status, why)) ||
        (e = feed_str(cve, "published", false, where, &pub, why)) ||
        (e = feed_str(cve, "lastModified", true, where, &mod, why)))
        return e;
    int64_t pub_ms = 0, mod_ms = 0;
    if (feed_time(mod, &mod_ms))
        return kb_fail(why, KB_EINVAL, "%s.lastModified: '%.*s' is not a time", where,
                       (int)KB_MIN(mod.n, 40), mod.p);
    if (!kb_str_empty(pub) && feed_time(pub, &pub_ms))
        return kb_fail(why, KB_EINVAL, "%s.published: '%.*s' is not a time", where,
                       (int)KB_MIN(pub.n, 40), pub.p);
    const struct json_value *descs;
    struct kb_str text;
    char dat[128];
    snprintf(dat, sizeof dat, "%s.descriptions", where);
    if ((e = feed_arr(cve, "descriptions", where, &descs, why)) ||
        (e = nvd_english(descs, dat, &text, why)))
        return e;

    struct jw *w = &r->w;
    jw_obj_begin(w);
    jw_kv_str(w, "schema_version", "1.6.0");
    jw_kv_kstr(w, "id", id);
    feed_put_time(w, "modified", mod_ms);
    if (pub_ms)
        feed_put_time(w, "published", pub_ms);
    /* A rejected CVE is withdrawn from the time NVD last changed it */
    if (kb_str_eq(status, "Rejected"))
        feed_put_time(w, "withdrawn", mod_ms);
    feed_put_text(w, text, true);
    if ((e = nvd_metrics(r, cve, where, why)) || (e = nvd_weaknesses(r, cve, where, why)) ||
        (e = nvd_references(r, cve, id, where, why)) ||
        (e = nvd_configurations(r, cve, where, why)))
        return e;
    char st[64];
    snprintf(st, sizeof st, "%.*s", (int)KB_MIN(status.n, sizeof st - 1), status.p ? status.p : "");
    feed_rec_koban(r, "nvd", st[0] ? "nvd_status" : NULL, st);
    jw_obj_end(w);
    return KB_OK;
}

static kb_err page_int(const struct json_value *root, const char *key, int64_t *out,
                       struct kb_why *why)
{
    const struct json_value *v = json_get(root, key);
    if (!v || v->type == JSON_NULL)
        return KB_OK;
    if (v->type != JSON_NUMBER || !(v->flags & JSON_F_INT) || v->i < 0)
        return kb_fail(why, KB_EINVAL, "%s: not a non-negative integer", key);
    *out = v->i;
    return KB_OK;
}

kb_err feed_nvd_page(const char *body, size_t len, feed_adv_fn fn, feed_skip_fn skip, void *ctx,
                     struct feed_page_info *info, struct kb_why *why)
{
    if (!fn)
        return kb_fail(why, KB_EINVAL, "no callback");
    struct feed_page_info pi = {0};
    struct arena a;
    /* The DOM takes a few times the text; the bound keeps a hostile body
     * from taking more */
    arena_init(&a, KB_MIN((size_t)len * 8 + (1u << 20), (size_t)FEED_MAX_BODY * 8));
    struct json_value *root = NULL;
    kb_err e = feed_json_parse(body, len, &a, &root, why);
    if (!e && root->type != JSON_OBJECT)
        e = kb_fail(why, KB_EINVAL, "the body is not a JSON object");
    const struct json_value *vulns = NULL, *single = NULL;
    if (!e) {
        single = json_get(root, "cve");
        if (!single && json_get(root, "id") && json_get(root, "lastModified"))
            single = root; /* a bare CVE object */
        if (single) {
            pi.total = pi.count = 1;
        } else if (!(e = feed_arr(root, "vulnerabilities", "page", &vulns, why))) {
            if (!vulns)
                e = kb_fail(why, KB_EINVAL, "page.vulnerabilities: missing");
            else if (vulns->len > FEED_MAX_RECORDS)
                e = kb_fail(why, KB_ETOOBIG, "page.vulnerabilities: over %d records",
                            FEED_MAX_RECORDS);
            else if (!(e = page_int(root, "totalResults", &pi.total, why)))
                e = page_int(root, "startIndex", &pi.start, why);
            pi.count = vulns ? vulns->len : 0;
        }
    }
    const struct json_value *it = single ? single : vulns ? vulns->u.child : NULL;
    for (size_t i = 0; !e && it; it = single ? NULL : it->next, i++) {
        char where[64], id[64] = "";
        const struct json_value *cve = it;
        if (single)
            snprintf(where, sizeof where, "cve");
        else
            snprintf(where, sizeof where, "vulnerabilities[%zu].cve", i);
        struct kb_why rw = {{0}};
        kb_err re = KB_OK;
        if (!single) {
            if (it->type != JSON_OBJECT)
                re = kb_fail(&rw, KB_EINVAL, "vulnerabilities[%zu]: not an object", i);
            else if (!(cve = json_get(it, "cve")))
                re = kb_fail(&rw, KB_EINVAL, "vulnerabilities[%zu]: no 'cve'", i);
        }
        struct feed_rec r;
        feed_rec_init(&r);
        bool cb_failed = false;
        if (!re)
            re = nvd_one(cve, where, id, sizeof id, &r, &rw);
        if (!re)
            re = feed_rec_emit(&r, id, fn, ctx, &cb_failed, &rw);
        feed_rec_release(&r);
        if (re && (cb_failed || single)) {
            e = kb_fail(why, re, "%s", rw.msg);
        } else if (re && skip) {
            char at[128];
            snprintf(at, sizeof at, "vulnerabilities[%zu]%s%s", i, id[0] ? " " : "", id);
            skip(ctx, at, rw.msg);
        }
    }
    arena_release(&a);
    if (!e && info)
        *info = pi;
    return e;
}
