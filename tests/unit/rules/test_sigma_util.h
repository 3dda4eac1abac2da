/*
 * test_sigma_util.h — helpers shared by the test_sigma_*.c programs:
 * loading a rule from YAML text, matching it against JSON text, walking a
 * folder of rule files. Header-only (each test is one program).
 */
#ifndef KOBAN_TEST_SIGMA_UTIL_H
#define KOBAN_TEST_SIGMA_UTIL_H

#include "lib/json.h"
#include "rules/sigma.h"
#include "test.h"

#include <dirent.h>

/* A ruleset with one YAML text loaded; NULL (and a printed reason) when
 * any document failed. Free with sigma_ruleset_free. */
static inline struct sigma_ruleset *su_load(const char *yaml, const struct sigma_options *opt)
{
    struct sigma_ruleset *rs = NULL;
    struct kb_why why = {{0}};
    if (sigma_ruleset_new(opt, &rs, &why) != KB_OK) {
        fprintf(stderr, "    ruleset: %s\n", why.msg);
        return NULL;
    }
    if (sigma_load_buffer(yaml, strlen(yaml), "t.yml", rs, NULL, &why) != KB_OK) {
        fprintf(stderr, "    load: %s\n", why.msg);
        sigma_ruleset_free(rs);
        return NULL;
    }
    return rs;
}

/* The error of loading yaml (empty string when it loaded), into out. */
static inline const char *su_load_error(const char *yaml, char *out, size_t outsz)
{
    struct sigma_ruleset *rs = NULL;
    struct kb_why why = {{0}};
    out[0] = '\0';
    if (sigma_ruleset_new(NULL, &rs, &why) != KB_OK)
        return out;
    if (sigma_load_buffer(yaml, strlen(yaml), "t.yml", rs, NULL, &why) != KB_OK)
        snprintf(out, outsz, "%s", why.msg);
    sigma_ruleset_free(rs);
    return out;
}

/* 1 when the first rule of rs matches the JSON text, 0 when not, -1 when
 * the JSON does not parse. */
static inline int su_match_rule(const struct sigma_rule *r, const char *json)
{
    struct arena a = ARENA_INIT(1 << 20);
    struct json_value *root = NULL;
    int res = -1;
    if (json_parse(json, strlen(json), NULL, &a, &root, NULL) == KB_OK) {
        struct sigma_event ev = {root, json, strlen(json)};
        bool m = false;
        sigma_match(r, &ev, &m);
        res = m ? 1 : 0;
    }
    arena_release(&a);
    return res;
}

/* Loads a one-rule YAML text and matches it against json: 1, 0, or -1 when
 * the rule did not load or the JSON did not parse. */
static inline int su_match(const char *yaml, const char *json)
{
    struct sigma_ruleset *rs = su_load(yaml, NULL);
    if (!rs)
        return -1;
    int res = sigma_ruleset_count(rs) ? su_match_rule(sigma_ruleset_rule(rs, 0), json) : -1;
    sigma_ruleset_free(rs);
    return res;
}

/* Calls fn for every file under dir whose name ends with ext (recursive,
 * sorted per folder, bounded depth). Returns the number of files. */
typedef void (*su_file_fn)(const char *path, void *ctx);

static inline int su_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline size_t su_walk(const char *dir, const char *ext, su_file_fn fn, void *ctx,
                             int depth)
{
    if (depth > 16)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0, count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap)
            names = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, su_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            count += su_walk(path, ext, fn, ctx, depth + 1);
        } else {
            size_t nl = strlen(names[i]), el = strlen(ext);
            if (nl >= el && strcmp(names[i] + nl - el, ext) == 0) {
                fn(path, ctx);
                count++;
            }
        }
        free(names[i]);
    }
    free(names);
    return count;
}

#endif
