/* test_sigma_mapfile.c — the user's mapping file: its tables reach the
 * ruleset (a custom logsource runs its rules on the named source, a field
 * mapping finds a renamed field, a placeholder expands), and every error
 * names the line and the key. */
#include "lib/arena.h"
#include "rules/sigma_mapfile.h"
#include "test.h"

static const char *const MAP =
    "logsources:\n"
    "  - {product: acme, service: audit, source: generic}\n"
    "fields:\n"
    "  - {source: generic, sigma: acme.user, event: actor.name}\n"
    "placeholders:\n"
    "  admins: [root, admin]\n"
    "  single: toor\n";

static const char *const RULES =
    "title: acme admin action\n"
    "id: 11111111-1111-4111-8111-111111111111\n"
    "logsource: {product: acme, service: audit}\n"
    "detection:\n"
    "  sel:\n"
    "    acme.user|expand: '%admins%'\n"
    "  condition: sel\n"
    "level: high\n";

static int hits;
static kb_err on_match(void *ctx, const struct sigma_rule *r, const struct sigma_event *ev)
{
    (void)ctx, (void)r, (void)ev;
    hits++;
    return KB_OK;
}

static int run(const struct sigma_ruleset *rs, const char *json)
{
    struct arena a = ARENA_INIT(1 << 20);
    struct json_value *v = NULL;
    T_EQ_INT(json_parse(json, strlen(json), NULL, &a, &v, NULL), KB_OK);
    struct sigma_event ev = {v, json, strlen(json)};
    hits = 0;
    T_EQ_INT(sigma_match_all(rs, "generic", &ev, on_match, NULL), KB_OK);
    arena_release(&a);
    return hits;
}

static void test_tables_reach_the_ruleset(void)
{
    struct sigma_mapfile *m = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(sigma_mapfile_parse(MAP, strlen(MAP), "map.yml", &m, &why), KB_OK);
    if (!m)
        return;
    struct sigma_options opt;
    memset(&opt, 0, sizeof opt);
    sigma_mapfile_apply(m, &opt);
    struct sigma_ruleset *rs = NULL;
    T_EQ_INT(sigma_ruleset_new(&opt, &rs, &why), KB_OK);
    sigma_mapfile_free(m); /* the ruleset copied the tables */
    size_t n = 0;
    T_EQ_INT(sigma_load_buffer(RULES, strlen(RULES), "r.yml", rs, &n, &why), KB_OK);
    T_EQ_INT(n, 1);
    T_EQ_STR(sigma_logsource_source(rs, "acme", "audit", NULL), "generic");
    T_EQ_INT(run(rs, "{\"actor\":{\"name\":\"admin\"}}"), 1); /* mapped field, expanded value */
    T_EQ_INT(run(rs, "{\"actor\":{\"name\":\"root\"}}"), 1);
    T_EQ_INT(run(rs, "{\"actor\":{\"name\":\"alice\"}}"), 0);
    sigma_ruleset_free(rs);

    /* without the file the same rule cannot even load (unknown placeholder) */
    T_EQ_INT(sigma_ruleset_new(NULL, &rs, &why), KB_OK);
    n = 0;
    sigma_load_buffer(RULES, strlen(RULES), "r.yml", rs, &n, &why);
    T_EQ_INT(n, 0);
    T_CHECK(sigma_ruleset_nerrors(rs) >= 1);
    sigma_ruleset_free(rs);
}

static void bad(const char *text, const char *want)
{
    struct sigma_mapfile *m = (struct sigma_mapfile *)&hits; /* must be reset */
    struct kb_why why = {{0}};
    T_CHECK(sigma_mapfile_parse(text, strlen(text), "m.yml", &m, &why) != KB_OK);
    T_CHECK(m == NULL);
    T_CHECKF(strstr(why.msg, want) != NULL, "want '%s' in '%s'", want, why.msg);
}

static void test_errors(void)
{
    bad("logsources: {a: b}\n", "m.yml:1: logsources: expected a list");
    bad("logsources:\n  - {source: generic}\n", "m.yml:2: logsources: a row needs at least one");
    bad("logsources:\n  - {product: x, sorce: generic}\n", "m.yml:2: logsources: unknown key 'sorce'");
    bad("fields:\n  - {sigma: a}\n", "m.yml:2: fields: a row needs both sigma and event");
    bad("fields:\n  - {sigma: a, event: [x]}\n", "m.yml:2: fields.event: expected a text value");
    bad("placeholders:\n  x: {a: b}\n", "m.yml:2: placeholders.x: expected a value or a list");
    bad("placeholders:\n  x: [a, [b]]\n", "m.yml:2: placeholders.x: each value is text");
    bad("rules: []\n", "m.yml:1: (top): unknown key 'rules'");
    bad("- a\n", "m.yml:1: (top): expected a mapping");
    bad("logsources: [\n", "m.yml:");
    struct sigma_mapfile *m = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(sigma_mapfile_load("/nonexistent/map.yml", &m, &why), KB_EIO);
    T_CHECK(strstr(why.msg, "/nonexistent/map.yml") != NULL);
    T_EQ_INT(sigma_mapfile_parse("", 0, "empty.yml", &m, &why), KB_OK); /* empty: no rows */
    sigma_mapfile_free(m);
}

int main(void)
{
    T_RUN(test_tables_reach_the_ruleset);
    T_RUN(test_errors);
    return t_done();
}
