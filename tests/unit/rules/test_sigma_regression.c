/*
 * test_sigma_regression.c — SigmaHQ's own regression cases
 * (../shared/data/sigma/regression_data): per rule an info.yml with the
 * rule id and the expected match_count, and the events as JSON (Windows
 * event logs rendered to JSON, several concatenated in one file).
 *
 * A Windows event {"Event": {"System": {...}, "EventData": {...}}} is
 * flattened the way Sigma's Windows rules name fields: the scalar members
 * of System (EventID, Channel, Computer...), Provider_Name, and the members
 * of EventData (or of the one element of UserData). The flattening is the
 * test's business, not the engine's: koban has no Windows source. Spaces
 * are dropped from EventData names (Defender's "Source Name" is the
 * rules' SourceName), as Windows event tooling does.
 *
 * Where koban's count differs from match_count, the JSON holds more events
 * that satisfy the rule than the case expects (the count was taken on the
 * .evtx, which is not here); each is listed in `differs` with koban's count
 * and the reason, and checked as such.
 */
#include "lib/buf.h"
#include "test_sigma_util.h"

#include <yaml.h>

static void load_rules(const char *path, void *ctx)
{
    sigma_load_file(path, ctx, NULL, NULL);
}

/* Appends "key": <the value's JSON text> for each scalar member of obj. */
static void put_members(struct buf *b, const struct json_value *obj, const char *text, bool *first)
{
    for (const struct json_value *m = obj ? obj->u.child : NULL; m; m = m->next) {
        if (m->type == JSON_OBJECT || m->type == JSON_ARRAY)
            continue;
        if (memchr(m->key, '"', m->key_len) || memchr(m->key, '\\', m->key_len))
            continue;
        buf_puts(b, *first ? "\"" : ",\"");
        for (uint32_t i = 0; i < m->key_len; i++) /* "Source Name" is SourceName */
            if (m->key[i] != ' ')
                buf_putc(b, m->key[i]);
        buf_printf(b, "\":%.*s", (int)m->src_len, text + m->src_off);
        *first = false;
    }
}

static void flatten(const struct json_value *root, const char *text, struct buf *b)
{
    const struct json_value *ev = json_get(root, "Event");
    const struct json_value *sys = json_get(ev, "System");
    bool first = true;
    buf_reset(b);
    buf_putc(b, '{');
    put_members(b, sys, text, &first);
    const struct json_value *prov = json_path(sys, "Provider.#attributes.Name");
    if (prov)
        buf_printf(b, "%s\"Provider_Name\":%.*s", first ? "" : ",", (int)prov->src_len,
                   text + prov->src_off), first = false;
    put_members(b, json_get(ev, "EventData"), text, &first);
    const struct json_value *ud = json_get(ev, "UserData");
    if (ud && ud->type == JSON_OBJECT && ud->u.child)
        put_members(b, ud->u.child, text, &first);
    buf_putc(b, '}');
}

/* How many events of a JSON file the rule matches; -1 on a parse error. */
static int count_matches(const struct sigma_rule *r, const char *path)
{
    size_t len = 0;
    char *text = t_read_file(path, &len);
    struct arena a = ARENA_INIT(64u << 20), fa = ARENA_INIT(16u << 20);
    struct buf flat = BUF_INIT(1u << 20);
    int count = 0;
    size_t off = 0;
    while (text && off < len) {
        while (off < len && strchr(" \t\r\n", text[off]))
            off++;
        if (off >= len)
            break;
        struct json_value *v = NULL, *fv = NULL;
        size_t used = 0;
        if (json_parse_prefix(text + off, len - off, NULL, &a, &v, &used, NULL) != KB_OK) {
            count = -1;
            break;
        }
        flatten(v, text + off, &flat);
        arena_reset(&fa);
        if (json_parse(flat.p, flat.len, NULL, &fa, &fv, NULL) != KB_OK) {
            count = -1;
            break;
        }
        struct sigma_event sev = {fv, flat.p, flat.len};
        bool m = false;
        sigma_match(r, &sev, &m);
        count += m;
        off += used;
    }
    buf_release(&flat);
    arena_release(&a);
    arena_release(&fa);
    free(text);
    return count;
}

struct regr {
    struct sigma_ruleset *rs;
    int cases, no_count, no_rule, pass, fail, differ;
};

/* Reads rule id and the first match_count from info.yml (libyaml). */
static bool read_info(const char *path, char *id, size_t idsz, long *count)
{
    size_t len = 0;
    char *t = t_read_file(path, &len);
    yaml_parser_t p;
    yaml_document_t doc;
    bool ok = false;
    *count = -1;
    id[0] = '\0';
    if (!t || !yaml_parser_initialize(&p)) {
        free(t);
        return false;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)t, len);
    if (yaml_parser_load(&p, &doc)) {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        for (yaml_node_pair_t *pr = root && root->type == YAML_MAPPING_NODE
                                        ? root->data.mapping.pairs.start
                                        : NULL;
             pr && pr < root->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
            yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
            const char *ks = (const char *)k->data.scalar.value;
            if (strcmp(ks, "rule_metadata") == 0 && v->type == YAML_SEQUENCE_NODE &&
                v->data.sequence.items.top > v->data.sequence.items.start) {
                yaml_node_t *m = yaml_document_get_node(&doc, v->data.sequence.items.start[0]);
                for (yaml_node_pair_t *q = m->data.mapping.pairs.start;
                     m->type == YAML_MAPPING_NODE && q < m->data.mapping.pairs.top; q++) {
                    yaml_node_t *qk = yaml_document_get_node(&doc, q->key);
                    yaml_node_t *qv = yaml_document_get_node(&doc, q->value);
                    if (strcmp((const char *)qk->data.scalar.value, "id") == 0)
                        snprintf(id, idsz, "%s", (const char *)qv->data.scalar.value);
                }
            }
            if (strcmp(ks, "regression_tests_info") == 0 && v->type == YAML_SEQUENCE_NODE &&
                v->data.sequence.items.top > v->data.sequence.items.start) {
                yaml_node_t *m = yaml_document_get_node(&doc, v->data.sequence.items.start[0]);
                for (yaml_node_pair_t *q = m->data.mapping.pairs.start;
                     m->type == YAML_MAPPING_NODE && q < m->data.mapping.pairs.top; q++) {
                    yaml_node_t *qk = yaml_document_get_node(&doc, q->key);
                    yaml_node_t *qv = yaml_document_get_node(&doc, q->value);
                    if (strcmp((const char *)qk->data.scalar.value, "match_count") == 0)
                        *count = strtol((const char *)qv->data.scalar.value, NULL, 10);
                }
            }
        }
        ok = id[0] != '\0';
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&p);
    free(t);
    return ok;
}

/* rule id, koban's count: every listed event satisfies the rule as written */
static const struct {
    const char *id;
    int count;
} differs[] = {
    /* 3 FileCreate events under AnyDesk\user.conf (.new, ~RF...TMP, .new) */
    {"0b9ad457-2554-44c1-82c2-d56a99c42377", 3},
    /* procdump64.exe, procdump64a.exe and procdump.exe each end a listed name */
    {"8fbf3271-1ef6-4e94-8210-03c2317947f6", 3},
    /* 3 SetValue of ZoneMap\Domains\... with DWORD 2 (https, http, *) */
    {"45e112d0-7759-4c2a-aa36-9f8fb79d3393", 3},
    /* AutoShareServer and AutoShareWks both set to DWORD 0 */
    {"c7dcacd0-cc59-4004-b0a4-1d6cdebe6f3e", 2},
};

static void run_case(const char *info, void *ctx)
{
    struct regr *g = ctx;
    char id[80], json[4096];
    long want = -1;
    g->cases++;
    if (!read_info(info, id, sizeof id, &want) || want < 0) {
        g->no_count++;
        return;
    }
    const struct sigma_rule *r = sigma_ruleset_find(g->rs, id);
    if (!r) {
        g->no_rule++;
        fprintf(stderr, "    %s: rule %s not loaded\n", info, id);
        return;
    }
    snprintf(json, sizeof json, "%.*s/%s.json", (int)(strrchr(info, '/') - info), info, id);
    int got = count_matches(r, json);
    for (size_t i = 0; i < KB_ARRAY_LEN(differs); i++)
        if (strcmp(differs[i].id, id) == 0) {
            g->differ++;
            want = differs[i].count;
        }
    if (got == want) {
        g->pass++;
    } else {
        g->fail++;
        fprintf(stderr, "    %s: %s: match_count %ld, koban %d\n", sigma_rule_file(r), id, want,
                got);
    }
}

static void test_regression_data(void)
{
    T_NEED_DATA(data);
    struct regr g = {0};
    T_CHECK(sigma_ruleset_new(NULL, &g.rs, NULL) == KB_OK);
    static const char *const subs[] = {"rules", "rules-emerging-threats", "rules-threat-hunting"};
    char dir[4096];
    for (size_t i = 0; i < KB_ARRAY_LEN(subs); i++) {
        snprintf(dir, sizeof dir, "%s/sigma/%s", data, subs[i]);
        su_walk(dir, ".yml", load_rules, g.rs, 0);
    }
    snprintf(dir, sizeof dir, "%s/sigma/regression_data", data);
    su_walk(dir, "info.yml", run_case, &g, 0);
    fprintf(stderr, "  regression cases: %d; with match_count %d; rule not loaded %d; "
            "pass %d (of which %d with koban's count, see differs); fail %d\n", g.cases,
            g.cases - g.no_count, g.no_rule, g.pass, g.differ, g.fail);
    T_EQ_INT(g.differ, KB_ARRAY_LEN(differs));
    T_CHECK(g.cases >= 200);
    T_EQ_INT(g.no_rule, 0);
    T_EQ_INT(g.fail, 0);
    T_EQ_INT(g.pass, g.cases - g.no_count);
    sigma_ruleset_free(g.rs);
}

int main(void)
{
    T_RUN(test_regression_data);
    return t_done();
}
