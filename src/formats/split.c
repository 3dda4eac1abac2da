/* split.c — payload → events (see split.h for the rules). */
#include "formats/split.h"

#include <stdio.h>

struct splitter {
    const struct split_opts *o;
    struct json_limits lim;
    struct arena *ar;
    split_fn fn;
    void *ctx;
    size_t index;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_ws(p[i]))
            return false;
    return true;
}

static size_t skip_prefix(const char *body, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && is_ws(body[i]))
        i++;
    return i;
}

/* Whether text at p (n bytes) can begin a JSON value: "[Sun Dec 04 ...]"
 * (Apache's error log) opens with '[' but is not JSON. */
static bool json_value_start(const char *p, size_t n)
{
    if (n == 0)
        return true; /* "[" at the very end: let the parser say why */
    switch (p[0]) {
    case '"': case '{': case '[': case ']': case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return true;
    case 't': return n >= 4 && memcmp(p, "true", 4) == 0;
    case 'f': return n >= 5 && memcmp(p, "false", 5) == 0;
    case 'n': return n >= 4 && memcmp(p, "null", 4) == 0;
    default: return false;
    }
}

bool split_looks_json(const char *body, size_t len)
{
    size_t i = skip_prefix(body, len);
    if (i >= len)
        return false;
    if (body[i] == '{')
        return true;
    if (body[i] != '[')
        return false;
    size_t j = i + 1;
    while (j < len && (body[j] == ' ' || body[j] == '\t' || body[j] == '\r' || body[j] == '\n'))
        j++;
    return json_value_start(body + j, len - j);
}

static kb_err emit(struct splitter *s, struct split_event *ev)
{
    if (s->o->max_events && s->index >= s->o->max_events)
        return KB_ETOOBIG;
    ev->index = s->index++;
    return s->fn(s->ctx, ev);
}

static kb_err emit_bad(struct splitter *s, struct kb_str raw, const char *why)
{
    struct split_event ev = {.kind = SPLIT_BAD, .raw = raw, .error = why};
    return emit(s, &ev);
}

static kb_err emit_json(struct splitter *s, const struct json_value *v, const char *base)
{
    struct kb_str raw = {base + v->src_off, v->src_len};
    if (s->o->max_event && raw.n > s->o->max_event) {
        char why[120];
        snprintf(why, sizeof why, "event is %zu bytes, over the limit of %zu", raw.n,
                 s->o->max_event);
        return emit_bad(s, raw, why);
    }
    struct split_event ev = {.kind = SPLIT_JSON, .raw = raw, .json = v};
    return emit(s, &ev);
}

/* One top-level value: expand {"Records":[...]} and arrays. */
static kb_err split_value(struct splitter *s, const struct json_value *v, const char *base)
{
    const struct json_value *list = NULL;
    if (v->type == JSON_ARRAY) {
        list = v;
    } else if (v->type == JSON_OBJECT && v->len == 1) {
        const struct json_value *rec = json_get(v, "Records");
        if (rec && rec->type == JSON_ARRAY)
            list = rec;
    }
    if (!list)
        return emit_json(s, v, base);
    for (const struct json_value *el = list->u.child; el; el = el->next) {
        kb_err e = emit_json(s, el, base);
        if (e)
            return e;
    }
    return KB_OK;
}

static void parse_error(char *out, size_t n, const struct json_error *je, kb_err e,
                        size_t line_base)
{
    if (e == KB_ETOOBIG)
        snprintf(out, n, "line %u, column %u: %s", je->line + (unsigned)line_base, je->col,
                 je->msg[0] ? je->msg : "too big or nested too deeply");
    else
        snprintf(out, n, "invalid JSON at line %u, column %u: %s",
                 je->line + (unsigned)line_base, je->col, je->msg[0] ? je->msg : "error");
}

typedef kb_err (*line_fn)(struct splitter *s, const char *line, size_t n, size_t lineno);

static kb_err for_each_line(struct splitter *s, const char *body, size_t len, line_fn fn)
{
    size_t pos = 0, lineno = 0;
    while (pos < len) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - body) : len;
        const char *line = body + pos;
        size_t n = end - pos;
        pos = end + 1;
        lineno++;
        if (n && line[n - 1] == '\r')
            n--;
        if (is_blank(line, n))
            continue;
        kb_err e = fn(s, line, n, lineno);
        if (e)
            return e;
    }
    return KB_OK;
}

static kb_err text_line(struct splitter *s, const char *line, size_t n, size_t lineno)
{
    (void)lineno;
    if (s->o->max_event && n > s->o->max_event) {
        char why[120];
        snprintf(why, sizeof why, "line is %zu bytes, over the limit of %zu", n,
                 s->o->max_event);
        return emit_bad(s, (struct kb_str){line, n}, why);
    }
    struct split_event ev = {.kind = SPLIT_TEXT, .raw = {line, n}};
    return emit(s, &ev);
}

static kb_err json_line(struct splitter *s, const char *line, size_t n, size_t lineno)
{
    char why[200];
    if (s->o->max_event && n > s->o->max_event) {
        snprintf(why, sizeof why, "line %zu: event is %zu bytes, over the limit of %zu", lineno,
                 n, s->o->max_event);
        return emit_bad(s, (struct kb_str){line, n}, why);
    }
    arena_reset(s->ar);
    struct json_value *v = NULL;
    struct json_error je = {0};
    kb_err e = json_parse(line, n, &s->lim, s->ar, &v, &je);
    if (e) {
        parse_error(why, sizeof why, &je, e, lineno - 1);
        return emit_bad(s, (struct kb_str){line, n}, why);
    }
    return split_value(s, v, line);
}

/* Several values, or a document that does not parse: NDJSON when one of the
 * first non-blank lines is an object or array on its own (a pretty-printed
 * document's lines almost never are), else one bad event. */
static bool looks_ndjson(struct splitter *s, const char *body, size_t len)
{
    size_t pos = 0;
    int lines = 0, checked = 0;
    bool any = false;
    while (pos < len && checked < 8) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - body) : len;
        const char *line = body + pos;
        size_t n = end - pos;
        pos = end + 1;
        if (is_blank(line, n))
            continue;
        lines++;
        checked++;
        if (any)
            continue;
        struct json_value *v = NULL;
        arena_reset(s->ar);
        if (n <= s->lim.max_bytes && json_parse(line, n, &s->lim, s->ar, &v, NULL) == KB_OK &&
            (v->type == JSON_OBJECT || v->type == JSON_ARRAY))
            any = true;
    }
    while (pos < len && lines < 2) { /* a single line is never NDJSON */
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - body) : len;
        if (!is_blank(body + pos, end - pos))
            lines++;
        pos = end + 1;
    }
    return any && lines >= 2;
}

kb_err split_payload(const char *body, size_t len, const struct split_opts *o,
                     struct arena *ar, split_fn fn, void *ctx, struct kb_why *why)
{
    struct splitter s = {.o = o, .ar = ar, .fn = fn, .ctx = ctx};
    s.lim.max_depth = o->max_depth ? o->max_depth : 64;
    s.lim.max_bytes = o->max_event ? o->max_event : 1024 * 1024;
    size_t i = skip_prefix(body, len);
    if (i == len)
        return kb_fail(why, KB_EINVAL, "empty payload");
    body += i;
    len -= i;
    kb_err e;
    if (o->force_text || !split_looks_json(body, len)) {
        e = for_each_line(&s, body, len, text_line);
    } else {
        struct json_limits whole = s.lim;
        whole.max_bytes = len;
        struct json_value *v = NULL;
        struct json_error je = {0};
        size_t used = 0;
        arena_reset(ar);
        e = json_parse_prefix(body, len, &whole, ar, &v, &used, &je);
        if (e == KB_OK && is_blank(body + used, len - used)) {
            e = split_value(&s, v, body);
        } else {
            if (looks_ndjson(&s, body, len)) {
                e = for_each_line(&s, body, len, json_line);
            } else {
                char msg[200];
                if (e == KB_OK)
                    snprintf(msg, sizeof msg, "unexpected data after the JSON value at byte %zu",
                             used);
                else
                    parse_error(msg, sizeof msg, &je, e, 0);
                e = emit_bad(&s, (struct kb_str){body, len}, msg);
            }
        }
    }
    if (e == KB_ETOOBIG && o->max_events && s.index >= o->max_events)
        return kb_fail(why, KB_ETOOBIG, "payload holds more than %zu events", o->max_events);
    return e;
}
