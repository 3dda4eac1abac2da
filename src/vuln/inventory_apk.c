/* inventory_apk.c — Alpine's installed database (/lib/apk/db/installed).
 *
 * One block of "X:value" lines per package, blocks separated by a blank
 * line. Read: P: name, V: version, o: origin (the source package, stored
 * as inventory_pkg.source: Alpine's advisories name origins), A: arch (not
 * stored). The other letters (C: checksum, F:/R: files, D: dependencies,
 * ...) are skipped. A block without P: or V: is reported and skipped.
 * Ecosystem "Alpine": the file does not say the release (/etc/alpine-release
 * does), so none is added. */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_util.h"

struct block {
    struct kb_str pkg, ver, origin;
    unsigned line;
    bool any;
};

static kb_err finish(struct block *b, const char *name, struct inventory *inv,
                     struct kb_why *why)
{
    if (!b->any)
        return KB_OK;
    if (!inventory_printable(b->pkg) || !inventory_printable(b->ver)) {
        inventory_warn(inv, "%s:%u: package %.*s: no %s; skipped", name, b->line,
                       (int)KB_MIN(b->pkg.n, 200), b->pkg.p ? b->pkg.p : "",
                       inventory_printable(b->pkg) ? "V: version" : "P: name");
        return KB_OK;
    }
    char origin[512];
    const char *src = NULL;
    if (inventory_printable(b->origin) && b->origin.n < sizeof origin) {
        memcpy(origin, b->origin.p, b->origin.n);
        origin[b->origin.n] = '\0';
        src = origin;
    }
    return inventory_put(inv, "Alpine", b->pkg, b->ver, src, NULL, name, b->line, false, why);
}

INVENTORY_PARSER(apk)
{
    struct inventory_cursor cur;
    inventory_cursor_init(&cur, text, len);
    struct kb_str line;
    struct block b = {0};
    unsigned blocks = 0, bad = 0;
    while (inventory_next_line(&cur, &line)) {
        if (!inventory_trim(line).n) {
            kb_err e = finish(&b, name, inv, why);
            if (e)
                return e;
            blocks += b.any;
            b = (struct block){0};
            continue;
        }
        if (line.n < 2 || line.p[1] != ':') {
            inventory_warn(inv, "%s:%u: not an 'X:value' line; ignored", name, cur.line);
            bad++;
            continue;
        }
        if (!b.any)
            b.line = cur.line;
        b.any = true;
        struct kb_str v = inventory_trim((struct kb_str){line.p + 2, line.n - 2});
        struct kb_str *slot = line.p[0] == 'P'   ? &b.pkg
                              : line.p[0] == 'V' ? &b.ver
                              : line.p[0] == 'o' ? &b.origin
                                                 : NULL;
        if (slot && !slot->p)
            *slot = v;
    }
    kb_err e = finish(&b, name, inv, why);
    if (e)
        return e;
    blocks += b.any;
    if (!blocks && bad)
        return kb_fail(why, KB_EPARSE, "%s: no apk installed-database entries", name);
    return KB_OK;
}
