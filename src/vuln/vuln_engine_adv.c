/* vuln_engine_adv.c — advisory changes (which asset packages to evaluate
 * again), evaluating everything, and the package search (vuln_engine.h).
 *
 * A changed record can change findings on the packages its affected[]
 * names before and after the change (advidx_findings on the old and the
 * new index), on the packages that carry a stored open finding of the
 * groups it belonged to or joins (aliases move findings between group
 * keys), and for a suspected record on every package whose name is one of
 * its CPE products. Each such (asset, ecosystem, package) is evaluated
 * whole, so a finding is always the verdict of every record of its group.
 */
#include "vuln/vuln_engine_internal.h"

#include <stdlib.h>
#include <string.h>

#define VE_TARGET_ARENA ((size_t)2 << 30)
#define VE_MAX_TARGETS 10000000u /* packages one call re-evaluates */
#define VE_MAX_KEYS 1000000u     /* group keys and products one call looks up */

/* ---- the asset index, rebuilt from the store when stale ---- */

struct build_ctx {
    struct vuln_engine *e;
    struct inventory inv;
    struct kb_why *why;
};

static kb_err build_pkg(void *ctx, const struct db_vuln_package *p)
{
    struct build_ctx *b = ctx;
    return inventory_add(&b->inv, p->ecosystem, kb_str_c(p->name), kb_str_c(p->version),
                         p->srcpkg, NULL, p->location, false);
}

static kb_err build_asset(void *ctx, const struct db_vuln_asset *a)
{
    struct build_ctx *b = ctx;
    b->inv = (struct inventory)INVENTORY_INIT;
    kb_err err = db_vuln_package_each(b->e->dv, a->name, NULL, NULL, build_pkg, b);
    if (!err && b->inv.n)
        err = assetidx_add(b->e->assets, a->name, &b->inv, b->why);
    inventory_release(&b->inv);
    return err;
}

kb_err ve_assets_replace(struct vuln_engine *e, const char *asset,
                         const struct db_vuln_package *rows, size_t n, struct kb_why *why)
{
    if (!e->assets)
        return KB_OK; /* built from the store when first needed */
    struct assetidx_stats st;
    assetidx_stats(e->assets, &st);
    assetidx_drop_asset(e->assets, asset);
    if (assetidx_dead(e->assets) > st.entries) {
        /* more dropped than live: rebuild (lazily) to give the memory back */
        assetidx_free(e->assets);
        e->assets = NULL;
        return KB_OK;
    }
    /* as build_asset does with the same rows read from the store */
    struct build_ctx b = {.e = e, .inv = INVENTORY_INIT, .why = why};
    kb_err err = KB_OK;
    for (size_t i = 0; !err && i < n; i++)
        err = build_pkg(&b, &rows[i]);
    if (!err && b.inv.n)
        err = assetidx_add(e->assets, asset, &b.inv, why);
    inventory_release(&b.inv);
    if (err) {
        assetidx_free(e->assets);
        e->assets = NULL;
    }
    return err;
}

static kb_err ensure_assets(struct vuln_engine *e, struct kb_why *why)
{
    if (e->assets)
        return KB_OK;
    kb_err err = assetidx_new(&e->assets);
    struct build_ctx b = {.e = e, .why = why};
    if (!err)
        err = db_vuln_asset_each(e->dv, build_asset, &b);
    if (err) {
        assetidx_free(e->assets);
        e->assets = NULL;
        return kb_fail(why, err, "asset index: %s", kb_strerror(err));
    }
    return KB_OK;
}

/* ---- what to evaluate ---- */

struct target {
    const char *asset, *ecosystem, *name;
};

struct targets {
    struct vuln_engine *e;
    struct arena ar;
    struct target *v;
    size_t n, cap;
    const char **keys; /* group keys whose open findings are targets */
    size_t nkeys, capkeys;
    const char **products; /* suspected CPE products */
    size_t nproducts, capproducts;
    const char *first_key; /* the group key the new record got */
};

static kb_err push_str(struct targets *t, const char ***arr, size_t *n, size_t *cap, const char *s)
{
    for (size_t i = *n; i-- > 0 && i + 64 >= *n;) /* cheap check of the recent ones */
        if (strcmp((*arr)[i], s) == 0)
            return KB_OK;
    if (*n >= VE_MAX_KEYS)
        return KB_ETOOBIG;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *arr = kb_realloc(*arr, *cap * sizeof **arr);
    }
    const char *c = arena_strndup(&t->ar, s, strlen(s));
    if (!c)
        return KB_ETOOBIG;
    (*arr)[(*n)++] = c;
    return KB_OK;
}

static kb_err add_target(struct targets *t, const char *asset, const char *eco, const char *name)
{
    if (t->n >= VE_MAX_TARGETS)
        return KB_ETOOBIG;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = kb_realloc(t->v, t->cap * sizeof *t->v);
    }
    struct target x = {arena_strndup(&t->ar, asset, strlen(asset)),
                       arena_strndup(&t->ar, eco, strlen(eco)),
                       arena_strndup(&t->ar, name, strlen(name))};
    if (!x.asset || !x.ecosystem || !x.name)
        return KB_ETOOBIG;
    t->v[t->n++] = x;
    return KB_OK;
}

static kb_err on_hit(void *ctx, const struct assetidx_entry *a, const struct advidx_hit *h)
{
    struct targets *t = ctx;
    if (!t->first_key)
        t->first_key = arena_strndup(&t->ar, h->group_key, strlen(h->group_key));
    kb_err err = add_target(t, a->asset, a->ecosystem, a->name);
    return err ? err : push_str(t, &t->keys, &t->nkeys, &t->capkeys, h->group_key);
}

static kb_err on_product(void *ctx, const char *product)
{
    struct targets *t = ctx;
    return push_str(t, &t->products, &t->nproducts, &t->capproducts, product);
}

static kb_err on_key_finding(void *ctx, const struct db_vuln_finding *f)
{
    return add_target(ctx, f->asset, f->ecosystem, f->package);
}

static kb_err on_any_pkg(void *ctx, const struct db_vuln_package *p)
{
    struct targets *t = ctx;
    char prod[VE_MAX_PRODUCT];
    if (!ve_normalize_product(p->name, prod, sizeof prod))
        return KB_OK;
    for (size_t i = 0; i < t->nproducts; i++)
        if (strcmp(t->products[i], prod) == 0)
            return add_target(t, p->asset, p->ecosystem, p->name);
    return KB_OK;
}

static kb_err copy_text(void *ctx, const struct db_vuln_advisory *a)
{
    char **out = ctx;
    *out = kb_strndup(a->osv, a->osv_len);
    return KB_OK;
}

/* The suspected record's key and products become targets' sources. */
static kb_err note_suspected(struct targets *t, const struct osv_record *r)
{
    kb_err err = push_str(t, &t->keys, &t->nkeys, &t->capkeys, ve_susp_key(r));
    return err ? err : ve_susp_products(r, on_product, t);
}

/* Replaces one record in the index and notes what it touches. */
static kb_err change_one(struct vuln_engine *e, struct targets *t, const char *id)
{
    kb_err err = advidx_findings(e->idx, id, e->assets, on_hit, t, NULL);
    const struct osv_record *old = ve_susp_find(e, id);
    if (!err && old)
        err = note_suspected(t, old);
    char *text = NULL;
    if (!err && (err = db_vuln_advisory_get(e->dv, id, copy_text, &text)) == KB_ENOTFOUND)
        err = KB_OK; /* not stored: nothing to replace */
    if (err || !text) {
        free(text);
        return err;
    }
    size_t len = strlen(text);
    struct osv_record *r = NULL;
    if (advidx_replace(e->idx, text, len, NULL, NULL) != KB_OK ||
        osv_parse(text, len, &r, NULL) != KB_OK) {
        free(text); /* a record the feed stored but osv_parse refuses: left as it was */
        return KB_OK;
    }
    free(text);
    if (!r->withdrawn && ve_record_suspected(r) && (err = note_suspected(t, r))) {
        osv_record_free(r);
        return err;
    }
    ve_susp_set(e, id, r);
    t->first_key = NULL;
    err = advidx_findings(e->idx, id, e->assets, on_hit, t, NULL);
    if (!err && t->first_key)
        err = db_vuln_advisory_set_group(e->dv, id, t->first_key);
    return err;
}

static int cmp_target(const void *a, const void *b)
{
    const struct target *x = a, *y = b;
    int c = strcmp(x->asset, y->asset);
    if (!c)
        c = strcmp(x->ecosystem, y->ecosystem);
    return c ? c : strcmp(x->name, y->name);
}

kb_err vuln_engine_advisories_changed(struct vuln_engine *e, const char *const *ids, size_t n,
                                      struct vuln_eval_stats *stats, struct kb_why *why)
{
    struct vuln_eval_stats local = {0};
    struct vuln_eval_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    if (n > VULN_ENGINE_MAX_CHANGED)
        return kb_fail(why, KB_ETOOBIG, "advisories changed: more than %u ids",
                       VULN_ENGINE_MAX_CHANGED);
    kb_err err = ensure_assets(e, why);
    if (err)
        return err;
    struct targets t = {.e = e, .ar = ARENA_INIT(VE_TARGET_ARENA)};
    for (size_t i = 0; !err && i < n; i++)
        if (ids[i])
            err = change_one(e, &t, ids[i]);
    ve_susp_rebuild(e);
    if (!err && t.nproducts)
        err = db_vuln_package_each(e->dv, NULL, NULL, NULL, on_any_pkg, &t);
    for (size_t i = 0; !err && i < t.nkeys; i++) {
        struct db_vuln_finding_filter flt = {.group_key = t.keys[i], .state = DB_VULN_OPEN};
        err = db_vuln_finding_each(e->dv, &flt, on_key_finding, &t);
    }
    if (err) {
        kb_fail(why, err, "advisories changed: %s",
                err == KB_EDB ? db_errmsg(e->db) : kb_strerror(err));
        goto done;
    }
    if (t.n)
        qsort(t.v, t.n, sizeof *t.v, cmp_target);
    if ((err = db_begin(e->db))) {
        kb_fail(why, err, "advisories changed: %s", db_errmsg(e->db));
        goto done;
    }
    for (size_t i = 0; !err && i < t.n; i++)
        if (i == 0 || cmp_target(&t.v[i - 1], &t.v[i]) != 0)
            err = ve_eval_scope(e, t.v[i].asset, t.v[i].ecosystem, t.v[i].name, true, st);
    if (!err)
        err = db_commit(e->db);
    if (err)
        err = ve_txn_fail(e, err, why, "advisories changed");
done:
    free(t.v);
    free(t.keys);
    free(t.products);
    arena_release(&t.ar);
    return err;
}

/* ---- everything, and search ---- */

struct names {
    char **v;
    size_t n, cap;
};

static kb_err on_asset_name(void *ctx, const struct db_vuln_asset *a)
{
    struct names *nm = ctx;
    if (nm->n >= ASSETIDX_MAX_ASSETS)
        return KB_ETOOBIG;
    if (nm->n == nm->cap) {
        nm->cap = nm->cap ? nm->cap * 2 : 64;
        nm->v = kb_realloc(nm->v, nm->cap * sizeof *nm->v);
    }
    nm->v[nm->n++] = kb_strdup(a->name);
    return KB_OK;
}

kb_err vuln_engine_evaluate_all(struct vuln_engine *e, struct vuln_eval_stats *stats,
                                struct kb_why *why)
{
    struct vuln_eval_stats local = {0};
    struct vuln_eval_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    struct names nm = {0};
    kb_err err = db_vuln_asset_each(e->dv, on_asset_name, &nm);
    if (err)
        kb_fail(why, err, "assets: %s", kb_strerror(err));
    /* one transaction per asset: a large estate does not hold the writer
     * for the whole walk */
    for (size_t i = 0; !err && i < nm.n; i++) {
        if ((err = db_begin(e->db))) {
            kb_fail(why, err, "%s: %s", nm.v[i], db_errmsg(e->db));
            break;
        }
        err = ve_eval_scope(e, nm.v[i], NULL, NULL, true, st);
        if (!err)
            err = db_commit(e->db);
        if (err)
            err = ve_txn_fail(e, err, why, nm.v[i]);
    }
    for (size_t i = 0; i < nm.n; i++)
        free(nm.v[i]);
    free(nm.v);
    return err;
}

struct search_ctx {
    vuln_search_fn fn;
    void *ctx;
};

static kb_err on_found(void *ctx, const struct db_vuln_package *p)
{
    struct search_ctx *s = ctx;
    return s->fn(s->ctx, p->asset, p->ecosystem, p->version, p->location);
}

kb_err vuln_engine_search(struct vuln_engine *e, const char *name, vuln_search_fn fn, void *ctx)
{
    if (!name || !fn)
        return KB_EINVAL;
    struct search_ctx s = {fn, ctx};
    return db_vuln_package_find(e->dv, name, on_found, &s);
}
