/*
 * db_incident_schema.h — migration 6: the incident tables (used by
 * store/db_incident.c). Part of db.c's numbered migrations: append-only
 * once released.
 *
 * incident        one row per incident; times are ms since the epoch, NULL
 *                 when not known (yet); status and temperature are the names
 *                 of store/db_incident.h's enums
 * incident_tag    its tags; incident_issue: the koban issues linked to it
 * incident_event  its timeline: one row per change, note or pin, written in
 *                 the transaction of the change (kind, field, new value,
 *                 text, who, when, and the chat message it came from)
 * incident_channel_taken  channel names the chat service reported taken
 */
#ifndef KOBAN_DB_INCIDENT_SCHEMA_H
#define KOBAN_DB_INCIDENT_SCHEMA_H

#define DB_MIGRATION_INCIDENT                                                             \
    "CREATE TABLE incident("                                                              \
    " id INTEGER PRIMARY KEY,"                                                            \
    " service TEXT NOT NULL, title TEXT NOT NULL, summary TEXT,"                          \
    " temperature TEXT NOT NULL CHECK(temperature IN ('cold','warm','hot')),"             \
    " level INTEGER NOT NULL CHECK(level BETWEEN 1 AND 5),"                               \
    " status TEXT NOT NULL CHECK(status IN"                                               \
    "  ('declared','investigating','recovered','completed','cancelled')),"                \
    " handler TEXT, scribe TEXT, liaison TEXT,"                                           \
    " occurred INTEGER, detected INTEGER, declared INTEGER NOT NULL,"                     \
    " first_response INTEGER, recovered INTEGER, completed INTEGER, cancelled INTEGER,"   \
    " slack_channel_id TEXT, slack_channel_name TEXT UNIQUE,"                             \
    " github_issue INTEGER, github_pr INTEGER,"                                           \
    " parent_id INTEGER REFERENCES incident(id),"                                         \
    " drill INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL);"                       \
    "CREATE INDEX incident_by_status ON incident(status, service);"                       \
    "CREATE INDEX incident_by_parent ON incident(parent_id);"                             \
    "CREATE INDEX incident_by_channel ON incident(slack_channel_id);"                     \
    "CREATE TABLE incident_tag("                                                          \
    " incident_id INTEGER NOT NULL REFERENCES incident(id), tag TEXT NOT NULL,"           \
    " PRIMARY KEY(incident_id, tag)) WITHOUT ROWID;"                                      \
    "CREATE INDEX incident_tag_by_tag ON incident_tag(tag);"                              \
    "CREATE TABLE incident_issue("                                                        \
    " incident_id INTEGER NOT NULL REFERENCES incident(id),"                              \
    " issue_id INTEGER NOT NULL REFERENCES issues(id),"                                   \
    " PRIMARY KEY(incident_id, issue_id)) WITHOUT ROWID;"                                 \
    "CREATE TABLE incident_event("                                                        \
    " id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL REFERENCES incident(id),"      \
    " at INTEGER NOT NULL, kind TEXT NOT NULL, field TEXT, value TEXT, text TEXT,"        \
    " actor TEXT, source_ref TEXT);"                                                      \
    "CREATE INDEX incident_event_by_incident ON incident_event(incident_id, id);"         \
    "CREATE TABLE incident_channel_taken(name TEXT PRIMARY KEY, at INTEGER NOT NULL)"     \
    " WITHOUT ROWID;"

#endif
