/*
 * version_hackage.c — Hackage (Haskell) versions as Data.Version and
 * Cabal order them.
 *
 * Valid: one or more dot-separated numbers ("1", "0.11.3.0"); nothing
 * else (Hackage versions carry no tags). Numbers compare by value and may
 * have leading zeros, as Data.Version's parser reads them.
 *
 * Order: the lists of numbers lexicographically, as Haskell's Ord on
 * lists: the first differing number decides; when one list is a prefix
 * of the other, the shorter is lower, so missing components are not
 * zeros: 1.0 < 1.0.0 and 0 < 0.1.26.0.
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

static bool hackage_parse(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        size_t st = i;
        while (i < n && version_is_digit(s[i]))
            i++;
        if (i == st)
            return false;
        if (i == n)
            return true;
        if (s[i] != '.')
            return false;
        i++;
    }
}

/* The next number of a valid version from *i; false at the end. */
static bool hackage_next(const char *s, size_t n, size_t *i, const char **p, size_t *pn)
{
    if (*i >= n)
        return false;
    size_t st = *i;
    while (*i < n && s[*i] != '.')
        (*i)++;
    *p = s + st;
    *pn = *i - st;
    if (*i < n)
        (*i)++;
    return true;
}

bool version_hackage_valid(const char *s, size_t n)
{
    return s && n <= VERSION_MAX_LEN && hackage_parse(s, n);
}

kb_err version_hackage_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                               struct kb_why *why)
{
    if (an > VERSION_MAX_LEN || bn > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "hackage version longer than %d bytes", VERSION_MAX_LEN);
    if (!hackage_parse(a, an))
        return kb_fail(why, KB_EINVAL, "hackage: '%.*s' is not a valid version", (int)an, a);
    if (!hackage_parse(b, bn))
        return kb_fail(why, KB_EINVAL, "hackage: '%.*s' is not a valid version", (int)bn, b);
    size_t i = 0, j = 0;
    for (;;) {
        const char *p = NULL, *q = NULL;
        size_t pn = 0, qn = 0;
        bool ha = hackage_next(a, an, &i, &p, &pn), hb = hackage_next(b, bn, &j, &q, &qn);
        if (!ha || !hb) {
            *cmp = ha == hb ? 0 : ha ? 1 : -1;
            return KB_OK;
        }
        int c = version_digits_cmp(p, pn, q, qn);
        if (c) {
            *cmp = c;
            return KB_OK;
        }
    }
}
