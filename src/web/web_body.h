/*
 * web_body.h — a request body read piece by piece into a bounded buffer,
 * gunzipped on the fly when the request says Content-Encoding: gzip.
 *
 * The bound applies to the decoded bytes (and to the bytes received), so a
 * small gzip bomb fails with KB_ETOOBIG as soon as it inflates past the
 * limit, never after. Decoding is lib/inflate.h: concatenated gzip members
 * are decoded in turn (RFC 1952); zlib-wrapped data is accepted too.
 *
 * Owner: whoever holds the struct; web_body_release frees the buffer and the
 * decoder. Internal to src/web.
 */
#ifndef KOBAN_WEB_BODY_H
#define KOBAN_WEB_BODY_H

#include "lib/buf.h"
#include "lib/inflate.h"

struct web_body {
    struct buf out;           /* decoded bytes, at most max */
    size_t received;          /* bytes received, at most max */
    bool gzip;                /* decode with lib/inflate */
    struct inflate_stream *z; /* the decoder, started at the first byte */
};

void web_body_init(struct web_body *b, size_t max, bool gzip);
/* Adds n received bytes. KB_ETOOBIG past the bound, KB_EPARSE for corrupt
 * gzip data (why says so). After an error the body is unusable. */
kb_err web_body_feed(struct web_body *b, const char *data, size_t n, struct kb_why *why);
/* Ends the body: KB_EPARSE when a gzip stream was cut short. */
kb_err web_body_finish(struct web_body *b, struct kb_why *why);
void web_body_release(struct web_body *b);

#endif
