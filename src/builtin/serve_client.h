/*
 * serve_client.h — commands that find `koban serve` running on their
 * data_dir (it holds the journal, which has one writer) hand their work to
 * it over HTTP instead of refusing: `koban ingest` (POST /v1/events),
 * `koban vuln inventory` (POST /v1/inventory/ASSET) and `koban vuln sync`
 * (POST /v1/vuln/sync). serve_client.c.
 */
#ifndef KOBAN_SERVE_CLIENT_H
#define KOBAN_SERVE_CLIENT_H

#include "builtin/builtin.h"
#include "lib/arena.h"
#include "lib/json.h"

struct http_client;

/* The daemon's HTTP address ("127.0.0.1:8478") from data_dir/serve.json
 * into out, when the process it names is alive. KB_ENOTFOUND otherwise. */
kb_err serve_addr(const char *data_dir, char *out, size_t n);

/* The daemon's answer to one request. */
struct serve_answer {
    long status;                   /* 0: no answer */
    char why[512];                 /* status 0: the transport error; else the
                                      answer's "error" member, or "" */
    const struct json_value *json; /* the body as a JSON object (in the
                                      caller's arena), or NULL */
};
/* METHOD http://ADDR + path (escaped by the caller), with cfg's http.token
 * and, when body is not NULL, the body as ctype. */
void serve_call(struct http_client *c, const struct kb_config *cfg, const char *addr,
                const char *method, const char *path, const char *ctype, const char *body,
                size_t len, struct arena *ar, struct serve_answer *out);
/* Prints "koban CMD: WHAT: koban serve did not answer: ..." or "...
 * answered HTTP N: ..." and returns 1. */
int serve_error(const char *cmd, const char *what, const struct serve_answer *a);

/* Sends each file (or "-") to POST /v1/events at addr (source: ?source=,
 * may be NULL) in pieces cut at line ends; prints rejects as FILE: event
 * N: why and a summary. Returns the exit code (0; 1 some rejected or
 * failed). */
int serve_ingest(const struct kb_config *cfg, const char *addr, int nfiles, char **files,
                 const char *source, bool quiet);

/* `koban vuln inventory`: the inventory text to POST /v1/inventory/ASSET
 * (kind, format, filename and the KEY=VALUE labels as query parameters);
 * prints the changes and counts the daemon answers. Returns the exit code. */
int serve_inventory(const struct kb_config *cfg, const char *addr, const char *asset,
                    const char *kind, const char *format, char **labels, size_t nlabels,
                    const char *fname, const char *text, size_t len);

#endif
