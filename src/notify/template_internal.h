/*
 * template_internal.h — the compiled form of a template, shared by the
 * parser (template.c) and the renderer (template_render.c).
 */
#ifndef KOBAN_TEMPLATE_INTERNAL_H
#define KOBAN_TEMPLATE_INTERNAL_H

#include "notify/template.h"

enum node_kind { N_TEXT, N_VAR, N_SECTION, N_INVERTED };
enum filter { F_NONE, F_CODE, F_URL };

struct tnode {
    uint8_t kind;   /* enum node_kind */
    uint8_t filter; /* enum filter (N_VAR) */
    uint32_t off;   /* N_TEXT: the text; others: the path, in tmpl.src */
    uint32_t len;
    uint32_t end; /* N_SECTION, N_INVERTED: index after the last child */
};

struct tmpl {
    char *name;
    char *src; /* owned copy of the text; nodes point into it */
    size_t srclen;
    struct tnode *nodes;
    size_t n, cap;
};

#endif
