/*
 * inventory_go_sum.c — a Go module's go.sum: the checksums of the modules
 * in its build graph, one "path version hash" per line.
 *
 *   github.com/pkg/errors v0.9.1 h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=
 *   github.com/pkg/errors v0.9.1/go.mod h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=
 *
 * A line whose version ends in "/go.mod" only checksums that module's
 * go.mod file (read while resolving the graph; its code may never be
 * downloaded), so it is not a package. Each (path, version) is reported
 * once, ecosystem Go, the version as written: its "v" and any
 * "+incompatible" are kept (koban's SemVer ordering reads the "v" and, as
 * SemVer says, ignores build metadata, so neither changes a comparison).
 *
 * go.sum lists more than a build uses (modules pruned from the graph keep
 * their lines); go.mod is the tighter list when both are at hand.
 * A malformed line is reported and skipped; the input is refused as a
 * whole only when no line at all has the go.sum shape.
 */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_seen.h"
#include "vuln/inventory_util.h"

/* Splits at blanks into at most 4 fields; returns the count (4 = too many). */
static size_t fields(struct kb_str l, struct kb_str f[4])
{
    size_t n = 0, i = 0;
    while (i < l.n && n < 4) {
        while (i < l.n && (l.p[i] == ' ' || l.p[i] == '\t'))
            i++;
        if (i == l.n)
            break;
        size_t start = i;
        while (i < l.n && l.p[i] != ' ' && l.p[i] != '\t')
            i++;
        f[n++] = (struct kb_str){l.p + start, i - start};
    }
    return n;
}

INVENTORY_PARSER(go_sum)
{
    struct inventory_cursor c;
    inventory_cursor_init(&c, text, len);
    struct inventory_seen seen = INVENTORY_SEEN_INIT;
    size_t good = 0, bad = 0;
    unsigned first_bad = 0;
    kb_err e = KB_OK;
    struct kb_str l, f[4];
    while (!e && inventory_next_line(&c, &l)) {
        size_t n = fields(l, f);
        if (!n)
            continue;
        if (n != 3 || !inventory_printable(f[0]) || !inventory_printable(f[1]) ||
            f[1].p[0] != 'v' || f[2].n < 4 || f[2].p[0] != 'h' || !memchr(f[2].p, ':', f[2].n)) {
            if (!bad++)
                first_bad = c.line;
            inventory_warn(inv, "%s:%u: expected \"module version hash\": %.*s", name, c.line,
                           (int)KB_MIN(l.n, 80), l.p);
            continue;
        }
        good++;
        struct kb_str v = f[1];
        if (v.n > 7 && !memcmp(v.p + v.n - 7, "/go.mod", 7))
            continue;
        bool added;
        if ((e = inventory_seen_add(&seen, f[0], v, &added)))
            e = kb_fail(why, e, "%s:%u: too many modules", name, c.line);
        else if (added)
            e = inventory_put(inv, "Go", f[0], v, NULL, NULL, name, c.line, false, why);
    }
    inventory_seen_release(&seen);
    if (!e && bad && !good)
        e = kb_fail(why, KB_EPARSE, "%s:%u: not a go.sum: no line is \"module version hash\"", name,
                    first_bad);
    return e;
}
