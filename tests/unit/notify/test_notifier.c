/* test_notifier.c — issue changes become outbox jobs: routing by severity,
 * the repeat limit, mutes, flood control with its notices, closes,
 * reminders with escalation; on a real SQLite file, with a fake clock. */
#include "notify/notifier.h"
#include "store/db_outbox.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char dbpath[256];
static int64_t clock_ms = 1000000;

static int64_t fake_now(void)
{
    return clock_ms;
}

static const char routes[] =
    "koban_url: http://koban.test:8478/\n"
    "receivers:\n"
    "  - {name: slack, type: slack, token: x, channel: C1}\n"
    "  - {name: gh, type: github, token: x, repo: acme/sec}\n"
    "  - {name: pd, type: pagerduty, token: x}\n"
    "  - {name: pd2, type: pagerduty, token: y}\n"
    "route:\n"
    "  routes:\n"
    "    - {match: {severity: low}, receiver: slack}\n"
    "    - {match: {severity: \">= medium\"}, receiver: gh, continue: true}\n"
    "    - {match: {severity: \">= high\"}, receiver: pd}\n"
    "flood: {rate: 1/h, burst: 3}\n"
    "reminders: {high: 1h}\n"
    "escalate: {after: 1, receiver: pd2}\n";

static const char *const ident[] = {"account", "kind", "resource", NULL};

struct env {
    struct db *db;
    struct route_set *rs;
    struct notifier *n;
    struct issue_folder *f;
    uint64_t seq;
};

static void env_open(struct env *e)
{
    struct kb_why why = {{0}};
    memset(e, 0, sizeof *e);
    T_EQ_INT(db_open(dbpath, DB_DAEMON, 4, &e->db, &why), KB_OK);
    T_EQ_INT(route_load_buffer(routes, strlen(routes), "routes.yml", &e->rs, &why), KB_OK);
    struct notifier_opts o = {.now_ms = fake_now};
    T_EQ_INT(notifier_new(e->rs, &o, &e->n, &why), KB_OK);
    e->f = issue_folder_new();
    struct issue_observer obs = notifier_observer(e->n);
    issue_folder_observe(e->f, &obs);
}

static void env_close(struct env *e)
{
    issue_folder_free(e->f);
    notifier_free(e->n);
    route_set_free(e->rs);
    db_close(e->db);
}

/* One batch of `copies` occurrences of resource r at severity sev. */
static void fold(struct env *e, const char *r, int sev, int copies, const char *mute)
{
    struct alert a;
    alert_init(&a, "guardduty", ident);
    a.account = kb_str_c("111");
    a.kind = kb_str_c("Recon:EC2/Portscan");
    a.resource = kb_str_c(r);
    a.title = kb_str_c("port scan");
    a.severity = sev;
    struct issue_triage t = {.mute_reason = mute, .mute_until_ms = 0};
    uint8_t fp[16];
    issue_identity(&a, fp, NULL);
    for (int i = 0; i < copies; i++)
        T_EQ_INT(issue_fold_add_fp(e->f, &a, fp, NULL, mute ? &t : NULL, ++e->seq, clock_ms),
                 KB_OK);
    struct issue_fold_stats st = {0};
    T_EQ_INT(db_begin(e->db), KB_OK);
    T_EQ_INT(issue_fold_apply(e->f, e->db, &st), KB_OK);
    T_EQ_INT(db_commit(e->db), KB_OK);
    issue_fold_committed(e->f);
}

struct jobs {
    char log[4096];
    size_t n;
    int64_t after; /* only jobs with id > after */
    char last_payload[8192];
};

static kb_err add_job(void *ctx, const struct db_outbox_job *j)
{
    struct jobs *js = ctx;
    if (j->id <= js->after)
        return KB_OK;
    size_t l = strlen(js->log);
    snprintf(js->log + l, sizeof js->log - l, "%s:%lld:%s ", j->receiver,
             (long long)j->issue_id, j->event);
    snprintf(js->last_payload, sizeof js->last_payload, "%s", j->payload);
    js->n++;
    js->after = j->id;
    return KB_OK;
}

/* The jobs written since the last call, as "receiver:issue:event ...". */
static void new_jobs(struct env *e, struct jobs *js)
{
    js->log[0] = '\0';
    js->n = 0;
    struct db_outbox_filter f = {.state = -1, .limit = 100000};
    T_EQ_INT(db_outbox_list(e->db, &f, add_job, js), KB_OK);
}

static void test_routes_and_repeats(void)
{
    struct env e;
    env_open(&e);
    struct jobs js = {0};
    fold(&e, "i-1", KB_SEV_HIGH, 5, NULL);
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "gh:1:opened pd:1:opened ");
    T_CHECKF(strstr(js.last_payload, "\"event\":\"opened\"") &&
                 strstr(js.last_payload, "\"url\":\"http://koban.test:8478/v1/issues/1\"") &&
                 strstr(js.last_payload, "\"count\":5"),
             "%s", js.last_payload);
    fold(&e, "i-2", KB_SEV_LOW, 1, NULL);
    fold(&e, "i-3", KB_SEV_NONE, 1, NULL);
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "slack:2:opened "); /* none is never routed */
    /* a repeat within the hour says nothing; after it, one notice */
    clock_ms += 60 * 1000;
    fold(&e, "i-1", KB_SEV_HIGH, 2, NULL);
    new_jobs(&e, &js);
    T_EQ_INT(js.n, 0);
    clock_ms += 3600 * 1000;
    fold(&e, "i-1", KB_SEV_HIGH, 2, NULL);
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "gh:1:repeated pd:1:repeated ");
    /* a muted issue notifies no one */
    fold(&e, "i-4", KB_SEV_CRITICAL, 1, "maintenance");
    new_jobs(&e, &js);
    T_EQ_INT(js.n, 0);
    /* closes and acknowledgements are told */
    struct alert a;
    alert_init(&a, "guardduty", ident);
    a.account = kb_str_c("111");
    a.kind = kb_str_c("Recon:EC2/Portscan");
    a.resource = kb_str_c("i-1");
    uint8_t fp[16];
    issue_identity(&a, fp, NULL);
    bool closed = false;
    struct issue_fold_stats st = {0};
    T_EQ_INT(db_begin(e.db), KB_OK);
    T_EQ_INT(issue_fold_close(e.f, e.db, fp, "instance terminated", ++e.seq, &st, &closed),
             KB_OK);
    T_EQ_INT(db_commit(e.db), KB_OK);
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "gh:1:closed pd:1:closed ");
    T_CHECKF(strstr(js.last_payload, "\"reason\":\"instance terminated\"") != NULL, "%s",
             js.last_payload);
    fold(&e, "i-1", KB_SEV_HIGH, 1, NULL); /* recurs: reopened, even inside the hour */
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "gh:1:reopened pd:1:reopened ");
    struct kb_why why = {{0}};
    struct issue_observer obs = notifier_observer(e.n);
    T_EQ_INT(issue_transition(e.db, 1, ISSUE_ACKED, "ann", "on it", &obs, &why), KB_OK);
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "gh:1:acknowledged pd:1:acknowledged ");
    struct notifier_stats s;
    notifier_get_stats(e.n, &s);
    T_EQ_INT(s.muted, 1);
    T_EQ_INT(s.unrouted, 1);
    T_EQ_INT(s.repeats_held, 1);
    struct buf m = BUF_INIT(1 << 16);
    T_EQ_INT(notifier_metrics(e.n, &m), KB_OK);
    T_CHECKF(strstr(m.p, "koban_notify_jobs_total 11\n") != NULL, "%s", m.p);
    buf_release(&m);
    env_close(&e);
}

/* 10,000 identical alerts in 10,000 batches (a repeat interval of 1 ms):
 * three copies pass, one flooding notice, the rest held; once the bucket
 * refills, one summary with the count held back. */
static void test_flood(void)
{
    struct env e;
    env_open(&e);
    notifier_free(e.n);
    struct kb_why why = {{0}};
    struct notifier_opts o = {.now_ms = fake_now, .repeat_interval_ms = 1};
    T_EQ_INT(notifier_new(e.rs, &o, &e.n, &why), KB_OK);
    struct issue_observer obs = notifier_observer(e.n);
    issue_folder_observe(e.f, &obs);
    struct jobs js = {0};
    new_jobs(&e, &js); /* skip what the first test wrote */
    for (int i = 0; i < 10000; i++) {
        clock_ms += 2;
        fold(&e, "i-flood", KB_SEV_MEDIUM, 1, NULL);
    }
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "gh:5:opened gh:5:repeated gh:5:repeated gh:5:flood_started ");
    size_t n = 0;
    T_EQ_INT(notifier_tick(e.n, e.db, clock_ms + 1000, &n), KB_OK);
    T_EQ_INT(n, 0); /* still flooding */
    clock_ms += 2 * 3600 * 1000; /* refilled and quiet for an interval */
    T_EQ_INT(notifier_tick(e.n, e.db, clock_ms, &n), KB_OK);
    T_EQ_INT(n, 1);
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "gh:5:flood_ended ");
    T_CHECKF(strstr(js.last_payload, "\"held_back\":9997") != NULL, "%s", js.last_payload);
    struct notifier_stats s;
    notifier_get_stats(e.n, &s);
    T_EQ_INT(s.floods, 1);
    T_EQ_INT(s.flood_held, 9997);
    env_close(&e);
}

/* An unacknowledged high issue is reminded every hour; from the second
 * reminder on the escalation receiver gets it too; acknowledging stops it. */
static void test_reminders(void)
{
    struct env e;
    env_open(&e);
    struct jobs js = {0};
    new_jobs(&e, &js);
    fold(&e, "i-remind", KB_SEV_HIGH, 1, NULL);
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "gh:6:opened pd:6:opened ");
    size_t n = 0;
    T_EQ_INT(notifier_tick(e.n, e.db, clock_ms + 30 * 60 * 1000, &n), KB_OK);
    T_EQ_INT(n, 0);
    clock_ms += 3600 * 1000 + 1;
    T_EQ_INT(notifier_tick(e.n, e.db, clock_ms, &n), KB_OK);
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "gh:6:reminder pd:6:reminder ");
    T_CHECKF(strstr(js.last_payload, "reminder 1") != NULL, "%s", js.last_payload);
    clock_ms += 3600 * 1000 + 1;
    T_EQ_INT(notifier_tick(e.n, e.db, clock_ms, &n), KB_OK);
    new_jobs(&e, &js);
    T_EQ_STR(js.log, "gh:6:reminder pd:6:reminder pd2:6:reminder ");
    struct kb_why why = {{0}};
    struct issue_observer obs = notifier_observer(e.n);
    T_EQ_INT(issue_transition(e.db, 6, ISSUE_ACKED, "ann", NULL, &obs, &why), KB_OK);
    new_jobs(&e, &js);
    clock_ms += 5 * 3600 * 1000;
    T_EQ_INT(notifier_tick(e.n, e.db, clock_ms, &n), KB_OK);
    T_EQ_INT(n, 0);
    /* the issue i-1 of the first test was acknowledged; i-2 is low (no
     * reminders configured for low) */
    new_jobs(&e, &js);
    T_EQ_INT(js.n, 0);
    env_close(&e);
}

int main(void)
{
    snprintf(dbpath, sizeof dbpath, "/tmp/koban-test-notifier-%d.db", (int)getpid());
    T_RUN(test_routes_and_repeats);
    T_RUN(test_flood);
    T_RUN(test_reminders);
    char p[300];
    unlink(dbpath);
    snprintf(p, sizeof p, "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", dbpath);
    unlink(p);
    return t_done();
}
