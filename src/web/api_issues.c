/* api_issues.c — issues over HTTP (list, show, ack/close/reopen). */
#include "web/api_issues.h"

#include "notify/notifier.h"

#include "formats/alert.h"
#include "issues/issue.h"
#include "lib/jsonw.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct api_issues {
    struct db *db;
    pthread_mutex_t mu;
    struct notifier *notifier; /* NULL: no notifications */
};

void api_issues_notify(struct api_issues *a, struct notifier *n)
{
    a->notifier = n;
}

void api_issues_gate(struct api_issues *a, struct db_gate *g)
{
    db_use_gate(a->db, g);
}

kb_err api_issues_new(const char *db_path, struct api_issues **out, struct kb_why *why)
{
    struct api_issues *a = kb_calloc(1, sizeof *a);
    kb_err e = db_open(db_path, DB_CLIENT, 8, &a->db, why);
    if (e) {
        free(a);
        return e;
    }
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return KB_OK;
}

void api_issues_free(struct api_issues *a)
{
    if (!a)
        return;
    db_close(a->db);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

struct list_ctx {
    struct jw *w;
};

static kb_err list_one(void *ctx, const struct db_issue *r)
{
    struct list_ctx *c = ctx;
    issue_write_json(c->w, r, NULL);
    return c->w->err;
}

static kb_err do_list(struct api_issues *a, const struct web_request *req,
                      struct web_response *resp)
{
    struct db_issue_filter f = {.state = -1, .active_only = true, .limit = 100};
    const char *v;
    if ((v = web_query(req, "state")) && *v) {
        f.active_only = false;
        if (strcmp(v, "all") != 0 && issue_state_parse(v, &f.state))
            return web_fail(resp, 400, "state: expected open, acknowledged, closed or all");
    }
    if ((v = web_query(req, "severity")) && *v && kb_severity_parse(v, &f.min_severity))
        return web_fail(resp, 400, "severity: expected none, low, medium, high or critical");
    if ((v = web_query(req, "source")) && *v)
        f.source = v;
    if ((v = web_query(req, "text")) && *v)
        f.text = v;
    if (web_query_limit(req, resp, &f.limit))
        return KB_EINVAL;
    struct jw w;
    jw_init(&w, &resp->body);
    jw_obj_begin(&w);
    jw_key(&w, "issues");
    jw_arr_begin(&w);
    struct list_ctx c = {&w};
    kb_err e = db_issue_list(a->db, &f, list_one, &c);
    jw_arr_end(&w);
    jw_obj_end(&w);
    if (e || jw_finish(&w))
        return web_fail(resp, e == KB_ETOOBIG ? 413 : 500, "listing failed");
    return KB_OK;
}

/* "/v1/issues/12/ack" -> id 12, action "ack"; "/v1/issues/12" -> "". */
static bool parse_path(const char *path, int64_t *id, const char **action)
{
    const char *p = path + strlen("/v1/issues/");
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p || v <= 0)
        return false;
    *id = v;
    if (*end == '\0' || (end[0] == '/' && end[1] == '\0')) {
        *action = "";
        return true;
    }
    if (*end != '/')
        return false;
    *action = end + 1;
    return true;
}

static kb_err do_transition(struct api_issues *a, int64_t id, const char *action,
                            const struct web_request *req, struct web_response *resp)
{
    int to;
    if (!strcmp(action, "ack"))
        to = ISSUE_ACKED;
    else if (!strcmp(action, "close"))
        to = ISSUE_CLOSED;
    else if (!strcmp(action, "reopen") || !strcmp(action, "unack"))
        to = ISSUE_OPEN;
    else
        return KB_ENOTFOUND;
    char reason[512] = "", by[128] = "api";
    if (req->body_len) {
        struct arena ar = ARENA_INIT(1 << 20);
        struct json_value *root;
        struct json_error je = {0};
        struct json_limits lim = {.max_depth = 8, .max_bytes = 64 * 1024};
        if (json_parse(req->body, req->body_len, &lim, &ar, &root, &je) ||
            root->type != JSON_OBJECT) {
            arena_release(&ar);
            return web_fail(resp, 400, "body: expected a JSON object {\"reason\":..., \"by\":...}");
        }
        struct kb_str r = json_str(json_get(root, "reason"));
        struct kb_str b = json_str(json_get(root, "by"));
        if (r.p)
            snprintf(reason, sizeof reason, "%.*s", (int)r.n, r.p);
        if (b.p)
            snprintf(by, sizeof by, "%.*s", (int)b.n, b.p);
        arena_release(&ar);
    }
    struct kb_why why = {{0}};
    struct issue_observer obs = {0};
    if (a->notifier)
        obs = notifier_observer(a->notifier);
    kb_err e = issue_transition(a->db, id, to, by, reason[0] ? reason : NULL, &obs, &why);
    if (!e && a->notifier)
        notifier_committed(a->notifier);
    if (e == KB_ENOTFOUND)
        return web_fail(resp, 404, why.msg);
    if (e == KB_EINVAL)
        return web_fail(resp, 409, why.msg);
    if (e)
        return web_fail(resp, 500, why.msg);
    struct jw w;
    jw_init(&w, &resp->body);
    jw_obj_begin(&w);
    jw_kv_int(&w, "id", id);
    jw_kv_str(&w, "state", issue_state_name(to));
    jw_obj_end(&w);
    return jw_finish(&w);
}

kb_err api_issues_route(void *ctx, const struct web_request *req, struct web_response *resp)
{
    struct api_issues *a = ctx;
    bool list = !strcmp(req->path, "/v1/issues") || !strcmp(req->path, "/v1/issues/");
    if (!list && strncmp(req->path, "/v1/issues/", 11) != 0)
        return KB_ENOTFOUND;
    kb_err e;
    pthread_mutex_lock(&a->mu);
    if (list) {
        e = strcmp(req->method, "GET") ? web_fail(resp, 405, "use GET") : do_list(a, req, resp);
    } else {
        int64_t id;
        const char *action;
        if (!parse_path(req->path, &id, &action)) {
            e = KB_ENOTFOUND;
        } else if (!*action) {
            if (strcmp(req->method, "GET")) {
                e = web_fail(resp, 405, "use GET");
            } else {
                struct db_issue r;
                e = db_issue_get(a->db, id, &r);
                if (e == KB_ENOTFOUND) {
                    e = web_fail(resp, 404, "no such issue");
                } else if (e) {
                    e = web_fail(resp, 500, "store error");
                } else {
                    struct jw w;
                    jw_init(&w, &resp->body);
                    issue_write_json(&w, &r, a->db);
                    e = jw_finish(&w);
                    db_issue_release(&r);
                }
            }
        } else if (strcmp(req->method, "POST")) {
            e = web_fail(resp, 405, "use POST");
        } else {
            e = do_transition(a, id, action, req, resp);
        }
    }
    pthread_mutex_unlock(&a->mu);
    return e;
}
