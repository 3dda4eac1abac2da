/* inventory_cyclonedx.c — CycloneDX SBOMs in JSON (spec 1.2 to 1.7).
 *
 * Every entry of "components", and of each component's own "components"
 * at any depth the JSON bound allows, becomes a package through its purl
 * (ecosystem, name and version: purl.h; the component's "version" when the
 * purl has none). Skipped with a warning: a component without a purl (its
 * ecosystem is unknown), a purl koban cannot read or whose type has no OSV
 * ecosystem (generic, docker, ...). Skipped silently: metadata.component
 * (what the SBOM describes, not a dependency of it) and components of type
 * "file" or "operating-system", which are not packages. A component of
 * scope "excluded" is marked dev (not part of what runs). */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_util.h"

#include <stdio.h>

struct ctx {
    const char *name;
    struct inventory *inv;
    struct inventory_lines lines;
    struct kb_why *why;
};

static kb_err components(struct ctx *c, const struct json_value *arr, const char *path)
{
    size_t i = 0;
    for (const struct json_value *comp = arr->u.child; comp; comp = comp->next, i++) {
        unsigned line = inventory_json_line(&c->lines, comp);
        char what[400];
        if (comp->type != JSON_OBJECT) {
            inventory_warn(c->inv, "%s:%u: %s[%zu]: not an object; skipped", c->name, line, path,
                           i);
            continue;
        }
        struct kb_str cname = json_str(json_get(comp, "name"));
        struct kb_str cver = json_str(json_get(comp, "version"));
        struct kb_str type = json_str(json_get(comp, "type"));
        struct kb_str purl = json_str(json_get(comp, "purl"));
        snprintf(what, sizeof what, "component '%.*s'%s%.*s", (int)KB_MIN(cname.n, 200),
                 cname.p ? cname.p : "", cver.n ? " " : "", (int)KB_MIN(cver.n, 100),
                 cver.p ? cver.p : "");
        if (kb_str_eq(type, "file") || kb_str_eq(type, "operating-system")) {
            /* not a package */
        } else if (!purl.n) {
            inventory_warn(c->inv, "%s:%u: %s: no purl, ecosystem unknown; skipped", c->name,
                           line, what);
        } else {
            bool dev = kb_str_eq(json_str(json_get(comp, "scope")), "excluded");
            kb_err e = inventory_put_purl(c->inv, purl, cver, what, c->name, line, dev, c->why);
            if (e)
                return e;
        }
        const struct json_value *sub = json_get(comp, "components");
        if (sub && sub->type == JSON_ARRAY) {
            kb_err e = components(c, sub, "components");
            if (e)
                return e;
        }
    }
    return KB_OK;
}

INVENTORY_PARSER(cyclonedx)
{
    struct arena a;
    struct json_value *root = NULL;
    kb_err e = inventory_json_load(text, len, name, &a, &root, why);
    if (e)
        goto out;
    struct kb_str fmt = json_str(json_get(root, "bomFormat"));
    const struct json_value *comps = json_get(root, "components");
    if (root->type != JSON_OBJECT || (!kb_str_eq(fmt, "CycloneDX") && !comps)) {
        e = kb_fail(why, KB_EPARSE, "%s: not a CycloneDX JSON document (no bomFormat)", name);
        goto out;
    }
    struct ctx c = {.name = name, .inv = inv, .why = why};
    inventory_lines_init(&c.lines, text, len);
    if (comps && comps->type == JSON_ARRAY)
        e = components(&c, comps, "components");
    else if (comps)
        e = kb_fail(why, KB_EPARSE, "%s:%u: components is not an array", name,
                    inventory_json_line(&c.lines, comps));
out:
    arena_release(&a);
    return e;
}
