/*
 * test_inflate.c — the bounded streaming gunzip (lib/inflate.c): whole and
 * split input, concatenated members, truncated and corrupt streams, bombs
 * past the bound, empty input, zlib-wrapped and raw deflate.
 */
#include "test.h"

#include "lib/inflate.h"

#include <stdint.h>
#include <zlib.h>

/* Compresses src with zlib (wbits 31 = gzip, 15 = zlib, -15 = raw); the
 * caller frees the result. */
static unsigned char *compress_bytes(const void *src, size_t n, int wbits, size_t *outlen)
{
    z_stream zs = {0};
    if (deflateInit2(&zs, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&zs, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        abort();
    *outlen = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static unsigned char *gz(const char *s, size_t *outlen)
{
    return compress_bytes(s, strlen(s), 15 + 16, outlen);
}

/* Some text that compresses but is not trivial. */
static char *sample(size_t n)
{
    char *p = malloc(n + 1);
    uint32_t x = 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (char)("abcdefgh {}\":,\n"[(x >> 16) % 15]);
    }
    p[n] = '\0';
    return p;
}

/* Feeds z[0..n) in pieces of `piece` bytes (0: whole) and finishes. */
static kb_err run(const unsigned char *z, size_t n, size_t piece, size_t max_out, struct buf *out,
                  struct kb_why *why)
{
    struct inflate_stream *s = NULL;
    kb_err e = inflate_init(&s, max_out, why);
    for (size_t at = 0; e == KB_OK && at < n;) {
        size_t k = piece ? KB_MIN(piece, n - at) : n - at;
        e = inflate_feed(s, z + at, k, out, why);
        at += k;
    }
    if (e == KB_OK)
        e = inflate_finish(s, why);
    inflate_end(s);
    return e;
}

static void test_good_stream(void)
{
    char *text = sample(300000);
    size_t zn;
    unsigned char *z = gz(text, &zn);
    T_CHECK(zn < 300000);
    static const size_t pieces[] = {0, 1, 7, 4096, 65536, 100000};
    for (size_t i = 0; i < KB_ARRAY_LEN(pieces); i++) {
        struct buf out = BUF_INIT(1u << 30);
        struct kb_why why = {{0}};
        kb_err e = run(z, zn, pieces[i], 1u << 20, &out, &why);
        T_CHECKF(e == KB_OK, "piece %zu: %s", pieces[i], why.msg);
        T_EQ_INT(out.len, 300000);
        T_CHECK(out.p && memcmp(out.p, text, 300000) == 0);
        T_CHECK(out.p && out.p[out.len] == '\0');
        buf_release(&out);
    }
    /* counters and the one-call form */
    struct inflate_stream *s = NULL;
    struct kb_why why = {{0}};
    struct buf out = BUF_INIT(1u << 20);
    T_EQ_INT(inflate_init(&s, 1u << 20, &why), KB_OK);
    T_EQ_INT(inflate_feed(s, z, zn, &out, &why), KB_OK);
    T_EQ_INT(inflate_finish(s, &why), KB_OK);
    T_EQ_INT(inflate_total_in(s), zn);
    T_EQ_INT(inflate_total_out(s), 300000);
    inflate_end(s);
    buf_reset(&out);
    T_EQ_INT(inflate_all(z, zn, 300000, &out, &why), KB_OK); /* exactly the bound */
    T_EQ_INT(out.len, 300000);
    buf_release(&out);
    T_CHECK(inflate_is_gzip(z, zn));
    T_CHECK(!inflate_is_gzip("{\"a\":1}", 7));
    T_CHECK(!inflate_is_gzip(z, 1));
    free(z);
    free(text);
}

static void test_concatenated_members(void)
{
    size_t an, bn, cn;
    unsigned char *a = gz("{\"n\":1}\n", &an);
    unsigned char *b = gz("{\"n\":2}\n{\"n\":3}\n", &bn);
    unsigned char *c = gz("", &cn); /* an empty member in the middle is fine */
    size_t n = an + cn + bn;
    unsigned char *all = malloc(n);
    memcpy(all, a, an);
    memcpy(all + an, c, cn);
    memcpy(all + an + cn, b, bn);
    /* every split point, including exactly at a member boundary */
    for (size_t cut = 0; cut <= n; cut++) {
        struct inflate_stream *s = NULL;
        struct buf out = BUF_INIT(4096);
        struct kb_why why = {{0}};
        kb_err e = inflate_init(&s, 4096, &why);
        if (!e)
            e = inflate_feed(s, all, cut, &out, &why);
        if (!e)
            e = inflate_feed(s, all + cut, n - cut, &out, &why);
        if (!e)
            e = inflate_finish(s, &why);
        T_CHECKF(e == KB_OK, "cut %zu: %s", cut, why.msg);
        T_CHECKF(out.p && strcmp(out.p, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n") == 0, "cut %zu: %s",
                 cut, out.p ? out.p : "(null)");
        inflate_end(s);
        buf_release(&out);
    }
    free(all);
    free(a);
    free(b);
    free(c);
}

static void test_truncated(void)
{
    char *text = sample(5000);
    size_t zn;
    unsigned char *z = gz(text, &zn);
    /* every proper prefix: no error while feeding, "truncated" at the end */
    for (size_t cut = 1; cut < zn; cut++) {
        struct buf out = BUF_INIT(1u << 20);
        struct kb_why why = {{0}};
        kb_err e = run(z, cut, 0, 1u << 20, &out, &why);
        T_CHECKF(e == KB_EPARSE, "prefix of %zu bytes: %s", cut, kb_strerror(e));
        T_CHECKF(strstr(why.msg, "gzip: truncated stream") != NULL, "prefix %zu: %s", cut, why.msg);
        T_CHECK(out.len <= 5000 && (out.len == 0 || memcmp(out.p, text, out.len) == 0));
        buf_release(&out);
        if (e != KB_EPARSE)
            break;
    }
    /* a whole member then half of the next one */
    size_t n2 = zn + zn / 2;
    unsigned char *two = malloc(n2);
    memcpy(two, z, zn);
    memcpy(two + zn, z, zn / 2);
    struct buf out = BUF_INIT(1u << 20);
    struct kb_why why = {{0}};
    T_EQ_INT(run(two, n2, 0, 1u << 20, &out, &why), KB_EPARSE);
    T_CHECK(strstr(why.msg, "truncated") != NULL);
    buf_release(&out);
    free(two);
    free(z);
    free(text);
}

static void test_corrupt(void)
{
    char *text = sample(20000);
    size_t zn;
    unsigned char *z = gz(text, &zn);
    struct kb_why why = {{0}};
    struct buf out = BUF_INIT(1u << 20);

    /* not gzip at all */
    const char *js = "{\"Records\":[]}";
    T_EQ_INT(inflate_all(js, strlen(js), 1u << 20, &out, &why), KB_EPARSE);
    T_CHECKF(strncmp(why.msg, "gzip: corrupt data at byte ", 27) == 0, "%s", why.msg);
    T_EQ_INT(out.len, 0);

    /* a wrong CRC in the trailer: all bytes decoded, then refused */
    unsigned char *bad = malloc(zn);
    memcpy(bad, z, zn);
    bad[zn - 8] ^= 0x55;
    buf_reset(&out);
    T_EQ_INT(inflate_all(bad, zn, 1u << 20, &out, &why), KB_EPARSE);
    T_CHECKF(strstr(why.msg, "corrupt data at byte") && strstr(why.msg, "check"), "%s", why.msg);

    /* a bad block type right after the 10-byte header: found at once, and
     * the byte number points there, not at the end */
    memcpy(bad, z, zn);
    bad[10] |= 0x06; /* BTYPE = 11, reserved */
    buf_reset(&out);
    T_EQ_INT(inflate_all(bad, zn, 1u << 20, &out, &why), KB_EPARSE);
    T_CHECKF(strstr(why.msg, "gzip: corrupt data at byte 11 ") != NULL, "%s", why.msg);

    /* garbage after a good member */
    unsigned char *tail = malloc(zn + 5);
    memcpy(tail, z, zn);
    memcpy(tail + zn, "junk!", 5);
    buf_reset(&out);
    T_EQ_INT(inflate_all(tail, zn + 5, 1u << 20, &out, &why), KB_EPARSE);
    T_CHECKF(strstr(why.msg, "corrupt data at byte") != NULL, "%s", why.msg);
    T_EQ_INT(out.len, 20000); /* the good member was decoded before */

    /* sticky: the failed stream refuses more input, good or not */
    struct inflate_stream *s = NULL;
    T_EQ_INT(inflate_init(&s, 1u << 20, &why), KB_OK);
    T_EQ_INT(inflate_feed(s, js, strlen(js), &out, &why), KB_EPARSE);
    T_EQ_INT(inflate_feed(s, z, zn, &out, &why), KB_EPARSE);
    T_EQ_INT(inflate_finish(s, &why), KB_EPARSE);
    inflate_end(s);

    /* zlib-wrapped data is accepted, raw deflate is not */
    size_t wn, rn;
    unsigned char *w = compress_bytes("zlib wrapped", 12, 15, &wn);
    unsigned char *r = compress_bytes("raw deflate", 11, -15, &rn);
    buf_reset(&out);
    T_EQ_INT(inflate_all(w, wn, 100, &out, &why), KB_OK);
    T_EQ_STR(out.p, "zlib wrapped");
    buf_reset(&out);
    T_EQ_INT(inflate_all(r, rn, 100, &out, &why), KB_EPARSE);
    free(w);
    free(r);
    free(tail);
    free(bad);
    buf_release(&out);
    free(z);
    free(text);
}

static void test_bomb(void)
{
    size_t n = 64u * 1024 * 1024; /* 64 MiB of zeros: about 64 KB compressed */
    char *zeros = calloc(1, n);
    size_t zn;
    unsigned char *z = compress_bytes(zeros, n, 15 + 16, &zn);
    free(zeros);
    T_CHECK(zn < 128 * 1024);
    size_t limit = 1u << 20;
    static const size_t pieces[] = {0, 1000};
    for (size_t i = 0; i < KB_ARRAY_LEN(pieces); i++) {
        struct buf out = BUF_INIT(SIZE_MAX);
        struct kb_why why = {{0}};
        kb_err e = run(z, zn, pieces[i], limit, &out, &why);
        T_EQ_INT(e, KB_ETOOBIG);
        T_EQ_STR(why.msg, "gzip: decompressed size exceeds 1048576 bytes");
        T_CHECK(out.len <= limit);
        /* memory never followed the bomb (buf doubles its capacity) */
        T_CHECK(out.cap <= 2 * (limit + 1));
        buf_release(&out);
    }
    /* one byte over the bound fails; the bound itself passes */
    char *text = sample(10000);
    unsigned char *t = gz(text, &zn);
    struct buf out = BUF_INIT(SIZE_MAX);
    struct kb_why why = {{0}};
    T_EQ_INT(inflate_all(t, zn, 9999, &out, &why), KB_ETOOBIG);
    T_EQ_INT(out.len, 9999);
    buf_reset(&out);
    T_EQ_INT(inflate_all(t, zn, 10000, &out, &why), KB_OK);
    /* the output buffer's own maximum binds too */
    struct buf small = BUF_INIT(5000);
    T_EQ_INT(inflate_all(t, zn, 1u << 20, &small, &why), KB_ETOOBIG);
    T_EQ_STR(why.msg, "gzip: decompressed size exceeds 5000 bytes");
    T_EQ_INT(small.len, 5000);
    buf_release(&small);
    buf_release(&out);
    free(t);
    free(text);
    free(z);
}

static void test_empty(void)
{
    struct buf out = BUF_INIT(100);
    struct kb_why why = {{0}};
    /* no input at all: nothing decoded, not an error */
    T_EQ_INT(inflate_all("", 0, 100, &out, &why), KB_OK);
    T_EQ_INT(out.len, 0);
    struct inflate_stream *s = NULL;
    T_EQ_INT(inflate_init(&s, 0, &why), KB_OK);
    T_EQ_INT(inflate_feed(s, "", 0, &out, &why), KB_OK);
    T_EQ_INT(inflate_finish(s, &why), KB_OK);
    inflate_end(s);
    inflate_end(NULL);
    /* a gzip member of nothing, even with a bound of 0 */
    size_t zn;
    unsigned char *z = gz("", &zn);
    T_EQ_INT(inflate_all(z, zn, 0, &out, &why), KB_OK);
    T_EQ_INT(out.len, 0);
    /* ... while one decoded byte is over a bound of 0 */
    unsigned char *one = gz("x", &zn);
    T_EQ_INT(inflate_all(one, zn, 0, &out, &why), KB_ETOOBIG);
    T_EQ_INT(out.len, 0);
    free(one);
    free(z);
    buf_release(&out);
}

int main(void)
{
    T_RUN(test_good_stream);
    T_RUN(test_concatenated_members);
    T_RUN(test_truncated);
    T_RUN(test_corrupt);
    T_RUN(test_bomb);
    T_RUN(test_empty);
    return t_done();
}
