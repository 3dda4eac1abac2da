/*
 * openvex.h — koban's triage as OpenVEX 0.2.0 documents, both ways.
 *
 * Export (openvex_export): one statement per triaged finding:
 *   vulnerability  {"name": group key, "aliases": the group's other ids}
 *   products       [{"@id": asset, "subcomponents": [{"@id": purl of the
 *                   package at the installed version}]}]
 *   status, timestamp (when the verdict was given), and by status:
 *     not_affected  justification, impact_statement (the note)
 *     affected      action_statement (the note, or a default: OpenVEX
 *                   requires one)
 *     fixed, under_investigation  status_notes (the note)
 * The document: @context https://openvex.dev/ns/v0.2.0, @id (urn:uuid:
 * from a hash of the content and time), author, timestamp, version 1,
 * tooling "koban". Expiry (until) and per-verdict authors have no OpenVEX
 * field and are not exported.
 *
 * Import: openvex_parse checks a document against the specification's
 * rules (statuses, justifications, not_affected needs a justification or
 * an impact_statement, affected an action_statement; products given as
 * objects or strings, vulnerability as an object or a string), errors
 * naming the statement index and field ("statement 2: status: ...").
 * openvex_match lists the findings a statement names: its vulnerability
 * name or an alias equals a finding's group key (or names a stored
 * advisory of that group), and a product is an asset name (its
 * subcomponents' purls, when given, narrow it to those packages) or a
 * purl (that package on every asset; matched by ecosystem without release
 * and name, version ignored).
 *
 * Ownership: struct openvex_doc owns everything it points to (its arena):
 * openvex_doc_release. Bounds: OPENVEX_MAX_* below; the text at most
 * OPENVEX_MAX_BYTES.
 */
#ifndef KOBAN_OPENVEX_H
#define KOBAN_OPENVEX_H

#include "lib/arena.h"
#include "lib/buf.h"
#include "store/db_vuln.h"

#define OPENVEX_CONTEXT "https://openvex.dev/ns/v0.2.0"
#define OPENVEX_MAX_BYTES (64u * 1024 * 1024)
#define OPENVEX_MAX_STATEMENTS 100000u
#define OPENVEX_MAX_LIST 1000u   /* aliases, products, subcomponents per statement */
#define OPENVEX_MAX_ALIASES 64u  /* aliases exported per vulnerability */
#define OPENVEX_MAX_MATCHES 100000u /* findings one statement may name */

struct openvex_export_opts {
    const char *asset;  /* NULL: every asset */
    const char *author; /* required */
    int64_t now;        /* ms: the document's timestamp */
};

/* Writes the document into out (replacing its content); *nstatements
 * (may be NULL) gets the count. */
kb_err openvex_export(struct db_vuln *dv, const struct openvex_export_opts *o, struct buf *out,
                      size_t *nstatements, struct kb_why *why);

struct openvex_product {
    const char *id; /* @id, or identifiers.purl when @id is absent */
    const char **subs;
    size_t nsubs;
};

struct openvex_statement {
    const char *vuln; /* vulnerability name (or @id) */
    const char **aliases;
    size_t naliases;
    struct openvex_product *products;
    size_t nproducts;
    int status; /* enum db_vuln_triage_status */
    const char *justification, *impact, *action, *notes; /* NULL when absent */
    int64_t timestamp; /* ms; the document's when the statement has none */
};

struct openvex_doc {
    struct arena ar;
    const char *id, *author;
    int64_t timestamp;
    struct openvex_statement *st;
    size_t n;
};

/* Parses and checks a document. On error nothing is kept (*out released). */
kb_err openvex_parse(const char *text, size_t len, struct openvex_doc *out, struct kb_why *why);
void openvex_doc_release(struct openvex_doc *d);

/* One finding a statement names (strings owned by the list). */
struct openvex_match {
    char *group_key, *asset, *ecosystem, *package;
};
struct openvex_matches {
    struct openvex_match *v;
    size_t n, cap;
};
/* Appends the findings statement s names to out (without duplicates). */
kb_err openvex_match(struct db_vuln *dv, const struct openvex_statement *s,
                     struct openvex_matches *out, struct kb_why *why);
void openvex_matches_release(struct openvex_matches *m);

/* The triage a statement gives (strings borrowed from s; author given). */
void openvex_statement_triage(const struct openvex_statement *s, const char *author,
                              struct db_vuln_triage *out);

#endif
