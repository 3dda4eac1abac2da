/* test_db_vuln.c — the vulnerability store (migration 5) on a real SQLite
 * file: advisories, feed state, KEV, assets, packages, findings, triage. */
#include "test.h"

#include "store/db.h"
#include "store/db_vuln.h"

#include <stdlib.h>

struct tmp {
    char dir[64];
    char path[128];
};

static void tmp_make(struct tmp *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/kbdbvuln.XXXXXX");
    if (!mkdtemp(t->dir))
        abort();
    snprintf(t->path, sizeof t->path, "%s/koban.db", t->dir);
}

static void tmp_remove(struct tmp *t)
{
    char p[192];
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", t->path, sfx[i]);
        unlink(p);
    }
    rmdir(t->dir);
}

static kb_err count_adv(void *ctx, const struct db_vuln_advisory *a)
{
    int *n = ctx;
    (*n)++;
    T_CHECK(a->osv_len == strlen(a->osv));
    return KB_OK;
}

static kb_err check_adv(void *ctx, const struct db_vuln_advisory *a)
{
    (void)ctx;
    T_EQ_STR(a->id, "GHSA-1");
    T_EQ_STR(a->group_key, "CVE-1");
    T_EQ_STR(a->feed, "ghsa");
    T_EQ_INT(a->modified, 2000);
    T_CHECK(a->suspected);
    T_CHECK(!a->withdrawn);
    T_EQ_STR(a->osv, "{\"id\":\"GHSA-1\",\"v\":2}");
    return KB_OK;
}

static kb_err collect_pkg(void *ctx, const struct db_vuln_package *p)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s|%s|%s|%s|%s|%s;", p->asset, p->ecosystem, p->name, p->version,
             p->location ? p->location : "-", p->srcpkg ? p->srcpkg : "-");
    return KB_OK;
}

static kb_err collect_finding(void *ctx, const struct db_vuln_finding *f)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s|%s|%s|%s|%s|%s|%d|%.1f|%d%d|%s|%s;", f->group_key, f->asset,
             f->ecosystem, f->package, f->installed, f->fixed ? f->fixed : "-", f->severity,
             f->cvss, f->kev, f->suspected, db_vuln_state_name(f->state),
             f->reason ? f->reason : "-");
    return KB_OK;
}

static void test_db_vuln_roundtrip(void)
{
    struct tmp t;
    tmp_make(&t);
    struct db *db = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(t.path, DB_CLIENT, 0, &db, &why), KB_OK);
    struct db_vuln *v = NULL;
    T_EQ_INT(db_vuln_open(db, &v), KB_OK);

    /* advisories: insert, replace keeps a known group key */
    struct db_vuln_advisory a = {
        "GHSA-1", "CVE-1", "ghsa", 1000, false, false, "{\"id\":\"GHSA-1\"}", 15};
    T_EQ_INT(db_vuln_advisory_put(v, &a, 1), KB_OK);
    a.group_key = NULL;
    a.modified = 2000;
    a.suspected = true;
    a.osv = "{\"id\":\"GHSA-1\",\"v\":2}";
    a.osv_len = strlen(a.osv);
    T_EQ_INT(db_vuln_advisory_put(v, &a, 2), KB_OK);
    struct db_vuln_advisory b = {"OSV-2", NULL, NULL, 5, true, false, "{}", 2};
    T_EQ_INT(db_vuln_advisory_put(v, &b, 2), KB_OK);
    T_EQ_INT(db_vuln_advisory_get(v, "GHSA-1", check_adv, NULL), KB_OK);
    T_EQ_INT(db_vuln_advisory_get(v, "nope", check_adv, NULL), KB_ENOTFOUND);
    int n = 0;
    T_EQ_INT(db_vuln_advisory_each(v, count_adv, &n), KB_OK);
    T_EQ_INT(n, 2);
    int64_t cnt = 0;
    T_EQ_INT(db_vuln_advisory_count(v, &cnt), KB_OK);
    T_EQ_INT(cnt, 2);

    /* feed state */
    char *val = NULL;
    T_EQ_INT(db_vuln_feed_get(v, "nvd", "cursor", &val), KB_ENOTFOUND);
    T_EQ_INT(db_vuln_feed_set(v, "nvd", "cursor", "2026-01-01"), KB_OK);
    T_EQ_INT(db_vuln_feed_set(v, "nvd", "cursor", "2026-02-01"), KB_OK);
    T_EQ_INT(db_vuln_feed_get(v, "nvd", "cursor", &val), KB_OK);
    T_EQ_STR(val, "2026-02-01");
    free(val);
    T_EQ_INT(db_vuln_feed_set(v, "nvd", "cursor", NULL), KB_OK); /* removes it */
    T_EQ_INT(db_vuln_feed_get(v, "nvd", "cursor", &val), KB_ENOTFOUND);
    T_EQ_INT(db_vuln_feed_set(v, "nvd", "cursor", NULL), KB_OK);

    /* KEV */
    bool found = true, rw = false;
    int64_t added = 0;
    T_EQ_INT(db_vuln_kev_get(v, "CVE-1", &found, &added, &rw), KB_OK);
    T_CHECK(!found);
    T_EQ_INT(db_vuln_kev_put(v, "CVE-1", 77, true), KB_OK);
    T_EQ_INT(db_vuln_kev_get(v, "CVE-1", &found, &added, &rw), KB_OK);
    T_CHECK(found && rw);
    T_EQ_INT(added, 77);
    T_EQ_INT(db_vuln_kev_clear(v), KB_OK);
    T_EQ_INT(db_vuln_kev_get(v, "CVE-1", &found, NULL, NULL), KB_OK);
    T_CHECK(!found);

    /* EPSS: put, replace, out of range refused, clear in a transaction */
    double score = -1, pct = -1;
    int64_t sdate = -1;
    T_EQ_INT(db_vuln_epss_get(v, "CVE-2021-44228", &found, &score, &pct, &sdate), KB_OK);
    T_CHECK(!found);
    T_CHECK(score == -1 && pct == -1 && sdate == -1);
    T_EQ_INT(db_vuln_epss_put(v, "CVE-2021-44228", 0.97565, 0.99995, 1709251200000), KB_OK);
    T_EQ_INT(db_vuln_epss_put(v, "CVE-2024-3094", 0.5, 0.9, 1709251200000), KB_OK);
    T_EQ_INT(db_vuln_epss_get(v, "CVE-2021-44228", &found, &score, &pct, &sdate), KB_OK);
    T_CHECK(found && score == 0.97565 && pct == 0.99995);
    T_EQ_INT(sdate, 1709251200000);
    T_EQ_INT(db_vuln_epss_put(v, "CVE-2021-44228", 0.5, 0.75, 1709337600000), KB_OK);
    T_EQ_INT(db_vuln_epss_get(v, "CVE-2021-44228", &found, &score, NULL, &sdate), KB_OK);
    T_CHECK(found && score == 0.5);
    T_EQ_INT(sdate, 1709337600000);
    T_EQ_INT(db_vuln_epss_put(v, "CVE-2", 1.5, 0.5, 0), KB_EINVAL);
    T_EQ_INT(db_vuln_epss_put(v, "CVE-2", 0.5, -0.1, 0), KB_EINVAL);
    T_EQ_INT(db_vuln_epss_put(v, "", 0.5, 0.5, 0), KB_EINVAL);
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(db_vuln_epss_clear(v), KB_OK);
    T_EQ_INT(db_vuln_epss_put(v, "CVE-2024-3094", 0.25, 0.5, 0), KB_OK);
    db_rollback(db);
    T_EQ_INT(db_vuln_epss_get(v, "CVE-2021-44228", &found, NULL, NULL, NULL), KB_OK);
    T_CHECK(found); /* the rolled back clear left the scores */
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(db_vuln_epss_clear(v), KB_OK);
    T_EQ_INT(db_vuln_epss_put(v, "CVE-2024-3094", 0.25, 0.5, 0), KB_OK);
    T_EQ_INT(db_commit(db), KB_OK);
    T_EQ_INT(db_vuln_epss_get(v, "CVE-2021-44228", &found, NULL, NULL, NULL), KB_OK);
    T_CHECK(!found);
    T_EQ_INT(db_vuln_epss_get(v, "CVE-2024-3094", &found, &score, &pct, NULL), KB_OK);
    T_CHECK(found && score == 0.25 && pct == 0.5);

    /* assets and packages */
    struct db_vuln_asset as = {"host-a", DB_VULN_HOST, "{\"internet_facing\":\"true\"}", 10};
    T_EQ_INT(db_vuln_asset_put(v, &as), KB_OK);
    struct db_vuln_asset bad = {"x", 7, NULL, 0};
    T_EQ_INT(db_vuln_asset_put(v, &bad), KB_EINVAL);
    struct db_vuln_asset got;
    T_EQ_INT(db_vuln_asset_get(v, "host-a", &got), KB_OK);
    T_EQ_STR(got.labels, "{\"internet_facing\":\"true\"}");
    T_EQ_INT(got.kind, DB_VULN_HOST);
    db_vuln_asset_release(&got);
    T_EQ_INT(db_vuln_asset_get(v, "nope", &got), KB_ENOTFOUND);
    struct db_vuln_package p1 = {"host-a",   "dpkg:status", "Debian",   "liblzma5",
                                 "5.6.0-0.2", "status:12",  "xz-utils"};
    struct db_vuln_package p2 = {"host-a", "dpkg:status", "Debian", "bash", "5.2-1", NULL, NULL};
    T_EQ_INT(db_vuln_package_add(v, &p1), KB_OK);
    T_EQ_INT(db_vuln_package_add(v, &p2), KB_OK);
    char buf[512] = "";
    T_EQ_INT(db_vuln_package_each(v, "host-a", NULL, NULL, collect_pkg, buf), KB_OK);
    T_EQ_STR(buf, "host-a|Debian|liblzma5|5.6.0-0.2|status:12|xz-utils;"
                  "host-a|Debian|bash|5.2-1|-|-;");
    buf[0] = '\0';
    T_EQ_INT(db_vuln_package_find(v, "bash", collect_pkg, buf), KB_OK);
    T_EQ_STR(buf, "host-a|Debian|bash|5.2-1|-|-;");
    T_EQ_INT(db_vuln_packages_clear(v, "host-a"), KB_OK);
    buf[0] = '\0';
    T_EQ_INT(db_vuln_package_each(v, NULL, NULL, NULL, collect_pkg, buf), KB_OK);
    T_EQ_STR(buf, "");

    /* findings: upsert by key, filters */
    struct db_vuln_finding f = {
        "CVE-1", "host-a", "Debian", "xz-utils",   "5.6.0-0.2", NULL, 4,
        10.0,    true,     false,    DB_VULN_OPEN, 100,         100,  "new asset affected"};
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(db_vuln_finding_put(v, &f), KB_OK);
    f.fixed = "5.6.1";
    f.changed = 200;
    f.reason = "fix available";
    T_EQ_INT(db_vuln_finding_put(v, &f), KB_OK);
    struct db_vuln_finding g = {"CVE-2", "host-a", "Debian", "bash", "5.2-1",          NULL,
                                2,       -1,       false,    true,   DB_VULN_RESOLVED, 100,
                                300,     "removed"};
    T_EQ_INT(db_vuln_finding_put(v, &g), KB_OK);
    T_EQ_INT(db_commit(db), KB_OK);
    buf[0] = '\0';
    T_EQ_INT(db_vuln_finding_each(v, NULL, collect_finding, buf), KB_OK);
    T_EQ_STR(buf, "CVE-1|host-a|Debian|xz-utils|5.6.0-0.2|5.6.1|4|10.0|10|open|fix available;"
                  "CVE-2|host-a|Debian|bash|5.2-1|-|2|-1.0|01|resolved|removed;");
    struct db_vuln_finding_filter flt = {.asset = "host-a", .state = DB_VULN_RESOLVED};
    buf[0] = '\0';
    T_EQ_INT(db_vuln_finding_each(v, &flt, collect_finding, buf), KB_OK);
    T_EQ_STR(buf, "CVE-2|host-a|Debian|bash|5.2-1|-|2|-1.0|01|resolved|removed;");
    struct db_vuln_finding_filter flt2 = {.group_key = "CVE-1", .state = -1};
    buf[0] = '\0';
    T_EQ_INT(db_vuln_finding_each(v, &flt2, collect_finding, buf), KB_OK);
    T_CHECK(strncmp(buf, "CVE-1|", 6) == 0 && !strstr(buf, "CVE-2"));

    /* triage */
    struct db_vuln_triage tr = {DB_VULN_NOT_AFFECTED,
                                "vulnerable_code_not_in_execute_path",
                                "liblzma not loaded by sshd here",
                                0,
                                "ana",
                                500};
    T_EQ_INT(db_vuln_triage_set(v, "CVE-1", "host-a", "Debian", "xz-utils", &tr), KB_OK);
    struct db_vuln_triage out;
    T_EQ_INT(db_vuln_triage_get(v, "CVE-1", "host-a", "Debian", "xz-utils", &out), KB_OK);
    T_EQ_INT(out.status, DB_VULN_NOT_AFFECTED);
    T_EQ_STR(out.justification, "vulnerable_code_not_in_execute_path");
    T_EQ_STR(out.author, "ana");
    T_EQ_INT(out.at, 500);
    db_vuln_triage_release(&out);
    T_EQ_INT(db_vuln_triage_get(v, "CVE-9", "host-a", "Debian", "xz-utils", &out), KB_ENOTFOUND);
    int st = -1;
    T_EQ_INT(db_vuln_triage_status_parse("under_investigation", &st), KB_OK);
    T_EQ_INT(st, DB_VULN_UNDER_INVESTIGATION);
    T_EQ_INT(db_vuln_triage_status_parse("maybe", &st), KB_EINVAL);

    db_vuln_close(v);
    db_close(db);

    /* the rows survive a reopen (migration applied once) */
    T_EQ_INT(db_open(t.path, DB_CLIENT, 0, &db, &why), KB_OK);
    T_EQ_INT(db_vuln_open(db, &v), KB_OK);
    n = 0;
    T_EQ_INT(db_vuln_advisory_each(v, count_adv, &n), KB_OK);
    T_EQ_INT(n, 2);
    db_vuln_close(v);
    db_close(db);
    tmp_remove(&t);
}

int main(void)
{
    T_RUN(test_db_vuln_roundtrip);
    return t_done();
}
