/*
 * split.h — cutting a payload (HTTP body, spool file, CLI file) into events.
 *
 * One rule set for every ingest path and for `koban normalize`:
 *   - a payload that does not start with '{' or '[' (after whitespace and a
 *     UTF-8 BOM), or starts with '[' not followed by something that can
 *     begin a JSON value ("[Sun Dec 04 ...] [error]": Apache's error log),
 *     or when text is forced, is text: one event per line, blank lines
 *     skipped, a trailing '\r' dropped;
 *   - one JSON value filling the payload: {"Records":[...]} (CloudTrail,
 *     and only that key) gives each record; an array gives each element;
 *     anything else is one event;
 *   - otherwise, when one of the first eight non-blank lines is an object
 *     or array of its own and there are two lines or more: NDJSON, each
 *     line parsed alone (a bad line is one bad event; arrays and
 *     Records on a line expand as above);
 *   - otherwise the payload is one bad event (the parse error says where).
 *
 * The callback sees each event with its 0-based index; a JSON event comes
 * parsed (json) into the arena, which the splitter resets between top-level
 * values — so everything the callback keeps must be copied or refer to the
 * payload (raw always points into the payload).
 */
#ifndef KOBAN_SPLIT_H
#define KOBAN_SPLIT_H

#include "lib/arena.h"
#include "lib/json.h"

enum split_kind { SPLIT_JSON, SPLIT_TEXT, SPLIT_BAD };

struct split_event {
    enum split_kind kind;
    size_t index;                  /* 0-based position in the payload */
    struct kb_str raw;             /* the event's bytes in the payload */
    const struct json_value *json; /* SPLIT_JSON: parsed event */
    const char *error;             /* SPLIT_BAD: why ("line 3, column 7: ...") */
};

typedef kb_err (*split_fn)(void *ctx, const struct split_event *ev);

struct split_opts {
    bool force_text;         /* treat as text lines whatever it looks like */
    size_t max_event;        /* events longer than this are SPLIT_BAD */
    uint32_t max_depth;      /* JSON nesting */
    size_t max_events;       /* stop with KB_ETOOBIG past this many */
};

/* Calls fn for each event. Returns KB_EINVAL for an empty payload,
 * KB_ETOOBIG past max_events, or what fn returned. */
kb_err split_payload(const char *body, size_t len, const struct split_opts *o,
                     struct arena *ar, split_fn fn, void *ctx, struct kb_why *why);

/* True when the payload will be read as JSON (not text lines). */
bool split_looks_json(const char *body, size_t len);

#endif
