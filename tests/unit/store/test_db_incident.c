/* test_db_incident.c — incident rows, tags, linked issues, timeline and
 * taken channel names round-trip through a real SQLite file (migration 6),
 * including after the store is closed and opened again. */
#include "store/db_incident.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[256], path[300];

static struct db *open_db(void)
{
    struct db *db = NULL;
    struct kb_why why = {{0}};
    kb_err e = db_open(path, DB_CLIENT, 2, &db, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    return db;
}

static int64_t add_issue(struct db *db, uint8_t tag)
{
    struct db_issue r = {.identity = "x", .source = "generic", .title = "t", .severity = 2,
                         .count = 1, .first_seen = 1, .last_seen = 1, .last_received = 1};
    memset(r.fp, tag, sizeof r.fp);
    int64_t id = 0;
    T_EQ_INT(db_issue_insert(db, &r, &id), KB_OK);
    return id;
}

static void test_names(void)
{
    int v;
    T_EQ_STR(incident_status_name(INCIDENT_RECOVERED), "recovered");
    T_EQ_STR(incident_status_name(9), "?");
    T_EQ_INT(incident_status_parse("Investigating", &v), KB_OK);
    T_EQ_INT(v, INCIDENT_INVESTIGATING);
    T_EQ_INT(incident_status_parse("open", &v), KB_EINVAL);
    T_EQ_INT(incident_temp_parse("hot", &v), KB_OK);
    T_EQ_INT(v, INCIDENT_HOT);
    T_EQ_STR(incident_temp_name(INCIDENT_COLD), "cold");
    T_EQ_INT(incident_temp_parse("red", &v), KB_EINVAL);
}

static void test_round_trip(void)
{
    struct db *db = open_db();
    if (!db)
        return;
    struct db_incident in = {
        .service = "payments", .title = "card | declines", .summary = "many *declines*",
        .temperature = INCIDENT_HOT, .level = 2, .status = INCIDENT_INVESTIGATING,
        .handler = "alice", .scribe = "bob", .occurred = 1000, .detected = 2000,
        .declared = 3000, .first_response = 4000, .slack_channel_name = "payments-19700101i",
        .github_issue = 42, .drill = true, .updated = 5000};
    int64_t id = 0;
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(db_incident_insert(db, &in, &id), KB_OK);
    T_CHECK(id > 0);
    bool added;
    T_EQ_INT(db_incident_tag_add(db, id, "db", &added), KB_OK);
    T_CHECK(added);
    T_EQ_INT(db_incident_tag_add(db, id, "db", &added), KB_OK);
    T_CHECK(!added);
    T_EQ_INT(db_incident_tag_add(db, id, "api", &added), KB_OK);
    int64_t issue = add_issue(db, 7);
    T_EQ_INT(db_incident_issue_add(db, id, issue, &added), KB_OK);
    T_CHECK(added);
    T_EQ_INT(db_incident_issue_add(db, id, issue, &added), KB_OK);
    T_CHECK(!added);
    T_EQ_INT(db_incident_issue_add(db, id, 9999, &added), KB_ENOTFOUND);
    struct db_incident_event ev = {.incident_id = id, .at = 3000, .kind = "declared",
                                   .field = "status", .value = "declared", .text = "declared",
                                   .actor = "alice"};
    int64_t evid = 0;
    T_EQ_INT(db_incident_event_add(db, &ev, &evid), KB_OK);
    ev = (struct db_incident_event){.incident_id = id, .at = 3500, .kind = "pin",
                                    .text = "look at this", .actor = "carol",
                                    .source_ref = "1614130000.000100"};
    T_EQ_INT(db_incident_event_add(db, &ev, NULL), KB_OK);
    ev.incident_id = 777;
    T_EQ_INT(db_incident_event_add(db, &ev, NULL), KB_ENOTFOUND);
    T_EQ_INT(db_commit(db), KB_OK);
    db_close(db);

    db = open_db(); /* everything came from the file */
    struct db_incident r;
    T_EQ_INT(db_incident_get(db, id, &r), KB_OK);
    T_EQ_STR(r.service, "payments");
    T_EQ_STR(r.title, "card | declines");
    T_EQ_STR(r.summary, "many *declines*");
    T_EQ_INT(r.temperature, INCIDENT_HOT);
    T_EQ_INT(r.level, 2);
    T_EQ_INT(r.status, INCIDENT_INVESTIGATING);
    T_EQ_STR(r.handler, "alice");
    T_EQ_STR(r.scribe, "bob");
    T_CHECK(r.liaison == NULL);
    T_EQ_INT(r.occurred, 1000);
    T_EQ_INT(r.detected, 2000);
    T_EQ_INT(r.declared, 3000);
    T_EQ_INT(r.first_response, 4000);
    T_EQ_INT(r.recovered, 0);
    T_EQ_STR(r.slack_channel_name, "payments-19700101i");
    T_CHECK(r.slack_channel_id == NULL);
    T_EQ_INT(r.github_issue, 42);
    T_EQ_INT(r.github_pr, 0);
    T_EQ_INT(r.parent_id, 0);
    T_CHECK(r.drill);
    T_EQ_INT(r.ntags, 2);
    if (r.ntags == 2) {
        T_EQ_STR(r.tags[0], "api");
        T_EQ_STR(r.tags[1], "db");
    }
    T_EQ_INT(r.nissues, 1);
    T_EQ_INT(r.nissues ? r.issues[0] : 0, issue);

    /* update writes every column */
    free(r.handler);
    r.handler = NULL;
    free(r.liaison);
    r.liaison = kb_strdup("dave");
    r.status = INCIDENT_RECOVERED;
    r.recovered = 9000;
    r.github_pr = 7;
    T_EQ_INT(db_incident_update(db, &r), KB_OK);
    int64_t keep = r.id;
    db_incident_release(&r);
    T_EQ_INT(db_incident_get(db, keep, &r), KB_OK);
    T_CHECK(r.handler == NULL);
    T_EQ_STR(r.liaison, "dave");
    T_EQ_INT(r.status, INCIDENT_RECOVERED);
    T_EQ_INT(r.recovered, 9000);
    T_EQ_INT(r.github_pr, 7);
    r.id = 4242;
    T_EQ_INT(db_incident_update(db, &r), KB_ENOTFOUND);
    db_incident_release(&r);
    T_EQ_INT(db_incident_get(db, 4242, &r), KB_ENOTFOUND);
    db_close(db);
}

struct evs {
    int n;
    char kinds[8][16];
    char ref[64];
};

static kb_err collect(void *ctx, const struct db_incident_event *ev)
{
    struct evs *c = ctx;
    if (c->n < 8)
        snprintf(c->kinds[c->n], sizeof c->kinds[0], "%s", ev->kind);
    if (ev->source_ref)
        snprintf(c->ref, sizeof c->ref, "%s", ev->source_ref);
    c->n++;
    return KB_OK;
}

static void test_events_and_list(void)
{
    struct db *db = open_db();
    if (!db)
        return;
    struct evs c = {0};
    T_EQ_INT(db_incident_events(db, 1, 0, NULL, 0, collect, &c), KB_OK);
    T_EQ_INT(c.n, 2);
    T_EQ_STR(c.kinds[0], "declared");
    T_EQ_STR(c.kinds[1], "pin");
    T_EQ_STR(c.ref, "1614130000.000100");
    memset(&c, 0, sizeof c);
    T_EQ_INT(db_incident_events(db, 1, 0, "pin", 0, collect, &c), KB_OK);
    T_EQ_INT(c.n, 1);
    memset(&c, 0, sizeof c);
    T_EQ_INT(db_incident_events(db, 1, 1, NULL, 0, collect, &c), KB_OK);
    T_EQ_INT(c.n, 1); /* only after event 1 */

    struct db_incident child = {.service = "auth", .title = "t", .level = 3,
                                .temperature = INCIDENT_WARM, .declared = 6000, .parent_id = 1,
                                .updated = 6000};
    int64_t id2 = 0;
    T_EQ_INT(db_incident_insert(db, &child, &id2), KB_OK);
    /* a second incident cannot take a used channel name */
    child.slack_channel_name = "payments-19700101i";
    int64_t id3 = 0;
    T_EQ_INT(db_incident_insert(db, &child, &id3), KB_EEXIST);

    db_close(db);
}

struct ids {
    int n;
    int64_t id[8];
};

static kb_err list_ids(void *ctx, const struct db_incident *r)
{
    struct ids *c = ctx;
    if (c->n < 8)
        c->id[c->n] = r->id;
    c->n++;
    return KB_OK;
}

static void test_filters(void)
{
    struct db *db = open_db();
    if (!db)
        return;
    struct ids c = {0};
    struct db_incident_filter f = {.status = -1};
    T_EQ_INT(db_incident_list(db, &f, list_ids, &c), KB_OK);
    T_EQ_INT(c.n, 2);
    T_EQ_INT(c.id[0], 2); /* newest declared first */
    T_EQ_INT(c.id[1], 1);
    memset(&c, 0, sizeof c);
    f.drill = DB_INCIDENT_REAL;
    T_EQ_INT(db_incident_list(db, &f, list_ids, &c), KB_OK);
    T_EQ_INT(c.n, 1);
    T_EQ_INT(c.id[0], 2);
    memset(&c, 0, sizeof c);
    f = (struct db_incident_filter){.status = INCIDENT_RECOVERED};
    T_EQ_INT(db_incident_list(db, &f, list_ids, &c), KB_OK);
    T_EQ_INT(c.n, 1);
    T_EQ_INT(c.id[0], 1);
    memset(&c, 0, sizeof c);
    f = (struct db_incident_filter){.status = -1, .service = "auth"};
    T_EQ_INT(db_incident_list(db, &f, list_ids, &c), KB_OK);
    T_EQ_INT(c.n, 1);
    memset(&c, 0, sizeof c);
    f = (struct db_incident_filter){.status = -1, .parent_id = 1};
    T_EQ_INT(db_incident_list(db, &f, list_ids, &c), KB_OK);
    T_EQ_INT(c.n, 1);
    T_EQ_INT(c.id[0], 2);
    db_close(db);
}

static void test_channel_taken(void)
{
    struct db *db = open_db();
    if (!db)
        return;
    bool taken;
    T_EQ_INT(db_incident_channel_taken(db, "payments-19700101i", &taken), KB_OK);
    T_CHECK(taken);
    T_EQ_INT(db_incident_channel_taken(db, "auth-19700101i", &taken), KB_OK);
    T_CHECK(!taken);
    T_EQ_INT(db_incident_channel_mark_taken(db, "auth-19700101i", 1), KB_OK);
    T_EQ_INT(db_incident_channel_mark_taken(db, "auth-19700101i", 2), KB_OK);
    T_EQ_INT(db_incident_channel_taken(db, "auth-19700101i", &taken), KB_OK);
    T_CHECK(taken);
    db_close(db);
}

static void test_tag_bound(void)
{
    struct db *db = open_db();
    if (!db)
        return;
    bool added;
    char tag[16];
    for (int i = 0; i < INCIDENT_TAGS_MAX; i++) {
        snprintf(tag, sizeof tag, "t%02d", i);
        T_EQ_INT(db_incident_tag_add(db, 2, tag, &added), KB_OK);
    }
    T_EQ_INT(db_incident_tag_add(db, 2, "one-too-many", &added), KB_ETOOBIG);
    T_EQ_INT(db_incident_tag_add(db, 2, "t00", &added), KB_OK); /* a repeat is fine */
    T_CHECK(!added);
    struct db_incident r;
    T_EQ_INT(db_incident_get(db, 2, &r), KB_OK);
    T_EQ_INT(r.ntags, INCIDENT_TAGS_MAX);
    db_incident_release(&r);
    db_close(db);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/koban-dbinc-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/koban.db", dir);
    T_RUN(test_names);
    T_RUN(test_round_trip);
    T_RUN(test_events_and_list);
    T_RUN(test_filters);
    T_RUN(test_channel_taken);
    T_RUN(test_tag_bound);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return t_done();
}
