/* test_feed_ghsa.c — GitHub global advisories into OSV (feed_ghsa_page):
 * tests/data/feeds/ghsa_page.json (written from GitHub's REST
 * documentation) with exact values, strict version ranges, a bad record
 * among good ones, and malformed bodies. */
#include "feed_testlib.h"

static void test_page(void)
{
    size_t len = 0;
    char *body = fixture("ghsa_page.json", &len);
    if (!body)
        return;
    struct collect c = {0};
    struct kb_why why = {{0}};
    T_EQ_INT(feed_ghsa_page(body, len, col_adv, col_skip, &c, &why), KB_OK);
    T_EQ_INT(c.n, 4);
    T_EQ_INT(c.nskip, 1);
    T_EQ_STR(c.skip_where[0], "advisories[3] GHSA-kb01-aaaa-0004");
    T_EQ_STR(c.skip_why[0], "advisories[3].vulnerabilities: not an array but an object");

    struct osv_record *r = col_get(&c, "GHSA-kb01-aaaa-0001");
    T_CHECK(r != NULL);
    if (r) {
        T_CHECK(r->naliases == 1 && !strcmp(r->aliases[0], "CVE-2031-10001"));
        T_EQ_INT(r->modified_ms, ms_of("2031-03-05T12:30:15Z"));
        T_EQ_INT(r->published_ms, ms_of("2031-03-01T10:00:00Z"));
        T_CHECK(!r->withdrawn);
        T_EQ_STR(r->summary, "Prototype pollution in koban-sample-merge");
        T_EQ_INT(r->nseverity, 2);
        T_EQ_STR(r->severity[0].type, "CVSS_V3");
        T_EQ_STR(r->severity[0].score, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:L");
        T_EQ_STR(r->severity[1].type, "CVSS_V4");
        T_EQ_INT(r->naffected, 1);
        T_EQ_STR(r->affected[0].package.ecosystem, "npm");
        T_EQ_STR(r->affected[0].ranges[0].events[0].value, "1.0.0");
        T_EQ_INT(r->affected[0].ranges[0].events[1].kind, OSV_EV_FIXED);
        T_EQ_STR(r->affected[0].ranges[0].events[1].value, "1.4.2");
        /* html_url first, the duplicate reference once */
        T_EQ_INT(r->nreferences, 4);
        T_EQ_STR(r->references[0].type, "ADVISORY");
        T_EQ_STR(r->references[1].type, "PACKAGE");
        T_CHECK(dbs_has(r, "\"feed\":\"ghsa\",\"match\":\"exact\""));
        T_CHECK(dbs_has(r, "\"cwe\":[\"CWE-1321\"]"));
        struct osv_match m;
        T_CHECK(osv_affects(r, "npm", "koban-sample-merge", "1.4.1", &m, NULL) == KB_OK &&
                m.verdict == OSV_AFFECTED && m.fixed && !strcmp(m.fixed, "1.4.2"));
        T_CHECK(osv_affects(r, "npm", "koban-sample-merge", "1.4.2", &m, NULL) == KB_OK &&
                m.verdict == OSV_NOT_AFFECTED);
    }
    r = col_get(&c, "GHSA-kb01-aaaa-0002");
    T_CHECK(r && r->naffected == 4);
    if (r && r->naffected == 4) {
        T_EQ_INT(r->naliases, 0);
        /* the older "cvss" member when cvss_severities has no vector */
        T_CHECK(r->nseverity == 1 && !strcmp(r->severity[0].type, "CVSS_V3"));
        T_EQ_STR(r->affected[0].package.ecosystem, "PyPI");
        T_EQ_STR(r->affected[0].ranges[0].events[0].value, "0");
        T_EQ_INT(r->affected[0].ranges[0].events[1].kind, OSV_EV_LAST_AFFECTED);
        T_EQ_STR(r->affected[0].ranges[0].events[1].value, "2.0.1");
        T_EQ_STR(r->affected[1].package.ecosystem, "Maven");
        T_CHECK(r->affected[1].nranges == 0 && r->affected[1].nversions == 1 &&
                !strcmp(r->affected[1].versions[0], "3.1.0"));
        T_EQ_STR(r->affected[2].package.ecosystem, "Packagist");
        T_EQ_STR(r->affected[2].ranges[0].events[1].value, "5.0");
        T_EQ_STR(r->affected[3].package.ecosystem, "Go");
        T_EQ_STR(r->affected[3].ranges[0].events[0].value, "0.3.0");
        T_EQ_STR(r->affected[3].ranges[0].events[1].value, "0.5.1");
        T_CHECK(r->affected[3].database_specific &&
                strstr(r->affected[3].database_specific, "\"start_excluding\":\"0.3.0\""));
        T_CHECK(dbs_has(r, "\"match\":\"exact\""));
    }
    /* a range that does not read strictly: no ranges, kept as text */
    r = col_get(&c, "GHSA-kb01-aaaa-0003");
    T_CHECK(r && r->withdrawn && r->withdrawn_ms == ms_of("2031-05-09T00:00:00Z"));
    T_CHECK(r && r->naffected == 1 && r->affected[0].nranges == 0);
    T_CHECK(r && r->affected[0].database_specific &&
            strstr(r->affected[0].database_specific,
                   "\"vulnerable_version_range\":\">= 1.0 < 2.0\""));
    T_CHECK(dbs_has(r, "\"match\":\"suspected\""));
    T_CHECK(dbs_has(r, "\"versions_text\":\"koban-sample: >= 1.0 < 2.0\""));
    r = col_get(&c, "GHSA-kb01-aaaa-0005");
    T_CHECK(r && r->naffected == 2);
    if (r && r->naffected == 2) {
        T_EQ_STR(r->affected[0].package.ecosystem, "crates.io");
        T_EQ_STR(r->affected[0].ranges[0].events[1].value, "0.9.3");
        T_EQ_STR(r->affected[1].package.ecosystem, "other");
        T_CHECK(dbs_has(r, "\"match\":\"suspected\""));
    }
    col_free(&c);
    free(body);
}

/* One advisory with the given range; returns the first entry's ranges
 * count (-1 when the record failed) and whether the record is exact. */
static int one_range(const char *range, bool *exact)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"ghsa_id\":\"GHSA-kb01-test-0001\",\"updated_at\":\"2031-01-01T00:00:00Z\","
             "\"vulnerabilities\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"x\"},"
             "\"vulnerable_version_range\":\"%s\"}]}",
             range);
    struct collect c = {0};
    struct kb_why why = {{0}};
    int n = -1;
    if (feed_ghsa_page(body, strlen(body), col_adv, NULL, &c, &why) == KB_OK && c.n == 1) {
        n = (int)(c.rec[0]->affected[0].nranges + c.rec[0]->affected[0].nversions);
        *exact = dbs_has(c.rec[0], "\"match\":\"exact\"");
    }
    col_free(&c);
    return n;
}

static void test_strict_ranges(void)
{
    static const char *const good[] = {"< 1.2.3", ">= 1.0, < 1.2.3", "<= 2.0", "= 1.0",
                                       ">=1.0,<2", "> 1.0", ">= 0.1.0-beta.1, < 0.1.0"};
    static const char *const bad[] = {"1.2.3", "<", ">= 1.0 < 2.0", ">= 1.0, >= 1.1",
                                      "< 1, < 2", "= 1.0, < 2.0", "!= 1.0", "<< 1.0",
                                      ">= 1.0,", "1.x || 2.x", "", "< 1.0 beta"};
    for (size_t i = 0; i < KB_ARRAY_LEN(good); i++) {
        bool exact = false;
        int n = one_range(good[i], &exact);
        T_CHECKF(n == 1 && exact, "'%s': %d entries, exact %d", good[i], n, exact);
    }
    for (size_t i = 0; i < KB_ARRAY_LEN(bad); i++) {
        bool exact = true;
        int n = one_range(bad[i], &exact);
        T_CHECKF(n == 0 && !exact, "'%s': %d entries, exact %d", bad[i], n, exact);
    }
}

static void test_malformed(void)
{
    struct collect c = {0};
    struct kb_why why = {{0}};
    const char *trunc = "[{\"ghsa_id\":\"GHSA-kb01-test-0001\",\"updated_at\":";
    T_EQ_INT(feed_ghsa_page(trunc, strlen(trunc), col_adv, col_skip, &c, &why), KB_EPARSE);
    T_CHECKF(!strncmp(why.msg, "JSON line 1 column", 18), "%s", why.msg);
    T_EQ_INT(feed_ghsa_page("42", 2, col_adv, col_skip, &c, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "the body is neither an array of advisories nor one");
    const char *types =
        "[{\"ghsa_id\":7},{\"ghsa_id\":\"GHSA-kb01-test-0002\"},"
        "{\"ghsa_id\":\"GHSA-kb01-test-0003\",\"updated_at\":\"2031-01-01T00:00:00Z\","
        "\"references\":[3]},"
        "{\"ghsa_id\":\"GHSA-kb01-test-0004\",\"updated_at\":\"2031-01-01T00:00:00Z\","
        "\"vulnerabilities\":[{\"package\":{\"ecosystem\":\"npm\"}}]},"
        "{\"ghsa_id\":\"GHSA-kb01-test-0005\",\"updated_at\":\"2031-01-01T00:00:00Z\"}]";
    T_EQ_INT(feed_ghsa_page(types, strlen(types), col_adv, col_skip, &c, &why), KB_OK);
    T_EQ_INT(c.n, 1);
    T_EQ_INT(c.nskip, 4);
    T_EQ_STR(c.skip_why[0], "advisories[0].ghsa_id: not a string but a number");
    T_EQ_STR(c.skip_why[1], "advisories[1].updated_at: missing");
    T_EQ_STR(c.skip_why[2], "advisories[2].references[0]: not a string");
    T_EQ_STR(c.skip_why[3], "advisories[3].vulnerabilities[0].package.name: missing");
    col_free(&c);
    /* a single advisory object; bad, it is an error */
    const char *one = "{\"ghsa_id\":\"GHSA-kb01-test-0006\",\"updated_at\":\"soon\"}";
    T_EQ_INT(feed_ghsa_page(one, strlen(one), col_adv, col_skip, &c, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "advisory.updated_at: 'soon' is not a time");
    col_free(&c);
}

int main(void)
{
    T_RUN(test_page);
    T_RUN(test_strict_ranges);
    T_RUN(test_malformed);
    return t_done();
}
