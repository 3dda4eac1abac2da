/*
 * inventory_go_mod.c — a Go module's go.mod: the modules it requires.
 *
 *   module example.com/app            <- the main module: not a dependency
 *   go 1.22
 *   require golang.org/x/text v0.14.0
 *   require (
 *       github.com/pkg/errors v0.9.1 // indirect
 *   )
 *   replace github.com/pkg/errors => github.com/fork/errors v0.9.2
 *   exclude golang.org/x/net v0.1.0
 *
 * Each require (single line or block, "// indirect" or not) is a package
 * of ecosystem Go; versions keep their "v" (and "+incompatible") as
 * written. A replace directive applies to the required modules it names
 * (all versions, or only the one on its left side; the version-specific
 * one wins): when the replacement is a module with a version, the package
 * reported is the replacement (its path and version), since that is the
 * code built; when it is a local directory (no version), the required
 * module is kept as written, the closest koban can know of that code.
 * exclude, retract, go, toolchain, godebug, tool and ignore say nothing
 * about what is built and are read past. "// indirect" does not mean a
 * development dependency: no package is marked dev.
 *
 * Paths may be quoted ("..." or `...`). A malformed line is reported and
 * skipped; the input as a whole is refused when its first directive is
 * not a go.mod directive.
 */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_util.h"

#include <stdlib.h>

#define GOMOD_MAX_TOKENS 8

enum verb { V_NONE, V_MODULE, V_REQUIRE, V_REPLACE, V_IGNORED, V_UNKNOWN };

struct req {
    struct kb_str path, version;
    unsigned line;
};

struct repl {
    struct kb_str old, oldver, new, newver; /* oldver, newver may be empty */
};

struct gomod {
    struct req *reqs;
    size_t nreqs, capreqs;
    struct repl *repls;
    size_t nrepls, caprepls;
};

/* Splits a line into tokens: quoted strings (quotes removed), "(", ")"
 * and runs of other non-blank bytes; stops at a "//" comment. Returns
 * the count, or GOMOD_MAX_TOKENS + 1 when there are too many. */
static size_t tokens(struct kb_str l, struct kb_str *tok, bool *bad_quote)
{
    size_t n = 0, i = 0;
    *bad_quote = false;
    while (i < l.n) {
        char ch = l.p[i];
        if (ch == ' ' || ch == '\t') {
            i++;
            continue;
        }
        if (ch == '/' && i + 1 < l.n && l.p[i + 1] == '/')
            break;
        if (n == GOMOD_MAX_TOKENS)
            return n + 1;
        size_t start = i;
        if (ch == '"' || ch == '`') {
            const char *end = memchr(l.p + i + 1, ch, l.n - i - 1);
            if (!end) {
                *bad_quote = true;
                return n;
            }
            tok[n++] = (struct kb_str){l.p + start + 1, (size_t)(end - l.p) - start - 1};
            i = (size_t)(end - l.p) + 1;
            continue;
        }
        if (ch == '(' || ch == ')') {
            tok[n++] = (struct kb_str){l.p + i, 1};
            i++;
            continue;
        }
        while (i < l.n && l.p[i] != ' ' && l.p[i] != '\t' && l.p[i] != '(' && l.p[i] != ')' &&
               !(l.p[i] == '/' && i + 1 < l.n && l.p[i + 1] == '/'))
            i++;
        tok[n++] = (struct kb_str){l.p + start, i - start};
    }
    return n;
}

static enum verb verb_of(struct kb_str t)
{
    if (kb_str_eq(t, "module"))
        return V_MODULE;
    if (kb_str_eq(t, "require"))
        return V_REQUIRE;
    if (kb_str_eq(t, "replace"))
        return V_REPLACE;
    static const char *const ignored[] = {"go",      "toolchain", "godebug", "exclude",
                                          "retract", "tool",      "ignore"};
    for (size_t k = 0; k < KB_ARRAY_LEN(ignored); k++)
        if (kb_str_eq(t, ignored[k]))
            return V_IGNORED;
    return V_UNKNOWN;
}

static bool go_path_ok(struct kb_str s)
{
    return inventory_printable(s) && !memchr(s.p, ' ', s.n);
}

static bool go_version_ok(struct kb_str s)
{
    return go_path_ok(s) && s.p[0] == 'v';
}

static bool is_local(struct kb_str s) /* a replacement directory: ./x, ../x, /x */
{
    return s.n && (s.p[0] == '.' || s.p[0] == '/');
}

static void require_line(struct gomod *g, const struct kb_str *t, size_t n, const char *name,
                         unsigned line, struct inventory *inv)
{
    if (n != 2 || !go_path_ok(t[0]) || !go_version_ok(t[1])) {
        inventory_warn(inv, "%s:%u: require: expected a module path and a version (v1.2.3)", name,
                       line);
        return;
    }
    if (g->nreqs == g->capreqs) {
        g->capreqs = g->capreqs ? g->capreqs * 2 : 64;
        g->reqs = kb_realloc(g->reqs, g->capreqs * sizeof *g->reqs);
    }
    g->reqs[g->nreqs++] = (struct req){t[0], t[1], line};
}

static void replace_line(struct gomod *g, const struct kb_str *t, size_t n, const char *name,
                         unsigned line, struct inventory *inv)
{
    /* old [version] => new [version] */
    size_t arrow = n;
    for (size_t k = 0; k < n; k++)
        if (kb_str_eq(t[k], "=>"))
            arrow = k;
    size_t left = arrow, right = n - arrow - 1;
    if (arrow == n || left < 1 || left > 2 || right < 1 || right > 2 || !go_path_ok(t[0]) ||
        (left == 2 && !go_version_ok(t[1])) || !go_path_ok(t[arrow + 1]) ||
        (right == 2 && !go_version_ok(t[arrow + 2])) || (right == 1 && !is_local(t[arrow + 1]))) {
        inventory_warn(inv,
                       "%s:%u: replace: expected \"module [version] => module version\" or "
                       "\"module [version] => ./directory\"",
                       name, line);
        return;
    }
    if (g->nrepls == g->caprepls) {
        g->caprepls = g->caprepls ? g->caprepls * 2 : 16;
        g->repls = kb_realloc(g->repls, g->caprepls * sizeof *g->repls);
    }
    g->repls[g->nrepls++] = (struct repl){t[0], left == 2 ? t[1] : KB_STR_NULL, t[arrow + 1],
                                          right == 2 ? t[arrow + 2] : KB_STR_NULL};
}

static int str_cmp(struct kb_str a, struct kb_str b)
{
    int c = memcmp(a.p ? a.p : "", b.p ? b.p : "", KB_MIN(a.n, b.n));
    return c ? c : (a.n > b.n) - (a.n < b.n);
}

static int repl_cmp(const void *x, const void *y)
{
    const struct repl *a = x, *b = y;
    int c = str_cmp(a->old, b->old);
    return c ? c : str_cmp(a->oldver, b->oldver);
}

static const struct repl *replacement(const struct gomod *g, struct kb_str path,
                                      struct kb_str version)
{
    if (!g->nrepls)
        return NULL;
    struct repl key = {.old = path, .oldver = version};
    const struct repl *r = bsearch(&key, g->repls, g->nrepls, sizeof *g->repls, repl_cmp);
    if (!r) {
        key.oldver = KB_STR_NULL;
        r = bsearch(&key, g->repls, g->nrepls, sizeof *g->repls, repl_cmp);
    }
    return r;
}

INVENTORY_PARSER(go_mod)
{
    struct inventory_cursor c;
    inventory_cursor_init(&c, text, len);
    struct gomod g = {0};
    enum verb block = V_NONE; /* inside "verb (" ... ")" */
    unsigned block_line = 0;
    size_t directives = 0;
    kb_err e = KB_OK;
    struct kb_str l, t[GOMOD_MAX_TOKENS];
    while (inventory_next_line(&c, &l)) {
        bool bad_quote;
        size_t n = tokens(l, t, &bad_quote);
        if (bad_quote) {
            inventory_warn(inv, "%s:%u: unterminated quoted string", name, c.line);
            continue;
        }
        if (n > GOMOD_MAX_TOKENS) {
            inventory_warn(inv, "%s:%u: too many words on one line", name, c.line);
            continue;
        }
        if (!n)
            continue;
        if (block != V_NONE) {
            if (n == 1 && kb_str_eq(t[0], ")"))
                block = V_NONE;
            else if (block == V_REQUIRE)
                require_line(&g, t, n, name, c.line, inv);
            else if (block == V_REPLACE)
                replace_line(&g, t, n, name, c.line, inv);
            continue;
        }
        enum verb v = verb_of(t[0]);
        if (v == V_UNKNOWN && !directives) {
            e = kb_fail(why, KB_EPARSE, "%s:%u: not a go.mod: unknown directive \"%.*s\"", name,
                        c.line, (int)KB_MIN(t[0].n, 40), t[0].p);
            break;
        }
        directives++;
        if (n >= 2 && kb_str_eq(t[1], "(")) {
            if (n == 3 && kb_str_eq(t[2], ")"))
                continue; /* an empty block on one line */
            if (n != 2)
                inventory_warn(inv, "%s:%u: text after '(' is not read", name, c.line);
            block = v;
            block_line = c.line;
            if (v == V_UNKNOWN)
                inventory_warn(inv, "%s:%u: unknown directive \"%.*s\": its block is skipped", name,
                               c.line, (int)KB_MIN(t[0].n, 40), t[0].p);
            continue;
        }
        if (v == V_REQUIRE)
            require_line(&g, t + 1, n - 1, name, c.line, inv);
        else if (v == V_REPLACE)
            replace_line(&g, t + 1, n - 1, name, c.line, inv);
        else if (v == V_UNKNOWN)
            inventory_warn(inv, "%s:%u: unknown directive \"%.*s\" skipped", name, c.line,
                           (int)KB_MIN(t[0].n, 40), t[0].p);
        else if (v == V_MODULE && n != 2)
            inventory_warn(inv, "%s:%u: module: expected one module path", name, c.line);
    }
    if (!e && block != V_NONE)
        inventory_warn(inv, "%s:%u: block not closed with ')' before the end", name, block_line);
    if (!e && !directives)
        e = kb_fail(why, KB_EPARSE, "%s: not a go.mod: no directive", name);
    if (!e && g.nrepls)
        qsort(g.repls, g.nrepls, sizeof *g.repls, repl_cmp);
    for (size_t k = 0; !e && k < g.nreqs; k++) {
        struct req r = g.reqs[k];
        const struct repl *rp = replacement(&g, r.path, r.version);
        if (rp && rp->newver.n) {
            r.path = rp->new;
            r.version = rp->newver;
        }
        e = inventory_put(inv, "Go", r.path, r.version, NULL, NULL, name, r.line, false, why);
    }
    free(g.reqs);
    free(g.repls);
    return e;
}
