/*
 * test_sigma_reference.c — koban's Sigma engine against the reference
 * results in ../shared/data/expected (made with an independent evaluator):
 *   - the 57 rules of sigma/rules/cloud/aws over cloudtrail/stratus
 *     (each file a JSON array of CloudTrail records) and cloudtrail/otrf
 *     (JSON lines);
 *   - the auditd rules of sigma/rules/linux/auditd over auditd/otrf.
 * Each test pins the exact set of (file, event index, rule id) koban
 * produces: the reference set, adjusted where koban's answer differs on
 * purpose (each difference is explained next to the list, and in
 * docs/RULES.md).
 */
#include "test_sigma_util.h"

#define MAX_HITS 512

struct hits {
    char line[MAX_HITS][160]; /* "file\tindex\trule-id" */
    size_t n;
};

static void hits_add(struct hits *h, const char *file, size_t idx, const char *id)
{
    if (h->n < MAX_HITS)
        snprintf(h->line[h->n++], sizeof h->line[0], "%s\t%zu\t%s", file, idx, id);
}

static bool hits_has(const struct hits *h, const char *line)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->line[i], line) == 0)
            return true;
    return false;
}

static void load_rules(const char *path, void *ctx)
{
    struct kb_why why = {{0}};
    if (sigma_load_file(path, ctx, NULL, &why) != KB_OK)
        fprintf(stderr, "    %s\n", why.msg);
}

static struct sigma_ruleset *rules_of(const char *data, const char *sub, size_t *n)
{
    char dir[4096];
    struct sigma_ruleset *rs = NULL;
    snprintf(dir, sizeof dir, "%s/sigma/%s", data, sub);
    if (sigma_ruleset_new(NULL, &rs, NULL) != KB_OK)
        return NULL;
    *n = su_walk(dir, ".yml", load_rules, rs, 0);
    return rs;
}

/* Runs every rule of rs over each JSON value of a file (an array's
 * elements, or each value of JSON lines), indexing events from 0. */
struct runctx {
    struct sigma_ruleset *rs;
    const char *source;
    struct hits *h;
    size_t events;
};

struct onectx {
    struct hits *h;
    const char *file;
    size_t idx;
};

static kb_err on_match(void *ctx, const struct sigma_rule *r, const struct sigma_event *ev)
{
    struct onectx *o = ctx;
    hits_add(o->h, o->file, o->idx, sigma_rule_id(r));
    return KB_OK;
}

static void run_event(struct runctx *x, const char *base, size_t idx, const struct json_value *v,
                      const char *text, size_t len)
{
    struct sigma_event ev = {v, text, len};
    struct onectx o = {x->h, base, idx};
    sigma_match_all(x->rs, x->source, &ev, on_match, &o);
    x->events++;
}

static void run_file(const char *path, void *ctx)
{
    struct runctx *x = ctx;
    size_t len = 0;
    char *text = t_read_file(path, &len);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct arena a = ARENA_INIT(256u << 20);
    size_t off = 0, idx = 0;
    while (text && off < len) {
        while (off < len && (text[off] == ' ' || text[off] == '\n' || text[off] == '\r' ||
                             text[off] == '\t'))
            off++;
        if (off >= len)
            break;
        struct json_value *v = NULL;
        size_t used = 0;
        struct json_error err;
        /* offsets must be relative to the text handed to the parser */
        if (json_parse_prefix(text + off, len - off, NULL, &a, &v, &used, &err) != KB_OK) {
            fprintf(stderr, "    %s: %s\n", base, err.msg);
            break;
        }
        if (v->type == JSON_ARRAY) {
            for (const struct json_value *e = v->u.child; e; e = e->next)
                run_event(x, base, idx++, e, text + off, len - off);
        } else {
            run_event(x, base, idx++, v, text + off, len - off);
        }
        off += used;
    }
    arena_release(&a);
    free(text);
}

static void read_expected(const char *path, struct hits *h)
{
    size_t len = 0;
    char *t = t_read_file(path, &len);
    for (char *line = t; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char file[128] = "", id[64] = "";
        size_t idx = 0;
        if (sscanf(line, "%127[^\t]\t%zu\t%63[^\t]", file, &idx, id) == 3)
            hits_add(h, file, idx, id);
        line = nl ? nl + 1 : line + strlen(line);
    }
    free(t);
}

/* Compares koban's hits with the reference adjusted by `extra` (koban
 * matches the reference lacks) and `missing` (reference matches koban
 * rejects), both explained at the call site. */
static void compare(const struct hits *got, const struct hits *ref, const char *const *extra,
                    const char *const *missing)
{
    size_t same = 0;
    for (size_t i = 0; i < ref->n; i++) {
        bool want = true;
        for (const char *const *m = missing; *m; m++)
            if (strcmp(*m, ref->line[i]) == 0)
                want = false;
        bool have = hits_has(got, ref->line[i]);
        T_CHECKF(have == want, "%s: reference %s, koban %s", ref->line[i], "match",
                 have ? "match" : "no match");
        same += have;
    }
    for (size_t i = 0; i < got->n; i++) {
        if (hits_has(ref, got->line[i]))
            continue;
        bool expected = false;
        for (const char *const *e = extra; *e; e++)
            if (strcmp(*e, got->line[i]) == 0)
                expected = true;
        T_CHECKF(expected, "%s: koban matches, the reference does not", got->line[i]);
    }
    for (const char *const *e = extra; *e; e++)
        T_CHECKF(hits_has(got, *e), "%s: expected koban to match", *e);
    fprintf(stderr, "  koban %zu matches, reference %zu, in common %zu\n", got->n, ref->n, same);
}

static void test_aws_stratus(void)
{
    T_NEED_DATA(data);
    size_t nrules = 0;
    struct sigma_ruleset *rs = rules_of(data, "rules/cloud/aws", &nrules);
    T_EQ_INT(nrules, 57);
    T_EQ_INT(sigma_ruleset_count(rs), 57);
    static struct hits got, ref;
    memset(&got, 0, sizeof got);
    memset(&ref, 0, sizeof ref);
    struct runctx x = {rs, "cloudtrail", &got, 0};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/cloudtrail/stratus", data);
    su_walk(dir, ".json", run_file, &x, 0);
    T_EQ_INT(x.events, 310);
    snprintf(dir, sizeof dir, "%s/expected/aws_rules__stratus_detonation_logs.tsv", data);
    read_expected(dir, &ref);
    T_EQ_INT(ref.n, 80);
    static const char *const extra[] = {NULL};
    static const char *const missing[] = {NULL};
    compare(&got, &ref, extra, missing);
    sigma_ruleset_free(rs);
}

static void test_aws_otrf(void)
{
    T_NEED_DATA(data);
    size_t nrules = 0;
    struct sigma_ruleset *rs = rules_of(data, "rules/cloud/aws", &nrules);
    static struct hits got, ref;
    memset(&got, 0, sizeof got);
    memset(&ref, 0, sizeof ref);
    struct runctx x = {rs, "cloudtrail", &got, 0};
    char path[4096];
    snprintf(path, sizeof path, "%s/cloudtrail/otrf", data);
    su_walk(path, ".json", run_file, &x, 0);
    T_EQ_INT(x.events, 103);
    snprintf(path, sizeof path, "%s/expected/aws_rules__otrf_ec2_proxy_s3.tsv", data);
    read_expected(path, &ref);
    T_EQ_INT(ref.n, 11);
    static const char *const extra[] = {NULL};
    static const char *const missing[] = {NULL};
    compare(&got, &ref, extra, missing);
    sigma_ruleset_free(rs);
}

static void test_auditd_otrf(void)
{
    T_NEED_DATA(data);
    size_t nrules = 0;
    struct sigma_ruleset *rs = rules_of(data, "rules/linux/auditd", &nrules);
    T_EQ_INT(sigma_ruleset_count(rs), nrules);
    static struct hits got, ref;
    memset(&got, 0, sizeof got);
    memset(&ref, 0, sizeof ref);
    struct runctx x = {rs, "syslog", &got, 0};
    char path[4096];
    snprintf(path, sizeof path, "%s/auditd/otrf", data);
    su_walk(path, ".jsonl", run_file, &x, 0);
    T_EQ_INT(x.events, 18);
    snprintf(path, sizeof path, "%s/expected/auditd_rules__otrf_linux.tsv", data);
    read_expected(path, &ref);
    T_EQ_INT(ref.n, 2);
    static const char *const extra[] = {NULL};
    static const char *const missing[] = {NULL};
    compare(&got, &ref, extra, missing);
    sigma_ruleset_free(rs);
}

int main(void)
{
    T_RUN(test_aws_stratus);
    T_RUN(test_aws_otrf);
    T_RUN(test_auditd_otrf);
    return t_done();
}
