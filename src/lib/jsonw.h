/*
 * jsonw.h — writing JSON into a bounded struct buf.
 *
 * The writer tracks commas itself: call jw_obj_begin / jw_key / value /
 * jw_obj_end in order and it inserts separators. Strings are escaped per
 * RFC 8259; invalid UTF-8 bytes are written as U+FFFD so output is always
 * valid JSON. Errors (buffer limit) are sticky: check jw_finish() once.
 */
#ifndef KOBAN_JSONW_H
#define KOBAN_JSONW_H

#include "lib/buf.h"
#include "lib/json.h"

#define JW_MAX_DEPTH 64

struct jw {
    struct buf *out;
    kb_err err;                  /* first error, sticky */
    int depth;
    bool need_comma[JW_MAX_DEPTH + 1];
    bool after_key;
};

void jw_init(struct jw *w, struct buf *out);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);              /* NULL writes null */
void jw_strn(struct jw *w, const char *s, size_t n);   /* NULL writes null */
void jw_kstr(struct jw *w, struct kb_str s);           /* empty/NULL -> null */
void jw_int(struct jw *w, int64_t v);
void jw_double(struct jw *w, double v);                /* non-finite -> null */
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Writes already-serialized JSON text verbatim (caller guarantees validity). */
void jw_raw(struct jw *w, const char *json, size_t n);
/* Writes valid JSON text with the whitespace between tokens removed, so a
 * pretty-printed event stays on one NDJSON line. */
void jw_raw_compact(struct jw *w, const char *json, size_t n);
/* Convenience: key + value. */
void jw_kv_str(struct jw *w, const char *key, const char *s);
void jw_kv_kstr(struct jw *w, const char *key, struct kb_str s);
void jw_kv_int(struct jw *w, const char *key, int64_t v);
/* Returns the first error (KB_ETOOBIG when the buffer limit was hit). */
kb_err jw_finish(struct jw *w);

/* Appends s[0..n) escaped as a JSON string body (no quotes) to b. */
kb_err json_escape_into(struct buf *b, const char *s, size_t n);

#endif
