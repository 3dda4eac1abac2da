/* toml_lite.c — the small TOML reader described in toml_lite.h.
 *
 * One pass over the text, recursive only for nested values (bounded by
 * max_depth). While parsing, every (table, key) pair is also kept in a
 * hash index so that duplicate keys and repeated [headers] are found in
 * constant time: lockfiles hold thousands of [[package]] tables, and a
 * linear search per key would make hostile input quadratic. The index is
 * freed before tomll_parse returns; the tree alone stays in the arena. */
#include "vuln/toml_lite.h"

#include "lib/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define TOMLL_DEFAULT_BYTES (64u * 1024 * 1024)
#define TOMLL_DEFAULT_DEPTH 64
#define TOMLL_DEFAULT_NODES 4000000

struct slot {
    uint64_t h;
    const struct tomll_value *parent;
    struct tomll_value *node; /* NULL: empty slot */
};

struct parser {
    const char *s;
    size_t n, i;
    unsigned line;
    struct arena *a;
    struct tomll_limits lim;
    size_t nodes;
    struct tomll_error *err;
    struct tomll_value *root, *cur; /* cur: the table key = value lines go to */
    struct slot *slots;
    size_t cap, used;
    char *buf; /* decoding room for one string (kb_malloc'd, freed at the end) */
    size_t bufcap;
};

struct seg { /* one segment of a dotted key, decoded */
    const char *p;
    size_t n;
};

static kb_err fail(struct parser *p, kb_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static kb_err fail(struct parser *p, kb_err e, const char *fmt, ...)
{
    if (p->err) {
        p->err->line = p->line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
        va_end(ap);
    }
    return e;
}

/* ---- nodes and the (table, key) index ---- */

static kb_err new_node(struct parser *p, enum tomll_type type, unsigned line,
                       struct tomll_value **out)
{
    if (p->nodes >= p->lim.max_nodes)
        return fail(p, KB_ETOOBIG, "more than %zu values", p->lim.max_nodes);
    struct tomll_value *v = arena_alloc(p->a, sizeof *v);
    if (!v)
        return fail(p, KB_ETOOBIG, "out of arena memory");
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)type;
    v->line = line;
    p->nodes++;
    *out = v;
    return KB_OK;
}

static uint64_t key_hash(const struct tomll_value *parent, const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ ((uint64_t)(uintptr_t)parent * 0x9E3779B97F4A7C15ull);
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static struct tomll_value *find(struct parser *p, const struct tomll_value *t, struct seg k)
{
    if (!p->cap)
        return NULL;
    uint64_t h = key_hash(t, k.p, k.n);
    for (size_t j = h & (p->cap - 1);; j = (j + 1) & (p->cap - 1)) {
        struct slot *s = &p->slots[j];
        if (!s->node)
            return NULL;
        if (s->h == h && s->parent == t && s->node->key_len == k.n &&
            !memcmp(s->node->key, k.p, k.n))
            return s->node;
    }
}

static void index_put(struct parser *p, const struct tomll_value *t, struct tomll_value *v)
{
    if ((p->used + 1) * 2 > p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 256;
        struct slot *ns = kb_calloc(ncap, sizeof *ns);
        for (size_t j = 0; j < p->cap; j++) {
            if (!p->slots[j].node)
                continue;
            size_t k = p->slots[j].h & (ncap - 1);
            while (ns[k].node)
                k = (k + 1) & (ncap - 1);
            ns[k] = p->slots[j];
        }
        free(p->slots);
        p->slots = ns;
        p->cap = ncap;
    }
    uint64_t h = key_hash(t, v->key, v->key_len);
    size_t j = h & (p->cap - 1);
    while (p->slots[j].node)
        j = (j + 1) & (p->cap - 1);
    p->slots[j] = (struct slot){h, t, v};
    p->used++;
}

static void append(struct tomll_value *parent, struct tomll_value *v)
{
    if (parent->last)
        parent->last->next = v;
    else
        parent->child = v;
    parent->last = v;
    parent->count++;
}

/* Adds v to table t under key k; a key already there is an error. */
static kb_err add_member(struct parser *p, struct tomll_value *t, struct seg k,
                         struct tomll_value *v)
{
    if (find(p, t, k))
        return fail(p, KB_EPARSE, "duplicate key '%.*s'", (int)KB_MIN(k.n, 60), k.p);
    v->key = k.p;
    v->key_len = k.n;
    append(t, v);
    index_put(p, t, v);
    return KB_OK;
}

/* ---- characters ---- */

static int peek(const struct parser *p)
{
    return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

static int peek_at(const struct parser *p, size_t off)
{
    return p->i + off < p->n ? (unsigned char)p->s[p->i + off] : -1;
}

static void skip_ws(struct parser *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
        p->i++;
}

static void skip_comment(struct parser *p)
{
    if (peek(p) != '#')
        return;
    while (p->i < p->n && p->s[p->i] != '\n')
        p->i++;
}

/* Consumes "\n" or "\r\n"; false when neither is next. */
static bool eat_newline(struct parser *p)
{
    if (peek(p) == '\n') {
        p->i++;
        p->line++;
        return true;
    }
    if (peek(p) == '\r' && peek_at(p, 1) == '\n') {
        p->i += 2;
        p->line++;
        return true;
    }
    return false;
}

/* Whitespace, newlines and comments (inside arrays and inline tables). */
static void skip_blank(struct parser *p)
{
    for (;;) {
        skip_ws(p);
        skip_comment(p);
        if (!eat_newline(p))
            return;
    }
}

static bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static bool is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* ---- strings ---- */

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads one escape after a backslash (p->i is past the backslash) into o. */
static kb_err escape(struct parser *p, char *o, size_t *on)
{
    static const char from[] = "btnfre\"\\", to[] = "\b\t\n\f\r\x1b\"\\";
    int c = peek(p);
    if (c < 0)
        return fail(p, KB_EPARSE, "unterminated string");
    p->i++;
    const char *simple = c ? strchr(from, c) : NULL;
    if (simple) {
        o[(*on)++] = to[simple - from];
        return KB_OK;
    }
    if (c != 'u' && c != 'U')
        return fail(p, KB_EPARSE, "unknown escape in a string");
    int digits = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (int k = 0; k < digits; k++) {
        int h = hexval(peek(p));
        if (h < 0)
            return fail(p, KB_EPARSE, "bad \\%c escape: expected %d hex digits", c, digits);
        cp = cp * 16 + (uint32_t)h;
        p->i++;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return fail(p, KB_EPARSE, "\\%c escape is not a Unicode scalar value", c);
    *on += put_utf8(o + *on, cp);
    return KB_OK;
}

/* A string starting at p->i (at its first quote), decoded in p->buf and
 * then copied into the arena. */
static kb_err string(struct parser *p, struct seg *out, bool allow_multi)
{
    char q = p->s[p->i];
    bool multi = allow_multi && peek_at(p, 1) == q && peek_at(p, 2) == q;
    p->i += multi ? 3 : 1;
    if (multi)
        eat_newline(p); /* a newline right after the opening quotes is trimmed */
    size_t on = 0;
    char *o = p->buf;
    for (;;) {
        if (on + 8 > p->bufcap) { /* one step writes at most 5 bytes */
            p->bufcap = p->bufcap ? p->bufcap * 2 : 256;
            o = p->buf = kb_realloc(p->buf, p->bufcap);
        }
        int c = peek(p);
        if (c < 0)
            return fail(p, KB_EPARSE, "unterminated string");
        if (c == q) {
            if (!multi) {
                p->i++;
                break;
            }
            size_t run = 0;
            while (peek_at(p, run) == q)
                run++;
            if (run >= 3) {
                if (run > 5)
                    return fail(p, KB_EPARSE, "too many quotes closing a multi-line string");
                for (size_t k = 0; k < run - 3; k++)
                    o[on++] = q;
                p->i += run;
                break;
            }
            for (size_t k = 0; k < run; k++)
                o[on++] = q;
            p->i += run;
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (!multi)
                return fail(p, KB_EPARSE, "newline in a single-line string");
            size_t at = p->i;
            if (!eat_newline(p))
                return fail(p, KB_EPARSE, "bare carriage return in a string");
            memcpy(o + on, p->s + at, p->i - at);
            on += p->i - at;
            continue;
        }
        if (c == '\\' && q == '"') {
            p->i++;
            if (multi) { /* line-ending backslash: drop it and all blank space after */
                size_t j = p->i;
                while (j < p->n && (p->s[j] == ' ' || p->s[j] == '\t'))
                    j++;
                if (j < p->n && (p->s[j] == '\n' || p->s[j] == '\r')) {
                    p->i = j;
                    if (!eat_newline(p))
                        return fail(p, KB_EPARSE, "bare carriage return in a string");
                    for (;;) {
                        skip_ws(p);
                        if (!eat_newline(p))
                            break;
                    }
                    continue;
                }
            }
            kb_err e = escape(p, o, &on);
            if (e)
                return e;
            continue;
        }
        if (is_control((unsigned char)c))
            return fail(p, KB_EPARSE, "control character in a string");
        o[on++] = (char)c;
        p->i++;
    }
    char *copy = arena_alloc(p->a, on + 1);
    if (!copy)
        return fail(p, KB_ETOOBIG, "out of arena memory");
    memcpy(copy, o, on);
    copy[on] = '\0';
    *out = (struct seg){copy, on};
    return KB_OK;
}

/* ---- keys ---- */

static kb_err key(struct parser *p, struct seg *segs, size_t *nseg)
{
    *nseg = 0;
    for (;;) {
        skip_ws(p);
        if (*nseg >= p->lim.max_depth)
            return fail(p, KB_ETOOBIG, "dotted key deeper than %u", p->lim.max_depth);
        struct seg *s = &segs[(*nseg)++];
        int c = peek(p);
        if (c == '"' || c == '\'') {
            kb_err e = string(p, s, false);
            if (e)
                return e;
        } else if (is_bare(c)) {
            size_t start = p->i;
            while (is_bare(peek(p)))
                p->i++;
            char *k = arena_strndup(p->a, p->s + start, p->i - start);
            if (!k)
                return fail(p, KB_ETOOBIG, "out of arena memory");
            *s = (struct seg){k, p->i - start};
        } else {
            return fail(p, KB_EPARSE, "expected a key");
        }
        skip_ws(p);
        if (peek(p) != '.')
            return KB_OK;
        p->i++;
    }
}

/* The table a dotted prefix names, from t, creating tables on the way.
 * header: walking a [header] (arrays of tables lead into their last
 * element); otherwise a dotted key (a.b = 1). */
static kb_err walk(struct parser *p, struct tomll_value *t, const struct seg *segs, size_t n,
                   bool header, struct tomll_value **out)
{
    for (size_t k = 0; k < n; k++) {
        struct tomll_value *v = find(p, t, segs[k]);
        if (!v) {
            kb_err e = new_node(p, TOMLL_TABLE, p->line, &v);
            if (!e)
                e = add_member(p, t, segs[k], v);
            if (e)
                return e;
            if (!header)
                v->flags |= TOMLL_F_DOTTED;
        } else if (header && v->type == TOMLL_ARRAY && (v->flags & TOMLL_F_TABLES)) {
            v = v->last;
        } else if (v->type != TOMLL_TABLE || (v->flags & TOMLL_F_INLINE)) {
            if (v->type == TOMLL_TABLE)
                return fail(p, KB_EPARSE, "key '%.*s' is an inline table, closed to extension",
                            (int)KB_MIN(segs[k].n, 60), segs[k].p);
            return fail(p, KB_EPARSE, "key '%.*s' is not a table (type %s)",
                        (int)KB_MIN(segs[k].n, 60), segs[k].p, tomll_type_name(v));
        } else if (!header && (v->flags & TOMLL_F_DEFINED) && !(v->flags & TOMLL_F_DOTTED)) {
            return fail(p, KB_EPARSE, "dotted key extends table [%.*s] defined elsewhere",
                        (int)KB_MIN(segs[k].n, 60), segs[k].p);
        }
        t = v;
    }
    *out = t;
    return KB_OK;
}

/* ---- values ---- */

static kb_err value(struct parser *p, unsigned depth, struct tomll_value **out);
static kb_err keyval(struct parser *p, struct tomll_value *table, unsigned depth);

static bool at_value_end(const struct parser *p)
{
    int c = peek(p);
    return c < 0 || c == ' ' || c == '\t' || c == ',' || c == ']' || c == '}' || c == '#' ||
           c == '\n' || c == '\r';
}

static kb_err number(struct parser *p, struct tomll_value **out)
{
    unsigned line = p->line;
    size_t start = p->i;
    bool neg = false;
    if (peek(p) == '+' || peek(p) == '-') {
        neg = peek(p) == '-';
        p->i++;
    }
    if (peek(p) == 'i' || peek(p) == 'n')
        return fail(p, KB_EPARSE, "inf and nan are not read");
    if (peek(p) == '0' && (peek_at(p, 1) == 'x' || peek_at(p, 1) == 'o' || peek_at(p, 1) == 'b'))
        return fail(p, KB_EPARSE, "hexadecimal, octal and binary integers are not read");
    uint64_t mag = 0;
    size_t digits = 0;
    bool prev_digit = false;
    for (;;) {
        int c = peek(p);
        if (c >= '0' && c <= '9') {
            if (mag > (UINT64_MAX - 9) / 10)
                return fail(p, KB_EPARSE, "integer out of range");
            mag = mag * 10 + (uint64_t)(c - '0');
            digits++;
            prev_digit = true;
        } else if (c == '_' && prev_digit && peek_at(p, 1) >= '0' && peek_at(p, 1) <= '9') {
            prev_digit = false;
        } else {
            break;
        }
        p->i++;
    }
    int c = peek(p);
    if (digits && (c == '.' || c == 'e' || c == 'E'))
        return fail(p, KB_EPARSE, "floats are not read");
    if (digits && (c == '-' || c == ':'))
        return fail(p, KB_EPARSE, "dates and times are not read");
    if (!digits || !at_value_end(p))
        return fail(p, KB_EPARSE, "expected a value");
    size_t first = start + (p->s[start] == '+' || p->s[start] == '-');
    if (p->s[first] == '0' && digits > 1)
        return fail(p, KB_EPARSE, "leading zero in an integer");
    if ((!neg && mag > (uint64_t)INT64_MAX) || (neg && mag > (uint64_t)INT64_MAX + 1))
        return fail(p, KB_EPARSE, "integer out of range");
    kb_err e = new_node(p, TOMLL_INTEGER, line, out);
    if (e)
        return e;
    (*out)->u.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return KB_OK;
}

static kb_err array(struct parser *p, unsigned depth, struct tomll_value **out)
{
    struct tomll_value *arr = NULL;
    kb_err e = new_node(p, TOMLL_ARRAY, p->line, &arr);
    if (e)
        return e;
    arr->flags |= TOMLL_F_INLINE;
    p->i++; /* '[' */
    for (;;) {
        skip_blank(p);
        if (peek(p) == ']')
            break;
        struct tomll_value *v = NULL;
        if ((e = value(p, depth + 1, &v)))
            return e;
        append(arr, v);
        skip_blank(p);
        if (peek(p) == ',') {
            p->i++;
            continue;
        }
        if (peek(p) != ']')
            return fail(p, KB_EPARSE,
                        peek(p) < 0 ? "unterminated array" : "expected ',' or ']' in an array");
    }
    p->i++;
    *out = arr;
    return KB_OK;
}

/* Tables made by dotted keys inside an inline table are closed with it. */
static void close_inline(struct tomll_value *t)
{
    t->flags |= TOMLL_F_INLINE;
    for (struct tomll_value *c = t->child; c; c = c->next)
        if (c->type == TOMLL_TABLE && (c->flags & TOMLL_F_DOTTED) && !(c->flags & TOMLL_F_INLINE))
            close_inline(c);
}

static kb_err inline_table(struct parser *p, unsigned depth, struct tomll_value **out)
{
    struct tomll_value *t = NULL;
    kb_err e = new_node(p, TOMLL_TABLE, p->line, &t);
    if (e)
        return e;
    p->i++; /* '{' */
    skip_blank(p);
    while (peek(p) != '}') {
        if ((e = keyval(p, t, depth + 1)))
            return e;
        skip_blank(p);
        if (peek(p) == ',') {
            p->i++;
            skip_blank(p);
        } else if (peek(p) != '}') {
            return fail(p, KB_EPARSE,
                        peek(p) < 0 ? "unterminated inline table"
                                    : "expected ',' or '}' in an inline table");
        }
    }
    p->i++;
    close_inline(t);
    *out = t;
    return KB_OK;
}

static kb_err value(struct parser *p, unsigned depth, struct tomll_value **out)
{
    if (depth > p->lim.max_depth)
        return fail(p, KB_ETOOBIG, "values nested deeper than %u", p->lim.max_depth);
    int c = peek(p);
    unsigned line = p->line;
    if (c == '"' || c == '\'') {
        struct seg s;
        kb_err e = string(p, &s, true);
        if (!e)
            e = new_node(p, TOMLL_STRING, line, out);
        if (!e) {
            (*out)->u.str.p = s.p;
            (*out)->u.str.n = s.n;
        }
        return e;
    }
    if (c == '[')
        return array(p, depth, out);
    if (c == '{')
        return inline_table(p, depth, out);
    if (c == 't' || c == 'f') {
        size_t n = c == 't' ? 4 : 5;
        if (p->n - p->i >= n && !memcmp(p->s + p->i, c == 't' ? "true" : "false", n)) {
            p->i += n;
            if (at_value_end(p)) {
                kb_err e = new_node(p, TOMLL_BOOL, line, out);
                if (!e)
                    (*out)->u.b = c == 't';
                return e;
            }
        }
        return fail(p, KB_EPARSE, "expected a value");
    }
    if ((c >= '0' && c <= '9') || c == '+' || c == '-')
        return number(p, out);
    if (c == 'i' || c == 'n')
        return fail(p, KB_EPARSE, "inf and nan are not read");
    return fail(p, KB_EPARSE, "expected a value");
}

static kb_err keyval(struct parser *p, struct tomll_value *table, unsigned depth)
{
    struct seg segs[TOMLL_DEFAULT_DEPTH];
    size_t n;
    kb_err e = key(p, segs, &n);
    if (e)
        return e;
    struct tomll_value *t = NULL;
    if ((e = walk(p, table, segs, n - 1, false, &t)))
        return e;
    if (peek(p) != '=')
        return fail(p, KB_EPARSE, "expected '=' after a key");
    p->i++;
    skip_ws(p);
    struct tomll_value *v = NULL;
    if ((e = value(p, depth, &v)))
        return e;
    return add_member(p, t, segs[n - 1], v);
}

static kb_err header(struct parser *p)
{
    bool aot = peek_at(p, 1) == '[';
    p->i += aot ? 2 : 1;
    struct seg segs[TOMLL_DEFAULT_DEPTH];
    size_t n;
    kb_err e = key(p, segs, &n);
    if (e)
        return e;
    if (peek(p) != ']' || (aot && peek_at(p, 1) != ']'))
        return fail(p, KB_EPARSE,
                    aot ? "expected ']]' after a table name" : "expected ']' after a table name");
    p->i += aot ? 2 : 1;
    struct tomll_value *t = NULL;
    if ((e = walk(p, p->root, segs, n - 1, true, &t)))
        return e;
    struct seg last = segs[n - 1];
    struct tomll_value *v = find(p, t, last);
    int kn = (int)KB_MIN(last.n, 60);
    if (!aot) {
        if (!v) {
            if ((e = new_node(p, TOMLL_TABLE, p->line, &v)) || (e = add_member(p, t, last, v)))
                return e;
        } else if (v->type != TOMLL_TABLE) {
            return fail(p, KB_EPARSE, "key '%.*s' is not a table (type %s)", kn, last.p,
                        tomll_type_name(v));
        } else if (v->flags & (TOMLL_F_DEFINED | TOMLL_F_INLINE | TOMLL_F_DOTTED)) {
            return fail(p, KB_EPARSE, "table '%.*s' defined twice", kn, last.p);
        }
        v->flags |= TOMLL_F_DEFINED;
        v->line = p->line;
        p->cur = v;
        return KB_OK;
    }
    if (!v) {
        if ((e = new_node(p, TOMLL_ARRAY, p->line, &v)) || (e = add_member(p, t, last, v)))
            return e;
        v->flags |= TOMLL_F_TABLES;
    } else if (v->type != TOMLL_ARRAY || !(v->flags & TOMLL_F_TABLES)) {
        return fail(p, KB_EPARSE, "key '%.*s' is not an array of tables (type %s)", kn, last.p,
                    tomll_type_name(v));
    }
    struct tomll_value *elem = NULL;
    if ((e = new_node(p, TOMLL_TABLE, p->line, &elem)))
        return e;
    elem->flags |= TOMLL_F_DEFINED;
    append(v, elem);
    p->cur = elem;
    return KB_OK;
}

static kb_err document(struct parser *p)
{
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (c < 0)
            return KB_OK;
        kb_err e = KB_OK;
        if (c == '[')
            e = header(p);
        else if (c != '#' && c != '\n' && c != '\r')
            e = keyval(p, p->cur, 0);
        if (e)
            return e;
        skip_ws(p);
        skip_comment(p);
        if (peek(p) >= 0 && !eat_newline(p))
            return fail(p, KB_EPARSE,
                        peek(p) == '\r' ? "bare carriage return" : "expected the end of the line");
    }
}

kb_err tomll_parse(const char *text, size_t len, const struct tomll_limits *lim, struct arena *a,
                   struct tomll_value **root, struct tomll_error *err)
{
    struct parser p = {.s = text, .n = len, .line = 1, .a = a, .err = err};
    if (lim)
        p.lim = *lim;
    if (!p.lim.max_bytes)
        p.lim.max_bytes = TOMLL_DEFAULT_BYTES;
    if (!p.lim.max_depth || p.lim.max_depth > TOMLL_DEFAULT_DEPTH)
        p.lim.max_depth = TOMLL_DEFAULT_DEPTH;
    if (!p.lim.max_nodes)
        p.lim.max_nodes = TOMLL_DEFAULT_NODES;
    if (err)
        memset(err, 0, sizeof *err);
    if (len > p.lim.max_bytes)
        return fail(&p, KB_ETOOBIG, "larger than %zu bytes", p.lim.max_bytes);
    size_t bad;
    if (!json_utf8_valid(text, len, &bad)) {
        for (size_t j = 0; j < bad; j++)
            p.line += text[j] == '\n';
        return fail(&p, KB_EPARSE, "invalid UTF-8");
    }
    kb_err e = new_node(&p, TOMLL_TABLE, 1, &p.root);
    if (!e) {
        p.cur = p.root;
        if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
            p.i = 3; /* a byte order mark, as some editors write */
        e = document(&p);
    }
    free(p.slots);
    free(p.buf);
    if (!e)
        *root = p.root;
    return e;
}

const struct tomll_value *tomll_get(const struct tomll_value *t, const char *k)
{
    if (!t || t->type != TOMLL_TABLE || !k)
        return NULL;
    size_t n = strlen(k);
    for (const struct tomll_value *c = t->child; c; c = c->next)
        if (c->key_len == n && !memcmp(c->key, k, n))
            return c;
    return NULL;
}

struct kb_str tomll_str(const struct tomll_value *v)
{
    if (!v || v->type != TOMLL_STRING)
        return KB_STR_NULL;
    return (struct kb_str){v->u.str.p, v->u.str.n};
}

const char *tomll_type_name(const struct tomll_value *v)
{
    static const char *const names[] = {"string", "integer", "boolean", "array", "table"};
    return v && v->type < KB_ARRAY_LEN(names) ? names[v->type] : "?";
}
