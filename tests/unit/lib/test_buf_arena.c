/* test_buf_arena.c — the bounded buffer (buf.c) and the bump allocator
 * (arena.c). */
#include "test.h"

#include "lib/arena.h"
#include "lib/buf.h"

#include <stdint.h>

static void test_buf_basics(void)
{
    struct buf b = BUF_INIT(100);
    T_EQ_INT(b.len, 0);
    T_EQ_INT(buf_puts(&b, "abc"), KB_OK);
    T_EQ_INT(buf_putc(&b, 'd'), KB_OK);
    T_EQ_INT(buf_append(&b, "e\0f", 3), KB_OK);
    T_EQ_INT(b.len, 7);
    T_CHECK(memcmp(b.p, "abcde\0f", 8) == 0); /* NUL-terminated past len */
    T_EQ_INT(buf_append(&b, NULL, 0), KB_OK);
    buf_reset(&b);
    T_EQ_INT(b.len, 0);
    T_CHECK(b.p && b.p[0] == '\0' && b.cap > 0); /* memory kept */
    buf_release(&b);
    T_CHECK(b.p == NULL && b.len == 0 && b.max == 100);
    T_EQ_INT(buf_puts(&b, "again"), KB_OK); /* usable after release */
    T_EQ_STR(b.p, "again");
    buf_release(&b);
}

static void test_buf_max(void)
{
    struct buf b;
    buf_init(&b, 10);
    T_EQ_INT(buf_append(&b, "0123456789", 10), KB_OK);
    T_EQ_INT(buf_putc(&b, 'x'), KB_ETOOBIG);
    T_EQ_INT(b.len, 10);
    T_EQ_STR(b.p, "0123456789"); /* unchanged by the failed append */
    T_CHECK(b.cap <= 11);
    T_EQ_INT(buf_printf(&b, "%d", 1), KB_ETOOBIG);
    T_EQ_INT(buf_reserve(&b, SIZE_MAX), KB_ETOOBIG);
    T_EQ_INT(buf_reserve(&b, 0), KB_OK);
    buf_reset(&b);
    T_EQ_INT(buf_append(&b, "01234567890", 11), KB_ETOOBIG);
    T_EQ_INT(b.len, 0);
    buf_release(&b);
    struct buf z = BUF_INIT(0);
    T_EQ_INT(buf_putc(&z, 'a'), KB_ETOOBIG);
    T_EQ_INT(buf_append(&z, "", 0), KB_OK);
    T_CHECK(z.p && z.p[0] == '\0');
    buf_release(&z);
    /* An unlimited buffer: len + extra + 1 must not wrap to a small size. */
    struct buf u = BUF_INIT(SIZE_MAX);
    T_EQ_INT(buf_putc(&u, 'a'), KB_OK);
    T_EQ_INT(buf_reserve(&u, SIZE_MAX - 1), KB_ETOOBIG);
    T_EQ_INT(buf_reserve(&u, SIZE_MAX), KB_ETOOBIG);
    T_EQ_INT(buf_puts(&u, "bc"), KB_OK);
    T_EQ_STR(u.p, "abc");
    buf_release(&u);
}

static void test_buf_printf(void)
{
    struct buf b = BUF_INIT(1 << 20);
    T_EQ_INT(buf_printf(&b, "%s-%d", "a", 42), KB_OK);
    T_EQ_STR(b.p, "a-42");
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    /* Past the 256-byte stack buffer: formatted directly into the buffer. */
    T_EQ_INT(buf_printf(&b, "[%s|%d]", big, 7), KB_OK);
    T_EQ_INT(b.len, 4 + 1 + 999 + 3);
    T_CHECK(b.p[4] == '[' && b.p[5] == 'z' && b.p[1003] == 'z' && b.p[1004] == '|' &&
            b.p[1005] == '7' && b.p[1006] == ']' && b.p[1007] == '\0');
    /* Exactly 255 and 256 characters (the stack buffer's edge). */
    for (int n = 254; n <= 258; n++) {
        buf_reset(&b);
        T_EQ_INT(buf_printf(&b, "%.*s", n, big), KB_OK);
        T_EQ_INT(b.len, n);
        T_EQ_INT(strlen(b.p), n);
    }
    buf_release(&b);
    struct buf small = BUF_INIT(300);
    T_EQ_INT(buf_printf(&small, "%s", big), KB_ETOOBIG);
    T_EQ_INT(small.len, 0);
    buf_release(&small);
}

static void test_buf_take(void)
{
    struct buf b = BUF_INIT(64);
    size_t len = 99;
    char *p = buf_take(&b, &len); /* nothing appended: "" */
    T_CHECK(p && p[0] == '\0' && len == 0);
    free(p);
    buf_puts(&b, "hello");
    p = buf_take(&b, &len);
    T_EQ_STR(p, "hello");
    T_EQ_INT(len, 5);
    T_CHECK(b.p == NULL && b.len == 0 && b.cap == 0 && b.max == 64);
    free(p);
    T_EQ_INT(buf_puts(&b, "next"), KB_OK);
    p = buf_take(&b, NULL);
    T_EQ_STR(p, "next");
    free(p);
}

static void test_buf_growth(void)
{
    struct buf b = BUF_INIT(1 << 20);
    for (int i = 0; i < 100000; i++)
        T_CHECK(buf_putc(&b, (char)('a' + i % 26)) == KB_OK);
    T_EQ_INT(b.len, 100000);
    T_CHECK(b.p[99999] == 'a' + 99999 % 26 && b.p[100000] == '\0');
    buf_release(&b);
}

static void test_arena_alignment(void)
{
    struct arena a = ARENA_INIT(1 << 20);
    for (size_t n = 0; n < 100; n++) {
        void *p = arena_alloc(&a, n);
        T_CHECK(p != NULL && ((uintptr_t)p & 15) == 0);
        if (p)
            memset(p, 0xab, n);
    }
    T_EQ_INT(a.used % 16, 0);
    char *s = arena_strndup(&a, "hello world", 5);
    T_EQ_STR(s, "hello");
    T_CHECK(((uintptr_t)s & 15) == 0);
    arena_release(&a);
}

static void test_arena_limit(void)
{
    struct arena a;
    arena_init(&a, 256);
    T_CHECK(arena_alloc(&a, 200) != NULL);
    T_CHECK(arena_alloc(&a, 48) != NULL); /* 208 + 48 = 256 */
    T_CHECK(arena_alloc(&a, 1) == NULL);
    T_CHECK(arena_strndup(&a, "x", 1) == NULL);
    T_EQ_INT(a.used, 256);
    arena_reset(&a);
    T_EQ_INT(a.used, 0);
    T_CHECK(arena_alloc(&a, 256) != NULL); /* reset gives the budget back */
    T_CHECK(arena_alloc(&a, 1) == NULL);
    arena_reset(&a);
    T_CHECK(arena_alloc(&a, 257) == NULL);
    T_CHECK(arena_alloc(&a, SIZE_MAX / 2) == NULL);
    arena_release(&a);
    struct arena z = ARENA_INIT(0);
    T_CHECK(arena_alloc(&z, 1) == NULL);
    arena_release(&z);
    /* An unlimited arena must still refuse sizes whose rounding wraps. */
    struct arena u = ARENA_INIT(SIZE_MAX);
    T_CHECK(arena_alloc(&u, SIZE_MAX) == NULL);
    T_CHECK(arena_alloc(&u, SIZE_MAX - 14) == NULL);
    T_CHECK(arena_alloc(&u, 8) != NULL);
    arena_release(&u);
}

static void test_arena_reset_reuse(void)
{
    struct arena a = ARENA_INIT(64u << 20);
    for (int round = 0; round < 50; round++) {
        char *first = NULL;
        for (int i = 0; i < 2000; i++) {
            char *p = arena_alloc(&a, 100);
            T_CHECK(p != NULL);
            if (!p)
                break;
            memset(p, round, 100);
            if (!first)
                first = p;
        }
        T_CHECK(first && first[0] == (char)round && first[99] == (char)round);
        arena_reset(&a);
        T_EQ_INT(a.used, 0);
        T_CHECK(a.full == NULL && a.head != NULL);
    }
    arena_release(&a);
    T_CHECK(a.head == NULL && a.full == NULL);
    arena_release(&a); /* twice is harmless */
}

/* A small first block: allocations still succeed past it (later blocks
 * double), the limit still holds, and memory is released. */
static void test_arena_sized(void)
{
    struct arena a;
    arena_init_sized(&a, 1u << 20, 1024);
    char *first = arena_alloc(&a, 100);
    T_CHECK(first != NULL);
    for (int i = 0; i < 200; i++) {
        char *p = arena_alloc(&a, 500);
        T_CHECK(p != NULL);
        if (p)
            memset(p, i, 500);
    }
    T_CHECK(arena_alloc(&a, 1u << 20) == NULL); /* over the limit */
    arena_reset(&a);
    T_CHECK(arena_alloc(&a, 4000) != NULL);
    arena_release(&a);
}

static void test_arena_large(void)
{
    struct arena a = ARENA_INIT(64u << 20);
    char *small = arena_alloc(&a, 10);
    memcpy(small, "keep", 5);
    /* Bigger than a block: gets its own block; earlier data stays valid. */
    size_t big = 8u << 20;
    char *p = arena_alloc(&a, big);
    T_CHECK(p != NULL && ((uintptr_t)p & 15) == 0);
    if (p) {
        memset(p, 0x5a, big);
        T_CHECK(p[big - 1] == 0x5a);
    }
    char *after = arena_alloc(&a, 100);
    T_CHECK(after != NULL);
    if (after)
        memset(after, 1, 100);
    T_EQ_STR(small, "keep");
    T_CHECK(a.used >= big + 16 + 112);
    arena_reset(&a);
    char *q = arena_alloc(&a, 1 << 20);
    T_CHECK(q != NULL);
    if (q)
        memset(q, 2, 1 << 20);
    arena_release(&a);
}

int main(void)
{
    T_RUN(test_buf_basics);
    T_RUN(test_arena_sized);
    T_RUN(test_buf_max);
    T_RUN(test_buf_printf);
    T_RUN(test_buf_take);
    T_RUN(test_buf_growth);
    T_RUN(test_arena_alignment);
    T_RUN(test_arena_limit);
    T_RUN(test_arena_reset_reuse);
    T_RUN(test_arena_large);
    return t_done();
}
