/*
 * incident_slack.h — incidents driven from Slack: the /incident command,
 * the timekeeper's buttons, and messages pinned (or marked with the
 * timeline emoji) in an incident's channel, applied to the store through
 * incident.h. What koban then says in Slack follows from the timeline
 * (incident_bot.h), so a change made here and one made with
 * `koban incident` are announced alike.
 *
 *   /incident declare SERVICE: TITLE   open an incident (anywhere)
 *   /incident drill SERVICE: TITLE     the same, marked as a drill
 *   in an incident's channel:
 *   /incident investigating | recovered | completed | cancel
 *   /incident level N                  1 (most severe) .. 5
 *   /incident handler @someone | me
 *   /incident note TEXT                a timeline note
 *   /incident                          what the incident is at, and this help
 *   /incident, /incident declare (or drill) with nothing after it, outside
 *   an incident's channel: the declaration modal (incident_modal.h), when
 *   a bot token is set (incident_slack_set_api)
 * Buttons: the timekeeper's (status, "take handler") and "Declare incident"
 * on koban's alert messages (INCIDENT_MODAL_BUTTON, value: the issue id),
 * which opens the modal with the title and links the issue.
 * Answers are ephemeral (only the person who typed sees them).
 *
 * Ownership: incident_slack_new opens its own store connection (one at a
 * time, under a mutex: Slack's requests come from the HTTP threads) and
 * borrows the gate. Free with incident_slack_free.
 */
#ifndef KOBAN_INCIDENT_SLACK_H
#define KOBAN_INCIDENT_SLACK_H

#include "incident/slack_inbound.h"

struct db_gate;
struct incident_slack;

kb_err incident_slack_new(const char *db_path, struct db_gate *gate, const char *workspace_url,
                          struct incident_slack **out, struct kb_why *why);
void incident_slack_free(struct incident_slack *s);
/* Lets s open the declaration modal: Slack's Web API at api_url (NULL/"":
 * https://slack.com/api) with bot_token (NULL/"": no modal; nothing
 * changes). Copies both; call before the first request. KB_EINVAL for a
 * URL that is not http(s). */
kb_err incident_slack_set_api(struct incident_slack *s, const char *api_url,
                              const char *bot_token, struct kb_why *why);

/* Sets the base under which a button's response_url is answered: hooks_url
 * (NULL/"": https://hooks.slack.com, the default before this is called)
 * followed by '/', so the scheme, host and port are hooks_url's exactly.
 * Any other response_url is refused with a warning in the log and nothing
 * sent (a signed request still chooses where koban POSTs only within this
 * base). Copies hooks_url; call before the first request. KB_EINVAL for a
 * URL kb_base_url_ok (lib/url.h) refuses. */
kb_err incident_slack_set_hooks(struct incident_slack *s, const char *hooks_url,
                                struct kb_why *why);

/* slack_app callbacks (ctx = the struct incident_slack). */
kb_err incident_slack_timeline(void *ctx, const char *channel, const char *ts,
                               const char *marked_by, const char *author, const char *text,
                               int64_t at_ms, struct kb_why *why);
kb_err incident_slack_command(void *ctx, const struct slack_command *c, struct buf *reply,
                              struct kb_why *why);
kb_err incident_slack_action(void *ctx, const struct slack_action *a, struct buf *reply,
                             struct kb_why *why);

#endif
