/* inventory_spdx.c — SPDX 2.x documents in JSON.
 *
 * Each entry of "packages" becomes a package through its purl: the
 * externalRefs entry of referenceType "purl" (category PACKAGE-MANAGER, or
 * PACKAGE_MANAGER as SPDX 2.2 spells it) gives ecosystem, name and
 * version (purl.h); "versionInfo" when the purl has no version. Skipped
 * with a warning: a package without a purl (its ecosystem is unknown) and
 * a purl koban cannot read or whose type has no OSV ecosystem. Skipped
 * silently: a package without a purl that the document describes
 * (documentDescribes, or a DESCRIBES relationship from the document) —
 * the scanned image or folder itself, not a dependency. */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_util.h"

#include <stdio.h>

#define SPDX_MAX_DESCRIBED 64 /* subjects remembered; more are rare */

struct described {
    struct kb_str ids[SPDX_MAX_DESCRIBED];
    size_t n;
};

static void remember(struct described *d, struct kb_str id)
{
    if (id.n && d->n < SPDX_MAX_DESCRIBED)
        d->ids[d->n++] = id;
}

static bool is_described(const struct described *d, struct kb_str id)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->ids[i].n == id.n && !memcmp(d->ids[i].p, id.p, id.n))
            return true;
    return false;
}

static void collect_described(const struct json_value *root, struct described *d)
{
    const struct json_value *dd = json_get(root, "documentDescribes");
    if (dd && dd->type == JSON_ARRAY)
        for (const struct json_value *v = dd->u.child; v; v = v->next)
            remember(d, json_str(v));
    const struct json_value *rels = json_get(root, "relationships");
    if (rels && rels->type == JSON_ARRAY)
        for (const struct json_value *r = rels->u.child; r && d->n < SPDX_MAX_DESCRIBED;
             r = r->next)
            if (kb_str_eq(json_str(json_get(r, "relationshipType")), "DESCRIBES") &&
                kb_str_eq(json_str(json_get(r, "spdxElementId")), "SPDXRef-DOCUMENT"))
                remember(d, json_str(json_get(r, "relatedSpdxElement")));
}

static struct kb_str find_purl(const struct json_value *pkg)
{
    const struct json_value *refs = json_get(pkg, "externalRefs");
    if (!refs || refs->type != JSON_ARRAY)
        return KB_STR_NULL;
    for (const struct json_value *r = refs->u.child; r; r = r->next)
        if (kb_str_eq(json_str(json_get(r, "referenceType")), "purl"))
            return json_str(json_get(r, "referenceLocator"));
    return KB_STR_NULL;
}

INVENTORY_PARSER(spdx)
{
    struct arena a;
    struct json_value *root = NULL;
    kb_err e = inventory_json_load(text, len, name, &a, &root, why);
    if (e)
        goto out;
    struct kb_str ver = json_str(json_get(root, "spdxVersion"));
    if (root->type != JSON_OBJECT || ver.n < 5 || memcmp(ver.p, "SPDX-", 5) != 0) {
        e = kb_fail(why, KB_EPARSE, "%s: not an SPDX JSON document (no spdxVersion)", name);
        goto out;
    }
    struct inventory_lines lines;
    inventory_lines_init(&lines, text, len);
    const struct json_value *pkgs = json_get(root, "packages");
    if (!pkgs)
        goto out; /* a document without packages */
    if (pkgs->type != JSON_ARRAY) {
        e = kb_fail(why, KB_EPARSE, "%s:%u: packages is not an array", name,
                    inventory_json_line(&lines, pkgs));
        goto out;
    }
    struct described d = {.n = 0};
    collect_described(root, &d);
    size_t i = 0;
    for (const struct json_value *p = pkgs->u.child; p; p = p->next, i++) {
        unsigned line = inventory_json_line(&lines, p);
        if (p->type != JSON_OBJECT) {
            inventory_warn(inv, "%s:%u: packages[%zu]: not an object; skipped", name, line, i);
            continue;
        }
        struct kb_str pname = json_str(json_get(p, "name"));
        struct kb_str pver = json_str(json_get(p, "versionInfo"));
        struct kb_str purl = find_purl(p);
        char what[400];
        snprintf(what, sizeof what, "package '%.*s'%s%.*s", (int)KB_MIN(pname.n, 200),
                 pname.p ? pname.p : "", pver.n ? " " : "", (int)KB_MIN(pver.n, 100),
                 pver.p ? pver.p : "");
        if (!purl.n) {
            if (!is_described(&d, json_str(json_get(p, "SPDXID"))))
                inventory_warn(inv, "%s:%u: %s: no purl, ecosystem unknown; skipped", name, line,
                               what);
            continue;
        }
        e = inventory_put_purl(inv, purl, pver, what, name, line, false, why);
        if (e)
            goto out;
    }
out:
    arena_release(&a);
    return e;
}
