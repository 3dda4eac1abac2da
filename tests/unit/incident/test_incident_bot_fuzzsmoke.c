/* test_incident_bot_fuzzsmoke.c — a short, deterministic fuzz run of the
 * incident bot's settings file (incident_bot_load_buffer) in the unit
 * tests: the valid seeds of fuzz/seeds/incident_bot (each checked to
 * load), then mutants of them, with the checks of
 * fuzz/check_incident_bot.h (KB_OK with settings, or an error with a
 * message; no crash, no leak). fuzz/fuzz_incident_bot.c does the long
 * runs. */
#include "test.h"

#include "../../../fuzz/check_incident_bot.h"
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
    "!!binary ",
    "? ",
    "|\n  ",
    ">\n  ",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "slack:\n",
    "github:\n",
    "services:\n",
    "receiver: ",
    "invite: [",
    "timekeeper: ",
    "timekeeper_mode: ",
    "postmortem_dir: ",
    "../",
    "0",
    "-1",
    "99999999999d",
    "\t",
    "\xff",
    "\x00",
};

static void test_mutations(void)
{
    struct smoke_seeds *s = calloc(1, sizeof *s);
    size_t own = smoke_add_dir(s, -1, KOBAN_SOURCE_DIR "/fuzz/seeds/incident_bot", NULL);
    T_CHECK(own >= 3);
    for (size_t i = 0; i < own; i++) {
        struct incident_bot *b = NULL;
        struct kb_why why = {{0}};
        T_CHECKF(incident_bot_load_buffer(s->p[i], s->n[i], "seed.yml", &b, &why) == KB_OK,
                 "seed %zu: %s", i, why.msg);
        incident_bot_free(b);
    }
    /* The mutator keeps the first byte (the other targets' selector): a
     * leading newline makes it harmless here. */
    size_t n0 = s->count;
    for (size_t i = 0; i < n0; i++)
        smoke_add_sel(s, '\n', s->p[i], s->n[i]);
    struct fz_stats st = {0};
    struct smoke_result r =
        smoke_run(s, ITERS, MAX_SECS, tokens, KB_ARRAY_LEN(tokens), fz_incident_bot_one, &st);
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
