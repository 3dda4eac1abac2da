/* test_slack_fuzzsmoke.c — a short, deterministic fuzz run of Slack's
 * inbound parsing in the unit tests: slack_form_get on mutated bodies, and
 * mutated JSON and form requests signed with the test secret at the
 * current time (so the parsing behind the signature runs) through
 * slack_inbound_handle with a handler that only reads what it is given.
 * Seeds: fuzz/seeds/slack (events, url_verification, a slash command,
 * block_actions, view_submission, message_action). Checks: those of
 * fuzz/check_slack.h (an answer of 200 or 400; form_get's documented
 * codes; no crash, no leak). fuzz/fuzz_slack.c does the long runs. */
#include "test.h"

#include "../../../fuzz/check_slack.h"
#include "../../../fuzz/smoke.h"
#include "lib/log.h"

#define ITERS 8000
#define MAX_SECS 4.0

static const char *const tokens[] = {
    "%",
    "%2",
    "%ZZ",
    "%00",
    "%7B",
    "%22",
    "+",
    "&",
    "=",
    "&&",
    "==",
    "payload=",
    "command=",
    "text=",
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "\"type\":\"event_callback\"",
    "\"event\":{",
    "\"item\":{",
    "\"type\":\"url_verification\"",
    "\"challenge\":",
    "\"actions\":[",
    "\"view\":{",
    "\"state\":{\"values\":",
    "\"selected_option\":",
    "\"user\":{\"id\":",
    "\"event_id\":\"Ev9\"",
    "\\u0000",
    "\xff",
};

static void test_mutations(void)
{
    struct smoke_seeds *s = calloc(1, sizeof *s);
    size_t own = smoke_add_dir(s, -1, KOBAN_SOURCE_DIR "/fuzz/seeds/slack", NULL);
    T_CHECK(own >= 8);
    /* Built in: a form body for each key slack_form_get is asked for. */
    static const char form[] = "a=1&command=%2Fincident&text=db+is+down%21&empty=&flag&bad=%4";
    for (unsigned k = 0; k < KB_ARRAY_LEN(fz_slack_keys); k++) {
        char body[sizeof form + 1];
        body[0] = (char)k;
        memcpy(body + 1, form, sizeof form - 1);
        smoke_add_sel(s, 0, body, sizeof form);
    }
    struct fz_stats st = {0};
    struct smoke_result r =
        smoke_run(s, ITERS, MAX_SECS, tokens, KB_ARRAY_LEN(tokens), fz_slack_one, &st);
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
    kb_log_set_level(KB_LOG_OFF); /* every unusable request is logged: not wanted here */
    T_RUN(test_mutations);
    return t_done();
}
