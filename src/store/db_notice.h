/*
 * db_notice.h — when each issue last got a notice (opened, reopened or a
 * reminder) and how many reminders followed, so reminders are due from the
 * store and survive restarts (notify/notifier.h).
 *
 * Writes run inside the caller's transaction (the one that writes the
 * notice's outbox jobs); reads in any.
 */
#ifndef KOBAN_DB_NOTICE_H
#define KOBAN_DB_NOTICE_H

#include "store/db.h"

/* A notice for issue_id at now: reminder false (opened, reopened) starts
 * the count afresh; true adds one reminder. */
kb_err db_notice_record(struct db *db, int64_t issue_id, int64_t now, bool reminder);

/* Open (unacknowledged) issues of this severity whose last notice is older
 * than before, oldest first, at most limit: fn(ctx, issue_id, reminders). */
typedef kb_err (*db_notice_fn)(void *ctx, int64_t issue_id, int64_t reminders);
kb_err db_notice_due(struct db *db, int severity, int64_t before, size_t limit, db_notice_fn fn,
                     void *ctx);

#endif
