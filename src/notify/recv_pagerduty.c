/*
 * recv_pagerduty.c — PagerDuty Events API v2: one alert per koban issue,
 * following its state.
 *
 *   step 0: POST {base}/v2/enqueue
 *           {routing_key: token, event_action, dedup_key: issue fingerprint,
 *            payload{summary, source, severity, timestamp, component, group,
 *                    class, custom_details}, links, client, client_url}
 *
 *   event          action       why
 *   opened         trigger
 *   reopened       trigger      a trigger after a resolve opens a new alert
 *   repeated       trigger      idempotent: PagerDuty folds a trigger with
 *                               the dedup_key of an open alert into that
 *                               alert (no new page); it refreshes the
 *                               details and re-opens an alert someone
 *                               resolved in PagerDuty while koban still
 *                               sees the issue
 *   reminder       trigger      same
 *   acknowledged   acknowledge
 *   closed         resolve
 *   flood_started, flood_ended, test: not sent (build: KB_ENOTFOUND)
 *
 * Answers: 2xx (202) → done; 400 → fail (never retried); 429, 5xx, 408
 * and no answer → retry (Retry-After honoured); other 4xx → fail.
 * No per-issue state: the dedup_key is the issue fingerprint, so a retried
 * or repeated trigger never opens a second incident.
 */
#include "notify/recv_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PD_DEFAULT_BASE "https://events.pagerduty.com"
#define PD_SUMMARY_MAX 1024 /* characters, PagerDuty's limit */
#define PD_MAX_LINKS 8

static const struct tmpl_default pd_templates[] = {
    {"pagerduty.summary.tmpl", "[{{issue.severity}}] {{issue.title}}"
                               "{{#issue.resource}} on {{issue.resource}}{{/issue.resource}}"
                               "{{#issue.account}} (account {{issue.account}}){{/issue.account}}"},
};

struct pd {
    struct tmpl_set *tmpls;
};

static kb_err pd_init(const struct recv_config *c, void **data, struct kb_why *why)
{
    *data = NULL;
    if (!c->token || !*c->token)
        return kb_fail(why, KB_EINVAL, "receiver %s: token is required (the routing key)", c->name);
    struct pd *pd = kb_calloc(1, sizeof *pd);
    kb_err e =
        tmpl_set_load(pd_templates, KB_ARRAY_LEN(pd_templates), c->templates_dir, &pd->tmpls, why);
    if (e) {
        free(pd);
        return e;
    }
    *data = pd;
    return KB_OK;
}

static void pd_fini(void *data)
{
    struct pd *pd = data;
    tmpl_set_free(pd->tmpls);
    free(pd);
}

/* koban event → Events API action; NULL: not sent. */
static const char *pd_action(const struct recv_job *job)
{
    static const char *const map[][2] = {
        {"opened", "trigger"},   {"reopened", "trigger"},         {"repeated", "trigger"},
        {"reminder", "trigger"}, {"acknowledged", "acknowledge"}, {"closed", "resolve"},
    };
    struct kb_str ev = recv_event(job);
    for (size_t i = 0; i < KB_ARRAY_LEN(map); i++)
        if (kb_str_eq(ev, map[i][0]))
            return map[i][1];
    return NULL;
}

/* koban severity → PagerDuty severity. */
static const char *pd_severity(struct kb_str sev)
{
    if (kb_str_eq(sev, "critical"))
        return "critical";
    if (kb_str_eq(sev, "high"))
        return "error";
    if (kb_str_eq(sev, "medium"))
        return "warning";
    return "info";
}

/* Copies issue.key as stored (strings, numbers, objects) when present. */
static void copy_member(struct jw *w, const struct recv_job *job, const char *key, const char *as)
{
    const struct json_value *v = json_get(recv_issue(job), key);
    if (!v || v->type == JSON_NULL || !job->payload_text)
        return;
    jw_key(w, as);
    jw_raw_compact(w, job->payload_text + v->src_off, v->src_len);
}

static void first_str(struct jw *w, const struct recv_job *job, const char *key,
                      const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct kb_str s = recv_issue_str(job, names[i]);
        if (!kb_str_empty(s)) {
            jw_key(w, key);
            jw_strn(w, s.p, s.n);
            return;
        }
    }
}

static void pd_payload(struct jw *w, const struct receiver *r, const struct recv_job *job,
                       const char *summary)
{
    const struct json_value *issue = recv_issue(job);
    jw_key(w, "payload");
    jw_obj_begin(w);
    jw_kv_str(w, "summary", summary);
    /* source: "the unique location of the affected system" */
    static const char *const where[] = {"resource", "host", "account", "source"};
    first_str(w, job, "source", where, KB_ARRAY_LEN(where));
    jw_kv_str(w, "severity", pd_severity(recv_issue_str(job, "severity")));
    struct kb_str ts = recv_issue_str(job, "last_seen");
    if (!kb_str_empty(ts))
        jw_kv_kstr(w, "timestamp", ts);
    static const char *const comp[] = {"source"}, *const grp[] = {"account"},
                             *const cls[] = {"kind"};
    first_str(w, job, "component", comp, 1);
    first_str(w, job, "group", grp, 1);
    first_str(w, job, "class", cls, 1);
    jw_key(w, "custom_details");
    jw_obj_begin(w);
    jw_kv_int(w, "koban_issue", recv_issue_id(job));
    static const char *const keys[] = {
        "identity", "fingerprint", "source",     "kind",      "severity",    "native_severity",
        "state",    "count",       "first_seen", "last_seen", "account",     "region",
        "resource", "actor",       "host",       "labels",    "annotations", "rules",
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(keys); i++)
        copy_member(w, job, keys[i], keys[i]);
    const struct json_value *reason = json_get(job->payload, "reason");
    if (reason && reason->type == JSON_STRING)
        jw_kv_kstr(w, "reason", json_str(reason));
    jw_obj_end(w);
    jw_obj_end(w);
    /* links: koban's page for the issue, then the annotations' links */
    char link[RECV_URL_MAX];
    recv_issue_link(r, job, link, sizeof link);
    jw_key(w, "links");
    jw_arr_begin(w);
    size_t nl = 0;
    if (*link) {
        char text[64];
        snprintf(text, sizeof text, "koban issue #%lld", (long long)recv_issue_id(job));
        jw_obj_begin(w);
        jw_kv_str(w, "href", link);
        jw_kv_str(w, "text", text);
        jw_obj_end(w);
        nl++;
    }
    const struct json_value *ann = json_get(issue, "annotations");
    for (const struct json_value *a = ann && ann->type == JSON_ARRAY ? ann->u.child : NULL;
         a && nl < PD_MAX_LINKS; a = a->next) {
        struct kb_str href = json_str(json_get(a, "link"));
        if (kb_str_empty(href))
            continue;
        struct kb_str text = json_str(json_get(a, "text"));
        jw_obj_begin(w);
        jw_kv_kstr(w, "href", href);
        jw_kv_kstr(w, "text",
                   kb_str_empty(text) ? href : (struct kb_str){text.p, KB_MIN(text.n, 256)});
        jw_obj_end(w);
        nl++;
    }
    jw_arr_end(w);
    jw_kv_str(w, "client", "koban");
    if (*link)
        jw_kv_str(w, "client_url", link);
}

static kb_err pd_build(const struct receiver *r, const struct recv_job *job, int step,
                       struct recv_request *req, struct kb_why *why)
{
    const char *action = pd_action(job);
    if (step > 0 || !action)
        return KB_ENOTFOUND;
    const struct recv_config *c = receiver_config(r);
    const struct pd *pd = receiver_data(r);
    struct kb_str fp = recv_issue_str(job, "fingerprint");
    if (kb_str_empty(fp) || fp.n > 255)
        return kb_fail(why, KB_EINVAL, "pagerduty: payload has no usable issue.fingerprint");
    if (recv_req_start(req, "POST", c->base_url, PD_DEFAULT_BASE, "/v2/enqueue"))
        return kb_fail(why, KB_ETOOBIG, "pagerduty: base_url too long");
    kb_err e = KB_OK;
    struct buf summary = BUF_INIT(4 * PD_SUMMARY_MAX + 16);
    struct recv_tctx tc;
    bool trigger = strcmp(action, "trigger") == 0;
    if (trigger) {
        if ((e = recv_tctx_init(&tc, r, job, NULL, NULL))) {
            e = kb_fail(why, e, "pagerduty: payload: %s", kb_strerror(e));
            goto out;
        }
        e = recv_render(pd->tmpls, "pagerduty.summary.tmpl", &tc, TMPL_PLAIN, PD_SUMMARY_MAX,
                        &summary, why);
        recv_tctx_release(&tc);
        if (e)
            goto out;
    }
    struct jw w;
    jw_init(&w, &req->body);
    jw_obj_begin(&w);
    jw_kv_str(&w, "routing_key", c->token);
    jw_kv_str(&w, "event_action", action);
    jw_kv_kstr(&w, "dedup_key", fp);
    if (trigger)
        pd_payload(&w, r, job, summary.p);
    jw_obj_end(&w);
    if ((e = jw_finish(&w))) {
        e = kb_fail(why, e, "pagerduty: body larger than %zu bytes", req->body.max);
        goto out;
    }
    if ((e = recv_request_header(req, "Content-Type: application/json")))
        e = kb_fail(why, e, "pagerduty: too many headers");
out:
    buf_release(&summary);
    return e;
}

static void pd_result(const struct receiver *r, const struct recv_job *job, int step,
                      const struct recv_response *resp, struct recv_result *out)
{
    recv_result_start(out);
    if (recv_http_common(resp, out, "pagerduty enqueue"))
        recv_set(out, RECV_DONE, -1, "pagerduty: HTTP %ld", resp->status);
}

const struct recv_ops recv_pagerduty_ops = {
    .type = "pagerduty",
    .init = pd_init,
    .fini = pd_fini,
    .build = pd_build,
    .result = pd_result,
};
