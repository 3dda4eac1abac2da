/*
 * inflate.h — streaming gunzip with a bound on the decoded size.
 *
 * Compressed input arrives in pieces of any size (inflate_feed); the decoded
 * bytes are appended to a caller's struct buf. The bound, max_out, covers
 * every byte decoded since inflate_init and is checked while inflating, so a
 * gzip bomb (1 KB that inflates to gigabytes) fails with KB_ETOOBIG having
 * produced at most max_out bytes — memory never follows the bomb.
 *
 * Accepted: gzip (RFC 1952), including several members back to back (what
 * `cat a.gz b.gz` and many log shippers produce; decoded as one stream), and
 * zlib-wrapped data (RFC 1950, what HTTP calls "deflate"). Rejected: raw
 * deflate without a header, and bytes after a member that do not start
 * another one.
 *
 * Errors (the stream is failed for good afterwards: later calls return the
 * same code without decoding):
 *   KB_EPARSE   "gzip: corrupt data at byte N (REASON)" — N counts the
 *               compressed bytes read when the decoder found the fault;
 *   KB_ETOOBIG  "gzip: decompressed size exceeds LIMIT bytes" — max_out, or
 *               the output buffer's own maximum when that is smaller;
 *   KB_EPARSE   "gzip: truncated stream (N bytes, ...)" — from
 *               inflate_finish, when the input stopped inside a member.
 * Empty input (no byte fed) is not an error: inflate_finish returns KB_OK
 * and nothing was decoded; a caller that needs content checks its length.
 *
 * Ownership: inflate_init allocates the stream; the caller frees it with
 * inflate_end (NULL is a no-op). The output buffer is borrowed per call and
 * may differ between calls. One thread at a time per stream.
 *
 * This file pair is the only place in koban that talks to zlib.
 */
#ifndef KOBAN_INFLATE_H
#define KOBAN_INFLATE_H

#include "lib/buf.h"

struct inflate_stream;

/* Starts a decoder allowing max_out decoded bytes in total (>= 0). */
kb_err inflate_init(struct inflate_stream **out, size_t max_out, struct kb_why *why);

/* Decodes n bytes of input, appending what they yield to out. A member may
 * end anywhere, also in the middle of a piece; bytes after it start the next
 * member. */
kb_err inflate_feed(struct inflate_stream *z, const void *in, size_t n, struct buf *out,
                    struct kb_why *why);

/* Declares the end of input: KB_EPARSE when it stopped inside a member. */
kb_err inflate_finish(struct inflate_stream *z, struct kb_why *why);

/* Decoded and compressed byte counts so far. */
uint64_t inflate_total_out(const struct inflate_stream *z);
uint64_t inflate_total_in(const struct inflate_stream *z);

void inflate_end(struct inflate_stream *z);

/* The whole thing for input already in memory: init, feed, finish, end. */
kb_err inflate_all(const void *in, size_t n, size_t max_out, struct buf *out, struct kb_why *why);

/* True when p starts with the gzip magic bytes 1f 8b. */
static inline bool inflate_is_gzip(const void *p, size_t n)
{
    const unsigned char *b = p;
    return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

#endif
