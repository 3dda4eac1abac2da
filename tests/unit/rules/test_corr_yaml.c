/* Tests for corr_rule_from_yaml: the fields of a correlation rule, and
 * errors that name the file, the line and the key. */
#include "rules/correlate.h"
#include "test.h"

#include <yaml.h>

/* Parses the first document of text and builds a correlation rule from it. */
static kb_err parse(const char *text, struct corr_rule **out, struct kb_why *why)
{
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&p, &doc)) {
        yaml_parser_delete(&p);
        return KB_EPARSE;
    }
    kb_err err = corr_rule_from_yaml(&doc, yaml_document_get_root_node(&doc), "t.yml", out, why);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return err;
}

/* Expects parsing to fail with a message starting with `want`. */
static void expect_error(const char *text, const char *want)
{
    struct corr_rule *r = NULL;
    struct kb_why why = {{0}};
    kb_err err = parse(text, &r, &why);
    T_CHECKF(err != KB_OK, "no error for: %s", text);
    T_CHECK(r == NULL);
    T_CHECKF(strncmp(why.msg, want, strlen(want)) == 0, "got \"%s\", want \"%s...\"", why.msg,
             want);
    corr_rule_free(r);
}

static void test_event_count_fields(void)
{
    const char *y = "title: Many failures\n"
                    "id: 0e95725d-7320-415d-80f7-004da920fc11\n"
                    "name: many_failures\n"
                    "status: experimental\n"
                    "level: high\n"
                    "correlation:\n"
                    "    type: event_count\n"
                    "    rules:\n"
                    "        - failed_login\n"
                    "        - 5638f7c0-ac70-491d-8465-2a65075e0d86\n"
                    "    group-by:\n"
                    "        - ComputerName\n"
                    "        - User\n"
                    "    timespan: 1h\n"
                    "    condition:\n"
                    "        gte: 100\n";
    struct corr_rule *r = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(y, &r, &why), KB_OK);
    if (!r)
        return;
    T_EQ_STR(r->title, "Many failures");
    T_EQ_STR(r->id, "0e95725d-7320-415d-80f7-004da920fc11");
    T_EQ_STR(r->name, "many_failures");
    T_EQ_STR(r->status, "experimental");
    T_EQ_STR(r->level, "high");
    T_EQ_INT(r->type, CORR_EVENT_COUNT);
    T_EQ_INT(r->nrules, 2);
    T_EQ_STR(r->rules[1], "5638f7c0-ac70-491d-8465-2a65075e0d86");
    T_EQ_INT(r->ngroup_by, 2);
    T_EQ_STR(r->group_by[0], "ComputerName");
    T_EQ_STR(r->group_by[1], "User");
    T_EQ_INT(r->timespan_ms, 3600 * 1000);
    T_EQ_INT(r->nconds, 1);
    T_EQ_INT(r->conds[0].op, CORR_GTE);
    T_CHECK(r->conds[0].value == 100);
    T_CHECK(r->field == NULL);
    T_CHECK(!r->generate);
    T_EQ_INT(r->line, 1);
    T_CHECK(!corr_cond_holds(r, 99));
    T_CHECK(corr_cond_holds(r, 100));
    corr_rule_free(r);
}

static void test_timespans(void)
{
    static const struct {
        const char *span;
        int64_t ms;
    } ok[] = {{"30s", 30000},           {"5m", 300000},   {"1h", 3600000},
              {"1d", 86400000},         {"90m", 5400000}, {"30d", 30LL * 86400000},
              {"720h", 30LL * 86400000}};
    for (size_t i = 0; i < KB_ARRAY_LEN(ok); i++) {
        char y[256];
        snprintf(y, sizeof y,
                 "title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                 "  timespan: %s\n  condition: {gt: 1}\n",
                 ok[i].span);
        struct corr_rule *r = NULL;
        struct kb_why why = {{0}};
        T_EQ_INT(parse(y, &r, &why), KB_OK);
        T_CHECKF(r && r->timespan_ms == ok[i].ms, "%s", ok[i].span);
        corr_rule_free(r);
    }
    const char *head = "title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n";
    static const char *const bad[] = {"5",  "m",   "5M",  "5w",   "1.5h",        "-5m",
                                      "0s", "5 m", "31d", "721h", "99999999999d"};
    for (size_t i = 0; i < KB_ARRAY_LEN(bad); i++) {
        char y[256];
        snprintf(y, sizeof y, "%s  timespan: \"%s\"\n  condition: {gt: 1}\n", head, bad[i]);
        expect_error(y, "t.yml:5: correlation.timespan: ");
    }
}

static void test_value_count_and_range(void)
{
    const char *y = "title: spray\n"
                    "correlation:\n"
                    "  type: value_count\n"
                    "  rules: sshd_invalid_user\n" /* a single string is a list of one */
                    "  group-by: src_ip\n"
                    "  timespan: 1h\n"
                    "  condition:\n"
                    "    field: user\n"
                    "    gt: 100\n"
                    "    lte: 200\n";
    struct corr_rule *r = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(y, &r, &why), KB_OK);
    if (!r)
        return;
    T_EQ_INT(r->type, CORR_VALUE_COUNT);
    T_EQ_STR(r->field, "user");
    T_EQ_INT(r->nrules, 1);
    T_EQ_INT(r->ngroup_by, 1);
    T_EQ_INT(r->nconds, 2);
    T_CHECK(!corr_cond_holds(r, 100));
    T_CHECK(corr_cond_holds(r, 101));
    T_CHECK(corr_cond_holds(r, 200));
    T_CHECK(!corr_cond_holds(r, 201));
    corr_rule_free(r);

    /* value_sum takes a decimal threshold; neq and eq */
    y = "title: bytes\ncorrelation:\n  type: value_sum\n  rules: [a]\n  timespan: 1m\n"
        "  condition: {field: bytes, gte: 1.5e3, neq: 2000}\n";
    T_EQ_INT(parse(y, &r, &why), KB_OK);
    if (r) {
        T_EQ_INT(r->type, CORR_VALUE_SUM);
        T_CHECK(corr_cond_holds(r, 1500));
        T_CHECK(!corr_cond_holds(r, 2000));
        T_CHECK(!corr_cond_holds(r, 1499.9));
        corr_rule_free(r);
    }
}

static void test_temporal_defaults_and_aliases(void)
{
    const char *y = "title: ip pair\n"
                    "generate: true\n"
                    "correlation:\n"
                    "  type: temporal_ordered\n"
                    "  rules: [internal_error, new_network_connection]\n"
                    "  group-by: [internal_ip, remote_ip]\n"
                    "  timespan: 10s\n"
                    "  aliases:\n"
                    "    internal_ip:\n"
                    "      internal_error: destination.ip\n"
                    "      new_network_connection: source.ip\n"
                    "    remote_ip:\n"
                    "      internal_error: source.ip\n"
                    "      new_network_connection: destination.ip\n";
    struct corr_rule *r = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(y, &r, &why), KB_OK);
    if (!r)
        return;
    T_EQ_INT(r->type, CORR_TEMPORAL_ORDERED);
    T_CHECK(r->generate);
    /* no condition: every listed rule must be seen */
    T_EQ_INT(r->nconds, 1);
    T_CHECK(!corr_cond_holds(r, 1));
    T_CHECK(corr_cond_holds(r, 2));
    T_EQ_INT(r->naliases, 2);
    T_EQ_STR(r->aliases[1].name, "remote_ip");
    T_EQ_INT(r->aliases[1].n, 2);
    T_EQ_STR(r->aliases[1].rules[1], "new_network_connection");
    T_EQ_STR(r->aliases[1].fields[1], "destination.ip");
    corr_rule_free(r);
}

static void test_errors(void)
{
    expect_error("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n",
                 "t.yml:3: correlation.condition: missing");
    expect_error("title: t\ncorrelation:\n  type: event_counts\n  rules: [a]\n  timespan: 5m\n"
                 "  condition: {gte: 2}\n",
                 "t.yml:3: correlation.type: expected event_count");
    expect_error("title: t\ncorrelation:\n  type: value_count\n  rules: [a]\n  timespan: 5m\n"
                 "  condition: {gte: 2}\n",
                 "t.yml:6: correlation.condition: value_count needs a field");
    expect_error("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n"
                 "  condition:\n    field: user\n    gte: 2\n",
                 "t.yml:7: correlation.condition.field: only value_count");
    expect_error("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n"
                 "  condition: {gte: 2.5}\n",
                 "t.yml:6: correlation.condition: gte: expected a whole number");
    expect_error("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n"
                 "  condition: {more: 2}\n",
                 "t.yml:6: correlation.condition: unknown key 'more'");
    expect_error("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n"
                 "  condition: {gte: ten}\n",
                 "t.yml:6: correlation.condition: gte: expected a number");
    expect_error("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  group_by: [x]\n"
                 "  timespan: 5m\n  condition: {gte: 2}\n",
                 "t.yml:5: correlation: unknown key 'group_by'");
    expect_error("title: t\ncorrelation:\n  type: event_count\n  rules: [a, b, a]\n"
                 "  timespan: 5m\n  condition: {gte: 2}\n",
                 "t.yml:4: correlation.rules: 'a' is listed twice");
    expect_error("title: t\ncorrelation:\n  type: event_count\n  rules: []\n"
                 "  timespan: 5m\n  condition: {gte: 2}\n",
                 "t.yml:4: correlation.rules: is empty");
    expect_error("title: t\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  timespan: 5m\n"
                 "  aliases:\n    ip:\n      a: src\n      c: dst\n",
                 "t.yml:9: correlation.aliases: ip: rule 'c' is not in correlation.rules");
    expect_error("title: t\nlevel: severe\ncorrelation:\n  type: temporal\n  rules: [a]\n"
                 "  timespan: 5m\n",
                 "t.yml:2: level: 'severe' is not");
    expect_error("correlation:\n  type: temporal\n  rules: [a]\n  timespan: 5m\n",
                 "t.yml:1: title: missing");
    expect_error("title: t\ncorrelation:\n  type: temporal\n  rules: [a]\n",
                 "t.yml:3: correlation.timespan: missing");
    expect_error("title: t\ncorrelation:\n  type: temporal\n  rules: [a]\n  timespan: 5m\n"
                 "  generate: maybe\n",
                 "t.yml:6: correlation.generate: expected true or false");

    /* bounds: more rules or group-by fields than allowed */
    char y[2048];
    size_t n = (size_t)snprintf(y, sizeof y,
                                "title: t\ncorrelation:\n  type: temporal\n"
                                "  timespan: 5m\n  rules:\n");
    for (int i = 0; i <= CORR_MAX_RULES; i++)
        n += (size_t)snprintf(y + n, sizeof y - n, "    - r%d\n", i);
    expect_error(y, "t.yml:6: correlation.rules: more than 32 entries");
    snprintf(y, sizeof y,
             "title: t\ncorrelation:\n  type: temporal\n  rules: [a]\n"
             "  timespan: 5m\n  group-by: [a, b, c, d, e, f, g, h, i]\n");
    expect_error(y, "t.yml:6: correlation.group-by: more than 8 entries");
    /* a title over the text bound */
    char big[400];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(y, sizeof y,
             "title: %s\ncorrelation:\n  type: temporal\n  rules: [a]\n"
             "  timespan: 5m\n",
             big);
    expect_error(y, "t.yml:1: title: longer than 256 bytes");
}

int main(void)
{
    T_RUN(test_event_count_fields);
    T_RUN(test_timespans);
    T_RUN(test_value_count_and_range);
    T_RUN(test_temporal_defaults_and_aliases);
    T_RUN(test_errors);
    return t_done();
}
