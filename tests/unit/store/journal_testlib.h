/*
 * journal_testlib.h — what the journal tests share: a scratch directory
 * removed at the end, segment file names, and reading every record after a
 * seq with a check of each.
 */
#ifndef KOBAN_JOURNAL_TESTLIB_H
#define KOBAN_JOURNAL_TESTLIB_H

#include "store/journal.h"
#include "test.h"

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Makes a fresh directory /tmp/NAME-XXXXXX into root (size n). */
static inline bool jt_root_make(char *root, size_t n, const char *name)
{
    snprintf(root, n, "/tmp/%s-XXXXXX", name);
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return false;
    }
    return true;
}

static inline int jt_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* Removes root and everything below it. */
static inline void jt_root_remove(const char *root)
{
    nftw(root, jt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The file of the segment that starts at seq first. */
static inline void jt_seg_path(char *out, size_t n, const char *dir, uint64_t first)
{
    snprintf(out, n, "%s/%020" PRIu64 ".kj", dir, first);
}

/* Says whether e (read by r) holds what its seq should. */
typedef bool (*jt_check_fn)(void *ctx, struct journal_reader *r, struct journal_entry *e);

/* Reads every record after `after` (lazily when lazy) and checks each with
 * ok; returns how many were right and in order (stops at the first that
 * is not, with a failed check). The reader must end with KB_ENOTFOUND. */
static inline uint64_t jt_read_all(struct journal *j, uint64_t after, bool lazy, jt_check_fn ok,
                                   void *ctx)
{
    struct journal_reader *r = NULL;
    T_EQ_INT(journal_reader_open(j, after, &r), KB_OK);
    if (!r)
        return 0;
    journal_reader_set_lazy(r, lazy);
    uint64_t n = 0;
    struct journal_entry e;
    kb_err rc;
    while ((rc = journal_reader_next(r, &e)) == KB_OK) {
        if (e.seq != after + 1 + n || !ok(ctx, r, &e)) {
            T_CHECKF(0, "record %" PRIu64 " differs (expected seq %" PRIu64 ")", e.seq,
                     after + 1 + n);
            break;
        }
        n++;
    }
    T_EQ_INT(rc, KB_ENOTFOUND);
    journal_reader_close(r);
    return n;
}

#endif
