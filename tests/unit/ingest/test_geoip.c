/* test_geoip.c — the GeoIP enricher: a MaxMind DB written here (no
 * download), lookups, the alert field, and the sign-in policy end to end
 * through triage on a real journal and SQLite file. */
#include "ingest/geoip.h"
#include "ingest/intake.h"
#include "ingest/pipeline.h"
#include "ingest/triage.h"
#include "mmdb_writer.h"
#include "test.h"

#include <maxminddb.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char top[256];
static char dbpath[300];

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static const struct mmdb_net test_nets[] = {
    {V4(203, 0, 113, 0), 24, NULL, "RO"},
    {V4(198, 51, 100, 0), 24, NULL, "JP"},
    {V4(192, 0, 2, 0), 24, "registered_country", "DE"}, /* no country: falls back */
    {V4(100, 64, 0, 0), 16, NULL, NULL},                 /* a record without a country */
    {V4(100, 65, 0, 0), 16, NULL, "fr"},                 /* lower case in the file */
    {V4(100, 66, 0, 0), 16, NULL, "FRA"},                /* not alpha-2 */
};

static kb_err country(struct geoip *g, const char *ip, char cc[GEOIP_CC_SIZE])
{
    cc[0] = '\0';
    return geoip_country(g, kb_str_c(ip), cc, NULL);
}

static void test_writer_opens(void)
{
    MMDB_s db;
    T_EQ_INT(MMDB_open(dbpath, MMDB_MODE_MMAP, &db), MMDB_SUCCESS);
    T_EQ_INT(db.metadata.ip_version, 4);
    T_EQ_INT(db.metadata.record_size, 24);
    T_EQ_INT(db.metadata.binary_format_major_version, 2);
    T_CHECK(db.metadata.node_count > 24);
    T_EQ_STR(db.metadata.database_type, "Koban-Test-Country");
    MMDB_close(&db);
}

static void test_lookup(void)
{
    struct geoip *g = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(geoip_open(dbpath, &g, &why), KB_OK);
    if (!g)
        return;
    T_EQ_STR(geoip_database_type(g), "Koban-Test-Country");
    char cc[GEOIP_CC_SIZE];
    T_EQ_INT(country(g, "203.0.113.7", cc), KB_OK);
    T_EQ_STR(cc, "RO");
    T_EQ_INT(country(g, "203.0.113.255", cc), KB_OK);
    T_EQ_STR(cc, "RO");
    T_EQ_INT(country(g, "198.51.100.200", cc), KB_OK);
    T_EQ_STR(cc, "JP");
    T_EQ_INT(country(g, "192.0.2.1", cc), KB_OK);
    T_EQ_STR(cc, "DE");
    T_EQ_INT(country(g, "100.65.3.4", cc), KB_OK);
    T_EQ_STR(cc, "FR");
    T_EQ_INT(country(g, "::ffff:203.0.113.9", cc), KB_OK); /* v4-mapped: as IPv4 */
    T_EQ_STR(cc, "RO");
    /* valid addresses without a country */
    T_EQ_INT(country(g, "203.0.114.1", cc), KB_ENOTFOUND);
    T_EQ_INT(country(g, "10.1.2.3", cc), KB_ENOTFOUND);
    T_EQ_INT(country(g, "100.64.1.1", cc), KB_ENOTFOUND);
    T_EQ_INT(country(g, "100.66.1.1", cc), KB_ENOTFOUND);
    T_EQ_INT(country(g, "2001:db8::1", cc), KB_ENOTFOUND);
    T_EQ_INT(country(g, "::1", cc), KB_ENOTFOUND);
    /* not addresses */
    T_EQ_INT(country(g, "", cc), KB_EINVAL);
    T_EQ_INT(country(g, "AWS Internal", cc), KB_EINVAL);
    T_EQ_INT(country(g, "signin.amazonaws.com", cc), KB_EINVAL);
    T_EQ_INT(country(g, "203.0.113", cc), KB_EINVAL);
    T_EQ_INT(country(g, "203.0.113.7:443", cc), KB_EINVAL);
    T_EQ_INT(country(g, "2001:db8::1::2", cc), KB_EINVAL);
    char longip[200];
    memset(longip, '1', sizeof longip - 1);
    longip[sizeof longip - 1] = '\0';
    T_EQ_INT(country(g, longip, cc), KB_EINVAL);
    T_EQ_INT(geoip_country(g, (struct kb_str){"203.0.113.7\0junk", 16}, cc, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "not an IP address") != NULL, "%s", why.msg);
    /* a borrowed slice that is not NUL-terminated */
    const char *in = "203.0.113.8xyz";
    T_EQ_INT(geoip_country(g, (struct kb_str){in, 11}, cc, NULL), KB_OK);
    T_EQ_STR(cc, "RO");
    geoip_close(g);
}

static void test_open_errors(void)
{
    struct geoip *g = NULL;
    struct kb_why why = {{0}};
    char path[400];
    snprintf(path, sizeof path, "%s/missing.mmdb", top);
    T_EQ_INT(geoip_open(path, &g, &why), KB_EIO);
    T_CHECKF(strstr(why.msg, path) != NULL, "%s", why.msg);
    T_CHECK(g == NULL);

    snprintf(path, sizeof path, "%s/garbage.mmdb", top);
    FILE *f = fopen(path, "wb");
    T_CHECK(f != NULL);
    if (f) {
        for (int i = 0; i < 4096; i++)
            fputc((i * 7919) & 0xff, f);
        fclose(f);
    }
    why.msg[0] = '\0';
    T_EQ_INT(geoip_open(path, &g, &why), KB_ECORRUPT);
    T_CHECKF(strstr(why.msg, path) != NULL && strstr(why.msg, "metadata") != NULL, "%s",
             why.msg);
    T_EQ_INT(geoip_open("", &g, &why), KB_EINVAL);
    T_EQ_INT(geoip_open(NULL, &g, &why), KB_EINVAL);

    /* triage refuses to start with a bad database, naming the key and file */
    struct triage *t = NULL;
    struct triage_opts to = {.geoip_db = path, .no_watch = true};
    why.msg[0] = '\0';
    T_EQ_INT(triage_new(&to, NULL, NULL, NULL, &t, &why), KB_ECORRUPT);
    T_CHECKF(strstr(why.msg, "enrich.geoip_db") && strstr(why.msg, path), "%s", why.msg);
    T_CHECK(t == NULL);
    to.geoip_db = ""; /* off */
    T_EQ_INT(triage_new(&to, NULL, NULL, NULL, &t, &why), KB_OK);
    triage_free(t);
}

static void test_enrich(void)
{
    struct geoip *g = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(geoip_open(dbpath, &g, &why), KB_OK);
    if (!g)
        return;
    char cc[GEOIP_CC_SIZE];
    bool added = true;
    struct alert a;
    alert_init(&a, "cloudtrail", NULL);
    a.actor_ip = KB_STR_LIT("203.0.113.5");
    T_EQ_INT(geoip_enrich(g, &a, cc, &added), KB_OK);
    T_CHECK(added);
    T_EQ_KSTR(alert_get(&a, "actor.country"), "RO");
    T_EQ_INT(a.nfields, 1);
    /* already set: kept, nothing added */
    T_EQ_INT(geoip_enrich(g, &a, cc, &added), KB_OK);
    T_CHECK(!added);
    T_EQ_INT(a.nfields, 1);

    alert_init(&a, "cloudtrail", NULL);
    alert_add_field(&a, "actor.country", KB_STR_LIT("US"));
    a.actor_ip = KB_STR_LIT("203.0.113.5");
    T_EQ_INT(geoip_enrich(g, &a, cc, &added), KB_OK);
    T_CHECK(!added);
    T_EQ_KSTR(alert_get(&a, "actor.country"), "US");

    alert_init(&a, "cloudtrail", NULL); /* no actor.ip */
    T_EQ_INT(geoip_enrich(g, &a, cc, &added), KB_OK);
    T_CHECK(!added);
    T_CHECK(kb_str_empty(alert_get(&a, "actor.country")));

    a.actor_ip = KB_STR_LIT("10.0.0.1"); /* no country */
    T_EQ_INT(geoip_enrich(g, &a, cc, &added), KB_OK);
    T_CHECK(!added);
    a.actor_ip = KB_STR_LIT("not-an-ip");
    T_EQ_INT(geoip_enrich(g, &a, cc, &added), KB_OK);
    T_CHECK(!added);
    T_EQ_INT(a.nfields, 0);
    T_EQ_INT(geoip_enrich(NULL, &a, cc, NULL), KB_OK); /* no database: a no-op */

    alert_init(&a, "cloudtrail", NULL); /* no room */
    for (int i = 0; i < ALERT_MAX_FIELDS; i++)
        alert_add_field(&a, "x", KB_STR_LIT("y"));
    a.actor_ip = KB_STR_LIT("198.51.100.1");
    T_EQ_INT(geoip_enrich(g, &a, cc, &added), KB_ETOOBIG);
    T_CHECK(!added);
    geoip_close(g);
}

/* ---- end to end through triage (helpers as in test_triage.c) ------------ */

struct env {
    char dir[300], jdir[340], db[340];
    struct journal *j;
    struct intake *in;
    struct triage *t;
    struct pipeline *p;
};

static void env_start(struct env *e, const char *geoip_db)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "%s/e2e", top);
    snprintf(e->jdir, sizeof e->jdir, "%s/journal", e->dir);
    snprintf(e->db, sizeof e->db, "%s/koban.db", e->dir);
    mkdir(e->dir, 0700);
    struct kb_why why = {{0}};
    struct triage_opts to = {.stock_policies = true, .no_watch = true, .geoip_db = geoip_db};
    size_t nerr = 99;
    T_EQ_INT(triage_new(&to, NULL, NULL, &nerr, &e->t, &why), KB_OK);
    T_EQ_INT(nerr, 0);
    T_EQ_INT(journal_open(e->jdir, NULL, &e->j, &why), KB_OK);
    T_EQ_INT(intake_new(e->j, NULL, &e->in), KB_OK);
    struct pipeline_opts po = {.triage = e->t};
    T_EQ_INT(pipeline_new(e->j, e->db, &po, &e->p, &why), KB_OK);
}

static void env_stop(struct env *e)
{
    pipeline_stop(e->p);
    triage_free(e->t);
    intake_free(e->in);
    journal_close(e->j);
}

static void post(struct env *e, const char *body)
{
    struct intake_report *rep = calloc(1, sizeof *rep);
    struct kb_why why = {{0}};
    uint64_t last = 0;
    T_EQ_INT(intake_body(e->in, body, strlen(body), JOURNAL_PATH_HTTP, NULL, rep, &last, &why),
             KB_OK);
    T_EQ_INT(rep->rejected, 0);
    free(rep);
    T_EQ_INT(journal_wait(e->j, last, 10000), KB_OK);
    T_EQ_INT(pipeline_run_until_idle(e->p, &why), KB_OK);
}

/* A successful console sign-in by user from ip. */
static void signin(struct env *e, int n, const char *user, const char *ip)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"eventVersion\":\"1.08\",\"eventSource\":\"signin.amazonaws.com\",\"eventName\":"
             "\"ConsoleLogin\",\"eventTime\":\"2026-01-01T00:%02d:00Z\",\"eventID\":\"s%d\","
             "\"recipientAccountId\":\"111122223333\",\"sourceIPAddress\":\"%s\","
             "\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111122223333:user/%s\"},"
             "\"responseElements\":{\"ConsoleLogin\":\"Success\"}}\n",
             n, n, ip, user);
    post(e, body);
}

struct found {
    const char *ip;
    bool seen;
    int severity;
    char identity[512], policies[256];
};

static kb_err find_ip(void *ctx, const struct db_issue *r)
{
    struct found *f = ctx;
    if (r->actor_ip && !strcmp(r->actor_ip, f->ip)) {
        f->seen = true;
        f->severity = r->severity;
        snprintf(f->identity, sizeof f->identity, "%s", r->identity ? r->identity : "");
        snprintf(f->policies, sizeof f->policies, "%s", r->policies ? r->policies : "");
    }
    return KB_OK;
}

static struct found issue_of(struct env *e, const char *ip)
{
    struct found f = {.ip = ip};
    struct db *db;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(e->db, DB_CLIENT, 0, &db, &why), KB_OK);
    struct db_issue_filter flt = {.state = -1};
    T_EQ_INT(db_issue_list(db, &flt, find_ip, &f), KB_OK);
    db_close(db);
    T_CHECKF(f.seen, "no issue from %s", ip);
    return f;
}

static void test_signin_policy(void)
{
    struct env e;
    env_start(&e, dbpath);
    signin(&e, 1, "alice", "203.0.113.5");  /* RO: not on the allow list */
    signin(&e, 2, "bob", "198.51.100.9");   /* JP: allowed */
    signin(&e, 3, "carol", "10.20.30.40");  /* no country: the policy cannot tell */
    struct found ro = issue_of(&e, "203.0.113.5");
    T_EQ_INT(ro.severity, KB_SEV_HIGH);
    T_CHECKF(strstr(ro.identity, "actor.country=RO") != NULL, "%s", ro.identity);
    T_CHECKF(strstr(ro.policies, "signin-unexpected-country") != NULL, "%s", ro.policies);
    struct found jp = issue_of(&e, "198.51.100.9");
    T_CHECK(jp.severity < KB_SEV_HIGH);
    T_CHECKF(strstr(jp.policies, "signin-unexpected-country") == NULL, "%s", jp.policies);
    struct found none = issue_of(&e, "10.20.30.40");
    T_CHECK(none.severity < KB_SEV_HIGH);
    T_CHECK(strstr(none.policies, "signin-unexpected-country") == NULL);
    struct triage_stats ts;
    triage_get_stats(e.t, &ts);
    T_EQ_INT(ts.geoip_countries, 2);
    struct buf mb;
    buf_init(&mb, 1 << 20);
    T_EQ_INT(triage_metrics(e.t, &mb), KB_OK);
    T_CHECKF(strstr(mb.p, "\nkoban_geoip_countries_total 2\n") != NULL, "%s", mb.p);
    buf_release(&mb);

    /* reload: a broken replacement keeps the open database; a good one
     * (moved into place, as geoipupdate does) is taken */
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%s/next.mmdb", top);
    FILE *f = fopen(tmp, "wb");
    T_CHECK(f != NULL);
    if (f) {
        fputs("not a database", f);
        fclose(f);
    }
    T_EQ_INT(rename(tmp, dbpath), 0);
    T_EQ_INT(triage_reload(e.t, NULL), KB_OK);
    signin(&e, 4, "dave", "203.0.113.6");
    T_EQ_INT(issue_of(&e, "203.0.113.6").severity, KB_SEV_HIGH);
    const struct mmdb_net moved[] = {{V4(203, 0, 113, 0), 24, NULL, "JP"}};
    T_EQ_INT(mmdb_write_v4(tmp, moved, 1), 0);
    T_EQ_INT(rename(tmp, dbpath), 0);
    T_EQ_INT(triage_reload(e.t, NULL), KB_OK);
    signin(&e, 5, "erin", "203.0.113.7");
    struct found now = issue_of(&e, "203.0.113.7");
    T_CHECK(now.severity < KB_SEV_HIGH);
    T_CHECKF(strstr(now.policies, "signin-unexpected-country") == NULL, "%s", now.policies);
    env_stop(&e);
    /* put the test database back for any later test */
    T_EQ_INT(mmdb_write_v4(dbpath, test_nets, KB_ARRAY_LEN(test_nets)), 0);
}

int main(void)
{
    snprintf(top, sizeof top, "/tmp/koban-test-geoip-XXXXXX");
    if (!mkdtemp(top)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dbpath, sizeof dbpath, "%s/test.mmdb", top);
    T_CHECK(mmdb_write_v4(dbpath, test_nets, KB_ARRAY_LEN(test_nets)) == 0);
    T_RUN(test_writer_opens);
    T_RUN(test_lookup);
    T_RUN(test_open_errors);
    T_RUN(test_enrich);
    T_RUN(test_signin_policy);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", top);
    return t_done();
}
