/*
 * db_vuln.h — the vulnerability store (schema: migration 5,
 * store/db_vuln_schema.h): advisories as OSV JSON, the feeds' state, CISA
 * KEV entries, FIRST EPSS scores, assets and the packages they run,
 * findings and their triage.
 *
 * Who writes what: the feeds write advisories, feed state, KEV and EPSS; the
 * vulnerability engine (vuln/vuln_engine.h) writes assets, packages and
 * findings; people (through the CLI and API) write triage. Everything
 * else only reads.
 *
 * Finding lifecycle (the `state` column): a finding is inserted `open`;
 * when the asset no longer runs an affected version it becomes `resolved`
 * with the reason; it becomes `open` again if an affected version comes
 * back. A finding is never deleted (it is the record of what was seen).
 *
 * Handle: struct db_vuln keeps this file's prepared statements over a
 * borrowed struct db (one connection, one thread). Close it with
 * db_vuln_close before db_close (SQLite refuses to close a connection
 * with live statements). Writes join the caller's transaction when one is
 * open (db_begin ... db_commit), else each is its own.
 *
 * Ownership: structs passed in are borrowed for the call. Rows handed to a
 * callback point into SQLite's buffers and are valid during the call only;
 * a callback must not call the same db_vuln_*_each function again (the
 * statement is in use) but may call any other. Rows read into an output
 * struct (db_vuln_asset_get, db_vuln_triage_get, db_vuln_feed_get) own
 * their strings until the matching release / free.
 * Bounds: each walk stops after its limit (DB_VULN_MAX_WALK by default).
 */
#ifndef KOBAN_DB_VULN_H
#define KOBAN_DB_VULN_H

#include "lib/kb.h"
#include "store/db.h"

#define DB_VULN_MAX_WALK 100000000u /* rows one walk visits at most */

struct db_vuln;

/* A statement cache over db (borrowed; must outlive *out). *out is owned
 * by the caller: db_vuln_close. */
kb_err db_vuln_open(struct db *db, struct db_vuln **out);
void db_vuln_close(struct db_vuln *v);
/* The connection the handle uses (for db_begin / db_commit). */
struct db *db_vuln_db(struct db_vuln *v);

/* ---- advisories (written by feeds) ---- */

struct db_vuln_advisory {
    const char *id;        /* the OSV id */
    const char *group_key; /* the group's key when known (advidx), else NULL */
    const char *feed;      /* "nvd", "ghsa", "jvn", "osv", ...; may be NULL */
    int64_t modified;      /* the record's modified time (ms) */
    bool withdrawn;
    bool suspected;  /* database_specific.koban.match == "suspected" */
    const char *osv; /* the OSV JSON text */
    size_t osv_len;
};

/* Inserts or replaces the advisory with a->id. */
kb_err db_vuln_advisory_put(struct db_vuln *v, const struct db_vuln_advisory *a, int64_t now);
/* Sets the group key of the advisory id (no change when it is absent). */
kb_err db_vuln_advisory_set_group(struct db_vuln *v, const char *id, const char *group_key);
/* Calls fn for every advisory (withdrawn ones too), in id order. */
typedef kb_err (*db_vuln_advisory_fn)(void *ctx, const struct db_vuln_advisory *a);
kb_err db_vuln_advisory_each(struct db_vuln *v, db_vuln_advisory_fn fn, void *ctx);
/* The advisory with this id; KB_ENOTFOUND when there is none. */
kb_err db_vuln_advisory_get(struct db_vuln *v, const char *id, db_vuln_advisory_fn fn, void *ctx);
/* How many advisories are stored. */
kb_err db_vuln_advisory_count(struct db_vuln *v, int64_t *n);

/* ---- feed state (written by feeds) ---- */

/* *value (malloc'd, the caller frees) or KB_ENOTFOUND. */
kb_err db_vuln_feed_get(struct db_vuln *v, const char *feed, const char *key, char **value);
/* Sets the value; value NULL removes the key (feed.h's state_set). */
kb_err db_vuln_feed_set(struct db_vuln *v, const char *feed, const char *key, const char *value);

/* ---- CISA KEV (written by the KEV feed) ---- */

kb_err db_vuln_kev_put(struct db_vuln *v, const char *cve, int64_t date_added, bool ransomware);
/* Deletes every entry (a new catalog replaces the old one: clear and put
 * in one transaction). */
kb_err db_vuln_kev_clear(struct db_vuln *v);
/* *found false (and the others untouched) when cve is not listed. Any
 * output but found may be NULL. */
kb_err db_vuln_kev_get(struct db_vuln *v, const char *cve, bool *found, int64_t *date_added,
                       bool *ransomware);

/* ---- FIRST EPSS (written by the EPSS feed) ---- */

/* Inserts or replaces the score of cve (score and percentile in [0, 1],
 * date the file's score date in ms; KB_EINVAL otherwise). */
kb_err db_vuln_epss_put(struct db_vuln *v, const char *cve, double score, double percentile,
                        int64_t date);
/* Deletes every score (a new file replaces the old one: clear and put in
 * one transaction). */
kb_err db_vuln_epss_clear(struct db_vuln *v);
/* *found false (and the others untouched) when cve has no score. Any
 * output but found may be NULL. */
kb_err db_vuln_epss_get(struct db_vuln *v, const char *cve, bool *found, double *score,
                        double *percentile, int64_t *date);

/* ---- assets and packages (written by the engine) ---- */

enum db_vuln_asset_kind { DB_VULN_HOST = 0, DB_VULN_REPOSITORY = 1 };
/* "host", "repository"; "?" out of range. */
const char *db_vuln_asset_kind_name(int kind);
/* Those names; KB_EINVAL otherwise. */
kb_err db_vuln_asset_kind_parse(const char *s, int *out);

struct db_vuln_asset {
    const char *name;
    int kind;           /* enum db_vuln_asset_kind */
    const char *labels; /* JSON object text ({"internet_facing":"true"}); NULL = {} */
    int64_t updated;
};
/* Inserts or updates the asset (its packages stay). */
kb_err db_vuln_asset_put(struct db_vuln *v, const struct db_vuln_asset *a);
/* The asset into *out (strings malloc'd: db_vuln_asset_release), or
 * KB_ENOTFOUND. */
kb_err db_vuln_asset_get(struct db_vuln *v, const char *name, struct db_vuln_asset *out);
void db_vuln_asset_release(struct db_vuln_asset *a);
typedef kb_err (*db_vuln_asset_fn)(void *ctx, const struct db_vuln_asset *a);
/* Every asset, by name. */
kb_err db_vuln_asset_each(struct db_vuln *v, db_vuln_asset_fn fn, void *ctx);

struct db_vuln_package {
    const char *asset;
    const char *source; /* the inventory it came from ("dpkg:/var/lib/dpkg/status"); may be NULL */
    const char *ecosystem; /* OSV spelling, release after ':' when known */
    const char *name;
    const char *version;
    const char *location; /* may be NULL */
    const char *srcpkg;   /* the distribution's source package as the inventory
                             wrote it (dpkg Source, apk origin); may be NULL */
};
/* Deletes every package of the asset. */
kb_err db_vuln_packages_clear(struct db_vuln *v, const char *asset);
kb_err db_vuln_package_add(struct db_vuln *v, const struct db_vuln_package *p);
typedef kb_err (*db_vuln_package_fn)(void *ctx, const struct db_vuln_package *p);
/* The packages of one asset (asset non-NULL) or of all, in insertion
 * order; with ecosystem and name also given, only those of that package. */
kb_err db_vuln_package_each(struct db_vuln *v, const char *asset, const char *ecosystem,
                            const char *name, db_vuln_package_fn fn, void *ctx);
/* Every package named `name` (exact) on any asset, by asset. */
kb_err db_vuln_package_find(struct db_vuln *v, const char *name, db_vuln_package_fn fn, void *ctx);

/* ---- findings (written by the engine) ---- */

enum db_vuln_state { DB_VULN_OPEN = 0, DB_VULN_RESOLVED = 1 };
/* "open", "resolved". */
const char *db_vuln_state_name(int state);

struct db_vuln_finding {
    const char *group_key; /* the advisory group (a CVE id when it has one) */
    const char *asset, *ecosystem, *package;
    const char *installed; /* the affected version the asset runs (or ran) */
    const char *fixed;     /* the version that fixes it, NULL when none */
    int severity;          /* enum kb_severity */
    double cvss;           /* base score, or -1 without a vector */
    bool kev, suspected;
    int state; /* enum db_vuln_state */
    int64_t first_seen, changed;
    const char *reason; /* why it last changed ("new advisory", "upgraded: ...") */
};
/* Inserts or replaces the finding with its key (group_key, asset,
 * ecosystem, package). */
kb_err db_vuln_finding_put(struct db_vuln *v, const struct db_vuln_finding *f);

struct db_vuln_finding_filter {
    const char *asset;     /* NULL: any */
    const char *ecosystem; /* with asset and package: that package only */
    const char *package;
    const char *group_key; /* NULL: any */
    int state;             /* -1: any */
    size_t limit;          /* 0: DB_VULN_MAX_WALK */
};
typedef kb_err (*db_vuln_finding_fn)(void *ctx, const struct db_vuln_finding *f);
/* Findings that pass the filter, by key. */
kb_err db_vuln_finding_each(struct db_vuln *v, const struct db_vuln_finding_filter *flt,
                            db_vuln_finding_fn fn, void *ctx);

/* ---- triage (written by people; the logic lives elsewhere) ---- */

enum db_vuln_triage_status {
    DB_VULN_NOT_AFFECTED = 0,
    DB_VULN_AFFECTED,
    DB_VULN_FIXED,
    DB_VULN_UNDER_INVESTIGATION,
    DB_VULN_TRIAGE_COUNT
};
/* "not_affected", "affected", "fixed", "under_investigation". */
const char *db_vuln_triage_status_name(int status);
kb_err db_vuln_triage_status_parse(const char *s, int *out);

struct db_vuln_triage {
    int status;                /* enum db_vuln_triage_status */
    const char *justification; /* OpenVEX justification; may be NULL */
    const char *note;          /* may be NULL */
    int64_t until;             /* ms; 0 = no expiry */
    const char *author;
    int64_t at;
};
/* Sets the triage of the finding key (group_key, asset, ecosystem,
 * package), replacing an earlier one. */
kb_err db_vuln_triage_set(struct db_vuln *v, const char *group_key, const char *asset,
                          const char *ecosystem, const char *package,
                          const struct db_vuln_triage *t);
/* The triage into *out (strings malloc'd: db_vuln_triage_release), or
 * KB_ENOTFOUND. */
kb_err db_vuln_triage_get(struct db_vuln *v, const char *group_key, const char *asset,
                          const char *ecosystem, const char *package, struct db_vuln_triage *out);
void db_vuln_triage_release(struct db_vuln_triage *t);
/* Every triage (of one asset when asset is non-NULL), by finding key. */
typedef kb_err (*db_vuln_triage_fn)(void *ctx, const char *group_key, const char *asset,
                                    const char *ecosystem, const char *package,
                                    const struct db_vuln_triage *t);
kb_err db_vuln_triage_each(struct db_vuln *v, const char *asset, db_vuln_triage_fn fn, void *ctx);

#endif
