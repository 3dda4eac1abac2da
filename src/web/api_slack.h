/*
 * api_slack.h — Slack's requests to koban over HTTP, served through
 * web_deps.route:
 *   POST /v1/slack/events        Events API (and its url_verification)
 *   POST /v1/slack/commands      slash commands
 *   POST /v1/slack/interactions  buttons, modals, shortcuts
 * (any of the three accepts any kind: the body tells them apart). These
 * paths are not behind http.token: Slack signs its requests instead
 * (incident/slack_inbound.h), so each is refused with 401 unless signed
 * with slack.signing_secret. Reports become alerts through the intake and
 * are answered once durable; /incident, the timekeeper's buttons and pins
 * in incident channels change incidents (incident/incident_slack.h).
 *
 * Ownership: api_slack_new returns an object freed with api_slack_free; it
 * borrows cfg, the intake and the journal (which must outlive it).
 */
#ifndef KOBAN_API_SLACK_H
#define KOBAN_API_SLACK_H

#include "web/web.h"

struct api_slack;

/* NULL in *out (and KB_OK) when slack.signing_secret is not set. */
struct db_gate;
/* db_path, gate: the store the incident commands change (incident_slack.h). */
kb_err api_slack_new(const struct kb_config *cfg, struct intake *intake, struct journal *journal,
                     const char *db_path, struct db_gate *gate, struct api_slack **out,
                     struct kb_why *why);
void api_slack_free(struct api_slack *a);
/* A web_deps.route callback; ctx is the struct api_slack. KB_ENOTFOUND for
 * paths outside /v1/slack/. */
kb_err api_slack_route(void *ctx, const struct web_request *req, struct web_response *resp);
kb_err api_slack_metrics(struct api_slack *a, struct buf *out);

#endif
