/* test_issues.c — identity, folding repeats, reopen on recurrence, and the
 * lifecycle, on a real SQLite file. */
#include "issues/issue.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char dbpath[256];

static const char *const ident_akr[] = {"account", "kind", "resource", NULL};

static void mk(struct alert *a, const char *account, const char *kind, const char *resource)
{
    alert_init(a, "guardduty", ident_akr);
    a->account = kb_str_c(account);
    a->kind = kb_str_c(kind);
    a->resource = kb_str_c(resource);
    a->title = kb_str_c("title");
    a->severity = KB_SEV_HIGH;
}

static void test_identity(void)
{
    struct alert a, b;
    uint8_t fa[16], fb[16];
    struct buf t = BUF_INIT(4096);
    mk(&a, "1", "T", "r");
    mk(&b, "1", "T", "r");
    b.title = kb_str_c("a different title"); /* not part of the identity */
    b.actor_ip = kb_str_c("192.0.2.1");
    issue_identity(&a, fa, &t);
    issue_identity(&b, fb, NULL);
    T_CHECK(memcmp(fa, fb, 16) == 0);
    T_EQ_STR(t.p, "account=1 kind=T resource=r");
    /* length-prefixed: moving a byte between fields changes the identity */
    mk(&b, "1T", "", "r");
    issue_identity(&b, fb, NULL);
    T_CHECK(memcmp(fa, fb, 16) != 0);
    /* the source is part of the identity */
    mk(&b, "1", "T", "r");
    b.source = "scc";
    issue_identity(&b, fb, NULL);
    T_CHECK(memcmp(fa, fb, 16) != 0);
    char hex[33];
    issue_fp_hex(fa, hex);
    T_EQ_INT(strlen(hex), 32);
    buf_release(&t);
}

struct counter {
    int n;
    int64_t total;
};

static kb_err count_rows(void *ctx, const struct db_issue *r)
{
    struct counter *c = ctx;
    c->n++;
    c->total += r->count;
    return KB_OK;
}

static void test_fold_and_reopen(void)
{
    struct db *db;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(dbpath, DB_DAEMON, 4, &db, &why), KB_OK);
    struct issue_folder *f = issue_folder_new();
    struct alert a;
    /* batch 1: 1000 alerts over 10 identities */
    for (int i = 0; i < 1000; i++) {
        char res[16];
        snprintf(res, sizeof res, "i-%d", i % 10);
        mk(&a, "111", "SSHBruteForce", res);
        a.time_ms = 1000 + i;
        T_EQ_INT(issue_fold_add(f, &a, (uint64_t)i + 1, 5000), KB_OK);
    }
    T_EQ_INT(issue_fold_pending(f), 10);
    struct issue_fold_stats st = {0};
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(issue_fold_apply(f, db, &st), KB_OK);
    T_EQ_INT(db_commit(db), KB_OK);
    T_EQ_INT(st.created, 10);
    T_EQ_INT(st.alerts, 1000);
    struct counter c = {0};
    struct db_issue_filter flt = {.state = -1};
    T_EQ_INT(db_issue_list(db, &flt, count_rows, &c), KB_OK);
    T_EQ_INT(c.n, 10);
    T_EQ_INT(c.total, 1000);

    /* close one, then a recurrence reopens it */
    int64_t id;
    int state;
    uint8_t fp[16];
    mk(&a, "111", "SSHBruteForce", "i-3");
    issue_identity(&a, fp, NULL);
    T_EQ_INT(db_issue_find(db, fp, &id, &state), KB_OK);
    T_EQ_INT(state, ISSUE_OPEN);
    T_EQ_INT(issue_transition(db, id, ISSUE_CLOSED, "tester", "fixed", NULL, &why), KB_OK);
    issue_fold_reset(f);
    a.time_ms = 99999;
    T_EQ_INT(issue_fold_add(f, &a, 2001, 6000), KB_OK);
    memset(&st, 0, sizeof st);
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(issue_fold_apply(f, db, &st), KB_OK);
    T_EQ_INT(db_commit(db), KB_OK);
    T_EQ_INT(st.reopened, 1);
    T_EQ_INT(st.created, 0);
    struct db_issue r;
    T_EQ_INT(db_issue_get(db, id, &r), KB_OK);
    T_EQ_INT(r.state, ISSUE_OPEN);
    T_EQ_INT(r.count, 101);
    T_EQ_INT(r.reopened, 1);
    T_EQ_INT(r.first_seen, 1003);
    T_EQ_INT(r.last_seen, 99999);
    T_EQ_INT(r.first_seq, 4);
    T_EQ_INT(r.last_seq, 2001);
    T_EQ_STR(r.identity, "account=111 kind=SSHBruteForce resource=i-3");
    db_issue_release(&r);
    issue_folder_free(f);
    db_close(db);
}

static kb_err collect_history(void *ctx, const struct db_history *h)
{
    struct buf *b = ctx;
    buf_printf(b, "%d>%d:%s:%s;", h->from, h->to, h->actor, h->reason ? h->reason : "");
    return KB_OK;
}

static void test_lifecycle(void)
{
    struct db *db;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(dbpath, DB_CLIENT, 4, &db, &why), KB_OK);
    struct alert a;
    uint8_t fp[16];
    int64_t id;
    int state;
    mk(&a, "111", "SSHBruteForce", "i-5");
    issue_identity(&a, fp, NULL);
    T_EQ_INT(db_issue_find(db, fp, &id, &state), KB_OK);
    T_EQ_INT(issue_transition(db, id, ISSUE_ACKED, "ann", "looking", NULL, &why), KB_OK);
    T_EQ_INT(issue_transition(db, id, ISSUE_ACKED, "ann", NULL, NULL, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "acknowledged") != NULL, "%s", why.msg);
    T_EQ_INT(issue_transition(db, id, ISSUE_OPEN, "ann", "unack", NULL, &why), KB_OK);
    T_EQ_INT(issue_transition(db, id, ISSUE_CLOSED, "bob", "done", NULL, &why), KB_OK);
    T_EQ_INT(issue_transition(db, id, ISSUE_ACKED, "bob", NULL, NULL, &why), KB_EINVAL);
    T_EQ_INT(issue_transition(db, id, ISSUE_OPEN, "bob", "again", NULL, &why), KB_OK);
    T_EQ_INT(issue_transition(db, 987654, ISSUE_OPEN, "bob", NULL, NULL, &why), KB_ENOTFOUND);
    struct buf h = BUF_INIT(4096);
    T_EQ_INT(db_issue_history(db, id, collect_history, &h), KB_OK);
    T_EQ_STR(h.p, "-1>0:koban:first occurrence;0>1:ann:looking;1>0:ann:unack;0>2:bob:done;"
                  "2>0:bob:again;");
    buf_release(&h);
    int64_t by_state[ISSUE_STATE_COUNT], occ;
    T_EQ_INT(db_issue_counts(db, by_state, &occ), KB_OK);
    T_EQ_INT(by_state[ISSUE_OPEN], 10);
    T_EQ_INT(occ, 1001);
    db_close(db);
}

static void test_migrations_idempotent(void)
{
    /* reopening runs no migration twice and keeps the data */
    struct db *db;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(dbpath, DB_CLIENT, 4, &db, &why), KB_OK);
    int64_t by_state[ISSUE_STATE_COUNT];
    T_EQ_INT(db_issue_counts(db, by_state, NULL), KB_OK);
    T_EQ_INT(by_state[ISSUE_OPEN], 10);
    T_EQ_INT(db_checkpoint_set(db, "x", 42), KB_OK);
    uint64_t seq;
    T_EQ_INT(db_checkpoint_get(db, "x", &seq), KB_OK);
    T_EQ_INT(seq, 42);
    T_EQ_INT(db_checkpoint_get(db, "never", &seq), KB_OK);
    T_EQ_INT(seq, 0);
    db_close(db);
    T_CHECK(db_open("/nonexistent-dir/x.db", DB_CLIENT, 4, &db, &why) != KB_OK);
    T_CHECK(strstr(why.msg, "/nonexistent-dir/x.db") != NULL);
}

/* The observer hears every change, inside the transaction that made it. */
struct heard {
    char log[1024];
    int fail_on; /* event that makes the observer fail; -1 none */
};

static kb_err hear(void *ctx, struct db *db, const struct issue_change *c)
{
    struct heard *h = ctx;
    struct db_issue r;
    T_EQ_INT(db_issue_get(db, c->id, &r), KB_OK); /* the store already has it */
    size_t n = strlen(h->log);
    snprintf(h->log + n, sizeof h->log - n, "%s:%lld:%s:%s:%s ", issue_event_name(c->event),
             (long long)c->added, c->actor, c->reason ? c->reason : "-",
             issue_state_name(r.state));
    db_issue_release(&r);
    return c->event == h->fail_on ? KB_EDB : KB_OK;
}

static void test_observer(void)
{
    struct db *db;
    struct kb_why why = {{0}};
    char path[300];
    snprintf(path, sizeof path, "%s-obs", dbpath);
    T_EQ_INT(db_open(path, DB_DAEMON, 4, &db, &why), KB_OK);
    struct heard h = {.fail_on = -1};
    struct issue_observer obs = {hear, &h};
    struct issue_folder *f = issue_folder_new();
    issue_folder_observe(f, &obs);
    struct alert a;
    struct issue_fold_stats st = {0};
    mk(&a, "1", "K", "r1");
    for (int round = 0; round < 2; round++) { /* opened (3 copies), then repeated (2) */
        for (int i = 0; i < 3 - round; i++)
            T_EQ_INT(issue_fold_add(f, &a, (uint64_t)(round * 10 + i + 1), 5000), KB_OK);
        T_EQ_INT(db_begin(db), KB_OK);
        T_EQ_INT(issue_fold_apply(f, db, &st), KB_OK);
        T_EQ_INT(db_commit(db), KB_OK);
        issue_fold_committed(f);
    }
    uint8_t fp[16];
    issue_identity(&a, fp, NULL);
    bool closed = false;
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(issue_fold_close(f, db, fp, "resource deleted", 30, &st, &closed), KB_OK);
    T_EQ_INT(db_commit(db), KB_OK);
    T_CHECK(closed);
    T_EQ_INT(issue_fold_add(f, &a, 31, 5000), KB_OK);
    T_EQ_INT(db_begin(db), KB_OK);
    T_EQ_INT(issue_fold_apply(f, db, &st), KB_OK);
    T_EQ_INT(db_commit(db), KB_OK);
    int64_t id;
    int state;
    T_EQ_INT(db_issue_find(db, fp, &id, &state), KB_OK);
    T_EQ_INT(issue_transition(db, id, ISSUE_ACKED, "ann", "mine", &obs, &why), KB_OK);
    T_EQ_INT(issue_transition(db, id, ISSUE_OPEN, "ann", NULL, &obs, &why), KB_OK);
    T_EQ_STR(h.log, "opened:3:koban:first occurrence:open repeated:2:koban:-:open "
                    "closed:0:koban:resource deleted:closed reopened:1:koban:recurred:open "
                    "acknowledged:0:ann:mine:acknowledged unacknowledged:0:ann:-:open ");
    /* an observer that fails rolls the change back */
    h.fail_on = ISSUE_EV_CLOSED;
    T_EQ_INT(issue_transition(db, id, ISSUE_CLOSED, "bob", "done", &obs, &why), KB_EDB);
    T_CHECKF(strstr(why.msg, "notification not recorded") != NULL, "%s", why.msg);
    T_EQ_INT(db_issue_find(db, fp, &id, &state), KB_OK);
    T_EQ_INT(state, ISSUE_OPEN);
    issue_folder_free(f);
    db_close(db);
    char p[320];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

int main(void)
{
    snprintf(dbpath, sizeof dbpath, "/tmp/koban-test-issues-%d.db", (int)getpid());
    T_RUN(test_identity);
    T_RUN(test_fold_and_reopen);
    T_RUN(test_lifecycle);
    T_RUN(test_migrations_idempotent);
    T_RUN(test_observer);
    char p[300];
    unlink(dbpath);
    snprintf(p, sizeof p, "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", dbpath);
    unlink(p);
    return t_done();
}
