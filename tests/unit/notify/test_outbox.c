/* test_outbox.c — the outbox in SQLite: transactions, order per (receiver,
 * issue), crash recovery, the state machine's transitions, counts. */
#include "store/db_outbox.h"
#include "test.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[256];
static char g_path[300];

static struct db *open_db(void)
{
    struct db *db = NULL;
    struct kb_why why = {{0}};
    kb_err e = db_open(g_path, DB_DAEMON, 4, &db, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    return db;
}

/* A fresh store for each test. */
static struct db *fresh_db(void)
{
    unlink(g_path);
    char side[320];
    snprintf(side, sizeof side, "%s-wal", g_path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", g_path);
    unlink(side);
    return open_db();
}

static int64_t add(struct db *db, const char *recv, int64_t issue, const char *event, int64_t now)
{
    char payload[128];
    snprintf(payload, sizeof payload, "{\"event\":\"%s\",\"n\":%lld}", event, (long long)issue);
    struct db_outbox_new j = {
        .receiver = recv, .issue_id = issue, .event = event, .payload = payload};
    int64_t id = 0;
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(db_outbox_enqueue(db, &j, now, &id), KB_OK);
    T_EQ_INT(db_commit(db), KB_OK);
    return id;
}

static int job_state(struct db *db, int64_t id)
{
    struct db_outbox_job j;
    if (db_outbox_get(db, id, &j))
        return -1;
    int s = j.state;
    db_outbox_job_release(&j);
    return s;
}

/* Claims at most max jobs of recv; writes their ids to ids. */
static size_t claim(struct db *db, const char *recv, int64_t now, int64_t *ids, size_t max)
{
    struct db_outbox_job jobs[16];
    size_t n = 0;
    T_EQ_INT(db_outbox_claim(db, recv, now, jobs, max, &n), KB_OK);
    for (size_t i = 0; i < n; i++) {
        ids[i] = jobs[i].id;
        T_EQ_INT(jobs[i].state, OUTBOX_INFLIGHT);
        db_outbox_job_release(&jobs[i]);
    }
    return n;
}

static void test_enqueue_needs_and_follows_the_transaction(void)
{
    struct db *db = fresh_db();
    const uint8_t fp[16] = {1, 2, 3};
    struct db_outbox_new j = {.receiver = "slack",
                              .issue_id = 7,
                              .fp = fp,
                              .event = "opened",
                              .payload = "{\"event\":\"opened\"}"};
    int64_t id;
    T_EQ_INT(db_outbox_enqueue(db, &j, 1000, &id), KB_EINVAL); /* no transaction */
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(db_outbox_enqueue(db, &j, 1000, &id), KB_OK);
    db_rollback(db);
    T_EQ_INT(job_state(db, id), -1); /* rolled back with the transaction */
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(db_outbox_enqueue(db, &j, 1000, &id), KB_OK);
    T_EQ_INT(db_commit(db), KB_OK);
    struct db_outbox_job got;
    T_EQ_INT(db_outbox_get(db, id, &got), KB_OK);
    T_EQ_STR(got.receiver, "slack");
    T_EQ_INT(got.issue_id, 7);
    T_CHECK(got.has_fp && got.fp[2] == 3);
    T_EQ_STR(got.event, "opened");
    T_EQ_STR(got.payload, "{\"event\":\"opened\"}");
    T_EQ_INT(got.state, OUTBOX_PENDING);
    T_EQ_INT(got.next_at, 1000);
    T_EQ_INT(got.attempts, 0);
    db_outbox_job_release(&got);
    db_close(db);
}

static void test_order_per_receiver_and_issue(void)
{
    struct db *db = fresh_db();
    int64_t a1 = add(db, "gh", 1, "opened", 100);
    int64_t b1 = add(db, "gh", 2, "opened", 100);
    int64_t a2 = add(db, "gh", 1, "repeated", 100);
    int64_t a3 = add(db, "gh", 1, "closed", 100);
    int64_t s1 = add(db, "slack", 1, "opened", 100);
    int64_t ids[16];
    /* Only the head of each issue's chain is claimable, for each receiver. */
    size_t n = claim(db, "gh", 200, ids, 16);
    T_EQ_INT(n, 2);
    T_EQ_INT(ids[0], a1);
    T_EQ_INT(ids[1], b1);
    T_EQ_INT(claim(db, "gh", 200, ids, 16), 0); /* a2 waits for inflight a1 */
    T_EQ_INT(claim(db, "slack", 200, ids, 16), 1);
    T_EQ_INT(ids[0], s1);
    /* a1 fails transiently: a2 must still wait (a1 is pending again). */
    T_EQ_INT(db_outbox_reschedule(db, a1, 1, 500, "HTTP 500", 200), KB_OK);
    T_EQ_INT(claim(db, "gh", 300, ids, 16), 0);
    struct db_outbox_job j;
    T_EQ_INT(db_outbox_get(db, a2, &j), KB_OK);
    T_EQ_INT(j.next_at, OUTBOX_BLOCKED); /* waits for a1, out of the due range */
    db_outbox_job_release(&j);
    T_EQ_INT(db_outbox_get(db, b1, &j), KB_OK);
    T_EQ_INT(j.next_at, 100); /* first of its issue */
    db_outbox_job_release(&j);
    T_EQ_INT(db_outbox_get(db, a1, &j), KB_OK);
    T_EQ_INT(j.step, 1);
    T_EQ_STR(j.last_error, "HTTP 500");
    db_outbox_job_release(&j);
    /* A job enqueued now for that issue waits too. */
    int64_t a4 = add(db, "gh", 1, "reopened", 300);
    T_EQ_INT(db_outbox_get(db, a4, &j), KB_OK);
    T_EQ_INT(j.next_at, OUTBOX_BLOCKED);
    db_outbox_job_release(&j);
    int64_t next = 0;
    T_EQ_INT(db_outbox_next_due(db, "gh", &next), KB_OK);
    T_EQ_INT(next, 500);
    /* Then one at a time, in write order. */
    int64_t want[] = {a1, a2, a3, a4};
    for (size_t i = 0; i < KB_ARRAY_LEN(want); i++) {
        n = claim(db, "gh", 600, ids, 16);
        T_EQ_INT(n, 1);
        T_EQ_INT(ids[0], want[i]);
        T_EQ_INT(db_outbox_done(db, ids[0], 600), KB_OK);
    }
    T_EQ_INT(claim(db, "gh", 600, ids, 16), 0);
    T_EQ_INT(db_outbox_next_due(db, "gh", &next), KB_OK);
    T_EQ_INT(next, -1);
    T_EQ_INT(db_outbox_done(db, a1, 600), KB_ENOTFOUND); /* done is final */
    db_close(db);
}

static void test_dead_does_not_block_later_jobs(void)
{
    struct db *db = fresh_db();
    int64_t a1 = add(db, "pd", 1, "opened", 100);
    int64_t a2 = add(db, "pd", 1, "closed", 100);
    int64_t ids[4];
    T_EQ_INT(claim(db, "pd", 100, ids, 4), 1);
    T_EQ_INT(db_outbox_dead(db, a1, "HTTP 400: bad routing key", 110), KB_OK);
    T_EQ_INT(claim(db, "pd", 120, ids, 4), 1);
    T_EQ_INT(ids[0], a2);
    db_close(db);
}

static void test_release_after_drop_and_at_recover(void)
{
    struct db *db = fresh_db();
    int64_t a1 = add(db, "gh", 1, "opened", 100);
    int64_t a2 = add(db, "gh", 1, "repeated", 100);
    int64_t a3 = add(db, "gh", 1, "closed", 100);
    /* Dropping the head (pending) releases the next one, due now. */
    T_EQ_INT(db_outbox_drop(db, a1, 150), KB_OK);
    struct db_outbox_job j;
    T_EQ_INT(db_outbox_get(db, a2, &j), KB_OK);
    T_EQ_INT(j.next_at, 150);
    db_outbox_job_release(&j);
    /* Dropping a waiting job releases nothing new: a2 still holds a3. */
    int64_t a4 = add(db, "gh", 1, "reopened", 160);
    T_EQ_INT(db_outbox_drop(db, a3, 170), KB_OK);
    T_EQ_INT(db_outbox_get(db, a4, &j), KB_OK);
    T_EQ_INT(j.next_at, OUTBOX_BLOCKED);
    db_outbox_job_release(&j);
    /* Inside the caller's transaction, the release is part of it. */
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(db_outbox_drop(db, a2, 180), KB_OK);
    db_commit(db);
    T_EQ_INT(db_outbox_get(db, a4, &j), KB_OK);
    T_EQ_INT(j.next_at, 180); /* released inside the caller's transaction */
    db_outbox_job_release(&j);
    int64_t ids[4];
    T_EQ_INT(claim(db, "gh", 200, ids, 4), 1);
    T_EQ_INT(ids[0], a4);
    int64_t a5 = add(db, "gh", 1, "closed", 210);
    T_EQ_INT(db_outbox_done(db, a4, 220), KB_OK);
    T_EQ_INT(db_outbox_get(db, a5, &j), KB_OK);
    T_EQ_INT(j.next_at, 220);
    db_outbox_job_release(&j);
    /* A release lost (the head finished behind the store's back) is
     * repaired by recovery. */
    int64_t a6 = add(db, "gh", 1, "reopened", 225);
    sqlite3 *raw;
    T_EQ_INT(sqlite3_open(g_path, &raw), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE outbox SET state = 'done' WHERE id = %lld", (long long)a5);
    T_EQ_INT(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    T_EQ_INT(claim(db, "gh", 230, ids, 4), 0);
    int64_t n = 0;
    T_EQ_INT(db_outbox_recover(db, 240, &n), KB_OK);
    T_EQ_INT(n, 0);
    T_EQ_INT(claim(db, "gh", 240, ids, 4), 1);
    T_EQ_INT(ids[0], a6);
    db_close(db);
}

static void test_inflight_recovered_at_reopen(void)
{
    struct db *db = fresh_db();
    int64_t a = add(db, "gh", 1, "opened", 100);
    int64_t b = add(db, "gh", 2, "opened", 100);
    int64_t ids[4];
    T_EQ_INT(claim(db, "gh", 100, ids, 4), 2);
    db_close(db); /* as if the process had died mid-send */
    db = open_db();
    T_EQ_INT(job_state(db, a), OUTBOX_INFLIGHT);
    T_EQ_INT(claim(db, "gh", 200, ids, 4), 0);
    int64_t n = 0;
    T_EQ_INT(db_outbox_recover(db, 300, &n), KB_OK);
    T_EQ_INT(n, 2);
    T_EQ_INT(job_state(db, a), OUTBOX_PENDING);
    T_EQ_INT(job_state(db, b), OUTBOX_PENDING);
    struct db_outbox_job jobs[4];
    size_t got = 0;
    T_EQ_INT(db_outbox_claim(db, "gh", 300, jobs, 4, &got), KB_OK);
    T_EQ_INT(got, 2);
    for (size_t i = 0; i < got; i++) {
        T_EQ_INT(jobs[i].attempts, 2); /* the interrupted attempt counts */
        db_outbox_job_release(&jobs[i]);
    }
    /* A claimed job handed back unstarted does not count an attempt. */
    T_EQ_INT(db_outbox_unclaim(db, a, 310), KB_OK);
    struct db_outbox_job j;
    T_EQ_INT(db_outbox_get(db, a, &j), KB_OK);
    T_EQ_INT(j.state, OUTBOX_PENDING);
    T_EQ_INT(j.attempts, 1);
    db_outbox_job_release(&j);
    db_close(db);
}

static void test_retry_dead_drop(void)
{
    struct db *db = fresh_db();
    int64_t a = add(db, "gh", 1, "opened", 100);
    int64_t b = add(db, "gh", 2, "opened", 100);
    int64_t c = add(db, "slack", 3, "opened", 100);
    int64_t ids[4];
    T_EQ_INT(db_outbox_retry(db, a, 150), KB_EINVAL); /* pending, not dead */
    T_EQ_INT(db_outbox_retry(db, 999, 150), KB_ENOTFOUND);
    T_EQ_INT(db_outbox_dead(db, a, "x", 150), KB_ENOTFOUND); /* not inflight */
    T_EQ_INT(claim(db, "gh", 200, ids, 4), 2);
    T_EQ_INT(claim(db, "slack", 200, ids, 4), 1);
    T_EQ_INT(db_outbox_dead(db, a, "HTTP 404", 210), KB_OK);
    T_EQ_INT(db_outbox_dead(db, b, "HTTP 401", 210), KB_OK);
    T_EQ_INT(db_outbox_dead(db, c, "HTTP 400", 210), KB_OK);
    T_EQ_INT(db_outbox_retry(db, a, 220), KB_OK);
    struct db_outbox_job j;
    T_EQ_INT(db_outbox_get(db, a, &j), KB_OK);
    T_EQ_INT(j.state, OUTBOX_PENDING);
    T_EQ_INT(j.attempts, 0);
    T_EQ_INT(j.next_at, 220);
    db_outbox_job_release(&j);
    int64_t n = 0;
    T_EQ_INT(db_outbox_retry_dead(db, "gh", 230, &n), KB_OK);
    T_EQ_INT(n, 1);
    T_EQ_INT(job_state(db, b), OUTBOX_PENDING);
    T_EQ_INT(job_state(db, c), OUTBOX_DEAD);
    T_EQ_INT(db_outbox_retry_dead(db, NULL, 230, &n), KB_OK);
    T_EQ_INT(n, 1);
    T_EQ_INT(job_state(db, c), OUTBOX_PENDING);
    /* Drop from pending and from inflight; a dropped inflight job's worker
     * cannot complete it. */
    T_EQ_INT(db_outbox_drop(db, b, 240), KB_OK);
    T_EQ_INT(db_outbox_drop(db, b, 240), KB_EINVAL);
    T_EQ_INT(db_outbox_drop(db, 999, 240), KB_ENOTFOUND);
    T_EQ_INT(claim(db, "gh", 250, ids, 4), 1);
    T_EQ_INT(ids[0], a);
    T_EQ_INT(db_outbox_drop(db, a, 260), KB_OK);
    T_EQ_INT(db_outbox_done(db, a, 270), KB_ENOTFOUND);
    T_EQ_INT(job_state(db, a), OUTBOX_DROPPED);
    T_EQ_INT(claim(db, "gh", 280, ids, 4), 0);
    /* Pruning removes old dropped and done jobs only. */
    T_EQ_INT(db_outbox_prune(db, 250, 0, &n), KB_OK);
    T_EQ_INT(n, 1); /* b, dropped at 240 */
    T_EQ_INT(job_state(db, b), -1);
    T_EQ_INT(job_state(db, a), OUTBOX_DROPPED);
    T_EQ_INT(job_state(db, c), OUTBOX_PENDING);
    db_close(db);
}

struct count_ctx {
    int64_t n[2][OUTBOX_STATE_COUNT];
};

static kb_err count_fn(void *ctx, const char *recv, int state, int64_t n)
{
    struct count_ctx *c = ctx;
    int r = strcmp(recv, "gh") == 0 ? 0 : 1;
    c->n[r][state] += n;
    return KB_OK;
}

static kb_err list_fn(void *ctx, const struct db_outbox_job *j)
{
    int *n = ctx;
    (*n)++;
    T_CHECK(j->payload && j->receiver);
    return KB_OK;
}

static void test_counts_and_list(void)
{
    struct db *db = fresh_db();
    for (int i = 0; i < 5; i++)
        add(db, "gh", i, "opened", 100);
    add(db, "slack", 1, "opened", 100);
    int64_t ids[16];
    T_EQ_INT(claim(db, "gh", 100, ids, 3), 3);
    T_EQ_INT(db_outbox_done(db, ids[0], 110), KB_OK);
    T_EQ_INT(db_outbox_dead(db, ids[1], "no", 110), KB_OK);
    struct count_ctx c = {{{0}}};
    T_EQ_INT(db_outbox_counts(db, count_fn, &c), KB_OK);
    T_EQ_INT(c.n[0][OUTBOX_PENDING], 2);
    T_EQ_INT(c.n[0][OUTBOX_INFLIGHT], 1);
    T_EQ_INT(c.n[0][OUTBOX_DONE], 1);
    T_EQ_INT(c.n[0][OUTBOX_DEAD], 1);
    T_EQ_INT(c.n[1][OUTBOX_PENDING], 1);
    int n = 0;
    struct db_outbox_filter f = {.state = OUTBOX_PENDING, .receiver = NULL};
    T_EQ_INT(db_outbox_list(db, &f, list_fn, &n), KB_OK);
    T_EQ_INT(n, 3);
    n = 0;
    f = (struct db_outbox_filter){.state = -1, .receiver = "gh", .limit = 4};
    T_EQ_INT(db_outbox_list(db, &f, list_fn, &n), KB_OK);
    T_EQ_INT(n, 4);
    int st;
    T_EQ_INT(db_outbox_state_parse("dead", &st), KB_OK);
    T_EQ_INT(st, OUTBOX_DEAD);
    T_EQ_INT(db_outbox_state_parse("sleeping", &st), KB_EINVAL);
    db_close(db);
}

static void test_notify_state(void)
{
    struct db *db = fresh_db();
    char *s = NULL;
    T_EQ_INT(db_outbox_state_get(db, "slack", 5, &s), KB_OK);
    T_CHECK(s == NULL);
    T_EQ_INT(db_outbox_state_set(db, "slack", 5, "{\"ts\":\"1.1\"}", 100), KB_OK);
    T_EQ_INT(db_outbox_state_set(db, "gh", 5, "{\"number\":3}", 100), KB_OK);
    T_EQ_INT(db_outbox_state_set(db, "slack", 5, "{\"ts\":\"1.2\"}", 110), KB_OK);
    T_EQ_INT(db_outbox_state_get(db, "slack", 5, &s), KB_OK);
    T_EQ_STR(s, "{\"ts\":\"1.2\"}");
    free(s);
    /* Inside a transaction, rolled back with it. */
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(db_outbox_state_set(db, "gh", 5, "{\"number\":4}", 120), KB_OK);
    db_rollback(db);
    T_EQ_INT(db_outbox_state_get(db, "gh", 5, &s), KB_OK);
    T_EQ_STR(s, "{\"number\":3}");
    free(s);
    db_close(db);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/koban-outbox-XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_path, sizeof g_path, "%s/koban.db", g_dir);
    T_RUN(test_enqueue_needs_and_follows_the_transaction);
    T_RUN(test_order_per_receiver_and_issue);
    T_RUN(test_dead_does_not_block_later_jobs);
    T_RUN(test_release_after_drop_and_at_recover);
    T_RUN(test_inflight_recovered_at_reopen);
    T_RUN(test_retry_dead_drop);
    T_RUN(test_counts_and_list);
    T_RUN(test_notify_state);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
    return t_done();
}
