/* vuln_engine_match.c — one package into finding candidates: exact hits
 * through the advisory index, loose hits of suspected CPE records (rules
 * in vuln_engine.h). */
#include "vuln/vuln_engine_internal.h"

#include "lib/json.h"
#include "vuln/advisory_index_internal.h"
#include "vuln/version.h"

#include <stdlib.h>
#include <string.h>

#define VE_MAX_EVENTS 64 /* events of one loose range considered */

bool ve_record_suspected(const struct osv_record *r)
{
    if (!r || !r->database_specific)
        return false;
    struct arena a = ARENA_INIT(256u * 1024);
    struct json_value *root = NULL;
    bool s = false;
    if (json_parse(r->database_specific, strlen(r->database_specific), NULL, &a, &root, NULL) ==
        KB_OK)
        s = kb_str_eq(json_str(json_path(root, "koban.match")), "suspected");
    arena_release(&a);
    return s;
}

bool ve_normalize_product(const char *name, char *out, size_t outsz)
{
    if (!name || outsz == 0)
        return false;
    /* The part that names the product: after a Maven group, an npm scope,
     * a Go module path or a CPE vendor. */
    const char *p = name;
    for (const char *q = name; *q; q++)
        if (*q == ':' || *q == '/')
            p = q + 1;
    size_t n = 0;
    for (; *p; p++) {
        if (n + 1 >= outsz)
            return false;
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == '-' || c == '.')
            c = '_';
        out[n++] = c;
    }
    out[n] = '\0';
    return n > 0;
}

const char *ve_susp_key(const struct osv_record *r)
{
    const char *key = NULL;
    if (strncmp(r->id, "CVE-", 4) == 0)
        key = r->id;
    for (size_t i = 0; i < r->naliases; i++)
        if (strncmp(r->aliases[i], "CVE-", 4) == 0 && (!key || strcmp(r->aliases[i], key) < 0))
            key = r->aliases[i];
    return key ? key : r->id;
}

static bool is_cpe(const struct osv_affected *a)
{
    return a->package.ecosystem && a->package.name && strcmp(a->package.ecosystem, "CPE") == 0;
}

kb_err ve_susp_products(const struct osv_record *r, kb_err (*fn)(void *ctx, const char *product),
                        void *ctx)
{
    char prod[VE_MAX_PRODUCT];
    for (size_t i = 0; i < r->naffected; i++) {
        if (!is_cpe(&r->affected[i]) ||
            !ve_normalize_product(r->affected[i].package.name, prod, sizeof prod))
            continue;
        kb_err e = fn(ctx, prod);
        if (e)
            return e;
    }
    return KB_OK;
}

static int cmp_rec(const void *a, const void *b)
{
    return strcmp((*(const struct osv_record *const *)a)->id,
                  (*(const struct osv_record *const *)b)->id);
}

static int cmp_id_rec(const void *key, const void *b)
{
    return strcmp(key, (*(const struct osv_record *const *)b)->id);
}

const struct osv_record *ve_susp_find(const struct vuln_engine *e, const char *id)
{
    if (!id)
        return NULL;
    if (!e->susp_sorted) { /* between a change and ve_susp_rebuild */
        for (size_t i = 0; i < e->nsusp; i++)
            if (strcmp(e->susp[i]->id, id) == 0)
                return e->susp[i];
        return NULL;
    }
    const struct osv_record *const *hit =
        bsearch(id, e->susp_sorted, e->nsusp, sizeof *e->susp_sorted, cmp_id_rec);
    return hit ? *hit : NULL;
}

/* The sorted view and the product index point into the records: gone
 * with any change, until ve_susp_rebuild. */
static void susp_invalidate(struct vuln_engine *e)
{
    free(e->sidx);
    free(e->susp_sorted);
    e->sidx = NULL;
    e->susp_sorted = NULL;
    e->nsidx = 0;
    arena_reset(&e->susp_arena);
}

void ve_susp_set(struct vuln_engine *e, const char *id, struct osv_record *r)
{
    susp_invalidate(e);
    for (size_t i = 0; i < e->nsusp; i++)
        if (strcmp(e->susp[i]->id, id) == 0) {
            osv_record_free(e->susp[i]);
            e->susp[i] = e->susp[--e->nsusp];
            break;
        }
    if (!r || r->withdrawn || !ve_record_suspected(r) || e->nsusp >= VULN_ENGINE_MAX_SUSPECTED) {
        osv_record_free(r);
        return;
    }
    if (e->nsusp == e->capsusp) {
        e->capsusp = e->capsusp ? e->capsusp * 2 : 16;
        e->susp = kb_realloc(e->susp, e->capsusp * sizeof *e->susp);
    }
    e->susp[e->nsusp++] = r;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct ve_susp_entry *x = a, *y = b;
    int c = strcmp(x->product, y->product);
    return c ? c : x->rec < y->rec ? -1 : x->rec > y->rec;
}

void ve_susp_rebuild(struct vuln_engine *e)
{
    susp_invalidate(e);
    if (!e->nsusp)
        return;
    e->susp_sorted = kb_malloc(e->nsusp * sizeof *e->susp_sorted);
    size_t total = 0;
    for (size_t i = 0; i < e->nsusp; i++) {
        e->susp_sorted[i] = e->susp[i];
        total += e->susp[i]->naffected;
    }
    qsort(e->susp_sorted, e->nsusp, sizeof *e->susp_sorted, cmp_rec);
    e->sidx = kb_malloc((total ? total : 1) * sizeof *e->sidx);
    char prod[VE_MAX_PRODUCT];
    for (size_t i = 0; i < e->nsusp; i++)
        for (size_t j = 0; j < e->susp[i]->naffected; j++) {
            const struct osv_affected *a = &e->susp[i]->affected[j];
            if (!is_cpe(a) || !ve_normalize_product(a->package.name, prod, sizeof prod))
                continue;
            const char *p = arena_strndup(&e->susp_arena, prod, strlen(prod));
            if (!p)
                break; /* past the arena's bound: the rest are not indexed */
            e->sidx[e->nsidx++] = (struct ve_susp_entry){p, i, j};
        }
    qsort(e->sidx, e->nsidx, sizeof *e->sidx, cmp_entry);
}

/* ---- loose evaluation ---- */

/* a vs b under eco; false when the ordering refuses either. */
static bool vcmp(enum version_eco eco, const char *a, const char *b, int *c)
{
    if (strcmp(a, "0") == 0 || strcmp(b, "0") == 0) {
        /* OSV's "0": before every version */
        *c = strcmp(a, b) == 0 ? 0 : strcmp(a, "0") == 0 ? -1 : 1;
        return true;
    }
    return version_compare(eco, a, b, c, NULL) == KB_OK;
}

/* Whether version lies in the range (loosely, see vuln_engine.h): the
 * greatest introduced at or below it, with no fixed, last_affected or
 * limit between that and it. *fixed: the smallest fixed above it. An
 * ordering that refuses a version makes the range count as affected. */
static bool loose_range(const struct osv_range *rg, enum version_eco eco, const char *version,
                        const char **fixed)
{
    const char *intro = NULL;
    size_t n = KB_MIN(rg->nevents, (size_t)VE_MAX_EVENTS);
    int c;
    for (size_t i = 0; i < n; i++) {
        const struct osv_event *ev = &rg->events[i];
        if (ev->kind != OSV_EV_INTRODUCED)
            continue;
        if (!vcmp(eco, ev->value, version, &c))
            return true;
        int c2 = 0;
        if (c <= 0 && (!intro || (vcmp(eco, ev->value, intro, &c2) && c2 > 0)))
            intro = ev->value;
    }
    if (!intro)
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct osv_event *ev = &rg->events[i];
        int cv = 0, ci = 0;
        if (ev->kind == OSV_EV_INTRODUCED)
            continue;
        if (!vcmp(eco, ev->value, version, &cv) || !vcmp(eco, ev->value, intro, &ci))
            return true;
        if (ev->kind == OSV_EV_FIXED && ci > 0 && cv <= 0)
            return false;
        if (ev->kind == OSV_EV_LAST_AFFECTED && ci >= 0 && cv < 0)
            return false;
        if (ev->kind == OSV_EV_LIMIT && cv <= 0)
            return false;
    }
    for (size_t i = 0; i < n; i++) {
        const struct osv_event *ev = &rg->events[i];
        int cv = 0, cf = 0;
        if (ev->kind == OSV_EV_FIXED && vcmp(eco, ev->value, version, &cv) && cv > 0 &&
            (!*fixed || (vcmp(eco, ev->value, *fixed, &cf) && cf < 0)))
            *fixed = ev->value;
    }
    return true;
}

/* Whether the CPE entry affects version; *fixed as above. */
static bool loose_entry(const struct osv_affected *a, const char *ecosystem, const char *version,
                        const char **fixed)
{
    enum version_eco eco;
    if (version_eco_parse(ecosystem, &eco) != KB_OK)
        eco = VERSION_SEMVER;
    for (size_t i = 0; i < a->nversions; i++)
        if (strcmp(a->versions[i], version) == 0)
            return true;
    bool any = false, hit = false;
    for (size_t i = 0; i < a->nranges; i++) {
        const struct osv_range *rg = &a->ranges[i];
        if (rg->type != OSV_RANGE_SEMVER && rg->type != OSV_RANGE_ECOSYSTEM)
            continue;
        any = true;
        if (loose_range(rg, eco, version, fixed))
            hit = true;
    }
    return hit || (!any && a->nversions == 0);
}

/* ---- candidates ---- */

static bool higher(const char *ecosystem, const char *a, const char *b)
{
    enum version_eco eco;
    int c;
    if (version_eco_parse(ecosystem, &eco) != KB_OK)
        eco = VERSION_SEMVER;
    if (version_compare(eco, a, b, &c, NULL) != KB_OK)
        c = strcmp(a, b);
    return c > 0;
}

static kb_err join_aliases(struct arena *ar, const char *key, const char *own_id,
                           const char *const *al, size_t n, const char **out)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(al[i]) + 1;
    if (own_id)
        len += strlen(own_id) + 1;
    char *s = arena_alloc(ar, len);
    if (!s)
        return KB_ETOOBIG;
    size_t k = 0;
    if (own_id && strcmp(own_id, key) != 0) {
        memcpy(s, own_id, strlen(own_id));
        k += strlen(own_id);
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(al[i], key) == 0)
            continue;
        if (k)
            s[k++] = ',';
        memcpy(s + k, al[i], strlen(al[i]));
        k += strlen(al[i]);
    }
    s[k] = '\0';
    *out = s;
    return KB_OK;
}

static const char *dup(struct arena *ar, const char *s)
{
    return s ? arena_strndup(ar, s, strlen(s)) : NULL;
}

/* Adds c to out, merging with a candidate of the same key: the higher
 * severity and score, the highest fix, the lowest installed version; an
 * exact hit makes the finding exact. */
static kb_err add_cand(struct ve_cands *out, const struct ve_cand *c)
{
    for (size_t i = 0; i < out->n; i++) {
        struct ve_cand *o = &out->v[i];
        if (strcmp(o->group_key, c->group_key) || strcmp(o->ecosystem, c->ecosystem) ||
            strcmp(o->package, c->package))
            continue;
        o->severity = KB_MAX(o->severity, c->severity);
        o->score = KB_MAX(o->score, c->score);
        if (c->fixed && (!o->fixed || higher(o->ecosystem, c->fixed, o->fixed)))
            o->fixed = c->fixed;
        if (higher(o->ecosystem, o->installed, c->installed))
            o->installed = c->installed;
        o->suspected = o->suspected && c->suspected;
        return KB_OK;
    }
    if (out->n >= INVENTORY_MAX_PACKAGES)
        return KB_ETOOBIG;
    if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 16;
        out->v = kb_realloc(out->v, out->cap * sizeof *out->v);
    }
    out->v[out->n++] = *c;
    return KB_OK;
}

struct exact_ctx {
    struct vuln_engine *e;
    struct arena *ar;
    const char *ecosystem, *name, *version;
    struct ve_cands *out;
};

static kb_err on_exact(void *vctx, const struct advidx_hit *h)
{
    struct exact_ctx *x = vctx;
    struct ve_cand c = {
        .group_key = dup(x->ar, h->group_key),
        .ecosystem = dup(x->ar, x->ecosystem),
        .package = dup(x->ar, x->name),
        .installed = dup(x->ar, x->version),
        .fixed = dup(x->ar, h->match->fixed),
        .severity = h->severity,
        .score = h->score,
        .suspected = ve_susp_find(x->e, h->record->id) != NULL,
    };
    kb_err err = join_aliases(x->ar, h->group_key, NULL, h->aliases, h->naliases, &c.aliases);
    if (err)
        return err;
    if (!c.group_key || !c.ecosystem || !c.package || !c.installed || (h->match->fixed && !c.fixed))
        return KB_ETOOBIG;
    return add_cand(x->out, &c);
}

kb_err ve_match_package(struct vuln_engine *e, struct arena *ar, const char *ecosystem,
                        const char *name, const char *version, const char *source,
                        struct ve_cands *out, size_t *unsure)
{
    struct exact_ctx x = {e, ar, ecosystem, name, version, out};
    size_t u = 0;
    kb_err err = advidx_match(e->idx, ecosystem, name, version, on_exact, &x, &u);
    char src[256], srcver[256];
    if (!err && inventory_source_of(ecosystem, name, source, version, src, sizeof src, srcver,
                                    sizeof srcver)) {
        /* the binary's finding, decided on its source package's version */
        struct exact_ctx xs = {e, ar, ecosystem, name, srcver, out};
        err = advidx_match(e->idx, ecosystem, src, srcver, on_exact, &xs, &u);
    }
    if (unsure)
        *unsure += u;
    if (err || !e->nsidx)
        return err;
    char prod[VE_MAX_PRODUCT];
    if (!ve_normalize_product(name, prod, sizeof prod))
        return KB_OK;
    /* first entry with this product */
    size_t lo = 0, hi = e->nsidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(e->sidx[mid].product, prod) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < e->nsidx && strcmp(e->sidx[i].product, prod) == 0; i++) {
        const struct osv_record *r = e->susp[e->sidx[i].rec];
        const char *fixed = NULL;
        if (!loose_entry(&r->affected[e->sidx[i].aff], ecosystem, version, &fixed))
            continue;
        struct rec_info ri;
        advidx_rec_severity(r, &ri);
        const char *key = ve_susp_key(r);
        struct ve_cand c = {
            .group_key = dup(ar, key),
            .ecosystem = dup(ar, ecosystem),
            .package = dup(ar, name),
            .installed = dup(ar, version),
            .fixed = dup(ar, fixed),
            .severity = ri.severity,
            .score = ri.from && strncmp(ri.from, "CVSS", 4) == 0 ? ri.score : -1,
            .suspected = true,
        };
        if ((err = join_aliases(ar, key, r->id, (const char *const *)r->aliases, r->naliases,
                                &c.aliases)))
            return err;
        if (!c.group_key || !c.ecosystem || !c.package || !c.installed || (fixed && !c.fixed))
            return KB_ETOOBIG;
        if ((err = add_cand(out, &c)))
            return err;
    }
    return KB_OK;
}
