/*
 * cvss.h — CVSS vectors parsed and scored by koban itself, from FIRST's
 * specifications: an advisory's published number is never trusted, its
 * vector is.
 *
 *  - CVSS v3.1 (specification section 7) and v3.0: the base, temporal and
 *    environmental equations. v3.0 and v3.1 base equations differ only in
 *    Roundup: v3.1 uses the integer Roundup of its Appendix A, v3.0 the
 *    plain "smallest one-decimal number not below the input" (ceil of x*10),
 *    so a v3.0 score can be 0.1 higher where floating point lands just above
 *    a tenth. The v3.1 environmental equation also differs (exponent 13 and
 *    the 0.9731 factor in the changed-scope ModifiedImpact); both versions
 *    are computed exactly as their own specification says.
 *  - CVSS v4.0 (specification section 8): MacroVectors (EQ1..EQ6), the
 *    MacroVector score table of section 8.3, and the interpolation by
 *    severity distances. Threat and environmental metrics take part exactly
 *    as the method defines (E:X counts as E:A, CR/IR/AR:X as H, a modified
 *    metric replaces its base metric), so one routine gives CVSS-B, -BT, -BE
 *    and -BTE. Supplemental metrics are parsed and never scored.
 *
 * Vector syntax, as the specifications say:
 *  - the prefix "CVSS:3.0/", "CVSS:3.1/" or "CVSS:4.0/" is required (a CVSS
 *    v2 vector, which has none, is KB_EUNSUPPORTED);
 *  - every base metric is mandatory; the others are optional, and an absent
 *    one is Not Defined (X), which may also be written out;
 *  - no metric twice; names and values are case-sensitive;
 *  - v3.x: any order ("programs reading CVSS v3.1 vector strings must accept
 *    metrics in any order"); v4.0: only the order of the specification's
 *    Table 23 ("every other ordering is invalid") — CVSS_PARSE_ANY_ORDER
 *    relaxes that for feeds known to publish reordered v4.0 vectors.
 *
 * Scores are doubles holding one decimal (9.8 is the double nearest 9.8).
 *
 * Ownership: nothing here allocates; a struct cvss is a plain value the
 * caller owns (copy it freely). Bounded: vectors longer than
 * CVSS_MAX_VECTOR bytes are refused.
 */
#ifndef KOBAN_CVSS_H
#define KOBAN_CVSS_H

#include "lib/kb.h"

#define CVSS_MAX_VECTOR 512 /* bytes; the longest valid v4.0 vector is ~250 */
#define CVSS_MAX_METRICS 32 /* metrics of the largest version (v4.0) */

enum cvss_version {
    CVSS_V3_0 = 30,
    CVSS_V3_1 = 31,
    CVSS_V4_0 = 40,
};

/* A parsed vector. val[i] is for metric i of the version's table, in the
 * specification's order (v3.x Table 15, v4.0 Table 23): 0 when the metric
 * is absent, else 1 + the index of its value in that metric's list. Read
 * it through cvss_metric(); the layout is koban's own. */
struct cvss {
    enum cvss_version version;
    uint8_t val[CVSS_MAX_METRICS];
};

/* cvss_parse_n flags */
#define CVSS_PARSE_ANY_ORDER 0x01u /* accept v4.0 metrics in any order */

/* Parses vector (NUL-terminated) into *out, strictly as the specification
 * says (see above). Errors name the metric and why, e.g. "metric 'AV':
 * unknown value 'F' (one of N, A, L, P)", "missing mandatory metric 'VA'",
 * "metric 'E' given twice", "metric 'AV' after 'AC': CVSS 4.0 requires the
 * specification's order". Returns KB_EINVAL for a malformed vector,
 * KB_EUNSUPPORTED for another CVSS version (v2, "CVSS:3.2"), KB_ETOOBIG past
 * CVSS_MAX_VECTOR. *out is only written on success. */
kb_err cvss_parse(const char *vector, struct cvss *out, struct kb_why *why);

/* Same for vector[0..len) (no NUL needed) with CVSS_PARSE_* flags. */
kb_err cvss_parse_n(const char *vector, size_t len, unsigned flags, struct cvss *out,
                    struct kb_why *why);

/* The value of metric name ("AV", "MSI", "U") as written ("N", "Red"), "X"
 * for an absent optional metric, NULL when the version has no such metric. */
const char *cvss_metric(const struct cvss *c, const char *name);

/* The base score, 0.0 to 10.0: v3.x BaseScore; v4.0 CVSS-B (threat and
 * environmental metrics taken as Not Defined). */
double cvss_base_score(const struct cvss *c);

/* The score with every metric the vector gives: v3.x the EnvironmentalScore
 * when an environmental metric is defined (not X), else the TemporalScore
 * (equal to the base score when no temporal metric is defined); v4.0 the
 * score of the whole vector (CVSS-B, -BT, -BE or -BTE, see
 * cvss_nomenclature). */
double cvss_score(const struct cvss *c);

/* Which score cvss_score() gives, in the specification's words: v4.0
 * "CVSS-B", "CVSS-BT", "CVSS-BE" or "CVSS-BTE" after the metric groups the
 * vector defines (not X); v3.x "BaseScore", "TemporalScore" or
 * "EnvironmentalScore". */
const char *cvss_nomenclature(const struct cvss *c);

/* v4.0: the MacroVector of the whole vector as six digits EQ1..EQ6 and a
 * NUL ("001100"). KB_EINVAL for a v3.x vector. */
kb_err cvss_macrovector(const struct cvss *c, char out[7]);

/* The specification's qualitative rating of a score: "None" (0.0), "Low"
 * (0.1-3.9), "Medium" (4.0-6.9), "High" (7.0-8.9), "Critical" (9.0-10.0).
 * The score is first rounded to one decimal; below 0.1 or NaN is "None". */
const char *cvss_severity(double score);

/* The same rating as a koban severity (enum kb_severity of formats/alert.h:
 * KB_SEV_NONE 0 .. KB_SEV_CRITICAL 4). */
int cvss_koban_severity(double score);

/* The two Roundup functions, exposed for tests and explanation:
 * v3.1 Appendix A (integer arithmetic on input * 100000, so 4.000001 gives
 * 4.0) and v3.0 section 7 (ceil(input * 10) / 10, so 4.000001 gives 4.1). */
double cvss_roundup_v31(double x);
double cvss_roundup_v30(double x);

#endif
