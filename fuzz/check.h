/*
 * check.h — what the fuzz checks (check_*.h) share: the one rule every
 * koban parser follows on any input — KB_OK, or a known error code with a
 * message — and a reader that walks a string in full so that ASan sees a
 * short or dangling one. Header only.
 */
#ifndef KOBAN_FUZZ_CHECK_H
#define KOBAN_FUZZ_CHECK_H

#include <stdbool.h>
#include <string.h>

#include "lib/kb.h"

/* What a smoke run counts (the fuzz targets pass NULL): inputs accepted
 * and refused, so a test can tell that its mutants still reach the
 * accepting paths. */
struct fz_stats {
    unsigned ok, refused;
};

/* Counts e into stats (which may be NULL). */
static inline void fz_count(void *stats, kb_err e)
{
    struct fz_stats *st = stats;
    if (st && e == KB_OK)
        st->ok++;
    else if (st)
        st->refused++;
}

/* Whether e with message msg is an acceptable answer. */
static inline bool fz_err_ok(kb_err e, const char *msg)
{
    return e == KB_OK || (e > KB_OK && e < KB_ERR_COUNT && msg && msg[0]);
}

/* Adds every byte of the NUL-terminated s (NULL allowed) to *sum. */
static inline void fz_touch(unsigned *sum, const char *s)
{
    for (size_t i = 0; s && s[i] && i < (64u << 20); i++)
        *sum += (unsigned char)s[i];
}

/* Adds s[0..n) to *sum. */
static inline void fz_touchn(unsigned *sum, const char *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        *sum += (unsigned char)s[i];
}

#endif
