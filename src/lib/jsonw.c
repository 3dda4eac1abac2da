/* jsonw.c — JSON writer: commas, escaping, always-valid output. */
#include "lib/jsonw.h"

#include <math.h>
#include <stdio.h>

/* Bytes that need escaping or UTF-8 checking: '"', '\\', < 0x20, >= 0x80 */
static inline bool needs_care(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return end - p >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

kb_err json_escape_into(struct buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    kb_err e = KB_OK;
    while (p < end && !e) {
        const unsigned char *run = p;
        while (p < end && !needs_care(*p))
            p++;
        if (p > run)
            e = buf_append(b, run, (size_t)(p - run));
        if (p >= end || e)
            break;
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t l = utf8_len(p, end);
            if (l) {
                e = buf_append(b, p, l);
                p += l;
            } else {
                e = buf_append(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
                p++;
            }
            continue;
        }
        char esc[8];
        switch (c) {
        case '"': e = buf_append(b, "\\\"", 2); break;
        case '\\': e = buf_append(b, "\\\\", 2); break;
        case '\n': e = buf_append(b, "\\n", 2); break;
        case '\r': e = buf_append(b, "\\r", 2); break;
        case '\t': e = buf_append(b, "\\t", 2); break;
        case '\b': e = buf_append(b, "\\b", 2); break;
        case '\f': e = buf_append(b, "\\f", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            e = buf_append(b, esc, 6);
            break;
        }
        p++;
    }
    return e;
}

void jw_init(struct jw *w, struct buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

static void jw_put(struct jw *w, const char *s, size_t n)
{
    if (!w->err)
        w->err = buf_append(w->out, s, n);
}

/* Separator before a value or key at the current level. */
static void jw_sep(struct jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        jw_put(w, ",", 1);
    w->need_comma[w->depth] = true;
}

static void jw_open(struct jw *w, char c)
{
    jw_sep(w);
    jw_put(w, &c, 1);
    if (w->depth >= JW_MAX_DEPTH) {
        if (!w->err)
            w->err = KB_ETOOBIG;
        return;
    }
    w->depth++;
    w->need_comma[w->depth] = false;
}

static void jw_close(struct jw *w, char c)
{
    if (w->depth > 0)
        w->depth--;
    jw_put(w, &c, 1);
}

void jw_obj_begin(struct jw *w) { jw_open(w, '{'); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr_begin(struct jw *w) { jw_open(w, '['); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

void jw_key(struct jw *w, const char *key)
{
    jw_sep(w);
    jw_put(w, "\"", 1);
    if (!w->err)
        w->err = json_escape_into(w->out, key, strlen(key));
    jw_put(w, "\":", 2);
    w->after_key = true;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
    if (!s) {
        jw_null(w);
        return;
    }
    jw_sep(w);
    jw_put(w, "\"", 1);
    if (!w->err)
        w->err = json_escape_into(w->out, s, n);
    jw_put(w, "\"", 1);
}

void jw_str(struct jw *w, const char *s)
{
    jw_strn(w, s, s ? strlen(s) : 0);
}

void jw_kstr(struct jw *w, struct kb_str s)
{
    if (kb_str_empty(s))
        jw_null(w);
    else
        jw_strn(w, s.p, s.n);
}

void jw_int(struct jw *w, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    jw_sep(w);
    jw_put(w, tmp, (size_t)n);
}

void jw_double(struct jw *w, double v)
{
    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.17g", v);
    jw_sep(w);
    jw_put(w, tmp, (size_t)n);
}

void jw_bool(struct jw *w, bool v)
{
    jw_sep(w);
    jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w)
{
    jw_sep(w);
    jw_put(w, "null", 4);
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
    jw_sep(w);
    jw_put(w, json, n);
}

void jw_raw_compact(struct jw *w, const char *json, size_t n)
{
    jw_sep(w);
    bool in_str = false;
    size_t run = 0; /* start of the pending run to copy */
    for (size_t i = 0; i < n && !w->err; i++) {
        char c = json[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            if (i > run)
                jw_put(w, json + run, i - run);
            run = i + 1;
        }
    }
    if (n > run)
        jw_put(w, json + run, n - run);
}

void jw_kv_str(struct jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}

void jw_kv_kstr(struct jw *w, const char *key, struct kb_str s)
{
    jw_key(w, key);
    jw_kstr(w, s);
}

void jw_kv_int(struct jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    jw_int(w, v);
}

kb_err jw_finish(struct jw *w)
{
    return w->err;
}
