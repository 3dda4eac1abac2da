/*
 * db_internal.h — the store's handle, shared by the files of src/store/
 * that talk to SQLite (db.c: issues, history, quarantine; db_outbox.c: the
 * notification outbox). Nothing outside src/store/ includes it.
 *
 * Ownership: db_open (db.c) creates the handle and db_close frees it,
 * finalizing every statement in st[] and outbox[] (NULL entries are fine).
 * db_outbox.c prepares its statements into outbox[] on first use.
 */
#ifndef KOBAN_DB_INTERNAL_H
#define KOBAN_DB_INTERNAL_H

#include "lib/kb.h"

#include <sqlite3.h>
#include <stdbool.h>

#define DB_STMT_MAX 32        /* db.c's prepared statements (enum stmt_id) */
#define DB_OUTBOX_STMT_MAX 24 /* db_outbox.c's */

struct db_gate;

struct db {
    sqlite3 *h;
    struct db_gate *gate; /* borrowed; NULL: none (db_use_gate) */
    bool gate_held;       /* between db_begin and commit/rollback */
    sqlite3_stmt *st[DB_STMT_MAX];
    sqlite3_stmt *outbox[DB_OUTBOX_STMT_MAX];
};

/* Binds s, or NULL when s is NULL (borrowed until the statement is reset). */
static inline void db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* A malloc'd copy of column i's text, or NULL when it is NULL. */
static inline char *db_col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? kb_strdup((const char *)t) : NULL;
}

#endif
