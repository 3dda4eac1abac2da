/*
 * test_sigma_corpus.c — loading the public SigmaHQ rule set
 * (../shared/data/sigma/rules*): every YAML file is loaded; the tests pin
 * how many rules load, list why the others fail, and require every rule of
 * rules/cloud/aws, rules/cloud/gcp and rules/linux to load.
 */
#include "test_sigma_util.h"

struct corpus {
    struct sigma_ruleset *rs;
    size_t files, loaded, failed_files;
};

static void load_one(const char *path, void *ctx)
{
    struct corpus *c = ctx;
    size_t n = 0;
    struct kb_why why = {{0}};
    c->files++;
    if (sigma_load_file(path, c->rs, &n, &why) != KB_OK)
        c->failed_files++;
    c->loaded += n;
}

static void load_dir(const char *data, const char *sub, struct corpus *c)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sigma/%s", data, sub);
    T_CHECK(sigma_ruleset_new(NULL, &c->rs, NULL) == KB_OK);
    su_walk(dir, ".yml", load_one, c, 0);
}

static void print_errors(const struct sigma_ruleset *rs, size_t max)
{
    for (size_t i = 0; i < sigma_ruleset_nerrors(rs) && i < max; i++)
        fprintf(stderr, "    %s\n", sigma_ruleset_error(rs, i));
}

/* Every file of these folders must load without an error. */
static void test_cloud_and_linux_load_whole(void)
{
    T_NEED_DATA(data);
    static const struct {
        const char *sub;
        size_t rules;
    } dirs[] = {{"rules/cloud/aws", 57}, {"rules/cloud/gcp", 26}, {"rules/linux", 210}};
    for (size_t i = 0; i < KB_ARRAY_LEN(dirs); i++) {
        struct corpus c = {0};
        load_dir(data, dirs[i].sub, &c);
        print_errors(c.rs, 20);
        T_EQ_INT(c.files, dirs[i].rules);
        T_EQ_INT(c.loaded, dirs[i].rules);
        T_EQ_INT(sigma_ruleset_nerrors(c.rs), 0);
        T_EQ_INT(sigma_ruleset_count(c.rs), dirs[i].rules);
        sigma_ruleset_free(c.rs);
    }
}

/* The whole of rules/: the count that loads, and why the rest fail. */
static void test_all_rules(void)
{
    T_NEED_DATA(data);
    struct corpus c = {0};
    load_dir(data, "rules", &c);
    fprintf(stderr, "  rules/: %zu files, %zu rules loaded, %zu files with errors\n", c.files,
            c.loaded, c.failed_files);
    print_errors(c.rs, 50);
    T_CHECK(c.files >= 3000);
    T_EQ_INT(c.loaded + sigma_ruleset_nerrors(c.rs), c.files);
    T_EQ_INT(sigma_ruleset_nerrors(c.rs), 0);
    sigma_ruleset_free(c.rs);
}

/* The other folders: two emerging-threat rules use `expand` with a
 * placeholder (%known_cdcs%) that only a deployment can define; they fail
 * with a clear error until the caller passes it. */
static void test_other_rule_folders(void)
{
    T_NEED_DATA(data);
    static const char *const subs[] = {"rules-emerging-threats", "rules-threat-hunting"};
    static const size_t errors[] = {2, 0};
    for (size_t i = 0; i < KB_ARRAY_LEN(subs); i++) {
        struct corpus c = {0};
        load_dir(data, subs[i], &c);
        fprintf(stderr, "  %s: %zu files, %zu rules loaded\n", subs[i], c.files, c.loaded);
        print_errors(c.rs, 20);
        T_CHECK(c.files > 100);
        T_EQ_INT(c.loaded + sigma_ruleset_nerrors(c.rs), c.files);
        T_EQ_INT(sigma_ruleset_nerrors(c.rs), errors[i]);
        for (size_t k = 0; k < sigma_ruleset_nerrors(c.rs); k++)
            T_CHECK(strstr(sigma_ruleset_error(c.rs, k),
                           "|expand: unresolved placeholder '%known_cdcs%'") != NULL);
        sigma_ruleset_free(c.rs);
    }
    /* with the placeholder defined, everything loads */
    static const char *const cdcs[] = {"dc01.corp.example", "10.0.0.5"};
    struct sigma_placeholder ph = {"known_cdcs", cdcs, 2};
    struct sigma_options opt = {.placeholders = &ph, .nplaceholders = 1};
    struct corpus c = {0};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sigma/rules-emerging-threats", data);
    T_CHECK(sigma_ruleset_new(&opt, &c.rs, NULL) == KB_OK);
    su_walk(dir, ".yml", load_one, &c, 0);
    T_EQ_INT(sigma_ruleset_nerrors(c.rs), 0);
    T_EQ_INT(c.loaded, c.files);
    sigma_ruleset_free(c.rs);
}

int main(void)
{
    T_RUN(test_cloud_and_linux_load_whole);
    T_RUN(test_all_rules);
    T_RUN(test_other_rule_folders);
    return t_done();
}
