/* inventory_yarn_lock.c — yarn.lock, classic (v1) and berry (v2+).
 *
 * Classic: an entry is a line at column 0 ending in ':' that lists the
 * requests it satisfies ("name@range, name@range2:", each maybe quoted),
 * followed by indented fields, among them `version "1.2.3"`. The name is
 * that of the first request; a request "alias@npm:real@^1" installs real.
 *
 * Berry: a YAML document with a "__metadata" key; every other key is an
 * entry with `version:` and `resolution: "name@npm:1.2.3"`, the name taken
 * from the resolution. Skipped: workspace, link and portal entries (the
 * project's own folders, linkType soft) and patch: entries (the patched
 * release is listed under its npm: entry too).
 *
 * Ecosystem "npm", with a purl; yarn.lock does not say what is for
 * development only. An entry without a version is reported and skipped. */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_util.h"

static kb_err add(struct inventory *inv, const char *name, unsigned line, struct kb_str pkg,
                  struct kb_str ver, struct kb_why *why)
{
    char purl[1024];
    bool has = inventory_npm_purl(pkg, ver, purl, sizeof purl);
    return inventory_put(inv, "npm", pkg, ver, NULL, has ? purl : NULL, name, line, false, why);
}

/* The position of the '@' ending the name in "name@...": the first one
 * after the first character (a scope starts with '@'). */
static const char *name_end(struct kb_str s)
{
    return s.n > 1 ? memchr(s.p + 1, '@', s.n - 1) : NULL;
}

static struct kb_str unquote(struct kb_str s)
{
    s = inventory_trim(s);
    if (s.n >= 2 && (s.p[0] == '"' || s.p[0] == '\'') && s.p[s.n - 1] == s.p[0])
        s.p++, s.n -= 2;
    return s;
}

/* The package name of a classic entry header's first request. */
static struct kb_str classic_name(struct kb_str header)
{
    struct kb_str first = header;
    const char *comma = memchr(header.p, ',', header.n);
    if (comma)
        first.n = (size_t)(comma - header.p);
    first = unquote(first);
    const char *at = name_end(first);
    if (!at)
        return first;
    struct kb_str range = {at + 1, (size_t)(first.p + first.n - at - 1)};
    if (range.n > 4 && !memcmp(range.p, "npm:", 4)) {
        struct kb_str real = {range.p + 4, range.n - 4};
        const char *rat = name_end(real);
        return rat ? (struct kb_str){real.p, (size_t)(rat - real.p)} : real;
    }
    return (struct kb_str){first.p, (size_t)(at - first.p)};
}

struct entry {
    struct kb_str pkg, ver;
    unsigned line;
    bool open;
};

static kb_err classic_finish(struct entry *en, const char *name, struct inventory *inv,
                             struct kb_why *why)
{
    if (!en->open)
        return KB_OK;
    en->open = false;
    if (!inventory_printable(en->ver) || !inventory_printable(en->pkg)) {
        inventory_warn(inv, "%s:%u: %.*s: no version; skipped", name, en->line,
                       (int)KB_MIN(en->pkg.n, 200), en->pkg.p ? en->pkg.p : "");
        return KB_OK;
    }
    return add(inv, name, en->line, en->pkg, en->ver, why);
}

static kb_err classic(const char *text, size_t len, const char *name, struct inventory *inv,
                      struct kb_why *why)
{
    struct inventory_cursor cur;
    inventory_cursor_init(&cur, text, len);
    struct kb_str line;
    struct entry en = {0};
    unsigned entries = 0, other = 0;
    while (inventory_next_line(&cur, &line)) {
        struct kb_str t = inventory_trim(line);
        if (!t.n || t.p[0] == '#')
            continue;
        if (line.p[0] != ' ' && line.p[0] != '\t') {
            kb_err e = classic_finish(&en, name, inv, why);
            if (e)
                return e;
            if (t.p[t.n - 1] != ':') {
                inventory_warn(inv, "%s:%u: not an entry header (name@range:); ignored", name,
                               cur.line);
                other++;
                continue;
            }
            en = (struct entry){.pkg = classic_name((struct kb_str){t.p, t.n - 1}),
                                .line = cur.line, .open = true};
            entries++;
            continue;
        }
        /* only the entry's own fields (one indentation level) matter */
        size_t indent = (size_t)(t.p - line.p);
        if (!en.open || indent > 2 || en.ver.p)
            continue;
        if (t.n > 8 && !memcmp(t.p, "version", 7) && (t.p[7] == ' ' || t.p[7] == ':'))
            en.ver = unquote((struct kb_str){t.p + 8, t.n - 8});
    }
    kb_err e = classic_finish(&en, name, inv, why);
    if (e)
        return e;
    if (!entries && other)
        return kb_fail(why, KB_EPARSE, "%s: not a yarn.lock (no entries)", name);
    return KB_OK;
}

static kb_err berry(const char *text, size_t len, const char *name, struct inventory *inv,
                    struct kb_why *why)
{
    yaml_document_t doc;
    kb_err e = inventory_yaml_load(text, len, name, &doc, why);
    if (e)
        return e;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root->type != YAML_MAPPING_NODE || !inventory_yaml_get(&doc, root, "__metadata")) {
        e = kb_fail(why, KB_EPARSE, "%s: not a yarn.lock (no __metadata mapping)", name);
        goto out;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        struct kb_str key = inventory_yaml_str(k);
        if (kb_str_eq(key, "__metadata"))
            continue;
        unsigned line = inventory_yaml_line(k);
        int kn = (int)KB_MIN(key.n, 200);
        if (!v || v->type != YAML_MAPPING_NODE) {
            inventory_warn(inv, "%s:%u: %.*s: not a mapping; skipped", name, line, kn,
                           key.p ? key.p : "");
            continue;
        }
        struct kb_str res = unquote(inventory_yaml_str(inventory_yaml_get(&doc, v, "resolution")));
        struct kb_str ver = inventory_yaml_str(inventory_yaml_get(&doc, v, "version"));
        struct kb_str link = inventory_yaml_str(inventory_yaml_get(&doc, v, "linkType"));
        const char *at = res.p ? name_end(res) : NULL;
        struct kb_str proto = at ? (struct kb_str){at + 1, (size_t)(res.p + res.n - at - 1)}
                                 : KB_STR_NULL;
        static const char *const skip[] = {"workspace:", "link:", "portal:", "patch:"};
        bool skipped = kb_str_eq(link, "soft");
        for (size_t i = 0; !skipped && at && i < KB_ARRAY_LEN(skip); i++)
            skipped = proto.n >= strlen(skip[i]) && !memcmp(proto.p, skip[i], strlen(skip[i]));
        if (skipped)
            continue;
        if (!at || !inventory_printable(ver)) {
            inventory_warn(inv, "%s:%u: %.*s: no %s; skipped", name, line, kn, key.p ? key.p : "",
                           at ? "version" : "resolution 'name@protocol:version'");
            continue;
        }
        e = add(inv, name, line, (struct kb_str){res.p, (size_t)(at - res.p)}, ver, why);
        if (e)
            goto out;
    }
out:
    yaml_document_delete(&doc);
    return e;
}

INVENTORY_PARSER(yarn_lock)
{
    /* berry files carry a __metadata key at column 0; classic ones never do */
    bool is_berry = (len >= 11 && !memcmp(text, "__metadata:", 11)) ||
                    memmem(text, len, "\n__metadata:", 12) != NULL;
    return is_berry ? berry(text, len, name, inv, why) : classic(text, len, name, inv, why);
}
