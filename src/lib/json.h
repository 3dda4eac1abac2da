/*
 * json.h — koban's JSON parser: strict RFC 8259, arena-allocated DOM,
 * zero-copy strings where possible.
 *
 * Why koban has its own parser: see docs/DESIGN.md ("JSON parsing") and
 * `make bench` (bench_json compares it with json-c on the same events).
 *
 * The input is never modified. A string without escapes points into the
 * input; a string with escapes is decoded into the arena. All nodes live in
 * the arena passed to json_parse(): the arena owns the DOM, and the caller
 * owns the input, which must outlive the DOM.
 *
 * Strictness: rejected are invalid UTF-8 anywhere (including lone surrogates
 * in \u escapes), trailing commas, comments, NaN, leading zeros, control
 * characters in strings, and any non-whitespace after the value. Duplicate
 * keys are kept; lookups return the first.
 * Bounds: depth (default 64), input size, and arena bytes.
 */
#ifndef KOBAN_JSON_H
#define KOBAN_JSON_H

#include "lib/arena.h"
#include "lib/kb.h"

enum json_type {
    JSON_NULL = 0,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

/* json_value.flags */
#define JSON_F_INT 0x01     /* number is an integer that fits int64_t (v.i) */
#define JSON_F_ESCAPED 0x02 /* string had escapes; str points into the arena */

struct json_value {
    uint8_t type;           /* enum json_type */
    uint8_t flags;          /* JSON_F_* */
    uint32_t len;           /* string: bytes; array/object: element count */
    uint32_t src_off;       /* byte offset of this value's text in the input */
    uint32_t src_len;       /* byte length of this value's text in the input */
    uint32_t key_len;       /* when a member of an object: key length */
    const char *key;        /* when a member of an object: key (NUL-terminated
                               only if escaped; use key_len) */
    union {
        const char *str;          /* JSON_STRING: bytes, not NUL-terminated */
        struct json_value *child; /* JSON_ARRAY/OBJECT: first element */
    } u;
    int64_t i;              /* JSON_NUMBER with JSON_F_INT; JSON_OBJECT: a
                               64-bit summary of the member keys that lets
                               json_getn reject most absent keys at once */
    double d;               /* JSON_NUMBER: value as double */
    struct json_value *next; /* next sibling in the parent, or NULL */
};

struct json_limits {
    uint32_t max_depth;   /* nesting of arrays/objects; 0 means 64 */
    size_t max_bytes;     /* input size; 0 means 64 MiB */
};

struct json_error {
    size_t offset;        /* byte offset of the error in the input */
    unsigned line;        /* 1-based line */
    unsigned col;         /* 1-based column (bytes) */
    char msg[96];         /* "expected ',' or '}' after object member" */
};

/* Parses exactly one JSON value spanning text[0..len) (whitespace around it
 * allowed). On success *out is the root. On failure returns KB_EPARSE (or
 * KB_ETOOBIG for depth/size/arena limits) and fills *err when non-NULL. */
kb_err json_parse(const char *text, size_t len, const struct json_limits *lim,
                  struct arena *a, struct json_value **out, struct json_error *err);

/* Parses one JSON value at the start of text[0..len) (after whitespace) and
 * stops after it: *consumed is the number of bytes used (value plus leading
 * whitespace). Used to walk concatenated or NDJSON input. */
kb_err json_parse_prefix(const char *text, size_t len, const struct json_limits *lim,
                         struct arena *a, struct json_value **out, size_t *consumed,
                         struct json_error *err);

/* The bit a member key sets in its object's key summary (json_value.i):
 * from the key's length and its first and last bytes, which is what tells
 * most keys apart. Code that builds an object by hand ORs the bits of its
 * keys into i (or sets all ones, which makes every lookup compare keys). */
static inline uint64_t json_key_bit(const char *key, size_t n)
{
    unsigned h = n ? (unsigned)n * 31u + (unsigned char)key[0] * 7u + (unsigned char)key[n - 1]
                   : 0u;
    return (uint64_t)1 << (h & 63u);
}

/* Member lookup in an object by exact key; NULL if absent or obj is not an
 * object. Linear in the number of members. */
const struct json_value *json_get(const struct json_value *obj, const char *key);
const struct json_value *json_getn(const struct json_value *obj, const char *key, size_t klen);

/* Looks up a dotted path: "service.action.actionType"; a numeric segment
 * indexes an array ("resources.0.ARN"). NULL if any step is missing. */
const struct json_value *json_path(const struct json_value *root, const char *path);

/* The string's bytes as a slice; KB_STR_NULL if v is NULL or not a string. */
struct kb_str json_str(const struct json_value *v);
/* The value as text: strings as-is, numbers/true/false as their source text
 * (needs the original input), others KB_STR_NULL. */
struct kb_str json_scalar_text(const struct json_value *v, const char *input);
/* True and *out set when v is a number (integral or not, truncated toward 0
 * for non-integers) or a string holding a decimal integer. */
bool json_as_int(const struct json_value *v, int64_t *out);
/* True and *out set when v is a number or a string holding a number. */
bool json_as_double(const struct json_value *v, double *out);

/* Checks that s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
 * Returns true when valid; otherwise *bad_at is the offset of the first bad byte. */
bool json_utf8_valid(const char *s, size_t n, size_t *bad_at);

#endif
