/* test_feed_jvn.c — MyJVN answers (feed_jvn_overview, feed_jvn_detail):
 * tests/data/feeds/jvn_overview.xml and jvn_detail.xml (written from
 * MyJVN's API documentation) with exact values and +09:00 times, the
 * API's error status, XML errors with their line, and documents that try
 * an external entity or exponential entity expansion (refused: nothing is
 * fetched or expanded). */
#include "feed_testlib.h"

struct ids {
    char id[8][32];
    int64_t ms[8];
    size_t n;
};

static kb_err on_id(void *ctx, const char *id, int64_t ms)
{
    struct ids *s = ctx;
    if (s->n >= 8)
        return KB_ETOOBIG;
    snprintf(s->id[s->n], sizeof s->id[0], "%s", id);
    s->ms[s->n++] = ms;
    return KB_OK;
}

static void test_overview(void)
{
    size_t len = 0;
    char *xml = fixture("jvn_overview.xml", &len);
    if (!xml)
        return;
    struct ids s = {0};
    struct feed_page_info pi = {0};
    struct kb_why why = {{0}};
    T_EQ_INT(feed_jvn_overview(xml, len, on_id, &s, &pi, &why), KB_OK);
    T_EQ_INT(s.n, 3);
    T_EQ_STR(s.id[0], "JVNDB-2031-000101");
    T_EQ_INT(s.ms[0], ms_of("2031-08-01T01:15:00Z")); /* 10:15 at +09:00 */
    T_EQ_STR(s.id[1], "JVNDB-2031-000102");
    T_EQ_INT(s.ms[1], ms_of("2031-08-01T23:30:05Z"));
    T_EQ_INT(s.ms[2], 0);
    T_EQ_INT(pi.total, 153);
    T_EQ_INT(pi.start, 50); /* firstRes 51, 1-based */
    T_EQ_INT(pi.count, 3);
    free(xml);
}

static const char status_error[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<rdf:RDF xmlns=\"http://purl.org/rss/1.0/\" "
    "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
    "xmlns:status=\"http://jvndb.jvn.jp/myjvn/Status\">\n"
    "<status:Status version=\"3.3\" method=\"getVulnOverviewList\" retCd=\"1\" "
    "errCd=\"1001\" errMsg=\"invalid parameter\" totalRes=\"0\" totalResRet=\"0\" "
    "firstRes=\"0\"/>\n</rdf:RDF>\n";

static void test_overview_errors(void)
{
    struct ids s = {0};
    struct kb_why why = {{0}};
    T_EQ_INT(feed_jvn_overview(status_error, strlen(status_error), on_id, &s, NULL, &why),
             KB_EINVAL);
    T_EQ_STR(why.msg, "MyJVN error 1001: invalid parameter");
    const char *broken = "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"x\">\n<item>\n"
                         "<sec:identifier>JVNDB-2031-000001</sec:identifier>\n</rdf:RDF>\n";
    T_EQ_INT(feed_jvn_overview(broken, strlen(broken), on_id, &s, NULL, &why), KB_EPARSE);
    T_CHECKF(!strncmp(why.msg, "XML line ", 9) && strlen(why.msg) > 14, "%s", why.msg);
    const char *trunc = "<?xml version=\"1.0\"?>\n<rdf:RDF>\n<item>";
    T_EQ_INT(feed_jvn_overview(trunc, strlen(trunc), on_id, &s, NULL, &why), KB_EPARSE);
    T_CHECKF(!strncmp(why.msg, "XML line 3: ", 12), "%s", why.msg);
    const char *badid = "<RDF><item><identifier>JVN#123</identifier></item>"
                        "<Status retCd=\"0\" totalRes=\"1\"/></RDF>";
    T_EQ_INT(feed_jvn_overview(badid, strlen(badid), on_id, &s, NULL, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "item[0] (line 1): sec:identifier 'JVN#123' is not a JVNDB id");
    const char *nostatus = "<RDF></RDF>";
    T_EQ_INT(feed_jvn_overview(nostatus, strlen(nostatus), on_id, &s, NULL, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "no status:Status element");
    T_EQ_INT(s.n, 0);
}

static void test_detail(void)
{
    size_t len = 0;
    char *xml = fixture("jvn_detail.xml", &len);
    if (!xml)
        return;
    struct collect c = {0};
    struct kb_why why = {{0}};
    T_EQ_INT(feed_jvn_detail(xml, len, col_adv, col_skip, &c, &why), KB_OK);
    T_EQ_INT(c.n, 2);
    T_EQ_INT(c.nskip, 1);
    T_EQ_STR(c.skip_where[0], "Vulinfo[2] (line 105) JVNDB-2031-000103");
    T_EQ_STR(c.skip_why[0], "Vulinfo[2].DateLastUpdated: '31 July 2031' is not a time");
    struct osv_record *r = col_get(&c, "JVNDB-2031-000101");
    T_CHECK(r != NULL);
    if (r) {
        T_EQ_INT(r->modified_ms, ms_of("2031-08-01T23:30:05Z"));
        T_EQ_INT(r->published_ms, ms_of("2031-08-01T01:15:00Z"));
        T_EQ_STR(r->summary, "Cross-site scripting in Koban Sample CMS");
        T_CHECK(r->details && strstr(r->details, "vulnerability <CWE-79>."));
        T_CHECK(r->naliases == 1 && !strcmp(r->aliases[0], "CVE-2031-20001"));
        /* v3 kept, v2 ignored */
        T_CHECK(r->nseverity == 1 && !strcmp(r->severity[0].type, "CVSS_V3") &&
                !strcmp(r->severity[0].score, "CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N"));
        T_EQ_INT(r->nreferences, 4);
        T_EQ_INT(r->naffected, 2);
        if (r->naffected == 2) {
            T_EQ_STR(r->affected[0].package.ecosystem, "CPE");
            T_EQ_STR(r->affected[0].package.name, "example:koban_sample_cms");
            T_CHECK(r->affected[0].nranges == 0 && r->affected[0].nversions == 0);
            T_EQ_STR(r->affected[1].package.name, "example:koban_sample_cms_(plugin)");
            T_CHECK(r->affected[1].nversions == 1 &&
                    !strcmp(r->affected[1].versions[0], "1.2.0"));
        }
        T_CHECK(dbs_has(r, "\"feed\":\"jvn\",\"match\":\"suspected\""));
        T_CHECK(dbs_has(r, "\"versions_text\":\"Koban Sample CMS: 3.0.0 to 3.2.4, 4.0 beta\""));
        T_CHECK(dbs_has(r, "\"cwe\":[\"CWE-79\"]"));
        T_CHECK(dbs_has(r, "\"cpe\":[\"cpe:/a:example:koban_sample_cms\","));
    }
    r = col_get(&c, "JVNDB-2031-000102");
    T_CHECK(r && r->nseverity == 1 && !strcmp(r->severity[0].type, "CVSS_V4"));
    T_CHECK(r && r->naffected == 1 &&
            !strcmp(r->affected[0].package.name, "example_networks:ks-100_firmware"));
    T_CHECK(dbs_has(r, "\"match\":\"exact\""));
    struct osv_match m;
    T_CHECK(r && osv_affects(r, "CPE", "example_networks:ks-100_firmware", "1.0.7", &m, NULL) ==
                     KB_OK && m.verdict == OSV_AFFECTED);
    col_free(&c);
    /* the API's error status */
    const char *err = "<VULDEF-Document><Status retCd=\"1\" errCd=\"2001\" "
                      "errMsg=\"no such id\"/></VULDEF-Document>";
    T_EQ_INT(feed_jvn_detail(err, strlen(err), col_adv, col_skip, &c, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "MyJVN error 2001: no such id");
    const char *root = "<rss/>";
    T_EQ_INT(feed_jvn_detail(root, strlen(root), col_adv, col_skip, &c, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "the root element is not VULDEF-Document");
    free(xml);
}

/* An external entity: refused before anything is declared or read. */
static void test_external_entity(void)
{
    const char *xxe = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE VULDEF-Document [\n"
                      "  <!ENTITY secret SYSTEM \"file:///etc/passwd\">\n"
                      "  <!ENTITY remote SYSTEM \"http://127.0.0.1:9/x.xml\">\n"
                      "]>\n"
                      "<VULDEF-Document><Vulinfo><VulinfoID>JVNDB-2031-000001</VulinfoID>"
                      "<VulinfoData><Title>&secret;&remote;</Title>"
                      "<DateLastUpdated>2031-01-01T00:00:00+09:00</DateLastUpdated>"
                      "</VulinfoData></Vulinfo><Status retCd=\"0\"/></VULDEF-Document>\n";
    struct collect c = {0};
    struct kb_why why = {{0}};
    T_EQ_INT(feed_jvn_detail(xxe, strlen(xxe), col_adv, col_skip, &c, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "DOCTYPE is refused") != NULL, "%s", why.msg);
    T_EQ_INT(c.n, 0);
    struct ids s = {0};
    T_EQ_INT(feed_jvn_overview(xxe, strlen(xxe), on_id, &s, NULL, &why), KB_EINVAL);
    /* an undeclared entity without a DOCTYPE is an XML error, not a fetch */
    const char *undecl = "<VULDEF-Document><Vulinfo><VulinfoID>&x;</VulinfoID></Vulinfo>"
                         "</VULDEF-Document>";
    T_EQ_INT(feed_jvn_detail(undecl, strlen(undecl), col_adv, col_skip, &c, &why), KB_EPARSE);
    T_CHECKF(strstr(why.msg, "XML line 1") != NULL, "%s", why.msg);
    col_free(&c);
}

/* Exponential entity expansion ("billion laughs"): refused at once. */
static void test_billion_laughs(void)
{
    char xml[4096];
    size_t o = (size_t)snprintf(xml, sizeof xml,
                                "<?xml version=\"1.0\"?>\n<!DOCTYPE VULDEF-Document [\n"
                                "<!ENTITY l0 \"ha\">\n");
    for (int i = 1; i <= 20; i++)
        o += (size_t)snprintf(xml + o, sizeof xml - o,
                              "<!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;\">\n",
                              i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                              i - 1);
    snprintf(xml + o, sizeof xml - o,
             "]>\n<VULDEF-Document><Vulinfo><VulinfoID>JVNDB-2031-000001</VulinfoID>"
             "<VulinfoData><Title>&l20;</Title></VulinfoData></Vulinfo></VULDEF-Document>\n");
    struct collect c = {0};
    struct kb_why why = {{0}};
    int64_t t0 = kb_mono_ns();
    T_EQ_INT(feed_jvn_detail(xml, strlen(xml), col_adv, col_skip, &c, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "XML line 2: a DOCTYPE is refused") != NULL, "%s", why.msg);
    T_CHECK(kb_mono_ns() - t0 < 2000000000LL);
    T_EQ_INT(c.n, 0);
    col_free(&c);
}

static void test_bounds(void)
{
    struct collect c = {0};
    struct kb_why why = {{0}};
    const char *x = "<VULDEF-Document/>";
    T_EQ_INT(feed_jvn_detail(x, (size_t)FEED_MAX_BODY + 1, col_adv, col_skip, &c, &why),
             KB_ETOOBIG);
    /* nesting beyond libxml2's own depth bound is an XML error */
    size_t depth = 5000, n = 0;
    char *deep = malloc(depth * 7 + 64);
    n += (size_t)snprintf(deep, depth * 7 + 64, "<VULDEF-Document>");
    for (size_t i = 0; i < depth; i++)
        n += (size_t)snprintf(deep + n, depth * 7 + 64 - n, "<a>");
    for (size_t i = 0; i < depth; i++)
        n += (size_t)snprintf(deep + n, depth * 7 + 64 - n, "</a>");
    n += (size_t)snprintf(deep + n, depth * 7 + 64 - n, "</VULDEF-Document>");
    T_EQ_INT(feed_jvn_detail(deep, n, col_adv, col_skip, &c, &why), KB_EPARSE);
    T_CHECKF(!strncmp(why.msg, "XML line 1: ", 12), "%s", why.msg);
    free(deep);
}

int main(void)
{
    T_RUN(test_overview);
    T_RUN(test_overview_errors);
    T_RUN(test_detail);
    T_RUN(test_external_entity);
    T_RUN(test_billion_laughs);
    T_RUN(test_bounds);
    return t_done();
}
