/*
 * inventory_poetry_lock.c — Poetry's poetry.lock (TOML, read with
 * toml_lite.h).
 *
 *   [[package]]
 *   name = "requests"
 *   version = "2.31.0"
 *   groups = ["main"]            # Poetry 2 (lock format 2.1)
 *   category = "dev"             # Poetry 1 (older lock formats)
 *
 * Each [[package]] table with a string name and version is a package of
 * ecosystem PyPI, its name as written. It is a development dependency when
 * category is "dev", or when groups is given and does not hold "main"
 * (only test, docs, dev ... groups need it). Packages from a git, path or
 * URL [package.source] are kept: their name is still the PyPI project
 * they stand for. A [[package]] without a name or version is reported and
 * skipped; input that is not TOML, or whose "package" is not an array of
 * tables, is refused as a whole.
 */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_util.h"
#include "vuln/toml_lite.h"

static bool is_dev(const struct tomll_value *pkg)
{
    struct kb_str cat = tomll_str(tomll_get(pkg, "category"));
    if (cat.p)
        return kb_str_eq(cat, "dev");
    const struct tomll_value *groups = tomll_get(pkg, "groups");
    if (!groups || groups->type != TOMLL_ARRAY)
        return false;
    for (const struct tomll_value *g = groups->child; g; g = g->next)
        if (kb_str_eq(tomll_str(g), "main"))
            return false;
    return groups->count > 0;
}

INVENTORY_PARSER(poetry_lock)
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
        if (!tomll_get(root, "metadata"))
            e = kb_fail(why, KB_EPARSE, "%s: not a poetry.lock: no [[package]] nor [metadata]",
                        name);
        goto out;
    }
    if (pkgs->type != TOMLL_ARRAY || !(pkgs->flags & TOMLL_F_TABLES)) {
        e = kb_fail(why, KB_EPARSE, "%s:%u: not a poetry.lock: package is not [[package]]", name,
                    pkgs->line);
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
        e = inventory_put(inv, "PyPI", pn, pv, NULL, NULL, name, p->line, is_dev(p), why);
    }
out:
    arena_release(&a);
    return e;
}
