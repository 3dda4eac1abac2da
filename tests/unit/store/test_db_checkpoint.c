/* test_db_checkpoint.c — a connection that does not checkpoint inside its
 * commits lets the WAL grow past SQLite's 1,000-page threshold; a passive
 * checkpoint then copies it into the database (the data stays). */
#include "test.h"

#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static long size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_checkpoint(void)
{
    char dir[] = "/tmp/koban-ckpt-XXXXXX", path[300], wal[320];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/koban.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct db *db = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(path, DB_DAEMON, 2, &db, &why), KB_OK);
    if (!db)
        return;
    T_EQ_INT(db_autocheckpoint(db, 0), KB_OK);
    /* 3,000 commits of one row: each commit adds at least a page to the
     * WAL, so it passes 1,000 pages */
    char name[64];
    for (int i = 0; i < 3000; i++) {
        T_EQ_INT(db_begin(db), KB_OK);
        snprintf(name, sizeof name, "consumer-%04d-%0*d", i, 40, i);
        T_EQ_INT(db_checkpoint_set(db, name, (uint64_t)i), KB_OK);
        T_EQ_INT(db_commit(db), KB_OK);
    }
    long grown = size_of(wal);
    T_CHECKF(grown > 1000L * 4096, "WAL %ld bytes", grown);
    T_EQ_INT(db_checkpoint(db), KB_OK);
    uint64_t seq = 0;
    snprintf(name, sizeof name, "consumer-%04d-%0*d", 2999, 40, 2999);
    T_EQ_INT(db_checkpoint_get(db, name, &seq), KB_OK);
    T_EQ_INT(seq, 2999);
    db_close(db);
    /* closing checkpoints and removes the WAL: everything is in the file */
    T_EQ_INT(db_open(path, DB_CLIENT, 2, &db, &why), KB_OK);
    seq = 0;
    snprintf(name, sizeof name, "consumer-%04d-%0*d", 1500, 40, 1500);
    T_EQ_INT(db_checkpoint_get(db, name, &seq), KB_OK);
    T_EQ_INT(seq, 1500);
    db_close(db);
    char rm[340];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    T_EQ_INT(system(rm), 0);
}

int main(void)
{
    T_RUN(test_checkpoint);
    return t_done();
}
