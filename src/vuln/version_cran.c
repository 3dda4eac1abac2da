/*
 * version_cran.c — R package versions as R's package_version orders them.
 *
 * A version is two or more non-negative integers separated by single '.'
 * or '-' characters ("1.0-2" is 1.0.2; '.' and '-' mean the same). Versions
 * compare component by component as numbers (leading zeros ignored, any
 * length, where R would turn a number past 2^31 into NA).
 *
 * When one version is a prefix of the other, the shorter is older:
 * 0.1.0 < 0.1.0.0 and 0.3.2 < 0.3.2.0. That is what the vectors say, with
 * CRAN archives as their source (DHARMa released 0.1.0 before 0.1.0.0), and
 * what koban follows; R's own comparison operators (R 4.2.2) call such
 * versions equal (package_version("1.0") == "1.0.0" is TRUE there).
 *
 * R refuses anything else (package_version("1") and package_version("1.a")
 * fail), and so does compare: KB_EINVAL.
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

/* Checks s and counts its components. */
static kb_err cran_check(const char *s, size_t n, struct kb_why *why)
{
    if (n > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "cran version longer than %d bytes", VERSION_MAX_LEN);
    size_t parts = 0, i = 0;
    while (i < n) {
        size_t st = i;
        while (i < n && version_is_digit(s[i]))
            i++;
        if (i == st)
            return kb_fail(why, KB_EINVAL, "cran version '%.*s': a number is missing", (int)n, s);
        parts++;
        if (i < n && s[i] != '.' && s[i] != '-')
            return kb_fail(why, KB_EINVAL, "cran version '%.*s': unexpected '%c'", (int)n, s, s[i]);
        if (i < n && ++i == n)
            return kb_fail(why, KB_EINVAL, "cran version '%.*s': ends with a separator", (int)n, s);
    }
    if (parts < 2)
        return kb_fail(why, KB_EINVAL, "cran version '%.*s': needs two or more numbers", (int)n, s);
    return KB_OK;
}

/* The next component from *i: its digits without leading zeros. */
static bool cran_next(const char *s, size_t n, size_t *i, const char **p, size_t *len)
{
    if (*i >= n)
        return false;
    while (*i < n && s[*i] == '0' && *i + 1 < n && version_is_digit(s[*i + 1]))
        (*i)++;
    size_t st = *i;
    while (*i < n && version_is_digit(s[*i]))
        (*i)++;
    *p = s + st;
    *len = *i - st;
    if (*i < n)
        (*i)++; /* the separator */
    return true;
}

kb_err version_cran_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                            struct kb_why *why)
{
    kb_err e = cran_check(a, an, why);
    if (!e)
        e = cran_check(b, bn, why);
    if (e)
        return e;
    size_t i = 0, j = 0;
    const char *x = NULL, *y = NULL;
    size_t xn = 0, yn = 0;
    /* each pass consumes a component of both */
    for (;;) {
        bool hx = cran_next(a, an, &i, &x, &xn), hy = cran_next(b, bn, &j, &y, &yn);
        if (!hx || !hy) {
            *cmp = hx ? 1 : hy ? -1 : 0;
            return KB_OK;
        }
        int r = xn != yn ? (xn < yn ? -1 : 1) : memcmp(x, y, xn);
        if (r) {
            *cmp = r < 0 ? -1 : 1;
            return KB_OK;
        }
    }
}

bool version_cran_valid(const char *s, size_t n)
{
    return cran_check(s, n, NULL) == KB_OK;
}
