/*
 * test_rule_tests.c — the `tests:` parser of rule files (rule_tests.c), the
 * final severity of a rule's alert after the policies (rule_tests_policy.c),
 * the event of a text line, the folder walk, and the explanation trace
 * (sigma_explain.c) that `koban test` prints for a failure.
 */
#include "lib/json.h"
#include "rules/rule_tests.h"
#include "rules/sigma.h"
#include "rules/sigma_explain.h"
#include "test.h"

#include <stdlib.h>

static kb_err load(const char *yaml, struct rule_tests *t)
{
    struct kb_why why = {{0}};
    return rule_tests_load_buffer(yaml, strlen(yaml), "r.yml", t, &why);
}

static const char *const head =
    "title: t\n"                      /* 1 */
    "logsource: {product: aws, service: cloudtrail}\n"
    "detection:\n"
    "  sel: {eventName: X}\n"
    "  condition: sel\n";             /* 5 */

static void test_mapping_event_becomes_json(void)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "%stests:\n"
             "  - name: typed\n"
             "    event:\n"
             "      a: 1\n"
             "      b: 2.5\n"
             "      c: true\n"
             "      d: null\n"
             "      e: '42'\n"
             "      f: \"quote \\\" and tab\\t\"\n"
             "      g: [x, 3, {h: ~}]\n"
             "    match: true\n"
             "    severity: informational\n",
             head);
    struct rule_tests t = RULE_TESTS_INIT;
    T_EQ_INT(load(yaml, &t), KB_OK);
    T_EQ_INT(t.n, 1);
    if (t.n == 1) {
        T_EQ_STR(t.v[0].event, "{\"a\":1,\"b\":2.5,\"c\":true,\"d\":null,\"e\":\"42\","
                               "\"f\":\"quote \\\" and tab\\t\",\"g\":[\"x\",3,{\"h\":null}]}");
        T_EQ_INT(t.v[0].event_len, strlen(t.v[0].event));
        T_EQ_STR(t.v[0].name, "typed");
        T_EQ_INT(t.v[0].line, 7);
        T_EQ_INT(t.v[0].rule_line, 1);
        T_CHECK(t.v[0].want_match);
        T_EQ_INT(t.v[0].want_severity, 0); /* informational is koban's none */
        T_CHECK(t.v[0].source == NULL);
        T_EQ_STR(t.v[0].file, "r.yml");
    }
    T_EQ_INT(t.nerrors, 0);
    rule_tests_release(&t);
}

static void test_json_text_and_raw(void)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "%stests:\n"
             "  - event: '{\"eventName\": \"X\", \"n\": [1, 2]}'\n"
             "    match: true\n"
             "    severity: HIGH\n"
             "  - raw: 'Mar  3 10:00:01 h sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2'\n"
             "    match: false\n"
             "  - raw: 'x'\n"
             "    source: syslog\n"
             "    match: false\n",
             head);
    struct rule_tests t = RULE_TESTS_INIT;
    T_EQ_INT(load(yaml, &t), KB_OK);
    T_EQ_INT(t.n, 3);
    if (t.n == 3) {
        T_EQ_STR(t.v[0].event, "{\"eventName\": \"X\", \"n\": [1, 2]}");
        T_EQ_INT(t.v[0].want_severity, 3);
        T_CHECK(t.v[1].source && strcmp(t.v[1].source, "syslog") == 0); /* the default */
        T_CHECK(!t.v[1].want_match);
        T_EQ_INT(t.v[1].want_severity, -1);
        T_CHECK(strncmp(t.v[1].event, "Mar  3", 6) == 0);
        T_EQ_STR(t.v[2].source, "syslog");
    }
    rule_tests_release(&t);
}

/* severity: is the final severity, rule_severity: the rule's level,
 * policies: the exact set of policy ids (kept in the file's order). */
static void test_severity_keys(void)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "%stests:\n"
             "  - event: {eventName: X}\n"
             "    match: true\n"
             "    severity: none\n"
             "    rule_severity: Medium\n"
             "    policies: [b-policy, 'a.policy:1']\n"
             "  - event: {eventName: X}\n"
             "    match: true\n"
             "    policies: []\n"
             "  - event: {eventName: X}\n"
             "    match: true\n",
             head);
    struct rule_tests t = RULE_TESTS_INIT;
    T_EQ_INT(load(yaml, &t), KB_OK);
    T_EQ_INT(t.nerrors, 0);
    T_EQ_INT(t.n, 3);
    if (t.n == 3) {
        T_EQ_INT(t.v[0].want_severity, KB_SEV_NONE);
        T_EQ_INT(t.v[0].want_rule_severity, KB_SEV_MEDIUM);
        T_CHECK(t.v[0].check_policies);
        T_EQ_INT(t.v[0].nwant_policies, 2);
        if (t.v[0].nwant_policies == 2) {
            T_EQ_STR(t.v[0].want_policies[0], "b-policy");
            T_EQ_STR(t.v[0].want_policies[1], "a.policy:1");
        }
        T_CHECK(t.v[1].check_policies); /* [] checks that no policy applies */
        T_EQ_INT(t.v[1].nwant_policies, 0);
        T_EQ_INT(t.v[1].want_severity, -1);
        T_EQ_INT(t.v[1].want_rule_severity, -1);
        T_CHECK(!t.v[2].check_policies);
        T_CHECK(t.v[2].want_policies == NULL);
    }
    rule_tests_release(&t);
}

/* Each malformed test is refused with FILE:LINE and a reason; its good
 * neighbours load. */
static void test_errors_name_file_and_line(void)
{
    static const struct {
        const char *test;
        const char *want;
    } cases[] = {
        {"  - event: {a: 1}\n", "r.yml:7: tests[0]: match: missing"},
        {"  - event: {a: 1}\n    match: maybe\n", "r.yml:8: tests[0]: match: expected true or false"},
        {"  - event: {a: 1}\n    matches: true\n", "r.yml:8: tests[0]: unknown key 'matches'"},
        {"  - match: true\n", "r.yml:7: tests[0]: exactly one of event"},
        {"  - {match: true, event: {a: 1}, raw: x}\n", "r.yml:7: tests[0]: exactly one of event"},
        {"  - event: '{\"a\": }'\n    match: true\n", "r.yml:7: tests[0]: event: invalid JSON"},
        {"  - event: '[1]'\n    match: true\n", "r.yml:7: tests[0]: event: expected a JSON object"},
        {"  - raw: x\n    source: cloudtrail\n    match: true\n",
         "r.yml:8: tests[0]: source: 'cloudtrail' is not a koban text source"},
        {"  - event: {a: 1}\n    source: syslog\n    match: true\n",
         "r.yml:8: tests[0]: source: only with raw"},
        {"  - event: {a: 1}\n    match: false\n    severity: high\n",
         "r.yml:9: tests[0]: severity: only with match: true"},
        {"  - event: {a: 1}\n    match: true\n    severity: urgent\n",
         "r.yml:9: tests[0]: severity: 'urgent' is not a level"},
        {"  - raw: \"two\\nlines\"\n    match: true\n", "r.yml:7: tests[0]: raw: expected one log line"},
        {"  - just a string\n", "r.yml:7: tests[0]: a test is a mapping"},
        {"  - event: {a: 1}\n    match: true\n    rule_severity: loud\n",
         "r.yml:9: tests[0]: rule_severity: 'loud' is not a level"},
        {"  - event: {a: 1}\n    match: false\n    rule_severity: high\n",
         "r.yml:9: tests[0]: rule_severity: only with match: true"},
        {"  - event: {a: 1}\n    match: true\n    policies: guardduty-archived\n",
         "r.yml:9: tests[0]: policies: expected a list of policy ids"},
        {"  - event: {a: 1}\n    match: true\n    policies:\n",
         "r.yml:9: tests[0]: policies: expected a list of policy ids"},
        {"  - event: {a: 1}\n    match: false\n    policies: []\n",
         "r.yml:9: tests[0]: policies: only with match: true"},
        {"  - event: {a: 1}\n    match: true\n    policies: [a, b, a]\n",
         "r.yml:9: tests[0]: policies: 'a' listed twice"},
        {"  - event: {a: 1}\n    match: true\n    policies:\n      - x\n      - {id: y}\n",
         "r.yml:11: tests[0]: policies[1]: expected a policy id"},
        {"  - event: {a: 1}\n    match: true\n    policies: ['']\n",
         "r.yml:9: tests[0]: policies[0]: expected a policy id"},
        {"  - event: {a: 1}\n    match: true\n    severity: high\n    poilcies: []\n",
         "r.yml:10: tests[0]: unknown key 'poilcies'"},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml, "%stests:\n%s  - event: {eventName: X}\n    match: true\n",
                 head, cases[i].test);
        struct rule_tests t = RULE_TESTS_INIT;
        struct kb_why why = {{0}};
        kb_err e = rule_tests_load_buffer(yaml, strlen(yaml), "r.yml", &t, &why);
        T_CHECKF(e == KB_EINVAL, "case %zu: %s", i, kb_strerror(e));
        T_CHECKF(t.nerrors == 1 && strncmp(t.errors[0], cases[i].want, strlen(cases[i].want)) == 0,
                 "case %zu: got \"%s\", want \"%s...\"", i, t.nerrors ? t.errors[0] : "(none)",
                 cases[i].want);
        T_CHECKF(strncmp(why.msg, cases[i].want, strlen(cases[i].want)) == 0, "case %zu: why %s",
                 i, why.msg);
        T_CHECKF(t.n == 1, "case %zu: the good test beside it loads (%zu)", i, t.n);
        rule_tests_release(&t);
    }
}

static void test_documents_and_syntax(void)
{
    const char *yaml = "title: a\ndetection: {s: {x: 1}, condition: s}\n"
                       "tests:\n  - {event: {x: 1}, match: true}\n"
                       "---\n"
                       "title: b\ndetection: {s: {x: 2}, condition: s}\n"
                       "---\n"
                       "title: c\n"
                       "detection: {s: {x: 3}, condition: s}\n"
                       "tests:\n  - {event: {x: 1}, match: false}\n  - {event: {x: 3}, match: true}\n"
                       "---\n"
                       "title: corr\ncorrelation: {type: event_count}\ntests: []\n"
                       "---\n"
                       "title: d\ntests: {event: {}}\n";
    struct rule_tests t = RULE_TESTS_INIT;
    T_EQ_INT(load(yaml, &t), KB_EINVAL);
    T_EQ_INT(t.n, 3);
    if (t.n == 3) {
        T_EQ_INT(t.v[0].rule_line, 1);
        T_EQ_INT(t.v[1].rule_line, 9);
        T_EQ_INT(t.v[2].rule_line, 9);
        T_EQ_INT(t.v[2].line, 13);
        T_EQ_INT(t.v[2].index, 1);
        T_EQ_INT(t.v[1].index, 0);
    }
    T_EQ_INT(t.nerrors, 2);
    if (t.nerrors == 2) {
        T_CHECKF(strstr(t.errors[0], "r.yml:17: tests: only base rules") != NULL, "%s",
                 t.errors[0]);
        T_CHECKF(strstr(t.errors[1], "r.yml:20: tests: expected a list") != NULL, "%s",
                 t.errors[1]);
    }
    rule_tests_release(&t);

    /* a YAML syntax error: reported through the return value only */
    struct rule_tests u = RULE_TESTS_INIT;
    struct kb_why why = {{0}};
    const char *bad = "title: a\ntests:\n  - {event: {x: 1}, match: true}\n  - [unclosed\n";
    T_EQ_INT(rule_tests_load_buffer(bad, strlen(bad), "b.yml", &u, &why), KB_EPARSE);
    T_CHECKF(strncmp(why.msg, "b.yml:", 6) == 0, "%s", why.msg);
    T_EQ_INT(u.nerrors, 0);
    rule_tests_release(&u);
}

static void test_text_event(void)
{
    struct buf b = BUF_INIT(1 << 16);
    struct kb_why why = {{0}};
    const char *line = "Mar  3 10:00:01 web-01 sshd[4242]: Failed password for invalid user "
                       "admin from 203.0.113.77 port 40112 ssh2";
    T_EQ_INT(rule_tests_text_event(NULL, line, strlen(line), 1772000000000, &b, &why), KB_OK);
    struct arena a = ARENA_INIT(1 << 20);
    struct json_value *root = NULL;
    T_EQ_INT(json_parse(b.p, b.len, NULL, &a, &root, NULL), KB_OK);
    static const char *const want[][2] = {
        {"message", "Failed password for invalid user admin from 203.0.113.77 port 40112 ssh2"},
        {"host", "web-01"},        {"app", "sshd"},          {"pid", "4242"},
        {"user", "admin"},         {"src_ip", "203.0.113.77"}, {"src_port", "40112"},
        {"auth_method", "password"}, {"invalid_user", "true"},
        {"kind", "sshd:failed_password"}, {"outcome", "failure"},
    };
    for (size_t i = 0; root && i < KB_ARRAY_LEN(want); i++) {
        struct kb_str s = json_str(json_get(root, want[i][0]));
        T_CHECKF(s.p && s.n == strlen(want[i][1]) && memcmp(s.p, want[i][1], s.n) == 0,
                 "%s: %.*s", want[i][0], (int)s.n, s.p ? s.p : "(absent)");
    }
    buf_reset(&b);
    T_EQ_INT(rule_tests_text_event("cloudtrail", "x", 1, 0, &b, &why), KB_EINVAL);
    T_EQ_INT(rule_tests_text_event("syslog", "   ", 3, 0, &b, &why), KB_EINVAL);
    arena_release(&a);
    buf_release(&b);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_paths(void)
{
    char dir[] = "/tmp/koban-rt-XXXXXX";
    T_CHECK(mkdtemp(dir) != NULL);
    char p[256];
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/.hidden", dir);
    mkdir(p, 0700);
    const char *names[] = {"b.yml", "a.yaml", "c.txt", "sub/z.yml", ".hidden/h.yml", "sub/a.yml"};
    for (size_t i = 0; i < KB_ARRAY_LEN(names); i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        write_file(p, "title: x\n");
    }
    static const char *const exts[] = {".yml", ".yaml", NULL};
    char **files = NULL;
    size_t n = 0;
    struct kb_why why = {{0}};
    snprintf(p, sizeof p, "%s/c.txt", dir); /* a file named directly is kept */
    const char *args[] = {dir, p};
    T_EQ_INT(rule_tests_paths(args, 2, exts, &files, &n, &why), KB_OK);
    static const char *const want[] = {"a.yaml", "b.yml", "sub/a.yml", "sub/z.yml", "c.txt"};
    T_EQ_INT(n, KB_ARRAY_LEN(want));
    for (size_t i = 0; i < n && i < KB_ARRAY_LEN(want); i++) {
        char w[256];
        snprintf(w, sizeof w, "%s/%s", dir, want[i]);
        T_EQ_STR(files[i], w);
    }
    const char *missing[] = {"/nonexistent/koban-rules"};
    T_EQ_INT(rule_tests_paths(missing, 1, exts, &files, &n, &why), KB_EIO);
    T_CHECKF(strstr(why.msg, "/nonexistent/koban-rules") != NULL, "%s", why.msg);
    for (size_t i = 0; i < n; i++)
        remove(files[i]);
    rule_tests_paths_free(files, n);
    snprintf(p, sizeof p, "%s/.hidden/h.yml", dir);
    remove(p);
    snprintf(p, sizeof p, "%s/.hidden", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/sub", dir);
    rmdir(p);
    rmdir(dir);
}

/* ---- the final severity ---- */

static const char *const gd_rule =
    "title: exfil\n"
    "id: gd-exfil-1\n"
    "logsource: {product: aws, service: guardduty}\n"
    "detection:\n"
    "  sel: {type|startswith: 'UnauthorizedAccess:'}\n"
    "  condition: sel\n"
    "level: medium\n"
    "tests:\n"
    "  - event: {schemaVersion: '2.0', accountId: '1', id: f-1, severity: 5,\n"
    "            type: 'UnauthorizedAccess:IAMUser/X', title: '[SAMPLE] x',\n"
    "            service: {serviceName: guardduty, additionalInfo: {sample: true}}}\n"
    "    match: true\n"
    "  - event: {schemaVersion: '2.0', accountId: '1', id: f-2, severity: 8,\n"
    "            type: 'UnauthorizedAccess:IAMUser/X', title: x,\n"
    "            service: {serviceName: guardduty}}\n"
    "    match: true\n"
    "  - event: {type: 'UnauthorizedAccess:IAMUser/X', id: f-3}\n"
    "    match: true\n";

struct fixture {
    struct sigma_ruleset *rs;
    struct rule_tests t;
};

static void fixture_load(struct fixture *f, const char *yaml)
{
    struct kb_why why = {{0}};
    memset(f, 0, sizeof *f);
    T_EQ_INT(sigma_ruleset_new(NULL, &f->rs, &why), KB_OK);
    T_EQ_INT(sigma_load_buffer(yaml, strlen(yaml), "r.yml", f->rs, NULL, &why), KB_OK);
    T_EQ_INT(rule_tests_load_buffer(yaml, strlen(yaml), "r.yml", &f->t, &why), KB_OK);
}

static void fixture_release(struct fixture *f)
{
    rule_tests_release(&f->t);
    sigma_ruleset_free(f->rs);
}

static struct policy_set *policies(bool stock, const char *dir)
{
    struct policy_set *ps = NULL;
    struct kb_why why = {{0}};
    size_t nerr = 99;
    T_EQ_INT(policy_set_new(&ps, &why), KB_OK);
    T_EQ_INT(rule_tests_load_policies(ps, stock, dir ? &dir : NULL, dir ? 1 : 0, NULL, NULL,
                                      &nerr, &why),
             KB_OK);
    T_EQ_INT(nerr, 0);
    return ps;
}

/* A GuardDuty rule at medium: the stock bands set the finding's severity,
 * the sample-findings policy lowers a sample to none. */
static void test_outcome_stock(void)
{
    struct fixture f;
    fixture_load(&f, gd_rule);
    struct policy_set *ps = policies(true, NULL);
    T_CHECK(policy_set_count(ps) > 10);
    const struct sigma_rule *r = sigma_ruleset_rule(f.rs, 0);
    struct rule_tests_outcome o;
    struct kb_why why = {{0}};
    T_EQ_INT(f.t.n, 3);
    if (!r || f.t.n != 3)
        goto out;
    T_EQ_INT(rule_tests_outcome(ps, r, &f.t.v[0], &o, &why), KB_OK);
    T_EQ_STR(o.source, "guardduty");
    T_EQ_INT(o.rule_severity, KB_SEV_MEDIUM);
    T_EQ_INT(o.severity, KB_SEV_NONE);
    T_EQ_INT(o.napplied, 2);
    T_EQ_INT(o.nmatched, 2);
    if (o.napplied == 2) {
        T_EQ_STR(o.applied[0].id, "guardduty-severity-bands");
        T_EQ_INT(o.applied[0].severity, KB_SEV_MEDIUM);
        T_EQ_STR(o.applied[1].id, "guardduty-sample-findings");
        T_EQ_INT(o.applied[1].severity, KB_SEV_NONE);
    }
    T_CHECK(o.mute_policy == NULL && o.close_policy == NULL);

    T_EQ_INT(rule_tests_outcome(ps, r, &f.t.v[1], &o, &why), KB_OK);
    T_EQ_INT(o.severity, KB_SEV_HIGH); /* 8.0 is high in AWS's bands */
    T_EQ_INT(o.napplied, 1);

    /* no policies: the rule's level is the severity */
    T_EQ_INT(rule_tests_outcome(NULL, r, &f.t.v[0], &o, &why), KB_OK);
    T_EQ_INT(o.severity, KB_SEV_MEDIUM);
    T_EQ_INT(o.napplied, 0);
    struct policy_set *none = policies(false, NULL);
    T_EQ_INT(rule_tests_outcome(none, r, &f.t.v[0], &o, &why), KB_OK);
    T_EQ_INT(o.severity, KB_SEV_MEDIUM);
    policy_set_free(none);

    /* a finding GuardDuty's normalizer refuses (no severity) says so */
    T_EQ_INT(rule_tests_outcome(ps, r, &f.t.v[2], &o, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "guardduty") && strstr(why.msg, "severity"), "%s", why.msg);
out:
    policy_set_free(ps);
    fixture_release(&f);
}

/* first_only acts on repeats; every test is a first occurrence, however
 * often it runs. */
static void test_outcome_is_stateless(void)
{
    struct fixture f;
    fixture_load(&f, "title: probe\n"
                     "id: 'Recon:probe-rule'\n" /* the stock recon policy reads kind */
                     "logsource: {product: aws, service: guardduty}\n"
                     "detection: {sel: {type|startswith: 'Recon:'}, condition: sel}\n"
                     "level: high\n"
                     "tests:\n"
                     "  - event: {schemaVersion: '2.0', accountId: '1', id: f-1, severity: 8,\n"
                     "            type: 'Recon:EC2/PortProbeUnprotectedPort',\n"
                     "            service: {serviceName: guardduty}}\n"
                     "    match: true\n");
    struct policy_set *ps = policies(true, NULL);
    const struct sigma_rule *r = sigma_ruleset_rule(f.rs, 0);
    T_EQ_INT(f.t.n, 1);
    for (int i = 0; r && f.t.n == 1 && i < 3; i++) {
        struct rule_tests_outcome o;
        struct kb_why why = {{0}};
        T_EQ_INT(rule_tests_outcome(ps, r, &f.t.v[0], &o, &why), KB_OK);
        T_EQ_INT(o.severity, KB_SEV_HIGH);
        T_EQ_INT(o.napplied, 2);
        if (o.napplied == 2)
            T_EQ_STR(o.applied[1].id, "guardduty-recon-repeats");
    }
    policy_set_free(ps);
    fixture_release(&f);
}

/* A folder of user policies loads after the stock ones: it raises the
 * GuardDuty rule's alert, and lowers and mutes the alert of a raw line. */
static void test_outcome_user_policies(void)
{
    char dir[] = "/tmp/koban-rtp-XXXXXX";
    T_CHECK(mkdtemp(dir) != NULL);
    char p[256];
    snprintf(p, sizeof p, "%s/50-local.yml", dir);
    write_file(p, "id: exfil-raise\n"
                  "source: guardduty\n"
                  "detection: {sel: {rule.id: gd-exfil-1}, condition: sel}\n"
                  "severity: {raise: 1}\n"
                  "---\n"
                  "id: ssh-office\n"
                  "source: syslog\n"
                  "detection: {sel: {rule.id: ssh-1, host: office-gw}, condition: sel}\n"
                  "severity: low\n"
                  "mute: {reason: the office gateway}\n");
    struct policy_set *ps = policies(true, dir);
    struct fixture f;
    fixture_load(&f, gd_rule);
    const struct sigma_rule *r = sigma_ruleset_rule(f.rs, 0);
    struct rule_tests_outcome o;
    struct kb_why why = {{0}};
    if (r && f.t.n == 3) {
        T_EQ_INT(rule_tests_outcome(ps, r, &f.t.v[1], &o, &why), KB_OK);
        T_EQ_INT(o.severity, KB_SEV_CRITICAL);
        T_EQ_INT(o.napplied, 2);
        if (o.napplied == 2)
            T_EQ_STR(o.applied[1].id, "exfil-raise");
    }
    fixture_release(&f);
    fixture_load(&f, "title: ssh\n"
                     "id: ssh-1\n"
                     "logsource: {product: linux, service: sshd}\n"
                     "detection: {sel: {user: root}, condition: sel}\n"
                     "level: high\n"
                     "tests:\n"
                     "  - raw: 'Mar  3 10:00:01 office-gw sshd[1]: Failed password for root from "
                     "192.0.2.1 port 22 ssh2'\n"
                     "    match: true\n");
    r = sigma_ruleset_rule(f.rs, 0);
    if (r && f.t.n == 1) {
        T_EQ_INT(rule_tests_outcome(ps, r, &f.t.v[0], &o, &why), KB_OK);
        T_EQ_STR(o.source, "syslog");
        T_EQ_INT(o.rule_severity, KB_SEV_HIGH);
        T_EQ_INT(o.severity, KB_SEV_LOW);
        T_CHECK(o.mute_policy && strcmp(o.mute_policy, "ssh-office") == 0);
    }
    fixture_release(&f);
    policy_set_free(ps);
    remove(p);
    rmdir(dir);
}

struct errs {
    char msg[4][300];
    size_t n;
};

static void collect_err(void *ctx, const char *msg)
{
    struct errs *e = ctx;
    if (e->n < KB_ARRAY_LEN(e->msg))
        snprintf(e->msg[e->n], sizeof e->msg[0], "%s", msg);
    e->n++;
}

/* A policy that does not load is an error with FILE:LINE, never skipped;
 * the good ones beside it load. */
static void test_policy_load_errors(void)
{
    char dir[] = "/tmp/koban-rtp-XXXXXX";
    T_CHECK(mkdtemp(dir) != NULL);
    char bad[256], good[256];
    snprintf(bad, sizeof bad, "%s/10-bad.yml", dir);
    snprintf(good, sizeof good, "%s/20-good.yml", dir);
    write_file(bad, "id: fine\nseverity: low\n---\nid: broken\nseverity: urgent\n");
    write_file(good, "id: also-fine\nseverity: {raise: 1}\n");
    struct policy_set *ps = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(policy_set_new(&ps, &why), KB_OK);
    const char *dirs[] = {dir, "/nonexistent/koban-policies"};
    struct errs e = {0};
    size_t n = 0;
    T_CHECK(rule_tests_load_policies(ps, false, dirs, 2, collect_err, &e, &n, &why) != KB_OK);
    T_EQ_INT(n, 2);
    T_EQ_INT(e.n, 2);
    char want[300];
    snprintf(want, sizeof want, "%s:5: policy 'broken': severity:", bad);
    T_CHECKF(strncmp(e.msg[0], want, strlen(want)) == 0, "%s", e.msg[0]);
    T_CHECKF(strncmp(why.msg, want, strlen(want)) == 0, "why: %s", why.msg);
    T_CHECKF(strstr(e.msg[1], "/nonexistent/koban-policies") != NULL, "%s", e.msg[1]);
    T_EQ_INT(policy_set_count(ps), 2);
    T_CHECK(policy_set_find(ps, "fine") && policy_set_find(ps, "also-fine"));
    /* the number of folders is bounded */
    const char *many[RULE_TESTS_MAX_POLICY_DIRS + 1];
    for (size_t i = 0; i < KB_ARRAY_LEN(many); i++)
        many[i] = dir;
    T_EQ_INT(rule_tests_load_policies(ps, false, many, KB_ARRAY_LEN(many), NULL, NULL, &n, &why),
             KB_ETOOBIG);
    policy_set_free(ps);
    remove(bad);
    remove(good);
    rmdir(dir);
}

/* ---- the explanation ---- */

static const char *const explain_rule =
    "title: explain me\n"
    "id: e-1\n"
    "detection:\n"
    "  sel:\n"
    "    eventName|startswith: Stop\n"
    "    user.name: [alice, bob]\n"
    "  alts:\n"
    "    - {region: eu-west-1}\n"
    "    - {region|re: '^us-'}\n"
    "  filter:\n"
    "    errorCode|exists: true\n"
    "  condition: (sel or alts) and not filter\n";

static char *explain_json(const struct sigma_rule *r, const char *json, bool *matched)
{
    struct arena a = ARENA_INIT(1 << 20);
    struct json_value *root = NULL;
    struct buf out = BUF_INIT(1 << 16);
    if (json_parse(json, strlen(json), NULL, &a, &root, NULL) == KB_OK) {
        struct sigma_event ev = {root, json, strlen(json)};
        bool engine = false;
        sigma_match(r, &ev, &engine);
        T_EQ_INT(sigma_explain(r, &ev, "> ", &out, matched), KB_OK);
        T_EQ_INT(*matched, engine); /* the trace's verdict is the engine's */
    }
    arena_release(&a);
    return buf_take(&out, NULL);
}

static void check_trace(const char *trace, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        T_CHECKF(strstr(trace, want[i]) != NULL, "missing \"%s\" in:\n%s", want[i], trace);
}

static void test_explain_from_file(void)
{
    char path[] = "/tmp/koban-explain-XXXXXX";
    int fd = mkstemp(path);
    T_CHECK(fd >= 0);
    if (fd < 0)
        return;
    T_EQ_INT(write(fd, explain_rule, strlen(explain_rule)), (long long)strlen(explain_rule));
    close(fd);
    struct sigma_ruleset *rs = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(sigma_ruleset_new(NULL, &rs, &why), KB_OK);
    T_EQ_INT(sigma_load_file(path, rs, NULL, &why), KB_OK);
    const struct sigma_rule *r = sigma_ruleset_rule(rs, 0);
    bool m = true;
    char *t = explain_json(r, "{\"eventName\":\"StopLogging\",\"user\":{\"name\":\"carol\"},"
                              "\"region\":\"ap-south-1\"}", &m);
    T_CHECK(!m);
    static const char *const want1[] = {
        "> sel: no match\n",
        ">   yes  eventName|startswith: found \"StopLogging\"; wanted \"Stop\"\n",
        ">   no   user.name: found \"carol\"; wanted \"alice\", \"bob\"\n",
        "> alts: no match (any of 2 alternatives)\n",
        ">   alternative 2: no match\n",
        ">     no   region|re: found \"ap-south-1\"; wanted \"^us-\"\n",
        "> filter: no match\n",
        ">   no   errorCode|exists: found nothing (the field is absent); wanted true\n",
        "> condition: (sel or alts) and not filter -> no match\n",
    };
    check_trace(t, want1, KB_ARRAY_LEN(want1));
    free(t);
    t = explain_json(r, "{\"eventName\":\"Get\",\"region\":\"us-east-1\",\"user\":{\"name\":[\"x\",\"bob\"]}}",
                     &m);
    T_CHECK(m);
    static const char *const want2[] = {
        ">   yes  user.name: found [\"x\", \"bob\"]; wanted \"alice\", \"bob\"\n",
        ">     yes  region|re: found \"us-east-1\"; wanted \"^us-\"\n",
        "> condition: (sel or alts) and not filter -> match\n",
    };
    check_trace(t, want2, KB_ARRAY_LEN(want2));
    free(t);
    sigma_ruleset_free(rs);
    remove(path);
}

/* Without the file (loaded from memory), keys and values come from the
 * compiled rule. */
static void test_explain_without_file(void)
{
    struct sigma_ruleset *rs = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(sigma_ruleset_new(NULL, &rs, &why), KB_OK);
    T_EQ_INT(sigma_load_buffer(explain_rule, strlen(explain_rule), "/nonexistent/x.yml", rs,
                               NULL, &why),
             KB_OK);
    bool m = false;
    char *t = explain_json(sigma_ruleset_rule(rs, 0),
                           "{\"eventName\":\"stopit\",\"user\":{\"name\":\"Alice\"},"
                           "\"errorCode\":\"Denied\"}",
                           &m);
    T_CHECK(!m);
    static const char *const want[] = {
        ">   yes  eventName: found \"stopit\"; wanted startswith \"stop\"\n",
        ">   yes  user.name: found \"Alice\"; wanted \"alice\", \"bob\"\n",
        ">     no   region: found nothing (the field is absent); wanted (a regular expression)\n",
        ">   yes  errorCode: found \"Denied\"; wanted present\n",
        "> condition: (sel or alts) and not filter -> no match\n",
    };
    check_trace(t, want, KB_ARRAY_LEN(want));
    free(t);
    sigma_ruleset_free(rs);
}

int main(void)
{
    T_RUN(test_mapping_event_becomes_json);
    T_RUN(test_json_text_and_raw);
    T_RUN(test_severity_keys);
    T_RUN(test_errors_name_file_and_line);
    T_RUN(test_outcome_stock);
    T_RUN(test_outcome_is_stateless);
    T_RUN(test_outcome_user_policies);
    T_RUN(test_policy_load_errors);
    T_RUN(test_documents_and_syntax);
    T_RUN(test_text_event);
    T_RUN(test_paths);
    T_RUN(test_explain_from_file);
    T_RUN(test_explain_without_file);
    return t_done();
}
