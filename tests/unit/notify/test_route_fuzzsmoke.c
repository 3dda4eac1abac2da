/* test_route_fuzzsmoke.c — a short, deterministic fuzz run of the
 * notification routing file (route_load_buffer) in the unit tests: the
 * valid seeds of fuzz/seeds/route (each checked to load), then mutants of
 * them, with the checks of fuzz/check_route.h (KB_OK with a route set, or
 * an error with a message; no crash, no leak). fuzz/fuzz_route.c does the
 * long runs. */
#include "test.h"

#include "../../../fuzz/check_route.h"
#include "../../../fuzz/smoke.h"

#define ITERS 50000
#define MAX_SECS 4.0

static const char *const tokens[] = {
    "\n",
    "\n  ",
    "\n    ",
    " ",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    "\"",
    "#",
    "~",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "? ",
    "|\n  ",
    "---\n",
    "%YAML 1.1\n",
    "${",
    "${HOME}",
    "${KOBAN_FUZZ_UNSET}",
    "$",
    "receivers:\n",
    "route:\n",
    "routes:\n",
    "match: {",
    "severity: \">= high\"",
    "labels: {",
    "continue: true",
    "receiver: ",
    "type: slack",
    "type: webhook",
    "rate: 5/s",
    "rate: 0/h",
    "burst: ",
    "reminders: {",
    "escalate: {",
    "after: ",
    "ops: {",
    "concurrency: 99",
    "token_file: /nonexistent",
    "token_file: .",
    "=~",
    "!~",
    "!=",
    "\t",
    "\xff",
    "\x00",
};

static void test_mutations(void)
{
    struct smoke_seeds *s = calloc(1, sizeof *s);
    size_t own = smoke_add_dir(s, -1, KOBAN_SOURCE_DIR "/fuzz/seeds/route", NULL);
    T_CHECK(own >= 3);
    for (size_t i = 0; i < own; i++) {
        struct route_set *rs = NULL;
        struct kb_why why = {{0}};
        kb_err e = route_load_buffer(s->p[i], s->n[i], "seed.yaml", &rs, &why);
        /* env.yaml names ${HOME}: it loads wherever HOME is set */
        T_CHECKF(e == KB_OK || !getenv("HOME"), "seed %zu: %s", i, why.msg);
        route_set_free(rs);
    }
    /* The mutator keeps the first byte (the other targets' selector): a
     * leading newline makes it harmless here. */
    size_t n0 = s->count;
    for (size_t i = 0; i < n0; i++)
        smoke_add_sel(s, '\n', s->p[i], s->n[i]);
    struct fz_stats st = {0};
    struct smoke_result r =
        smoke_run(s, ITERS, MAX_SECS, tokens, KB_ARRAY_LEN(tokens), fz_route_one, &st);
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
