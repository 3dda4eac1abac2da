/*
 * slack_app.h — koban's Slack app: what it does with what Slack sends
 * (the handler behind slack_inbound.h).
 *
 * Reactions:
 *   - the report emoji (slack.report_emoji) on any message reports it to
 *     security: a koban alert of source `report` (formats/fmt_report.c)
 *     naming the message (channel, ts, permalink), its author and who
 *     reported it. Its issue is routed like any other (notify.routes): a
 *     route for source "report" to the security channel's Slack receiver
 *     forwards it there with the link. Several reports of one message fold
 *     into one issue.
 *   - the timeline emoji (slack.timeline_emoji) in an incident's channel
 *     adds the message to the incident's timeline (through on_timeline).
 * Pins: a message pinned in an incident's channel (pin_added) goes on its
 * timeline too — the postmortem's timeline is built from them.
 * Commands and buttons go to the command and action callbacks.
 *
 * Ownership: slack_app_new copies the options' strings; the callbacks'
 * ctx is borrowed. Thread-safe (no state changes after creation).
 */
#ifndef KOBAN_SLACK_APP_H
#define KOBAN_SLACK_APP_H

#include "incident/slack_inbound.h"

/* Makes text (one JSON event) a koban alert through the daemon's intake,
 * forcing `format`, and returns once it is durable. */
typedef kb_err (*slack_submit_fn)(void *ctx, const char *format, const char *json, size_t len,
                                  struct kb_why *why);

/* A message to add to an incident's timeline: channel, ts, who marked it,
 * its author and text (may be NULL), at (ms). KB_ENOTFOUND: the channel is
 * no incident's (ignored). */
typedef kb_err (*slack_timeline_fn)(void *ctx, const char *channel, const char *ts,
                                    const char *marked_by, const char *author,
                                    const char *text, int64_t at_ms, struct kb_why *why);

struct slack_app_opts {
    const char *report_emoji;   /* NULL/"": no reporting */
    const char *timeline_emoji; /* NULL/"": no timeline marking */
    const char *workspace_url;  /* "https://example.slack.com" for permalinks; NULL: none */
    slack_submit_fn submit;     /* required for reporting */
    void *submit_ctx;
    slack_timeline_fn on_timeline; /* NULL: timeline marking ignored */
    void *timeline_ctx;
    /* Slash commands and interactivity (the incident bot,
     * incident_slack.h); NULL: acknowledged and ignored. ctx: timeline_ctx. */
    kb_err (*command)(void *ctx, const struct slack_command *c, struct buf *reply,
                      struct kb_why *why);
    kb_err (*action)(void *ctx, const struct slack_action *a, struct buf *reply,
                     struct kb_why *why);
};

struct slack_app;

kb_err slack_app_new(const struct slack_app_opts *o, struct slack_app **out);
void slack_app_free(struct slack_app *app);

/* The handler to give slack_inbound_new (ctx = app). */
struct slack_handler slack_app_handler(struct slack_app *app);

/* The permalink of a message: "<workspace_url>/archives/<channel>/p<ts
 * without its dot>" into out (size n); "" when there is no workspace URL. */
void slack_permalink(const char *workspace_url, const char *channel, const char *ts, char *out,
                     size_t n);

#endif
