/* slack_app.c — koban's answers to Slack's events (slack_app.h). */
#include "incident/slack_app.h"

#include "lib/buf.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SA_REPORT_MAX (64u * 1024) /* one report event's JSON */

struct slack_app {
    char *report_emoji, *timeline_emoji, *workspace_url;
    slack_submit_fn submit;
    void *submit_ctx;
    slack_timeline_fn on_timeline;
    void *timeline_ctx;
    kb_err (*command)(void *ctx, const struct slack_command *c, struct buf *reply,
                      struct kb_why *why);
    kb_err (*action)(void *ctx, const struct slack_action *a, struct buf *reply,
                     struct kb_why *why);
};

static char *dup_or_null(const char *s)
{
    return s && *s ? kb_strdup(s) : NULL;
}

kb_err slack_app_new(const struct slack_app_opts *o, struct slack_app **out)
{
    struct slack_app *app = kb_calloc(1, sizeof *app);
    app->report_emoji = dup_or_null(o->report_emoji);
    app->timeline_emoji = dup_or_null(o->timeline_emoji);
    app->workspace_url = dup_or_null(o->workspace_url);
    app->submit = o->submit;
    app->submit_ctx = o->submit_ctx;
    app->on_timeline = o->on_timeline;
    app->timeline_ctx = o->timeline_ctx;
    app->command = o->command;
    app->action = o->action;
    *out = app;
    return KB_OK;
}

void slack_app_free(struct slack_app *app)
{
    if (!app)
        return;
    free(app->report_emoji);
    free(app->timeline_emoji);
    free(app->workspace_url);
    free(app);
}

void slack_permalink(const char *workspace_url, const char *channel, const char *ts, char *out,
                     size_t n)
{
    out[0] = 0;
    if (!workspace_url || !*workspace_url || !channel || !ts || n == 0)
        return;
    size_t wl = strlen(workspace_url);
    while (wl > 0 && workspace_url[wl - 1] == '/')
        wl--;
    char digits[40];
    size_t k = 0;
    for (const char *p = ts; *p && k + 1 < sizeof digits; p++)
        if (*p >= '0' && *p <= '9')
            digits[k++] = *p;
    digits[k] = 0;
    snprintf(out, n, "%.*s/archives/%s/p%s", (int)wl, workspace_url, channel, digits);
}

/* The report event for fmt_report.c. */
static kb_err report(struct slack_app *app, const struct slack_event *e, struct kb_why *why)
{
    if (!e->user || !e->channel || !e->ts)
        return kb_fail(why, KB_EINVAL, "reaction without user, channel or ts");
    if (!app->submit)
        return kb_fail(why, KB_EUNSUPPORTED, "reporting is not set up");
    char link[512];
    slack_permalink(app->workspace_url, e->channel, e->ts, link, sizeof link);
    int64_t at = e->event_time > 0 ? e->event_time * 1000 : kb_now_ms();
    char when[32];
    kb_time_format(at, when);
    struct buf b = BUF_INIT(SA_REPORT_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "report");
    jw_obj_begin(&w);
    jw_kv_str(&w, "reporter", e->user);
    jw_kv_str(&w, "channel", e->channel);
    jw_kv_str(&w, "ts", e->ts);
    jw_kv_str(&w, "author", e->item_user);
    jw_kv_str(&w, "permalink", link[0] ? link : NULL);
    jw_kv_str(&w, "text", e->text);
    jw_kv_str(&w, "via", "slack-reaction");
    jw_kv_str(&w, "emoji", e->reaction);
    jw_kv_str(&w, "event_id", e->event_id);
    jw_kv_str(&w, "time", when);
    jw_obj_end(&w);
    jw_obj_end(&w);
    kb_err err = b.len ? app->submit(app->submit_ctx, "report", b.p, b.len, why)
                       : kb_fail(why, KB_ETOOBIG, "report too large");
    if (err == KB_OK) {
        char q1[64], q2[64], q3[64];
        log_info("message reported to security", "channel=%s ts=%s reporter=%s",
                 kb_logq(q1, sizeof q1, e->channel), kb_logq(q2, sizeof q2, e->ts),
                 kb_logq(q3, sizeof q3, e->user));
    }
    buf_release(&b);
    return err;
}

static kb_err timeline(struct slack_app *app, const struct slack_event *e, struct kb_why *why)
{
    int64_t at = e->event_time > 0 ? e->event_time * 1000 : kb_now_ms();
    kb_err err = app->on_timeline(app->timeline_ctx, e->channel, e->ts, e->user, e->item_user,
                                  e->text, at, why);
    return err == KB_ENOTFOUND ? KB_OK : err;
}

static kb_err on_event(void *ctx, const struct slack_event *e, struct kb_why *why)
{
    struct slack_app *app = ctx;
    if (e->type && strcmp(e->type, "pin_added") == 0 && app->on_timeline)
        return timeline(app, e, why);
    if (!e->type || strcmp(e->type, "reaction_added") != 0 || !e->reaction)
        return KB_OK; /* other events: acknowledged, nothing to do */
    if (app->report_emoji && strcmp(e->reaction, app->report_emoji) == 0)
        return report(app, e, why);
    if (app->timeline_emoji && strcmp(e->reaction, app->timeline_emoji) == 0 &&
        app->on_timeline)
        return timeline(app, e, why);
    return KB_OK;
}

static kb_err on_command(void *ctx, const struct slack_command *c, struct buf *reply,
                         struct kb_why *why)
{
    struct slack_app *app = ctx;
    return app->command ? app->command(app->timeline_ctx, c, reply, why) : KB_OK;
}

static kb_err on_action(void *ctx, const struct slack_action *a, struct buf *reply,
                        struct kb_why *why)
{
    struct slack_app *app = ctx;
    return app->action ? app->action(app->timeline_ctx, a, reply, why) : KB_OK;
}

struct slack_handler slack_app_handler(struct slack_app *app)
{
    return (struct slack_handler){
        .event = on_event, .command = on_command, .action = on_action, .ctx = app};
}
