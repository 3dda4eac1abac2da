/*
 * recv_slack.c — Slack: one message per koban issue, kept up to date, with
 * a thread telling what happened to it.
 *
 * Bot mode (token + channel; base_url default https://slack.com/api):
 *
 *   state {"channel":C,"ts":T}: the issue's message (from the first post)
 *
 *   no message in state:
 *     step 0  chat.postMessage {channel, text, blocks}  → state {channel, ts}
 *   a message in state (any event but "test"):
 *     step 0  chat.update {channel, ts, text, blocks}   (new count, state)
 *             "opened" ends here (a retry after the first post was saved)
 *     step 1  chat.postMessage {channel, thread_ts: ts, text}: what
 *             happened (repeated, reopened, closed with reason, ...)
 *   The message is gone (message_not_found, cant_update_message,
 *   edit_window_closed, thread_not_found): the state is cleared and the
 *   job posts a fresh message instead (step 1, or the retried step).
 *   "test" always posts a fresh message and keeps no state.
 *
 * The message of an issue of severity high or critical also has a "Declare
 * incident" button (action_id "incident_declare", value: the issue id) in
 * bot mode: clicking it opens koban's declaration modal through the Slack
 * app (incident/incident_slack.h).
 *
 * Incoming-webhook mode (webhook_url): every event POSTs {text, blocks} to
 * the webhook; no state, no update, no thread.
 *
 * Answers: HTTP 429 → retry after Retry-After; 200 {"ok":false,"error":E}:
 * ratelimited → retry after Retry-After; internal_error, fatal_error,
 * service_unavailable, request_timeout → retry; invalid_auth,
 * channel_not_found, not_in_channel and every other error → fail (a
 * configuration or payload problem a retry cannot fix). Webhook mode: 200
 * → done; 400 invalid_payload, 403, 404, 410 → fail; 429, 5xx → retry.
 * No answer, 408 and 5xx → retry in both modes.
 *
 * Slack has no idempotency key: a crash after a post and before its state
 * is stored can leave a second message (the thread reply likewise).
 */
#include "notify/recv_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SLACK_DEFAULT_BASE "https://slack.com/api"
#define SLACK_HEADER_MAX 150   /* characters of a header block */
#define SLACK_SECTION_MAX 2900 /* of a section text (Slack: 3,000) */
#define SLACK_TEXT_MAX 3000    /* of a message's text */

static const struct tmpl_default slack_templates[] = {
    {"slack.title.tmpl", "{{issue.title}}"},
    {"slack.body.tmpl",
     "*Severity:* {{issue.severity}}   *State:* {{issue.state}}   *Count:* {{issue.count}}\n"
     "*Source:* {{issue.source}}   *Kind:* {{issue.kind|code}}\n"
     "{{#issue.resource}}\n"
     "*Resource:* {{issue.resource|code}}\n"
     "{{/issue.resource}}\n"
     "{{#issue.account}}\n"
     "*Account:* {{issue.account|code}}{{#issue.region}} ({{issue.region}}){{/issue.region}}\n"
     "{{/issue.account}}\n"
     "*First seen:* {{issue.first_seen}}   *Last seen:* {{issue.last_seen}}\n"
     "{{#link}}\n"
     "<{{link|url}}|Issue #{{issue.id}} in koban>\n"
     "{{/link}}\n"},
    {"slack.annotations.tmpl",
     "{{#issue.annotations}}\n"
     "• {{.text}}{{^.text}}{{.}}{{/.text}}{{#.link}} <{{.link|url}}|link>{{/.link}}\n"
     "{{/issue.annotations}}\n"},
    {"slack.thread.tmpl",
     "{{#is_opened}}\n"
     "Opened.\n"
     "{{/is_opened}}\n"
     "{{#is_repeated}}\n"
     "Repeated: seen {{issue.count}} times, last at {{issue.last_seen}}.\n"
     "{{/is_repeated}}\n"
     "{{#is_reopened}}\n"
     "Reopened{{#reason}}: {{reason}}{{/reason}} (seen {{issue.count}} times).\n"
     "{{/is_reopened}}\n"
     "{{#is_closed}}\n"
     "Closed{{#reason}}: {{reason}}{{/reason}}.\n"
     "{{/is_closed}}\n"
     "{{#is_acknowledged}}\n"
     "Acknowledged{{#reason}}: {{reason}}{{/reason}}.\n"
     "{{/is_acknowledged}}\n"
     "{{#is_reminder}}\n"
     "Reminder: still {{issue.state}}, seen {{issue.count}} times, last at "
     "{{issue.last_seen}}.\n"
     "{{/is_reminder}}\n"
     "{{#is_flood_started}}\n"
     "Flooding: further copies are counted but not notified.\n"
     "{{/is_flood_started}}\n"
     "{{#is_flood_ended}}\n"
     "Flood over{{#held_back}}: {{held_back}} copies were not notified{{/held_back}}.\n"
     "{{/is_flood_ended}}\n"},
};

struct slack {
    struct tmpl_set *tmpls;
    bool webhook; /* incoming-webhook mode */
};

static bool http_url(const char *u)
{
    return u && (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0);
}

static kb_err slack_init(const struct recv_config *c, void **data, struct kb_why *why)
{
    *data = NULL;
    bool webhook = c->webhook_url && *c->webhook_url;
    if (webhook && !http_url(c->webhook_url))
        return kb_fail(why, KB_EINVAL, "receiver %s: webhook_url: not an http(s) URL", c->name);
    if (webhook && strlen(c->webhook_url) >= RECV_URL_MAX)
        return kb_fail(why, KB_EINVAL, "receiver %s: webhook_url: too long", c->name);
    if (!webhook && (!c->token || !*c->token))
        return kb_fail(why, KB_EINVAL, "receiver %s: token is required (or webhook_url)", c->name);
    if (!webhook && (!c->channel || !*c->channel))
        return kb_fail(why, KB_EINVAL, "receiver %s: channel is required (or webhook_url)",
                       c->name);
    struct slack *s = kb_calloc(1, sizeof *s);
    s->webhook = webhook;
    kb_err e = tmpl_set_load(slack_templates, KB_ARRAY_LEN(slack_templates), c->templates_dir,
                             &s->tmpls, why);
    if (e) {
        free(s);
        return e;
    }
    *data = s;
    return KB_OK;
}

static void slack_fini(void *data)
{
    struct slack *s = data;
    tmpl_set_free(s->tmpls);
    free(s);
}

/* Trims blank lines and spaces at both ends (sections left out by a
 * template leave them). */
static struct kb_str trimmed(const struct buf *b)
{
    const char *p = b->p ? b->p : "";
    size_t a = 0, n = b->len;
    while (a < n && (p[a] == ' ' || p[a] == '\n' || p[a] == '\t'))
        a++;
    while (n > a && (p[n - 1] == ' ' || p[n - 1] == '\n' || p[n - 1] == '\t'))
        n--;
    return (struct kb_str){p + a, n - a};
}

static void text_obj(struct jw *w, const char *type, struct kb_str s)
{
    jw_obj_begin(w);
    jw_kv_str(w, "type", type);
    jw_key(w, "text");
    jw_strn(w, s.p, s.n);
    if (strcmp(type, "mrkdwn") == 0) {
        jw_key(w, "verbatim"); /* no auto-links of names: only koban's own links */
        jw_bool(w, true);
    } else {
        jw_key(w, "emoji");
        jw_bool(w, true);
    }
    jw_obj_end(w);
}

/* The "Declare incident" button, for issues of severity high and critical. */
static void declare_button(struct jw *w, const struct recv_job *job)
{
    struct kb_str sev = recv_issue_str(job, "severity");
    int64_t id = recv_issue_id(job);
    if (id <= 0 || !(kb_str_eq(sev, "high") || kb_str_eq(sev, "critical")))
        return;
    char value[24];
    snprintf(value, sizeof value, "%lld", (long long)id);
    jw_obj_begin(w);
    jw_kv_str(w, "type", "actions");
    jw_kv_str(w, "block_id", "koban_issue_actions");
    jw_key(w, "elements");
    jw_arr_begin(w);
    jw_obj_begin(w);
    jw_kv_str(w, "type", "button");
    jw_kv_str(w, "action_id", "incident_declare");
    jw_kv_str(w, "value", value);
    jw_kv_str(w, "style", "danger");
    jw_key(w, "text");
    text_obj(w, "plain_text", kb_str_c("Declare incident"));
    jw_obj_end(w);
    jw_arr_end(w);
    jw_obj_end(w);
}

/* Writes "text" and "blocks" of the issue's message. */
static kb_err message_fields(struct jw *w, const struct slack *s, const struct recv_tctx *tc,
                             const struct recv_job *job, struct kb_why *why)
{
    struct buf t = BUF_INIT(4 * SLACK_TEXT_MAX + 64);
    kb_err e;
    if ((e = recv_render(s->tmpls, "slack.title.tmpl", tc, TMPL_SLACK, SLACK_TEXT_MAX, &t, why)))
        goto out;
    struct kb_str ts = trimmed(&t);
    jw_key(w, "text");
    jw_strn(w, ts.p, ts.n);
    jw_key(w, "blocks");
    jw_arr_begin(w);
    if ((e = recv_render(s->tmpls, "slack.title.tmpl", tc, TMPL_PLAIN, SLACK_HEADER_MAX, &t, why)))
        goto out;
    for (size_t i = 0; i < t.len; i++) /* a header is one line */
        if (t.p[i] == '\n' || t.p[i] == '\t')
            t.p[i] = ' ';
    ts = trimmed(&t);
    if (ts.n) {
        jw_obj_begin(w);
        jw_kv_str(w, "type", "header");
        jw_key(w, "text");
        text_obj(w, "plain_text", ts);
        jw_obj_end(w);
    }
    static const char *const sections[] = {"slack.body.tmpl", "slack.annotations.tmpl"};
    for (size_t i = 0; i < KB_ARRAY_LEN(sections); i++) {
        if ((e = recv_render(s->tmpls, sections[i], tc, TMPL_SLACK, SLACK_SECTION_MAX, &t, why)))
            goto out;
        ts = trimmed(&t);
        if (!ts.n)
            continue;
        jw_obj_begin(w);
        jw_kv_str(w, "type", "section");
        jw_key(w, "text");
        text_obj(w, "mrkdwn", ts);
        jw_obj_end(w);
    }
    if (!s->webhook)
        declare_button(w, job);
    jw_arr_end(w);
out:
    buf_release(&t);
    return e;
}

/* The message in state, or NULL: *channel and *ts point into state. */
static bool state_message(const struct json_value *st, struct kb_str *channel, struct kb_str *ts)
{
    *channel = json_str(json_get(st, "channel"));
    *ts = json_str(json_get(st, "ts"));
    return !kb_str_empty(*channel) && !kb_str_empty(*ts);
}

enum slack_call { CALL_NONE, CALL_POST, CALL_UPDATE, CALL_THREAD, CALL_HOOK };

/* Which call (build) was made, or (result) is answered, at this step. */
static enum slack_call slack_call(const struct receiver *r, const struct recv_job *job, int step,
                                  const struct json_value *st)
{
    const struct slack *s = receiver_data(r);
    struct kb_str ch, ts;
    if (s->webhook)
        return step == 0 ? CALL_HOOK : CALL_NONE;
    /* "test" and "ops" messages stand alone: always a new post, no state */
    bool test = recv_event_is(job, "test") || recv_event_is(job, "ops");
    bool have = !test && state_message(st, &ch, &ts);
    if (step == 0)
        return have ? CALL_UPDATE : CALL_POST;
    if (step == 1 && !test) /* after an update; no message: it was gone */
        return !have ? CALL_POST : recv_event_is(job, "opened") ? CALL_NONE : CALL_THREAD;
    return CALL_NONE;
}

/* An "ops" message: the configured mention as written (Slack syntax, e.g.
 * <!subteam^S0123> or <!here>: it must stay live), then the text escaped as
 * any template value is, so nothing in an error message can mention or link. */
static kb_err ops_request(const struct receiver *r, const struct recv_job *job,
                          enum slack_call call, struct recv_request *req, struct kb_why *why)
{
    const struct recv_config *c = receiver_config(r);
    struct kb_str text = json_str(json_get(job->payload, "text"));
    struct kb_str mention = json_str(json_get(job->payload, "mention"));
    kb_err e = call == CALL_HOOK
                   ? recv_req_start(req, "POST", c->webhook_url, c->webhook_url, "%s", "")
                   : recv_req_start(req, "POST", c->base_url, SLACK_DEFAULT_BASE, "%s",
                                    "/chat.postMessage");
    if (e)
        return kb_fail(why, e, "slack: URL too long");
    struct buf t = BUF_INIT(8 * SLACK_TEXT_MAX + 1024);
    if (mention.n)
        buf_append(&t, mention.p, KB_MIN(mention.n, (size_t)256));
    if (mention.n)
        buf_putc(&t, ' ');
    tmpl_escape_text(TMPL_SLACK, text.p ? text.p : "", text.n, SLACK_TEXT_MAX, &t);
    struct jw w;
    jw_init(&w, &req->body);
    jw_obj_begin(&w);
    if (call != CALL_HOOK)
        jw_kv_str(&w, "channel", c->channel);
    jw_key(&w, "text");
    jw_strn(&w, t.p ? t.p : "", t.len);
    jw_obj_end(&w);
    buf_release(&t);
    e = jw_finish(&w);
    if (!e)
        e = recv_request_header(req, "Content-Type: application/json; charset=utf-8");
    if (!e && call != CALL_HOOK)
        e = recv_request_header(req, "Authorization: Bearer %s", c->token);
    return e ? kb_fail(why, e, "slack: message too large") : KB_OK;
}

static kb_err slack_build(const struct receiver *r, const struct recv_job *job, int step,
                          struct recv_request *req, struct kb_why *why)
{
    const struct slack *s = receiver_data(r);
    const struct recv_config *c = receiver_config(r);
    struct arena a = ARENA_INIT(64u << 10);
    const struct json_value *st = recv_state(job, &a);
    enum slack_call call = slack_call(r, job, step, st);
    kb_err e = KB_OK;
    struct recv_tctx tc;
    bool have_tc = false;
    if (call == CALL_NONE) {
        e = KB_ENOTFOUND;
        goto out;
    }
    if (recv_event_is(job, "ops")) { /* koban's own error: plain text, mention first */
        e = ops_request(r, job, call, req, why);
        goto out;
    }
    if (!recv_issue(job)) {
        e = kb_fail(why, KB_EINVAL, "slack: payload has no issue");
        goto out;
    }
    if ((e = recv_tctx_init(&tc, r, job, NULL, NULL))) {
        e = kb_fail(why, e, "slack: payload: %s", kb_strerror(e));
        goto out;
    }
    have_tc = true;
    static const char *const paths[] = {"", "/chat.postMessage", "/chat.update",
                                        "/chat.postMessage", ""};
    if (call == CALL_HOOK)
        e = recv_req_start(req, "POST", c->webhook_url, c->webhook_url, "%s", "");
    else
        e = recv_req_start(req, "POST", c->base_url, SLACK_DEFAULT_BASE, "%s", paths[call]);
    if (e) {
        e = kb_fail(why, e, "slack: URL too long");
        goto out;
    }
    struct kb_str ch = kb_str_c(c->channel), ts = KB_STR_NULL;
    if (call == CALL_UPDATE || call == CALL_THREAD)
        state_message(st, &ch, &ts);
    struct jw w;
    jw_init(&w, &req->body);
    jw_obj_begin(&w);
    if (call != CALL_HOOK)
        jw_kv_kstr(&w, "channel", ch);
    if (call == CALL_UPDATE)
        jw_kv_kstr(&w, "ts", ts);
    if (call == CALL_THREAD) {
        struct buf t = BUF_INIT(4 * SLACK_TEXT_MAX + 64);
        e = recv_render(s->tmpls, "slack.thread.tmpl", &tc, TMPL_SLACK, SLACK_TEXT_MAX, &t, why);
        struct kb_str tt = trimmed(&t);
        jw_kv_kstr(&w, "thread_ts", ts);
        jw_key(&w, "text");
        jw_strn(&w, tt.n ? tt.p : "Updated.", tt.n ? tt.n : 8);
        buf_release(&t);
    } else {
        e = message_fields(&w, s, &tc, job, why);
        if (call == CALL_POST) {
            jw_key(&w, "unfurl_links");
            jw_bool(&w, false);
        }
    }
    jw_obj_end(&w);
    if (e)
        goto out;
    if ((e = jw_finish(&w))) {
        e = kb_fail(why, e, "slack: message larger than %zu bytes", req->body.max);
        goto out;
    }
    e = recv_request_header(req, "Content-Type: application/json; charset=utf-8");
    if (!e && call != CALL_HOOK)
        e = recv_request_header(req, "Authorization: Bearer %s", c->token);
    if (e)
        e = kb_fail(why, e, "slack: too many headers");
out:
    if (have_tc)
        recv_tctx_release(&tc);
    arena_release(&a);
    return e;
}

static bool in_list(struct kb_str s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (kb_str_eq(s, list[i]))
            return true;
    return false;
}

static char *state_of(struct kb_str channel, struct kb_str ts)
{
    struct buf b = BUF_INIT(RECV_STATE_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_kv_kstr(&w, "channel", channel);
    jw_kv_kstr(&w, "ts", ts);
    jw_obj_end(&w);
    if (jw_finish(&w)) {
        buf_release(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

static void slack_result(const struct receiver *r, const struct recv_job *job, int step,
                         const struct recv_response *resp, struct recv_result *out)
{
    static const char *const names[] = {"", "chat.postMessage", "chat.update",
                                        "chat.postMessage (thread)", "incoming webhook"};
    static const char *const transient[] = {"ratelimited",         "rate_limited",
                                            "internal_error",      "fatal_error",
                                            "service_unavailable", "request_timeout"};
    static const char *const gone[] = {"message_not_found", "cant_update_message",
                                       "edit_window_closed", "thread_not_found"};
    recv_result_start(out);
    struct arena a = ARENA_INIT(1u << 20);
    const struct json_value *st = recv_state(job, &a);
    enum slack_call call = slack_call(r, job, step, st);
    const char *what = names[call];
    if (call == CALL_NONE) {
        recv_set(out, RECV_DONE, -1, "slack: nothing to send");
        goto out;
    }
    if (!recv_http_common(resp, out, what))
        goto out;
    if (call == CALL_HOOK) {
        recv_set(out, RECV_DONE, -1, "slack webhook: HTTP %ld", resp->status);
        goto out;
    }
    struct json_value *v = NULL;
    struct json_limits lim = {32, 0};
    if (json_parse(resp->body.p ? resp->body.p : "", resp->body.n, &lim, &a, &v, NULL) ||
        v->type != JSON_OBJECT) {
        char snip[128];
        recv_body_snippet(resp->body, snip, sizeof snip);
        recv_set(out, RECV_RETRY, -1, "%s: HTTP %ld but not Slack's JSON: %s", what, resp->status,
                 snip);
        goto out;
    }
    if (json_get(v, "ok") && json_get(v, "ok")->type == JSON_TRUE) {
        struct kb_str ch = json_str(json_get(v, "channel")), ts = json_str(json_get(v, "ts"));
        if (call == CALL_POST && !recv_event_is(job, "test") && !recv_event_is(job, "ops") &&
            !kb_str_empty(ts) &&
            !kb_str_empty(ch))
            out->state = state_of(ch, ts);
        bool more = call == CALL_UPDATE && !recv_event_is(job, "opened");
        recv_set(out, more ? RECV_NEXT : RECV_DONE, -1, "%s: ok", what);
        goto out;
    }
    struct kb_str err = json_str(json_get(v, "error"));
    if (kb_str_empty(err))
        err = KB_STR_LIT("unknown_error");
    int len = (int)KB_MIN(err.n, 80);
    if (in_list(err, transient, KB_ARRAY_LEN(transient))) {
        recv_set(out, RECV_RETRY, resp->retry_after_ms, "%s: %.*s", what, len, err.p);
    } else if ((call == CALL_UPDATE || call == CALL_THREAD) &&
               in_list(err, gone, KB_ARRAY_LEN(gone))) {
        /* The message was deleted or can no longer be edited: forget it,
         * and post a fresh one (the next step, or this one again). */
        out->state = kb_strdup("{}");
        recv_set(out, call == CALL_UPDATE ? RECV_NEXT : RECV_RETRY, call == CALL_UPDATE ? -1 : 0,
                 "%s: %.*s: posting a new message", what, len, err.p);
    } else {
        recv_set(out, RECV_FAIL, -1, "%s: %.*s", what, len, err.p);
    }
out:
    arena_release(&a);
}

const struct recv_ops recv_slack_ops = {
    .type = "slack",
    .init = slack_init,
    .fini = slack_fini,
    .build = slack_build,
    .result = slack_result,
};
