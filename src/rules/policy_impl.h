/*
 * policy_impl.h — the triage-policy library's internal types, shared by
 * policy_*.c only. A policy compiles into the struct below; every string
 * and array lives in the set's arena, the detection in the set's Sigma
 * ruleset.
 */
#ifndef KOBAN_POLICY_IMPL_H
#define KOBAN_POLICY_IMPL_H

#include "lib/arena.h"
#include "rules/policy.h"
#include "rules/sigma.h"

#include <yaml.h>

enum sev_op {
    SEV_KEEP = 0, /* no action */
    SEV_SET,      /* severity = value */
    SEV_RAISE,    /* severity + value, at most critical */
    SEV_LOWER,    /* severity - value, at least none */
    SEV_MAP,      /* rows: field text (case-insensitive) -> severity */
    SEV_BANDS,    /* bands: field number in [min, max) -> severity */
};

struct sev_row {
    const char *key;
    size_t keylen;
    int sev;
};

struct sev_band {
    double min, max; /* -inf / +inf when absent */
    int sev;
};

/* One severity action (`severity:`, `first_only:`, `escalate.severity:`). */
struct sev_action {
    uint8_t op;       /* enum sev_op */
    int value;        /* SEV_SET: severity; RAISE/LOWER: steps */
    const char *from; /* SEV_MAP/BANDS: the field read */
    size_t fromlen;
    int def; /* SEV_MAP/BANDS: when nothing fits; -1 = unchanged */
    struct sev_row *rows;
    uint32_t nrows;
    struct sev_band *bands;
    uint32_t nbands;
};

struct policy_cidr {
    const char **fields; /* paths; arrays along them are searched */
    size_t *fieldlens;
    uint32_t nfields;
    int min, max; /* prefix length, inclusive */
    int family;   /* 0 any, 4, 6 */
};

struct policy {
    const char *id, *title, *file;
    unsigned line;
    uint32_t index;       /* position in the set */
    const char **sources; /* prefilter; NULL = every source */
    uint32_t nsources;
    const struct sigma_rule *rule; /* NULL = no detection: matches */
    bool has_cidr;
    struct policy_cidr cidr;
    struct sev_action sev;
    struct sev_action first_only;
    bool has_escalate;
    uint32_t esc_after;
    int64_t esc_within_ms; /* 0 = cumulative */
    struct sev_action esc;
    const char **identity; /* NULL-terminated, or NULL */
    struct policy_label *labels;
    uint32_t nlabels;
    struct policy_annotation *annotations;
    uint32_t nannotations;
    bool has_mute;
    const char *mute_reason;
    int64_t mute_until_ms; /* 0 = never expires */
    bool has_close;
    const char *close_reason;
    const char **close_identity; /* NULL = the result's identity */
    bool stop;
};

/* The evaluation scratch: the alert view handed to Sigma (root object plus
 * one member per alert field and `raw`) and the matched list. */
#define POLICY_VIEW_MAX (16 + ALERT_MAX_FIELDS + 1)

struct policy_scratch {
    struct json_value view[1 + POLICY_VIEW_MAX];
    const struct policy **matched; /* capacity: the number of policies */
};

struct policy_set {
    struct arena arena;          /* policies and their strings */
    struct sigma_ruleset *rules; /* detections */
    struct policy **pol;
    size_t npol, cappol;
    char **errors; /* kb_malloc'd */
    size_t nerrors, caperrors;
    struct policy_scratch sc;
};

/* ---- policy_yaml.c: libyaml helpers and the detection emitter ---- */
yaml_node_t *py_get(yaml_document_t *doc, const yaml_node_t *map, const char *key);
const char *py_cstr(const yaml_node_t *n); /* NULL when not a scalar */
unsigned py_line(const yaml_node_t *n);
/* Writes a Sigma rule document {title, detection: <det>} as YAML text into
 * out (scalar styles kept, aliases expanded, bounded). */
kb_err py_emit_rule(yaml_document_t *doc, yaml_node_t *det, const char *title, struct buf *out,
                    struct kb_why *why);

/* ---- policy_load.c ---- */
#define POLICY_ARENA_LIMIT ((size_t)256 << 20) /* all policies of a set */
/* Compiles one document into a policy appended to ps. KB_EINVAL (why:
 * "FILE:LINE: policy 'ID': KEY: reason") when refused; KB_ETOOBIG past
 * POLICY_MAX_POLICIES. */
kb_err policy_load_doc(struct policy_set *ps, yaml_document_t *doc, yaml_node_t *root,
                       const char *file, struct kb_why *why);

#endif
