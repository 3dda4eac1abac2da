/* test_gate.c — the writer gate: connections sharing it take turns at
 * write transactions in arrival order, so a thread that commits and begins
 * again at once cannot keep a waiting one out (the pipeline and the
 * notification delivery threads). Real SQLite file, two connections. */
#include "store/db.h"
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char path[256];

struct waiter {
    struct db *db;
    atomic_int stage; /* 1: asking for its turn, 2: had it */
};

static void *take_turn(void *arg)
{
    struct waiter *w = arg;
    atomic_store(&w->stage, 1);
    if (db_begin(w->db) == KB_OK) {
        atomic_store(&w->stage, 2);
        db_commit(w->db);
    }
    return NULL;
}

static void test_turns(void)
{
    struct db *a, *b;
    struct db_gate *g;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(path, DB_DAEMON, 2, &a, &why), KB_OK);
    T_EQ_INT(db_open(path, DB_DAEMON, 2, &b, &why), KB_OK);
    T_EQ_INT(db_gate_new(&g), KB_OK);
    db_use_gate(a, g);
    db_use_gate(b, g);
    T_EQ_INT(db_begin(a), KB_OK);
    struct waiter w = {.db = b};
    atomic_init(&w.stage, 0);
    pthread_t th;
    T_CHECK(pthread_create(&th, NULL, take_turn, &w) == 0);
    for (int i = 0; i < 200 && atomic_load(&w.stage) < 1; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    nanosleep(&(struct timespec){0, 50 * 1000000}, NULL); /* b is queued now */
    T_EQ_INT(atomic_load(&w.stage), 1);
    T_EQ_INT(db_commit(a), KB_OK);
    /* a begins again at once: its turn comes after b's */
    T_EQ_INT(db_begin(a), KB_OK);
    T_EQ_INT(atomic_load(&w.stage), 2);
    T_EQ_INT(db_commit(a), KB_OK);
    pthread_join(th, NULL);
    /* a failed begin and a rollback give the turn back */
    T_EQ_INT(db_begin(a), KB_OK);
    db_rollback(a);
    T_EQ_INT(db_begin(b), KB_OK);
    T_EQ_INT(db_commit(b), KB_OK);
    /* closing with a transaction open gives the turn back too */
    T_EQ_INT(db_begin(a), KB_OK);
    db_close(a);
    T_EQ_INT(db_begin(b), KB_OK);
    T_EQ_INT(db_commit(b), KB_OK);
    db_close(b);
    db_gate_free(g);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/koban-test-gate-%d.db", (int)getpid());
    T_RUN(test_turns);
    char p[300];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    return t_done();
}
