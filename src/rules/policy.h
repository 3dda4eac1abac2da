/*
 * policy.h — triage policies: a small YAML vocabulary beside Sigma that
 * decides, for each normalized alert, its final severity, whether it is
 * muted, whether it closes an issue, what "the same alert" means (identity),
 * and the annotations and labels shown and routed with it.
 *
 * The vocabulary, the fields a policy sees and the evaluation order are
 * written down for users in docs/POLICIES.md; the stock policies are in
 * policies/stock/. In short: one policy per YAML document; a policy selects
 * alerts with Sigma's `detection:` (compiled by the Sigma engine, sigma.h)
 * over a view of the alert — its normalized fields, its extracted fields and
 * the original event under `raw.` — plus an optional `cidr:` condition; every
 * matching policy applies, in load order.
 *
 * Life cycle:
 *   struct policy_set *ps;
 *   policy_set_new(&ps, &why);
 *   policy_load_dir(ps, "policies/stock", &n, &why);   // or _file / _buffer
 *   struct policy_memstate *ms = policy_memstate_new(100000);
 *   struct policy_state st = policy_memstate_state(ms);
 *   struct policy_result res;
 *   policy_eval(ps, &alert, &st, kb_now_ms(), &res);
 *   policy_memstate_free(ms);
 *   policy_set_free(ps);
 *
 * Ownership:
 *   - The set owns every policy, every string a result points to (ids,
 *     reasons, annotations, labels, identity names) and every load error;
 *     all of it is freed by policy_set_free. Result pointers live as long as
 *     the set (alert identity names live as long as the alert's format).
 *   - The alert is borrowed for the duration of policy_eval.
 *   - State (occurrence counts) is never kept by the set: the caller passes
 *     a struct policy_state; policy_memstate is a bounded in-memory one.
 *
 * Thread safety: evaluation uses the set's scratch (the alert view, the
 * matched list, the Sigma ruleset's match block): one thread at a time per
 * set. Loading and evaluating never run at once on one set.
 *
 * Performance: everything is compiled at load; policy_eval allocates
 * nothing (the scratch is sized at load).
 */
#ifndef KOBAN_POLICY_H
#define KOBAN_POLICY_H

#include "formats/alert.h"
#include "lib/kb.h"

/* Bounds (over them a policy or file is refused with a clear error). */
#define POLICY_MAX_FILE_BYTES (4u * 1024 * 1024) /* one YAML file */
#define POLICY_MAX_DOCS 1024                     /* documents in one file */
#define POLICY_MAX_POLICIES 4096                 /* policies in one set */
#define POLICY_MAX_ID 128                        /* bytes of an id */
#define POLICY_MAX_TEXT 4096                     /* bytes of a reason/annotation */
#define POLICY_MAX_IDENTITY 8                    /* identity field names */
#define POLICY_MAX_ROWS 64                       /* rows of a severity map */
#define POLICY_MAX_BANDS 16                      /* numeric bands */
#define POLICY_MAX_CIDR_FIELDS 8                 /* fields of a cidr condition */
#define POLICY_MAX_WINDOW_COUNT 64               /* escalate.after with a window */
#define POLICY_MAX_AFTER 1000000                 /* escalate.after, cumulative */
#define POLICY_MAX_WITHIN_MS (366LL * 86400000)  /* escalate.within */
#define POLICY_MAX_ERRORS 1000                   /* load errors kept per set */

/* Bounds of one result (more are counted, not kept). */
#define POLICY_MAX_APPLIED 32
#define POLICY_MAX_ANNOTATIONS 16
#define POLICY_MAX_LABELS 16
#define POLICY_IDENTITY_TEXT 512

struct policy_set;
struct policy;

/* Creates an empty set. The caller frees *out with policy_set_free. */
kb_err policy_set_new(struct policy_set **out, struct kb_why *why);
void policy_set_free(struct policy_set *ps);

/* Loads every YAML document of a file (one policy each) into ps, after the
 * policies already loaded. A bad document does not stop the others: each
 * error is kept ("FILE:LINE: policy 'ID': KEY: reason", policy_set_error)
 * and the good documents load. *nloaded (may be NULL) receives the number
 * of policies loaded from this file.
 * Returns KB_OK when every document loaded; KB_EINVAL when at least one was
 * refused (why: the first error and how many more there were); KB_EIO when
 * the file cannot be read; KB_ETOOBIG over POLICY_MAX_FILE_BYTES or
 * POLICY_MAX_POLICIES; KB_EPARSE on a YAML syntax error (documents before
 * it stay loaded). */
kb_err policy_load_file(struct policy_set *ps, const char *path, size_t *nloaded,
                        struct kb_why *why);
/* The same for YAML text in memory; `name` stands for the file in messages.
 * The text is not kept. */
kb_err policy_load_buffer(struct policy_set *ps, const char *text, size_t len, const char *name,
                          size_t *nloaded, struct kb_why *why);
/* Loads every *.yml and *.yaml file of a folder (not recursive) in byte
 * order of their names, so "10-guardduty.yml" loads before "90-local.yml".
 * Goes on after a bad file; returns the first error (KB_OK when none). */
kb_err policy_load_dir(struct policy_set *ps, const char *dir, size_t *nloaded, struct kb_why *why);

/* Load errors kept so far (at most POLICY_MAX_ERRORS; the count goes on). */
size_t policy_set_nerrors(const struct policy_set *ps);
const char *policy_set_error(const struct policy_set *ps, size_t i); /* NULL past the end */

/* Policies loaded, in evaluation order, and lookup by id. */
size_t policy_set_count(const struct policy_set *ps);
const struct policy *policy_set_at(const struct policy_set *ps, size_t i);
const struct policy *policy_set_find(const struct policy_set *ps, const char *id);

const char *policy_id(const struct policy *p);
const char *policy_title(const struct policy *p); /* NULL when absent */
const char *policy_file(const struct policy *p);
unsigned policy_line(const struct policy *p);
/* The policy's mute: false when it has none; reason and expiry (0 = never). */
bool policy_mute(const struct policy *p, const char **reason, int64_t *until_ms);

/* Policies whose mute has expired at now_ms (until <= now), in load order:
 * the first `max` go to out[] (may be NULL when max is 0); returns how many
 * there are. An expired mute no longer applies; the rest of its policy
 * does. */
size_t policy_set_expired_mutes(const struct policy_set *ps, int64_t now_ms,
                                const struct policy **out, size_t max);

/* ---- state: occurrences of an identity, kept by the caller ---- */

/* Callbacks the caller provides. Fingerprints are policy_fingerprint()'s
 * (the same as issue_identity's). A failing callback never hides an alert:
 * first_only then treats the alert as a first occurrence and escalate does
 * not fire (the result says state_error). */
struct policy_state {
    void *ctx;
    /* Occurrences of fp recorded at or after since_ms (INT64_MIN: ever),
     * not counting the alert being evaluated. An implementation may stop
     * counting at POLICY_MAX_WINDOW_COUNT when since_ms is not INT64_MIN. */
    kb_err (*occurrences)(void *ctx, const uint8_t fp[16], int64_t since_ms, uint64_t *n);
    /* Records one occurrence of fp at t_ms. NULL when the caller records
     * occurrences elsewhere (e.g. the issue store counts them). */
    kb_err (*record)(void *ctx, const uint8_t fp[16], int64_t t_ms);
};

/* A bounded in-memory state, for tests and `koban test`: up to
 * max_identities identities (rounded up to a multiple of 8, at least 8),
 * each with its total count and its last POLICY_MAX_WINDOW_COUNT times.
 * When full, the least recently seen identity of a bucket of 8 is
 * forgotten (it then counts as new again). Owner: the caller
 * (policy_memstate_free). Not thread-safe. */
struct policy_memstate;
struct policy_memstate *policy_memstate_new(size_t max_identities);
void policy_memstate_free(struct policy_memstate *m);
/* Callbacks bound to m (valid while m lives). */
struct policy_state policy_memstate_state(struct policy_memstate *m);
/* Identities tracked now, and forgotten so far to make room. */
size_t policy_memstate_size(const struct policy_memstate *m);
uint64_t policy_memstate_evicted(const struct policy_memstate *m);

/* ---- evaluation ---- */

/* The fingerprint of alert a under identity `names` (NULL-terminated
 * alert_get names): XXH3-128 over the source and each name and value,
 * length-prefixed — the same bytes issue_identity() hashes, so an identity
 * chosen by a policy lands on the same issue. With text non-NULL the
 * readable "name=value ..." form is written there (cut at textsz). */
void policy_fingerprint(const struct alert *a, const char *const *names, uint8_t fp[16], char *text,
                        size_t textsz);

struct policy_applied {
    const char *id; /* policy id */
    int severity;   /* the severity after this policy's actions */
};
struct policy_annotation {
    const char *text;   /* never NULL */
    const char *link;   /* NULL when none */
    const char *policy; /* id of the policy that added it */
};
struct policy_label {
    const char *key, *value;
    const char *policy; /* id of the policy that set it last */
};

/* The outcome for one alert. Filled wholly by policy_eval. */
struct policy_result {
    int severity; /* final severity (enum kb_severity) */
    int initial;  /* the alert's severity before any policy */
    /* Matching policies in order (the first POLICY_MAX_APPLIED). */
    struct policy_applied applied[POLICY_MAX_APPLIED];
    uint32_t napplied;
    uint32_t nmatched; /* all matching policies (>= napplied) */
    /* Identity: the last matching policy's `identity:`, else the alert's. */
    const char *const *identity;
    const char *identity_policy; /* NULL when the alert's own */
    uint8_t fp[16];
    char identity_text[POLICY_IDENTITY_TEXT];
    /* Occurrences of fp before this alert (ever); valid when state_used. */
    uint64_t prior;
    bool state_used;  /* a first_only/escalate policy consulted the state */
    bool state_error; /* a state callback failed (see struct policy_state) */
    /* Mute: the first matching policy whose mute has not expired. */
    bool muted;
    const char *mute_reason;
    int64_t mute_until_ms; /* 0 = no expiry */
    const char *mute_policy;
    const char *expired_mute_policy; /* first match whose mute had expired */
    /* Close: the first matching policy with `close:`. The closed identity
     * is the alert's fingerprint under the close's identity names (default:
     * the result's identity). A closing alert is not recorded as an
     * occurrence in the state. */
    bool close;
    const char *close_reason;
    const char *close_policy;
    uint8_t close_fp[16];
    char close_identity[POLICY_IDENTITY_TEXT];
    /* Annotations of every matching policy, in order; labels merged in
     * order (a later policy's value replaces an earlier one's). */
    struct policy_annotation annotations[POLICY_MAX_ANNOTATIONS];
    uint32_t nannotations;
    struct policy_label labels[POLICY_MAX_LABELS];
    uint32_t nlabels;
};

/* Evaluates every policy on alert a at wall time now_ms (mute expiry) and
 * fills *res. Occurrence times are the alert's time, else now_ms. st may
 * be NULL (no state: every alert is a first occurrence, nothing
 * escalates). Returns KB_OK; KB_EINVAL when a or res is NULL. Regex limit
 * hits inside Sigma count as "not matching" (sigma.h). */
kb_err policy_eval(struct policy_set *ps, const struct alert *a, const struct policy_state *st,
                   int64_t now_ms, struct policy_result *res);

#endif
