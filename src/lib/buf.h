/*
 * buf.h — a growable byte buffer with a hard maximum (like curl's dynbuf).
 *
 * Owner: whoever holds the struct. buf_release() frees the contents and
 * leaves an empty buffer with the same maximum. Past `max` bytes every append
 * fails with KB_ETOOBIG and leaves the buffer unchanged, so attacker input
 * never grows memory without bound. The contents are always NUL-terminated
 * (the terminator is not counted in len) once anything was appended.
 */
#ifndef KOBAN_BUF_H
#define KOBAN_BUF_H

#include "lib/kb.h"

#include <stdarg.h>

struct buf {
    char *p;
    size_t len;
    size_t cap;
    size_t max;
};

#define BUF_INIT(maxbytes) {NULL, 0, 0, (maxbytes)}

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Empties the buffer, keeping its memory. */
static inline void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}
/* Makes room for `extra` more bytes. */
kb_err buf_reserve(struct buf *b, size_t extra);
kb_err buf_append(struct buf *b, const void *data, size_t n);
kb_err buf_puts(struct buf *b, const char *s);
/* Appends s[0..n) percent-encoded for a URL path segment or query value
 * (RFC 3986's unreserved characters kept). */
kb_err buf_url_escape(struct buf *b, const char *s, size_t n);
kb_err buf_putc(struct buf *b, char c);
kb_err buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
kb_err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hands the contents to the caller (free() them) and empties the buffer.
 * Returns an empty string, never NULL, when nothing was appended. */
char *buf_take(struct buf *b, size_t *len);

#endif
