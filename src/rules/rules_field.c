/* rules_field.c — field lookup: exact key, then dotted path (rules_field.h). */
#include "rules/rules_field.h"

static const struct json_value *array_at(const struct json_value *arr, const char *p, size_t n)
{
    if (n == 0 || n > 9)
        return NULL;
    size_t idx = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return NULL;
        idx = idx * 10 + (size_t)(p[i] - '0');
    }
    const struct json_value *c = arr->u.child;
    while (c && idx--)
        c = c->next;
    return c;
}

const struct json_value *rules_field(const struct json_value *ev, const char *name,
                                     size_t name_len)
{
    if (!ev || ev->type != JSON_OBJECT || !name || name_len == 0)
        return NULL;
    const struct json_value *v = json_getn(ev, name, name_len);
    if (v || !memchr(name, '.', name_len))
        return v;
    v = ev;
    const char *p = name, *end = name + name_len;
    while (v && p <= end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
        if (v->type == JSON_ARRAY)
            v = array_at(v, p, n);
        else if (v->type == JSON_OBJECT && n > 0)
            v = json_getn(v, p, n);
        else
            return NULL;
        if (!dot)
            break;
        p = dot + 1;
    }
    return v;
}
