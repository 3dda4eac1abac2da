/*
 * web.h — koban's HTTP server (libmicrohttpd): event intake, health,
 * metrics, and a hook for further routes (the issues API).
 *
 * Built-in routes:
 *   POST /v1/events   body: a JSON object, a JSON array, NDJSON, or text
 *                     lines; Content-Encoding: gzip accepted; ?source=NAME
 *                     forces a format. The answer is sent only once every
 *                     record the request produced is durable in the journal:
 *                     200 {"accepted":N,"rejected":M,"errors":[{"index":i,
 *                     "reason":"..."}],"last_seq":S} (400 with the same body
 *                     when every event was rejected). 400 unusable payload or
 *                     unknown source, 401 bad token, 413 body over
 *                     http.max_body (counted after gunzip), 415 unknown
 *                     Content-Encoding, 503 journal failure or shutdown.
 *   GET /healthz      200 "ok\n", or 503 with the reason (deps->health).
 *   GET /metrics      Prometheus text format 0.0.4.
 * Anything else goes to deps->route; if it declines, 404 {"error":"not found"}.
 * A built-in path with the wrong method answers 405 with an Allow header.
 *
 * Authentication: when http.token is set, every request except GET /healthz,
 * GET /metrics and /v1/slack/ (signed by Slack instead: web/api_slack.h)
 * must carry "Authorization: Bearer <token>" (compared in constant time),
 * else 401 with "WWW-Authenticate: Bearer".
 *
 * Threads: http.threads polling threads (0: one per online CPU, at most 8),
 * each serving its own share of the connections from reading the headers to
 * the answer, so request bodies are checked (intake) on several cores.
 *
 * Durability without blocking: an events request whose records are not yet
 * durable suspends its connection and registers journal_on_durable(); the
 * journal writer thread resumes it after the fsync that covers it. Hundreds
 * of connections therefore share one fsync (group commit) and no HTTP
 * thread ever waits for the disk.
 *
 * Ownership: web_start returns a server the caller frees with web_stop. The
 * server borrows everything in web_deps (config, journal, intake, callbacks),
 * which must outlive it: stop the web server before closing the journal.
 * Threading: the callbacks in web_deps run on the HTTP thread(s); they may
 * run concurrently with each other when the server uses several threads.
 */
#ifndef KOBAN_WEB_H
#define KOBAN_WEB_H

#include "config/config.h"
#include "ingest/intake.h"
#include "lib/buf.h"
#include "store/journal.h"

/* Bound on the body a route callback may write into web_response.body. */
#define WEB_MAX_RESPONSE (16u * 1024 * 1024)

/* One request as a route callback sees it. Valid only during the call. */
struct web_request {
    const char *method;   /* "GET", "POST", ... */
    const char *path;     /* URL path, percent-decoded, without the query string */
    const char *body;     /* request body, already gunzipped; NUL-terminated;
                             "" when there was none */
    size_t body_len;
    void *impl;           /* the server's connection handle; use the accessors */
};

/* Query-string argument `name` ("?state=open" -> "open"), percent-decoded;
 * "" for "?flag", NULL when absent. */
const char *web_query(const struct web_request *req, const char *name);
/* Request header `name` (case-insensitive), NULL when absent. */
const char *web_header(const struct web_request *req, const char *name);

/* What a route callback answers. The server initialises it to status 200,
 * content_type "application/json" and an empty body bounded by
 * WEB_MAX_RESPONSE, and releases the body after sending it. */
struct web_response {
    unsigned status;
    const char *content_type; /* static string */
    struct buf body;
};

/* Fills resp with status and {"error": msg} (the body replaced) and
 * returns KB_EINVAL: what a route callback returns for a refused request. */
kb_err web_fail(struct web_response *resp, unsigned status, const char *msg);
/* The list routes' `?limit=N` into *limit (left as it is when absent or
 * empty): KB_OK, or web_fail 400 when N is not 1..10000. */
kb_err web_query_limit(const struct web_request *req, struct web_response *resp, size_t *limit);

struct web_deps {
    const struct kb_config *cfg; /* http.listen, http.token, http.max_body,
                                    http.max_connections, http.timeout_s */
    struct journal *journal;     /* for acknowledgement after durability */
    struct intake *intake;
    /* Appends more Prometheus text (pipeline, issues, syslog). May be NULL. */
    kb_err (*metrics)(void *ctx, struct buf *out);
    void *metrics_ctx;
    /* KB_OK when the daemon is healthy, else fills why. May be NULL. */
    kb_err (*health)(void *ctx, struct kb_why *why);
    void *health_ctx;
    /* Any request the built-in routes do not handle, after authentication
     * and with its body read. Returns KB_ENOTFOUND to decline (404); KB_OK
     * to send *resp; any other error sends *resp when resp->status >= 400,
     * else 500. May be NULL. */
    kb_err (*route)(void *ctx, const struct web_request *req, struct web_response *resp);
    void *route_ctx;
};

struct web;

/* Listens on cfg->http.listen ("127.0.0.1:0" picks a free port) and starts
 * serving. deps is copied; what it points to is borrowed. */
kb_err web_start(const struct web_deps *deps, struct web **out, struct kb_why *why);

/* The bound port. */
uint16_t web_port(const struct web *w);

/* Stops accepting connections, lets in-flight event requests get their
 * durable acknowledgement (or 503 after a bounded wait of 10 s), closes
 * every connection and frees the server. NULL is a no-op. */
void web_stop(struct web *w);

/* Appends the server's own counters (koban_http_requests_total{route,code})
 * in Prometheus text format. */
kb_err web_metrics(struct web *w, struct buf *out);

#endif
