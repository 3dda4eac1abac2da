/*
 * sigma.h — koban's Sigma (v2) detection engine: loading rules from YAML and
 * matching them against parsed JSON events.
 *
 * What is supported, and the choices koban made where Sigma leaves room, is
 * written down for users in docs/RULES.md ("Detection", "Logsource and field
 * mapping"). In short: every value modifier of the Sigma 2.1 modifier
 * appendix, the whole condition grammar, keyword lists, null values, and a
 * logsource → koban source table with per-source field mappings.
 *
 * Life cycle:
 *   struct sigma_ruleset *rs;
 *   sigma_ruleset_new(NULL, &rs, &why);            // default tables
 *   sigma_load_file("rules/x.yml", rs, &n, &why);  // as many files as wanted
 *   sigma_match_all(rs, "cloudtrail", &ev, on_match, ctx);
 *   sigma_ruleset_free(rs);
 *
 * Ownership:
 *   - The ruleset owns every rule, every correlation rule, every compiled
 *     value and regex and every load error message; all of it is freed by
 *     sigma_ruleset_free. Pointers returned by accessors live as long as the
 *     ruleset.
 *   - The tables in struct sigma_options are copied by sigma_ruleset_new;
 *     the caller may free them afterwards.
 *   - An event (struct sigma_event) is borrowed for the duration of a call.
 *
 * Thread safety: loading and matching use the ruleset's scratch (a PCRE2
 * match block), so one ruleset is used by one thread at a time. Several
 * threads each load their own ruleset.
 *
 * Matching never allocates beyond that bounded scratch: needles are
 * lowercased, regexes compiled, CIDRs parsed and base64 variants built when a
 * rule is loaded.
 */
#ifndef KOBAN_SIGMA_H
#define KOBAN_SIGMA_H

#include "lib/json.h"
#include "lib/kb.h"

/* Bounds (over them a rule is refused with a clear error). */
#define SIGMA_MAX_FILE_BYTES (4u * 1024 * 1024) /* one YAML file */
#define SIGMA_MAX_DOCS 256                      /* YAML documents in one file */
#define SIGMA_MAX_SELECTIONS 64                 /* detection identifiers of a rule */
#define SIGMA_MAX_VALUES 16384                  /* compiled values of one rule */
#define SIGMA_MAX_VARIANTS 512                  /* values one YAML value may expand to
                                                   (windash, expand, base64offset) */
#define SIGMA_MAX_COND_NODES 512                /* nodes of a compiled condition */
#define SIGMA_MAX_COND_DEPTH 32                 /* nesting of parentheses / not */
#define SIGMA_MAX_TEXT 65536                    /* bytes of one value or title */
#define SIGMA_MAX_ERRORS 10000                  /* error messages kept per ruleset */

struct sigma_ruleset;
struct sigma_rule;
struct corr_rule;

/* One row of the logsource table: a rule whose logsource has every non-NULL
 * member of the row (compared case-insensitively) runs on events of `source`
 * (a koban format name, see src/formats/format.c). The first matching row
 * wins; `source` NULL in a row means "no koban source" (the rule loads but
 * never runs from sigma_match_all). */
struct sigma_logsource_map {
    const char *product;
    const char *service;
    const char *category;
    const char *source;
};

/* One field mapping: in events of `source`, the Sigma field `sigma_field` is
 * looked up as `event_field` (after the name as written was not found).
 * `source` NULL applies to every source. */
struct sigma_field_map {
    const char *source;
    const char *sigma_field;
    const char *event_field;
};

/* One placeholder for the `expand` modifier: `%name%` (name written without
 * the percent signs here) stands for each of values[0..nvalues). */
struct sigma_placeholder {
    const char *name;
    const char *const *values;
    size_t nvalues;
};

/* Options of a ruleset; a zeroed struct (or NULL) means the defaults. */
struct sigma_options {
    /* Consulted before the default tables (documented in docs/RULES.md);
     * with no_default_* set, the defaults are not consulted at all. */
    const struct sigma_logsource_map *logsources;
    size_t nlogsources;
    bool no_default_logsources;
    const struct sigma_field_map *fields;
    size_t nfields;
    bool no_default_fields;
    const struct sigma_placeholder *placeholders;
    size_t nplaceholders;
    /* PCRE2 limits for `re` (pcre2_set_match_limit, _depth_limit,
     * _heap_limit); 0 means the default in brackets. */
    uint32_t re_match_limit; /* [100000] */
    uint32_t re_depth_limit; /* [1000] */
    uint32_t re_heap_kib;    /* [1024] */
};

/* Creates an empty ruleset. opt may be NULL (defaults). Copies the option
 * tables. KB_EINVAL when a table row is malformed (a NULL name or field).
 * The caller frees *out with sigma_ruleset_free. */
kb_err sigma_ruleset_new(const struct sigma_options *opt, struct sigma_ruleset **out,
                         struct kb_why *why);
void sigma_ruleset_free(struct sigma_ruleset *rs);

/* Loads every YAML document of a file into rs: base rules (compiled at
 * once) and correlation rules (documents with a `correlation:` key, built by
 * corr_rule_from_yaml). A bad document does not stop the others: each error
 * is kept in the ruleset ("FILE:LINE: KEY: reason", see sigma_ruleset_error)
 * and the good documents load. *nloaded (may be NULL) receives the number of
 * documents loaded from this file.
 * Returns KB_OK when every document loaded; KB_EINVAL when at least one was
 * refused (why: the first error and how many there were); KB_EIO when the
 * file cannot be read; KB_ETOOBIG over SIGMA_MAX_FILE_BYTES; KB_EPARSE on a
 * YAML syntax error (documents before it stay loaded). */
kb_err sigma_load_file(const char *path, struct sigma_ruleset *rs, size_t *nloaded,
                       struct kb_why *why);
/* The same for YAML text in memory; `name` stands for the file in messages.
 * The buffer is not kept. */
kb_err sigma_load_buffer(const char *text, size_t len, const char *name, struct sigma_ruleset *rs,
                         size_t *nloaded, struct kb_why *why);

/* Load errors kept so far (at most SIGMA_MAX_ERRORS; the count goes on). */
size_t sigma_ruleset_nerrors(const struct sigma_ruleset *rs);
/* The i-th error message, or NULL past the kept ones. */
const char *sigma_ruleset_error(const struct sigma_ruleset *rs, size_t i);

/* Base rules loaded, and the i-th (NULL past the end), in load order. */
size_t sigma_ruleset_count(const struct sigma_ruleset *rs);
const struct sigma_rule *sigma_ruleset_rule(const struct sigma_ruleset *rs, size_t i);
/* Finds a base rule by id or name; NULL when absent. */
const struct sigma_rule *sigma_ruleset_find(const struct sigma_ruleset *rs, const char *id_or_name);
/* Correlation rules loaded, for corr_engine_new. */
size_t sigma_ruleset_ncorrelations(const struct sigma_ruleset *rs);
struct corr_rule *const *sigma_ruleset_correlations(const struct sigma_ruleset *rs);

/* ---- one rule (all strings owned by the ruleset; NULL when absent) ---- */
const char *sigma_rule_id(const struct sigma_rule *r);
const char *sigma_rule_name(const struct sigma_rule *r);
const char *sigma_rule_title(const struct sigma_rule *r);
const char *sigma_rule_status(const struct sigma_rule *r);
const char *sigma_rule_description(const struct sigma_rule *r);
/* The level as written ("high"); NULL when absent. */
const char *sigma_rule_level(const struct sigma_rule *r);
/* The koban severity (enum kb_severity): informational → none, low,
 * medium, high, critical; an absent level is medium. */
int sigma_rule_severity(const struct sigma_rule *r);
/* logsource members as written; NULL when absent. */
const char *sigma_rule_product(const struct sigma_rule *r);
const char *sigma_rule_service(const struct sigma_rule *r);
const char *sigma_rule_category(const struct sigma_rule *r);
/* The koban source the logsource maps to; NULL when it maps to none.
 * A rule without a logsource maps to "*" and runs for every source. */
const char *sigma_rule_source(const struct sigma_rule *r);
/* The file and line of the rule's document. */
const char *sigma_rule_file(const struct sigma_rule *r);
unsigned sigma_rule_line(const struct sigma_rule *r);
/* String lists: tags, falsepositives, fields. *n receives the count. */
const char *const *sigma_rule_tags(const struct sigma_rule *r, size_t *n);
const char *const *sigma_rule_falsepositives(const struct sigma_rule *r, size_t *n);
const char *const *sigma_rule_fields(const struct sigma_rule *r, size_t *n);

/* ---- matching ---- */

/* An event as rules see it: the parsed JSON tree and the text it was
 * parsed from (numbers are compared by their text). `text` may be NULL when
 * unknown; numbers are then formatted from their value. */
struct sigma_event {
    const struct json_value *root;
    const char *text;
    size_t len;
};

/* Evaluates one rule on one event: *matched is set. Returns KB_OK, or
 * KB_ETOOBIG when a regex hit its PCRE2 limit (that regex then counts as not
 * matching and *matched is still set). */
kb_err sigma_match(const struct sigma_rule *r, const struct sigma_event *ev, bool *matched);

/* Called for each matching rule. A non-KB_OK return stops sigma_match_all
 * and is passed back. */
typedef kb_err (*sigma_match_fn)(void *ctx, const struct sigma_rule *r,
                                 const struct sigma_event *ev);

/* Evaluates every rule whose logsource maps to `source` (a koban format
 * name; rules without a logsource run for every source) and calls cb for
 * each match, in load order. source NULL evaluates every rule. Returns
 * KB_OK or what cb returned; regex limit hits are counted (sigma_stats) and
 * do not stop the run.
 * An index built while loading skips the rules whose required values or
 * fields are absent from the event, and a regex whose required literal is
 * absent (docs/RULES.md, "Performance"); the matches are those of every
 * rule evaluated in turn. cb must not call sigma_match_all on the same
 * ruleset (the index's scratch is in use). */
kb_err sigma_match_all(const struct sigma_ruleset *rs, const char *source,
                       const struct sigma_event *ev, sigma_match_fn cb, void *ctx);
/* The same contract and the same matches, in the same order, computed the
 * plain way: every rule of the source evaluated in turn, with no index.
 * Kept as the reference the index is tested and benchmarked against
 * (docs/RULES.md, "Performance"). */
kb_err sigma_match_all_naive(const struct sigma_ruleset *rs, const char *source,
                             const struct sigma_event *ev, sigma_match_fn cb, void *ctx);

struct sigma_stats {
    uint64_t evaluated;  /* rule evaluations */
    uint64_t matched;    /* of which matched */
    uint64_t re_limited; /* regex evaluations stopped by a PCRE2 limit */
};
void sigma_ruleset_stats(const struct sigma_ruleset *rs, struct sigma_stats *out);

/* The koban source a logsource maps to with rs's tables ("cloudtrail"),
 * or NULL when none. Arguments may be NULL. */
const char *sigma_logsource_source(const struct sigma_ruleset *rs, const char *product,
                                   const char *service, const char *category);

/* Severity of a Sigma level name (case-insensitive); KB_EINVAL when unknown. */
kb_err sigma_level_severity(const char *level, int *sev);

#endif
