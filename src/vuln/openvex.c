/* openvex.c — OpenVEX 0.2.0 export and import of koban's triage (see
 * openvex.h for the mapping). */
#include "vuln/openvex.h"

#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "vuln/purl.h"
#include "vuln/vuln_triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- ecosystem <-> purl ---- */

static const struct {
    const char *eco, *type, *ns;
} eco_purl[] = {
    {"Debian", "deb", "debian"},     {"Ubuntu", "deb", "ubuntu"},
    {"Alpine", "apk", "alpine"},     {"Wolfi", "apk", "wolfi"},
    {"Red Hat", "rpm", "redhat"},    {"Rocky Linux", "rpm", "rocky"},
    {"AlmaLinux", "rpm", "almalinux"}, {"openSUSE", "rpm", "opensuse"},
    {"SUSE", "rpm", "suse"},         {"npm", "npm", NULL},
    {"PyPI", "pypi", NULL},          {"Maven", "maven", NULL},
    {"Go", "golang", NULL},          {"crates.io", "cargo", NULL},
    {"RubyGems", "gem", NULL},       {"NuGet", "nuget", NULL},
    {"Packagist", "composer", NULL}, {"Pub", "pub", NULL},
    {"Hex", "hex", NULL},            {"Hackage", "hackage", NULL},
    {"CRAN", "cran", NULL},
};

/* The ecosystem without its release ("Debian:12" -> "Debian"), into out. */
static void eco_base(const char *eco, char *out, size_t n)
{
    const char *c = strchr(eco, ':');
    snprintf(out, n, "%.*s", (int)(c ? (size_t)(c - eco) : strlen(eco)), eco);
}

/* The purl of a package at a version, into buf. */
static void package_purl(const char *ecosystem, const char *name, const char *version, char *buf,
                         size_t cap)
{
    char base[64];
    eco_base(ecosystem, base, sizeof base);
    const char *type = "generic", *ns = NULL;
    for (size_t i = 0; i < sizeof eco_purl / sizeof *eco_purl; i++)
        if (strcmp(base, eco_purl[i].eco) == 0) {
            type = eco_purl[i].type;
            ns = eco_purl[i].ns;
            break;
        }
    char nsbuf[512];
    const char *nm = name;
    /* Namespaced names: Maven "group:artifact", npm "@scope/name", and the
     * path-like ones (Go, Composer): the namespace is all before the last
     * separator. */
    const char *sep = !strcmp(type, "maven") ? strrchr(name, ':')
                      : (!strcmp(type, "npm") && name[0] == '@') || !strcmp(type, "golang") ||
                              !strcmp(type, "composer")
                          ? strrchr(name, '/')
                          : NULL;
    if (sep && sep > name && (size_t)(sep - name) < sizeof nsbuf) {
        snprintf(nsbuf, sizeof nsbuf, "%.*s", (int)(sep - name), name);
        ns = nsbuf;
        nm = sep + 1;
    }
    if (purl_format(type, ns, nm, version, buf, cap) != KB_OK)
        snprintf(buf, cap, "pkg:generic/%s", "package");
}

/* Calls fn with the record's id and each of its aliases (the OSV text is
 * parsed; a record that does not parse gives nothing). */
static kb_err osv_each_id(const char *osv, size_t len, kb_err (*fn)(void *ctx, struct kb_str id),
                          void *ctx)
{
    struct arena ar;
    arena_init(&ar, (size_t)8 * len + 4096);
    struct json_value *root = NULL;
    kb_err e = KB_OK;
    if (json_parse(osv, len, NULL, &ar, &root, NULL) == KB_OK && root &&
        root->type == JSON_OBJECT) {
        struct kb_str id = json_str(json_get(root, "id"));
        if (id.n)
            e = fn(ctx, id);
        const struct json_value *al = json_get(root, "aliases");
        for (const struct json_value *c = al && al->type == JSON_ARRAY ? al->u.child : NULL;
             !e && c; c = c->next)
            if (json_str(c).n)
                e = fn(ctx, json_str(c));
    }
    arena_release(&ar);
    return e;
}

struct ids_ctx {
    char *v[OPENVEX_MAX_ALIASES];
    size_t n;
};

static kb_err add_id(void *ctx, struct kb_str id)
{
    struct ids_ctx *c = ctx;
    if (c->n < OPENVEX_MAX_ALIASES)
        c->v[c->n++] = kb_strndup(id.p, id.n);
    return KB_OK;
}

/* ---- export ---- */

struct ex_row {
    char *key[4]; /* group, asset, ecosystem, package */
    char *installed;
    struct db_vuln_triage t; /* strings owned */
};

struct ex_group {
    const char *key; /* borrowed from a row */
    char *aliases[OPENVEX_MAX_ALIASES];
    size_t n;
};

struct ex_ctx {
    struct db_vuln *dv;
    struct ex_row *rows;
    size_t n, cap;
    struct ex_group *groups;
    size_t ngroups;
};

static char *dupn(const char *s)
{
    return s ? kb_strdup(s) : NULL;
}

static kb_err ex_installed(void *ctx, const struct db_vuln_finding *f)
{
    char **out = ctx;
    if (!*out)
        *out = dupn(f->installed);
    return KB_OK;
}

static kb_err ex_row(void *ctx, const char *group_key, const char *asset, const char *ecosystem,
                     const char *package, const struct db_vuln_triage *t)
{
    struct ex_ctx *c = ctx;
    if (c->n >= OPENVEX_MAX_STATEMENTS)
        return KB_ETOOBIG;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->rows = kb_realloc(c->rows, c->cap * sizeof *c->rows);
    }
    struct ex_row *r = &c->rows[c->n++];
    memset(r, 0, sizeof *r);
    r->key[0] = kb_strdup(group_key);
    r->key[1] = kb_strdup(asset);
    r->key[2] = kb_strdup(ecosystem);
    r->key[3] = kb_strdup(package);
    r->t = *t;
    r->t.justification = dupn(t->justification);
    r->t.note = dupn(t->note);
    r->t.author = dupn(t->author);
    struct db_vuln_finding_filter flt = {.asset = asset, .ecosystem = ecosystem,
                                         .package = package, .group_key = group_key,
                                         .state = -1, .limit = 1};
    return db_vuln_finding_each(c->dv, &flt, ex_installed, &r->installed);
}

static int group_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ex_group *)a)->key, ((const struct ex_group *)b)->key);
}

struct alias_ctx {
    struct ex_group *g;
};

static kb_err add_alias(void *ctx, struct kb_str id)
{
    struct ex_group *g = ((struct alias_ctx *)ctx)->g;
    if ((id.n == strlen(g->key) && !memcmp(id.p, g->key, id.n)) || g->n >= OPENVEX_MAX_ALIASES)
        return KB_OK;
    for (size_t i = 0; i < g->n; i++)
        if (strlen(g->aliases[i]) == id.n && !memcmp(g->aliases[i], id.p, id.n))
            return KB_OK;
    g->aliases[g->n++] = kb_strndup(id.p, id.n);
    return KB_OK;
}

/* A record belongs to group G when its id or an alias is G: its other ids
 * are G's aliases. With few groups the text is searched for each before
 * it is parsed; with many, each record is parsed once and its ids looked
 * up. */
#define EX_FEW_GROUPS 16

static kb_err ex_alias(void *ctx, const struct db_vuln_advisory *a)
{
    struct ex_ctx *c = ctx;
    if (!a->osv)
        return KB_OK;
    if (c->ngroups <= EX_FEW_GROUPS) {
        for (size_t i = 0; i < c->ngroups; i++) {
            struct ex_group *g = &c->groups[i];
            char quoted[256];
            snprintf(quoted, sizeof quoted, "\"%s\"", g->key);
            if (strcmp(a->id, g->key) != 0 && !strstr(a->osv, quoted))
                continue;
            struct alias_ctx ac = {g};
            kb_err e = osv_each_id(a->osv, a->osv_len, add_alias, &ac);
            if (e)
                return e;
        }
        return KB_OK;
    }
    struct ids_ctx ids = {0};
    kb_err e = osv_each_id(a->osv, a->osv_len, add_id, &ids);
    for (size_t i = 0; !e && i < ids.n; i++) {
        struct ex_group key = {.key = ids.v[i]};
        struct ex_group *g = bsearch(&key, c->groups, c->ngroups, sizeof *g, group_cmp);
        struct alias_ctx ac = {g};
        for (size_t j = 0; g && j < ids.n; j++)
            add_alias(&ac, kb_str_c(ids.v[j]));
    }
    for (size_t i = 0; i < ids.n; i++)
        free(ids.v[i]);
    return e;
}

static void write_statement(struct jw *w, const struct ex_row *r, const struct ex_group *g)
{
    char ts[32], purl[PURL_MAX_LEN];
    jw_obj_begin(w);
    jw_key(w, "vulnerability");
    jw_obj_begin(w);
    jw_kv_str(w, "name", r->key[0]);
    if (g && g->n) {
        jw_key(w, "aliases");
        jw_arr_begin(w);
        for (size_t i = 0; i < g->n; i++)
            jw_str(w, g->aliases[i]);
        jw_arr_end(w);
    }
    jw_obj_end(w);
    kb_time_format(r->t.at, ts);
    jw_kv_str(w, "timestamp", ts);
    jw_key(w, "products");
    jw_arr_begin(w);
    jw_obj_begin(w);
    jw_kv_str(w, "@id", r->key[1]);
    jw_key(w, "subcomponents");
    jw_arr_begin(w);
    jw_obj_begin(w);
    package_purl(r->key[2], r->key[3], r->installed, purl, sizeof purl);
    jw_kv_str(w, "@id", purl);
    jw_obj_end(w);
    jw_arr_end(w);
    jw_obj_end(w);
    jw_arr_end(w);
    jw_kv_str(w, "status", db_vuln_triage_status_name(r->t.status));
    const char *note = r->t.note && *r->t.note ? r->t.note : NULL;
    switch (r->t.status) {
    case DB_VULN_NOT_AFFECTED:
        jw_kv_str(w, "justification", r->t.justification);
        if (note)
            jw_kv_str(w, "impact_statement", note);
        break;
    case DB_VULN_AFFECTED:
        jw_kv_str(w, "action_statement",
                  note ? note : "No action recorded in koban: upgrade when a fix is available.");
        break;
    default:
        if (note)
            jw_kv_str(w, "status_notes", note);
    }
    jw_obj_end(w);
}

static void ex_release(struct ex_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (int j = 0; j < 4; j++)
            free(c->rows[i].key[j]);
        free(c->rows[i].installed);
        db_vuln_triage_release(&c->rows[i].t);
    }
    for (size_t i = 0; i < c->ngroups; i++)
        for (size_t j = 0; j < c->groups[i].n; j++)
            free(c->groups[i].aliases[j]);
    free(c->groups);
    free(c->rows);
}

kb_err openvex_export(struct db_vuln *dv, const struct openvex_export_opts *o, struct buf *out,
                      size_t *nstatements, struct kb_why *why)
{
    if (!o->author || !*o->author)
        return kb_fail(why, KB_EINVAL, "an author is required");
    struct ex_ctx c = {.dv = dv};
    kb_err e = db_vuln_triage_each(dv, o->asset, ex_row, &c);
    if (e == KB_ETOOBIG)
        kb_fail(why, e, "more than %u triaged findings", OPENVEX_MAX_STATEMENTS);
    else if (e)
        kb_fail(why, e, "reading triage: %s", kb_strerror(e));
    if (!e && c.n) {
        /* the aliases of every group exported, in one pass over the advisories */
        c.groups = kb_calloc(c.n, sizeof *c.groups);
        for (size_t i = 0; i < c.n; i++)
            c.groups[i].key = c.rows[i].key[0];
        qsort(c.groups, c.n, sizeof *c.groups, group_cmp);
        size_t u = 0;
        for (size_t i = 0; i < c.n; i++)
            if (!u || strcmp(c.groups[u - 1].key, c.groups[i].key) != 0)
                c.groups[u++] = c.groups[i];
        c.ngroups = u;
        e = db_vuln_advisory_each(dv, ex_alias, &c);
        if (e)
            kb_fail(why, e, "reading advisories: %s", kb_strerror(e));
    }
    if (e) {
        ex_release(&c);
        return e;
    }
    struct buf st = BUF_INIT(OPENVEX_MAX_BYTES);
    struct jw w;
    jw_init(&w, &st);
    jw_arr_begin(&w);
    for (size_t i = 0; i < c.n; i++) {
        struct ex_group key = {.key = c.rows[i].key[0]};
        const struct ex_group *g =
            c.ngroups ? bsearch(&key, c.groups, c.ngroups, sizeof *c.groups, group_cmp) : NULL;
        write_statement(&w, &c.rows[i], g);
    }
    jw_arr_end(&w);
    e = jw_finish(&w);
    if (!e) {
        char ts[32], id[64];
        kb_time_format(o->now, ts);
        XXH128_hash_t h = XXH3_128bits_withSeed(st.p, st.len, (XXH64_hash_t)o->now);
        uint64_t hi = h.high64, lo = h.low64;
        /* a UUID shape (version 8: vendor-specific) over the hash */
        snprintf(id, sizeof id, "urn:uuid:%08x-%04x-8%03x-%04x-%012llx",
                 (unsigned)(hi >> 32), (unsigned)(hi >> 16) & 0xffff, (unsigned)hi & 0xfff,
                 (unsigned)(0x8000 | ((lo >> 48) & 0x3fff)),
                 (unsigned long long)(lo & 0xffffffffffffull));
        buf_reset(out);
        jw_init(&w, out);
        jw_obj_begin(&w);
        jw_kv_str(&w, "@context", OPENVEX_CONTEXT);
        jw_kv_str(&w, "@id", id);
        jw_kv_str(&w, "author", o->author);
        jw_kv_str(&w, "timestamp", ts);
        jw_kv_int(&w, "version", 1);
        jw_kv_str(&w, "tooling", "koban");
        jw_key(&w, "statements");
        jw_raw(&w, st.p, st.len);
        jw_obj_end(&w);
        e = jw_finish(&w);
    }
    if (e)
        kb_fail(why, e, "the document is over %u bytes", OPENVEX_MAX_BYTES);
    if (nstatements)
        *nstatements = c.n;
    buf_release(&st);
    ex_release(&c);
    return e;
}

/* ---- import ---- */

void openvex_doc_release(struct openvex_doc *d)
{
    arena_release(&d->ar);
    memset(d, 0, sizeof *d);
}

/* A copy of a JSON string member in the doc's arena: NULL when absent;
 * KB_EINVAL when present and not a non-empty string. */
static kb_err get_str(struct openvex_doc *d, const struct json_value *obj, const char *key,
                      const char **out)
{
    *out = NULL;
    const struct json_value *v = json_get(obj, key);
    if (!v || v->type == JSON_NULL)
        return KB_OK;
    struct kb_str s = json_str(v);
    if (!s.p || !s.n)
        return KB_EINVAL;
    *out = arena_strndup(&d->ar, s.p, s.n);
    return *out ? KB_OK : KB_ETOOBIG;
}

#define SFAIL(...) kb_fail(why, KB_EINVAL, __VA_ARGS__)

/* A product: an object with @id (or identifiers.purl) and optional
 * subcomponents, or a string (OpenVEX before 0.2.0). */
static kb_err parse_product(struct openvex_doc *d, size_t si, size_t pi,
                            const struct json_value *v, struct openvex_product *p,
                            struct kb_why *why)
{
    memset(p, 0, sizeof *p);
    if (v->type == JSON_STRING) {
        struct kb_str s = json_str(v);
        p->id = s.n ? arena_strndup(&d->ar, s.p, s.n) : NULL;
        return p->id ? KB_OK : SFAIL("statement %zu: products[%zu]: empty", si, pi);
    }
    if (v->type != JSON_OBJECT)
        return SFAIL("statement %zu: products[%zu]: not an object", si, pi);
    if (get_str(d, v, "@id", &p->id))
        return SFAIL("statement %zu: products[%zu].@id: not a string", si, pi);
    if (!p->id && get_str(d, json_get(v, "identifiers"), "purl", &p->id))
        return SFAIL("statement %zu: products[%zu].identifiers.purl: not a string", si, pi);
    if (!p->id)
        return SFAIL("statement %zu: products[%zu]: no @id or identifiers.purl", si, pi);
    const struct json_value *subs = json_get(v, "subcomponents");
    if (!subs || subs->type == JSON_NULL)
        return KB_OK;
    if (subs->type != JSON_ARRAY || subs->len > OPENVEX_MAX_LIST)
        return SFAIL("statement %zu: products[%zu].subcomponents: not an array of at most %u",
                     si, pi, OPENVEX_MAX_LIST);
    p->subs = arena_alloc(&d->ar, (subs->len + 1) * sizeof *p->subs);
    if (!p->subs)
        return KB_ETOOBIG;
    size_t k = 0;
    for (const struct json_value *c = subs->u.child; c; c = c->next, k++) {
        const char *id = NULL;
        if (c->type == JSON_STRING) {
            struct kb_str s = json_str(c);
            id = s.n ? arena_strndup(&d->ar, s.p, s.n) : NULL;
        } else if (c->type == JSON_OBJECT) {
            if (get_str(d, c, "@id", &id) == KB_OK && !id)
                get_str(d, json_get(c, "identifiers"), "purl", &id);
        }
        if (!id)
            return SFAIL("statement %zu: products[%zu].subcomponents[%zu]: no @id", si, pi, k);
        p->subs[p->nsubs++] = id;
    }
    return KB_OK;
}

static kb_err parse_vuln(struct openvex_doc *d, size_t si, const struct json_value *v,
                         struct openvex_statement *s, struct kb_why *why)
{
    if (v && v->type == JSON_STRING) {
        struct kb_str n = json_str(v);
        s->vuln = n.n ? arena_strndup(&d->ar, n.p, n.n) : NULL;
        return s->vuln ? KB_OK : SFAIL("statement %zu: vulnerability: empty", si);
    }
    if (!v || v->type != JSON_OBJECT)
        return SFAIL("statement %zu: vulnerability: missing or not an object", si);
    if (get_str(d, v, "name", &s->vuln) || (!s->vuln && get_str(d, v, "@id", &s->vuln)))
        return SFAIL("statement %zu: vulnerability.name: not a string", si);
    if (!s->vuln)
        return SFAIL("statement %zu: vulnerability.name: missing", si);
    const struct json_value *al = json_get(v, "aliases");
    if (!al || al->type == JSON_NULL)
        return KB_OK;
    if (al->type != JSON_ARRAY || al->len > OPENVEX_MAX_LIST)
        return SFAIL("statement %zu: vulnerability.aliases: not an array of at most %u", si,
                     OPENVEX_MAX_LIST);
    s->aliases = arena_alloc(&d->ar, (al->len + 1) * sizeof *s->aliases);
    if (!s->aliases)
        return KB_ETOOBIG;
    size_t k = 0;
    for (const struct json_value *c = al->u.child; c; c = c->next, k++) {
        struct kb_str n = json_str(c);
        if (!n.n)
            return SFAIL("statement %zu: vulnerability.aliases[%zu]: not a string", si, k);
        s->aliases[s->naliases++] = arena_strndup(&d->ar, n.p, n.n);
    }
    return KB_OK;
}

static kb_err parse_statement(struct openvex_doc *d, size_t si, const struct json_value *v,
                              struct openvex_statement *s, struct kb_why *why)
{
    memset(s, 0, sizeof *s);
    s->timestamp = d->timestamp;
    if (v->type != JSON_OBJECT)
        return SFAIL("statement %zu: not an object", si);
    kb_err e = parse_vuln(d, si, json_get(v, "vulnerability"), s, why);
    if (e)
        return e;
    const char *status = NULL;
    if (get_str(d, v, "status", &status) || !status)
        return SFAIL("statement %zu: status: missing or not a string", si);
    if (db_vuln_triage_status_parse(status, &s->status))
        return SFAIL("statement %zu: status: '%s' is not not_affected, affected, fixed or "
                     "under_investigation", si, status);
    static const char *const texts[] = {"justification", "impact_statement", "action_statement",
                                        "status_notes"};
    const char **dst[] = {&s->justification, &s->impact, &s->action, &s->notes};
    for (size_t i = 0; i < 4; i++)
        if (get_str(d, v, texts[i], dst[i]))
            return SFAIL("statement %zu: %s: not a string", si, texts[i]);
    if (s->justification && !vuln_justification_valid(s->justification))
        return SFAIL("statement %zu: justification: '%s' is not an OpenVEX justification", si,
                     s->justification);
    if (s->status == DB_VULN_NOT_AFFECTED && !s->justification && !s->impact)
        return SFAIL("statement %zu: justification: not_affected needs a justification or an "
                     "impact_statement", si);
    if (s->status == DB_VULN_AFFECTED && !s->action)
        return SFAIL("statement %zu: action_statement: affected needs one", si);
    const char *ts = NULL;
    if (get_str(d, v, "timestamp", &ts))
        return SFAIL("statement %zu: timestamp: not a string", si);
    if (ts && kb_time_parse_rfc3339(kb_str_c(ts), &s->timestamp))
        return SFAIL("statement %zu: timestamp: '%s' is not RFC 3339", si, ts);
    const struct json_value *pr = json_get(v, "products");
    if (!pr || pr->type != JSON_ARRAY || pr->len == 0 || pr->len > OPENVEX_MAX_LIST)
        return SFAIL("statement %zu: products: missing, empty or over %u", si, OPENVEX_MAX_LIST);
    s->products = arena_alloc(&d->ar, pr->len * sizeof *s->products);
    if (!s->products)
        return KB_ETOOBIG;
    for (const struct json_value *c = pr->u.child; c; c = c->next) {
        e = parse_product(d, si, s->nproducts, c, &s->products[s->nproducts], why);
        if (e)
            return e;
        s->nproducts++;
    }
    return KB_OK;
}

static kb_err parse_doc(const char *text, size_t len, struct openvex_doc *d, struct kb_why *why)
{
    struct json_value *root = NULL;
    struct json_limits lim = {.max_depth = 32, .max_bytes = OPENVEX_MAX_BYTES};
    struct json_error je = {0};
    if (len > OPENVEX_MAX_BYTES)
        return kb_fail(why, KB_ETOOBIG, "over %u bytes", OPENVEX_MAX_BYTES);
    if (json_parse(text, len, &lim, &d->ar, &root, &je))
        return kb_fail(why, KB_EPARSE, "not JSON: line %u column %u: %s", je.line, je.col,
                       je.msg);
    if (!root || root->type != JSON_OBJECT)
        return SFAIL("not a JSON object");
    const char *ctx = NULL;
    if (get_str(d, root, "@context", &ctx) || !ctx ||
        strncmp(ctx, "https://openvex.dev/ns", 22) != 0)
        return SFAIL("@context: not an OpenVEX context (%s)", OPENVEX_CONTEXT);
    if (get_str(d, root, "@id", &d->id) || !d->id)
        return SFAIL("@id: missing or not a string");
    if (get_str(d, root, "author", &d->author) || !d->author)
        return SFAIL("author: missing or not a string");
    const char *ts = NULL;
    if (get_str(d, root, "timestamp", &ts) || !ts ||
        kb_time_parse_rfc3339(kb_str_c(ts), &d->timestamp))
        return SFAIL("timestamp: missing or not RFC 3339");
    const struct json_value *st = json_get(root, "statements");
    if (!st || st->type != JSON_ARRAY)
        return SFAIL("statements: missing or not an array");
    if (st->len > OPENVEX_MAX_STATEMENTS)
        return kb_fail(why, KB_ETOOBIG, "statements: over %u", OPENVEX_MAX_STATEMENTS);
    d->st = arena_alloc(&d->ar, (st->len + 1) * sizeof *d->st);
    if (!d->st)
        return KB_ETOOBIG;
    for (const struct json_value *c = st->u.child; c; c = c->next) {
        kb_err e = parse_statement(d, d->n, c, &d->st[d->n], why);
        if (e)
            return e == KB_ETOOBIG ? kb_fail(why, e, "statement %zu: too large", d->n) : e;
        d->n++;
    }
    return KB_OK;
}

kb_err openvex_parse(const char *text, size_t len, struct openvex_doc *out, struct kb_why *why)
{
    memset(out, 0, sizeof *out);
    arena_init(&out->ar, (size_t)4 * OPENVEX_MAX_BYTES);
    kb_err e = parse_doc(text, len, out, why);
    if (e)
        openvex_doc_release(out);
    return e;
}

void openvex_statement_triage(const struct openvex_statement *s, const char *author,
                              struct db_vuln_triage *out)
{
    *out = (struct db_vuln_triage){
        .status = s->status,
        .justification = s->status == DB_VULN_NOT_AFFECTED ? s->justification : NULL,
        .note = s->impact ? s->impact : s->action ? s->action : s->notes,
        .author = author,
        .at = s->timestamp,
    };
}

/* ---- matching ---- */

void openvex_matches_release(struct openvex_matches *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].group_key);
        free(m->v[i].asset);
        free(m->v[i].ecosystem);
        free(m->v[i].package);
    }
    free(m->v);
    memset(m, 0, sizeof *m);
}

/* What one product (or subcomponent) selects. */
struct sel {
    const char *asset;   /* NULL: any */
    char eco[64];        /* ecosystem without release; "" any */
    char name[1024];     /* package; "" any */
};

/* A purl selects a package; anything else an asset. */
static bool sel_purl(const char *id, struct sel *s)
{
    if (strncmp(id, "pkg:", 4) != 0)
        return false;
    struct arena ar = ARENA_INIT(64 * 1024);
    struct purl p;
    bool ok = purl_parse(id, strlen(id), &ar, &p, NULL) == KB_OK &&
              purl_package_name(&p, s->name, sizeof s->name) == KB_OK;
    char eco[128];
    if (ok && purl_ecosystem(&p, eco, sizeof eco) == KB_OK)
        eco_base(eco, s->eco, sizeof s->eco);
    arena_release(&ar);
    return ok;
}

struct match_ctx {
    const struct sel *sel;
    struct openvex_matches *out;
};

static kb_err match_row(void *ctx, const struct db_vuln_finding *f)
{
    struct match_ctx *m = ctx;
    char base[64];
    eco_base(f->ecosystem, base, sizeof base);
    if ((m->sel->eco[0] && strcmp(m->sel->eco, base) != 0) ||
        (m->sel->name[0] && strcmp(m->sel->name, f->package) != 0))
        return KB_OK;
    struct openvex_matches *o = m->out;
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].group_key, f->group_key) && !strcmp(o->v[i].asset, f->asset) &&
            !strcmp(o->v[i].ecosystem, f->ecosystem) && !strcmp(o->v[i].package, f->package))
            return KB_OK;
    if (o->n >= OPENVEX_MAX_MATCHES)
        return KB_ETOOBIG;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 8;
        o->v = kb_realloc(o->v, o->cap * sizeof *o->v);
    }
    o->v[o->n++] = (struct openvex_match){kb_strdup(f->group_key), kb_strdup(f->asset),
                                          kb_strdup(f->ecosystem), kb_strdup(f->package)};
    return KB_OK;
}

static kb_err advisory_ids(void *ctx, const struct db_vuln_advisory *a)
{
    if (a->group_key)
        add_id(ctx, kb_str_c(a->group_key));
    return osv_each_id(a->osv, a->osv_len, add_id, ctx);
}

/* Findings of the vulnerability id that sel selects: the id as a group
 * key, and the group keys a stored advisory of that id can have (its
 * group, its aliases). */
static kb_err match_id(struct db_vuln *dv, const char *id, const struct sel *sel,
                       struct openvex_matches *out)
{
    struct ids_ctx ids = {0};
    db_vuln_advisory_get(dv, id, advisory_ids, &ids);
    struct match_ctx m = {sel, out};
    struct db_vuln_finding_filter flt = {.asset = sel->asset, .group_key = id, .state = -1};
    kb_err e = db_vuln_finding_each(dv, &flt, match_row, &m);
    for (size_t i = 0; !e && i < ids.n; i++) {
        if (!strcmp(ids.v[i], id))
            continue;
        flt.group_key = ids.v[i];
        e = db_vuln_finding_each(dv, &flt, match_row, &m);
    }
    for (size_t i = 0; i < ids.n; i++)
        free(ids.v[i]);
    return e;
}

kb_err openvex_match(struct db_vuln *dv, const struct openvex_statement *s,
                     struct openvex_matches *out, struct kb_why *why)
{
    kb_err e = KB_OK;
    for (size_t p = 0; !e && p < s->nproducts; p++) {
        const struct openvex_product *pr = &s->products[p];
        struct sel base = {0};
        if (!sel_purl(pr->id, &base))
            base.asset = pr->id;
        for (size_t k = 0; !e && k < (pr->nsubs ? pr->nsubs : 1); k++) {
            struct sel sl = base;
            if (pr->nsubs && !sel_purl(pr->subs[k], &sl))
                continue; /* a subcomponent koban cannot name as a package */
            for (size_t a = 0; !e && a <= s->naliases; a++)
                e = match_id(dv, a ? s->aliases[a - 1] : s->vuln, &sl, out);
        }
    }
    if (e == KB_ETOOBIG)
        return kb_fail(why, e, "more than %u findings", OPENVEX_MAX_MATCHES);
    if (e)
        return kb_fail(why, e, "reading findings: %s", kb_strerror(e));
    return KB_OK;
}
