/*
 * inventory_composer_lock.c — Composer's composer.lock (JSON).
 *
 *   {"packages": [{"name": "symfony/console", "version": "v6.4.8", ...}],
 *    "packages-dev": [{"name": "phpunit/phpunit", "version": "10.5.20", ...}]}
 *
 * Each entry of packages (and of packages-dev, marked dev) is a package
 * of ecosystem Packagist named "vendor/name".
 *
 * The version's leading 'v' or 'V' before a digit is dropped ("v6.4.8" is
 * reported as "6.4.8"): composer.lock keeps the tag as its author wrote
 * it, while OSV's Packagist records (GitHub's advisories, and the version
 * lists osv.dev enumerates, which strip the 'v' since osv.dev#704) spell
 * versions without it. Composer itself treats both as the same version, as
 * koban's Packagist ordering does; dropping it lets exact comparisons with
 * an advisory's "versions" list agree too. Other versions ("dev-main",
 * "1.0.x-dev") are kept as written.
 *
 * An entry without a string name and version is reported with its line
 * and skipped; input that is not JSON, not an object, or has neither list,
 * is refused as a whole.
 */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_util.h"

static struct kb_str drop_v(struct kb_str v)
{
    if (v.n >= 2 && (v.p[0] == 'v' || v.p[0] == 'V') && v.p[1] >= '0' && v.p[1] <= '9')
        return (struct kb_str){v.p + 1, v.n - 1};
    return v;
}

static kb_err list(const struct json_value *arr, const char *key, bool dev, const char *name,
                   struct inventory_lines *lines, struct inventory *inv, struct kb_why *why)
{
    size_t idx = 0;
    for (const struct json_value *p = arr->u.child; p; p = p->next, idx++) {
        unsigned line = inventory_json_line(lines, p);
        if (p->type != JSON_OBJECT) {
            inventory_warn(inv, "%s:%u: %s[%zu]: not an object", name, line, key, idx);
            continue;
        }
        struct kb_str pn = json_str(json_get(p, "name")), pv = json_str(json_get(p, "version"));
        if (!inventory_printable(pn)) {
            inventory_warn(inv, "%s:%u: %s[%zu]: name is missing or not a string", name, line, key,
                           idx);
            continue;
        }
        if (!inventory_printable(pv)) {
            inventory_warn(inv, "%s:%u: %s[%zu] %.*s: version is missing or not a string", name,
                           line, key, idx, (int)KB_MIN(pn.n, 80), pn.p);
            continue;
        }
        kb_err e =
            inventory_put(inv, "Packagist", pn, drop_v(pv), NULL, NULL, name, line, dev, why);
        if (e)
            return e;
    }
    return KB_OK;
}

INVENTORY_PARSER(composer_lock)
{
    struct arena a;
    struct json_value *root;
    kb_err e = inventory_json_load(text, len, name, &a, &root, why);
    if (e)
        goto out;
    const struct json_value *pk = json_get(root, "packages"), *dev = json_get(root, "packages-dev");
    if (root->type != JSON_OBJECT || (!pk && !dev)) {
        e = kb_fail(why, KB_EPARSE, "%s: not a composer.lock: no \"packages\" list", name);
        goto out;
    }
    struct inventory_lines lines;
    inventory_lines_init(&lines, text, len);
    static const char *const keys[] = {"packages", "packages-dev"};
    const struct json_value *lists[] = {pk, dev};
    for (size_t k = 0; !e && k < 2; k++) {
        if (!lists[k] || lists[k]->type == JSON_NULL)
            continue;
        if (lists[k]->type != JSON_ARRAY) {
            e = kb_fail(why, KB_EPARSE, "%s:%u: not a composer.lock: \"%s\" is not a list", name,
                        inventory_json_line(&lines, lists[k]), keys[k]);
            break;
        }
        e = list(lists[k], keys[k], k == 1, name, &lines, inv, why);
    }
out:
    arena_release(&a);
    return e;
}
