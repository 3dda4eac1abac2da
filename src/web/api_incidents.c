/* api_incidents.c — incidents over HTTP (api_incidents.h). */
#include "web/api_incidents.h"

#include "incident/incident.h"
#include "incident/incident_json.h"
#include "incident/postmortem.h"
#include "lib/arena.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "store/db.h"
#include "store/db_incident.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AI_BODY_MAX (256 * 1024)
#define AI_LIST_MAX 64 /* tags or issues in one change */

struct api_incidents {
    pthread_mutex_t mu;
    struct db *db;
};

kb_err api_incidents_new(const char *db_path, struct db_gate *gate, struct api_incidents **out,
                         struct kb_why *why)
{
    *out = NULL;
    struct api_incidents *a = kb_calloc(1, sizeof *a);
    kb_err e = db_open(db_path, DB_CLIENT, 2, &a->db, why);
    if (e) {
        free(a);
        return e;
    }
    db_use_gate(a->db, gate);
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return KB_OK;
}

void api_incidents_free(struct api_incidents *a)
{
    if (!a)
        return;
    db_close(a->db);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* A model error as an answer: unknown things 404, refused input 400. */
static kb_err model_fail(struct web_response *resp, kb_err e, const struct kb_why *why)
{
    const char *msg = why->msg[0] ? why->msg : kb_strerror(e);
    return web_fail(resp,
                    e == KB_ENOTFOUND                  ? 404
                    : e == KB_EINVAL || e == KB_EEXIST ? 400
                                                       : 500,
                    msg);
}

/* The body as a JSON object (an empty body is {}). */
static kb_err body(const struct web_request *req, struct arena *ar, struct json_value **root,
                   struct web_response *resp)
{
    const char *text = req->body_len ? req->body : "{}";
    size_t len = req->body_len ? req->body_len : 2;
    struct json_error je = {0};
    struct json_limits lim = {.max_depth = 8, .max_bytes = AI_BODY_MAX};
    if (json_parse(text, len, &lim, ar, root, &je) != KB_OK || (*root)->type != JSON_OBJECT)
        return web_fail(resp, 400, "body: expected a JSON object");
    return KB_OK;
}

/* A string member as a NUL-terminated copy in ar; NULL when absent. */
static const char *str(struct arena *ar, const struct json_value *o, const char *key, bool *bad)
{
    const struct json_value *v = json_get(o, key);
    if (!v || v->type == JSON_NULL)
        return NULL;
    if (v->type != JSON_STRING) {
        *bad = true;
        return NULL;
    }
    struct kb_str s = json_str(v);
    return arena_strndup(ar, s.p, s.n);
}

static bool time_of(struct arena *ar, const struct json_value *o, const char *key, int64_t *ms,
                    bool *bad)
{
    const char *s = str(ar, o, key, bad);
    if (!s)
        return !*bad;
    if (kb_time_parse_rfc3339(kb_str_c(s), ms) != KB_OK) {
        *bad = true;
        return false;
    }
    return true;
}

static kb_err show(struct api_incidents *a, int64_t id, unsigned status, struct web_response *resp)
{
    struct db_incident r;
    kb_err e = db_incident_get(a->db, id, &r);
    if (e == KB_ENOTFOUND)
        return web_fail(resp, 404, "no such incident");
    if (e)
        return web_fail(resp, 500, "store error");
    buf_reset(&resp->body);
    struct jw w;
    jw_init(&w, &resp->body);
    e = incident_write_show(&w, a->db, &r);
    db_incident_release(&r);
    if (e || jw_finish(&w))
        return web_fail(resp, 500, "store error");
    resp->status = status;
    return KB_OK;
}

static kb_err list_row(void *ctx, const struct db_incident *r)
{
    struct jw *w = ctx;
    jw_obj_begin(w);
    incident_write_fields(w, r);
    jw_obj_end(w);
    return w->err;
}

static kb_err do_list(struct api_incidents *a, const struct web_request *req,
                      struct web_response *resp)
{
    struct db_incident_filter f = {.status = -1, .limit = 100};
    const char *v;
    if ((v = web_query(req, "status")) && *v && incident_status_parse(v, &f.status))
        return web_fail(resp, 400,
                        "status: declared, investigating, recovered, completed or "
                        "cancelled");
    if ((v = web_query(req, "service")) && *v)
        f.service = v;
    if (web_query_limit(req, resp, &f.limit))
        return KB_EINVAL;
    struct jw w;
    jw_init(&w, &resp->body);
    jw_obj_begin(&w);
    jw_key(&w, "incidents");
    jw_arr_begin(&w);
    kb_err e = db_incident_list(a->db, &f, list_row, &w);
    jw_arr_end(&w);
    jw_obj_end(&w);
    if (e || jw_finish(&w))
        return web_fail(resp, e == KB_ETOOBIG ? 413 : 500, "listing failed");
    return KB_OK;
}

static kb_err do_stats(struct api_incidents *a, struct web_response *resp)
{
    struct incident_stats s;
    if (incident_stats_compute(a->db, &s))
        return web_fail(resp, 500, "store error");
    struct jw w;
    jw_init(&w, &resp->body);
    jw_obj_begin(&w);
    jw_key(&w, "stats");
    jw_arr_begin(&w);
    for (size_t i = 0; i < s.n; i++) {
        const struct incident_stat *r = &s.rows[i];
        jw_obj_begin(&w);
        jw_kv_str(&w, "service", r->service);
        jw_kv_int(&w, "level", r->level);
        jw_kv_int(&w, "count", r->count);
        jw_kv_int(&w, "recovered", r->recovered);
        jw_key(&w, "median_ttr_seconds");
        if (r->median_ttr_ms >= 0)
            jw_int(&w, r->median_ttr_ms / 1000);
        else
            jw_null(&w);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    incident_stats_release(&s);
    return jw_finish(&w) ? web_fail(resp, 500, "answer too large") : KB_OK;
}

/* id is 0 (a new incident); it gets the new one's. */
static kb_err do_open(struct api_incidents *a, int64_t id, const struct json_value *o,
                      struct arena *ar, struct web_response *resp)
{
    kb_err e = KB_OK;
    bool bad = false;
    struct incident_new n = {.service = str(ar, o, "service", &bad),
                             .title = str(ar, o, "title", &bad),
                             .summary = str(ar, o, "summary", &bad),
                             .handler = str(ar, o, "handler", &bad),
                             .temperature = INCIDENT_WARM,
                             .now = kb_now_ms()};
    const char *by = str(ar, o, "by", &bad), *temp = str(ar, o, "temperature", &bad);
    n.actor = by ? by : "api";
    int64_t lv = 0;
    const struct json_value *lvv = json_get(o, "level");
    if (lvv && !json_as_int(lvv, &lv))
        bad = true;
    n.level = (int)lv;
    const struct json_value *dr = json_get(o, "drill");
    n.drill = dr && dr->type == JSON_TRUE;
    time_of(ar, o, "occurred", &n.occurred, &bad);
    time_of(ar, o, "detected", &n.detected, &bad);
    if (!bad && temp && incident_temp_parse(temp, &n.temperature))
        bad = true;
    struct kb_why why = {{0}};
    if (bad)
        e = web_fail(resp, 400,
                     "a field has the wrong type or value (strings; level a number; "
                     "times RFC 3339; temperature cold, warm or hot)");
    else if (!n.service || !n.title)
        e = web_fail(resp, 400, "service and title are required");
    else if ((e = incident_open(a->db, &n, &id, &why)) != KB_OK)
        e = model_fail(resp, e, &why);
    else
        e = show(a, id, 201, resp);
    return e;
}

/* Fills an array of up to AI_LIST_MAX strings or numbers; false on a wrong type. */
static bool list_of(struct arena *ar, const struct json_value *v, bool numbers, const char **strs,
                    int64_t *nums, size_t *n)
{
    *n = 0;
    if (!v)
        return true;
    if (v->type != JSON_ARRAY || v->len > AI_LIST_MAX)
        return false;
    for (const struct json_value *x = v->u.child; x; x = x->next) {
        if (numbers) {
            if (!json_as_int(x, &nums[*n]) || nums[*n] <= 0)
                return false;
        } else {
            if (x->type != JSON_STRING)
                return false;
            struct kb_str s = json_str(x);
            strs[*n] = arena_strndup(ar, s.p, s.n);
        }
        (*n)++;
    }
    return true;
}

static kb_err do_change(struct api_incidents *a, int64_t id, const struct json_value *o,
                        struct arena *ar, struct web_response *resp)
{
    kb_err e = KB_OK;
    struct incident_change c;
    incident_change_init(&c);
    bool bad = false;
    const char *status = str(ar, o, "status", &bad), *temp = str(ar, o, "temperature", &bad);
    c.title = str(ar, o, "title", &bad);
    c.summary = str(ar, o, "summary", &bad);
    c.handler = str(ar, o, "handler", &bad);
    c.scribe = str(ar, o, "scribe", &bad);
    c.liaison = str(ar, o, "liaison", &bad);
    const char *by = str(ar, o, "by", &bad);
    c.actor = by ? by : "api";
    c.now = kb_now_ms();
    if (status && incident_status_parse(status, &c.status))
        bad = true;
    if (temp && incident_temp_parse(temp, &c.temperature))
        bad = true;
    int64_t lv = 0;
    const struct json_value *lvv = json_get(o, "level");
    if (lvv && (!json_as_int(lvv, &lv) || lv < 1 || lv > 5))
        bad = true;
    c.level = (int)lv;
    const char *tags[AI_LIST_MAX];
    int64_t issues[AI_LIST_MAX];
    if (!list_of(ar, json_get(o, "tags"), false, tags, NULL, &c.ntags) ||
        !list_of(ar, json_get(o, "issues"), true, NULL, issues, &c.nissues))
        bad = true;
    c.tags = tags;
    c.issues = issues;
    struct kb_why why = {{0}};
    if (bad)
        e = web_fail(resp, 400,
                     "a field has the wrong type or value (status, temperature and "
                     "roles strings; level 1..5; tags strings; issues numbers)");
    else if ((e = incident_update(a->db, id, &c, NULL, &why)) != KB_OK)
        e = model_fail(resp, e, &why);
    else
        e = show(a, id, 200, resp);
    return e;
}

static kb_err do_note(struct api_incidents *a, int64_t id, const struct json_value *o,
                      struct arena *ar, struct web_response *resp)
{
    kb_err e = KB_OK;
    bool bad = false;
    const char *text = str(ar, o, "text", &bad), *ref = str(ar, o, "ref", &bad);
    const char *by = str(ar, o, "by", &bad);
    const struct json_value *pin = json_get(o, "pin");
    struct kb_why why = {{0}};
    if (bad || !text || !*text)
        e = web_fail(resp, 400, "text is required (a string)");
    else if ((e = incident_note(a->db, id, pin && pin->type == JSON_TRUE ? "pin" : "note", text,
                                by ? by : "api", kb_now_ms(), ref, &why)) != KB_OK)
        e = model_fail(resp, e, &why);
    else
        e = show(a, id, 201, resp);
    return e;
}

static kb_err do_parent(struct api_incidents *a, int64_t id, const struct json_value *o,
                        struct arena *ar, struct web_response *resp)
{
    kb_err e = KB_OK;
    bool bad = false;
    int64_t parent = 0;
    const char *by = str(ar, o, "by", &bad);
    struct kb_why why = {{0}};
    if (bad || !json_as_int(json_get(o, "parent"), &parent) || parent <= 0)
        e = web_fail(resp, 400, "parent: an incident id is required");
    else if ((e = incident_link(a->db, id, parent, by ? by : "api", kb_now_ms(), &why)) != KB_OK)
        e = model_fail(resp, e, &why);
    else
        e = show(a, id, 200, resp);
    return e;
}

static kb_err do_postmortem(struct api_incidents *a, int64_t id, struct web_response *resp)
{
    struct kb_why why = {{0}};
    buf_reset(&resp->body);
    kb_err e = postmortem_build(a->db, id, &resp->body, &why);
    if (e)
        return model_fail(resp, e, &why);
    resp->content_type = "text/markdown; charset=utf-8";
    return KB_OK;
}

/* "/v1/incidents/12/notes" -> 12, "notes"; "/v1/incidents/12" -> 12, "". */
static bool parse_path(const char *p, int64_t *id, const char **action)
{
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

/* A change described by the request's JSON body (see api_incidents.h). */
typedef kb_err (*change_fn)(struct api_incidents *a, int64_t id, const struct json_value *o,
                            struct arena *ar, struct web_response *resp);

static kb_err with_body(struct api_incidents *a, int64_t id, const struct web_request *req,
                        struct web_response *resp, change_fn fn)
{
    struct arena ar = ARENA_INIT(1 << 20);
    struct json_value *o;
    kb_err e = body(req, &ar, &o, resp);
    if (!e)
        e = fn(a, id, o, &ar, resp);
    arena_release(&ar);
    return e;
}

kb_err api_incidents_route(void *ctx, const struct web_request *req, struct web_response *resp)
{
    struct api_incidents *a = ctx;
    static const char prefix[] = "/v1/incidents";
    const char *p = req->path;
    if (strncmp(p, prefix, sizeof prefix - 1) != 0)
        return KB_ENOTFOUND;
    p += sizeof prefix - 1;
    bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    kb_err e;
    pthread_mutex_lock(&a->mu);
    int64_t id;
    const char *action;
    if (*p == '\0' || strcmp(p, "/") == 0) {
        e = get    ? do_list(a, req, resp)
            : post ? with_body(a, 0, req, resp, do_open)
                   : web_fail(resp, 405, "use GET or POST");
    } else if (strcmp(p, "/stats") == 0) {
        e = get ? do_stats(a, resp) : web_fail(resp, 405, "use GET");
    } else if (*p != '/' || !parse_path(p + 1, &id, &action)) {
        e = KB_ENOTFOUND;
    } else if (!*action) {
        e = get    ? show(a, id, 200, resp)
            : post ? with_body(a, id, req, resp, do_change)
                   : web_fail(resp, 405, "use GET or POST");
    } else if (strcmp(action, "postmortem") == 0) {
        e = get ? do_postmortem(a, id, resp) : web_fail(resp, 405, "use GET");
    } else if (strcmp(action, "notes") == 0) {
        e = post ? with_body(a, id, req, resp, do_note) : web_fail(resp, 405, "use POST");
    } else if (strcmp(action, "parent") == 0) {
        e = post ? with_body(a, id, req, resp, do_parent) : web_fail(resp, 405, "use POST");
    } else {
        e = KB_ENOTFOUND;
    }
    pthread_mutex_unlock(&a->mu);
    return e;
}
