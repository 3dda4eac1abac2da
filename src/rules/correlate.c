/*
 * correlate.c — the correlation engine: per rule, per group, a sliding
 * window over event time.
 *
 * State, per correlation rule:
 *   - a hash table of groups keyed by the group-by values, and the same
 *     groups on a list ordered by last update (oldest first) that drives
 *     both eviction (over max_groups: drop the least recently updated) and
 *     expiry (a group whose newest event is more than `timespan` older than
 *     the newest event the rule has seen is dropped; each feed looks at no
 *     more than EXPIRE_PER_FEED groups, so expiry is amortised and needs no
 *     timer thread);
 *   - `now_ms`, the newest event time the rule has seen.
 * Per group: its matches sorted by event time (at most max_entries; an
 * out-of-order match is inserted in place), the newest time, and `floor_ms`,
 * the end of the last window that alerted.
 *
 * One match for one rule, in order (see docs/RULES-correlation.md):
 *   1. resolve the group-by values (aliases first) and, for value_* types,
 *      the value; a missing one drops the match (no_group / no_value);
 *   2. a match older than the group's window (newest - timespan) or than
 *      floor_ms is late: dropped, never alerted on retroactively;
 *   3. insert it, move the window end to the group's newest event, drop the
 *      matches before the window start (window = [newest - timespan, newest],
 *      both ends included);
 *   4. compute the value over the window; if the condition holds, emit, then
 *      clear the window and set floor_ms to its end.
 */
#include "rules/correlate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

#define EXPIRE_PER_FEED 8
#define DEFAULT_MAX_GROUPS 10000u
#define DEFAULT_MAX_ENTRIES 1024u
#define DEFAULT_MAX_EVIDENCE 32u
#define DEFAULT_MAX_VALUE 1024u
#define LIMIT_MAX_GROUPS 1000000u
#define LIMIT_MAX_ENTRIES 100000u
#define LIMIT_MAX_EVIDENCE 10000u
#define LIMIT_MAX_VALUE 65536u

struct entry {
    int64_t time_ms;
    uint64_t ref;
    uint64_t vhash; /* value_count: hash of the value's text */
    double value;   /* value_sum / value_avg */
    uint32_t rule;  /* index in rule->rules (temporal types) */
};

struct group {
    struct group *hnext;         /* hash chain */
    struct group *older, *newer; /* update-order list */
    uint64_t hash;
    char *key; /* per value: u32 length, bytes */
    size_t key_len;
    struct entry *ent; /* ent[head .. head+n), sorted by time */
    uint32_t cap, head, n;
    int64_t newest_ms;
    int64_t floor_ms; /* matches before it are late (INT64_MIN: none) */
};

struct rstate {
    const struct corr_rule *rule;
    struct group **buckets;
    size_t mask;                   /* buckets - 1 (a power of two) */
    struct group *oldest, *newest; /* update-order list ends */
    size_t ngroups;
    int64_t now_ms;
    bool seen; /* now_ms is set */
};

struct corr_engine {
    struct rstate *rs;
    size_t nrs;
    struct corr_limits lim;
    struct corr_stats st;
    char *keybuf; /* scratch: the key being built */
    size_t keycap;
    uint64_t *hashes;         /* scratch: value_count distinct count */
    struct corr_evidence *ev; /* scratch: an alert's evidence */
};

/* ---- groups ---- */

static void list_unlink(struct rstate *s, struct group *g)
{
    if (g->older)
        g->older->newer = g->newer;
    else
        s->oldest = g->newer;
    if (g->newer)
        g->newer->older = g->older;
    else
        s->newest = g->older;
    g->older = g->newer = NULL;
}

static void list_push(struct rstate *s, struct group *g)
{
    g->older = s->newest;
    g->newer = NULL;
    if (s->newest)
        s->newest->newer = g;
    else
        s->oldest = g;
    s->newest = g;
}

static void group_drop(struct corr_engine *e, struct rstate *s, struct group *g)
{
    struct group **pp = &s->buckets[g->hash & s->mask];
    while (*pp != g)
        pp = &(*pp)->hnext;
    *pp = g->hnext;
    list_unlink(s, g);
    s->ngroups--;
    e->st.groups--;
    free(g->key);
    free(g->ent);
    free(g);
}

static struct group *group_find(struct rstate *s, uint64_t h, const char *key, size_t len)
{
    for (struct group *g = s->buckets[h & s->mask]; g; g = g->hnext)
        if (g->hash == h && g->key_len == len && memcmp(g->key, key, len) == 0)
            return g;
    return NULL;
}

/* Doubles the bucket array (the table starts small: most rules see few
 * groups, and max_groups buckets per rule up front would cost megabytes). */
static void grow(struct rstate *s)
{
    size_t nb = (s->mask + 1) * 2;
    struct group **b = kb_calloc(nb, sizeof *b);
    for (size_t i = 0; i <= s->mask; i++)
        for (struct group *g = s->buckets[i], *next; g; g = next) {
            next = g->hnext;
            g->hnext = b[g->hash & (nb - 1)];
            b[g->hash & (nb - 1)] = g;
        }
    free(s->buckets);
    s->buckets = b;
    s->mask = nb - 1;
}

static struct group *group_add(struct corr_engine *e, struct rstate *s, uint64_t h, const char *key,
                               size_t len)
{
    if (s->ngroups >= e->lim.max_groups && s->oldest) {
        group_drop(e, s, s->oldest);
        e->st.evicted++;
    }
    struct group *g = kb_calloc(1, sizeof *g);
    g->hash = h;
    g->key = kb_malloc(len ? len : 1);
    memcpy(g->key, key, len);
    g->key_len = len;
    g->floor_ms = INT64_MIN;
    if (s->ngroups > s->mask)
        grow(s);
    g->hnext = s->buckets[h & s->mask];
    s->buckets[h & s->mask] = g;
    list_push(s, g);
    s->ngroups++;
    e->st.groups++;
    return g;
}

/* end - span without overflow (event times come from the outside). */
static int64_t window_start(int64_t end, int64_t span)
{
    return end < INT64_MIN + span ? INT64_MIN : end - span;
}

/* Drops groups whose newest event is older than the rule's window. */
static void expire(struct corr_engine *e, struct rstate *s)
{
    for (int i = 0; i < EXPIRE_PER_FEED && s->oldest; i++) {
        if (s->oldest->newest_ms >= window_start(s->now_ms, s->rule->timespan_ms))
            break;
        group_drop(e, s, s->oldest);
        e->st.expired++;
    }
}

/* Inserts x keeping the entries sorted (after equal times). */
static void entry_insert(struct corr_engine *e, struct group *g, const struct entry *x)
{
    if (g->n == e->lim.max_entries) {
        if (x->time_ms < g->ent[g->head].time_ms) {
            e->st.entries_dropped++; /* older than everything kept: it goes */
            return;
        }
        g->head++;
        g->n--;
        e->st.entries_dropped++;
    }
    if (g->head + g->n == g->cap) {
        if (g->head > 0) {
            memmove(g->ent, g->ent + g->head, g->n * sizeof *g->ent);
            g->head = 0;
        } else {
            uint32_t nc = g->cap ? g->cap * 2 : 8;
            if (nc > e->lim.max_entries)
                nc = e->lim.max_entries;
            g->ent = kb_realloc(g->ent, nc * sizeof *g->ent);
            g->cap = nc;
        }
    }
    struct entry *base = g->ent + g->head;
    uint32_t at = g->n;
    while (at > 0 && base[at - 1].time_ms > x->time_ms)
        at--;
    memmove(base + at + 1, base + at, (g->n - at) * sizeof *base);
    base[at] = *x;
    g->n++;
}

/* ---- field values ---- */

/* The field to read for `name` in events of the rule referenced as
 * rules[idx]: an alias maps it per rule; otherwise it is the name itself. */
static const char *resolve(const struct corr_rule *r, uint32_t idx, const char *name)
{
    for (size_t i = 0; i < r->naliases; i++) {
        const struct corr_alias *a = &r->aliases[i];
        if (strcmp(a->name, name) != 0)
            continue;
        for (size_t j = 0; j < a->n; j++)
            if (strcmp(a->rules[j], r->rules[idx]) == 0)
                return a->fields[j];
        return name;
    }
    return name;
}

/* A scalar as text: strings as-is, numbers as written by %lld / %.17g,
 * booleans as true/false. Arrays, objects and null have no text. */
static bool value_text(const struct json_value *v, char num[32], struct kb_str *out)
{
    if (!v)
        return false;
    switch (v->type) {
    case JSON_STRING:
        *out = json_str(v);
        return true;
    case JSON_NUMBER:
        if (v->flags & JSON_F_INT)
            snprintf(num, 32, "%" PRId64, v->i);
        else
            snprintf(num, 32, "%.17g", v->d);
        *out = kb_str_c(num);
        return true;
    case JSON_TRUE:
        *out = KB_STR_LIT("true");
        return true;
    case JSON_FALSE:
        *out = KB_STR_LIT("false");
        return true;
    default:
        return false;
    }
}

static const struct json_value *lookup(const struct corr_match *m, const char *name,
                                       corr_field_fn field, void *ctx)
{
    return field(m->event, name, strlen(name), ctx);
}

/* Builds the group key into e->keybuf; false when a value is unusable. */
static bool build_key(struct corr_engine *e, const struct corr_rule *r, uint32_t idx,
                      const struct corr_match *m, corr_field_fn field, void *ctx, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ngroup_by; i++) {
        char num[32];
        struct kb_str t;
        if (!value_text(lookup(m, resolve(r, idx, r->group_by[i]), field, ctx), num, &t) ||
            t.n > e->lim.max_value)
            return false;
        uint32_t l = (uint32_t)t.n;
        memcpy(e->keybuf + n, &l, sizeof l);
        if (t.n)
            memcpy(e->keybuf + n + sizeof l, t.p, t.n);
        n += sizeof l + t.n;
    }
    *len = n;
    return true;
}

/* ---- window value ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double window_value(struct corr_engine *e, const struct corr_rule *r, const struct group *g)
{
    const struct entry *w = g->ent + g->head;
    switch (r->type) {
    case CORR_EVENT_COUNT:
        return g->n;
    case CORR_VALUE_COUNT: {
        for (uint32_t i = 0; i < g->n; i++)
            e->hashes[i] = w[i].vhash;
        qsort(e->hashes, g->n, sizeof *e->hashes, cmp_u64);
        uint32_t d = 0;
        for (uint32_t i = 0; i < g->n; i++)
            d += i == 0 || e->hashes[i] != e->hashes[i - 1];
        return d;
    }
    case CORR_VALUE_SUM:
    case CORR_VALUE_AVG: {
        double sum = 0;
        for (uint32_t i = 0; i < g->n; i++)
            sum += w[i].value;
        return r->type == CORR_VALUE_SUM || g->n == 0 ? sum : sum / g->n;
    }
    case CORR_TEMPORAL: {
        uint64_t seen = 0;
        for (uint32_t i = 0; i < g->n; i++)
            seen |= 1ull << w[i].rule;
        return __builtin_popcountll(seen);
    }
    case CORR_TEMPORAL_ORDERED: {
        /* the longest prefix of rules seen in order; taking the earliest
         * match of each step is optimal for subsequence search */
        uint32_t k = 0;
        for (uint32_t i = 0; i < g->n && k < r->nrules; i++)
            if (w[i].rule == k)
                k++;
        return k;
    }
    }
    return 0;
}

/* ---- feeding ---- */

static kb_err feed(struct corr_engine *e, const struct corr_match *m, corr_field_fn field,
                   corr_emit_fn emit, void *ctx, unsigned depth);

/* The index of the reference in r->rules that names this match, or -1. */
static int ref_index(const struct corr_rule *r, const char *name, const char *id)
{
    for (size_t i = 0; i < r->nrules; i++)
        if ((name && strcmp(r->rules[i], name) == 0) || (id && strcmp(r->rules[i], id) == 0))
            return (int)i;
    return -1;
}

static kb_err emit_alert(struct corr_engine *e, struct rstate *s, struct group *g, double v,
                         const struct corr_match *m, corr_field_fn field, corr_emit_fn emit,
                         void *ctx, unsigned depth)
{
    const struct corr_rule *r = s->rule;
    struct kb_str vals[CORR_MAX_GROUP_BY];
    size_t off = 0;
    for (size_t i = 0; i < r->ngroup_by; i++) {
        uint32_t l;
        memcpy(&l, g->key + off, sizeof l);
        vals[i] = (struct kb_str){g->key + off + sizeof l, l};
        off += sizeof l + l;
    }
    const struct entry *w = g->ent + g->head;
    size_t nev = KB_MIN((size_t)g->n, (size_t)e->lim.max_evidence);
    for (size_t i = 0; i < nev; i++) {
        const struct entry *x = &w[g->n - nev + i];
        e->ev[i] = (struct corr_evidence){x->ref, x->time_ms};
    }
    struct corr_alert a = {
        .rule = r,
        .group = vals,
        .ngroup = r->ngroup_by,
        .value = v,
        .first_ms = w[0].time_ms,
        .last_ms = g->newest_ms,
        .nevents = g->n,
        .evidence = e->ev,
        .nevidence = nev,
        .depth = depth,
    };
    e->st.alerts++;
    kb_err err = emit(ctx, &a);
    /* clear the window: its matches never count again */
    g->floor_ms = g->newest_ms;
    g->head = g->n = 0;
    if (err != KB_OK || depth + 1 >= CORR_MAX_CHAIN || (!r->name && !r->id))
        return err;
    /* a correlation may feed others (chaining); g must not be used after */
    struct corr_match next = {r->name, r->id, a.last_ms, m->ref, m->event};
    return feed(e, &next, field, emit, ctx, depth + 1);
}

static kb_err feed_rule(struct corr_engine *e, struct rstate *s, uint32_t idx,
                        const struct corr_match *m, corr_field_fn field, corr_emit_fn emit,
                        void *ctx, unsigned depth)
{
    const struct corr_rule *r = s->rule;
    if (!s->seen || m->time_ms > s->now_ms)
        s->now_ms = m->time_ms;
    s->seen = true;
    expire(e, s);

    size_t klen;
    if (!build_key(e, r, idx, m, field, ctx, &klen)) {
        e->st.no_group++;
        return KB_OK;
    }
    struct entry x = {.time_ms = m->time_ms, .ref = m->ref, .rule = idx};
    if (r->type == CORR_VALUE_COUNT || r->type == CORR_VALUE_SUM || r->type == CORR_VALUE_AVG) {
        const struct json_value *v = lookup(m, resolve(r, idx, r->field), field, ctx);
        char num[32];
        struct kb_str t;
        bool ok =
            r->type == CORR_VALUE_COUNT ? value_text(v, num, &t) : json_as_double(v, &x.value);
        if (!ok) {
            e->st.no_value++;
            return KB_OK;
        }
        if (r->type == CORR_VALUE_COUNT)
            x.vhash = XXH3_64bits(t.p ? t.p : "", t.n);
    }

    uint64_t h = XXH3_64bits(e->keybuf, klen);
    struct group *g = group_find(s, h, e->keybuf, klen);
    if (g &&
        (m->time_ms < g->floor_ms || m->time_ms < window_start(g->newest_ms, r->timespan_ms))) {
        e->st.late++;
        return KB_OK;
    }
    if (!g) {
        g = group_add(e, s, h, e->keybuf, klen);
        g->newest_ms = m->time_ms;
    } else {
        list_unlink(s, g);
        list_push(s, g);
    }
    entry_insert(e, g, &x);
    e->st.matches++;
    if (m->time_ms > g->newest_ms)
        g->newest_ms = m->time_ms;
    int64_t start = window_start(g->newest_ms, r->timespan_ms);
    while (g->n > 0 && g->ent[g->head].time_ms < start) {
        g->head++;
        g->n--;
    }
    if (g->n == 0)
        return KB_OK;
    double v = window_value(e, r, g);
    if (!corr_cond_holds(r, v))
        return KB_OK;
    return emit_alert(e, s, g, v, m, field, emit, ctx, depth);
}

static kb_err feed(struct corr_engine *e, const struct corr_match *m, corr_field_fn field,
                   corr_emit_fn emit, void *ctx, unsigned depth)
{
    for (size_t i = 0; i < e->nrs; i++) {
        int idx = ref_index(e->rs[i].rule, m->rule_name, m->rule_id);
        if (idx < 0)
            continue;
        kb_err err = feed_rule(e, &e->rs[i], (uint32_t)idx, m, field, emit, ctx, depth);
        if (err != KB_OK)
            return err;
    }
    return KB_OK;
}

kb_err corr_feed(struct corr_engine *e, const struct corr_match *m, corr_field_fn field,
                 corr_emit_fn emit, void *ctx)
{
    return feed(e, m, field, emit, ctx, 0);
}

bool corr_engine_wants(const struct corr_engine *e, const char *rule_name, const char *rule_id)
{
    for (size_t i = 0; i < e->nrs; i++)
        if (ref_index(e->rs[i].rule, rule_name, rule_id) >= 0)
            return true;
    return false;
}

void corr_engine_stats(const struct corr_engine *e, struct corr_stats *out)
{
    *out = e->st;
}

/* ---- lifecycle ---- */

static uint32_t limit_or(uint32_t v, uint32_t def, uint32_t max)
{
    return v == 0 ? def : KB_MIN(v, max);
}

/* False when a count-type condition needs more matches than a group keeps. */
static bool reachable(const struct corr_rule *r, uint32_t max_entries)
{
    if (r->type != CORR_EVENT_COUNT && r->type != CORR_VALUE_COUNT)
        return true;
    for (size_t i = 0; i < r->nconds; i++) {
        double t = r->conds[i].value;
        enum corr_op op = r->conds[i].op;
        if ((op == CORR_GTE || op == CORR_EQ) && t > max_entries)
            return false;
        if (op == CORR_GT && t >= max_entries)
            return false;
    }
    return true;
}

kb_err corr_engine_new(struct corr_rule *const *rules, size_t n, const struct corr_limits *lim,
                       struct corr_engine **out, struct kb_why *why)
{
    struct corr_limits l = lim ? *lim : (struct corr_limits){0};
    l.max_groups = limit_or(l.max_groups, DEFAULT_MAX_GROUPS, LIMIT_MAX_GROUPS);
    l.max_entries = limit_or(l.max_entries, DEFAULT_MAX_ENTRIES, LIMIT_MAX_ENTRIES);
    l.max_evidence = limit_or(l.max_evidence, DEFAULT_MAX_EVIDENCE, LIMIT_MAX_EVIDENCE);
    l.max_value = limit_or(l.max_value, DEFAULT_MAX_VALUE, LIMIT_MAX_VALUE);
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct corr_rule *r = rules[i];
        if (!reachable(r, l.max_entries))
            return kb_fail(why, KB_EINVAL,
                           "%s:%u: correlation.condition: needs more than the %u matches a "
                           "group keeps (max_entries)",
                           r->file, r->line, l.max_entries);
    }
    struct corr_engine *e = kb_calloc(1, sizeof *e);
    e->lim = l;
    e->nrs = n;
    e->rs = kb_calloc(n ? n : 1, sizeof *e->rs);
    for (size_t i = 0; i < n; i++) {
        e->rs[i].rule = rules[i];
        e->rs[i].buckets = kb_calloc(16, sizeof *e->rs[i].buckets);
        e->rs[i].mask = 15;
    }
    e->keycap = CORR_MAX_GROUP_BY * (sizeof(uint32_t) + (size_t)l.max_value);
    e->keybuf = kb_malloc(e->keycap);
    e->hashes = kb_malloc(l.max_entries * sizeof *e->hashes);
    e->ev = kb_malloc(l.max_evidence * sizeof *e->ev);
    *out = e;
    return KB_OK;
}

void corr_engine_free(struct corr_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nrs; i++) {
        struct rstate *s = &e->rs[i];
        while (s->oldest)
            group_drop(e, s, s->oldest);
        free(s->buckets);
    }
    free(e->rs);
    free(e->keybuf);
    free(e->hashes);
    free(e->ev);
    free(e);
}
