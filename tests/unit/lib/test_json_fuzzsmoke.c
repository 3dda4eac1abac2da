/* test_json_fuzzsmoke.c — a short, deterministic fuzz run in the unit tests:
 * ~20,000 pseudo-random mutations (xorshift, fixed seed) of the
 * JSONTestSuite files and koban's examples go through json_parse, the DOM
 * invariants, a jsonw round trip, json_parse_prefix walking and jw_strn of
 * the raw bytes. The libFuzzer targets in fuzz/ do the long runs. */
#include "test.h"

#include "lib/json.h"
#include "lib/jsonw.h"

#include <dirent.h>
#include <time.h>

#include "../../../fuzz/json_check.h"
#include "../../../fuzz/mutate.h"

#define SMOKE_ITERS 20000
#define SMOKE_MAX_SEED (32 * 1024)
#define SMOKE_CAP (SMOKE_MAX_SEED + 8192)
#define SMOKE_MAX_SEEDS 600

struct seeds {
    char *p[SMOKE_MAX_SEEDS];
    size_t n[SMOKE_MAX_SEEDS];
    size_t count;
};

static void add_seed(struct seeds *s, const char *data, size_t n)
{
    if (s->count >= SMOKE_MAX_SEEDS || n > SMOKE_MAX_SEED)
        return;
    s->p[s->count] = malloc(n + 1);
    memcpy(s->p[s->count], data, n);
    s->n[s->count++] = n;
}

/* Adds every regular file of dir (and of its subfolders, one level). */
static void add_dir(struct seeds *s, const char *dir, int levels)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char *names[512];
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < 512)
        if (de->d_name[0] != '.')
            names[nn++] = strdup(de->d_name);
    closedir(d);
    /* readdir order is not stable: sort so that the run is deterministic. */
    for (size_t i = 1; i < nn; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    for (size_t i = 0; i < nn; i++) {
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && levels > 0) {
            add_dir(s, path, levels - 1);
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            size_t len;
            char *text = t_read_file(path, &len);
            if (text)
                add_seed(s, text, len);
            free(text);
        }
        free(names[i]);
    }
}

static int failures;

static void report(const char *what, const char *why, const char *in, size_t n)
{
    if (failures++ < 5)
        fprintf(stderr, "    %s: %s on %zu bytes: %.*s\n", what, why, n, n > 200 ? 200 : (int)n,
                in);
}

static void test_mutations(void)
{
    struct seeds *s = calloc(1, sizeof *s);
    static const char *builtin[] = {
        "{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u00e9\\ud83d\\ude00\",\"d\":-1.5e-3}",
        "[true,false,null,\"x\\\"y\\\\z\",{\"\":{}},[]]",
        "{\"Records\":[{\"eventName\":\"A\"},{\"eventName\":\"B\"}]}\n",
        "{\"k\":1}\n{\"k\":2}\n",
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(builtin); i++)
        add_seed(s, builtin[i], strlen(builtin[i]));
    add_dir(s, KOBAN_SOURCE_DIR "/examples", 1);
    const char *data = t_data_dir();
    if (data) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/json/JSONTestSuite/test_parsing", data);
        add_dir(s, dir, 0);
    }
    fprintf(stderr, "    %zu seeds\n", s->count);
    T_CHECK(s->count >= 10);

    char *buf = malloc(SMOKE_CAP);
    struct arena a1 = ARENA_INIT(4u << 20), a2 = ARENA_INIT(4u << 20);
    struct buf out = BUF_INIT(1u << 20), tmp = BUF_INIT(1u << 16), sw = BUF_INIT(1u << 20);
    const struct json_limits lim = {.max_depth = 32, .max_bytes = 1u << 20};
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int parsed_ok = 0;
    int64_t t0 = kb_mono_ns();
    for (int it = 0; it < SMOKE_ITERS; it++) {
        size_t k = (size_t)(mu_next(&rng) % s->count), o = (size_t)(mu_next(&rng) % s->count);
        size_t n = s->n[k];
        memcpy(buf, s->p[k], n);
        mu_mutate(&rng, buf, &n, SMOKE_CAP, s->p[o], s->n[o]);

        arena_reset(&a1);
        struct json_value *v = NULL;
        struct json_error je;
        kb_err e = json_parse(buf, n, &lim, &a1, &v, &je);
        if (e == KB_OK) {
            parsed_ok++;
            const char *why = jc_roundtrip(v, buf, n, &lim, &a2, &out, &tmp);
            if (why)
                report("round trip", why, buf, n);
        } else if ((e != KB_EPARSE && e != KB_ETOOBIG) || je.offset > n || je.line < 1 ||
                   je.col < 1 || !je.msg[0]) {
            report("error report", je.msg, buf, n);
        }

        /* Walk the input as concatenated values. */
        size_t off = 0;
        for (int step = 0; step < 64 && off < n; step++) {
            size_t used = 0;
            arena_reset(&a1);
            if (json_parse_prefix(buf + off, n - off, &lim, &a1, &v, &used, NULL) != KB_OK)
                break;
            if (used == 0 || used > n - off) {
                report("prefix", "consumed out of range", buf, n);
                break;
            }
            const char *why = jc_check_dom(v, buf + off, n - off, 0);
            if (why)
                report("prefix dom", why, buf, n);
            off += used;
        }

        /* The raw bytes as a string: always valid UTF-8 and valid JSON. */
        buf_reset(&sw);
        struct jw w;
        jw_init(&w, &sw);
        jw_strn(&w, buf, n);
        arena_reset(&a2);
        struct json_value *sv = NULL;
        if (jw_finish(&w) != KB_OK || !json_utf8_valid(sw.p, sw.len, NULL) ||
            json_parse(sw.p, sw.len, NULL, &a2, &sv, NULL) != KB_OK || sv->type != JSON_STRING)
            report("jw_strn", "output invalid", buf, n);
        else if (json_utf8_valid(buf, n, NULL) && (sv->len != n || memcmp(sv->u.str, buf, n)))
            report("jw_strn", "valid UTF-8 not kept byte for byte", buf, n);
    }
    double secs = (double)(kb_mono_ns() - t0) / 1e9;
    fprintf(stderr, "    %d mutations, %d parsed, %d failures, %.2f s\n", SMOKE_ITERS, parsed_ok,
            failures, secs);
    T_EQ_INT(failures, 0);
    T_CHECK(parsed_ok > SMOKE_ITERS / 50); /* the mutator must not only make garbage */
    T_CHECK(secs < 10.0);
    for (size_t i = 0; i < s->count; i++)
        free(s->p[i]);
    free(s);
    free(buf);
    arena_release(&a1);
    arena_release(&a2);
    buf_release(&out);
    buf_release(&tmp);
    buf_release(&sw);
}

int main(void)
{
    T_RUN(test_mutations);
    return t_done();
}
