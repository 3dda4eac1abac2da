/* web_body.c — bounded request body with on-the-fly gunzip. */
#include "web/web_body.h"

#include <limits.h>

/* Output window handed to inflate() per call; the buffer still grows only as
 * far as the decoded bytes need. */
#define WEB_INFLATE_STEP (64u * 1024)

void web_body_init(struct web_body *b, size_t max, bool gzip)
{
    memset(b, 0, sizeof *b);
    buf_init(&b->out, max);
    b->gzip = gzip;
}

void web_body_release(struct web_body *b)
{
    if (b->z_ready)
        inflateEnd(&b->zs);
    b->z_ready = false;
    buf_release(&b->out);
}

/* Runs inflate over zs.next_in/avail_in until the input is used up and no
 * decoded byte is left inside zlib. When the buffer is full, inflate writes
 * into a one-byte spare: any byte there means the bound was passed. */
static kb_err pump(struct web_body *b, struct kb_why *why)
{
    z_stream *zs = &b->zs;
    for (;;) {
        if (b->z_end) {
            if (zs->avail_in == 0)
                return KB_OK;
            if (inflateReset(zs) != Z_OK) /* another gzip member follows */
                return kb_fail(why, KB_EPARSE, "gzip body: cannot reset the decoder");
            b->z_end = false;
        }
        size_t room = b->out.max - b->out.len;
        unsigned char spare;
        size_t step = room ? KB_MIN(room, (size_t)WEB_INFLATE_STEP) : 1;
        if (room && buf_reserve(&b->out, step) != KB_OK)
            return kb_fail(why, KB_ETOOBIG, "body is larger than %zu bytes", b->out.max);
        zs->next_out = room ? (Bytef *)b->out.p + b->out.len : &spare;
        zs->avail_out = (uInt)step;
        int rc = inflate(zs, Z_NO_FLUSH);
        size_t got = step - zs->avail_out;
        if (!room && got)
            return kb_fail(why, KB_ETOOBIG, "body inflates to more than %zu bytes",
                           b->out.max);
        if (room) {
            b->out.len += got;
            b->out.p[b->out.len] = '\0';
        }
        if (rc == Z_STREAM_END) {
            b->z_end = true;
            continue;
        }
        if (rc == Z_BUF_ERROR)
            return KB_OK; /* no progress possible: needs more input */
        if (rc == Z_OK) {
            if (zs->avail_in == 0 && zs->avail_out > 0)
                return KB_OK; /* input used up and nothing left inside zlib */
            continue;
        }
        return kb_fail(why, KB_EPARSE, "gzip body: %s", zs->msg ? zs->msg : "corrupt data");
    }
}

kb_err web_body_feed(struct web_body *b, const char *data, size_t n, struct kb_why *why)
{
    if (n > b->out.max - b->received)
        return kb_fail(why, KB_ETOOBIG, "body is larger than %zu bytes", b->out.max);
    b->received += n;
    if (!b->gzip) {
        if (buf_append(&b->out, data, n) != KB_OK)
            return kb_fail(why, KB_ETOOBIG, "body is larger than %zu bytes", b->out.max);
        return KB_OK;
    }
    if (!b->z_ready) {
        /* 15 + 32: a 32 KiB window, gzip or zlib header detected. */
        if (inflateInit2(&b->zs, 15 + 32) != Z_OK)
            return kb_fail(why, KB_EPARSE, "gzip body: cannot start the decoder");
        b->z_ready = true;
    }
    while (n > 0) {
        size_t part = KB_MIN(n, (size_t)UINT_MAX);
        b->zs.next_in = (Bytef *)(uintptr_t)data;
        b->zs.avail_in = (uInt)part;
        kb_err e = pump(b, why);
        if (e)
            return e;
        data += part;
        n -= part;
    }
    return KB_OK;
}

kb_err web_body_finish(struct web_body *b, struct kb_why *why)
{
    if (b->gzip && b->received > 0 && !b->z_end)
        return kb_fail(why, KB_EPARSE, "gzip body is truncated");
    return KB_OK;
}
