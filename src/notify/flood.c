/*
 * flood.c — token buckets per key in a fixed, set-associative table
 * (flood.h).
 *
 * Tokens are kept in integer units so that any rate is exact: one token is
 * per_ms units and every millisecond adds `rate` units, up to burst * per_ms
 * (at the bounds in flood.h at most 8.64e13, far inside int64). An entry is
 * in use when its logical-clock stamp (tick) is non-zero and is flooding
 * when it has held copies (held > 0); that keeps an entry at 64 bytes.
 */
#include "notify/flood.h"

#include <stdlib.h>
#include <xxhash.h>

#define FLOOD_WAYS 8

struct flood_entry {
    uint8_t key[16];
    int64_t units;        /* tokens * per_ms, as of last_ms */
    int64_t last_ms;      /* latest time seen for this key */
    uint64_t held;        /* copies held in the current flood; 0: calm */
    int64_t started_ms;   /* START of the current flood */
    int64_t last_held_ms; /* last copy held */
    uint64_t tick;        /* last use (logical clock); 0: free */
};

struct flood {
    struct flood_config cfg;
    int64_t cap;      /* burst * per_ms */
    int64_t interval; /* ceil(per_ms / rate) */
    struct flood_entry *e;
    size_t nbuckets;
    size_t size, active;
    uint64_t evicted;
    uint64_t tick;
};

kb_err flood_new(const struct flood_config *c, struct flood **out, struct kb_why *why)
{
    *out = NULL;
    if (c->rate < 1 || c->rate > FLOOD_MAX_RATE)
        return kb_fail(why, KB_EINVAL, "flood: rate: %u is not in 1..%u", c->rate, FLOOD_MAX_RATE);
    if (c->per_ms < 1 || c->per_ms > FLOOD_MAX_PERIOD_MS)
        return kb_fail(why, KB_EINVAL, "flood: period: %lld ms is not in 1..%d",
                       (long long)c->per_ms, FLOOD_MAX_PERIOD_MS);
    if (c->burst < 1 || c->burst > FLOOD_MAX_BURST)
        return kb_fail(why, KB_EINVAL, "flood: burst: %u is not in 1..%u", c->burst,
                       FLOOD_MAX_BURST);
    if (c->max_keys > FLOOD_MAX_KEYS)
        return kb_fail(why, KB_EINVAL, "flood: max_keys: %zu is over %d", c->max_keys,
                       FLOOD_MAX_KEYS);
    struct flood *f = kb_calloc(1, sizeof *f);
    f->cfg = *c;
    size_t keys = c->max_keys ? c->max_keys : FLOOD_DEFAULT_KEYS;
    f->cfg.max_keys = keys;
    f->cap = (int64_t)c->burst * c->per_ms;
    f->interval = (c->per_ms + c->rate - 1) / c->rate;
    f->nbuckets = (KB_MAX(keys, (size_t)FLOOD_WAYS) + FLOOD_WAYS - 1) / FLOOD_WAYS;
    f->e = kb_calloc(f->nbuckets * FLOOD_WAYS, sizeof *f->e);
    *out = f;
    return KB_OK;
}

void flood_free(struct flood *f)
{
    if (!f)
        return;
    free(f->e);
    free(f);
}

static struct flood_entry *bucket(struct flood *f, const uint8_t key[16])
{
    /* Keys are hashes already (fingerprints, flood_key_str), so their
     * first bytes pick the bucket. */
    uint64_t h;
    memcpy(&h, key, sizeof h);
    return &f->e[(h % f->nbuckets) * FLOOD_WAYS];
}

static void summarize(const struct flood_entry *e, struct flood_summary *s)
{
    memcpy(s->key, e->key, sizeof s->key);
    s->held = e->held;
    s->started_ms = e->started_ms;
    s->last_held_ms = e->last_held_ms;
}

/* The entry for key, claiming a way (and maybe evicting) when it is new. */
static struct flood_entry *lookup(struct flood *f, const uint8_t key[16], int64_t now_ms,
                                  struct flood_decision *d)
{
    struct flood_entry *b = bucket(f, key);
    struct flood_entry *free_way = NULL, *calm = NULL, *any = NULL;
    for (int i = 0; i < FLOOD_WAYS; i++) {
        struct flood_entry *x = &b[i];
        if (!x->tick) {
            if (!free_way)
                free_way = x;
            continue;
        }
        if (memcmp(x->key, key, 16) == 0)
            return x;
        if (!x->held && (!calm || x->tick < calm->tick))
            calm = x;
        if (!any || x->tick < any->tick)
            any = x;
    }
    struct flood_entry *e = free_way ? free_way : calm ? calm : any;
    if (e == free_way) {
        f->size++;
    } else {
        f->evicted++;
        if (e->held) {
            /* Every way is flooding: hand the oldest flood back to the
             * caller rather than lose its count. */
            f->active--;
            if (d) {
                d->evicted = true;
                summarize(e, &d->evicted_flood);
            }
        }
    }
    memset(e, 0, sizeof *e);
    memcpy(e->key, key, 16);
    e->units = f->cap;
    e->last_ms = now_ms;
    return e;
}

/* Brings e's tokens up to now_ms; time going backwards adds nothing. */
static void refill(const struct flood *f, struct flood_entry *e, int64_t now_ms)
{
    if (now_ms <= e->last_ms)
        return;
    int64_t elapsed = now_ms - e->last_ms;
    int64_t need = f->cap - e->units;
    /* Compare before multiplying: elapsed * rate could overflow after a
     * long quiet spell. */
    if (elapsed > need / (int64_t)f->cfg.rate)
        e->units = f->cap;
    else
        e->units += elapsed * (int64_t)f->cfg.rate;
    e->last_ms = now_ms;
}

enum flood_verdict flood_take(struct flood *f, const uint8_t key[16], int64_t now_ms,
                              struct flood_decision *d)
{
    if (d)
        memset(d, 0, sizeof *d);
    struct flood_entry *e = lookup(f, key, now_ms, d);
    e->tick = ++f->tick;
    refill(f, e, now_ms);
    enum flood_verdict v;
    if (e->units >= f->cfg.per_ms) {
        e->units -= f->cfg.per_ms;
        v = FLOOD_PASS;
    } else {
        int64_t t = KB_MAX(now_ms, e->last_ms);
        if (!e->held) {
            e->started_ms = t;
            f->active++;
            v = FLOOD_START;
        } else {
            v = FLOOD_HOLD;
        }
        e->held++;
        e->last_held_ms = t;
    }
    if (d)
        d->verdict = v;
    return v;
}

size_t flood_tick(struct flood *f, int64_t now_ms, flood_end_fn cb, void *ctx)
{
    size_t ended = 0;
    size_t n = f->nbuckets * FLOOD_WAYS;
    for (size_t i = 0; i < n && f->active > 0; i++) {
        struct flood_entry *e = &f->e[i];
        if (!e->tick || !e->held)
            continue;
        refill(f, e, now_ms);
        if (e->units < f->cfg.per_ms || now_ms - e->last_held_ms < f->interval)
            continue;
        struct flood_summary s;
        summarize(e, &s);
        e->held = 0;
        e->started_ms = e->last_held_ms = 0;
        f->active--;
        ended++;
        if (cb)
            cb(ctx, &s);
    }
    return ended;
}

void flood_key_str(const char *s, size_t n, uint8_t key[16])
{
    /* A fixed seed keeps rule keys apart from identity fingerprints, which
     * are unseeded hashes of other text. */
    XXH128_hash_t h = XXH3_128bits_withSeed(s, n, 0x6b6f62616e466cULL);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(key, c.digest, 16);
}

int64_t flood_interval_ms(const struct flood *f)
{
    return f->interval;
}
size_t flood_size(const struct flood *f)
{
    return f->size;
}
size_t flood_active(const struct flood *f)
{
    return f->active;
}
uint64_t flood_evicted(const struct flood *f)
{
    return f->evicted;
}
