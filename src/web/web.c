/*
 * web.c — the HTTP server: routing, authentication, responses, counters,
 * start and stop. The events route lives in web_events.c.
 *
 * Life of a request (struct web_req, one per HTTP request):
 *
 *   NEW  --first call (headers)-->  BODY  --body pieces-->  BODY
 *    |                               |
 *    |  early answer (404, 405,      |  last call: route handler
 *    |  401, 413 by Content-Length)  |     |-- answer now  --> DONE
 *    v                               |     '-- events: suspend --> WAIT
 *   DONE                             v                              |
 *                                   DONE  <-- resumed: answer ------'
 *
 * MHD calls on_completed once the answer is sent (or the connection died);
 * that drops the connection's reference to the request.
 */
#include "web/web_int.h"

#include "lib/jsonw.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* MHD polling threads when http.threads is 0: one per online CPU, at least
 * this many. Each thread reads, checks (intake) and answers the requests of
 * its own connections, so request checking scales with the cores. */
#define WEB_MIN_AUTO_THREADS 8u
#define WEB_DEFAULT_MAX_BODY (64u * 1024 * 1024)
#define WEB_METRICS_MAX (8u * 1024 * 1024)
#define WEB_STOP_WAIT_MS 10000
#define WEB_STOP_GRACE_MS 2000
/* Bytes of a plain body reserved from its Content-Length before it arrives. */
#define WEB_PRESIZE_MAX (1024u * 1024)
/* Bytes of a rejected body read (and dropped) to deliver the error. */
#define WEB_DISCARD_MAX (4u * 1024 * 1024)

static const char *const route_names[WEB_ROUTE_COUNT] = {
    [WEB_ROUTE_EVENTS] = "events", [WEB_ROUTE_HEALTHZ] = "healthz",
    [WEB_ROUTE_METRICS] = "metrics", [WEB_ROUTE_API] = "api",
    [WEB_ROUTE_NONE] = "none",
};

/* ---- responses ---------------------------------------------------------- */

enum MHD_Result web_reply(struct web_req *r, unsigned status, const char *ctype,
                          struct buf *body, const char *hname, const char *hvalue)
{
    struct MHD_Response *resp;
    size_t len = body ? body->len : 0;
    if (len) {
        char *p = buf_take(body, &len);
        resp = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(p);
    } else {
        if (body)
            buf_release(body);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (hname)
        MHD_add_response_header(resp, hname, hvalue);
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    if (ret == MHD_YES) {
        r->st = WEB_REQ_DONE;
        if (status >= WEB_CODE_MIN && status <= WEB_CODE_MAX)
            atomic_fetch_add_explicit(&r->w->counts[r->route][status - WEB_CODE_MIN], 1,
                                      memory_order_relaxed);
    }
    return ret;
}

enum MHD_Result web_reply_error(struct web_req *r, unsigned status, const char *msg,
                                const char *hname, const char *hvalue)
{
    struct buf b = BUF_INIT(4096);
    struct jw jw;
    jw_init(&jw, &b);
    jw_obj_begin(&jw);
    jw_kv_str(&jw, "error", msg);
    jw_obj_end(&jw);
    buf_putc(&b, '\n');
    return web_reply(r, status, "application/json", &b, hname, hvalue);
}

/* ---- request accessors for route callbacks ------------------------------ */

const char *web_query(const struct web_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->impl, MHD_GET_ARGUMENT_KIND, name);
}

kb_err web_query_limit(const struct web_request *req, struct web_response *resp, size_t *limit)
{
    const char *v = web_query(req, "limit");
    if (!v || !*v)
        return KB_OK;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || n == 0 || n > 10000)
        return web_fail(resp, 400, "limit: expected 1..10000");
    *limit = n;
    return KB_OK;
}

const char *web_header(const struct web_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->impl, MHD_HEADER_KIND, name);
}

kb_err web_fail(struct web_response *resp, unsigned status, const char *msg)
{
    resp->status = status;
    buf_reset(&resp->body);
    struct jw w;
    jw_init(&w, &resp->body);
    jw_obj_begin(&w);
    jw_kv_str(&w, "error", msg);
    jw_obj_end(&w);
    jw_finish(&w);
    return KB_EINVAL;
}

/* ---- checks on the headers ---------------------------------------------- */

/* Bearer token, compared without an early exit so timing does not reveal
 * how many leading bytes matched. */
static bool auth_ok(const struct web *w, struct MHD_Connection *c)
{
    const char *tok = w->deps.cfg->http.token;
    if (!tok || !*tok)
        return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    size_t hn = strlen(h), tn = strlen(tok);
    while (hn > 0 && h[hn - 1] == ' ')
        hn--;
    unsigned diff = hn != tn;
    for (size_t i = 0; i < tn; i++)
        diff |= (unsigned char)tok[i] ^ (unsigned char)(i < hn ? h[i] : 0);
    return diff == 0;
}

static bool is_get(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

/* First call of a request: the headers are in. Picks the route and answers
 * at once whatever needs no body. */
static enum MHD_Result begin(struct web_req *r, const char *url, const char *method)
{
    struct web *w = r->w;
    if (strcmp(url, "/v1/events") == 0 || strcmp(url, "/v1/events/") == 0) {
        r->route = WEB_ROUTE_EVENTS;
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            return web_reply_error(r, 405, "method not allowed", MHD_HTTP_HEADER_ALLOW, "POST");
    } else if (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0) {
        r->route = url[1] == 'h' ? WEB_ROUTE_HEALTHZ : WEB_ROUTE_METRICS;
        if (!is_get(method))
            return web_reply_error(r, 405, "method not allowed", MHD_HTTP_HEADER_ALLOW,
                                   "GET, HEAD");
        return r->route == WEB_ROUTE_HEALTHZ ? web_healthz(r) : web_metrics_route(r);
    } else if (w->deps.route) {
        r->route = WEB_ROUTE_API;
    } else {
        r->route = WEB_ROUTE_NONE;
        return web_reply_error(r, 404, "not found", NULL, NULL);
    }

    /* Slack cannot send koban's token; it signs its requests, and the
     * route checks the signature (web/api_slack.h). */
    bool slack = r->route == WEB_ROUTE_API && strncmp(url, "/v1/slack/", 10) == 0;
    if (!slack && !auth_ok(w, r->conn))
        return web_reply_error(r, 401, "missing or wrong bearer token",
                               MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");

    bool gzip = false;
    const char *enc = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (enc && (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "x-gzip") == 0 ||
                strcasecmp(enc, "deflate") == 0)) {
        gzip = true;
    } else if (enc && *enc && strcasecmp(enc, "identity") != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "unsupported Content-Encoding '%.60s' (use gzip)", enc);
        return web_reply_error(r, 415, msg, NULL, NULL);
    }

    /* Refuse a declared oversize body before reading a byte of it. */
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = 0;
    if (cl) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && (errno == ERANGE || n > w->max_body)) {
            char msg[120];
            snprintf(msg, sizeof msg, "body is larger than %zu bytes", w->max_body);
            return web_reply_error(r, 413, msg, NULL, NULL);
        }
        if (end != cl)
            declared = n;
    }

    if (r->route == WEB_ROUTE_EVENTS) {
        const char *src = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "source");
        if (src) {
            r->forced = format_by_name(src);
            if (!r->forced) {
                char msg[160];
                snprintf(msg, sizeof msg, "unknown source '%.80s'", src);
                return web_reply_error(r, 400, msg, NULL, NULL);
            }
        }
    }
    web_body_init(&r->body, w->max_body, gzip);
    /* A plain body arrives in pieces of a few KiB: room for all of it up
     * front spares the buffer its doublings and copies. Bounded, so that a
     * declared length alone cannot reserve much memory. */
    if (!gzip && declared > 0)
        buf_reserve(&r->body.out, (size_t)KB_MIN(declared, (unsigned long long)WEB_PRESIZE_MAX));
    r->body_ready = true;
    r->st = WEB_REQ_BODY;
    return MHD_YES;
}

/* ---- other routes ------------------------------------------------------- */

enum MHD_Result web_healthz(struct web_req *r)
{
    struct web *w = r->w;
    struct kb_why why = {0};
    struct buf b = BUF_INIT(1024);
    if (w->deps.health && w->deps.health(w->deps.health_ctx, &why) != KB_OK) {
        buf_printf(&b, "unhealthy: %s\n", why.msg[0] ? why.msg : "no reason given");
        return web_reply(r, 503, "text/plain; charset=utf-8", &b, NULL, NULL);
    }
    buf_puts(&b, "ok\n");
    return web_reply(r, 200, "text/plain; charset=utf-8", &b, NULL, NULL);
}

static kb_err put_metric(struct buf *b, const char *name, const char *type, const char *help,
                         uint64_t v)
{
    return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
                      (unsigned long long)v);
}

static kb_err journal_metrics(struct journal *j, struct buf *b)
{
    struct journal_stats st = {0};
    journal_stats(j, &st);
    kb_err e = put_metric(b, "koban_journal_records_total", "counter",
                          "Records made durable in the journal.", st.records);
    if (e == KB_OK)
        e = put_metric(b, "koban_journal_bytes_total", "counter",
                       "Bytes made durable in the journal since start.", st.bytes);
    if (e == KB_OK)
        e = put_metric(b, "koban_journal_appended_raw_bytes_total", "counter",
                       "Bytes of records appended since start, before compression.",
                       st.in_bytes);
    if (e == KB_OK)
        e = put_metric(b, "koban_journal_appended_bytes_total", "counter",
                       "The same records as written (compressed groups).", st.out_bytes);
    if (e == KB_OK)
        e = put_metric(b, "koban_journal_syncs_total", "counter",
                       "fdatasync calls by the journal writer since start.", st.syncs);
    if (e == KB_OK)
        e = put_metric(b, "koban_journal_durable_seq", "gauge",
                       "Highest durable journal sequence number.", journal_durable_seq(j));
    if (e == KB_OK)
        e = put_metric(b, "koban_journal_segments", "gauge", "Journal segment files present.",
                       st.segments);
    return e;
}

enum MHD_Result web_metrics_route(struct web_req *r)
{
    struct web *w = r->w;
    struct buf b = BUF_INIT(WEB_METRICS_MAX);
    kb_err e = KB_OK;
    if (w->deps.intake)
        e = intake_metrics(w->deps.intake, &b);
    if (e == KB_OK && w->deps.journal)
        e = journal_metrics(w->deps.journal, &b);
    if (e == KB_OK)
        e = web_metrics(w, &b);
    if (e == KB_OK && w->deps.metrics)
        e = w->deps.metrics(w->deps.metrics_ctx, &b);
    if (e != KB_OK) {
        buf_release(&b);
        char msg[120];
        snprintf(msg, sizeof msg, "metrics: %s", kb_strerror(e));
        return web_reply_error(r, 500, msg, NULL, NULL);
    }
    return web_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", &b, NULL, NULL);
}

static enum MHD_Result api_route(struct web_req *r, const char *url, const char *method)
{
    struct web *w = r->w;
    struct web_request req = {
        .method = method,
        .path = url,
        .body = r->body.out.p ? r->body.out.p : "",
        .body_len = r->body.out.len,
        .impl = r->conn,
    };
    struct web_response resp = {200, "application/json", BUF_INIT(WEB_MAX_RESPONSE)};
    kb_err e = w->deps.route(w->deps.route_ctx, &req, &resp);
    if (e == KB_ENOTFOUND) {
        buf_release(&resp.body);
        r->route = WEB_ROUTE_NONE;
        return web_reply_error(r, 404, "not found", NULL, NULL);
    }
    if ((e != KB_OK && resp.status < 400) || resp.status < 100 || resp.status > 599) {
        buf_release(&resp.body);
        return web_reply_error(r, 500, "internal error", NULL, NULL);
    }
    return web_reply(r, resp.status, resp.content_type ? resp.content_type : "application/json",
                     &resp.body, NULL, NULL);
}

/* ---- MHD callbacks ------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct web_req *r = *con_cls;
    if (!r) {
        r = kb_calloc(1, sizeof *r);
        r->w = cls;
        r->conn = conn;
        atomic_init(&r->claimed, 0);
        atomic_init(&r->derr, 0);
        atomic_init(&r->refs, 1);
        *con_cls = r;
        return begin(r, url, method);
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->st != WEB_REQ_BODY)
            return MHD_YES;
        if (r->fail_status) {
            /* MHD lets a handler answer only before the body or after all
             * of it, so a body found bad midway is read and dropped to give
             * the client its 413/400 — but only so far: past that, the
             * connection is closed. */
            r->discarded += n;
            return r->discarded > WEB_DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        kb_err e = web_body_feed(&r->body, upload, n, &r->fail_why);
        if (e != KB_OK) {
            r->fail_status = e == KB_ETOOBIG ? 413 : 400;
            web_body_release(&r->body);
            r->body_ready = false;
        }
        return MHD_YES;
    }
    switch (r->st) {
    case WEB_REQ_BODY:
        if (r->fail_status)
            return web_reply_error(r, r->fail_status, r->fail_why.msg, NULL, NULL);
        if (web_body_finish(&r->body, &r->fail_why) != KB_OK)
            return web_reply_error(r, 400, r->fail_why.msg, NULL, NULL);
        if (r->route == WEB_ROUTE_EVENTS)
            return web_events(r);
        return api_route(r, url, method);
    case WEB_REQ_WAIT:
        return web_events_resumed(r);
    default:
        return MHD_NO; /* cannot happen: answered requests are not called again */
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct web_req *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    web_events_completed(r);
    if (r->body_ready)
        web_body_release(&r->body);
    buf_release(&r->reply);
    web_req_unref(r);
}

void web_req_unref(struct web_req *r)
{
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        free(r);
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt,
                                                             va_list ap)
{
    char msg[512], q[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    kb_log(KB_LOG_WARN, "http server", "detail=%s", kb_logq(q, sizeof q, msg));
}

/* ---- start / stop --------------------------------------------------------- */

static kb_err resolve_listen(const char *listen, struct sockaddr_storage *ss, bool *v6,
                             struct kb_why *why)
{
    char *host = NULL;
    uint16_t port = 0;
    kb_err e = config_parse_addr(listen, &host, &port, why);
    if (e)
        return e;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    int rc = getaddrinfo(host && *host ? host : NULL, portstr, &hints, &res);
    free(host);
    if (rc != 0 || !res)
        return kb_fail(why, KB_EINVAL, "http.listen '%s': %s", listen, gai_strerror(rc));
    memset(ss, 0, sizeof *ss);
    memcpy(ss, res->ai_addr, KB_MIN((size_t)res->ai_addrlen, sizeof *ss));
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return KB_OK;
}

/* http.threads, or when 0 one per online CPU but at least
 * WEB_MIN_AUTO_THREADS (and at most WEB_MAX_THREADS). Why more threads than
 * CPUs: a request is checked (parsed, normalized, rules) on its connection's
 * thread, and while it is, that thread's other connections wait, answers of
 * durable requests included. With 8 threads on 2 CPUs the kernel interleaves
 * them. Batches of 100 over 8 connections, fresh daemons started as
 * bench/run.sh starts them, alternating: 2 threads 220k, 224k, 221k, 239k
 * events/s; 8 threads 243k, 249k, 266k, 253k (make bench: median 235k with
 * 2, 265k with 8). At other times the two were level (300k-309k each). */
static unsigned web_thread_count(unsigned configured)
{
    if (configured)
        return KB_MIN(configured, WEB_MAX_THREADS);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < (long)WEB_MIN_AUTO_THREADS)
        return WEB_MIN_AUTO_THREADS;
    return (unsigned)KB_MIN((unsigned long)n, (unsigned long)WEB_MAX_THREADS);
}

/* A listening socket for ss (non-blocking: the acceptor drains it). */
static kb_err listen_on(const struct sockaddr_storage *ss, bool v6, int *fd, uint16_t *port,
                        struct kb_why *why)
{
    int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return kb_fail(why, KB_EIO, "http: socket: %s", strerror(errno));
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (v6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(s, (const struct sockaddr *)ss, len) != 0 || listen(s, 1024) != 0) {
        int err = errno;
        close(s);
        return kb_fail(why, KB_EIO, "http: cannot listen: %s", strerror(err));
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    *port = 0;
    if (getsockname(s, (struct sockaddr *)&got, &gl) == 0)
        *port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                : ((struct sockaddr_in *)&got)->sin_port);
    *fd = s;
    return KB_OK;
}

static void close_fds(struct web *w)
{
    if (w->lfd >= 0)
        close(w->lfd);
    for (int i = 0; i < 2; i++)
        if (w->stop_fds[i] >= 0)
            close(w->stop_fds[i]);
    w->lfd = w->stop_fds[0] = w->stop_fds[1] = -1;
}

/* Accepts connections and hands them to the daemons in turn. A burst is
 * bounded so that a stop is noticed; a failing accept (no descriptors left)
 * backs off briefly instead of spinning. */
static void *acceptor_main(void *arg)
{
    struct web *w = arg;
    struct pollfd p[2] = {{.fd = w->lfd, .events = POLLIN}, {.fd = w->stop_fds[0], .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        for (int k = 0; k < 256; k++) {
            struct sockaddr_storage sa;
            socklen_t sl = sizeof sa;
            int fd = accept4(w->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
                break;
            }
            /* MHD owns (and on failure closes) the socket from here */
            MHD_add_connection(w->mhd[w->next++ % w->nmhd], fd, (struct sockaddr *)&sa, sl);
        }
    }
    return NULL;
}

/* Stops accepting: new clients fail at once instead of waiting in the
 * backlog. */
static void stop_acceptor(struct web *w)
{
    if (!w->acceptor_started)
        return;
    ssize_t n = write(w->stop_fds[1], "x", 1);
    (void)n;
    pthread_join(w->acceptor, NULL);
    w->acceptor_started = false;
    if (w->lfd >= 0) {
        shutdown(w->lfd, SHUT_RDWR);
        close(w->lfd);
        w->lfd = -1;
    }
}

kb_err web_start(const struct web_deps *deps, struct web **out, struct kb_why *why)
{
    *out = NULL;
    if (!deps || !deps->cfg || !deps->journal || !deps->intake)
        return kb_fail(why, KB_EINVAL, "web_start: config, journal and intake are required");
    const struct kb_config *cfg = deps->cfg;
    struct sockaddr_storage ss;
    bool v6 = false;
    kb_err e = resolve_listen(cfg->http.listen ? cfg->http.listen : "127.0.0.1:8478", &ss,
                              &v6, why);
    if (e)
        return e;

    struct web *w = kb_calloc(1, sizeof *w);
    w->deps = *deps;
    w->max_body = cfg->http.max_body ? cfg->http.max_body : WEB_DEFAULT_MAX_BODY;
    pthread_mutex_init(&w->mu, NULL);
    atomic_init(&w->inflight, 0);
    atomic_init(&w->stopping, false);
    for (size_t i = 0; i < WEB_ROUTE_COUNT; i++)
        for (size_t c = 0; c < WEB_CODES; c++)
            atomic_init(&w->counts[i][c], 0);

    /* poll(), not epoll: libmicrohttpd 0.9.75's epoll loop reads at most 128
     * events per epoll_wait and, when a batch is exactly full, waits again
     * with the full connection timeout — having already swallowed the
     * inter-thread wake-up of MHD_resume_connection. With 128 or more busy
     * connections, durable requests then sat suspended for up to 30 s
     * (tests/unit/web/test_web_load.c, test_wide). poll() has no such loop;
     * its cost per wake-up is linear in the thread's connections, which
     * http.max_connections bounds. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    unsigned maxconn = cfg->http.max_connections ? cfg->http.max_connections : 1024;
    unsigned timeout = cfg->http.timeout_s ? cfg->http.timeout_s : 30;
    unsigned threads = web_thread_count(cfg->http.threads);
    w->lfd = -1;
    w->stop_fds[0] = w->stop_fds[1] = -1;
    e = listen_on(&ss, v6, &w->lfd, &w->port, why);
    if (!e && pipe2(w->stop_fds, O_CLOEXEC | O_NONBLOCK) != 0)
        e = kb_fail(why, KB_EIO, "http: pipe: %s", strerror(errno));
    /* Each daemon takes its share of http.max_connections. */
    unsigned per = (maxconn + threads - 1) / threads;
    for (unsigned i = 0; !e && i < threads; i++) {
        errno = 0;
        /* The logger goes first so that MHD reports option errors through it. */
        w->mhd[i] = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w,
                                     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w,
                                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
                                     MHD_OPTION_CONNECTION_LIMIT, per,
                                     MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_END);
        if (!w->mhd[i]) {
            int err = errno;
            e = kb_fail(why, KB_EIO, "http: cannot start: %s",
                        err ? strerror(err) : "the HTTP library refused to start");
        } else {
            w->nmhd++;
        }
    }
    if (!e) {
        if (pthread_create(&w->acceptor, NULL, acceptor_main, w) != 0)
            e = kb_fail(why, KB_EIO, "http: cannot start the acceptor thread");
        else
            w->acceptor_started = true;
    }
    if (e) {
        for (unsigned i = 0; i < w->nmhd; i++)
            MHD_stop_daemon(w->mhd[i]);
        close_fds(w);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return e;
    }
    log_info("http listening", "addr=%s port=%u threads=%u", cfg->http.listen,
             (unsigned)w->port, threads);
    *out = w;
    return KB_OK;
}

uint16_t web_port(const struct web *w)
{
    return w->port;
}

static size_t inflight(struct web *w)
{
    return atomic_load(&w->inflight);
}

static bool wait_inflight(struct web *w, int ms)
{
    int64_t deadline = kb_mono_ns() + (int64_t)ms * 1000000;
    while (inflight(w) > 0) {
        if (kb_mono_ns() >= deadline)
            return false;
        nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
    }
    return true;
}

void web_stop(struct web *w)
{
    if (!w)
        return;
    atomic_store(&w->stopping, true);
    stop_acceptor(w);
    if (!wait_inflight(w, WEB_STOP_WAIT_MS)) {
        log_warn("http stop: requests still wait for the journal; answering 503",
                 "count=%zu", inflight(w));
        web_events_abandon(w);
        if (!wait_inflight(w, WEB_STOP_GRACE_MS))
            log_error("http stop: requests still in flight", "count=%zu", inflight(w));
    }
    for (unsigned i = 0; i < w->nmhd; i++)
        MHD_stop_daemon(w->mhd[i]);
    close_fds(w);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

kb_err web_metrics(struct web *w, struct buf *out)
{
    kb_err e = buf_puts(out, "# HELP koban_http_requests_total HTTP requests answered, "
                             "by route and status code.\n"
                             "# TYPE koban_http_requests_total counter\n");
    for (size_t i = 0; i < WEB_ROUTE_COUNT && e == KB_OK; i++)
        for (size_t c = 0; c < WEB_CODES && e == KB_OK; c++) {
            uint64_t n = atomic_load_explicit(&w->counts[i][c], memory_order_relaxed);
            if (n)
                e = buf_printf(out, "koban_http_requests_total{route=\"%s\",code=\"%zu\"} %llu\n",
                               route_names[i], c + WEB_CODE_MIN, (unsigned long long)n);
        }
    if (e == KB_OK)
        e = buf_printf(out, "# HELP koban_http_requests_inflight Event requests between intake "
                            "and their answer.\n# TYPE koban_http_requests_inflight gauge\n"
                            "koban_http_requests_inflight %zu\n", inflight(w));
    return e;
}
