/*
 * version_packagist.c — Packagist (Composer) versions: a leading 'v' or
 * 'V' is dropped, as Composer's version parser drops it, and the rest is
 * ordered by PHP's version_compare(), which Composer's comparisons end in.
 *
 * PHP orders any string, so compare never fails except past
 * VERSION_MAX_LEN. Composer's normalizer refuses some strings PHP still
 * orders (1.2.3.#, or a 30-digit number); koban orders them the PHP way.
 *
 * Canonical form (the three rules PHP's versioning.c states): each '-',
 * '_' or '+' becomes '.'; a '.' goes between a digit and a following
 * character that is neither a digit nor a '.'; and between such a
 * character and a following digit. 1.0rc1 -> 1.0.rc.1, 4.3-2RC1 ->
 * 4.3.2.RC.1. Other characters ('#' ...) stay.
 *
 * Parts (split at '.') compare pairwise:
 *   - two numbers by value (any length; PHP's strtol would saturate past
 *     LONG_MAX, koban compares the digits exactly);
 *   - two words by their special-form rank, found by prefix and
 *     case-sensitively: dev 0 < alpha = a 1 < beta = b 2 < RC = rc 3
 *     < # 4 < pl = p 5, any other word -1 (so "abc" ranks as "a", "pre"
 *     as "p", "stable" below "dev");
 *   - a number against a word: the number ranks as '#' (4), so
 *     1.2.3.# = 1.2.3.1 and a word ranked below 4 is below a number.
 * When one version runs out of parts, its next part decides: a number
 * makes the longer version greater (1.0.0 > 1.0); a word is ranked against
 * '#' (1.0 < 1.0pl1, 1.0-dev < 1.0), and on a tie the part after it
 * decides the same way (1.2.3.#.1 > 1.2.3, 1.2.3.#.beta < 1.2.3).
 *
 * An empty part (1..2, or a trailing '.') ranks as an unknown word. PHP's
 * loop stops at a trailing '.' and then orders the two versions
 * inconsistently (both "1." < "1.a" and "1.a" < "1."); koban keeps the
 * order antisymmetric there. An empty version is below every other.
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

/* Canonicalizing at most doubles the length. */
#define PKG_BUF (VERSION_MAX_LEN * 2 + 1)

enum { PKG_RANK_NUMBER = 4 };

struct pkg_part {
    const char *p;
    size_t n;
};

static size_t pkg_canonical(const char *s, size_t n, char *out)
{
    size_t i = 0, k = 0;
    if (n && (s[0] == 'v' || s[0] == 'V'))
        i++;
    char prev = '\0';
    for (; i < n; i++) {
        char c = s[i];
        if (c == '-' || c == '_' || c == '+')
            c = '.';
        bool cd = version_is_digit(c), pd = version_is_digit(prev);
        if (k && ((pd && !cd && c != '.') || (!pd && prev != '.' && cd)))
            out[k++] = '.';
        out[k++] = c;
        prev = c;
    }
    return k;
}

/* The part at *i of s[0..n); false when there is none left. A trailing
 * '.' leaves one empty part. */
static bool pkg_next(const char *s, size_t n, size_t *i, struct pkg_part *p)
{
    if (*i > n)
        return false;
    size_t st = *i;
    while (*i < n && s[*i] != '.')
        (*i)++;
    *p = (struct pkg_part){s + st, *i - st};
    (*i)++;
    return true;
}

static bool pkg_is_number(const struct pkg_part *p)
{
    return p->n > 0 && version_is_digit(p->p[0]);
}

static int pkg_rank(const struct pkg_part *p)
{
    static const struct {
        const char *form;
        int rank;
    } forms[] = {
        {"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2},
        {"RC", 3},  {"rc", 3},    {"#", 4}, {"pl", 5},   {"p", 5},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(forms); i++) {
        size_t fn = strlen(forms[i].form);
        if (p->n >= fn && memcmp(p->p, forms[i].form, fn) == 0)
            return forms[i].rank;
    }
    return -1;
}

static int pkg_sign(int x)
{
    return (x > 0) - (x < 0);
}

static int pkg_part_cmp(const struct pkg_part *a, const struct pkg_part *b)
{
    bool an = pkg_is_number(a), bn = pkg_is_number(b);
    if (an && bn)
        return version_digits_cmp(a->p, a->n, b->p, b->n);
    return pkg_sign((an ? PKG_RANK_NUMBER : pkg_rank(a)) - (bn ? PKG_RANK_NUMBER : pkg_rank(b)));
}

/* The rest of a longer version, from its next part p, against the end of
 * the shorter: > 0 when the longer one is greater. */
static int pkg_tail(const char *s, size_t n, size_t i, struct pkg_part p)
{
    if (pkg_is_number(&p))
        return 1;
    /* each round consumes one part of s */
    for (size_t guard = 0; guard <= n; guard++) {
        int c = pkg_sign(pkg_rank(&p) - PKG_RANK_NUMBER);
        if (c)
            return c;
        if (!pkg_next(s, n, &i, &p))
            return 0;
        if (pkg_is_number(&p))
            return 1;
    }
    return 0;
}

bool version_packagist_valid(const char *s, size_t n)
{
    return s && n <= VERSION_MAX_LEN;
}

kb_err version_packagist_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                                 struct kb_why *why)
{
    if (an > VERSION_MAX_LEN || bn > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "packagist version longer than %d bytes", VERSION_MAX_LEN);
    char x[PKG_BUF], y[PKG_BUF];
    size_t xn = pkg_canonical(a, an, x), yn = pkg_canonical(b, bn, y);
    if (!xn || !yn) {
        *cmp = xn ? 1 : yn ? -1 : 0;
        return KB_OK;
    }
    size_t i = 0, j = 0;
    /* each round consumes one part of x and one of y */
    for (size_t guard = 0; guard <= xn + yn; guard++) {
        struct pkg_part p = {NULL, 0}, q = {NULL, 0};
        bool hp = pkg_next(x, xn, &i, &p), hq = pkg_next(y, yn, &j, &q);
        if (!hp || !hq) {
            *cmp = hp ? pkg_tail(x, xn, i, p) : hq ? -pkg_tail(y, yn, j, q) : 0;
            return KB_OK;
        }
        int c = pkg_part_cmp(&p, &q);
        if (c) {
            *cmp = c;
            return KB_OK;
        }
    }
    *cmp = 0;
    return KB_OK;
}
