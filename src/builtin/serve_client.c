/* serve_client.c — commands handing their work to a running `koban serve`
 * (serve_client.h). `koban ingest` sends its files in pieces cut at line
 * ends like the local path cuts them, and reports each answer's rejects by
 * their place in the file; acknowledged events are durable in the daemon's
 * journal. */
#include "builtin/serve_client.h"

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

kb_err serve_addr(const char *data_dir, char *out, size_t n)
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

void serve_call(struct http_client *c, const struct kb_config *cfg, const char *addr,
                const char *method, const char *path, const char *ctype, const char *body,
                size_t len, struct arena *ar, struct serve_answer *out)
{
    memset(out, 0, sizeof *out);
    struct recv_request req = {.body = BUF_INIT(len + 1)};
    snprintf(req.method, sizeof req.method, "%s", method);
    if ((size_t)snprintf(req.url, sizeof req.url, "http://%s%s", addr, path) >= sizeof req.url) {
        snprintf(out->why, sizeof out->why, "the request URL is too long");
        return;
    }
    if (body && ctype)
        recv_request_header(&req, "Content-Type: %s", ctype);
    if (cfg->http.token && *cfg->http.token)
        recv_request_header(&req, "Authorization: Bearer %s", cfg->http.token);
    if (body)
        buf_append(&req.body, body, len);
    struct recv_response resp;
    http_client_send(c, &req, &resp, NULL);
    recv_request_release(&req);
    out->status = resp.status;
    struct json_value *v = NULL;
    if (resp.body.p && json_parse(resp.body.p, resp.body.n, NULL, ar, &v, NULL) == KB_OK &&
        v->type == JSON_OBJECT)
        out->json = v;
    struct kb_str msg = out->json ? json_str(json_get(out->json, "error")) : KB_STR_NULL;
    if (resp.status == 0)
        snprintf(out->why, sizeof out->why, "%s", resp.err ? resp.err : "?");
    else if (msg.n)
        snprintf(out->why, sizeof out->why, "%.*s", (int)msg.n, msg.p);
}

int serve_error(const char *cmd, const char *what, const struct serve_answer *a)
{
    if (a->status == 0)
        return builtin_error(cmd, "%s: koban serve did not answer: %s", what, a->why);
    return builtin_error(cmd, "%s: koban serve answered HTTP %ld%s%s", what, a->status,
                         a->why[0] ? ": " : "", a->why);
}

struct fwd {
    struct http_client *c;
    const struct kb_config *cfg;
    const char *addr;
    char path[128]; /* /v1/events?source=... */
    size_t accepted, rejected;
};

/* POSTs one piece; rejects are printed with base added to their index.
 * *events: how many events the piece held (accepted + rejected). */
static int post(struct fwd *f, const char *file, const char *p, size_t n, size_t base,
                size_t *events)
{
    struct arena ar = ARENA_INIT(4u << 20);
    struct serve_answer ans;
    serve_call(f->c, f->cfg, f->addr, "POST", f->path, "application/x-ndjson", p, n, &ar, &ans);
    *events = 0;
    int64_t acc = 0, rej = 0;
    int rc = 0;
    if ((ans.status != 200 && ans.status != 400) || !ans.json ||
        !json_as_int(json_get(ans.json, "accepted"), &acc) ||
        !json_as_int(json_get(ans.json, "rejected"), &rej)) {
        rc = serve_error("ingest", file, &ans);
    } else {
        const struct json_value *errs = json_get(ans.json, "errors");
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

int serve_ingest(const struct kb_config *cfg, const char *addr, int nfiles, char **files,
                 const char *source, bool quiet)
{
    struct fwd f = {.cfg = cfg, .addr = addr};
    snprintf(f.path, sizeof f.path, "/v1/events%s%s", source ? "?source=" : "",
             source ? source : ""); /* a format's name: a short word */
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

int serve_inventory(const struct kb_config *cfg, const char *addr, const char *asset,
                    const char *kind, const char *format, char **labels, size_t nlabels,
                    const char *fname, const char *text, size_t len)
{
    struct buf path = BUF_INIT(8192);
    buf_puts(&path, "/v1/inventory/");
    buf_url_escape(&path, asset, strlen(asset));
    char sep = '?';
    const char *keys[] = {"kind", "format", "filename"};
    const char *vals[] = {kind, format, fname};
    for (size_t i = 0; i < 3; i++)
        if (vals[i]) {
            buf_printf(&path, "%c%s=", sep, keys[i]);
            buf_url_escape(&path, vals[i], strlen(vals[i]));
            sep = '&';
        }
    for (size_t i = 0; i < nlabels; i++) {
        buf_puts(&path, i ? "%2C" : sep == '?' ? "?labels=" : "&labels=");
        buf_url_escape(&path, labels[i], strlen(labels[i]));
    }
    struct http_client *c = NULL;
    struct http_client_opts o = {.timeout_ms = IF_TIMEOUT_MS, .max_body = 16u << 20};
    if (!path.p || http_client_global_init() != KB_OK || http_client_new(&o, &c) != KB_OK) {
        buf_release(&path);
        return builtin_error("vuln", "inventory: cannot initialise HTTP");
    }
    struct arena ar = ARENA_INIT(32u << 20);
    struct serve_answer ans;
    serve_call(c, cfg, addr, "POST", path.p, "application/octet-stream", text, len, &ar, &ans);
    buf_release(&path);
    int rc = 0;
    if (ans.status != 200 || !ans.json) {
        rc = serve_error("vuln", "inventory", &ans);
    } else {
        const struct json_value *ch = json_get(ans.json, "changes");
        for (const struct json_value *x = ch && ch->type == JSON_ARRAY ? ch->u.child : NULL; x;
             x = x->next) {
            struct kb_str st = json_str(json_get(x, "state"));
            struct kb_str sev = json_str(json_get(x, "severity"));
            struct kb_str t = json_str(json_get(x, "title"));
            printf("  %-8.*s %-8.*s %.*s\n", (int)st.n, st.p ? st.p : "", (int)sev.n,
                   sev.p ? sev.p : "", (int)t.n, t.p ? t.p : "");
        }
        int64_t pk = 0, nw = 0, up = 0, rs = 0;
        json_as_int(json_get(ans.json, "packages"), &pk);
        json_as_int(json_get(ans.json, "new"), &nw);
        json_as_int(json_get(ans.json, "updated"), &up);
        json_as_int(json_get(ans.json, "resolved"), &rs);
        printf("%s: %lld packages; findings: %lld new, %lld updated, %lld resolved (by koban serve "
               "at %s)\n",
               asset, (long long)pk, (long long)nw, (long long)up, (long long)rs, addr);
    }
    arena_release(&ar);
    http_client_free(c);
    http_client_global_cleanup();
    return rc;
}
