/*
 * receiver.h — what a notification receiver (Slack, GitHub Issues,
 * PagerDuty, a generic webhook) is to the rest of koban.
 *
 * Data flow (docs/DESIGN.md, "Notifications"):
 *
 *   pipeline ── issue state change ──► outbox job (same SQLite transaction)
 *   delivery worker ── claims a due job ──► receiver ops ──► HTTP ──► SaaS
 *
 * A job is one notification for one receiver: an event (opened, repeated,
 * reopened, closed, ...) and a JSON snapshot of the issue taken when the job
 * was written (the payload, see below). Delivering a job may take several
 * HTTP calls (GitHub: find the issue by its marker, comment, then close it),
 * so a receiver is a small step machine the worker drives:
 *
 *   step = 0
 *   loop:
 *     build(job, state, step)  → a request, or RECV_DONE (nothing more to send)
 *     send it (the worker owns HTTP: timeouts, body limits, TLS)
 *     result(job, state, step, response) → next step / done / retry / fail,
 *                                          and maybe a new state
 *
 * State is what a receiver remembers per (receiver, issue) between jobs,
 * as a small JSON object it alone reads and writes: Slack's channel and
 * message ts (to update or thread), GitHub's issue number, nothing for
 * PagerDuty (its dedup_key is the issue fingerprint). The worker stores a
 * new state as soon as a step returns it, before sending the next request,
 * which with the markers and dedup keys makes delivery idempotent: a job
 * retried after a crash never opens a second GitHub issue or incident.
 *
 * Job payload (JSON object, written by notify_payload() in the enqueueing
 * code; receivers read it with lib/json.h):
 *   "event":     "opened" | "repeated" | "reopened" | "closed" | "acknowledged"
 *                | "reminder" | "flood_started" | "flood_ended" | "test"
 *   "issue":     the issue object as issue_write_json() writes it (no
 *                history): id, fingerprint, identity, source, kind, title,
 *                severity, state, count, first_seen, last_seen, account,
 *                region, resource, actor, labels, annotations, ...
 *   "reason":    why (close reason, reopen reason); may be absent
 *   "held_back": copies not notified (flood_ended); may be absent
 *   "url":       link to the issue in koban's UI/API; may be absent
 *
 * Ownership: a struct receiver is created by receiver_new() from its
 * configuration and freed by receiver_free(); it owns its strings. Requests
 * and results are filled into caller-owned structs whose buffers the caller
 * releases (recv_request_release, recv_result_release).
 */
#ifndef KOBAN_RECEIVER_H
#define KOBAN_RECEIVER_H

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/kb.h"

#define RECV_MAX_HEADERS 12
#define RECV_URL_MAX 2048

/* One HTTP request a receiver wants sent. The worker adds nothing but
 * Content-Length and User-Agent. */
struct recv_request {
    char method[8];                  /* "POST", "PATCH", "GET", "PUT" */
    char url[RECV_URL_MAX];          /* absolute: the receiver's base URL + path */
    char *headers[RECV_MAX_HEADERS]; /* "Name: value", owned (malloc) */
    size_t nheaders;
    struct buf body;                 /* may be empty (GET) */
};
void recv_request_release(struct recv_request *r);
/* Adds "Name: value" (printf-style); KB_ETOOBIG past RECV_MAX_HEADERS. */
kb_err recv_request_header(struct recv_request *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The answer, as the worker received it (status 0: no answer: connection
 * refused, reset, or timed out; then err says which). */
struct recv_response {
    long status;
    struct kb_str body;              /* borrowed; cut at the worker's limit */
    int64_t retry_after_ms;          /* from Retry-After (seconds or a date); -1 none */
    int64_t ratelimit_remaining;     /* x-ratelimit-remaining; -1 none */
    int64_t ratelimit_reset_ms;      /* x-ratelimit-reset (epoch s → ms); -1 none */
    const char *err;                 /* transport error text when status == 0 */
    /* For clients that read more than the status and body (the advisory
     * feeds): the response's ETag, Last-Modified and Link headers (NULL when
     * absent or longer than the client keeps), and whether the body was cut
     * at the client's max_body. Receivers may ignore them. */
    const char *etag, *last_modified, *link;
    bool body_cut;
};

enum recv_outcome {
    RECV_NEXT = 0, /* send the request of step + 1 */
    RECV_DONE,     /* the job is delivered */
    RECV_RETRY,    /* transient: try the job again later (from the same step) */
    RECV_FAIL,     /* permanent (e.g. 400, 401, 404): dead-letter it */
};

struct recv_result {
    enum recv_outcome outcome;
    int64_t retry_after_ms; /* RECV_RETRY: at least this long; -1 = worker's backoff */
    char *state;            /* non-NULL: the new per-issue state (owned, malloc) */
    char reason[256];       /* RECV_RETRY / RECV_FAIL: for logs and dead letters */
};
void recv_result_release(struct recv_result *r);

struct receiver;
struct recv_config;

struct recv_job {
    int64_t id;                        /* outbox job id */
    const struct json_value *payload;  /* parsed payload (see above) */
    const char *payload_text;          /* the same, as stored */
    const char *state;                 /* per-issue state JSON, or NULL; the
                                          latest: a state an earlier step of
                                          this job returned replaces it */
    int attempt;                       /* 1 on the first try; every claim
                                          counts one, so a job taken again
                                          after a crash has a new attempt */
};

/* A receiver type. build returns KB_OK with *req filled, or KB_ENOTFOUND
 * when there is nothing to send at this step (the job is done; also how a
 * receiver declines events it does not notify, e.g. PagerDuty on
 * "repeated"); another error means the job can never be sent (bad payload:
 * dead-lettered with why). result must be total: any response, including
 * status 0, gives an outcome. */
struct recv_ops {
    const char *type; /* "slack", "github", "pagerduty", "webhook" */
    /* Optional: checks the config (why names the field) and sets *data. */
    kb_err (*init)(const struct recv_config *c, void **data, struct kb_why *why);
    void (*fini)(void *data);
    kb_err (*build)(const struct receiver *r, const struct recv_job *job, int step,
                    struct recv_request *req, struct kb_why *why);
    void (*result)(const struct receiver *r, const struct recv_job *job, int step,
                   const struct recv_response *resp, struct recv_result *out);
};

/* Configuration of one receiver (from koban.yaml; strings borrowed for
 * receiver_new, which copies them). Which fields apply depends on type. */
struct recv_config {
    const char *name;        /* unique, used in routes, metrics and the outbox */
    const char *type;        /* "slack" | "github" | "pagerduty" | "webhook" */
    const char *base_url;    /* NULL: the SaaS default (https://slack.com/api,
                                https://api.github.com, https://events.pagerduty.com) */
    const char *token;       /* Slack bot token, GitHub token, PagerDuty routing key,
                                webhook HMAC secret */
    const char *channel;     /* slack: channel id; NULL with webhook_url set */
    const char *webhook_url; /* slack: incoming-webhook mode (no update/thread) */
    const char *repo;        /* github: "owner/name" */
    const char *url;         /* webhook: the full URL */
    const char *koban_url;   /* base of links to issues (e.g. http://koban:8478) */
    const char *templates_dir; /* user templates overriding the built-in ones; NULL */
};

/* A receiver of a registered type (the table in receiver.c). KB_EINVAL with
 * why naming the field when the type is unknown or a required field of the
 * type is missing. */
kb_err receiver_new(const struct recv_config *c, struct receiver **out, struct kb_why *why);
/* A receiver with caller-supplied ops (tests, koban's own error receiver);
 * ctx is borrowed and returned by receiver_ctx(). */
kb_err receiver_new_ops(const char *name, const struct recv_ops *ops, void *ctx,
                        struct receiver **out);
void receiver_free(struct receiver *r);
const char *receiver_name(const struct receiver *r);
const struct recv_ops *receiver_ops(const struct receiver *r);
const struct recv_config *receiver_config(const struct receiver *r);
void *receiver_ctx(const struct receiver *r);
/* Per-type data a type's code keeps on the receiver (parsed templates, ...),
 * set by the type's init (see receiver.c) and freed by its fini. */
void *receiver_data(const struct receiver *r);

#endif
