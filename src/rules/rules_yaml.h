/*
 * rules_yaml.h — small helpers over libyaml's document tree for the Sigma
 * detection engine: mapping lookup, scalar text, plain-scalar typing and
 * line numbers. Nothing here allocates; every pointer returned points into
 * the yaml_document_t, which the caller owns.
 */
#ifndef KOBAN_RULES_YAML_H
#define KOBAN_RULES_YAML_H

#include "lib/kb.h"

#include <yaml.h>

/* How a scalar reads in YAML 1.2 core-schema terms. Quoted scalars are
 * always strings; plain ones may be null, booleans or numbers. */
enum rules_yaml_type {
    RY_STRING = 0,
    RY_NULL,  /* ~, null, Null, NULL or empty plain scalar */
    RY_BOOL,  /* true/false (any case of the core-schema spellings) */
    RY_INT,   /* decimal integer that fits int64_t */
    RY_FLOAT, /* decimal number with a fraction or exponent */
};

/* 1-based line where the node starts; 0 for NULL. */
unsigned rules_yaml_line(const yaml_node_t *n);

/* The value for `key` in a mapping node; NULL when absent or map is not a
 * mapping. Keys are compared exactly. */
yaml_node_t *rules_yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key);

/* The scalar's text as a slice; KB_STR_NULL when n is not a scalar. */
struct kb_str rules_yaml_text(const yaml_node_t *n);

/* The scalar's text as a NUL-terminated string (libyaml terminates them);
 * NULL when n is not a scalar. */
const char *rules_yaml_cstr(const yaml_node_t *n);

/* Classifies a scalar; fills *b for RY_BOOL, *i for RY_INT, *d for RY_INT
 * and RY_FLOAT. Any pointer may be NULL. Non-scalars are RY_STRING. */
enum rules_yaml_type rules_yaml_type(const yaml_node_t *n, bool *b, int64_t *i, double *d);

#endif
