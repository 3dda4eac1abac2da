/*
 * sigma_index.c — choosing, for one event, the few rules that can match it
 * (what sigma_match_all evaluates; docs/RULES.md, "Performance").
 *
 * Requirement of a rule: a set of atoms, at least one of which holds in
 * every event the rule matches, read from the compiled detection:
 *   value atom     field F has a value whose text, ASCII-lowercased, is V
 *                  (from `F: V` equality values);
 *   presence atom  field F is present, whatever its value (from any other
 *                  item that cannot match an absent field).
 * An alternative (AND of items) takes the cheapest item's atoms, a
 * selection (OR of alternatives) the union of its alternatives'; `and`
 * takes its cheapest side, `or` the union; `not`, keywords, null values,
 * `exists: false` and fields read through an array index give no
 * requirement: such rules are "always" rules, evaluated on every event.
 *
 * The index: a hash table from a field path to the rules needing it present
 * and to whether values are indexed there, and from (path, lowercased
 * value) to the rules needing that value. Paths are hashed one dotted
 * segment at a time, so the event is walked from the root following only
 * paths that lead to an indexed field; arrays are crossed (a rule matches
 * any element), every value found on an indexed path is looked up. Only
 * hashes are kept: a collision adds a candidate, which is then evaluated, so
 * it can cost time but never a match. Candidates are bits in a bitmap over
 * the partition's rules, read back in load order.
 *
 * Partitions: one index per koban source (its rules and the rules without
 * a logsource), one for the rules without a logsource alone (sources with
 * no rule of their own), one over every rule (source NULL). Each rule is
 * added to each partition it belongs to, in load order.
 *
 * Ownership: the struct sigma_index and everything it points to are
 * kb_malloc'd and freed by sigma_index_free; rules are borrowed from the
 * ruleset. Matching allocates nothing: the candidate bitmap is kept in the
 * partition (one thread at a time; a match callback must not call
 * sigma_match_all on the same ruleset).
 */
#include "rules/sigma_impl.h"

#include <stdlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define IX_MAX_PATH 512    /* bytes of an indexed field name */
#define IX_MAX_DEPTH 128   /* event nesting walked; deeper: every rule is a candidate */
#define IX_MAX_ATOMS 65536 /* atoms of one rule; more: evaluated on every event */
#define IX_COST_PRESENCE 1000 /* a presence atom weighs as much as 1000 values */

enum { IX_PREFIX = 1, IX_FIELD = 2, IX_VALUES = 4 };

struct ixlist {
    uint32_t *v;
    uint32_t n, cap;
};

struct ixslot {
    uint64_t h;      /* 0: empty */
    uint32_t flags;  /* IX_* of a path */
    uint32_t maxlen; /* IX_VALUES: the longest value indexed at the path */
    struct ixlist post; /* rules: present (path) or equal (value key) */
};

struct ixpart {
    char *source; /* kb_strdup'd koban source; NULL for `all` and `star` */
    const struct sigma_rule **rules;
    uint32_t nrules, caprules;
    uint64_t *always, *cand; /* bitmaps over rules */
    uint32_t capwords;
    struct ixslot *slots;
    uint32_t bits, used; /* 1 << bits slots */
};

struct sigma_index {
    struct ixpart all;  /* every rule */
    struct ixpart star; /* the rules without a logsource */
    struct ixpart **src;
    size_t nsrc;
};

/* ---- hashing ---- */

static inline uint64_t seg_hash(uint64_t parent, const char *s, size_t n)
{
    return XXH3_64bits_withSeed(s, n, parent);
}

/* A dotted path, one segment at a time (a key holding dots hashes as the
 * path it spells, which only ever adds candidates). */
static uint64_t path_hash(uint64_t h, const char *p, size_t n)
{
    for (;;) {
        const char *dot = memchr(p, '.', n);
        size_t l = dot ? (size_t)(dot - p) : n;
        h = seg_hash(h, p, l);
        if (!dot)
            return h;
        p += l + 1;
        n -= l + 1;
    }
}

static inline char lc(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
}

/* The key of (path hash, ASCII-lowercased text). */
static uint64_t value_key(uint64_t path, const char *s, size_t n)
{
    uint64_t seed = path ^ 0x9e3779b97f4a7c15ULL;
    if (n <= 256) {
        char low[256];
        for (size_t i = 0; i < n; i++)
            low[i] = lc(s[i]);
        return XXH3_64bits_withSeed(low, n, seed);
    }
    uint64_t h = seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)lc(s[i])) * 0x100000001b3ULL;
    return XXH3_64bits_withSeed(&h, sizeof h, seed);
}

static inline uint64_t nz(uint64_t h)
{
    return h ? h : 1;
}

/* ---- the table ---- */

static inline uint32_t slot_of(const struct ixpart *p, uint64_t h)
{
    return (uint32_t)((h * 0x9e3779b97f4a7c15ULL) >> (64 - p->bits));
}

static const struct ixslot *slot_find(const struct ixpart *p, uint64_t h)
{
    uint32_t mask = (1u << p->bits) - 1;
    for (uint32_t i = slot_of(p, h);; i = (i + 1) & mask) {
        if (p->slots[i].h == h)
            return &p->slots[i];
        if (p->slots[i].h == 0)
            return NULL;
    }
}

static struct ixslot *slot_get(struct ixpart *p, uint64_t h)
{
    if (!p->slots || (p->used + 1) * 2 > (1u << p->bits)) {
        struct ixslot *old = p->slots;
        uint32_t oldn = old ? 1u << p->bits : 0;
        p->bits = old ? p->bits + 1 : 6;
        p->slots = kb_calloc((size_t)1 << p->bits, sizeof *p->slots);
        uint32_t mask = (1u << p->bits) - 1;
        for (uint32_t k = 0; k < oldn; k++) {
            if (!old[k].h)
                continue;
            uint32_t i = slot_of(p, old[k].h);
            while (p->slots[i].h)
                i = (i + 1) & mask;
            p->slots[i] = old[k];
        }
        free(old);
    }
    uint32_t mask = (1u << p->bits) - 1, i = slot_of(p, h);
    while (p->slots[i].h && p->slots[i].h != h)
        i = (i + 1) & mask;
    if (!p->slots[i].h) {
        p->slots[i].h = h;
        p->used++;
    }
    return &p->slots[i];
}

static void list_add(struct ixlist *l, uint32_t v)
{
    if (l->n && l->v[l->n - 1] == v)
        return; /* the same rule twice in a row: once is enough */
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = kb_realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = v;
}

/* ---- requirements ---- */

struct atom {
    const char *field; /* borrowed from the rule */
    uint32_t field_n;
    bool value;
    uint32_t len; /* value atom: bytes of the value */
    uint64_t key; /* value atom: value_key */
};

struct atoms {
    struct atom *a;
    size_t n, cap;
    uint64_t cost;
    bool top; /* no requirement */
};

static void atoms_push(struct atoms *s, struct atom a, uint64_t cost)
{
    if (s->n >= IX_MAX_ATOMS) {
        s->top = true;
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->a = kb_realloc(s->a, s->cap * sizeof *s->a);
    }
    s->a[s->n++] = a;
    s->cost += cost;
}

static void atoms_union(struct atoms *into, struct atoms *from)
{
    into->top = into->top || from->top;
    for (size_t i = 0; i < from->n && !into->top; i++)
        atoms_push(into, from->a[i], 0);
    into->cost += from->cost;
    free(from->a);
    *from = (struct atoms){0};
}

/* Keeps the cheaper of best and cand (a top set is the most expensive). */
static void atoms_keep_best(struct atoms *best, bool *have, struct atoms *cand)
{
    if (!cand->top && (!*have || best->top || cand->cost < best->cost)) {
        free(best->a);
        *best = *cand;
        *have = true;
    } else {
        if (!*have) {
            *best = (struct atoms){.top = true};
            *have = true;
        }
        free(cand->a);
    }
    *cand = (struct atoms){0};
}

/* A field the walk can reach: dotted segments, none empty, none a number
 * (rules_field reads "a.0.b" as an array index, which the walk does not). */
static bool path_ok(const char *f, size_t n)
{
    if (!f || n == 0 || n > IX_MAX_PATH)
        return false;
    size_t seg = 0;
    bool digits = true;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || f[i] == '.') {
            if (seg == 0 || digits)
                return false;
            seg = 0;
            digits = true;
        } else {
            seg++;
            digits = digits && f[i] >= '0' && f[i] <= '9';
        }
    }
    return true;
}

static void need_item(const struct sitem *it, struct atoms *out)
{
    if (!it->field || !it->nvals || !path_ok(it->field, it->field_n) ||
        (it->alt && !path_ok(it->alt, it->alt_n))) {
        out->top = true;
        return;
    }
    bool exact = !it->neq;
    for (uint32_t i = 0; i < it->nvals; i++) {
        const struct sv *v = &it->vals[i];
        if (v->kind == SV_NULL || (v->kind == SV_EXISTS && !v->b)) {
            out->top = true; /* true for an absent field */
            return;
        }
        exact = exact && v->kind == SV_STR && v->how == H_EXACT;
    }
    for (int k = 0; k < (it->alt ? 2 : 1); k++) {
        const char *f = k ? it->alt : it->field;
        uint32_t fn = k ? it->alt_n : it->field_n;
        uint64_t hf = path_hash(0, f, fn);
        if (!exact) {
            atoms_push(out, (struct atom){f, fn, false, 0, 0}, IX_COST_PRESENCE);
            continue;
        }
        for (uint32_t i = 0; i < it->nvals; i++) {
            const struct sv *v = &it->vals[i];
            atoms_push(out, (struct atom){f, fn, true, v->n, value_key(hf, v->s, v->n)}, 1);
        }
    }
}

static void need_sel(const struct ssel *s, struct atoms *out)
{
    if (s->n == 0) {
        out->top = true;
        return;
    }
    for (uint32_t a = 0; a < s->n && !out->top; a++) {
        const struct salt *alt = &s->alts[a];
        struct atoms best = {0}, cand = {0};
        bool have = false;
        for (uint32_t i = 0; i < alt->n; i++) {
            need_item(&alt->items[i], &cand);
            atoms_keep_best(&best, &have, &cand);
        }
        if (!have)
            best.top = true; /* an empty AND is true */
        atoms_union(out, &best);
    }
}

static void need_node(const struct sigma_rule *r, uint32_t idx, unsigned depth,
                      struct atoms *out)
{
    const struct cnode *n = &r->nodes[idx];
    if (depth > 2 * SIGMA_MAX_COND_DEPTH + 8) {
        out->top = true;
        return;
    }
    switch (n->op) {
    case C_SEL:
        need_sel(&r->sels[n->a], out);
        return;
    case C_AND: {
        struct atoms best = {0}, cand = {0};
        bool have = false;
        for (uint32_t i = 0; i < n->n; i++) {
            need_node(r, r->kids[n->a + i], depth + 1, &cand);
            atoms_keep_best(&best, &have, &cand);
        }
        if (!have)
            best.top = true;
        atoms_union(out, &best);
        return;
    }
    case C_OR:
        if (n->n == 0)
            out->top = true;
        for (uint32_t i = 0; i < n->n && !out->top; i++) {
            struct atoms cand = {0};
            need_node(r, r->kids[n->a + i], depth + 1, &cand);
            atoms_union(out, &cand);
        }
        return;
    default: /* C_NOT: what a rule rejects says nothing of what it needs */
        out->top = true;
        return;
    }
}

/* ---- partitions ---- */

static void part_add(struct ixpart *p, const struct sigma_rule *r, const struct atoms *req)
{
    if (p->nrules == p->caprules) {
        p->caprules = p->caprules ? p->caprules * 2 : 64;
        p->rules = kb_realloc(p->rules, p->caprules * sizeof *p->rules);
    }
    if (p->nrules + 1 > p->capwords * 64) {
        uint32_t w = p->capwords ? p->capwords * 2 : 4;
        p->always = kb_realloc(p->always, w * sizeof *p->always);
        p->cand = kb_realloc(p->cand, w * sizeof *p->cand);
        memset(p->always + p->capwords, 0, (w - p->capwords) * sizeof *p->always);
        memset(p->cand + p->capwords, 0, (w - p->capwords) * sizeof *p->cand);
        p->capwords = w;
    }
    uint32_t idx = p->nrules++;
    p->rules[idx] = r;
    if (req->top) {
        p->always[idx / 64] |= (uint64_t)1 << (idx % 64);
        return;
    }
    for (size_t i = 0; i < req->n; i++) {
        const struct atom *a = &req->a[i];
        uint64_t h = 0;
        const char *f = a->field;
        size_t left = a->field_n;
        for (;;) { /* every proper prefix leads the walk on */
            const char *dot = memchr(f, '.', left);
            size_t l = dot ? (size_t)(dot - f) : left;
            h = seg_hash(h, f, l);
            if (!dot)
                break;
            slot_get(p, nz(h))->flags |= IX_PREFIX;
            f += l + 1;
            left -= l + 1;
        }
        struct ixslot *s = slot_get(p, nz(h));
        if (a->value) {
            s->flags |= IX_VALUES;
            s->maxlen = KB_MAX(s->maxlen, a->len);
            list_add(&slot_get(p, nz(a->key))->post, idx);
        } else {
            s->flags |= IX_FIELD;
            list_add(&s->post, idx);
        }
    }
}

static void part_release(struct ixpart *p)
{
    for (uint32_t i = 0; p->slots && i < (1u << p->bits); i++)
        free(p->slots[i].post.v);
    free(p->slots);
    free(p->rules);
    free(p->always);
    free(p->cand);
    free(p->source);
}

struct sigma_index *sigma_index_new(void)
{
    return kb_calloc(1, sizeof(struct sigma_index));
}

void sigma_index_free(struct sigma_index *ix)
{
    if (!ix)
        return;
    part_release(&ix->all);
    part_release(&ix->star);
    for (size_t i = 0; i < ix->nsrc; i++) {
        part_release(ix->src[i]);
        free(ix->src[i]);
    }
    free(ix->src);
    free(ix);
}

static void requirement(const struct sigma_rule *r, struct atoms *req)
{
    *req = (struct atoms){0};
    if (r->nodes)
        need_node(r, r->root, 0, req);
    else
        req->top = true;
}

void sigma_index_add(struct sigma_index *ix, const struct sigma_rule *r)
{
    struct atoms req;
    requirement(r, &req);
    part_add(&ix->all, r, &req);
    if (r->source && strcmp(r->source, "*") == 0) {
        part_add(&ix->star, r, &req);
        for (size_t i = 0; i < ix->nsrc; i++)
            part_add(ix->src[i], r, &req);
    } else if (r->source) {
        struct ixpart *p = NULL;
        for (size_t i = 0; i < ix->nsrc && !p; i++)
            if (strcmp(ix->src[i]->source, r->source) == 0)
                p = ix->src[i];
        if (!p) { /* a new source starts with the rules without a logsource */
            p = kb_calloc(1, sizeof *p);
            p->source = kb_strdup(r->source);
            ix->src = kb_realloc(ix->src, (ix->nsrc + 1) * sizeof *ix->src);
            ix->src[ix->nsrc++] = p;
            for (uint32_t i = 0; i < ix->star.nrules; i++) {
                struct atoms s;
                requirement(ix->star.rules[i], &s);
                part_add(p, ix->star.rules[i], &s);
                free(s.a);
            }
        }
        part_add(p, r, &req);
    }
    free(req.a);
}

/* ---- matching ---- */

struct walk {
    const struct ixpart *p;
    const struct sigma_event *ev;
    uint64_t *cand;
    bool overflow;
};

static inline void add_list(uint64_t *cand, const struct ixlist *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        cand[l->v[i] / 64] |= (uint64_t)1 << (l->v[i] % 64);
}

static void walk_object(struct walk *w, const struct json_value *obj, uint64_t h, bool root,
                        unsigned depth);

/* v sits on an indexed path (slot s, hash h). */
static void on_path(struct walk *w, const struct ixslot *s, uint64_t h,
                    const struct json_value *v, unsigned depth)
{
    if (depth > IX_MAX_DEPTH) {
        w->overflow = true;
        return;
    }
    if (v->type == JSON_ARRAY) {
        for (const struct json_value *e = v->u.child; e; e = e->next)
            on_path(w, s, h, e, depth + 1);
        return;
    }
    if (v->type == JSON_OBJECT) {
        if (s->flags & IX_PREFIX)
            walk_object(w, v, h, false, depth + 1);
        return;
    }
    char buf[40];
    struct kb_str t;
    if ((s->flags & IX_VALUES) && sigma_scalar_text(w->ev, v, buf, sizeof buf, &t) &&
        t.n <= s->maxlen) {
        const struct ixslot *vs = slot_find(w->p, nz(value_key(h, t.p, t.n)));
        if (vs)
            add_list(w->cand, &vs->post);
    }
}

static void walk_object(struct walk *w, const struct json_value *obj, uint64_t h, bool root,
                        unsigned depth)
{
    for (const struct json_value *c = obj->u.child; c; c = c->next) {
        uint64_t base = root ? 0 : h;
        uint64_t ch = c->key_len && memchr(c->key, '.', c->key_len)
                          ? path_hash(base, c->key, c->key_len)
                          : seg_hash(base, c->key, c->key_len);
        const struct ixslot *s = slot_find(w->p, nz(ch));
        if (!s)
            continue;
        if (s->flags & IX_FIELD)
            add_list(w->cand, &s->post);
        on_path(w, s, ch, c, depth);
    }
}

/* The root, or the elements of a root array (sigma_match walks them). */
static void walk_root(struct walk *w, const struct json_value *v, unsigned depth)
{
    if (depth > IX_MAX_DEPTH) {
        w->overflow = true;
    } else if (v->type == JSON_OBJECT) {
        walk_object(w, v, 0, true, depth);
    } else if (v->type == JSON_ARRAY) {
        for (const struct json_value *e = v->u.child; e; e = e->next)
            walk_root(w, e, depth + 1);
    }
}

kb_err sigma_index_match(struct sigma_index *ix, const char *source,
                         const struct sigma_event *ev, sigma_match_fn cb, void *ctx)
{
    struct ixpart *p = &ix->star;
    if (!source)
        p = &ix->all;
    for (size_t i = 0; source && i < ix->nsrc; i++)
        if (strcmp(ix->src[i]->source, source) == 0)
            p = ix->src[i];
    uint32_t words = (p->nrules + 63) / 64;
    if (!words)
        return KB_OK;
    memcpy(p->cand, p->always, words * sizeof *p->cand);
    struct walk w = {p, ev, p->cand, false};
    if (ev->root && p->slots)
        walk_root(&w, ev->root, 0);
    if (w.overflow) { /* too deep to read: every rule is a candidate */
        memset(p->cand, 0xff, words * sizeof *p->cand);
        if (p->nrules % 64)
            p->cand[words - 1] = ((uint64_t)1 << (p->nrules % 64)) - 1;
    }
    for (uint32_t wi = 0; wi < words; wi++) {
        for (uint64_t b = p->cand[wi]; b; b &= b - 1) {
            const struct sigma_rule *r = p->rules[wi * 64 + (uint32_t)__builtin_ctzll(b)];
            bool limited = false;
            if (!sigma_eval_prefiltered(r, ev, &limited))
                continue;
            kb_err e = cb ? cb(ctx, r, ev) : KB_OK;
            if (e)
                return e;
        }
    }
    return KB_OK;
}
