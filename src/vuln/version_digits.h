/*
 * version_digits.h — small character and number helpers shared by the
 * version_<name>.c orderings (header only, nothing allocates).
 *
 * Numeric parts are compared as numbers of any length, never converted to
 * a machine integer: a 30-digit component orders exactly instead of
 * saturating or overflowing.
 */
#ifndef KOBAN_VERSION_DIGITS_H
#define KOBAN_VERSION_DIGITS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static inline bool version_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool version_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool version_is_alnum(char c)
{
    return version_is_digit(c) || version_is_alpha(c);
}

/* A SemVer-style identifier character: ASCII letter, digit or '-'. */
static inline bool version_is_ident(char c)
{
    return version_is_alnum(c) || c == '-';
}

/* Dot-separated non-empty identifiers (version_is_ident) from s[*i] up to
 * the byte `stop` or the end; advances *i. False on an empty identifier or
 * another byte (the prerelease and build parts of NuGet and Pub). */
static inline bool version_dot_idents(const char *s, size_t n, size_t *i, char stop)
{
    for (;;) {
        size_t st = *i;
        while (*i < n && version_is_ident(s[*i]))
            (*i)++;
        if (*i == st)
            return false;
        if (*i < n && s[*i] == '.') {
            (*i)++;
            continue;
        }
        return *i == n || s[*i] == stop;
    }
}

/* ASCII lowercase; other bytes unchanged (no locale). */
static inline char version_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Compares a[0..an) and b[0..bn), each only '0'..'9' (empty reads as 0),
 * as non-negative integers of any length: < 0, 0 or > 0. */
static inline int version_digits_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    while (an && *a == '0')
        a++, an--;
    while (bn && *b == '0')
        b++, bn--;
    if (an != bn)
        return an < bn ? -1 : 1;
    int c = an ? memcmp(a, b, an) : 0;
    return (c > 0) - (c < 0);
}

/* Byte-wise comparison of two strings, a proper prefix first: < 0, 0, > 0. */
static inline int version_bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return an == bn ? 0 : an < bn ? -1 : 1;
}

#endif
