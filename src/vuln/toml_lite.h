/*
 * toml_lite.h — a small, bounded TOML reader for the lockfiles koban reads
 * (poetry.lock, Cargo.lock).
 *
 * Why koban has its own: Debian 12 packages no C TOML library, and the
 * lockfiles use a small part of TOML. This reader takes that part and
 * refuses the rest with the line it stopped at, rather than guessing.
 *
 * Read: [tables] and [[arrays of tables]] (dotted headers, quoted keys),
 * key = value with dotted keys, values "basic" and 'literal' strings,
 * """multi-line""" and '''multi-line literal''' strings, decimal integers
 * (with '_' between digits), true / false, [arrays] (across lines,
 * comments inside, trailing comma) and { inline tables } (also across
 * lines), # comments, and a leading byte order mark. Refused with
 * "line N: ...": floats, dates and times, hexadecimal / octal / binary
 * integers, inf / nan, duplicate keys, a table defined twice, extending an
 * inline table, invalid UTF-8 and control characters in strings.
 *
 * The result is a tree of tomll_value nodes in the caller's arena (the
 * arena owns every node and every string; the input is not referenced
 * after tomll_parse returns). Strings and keys are copied and
 * NUL-terminated (len still gives their length: a \u0000 escape can put a
 * NUL inside).
 * Bounds: input bytes, nesting depth (arrays, inline tables, dotted key
 * segments) and node count (tomll_limits); arena bytes by the arena.
 */
#ifndef KOBAN_TOML_LITE_H
#define KOBAN_TOML_LITE_H

#include "lib/arena.h"
#include "lib/kb.h"

enum tomll_type {
    TOMLL_STRING = 0,
    TOMLL_INTEGER,
    TOMLL_BOOL,
    TOMLL_ARRAY,
    TOMLL_TABLE,
};

/* tomll_value.flags */
#define TOMLL_F_TABLES 0x01  /* array: an array of tables ([[x]]) */
#define TOMLL_F_INLINE 0x02  /* table or array written inline: closed to extension */
#define TOMLL_F_DEFINED 0x04 /* table: its [header] was seen */
#define TOMLL_F_DOTTED 0x08  /* table: created by a dotted key (a.b = 1) */

struct tomll_value {
    uint8_t type;    /* enum tomll_type */
    uint8_t flags;   /* TOMLL_F_* */
    uint32_t line;   /* 1-based line where the value (or header) starts */
    const char *key; /* when a member of a table: the key (NUL-terminated) */
    size_t key_len;
    union {
        struct {
            const char *p; /* TOMLL_STRING: bytes, NUL-terminated */
            size_t n;
        } str;
        int64_t i; /* TOMLL_INTEGER */
        bool b;    /* TOMLL_BOOL */
    } u;
    struct tomll_value *child; /* TOMLL_ARRAY / TOMLL_TABLE: first member */
    struct tomll_value *last;  /* last member (appending is O(1)) */
    size_t count;              /* members */
    struct tomll_value *next;  /* next sibling in the parent */
};

struct tomll_limits {
    size_t max_bytes;   /* input size; 0 means 64 MiB */
    uint32_t max_depth; /* nesting of arrays / inline tables / key segments; 0 means 64 */
    size_t max_nodes;   /* values, tables and arrays; 0 means 4,000,000 */
};

struct tomll_error {
    unsigned line; /* 1-based */
    char msg[128]; /* "floats are not read" */
};

/* Parses a TOML document text[0..len) (not NUL-terminated) into a tree in
 * arena a; *root is the top-level table. KB_EPARSE with err filled when
 * the text is not TOML or uses what this reader refuses; KB_ETOOBIG past
 * a bound (err says which). err may be NULL. */
kb_err tomll_parse(const char *text, size_t len, const struct tomll_limits *lim, struct arena *a,
                   struct tomll_value **root, struct tomll_error *err);

/* The member of a table named key; NULL when absent or t is not a table.
 * Linear in the table's members. */
const struct tomll_value *tomll_get(const struct tomll_value *t, const char *key);

/* The string's bytes; KB_STR_NULL when v is NULL or not a string. */
struct kb_str tomll_str(const struct tomll_value *v);

/* A short name of a value's type: "string", "integer", "boolean",
 * "array", "table". */
const char *tomll_type_name(const struct tomll_value *v);

#endif
