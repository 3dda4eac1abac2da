/* inventory_seen.c — the (name, version) set of inventory_seen.h: open
 * addressing over a power-of-two table, grown at half full. */
#include "vuln/inventory_seen.h"

#include "vuln/inventory.h"

#include <stdlib.h>

struct inventory_seen_slot {
    uint64_t h;
    char *key; /* name, NUL, version (kb_malloc'd); NULL: empty */
    size_t len;
};

static uint64_t hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h ^ (h >> 31);
}

static void put(struct inventory_seen_slot *slots, size_t cap, struct inventory_seen_slot v)
{
    size_t j = v.h & (cap - 1);
    while (slots[j].key)
        j = (j + 1) & (cap - 1);
    slots[j] = v;
}

kb_err inventory_seen_add(struct inventory_seen *s, struct kb_str name, struct kb_str version,
                          bool *added)
{
    *added = false;
    size_t len = name.n + 1 + version.n;
    char *key = kb_malloc(len);
    if (name.n)
        memcpy(key, name.p, name.n);
    key[name.n] = '\0';
    if (version.n)
        memcpy(key + name.n + 1, version.p, version.n);
    uint64_t h = hash(key, len);
    for (size_t j = s->cap ? h & (s->cap - 1) : 0; s->cap && s->slots[j].key;
         j = (j + 1) & (s->cap - 1))
        if (s->slots[j].h == h && s->slots[j].len == len && !memcmp(s->slots[j].key, key, len)) {
            free(key);
            return KB_OK;
        }
    if (s->n >= INVENTORY_MAX_PACKAGES) {
        free(key);
        return KB_ETOOBIG;
    }
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        struct inventory_seen_slot *ns = kb_calloc(ncap, sizeof *ns);
        for (size_t j = 0; j < s->cap; j++)
            if (s->slots[j].key)
                put(ns, ncap, s->slots[j]);
        free(s->slots);
        s->slots = ns;
        s->cap = ncap;
    }
    put(s->slots, s->cap, (struct inventory_seen_slot){h, key, len});
    s->n++;
    *added = true;
    return KB_OK;
}

void inventory_seen_release(struct inventory_seen *s)
{
    for (size_t j = 0; j < s->cap; j++)
        free(s->slots[j].key);
    free(s->slots);
    *s = (struct inventory_seen)INVENTORY_SEEN_INIT;
}
