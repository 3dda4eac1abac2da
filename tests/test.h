/*
 * test.h — koban's unit-test harness (header only).
 *
 *   static void test_x(void) { T_CHECK(1 + 1 == 2); T_EQ_STR(a, "b"); }
 *   int main(void) { T_RUN(test_x); return t_done(); }
 *
 * Each failed check prints file:line and what differed; t_done() prints
 * "<program>: N passed, N failed, N skipped" and the machine-readable line
 * "KOBAN-TEST passed=N failed=N skipped=N" that tests/run.sh adds up.
 * A test that needs ../shared/data calls t_data_dir(): absent, the test is
 * skipped with a message — or failed when CI=true.
 */
#ifndef KOBAN_TEST_H
#define KOBAN_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

struct t_state {
    int passed, failed, skipped;
    int cur_failed; /* checks failed in the running test */
    int cur_skipped;
    const char *cur;
};
static struct t_state t_st;

#define T_CHECK(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "  FAIL %s:%d: %s: %s\n", __FILE__, __LINE__,      \
                    t_st.cur, #cond);                                          \
            t_st.cur_failed++;                                                 \
        }                                                                      \
    } while (0)

#define T_CHECKF(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "  FAIL %s:%d: %s: %s: ", __FILE__, __LINE__,      \
                    t_st.cur, #cond);                                          \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            t_st.cur_failed++;                                                 \
        }                                                                      \
    } while (0)

#define T_EQ_INT(a, b)                                                         \
    do {                                                                       \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                \
        T_CHECKF(t_a_ == t_b_, "%lld != %lld", t_a_, t_b_);                    \
    } while (0)

#define T_EQ_STR(a, b)                                                         \
    do {                                                                       \
        const char *t_a_ = (a), *t_b_ = (b);                                   \
        T_CHECKF(t_a_ && t_b_ && strcmp(t_a_, t_b_) == 0, "\"%s\" != \"%s\"",  \
                 t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");              \
    } while (0)

/* Compares a struct kb_str (p,n) with a C string. */
#define T_EQ_KSTR(ks, lit)                                                     \
    do {                                                                       \
        const char *t_l_ = (lit);                                              \
        size_t t_n_ = strlen(t_l_);                                            \
        T_CHECKF((ks).p && (ks).n == t_n_ && memcmp((ks).p, t_l_, t_n_) == 0,  \
                 "\"%.*s\" != \"%s\"", (ks).p ? (int)(ks).n : 6,               \
                 (ks).p ? (ks).p : "(null)", t_l_);                            \
    } while (0)

#define T_SKIP(why)                                                            \
    do {                                                                       \
        fprintf(stderr, "  SKIP %s: %s\n", t_st.cur, why);                     \
        t_st.cur_skipped = 1;                                                  \
        return;                                                                \
    } while (0)

#define T_RUN(fn)                                                              \
    do {                                                                       \
        t_st.cur = #fn;                                                        \
        t_st.cur_failed = 0;                                                   \
        t_st.cur_skipped = 0;                                                  \
        fn();                                                                  \
        if (t_st.cur_failed)                                                   \
            t_st.failed++;                                                     \
        else if (t_st.cur_skipped)                                             \
            t_st.skipped++;                                                    \
        else                                                                   \
            t_st.passed++;                                                     \
    } while (0)

/* Path of ../shared/data (or $KOBAN_DATA), or NULL when absent. Under
 * CI=true an absent folder counts as a failure of the calling test. */
static inline const char *t_data_dir(void)
{
    static char path[4096];
    const char *env = getenv("KOBAN_DATA");
    if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else
        snprintf(path, sizeof path, "%s/../shared/data", KOBAN_SOURCE_DIR);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return path;
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) {
        fprintf(stderr, "  FAIL %s: %s is absent and CI=true\n", t_st.cur, path);
        t_st.cur_failed++;
    }
    return NULL;
}

#define T_NEED_DATA(var)                                                       \
    const char *var = t_data_dir();                                            \
    if (!var)                                                                  \
        T_SKIP("../shared/data is absent (a user's clone): skipped")

/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL on error. */
static inline char *t_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *p = malloc(cap);
    for (;;) {
        if (n + 4096 + 1 > cap)
            p = realloc(p, cap *= 2);
        size_t r = fread(p + n, 1, cap - n - 1, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

static inline int t_done(void)
{
    fprintf(stderr, "%d passed, %d failed, %d skipped\n", t_st.passed, t_st.failed,
            t_st.skipped);
    printf("KOBAN-TEST passed=%d failed=%d skipped=%d\n", t_st.passed, t_st.failed,
           t_st.skipped);
    return t_st.failed ? 1 : 0;
}

#endif
