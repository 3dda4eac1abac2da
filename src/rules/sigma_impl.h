/*
 * sigma_impl.h — the Sigma engine's internal types, shared by sigma_*.c only.
 *
 * A rule compiles into:
 *   selections (detection identifiers), each an OR of alternatives;
 *   an alternative is an AND of items (one `field|modifiers: values` pair,
 *   or a keyword list with no field);
 *   an item holds compiled values (struct sv): OR over them, or with `all`
 *   AND over the YAML values (`group`), each value OR over its variants
 *   (windash, expand and base64offset make several variants of one value);
 *   a condition tree over the selections.
 * Everything is allocated from the ruleset's arena except PCRE2 codes, which
 * the ruleset keeps in a list and frees (sigma_load.c).
 */
#ifndef KOBAN_SIGMA_IMPL_H
#define KOBAN_SIGMA_IMPL_H

#include "lib/arena.h"
#include "rules/sigma.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

enum sv_kind {
    SV_STR = 0,  /* string pattern: how, cased, s/n or segs */
    SV_NUM,      /* YAML number: numeric equality, or a JSON string equal to its text (s) */
    SV_NULL,     /* field absent or JSON null */
    SV_BOOL,     /* JSON true/false, or the string "true"/"false" */
    SV_EXISTS,   /* field present (b) or absent (!b) */
    SV_RE,       /* PCRE2 search */
    SV_CIDR,     /* IP address inside fam/addr/bits */
    SV_CMP,      /* numeric op against num */
    SV_TIME,     /* a part of a timestamp, op against num */
    SV_FIELDREF, /* equal (how, cased) to another field's value: s/n, alt */
};

enum sv_how { H_EXACT = 0, H_PREFIX, H_SUFFIX, H_CONTAINS, H_GLOB };
enum sv_op { OP_EQ = 0, OP_LT, OP_LTE, OP_GT, OP_GTE };
enum sv_part { TP_MINUTE = 0, TP_HOUR, TP_DAY, TP_WEEK, TP_MONTH, TP_YEAR };
enum gseg_type { G_LIT = 0, G_STAR, G_ONE };

/* One piece of a wildcard pattern. */
struct gseg {
    uint8_t type; /* enum gseg_type */
    uint32_t n;   /* G_LIT: bytes */
    const char *s;
};

/* One compiled value. */
struct sv {
    uint8_t kind; /* enum sv_kind */
    uint8_t how;  /* enum sv_how */
    uint8_t op;   /* enum sv_op */
    uint8_t part; /* enum sv_part */
    bool cased;
    bool b;
    uint32_t group; /* which YAML value of the item it came from */
    const char *s;  /* needle (lowercased unless cased), or fieldref name */
    uint32_t n;
    const char *alt; /* fieldref: mapped name, or NULL */
    uint32_t alt_n;
    const struct gseg *segs; /* H_GLOB */
    uint32_t nsegs;
    double num;
    pcre2_code *re;
    uint8_t fam; /* 4 or 6 */
    uint8_t bits;
    uint8_t addr[16];
    /* SV_RE: a literal every match contains (ASCII, lowercased), or NULL;
     * the indexed path skips PCRE2 when the text lacks it (sv_re_literal) */
    const char *re_lit;
    uint32_t re_lit_n;
};

/* field|modifiers: values — or a keyword list when field is NULL. */
struct sitem {
    const char *field;
    uint32_t field_n;
    const char *alt; /* the field-mapped name, or NULL */
    uint32_t alt_n;
    bool all;        /* AND over groups */
    bool neq;        /* present and none of the values */
    uint32_t ngroups;
    struct sv *vals;
    uint32_t nvals;
};

struct salt {
    struct sitem *items; /* AND */
    uint32_t n;
};

struct ssel {
    const char *name;
    struct salt *alts; /* OR */
    uint32_t n;
};

enum cop { C_SEL = 0, C_NOT, C_AND, C_OR };

struct cnode {
    uint8_t op;  /* enum cop */
    uint32_t a;  /* C_SEL: selection; C_NOT: child node; C_AND/C_OR: first kid index */
    uint32_t n;  /* C_AND/C_OR: number of kids */
};

/* Mutable per-ruleset state reachable from const rules: the PCRE2 match
 * block and counters. One thread at a time (see sigma.h). */
struct sigma_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    struct sigma_stats stats;
};

struct sigma_rule {
    struct sigma_scratch *sc;
    const char *file;
    unsigned line;
    const char *title, *id, *name, *status, *description, *level;
    const char *product, *service, *category;
    const char *source; /* koban source, "*" (no logsource) or NULL (none) */
    int severity;
    const char **tags, **falsepositives, **fields;
    size_t ntags, nfalsepositives, nfields;
    struct ssel *sels;
    uint32_t nsels;
    struct cnode *nodes;
    uint32_t *kids;
    uint32_t root;
};

/* What compiling one document needs. */
struct sctx {
    struct sigma_ruleset *rs;
    yaml_document_t *doc;
    const char *file;
    const char *source; /* the rule's koban source (field mapping) */
    struct kb_why *why;
    uint32_t nvalues;   /* compiled values so far (SIGMA_MAX_VALUES) */
};

/* ---- sigma_load.c ---- */
kb_err sigma_err(struct sctx *c, const yaml_node_t *at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Zeroed arena memory; NULL past the ruleset's arena limit. */
void *sigma_alloc(struct sctx *c, size_t n);
char *sigma_strndup(struct sctx *c, const char *s, size_t n);
/* Hands a compiled regex to the ruleset, which frees it. */
void sigma_keep_code(struct sctx *c, pcre2_code *code);
const struct sigma_placeholder *sigma_placeholder(const struct sigma_ruleset *rs,
                                                  const char *name, size_t n);

/* ---- sigma_map.c ---- */
/* The event field a Sigma field maps to for `source`, or NULL. A prefix
 * mapping writes the result into buf. */
const char *sigma_map_field(const struct sigma_field_map *caller, size_t ncaller, bool defaults,
                            const char *source, const char *field, size_t n, char *buf,
                            size_t bufsz);
const char *sigma_map_logsource(const struct sigma_logsource_map *caller, size_t ncaller,
                                bool defaults, const char *product, const char *service,
                                const char *category);
/* The field mapping of a ruleset, copied into the arena; NULL when the
 * field is not mapped (or the arena is full). */
const char *sigma_rs_field(struct sctx *c, const char *field, size_t n, uint32_t *outn);

/* ---- sigma_detect.c ---- */
kb_err sigma_compile_detection(struct sctx *c, yaml_node_t *det, struct sigma_rule *r);

/* ---- sigma_value.c ---- */
/* A growable list of byte strings (kb_malloc'd), for value variants. */
struct strvec {
    char **s;
    size_t *n;
    size_t len, cap;
};
void strvec_push(struct strvec *v, const char *s, size_t n);
void strvec_release(struct strvec *v);

/* Replaces %name% placeholders: each value of in expands into out. */
kb_err sv_expand(struct sctx *c, const yaml_node_t *at, const char *key, const struct strvec *in,
                 struct strvec *out);
/* windash variants of each value. */
void sv_windash(const struct strvec *in, struct strvec *out);
/* Sigma-unescapes a value (\* \? \\ → literal) for encodings. */
void sv_unescape(const char *s, size_t n, struct strvec *out);
void sv_utf16(const struct strvec *in, int mode, struct strvec *out); /* 0 le, 1 be, 2 bom+le */
void sv_base64(const struct strvec *in, bool offsets, struct strvec *out);
/* Compiles one string into a pattern value: literal (from encodings) or
 * with Sigma wildcards; pos is 0, H_PREFIX (startswith), H_SUFFIX or
 * H_CONTAINS. Fills v->how, s/n or segs. */
kb_err sv_pattern(struct sctx *c, struct sv *v, const char *s, size_t n, bool literal, int pos,
                  bool cased);
/* Parses "10.0.0.0/8" or "fe80::/10" into v. */
bool sv_parse_cidr(struct sv *v, const char *s, size_t n);
/* The longest run of ASCII characters every match of the PCRE2 pattern
 * p[0..n) must contain, lowercased into out (at most outsz - 1 bytes);
 * *outn 0 when none can be proven (alternation at the top, escapes or
 * options it does not read, ...). `caseless`: the pattern has the i flag. */
void sv_re_literal(const char *p, size_t n, bool caseless, char *out, size_t outsz,
                   size_t *outn);

/* ---- sigma_cond.c ---- */
kb_err sigma_compile_condition(struct sctx *c, yaml_node_t *cond, struct sigma_rule *r);

/* ---- sigma_match.c ---- */
bool sigma_eval(const struct sigma_rule *r, const struct sigma_event *ev, bool *limited);
/* sigma_eval with the regex literal prefilter (sv.re_lit): the same answer,
 * used by the indexed sigma_match_all. */
bool sigma_eval_prefiltered(const struct sigma_rule *r, const struct sigma_event *ev,
                            bool *limited);
/* A scalar's text as rules compare it: strings as they are, numbers as
 * written in the event (or formatted into buf), true/false; false for
 * null, arrays and objects. */
bool sigma_scalar_text(const struct sigma_event *ev, const struct json_value *v, char *buf,
                       size_t bufsz, struct kb_str *out);

/* ---- sigma_index.c ----
 * Which rules an event can match, from the values and fields each rule
 * requires (docs/RULES.md, "Performance"). Owned by the ruleset; rules are
 * added in load order; matching uses the index's bitmaps as scratch (one
 * thread at a time, like the rest of the ruleset). */
struct sigma_index;
struct sigma_index *sigma_index_new(void);
void sigma_index_free(struct sigma_index *ix);
void sigma_index_add(struct sigma_index *ix, const struct sigma_rule *r);
kb_err sigma_index_match(struct sigma_index *ix, const char *source,
                         const struct sigma_event *ev, sigma_match_fn cb, void *ctx);
/* Glob match, exported for the tests through sigma_match only. */
bool sigma_glob(const struct gseg *g, uint32_t ng, const char *t, size_t tn, bool cased);

#endif
