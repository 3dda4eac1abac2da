/*
 * db_incident.h — incidents in the store: the incident rows, their tags and
 * linked koban issues, their timeline (incident_event) and the chat channel
 * names already taken. Schema: store/db_incident_schema.h (migration 6).
 *
 * This layer reads and writes rows; it does not judge them. The rules (which
 * status may follow which, which timeline events a change writes, parent
 * links without cycles, channel names) are in incident/incident.h, which
 * calls these functions inside one transaction (db_begin .. db_commit) so a
 * change and its timeline events are committed together. Every write here
 * runs in the caller's transaction; reads in any.
 *
 * Incidents change at human pace (a CLI command, a chat message), so the
 * statements are prepared per call rather than cached in struct db.
 *
 * Ownership: rows read into struct db_incident own their strings and arrays
 * until db_incident_release(). Rows handed to callbacks (db_incident_fn,
 * db_incident_event_fn) are borrowed for the duration of the call.
 */
#ifndef KOBAN_DB_INCIDENT_H
#define KOBAN_DB_INCIDENT_H

#include "store/db.h"

/* Status; the allowed transitions are in incident/incident.h. */
enum incident_status {
    INCIDENT_DECLARED = 0,
    INCIDENT_INVESTIGATING = 1,
    INCIDENT_RECOVERED = 2,
    INCIDENT_COMPLETED = 3,
    INCIDENT_CANCELLED = 4,
};
#define INCIDENT_STATUS_COUNT 5

/* Temperature: how urgent it feels. cold: no user impact yet or
 * contained; warm: impact, being handled; hot: already bad, emergency. */
enum incident_temp { INCIDENT_COLD = 0, INCIDENT_WARM = 1, INCIDENT_HOT = 2 };
#define INCIDENT_TEMP_COUNT 3

#define INCIDENT_TAGS_MAX 32    /* tags per incident */
#define INCIDENT_ISSUES_MAX 256 /* linked koban issues per incident */

/* "declared", "investigating", ... ("?" when out of range). */
const char *incident_status_name(int status);
/* Those names. KB_EINVAL when unknown. */
kb_err incident_status_parse(const char *s, int *out);
/* "cold", "warm", "hot" ("?" when out of range). */
const char *incident_temp_name(int temp);
kb_err incident_temp_parse(const char *s, int *out);

struct db_incident {
    int64_t id;
    char *service, *title, *summary;   /* summary may be NULL */
    int temperature;                   /* enum incident_temp */
    int level;                         /* 1 (most severe) .. 5 */
    int status;                        /* enum incident_status */
    char *handler, *scribe, *liaison;  /* roles; NULL: unassigned */
    /* ms since the epoch; 0: not known / not yet */
    int64_t occurred, detected, declared, first_response, recovered, completed, cancelled;
    int64_t updated;
    char *slack_channel_id, *slack_channel_name; /* NULL: none */
    int64_t github_issue, github_pr;   /* 0: none */
    int64_t parent_id;                 /* 0: none */
    bool drill;
    /* Filled by db_incident_get only (empty in list callbacks). */
    char **tags;                       /* ntags strings, in byte order */
    size_t ntags;
    int64_t *issues;                   /* nissues koban issue ids, ascending */
    size_t nissues;
};
/* Frees what r owns and zeroes it. */
void db_incident_release(struct db_incident *r);

/* Inserts r (id, tags and issues ignored) and sets *id. KB_EEXIST when its
 * channel name is already used by another incident. */
kb_err db_incident_insert(struct db *db, const struct db_incident *r, int64_t *id);
/* Writes every column of r (tags and issues ignored) to incident r->id.
 * KB_ENOTFOUND when there is no such incident; KB_EEXIST as for insert. */
kb_err db_incident_update(struct db *db, const struct db_incident *r);
/* Reads incident id with its tags and issues. KB_ENOTFOUND when absent. */
kb_err db_incident_get(struct db *db, int64_t id, struct db_incident *out);
/* The incident whose Slack channel is channel_id. KB_ENOTFOUND: none. */
kb_err db_incident_by_channel(struct db *db, const char *channel_id, int64_t *id);

/* Adds a tag; *added false when it was there already. KB_ETOOBIG past
 * INCIDENT_TAGS_MAX. */
kb_err db_incident_tag_add(struct db *db, int64_t id, const char *tag, bool *added);
/* Links koban issue issue_id; *added false when linked already.
 * KB_ENOTFOUND when there is no such issue; KB_ETOOBIG past
 * INCIDENT_ISSUES_MAX. */
kb_err db_incident_issue_add(struct db *db, int64_t id, int64_t issue_id, bool *added);

struct db_incident_filter {
    int status;           /* -1: any */
    const char *service;  /* NULL: any */
    int64_t parent_id;    /* > 0: only its children; 0: any */
    /* DB_INCIDENT_ANY (0), DB_INCIDENT_REAL (drills left out), DB_INCIDENT_DRILLS */
    enum db_incident_drill { DB_INCIDENT_ANY = 0, DB_INCIDENT_REAL, DB_INCIDENT_DRILLS } drill;
    size_t limit;         /* 0: 1000 */
};
typedef kb_err (*db_incident_fn)(void *ctx, const struct db_incident *r);
/* Incidents matching f, newest first (by declared time, then id); a
 * non-zero return from fn stops the walk and is returned. */
kb_err db_incident_list(struct db *db, const struct db_incident_filter *f, db_incident_fn fn,
                        void *ctx);

/* One timeline entry. kind: "declared", "status", "level", "role", "field",
 * "tag", "link", "note", "pin". field names what changed ("handler",
 * "title", "parent", "child", "issue", ...; NULL for notes and pins), value
 * its new value as text, text a sentence or the note itself. */
struct db_incident_event {
    int64_t id;           /* set by the store */
    int64_t incident_id;
    int64_t at;           /* ms */
    const char *kind, *field, *value, *text;
    const char *actor;    /* who; NULL: unknown */
    const char *source_ref; /* chat message reference (ts or permalink); NULL: none */
};
/* Appends ev (ev->id ignored); sets *id when id is not NULL. */
kb_err db_incident_event_add(struct db *db, const struct db_incident_event *ev, int64_t *id);
typedef kb_err (*db_incident_event_fn)(void *ctx, const struct db_incident_event *ev);
/* Incident id's events (id 0: every incident's) with an id above after_id,
 * of this kind (NULL: every kind), in the order they were written, at most limit (0: 10000). A later
 * broadcaster asks "status events of the parent since the last one sent". */
kb_err db_incident_events(struct db *db, int64_t id, int64_t after_id, const char *kind,
                          size_t limit, db_incident_event_fn fn, void *ctx);

/* Whether a chat channel name is taken: used by an incident, or recorded
 * by db_incident_channel_mark_taken. */
kb_err db_incident_channel_taken(struct db *db, const char *name, bool *taken);
/* Records that the chat service said name is taken (idempotent). */
kb_err db_incident_channel_mark_taken(struct db *db, const char *name, int64_t at);

#endif
