/* test_incident_model.c — the incident model's rules on a real store:
 * status transitions (allowed and refused), the timeline events each change
 * writes in the change's own transaction, parent/child links (self-links,
 * cycles and depth refused), channel names (suffixes, length, characters)
 * and the statistics. */
#include "incident/incident.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#define DAY 1614124800000LL /* 2021-02-24T00:00:00Z */
#define MIN 60000LL

static char dir[256], path[300];

static struct db *open_db(void)
{
    struct db *db = NULL;
    struct kb_why why = {{0}};
    kb_err e = db_open(path, DB_CLIENT, 2, &db, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    return db;
}

static int64_t open_one(struct db *db, const char *service, int64_t now, bool drill)
{
    struct incident_new n = {.service = service, .title = "it broke", .now = now,
                             .temperature = INCIDENT_WARM, .drill = drill, .actor = "alice"};
    struct kb_why why = {{0}};
    int64_t id = 0;
    kb_err e = incident_open(db, &n, &id, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    return id;
}

struct evs {
    int n;
    char kind[32][16], field[32][24], value[32][64];
};

static kb_err collect(void *ctx, const struct db_incident_event *ev)
{
    struct evs *c = ctx;
    if (c->n < 32) {
        snprintf(c->kind[c->n], sizeof c->kind[0], "%s", ev->kind);
        snprintf(c->field[c->n], sizeof c->field[0], "%s", ev->field ? ev->field : "");
        snprintf(c->value[c->n], sizeof c->value[0], "%s", ev->value ? ev->value : "");
    }
    c->n++;
    return KB_OK;
}

static struct evs events(struct db *db, int64_t id)
{
    struct evs c = {0};
    T_EQ_INT(db_incident_events(db, id, 0, NULL, 0, collect, &c), KB_OK);
    return c;
}

static void test_transition_table(void)
{
    /* rows: from; columns: to (declared, investigating, recovered,
     * completed, cancelled) */
    static const bool want[INCIDENT_STATUS_COUNT][INCIDENT_STATUS_COUNT] = {
        {0, 1, 1, 0, 1}, {0, 0, 1, 0, 1}, {0, 1, 0, 1, 1}, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}};
    for (int f = 0; f < INCIDENT_STATUS_COUNT; f++)
        for (int t = 0; t < INCIDENT_STATUS_COUNT; t++)
            T_CHECKF(incident_transition_ok(f, t) == want[f][t], "%s -> %s",
                     incident_status_name(f), incident_status_name(t));
    T_CHECK(!incident_transition_ok(-1, 0));
    T_CHECK(!incident_transition_ok(0, 7));
}

static void test_open_defaults(void)
{
    struct db *db = open_db();
    int64_t id = open_one(db, "Payments API", DAY + 5 * MIN, false);
    struct db_incident r;
    T_EQ_INT(db_incident_get(db, id, &r), KB_OK);
    T_EQ_INT(r.status, INCIDENT_DECLARED);
    T_EQ_INT(r.level, INCIDENT_LEVEL_DEFAULT);
    T_EQ_INT(r.declared, DAY + 5 * MIN);
    T_EQ_STR(r.slack_channel_name, "payments-api-20210224i");
    db_incident_release(&r);
    struct evs c = events(db, id);
    T_EQ_INT(c.n, 1);
    T_EQ_STR(c.kind[0], "declared");

    struct kb_why why = {{0}};
    struct incident_new bad = {.service = "svc", .title = "", .now = DAY};
    int64_t x;
    T_EQ_INT(incident_open(db, &bad, &x, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "title is required") != NULL);
    bad = (struct incident_new){.service = "svc", .title = "t", .level = 6, .now = DAY};
    T_EQ_INT(incident_open(db, &bad, &x, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "level 6") != NULL);
    bad = (struct incident_new){.service = "svc", .title = "t", .now = DAY, .occurred = DAY,
                                .detected = DAY - MIN};
    T_EQ_INT(incident_open(db, &bad, &x, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "before occurred") != NULL);
    bad = (struct incident_new){.service = "pay#ments", .title = "t", .now = DAY};
    T_EQ_INT(incident_open(db, &bad, &x, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "'#'") != NULL, "%s", why.msg);
    db_close(db);
}

static void test_lifecycle_and_timeline(void)
{
    struct db *db = open_db();
    int64_t id = open_one(db, "search", DAY, false);
    struct kb_why why = {{0}};
    struct incident_change c;
    bool changed;

    incident_change_init(&c);
    c.status = INCIDENT_COMPLETED; /* declared -> completed is not allowed */
    c.now = DAY + MIN;
    T_EQ_INT(incident_update(db, id, &c, &changed, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "is declared: it cannot become completed") != NULL, "%s", why.msg);
    T_EQ_INT(events(db, id).n, 1);

    incident_change_init(&c);
    c.status = INCIDENT_INVESTIGATING;
    c.handler = "bob";
    c.level = 2;
    c.temperature = INCIDENT_HOT;
    const char *tags[] = {"db", "latency"};
    c.tags = tags;
    c.ntags = 2;
    c.actor = "bob";
    c.now = DAY + 10 * MIN;
    T_EQ_INT(incident_update(db, id, &c, &changed, &why), KB_OK);
    T_CHECK(changed);
    struct evs e = events(db, id);
    T_EQ_INT(e.n, 1 + 6); /* status, level, temperature, handler, two tags */
    T_EQ_STR(e.kind[1], "status");
    T_EQ_STR(e.value[1], "investigating");
    T_EQ_STR(e.kind[2], "level");
    T_EQ_STR(e.value[2], "2");
    T_EQ_STR(e.field[3], "temperature");
    T_EQ_STR(e.kind[4], "role");
    T_EQ_STR(e.value[4], "bob");
    T_EQ_STR(e.kind[5], "tag");

    /* the same values again: nothing changes, nothing is written */
    T_EQ_INT(incident_update(db, id, &c, &changed, &why), KB_OK);
    T_CHECK(!changed);
    T_EQ_INT(events(db, id).n, 7);

    /* a change refused in part is refused whole: the status stays, and no
     * status event is left behind (same transaction) */
    int64_t missing = 999;
    incident_change_init(&c);
    c.status = INCIDENT_RECOVERED;
    c.issues = &missing;
    c.nissues = 1;
    c.now = DAY + 20 * MIN;
    T_EQ_INT(incident_update(db, id, &c, &changed, &why), KB_ENOTFOUND);
    T_CHECKF(strstr(why.msg, "issue 999") != NULL, "%s", why.msg);
    struct db_incident r;
    T_EQ_INT(db_incident_get(db, id, &r), KB_OK);
    T_EQ_INT(r.status, INCIDENT_INVESTIGATING);
    T_EQ_INT(r.recovered, 0);
    T_EQ_INT(r.first_response, DAY + 10 * MIN);
    T_EQ_STR(r.handler, "bob");
    db_incident_release(&r);
    T_EQ_INT(events(db, id).n, 7);

    c.issues = NULL;
    c.nissues = 0;
    T_EQ_INT(incident_update(db, id, &c, &changed, &why), KB_OK);
    /* it broke again, then recovered for good */
    incident_change_init(&c);
    c.status = INCIDENT_INVESTIGATING;
    c.now = DAY + 30 * MIN;
    T_EQ_INT(incident_update(db, id, &c, &changed, &why), KB_OK);
    T_EQ_INT(db_incident_get(db, id, &r), KB_OK);
    T_EQ_INT(r.recovered, 0);
    T_EQ_INT(r.first_response, DAY + 10 * MIN); /* the first one stays */
    db_incident_release(&r);
    c.status = INCIDENT_RECOVERED;
    c.now = DAY + 40 * MIN;
    T_EQ_INT(incident_update(db, id, &c, &changed, &why), KB_OK);
    c.status = INCIDENT_COMPLETED;
    c.handler = ""; /* clears the role */
    c.now = DAY + 50 * MIN;
    T_EQ_INT(incident_update(db, id, &c, &changed, &why), KB_OK);
    T_EQ_INT(db_incident_get(db, id, &r), KB_OK);
    T_EQ_INT(r.status, INCIDENT_COMPLETED);
    T_EQ_INT(r.recovered, DAY + 40 * MIN);
    T_EQ_INT(r.completed, DAY + 50 * MIN);
    T_CHECK(r.handler == NULL);
    T_EQ_INT(r.ntags, 2);
    db_incident_release(&r);
    /* completed is final */
    c.status = INCIDENT_CANCELLED;
    c.handler = NULL;
    T_EQ_INT(incident_update(db, id, &c, &changed, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "it is final") != NULL, "%s", why.msg);
    T_EQ_INT(incident_update(db, 4242, &c, &changed, &why), KB_ENOTFOUND);
    T_CHECK(strstr(why.msg, "no such incident") != NULL);

    /* status events only: what a broadcaster posts to children */
    struct evs s = {0};
    T_EQ_INT(db_incident_events(db, id, 0, "status", 0, collect, &s), KB_OK);
    T_EQ_INT(s.n, 5);
    T_EQ_STR(s.value[4], "completed");
    db_close(db);
}

static void test_notes(void)
{
    struct db *db = open_db();
    int64_t id = open_one(db, "notes", DAY, false);
    struct kb_why why = {{0}};
    T_EQ_INT(incident_note(db, id, "note", "restarted the pods", "bob", DAY + MIN, NULL, &why),
             KB_OK);
    T_EQ_INT(incident_note(db, id, "pin", "5xx spike", "carol", DAY, "1614124800.000200", &why),
             KB_OK);
    T_EQ_INT(incident_note(db, id, "note", "", "bob", DAY, NULL, &why), KB_EINVAL);
    T_EQ_INT(incident_note(db, id, "shout", "x", "bob", DAY, NULL, &why), KB_EINVAL);
    T_EQ_INT(incident_note(db, 4242, "note", "x", "bob", DAY, NULL, &why), KB_ENOTFOUND);
    struct evs e = events(db, id);
    T_EQ_INT(e.n, 3);
    T_EQ_STR(e.kind[1], "note");
    T_EQ_STR(e.kind[2], "pin");
    db_close(db);
}

static kb_err count_child(void *ctx, const struct db_incident *r)
{
    (*(int *)ctx)++;
    return KB_OK;
}

static void test_parent_child(void)
{
    struct db *db = open_db();
    struct kb_why why = {{0}};
    int64_t a = open_one(db, "upstream", DAY, false);
    int64_t b = open_one(db, "web", DAY, false);
    int64_t c = open_one(db, "api", DAY, false);
    int64_t d = open_one(db, "batch", DAY, false);
    int64_t e = open_one(db, "mail", DAY, false);

    T_EQ_INT(incident_link(db, a, a, "x", DAY, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "its own parent") != NULL);
    T_EQ_INT(incident_link(db, b, 4242, "x", DAY, &why), KB_ENOTFOUND);
    T_EQ_INT(incident_link(db, 4242, a, "x", DAY, &why), KB_ENOTFOUND);
    T_EQ_INT(incident_link(db, b, a, "x", DAY, &why), KB_OK);
    T_EQ_INT(incident_link(db, b, a, "x", DAY, &why), KB_OK); /* again: no change */
    T_EQ_INT(incident_link(db, c, b, "x", DAY, &why), KB_OK);
    /* a is b's parent and c's grandparent: a under c is a cycle */
    T_EQ_INT(incident_link(db, a, c, "x", DAY, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "cycle") != NULL, "%s", why.msg);
    T_EQ_INT(incident_link(db, a, b, "x", DAY, &why), KB_EINVAL);
    /* a -> b -> c -> d is 4 deep (the limit); e under d would be 5 */
    T_EQ_INT(incident_link(db, d, c, "x", DAY, &why), KB_OK);
    T_EQ_INT(incident_link(db, e, d, "x", DAY, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "5 incidents deep") != NULL, "%s", why.msg);
    /* a subtree counts too: hang e over a (e -> a -> b -> c -> d) */
    T_EQ_INT(incident_link(db, a, e, "x", DAY, &why), KB_EINVAL);

    int n = 0;
    T_EQ_INT(incident_children(db, a, count_child, &n), KB_OK);
    T_EQ_INT(n, 1);
    struct evs ev = events(db, a);
    T_EQ_INT(ev.n, 2);
    T_EQ_STR(ev.field[1], "child");
    ev = events(db, b);
    T_EQ_STR(ev.field[1], "parent");
    T_EQ_STR(ev.field[2], "child");
    db_close(db);
}

static void test_channel_names(void)
{
    struct kb_why why = {{0}};
    char out[INCIDENT_CHANNEL_MAX + 1];
    T_EQ_INT(incident_channel_format("Payments.API", DAY, 1, out, &why), KB_OK);
    T_EQ_STR(out, "payments-api-20210224i");
    T_EQ_INT(incident_channel_format("auth_svc", DAY + 86399999, 3, out, &why), KB_OK);
    T_EQ_STR(out, "auth_svc-20210224i-3");
    T_EQ_INT(incident_channel_format("caf\xc3\xa9", DAY, 1, out, &why), KB_EINVAL);
    T_EQ_INT(incident_channel_format("a:b", DAY, 1, out, &why), KB_EINVAL);
    T_EQ_INT(incident_channel_format("", DAY, 1, out, &why), KB_EINVAL);
    char longsvc[120];
    memset(longsvc, 'x', sizeof longsvc - 1);
    longsvc[sizeof longsvc - 1] = '\0';
    longsvc[66] = '-'; /* where the "-12" name is cut */
    T_EQ_INT(incident_channel_format(longsvc, DAY, 1, out, &why), KB_OK);
    T_EQ_INT(strlen(out), 80);
    T_CHECK(strcmp(out + 70, "-20210224i") == 0);
    T_EQ_INT(incident_channel_format(longsvc, DAY, 12, out, &why), KB_OK);
    T_CHECKF(strlen(out) <= 80, "%zu", strlen(out));
    T_CHECKF(strstr(out, "--") == NULL, "%s", out); /* the cut '-' was trimmed */
    T_CHECK(strcmp(out + strlen(out) - 13, "-20210224i-12") == 0);

    T_EQ_INT(incident_channel_check("ok-name_1", &why), KB_OK);
    T_EQ_INT(incident_channel_check("Upper", &why), KB_EINVAL);
    T_EQ_INT(incident_channel_check("has space", &why), KB_EINVAL);
    T_EQ_INT(incident_channel_check("", &why), KB_EINVAL);
    memset(longsvc, 'a', 81);
    longsvc[81] = '\0';
    T_EQ_INT(incident_channel_check(longsvc, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "over 80") != NULL);

    /* taken in koban's store, or reported taken by Slack: next suffix */
    struct db *db = open_db();
    int64_t a = open_one(db, "shop", DAY + MIN, false);
    int64_t b = open_one(db, "shop", DAY + 2 * MIN, false);
    T_EQ_INT(db_incident_channel_mark_taken(db, "shop-20210224i-3", DAY), KB_OK);
    int64_t c = open_one(db, "shop", DAY + 3 * MIN, false);
    const char *want[] = {"shop-20210224i", "shop-20210224i-2", "shop-20210224i-4"};
    int64_t ids[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        struct db_incident r;
        T_EQ_INT(db_incident_get(db, ids[i], &r), KB_OK);
        T_EQ_STR(r.slack_channel_name, want[i]);
        db_incident_release(&r);
    }
    /* a channel name set later must follow the rules and be free */
    struct incident_change ch;
    incident_change_init(&ch);
    ch.slack_channel_name = "Shop";
    ch.now = DAY;
    T_EQ_INT(incident_update(db, a, &ch, NULL, &why), KB_EINVAL);
    ch.slack_channel_name = "shop-20210224i-2";
    T_EQ_INT(incident_update(db, a, &ch, NULL, &why), KB_EEXIST);
    T_CHECKF(strstr(why.msg, "another incident") != NULL, "%s", why.msg);
    db_close(db);
}

static void test_stats(void)
{
    /* a fresh store: three real "pay" level-2 incidents recovered after
     * 10, 30 and 20 minutes, one not recovered, one drill (excluded) */
    char p2[320];
    snprintf(p2, sizeof p2, "%s/stats.db", dir);
    struct db *db = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(p2, DB_CLIENT, 2, &db, &why), KB_OK);
    const int64_t ttr[] = {10, 30, 20, -1, 1};
    for (int i = 0; i < 5; i++) {
        int64_t id = open_one(db, "pay", DAY + i * 1000, i == 4);
        struct incident_change c;
        incident_change_init(&c);
        c.level = 2;
        c.detected = DAY + i * 1000 - MIN;
        c.now = DAY + i * 1000;
        T_EQ_INT(incident_update(db, id, &c, NULL, &why), KB_OK);
        if (ttr[i] < 0)
            continue;
        c.detected = 0;
        c.level = 0;
        c.status = INCIDENT_RECOVERED;
        c.now = DAY + i * 1000 - MIN + ttr[i] * MIN;
        T_EQ_INT(incident_update(db, id, &c, NULL, &why), KB_OK);
    }
    open_one(db, "auth", DAY, false);
    struct incident_stats s;
    T_EQ_INT(incident_stats_compute(db, &s), KB_OK);
    T_EQ_INT(s.n, 2);
    if (s.n == 2) {
        T_EQ_STR(s.rows[0].service, "auth");
        T_EQ_INT(s.rows[0].level, 3);
        T_EQ_INT(s.rows[0].count, 1);
        T_EQ_INT(s.rows[0].median_ttr_ms, -1);
        T_EQ_STR(s.rows[1].service, "pay");
        T_EQ_INT(s.rows[1].level, 2);
        T_EQ_INT(s.rows[1].count, 4);
        T_EQ_INT(s.rows[1].recovered, 3);
        T_EQ_INT(s.rows[1].median_ttr_ms, 20 * MIN);
    }
    incident_stats_release(&s);
    db_close(db);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/koban-incident-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/koban.db", dir);
    T_RUN(test_transition_table);
    T_RUN(test_open_defaults);
    T_RUN(test_lifecycle_and_timeline);
    T_RUN(test_notes);
    T_RUN(test_parent_child);
    T_RUN(test_channel_names);
    T_RUN(test_stats);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return t_done();
}
