/*
 * json.c — strict, fast JSON parser into an arena-allocated DOM.
 *
 * One pass, recursive descent bounded by max_depth. Strings are scanned with
 * a byte-class table; ASCII runs need one table lookup per byte, UTF-8 is
 * validated only where a byte >= 0x80 appears, and only strings with
 * escapes are copied (decoded) into the arena. Integers that fit int64 are
 * converted without strtod.
 *
 * Lookups and conversions on the parsed DOM are in json_access.c.
 */
#include "lib/json.h"

#include <stdio.h>
#include <stdlib.h>

#define JSON_DEFAULT_DEPTH 64
/* The parser recurses once per nesting level: whatever the caller asks for,
 * depth is capped so that hostile input cannot exhaust a thread's stack. */
#define JSON_MAX_DEPTH_CAP 1024
#define JSON_DEFAULT_BYTES (64u * 1024 * 1024)

/* Byte classes inside strings: 0 plain, 1 '"', 2 '\\', 3 control, 4 >= 0x80 */
static const uint8_t str_class[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4,
};

struct parser {
    const char *start;
    const char *p;
    const char *end;
    struct arena *a;
    uint32_t max_depth;
    uint32_t depth;
    kb_err err;
    const char *err_at;
    const char *err_msg;
    struct json_value *pool; /* nodes taken from the arena in chunks */
    uint32_t pool_left;
};

/* Nodes are taken from the arena NODE_CHUNK at a time (one arena call per
 * chunk instead of per value); near the arena limit, one at a time. */
#define NODE_CHUNK 16

static bool fail(struct parser *ps, const char *at, kb_err e, const char *msg)
{
    if (!ps->err) {
        ps->err = e;
        ps->err_at = at;
        ps->err_msg = msg;
    }
    return false;
}

static inline void skip_ws(struct parser *ps)
{
    const char *p = ps->p, *end = ps->end;
    if (p < end && (unsigned char)*p > ' ')
        return; /* the common case in compact JSON */
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    ps->p = p;
}

static struct json_value *new_value(struct parser *ps, uint8_t type, const char *at)
{
    struct json_value *v;
    if (ps->pool_left) {
        v = ps->pool++;
        ps->pool_left--;
    } else if ((v = arena_alloc(ps->a, NODE_CHUNK * sizeof *v)) != NULL) {
        ps->pool = v + 1;
        ps->pool_left = NODE_CHUNK - 1;
    } else if ((v = arena_alloc(ps->a, sizeof *v)) == NULL) {
        fail(ps, at, KB_ETOOBIG, "out of parse memory (arena limit)");
        return NULL;
    }
    memset(v, 0, sizeof *v);
    v->type = type;
    v->src_off = (uint32_t)(at - ps->start);
    return v;
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        if (end - p < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        return 2;
    }
    if (c < 0xF0) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90)
            return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

bool json_utf8_valid(const char *s, size_t n, size_t *bad_at)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t l = utf8_seq(p, end);
        if (!l) {
            if (bad_at)
                *bad_at = (size_t)(p - (const unsigned char *)s);
            return false;
        }
        p += l;
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(const char *p, const char *end, unsigned *out)
{
    if (end - p < 4)
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return false;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return true;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the escaped string body [b, e) (already validated) into the arena. */
static bool decode_escaped(struct parser *ps, const char *b, const char *e, const char **out,
                           uint32_t *outlen)
{
    char *o = arena_alloc(ps->a, (size_t)(e - b) + 1);
    if (!o)
        return fail(ps, b, KB_ETOOBIG, "out of parse memory (arena limit)");
    size_t n = 0;
    for (const char *p = b; p < e;) {
        if (*p != '\\') {
            o[n++] = *p++;
            continue;
        }
        p++;
        switch (*p++) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            unsigned cp = 0, lo = 0xDC00; /* set by read_hex4: the body was validated */
            read_hex4(p, e, &cp);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                read_hex4(p + 2, e, &lo);
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            n += put_utf8(o + n, cp);
            break;
        }
        default:
            break;
        }
    }
    o[n] = '\0';
    *out = o;
    *outlen = (uint32_t)n;
    return true;
}

/* Skips the plain bytes of a string body from p: returns the first byte
 * that is '"', '\\', < 0x20 or >= 0x80, or end. Sixteen bytes per step with
 * SSE2 (every x86-64 has it): a signed compare with 0x20 catches control
 * bytes and bytes >= 0x80 at once. Elsewhere, eight bytes per step with
 * the classic SWAR "has a zero / smaller byte" tests, whose lowest flagged
 * byte is exact on little-endian machines. */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline const char *skip_plain(const char *p, const char *end)
{
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                 _mm_cmplt_epi8(x, space));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits)
            return p + __builtin_ctz(bits);
        p += 16;
    }
    while (p < end && str_class[(unsigned char)*p] == 0)
        p++;
    return p;
}
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_ONES 0x0101010101010101ull
#define SWAR_HIGHS 0x8080808080808080ull
static inline const char *skip_plain(const char *p, const char *end)
{
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, sizeof x);
        uint64_t q = x ^ (SWAR_ONES * '"'), b = x ^ (SWAR_ONES * '\\');
        uint64_t m = (((q - SWAR_ONES) & ~q) | ((b - SWAR_ONES) & ~b) | (x - SWAR_ONES * 0x20) | x) &
                     SWAR_HIGHS;
        if (m)
            return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
    while (p < end && str_class[(unsigned char)*p] == 0)
        p++;
    return p;
}
#else
static inline const char *skip_plain(const char *p, const char *end)
{
    while (p < end && str_class[(unsigned char)*p] == 0)
        p++;
    return p;
}
#endif

/* Parses a string at ps->p (on the opening quote). Inlined into its two
 * callers (keys and values): the call itself cost about a twentieth of the
 * parse on CloudTrail records, whose strings are mostly short. */
static inline __attribute__((always_inline)) bool
parse_string(struct parser *ps, const char **out, uint32_t *outlen, bool *escaped)
{
    const char *b = ps->p + 1, *p = b, *end = ps->end;
    bool esc = false;
    for (;;) {
        p = skip_plain(p, end);
        if (p >= end)
            return fail(ps, ps->p, KB_EPARSE, "unterminated string");
        switch (str_class[(unsigned char)*p]) {
        case 1:
            goto done;
        case 2: {
            esc = true;
            if (p + 1 >= end)
                return fail(ps, p, KB_EPARSE, "unterminated string");
            char c = p[1];
            if (c == 'u') {
                unsigned cp, lo;
                if (!read_hex4(p + 2, end, &cp))
                    return fail(ps, p, KB_EPARSE, "bad \\u escape: expected 4 hex digits");
                p += 6;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return fail(ps, p - 6, KB_EPARSE, "lone low surrogate in \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                        !read_hex4(p + 2, end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return fail(ps, p - 6, KB_EPARSE, "lone high surrogate in \\u escape");
                    p += 6;
                }
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                       c == 'r' || c == 't') {
                p += 2;
            } else {
                return fail(ps, p, KB_EPARSE, "invalid escape in string");
            }
            break;
        }
        case 3:
            return fail(ps, p, KB_EPARSE, "control character in string (must be escaped)");
        default: {
            size_t l = utf8_seq((const unsigned char *)p, (const unsigned char *)end);
            if (!l)
                return fail(ps, p, KB_EPARSE, "invalid UTF-8 in string");
            p += l;
            break;
        }
        }
    }
done:
    if ((size_t)(p - b) > UINT32_MAX)
        return fail(ps, b, KB_ETOOBIG, "string too long");
    ps->p = p + 1;
    *escaped = esc;
    if (!esc) {
        *out = b;
        *outlen = (uint32_t)(p - b);
        return true;
    }
    return decode_escaped(ps, b, p, out, outlen);
}

static bool parse_number(struct parser *ps, struct json_value *v)
{
    const char *p = ps->p, *end = ps->end, *b = p;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return fail(ps, b, KB_EPARSE, "invalid number");
    uint64_t u = 0;
    bool overflow = false;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return fail(ps, b, KB_EPARSE, "leading zero in number");
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            unsigned dgt = (unsigned)(*p - '0');
            if (u > (UINT64_MAX - dgt) / 10)
                overflow = true;
            else
                u = u * 10 + dgt;
            p++;
        }
    }
    bool integral = true;
    if (p < end && *p == '.') {
        integral = false;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail(ps, p, KB_EPARSE, "expected a digit after '.'");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integral = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail(ps, p, KB_EPARSE, "expected a digit in the exponent");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    v->type = JSON_NUMBER;
    v->src_len = (uint32_t)(p - b);
    ps->p = p;
    if (integral && !overflow &&
        (neg ? u <= (uint64_t)INT64_MAX + 1 : u <= (uint64_t)INT64_MAX)) {
        v->flags |= JSON_F_INT;
        v->i = neg ? (int64_t)(0 - u) : (int64_t)u;
        v->d = neg && u == 0 ? -0.0 : (double)v->i; /* "-0" keeps its sign as a double */
        return true;
    }
    char tmp[64];
    size_t n = (size_t)(p - b);
    char *buf = tmp;
    if (n >= sizeof tmp) {
        buf = arena_alloc(ps->a, n + 1);
        if (!buf)
            return fail(ps, b, KB_ETOOBIG, "out of parse memory (arena limit)");
    }
    memcpy(buf, b, n);
    buf[n] = '\0';
    v->d = strtod(buf, NULL);
    return true;
}

static bool parse_value(struct parser *ps, struct json_value **out);

static bool parse_container(struct parser *ps, struct json_value *v, bool object)
{
    if (++ps->depth > ps->max_depth)
        return fail(ps, ps->p, KB_ETOOBIG, "nested too deeply");
    const char close = object ? '}' : ']';
    ps->p++; /* '{' or '[' */
    skip_ws(ps);
    struct json_value *tail = NULL;
    uint32_t count = 0;
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        goto done;
    }
    for (;;) {
        const char *key = NULL;
        uint32_t key_len = 0;
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, ps->p, KB_EPARSE,
                            count ? "expected a string key after ','" : "expected a string key or '}'");
            bool esc = false;
            if (!parse_string(ps, &key, &key_len, &esc))
                return false;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail(ps, ps->p, KB_EPARSE, "expected ':' after object key");
            ps->p++;
            skip_ws(ps);
        }
        struct json_value *child;
        if (!parse_value(ps, &child))
            return false;
        child->key = key;
        child->key_len = key_len;
        if (object)
            v->i = (int64_t)((uint64_t)v->i | json_key_bit(key, key_len));
        if (tail)
            tail->next = child;
        else
            v->u.child = child;
        tail = child;
        count++;
        skip_ws(ps);
        if (ps->p >= ps->end)
            return fail(ps, ps->p, KB_EPARSE,
                        object ? "unterminated object: expected ',' or '}'"
                               : "unterminated array: expected ',' or ']'");
        if (*ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == close)
                return fail(ps, ps->p, KB_EPARSE, "trailing comma");
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            break;
        }
        return fail(ps, ps->p, KB_EPARSE,
                    object ? "expected ',' or '}' after object member"
                           : "expected ',' or ']' after array element");
    }
done:
    v->len = count;
    ps->depth--;
    return true;
}

static bool parse_literal(struct parser *ps, const char *lit, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
        return fail(ps, ps->p, KB_EPARSE, "invalid literal (expected true, false or null)");
    ps->p += n;
    return true;
}

static bool parse_value(struct parser *ps, struct json_value **out)
{
    if (ps->p >= ps->end)
        return fail(ps, ps->p, KB_EPARSE, "unexpected end of input, expected a value");
    const char *at = ps->p;
    struct json_value *v = new_value(ps, JSON_NULL, at);
    if (!v)
        return false;
    bool ok;
    switch (*at) {
    case '{':
        v->type = JSON_OBJECT;
        ok = parse_container(ps, v, true);
        break;
    case '[':
        v->type = JSON_ARRAY;
        ok = parse_container(ps, v, false);
        break;
    case '"': {
        bool esc = false;
        v->type = JSON_STRING;
        ok = parse_string(ps, &v->u.str, &v->len, &esc);
        if (esc)
            v->flags |= JSON_F_ESCAPED;
        break;
    }
    case 't':
        v->type = JSON_TRUE;
        ok = parse_literal(ps, "true", 4);
        break;
    case 'f':
        v->type = JSON_FALSE;
        ok = parse_literal(ps, "false", 5);
        break;
    case 'n':
        v->type = JSON_NULL;
        ok = parse_literal(ps, "null", 4);
        break;
    default:
        if (*at == '-' || (*at >= '0' && *at <= '9'))
            ok = parse_number(ps, v);
        else
            ok = fail(ps, at, KB_EPARSE, "unexpected character, expected a value");
        break;
    }
    if (!ok)
        return false;
    v->src_len = (uint32_t)(ps->p - at);
    *out = v;
    return true;
}

static void fill_error(const struct parser *ps, struct json_error *err)
{
    if (!err)
        return;
    const char *at = ps->err_at ? ps->err_at : ps->p;
    err->offset = (size_t)(at - ps->start);
    unsigned line = 1;
    const char *ls = ps->start;
    for (const char *q = ps->start; q < at; q++)
        if (*q == '\n') {
            line++;
            ls = q + 1;
        }
    err->line = line;
    err->col = (unsigned)(at - ls) + 1;
    snprintf(err->msg, sizeof err->msg, "%s", ps->err_msg ? ps->err_msg : "parse error");
}

kb_err json_parse_prefix(const char *text, size_t len, const struct json_limits *lim,
                         struct arena *a, struct json_value **out, size_t *consumed,
                         struct json_error *err)
{
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : JSON_DEFAULT_BYTES;
    uint32_t max_depth = lim && lim->max_depth ? lim->max_depth : JSON_DEFAULT_DEPTH;
    if (max_depth > JSON_MAX_DEPTH_CAP)
        max_depth = JSON_MAX_DEPTH_CAP;
    struct parser ps = {.start = text, .p = text, .end = text + len, .a = a,
                        .max_depth = max_depth};
    if (err)
        memset(err, 0, sizeof *err);
    if (len > max_bytes || len > UINT32_MAX) {
        fail(&ps, text, KB_ETOOBIG, "input larger than the limit");
        fill_error(&ps, err);
        return KB_ETOOBIG;
    }
    skip_ws(&ps);
    struct json_value *v = NULL;
    if (!parse_value(&ps, &v)) {
        fill_error(&ps, err);
        return ps.err;
    }
    *out = v;
    if (consumed)
        *consumed = (size_t)(ps.p - text);
    return KB_OK;
}

kb_err json_parse(const char *text, size_t len, const struct json_limits *lim, struct arena *a,
                  struct json_value **out, struct json_error *err)
{
    size_t used = 0;
    struct json_value *v;
    kb_err e = json_parse_prefix(text, len, lim, a, &v, &used, err);
    if (e)
        return e;
    const char *p = text + used, *end = text + len;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    if (p < end) {
        struct parser ps = {.start = text, .p = p, .end = end};
        fail(&ps, p, KB_EPARSE, "unexpected data after the JSON value");
        fill_error(&ps, err);
        return KB_EPARSE;
    }
    *out = v;
    return KB_OK;
}
