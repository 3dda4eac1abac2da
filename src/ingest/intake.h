/*
 * intake.h — the one door every ingest path uses (HTTP, spool, syslog, CLI).
 *
 * intake_body() splits a payload into events, checks each one (parse and
 * normalize, so a bad event is rejected with its index and a reason while
 * the good ones beside it are kept), and appends the accepted events — plus
 * one JOURNAL_REJECT record per rejected event, for the quarantine table —
 * to the journal as one group. It does not wait for durability: the caller
 * acknowledges only after journal_wait()/journal_on_durable() on *last_seq.
 *
 * Splitting rules for a JSON payload:
 *   - {"Records":[...]} (CloudTrail files, S3 notifications): each record;
 *   - a JSON array: each element;
 *   - NDJSON / concatenated values: each value;
 *   - one object: itself.
 * A payload that does not start with '{' or '[' is text: one event per line
 * (syslog), blank lines ignored.
 *
 * Thread safety: an intake may be used from any number of threads; each
 * call uses its own arena. Counters are atomic.
 */
#ifndef KOBAN_INTAKE_H
#define KOBAN_INTAKE_H

#include "formats/format.h"
#include "store/journal.h"

#define INTAKE_MAX_REJECTS_REPORTED 100

struct intake_reject {
    size_t index;          /* 0-based index of the event in the payload */
    char reason[160];      /* "line 1, byte 37: expected ',' or '}'" */
};

struct intake_report {
    size_t accepted;
    size_t rejected;
    size_t nreported;      /* rejects[0..nreported) are filled */
    struct intake_reject rejects[INTAKE_MAX_REJECTS_REPORTED];
};

struct triage;

struct intake_opts {
    size_t max_event_bytes;     /* one event; 0 = 1 MiB */
    size_t max_events;          /* per payload; 0 = 100,000 */
    uint32_t max_json_depth;    /* 0 = 64 */
    struct triage *triage;      /* rules and policies run here too (their
                                   stateless part, ingest/triage.h); NULL:
                                   summaries of plain alerts only */
};

struct intake;

/* The intake borrows the journal (which must outlive it). */
kb_err intake_new(struct journal *j, const struct intake_opts *opts, struct intake **out);
void intake_free(struct intake *in);

/* See above. forced: a format chosen by the sender (?source=), or NULL to
 * detect per event. KB_EINVAL with why filled when the payload as a whole is
 * unusable (e.g. not JSON at all when a JSON format is forced, or more than
 * max_events); partial rejects are not an error. */
kb_err intake_body(struct intake *in, const char *body, size_t len, enum journal_path path,
                   const struct format *forced, struct intake_report *rep,
                   uint64_t *last_seq, struct kb_why *why);

/* One text message (syslog), already framed; its bytes are journaled as
 * given (the framer removed any newline terminator). */
kb_err intake_line(struct intake *in, const char *line, size_t len, enum journal_path path,
                   uint64_t *last_seq, struct kb_why *why);

/* Writes Prometheus counters (koban_events_accepted_total{source,path}, ...)
 * into out. */
kb_err intake_metrics(struct intake *in, struct buf *out);

#endif
