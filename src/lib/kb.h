/*
 * kb.h — what every koban file shares: the one error enum, string slices,
 * allocation helpers and the error-detail buffer.
 *
 * Conventions (see docs/CODE_STYLE.md):
 *  - Functions return kb_err (KB_OK == 0) and give outputs through pointers.
 *  - A failed function may fill a struct kb_why with a human sentence that
 *    names where and why ("line 3: field 'eventTime': not a string").
 *  - Allocation failure is not an error path: kb_malloc and friends abort
 *    the process with a message (as redis does), so callers never check.
 */
#ifndef KOBAN_KB_H
#define KOBAN_KB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum kb_err {
    KB_OK = 0,
    KB_EINVAL,       /* bad argument or bad input (malformed data) */
    KB_EPARSE,       /* input could not be parsed */
    KB_ETOOBIG,      /* a bound was reached (size, depth, count) */
    KB_ENOTFOUND,    /* no such thing */
    KB_EEXIST,       /* already exists */
    KB_EIO,          /* operating system I/O error (errno is kept in kb_why) */
    KB_ECORRUPT,     /* stored data failed a check */
    KB_EUNSUPPORTED, /* a valid request koban does not handle */
    KB_EAUTH,        /* authentication failed */
    KB_EBUSY,        /* resource held by someone else (e.g. a lock) */
    KB_ETIMEOUT,     /* a deadline passed */
    KB_ECLOSED,      /* the object is shutting down or closed */
    KB_EDB,          /* the SQLite layer failed */
    KB_ERR_COUNT
} kb_err;

/* Returns a static, lowercase name for an error ("too big"). Never NULL. */
const char *kb_strerror(kb_err e);

/* A fixed-size message describing why a call failed. Zero-initialise it. */
struct kb_why {
    char msg[256];
};

/* Formats into why->msg (truncating) and returns err, so callers can write
 * `return kb_fail(why, KB_EINVAL, "field %s: not a string", name);`.
 * why may be NULL. */
kb_err kb_fail(struct kb_why *why, kb_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A borrowed byte range. p is not NUL-terminated unless stated. */
struct kb_str {
    const char *p;
    size_t n;
};
#define KB_STR_NULL ((struct kb_str){NULL, 0})
#define KB_STR_LIT(s) ((struct kb_str){(s), sizeof(s) - 1})
static inline struct kb_str kb_str_c(const char *s)
{
    return (struct kb_str){s, s ? strlen(s) : 0};
}
static inline bool kb_str_eq(struct kb_str a, const char *lit)
{
    size_t n = strlen(lit);
    return a.p && a.n == n && memcmp(a.p, lit, n) == 0;
}
static inline bool kb_str_empty(struct kb_str a)
{
    return a.p == NULL || a.n == 0;
}

/* Allocation: abort with a message on failure; never return NULL. */
void *kb_malloc(size_t n);
void *kb_calloc(size_t count, size_t size);
void *kb_realloc(void *p, size_t n);
char *kb_strdup(const char *s);
char *kb_strndup(const char *s, size_t n);

#define KB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define KB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define KB_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Wall-clock time in milliseconds since the Unix epoch. */
int64_t kb_now_ms(void);
/* Monotonic time in nanoseconds, for durations. */
int64_t kb_mono_ns(void);

#endif
