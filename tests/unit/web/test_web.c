/*
 * test_web.c — the HTTP server over real sockets, one behaviour at a time:
 * body shapes, gzip, ?source=, limits, rejects, auth, health, metrics,
 * extra routes, keep-alive; every acknowledged event is read back from the
 * journal byte for byte. Load and shutdown are in test_web_load.c.
 */
#include "test.h"

#include "web_test.h"

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
    /* appended before and after compression (packs only above 16 KiB) */
    long long raw = metric(r.body, "koban_journal_appended_raw_bytes_total");
    long long out = metric(r.body, "koban_journal_appended_bytes_total");
    T_CHECKF(raw > 0 && out > 0 && out <= raw, "raw %lld, written %lld", raw, out);
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
    if (E_up)
        env_stop(&E);
    else
        T_CHECK(E_up);
    return t_done();
}
