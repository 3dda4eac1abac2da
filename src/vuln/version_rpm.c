/*
 * version_rpm.c — RPM package versions ([epoch:]version[-release]) as rpm
 * >= 4.15 orders them (rpmvercmp, with '~' and '^').
 *
 * Each of epoch, version and release is compared with rpmvercmp:
 *   - the string is cut into segments: runs of ASCII digits and runs of
 *     ASCII letters; every other byte (punctuation, UTF-8) only separates
 *     segments, so 1.1.α = 1.1 and 1_0 = 1.0;
 *   - '~' sorts before everything, even the end: 1.0~rc1 < 1.0;
 *   - '^' sorts after the end but before any further segment: 1.0 < 1.0^git1
 *     < 1.0.1, and 1.0^git1~pre < 1.0^git1;
 *   - digit segments compare as numbers of any length (01 = 1), letter
 *     segments bytewise; a digit segment is newer than a letter segment;
 *   - when every segment matched, the string with segments left over is
 *     newer (1.0a > 1.0), trailing separators do not count (1. = 1).
 *
 * Epoch: a run of digits at the start followed by ':' ("0" when there is
 * none, or when the run is empty as in ":1.0"). Any other ':' is part of
 * the version, as rpm reads it: the vectors' "versions with colons that are
 * not epochs" (1.m+e2:1 < 4.m+e1:1, a:1 < a1:1) compare as plain versions.
 * Release: the text after the last '-' of what follows the epoch. A version
 * without a release sorts before the same version with any release, even an
 * empty one (1 < 1- = 1-, 1 < 1-0), as rpm and the vectors say.
 *
 * rpm orders any string, so compare never refuses one; koban only refuses
 * the empty string and strings with spaces or control characters, which are
 * never package versions (a sign of broken input).
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

/* The byte at i, or '\0' past the end (rpm works on C strings). */
static char rpm_at(const char *s, size_t n, size_t i)
{
    return i < n ? s[i] : '\0';
}

static int rpm_vercmp(const char *a, size_t an, const char *b, size_t bn)
{
    if (an == bn && memcmp(a, b, an) == 0)
        return 0;
    size_t i = 0, j = 0;
    /* every pass consumes at least one byte of a or b */
    while (i < an || j < bn) {
        while (i < an && !version_is_alnum(a[i]) && a[i] != '~' && a[i] != '^')
            i++;
        while (j < bn && !version_is_alnum(b[j]) && b[j] != '~' && b[j] != '^')
            j++;
        char ca = rpm_at(a, an, i), cb = rpm_at(b, bn, j);
        if (ca == '~' || cb == '~') {
            if (ca != '~')
                return 1;
            if (cb != '~')
                return -1;
            i++;
            j++;
            continue;
        }
        /* '^' is newer than the end, older than anything else */
        if (ca == '^' || cb == '^') {
            if (i >= an)
                return -1;
            if (j >= bn)
                return 1;
            if (ca != '^')
                return 1;
            if (cb != '^')
                return -1;
            i++;
            j++;
            continue;
        }
        if (i >= an || j >= bn)
            break;
        bool isnum = version_is_digit(a[i]);
        bool (*same)(char) = isnum ? version_is_digit : version_is_alpha;
        size_t si = i, sj = j;
        while (i < an && same(a[i]))
            i++;
        while (j < bn && same(b[j]))
            j++;
        /* b's segment is of the other kind: a number beats letters */
        if (j == sj)
            return isnum ? 1 : -1;
        int r;
        if (isnum) {
            r = version_digits_cmp(a + si, i - si, b + sj, j - sj);
        } else {
            size_t la = i - si, lb = j - sj;
            r = memcmp(a + si, b + sj, la < lb ? la : lb);
            r = r ? (r < 0 ? -1 : 1) : la < lb ? -1 : la > lb;
        }
        if (r)
            return r;
    }
    if (i >= an && j >= bn)
        return 0;
    return i >= an ? -1 : 1;
}

struct rpm_evr {
    const char *e, *v, *r;
    size_t en, vn, rn;
    bool has_r;
};

static kb_err rpm_parse(const char *s, size_t n, struct rpm_evr *p, struct kb_why *why)
{
    if (n > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "rpm version longer than %d bytes", VERSION_MAX_LEN);
    if (n == 0)
        return kb_fail(why, KB_EINVAL, "rpm version is empty");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return kb_fail(why, KB_EINVAL, "rpm version '%.*s': space or control character", (int)n,
                           s);
    *p = (struct rpm_evr){"0", s, NULL, 1, n, 0, false};
    size_t d = 0;
    while (d < n && version_is_digit(s[d]))
        d++;
    if (d < n && s[d] == ':') {
        if (d) {
            p->e = s;
            p->en = d;
        }
        p->v = s + d + 1;
        p->vn = n - d - 1;
    }
    const char *dash = memrchr(p->v, '-', p->vn);
    if (dash) {
        p->has_r = true;
        p->r = dash + 1;
        p->rn = p->vn - (size_t)(dash - p->v) - 1;
        p->vn = (size_t)(dash - p->v);
    }
    return KB_OK;
}

kb_err version_rpm_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                           struct kb_why *why)
{
    struct rpm_evr x, y;
    kb_err e = rpm_parse(a, an, &x, why);
    if (!e)
        e = rpm_parse(b, bn, &y, why);
    if (e)
        return e;
    int r = rpm_vercmp(x.e, x.en, y.e, y.en);
    if (!r)
        r = rpm_vercmp(x.v, x.vn, y.v, y.vn);
    if (!r && (x.has_r || y.has_r))
        r = !x.has_r ? -1 : !y.has_r ? 1 : rpm_vercmp(x.r, x.rn, y.r, y.rn);
    *cmp = r;
    return KB_OK;
}

bool version_rpm_valid(const char *s, size_t n)
{
    struct rpm_evr p;
    return rpm_parse(s, n, &p, NULL) == KB_OK;
}
