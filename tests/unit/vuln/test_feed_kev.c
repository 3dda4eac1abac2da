/* test_feed_kev.c — the CISA KEV catalog (feed_kev_parse):
 * tests/data/feeds/kev_catalog.json (written from CISA's schema), bad
 * entries among good ones, malformed bodies and a failing callback. */
#include "feed_testlib.h"

struct kevs {
    char cve[8][32];
    int64_t added[8], due[8];
    bool ransom[8];
    char vendor[8][64];
    bool has_name[8];
    size_t n;
    int fail_at;
    struct collect col; /* the skipped entries */
};

static kb_err on_kev(void *ctx, const struct feed_kev *k)
{
    struct kevs *s = ctx;
    if (s->fail_at && (int)s->n + 1 == s->fail_at)
        return KB_EIO;
    if (s->n >= 8)
        return KB_ETOOBIG;
    snprintf(s->cve[s->n], sizeof s->cve[0], "%s", k->cve);
    snprintf(s->vendor[s->n], sizeof s->vendor[0], "%s", k->vendor ? k->vendor : "(null)");
    s->added[s->n] = k->date_added_ms;
    s->due[s->n] = k->due_date_ms;
    s->ransom[s->n] = k->ransomware;
    s->has_name[s->n] = k->name != NULL;
    s->n++;
    return KB_OK;
}

static void on_skip(void *ctx, const char *where, const char *why)
{
    col_skip(&((struct kevs *)ctx)->col, where, why);
}

static void test_catalog(void)
{
    size_t len = 0;
    char *body = fixture("kev_catalog.json", &len);
    if (!body)
        return;
    struct kevs s = {0};
    struct kb_why why = {{0}};
    int64_t count = -1;
    T_EQ_INT(feed_kev_parse(body, len, on_kev, on_skip, &s, &count, &why), KB_OK);
    T_EQ_INT(count, 3);
    T_EQ_INT(s.n, 3);
    T_EQ_STR(s.cve[0], "CVE-2031-30001");
    T_EQ_INT(s.added[0], ms_of("2031-07-28T00:00:00Z"));
    T_EQ_INT(s.due[0], ms_of("2031-08-18T00:00:00Z"));
    T_CHECK(s.ransom[0]);
    T_EQ_STR(s.vendor[0], "Example");
    T_CHECK(s.has_name[0]);
    T_EQ_STR(s.cve[1], "CVE-2031-300002");
    T_CHECK(!s.ransom[1]);
    /* the entry with a bad date is skipped; the one without names kept */
    T_EQ_INT(s.col.nskip, 1);
    T_EQ_STR(s.col.skip_where[0], "vulnerabilities[2] CVE-2031-30003");
    T_EQ_STR(s.col.skip_why[0],
             "vulnerabilities[2].dateAdded: '07/30/2031' is not a YYYY-MM-DD date");
    T_EQ_STR(s.cve[2], "CVE-2031-30004");
    T_EQ_INT(s.due[2], 0);
    T_EQ_STR(s.vendor[2], "(null)");
    T_CHECK(!s.has_name[2]);
    free(body);
}

static void test_skips(void)
{
    const char *body = "{\"vulnerabilities\":[{\"cveID\":\"CVE-2031-1\"},"
                       "{\"cveID\":\"CVE-2031-30005\",\"dateAdded\":\"2031-02-30\"},"
                       "{\"cveID\":\"CVE-2031-30006\",\"dueDate\":20310101},\"x\","
                       "{\"cveID\":\"CVE-2031-30007\",\"dateAdded\":\"2031-02-28\"}]}";
    struct kevs s = {0};
    struct kb_why why = {{0}};
    int64_t count = 0;
    T_EQ_INT(feed_kev_parse(body, strlen(body), on_kev, on_skip, &s, &count, &why), KB_OK);
    T_EQ_INT(s.col.nskip, 4);
    T_EQ_STR(s.col.skip_where[0], "vulnerabilities[0] CVE-2031-1");
    T_EQ_STR(s.col.skip_why[0], "vulnerabilities[0].cveID: 'CVE-2031-1' is not a CVE id");
    T_EQ_STR(s.col.skip_why[1],
             "vulnerabilities[1].dateAdded: '2031-02-30' is not a YYYY-MM-DD date");
    T_EQ_STR(s.col.skip_why[2], "vulnerabilities[2].dueDate: not a string but a number");
    T_EQ_STR(s.col.skip_why[3], "vulnerabilities[3]: not an object");
    T_EQ_INT(count, 1);
    T_EQ_STR(s.cve[0], "CVE-2031-30007");
    T_EQ_INT(s.added[0], ms_of("2031-02-28T00:00:00Z"));
}

static void test_malformed(void)
{
    struct kevs s = {0};
    struct kb_why why = {{0}};
    int64_t count = 9;
    const char *trunc = "{\"vulnerabilities\":[{\"cveID\":\"CVE-2031-30001\"";
    T_EQ_INT(feed_kev_parse(trunc, strlen(trunc), on_kev, on_skip, &s, &count, &why), KB_EPARSE);
    T_CHECKF(!strncmp(why.msg, "JSON line 1 column", 18), "%s", why.msg);
    T_EQ_INT(count, 0);
    const char *noarr = "{\"catalogVersion\":\"1\",\"vulnerabilities\":\"none\"}";
    T_EQ_INT(feed_kev_parse(noarr, strlen(noarr), on_kev, on_skip, &s, &count, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "catalog.vulnerabilities: not an array but a string");
    T_EQ_INT(feed_kev_parse("[]", 2, on_kev, on_skip, &s, &count, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "the body is not a JSON object");
    /* a failing callback stops the walk */
    const char *two = "{\"vulnerabilities\":[{\"cveID\":\"CVE-2031-30001\"},"
                      "{\"cveID\":\"CVE-2031-30002\"}]}";
    s.fail_at = 2;
    T_EQ_INT(feed_kev_parse(two, strlen(two), on_kev, on_skip, &s, &count, &why), KB_EIO);
    T_EQ_STR(why.msg, "vulnerabilities[1] CVE-2031-30002: the callback failed (i/o error)");
    T_EQ_INT(count, 1);
}

int main(void)
{
    T_RUN(test_catalog);
    T_RUN(test_skips);
    T_RUN(test_malformed);
    return t_done();
}
