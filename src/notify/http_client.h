/*
 * http_client.h — koban's outgoing HTTP: the only code that talks to
 * libcurl. One client per thread; it keeps its connection open between
 * requests (keep-alive) and can be aborted from another thread.
 *
 * Every request is bounded: a connect timeout, a total timeout, and a
 * maximum response body (the body is cut there and the transfer ends).
 * Only http and https are allowed, redirects are not followed, and the
 * User-Agent is "koban".
 *
 * Ownership: http_client_new returns a client freed by http_client_free.
 * The response's body and err point into the client and stay valid until
 * its next request or http_client_free.
 */
#ifndef KOBAN_HTTP_CLIENT_H
#define KOBAN_HTTP_CLIENT_H

#include "lib/kb.h"
#include "notify/receiver.h"

struct http_client_opts {
    int64_t connect_timeout_ms; /* 0: 5000 */
    int64_t timeout_ms;         /* whole request; 0: 30000 */
    size_t max_body;            /* response bytes kept; 0: 1 MiB */
};

struct http_client;

/* Initialises libcurl for the process. Call once before any thread uses a
 * client (the delivery worker does, at start); balanced by
 * http_client_global_cleanup. */
kb_err http_client_global_init(void);
void http_client_global_cleanup(void);

kb_err http_client_new(const struct http_client_opts *o, struct http_client **out);
void http_client_free(struct http_client *c);

/* Sends req and fills *resp. Every outcome is a response: status 0 with
 * resp->err set when there was no answer (refused, reset, timed out,
 * aborted). Retry-After (seconds or an HTTP date) becomes retry_after_ms
 * from now; x-ratelimit-remaining and x-ratelimit-reset (epoch seconds)
 * are passed on (-1 when absent); ETag, Last-Modified and Link too (NULL
 * when absent), and body_cut says the body reached max_body and was cut
 * (the status is then the server's, the body incomplete). A body shorter
 * than its Content-Length is no answer (status 0). *aborted (may be
 * NULL) is set when http_client_abort ended the request. */
void http_client_send(struct http_client *c, const struct recv_request *req,
                      struct recv_response *resp, bool *aborted);

/* Ends the current request, and every later one until
 * http_client_clear_abort, as soon as possible. Safe from any thread. */
void http_client_abort(struct http_client *c);
void http_client_clear_abort(struct http_client *c);

#endif
