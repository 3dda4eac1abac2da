/*
 * sigma_mapfile.h — the user's Sigma mapping file: which koban source a
 * rule's logsource runs on, how Sigma field names are found in each
 * source's events, and the values of `expand` placeholders. Loaded into the
 * tables of struct sigma_options, consulted before koban's defaults.
 *
 *   logsources:                 # first matching row wins
 *     - {product: acme, service: audit, source: generic}
 *   fields:
 *     - {source: gcp_audit, sigma: gcp.audit.method_name, event: protoPayload.methodName}
 *   placeholders:
 *     known_cdcs: [cdc-01, cdc-02]
 *
 * Errors say "FILE:LINE: key: reason". Ownership: a sigma_mapfile owns every
 * string its tables point to; free it after the ruleset built from it
 * (sigma_ruleset_new copies the tables, so right after is fine).
 */
#ifndef KOBAN_SIGMA_MAPFILE_H
#define KOBAN_SIGMA_MAPFILE_H

#include "rules/sigma.h"

#define SIGMA_MAPFILE_MAX_ROWS 4096 /* per table */
#define SIGMA_MAPFILE_MAX_VALUES 4096 /* values of one placeholder */

struct sigma_mapfile;

/* Reads path. KB_EIO when it cannot be read, KB_EPARSE/KB_EINVAL with why
 * naming the line and key. *out is NULL on failure. */
kb_err sigma_mapfile_load(const char *path, struct sigma_mapfile **out, struct kb_why *why);
/* The same for YAML text; name stands for the file in messages. */
kb_err sigma_mapfile_parse(const char *text, size_t len, const char *name,
                           struct sigma_mapfile **out, struct kb_why *why);
/* Points opt's logsource, field and placeholder tables at the file's
 * (other members of opt are left alone). */
void sigma_mapfile_apply(const struct sigma_mapfile *m, struct sigma_options *opt);
void sigma_mapfile_free(struct sigma_mapfile *m);

#endif
