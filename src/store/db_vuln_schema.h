/*
 * db_vuln_schema.h — migration 5: the vulnerability tables (used by
 * store/db_vuln.c). Part of db.c's numbered migrations: append-only once
 * released.
 */
#ifndef KOBAN_DB_VULN_SCHEMA_H
#define KOBAN_DB_VULN_SCHEMA_H

#define DB_MIGRATION_VULN "SELECT 1;"

#endif
