/*
 * feed_ghsa.c — GitHub's global security advisories (REST API, GET
 * /advisories: a JSON array; GET /advisories/{id}: one object) into OSV
 * records (feed_convert.h).
 *
 * Each vulnerabilities[] element becomes one affected entry. Its
 * vulnerable_version_range is read strictly: comma-separated terms, each
 * an operator (<, <=, >, >=, =) and a version; at most one lower bound and
 * one upper bound, or a single "=". A range that does not read so is kept
 * as text (the entry's database_specific and koban.versions_text) and the
 * record is "suspected". first_patched_version is the fixed event when the
 * range's upper bound is inclusive or absent.
 */
#include <stdio.h>
#include <strings.h>

#include "vuln/feed_util.h"

/* GitHub's ecosystem names -> OSV's. */
static const char *const eco_map[][2] = {
    {"pip", "PyPI"},          {"npm", "npm"},         {"maven", "Maven"},
    {"rubygems", "RubyGems"}, {"nuget", "NuGet"},     {"composer", "Packagist"},
    {"go", "Go"},             {"rust", "crates.io"},  {"pub", "Pub"},
    {"erlang", "Hex"},        {"swift", "SwiftURL"},  {"actions", "GitHub Actions"},
};

/* A version range as GitHub writes it. */
struct ghsa_range {
    struct kb_str lo, hi, eq;
    bool lo_excl, hi_incl;
};

static struct kb_str trim(struct kb_str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

/* Reads one "op version" term into g; false when it is not one. */
static bool range_term(struct kb_str t, struct ghsa_range *g)
{
    t = trim(t);
    size_t op = 0;
    while (op < t.n && op < 2 && strchr("<>=", t.p[op]))
        op++;
    struct kb_str v = trim((struct kb_str){t.p + op, t.n - op});
    if (op == 0 || v.n == 0 || v.n >= FEED_VERSION_MAX)
        return false;
    for (size_t i = 0; i < v.n; i++)
        if (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == '<' || v.p[i] == '>' || v.p[i] == '=')
            return false;
    char o[3] = {0};
    memcpy(o, t.p, op);
    if (!strcmp(o, ">=") || !strcmp(o, ">")) {
        if (g->lo.p)
            return false;
        g->lo = v;
        g->lo_excl = o[1] == '\0';
    } else if (!strcmp(o, "<=") || !strcmp(o, "<")) {
        if (g->hi.p)
            return false;
        g->hi = v;
        g->hi_incl = o[1] == '=';
    } else if (!strcmp(o, "=")) {
        if (g->eq.p)
            return false;
        g->eq = v;
    } else {
        return false;
    }
    return true;
}

static bool range_parse(struct kb_str s, struct ghsa_range *g)
{
    memset(g, 0, sizeof *g);
    size_t terms = 0;
    while (s.n > 0 && terms < 8) {
        const char *comma = memchr(s.p, ',', s.n);
        size_t n = comma ? (size_t)(comma - s.p) : s.n;
        if (!range_term((struct kb_str){s.p, n}, g))
            return false;
        terms++;
        s.p += comma ? n + 1 : n;
        s.n -= comma ? n + 1 : n;
        if (comma && s.n == 0)
            return false; /* a trailing comma */
    }
    if (s.n > 0 || terms == 0)
        return false;
    return !(g->eq.p && (g->lo.p || g->hi.p));
}

static void put_event(struct jw *w, const char *kind, struct kb_str v)
{
    jw_obj_begin(w);
    jw_kv_kstr(w, kind, v);
    jw_obj_end(w);
}

/* One vulnerabilities[] element into an affected entry. */
static kb_err ghsa_affected(struct feed_rec *r, const struct json_value *v, const char *at,
                            struct kb_why *why)
{
    if (v->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, "%s: not an object", at);
    const struct json_value *pkg;
    struct kb_str eco, name, range, fixed = KB_STR_NULL;
    char pat[160];
    snprintf(pat, sizeof pat, "%s.package", at);
    kb_err e;
    if ((e = feed_obj(v, "package", at, &pkg, why)))
        return e;
    if (!pkg)
        return kb_fail(why, KB_EINVAL, "%s.package: missing", at);
    if ((e = feed_str(pkg, "ecosystem", true, pat, &eco, why)) ||
        (e = feed_str(pkg, "name", true, pat, &name, why)) ||
        (e = feed_str(v, "vulnerable_version_range", false, at, &range, why)))
        return e;
    /* a string in the global advisories; {"identifier": ..} elsewhere */
    const struct json_value *fp = json_get(v, "first_patched_version");
    if (fp && fp->type == JSON_OBJECT) {
        char fat[176];
        snprintf(fat, sizeof fat, "%s.first_patched_version", at);
        e = feed_str(fp, "identifier", false, fat, &fixed, why);
    } else {
        e = feed_str(v, "first_patched_version", false, at, &fixed, why);
    }
    if (e)
        return e;
    const char *osv_eco = NULL;
    for (size_t i = 0; i < KB_ARRAY_LEN(eco_map); i++)
        if (eco.n == strlen(eco_map[i][0]) && !strncasecmp(eco.p, eco_map[i][0], eco.n))
            osv_eco = eco_map[i][1];

    struct jw *w = &r->w;
    jw_obj_begin(w);
    jw_key(w, "package");
    jw_obj_begin(w);
    if (osv_eco)
        jw_kv_str(w, "ecosystem", osv_eco);
    else
        jw_kv_kstr(w, "ecosystem", eco); /* kept as GitHub names it: matches nothing */
    jw_kv_kstr(w, "name", name);
    jw_obj_end(w);

    struct ghsa_range g;
    bool parsed = !kb_str_empty(trim(range)) && range_parse(range, &g);
    if (!parsed && kb_str_empty(trim(range)) && !kb_str_empty(fixed)) {
        memset(&g, 0, sizeof g); /* no range but a fix: everything before it */
        parsed = true;
    }
    if (parsed && g.eq.p) {
        jw_key(w, "versions");
        jw_arr_begin(w);
        jw_kstr(w, g.eq);
        jw_arr_end(w);
    } else if (parsed) {
        jw_key(w, "ranges");
        jw_arr_begin(w);
        jw_obj_begin(w);
        jw_kv_str(w, "type", "ECOSYSTEM");
        jw_key(w, "events");
        jw_arr_begin(w);
        put_event(w, "introduced", g.lo.p ? g.lo : KB_STR_LIT("0"));
        if (g.hi.p && !g.hi_incl)
            put_event(w, "fixed", g.hi);
        else if (!kb_str_empty(fixed))
            put_event(w, "fixed", fixed);
        else if (g.hi.p)
            put_event(w, "last_affected", g.hi);
        jw_arr_end(w);
        jw_obj_end(w);
        jw_arr_end(w);
    } else {
        r->suspected = true;
        char t[FEED_TEXT_MAX];
        int n = kb_str_empty(range)
                    ? snprintf(t, sizeof t, "%.*s: (no version range given)",
                               (int)KB_MIN(name.n, 512), name.p)
                    : snprintf(t, sizeof t, "%.*s: %.*s", (int)KB_MIN(name.n, 512), name.p,
                               (int)KB_MIN(range.n, 1024), range.p);
        feed_strs_add(&r->text, t, (size_t)KB_MIN(n, (int)sizeof t - 1));
    }
    if (!parsed || (g.lo.p && g.lo_excl)) {
        jw_key(w, "database_specific");
        jw_obj_begin(w);
        if (!parsed)
            jw_kv_kstr(w, "vulnerable_version_range", range.p ? range : KB_STR_LIT(""));
        else
            jw_kv_kstr(w, "start_excluding", g.lo); /* OSV has no exclusive start */
        jw_obj_end(w);
    }
    jw_obj_end(w);
    return KB_OK;
}

static void put_sev(struct jw *w, bool *open, const char *type, struct kb_str vec)
{
    if (kb_str_empty(vec))
        return;
    if (!*open) {
        jw_key(w, "severity");
        jw_arr_begin(w);
        *open = true;
    }
    jw_obj_begin(w);
    jw_kv_str(w, "type", type);
    jw_kv_kstr(w, "score", vec);
    jw_obj_end(w);
}

static kb_err ghsa_severity(struct feed_rec *r, const struct json_value *adv, const char *where,
                            struct kb_why *why)
{
    const struct json_value *sev, *v3 = NULL, *v4 = NULL, *old;
    struct kb_str s3 = KB_STR_NULL, s4 = KB_STR_NULL, so = KB_STR_NULL;
    char at[128];
    snprintf(at, sizeof at, "%s.cvss_severities", where);
    kb_err e = feed_obj(adv, "cvss_severities", where, &sev, why);
    if (!e && sev && !(e = feed_obj(sev, "cvss_v3", at, &v3, why)))
        e = feed_obj(sev, "cvss_v4", at, &v4, why);
    if (!e)
        e = feed_obj(adv, "cvss", where, &old, why);
    char a3[160], a4[160], ao[160];
    snprintf(a3, sizeof a3, "%s.cvss_v3", at);
    snprintf(a4, sizeof a4, "%s.cvss_v4", at);
    snprintf(ao, sizeof ao, "%s.cvss", where);
    if (!e && v3)
        e = feed_str(v3, "vector_string", false, a3, &s3, why);
    if (!e && v4)
        e = feed_str(v4, "vector_string", false, a4, &s4, why);
    if (!e && old)
        e = feed_str(old, "vector_string", false, ao, &so, why);
    if (e)
        return e;
    /* the older single "cvss" when cvss_severities says nothing */
    if (kb_str_empty(s3) && kb_str_empty(s4) && so.n > 6) {
        if (!memcmp(so.p, "CVSS:3", 6))
            s3 = so;
        else if (!memcmp(so.p, "CVSS:4", 6))
            s4 = so;
    }
    bool open = false;
    put_sev(&r->w, &open, "CVSS_V3", s3);
    put_sev(&r->w, &open, "CVSS_V4", s4);
    if (open)
        jw_arr_end(&r->w);
    return KB_OK;
}

/* Aliases: cve_id and identifiers[] other than the id itself. */
static kb_err ghsa_aliases(struct feed_rec *r, const struct json_value *adv, struct kb_str id,
                           const char *where, struct kb_why *why)
{
    struct feed_strs al;
    feed_strs_init(&al, 256, FEED_TEXT_MAX);
    struct kb_str cve;
    const struct json_value *ids;
    kb_err e = feed_str(adv, "cve_id", false, where, &cve, why);
    if (!e)
        e = feed_arr(adv, "identifiers", where, &ids, why);
    if (!e)
        feed_strs_add(&al, cve.p, cve.n);
    size_t i = 0;
    for (const struct json_value *x = !e && ids ? ids->u.child : NULL; x; x = x->next, i++) {
        char at[160];
        snprintf(at, sizeof at, "%s.identifiers[%zu]", where, i);
        struct kb_str v;
        if (x->type != JSON_OBJECT) {
            e = kb_fail(why, KB_EINVAL, "%s: not an object", at);
            break;
        }
        if ((e = feed_str(x, "value", true, at, &v, why)))
            break;
        if (!(v.n == id.n && !memcmp(v.p, id.p, id.n)))
            feed_strs_add(&al, v.p, v.n);
    }
    if (!e && al.n) {
        jw_key(&r->w, "aliases");
        feed_strs_write(&r->w, &al);
    }
    feed_strs_release(&al);
    return e;
}

static kb_err ghsa_references(struct feed_rec *r, const struct json_value *adv, const char *where,
                              struct kb_why *why)
{
    struct kb_str html, src;
    const struct json_value *refs;
    kb_err e;
    if ((e = feed_str(adv, "html_url", false, where, &html, why)) ||
        (e = feed_str(adv, "source_code_location", false, where, &src, why)) ||
        (e = feed_arr(adv, "references", where, &refs, why)))
        return e;
    struct jw *w = &r->w;
    struct feed_strs seen;
    feed_strs_init(&seen, OSV_MAX_ITEMS, SIZE_MAX);
    jw_key(w, "references");
    jw_arr_begin(w);
    struct {
        const char *type;
        struct kb_str url;
    } fixed[2] = {{"ADVISORY", html}, {"PACKAGE", src}};
    for (size_t i = 0; i < 2; i++) {
        if (kb_str_empty(fixed[i].url))
            continue;
        feed_strs_add(&seen, fixed[i].url.p, fixed[i].url.n);
        jw_obj_begin(w);
        jw_kv_str(w, "type", fixed[i].type);
        jw_kv_kstr(w, "url", fixed[i].url);
        jw_obj_end(w);
    }
    size_t i = 0;
    for (const struct json_value *x = refs ? refs->u.child : NULL; x; x = x->next, i++) {
        if (x->type != JSON_STRING) {
            e = kb_fail(why, KB_EINVAL, "%s.references[%zu]: not a string", where, i);
            break;
        }
        struct kb_str u = json_str(x);
        if (u.n == 0 || feed_strs_has(&seen, u.p, u.n))
            continue;
        feed_strs_add(&seen, u.p, u.n);
        jw_obj_begin(w);
        jw_kv_str(w, "type", "WEB");
        jw_kv_kstr(w, "url", u);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    feed_strs_release(&seen);
    return e;
}

static kb_err ghsa_cwes(struct feed_rec *r, const struct json_value *adv, const char *where,
                        struct kb_why *why)
{
    const struct json_value *cwes;
    kb_err e = feed_arr(adv, "cwes", where, &cwes, why);
    size_t i = 0;
    for (const struct json_value *x = !e && cwes ? cwes->u.child : NULL; x; x = x->next, i++) {
        char at[160];
        snprintf(at, sizeof at, "%s.cwes[%zu]", where, i);
        struct kb_str v;
        if (x->type != JSON_OBJECT)
            return kb_fail(why, KB_EINVAL, "%s: not an object", at);
        if ((e = feed_str(x, "cwe_id", false, at, &v, why)))
            return e;
        feed_strs_add(&r->cwe, v.p, v.n);
    }
    return e;
}

static kb_err time_of(const struct json_value *adv, const char *key, bool required,
                      const char *where, int64_t *ms, struct kb_why *why)
{
    struct kb_str s;
    *ms = 0;
    kb_err e = feed_str(adv, key, required, where, &s, why);
    if (!e && !kb_str_empty(s) && feed_time(s, ms))
        e = kb_fail(why, KB_EINVAL, "%s.%s: '%.*s' is not a time", where, key,
                    (int)KB_MIN(s.n, 40), s.p);
    return e;
}

static kb_err ghsa_one(const struct json_value *adv, const char *where, char *id_out,
                       size_t id_sz, struct feed_rec *r, struct kb_why *why)
{
    if (adv->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, "%s: not an object", where);
    struct kb_str id, summary, details, gsev;
    int64_t pub = 0, mod = 0, wd = 0;
    kb_err e;
    if ((e = feed_str(adv, "ghsa_id", true, where, &id, why)))
        return e;
    if (id.n >= id_sz)
        return kb_fail(why, KB_EINVAL, "%s.ghsa_id: longer than %zu bytes", where, id_sz - 1);
    snprintf(id_out, id_sz, "%.*s", (int)id.n, id.p);
    if ((e = feed_str(adv, "summary", false, where, &summary, why)) ||
        (e = feed_str(adv, "description", false, where, &details, why)) ||
        (e = feed_str(adv, "severity", false, where, &gsev, why)) ||
        (e = time_of(adv, "updated_at", true, where, &mod, why)) ||
        (e = time_of(adv, "published_at", false, where, &pub, why)) ||
        (e = time_of(adv, "withdrawn_at", false, where, &wd, why)))
        return e;
    struct jw *w = &r->w;
    jw_obj_begin(w);
    jw_kv_str(w, "schema_version", "1.6.0");
    jw_kv_kstr(w, "id", id);
    feed_put_time(w, "modified", mod);
    if (pub)
        feed_put_time(w, "published", pub);
    if (wd)
        feed_put_time(w, "withdrawn", wd);
    feed_put_text(w, !kb_str_empty(summary) ? summary : details, false);
    if (!kb_str_empty(details)) {
        jw_key(w, "details");
        jw_kstr(w, details);
    }
    if ((e = ghsa_aliases(r, adv, id, where, why)) || (e = ghsa_severity(r, adv, where, why)) ||
        (e = ghsa_references(r, adv, where, why)) || (e = ghsa_cwes(r, adv, where, why)))
        return e;
    const struct json_value *vulns;
    if ((e = feed_arr(adv, "vulnerabilities", where, &vulns, why)))
        return e;
    jw_key(w, "affected");
    jw_arr_begin(w);
    size_t i = 0;
    for (const struct json_value *v = vulns ? vulns->u.child : NULL; v; v = v->next, i++) {
        char at[128];
        snprintf(at, sizeof at, "%s.vulnerabilities[%zu]", where, i);
        if ((e = ghsa_affected(r, v, at, why)))
            return e;
    }
    jw_arr_end(w);
    char sv[32];
    snprintf(sv, sizeof sv, "%.*s", (int)KB_MIN(gsev.n, sizeof sv - 1), gsev.p ? gsev.p : "");
    feed_rec_koban(r, "ghsa", sv[0] ? "github_severity" : NULL, sv);
    jw_obj_end(w);
    return KB_OK;
}

kb_err feed_ghsa_page(const char *body, size_t len, feed_adv_fn fn, feed_skip_fn skip, void *ctx,
                      struct kb_why *why)
{
    if (!fn)
        return kb_fail(why, KB_EINVAL, "no callback");
    struct arena a;
    arena_init(&a, KB_MIN((size_t)len * 8 + (1u << 20), (size_t)FEED_MAX_BODY * 8));
    struct json_value *root = NULL;
    kb_err e = feed_json_parse(body, len, &a, &root, why);
    bool single = !e && root->type == JSON_OBJECT;
    if (!e && !single && root->type != JSON_ARRAY)
        e = kb_fail(why, KB_EINVAL, "the body is neither an array of advisories nor one");
    if (!e && !single && root->len > FEED_MAX_RECORDS)
        e = kb_fail(why, KB_ETOOBIG, "over %d advisories", FEED_MAX_RECORDS);
    const struct json_value *it = e ? NULL : single ? root : root->u.child;
    for (size_t i = 0; !e && it; it = single ? NULL : it->next, i++) {
        char where[48], id[64] = "";
        snprintf(where, sizeof where, single ? "advisory" : "advisories[%zu]", i);
        struct kb_why rw = {{0}};
        struct feed_rec r;
        feed_rec_init(&r);
        bool cb_failed = false;
        kb_err re = ghsa_one(it, where, id, sizeof id, &r, &rw);
        if (!re)
            re = feed_rec_emit(&r, id, fn, ctx, &cb_failed, &rw);
        feed_rec_release(&r);
        if (re && (cb_failed || single)) {
            e = kb_fail(why, re, "%s", rw.msg);
        } else if (re && skip) {
            char at[128];
            snprintf(at, sizeof at, "%s%s%s", where, id[0] ? " " : "", id);
            skip(ctx, at, rw.msg);
        }
    }
    arena_release(&a);
    return e;
}
