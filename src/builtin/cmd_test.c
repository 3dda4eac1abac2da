/* cmd_test.c — `koban test PATH...`: run the tests that rule files carry
 * (`tests:`, see src/rules/rule_tests.h and docs/RULES-cli.md) and show,
 * for each failure, why the rule did or did not match. */
#include "builtin/builtin.h"

#include "formats/alert.h"
#include "lib/json.h"
#include "rules/rule_tests.h"
#include "rules/sigma.h"
#include "rules/sigma_explain.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

const struct builtin builtin_test = {
    "test", cmd_test, "run the tests written in Sigma rule files",
    "usage: koban test [-v] PATH...\n\n"
    "Loads every rule of each PATH (a file, or a folder searched recursively\n"
    "for *.yml and *.yaml) and runs the tests the rules carry under `tests:`\n"
    "(an event and whether the rule matches it; see docs/RULES-cli.md).\n"
    "Each failure is printed with the trace of the rule on its event: which\n"
    "selection failed on which field. The last line is 'N passed, N failed'.\n\n"
    "Exit status: 0 every test passed, 1 a test failed, 2 a rule or a test\n"
    "could not be loaded (such a rule is an error, never skipped).\n\n"
    "  -v, --verbose   also list the tests that pass\n",
};

#define TEST_TRACE_MAX (1024u * 1024) /* bytes of one failure's trace */
#define TEST_SHOW_EVENT 300           /* bytes of the event shown in a failure */

struct trun {
    struct sigma_ruleset *rs;
    bool verbose;
    int passed, failed;
    struct buf trace;
    struct buf ev;
    struct arena ar;
};

static const struct sigma_rule *rule_of(const struct sigma_ruleset *rs, const struct rule_test *t)
{
    for (size_t i = 0; i < sigma_ruleset_count(rs); i++) {
        const struct sigma_rule *r = sigma_ruleset_rule(rs, i);
        if (sigma_rule_line(r) == t->rule_line && strcmp(sigma_rule_file(r), t->file) == 0)
            return r;
    }
    return NULL;
}

static void test_label(const struct rule_test *t, char *out, size_t outsz)
{
    if (t->name)
        snprintf(out, outsz, "\"%s\"", t->name);
    else
        snprintf(out, outsz, "#%zu", t->index + 1);
}

/* Builds the event of a test into tr->ar (text kept in tr->ev). */
static kb_err test_event(struct trun *tr, const struct rule_test *t, struct sigma_event *ev,
                         struct kb_why *why)
{
    buf_reset(&tr->ev);
    arena_reset(&tr->ar);
    kb_err e = t->source ? rule_tests_text_event(t->source, t->event, t->event_len, kb_now_ms(),
                                                 &tr->ev, why)
                         : buf_append(&tr->ev, t->event, t->event_len);
    if (e)
        return e;
    struct json_value *root = NULL;
    struct json_error je = {0};
    if (json_parse(tr->ev.p, tr->ev.len, NULL, &tr->ar, &root, &je) != KB_OK)
        return kb_fail(why, KB_EPARSE, "event: %s", je.msg);
    *ev = (struct sigma_event){root, tr->ev.p, tr->ev.len};
    return KB_OK;
}

static void run_test(struct trun *tr, const struct rule_test *t)
{
    char label[200];
    test_label(t, label, sizeof label);
    const struct sigma_rule *r = rule_of(tr->rs, t);
    if (!r) {
        tr->failed++;
        printf("FAIL %s:%u: test %s: its rule did not load (see the errors above)\n", t->file,
               t->line, label);
        return;
    }
    struct sigma_event ev;
    struct kb_why why = {{0}};
    if (test_event(tr, t, &ev, &why) != KB_OK) {
        tr->failed++;
        printf("FAIL %s:%u: test %s: %s\n", t->file, t->line, label, why.msg);
        return;
    }
    buf_reset(&tr->trace);
    bool matched = false;
    sigma_explain(r, &ev, "    ", &tr->trace, &matched);
    int sev = sigma_rule_severity(r);
    bool ok = matched == t->want_match &&
              (t->want_severity < 0 || !matched || sev == t->want_severity);
    const char *id = sigma_rule_id(r) ? sigma_rule_id(r) : "no id";
    if (ok) {
        tr->passed++;
        if (tr->verbose)
            printf("ok   %s:%u: test %s of \"%s\"\n", t->file, t->line, label,
                   sigma_rule_title(r));
        return;
    }
    tr->failed++;
    printf("FAIL %s:%u: test %s of rule \"%s\" (%s)\n", t->file, t->line, label,
           sigma_rule_title(r), id);
    if (matched != t->want_match)
        printf("  expected: %s; got: %s\n", t->want_match ? "match" : "no match",
               matched ? "match" : "no match");
    else
        printf("  expected severity %s; the rule gives %s (level: %s)\n",
               kb_severity_name(t->want_severity), kb_severity_name(sev),
               sigma_rule_level(r) ? sigma_rule_level(r) : "absent, so medium");
    int show = (int)KB_MIN(ev.len, (size_t)TEST_SHOW_EVENT);
    printf("  event%s: %.*s%s\n", t->source ? " (from the raw line)" : "", show, ev.text,
           ev.len > (size_t)show ? "..." : "");
    printf("  trace:\n%s", tr->trace.p ? tr->trace.p : "");
}

int cmd_test(int argc, char **argv)
{
    static const struct option opts[] = {{"verbose", no_argument, NULL, 'v'},
                                          {NULL, 0, NULL, 0}};
    bool verbose = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        if (ch == 'v')
            verbose = true;
        else
            return builtin_usage(&builtin_test);
    }
    if (optind >= argc)
        return builtin_usage(&builtin_test);
    static const char *const exts[] = {".yml", ".yaml", NULL};
    char **files = NULL;
    size_t nfiles = 0;
    struct kb_why why = {{0}};
    struct sigma_ruleset *rs = NULL;
    if (rule_tests_paths((const char *const *)argv + optind, (size_t)(argc - optind), exts,
                         &files, &nfiles, &why) != KB_OK) {
        rule_tests_paths_free(files, nfiles);
        return builtin_error("test", "%s", why.msg), 2;
    }
    if (sigma_ruleset_new(NULL, &rs, &why) != KB_OK) {
        rule_tests_paths_free(files, nfiles);
        return builtin_error("test", "%s", why.msg), 2;
    }
    struct rule_tests tests = RULE_TESTS_INIT;
    size_t load_errors = 0;
    for (size_t i = 0; i < nfiles; i++) {
        sigma_load_file(files[i], rs, NULL, NULL);
        /* malformed tests are kept in tests.errors; unreadable files and
         * YAML syntax errors are in the ruleset's errors already */
        rule_tests_load_file(files[i], &tests, NULL);
    }
    for (size_t i = 0; i < sigma_ruleset_nerrors(rs); i++, load_errors++)
        fprintf(stderr, "koban test: error: %s\n", sigma_ruleset_error(rs, i));
    for (size_t i = 0; i < tests.nerrors; i++, load_errors++)
        fprintf(stderr, "koban test: error: %s\n", tests.errors[i]);
    struct trun tr = {.rs = rs, .verbose = verbose, .trace = BUF_INIT(TEST_TRACE_MAX),
                      .ev = BUF_INIT(4u * RULE_TESTS_MAX_EVENT),
                      .ar = ARENA_INIT(64u * RULE_TESTS_MAX_EVENT)};
    for (size_t i = 0; i < tests.n; i++)
        run_test(&tr, &tests.v[i]);
    if (tests.n == 0 && !load_errors)
        fprintf(stderr, "koban test: no tests found in %zu rule file%s (see `tests:` in "
                "docs/RULES-cli.md)\n", nfiles, nfiles == 1 ? "" : "s");
    if (load_errors)
        printf("%zu load error%s (see above)\n", load_errors, load_errors == 1 ? "" : "s");
    printf("%d passed, %d failed\n", tr.passed, tr.failed);
    fflush(stdout);
    int rc = load_errors ? 2 : tr.failed ? 1 : 0;
    buf_release(&tr.trace);
    buf_release(&tr.ev);
    arena_release(&tr.ar);
    rule_tests_release(&tests);
    sigma_ruleset_free(rs);
    rule_tests_paths_free(files, nfiles);
    return rc;
}
