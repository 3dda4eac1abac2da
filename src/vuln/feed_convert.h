/*
 * feed_convert.h — each advisory feed's native answer turned into koban's
 * advisory form: one OSV record (JSON text, schema 1.6) per advisory, so
 * that one parser (osv.h), one grouping and one index serve every feed.
 *
 * What a converted record carries beyond the OSV schema lives under the
 * record's "database_specific": {"koban": {...}}:
 *   "feed":  "nvd" | "jvn" | "ghsa" | "osv"          (where it came from)
 *   "match": "exact" | "suspected"  — "suspected" when the affected
 *            versions cannot be evaluated exactly (JVN's free-text
 *            versions; a CPE vendor/product without a version range).
 *            Such a record makes "suspected" findings that stay open until
 *            a person triages them.
 *   "cpe":   ["cpe:2.3:a:vendor:product:...", ...] the CPE criteria the
 *            affected entries were built from (NVD, JVN).
 *   "versions_text": "free text" (JVN: the affected versions as written).
 *
 * CPE-based affected entries use the pseudo-ecosystem "CPE" with the
 * package name "vendor:product" (lower case, as in the CPE), and ranges of
 * type "ECOSYSTEM" built from NVD's versionStart/End{Including,Excluding}:
 *   startIncluding -> introduced; endExcluding -> fixed;
 *   endIncluding -> last_affected; no start -> introduced "0";
 *   startExcluding -> introduced at that version plus the note
 *   "start_excluding" in the entry's database_specific (OSV has no
 *   exclusive start); an exact CPE version -> "versions": [v].
 * A CPE with version "*" or "-" and no range -> an entry with no ranges and
 * no versions, and the record's match is "suspected".
 *
 * Every function here is pure (no I/O): the fetchers (feed.h) and the
 * offline import hand them bodies they read. A callback returning an error
 * stops the walk and that error is returned. Errors name the record and the
 * field ("vulnerabilities[3].cve.metrics: not an object"); one bad record in
 * a page is reported through the skip callback (when given) and the others
 * are still converted.
 *
 * Ownership: the text handed to a callback is valid during the call only.
 * Inputs are borrowed. Bounds: bodies up to FEED_MAX_BODY; a converted
 * record up to OSV_MAX_BYTES.
 */
#ifndef KOBAN_FEED_CONVERT_H
#define KOBAN_FEED_CONVERT_H

#include "lib/kb.h"

#define FEED_MAX_BODY (256u * 1024 * 1024)

/* One converted advisory: id (e.g. "CVE-2024-3094"), its OSV JSON text. */
typedef kb_err (*feed_adv_fn)(void *ctx, const char *id, const char *osv_json, size_t len);
/* One record of the page that could not be converted, with why. */
typedef void (*feed_skip_fn)(void *ctx, const char *where, const char *why);

struct feed_page_info {
    int64_t total;        /* records the whole query has (NVD totalResults, JVN totalRes) */
    int64_t start;        /* index of this page's first record */
    int64_t count;        /* records on this page */
};

/* NVD CVE API 2.0: one page ({"resultsPerPage":..,"vulnerabilities":[..]})
 * or a single CVE object as the API nests it. CVSS vectors go to
 * severity[] (CVSS_V3 / CVSS_V4; v2 is ignored), CWE and references are
 * kept, affected entries come from configurations[].nodes[].cpeMatch with
 * vulnerable=true. Rejected CVEs ("vulnStatus":"Rejected") become
 * withdrawn records. */
kb_err feed_nvd_page(const char *body, size_t len, feed_adv_fn fn, feed_skip_fn skip, void *ctx,
                     struct feed_page_info *info, struct kb_why *why);

/* GitHub REST API global advisories (GET /advisories): a JSON array of
 * advisories in GitHub's format -> OSV (id GHSA-..., aliases from cve_id
 * and identifiers, vulnerabilities[] -> affected with ecosystem names
 * mapped to OSV's (pip->PyPI, npm, maven->Maven, rubygems->RubyGems,
 * nuget->NuGet, composer->Packagist, go->Go, rust->crates.io, pub->Pub,
 * erlang->Hex, swift->SwiftURL), vulnerable_version_range ("< 1.2.3",
 * ">= 1.0, < 1.2.3", "<= 2.0", "= 1.0") -> ECOSYSTEM ranges,
 * first_patched_version -> fixed, cvss_severities -> severity[],
 * withdrawn_at -> withdrawn). */
kb_err feed_ghsa_page(const char *body, size_t len, feed_adv_fn fn, feed_skip_fn skip, void *ctx,
                      struct kb_why *why);

/* One JVN id found in a MyJVN getVulnOverviewList answer, with its
 * modified time (ms since the epoch; 0 when absent). */
typedef kb_err (*feed_jvn_id_fn)(void *ctx, const char *jvndb_id, int64_t modified_ms);

/* MyJVN getVulnOverviewList (RSS 1.0 + status:Status with totalRes,
 * firstRes, totalResRet): the ids of this page and info. A status of
 * "1" (error) is an error with the API's message. */
kb_err feed_jvn_overview(const char *xml, size_t len, feed_jvn_id_fn fn, void *ctx,
                         struct feed_page_info *info, struct kb_why *why);

/* MyJVN getVulnDetailInfo (VULDEF-Document): each Vulinfo -> OSV (id
 * JVNDB-YYYY-NNNNNN, aliases from the CVE related items, CVSS v3 vectors,
 * affected from Affected/AffectedItem: CPE -> "CPE" entries, free-text
 * VersionNumber -> versions_text; match "suspected" unless every entry has
 * an exact version). */
kb_err feed_jvn_detail(const char *xml, size_t len, feed_adv_fn fn, feed_skip_fn skip, void *ctx,
                       struct kb_why *why);

/* One CISA KEV catalog entry. Strings valid during the call. */
struct feed_kev {
    const char *cve;           /* "CVE-2021-44228" */
    int64_t date_added_ms;     /* 0 when absent */
    int64_t due_date_ms;       /* 0 when absent */
    bool ransomware;           /* knownRansomwareCampaignUse == "Known" */
    const char *vendor, *product, *name; /* may be NULL */
};
typedef kb_err (*feed_kev_fn)(void *ctx, const struct feed_kev *k);

/* The CISA Known Exploited Vulnerabilities catalog (JSON:
 * {"catalogVersion":..,"vulnerabilities":[{"cveID":..}, ...]}). */
kb_err feed_kev_parse(const char *body, size_t len, feed_kev_fn fn, feed_skip_fn skip, void *ctx,
                      int64_t *count, struct kb_why *why);

#define FEED_EPSS_MAX_ROWS 2000000u /* rows of one EPSS file (about 300000 in 2026) */
#define FEED_EPSS_MAX_LINE 256      /* bytes of one row or of the comment line */

/* One FIRST EPSS score. cve is valid during the call. */
struct feed_epss {
    const char *cve;       /* "CVE-2021-44228" */
    double score;          /* probability of exploitation in 30 days, 0..1 */
    double percentile;     /* 0..1 */
    int64_t date_ms;       /* the file's score_date (ms, 00:00 UTC); 0 when absent */
};
typedef kb_err (*feed_epss_fn)(void *ctx, const struct feed_epss *s);

/* FIRST's daily EPSS scores (epss_scores-current.csv.gz), gzip-compressed
 * or plain (a UTF-8 BOM is skipped): an optional comment line
 * "#model_version:v2023.03.01,score_date:2024-03-01T00:00:00+0000", the
 * header "cve,epss,percentile", then one row per CVE. A row that is not
 * "CVE-id,score,percentile" with both numbers in [0, 1] is reported
 * through skip ("line N", why) and the others go on. The body is refused
 * (KB_EINVAL / KB_EPARSE) when it is not gzip or text with that header,
 * or a row is over FEED_EPSS_MAX_LINE bytes; KB_ETOOBIG past
 * FEED_MAX_BODY bytes decompressed or FEED_EPSS_MAX_ROWS rows. *count
 * (may be NULL) gets the rows handed to fn, *date_ms (may be NULL) the
 * score date. */
kb_err feed_epss_parse(const char *body, size_t len, feed_epss_fn fn, feed_skip_fn skip,
                       void *ctx, int64_t *count, int64_t *date_ms, struct kb_why *why);

#endif
