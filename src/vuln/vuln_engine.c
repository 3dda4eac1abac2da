/* vuln_engine.c — the engine's lifecycle, its evaluations (new findings
 * against stored ones, written and told in one transaction) and the
 * asset and advisory changes that start them (vuln_engine.h). */
#include "vuln/vuln_engine_internal.h"

#include "lib/arena.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "vuln/inventory.h"
#include "vuln/vuln_engine_alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VE_SCOPE_ARENA ((size_t)1 << 30)  /* one evaluation scope's strings */
#define VE_SUSP_ARENA ((size_t)256 << 20) /* suspected products */

static int64_t now_ms(struct vuln_engine *e)
{
    return e->o.now ? e->o.now(e->o.ctx) : kb_now_ms();
}

/* ---- open / close ---- */

static kb_err load_adv(void *ctx, const struct db_vuln_advisory *a)
{
    struct vuln_engine *e = ctx;
    kb_err err = advidx_add_text(e->idx, a->id, a->osv, a->osv_len, NULL);
    if (err || !a->suspected || a->withdrawn)
        return err;
    struct osv_record *r = NULL;
    if (osv_parse(a->osv, a->osv_len, &r, NULL) == KB_OK)
        ve_susp_set(e, r->id, r);
    return KB_OK;
}

kb_err vuln_engine_open(struct db *db, const struct vuln_engine_opts *opts,
                        struct vuln_engine **out, struct kb_why *why)
{
    if (!db || !out)
        return kb_fail(why, KB_EINVAL, "vuln engine: no store");
    struct vuln_engine *e = kb_calloc(1, sizeof *e);
    e->db = db;
    if (opts)
        e->o = *opts;
    arena_init(&e->susp_arena, VE_SUSP_ARENA);
    buf_init(&e->alert, VULN_ENGINE_MAX_ALERT);
    kb_err err = db_vuln_open(db, &e->dv);
    if (!err)
        err = advidx_new(&e->idx);
    if (!err && (err = db_vuln_advisory_each(e->dv, load_adv, e)))
        kb_fail(why, err, "vuln engine: loading advisories: %s",
                err == KB_EDB ? db_errmsg(db) : kb_strerror(err));
    if (!err)
        err = advidx_finish(e->idx, why);
    if (err) {
        vuln_engine_close(e);
        return err;
    }
    ve_susp_rebuild(e);
    *out = e;
    return KB_OK;
}

void vuln_engine_close(struct vuln_engine *e)
{
    if (!e)
        return;
    db_vuln_close(e->dv);
    advidx_free(e->idx);
    assetidx_free(e->assets);
    for (size_t i = 0; i < e->nsusp; i++)
        osv_record_free(e->susp[i]);
    free(e->susp);
    free(e->susp_sorted);
    free(e->sidx);
    arena_release(&e->susp_arena);
    buf_release(&e->alert);
    free(e);
}

/* ---- assets ---- */

static bool labels_valid(const char *labels)
{
    struct arena a = ARENA_INIT(1u << 20);
    struct json_value *root = NULL;
    bool ok = json_parse(labels, strlen(labels), NULL, &a, &root, NULL) == KB_OK &&
              root->type == JSON_OBJECT;
    arena_release(&a);
    return ok;
}

/* Whether kv[i] is named again later in kv (the later one wins). */
static bool named_later(const struct kb_str *kv, size_t n, size_t i, size_t klen)
{
    for (size_t j = i + 1; j < n; j++)
        if (kv[j].n > klen && kv[j].p[klen] == '=' && memcmp(kv[j].p, kv[i].p, klen) == 0)
            return true;
    return false;
}

kb_err vuln_labels_merge(const char *old, const struct kb_str *kv, size_t n, struct buf *out,
                         struct kb_why *why)
{
    for (size_t i = 0; i < n; i++) {
        const char *eq = kv[i].p ? memchr(kv[i].p, '=', kv[i].n) : NULL;
        if (!eq || eq == kv[i].p)
            return kb_fail(why, KB_EINVAL, "label '%.*s' is not KEY=VALUE", (int)kv[i].n,
                           kv[i].p ? kv[i].p : "");
    }
    struct jw w;
    jw_init(&w, out);
    jw_obj_begin(&w);
    struct arena ar = ARENA_INIT(4u << 20); /* old's parse and the keys' copies */
    struct json_value *v = NULL;
    if (old && json_parse(old, strlen(old), NULL, &ar, &v, NULL) == KB_OK &&
        v->type == JSON_OBJECT)
        for (const struct json_value *m = v->u.child; m; m = m->next) {
            bool named = false;
            for (size_t i = 0; i < n && !named; i++)
                named = kv[i].n > m->key_len && kv[i].p[m->key_len] == '=' &&
                        memcmp(kv[i].p, m->key, m->key_len) == 0;
            if (named || m->type != JSON_STRING)
                continue;
            jw_key(&w, arena_strndup(&ar, m->key, m->key_len));
            jw_kstr(&w, json_str(m));
        }
    for (size_t i = 0; i < n; i++) {
        size_t klen = (size_t)((const char *)memchr(kv[i].p, '=', kv[i].n) - kv[i].p);
        if (named_later(kv, n, i, klen))
            continue;
        jw_key(&w, arena_strndup(&ar, kv[i].p, klen));
        jw_strn(&w, kv[i].p + klen + 1, kv[i].n - klen - 1);
    }
    jw_obj_end(&w);
    arena_release(&ar);
    return jw_finish(&w) == KB_OK ? KB_OK : kb_fail(why, KB_ETOOBIG, "labels too large");
}

/* What alerts say of the asset. */
struct asset_info {
    int kind;
    bool internet_facing;
};

static void asset_info(struct vuln_engine *e, const char *asset, struct asset_info *ai)
{
    ai->kind = DB_VULN_HOST;
    ai->internet_facing = false;
    struct db_vuln_asset a;
    if (db_vuln_asset_get(e->dv, asset, &a) != KB_OK)
        return;
    ai->kind = a.kind;
    struct arena ar = ARENA_INIT(1u << 20);
    struct json_value *root = NULL;
    if (a.labels && json_parse(a.labels, strlen(a.labels), NULL, &ar, &root, NULL) == KB_OK) {
        const struct json_value *v = json_get(root, "internet_facing");
        ai->internet_facing = (v && v->type == JSON_TRUE) || kb_str_eq(json_str(v), "true");
    }
    arena_release(&ar);
    db_vuln_asset_release(&a);
}

static kb_err retell(struct vuln_engine *e, const char *asset, const struct asset_info *ai,
                     const char *change);


kb_err vuln_engine_set_asset(struct vuln_engine *e, const char *asset, const char *kind,
                             const char *labels_json, struct kb_why *why)
{
    int k;
    if (!asset || !*asset || strlen(asset) > ASSETIDX_MAX_NAME)
        return kb_fail(why, KB_EINVAL, "asset: empty or longer than %u bytes", ASSETIDX_MAX_NAME);
    if (db_vuln_asset_kind_parse(kind, &k) != KB_OK)
        return kb_fail(why, KB_EINVAL, "asset %s: kind must be host or repository", asset);
    if (labels_json && !labels_valid(labels_json))
        return kb_fail(why, KB_EINVAL, "asset %s: labels must be a JSON object", asset);
    struct asset_info before, after;
    asset_info(e, asset, &before);
    kb_err err = db_begin(e->db);
    if (err)
        return kb_fail(why, err, "asset %s: %s", asset, db_errmsg(e->db));
    struct db_vuln_asset a = {asset, k, labels_json, now_ms(e)};
    err = db_vuln_asset_put(e->dv, &a);
    asset_info(e, asset, &after);
    /* Exposure decides severity (policies/stock/50-vuln.yml): the open
     * findings are told again, so their issues are rated anew now rather
     * than at their next change. */
    if (!err && before.internet_facing != after.internet_facing)
        err = retell(e, asset, &after,
                     after.internet_facing ? "exposure changed: internet-facing"
                                           : "exposure changed: internal");
    if (!err)
        err = db_commit(e->db);
    return err ? ve_txn_fail(e, err, why, asset) : KB_OK;
}

/* ---- one evaluation scope: an asset, or one package of it ---- */

/* The scope's packages: read from the store into ar (pkgs owned), or the
 * rows an inventory has just stored (borrowed: rows_borrowed). Only
 * ecosystem, name, version and srcpkg are used. */
struct scope {
    struct vuln_engine *e;
    struct arena ar;
    struct db_vuln_package *pkgs;
    size_t npkgs, cappkgs;
    bool rows_borrowed;
    struct db_vuln_finding *stored;
    size_t nstored, capstored;
    struct ve_cands cands;
    struct vuln_eval_stats *st;
};

static const char *sdup(struct scope *s, const char *p)
{
    return p ? arena_strndup(&s->ar, p, strlen(p)) : NULL;
}

static kb_err on_pkg(void *ctx, const struct db_vuln_package *p)
{
    struct scope *s = ctx;
    if (s->npkgs >= INVENTORY_MAX_PACKAGES)
        return KB_ETOOBIG;
    if (s->npkgs == s->cappkgs) {
        s->cappkgs = s->cappkgs ? s->cappkgs * 2 : 64;
        s->pkgs = kb_realloc(s->pkgs, s->cappkgs * sizeof *s->pkgs);
    }
    struct db_vuln_package r = {.ecosystem = sdup(s, p->ecosystem),
                                .name = sdup(s, p->name),
                                .version = sdup(s, p->version),
                                .srcpkg = sdup(s, p->srcpkg)};
    if (!r.ecosystem || !r.name || !r.version)
        return KB_ETOOBIG;
    s->pkgs[s->npkgs++] = r;
    return KB_OK;
}

static kb_err on_stored(void *ctx, const struct db_vuln_finding *f)
{
    struct scope *s = ctx;
    if (s->nstored >= INVENTORY_MAX_PACKAGES)
        return KB_ETOOBIG;
    if (s->nstored == s->capstored) {
        s->capstored = s->capstored ? s->capstored * 2 : 64;
        s->stored = kb_realloc(s->stored, s->capstored * sizeof *s->stored);
    }
    struct db_vuln_finding c = *f;
    c.group_key = sdup(s, f->group_key);
    c.asset = sdup(s, f->asset);
    c.ecosystem = sdup(s, f->ecosystem);
    c.package = sdup(s, f->package);
    c.installed = sdup(s, f->installed);
    c.fixed = sdup(s, f->fixed);
    c.reason = sdup(s, f->reason);
    if (!c.group_key || !c.asset || !c.ecosystem || !c.package || !c.installed ||
        (f->fixed && !c.fixed))
        return KB_ETOOBIG;
    s->stored[s->nstored++] = c;
    return KB_OK;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A finding is KEV when its key or an alias is listed. */
static kb_err fill_kev(struct vuln_engine *e, struct ve_cand *c)
{
    bool found = false;
    kb_err err = db_vuln_kev_get(e->dv, c->group_key, &found, NULL, NULL);
    const char *p = c->aliases;
    while (!err && !found && p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char id[OSV_MAX_STRING + 1];
        if (n < sizeof id) {
            memcpy(id, p, n);
            id[n] = '\0';
            err = db_vuln_kev_get(e->dv, id, &found, NULL, NULL);
        }
        p = end ? end + 1 : NULL;
    }
    c->kev = found;
    return err;
}

static kb_err tell(struct scope *s, const struct db_vuln_finding *f, const char *aliases,
                   const char *change, const struct asset_info *ai, int64_t now)
{
    struct vuln_engine *e = s->e;
    if (!e->o.alert)
        return KB_OK;
    struct ve_alert a = {
        f, aliases, change, f->state == DB_VULN_RESOLVED, ai->kind, ai->internet_facing, now};
    kb_err err = ve_alert_write_scored(&e->alert, &a, e->dv);
    if (err)
        return err;
    return e->o.alert(e->o.ctx, e->alert.p, e->alert.len - 1);
}

struct retell_ctx {
    struct scope *s;
    const struct asset_info *ai;
    const char *change;
};

static kb_err retell_one(void *ctx, const struct db_vuln_finding *f)
{
    struct retell_ctx *r = ctx;
    return tell(r->s, f, NULL, r->change, r->ai, now_ms(r->s->e));
}

static kb_err retell(struct vuln_engine *e, const char *asset, const struct asset_info *ai,
                     const char *change)
{
    struct scope s = {.e = e, .ar = ARENA_INIT(VE_SCOPE_ARENA)};
    struct retell_ctx r = {&s, ai, change};
    struct db_vuln_finding_filter flt = {.asset = asset, .state = DB_VULN_OPEN};
    kb_err err = db_vuln_finding_each(e->dv, &flt, retell_one, &r);
    arena_release(&s.ar);
    return err;
}

/* Why a stored open finding is gone: the package's current version on the
 * asset, if it still has it. */
static const char *gone_reason(struct scope *s, const struct db_vuln_finding *f, char *buf,
                               size_t bufsz)
{
    for (size_t i = 0; i < s->npkgs; i++) {
        const struct db_vuln_package *p = &s->pkgs[i];
        if (strcmp(p->ecosystem, f->ecosystem) || strcmp(p->name, f->package))
            continue;
        if (strcmp(p->version, f->installed) == 0)
            return "no longer affected";
        snprintf(buf, bufsz, "upgraded: %s %s -> %s", f->package, f->installed, p->version);
        return buf;
    }
    return "removed";
}

/* Compares the candidates with the stored findings of the scope; writes
 * and tells each difference. */
static kb_err diff(struct scope *s, const char *asset, bool from_advisory)
{
    struct vuln_engine *e = s->e;
    int64_t now = now_ms(e);
    struct asset_info ai;
    asset_info(e, asset, &ai);
    char reason[1024];
    kb_err err = KB_OK;
    bool *matched = kb_calloc(s->nstored ? s->nstored : 1, sizeof *matched);
    for (size_t i = 0; !err && i < s->cands.n; i++) {
        struct ve_cand *c = &s->cands.v[i];
        if ((err = fill_kev(e, c)))
            break;
        struct db_vuln_finding *old = NULL;
        for (size_t j = 0; j < s->nstored; j++)
            if (!strcmp(s->stored[j].group_key, c->group_key) &&
                !strcmp(s->stored[j].ecosystem, c->ecosystem) &&
                !strcmp(s->stored[j].package, c->package)) {
                old = &s->stored[j];
                matched[j] = true;
                break;
            }
        struct db_vuln_finding f = {.group_key = c->group_key,
                                    .asset = asset,
                                    .ecosystem = c->ecosystem,
                                    .package = c->package,
                                    .installed = c->installed,
                                    .fixed = c->fixed,
                                    .severity = c->severity,
                                    .cvss = c->score,
                                    .kev = c->kev,
                                    .suspected = c->suspected,
                                    .state = DB_VULN_OPEN,
                                    .first_seen = now,
                                    .changed = now};
        const char *change = NULL;
        if (!old || old->state == DB_VULN_RESOLVED) {
            change = from_advisory ? "new advisory" : "new asset affected";
            s->st->opened++;
        } else {
            f.first_seen = old->first_seen;
            if (!old->fixed && c->fixed)
                change = "fix available";
            else if (strcmp(old->installed, c->installed) != 0) {
                snprintf(reason, sizeof reason, "installed: %s -> %s", old->installed,
                         c->installed);
                change = reason;
            } else if (c->kev && !old->kev)
                change = "known exploited";
            else if (c->severity != old->severity)
                change = "severity changed";
            else if (same(old->fixed, c->fixed) && old->suspected == c->suspected &&
                     old->kev == c->kev && old->cvss == c->score)
                continue; /* nothing changed */
            if (change)
                s->st->updated++;
        }
        if (!change) {
            /* a detail changed that calls for no alert: keep the row true */
            f.changed = old->changed;
            f.reason = old->reason;
            err = db_vuln_finding_put(e->dv, &f);
            continue;
        }
        f.reason = change;
        if (!(err = db_vuln_finding_put(e->dv, &f)))
            err = tell(s, &f, c->aliases, change, &ai, now);
    }
    for (size_t j = 0; !err && j < s->nstored; j++) {
        struct db_vuln_finding *old = &s->stored[j];
        if (matched[j] || old->state != DB_VULN_OPEN)
            continue;
        struct db_vuln_finding f = *old;
        f.state = DB_VULN_RESOLVED;
        f.changed = now;
        f.reason = gone_reason(s, old, reason, sizeof reason);
        s->st->resolved++;
        if (!(err = db_vuln_finding_put(e->dv, &f)))
            err = tell(s, &f, NULL, f.reason, &ai, now);
    }
    free(matched);
    return err;
}

/* Matches the scope's packages, reads the stored findings of the scope
 * and writes the differences. */
static kb_err eval_scope(struct scope *s, const char *asset, const char *ecosystem,
                         const char *name, bool from_advisory)
{
    struct vuln_eval_stats *st = s->st;
    kb_err err = KB_OK;
    for (size_t i = 0; !err && i < s->npkgs; i++) {
        const struct db_vuln_package *p = &s->pkgs[i];
        st->packages++;
        err = ve_match_package(s->e, &s->ar, p->ecosystem, p->name, p->version, p->srcpkg,
                               &s->cands, &st->unsure);
    }
    struct db_vuln_finding_filter flt = {
        .asset = asset, .ecosystem = ecosystem, .package = name, .state = -1};
    if (!err)
        err = db_vuln_finding_each(s->e->dv, &flt, on_stored, s);
    if (!err)
        err = diff(s, asset, from_advisory);
    return err;
}

/* Frees what the scope owns (not borrowed rows). */
static void scope_release(struct scope *s)
{
    if (!s->rows_borrowed)
        free(s->pkgs);
    free(s->stored);
    free(s->cands.v);
    arena_release(&s->ar);
}

kb_err ve_eval_scope(struct vuln_engine *e, const char *asset, const char *ecosystem,
                     const char *name, bool from_advisory, struct vuln_eval_stats *st)
{
    struct scope s = {.e = e, .ar = ARENA_INIT(VE_SCOPE_ARENA), .st = st};
    kb_err err = db_vuln_package_each(e->dv, asset, ecosystem, name, on_pkg, &s);
    if (!err)
        err = eval_scope(&s, asset, ecosystem, name, from_advisory);
    scope_release(&s);
    return err;
}

kb_err ve_txn_fail(struct vuln_engine *e, kb_err err, struct kb_why *why, const char *what)
{
    db_rollback(e->db);
    return kb_fail(why, err, "%s: %s", what, err == KB_EDB ? db_errmsg(e->db) : kb_strerror(err));
}

/* ---- inventories ---- */

/* The asset's "release" label ("Debian:12", "Ubuntu:22.04", "Alpine:v3.19")
 * into out, or "" when none: an operating system's package database does
 * not say which release it belongs to, and its advisories are per release. */
static void label_release(const char *labels, char *out, size_t n)
{
    out[0] = 0;
    if (!labels)
        return;
    struct arena a = ARENA_INIT(64u << 10);
    struct json_value *v = NULL;
    if (json_parse(labels, strlen(labels), NULL, &a, &v, NULL) == KB_OK) {
        struct kb_str r = json_str(json_get(v, "release"));
        if (r.n && r.n < n && memchr(r.p, ':', r.n)) {
            memcpy(out, r.p, r.n);
            out[r.n] = 0;
        }
    }
    arena_release(&a);
}

/* eco with the release when the release is of that ecosystem ("Debian" +
 * "Debian:12" -> "Debian:12"); else eco. */
static const char *with_release(const char *eco, const char *release)
{
    size_t n = strlen(eco);
    return release[0] && strncmp(release, eco, n) == 0 && release[n] == ':' ? release : eco;
}

kb_err vuln_engine_replace_inventory(struct vuln_engine *e, const char *asset, const char *format,
                                     const char *filename, const char *text, size_t len,
                                     struct vuln_eval_stats *stats, struct kb_why *why)
{
    struct vuln_eval_stats local = {0};
    struct vuln_eval_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    if (!asset || !*asset || strlen(asset) > ASSETIDX_MAX_NAME || !text)
        return kb_fail(why, KB_EINVAL, "inventory: no asset name or no text");
    enum inventory_format f;
    if (format ? inventory_format_parse(format, &f) != KB_OK
               : inventory_detect(filename ? filename : "", text, len, &f) != KB_OK)
        return kb_fail(why, KB_ENOTFOUND, "%s: not an inventory format koban reads",
                       format     ? format
                       : filename ? filename
                                  : "inventory");
    const char *fname = filename ? filename : inventory_format_name(f);
    struct inventory inv = INVENTORY_INIT;
    kb_err err = inventory_parse(f, text, len, fname, &inv, why);
    if (err) {
        inventory_release(&inv);
        return err;
    }
    char source[1024];
    snprintf(source, sizeof source, "%s:%s", inventory_format_name(f), fname);
    if ((err = db_begin(e->db))) {
        inventory_release(&inv);
        return kb_fail(why, err, "inventory: %s", db_errmsg(e->db));
    }
    struct db_vuln_asset a;
    char release[64] = "";
    if ((err = db_vuln_asset_get(e->dv, asset, &a)) == KB_OK) {
        a.updated = now_ms(e);
        label_release(a.labels, release, sizeof release);
        err = db_vuln_asset_put(e->dv, &a);
        db_vuln_asset_release(&a);
    } else if (err == KB_ENOTFOUND) {
        struct db_vuln_asset n = {asset, DB_VULN_HOST, NULL, now_ms(e)};
        err = db_vuln_asset_put(e->dv, &n);
    }
    if (!err)
        err = db_vuln_packages_clear(e->dv, asset);
    /* The rows as stored, in order: the asset is evaluated and its index
     * entries rebuilt from them rather than from the store, whose read
     * back took 6-13% of an inventory's time in profiles. */
    struct db_vuln_package *rows = kb_malloc((inv.n ? inv.n : 1) * sizeof *rows);
    size_t nrows = 0;
    for (size_t i = 0; !err && i < inv.n; i++) {
        const struct inventory_pkg *p = &inv.pkgs[i];
        if (!*p->name || !*p->version)
            continue;
        rows[nrows] = (struct db_vuln_package){
            asset, source, with_release(p->ecosystem, release), p->name, p->version, p->location,
            p->source};
        err = db_vuln_package_add(e->dv, &rows[nrows++]);
    }
    if (!err) {
        struct scope s = {.e = e, .ar = ARENA_INIT(VE_SCOPE_ARENA), .st = st, .pkgs = rows,
                          .npkgs = nrows, .rows_borrowed = true};
        err = eval_scope(&s, asset, NULL, NULL, false);
        scope_release(&s);
    }
    if (!err)
        err = db_commit(e->db);
    if (err) {
        free(rows);
        inventory_release(&inv);
        return ve_txn_fail(e, err, why, asset);
    }
    /* the asset's entries in the index follow its new packages; on an
     * error ve_assets_replace drops the index (rebuilt when next needed) */
    struct kb_why w2 = {{0}};
    (void)ve_assets_replace(e, asset, rows, nrows, &w2);
    free(rows);
    inventory_release(&inv);
    return KB_OK;
}

/* ---- advisories ---- */

static bool record_feed(const struct osv_record *r, char *out, size_t outsz)
{
    struct arena a = ARENA_INIT(256u * 1024);
    struct json_value *root = NULL;
    struct kb_str s = KB_STR_NULL;
    if (r->database_specific && json_parse(r->database_specific, strlen(r->database_specific), NULL,
                                           &a, &root, NULL) == KB_OK)
        s = json_str(json_path(root, "koban.feed"));
    bool ok = s.p && s.n && s.n < outsz;
    if (ok) {
        memcpy(out, s.p, s.n);
        out[s.n] = '\0';
    }
    arena_release(&a);
    return ok;
}

kb_err vuln_engine_put_advisory(struct vuln_engine *e, const char *feed, const char *text,
                                size_t len, struct kb_why *why)
{
    return vuln_advisory_store(e->dv, feed, text, len, now_ms(e), why);
}

kb_err vuln_advisory_store(struct db_vuln *dv, const char *feed, const char *text, size_t len,
                           int64_t now, struct kb_why *why)
{
    struct osv_record *r = NULL;
    kb_err err = osv_parse(text, len, &r, why);
    if (err)
        return err;
    char fbuf[64];
    struct db_vuln_advisory a = {
        .id = r->id,
        .feed = feed                                ? feed
                : record_feed(r, fbuf, sizeof fbuf) ? fbuf
                                                    : NULL,
        .modified = r->modified_ms,
        .withdrawn = r->withdrawn,
        .suspected = ve_record_suspected(r),
        .osv = text,
        .osv_len = len,
    };
    err = db_vuln_advisory_put(dv, &a, now);
    if (err)
        kb_fail(why, err, "advisory %s: %s", r->id, db_errmsg(db_vuln_db(dv)));
    osv_record_free(r);
    return err;
}
