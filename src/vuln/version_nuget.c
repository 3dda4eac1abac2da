/*
 * version_nuget.c — NuGet versions as NuGet.Versioning orders them
 * (NuGetVersion with VersionComparer.Default): SemVer 2.0 widened to four
 * numbers, with case-insensitive prerelease labels.
 *
 * Valid: 1 to 4 dot-separated numbers (missing ones are 0: 1.0 =
 * 1.0.0.0); optionally '-' and dot-separated labels of letters, digits
 * and '-'; optionally '+' and metadata labels of the same alphabet. Leading
 * zeros are allowed (1.0.01 = 1.0.1). NuGet keeps each number in an Int32;
 * koban compares numbers of any length exactly instead of refusing the
 * longer ones.
 *
 * Order: the four numbers; then a release is above any prerelease of the
 * same numbers; then prerelease labels pairwise, where a label is numeric
 * when .NET's Int32.TryParse accepts it (digits with an optional leading
 * '-', within Int32): two numeric labels by value, a numeric label below
 * any other, two others by ordinal comparison ignoring case
 * (1.0.0-BETA = 1.0.0-beta); when every shared label is equal, fewer
 * labels come first (beta < beta.1). Metadata is ignored
 * (1.0.0+a = 1.0.0+b = 1.0.0).
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

#include <stdint.h>

struct nuget_ver {
    struct {
        const char *p;
        size_t n;
    } num[4];
    const char *pre; /* NULL: a release */
    size_t pren;
};

static bool nuget_parse(const char *s, size_t n, struct nuget_ver *v)
{
    memset(v, 0, sizeof *v);
    size_t i = 0, k = 0;
    for (;;) {
        size_t st = i;
        while (i < n && version_is_digit(s[i]))
            i++;
        if (i == st || k == 4)
            return false;
        v->num[k].p = s + st;
        v->num[k].n = i - st;
        k++;
        if (i < n && s[i] == '.') {
            i++;
            continue;
        }
        break;
    }
    if (i < n && s[i] == '-') {
        i++;
        size_t st = i;
        if (!version_dot_idents(s, n, &i, '+'))
            return false;
        v->pre = s + st;
        v->pren = i - st;
    }
    if (i < n && s[i] == '+') {
        i++;
        if (!version_dot_idents(s, n, &i, '\0'))
            return false;
    }
    return i == n;
}

/* Int32.TryParse on a label: digits with an optional leading '-'. */
static bool nuget_int32(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = n > 0 && s[0] == '-';
    if (neg)
        i++;
    if (i == n)
        return false;
    int64_t v = 0;
    for (; i < n; i++) {
        if (!version_is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
        if (v > (int64_t)INT32_MAX + 1)
            return false;
    }
    if (!neg && v > INT32_MAX)
        return false;
    *out = neg ? -v : v;
    return true;
}

static char nuget_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static int nuget_label_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int64_t x = 0, y = 0;
    bool xn = nuget_int32(a, an, &x), yn = nuget_int32(b, bn, &y);
    if (xn && yn)
        return x < y ? -1 : x > y;
    if (xn || yn)
        return xn ? -1 : 1;
    size_t m = an < bn ? an : bn;
    for (size_t i = 0; i < m; i++) {
        char p = nuget_upper(a[i]), q = nuget_upper(b[i]);
        if (p != q)
            return (unsigned char)p < (unsigned char)q ? -1 : 1;
    }
    return an == bn ? 0 : an < bn ? -1 : 1;
}

/* The label at *i of s[0..n) (up to '.' or the end); advances past it. */
static bool nuget_next_label(const char *s, size_t n, size_t *i, const char **p, size_t *ln)
{
    if (*i > n)
        return false;
    size_t st = *i;
    while (*i < n && s[*i] != '.')
        (*i)++;
    *p = s + st;
    *ln = *i - st;
    (*i)++; /* past the '.', or past the end */
    return true;
}

static int nuget_pre_cmp(const struct nuget_ver *a, const struct nuget_ver *b)
{
    if (!a->pre || !b->pre)
        return !a->pre && !b->pre ? 0 : a->pre ? -1 : 1;
    size_t i = 0, j = 0;
    for (;;) {
        const char *p = NULL, *q = NULL;
        size_t pn = 0, qn = 0;
        bool ha = nuget_next_label(a->pre, a->pren, &i, &p, &pn);
        bool hb = nuget_next_label(b->pre, b->pren, &j, &q, &qn);
        if (!ha || !hb)
            return ha == hb ? 0 : ha ? 1 : -1;
        int c = nuget_label_cmp(p, pn, q, qn);
        if (c)
            return c;
    }
}

bool version_nuget_valid(const char *s, size_t n)
{
    struct nuget_ver v;
    return s && n <= VERSION_MAX_LEN && nuget_parse(s, n, &v);
}

kb_err version_nuget_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                             struct kb_why *why)
{
    if (an > VERSION_MAX_LEN || bn > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "nuget version longer than %d bytes", VERSION_MAX_LEN);
    struct nuget_ver x, y;
    if (!nuget_parse(a, an, &x))
        return kb_fail(why, KB_EINVAL, "nuget: '%.*s' is not a valid version", (int)an, a);
    if (!nuget_parse(b, bn, &y))
        return kb_fail(why, KB_EINVAL, "nuget: '%.*s' is not a valid version", (int)bn, b);
    for (size_t k = 0; k < 4; k++) {
        int c = version_digits_cmp(x.num[k].p, x.num[k].n, y.num[k].p, y.num[k].n);
        if (c) {
            *cmp = c;
            return KB_OK;
        }
    }
    *cmp = nuget_pre_cmp(&x, &y);
    return KB_OK;
}
