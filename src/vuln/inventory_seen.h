/*
 * inventory_seen.h — a set of (name, version) pairs, for the parsers of
 * inputs that list one package more than once (a Gemfile.lock gem built
 * for several platforms, a go.sum module with both hash lines, a
 * requirement repeated): each pair is kept once.
 *
 * Ownership: the set owns its table and a copy of every pair;
 * inventory_seen_release frees them. Bounded by INVENTORY_MAX_PACKAGES
 * pairs (the bound of the inventory the pairs go to).
 */
#ifndef KOBAN_INVENTORY_SEEN_H
#define KOBAN_INVENTORY_SEEN_H

#include "lib/kb.h"

struct inventory_seen {
    struct inventory_seen_slot *slots;
    size_t cap, n;
};

#define INVENTORY_SEEN_INIT                                                                        \
    {                                                                                              \
        0                                                                                          \
    }

/* Adds (name, version); *added is false when the pair was already there.
 * KB_ETOOBIG past INVENTORY_MAX_PACKAGES pairs. */
kb_err inventory_seen_add(struct inventory_seen *s, struct kb_str name, struct kb_str version,
                          bool *added);

void inventory_seen_release(struct inventory_seen *s);

#endif
