/*
 * json_check.h — invariants of a parsed JSON DOM, shared by the fuzz targets
 * (fuzz/fuzz_*.c) and the unit-test smoke run (tests/unit/lib/
 * test_json_fuzzsmoke.c). Header only; every function is static inline.
 *
 *   jc_check_dom()     every string and key is valid UTF-8, every src range
 *                      lies inside the input, counts match the child lists,
 *                      unescaped strings point into the input
 *   jc_write()         re-serialises a DOM with jsonw (numbers as their
 *                      source text, so no precision is lost)
 *   jc_same()          structural equality of two DOMs
 *   jc_roundtrip()     all of the above on one parsed input
 *
 * Each returns NULL when fine or a static sentence naming what broke.
 */
#ifndef KOBAN_FUZZ_JSON_CHECK_H
#define KOBAN_FUZZ_JSON_CHECK_H

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/jsonw.h"

static inline const char *jc_check_dom(const struct json_value *v, const char *in, size_t len,
                                       unsigned depth)
{
    if (depth > 2000)
        return "DOM deeper than any limit allows";
    if ((size_t)v->src_off > len || (size_t)v->src_len > len - v->src_off || v->src_len == 0)
        return "src range outside the input";
    if (v->key && !json_utf8_valid(v->key, v->key_len, NULL))
        return "key is not valid UTF-8";
    const char *src = in + v->src_off;
    switch (v->type) {
    case JSON_NULL:
        return v->src_len == 4 && memcmp(src, "null", 4) == 0 ? NULL : "null src mismatch";
    case JSON_TRUE:
        return v->src_len == 4 && memcmp(src, "true", 4) == 0 ? NULL : "true src mismatch";
    case JSON_FALSE:
        return v->src_len == 5 && memcmp(src, "false", 5) == 0 ? NULL : "false src mismatch";
    case JSON_NUMBER:
        if (src[0] != '-' && (src[0] < '0' || src[0] > '9'))
            return "number src does not start a number";
        return NULL;
    case JSON_STRING:
        if (src[0] != '"' || src[v->src_len - 1] != '"' || v->src_len < 2)
            return "string src is not quoted";
        if (!json_utf8_valid(v->u.str, v->len, NULL))
            return "string is not valid UTF-8";
        if (!(v->flags & JSON_F_ESCAPED) && (v->u.str != src + 1 || v->len != v->src_len - 2))
            return "unescaped string does not point at its source";
        if ((v->flags & JSON_F_ESCAPED) && v->len > v->src_len - 2)
            return "decoded string longer than its source";
        return NULL;
    case JSON_ARRAY:
    case JSON_OBJECT: {
        char open = v->type == JSON_ARRAY ? '[' : '{', close = v->type == JSON_ARRAY ? ']' : '}';
        if (src[0] != open || src[v->src_len - 1] != close)
            return "container src not bracketed";
        uint32_t n = 0;
        uint32_t prev_end = v->src_off;
        for (const struct json_value *c = v->u.child; c; c = c->next, n++) {
            if ((v->type == JSON_OBJECT) != (c->key != NULL))
                return "member key presence does not match container type";
            if (c->src_off <= prev_end || c->src_off + c->src_len >= v->src_off + v->src_len)
                return "child src range not inside and after its sibling";
            prev_end = c->src_off + c->src_len - 1;
            const char *why = jc_check_dom(c, in, len, depth + 1);
            if (why)
                return why;
        }
        return n == v->len ? NULL : "container len differs from its child count";
    }
    default:
        return "unknown type";
    }
}

static inline void jc_write(struct jw *w, const struct json_value *v, const char *in,
                            struct buf *tmp)
{
    if (v->key) {
        /* jw_key takes a C string; a key decoded from "\u0000" holds a NUL,
         * so the key is escaped here and written raw before the value. */
        buf_reset(tmp);
        if (buf_putc(tmp, '"') || json_escape_into(tmp, v->key, v->key_len) ||
            buf_append(tmp, "\":", 2)) {
            w->err = KB_ETOOBIG;
            return;
        }
        jw_raw(w, tmp->p, tmp->len);
        w->after_key = true;
    }
    switch (v->type) {
    case JSON_NULL: jw_null(w); break;
    case JSON_TRUE: jw_bool(w, true); break;
    case JSON_FALSE: jw_bool(w, false); break;
    case JSON_NUMBER: jw_raw(w, in + v->src_off, v->src_len); break;
    case JSON_STRING: jw_strn(w, v->u.str, v->len); break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        if (v->type == JSON_ARRAY)
            jw_arr_begin(w);
        else
            jw_obj_begin(w);
        for (const struct json_value *c = v->u.child; c; c = c->next)
            jc_write(w, c, in, tmp);
        if (v->type == JSON_ARRAY)
            jw_arr_end(w);
        else
            jw_obj_end(w);
        break;
    default: break;
    }
}

static inline const char *jc_same(const struct json_value *a, const char *ain,
                                  const struct json_value *b, const char *bin)
{
    if (a->type != b->type || a->len != b->len || (a->flags & JSON_F_INT) != (b->flags & JSON_F_INT))
        return "type, length or int flag differs";
    if ((a->key == NULL) != (b->key == NULL) || a->key_len != b->key_len ||
        (a->key && memcmp(a->key, b->key, a->key_len) != 0))
        return "key differs";
    switch (a->type) {
    case JSON_STRING:
        return memcmp(a->u.str, b->u.str, a->len) == 0 ? NULL : "string bytes differ";
    case JSON_NUMBER:
        if (a->src_len != b->src_len || memcmp(ain + a->src_off, bin + b->src_off, a->src_len))
            return "number text differs";
        if (memcmp(&a->d, &b->d, sizeof a->d) != 0 || a->i != b->i)
            return "number value differs";
        return NULL;
    case JSON_ARRAY:
    case JSON_OBJECT: {
        const struct json_value *x = a->u.child, *y = b->u.child;
        for (; x && y; x = x->next, y = y->next) {
            const char *why = jc_same(x, ain, y, bin);
            if (why)
                return why;
        }
        return x || y ? "child lists differ in length" : NULL;
    }
    default:
        return NULL;
    }
}

/* Checks the DOM v parsed from in[0..len), writes it back with jsonw into
 * out (cleared first), re-parses that into a2 with lim and compares. */
static inline const char *jc_roundtrip(const struct json_value *v, const char *in, size_t len,
                                       const struct json_limits *lim, struct arena *a2,
                                       struct buf *out, struct buf *tmp)
{
    const char *why = jc_check_dom(v, in, len, 0);
    if (why)
        return why;
    buf_reset(out);
    struct jw w;
    jw_init(&w, out);
    jc_write(&w, v, in, tmp);
    if (jw_finish(&w) != KB_OK)
        return "jsonw failed to write the DOM back";
    if (!json_utf8_valid(out->p, out->len, NULL))
        return "jsonw output is not valid UTF-8";
    struct json_value *v2 = NULL;
    struct json_limits l2 = *lim;
    l2.max_bytes = out->len + 1;
    arena_reset(a2);
    if (json_parse(out->p, out->len, &l2, a2, &v2, NULL) != KB_OK)
        return "jsonw output does not parse";
    why = jc_check_dom(v2, out->p, out->len, 0);
    if (why)
        return why;
    return jc_same(v, in, v2, out->p);
}

#endif
