/*
 * formats_internal.h — what the format files share inside src/formats:
 * the format tables the registry (format.c) lists, and small helpers
 * (fmt_common.c) for reading loosely typed JSON into an alert.
 *
 * Helper conventions: a "path" is a json_path() dotted path. Getters never
 * fail: a missing member or a member of an unexpected type reads as
 * KB_STR_NULL (missing fields are normal in every source). Helpers that
 * build strings allocate them in the arena the normalizer was given and
 * return KB_ETOOBIG when the arena limit is reached.
 */
#ifndef KOBAN_FORMATS_INTERNAL_H
#define KOBAN_FORMATS_INTERNAL_H

#include "formats/format.h"

/* The formats, in registry (id) order. */
extern const struct format format_generic;      /* 1 */
extern const struct format format_guardduty;    /* 2 */
extern const struct format format_scc;          /* 3 */
extern const struct format format_cloudtrail;   /* 4 */
extern const struct format format_gcp_audit;    /* 5 */
extern const struct format format_wazuh;        /* 6 */
extern const struct format format_falco;        /* 7 */
extern const struct format format_alertmanager; /* 8 */
extern const struct format format_syslog;       /* 9, fmt_syslog.c */
extern const struct format format_report;       /* 10 */
extern const struct format format_vuln;         /* 11, fmt_vuln.c */

/* NULL-safe lookups: json_get()/json_path() that accept a NULL or
 * non-object v (and then return NULL). */
const struct json_value *fmt_get(const struct json_value *v, const char *key);
const struct json_value *fmt_path(const struct json_value *v, const char *path);

/* The string at path under v; KB_STR_NULL if absent or not a string. */
struct kb_str fmt_str(const struct json_value *v, const char *path);

/* fmt_str() of the member of v named by a string literal without dots:
 * the name's length is known when compiling, so no path is scanned (the
 * CloudTrail normalizer reads some forty members per event). */
#define FMT_MEMBER(v, lit) json_str(json_getn((v), "" lit, sizeof(lit) - 1))

/* A member name for fmt_members(), with its length. */
struct fmt_key {
    const char *name;
    size_t len;
};
#define FMT_KEY(s) {"" s, sizeof(s) - 1}
#define FMT_MEMBERS_MAX 64

/* Finds the members of obj named keys[0..n) in one pass over its members
 * (a normalizer that reads twenty members of a record would otherwise scan
 * the member list twenty times): out[i] is the first member named
 * keys[i].name, as json_getn() would return it, or NULL. All NULL when obj
 * is not an object. n is at most FMT_MEMBERS_MAX. */
void fmt_members(const struct json_value *obj, const struct fmt_key *keys, size_t n,
                 const struct json_value **out);

/* Where a DOM's numbers can be read as written. The DOM may have been
 * parsed from raw itself or from a larger payload raw is a slice of (the
 * splitter parses a whole array and hands out elements): value offsets are
 * relative to that input, so they are rebased on the root's. */
struct fmt_src {
    struct kb_str raw;
    size_t root_off; /* input offset of raw's first byte; SIZE_MAX = unusable */
};
struct fmt_src fmt_src(const struct json_value *root, struct kb_str raw);

/* A scalar as text: a string as-is; a number as written in the source
 * ("8.0"), or printed into the arena when the source does not hold it;
 * true/false as "true"/"false". KB_STR_NULL otherwise. */
struct kb_str fmt_text(const struct json_value *v, const struct fmt_src *src, struct arena *a);
/* fmt_text() of the value at path. */
struct kb_str fmt_text_at(const struct json_value *root, const char *path,
                          const struct fmt_src *src, struct arena *a);

/* The first of keys (NULL-terminated, exact member names, no paths) whose
 * value under obj is a non-empty string. */
struct kb_str fmt_first_str(const struct json_value *obj, const char *const *keys);

/* The object/array at path, or NULL if absent or of another type. */
const struct json_value *fmt_obj(const struct json_value *v, const char *path);
const struct json_value *fmt_arr(const struct json_value *v, const char *path);

/* Requires a non-empty string member `key` of obj; otherwise KB_EINVAL with
 * why = "<fmt>: field '<key>' missing" or "... is not a string". `where` is
 * the printed field name (may differ from key, e.g. "finding.category"). */
kb_err fmt_need_str(const struct json_value *obj, const char *key, const char *fmt,
                    const char *where, struct kb_str *out, struct kb_why *why);
/* fmt_need_str() of a member already found (v, NULL when absent). */
kb_err fmt_need_str_of(const struct json_value *v, const char *fmt, const char *where,
                       struct kb_str *out, struct kb_why *why);

/* printf into the arena: *out is the result. KB_ETOOBIG past the limit. */
kb_err fmt_printf(struct arena *a, struct kb_str *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The concatenation of n pieces, NUL-terminated, in the arena (the common
 * "a:b" and "x by y (z)" texts without printf's cost, which showed in
 * profiles of CloudTrail ingest). KB_ETOOBIG past the limit. */
kb_err fmt_join(struct arena *a, struct kb_str *out, const struct kb_str *parts, size_t n);
#define FMT_JOIN(a, out, ...)                                                        \
    fmt_join((a), (out), (const struct kb_str[]){__VA_ARGS__},                      \
             sizeof((const struct kb_str[]){__VA_ARGS__}) / sizeof(struct kb_str))

/* A copy of the NUL-terminated name in the arena (for dynamic field names). */
const char *fmt_name(struct arena *a, const char *prefix, struct kb_str key);

/* Parses an RFC 3339 timestamp. Also accepts a timestamp without a zone
 * ("2025-02-25 20:40:06.721", as some exporters write GuardDuty times),
 * read as UTC. False (and *ms untouched) when unusable. */
bool fmt_time(struct kb_str s, int64_t *ms);
/* A time given as an RFC 3339 string, or as epoch seconds or milliseconds
 * (number or digit string; values above 1e11 are milliseconds). */
bool fmt_time_value(const struct json_value *v, int64_t *ms);

/* Severity of a 0..10 score with GuardDuty's bands: 0 none, under 4 low,
 * under 7 medium, under 9 high, else critical. */
int fmt_sev_score10(double score);
/* Severity of a free-form name: the koban names plus syslog/common words
 * (emerg/alert/crit/fatal -> critical, err/error -> high, warn/warning ->
 * medium, notice/low -> low, info/debug -> none). -1 when unknown. */
int fmt_sev_word(struct kb_str s);

/* Case-insensitive equality of a slice and a C string. */
bool fmt_str_ieq(struct kb_str s, const char *lit);

#endif
