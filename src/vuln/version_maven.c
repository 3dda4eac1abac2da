/*
 * version_maven.c — Maven versions in the order of the POM reference's
 * "Version Order Specification" (maven.apache.org/pom.html), the order
 * OSV uses for the Maven ecosystem.
 *
 * Every string is a Maven version (Maven orders anything), so compare
 * never fails except past VERSION_MAX_LEN.
 *
 * Tokens (case-insensitive): the version splits at '.', at '-' and at
 * every transition between a digit and a non-digit; a transition counts
 * as a '-'. Each token keeps the separator before it (the first one reads
 * as '.'); an empty token (two separators in a row, or a separator at the
 * end) is the number 0. A token is a number (digits, compared by value,
 * any length) or a qualifier. A qualifier orders by its rank:
 *     alpha < beta < milestone < rc = cr < snapshot
 *       < "" = ga = final = release < sp < any other word,
 * other words alphabetically among themselves; "a", "b" and "m" mean
 * alpha, beta and milestone when a digit follows them directly (1a1 is
 * 1-alpha-1, but 1-a is the word "a"). A qualifier after a '.' is taken as
 * after a '-' (1.foo = 1-foo; Maven 3.9 does the same, MNG-7644).
 *
 * Null tokens are the number 0 and the qualifiers "", ga, final and
 * release. They are trimmed from the end, and then before each remaining
 * '-' token, walking from the end to the start: 1.0.0-foo.0.0 is 1-foo,
 * 1-ga-1 is 1-1, 1-0-2 is 1-2.
 *
 * Order: token by token; the shorter version is padded with nulls that
 * take the other side's separator (0 after '.', "" after '-'). Two
 * qualifiers compare by rank; two numbers with the same separator by
 * value; otherwise qualifier < "-number" < ".number" (1-1 < 1.1,
 * 2.0.1-xyz < 2.0.1-123).
 *
 * Maven's own ComparableVersion (3.8) agrees except in two places: it does
 * not trim nulls before an inner hyphen (it puts 1-ga-1 below 1-1, which
 * the specification and the reference vectors make equal), and before 3.9
 * it put a qualifier after '.' below one after '-'.
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

#include <stdint.h>

/* At most one token per byte, plus a final empty one. */
#define MVN_MAX_TOK (VERSION_MAX_LEN + 1)

enum { MVN_RANK_NULL = 5, MVN_RANK_OTHER = 7 };

struct mvn_tok {
    uint16_t off, len; /* the token's bytes in the version */
    char sep;          /* '.' or '-' */
    bool num;
    uint8_t rank; /* qualifiers: 0..7 */
};

struct mvn_ver {
    const char *s;
    struct mvn_tok t[MVN_MAX_TOK];
    size_t n;
};

static const struct {
    const char *word;
    uint8_t rank;
} mvn_words[] = {
    {"alpha", 0}, {"beta", 1}, {"milestone", 2}, {"rc", 3},      {"cr", 3}, {"snapshot", 4},
    {"", 5},      {"ga", 5},   {"final", 5},     {"release", 5}, {"sp", 6},
};

static bool mvn_word_is(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (version_lower(s[i]) != w[i])
            return false;
    return true;
}

static uint8_t mvn_rank(const char *s, size_t n, bool digit_follows)
{
    if (n == 1 && digit_follows) {
        char c = version_lower(s[0]);
        if (c == 'a')
            return 0;
        if (c == 'b')
            return 1;
        if (c == 'm')
            return 2;
    }
    for (size_t i = 0; i < KB_ARRAY_LEN(mvn_words); i++)
        if (mvn_word_is(s, n, mvn_words[i].word))
            return mvn_words[i].rank;
    return MVN_RANK_OTHER;
}

static bool mvn_tok_null(const struct mvn_ver *v, const struct mvn_tok *t)
{
    if (!t->num)
        return t->rank == MVN_RANK_NULL;
    return version_digits_cmp(v->s + t->off, t->len, "", 0) == 0;
}

static bool mvn_sep(char c)
{
    return c == '.' || c == '-';
}

static void mvn_tokens(struct mvn_ver *v, const char *s, size_t n)
{
    v->s = s;
    v->n = 0;
    char sep = '.';
    size_t i = 0;
    for (;;) {
        size_t st = i;
        bool num = true;
        if (i < n && version_is_digit(s[i])) {
            while (i < n && version_is_digit(s[i]))
                i++;
        } else if (i < n && !mvn_sep(s[i])) {
            num = false;
            while (i < n && !mvn_sep(s[i]) && !version_is_digit(s[i]))
                i++;
        }
        struct mvn_tok *t = &v->t[v->n++];
        t->off = (uint16_t)st;
        t->len = (uint16_t)(i - st);
        t->num = num;
        t->rank = num ? 0 : mvn_rank(s + st, i - st, i < n && version_is_digit(s[i]));
        t->sep = num ? sep : '-';
        if (i >= n || v->n == MVN_MAX_TOK)
            break;
        if (mvn_sep(s[i]))
            sep = s[i++];
        else
            sep = '-'; /* a digit/non-digit transition */
    }
}

/* Drops the trailing nulls, then the nulls before each remaining '-'
 * token, from the end to the start. */
static void mvn_trim(struct mvn_ver *v)
{
    bool trimming = true;
    size_t keep = v->n;
    /* walk backwards, packing kept tokens at the end of the array */
    for (size_t h = v->n; h-- > 0;) {
        struct mvn_tok t = v->t[h];
        if (trimming && mvn_tok_null(v, &t))
            continue;
        trimming = t.sep == '-';
        v->t[--keep] = t;
    }
    memmove(v->t, v->t + keep, (v->n - keep) * sizeof v->t[0]);
    v->n -= keep;
}

static int mvn_tok_cmp(const char *as, const struct mvn_tok *a, const char *bs,
                       const struct mvn_tok *b)
{
    if (!a->num && !b->num) {
        if (a->rank != b->rank)
            return a->rank < b->rank ? -1 : 1;
        if (a->rank != MVN_RANK_OTHER)
            return 0;
        size_t m = a->len < b->len ? a->len : b->len;
        for (size_t i = 0; i < m; i++) {
            char x = version_lower(as[a->off + i]), y = version_lower(bs[b->off + i]);
            if (x != y)
                return (unsigned char)x < (unsigned char)y ? -1 : 1;
        }
        return a->len == b->len ? 0 : a->len < b->len ? -1 : 1;
    }
    if (a->num != b->num)
        return a->num ? 1 : -1; /* a qualifier is below any number */
    if (a->sep != b->sep)
        return a->sep == '-' ? -1 : 1; /* "-number" < ".number" */
    return version_digits_cmp(as + a->off, a->len, bs + b->off, b->len);
}

bool version_maven_valid(const char *s, size_t n)
{
    return s && n <= VERSION_MAX_LEN;
}

kb_err version_maven_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                             struct kb_why *why)
{
    if (an > VERSION_MAX_LEN || bn > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "maven version longer than %d bytes", VERSION_MAX_LEN);
    struct mvn_ver x, y;
    mvn_tokens(&x, a, an);
    mvn_tokens(&y, b, bn);
    mvn_trim(&x);
    mvn_trim(&y);
    size_t n = x.n > y.n ? x.n : y.n;
    for (size_t i = 0; i < n; i++) {
        struct mvn_tok pad = {0, 0, '.', true, 0};
        const struct mvn_tok *tx = i < x.n ? &x.t[i] : NULL, *ty = i < y.n ? &y.t[i] : NULL;
        if (!tx || !ty) {
            /* the padding null takes the other side's separator */
            const struct mvn_tok *other = tx ? tx : ty;
            if (other->sep == '-')
                pad = (struct mvn_tok){0, 0, '-', false, MVN_RANK_NULL};
        }
        int c = mvn_tok_cmp(a, tx ? tx : &pad, b, ty ? ty : &pad);
        if (c) {
            *cmp = c;
            return KB_OK;
        }
    }
    *cmp = 0;
    return KB_OK;
}
