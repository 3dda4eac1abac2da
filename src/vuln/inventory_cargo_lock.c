/*
 * inventory_cargo_lock.c — Cargo's Cargo.lock (TOML, read with
 * toml_lite.h), all lock format versions.
 *
 *   [[package]]
 *   name = "serde"
 *   version = "1.0.193"
 *   source = "registry+https://github.com/rust-lang/crates.io-index"
 *
 * Each [[package]] with a source is a package of ecosystem crates.io. A
 * package without a source is one of the workspace's own crates (or a
 * path dependency): not a dependency anyone publishes advisories for, so
 * it is skipped silently. Git and other registry sources are kept: the
 * crate name is what advisories name. Cargo.lock does not say which crates
 * only serve development, so none is marked dev. The [metadata] checksums
 * of format 1 are read past. A [[package]] without a name or version is
 * reported and skipped; input that is not TOML, or whose "package" is not
 * an array of tables, is refused as a whole.
 */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_util.h"
#include "vuln/toml_lite.h"

INVENTORY_PARSER(cargo_lock)
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
        if (!tomll_get(root, "version") && !tomll_get(root, "metadata") && !tomll_get(root, "root"))
            e = kb_fail(why, KB_EPARSE, "%s: not a Cargo.lock: no [[package]]", name);
        goto out;
    }
    if (pkgs->type != TOMLL_ARRAY || !(pkgs->flags & TOMLL_F_TABLES)) {
        e = kb_fail(why, KB_EPARSE, "%s:%u: not a Cargo.lock: package is not [[package]]", name,
                    pkgs->line);
        goto out;
    }
    for (const struct tomll_value *p = pkgs->child; !e && p; p = p->next) {
        const struct tomll_value *n = tomll_get(p, "name"), *v = tomll_get(p, "version"),
                                 *src = tomll_get(p, "source");
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
        if (!src)
            continue; /* the workspace's own crate */
        if (!inventory_printable(tomll_str(src))) {
            inventory_warn(inv, "%s:%u: [[package]] %.*s: source is not a string", name, src->line,
                           (int)KB_MIN(pn.n, 80), pn.p);
            continue;
        }
        e = inventory_put(inv, "crates.io", pn, pv, NULL, NULL, name, p->line, false, why);
    }
out:
    arena_release(&a);
    return e;
}
