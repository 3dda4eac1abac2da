/*
 * advisory_index.h — OSV advisories loaded, grouped and indexed by package,
 * so that an inventory row (ecosystem, name, version) finds the advisories
 * that affect it without scanning them all.
 *
 * Use: advidx_new, then advidx_add_text (one record's JSON) and/or
 * advidx_add_dir (a tree of *.json files) as often as needed, then
 * advidx_finish (groups the records with osv_group: withdrawn dropped, the
 * later modified wins, aliases joined) and advidx_match for each package.
 *
 * A finished index can change one record at a time (advidx_replace: a
 * feed's update) and list that record's findings across an asset index
 * (advidx_findings), without re-matching everything. Files:
 * advisory_index.c (load, group, match), advisory_index_update.c
 * (replace, findings), advisory_index_internal.h (their shared state).
 *
 * Index key: the ecosystem before ':' ("Debian" for "Debian:12") and the
 * package name normalized as osv_package_matches compares names (PyPI
 * PEP 503; crates.io case-insensitive with '-' = '_'; NuGet and Packagist
 * case-insensitive; every other ecosystem exact). The index only narrows
 * the candidates: osv_affects decides each one, so a release, a range or a
 * versions list is evaluated exactly as osv.h says.
 *
 * Severity of a record (advidx_hit.severity): the highest base score among
 * its CVSS vectors (the record's severity[] and its affected[].severity[],
 * types CVSS_V3 and CVSS_V4; v4.0 metrics accepted in any order, as GHSA
 * publishes them), computed here (cvss_base_score) and mapped with
 * cvss_koban_severity. Without a usable vector: database_specific.severity
 * (GHSA's LOW / MODERATE / HIGH / CRITICAL). Without either: medium, with
 * the note "no CVSS vector" — an advisory that says nothing of its
 * severity is neither dropped nor allowed to pass a CI gate set at low.
 *
 * Load errors: a file that cannot be read or a record osv_parse refuses is
 * kept as "FILE: why" (advidx_errors) and the load goes on; only a bound or
 * a missing directory stops it.
 *
 * Ownership: struct advidx owns every record, the groups, the index and
 * the messages; advidx_free frees them all. What advidx_match hands to the
 * callback points into the index and lives until advidx_free.
 * Bounds: ADVIDX_MAX_* below and struct advidx_limits. Not thread-safe
 * while loading; advidx_match on a finished index only reads.
 */
#ifndef KOBAN_ADVISORY_INDEX_H
#define KOBAN_ADVISORY_INDEX_H

#include "lib/kb.h"
#include "vuln/osv.h"

#define ADVIDX_MAX_RECORDS 4000000u /* = OSV_GROUP_MAX_RECORDS */
#define ADVIDX_MAX_ERRORS 1000u     /* messages kept (all are counted) */
#define ADVIDX_MAX_DEPTH 16         /* directory nesting under the root */

/* Bounds of advidx_add_dir; a zero field takes the default in brackets. */
struct advidx_limits {
    size_t max_files;       /* *.json files read [1,000,000] */
    size_t max_total_bytes; /* bytes read over all files [8 GiB] */
    size_t max_file_bytes;  /* one file [OSV_MAX_BYTES]; larger ones are load errors */
};

struct advidx;

/* One affected package version, handed to the advidx_match callback. */
struct advidx_hit {
    const struct osv_record *record;  /* the record that affects the version */
    const struct osv_match *match;    /* verdict OSV_AFFECTED; fixed version etc. */
    const char *group_key;            /* the group's key (osv_group: a CVE id when any) */
    const char *const *aliases;       /* every other id of the group, sorted */
    size_t naliases;
    int severity;                     /* enum kb_severity: 1 low .. 4 critical */
    double score;                     /* the CVSS base score used, or -1 */
    const char *severity_from;        /* "CVSS:3.1/...", "database_specific", "none" */
    const char *note;                 /* "no CVSS vector", or NULL */
};

/* Called for each hit; a non-KB_OK return stops advidx_match with it. */
typedef kb_err (*advidx_cb)(void *ctx, const struct advidx_hit *hit);

/* A new, empty index (*out owned by the caller: advidx_free). */
kb_err advidx_new(struct advidx **out);
void advidx_free(struct advidx *idx);

/* Parses one record's JSON (named `name` in errors). A record osv_parse
 * refuses is a load error ("NAME: why") and KB_OK is returned; KB_ETOOBIG
 * past ADVIDX_MAX_RECORDS, KB_EINVAL after advidx_finish. */
kb_err advidx_add_text(struct advidx *idx, const char *name, const char *text, size_t len,
                       struct kb_why *why);

/* Reads every regular *.json file under dir (recursively, in name order;
 * hidden entries skipped; symbolic links not followed), each through
 * advidx_add_text with its path as name. lim may be NULL (defaults).
 * KB_EIO when dir cannot be opened, KB_ETOOBIG past a bound (why says
 * which); unreadable files and subdirectories are load errors. */
kb_err advidx_add_dir(struct advidx *idx, const char *dir, const struct advidx_limits *lim,
                      struct kb_why *why);

/* Groups the records and builds the index; afterwards nothing can be
 * added. KB_ETOOBIG from osv_group's bounds. */
kb_err advidx_finish(struct advidx *idx, struct kb_why *why);

/* Load errors so far: advidx_errors gives the kept messages ("FILE: why")
 * and their count; *total (optional) counts them all. */
const char *const *advidx_errors(const struct advidx *idx, size_t *n, size_t *total);

/* Counts after advidx_finish: records read, kept (neither withdrawn nor
 * superseded), groups, and distinct (ecosystem, package) keys. */
struct advidx_stats {
    size_t records, kept, withdrawn, superseded, groups, keys;
};
void advidx_stats(const struct advidx *idx, struct advidx_stats *out);

/* Calls cb for every kept record that affects `version` of `name` in
 * `ecosystem` (OSV spelling, release after ':' when known), in load
 * order. *unsure (optional) receives how many candidate records could not
 * be decided (OSV_NOT_EVALUABLE: no ordering, a version the ordering
 * refuses, a release the caller did not name). KB_EINVAL before
 * advidx_finish or for a missing argument; else KB_OK or what cb returned. */
kb_err advidx_match(const struct advidx *idx, const char *ecosystem, const char *name,
                    const char *version, advidx_cb cb, void *ctx, size_t *unsure);

/* Replaces, in a finished index, the record whose id is that of the record
 * in text[0..len) with it (whatever its modified; appended when no kept
 * record has that id). Its group is recomputed with those of the ids and
 * aliases it shares: aliases added join groups, aliases removed may split
 * one; a withdrawn record is dropped and its findings disappear. The old
 * record is freed. *out (optional) is the kept record, NULL when it is
 * withdrawn. Errors: osv_parse's (the index unchanged), KB_EINVAL before
 * advidx_finish, KB_ETOOBIG past ADVIDX_MAX_RECORDS. Cost: the groups
 * involved and the record's packages, not the index. Memory of replaced
 * groups' alias lists and of new package keys is reclaimed at
 * advidx_free (keys) or at once (lists). */
kb_err advidx_replace(struct advidx *idx, const char *text, size_t len,
                      const struct osv_record **out, struct kb_why *why);

struct assetidx;
struct assetidx_entry;

/* Called for each finding of advidx_findings: the asset's package entry
 * (asset_index.h) and the hit, as advidx_match gives it. A non-KB_OK
 * return stops advidx_findings with it. */
typedef kb_err (*advidx_finding_cb)(void *ctx, const struct assetidx_entry *asset,
                                    const struct advidx_hit *hit);

/* Calls cb for every asset package that the kept record with this id
 * affects, looking up in `assets` only the packages its affected[] names
 * (each once). No kept record with that id (withdrawn, unknown): no call.
 * *unsure (optional) counts entries that could not be decided, as in
 * advidx_match. KB_EINVAL before advidx_finish or for a missing argument;
 * else KB_OK or what cb returned. */
kb_err advidx_findings(const struct advidx *idx, const char *id, const struct assetidx *assets,
                       advidx_finding_cb cb, void *ctx, size_t *unsure);

/* The index key of a package: "ECOSYSTEM-BASE:normalized-name" into out
 * (at most outsz-1 bytes; false when it does not fit). Exposed for tests. */
bool advidx_key(const char *ecosystem, const char *name, char *out, size_t outsz);

#endif
