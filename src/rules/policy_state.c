/*
 * policy_state.c — policy_memstate: a bounded in-memory struct
 * policy_state for tests and `koban test` (policy.h).
 *
 * A set-associative table: the fingerprint (already a hash) picks a
 * bucket of MEM_WAYS entries; a new identity in a full bucket replaces the
 * entry recorded least recently (a logical clock, so replayed events with
 * old times do not confuse it). Each entry keeps its total count and a
 * ring of its last POLICY_MAX_WINDOW_COUNT occurrence times, which is all
 * an escalate window may ask for (policy_load.c refuses larger windowed
 * thresholds). Memory is fixed at creation.
 */
#include "rules/policy.h"

#include <stdlib.h>

#define MEM_WAYS 8

struct mem_entry {
    uint8_t fp[16];
    bool used;
    uint32_t head;  /* next slot of times[] to write */
    uint32_t n;     /* times kept (<= POLICY_MAX_WINDOW_COUNT) */
    uint64_t total; /* occurrences ever */
    uint64_t tick;  /* when last recorded (logical clock) */
    int64_t times[POLICY_MAX_WINDOW_COUNT];
};

struct policy_memstate {
    struct mem_entry *e;
    size_t nbuckets;
    size_t size;
    uint64_t evicted;
    uint64_t tick;
};

struct policy_memstate *policy_memstate_new(size_t max_identities)
{
    struct policy_memstate *m = kb_calloc(1, sizeof *m);
    size_t nb = (KB_MAX(max_identities, (size_t)MEM_WAYS) + MEM_WAYS - 1) / MEM_WAYS;
    m->nbuckets = nb;
    m->e = kb_calloc(nb * MEM_WAYS, sizeof *m->e);
    return m;
}

void policy_memstate_free(struct policy_memstate *m)
{
    if (!m)
        return;
    free(m->e);
    free(m);
}

static struct mem_entry *bucket(struct policy_memstate *m, const uint8_t fp[16])
{
    uint64_t h;
    memcpy(&h, fp, sizeof h);
    return &m->e[(h % m->nbuckets) * MEM_WAYS];
}

static struct mem_entry *find(struct policy_memstate *m, const uint8_t fp[16])
{
    struct mem_entry *b = bucket(m, fp);
    for (int i = 0; i < MEM_WAYS; i++)
        if (b[i].used && memcmp(b[i].fp, fp, 16) == 0)
            return &b[i];
    return NULL;
}

static kb_err mem_occurrences(void *ctx, const uint8_t fp[16], int64_t since_ms, uint64_t *n)
{
    struct mem_entry *e = find(ctx, fp);
    *n = 0;
    if (!e)
        return KB_OK;
    if (since_ms == INT64_MIN) {
        *n = e->total;
        return KB_OK;
    }
    for (uint32_t i = 0; i < e->n; i++)
        if (e->times[i] >= since_ms)
            (*n)++;
    return KB_OK;
}

static kb_err mem_record(void *ctx, const uint8_t fp[16], int64_t t_ms)
{
    struct policy_memstate *m = ctx;
    struct mem_entry *e = find(m, fp);
    if (!e) {
        struct mem_entry *b = bucket(m, fp);
        e = &b[0];
        for (int i = 0; i < MEM_WAYS; i++) {
            if (!b[i].used) {
                e = &b[i];
                break;
            }
            if (b[i].tick < e->tick)
                e = &b[i];
        }
        if (e->used)
            m->evicted++;
        else
            m->size++;
        memset(e, 0, sizeof *e);
        e->used = true;
        memcpy(e->fp, fp, 16);
    }
    e->total++;
    e->tick = ++m->tick;
    e->times[e->head] = t_ms;
    e->head = (e->head + 1) % POLICY_MAX_WINDOW_COUNT;
    if (e->n < POLICY_MAX_WINDOW_COUNT)
        e->n++;
    return KB_OK;
}

struct policy_state policy_memstate_state(struct policy_memstate *m)
{
    return (struct policy_state){m, mem_occurrences, mem_record};
}

size_t policy_memstate_size(const struct policy_memstate *m)
{
    return m->size;
}
uint64_t policy_memstate_evicted(const struct policy_memstate *m)
{
    return m->evicted;
}
