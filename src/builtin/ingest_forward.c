/* ingest_forward.c — `koban ingest` while `koban serve` runs on the same
 * data_dir: the journal has one writer, so the files are sent to the daemon
 * over HTTP (POST /v1/events, the address it wrote in data_dir/serve.json,
 * http.token when set), in pieces cut at line ends like the local path
 * cuts them, and each answer's rejects are reported by their place in the
 * file. Acknowledged events are durable in the daemon's journal. */
#include "builtin/ingest_forward.h"

#include "lib/inflate.h"
#include "lib/json.h"
#include "notify/http_client.h"
#include "notify/receiver.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IF_PIECE (8u * 1024 * 1024)   /* bytes of NDJSON or text per request */
#define IF_MAX_FILE (4ull << 30)
#define IF_TIMEOUT_MS 120000

kb_err ingest_forward_addr(const char *data_dir, char *out, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/serve.json", data_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return KB_ENOTFOUND;
    char text[4096];
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[got] = 0;
    struct arena ar = ARENA_INIT(64 * 1024);
    struct json_value *v = NULL;
    kb_err e = KB_ENOTFOUND;
    if (json_parse(text, got, NULL, &ar, &v, NULL) == KB_OK) {
        struct kb_str http = json_str(json_get(v, "http"));
        int64_t pid = 0;
        /* a daemon killed without stopping leaves its file behind */
        bool alive = json_as_int(json_get(v, "pid"), &pid) && pid > 0 &&
                     kill((pid_t)pid, 0) == 0;
        if (alive && http.n && http.n < n) {
            memcpy(out, http.p, http.n);
            out[http.n] = 0;
            e = KB_OK;
        }
    }
    arena_release(&ar);
    return e;
}

struct fwd {
    struct http_client *c;
    const struct kb_config *cfg;
    char url[512];
    size_t accepted, rejected;
};

/* POSTs one piece; rejects are printed with base added to their index.
 * *events: how many events the piece held (accepted + rejected). */
static int post(struct fwd *f, const char *file, const char *p, size_t n, size_t base,
                size_t *events)
{
    struct recv_request req = {.body = BUF_INIT(IF_PIECE + 1024)};
    snprintf(req.method, sizeof req.method, "POST");
    snprintf(req.url, sizeof req.url, "%s", f->url);
    recv_request_header(&req, "Content-Type: application/x-ndjson");
    if (f->cfg->http.token && *f->cfg->http.token)
        recv_request_header(&req, "Authorization: Bearer %s", f->cfg->http.token);
    int rc = 0;
    if (buf_append(&req.body, p, n) != KB_OK) {
        recv_request_release(&req);
        return builtin_error("ingest", "%s: a piece larger than %u bytes", file, IF_PIECE);
    }
    struct recv_response resp;
    http_client_send(f->c, &req, &resp, NULL);
    recv_request_release(&req);
    *events = 0;
    struct arena ar = ARENA_INIT(4u << 20);
    struct json_value *v = NULL;
    bool parsed = resp.body.p &&
                  json_parse(resp.body.p, resp.body.n, NULL, &ar, &v, NULL) == KB_OK &&
                  v->type == JSON_OBJECT;
    int64_t acc = 0, rej = 0;
    if (resp.status == 0) {
        rc = builtin_error("ingest", "%s: koban serve did not answer: %s", file,
                           resp.err ? resp.err : "?");
    } else if (!parsed || (resp.status != 200 && resp.status != 400) ||
               !json_as_int(json_get(v, "accepted"), &acc) ||
               !json_as_int(json_get(v, "rejected"), &rej)) {
        struct kb_str msg = parsed ? json_str(json_get(v, "error")) : KB_STR_NULL;
        rc = builtin_error("ingest", "%s: koban serve answered HTTP %ld%s%.*s", file, resp.status,
                           msg.n ? ": " : "", (int)msg.n, msg.p ? msg.p : "");
    } else {
        const struct json_value *errs = json_get(v, "errors");
        for (const struct json_value *x = errs && errs->type == JSON_ARRAY ? errs->u.child : NULL;
             x; x = x->next) {
            int64_t idx = 0;
            json_as_int(json_get(x, "index"), &idx);
            struct kb_str why = json_str(json_get(x, "reason"));
            fprintf(stderr, "%s: event %zu: %.*s\n", file, base + (size_t)idx, (int)why.n,
                    why.p ? why.p : "");
        }
        f->accepted += (size_t)acc;
        f->rejected += (size_t)rej;
        *events = (size_t)(acc + rej);
        rc = rej ? 1 : 0;
    }
    arena_release(&ar);
    return rc;
}

static int forward_file(struct fwd *f, const char *file)
{
    struct builtin_input in;
    struct kb_why why = {{0}};
    if (builtin_input_open(file, IF_MAX_FILE, &in, &why)) {
        builtin_input_close(&in);
        return builtin_error("ingest", "%s", why.msg);
    }
    const char *p = in.p;
    size_t len = in.n;
    struct buf plain = BUF_INIT(IF_MAX_FILE);
    int rc = 0;
    if (inflate_is_gzip(p, len)) {
        if (inflate_all(p, len, IF_MAX_FILE, &plain, &why)) {
            rc = builtin_error("ingest", "%s: %s", file, why.msg);
            len = 0;
        } else {
            p = plain.p ? plain.p : "";
            len = plain.len;
        }
    }
    /* Pieces end at a line end, so NDJSON and text lines stay whole; one
     * JSON document larger than a piece goes whole (up to http.max_body). */
    size_t base = 0;
    for (size_t pos = 0; pos < len && rc != 2;) {
        size_t end = pos + IF_PIECE < len ? pos + IF_PIECE : len;
        if (end < len) {
            const char *nl = memrchr(p + pos, '\n', end - pos);
            end = nl ? (size_t)(nl - p) + 1 : len;
        }
        if (end - pos > f->cfg->http.max_body) {
            rc = builtin_error("ingest", "%s: one document of %zu bytes is over http.max_body; "
                                         "stop koban serve and ingest it locally",
                               file, end - pos);
            break;
        }
        size_t events = 0;
        int r = post(f, file, p + pos, end - pos, base, &events);
        if (r && events == 0) {
            rc = 2;
            break;
        }
        rc |= r;
        base += events;
        pos = end;
    }
    buf_release(&plain);
    builtin_input_close(&in);
    return rc == 2 ? 1 : rc;
}

int ingest_forward(const struct kb_config *cfg, const char *addr, int nfiles, char **files,
                   const char *source, bool quiet)
{
    struct fwd f = {.cfg = cfg};
    int n = snprintf(f.url, sizeof f.url, "http://%s/v1/events%s%s", addr,
                     source ? "?source=" : "", source ? source : "");
    if (n < 0 || (size_t)n >= sizeof f.url)
        return builtin_error("ingest", "the daemon's address is too long");
    struct http_client_opts o = {.timeout_ms = IF_TIMEOUT_MS, .max_body = 4u << 20};
    if (http_client_global_init() != KB_OK || http_client_new(&o, &f.c) != KB_OK)
        return builtin_error("ingest", "cannot initialise HTTP");
    if (!quiet)
        fprintf(stderr, "koban ingest: koban serve runs on this data_dir: sending to it at %s\n",
                addr);
    int rc = 0;
    for (int i = 0; i < nfiles; i++)
        rc |= forward_file(&f, files[i]);
    http_client_free(f.c);
    http_client_global_cleanup();
    printf("%zu events accepted, %zu rejected by koban serve at %s\n", f.accepted, f.rejected,
           addr);
    return rc;
}

/* Percent-encodes s into out (RFC 3986 unreserved characters kept). */
static void url_escape(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_putc(out, (char)*p);
        } else {
            buf_putc(out, '%');
            buf_putc(out, hex[*p >> 4]);
            buf_putc(out, hex[*p & 15]);
        }
    }
}

int vuln_inventory_forward(const struct kb_config *cfg, const char *addr, const char *asset,
                           const char *kind, const char *format, char **labels, size_t nlabels,
                           const char *fname, const char *text, size_t len)
{
    struct buf url = BUF_INIT(8192);
    buf_printf(&url, "http://%s/v1/inventory/", addr);
    url_escape(&url, asset);
    char sep = '?';
    const char *keys[] = {"kind", "format", "filename"};
    const char *vals[] = {kind, format, fname};
    for (size_t i = 0; i < 3; i++)
        if (vals[i]) {
            buf_printf(&url, "%c%s=", sep, keys[i]);
            url_escape(&url, vals[i]);
            sep = '&';
        }
    if (nlabels) {
        buf_printf(&url, "%clabels=", sep);
        for (size_t i = 0; i < nlabels; i++) {
            if (i)
                buf_puts(&url, "%2C");
            url_escape(&url, labels[i]);
        }
    }
    int rc = 0;
    struct recv_request req = {.body = BUF_INIT(len + 1)};
    snprintf(req.method, sizeof req.method, "POST");
    if (!url.p || url.len >= sizeof req.url) {
        buf_release(&url);
        return builtin_error("vuln", "inventory: the request URL is too long");
    }
    snprintf(req.url, sizeof req.url, "%s", url.p);
    buf_release(&url);
    if (cfg->http.token && *cfg->http.token)
        recv_request_header(&req, "Authorization: Bearer %s", cfg->http.token);
    buf_append(&req.body, text, len);
    struct http_client *c = NULL;
    struct http_client_opts o = {.timeout_ms = IF_TIMEOUT_MS, .max_body = 16u << 20};
    if (http_client_global_init() != KB_OK || http_client_new(&o, &c) != KB_OK) {
        recv_request_release(&req);
        return builtin_error("vuln", "inventory: cannot initialise HTTP");
    }
    struct recv_response resp;
    http_client_send(c, &req, &resp, NULL);
    recv_request_release(&req);
    struct arena ar = ARENA_INIT(32u << 20);
    struct json_value *v = NULL;
    bool parsed = resp.body.p && json_parse(resp.body.p, resp.body.n, NULL, &ar, &v, NULL) == KB_OK &&
                  v->type == JSON_OBJECT;
    if (resp.status == 0) {
        rc = builtin_error("vuln", "inventory: koban serve did not answer: %s",
                           resp.err ? resp.err : "?");
    } else if (resp.status != 200 || !parsed) {
        struct kb_str msg = parsed ? json_str(json_get(v, "error")) : KB_STR_NULL;
        rc = builtin_error("vuln", "inventory: koban serve answered HTTP %ld%s%.*s", resp.status,
                           msg.n ? ": " : "", (int)msg.n, msg.p ? msg.p : "");
    } else {
        const struct json_value *ch = json_get(v, "changes");
        for (const struct json_value *x = ch && ch->type == JSON_ARRAY ? ch->u.child : NULL; x;
             x = x->next) {
            struct kb_str st = json_str(json_get(x, "state")), sev = json_str(json_get(x, "severity"));
            struct kb_str t = json_str(json_get(x, "title"));
            printf("  %-8.*s %-8.*s %.*s\n", (int)st.n, st.p ? st.p : "", (int)sev.n,
                   sev.p ? sev.p : "", (int)t.n, t.p ? t.p : "");
        }
        int64_t pk = 0, nw = 0, up = 0, rs = 0;
        json_as_int(json_get(v, "packages"), &pk);
        json_as_int(json_get(v, "new"), &nw);
        json_as_int(json_get(v, "updated"), &up);
        json_as_int(json_get(v, "resolved"), &rs);
        printf("%s: %lld packages; findings: %lld new, %lld updated, %lld resolved (by koban serve "
               "at %s)\n",
               asset, (long long)pk, (long long)nw, (long long)up, (long long)rs, addr);
    }
    arena_release(&ar);
    http_client_free(c);
    http_client_global_cleanup();
    return rc;
}
