/* test_vex_fuzzsmoke.c — a short, deterministic fuzz run of the advisory
 * documents koban reads without a store: OpenVEX (openvex_parse, the
 * import's parse and check step; matching statements to findings needs a
 * store and is not fuzzed) and OSV records (osv_parse). Seeds: a valid
 * document of each (fuzz/seeds/vex) and the records of
 * ../shared/data/osv/records (when present); then mutants of them, with
 * the checks of fuzz/check_vex.h (KB_OK or an error with a message; no
 * crash, no leak). fuzz/fuzz_vex.c does the long runs. */
#include "test.h"

#include "../../../fuzz/check_vex.h"
#include "../../../fuzz/smoke.h"

#define ITERS 60000
#define MAX_SECS 4.0

static const char *const tokens[] = {
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "1",
    "-1",
    "1e999",
    "\"\"",
    "\\u0000",
    "\"status\":\"not_affected\"",
    "\"status\":\"affected\"",
    "\"status\":\"fixed\"",
    "\"justification\":\"component_not_present\"",
    "\"products\":[",
    "\"subcomponents\":[",
    "\"vulnerability\":",
    "\"aliases\":[",
    "\"timestamp\":\"2026-02-30T25:61:61Z\"",
    "\"@id\":",
    "\"statements\":[",
    "\"affected\":[",
    "\"ranges\":[",
    "\"events\":[",
    "{\"introduced\":\"0\"}",
    "{\"fixed\":\"1\"}",
    "{\"last_affected\":\"1\"}",
    "\"type\":\"GIT\"",
    "\"modified\":\"2024-01-01T00:00:00Z\"",
    "\"package\":{",
    "\"versions\":[",
};

/* The seeds of fuzz/seeds/vex are valid documents. */
static void check_seeds(const struct smoke_seeds *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct kb_why why = {{0}};
        kb_err e;
        if (s->p[i][0] & 1) {
            struct osv_record *r = NULL;
            e = osv_parse(s->p[i] + 1, s->n[i] - 1, &r, &why);
            osv_record_free(r);
        } else {
            struct openvex_doc d;
            memset(&d, 0, sizeof d);
            e = openvex_parse(s->p[i] + 1, s->n[i] - 1, &d, &why);
            T_CHECK(e != KB_OK || d.n == 4);
            if (e == KB_OK)
                openvex_doc_release(&d);
        }
        T_CHECKF(e == KB_OK, "seed %zu: %s", i, why.msg);
    }
}

static void test_mutations(void)
{
    struct smoke_seeds *s = calloc(1, sizeof *s);
    size_t own = smoke_add_dir(s, -1, KOBAN_SOURCE_DIR "/fuzz/seeds/vex", NULL);
    T_CHECK(own >= 2);
    check_seeds(s, own);
    const char *data = t_data_dir();
    if (data) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/osv/records", data);
        fprintf(stderr, "    %zu OSV records from %s\n", smoke_add_dir(s, 1, dir, ".json"), dir);
    } else {
        fprintf(stderr, "    ../shared/data is absent: the OSV records there are not used\n");
    }

    struct fz_stats st = {0};
    struct smoke_result r =
        smoke_run(s, ITERS, MAX_SECS, tokens, KB_ARRAY_LEN(tokens), fz_vex_one, &st);
    fprintf(stderr, "    %zu seeds, %d inputs (%u accepted), %d failures, %.2f s\n", s->count,
            r.runs, st.ok, r.failures, r.secs);
    T_EQ_INT(r.failures, 0);
    T_CHECK(r.runs >= (int)s->count);
    T_CHECK(st.ok > (unsigned)r.runs / 100); /* the mutants must not all be refused */
    smoke_release(s);
    free(s);
}

int main(void)
{
    T_RUN(test_mutations);
    return t_done();
}
