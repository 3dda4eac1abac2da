/*
 * arena.h — a bump allocator for short-lived, per-event data (parsed JSON,
 * normalized alerts). Everything allocated from an arena is freed at once by
 * arena_reset() (memory kept for reuse) or arena_release() (memory freed).
 *
 * Owner: whoever holds the struct. An arena has a byte limit; past it
 * arena_alloc() returns NULL, which callers turn into KB_ETOOBIG.
 */
#ifndef KOBAN_ARENA_H
#define KOBAN_ARENA_H

#include "lib/kb.h"

struct arena_block;

struct arena {
    struct arena_block *head; /* block being filled */
    struct arena_block *full; /* blocks already filled (kept until reset) */
    size_t used;              /* bytes handed out since the last reset */
    size_t limit;             /* maximum bytes between resets */
    size_t first;             /* size of the first block; 0: 64 KiB */
};

#define ARENA_INIT(limitbytes) {NULL, NULL, 0, (limitbytes), 0}

void arena_init(struct arena *a, size_t limit);
/* The same with a smaller (or larger) first block, for arenas that hold
 * little and of which there are many (one per parsed advisory); later
 * blocks double from it. */
void arena_init_sized(struct arena *a, size_t limit, size_t first_block);
/* Returns n bytes aligned to 16, or NULL past the limit. */
void *arena_alloc(struct arena *a, size_t n);
/* Copies s[0..n) and a NUL into the arena; NULL past the limit. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Frees everything allocated since the last reset, keeping one block. */
void arena_reset(struct arena *a);
void arena_release(struct arena *a);

#endif
