/* buf.c — bounded growable buffer. */
#include "lib/buf.h"

#include <stdio.h>
#include <stdlib.h>

void buf_init(struct buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void buf_release(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

kb_err buf_reserve(struct buf *b, size_t extra)
{
    /* len + extra + 1 (the terminator) must not wrap, even when max is
     * SIZE_MAX. */
    if (extra > b->max || b->len > b->max - extra || b->len + extra == SIZE_MAX)
        return KB_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return KB_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->max < SIZE_MAX && cap > b->max + 1)
        cap = b->max + 1;
    b->p = kb_realloc(b->p, cap);
    b->cap = cap;
    return KB_OK;
}

kb_err buf_append(struct buf *b, const void *data, size_t n)
{
    kb_err e = buf_reserve(b, n);
    if (e)
        return e;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return KB_OK;
}

kb_err buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

kb_err buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

kb_err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return KB_EINVAL;
    if ((size_t)n < sizeof tmp)
        return buf_append(b, tmp, (size_t)n);
    kb_err e = buf_reserve(b, (size_t)n);
    if (e)
        return e;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return KB_OK;
}

kb_err buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kb_err e = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return e;
}

char *buf_take(struct buf *b, size_t *len)
{
    char *p = b->p;
    if (len)
        *len = b->len;
    if (!p)
        p = kb_strdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

kb_err buf_url_escape(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    kb_err e = KB_OK;
    for (size_t i = 0; i < n && !e; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            e = buf_putc(b, (char)c);
        } else {
            char t[3] = {'%', hex[c >> 4], hex[c & 15]};
            e = buf_append(b, t, 3);
        }
    }
    return e;
}
