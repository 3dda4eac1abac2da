/* inventory_npm_lock.c — npm's package-lock.json and npm-shrinkwrap.json.
 *
 * lockfileVersion 2 and 3: the "packages" map, keyed by install path
 * ("node_modules/a", "node_modules/a/node_modules/@s/b"); the name is what
 * follows the last "node_modules/" (or the entry's "name" for an alias).
 * Skipped: the root "" (the project itself), paths outside node_modules
 * (the project's workspaces), and "link": true entries (a symlink to such
 * a folder). "dev": true marks development-only packages.
 *
 * lockfileVersion 1 (and version 2 without "packages"): the "dependencies"
 * tree, name -> {version, dev, dependencies: {...}} nested to any depth the
 * JSON bound allows. A version "npm:real@1.2.3" is an alias of real;
 * versions naming no registry release ("file:", "link:", git URLs) are
 * skipped: no advisory can match them.
 *
 * A package installed at several paths is listed once (its first path, and
 * the dev flag found there). Every package gets its purl (pkg:npm/...). An entry without a string
 * version is reported ("FILE:LINE: packages.node_modules/x: version is not
 * a string") and skipped. */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_seen.h"
#include "vuln/inventory_util.h"

struct ctx {
    const char *name;
    struct inventory *inv;
    struct inventory_lines lines;
    struct inventory_seen seen; /* (name, version) already added */
    struct kb_why *why;
};

static kb_err add(struct ctx *c, struct kb_str pkg, struct kb_str ver, bool dev,
                  const struct json_value *at)
{
    bool added = false;
    kb_err e = inventory_seen_add(&c->seen, pkg, ver, &added);
    if (e || !added)
        return e ? kb_fail(c->why, e, "%s: more than %d packages", c->name,
                           INVENTORY_MAX_PACKAGES)
                 : KB_OK;
    char purl[1024];
    bool has_purl = inventory_npm_purl(pkg, ver, purl, sizeof purl);
    return inventory_put(c->inv, "npm", pkg, ver, NULL, has_purl ? purl : NULL, c->name,
                         inventory_json_line(&c->lines, at), dev, c->why);
}

static bool is_true(const struct json_value *v)
{
    return v && v->type == JSON_TRUE;
}

static kb_err packages_map(struct ctx *c, const struct json_value *pkgs)
{
    static const char nm[] = "node_modules/";
    for (const struct json_value *e = pkgs->u.child; e; e = e->next) {
        struct kb_str key = {e->key, e->key_len};
        int kn = (int)KB_MIN(key.n, 300);
        if (!key.n)
            continue; /* the project itself */
        const char *last = NULL;
        for (const char *p = key.p; (p = memmem(p, (size_t)(key.p + key.n - p), nm,
                                                 sizeof nm - 1)) != NULL;
             p += sizeof nm - 1)
            last = p + sizeof nm - 1;
        if (!last)
            continue; /* a workspace folder: the project's own code */
        unsigned line = inventory_json_line(&c->lines, e);
        if (e->type != JSON_OBJECT) {
            inventory_warn(c->inv, "%s:%u: packages.%.*s: not an object; skipped", c->name, line,
                           kn, key.p);
            continue;
        }
        if (is_true(json_get(e, "link")))
            continue;
        struct kb_str pkg = json_str(json_get(e, "name"));
        if (!inventory_printable(pkg))
            pkg = (struct kb_str){last, (size_t)(key.p + key.n - last)};
        struct kb_str ver = json_str(json_get(e, "version"));
        if (!inventory_printable(ver) || !inventory_printable(pkg)) {
            inventory_warn(c->inv, "%s:%u: packages.%.*s: version is not a string; skipped",
                           c->name, line, kn, key.p);
            continue;
        }
        kb_err err = add(c, pkg, ver, is_true(json_get(e, "dev")), e);
        if (err)
            return err;
    }
    return KB_OK;
}

static kb_err dependencies_tree(struct ctx *c, const struct json_value *deps)
{
    for (const struct json_value *e = deps->u.child; e; e = e->next) {
        struct kb_str pkg = {e->key, e->key_len};
        int kn = (int)KB_MIN(pkg.n, 300);
        unsigned line = inventory_json_line(&c->lines, e);
        if (e->type != JSON_OBJECT) {
            inventory_warn(c->inv, "%s:%u: dependencies.%.*s: not an object; skipped", c->name,
                           line, kn, pkg.p);
            continue;
        }
        struct kb_str ver = json_str(json_get(e, "version"));
        if (!inventory_printable(ver) || !inventory_printable(pkg)) {
            inventory_warn(c->inv, "%s:%u: dependencies.%.*s: version is not a string; skipped",
                           c->name, line, kn, pkg.p);
        } else {
            if (ver.n > 4 && !memcmp(ver.p, "npm:", 4)) {
                /* "npm:real-name@1.2.3" (the '@' of a scope is not the separator) */
                struct kb_str alias = {ver.p + 4, ver.n - 4};
                const char *at = NULL;
                for (size_t i = alias.n; i > 1 && !at; i--)
                    if (alias.p[i - 1] == '@')
                        at = alias.p + i - 1;
                if (at) {
                    pkg = (struct kb_str){alias.p, (size_t)(at - alias.p)};
                    ver = (struct kb_str){at + 1, (size_t)(alias.p + alias.n - at - 1)};
                }
            }
            if (ver.n && !memchr(ver.p, ':', ver.n) && !memchr(ver.p, '/', ver.n)) {
                kb_err err = add(c, pkg, ver, is_true(json_get(e, "dev")), e);
                if (err)
                    return err;
            }
        }
        const struct json_value *sub = json_get(e, "dependencies");
        if (sub && sub->type == JSON_OBJECT) {
            kb_err err = dependencies_tree(c, sub);
            if (err)
                return err;
        }
    }
    return KB_OK;
}

INVENTORY_PARSER(npm_lock)
{
    struct arena a;
    struct json_value *root = NULL;
    kb_err e = inventory_json_load(text, len, name, &a, &root, why);
    if (e)
        goto out;
    const struct json_value *pkgs = json_get(root, "packages");
    const struct json_value *deps = json_get(root, "dependencies");
    const struct json_value *lv = json_get(root, "lockfileVersion");
    if (root->type != JSON_OBJECT || (!lv && !pkgs && !deps)) {
        e = kb_fail(why, KB_EPARSE, "%s: not a package-lock.json (no lockfileVersion, packages "
                    "or dependencies)", name);
        goto out;
    }
    struct ctx c = {.name = name, .inv = inv, .why = why, .seen = INVENTORY_SEEN_INIT};
    inventory_lines_init(&c.lines, text, len);
    if (pkgs && pkgs->type == JSON_OBJECT)
        e = packages_map(&c, pkgs);
    else if (deps && deps->type == JSON_OBJECT)
        e = dependencies_tree(&c, deps);
    else if (pkgs || deps)
        e = kb_fail(why, KB_EPARSE, "%s:%u: %s is not an object", name,
                    inventory_json_line(&c.lines, pkgs ? pkgs : deps),
                    pkgs ? "packages" : "dependencies");
    inventory_seen_release(&c.seen);
out:
    arena_release(&a);
    return e;
}
