/*
 * inventory_util.h — what the inventory parsers share: line numbers for
 * byte offsets, a line cursor, and loading JSON and YAML documents with
 * koban's bounds and errors that say "FILE:LINE: reason".
 *
 * Ownership: nothing here keeps memory of its own. inventory_json_load puts
 * the DOM in the caller's arena; inventory_yaml_load fills a
 * yaml_document_t the caller deletes (yaml_document_delete) when KB_OK.
 */
#ifndef KOBAN_INVENTORY_UTIL_H
#define KOBAN_INVENTORY_UTIL_H

#include "lib/json.h"
#include "vuln/inventory.h"

#include <yaml.h>

/* inventory_add with location "FILE:LINE"; over the package bound
 * KB_ETOOBIG with why saying where. */
kb_err inventory_put(struct inventory *inv, const char *ecosystem, struct kb_str name,
                     struct kb_str version, const char *source, const char *purl,
                     const char *file, unsigned line, bool dev, struct kb_why *why);

/* True when s is non-empty and has no control characters (NUL, newline,
 * tab, ...): a name or version koban can store and print. */
bool inventory_printable(struct kb_str s);

/* The purl of an npm package ("@scope/name" -> pkg:npm/%40scope/name@1.0.0)
 * into buf; false when it does not fit. */
bool inventory_npm_purl(struct kb_str name, struct kb_str version, char *buf, size_t cap);

/* Adds the package a purl names (SBOMs): ecosystem and name from the purl
 * (purl.h), its version or else fallback_version, the source from an
 * "upstream" qualifier. A bad purl, a type with no OSV ecosystem or no
 * version is a warning naming `what` ("component 'x'") and the package is
 * skipped. */
kb_err inventory_put_purl(struct inventory *inv, struct kb_str purl,
                          struct kb_str fallback_version, const char *what, const char *file,
                          unsigned line, bool dev, struct kb_why *why);

/* JSON nesting allowed in inventory files (npm v1 trees nest deeply). */
#define INVENTORY_JSON_DEPTH 256
/* Most bytes of DOM a JSON input may take, per input byte and in all. */
#define INVENTORY_JSON_ARENA_PER_BYTE 32
#define INVENTORY_JSON_ARENA_MAX (1024u * 1024 * 1024)

/* Line numbers for offsets that mostly increase (a walk in document
 * order): counting goes on from the last answer, and starts again from
 * the top only when an offset goes back. */
struct inventory_lines {
    const char *text;
    size_t len, off;
    unsigned line; /* line of off, 1-based */
};

void inventory_lines_init(struct inventory_lines *l, const char *text, size_t len);
/* The 1-based line holding byte off (clamped to the text). */
unsigned inventory_line_at(struct inventory_lines *l, size_t off);

/* Reads text line by line; each line without its "\n" or "\r\n". */
struct inventory_cursor {
    const char *p, *end;
    unsigned line; /* number of the line last returned */
};

void inventory_cursor_init(struct inventory_cursor *c, const char *text, size_t len);
/* False at the end of the text. */
bool inventory_next_line(struct inventory_cursor *c, struct kb_str *line);

/* s without leading and trailing blanks (spaces, tabs). */
struct kb_str inventory_trim(struct kb_str s);

/* Parses text as JSON into arena a (initialised here with the bounds
 * above; the caller releases it in every case). KB_EPARSE with why
 * "NAME:LINE:COL: reason" when it is not JSON; KB_ETOOBIG over bounds. */
/* A TOML lockfile's [[package]] tables (Cargo.lock, poetry.lock): parses
 * text, refuses it as not a `what` when "package" is not an array of
 * tables, or when it is absent and none of the keys in `markers` (a
 * NULL-terminated list) is there either (saying `missing`); then, for every [[package]] with a
 * printable name and version (the others warned about with file:line),
 * calls fn. fn's error stops the walk. */
struct tomll_value;
typedef kb_err (*inventory_toml_fn)(void *ctx, const struct tomll_value *pkg, struct kb_str name,
                                    struct kb_str version);
kb_err inventory_toml_packages(const char *text, size_t len, const char *name, const char *what,
                               const char *const *markers, const char *missing,
                               struct inventory *inv,
                               inventory_toml_fn fn, void *ctx, struct kb_why *why);

kb_err inventory_json_load(const char *text, size_t len, const char *name, struct arena *a,
                           struct json_value **root, struct kb_why *why);

/* The 1-based line of a JSON value (by its src_off). */
unsigned inventory_json_line(struct inventory_lines *l, const struct json_value *v);

/* Parses the first YAML document of text into doc. KB_EPARSE with why
 * "NAME:LINE: reason" when it is not YAML or empty (doc is then already
 * released). */
kb_err inventory_yaml_load(const char *text, size_t len, const char *name, yaml_document_t *doc,
                           struct kb_why *why);
/* The value of key in a mapping node; NULL when absent or not a mapping. */
yaml_node_t *inventory_yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key);
/* A scalar's text; KB_STR_NULL for other nodes and NULL. */
struct kb_str inventory_yaml_str(const yaml_node_t *n);
/* 1-based line where n starts; 0 for NULL. */
unsigned inventory_yaml_line(const yaml_node_t *n);

#endif
