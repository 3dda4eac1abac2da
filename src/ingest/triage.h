/*
 * triage.h — detection and triage in the pipeline: the Sigma rules of
 * rules.dir, their correlations, and the triage policies (stock ones and
 * policies.dir), applied to each normalized alert before it folds into an
 * issue. docs/DESIGN.md ("Rules and policies in the pipeline") says why each
 * decision was taken; in short, per alert:
 *
 *   1. Sigma: every matching rule yields a derived alert (kind = rule id,
 *      title, severity = level, identity = the format's + rule.id); when at
 *      least one matched, they replace the plain alert. Each match is fed to
 *      the correlation engine, whose alerts become alerts too.
 *   2. Policies decide severity, identity, mute, close, labels and
 *      annotations; the alert folds into the issue of the policy's
 *      fingerprint, or closes the issue it names (and folds nowhere).
 *
 * Loading: a rule or policy that fails is reported (file:line: reason) and
 * the others load. Reload (triage_request_reload, or a change of the files,
 * polled every TRIAGE_POLL_MS) builds new sets beside the old ones: with any
 * error the old ones stay; otherwise they are swapped. The occurrence state
 * of policies survives a reload; correlation windows start afresh.
 *
 * Enrichment: with o.geoip_db, an alert with actor.ip and no actor.country
 * gets actor.country (ingest/geoip.h) before rules and policies see it. The
 * file is reopened on reload; a file that fails then keeps the old one.
 *
 * Ownership: triage_new returns an object freed by triage_free; it owns the
 * rule set, policy set, correlation engine and occurrence state. The sink's
 * folder, store and arena are borrowed for a call.
 * Thread safety: everything but triage_request_reload and triage_metrics
 * runs in one thread (the pipeline's); those two may be called from any.
 */
#ifndef KOBAN_TRIAGE_H
#define KOBAN_TRIAGE_H

#include "formats/alert.h"
#include "issues/issue.h"
#include "lib/buf.h"

#define TRIAGE_POLL_MS 3000         /* how often rule/policy files are checked */
#define TRIAGE_MAX_FILES 10000      /* rule or policy files in one folder tree */
#define TRIAGE_MAX_DEPTH 16         /* folder nesting under rules.dir */
#define TRIAGE_MAX_IDENTITIES 100000 /* identities the occurrence state keeps */

struct triage_opts {
    const char *rules_dir;    /* Sigma rules (recursive *.yml, *.yaml); NULL/"" = none */
    const char *rules_mapping;/* mapping file (rules/sigma_mapfile.h); NULL/"" = defaults */
    bool stock_policies;      /* load kb_stock_policies first */
    const char *policies_dir; /* more policies (*.yml, *.yaml); NULL/"" = none */
    size_t max_identities;    /* occurrence state; 0 = TRIAGE_MAX_IDENTITIES */
    bool no_watch;            /* do not poll the files for changes */
    const char *geoip_db;     /* MaxMind DB for actor.country (ingest/geoip.h);
                                 NULL/"" = no GeoIP enrichment */
};

/* Receives each load error ("FILE:LINE: reason"). */
typedef void (*triage_error_fn)(void *ctx, const char *msg);

struct triage;

/* Loads the rules and policies of o (strings are copied). Each error goes
 * to on_error (NULL: logged at level error) and is counted in *nerrors
 * (may be NULL); the good ones load and KB_OK is returned all the same —
 * the caller decides what errors mean (serve goes on; --check-config
 * fails). KB_EINVAL only for unusable options; a geoip_db that cannot be
 * opened fails the call (KB_EIO / KB_ECORRUPT, why = path and reason). */
kb_err triage_new(const struct triage_opts *o, triage_error_fn on_error, void *ctx,
                  size_t *nerrors, struct triage **out, struct kb_why *why);
void triage_free(struct triage *t);

/* Whether some loaded rule or policy may apply to alerts of this source
 * (a rule without a logsource and a policy without `source` apply to all).
 * When false, an event of the source may fold from the intake's summary. */
bool triage_applies(const struct triage *t, const char *source);

/* Where triage_alert's outcome goes: folded into f, closes applied to db
 * inside the caller's transaction. */
struct triage_sink {
    struct issue_folder *folder;
    struct db *db;
    struct issue_fold_stats *st;
    struct arena *arena; /* per-record memory (text events' JSON view) */
    uint64_t seq;        /* journal seq of the event */
    int64_t recv_ms;
};

/* Marks the start of a batch: records at or below the highest seq seen by
 * earlier batches are a replay (a batch that failed and is retried): they
 * do not count again in the occurrence state or correlation windows. */
void triage_batch_begin(struct triage *t);

/* Rules, correlation and policies for one normalized alert, then fold or
 * close. *nalerts (may be NULL) is incremented per alert folded or closing.
 * Errors: what the store returned (KB_EDB), KB_ETOOBIG for a folder limit. */
kb_err triage_alert(struct triage *t, const struct alert *a, const struct triage_sink *s,
                    uint64_t *nalerts);

/* ---- intake: the stateless part, on intake's threads ----
 *
 * Sigma detection and the policies that need no occurrence state run where
 * the event is already parsed (intake, on as many threads as take events),
 * and what they decide travels in the journal beside the event as a
 * version 2 summary (issues/issue_summary.h). The pipeline then folds a
 * repeat from it without parsing the event again, and still does, in
 * journal order, everything that needs order: occurrence counts
 * (first_only, escalate), closes, mutes, correlation, GeoIP enrichment.
 * An alert that needs any of those gives the event no summary.
 *
 * Each evaluator is a private copy of the rules and policies (the engines
 * keep scratch in their sets), loaded on first use in a generation from the
 * same files; a copy whose files changed since the pipeline loaded them is
 * not used. There are TRIAGE_EVALUATORS of them; a thread that finds none
 * free writes plain summaries (the pipeline settles those events). */
#define TRIAGE_EVALUATORS 4
struct triage_eval;
/* An evaluator for the calling thread until triage_eval_release, or NULL:
 * none free, GeoIP configured, or the files changed since the load. */
struct triage_eval *triage_eval_acquire(struct triage *t);
void triage_eval_release(struct triage *t, struct triage_eval *ev);
/* triage_applies for the evaluator's sets. */
bool triage_eval_applies(const struct triage_eval *ev, const char *source);
uint64_t triage_eval_generation(const struct triage_eval *ev);
/* Settles one normalized alert without state and appends the alert(s) it
 * becomes to the version 2 summary at start (issue_summary_begin_triaged
 * with triage_eval_generation). KB_EUNSUPPORTED when only the pipeline can
 * settle it: the caller then drops the event's summary. */
kb_err triage_eval_alert(struct triage_eval *ev, const struct alert *a, struct buf *sums,
                         size_t start);

/* In the pipeline thread (the only one that changes it): the generation in
 * use (summaries of another generation take the full path). */
uint64_t triage_generation(struct triage *t);
/* In the pipeline, for an alert folded from a version 2 summary: what
 * triage_alert would have noted (the occurrence in the policies' state,
 * a rule match when rule is true). */
void triage_note_repeat(struct triage *t, uint64_t seq, const uint8_t fp[16], int64_t time_ms,
                        bool rule);

/* Asks for a reload at the next triage_maybe_reload (any thread). */
void triage_request_reload(struct triage *t);
/* Between batches, in the pipeline thread: reloads when asked or when the
 * files changed (checked at most every TRIAGE_POLL_MS). */
void triage_maybe_reload(struct triage *t);
/* Reloads now. KB_OK and the new sets are in use; KB_EINVAL when any rule
 * or policy failed (every error logged; the previous sets stay). */
kb_err triage_reload(struct triage *t, size_t *nerrors);

struct triage_stats {
    uint64_t rules, correlations, policies; /* loaded now */
    uint64_t rule_matches;      /* alerts derived from rule matches */
    uint64_t corr_alerts;       /* alerts from correlation rules */
    uint64_t closes;            /* issues closed by a policy */
    uint64_t closes_unknown;    /* closes that named no issue (or a closed one) */
    uint64_t muted;             /* alerts folded muted */
    uint64_t reloads, reload_failures;
    uint64_t geoip_countries;   /* actor.country fields added */
};
void triage_get_stats(struct triage *t, struct triage_stats *out);
/* Prometheus text (koban_rules_loaded, koban_rule_matches_total, ...). */
kb_err triage_metrics(struct triage *t, struct buf *out);

#endif
