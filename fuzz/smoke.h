/*
 * smoke.h — what the unit-test fuzz smoke runs share (header only): a set
 * of seed inputs (built in, or read from fixture files and folders) and a
 * bounded loop that mutates them with mutate.h and hands each mutant to a
 * check. A check returns NULL when the call behaved, else why not.
 *
 * Each seed may start with a selector byte (the fuzz targets' first byte
 * chooses the entry point); smoke_add_sel prepends it.
 *
 * Ownership: struct smoke_seeds owns its copies (smoke_release frees them).
 * Bounds: SMOKE_MAX_SEEDS seeds of at most SMOKE_MAX_SEED bytes (larger
 * ones are skipped); a run stops at its iteration count or its time limit.
 */
#ifndef KOBAN_FUZZ_SMOKE_H
#define KOBAN_FUZZ_SMOKE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "mutate.h"

#define SMOKE_MAX_SEED (64 * 1024)
#define SMOKE_CAP (SMOKE_MAX_SEED + 8192)
#define SMOKE_MAX_SEEDS 256

struct smoke_seeds {
    char *p[SMOKE_MAX_SEEDS];
    size_t n[SMOKE_MAX_SEEDS];
    size_t count;
};

/* A check: NULL when the input was handled as it must be, else why not. */
typedef const char *(*smoke_fn)(const char *in, size_t n, void *ctx);

/* Adds data[0..n) preceded by the selector byte sel. */
static inline void smoke_add_sel(struct smoke_seeds *s, unsigned char sel, const char *data,
                                 size_t n)
{
    if (s->count >= SMOKE_MAX_SEEDS || n + 1 > SMOKE_MAX_SEED)
        return;
    char *p = kb_malloc(n + 1);
    p[0] = (char)sel;
    memcpy(p + 1, data, n);
    s->p[s->count] = p;
    s->n[s->count++] = n + 1;
}

/* Reads a regular file of at most SMOKE_MAX_SEED bytes into a malloc'd
 * buffer (*n its length); NULL when it cannot or is too large. */
static inline char *smoke_read(const char *path, size_t *n)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size >= SMOKE_MAX_SEED)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *p = kb_malloc((size_t)st.st_size + 1);
    *n = fread(p, 1, (size_t)st.st_size, f);
    fclose(f);
    return p;
}

/* Adds one file, preceded by the selector sel when sel >= 0 (as it is when
 * sel < 0: a fuzz/seeds file already starts with its selector); returns
 * whether it was added. */
static inline bool smoke_add_file(struct smoke_seeds *s, int sel, const char *path)
{
    size_t n = 0;
    char *p = smoke_read(path, &n);
    if (!p)
        return false;
    size_t before = s->count;
    if (sel >= 0)
        smoke_add_sel(s, (unsigned char)sel, p, n);
    else if (s->count < SMOKE_MAX_SEEDS && n > 0) {
        s->p[s->count] = p;
        s->n[s->count++] = n;
        p = NULL;
    }
    free(p);
    return s->count > before;
}

/* Adds the regular files of dir whose names end with suffix (NULL: all),
 * with selector sel as smoke_add_file does: the first 64 in name order
 * (readdir's is not stable). Returns how many were added (0 when dir is
 * absent). */
static inline size_t smoke_add_dir(struct smoke_seeds *s, int sel, const char *dir,
                                   const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char *names[512];
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < KB_ARRAY_LEN(names)) {
        size_t len = strlen(de->d_name), sl = suffix ? strlen(suffix) : 0;
        if (de->d_name[0] != '.' && len >= sl &&
            strcmp(de->d_name + len - sl, suffix ? suffix : "") == 0)
            names[nn++] = kb_strdup(de->d_name);
    }
    closedir(d);
    for (size_t i = 1; i < nn; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    size_t added = 0;
    for (size_t i = 0; i < nn; i++) {
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (i < 64) /* the first 64 by name: the same ones on every machine */
            added += smoke_add_file(s, sel, path);
        free(names[i]);
    }
    return added;
}

static inline void smoke_release(struct smoke_seeds *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->p[i]);
    s->count = 0;
}

struct smoke_result {
    int runs;     /* mutants checked */
    int failures; /* checks that returned a reason */
    double secs;
};

/* Inserts one of tokens (ntok of them) at a random place of buf. */
static inline void smoke_insert_token(uint64_t *rng, char *buf, size_t *n, size_t cap,
                                      const char *const *tokens, size_t ntok)
{
    const char *t = tokens[mu_next(rng) % ntok];
    size_t m = strlen(t), at = (size_t)(mu_next(rng) % (*n + 1));
    if (*n + m > cap)
        return;
    memmove(buf + at + m, buf + at, *n - at);
    memcpy(buf + at, t, m);
    *n += m;
}

/* Checks every seed as it is, then up to iters mutants (fixed xorshift
 * seed; tokens, when given, are inserted into about half of them), for
 * at most max_secs. Each input is handed over in an exact-size heap copy
 * (no NUL after it), so that ASan sees a read past its end. The first few
 * failures are printed. */
static inline struct smoke_result smoke_run(const struct smoke_seeds *s, int iters, double max_secs,
                                            const char *const *tokens, size_t ntok, smoke_fn fn,
                                            void *ctx)
{
    struct smoke_result r = {0};
    if (!s->count)
        return r;
    char *buf = kb_malloc(SMOKE_CAP);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int64_t t0 = kb_mono_ns();
    int total = (int)s->count + iters;
    for (int it = 0; it < total; it++) {
        size_t n;
        if (it < (int)s->count) {
            n = s->n[it];
            memcpy(buf, s->p[it], n);
        } else {
            size_t k = (size_t)(mu_next(&rng) % s->count), o = (size_t)(mu_next(&rng) % s->count);
            n = s->n[k];
            memcpy(buf, s->p[k], n);
            /* The first byte is the selector: mutate the rest, mostly. */
            size_t body = n ? n - 1 : 0;
            mu_mutate(&rng, buf + (n ? 1 : 0), &body, SMOKE_CAP - 1, s->p[o], s->n[o]);
            n = body + (n ? 1 : 0);
            if (ntok && (mu_next(&rng) & 1) && n) {
                smoke_insert_token(&rng, buf + 1, &body, SMOKE_CAP - 1, tokens, ntok);
                n = body + 1;
            }
        }
        char *in = kb_malloc(n ? n : 1);
        memcpy(in, buf, n);
        const char *why = fn(in, n, ctx);
        if (why && r.failures++ < 5)
            fprintf(stderr, "    failure: %s on %zu bytes (selector %u): %.*s\n", why, n,
                    n ? (unsigned)(unsigned char)in[0] : 0u, n > 201 ? 200 : (int)(n ? n - 1 : 0),
                    n ? in + 1 : "");
        free(in);
        r.runs++;
        if ((it & 15) == 0 && (double)(kb_mono_ns() - t0) / 1e9 > max_secs)
            break;
    }
    r.secs = (double)(kb_mono_ns() - t0) / 1e9;
    free(buf);
    return r;
}

#endif
