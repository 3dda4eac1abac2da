/*
 * correlate.h — Sigma v2 correlation rules: parsing them from YAML and an
 * engine that turns a stream of base-rule matches into correlation alerts.
 *
 * A correlation rule (a YAML document with a `correlation:` key) names base
 * rules (by `name` or `id`), fields to group by, a timespan and a condition.
 * Types: event_count, value_count, value_sum, value_avg, temporal and
 * temporal_ordered. The user documentation, with the emission policy, is
 * docs/RULES-correlation.md; in short:
 *
 *   For each correlation rule and each group (the tuple of group-by values)
 *   koban keeps the matches of the last `timespan` of EVENT time. After each
 *   match it looks at the window ending at the group's newest event; the
 *   first time the condition holds it emits one alert and clears that
 *   group's window.
 *
 * Ownership:
 *   - corr_rule_from_yaml returns a rule the caller frees with
 *     corr_rule_free; every string in it is owned by the rule.
 *   - corr_engine_new borrows the rules (they must outlive the engine) and
 *     returns an engine the caller frees with corr_engine_free.
 *   - Everything handed to an emit callback (struct corr_alert and what it
 *     points to) is valid only during the call.
 * Thread safety: an engine is used by one thread at a time.
 */
#ifndef KOBAN_CORRELATE_H
#define KOBAN_CORRELATE_H

#include "lib/json.h"
#include "lib/kb.h"

#include <yaml.h>

/* Bounds on what a rule may declare (over them: a parse error). */
#define CORR_MAX_RULES 32                              /* entries of correlation.rules */
#define CORR_MAX_GROUP_BY 8                            /* entries of correlation.group-by */
#define CORR_MAX_ALIASES 16                            /* alias names in correlation.aliases */
#define CORR_MAX_TEXT 256                              /* bytes of a title, name, id, field name */
#define CORR_MAX_TIMESPAN_MS (30LL * 24 * 3600 * 1000) /* 30 days */
#define CORR_MAX_CHAIN 4 /* depth of correlations fed by correlations */

enum corr_type {
    CORR_EVENT_COUNT = 0, /* number of matches */
    CORR_VALUE_COUNT,     /* number of distinct values of condition.field */
    CORR_VALUE_SUM,       /* sum of the numeric condition.field */
    CORR_VALUE_AVG,       /* average of the numeric condition.field */
    CORR_TEMPORAL,        /* number of distinct listed rules seen */
    CORR_TEMPORAL_ORDERED /* listed rules seen in the listed order */
};

enum corr_op { CORR_GT = 0, CORR_GTE, CORR_LT, CORR_LTE, CORR_EQ, CORR_NEQ, CORR_OP_COUNT };

/* One criterion of the condition; all criteria must hold (a range is
 * `gt: 100` and `lte: 200`). */
struct corr_cond {
    enum corr_op op;
    double value;
};

/* One alias: in events matched by rules[i], the alias name stands for
 * fields[i]. */
struct corr_alias {
    char *name;
    char **rules;  /* base-rule names (or ids) */
    char **fields; /* the field name in that rule's events */
    size_t n;
};

/* One parsed correlation rule. Callers read it; only corr_yaml.c writes it.
 * Owner: the caller of corr_rule_from_yaml (corr_rule_free). */
struct corr_rule {
    char *file;    /* the file it came from, for messages */
    unsigned line; /* line of the document's root mapping */
    char *title;   /* required */
    char *id;      /* NULL when absent */
    char *name;    /* NULL when absent; other correlations may refer to it */
    char *level;   /* "informational".."critical"; NULL when absent */
    char *status;  /* NULL when absent */
    enum corr_type type;
    char **rules; /* referenced rule names or ids, 1..CORR_MAX_RULES */
    size_t nrules;
    char **group_by; /* 0..CORR_MAX_GROUP_BY field (or alias) names */
    size_t ngroup_by;
    int64_t timespan_ms; /* 1 s .. CORR_MAX_TIMESPAN_MS */
    struct corr_cond conds[CORR_OP_COUNT];
    size_t nconds; /* temporal types without a condition: gte nrules */
    char *field;   /* value_count/value_sum/value_avg: condition.field */
    struct corr_alias *aliases;
    size_t naliases;
    bool generate; /* also alert on the referenced rules themselves */
};

/* Builds a correlation rule from root, the mapping of one YAML document that
 * has a `correlation:` key. `file` is used in messages only. Errors
 * (KB_EINVAL, KB_ETOOBIG) say "FILE:LINE: key: reason", e.g.
 * "a.yml:9: correlation.timespan: expected a number and s, m, h or d". */
kb_err corr_rule_from_yaml(yaml_document_t *doc, yaml_node_t *root, const char *file,
                           struct corr_rule **out, struct kb_why *why);
void corr_rule_free(struct corr_rule *r);

/* "event_count", ...; "?" out of range. */
const char *corr_type_name(enum corr_type t);
/* True when every criterion of r's condition holds for v. */
bool corr_cond_holds(const struct corr_rule *r, double v);

/* ---- the engine ---- */

struct corr_limits {
    uint32_t max_groups;   /* live groups per rule; 0 = 10,000; over it the least
                              recently updated group is evicted */
    uint32_t max_entries;  /* matches kept per group; 0 = 1,024; over it the
                              oldest is dropped */
    uint32_t max_evidence; /* events listed in an alert; 0 = 32 */
    uint32_t max_value;    /* bytes of one group-by value; 0 = 1,024 */
};

/* Counters since corr_engine_new, summed over rules. */
struct corr_stats {
    uint64_t matches;         /* matches added to a group window */
    uint64_t alerts;          /* alerts emitted */
    uint64_t groups;          /* live groups now */
    uint64_t evicted;         /* groups dropped because of max_groups */
    uint64_t expired;         /* groups dropped because their window ended */
    uint64_t entries_dropped; /* matches dropped because of max_entries */
    uint64_t late;            /* matches older than their group's window: ignored */
    uint64_t no_group;        /* matches ignored: a group-by value missing,
                                 not a scalar or over max_value */
    uint64_t no_value;        /* value_* matches ignored: condition.field missing
                                 (or not a number for value_sum/value_avg) */
};

/* One event that contributed to an alert. */
struct corr_evidence {
    uint64_t ref;    /* the caller's reference for the event (e.g. journal seq) */
    int64_t time_ms; /* its event time */
};

/* What an emit callback receives. */
struct corr_alert {
    const struct corr_rule *rule;
    const struct kb_str *group; /* ngroup values, in rule->group_by order */
    size_t ngroup;
    double value;                         /* the count, distinct count, sum, average or
                                             number of rules seen that met the condition */
    int64_t first_ms;                     /* window start: oldest event in the window */
    int64_t last_ms;                      /* window end: the group's newest event */
    size_t nevents;                       /* events in the window */
    const struct corr_evidence *evidence; /* the newest nevidence of them, oldest first */
    size_t nevidence;                     /* <= max_evidence */
    unsigned depth;                       /* 0; n when fed by a chained correlation */
};

/* Looks a field up in an event (exact key first, then dot path, as the
 * detection engine does). len is the name's length; name is NUL-terminated. */
typedef const struct json_value *(*corr_field_fn)(const struct json_value *ev, const char *name,
                                                  size_t len, void *ctx);
/* Receives an alert. A non-KB_OK return stops corr_feed and is passed back. */
typedef kb_err (*corr_emit_fn)(void *ctx, const struct corr_alert *a);

/* One base-rule match, as the caller feeds it. */
struct corr_match {
    const char *rule_name;          /* the matching rule's name; may be NULL */
    const char *rule_id;            /* its id; may be NULL */
    int64_t time_ms;                /* the event's time (not the wall clock) */
    uint64_t ref;                   /* the caller's reference for the event */
    const struct json_value *event; /* the event (group-by and field lookups) */
};

struct corr_engine;

/* Makes an engine for rules[0..n). KB_EINVAL when a rule cannot run within
 * the limits (e.g. event_count gte 5000 with max_entries 1024). */
kb_err corr_engine_new(struct corr_rule *const *rules, size_t n, const struct corr_limits *lim,
                       struct corr_engine **out, struct kb_why *why);
void corr_engine_free(struct corr_engine *e);

/* Feeds one base-rule match to every correlation rule that refers to the
 * match's name or id, calling emit for each alert (and feeding alerts of
 * correlation rules that other correlation rules refer to, up to
 * CORR_MAX_CHAIN deep). `field` and `ctx` are passed to the lookups, `emit`
 * and `ctx` to the alerts. Returns KB_OK or what emit returned. */
kb_err corr_feed(struct corr_engine *e, const struct corr_match *m, corr_field_fn field,
                 corr_emit_fn emit, void *ctx);

/* True when some rule of the engine refers to this name or id: a caller can
 * skip building a match for rules nobody correlates. */
bool corr_engine_wants(const struct corr_engine *e, const char *rule_name, const char *rule_id);

void corr_engine_stats(const struct corr_engine *e, struct corr_stats *out);

#endif
