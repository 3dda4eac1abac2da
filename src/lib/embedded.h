/*
 * embedded.h — files compiled into the binary (the stock policies), so a
 * fresh install works with no files beside the binary. Generated at build
 * time by cmake/embed.cmake; read-only, static storage.
 */
#ifndef KOBAN_EMBEDDED_H
#define KOBAN_EMBEDDED_H

#include <stddef.h>

struct kb_embedded {
    const char *name; /* file name, e.g. "10-guardduty.yml"; NULL ends a table */
    const char *data; /* the bytes, NUL-terminated */
    size_t len;       /* without the NUL */
};

/* The .yml files of policies/stock, sorted by name. */
extern const struct kb_embedded kb_stock_policies[];

#endif
