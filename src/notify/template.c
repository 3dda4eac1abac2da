/* template.c — parsing notification templates and loading sets of them
 * (the language and its bounds are in template.h; rendering and escaping
 * are in template_render.c). */
#include "notify/template_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- parsing ---------------------------------------------------------- */

static unsigned line_at(const char *s, size_t off)
{
    unsigned line = 1;
    for (size_t i = 0; i < off; i++)
        line += s[i] == '\n';
    return line;
}

static kb_err add_node(struct tmpl *t, int kind, size_t off, size_t len)
{
    if (t->n >= TMPL_MAX_NODES)
        return KB_ETOOBIG;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->nodes = kb_realloc(t->nodes, t->cap * sizeof *t->nodes);
    }
    t->nodes[t->n++] = (struct tnode){(uint8_t)kind, F_NONE, (uint32_t)off, (uint32_t)len, 0};
    return KB_OK;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* A path is "." or segments of name characters joined by dots, with an
 * optional leading dot (relative to the current section element). */
static bool valid_path(const char *p, size_t n)
{
    if (n == 0 || n > TMPL_MAX_NAME)
        return false;
    if (n == 1 && p[0] == '.')
        return true;
    size_t i = p[0] == '.' ? 1 : 0;
    bool seg = false;
    for (; i < n; i++) {
        if (p[i] == '.') {
            if (!seg)
                return false;
            seg = false;
        } else if (name_char(p[i])) {
            seg = true;
        } else {
            return false;
        }
    }
    return seg;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

kb_err tmpl_parse(const char *name, const char *text, size_t len, struct tmpl **out,
                  struct kb_why *why)
{
    *out = NULL;
    if (len > TMPL_MAX_SOURCE)
        return kb_fail(why, KB_ETOOBIG, "%s: larger than %u bytes", name, TMPL_MAX_SOURCE);
    size_t bad = 0;
    if (!json_utf8_valid(text, len, &bad))
        return kb_fail(why, KB_EPARSE, "%s:%u: invalid UTF-8", name, line_at(text, bad));
    struct tmpl *t = kb_calloc(1, sizeof *t);
    t->name = kb_strdup(name);
    t->src = kb_strndup(text, len);
    t->srclen = len;
    const char *s = t->src;
    size_t open[TMPL_MAX_DEPTH];
    int depth = 0;
    size_t p = 0, text_start = 0;
    kb_err e = KB_OK;
    for (;;) {
        const char *o = p < len ? memmem(s + p, len - p, "{{", 2) : NULL;
        if (!o)
            break;
        size_t ts = (size_t)(o - s);
        unsigned line = line_at(s, ts);
        if (ts + 2 < len && s[ts + 2] == '{') {
            e = kb_fail(why, KB_EPARSE, "%s:%u: '{{{' (unescaped output) is not supported", name,
                        line);
            goto fail;
        }
        const char *c = memmem(s + ts + 2, len - ts - 2, "}}", 2);
        if (!c) {
            e = kb_fail(why, KB_EPARSE, "%s:%u: '{{' is not closed by '}}'", name, line);
            goto fail;
        }
        size_t te = (size_t)(c - s), tag_end = te + 2;
        size_t a = ts + 2, b = te;
        while (a < b && is_blank(s[a]))
            a++;
        while (b > a && is_blank(s[b - 1]))
            b--;
        char sigil = a < b ? s[a] : 0;
        bool block = sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!';
        size_t text_end = ts, next = tag_end;
        if (block) {
            /* Standalone: only blanks around the tag on its line. */
            size_t ls = ts;
            while (ls > 0 && s[ls - 1] != '\n')
                ls--;
            bool before = true;
            for (size_t i = ls; i < ts && before; i++)
                before = is_blank(s[i]);
            size_t q = tag_end;
            while (q < len && is_blank(s[q]))
                q++;
            bool after =
                q == len || s[q] == '\n' || (s[q] == '\r' && q + 1 < len && s[q + 1] == '\n');
            if (before && after && ls >= text_start) {
                text_end = ls;
                next = q == len ? q : q + (s[q] == '\r' ? 2 : 1);
            }
        }
        if (text_end > text_start && add_node(t, N_TEXT, text_start, text_end - text_start)) {
            e = kb_fail(why, KB_ETOOBIG, "%s:%u: more than %d tags and texts", name, line,
                        TMPL_MAX_NODES);
            goto fail;
        }
        text_start = p = next;
        if (sigil == '!')
            continue;
        if (block) {
            a++;
            while (a < b && is_blank(s[a]))
                a++;
        }
        size_t pipe = a;
        while (pipe < b && s[pipe] != '|')
            pipe++;
        size_t ne = pipe;
        while (ne > a && is_blank(s[ne - 1]))
            ne--;
        if (a == ne) {
            e = kb_fail(why, KB_EPARSE, "%s:%u: empty tag", name, line);
            goto fail;
        }
        if (!valid_path(s + a, ne - a)) {
            e = kb_fail(why, KB_EPARSE, "%s:%u: bad name \"%.*s\" (letters, digits, _ - and dots)",
                        name, line, (int)KB_MIN(ne - a, 64), s + a);
            goto fail;
        }
        if (s[a] == '.' && depth == 0) {
            e = kb_fail(why, KB_EPARSE, "%s:%u: \"%.*s\" outside a section", name, line,
                        (int)KB_MIN(ne - a, 64), s + a);
            goto fail;
        }
        int filter = F_NONE;
        if (pipe < b) {
            size_t fa = pipe + 1;
            while (fa < b && is_blank(s[fa]))
                fa++;
            struct kb_str f = {s + fa, b - fa};
            if (block) {
                e = kb_fail(why, KB_EPARSE, "%s:%u: filters apply to values only", name, line);
                goto fail;
            }
            if (kb_str_eq(f, "code")) {
                filter = F_CODE;
            } else if (kb_str_eq(f, "url")) {
                filter = F_URL;
            } else {
                e = kb_fail(why, KB_EPARSE, "%s:%u: unknown filter \"%.*s\" (code, url)", name,
                            line, (int)KB_MIN(f.n, 64), f.p);
                goto fail;
            }
        }
        if (sigil == '/') {
            if (depth == 0) {
                e = kb_fail(why, KB_EPARSE, "%s:%u: {{/%.*s}} closes no section", name, line,
                            (int)KB_MIN(ne - a, 64), s + a);
                goto fail;
            }
            struct tnode *op = &t->nodes[open[depth - 1]];
            if (op->len != ne - a || memcmp(s + op->off, s + a, op->len) != 0) {
                e = kb_fail(why, KB_EPARSE, "%s:%u: {{/%.*s}} closes {{#%.*s}} (line %u)", name,
                            line, (int)KB_MIN(ne - a, 64), s + a, (int)KB_MIN(op->len, 64),
                            s + op->off, line_at(s, op->off));
                goto fail;
            }
            op->end = (uint32_t)t->n;
            depth--;
            continue;
        }
        int kind = sigil == '#' ? N_SECTION : sigil == '^' ? N_INVERTED : N_VAR;
        if (kind != N_VAR && depth == TMPL_MAX_DEPTH) {
            e = kb_fail(why, KB_ETOOBIG, "%s:%u: sections nested deeper than %d", name, line,
                        TMPL_MAX_DEPTH);
            goto fail;
        }
        if (add_node(t, kind, a, ne - a)) {
            e = kb_fail(why, KB_ETOOBIG, "%s:%u: more than %d tags and texts", name, line,
                        TMPL_MAX_NODES);
            goto fail;
        }
        t->nodes[t->n - 1].filter = (uint8_t)filter;
        if (kind != N_VAR)
            open[depth++] = t->n - 1;
    }
    if (len > text_start && add_node(t, N_TEXT, text_start, len - text_start)) {
        e = kb_fail(why, KB_ETOOBIG, "%s:%u: more than %d tags and texts", name,
                    line_at(s, text_start), TMPL_MAX_NODES);
        goto fail;
    }
    if (depth > 0) {
        const struct tnode *op = &t->nodes[open[depth - 1]];
        e = kb_fail(why, KB_EPARSE, "%s:%u: section {{%c%.*s}} is not closed", name,
                    line_at(s, op->off), op->kind == N_SECTION ? '#' : '^',
                    (int)KB_MIN(op->len, 64), s + op->off);
        goto fail;
    }
    *out = t;
    return KB_OK;
fail:
    tmpl_free(t);
    return e;
}

void tmpl_free(struct tmpl *t)
{
    if (!t)
        return;
    free(t->nodes);
    free(t->src);
    free(t->name);
    free(t);
}

const char *tmpl_name(const struct tmpl *t)
{
    return t->name;
}

/* ---- sets -------------------------------------------------------------- */

struct tmpl_set {
    size_t n;
    char **names;
    struct tmpl **t;
};

static kb_err read_small(const char *path, char **text, size_t *len, bool *absent,
                         struct kb_why *why)
{
    *text = NULL;
    *absent = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            *absent = true;
            return KB_OK;
        }
        return kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
    }
    struct stat sb;
    kb_err e = KB_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        e = kb_fail(why, KB_EIO, "%s: not a regular file", path);
        goto out;
    }
    if (sb.st_size > (off_t)TMPL_MAX_SOURCE) {
        e = kb_fail(why, KB_ETOOBIG, "%s: larger than %u bytes", path, TMPL_MAX_SOURCE);
        goto out;
    }
    char *p = kb_malloc(TMPL_MAX_SOURCE + 1);
    size_t n = 0;
    for (;;) { /* bounded: at most TMPL_MAX_SOURCE + 1 bytes are read */
        ssize_t r = read(fd, p + n, TMPL_MAX_SOURCE + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
            free(p);
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > TMPL_MAX_SOURCE) {
            e = kb_fail(why, KB_ETOOBIG, "%s: larger than %u bytes", path, TMPL_MAX_SOURCE);
            free(p);
            goto out;
        }
    }
    *text = p;
    *len = n;
out:
    close(fd);
    return e;
}

kb_err tmpl_set_load(const struct tmpl_default *defs, size_t n, const char *dir,
                     struct tmpl_set **out, struct kb_why *why)
{
    *out = NULL;
    if (dir) {
        struct stat sb;
        if (stat(dir, &sb) != 0)
            return kb_fail(why, KB_EIO, "templates_dir %s: %s", dir, strerror(errno));
        if (!S_ISDIR(sb.st_mode))
            return kb_fail(why, KB_EIO, "templates_dir %s: not a directory", dir);
    }
    struct tmpl_set *s = kb_calloc(1, sizeof *s);
    s->names = kb_calloc(n ? n : 1, sizeof *s->names);
    s->t = kb_calloc(n ? n : 1, sizeof *s->t);
    kb_err e = KB_OK;
    for (size_t i = 0; i < n; i++) {
        char *text = NULL;
        size_t len = 0;
        bool absent = true;
        char path[4096];
        if (dir) {
            if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, defs[i].name) >= sizeof path) {
                e = kb_fail(why, KB_ETOOBIG, "templates_dir %s: path too long", dir);
                goto fail;
            }
            if ((e = read_small(path, &text, &len, &absent, why)))
                goto fail;
        }
        if (absent) {
            snprintf(path, sizeof path, "builtin:%s", defs[i].name);
            e = tmpl_parse(path, defs[i].text, strlen(defs[i].text), &s->t[i], why);
        } else {
            e = tmpl_parse(path, text, len, &s->t[i], why);
        }
        free(text);
        s->names[i] = kb_strdup(defs[i].name);
        s->n = i + 1;
        if (e)
            goto fail;
    }
    *out = s;
    return KB_OK;
fail:
    tmpl_set_free(s);
    return e;
}

const struct tmpl *tmpl_set_get(const struct tmpl_set *s, const char *name)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->names[i], name) == 0)
            return s->t[i];
    return NULL;
}

void tmpl_set_free(struct tmpl_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        tmpl_free(s->t[i]);
        free(s->names[i]);
    }
    free(s->t);
    free(s->names);
    free(s);
}
