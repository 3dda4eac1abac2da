/* test_postmortem.c — the markdown postmortem draft: exact output for a
 * fixed incident with pins, notes and status changes; markdown escaping of
 * user text; drills marked; the draft built from a real store. */
#include "incident/incident.h"
#include "incident/postmortem.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#define T0 1614124800000LL /* 2021-02-24T00:00:00Z */
#define MIN 60000LL

static char *tags[] = {"db", "p|ay"};
static int64_t issues[] = {12};

static struct db_incident fixed(void)
{
    return (struct db_incident){
        .id = 7, .service = "payments", .title = "Card *declines* | 5xx",
        .summary = "Checkout failed for\nsome users.", .temperature = INCIDENT_HOT, .level = 2,
        .status = INCIDENT_COMPLETED, .handler = "alice_b", .detected = T0 + 2 * MIN,
        .declared = T0 + 5 * MIN, .first_response = T0 + 7 * MIN,
        .recovered = T0 + 92 * MIN, .completed = T0 + 24 * 60 * MIN,
        .slack_channel_name = "payments-20210224i", .slack_channel_id = "C024BE91L",
        .github_issue = 345, .tags = tags, .ntags = 2, .issues = issues, .nissues = 1};
}

static const struct db_incident_event fixed_events[] = {
    {.id = 1, .at = T0 + 5 * MIN, .kind = "declared", .actor = "alice_b",
     .text = "incident declared: level 2, hot"},
    {.id = 4, .at = T0 + 6 * MIN, .kind = "pin", .actor = "carol",
     .text = "5xx at 40%\non /pay", .source_ref = "https://x.slack.com/archives/C1/p16"},
    {.id = 2, .at = T0 + 7 * MIN, .kind = "status", .actor = "bob",
     .text = "status: declared -> investigating"},
    {.id = 3, .at = T0 + 8 * MIN, .kind = "role", .actor = "bob", .text = "handler: bob"},
    {.id = 5, .at = T0 + 30 * MIN, .kind = "note", .actor = "bob",
     .text = "rolled back <deploy> #42", .source_ref = "1614126600.000300"},
};

static const char *const want =
    "# Postmortem: Card \\*declines\\* \\| 5xx\n"
    "\n"
    "_Draft written by koban from the incident record; edit freely._\n"
    "\n"
    "| | |\n"
    "|---|---|\n"
    "| Incident | 7 |\n"
    "| Service | payments |\n"
    "| Status | completed |\n"
    "| Temperature | hot |\n"
    "| Level | 2 |\n"
    "| Handler | alice\\_b |\n"
    "| Scribe | _none_ |\n"
    "| Liaison | _none_ |\n"
    "| Occurred | _unknown_ |\n"
    "| Detected | 2021-02-24T00:02:00Z |\n"
    "| Declared | 2021-02-24T00:05:00Z |\n"
    "| First response | 2021-02-24T00:07:00Z |\n"
    "| Recovered | 2021-02-24T01:32:00Z |\n"
    "| Completed | 2021-02-25T00:00:00Z |\n"
    "| Time to recovery | 1h 30m |\n"
    "| Tags | db, p\\|ay |\n"
    "| Channel | \\#payments-20210224i |\n"
    "| GitHub issue | \\#345 |\n"
    "\n"
    "## Summary\n"
    "\n"
    "Checkout failed for\n"
    "some users.\n"
    "\n"
    "## Impact\n"
    "\n"
    "_To be written: who and what was affected (features, screens, users), for how long, "
    "and whether users were told._\n"
    "\n"
    "## Timeline (UTC)\n"
    "\n"
    "- 2021-02-24T00:05:00Z declared — **alice\\_b**: incident declared: level 2, hot\n"
    "- 2021-02-24T00:06:00Z pin — **carol**: 5xx at 40% on /pay "
    "([message](https://x.slack.com/archives/C1/p16))\n"
    "- 2021-02-24T00:07:00Z status — **bob**: status: declared -> investigating\n"
    "- 2021-02-24T00:30:00Z note — **bob**: rolled back \\<deploy> \\#42 "
    "(message 1614126600.000300)\n"
    "\n"
    "## Detection\n"
    "\n"
    "_To be written: how the incident was noticed, and how it could be noticed sooner._\n"
    "\n"
    "## Trigger\n"
    "\n"
    "_To be written: the change or event that set it off._\n"
    "\n"
    "## Root causes\n"
    "\n"
    "_To be written: why it could happen (ask why until the answer is a decision)._\n"
    "\n"
    "## Resolution\n"
    "\n"
    "_To be written: what was done to recover, and what completed it._\n"
    "\n"
    "## What went well\n"
    "\n"
    "_To be written: what helped (tools, people, practice)._\n"
    "\n"
    "## What went badly\n"
    "\n"
    "_To be written: what slowed the response or made it worse._\n"
    "\n"
    "## Where we got lucky\n"
    "\n"
    "_To be written: what could have gone worse, and why it did not._\n"
    "\n"
    "## Action items\n"
    "\n"
    "| Action | Owner | Issue | Due |\n"
    "|---|---|---|---|\n"
    "| _To be written_ | | | |\n"
    "\n"
    "## Supporting links\n"
    "\n"
    "- Slack channel: \\#payments-20210224i (C024BE91L)\n"
    "- GitHub issue: \\#345\n"
    "- Related incident 9 (investigating): child \\| one\n"
    "- koban issue 12 (`koban issues show 12`)\n"
    "- _Add dashboards, logs and documents here._\n";

static void test_exact_output(void)
{
    struct db_incident inc = fixed();
    struct postmortem_child ch[] = {{9, "child | one", INCIDENT_INVESTIGATING}};
    struct buf out = BUF_INIT(8 << 20);
    T_EQ_INT(postmortem_render(&inc, fixed_events, KB_ARRAY_LEN(fixed_events), ch, 1, &out),
             KB_OK);
    T_EQ_STR(out.p, want);
    if (out.p && strcmp(out.p, want))
        fprintf(stderr, "---- got ----\n%s---- end ----\n", out.p);
    buf_release(&out);
}

static void test_escape(void)
{
    struct buf b = BUF_INIT(1024);
    T_EQ_INT(postmortem_escape(&b, "a|b*c_d`e[f](g)<h>#i~j\\k", true), KB_OK);
    T_EQ_STR(b.p, "a\\|b\\*c\\_d\\`e\\[f\\](g)\\<h>\\#i\\~j\\\\k");
    buf_reset(&b);
    T_EQ_INT(postmortem_escape(&b, "one\r\ntwo\tthree", true), KB_OK);
    T_EQ_STR(b.p, "one  two three");
    buf_reset(&b);
    T_EQ_INT(postmortem_escape(&b, "one\ntwo", false), KB_OK);
    T_EQ_STR(b.p, "one\ntwo");
    buf_release(&b);
}

static void test_drill_and_placeholders(void)
{
    struct db_incident inc = {.id = 1, .service = "web", .title = "fire drill",
                              .temperature = INCIDENT_COLD, .level = 5,
                              .status = INCIDENT_DECLARED, .declared = T0, .drill = true};
    struct buf out = BUF_INIT(8 << 20);
    T_EQ_INT(postmortem_render(&inc, NULL, 0, NULL, 0, &out), KB_OK);
    T_CHECK(!strncmp(out.p, "# DRILL — Postmortem: fire drill\n\n> **DRILL**:", 47));
    T_CHECK(strstr(out.p, "| Handler | _to be filled_ |") != NULL);
    T_CHECK(strstr(out.p, "| Recovered | _unknown_ |") != NULL);
    T_CHECK(strstr(out.p, "| Time to recovery | _unknown_ |") != NULL);
    T_CHECK(strstr(out.p, "| GitHub issue | _none yet_ |") != NULL);
    T_CHECK(strstr(out.p, "| Channel | _none_ |") != NULL);
    T_CHECK(strstr(out.p, "_To be written: what happened, in two or three sentences._") != NULL);
    T_CHECK(strstr(out.p, "_To be written: what happened when") != NULL);
    buf_release(&out);
    /* a draft that does not fit its buffer is refused, not cut */
    struct buf small = BUF_INIT(65 * 1024);
    T_EQ_INT(postmortem_render(&inc, NULL, 0, NULL, 0, &small), KB_ETOOBIG);
    buf_release(&small);
}

static void test_build_from_store(void)
{
    char dir[64] = "/tmp/koban-pm-XXXXXX", path[128];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/koban.db", dir);
    struct db *db = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(path, DB_CLIENT, 2, &db, &why), KB_OK);
    struct incident_new n = {.service = "api", .title = "slow", .now = T0 + 10 * MIN,
                             .temperature = INCIDENT_WARM, .actor = "al"};
    int64_t id = 0, child = 0;
    T_EQ_INT(incident_open(db, &n, &id, &why), KB_OK);
    n.title = "child";
    T_EQ_INT(incident_open(db, &n, &child, &why), KB_OK);
    T_EQ_INT(incident_link(db, child, id, "al", T0 + 11 * MIN, &why), KB_OK);
    /* a pin arrives later but happened earlier: the timeline is by time */
    T_EQ_INT(incident_note(db, id, "note", "second", "bo", T0 + 20 * MIN, NULL, &why), KB_OK);
    T_EQ_INT(incident_note(db, id, "pin", "first", "cy", T0 + 1 * MIN, "1.2", &why), KB_OK);
    struct buf out = BUF_INIT(8 << 20);
    T_EQ_INT(postmortem_build(db, id, &out, &why), KB_OK);
    const char *first = strstr(out.p ? out.p : "", "- 2021-02-24T00:01:00Z pin — **cy**: first");
    const char *decl = strstr(out.p ? out.p : "", "declared — **al**");
    const char *second = strstr(out.p ? out.p : "", "note — **bo**: second");
    T_CHECK(first && decl && second && first < decl && decl < second);
    T_CHECK(strstr(out.p, "child: incident") == NULL); /* link events are not timeline */
    T_CHECK(strstr(out.p, "- Related incident 2 (declared): child") != NULL);
    buf_release(&out);
    T_EQ_INT(postmortem_build(db, 99, &out, &why), KB_ENOTFOUND);
    buf_release(&out);
    db_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
    T_RUN(test_exact_output);
    T_RUN(test_escape);
    T_RUN(test_drill_and_placeholders);
    T_RUN(test_build_from_store);
    return t_done();
}
