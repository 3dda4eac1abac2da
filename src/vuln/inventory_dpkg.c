/* inventory_dpkg.c — dpkg's status database (/var/lib/dpkg/status).
 *
 * Paragraphs of "Field: value" lines separated by blank lines; a line
 * starting with a blank continues the field before it. Per paragraph:
 *   Package       the binary package name (required)
 *   Status        "want flag status": kept when status is "installed" with
 *                 flag "ok" and want "install" (or "hold": a held package
 *                 is installed too); other states are skipped silently, a
 *                 missing Status with a warning
 *   Version       required for a kept package
 *   Source        "name" or "name (version)" when the source package or its
 *                 version differs; stored as written in inventory_pkg.source
 *   Architecture  not stored: no inventory field carries it (a package
 *                 installed for two architectures is listed twice)
 * Ecosystem "Debian": the status file does not say the release, nor whether
 * the host runs Debian or a derivative, so no purl is implied either.
 * Field names are compared without regard to case (Debian policy 5.1). */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_util.h"

#include <strings.h>

struct para {
    struct kb_str package, status, version, source;
    unsigned line;  /* first line of the paragraph */
    bool any;       /* saw a field */
};

static bool field_is(struct kb_str f, const char *want)
{
    return f.n == strlen(want) && !strncasecmp(f.p, want, f.n);
}

static kb_err finish(struct para *pa, const char *name, struct inventory *inv,
                     struct kb_why *why)
{
    if (!pa->any)
        return KB_OK;
    if (kb_str_empty(pa->package)) {
        inventory_warn(inv, "%s:%u: paragraph without a Package field; skipped", name,
                       pa->line);
        return KB_OK;
    }
    int pn = (int)KB_MIN(pa->package.n, 200);
    if (!pa->status.p) {
        inventory_warn(inv, "%s:%u: package %.*s: no Status field; skipped", name, pa->line, pn,
                       pa->package.p);
        return KB_OK;
    }
    /* "want flag status", single spaces in practice; any blanks accepted */
    struct kb_str w[3] = {{0}};
    struct kb_str st = pa->status;
    size_t nw = 0;
    for (size_t i = 0; i < st.n && nw < 4;) {
        while (i < st.n && (st.p[i] == ' ' || st.p[i] == '\t'))
            i++;
        size_t j = i;
        while (j < st.n && st.p[j] != ' ' && st.p[j] != '\t')
            j++;
        if (j > i) {
            if (nw < 3)
                w[nw] = (struct kb_str){st.p + i, j - i};
            nw++;
        }
        i = j;
    }
    if (nw != 3) {
        inventory_warn(inv, "%s:%u: package %.*s: Status '%.*s' is not 'want flag status'; "
                       "skipped", name, pa->line, pn, pa->package.p, (int)KB_MIN(st.n, 100), st.p);
        return KB_OK;
    }
    if (!(kb_str_eq(w[0], "install") || kb_str_eq(w[0], "hold")) || !kb_str_eq(w[1], "ok") ||
        !kb_str_eq(w[2], "installed"))
        return KB_OK; /* not installed (or half so): nothing on disk to match */
    if (!inventory_printable(pa->version) || !inventory_printable(pa->package)) {
        inventory_warn(inv, "%s:%u: package %.*s: no usable Version; skipped", name, pa->line,
                       pn, pa->package.p);
        return KB_OK;
    }
    char source[512];
    const char *src = NULL;
    if (inventory_printable(pa->source) && pa->source.n < sizeof source) {
        memcpy(source, pa->source.p, pa->source.n);
        source[pa->source.n] = '\0';
        src = source;
    }
    return inventory_put(inv, "Debian", pa->package, pa->version, src, NULL, name, pa->line,
                         false, why);
}

INVENTORY_PARSER(dpkg)
{
    struct inventory_cursor cur;
    inventory_cursor_init(&cur, text, len);
    struct para pa = {0};
    struct kb_str line;
    bool field_open = false; /* a continuation line may follow */
    unsigned paragraphs = 0, bad_lines = 0; /* paragraphs with a Package field */
    size_t warned = inv->warnings_total;
    while (inventory_next_line(&cur, &line)) {
        if (!inventory_trim(line).n) {
            kb_err e = finish(&pa, name, inv, why);
            if (e)
                return e;
            paragraphs += pa.package.p != NULL;
            pa = (struct para){0};
            field_open = false;
            continue;
        }
        if (line.p[0] == ' ' || line.p[0] == '\t') {
            if (!field_open)
                inventory_warn(inv, "%s:%u: continuation line outside a field; ignored", name,
                               cur.line);
            continue;
        }
        const char *colon = memchr(line.p, ':', line.n);
        if (!colon || colon == line.p) {
            inventory_warn(inv, "%s:%u: not a 'Field: value' line; ignored", name, cur.line);
            bad_lines++;
            field_open = false;
            continue;
        }
        if (!pa.any)
            pa.line = cur.line;
        pa.any = true;
        field_open = true;
        struct kb_str f = {line.p, (size_t)(colon - line.p)};
        struct kb_str v = inventory_trim((struct kb_str){colon + 1, line.n - f.n - 1});
        struct kb_str *slot = field_is(f, "Package")  ? &pa.package
                              : field_is(f, "Status")  ? &pa.status
                              : field_is(f, "Version") ? &pa.version
                              : field_is(f, "Source")  ? &pa.source
                                                       : NULL;
        if (slot && !slot->p)
            *slot = v;
    }
    kb_err e = finish(&pa, name, inv, why);
    if (e)
        return e;
    paragraphs += pa.package.p != NULL;
    if (!paragraphs && (bad_lines || inv->warnings_total > warned))
        return kb_fail(why, KB_EPARSE, "%s: not a dpkg status file (no Package field)", name);
    return KB_OK;
}
