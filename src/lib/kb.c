/* kb.c — error names, error detail, aborting allocators, clocks. */
#include "lib/kb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *const kb_err_names[KB_ERR_COUNT] = {
    [KB_OK] = "ok",
    [KB_EINVAL] = "invalid input",
    [KB_EPARSE] = "parse error",
    [KB_ETOOBIG] = "too big",
    [KB_ENOTFOUND] = "not found",
    [KB_EEXIST] = "already exists",
    [KB_EIO] = "i/o error",
    [KB_ECORRUPT] = "corrupt data",
    [KB_EUNSUPPORTED] = "unsupported",
    [KB_EAUTH] = "unauthorized",
    [KB_EBUSY] = "busy",
    [KB_ETIMEOUT] = "timed out",
    [KB_ECLOSED] = "closed",
    [KB_EDB] = "database error",
};

const char *kb_strerror(kb_err e)
{
    if ((unsigned)e >= KB_ERR_COUNT || !kb_err_names[e])
        return "unknown error";
    return kb_err_names[e];
}

kb_err kb_fail(struct kb_why *why, kb_err err, const char *fmt, ...)
{
    if (why) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why->msg, sizeof why->msg, fmt, ap);
        va_end(ap);
    }
    return err;
}

static void kb_oom(size_t n)
{
    fprintf(stderr, "koban: out of memory allocating %zu bytes\n", n);
    abort();
}

void *kb_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        kb_oom(n);
    return p;
}

void *kb_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        kb_oom(count * size);
    return p;
}

void *kb_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        kb_oom(n);
    return q;
}

char *kb_strndup(const char *s, size_t n)
{
    char *d = kb_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *kb_strdup(const char *s)
{
    return kb_strndup(s, strlen(s));
}

int64_t kb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kb_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
