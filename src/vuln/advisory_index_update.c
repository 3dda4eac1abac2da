/* advisory_index_update.c — one advisory changed in a finished index
 * (advidx_replace) and its findings across an asset index
 * (advidx_findings).
 *
 * Regrouping is local: a record's group is a connected component of ids
 * and aliases of kept records, so a change can only split the group the
 * old record was in and join the groups that its new id and aliases
 * already belong to (found through the id -> group table). Those groups'
 * members, without the old record and with the new one, are grouped again
 * with osv_group; every other group is untouched. The cost is that of
 * the affected groups, not of the index. */
#include "vuln/advisory_index.h"
#include "vuln/advisory_index_internal.h"
#include "vuln/asset_index.h"

#include <stdlib.h>
#include <string.h>

static const char tomb_mark[1]; /* address marks a deleted id slot */

static void id_rehash(struct advidx *idx)
{
    size_t live = 0;
    for (size_t i = 0; i < idx->idsize; i++)
        if (idx->ids[i].id && idx->ids[i].id != tomb_mark)
            live++;
    size_t nsize = 64;
    while (nsize < (live + 1) * 4)
        nsize *= 2;
    struct idslot *ns = kb_calloc(nsize, sizeof *ns);
    for (size_t i = 0; i < idx->idsize; i++) {
        const struct idslot *s = &idx->ids[i];
        if (!s->id || s->id == tomb_mark)
            continue;
        size_t j = advidx_key_hash(s->id) & (nsize - 1);
        while (ns[j].id)
            j = (j + 1) & (nsize - 1);
        ns[j] = *s;
    }
    free(idx->ids);
    idx->ids = ns;
    idx->idsize = nsize;
    idx->idused = live;
}

void advidx_id_put(struct advidx *idx, const char *id, uint32_t group)
{
    if ((idx->idused + 1) * 2 > idx->idsize)
        id_rehash(idx);
    size_t mask = idx->idsize - 1, i = advidx_key_hash(id) & mask, tomb = SIZE_MAX;
    for (; idx->ids[i].id; i = (i + 1) & mask) {
        if (idx->ids[i].id == tomb_mark) {
            if (tomb == SIZE_MAX)
                tomb = i;
        } else if (strcmp(idx->ids[i].id, id) == 0) {
            idx->ids[i] = (struct idslot){id, group};
            return;
        }
    }
    if (tomb != SIZE_MAX) {
        i = tomb; /* reuses a tombstone: idused already counts it */
    } else {
        idx->idused++;
    }
    idx->ids[i] = (struct idslot){id, group};
}

static struct idslot *id_find(const struct advidx *idx, const char *id)
{
    if (!idx->idsize)
        return NULL;
    size_t mask = idx->idsize - 1;
    /* Bounded: the table is never full (at most half used). */
    for (size_t i = advidx_key_hash(id) & mask, k = 0; idx->ids[i].id && k < idx->idsize;
         i = (i + 1) & mask, k++)
        if (idx->ids[i].id != tomb_mark && strcmp(idx->ids[i].id, id) == 0)
            return &idx->ids[i];
    return NULL;
}

size_t advidx_id_get(const struct advidx *idx, const char *id)
{
    const struct idslot *s = id_find(idx, id);
    return s ? s->group : OSV_NO_INDEX;
}

static void id_del(struct advidx *idx, const char *id)
{
    struct idslot *s = id_find(idx, id);
    if (s)
        *s = (struct idslot){tomb_mark, 0};
}

void advidx_grp_clear(struct advidx_grp *g)
{
    free(g->own_members);
    free(g->own_aliases);
    memset(g, 0, sizeof *g);
}

/* The kept record with this id, or OSV_NO_INDEX. */
static size_t kept_record(const struct advidx *idx, const char *id)
{
    size_t g = advidx_id_get(idx, id);
    if (g == OSV_NO_INDEX)
        return OSV_NO_INDEX;
    const struct advidx_grp *gr = &idx->grps[g];
    for (size_t m = 0; m < gr->n; m++)
        if (strcmp(idx->recs[gr->members[m]]->id, id) == 0)
            return gr->members[m];
    return OSV_NO_INDEX; /* id is only an alias */
}

/* ---- postings ---- */

static struct slot *slot_mut(struct advidx *idx, const char *key)
{
    return (struct slot *)advidx_slot(idx, key);
}

static void table_grow(struct advidx *idx)
{
    size_t nsize = idx->tabsize ? idx->tabsize * 2 : 16;
    struct slot *nt = kb_calloc(nsize, sizeof *nt);
    for (size_t i = 0; i < idx->tabsize; i++) {
        if (!idx->table[i].key)
            continue;
        size_t h = advidx_key_hash(idx->table[i].key) & (nsize - 1);
        while (nt[h].key)
            h = (h + 1) & (nsize - 1);
        nt[h] = idx->table[i];
    }
    free(idx->table);
    idx->table = nt;
    idx->tabsize = nsize;
}

static void postings_remove(struct advidx *idx, const struct osv_record *r, uint32_t ri,
                            char *key)
{
    for (size_t a = 0; a < r->naffected; a++) {
        const struct osv_package *p = &r->affected[a].package;
        if (!p->ecosystem || !p->name || !advidx_key(p->ecosystem, p->name, key, KEY_MAX))
            continue;
        struct slot *s = slot_mut(idx, key);
        if (!s)
            continue;
        uint32_t *post = s->own ? s->own : idx->postings + s->start;
        for (uint32_t i = 0; i < s->n; i++)
            if (post[i] == ri) { /* shrinking in place keeps the shared array valid */
                memmove(post + i, post + i + 1, (s->n - i - 1) * sizeof *post);
                s->n--;
                break;
            }
    }
}

static kb_err postings_add(struct advidx *idx, const struct osv_record *r, uint32_t ri,
                           char *key, struct kb_why *why)
{
    for (size_t a = 0; a < r->naffected; a++) {
        const struct osv_package *p = &r->affected[a].package;
        if (!p->ecosystem || !p->name || !advidx_key(p->ecosystem, p->name, key, KEY_MAX))
            continue;
        struct slot *s = slot_mut(idx, key);
        if (!s) {
            if ((idx->nkeys + 1) * 2 > idx->tabsize)
                table_grow(idx);
            char *k = arena_strndup(&idx->arena, key, strlen(key));
            if (!k)
                return kb_fail(why, KB_ETOOBIG, "advisory index: out of arena");
            size_t h = advidx_key_hash(k) & (idx->tabsize - 1);
            while (idx->table[h].key)
                h = (h + 1) & (idx->tabsize - 1);
            s = &idx->table[h];
            *s = (struct slot){k, 0, 0, NULL, 0};
            idx->nkeys++;
        }
        uint32_t *post = s->own ? s->own : idx->postings + s->start;
        uint32_t at = 0;
        while (at < s->n && post[at] < ri)
            at++;
        if (at < s->n && post[at] == ri)
            continue; /* a second entry of the same package */
        if (!s->own || s->cap == s->n) {
            uint32_t cap = s->n + 4;
            uint32_t *own = kb_malloc(cap * sizeof *own);
            if (s->n)
                memcpy(own, post, s->n * sizeof *own);
            free(s->own);
            s->own = own;
            s->cap = cap;
            post = own;
        }
        memmove(post + at + 1, post + at, (s->n - at) * sizeof *post);
        post[at] = ri;
        s->n++;
    }
    return KB_OK;
}

/* ---- replace ---- */

static size_t grp_slot(struct advidx *idx)
{
    if (idx->nfreeg)
        return idx->freeg[--idx->nfreeg];
    if (idx->ngrps == idx->capgrps) {
        idx->capgrps = idx->capgrps ? idx->capgrps * 2 : 16;
        idx->grps = kb_realloc(idx->grps, idx->capgrps * sizeof *idx->grps);
    }
    memset(&idx->grps[idx->ngrps], 0, sizeof *idx->grps);
    return idx->ngrps++;
}

static void grp_free(struct advidx *idx, size_t g)
{
    advidx_grp_clear(&idx->grps[g]);
    if (idx->nfreeg == idx->capfreeg) {
        idx->capfreeg = idx->capfreeg ? idx->capfreeg * 2 : 16;
        idx->freeg = kb_realloc(idx->freeg, idx->capfreeg * sizeof *idx->freeg);
    }
    idx->freeg[idx->nfreeg++] = g;
    idx->nlive--;
}

static void add_group(size_t *gs, size_t *ng, size_t g)
{
    if (g == OSV_NO_INDEX)
        return;
    for (size_t i = 0; i < *ng; i++)
        if (gs[i] == g)
            return;
    gs[(*ng)++] = g;
}

kb_err advidx_replace(struct advidx *idx, const char *text, size_t len,
                      const struct osv_record **out, struct kb_why *why)
{
    if (out)
        *out = NULL;
    if (!idx || (!text && len))
        return kb_fail(why, KB_EINVAL, "advidx_replace: missing argument");
    if (!idx->finished)
        return kb_fail(why, KB_EINVAL, "advidx_replace: the index is not finished");
    struct osv_record *r = NULL;
    kb_err e = osv_parse(text ? text : "", len, &r, why);
    if (e != KB_OK)
        return e;
    size_t old = kept_record(idx, r->id);
    if (old == OSV_NO_INDEX && idx->nrecs >= ADVIDX_MAX_RECORDS) {
        osv_record_free(r);
        return kb_fail(why, KB_ETOOBIG, "more than %u advisory records", ADVIDX_MAX_RECORDS);
    }
    size_t ri = old != OSV_NO_INDEX ? old : idx->nrecs;
    size_t *gs = kb_malloc((2 + r->naliases) * sizeof *gs), ng = 0;
    if (old != OSV_NO_INDEX)
        add_group(gs, &ng, idx->info[old].group);
    if (!r->withdrawn) { /* a withdrawn record joins nothing (osv_group) */
        add_group(gs, &ng, advidx_id_get(idx, r->id));
        for (size_t a = 0; a < r->naliases; a++)
            add_group(gs, &ng, advidx_id_get(idx, r->aliases[a]));
    }
    size_t nm = 1;
    for (size_t i = 0; i < ng; i++)
        nm += idx->grps[gs[i]].n;
    size_t *mem = kb_malloc(nm * sizeof *mem), k = 0;
    const struct osv_record **sub = kb_malloc(nm * sizeof *sub);
    for (size_t i = 0; i < ng; i++)
        for (size_t m = 0; m < idx->grps[gs[i]].n; m++)
            if (idx->grps[gs[i]].members[m] != old) {
                mem[k] = idx->grps[gs[i]].members[m];
                sub[k] = idx->recs[mem[k]];
                k++;
            }
    mem[k] = ri;
    sub[k++] = r;
    /* Grouped before anything changes: a failure leaves the index as it was. */
    struct osv_groups og;
    e = osv_group(sub, k, &og, why);
    free(sub);
    if (e != KB_OK) {
        free(gs);
        free(mem);
        osv_record_free(r);
        return e;
    }
    char *key = kb_malloc(KEY_MAX);
    struct osv_record *prev = NULL;
    for (size_t i = 0; i < ng; i++) { /* their ids leave the table; regrouped below */
        const struct advidx_grp *gr = &idx->grps[gs[i]];
        for (size_t m = 0; m < gr->n; m++) {
            const struct osv_record *x = idx->recs[gr->members[m]];
            id_del(idx, x->id);
            for (size_t a = 0; a < x->naliases; a++)
                id_del(idx, x->aliases[a]);
        }
    }
    for (size_t i = 0; i < ng; i++)
        grp_free(idx, gs[i]);
    if (old != OSV_NO_INDEX) {
        prev = idx->recs[old];
        postings_remove(idx, prev, (uint32_t)old, key);
        idx->recs[old] = r;
    } else {
        if (idx->nrecs == idx->caprecs) {
            idx->caprecs = idx->caprecs ? idx->caprecs * 2 : 256;
            idx->recs = kb_realloc(idx->recs, idx->caprecs * sizeof *idx->recs);
        }
        idx->info = kb_realloc(idx->info, idx->caprecs * sizeof *idx->info);
        idx->recs[idx->nrecs++] = r;
    }
    idx->info[ri] = (struct rec_info){.group = OSV_NO_INDEX};
    for (size_t j = 0; j < og.n; j++) {
        const struct osv_group *sg = &og.groups[j];
        size_t g = grp_slot(idx);
        struct advidx_grp *gr = &idx->grps[g];
        gr->own_members = kb_malloc(sg->n * sizeof *gr->own_members);
        for (size_t m = 0; m < sg->n; m++)
            gr->own_members[m] = mem[sg->members[m]];
        gr->members = gr->own_members;
        gr->n = sg->n;
        gr->key = sg->key;
        advidx_group_aliases(idx, gr->members, gr->n, gr->key, true, &gr->own_aliases,
                             &gr->naliases);
        gr->aliases = gr->own_aliases;
        idx->nlive++;
        for (size_t m = 0; m < sg->n; m++) {
            const struct osv_record *x = idx->recs[gr->members[m]];
            idx->info[gr->members[m]].group = g;
            advidx_id_put(idx, x->id, (uint32_t)g);
            for (size_t a = 0; a < x->naliases; a++)
                advidx_id_put(idx, x->aliases[a], (uint32_t)g);
        }
    }
    if (idx->info[ri].group == OSV_NO_INDEX) {
        idx->nwithdrawn++; /* the only record of its id among these: withdrawn */
    } else {
        size_t g = idx->info[ri].group;
        advidx_rec_severity(r, &idx->info[ri]);
        idx->info[ri].group = g;
        e = postings_add(idx, r, (uint32_t)ri, key, why);
        if (out && e == KB_OK)
            *out = r;
    }
    osv_groups_release(&og);
    osv_record_free(prev);
    free(key);
    free(gs);
    free(mem);
    return e;
}

/* ---- findings ---- */

struct fstate {
    const struct advidx *idx;
    uint32_t ri;
    advidx_finding_cb cb;
    void *ctx;
    size_t unsure;
    const char *name; /* the package as the record names it */
};

static kb_err on_entry(void *ctx, const struct assetidx_entry *en)
{
    struct fstate *st = ctx;
    struct osv_match m;
    /* The record's own spelling: the key already matched the entry's name,
     * or its source package's (asset_index.h), which the record names. */
    if (osv_affects(st->idx->recs[st->ri], en->ecosystem, st->name, en->version, &m, NULL) !=
        KB_OK)
        return KB_OK;
    if (m.verdict == OSV_NOT_EVALUABLE)
        st->unsure++;
    if (m.verdict != OSV_AFFECTED)
        return KB_OK;
    struct advidx_hit hit;
    advidx_make_hit(st->idx, st->ri, &m, &hit);
    return st->cb(st->ctx, en, &hit);
}

static int pair_key_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->rec > y->rec) - (x->rec < y->rec);
}

kb_err advidx_findings(const struct advidx *idx, const char *id, const struct assetidx *assets,
                       advidx_finding_cb cb, void *ctx, size_t *unsure)
{
    if (unsure)
        *unsure = 0;
    if (!idx || !idx->finished || !id || !assets || !cb)
        return KB_EINVAL;
    size_t ri = kept_record(idx, id);
    if (ri == OSV_NO_INDEX)
        return KB_OK;
    const struct osv_record *r = idx->recs[ri];
    struct fstate st = {idx, (uint32_t)ri, cb, ctx, 0, NULL};
    /* Each package key once (a record may name a package in two entries):
     * keys sorted, duplicates skipped. */
    struct pair *keys = kb_malloc((r->naffected ? r->naffected : 1) * sizeof *keys);
    char *key = kb_malloc(KEY_MAX);
    size_t nk = 0;
    for (size_t a = 0; a < r->naffected; a++) {
        const struct osv_package *p = &r->affected[a].package;
        if (p->ecosystem && p->name && advidx_key(p->ecosystem, p->name, key, KEY_MAX))
            keys[nk++] = (struct pair){kb_strdup(key), (uint32_t)a};
    }
    free(key);
    if (nk)
        qsort(keys, nk, sizeof *keys, pair_key_cmp);
    kb_err e = KB_OK;
    for (size_t i = 0; i < nk && e == KB_OK; i++) {
        if (i && strcmp(keys[i].key, keys[i - 1].key) == 0)
            continue;
        const struct osv_package *p = &r->affected[keys[i].rec].package;
        st.name = p->name;
        e = assetidx_lookup(assets, p->ecosystem, p->name, on_entry, &st);
    }
    for (size_t i = 0; i < nk; i++)
        free((char *)keys[i].key);
    free(keys);
    if (unsure)
        *unsure = st.unsure;
    return e;
}
