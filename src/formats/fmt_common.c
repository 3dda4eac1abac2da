/* fmt_common.c — JSON reading helpers shared by the format files
 * (documented in formats_internal.h). */
#include "formats/formats_internal.h"

#include "lib/timeutil.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <strings.h>

const struct json_value *fmt_get(const struct json_value *v, const char *key)
{
    return v && v->type == JSON_OBJECT ? json_get(v, key) : NULL;
}

const struct json_value *fmt_path(const struct json_value *v, const char *path)
{
    return v && (v->type == JSON_OBJECT || v->type == JSON_ARRAY) ? json_path(v, path) : NULL;
}

struct kb_str fmt_str(const struct json_value *v, const char *path)
{
    return json_str(fmt_path(v, path));
}

struct fmt_src fmt_src(const struct json_value *root, struct kb_str raw)
{
    struct fmt_src s = {raw, SIZE_MAX};
    if (!root || !raw.p)
        return s;
    size_t lead = 0;
    while (lead < raw.n && (raw.p[lead] == ' ' || raw.p[lead] == '\t' || raw.p[lead] == '\n' ||
                            raw.p[lead] == '\r'))
        lead++;
    /* raw must hold the root's text: same first byte, enough room. */
    if (root->src_off >= lead && root->src_len > 0 && root->src_len <= raw.n - lead &&
        raw.p[lead] == (root->type == JSON_OBJECT  ? '{'
                        : root->type == JSON_ARRAY ? '['
                                                   : raw.p[lead]))
        s.root_off = root->src_off - lead;
    return s;
}

struct kb_str fmt_text(const struct json_value *v, const struct fmt_src *src, struct arena *a)
{
    if (!v)
        return KB_STR_NULL;
    switch (v->type) {
    case JSON_STRING:
        return json_str(v);
    case JSON_TRUE:
        return KB_STR_LIT("true");
    case JSON_FALSE:
        return KB_STR_LIT("false");
    case JSON_NUMBER:
        break;
    default:
        return KB_STR_NULL;
    }
    /* Prefer the number as the source wrote it ("8.0"). */
    if (src && src->root_off != SIZE_MAX && v->src_off >= src->root_off && v->src_len > 0 &&
        v->src_off - src->root_off <= src->raw.n &&
        v->src_len <= src->raw.n - (v->src_off - src->root_off)) {
        const char *p = src->raw.p + (v->src_off - src->root_off);
        if (*p == '-' || (*p >= '0' && *p <= '9'))
            return (struct kb_str){p, v->src_len};
    }
    struct kb_str out = KB_STR_NULL;
    if (v->flags & JSON_F_INT)
        fmt_printf(a, &out, "%lld", (long long)v->i);
    else
        fmt_printf(a, &out, "%.17g", v->d);
    return out;
}

struct kb_str fmt_text_at(const struct json_value *root, const char *path,
                          const struct fmt_src *src, struct arena *a)
{
    return fmt_text(fmt_path(root, path), src, a);
}

struct kb_str fmt_first_str(const struct json_value *obj, const char *const *keys)
{
    for (; *keys; keys++) {
        struct kb_str s = json_str(fmt_get(obj, *keys));
        if (!kb_str_empty(s))
            return s;
    }
    return KB_STR_NULL;
}

const struct json_value *fmt_obj(const struct json_value *v, const char *path)
{
    const struct json_value *o = fmt_path(v, path);
    return o && o->type == JSON_OBJECT ? o : NULL;
}

const struct json_value *fmt_arr(const struct json_value *v, const char *path)
{
    const struct json_value *o = fmt_path(v, path);
    return o && o->type == JSON_ARRAY ? o : NULL;
}

void fmt_members(const struct json_value *obj, const struct fmt_key *keys, size_t n,
                 const struct json_value **out)
{
    n = KB_MIN(n, (size_t)FMT_MEMBERS_MAX);
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    if (!obj || obj->type != JSON_OBJECT || n == 0)
        return;
    /* The names hashed by their key-summary bit (json_key_bit): each member
     * is then compared with the few names that share its bit. */
    uint8_t head[64], next[FMT_MEMBERS_MAX];
    memset(head, 0xff, sizeof head);
    uint64_t want = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t bit = json_key_bit(keys[i].name, keys[i].len);
        unsigned h = (unsigned)__builtin_ctzll(bit);
        want |= bit;
        next[i] = head[h];
        head[h] = (uint8_t)i;
    }
    size_t left = n;
    for (const struct json_value *c = obj->u.child; c && left; c = c->next) {
        uint64_t bit = json_key_bit(c->key, c->key_len);
        if (!(want & bit))
            continue;
        for (uint8_t i = head[__builtin_ctzll(bit)]; i != 0xff; i = next[i])
            if (!out[i] && keys[i].len == c->key_len &&
                memcmp(keys[i].name, c->key, c->key_len) == 0) {
                out[i] = c;
                left--;
                break;
            }
    }
}

kb_err fmt_need_str(const struct json_value *obj, const char *key, const char *fmt,
                    const char *where, struct kb_str *out, struct kb_why *why)
{
    return fmt_need_str_of(fmt_get(obj, key), fmt, where, out, why);
}

kb_err fmt_need_str_of(const struct json_value *v, const char *fmt, const char *where,
                       struct kb_str *out, struct kb_why *why)
{
    if (!v)
        return kb_fail(why, KB_EINVAL, "%s: field '%s' missing", fmt, where);
    if (v->type != JSON_STRING)
        return kb_fail(why, KB_EINVAL, "%s: field '%s' is not a string", fmt, where);
    if (v->len == 0)
        return kb_fail(why, KB_EINVAL, "%s: field '%s' is empty", fmt, where);
    *out = json_str(v);
    return KB_OK;
}

kb_err fmt_join(struct arena *a, struct kb_str *out, const struct kb_str *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += parts[i].n;
    char *p = arena_alloc(a, len + 1);
    if (!p)
        return KB_ETOOBIG;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].n)
            memcpy(p + at, parts[i].p, parts[i].n);
        at += parts[i].n;
    }
    p[at] = '\0';
    *out = (struct kb_str){p, len};
    return KB_OK;
}

kb_err fmt_printf(struct arena *a, struct kb_str *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return KB_EINVAL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (!p)
        return KB_ETOOBIG;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *out = (struct kb_str){p, (size_t)n};
    return KB_OK;
}

const char *fmt_name(struct arena *a, const char *prefix, struct kb_str key)
{
    size_t pn = strlen(prefix);
    char *p = arena_alloc(a, pn + key.n + 1);
    if (!p)
        return NULL;
    memcpy(p, prefix, pn);
    if (key.n)
        memcpy(p + pn, key.p, key.n);
    p[pn + key.n] = '\0';
    return p;
}

/* True when s ends in a zone designator: 'Z', or +hh[:]mm / -hh[:]mm after
 * the time of day. */
static bool has_zone(struct kb_str s)
{
    if (s.n && (s.p[s.n - 1] == 'Z' || s.p[s.n - 1] == 'z'))
        return true;
    size_t start = s.n > 10 ? 10 : s.n; /* skip the date's own '-' signs */
    for (size_t i = start; i < s.n; i++)
        if (s.p[i] == '+' || s.p[i] == '-')
            return true;
    return false;
}

bool fmt_time(struct kb_str s, int64_t *ms)
{
    if (kb_str_empty(s) || s.n > 64)
        return false;
    int64_t t;
    if (kb_time_parse_rfc3339(s, &t) == KB_OK) {
        *ms = t;
        return true;
    }
    if (has_zone(s))
        return false;
    char tmp[72];
    memcpy(tmp, s.p, s.n);
    tmp[s.n] = 'Z';
    if (kb_time_parse_rfc3339((struct kb_str){tmp, s.n + 1}, &t) != KB_OK)
        return false;
    *ms = t;
    return true;
}

/* Epoch seconds or milliseconds; bounded to years 1970..9999. */
static bool epoch_to_ms(double v, int64_t *ms)
{
    if (!(v > 0) || v >= 253402300800000.0)
        return false;
    if (v < 1e11)
        v *= 1000.0;
    *ms = (int64_t)v;
    return true;
}

bool fmt_time_value(const struct json_value *v, int64_t *ms)
{
    if (!v)
        return false;
    if (v->type == JSON_NUMBER)
        return epoch_to_ms(v->d, ms);
    if (v->type != JSON_STRING)
        return false;
    struct kb_str s = json_str(v);
    if (fmt_time(s, ms))
        return true;
    bool digits = s.n > 0 && s.n < 24;
    for (size_t i = 0; digits && i < s.n; i++)
        digits = (s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] == '.' && i > 0);
    double d;
    return digits && json_as_double(v, &d) && epoch_to_ms(d, ms);
}

int fmt_sev_score10(double score)
{
    if (!(score > 0))
        return KB_SEV_NONE;
    if (score < 4.0)
        return KB_SEV_LOW;
    if (score < 7.0)
        return KB_SEV_MEDIUM;
    if (score < 9.0)
        return KB_SEV_HIGH;
    return KB_SEV_CRITICAL;
}

bool fmt_str_ieq(struct kb_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.p && s.n == n && strncasecmp(s.p, lit, n) == 0;
}

int fmt_sev_word(struct kb_str s)
{
    static const struct {
        const char *word;
        int sev;
    } words[] = {
        {"none", KB_SEV_NONE},         {"info", KB_SEV_NONE},
        {"informational", KB_SEV_NONE}, {"debug", KB_SEV_NONE},
        {"low", KB_SEV_LOW},           {"notice", KB_SEV_LOW},
        {"medium", KB_SEV_MEDIUM},     {"moderate", KB_SEV_MEDIUM},
        {"warn", KB_SEV_MEDIUM},       {"warning", KB_SEV_MEDIUM},
        {"high", KB_SEV_HIGH},         {"err", KB_SEV_HIGH},
        {"error", KB_SEV_HIGH},        {"critical", KB_SEV_CRITICAL},
        {"crit", KB_SEV_CRITICAL},     {"alert", KB_SEV_CRITICAL},
        {"emerg", KB_SEV_CRITICAL},    {"emergency", KB_SEV_CRITICAL},
        {"fatal", KB_SEV_CRITICAL},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(words); i++)
        if (fmt_str_ieq(s, words[i].word))
            return words[i].sev;
    return -1;
}
