/* api_slack.c — Slack's requests over HTTP (api_slack.h). */
#include "web/api_slack.h"

#include "incident/incident_slack.h"
#include "incident/slack_app.h"
#include "incident/slack_inbound.h"

#include <stdlib.h>
#include <string.h>

#define AS_DURABLE_WAIT_MS 2000 /* Slack gives up after 3 s */

struct api_slack {
    struct intake *intake;
    struct journal *journal;
    struct slack_app *app;
    struct slack_inbound *in;
    struct incident_slack *incidents;
};

/* Reports go through the intake like any event, forced to their format. */
static kb_err submit(void *ctx, const char *format, const char *json, size_t len,
                     struct kb_why *why)
{
    struct api_slack *a = ctx;
    const struct format *f = format_by_name(format);
    if (!f)
        return kb_fail(why, KB_EINVAL, "no format '%s'", format);
    struct intake_report rep;
    uint64_t seq = 0;
    kb_err e = intake_body(a->intake, json, len, JOURNAL_PATH_HTTP, f, &rep, &seq, why);
    if (e)
        return e;
    if (rep.accepted != 1)
        return kb_fail(why, KB_EINVAL, "report rejected: %s",
                       rep.nreported ? rep.rejects[0].reason : "?");
    return journal_wait(a->journal, seq, AS_DURABLE_WAIT_MS);
}

kb_err api_slack_new(const struct kb_config *cfg, struct intake *intake, struct journal *journal,
                     const char *db_path, struct db_gate *gate, struct api_slack **out,
                     struct kb_why *why)
{
    *out = NULL;
    if (!cfg->slack.signing_secret || !*cfg->slack.signing_secret)
        return KB_OK;
    struct api_slack *a = kb_calloc(1, sizeof *a);
    a->intake = intake;
    a->journal = journal;
    kb_err e = incident_slack_new(db_path, gate, cfg->slack.workspace_url, &a->incidents, why);
    if (!e)
        e = incident_slack_set_api(a->incidents, cfg->slack.api_url, cfg->slack.bot_token, why);
    if (!e)
        e = incident_slack_set_hooks(a->incidents, cfg->slack.hooks_url, why);
    if (e) {
        api_slack_free(a);
        return e;
    }
    struct slack_app_opts ao = {.report_emoji = cfg->slack.report_emoji,
                                .timeline_emoji = cfg->slack.timeline_emoji,
                                .workspace_url = cfg->slack.workspace_url,
                                .submit = submit,
                                .submit_ctx = a,
                                .on_timeline = incident_slack_timeline,
                                .timeline_ctx = a->incidents,
                                .command = incident_slack_command,
                                .action = incident_slack_action};
    slack_app_new(&ao, &a->app);
    struct slack_handler h = slack_app_handler(a->app);
    struct slack_inbound_opts io = {.signing_secret = cfg->slack.signing_secret};
    e = slack_inbound_new(&io, &h, &a->in, why);
    if (e) {
        api_slack_free(a);
        return e;
    }
    *out = a;
    return KB_OK;
}

void api_slack_free(struct api_slack *a)
{
    if (!a)
        return;
    slack_inbound_free(a->in);
    slack_app_free(a->app);
    incident_slack_free(a->incidents);
    free(a);
}

kb_err api_slack_route(void *ctx, const struct web_request *req, struct web_response *resp)
{
    struct api_slack *a = ctx;
    if (strncmp(req->path, "/v1/slack/", 10) != 0)
        return KB_ENOTFOUND;
    const char *rest = req->path + 10;
    if (strcmp(rest, "events") && strcmp(rest, "commands") && strcmp(rest, "interactions"))
        return KB_ENOTFOUND;
    if (strcmp(req->method, "POST") != 0) {
        return web_fail(resp, 405, "method not allowed");
    }
    struct slack_http rq = {
        .content_type = web_header(req, "Content-Type"),
        .timestamp = web_header(req, "X-Slack-Request-Timestamp"),
        .signature = web_header(req, "X-Slack-Signature"),
        .retry_num = web_header(req, "X-Slack-Retry-Num"),
        .body = req->body,
        .len = req->body_len,
        .now_ms = kb_now_ms(),
    };
    unsigned status = 500;
    slack_inbound_handle(a->in, &rq, &status, &resp->body);
    resp->status = status;
    return KB_OK;
}

kb_err api_slack_metrics(struct api_slack *a, struct buf *out)
{
    return a ? slack_inbound_metrics(a->in, out) : KB_OK;
}
