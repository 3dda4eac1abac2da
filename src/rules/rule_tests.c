/*
 * rule_tests.c — reading the `tests:` of rule files, the event of a text
 * line, and walking folders of rule or event files (see rule_tests.h).
 *
 * The YAML is read with libyaml document by document, as the Sigma loader
 * reads it, so a test's rule is found by the line of its document
 * (sigma_rule_line). A test event written as a YAML mapping is turned into
 * JSON text here, once; matching then sees exactly what a JSON event would
 * give it.
 */
#include "rules/rule_tests.h"

#include "formats/format.h"
#include "formats/syslog_parse.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "rules/rules_yaml.h"
#include "rules/sigma.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <yaml.h>

/* ---- errors ---- */

struct tctx {
    struct rule_tests *t;
    yaml_document_t *doc;
    const char *file;
    size_t bad;
    char first[256];
};

static void keep(struct rule_tests *t, const char *msg)
{
    if (t->nerrors >= RULE_TESTS_MAX_ERRORS)
        return;
    if (t->nerrors == t->caperrors) {
        t->caperrors = t->caperrors ? t->caperrors * 2 : 16;
        t->errors = kb_realloc(t->errors, t->caperrors * sizeof *t->errors);
    }
    t->errors[t->nerrors++] = kb_strdup(msg);
}

/* Records "FILE:LINE: KEY: reason"; returns KB_EINVAL. */
static kb_err terr(struct tctx *c, const yaml_node_t *at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static kb_err terr(struct tctx *c, const yaml_node_t *at, const char *key, const char *fmt, ...)
{
    char reason[200], msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof msg, "%s:%u: %s: %s", c->file, rules_yaml_line(at), key, reason);
    keep(c->t, msg);
    if (!c->bad++)
        memcpy(c->first, msg, sizeof c->first);
    return KB_EINVAL;
}

/* ---- a YAML mapping as JSON text ---- */

static kb_err scalar_json(const yaml_node_t *n, struct buf *out)
{
    bool b = false;
    int64_t i = 0;
    double d = 0;
    struct kb_str s = rules_yaml_text(n);
    switch (rules_yaml_type(n, &b, &i, &d)) {
    case RY_NULL:
        return buf_puts(out, "null");
    case RY_BOOL:
        return buf_puts(out, b ? "true" : "false");
    case RY_INT:
        return buf_printf(out, "%lld", (long long)i);
    case RY_FLOAT:
        return buf_printf(out, "%.17g", d);
    default:
        if (buf_putc(out, '"') || json_escape_into(out, s.p, s.n))
            return KB_ETOOBIG;
        return buf_putc(out, '"');
    }
}

static kb_err yaml_json(struct tctx *c, const yaml_node_t *n, unsigned depth, struct buf *out)
{
    if (!n)
        return terr(c, n, "tests.event", "an empty node");
    if (depth > RULE_TESTS_MAX_DEPTH)
        return terr(c, n, "tests.event", "nested deeper than %d", RULE_TESTS_MAX_DEPTH);
    kb_err e = KB_OK;
    if (n->type == YAML_SCALAR_NODE) {
        e = scalar_json(n, out);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        e = buf_putc(out, '[');
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             !e && it < n->data.sequence.items.top; it++) {
            if (it > n->data.sequence.items.start)
                e = buf_putc(out, ',');
            if (!e)
                e = yaml_json(c, yaml_document_get_node(c->doc, *it), depth + 1, out);
        }
        if (!e)
            e = buf_putc(out, ']');
    } else {
        e = buf_putc(out, '{');
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             !e && p < n->data.mapping.pairs.top; p++) {
            const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            struct kb_str ks = rules_yaml_text(k);
            if (!ks.p)
                return terr(c, k, "tests.event", "a key must be a string");
            if (p > n->data.mapping.pairs.start)
                e = buf_putc(out, ',');
            if (!e && !(e = buf_putc(out, '"')) && !(e = json_escape_into(out, ks.p, ks.n)) &&
                !(e = buf_puts(out, "\":")))
                e = yaml_json(c, yaml_document_get_node(c->doc, p->value), depth + 1, out);
        }
        if (!e)
            e = buf_putc(out, '}');
    }
    return e; /* KB_ETOOBIG (buffer full) is reported by the caller */
}

/* ---- one test ---- */

static const char *const test_keys[] = {"name",     "event",         "raw",      "source",
                                        "match",    "severity",      "rule_severity",
                                        "policies", NULL};

/* severity: or rule_severity: — a level, only with match: true. */
static kb_err parse_level(struct tctx *c, const yaml_node_t *n, const char *key, const char *what,
                          bool match, int *out)
{
    const char *s = rules_yaml_cstr(n);
    if (!s || kb_severity_parse(s, out) != KB_OK)
        return terr(c, n, key, "%s: '%.40s' is not a level (informational, low, medium, high, "
                    "critical)", what, s ? s : "?");
    if (!match)
        return terr(c, n, key, "%s: only with match: true", what);
    return KB_OK;
}

static void free_ids(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* policies: a list of distinct policy ids (possibly empty). */
static kb_err parse_policies(struct tctx *c, const yaml_node_t *n, const char *key, bool match,
                             struct rule_test *out)
{
    if (!match)
        return terr(c, n, key, "policies: only with match: true");
    if (n->type != YAML_SEQUENCE_NODE)
        return terr(c, n, key, "policies: expected a list of policy ids ([] for none)");
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt > RULE_TESTS_MAX_POLICIES)
        return terr(c, n, key, "policies: more than %d ids", RULE_TESTS_MAX_POLICIES);
    char **v = cnt ? kb_calloc(cnt, sizeof *v) : NULL;
    for (size_t i = 0; i < cnt; i++) {
        const yaml_node_t *it = yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
        const char *s = rules_yaml_cstr(it);
        kb_err e = KB_OK;
        if (!s || !*s || strlen(s) > POLICY_MAX_ID)
            e = terr(c, it ? it : n, key, "policies[%zu]: expected a policy id (at most %d "
                     "bytes)", i, POLICY_MAX_ID);
        for (size_t j = 0; !e && j < i; j++)
            if (strcmp(v[j], s) == 0)
                e = terr(c, it, key, "policies: '%.60s' listed twice", s);
        if (e) {
            free_ids(v, i);
            return e;
        }
        v[i] = kb_strdup(s);
    }
    out->want_policies = v;
    out->nwant_policies = cnt;
    out->check_policies = true;
    return KB_OK;
}

static kb_err parse_test(struct tctx *c, yaml_node_t *n, size_t idx, unsigned rule_line,
                         struct rule_test *out)
{
    char key[48];
    snprintf(key, sizeof key, "tests[%zu]", idx);
    if (!n || n->type != YAML_MAPPING_NODE)
        return terr(c, n, key, "a test is a mapping (event or raw, match)");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const char *ks = rules_yaml_cstr(k);
        bool known = false;
        for (const char *const *w = test_keys; ks && *w; w++)
            known = known || strcmp(ks, *w) == 0;
        if (!known)
            return terr(c, k, key, "unknown key '%.60s' (name, event, raw, source, match, "
                        "severity, rule_severity, policies)", ks ? ks : "?");
    }
    yaml_node_t *name = rules_yaml_get(c->doc, n, "name");
    yaml_node_t *ev = rules_yaml_get(c->doc, n, "event");
    yaml_node_t *raw = rules_yaml_get(c->doc, n, "raw");
    yaml_node_t *src = rules_yaml_get(c->doc, n, "source");
    yaml_node_t *match = rules_yaml_get(c->doc, n, "match");
    yaml_node_t *sev = rules_yaml_get(c->doc, n, "severity");
    yaml_node_t *rsev = rules_yaml_get(c->doc, n, "rule_severity");
    yaml_node_t *pols = rules_yaml_get(c->doc, n, "policies");
    *out = (struct rule_test){.line = rules_yaml_line(n), .rule_line = rule_line,
                              .index = idx, .want_severity = -1, .want_rule_severity = -1};
    if (name && !rules_yaml_text(name).p)
        return terr(c, name, key, "name: expected a string");
    bool b = false;
    if (!match || rules_yaml_type(match, &b, NULL, NULL) != RY_BOOL)
        return terr(c, match ? match : n, key, "match: %s", match ? "expected true or false"
                                                                 : "missing (true or false)");
    out->want_match = b;
    if (sev && parse_level(c, sev, key, "severity", b, &out->want_severity))
        return KB_EINVAL;
    if (rsev && parse_level(c, rsev, key, "rule_severity", b, &out->want_rule_severity))
        return KB_EINVAL;
    if (!ev == !raw)
        return terr(c, n, key, "exactly one of event (a JSON object) and raw (a log line)");
    struct buf text = BUF_INIT(RULE_TESTS_MAX_EVENT);
    kb_err e = KB_OK;
    if (raw) {
        struct kb_str s = rules_yaml_text(raw);
        const char *sname = src ? rules_yaml_cstr(src) : "syslog";
        const struct format *f = sname ? format_by_name(sname) : NULL;
        if (!s.p || !s.n || memchr(s.p, '\n', s.n))
            e = terr(c, raw, key, "raw: expected one log line");
        else if (!f || !f->normalize_text)
            e = terr(c, src, key, "source: '%.40s' is not a koban text source (syslog)",
                     sname ? sname : "?");
        else if (buf_append(&text, s.p, s.n))
            e = terr(c, raw, key, "raw: longer than %u bytes", RULE_TESTS_MAX_EVENT);
        else
            out->source = kb_strdup(f->name);
    } else if (src) {
        e = terr(c, src, key, "source: only with raw (a JSON event is matched as it is)");
    } else if (ev->type == YAML_MAPPING_NODE) {
        if ((e = yaml_json(c, ev, 0, &text)) == KB_ETOOBIG)
            e = terr(c, ev, key, "event: larger than %u bytes", RULE_TESTS_MAX_EVENT);
    } else {
        struct kb_str s = rules_yaml_text(ev);
        struct arena a = ARENA_INIT(16u * RULE_TESTS_MAX_EVENT);
        struct json_value *v = NULL;
        struct json_error je = {0};
        struct json_limits lim = {.max_depth = RULE_TESTS_MAX_DEPTH,
                                  .max_bytes = RULE_TESTS_MAX_EVENT};
        if (!s.p)
            e = terr(c, ev, key, "event: expected a mapping or JSON text");
        else if (json_parse(s.p, s.n, &lim, &a, &v, &je) != KB_OK)
            e = terr(c, ev, key, "event: invalid JSON at line %u, column %u: %s", je.line,
                     je.col, je.msg);
        else if (v->type != JSON_OBJECT)
            e = terr(c, ev, key, "event: expected a JSON object");
        else
            buf_append(&text, s.p, s.n);
        arena_release(&a);
    }
    if (!e && pols)
        e = parse_policies(c, pols, key, b, out); /* last: nothing to undo after it */
    if (!e && name)
        out->name = kb_strndup(rules_yaml_text(name).p, rules_yaml_text(name).n);
    if (e) {
        free(out->source);
        buf_release(&text);
        return e;
    }
    out->event = buf_take(&text, &out->event_len);
    return KB_OK;
}

static void add_test(struct rule_tests *t, const struct rule_test *rt)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = kb_realloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = *rt;
}

static void load_doc(struct tctx *c, yaml_node_t *root, const char *file)
{
    yaml_node_t *tests = rules_yaml_get(c->doc, root, "tests");
    if (!tests)
        return;
    if (rules_yaml_get(c->doc, root, "correlation")) {
        terr(c, tests, "tests", "only base rules carry tests (this is a correlation rule)");
        return;
    }
    if (tests->type != YAML_SEQUENCE_NODE) {
        terr(c, tests, "tests", "expected a list of tests");
        return;
    }
    size_t cnt = (size_t)(tests->data.sequence.items.top - tests->data.sequence.items.start);
    if (cnt > RULE_TESTS_MAX_PER_DOC) {
        terr(c, tests, "tests", "more than %d tests", RULE_TESTS_MAX_PER_DOC);
        return;
    }
    unsigned line = rules_yaml_line(root);
    for (size_t i = 0; i < cnt; i++) {
        struct rule_test rt;
        yaml_node_t *n = yaml_document_get_node(c->doc, tests->data.sequence.items.start[i]);
        if (parse_test(c, n, i, line, &rt) == KB_OK) {
            rt.file = file;
            add_test(c->t, &rt);
        }
    }
}

kb_err rule_tests_load_buffer(const char *text, size_t len, const char *name,
                              struct rule_tests *t, struct kb_why *why)
{
    if (len > SIGMA_MAX_FILE_BYTES)
        return kb_fail(why, KB_ETOOBIG, "%s: larger than %u bytes", name, SIGMA_MAX_FILE_BYTES);
    if (t->nfiles == t->capfiles) {
        t->capfiles = t->capfiles ? t->capfiles * 2 : 16;
        t->files = kb_realloc(t->files, t->capfiles * sizeof *t->files);
    }
    char *file = kb_strdup(name);
    t->files[t->nfiles++] = file;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return kb_fail(why, KB_EINVAL, "%s: libyaml could not start", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    struct tctx c = {.t = t, .file = file};
    kb_err ret = KB_OK;
    for (size_t docs = 0;; docs++) {
        yaml_document_t doc;
        if (!yaml_parser_load(&parser, &doc)) {
            ret = kb_fail(why, KB_EPARSE, "%s:%zu: YAML: %s", name,
                          parser.problem_mark.line + 1,
                          parser.problem ? parser.problem : "syntax error");
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root || docs >= SIGMA_MAX_DOCS) {
            yaml_document_delete(&doc);
            break;
        }
        c.doc = &doc;
        if (root->type == YAML_MAPPING_NODE)
            load_doc(&c, root, file);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    if (!ret && c.bad)
        ret = kb_fail(why, KB_EINVAL, "%s%s", c.first,
                      c.bad > 1 ? " (and more errors)" : "");
    return ret;
}

kb_err rule_tests_load_file(const char *path, struct rule_tests *t, struct kb_why *why)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
    /* sized by the file; one byte more notices a file that grew past the bound */
    struct stat st;
    size_t want = fstat(fileno(f), &st) == 0 && st.st_size > 0
                      ? (size_t)KB_MIN((uint64_t)st.st_size, (uint64_t)SIGMA_MAX_FILE_BYTES)
                      : 0;
    char *buf = kb_malloc(want + 2);
    size_t n = fread(buf, 1, want + 1, f);
    bool err = ferror(f) != 0;
    fclose(f);
    kb_err e = err ? kb_fail(why, KB_EIO, "%s: read error", path)
                   : rule_tests_load_buffer(buf, n, path, t, why);
    free(buf);
    return e;
}

void rule_tests_release(struct rule_tests *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        free(t->v[i].event);
        free(t->v[i].source);
        free_ids(t->v[i].want_policies, t->v[i].nwant_policies);
    }
    for (size_t i = 0; i < t->nfiles; i++)
        free(t->files[i]);
    for (size_t i = 0; i < t->nerrors; i++)
        free(t->errors[i]);
    free(t->v);
    free(t->files);
    free(t->errors);
    memset(t, 0, sizeof *t);
}

/* ---- the event of a text line ---- */

static kb_err write_event(void *ctx, struct alert *a)
{
    struct jw *w = ctx;
    struct kb_str msg = a->description.p ? a->description : a->title;
    jw_obj_begin(w);
    if (msg.p)
        jw_kv_kstr(w, "message", msg);
    if (a->host.p)
        jw_kv_kstr(w, "host", a->host);
    if (a->kind.p)
        jw_kv_kstr(w, "kind", a->kind);
    if (a->outcome.p)
        jw_kv_kstr(w, "outcome", a->outcome);
    if (a->native_severity.p)
        jw_kv_kstr(w, "syslog_severity", a->native_severity);
    for (uint32_t i = 0; i < a->nfields; i++)
        jw_kv_kstr(w, a->fields[i].name, a->fields[i].value);
    jw_obj_end(w);
    return KB_OK;
}

kb_err rule_tests_text_event(const char *source, const char *line, size_t len, int64_t ref_ms,
                             struct buf *out, struct kb_why *why)
{
    if (source && strcmp(source, "syslog") != 0)
        return kb_fail(why, KB_EINVAL, "'%s' is not a koban text source (syslog)", source);
    struct arena a = ARENA_INIT(4u * SYSLOG_MAX_LINE);
    struct jw w;
    jw_init(&w, out);
    kb_err e = syslog_normalize_at((struct kb_str){line, len}, ref_ms, &a, write_event, &w, why);
    if (!e && (e = jw_finish(&w)))
        kb_fail(why, e, "the event is larger than %zu bytes", out->max);
    arena_release(&a);
    return e;
}

/* ---- walking folders ---- */

struct pathvec {
    char **v;
    size_t n, cap;
};

static kb_err push(struct pathvec *pv, char *p, struct kb_why *why)
{
    if (pv->n >= RULE_TESTS_MAX_FILES) {
        free(p);
        return kb_fail(why, KB_ETOOBIG, "more than %d files", RULE_TESTS_MAX_FILES);
    }
    if (pv->n == pv->cap) {
        pv->cap = pv->cap ? pv->cap * 2 : 64;
        pv->v = kb_realloc(pv->v, pv->cap * sizeof *pv->v);
    }
    pv->v[pv->n++] = p;
    return KB_OK;
}

static bool has_ext(const char *name, const char *const *exts)
{
    size_t n = strlen(name);
    for (; exts && *exts; exts++) {
        size_t k = strlen(*exts);
        if (n > k && strcmp(name + n - k, *exts) == 0)
            return true;
    }
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static kb_err walk(const char *dir, const char *const *exts, unsigned depth, struct pathvec *pv,
                   struct kb_why *why)
{
    if (depth > RULE_TESTS_MAX_WALK_DEPTH)
        return kb_fail(why, KB_ETOOBIG, "%s: folders nested deeper than %d", dir,
                       RULE_TESTS_MAX_WALK_DEPTH);
    DIR *d = opendir(dir);
    if (!d)
        return kb_fail(why, KB_EIO, "%s: %s", dir, strerror(errno));
    struct pathvec names = {0};
    kb_err e = KB_OK;
    struct dirent *de;
    while (!e && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            e = push(&names, kb_strdup(de->d_name), why);
    closedir(d);
    if (names.n)
        qsort(names.v, names.n, sizeof *names.v, cmp_str);
    for (size_t i = 0; !e && i < names.n; i++) {
        struct buf p = BUF_INIT(8192);
        struct stat st;
        if (buf_printf(&p, "%s/%s", dir, names.v[i])) {
            e = kb_fail(why, KB_ETOOBIG, "%s/%s: path too long", dir, names.v[i]);
        } else if (stat(p.p, &st) != 0) {
            e = kb_fail(why, KB_EIO, "%s: %s", p.p, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            e = walk(p.p, exts, depth + 1, pv, why);
        } else if (S_ISREG(st.st_mode) && has_ext(names.v[i], exts)) {
            e = push(pv, buf_take(&p, NULL), why);
        }
        buf_release(&p);
    }
    rule_tests_paths_free(names.v, names.n);
    return e;
}

kb_err rule_tests_paths(const char *const *paths, size_t npaths, const char *const *exts,
                        char ***out, size_t *n, struct kb_why *why)
{
    struct pathvec pv = {*out, *n, *n};
    kb_err e = KB_OK;
    for (size_t i = 0; !e && i < npaths; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            e = kb_fail(why, KB_EIO, "%s: %s", paths[i], strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            size_t l = strlen(paths[i]);
            char *dir = kb_strndup(paths[i], l > 1 && paths[i][l - 1] == '/' ? l - 1 : l);
            e = walk(dir, exts, 0, &pv, why);
            free(dir);
        } else {
            e = push(&pv, kb_strdup(paths[i]), why);
        }
    }
    *out = pv.v;
    *n = pv.n;
    return e;
}

void rule_tests_paths_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}
