/*
 * version_debian.c — Debian package versions as dpkg orders them
 * (Debian Policy 5.6.12, dpkg --compare-versions).
 *
 * A version is [epoch:]upstream[-revision]: the epoch runs to the first ':'
 * and is a decimal number (0 when absent), the revision follows the last '-'
 * ("" when absent, which orders as "0"). Epochs compare as numbers; upstream
 * and revision compare with dpkg's alternation of a lexical part (everything
 * up to the next digit) and a numeric part (a run of digits, as a number):
 *   - in the lexical part, '~' orders before everything, even the end of the
 *     string (1.0~rc1 < 1.0); then the end; then letters; then every other
 *     character, in byte order;
 *   - numeric parts compare as numbers of any length (0001 = 1).
 *
 * Invalid input, as dpkg decides it: dpkg refuses to compare a version
 * whose epoch is not a non-negative number that fits an int, with nothing
 * after the ':', with an empty upstream part or an empty revision after a
 * '-', or with spaces inside
 * (leading and trailing blanks are trimmed, as dpkg trims them). Those give
 * KB_EINVAL; so does a string of blanks only. dpkg only warns about an
 * upstream not starting with a digit or about characters outside its
 * alphabet, and orders such versions anyway; so does koban. The empty
 * string is dpkg --compare-versions' empty version: before every other
 * version, even 0:~~, and equal only to itself. Bytes >= 0x80 order between letters and ASCII
 * punctuation, as dpkg built with a signed char (amd64, the usual case) orders them.
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

#include <limits.h>

struct deb_ver {
    unsigned long epoch;
    const char *up, *rev;
    size_t upn, revn;
};

static bool deb_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The weight of one character of a lexical part; i == n is the end. */
static int deb_order(const char *s, size_t n, size_t i)
{
    if (i >= n)
        return 0;
    unsigned char c = (unsigned char)s[i];
    if (version_is_digit((char)c))
        return 0;
    if (version_is_alpha((char)c))
        return c;
    if (c == '~')
        return -1;
    /* ASCII punctuation lands above 256; bytes >= 0x80 keep their value
     * (128..255), above letters and below punctuation, like dpkg with a
     * signed char (c + 256 of a negative c). */
    return c >= 0x80 ? c : c + 256;
}

/* dpkg's verrevcmp on (a, an) and (b, bn). */
static int deb_verrevcmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    /* every pass consumes at least one character of a or b */
    while (i < an || j < bn) {
        while ((i < an && !version_is_digit(a[i])) || (j < bn && !version_is_digit(b[j]))) {
            int ac = deb_order(a, an, i), bc = deb_order(b, bn, j);
            if (ac != bc)
                return ac < bc ? -1 : 1;
            i++;
            j++;
        }
        while (i < an && a[i] == '0')
            i++;
        while (j < bn && b[j] == '0')
            j++;
        int first_diff = 0;
        while (i < an && j < bn && version_is_digit(a[i]) && version_is_digit(b[j])) {
            if (!first_diff && a[i] != b[j])
                first_diff = a[i] < b[j] ? -1 : 1;
            i++;
            j++;
        }
        if (i < an && version_is_digit(a[i]))
            return 1;
        if (j < bn && version_is_digit(b[j]))
            return -1;
        if (first_diff)
            return first_diff;
    }
    return 0;
}

static kb_err deb_parse(const char *s, size_t n, struct deb_ver *v, struct kb_why *why)
{
    if (n > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "debian version longer than %d bytes", VERSION_MAX_LEN);
    while (n && deb_blank(*s)) {
        s++;
        n--;
    }
    while (n && deb_blank(s[n - 1]))
        n--;
    if (n == 0)
        return kb_fail(why, KB_EINVAL, "debian version is blank");
    *v = (struct deb_ver){0, s, s, n, 0};
    for (size_t i = 0; i < n; i++) {
        if (deb_blank(s[i]))
            return kb_fail(why, KB_EINVAL, "debian version '%.*s': embedded space", (int)n, s);
        if (s[i] == '\0')
            return kb_fail(why, KB_EINVAL, "debian version: NUL byte");
    }
    const char *colon = memchr(s, ':', n);
    if (colon) {
        size_t en = (size_t)(colon - s);
        if (en == 0)
            return kb_fail(why, KB_EINVAL, "debian version '%.*s': epoch is empty", (int)n, s);
        unsigned long e = 0;
        for (size_t i = 0; i < en; i++) {
            if (!version_is_digit(s[i]))
                return kb_fail(why, KB_EINVAL, "debian version '%.*s': epoch is not a number",
                               (int)n, s);
            e = e * 10 + (unsigned long)(s[i] - '0');
            if (e > INT_MAX)
                return kb_fail(why, KB_EINVAL, "debian version '%.*s': epoch is too big", (int)n,
                               s);
        }
        if (en + 1 == n)
            return kb_fail(why, KB_EINVAL, "debian version '%.*s': nothing after the colon", (int)n,
                           s);
        v->epoch = e;
        v->up = colon + 1;
        v->upn = n - en - 1;
    }
    const char *dash = memrchr(v->up, '-', v->upn);
    if (dash) {
        v->rev = dash + 1;
        v->revn = v->upn - (size_t)(dash - v->up) - 1;
        v->upn = (size_t)(dash - v->up);
        if (v->revn == 0)
            return kb_fail(why, KB_EINVAL, "debian version '%.*s': empty revision", (int)n, s);
    }
    if (v->upn == 0)
        return kb_fail(why, KB_EINVAL, "debian version '%.*s': empty upstream version", (int)n, s);
    return KB_OK;
}

kb_err version_debian_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                              struct kb_why *why)
{
    struct deb_ver va, vb;
    if (an == 0 || bn == 0) {
        /* the empty version: checks the other, then orders first */
        kb_err e = an ? deb_parse(a, an, &va, why) : bn ? deb_parse(b, bn, &vb, why) : KB_OK;
        if (!e)
            *cmp = (an > 0) - (bn > 0);
        return e;
    }
    kb_err e = deb_parse(a, an, &va, why);
    if (!e)
        e = deb_parse(b, bn, &vb, why);
    if (e)
        return e;
    int r = va.epoch < vb.epoch ? -1 : va.epoch > vb.epoch ? 1 : 0;
    if (!r)
        r = deb_verrevcmp(va.up, va.upn, vb.up, vb.upn);
    if (!r)
        r = deb_verrevcmp(va.rev, va.revn, vb.rev, vb.revn);
    *cmp = r;
    return KB_OK;
}

bool version_debian_valid(const char *s, size_t n)
{
    struct deb_ver v;
    return n == 0 || deb_parse(s, n, &v, NULL) == KB_OK;
}
