/*
 * recv_internal.h — what the receiver types (recv_*.c) share: their ops
 * (listed in receiver.c's table), reading a job's payload and state,
 * starting requests, template contexts, and the reading of HTTP answers
 * common to every type. Not for code outside src/notify.
 */
#ifndef KOBAN_RECV_INTERNAL_H
#define KOBAN_RECV_INTERNAL_H

#include "lib/jsonw.h"
#include "notify/receiver.h"
#include "notify/template.h"

extern const struct recv_ops recv_slack_ops;     /* recv_slack.c */
extern const struct recv_ops recv_github_ops;    /* recv_github.c */
extern const struct recv_ops recv_pagerduty_ops; /* recv_pagerduty.c */
extern const struct recv_ops recv_webhook_ops;   /* recv_webhook.c */
extern const struct recv_ops recv_slack_incident_ops; /* recv_slack_incident.c */
extern const struct recv_ops recv_github_incident_ops; /* recv_github_incident.c */

#define RECV_BODY_MAX (1u << 20) /* bytes of a request body a type builds */
#define RECV_STATE_MAX 4096      /* bytes of a per-issue state */

/* The payload's "event" (KB_STR_NULL when absent or not a string). */
struct kb_str recv_event(const struct recv_job *job);
bool recv_event_is(const struct recv_job *job, const char *name);
/* payload.issue, or NULL. */
const struct json_value *recv_issue(const struct recv_job *job);
/* A string member of payload.issue; KB_STR_NULL when absent or not a string. */
struct kb_str recv_issue_str(const struct recv_job *job, const char *key);
/* payload.issue.id, or 0. */
int64_t recv_issue_id(const struct recv_job *job);

/* The link to the issue in koban: the receiver's koban_url +
 * "/v1/issues/ID" when set, else the payload's "url"; "" when neither. */
void recv_issue_link(const struct receiver *r, const struct recv_job *job, char *out, size_t n);

/* job->state parsed into a (NULL when there is none, or it is not a JSON
 * object: a state koban cannot read is treated as no state). */
const struct json_value *recv_state(const struct recv_job *job, struct arena *a);
/* An integer member of a state object, or def. */
int64_t recv_state_int(const struct json_value *state, const char *key, int64_t def);

/* Starts req: method, url = (base, else def) + the printf-style path,
 * no headers, an empty body whose maximum is RECV_BODY_MAX when the caller
 * left it 0. req must be zeroed or released. KB_ETOOBIG when the URL
 * passes RECV_URL_MAX. */
kb_err recv_req_start(struct recv_request *req, const char *method, const char *base,
                      const char *def, const char *fmt, ...) __attribute__((format(printf, 5, 6)));


/* What templates see: scopes[0] the extras {"receiver", "link",
 * "is_<event>": true, and what `more` adds}, scopes[1] the payload.
 * Owns its arena and text; release with recv_tctx_release (after a
 * failed init there is nothing to release). */
struct recv_tctx {
    struct arena arena;
    struct buf extras;
    struct tmpl_ctx ctx;
};
kb_err recv_tctx_init(struct recv_tctx *c, const struct receiver *r, const struct recv_job *job,
                      void (*more)(struct jw *w, void *arg), void *arg);
void recv_tctx_release(struct recv_tctx *c);
/* Renders template name of set (which must hold it) into out (reset first). */
kb_err recv_render(const struct tmpl_set *set, const char *name, const struct recv_tctx *c,
                   enum tmpl_escape esc, size_t max_chars, struct buf *out, struct kb_why *why);

/* Sets out to "no outcome yet": RECV_FAIL, no retry time, no state, no reason. */
void recv_result_start(struct recv_result *out);
/* Sets the outcome, the retry delay (-1: the worker's backoff) and reason. */
void recv_set(struct recv_result *out, enum recv_outcome o, int64_t retry_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The reading every type shares for answers that are not 2xx: status 0,
 * 408, 429 and 5xx → RECV_RETRY (Retry-After honoured); anything else →
 * RECV_FAIL with the status and the start of the body. Returns true, and
 * sets nothing, for 2xx. what names the call in reasons ("chat.update"). */
bool recv_http_common(const struct recv_response *resp, struct recv_result *out, const char *what);
/* The first bytes of a body as printable ASCII, for reasons and logs. */
void recv_body_snippet(struct kb_str body, char *out, size_t n);

/* A GitHub repository "owner/name": one slash, letters, digits, '-', '_'
 * and '.', 3 to 200 characters. */
bool recv_repo_ok(const char *repo);
/* What both GitHub receiver types need: a token and a repo of that shape.
 * KB_EINVAL with why naming the receiver and the field. */
kb_err recv_github_check(const struct recv_config *c, struct kb_why *why);
/* The headers of every GitHub REST call: the token, the media type and the
 * API version; with a JSON body, its Content-Type. KB_ETOOBIG when the
 * request has no room for them. */
kb_err recv_github_headers(struct recv_request *req, const char *token, bool json_body);

/* HMAC-SHA256 of msg with key, as 64 lower-case hex digits + NUL
 * (recv_webhook.c: the one file that uses libcrypto). */
kb_err recv_webhook_sign(const void *key, size_t keylen, const void *msg, size_t n, char hex[65]);

#endif
