/*
 * vuln_triage.h — people's verdicts on vulnerability findings, in OpenVEX's
 * vocabulary, and what they do to the finding's koban issue.
 *
 * A finding (store/db_vuln.h) is one (advisory group, asset, ecosystem,
 * package); its issue is the one the engine's alerts fold into (source
 * "vuln", identity advisory, asset, ecosystem, package: vuln_key_fp).
 *
 * Rules (vuln_triage_check):
 *   not_affected         needs a justification (one of OpenVEX's five);
 *                        closes the issue
 *   fixed                closes the issue (the asset runs a fixed build
 *                        the advisory does not know about, say)
 *   affected, under_investigation
 *                        keep the issue open: a closed one is reopened
 *                        (unless the finding is resolved), an open one
 *                        gets the verdict as a history note
 *   until                only with not_affected or fixed, and in the future
 * The issue's history carries the reason "triaged: not_affected
 * (JUSTIFICATION) until DATE by AUTHOR" (the parts that apply), by the
 * author. People's decisions go to the store directly (issue_transition,
 * as `koban issues close` does); the journal keeps what machines saw.
 *
 * While a closing verdict holds (no until, or until not passed), the
 * engine's open-state alerts of that finding are not journaled
 * (vuln_triage_alert_keep): the finding's row still follows the asset,
 * but a "fix available" or "severity changed" does not reopen an issue a
 * person closed. Resolved alerts always pass.
 *
 * Expiry (vuln_triage_expire): a closing verdict whose until has passed,
 * on a finding still open, becomes under_investigation (author "koban",
 * note "triage expired (not_affected until DATE)") and its issue is
 * reopened with that reason.
 *
 * Ownership: struct vuln_triage borrows db (which must outlive it) and owns
 * its statement cache; struct vuln_found owns its strings
 * (vuln_found_release). One thread at a time.
 */
#ifndef KOBAN_VULN_TRIAGE_H
#define KOBAN_VULN_TRIAGE_H

#include "issues/issue.h"
#include "store/db_vuln.h"

#define VULN_TRIAGE_MAX_NOTE 4096    /* bytes of a note */
#define VULN_TRIAGE_MAX_AUTHOR 256   /* bytes of an author */
#define VULN_TRIAGE_MAX_EXPIRE 10000 /* verdicts one vuln_triage_expire call handles */

/* A finding's key. Strings borrowed. */
struct vuln_key {
    const char *group_key, *asset, *ecosystem, *package;
};

/* The fingerprint of the issue the finding's alerts fold into. */
void vuln_key_fp(const struct vuln_key *k, uint8_t fp[16]);

/* "component_not_present", ...: true for OpenVEX's five justifications. */
bool vuln_justification_valid(const char *s);

struct vuln_triage_opts {
    /* told of issue transitions (notifications); NULL: none */
    const struct issue_observer *obs;
    int64_t (*now)(void *ctx); /* ms; NULL: kb_now_ms */
    void *now_ctx;
};

struct vuln_triage;

/* A triage handle on db (borrowed). *out: vuln_triage_close. */
kb_err vuln_triage_open(struct db *db, const struct vuln_triage_opts *o, struct vuln_triage **out);
void vuln_triage_close(struct vuln_triage *t);
/* Its vulnerability store handle (borrowed from t). */
struct db_vuln *vuln_triage_store(struct vuln_triage *t);
/* The handle's clock (ms). */
int64_t vuln_triage_now(struct vuln_triage *t);

/* A finding found by reference, with its issue (0: none yet) and triage. */
struct vuln_found {
    struct db_vuln_finding f; /* strings owned */
    char hex[33];             /* the issue fingerprint (finding id) */
    int64_t issue;            /* issue id, 0 when no issue exists */
    int issue_state;          /* enum issue_state when issue != 0 */
    bool triaged;
    struct db_vuln_triage t; /* strings owned when triaged */
};
void vuln_found_release(struct vuln_found *f);

/* Finds a finding by reference: an issue ("12" or "#12": its source must
 * be vuln) or a finding id (8 to 32 hex digits of the issue fingerprint,
 * as `koban vuln list` prints the first 12). KB_ENOTFOUND or KB_EINVAL
 * (ambiguous prefix, not a vuln issue) with why. */
kb_err vuln_triage_find(struct vuln_triage *t, const char *ref, struct vuln_found *out,
                        struct kb_why *why);
/* The same for a stored finding row (copied; for callers already walking
 * the findings, which must not start another finding walk). */
kb_err vuln_triage_found_from(struct vuln_triage *t, const struct db_vuln_finding *f,
                              struct vuln_found *out);
/* The same for a key. */
kb_err vuln_triage_find_key(struct vuln_triage *t, const struct vuln_key *k,
                            struct vuln_found *out, struct kb_why *why);

/* A found finding as one JSON object (`koban vuln list --json`, `show`):
 * id, advisory, asset, ecosystem, package, installed, fixed, severity,
 * cvss, kev, suspected, state, reason, first_seen, changed, issue
 * ({id, state} or null), triage ({status, justification, note, until,
 * author, at} or null). */
struct jw;
void vuln_found_write_json(struct jw *w, const struct vuln_found *f);

/* Whether a verdict follows the rules above at time now. KB_EINVAL with
 * why naming the option (status, justification, until, note, author). */
kb_err vuln_triage_check(const struct db_vuln_triage *v, int64_t now, struct kb_why *why);

/* What vuln_triage_apply did to the issue. */
enum vuln_issue_action {
    VULN_ISSUE_NONE = 0, /* no issue for the finding (yet) */
    VULN_ISSUE_CLOSED,
    VULN_ISSUE_REOPENED,
    VULN_ISSUE_NOTED, /* history note, state unchanged */
};
/* "no issue", "closed", "reopened", "noted". */
const char *vuln_issue_action_name(int a);

/* Stores the verdict v (its at is set to now when 0) on the finding and
 * applies it to the issue; *action (may be NULL) says what happened and
 * reason[0..reason_size) (may be NULL) gets the history reason. The verdict
 * is stored first: an issue step that fails leaves it stored (run again). */
kb_err vuln_triage_apply(struct vuln_triage *t, const struct vuln_key *k,
                         const struct db_vuln_triage *v, int *action, char *reason,
                         size_t reason_size, struct kb_why *why);

/* Expires the verdicts whose until is at or before now (at most
 * VULN_TRIAGE_MAX_EXPIRE per call); *reopened (may be NULL) counts issues
 * reopened, *expired verdicts changed. */
kb_err vuln_triage_expire(struct vuln_triage *t, int64_t now, size_t *expired, size_t *reopened,
                          struct kb_why *why);

/* Whether an engine alert (its JSON) should reach the journal: false only
 * for an open-state alert of a finding under a closing verdict that holds
 * at now. Text that does not parse passes (intake judges it). */
bool vuln_triage_alert_keep(struct vuln_triage *t, const char *json, size_t len, int64_t now);

/* The verdict's history reason ("triaged: ..."), into out. */
void vuln_triage_reason(const struct db_vuln_triage *v, char *out, size_t n);
/* A time as "2027-03-01" at midnight UTC, else RFC 3339, into out[32]. */
void vuln_triage_date(int64_t ms, char out[32]);
/* Parses "2027-03-01" (midnight UTC) or RFC 3339 into *ms. */
kb_err vuln_triage_parse_date(const char *s, int64_t *ms);

#endif
