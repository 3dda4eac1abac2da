/* cmd_test.c — `koban test PATH...`: run the tests that rule files carry
 * (`tests:`, see src/rules/rule_tests.h and docs/RULES-cli.md) and show,
 * for each failure, why the rule did or did not match. */
#include "builtin/builtin.h"

#include "formats/alert.h"
#include "lib/json.h"
#include "rules/policy.h"
#include "rules/rule_tests.h"
#include "rules/sigma.h"
#include "rules/sigma_explain.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

const struct builtin builtin_test = {
    "test", cmd_test, "run the tests written in Sigma rule files",
    "usage: koban test [-v] [--no-stock-policies] [--policies DIR]... PATH...\n\n"
    "Loads every rule of each PATH (a file, or a folder searched recursively\n"
    "for *.yml and *.yaml) and runs the tests the rules carry under `tests:`\n"
    "(an event and whether the rule matches it; see docs/RULES-cli.md).\n"
    "A test's `severity:` is the FINAL severity: the rule's level as the\n"
    "alert's severity, then the triage policies applied as `koban serve`\n"
    "applies them (each test a first occurrence). `rule_severity:` is the\n"
    "rule's own level; `policies:` the exact set of policy ids applied.\n"
    "Each failure is printed with the trace of the rule on its event: which\n"
    "selection failed on which field, and for a severity which policies\n"
    "changed it. The last line is 'N passed, N failed'.\n\n"
    "Exit status: 0 every test passed, 1 a test failed, 2 a rule, a test or\n"
    "a policy could not be loaded (an error, never skipped).\n\n"
    "  -v, --verbose            also list the tests that pass\n"
    "      --no-stock-policies  do not apply the stock policies (as\n"
    "                           policies.stock: false in the config)\n"
    "      --policies DIR       also apply the policies of DIR (its *.yml and\n"
    "                           *.yaml files, as policies.dir); repeatable:\n"
    "                           folders load in the order given, after the\n"
    "                           stock policies\n",
};

#define TEST_TRACE_MAX (1024u * 1024) /* bytes of one failure's trace */
#define TEST_SHOW_EVENT 300           /* bytes of the event shown in a failure */

struct trun {
    struct sigma_ruleset *rs;
    struct policy_set *ps;
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

/* Whether the policies applied are exactly the test's (in any order). */
static bool same_policies(const struct rule_test *t, const struct rule_tests_outcome *o)
{
    if (o->nmatched != t->nwant_policies)
        return false;
    for (size_t i = 0; i < t->nwant_policies; i++) {
        bool found = false;
        for (uint32_t k = 0; !found && k < o->napplied; k++)
            found = strcmp(o->applied[k].id, t->want_policies[i]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* "a, b" into out: the ids of the policies that changed the severity. */
static void changed_by(const struct rule_tests_outcome *o, struct buf *out)
{
    int prev = o->rule_severity;
    for (uint32_t i = 0; i < o->napplied; i++) {
        if (o->applied[i].severity != prev)
            buf_printf(out, "%s%s", out->len ? ", " : "", o->applied[i].id);
        prev = o->applied[i].severity;
    }
}

/*   severity: want high, got none (rule level medium; policies: x) */
static void print_severity(struct trun *tr, const struct rule_test *t, const struct sigma_rule *r,
                           const struct rule_tests_outcome *o)
{
    struct buf b = BUF_INIT(4096);
    changed_by(o, &b);
    printf("  severity: want %s, got %s (rule level %s; ", kb_severity_name(t->want_severity),
           kb_severity_name(o->severity),
           sigma_rule_level(r) ? kb_severity_name(o->rule_severity) : "absent, so medium");
    if (b.len)
        printf("policies: %s)\n", b.p);
    else if (!tr->ps || !policy_set_count(tr->ps))
        printf("no policies loaded)\n");
    else
        printf("no policy changed it)\n");
    buf_release(&b);
}

/*   policies: want [a, b], got [c] */
static void print_policies(struct trun *tr, const struct rule_test *t,
                           const struct rule_tests_outcome *o)
{
    printf("  policies: want [");
    for (size_t i = 0; i < t->nwant_policies; i++)
        printf("%s%s", i ? ", " : "", t->want_policies[i]);
    printf("], got [");
    for (uint32_t i = 0; i < o->napplied; i++)
        printf("%s%s", i ? ", " : "", o->applied[i].id);
    if (o->nmatched > o->napplied)
        printf(", and %u more", o->nmatched - o->napplied);
    printf("]\n");
    for (size_t i = 0; i < t->nwant_policies; i++)
        if (!tr->ps || !policy_set_find(tr->ps, t->want_policies[i]))
            printf("  (no policy '%s' is loaded)\n", t->want_policies[i]);
}

/*   alert (guardduty): rule level medium -> a: medium -> b: none; muted by c */
static void print_trail(const struct rule_tests_outcome *o)
{
    printf("  alert (%s): rule level %s", o->source, kb_severity_name(o->rule_severity));
    for (uint32_t i = 0; i < o->napplied; i++)
        printf(" -> %s: %s", o->applied[i].id, kb_severity_name(o->applied[i].severity));
    if (o->mute_policy)
        printf("; muted by %s", o->mute_policy);
    if (o->close_policy)
        printf("; closes an issue (%s)", o->close_policy);
    printf("\n");
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
    int rsev = sigma_rule_severity(r);
    bool checked = matched && t->want_match; /* the severity keys go with match: true */
    struct rule_tests_outcome out;
    struct kb_why owhy = {{0}};
    bool need_out = checked && (t->want_severity >= 0 || t->check_policies);
    bool out_ok = need_out && rule_tests_outcome(tr->ps, r, t, &out, &owhy) == KB_OK;
    bool match_ok = matched == t->want_match;
    bool rsev_ok = !checked || t->want_rule_severity < 0 || rsev == t->want_rule_severity;
    bool sev_ok =
        !need_out || (out_ok && (t->want_severity < 0 || out.severity == t->want_severity));
    bool pol_ok = !need_out || (out_ok && (!t->check_policies || same_policies(t, &out)));
    const char *id = sigma_rule_id(r) ? sigma_rule_id(r) : "no id";
    if (match_ok && rsev_ok && sev_ok && pol_ok) {
        tr->passed++;
        if (tr->verbose)
            printf("ok   %s:%u: test %s of \"%s\"\n", t->file, t->line, label,
                   sigma_rule_title(r));
        return;
    }
    tr->failed++;
    printf("FAIL %s:%u: test %s of rule \"%s\" (%s)\n", t->file, t->line, label,
           sigma_rule_title(r), id);
    if (!match_ok)
        printf("  expected: %s; got: %s\n", t->want_match ? "match" : "no match",
               matched ? "match" : "no match");
    if (!rsev_ok)
        printf("  rule_severity: want %s, got %s (level: %s)\n",
               kb_severity_name(t->want_rule_severity), kb_severity_name(rsev),
               sigma_rule_level(r) ? sigma_rule_level(r) : "absent, so medium");
    if (need_out && !out_ok)
        printf("  %s: cannot be computed: %s\n", t->want_severity >= 0 ? "severity" : "policies",
               owhy.msg);
    if (out_ok && !sev_ok)
        print_severity(tr, t, r, &out);
    if (out_ok && !pol_ok)
        print_policies(tr, t, &out);
    if (out_ok && (!sev_ok || !pol_ok))
        print_trail(&out);
    int show = (int)KB_MIN(ev.len, (size_t)TEST_SHOW_EVENT);
    printf("  event%s: %.*s%s\n", t->source ? " (from the raw line)" : "", show, ev.text,
           ev.len > (size_t)show ? "..." : "");
    printf("  trace:\n%s", tr->trace.p ? tr->trace.p : "");
}

static void on_policy_error(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "koban test: error: %s\n", msg);
}

int cmd_test(int argc, char **argv)
{
    enum { OPT_NO_STOCK = 256, OPT_POLICIES };
    static const struct option opts[] = {{"verbose", no_argument, NULL, 'v'},
                                          {"no-stock-policies", no_argument, NULL, OPT_NO_STOCK},
                                          {"policies", required_argument, NULL, OPT_POLICIES},
                                          {NULL, 0, NULL, 0}};
    bool verbose = false, stock = true;
    const char *dirs[RULE_TESTS_MAX_POLICY_DIRS];
    size_t ndirs = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        if (ch == 'v') {
            verbose = true;
        } else if (ch == OPT_NO_STOCK) {
            stock = false;
        } else if (ch == OPT_POLICIES) {
            if (ndirs == RULE_TESTS_MAX_POLICY_DIRS)
                return builtin_error("test", "more than %d --policies folders",
                                     RULE_TESTS_MAX_POLICY_DIRS), 2;
            dirs[ndirs++] = optarg;
        } else {
            return builtin_usage(&builtin_test);
        }
    }
    if (optind >= argc)
        return builtin_usage(&builtin_test);
    static const char *const exts[] = {".yml", ".yaml", NULL};
    char **files = NULL;
    size_t nfiles = 0;
    struct kb_why why = {{0}};
    struct sigma_ruleset *rs = NULL;
    struct policy_set *ps = NULL;
    if (rule_tests_paths((const char *const *)argv + optind, (size_t)(argc - optind), exts,
                         &files, &nfiles, &why) != KB_OK) {
        rule_tests_paths_free(files, nfiles);
        return builtin_error("test", "%s", why.msg), 2;
    }
    if (sigma_ruleset_new(NULL, &rs, &why) != KB_OK || policy_set_new(&ps, &why) != KB_OK) {
        sigma_ruleset_free(rs);
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
    /* a policy that does not load would change every severity: an error */
    size_t perrors = 0;
    rule_tests_load_policies(ps, stock, dirs, ndirs, on_policy_error, NULL, &perrors, &why);
    load_errors += perrors;
    struct trun tr = {.rs = rs, .ps = ps, .verbose = verbose, .trace = BUF_INIT(TEST_TRACE_MAX),
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
    policy_set_free(ps);
    sigma_ruleset_free(rs);
    rule_tests_paths_free(files, nfiles);
    return rc;
}
