/* arena.c — bump allocator in growing blocks. */
#include "lib/arena.h"

#include <stdlib.h>

struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t off;
    _Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK_MIN (64 * 1024)

void arena_init(struct arena *a, size_t limit)
{
    arena_init_sized(a, limit, 0);
}

void arena_init_sized(struct arena *a, size_t limit, size_t first_block)
{
    a->head = a->full = NULL;
    a->used = 0;
    a->limit = limit;
    a->first = first_block;
}

void *arena_alloc(struct arena *a, size_t n)
{
    if (n > SIZE_MAX - 15)
        return NULL; /* rounding up would wrap */
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (n > a->limit || a->used > a->limit - n)
        return NULL;
    struct arena_block *b = a->head;
    if (!b || b->size - b->off < n) {
        size_t min = a->first ? a->first : ARENA_BLOCK_MIN;
        size_t size = n > min ? n : min;
        if (b && b->size * 2 > size && b->size * 2 <= 4 * 1024 * 1024)
            size = b->size * 2;
        struct arena_block *nb = kb_malloc(sizeof *nb + size);
        nb->size = size;
        nb->off = 0;
        if (b) {
            b->next = a->full;
            a->full = b;
        }
        nb->next = NULL;
        a->head = b = nb;
    }
    void *p = b->data + b->off;
    b->off += n;
    a->used += n;
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void arena_reset(struct arena *a)
{
    struct arena_block *b = a->full;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->full = NULL;
    if (a->head)
        a->head->off = 0;
    a->used = 0;
}

void arena_release(struct arena *a)
{
    arena_reset(a);
    free(a->head);
    a->head = NULL;
}
