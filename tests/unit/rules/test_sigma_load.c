/*
 * test_sigma_load.c — loading rules: metadata, levels, errors that name
 * file, line and key, bad documents beside good ones, correlation
 * documents, logsource and field mapping (defaults and caller tables), and
 * sigma_match_all's source filter.
 */
#include "formats/alert.h"
#include "test_sigma_util.h"

static const char *const two_good_one_bad =
    "title: first\n"
    "id: 11111111-0000-4000-8000-000000000001\n"
    "name: first_rule\n"
    "status: test\n"
    "description: the first\n"
    "level: high\n"
    "logsource: {product: aws, service: cloudtrail}\n"
    "tags: [attack.t1078, attack.persistence]\n"
    "falsepositives: [admins]\n"
    "fields: [eventName]\n"
    "my_custom_attribute: kept aside\n"
    "detection:\n"
    "  sel: {eventName: DeleteTrail}\n"
    "  condition: sel\n"
    "---\n"
    "title: broken\n"
    "detection:\n"
    "  sel:\n"
    "    eventName|foo: x\n"
    "  condition: sel\n"
    "---\n"
    "title: third\n"
    "level: informational\n"
    "logsource: {product: gcp, service: gcp.audit}\n"
    "detection:\n"
    "  sel: {gcp.audit.method_name: SetIamPolicy}\n"
    "  condition: sel\n";

static void test_metadata_and_partial_load(void)
{
    struct sigma_ruleset *rs = NULL;
    struct kb_why why = {{0}};
    size_t n = 0;
    T_CHECK(sigma_ruleset_new(NULL, &rs, &why) == KB_OK);
    T_EQ_INT(sigma_load_buffer(two_good_one_bad, strlen(two_good_one_bad), "rules/x.yml", rs, &n,
                               &why),
             KB_EINVAL);
    T_EQ_STR(why.msg, "rules/x.yml:19: detection.sel.eventName|foo: unknown modifier 'foo'");
    T_EQ_INT(n, 2);
    T_EQ_INT(sigma_ruleset_count(rs), 2);
    T_EQ_INT(sigma_ruleset_nerrors(rs), 1);
    T_EQ_STR(sigma_ruleset_error(rs, 0), why.msg);
    const struct sigma_rule *r = sigma_ruleset_rule(rs, 0);
    T_EQ_STR(sigma_rule_title(r), "first");
    T_EQ_STR(sigma_rule_id(r), "11111111-0000-4000-8000-000000000001");
    T_EQ_STR(sigma_rule_name(r), "first_rule");
    T_EQ_STR(sigma_rule_status(r), "test");
    T_EQ_STR(sigma_rule_description(r), "the first");
    T_EQ_STR(sigma_rule_level(r), "high");
    T_EQ_INT(sigma_rule_severity(r), KB_SEV_HIGH);
    T_EQ_STR(sigma_rule_product(r), "aws");
    T_EQ_STR(sigma_rule_service(r), "cloudtrail");
    T_CHECK(sigma_rule_category(r) == NULL);
    T_EQ_STR(sigma_rule_source(r), "cloudtrail");
    T_EQ_STR(sigma_rule_file(r), "rules/x.yml");
    T_EQ_INT(sigma_rule_line(r), 1);
    size_t k = 0;
    const char *const *tags = sigma_rule_tags(r, &k);
    T_EQ_INT(k, 2);
    T_EQ_STR(tags[1], "attack.persistence");
    T_EQ_STR(sigma_rule_falsepositives(r, &k)[0], "admins");
    T_EQ_STR(sigma_rule_fields(r, &k)[0], "eventName");
    const struct sigma_rule *third = sigma_ruleset_rule(rs, 1);
    T_EQ_STR(sigma_rule_title(third), "third");
    T_EQ_INT(sigma_rule_line(third), 22);
    T_EQ_INT(sigma_rule_severity(third), KB_SEV_NONE);
    T_EQ_STR(sigma_rule_source(third), "gcp_audit");
    T_CHECK(sigma_ruleset_find(rs, "first_rule") == r);
    T_CHECK(sigma_ruleset_find(rs, "11111111-0000-4000-8000-000000000001") == r);
    T_CHECK(sigma_ruleset_find(rs, "nope") == NULL);
    T_CHECK(sigma_ruleset_rule(rs, 2) == NULL);
    sigma_ruleset_free(rs);
}

static void test_levels(void)
{
    static const struct {
        const char *level;
        int sev;
    } cases[] = {{"informational", KB_SEV_NONE}, {"low", KB_SEV_LOW}, {"medium", KB_SEV_MEDIUM},
                 {"high", KB_SEV_HIGH}, {"Critical", KB_SEV_CRITICAL}};
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        int sev = -1;
        T_EQ_INT(sigma_level_severity(cases[i].level, &sev), KB_OK);
        T_EQ_INT(sev, cases[i].sev);
    }
    int sev;
    T_EQ_INT(sigma_level_severity("urgent", &sev), KB_EINVAL);
    char err[256];
    su_load_error("title: t\nlevel: urgent\ndetection: {s: {a: 1}, condition: s}\n", err,
                  sizeof err);
    T_CHECK(strstr(err, "t.yml:2: level: unknown level 'urgent'") == err);
    /* an absent level is medium */
    struct sigma_ruleset *rs = su_load("title: t\ndetection: {s: {a: 1}, condition: s}\n", NULL);
    T_CHECK(rs && sigma_rule_severity(sigma_ruleset_rule(rs, 0)) == KB_SEV_MEDIUM);
    sigma_ruleset_free(rs);
}

static void test_errors_name_file_line_key(void)
{
    static const struct {
        const char *yaml, *msg;
    } cases[] = {
        {"detection: {s: {a: 1}, condition: s}\n", "t.yml:1: title: missing"},
        {"title: t\n", "t.yml:1: detection: missing"},
        {"title: t\ndetection: [1]\n", "t.yml:2: detection: expected a mapping"},
        {"title: [x]\ndetection: {s: {a: 1}, condition: s}\n", "t.yml:1: title: expected a string"},
        {"title: t\nlogsource: x\ndetection: {s: {a: 1}, condition: s}\n",
         "t.yml:2: logsource: expected a mapping"},
        {"title: t\ndetection:\n  s:\n    a|contains|startswith: x\n  condition: s\n",
         "t.yml:4: detection.s.a|contains|startswith: 'startswith' after another"},
        {"title: t\ndetection:\n  s:\n    a|i: x\n  condition: s\n",
         "t.yml:4: detection.s.a|i: i, m and s only go with re"},
        {"title: t\ndetection:\n  s:\n    a|exists: maybe\n  condition: s\n",
         "t.yml:4: detection.s.a|exists: exists takes true or false"},
        {"title: t\ndetection:\n  s:\n    a|gt: ten\n  condition: s\n",
         "t.yml:4: detection.s.a|gt: 'ten' is not a number"},
        {"title: t\ndetection:\n  s:\n    a: []\n  condition: s\n",
         "t.yml:4: detection.s.a: empty list of values"},
        {"title: t\ndetection:\n  s:\n    a:\n      - {b: 1}\n  condition: s\n",
         "t.yml:5: detection.s.a: expected a value or a list of values"},
        {"title: t\ndetection:\n  s:\n    a|contains: null\n  condition: s\n",
         "t.yml:4: detection.s.a|contains: null takes no modifier but neq"},
        {"title: t\nfoo: [unclosed\n", "t.yml:3: YAML:"},
        {"- just\n- a list\n", "t.yml:1: (document): expected a mapping"},
        {"title: t\naction: global\ndetection: {s: {a: 1}, condition: s}\n",
         "t.yml:2: action: Sigma v1 rule collections"},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        char err[256];
        su_load_error(cases[i].yaml, err, sizeof err);
        T_CHECKF(strncmp(err, cases[i].msg, strlen(cases[i].msg)) == 0, "case %zu: got '%s'", i,
                 err);
    }
}

static void test_every_error_reported(void)
{
    const char *yaml = "title: a\ndetection: {s: {x|bad1: 1}, condition: s}\n---\n"
                       "title: b\ndetection: {s: {x: 1}, condition: s}\n---\n"
                       "title: c\ndetection: {s: {x|bad2: 1}, condition: s}\n";
    struct sigma_ruleset *rs = NULL;
    struct kb_why why = {{0}};
    size_t n = 0;
    T_CHECK(sigma_ruleset_new(NULL, &rs, NULL) == KB_OK);
    T_EQ_INT(sigma_load_buffer(yaml, strlen(yaml), "m.yml", rs, &n, &why), KB_EINVAL);
    T_EQ_INT(n, 1);
    T_EQ_INT(sigma_ruleset_nerrors(rs), 2);
    T_CHECK(strstr(sigma_ruleset_error(rs, 0), "m.yml:2: detection.s.x|bad1") != NULL);
    T_CHECK(strstr(sigma_ruleset_error(rs, 1), "m.yml:8: detection.s.x|bad2") != NULL);
    T_CHECK(strstr(why.msg, "and more errors") != NULL);
    sigma_ruleset_free(rs);
}

static void test_load_file(void)
{
    char path[] = "/tmp/koban_sigma_XXXXXX";
    int fd = mkstemp(path);
    T_CHECK(fd >= 0);
    if (fd < 0)
        return;
    T_CHECK(write(fd, two_good_one_bad, strlen(two_good_one_bad)) ==
            (ssize_t)strlen(two_good_one_bad));
    close(fd);
    struct sigma_ruleset *rs = NULL;
    struct kb_why why = {{0}};
    size_t n = 0;
    T_CHECK(sigma_ruleset_new(NULL, &rs, NULL) == KB_OK);
    T_EQ_INT(sigma_load_file(path, rs, &n, &why), KB_EINVAL);
    T_EQ_INT(n, 2);
    T_CHECK(strncmp(why.msg, path, strlen(path)) == 0);
    T_EQ_INT(sigma_load_file("/nonexistent/koban.yml", rs, &n, &why), KB_EIO);
    T_EQ_INT(n, 0);
    T_CHECK(strstr(why.msg, "/nonexistent/koban.yml") != NULL);
    unlink(path);
    sigma_ruleset_free(rs);
}

static void test_correlation_documents(void)
{
    const char *yaml = "title: brute force\nname: bf\ncorrelation:\n  type: event_count\n"
                       "  rules: [failed]\n  group-by: [src_ip]\n  timespan: 5m\n"
                       "  condition: {gte: 10}\n---\n"
                       "title: failed\nname: failed\ndetection:\n"
                       "  s: {message|startswith: 'Failed password'}\n  condition: s\n";
    struct sigma_ruleset *rs = su_load(yaml, NULL);
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    T_EQ_INT(sigma_ruleset_count(rs), 1);
    T_EQ_INT(sigma_ruleset_ncorrelations(rs), 1);
    T_CHECK(sigma_ruleset_correlations(rs)[0] != NULL);
    /* a rule without logsource runs for every source */
    T_EQ_STR(sigma_rule_source(sigma_ruleset_rule(rs, 0)), "*");
    sigma_ruleset_free(rs);
    char err[256];
    su_load_error("title: c\ncorrelation:\n  type: nope\n", err, sizeof err);
    T_CHECK(strncmp(err, "t.yml:", 6) == 0 && strstr(err, "correlation") != NULL);
}

static void test_logsource_mapping(void)
{
    struct sigma_ruleset *rs = NULL;
    T_CHECK(sigma_ruleset_new(NULL, &rs, NULL) == KB_OK);
    T_EQ_STR(sigma_logsource_source(rs, "aws", "cloudtrail", NULL), "cloudtrail");
    T_EQ_STR(sigma_logsource_source(rs, "AWS", "CloudTrail", NULL), "cloudtrail");
    T_EQ_STR(sigma_logsource_source(rs, "gcp", "gcp.audit", NULL), "gcp_audit");
    T_EQ_STR(sigma_logsource_source(rs, "linux", "sshd", NULL), "syslog");
    T_EQ_STR(sigma_logsource_source(rs, "linux", "auditd", NULL), "syslog");
    T_EQ_STR(sigma_logsource_source(rs, "linux", NULL, "process_creation"), "syslog");
    T_EQ_STR(sigma_logsource_source(rs, "koban", "wazuh", NULL), "wazuh");
    T_CHECK(sigma_logsource_source(rs, "windows", "security", NULL) == NULL);
    T_CHECK(sigma_logsource_source(rs, "azure", "activitylogs", NULL) == NULL);
    sigma_ruleset_free(rs);
    /* caller rows come first; without defaults only they count */
    struct sigma_logsource_map mine[] = {{"windows", NULL, NULL, "wazuh"},
                                         {"linux", "sshd", NULL, NULL}};
    struct sigma_options opt = {.logsources = mine, .nlogsources = 2};
    T_CHECK(sigma_ruleset_new(&opt, &rs, NULL) == KB_OK);
    T_EQ_STR(sigma_logsource_source(rs, "windows", "security", NULL), "wazuh");
    T_CHECK(sigma_logsource_source(rs, "linux", "sshd", NULL) == NULL); /* mapped to none */
    T_EQ_STR(sigma_logsource_source(rs, "linux", "auditd", NULL), "syslog");
    sigma_ruleset_free(rs);
    opt.no_default_logsources = true;
    T_CHECK(sigma_ruleset_new(&opt, &rs, NULL) == KB_OK);
    T_CHECK(sigma_logsource_source(rs, "aws", "cloudtrail", NULL) == NULL);
    sigma_ruleset_free(rs);
}

static void test_field_mapping(void)
{
    const char *gcp = "title: g\nlogsource: {product: gcp, service: gcp.audit}\ndetection:\n"
                      "  s:\n    gcp.audit.method_name: SetIamPolicy\n"
                      "    data.protoPayload.serviceName: iam.googleapis.com\n  condition: s\n";
    const char *ev = "{\"protoPayload\":{\"methodName\":\"SetIamPolicy\","
                     "\"serviceName\":\"iam.googleapis.com\"}}";
    T_EQ_INT(su_match(gcp, ev), 1);
    /* the name as written still wins when the event has it */
    T_EQ_INT(su_match(gcp, "{\"gcp.audit.method_name\":\"SetIamPolicy\",\"data\":"
                           "{\"protoPayload\":{\"serviceName\":\"iam.googleapis.com\"}}}"),
             1);
    T_EQ_INT(su_match(gcp, "{\"protoPayload\":{\"methodName\":\"Other\"}}"), 0);
    /* the same rule under another logsource gets no GCP mapping */
    const char *aws = "title: g\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n"
                      "  s: {gcp.audit.method_name: SetIamPolicy}\n  condition: s\n";
    T_EQ_INT(su_match(aws, ev), 0);
    /* caller mappings */
    struct sigma_field_map mine[] = {{"cloudtrail", "user", "userIdentity.userName"}};
    struct sigma_options opt = {.fields = mine, .nfields = 1};
    struct sigma_ruleset *rs = su_load("title: u\nlogsource: {product: aws, service: cloudtrail}\n"
                                       "detection: {s: {user: alice}, condition: s}\n",
                                       &opt);
    T_CHECK(rs != NULL);
    if (rs) {
        T_EQ_INT(su_match_rule(sigma_ruleset_rule(rs, 0),
                               "{\"userIdentity\":{\"userName\":\"Alice\"}}"),
                 1);
        sigma_ruleset_free(rs);
    }
}

static kb_err collect(void *ctx, const struct sigma_rule *r, const struct sigma_event *ev)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s;", sigma_rule_title(r));
    return KB_OK;
}

static kb_err stop(void *ctx, const struct sigma_rule *r, const struct sigma_event *ev)
{
    return KB_ECLOSED;
}

static void test_match_all_by_source(void)
{
    const char *yaml =
        "title: aws\nlogsource: {product: aws, service: cloudtrail}\n"
        "detection: {s: {x: 1}, condition: s}\n---\n"
        "title: gcp\nlogsource: {product: gcp, service: gcp.audit}\n"
        "detection: {s: {x: 1}, condition: s}\n---\n"
        "title: any\ndetection: {s: {x: 1}, condition: s}\n---\n"
        "title: win\nlogsource: {product: windows}\ndetection: {s: {x: 1}, condition: s}\n";
    struct sigma_ruleset *rs = su_load(yaml, NULL);
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    const char *json = "{\"x\":1}";
    struct arena a = ARENA_INIT(1 << 20);
    struct json_value *root = NULL;
    T_CHECK(json_parse(json, strlen(json), NULL, &a, &root, NULL) == KB_OK);
    struct sigma_event ev = {root, json, strlen(json)};
    char got[256] = "";
    T_EQ_INT(sigma_match_all(rs, "cloudtrail", &ev, collect, got), KB_OK);
    T_EQ_STR(got, "aws;any;");
    got[0] = '\0';
    sigma_match_all(rs, "gcp_audit", &ev, collect, got);
    T_EQ_STR(got, "gcp;any;");
    got[0] = '\0';
    sigma_match_all(rs, NULL, &ev, collect, got);
    T_EQ_STR(got, "aws;gcp;any;win;");
    T_EQ_INT(sigma_match_all(rs, "cloudtrail", &ev, stop, NULL), KB_ECLOSED);
    struct sigma_stats st;
    sigma_ruleset_stats(rs, &st);
    T_CHECK(st.evaluated >= 9 && st.matched >= 9);
    arena_release(&a);
    sigma_ruleset_free(rs);
}

static void test_bad_options(void)
{
    struct sigma_field_map bad[] = {{"cloudtrail", NULL, "x"}};
    struct sigma_options opt = {.fields = bad, .nfields = 1};
    struct sigma_ruleset *rs = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(sigma_ruleset_new(&opt, &rs, &why), KB_EINVAL);
    T_CHECK(rs == NULL);
    T_CHECK(strstr(why.msg, "field map row 0") != NULL);
}

int main(void)
{
    T_RUN(test_metadata_and_partial_load);
    T_RUN(test_levels);
    T_RUN(test_errors_name_file_line_key);
    T_RUN(test_every_error_reported);
    T_RUN(test_load_file);
    T_RUN(test_correlation_documents);
    T_RUN(test_logsource_mapping);
    T_RUN(test_field_mapping);
    T_RUN(test_match_all_by_source);
    T_RUN(test_bad_options);
    return t_done();
}
