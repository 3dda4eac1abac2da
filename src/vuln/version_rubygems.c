/*
 * version_rubygems.c — RubyGems versions as Gem::Version orders them.
 *
 * Valid versions (Gem::Version's pattern): optional blanks; a number, then
 * dot-separated runs of letters and digits; optionally '-' and
 * dot-separated runs of letters, digits and '-'; optional blanks. A blank
 * string is version "0". One widening: the first run may carry letters
 * straight after its digits ("1beta"). RubyGems' pattern refuses that
 * spelling, but the reference vectors order it ("1 > 1beta"), and the
 * segment scanner below gives it the obvious meaning (1, "beta"), so koban
 * accepts and orders it instead of failing.
 *
 * Ordering, step by step as Gem::Version#<=> does it:
 *   1. blanks are trimmed and every '-' reads as ".pre." (so 1.0-1 is
 *      1.0.pre.1, a prerelease);
 *   2. the canonical form drops a trailing run of '0' and '.' that follows
 *      a letter or a dot (1.0.0 -> 1., 1.a0 -> 1.a), and, when the version
 *      has a letter (a prerelease), the first run of '0' and '.' that
 *      starts the version or follows a dot and is followed by a letter
 *      (1.0.a -> 1.a, 0.0.beta -> beta);
 *   3. segments are the maximal runs of digits (numbers) and of letters
 *      (strings) in that form; other characters only separate;
 *   4. segments compare pairwise, a missing one reading as 0: a string is
 *      lower than a number (1.0.a < 1.0), numbers by value (any length),
 *      strings by bytes ("B" < "a": Ruby's String#<=>).
 * Step 2's second rule acts once, on the first such run wherever it is:
 * "1.a.0.b" loses its "0." and equals "1.a.b", as Gem::Version's
 * canonical_segments has it.
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

/* Each '-' becomes five bytes (".pre."). */
#define GEM_BUF (VERSION_MAX_LEN * 5 + 1)

struct gem_seg {
    const char *p;
    size_t n;
    bool num;
};

/* Ruby's \s */
static bool gem_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* A run of [0-9A-Za-z] (or also '-' when dash) of at least one byte. */
static bool gem_run(const char *s, size_t n, size_t *i, bool dash)
{
    size_t st = *i;
    while (*i < n && (version_is_alnum(s[*i]) || (dash && s[*i] == '-')))
        (*i)++;
    return *i > st;
}

/* Trims blanks; whether the rest is a valid version (empty is). */
static bool gem_parse(const char *s, size_t n, size_t *b, size_t *e)
{
    size_t lo = 0, hi = n;
    while (lo < hi && gem_blank(s[lo]))
        lo++;
    while (hi > lo && gem_blank(s[hi - 1]))
        hi--;
    *b = lo;
    *e = hi;
    if (lo == hi)
        return true;
    if (!version_is_digit(s[lo]))
        return false;
    size_t i = lo;
    gem_run(s, hi, &i, false); /* the first run: digits, then maybe letters */
    while (i < hi && s[i] == '.') {
        i++;
        if (!gem_run(s, hi, &i, false))
            return false;
    }
    if (i < hi && s[i] == '-') {
        i++;
        if (!gem_run(s, hi, &i, true))
            return false;
        while (i < hi && s[i] == '.') {
            i++;
            if (!gem_run(s, hi, &i, true))
                return false;
        }
    }
    return i == hi;
}

/* Writes the trimmed version with '-' as ".pre." into buf; returns its
 * length ("0" for a blank version). */
static size_t gem_expand(const char *s, size_t b, size_t e, char *buf)
{
    size_t n = 0;
    if (b == e) {
        buf[0] = '0';
        return 1;
    }
    for (size_t i = b; i < e; i++) {
        if (s[i] == '-') {
            memcpy(buf + n, ".pre.", 5);
            n += 5;
        } else {
            buf[n++] = s[i];
        }
    }
    return n;
}

/* Step 2 in place; returns the new length. */
static size_t gem_canonical(char *s, size_t n)
{
    bool pre = false;
    for (size_t i = 0; i < n; i++)
        pre |= version_is_alpha(s[i]);
    /* the trailing run of '0' and '.', cut where it first follows a letter
     * or a dot */
    size_t j = n;
    while (j > 0 && (s[j - 1] == '0' || s[j - 1] == '.'))
        j--;
    for (size_t i = j; i < n; i++)
        if (i > 0 && (version_is_alpha(s[i - 1]) || s[i - 1] == '.')) {
            n = i;
            break;
        }
    if (!pre)
        return n;
    /* the first run of '0' and '.', at the start or after a dot, that a
     * letter follows */
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && s[i - 1] != '.')
            continue;
        size_t k = i;
        while (k < n && (s[k] == '0' || s[k] == '.'))
            k++;
        if (k > i && k < n && version_is_alpha(s[k])) {
            memmove(s + i, s + k, n - k);
            return n - (k - i);
        }
    }
    return n;
}

/* The next segment of s from *pos; false at the end. */
static bool gem_next(const char *s, size_t n, size_t *pos, struct gem_seg *g)
{
    size_t i = *pos;
    while (i < n && !version_is_alnum(s[i]))
        i++;
    if (i >= n) {
        *pos = n;
        return false;
    }
    size_t st = i;
    bool num = version_is_digit(s[i]);
    while (i < n && (num ? version_is_digit(s[i]) : version_is_alpha(s[i])))
        i++;
    *g = (struct gem_seg){s + st, i - st, num};
    *pos = i;
    return true;
}

static int gem_seg_cmp(const struct gem_seg *a, const struct gem_seg *b)
{
    if (a->num != b->num)
        return a->num ? 1 : -1; /* a string is lower than a number */
    if (a->num)
        return version_digits_cmp(a->p, a->n, b->p, b->n);
    return version_bytes_cmp(a->p, a->n, b->p, b->n);
}

bool version_rubygems_valid(const char *s, size_t n)
{
    size_t b, e;
    return s && n <= VERSION_MAX_LEN && gem_parse(s, n, &b, &e);
}

kb_err version_rubygems_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                                struct kb_why *why)
{
    if (an > VERSION_MAX_LEN || bn > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "rubygems version longer than %d bytes", VERSION_MAX_LEN);
    size_t ab, ae, bb, be;
    if (!gem_parse(a, an, &ab, &ae))
        return kb_fail(why, KB_EINVAL, "rubygems: '%.*s' is not a valid version", (int)an, a);
    if (!gem_parse(b, bn, &bb, &be))
        return kb_fail(why, KB_EINVAL, "rubygems: '%.*s' is not a valid version", (int)bn, b);

    char x[GEM_BUF], y[GEM_BUF];
    size_t xn = gem_canonical(x, gem_expand(a, ab, ae, x));
    size_t yn = gem_canonical(y, gem_expand(b, bb, be, y));

    static const struct gem_seg zero = {"", 0, true};
    size_t xp = 0, yp = 0;
    /* each round consumes at least one byte of x or y */
    for (size_t guard = 0; guard <= xn + yn; guard++) {
        struct gem_seg sx = zero, sy = zero;
        bool hx = gem_next(x, xn, &xp, &sx), hy = gem_next(y, yn, &yp, &sy);
        if (!hx && !hy)
            break;
        int c = gem_seg_cmp(hx ? &sx : &zero, hy ? &sy : &zero);
        if (c) {
            *cmp = c;
            return KB_OK;
        }
    }
    *cmp = 0;
    return KB_OK;
}
