/*
 * recv_testlib.h — what the receiver tests share: a job whose payload is
 * built the way receiver.h documents it, canned responses, reading a
 * request back (headers, JSON body), and one step driven the way the
 * delivery worker drives it (a returned state replaces the job's).
 */
#ifndef KOBAN_RECV_TESTLIB_H
#define KOBAN_RECV_TESTLIB_H

#include "lib/json.h"
#include "lib/jsonw.h"
#include "notify/receiver.h"
#include "test.h"

#include <strings.h>

/* The issue in a payload; NULL strings are left out. */
struct tissue {
    int64_t id;
    const char *fingerprint, *identity, *source, *kind, *title, *severity, *state;
    int64_t count;
    const char *first_seen, *last_seen, *account, *region, *resource;
    const char *annotations; /* raw JSON array, or NULL */
};

static inline struct tissue tissue_default(void)
{
    return (struct tissue){
        .id = 7,
        .fingerprint = "0123456789abcdef0123456789abcdef",
        .identity = "account=111122223333 kind=UnauthorizedAccess:EC2/SSHBruteForce",
        .source = "guardduty",
        .kind = "UnauthorizedAccess:EC2/SSHBruteForce",
        .title = "SSH brute force against i-0abc",
        .severity = "high",
        .state = "open",
        .count = 3,
        .first_seen = "2026-11-20T10:00:00.000Z",
        .last_seen = "2026-11-20T11:00:00.000Z",
        .account = "111122223333",
        .region = "eu-west-1",
        .resource = "i-0abc",
        .annotations = "[{\"text\":\"Runbook\",\"link\":\"https://wiki.example/ssh\","
                       "\"policy\":\"p1\"},{\"text\":\"No link here\"}]",
    };
}

struct tjob {
    struct arena a;
    struct buf text;
    char *state; /* owned: what the worker would have stored */
    struct recv_job job;
};

/* Builds {"event", "issue", "reason", "url"} (reason, url: NULL leaves them out). */
static inline void tjob_init(struct tjob *t, const char *event, const struct tissue *is,
                             const char *reason, const char *url, const char *state)
{
    memset(t, 0, sizeof *t);
    arena_init(&t->a, 16u << 20);
    buf_init(&t->text, 1u << 20);
    struct jw w;
    jw_init(&w, &t->text);
    jw_obj_begin(&w);
    jw_kv_str(&w, "event", event);
    jw_key(&w, "issue");
    jw_obj_begin(&w);
    jw_kv_int(&w, "id", is->id);
#define TKV(k)                                                                                     \
    if (is->k)                                                                                     \
        jw_kv_str(&w, #k, is->k);
    TKV(fingerprint)
    TKV(identity) TKV(source) TKV(kind) TKV(title) TKV(severity) TKV(state)
        jw_kv_int(&w, "count", is->count);
    TKV(first_seen)
    TKV(last_seen) TKV(account) TKV(region) TKV(resource)
#undef TKV
        jw_key(&w, "actor");
    jw_obj_begin(&w);
    jw_kv_str(&w, "user", "mallory");
    jw_kv_str(&w, "ip", "198.51.100.7");
    jw_obj_end(&w);
    jw_key(&w, "labels");
    jw_raw(&w, "{\"team\":\"infra\"}", 16);
    jw_key(&w, "annotations");
    const char *ann = is->annotations ? is->annotations : "[]";
    jw_raw(&w, ann, strlen(ann));
    jw_obj_end(&w);
    if (reason)
        jw_kv_str(&w, "reason", reason);
    if (url)
        jw_kv_str(&w, "url", url);
    jw_obj_end(&w);
    T_CHECK(jw_finish(&w) == KB_OK);
    struct json_value *root = NULL;
    T_CHECK(json_parse(t->text.p, t->text.len, NULL, &t->a, &root, NULL) == KB_OK);
    t->state = state ? strdup(state) : NULL;
    t->job = (struct recv_job){
        .id = 501, .payload = root, .payload_text = t->text.p, .state = t->state, .attempt = 1};
}

static inline void tjob_free(struct tjob *t)
{
    arena_release(&t->a);
    buf_release(&t->text);
    free(t->state);
}

static inline struct recv_response tresp(long status, const char *body)
{
    return (struct recv_response){.status = status,
                                  .body = kb_str_c(body),
                                  .retry_after_ms = -1,
                                  .ratelimit_remaining = -1,
                                  .ratelimit_reset_ms = -1,
                                  .err = status ? NULL : "connection refused"};
}

/* The value of header name in r ("Name: value"), or NULL. */
static inline const char *treq_header(const struct recv_request *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++)
        if (strncasecmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
            return r->headers[i] + n + 2;
    return NULL;
}

/* The request's body parsed into a (NULL when it does not parse). */
static inline const struct json_value *treq_json(const struct recv_request *r, struct arena *a)
{
    struct json_value *v = NULL;
    if (!r->body.p || json_parse(r->body.p, r->body.len, NULL, a, &v, NULL) != KB_OK)
        return NULL;
    return v;
}

static inline struct kb_str tstr(const struct json_value *root, const char *path)
{
    return json_str(json_path(root, path));
}

/* Builds step `step` of t's job into req (a zeroed request, as the worker
 * gives it) and returns build's error. */
static inline kb_err tbuild(const struct receiver *r, struct tjob *t, int step,
                            struct recv_request *req, struct kb_why *why)
{
    memset(req, 0, sizeof *req);
    req->body = (struct buf)BUF_INIT(1u << 20);
    memset(why, 0, sizeof *why);
    return receiver_ops(r)->build(r, &t->job, step, req, why);
}

/* Feeds resp for step to result; a new state replaces t's (as the worker
 * stores it). Returns the outcome; *res keeps the rest (reason, retry). */
static inline enum recv_outcome tresult(const struct receiver *r, struct tjob *t, int step,
                                        const struct recv_response *resp, struct recv_result *res)
{
    *res = (struct recv_result){.retry_after_ms = -1};
    receiver_ops(r)->result(r, &t->job, step, resp, res);
    if (res->state) {
        free(t->state);
        t->state = res->state;
        res->state = NULL;
        t->job.state = t->state;
    }
    return res->outcome;
}

/* A temporary folder (mkdtemp) and files in it. */
static inline void tdir_make(char *out, size_t n)
{
    snprintf(out, n, "/tmp/koban-tmpl-XXXXXX");
    T_CHECK(mkdtemp(out) != NULL);
}

static inline void tdir_write(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    T_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static inline void tdir_remove(const char *dir, const char *const *names, size_t n)
{
    char p[512];
    for (size_t i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

#endif
