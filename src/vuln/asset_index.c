/* asset_index.c — packages of assets, inverted by (ecosystem, name) key.
 *
 * Entries live in one array; the entries of a key form a singly linked
 * list (head and tail in the key's slot, so lookups see insertion order).
 * Every string is interned once in the arena: the same ecosystem, name,
 * version or location on a thousand assets is stored once, which keeps a
 * fleet of similar hosts small. */
#include "vuln/asset_index.h"

#include "vuln/advisory_index.h"
#include "vuln/osv.h"

#include <stdlib.h>
#include <string.h>

#define KEY_MAX (OSV_MAX_STRING * 2 + 2)
#define NIL UINT32_MAX

struct ent {
    const char *eco, *name, *version, *location;
    uint32_t asset, next;
};

/* Open addressing over strings: key -> (a, b). */
struct tslot {
    const char *key; /* NULL: empty */
    uint32_t a, b;
};

struct tab {
    struct tslot *s;
    size_t size, n; /* size a power of two, at most half full */
};

#define DEAD UINT32_MAX /* ent.asset of an entry dropped with its asset */

struct assetidx {
    struct ent *ents;
    size_t nents, capents, skipped, dead;
    const char **assets;
    size_t nassets, capassets;
    struct tab keys;   /* package key -> (first entry, last entry) */
    struct tab names;  /* asset name -> asset number */
    struct tab strs;   /* interned strings (a, b unused) */
    struct arena arena;
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

static struct tslot *tab_find(const struct tab *t, const char *key)
{
    if (!t->size)
        return NULL;
    size_t mask = t->size - 1;
    for (size_t i = str_hash(key) & mask, k = 0; k < t->size; i = (i + 1) & mask, k++) {
        if (!t->s[i].key)
            return NULL;
        if (strcmp(t->s[i].key, key) == 0)
            return &t->s[i];
    }
    return NULL;
}

/* The slot for key (whose bytes must outlive the table), created with
 * a = b = NIL when absent; *fresh says so. */
static struct tslot *tab_put(struct tab *t, const char *key, bool *fresh)
{
    if ((t->n + 1) * 2 > t->size) {
        size_t nsize = t->size ? t->size * 2 : 64;
        struct tslot *ns = kb_calloc(nsize, sizeof *ns);
        for (size_t i = 0; i < t->size; i++) {
            if (!t->s[i].key)
                continue;
            size_t j = str_hash(t->s[i].key) & (nsize - 1);
            while (ns[j].key)
                j = (j + 1) & (nsize - 1);
            ns[j] = t->s[i];
        }
        free(t->s);
        t->s = ns;
        t->size = nsize;
    }
    size_t mask = t->size - 1, i = str_hash(key) & mask;
    for (; t->s[i].key; i = (i + 1) & mask)
        if (strcmp(t->s[i].key, key) == 0) {
            *fresh = false;
            return &t->s[i];
        }
    t->s[i] = (struct tslot){key, NIL, NIL};
    t->n++;
    *fresh = true;
    return &t->s[i];
}

kb_err assetidx_new(struct assetidx **out)
{
    if (!out)
        return KB_EINVAL;
    struct assetidx *ai = kb_calloc(1, sizeof *ai);
    arena_init(&ai->arena, ASSETIDX_MAX_BYTES);
    *out = ai;
    return KB_OK;
}

void assetidx_free(struct assetidx *ai)
{
    if (!ai)
        return;
    free(ai->ents);
    free(ai->assets);
    free(ai->keys.s);
    free(ai->names.s);
    free(ai->strs.s);
    arena_release(&ai->arena);
    free(ai);
}

/* s interned: the index's one copy; NULL past the byte bound. */
static const char *intern(struct assetidx *ai, const char *s)
{
    struct tslot *t = tab_find(&ai->strs, s);
    if (t)
        return t->key;
    char *c = arena_strndup(&ai->arena, s, strlen(s));
    if (!c)
        return NULL;
    bool fresh;
    tab_put(&ai->strs, c, &fresh);
    return c;
}

static kb_err asset_number(struct assetidx *ai, const char *asset, uint32_t *out,
                           struct kb_why *why)
{
    struct tslot *t = tab_find(&ai->names, asset);
    if (t) {
        *out = t->a;
        return KB_OK;
    }
    if (ai->nassets >= ASSETIDX_MAX_ASSETS)
        return kb_fail(why, KB_ETOOBIG, "more than %u assets", ASSETIDX_MAX_ASSETS);
    const char *c = intern(ai, asset);
    if (!c)
        return kb_fail(why, KB_ETOOBIG, "asset index over %zu bytes", ASSETIDX_MAX_BYTES);
    if (ai->nassets == ai->capassets) {
        ai->capassets = ai->capassets ? ai->capassets * 2 : 64;
        ai->assets = kb_realloc(ai->assets, ai->capassets * sizeof *ai->assets);
    }
    bool fresh;
    t = tab_put(&ai->names, c, &fresh);
    t->a = (uint32_t)ai->nassets;
    ai->assets[ai->nassets] = c;
    *out = (uint32_t)ai->nassets++;
    return KB_OK;
}

/* Adds one entry found under key (ecosystem, keyname). */
static kb_err add_entry(struct assetidx *ai, uint32_t num, const char *eco, const char *keyname,
                        const char *name, const char *version, const char *location, char *key,
                        struct kb_why *why)
{
    if (!advidx_key(eco, keyname, key, KEY_MAX)) {
        ai->skipped++;
        return KB_OK;
    }
    if (ai->nents >= ASSETIDX_MAX_ENTRIES)
        return kb_fail(why, KB_ETOOBIG, "more than %u asset packages", ASSETIDX_MAX_ENTRIES);
    struct ent en = {intern(ai, eco), intern(ai, name), intern(ai, version),
                     location ? intern(ai, location) : NULL, num, NIL};
    const char *k = intern(ai, key);
    if (!en.eco || !en.name || !en.version || (location && !en.location) || !k)
        return kb_fail(why, KB_ETOOBIG, "asset index over %zu bytes", ASSETIDX_MAX_BYTES);
    if (ai->nents == ai->capents) {
        ai->capents = ai->capents ? ai->capents * 2 : 1024;
        ai->ents = kb_realloc(ai->ents, ai->capents * sizeof *ai->ents);
    }
    uint32_t at = (uint32_t)ai->nents++;
    ai->ents[at] = en;
    bool fresh;
    struct tslot *t = tab_put(&ai->keys, k, &fresh);
    if (fresh)
        t->a = at;
    else
        ai->ents[t->b].next = at;
    t->b = at;
    return KB_OK;
}

kb_err assetidx_add(struct assetidx *ai, const char *asset, const struct inventory *inv,
                    struct kb_why *why)
{
    if (!ai || !asset || !inv)
        return kb_fail(why, KB_EINVAL, "assetidx_add: missing argument");
    size_t an = strlen(asset);
    if (!an || an > ASSETIDX_MAX_NAME)
        return kb_fail(why, KB_EINVAL, "asset name empty or over %u bytes", ASSETIDX_MAX_NAME);
    uint32_t num = 0;
    kb_err e = asset_number(ai, asset, &num, why);
    if (e != KB_OK)
        return e;
    char *key = kb_malloc(KEY_MAX);
    char src[256], srcver[256];
    for (size_t i = 0; i < inv->n && e == KB_OK; i++) {
        const struct inventory_pkg *p = &inv->pkgs[i];
        if (!p->ecosystem || !p->name || !p->version || !*p->version) {
            ai->skipped++;
            continue;
        }
        e = add_entry(ai, num, p->ecosystem, p->name, p->name, p->version, p->location, key, why);
        /* Found also under its source package, which distributions'
         * advisories name (inventory_source_of); the entry keeps the
         * binary's name, so findings are the installed package's. */
        if (!e && inventory_source_of(p->ecosystem, p->name, p->source, p->version, src,
                                      sizeof src, srcver, sizeof srcver))
            e = add_entry(ai, num, p->ecosystem, src, p->name, srcver, p->location, key, why);
    }
    free(key);
    return e;
}

kb_err assetidx_lookup(const struct assetidx *ai, const char *ecosystem, const char *name,
                       assetidx_cb cb, void *ctx)
{
    if (!ai || !ecosystem || !name || !cb)
        return KB_EINVAL;
    char key[KEY_MAX];
    if (!advidx_key(ecosystem, name, key, sizeof key))
        return KB_OK; /* longer than any key kept */
    const struct tslot *t = tab_find(&ai->keys, key);
    /* The list is bounded by nents: each entry is linked once. */
    for (uint32_t i = t ? t->a : NIL, k = 0; i != NIL && k < ai->nents; i = ai->ents[i].next, k++) {
        const struct ent *en = &ai->ents[i];
        if (en->asset == DEAD)
            continue;
        struct assetidx_entry out = {ai->assets[en->asset], en->eco, en->name, en->version,
                                     en->location};
        kb_err e = cb(ctx, &out);
        if (e != KB_OK)
            return e;
    }
    return KB_OK;
}

void assetidx_drop_asset(struct assetidx *ai, const char *asset)
{
    const struct tslot *t = ai && asset ? tab_find(&ai->names, asset) : NULL;
    if (!t)
        return;
    for (size_t i = 0; i < ai->nents; i++)
        if (ai->ents[i].asset == t->a) {
            ai->ents[i].asset = DEAD;
            ai->dead++;
        }
}

size_t assetidx_dead(const struct assetidx *ai)
{
    return ai ? ai->dead : 0;
}

void assetidx_stats(const struct assetidx *ai, struct assetidx_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!ai)
        return;
    out->assets = ai->nassets;
    out->entries = ai->nents - ai->dead;
    out->skipped = ai->skipped;
    out->keys = ai->keys.n;
    out->bytes = ai->arena.used + ai->capents * sizeof *ai->ents +
                 ai->capassets * sizeof *ai->assets +
                 (ai->keys.size + ai->names.size + ai->strs.size) * sizeof(struct tslot);
}
