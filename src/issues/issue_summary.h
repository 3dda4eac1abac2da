/*
 * issue_summary.h — what intake learned about an event, kept beside it in
 * the journal (journal_entry.aux) so the pipeline can fold a repeat without
 * parsing and normalizing the event a second time.
 *
 * Encoding (little-endian):
 *   version 1: u8 1 | u8 format id | u16 alert count |
 *     per alert: fp[16] | i64 time_ms | u8 severity | u16 title length | title
 *   version 2 (alerts after rules and policies, ingest/triage.h):
 *     u8 2 | u8 format id | u16 alert count | u64 triage generation |
 *     per alert: the same fields as version 1, then u8 flags (bit 0: has
 *     triage) and, with triage, rules, policies, labels, annotations, each
 *     as u16 length + 1 (0: absent) and the JSON text.
 * A summary describes every alert the event produced, or is absent (more
 * than ISSUE_SUMMARY_MAX_ALERTS alerts, text events, an alert only the
 * pipeline can settle): consumers then take the full path. The raw event
 * stays the record of truth; a summary is only a shortcut and is ignored
 * when its version is unknown, or (version 2) when it was made under
 * another generation of rules and policies than the pipeline's.
 */
#ifndef KOBAN_ISSUE_SUMMARY_H
#define KOBAN_ISSUE_SUMMARY_H

#include "formats/alert.h"
#include "lib/buf.h"

#define ISSUE_SUMMARY_VERSION 1
#define ISSUE_SUMMARY_VERSION_TRIAGED 2
#define ISSUE_SUMMARY_TRIAGE_MAX 16384 /* bytes of one triage text */

struct issue_triage;
#define ISSUE_SUMMARY_MAX_ALERTS 64
#define ISSUE_SUMMARY_TITLE_MAX 1024 /* titles are cut here, as in the store */

struct issue_summary_alert {
    uint8_t fp[16];
    int64_t time_ms;
    int severity;
    struct kb_str title; /* points into the encoded bytes */
    /* version 2: what rules and policies said (texts point into the
     * encoded bytes and are not NUL-terminated; .p NULL = absent) */
    bool has_triage;
    struct kb_str rules, policies, labels, annotations;
};

struct issue_summary {
    uint8_t version;
    uint8_t format_id;
    uint64_t triage_gen; /* version 2: the rules and policies generation */
    size_t n;
    struct issue_summary_alert alerts[ISSUE_SUMMARY_MAX_ALERTS];
};

/* Writes the header of a summary for format_id with a zero alert count;
 * issue_summary_add() then appends alerts. *start is the header's offset in
 * out (for the count). KB_ETOOBIG when out is full. */
kb_err issue_summary_begin(struct buf *out, uint8_t format_id, size_t *start);

/* Appends one alert (its fingerprint computed here) to the summary at start.
 * KB_ETOOBIG after ISSUE_SUMMARY_MAX_ALERTS alerts or when out is full: the
 * caller then drops the summary. */
kb_err issue_summary_add(struct buf *out, size_t start, const struct alert *a);

/* Version 2: the header for alerts settled under triage generation gen. */
kb_err issue_summary_begin_triaged(struct buf *out, uint8_t format_id, uint64_t gen,
                                   size_t *start);
/* Appends one settled alert to a version 2 summary: its fingerprint (the
 * policy's identity), time, final severity, title, and t (may be NULL: the
 * occurrence leaves the issue's triage as it is). KB_ETOOBIG as
 * issue_summary_add, or when a text is over ISSUE_SUMMARY_TRIAGE_MAX. */
kb_err issue_summary_add_triaged(struct buf *out, size_t start, const uint8_t fp[16],
                                 int64_t time_ms, int severity, struct kb_str title,
                                 const struct issue_triage *t);

/* Decodes a summary. KB_EINVAL when it is malformed or of another version
 * (take the full path). out->alerts[].title point into p. */
kb_err issue_summary_decode(struct kb_str p, struct issue_summary *out);

#endif
