/*
 * vuln_service.h — the daemon's vulnerability chores, on one thread:
 * every minute the triage expiry (api_vuln_tick: expired verdicts reopen
 * their issues), and every vuln.sync_interval_s the advisory feeds
 * (vuln.feeds) into the store with a connection of its own, evaluated by
 * the engine that serves inventories (api_vuln), so that new advisories
 * reach the assets without a restart.
 *
 * Ownership: vuln_service_start borrows cfg, the api_vuln and the gate
 * (they outlive it); vuln_service_stop ends the thread (a sync in
 * progress stops within its HTTP timeouts) and frees it.
 */
#ifndef KOBAN_VULN_SERVICE_H
#define KOBAN_VULN_SERVICE_H

#include "config/config.h"
#include "lib/buf.h"

struct api_vuln;
struct db_gate;
struct vuln_service;

kb_err vuln_service_start(const struct kb_config *cfg, const char *db_path, struct api_vuln *api,
                          struct db_gate *gate, struct vuln_service **out, struct kb_why *why);
void vuln_service_stop(struct vuln_service *s);
/* A web_deps.route callback (ctx: the service; behind http.token):
 *   POST /v1/vuln/sync  starts a sync now (202; one at a time)
 *   GET  /v1/vuln/sync  {"requested","syncing","runs","last_ok","last_message"}
 * KB_ENOTFOUND for other paths. `koban vuln sync` uses it while serve runs. */
struct web_request;
struct web_response;
kb_err vuln_service_route(void *ctx, const struct web_request *req, struct web_response *resp);

/* koban_vuln_sync_runs_total{result}, koban_vuln_triage_reopened_total. */
kb_err vuln_service_metrics(struct vuln_service *s, struct buf *out);

#endif
