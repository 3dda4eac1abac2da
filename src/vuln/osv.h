/*
 * osv.h — OSV advisories (https://ossf.github.io/osv-schema/): reading one
 * record, deciding whether a package version is affected, and grouping
 * records that describe the same vulnerability.
 *
 * Files: osv.c parses, osv_range.c evaluates (osv_affects and the ecosystem
 * and name rules), osv_group.c groups by aliases.
 *
 * Parsing (osv_parse) checks what the schema says a record must be and
 * names the field on failure: "affected[2].ranges[0].events[1]: more than
 * one key". Refused: a missing or non-string id, a missing or malformed
 * modified; a field of the wrong JSON type; an event object without
 * exactly one of introduced / fixed / last_affected / limit; a range with
 * no introduced event, or with both fixed and last_affected events; a GIT
 * range without repo; a package without ecosystem or name; a NUL byte in
 * any kept string. Accepted and kept: range types other than SEMVER,
 * ECOSYSTEM and GIT (OSV_RANGE_OTHER, never evaluable), an affected entry
 * without package (osv.dev writes such entries for GIT-only ranges; they
 * match no package), unknown fields (ignored: newer schema versions only
 * add fields).
 *
 * Bounds: the record text (OSV_MAX_BYTES), every array (OSV_MAX_ITEMS
 * elements), every string (OSV_MAX_STRING bytes) except details, which is
 * cut at OSV_MAX_DETAILS bytes on a UTF-8 boundary (details_cut says so);
 * database_specific and ecosystem_specific are kept as their raw JSON text
 * only up to OSV_MAX_RAW bytes (NULL beyond).
 *
 * Ownership: a struct osv_record owns everything it points to, in its own
 * arena; osv_record_release frees that (the struct stays), osv_record_free
 * also frees a record osv_parse allocated. The input text is borrowed for
 * the call only. osv_affects and osv_group borrow records: what they hand
 * back points into the records, which must outlive it. struct osv_groups
 * owns its arrays (osv_groups_release).
 */
#ifndef KOBAN_OSV_H
#define KOBAN_OSV_H

#include "lib/arena.h"
#include "lib/kb.h"

#define OSV_MAX_BYTES (4u * 1024 * 1024) /* one record's JSON text */
#define OSV_MAX_ITEMS 10000              /* elements of any one array */
#define OSV_MAX_STRING 4096              /* any kept string but details */
#define OSV_MAX_DETAILS (64u * 1024)     /* details kept (cut beyond) */
#define OSV_MAX_RAW (16u * 1024)         /* *_specific raw JSON kept */
#define OSV_MAX_DEPTH 32                 /* JSON nesting */

enum osv_event_kind {
    OSV_EV_INTRODUCED = 0, /* "0" means before every version */
    OSV_EV_FIXED,          /* first version without the vulnerability */
    OSV_EV_LAST_AFFECTED,  /* last version with it (inclusive) */
    OSV_EV_LIMIT,          /* upper bound of the range; a value with '*' is infinity */
};

struct osv_event {
    enum osv_event_kind kind;
    const char *value;
};

enum osv_range_type {
    OSV_RANGE_SEMVER = 0, /* SemVer 2.0 precedence, whatever the ecosystem */
    OSV_RANGE_ECOSYSTEM,  /* the ecosystem's own ordering (version.h) */
    OSV_RANGE_GIT,        /* commit hashes: not comparable with a version */
    OSV_RANGE_OTHER,      /* a type this schema version does not define */
};

struct osv_range {
    enum osv_range_type type;
    const char *type_name; /* as written ("SEMVER", ...) */
    const char *repo;      /* NULL when absent (required for GIT) */
    struct osv_event *events;
    size_t nevents;
};

struct osv_package {
    const char *ecosystem; /* "Debian:12", "PyPI", ...; NULL when the entry has no package */
    const char *name;
    const char *purl; /* NULL when absent */
};

struct osv_severity {
    const char *type;  /* "CVSS_V3", "CVSS_V4", ... */
    const char *score; /* the vector string, as written */
};

struct osv_reference {
    const char *type; /* "ADVISORY", "FIX", "WEB", ... */
    const char *url;
};

struct osv_affected {
    struct osv_package package;
    struct osv_range *ranges;
    size_t nranges;
    const char **versions; /* listed affected versions, exact strings */
    size_t nversions;
    struct osv_severity *severity;
    size_t nseverity;
    const char *ecosystem_specific; /* raw JSON text, or NULL (absent or over OSV_MAX_RAW) */
    const char *database_specific;  /* same */
};

struct osv_record {
    const char *id;
    const char *schema_version; /* NULL when absent (means 1.0.0) */
    int64_t modified_ms;        /* required */
    int64_t published_ms;       /* 0 when absent */
    int64_t withdrawn_ms;       /* 0 when absent */
    bool withdrawn;             /* the record has a withdrawn time */
    const char **aliases;       /* same vulnerability elsewhere: grouped transitively */
    size_t naliases;
    const char **upstream; /* the vulnerabilities this one derives from: not grouped */
    size_t nupstream;
    const char **related; /* similar but different: not grouped */
    size_t nrelated;
    const char *summary; /* NULL when absent */
    const char *details; /* NULL when absent; at most OSV_MAX_DETAILS bytes */
    bool details_cut;
    struct osv_severity *severity;
    size_t nseverity;
    struct osv_affected *affected;
    size_t naffected;
    struct osv_reference *references;
    size_t nreferences;
    const char *database_specific; /* raw JSON text, or NULL */
    struct arena arena;            /* owns all of the above */
};

/* Parses one OSV record from text[0..len) into *r (which the caller
 * provides; any previous content is not freed). On failure *r holds
 * nothing to release, and why names the field ("affected[0].package:
 * missing 'name'"). KB_EPARSE for JSON that does not parse, KB_EINVAL for
 * a record the schema refuses, KB_ETOOBIG past a bound. */
kb_err osv_parse_into(const char *text, size_t len, struct osv_record *r, struct kb_why *why);

/* The same into a record allocated here; free it with osv_record_free. */
kb_err osv_parse(const char *text, size_t len, struct osv_record **out, struct kb_why *why);

/* Frees what the record owns; the struct can be parsed into again. */
void osv_record_release(struct osv_record *r);
/* Releases and frees a record from osv_parse. NULL is ignored. */
void osv_record_free(struct osv_record *r);

/* ---- evaluation (osv_range.c) ---- */

enum osv_verdict {
    OSV_NOT_AFFECTED = 0,
    OSV_AFFECTED,     /* exactly: inside a range, or listed in versions */
    OSV_NOT_EVALUABLE /* the package matches, but a range could not be decided:
                         no ordering for the ecosystem, a version the ordering
                         refuses, or the record scoped to a release the caller
                         did not name; why says which */
};

#define OSV_NO_INDEX ((size_t)-1)

struct osv_match {
    enum osv_verdict verdict;
    size_t affected_index;      /* the affected[] entry that decided, or OSV_NO_INDEX */
    size_t range_index;         /* its ranges[] entry that decided, or OSV_NO_INDEX
                                   (listed in versions, or not affected) */
    bool in_versions;           /* the version is listed in that entry's versions */
    bool release_assumed;       /* the record names a release ("Debian:12") and the
                                   caller's ecosystem none ("Debian") */
    const char *fixed;          /* the smallest fixed version above the version in the
                                   matching range (or, when matched by versions, in any
                                   comparable range of the entry); NULL when none */
    const char *last_affected;  /* the range ends with last_affected at or above
                                   the version and has no fix: that value; else NULL */
    const char *ecosystem_used; /* ordering used: "semver", "debian", ...; NULL */
};

/* Whether `version` of `package` in `ecosystem` (an OSV ecosystem name,
 * with a release after ':' when known: "Debian:12") is affected by r, as
 * the OSV specification's evaluation says: a version is affected when it
 * is listed in an entry's versions (exact string) or lies in one of its
 * ranges. In a range, events are taken in version order ("0" introduced
 * first, equal versions in the record's order) and the last event at or
 * below the version decides: introduced makes it affected, fixed makes it
 * not (so fixed is exclusive), last_affected makes versions above it not
 * (inclusive); with limit events, only versions below some limit are in
 * the range. SEMVER ranges use SemVer ordering whatever the ecosystem
 * (koban's SemVer ordering also reads a leading 'v', as Go writes
 * versions; spec-conforming values order the same); ECOSYSTEM ranges the
 * ecosystem's (version_eco_parse); GIT ranges are skipped and the versions
 * list decides alone.
 *
 * Ecosystems: the names before ':' must be equal (case-sensitive, as OSV
 * spells them). A record without a release ("Debian") applies to every
 * release; a record with one ("Debian:12", "Ubuntu:22.04:LTS", "Red
 * Hat:rhel_e4s:9.2::appstream") only to the same text after the first
 * ':'. When the caller names no release and the record does, the entry is
 * still evaluated, but an affected answer becomes OSV_NOT_EVALUABLE with
 * release_assumed set: whether the asset runs that release is unknown.
 * Names: exact, except PyPI (PEP 503: lowercase, runs of '-', '_', '.'
 * as one '-') and NuGet, Packagist and crates.io (ASCII case-insensitive;
 * crates.io also takes '-' and '_' as equal), whose registries treat names
 * so. For distributions (Debian, Ubuntu, Alpine, RPM-based), OSV names the
 * source package: pass that.
 *
 * The first affected entry that says affected decides; else the first
 * that could not be evaluated; else OSV_NOT_AFFECTED. Returns KB_EINVAL
 * only for a missing argument or an empty version; otherwise KB_OK with
 * out (required) filled, and why (optional) saying which entry and range
 * decided, or why it could not be evaluated. */
kb_err osv_affects(const struct osv_record *r, const char *ecosystem, const char *package,
                   const char *version, struct osv_match *out, struct kb_why *why);

/* Whether an OSV package (ecosystem, name) names the caller's; *release_assumed
 * as in osv_affects. Used by osv_affects; exposed for indexes. */
bool osv_package_matches(const char *rec_ecosystem, const char *rec_name, const char *ecosystem,
                         const char *package, bool *release_assumed);

/* PEP 503 normalization of a PyPI name into out (at most outsz-1 bytes,
 * truncated beyond). */
void osv_pypi_normalize(const char *name, char *out, size_t outsz);

/* ---- alias groups (osv_group.c) ---- */

#define OSV_GROUP_MAX_RECORDS 4000000 /* records per call */

enum osv_drop {
    OSV_KEPT = 0,
    OSV_DROP_WITHDRAWN,  /* the record (the newest of its id) is withdrawn */
    OSV_DROP_SUPERSEDED, /* another record with the same id has a later modified
                            (or the same, and comes later in the input) */
};

struct osv_group {
    const char *key; /* the first "CVE-" id of the group in byte order (records
                        and the aliases they name), else its smallest record id;
                        borrowed from a record */
    size_t *members; /* indexes into the input, ordered by id */
    size_t n;
};

struct osv_groups {
    struct osv_group *groups; /* ordered by key */
    size_t n;
    size_t *group_of;    /* per input record: its group, or OSV_NO_INDEX when dropped */
    enum osv_drop *drop; /* per input record */
    size_t nwithdrawn, nsuperseded;
    size_t *members_store; /* backing store of every group's members */
};

/* Groups records[0..n) that describe the same vulnerability: the newest
 * record of each id is kept (later modified wins), withdrawn ones are
 * dropped, and records are joined transitively through their ids and
 * aliases (aliases are symmetric and transitive in OSV: A aliases B and C
 * aliases B puts A, B and C together, even when no record of B is given;
 * cycles are harmless). upstream and related never join groups. *out is
 * owned by the caller (osv_groups_release; nothing to release on
 * failure). KB_EINVAL for a NULL record, KB_ETOOBIG past
 * OSV_GROUP_MAX_RECORDS records or 64 Mi ids and aliases in all. */
kb_err osv_group(const struct osv_record *const *records, size_t n, struct osv_groups *out,
                 struct kb_why *why);
void osv_groups_release(struct osv_groups *g);

#endif
