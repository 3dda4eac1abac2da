/* test_vuln_triage.c — triage rules, finding references, what a verdict
 * does to the issue (close, reopen, note, history reason), the alert
 * filter, and expiry on a controllable clock, on a real SQLite store. */
#include "test.h"

#include "store/db.h"
#include "store/db_vuln.h"
#include "vuln/vuln_engine.h"
#include "vuln/vuln_triage.h"

#include <stdlib.h>

#define DAY INT64_C(86400000)
#define T0 INT64_C(1733356800000) /* 2024-12-05T00:00:00Z */

static const char XZ_ADV[] =
    "{\"id\":\"DSA-9999-1\",\"modified\":\"2024-03-29T00:00:00Z\",\"aliases\":[\"CVE-2024-3094\"],"
    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/"
    "A:H\"}],\"affected\":[{\"package\":{\"ecosystem\":\"Debian\",\"name\":\"xz-utils\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"5.6.0\"},"
    "{\"fixed\":\"5.6.1+really5.4.5-1\"}]}]}]}";

static const char DPKG_OLD[] = "Package: xz-utils\nStatus: install ok installed\n"
                               "Version: 5.6.0-0.2\n";
static const char DPKG_NEW[] = "Package: xz-utils\nStatus: install ok installed\n"
                               "Version: 5.6.1+really5.4.5-1\n";

struct env {
    char dir[64], path[128];
    struct db *db;
    struct vuln_engine *e;
    struct vuln_triage *t;
    int64_t now;
    int64_t issue; /* the xz finding's issue on host-a */
};

static int64_t clock_now(void *ctx)
{
    return ((struct env *)ctx)->now;
}

static const struct vuln_key XZ_A = {"CVE-2024-3094", "host-a", "Debian", "xz-utils"};

/* An open issue as the pipeline would create it for the key. */
static int64_t add_issue(struct env *v, const struct vuln_key *k)
{
    struct db_issue r = {0};
    vuln_key_fp(k, r.fp);
    char ident[256];
    snprintf(ident, sizeof ident, "advisory=%s asset=%s ecosystem=%s package=%s", k->group_key,
             k->asset, k->ecosystem, k->package);
    r.identity = ident;
    r.source = (char *)"vuln";
    r.kind = (char *)"vulnerable-package";
    r.title = (char *)"a finding";
    r.severity = 4;
    r.count = 1;
    r.first_seen = r.last_seen = r.last_received = r.state_changed = v->now;
    int64_t id = 0;
    T_EQ_INT(db_begin(v->db), KB_OK);
    T_EQ_INT(db_issue_insert(v->db, &r, &id), KB_OK);
    T_EQ_INT(db_issue_set_state(v->db, id, -1, ISSUE_OPEN, v->now, "koban", "first", 1), KB_OK);
    T_EQ_INT(db_commit(v->db), KB_OK);
    return id;
}

static void env_open(struct env *v)
{
    memset(v, 0, sizeof *v);
    v->now = T0;
    snprintf(v->dir, sizeof v->dir, "/tmp/kbvtriage.XXXXXX");
    if (!mkdtemp(v->dir))
        abort();
    snprintf(v->path, sizeof v->path, "%s/koban.db", v->dir);
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(v->path, DB_CLIENT, 0, &v->db, &why), KB_OK);
    struct vuln_engine_opts eo = {.now = clock_now, .ctx = v};
    T_EQ_INT(vuln_engine_open(v->db, &eo, &v->e, &why), KB_OK);
    struct vuln_triage_opts to = {.now = clock_now, .now_ctx = v};
    T_EQ_INT(vuln_triage_open(v->db, &to, &v->t), KB_OK);
    T_EQ_INT(vuln_engine_put_advisory(v->e, NULL, XZ_ADV, strlen(XZ_ADV), &why), KB_OK);
    const char *ids[] = {"DSA-9999-1"};
    T_EQ_INT(vuln_engine_advisories_changed(v->e, ids, 1, NULL, &why), KB_OK);
    struct vuln_eval_stats st;
    T_EQ_INT(vuln_engine_replace_inventory(v->e, "host-a", "dpkg", NULL, DPKG_OLD,
                                           strlen(DPKG_OLD), &st, &why),
             KB_OK);
    T_EQ_INT(vuln_engine_replace_inventory(v->e, "host-b", "dpkg", NULL, DPKG_OLD,
                                           strlen(DPKG_OLD), &st, &why),
             KB_OK);
    T_EQ_INT((int)st.opened, 1);
    v->issue = add_issue(v, &XZ_A);
}

static void env_close(struct env *v)
{
    vuln_triage_close(v->t);
    vuln_engine_close(v->e);
    db_close(v->db);
    char p[192];
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", v->path, sfx[i]);
        unlink(p);
    }
    rmdir(v->dir);
}

static int issue_state(struct env *v, int64_t id)
{
    struct db_issue r;
    T_EQ_INT(db_issue_get(v->db, id, &r), KB_OK);
    int s = r.state;
    db_issue_release(&r);
    return s;
}

struct last_hist {
    char actor[64], reason[600];
    int from, to;
    int n;
};

static kb_err on_hist(void *ctx, const struct db_history *h)
{
    struct last_hist *l = ctx;
    snprintf(l->actor, sizeof l->actor, "%s", h->actor ? h->actor : "");
    snprintf(l->reason, sizeof l->reason, "%s", h->reason ? h->reason : "");
    l->from = h->from;
    l->to = h->to;
    l->n++;
    return KB_OK;
}

static struct last_hist last_history(struct env *v, int64_t id)
{
    struct last_hist l = {0};
    T_EQ_INT(db_issue_history(v->db, id, on_hist, &l), KB_OK);
    return l;
}

static void test_rules(void)
{
    struct kb_why why = {{0}};
    struct db_vuln_triage t = {.status = DB_VULN_NOT_AFFECTED, .author = "alice"};
    T_EQ_INT(vuln_triage_check(&t, T0, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "needs a justification") != NULL);
    t.justification = "not_a_reason";
    T_EQ_INT(vuln_triage_check(&t, T0, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "not an OpenVEX justification") != NULL);
    t.justification = "vulnerable_code_not_in_execute_path";
    T_EQ_INT(vuln_triage_check(&t, T0, &why), KB_OK);
    t.until = T0; /* not in the future */
    T_EQ_INT(vuln_triage_check(&t, T0, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "until") != NULL);
    t.until = T0 + DAY;
    T_EQ_INT(vuln_triage_check(&t, T0, &why), KB_OK);
    struct db_vuln_triage a = {.status = DB_VULN_AFFECTED, .author = "bob",
                               .justification = "component_not_present"};
    T_EQ_INT(vuln_triage_check(&a, T0, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "only with the status not_affected") != NULL);
    a.justification = NULL;
    a.until = T0 + DAY;
    T_EQ_INT(vuln_triage_check(&a, T0, &why), KB_EINVAL);
    a.until = 0;
    T_EQ_INT(vuln_triage_check(&a, T0, &why), KB_OK);
    a.author = "";
    T_EQ_INT(vuln_triage_check(&a, T0, &why), KB_EINVAL);
    struct db_vuln_triage f = {.status = DB_VULN_FIXED, .author = "c", .until = T0 + 1};
    T_EQ_INT(vuln_triage_check(&f, T0, &why), KB_OK);
    f.status = 9;
    T_EQ_INT(vuln_triage_check(&f, T0, &why), KB_EINVAL);

    int64_t ms = 0;
    T_EQ_INT(vuln_triage_parse_date("2027-03-01", &ms), KB_OK);
    char d[32];
    vuln_triage_date(ms, d);
    T_EQ_STR(d, "2027-03-01");
    T_EQ_INT(vuln_triage_parse_date("2027-03-01T12:00:00Z", &ms), KB_OK);
    vuln_triage_date(ms, d);
    T_EQ_STR(d, "2027-03-01T12:00:00.000Z");
    T_CHECK(vuln_triage_parse_date("2027-13-01", &ms) != KB_OK);
    T_CHECK(vuln_triage_parse_date("soon", &ms) != KB_OK);
}

static void test_find(void)
{
    struct env v;
    env_open(&v);
    struct kb_why why = {{0}};
    struct vuln_found f;
    char ref[16];
    snprintf(ref, sizeof ref, "#%lld", (long long)v.issue);
    T_EQ_INT(vuln_triage_find(v.t, ref, &f, &why), KB_OK);
    T_EQ_STR(f.f.asset, "host-a");
    T_EQ_STR(f.f.group_key, "CVE-2024-3094");
    T_EQ_STR(f.f.installed, "5.6.0-0.2");
    T_CHECK(f.issue == v.issue && !f.triaged);
    char hex[33];
    memcpy(hex, f.hex, sizeof hex);
    vuln_found_release(&f);
    /* by the finding id's first 12 digits; the host-b finding has no issue */
    hex[12] = '\0';
    T_EQ_INT(vuln_triage_find(v.t, hex, &f, &why), KB_OK);
    T_EQ_STR(f.f.asset, "host-a");
    vuln_found_release(&f);
    struct vuln_key kb = {"CVE-2024-3094", "host-b", "Debian", "xz-utils"};
    T_EQ_INT(vuln_triage_find_key(v.t, &kb, &f, &why), KB_OK);
    T_CHECK(f.issue == 0);
    vuln_found_release(&f);
    T_EQ_INT(vuln_triage_find(v.t, "#999", &f, &why), KB_ENOTFOUND);
    T_EQ_INT(vuln_triage_find(v.t, "abc", &f, &why), KB_EINVAL);
    T_EQ_INT(vuln_triage_find(v.t, "ffffffffffff", &f, &why), KB_ENOTFOUND);
    T_EQ_INT(vuln_triage_find(v.t, "zz12345678", &f, &why), KB_EINVAL);
    env_close(&v);
}

static const char ALERT_OPEN[] =
    "{\"source\":\"vuln\",\"state\":\"open\",\"fields\":{\"advisory\":\"CVE-2024-3094\","
    "\"asset\":\"host-a\",\"ecosystem\":\"Debian\",\"package\":\"xz-utils\","
    "\"change\":\"fix available\"}}";
static const char ALERT_RESOLVED[] =
    "{\"source\":\"vuln\",\"state\":\"resolved\",\"fields\":{\"advisory\":\"CVE-2024-3094\","
    "\"asset\":\"host-a\",\"ecosystem\":\"Debian\",\"package\":\"xz-utils\"}}";

/* not_affected closes the issue with the reason; the alert filter holds
 * its open alerts back until the date; expiry reopens it. */
static void test_not_affected_and_expiry(void)
{
    struct env v;
    env_open(&v);
    struct kb_why why = {{0}};
    T_CHECK(vuln_triage_alert_keep(v.t, ALERT_OPEN, strlen(ALERT_OPEN), v.now));
    int64_t until = 0;
    T_EQ_INT(vuln_triage_parse_date("2024-12-20", &until), KB_OK);
    struct db_vuln_triage t = {.status = DB_VULN_NOT_AFFECTED,
                               .justification = "vulnerable_code_not_in_execute_path",
                               .note = "liblzma is not linked into sshd here",
                               .until = until,
                               .author = "alice"};
    int act = -1;
    char reason[600];
    T_EQ_INT(vuln_triage_apply(v.t, &XZ_A, &t, &act, reason, sizeof reason, &why), KB_OK);
    T_EQ_INT(act, VULN_ISSUE_CLOSED);
    T_EQ_STR(reason, "triaged: not_affected (vulnerable_code_not_in_execute_path) until "
                     "2024-12-20 by alice: liblzma is not linked into sshd here");
    T_EQ_INT(issue_state(&v, v.issue), ISSUE_CLOSED);
    struct last_hist h = last_history(&v, v.issue);
    T_EQ_STR(h.actor, "alice");
    T_EQ_STR(h.reason, reason);
    struct db_vuln_triage got;
    T_EQ_INT(db_vuln_triage_get(vuln_triage_store(v.t), XZ_A.group_key, XZ_A.asset,
                                XZ_A.ecosystem, XZ_A.package, &got),
             KB_OK);
    T_EQ_INT(got.status, DB_VULN_NOT_AFFECTED);
    T_CHECK(got.at == T0 && got.until == until);
    db_vuln_triage_release(&got);

    /* the filter: open alerts held while the verdict holds, resolved pass */
    T_CHECK(!vuln_triage_alert_keep(v.t, ALERT_OPEN, strlen(ALERT_OPEN), v.now));
    T_CHECK(vuln_triage_alert_keep(v.t, ALERT_RESOLVED, strlen(ALERT_RESOLVED), v.now));
    T_CHECK(vuln_triage_alert_keep(v.t, ALERT_OPEN, strlen(ALERT_OPEN), until + 1));
    T_CHECK(vuln_triage_alert_keep(v.t, "not json", 8, v.now));

    /* before the date: nothing expires */
    size_t ex = 9, ro = 9;
    T_EQ_INT(vuln_triage_expire(v.t, until - 1, &ex, &ro, &why), KB_OK);
    T_CHECK(ex == 0 && ro == 0);
    T_EQ_INT(issue_state(&v, v.issue), ISSUE_CLOSED);
    /* at the date: reopened, saying why; the verdict is under investigation */
    v.now = until;
    T_EQ_INT(vuln_triage_expire(v.t, until, &ex, &ro, &why), KB_OK);
    T_CHECK(ex == 1 && ro == 1);
    T_EQ_INT(issue_state(&v, v.issue), ISSUE_OPEN);
    h = last_history(&v, v.issue);
    T_EQ_STR(h.actor, "koban");
    T_EQ_STR(h.reason, "triage expired (not_affected until 2024-12-20)");
    T_EQ_INT(db_vuln_triage_get(vuln_triage_store(v.t), XZ_A.group_key, XZ_A.asset,
                                XZ_A.ecosystem, XZ_A.package, &got),
             KB_OK);
    T_EQ_INT(got.status, DB_VULN_UNDER_INVESTIGATION);
    T_EQ_STR(got.author, "koban");
    T_CHECK(got.until == 0);
    db_vuln_triage_release(&got);
    /* once only */
    T_EQ_INT(vuln_triage_expire(v.t, until + DAY, &ex, &ro, &why), KB_OK);
    T_CHECK(ex == 0 && ro == 0);
    env_close(&v);
}

/* A verdict expiring after the asset upgraded reopens nothing. */
static void test_expiry_after_upgrade(void)
{
    struct env v;
    env_open(&v);
    struct kb_why why = {{0}};
    struct db_vuln_triage t = {.status = DB_VULN_FIXED, .until = T0 + DAY, .author = "bob"};
    int act = 0;
    T_EQ_INT(vuln_triage_apply(v.t, &XZ_A, &t, &act, NULL, 0, &why), KB_OK);
    T_EQ_INT(act, VULN_ISSUE_CLOSED);
    struct vuln_eval_stats st;
    T_EQ_INT(vuln_engine_replace_inventory(v.e, "host-a", "dpkg", NULL, DPKG_NEW,
                                           strlen(DPKG_NEW), &st, &why),
             KB_OK);
    T_EQ_INT((int)st.resolved, 1);
    size_t ex = 9, ro = 9;
    T_EQ_INT(vuln_triage_expire(v.t, T0 + 2 * DAY, &ex, &ro, &why), KB_OK);
    T_CHECK(ex == 0 && ro == 0);
    T_EQ_INT(issue_state(&v, v.issue), ISSUE_CLOSED);
    /* affected on a resolved finding: noted, the issue stays closed */
    struct db_vuln_triage a = {.status = DB_VULN_AFFECTED, .author = "bob"};
    T_EQ_INT(vuln_triage_apply(v.t, &XZ_A, &a, &act, NULL, 0, &why), KB_OK);
    T_EQ_INT(act, VULN_ISSUE_NOTED);
    T_EQ_INT(issue_state(&v, v.issue), ISSUE_CLOSED);
    env_close(&v);
}

/* affected reopens a closed issue; under_investigation notes an open one;
 * fixed on a closed issue only notes. */
static void test_open_statuses(void)
{
    struct env v;
    env_open(&v);
    struct kb_why why = {{0}};
    int act = 0;
    struct db_vuln_triage t = {.status = DB_VULN_FIXED, .author = "bob"};
    T_EQ_INT(vuln_triage_apply(v.t, &XZ_A, &t, &act, NULL, 0, &why), KB_OK);
    T_EQ_INT(act, VULN_ISSUE_CLOSED);
    T_EQ_INT(vuln_triage_apply(v.t, &XZ_A, &t, &act, NULL, 0, &why), KB_OK);
    T_EQ_INT(act, VULN_ISSUE_NOTED);
    T_EQ_INT(issue_state(&v, v.issue), ISSUE_CLOSED);
    t = (struct db_vuln_triage){.status = DB_VULN_AFFECTED, .note = "upgrade Monday",
                                .author = "carol"};
    T_EQ_INT(vuln_triage_apply(v.t, &XZ_A, &t, &act, NULL, 0, &why), KB_OK);
    T_EQ_INT(act, VULN_ISSUE_REOPENED);
    T_EQ_INT(issue_state(&v, v.issue), ISSUE_OPEN);
    struct last_hist h = last_history(&v, v.issue);
    T_EQ_STR(h.reason, "triaged: affected by carol: upgrade Monday");
    t.status = DB_VULN_UNDER_INVESTIGATION;
    t.note = NULL;
    T_EQ_INT(vuln_triage_apply(v.t, &XZ_A, &t, &act, NULL, 0, &why), KB_OK);
    T_EQ_INT(act, VULN_ISSUE_NOTED);
    h = last_history(&v, v.issue);
    T_CHECK(h.from == ISSUE_OPEN && h.to == ISSUE_OPEN);
    T_EQ_STR(h.reason, "triaged: under_investigation by carol");
    /* a finding without an issue still gets its verdict */
    struct vuln_key kb = {"CVE-2024-3094", "host-b", "Debian", "xz-utils"};
    T_EQ_INT(vuln_triage_apply(v.t, &kb, &t, &act, NULL, 0, &why), KB_OK);
    T_EQ_INT(act, VULN_ISSUE_NONE);
    struct vuln_found f;
    T_EQ_INT(vuln_triage_find_key(v.t, &kb, &f, &why), KB_OK);
    T_CHECK(f.triaged && f.t.status == DB_VULN_UNDER_INVESTIGATION);
    vuln_found_release(&f);
    env_close(&v);
}

int main(void)
{
    T_RUN(test_rules);
    T_RUN(test_find);
    T_RUN(test_not_affected_and_expiry);
    T_RUN(test_expiry_after_upgrade);
    T_RUN(test_open_statuses);
    return t_done();
}
