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

struct poetry_ctx {
    struct inventory *inv;
    const char *name;
    struct kb_why *why;
};

static kb_err poetry_package(void *vctx, const struct tomll_value *p, struct kb_str pn,
                             struct kb_str pv)
{
    struct poetry_ctx *c = vctx;
    return inventory_put(c->inv, "PyPI", pn, pv, NULL, NULL, c->name, p->line, is_dev(p), c->why);
}

INVENTORY_PARSER(poetry_lock)
{
    static const char *const markers[] = {"metadata", NULL};
    struct poetry_ctx c = {inv, name, why};
    return inventory_toml_packages(text, len, name, "poetry.lock", markers,
                                   "no [[package]] nor [metadata]", inv, poetry_package, &c, why);
}
