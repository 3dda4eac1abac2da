/*
 * format.h — source formats (normalizers) and their registry.
 *
 * A format is a table of functions in one file (fmt_<name>.c) registered in
 * format.c's list — adding a source is adding a file and a line. Each format
 * either recognises a JSON shape (detect + normalize_json) or parses text
 * lines (normalize_text; syslog).
 *
 * Format ids are stored in the journal: the registry order is append-only.
 */
#ifndef KOBAN_FORMAT_H
#define KOBAN_FORMAT_H

#include "formats/alert.h"

/* Receives each alert a normalizer produces. The alert is only valid during
 * the call. A non-KB_OK return stops normalization and is passed back. */
typedef kb_err (*alert_emit_fn)(void *ctx, struct alert *a);

struct format {
    const char *name;        /* "guardduty"; also the ?source= value */
    const char *summary;     /* one line for `koban help formats` */
    uint8_t id;              /* stable id stored in the journal (1..255) */
    /* JSON formats: how sure (0..100) this root is this format's shape; 0 =
     * not it. The generic format answers 1. NULL for text formats. */
    int (*detect)(const struct json_value *root);
    /* Normalizes one parsed event; may emit 0..N alerts. A malformed event
     * (wrong shape for this format) returns KB_EINVAL with why filled. */
    kb_err (*normalize_json)(const struct json_value *root, struct kb_str raw,
                             struct arena *a, alert_emit_fn emit, void *ctx,
                             struct kb_why *why);
    /* Text formats: normalizes one line (no trailing newline). */
    kb_err (*normalize_text)(struct kb_str line, struct arena *a, alert_emit_fn emit,
                             void *ctx, struct kb_why *why);
    const char *const *identity; /* default identity names (alert_get names) */
};

/* The registry: formats in id order. */
size_t format_count(void);
const struct format *format_at(size_t i);
const struct format *format_by_name(const char *name);   /* NULL if unknown */
const struct format *format_by_id(uint8_t id);           /* NULL if unknown */

/* The best-scoring JSON format for root (generic when nothing else fits). */
const struct format *format_detect(const struct json_value *root);

/* Normalizes one raw event end to end. is_text selects text formats
 * (syslog unless forced says otherwise); otherwise raw is parsed as JSON
 * (with lim) into a, then `forced` or the detected format normalizes it.
 * Errors: KB_EPARSE (JSON error, why says where), KB_EINVAL (the format
 * rejected the event), KB_ETOOBIG (a limit), or what emit returned. */
kb_err format_normalize(const struct format *forced, struct kb_str raw, bool is_text,
                        const struct json_limits *lim, struct arena *a,
                        alert_emit_fn emit, void *ctx, struct kb_why *why);

#endif
