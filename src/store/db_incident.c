/* db_incident.c — incident rows, tags, linked issues, timeline (db_incident.h). */
#include "store/db_incident.h"

#include "store/db_internal.h"

#include <stdlib.h>
#include <strings.h>

static const char *const status_names[INCIDENT_STATUS_COUNT] = {
    "declared", "investigating", "recovered", "completed", "cancelled"};
static const char *const temp_names[INCIDENT_TEMP_COUNT] = {"cold", "warm", "hot"};

const char *incident_status_name(int s)
{
    return s >= 0 && s < INCIDENT_STATUS_COUNT ? status_names[s] : "?";
}

const char *incident_temp_name(int t)
{
    return t >= 0 && t < INCIDENT_TEMP_COUNT ? temp_names[t] : "?";
}

static kb_err name_parse(const char *const *names, int n, const char *s, int *out)
{
    for (int i = 0; s && i < n; i++)
        if (!strcasecmp(s, names[i])) {
            *out = i;
            return KB_OK;
        }
    return KB_EINVAL;
}

kb_err incident_status_parse(const char *s, int *out)
{
    return name_parse(status_names, INCIDENT_STATUS_COUNT, s, out);
}

kb_err incident_temp_parse(const char *s, int *out)
{
    return name_parse(temp_names, INCIDENT_TEMP_COUNT, s, out);
}

void db_incident_release(struct db_incident *r)
{
    free(r->service);
    free(r->title);
    free(r->summary);
    free(r->handler);
    free(r->scribe);
    free(r->liaison);
    free(r->slack_channel_id);
    free(r->slack_channel_name);
    for (size_t i = 0; i < r->ntags; i++)
        free(r->tags[i]);
    free(r->tags);
    free(r->issues);
    memset(r, 0, sizeof *r);
}

static kb_err prepare(struct db *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(db->h, sql, -1, st, NULL) == SQLITE_OK ? KB_OK : KB_EDB;
}

/* Runs st to completion and finalizes it; a constraint failure is
 * KB_EEXIST (the only constraints a valid row can break are UNIQUE). */
static kb_err step_final(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return KB_OK;
    return (rc & 0xff) == SQLITE_CONSTRAINT ? KB_EEXIST : KB_EDB;
}

static void bind_time(sqlite3_stmt *st, int i, int64_t ms)
{
    if (ms)
        sqlite3_bind_int64(st, i, ms);
    else
        sqlite3_bind_null(st, i);
}

/* Columns ?2..?25 of insert and update, in INCIDENT_COLUMNS order after id. */
static void bind_row(sqlite3_stmt *st, const struct db_incident *r)
{
    db_bind_text(st, 2, r->service);
    db_bind_text(st, 3, r->title);
    db_bind_text(st, 4, r->summary);
    db_bind_text(st, 5, incident_temp_name(r->temperature));
    sqlite3_bind_int(st, 6, r->level);
    db_bind_text(st, 7, incident_status_name(r->status));
    db_bind_text(st, 8, r->handler);
    db_bind_text(st, 9, r->scribe);
    db_bind_text(st, 10, r->liaison);
    bind_time(st, 11, r->occurred);
    bind_time(st, 12, r->detected);
    sqlite3_bind_int64(st, 13, r->declared);
    bind_time(st, 14, r->first_response);
    bind_time(st, 15, r->recovered);
    bind_time(st, 16, r->completed);
    bind_time(st, 17, r->cancelled);
    db_bind_text(st, 18, r->slack_channel_id);
    db_bind_text(st, 19, r->slack_channel_name);
    bind_time(st, 20, r->github_issue);
    bind_time(st, 21, r->github_pr);
    bind_time(st, 22, r->parent_id);
    sqlite3_bind_int(st, 23, r->drill ? 1 : 0);
    sqlite3_bind_int64(st, 24, r->updated);
}

#define INCIDENT_COLUMNS                                                                   \
    "id, service, title, summary, temperature, level, status, handler, scribe, liaison," \
    " occurred, detected, declared, first_response, recovered, completed, cancelled,"    \
    " slack_channel_id, slack_channel_name, github_issue, github_pr, parent_id, drill,"  \
    " updated"

static void read_row(sqlite3_stmt *st, struct db_incident *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->service = db_col_dup(st, 1);
    r->title = db_col_dup(st, 2);
    r->summary = db_col_dup(st, 3);
    const char *t = (const char *)sqlite3_column_text(st, 4);
    if (incident_temp_parse(t, &r->temperature))
        r->temperature = INCIDENT_WARM; /* the CHECK constraint keeps this unreachable */
    r->level = sqlite3_column_int(st, 5);
    t = (const char *)sqlite3_column_text(st, 6);
    if (incident_status_parse(t, &r->status))
        r->status = INCIDENT_DECLARED;
    r->handler = db_col_dup(st, 7);
    r->scribe = db_col_dup(st, 8);
    r->liaison = db_col_dup(st, 9);
    r->occurred = sqlite3_column_int64(st, 10);
    r->detected = sqlite3_column_int64(st, 11);
    r->declared = sqlite3_column_int64(st, 12);
    r->first_response = sqlite3_column_int64(st, 13);
    r->recovered = sqlite3_column_int64(st, 14);
    r->completed = sqlite3_column_int64(st, 15);
    r->cancelled = sqlite3_column_int64(st, 16);
    r->slack_channel_id = db_col_dup(st, 17);
    r->slack_channel_name = db_col_dup(st, 18);
    r->github_issue = sqlite3_column_int64(st, 19);
    r->github_pr = sqlite3_column_int64(st, 20);
    r->parent_id = sqlite3_column_int64(st, 21);
    r->drill = sqlite3_column_int(st, 22) != 0;
    r->updated = sqlite3_column_int64(st, 23);
}

kb_err db_incident_insert(struct db *db, const struct db_incident *r, int64_t *id)
{
    sqlite3_stmt *st;
    if (prepare(db,
                "INSERT INTO incident(" INCIDENT_COLUMNS ") VALUES(NULL,?2,?3,?4,?5,?6,?7,?8,"
                "?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24)",
                &st))
        return KB_EDB;
    bind_row(st, r);
    kb_err e = step_final(st);
    if (!e)
        *id = sqlite3_last_insert_rowid(db->h);
    return e;
}

kb_err db_incident_update(struct db *db, const struct db_incident *r)
{
    sqlite3_stmt *st;
    if (prepare(db,
                "UPDATE incident SET service=?2, title=?3, summary=?4, temperature=?5,"
                " level=?6, status=?7, handler=?8, scribe=?9, liaison=?10, occurred=?11,"
                " detected=?12, declared=?13, first_response=?14, recovered=?15,"
                " completed=?16, cancelled=?17, slack_channel_id=?18, slack_channel_name=?19,"
                " github_issue=?20, github_pr=?21, parent_id=?22, drill=?23, updated=?24"
                " WHERE id=?1",
                &st))
        return KB_EDB;
    sqlite3_bind_int64(st, 1, r->id);
    bind_row(st, r);
    kb_err e = step_final(st);
    if (!e && sqlite3_changes(db->h) == 0)
        e = KB_ENOTFOUND;
    return e;
}

static kb_err load_tags(struct db *db, struct db_incident *r)
{
    sqlite3_stmt *st;
    if (prepare(db, "SELECT tag FROM incident_tag WHERE incident_id = ?1 ORDER BY tag LIMIT ?2",
                &st))
        return KB_EDB;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int(st, 2, INCIDENT_TAGS_MAX);
    r->tags = kb_calloc(INCIDENT_TAGS_MAX, sizeof *r->tags);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && r->ntags < INCIDENT_TAGS_MAX)
        r->tags[r->ntags++] = db_col_dup(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? KB_OK : KB_EDB;
}

static kb_err load_issues(struct db *db, struct db_incident *r)
{
    sqlite3_stmt *st;
    if (prepare(db,
                "SELECT issue_id FROM incident_issue WHERE incident_id = ?1"
                " ORDER BY issue_id LIMIT ?2",
                &st))
        return KB_EDB;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int(st, 2, INCIDENT_ISSUES_MAX);
    r->issues = kb_calloc(INCIDENT_ISSUES_MAX, sizeof *r->issues);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && r->nissues < INCIDENT_ISSUES_MAX)
        r->issues[r->nissues++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? KB_OK : KB_EDB;
}

kb_err db_incident_get(struct db *db, int64_t id, struct db_incident *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (prepare(db, "SELECT " INCIDENT_COLUMNS " FROM incident WHERE id = ?1", &st))
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_row(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return KB_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return KB_EDB;
    kb_err e = load_tags(db, out);
    if (!e)
        e = load_issues(db, out);
    if (e)
        db_incident_release(out);
    return e;
}

kb_err db_incident_by_channel(struct db *db, const char *channel_id, int64_t *id)
{
    *id = 0;
    sqlite3_stmt *st;
    if (prepare(db, "SELECT id FROM incident WHERE slack_channel_id = ?1 ORDER BY id DESC LIMIT 1",
                &st))
        return KB_EDB;
    db_bind_text(st, 1, channel_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KB_OK : rc == SQLITE_DONE ? KB_ENOTFOUND : KB_EDB;
}

/* Rows of `sql` (one integer column) counted into *n. */
static kb_err count_rows(struct db *db, const char *sql, int64_t id, int64_t *n)
{
    sqlite3_stmt *st;
    if (prepare(db, sql, &st))
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KB_OK : KB_EDB;
}

kb_err db_incident_tag_add(struct db *db, int64_t id, const char *tag, bool *added)
{
    *added = false;
    int64_t n;
    kb_err e = count_rows(db, "SELECT count(*) FROM incident_tag WHERE incident_id = ?1", id, &n);
    if (e)
        return e;
    sqlite3_stmt *st;
    if (prepare(db, "INSERT OR IGNORE INTO incident_tag(incident_id, tag) VALUES(?1, ?2)", &st))
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    db_bind_text(st, 2, tag);
    if (n >= INCIDENT_TAGS_MAX) {
        /* already full: only a repeat of a present tag is fine */
        sqlite3_finalize(st);
        if (prepare(db, "SELECT 1 FROM incident_tag WHERE incident_id = ?1 AND tag = ?2", &st))
            return KB_EDB;
        sqlite3_bind_int64(st, 1, id);
        db_bind_text(st, 2, tag);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return rc == SQLITE_ROW ? KB_OK : rc == SQLITE_DONE ? KB_ETOOBIG : KB_EDB;
    }
    e = step_final(st);
    if (!e)
        *added = sqlite3_changes(db->h) > 0;
    return e;
}

kb_err db_incident_issue_add(struct db *db, int64_t id, int64_t issue_id, bool *added)
{
    *added = false;
    int64_t n;
    kb_err e = count_rows(db, "SELECT count(*) FROM issues WHERE id = ?1", issue_id, &n);
    if (e)
        return e;
    if (n == 0)
        return KB_ENOTFOUND;
    if ((e = count_rows(db, "SELECT count(*) FROM incident_issue WHERE incident_id = ?1", id,
                        &n)))
        return e;
    sqlite3_stmt *st;
    if (prepare(db, "SELECT 1 FROM incident_issue WHERE incident_id = ?1 AND issue_id = ?2", &st))
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, issue_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return KB_OK;
    if (rc != SQLITE_DONE)
        return KB_EDB;
    if (n >= INCIDENT_ISSUES_MAX)
        return KB_ETOOBIG;
    if (prepare(db, "INSERT INTO incident_issue(incident_id, issue_id) VALUES(?1, ?2)", &st))
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, issue_id);
    e = step_final(st);
    *added = !e;
    return e;
}

kb_err db_incident_list(struct db *db, const struct db_incident_filter *f, db_incident_fn fn,
                        void *ctx)
{
    sqlite3_stmt *st;
    if (prepare(db,
                "SELECT " INCIDENT_COLUMNS " FROM incident"
                " WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR service = ?2)"
                " AND (?3 = 0 OR parent_id = ?3) AND (?4 = 0 OR drill = ?4 - 1)"
                " ORDER BY declared DESC, id DESC LIMIT ?5",
                &st))
        return KB_EDB;
    if (f->status >= 0)
        db_bind_text(st, 1, incident_status_name(f->status));
    db_bind_text(st, 2, f->service);
    sqlite3_bind_int64(st, 3, f->parent_id > 0 ? f->parent_id : 0);
    sqlite3_bind_int(st, 4, f->drill);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)(f->limit ? f->limit : 1000));
    kb_err e = KB_OK;
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_incident r;
        read_row(st, &r);
        e = fn(ctx, &r);
        db_incident_release(&r);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    sqlite3_finalize(st);
    return e;
}

kb_err db_incident_event_add(struct db *db, const struct db_incident_event *ev, int64_t *id)
{
    sqlite3_stmt *st;
    if (prepare(db,
                "INSERT INTO incident_event(incident_id, at, kind, field, value, text, actor,"
                " source_ref) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                &st))
        return KB_EDB;
    sqlite3_bind_int64(st, 1, ev->incident_id);
    sqlite3_bind_int64(st, 2, ev->at);
    db_bind_text(st, 3, ev->kind);
    db_bind_text(st, 4, ev->field);
    db_bind_text(st, 5, ev->value);
    db_bind_text(st, 6, ev->text);
    db_bind_text(st, 7, ev->actor);
    db_bind_text(st, 8, ev->source_ref);
    kb_err e = step_final(st);
    if (e == KB_EEXIST)
        e = KB_ENOTFOUND; /* the foreign key: no such incident */
    if (!e && id)
        *id = sqlite3_last_insert_rowid(db->h);
    return e;
}

kb_err db_incident_events(struct db *db, int64_t id, int64_t after_id, const char *kind,
                          size_t limit, db_incident_event_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    if (prepare(db,
                "SELECT id, incident_id, at, kind, field, value, text, actor, source_ref"
                " FROM incident_event WHERE (?1 = 0 OR incident_id = ?1) AND id > ?2"
                " AND (?3 IS NULL OR kind = ?3) ORDER BY id LIMIT ?4",
                &st))
        return KB_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, after_id);
    db_bind_text(st, 3, kind);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)(limit ? limit : 10000));
    kb_err e = KB_OK;
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_incident_event ev = {
            .id = sqlite3_column_int64(st, 0),
            .incident_id = sqlite3_column_int64(st, 1),
            .at = sqlite3_column_int64(st, 2),
            .kind = (const char *)sqlite3_column_text(st, 3),
            .field = (const char *)sqlite3_column_text(st, 4),
            .value = (const char *)sqlite3_column_text(st, 5),
            .text = (const char *)sqlite3_column_text(st, 6),
            .actor = (const char *)sqlite3_column_text(st, 7),
            .source_ref = (const char *)sqlite3_column_text(st, 8),
        };
        e = fn(ctx, &ev);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    sqlite3_finalize(st);
    return e;
}

kb_err db_incident_channel_taken(struct db *db, const char *name, bool *taken)
{
    sqlite3_stmt *st;
    if (prepare(db,
                "SELECT 1 FROM incident WHERE slack_channel_name = ?1"
                " UNION ALL SELECT 1 FROM incident_channel_taken WHERE name = ?1 LIMIT 1",
                &st))
        return KB_EDB;
    db_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    *taken = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KB_OK : KB_EDB;
}

kb_err db_incident_channel_mark_taken(struct db *db, const char *name, int64_t at)
{
    sqlite3_stmt *st;
    if (prepare(db, "INSERT OR IGNORE INTO incident_channel_taken(name, at) VALUES(?1, ?2)", &st))
        return KB_EDB;
    db_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, at);
    return step_final(st);
}
