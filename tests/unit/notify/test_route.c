/* test_route.c — the routing file: Alertmanager's tree semantics, the
 * defaults built from receiver types, every load error with its
 * file:line text, ${VAR} expansion, token_file, and the settings. */
#include "formats/alert.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "notify/receiver.h"
#include "notify/route.h"
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[256];

static struct route_set *load(const char *yaml)
{
    struct kb_why why = {{0}};
    struct route_set *rs = NULL;
    if (route_load_buffer(yaml, strlen(yaml), "r.yaml", &rs, &why) != KB_OK)
        fprintf(stderr, "  load failed: %s\n", why.msg);
    return rs;
}

/* The error text of loading yaml ("" when it loaded). */
static const char *err_of(const char *yaml)
{
    static struct kb_why why;
    memset(&why, 0, sizeof why);
    struct route_set *rs = NULL;
    if (route_load_buffer(yaml, strlen(yaml), "r.yaml", &rs, &why) == KB_OK) {
        route_set_free(rs);
        return "";
    }
    return why.msg;
}

/* Names of the receivers an issue goes to, joined by ','. */
static const char *routed_full(const struct route_set *rs, int sev, const char *source,
                               const char *kind, const char *labels)
{
    static char out[512];
    size_t idx[ROUTE_MAX_RECEIVERS];
    struct route_input in = {
        .severity = sev, .source = source, .kind = kind, .labels_json = labels};
    size_t n = route_match(rs, &in, idx, ROUTE_MAX_RECEIVERS);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%s", i ? "," : "",
                 route_receiver(rs, idx[i])->name);
    }
    return out;
}

static const char *routed(const struct route_set *rs, int sev)
{
    return routed_full(rs, sev, NULL, NULL, NULL);
}

#define RECEIVERS                                                                                  \
    "receivers:\n"                                                                                 \
    "  - {name: root, type: pagerduty, token: k0}\n"                                               \
    "  - {name: a, type: pagerduty, token: k1}\n"                                                  \
    "  - {name: b, type: pagerduty, token: k2}\n"                                                  \
    "  - {name: c, type: pagerduty, token: k3}\n"                                                  \
    "  - {name: d, type: pagerduty, token: k4}\n"

static void test_first_match_wins(void)
{
    struct route_set *rs = load(RECEIVERS "route:\n"
                                          "  receiver: root\n"
                                          "  routes:\n"
                                          "    - {match: {severity: high}, receiver: a}\n"
                                          "    - {match: {severity: \">= medium\"}, receiver: b}\n"
                                          "    - {receiver: c}\n");
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    T_CHECK(!route_is_default(rs));
    T_EQ_INT(route_nnodes(rs), 4);
    T_EQ_STR(routed(rs, KB_SEV_HIGH), "a");
    T_EQ_STR(routed(rs, KB_SEV_MEDIUM), "b");
    T_EQ_STR(routed(rs, KB_SEV_CRITICAL), "b");
    T_EQ_STR(routed(rs, KB_SEV_LOW), "c"); /* a child with no match takes all */
    route_set_free(rs);
}

static void test_continue_fans_out(void)
{
    struct route_set *rs =
        load(RECEIVERS "route:\n"
                       "  receiver: root\n"
                       "  routes:\n"
                       "    - {match: {severity: high}, receiver: a, continue: true}\n"
                       "    - {match: {severity: [high, low]}, receiver: b}\n"
                       "    - {match: {severity: high}, receiver: c}\n"
                       "    - {match: {severity: critical}, receiver: d, continue: true}\n");
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    T_EQ_STR(routed(rs, KB_SEV_HIGH), "a,b"); /* b has no continue: c is not tried */
    T_EQ_STR(routed(rs, KB_SEV_LOW), "b");
    /* d matched with continue: true and nothing after it: d alone, not root */
    T_EQ_STR(routed(rs, KB_SEV_CRITICAL), "d");
    T_EQ_STR(routed(rs, KB_SEV_MEDIUM), "root"); /* no child matched */
    /* max cuts the list */
    size_t idx[1];
    struct route_input in = {.severity = KB_SEV_HIGH};
    T_EQ_INT(route_match(rs, &in, idx, 1), 1);
    T_EQ_STR(route_receiver(rs, idx[0])->name, "a");
    route_set_free(rs);
}

static void test_nested_and_fallback(void)
{
    struct route_set *rs =
        load(RECEIVERS "route:\n"
                       "  receiver: root\n"
                       "  routes:\n"
                       "    - match: {source: [guardduty, scc]}\n"
                       "      receiver: a\n"
                       "      routes:\n"
                       "        - match: {labels: {team: cloud}}\n"
                       "          receiver: b\n"
                       "          routes:\n"
                       "            - {match: {kind: root-login}, receiver: c}\n"
                       "        - match: {labels: {team: [infra, net]}}\n" /* inherits a */
                       "          routes:\n"
                       "            - {match: {severity: critical}, receiver: d}\n"
                       "    - {match: {source: falco}, receiver: d, continue: true}\n"
                       "    - {match: {source: falco, kind: shell}, receiver: c}\n");
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    T_EQ_STR(routed_full(rs, KB_SEV_LOW, "wazuh", NULL, NULL), "root");
    T_EQ_STR(routed_full(rs, KB_SEV_LOW, NULL, NULL, "{\"team\":\"cloud\"}"), "root");
    /* the parent matched, no child did: the parent's receiver */
    T_EQ_STR(routed_full(rs, KB_SEV_LOW, "scc", NULL, NULL), "a");
    T_EQ_STR(routed_full(rs, KB_SEV_LOW, "scc", NULL, "{\"team\":\"web\"}"), "a");
    T_EQ_STR(routed_full(rs, KB_SEV_LOW, "guardduty", "x", "{\"team\":\"cloud\"}"), "b");
    T_EQ_STR(routed_full(rs, KB_SEV_LOW, "guardduty", "root-login", "{\"team\":\"cloud\"}"), "c");
    /* a receiver-less node takes the nearest ancestor's receiver */
    T_EQ_STR(routed_full(rs, KB_SEV_HIGH, "scc", NULL, "{\"team\":\"net\"}"), "a");
    T_EQ_STR(routed_full(rs, KB_SEV_CRITICAL, "scc", NULL, "{\"team\":\"infra\"}"), "d");
    /* label values match only as strings; bad JSON is no labels */
    T_EQ_STR(routed_full(rs, KB_SEV_LOW, "scc", NULL, "{\"team\":1}"), "a");
    T_EQ_STR(routed_full(rs, KB_SEV_LOW, "scc", NULL, "{\"team\":"), "a");
    T_EQ_STR(routed_full(rs, KB_SEV_LOW, "scc", NULL, "[\"cloud\"]"), "a");
    /* escaped JSON strings compare decoded */
    T_EQ_STR(routed_full(rs, KB_SEV_LOW, "scc", NULL, "{\"te\\u0061m\":\"cl\\u006fud\"}"), "b");
    T_EQ_STR(routed_full(rs, KB_SEV_MEDIUM, "falco", "shell", NULL), "d,c");
    T_EQ_STR(routed_full(rs, KB_SEV_MEDIUM, "falco", "other", NULL), "d");

    /* labels given parsed */
    struct arena a = ARENA_INIT(1 << 16);
    struct json_value *labels = NULL;
    const char *text = "{\"team\":\"cloud\",\"project\":\"p1\"}";
    T_EQ_INT(json_parse(text, strlen(text), NULL, &a, &labels, NULL), KB_OK);
    size_t idx[8];
    struct route_input in = {.severity = KB_SEV_LOW, .source = "guardduty", .labels = labels};
    T_EQ_INT(route_match(rs, &in, idx, 8), 1);
    T_EQ_STR(route_receiver(rs, idx[0])->name, "b");
    arena_release(&a);
    route_set_free(rs);
}

static void test_severity_ranges_and_none(void)
{
    struct route_set *rs =
        load(RECEIVERS "route:\n"
                       "  receiver: root\n"
                       "  routes:\n"
                       "    - {match: {severity: \"<= low\"}, receiver: a, continue: true}\n"
                       "    - {match: {severity: \"<=medium\"}, receiver: b, continue: true}\n"
                       "    - {match: {severity: \"> medium\"}, receiver: c, continue: true}\n"
                       "    - {match: {severity: \"< critical\"}, receiver: d, continue: true}\n"
                       "    - {match: {severity: [low, CRITICAL]}, receiver: a}\n");
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    T_EQ_STR(routed(rs, KB_SEV_LOW), "a,b,d");
    T_EQ_STR(routed(rs, KB_SEV_MEDIUM), "b,d");
    T_EQ_STR(routed(rs, KB_SEV_HIGH), "c,d");
    T_EQ_STR(routed(rs, KB_SEV_CRITICAL), "c,a");
    /* none never notifies, even where the root has a receiver */
    T_EQ_STR(routed(rs, KB_SEV_NONE), "");
    T_EQ_STR(routed(rs, 7), "");
    T_EQ_STR(routed(rs, -1), "");
    route_set_free(rs);
}

static void test_defaults_from_types(void)
{
    struct route_set *rs = load("receivers:\n"
                                "  - {name: chat, type: slack, token: t, channel: C1}\n"
                                "  - {name: gh, type: github, token: t, repo: o/r}\n"
                                "  - {name: pd, type: pagerduty, token: t}\n");
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    T_CHECK(route_is_default(rs));
    T_EQ_INT(route_nnodes(rs), 4);
    T_EQ_STR(routed(rs, KB_SEV_NONE), "");
    T_EQ_STR(routed(rs, KB_SEV_LOW), "chat");
    T_EQ_STR(routed(rs, KB_SEV_MEDIUM), "gh");
    T_EQ_STR(routed(rs, KB_SEV_HIGH), "gh,pd");
    T_EQ_STR(routed(rs, KB_SEV_CRITICAL), "gh,pd");
    route_set_free(rs);

    rs = load("receivers:\n"
              "  - {name: hook, type: webhook, url: 'http://127.0.0.1:1/x', token: s}\n"
              "  - {name: pd, type: pagerduty, token: t}\n"
              "  - {name: chat, type: slack, webhook_url: 'https://hooks.example/T'}\n");
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    T_EQ_STR(routed(rs, KB_SEV_LOW), "hook,chat");
    T_EQ_STR(routed(rs, KB_SEV_MEDIUM), "hook");
    T_EQ_STR(routed(rs, KB_SEV_HIGH), "hook,pd");
    route_set_free(rs);

    /* nothing at all: a valid file that routes nothing */
    rs = load("");
    T_CHECK(rs != NULL);
    if (rs) {
        T_EQ_INT(route_nreceivers(rs), 0);
        T_EQ_STR(routed(rs, KB_SEV_CRITICAL), "");
        route_set_free(rs);
    }
}

static void test_errors(void)
{
    static const struct {
        const char *yaml, *err;
    } cases[] = {
        {"foo: 1\n", "r.yaml:1: foo: unknown key"},
        {"- a\n", "r.yaml:1: expected a mapping"},
        {"koban_url: ftp://x\n", "r.yaml:1: koban_url: expected an http:// or https:// URL"},
        {"receivers: {a: 1}\n", "r.yaml:1: receivers: expected a list of receivers"},
        {"receivers:\n  - {name: a, type: pagerduty, token: t, colour: red}\n",
         "r.yaml:2: receivers[0].colour: unknown key"},
        {"receivers:\n  - {type: pagerduty, token: t}\n",
         "r.yaml:2: receivers[0].name: is required"},
        {"receivers:\n  - {name: Big, type: pagerduty, token: t}\n",
         "r.yaml:2: receivers[0].name: 'Big': use 1 to 64 of a-z 0-9 _ -"},
        {"receivers:\n  - {name: a, type: pagerduty, token: t}\n"
         "  - {name: a, type: pagerduty, token: t}\n",
         "r.yaml:3: receivers[1].name: duplicate receiver name 'a' (first at line 2)"},
        {"receivers:\n  - {name: a, type: email}\n",
         "r.yaml:2: receivers[0].type: unknown type 'email' (slack, github, pagerduty, webhook, "
         "slack_incident or github_incident)"},
        {"receivers:\n  - {name: a}\n",
         "r.yaml:2: receivers[0].type: is required (slack, github, pagerduty, webhook, "
         "slack_incident or github_incident)"},
        {"receivers:\n  - {name: bot, type: slack_incident}\n",
         "r.yaml:2: receivers[0]: a slack_incident receiver needs token (the bot token)"},
        {"receivers:\n  - {name: bot, type: slack_incident, token: t}\nroute:\n  receiver: bot\n",
         "r.yaml:4: route.receiver: bot is a slack_incident receiver (the incident bot's); route "
         "alerts to a slack receiver"},
        {"receivers:\n  - {name: gh, type: github_incident, token: t}\n",
         "r.yaml:2: receivers[0]: a github_incident receiver needs repo (\"owner/name\")"},
        {"receivers:\n  - {name: gh, type: github_incident, token: t, repo: o/r}\nroute:\n"
         "  receiver: gh\n",
         "r.yaml:4: route.receiver: gh is a github_incident receiver (the incident bot's); route "
         "alerts to a github receiver"},
        {"receivers:\n  - {name: a, type: slack, channel: C1}\n",
         "r.yaml:2: receivers[0]: a slack receiver needs token (or webhook_url)"},
        {"receivers:\n  - {name: a, type: slack, token: t}\n",
         "r.yaml:2: receivers[0]: a slack receiver needs channel (or webhook_url)"},
        {"receivers:\n  - {name: a, type: github, token: t}\n",
         "r.yaml:2: receivers[0]: a github receiver needs repo (\"owner/name\")"},
        {"receivers:\n  - {name: a, type: github, repo: o/r}\n",
         "r.yaml:2: receivers[0]: a github receiver needs token"},
        {"receivers:\n  - {name: a, type: github, token: t, repo: o/r/x}\n",
         "r.yaml:2: receivers[0].repo: 'o/r/x' is not \"owner/name\""},
        {"receivers:\n  - {name: a, type: pagerduty}\n",
         "r.yaml:2: receivers[0]: a pagerduty receiver needs token (the routing key)"},
        {"receivers:\n  - {name: a, type: webhook, token: s}\n",
         "r.yaml:2: receivers[0]: a webhook receiver needs url"},
        {"receivers:\n  - {name: a, type: webhook, url: 'http://h/'}\n",
         "r.yaml:2: receivers[0]: a webhook receiver needs token (the HMAC secret)"},
        {"receivers:\n  - {name: a, type: pagerduty, token: t, repo: o/r}\n",
         "r.yaml:2: receivers[0].repo: does not apply to type pagerduty"},
        {"receivers:\n  - {name: a, type: webhook, token: t, url: 'https://x', base_url: "
         "'https://y'}\n",
         "r.yaml:2: receivers[0].base_url: does not apply to type webhook"},
        {"receivers:\n  - name: a\n    type: pagerduty\n    base_url: 127.0.0.1:9\n    token: t\n",
         "r.yaml:4: receivers[0].base_url: expected an http:// or https:// URL"},
        {"receivers:\n  - {name: a, type: pagerduty, token: t, token_file: /x}\n",
         "r.yaml:2: receivers[0].token_file: give token or token_file, not both"},
        {"receivers:\n  - {name: \"a\\0b\", type: pagerduty, token: t}\n",
         "r.yaml:2: receivers[0].name: contains a NUL byte"},
        {"receivers:\n  - {name: a, type: pagerduty, token: ''}\n",
         "r.yaml:2: receivers[0].token: empty value"},
        {"receivers:\n  - name: a\n    type: pagerduty\n    token: ${KOBAN_TEST_UNSET_VAR}\n",
         "r.yaml:4: receivers[0].token: environment variable KOBAN_TEST_UNSET_VAR is not set"},
        {"receivers:\n  - {name: a, type: pagerduty, token: '${1X}'}\n",
         "r.yaml:2: receivers[0].token: '${' must be followed by a variable name and '}'"},
        {"receivers:\n  - {name: a, type: pagerduty, token: '${ABC'}\n",
         "r.yaml:2: receivers[0].token: '${' must be followed by a variable name and '}'"},
        {"receivers:\n  - {name: a, type: pagerduty, token: t, rate: 5/d}\n",
         "r.yaml:2: receivers[0].rate: expected a rate like 5/s, 30/m or 10/h"},
        {"receivers:\n  - {name: a, type: pagerduty, token: t, rate: 0/s}\n",
         "r.yaml:2: receivers[0].rate: 0 is not in 1..1000000"},
        {"receivers:\n  - {name: a, type: pagerduty, token: t, concurrency: 17}\n",
         "r.yaml:2: receivers[0].concurrency: 17 is not in 1..16"},
        {"receivers:\n  - {name: a, type: pagerduty, token: t}\nroute: {receiver: b}\n",
         "r.yaml:3: route.receiver: unknown receiver 'b'"},
        {"route: {}\n", "r.yaml:1: route: needs a receiver, routes, or both"},
        {"route: {match: {severity: low}, routes: []}\n", "r.yaml:1: route.match: unknown key"},
        {RECEIVERS "route:\n  routes:\n    - {receiver: a, contine: true}\n",
         "r.yaml:9: route.routes[0].contine: unknown key"},
        {RECEIVERS "route:\n  routes:\n    - {receiver: a, continue: yes}\n",
         "r.yaml:9: route.routes[0].continue: expected true or false"},
        {RECEIVERS "route:\n  routes:\n    - {receiver: a, routes: {x: 1}}\n",
         "r.yaml:9: route.routes[0].routes: expected a list of routes"},
        {RECEIVERS "route:\n  receiver: a\n  routes:\n    - match: {severity: urgent}\n",
         "r.yaml:10: route.routes[0].match.severity: unknown severity 'urgent' (none, low, "
         "medium, high, critical; or \">= NAME\", \"<= NAME\")"},
        {RECEIVERS "route:\n  receiver: a\n  routes:\n    - match: {severity: none}\n",
         "r.yaml:10: route.routes[0].match.severity: matches no severity that notifies (none "
         "never does)"},
        {RECEIVERS "route:\n  receiver: a\n  routes:\n    - match: {severity: [\">= high\"]}\n",
         "r.yaml:10: route.routes[0].match.severity: unknown severity '>= high' (none, low, "
         "medium, high, critical; or \">= NAME\", \"<= NAME\")"},
        {RECEIVERS "route:\n  receiver: a\n  routes:\n    - match: {source: []}\n",
         "r.yaml:10: route.routes[0].match.source: an empty list matches nothing"},
        {RECEIVERS "route:\n  receiver: a\n  routes:\n    - match: {source: {a: b}}\n",
         "r.yaml:10: route.routes[0].match.source: expected a single value"},
        {RECEIVERS "route:\n  receiver: a\n  routes:\n    - match: {team: x}\n",
         "r.yaml:10: route.routes[0].match.team: unknown key"},
        {RECEIVERS "route:\n  receiver: a\n  routes:\n    - match: {labels: {team: [[x]]}}\n",
         "r.yaml:10: route.routes[0].match.labels.team: expected a single value"},
        {RECEIVERS "route:\n  receiver: a\n  routes:\n    - match: {labels: {t: x, t: y}}\n",
         "r.yaml:10: route.routes[0].match.labels.t: duplicate key"},
        {"flood: {rate: 10/h, burst: 0}\n", "r.yaml:1: flood.burst: 0 is not in 1..1000000"},
        {"flood: {rate: 10 per hour}\n",
         "r.yaml:1: flood.rate: expected a rate like 5/s, 30/m or 10/h"},
        {"flood_rule: {rate: 10/h, size: 3}\n", "r.yaml:1: flood_rule.size: unknown key"},
        {"reminders: {medium: 24}\n",
         "r.yaml:1: reminders.medium: expected a duration like 30m, 1h or 1h30m"},
        {"reminders: {high: 1x}\n",
         "r.yaml:1: reminders.high: expected a duration like 30m, 1h or 1h30m"},
        {"reminders: {high: 30s}\n", "r.yaml:1: reminders.high: shorter than 60 s"},
        {"reminders: {high: 400d}\n", "r.yaml:1: reminders.high: longer than 366 days"},
        {"reminders: {none: 1h}\n", "r.yaml:1: reminders.none: unknown key"},
        {RECEIVERS "escalate: {after: 2}\n", "r.yaml:7: escalate: needs both after and receiver"},
        {RECEIVERS "escalate: {after: 0, receiver: a}\n",
         "r.yaml:7: escalate.after: 0 is not in 1..1000"},
        {RECEIVERS "escalate: {after: 2, receiver: zz}\n",
         "r.yaml:7: escalate.receiver: unknown receiver 'zz'"},
        {RECEIVERS "ops: {mention: '@x'}\n", "r.yaml:7: ops.receiver: is required"},
        {RECEIVERS "ops: {receiver: nope}\n", "r.yaml:7: ops.receiver: unknown receiver 'nope'"},
        {"koban_url: http://a\nkoban_url: http://b\n", "r.yaml:2: koban_url: duplicate key"},
        {"receivers: [\n",
         "r.yaml:2: did not find expected node content while parsing a flow node"},
        {"flood: off\n---\nflood: off\n", "r.yaml:2: only one YAML document is allowed"},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        const char *got = err_of(cases[i].yaml);
        T_CHECKF(strcmp(got, cases[i].err) == 0, "case %zu:\n    got  \"%s\"\n    want \"%s\"", i,
                 got, cases[i].err);
    }
}

static void test_bounds(void)
{
    struct buf b = BUF_INIT(4 << 20);
    /* 257 receivers */
    buf_puts(&b, "receivers:\n");
    for (int i = 0; i <= ROUTE_MAX_RECEIVERS; i++)
        buf_printf(&b, "  - {name: r%d, type: pagerduty, token: t}\n", i);
    T_EQ_STR(err_of(b.p), "r.yaml:2: receivers: more than 256 receivers");
    /* depth 17: the root, then 17 nested children */
    buf_reset(&b);
    buf_puts(&b, RECEIVERS "route: {receiver: a, routes: [");
    for (int d = 1; d <= ROUTE_MAX_DEPTH + 1; d++)
        buf_puts(&b, "{receiver: b, routes: [");
    buf_puts(&b, "]");
    for (int d = 1; d <= ROUTE_MAX_DEPTH + 1; d++)
        buf_puts(&b, "}]");
    buf_puts(&b, "}\n");
    const char *e = err_of(b.p);
    T_CHECKF(strncmp(e, "r.yaml:7: route.routes[0].routes[0]", 35) == 0 &&
                 strstr(e, ": routes nested deeper than 16") != NULL,
             "%s", e);
    /* depth 16 is fine */
    buf_reset(&b);
    buf_puts(&b, RECEIVERS "route: {receiver: a, routes: [");
    for (int d = 1; d <= ROUTE_MAX_DEPTH; d++)
        buf_puts(&b, "{receiver: b, routes: [");
    buf_puts(&b, "]");
    for (int d = 1; d <= ROUTE_MAX_DEPTH; d++)
        buf_puts(&b, "}]");
    buf_puts(&b, "}\n");
    struct route_set *rs = load(b.p);
    T_CHECK(rs != NULL);
    if (rs)
        T_EQ_STR(routed(rs, KB_SEV_LOW), "b");
    route_set_free(rs);
    /* a self-referencing alias stops at the depth bound too */
    T_CHECKF(strstr(err_of(RECEIVERS "route: &r {receiver: a, routes: [*r]}\n"),
                    "nested deeper than 16") != NULL,
             "%s", err_of(RECEIVERS "route: &r {receiver: a, routes: [*r]}\n"));
    /* 4096 nodes */
    buf_reset(&b);
    buf_puts(&b, RECEIVERS "route:\n  receiver: a\n  routes:\n");
    for (int i = 0; i < ROUTE_MAX_NODES; i++)
        buf_puts(&b, "    - {receiver: b}\n");
    T_EQ_STR(err_of(b.p), "r.yaml:4105: route.routes[4095]: more than 4096 route nodes");
    /* exactly 4096 is fine */
    buf_reset(&b);
    buf_puts(&b, RECEIVERS "route:\n  receiver: a\n  routes:\n");
    for (int i = 0; i < ROUTE_MAX_NODES - 1; i++)
        buf_puts(&b, "    - {receiver: b}\n");
    rs = load(b.p);
    T_CHECK(rs != NULL);
    if (rs)
        T_EQ_INT(route_nnodes(rs), ROUTE_MAX_NODES);
    route_set_free(rs);
    /* the file size */
    buf_reset(&b);
    while (b.len <= ROUTE_MAX_FILE)
        buf_puts(&b, "# padding padding padding padding padding padding padding padding\n");
    struct kb_why why = {{0}};
    T_EQ_INT(route_load_buffer(b.p, b.len, "big.yaml", &rs, &why), KB_ETOOBIG);
    T_EQ_STR(why.msg, "big.yaml: larger than 1048576 bytes");
    buf_release(&b);
}

static void test_env_and_token_file(void)
{
    setenv("KOBAN_T_TOKEN", "xoxb-123", 1);
    setenv("KOBAN_T_HOST", "127.0.0.1:9", 1);
    struct route_set *rs = load("koban_url: http://koban.internal:8478\n"
                                "receivers:\n"
                                "  - name: chat\n"
                                "    type: slack\n"
                                "    token: ${KOBAN_T_TOKEN}\n"
                                "    channel: C0$1\n"
                                "    base_url: http://${KOBAN_T_HOST}/api\n"
                                "    rate: 30/m\n"
                                "    concurrency: 2\n");
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    const struct recv_config *c = route_receiver(rs, 0);
    T_EQ_STR(c->name, "chat");
    T_EQ_STR(c->type, "slack");
    T_EQ_STR(c->token, "xoxb-123");
    T_EQ_STR(c->channel, "C0$1"); /* a lone '$' is itself */
    T_EQ_STR(c->base_url, "http://127.0.0.1:9/api");
    T_EQ_STR(c->koban_url, "http://koban.internal:8478");
    T_CHECK(c->webhook_url == NULL && c->repo == NULL && c->url == NULL);
    T_CHECK(route_receiver_rate(rs, 0) == 0.5);
    T_EQ_INT(route_receiver_concurrency(rs, 0), 2);
    T_EQ_STR(route_koban_url(rs), "http://koban.internal:8478");
    route_set_free(rs);

    /* token_file: absolute from a buffer, relative to the file's folder */
    char tok[300], yaml[700], routes[300], sub[280];
    snprintf(sub, sizeof sub, "%s/conf", g_dir);
    T_EQ_INT(mkdir(sub, 0700), 0);
    snprintf(tok, sizeof tok, "%s/pd.key", sub);
    FILE *f = fopen(tok, "w");
    fputs("R0UTINGKEY \n", f);
    fclose(f);
    snprintf(yaml, sizeof yaml,
             "receivers:\n  - {name: pd, type: pagerduty, token_file: %s, rate: 5/s}\n", tok);
    rs = load(yaml);
    T_CHECK(rs != NULL);
    if (rs) {
        T_EQ_STR(route_receiver(rs, 0)->token, "R0UTINGKEY");
        T_CHECK(route_receiver_rate(rs, 0) == 5.0);
        T_EQ_INT(route_receiver_concurrency(rs, 0), 0);
    }
    route_set_free(rs);
    /* a FIFO with no writer is refused at once, not waited on */
    char fifo[320], fyaml[500];
    snprintf(fifo, sizeof fifo, "%s/pd.fifo", sub);
    T_EQ_INT(mkfifo(fifo, 0600), 0);
    snprintf(fyaml, sizeof fyaml, "receivers:\n  - {name: pd, type: pagerduty, token_file: %s}\n",
             fifo);
    struct kb_why fw = {{0}};
    struct route_set *frs = NULL;
    T_EQ_INT(route_load_buffer(fyaml, strlen(fyaml), "r.yaml", &frs, &fw), KB_EINVAL);
    T_CHECK(strstr(fw.msg, "is not a regular file") != NULL);
    unlink(fifo);
    snprintf(routes, sizeof routes, "%s/routes.yaml", sub);
    f = fopen(routes, "w");
    fputs("receivers:\n"
          "  - {name: pd, type: pagerduty, token_file: pd.key}\n"
          "  - {name: gh, type: github, token: t, repo: o/r, templates_dir: tmpl}\n",
          f);
    fclose(f);
    struct kb_why why = {{0}};
    rs = NULL;
    T_EQ_INT(route_load_file(routes, &rs, &why), KB_OK);
    if (rs) {
        T_EQ_STR(route_receiver(rs, 0)->token, "R0UTINGKEY");
        char want[400];
        snprintf(want, sizeof want, "%s/tmpl", sub);
        T_EQ_STR(route_receiver(rs, 1)->templates_dir, want);
    }
    route_set_free(rs);

    /* token_file errors */
    f = fopen(tok, "w");
    fputs("\n\n", f);
    fclose(f);
    char want[600];
    snprintf(want, sizeof want, "r.yaml:2: receivers[0].token_file: %s is empty", tok);
    T_EQ_STR(err_of(yaml), want);
    f = fopen(tok, "w");
    fputs("one\ntwo\n", f);
    fclose(f);
    snprintf(want, sizeof want, "r.yaml:2: receivers[0].token_file: %s must hold one line of text",
             tok);
    T_EQ_STR(err_of(yaml), want);
    unlink(tok);
    snprintf(want, sizeof want,
             "r.yaml:2: receivers[0].token_file: cannot open %s: No such file or directory", tok);
    T_EQ_STR(err_of(yaml), want);
    /* the routing file itself */
    rs = NULL;
    T_EQ_INT(route_load_file(tok, &rs, &why), KB_EIO);
    snprintf(want, sizeof want, "%s: No such file or directory", tok);
    T_EQ_STR(why.msg, want);
    unlink(routes);
    rmdir(sub);
    unsetenv("KOBAN_T_TOKEN");
    unsetenv("KOBAN_T_HOST");
}

static void test_settings(void)
{
    struct route_set *rs = load("");
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    const struct flood_config *fc = route_flood(rs);
    T_CHECK(fc && fc->rate == 10 && fc->per_ms == 3600000 && fc->burst == 5);
    fc = route_flood_rule(rs);
    T_CHECK(fc && fc->rate == 100 && fc->per_ms == 3600000 && fc->burst == 20);
    T_EQ_INT(route_reminder_ms(rs, KB_SEV_NONE), 0);
    T_EQ_INT(route_reminder_ms(rs, KB_SEV_LOW), 0);
    T_EQ_INT(route_reminder_ms(rs, KB_SEV_MEDIUM), 24 * 3600000LL);
    T_EQ_INT(route_reminder_ms(rs, KB_SEV_HIGH), 3600000);
    T_EQ_INT(route_reminder_ms(rs, KB_SEV_CRITICAL), 30 * 60000);
    T_CHECK(!route_escalate(rs, NULL, NULL));
    T_CHECK(!route_ops(rs, NULL, NULL));
    T_CHECK(route_koban_url(rs) == NULL);
    route_set_free(rs);

    rs = load(RECEIVERS "flood: off\n"
                        "flood_rule: {burst: 7}\n"
                        "reminders: {medium: 1h30m}\n"
                        "escalate: {after: 2, receiver: c}\n"
                        "ops: {receiver: b, mention: '@security-oncall'}\n");
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    T_CHECK(route_flood(rs) == NULL);
    fc = route_flood_rule(rs);
    T_CHECK(fc && fc->rate == 100 && fc->burst == 7);
    T_EQ_INT(route_reminder_ms(rs, KB_SEV_LOW), 0);
    T_EQ_INT(route_reminder_ms(rs, KB_SEV_MEDIUM), 5400000);
    T_EQ_INT(route_reminder_ms(rs, KB_SEV_CRITICAL), 5400000); /* at or above */
    unsigned after = 0;
    size_t r = 99;
    const char *mention = NULL;
    T_CHECK(route_escalate(rs, &after, &r));
    T_EQ_INT(after, 2);
    T_EQ_STR(route_receiver(rs, r)->name, "c");
    T_CHECK(route_ops(rs, &r, &mention));
    T_EQ_STR(route_receiver(rs, r)->name, "b");
    T_EQ_STR(mention, "@security-oncall");
    T_EQ_INT(route_receiver_index(rs, "d", &r), KB_OK);
    T_EQ_INT(r, 4);
    T_EQ_INT(route_receiver_index(rs, "zz", &r), KB_ENOTFOUND);
    route_set_free(rs);

    rs = load("reminders: {low: 2d, high: off, critical: 10m}\n");
    T_CHECK(rs != NULL);
    if (rs) {
        T_EQ_INT(route_reminder_ms(rs, KB_SEV_LOW), 2 * 86400000LL);
        T_EQ_INT(route_reminder_ms(rs, KB_SEV_MEDIUM), 2 * 86400000LL);
        T_EQ_INT(route_reminder_ms(rs, KB_SEV_HIGH), 0);
        T_EQ_INT(route_reminder_ms(rs, KB_SEV_CRITICAL), 600000);
    }
    route_set_free(rs);
    rs = load("reminders: off\n");
    T_CHECK(rs != NULL);
    if (rs)
        T_EQ_INT(route_reminder_ms(rs, KB_SEV_CRITICAL), 0);
    route_set_free(rs);
}

/* What the routing file accepts, the receivers accept. */
static void test_configs_make_receivers(void)
{
    struct route_set *rs = load(
        "koban_url: http://127.0.0.1:8478\n"
        "receivers:\n"
        "  - {name: s1, type: slack, token: t, channel: C1, base_url: 'http://127.0.0.1:9/api'}\n"
        "  - {name: s2, type: slack, webhook_url: 'http://127.0.0.1:9/hook'}\n"
        "  - {name: g, type: github, token: t, repo: koban/sec}\n"
        "  - {name: p, type: pagerduty, token: t}\n"
        "  - {name: w, type: webhook, url: 'http://127.0.0.1:9/w', token: s}\n");
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    T_EQ_INT(route_nreceivers(rs), 5);
    for (size_t i = 0; i < route_nreceivers(rs); i++) {
        struct receiver *r = NULL;
        struct kb_why why = {{0}};
        kb_err e = receiver_new(route_receiver(rs, i), &r, &why);
        T_CHECKF(e == KB_OK, "%s: %s", route_receiver(rs, i)->name, why.msg);
        receiver_free(r);
    }
    route_set_free(rs);
}

/* The example at the top of docs/ROUTING.md routes as its table says. */
static void test_doc_example(void)
{
    static char text[16384];
    FILE *f = fopen(KOBAN_SOURCE_DIR "/docs/ROUTING.md", "r");
    T_CHECK(f != NULL);
    if (!f)
        return;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *start = strstr(text, "```yaml\n");
    char *end = start ? strstr(start + 8, "```") : NULL;
    T_CHECK(start && end);
    if (!start || !end)
        return;
    *end = '\0';
    setenv("SLACK_TOKEN", "xoxb-1", 1);
    setenv("GITHUB_TOKEN", "ghp-1", 1);
    setenv("PD_ROUTING_KEY", "pd-1", 1);
    setenv("PD_SECONDARY_KEY", "pd-2", 1);
    struct route_set *rs = load(start + 8);
    T_CHECK(rs != NULL);
    if (rs) {
        T_EQ_STR(routed_full(rs, KB_SEV_LOW, "wazuh", NULL, NULL), "slack-sec");
        T_EQ_STR(routed_full(rs, KB_SEV_HIGH, "falco", NULL, NULL), "pd");
        T_EQ_STR(routed_full(rs, KB_SEV_CRITICAL, "guardduty", NULL, "{\"team\":\"cloud\"}"),
                 "pd,gh");
        T_EQ_STR(routed_full(rs, KB_SEV_LOW, "scc", NULL, "{\"team\":\"cloud\"}"), "slack-cloud");
        T_EQ_STR(routed_full(rs, KB_SEV_MEDIUM, "scc", NULL, NULL), "slack-sec");
        T_EQ_STR(routed_full(rs, KB_SEV_NONE, "scc", NULL, NULL), "");
        T_CHECK(route_receiver_rate(rs, 3) == 2.0);
        size_t r;
        T_CHECK(route_escalate(rs, NULL, &r));
        T_EQ_STR(route_receiver(rs, r)->name, "pd-secondary");
    }
    route_set_free(rs);
    unsetenv("SLACK_TOKEN");
    unsetenv("GITHUB_TOKEN");
    unsetenv("PD_ROUTING_KEY");
    unsetenv("PD_SECONDARY_KEY");
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/koban-test-route-%d", (int)getpid());
    if (mkdir(g_dir, 0700) != 0 && errno != EEXIST)
        return 1;
    T_RUN(test_first_match_wins);
    T_RUN(test_continue_fans_out);
    T_RUN(test_nested_and_fallback);
    T_RUN(test_severity_ranges_and_none);
    T_RUN(test_defaults_from_types);
    T_RUN(test_errors);
    T_RUN(test_bounds);
    T_RUN(test_env_and_token_file);
    T_RUN(test_settings);
    T_RUN(test_configs_make_receivers);
    T_RUN(test_doc_example);
    rmdir(g_dir);
    return t_done();
}
