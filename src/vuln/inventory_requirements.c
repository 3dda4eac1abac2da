/*
 * inventory_requirements.c — pip's requirements files (requirements.txt,
 * constraints, "pip freeze" output).
 *
 * Only an exact pin names an installed version: "name==1.2.3" (or
 * "name===1.2.3") is a package of ecosystem PyPI, its name kept as
 * written (PEP 503 normalization belongs to matching). Read as pip reads:
 *   - a line ending in '\' continues on the next one (a comment line ends
 *     the continuation); the package's location is the first line;
 *   - '#' at the start or after a blank starts a comment;
 *   - extras are dropped ("name[security]==1.0" is name);
 *   - an environment marker ("; python_version < '3.8'") is dropped and the
 *     package kept: which interpreter installs the file is unknown here;
 *   - options after the requirement (--hash=..., --config-settings) are
 *     dropped;
 *   - global options (--index-url, --find-links, --require-hashes ...)
 *     are read past.
 * Reported as warnings and skipped: a requirement not pinned to one
 * version (>=, ~=, ==1.*, none), -r / -c includes (koban has only this
 * file: "not followed"), editable installs (-e), URLs and local paths
 * (name @ https://..., ./pkg, *.whl), environment variables, unknown
 * options and malformed lines. The same (name, version) is kept once.
 * The input is refused as a whole only when it holds NUL bytes (not text).
 */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_seen.h"
#include "vuln/inventory_util.h"

#include <stdio.h>
#include <stdlib.h>

#define REQ_MAX_LINE (64u * 1024) /* one logical line, continuations joined */

struct req_ctx {
    const char *file;
    unsigned line;
    struct inventory *inv;
};

#define REQ_WARN(x, fmt, ...)                                                                      \
    inventory_warn((x)->inv, "%s:%u: " fmt, (x)->file, (x)->line, __VA_ARGS__)

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool starts(struct kb_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && !memcmp(s.p, lit, n);
}

/* The line without its comment: '#' at the start or after a blank. */
static struct kb_str uncomment(struct kb_str s)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] == '#' && (i == 0 || blank(s.p[i - 1])))
            return inventory_trim((struct kb_str){s.p, i});
    return inventory_trim(s);
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static bool alnum(char c)
{
    return name_char(c) && c != '.' && c != '_' && c != '-';
}

static void option_line(struct req_ctx *x, struct kb_str s)
{
    size_t k = 0;
    while (k < s.n && !blank(s.p[k]) && s.p[k] != '=')
        k++;
    struct kb_str opt = {s.p, k};
    int on = (int)KB_MIN(opt.n, 40);
    if (kb_str_eq(opt, "-r") || kb_str_eq(opt, "--requirement") || kb_str_eq(opt, "-c") ||
        kb_str_eq(opt, "--constraint") ||
        ((starts(opt, "-r") || starts(opt, "-c")) && !starts(opt, "--"))) {
        REQ_WARN(x, "%.*s: included file not followed (submit it too)", (int)KB_MIN(s.n, 80), s.p);
        return;
    }
    if (kb_str_eq(opt, "-e") || kb_str_eq(opt, "--editable") ||
        (starts(opt, "-e") && !starts(opt, "--"))) {
        REQ_WARN(x, "%.*s: editable install skipped (no version)", (int)KB_MIN(s.n, 80), s.p);
        return;
    }
    /* options that change where pip looks, not what it installs */
    static const char global[] = " -i --index-url --extra-index-url --no-index -f --find-links "
                                 "--no-binary --only-binary --prefer-binary --require-hashes "
                                 "--pre --trusted-host --use-feature -Z --always-unzip ";
    char word[48];
    if (opt.n + 3 <= sizeof word) {
        snprintf(word, sizeof word, " %.*s ", (int)opt.n, opt.p);
        if (strstr(global, word))
            return;
    }
    REQ_WARN(x, "unknown option %.*s skipped", on, opt.p);
}

/* The one exact version in a specifier list (">=1,==1.2" -> 1.2). */
static bool pinned(struct kb_str spec, struct kb_str *version)
{
    size_t exact = 0;
    while (spec.n) {
        const char *comma = memchr(spec.p, ',', spec.n);
        size_t cn = comma ? (size_t)(comma - spec.p) : spec.n;
        struct kb_str cl = inventory_trim((struct kb_str){spec.p, cn});
        spec = comma ? (struct kb_str){comma + 1, spec.n - cn - 1} : KB_STR_NULL;
        size_t op = starts(cl, "===") ? 3 : starts(cl, "==") ? 2 : 0;
        if (!op)
            continue;
        struct kb_str v = inventory_trim((struct kb_str){cl.p + op, cl.n - op});
        if (v.n >= 1 && v.p[v.n - 1] == '*')
            continue; /* ==1.2.* is a range */
        *version = v;
        exact++;
    }
    return exact == 1;
}

static bool ends(struct kb_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && !memcmp(s.p + s.n - n, lit, n);
}

static kb_err requirement(struct req_ctx *x, struct kb_str s, struct inventory_seen *seen,
                          struct kb_why *why)
{
    int sn = (int)KB_MIN(s.n, 80);
    /* options after the requirement: the first word that starts with '-' */
    for (size_t i = 1; i < s.n; i++)
        if (s.p[i] == '-' && blank(s.p[i - 1])) {
            s = inventory_trim((struct kb_str){s.p, i});
            break;
        }
    const char *semi = memchr(s.p, ';', s.n);
    if (semi)
        s = inventory_trim((struct kb_str){s.p, (size_t)(semi - s.p)});
    if (memmem(s.p, s.n, "://", 3) || memchr(s.p, '@', s.n) || s.p[0] == '.' || s.p[0] == '/' ||
        s.p[0] == '~' || ends(s, ".whl") || ends(s, ".tar.gz") || ends(s, ".zip")) {
        REQ_WARN(x, "%.*s: URL or local path skipped (no version)", sn, s.p);
        return KB_OK;
    }
    size_t k = 0;
    while (k < s.n && name_char(s.p[k]))
        k++;
    struct kb_str pkg = {s.p, k};
    if (!k || !alnum(s.p[0]) || !alnum(s.p[k - 1])) {
        REQ_WARN(x, "%.*s: not a requirement", sn, s.p);
        return KB_OK;
    }
    struct kb_str rest = inventory_trim((struct kb_str){s.p + k, s.n - k});
    if (rest.n && rest.p[0] == '[') {
        const char *close = memchr(rest.p, ']', rest.n);
        if (!close) {
            REQ_WARN(x, "%.*s: extras not closed with ']'", sn, s.p);
            return KB_OK;
        }
        rest = inventory_trim((struct kb_str){close + 1, rest.n - (size_t)(close + 1 - rest.p)});
    }
    if (rest.n >= 2 && rest.p[0] == '(' && rest.p[rest.n - 1] == ')')
        rest = inventory_trim((struct kb_str){rest.p + 1, rest.n - 2});
    struct kb_str version = KB_STR_NULL;
    if (!pinned(rest, &version)) {
        REQ_WARN(x, "%.*s: not pinned to one version (==) and skipped", sn, s.p);
        return KB_OK;
    }
    if (!version.n || !inventory_printable(version) || memchr(version.p, ' ', version.n) ||
        memchr(version.p, '$', version.n) || memchr(version.p, ',', version.n)) {
        REQ_WARN(x, "%.*s: not a version", sn, s.p);
        return KB_OK;
    }
    bool added;
    kb_err e = inventory_seen_add(seen, pkg, version, &added);
    if (e)
        return kb_fail(why, e, "%s:%u: too many requirements", x->file, x->line);
    return added ? inventory_put(x->inv, "PyPI", pkg, version, NULL, NULL, x->file, x->line, false,
                                 why)
                 : KB_OK;
}

static kb_err logical_line(struct req_ctx *x, struct kb_str s, struct inventory_seen *seen,
                           struct kb_why *why)
{
    s = uncomment(s);
    if (!s.n)
        return KB_OK;
    if (s.p[0] == '-') {
        option_line(x, s);
        return KB_OK;
    }
    return requirement(x, s, seen, why);
}

INVENTORY_PARSER(requirements)
{
    if (memchr(text, '\0', len))
        return kb_fail(why, KB_EPARSE, "%s: not a requirements file: it holds NUL bytes", name);
    struct inventory_cursor c;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) { /* pip reads past a byte order mark */
        text += 3;
        len -= 3;
    }
    inventory_cursor_init(&c, text, len);
    struct inventory_seen seen = INVENTORY_SEEN_INIT;
    struct req_ctx x = {name, 0, inv};
    char *buf = kb_malloc(REQ_MAX_LINE);
    size_t bn = 0;
    bool joining = false, too_long = false;
    kb_err e = KB_OK;
    struct kb_str l;
    while (!e && inventory_next_line(&c, &l)) {
        struct kb_str t = inventory_trim(l);
        bool comment = t.n && t.p[0] == '#';
        bool cont = !comment && l.n && l.p[l.n - 1] == '\\';
        if (!joining)
            x.line = c.line;
        if (comment && joining) { /* a comment ends the continuation */
            joining = false;
        } else {
            struct kb_str part = l;
            while (cont && part.n && part.p[part.n - 1] == '\\')
                part.n--;
            if (bn + part.n + 1 > REQ_MAX_LINE) {
                too_long = true;
            } else if (!too_long) {
                memcpy(buf + bn, part.p, part.n);
                bn += part.n;
                buf[bn++] = ' ';
            }
            joining = cont;
            if (joining)
                continue;
        }
        if (too_long)
            REQ_WARN(&x, "line longer than %u bytes skipped", REQ_MAX_LINE);
        else
            e = logical_line(&x, (struct kb_str){buf, bn}, &seen, why);
        bn = 0;
        too_long = false;
    }
    if (!e && joining) { /* the file ends with a '\' */
        if (too_long)
            REQ_WARN(&x, "line longer than %u bytes skipped", REQ_MAX_LINE);
        else
            e = logical_line(&x, (struct kb_str){buf, bn}, &seen, why);
    }
    free(buf);
    inventory_seen_release(&seen);
    return e;
}
