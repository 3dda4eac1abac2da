/*
 * feed_util.h — what the feed converters (feed_nvd.c, feed_ghsa.c,
 * feed_jvn.c, feed_kev.c) share: typed member lookups that name the field
 * on failure, times, CPE names, the "CPE" affected entries, the
 * database_specific.koban object and the hand-off of a finished record.
 *
 * Internal to the vuln module; the public contract is feed_convert.h.
 *
 * Ownership: struct feed_rec owns its output buffer and its string lists
 * (feed_rec_release). Everything else borrows.
 */
#ifndef KOBAN_FEED_UTIL_H
#define KOBAN_FEED_UTIL_H

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "vuln/feed_convert.h"
#include "vuln/osv.h"

#define FEED_MAX_DEPTH 32          /* JSON nesting accepted in a body */
#define FEED_MAX_RECORDS 100000    /* records handled in one body */
#define FEED_SUMMARY_MAX 1024      /* bytes of summary (the whole text goes to details) */
#define FEED_KOBAN_CPE_BYTES 8192  /* CPE names listed in database_specific.koban */
#define FEED_TEXT_MAX 4096         /* versions_text and similar free text */
#define FEED_NAME_MAX 512          /* a CPE vendor:product */
#define FEED_VERSION_MAX 256       /* a version string */

/* A list of distinct strings (duplicates are dropped), bounded in count
 * and in bytes: past either, further strings are counted in `more`. */
struct feed_strs {
    char **v;
    size_t n, cap, bytes;
    size_t max_n, max_bytes;
    size_t more;
};
void feed_strs_init(struct feed_strs *s, size_t max_n, size_t max_bytes);
void feed_strs_add(struct feed_strs *s, const char *p, size_t n);
bool feed_strs_has(const struct feed_strs *s, const char *p, size_t n);
void feed_strs_release(struct feed_strs *s);
/* Writes the list as a JSON array of strings. */
void feed_strs_write(struct jw *w, const struct feed_strs *s);

/* One record being converted: its text, and what database_specific.koban
 * will say. */
struct feed_rec {
    struct buf out;
    struct jw w;
    bool suspected;          /* match: "suspected" (else "exact") */
    struct feed_strs cpe;    /* CPE names the affected entries came from */
    struct feed_strs cwe;    /* "CWE-79", ... */
    struct feed_strs text;   /* versions as free text */
};
void feed_rec_init(struct feed_rec *r);
void feed_rec_release(struct feed_rec *r);
/* Writes "database_specific": {"koban": {feed, match, cpe, cwe,
 * versions_text}} with `extra_key`/`extra_val` added when both given. */
void feed_rec_koban(struct feed_rec *r, const char *feed, const char *extra_key,
                    const char *extra_val);
/* Closes the record, checks that it is within OSV_MAX_BYTES and that
 * osv_parse accepts it (why says why not: KB_EINVAL / KB_ETOOBIG), then
 * hands it to fn; *cb_failed tells a callback error from a refused record. */
kb_err feed_rec_emit(struct feed_rec *r, const char *id, feed_adv_fn fn, void *ctx,
                     bool *cb_failed, struct kb_why *why);

/* Parses a JSON body (size FEED_MAX_BODY, depth FEED_MAX_DEPTH) into a
 * DOM in a (which the caller initialises and releases). */
kb_err feed_json_parse(const char *body, size_t len, struct arena *a, struct json_value **root,
                       struct kb_why *why);

/* Typed lookups: a member that is absent or null gives KB_OK with an empty
 * result (or KB_EINVAL "<where>.<key>: missing" when required); a member of
 * another type gives KB_EINVAL "<where>.<key>: not a string". */
kb_err feed_str(const struct json_value *obj, const char *key, bool required, const char *where,
                struct kb_str *out, struct kb_why *why);
kb_err feed_arr(const struct json_value *obj, const char *key, const char *where,
                const struct json_value **out, struct kb_why *why);
kb_err feed_obj(const struct json_value *obj, const char *key, const char *where,
                const struct json_value **out, struct kb_why *why);

/* An ISO 8601 time into ms since the epoch. A time without a zone is UTC
 * (NVD writes them so). KB_EINVAL when malformed. */
kb_err feed_time(struct kb_str s, int64_t *ms);
/* "YYYY-MM-DD" (exactly) into ms at 00:00 UTC. */
kb_err feed_date(struct kb_str s, int64_t *ms);
/* Writes key: "2024-03-29T17:15:21.150Z". */
void feed_put_time(struct jw *w, const char *key, int64_t ms);
/* Writes "summary" (cut at FEED_SUMMARY_MAX bytes on a UTF-8 boundary,
 * line breaks as spaces) and "details" (whole) from one text. */
void feed_put_text(struct jw *w, struct kb_str s, bool with_details);

/* A CPE name, formatted string (2.3, "cpe:2.3:a:vendor:product:1.0:...")
 * or URI (2.2, "cpe:/a:vendor:product:1.0"): name is "vendor:product" in
 * lower case with 2.3's backslash escapes and 2.2's %xx decoded; version
 * is empty for "*", "-" and absent. */
struct feed_cpe {
    char part;
    char name[FEED_NAME_MAX];
    char version[FEED_VERSION_MAX];
};
kb_err feed_cpe_parse(struct kb_str s, struct feed_cpe *c, struct kb_why *why);

/* The bounds of a CPE range, NVD's versionStart/End{Including,Excluding};
 * empty slices when absent. */
struct feed_cpe_range {
    struct kb_str start_incl, start_excl, end_incl, end_excl;
};
/* Writes one affected entry with package {"CPE", c->name}: ranges from
 * rg, else versions [c->version], else nothing and r->suspected = true.
 * `criteria` goes to the entry's database_specific and to r->cpe. */
void feed_put_cpe_entry(struct feed_rec *r, const struct feed_cpe *c,
                        const struct feed_cpe_range *rg, struct kb_str criteria);

#endif
