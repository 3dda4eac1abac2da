/*
 * vectors.h — checks a version ordering against a file of vectors from
 * ../shared/data/versions: one "A <op> B" per line (op one of < = >),
 * blank lines and '#' or '//' comments skipped. Every line must agree; a mismatch
 * is reported with the file, line and what was computed.
 */
#ifndef KOBAN_TEST_VECTORS_H
#define KOBAN_TEST_VECTORS_H

#include "test.h"

#include <stdio.h>
#include <stdlib.h>

typedef kb_err (*vectors_cmp_fn)(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                                 struct kb_why *why);

/* Returns the number of lines checked (0 when the file is missing: the
 * caller decides whether that is a skip). */
static size_t vectors_check(const char *path, vectors_cmp_fn cmp)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1024];
    size_t lineno = 0, checked = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        /* '#' and '//' both start comments in these files */
        if (!*p || *p == '#' || (p[0] == '/' && p[1] == '/'))
            continue;
        /* "A op B": the op is a lone <, = or > between spaces */
        char *op = NULL;
        for (char *q = p; *q; q++)
            if ((q[0] == '<' || q[0] == '=' || q[0] == '>') && q > p && q[-1] == ' ' &&
                q[1] == ' ') {
                op = q;
                break;
            }
        if (!op) {
            T_CHECKF(false, "%s:%zu: no operator in '%s'", path, lineno, p);
            continue;
        }
        char a[512], b[512];
        snprintf(a, sizeof a, "%.*s", (int)(op - 1 - p), p);
        snprintf(b, sizeof b, "%s", op + 2);
        int want = op[0] == '<' ? -1 : op[0] == '>' ? 1 : 0, got = 99;
        struct kb_why why = {{0}};
        kb_err e = cmp(a, strlen(a), b, strlen(b), &got, &why);
        got = got < 0 ? -1 : got > 0 ? 1 : 0;
        T_CHECKF(e == KB_OK && got == want, "%s:%zu: %s %c %s: got %s%s", path, lineno, a,
                 op[0], b, e ? "error: " : (got < 0 ? "<" : got > 0 ? ">" : "="),
                 e ? why.msg : "");
        checked++;
    }
    fclose(f);
    return checked;
}

#endif
