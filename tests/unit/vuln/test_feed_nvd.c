/* test_feed_nvd.c — NVD CVE API 2.0 answers into OSV (feed_nvd_page):
 * every page of ../shared/data/osv/nvd converts and parses back, with
 * exact values for a few CVEs; then pages written here for the edges
 * (rejected CVEs, exclusive starts, a bad record among good ones,
 * truncated JSON, wrong types, the bare CVE object). */
#include <dirent.h>

#include "feed_testlib.h"

/* Converts ../shared/data/osv/nvd/<name>.json into c. */
static kb_err convert_file(const char *data, const char *name, struct collect *c,
                           struct feed_page_info *pi)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/osv/nvd/%s.json", data, name);
    size_t len = 0;
    char *body = t_read_file(path, &len);
    T_CHECKF(body != NULL, "%s: cannot read", path);
    if (!body)
        return KB_EIO;
    struct kb_why why = {{0}};
    kb_err e = feed_nvd_page(body, len, col_adv, col_skip, c, pi, &why);
    T_CHECKF(e == KB_OK, "%s: %s", name, why.msg);
    free(body);
    return e;
}

static void test_every_shared_page(void)
{
    T_NEED_DATA(data);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/osv/nvd", data);
    DIR *d = opendir(dir);
    T_CHECKF(d != NULL, "%s: cannot open", dir);
    if (!d)
        return;
    struct dirent *de;
    size_t files = 0;
    while ((de = readdir(d)) != NULL && files < 1000) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(nl - 5), de->d_name);
        struct collect c = {0};
        struct feed_page_info pi = {-1, -1, -1};
        convert_file(data, name, &c, &pi);
        T_CHECKF(c.n == 1 && c.nskip == 0, "%s: %zu records, %zu skipped (%s)", name, c.n,
                 c.nskip, c.skip_why[0]);
        T_CHECKF(c.n == 1 && !strcmp(c.rec[0]->id, name) && !strcmp(c.id[0], name), "%s: id",
                 name);
        T_CHECKF(pi.total == 1 && pi.start == 0 && pi.count == 1, "%s: info %lld %lld %lld",
                 name, (long long)pi.total, (long long)pi.start, (long long)pi.count);
        T_CHECKF(c.n == 1 && c.rec[0]->naliases == 0 && c.rec[0]->summary &&
                     dbs_has(c.rec[0], "\"feed\":\"nvd\""),
                 "%s: summary, aliases or feed", name);
        files++;
        col_free(&c);
    }
    closedir(d);
    T_CHECKF(files >= 20, "only %zu NVD pages", files);
    fprintf(stderr, "  %zu NVD pages converted\n", files);
}

static void test_xz(void)
{
    T_NEED_DATA(data);
    struct collect c = {0};
    convert_file(data, "CVE-2024-3094", &c, NULL);
    struct osv_record *r = col_get(&c, "CVE-2024-3094");
    T_CHECK(r != NULL);
    if (!r)
        return;
    T_EQ_INT(r->nseverity, 1);
    T_EQ_STR(r->severity[0].type, "CVSS_V3");
    T_EQ_STR(r->severity[0].score, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H");
    T_EQ_INT(r->published_ms, ms_of("2024-03-29T17:15:21.150Z"));
    T_EQ_INT(r->modified_ms, ms_of("2026-06-17T07:43:17.830Z"));
    T_CHECK(!r->withdrawn);
    /* two exact CPE versions, no ranges */
    T_EQ_INT(r->naffected, 2);
    for (size_t i = 0; i < r->naffected && i < 2; i++) {
        T_EQ_STR(r->affected[i].package.ecosystem, "CPE");
        T_EQ_STR(r->affected[i].package.name, "tukaani:xz");
        T_EQ_INT(r->affected[i].nranges, 0);
        T_EQ_INT(r->affected[i].nversions, 1);
    }
    if (r->naffected == 2) {
        T_EQ_STR(r->affected[0].versions[0], "5.6.0");
        T_EQ_STR(r->affected[1].versions[0], "5.6.1");
    }
    T_CHECK(dbs_has(r, "\"match\":\"exact\""));
    T_CHECK(dbs_has(r, "\"cwe\":[\"CWE-506\"]"));
    T_CHECK(dbs_has(r, "\"cpe\":[\"cpe:2.3:a:tukaani:xz:5.6.0:*:*:*:*:*:*:*\","
                       "\"cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*\"]"));
    T_CHECK(r->nreferences >= 2);
    T_EQ_STR(r->references[0].url, "https://nvd.nist.gov/vuln/detail/CVE-2024-3094");
    T_EQ_STR(r->references[1].url, "https://access.redhat.com/security/cve/CVE-2024-3094");
    T_EQ_STR(r->references[1].type, "ADVISORY");
    T_CHECK(r->summary && !strncmp(r->summary, "Malicious code was discovered", 29));
    T_CHECK(r->summary && !strchr(r->summary, '\r') && !strchr(r->summary, '\n'));
    T_CHECK(r->details && strstr(r->details, "liblzma"));
    /* the affected versions evaluate */
    struct osv_match m;
    T_CHECK(osv_affects(r, "CPE", "tukaani:xz", "5.6.1", &m, NULL) == KB_OK &&
            m.verdict == OSV_AFFECTED);
    T_CHECK(osv_affects(r, "CPE", "tukaani:xz", "5.4.6", &m, NULL) == KB_OK &&
            m.verdict == OSV_NOT_AFFECTED);
    col_free(&c);
}

static void test_ranges(void)
{
    T_NEED_DATA(data);
    struct collect c = {0};
    convert_file(data, "CVE-2016-1585", &c, NULL);
    struct osv_record *r = col_get(&c, "CVE-2016-1585");
    if (r) {
        /* v3.1 (Primary) wins over the v3.0 one */
        T_EQ_INT(r->nseverity, 1);
        T_EQ_STR(r->severity[0].score, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        T_EQ_INT(r->naffected, 3);
        T_EQ_STR(r->affected[0].package.name, "canonical:apparmor");
        T_EQ_INT(r->affected[0].nranges, 1);
        T_EQ_INT(r->affected[0].ranges[0].nevents, 2);
        T_EQ_STR(r->affected[0].ranges[0].events[0].value, "0");
        T_EQ_INT(r->affected[0].ranges[0].events[1].kind, OSV_EV_FIXED);
        T_EQ_STR(r->affected[0].ranges[0].events[1].value, "2.13.10");
        T_EQ_STR(r->affected[1].ranges[0].events[0].value, "3.0.0");
        T_EQ_STR(r->affected[1].ranges[0].events[1].value, "3.0.12");
        /* one criteria listed once; NVD-CWE-noinfo is no CWE */
        T_CHECK(dbs_has(r, "\"cpe\":[\"cpe:2.3:a:canonical:apparmor:*:*:*:*:*:*:*:*\"]"));
        T_CHECK(!dbs_has(r, "\"cwe\""));
        T_CHECK(dbs_has(r, "\"match\":\"exact\""));
    }
    T_CHECK(r != NULL);
    col_free(&c);

    /* AND configuration: the non-vulnerable platform makes no entry */
    convert_file(data, "CVE-2020-13595", &c, NULL);
    r = col_get(&c, "CVE-2020-13595");
    T_CHECK(r && r->naffected == 1);
    if (r && r->naffected == 1) {
        T_EQ_STR(r->affected[0].package.name, "espressif:esp-idf");
        T_EQ_INT(r->affected[0].ranges[0].events[0].kind, OSV_EV_INTRODUCED);
        T_EQ_STR(r->affected[0].ranges[0].events[0].value, "4.0.0");
        T_EQ_INT(r->affected[0].ranges[0].events[1].kind, OSV_EV_LAST_AFFECTED);
        T_EQ_STR(r->affected[0].ranges[0].events[1].value, "4.2");
        T_CHECK(!dbs_has(r, "esp32"));
    }
    col_free(&c);

    /* "-" version and no range: suspected */
    convert_file(data, "CVE-2022-2956", &c, NULL);
    r = col_get(&c, "CVE-2022-2956");
    T_CHECK(r && r->naffected == 1 && r->affected[0].nranges == 0 &&
            r->affected[0].nversions == 0);
    T_CHECK(dbs_has(r, "\"match\":\"suspected\""));
    T_CHECK(dbs_has(r, "\"cwe\":[\"CWE-79\"]")); /* listed twice by NVD, once here */
    col_free(&c);
}

static void test_cpe_less(void)
{
    T_NEED_DATA(data);
    struct collect c = {0};
    convert_file(data, "CVE-2023-5341", &c, NULL);
    struct osv_record *r = col_get(&c, "CVE-2023-5341");
    T_CHECK(r && r->naffected == 0);
    T_CHECK(dbs_has(r, "\"match\":\"suspected\""));
    T_CHECK(dbs_has(r, "\"nvd_status\":\"Undergoing Analysis\""));
    T_CHECK(!dbs_has(r, "\"cpe\""));
    col_free(&c);
}

#define CVE_HEAD(id) "{\"id\":\"" id "\",\"published\":\"2024-01-02T03:04:05.678\","
static const char page_edges[] =
    "{\"resultsPerPage\":3,\"startIndex\":2000,\"totalResults\":2003,\"vulnerabilities\":["
    "{\"cve\":" CVE_HEAD("CVE-2024-0001") "\"lastModified\":\"2024-02-01T00:00:00.000\","
    "\"vulnStatus\":\"Rejected\",\"descriptions\":[{\"lang\":\"es\",\"value\":\"Rechazado\"},"
    "{\"lang\":\"en\",\"value\":\"Rejected reason: duplicate.\"}]}},"
    "{\"cve\":" CVE_HEAD("CVE-2024-0002") "\"lastModified\":\"2024-02-01T00:00:00.000\","
    "\"metrics\":\"high\"}},"
    "{\"cve\":" CVE_HEAD("CVE-2024-0003") "\"lastModified\":\"2024-02-01T00:00:00.000\","
    "\"metrics\":{\"cvssMetricV40\":[{\"source\":\"x\",\"type\":\"Secondary\",\"cvssData\":"
    "{\"vectorString\":\"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N\"}}]},"
    "\"configurations\":[{\"nodes\":[{\"operator\":\"OR\",\"negate\":false,\"cpeMatch\":["
    "{\"vulnerable\":true,\"criteria\":\"cpe:2.3:a:Acme:Widget\\\\+\\\\+:*:*:*:*:*:*:*:*\","
    "\"versionStartExcluding\":\"1.0\",\"versionEndIncluding\":\"1.5\"}]},"
    "{\"operator\":\"OR\",\"negate\":true,\"cpeMatch\":[{\"vulnerable\":true,"
    "\"criteria\":\"cpe:2.3:a:acme:other:1.0:*:*:*:*:*:*:*\"}]}]}]}}]}";

static void test_page_edges(void)
{
    struct collect c = {0};
    struct feed_page_info pi = {0};
    struct kb_why why = {{0}};
    kb_err e = feed_nvd_page(page_edges, strlen(page_edges), col_adv, col_skip, &c, &pi, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    T_EQ_INT(pi.total, 2003);
    T_EQ_INT(pi.start, 2000);
    T_EQ_INT(pi.count, 3);
    T_EQ_INT(c.n, 2);
    /* the bad record is skipped with where and why; the others convert */
    T_EQ_INT(c.nskip, 1);
    T_EQ_STR(c.skip_where[0], "vulnerabilities[1] CVE-2024-0002");
    T_EQ_STR(c.skip_why[0], "vulnerabilities[1].cve.metrics: not an object but a string");
    struct osv_record *r = col_get(&c, "CVE-2024-0001");
    T_CHECK(r && r->withdrawn && r->withdrawn_ms == ms_of("2024-02-01T00:00:00Z"));
    T_CHECK(r && r->published_ms == ms_of("2024-01-02T03:04:05.678Z"));
    T_CHECK(r && r->summary && !strcmp(r->summary, "Rejected reason: duplicate."));
    r = col_get(&c, "CVE-2024-0003");
    T_CHECK(r && r->nseverity == 1 && !strcmp(r->severity[0].type, "CVSS_V4"));
    /* escapes decoded, lower case; exclusive start noted; negated node ignored */
    T_CHECK(r && r->naffected == 1);
    if (r && r->naffected == 1) {
        T_EQ_STR(r->affected[0].package.name, "acme:widget++");
        T_EQ_STR(r->affected[0].ranges[0].events[0].value, "1.0");
        T_EQ_INT(r->affected[0].ranges[0].events[1].kind, OSV_EV_LAST_AFFECTED);
        T_CHECK(r->affected[0].database_specific &&
                strstr(r->affected[0].database_specific, "\"start_excluding\":\"1.0\""));
    }
    col_free(&c);

    /* a callback error stops the walk and is returned */
    c.fail_at = 1;
    e = feed_nvd_page(page_edges, strlen(page_edges), col_adv, NULL, &c, NULL, &why);
    T_EQ_INT(e, KB_EIO);
    T_CHECKF(strstr(why.msg, "CVE-2024-0001") != NULL, "%s", why.msg);
    T_EQ_INT(c.n, 0);
    col_free(&c);
}

static void test_bare_object(void)
{
    const char *one = CVE_HEAD("CVE-2024-0009") "\"lastModified\":\"2024-02-01T00:00:00\"}";
    struct collect c = {0};
    struct feed_page_info pi = {0};
    struct kb_why why = {{0}};
    T_EQ_INT(feed_nvd_page(one, strlen(one), col_adv, NULL, &c, &pi, &why), KB_OK);
    T_CHECK(c.n == 1 && col_get(&c, "CVE-2024-0009"));
    T_EQ_INT(pi.count, 1);
    col_free(&c);
    const char *nested = "{\"cve\":" CVE_HEAD("CVE-2024-0010")
                         "\"lastModified\":\"2024-02-01T00:00:00\"}}";
    T_EQ_INT(feed_nvd_page(nested, strlen(nested), col_adv, NULL, &c, NULL, &why), KB_OK);
    T_CHECK(c.n == 1 && col_get(&c, "CVE-2024-0010"));
    col_free(&c);
    /* a single object that is bad is an error (there is nothing else) */
    const char *bad = "{\"cve\":{\"id\":\"CVE-2024-0011\",\"lastModified\":\"yesterday\"}}";
    T_EQ_INT(feed_nvd_page(bad, strlen(bad), col_adv, NULL, &c, NULL, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "cve.lastModified: 'yesterday' is not a time");
    col_free(&c);
}

static void test_malformed(void)
{
    struct collect c = {0};
    struct kb_why why = {{0}};
    const char *trunc = "{\"vulnerabilities\":[{\"cve\":{\"id\":\"CVE-2024-1\"";
    T_EQ_INT(feed_nvd_page(trunc, strlen(trunc), col_adv, col_skip, &c, NULL, &why), KB_EPARSE);
    T_CHECKF(!strncmp(why.msg, "JSON line 1 column", 18), "%s", why.msg);
    const char *arr = "[1,2]";
    T_EQ_INT(feed_nvd_page(arr, strlen(arr), col_adv, col_skip, &c, NULL, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "the body is not a JSON object");
    const char *vt = "{\"vulnerabilities\":{}}";
    T_EQ_INT(feed_nvd_page(vt, strlen(vt), col_adv, col_skip, &c, NULL, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "page.vulnerabilities: not an array but an object");
    const char *tot = "{\"totalResults\":\"many\",\"vulnerabilities\":[]}";
    T_EQ_INT(feed_nvd_page(tot, strlen(tot), col_adv, col_skip, &c, NULL, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "totalResults: not a non-negative integer");
    /* wrong types inside records: skipped, each with its field */
    const char *types =
        "{\"vulnerabilities\":[7,{\"cve\":{\"id\":5}},"
        "{\"cve\":" CVE_HEAD("CVE-2024-0004") "\"lastModified\":\"2024-02-01T00:00:00\","
        "\"configurations\":[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":\"yes\"}]}]}]}},"
        "{\"cve\":" CVE_HEAD("CVE-2024-0005") "\"lastModified\":\"2024-02-01T00:00:00\","
        "\"configurations\":[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,"
        "\"criteria\":\"cpe:2.3:a:*:x:*\"}]}]}]}}]}";
    T_EQ_INT(feed_nvd_page(types, strlen(types), col_adv, col_skip, &c, NULL, &why), KB_OK);
    T_EQ_INT(c.n, 0);
    T_EQ_INT(c.nskip, 4);
    T_EQ_STR(c.skip_why[0], "vulnerabilities[0]: not an object");
    T_EQ_STR(c.skip_why[1], "vulnerabilities[1].cve.id: not a string but a number");
    T_EQ_STR(c.skip_where[2], "vulnerabilities[2] CVE-2024-0004");
    T_EQ_STR(c.skip_why[2], "vulnerabilities[2].cve.configurations[0].nodes[0].cpeMatch[0]"
                            ".vulnerable: missing or not a boolean");
    T_EQ_STR(c.skip_why[3], "vulnerabilities[3].cve.configurations[0].nodes[0].cpeMatch[0]"
                            ".criteria: 'cpe:2.3:a:*:x:*': CPE without vendor or product");
    col_free(&c);
    /* too big */
    T_EQ_INT(feed_nvd_page(vt, (size_t)FEED_MAX_BODY + 1, col_adv, NULL, &c, NULL, &why),
             KB_ETOOBIG);
}

int main(void)
{
    T_RUN(test_every_shared_page);
    T_RUN(test_xz);
    T_RUN(test_ranges);
    T_RUN(test_cpe_less);
    T_RUN(test_page_edges);
    T_RUN(test_bare_object);
    T_RUN(test_malformed);
    return t_done();
}
