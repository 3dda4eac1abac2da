/*
 * triage_impl.h — what the triage's files share (internal to src/ingest):
 * the loaded sets, the intake's evaluators, struct triage itself and the
 * load error sink. triage.c: new and free, the pipeline's evaluation (rules,
 * correlation, policies, fold or close) and the metrics; triage_load.c:
 * rule and policy files, loading the sets, reload; triage_eval.c: the
 * intake's stateless evaluators.
 */
#ifndef KOBAN_TRIAGE_IMPL_H
#define KOBAN_TRIAGE_IMPL_H

#include "ingest/triage.h"

#include "formats/format.h"
#include "rules/policy.h"

#include <pthread.h>
#include <stdatomic.h>

/* One loaded generation of rules and policies; swapped whole on reload. */
struct triage_sets {
    struct sigma_ruleset *rs;    /* NULL when no rule loaded */
    struct corr_engine *corr;    /* NULL when no correlation loaded */
    struct policy_set *ps;       /* NULL when no policy loaded */
    bool all_sources;            /* a rule or policy applies to every source */
    bool applies[256];           /* by format id */
    size_t nrules, ncorr, npolicies;
    /* Base rules that only feed correlations (referenced by one with
     * `generate: false`, Sigma's default): sorted, for bsearch. */
    const struct sigma_rule **quiet;
    size_t nquiet;
};

/* A private copy of the sets for one intake thread at a time (the Sigma
 * and policy engines keep scratch in their sets). */
struct triage_eval {
    struct triage_sets *sets;    /* NULL until loaded */
    uint64_t gen;                /* generation it was loaded for */
    bool valid;                  /* loaded from the files of that generation */
    bool busy;
    const char **rule_identity[256]; /* borrowed from the triage */
    struct policy_state st;      /* no state: tells when a policy wants it */
    struct buf jrules, jpolicies, jlabels, jannot;
};

struct triage {
    struct triage_opts o;        /* strings owned */
    /* Generation of the sets in use: 1 at load, +1 per reload that took.
     * gen_sig is the files' signature it was loaded from. Written by the
     * pipeline thread under pool_mu; intake threads read them there. */
    uint64_t gen, gen_sig;
    pthread_mutex_t pool_mu;
    struct triage_eval pool[TRIAGE_EVALUATORS];
    struct triage_sets *sets;
    struct geoip *geo;           /* NULL without o.geoip_db */
    struct policy_memstate *mem; /* occurrences; survives reloads */
    struct policy_state mem_st;  /* its callbacks */
    struct policy_state st;      /* wrapper: no recording during a replay */
    /* identity of rule alerts per format id: the format's names + rule.id */
    const char **rule_identity[256];
    uint64_t seen_max, fresh_from;
    bool replaying;
    struct buf jrules, jpolicies, jlabels, jannot, text;
    uint64_t sig;                /* signature of the files at the last load */
    int64_t polled_ns;
    atomic_bool reload_asked;
    _Atomic uint64_t n_rules, n_corr, n_policies, matches, corr_alerts, closes,
        closes_unknown, muted, reloads, reload_failures, countries;
};

struct loader {
    triage_error_fn on_error;
    void *ctx;
    size_t nerrors;
};

/* Loading (triage_load.c). */
/* A cheap signature of the rule and policy files: names, sizes and
 * modification times. */
uint64_t triage_files_signature(const struct triage_opts *o);
/* Loads the rules and policies of o; errors go to l. Never NULL. */
struct triage_sets *triage_sets_load(const struct triage_opts *o, struct loader *l);
void triage_sets_free(struct triage_sets *s);
/* The counts of t->sets into the gauges. */
void triage_publish_counts(struct triage *t);
/* Orders pointers by address (the quiet rules, for qsort and bsearch). */
int triage_cmp_ptr(const void *a, const void *b);

/* The pipeline's evaluation (triage.c), shared with the evaluators. */
static inline bool triage_sets_apply(const struct triage_sets *s, const char *source)
{
    if (!s->rs && !s->ps)
        return false;
    if (s->all_sources)
        return true;
    const struct format *f = source ? format_by_name(source) : NULL;
    return !f || s->applies[f->id];
}

/* What a policy result says, as the JSON texts an issue records, written
 * into the three buffers; *it points into them. */
void triage_texts(const struct policy_result *res, const char *rules_json,
                  struct buf *jp, struct buf *jl, struct buf *ja, struct issue_triage *it);
/* ["rule id"] into b; NULL when there is no rule (or no room). */
const char *triage_rules_text(struct buf *b, const char *rule_id);

/* An evaluator's buffers (triage_eval.c), at triage_new and triage_free. */
void triage_evaluator_init(struct triage *t, struct triage_eval *ev);
void triage_evaluator_release(struct triage_eval *ev);

#endif
