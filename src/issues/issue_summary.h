/*
 * issue_summary.h — what intake learned about an event, kept beside it in
 * the journal (journal_entry.aux) so the pipeline can fold a repeat without
 * parsing and normalizing the event a second time.
 *
 * Encoding (little-endian), version 1:
 *   u8 version | u8 format id | u16 alert count |
 *   per alert: fp[16] | i64 time_ms | u8 severity | u16 title length | title
 * A summary describes every alert the event produced, or is absent (more
 * than ISSUE_SUMMARY_MAX_ALERTS alerts, text events): consumers then take
 * the full path. The raw event stays the record of truth; a summary is only
 * a shortcut and is ignored when its version is unknown.
 */
#ifndef KOBAN_ISSUE_SUMMARY_H
#define KOBAN_ISSUE_SUMMARY_H

#include "formats/alert.h"
#include "lib/buf.h"

#define ISSUE_SUMMARY_VERSION 1
#define ISSUE_SUMMARY_MAX_ALERTS 64
#define ISSUE_SUMMARY_TITLE_MAX 1024 /* titles are cut here, as in the store */

struct issue_summary_alert {
    uint8_t fp[16];
    int64_t time_ms;
    int severity;
    struct kb_str title; /* points into the encoded bytes */
};

struct issue_summary {
    uint8_t format_id;
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

/* Decodes a summary. KB_EINVAL when it is malformed or of another version
 * (take the full path). out->alerts[].title point into p. */
kb_err issue_summary_decode(struct kb_str p, struct issue_summary *out);

#endif
