/*
 * test_web.c — the HTTP server over real sockets: a journal in a temporary
 * folder, an intake, and web on 127.0.0.1 (port 0), driven by a small HTTP/1.1
 * client written here (keep-alive, chunked uploads, gzip).
 */
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

static bool hc_open(struct hc *c, uint16_t port)
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

static void hc_close(struct hc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static bool send_all(int fd, const void *p, size_t n)
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

static ssize_t hc_fill(struct hc *c)
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

static void hresp_free(struct hresp *r)
{
    free(r->body);
    r->body = NULL;
}

/* Value of header name in r->head (copied into out), or NULL. */
static const char *hresp_header(const struct hresp *r, const char *name, char *out, size_t outsz)
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

static bool hc_read_response(struct hc *c, struct hresp *r)
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
static bool hc_request(struct hc *c, const char *method, const char *target, const char *extra,
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
static bool http1(uint16_t port, const char *method, const char *target, const char *extra,
                  const void *body, size_t blen, struct hresp *r)
{
    struct hc *c = malloc(sizeof *c);
    bool ok = hc_open(c, port) && hc_request(c, method, target, extra, body, blen, r);
    hc_close(c);
    free(c);
    return ok;
}

/* The integer after "key": in a JSON text, or -1. */
static long long jint(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = json ? strstr(json, pat) : NULL;
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static char *gzip_bytes(const void *src, size_t n, size_t *outlen)
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

static kb_err env_health(void *ctx, struct kb_why *why)
{
    struct env *e = ctx;
    return atomic_load(&e->unhealthy) ? kb_fail(why, KB_EIO, "journal disk is full") : KB_OK;
}

static kb_err env_metrics(void *ctx, struct buf *out)
{
    struct env *e = ctx;
    atomic_fetch_add(&e->extra_metrics_calls, 1);
    return buf_puts(out, "# TYPE koban_test_extra gauge\nkoban_test_extra 42\n");
}

/* Extra routes, as the issues API plugs in. */
static kb_err env_route(void *ctx, const struct web_request *req, struct web_response *resp)
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

static bool env_start(struct env *e, const char *token, size_t max_body)
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

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void env_stop(struct env *e)
{
    web_stop(e->w);
    intake_free(e->in);
    journal_close(e->j);
    config_release(&e->cfg);
    nftw(e->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Durable records of kind JSON whose payload is exactly s[0..n); the format
 * id of the last one found goes to *fmt. */
static int journal_count(struct env *e, const char *s, size_t n, int *fmt)
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

static struct env E; /* the shared server for most tests: no token, 256 KiB bodies */
static bool E_up;

#define NEED_ENV()                                                             \
    if (!E_up)                                                                 \
    T_SKIP("the server did not start")

static bool post_events(const char *target, const char *extra, const char *body, size_t blen,
                        struct hresp *r)
{
    return http1(E.port, "POST", target, extra, body, blen, r);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_single_object(void)
{
    NEED_ENV();
    const char *ev = "{\"title\":\"single object\",\"severity\":\"high\",\"n\":1}";
    struct hresp r;
    T_CHECK(post_events("/v1/events", "Content-Type: application/json\r\n", ev, strlen(ev), &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(jint(r.body, "accepted"), 1);
    T_EQ_INT(jint(r.body, "rejected"), 0);
    T_CHECK(r.body && strstr(r.body, "\"errors\":[]"));
    long long seq = jint(r.body, "last_seq");
    T_CHECK(seq >= 1);
    T_CHECK(journal_durable_seq(E.j) >= (uint64_t)seq);
    T_EQ_INT(JCOUNT(&E, ev), 1);
    hresp_free(&r);
    /* The trailing-slash spelling is the same route. */
    const char *ev2 = "{\"title\":\"trailing slash\"}";
    T_CHECK(post_events("/v1/events/", NULL, ev2, strlen(ev2), &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(JCOUNT(&E, ev2), 1);
    hresp_free(&r);
}

static void test_array_and_ndjson(void)
{
    NEED_ENV();
    const char *arr = "[{\"title\":\"arr-a\"},{\"title\":\"arr-b\"},{\"title\":\"arr-c\"}]";
    struct hresp r;
    T_CHECK(post_events("/v1/events", NULL, arr, strlen(arr), &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(jint(r.body, "accepted"), 3);
    T_EQ_INT(JCOUNT(&E, "{\"title\":\"arr-a\"}"), 1);
    T_EQ_INT(JCOUNT(&E, "{\"title\":\"arr-c\"}"), 1);
    hresp_free(&r);

    const char *nd = "{\"title\":\"nd-1\"}\n{\"title\":\"nd-2\"}\n";
    T_CHECK(post_events("/v1/events", "Content-Type: application/x-ndjson\r\n", nd, strlen(nd),
                        &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(jint(r.body, "accepted"), 2);
    T_EQ_INT(JCOUNT(&E, "{\"title\":\"nd-1\"}"), 1);
    T_EQ_INT(JCOUNT(&E, "{\"title\":\"nd-2\"}"), 1);
    hresp_free(&r);
}

static void test_gzip(void)
{
    NEED_ENV();
    const char *nd = "{\"title\":\"gz-1\"}\n{\"title\":\"gz-2\"}\n";
    size_t zn;
    char *z = gzip_bytes(nd, strlen(nd), &zn);
    struct hresp r;
    T_CHECK(post_events("/v1/events", "Content-Encoding: gzip\r\n", z, zn, &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(jint(r.body, "accepted"), 2);
    T_EQ_INT(JCOUNT(&E, "{\"title\":\"gz-2\"}"), 1);
    hresp_free(&r);
    /* Cut short: the stream never ends. */
    T_CHECK(post_events("/v1/events", "Content-Encoding: gzip\r\n", z, zn - 6, &r));
    T_EQ_INT(r.status, 400);
    T_CHECK(r.body && strstr(r.body, "gzip"));
    hresp_free(&r);
    free(z);
    /* Not gzip at all. */
    T_CHECK(post_events("/v1/events", "Content-Encoding: gzip\r\n", nd, strlen(nd), &r));
    T_EQ_INT(r.status, 400);
    hresp_free(&r);
    T_CHECK(post_events("/v1/events", "Content-Encoding: br\r\n", nd, strlen(nd), &r));
    T_EQ_INT(r.status, 415);
    hresp_free(&r);
}

static void test_gzip_bomb(void)
{
    NEED_ENV();
    size_t n = 32u * 1024 * 1024; /* inflates to 128x the 256 KiB limit */
    char *zeros = calloc(1, n);
    size_t zn;
    char *z = gzip_bytes(zeros, n, &zn);
    free(zeros);
    T_CHECK(zn < 256 * 1024); /* small on the wire: passes the Content-Length check */
    struct hresp r;
    T_CHECK(post_events("/v1/events", "Content-Encoding: gzip\r\n", z, zn, &r));
    T_EQ_INT(r.status, 413);
    hresp_free(&r);
    free(z);
}

static void test_source_forcing(void)
{
    NEED_ENV();
    const char *gd = "{\"type\":\"Recon:EC2/PortProbeUnprotectedPort\",\"id\":\"gd-force-1\","
                     "\"severity\":5}";
    const struct format *f = format_by_name("guardduty");
    T_CHECK(f != NULL);
    struct hresp r;
    T_CHECK(post_events("/v1/events?source=guardduty", NULL, gd, strlen(gd), &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(jint(r.body, "accepted"), 1);
    hresp_free(&r);
    int fmt = -1;
    T_EQ_INT(journal_count(&E, gd, strlen(gd), &fmt), 1);
    T_EQ_INT(fmt, f ? f->id : -2);

    /* Forced, an event of the wrong shape is rejected with the format's reason. */
    const char *notgd = "{\"title\":\"not a finding\"}";
    T_CHECK(post_events("/v1/events?source=guardduty", NULL, notgd, strlen(notgd), &r));
    T_EQ_INT(r.status, 400);
    T_EQ_INT(jint(r.body, "rejected"), 1);
    T_CHECK(r.body && strstr(r.body, "guardduty"));
    hresp_free(&r);

    T_CHECK(post_events("/v1/events?source=nosuchformat", NULL, gd, strlen(gd), &r));
    T_EQ_INT(r.status, 400);
    T_CHECK(r.body && strstr(r.body, "nosuchformat"));
    hresp_free(&r);
}

static void test_partial_rejects(void)
{
    NEED_ENV();
    /* A truncated event between two good ones: the good ones are kept. */
    const char *nd = "{\"title\":\"pr-good-1\"}\n{\"title\":\"pr-bad\n{\"title\":\"pr-good-2\"}\n";
    struct hresp r;
    T_CHECK(post_events("/v1/events", NULL, nd, strlen(nd), &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(jint(r.body, "accepted"), 2);
    T_EQ_INT(jint(r.body, "rejected"), 1);
    T_EQ_INT(jint(r.body, "index"), 1);
    T_CHECK(r.body && strstr(r.body, "\"reason\":\"") && !strstr(r.body, "\"reason\":\"\""));
    T_EQ_INT(JCOUNT(&E, "{\"title\":\"pr-good-1\"}"), 1);
    T_EQ_INT(JCOUNT(&E, "{\"title\":\"pr-good-2\"}"), 1);
    hresp_free(&r);

    /* Invalid UTF-8 inside a string: that event only is rejected. */
    const char *bad = "{\"title\":\"utf-ok\"}\n{\"title\":\"utf-\xff\xfe\"}\n";
    T_CHECK(post_events("/v1/events", NULL, bad, strlen(bad), &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(jint(r.body, "accepted"), 1);
    T_EQ_INT(jint(r.body, "rejected"), 1);
    T_EQ_INT(jint(r.body, "index"), 1);
    T_EQ_INT(JCOUNT(&E, "{\"title\":\"utf-ok\"}"), 1);
    hresp_free(&r);

    /* Nothing usable at all: 400, with the report. */
    const char *cut = "{\"title\":\"cut";
    T_CHECK(post_events("/v1/events", NULL, cut, strlen(cut), &r));
    T_EQ_INT(r.status, 400);
    T_EQ_INT(jint(r.body, "accepted"), 0);
    T_EQ_INT(jint(r.body, "rejected"), 1);
    hresp_free(&r);

    /* Empty body: the payload as a whole is unusable. */
    T_CHECK(post_events("/v1/events", NULL, "", 0, &r));
    T_EQ_INT(r.status, 400);
    T_CHECK(r.body && strstr(r.body, "\"error\""));
    hresp_free(&r);
}

static void test_text_lines(void)
{
    NEED_ENV();
    const char *txt = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick\n";
    struct hresp r;
    T_CHECK(post_events("/v1/events", "Content-Type: text/plain\r\n", txt, strlen(txt), &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(jint(r.body, "accepted"), 1);
    hresp_free(&r);
}

static void test_body_limits(void)
{
    NEED_ENV();
    size_t n = 300 * 1024; /* over the 256 KiB limit */
    char *big = malloc(n);
    memset(big, ' ', n);
    big[0] = '[';
    big[n - 1] = ']';
    struct hresp r;
    T_CHECK(post_events("/v1/events", NULL, big, n, &r));
    T_EQ_INT(r.status, 413);
    hresp_free(&r);

    /* Expect: 100-continue with a declared oversize body: refused before
     * the body is sent. */
    struct hc *c = malloc(sizeof *c);
    T_CHECK(hc_open(c, E.port));
    char head[256];
    snprintf(head, sizeof head, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
                                "Expect: 100-continue\r\n\r\n", n);
    T_CHECK(send_all(c->fd, head, strlen(head)));
    T_CHECK(hc_read_response(c, &r));
    T_EQ_INT(r.status, 413);
    hresp_free(&r);
    hc_close(c);

    /* Chunked upload: no length up front; counted while streaming. */
    T_CHECK(hc_open(c, E.port));
    const char *h2 = "POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    bool sent = send_all(c->fd, h2, strlen(h2));
    for (size_t off = 0; sent && off < n; off += 16384) {
        char ch[32];
        size_t k = n - off < 16384 ? n - off : 16384;
        snprintf(ch, sizeof ch, "%zx\r\n", k);
        sent = send_all(c->fd, ch, strlen(ch)) && send_all(c->fd, big + off, k) &&
               send_all(c->fd, "\r\n", 2);
    }
    if (sent)
        send_all(c->fd, "0\r\n\r\n", 5);
    T_CHECK(hc_read_response(c, &r));
    T_EQ_INT(r.status, 413);
    hresp_free(&r);
    hc_close(c);

    /* Far over the limit: the server stops reading and closes the
     * connection rather than drain an endless upload. */
    T_CHECK(hc_open(c, E.port));
    sent = send_all(c->fd, h2, strlen(h2));
    size_t total = 0;
    for (int i = 0; sent && i < 2048; i++) { /* up to 32 MiB */
        char ch[32];
        snprintf(ch, sizeof ch, "%x\r\n", 16384);
        sent = send_all(c->fd, ch, strlen(ch)) && send_all(c->fd, big, 16384) &&
               send_all(c->fd, "\r\n", 2);
        if (sent)
            total += 16384;
    }
    bool answered = sent && send_all(c->fd, "0\r\n\r\n", 5) && hc_read_response(c, &r);
    T_CHECKF(!answered, "the server read all %zu bytes", total);
    if (answered)
        hresp_free(&r);
    hc_close(c);
    T_CHECK(http1(E.port, "GET", "/healthz", NULL, NULL, 0, &r)); /* still serving */
    T_EQ_INT(r.status, 200);
    hresp_free(&r);

    /* A chunked body under the limit is taken whole. */
    T_CHECK(hc_open(c, E.port));
    const char *parts[] = {"[{\"title\":", "\"chunked-ok\"}", ",{\"title\":\"chunked-ok-2\"}]"};
    sent = send_all(c->fd, h2, strlen(h2));
    for (size_t i = 0; i < KB_ARRAY_LEN(parts); i++) {
        char ch[32];
        snprintf(ch, sizeof ch, "%zx\r\n", strlen(parts[i]));
        sent = sent && send_all(c->fd, ch, strlen(ch)) &&
               send_all(c->fd, parts[i], strlen(parts[i])) && send_all(c->fd, "\r\n", 2);
    }
    T_CHECK(sent && send_all(c->fd, "0\r\n\r\n", 5));
    T_CHECK(hc_read_response(c, &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(jint(r.body, "accepted"), 2);
    T_EQ_INT(JCOUNT(&E, "{\"title\":\"chunked-ok\"}"), 1);
    hresp_free(&r);
    hc_close(c);
    free(c);
    free(big);
}

static void test_health_and_routes(void)
{
    NEED_ENV();
    struct hresp r;
    T_CHECK(http1(E.port, "GET", "/healthz", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 200);
    T_EQ_STR(r.body, "ok\n");
    hresp_free(&r);
    atomic_store(&E.unhealthy, 1);
    T_CHECK(http1(E.port, "GET", "/healthz", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 503);
    T_CHECK(r.body && strstr(r.body, "journal disk is full"));
    hresp_free(&r);
    atomic_store(&E.unhealthy, 0);

    char v[128];
    T_CHECK(http1(E.port, "GET", "/nowhere", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 404);
    T_EQ_STR(r.body, "{\"error\":\"not found\"}\n");
    T_CHECK(hresp_header(&r, "Content-Type", v, sizeof v) && strstr(v, "application/json"));
    hresp_free(&r);
    T_CHECK(http1(E.port, "GET", "/v1/events", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 405);
    T_CHECK(hresp_header(&r, "Allow", v, sizeof v) && strcmp(v, "POST") == 0);
    hresp_free(&r);
    T_CHECK(http1(E.port, "DELETE", "/healthz", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 405);
    hresp_free(&r);

    /* Routes added through deps->route. */
    T_CHECK(http1(E.port, "GET", "/v1/issues?state=open", "X-Koban-Test: yes\r\n", NULL, 0, &r));
    T_EQ_INT(r.status, 200);
    T_EQ_STR(r.body, "{\"state\":\"open\",\"hdr\":\"yes\"}");
    hresp_free(&r);
    const char *js = "{\"status\":\"closed\"}";
    T_CHECK(http1(E.port, "POST", "/v1/issues", NULL, js, strlen(js), &r));
    T_EQ_INT(r.status, 201);
    T_EQ_STR(r.body, js);
    hresp_free(&r);
    size_t zn;
    char *z = gzip_bytes(js, strlen(js), &zn);
    T_CHECK(http1(E.port, "POST", "/v1/issues", "Content-Encoding: gzip\r\n", z, zn, &r));
    T_EQ_INT(r.status, 201);
    T_EQ_STR(r.body, js); /* the route sees the body gunzipped */
    hresp_free(&r);
    free(z);
    T_CHECK(http1(E.port, "PUT", "/v1/issues", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 405);
    hresp_free(&r);
    T_CHECK(http1(E.port, "GET", "/v1/boom", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 500);
    hresp_free(&r);
    T_CHECK(http1(E.port, "GET", "/v1/unknown", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 404);
    hresp_free(&r);
}

/* Value of the sample line that starts with `series ` in a metrics text. */
static long long metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtoll(p + n + 1, NULL, 10);
    return -1;
}

static void test_metrics(void)
{
    NEED_ENV();
    struct hresp r;
    T_CHECK(http1(E.port, "GET", "/metrics", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 200);
    char v[128];
    T_CHECK(hresp_header(&r, "Content-Type", v, sizeof v) && strstr(v, "version=0.0.4"));
    const char *ok = "koban_http_requests_total{route=\"events\",code=\"200\"}";
    long long before = metric(r.body, ok);
    long long syncs = metric(r.body, "koban_journal_syncs_total");
    long long records = metric(r.body, "koban_journal_records_total");
    T_CHECK(before >= 1);
    T_CHECK(syncs >= 1);
    T_CHECK(records >= 1);
    T_CHECK(metric(r.body, "koban_journal_bytes_total") > 0);
    T_CHECK(metric(r.body, "koban_journal_durable_seq") >= records);
    T_EQ_INT(metric(r.body, "koban_test_extra"), 42);
    T_CHECK(strstr(r.body, "# TYPE koban_http_requests_total counter") != NULL);
    T_CHECK(strstr(r.body, "koban_events_accepted_total") != NULL); /* intake's */
    hresp_free(&r);

    const char *ev = "{\"title\":\"metrics mover\"}";
    T_CHECK(post_events("/v1/events", NULL, ev, strlen(ev), &r));
    hresp_free(&r);
    T_CHECK(http1(E.port, "GET", "/metrics", NULL, NULL, 0, &r));
    T_EQ_INT(metric(r.body, ok), before + 1);
    T_CHECK(metric(r.body, "koban_journal_records_total") >= records + 1);
    T_CHECK(metric(r.body, "koban_http_requests_total{route=\"none\",code=\"404\"}") >= 1);
    T_CHECK(metric(r.body, "koban_http_requests_total{route=\"events\",code=\"413\"}") >= 1);
    hresp_free(&r);
    struct buf b = BUF_INIT(1 << 20);
    T_EQ_INT(web_metrics(E.w, &b), KB_OK);
    T_CHECK(b.p && strstr(b.p, ok));
    buf_release(&b);
}

static void test_keepalive(void)
{
    NEED_ENV();
    struct hc *c = malloc(sizeof *c);
    T_CHECK(hc_open(c, E.port));
    for (int i = 0; i < 20; i++) {
        char ev[64];
        snprintf(ev, sizeof ev, "{\"title\":\"ka\",\"i\":%d}", i);
        struct hresp r;
        bool ok = hc_request(c, "POST", "/v1/events", NULL, ev, strlen(ev), &r);
        T_CHECKF(ok, "request %d on the kept-alive connection", i);
        if (!ok)
            break;
        T_EQ_INT(r.status, 200);
        T_EQ_INT(JCOUNT(&E, ev), 1);
        hresp_free(&r);
    }
    struct hresp r;
    T_CHECK(hc_request(c, "GET", "/healthz", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 200);
    hresp_free(&r);
    hc_close(c);
    free(c);
}

static void test_token(void)
{
    struct env *t = calloc(1, sizeof *t);
    if (!env_start(t, "s3cret-token", 1 << 20)) {
        T_CHECK(!"token server started");
        free(t);
        return;
    }
    const char *ev = "{\"title\":\"with token\"}";
    struct hresp r;
    char v[64];
    T_CHECK(http1(t->port, "POST", "/v1/events", NULL, ev, strlen(ev), &r));
    T_EQ_INT(r.status, 401);
    T_CHECK(hresp_header(&r, "WWW-Authenticate", v, sizeof v) && strcmp(v, "Bearer") == 0);
    hresp_free(&r);
    T_CHECK(http1(t->port, "POST", "/v1/events", "Authorization: Bearer s3cret-tokex\r\n", ev,
                  strlen(ev), &r));
    T_EQ_INT(r.status, 401);
    hresp_free(&r);
    T_CHECK(http1(t->port, "POST", "/v1/events", "Authorization: Bearer s3cret-token-longer\r\n",
                  ev, strlen(ev), &r));
    T_EQ_INT(r.status, 401);
    hresp_free(&r);
    T_CHECK(http1(t->port, "POST", "/v1/events", "Authorization: Basic czNjcmV0\r\n", ev,
                  strlen(ev), &r));
    T_EQ_INT(r.status, 401);
    hresp_free(&r);
    T_EQ_INT(journal_count(t, ev, strlen(ev), NULL), 0);
    T_CHECK(http1(t->port, "POST", "/v1/events", "Authorization: Bearer s3cret-token\r\n", ev,
                  strlen(ev), &r));
    T_EQ_INT(r.status, 200);
    T_EQ_INT(journal_count(t, ev, strlen(ev), NULL), 1);
    hresp_free(&r);
    /* Extra routes are protected too; health and metrics are not. */
    T_CHECK(http1(t->port, "GET", "/v1/issues", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 401);
    hresp_free(&r);
    T_CHECK(http1(t->port, "GET", "/v1/issues", "Authorization: bearer s3cret-token\r\n", NULL,
                  0, &r));
    T_EQ_INT(r.status, 200);
    hresp_free(&r);
    T_CHECK(http1(t->port, "GET", "/healthz", NULL, NULL, 0, &r));
    T_EQ_INT(r.status, 200);
    hresp_free(&r);
    env_stop(t);
    free(t);
}

/* ---- many clients at once ---------------------------------------------------- */

#define CC_THREADS 50
#define CC_REQS 100

struct cc_arg {
    uint16_t port;
    int t;
    int acked;
    bool acked_ok[CC_REQS];
};

#define CC_FMT "{\"title\":\"cc\",\"n\":%d}"

static void *cc_client(void *p)
{
    struct cc_arg *a = p;
    struct hc *c = malloc(sizeof *c);
    if (!hc_open(c, a->port)) {
        free(c);
        return NULL;
    }
    for (int i = 0; i < CC_REQS; i++) {
        char ev[64];
        snprintf(ev, sizeof ev, CC_FMT, a->t * CC_REQS + i);
        struct hresp r;
        if (!hc_request(c, "POST", "/v1/events", NULL, ev, strlen(ev), &r)) {
            hc_close(c);
            if (!hc_open(c, a->port))
                break;
            continue;
        }
        if (r.status == 200 && jint(r.body, "accepted") == 1) {
            a->acked++;
            a->acked_ok[i] = true;
        }
        hresp_free(&r);
    }
    hc_close(c);
    free(c);
    return NULL;
}

static void test_concurrency(void)
{
    NEED_ENV();
    struct journal_stats s0, s1;
    journal_stats(E.j, &s0);
    uint64_t seq0 = journal_durable_seq(E.j);
    static struct cc_arg args[CC_THREADS];
    pthread_t th[CC_THREADS];
    int64_t t0 = kb_mono_ns();
    for (int t = 0; t < CC_THREADS; t++) {
        args[t] = (struct cc_arg){.port = E.port, .t = t};
        pthread_create(&th[t], NULL, cc_client, &args[t]);
    }
    int acked = 0;
    for (int t = 0; t < CC_THREADS; t++) {
        pthread_join(th[t], NULL);
        acked += args[t].acked;
    }
    double secs = (double)(kb_mono_ns() - t0) / 1e9;
    journal_stats(E.j, &s1);
    uint64_t syncs = s1.syncs - s0.syncs;
    fprintf(stderr, "  concurrency: %d acked in %.2fs (%.0f req/s), %llu fsyncs\n", acked, secs,
            acked / secs, (unsigned long long)syncs);
    T_EQ_INT(acked, CC_THREADS * CC_REQS);
    T_CHECKF(syncs < (uint64_t)(CC_THREADS * CC_REQS), "%llu syncs for %d requests",
             (unsigned long long)syncs, CC_THREADS * CC_REQS);

    /* Every acknowledged event is in the journal exactly once, verbatim. */
    int n = CC_THREADS * CC_REQS;
    unsigned char *seen = calloc((size_t)n, 1);
    struct journal_reader *rd = NULL;
    T_EQ_INT(journal_reader_open(E.j, seq0, &rd), KB_OK);
    struct journal_entry je;
    int bad = 0;
    while (rd && journal_reader_next(rd, &je) == KB_OK) {
        if (je.kind != JOURNAL_EVENT_JSON || je.data.n < 8 ||
            memcmp(je.data.p, "{\"title\":\"cc\"", 13) != 0)
            continue;
        char tmp[64];
        size_t k = je.data.n < sizeof tmp - 1 ? je.data.n : sizeof tmp - 1;
        memcpy(tmp, je.data.p, k);
        tmp[k] = '\0';
        int id = (int)jint(tmp, "n");
        char want[64];
        snprintf(want, sizeof want, CC_FMT, id);
        if (id < 0 || id >= n || strcmp(tmp, want) != 0 || je.path != JOURNAL_PATH_HTTP)
            bad++;
        else
            seen[id]++;
    }
    if (rd)
        journal_reader_close(rd);
    int missing = 0, dup = 0;
    for (int t = 0; t < CC_THREADS; t++)
        for (int i = 0; i < CC_REQS; i++) {
            int id = t * CC_REQS + i;
            if (args[t].acked_ok[i] && seen[id] == 0)
                missing++;
            if (seen[id] > 1)
                dup++;
        }
    T_EQ_INT(bad, 0);
    T_EQ_INT(missing, 0);
    T_EQ_INT(dup, 0);
    free(seen);
}

/* web_stop while clients are still sending: it returns, and whatever was
 * acknowledged is durable. */
static void test_stop_under_load(void)
{
    struct env *t = calloc(1, sizeof *t);
    if (!env_start(t, NULL, 1 << 20)) {
        T_CHECK(!"second server started");
        free(t);
        return;
    }
    enum { N = 8 };
    static struct cc_arg args[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        args[i] = (struct cc_arg){.port = t->port, .t = i};
        pthread_create(&th[i], NULL, cc_client, &args[i]);
    }
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    int64_t t0 = kb_mono_ns();
    web_stop(t->w);
    t->w = NULL;
    T_CHECK(kb_mono_ns() - t0 < 10LL * 1000 * 1000 * 1000);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    int acked = 0, missing = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < CC_REQS; k++)
            if (args[i].acked_ok[k]) {
                acked++;
                char ev[64];
                snprintf(ev, sizeof ev, CC_FMT, i * CC_REQS + k);
                if (journal_count(t, ev, strlen(ev), NULL) != 1)
                    missing++;
            }
    fprintf(stderr, "  stop under load: %d acknowledged before the stop\n", acked);
    T_EQ_INT(missing, 0);
    env_stop(t);
    free(t);
}

int main(void)
{
    E_up = env_start(&E, NULL, 256 * 1024);
    if (!E_up)
        fprintf(stderr, "  the shared server did not start\n");
    T_RUN(test_single_object);
    T_RUN(test_array_and_ndjson);
    T_RUN(test_gzip);
    T_RUN(test_gzip_bomb);
    T_RUN(test_source_forcing);
    T_RUN(test_partial_rejects);
    T_RUN(test_text_lines);
    T_RUN(test_body_limits);
    T_RUN(test_health_and_routes);
    T_RUN(test_metrics);
    T_RUN(test_keepalive);
    T_RUN(test_token);
    T_RUN(test_concurrency);
    T_RUN(test_stop_under_load);
    if (E_up)
        env_stop(&E);
    else
        T_CHECK(E_up);
    return t_done();
}
