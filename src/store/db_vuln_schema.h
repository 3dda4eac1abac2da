/*
 * db_vuln_schema.h — migration 5: the vulnerability tables (used by
 * store/db_vuln.c). Part of db.c's numbered migrations: append-only once
 * released.
 *
 * One owner per row type (store/db_vuln.h says which call writes which):
 *   vuln_advisory   one OSV record per id, as the feeds last gave it
 *   vuln_feed_state each feed's cursor and settings (feed, key) -> value
 *   vuln_kev        CISA KEV entries
 *   vuln_epss       FIRST EPSS scores (score, percentile: 0..1; date: the
 *                   file's score date)
 *   vuln_asset      a host or repository and its labels (JSON object)
 *   vuln_package    what an asset runs (replaced whole per inventory)
 *   vuln_finding    one per (advisory group, asset, ecosystem, package)
 *   vuln_triage     a person's verdict on a finding (OpenVEX statuses)
 * Times are ms since the epoch.
 */
#ifndef KOBAN_DB_VULN_SCHEMA_H
#define KOBAN_DB_VULN_SCHEMA_H

#define DB_MIGRATION_VULN                                                                          \
    "CREATE TABLE vuln_advisory("                                                                  \
    " id TEXT PRIMARY KEY, group_key TEXT, feed TEXT, modified INTEGER NOT NULL,"                  \
    " withdrawn INTEGER NOT NULL DEFAULT 0, suspected INTEGER NOT NULL DEFAULT 0,"                 \
    " osv TEXT NOT NULL, updated INTEGER NOT NULL) WITHOUT ROWID;"                                 \
    "CREATE INDEX vuln_advisory_by_group ON vuln_advisory(group_key);"                             \
    "CREATE TABLE vuln_feed_state("                                                                \
    " feed TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"                                 \
    " PRIMARY KEY(feed, key)) WITHOUT ROWID;"                                                      \
    "CREATE TABLE vuln_kev("                                                                       \
    " cve TEXT PRIMARY KEY, date_added INTEGER NOT NULL DEFAULT 0,"                                \
    " ransomware INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"                                       \
    "CREATE TABLE vuln_epss("                                                                      \
    " cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL NOT NULL,"                        \
    " date INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"                                             \
    "CREATE TABLE vuln_asset("                                                                     \
    " name TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK(kind IN ('host','repository')),"             \
    " labels TEXT NOT NULL DEFAULT '{}', updated INTEGER NOT NULL) WITHOUT ROWID;"                 \
    "CREATE TABLE vuln_package("                                                                   \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " asset TEXT NOT NULL REFERENCES vuln_asset(name) ON DELETE CASCADE,"                          \
    " source TEXT, ecosystem TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,"            \
    " location TEXT, srcpkg TEXT);"                                                                \
    "CREATE INDEX vuln_package_by_asset ON vuln_package(asset, ecosystem, name);"                  \
    "CREATE INDEX vuln_package_by_name ON vuln_package(name);"                                     \
    "CREATE TABLE vuln_finding("                                                                   \
    " group_key TEXT NOT NULL, asset TEXT NOT NULL, ecosystem TEXT NOT NULL,"                      \
    " package TEXT NOT NULL, installed TEXT NOT NULL, fixed TEXT,"                                 \
    " severity INTEGER NOT NULL, cvss REAL, kev INTEGER NOT NULL DEFAULT 0,"                       \
    " suspected INTEGER NOT NULL DEFAULT 0,"                                                       \
    " state TEXT NOT NULL CHECK(state IN ('open','resolved')),"                                    \
    " first_seen INTEGER NOT NULL, changed INTEGER NOT NULL, reason TEXT,"                         \
    " PRIMARY KEY(group_key, asset, ecosystem, package)) WITHOUT ROWID;"                           \
    "CREATE INDEX vuln_finding_by_asset ON vuln_finding(asset, ecosystem, package);"               \
    "CREATE INDEX vuln_finding_by_state ON vuln_finding(state, severity);"                         \
    "CREATE TABLE vuln_triage("                                                                    \
    " group_key TEXT NOT NULL, asset TEXT NOT NULL, ecosystem TEXT NOT NULL,"                      \
    " package TEXT NOT NULL,"                                                                      \
    " status TEXT NOT NULL CHECK(status IN"                                                        \
    "  ('not_affected','affected','fixed','under_investigation')),"                                \
    " justification TEXT, note TEXT, until INTEGER NOT NULL DEFAULT 0,"                            \
    " author TEXT NOT NULL, at INTEGER NOT NULL,"                                                  \
    " PRIMARY KEY(group_key, asset, ecosystem, package)) WITHOUT ROWID;"

#endif
