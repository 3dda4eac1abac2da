/* db_notice.c — last notice per issue, for reminders (db_notice.h). */
#include "store/db_notice.h"

#include "store/db_internal.h"

kb_err db_notice_record(struct db *db, int64_t issue_id, int64_t now, bool reminder)
{
    /* Called a few times per notification, not per event: no statement
     * cache needed. */
    sqlite3_stmt *st = NULL;
    const char *sql = reminder
                          ? "INSERT INTO notice(issue_id, last, reminders) VALUES(?1, ?2, 1) "
                            "ON CONFLICT(issue_id) DO UPDATE SET last = ?2, "
                            "reminders = reminders + 1"
                          : "INSERT INTO notice(issue_id, last, reminders) VALUES(?1, ?2, 0) "
                            "ON CONFLICT(issue_id) DO UPDATE SET last = ?2, reminders = 0";
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, issue_id);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KB_OK : KB_EDB;
}

kb_err db_notice_due(struct db *db, int severity, int64_t before, size_t limit, db_notice_fn fn,
                     void *ctx)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h,
                           "SELECT n.issue_id, n.reminders FROM notice n JOIN issues i "
                           "ON i.id = n.issue_id WHERE n.last < ?2 AND i.state = 0 "
                           "AND i.severity = ?1 ORDER BY n.last LIMIT ?3",
                           -1, &st, NULL) != SQLITE_OK)
        return KB_EDB;
    sqlite3_bind_int(st, 1, severity);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(limit ? limit : 1000));
    kb_err e = KB_OK;
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW)
        e = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    sqlite3_finalize(st);
    return e;
}
