/* test_incident_bot_github.c — the incident bot's GitHub jobs on a real
 * store: a declaration becomes an "issue" job, level, handler and status
 * changes "issue" jobs saying what changed, completion also a "postmortem"
 * job carrying the draft and its path; the issue and pull request numbers
 * the receiver saved are copied into the incident; Slack's jobs are
 * unchanged beside them; a GitHub-only settings file works; the github
 * section's errors name the line and key. */
#include "test.h"

#include "incident/incident.h"
#include "incident/incident_bot.h"
#include "incident/postmortem.h"
#include "lib/arena.h"
#include "lib/json.h"
#include "store/db.h"
#include "store/db_incident.h"
#include "store/db_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1796418000000LL /* 2026-12-04T21:00:00Z */
#define MIN 60000LL

struct jobs {
    int n;
    char op[32][16];
    char text[32][300];
    char path[32][100];
    char *markdown[32];
    int64_t incident[32];
};

static kb_err collect(void *ctx, const struct db_outbox_job *j)
{
    struct jobs *js = ctx;
    if (js->n >= 32)
        return KB_OK;
    struct arena a = ARENA_INIT(4 << 20);
    struct json_value *v = NULL;
    T_CHECK(json_parse(j->payload, strlen(j->payload), NULL, &a, &v, NULL) == KB_OK);
    int i = js->n++;
    struct kb_str s = json_str(json_get(v, "op"));
    snprintf(js->op[i], sizeof js->op[i], "%.*s", (int)s.n, s.p ? s.p : "");
    s = json_str(json_get(v, "text"));
    snprintf(js->text[i], sizeof js->text[i], "%.*s", (int)s.n, s.p ? s.p : "");
    s = json_str(json_get(v, "path"));
    snprintf(js->path[i], sizeof js->path[i], "%.*s", (int)s.n, s.p ? s.p : "");
    s = json_str(json_get(v, "markdown"));
    js->markdown[i] = s.p ? strndup(s.p, s.n) : NULL;
    js->incident[i] = j->issue_id;
    arena_release(&a);
    return KB_OK;
}

static void jobs_of(struct db *db, const char *receiver, struct jobs *js)
{
    memset(js, 0, sizeof *js);
    struct db_outbox_filter f = {.state = -1, .receiver = receiver};
    T_EQ_INT(db_outbox_list(db, &f, collect, js), KB_OK);
}

static void jobs_free(struct jobs *js)
{
    for (int i = 0; i < js->n; i++)
        free(js->markdown[i]);
}

static void step(struct db *db, const struct incident_bot *b, int64_t now,
                 struct incident_bot_stats *st)
{
    struct kb_why why = {{0}};
    T_CHECKF(incident_bot_step(db, b, now, st, &why) == KB_OK, "%s", why.msg);
}

static void change(struct db *db, int64_t id, int status, int level, const char *handler,
                   int64_t now)
{
    struct incident_change c;
    incident_change_init(&c);
    c.status = status;
    c.level = level;
    c.handler = handler;
    c.actor = "U0KEN";
    c.now = now;
    struct kb_why why = {{0}};
    T_CHECKF(incident_update(db, id, &c, NULL, &why) == KB_OK, "%s", why.msg);
}

static void run(const char *settings, bool slack)
{
    char dir[] = "/tmp/koban-botgh-XXXXXX", path[300];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/koban.db", dir);
    struct db *db = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(path, DB_CLIENT, 2, &db, &why), KB_OK);
    struct incident_bot *b = NULL;
    T_EQ_INT(incident_bot_load_buffer(settings, strlen(settings), "incidents.yml", &b, &why),
             KB_OK);
    if (!db || !b)
        return;
    struct incident_new n = {.service = "payments", .title = "cards failing", .level = 2,
                             .now = T0, .actor = "U0ANA"};
    int64_t id = 0;
    T_EQ_INT(incident_open(db, &n, &id, &why), KB_OK);
    struct incident_bot_stats st;
    step(db, b, T0 + 1000, &st);
    T_EQ_INT(st.jobs, slack ? 3 : 1);
    struct jobs js;
    jobs_of(db, "gh", &js);
    T_EQ_INT(js.n, 1);
    T_EQ_STR(js.op[0], "issue");
    T_EQ_STR(js.text[0], "");
    T_EQ_INT(js.incident[0], id);
    jobs_free(&js);
    if (slack) { /* Slack's jobs as before */
        jobs_of(db, "bot", &js);
        T_EQ_INT(js.n, 2);
        T_EQ_STR(js.op[0], "open");
        T_EQ_STR(js.op[1], "broadcast");
        jobs_free(&js);
    }

    change(db, id, -1, 1, NULL, T0 + MIN);
    change(db, id, INCIDENT_INVESTIGATING, 0, "alice", T0 + 2 * MIN);
    change(db, id, INCIDENT_RECOVERED, 0, NULL, T0 + 30 * MIN);
    step(db, b, T0 + 31 * MIN, &st);
    jobs_of(db, "gh", &js);
    T_EQ_INT(js.n, 5);
    T_EQ_STR(js.text[1], "Level is now **1** (by U0KEN).");
    /* one update, two events: status and handler, each its own job */
    bool inv = false, hand = false;
    for (int i = 2; i < 4; i++) {
        inv |= strcmp(js.text[i], "Status is now **investigating** (by U0KEN).") == 0;
        hand |= strcmp(js.text[i], "Handler: **alice** (by U0KEN).") == 0;
    }
    T_CHECK(inv && hand);
    T_EQ_STR(js.text[4], "Status is now **recovered** (by U0KEN).");
    for (int i = 1; i < 5; i++)
        T_EQ_STR(js.op[i], "issue");
    jobs_free(&js);

    /* the receiver made the issue: copied into the incident */
    T_EQ_INT(db_outbox_state_set(db, "gh", id, "{\"number\":5,\"job\":1,\"done\":2}", T0),
             KB_OK);
    step(db, b, T0 + 32 * MIN, &st);
    T_EQ_INT(st.github, 1);
    T_EQ_INT(st.jobs, 0); /* a link says nothing */
    step(db, b, T0 + 33 * MIN, &st);
    T_EQ_INT(st.github, 0); /* once */

    change(db, id, INCIDENT_COMPLETED, 0, NULL, T0 + 60 * MIN);
    step(db, b, T0 + 61 * MIN, &st);
    jobs_of(db, "gh", &js);
    T_EQ_INT(js.n, 7);
    T_EQ_STR(js.op[5], "issue");
    T_EQ_STR(js.text[5], "Status is now **completed** (by U0KEN).");
    T_EQ_STR(js.op[6], "postmortem");
    T_EQ_STR(js.path[6], "postmortems/2026-12-04-incident-1.md");
    struct buf md = BUF_INIT(4u << 20);
    T_EQ_INT(postmortem_build(db, id, &md, &why), KB_OK);
    T_EQ_STR(js.markdown[6], md.p);
    T_CHECK(strstr(md.p, "\\#5") != NULL); /* the issue it closes */
    buf_release(&md);
    jobs_free(&js);

    /* the pull request */
    T_EQ_INT(db_outbox_state_set(db, "gh", id, "{\"number\":5,\"pr\":6,\"branch\":\"b\"}", T0),
             KB_OK);
    step(db, b, T0 + 62 * MIN, &st);
    T_EQ_INT(st.github, 1);
    struct db_incident r;
    T_EQ_INT(db_incident_get(db, id, &r), KB_OK);
    T_EQ_INT(r.github_issue, 5);
    T_EQ_INT(r.github_pr, 6);
    db_incident_release(&r);
    step(db, b, T0 + 63 * MIN, &st);
    T_EQ_INT(st.github + st.jobs, 0);

    incident_bot_free(b);
    db_close(db);
    char p2[320];
    snprintf(p2, sizeof p2, "rm -rf %s", dir);
    T_EQ_INT(system(p2), 0);
}

static void test_with_slack(void)
{
    run("slack:\n"
        "  receiver: bot\n"
        "  broadcast: [C0ENG]\n"
        "  timekeeper: off\n"
        "github:\n"
        "  receiver: gh\n",
        true);
}

static void test_github_only(void)
{
    run("github:\n  receiver: gh\n  postmortem_dir: postmortems\n", false);
}

static void test_settings(void)
{
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"github:\n  postmortem_dir: pm\n",
         "f.yml:2: github: receiver is required (a github_incident receiver)"},
        {"github:\n  receiver: gh\n  postmortem_dir: ../pm\n",
         "f.yml:3: github.postmortem_dir: '../pm' is not a relative folder"},
        {"github:\n  receiver: gh\n  labels: [x]\n", "f.yml:3: github.labels: unknown key"},
        {"services: {}\n", "f.yml:1: the slack section is required (or github)"},
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
    const char *ok = "github:\n  receiver: gh\n  postmortem_dir: docs/pm\n";
    T_EQ_INT(incident_bot_load_buffer(ok, strlen(ok), "f.yml", &b, &why), KB_OK);
    if (b) {
        T_CHECK(b->receiver == NULL);
        T_EQ_STR(b->github_receiver, "gh");
        T_EQ_STR(b->postmortem_dir, "docs/pm");
    }
    incident_bot_free(b);
}

int main(void)
{
    T_RUN(test_with_slack);
    T_RUN(test_github_only);
    T_RUN(test_settings);
    return t_done();
}
