/*
 * sigma_detect.c — compiling a rule's `detection:` mapping: selections,
 * field keys with their modifiers, and values (see sigma_impl.h for the
 * shape). The condition itself is compiled by sigma_cond.c.
 *
 * Modifier pipeline for one string value, in this order:
 *   expand (placeholders) -> windash (variants) -> for encodings: unescape,
 *   utf16le, utf16be, utf16 or wide, then base64 or base64offset (results are literal and cased) ->
 *   contains/startswith/endswith -> wildcard pattern.
 */
#include "rules/rules_yaml.h"
#include "rules/sigma_impl.h"

#include <stdio.h>
#include <stdlib.h>

struct mods {
    int pos;    /* 0 or H_PREFIX, H_SUFFIX, H_CONTAINS */
    int utf16;  /* -1 none; 0 le (utf16le, wide), 1 be, 2 with BOM */
    int op;     /* -1 none; enum sv_op */
    int part;   /* -1 none; enum sv_part */
    bool all, cased, exists, neq, windash, re, re_i, re_m, re_s, b64, b64off, cidr, expand,
        fieldref;
};

/* Builds the error key "detection.SEL.FIELD|MODS". */
struct ictx {
    struct sctx *c;
    char key[256];
    const yaml_node_t *at;
};

static kb_err parse_mods(struct ictx *x, const char *mods, size_t n, struct mods *m)
{
    static const char *const parts[] = {"minute", "hour", "day", "week", "month", "year"};
    static const char *const ops[] = {"lt", "lte", "gt", "gte"};
    *m = (struct mods){.utf16 = -1, .op = -1, .part = -1};
    const char *p = mods, *end = mods + n;
    while (p < end) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        size_t l = bar ? (size_t)(bar - p) : (size_t)(end - p);
        char w[24];
        if (l == 0 || l >= sizeof w)
            return sigma_err(x->c, x->at, x->key, "unknown modifier '%.*s'", (int)KB_MIN(l, 40),
                             p);
        memcpy(w, p, l);
        w[l] = '\0';
        int pos = !strcmp(w, "contains") ? H_CONTAINS : !strcmp(w, "startswith") ? H_PREFIX
                                                      : !strcmp(w, "endswith")   ? H_SUFFIX
                                                                                 : 0;
        int utf = !strcmp(w, "utf16le") || !strcmp(w, "wide") ? 0 : !strcmp(w, "utf16be") ? 1
                                                               : !strcmp(w, "utf16")     ? 2
                                                                                         : -1;
        int op = -1, part = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(w, ops[i]))
                op = OP_LT + i;
        for (int i = 0; i < 6; i++)
            if (!strcmp(w, parts[i]))
                part = i;
        bool *flag = !strcmp(w, "all")            ? &m->all
                     : !strcmp(w, "cased")        ? &m->cased
                     : !strcmp(w, "exists")       ? &m->exists
                     : !strcmp(w, "neq")          ? &m->neq
                     : !strcmp(w, "windash")      ? &m->windash
                     : !strcmp(w, "re")           ? &m->re
                     : !strcmp(w, "i")            ? &m->re_i
                     : !strcmp(w, "m")            ? &m->re_m
                     : !strcmp(w, "s")            ? &m->re_s
                     : !strcmp(w, "base64")       ? &m->b64
                     : !strcmp(w, "base64offset") ? &m->b64off
                     : !strcmp(w, "cidr")         ? &m->cidr
                     : !strcmp(w, "expand")       ? &m->expand
                     : !strcmp(w, "fieldref")     ? &m->fieldref
                                                  : NULL;
        if (pos) {
            if (m->pos)
                return sigma_err(x->c, x->at, x->key, "'%s' after another of contains, "
                                 "startswith, endswith", w);
            m->pos = pos;
        } else if (utf >= 0) {
            if (m->utf16 >= 0)
                return sigma_err(x->c, x->at, x->key, "two UTF-16 modifiers");
            m->utf16 = utf;
        } else if (op >= 0) {
            if (m->op >= 0)
                return sigma_err(x->c, x->at, x->key, "two of lt, lte, gt, gte");
            m->op = op;
        } else if (part >= 0) {
            if (m->part >= 0)
                return sigma_err(x->c, x->at, x->key, "two time-part modifiers");
            m->part = part;
        } else if (flag) {
            *flag = true;
        } else {
            return sigma_err(x->c, x->at, x->key, "unknown modifier '%s'", w);
        }
        p = bar ? bar + 1 : end;
    }
    /* combinations that have no meaning */
    bool enc = m->b64 || m->b64off || m->utf16 >= 0;
    if ((m->re_i || m->re_m || m->re_s) && !m->re)
        return sigma_err(x->c, x->at, x->key, "i, m and s only go with re");
    if (m->b64 && m->b64off)
        return sigma_err(x->c, x->at, x->key, "base64 and base64offset together");
    if (m->exists && (m->pos || enc || m->re || m->cidr || m->op >= 0 || m->part >= 0 ||
                      m->windash || m->fieldref || m->neq))
        return sigma_err(x->c, x->at, x->key, "exists takes no other modifier");
    if (m->re && (m->pos || enc || m->cidr || m->op >= 0 || m->part >= 0 || m->windash ||
                  m->fieldref || m->expand))
        return sigma_err(x->c, x->at, x->key, "re cannot be combined with a string, number or "
                         "IP modifier");
    if (m->cidr && (m->pos || enc || m->op >= 0 || m->part >= 0 || m->windash || m->fieldref))
        return sigma_err(x->c, x->at, x->key, "cidr cannot be combined with string or number "
                         "modifiers");
    if ((m->op >= 0 || m->part >= 0) && (m->pos || enc || m->windash || m->fieldref))
        return sigma_err(x->c, x->at, x->key, "numeric and time modifiers take numbers");
    if (m->fieldref && (enc || m->windash))
        return sigma_err(x->c, x->at, x->key, "fieldref takes a field name, not an encoded "
                         "value");
    return KB_OK;
}

/* A growable array of compiled values for one item. */
struct svvec {
    struct sv *v;
    size_t len, cap;
};

static struct sv *svvec_add(struct svvec *a, uint32_t group)
{
    if (a->len == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 8;
        a->v = kb_realloc(a->v, a->cap * sizeof *a->v);
    }
    struct sv *v = &a->v[a->len++];
    memset(v, 0, sizeof *v);
    v->group = group;
    return v;
}

static kb_err compile_re(struct ictx *x, struct sv *v, struct kb_str s, const struct mods *m)
{
    uint32_t opts = PCRE2_UTF | (m->re_i ? PCRE2_CASELESS : 0) |
                    (m->re_m ? PCRE2_MULTILINE : 0) | (m->re_s ? PCRE2_DOTALL : 0);
    int errc = 0;
    PCRE2_SIZE off = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)s.p, s.n, opts, &errc, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(errc, msg, sizeof msg);
        return sigma_err(x->c, x->at, x->key, "bad regular expression at offset %zu: %s",
                         (size_t)off, (const char *)msg);
    }
    sigma_keep_code(x->c, re);
    v->kind = SV_RE;
    v->re = re;
    /* a literal every match holds: the indexed path checks it before PCRE2 */
    char lit[128];
    size_t ln = 0;
    sv_re_literal(s.p, s.n, m->re_i, lit, sizeof lit, &ln);
    if (ln >= 3 && (v->re_lit = sigma_strndup(x->c, lit, ln)))
        v->re_lit_n = (uint32_t)ln;
    return KB_OK;
}

/* Compiles one YAML value (group g) into one or more struct sv. */
static kb_err compile_value(struct ictx *x, yaml_node_t *val, const struct mods *m, bool keyword,
                            uint32_t g, struct svvec *out)
{
    struct sctx *c = x->c;
    x->at = val;
    if (!val || val->type != YAML_SCALAR_NODE)
        return sigma_err(c, val, x->key, "expected a value or a list of values");
    bool b = false;
    int64_t iv = 0;
    double dv = 0;
    enum rules_yaml_type t = rules_yaml_type(val, &b, &iv, &dv);
    struct kb_str s = rules_yaml_text(val);
    bool strmods = m->pos || m->windash || m->b64 || m->b64off || m->utf16 >= 0 || m->expand ||
                   m->cased;
    if (s.n > SIGMA_MAX_TEXT)
        return sigma_err(c, val, x->key, "value longer than %u bytes", SIGMA_MAX_TEXT);
    if (m->exists) {
        if (t != RY_BOOL)
            return sigma_err(c, val, x->key, "exists takes true or false");
        struct sv *v = svvec_add(out, g);
        v->kind = SV_EXISTS;
        v->b = b;
        return KB_OK;
    }
    if (t == RY_NULL && keyword)
        return sigma_err(c, val, x->key, "a keyword cannot be null");
    if (t == RY_NULL) {
        if (strmods || m->re || m->cidr || m->op >= 0 || m->part >= 0 || m->fieldref)
            return sigma_err(c, val, x->key, "null takes no modifier but neq");
        svvec_add(out, g)->kind = SV_NULL;
        return KB_OK;
    }
    if (m->op >= 0 || m->part >= 0) {
        if (t != RY_INT && t != RY_FLOAT) {
            char *end = NULL;
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%.*s", (int)KB_MIN(s.n, 63), s.p);
            dv = strtod(tmp, &end);
            if (!s.n || s.n > 63 || *end)
                return sigma_err(c, val, x->key, "'%.*s' is not a number", (int)KB_MIN(s.n, 60),
                                 s.p);
        }
        struct sv *v = svvec_add(out, g);
        v->kind = m->part >= 0 ? SV_TIME : SV_CMP;
        v->op = (uint8_t)(m->op >= 0 ? m->op : OP_EQ);
        v->part = (uint8_t)(m->part >= 0 ? m->part : 0);
        v->num = dv;
        return KB_OK;
    }
    if (m->cidr) {
        struct sv *v = svvec_add(out, g);
        if (!sv_parse_cidr(v, s.p, s.n))
            return sigma_err(c, val, x->key, "'%.*s' is not an IPv4 or IPv6 CIDR",
                             (int)KB_MIN(s.n, 60), s.p);
        return KB_OK;
    }
    if (m->re)
        return compile_re(x, svvec_add(out, g), s, m);
    if (m->fieldref) {
        struct sv *v = svvec_add(out, g);
        v->kind = SV_FIELDREF;
        v->how = (uint8_t)m->pos;
        v->cased = m->cased;
        v->s = sigma_strndup(c, s.p, s.n);
        v->n = (uint32_t)s.n;
        v->alt = sigma_rs_field(c, s.p, s.n, &v->alt_n);
        if (!v->s || !s.n)
            return sigma_err(c, val, x->key, "fieldref needs a field name");
        return KB_OK;
    }
    if (!keyword && !strmods && (t == RY_INT || t == RY_FLOAT || t == RY_BOOL)) {
        struct sv *v = svvec_add(out, g);
        v->kind = t == RY_BOOL ? SV_BOOL : SV_NUM;
        v->b = b;
        v->num = dv;
        v->s = sigma_strndup(c, s.p, s.n);
        v->n = (uint32_t)s.n;
        return KB_OK;
    }
    /* the string pipeline */
    struct strvec a = {0}, tmp = {0};
    kb_err e = KB_OK;
    strvec_push(&a, s.p, s.n);
    if (m->expand) {
        e = sv_expand(c, val, x->key, &a, &tmp);
        strvec_release(&a);
        a = tmp;
        memset(&tmp, 0, sizeof tmp);
    }
    if (!e && m->windash) {
        sv_windash(&a, &tmp);
        strvec_release(&a);
        a = tmp;
        memset(&tmp, 0, sizeof tmp);
    }
    bool literal = m->b64 || m->b64off || m->utf16 >= 0;
    if (!e && literal) {
        for (size_t i = 0; i < a.len; i++)
            sv_unescape(a.s[i], a.n[i], &tmp);
        strvec_release(&a);
        a = tmp;
        memset(&tmp, 0, sizeof tmp);
        if (m->utf16 >= 0) {
            sv_utf16(&a, m->utf16, &tmp);
            strvec_release(&a);
            a = tmp;
            memset(&tmp, 0, sizeof tmp);
        }
        if (m->b64 || m->b64off) {
            sv_base64(&a, m->b64off, &tmp);
            strvec_release(&a);
            a = tmp;
            memset(&tmp, 0, sizeof tmp);
        }
    }
    if (!e && a.len > SIGMA_MAX_VARIANTS)
        e = sigma_err(c, val, x->key, "expands to more than %u values", SIGMA_MAX_VARIANTS);
    /* base64 text is case-significant: encoded values always match cased */
    bool cased = m->cased || m->b64 || m->b64off;
    int pos = m->pos ? m->pos : keyword ? H_CONTAINS : 0;
    for (size_t i = 0; !e && i < a.len; i++)
        e = sv_pattern(c, svvec_add(out, g), a.s[i], a.n[i], literal, pos, cased);
    strvec_release(&a);
    return e;
}

/* One `key: value(s)` pair (key NULL: a keyword list). */
static kb_err compile_item(struct sctx *c, const char *sel, struct kb_str key, yaml_node_t *val,
                           struct sitem *it)
{
    struct ictx x = {.c = c, .at = val};
    snprintf(x.key, sizeof x.key, "detection.%s%s%.*s", sel, key.p ? "." : "",
             key.p ? (int)KB_MIN(key.n, 200) : 0, key.p ? key.p : "");
    const char *bar = key.p ? memchr(key.p, '|', key.n) : NULL;
    size_t fn = key.p ? (bar ? (size_t)(bar - key.p) : key.n) : 0;
    struct mods m;
    kb_err e = parse_mods(&x, bar ? bar + 1 : "", bar ? key.n - fn - 1 : 0, &m);
    if (e)
        return e;
    bool keyword = fn == 0;
    if (keyword && (m.exists || m.re || m.cidr || m.op >= 0 || m.part >= 0 || m.fieldref))
        return sigma_err(c, val, x.key, "a keyword (no field name) takes only string modifiers");
    if (fn) {
        if (!(it->field = sigma_strndup(c, key.p, fn)))
            return sigma_err(c, val, x.key, "the ruleset is too big");
        it->field_n = (uint32_t)fn;
        it->alt = sigma_rs_field(c, key.p, fn, &it->alt_n);
    }
    it->all = m.all;
    it->neq = m.neq;
    struct svvec vals = {0};
    uint32_t g = 0;
    if (val && val->type == YAML_SEQUENCE_NODE) {
        size_t cnt = (size_t)(val->data.sequence.items.top - val->data.sequence.items.start);
        if (cnt == 0)
            e = sigma_err(c, val, x.key, "empty list of values");
        for (size_t i = 0; !e && i < cnt; i++) {
            yaml_node_t *v = yaml_document_get_node(c->doc, val->data.sequence.items.start[i]);
            e = compile_value(&x, v, &m, keyword, g++, &vals);
        }
    } else {
        e = compile_value(&x, val, &m, keyword, g++, &vals);
    }
    c->nvalues += (uint32_t)vals.len + 1;
    if (!e && c->nvalues > SIGMA_MAX_VALUES)
        e = sigma_err(c, val, x.key, "the rule has more than %u values", SIGMA_MAX_VALUES);
    if (!e) {
        it->vals = sigma_alloc(c, vals.len * sizeof *it->vals);
        if (!it->vals)
            e = sigma_err(c, val, x.key, "the ruleset is too big");
        else if (vals.len)
            memcpy(it->vals, vals.v, vals.len * sizeof *it->vals);
        it->nvals = (uint32_t)vals.len;
        it->ngroups = g;
    }
    free(vals.v);
    return e;
}

static kb_err compile_map(struct sctx *c, const char *sel, yaml_node_t *map, struct salt *alt)
{
    size_t cnt = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    if (cnt == 0)
        return sigma_err(c, map, sel, "empty selection");
    if (cnt > SIGMA_MAX_VALUES)
        return sigma_err(c, map, sel, "too many fields");
    if (!(alt->items = sigma_alloc(c, cnt * sizeof *alt->items)))
        return sigma_err(c, map, sel, "the ruleset is too big");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        struct kb_str ks = rules_yaml_text(k);
        if (!ks.p)
            return sigma_err(c, k, sel, "a field name must be a string");
        kb_err e = compile_item(c, sel, ks, v, &alt->items[alt->n]);
        if (e)
            return e;
        alt->n++;
    }
    return KB_OK;
}

static kb_err compile_selection(struct sctx *c, const char *name, yaml_node_t *v, struct ssel *s)
{
    char key[160];
    snprintf(key, sizeof key, "detection.%s", name);
    s->name = name;
    if (v && v->type == YAML_MAPPING_NODE) {
        if (!(s->alts = sigma_alloc(c, sizeof *s->alts)))
            return sigma_err(c, v, key, "the ruleset is too big");
        s->n = 1;
        return compile_map(c, name, v, &s->alts[0]);
    }
    if (v && v->type == YAML_SCALAR_NODE) {
        if (rules_yaml_type(v, NULL, NULL, NULL) == RY_NULL)
            return sigma_err(c, v, key, "empty selection");
        if (!(s->alts = sigma_alloc(c, sizeof *s->alts)) ||
            !(s->alts[0].items = sigma_alloc(c, sizeof *s->alts[0].items)))
            return sigma_err(c, v, key, "the ruleset is too big");
        s->n = 1;
        s->alts[0].n = 1;
        return compile_item(c, name, KB_STR_NULL, v, &s->alts[0].items[0]);
    }
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return sigma_err(c, v, key, "expected a mapping, a list or a keyword");
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (cnt == 0)
        return sigma_err(c, v, key, "empty selection");
    if (cnt > SIGMA_MAX_VALUES || !(s->alts = sigma_alloc(c, (cnt + 1) * sizeof *s->alts)))
        return sigma_err(c, v, key, "too many entries");
    /* maps each become one alternative; plain strings are keywords, all
     * in one keyword item (OR) */
    bool keywords = false;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *e = yaml_document_get_node(c->doc, v->data.sequence.items.start[i]);
        if (e && e->type == YAML_MAPPING_NODE) {
            kb_err err = compile_map(c, name, e, &s->alts[s->n++]);
            if (err)
                return err;
        } else if (e && e->type == YAML_SCALAR_NODE) {
            keywords = true;
        } else {
            return sigma_err(c, e, key, "a list entry must be a mapping or a keyword");
        }
    }
    if (keywords) {
        /* compile_item takes a node: build the list of scalars as the
         * sequence itself, skipping the maps */
        struct salt *alt = &s->alts[s->n++];
        if (!(alt->items = sigma_alloc(c, sizeof *alt->items)))
            return sigma_err(c, v, key, "the ruleset is too big");
        alt->n = 1;
        struct ictx x = {.c = c, .at = v};
        snprintf(x.key, sizeof x.key, "%s", key);
        struct mods m = {.utf16 = -1, .op = -1, .part = -1};
        struct svvec vals = {0};
        uint32_t g = 0;
        kb_err err = KB_OK;
        for (size_t i = 0; !err && i < cnt; i++) {
            yaml_node_t *e = yaml_document_get_node(c->doc, v->data.sequence.items.start[i]);
            if (e->type == YAML_SCALAR_NODE)
                err = compile_value(&x, e, &m, true, g++, &vals);
        }
        c->nvalues += (uint32_t)vals.len;
        if (!err && c->nvalues > SIGMA_MAX_VALUES)
            err = sigma_err(c, v, key, "the rule has more than %u values", SIGMA_MAX_VALUES);
        struct sitem *it = &alt->items[0];
        if (!err && !(it->vals = sigma_alloc(c, vals.len * sizeof *it->vals)))
            err = sigma_err(c, v, key, "the ruleset is too big");
        if (!err) {
            memcpy(it->vals, vals.v, vals.len * sizeof *it->vals);
            it->nvals = (uint32_t)vals.len;
            it->ngroups = g;
        }
        free(vals.v);
        return err;
    }
    return KB_OK;
}

kb_err sigma_compile_detection(struct sctx *c, yaml_node_t *det, struct sigma_rule *r)
{
    size_t cnt = (size_t)(det->data.mapping.pairs.top - det->data.mapping.pairs.start);
    yaml_node_t *cond = NULL;
    if (!(r->sels = sigma_alloc(c, (KB_MIN(cnt, SIGMA_MAX_SELECTIONS) + 1) * sizeof *r->sels)))
        return sigma_err(c, det, "detection", "the ruleset is too big");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *p = &det->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        struct kb_str ks = rules_yaml_text(k);
        if (!ks.p || !ks.n || ks.n > 128)
            return sigma_err(c, k, "detection", "an identifier must be a string of 1 to 128 "
                             "bytes");
        if (kb_str_eq(ks, "condition")) {
            cond = v;
            continue;
        }
        if (kb_str_eq(ks, "timeframe"))
            continue; /* Sigma v1; windows are correlation rules' business */
        if (r->nsels >= SIGMA_MAX_SELECTIONS)
            return sigma_err(c, k, "detection", "more than %u identifiers", SIGMA_MAX_SELECTIONS);
        for (uint32_t j = 0; j < r->nsels; j++)
            if (strlen(r->sels[j].name) == ks.n && !memcmp(r->sels[j].name, ks.p, ks.n))
                return sigma_err(c, k, "detection", "identifier '%s' twice", r->sels[j].name);
        const char *name = sigma_strndup(c, ks.p, ks.n);
        if (!name)
            return sigma_err(c, k, "detection", "the ruleset is too big");
        kb_err e = compile_selection(c, name, v, &r->sels[r->nsels]);
        if (e)
            return e;
        r->nsels++;
    }
    if (!cond)
        return sigma_err(c, det, "detection.condition", "missing");
    return sigma_compile_condition(c, cond, r);
}
