/* template_render.c — rendering a parsed template with a character
 * budget, and escaping values for each target (the rules are written down
 * in docs/NOTIFY.md, "Escaping"). */
#include "notify/template_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- output with a character budget ------------------------------------ */

struct rw {
    struct buf *b;
    enum tmpl_escape esc;
    size_t chars;   /* characters written */
    size_t max;     /* at most this many, the closing "…" included */
    size_t reserve; /* characters kept for closing an open code span */
    bool full;      /* cut: nothing more is written */
    kb_err err;
};

static size_t u8chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t u8seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Ends the output with "…" (the budget always keeps room for it). */
static void rw_cut(struct rw *w)
{
    if (w->full)
        return;
    w->full = true;
    if (!w->err)
        w->err = buf_append(w->b, "\xE2\x80\xA6", 3);
    w->chars++;
}

/* Writes s[0..n) whole, or cuts the output there: an escape sequence is
 * never split. */
static void rw_unit(struct rw *w, const char *s, size_t n)
{
    if (w->full || w->err || n == 0)
        return;
    size_t c = u8chars(s, n);
    if (w->chars + c + w->reserve + 1 > w->max) {
        rw_cut(w);
        return;
    }
    w->err = buf_append(w->b, s, n);
    w->chars += c;
}

/* Writes what was reserved for (a closing fence), past the check. */
static void rw_forced(struct rw *w, const char *s, size_t n)
{
    if (!w->err)
        w->err = buf_append(w->b, s, n);
    w->chars += u8chars(s, n);
}

/* Template text: whole when it fits, else character by character. */
static void rw_text(struct rw *w, const char *s, size_t n)
{
    if (w->full || w->err)
        return;
    size_t c = u8chars(s, n);
    if (w->chars + c + w->reserve + 1 <= w->max) {
        rw_unit(w, s, n);
        return;
    }
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end && !w->full) {
        size_t l = u8seq(p, end);
        l = l ? l : 1; /* template text was checked at parse */
        rw_unit(w, (const char *)p, l);
        p += l;
    }
}

/* ---- escaping ---------------------------------------------------------- */

#define U_FFFD "\xEF\xBF\xBD"
#define U_WJ "\xE2\x81\xA0" /* WORD JOINER: breaks @mention and #123 patterns */

static bool alnum_or_wide(unsigned char c)
{
    return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* One character of a value in text position. prev/next: the neighbouring
 * bytes (0 at the value's edges); lead: the value so far is only digits. */
static void esc_char(struct rw *w, const char *cp, size_t l, unsigned char prev, unsigned char next,
                     bool lead_digits, bool at_start)
{
    unsigned char c = (unsigned char)cp[0];
    char tmp[16];
    if (l > 1) {
        rw_unit(w, cp, l);
        return;
    }
    if (w->esc == TMPL_JSON) {
        const char *j = NULL;
        switch (c) {
        case '"':
            j = "\\\"";
            break;
        case '\\':
            j = "\\\\";
            break;
        case '\n':
            j = "\\n";
            break;
        case '\r':
            j = "\\r";
            break;
        case '\t':
            j = "\\t";
            break;
        default:
            if (c < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", c);
                j = tmp;
            }
            break;
        }
        if (j)
            rw_unit(w, j, strlen(j));
        else
            rw_unit(w, cp, 1);
        return;
    }
    if (c == '\r')
        return;
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
        rw_unit(w, " ", 1);
        return;
    }
    if (w->esc == TMPL_PLAIN) {
        rw_unit(w, cp, 1);
        return;
    }
    const char *rep = NULL;
    switch (c) {
    case '&':
        rep = "&amp;";
        break;
    case '<':
        rep = "&lt;";
        break;
    case '>':
        rep = "&gt;";
        break;
    default:
        break;
    }
    if (w->esc == TMPL_SLACK && !rep) {
        /* Slack has no escape for formatting marks; a mark that could open
         * or close formatting (not between two letters or digits) becomes
         * a look-alike, so snake_case names stay as they are. */
        bool edge = !alnum_or_wide(prev) || !alnum_or_wide(next);
        if (c == '`')
            rep = "\xEF\xBD\x80"; /* U+FF40 */
        else if (c == '*' && edge)
            rep = "\xE2\x88\x97"; /* U+2217 */
        else if (c == '_' && edge)
            rep = "\xEF\xBC\xBF"; /* U+FF3F */
        else if (c == '~' && edge)
            rep = "\xE2\x88\xBC"; /* U+223C */
    } else if (w->esc == TMPL_GITHUB && !rep) {
        switch (c) {
        case '\n':
        case '\t':
            rep = " ";
            break;
        case '@':
            rep = "@" U_WJ;
            break;
        case '#':
            rep = "#" U_WJ;
            break;
        case '\\':
        case '`':
        case '*':
        case '_':
        case '[':
        case ']':
        case '|':
        case '~':
        case '!':
            snprintf(tmp, sizeof tmp, "\\%c", c);
            rep = tmp;
            break;
        case '-':
        case '+':
        case '=':
            if (at_start) {
                snprintf(tmp, sizeof tmp, "\\%c", c);
                rep = tmp;
            }
            break;
        case '.':
        case ')':
            if (lead_digits) { /* "1." or "1)" would start a list */
                snprintf(tmp, sizeof tmp, "\\%c", c);
                rep = tmp;
            }
            break;
        default:
            break;
        }
    }
    if (rep)
        rw_unit(w, rep, strlen(rep));
    else
        rw_unit(w, cp, 1);
}

static void emit_text(struct rw *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    unsigned char prev = 0;
    bool lead_digits = true;
    while (p < end && !w->full && !w->err) {
        size_t l = u8seq(p, end);
        if (!l) {
            rw_unit(w, U_FFFD, 3);
            p++;
            prev = 0x80;
            lead_digits = false;
            continue;
        }
        unsigned char next = p + l < end ? p[l] : 0;
        bool digits_before = lead_digits && p > (const unsigned char *)s;
        esc_char(w, (const char *)p, l, prev, next, digits_before, p == (const unsigned char *)s);
        lead_digits = lead_digits && *p >= '0' && *p <= '9';
        prev = *p;
        p += l;
    }
}

/* Inline code (Slack, GitHub): the value is literal inside it; the fence
 * is always closed, even when the value is cut. */
static void emit_code(struct rw *w, const char *s, size_t n)
{
    if (n == 0)
        return;
    size_t run = 0, longest = 0;
    for (size_t i = 0; i < n; i++) {
        run = s[i] == '`' ? run + 1 : 0;
        longest = KB_MAX(longest, run);
    }
    /* GitHub: a fence longer than any backtick run in the value; Slack has
     * no such fence, so backticks become look-alikes there (and in GitHub
     * past 8 in a row, to bound the fence). */
    bool swap_ticks = w->esc == TMPL_SLACK || longest > 8;
    size_t fence = swap_ticks ? 1 : longest + 1;
    bool pad = !swap_ticks && (s[0] == '`' || s[n - 1] == '`');
    char open[16];
    size_t ol = 0;
    for (size_t i = 0; i < fence; i++)
        open[ol++] = '`';
    if (pad)
        open[ol++] = ' ';
    char close[16];
    size_t cl = 0;
    if (pad)
        close[cl++] = ' ';
    for (size_t i = 0; i < fence; i++)
        close[cl++] = '`';
    if (w->full || w->err)
        return;
    if (w->chars + ol + cl + 2 > w->max) { /* no room for one character inside */
        rw_cut(w);
        return;
    }
    rw_unit(w, open, ol);
    w->reserve = cl;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end && !w->full && !w->err) {
        size_t l = u8seq(p, end);
        if (!l) {
            rw_unit(w, U_FFFD, 3);
            p++;
            continue;
        }
        unsigned char c = *p;
        if (l == 1 && (c < 0x20 || c == 0x7F))
            rw_unit(w, " ", 1);
        else if (l == 1 && c == '`' && swap_ticks)
            rw_unit(w, "\xEF\xBD\x80", 3);
        else if (l == 1 && w->esc == TMPL_SLACK && (c == '&' || c == '<' || c == '>'))
            rw_unit(w, c == '&' ? "&amp;" : c == '<' ? "&lt;" : "&gt;", c == '&' ? 5 : 4);
        else
            rw_unit(w, (const char *)p, l);
        p += l;
    }
    w->reserve = 0;
    rw_forced(w, close, cl);
}

static bool http_url(const char *s, size_t n)
{
    return (n > 7 && strncasecmp(s, "http://", 7) == 0) ||
           (n > 8 && strncasecmp(s, "https://", 8) == 0);
}

/* A link target: http(s) only; characters that would end the link in the
 * target's syntax are percent-encoded. */
static void emit_url(struct rw *w, const char *s, size_t n)
{
    if (!http_url(s, n))
        return;
    if (w->esc == TMPL_PLAIN || w->esc == TMPL_JSON) {
        emit_text(w, s, n);
        return;
    }
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    char tmp[8];
    while (p < end && !w->full && !w->err) {
        size_t l = u8seq(p, end);
        unsigned char c = *p;
        if (l > 1) {
            rw_unit(w, (const char *)p, l);
            p += l;
            continue;
        }
        bool enc = !l || c <= 0x20 || c == 0x7F || c == '"' || c == '\\' || c == '`';
        if (w->esc == TMPL_SLACK)
            enc = enc || c == '|';
        else
            enc = enc || c == '(' || c == ')' || c == '[' || c == ']' || c == '<' || c == '>';
        if (enc) {
            snprintf(tmp, sizeof tmp, "%%%02X", c);
            rw_unit(w, tmp, 3);
        } else if (w->esc == TMPL_SLACK && (c == '&' || c == '<' || c == '>')) {
            rw_unit(w, c == '&' ? "&amp;" : c == '<' ? "&lt;" : "&gt;", c == '&' ? 5 : 4);
        } else {
            rw_unit(w, (const char *)p, 1);
        }
        p++;
    }
}

/* ---- rendering --------------------------------------------------------- */

struct rval {
    const struct json_value *v;
    const char *text;
};

struct rstate {
    const struct tmpl *t;
    const struct tmpl_ctx *ctx;
    struct rw w;
};

static const struct json_value *path_in(const struct json_value *v, const char *rest)
{
    return *rest ? json_path(v, rest) : v;
}

/* The values of the sections being rendered, innermost last. */
struct rstack {
    struct rval v[TMPL_MAX_DEPTH + 1];
    size_t n;
};

/* A path: ".x" in the innermost section value that has x (mustache's
 * context stack), "." that value itself; otherwise the first root scope
 * holding the first segment. */
static struct rval resolve(const struct rstate *st, const struct tnode *nd,
                           const struct rstack *cur)
{
    char path[TMPL_MAX_NAME + 1];
    memcpy(path, st->t->src + nd->off, nd->len);
    path[nd->len] = '\0';
    struct rval r = {NULL, NULL};
    if (path[0] == '.') {
        if (!path[1])
            return cur->n ? cur->v[cur->n - 1] : r;
        for (size_t i = cur->n; i > 0; i--) {
            const struct json_value *v = json_path(cur->v[i - 1].v, path + 1);
            if (v) {
                r.v = v;
                r.text = cur->v[i - 1].text;
                return r;
            }
        }
        return r;
    }
    char *dot = strchr(path, '.');
    size_t seg = dot ? (size_t)(dot - path) : nd->len;
    for (size_t i = 0; i < st->ctx->n; i++) {
        const struct json_value *v = json_getn(st->ctx->scopes[i], path, seg);
        if (v) {
            r.v = path_in(v, dot ? dot + 1 : "");
            r.text = st->ctx->texts[i];
            return r;
        }
    }
    return r;
}

static bool truthy(const struct json_value *v)
{
    if (!v)
        return false;
    switch (v->type) {
    case JSON_TRUE:
        return true;
    case JSON_NUMBER:
        return (v->flags & JSON_F_INT) ? v->i != 0 : v->d != 0;
    case JSON_STRING:
    case JSON_ARRAY:
    case JSON_OBJECT:
        return v->len > 0;
    default:
        return false;
    }
}

static void emit_value(struct rstate *st, const struct tnode *nd, struct rval rv)
{
    struct kb_str s = KB_STR_NULL;
    if (!rv.v)
        return;
    switch (rv.v->type) {
    case JSON_STRING:
        s = json_str(rv.v);
        break;
    case JSON_NUMBER:
        s = json_scalar_text(rv.v, rv.text);
        break;
    case JSON_TRUE:
        s = KB_STR_LIT("true");
        break;
    case JSON_FALSE:
        s = KB_STR_LIT("false");
        break;
    default:
        return; /* null, objects and arrays write nothing */
    }
    if (!s.p)
        return;
    bool markup = st->w.esc == TMPL_SLACK || st->w.esc == TMPL_GITHUB;
    if (nd->filter == F_URL)
        emit_url(&st->w, s.p, s.n);
    else if (nd->filter == F_CODE && markup)
        emit_code(&st->w, s.p, s.n);
    else
        emit_text(&st->w, s.p, s.n);
}

static void render_range(struct rstate *st, size_t from, size_t to, struct rstack *cur)
{
    for (size_t i = from; i < to && !st->w.full && !st->w.err; i++) {
        const struct tnode *nd = &st->t->nodes[i];
        switch (nd->kind) {
        case N_TEXT:
            rw_text(&st->w, st->t->src + nd->off, nd->len);
            break;
        case N_VAR:
            emit_value(st, nd, resolve(st, nd, cur));
            break;
        case N_SECTION: {
            /* depth: the parser allows TMPL_MAX_DEPTH nested sections */
            struct rval rv = resolve(st, nd, cur);
            if (rv.v && rv.v->type == JSON_ARRAY) {
                size_t k = 0;
                for (const struct json_value *e = rv.v->u.child; e && k < TMPL_MAX_LOOP;
                     e = e->next, k++) {
                    cur->v[cur->n++] = (struct rval){e, rv.text};
                    render_range(st, i + 1, nd->end, cur);
                    cur->n--;
                }
            } else if (truthy(rv.v)) {
                cur->v[cur->n++] = rv;
                render_range(st, i + 1, nd->end, cur);
                cur->n--;
            }
            i = nd->end - 1;
            break;
        }
        case N_INVERTED:
            if (!truthy(resolve(st, nd, cur).v))
                render_range(st, i + 1, nd->end, cur);
            i = nd->end - 1;
            break;
        default:
            break;
        }
    }
}

kb_err tmpl_escape_text(enum tmpl_escape esc, const char *s, size_t n, size_t max_chars,
                        struct buf *out)
{
    struct rw w = {out, esc, 0, KB_MAX(max_chars, 8), 0, false, KB_OK};
    emit_text(&w, s, n);
    return w.err;
}

kb_err tmpl_render(const struct tmpl *t, const struct tmpl_ctx *ctx, enum tmpl_escape esc,
                   size_t max_chars, struct buf *out, bool *truncated)
{
    struct rstate st = {t, ctx, {out, esc, 0, KB_MAX(max_chars, 8), 0, false, KB_OK}};
    struct rstack cur = {.n = 0};
    render_range(&st, 0, t->n, &cur);
    if (truncated)
        *truncated = st.w.full;
    return st.w.err;
}
