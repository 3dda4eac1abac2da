/*
 * json_access.c — lookups and conversions on a DOM built by json_parse
 * (json.c): member by key, dotted path, string slices, scalar text, and
 * numbers from number or string values. Read-only; nothing is allocated.
 */
#include "lib/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

const struct json_value *json_getn(const struct json_value *obj, const char *key, size_t klen)
{
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    if (!((uint64_t)obj->i & json_key_bit(key, klen)))
        return NULL; /* no member has this key's length and end bytes */
    if (klen == 0) {
        for (const struct json_value *c = obj->u.child; c; c = c->next)
            if (c->key_len == 0)
                return c;
        return NULL;
    }
    /* Length and first byte reject nearly every other member without a
     * call to memcmp: normalizers look up a few dozen keys per event. */
    const char k0 = key[0];
    for (const struct json_value *c = obj->u.child; c; c = c->next)
        if (c->key_len == klen && c->key[0] == k0 && memcmp(c->key, key, klen) == 0)
            return c;
    return NULL;
}

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
    return json_getn(obj, key, strlen(key));
}

const struct json_value *json_path(const struct json_value *root, const char *path)
{
    const struct json_value *v = root;
    const char *p = path;
    while (v && *p) {
        /* one call finds the segment's end: strchr then strlen read the
         * last segment twice, on a dozen paths per event */
        const char *q = strchrnul(p, '.');
        const char *dot = *q ? q : NULL;
        size_t n = (size_t)(q - p);
        if (v->type == JSON_ARRAY && n > 0 && n < 10 && p[0] >= '0' && p[0] <= '9') {
            size_t idx = 0;
            bool num = true;
            for (size_t i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9')
                    num = false;
                else
                    idx = idx * 10 + (size_t)(p[i] - '0');
            }
            if (!num)
                return NULL;
            const struct json_value *c = v->u.child;
            while (c && idx--)
                c = c->next;
            v = c;
        } else {
            v = json_getn(v, p, n);
        }
        if (!dot)
            break;
        p = dot + 1;
    }
    return v;
}

struct kb_str json_str(const struct json_value *v)
{
    if (!v || v->type != JSON_STRING)
        return KB_STR_NULL;
    return (struct kb_str){v->u.str, v->len};
}

struct kb_str json_scalar_text(const struct json_value *v, const char *input)
{
    if (!v)
        return KB_STR_NULL;
    switch (v->type) {
    case JSON_STRING:
        return (struct kb_str){v->u.str, v->len};
    case JSON_NUMBER:
    case JSON_TRUE:
    case JSON_FALSE:
        return input ? (struct kb_str){input + v->src_off, v->src_len} : KB_STR_NULL;
    default:
        return KB_STR_NULL;
    }
}

/* Length of the decimal number at the start of s[0..n): '-'? digits
 * ('.' digits)? ([eE] [+-]? digits)? — JSON's grammar, except that leading
 * zeros are allowed ("007" is a number in a string). 0 if none. With
 * integer_only, the fraction and exponent are not part of it. */
static size_t number_text_len(const char *s, size_t n, bool integer_only)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == d)
        return 0;
    if (integer_only)
        return i;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e)
            return 0;
    }
    return i;
}

bool json_as_int(const struct json_value *v, int64_t *out)
{
    if (!v)
        return false;
    if (v->type == JSON_NUMBER) {
        if (v->flags & JSON_F_INT) {
            *out = v->i;
            return true;
        }
        if (!isfinite(v->d) || v->d >= 9.2233720368547758e18 || v->d <= -9.2233720368547758e18)
            return false;
        *out = (int64_t)v->d;
        return true;
    }
    /* The whole string must be the integer: no spaces, '+', or a NUL from a
     * \u0000 escape hiding trailing bytes from strtoll. */
    if (v->type == JSON_STRING && v->len > 0 && v->len < 24 &&
        number_text_len(v->u.str, v->len, true) == v->len) {
        char tmp[24];
        memcpy(tmp, v->u.str, v->len);
        tmp[v->len] = '\0';
        char *end;
        errno = 0;
        long long x = strtoll(tmp, &end, 10);
        if (errno || end != tmp + v->len)
            return false;
        *out = x;
        return true;
    }
    return false;
}

bool json_as_double(const struct json_value *v, double *out)
{
    if (!v)
        return false;
    if (v->type == JSON_NUMBER) {
        *out = v->d;
        return true;
    }
    /* Decimal text only: strtod alone would also take " 1", "0x1p3", "inf". */
    if (v->type == JSON_STRING && v->len > 0 && v->len < 64 &&
        number_text_len(v->u.str, v->len, false) == v->len) {
        char tmp[64];
        memcpy(tmp, v->u.str, v->len);
        tmp[v->len] = '\0';
        char *end;
        double d = strtod(tmp, &end);
        if (end != tmp + v->len || !isfinite(d))
            return false;
        *out = d;
        return true;
    }
    return false;
}
