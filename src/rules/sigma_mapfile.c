/* sigma_mapfile.c — parse the user's Sigma mapping file (libyaml). */
#include "rules/sigma_mapfile.h"

#include "lib/buf.h"
#include "rules/rules_yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct sigma_mapfile {
    struct sigma_logsource_map *logsources;
    size_t nlogsources;
    struct sigma_field_map *fields;
    size_t nfields;
    struct sigma_placeholder *placeholders;
    size_t nplaceholders;
    char **strs; /* every string above, owned */
    size_t nstrs, capstrs;
};

static const char *keep(struct sigma_mapfile *m, const char *s)
{
    if (!s)
        return NULL;
    if (m->nstrs == m->capstrs) {
        m->capstrs = m->capstrs ? m->capstrs * 2 : 64;
        m->strs = kb_realloc(m->strs, m->capstrs * sizeof *m->strs);
    }
    return m->strs[m->nstrs++] = kb_strdup(s);
}

void sigma_mapfile_free(struct sigma_mapfile *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nstrs; i++)
        free(m->strs[i]);
    for (size_t i = 0; i < m->nplaceholders; i++)
        free((void *)m->placeholders[i].values);
    free(m->strs);
    free(m->logsources);
    free(m->fields);
    free(m->placeholders);
    free(m);
}

static kb_err bad(struct kb_why *why, const char *name, const yaml_node_t *n, const char *key,
                  const char *reason)
{
    return kb_fail(why, KB_EINVAL, "%s:%u: %s: %s", name, rules_yaml_line(n), key, reason);
}

/* A scalar member of a row, or NULL when absent; KB_EINVAL when present but
 * not a scalar. */
static kb_err member(yaml_document_t *doc, const yaml_node_t *row, const char *key,
                     const char *name, const char *where, const char **out, struct kb_why *why)
{
    *out = NULL;
    yaml_node_t *v = rules_yaml_get(doc, row, key);
    if (!v)
        return KB_OK;
    if (v->type != YAML_SCALAR_NODE) {
        char k[64];
        snprintf(k, sizeof k, "%s.%s", where, key);
        return bad(why, name, v, k, "expected a text value");
    }
    *out = rules_yaml_cstr(v);
    return KB_OK;
}

static kb_err check_keys(yaml_document_t *doc, const yaml_node_t *row, const char *const *allowed,
                         const char *name, const char *where, struct kb_why *why)
{
    for (yaml_node_pair_t *p = row->data.mapping.pairs.start; p < row->data.mapping.pairs.top;
         p++) {
        const char *k = rules_yaml_cstr(yaml_document_get_node(doc, p->key));
        bool ok = false;
        for (const char *const *a = allowed; k && *a; a++)
            ok |= strcmp(k, *a) == 0;
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown key '%s'", k ? k : "?");
            return bad(why, name, yaml_document_get_node(doc, p->key), where, msg);
        }
    }
    return KB_OK;
}

static kb_err parse_logsources(struct sigma_mapfile *m, yaml_document_t *doc, yaml_node_t *seq,
                               const char *name, struct kb_why *why)
{
    static const char *const allowed[] = {"product", "service", "category", "source", NULL};
    if (seq->type != YAML_SEQUENCE_NODE)
        return bad(why, name, seq, "logsources", "expected a list of rows");
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SIGMA_MAPFILE_MAX_ROWS)
        return bad(why, name, seq, "logsources", "too many rows");
    m->logsources = kb_calloc(n ? n : 1, sizeof *m->logsources);
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *row = yaml_document_get_node(doc, *it);
        if (!row || row->type != YAML_MAPPING_NODE)
            return bad(why, name, row, "logsources", "each row is a mapping");
        kb_err e = check_keys(doc, row, allowed, name, "logsources", why);
        const char *p, *s, *c, *src;
        if (!e)
            e = member(doc, row, "product", name, "logsources", &p, why);
        if (!e)
            e = member(doc, row, "service", name, "logsources", &s, why);
        if (!e)
            e = member(doc, row, "category", name, "logsources", &c, why);
        if (!e)
            e = member(doc, row, "source", name, "logsources", &src, why);
        if (e)
            return e;
        if (!p && !s && !c)
            return bad(why, name, row, "logsources",
                       "a row needs at least one of product, service, category");
        /* source "" or absent: the logsource runs on no koban source */
        struct sigma_logsource_map *r = &m->logsources[m->nlogsources++];
        r->product = keep(m, p);
        r->service = keep(m, s);
        r->category = keep(m, c);
        r->source = src && *src ? keep(m, src) : NULL;
    }
    return KB_OK;
}

static kb_err parse_fields(struct sigma_mapfile *m, yaml_document_t *doc, yaml_node_t *seq,
                           const char *name, struct kb_why *why)
{
    static const char *const allowed[] = {"source", "sigma", "event", NULL};
    if (seq->type != YAML_SEQUENCE_NODE)
        return bad(why, name, seq, "fields", "expected a list of rows");
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > SIGMA_MAPFILE_MAX_ROWS)
        return bad(why, name, seq, "fields", "too many rows");
    m->fields = kb_calloc(n ? n : 1, sizeof *m->fields);
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *row = yaml_document_get_node(doc, *it);
        if (!row || row->type != YAML_MAPPING_NODE)
            return bad(why, name, row, "fields", "each row is a mapping");
        kb_err e = check_keys(doc, row, allowed, name, "fields", why);
        const char *src, *sig, *ev;
        if (!e)
            e = member(doc, row, "source", name, "fields", &src, why);
        if (!e)
            e = member(doc, row, "sigma", name, "fields", &sig, why);
        if (!e)
            e = member(doc, row, "event", name, "fields", &ev, why);
        if (e)
            return e;
        if (!sig || !*sig || !ev || !*ev)
            return bad(why, name, row, "fields", "a row needs both sigma and event");
        struct sigma_field_map *r = &m->fields[m->nfields++];
        r->source = src && *src ? keep(m, src) : NULL;
        r->sigma_field = keep(m, sig);
        r->event_field = keep(m, ev);
    }
    return KB_OK;
}

static kb_err parse_placeholders(struct sigma_mapfile *m, yaml_document_t *doc,
                                 yaml_node_t *map, const char *name, struct kb_why *why)
{
    if (map->type != YAML_MAPPING_NODE)
        return bad(why, name, map, "placeholders", "expected a mapping of name: [values]");
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    if (n > SIGMA_MAPFILE_MAX_ROWS)
        return bad(why, name, map, "placeholders", "too many placeholders");
    m->placeholders = kb_calloc(n ? n : 1, sizeof *m->placeholders);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        const char *key = rules_yaml_cstr(k);
        if (!key || !*key)
            return bad(why, name, k, "placeholders", "a placeholder needs a name");
        char where[160];
        snprintf(where, sizeof where, "placeholders.%s", key);
        size_t nv = 0;
        yaml_node_item_t *first = NULL;
        if (v && v->type == YAML_SEQUENCE_NODE) {
            first = v->data.sequence.items.start;
            nv = (size_t)(v->data.sequence.items.top - first);
        } else if (!v || v->type != YAML_SCALAR_NODE) {
            return bad(why, name, v, where, "expected a value or a list of values");
        }
        if (nv > SIGMA_MAPFILE_MAX_VALUES)
            return bad(why, name, v, where, "too many values");
        struct sigma_placeholder *ph = &m->placeholders[m->nplaceholders++];
        ph->name = keep(m, key);
        const char **vals = kb_calloc(first ? (nv ? nv : 1) : 1, sizeof *vals);
        ph->values = vals;
        if (!first) {
            vals[0] = keep(m, rules_yaml_cstr(v));
            ph->nvalues = 1;
            continue;
        }
        for (size_t i = 0; i < nv; i++) {
            yaml_node_t *e = yaml_document_get_node(doc, first[i]);
            if (!e || e->type != YAML_SCALAR_NODE)
                return bad(why, name, e ? e : v, where, "each value is text");
            vals[ph->nvalues++] = keep(m, rules_yaml_cstr(e));
        }
    }
    return KB_OK;
}

kb_err sigma_mapfile_parse(const char *text, size_t len, const char *name,
                           struct sigma_mapfile **out, struct kb_why *why)
{
    *out = NULL;
    yaml_parser_t ps;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&ps))
        return kb_fail(why, KB_EIO, "%s: cannot start the YAML parser", name);
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    if (!yaml_parser_load(&ps, &doc)) {
        kb_err e = kb_fail(why, KB_EPARSE, "%s:%zu: %s", name, ps.problem_mark.line + 1,
                           ps.problem ? ps.problem : "YAML syntax error");
        yaml_parser_delete(&ps);
        return e;
    }
    struct sigma_mapfile *m = kb_calloc(1, sizeof *m);
    kb_err e = KB_OK;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type != YAML_MAPPING_NODE) {
        e = bad(why, name, root, "(top)", "expected a mapping with logsources, fields, placeholders");
    } else if (root) {
        static const char *const allowed[] = {"logsources", "fields", "placeholders", NULL};
        e = check_keys(&doc, root, allowed, name, "(top)", why);
        yaml_node_t *n;
        if (!e && (n = rules_yaml_get(&doc, root, "logsources")))
            e = parse_logsources(m, &doc, n, name, why);
        if (!e && (n = rules_yaml_get(&doc, root, "fields")))
            e = parse_fields(m, &doc, n, name, why);
        if (!e && (n = rules_yaml_get(&doc, root, "placeholders")))
            e = parse_placeholders(m, &doc, n, name, why);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&ps);
    if (e) {
        sigma_mapfile_free(m);
        return e;
    }
    *out = m;
    return KB_OK;
}

kb_err sigma_mapfile_load(const char *path, struct sigma_mapfile **out, struct kb_why *why)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
    struct buf b = BUF_INIT(SIGMA_MAX_FILE_BYTES);
    char chunk[8192];
    size_t n;
    kb_err e = KB_OK;
    while (!e && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n))
            e = kb_fail(why, KB_ETOOBIG, "%s: larger than %u bytes", path, SIGMA_MAX_FILE_BYTES);
    if (!e && ferror(f))
        e = kb_fail(why, KB_EIO, "%s: read error", path);
    fclose(f);
    if (!e)
        e = sigma_mapfile_parse(b.p ? b.p : "", b.len, path, out, why);
    buf_release(&b);
    return e;
}

void sigma_mapfile_apply(const struct sigma_mapfile *m, struct sigma_options *opt)
{
    opt->logsources = m->logsources;
    opt->nlogsources = m->nlogsources;
    opt->fields = m->fields;
    opt->nfields = m->nfields;
    opt->placeholders = m->placeholders;
    opt->nplaceholders = m->nplaceholders;
}
