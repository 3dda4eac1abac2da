/* test_osv.c — OSV evaluation: every record of ../shared/data/osv/records
 * parses; the log4j and demonstration records there are evaluated; then
 * records written here for each range rule of the OSV specification
 * (introduced "0", several introduced/fixed pairs, last_affected, limit,
 * unsorted events, versions equal to an event, SemVer prereleases, Debian
 * and PyPI orderings, GIT ranges with versions, an ecosystem without
 * ordering), and random ranges checked against the specification's
 * pseudo-code written out literally. Groups and parsing: test_osv_b.c. */
#include "osv_testlib.h"
#include "vuln/version.h"

/* A record with one affected entry and one range; events written
 * compactly: "i=0 f=1.0.2 la=2.0 l=3.0" (introduced, fixed, last_affected,
 * limit), in the order given. */
static struct osv_record *range_rec(const char *eco, const char *name, const char *type,
                                    const char *events, int line)
{
    char ev[2048] = "", json[4096];
    size_t n = 0;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", events);
    for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        *eq = '\0';
        const char *kind = !strcmp(tok, "i")    ? "introduced"
                           : !strcmp(tok, "f")  ? "fixed"
                           : !strcmp(tok, "la") ? "last_affected"
                                                : "limit";
        n += (size_t)snprintf(ev + n, sizeof ev - n, "%s{\"%s\":\"%s\"}", n ? "," : "", kind,
                              eq + 1);
    }
    snprintf(json, sizeof json,
             "{\"id\":\"TEST-1\"," MOD ",\"affected\":[{\"package\":{\"ecosystem\":\"%s\","
             "\"name\":\"%s\"},\"ranges\":[{\"type\":\"%s\",\"events\":[%s]}]}]}",
             eco, name, type, ev);
    return parse_ok(json, line);
}
#define RANGE(eco, name, type, events) range_rec(eco, name, type, events, __LINE__)

/* Checks a verdict and the fixed version offered (NULL: none). */
static void expect(int line, const struct osv_record *r, const char *eco, const char *pkg,
                   const char *ver, enum osv_verdict want, const char *fixed)
{
    struct osv_match m;
    struct kb_why why = {{0}};
    if (!r) {
        T_CHECKF(0, "line %d: no record", line);
        return;
    }
    kb_err e = osv_affects(r, eco, pkg, ver, &m, &why);
    T_CHECKF(e == KB_OK && m.verdict == want, "line %d: %s %s %s: verdict %d, want %d (%s)", line,
             eco, pkg, ver, m.verdict, want, why.msg);
    if (want == OSV_AFFECTED)
        T_CHECKF((!fixed && !m.fixed) || (fixed && m.fixed && !strcmp(fixed, m.fixed)),
                 "line %d: %s: fixed '%s', want '%s'", line, ver, m.fixed ? m.fixed : "(none)",
                 fixed ? fixed : "(none)");
}
#define YES(r, eco, pkg, ver, fixed) expect(__LINE__, r, eco, pkg, ver, OSV_AFFECTED, fixed)
#define NO(r, eco, pkg, ver) expect(__LINE__, r, eco, pkg, ver, OSV_NOT_AFFECTED, NULL)
#define UNKNOWN(r, eco, pkg, ver) expect(__LINE__, r, eco, pkg, ver, OSV_NOT_EVALUABLE, NULL)

static void test_data_records_parse(void)
{
    T_NEED_DATA(data);
    struct loaded l = {0};
    load_records(data, &l);
    T_EQ_INT(l.n, 26);
    for (size_t i = 0; i < l.n; i++) {
        T_CHECKF(l.recs[i]->id && l.recs[i]->id[0], "%s: no id", l.names[i]);
        T_CHECKF(l.recs[i]->modified_ms > 0, "%s: no modified", l.names[i]);
        T_CHECKF(!l.recs[i]->withdrawn, "%s: withdrawn", l.names[i]);
    }
    fprintf(stderr, "  %zu records parsed\n", l.n);
    /* The file name cannot hold ':'; the id does. */
    T_CHECK(by_id(&l, "SUSE-SU-2023:3313-1") != NULL);
    const struct osv_record *r = by_id(&l, "CVE-2");
    if (r) {
        T_EQ_INT(r->naffected, 9);
        T_EQ_STR(r->affected[8].package.ecosystem, "Ecosystem3");
        T_EQ_INT(r->naliases, 1);
        T_EQ_INT(r->nupstream, 1);
        /* 2025-10-13T15:48:05.718650Z, kept to the millisecond */
        T_EQ_INT(r->modified_ms % 1000, 718);
        /* A package listed with neither ranges nor versions: the
         * specification's evaluation finds no affected version. */
        NO(r, "Ecosystem1", "proj1", "1.0");
    }
    r = by_id(&l, "DLA-3623-1");
    if (r) {
        T_EQ_INT(r->nupstream, 44);
        T_EQ_STR(r->upstream[43], "CVE-2023-4921");
    }
    r = by_id(&l, "MULTI-ECO-FIX-DEMO");
    if (r) {
        /* SEMVER ranges use SemVer ordering, whatever the ecosystem. */
        YES(r, "PyPI", "demo-lib", "1.1.0", "1.2.0");
        YES(r, "PyPI", "Demo_Lib", "1.1.0", "1.2.0"); /* PEP 503 */
        NO(r, "PyPI", "demo-lib", "1.2.0");
        YES(r, "npm", "demo-lib", "9.9.9", NULL); /* no fix in npm */
        NO(r, "npm", "Demo-Lib", "1.0.0");        /* npm names are exact */
        NO(r, "Go", "demo-lib", "1.0.0");
        struct osv_match m;
        osv_affects(r, "npm", "demo-lib", "1.0.0", &m, NULL);
        T_EQ_INT(m.affected_index, 1);
        T_EQ_INT(m.range_index, 0);
        T_EQ_STR(m.ecosystem_used, "semver");
    }
    free_records(&l);
}

/* CVE-2021-44228 in the data is a demonstration entry without affected
 * packages: no version of log4j is affected by it as written. The ranges
 * log4j-core's advisories carry are checked on a record written here. */
static void test_log4j(void)
{
    T_NEED_DATA(data);
    struct loaded l = {0};
    load_records(data, &l);
    const struct osv_record *r = by_id(&l, "CVE-2021-44228");
    if (r) {
        T_EQ_INT(r->naffected, 0);
        T_EQ_STR(r->summary, "Log4Shell demo entry");
        struct osv_match m;
        struct kb_why why = {{0}};
        T_EQ_INT(osv_affects(r, "Maven", "org.apache.logging.log4j:log4j-core", "2.14.1", &m, &why),
                 KB_OK);
        T_EQ_INT(m.verdict, OSV_NOT_AFFECTED);
        T_CHECKF(strstr(why.msg, "no affected entry") != NULL, "%s", why.msg);
        NO(r, "Maven", "org.apache.logging.log4j:log4j-core", "2.0-beta9");
    }
    free_records(&l);

    struct osv_record *lr = PARSE(
        "{\"id\":\"TEST-LOG4J\"," MOD ",\"aliases\":[\"CVE-2021-44228\"],"
        "\"affected\":[{\"package\":{\"ecosystem\":\"Maven\","
        "\"name\":\"org.apache.logging.log4j:log4j-core\"},\"ranges\":[{\"type\":\"ECOSYSTEM\","
        "\"events\":[{\"introduced\":\"2.13.0\"},{\"fixed\":\"2.15.0\"},"
        "{\"introduced\":\"2.0-beta9\"},{\"fixed\":\"2.3.1\"},"
        "{\"introduced\":\"2.4\"},{\"fixed\":\"2.12.2\"}]}]}]}");
    const char *L = "org.apache.logging.log4j:log4j-core";
    NO(lr, "Maven", L, "1.2.17");
    NO(lr, "Maven", L, "2.0-beta8");
    YES(lr, "Maven", L, "2.0-beta9", "2.3.1");
    YES(lr, "Maven", L, "2.0", "2.3.1");
    YES(lr, "Maven", L, "2.3", "2.3.1");
    NO(lr, "Maven", L, "2.3.1");
    YES(lr, "Maven", L, "2.4", "2.12.2");
    YES(lr, "Maven", L, "2.12.1", "2.12.2");
    NO(lr, "Maven", L, "2.12.2");
    YES(lr, "Maven", L, "2.13.0", "2.15.0");
    YES(lr, "Maven", L, "2.14.1", "2.15.0");
    NO(lr, "Maven", L, "2.15.0");
    NO(lr, "Maven", L, "2.17.1");
    NO(lr, "Maven", "org.apache.logging.log4j:log4j-api", "2.14.1");
    osv_record_free(lr);
}

/* ---- range rules, on records written here ---- */

static void test_introduced_zero(void)
{
    struct osv_record *r = RANGE("npm", "left-pad", "SEMVER", "i=0 f=1.0.2");
    YES(r, "npm", "left-pad", "0.0.0", "1.0.2");
    YES(r, "npm", "left-pad", "0.0.1", "1.0.2");
    YES(r, "npm", "left-pad", "1.0.1", "1.0.2");
    YES(r, "npm", "left-pad", "1.0.2-rc.1", "1.0.2"); /* a prerelease is before */
    NO(r, "npm", "left-pad", "1.0.2");                /* fixed is exclusive */
    NO(r, "npm", "left-pad", "2.0.0");
    osv_record_free(r);
    /* introduced 0 alone: every version. */
    r = RANGE("npm", "x", "SEMVER", "i=0");
    YES(r, "npm", "x", "0.0.0", NULL);
    YES(r, "npm", "x", "99.0.0", NULL);
    osv_record_free(r);
}

static void test_multiple_pairs(void)
{
    static const char *const orders[] = {
        "i=1.0.0 f=1.0.2 i=3.0.0 f=3.2.5",
        "f=3.2.5 i=3.0.0 f=1.0.2 i=1.0.0", /* unsorted: the same ranges */
        "i=3.0.0 f=1.0.2 f=3.2.5 i=1.0.0",
    };
    for (size_t k = 0; k < KB_ARRAY_LEN(orders); k++) {
        struct osv_record *r = RANGE("crates.io", "smallvec", "SEMVER", orders[k]);
        NO(r, "crates.io", "smallvec", "0.9.0");
        YES(r, "crates.io", "smallvec", "1.0.0", "1.0.2"); /* introduced is inclusive */
        YES(r, "crates.io", "smallvec", "1.0.1", "1.0.2");
        NO(r, "crates.io", "smallvec", "1.0.2");
        NO(r, "crates.io", "smallvec", "2.0.0");
        YES(r, "crates.io", "smallvec", "3.0.0", "3.2.5");
        YES(r, "crates.io", "smallvec", "3.2.4", "3.2.5");
        NO(r, "crates.io", "smallvec", "3.2.5");
        NO(r, "crates.io", "smallvec", "4.0.0");
        osv_record_free(r);
    }
    struct osv_record *r = RANGE("npm", "x", "SEMVER", "f=1.0.2 i=0");
    YES(r, "npm", "x", "0.5.0", "1.0.2");
    NO(r, "npm", "x", "1.0.3");
    osv_record_free(r);
}

static void test_last_affected(void)
{
    struct osv_record *r = RANGE("PyPI", "h2", "ECOSYSTEM", "i=0 la=2.1.214");
    YES(r, "PyPI", "h2", "2.1.214", NULL); /* inclusive */
    YES(r, "PyPI", "h2", "2.1.214rc1", NULL);
    YES(r, "PyPI", "h2", "1.0", NULL);
    NO(r, "PyPI", "h2", "2.1.214.post1");
    NO(r, "PyPI", "h2", "2.1.215");
    struct osv_match m;
    osv_affects(r, "PyPI", "h2", "2.0", &m, NULL);
    T_EQ_STR(m.last_affected, "2.1.214");
    T_CHECK(m.fixed == NULL);
    T_EQ_STR(m.ecosystem_used, "pypi");
    osv_record_free(r);
    /* Two pairs with last_affected. */
    r = RANGE("npm", "x", "SEMVER", "i=1.0.0 la=1.4.0 i=2.0.0 la=2.3.0");
    YES(r, "npm", "x", "1.4.0", NULL);
    NO(r, "npm", "x", "1.4.1");
    YES(r, "npm", "x", "2.0.0", NULL);
    NO(r, "npm", "x", "2.3.1");
    osv_record_free(r);
}

static void test_limit(void)
{
    struct osv_record *r = RANGE("npm", "x", "SEMVER", "i=1.0.0 l=2.0.0");
    NO(r, "npm", "x", "0.9.0");
    YES(r, "npm", "x", "1.5.0", NULL);
    NO(r, "npm", "x", "2.0.0"); /* limit is exclusive */
    NO(r, "npm", "x", "2.5.0");
    osv_record_free(r);
    r = RANGE("npm", "x", "SEMVER", "i=1.0.0 l=*");
    YES(r, "npm", "x", "1000.0.0", NULL);
    osv_record_free(r);
    /* Several limits: below any one of them is enough. */
    r = RANGE("npm", "x", "SEMVER", "i=0 l=1.0.0 l=3.0.0");
    YES(r, "npm", "x", "2.0.0", NULL);
    NO(r, "npm", "x", "3.0.0");
    osv_record_free(r);
    /* A limit below a fix cuts the range short. */
    r = RANGE("npm", "x", "SEMVER", "i=1.0.0 f=2.0.0 l=1.5.0");
    YES(r, "npm", "x", "1.2.0", "2.0.0");
    NO(r, "npm", "x", "1.5.0");
    NO(r, "npm", "x", "1.7.0");
    osv_record_free(r);
}

static void test_equal_versions(void)
{
    /* introduced X, fixed X: empty. */
    struct osv_record *r = RANGE("npm", "x", "SEMVER", "i=1.0.0 f=1.0.0");
    NO(r, "npm", "x", "1.0.0");
    NO(r, "npm", "x", "0.5.0");
    osv_record_free(r);
    /* fixed X then introduced X: events at equal versions keep the record's
     * order (a stable sort), so X starts the second range. */
    r = RANGE("npm", "x", "SEMVER", "i=0 f=1.0.0 i=1.0.0 f=2.0.0");
    YES(r, "npm", "x", "1.0.0", "2.0.0");
    YES(r, "npm", "x", "0.1.0", "1.0.0");
    osv_record_free(r);
    /* introduced X, last_affected X: X alone. */
    r = RANGE("npm", "x", "SEMVER", "i=1.0.0 la=1.0.0");
    YES(r, "npm", "x", "1.0.0", NULL);
    NO(r, "npm", "x", "1.0.1");
    NO(r, "npm", "x", "0.9.0");
    osv_record_free(r);
}

static void test_semver_prerelease(void)
{
    struct osv_record *r = RANGE("Go", "example.com/m", "SEMVER", "i=1.0.0-alpha f=1.0.0");
    NO(r, "Go", "example.com/m", "1.0.0-0"); /* numeric identifiers sort first */
    YES(r, "Go", "example.com/m", "1.0.0-alpha", "1.0.0");
    YES(r, "Go", "example.com/m", "1.0.0-alpha.1", "1.0.0");
    YES(r, "Go", "example.com/m", "1.0.0-beta.11", "1.0.0");
    YES(r, "Go", "example.com/m", "v1.0.0-rc.1", "1.0.0"); /* Go writes a 'v' */
    NO(r, "Go", "example.com/m", "1.0.0");
    NO(r, "Go", "example.com/m", "1.0.0+build.5"); /* build metadata is ignored */
    NO(r, "Go", "example.com/m", "0.9.9");
    osv_record_free(r);
    r = RANGE("npm", "x", "SEMVER", "i=2.0.0-beta.2 f=2.0.0-rc.1");
    NO(r, "npm", "x", "2.0.0-beta.1");
    YES(r, "npm", "x", "2.0.0-beta.11", "2.0.0-rc.1"); /* 11 > 2 as numbers */
    NO(r, "npm", "x", "2.0.0-rc.1");
    NO(r, "npm", "x", "2.0.0");
    osv_record_free(r);
}

static void test_debian(void)
{
    struct osv_record *r = RANGE("Debian:12", "openssl", "ECOSYSTEM", "i=0 f=3.0.11-1~deb12u1");
    YES(r, "Debian:12", "openssl", "3.0.9-1", "3.0.11-1~deb12u1");
    YES(r, "Debian:12", "openssl", "3.0.11-1~deb11u1", "3.0.11-1~deb12u1");
    NO(r, "Debian:12", "openssl", "3.0.11-1~deb12u1");
    NO(r, "Debian:12", "openssl", "3.0.11-1"); /* '~' sorts before the end */
    NO(r, "Debian:12", "openssl", "1:0.1-1");  /* the epoch wins */
    NO(r, "Debian:11", "openssl", "3.0.9-1");  /* another release */
    NO(r, "Ubuntu:22.04:LTS", "openssl", "3.0.9-1");
    NO(r, "Debian:12", "libssl3", "3.0.9-1"); /* OSV names source packages */
    /* No release given: the record is for Debian 12 only, so an affected
     * answer is not certain. */
    struct osv_match m;
    struct kb_why why = {{0}};
    osv_affects(r, "Debian", "openssl", "3.0.9-1", &m, &why);
    T_EQ_INT(m.verdict, OSV_NOT_EVALUABLE);
    T_CHECK(m.release_assumed);
    T_CHECKF(strstr(why.msg, "Debian:12") != NULL, "%s", why.msg);
    NO(r, "Debian", "openssl", "3.1.0-1");
    osv_record_free(r);
    /* A record without release applies to every release. */
    r = RANGE("Debian", "openssl", "ECOSYSTEM", "i=0 f=3.0.11-1~deb12u1");
    YES(r, "Debian:12", "openssl", "3.0.9-1", "3.0.11-1~deb12u1");
    YES(r, "Debian:11", "openssl", "3.0.9-1", "3.0.11-1~deb12u1");
    YES(r, "Debian", "openssl", "3.0.9-1", "3.0.11-1~deb12u1");
    osv_record_free(r);
}

static void test_pypi(void)
{
    struct osv_record *r = RANGE("PyPI", "Django", "ECOSYSTEM", "i=4.2 f=4.2.8");
    NO(r, "PyPI", "django", "4.2rc1");
    YES(r, "PyPI", "django", "4.2", "4.2.8");
    YES(r, "PyPI", "DJANGO", "4.2.0", "4.2.8"); /* 4.2.0 == 4.2 */
    YES(r, "PyPI", "django", "4.2.7", "4.2.8");
    YES(r, "PyPI", "django", "4.2.8rc1", "4.2.8");
    NO(r, "PyPI", "django", "4.2.8");
    NO(r, "PyPI", "django", "4.2.8.post1");
    NO(r, "PyPI", "django", "5.0");
    osv_record_free(r);
    r = RANGE("PyPI", "zope.interface", "ECOSYSTEM", "i=0 f=5.0");
    YES(r, "PyPI", "Zope-Interface", "4.0", "5.0");
    YES(r, "PyPI", "zope__interface", "4.0", "5.0");
    YES(r, "PyPI", "zope._-interface", "4.0", "5.0");
    NO(r, "PyPI", "zopeinterface", "4.0");
    osv_record_free(r);
    char out[64];
    osv_pypi_normalize("Foo__Bar.-baz", out, sizeof out);
    T_EQ_STR(out, "foo-bar-baz");
    osv_pypi_normalize("abcdef", out, 4);
    T_EQ_STR(out, "abc");
}

static void test_name_rules(void)
{
    struct osv_record *r = RANGE("NuGet", "Newtonsoft.Json", "ECOSYSTEM", "i=0 f=13.0.1");
    YES(r, "NuGet", "newtonsoft.json", "12.0.3", "13.0.1");
    osv_record_free(r);
    r = RANGE("crates.io", "tokio_util", "SEMVER", "i=0 f=0.7.0");
    YES(r, "crates.io", "tokio-util", "0.6.9", "0.7.0");
    osv_record_free(r);
    r = RANGE("RubyGems", "Rails", "ECOSYSTEM", "i=0 f=7.0.0");
    NO(r, "RubyGems", "rails", "6.0.0"); /* exact elsewhere */
    NO(r, "rubygems", "Rails", "6.0.0"); /* ecosystem names are exact */
    osv_record_free(r);
}

static void test_git_and_versions(void)
{
    struct osv_record *r = PARSE(
        "{\"id\":\"OSV-2024-1\"," MOD ",\"affected\":[{\"package\":{\"ecosystem\":\"OSS-Fuzz\","
        "\"name\":\"libfoo\"},\"ranges\":[{\"type\":\"GIT\",\"repo\":\"https://git.example/"
        "libfoo\","
        "\"events\":[{\"introduced\":\"a1b2c3\"},{\"fixed\":\"d4e5f6\"}]}],"
        "\"versions\":[\"1.0\",\"1.1\"]},"
        "{\"ranges\":[{\"type\":\"GIT\",\"repo\":\"https://git.example/libfoo\","
        "\"events\":[{\"introduced\":\"0\"},{\"limit\":\"d4e5f6\"}]}],\"versions\":[\"1.0\"]}]}");
    YES(r, "OSS-Fuzz", "libfoo", "1.0", NULL);
    YES(r, "OSS-Fuzz", "libfoo", "1.1", NULL);
    /* Not listed: GIT ranges cannot say more, so not affected. */
    NO(r, "OSS-Fuzz", "libfoo", "1.2");
    NO(r, "OSS-Fuzz", "libfoo", "a1b2c3");
    struct osv_match m;
    osv_affects(r, "OSS-Fuzz", "libfoo", "1.1", &m, NULL);
    T_CHECK(m.in_versions);
    T_EQ_INT(m.affected_index, 0);
    T_EQ_INT(m.range_index, OSV_NO_INDEX);
    if (r) {
        T_CHECK(r->affected[1].package.ecosystem == NULL); /* an entry without package */
        T_EQ_STR(r->affected[0].ranges[0].repo, "https://git.example/libfoo");
        T_EQ_INT(r->affected[1].ranges[0].events[1].kind, OSV_EV_LIMIT);
    }
    osv_record_free(r);
    /* versions is an exact string match, and a listed version is affected
     * even outside the ranges (the two are or-ed). */
    r = PARSE("{\"id\":\"T\"," MOD ",\"affected\":[{\"package\":{\"ecosystem\":\"npm\","
              "\"name\":\"x\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":"
              "\"2.0.0\"},{\"fixed\":\"2.1.0\"}]}],\"versions\":[\"1.0.0\",\"2.0.0\"]}]}");
    YES(r, "npm", "x", "1.0.0", "2.1.0");
    NO(r, "npm", "x", "1.0.0+build"); /* same precedence, different string */
    YES(r, "npm", "x", "2.0.5", "2.1.0");
    osv_affects(r, "npm", "x", "2.0.0", &m, NULL);
    T_CHECK(m.in_versions && m.range_index == 0);
    osv_record_free(r);
}

static void test_no_ordering(void)
{
    struct osv_record *r =
        PARSE("{\"id\":\"T\"," MOD ",\"affected\":[{\"package\":{\"ecosystem\":\"Bitnami\","
              "\"name\":\"nginx\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":"
              "\"0\"},{\"fixed\":\"1.25.3\"}]}],\"versions\":[\"1.25.1\"]}]}");
    struct osv_match m;
    struct kb_why why = {{0}};
    osv_affects(r, "Bitnami", "nginx", "1.24.0", &m, &why);
    T_EQ_INT(m.verdict, OSV_NOT_EVALUABLE);
    T_EQ_INT(m.affected_index, 0);
    T_EQ_INT(m.range_index, 0);
    T_EQ_STR(why.msg, "T: affected[0].ranges[0]: koban has no version ordering for ecosystem "
                      "'Bitnami'");
    YES(r, "Bitnami", "nginx", "1.25.1", NULL); /* the versions list still decides */
    NO(r, "Bitnami", "apache", "1.24.0");
    osv_record_free(r);
    /* SEMVER needs no ecosystem ordering. */
    r = RANGE("Bitnami", "nginx", "SEMVER", "i=0 f=1.25.3");
    YES(r, "Bitnami", "nginx", "1.24.0", "1.25.3");
    /* A version the ordering refuses cannot be placed. */
    UNKNOWN(r, "Bitnami", "nginx", "not a version");
    osv_record_free(r);
    /* A range type OSV does not define. */
    r = RANGE("npm", "x", "FUTURE", "i=0");
    UNKNOWN(r, "npm", "x", "1.0.0");
    osv_record_free(r);
    /* An affected entry beats an unevaluable one, whatever the order. */
    r = PARSE("{\"id\":\"T\"," MOD ",\"affected\":["
              "{\"package\":{\"ecosystem\":\"npm\",\"name\":\"x\"},\"ranges\":[{\"type\":"
              "\"FUTURE\",\"events\":[{\"introduced\":\"0\"}]}]},"
              "{\"package\":{\"ecosystem\":\"npm\",\"name\":\"x\"},\"ranges\":[{\"type\":"
              "\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"2.0.0\"}]}]}]}");
    osv_affects(r, "npm", "x", "1.0.0", &m, NULL);
    T_EQ_INT(m.verdict, OSV_AFFECTED);
    T_EQ_INT(m.affected_index, 1);
    T_EQ_STR(m.fixed, "2.0.0");
    T_EQ_INT(osv_affects(r, "npm", "x", "", &m, NULL), KB_EINVAL);
    osv_record_free(r);
    T_EQ_INT(osv_affects(NULL, "npm", "x", "1", &m, NULL), KB_EINVAL);
}

/* The specification's pseudo-code, literally: a stable sort of the events
 * ("0" introduced first), a walk, BeforeLimits. */
struct rev {
    char kind; /* i f a (last_affected) l */
    const char *v;
};

static int ref_cmp(const struct rev *a, const struct rev *b)
{
    bool za = a->kind == 'i' && !strcmp(a->v, "0"), zb = b->kind == 'i' && !strcmp(b->v, "0");
    if (za || zb)
        return za && zb ? 0 : za ? -1 : 1;
    int c = 0;
    version_compare(VERSION_SEMVER, a->v, b->v, &c, NULL);
    return c;
}

static bool ref_affected(const struct rev *evs, size_t n, const char *v)
{
    struct rev s[16];
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) /* limits take no part in the walk */
        if (evs[i].kind != 'l')
            s[ns++] = evs[i];
    for (size_t i = 1; i < ns; i++) /* insertion sort: stable */
        for (size_t j = i; j > 0 && ref_cmp(&s[j - 1], &s[j]) > 0; j--) {
            struct rev t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    bool any_limit = false, before = false;
    struct rev q = {'x', v};
    for (size_t i = 0; i < n; i++)
        if (evs[i].kind == 'l') {
            any_limit = true;
            before = before || strchr(evs[i].v, '*') || ref_cmp(&q, &evs[i]) < 0;
        }
    if (any_limit && !before)
        return false;
    bool vulnerable = false;
    for (size_t i = 0; i < ns; i++) {
        int c = s[i].kind == 'i' && !strcmp(s[i].v, "0") ? 1 : ref_cmp(&q, &s[i]);
        if (s[i].kind == 'i' && c >= 0)
            vulnerable = true;
        else if (s[i].kind == 'f' && c >= 0)
            vulnerable = false;
        else if (s[i].kind == 'a' && c > 0)
            vulnerable = false;
    }
    return vulnerable;
}

static void test_against_pseudocode(void)
{
    static const char *const vers[] = {"1.0.0", "1.1.0", "2.0.0-rc.1", "2.0.0", "3.0.0", "3.1.0"};
    static const char *const queries[] = {"0.1.0",      "1.0.0",      "1.0.5", "1.1.0",
                                          "2.0.0-beta", "2.0.0-rc.1", "2.0.0", "2.5.0",
                                          "3.0.0",      "3.1.0",      "9.0.0"};
    uint32_t seed = 12345;
    size_t checked = 0, affected = 0;
    for (int iter = 0; iter < 1500; iter++) {
        struct rev evs[8];
        size_t n = 0;
        seed = seed * 1103515245u + 12345u;
        size_t want = 1 + (seed >> 16) % 6;
        bool use_last = (seed >> 8) & 1;
        for (size_t k = 0; k < want; k++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t x = seed >> 12;
            static const char kinds[] = {'i', 'i', 'f', 'l'};
            char kind = kinds[x % 4];
            if (kind == 'f' && use_last)
                kind = 'a';
            const char *v = kind == 'i' && (x >> 4) % 5 == 0   ? "0"
                            : kind == 'l' && (x >> 4) % 7 == 0 ? "*"
                                                               : vers[(x >> 8) % 6];
            evs[n++] = (struct rev){kind, v};
        }
        if (evs[0].kind != 'i') /* at least one introduced */
            evs[0] = (struct rev){'i', evs[0].v[0] == '*' ? "0" : evs[0].v};
        char spec[512] = "";
        size_t sl = 0;
        for (size_t k = 0; k < n; k++) {
            const char *kn = evs[k].kind == 'i'   ? "i"
                             : evs[k].kind == 'f' ? "f"
                             : evs[k].kind == 'a' ? "la"
                                                  : "l";
            sl += (size_t)snprintf(spec + sl, sizeof spec - sl, "%s%s=%s", k ? " " : "", kn,
                                   evs[k].v);
        }
        struct osv_record *r = RANGE("npm", "x", "SEMVER", spec);
        if (!r)
            continue;
        for (size_t k = 0; k < KB_ARRAY_LEN(queries); k++) {
            struct osv_match m;
            osv_affects(r, "npm", "x", queries[k], &m, NULL);
            bool ref = ref_affected(evs, n, queries[k]);
            T_CHECKF((m.verdict == OSV_AFFECTED) == ref && m.verdict != OSV_NOT_EVALUABLE,
                     "[%s] %s: koban %d, pseudo-code %d", spec, queries[k], m.verdict, ref);
            checked++;
            affected += ref;
        }
        osv_record_free(r);
    }
    fprintf(stderr, "  %zu evaluations (%zu affected) agree with the pseudo-code\n", checked,
            affected);
    T_CHECK(affected > checked / 5 && affected < checked - checked / 5);
}

int main(void)
{
    T_RUN(test_data_records_parse);
    T_RUN(test_log4j);
    T_RUN(test_introduced_zero);
    T_RUN(test_multiple_pairs);
    T_RUN(test_last_affected);
    T_RUN(test_limit);
    T_RUN(test_equal_versions);
    T_RUN(test_semver_prerelease);
    T_RUN(test_debian);
    T_RUN(test_pypi);
    T_RUN(test_name_rules);
    T_RUN(test_git_and_versions);
    T_RUN(test_no_ordering);
    T_RUN(test_against_pseudocode);
    return t_done();
}
