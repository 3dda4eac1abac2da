/* test_pipeline.c — intake (split, check, reject with index and reason) and
 * the pipeline (journal → issues, quarantine, checkpoint, replay safety),
 * on a real journal directory and a real SQLite file. */
#include "ingest/intake.h"
#include "ingest/pipeline.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[256];
static char jdir[300];
static char dbpath[300];

#define CT(id, name, user)                                                                  \
    "{\"eventVersion\":\"1.08\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"" name \
    "\",\"eventTime\":\"2026-11-20T10:00:00Z\",\"awsRegion\":\"us-east-1\","                 \
    "\"sourceIPAddress\":\"203.0.113.5\",\"eventID\":\"" id "\","                            \
    "\"recipientAccountId\":\"123456789012\",\"userIdentity\":{\"type\":\"IAMUser\","        \
    "\"arn\":\"arn:aws:iam::123456789012:user/" user "\"}}"

static void test_intake_reports(void)
{
    struct journal *j;
    struct intake *in;
    struct kb_why why = {{0}};
    T_EQ_INT(journal_open(jdir, NULL, &j, &why), KB_OK);
    T_EQ_INT(intake_new(j, NULL, &in), KB_OK);
    struct intake_report *rep = calloc(1, sizeof *rep);
    uint64_t last = 0;
    /* NDJSON: good, truncated, good, not-an-object for generic, invalid UTF-8 */
    const char *body = CT("e1", "CreateUser", "alice") "\n"
                       "{\"eventVersion\": \n" CT("e2", "CreateUser", "alice") "\n"
                       "42\n"
                       "{\"title\":\"bad \xff byte\"}\n";
    T_EQ_INT(intake_body(in, body, strlen(body), JOURNAL_PATH_HTTP, NULL, rep, &last, &why),
             KB_OK);
    T_EQ_INT(rep->accepted, 2);
    T_EQ_INT(rep->rejected, 3);
    T_EQ_INT(rep->nreported, 3);
    T_EQ_INT(rep->rejects[0].index, 1);
    T_CHECKF(strstr(rep->rejects[0].reason, "line 2") != NULL, "%s", rep->rejects[0].reason);
    T_EQ_INT(rep->rejects[1].index, 3);
    T_EQ_INT(rep->rejects[2].index, 4);
    T_EQ_INT(last, 5); /* 2 events + 3 reject records */
    T_EQ_INT(journal_wait(j, last, 10000), KB_OK);
    /* CloudTrail Records file, forced format, text lines */
    const char *rec = "{\"Records\":[" CT("e3", "DeleteUser", "bob") "," CT(
        "e4", "DeleteUser", "bob") "]}";
    T_EQ_INT(intake_body(in, rec, strlen(rec), JOURNAL_PATH_SPOOL, NULL, rep, &last, &why),
             KB_OK);
    T_EQ_INT(rep->accepted, 2);
    T_EQ_INT(rep->rejected, 0);
    const char *lines = "Dec 10 06:55:46 h1 sshd[1]: Failed password for root from 192.0.2.1 "
                        "port 22 ssh2\r\n\n   \nDec 10 06:55:47 h1 sshd[1]: Failed password for "
                        "root from 192.0.2.1 port 23 ssh2\n";
    T_EQ_INT(intake_body(in, lines, strlen(lines), JOURNAL_PATH_CLI, NULL, rep, &last, &why),
             KB_OK);
    T_EQ_INT(rep->accepted, 2);
    /* a JSON format forced on text is refused as a whole */
    const struct format *gd = format_by_name("guardduty");
    T_CHECK(gd != NULL);
    T_EQ_INT(intake_body(in, lines, strlen(lines), JOURNAL_PATH_HTTP, gd, rep, &last, &why),
             KB_EINVAL);
    T_CHECKF(strstr(why.msg, "guardduty") != NULL, "%s", why.msg);
    T_EQ_INT(intake_body(in, "  \n", 3, JOURNAL_PATH_HTTP, NULL, rep, &last, &why), KB_EINVAL);
    T_EQ_INT(journal_wait(j, last, 10000), KB_OK);
    struct buf m = BUF_INIT(1 << 20);
    T_EQ_INT(intake_metrics(in, &m), KB_OK);
    T_CHECKF(strstr(m.p, "koban_events_accepted_total{source=\"cloudtrail\",path=\"http\"} 2") !=
                 NULL, "%s", m.p);
    /* rejects carry the format they were meant for: "unknown" when the
     * text was not JSON at all */
    long rej = 0;
    for (const char *q = m.p; (q = strstr(q, "koban_events_rejected_total{")); q++)
        if (strstr(q, "path=\"http\"} ") && strstr(q, "path=\"http\"} ") < strchr(q, '\n'))
            rej += strtol(strstr(q, "} ") + 2, NULL, 10);
    T_EQ_INT(rej, 3);
    T_CHECKF(strstr(m.p, "koban_events_rejected_total{source=\"unknown\",path=\"http\"} 2") &&
                 strstr(m.p, "koban_events_rejected_total{source=\"generic\",path=\"http\"} 1"),
             "%s", m.p);
    buf_release(&m);
    free(rep);
    intake_free(in);
    journal_close(j);
}

static kb_err sum_counts(void *ctx, const struct db_issue *r)
{
    int64_t *n = ctx;
    n[0]++;
    n[1] += r->count;
    return KB_OK;
}

static kb_err count_q(void *ctx, const struct db_quarantine *q)
{
    (*(int *)ctx)++;
    return KB_OK;
}

static void test_pipeline_applies_once(void)
{
    struct journal *j;
    struct pipeline *p;
    struct kb_why why = {{0}};
    T_EQ_INT(journal_open(jdir, NULL, &j, &why), KB_OK);
    T_EQ_INT(pipeline_new(j, dbpath, NULL, &p, &why), KB_OK);
    T_EQ_INT(pipeline_run_until_idle(p, &why), KB_OK);
    struct pipeline_stats st;
    pipeline_get_stats(p, &st);
    T_EQ_INT(st.applied_seq, journal_durable_seq(j));
    T_EQ_INT(st.records, 9); /* 4 events + 3 rejects + 2 lines */
    T_EQ_INT(st.quarantined, 3);
    T_EQ_INT(st.alerts, 6);
    pipeline_stop(p);
    /* a second pipeline on the same store starts at the checkpoint: nothing twice */
    T_EQ_INT(pipeline_new(j, dbpath, NULL, &p, &why), KB_OK);
    T_EQ_INT(pipeline_run_until_idle(p, &why), KB_OK);
    pipeline_get_stats(p, &st);
    T_EQ_INT(st.records, 0);
    struct buf m = BUF_INIT(1 << 20);
    T_EQ_INT(pipeline_metrics(p, &m), KB_OK);
    T_CHECKF(strstr(m.p, "koban_journal_lag_records 0") != NULL, "%s", m.p);
    buf_release(&m);
    pipeline_stop(p);
    journal_close(j);

    struct db *db;
    T_EQ_INT(db_open(dbpath, DB_CLIENT, 4, &db, &why), KB_OK);
    int64_t n[2] = {0, 0};
    struct db_issue_filter f = {.state = -1};
    T_EQ_INT(db_issue_list(db, &f, sum_counts, n), KB_OK);
    /* CreateUser/alice x2, DeleteUser/bob x2, sshd failed password x2 -> 3 issues */
    T_EQ_INT(n[0], 3);
    T_EQ_INT(n[1], 6);
    int q = 0;
    T_EQ_INT(db_quarantine_list(db, 100, count_q, &q), KB_OK);
    T_EQ_INT(q, 3);
    db_close(db);
}

/* A journal, intake and a started pipeline thread on the test store. */
struct rig {
    struct journal *j;
    struct intake *in;
    struct pipeline *p;
    struct intake_report *rep;
};

static void rig_start(struct rig *r)
{
    struct kb_why why = {{0}};
    T_EQ_INT(journal_open(jdir, NULL, &r->j, &why), KB_OK);
    T_EQ_INT(intake_new(r->j, NULL, &r->in), KB_OK);
    T_EQ_INT(pipeline_new(r->j, dbpath, NULL, &r->p, &why), KB_OK);
    T_EQ_INT(pipeline_start(r->p), KB_OK);
    r->rep = calloc(1, sizeof *r->rep);
}

static void rig_stop(struct rig *r)
{
    free(r->rep);
    pipeline_stop(r->p);
    intake_free(r->in);
    journal_close(r->j);
}

static void test_pipeline_thread_follows(void)
{
    struct rig r;
    rig_start(&r);
    struct kb_why why = {{0}};
    uint64_t last = 0;
    for (int i = 0; i < 50; i++) {
        const char *b = CT("x", "CreateUser", "alice");
        T_EQ_INT(intake_body(r.in, b, strlen(b), JOURNAL_PATH_HTTP, NULL, r.rep, &last, &why),
                 KB_OK);
    }
    T_EQ_INT(journal_wait(r.j, last, 10000), KB_OK);
    T_EQ_INT(pipeline_wait(r.p, last, 10000), KB_OK);
    struct pipeline_stats st;
    pipeline_get_stats(r.p, &st);
    /* the identity was stored by the previous pipeline: every one of these
     * repeats folds from its summary */
    T_EQ_INT(st.summarized, 50);
    rig_stop(&r);
    struct db *db;
    T_EQ_INT(db_open(dbpath, DB_CLIENT, 4, &db, &why), KB_OK);
    int64_t n[2] = {0, 0};
    struct db_issue_filter f = {.state = -1, .text = "CreateUser"};
    T_EQ_INT(db_issue_list(db, &f, sum_counts, n), KB_OK);
    T_EQ_INT(n[0], 1);
    T_EQ_INT(n[1], 52);
    db_close(db);
}

/* Under load the pipeline gathers records into large batches (each
 * repeating issue is written once per batch). A burst shorter than a second
 * counts as load as soon as a second's worth of records has arrived, not
 * only when the second is over. */
static void test_pipeline_gathers_a_burst(void)
{
    struct rig r;
    rig_start(&r);
    struct kb_why why = {{0}};
    struct buf body = BUF_INIT(1 << 22);
    uint64_t last = 0;
    /* 1,200 records in one append: past the rate at once */
    for (int i = 0; i < 1200; i++)
        buf_printf(&body, "%s\n", CT("x", "CreateUser", "alice"));
    T_EQ_INT(intake_body(r.in, body.p, body.len, JOURNAL_PATH_HTTP, NULL, r.rep, &last, &why),
             KB_OK);
    T_EQ_INT(journal_wait(r.j, last, 10000), KB_OK);
    T_EQ_INT(pipeline_wait(r.p, last, 10000), KB_OK);
    struct pipeline_stats st0, st1;
    pipeline_get_stats(r.p, &st0);
    /* then 60 group commits of 50 records, one after the other */
    body.len = 0;
    for (int i = 0; i < 50; i++)
        buf_printf(&body, "%s\n", CT("x", "CreateUser", "alice"));
    int64_t t0 = kb_mono_ns();
    for (int c = 0; c < 60; c++) {
        T_EQ_INT(intake_body(r.in, body.p, body.len, JOURNAL_PATH_HTTP, NULL, r.rep, &last, &why),
                 KB_OK);
        T_EQ_INT(journal_wait(r.j, last, 10000), KB_OK);
    }
    int64_t took_ms = (kb_mono_ns() - t0) / 1000000;
    T_EQ_INT(pipeline_wait(r.p, last, 10000), KB_OK);
    pipeline_get_stats(r.p, &st1);
    T_EQ_INT(st1.records - st0.records, 3000);
    uint64_t batches = st1.batches - st0.batches;
    /* one batch per 250 ms of gathering, and the one in hand at each end */
    uint64_t bound = (uint64_t)took_ms / 250 + 3;
    if (took_ms > 3000) /* under 1,000 records/s the pipeline does not gather */
        fprintf(stderr, "  (the commits took %lld ms: the batch bound is not checked)\n",
                (long long)took_ms);
    else
        T_CHECKF(batches <= bound, "%llu batches for 60 commits in %lld ms (at most %llu)",
                 (unsigned long long)batches, (long long)took_ms, (unsigned long long)bound);
    buf_release(&body);
    rig_stop(&r);
}

/* Issues as text, one line each, for comparing two stores. */
static kb_err dump_issue(void *ctx, const struct db_issue *r)
{
    buf_printf(ctx, "%s|%s|%s|%s|%s|%s|%s|%d|%d|%lld|%lld|%lld|%llu|%llu\n", r->identity,
               r->source, r->kind ? r->kind : "", r->title ? r->title : "",
               r->account ? r->account : "", r->resource ? r->resource : "",
               r->actor_user ? r->actor_user : "", r->severity, r->state, (long long)r->count,
               (long long)r->first_seen, (long long)r->last_seen,
               (unsigned long long)r->first_seq, (unsigned long long)r->last_seq);
    return KB_OK;
}

static void dump_store(const char *path, struct buf *out)
{
    struct db *db;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(path, DB_CLIENT, 4, &db, &why), KB_OK);
    struct db_issue_filter f = {.state = -1};
    T_EQ_INT(db_issue_list(db, &f, dump_issue, out), KB_OK);
    db_close(db);
}

/* The short path (intake's summaries) and the full path (normalize again)
 * must leave the same issues: the same events are journaled once with
 * summaries and once without, each journal applied to its own store. */
static void test_summary_same_as_full_path(void)
{
    char ja[320], jb[320], da[320], dbb[320];
    snprintf(ja, sizeof ja, "%s/sum-a", dir);
    snprintf(jb, sizeof jb, "%s/sum-b", dir);
    snprintf(da, sizeof da, "%s/sum-a.db", dir);
    snprintf(dbb, sizeof dbb, "%s/sum-b.db", dir);
    struct journal *a, *b;
    struct intake *in;
    struct kb_why why = {{0}};
    T_EQ_INT(journal_open(ja, NULL, &a, &why), KB_OK);
    T_EQ_INT(journal_open(jb, NULL, &b, &why), KB_OK);
    T_EQ_INT(intake_new(a, NULL, &in), KB_OK);
    struct intake_report *rep = calloc(1, sizeof *rep);
    uint64_t last = 0;
    /* three identities, repeated in two payloads, one with a new title
     * (a failure), one Alertmanager payload of two alerts, one text line */
    const char *p1 = CT("a1", "CreateUser", "alice") "\n" CT("a2", "CreateUser", "alice") "\n"
        CT("b1", "DeleteUser", "bob") "\n";
    const char *p2 =
        CT("a3", "CreateUser", "alice") "\n"
        "{\"eventVersion\":\"1.08\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":"
        "\"CreateUser\",\"eventTime\":\"2026-11-20T11:00:00Z\",\"errorCode\":\"AccessDenied\","
        "\"recipientAccountId\":\"123456789012\",\"userIdentity\":{\"type\":\"IAMUser\","
        "\"arn\":\"arn:aws:iam::123456789012:user/alice\"}}\n"
        "{\"receiver\":\"koban\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
        "\"labels\":{\"alertname\":\"DiskFull\",\"severity\":\"critical\"},\"startsAt\":"
        "\"2026-11-20T10:00:00Z\",\"fingerprint\":\"f1\"},{\"status\":\"firing\",\"labels\":"
        "{\"alertname\":\"CPU\",\"severity\":\"warning\"},\"startsAt\":\"2026-11-20T10:00:"
        "01Z\",\"fingerprint\":\"f2\"}]}\n" CT("b2", "DeleteUser", "bob") "\n";
    const char *bodies[] = {p1, p2, p1, p2};
    for (size_t i = 0; i < 4; i++)
        T_EQ_INT(intake_body(in, bodies[i], strlen(bodies[i]), JOURNAL_PATH_HTTP, NULL, rep,
                             &last, &why),
                 KB_OK);
    T_EQ_INT(journal_wait(a, last, 10000), KB_OK);
    /* copy a into b without the summaries */
    struct journal_reader *r;
    T_EQ_INT(journal_reader_open(a, 0, &r), KB_OK);
    struct journal_entry e;
    size_t with_aux = 0, copied = 0;
    while (journal_reader_next(r, &e) == KB_OK) {
        with_aux += e.aux.n > 0;
        e.aux = KB_STR_NULL;
        uint64_t lb;
        T_EQ_INT(journal_append(b, &e, 1, &lb), KB_OK);
        copied++;
    }
    journal_reader_close(r);
    T_EQ_INT(copied, 14);
    T_EQ_INT(with_aux, 14); /* every JSON event carries a summary */
    T_EQ_INT(journal_wait(b, copied, 10000), KB_OK);
    struct pipeline_opts small = {.batch = 3}; /* several batches: known set across them */
    struct pipeline *pa, *pb;
    T_EQ_INT(pipeline_new(a, da, &small, &pa, &why), KB_OK);
    T_EQ_INT(pipeline_new(b, dbb, &small, &pb, &why), KB_OK);
    T_EQ_INT(pipeline_run_until_idle(pa, &why), KB_OK);
    T_EQ_INT(pipeline_run_until_idle(pb, &why), KB_OK);
    struct pipeline_stats sa, sb;
    pipeline_get_stats(pa, &sa);
    pipeline_get_stats(pb, &sb);
    T_CHECKF(sa.summarized >= 8, "summarized %llu", (unsigned long long)sa.summarized);
    T_EQ_INT(sb.summarized, 0);
    T_EQ_INT(sa.alerts, sb.alerts);
    T_EQ_INT(sa.created, sb.created);
    pipeline_stop(pa);
    pipeline_stop(pb);
    struct buf xa = BUF_INIT(1 << 20), xb = BUF_INIT(1 << 20);
    dump_store(da, &xa);
    dump_store(dbb, &xb);
    T_CHECK(xa.len > 0);
    T_CHECKF(xa.len == xb.len && memcmp(xa.p, xb.p, xa.len) == 0, "short path:\n%s\nfull path:\n%s",
             xa.p, xb.p);
    T_CHECKF(strstr(xa.p, "failure: AccessDenied") != NULL, "%s", xa.p); /* newest title */
    buf_release(&xa);
    buf_release(&xb);
    free(rep);
    intake_free(in);
    journal_close(a);
    journal_close(b);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/koban-test-pipeline-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(jdir, sizeof jdir, "%s/journal", dir);
    snprintf(dbpath, sizeof dbpath, "%s/koban.db", dir);
    T_RUN(test_intake_reports);
    T_RUN(test_pipeline_applies_once);
    T_RUN(test_pipeline_thread_follows);
    T_RUN(test_pipeline_gathers_a_burst);
    T_RUN(test_summary_same_as_full_path);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return t_done();
}
