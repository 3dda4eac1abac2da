/*
 * incident_service.h — the incident bot running inside `koban serve`: a
 * thread that calls incident_bot_step about every second with its own
 * store connection (incident_bot.h), so every change to an incident,
 * whoever made it, reaches Slack through the outbox.
 *
 * Ownership: incident_service_new returns a service freed (and stopped)
 * with incident_service_free; it owns its settings and connection and
 * borrows the gate.
 */
#ifndef KOBAN_INCIDENT_SERVICE_H
#define KOBAN_INCIDENT_SERVICE_H

#include "incident/incident_bot.h"
#include "lib/buf.h"

struct db_gate;

struct incident_service_opts {
    const char *db_path;     /* the daemon's store */
    const char *config_path; /* the bot's settings file (incident.config) */
    struct db_gate *gate;    /* write turns shared with the daemon; may be NULL */
    int64_t tick_ms;         /* 0: 1000 */
};

struct incident_service;

kb_err incident_service_new(const struct incident_service_opts *o, struct incident_service **out,
                            struct kb_why *why);
kb_err incident_service_start(struct incident_service *s, struct kb_why *why);
/* The settings (borrowed; valid until incident_service_free). */
const struct incident_bot *incident_service_bot(const struct incident_service *s);
/* koban_incident_bot_jobs_total, _timekeeper_total, _errors_total. */
kb_err incident_service_metrics(struct incident_service *s, struct buf *out);
void incident_service_free(struct incident_service *s);

#endif
