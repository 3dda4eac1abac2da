/*
 * route_yaml.h — reading the routing file's YAML document (libyaml's
 * document tree) with errors a person can act on: every failure is
 * KB_EINVAL with why = "FILE:LINE: key.path: reason" (route_load.c names
 * the key path). Internal to the notify module.
 *
 * Ownership: nodes belong to the yaml_document_t the caller loaded; strings
 * returned through `out` are copied into the context's arena and live as
 * long as it.
 */
#ifndef KOBAN_ROUTE_YAML_H
#define KOBAN_ROUTE_YAML_H

#include "lib/arena.h"
#include "notify/route.h"

#include <yaml.h>

struct ry_ctx {
    yaml_document_t *doc;
    const char *name;  /* the file's name, for messages */
    const char *dir;   /* base of relative paths; NULL: the current folder */
    struct arena *mem; /* where kept strings go */
    struct kb_why *why;
};

/* 1-based line where n starts; 0 for NULL. */
unsigned ry_line(const yaml_node_t *n);
/* Fills why with "NAME:LINE: path: reason" ("NAME:LINE: reason" for an
 * empty path: the whole file) and returns KB_EINVAL. */
kb_err ry_bad(struct ry_ctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The value of key in a mapping; NULL when absent or map is no mapping. */
yaml_node_t *ry_get(struct ry_ctx *c, const yaml_node_t *map, const char *key);
/* A scalar's NUL-terminated text; NULL when n is not a scalar. */
const char *ry_cstr(const yaml_node_t *n);
/* Items of a sequence, pairs of a mapping, 0 otherwise. */
size_t ry_len(const yaml_node_t *n);
/* Item i (< ry_len) of a sequence. */
yaml_node_t *ry_item(struct ry_ctx *c, const yaml_node_t *seq, size_t i);

/* Checks that n is a mapping whose keys are plain text, each at most once
 * and each in allowed (a NULL-terminated list; NULL allows any key). */
kb_err ry_mapping(struct ry_ctx *c, const yaml_node_t *n, const char *path,
                  const char *const *allowed);
/* n's text, borrowed from the document; an error when n is not a scalar
 * or holds a NUL byte. */
kb_err ry_scalar(struct ry_ctx *c, const yaml_node_t *n, const char *path, const char **out);
/* A plain true/false (the YAML 1.2 core spellings). */
kb_err ry_bool(struct ry_ctx *c, const yaml_node_t *n, const char *path, bool *out);
/* True for a plain off/false: how a section is turned off. */
bool ry_is_off(const yaml_node_t *n);
/* A plain decimal number in min..max. */
kb_err ry_uint(struct ry_ctx *c, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
               uint64_t *out);

/* KB_ETOOBIG with why saying the arena's limit was reached at n. */
kb_err ry_full(struct ry_ctx *c, const yaml_node_t *n);
/* Copies s[0..len) into the arena (KB_ETOOBIG past its limit). */
kb_err ry_keep(struct ry_ctx *c, const yaml_node_t *n, const char *s, size_t len, const char **out);
/* A non-empty text value, kept in the arena; with expand, each ${NAME} is
 * replaced by the environment variable NAME (an error when it is unset),
 * and a '$' not followed by '{' stays as it is. At most ROUTE_MAX_VALUE
 * bytes after expansion. */
kb_err ry_text(struct ry_ctx *c, const yaml_node_t *n, const char *path, bool expand,
               const char **out);
/* A path (expanded as ry_text); a relative one is joined to c->dir. */
kb_err ry_path(struct ry_ctx *c, const yaml_node_t *n, const char *path, const char **out);
/* The contents of the file n names (ry_path): one line of at most
 * ROUTE_MAX_VALUE bytes, trailing whitespace and newline dropped. */
kb_err ry_read_secret(struct ry_ctx *c, const yaml_node_t *n, const char *path, const char **out);
/* "N/s", "N/m" or "N/h" with N in 1..FLOOD_MAX_RATE: *count = N and
 * *per_ms = 1000, 60000 or 3600000. */
kb_err ry_rate(struct ry_ctx *c, const yaml_node_t *n, const char *path, uint32_t *count,
               int64_t *per_ms);
/* A duration: one or more NUMBER UNIT parts ("90s", "1h30m"), units ms, s,
 * m, h, d; at least min_ms and at most 366 days. */
kb_err ry_duration(struct ry_ctx *c, const yaml_node_t *n, const char *path, int64_t min_ms,
                   int64_t *out);

#endif
