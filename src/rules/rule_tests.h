/*
 * rule_tests.h — the tests a Sigma rule file carries (`koban test`), the
 * final severity of a rule's alert after the triage policies, the event
 * rules see for a text line, and finding rule and event files.
 *
 * A rule's YAML document may have a `tests:` key (Sigma allows extra
 * top-level keys; other tools ignore it). Its shape, documented for users
 * in docs/RULES-cli.md:
 *
 *   tests:
 *     - name: trail stopped            # optional, shown in failures
 *       event: {eventSource: cloudtrail.amazonaws.com, eventName: StopLogging}
 *       match: true                    # required: does this rule match?
 *       severity: high                 # optional: the FINAL severity
 *       rule_severity: high            # optional: the rule's own level
 *       policies: []                   # optional: ids of the policies applied
 *     - raw: "Mar  3 10:00:00 web-01 sshd[7]: Failed password for root from 192.0.2.1 port 22 ssh2"
 *       source: syslog                 # optional: the koban text source (default syslog)
 *       match: false
 *
 * `event:` is a JSON object written as a YAML mapping (flow or block; plain
 * numbers, true/false and null keep their JSON types, quoted scalars are
 * strings) or as a string holding JSON text. `raw:` is one log line, which
 * koban's normalizer for `source` turns into the event (rule_tests_text_event).
 * Exactly one of `event` and `raw`.
 *
 * `severity:` is the severity the team sees: the rule's level as the
 * alert's severity, then the triage policies applied to that alert as the
 * pipeline applies them (rule_tests_outcome). `rule_severity:` is the
 * rule's level alone. Both are a Sigma level or a koban severity name,
 * compared as a koban severity. `policies:` is the exact set (order does
 * not matter) of the ids of the policies that matched the alert. The three
 * go only with match: true.
 *
 * Ownership: struct rule_tests owns every test, string and error message;
 * rule_tests_release frees them. Nothing here keeps the YAML text.
 * rule_tests_outcome borrows the policy set; its result points into it.
 */
#ifndef KOBAN_RULE_TESTS_H
#define KOBAN_RULE_TESTS_H

#include "lib/buf.h"
#include "lib/kb.h"
#include "rules/policy.h"

#define RULE_TESTS_MAX_PER_DOC 1024          /* tests of one rule */
#define RULE_TESTS_MAX_EVENT (1024u * 1024)   /* bytes of one test event */
#define RULE_TESTS_MAX_DEPTH 64               /* nesting of an event mapping */
#define RULE_TESTS_MAX_ERRORS 10000           /* messages kept */
#define RULE_TESTS_MAX_FILES 100000           /* files one walk may return */
#define RULE_TESTS_MAX_WALK_DEPTH 32          /* folder nesting */
#define RULE_TESTS_MAX_POLICIES POLICY_MAX_APPLIED /* ids in one test's policies: */
#define RULE_TESTS_MAX_POLICY_DIRS 16         /* policy folders of one run */

struct sigma_rule;

struct rule_test {
    const char *file;   /* the name the file was loaded under (owned) */
    unsigned line;      /* 1-based line of the test entry */
    unsigned rule_line; /* line of the rule's document: sigma_rule_line() */
    size_t index;       /* position in the rule's `tests:` list, from 0 */
    char *name;         /* NULL when the test has none */
    char *event;        /* JSON text (event:) or the log line (raw:), NUL-terminated */
    size_t event_len;
    char *source;       /* raw: the koban text source; NULL for JSON events */
    bool want_match;
    int want_severity;      /* final (after policies): enum kb_severity, or -1 */
    int want_rule_severity; /* the rule's level: enum kb_severity, or -1 */
    bool check_policies;    /* policies: was given (the list may be empty) */
    char **want_policies;   /* its ids, in the file's order (owned) */
    size_t nwant_policies;
};

struct rule_tests {
    struct rule_test *v;
    size_t n, cap;
    char **files;       /* names of loaded files, shared by their tests */
    size_t nfiles, capfiles;
    char **errors;      /* "FILE:LINE: tests[I].KEY: reason" */
    size_t nerrors, caperrors;
};

#define RULE_TESTS_INIT {0}

/* Reads the tests of every document of YAML text (name stands for the file
 * in messages) and appends them to t. A malformed test is not kept: its
 * error is (see t->errors) and the others load. Returns KB_OK, KB_EINVAL when
 * some test was refused (why: the first error), KB_EPARSE on a YAML syntax
 * error (not kept in t->errors: the Sigma loader reports the same one),
 * KB_ETOOBIG over the bounds. */
kb_err rule_tests_load_buffer(const char *text, size_t len, const char *name,
                              struct rule_tests *t, struct kb_why *why);
/* The same for a file (at most 4 MiB, as sigma_load_file). KB_EIO when it
 * cannot be read. */
kb_err rule_tests_load_file(const char *path, struct rule_tests *t, struct kb_why *why);
void rule_tests_release(struct rule_tests *t);

/* ---- the final severity: policies on the alert of a rule ---- */

/* Receives each load error (a NUL-terminated message). */
typedef void (*rule_tests_error_fn)(void *ctx, const char *msg);

/* Loads into ps the policies `koban test` applies, in the order the
 * pipeline loads them (src/ingest/triage.c): with stock, the embedded stock
 * policies (lib/embedded.h, named "stock/FILE" in messages), then each of
 * dirs in the order given (policy_load_dir: the folder's *.yml and *.yaml
 * files, not recursive, in byte order of their names). A bad document does
 * not stop the others; every error ("FILE:LINE: policy 'ID': KEY: reason",
 * "DIR: reason") goes to on_error (may be NULL) and is counted in *nerrors
 * (may be NULL). Returns KB_OK when everything loaded, else the first
 * error (why); KB_ETOOBIG past RULE_TESTS_MAX_POLICY_DIRS. */
kb_err rule_tests_load_policies(struct policy_set *ps, bool stock, const char *const *dirs,
                                size_t ndirs, rule_tests_error_fn on_error, void *ctx,
                                size_t *nerrors, struct kb_why *why);

/* What the triage policies make of the alert of a rule on a test's event. */
struct rule_tests_outcome {
    const char *source;    /* the koban source the alert was made as (static) */
    int rule_severity;     /* the rule's level (sigma_rule_severity) */
    int severity;          /* after every policy: the final severity */
    /* Matching policies in order, each with the severity after it (the
     * first POLICY_MAX_APPLIED of nmatched). */
    struct policy_applied applied[POLICY_MAX_APPLIED];
    uint32_t napplied, nmatched;
    const char *mute_policy;  /* the policy that mutes it; NULL when none */
    const char *close_policy; /* the policy whose close it asks; NULL when none */
};

/* The outcome the pipeline (src/ingest/triage.c) gives the alert of rule r
 * matching the event of test t, evaluated with ps's policies (NULL: none):
 *   - the event is normalized as an alert of a koban source: a raw: test's
 *     text source; for event:, the rule's source when it reads JSON
 *     (sigma_rule_source), else the format detected for the event, as the
 *     intake does without ?source=. When the event normalizes to several
 *     alerts, the first;
 *   - the rule's alert is made of it as the pipeline makes it: kind and
 *     field rule.id the rule's id (else name, else title), title the
 *     rule's, severity its level, identity the source's plus rule.id;
 *   - policy_eval runs on it with no occurrence state: every test is a
 *     first occurrence (first_only keeps the severity, nothing escalates).
 * Enrichment (GeoIP's actor.country) is not applied. Stateless: the same
 * test always gives the same outcome. Pointers in *out live as long as ps.
 * KB_EINVAL when the source's normalizer refuses the event or makes no
 * alert of it (why says which source and why). */
kb_err rule_tests_outcome(struct policy_set *ps, const struct sigma_rule *r,
                          const struct rule_test *t, struct rule_tests_outcome *out,
                          struct kb_why *why);

/* The event rules see for one text line of a koban text source (today only
 * "syslog"; NULL means syslog), written as one JSON object into out:
 * "message" (the whole message), "host", "kind", "outcome",
 * "syslog_severity" (the PRI severity name), and every field the normalizer
 * extracted ("app", "pid", "facility", and for sshd/sudo/PAM "user",
 * "src_ip", "src_port", "auth_method", "invalid_user", ...), all strings;
 * absent ones are left out. ref_ms is the reference time for the year of
 * RFC 3164 timestamps. KB_EINVAL for an unknown or non-text source or a
 * blank line. */
kb_err rule_tests_text_event(const char *source, const char *line, size_t len, int64_t ref_ms,
                             struct buf *out, struct kb_why *why);

/* Files named by paths: a file is taken as it is; a folder is walked
 * recursively (entries sorted by name, hidden ones skipped) keeping the
 * regular files whose name ends with one of exts (NULL-terminated,
 * e.g. {".yml", ".yaml", NULL}). Appends kb_malloc'd paths to *out
 * (count in *n; free with rule_tests_paths_free). KB_EIO when a path does
 * not exist or a folder cannot be read; KB_ETOOBIG past RULE_TESTS_MAX_FILES. */
kb_err rule_tests_paths(const char *const *paths, size_t npaths, const char *const *exts,
                        char ***out, size_t *n, struct kb_why *why);
void rule_tests_paths_free(char **paths, size_t n);

#endif
