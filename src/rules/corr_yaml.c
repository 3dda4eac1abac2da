/*
 * corr_yaml.c — building a struct corr_rule from a parsed YAML document.
 *
 * Follows the Sigma correlation rules specification (v2): top-level title,
 * id, name, level, status, generate; the `correlation:` mapping with type,
 * rules, group-by, timespan, condition, aliases (and generate, where pySigma
 * puts it). Unknown keys inside `correlation:` are errors, because a typo
 * there ("group_by") would silently change what the rule means; unknown
 * top-level keys are Sigma's custom attributes and are ignored.
 *
 * The few libyaml node helpers here are static on purpose: the detection
 * engine has its own (rules_yaml.c) and this file must not depend on it.
 */
#include "rules/correlate.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- libyaml node helpers ---- */

static unsigned node_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 0;
}

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strlen(key) == k->data.scalar.length &&
            memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* A scalar's text, or NULL when n is not a scalar. */
static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* ---- error reporting ---- */

struct pctx {
    yaml_document_t *doc;
    const char *file;
    struct kb_why *why;
};

static kb_err perr(struct pctx *c, kb_err err, const yaml_node_t *at, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static kb_err perr(struct pctx *c, kb_err err, const yaml_node_t *at, const char *key,
                   const char *fmt, ...)
{
    char reason[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return kb_fail(c->why, err, "%s:%u: %s: %s", c->file, node_line(at), key, reason);
}

/* Copies a bounded, non-empty scalar into *out. */
static kb_err text(struct pctx *c, yaml_node_t *n, const char *key, char **out)
{
    const char *s = scalar(n);
    if (!s)
        return perr(c, KB_EINVAL, n, key, "expected a string");
    size_t len = n->data.scalar.length;
    if (len == 0)
        return perr(c, KB_EINVAL, n, key, "is empty");
    if (len > CORR_MAX_TEXT)
        return perr(c, KB_ETOOBIG, n, key, "longer than %d bytes", CORR_MAX_TEXT);
    if (memchr(s, '\0', len))
        return perr(c, KB_EINVAL, n, key, "contains a NUL byte");
    *out = kb_strndup(s, len);
    return KB_OK;
}

/* An optional top-level string. */
static kb_err opt_text(struct pctx *c, yaml_node_t *root, const char *key, char **out)
{
    yaml_node_t *n = map_get(c->doc, root, key);
    return n ? text(c, n, key, out) : KB_OK;
}

static kb_err boolean(struct pctx *c, yaml_node_t *n, const char *key, bool *out)
{
    const char *s = scalar(n);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "yes") == 0))
        *out = true;
    else if (s && (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "no") == 0))
        *out = false;
    else
        return perr(c, KB_EINVAL, n, key, "expected true or false");
    return KB_OK;
}

/* A list of strings (a single string is taken as a list of one), bounded by
 * max, without duplicates. */
static kb_err text_list(struct pctx *c, yaml_node_t *n, const char *key, size_t max, char ***out,
                        size_t *nout)
{
    yaml_node_item_t *items = NULL;
    size_t count = 1;
    if (n->type == YAML_SEQUENCE_NODE) {
        items = n->data.sequence.items.start;
        count = (size_t)(n->data.sequence.items.top - items);
    } else if (n->type != YAML_SCALAR_NODE) {
        return perr(c, KB_EINVAL, n, key, "expected a list of strings");
    }
    if (count > max)
        return perr(c, KB_ETOOBIG, n, key, "more than %zu entries", max);
    *out = kb_calloc(count ? count : 1, sizeof **out);
    *nout = 0;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = items ? yaml_document_get_node(c->doc, items[i]) : n;
        char *s = NULL;
        kb_err err = text(c, item, key, &s);
        if (err != KB_OK)
            return err;
        for (size_t j = 0; j < *nout; j++)
            if (strcmp((*out)[j], s) == 0) {
                free(s);
                return perr(c, KB_EINVAL, item, key, "'%s' is listed twice", (*out)[j]);
            }
        (*out)[(*nout)++] = s;
    }
    return KB_OK;
}

/* ---- the parts of `correlation:` ---- */

static const char *const type_names[] = {"event_count", "value_count", "value_sum",
                                         "value_avg",   "temporal",    "temporal_ordered"};
static const char *const op_names[CORR_OP_COUNT] = {"gt", "gte", "lt", "lte", "eq", "neq"};

const char *corr_type_name(enum corr_type t)
{
    return (unsigned)t < KB_ARRAY_LEN(type_names) ? type_names[t] : "?";
}

/* "5m": a positive integer and one lowercase unit (s, m, h, d). */
static kb_err timespan(struct pctx *c, yaml_node_t *n, int64_t *out)
{
    static const char key[] = "correlation.timespan";
    const char *s = scalar(n);
    size_t len = s ? n->data.scalar.length : 0;
    if (!s || len < 2 || len > 12)
        return perr(c, KB_EINVAL, n, key, "expected a number and s, m, h or d (e.g. 5m)");
    int64_t v = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return perr(c, KB_EINVAL, n, key, "expected a number and s, m, h or d (e.g. 5m)");
        v = v * 10 + (s[i] - '0'); /* at most 11 digits: no overflow */
    }
    int64_t unit;
    switch (s[len - 1]) {
    case 's':
        unit = 1000;
        break;
    case 'm':
        unit = 60 * 1000;
        break;
    case 'h':
        unit = 3600 * 1000;
        break;
    case 'd':
        unit = 24LL * 3600 * 1000;
        break;
    default:
        return perr(c, KB_EINVAL, n, key, "unknown unit '%c': use s, m, h or d", s[len - 1]);
    }
    if (v == 0)
        return perr(c, KB_EINVAL, n, key, "must be greater than zero");
    if (v > CORR_MAX_TIMESPAN_MS / unit)
        return perr(c, KB_ETOOBIG, n, key, "'%s' is longer than the 30 day limit", s);
    *out = v * unit;
    return KB_OK;
}

static bool is_value_type(enum corr_type t)
{
    return t == CORR_VALUE_COUNT || t == CORR_VALUE_SUM || t == CORR_VALUE_AVG;
}

static bool is_temporal(enum corr_type t)
{
    return t == CORR_TEMPORAL || t == CORR_TEMPORAL_ORDERED;
}

static kb_err condition(struct pctx *c, yaml_node_t *n, struct corr_rule *r)
{
    static const char key[] = "correlation.condition";
    if (n->type != YAML_MAPPING_NODE)
        return perr(c, KB_EINVAL, n, key, "expected a mapping such as {gte: 10}");
    bool seen[CORR_OP_COUNT] = {false};
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = scalar(k);
        if (!ks)
            return perr(c, KB_EINVAL, k, key, "expected string keys");
        if (strcmp(ks, "field") == 0) {
            if (!is_value_type(r->type))
                return perr(c, KB_EINVAL, k, "correlation.condition.field",
                            "only value_count, value_sum and value_avg take a field");
            if (r->field)
                return perr(c, KB_EINVAL, k, "correlation.condition.field", "given twice");
            kb_err err = text(c, v, "correlation.condition.field", &r->field);
            if (err != KB_OK)
                return err;
            continue;
        }
        size_t op = 0;
        while (op < CORR_OP_COUNT && strcmp(ks, op_names[op]) != 0)
            op++;
        if (op == CORR_OP_COUNT)
            return perr(c, KB_EINVAL, k, key,
                        "unknown key '%s' (expected gt, gte, lt, lte, eq, neq or field)", ks);
        if (seen[op])
            return perr(c, KB_EINVAL, k, key, "'%s' given twice", ks);
        seen[op] = true;
        const char *vs = scalar(v);
        char *end = NULL;
        errno = 0;
        double d = vs ? strtod(vs, &end) : 0;
        if (!vs || !*vs || *end || errno || !isfinite(d))
            return perr(c, KB_EINVAL, v, key, "%s: expected a number", ks);
        bool integral = d == floor(d) && fabs(d) < 1e15;
        if (!integral && r->type != CORR_VALUE_SUM && r->type != CORR_VALUE_AVG)
            return perr(c, KB_EINVAL, v, key, "%s: expected a whole number for %s", ks,
                        corr_type_name(r->type));
        r->conds[r->nconds++] = (struct corr_cond){(enum corr_op)op, d};
    }
    if (r->nconds == 0)
        return perr(c, KB_EINVAL, n, key, "needs one of gt, gte, lt, lte, eq, neq");
    if (is_value_type(r->type) && !r->field)
        return perr(c, KB_EINVAL, n, key, "%s needs a field", corr_type_name(r->type));
    return KB_OK;
}

static bool listed(const struct corr_rule *r, const char *ref)
{
    for (size_t i = 0; i < r->nrules; i++)
        if (strcmp(r->rules[i], ref) == 0)
            return true;
    return false;
}

/* aliases: {alias: {rule name: field, ...}, ...} */
static kb_err aliases(struct pctx *c, yaml_node_t *n, struct corr_rule *r)
{
    static const char key[] = "correlation.aliases";
    if (n->type != YAML_MAPPING_NODE)
        return perr(c, KB_EINVAL, n, key, "expected a mapping of alias names");
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count > CORR_MAX_ALIASES)
        return perr(c, KB_ETOOBIG, n, key, "more than %d aliases", CORR_MAX_ALIASES);
    r->aliases = kb_calloc(count ? count : 1, sizeof *r->aliases);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        struct corr_alias *al = &r->aliases[r->naliases];
        kb_err err = text(c, k, key, &al->name);
        if (err != KB_OK)
            return err;
        r->naliases++;
        for (size_t i = 0; i + 1 < r->naliases; i++)
            if (strcmp(r->aliases[i].name, al->name) == 0)
                return perr(c, KB_EINVAL, k, key, "alias '%s' given twice", al->name);
        if (v->type != YAML_MAPPING_NODE)
            return perr(c, KB_EINVAL, v, key, "%s: expected a mapping of rule name to field",
                        al->name);
        size_t m = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
        if (m > CORR_MAX_RULES)
            return perr(c, KB_ETOOBIG, v, key, "%s: more than %d rules", al->name, CORR_MAX_RULES);
        al->rules = kb_calloc(m ? m : 1, sizeof *al->rules);
        al->fields = kb_calloc(m ? m : 1, sizeof *al->fields);
        for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
             q++) {
            yaml_node_t *rk = yaml_document_get_node(c->doc, q->key);
            yaml_node_t *rv = yaml_document_get_node(c->doc, q->value);
            if ((err = text(c, rk, key, &al->rules[al->n])) != KB_OK)
                return err;
            if ((err = text(c, rv, key, &al->fields[al->n])) != KB_OK) {
                free(al->rules[al->n]);
                al->rules[al->n] = NULL;
                return err;
            }
            al->n++;
            if (!listed(r, al->rules[al->n - 1]))
                return perr(c, KB_EINVAL, rk, key, "%s: rule '%s' is not in correlation.rules",
                            al->name, al->rules[al->n - 1]);
        }
    }
    return KB_OK;
}

static kb_err correlation(struct pctx *c, yaml_node_t *n, struct corr_rule *r)
{
    static const char *const known[] = {"type",      "rules",   "group-by", "timespan",
                                        "condition", "aliases", "generate"};
    if (n->type != YAML_MAPPING_NODE)
        return perr(c, KB_EINVAL, n, "correlation", "expected a mapping");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const char *ks = scalar(k);
        size_t i = 0;
        while (ks && i < KB_ARRAY_LEN(known) && strcmp(ks, known[i]) != 0)
            i++;
        if (!ks || i == KB_ARRAY_LEN(known))
            return perr(c, KB_EINVAL, k, "correlation", "unknown key '%s'", ks ? ks : "?");
    }

    yaml_node_t *t = map_get(c->doc, n, "type");
    const char *ts = scalar(t);
    if (!t)
        return perr(c, KB_EINVAL, n, "correlation.type", "missing");
    size_t ti = 0;
    while (ts && ti < KB_ARRAY_LEN(type_names) && strcmp(ts, type_names[ti]) != 0)
        ti++;
    if (!ts || ti == KB_ARRAY_LEN(type_names))
        return perr(c, KB_EINVAL, t, "correlation.type",
                    "expected event_count, value_count, value_sum, value_avg, temporal or "
                    "temporal_ordered");
    r->type = (enum corr_type)ti;

    kb_err err;
    yaml_node_t *rules = map_get(c->doc, n, "rules");
    if (!rules)
        return perr(c, KB_EINVAL, n, "correlation.rules", "missing");
    if ((err = text_list(c, rules, "correlation.rules", CORR_MAX_RULES, &r->rules, &r->nrules)) !=
        KB_OK)
        return err;
    if (r->nrules == 0)
        return perr(c, KB_EINVAL, rules, "correlation.rules", "is empty");

    yaml_node_t *gb = map_get(c->doc, n, "group-by");
    if (gb && (err = text_list(c, gb, "correlation.group-by", CORR_MAX_GROUP_BY, &r->group_by,
                               &r->ngroup_by)) != KB_OK)
        return err;

    yaml_node_t *span = map_get(c->doc, n, "timespan");
    if (!span)
        return perr(c, KB_EINVAL, n, "correlation.timespan", "missing");
    if ((err = timespan(c, span, &r->timespan_ms)) != KB_OK)
        return err;

    yaml_node_t *cond = map_get(c->doc, n, "condition");
    if (cond) {
        if ((err = condition(c, cond, r)) != KB_OK)
            return err;
    } else if (!is_temporal(r->type)) {
        return perr(c, KB_EINVAL, n, "correlation.condition", "missing (required for %s)",
                    corr_type_name(r->type));
    } else {
        /* temporal: by default every listed rule must be seen */
        r->conds[r->nconds++] = (struct corr_cond){CORR_GTE, (double)r->nrules};
    }

    yaml_node_t *al = map_get(c->doc, n, "aliases");
    if (al && (err = aliases(c, al, r)) != KB_OK)
        return err;

    yaml_node_t *gen = map_get(c->doc, n, "generate");
    if (gen && (err = boolean(c, gen, "correlation.generate", &r->generate)) != KB_OK)
        return err;
    return KB_OK;
}

static const char *const levels[] = {"informational", "low", "medium", "high", "critical"};

kb_err corr_rule_from_yaml(yaml_document_t *doc, yaml_node_t *root, const char *file,
                           struct corr_rule **out, struct kb_why *why)
{
    struct pctx c = {doc, file ? file : "(rule)", why};
    *out = NULL;
    if (!root || root->type != YAML_MAPPING_NODE)
        return perr(&c, KB_EINVAL, root, "correlation", "the document is not a mapping");
    struct corr_rule *r = kb_calloc(1, sizeof *r);
    r->file = kb_strdup(c.file);
    r->line = node_line(root);
    kb_err err;

    yaml_node_t *title = map_get(doc, root, "title");
    if (!title) {
        err = perr(&c, KB_EINVAL, root, "title", "missing");
        goto fail;
    }
    if ((err = text(&c, title, "title", &r->title)) != KB_OK ||
        (err = opt_text(&c, root, "id", &r->id)) != KB_OK ||
        (err = opt_text(&c, root, "name", &r->name)) != KB_OK ||
        (err = opt_text(&c, root, "level", &r->level)) != KB_OK ||
        (err = opt_text(&c, root, "status", &r->status)) != KB_OK)
        goto fail;
    if (r->level) {
        size_t i = 0;
        while (i < KB_ARRAY_LEN(levels) && strcmp(r->level, levels[i]) != 0)
            i++;
        if (i == KB_ARRAY_LEN(levels)) {
            err = perr(&c, KB_EINVAL, map_get(doc, root, "level"), "level",
                       "'%s' is not informational, low, medium, high or critical", r->level);
            goto fail;
        }
    }
    yaml_node_t *gen = map_get(doc, root, "generate");
    if (gen && (err = boolean(&c, gen, "generate", &r->generate)) != KB_OK)
        goto fail;
    yaml_node_t *corr = map_get(doc, root, "correlation");
    if (!corr) {
        err = perr(&c, KB_EINVAL, root, "correlation", "missing");
        goto fail;
    }
    if ((err = correlation(&c, corr, r)) != KB_OK)
        goto fail;
    *out = r;
    return KB_OK;
fail:
    corr_rule_free(r);
    return err;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void corr_rule_free(struct corr_rule *r)
{
    if (!r)
        return;
    free(r->file);
    free(r->title);
    free(r->id);
    free(r->name);
    free(r->level);
    free(r->status);
    free_list(r->rules, r->nrules);
    free_list(r->group_by, r->ngroup_by);
    free(r->field);
    for (size_t i = 0; i < r->naliases; i++) {
        free(r->aliases[i].name);
        free_list(r->aliases[i].rules, r->aliases[i].n);
        free_list(r->aliases[i].fields, r->aliases[i].n);
    }
    free(r->aliases);
    free(r);
}

bool corr_cond_holds(const struct corr_rule *r, double v)
{
    for (size_t i = 0; i < r->nconds; i++) {
        double t = r->conds[i].value;
        bool ok = false;
        switch (r->conds[i].op) {
        case CORR_GT:
            ok = v > t;
            break;
        case CORR_GTE:
            ok = v >= t;
            break;
        case CORR_LT:
            ok = v < t;
            break;
        case CORR_LTE:
            ok = v <= t;
            break;
        case CORR_EQ:
            ok = v == t;
            break;
        case CORR_NEQ:
            ok = v != t;
            break;
        case CORR_OP_COUNT:
            break;
        }
        if (!ok)
            return false;
    }
    return r->nconds > 0;
}
