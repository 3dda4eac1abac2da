/* http_client.c — outgoing HTTP with libcurl (the only file that uses it).
 *
 * A client is one easy handle driven through its own multi handle: the
 * multi handle keeps the connection open between requests (keep-alive),
 * and curl_multi_wakeup lets another thread end a request at once, which
 * is how the delivery worker stops within a bounded time. */
#include "notify/http_client.h"

#include "lib/buf.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

struct http_client {
    CURLM *multi;
    CURL *easy;
    struct http_client_opts o;
    struct buf body;
    bool cut; /* body reached max_body */
    char errbuf[CURL_ERROR_SIZE];
    char err[CURL_ERROR_SIZE + 64];
    int64_t retry_after_ms, rl_remaining, rl_reset_ms;
    /* Headers kept for the response (empty: absent); longer values are
     * dropped, never cut, so a caller never sends back a mangled ETag. */
    char etag[256], last_modified[64], link[2048];
    atomic_bool abort;
};

kb_err http_client_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? KB_OK : KB_EIO;
}

void http_client_global_cleanup(void)
{
    curl_global_cleanup();
}

kb_err http_client_new(const struct http_client_opts *o, struct http_client **out)
{
    *out = NULL;
    struct http_client *c = kb_calloc(1, sizeof *c);
    c->o = *o;
    if (c->o.connect_timeout_ms <= 0)
        c->o.connect_timeout_ms = 5000;
    if (c->o.timeout_ms <= 0)
        c->o.timeout_ms = 30000;
    if (!c->o.max_body)
        c->o.max_body = 1 << 20;
    buf_init(&c->body, c->o.max_body + 1);
    atomic_init(&c->abort, false);
    c->multi = curl_multi_init();
    c->easy = curl_easy_init();
    if (!c->multi || !c->easy) {
        http_client_free(c);
        return KB_EIO;
    }
    /* One connection is enough: a worker thread sends one request at a time. */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 4L);
    *out = c;
    return KB_OK;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    buf_release(&c->body);
    free(c);
}

void http_client_abort(struct http_client *c)
{
    atomic_store(&c->abort, true);
    curl_multi_wakeup(c->multi);
}

void http_client_clear_abort(struct http_client *c)
{
    atomic_store(&c->abort, false);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct http_client *c = ud;
    size_t len = size * n;
    size_t room = c->o.max_body - KB_MIN(c->body.len, c->o.max_body);
    if (len > room) {
        /* Keep what fits and end the transfer: a receiver's answer that
         * large is not one koban needs whole. */
        buf_append(&c->body, p, room);
        c->cut = true;
        return 0;
    }
    buf_append(&c->body, p, len);
    return len;
}

/* Parses a decimal integer header value; false when it is not one. */
static bool parse_int(const char *v, size_t n, int64_t *out)
{
    int64_t x = 0;
    size_t i = 0;
    if (!n)
        return false;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
        if (x > (INT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (v[i] - '0');
    }
    if (i != n)
        return false;
    *out = x;
    return true;
}

/* Copies value v into dst when it fits whole. */
static void keep_value(char *dst, size_t dstsz, const char *v, size_t vlen)
{
    if (vlen < dstsz) {
        memcpy(dst, v, vlen);
        dst[vlen] = '\0';
    }
}

static void keep_header(struct http_client *c, const char *name, size_t nlen, const char *v,
                        size_t vlen)
{
    if (nlen == 4 && strncasecmp(name, "etag", 4) == 0)
        keep_value(c->etag, sizeof c->etag, v, vlen);
    else if (nlen == 13 && strncasecmp(name, "last-modified", 13) == 0)
        keep_value(c->last_modified, sizeof c->last_modified, v, vlen);
    else if (nlen == 4 && strncasecmp(name, "link", 4) == 0)
        keep_value(c->link, sizeof c->link, v, vlen);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct http_client *c = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response (after 100 Continue, say): forget earlier headers. */
        c->retry_after_ms = c->rl_remaining = c->rl_reset_ms = -1;
        c->etag[0] = c->last_modified[0] = c->link[0] = '\0';
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    size_t nlen = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t vlen = (size_t)(end - v);
    keep_header(c, p, nlen, v, vlen);
    char val[128];
    if (vlen >= sizeof val)
        return len;
    memcpy(val, v, vlen);
    val[vlen] = '\0';
    int64_t x;
    if (nlen == 11 && strncasecmp(p, "retry-after", 11) == 0) {
        if (parse_int(val, vlen, &x))
            c->retry_after_ms = x > INT64_MAX / 1000 ? INT64_MAX / 1000 : x * 1000;
        else {
            time_t t = curl_getdate(val, NULL); /* an HTTP date */
            if (t >= 0)
                c->retry_after_ms = KB_MAX((int64_t)t * 1000 - kb_now_ms(), 0);
        }
    } else if (nlen == 21 && strncasecmp(p, "x-ratelimit-remaining", 21) == 0) {
        if (parse_int(val, vlen, &x))
            c->rl_remaining = x;
    } else if (nlen == 17 && strncasecmp(p, "x-ratelimit-reset", 17) == 0) {
        if (parse_int(val, vlen, &x) && x < INT64_MAX / 1000)
            c->rl_reset_ms = x * 1000;
    }
    return len;
}

static void fail(struct http_client *c, struct recv_response *resp, const char *what)
{
    snprintf(c->err, sizeof c->err, "%s", what);
    resp->status = 0;
    resp->err = c->err;
}

void http_client_send(struct http_client *c, const struct recv_request *req,
                      struct recv_response *resp, bool *aborted)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_ms = resp->ratelimit_remaining = resp->ratelimit_reset_ms = -1;
    if (aborted)
        *aborted = false;
    buf_reset(&c->body);
    c->cut = false;
    c->errbuf[0] = '\0';
    c->retry_after_ms = c->rl_remaining = c->rl_reset_ms = -1;
    c->etag[0] = c->last_modified[0] = c->link[0] = '\0';
    if (atomic_load(&c->abort)) {
        if (aborted)
            *aborted = true;
        fail(c, resp, "aborted: koban is stopping");
        return;
    }
    CURL *h = c->easy;
    curl_easy_reset(h); /* options only; the connection stays in the multi handle */
    struct curl_slist *hdrs = NULL, *tmp;
    for (size_t i = 0; i < req->nheaders; i++)
        if ((tmp = curl_slist_append(hdrs, req->headers[i])))
            hdrs = tmp;
    /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
    if ((tmp = curl_slist_append(hdrs, "Expect:")))
        hdrs = tmp;
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "koban");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->o.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->o.timeout_ms);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body.p ? req->body.p : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }
    CURLcode rc = CURLE_OK;
    bool done = false, stopped = false;
    if (curl_multi_add_handle(c->multi, h) != CURLM_OK) {
        curl_slist_free_all(hdrs);
        fail(c, resp, "cannot start the request");
        return;
    }
    /* Bounded by CURLOPT_TIMEOUT_MS; the extra second only guards against
     * a libcurl that would not honour it. */
    int64_t deadline = kb_mono_ns() + (c->o.timeout_ms + 1000) * 1000000;
    while (!done) {
        int running = 0;
        if (curl_multi_perform(c->multi, &running) != CURLM_OK)
            break;
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(c->multi, &left)))
            if (m->msg == CURLMSG_DONE && m->easy_handle == h) {
                rc = m->data.result;
                done = true;
            }
        if (done)
            break;
        if (atomic_load(&c->abort)) {
            stopped = true;
            break;
        }
        if (kb_mono_ns() > deadline) {
            rc = CURLE_OPERATION_TIMEDOUT;
            done = true;
            break;
        }
        curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(c->multi, h);
    curl_slist_free_all(hdrs);
    if (stopped) {
        if (aborted)
            *aborted = true;
        fail(c, resp, "aborted: koban is stopping");
        return;
    }
    if (!done) {
        fail(c, resp, "the HTTP layer failed");
        return;
    }
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && c->cut)) {
        char what[sizeof c->err];
        snprintf(what, sizeof what, "%s%s%s", curl_easy_strerror(rc), c->errbuf[0] ? ": " : "",
                 c->errbuf);
        fail(c, resp, what);
        return;
    }
    resp->status = status;
    resp->body = (struct kb_str){c->body.p ? c->body.p : "", c->body.len};
    resp->retry_after_ms = c->retry_after_ms;
    resp->ratelimit_remaining = c->rl_remaining;
    resp->ratelimit_reset_ms = c->rl_reset_ms;
    resp->etag = c->etag[0] ? c->etag : NULL;
    resp->last_modified = c->last_modified[0] ? c->last_modified : NULL;
    resp->link = c->link[0] ? c->link : NULL;
    resp->body_cut = c->cut;
}
