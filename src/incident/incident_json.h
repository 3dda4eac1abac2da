/*
 * incident_json.h — an incident as JSON, the same for `koban incident
 * list|show --json` and the HTTP API (web/api_incidents.h): times in UTC
 * ("2021-02-24T01:02:03Z"), absent times and numbers null.
 *
 *   incident_write_fields: the members of the record (no braces);
 *   incident_write_show:   one object with the record, tags, linked koban
 *                          issues, children {id, service, title, status,
 *                          drill} and the timeline {id, at, kind, field,
 *                          value, text, actor, source_ref}.
 */
#ifndef KOBAN_INCIDENT_JSON_H
#define KOBAN_INCIDENT_JSON_H

#include "lib/jsonw.h"
#include "store/db.h"
#include "store/db_incident.h"

void incident_write_fields(struct jw *w, const struct db_incident *r);
/* r as db_incident_get fills it; KB_EDB when the store fails. */
kb_err incident_write_show(struct jw *w, struct db *db, const struct db_incident *r);

#endif
