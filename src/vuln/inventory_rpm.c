/* inventory_rpm.c — the installed RPM packages of a host, as rpm lists them.
 *
 * The expected form is one package per line from exactly:
 *
 *   rpm -qa --queryformat '%{NAME}\t%{EPOCH}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'
 *
 * e.g. "openssl-libs\t1:3.0.7-27.el9\tx86_64\topenssl-3.0.7-27.el9.src.rpm".
 * rpm prints "(none)" for an absent epoch or source rpm: the version is then
 * "VERSION-RELEASE" and the source NULL. The third and fourth columns may be
 * left out. Lines of plain `rpm -qa` (NAME-[EPOCH:]VERSION-RELEASE.ARCH, e.g.
 * "openssl-libs-1:3.0.7-27.el9.x86_64") are read too, splitting from the
 * right: the architecture when the last '.' part is a known one, then the
 * release and the version at the last two '-'.
 *
 * Ecosystem "Red Hat" (the output does not say which distribution); the
 * source rpm is stored as written; gpg-pubkey entries (keys, not software)
 * are skipped. A line that fits neither form is reported and skipped. */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_util.h"

static const char *const arches[] = {
    "noarch", "x86_64", "i386",    "i486",    "i586",    "i686",   "aarch64",
    "ppc64le", "ppc64", "ppc",     "s390x",   "s390",    "armv7hl", "armv7l",
    "armv6hl", "riscv64", "src",   "nosrc",   "ia64",    "mips64el", "loongarch64",
    "athlon",  "sparc64", "alpha", "x86_64_v2", "aarch64_ilp32",
};

static bool known_arch(struct kb_str s)
{
    for (size_t i = 0; i < KB_ARRAY_LEN(arches); i++)
        if (kb_str_eq(s, arches[i]))
            return true;
    return false;
}

static const char *rlast(struct kb_str s, char c)
{
    for (size_t i = s.n; i > 0; i--)
        if (s.p[i - 1] == c)
            return s.p + i - 1;
    return NULL;
}

/* One tab-separated line: NAME, EPOCH:VERSION-RELEASE[, ARCH[, SOURCERPM]]. */
static kb_err tabbed(struct kb_str line, const char *name, unsigned lineno,
                     struct inventory *inv, struct kb_why *why)
{
    struct kb_str col[5] = {{0}};
    size_t nc = 0;
    for (size_t i = 0; i <= line.n && nc < 5;) {
        const char *tab = memchr(line.p + i, '\t', line.n - i);
        size_t j = tab ? (size_t)(tab - line.p) : line.n;
        col[nc++] = inventory_trim((struct kb_str){line.p + i, j - i});
        i = j + 1;
        if (!tab)
            break;
    }
    if (nc > 4 || !inventory_printable(col[0]) || !inventory_printable(col[1])) {
        inventory_warn(inv, "%s:%u: not 'NAME<TAB>EPOCH:VERSION-RELEASE<TAB>ARCH<TAB>SOURCERPM'; "
                       "skipped", name, lineno);
        return KB_OK;
    }
    if (kb_str_eq(col[0], "gpg-pubkey"))
        return KB_OK;
    struct kb_str evr = col[1];
    if (evr.n > 7 && !memcmp(evr.p, "(none):", 7))
        evr.p += 7, evr.n -= 7;
    if (!evr.n || !memchr(evr.p, '-', evr.n) || evr.p[0] == ':' || evr.p[evr.n - 1] == '-') {
        inventory_warn(inv, "%s:%u: package %.*s: version '%.*s' is not "
                       "EPOCH:VERSION-RELEASE; skipped", name, lineno, (int)KB_MIN(col[0].n, 200),
                       col[0].p, (int)KB_MIN(col[1].n, 100), col[1].p);
        return KB_OK;
    }
    char src[512];
    const char *source = NULL;
    if (nc == 4 && inventory_printable(col[3]) && !kb_str_eq(col[3], "(none)") &&
        col[3].n < sizeof src) {
        memcpy(src, col[3].p, col[3].n);
        src[col[3].n] = '\0';
        source = src;
    }
    return inventory_put(inv, "Red Hat", col[0], evr, source, NULL, name, lineno, false, why);
}

/* NAME-[EPOCH:]VERSION-RELEASE[.ARCH] */
static kb_err plain(struct kb_str line, const char *name, unsigned lineno,
                    struct inventory *inv, struct kb_why *why)
{
    struct kb_str s = line;
    const char *dot = rlast(s, '.');
    if (dot && known_arch((struct kb_str){dot + 1, (size_t)(s.p + s.n - dot - 1)}))
        s.n = (size_t)(dot - s.p);
    const char *rel = rlast(s, '-');
    const char *ver = rel ? rlast((struct kb_str){s.p, (size_t)(rel - s.p)}, '-') : NULL;
    if (!ver || ver == s.p || rel + 1 == s.p + s.n || ver + 1 == rel ||
        !inventory_printable(s) || memchr(s.p, ' ', s.n)) {
        inventory_warn(inv, "%s:%u: not NAME-VERSION-RELEASE.ARCH; skipped", name, lineno);
        return KB_OK;
    }
    struct kb_str pkg = {s.p, (size_t)(ver - s.p)};
    struct kb_str evr = {ver + 1, (size_t)(s.p + s.n - ver - 1)};
    if (kb_str_eq(pkg, "gpg-pubkey"))
        return KB_OK;
    return inventory_put(inv, "Red Hat", pkg, evr, NULL, NULL, name, lineno, false, why);
}

INVENTORY_PARSER(rpm)
{
    struct inventory_cursor cur;
    inventory_cursor_init(&cur, text, len);
    struct kb_str line;
    size_t before = inv->n, warned = inv->warnings_total;
    unsigned lines = 0;
    while (inventory_next_line(&cur, &line)) {
        if (!inventory_trim(line).n)
            continue;
        lines++;
        kb_err e = memchr(line.p, '\t', line.n)
                       ? tabbed(line, name, cur.line, inv, why)
                       : plain(inventory_trim(line), name, cur.line, inv, why);
        if (e)
            return e;
    }
    /* every line refused: this is not rpm output */
    if (lines && inv->n == before && inv->warnings_total - warned == lines)
        return kb_fail(why, KB_EPARSE, "%s: no line reads as rpm -qa output", name);
    return KB_OK;
}
