/* test_version.c — the public face of version ordering: OSV ecosystem
 * names, dispatch to each ecosystem, the length bound. The orderings
 * themselves are checked line by line in test_version_a.c and _b.c. */
#include "test.h"
#include "vuln/version.h"

static int cmp(enum version_eco eco, const char *a, const char *b)
{
    int c = 99;
    struct kb_why why = {{0}};
    T_EQ_INT(version_compare(eco, a, b, &c, &why), KB_OK);
    return c < 0 ? -1 : c > 0;
}

static void test_names(void)
{
    static const struct {
        const char *osv;
        enum version_eco eco;
    } cases[] = {
        {"Debian:12", VERSION_DEBIAN}, {"Ubuntu:22.04:LTS", VERSION_DEBIAN},
        {"Red Hat", VERSION_RPM},      {"Alpine:v3.18", VERSION_ALPINE},
        {"PyPI", VERSION_PYPI},        {"npm", VERSION_SEMVER},
        {"Go", VERSION_SEMVER},        {"crates.io", VERSION_SEMVER},
        {"Maven", VERSION_MAVEN},      {"NuGet", VERSION_NUGET},
        {"RubyGems", VERSION_RUBYGEMS}, {"Packagist", VERSION_PACKAGIST},
        {"Pub", VERSION_PUB},          {"CRAN", VERSION_CRAN},
        {"Hackage", VERSION_HACKAGE},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        enum version_eco e = VERSION_ECO_COUNT;
        T_EQ_INT(version_eco_parse(cases[i].osv, &e), KB_OK);
        T_CHECKF(e == cases[i].eco, "%s", cases[i].osv);
    }
    enum version_eco e;
    T_EQ_INT(version_eco_parse("Bitnami", &e), KB_ENOTFOUND);
    T_EQ_INT(version_eco_parse("", &e), KB_ENOTFOUND);
    T_EQ_INT(version_eco_parse(NULL, &e), KB_ENOTFOUND);
    T_EQ_STR(version_eco_name(VERSION_DEBIAN), "debian");
    T_EQ_STR(version_eco_name(VERSION_ECO_COUNT), "?");
}

static void test_dispatch(void)
{
    T_EQ_INT(cmp(VERSION_DEBIAN, "1.0~rc1", "1.0"), -1);
    T_EQ_INT(cmp(VERSION_RPM, "1.0^git1", "1.0"), 1);
    T_EQ_INT(cmp(VERSION_PYPI, "1.0rc1", "1.0"), -1);
    T_EQ_INT(cmp(VERSION_SEMVER, "v1.2.3-alpha", "1.2.3"), -1);
    T_EQ_INT(cmp(VERSION_MAVEN, "1.0-SNAPSHOT", "1.0"), -1);
    T_EQ_INT(cmp(VERSION_RUBYGEMS, "1.0.a", "1.0"), -1);
    T_EQ_INT(cmp(VERSION_NUGET, "1.0.0-BETA", "1.0.0-beta"), 0);
    T_EQ_INT(cmp(VERSION_ALPINE, "1.2.3-r1", "1.2.3-r0"), 1);
    T_CHECK(version_valid(VERSION_SEMVER, "1.2.3"));
    T_CHECK(!version_valid(VERSION_ECO_COUNT, "1"));
    char longv[VERSION_MAX_LEN + 2];
    memset(longv, '1', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    int c;
    struct kb_why why = {{0}};
    T_EQ_INT(version_compare(VERSION_DEBIAN, longv, "1", &c, &why), KB_ETOOBIG);
    T_EQ_INT(version_compare(VERSION_ECO_COUNT, "1", "1", &c, &why), KB_EINVAL);
}

int main(void)
{
    T_RUN(test_names);
    T_RUN(test_dispatch);
    return t_done();
}
