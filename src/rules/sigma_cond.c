/*
 * sigma_cond.c — the condition grammar, compiled once into a small tree.
 *
 *   expr    := and ( "or" and )*
 *   and     := not ( "and" not )*
 *   not     := "not" not | primary
 *   primary := "(" expr ")" | quant | IDENT
 *   quant   := ( "1" | "any" | "all" ) "of" ( PATTERN | "them" )
 *
 * Keywords are case-insensitive; precedence not > and > or. A PATTERN may
 * hold `*` (any run of characters); `them` is every identifier not starting
 * with `_`. A YAML list of conditions is their OR. Unknown identifiers and
 * patterns matching nothing are errors. `|` (Sigma v1 aggregations) is
 * refused: counting belongs to correlation rules.
 */
#include "rules/rules_yaml.h"
#include "rules/sigma_impl.h"

#include <stdlib.h>
#include <strings.h>

struct cparse {
    struct sctx *c;
    struct sigma_rule *r;
    const yaml_node_t *at;
    const char *s; /* the condition text */
    size_t n, pos;
    const char *tok; /* current token */
    size_t tlen;
    struct cnode *nodes; /* kb_malloc'd while parsing */
    uint32_t nnodes, capnodes;
    uint32_t *kids;
    uint32_t nkids, capkids;
    unsigned depth;
};

#define CERR(p, ...) sigma_err((p)->c, (p)->at, "detection.condition", __VA_ARGS__)
#define TOK(p) (int)KB_MIN((p)->tlen, 80), (p)->tok

static void next(struct cparse *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                             p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
    p->tok = p->s + p->pos;
    if (p->pos >= p->n) {
        p->tlen = 0;
        return;
    }
    char ch = p->s[p->pos];
    if (ch == '(' || ch == ')' || ch == '|') {
        p->tlen = 1;
        p->pos++;
        return;
    }
    size_t st = p->pos;
    while (p->pos < p->n && !strchr(" \t\r\n()|", p->s[p->pos]))
        p->pos++;
    p->tlen = p->pos - st;
}

static bool is(const struct cparse *p, const char *word)
{
    return p->tlen == strlen(word) && strncasecmp(p->tok, word, p->tlen) == 0;
}

static kb_err add_node(struct cparse *p, uint8_t op, uint32_t a, uint32_t n, uint32_t *out)
{
    if (p->nnodes >= SIGMA_MAX_COND_NODES)
        return CERR(p, "more than 512 nodes");
    if (p->nnodes == p->capnodes) {
        p->capnodes = p->capnodes ? p->capnodes * 2 : 16;
        p->nodes = kb_realloc(p->nodes, p->capnodes * sizeof *p->nodes);
    }
    p->nodes[p->nnodes] = (struct cnode){op, a, n};
    *out = p->nnodes++;
    return KB_OK;
}

/* An n-ary node over list[0..n) (one child: the child itself). */
static kb_err add_nary(struct cparse *p, uint8_t op, const uint32_t *list, uint32_t n,
                       uint32_t *out)
{
    if (n == 1) {
        *out = list[0];
        return KB_OK;
    }
    if (p->nkids + n > p->capkids) {
        p->capkids = (p->nkids + n) * 2;
        p->kids = kb_realloc(p->kids, p->capkids * sizeof *p->kids);
    }
    memcpy(p->kids + p->nkids, list, n * sizeof *list);
    p->nkids += n;
    return add_node(p, op, p->nkids - n, n, out);
}

static bool glob_name(const char *pat, size_t pn, const char *name)
{
    size_t nn = strlen(name), i = 0, j = 0, star_i = SIZE_MAX, star_j = 0;
    while (j < nn) {
        if (i < pn && pat[i] == '*') {
            star_i = i++;
            star_j = j;
        } else if (i < pn && pat[i] == name[j]) {
            i++;
            j++;
        } else if (star_i != SIZE_MAX) {
            i = star_i + 1;
            j = ++star_j;
        } else {
            return false;
        }
    }
    while (i < pn && pat[i] == '*')
        i++;
    return i == pn;
}

static kb_err parse_or(struct cparse *p, uint32_t *out);

static kb_err parse_quant(struct cparse *p, bool all, uint32_t *out)
{
    next(p); /* "of" */
    next(p);
    if (p->tlen == 0 || *p->tok == '(' || *p->tok == ')' || *p->tok == '|')
        return CERR(p, "'of' needs an identifier pattern or 'them'");
    bool them = is(p, "them");
    uint32_t *list = kb_malloc((p->r->nsels + 1) * sizeof *list), n = 0;
    for (uint32_t i = 0; i < p->r->nsels; i++) {
        const char *name = p->r->sels[i].name;
        if (them ? name[0] != '_' : glob_name(p->tok, p->tlen, name))
            list[n++] = i;
    }
    kb_err e = KB_OK;
    if (n == 0)
        e = CERR(p, "'%.*s' matches no identifier", TOK(p));
    uint32_t *sels = kb_malloc((n + 1) * sizeof *sels);
    for (uint32_t i = 0; !e && i < n; i++)
        e = add_node(p, C_SEL, list[i], 0, &sels[i]);
    if (!e)
        e = add_nary(p, all ? C_AND : C_OR, sels, n, out);
    free(list);
    free(sels);
    if (!e)
        next(p);
    return e;
}

static kb_err parse_primary(struct cparse *p, uint32_t *out)
{
    if (p->tlen == 0)
        return CERR(p, "unexpected end");
    if (*p->tok == '|')
        return CERR(p, "'|' aggregations are Sigma v1; use a correlation rule");
    if (*p->tok == ')')
        return CERR(p, "unexpected ')'");
    if (*p->tok == '(') {
        if (++p->depth > SIGMA_MAX_COND_DEPTH)
            return CERR(p, "nested deeper than 32");
        next(p);
        kb_err e = parse_or(p, out);
        if (e)
            return e;
        if (!(p->tlen == 1 && *p->tok == ')'))
            return CERR(p, "missing ')' before '%.*s'", 
                        (int)(p->tlen ? KB_MIN(p->tlen, 80) : 5), p->tlen ? p->tok : "(end)");
        p->depth--;
        next(p);
        return KB_OK;
    }
    if (is(p, "1") || is(p, "any") || is(p, "all")) {
        bool all = is(p, "all");
        size_t save = p->pos;
        const char *st = p->tok;
        size_t sl = p->tlen;
        next(p);
        if (is(p, "of")) {
            p->pos = save; /* parse_quant reads "of" again */
            p->tok = st;
            p->tlen = sl;
            return parse_quant(p, all, out);
        }
        p->pos = save;
        p->tok = st;
        p->tlen = sl;
    }
    if (is(p, "and") || is(p, "or") || is(p, "of") || is(p, "them"))
        return CERR(p, "unexpected '%.*s'", TOK(p));
    for (uint32_t i = 0; i < p->r->nsels; i++) {
        const char *name = p->r->sels[i].name;
        if (strlen(name) == p->tlen && memcmp(name, p->tok, p->tlen) == 0) {
            next(p);
            return add_node(p, C_SEL, i, 0, out);
        }
    }
    return CERR(p, "unknown identifier '%.*s'", TOK(p));
}

static kb_err parse_not(struct cparse *p, uint32_t *out)
{
    if (is(p, "not")) {
        if (++p->depth > SIGMA_MAX_COND_DEPTH)
            return CERR(p, "nested deeper than 32");
        next(p);
        uint32_t child;
        kb_err e = parse_not(p, &child);
        if (e)
            return e;
        p->depth--;
        return add_node(p, C_NOT, child, 0, out);
    }
    return parse_primary(p, out);
}

/* Parses `sub (word sub)*` into an n-ary node of op. */
static kb_err parse_list(struct cparse *p, const char *word, uint8_t op,
                         kb_err (*sub)(struct cparse *, uint32_t *), uint32_t *out)
{
    uint32_t *list = NULL, n = 0, cap = 0;
    kb_err e = KB_OK;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            list = kb_realloc(list, cap * sizeof *list);
        }
        if ((e = sub(p, &list[n])))
            break;
        n++;
        if (!is(p, word))
            break;
        next(p);
    }
    if (!e)
        e = add_nary(p, op, list, n, out);
    free(list);
    return e;
}

static kb_err parse_and(struct cparse *p, uint32_t *out)
{
    return parse_list(p, "and", C_AND, parse_not, out);
}

static kb_err parse_or(struct cparse *p, uint32_t *out)
{
    return parse_list(p, "or", C_OR, parse_and, out);
}

static kb_err parse_one(struct cparse *p, const yaml_node_t *n, uint32_t *out)
{
    struct kb_str s = rules_yaml_text(n);
    if (!s.p || !s.n)
        return sigma_err(p->c, n, "detection.condition", "expected a non-empty string");
    if (s.n > 4096)
        return sigma_err(p->c, n, "detection.condition", "longer than 4096 bytes");
    p->at = n;
    p->s = s.p;
    p->n = s.n;
    p->pos = 0;
    p->depth = 0;
    next(p);
    kb_err e = parse_or(p, out);
    if (!e && p->tlen == 1 && *p->tok == '|')
        e = CERR(p, "'|' aggregations are Sigma v1; use a correlation rule");
    else if (!e && p->tlen)
        e = CERR(p, "unexpected '%.*s'", TOK(p));
    return e;
}

kb_err sigma_compile_condition(struct sctx *c, yaml_node_t *cond, struct sigma_rule *r)
{
    struct cparse p = {.c = c, .r = r, .at = cond};
    kb_err e = KB_OK;
    uint32_t root = 0;
    if (cond->type == YAML_SEQUENCE_NODE) {
        size_t cnt = (size_t)(cond->data.sequence.items.top - cond->data.sequence.items.start);
        if (cnt == 0 || cnt > 64)
            return sigma_err(c, cond, "detection.condition", "expected 1 to 64 conditions");
        uint32_t roots[64];
        for (size_t i = 0; !e && i < cnt; i++)
            e = parse_one(&p, yaml_document_get_node(c->doc, cond->data.sequence.items.start[i]),
                          &roots[i]);
        if (!e)
            e = add_nary(&p, C_OR, roots, (uint32_t)cnt, &root);
    } else {
        e = parse_one(&p, cond, &root);
    }
    if (!e) {
        r->nodes = sigma_alloc(c, p.nnodes * sizeof *r->nodes);
        r->kids = sigma_alloc(c, (p.nkids + 1) * sizeof *r->kids);
        if (!r->nodes || !r->kids) {
            e = sigma_err(c, cond, "detection.condition", "the ruleset is too big");
        } else {
            memcpy(r->nodes, p.nodes, p.nnodes * sizeof *r->nodes);
            if (p.nkids)
                memcpy(r->kids, p.kids, p.nkids * sizeof *r->kids);
            r->root = root;
        }
    }
    free(p.nodes);
    free(p.kids);
    return e;
}
