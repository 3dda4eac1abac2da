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

struct cargo_ctx {
    struct inventory *inv;
    const char *name;
    struct kb_why *why;
};

static kb_err cargo_package(void *vctx, const struct tomll_value *p, struct kb_str pn,
                            struct kb_str pv)
{
    struct cargo_ctx *c = vctx;
    const struct tomll_value *src = tomll_get(p, "source");
    if (!src)
        return KB_OK; /* the workspace's own crate */
    if (!inventory_printable(tomll_str(src))) {
        inventory_warn(c->inv, "%s:%u: [[package]] %.*s: source is not a string", c->name,
                       src->line, (int)KB_MIN(pn.n, 80), pn.p);
        return KB_OK;
    }
    return inventory_put(c->inv, "crates.io", pn, pv, NULL, NULL, c->name, p->line, false,
                         c->why);
}

INVENTORY_PARSER(cargo_lock)
{
    static const char *const markers[] = {"version", "metadata", "root", NULL};
    struct cargo_ctx c = {inv, name, why};
    return inventory_toml_packages(text, len, name, "Cargo.lock", markers, "no [[package]]", inv,
                                   cargo_package, &c, why);
}
