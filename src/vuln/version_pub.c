/*
 * version_pub.c — Dart Pub versions as package:pub_semver orders them:
 * SemVer 2.0, except that build metadata is ordered too.
 *
 * Valid: an optional 'v'; one to three dot-separated numbers (missing ones
 * are 0: 1 = 1.0.0); optionally '-' and dot-separated prerelease
 * identifiers; optionally '+' and dot-separated build identifiers
 * (identifiers: one or more letters, digits and '-'). After three numbers
 * a '.' also starts the build: 1.1.3.4.5 is 1.1.3 with build "4.5".
 * pub_semver itself wants exactly three numbers and no 'v'; the reference
 * vectors use the wider form, and its meaning is unambiguous. Numbers of
 * any length compare exactly.
 *
 * Order (Version.compareTo): major, minor, patch; a prerelease is below
 * the release; prerelease identifiers pairwise; then a version without a
 * build is below the same version with one (1.0.0 < 1.0.0+build, unlike
 * plain SemVer where builds are ignored), and builds compare pairwise like
 * prereleases (1.2.3+1 < 1.2.3+a, 1.2.3+a < 1.2.3+a1).
 *
 * Identifier lists compare pairwise; a list that runs out first is lower.
 * An identifier is a number when Dart's int.tryParse reads it: decimal
 * digits, or "0x" and hex digits, with an optional sign, within 64 bits
 * (so "-1" is the number -1, and a 20-digit identifier is text). Numbers
 * compare by value and come before text; text compares by bytes
 * (r100 < r2, R2 < r100).
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

#include <stdint.h>

struct pub_ver {
    struct {
        const char *p;
        size_t n;
    } num[3];
    const char *pre, *build; /* NULL when absent */
    size_t pren, buildn;
};

static bool pub_parse(const char *s, size_t n, struct pub_ver *v)
{
    memset(v, 0, sizeof *v);
    size_t i = n && s[0] == 'v' ? 1 : 0, k = 0;
    for (;;) {
        size_t st = i;
        while (i < n && version_is_digit(s[i]))
            i++;
        if (i == st)
            return false;
        v->num[k].p = s + st;
        v->num[k].n = i - st;
        k++;
        if (i < n && s[i] == '.' && k < 3) {
            i++;
            continue;
        }
        break;
    }
    bool dot_build = i < n && s[i] == '.'; /* only after three numbers */
    if (i < n && s[i] == '-') {
        size_t st = ++i;
        if (!version_dot_idents(s, n, &i, '+'))
            return false;
        v->pre = s + st;
        v->pren = i - st;
    }
    if (dot_build || (i < n && s[i] == '+')) {
        size_t st = ++i;
        if (!version_dot_idents(s, n, &i, '\0'))
            return false;
        v->build = s + st;
        v->buildn = i - st;
    }
    return i == n;
}

static int pub_hex(char c)
{
    if (version_is_digit(c))
        return c - '0';
    c = version_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Dart's int.tryParse on an identifier (radix 10, which also takes "0x"). */
static bool pub_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    uint64_t v = 0;
    if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        /* hex literals may use all 64 bits, read as a signed value */
        for (i += 2; i < n; i++) {
            int d = pub_hex(s[i]);
            if (d < 0 || v > (UINT64_MAX >> 4))
                return false;
            v = v << 4 | (uint64_t)d;
        }
        *out = (int64_t)(neg ? 0 - v : v);
        return true;
    }
    if (i == n)
        return false;
    for (; i < n; i++) {
        if (!version_is_digit(s[i]))
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
    }
    if (!neg && v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static int pub_ident_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int64_t x = 0, y = 0;
    bool xn = pub_int(a, an, &x), yn = pub_int(b, bn, &y);
    if (xn && yn)
        return x < y ? -1 : x > y;
    if (xn || yn)
        return xn ? -1 : 1;
    return version_bytes_cmp(a, an, b, bn);
}

static bool pub_next(const char *s, size_t n, size_t *i, const char **p, size_t *pn)
{
    if (*i > n)
        return false;
    size_t st = *i;
    while (*i < n && s[*i] != '.')
        (*i)++;
    *p = s + st;
    *pn = *i - st;
    (*i)++;
    return true;
}

/* Two identifier lists (both present). */
static int pub_list_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    for (;;) {
        const char *p = NULL, *q = NULL;
        size_t pn = 0, qn = 0;
        bool ha = pub_next(a, an, &i, &p, &pn), hb = pub_next(b, bn, &j, &q, &qn);
        if (!ha || !hb)
            return ha == hb ? 0 : ha ? 1 : -1;
        int c = pub_ident_cmp(p, pn, q, qn);
        if (c)
            return c;
    }
}

bool version_pub_valid(const char *s, size_t n)
{
    struct pub_ver v;
    return s && n <= VERSION_MAX_LEN && pub_parse(s, n, &v);
}

kb_err version_pub_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                           struct kb_why *why)
{
    if (an > VERSION_MAX_LEN || bn > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "pub version longer than %d bytes", VERSION_MAX_LEN);
    struct pub_ver x, y;
    if (!pub_parse(a, an, &x))
        return kb_fail(why, KB_EINVAL, "pub: '%.*s' is not a valid version", (int)an, a);
    if (!pub_parse(b, bn, &y))
        return kb_fail(why, KB_EINVAL, "pub: '%.*s' is not a valid version", (int)bn, b);
    int c = 0;
    for (size_t k = 0; k < 3 && !c; k++)
        c = version_digits_cmp(x.num[k].p, x.num[k].n, y.num[k].p, y.num[k].n);
    if (!c && (!x.pre || !y.pre))
        c = !x.pre && !y.pre ? 0 : x.pre ? -1 : 1; /* a prerelease is below the release */
    if (!c && x.pre)
        c = pub_list_cmp(x.pre, x.pren, y.pre, y.pren);
    if (!c && (!x.build || !y.build))
        c = !x.build && !y.build ? 0 : x.build ? 1 : -1; /* no build is below a build */
    if (!c && x.build)
        c = pub_list_cmp(x.build, x.buildn, y.build, y.buildn);
    *cmp = c;
    return KB_OK;
}
