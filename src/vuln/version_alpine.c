/*
 * version_alpine.c — Alpine package versions as apk orders them
 * (apk version -t), in its current form.
 *
 * A valid apk version is
 *     digits { '.' digits } [ letter ] { '_' suffix [ digits ] } [ '-r' digits ]
 * with a lowercase letter and a suffix among alpha, beta, pre, rc (before
 * the release they qualify: 1.2_rc1 < 1.2) and cvs, svn, git, hg, p (after
 * it: 1.2 < 1.2_p1), in that order. The part before the first '-' is read
 * as a sequence of tokens and two versions are compared token by token:
 *   - the first number compares as a number; a later '.' number compares
 *     as a number too, unless either has a leading zero: then as a string
 *     (1.2.07 < 1.2.12, 1.02 < 1.1);
 *   - the letter compares bytewise, a suffix by its rank then its number
 *     (a suffix without a number is older than one with: _alpha < _alpha0);
 *   - when the tokens at a place are of different kinds, a pre-release
 *     suffix is older than anything, and otherwise a number is newer than
 *     a letter, which is newer than a suffix, then a suffix number, then the
 *     end (1.2 < 1.2.1, 1.2_p1 < 1.2a, 6.6.2_p1 < 6.6.2p1).
 * Then the revision: "-r" and its number ("-r" alone is -r0), absent being
 * older than any revision.
 *
 * apk version -t also orders invalid versions, and so does koban; the
 * vectors pin how (they record the current apk; older apk 2.x gave the
 * opposite answer on several of these lines):
 *   - from the first character that breaks the grammar (an uppercase
 *     letter, a second letter, a digit right after the letter, a '.' not
 *     followed by a digit, an unknown suffix, a version not starting with a
 *     digit), the rest of that part is one invalid token, older than any
 *     valid token at the same place, even the end (1.2_blah < 1.2,
 *     1.2.0A < 1.2.0d, 0.8.21.r2 < 0.8.21r2, .1 < 1);
 *   - two invalid tokens at the same place compare as plain strings
 *     (.1 < .2, a < b, 0..8 > 0...8, 1.0bc-r1 < 1.0bc-r2 when equal);
 *   - a revision part that is not "-r" and digits (1-ruff, 1-r0-1, 1--r1,
 *     1-r-2) is invalid as a whole and older than no revision at all; two
 *     such revisions are equal whatever they say (1-ruff2 = 1--ruff1,
 *     1-r0-1 = 1-r-2), and 1-r-0 < 1-r0.
 * compare never refuses a string but the empty one and strings with spaces
 * or control characters (never a package version: broken input).
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

enum apk_tok_type {
    /* when two tokens at one place differ in kind, the lower kind is the
     * newer version (after the pre-release rule) */
    APK_DIGIT,
    APK_LETTER,
    APK_SUFFIX,
    APK_SUFFIX_NO,
    APK_END,
    APK_INVALID,
};

/* Suffix ranks: the four pre-release suffixes are negative. */
static const struct {
    const char *name;
    int rank;
} apk_suffixes[] = {
    {"alpha", -4}, {"beta", -3}, {"pre", -2}, {"rc", -1}, {"cvs", 1},
    {"svn", 2},    {"git", 3},   {"hg", 4},   {"p", 5},
};

struct apk_tok {
    enum apk_tok_type type;
    bool initial;  /* the first number */
    const char *p; /* the token's text (digits, letter, suffix or rest) */
    size_t n;
    int rank; /* APK_SUFFIX */
};

struct apk_lex {
    const char *s;
    size_t n, i;
    struct apk_tok tok;
};

static bool apk_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static size_t apk_run(const struct apk_lex *lx, size_t i, bool (*cls)(char))
{
    while (i < lx->n && cls(lx->s[i]))
        i++;
    return i;
}

static void apk_set(struct apk_lex *lx, enum apk_tok_type t, size_t from, size_t to)
{
    lx->tok = (struct apk_tok){t, false, lx->s + from, to - from, 0};
    lx->i = to;
}

/* Moves to the token after lx->tok. */
static void apk_next(struct apk_lex *lx)
{
    size_t i = lx->i;
    enum apk_tok_type prev = lx->tok.type;
    if (prev == APK_END || prev == APK_INVALID)
        return;
    if (i == lx->n) {
        apk_set(lx, APK_END, i, i);
        return;
    }
    char c = lx->s[i];
    if (prev == APK_DIGIT && c == '.' && i + 1 < lx->n && version_is_digit(lx->s[i + 1])) {
        apk_set(lx, APK_DIGIT, i + 1, apk_run(lx, i + 1, version_is_digit));
        return;
    }
    if (prev == APK_DIGIT && apk_lower(c)) {
        apk_set(lx, APK_LETTER, i, i + 1);
        return;
    }
    if (prev == APK_SUFFIX && version_is_digit(c)) {
        apk_set(lx, APK_SUFFIX_NO, i, apk_run(lx, i, version_is_digit));
        return;
    }
    if (c == '_') {
        size_t e = apk_run(lx, i + 1, apk_lower);
        for (size_t k = 0; k < KB_ARRAY_LEN(apk_suffixes); k++)
            if (strlen(apk_suffixes[k].name) == e - i - 1 &&
                memcmp(apk_suffixes[k].name, lx->s + i + 1, e - i - 1) == 0) {
                apk_set(lx, APK_SUFFIX, i + 1, e);
                lx->tok.rank = apk_suffixes[k].rank;
                return;
            }
    }
    apk_set(lx, APK_INVALID, i, lx->n);
}

static void apk_first(struct apk_lex *lx, const char *s, size_t n)
{
    *lx = (struct apk_lex){s, n, 0, {APK_DIGIT, true, s, 0, 0}};
    size_t e = apk_run(lx, 0, version_is_digit);
    apk_set(lx, e ? APK_DIGIT : APK_INVALID, 0, e ? e : n);
    lx->tok.initial = e > 0;
}

/* Two tokens of the same type. */
static int apk_tokcmp(const struct apk_tok *x, const struct apk_tok *y)
{
    switch (x->type) {
    case APK_DIGIT:
        if (!x->initial && (x->p[0] == '0' || y->p[0] == '0'))
            return version_bytes_cmp(x->p, x->n, y->p, y->n);
        return version_digits_cmp(x->p, x->n, y->p, y->n);
    case APK_SUFFIX_NO:
        return version_digits_cmp(x->p, x->n, y->p, y->n);
    case APK_SUFFIX:
        return x->rank < y->rank ? -1 : x->rank > y->rank;
    case APK_END:
        return 0;
    case APK_LETTER:
    case APK_INVALID:
        break;
    }
    return version_bytes_cmp(x->p, x->n, y->p, y->n);
}

/* Compares the parts before the revision. */
static int apk_corecmp(const char *a, size_t an, const char *b, size_t bn)
{
    struct apk_lex x, y;
    apk_first(&x, a, an);
    apk_first(&y, b, bn);
    /* each pass consumes at least one byte of both, or ends */
    for (;;) {
        const struct apk_tok *tx = &x.tok, *ty = &y.tok;
        if (tx->type != ty->type) {
            if (tx->type == APK_INVALID || ty->type == APK_INVALID)
                return tx->type == APK_INVALID ? -1 : 1;
            if (tx->type == APK_SUFFIX && tx->rank < 0)
                return -1;
            if (ty->type == APK_SUFFIX && ty->rank < 0)
                return 1;
            return tx->type < ty->type ? 1 : -1;
        }
        int r = apk_tokcmp(tx, ty);
        if (r || tx->type == APK_END || tx->type == APK_INVALID)
            return r;
        apk_next(&x);
        apk_next(&y);
    }
}

enum apk_rev_kind { APK_REV_BAD, APK_REV_NONE, APK_REV_OK };

struct apk_ver {
    const char *core, *rev;
    size_t coren, revn;
    enum apk_rev_kind kind;
};

static kb_err apk_parse(const char *s, size_t n, struct apk_ver *v, struct kb_why *why)
{
    if (n > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "alpine version longer than %d bytes", VERSION_MAX_LEN);
    if (n == 0)
        return kb_fail(why, KB_EINVAL, "alpine version is empty");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return kb_fail(why, KB_EINVAL, "alpine version '%.*s': space or control character",
                           (int)n, s);
    *v = (struct apk_ver){s, NULL, n, 0, APK_REV_NONE};
    const char *dash = memchr(s, '-', n);
    if (!dash)
        return KB_OK;
    v->coren = (size_t)(dash - s);
    v->kind = APK_REV_BAD;
    /* "-r" and digits; v->rev is the digits */
    size_t rest = n - v->coren - 1;
    if (rest >= 1 && dash[1] == 'r') {
        v->rev = dash + 2;
        v->revn = rest - 1;
        size_t k = 0;
        while (k < v->revn && version_is_digit(v->rev[k]))
            k++;
        if (k == v->revn)
            v->kind = APK_REV_OK;
    }
    return KB_OK;
}

kb_err version_alpine_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                              struct kb_why *why)
{
    struct apk_ver x, y;
    kb_err e = apk_parse(a, an, &x, why);
    if (!e)
        e = apk_parse(b, bn, &y, why);
    if (e)
        return e;
    int r = apk_corecmp(x.core, x.coren, y.core, y.coren);
    if (!r && x.kind != y.kind)
        r = x.kind < y.kind ? -1 : 1;
    else if (!r && x.kind == APK_REV_OK)
        r = version_digits_cmp(x.rev, x.revn, y.rev, y.revn);
    *cmp = r;
    return KB_OK;
}

bool version_alpine_valid(const char *s, size_t n)
{
    struct apk_ver v;
    return apk_parse(s, n, &v, NULL) == KB_OK;
}
