/*
 * sigma_explain.c — a readable trace of one rule on one event (see
 * sigma_explain.h).
 *
 * Each field, alternative and selection is evaluated by sigma_eval on a
 * one-selection copy of the rule that shares the compiled values, so the
 * verdict shown is the engine's own. The YAML of the rule is read again
 * only to show keys and values as written; its shape is matched to the
 * compiled one in the order sigma_detect.c compiles it (a mapping is one
 * alternative with its pairs in order; in a list, mappings are
 * alternatives in order and plain strings one keyword alternative, last),
 * and counts are checked before it is used.
 */
#include "rules/sigma_explain.h"

#include "rules/rules_field.h"
#include "rules/rules_yaml.h"
#include "rules/sigma_impl.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>

struct ectx {
    const struct sigma_rule *r;
    const struct sigma_event *ev;
    const char *indent;
    struct buf *out;
    kb_err err;              /* first append error, sticky */
    yaml_document_t doc;     /* the rule's document, when found */
    bool have_doc;
    yaml_node_t *det;        /* its detection mapping */
};

static void put(struct ectx *x, const char *s, size_t n)
{
    if (!x->err)
        x->err = buf_append(x->out, s, n);
}

static void puts_(struct ectx *x, const char *s)
{
    put(x, s, strlen(s));
}

static void putf(struct ectx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct ectx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!x->err)
        x->err = buf_vprintf(x->out, fmt, ap);
    va_end(ap);
}

static void line_start(struct ectx *x, int level)
{
    if (x->indent)
        puts_(x, x->indent);
    for (int i = 0; i < level; i++)
        puts_(x, "  ");
}

/* s[0..n) quoted, control bytes escaped, cut to SIGMA_EXPLAIN_MAX_TEXT. */
static void put_q(struct ectx *x, const char *s, size_t n)
{
    size_t m = KB_MIN(n, (size_t)SIGMA_EXPLAIN_MAX_TEXT);
    puts_(x, "\"");
    for (size_t i = 0; i < m; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            putf(x, "\\%c", c);
        else if (c == '\n')
            puts_(x, "\\n");
        else if (c == '\t')
            puts_(x, "\\t");
        else if (c < 0x20 || c == 0x7f)
            putf(x, "\\x%02x", c);
        else
            put(x, s + i, 1);
    }
    puts_(x, m < n ? "\"..." : "\"");
}

/* ---- values found in the event ---- */

static void put_value(struct ectx *x, const struct json_value *v, int depth)
{
    const struct sigma_event *ev = x->ev;
    switch (v->type) {
    case JSON_STRING:
        put_q(x, v->u.str, v->len);
        break;
    case JSON_NUMBER:
        if (ev->text && v->src_len && (size_t)v->src_off + v->src_len <= ev->len)
            put(x, ev->text + v->src_off, v->src_len);
        else if (v->flags & JSON_F_INT)
            putf(x, "%lld", (long long)v->i);
        else
            putf(x, "%.17g", v->d);
        break;
    case JSON_TRUE: puts_(x, "true"); break;
    case JSON_FALSE: puts_(x, "false"); break;
    case JSON_NULL: puts_(x, "null"); break;
    case JSON_OBJECT: putf(x, "{an object of %u members}", v->len); break;
    default: {
        puts_(x, "[");
        unsigned i = 0;
        for (const struct json_value *e = v->u.child; e; e = e->next, i++) {
            if (i == SIGMA_EXPLAIN_MAX_VALUES || depth > 2) {
                putf(x, "%s... %u more", i ? ", " : "", v->len - i);
                break;
            }
            if (i)
                puts_(x, ", ");
            put_value(x, e, depth + 1);
        }
        puts_(x, "]");
    }
    }
}

/* Values a dotted path reaches through arrays (the engine tries them all). */
static void collect(const struct json_value *v, const char *p, const char *end,
                    const struct json_value **vals, unsigned *n)
{
    if (*n >= SIGMA_EXPLAIN_MAX_VALUES)
        return;
    if (p >= end) {
        vals[(*n)++] = v;
        return;
    }
    const char *dot = memchr(p, '.', (size_t)(end - p));
    size_t len = dot ? (size_t)(dot - p) : (size_t)(end - p);
    const char *rest = dot ? dot + 1 : end;
    if (v->type == JSON_OBJECT) {
        const struct json_value *c = json_getn(v, p, len);
        if (c)
            collect(c, rest, end, vals, n);
    } else if (v->type == JSON_ARRAY) {
        for (const struct json_value *e = v->u.child; e; e = e->next)
            collect(e, p, end, vals, n);
    }
}

static void put_found(struct ectx *x, const struct sitem *it)
{
    const struct json_value *root = x->ev->root;
    if (!it->field) {
        puts_(x, "found (keywords: any value of the event)");
        return;
    }
    const struct json_value *v = rules_field(root, it->field, it->field_n);
    bool via_alt = false;
    if (!v && it->alt) {
        v = rules_field(root, it->alt, it->alt_n);
        via_alt = v != NULL;
    }
    puts_(x, "found ");
    if (v) {
        put_value(x, v, 0);
        if (via_alt)
            putf(x, " (as %.*s)", (int)it->alt_n, it->alt);
        return;
    }
    const struct json_value *vals[SIGMA_EXPLAIN_MAX_VALUES];
    unsigned n = 0;
    if (root) {
        collect(root, it->field, it->field + it->field_n, vals, &n);
        if (!n && it->alt)
            collect(root, it->alt, it->alt + it->alt_n, vals, &n);
    }
    if (!n) {
        puts_(x, "nothing (the field is absent)");
        return;
    }
    puts_(x, "through lists: ");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            puts_(x, ", ");
        put_value(x, vals[i], 1);
    }
}

/* ---- values wanted ---- */

/* As written in the rule file: a scalar or each scalar of a list. */
static void put_yaml_values(struct ectx *x, const yaml_node_t *v, bool scalars_only)
{
    if (v && v->type == YAML_SCALAR_NODE) {
        struct kb_str s = rules_yaml_text(v);
        if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            rules_yaml_type(v, NULL, NULL, NULL) != RY_STRING)
            put(x, s.p, s.n); /* null, true, 42: not strings */
        else
            put_q(x, s.p, s.n);
        return;
    }
    if (!v || v->type != YAML_SEQUENCE_NODE) {
        puts_(x, "(not a value)");
        return;
    }
    unsigned shown = 0, total = 0;
    for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
         i++) {
        yaml_node_t *e = yaml_document_get_node(&x->doc, *i);
        if (scalars_only && (!e || e->type != YAML_SCALAR_NODE))
            continue;
        total++;
        if (shown == SIGMA_EXPLAIN_MAX_VALUES)
            continue;
        if (shown++)
            puts_(x, ", ");
        put_yaml_values(x, e, false);
    }
    if (total > shown)
        putf(x, " and %u more", total - shown);
}

/* From the compiled values, when the YAML is not at hand. */
static void put_sv(struct ectx *x, const struct sv *v)
{
    static const char *const hows[] = {"", "startswith ", "endswith ", "contains ", ""};
    static const char *const ops[] = {"=", "<", "<=", ">", ">="};
    static const char *const parts[] = {"minute", "hour", "day", "week", "month", "year"};
    switch (v->kind) {
    case SV_STR:
        puts_(x, hows[v->how < 5 ? v->how : 0]);
        if (v->how != H_GLOB) {
            put_q(x, v->s, v->n);
            break;
        }
        puts_(x, "\"");
        for (uint32_t i = 0; i < v->nsegs; i++) {
            if (v->segs[i].type == G_LIT)
                put(x, v->segs[i].s, v->segs[i].n);
            else
                puts_(x, v->segs[i].type == G_STAR ? "*" : "?");
        }
        puts_(x, "\"");
        break;
    case SV_NUM: put(x, v->s, v->n); break;
    case SV_BOOL: puts_(x, v->b ? "true" : "false"); break;
    case SV_NULL: puts_(x, "null"); break;
    case SV_EXISTS: puts_(x, v->b ? "present" : "absent"); break;
    case SV_RE: puts_(x, "(a regular expression)"); break;
    case SV_CIDR: {
        char a[INET6_ADDRSTRLEN] = "?";
        inet_ntop(v->fam == 4 ? AF_INET : AF_INET6, v->addr, a, sizeof a);
        putf(x, "%s/%u", a, v->bits);
        break;
    }
    case SV_CMP: putf(x, "%s %g", ops[v->op < 5 ? v->op : 0], v->num); break;
    case SV_TIME:
        putf(x, "%s %s %g", parts[v->part < 6 ? v->part : 0], ops[v->op < 5 ? v->op : 0], v->num);
        break;
    default: putf(x, "the value of field %.*s", (int)v->n, v->s); break;
    }
}

static void put_compiled(struct ectx *x, const struct sitem *it)
{
    if (it->all)
        puts_(x, "all of ");
    if (it->neq)
        puts_(x, "none of ");
    uint32_t shown = KB_MIN(it->nvals, (uint32_t)SIGMA_EXPLAIN_MAX_VALUES);
    for (uint32_t i = 0; i < shown; i++) {
        if (i)
            puts_(x, ", ");
        put_sv(x, &it->vals[i]);
    }
    if (it->nvals > shown)
        putf(x, " and %u more", it->nvals - shown);
}

/* ---- evaluation with the engine ---- */

/* The const casts are safe: sigma_eval reads the selections only. */
static bool eval_alts(const struct ectx *x, const char *name, const struct salt *alts, uint32_t n)
{
    struct ssel sel = {.name = name, .alts = (struct salt *)alts, .n = n};
    struct cnode node = {.op = C_SEL, .a = 0};
    struct sigma_rule one = *x->r;
    one.sels = &sel;
    one.nsels = 1;
    one.nodes = &node;
    one.kids = NULL;
    one.root = 0;
    bool limited = false;
    return sigma_eval(&one, x->ev, &limited);
}

static bool eval_item(const struct ectx *x, const char *name, const struct sitem *it)
{
    struct salt alt = {.items = (struct sitem *)it, .n = 1};
    return eval_alts(x, name, &alt, 1);
}

/* ---- the YAML of the rule ---- */

static void load_yaml(struct ectx *x)
{
    const char *file = x->r->file;
    FILE *f = file ? fopen(file, "rb") : NULL;
    if (!f)
        return;
    struct stat st;
    size_t want = fstat(fileno(f), &st) == 0 && st.st_size > 0
                      ? (size_t)KB_MIN((uint64_t)st.st_size, (uint64_t)SIGMA_MAX_FILE_BYTES)
                      : 0;
    char *text = kb_malloc(want + 2);
    size_t n = fread(text, 1, want + 1, f);
    fclose(f);
    yaml_parser_t p;
    if (n > SIGMA_MAX_FILE_BYTES || !yaml_parser_initialize(&p)) {
        free(text);
        return;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, n);
    for (unsigned docs = 0; docs < SIGMA_MAX_DOCS && !x->have_doc; docs++) {
        if (!yaml_parser_load(&p, &x->doc))
            break;
        yaml_node_t *root = yaml_document_get_root_node(&x->doc);
        if (!root) {
            yaml_document_delete(&x->doc);
            break;
        }
        yaml_node_t *det = rules_yaml_get(&x->doc, root, "detection");
        if (rules_yaml_line(root) == x->r->line && det && det->type == YAML_MAPPING_NODE) {
            x->have_doc = true;
            x->det = det;
        } else {
            yaml_document_delete(&x->doc);
        }
    }
    yaml_parser_delete(&p);
    free(text); /* the document holds its own copies of every scalar */
}

/* The YAML node of alternative a of a selection whose node is sel, and
 * whether it is the keyword list (scalars of sel). NULL when the shapes
 * differ from the compiled selection. */
static yaml_node_t *yaml_alt(struct ectx *x, yaml_node_t *sel, const struct ssel *s, uint32_t a,
                             bool *keywords)
{
    *keywords = false;
    if (!sel)
        return NULL;
    if (sel->type == YAML_MAPPING_NODE || sel->type == YAML_SCALAR_NODE) {
        *keywords = sel->type == YAML_SCALAR_NODE;
        return s->n == 1 && a == 0 ? sel : NULL;
    }
    if (sel->type != YAML_SEQUENCE_NODE)
        return NULL;
    uint32_t maps = 0;
    bool scalars = false;
    yaml_node_t *found = NULL;
    for (yaml_node_item_t *i = sel->data.sequence.items.start; i < sel->data.sequence.items.top;
         i++) {
        yaml_node_t *e = yaml_document_get_node(&x->doc, *i);
        if (e && e->type == YAML_MAPPING_NODE && maps++ == a)
            found = e;
        scalars = scalars || (e && e->type == YAML_SCALAR_NODE);
    }
    if (maps + (scalars ? 1 : 0) != s->n)
        return NULL;
    if (!found && scalars && a == maps) {
        *keywords = true;
        return sel;
    }
    return found;
}

/* ---- the trace ---- */

static void explain_item(struct ectx *x, const struct ssel *s, const struct sitem *it,
                         yaml_node_t *key, yaml_node_t *val, bool keywords, int level)
{
    bool hit = eval_item(x, s->name, it);
    line_start(x, level);
    puts_(x, hit ? "yes  " : "no   ");
    if (key) {
        struct kb_str k = rules_yaml_text(key);
        put(x, k.p, k.n);
    } else if (keywords || !it->field) {
        puts_(x, "keywords");
    } else {
        put(x, it->field, it->field_n);
    }
    puts_(x, ": ");
    put_found(x, it);
    puts_(x, "; wanted ");
    if (val)
        put_yaml_values(x, val, keywords);
    else
        put_compiled(x, it);
    puts_(x, "\n");
}

static void explain_alt(struct ectx *x, const struct ssel *s, const struct salt *alt,
                        yaml_node_t *yalt, bool keywords, int level)
{
    bool pairs_ok = yalt && !keywords && yalt->type == YAML_MAPPING_NODE &&
                    (uint32_t)(yalt->data.mapping.pairs.top - yalt->data.mapping.pairs.start) ==
                        alt->n;
    for (uint32_t i = 0; i < alt->n; i++) {
        yaml_node_t *key = NULL, *val = NULL;
        if (pairs_ok) {
            yaml_node_pair_t *p = &yalt->data.mapping.pairs.start[i];
            key = yaml_document_get_node(&x->doc, p->key);
            val = yaml_document_get_node(&x->doc, p->value);
        } else if (yalt && keywords && alt->n == 1) {
            val = yalt;
        }
        explain_item(x, s, &alt->items[i], key, val, keywords && val, level);
    }
}

static void explain_sel(struct ectx *x, const struct ssel *s)
{
    bool hit = eval_alts(x, s->name, s->alts, s->n);
    yaml_node_t *ysel = x->have_doc ? rules_yaml_get(&x->doc, x->det, s->name) : NULL;
    line_start(x, 0);
    putf(x, "%s: %s", s->name, hit ? "match" : "no match");
    if (s->n > 1)
        putf(x, " (any of %u alternatives)", s->n);
    puts_(x, "\n");
    for (uint32_t a = 0; a < s->n; a++) {
        bool keywords = false;
        yaml_node_t *yalt = yaml_alt(x, ysel, s, a, &keywords);
        if (s->n > 1) {
            line_start(x, 1);
            putf(x, "alternative %u: %s\n", a + 1,
                 eval_alts(x, s->name, &s->alts[a], 1) ? "match" : "no match");
        }
        explain_alt(x, s, &s->alts[a], yalt, keywords, s->n > 1 ? 2 : 1);
    }
}

static void put_cond(struct ectx *x, uint32_t idx, uint8_t parent, unsigned depth)
{
    const struct sigma_rule *r = x->r;
    const struct cnode *n = &r->nodes[idx];
    if (depth > SIGMA_MAX_COND_DEPTH * 4) {
        puts_(x, "...");
        return;
    }
    switch (n->op) {
    case C_SEL:
        puts_(x, r->sels[n->a].name);
        return;
    case C_NOT:
        puts_(x, "not ");
        put_cond(x, n->a, C_NOT, depth + 1);
        return;
    default: {
        bool paren = parent != C_SEL && n->n > 1;
        if (paren)
            puts_(x, "(");
        for (uint32_t i = 0; i < n->n; i++) {
            if (i)
                puts_(x, n->op == C_AND ? " and " : " or ");
            put_cond(x, r->kids[n->a + i], n->op, depth + 1);
        }
        if (paren)
            puts_(x, ")");
    }
    }
}

kb_err sigma_explain(const struct sigma_rule *r, const struct sigma_event *ev,
                     const char *indent, struct buf *out, bool *matched)
{
    struct ectx x = {.r = r, .ev = ev, .indent = indent, .out = out};
    load_yaml(&x);
    for (uint32_t i = 0; i < r->nsels; i++)
        explain_sel(&x, &r->sels[i]);
    bool limited = false;
    *matched = sigma_eval(r, ev, &limited);
    line_start(&x, 0);
    puts_(&x, "condition: ");
    put_cond(&x, r->root, C_SEL, 0);
    putf(&x, " -> %s%s\n", *matched ? "match" : "no match",
         limited ? " (a regular expression hit its PCRE2 limit and counted as no match)" : "");
    if (x.have_doc)
        yaml_document_delete(&x.doc);
    return x.err;
}
