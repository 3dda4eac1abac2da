/*
 * api_incidents.h — incidents over HTTP, served through web_deps.route
 * (behind http.token like the rest of /v1/); the same model and rules as
 * `koban incident` (incident/incident.h), and the same JSON:
 *
 *   GET  /v1/incidents?status=S&service=S&limit=N  {"incidents":[{...}, ...]}
 *   POST /v1/incidents        {"service","title",["summary","level",
 *                              "temperature","handler","drill","occurred",
 *                              "detected","by"]}          201 the incident
 *   GET  /v1/incidents/{id}   the incident with tags, issues, children and
 *                             timeline
 *   POST /v1/incidents/{id}   a change: {["status","level","temperature",
 *                              "title","summary","handler","scribe",
 *                              "liaison","tags":[..],"issues":[..],"by"]}
 *   POST /v1/incidents/{id}/notes  {"text",["pin":true,"ref","by"]}   201
 *   POST /v1/incidents/{id}/parent {"parent":ID,["by"]}
 *   GET  /v1/incidents/{id}/postmortem   the draft (text/markdown)
 *   GET  /v1/incidents/stats  {"stats":[{service, level, count, recovered,
 *                              median_ttr_seconds}]} (drills left out)
 * Times are RFC 3339. Errors: 400 a refused value or transition (the
 * message says what and why), 404 no such incident (or linked issue), 405
 * another method. What Slack and GitHub then say follows from the
 * timeline (incident/incident_bot.h).
 *
 * Ownership: api_incidents_new opens its own store connection (a mutex
 * serialises requests; its writes take turns at the gate); free with
 * api_incidents_free.
 */
#ifndef KOBAN_API_INCIDENTS_H
#define KOBAN_API_INCIDENTS_H

#include "web/web.h"

struct api_incidents;
struct db_gate;

kb_err api_incidents_new(const char *db_path, struct db_gate *gate, struct api_incidents **out,
                         struct kb_why *why);
void api_incidents_free(struct api_incidents *a);
/* A web_deps.route callback (ctx: the api_incidents); KB_ENOTFOUND outside
 * /v1/incidents. */
kb_err api_incidents_route(void *ctx, const struct web_request *req, struct web_response *resp);

#endif
