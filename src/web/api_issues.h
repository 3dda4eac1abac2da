/*
 * api_issues.h — the issues API, served through web_deps.route:
 *   GET  /v1/issues?state=open|acknowledged|closed|all&source=&severity=&text=&limit=
 *   GET  /v1/issues/{id}                 (with its history)
 *   POST /v1/issues/{id}/ack|close|reopen  body (optional): {"reason":"...","by":"..."}
 * Errors: 404 unknown issue, 409 a transition the lifecycle does not allow,
 * 400 bad parameters. Owns its own SQLite connection (the pipeline's is not
 * shared across threads), serialised by a mutex.
 */
#ifndef KOBAN_API_ISSUES_H
#define KOBAN_API_ISSUES_H

#include "web/web.h"

struct api_issues;

kb_err api_issues_new(const char *db_path, struct api_issues **out, struct kb_why *why);
/* People's transitions (ack, close, reopen) are told to n (borrowed; it
 * must outlive a) inside their transaction, so they notify receivers
 * (PagerDuty acknowledge and resolve, ...). NULL: none. */
struct notifier;
void api_issues_notify(struct api_issues *a, struct notifier *n);
/* Its write transactions take turns at g (store/db.h; borrowed). */
struct db_gate;
void api_issues_gate(struct api_issues *a, struct db_gate *g);
void api_issues_free(struct api_issues *a);
/* A web_deps.route callback; ctx is the struct api_issues. */
kb_err api_issues_route(void *ctx, const struct web_request *req, struct web_response *resp);

#endif
