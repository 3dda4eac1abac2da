/* inventory_util.c — lines, JSON and YAML loading for the inventory
 * parsers (inventory_util.h). */
#include "vuln/inventory_util.h"

#include "vuln/toml_lite.h"

#include "vuln/purl.h"

#include <stdio.h>

bool inventory_npm_purl(struct kb_str name, struct kb_str version, char *buf, size_t cap)
{
    char n[512], v[256];
    if (name.n >= sizeof n || version.n >= sizeof v)
        return false;
    memcpy(n, name.p, name.n);
    n[name.n] = '\0';
    memcpy(v, version.p, version.n);
    v[version.n] = '\0';
    char *slash = n[0] == '@' ? strchr(n, '/') : NULL;
    if (slash)
        *slash = '\0';
    return purl_format("npm", slash ? n : NULL, slash ? slash + 1 : n, v, buf, cap) == KB_OK;
}

kb_err inventory_put(struct inventory *inv, const char *ecosystem, struct kb_str name,
                     struct kb_str version, const char *source, const char *purl,
                     const char *file, unsigned line, bool dev, struct kb_why *why)
{
    char loc[512];
    snprintf(loc, sizeof loc, "%s:%u", file, line);
    kb_err e = inventory_add(inv, ecosystem, name, version, source, purl, loc, dev);
    if (e)
        return kb_fail(why, e, "%s: more than %d packages or out of memory", loc,
                       INVENTORY_MAX_PACKAGES);
    return KB_OK;
}

bool inventory_printable(struct kb_str s)
{
    if (!s.p || !s.n)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
            return false;
    return true;
}

void inventory_lines_init(struct inventory_lines *l, const char *text, size_t len)
{
    *l = (struct inventory_lines){text, len, 0, 1};
}

unsigned inventory_line_at(struct inventory_lines *l, size_t off)
{
    if (off > l->len)
        off = l->len;
    if (off < l->off) {
        l->off = 0;
        l->line = 1;
    }
    for (const char *p = l->text + l->off, *e = l->text + off;
         p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        l->line++;
    l->off = off;
    return l->line;
}

void inventory_cursor_init(struct inventory_cursor *c, const char *text, size_t len)
{
    *c = (struct inventory_cursor){text, text + len, 0};
}

bool inventory_next_line(struct inventory_cursor *c, struct kb_str *line)
{
    if (c->p >= c->end)
        return false;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    const char *e = nl ? nl : c->end;
    *line = (struct kb_str){c->p, (size_t)(e - c->p)};
    if (line->n && line->p[line->n - 1] == '\r')
        line->n--;
    c->p = nl ? nl + 1 : c->end;
    c->line++;
    return true;
}

struct kb_str inventory_trim(struct kb_str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

kb_err inventory_json_load(const char *text, size_t len, const char *name, struct arena *a,
                           struct json_value **root, struct kb_why *why)
{
    size_t limit = len > INVENTORY_JSON_ARENA_MAX / INVENTORY_JSON_ARENA_PER_BYTE
                       ? INVENTORY_JSON_ARENA_MAX
                       : len * INVENTORY_JSON_ARENA_PER_BYTE + (1u << 20);
    arena_init(a, limit);
    struct json_limits lim = {.max_depth = INVENTORY_JSON_DEPTH, .max_bytes = INVENTORY_MAX_BYTES};
    struct json_error err = {0};
    kb_err e = json_parse(text, len, &lim, a, root, &err);
    if (e)
        return kb_fail(why, e, "%s:%u:%u: %s", name, err.line, err.col, err.msg);
    return KB_OK;
}

unsigned inventory_json_line(struct inventory_lines *l, const struct json_value *v)
{
    return inventory_line_at(l, v->src_off);
}

kb_err inventory_yaml_load(const char *text, size_t len, const char *name, yaml_document_t *doc,
                           struct kb_why *why)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return kb_fail(why, KB_ETOOBIG, "%s: out of memory", name);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    kb_err e = KB_OK;
    if (!yaml_parser_load(&p, doc)) {
        e = kb_fail(why, KB_EPARSE, "%s:%zu: %s%s%s", name, p.problem_mark.line + 1,
                    p.problem ? p.problem : "not YAML", p.context ? " " : "",
                    p.context ? p.context : "");
    } else if (!yaml_document_get_root_node(doc)) {
        yaml_document_delete(doc);
        e = kb_fail(why, KB_EPARSE, "%s: empty YAML document", name);
    }
    yaml_parser_delete(&p);
    return e;
}

yaml_node_t *inventory_yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    size_t klen = strlen(key);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == klen &&
            memcmp(k->data.scalar.value, key, klen) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

struct kb_str inventory_yaml_str(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return KB_STR_NULL;
    return (struct kb_str){(const char *)n->data.scalar.value, n->data.scalar.length};
}

unsigned inventory_yaml_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 0;
}

kb_err inventory_put_purl(struct inventory *inv, struct kb_str purl,
                          struct kb_str fallback_version, const char *what, const char *file,
                          unsigned line, bool dev, struct kb_why *why)
{
    struct arena a; /* one purl's decoded parts: a few times PURL_MAX_LEN at most */
    arena_init(&a, 16 * PURL_MAX_LEN);
    struct purl p;
    struct kb_why pwhy = {{0}};
    char eco[64], pkg[1024];
    int pn = (int)KB_MIN(purl.n, 300);
    kb_err e = KB_OK;
    if (purl_parse(purl.p, purl.n, &a, &p, &pwhy) != KB_OK) {
        inventory_warn(inv, "%s:%u: %s: %s; skipped", file, line, what, pwhy.msg);
    } else if (purl_ecosystem(&p, eco, sizeof eco) != KB_OK) {
        inventory_warn(inv, "%s:%u: %s: purl '%.*s': type '%s' has no OSV ecosystem; skipped",
                       file, line, what, pn, purl.p, p.type);
    } else if (purl_package_name(&p, pkg, sizeof pkg) != KB_OK) {
        inventory_warn(inv, "%s:%u: %s: purl '%.*s': name too long; skipped", file, line, what,
                       pn, purl.p);
    } else {
        struct kb_str ver = p.version ? kb_str_c(p.version) : fallback_version;
        if (!inventory_printable(ver)) {
            inventory_warn(inv, "%s:%u: %s: purl '%.*s': no version; skipped", file, line, what,
                           pn, purl.p);
        } else {
            char canon[PURL_MAX_LEN + 1];
            memcpy(canon, purl.p, purl.n); /* purl_parse bounded purl.n */
            canon[purl.n] = '\0';
            e = inventory_put(inv, eco, kb_str_c(pkg), ver, purl_qualifier(&p, "upstream"),
                              canon, file, line, dev, why);
        }
    }
    arena_release(&a);
    return e;
}

kb_err inventory_toml_packages(const char *text, size_t len, const char *name, const char *what,
                               const char *const *markers, const char *missing,
                               struct inventory *inv,
                               inventory_toml_fn fn, void *ctx, struct kb_why *why)
{
    struct arena a;
    size_t limit = len * 16 + (1u << 20);
    arena_init(&a, KB_MIN(limit, (size_t)1 << 30));
    struct tomll_value *root = NULL;
    struct tomll_error err;
    kb_err e = tomll_parse(text, len, NULL, &a, &root, &err);
    if (e) {
        e = kb_fail(why, e, "%s:%u: %s", name, err.line, err.msg);
        goto out;
    }
    const struct tomll_value *pkgs = tomll_get(root, "package");
    if (!pkgs) {
        bool marked = false;
        for (const char *const *m = markers; *m && !marked; m++)
            marked = tomll_get(root, *m) != NULL;
        if (!marked)
            e = kb_fail(why, KB_EPARSE, "%s: not a %s: %s", name, what, missing);
        goto out;
    }
    if (pkgs->type != TOMLL_ARRAY || !(pkgs->flags & TOMLL_F_TABLES)) {
        e = kb_fail(why, KB_EPARSE, "%s:%u: not a %s: package is not [[package]]", name,
                    pkgs->line, what);
        goto out;
    }
    for (const struct tomll_value *p = pkgs->child; !e && p; p = p->next) {
        const struct tomll_value *n = tomll_get(p, "name"), *v = tomll_get(p, "version");
        struct kb_str pn = tomll_str(n), pv = tomll_str(v);
        if (!inventory_printable(pn)) {
            inventory_warn(inv, "%s:%u: [[package]]: name is %s", name, n ? n->line : p->line,
                           n ? "not a printable string" : "missing");
            continue;
        }
        if (!inventory_printable(pv)) {
            inventory_warn(inv, "%s:%u: [[package]] %.*s: version is %s", name,
                           v ? v->line : p->line, (int)KB_MIN(pn.n, 80), pn.p,
                           v ? "not a printable string" : "missing");
            continue;
        }
        e = fn(ctx, p, pn, pv);
    }
out:
    arena_release(&a);
    return e;
}
