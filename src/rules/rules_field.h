/*
 * rules_field.h — how a rule finds a field in an event (shared by the Sigma
 * detection and correlation engines).
 *
 * Lookup order: the exact key in the root object first (a key may contain
 * dots, e.g. "gcp.audit.method_name"), then the dotted path, one object
 * member per segment; a numeric segment indexes an array
 * ("resources.0.ARN"). A list value is returned as is: callers treat it as
 * matching when any element matches. Nothing is allocated; the result points
 * into the event's tree.
 */
#ifndef KOBAN_RULES_FIELD_H
#define KOBAN_RULES_FIELD_H

#include "lib/json.h"

/* The value of field name[0..name_len) in ev, or NULL when absent (or ev is
 * not an object). name need not be NUL-terminated. */
const struct json_value *rules_field(const struct json_value *ev, const char *name,
                                     size_t name_len);

#endif
