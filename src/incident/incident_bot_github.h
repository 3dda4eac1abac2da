/*
 * incident_bot_github.h — the incident bot's GitHub part (incident_bot.h
 * describes what it does; incident_bot.c calls these when the settings
 * name a github receiver).
 *
 * Ownership: everything is borrowed.
 */
#ifndef KOBAN_INCIDENT_BOT_GITHUB_H
#define KOBAN_INCIDENT_BOT_GITHUB_H

#include "incident/incident_bot.h"
#include "store/db_incident.h"

#define INCIDENT_BOT_DRAFT_MAX (640u * 1024) /* bytes of a draft sent to GitHub */

struct db;

/* The GitHub jobs of one timeline event of incident r (declared, status,
 * level, handler; other kinds write nothing), enqueued at now inside the
 * caller's transaction; *jobs counts them. */
kb_err incident_bot_github_event(struct db *db, const struct incident_bot *b,
                                 const struct db_incident_event *ev, const struct db_incident *r,
                                 int64_t now, size_t *jobs, struct kb_why *why);

#endif
