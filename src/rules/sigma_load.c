/*
 * sigma_load.c — the ruleset: options, loading YAML files document by
 * document, rule metadata, load errors, and the accessors of sigma.h.
 *
 * A file is read whole (bounded), then libyaml loads one document at a
 * time. Each document is compiled on its own: an error is recorded in the
 * ruleset and the next document is tried, so one bad rule never hides the
 * good ones beside it. A YAML syntax error ends the file (libyaml cannot
 * resynchronise), keeping what was loaded before it.
 */
#include "formats/alert.h"
#include "rules/correlate.h"
#include "rules/rules_yaml.h"
#include "rules/sigma_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#define SIGMA_ARENA_LIMIT ((size_t)1 << 30) /* all rules of a ruleset */

struct sigma_ruleset {
    struct arena arena; /* rules, compiled values, copied option tables */
    struct sigma_rule **rules;
    size_t nrules, caprules;
    struct corr_rule **corr; /* owned: corr_rule_free */
    size_t ncorr, capcorr;
    char **errors; /* kb_malloc'd messages */
    size_t nerrors, caperrors;
    pcre2_code **codes; /* every compiled regex */
    size_t ncodes, capcodes;
    struct sigma_scratch sc;
    struct sigma_logsource_map *ls;
    size_t nls;
    bool ls_defaults;
    struct sigma_field_map *fm;
    size_t nfm;
    bool fm_defaults;
    struct sigma_placeholder *ph;
    size_t nph;
    struct sigma_index *index; /* what sigma_match_all evaluates (sigma_index.c) */
};

/* ---- helpers shared with the other sigma_*.c ---- */

kb_err sigma_err(struct sctx *c, const yaml_node_t *at, const char *key, const char *fmt, ...)
{
    char reason[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return kb_fail(c->why, KB_EINVAL, "%s:%u: %s: %s", c->file, rules_yaml_line(at), key, reason);
}

void *sigma_alloc(struct sctx *c, size_t n)
{
    void *p = arena_alloc(&c->rs->arena, n ? n : 1);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

char *sigma_strndup(struct sctx *c, const char *s, size_t n)
{
    return arena_strndup(&c->rs->arena, s, n);
}

void sigma_keep_code(struct sctx *c, pcre2_code *code)
{
    struct sigma_ruleset *rs = c->rs;
    if (rs->ncodes == rs->capcodes) {
        rs->capcodes = rs->capcodes ? rs->capcodes * 2 : 16;
        rs->codes = kb_realloc(rs->codes, rs->capcodes * sizeof *rs->codes);
    }
    rs->codes[rs->ncodes++] = code;
}

const struct sigma_placeholder *sigma_placeholder(const struct sigma_ruleset *rs,
                                                  const char *name, size_t n)
{
    for (size_t i = 0; i < rs->nph; i++)
        if (strlen(rs->ph[i].name) == n && memcmp(rs->ph[i].name, name, n) == 0)
            return &rs->ph[i];
    return NULL;
}

const char *sigma_rs_field(struct sctx *c, const char *field, size_t n, uint32_t *outn)
{
    char buf[512];
    const struct sigma_ruleset *rs = c->rs;
    const char *m = sigma_map_field(rs->fm, rs->nfm, rs->fm_defaults, c->source, field, n, buf,
                                    sizeof buf);
    if (!m)
        return NULL;
    *outn = (uint32_t)strlen(m);
    return sigma_strndup(c, m, *outn);
}

/* ---- ruleset ---- */

static char *arena_cstr(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

kb_err sigma_ruleset_new(const struct sigma_options *opt, struct sigma_ruleset **out,
                         struct kb_why *why)
{
    static const struct sigma_options none = {0};
    if (!opt)
        opt = &none;
    for (size_t i = 0; i < opt->nfields; i++)
        if (!opt->fields[i].sigma_field || !opt->fields[i].event_field)
            return kb_fail(why, KB_EINVAL, "field map row %zu: a name is missing", i);
    for (size_t i = 0; i < opt->nplaceholders; i++)
        if (!opt->placeholders[i].name ||
            (opt->placeholders[i].nvalues && !opt->placeholders[i].values))
            return kb_fail(why, KB_EINVAL, "placeholder row %zu: name or values missing", i);
    struct sigma_ruleset *rs = kb_calloc(1, sizeof *rs);
    arena_init(&rs->arena, SIGMA_ARENA_LIMIT);
    rs->index = sigma_index_new();
    struct arena *a = &rs->arena;
    rs->ls_defaults = !opt->no_default_logsources;
    rs->fm_defaults = !opt->no_default_fields;
    rs->nls = opt->nlogsources;
    rs->ls = arena_alloc(a, (rs->nls + 1) * sizeof *rs->ls);
    for (size_t i = 0; i < rs->nls; i++) {
        rs->ls[i].product = arena_cstr(a, opt->logsources[i].product);
        rs->ls[i].service = arena_cstr(a, opt->logsources[i].service);
        rs->ls[i].category = arena_cstr(a, opt->logsources[i].category);
        rs->ls[i].source = arena_cstr(a, opt->logsources[i].source);
    }
    rs->nfm = opt->nfields;
    rs->fm = arena_alloc(a, (rs->nfm + 1) * sizeof *rs->fm);
    for (size_t i = 0; i < rs->nfm; i++) {
        rs->fm[i].source = arena_cstr(a, opt->fields[i].source);
        rs->fm[i].sigma_field = arena_cstr(a, opt->fields[i].sigma_field);
        rs->fm[i].event_field = arena_cstr(a, opt->fields[i].event_field);
    }
    rs->nph = opt->nplaceholders;
    rs->ph = arena_alloc(a, (rs->nph + 1) * sizeof *rs->ph);
    for (size_t i = 0; i < rs->nph; i++) {
        const struct sigma_placeholder *p = &opt->placeholders[i];
        const char **vals = arena_alloc(a, (p->nvalues + 1) * sizeof *vals);
        for (size_t j = 0; j < p->nvalues; j++)
            vals[j] = arena_cstr(a, p->values[j] ? p->values[j] : "");
        rs->ph[i] = (struct sigma_placeholder){arena_cstr(a, p->name), vals, p->nvalues};
    }
    rs->sc.mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(rs->sc.mctx, opt->re_match_limit ? opt->re_match_limit : 100000);
    pcre2_set_depth_limit(rs->sc.mctx, opt->re_depth_limit ? opt->re_depth_limit : 1000);
    pcre2_set_heap_limit(rs->sc.mctx, opt->re_heap_kib ? opt->re_heap_kib : 1024);
    rs->sc.md = pcre2_match_data_create(1, NULL);
    if (!rs->sc.mctx || !rs->sc.md) {
        sigma_ruleset_free(rs);
        return kb_fail(why, KB_EINVAL, "PCRE2 could not allocate its match block");
    }
    *out = rs;
    return KB_OK;
}

void sigma_ruleset_free(struct sigma_ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->ncodes; i++)
        pcre2_code_free(rs->codes[i]);
    free(rs->codes);
    for (size_t i = 0; i < rs->ncorr; i++)
        corr_rule_free(rs->corr[i]);
    free(rs->corr);
    for (size_t i = 0; i < rs->nerrors; i++)
        free(rs->errors[i]);
    free(rs->errors);
    free(rs->rules);
    sigma_index_free(rs->index);
    pcre2_match_data_free(rs->sc.md);
    pcre2_match_context_free(rs->sc.mctx);
    arena_release(&rs->arena);
    free(rs);
}

static void keep_error(struct sigma_ruleset *rs, const char *msg)
{
    if (rs->nerrors >= SIGMA_MAX_ERRORS)
        return;
    if (rs->nerrors == rs->caperrors) {
        rs->caperrors = rs->caperrors ? rs->caperrors * 2 : 16;
        rs->errors = kb_realloc(rs->errors, rs->caperrors * sizeof *rs->errors);
    }
    rs->errors[rs->nerrors++] = kb_strdup(msg);
}

/* ---- one base rule ---- */

static kb_err opt_text2(struct sctx *c, yaml_node_t *root, const char *key, const char *label,
                        const char **out)
{
    yaml_node_t *n = rules_yaml_get(c->doc, root, key);
    key = label;
    *out = NULL;
    if (!n)
        return KB_OK;
    if (rules_yaml_type(n, NULL, NULL, NULL) == RY_NULL)
        return KB_OK;
    struct kb_str s = rules_yaml_text(n);
    if (!s.p)
        return sigma_err(c, n, key, "expected a string");
    if (s.n > SIGMA_MAX_TEXT)
        return sigma_err(c, n, key, "longer than %u bytes", SIGMA_MAX_TEXT);
    if (!(*out = sigma_strndup(c, s.p, s.n)))
        return sigma_err(c, n, key, "the ruleset is too big");
    return KB_OK;
}

static kb_err opt_text(struct sctx *c, yaml_node_t *root, const char *key, const char **out)
{
    return opt_text2(c, root, key, key, out);
}

/* A list of strings (or one string) into an arena array. */
static kb_err opt_list(struct sctx *c, yaml_node_t *root, const char *key, const char ***out,
                       size_t *n)
{
    yaml_node_t *l = rules_yaml_get(c->doc, root, key);
    *out = NULL;
    *n = 0;
    if (!l || rules_yaml_type(l, NULL, NULL, NULL) == RY_NULL)
        return KB_OK;
    if (l->type == YAML_SCALAR_NODE) {
        const char **a = sigma_alloc(c, sizeof *a);
        if (!a || !(a[0] = sigma_strndup(c, rules_yaml_text(l).p, rules_yaml_text(l).n)))
            return sigma_err(c, l, key, "the ruleset is too big");
        *out = a;
        *n = 1;
        return KB_OK;
    }
    if (l->type != YAML_SEQUENCE_NODE)
        return sigma_err(c, l, key, "expected a list of strings");
    size_t cnt = (size_t)(l->data.sequence.items.top - l->data.sequence.items.start);
    if (cnt > SIGMA_MAX_VALUES)
        return sigma_err(c, l, key, "more than %u entries", SIGMA_MAX_VALUES);
    const char **a = sigma_alloc(c, (cnt + 1) * sizeof *a);
    if (!a)
        return sigma_err(c, l, key, "the ruleset is too big");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *e = yaml_document_get_node(c->doc, l->data.sequence.items.start[i]);
        struct kb_str s = rules_yaml_text(e);
        if (!s.p)
            return sigma_err(c, e, key, "expected a list of strings");
        if (!(a[*n] = sigma_strndup(c, s.p, KB_MIN(s.n, SIGMA_MAX_TEXT))))
            return sigma_err(c, e, key, "the ruleset is too big");
        (*n)++;
    }
    *out = a;
    return KB_OK;
}

static kb_err compile_rule(struct sctx *c, yaml_node_t *root, struct sigma_rule **out)
{
    struct sigma_rule *r = sigma_alloc(c, sizeof *r);
    if (!r)
        return sigma_err(c, root, "(rule)", "the ruleset is too big");
    r->sc = &c->rs->sc;
    r->file = sigma_strndup(c, c->file, strlen(c->file));
    r->line = rules_yaml_line(root);
    kb_err e;
    if ((e = opt_text(c, root, "title", &r->title)) || (e = opt_text(c, root, "id", &r->id)) ||
        (e = opt_text(c, root, "name", &r->name)) ||
        (e = opt_text(c, root, "status", &r->status)) ||
        (e = opt_text(c, root, "description", &r->description)) ||
        (e = opt_text(c, root, "level", &r->level)))
        return e;
    if (!r->title || !r->title[0])
        return sigma_err(c, root, "title", "missing (every Sigma rule has a title)");
    r->severity = KB_SEV_MEDIUM;
    if (r->level && sigma_level_severity(r->level, &r->severity) != KB_OK)
        return sigma_err(c, rules_yaml_get(c->doc, root, "level"), "level",
                         "unknown level '%s' (informational, low, medium, high, critical)",
                         r->level);
    yaml_node_t *ls = rules_yaml_get(c->doc, root, "logsource");
    if (ls && ls->type != YAML_MAPPING_NODE && rules_yaml_type(ls, NULL, NULL, NULL) != RY_NULL)
        return sigma_err(c, ls, "logsource", "expected a mapping");
    if (ls && ls->type == YAML_MAPPING_NODE) {
        if ((e = opt_text2(c, ls, "product", "logsource.product", &r->product)) ||
            (e = opt_text2(c, ls, "service", "logsource.service", &r->service)) ||
            (e = opt_text2(c, ls, "category", "logsource.category", &r->category)))
            return e;
    }
    if (!r->product && !r->service && !r->category)
        r->source = "*";
    else
        r->source = sigma_map_logsource(c->rs->ls, c->rs->nls, c->rs->ls_defaults, r->product,
                                        r->service, r->category);
    if (r->source && strcmp(r->source, "*") != 0)
        r->source = sigma_strndup(c, r->source, strlen(r->source));
    c->source = r->source && strcmp(r->source, "*") != 0 ? r->source : NULL;
    if ((e = opt_list(c, root, "tags", &r->tags, &r->ntags)) ||
        (e = opt_list(c, root, "falsepositives", &r->falsepositives, &r->nfalsepositives)) ||
        (e = opt_list(c, root, "fields", &r->fields, &r->nfields)))
        return e;
    yaml_node_t *det = rules_yaml_get(c->doc, root, "detection");
    if (!det)
        return sigma_err(c, root, "detection", "missing (every Sigma rule has a detection)");
    if (det->type != YAML_MAPPING_NODE)
        return sigma_err(c, det, "detection", "expected a mapping");
    if ((e = sigma_compile_detection(c, det, r)))
        return e;
    *out = r;
    return KB_OK;
}

static kb_err load_doc(struct sigma_ruleset *rs, yaml_document_t *doc, yaml_node_t *root,
                       const char *file, struct kb_why *why)
{
    struct sctx c = {.rs = rs, .doc = doc, .file = file, .why = why};
    if (root->type != YAML_MAPPING_NODE)
        return sigma_err(&c, root, "(document)", "expected a mapping (a Sigma rule)");
    if (rules_yaml_get(doc, root, "correlation")) {
        struct corr_rule *cr = NULL;
        kb_err e = corr_rule_from_yaml(doc, root, file, &cr, why);
        if (e)
            return e;
        if (rs->ncorr == rs->capcorr) {
            rs->capcorr = rs->capcorr ? rs->capcorr * 2 : 8;
            rs->corr = kb_realloc(rs->corr, rs->capcorr * sizeof *rs->corr);
        }
        rs->corr[rs->ncorr++] = cr;
        return KB_OK;
    }
    if (rules_yaml_get(doc, root, "filter") && !rules_yaml_get(doc, root, "detection"))
        return sigma_err(&c, root, "filter", "Sigma filter documents are not supported");
    if (rules_yaml_get(doc, root, "action"))
        return sigma_err(&c, rules_yaml_get(doc, root, "action"), "action",
                         "Sigma v1 rule collections (action: global) are not supported");
    struct sigma_rule *r = NULL;
    kb_err e = compile_rule(&c, root, &r);
    if (e)
        return e;
    if (rs->nrules == rs->caprules) {
        rs->caprules = rs->caprules ? rs->caprules * 2 : 64;
        rs->rules = kb_realloc(rs->rules, rs->caprules * sizeof *rs->rules);
    }
    rs->rules[rs->nrules++] = r;
    sigma_index_add(rs->index, r);
    return KB_OK;
}

kb_err sigma_load_buffer(const char *text, size_t len, const char *name, struct sigma_ruleset *rs,
                         size_t *nloaded, struct kb_why *why)
{
    if (nloaded)
        *nloaded = 0;
    if (len > SIGMA_MAX_FILE_BYTES)
        return kb_fail(why, KB_ETOOBIG, "%s: larger than %u bytes", name, SIGMA_MAX_FILE_BYTES);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return kb_fail(why, KB_EINVAL, "%s: libyaml could not start", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    size_t ok = 0, bad = 0, docs = 0;
    kb_err ret = KB_OK;
    char first[sizeof why->msg] = "";
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(&parser, &doc)) {
            struct kb_why w = {{0}};
            kb_fail(&w, KB_EPARSE, "%s:%zu: YAML: %s%s%s", name, parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "syntax error",
                    parser.context ? " " : "", parser.context ? parser.context : "");
            keep_error(rs, w.msg);
            if (!first[0])
                memcpy(first, w.msg, sizeof first);
            bad++;
            ret = KB_EPARSE;
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        struct kb_why w = {{0}};
        kb_err e = ++docs > SIGMA_MAX_DOCS
                       ? kb_fail(&w, KB_ETOOBIG, "%s:%u: more than %u documents", name,
                                 rules_yaml_line(root), SIGMA_MAX_DOCS)
                       : load_doc(rs, &doc, root, name, &w);
        yaml_document_delete(&doc);
        if (e) {
            keep_error(rs, w.msg);
            if (!first[0])
                memcpy(first, w.msg, sizeof first);
            bad++;
            if (!ret)
                ret = KB_EINVAL;
            if (docs > SIGMA_MAX_DOCS)
                break;
        } else {
            ok++;
        }
    }
    yaml_parser_delete(&parser);
    if (nloaded)
        *nloaded = ok;
    if (ret)
        return kb_fail(why, ret, "%s%s", first,
                       bad > 1 ? " (and more errors: see sigma_ruleset_error)" : "");
    return KB_OK;
}

kb_err sigma_load_file(const char *path, struct sigma_ruleset *rs, size_t *nloaded,
                       struct kb_why *why)
{
    if (nloaded)
        *nloaded = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        struct kb_why w = {{0}};
        kb_fail(&w, KB_EIO, "%s: %s", path, strerror(errno));
        keep_error(rs, w.msg);
        return kb_fail(why, KB_EIO, "%s", w.msg);
    }
    /* the size decides the buffer; reading one byte past it notices a file
     * that grew, and the bound is checked on what was read */
    struct stat st;
    size_t want = fstat(fileno(f), &st) == 0 && st.st_size > 0
                      ? (size_t)KB_MIN((uint64_t)st.st_size, (uint64_t)SIGMA_MAX_FILE_BYTES)
                      : 0;
    char *buf = kb_malloc(want + 2);
    size_t n = fread(buf, 1, want + 1, f);
    bool err = ferror(f) != 0;
    fclose(f);
    kb_err e;
    if (err) {
        e = kb_fail(why, KB_EIO, "%s: read error", path);
        keep_error(rs, why ? why->msg : "read error");
    } else if (n > SIGMA_MAX_FILE_BYTES) {
        e = kb_fail(why, KB_ETOOBIG, "%s: larger than %u bytes", path, SIGMA_MAX_FILE_BYTES);
        keep_error(rs, why ? why->msg : "file too big");
    } else {
        e = sigma_load_buffer(buf, n, path, rs, nloaded, why);
    }
    free(buf);
    return e;
}

/* ---- accessors ---- */

size_t sigma_ruleset_nerrors(const struct sigma_ruleset *rs) { return rs->nerrors; }
const char *sigma_ruleset_error(const struct sigma_ruleset *rs, size_t i)
{
    return i < rs->nerrors ? rs->errors[i] : NULL;
}
size_t sigma_ruleset_count(const struct sigma_ruleset *rs) { return rs->nrules; }
const struct sigma_rule *sigma_ruleset_rule(const struct sigma_ruleset *rs, size_t i)
{
    return i < rs->nrules ? rs->rules[i] : NULL;
}
const struct sigma_rule *sigma_ruleset_find(const struct sigma_ruleset *rs, const char *key)
{
    for (size_t i = 0; key && i < rs->nrules; i++) {
        const struct sigma_rule *r = rs->rules[i];
        if ((r->id && strcmp(r->id, key) == 0) || (r->name && strcmp(r->name, key) == 0))
            return r;
    }
    return NULL;
}
size_t sigma_ruleset_ncorrelations(const struct sigma_ruleset *rs) { return rs->ncorr; }
struct corr_rule *const *sigma_ruleset_correlations(const struct sigma_ruleset *rs)
{
    return rs->corr;
}
void sigma_ruleset_stats(const struct sigma_ruleset *rs, struct sigma_stats *out)
{
    *out = rs->sc.stats;
}
const char *sigma_logsource_source(const struct sigma_ruleset *rs, const char *product,
                                   const char *service, const char *category)
{
    return sigma_map_logsource(rs->ls, rs->nls, rs->ls_defaults, product, service, category);
}

const char *sigma_rule_id(const struct sigma_rule *r) { return r->id; }
const char *sigma_rule_name(const struct sigma_rule *r) { return r->name; }
const char *sigma_rule_title(const struct sigma_rule *r) { return r->title; }
const char *sigma_rule_status(const struct sigma_rule *r) { return r->status; }
const char *sigma_rule_description(const struct sigma_rule *r) { return r->description; }
const char *sigma_rule_level(const struct sigma_rule *r) { return r->level; }
int sigma_rule_severity(const struct sigma_rule *r) { return r->severity; }
const char *sigma_rule_product(const struct sigma_rule *r) { return r->product; }
const char *sigma_rule_service(const struct sigma_rule *r) { return r->service; }
const char *sigma_rule_category(const struct sigma_rule *r) { return r->category; }
const char *sigma_rule_source(const struct sigma_rule *r) { return r->source; }
const char *sigma_rule_file(const struct sigma_rule *r) { return r->file; }
unsigned sigma_rule_line(const struct sigma_rule *r) { return r->line; }
const char *const *sigma_rule_tags(const struct sigma_rule *r, size_t *n)
{
    *n = r->ntags;
    return r->tags;
}
const char *const *sigma_rule_falsepositives(const struct sigma_rule *r, size_t *n)
{
    *n = r->nfalsepositives;
    return r->falsepositives;
}
const char *const *sigma_rule_fields(const struct sigma_rule *r, size_t *n)
{
    *n = r->nfields;
    return r->fields;
}

kb_err sigma_match_all_naive(const struct sigma_ruleset *rs, const char *source,
                             const struct sigma_event *ev, sigma_match_fn cb, void *ctx)
{
    for (size_t i = 0; i < rs->nrules; i++) {
        const struct sigma_rule *r = rs->rules[i];
        if (source && (!r->source || (strcmp(r->source, "*") != 0 && strcmp(r->source, source) != 0)))
            continue;
        bool limited = false;
        if (!sigma_eval(r, ev, &limited))
            continue;
        kb_err e = cb ? cb(ctx, r, ev) : KB_OK;
        if (e)
            return e;
    }
    return KB_OK;
}

kb_err sigma_match_all(const struct sigma_ruleset *rs, const char *source,
                       const struct sigma_event *ev, sigma_match_fn cb, void *ctx)
{
    return sigma_index_match(rs->index, source, ev, cb, ctx);
}
