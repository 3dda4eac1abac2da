/*
 * inventory_internal.h — the parsers behind inventory.h, one file each
 * (inventory_<format>.c). Each appends to inv with inventory_add and
 * inventory_warn; returns KB_OK (warnings allowed), KB_EPARSE with why when
 * the input as a whole is not its format, KB_ETOOBIG over the bounds.
 * text is not NUL-terminated; len <= INVENTORY_MAX_BYTES (inventory.c checks).
 */
#ifndef KOBAN_INVENTORY_INTERNAL_H
#define KOBAN_INVENTORY_INTERNAL_H

#include "vuln/inventory.h"

#define INVENTORY_PARSER(fn)                                                              \
    kb_err inventory_parse_##fn(const char *text, size_t len, const char *name,          \
                                struct inventory *inv, struct kb_why *why)

INVENTORY_PARSER(dpkg);
INVENTORY_PARSER(rpm);
INVENTORY_PARSER(apk);
INVENTORY_PARSER(npm_lock);
INVENTORY_PARSER(yarn_lock);
INVENTORY_PARSER(pnpm_lock);
INVENTORY_PARSER(gemfile_lock);
INVENTORY_PARSER(go_mod);
INVENTORY_PARSER(go_sum);
INVENTORY_PARSER(requirements);
INVENTORY_PARSER(poetry_lock);
INVENTORY_PARSER(cargo_lock);
INVENTORY_PARSER(composer_lock);
INVENTORY_PARSER(cyclonedx);
INVENTORY_PARSER(spdx);

#endif
