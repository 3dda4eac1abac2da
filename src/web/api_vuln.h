/*
 * api_vuln.h — vulnerability inventories over HTTP, served through
 * web_deps.route (behind http.token like the rest of /v1/):
 *
 *   POST /v1/inventory/{asset}?format=NAME&kind=host|repository&release=R
 *        &labels=KEY=VALUE,KEY=VALUE (set those labels, keep the others)
 *        body: the inventory file (a package database, lockfile or SBOM;
 *        format detected from the content when not given). Replaces what
 *        the asset runs, re-evaluates it (vuln/vuln_engine.h), journals
 *        each finding change as an alert of source vuln (intake, then
 *        journal_wait: the answer comes once they are durable) and answers
 *        200 {"asset":..,"packages":N,"new":N,"updated":N,"resolved":N,
 *        "unsure":N,"alerts":N,"changes":[{"state","severity","title"}..]}
 *        (changes: the first API_VULN_MAX_CHANGES). release ("Debian:12")
 *        sets the asset's release label: its OS packages are then matched
 *        against that release's advisories. 400 {"error":..} for
 *        an inventory that does not parse (the message names FILE:LINE),
 *        an unknown format or kind, or a bad asset name; 405 other methods;
 *        503 when the journal fails.
 *
 * Alerts of findings under a closing triage verdict are not journaled
 * (vuln/vuln_triage.h). The engine (every advisory in memory) is loaded
 * on the first inventory; advisories stored later by another process are
 * seen after a restart.
 *
 * api_vuln_tick expires triage (vuln_triage_expire) and checkpoints the
 * WAL its connection wrote (that connection does not checkpoint inside
 * its commits, so an advisory change never pays two fsyncs): the daemon
 * calls it every minute.
 *
 * Ownership: api_vuln_new returns an object freed with api_vuln_free; it
 * owns its own SQLite connection (serialised by a mutex, its write
 * transactions taking turns at the gate) and borrows the intake, the
 * journal, the gate and the notifier, which must outlive it.
 */
#ifndef KOBAN_API_VULN_H
#define KOBAN_API_VULN_H

#include "web/web.h"

#define API_VULN_MAX_CHANGES 1000
#define API_VULN_MAX_LABELS 64 /* in labels= */

struct api_vuln;
struct db_gate;
struct notifier;

/* gate may be NULL. */
kb_err api_vuln_new(const char *db_path, struct intake *intake, struct journal *journal,
                    struct db_gate *gate, struct api_vuln **out, struct kb_why *why);
/* Triage transitions (expiry reopening issues) are told to n (borrowed);
 * NULL: none. */
void api_vuln_notify(struct api_vuln *a, struct notifier *n);
void api_vuln_free(struct api_vuln *a);
/* A web_deps.route callback; ctx is the struct api_vuln. KB_ENOTFOUND for
 * paths outside /v1/inventory/. */
kb_err api_vuln_route(void *ctx, const struct web_request *req, struct web_response *resp);
/* Expires triage at now_ms; *reopened (may be NULL) counts the issues
 * reopened. */
kb_err api_vuln_tick(struct api_vuln *a, int64_t now_ms, size_t *reopened, struct kb_why *why);

/* The daemon's feed sync stores advisories with its own connection and
 * has them evaluated by this engine (the one inventories use), in turn
 * with the requests: vuln_feed_store_eval callbacks (ctx = the api_vuln). */
struct vuln_eval_stats;
kb_err api_vuln_advisories_changed(void *ctx, const char *const *ids, size_t n,
                                   struct vuln_eval_stats *st, struct kb_why *why);
kb_err api_vuln_evaluate_all(void *ctx, struct vuln_eval_stats *st, struct kb_why *why);

#endif
