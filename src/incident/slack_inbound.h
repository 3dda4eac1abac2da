/*
 * slack_inbound.h — what Slack sends koban: Events API callbacks, slash
 * commands and interactivity (buttons, modals, message shortcuts), checked
 * and parsed, then handed to a handler (the incident bot, slack_app.h).
 *
 * Every request must carry Slack's signature: X-Slack-Signature =
 * "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp
 * + ":" + body)), compared in constant time, with the timestamp within
 * SLACK_SIG_WINDOW_S of now (else 401). A signed request seen before (the
 * same signature inside the window) is a replay: 401. An event whose
 * event_id was handled already is Slack retrying (X-Slack-Retry-Num) or a
 * replay with a new signature: it is answered 200 and not handled again.
 * Every refusal is logged with its reason and counted.
 *
 * Slack wants an answer within 3 s, so a handler only records what must be
 * done (the store, the outbox) and answers; slow work happens elsewhere.
 *
 * The transport is the caller's (web/api_slack.c adapts the HTTP server):
 * slack_inbound_handle takes the headers and the raw body it was given.
 *
 * Ownership: slack_inbound_new returns an object freed with
 * slack_inbound_free; it copies the options' strings and borrows the
 * handler's ctx. What the handler is given points into the request and
 * lives for the call only. Thread-safe: the replay and event caches have
 * their own lock, so HTTP threads may call slack_inbound_handle at once.
 */
#ifndef KOBAN_SLACK_INBOUND_H
#define KOBAN_SLACK_INBOUND_H

#include "lib/buf.h"
#include "lib/kb.h"

#define SLACK_SIG_WINDOW_S 300      /* timestamps older or newer are refused */
#define SLACK_SEEN_MAX 16384        /* signatures (5 min) and event ids (1 h) remembered
                                       at once, each; past it requests are refused 503 */
#define SLACK_EVENT_TTL_S 3600      /* event ids remembered this long */
#define SLACK_MAX_BODY (1024 * 1024)/* larger requests are refused (413) */

/* Checks one request's signature (see above). now_s: the current time in
 * seconds. KB_EAUTH with why = the reason when it does not verify. */
kb_err slack_verify(const char *secret, const char *timestamp, const char *signature,
                    const char *body, size_t len, int64_t now_s, struct kb_why *why);

/* An Events API event (event_callback). Absent members are NULL. */
struct slack_event {
    const char *event_id, *team_id;
    const char *type;     /* "reaction_added", "pin_added", "message", ... */
    const char *user;     /* who did it */
    const char *reaction; /* reaction_*: the emoji name without colons */
    const char *channel;  /* the channel of the item (or of the message) */
    const char *ts;       /* the item's message ts (or the message's ts) */
    const char *item_user;/* reaction_*: the author of the message reacted to */
    const char *text;     /* message / pin_added item text, when sent */
    int64_t event_time;   /* seconds; 0 when absent */
};

/* A slash command (application/x-www-form-urlencoded). */
struct slack_command {
    const char *command;  /* "/incident" */
    const char *text;     /* what follows the command ("" when nothing) */
    const char *user_id, *user_name, *channel_id, *channel_name, *team_id;
    const char *trigger_id, *response_url;
};

/* An interactivity payload: a button (block_actions), a modal submitted
 * (view_submission) or a message shortcut (message_action). */
struct slack_action {
    const char *type;       /* "block_actions", "view_submission", "message_action", ... */
    const char *user_id, *user_name, *channel_id, *trigger_id, *response_url;
    const char *action_id;  /* block_actions: the first action's action_id */
    const char *value;      /* its value (button) or selected option's value */
    const char *message_ts; /* the message the button or shortcut is on */
    const char *message_text;
    const char *callback_id;/* view_submission: view.callback_id; shortcut: callback_id */
    const char *private_metadata; /* view_submission: view.private_metadata */
    const char *view_values;/* view_submission: view.state.values as JSON text */
};

/* What Slack's requests are handed to. Each callback may be NULL (the
 * request is then acknowledged and ignored). A callback may write the
 * immediate answer into reply (JSON; empty: "200 with no body"); an error
 * answers 500 and is logged (Slack retries events). */
struct slack_handler {
    kb_err (*event)(void *ctx, const struct slack_event *e, struct kb_why *why);
    kb_err (*command)(void *ctx, const struct slack_command *c, struct buf *reply,
                      struct kb_why *why);
    kb_err (*action)(void *ctx, const struct slack_action *a, struct buf *reply,
                     struct kb_why *why);
    void *ctx;
};

struct slack_inbound_opts {
    const char *signing_secret; /* required */
    int64_t window_s;           /* 0: SLACK_SIG_WINDOW_S */
};

struct slack_inbound;

kb_err slack_inbound_new(const struct slack_inbound_opts *o, const struct slack_handler *h,
                         struct slack_inbound **out, struct kb_why *why);
void slack_inbound_free(struct slack_inbound *in);

/* One request as received. */
struct slack_http {
    const char *content_type; /* may be NULL */
    const char *timestamp;    /* X-Slack-Request-Timestamp */
    const char *signature;    /* X-Slack-Signature */
    const char *retry_num;    /* X-Slack-Retry-Num, NULL when absent */
    const char *body;         /* raw, NUL-terminated */
    size_t len;
    int64_t now_ms;
};

/* Verifies, de-duplicates, parses and dispatches one request. Sets *status
 * (200, 400 unusable body, 401 refused, 413 too large, 500 handler error)
 * and fills reply (JSON; may stay empty). Returns KB_OK whenever *status is
 * set. */
kb_err slack_inbound_handle(struct slack_inbound *in, const struct slack_http *rq,
                            unsigned *status, struct buf *reply);

/* Prometheus counters: koban_slack_requests_total{kind,result}. */
kb_err slack_inbound_metrics(struct slack_inbound *in, struct buf *out);

/* The value of key in an application/x-www-form-urlencoded body,
 * percent-decoded ('+' is a space) into out (cleared first). KB_ENOTFOUND
 * when absent; KB_EINVAL for a bad escape; KB_ETOOBIG past out's limit. */
kb_err slack_form_get(const char *body, size_t len, const char *key, struct buf *out);

#endif
