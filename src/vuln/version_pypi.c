/*
 * version_pypi.c — Python package versions as PEP 440 orders them (the
 * "packaging" library's Version), and, for strings that are not PEP 440,
 * as packaging's LegacyVersion ordered them before it was removed.
 *
 * PEP 440: [v][N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local], read with the
 * PEP's normalization: surrounding whitespace and a leading 'v' dropped,
 * case ignored, alpha/beta/c/pre/preview spelled a/b/rc/rc/rc, rev/r spelled
 * post, '-', '_' or '.' (or nothing) allowed before and after each label, a
 * label without a number meaning 0, "1.0-1" meaning 1.0.post1, and '-' or
 * '_' in a local version meaning '.'. Order: epoch; release, trailing zeros
 * ignored (1.0 = 1.0.0); then pre-release (a dev release of the release
 * itself, 1.0.dev0, sorts before its pre-releases; a version without one
 * after them); then post-release (none first); then dev release (none
 * last); then the local version (none first; segment by segment, numbers
 * as numbers and after words, words bytewise; more segments later).
 *
 * Non-PEP 440 versions: PEP 440 says they do not compare, but the vectors
 * order them (0.1-bulbasaur < 0.1-charmander, and any of them before every
 * PEP 440 version), as packaging did before version 22 with LegacyVersion.
 * koban does the same, from that scheme's rules: the lowercased string is
 * cut into runs of digits, runs of letters, '.', '-' and runs of anything
 * else; '.' is dropped, "pre", "preview" and "rc" read "c", "dev" reads "@",
 * '-' reads "final-"; a run of digits becomes the run left-padded with
 * zeros to 8 characters, anything else '*' and its text; "*final" is added
 * at the end; before a part below "*final", "*final-" parts just before it
 * go, and before any '*' part, "00000000" parts just before it go; the
 * resulting lists compare element by element as strings. So compare
 * accepts any string except the empty one and strings with control or
 * non-ASCII bytes (these koban refuses: KB_EINVAL), and valid() says the
 * same (so valid() is true for legacy versions, too).
 */
#include "vuln/version_digits.h"
#include "vuln/version_internal.h"

/* ---- PEP 440 ---- */

/* A number as a run of digits without its leading zeros ("" is 0). */
struct pep_num {
    const char *p;
    size_t n;
};

/* A pre, post or dev component: -1 below every value, 1 above, 0 a value. */
struct pep_opt {
    int inf;
    int label; /* pre: 0 a, 1 b, 2 rc */
    struct pep_num num;
};

#define PEP_MAX_PARTS (VERSION_MAX_LEN / 2 + 1)

struct pep_ver {
    struct pep_num epoch;
    struct pep_num rel[PEP_MAX_PARTS];
    size_t nrel;
    struct pep_opt pre, post, dev;
    const char *local; /* without '+', NULL when absent */
    size_t localn;
};

struct pep_lex {
    const char *s;
    size_t n, i;
};

static bool pep_sep(char c)
{
    return c == '-' || c == '_' || c == '.';
}

static char pep_peek(const struct pep_lex *lx, size_t k)
{
    return lx->i + k < lx->n ? lx->s[lx->i + k] : '\0';
}

static struct pep_num pep_digits(struct pep_lex *lx)
{
    size_t st = lx->i;
    while (lx->i < lx->n && version_is_digit(lx->s[lx->i]))
        lx->i++;
    struct pep_num v = {lx->s + st, lx->i - st};
    while (v.n && *v.p == '0') {
        v.p++;
        v.n--;
    }
    return v;
}

/* Case-insensitive: does word start at lx->i + at? */
static bool pep_word(const struct pep_lex *lx, size_t at, const char *word)
{
    size_t n = strlen(word);
    if (lx->i + at + n > lx->n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (version_lower(lx->s[lx->i + at + k]) != word[k])
            return false;
    return true;
}

/* [-_.]? label [-_.]? N? with label one of words (longest first); on a
 * match fills o and advances. */
static bool pep_label(struct pep_lex *lx, const char *const *words, const int *codes, size_t nwords,
                      struct pep_opt *o)
{
    size_t at = pep_sep(pep_peek(lx, 0)) ? 1 : 0;
    for (size_t w = 0; w < nwords; w++) {
        if (!pep_word(lx, at, words[w]))
            continue;
        lx->i += at + strlen(words[w]);
        *o = (struct pep_opt){0, codes[w], {"", 0}};
        /* a separator may follow the label with or without a number:
         * "1.0-beta-" is 1.0b0 */
        if (pep_sep(pep_peek(lx, 0)))
            lx->i++;
        if (version_is_digit(pep_peek(lx, 0)))
            o->num = pep_digits(lx);
        return true;
    }
    return false;
}

static bool pep_parse(const char *s, size_t n, struct pep_ver *v)
{
    static const char *const pre_w[] = {"alpha", "a", "beta", "b", "preview", "pre", "c", "rc"};
    static const int pre_c[] = {0, 0, 1, 1, 2, 2, 2, 2};
    static const char *const post_w[] = {"post", "rev", "r"};
    static const char *const dev_w[] = {"dev"};
    static const int zero[] = {0, 0, 0};
    struct pep_lex lx = {s, n, 0};
    memset(v, 0, sizeof *v);
    v->epoch = (struct pep_num){"", 0};
    if (version_lower(pep_peek(&lx, 0)) == 'v')
        lx.i++;
    if (!version_is_digit(pep_peek(&lx, 0)))
        return false;
    struct pep_num first = pep_digits(&lx);
    if (pep_peek(&lx, 0) == '!') {
        lx.i++;
        v->epoch = first;
        if (!version_is_digit(pep_peek(&lx, 0)))
            return false;
        first = pep_digits(&lx);
    }
    v->rel[v->nrel++] = first;
    while (pep_peek(&lx, 0) == '.' && version_is_digit(pep_peek(&lx, 1)) && v->nrel < PEP_MAX_PARTS) {
        lx.i++;
        v->rel[v->nrel++] = pep_digits(&lx);
    }
    v->pre.inf = 1;
    v->post.inf = -1;
    v->dev.inf = 1;
    pep_label(&lx, pre_w, pre_c, KB_ARRAY_LEN(pre_w), &v->pre);
    if (pep_peek(&lx, 0) == '-' && version_is_digit(pep_peek(&lx, 1))) {
        lx.i++;
        v->post = (struct pep_opt){0, 0, pep_digits(&lx)};
    } else {
        pep_label(&lx, post_w, zero, KB_ARRAY_LEN(post_w), &v->post);
    }
    bool has_dev = pep_label(&lx, dev_w, zero, KB_ARRAY_LEN(dev_w), &v->dev);
    /* 1.0.dev0 sorts before 1.0a0 */
    if (has_dev && v->pre.inf == 1 && v->post.inf == -1)
        v->pre.inf = -1;
    if (pep_peek(&lx, 0) == '+') {
        lx.i++;
        v->local = s + lx.i;
        size_t st = lx.i;
        while (lx.i < n && (version_is_alnum(s[lx.i]) ||
                            (pep_sep(s[lx.i]) && lx.i > st && version_is_alnum(pep_peek(&lx, 1)))))
            lx.i++;
        v->localn = lx.i - st;
        if (v->localn == 0)
            return false;
    }
    return lx.i == n;
}

static int pep_sign(int r)
{
    return r < 0 ? -1 : r > 0;
}

static int pep_numcmp(struct pep_num a, struct pep_num b)
{
    return a.n != b.n ? (a.n < b.n ? -1 : 1) : pep_sign(memcmp(a.p, b.p, a.n));
}

static int pep_optcmp(const struct pep_opt *a, const struct pep_opt *b)
{
    if (a->inf != b->inf)
        return a->inf < b->inf ? -1 : 1;
    if (a->inf)
        return 0;
    if (a->label != b->label)
        return a->label < b->label ? -1 : 1;
    return pep_numcmp(a->num, b->num);
}

/* The next segment of a local version, from *i; false at the end. */
static bool pep_local_seg(const char *s, size_t n, size_t *i, const char **p, size_t *len)
{
    if (*i >= n)
        return false;
    if (pep_sep(s[*i]))
        (*i)++;
    size_t st = *i;
    while (*i < n && !pep_sep(s[*i]))
        (*i)++;
    *p = s + st;
    *len = *i - st;
    return true;
}

static bool pep_all_digits(const char *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!version_is_digit(p[k]))
            return false;
    return true;
}

static int pep_localcmp(const struct pep_ver *a, const struct pep_ver *b)
{
    if (!a->local || !b->local)
        return a->local ? 1 : b->local ? -1 : 0;
    size_t i = 0, j = 0;
    const char *x = NULL, *y = NULL;
    size_t xn = 0, yn = 0;
    for (;;) {
        bool hx = pep_local_seg(a->local, a->localn, &i, &x, &xn);
        bool hy = pep_local_seg(b->local, b->localn, &j, &y, &yn);
        if (!hx || !hy)
            return hx ? 1 : hy ? -1 : 0;
        bool nx = pep_all_digits(x, xn), ny = pep_all_digits(y, yn);
        if (nx != ny)
            return nx ? 1 : -1;
        int r = 0;
        if (nx) {
            struct pep_num u = {x, xn}, w = {y, yn};
            while (u.n && *u.p == '0') {
                u.p++;
                u.n--;
            }
            while (w.n && *w.p == '0') {
                w.p++;
                w.n--;
            }
            r = pep_numcmp(u, w);
        } else {
            for (size_t k = 0; k < xn && k < yn && !r; k++)
                r = version_lower(x[k]) - version_lower(y[k]);
            r = r ? pep_sign(r) : xn < yn ? -1 : xn > yn;
        }
        if (r)
            return r;
    }
}

static int pep_cmp(const struct pep_ver *a, const struct pep_ver *b)
{
    int r = pep_numcmp(a->epoch, b->epoch);
    if (r)
        return r;
    size_t na = a->nrel, nb = b->nrel;
    while (na > 1 && a->rel[na - 1].n == 0)
        na--;
    while (nb > 1 && b->rel[nb - 1].n == 0)
        nb--;
    for (size_t k = 0; k < na && k < nb; k++)
        if ((r = pep_numcmp(a->rel[k], b->rel[k])))
            return r;
    if (na != nb)
        return na < nb ? -1 : 1;
    if ((r = pep_optcmp(&a->pre, &b->pre)) || (r = pep_optcmp(&a->post, &b->post)) ||
        (r = pep_optcmp(&a->dev, &b->dev)))
        return r;
    return pep_localcmp(a, b);
}

/* ---- legacy versions ---- */

enum leg_kind { LEG_NUM, LEG_STAR };

struct leg_part {
    enum leg_kind kind;
    const char *p; /* digits (LEG_NUM) or the text after '*' */
    size_t n;
};

#define LEG_MAX_PARTS (VERSION_MAX_LEN + 2)

struct leg_ver {
    char low[VERSION_MAX_LEN];
    struct leg_part part[LEG_MAX_PARTS];
    size_t n;
};

/* Character k of a part's string form; -1 past its end. */
static int leg_char(const struct leg_part *x, size_t k)
{
    if (x->kind == LEG_STAR)
        return k == 0 ? '*' : k - 1 < x->n ? (unsigned char)x->p[k - 1] : -1;
    size_t pad = x->n < 8 ? 8 - x->n : 0;
    if (k < pad)
        return '0';
    return k - pad < x->n ? (unsigned char)x->p[k - pad] : -1;
}

static int leg_partcmp(const struct leg_part *x, const struct leg_part *y)
{
    /* both strings are at most VERSION_MAX_LEN + 8 long */
    for (size_t k = 0; k < VERSION_MAX_LEN + 9; k++) {
        int cx = leg_char(x, k), cy = leg_char(y, k);
        if (cx != cy)
            return cx < cy ? -1 : 1;
        if (cx < 0)
            return 0;
    }
    return 0;
}

static bool leg_is(const struct leg_part *x, enum leg_kind kind, const char *text)
{
    return x->kind == kind && x->n == strlen(text) && memcmp(x->p, text, x->n) == 0;
}

static void leg_push(struct leg_ver *v, struct leg_part part)
{
    static const struct leg_part final = {LEG_STAR, "final", 5};
    if (part.kind == LEG_STAR) {
        if (leg_partcmp(&part, &final) < 0)
            while (v->n && leg_is(&v->part[v->n - 1], LEG_STAR, "final-"))
                v->n--;
        while (v->n && leg_is(&v->part[v->n - 1], LEG_NUM, "00000000"))
            v->n--;
    }
    if (v->n < LEG_MAX_PARTS)
        v->part[v->n++] = part;
}

static void leg_parse(const char *s, size_t n, struct leg_ver *v)
{
    static const struct {
        const char *from, *to;
    } repl[] = {{"pre", "c"}, {"preview", "c"}, {"-", "final-"}, {"rc", "c"}, {"dev", "@"}};
    v->n = 0;
    for (size_t k = 0; k < n; k++)
        v->low[k] = version_lower(s[k]);
    size_t i = 0;
    while (i < n) {
        char c = v->low[i];
        size_t st = i++;
        if (version_is_digit(c))
            while (i < n && version_is_digit(v->low[i]))
                i++;
        else if (c >= 'a' && c <= 'z')
            while (i < n && v->low[i] >= 'a' && v->low[i] <= 'z')
                i++;
        else if (c != '.' && c != '-')
            while (i < n && !version_is_alnum(v->low[i]) && v->low[i] != '.' && v->low[i] != '-')
                i++;
        struct leg_part part = {version_is_digit(c) ? LEG_NUM : LEG_STAR, v->low + st, i - st};
        if (c == '.')
            continue;
        for (size_t r = 0; r < KB_ARRAY_LEN(repl); r++)
            if (leg_is(&part, LEG_STAR, repl[r].from))
                part = (struct leg_part){LEG_STAR, repl[r].to, strlen(repl[r].to)};
        /* "00000000" is how a zero of up to 8 digits pads */
        size_t zeros = 0;
        while (zeros < part.n && part.p[zeros] == '0')
            zeros++;
        if (part.kind == LEG_NUM && part.n <= 8 && zeros == part.n)
            part = (struct leg_part){LEG_NUM, "00000000", 8};
        leg_push(v, part);
    }
    leg_push(v, (struct leg_part){LEG_STAR, "final", 5});
}

static int leg_cmp(const struct leg_ver *a, const struct leg_ver *b)
{
    for (size_t k = 0; k < a->n && k < b->n; k++) {
        int r = leg_partcmp(&a->part[k], &b->part[k]);
        if (r)
            return r;
    }
    return a->n < b->n ? -1 : a->n > b->n;
}

/* ---- entry points ---- */

struct pypi_ver {
    bool legacy;
    struct pep_ver pep;
    struct leg_ver leg;
};

static kb_err pypi_parse(const char *s, size_t n, struct pypi_ver *v, struct kb_why *why)
{
    if (n > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "pypi version longer than %d bytes", VERSION_MAX_LEN);
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (n == 0)
        return kb_fail(why, KB_EINVAL, "pypi version is empty");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return kb_fail(why, KB_EINVAL, "pypi version '%.*s': control or non-ASCII byte", (int)n,
                           s);
    v->legacy = !pep_parse(s, n, &v->pep);
    if (v->legacy)
        leg_parse(s, n, &v->leg);
    return KB_OK;
}

kb_err version_pypi_compare(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                            struct kb_why *why)
{
    struct pypi_ver x, y;
    kb_err e = pypi_parse(a, an, &x, why);
    if (!e)
        e = pypi_parse(b, bn, &y, why);
    if (e)
        return e;
    if (x.legacy != y.legacy)
        *cmp = x.legacy ? -1 : 1; /* legacy versions sort before PEP 440 ones */
    else
        *cmp = x.legacy ? leg_cmp(&x.leg, &y.leg) : pep_cmp(&x.pep, &y.pep);
    return KB_OK;
}

bool version_pypi_valid(const char *s, size_t n)
{
    struct pypi_ver v;
    return pypi_parse(s, n, &v, NULL) == KB_OK;
}
