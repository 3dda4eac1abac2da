/*
 * version_semver.c — Semantic Versioning 2.0.0 precedence, as npm, Cargo
 * and Go order versions (Go with its leading 'v' and pseudo-versions).
 *
 * [v]MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]:
 *   - MAJOR, MINOR and PATCH compare as numbers of any length;
 *   - a version with a prerelease is older than the same version without;
 *     prereleases compare identifier by identifier ('.'-separated): numeric
 *     identifiers as numbers and before alphanumeric ones, alphanumeric ones
 *     bytewise in ASCII (r2 > r100 > R2), and a longer list is newer when
 *     the shorter is its prefix;
 *   - build metadata is ignored (1.2.3+a = 1.2.3+b).
 * Go pseudo-versions are prereleases and need nothing more: the three forms
 * (vX.0.0-yyyymmddhhmmss-hash, vX.Y.(Z+1)-0.yyyymmddhhmmss-hash,
 * vX.Y.Z-pre.0.yyyymmddhhmmss-hash) order after the version they were
 * derived from and before the next release, and among themselves by their
 * fixed-width timestamp, as Go's module rules describe.
 *
 * Looser input, as the vectors (from npm/semver-like tooling) expect:
 *   - leading zeros are allowed and ignored (0.01.0 = 0.1.0);
 *   - fewer than three numbers are allowed; a number left out orders
 *     before any number written (0.1 < 0.1.0 < 0.1.1) — the vectors have
 *     0.01 < 0.1-0;
 *   - while fewer than three numbers have been read, '-' followed by a
 *     digit continues them rather than starting a prerelease, since a
 *     prerelease needs the three: 0.1-0 reads 0.1.0 (the vectors have
 *     0.01.0 = 0.1-0 and 0.01 < 0.1-0);
 *   - after three numbers, a '.' starts text that is treated as build
 *     metadata and ignored: 1.1.3.4.5 = 1.1.3.
 * Anything else (no leading number, empty identifiers, characters outside
 * [0-9A-Za-z-] in a prerelease) is not a version: KB_EINVAL.
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

struct sv_num {
    const char *p; /* digits without leading zeros */
    size_t n;
};

struct sv_ver {
    struct sv_num core[3];
    size_t ncore;
    const char *pre; /* without '-', NULL when absent */
    size_t pren;
};

static struct sv_num sv_strip(const char *p, size_t n)
{
    while (n && *p == '0') {
        p++;
        n--;
    }
    return (struct sv_num){p, n};
}

static kb_err sv_parse(const char *s, size_t n, struct sv_ver *v, struct kb_why *why)
{
    if (n > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "semver version longer than %d bytes", VERSION_MAX_LEN);
    memset(v, 0, sizeof *v);
    size_t i = n && s[0] == 'v' ? 1 : 0;
    for (;;) {
        size_t st = i;
        while (i < n && version_is_digit(s[i]))
            i++;
        if (i == st)
            return kb_fail(why, KB_EINVAL, "semver version '%.*s': a number is missing", (int)n, s);
        v->core[v->ncore++] = sv_strip(s + st, i - st);
        if (v->ncore == 3 || i + 1 >= n || !version_is_digit(s[i + 1]) || (s[i] != '.' && s[i] != '-'))
            break;
        i++;
    }
    if (i < n && s[i] == '.' && v->ncore == 3) {
        i++; /* more numbers: build metadata */
    } else if (i < n && s[i] == '-') {
        v->pre = s + ++i;
        while (i < n && s[i] != '+') {
            size_t st = i;
            while (i < n && version_is_ident(s[i]))
                i++;
            if (i == st)
                return kb_fail(why, KB_EINVAL, "semver version '%.*s': bad prerelease identifier",
                               (int)n, s);
            if (i < n && s[i] == '.' && i + 1 < n)
                i++;
            else if (i < n && s[i] != '+')
                return kb_fail(why, KB_EINVAL, "semver version '%.*s': bad character in prerelease",
                               (int)n, s);
        }
        v->pren = (size_t)(s + i - v->pre);
        if (v->pren == 0)
            return kb_fail(why, KB_EINVAL, "semver version '%.*s': empty prerelease", (int)n, s);
        if (i == n)
            return KB_OK;
        i++; /* the '+' */
    } else if (i < n && s[i] == '+') {
        i++;
    } else if (i < n) {
        return kb_fail(why, KB_EINVAL, "semver version '%.*s': unexpected '%c'", (int)n, s, s[i]);
    } else {
        return KB_OK;
    }
    /* build metadata (or numbers past the third): identifiers, ignored */
    if (i == n)
        return kb_fail(why, KB_EINVAL, "semver version '%.*s': empty build metadata", (int)n, s);
    for (; i < n; i++)
        if (!version_is_ident(s[i]) && s[i] != '.' && s[i] != '+')
            return kb_fail(why, KB_EINVAL, "semver version '%.*s': bad character in build", (int)n,
                           s);
    return KB_OK;
}

static int sv_sign(int r)
{
    return r < 0 ? -1 : r > 0;
}

static int sv_numcmp(struct sv_num a, struct sv_num b)
{
    return a.n != b.n ? (a.n < b.n ? -1 : 1) : sv_sign(memcmp(a.p, b.p, a.n));
}

static bool sv_all_digits(const char *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!version_is_digit(p[k]))
            return false;
    return true;
}

/* The next identifier of a prerelease, from *i; false at the end. */
static bool sv_next_ident(const char *s, size_t n, size_t *i, const char **p, size_t *len)
{
    if (*i >= n)
        return false;
    size_t st = *i;
    while (*i < n && s[*i] != '.')
        (*i)++;
    *p = s + st;
    *len = *i - st;
    if (*i < n)
        (*i)++;
    return true;
}

static int sv_precmp(const struct sv_ver *a, const struct sv_ver *b)
{
    if (!a->pre || !b->pre)
        return a->pre ? -1 : b->pre ? 1 : 0;
    size_t i = 0, j = 0;
    const char *x = NULL, *y = NULL;
    size_t xn = 0, yn = 0;
    for (;;) {
        bool hx = sv_next_ident(a->pre, a->pren, &i, &x, &xn);
        bool hy = sv_next_ident(b->pre, b->pren, &j, &y, &yn);
        if (!hx || !hy)
            return hx ? 1 : hy ? -1 : 0;
        bool nx = sv_all_digits(x, xn), ny = sv_all_digits(y, yn);
        int r;
        if (nx != ny)
            r = nx ? -1 : 1;
        else if (nx)
            r = sv_numcmp(sv_strip(x, xn), sv_strip(y, yn));
        else {
            r = memcmp(x, y, xn < yn ? xn : yn);
            r = r ? sv_sign(r) : xn < yn ? -1 : xn > yn;
        }
        if (r)
            return r;
    }
}

kb_err version_semver_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                              struct kb_why *why)
{
    struct sv_ver x, y;
    kb_err e = sv_parse(a, an, &x, why);
    if (!e)
        e = sv_parse(b, bn, &y, why);
    if (e)
        return e;
    int r = 0;
    for (size_t k = 0; k < x.ncore && k < y.ncore && !r; k++)
        r = sv_numcmp(x.core[k], y.core[k]);
    if (!r && x.ncore != y.ncore)
        r = x.ncore < y.ncore ? -1 : 1;
    if (!r)
        r = sv_precmp(&x, &y);
    *cmp = r;
    return KB_OK;
}

bool version_semver_valid(const char *s, size_t n)
{
    struct sv_ver v;
    return sv_parse(s, n, &v, NULL) == KB_OK;
}
