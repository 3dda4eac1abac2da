/* test_incident_bot.c — the incident bot on a real store with a clock the
 * test controls: a declaration becomes the open and broadcast jobs (with
 * the service's people and manual), the timekeeper is due exactly every
 * interval and once per tick, status changes are posted and broadcast,
 * completion archives, a parent's changes reach its children, the channel
 * Slack created is copied back, nothing is enqueued twice; and the settings
 * file's errors name the line and key. */
#include "test.h"

#include "incident/incident.h"
#include "incident/incident_bot.h"
#include "lib/arena.h"
#include "lib/json.h"
#include "store/db.h"
#include "store/db_incident.h"
#include "store/db_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char SETTINGS[] =
    "slack:\n"
    "  receiver: bot\n"
    "  invite: [U0SEC]\n"
    "  invite_groups: [S0SEC]\n"
    "  broadcast: [C0ENG, C0MGMT]\n"
    "  timekeeper: 15m\n"
    "services:\n"
    "  payments:\n"
    "    invite: [U0PAY]\n"
    "    invite_groups: [S0PAY]\n"
    "    manual: https://wiki.example/payments\n";

#define T0 1796418000000LL /* 2026-12-04T21:00:00Z */
#define MIN 60000LL

struct jobs {
    int n;
    char op[32][16];
    char text[32][600];
    int64_t incident[32];
    char users[32][64];
    char channels[32][64];
};

static void str_at(const struct json_value *root, const char *path, char *out, size_t n)
{
    struct kb_str s = json_str(json_path(root, path));
    snprintf(out, n, "%.*s", (int)s.n, s.p ? s.p : "");
}

static void join(const struct json_value *arr, char *out, size_t n)
{
    size_t k = 0;
    out[0] = 0;
    for (const struct json_value *v = arr ? arr->u.child : NULL; v; v = v->next) {
        struct kb_str s = json_str(v);
        k += (size_t)snprintf(out + k, n - k, "%s%.*s", k ? "," : "", (int)s.n, s.p);
    }
}

static kb_err collect(void *ctx, const struct db_outbox_job *j)
{
    struct jobs *js = ctx;
    if (js->n >= 32)
        return KB_OK;
    struct arena a = ARENA_INIT(1 << 20);
    struct json_value *v = NULL;
    T_CHECK(json_parse(j->payload, strlen(j->payload), NULL, &a, &v, NULL) == KB_OK);
    int i = js->n++;
    str_at(v, "op", js->op[i], sizeof js->op[i]);
    str_at(v, "text", js->text[i], sizeof js->text[i]);
    js->incident[i] = j->issue_id;
    join(json_get(v, "users"), js->users[i], sizeof js->users[i]);
    join(json_get(v, "channels"), js->channels[i], sizeof js->channels[i]);
    arena_release(&a);
    return KB_OK;
}

/* The jobs written since `after` (ids above it). */
static void jobs_after(struct db *db, int after, struct jobs *js)
{
    struct jobs all;
    memset(&all, 0, sizeof all);
    memset(js, 0, sizeof *js);
    struct db_outbox_filter f = {.state = -1, .receiver = "bot"};
    T_EQ_INT(db_outbox_list(db, &f, collect, &all), KB_OK);
    for (int i = after; i < all.n; i++) {
        int k = js->n++;
        memcpy(js->op[k], all.op[i], sizeof js->op[k]);
        memcpy(js->text[k], all.text[i], sizeof js->text[k]);
        memcpy(js->users[k], all.users[i], sizeof js->users[k]);
        memcpy(js->channels[k], all.channels[i], sizeof js->channels[k]);
        js->incident[k] = all.incident[i];
    }
}

static int total(struct db *db)
{
    struct jobs js;
    jobs_after(db, 0, &js);
    return js.n;
}

static void step(struct db *db, const struct incident_bot *b, int64_t now,
                 struct incident_bot_stats *st)
{
    struct kb_why why = {{0}};
    T_CHECKF(incident_bot_step(db, b, now, st, &why) == KB_OK, "%s", why.msg);
}

static void set_status(struct db *db, int64_t id, int status, int64_t now)
{
    struct incident_change c;
    incident_change_init(&c);
    c.status = status;
    c.actor = "U0KEN";
    c.now = now;
    struct kb_why why = {{0}};
    T_CHECKF(incident_update(db, id, &c, NULL, &why) == KB_OK, "%s", why.msg);
}

static void test_flow(void)
{
    char dir[] = "/tmp/koban-bot-XXXXXX", path[300];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/koban.db", dir);
    struct db *db = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(path, DB_CLIENT, 2, &db, &why), KB_OK);
    struct incident_bot *b = NULL;
    T_EQ_INT(incident_bot_load_buffer(SETTINGS, strlen(SETTINGS), "incidents.yml", &b, &why),
             KB_OK);
    if (!db || !b)
        return;

    struct incident_new n = {.service = "payments", .title = "cards <failing> & slow",
                             .temperature = INCIDENT_HOT, .level = 2, .now = T0,
                             .actor = "U0ANA"};
    int64_t id = 0;
    T_EQ_INT(incident_open(db, &n, &id, &why), KB_OK);
    struct incident_bot_stats st;
    step(db, b, T0 + 1000, &st);
    T_EQ_INT(st.jobs, 2);
    struct jobs js;
    jobs_after(db, 0, &js);
    T_EQ_INT(js.n, 2);
    T_EQ_STR(js.op[0], "open");
    T_EQ_STR(js.users[0], "U0SEC,U0PAY");
    T_CHECK(strstr(js.text[0], "Incident #1 (payments, level 2) declared: *cards &lt;failing&gt; "
                               "&amp; slow*") != NULL);
    T_CHECK(strstr(js.text[0], "<https://wiki.example/payments>") != NULL);
    T_CHECK(strstr(js.text[0], "Declared by <@U0ANA>") != NULL);
    T_EQ_STR(js.op[1], "broadcast");
    T_EQ_STR(js.channels[1], "C0ENG,C0MGMT");
    T_CHECK(strstr(js.text[1], "Follow it in #payments-20261204i") != NULL);

    /* nothing new: nothing written */
    step(db, b, T0 + 2000, &st);
    T_EQ_INT(st.jobs, 0);
    /* the timekeeper: not before 15 minutes, then once per tick */
    step(db, b, T0 + 15 * MIN - 1, &st);
    T_EQ_INT(st.timekeeper, 0);
    step(db, b, T0 + 15 * MIN, &st);
    T_EQ_INT(st.timekeeper, 1);
    jobs_after(db, 2, &js);
    T_EQ_STR(js.op[0], "timekeeper");
    T_CHECK(strstr(js.text[0], "*15 min* since declared · status *declared* · handler unassigned") !=
            NULL);
    T_CHECK(strstr(js.text[0], "Declared 21:00 UTC 2026-12-04") != NULL);
    step(db, b, T0 + 29 * MIN, &st);
    T_EQ_INT(st.timekeeper, 0);
    step(db, b, T0 + 47 * MIN, &st); /* a late tick: one message, not two */
    T_EQ_INT(st.timekeeper, 1);
    jobs_after(db, 3, &js);
    T_CHECK(strstr(js.text[0], "*47 min* since declared") != NULL);
    T_EQ_INT(total(db), 4);

    /* Slack made the channel: copied into the incident */
    T_EQ_INT(db_outbox_state_set(db, "bot", id, "{\"channel\":\"C42\",\"name\":\"payments-x\"}",
                                 T0),
             KB_OK);
    step(db, b, T0 + 48 * MIN, &st);
    T_EQ_INT(st.channels, 1);
    T_EQ_INT(st.jobs, 0); /* a link event says nothing in Slack */
    struct db_incident r;
    T_EQ_INT(db_incident_get(db, id, &r), KB_OK);
    T_EQ_STR(r.slack_channel_id, "C42");
    T_EQ_STR(r.slack_channel_name, "payments-x");
    db_incident_release(&r);

    /* a child incident hears its parent */
    struct incident_new cn = {.service = "checkout", .title = "checkout errors", .now = T0 + MIN,
                              .drill = false, .actor = "U0BOB"};
    int64_t child = 0;
    T_EQ_INT(incident_open(db, &cn, &child, &why), KB_OK);
    T_EQ_INT(incident_link(db, child, id, "U0BOB", T0 + 49 * MIN, &why), KB_OK);
    step(db, b, T0 + 49 * MIN, &st);
    int before = total(db);
    set_status(db, id, INCIDENT_RECOVERED, T0 + 70 * MIN);
    step(db, b, T0 + 70 * MIN, &st);
    jobs_after(db, before, &js);
    T_EQ_INT(js.n, 5); /* and both incidents' 60-minute timekeepers */
    T_EQ_STR(js.op[3], "timekeeper");
    T_EQ_STR(js.op[4], "timekeeper");
    /* the parent's timekeeper lists its children */
    int pk = js.incident[3] == id ? 3 : 4;
    T_CHECKF(strstr(js.text[pk], "Children:\n• #2 checkout — *declared*: checkout errors") !=
                 NULL,
             "%s", js.text[pk]);
    T_CHECK(strstr(js.text[pk == 3 ? 4 : 3], "Children:") == NULL);
    T_EQ_STR(js.op[0], "post");
    T_CHECK(strstr(js.text[0], "is now *recovered* after 1h 10m (by <@U0KEN>)") != NULL);
    T_EQ_STR(js.op[1], "broadcast");
    T_EQ_STR(js.op[2], "post");
    T_EQ_INT(js.incident[2], child);
    T_CHECK(strstr(js.text[2], "Parent Incident #1 (payments, level 2) is now *recovered*") !=
            NULL);
    before = total(db);
    set_status(db, id, INCIDENT_COMPLETED, T0 + 90 * MIN);
    step(db, b, T0 + 120 * MIN, &st); /* completed: no more timekeeper for it */
    jobs_after(db, before, &js);
    T_EQ_STR(js.op[0], "post");
    T_EQ_STR(js.op[1], "broadcast");
    T_EQ_STR(js.op[2], "archive");
    T_EQ_INT(js.incident[2], id);
    for (int i = 0; i < js.n; i++)
        T_CHECKF(strcmp(js.op[i], "timekeeper") != 0 || js.incident[i] == child,
                 "no timekeeper for a completed incident (job %d)", i);

    incident_bot_free(b);
    db_close(db);
    char p2[320];
    snprintf(p2, sizeof p2, "rm -rf %s", dir);
    T_EQ_INT(system(p2), 0);
}

static void test_settings_errors(void)
{
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"services: {}\n", "f.yml:1: the slack section is required"},
        {"slack:\n  invite: [U1]\n", "f.yml:2: slack: receiver is required (a slack_incident "
                                     "receiver)"},
        {"slack:\n  receiver: b\n  invite: U1\n", "f.yml:3: slack.invite: expected a list"},
        {"slack:\n  receiver: b\n  timekeeper_mode: sometimes\n",
         "f.yml:3: slack.timekeeper_mode: 'sometimes' is not update or post"},
        {"slack:\n  receiver: b\n  flowchart: wiki/flow\n",
         "f.yml:3: slack.flowchart: not an http(s) URL"},
        {"slack:\n  receiver: b\nservices:\n  pay:\n    manual: x\n    oncall: y\n", "f.yml:6"},
        {"slack: [\n", "f.yml:2"},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        struct incident_bot *b = NULL;
        struct kb_why why = {{0}};
        T_EQ_INT(incident_bot_load_buffer(cases[i].text, strlen(cases[i].text), "f.yml", &b, &why),
                 KB_EINVAL);
        T_CHECKF(strncmp(why.msg, cases[i].err, strlen(cases[i].err)) == 0, "case %zu: %s", i,
                 why.msg);
        T_CHECK(b == NULL);
    }
    struct incident_bot *b = NULL;
    struct kb_why why = {{0}};
    const char *off = "slack:\n  receiver: b\n  timekeeper: off\n  timekeeper_mode: post\n";
    T_EQ_INT(incident_bot_load_buffer(off, strlen(off), "f.yml", &b, &why), KB_OK);
    if (b) {
        T_EQ_INT(b->timekeeper_ms, 0);
        T_CHECK(!b->timekeeper_update);
    }
    incident_bot_free(b);
}

int main(void)
{
    T_RUN(test_flow);
    T_RUN(test_settings_errors);
    return t_done();
}
