/*
 * sigma_value.c — turning one YAML value into compiled values: Sigma
 * wildcards and escapes, placeholders (expand), windash variants, UTF-16
 * and base64 encodings, CIDR parsing. All of it runs once, when a rule is
 * loaded; temporaries are kb_malloc'd and freed here, results go to the
 * ruleset's arena.
 */
#include "lib/buf.h"
#include "rules/sigma_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

void strvec_push(struct strvec *v, const char *s, size_t n)
{
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->s = kb_realloc(v->s, v->cap * sizeof *v->s);
        v->n = kb_realloc(v->n, v->cap * sizeof *v->n);
    }
    v->s[v->len] = kb_strndup(s, n);
    v->n[v->len++] = n;
}

void strvec_release(struct strvec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->s[i]);
    free(v->s);
    free(v->n);
    memset(v, 0, sizeof *v);
}

/* ---- expand: %name% placeholders ---- */

static bool ph_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
}

/* Finds the first %name% in s[from..n): *at and *len cover it with the
 * percent signs. */
static bool find_ph(const char *s, size_t n, size_t from, size_t *at, size_t *len)
{
    for (size_t i = from; i < n; i++) {
        if (s[i] != '%')
            continue;
        size_t j = i + 1;
        while (j < n && ph_char(s[j]))
            j++;
        if (j < n && s[j] == '%' && j > i + 1) {
            *at = i;
            *len = j - i + 1;
            return true;
        }
    }
    return false;
}

kb_err sv_expand(struct sctx *c, const yaml_node_t *at, const char *key, const struct strvec *in,
                 struct strvec *out)
{
    /* Work list: values still holding placeholders are expanded one
     * placeholder at a time until none is left. */
    struct strvec work = {0};
    for (size_t i = 0; i < in->len; i++)
        strvec_push(&work, in->s[i], in->n[i]);
    kb_err e = KB_OK;
    for (size_t i = 0; i < work.len && !e; i++) {
        size_t pa, pl;
        if (!find_ph(work.s[i], work.n[i], 0, &pa, &pl)) {
            strvec_push(out, work.s[i], work.n[i]);
            continue;
        }
        const struct sigma_placeholder *p = sigma_placeholder(c->rs, work.s[i] + pa + 1, pl - 2);
        if (!p) {
            e = sigma_err(c, at, key, "unresolved placeholder '%.*s'",
                          (int)pl, work.s[i] + pa);
            break;
        }
        for (size_t k = 0; k < p->nvalues; k++) {
            if (work.len + out->len >= SIGMA_MAX_VARIANTS) {
                e = sigma_err(c, at, key, "expands to more than %u values", SIGMA_MAX_VARIANTS);
                break;
            }
            struct buf b = BUF_INIT(SIGMA_MAX_TEXT);
            if (buf_append(&b, work.s[i], pa) || buf_puts(&b, p->values[k]) ||
                buf_append(&b, work.s[i] + pa + pl, work.n[i] - pa - pl)) {
                buf_release(&b);
                e = sigma_err(c, at, key, "expanded value longer than %u bytes", SIGMA_MAX_TEXT);
                break;
            }
            strvec_push(&work, b.p ? b.p : "", b.len);
            buf_release(&b);
        }
    }
    strvec_release(&work);
    return e;
}

/* ---- windash ---- */

static bool word_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch >= 0x80;
}

/* A '-' or '/' where an option flag starts: not preceded by a word
 * character and followed by one ("-enc", " /c"). */
static bool dash_at(const char *s, size_t n, size_t i)
{
    if (s[i] != '-' && s[i] != '/')
        return false;
    if (i > 0 && word_char((unsigned char)s[i - 1]))
        return false;
    return i + 1 < n && word_char((unsigned char)s[i + 1]);
}

void sv_windash(const struct strvec *in, struct strvec *out)
{
    static const char *const dashes[] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94",
                                         "\xe2\x80\x95"};
    for (size_t v = 0; v < in->len; v++) {
        const char *s = in->s[v];
        size_t n = in->n[v], pos[16], np = 0;
        for (size_t i = 0; i < n && np < KB_ARRAY_LEN(pos); i++)
            if (dash_at(s, n, i))
                pos[np++] = i;
        /* every combination of the 5 dashes over the np positions, bounded */
        size_t total = 1;
        for (size_t k = 0; k < np && total < SIGMA_MAX_VARIANTS; k++)
            total *= 5;
        if (total > SIGMA_MAX_VARIANTS)
            total = SIGMA_MAX_VARIANTS;
        for (size_t combo = 0; combo < total; combo++) {
            struct buf b = BUF_INIT(SIGMA_MAX_TEXT * 3);
            size_t last = 0, cc = combo;
            for (size_t k = 0; k < np; k++) {
                buf_append(&b, s + last, pos[k] - last);
                buf_puts(&b, dashes[cc % 5]);
                cc /= 5;
                last = pos[k] + 1;
            }
            buf_append(&b, s + last, n - last);
            strvec_push(out, b.p ? b.p : "", b.len);
            buf_release(&b);
        }
    }
}

/* ---- encodings ---- */

void sv_unescape(const char *s, size_t n, struct strvec *out)
{
    char *d = kb_malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\'))
            i++;
        d[k++] = s[i];
    }
    strvec_push(out, d, k);
    free(d);
}

/* Next code point of UTF-8 s[*i..n) (invalid bytes pass as themselves). */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c0 = s[*i];
    int len = c0 < 0x80 ? 1 : (c0 >> 5) == 6 ? 2 : (c0 >> 4) == 14 ? 3 : (c0 >> 3) == 30 ? 4 : 1;
    if (*i + (size_t)len > n)
        len = 1;
    uint32_t cp = len == 1 ? c0 : len == 2 ? (c0 & 0x1fu) : len == 3 ? (c0 & 0x0fu) : (c0 & 7u);
    for (int k = 1; k < len; k++)
        cp = (cp << 6) | (s[*i + (size_t)k] & 0x3fu);
    *i += (size_t)len;
    return cp;
}

void sv_utf16(const struct strvec *in, int mode, struct strvec *out)
{
    for (size_t v = 0; v < in->len; v++) {
        struct buf b = BUF_INIT(SIGMA_MAX_TEXT * 4);
        if (mode == 2)
            buf_append(&b, "\xff\xfe", 2);
        const unsigned char *s = (const unsigned char *)in->s[v];
        for (size_t i = 0; i < in->n[v];) {
            uint32_t cp = utf8_next(s, in->n[v], &i);
            uint16_t units[2];
            int nu = 1;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                units[0] = (uint16_t)(0xd800 + (cp >> 10));
                units[1] = (uint16_t)(0xdc00 + (cp & 0x3ff));
                nu = 2;
            } else {
                units[0] = (uint16_t)cp;
            }
            for (int k = 0; k < nu; k++) {
                char pair[2] = {(char)(units[k] & 0xff), (char)(units[k] >> 8)};
                if (mode == 1) {
                    char t = pair[0];
                    pair[0] = pair[1];
                    pair[1] = t;
                }
                buf_append(&b, pair, 2);
            }
        }
        strvec_push(out, b.p ? b.p : "", b.len);
        buf_release(&b);
    }
}

static size_t b64(const unsigned char *s, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        out[k++] = tab[(v >> 18) & 63];
        out[k++] = tab[(v >> 12) & 63];
        out[k++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[k++] = i + 2 < n ? tab[v & 63] : '=';
    }
    return k;
}

void sv_base64(const struct strvec *in, bool offsets, struct strvec *out)
{
    for (size_t v = 0; v < in->len; v++) {
        size_t n = in->n[v];
        unsigned char *src = kb_malloc(n + 3);
        char *enc = kb_malloc((n + 5) / 3 * 4 + 8);
        if (!offsets) {
            size_t k = b64((const unsigned char *)in->s[v], n, enc);
            strvec_push(out, enc, k);
        } else {
            /* The value shifted by 0, 1 or 2 bytes inside a longer encoded
             * text: drop the leading characters that depend on the bytes
             * before it and the trailing ones that depend on those after. */
            static const size_t start[3] = {0, 2, 3};
            static const size_t cut_end[3] = {0, 3, 2}; /* by (n + i) % 3 */
            for (size_t i = 0; i < 3; i++) {
                memset(src, ' ', i);
                memcpy(src + i, in->s[v], n);
                size_t k = b64(src, n + i, enc);
                size_t cut = cut_end[(n + i) % 3];
                if (k >= start[i] + cut)
                    strvec_push(out, enc + start[i], k - start[i] - cut);
            }
        }
        free(src);
        free(enc);
    }
}

/* ---- wildcard patterns ---- */

static void lower_ascii(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] + 32);
}

kb_err sv_pattern(struct sctx *c, struct sv *v, const char *s, size_t n, bool literal, int pos,
                  bool cased)
{
    /* tokens: type + slice of lit[] */
    struct tok {
        uint8_t type;
        size_t off, n;
    };
    struct tok *toks = kb_malloc((n + 3) * sizeof *toks);
    char *lit = kb_malloc(n + 1);
    size_t nt = 0, nl = 0;
    if (pos == H_SUFFIX || pos == H_CONTAINS)
        toks[nt++] = (struct tok){G_STAR, 0, 0};
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        uint8_t type = G_LIT;
        if (!literal && ch == '\\' && i + 1 < n &&
            (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\'))
            ch = s[++i];
        else if (!literal && ch == '*')
            type = G_STAR;
        else if (!literal && ch == '?')
            type = G_ONE;
        if (type == G_LIT) {
            if (nt && toks[nt - 1].type == G_LIT)
                toks[nt - 1].n++;
            else
                toks[nt++] = (struct tok){G_LIT, nl, 1};
            lit[nl++] = ch;
        } else if (!(type == G_STAR && nt && toks[nt - 1].type == G_STAR)) {
            toks[nt++] = (struct tok){type, 0, 0};
        }
    }
    if ((pos == H_PREFIX || pos == H_CONTAINS) && !(nt && toks[nt - 1].type == G_STAR))
        toks[nt++] = (struct tok){G_STAR, 0, 0};
    if (!cased)
        lower_ascii(lit, nl);
    v->kind = SV_STR;
    v->cased = cased;
    kb_err e = KB_OK;
    char *alit = sigma_strndup(c, lit, nl);
    if (!alit) {
        e = sigma_err(c, NULL, "detection", "the ruleset is too big");
        goto out;
    }
    /* fast shapes: "lit", "lit*", "*lit", "*lit*" (and "" exact) */
    bool s0 = nt > 0 && toks[0].type == G_STAR, s1 = nt > 1 && toks[nt - 1].type == G_STAR;
    size_t first = s0 ? 1 : 0, last = nt - (s1 ? 1 : 0);
    if (nt == 0 || (last == first + 1 && toks[first].type == G_LIT && (nt > 1 || !s0))) {
        v->how = nt == 0 ? H_EXACT : s0 && s1 ? H_CONTAINS : s0 ? H_SUFFIX : s1 ? H_PREFIX : H_EXACT;
        v->s = alit + (nt ? toks[first].off : 0);
        v->n = (uint32_t)(nt ? toks[first].n : 0);
        goto out;
    }
    struct gseg *g = sigma_alloc(c, nt * sizeof *g);
    if (!g) {
        e = sigma_err(c, NULL, "detection", "the ruleset is too big");
        goto out;
    }
    for (size_t i = 0; i < nt; i++)
        g[i] = (struct gseg){toks[i].type, (uint32_t)toks[i].n, alit + toks[i].off};
    v->how = H_GLOB;
    v->segs = g;
    v->nsegs = (uint32_t)nt;
out:
    free(toks);
    free(lit);
    return e;
}

/* ---- CIDR ---- */

bool sv_parse_cidr(struct sv *v, const char *s, size_t n)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *slash = strchr(tmp, '/');
    long bits = -1;
    if (slash) {
        *slash = '\0';
        char *end = NULL;
        bits = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || bits < 0)
            return false;
    }
    memset(v->addr, 0, sizeof v->addr);
    if (inet_pton(AF_INET, tmp, v->addr) == 1) {
        v->fam = 4;
        if (bits < 0)
            bits = 32;
        if (bits > 32)
            return false;
    } else if (inet_pton(AF_INET6, tmp, v->addr) == 1) {
        v->fam = 6;
        if (bits < 0)
            bits = 128;
        if (bits > 128)
            return false;
    } else {
        return false;
    }
    v->bits = (uint8_t)bits;
    v->kind = SV_CIDR;
    return true;
}

/* ---- a literal every regex match contains ---- */

/* Skips a character class starting at p[i] == '['; the index after its
 * ']', or 0 when it does not end. */
static size_t skip_class(const char *p, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && p[j] == '^')
        j++;
    if (j < n && p[j] == ']')
        j++; /* a leading ']' is literal */
    while (j < n && p[j] != ']') {
        if (p[j] == '\\') {
            j += 2;
        } else if (p[j] == '[' && j + 1 < n && p[j + 1] == ':') {
            const char *e = memmem(p + j + 2, n - j - 2, ":]", 2);
            if (!e)
                return 0;
            j = (size_t)(e - p) + 2;
        } else {
            j++;
        }
    }
    return j < n ? j + 1 : 0;
}

/* Skips a group starting at p[i] == '('; the index after its ')', or 0. */
static size_t skip_group(const char *p, size_t n, size_t i)
{
    unsigned depth = 0;
    for (size_t j = i; j < n;) {
        if (p[j] == '\\') {
            j += 2;
        } else if (p[j] == '[') {
            if (!(j = skip_class(p, n, j)))
                return 0;
        } else {
            if (p[j] == '(')
                depth++;
            else if (p[j] == ')' && --depth == 0)
                return j + 1;
            j++;
        }
    }
    return 0;
}

/* A quantifier at p[i]: *len its bytes (with a lazy or possessive mark),
 * *min its least count. False when p[i] is none; *len 0 (and true) for a
 * '{' that is not a valid quantifier (PCRE2 reads it as a literal; this
 * reader gives up instead). */
static bool quantifier(const char *p, size_t n, size_t i, size_t *len, unsigned *min)
{
    if (i >= n)
        return false;
    size_t j = i + 1;
    if (p[i] == '?' || p[i] == '*') {
        *min = 0;
    } else if (p[i] == '+') {
        *min = 1;
    } else if (p[i] == '{') {
        unsigned v = 0, digits = 0;
        while (j < n && p[j] >= '0' && p[j] <= '9' && digits < 6)
            v = v * 10 + (unsigned)(p[j++] - '0'), digits++;
        while (j < n && (p[j] == ',' || (p[j] >= '0' && p[j] <= '9')))
            j++;
        if (!digits || j >= n || p[j] != '}') {
            *len = 0;
            return true;
        }
        j++;
        *min = v;
    } else {
        return false;
    }
    if (j < n && (p[j] == '?' || p[j] == '+'))
        j++;
    *len = j - i;
    return true;
}

/* Reads the pattern as a sequence of tokens; a run of literal characters
 * not made optional by a quantifier is required when there is no
 * alternation outside groups. Groups and classes are skipped (they may
 * only end a run); anything this reader does not fully understand gives
 * up, so a literal it returns is always required. Under caseless UTF
 * matching some ASCII letters match non-ASCII ones (k: KELVIN SIGN, s:
 * LONG S), so those letters end a run too. */
void sv_re_literal(const char *p, size_t n, bool caseless, char *out, size_t outsz,
                   size_t *outn)
{
    char cur[128];
    size_t cn = 0, bn = 0, i = 0;
    *outn = 0;
    if (memmem(p, n, "\\Q", 2))
        return; /* quoted runs can hide any syntax; not read */
    if (n >= 4 && memcmp(p, "(?i)", 4) == 0) {
        caseless = true;
        i = 4;
    }
    while (i < n) {
        char c = p[i];
        int lit = -1; /* the token's literal byte, or -1 */
        size_t adv = 1;
        if (c == '\\') {
            if (i + 1 >= n)
                return;
            unsigned char e = (unsigned char)p[i + 1];
            adv = 2;
            bool alnum = (e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z');
            if (e >= 0x80 || (alnum && !strchr("dDwWsSbBhHvVRXAzZGKnrtfae", e)))
                return; /* \x.. \p{..} \Q \g \k backreferences, ...: not read */
            if (!alnum)
                lit = e;
        } else if (c == '|' || c == ')' || c == '{') {
            return;
        } else if (c == '(') {
            /* (?:, lookarounds, (?<name>, (?|, (?> are groups to skip;
             * inline options, comments and verbs change how the rest reads */
            if (i + 1 < n && (p[i + 1] == '*' ||
                              (p[i + 1] == '?' && (i + 2 >= n || !strchr(":=!<>|", p[i + 2])))))
                return;
            if (!(adv = skip_group(p, n, i)))
                return;
            adv -= i;
        } else if (c == '[') {
            if (!(adv = skip_class(p, n, i)))
                return;
            adv -= i;
        } else if ((unsigned char)c >= 0x80 || (unsigned char)c < 0x20 || strchr(".^$]}", c)) {
            lit = -1;
        } else {
            lit = (unsigned char)c;
        }
        if (lit >= 0 && caseless && strchr("kKsSiI", lit))
            lit = -1;
        size_t ql = 0;
        unsigned min = 1;
        bool q = quantifier(p, n, i + adv, &ql, &min);
        if (q && ql == 0)
            return;
        if (lit >= 0 && min > 0 && cn < sizeof cur)
            cur[cn++] = (char)lit;
        if (lit < 0 || q) { /* the run ends here */
            if (cn > bn) {
                bn = KB_MIN(cn, outsz ? outsz - 1 : 0);
                memcpy(out, cur, bn);
            }
            cn = 0;
        }
        i += adv + ql;
    }
    if (cn > bn) {
        bn = KB_MIN(cn, outsz ? outsz - 1 : 0);
        memcpy(out, cur, bn);
    }
    lower_ascii(out, bn);
    if (outsz)
        out[bn] = '\0';
    *outn = bn;
}
