/*
 * web_test.h — what the web tests share: a small HTTP/1.1 client over plain
 * sockets (keep-alive, chunked uploads) and a server under test (a journal
 * in a temporary folder, an intake, web on 127.0.0.1 port 0).
 */
#ifndef KOBAN_WEB_TEST_H
#define KOBAN_WEB_TEST_H

#include "test.h"

#include "web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <zlib.h>

/* ---- a small HTTP/1.1 client ---------------------------------------------- */

struct hc {
    int fd;
    char in[1 << 16];
    size_t inlen;
};

struct hresp {
    int status;
    char head[8192];
    char *body; /* malloc'd, NUL-terminated */
    size_t blen;
};

static inline bool hc_open(struct hc *c, uint16_t port)
{
    c->inlen = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return false;
    struct timeval tv = {20, 0}; /* bounds every read and write */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(c->fd);
        c->fd = -1;
        return false;
    }
    return true;
}

static inline void hc_close(struct hc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static inline bool send_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        s += k;
        n -= (size_t)k;
    }
    return true;
}

static inline ssize_t hc_fill(struct hc *c)
{
    if (c->inlen >= sizeof c->in)
        return -1;
    ssize_t k;
    do
        k = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
    while (k < 0 && errno == EINTR);
    if (k > 0)
        c->inlen += (size_t)k;
    return k;
}

static inline void hresp_free(struct hresp *r)
{
    free(r->body);
    r->body = NULL;
}

/* Value of header name in r->head (copied into out), or NULL. */
static inline const char *hresp_header(const struct hresp *r, const char *name, char *out, size_t outsz)
{
    size_t n = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2;
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            h += n + 1;
            while (*h == ' ')
                h++;
            const char *end = strstr(h, "\r\n");
            size_t len = end ? (size_t)(end - h) : strlen(h);
            if (len >= outsz)
                len = outsz - 1;
            memcpy(out, h, len);
            out[len] = '\0';
            return out;
        }
    }
    return NULL;
}

static inline bool hc_read_response(struct hc *c, struct hresp *r)
{
    memset(r, 0, sizeof *r);
    char *end;
    for (;;) {
        c->in[c->inlen < sizeof c->in ? c->inlen : sizeof c->in - 1] = '\0';
        end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
        if (end)
            break;
        if (hc_fill(c) <= 0)
            return false;
    }
    size_t hlen = (size_t)(end - c->in) + 4;
    if (hlen >= sizeof r->head)
        return false;
    memcpy(r->head, c->in, hlen);
    r->head[hlen] = '\0';
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return false;
    char v[64];
    size_t clen = 0;
    bool have_len = hresp_header(r, "Content-Length", v, sizeof v) != NULL;
    if (have_len)
        clen = strtoull(v, NULL, 10);
    memmove(c->in, c->in + hlen, c->inlen - hlen);
    c->inlen -= hlen;
    if (!have_len) { /* read until the server closes */
        while (hc_fill(c) > 0)
            ;
        clen = c->inlen;
    }
    r->body = malloc(clen + 1);
    size_t got = 0;
    while (got < clen) {
        if (c->inlen == 0 && hc_fill(c) <= 0) {
            hresp_free(r);
            return false;
        }
        size_t take = c->inlen < clen - got ? c->inlen : clen - got;
        memcpy(r->body + got, c->in, take);
        memmove(c->in, c->in + take, c->inlen - take);
        c->inlen -= take;
        got += take;
    }
    r->body[clen] = '\0';
    r->blen = clen;
    return true;
}

/* Sends one request (extra: more header lines, each ending in \r\n) and
 * reads the answer. */
static inline bool hc_request(struct hc *c, const char *method, const char *target, const char *extra,
                       const void *body, size_t blen, struct hresp *r)
{
    char head[2048];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: %zu\r\n\r\n",
                     method, target, extra ? extra : "", blen);
    if (n < 0 || (size_t)n >= sizeof head)
        return false;
    if (!send_all(c->fd, head, (size_t)n) || (blen && !send_all(c->fd, body, blen)))
        return false;
    return hc_read_response(c, r);
}

/* One request on a fresh connection. */
static inline bool http1(uint16_t port, const char *method, const char *target, const char *extra,
                  const void *body, size_t blen, struct hresp *r)
{
    struct hc *c = malloc(sizeof *c);
    bool ok = hc_open(c, port) && hc_request(c, method, target, extra, body, blen, r);
    hc_close(c);
    free(c);
    return ok;
}

/* The integer after "key": in a JSON text, or -1. */
static inline long long jint(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = json ? strstr(json, pat) : NULL;
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static inline char *gzip_bytes(const void *src, size_t n, size_t *outlen)
{
    z_stream zs = {0};
    deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    size_t cap = deflateBound(&zs, n) + 64;
    char *out = malloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    deflate(&zs, Z_FINISH);
    *outlen = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* ---- the server under test ------------------------------------------------- */

struct env {
    char dir[64];
    struct kb_config cfg;
    struct journal *j;
    struct intake *in;
    struct web *w;
    uint16_t port;
    atomic_int unhealthy;
    atomic_int extra_metrics_calls;
};

static inline kb_err env_health(void *ctx, struct kb_why *why)
{
    struct env *e = ctx;
    return atomic_load(&e->unhealthy) ? kb_fail(why, KB_EIO, "journal disk is full") : KB_OK;
}

static inline kb_err env_metrics(void *ctx, struct buf *out)
{
    struct env *e = ctx;
    atomic_fetch_add(&e->extra_metrics_calls, 1);
    return buf_puts(out, "# TYPE koban_test_extra gauge\nkoban_test_extra 42\n");
}

/* Extra routes, as the issues API plugs in. */
static inline kb_err env_route(void *ctx, const struct web_request *req, struct web_response *resp)
{
    if (strcmp(req->path, "/v1/issues") == 0) {
        if (strcmp(req->method, "GET") == 0) {
            const char *st = web_query(req, "state");
            const char *h = web_header(req, "x-koban-test");
            buf_printf(&resp->body, "{\"state\":\"%s\",\"hdr\":\"%s\"}", st ? st : "-",
                       h ? h : "-");
            return KB_OK;
        }
        if (strcmp(req->method, "POST") == 0) {
            resp->status = 201;
            buf_append(&resp->body, req->body, req->body_len);
            return KB_OK;
        }
        resp->status = 405;
        buf_puts(&resp->body, "{\"error\":\"method\"}");
        return KB_EINVAL;
    }
    if (strcmp(req->path, "/v1/boom") == 0)
        return KB_EIO;
    return KB_ENOTFOUND;
}

/* threads: http.threads (0 = one per CPU, as by default). */
static inline bool env_start_threads(struct env *e, const char *token, size_t max_body,
                                     unsigned threads)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/koban-web-XXXXXX");
    if (!mkdtemp(e->dir))
        return false;
    struct kb_why why = {0};
    if (config_load(NULL, &e->cfg, &why) != KB_OK) {
        fprintf(stderr, "config: %s\n", why.msg);
        return false;
    }
    free(e->cfg.http.listen);
    e->cfg.http.listen = kb_strdup("127.0.0.1:0");
    free(e->cfg.http.token);
    e->cfg.http.token = token ? kb_strdup(token) : NULL;
    e->cfg.http.max_body = max_body;
    e->cfg.http.threads = threads;
    struct journal_opts jo = {0};
    if (journal_open(e->dir, &jo, &e->j, &why) != KB_OK) {
        fprintf(stderr, "journal: %s\n", why.msg);
        return false;
    }
    if (intake_new(e->j, NULL, &e->in) != KB_OK)
        return false;
    struct web_deps d = {
        .cfg = &e->cfg, .journal = e->j, .intake = e->in,
        .metrics = env_metrics, .metrics_ctx = e,
        .health = env_health, .health_ctx = e,
        .route = env_route, .route_ctx = e,
    };
    if (web_start(&d, &e->w, &why) != KB_OK) {
        fprintf(stderr, "web: %s\n", why.msg);
        return false;
    }
    e->port = web_port(e->w);
    return e->port != 0;
}

static inline bool env_start(struct env *e, const char *token, size_t max_body)
{
    return env_start_threads(e, token, max_body, 0);
}

static inline int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static inline void env_stop(struct env *e)
{
    web_stop(e->w);
    intake_free(e->in);
    journal_close(e->j);
    config_release(&e->cfg);
    nftw(e->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Durable records of kind JSON whose payload is exactly s[0..n); the format
 * id of the last one found goes to *fmt. */
static inline int journal_count(struct env *e, const char *s, size_t n, int *fmt)
{
    struct journal_reader *rd = NULL;
    if (journal_reader_open(e->j, 0, &rd) != KB_OK)
        return -1;
    int found = 0;
    struct journal_entry je;
    while (journal_reader_next(rd, &je) == KB_OK)
        if (je.kind == JOURNAL_EVENT_JSON && je.data.n == n && memcmp(je.data.p, s, n) == 0) {
            found++;
            if (fmt)
                *fmt = je.format_id;
        }
    journal_reader_close(rd);
    return found;
}

#define JCOUNT(e, lit) journal_count((e), (lit), strlen(lit), NULL)

#endif
