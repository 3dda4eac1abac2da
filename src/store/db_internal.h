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

#endif
