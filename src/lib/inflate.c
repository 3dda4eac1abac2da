/* inflate.c — bounded streaming gunzip over zlib (see inflate.h). */
#include "lib/inflate.h"

#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

/* Output window handed to zlib per call; the buffer still grows only as far
 * as the decoded bytes need. */
#define INFLATE_STEP (64u * 1024)
/* 15: a 32 KiB window, the most gzip uses; +32: gzip or zlib header,
 * detected from the first bytes of each member. */
#define INFLATE_WBITS (15 + 32)

struct inflate_stream {
    z_stream zs;
    size_t max_out;     /* decoded bytes allowed in total */
    uint64_t in_total;  /* compressed bytes zlib has read */
    uint64_t out_total; /* decoded bytes, <= max_out */
    bool member_end;    /* the last member ended exactly at the input seen */
    kb_err failed;      /* sticky: once set, nothing more is decoded */
};

/* zlib allocates through koban's allocator so that running out of memory
 * aborts in one place, as everywhere else, instead of surfacing as a
 * "corrupt data" error. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return kb_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    free(p);
}

kb_err inflate_init(struct inflate_stream **out, size_t max_out, struct kb_why *why)
{
    *out = NULL;
    struct inflate_stream *z = kb_calloc(1, sizeof *z);
    z->zs.zalloc = z_alloc;
    z->zs.zfree = z_free;
    z->max_out = max_out;
    if (inflateInit2(&z->zs, INFLATE_WBITS) != Z_OK) {
        free(z);
        return kb_fail(why, KB_EINVAL, "gzip: cannot start the decoder (zlib %s)", zlibVersion());
    }
    *out = z;
    return KB_OK;
}

void inflate_end(struct inflate_stream *z)
{
    if (!z)
        return;
    inflateEnd(&z->zs);
    free(z);
}

uint64_t inflate_total_out(const struct inflate_stream *z)
{
    return z->out_total;
}

uint64_t inflate_total_in(const struct inflate_stream *z)
{
    return z->in_total;
}

static kb_err too_big(struct inflate_stream *z, size_t limit, struct kb_why *why)
{
    z->failed = KB_ETOOBIG;
    return kb_fail(why, KB_ETOOBIG, "gzip: decompressed size exceeds %zu bytes", limit);
}

/* Runs zlib over zs.next_in/avail_in until the input is used up and no
 * decoded byte is left inside zlib. When no room is left under the bound,
 * zlib writes into a one-byte spare: any byte there means the bound was
 * passed, found without ever holding more than the bound. */
static kb_err pump(struct inflate_stream *z, struct buf *out, struct kb_why *why)
{
    z_stream *zs = &z->zs;
    for (;;) {
        if (z->member_end) {
            if (zs->avail_in == 0)
                return KB_OK;
            if (inflateReset(zs) != Z_OK) { /* another member follows */
                z->failed = KB_EPARSE;
                return kb_fail(why, KB_EPARSE, "gzip: cannot reset the decoder");
            }
            z->member_end = false;
        }
        size_t left = z->max_out - (size_t)z->out_total;
        size_t buf_left = out->max - out->len;
        size_t room = KB_MIN(left, buf_left);
        size_t step = room ? KB_MIN(room, (size_t)INFLATE_STEP) : 1;
        unsigned char spare;
        if (room && buf_reserve(out, step) != KB_OK)
            return too_big(z, (size_t)z->out_total + room, why);
        zs->next_out = room ? (Bytef *)out->p + out->len : &spare;
        zs->avail_out = (uInt)step;
        uInt avail_before = zs->avail_in;
        int rc = inflate(zs, Z_NO_FLUSH);
        z->in_total += avail_before - zs->avail_in;
        size_t got = step - zs->avail_out;
        if (!room && got)
            return too_big(z, left <= buf_left ? z->max_out : (size_t)z->out_total, why);
        if (got) {
            out->len += got;
            out->p[out->len] = '\0';
            z->out_total += got;
        }
        if (rc == Z_STREAM_END) {
            z->member_end = true;
            continue;
        }
        if (rc == Z_BUF_ERROR)
            return KB_OK; /* no progress possible: needs more input */
        if (rc == Z_OK) {
            if (zs->avail_in == 0 && zs->avail_out > 0)
                return KB_OK; /* input used up and nothing left inside zlib */
            continue;
        }
        z->failed = KB_EPARSE;
        const char *reason = zs->msg             ? zs->msg
                             : rc == Z_NEED_DICT ? "needs a preset dictionary"
                                                 : "invalid data";
        return kb_fail(why, KB_EPARSE, "gzip: corrupt data at byte %llu (%s)",
                       (unsigned long long)z->in_total, reason);
    }
}

kb_err inflate_feed(struct inflate_stream *z, const void *in, size_t n, struct buf *out,
                    struct kb_why *why)
{
    if (z->failed)
        return kb_fail(why, z->failed, "gzip: the stream already failed");
    const unsigned char *p = in;
    while (n > 0) {
        size_t part = KB_MIN(n, (size_t)UINT_MAX);
        z->zs.next_in = (Bytef *)(uintptr_t)p; /* zlib does not write its input */
        z->zs.avail_in = (uInt)part;
        kb_err e = pump(z, out, why);
        z->zs.next_in = NULL;
        z->zs.avail_in = 0;
        if (e)
            return e;
        p += part;
        n -= part;
    }
    return KB_OK;
}

kb_err inflate_finish(struct inflate_stream *z, struct kb_why *why)
{
    if (z->failed)
        return kb_fail(why, z->failed, "gzip: the stream already failed");
    if (z->in_total > 0 && !z->member_end) {
        z->failed = KB_EPARSE;
        return kb_fail(why, KB_EPARSE,
                       "gzip: truncated stream (%llu bytes, the last member has no end)",
                       (unsigned long long)z->in_total);
    }
    return KB_OK;
}

kb_err inflate_all(const void *in, size_t n, size_t max_out, struct buf *out, struct kb_why *why)
{
    struct inflate_stream *z = NULL;
    kb_err e = inflate_init(&z, max_out, why);
    if (!e)
        e = inflate_feed(z, in, n, out, why);
    if (!e)
        e = inflate_finish(z, why);
    inflate_end(z);
    return e;
}
