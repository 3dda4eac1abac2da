/* recv_common.c — helpers every receiver type uses (recv_internal.h). */
#include "notify/recv_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_ARENA (64u << 10)
#define EXTRAS_MAX (16u << 10)

struct kb_str recv_event(const struct recv_job *job)
{
    return json_str(json_get(job->payload, "event"));
}

bool recv_event_is(const struct recv_job *job, const char *name)
{
    return kb_str_eq(recv_event(job), name);
}

const struct json_value *recv_issue(const struct recv_job *job)
{
    const struct json_value *v = json_get(job->payload, "issue");
    return v && v->type == JSON_OBJECT ? v : NULL;
}

struct kb_str recv_issue_str(const struct recv_job *job, const char *key)
{
    return json_str(json_get(recv_issue(job), key));
}

int64_t recv_issue_id(const struct recv_job *job)
{
    int64_t id = 0;
    if (!json_as_int(json_get(recv_issue(job), "id"), &id))
        return 0;
    return id;
}

void recv_issue_link(const struct receiver *r, const struct recv_job *job, char *out, size_t n)
{
    const char *base = receiver_config(r)->koban_url;
    int64_t id = recv_issue_id(job);
    out[0] = '\0';
    if (base && *base && id > 0) {
        size_t bl = strlen(base);
        while (bl > 0 && base[bl - 1] == '/') /* "http://koban/" + "/v1/..." */
            bl--;
        snprintf(out, n, "%.*s/v1/issues/%lld", (int)bl, base, (long long)id);
        return;
    }
    struct kb_str u = json_str(json_get(job->payload, "url"));
    if (u.p && u.n < n) {
        memcpy(out, u.p, u.n);
        out[u.n] = '\0';
    }
}

const struct json_value *recv_state(const struct recv_job *job, struct arena *a)
{
    if (!job->state || !*job->state)
        return NULL;
    size_t n = strlen(job->state);
    if (n > RECV_STATE_MAX)
        return NULL;
    struct json_value *v = NULL;
    struct json_limits lim = {8, RECV_STATE_MAX};
    if (json_parse(job->state, n, &lim, a, &v, NULL) != KB_OK || v->type != JSON_OBJECT)
        return NULL;
    return v;
}

int64_t recv_state_int(const struct json_value *state, const char *key, int64_t def)
{
    int64_t v;
    const struct json_value *m = json_get(state, key);
    return m && m->type == JSON_NUMBER && json_as_int(m, &v) ? v : def;
}

kb_err recv_req_start(struct recv_request *req, const char *method, const char *base,
                      const char *def, const char *fmt, ...)
{
    snprintf(req->method, sizeof req->method, "%s", method);
    req->nheaders = 0;
    req->url[0] = '\0';
    if (req->body.max == 0)
        req->body.max = RECV_BODY_MAX;
    buf_reset(&req->body);
    char path[RECV_URL_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof path)
        return KB_ETOOBIG;
    const char *b = base && *base ? base : def;
    size_t bl = strlen(b);
    while (path[0] == '/' && bl > 0 && b[bl - 1] == '/') /* "https://x/" + "/v2/..." */
        bl--;
    if (bl + (size_t)n >= sizeof req->url)
        return KB_ETOOBIG;
    memcpy(req->url, b, bl);
    memcpy(req->url + bl, path, (size_t)n + 1);
    return KB_OK;
}

kb_err recv_tctx_init(struct recv_tctx *c, const struct receiver *r, const struct recv_job *job,
                      void (*more)(struct jw *w, void *arg), void *arg)
{
    memset(c, 0, sizeof *c);
    arena_init(&c->arena, 1u << 20);
    buf_init(&c->extras, EXTRAS_MAX);
    char link[RECV_URL_MAX];
    recv_issue_link(r, job, link, sizeof link);
    struct jw w;
    jw_init(&w, &c->extras);
    jw_obj_begin(&w);
    jw_kv_str(&w, "receiver", receiver_name(r));
    jw_kv_str(&w, "link", *link ? link : NULL);
    struct kb_str ev = recv_event(job);
    if (ev.p && ev.n < 64) {
        char key[80];
        snprintf(key, sizeof key, "is_%.*s", (int)ev.n, ev.p);
        jw_key(&w, key);
        jw_bool(&w, true);
    }
    if (more)
        more(&w, arg);
    jw_obj_end(&w);
    kb_err e = jw_finish(&w);
    struct json_value *x = NULL;
    if (!e)
        e = json_parse(c->extras.p, c->extras.len, NULL, &c->arena, &x, NULL);
    if (e) {
        recv_tctx_release(c);
        return e;
    }
    c->ctx.scopes[0] = x;
    c->ctx.texts[0] = c->extras.p;
    c->ctx.scopes[1] = job->payload;
    c->ctx.texts[1] = job->payload_text;
    c->ctx.n = 2;
    return KB_OK;
}

void recv_tctx_release(struct recv_tctx *c)
{
    arena_release(&c->arena);
    buf_release(&c->extras);
}

kb_err recv_render(const struct tmpl_set *set, const char *name, const struct recv_tctx *c,
                   enum tmpl_escape esc, size_t max_chars, struct buf *out, struct kb_why *why)
{
    buf_reset(out);
    const struct tmpl *t = tmpl_set_get(set, name);
    if (!t)
        return kb_fail(why, KB_ENOTFOUND, "template %s: not loaded", name);
    kb_err e = tmpl_render(t, &c->ctx, esc, max_chars, out, NULL);
    if (e)
        return kb_fail(why, e, "template %s: %s", tmpl_name(t), kb_strerror(e));
    if (!out->p) /* rendered nothing: still a string */
        e = buf_append(out, "", 0);
    return e;
}

void recv_result_start(struct recv_result *out)
{
    out->outcome = RECV_FAIL;
    out->retry_after_ms = -1;
    out->state = NULL;
    out->reason[0] = '\0';
}

void recv_set(struct recv_result *out, enum recv_outcome o, int64_t retry_ms, const char *fmt, ...)
{
    out->outcome = o;
    out->retry_after_ms = retry_ms;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

void recv_body_snippet(struct kb_str body, char *out, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; body.p && i < body.n && k + 1 < n && k < 120; i++) {
        unsigned char c = (unsigned char)body.p[i];
        out[k++] = c >= 0x20 && c < 0x7F ? (char)c : ' ';
    }
    out[k] = '\0';
}

bool recv_http_common(const struct recv_response *resp, struct recv_result *out, const char *what)
{
    long st = resp->status;
    if (st >= 200 && st < 300)
        return true;
    if (st == 0) {
        recv_set(out, RECV_RETRY, -1, "%s: no answer: %s", what,
                 resp->err ? resp->err : "connection failed");
        return false;
    }
    char snip[128];
    recv_body_snippet(resp->body, snip, sizeof snip);
    if (st == 408 || st == 429 || st >= 500)
        recv_set(out, RECV_RETRY, resp->retry_after_ms, "%s: HTTP %ld: %s", what, st, snip);
    else
        recv_set(out, RECV_FAIL, -1, "%s: HTTP %ld: %s", what, st, snip);
    return false;
}

bool recv_repo_ok(const char *s)
{
    size_t n = strlen(s), slashes = 0, at = 0;
    if (n < 3 || n > 200)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '/') {
            slashes++;
            at = i;
        } else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.')) {
            return false;
        }
    }
    return slashes == 1 && at > 0 && at < n - 1;
}

kb_err recv_github_headers(struct recv_request *req, const char *token, bool json_body)
{
    kb_err e = json_body ? recv_request_header(req, "Content-Type: application/json") : KB_OK;
    if (!e)
        e = recv_request_header(req, "Authorization: Bearer %s", token);
    if (!e)
        e = recv_request_header(req, "Accept: application/vnd.github+json");
    if (!e)
        e = recv_request_header(req, "X-GitHub-Api-Version: 2022-11-28");
    return e;
}

kb_err recv_github_check(const struct recv_config *c, struct kb_why *why)
{
    if (!c->token || !*c->token)
        return kb_fail(why, KB_EINVAL, "receiver %s: token is required", c->name);
    if (!c->repo || !*c->repo)
        return kb_fail(why, KB_EINVAL, "receiver %s: repo is required (\"owner/name\")", c->name);
    if (!recv_repo_ok(c->repo))
        return kb_fail(why, KB_EINVAL, "receiver %s: repo: \"%s\" is not \"owner/name\"", c->name,
                       c->repo);
    return KB_OK;
}
