/* inventory_pnpm_lock.c — pnpm-lock.yaml, lockfile versions 5 to 9.
 *
 * The "packages" mapping is read; its keys name the package and version:
 *   5.x  "/name/1.2.3", "/@scope/name/1.2.3_peer@2.0.0+other@1.0.0"
 *        ("registry.example.com/name/1.2.3" from another registry)
 *   6.x  "/name@1.2.3", "/@scope/name@1.2.3(peer@2.0.0)(other@1.0.0)"
 *   9.x  "name@1.2.3" (peers only under "snapshots", which is not read: it
 *        lists the same packages again, once per peer combination)
 * The peer suffix ("_..." in 5.x, "(...)" from 6.x) is dropped, and a
 * package listed once per peer combination is added once. An entry's
 * own "name" and "version" fields, written for packages not from the
 * registry, take precedence over the key. Versions that are no release
 * ("link:", "file:", URLs) are skipped; "dev: true" marks development-only
 * packages (5.x and 6.x; 9.x does not say).
 *
 * Ecosystem "npm", with a purl. An entry whose key cannot be read is
 * reported ("FILE:LINE: key: ...") and skipped. libyaml refuses plain keys
 * longer than 1024 bytes: such a file fails as a whole with its line. */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_seen.h"
#include "vuln/inventory_util.h"

/* Splits a packages key into name and version (peer suffix dropped).
 * False when the key has no version part. */
static bool split_key(struct kb_str key, int major, struct kb_str *pkg, struct kb_str *ver)
{
    if (key.n && key.p[0] == '/') {
        key.p++, key.n--;
    } else if (major < 9) {
        /* "registry.example.com/name/1.0.0": a registry other than npm's */
        const char *slash = memchr(key.p, '/', key.n);
        const char *dot = memchr(key.p, '.', key.n);
        if (slash && dot && dot < slash)
            key.n -= (size_t)(slash + 1 - key.p), key.p = slash + 1;
    }
    if (!key.n)
        return false;
    const char *sep = NULL;
    if (major < 6) {
        /* the name is one segment, or two for a scope */
        const char *slash = memchr(key.p, '/', key.n);
        if (slash && key.p[0] == '@')
            slash = memchr(slash + 1, '/', (size_t)(key.p + key.n - slash - 1));
        sep = slash;
    } else {
        sep = key.n > 1 ? memchr(key.p + 1, '@', key.n - 1) : NULL;
    }
    if (!sep || sep == key.p)
        return false;
    *pkg = (struct kb_str){key.p, (size_t)(sep - key.p)};
    struct kb_str v = {sep + 1, (size_t)(key.p + key.n - sep - 1)};
    for (size_t i = 0; i < v.n; i++)
        if (v.p[i] == '(' || (major < 6 && v.p[i] == '_')) {
            v.n = i;
            break;
        }
    *ver = v;
    return v.n > 0;
}

/* A version that names a registry release (not "link:..", "file:..", a URL). */
static bool release(struct kb_str v)
{
    return v.n && !memchr(v.p, ':', v.n) && !memchr(v.p, '/', v.n);
}

static kb_err entries(yaml_document_t *doc, yaml_node_t *pkgs, int major, const char *name,
                      struct inventory *inv, struct inventory_seen *seen, struct kb_why *why)
{
    for (yaml_node_pair_t *p = pkgs->data.mapping.pairs.start; p < pkgs->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        struct kb_str key = inventory_yaml_str(k);
        unsigned line = inventory_yaml_line(k);
        int kn = (int)KB_MIN(key.n, 200);
        if (!v || v->type != YAML_MAPPING_NODE || !key.p) {
            inventory_warn(inv, "%s:%u: packages.%.*s: not a mapping; skipped", name, line, kn,
                           key.p ? key.p : "");
            continue;
        }
        struct kb_str pkg = KB_STR_NULL, ver = KB_STR_NULL;
        split_key(key, major, &pkg, &ver);
        struct kb_str fname = inventory_yaml_str(inventory_yaml_get(doc, v, "name"));
        struct kb_str fver = inventory_yaml_str(inventory_yaml_get(doc, v, "version"));
        if (fname.n)
            pkg = fname;
        if (fver.n)
            ver = fver;
        if (!inventory_printable(pkg) || !ver.n) {
            inventory_warn(inv, "%s:%u: packages.%.*s: no package name and version in the "
                               "key or fields; skipped", name, line, kn, key.p);
            continue;
        }
        if (!release(ver) || !inventory_printable(ver))
            continue;
        bool added = false;
        if (inventory_seen_add(seen, pkg, ver, &added) != KB_OK)
            return kb_fail(why, KB_ETOOBIG, "%s: more than %d packages", name,
                           INVENTORY_MAX_PACKAGES);
        if (!added)
            continue;
        struct kb_str dev = inventory_yaml_str(inventory_yaml_get(doc, v, "dev"));
        char purl[1024];
        bool has = inventory_npm_purl(pkg, ver, purl, sizeof purl);
        kb_err e = inventory_put(inv, "npm", pkg, ver, NULL, has ? purl : NULL, name, line,
                                 kb_str_eq(dev, "true"), why);
        if (e)
            return e;
    }
    return KB_OK;
}

INVENTORY_PARSER(pnpm_lock)
{
    yaml_document_t doc;
    kb_err e = inventory_yaml_load(text, len, name, &doc, why);
    if (e)
        return e;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    struct kb_str lv = inventory_yaml_str(inventory_yaml_get(&doc, root, "lockfileVersion"));
    int major = 0;
    for (size_t i = 0; i < lv.n && lv.p[i] >= '0' && lv.p[i] <= '9' && major < 1000; i++)
        major = major * 10 + (lv.p[i] - '0');
    if (!major) {
        e = kb_fail(why, KB_EPARSE, "%s: not a pnpm-lock.yaml (no lockfileVersion)", name);
        goto out;
    }
    yaml_node_t *pkgs = inventory_yaml_get(&doc, root, "packages");
    if (!pkgs || (pkgs->type == YAML_SCALAR_NODE && !pkgs->data.scalar.length))
        goto out; /* a project without dependencies */
    if (pkgs->type != YAML_MAPPING_NODE) {
        e = kb_fail(why, KB_EPARSE, "%s:%u: packages is not a mapping", name,
                    inventory_yaml_line(pkgs));
        goto out;
    }
    struct inventory_seen seen = INVENTORY_SEEN_INIT;
    e = entries(&doc, pkgs, major, name, inv, &seen, why);
    inventory_seen_release(&seen);
out:
    yaml_document_delete(&doc);
    return e;
}
