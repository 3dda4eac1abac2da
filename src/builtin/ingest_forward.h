/*
 * ingest_forward.h — `koban ingest` while `koban serve` holds the journal:
 * the files go to the daemon over HTTP instead (ingest_forward.c).
 */
#ifndef KOBAN_INGEST_FORWARD_H
#define KOBAN_INGEST_FORWARD_H

#include "builtin/builtin.h"

/* The daemon's HTTP address ("127.0.0.1:8478") from data_dir/serve.json
 * into out, when the process it names is alive. KB_ENOTFOUND otherwise. */
kb_err ingest_forward_addr(const char *data_dir, char *out, size_t n);

/* Sends each file (or "-") to POST /v1/events at addr (source: ?source=,
 * may be NULL), with cfg's http.token; prints rejects as FILE: event N:
 * why and a summary. Returns the exit code (0, 1 some rejected or failed). */
int ingest_forward(const struct kb_config *cfg, const char *addr, int nfiles, char **files,
                   const char *source, bool quiet);

/* `koban vuln inventory` while koban serve runs: the inventory text goes
 * to POST /v1/inventory/{asset} (kind, format, filename and the KEY=VALUE
 * labels as query parameters); prints the changes and counts the daemon
 * answers. Returns the exit code. */
int vuln_inventory_forward(const struct kb_config *cfg, const char *addr, const char *asset,
                           const char *kind, const char *format, char **labels, size_t nlabels,
                           const char *fname, const char *text, size_t len);

#endif
