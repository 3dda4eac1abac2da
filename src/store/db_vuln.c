/* db_vuln.c — the vulnerability store in SQLite (API and lifecycle in
 * db_vuln.h; schema: migration 5 in db_vuln_schema.h). */
#include "store/db_vuln.h"
#include "store/db_internal.h"

#include <stdlib.h>
#include <string.h>

enum vs_stmt {
    V_ADV_PUT,
    V_ADV_GROUP,
    V_ADV_EACH,
    V_ADV_GET,
    V_ADV_COUNT,
    V_FEED_GET,
    V_FEED_SET,
    V_FEED_DEL,
    V_KEV_PUT,
    V_KEV_GET,
    V_KEV_CLEAR,
    V_EPSS_PUT,
    V_EPSS_GET,
    V_EPSS_CLEAR,
    V_ASSET_PUT,
    V_ASSET_GET,
    V_ASSET_EACH,
    V_PKG_CLEAR,
    V_PKG_ADD,
    V_PKG_EACH,
    V_PKG_EACH_ASSET,
    V_PKG_FIND,
    V_FIND_PUT,
    V_FIND_EACH,
    V_FIND_EACH_ASSET,
    V_FIND_EACH_GROUP,
    V_TRIAGE_SET,
    V_TRIAGE_GET,
    V_TRIAGE_EACH,
    V_COUNT
};

#define ADV_COLUMNS "id, group_key, feed, modified, withdrawn, suspected, osv"
#define PKG_COLUMNS "asset, source, ecosystem, name, version, location, srcpkg"
#define FIND_COLUMNS                                                                               \
    "group_key, asset, ecosystem, package, installed, fixed, severity, cvss, kev, suspected,"      \
    " state, first_seen, changed, reason"

#define FIND_REST                                                                                  \
    " AND (?2 IS NULL OR ecosystem = ?2) AND (?3 IS NULL OR package = ?3)"                         \
    " AND (?4 IS NULL OR group_key = ?4) AND (?5 IS NULL OR state = ?5)"                           \
    " ORDER BY group_key, asset, ecosystem, package LIMIT ?6"

static const char *const vs_sql[V_COUNT] = {
    [V_ADV_PUT] = "INSERT INTO vuln_advisory(id, group_key, feed, modified, withdrawn, suspected,"
                  " osv, updated) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                  " ON CONFLICT(id) DO UPDATE SET group_key = coalesce(excluded.group_key,"
                  " group_key), feed = excluded.feed, modified = excluded.modified,"
                  " withdrawn = excluded.withdrawn, suspected = excluded.suspected,"
                  " osv = excluded.osv, updated = excluded.updated",
    [V_ADV_GROUP] = "UPDATE vuln_advisory SET group_key = ?2 WHERE id = ?1",
    [V_ADV_EACH] = "SELECT " ADV_COLUMNS " FROM vuln_advisory ORDER BY id LIMIT ?1",
    [V_ADV_GET] = "SELECT " ADV_COLUMNS " FROM vuln_advisory WHERE id = ?1",
    [V_ADV_COUNT] = "SELECT count(*) FROM vuln_advisory",
    [V_FEED_GET] = "SELECT value FROM vuln_feed_state WHERE feed = ?1 AND key = ?2",
    [V_FEED_SET] = "INSERT INTO vuln_feed_state(feed, key, value) VALUES(?1, ?2, ?3)"
                   " ON CONFLICT(feed, key) DO UPDATE SET value = excluded.value",
    [V_FEED_DEL] = "DELETE FROM vuln_feed_state WHERE feed = ?1 AND key = ?2",
    [V_KEV_PUT] = "INSERT INTO vuln_kev(cve, date_added, ransomware) VALUES(?1, ?2, ?3)"
                  " ON CONFLICT(cve) DO UPDATE SET date_added = excluded.date_added,"
                  " ransomware = excluded.ransomware",
    [V_KEV_GET] = "SELECT date_added, ransomware FROM vuln_kev WHERE cve = ?1",
    [V_KEV_CLEAR] = "DELETE FROM vuln_kev",
    [V_EPSS_PUT] = "INSERT INTO vuln_epss(cve, score, percentile, date) VALUES(?1, ?2, ?3, ?4)"
                   " ON CONFLICT(cve) DO UPDATE SET score = excluded.score,"
                   " percentile = excluded.percentile, date = excluded.date",
    [V_EPSS_GET] = "SELECT score, percentile, date FROM vuln_epss WHERE cve = ?1",
    [V_EPSS_CLEAR] = "DELETE FROM vuln_epss",
    [V_ASSET_PUT] = "INSERT INTO vuln_asset(name, kind, labels, updated) VALUES(?1, ?2,"
                    " coalesce(?3, '{}'), ?4) ON CONFLICT(name) DO UPDATE SET"
                    " kind = excluded.kind, labels = excluded.labels, updated = excluded.updated",
    [V_ASSET_GET] = "SELECT name, kind, labels, updated FROM vuln_asset WHERE name = ?1",
    [V_ASSET_EACH] = "SELECT name, kind, labels, updated FROM vuln_asset ORDER BY name LIMIT ?1",
    [V_PKG_CLEAR] = "DELETE FROM vuln_package WHERE asset = ?1",
    [V_PKG_ADD] = "INSERT INTO vuln_package(" PKG_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* One statement per filter shape: "?1 IS NULL OR asset = ?1" would
     * keep SQLite from using the asset index. */
    [V_PKG_EACH] = "SELECT " PKG_COLUMNS " FROM vuln_package WHERE (?1 IS NULL OR asset = ?1)"
                   " AND (?2 IS NULL OR ecosystem = ?2) AND (?3 IS NULL OR name = ?3)"
                   " ORDER BY id LIMIT ?4",
    [V_PKG_EACH_ASSET] = "SELECT " PKG_COLUMNS " FROM vuln_package WHERE asset = ?1"
                         " AND (?2 IS NULL OR ecosystem = ?2) AND (?3 IS NULL OR name = ?3)"
                         " ORDER BY id LIMIT ?4",
    [V_PKG_FIND] = "SELECT " PKG_COLUMNS " FROM vuln_package WHERE name = ?1"
                   " ORDER BY asset, id LIMIT ?2",
    [V_FIND_PUT] = "INSERT OR REPLACE INTO vuln_finding(" FIND_COLUMNS ") VALUES(?1, ?2, ?3, ?4,"
                   " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [V_FIND_EACH] =
        "SELECT " FIND_COLUMNS " FROM vuln_finding WHERE (?1 IS NULL OR asset = ?1)" FIND_REST,
    [V_FIND_EACH_ASSET] = "SELECT " FIND_COLUMNS " FROM vuln_finding WHERE asset = ?1" FIND_REST,
    [V_FIND_EACH_GROUP] = "SELECT " FIND_COLUMNS " FROM vuln_finding WHERE group_key = ?4"
                          " AND (?1 IS NULL OR asset = ?1)" FIND_REST,
    [V_TRIAGE_SET] = "INSERT OR REPLACE INTO vuln_triage(group_key, asset, ecosystem, package,"
                     " status, justification, note, until, author, at)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [V_TRIAGE_GET] = "SELECT status, justification, note, until, author, at FROM vuln_triage"
                     " WHERE group_key = ?1 AND asset = ?2 AND ecosystem = ?3 AND package = ?4",
    [V_TRIAGE_EACH] = "SELECT group_key, asset, ecosystem, package, status, justification, note,"
                      " until, author, at FROM vuln_triage WHERE (?1 IS NULL OR asset = ?1)"
                      " ORDER BY group_key, asset, ecosystem, package LIMIT ?2",
};

struct db_vuln {
    struct db *db; /* borrowed */
    sqlite3_stmt *st[V_COUNT];
};

kb_err db_vuln_open(struct db *db, struct db_vuln **out)
{
    if (!db || !out)
        return KB_EINVAL;
    struct db_vuln *v = kb_calloc(1, sizeof *v);
    v->db = db;
    *out = v;
    return KB_OK;
}

void db_vuln_close(struct db_vuln *v)
{
    if (!v)
        return;
    for (int i = 0; i < V_COUNT; i++)
        sqlite3_finalize(v->st[i]);
    free(v);
}

struct db *db_vuln_db(struct db_vuln *v)
{
    return v->db;
}

/* The statement, prepared on first use and kept until db_vuln_close;
 * NULL when SQLite cannot prepare it (a store older than migration 5). */
static sqlite3_stmt *vs(struct db_vuln *v, enum vs_stmt i)
{
    if (!v->st[i] && sqlite3_prepare_v3(v->db->h, vs_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                        &v->st[i], NULL) != SQLITE_OK)
        return NULL;
    return v->st[i];
}

static void vs_reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no rows. */
static kb_err vs_run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    vs_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? KB_OK : KB_EDB;
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static sqlite3_int64 walk_limit(size_t limit)
{
    return (sqlite3_int64)(limit && limit < DB_VULN_MAX_WALK ? limit : DB_VULN_MAX_WALK);
}

/* ---- advisories ---- */

kb_err db_vuln_advisory_put(struct db_vuln *v, const struct db_vuln_advisory *a, int64_t now)
{
    sqlite3_stmt *st = vs(v, V_ADV_PUT);
    if (!st)
        return KB_EDB;
    if (!a || !a->id || !a->osv)
        return KB_EINVAL;
    db_bind_text(st, 1, a->id);
    db_bind_text(st, 2, a->group_key);
    db_bind_text(st, 3, a->feed);
    sqlite3_bind_int64(st, 4, a->modified);
    sqlite3_bind_int(st, 5, a->withdrawn);
    sqlite3_bind_int(st, 6, a->suspected);
    sqlite3_bind_text(st, 7, a->osv, (int)KB_MIN(a->osv_len, (size_t)INT32_MAX), SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, now);
    return vs_run(st);
}

kb_err db_vuln_advisory_set_group(struct db_vuln *v, const char *id, const char *group_key)
{
    sqlite3_stmt *st = vs(v, V_ADV_GROUP);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, group_key);
    return vs_run(st);
}

static kb_err adv_walk(sqlite3_stmt *st, db_vuln_advisory_fn fn, void *ctx, bool *any)
{
    kb_err e = KB_OK;
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_vuln_advisory a = {
            .id = col(st, 0),
            .group_key = col(st, 1),
            .feed = col(st, 2),
            .modified = sqlite3_column_int64(st, 3),
            .withdrawn = sqlite3_column_int(st, 4) != 0,
            .suspected = sqlite3_column_int(st, 5) != 0,
            .osv = col(st, 6),
        };
        a.osv_len = (size_t)sqlite3_column_bytes(st, 6);
        *any = true;
        e = fn(ctx, &a);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    vs_reset(st);
    return e;
}

kb_err db_vuln_advisory_each(struct db_vuln *v, db_vuln_advisory_fn fn, void *ctx)
{
    sqlite3_stmt *st = vs(v, V_ADV_EACH);
    if (!st)
        return KB_EDB;
    bool any = false;
    sqlite3_bind_int64(st, 1, walk_limit(0));
    return adv_walk(st, fn, ctx, &any);
}

kb_err db_vuln_advisory_get(struct db_vuln *v, const char *id, db_vuln_advisory_fn fn, void *ctx)
{
    sqlite3_stmt *st = vs(v, V_ADV_GET);
    if (!st)
        return KB_EDB;
    bool any = false;
    db_bind_text(st, 1, id);
    kb_err e = adv_walk(st, fn, ctx, &any);
    return e ? e : any ? KB_OK : KB_ENOTFOUND;
}

kb_err db_vuln_advisory_count(struct db_vuln *v, int64_t *n)
{
    sqlite3_stmt *st = vs(v, V_ADV_COUNT);
    if (!st)
        return KB_EDB;
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    vs_reset(st);
    return rc == SQLITE_ROW ? KB_OK : KB_EDB;
}

/* ---- feed state ---- */

kb_err db_vuln_feed_get(struct db_vuln *v, const char *feed, const char *key, char **value)
{
    sqlite3_stmt *st = vs(v, V_FEED_GET);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, feed);
    db_bind_text(st, 2, key);
    int rc = sqlite3_step(st);
    kb_err e = rc == SQLITE_ROW ? KB_OK : rc == SQLITE_DONE ? KB_ENOTFOUND : KB_EDB;
    if (!e)
        *value = db_col_dup(st, 0);
    vs_reset(st);
    return e;
}

kb_err db_vuln_feed_set(struct db_vuln *v, const char *feed, const char *key, const char *value)
{
    sqlite3_stmt *st = vs(v, value ? V_FEED_SET : V_FEED_DEL);
    if (!st)
        return KB_EDB;
    if (!feed || !key)
        return KB_EINVAL;
    db_bind_text(st, 1, feed);
    db_bind_text(st, 2, key);
    if (value)
        db_bind_text(st, 3, value);
    return vs_run(st);
}

/* ---- KEV ---- */

kb_err db_vuln_kev_put(struct db_vuln *v, const char *cve, int64_t date_added, bool ransomware)
{
    sqlite3_stmt *st = vs(v, V_KEV_PUT);
    if (!st)
        return KB_EDB;
    if (!cve || !*cve)
        return KB_EINVAL;
    db_bind_text(st, 1, cve);
    sqlite3_bind_int64(st, 2, date_added);
    sqlite3_bind_int(st, 3, ransomware);
    return vs_run(st);
}

kb_err db_vuln_kev_clear(struct db_vuln *v)
{
    sqlite3_stmt *st = vs(v, V_KEV_CLEAR);
    return st ? vs_run(st) : KB_EDB;
}

kb_err db_vuln_kev_get(struct db_vuln *v, const char *cve, bool *found, int64_t *date_added,
                       bool *ransomware)
{
    sqlite3_stmt *st = vs(v, V_KEV_GET);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, cve);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found && date_added)
        *date_added = sqlite3_column_int64(st, 0);
    if (*found && ransomware)
        *ransomware = sqlite3_column_int(st, 1) != 0;
    vs_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KB_OK : KB_EDB;
}

/* ---- EPSS ---- */

kb_err db_vuln_epss_put(struct db_vuln *v, const char *cve, double score, double percentile,
                        int64_t date)
{
    sqlite3_stmt *st = vs(v, V_EPSS_PUT);
    if (!st)
        return KB_EDB;
    /* written so that NaN fails too */
    if (!cve || !*cve || !(score >= 0 && score <= 1) || !(percentile >= 0 && percentile <= 1))
        return KB_EINVAL;
    db_bind_text(st, 1, cve);
    sqlite3_bind_double(st, 2, score);
    sqlite3_bind_double(st, 3, percentile);
    sqlite3_bind_int64(st, 4, date);
    return vs_run(st);
}

kb_err db_vuln_epss_clear(struct db_vuln *v)
{
    sqlite3_stmt *st = vs(v, V_EPSS_CLEAR);
    return st ? vs_run(st) : KB_EDB;
}

kb_err db_vuln_epss_get(struct db_vuln *v, const char *cve, bool *found, double *score,
                        double *percentile, int64_t *date)
{
    sqlite3_stmt *st = vs(v, V_EPSS_GET);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, cve);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found && score)
        *score = sqlite3_column_double(st, 0);
    if (*found && percentile)
        *percentile = sqlite3_column_double(st, 1);
    if (*found && date)
        *date = sqlite3_column_int64(st, 2);
    vs_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KB_OK : KB_EDB;
}

/* ---- assets ---- */

static const char *const kind_names[] = {"host", "repository"};

const char *db_vuln_asset_kind_name(int kind)
{
    return kind >= 0 && kind < (int)KB_ARRAY_LEN(kind_names) ? kind_names[kind] : "?";
}

kb_err db_vuln_asset_kind_parse(const char *s, int *out)
{
    for (int i = 0; s && i < (int)KB_ARRAY_LEN(kind_names); i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *out = i;
            return KB_OK;
        }
    return KB_EINVAL;
}

kb_err db_vuln_asset_put(struct db_vuln *v, const struct db_vuln_asset *a)
{
    sqlite3_stmt *st = vs(v, V_ASSET_PUT);
    if (!st)
        return KB_EDB;
    if (!a || !a->name || !*a->name || !strcmp(db_vuln_asset_kind_name(a->kind), "?"))
        return KB_EINVAL;
    db_bind_text(st, 1, a->name);
    db_bind_text(st, 2, db_vuln_asset_kind_name(a->kind));
    db_bind_text(st, 3, a->labels);
    sqlite3_bind_int64(st, 4, a->updated);
    return vs_run(st);
}

static void read_asset(sqlite3_stmt *st, struct db_vuln_asset *a)
{
    a->name = col(st, 0);
    a->kind = DB_VULN_HOST;
    db_vuln_asset_kind_parse(col(st, 1), &a->kind);
    a->labels = col(st, 2);
    a->updated = sqlite3_column_int64(st, 3);
}

kb_err db_vuln_asset_get(struct db_vuln *v, const char *name, struct db_vuln_asset *out)
{
    sqlite3_stmt *st = vs(v, V_ASSET_GET);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    kb_err e = rc == SQLITE_ROW ? KB_OK : rc == SQLITE_DONE ? KB_ENOTFOUND : KB_EDB;
    if (!e) {
        struct db_vuln_asset a;
        read_asset(st, &a);
        *out = a;
        out->name = kb_strdup(a.name);
        out->labels = a.labels ? kb_strdup(a.labels) : NULL;
    }
    vs_reset(st);
    return e;
}

void db_vuln_asset_release(struct db_vuln_asset *a)
{
    free((char *)a->name);
    free((char *)a->labels);
    a->name = a->labels = NULL;
}

kb_err db_vuln_asset_each(struct db_vuln *v, db_vuln_asset_fn fn, void *ctx)
{
    sqlite3_stmt *st = vs(v, V_ASSET_EACH);
    if (!st)
        return KB_EDB;
    sqlite3_bind_int64(st, 1, walk_limit(0));
    kb_err e = KB_OK;
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_vuln_asset a;
        read_asset(st, &a);
        e = fn(ctx, &a);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    vs_reset(st);
    return e;
}

/* ---- packages ---- */

kb_err db_vuln_packages_clear(struct db_vuln *v, const char *asset)
{
    sqlite3_stmt *st = vs(v, V_PKG_CLEAR);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, asset);
    return vs_run(st);
}

kb_err db_vuln_package_add(struct db_vuln *v, const struct db_vuln_package *p)
{
    sqlite3_stmt *st = vs(v, V_PKG_ADD);
    if (!st)
        return KB_EDB;
    if (!p || !p->asset || !p->ecosystem || !p->name || !p->version)
        return KB_EINVAL;
    db_bind_text(st, 1, p->asset);
    db_bind_text(st, 2, p->source);
    db_bind_text(st, 3, p->ecosystem);
    db_bind_text(st, 4, p->name);
    db_bind_text(st, 5, p->version);
    db_bind_text(st, 6, p->location);
    db_bind_text(st, 7, p->srcpkg);
    return vs_run(st);
}

static kb_err pkg_walk(sqlite3_stmt *st, db_vuln_package_fn fn, void *ctx)
{
    kb_err e = KB_OK;
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_vuln_package p = {.asset = col(st, 0),
                                    .source = col(st, 1),
                                    .ecosystem = col(st, 2),
                                    .name = col(st, 3),
                                    .version = col(st, 4),
                                    .location = col(st, 5),
                                    .srcpkg = col(st, 6)};
        e = fn(ctx, &p);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    vs_reset(st);
    return e;
}

kb_err db_vuln_package_each(struct db_vuln *v, const char *asset, const char *ecosystem,
                            const char *name, db_vuln_package_fn fn, void *ctx)
{
    sqlite3_stmt *st = vs(v, asset ? V_PKG_EACH_ASSET : V_PKG_EACH);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, asset);
    db_bind_text(st, 2, ecosystem);
    db_bind_text(st, 3, name);
    sqlite3_bind_int64(st, 4, walk_limit(0));
    return pkg_walk(st, fn, ctx);
}

kb_err db_vuln_package_find(struct db_vuln *v, const char *name, db_vuln_package_fn fn, void *ctx)
{
    sqlite3_stmt *st = vs(v, V_PKG_FIND);
    if (!st)
        return KB_EDB;
    if (!name)
        return KB_EINVAL;
    db_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, walk_limit(0));
    return pkg_walk(st, fn, ctx);
}

/* ---- findings ---- */

static const char *const state_names[] = {"open", "resolved"};

const char *db_vuln_state_name(int state)
{
    return state >= 0 && state < (int)KB_ARRAY_LEN(state_names) ? state_names[state] : "?";
}

kb_err db_vuln_finding_put(struct db_vuln *v, const struct db_vuln_finding *f)
{
    sqlite3_stmt *st = vs(v, V_FIND_PUT);
    if (!st)
        return KB_EDB;
    if (!f || !f->group_key || !f->asset || !f->ecosystem || !f->package || !f->installed ||
        f->state < 0 || f->state > DB_VULN_RESOLVED)
        return KB_EINVAL;
    db_bind_text(st, 1, f->group_key);
    db_bind_text(st, 2, f->asset);
    db_bind_text(st, 3, f->ecosystem);
    db_bind_text(st, 4, f->package);
    db_bind_text(st, 5, f->installed);
    db_bind_text(st, 6, f->fixed);
    sqlite3_bind_int(st, 7, f->severity);
    if (f->cvss >= 0)
        sqlite3_bind_double(st, 8, f->cvss);
    else
        sqlite3_bind_null(st, 8);
    sqlite3_bind_int(st, 9, f->kev);
    sqlite3_bind_int(st, 10, f->suspected);
    db_bind_text(st, 11, db_vuln_state_name(f->state));
    sqlite3_bind_int64(st, 12, f->first_seen);
    sqlite3_bind_int64(st, 13, f->changed);
    db_bind_text(st, 14, f->reason);
    return vs_run(st);
}

kb_err db_vuln_finding_each(struct db_vuln *v, const struct db_vuln_finding_filter *flt,
                            db_vuln_finding_fn fn, void *ctx)
{
    static const struct db_vuln_finding_filter all = {.state = -1};
    if (!flt)
        flt = &all;
    sqlite3_stmt *st = vs(v, flt->asset       ? V_FIND_EACH_ASSET
                             : flt->group_key ? V_FIND_EACH_GROUP
                                              : V_FIND_EACH);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, flt->asset);
    db_bind_text(st, 2, flt->ecosystem);
    db_bind_text(st, 3, flt->package);
    db_bind_text(st, 4, flt->group_key);
    db_bind_text(st, 5, flt->state >= 0 ? db_vuln_state_name(flt->state) : NULL);
    sqlite3_bind_int64(st, 6, walk_limit(flt->limit));
    kb_err e = KB_OK;
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *state = col(st, 10);
        struct db_vuln_finding f = {
            .group_key = col(st, 0),
            .asset = col(st, 1),
            .ecosystem = col(st, 2),
            .package = col(st, 3),
            .installed = col(st, 4),
            .fixed = col(st, 5),
            .severity = sqlite3_column_int(st, 6),
            .cvss = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 7),
            .kev = sqlite3_column_int(st, 8) != 0,
            .suspected = sqlite3_column_int(st, 9) != 0,
            .state = state && !strcmp(state, "resolved") ? DB_VULN_RESOLVED : DB_VULN_OPEN,
            .first_seen = sqlite3_column_int64(st, 11),
            .changed = sqlite3_column_int64(st, 12),
            .reason = col(st, 13),
        };
        e = fn(ctx, &f);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    vs_reset(st);
    return e;
}

/* ---- triage ---- */

static const char *const triage_names[DB_VULN_TRIAGE_COUNT] = {"not_affected", "affected", "fixed",
                                                               "under_investigation"};

const char *db_vuln_triage_status_name(int status)
{
    return status >= 0 && status < DB_VULN_TRIAGE_COUNT ? triage_names[status] : "?";
}

kb_err db_vuln_triage_status_parse(const char *s, int *out)
{
    for (int i = 0; s && i < DB_VULN_TRIAGE_COUNT; i++)
        if (strcmp(s, triage_names[i]) == 0) {
            *out = i;
            return KB_OK;
        }
    return KB_EINVAL;
}

kb_err db_vuln_triage_set(struct db_vuln *v, const char *group_key, const char *asset,
                          const char *ecosystem, const char *package,
                          const struct db_vuln_triage *t)
{
    sqlite3_stmt *st = vs(v, V_TRIAGE_SET);
    if (!st)
        return KB_EDB;
    if (!group_key || !asset || !ecosystem || !package || !t || !t->author || t->status < 0 ||
        t->status >= DB_VULN_TRIAGE_COUNT)
        return KB_EINVAL;
    db_bind_text(st, 1, group_key);
    db_bind_text(st, 2, asset);
    db_bind_text(st, 3, ecosystem);
    db_bind_text(st, 4, package);
    db_bind_text(st, 5, triage_names[t->status]);
    db_bind_text(st, 6, t->justification);
    db_bind_text(st, 7, t->note);
    sqlite3_bind_int64(st, 8, t->until);
    db_bind_text(st, 9, t->author);
    sqlite3_bind_int64(st, 10, t->at);
    return vs_run(st);
}

kb_err db_vuln_triage_get(struct db_vuln *v, const char *group_key, const char *asset,
                          const char *ecosystem, const char *package, struct db_vuln_triage *out)
{
    sqlite3_stmt *st = vs(v, V_TRIAGE_GET);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, group_key);
    db_bind_text(st, 2, asset);
    db_bind_text(st, 3, ecosystem);
    db_bind_text(st, 4, package);
    int rc = sqlite3_step(st);
    kb_err e = rc == SQLITE_ROW ? KB_OK : rc == SQLITE_DONE ? KB_ENOTFOUND : KB_EDB;
    if (!e) {
        memset(out, 0, sizeof *out);
        out->status = DB_VULN_UNDER_INVESTIGATION;
        db_vuln_triage_status_parse(col(st, 0), &out->status);
        out->justification = db_col_dup(st, 1);
        out->note = db_col_dup(st, 2);
        out->until = sqlite3_column_int64(st, 3);
        out->author = db_col_dup(st, 4);
        out->at = sqlite3_column_int64(st, 5);
    }
    vs_reset(st);
    return e;
}

void db_vuln_triage_release(struct db_vuln_triage *t)
{
    free((char *)t->justification);
    free((char *)t->note);
    free((char *)t->author);
    t->justification = t->note = t->author = NULL;
}

kb_err db_vuln_triage_each(struct db_vuln *v, const char *asset, db_vuln_triage_fn fn, void *ctx)
{
    sqlite3_stmt *st = vs(v, V_TRIAGE_EACH);
    if (!st)
        return KB_EDB;
    db_bind_text(st, 1, asset);
    sqlite3_bind_int64(st, 2, walk_limit(0));
    kb_err e = KB_OK;
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_vuln_triage t = {
            .status = DB_VULN_UNDER_INVESTIGATION,
            .justification = col(st, 5),
            .note = col(st, 6),
            .until = sqlite3_column_int64(st, 7),
            .author = col(st, 8),
            .at = sqlite3_column_int64(st, 9),
        };
        db_vuln_triage_status_parse(col(st, 4), &t.status);
        e = fn(ctx, col(st, 0), col(st, 1), col(st, 2), col(st, 3), &t);
    }
    if (!e && rc != SQLITE_DONE)
        e = KB_EDB;
    vs_reset(st);
    return e;
}
