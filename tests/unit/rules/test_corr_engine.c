/* Tests for the correlation engine: each type over hand-made sequences
 * (just under and just over thresholds, window boundaries, groups, aliases,
 * eviction, expiry, out-of-order events, chaining). Times are in seconds
 * in the sequences and fed as milliseconds. */
#include "rules/correlate.h"
#include "test.h"

#include <yaml.h>

#define MAX_RULES 8
#define MAX_SEEN 64

/* ---- fixtures ---- */

struct rules {
    struct corr_rule *r[MAX_RULES];
    size_t n;
};

/* Loads every document of a multi-document YAML text. */
static void load(const char *text, struct rules *out)
{
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    out->n = 0;
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(&p, &doc)) {
            T_CHECKF(0, "YAML error: %s", p.problem ? p.problem : "?");
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        struct kb_why why = {{0}};
        struct corr_rule *r = NULL;
        kb_err err = corr_rule_from_yaml(&doc, root, "t.yml", &r, &why);
        T_CHECKF(err == KB_OK, "%s", why.msg);
        if (r && out->n < MAX_RULES)
            out->r[out->n++] = r;
        else
            corr_rule_free(r);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&p);
}

static void unload(struct rules *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        corr_rule_free(rs->r[i]);
    rs->n = 0;
}

/* An alert as the tests inspect it. */
struct seen {
    const struct corr_rule *rule;
    char group[128]; /* values joined by '|' */
    double value;
    int64_t first_s, last_s;
    size_t nevents, nevidence;
    uint64_t ev_refs[8];
    unsigned depth;
};

struct sink {
    struct seen a[MAX_SEEN];
    size_t n;
    kb_err fail_with; /* returned by emit when set */
};

static kb_err on_alert(void *ctx, const struct corr_alert *a)
{
    struct sink *s = ctx;
    if (s->n < MAX_SEEN) {
        struct seen *x = &s->a[s->n++];
        memset(x, 0, sizeof *x);
        x->rule = a->rule;
        size_t off = 0;
        for (size_t i = 0; i < a->ngroup; i++)
            off += (size_t)snprintf(x->group + off, sizeof x->group - off, "%s%.*s", i ? "|" : "",
                                    (int)a->group[i].n, a->group[i].p ? a->group[i].p : "");
        x->value = a->value;
        x->first_s = a->first_ms / 1000;
        x->last_s = a->last_ms / 1000;
        x->nevents = a->nevents;
        x->nevidence = a->nevidence;
        for (size_t i = 0; i < a->nevidence && i < 8; i++)
            x->ev_refs[i] = a->evidence[i].ref;
        x->depth = a->depth;
    }
    return s->fail_with;
}

/* Exact key first, then dot path. */
static const struct json_value *lookup(const struct json_value *ev, const char *name, size_t len,
                                       void *ctx)
{
    const struct json_value *v = json_getn(ev, name, len);
    return v ? v : json_path(ev, name);
}

struct fx {
    struct rules rs;
    struct corr_engine *eng;
    struct sink sink;
    struct arena ar;
    uint64_t ref;
};

static void fx_init(struct fx *f, const char *yaml, const struct corr_limits *lim)
{
    memset(f, 0, sizeof *f);
    arena_init(&f->ar, 1 << 20);
    load(yaml, &f->rs);
    struct kb_why why = {{0}};
    kb_err err = corr_engine_new(f->rs.r, f->rs.n, lim, &f->eng, &why);
    T_CHECKF(err == KB_OK, "%s", why.msg);
}

static void fx_free(struct fx *f)
{
    corr_engine_free(f->eng);
    unload(&f->rs);
    arena_release(&f->ar);
}

/* Feeds one match of base rule `name` at t seconds for the JSON event. */
static kb_err fx_feed(struct fx *f, const char *name, int64_t t, const char *json)
{
    struct json_value *ev = NULL;
    size_t len = strlen(json);
    arena_reset(&f->ar); /* the engine keeps nothing of the event */
    char *copy = arena_strndup(&f->ar, json, len); /* the DOM points into it */
    if (!copy || json_parse(copy, len, NULL, &f->ar, &ev, NULL) != KB_OK) {
        T_CHECKF(0, "bad test JSON %s", json);
        return KB_EINVAL;
    }
    struct corr_match m = {name, NULL, t * 1000, ++f->ref, ev};
    return corr_feed(f->eng, &m, lookup, on_alert, &f->sink);
}

static struct corr_stats fx_stats(const struct fx *f)
{
    struct corr_stats st;
    corr_engine_stats(f->eng, &st);
    return st;
}

/* ---- event_count ---- */

static const char *const COUNT3 = "title: three\n"
                                  "correlation:\n"
                                  "  type: event_count\n"
                                  "  rules: [fail]\n"
                                  "  group-by: [src]\n"
                                  "  timespan: 60s\n"
                                  "  condition: {gte: 3}\n";

static void test_event_count_threshold(void)
{
    struct fx f;
    fx_init(&f, COUNT3, NULL);
    fx_feed(&f, "fail", 0, "{\"src\":\"a\"}");
    fx_feed(&f, "fail", 10, "{\"src\":\"a\"}");
    fx_feed(&f, "other", 15, "{\"src\":\"a\"}"); /* not a referenced rule */
    T_EQ_INT(f.sink.n, 0);                       /* just under */
    fx_feed(&f, "fail", 20, "{\"src\":\"a\"}");
    T_EQ_INT(f.sink.n, 1); /* just over */
    T_EQ_STR(f.sink.a[0].group, "a");
    T_CHECK(f.sink.a[0].value == 3);
    T_EQ_INT(f.sink.a[0].first_s, 0);
    T_EQ_INT(f.sink.a[0].last_s, 20);
    T_EQ_INT(f.sink.a[0].nevents, 3);
    T_EQ_INT(f.sink.a[0].nevidence, 3);
    T_EQ_INT(f.sink.a[0].ev_refs[0], 1);
    T_EQ_INT(f.sink.a[0].ev_refs[2], 4);
    /* the window was cleared: two more are not enough, a third is */
    fx_feed(&f, "fail", 21, "{\"src\":\"a\"}");
    fx_feed(&f, "fail", 22, "{\"src\":\"a\"}");
    T_EQ_INT(f.sink.n, 1);
    fx_feed(&f, "fail", 23, "{\"src\":\"a\"}");
    T_EQ_INT(f.sink.n, 2);
    T_EQ_INT(f.sink.a[1].first_s, 21);
    T_EQ_INT(fx_stats(&f).alerts, 2);
    T_EQ_INT(fx_stats(&f).matches, 6);
    T_CHECK(corr_engine_wants(f.eng, "fail", NULL));
    T_CHECK(!corr_engine_wants(f.eng, "other", "x"));
    fx_free(&f);
}

static void test_window_boundary(void)
{
    struct fx f;
    fx_init(&f, COUNT3, NULL);
    /* 0, 30, 60: the window [0, 60] includes both ends */
    fx_feed(&f, "fail", 0, "{\"src\":\"a\"}");
    fx_feed(&f, "fail", 30, "{\"src\":\"a\"}");
    fx_feed(&f, "fail", 60, "{\"src\":\"a\"}");
    T_EQ_INT(f.sink.n, 1);
    /* 100, 130, 161: 100 has left the window [101, 161] */
    fx_feed(&f, "fail", 100, "{\"src\":\"b\"}");
    fx_feed(&f, "fail", 130, "{\"src\":\"b\"}");
    fx_feed(&f, "fail", 161, "{\"src\":\"b\"}");
    T_EQ_INT(f.sink.n, 1);
    fx_feed(&f, "fail", 162, "{\"src\":\"b\"}"); /* 130, 161, 162 */
    T_EQ_INT(f.sink.n, 2);
    T_EQ_INT(f.sink.a[1].first_s, 130);
    fx_free(&f);
}

static void test_groups_separate(void)
{
    struct fx f;
    const char *y = "title: pair\n"
                    "correlation:\n"
                    "  type: event_count\n"
                    "  rules: [fail]\n"
                    "  group-by: [src, user.name]\n"
                    "  timespan: 1m\n"
                    "  condition: {gt: 2}\n";
    fx_init(&f, y, NULL);
    for (int i = 0; i < 2; i++) {
        fx_feed(&f, "fail", i, "{\"src\":\"a\",\"user\":{\"name\":\"x\"}}");
        fx_feed(&f, "fail", i, "{\"src\":\"a\",\"user\":{\"name\":\"y\"}}");
        fx_feed(&f, "fail", i, "{\"src\":\"b\",\"user\":{\"name\":\"x\"}}");
        fx_feed(&f, "fail", i, "{\"src\":1,\"user\":{\"name\":\"x\"}}");
        fx_feed(&f, "fail", i, "{\"src\":\"a\"}"); /* no user.name: not grouped */
    }
    T_EQ_INT(f.sink.n, 0);
    T_EQ_INT(fx_stats(&f).groups, 4);
    T_EQ_INT(fx_stats(&f).no_group, 2);
    fx_feed(&f, "fail", 5, "{\"src\":1,\"user\":{\"name\":\"x\"}}");
    T_EQ_INT(f.sink.n, 1);
    T_EQ_STR(f.sink.a[0].group, "1|x"); /* a number groups by its text */
    fx_free(&f);
}

/* ---- value_count, value_sum, value_avg ---- */

static void test_value_count(void)
{
    struct fx f;
    const char *y = "title: spray\n"
                    "correlation:\n"
                    "  type: value_count\n"
                    "  rules: [invalid]\n"
                    "  group-by: [src]\n"
                    "  timespan: 100s\n"
                    "  condition: {field: user, gte: 3}\n";
    fx_init(&f, y, NULL);
    fx_feed(&f, "invalid", 0, "{\"src\":\"a\",\"user\":\"root\"}");
    fx_feed(&f, "invalid", 1, "{\"src\":\"a\",\"user\":\"root\"}");
    fx_feed(&f, "invalid", 2, "{\"src\":\"a\",\"user\":\"admin\"}");
    fx_feed(&f, "invalid", 3, "{\"src\":\"a\",\"user\":\"admin\"}");
    fx_feed(&f, "invalid", 4, "{\"src\":\"a\"}"); /* no user: no value */
    fx_feed(&f, "invalid", 5, "{\"src\":\"b\",\"user\":\"guest\"}");
    T_EQ_INT(f.sink.n, 0); /* 2 distinct values for a */
    T_EQ_INT(fx_stats(&f).no_value, 1);
    /* 101 s: "root" (0, 1) has left the window: still 2 distinct */
    fx_feed(&f, "invalid", 102, "{\"src\":\"a\",\"user\":\"guest\"}");
    T_EQ_INT(f.sink.n, 0);
    fx_feed(&f, "invalid", 103, "{\"src\":\"a\",\"user\":\"oracle\"}");
    T_EQ_INT(f.sink.n, 1);
    T_CHECK(f.sink.a[0].value == 3);
    T_EQ_INT(f.sink.a[0].first_s, 3);
    T_EQ_INT(f.sink.a[0].nevents, 3);
    fx_free(&f);
}

static void test_value_sum_avg(void)
{
    struct fx f;
    const char *y = "title: sum\n"
                    "correlation:\n"
                    "  type: value_sum\n"
                    "  rules: [xfer]\n"
                    "  group-by: [host]\n"
                    "  timespan: 1h\n"
                    "  condition: {field: bytes, gt: 1000}\n"
                    "---\n"
                    "title: avg\n"
                    "correlation:\n"
                    "  type: value_avg\n"
                    "  rules: [xfer]\n"
                    "  group-by: [host]\n"
                    "  timespan: 1h\n"
                    "  condition: {field: bytes, gte: 400}\n";
    fx_init(&f, y, NULL);
    fx_feed(&f, "xfer", 0, "{\"host\":\"h\",\"bytes\":300}");
    fx_feed(&f, "xfer", 1, "{\"host\":\"h\",\"bytes\":\"nope\"}"); /* no value (both rules) */
    fx_feed(&f, "xfer", 2, "{\"host\":\"h\",\"bytes\":\"450\"}");  /* avg 375, sum 750 */
    T_EQ_INT(f.sink.n, 0);
    T_EQ_INT(fx_stats(&f).no_value, 2);
    fx_feed(&f, "xfer", 3, "{\"host\":\"h\",\"bytes\":251.5}"); /* sum 1001.5, avg 333.8 */
    T_EQ_INT(f.sink.n, 1);
    T_EQ_STR(f.sink.a[0].rule->title, "sum");
    T_CHECK(f.sink.a[0].value == 1001.5);
    fx_feed(&f, "xfer", 4, "{\"host\":\"h\",\"bytes\":1000}"); /* avg (300+450+251.5+1000)/4 */
    T_EQ_INT(f.sink.n, 2);
    T_EQ_STR(f.sink.a[1].rule->title, "avg");
    T_CHECK(f.sink.a[1].value == 500.375);
    fx_free(&f);
}

/* ---- temporal ---- */

static void test_temporal(void)
{
    struct fx f;
    const char *y = "title: any order\n"
                    "correlation:\n"
                    "  type: temporal\n"
                    "  rules: [a, b, c]\n"
                    "  group-by: [host]\n"
                    "  timespan: 10s\n"
                    "---\n"
                    "title: in order\n"
                    "correlation:\n"
                    "  type: temporal_ordered\n"
                    "  rules: [a, b, c]\n"
                    "  group-by: [host]\n"
                    "  timespan: 10s\n";
    fx_init(&f, y, NULL);
    /* c, b, a: all seen (temporal) but not in order */
    fx_feed(&f, "c", 0, "{\"host\":\"h\"}");
    fx_feed(&f, "b", 1, "{\"host\":\"h\"}");
    fx_feed(&f, "b", 1, "{\"host\":\"other\"}");
    T_EQ_INT(f.sink.n, 0);
    fx_feed(&f, "a", 2, "{\"host\":\"h\"}");
    T_EQ_INT(f.sink.n, 1);
    T_EQ_STR(f.sink.a[0].rule->title, "any order");
    T_CHECK(f.sink.a[0].value == 3);
    /* ordered: a(2) then c(3), b(4): a,b seen in order, c still missing */
    fx_feed(&f, "c", 3, "{\"host\":\"h\"}");
    fx_feed(&f, "b", 4, "{\"host\":\"h\"}");
    T_EQ_INT(f.sink.n, 1);
    fx_feed(&f, "c", 5, "{\"host\":\"h\"}");
    T_EQ_INT(f.sink.n, 2);
    T_EQ_STR(f.sink.a[1].rule->title, "in order");
    T_EQ_INT(f.sink.a[1].first_s, 0); /* c(0) b(1) a(2) c(3) b(4) c(5) */
    /* temporal: its window was cleared at 2; c(3) b(4) c(5) lack a */
    T_EQ_INT(fx_stats(&f).alerts, 2);
    /* a at 16 is more than 10 s after b(4)... a, b, c must all fit in 10 s */
    fx_feed(&f, "a", 6, "{\"host\":\"k\"}");
    fx_feed(&f, "b", 7, "{\"host\":\"k\"}");
    fx_feed(&f, "c", 17, "{\"host\":\"k\"}");
    T_EQ_INT(f.sink.n, 2);
    fx_free(&f);
}

static void test_aliases(void)
{
    struct fx f;
    const char *y = "title: error then connection\n"
                    "correlation:\n"
                    "  type: temporal\n"
                    "  rules: [internal_error, new_network_connection]\n"
                    "  group-by: [internal_ip]\n"
                    "  timespan: 10s\n"
                    "  aliases:\n"
                    "    internal_ip:\n"
                    "      internal_error: destination.ip\n"
                    "      new_network_connection: source.ip\n";
    fx_init(&f, y, NULL);
    fx_feed(&f, "internal_error", 0,
            "{\"destination\":{\"ip\":\"10.0.0.1\"},"
            "\"source\":{\"ip\":\"8.8.8.8\"}}");
    /* same IP but in the wrong field for this rule: another group */
    fx_feed(&f, "new_network_connection", 1,
            "{\"destination\":{\"ip\":\"10.0.0.1\"},"
            "\"source\":{\"ip\":\"9.9.9.9\"}}");
    T_EQ_INT(f.sink.n, 0);
    /* an exact key with a dot wins over the path */
    fx_feed(&f, "new_network_connection", 2, "{\"source.ip\":\"10.0.0.1\"}");
    T_EQ_INT(f.sink.n, 1);
    T_EQ_STR(f.sink.a[0].group, "10.0.0.1");
    T_EQ_INT(f.sink.a[0].nevents, 2);
    fx_free(&f);
}

/* ---- bounds and time ---- */

static void test_eviction(void)
{
    struct fx f;
    struct corr_limits lim = {.max_groups = 2};
    fx_init(&f, COUNT3, &lim);
    fx_feed(&f, "fail", 0, "{\"src\":\"a\"}");
    fx_feed(&f, "fail", 1, "{\"src\":\"a\"}");
    fx_feed(&f, "fail", 2, "{\"src\":\"b\"}");
    fx_feed(&f, "fail", 3, "{\"src\":\"a\"}"); /* a is now the most recent: alert */
    T_EQ_INT(f.sink.n, 1);
    fx_feed(&f, "fail", 4, "{\"src\":\"a\"}");
    fx_feed(&f, "fail", 5, "{\"src\":\"b\"}");
    fx_feed(&f, "fail", 6, "{\"src\":\"c\"}"); /* evicts a (least recently updated) */
    T_EQ_INT(fx_stats(&f).evicted, 1);
    T_EQ_INT(fx_stats(&f).groups, 2);
    fx_feed(&f, "fail", 7, "{\"src\":\"a\"}"); /* a starts again (evicts b) */
    fx_feed(&f, "fail", 8, "{\"src\":\"a\"}");
    T_EQ_INT(f.sink.n, 1); /* without eviction a would have 3 now */
    fx_feed(&f, "fail", 9, "{\"src\":\"a\"}");
    T_EQ_INT(f.sink.n, 2);
    T_EQ_INT(fx_stats(&f).evicted, 2);
    fx_free(&f);

    /* many groups: the table grows up to the cap, then evicts */
    lim.max_groups = 300;
    fx_init(&f, COUNT3, &lim);
    for (int i = 0; i < 1000; i++) {
        char ev[64];
        snprintf(ev, sizeof ev, "{\"src\":\"g%d\"}", i);
        fx_feed(&f, "fail", 0, ev);
        fx_feed(&f, "fail", 1, ev);
    }
    T_EQ_INT(fx_stats(&f).groups, 300);
    T_EQ_INT(fx_stats(&f).evicted, 700);
    fx_feed(&f, "fail", 2, "{\"src\":\"g999\"}"); /* kept: a third match alerts */
    fx_feed(&f, "fail", 2, "{\"src\":\"g0\"}");   /* evicted: starts again */
    T_EQ_INT(f.sink.n, 1);
    T_EQ_STR(f.sink.a[0].group, "g999");
    fx_free(&f);
}

static void test_expiry(void)
{
    struct fx f;
    fx_init(&f, COUNT3, NULL);
    for (int i = 0; i < 20; i++) {
        char ev[64];
        snprintf(ev, sizeof ev, "{\"src\":\"g%d\"}", i);
        fx_feed(&f, "fail", i, ev);
    }
    T_EQ_INT(fx_stats(&f).groups, 20);
    /* 200 s later: every old group's newest event is out of the window;
     * each feed expires a bounded number (8) */
    fx_feed(&f, "fail", 200, "{\"src\":\"new\"}");
    T_EQ_INT(fx_stats(&f).expired, 8);
    fx_feed(&f, "fail", 201, "{\"src\":\"new\"}");
    fx_feed(&f, "fail", 202, "{\"src\":\"z\"}");
    T_EQ_INT(fx_stats(&f).expired, 20);
    T_EQ_INT(fx_stats(&f).groups, 2);
    fx_free(&f);
}

static void test_out_of_order(void)
{
    struct fx f;
    fx_init(&f, COUNT3, NULL);
    fx_feed(&f, "fail", 100, "{\"src\":\"a\"}");
    fx_feed(&f, "fail", 39, "{\"src\":\"a\"}"); /* before 100 - 60: late */
    T_EQ_INT(fx_stats(&f).late, 1);
    fx_feed(&f, "fail", 50, "{\"src\":\"a\"}"); /* older but in the window */
    T_EQ_INT(f.sink.n, 0);
    fx_feed(&f, "fail", 90, "{\"src\":\"a\"}");
    T_EQ_INT(f.sink.n, 1);
    /* the window ends at the newest event, not at the late one */
    T_EQ_INT(f.sink.a[0].first_s, 50);
    T_EQ_INT(f.sink.a[0].last_s, 100);
    /* evidence is in time order */
    T_EQ_INT(f.sink.a[0].ev_refs[0], 3);
    T_EQ_INT(f.sink.a[0].ev_refs[1], 4);
    T_EQ_INT(f.sink.a[0].ev_refs[2], 1);
    /* before the end of the window that alerted: never counted again */
    fx_feed(&f, "fail", 95, "{\"src\":\"a\"}");
    T_EQ_INT(fx_stats(&f).late, 2);
    fx_feed(&f, "fail", 100, "{\"src\":\"a\"}"); /* same second as the end: counts */
    fx_feed(&f, "fail", 101, "{\"src\":\"a\"}");
    fx_feed(&f, "fail", 99, "{\"src\":\"a\"}"); /* late */
    T_EQ_INT(f.sink.n, 1);
    fx_feed(&f, "fail", 101, "{\"src\":\"a\"}");
    T_EQ_INT(f.sink.n, 2);
    T_EQ_INT(fx_stats(&f).late, 3);
    fx_free(&f);
}

static void test_entry_bounds(void)
{
    struct fx f;
    const char *y = "title: many\n"
                    "correlation:\n"
                    "  type: event_count\n"
                    "  rules: [fail]\n"
                    "  timespan: 1h\n"
                    "  condition: {gte: 5}\n";
    struct rules rs;
    load(y, &rs);
    struct corr_limits lim = {.max_entries = 4};
    struct corr_engine *eng = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(corr_engine_new(rs.r, rs.n, &lim, &eng, &why), KB_EINVAL);
    T_CHECK(eng == NULL);
    T_CHECKF(strstr(why.msg, "t.yml:1: correlation.condition: needs more than the 4") != NULL, "%s",
             why.msg);
    unload(&rs);

    /* under the entry bound the oldest matches go; evidence is bounded too */
    lim = (struct corr_limits){.max_entries = 8, .max_evidence = 2};
    fx_init(&f, y, &lim);
    for (int i = 0; i < 4; i++)
        fx_feed(&f, "fail", i, "{}"); /* no group-by: one group */
    T_EQ_INT(f.sink.n, 0);
    fx_feed(&f, "fail", 4, "{}");
    T_EQ_INT(f.sink.n, 1);
    T_EQ_INT(f.sink.a[0].nevents, 5);
    T_EQ_INT(f.sink.a[0].nevidence, 2);
    T_EQ_INT(f.sink.a[0].ev_refs[0], 4); /* the newest two, oldest first */
    T_EQ_INT(f.sink.a[0].ev_refs[1], 5);
    fx_free(&f);

    const char *v = "title: distinct\n"
                    "correlation:\n"
                    "  type: value_count\n"
                    "  rules: [fail]\n"
                    "  timespan: 1h\n"
                    "  condition: {field: u, gte: 4}\n";
    lim = (struct corr_limits){.max_entries = 4};
    fx_init(&f, v, &lim);
    fx_feed(&f, "fail", 0, "{\"u\":\"a\"}");
    for (int i = 1; i < 6; i++)
        fx_feed(&f, "fail", i, "{\"u\":\"b\"}");
    T_EQ_INT(fx_stats(&f).entries_dropped, 2);
    fx_feed(&f, "fail", 7, "{\"u\":\"c\"}");
    fx_feed(&f, "fail", 8, "{\"u\":\"d\"}");
    T_EQ_INT(f.sink.n, 0); /* "a" was dropped: b, c, d */
    fx_free(&f);
}

static void test_chaining_and_emit_error(void)
{
    struct fx f;
    const char *y = "title: Multiple failed logins followed by a success\n"
                    "correlation:\n"
                    "  type: temporal_ordered\n"
                    "  rules: [multiple_failed_login, successful_login]\n"
                    "  group-by: [User]\n"
                    "  timespan: 10m\n"
                    "---\n"
                    "title: Multiple failed logins\n"
                    "name: multiple_failed_login\n"
                    "correlation:\n"
                    "  type: event_count\n"
                    "  rules: [failed_login]\n"
                    "  group-by: [User]\n"
                    "  timespan: 10m\n"
                    "  condition: {gte: 3}\n";
    fx_init(&f, y, NULL);
    fx_feed(&f, "successful_login", 0, "{\"User\":\"bob\"}"); /* before the failures */
    for (int i = 1; i <= 3; i++)
        fx_feed(&f, "failed_login", i, "{\"User\":\"bob\"}");
    T_EQ_INT(f.sink.n, 1);
    T_EQ_STR(f.sink.a[0].rule->title, "Multiple failed logins");
    T_EQ_INT(f.sink.a[0].depth, 0);
    fx_feed(&f, "successful_login", 60, "{\"User\":\"bob\"}");
    T_EQ_INT(f.sink.n, 2);
    T_EQ_STR(f.sink.a[1].rule->title, "Multiple failed logins followed by a success");
    T_EQ_INT(f.sink.a[1].depth, 0); /* a base match (the success) completed it */
    /* the window's oldest event is the success at 0, which is not part of
     * the order; the chained match itself is at the inner alert's end (3) */
    T_EQ_INT(f.sink.a[1].first_s, 0);
    T_EQ_INT(f.sink.a[1].nevents, 3);
    T_EQ_INT(f.sink.a[1].last_s, 60);

    /* an emit error stops the feed and comes back */
    f.sink.fail_with = KB_EIO;
    for (int i = 100; i < 102; i++)
        T_EQ_INT(fx_feed(&f, "failed_login", i, "{\"User\":\"eve\"}"), KB_OK);
    T_EQ_INT(fx_feed(&f, "failed_login", 102, "{\"User\":\"eve\"}"), KB_EIO);
    T_EQ_INT(f.sink.n, 3);
    fx_free(&f);
}

static void test_chain_depth(void)
{
    struct fx f;
    const char *y = "title: burst and login\n"
                    "correlation:\n"
                    "  type: temporal\n"
                    "  rules: [burst, login]\n"
                    "  group-by: [User]\n"
                    "  timespan: 1m\n"
                    "---\n"
                    "title: burst\n"
                    "name: burst\n"
                    "correlation:\n"
                    "  type: event_count\n"
                    "  rules: [fail]\n"
                    "  group-by: [User]\n"
                    "  timespan: 1m\n"
                    "  condition: {gte: 2}\n"
                    "---\n"
                    "title: loop\n"
                    "name: loop\n"
                    "correlation:\n"
                    "  type: event_count\n"
                    "  rules: [loop, seed]\n"
                    "  timespan: 1m\n"
                    "  condition: {gte: 1}\n";
    fx_init(&f, y, NULL);
    fx_feed(&f, "login", 0, "{\"User\":\"bob\"}");
    fx_feed(&f, "fail", 1, "{\"User\":\"bob\"}");
    fx_feed(&f, "fail", 2, "{\"User\":\"bob\"}");
    T_EQ_INT(f.sink.n, 2);
    T_EQ_STR(f.sink.a[0].rule->title, "burst");
    T_EQ_INT(f.sink.a[0].depth, 0);
    T_EQ_STR(f.sink.a[1].rule->title, "burst and login"); /* completed by the chained match */
    T_EQ_INT(f.sink.a[1].depth, 1);
    T_EQ_INT(f.sink.a[1].first_s, 0);
    T_EQ_INT(f.sink.a[1].last_s, 2);
    /* a rule that feeds itself stops at CORR_MAX_CHAIN */
    f.sink.n = 0;
    fx_feed(&f, "seed", 10, "{}");
    T_EQ_INT(f.sink.n, CORR_MAX_CHAIN);
    T_EQ_INT(f.sink.a[CORR_MAX_CHAIN - 1].depth, CORR_MAX_CHAIN - 1);
    /* extreme event times do not overflow the window arithmetic */
    struct json_value *ev = NULL;
    char js[] = "{\"User\":\"zed\"}";
    T_EQ_INT(json_parse(js, strlen(js), NULL, &f.ar, &ev, NULL), KB_OK);
    struct corr_match m = {"fail", NULL, INT64_MIN, 1, ev}; /* a new group at INT64_MIN */
    T_EQ_INT(corr_feed(f.eng, &m, lookup, on_alert, &f.sink), KB_OK);
    m.time_ms = INT64_MAX;
    T_EQ_INT(corr_feed(f.eng, &m, lookup, on_alert, &f.sink), KB_OK);
    T_EQ_INT(f.sink.n, CORR_MAX_CHAIN); /* INT64_MIN left the window: count 1 */
    fx_free(&f);
}

int main(void)
{
    T_RUN(test_event_count_threshold);
    T_RUN(test_window_boundary);
    T_RUN(test_groups_separate);
    T_RUN(test_value_count);
    T_RUN(test_value_sum_avg);
    T_RUN(test_temporal);
    T_RUN(test_aliases);
    T_RUN(test_eviction);
    T_RUN(test_expiry);
    T_RUN(test_out_of_order);
    T_RUN(test_entry_bounds);
    T_RUN(test_chaining_and_emit_error);
    T_RUN(test_chain_depth);
    return t_done();
}
