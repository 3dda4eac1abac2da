/*
 * syslog_parse.h — parsing one syslog line into its header fields, and the
 * syslog normalizer with an explicit reference time.
 *
 * Shapes recognised (tried in this order):
 *   RFC 5424   <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]
 *              ("-" is the nil value; SD is kept verbatim, escapes and all;
 *              a UTF-8 BOM before MSG is skipped).
 *   RFC 3164   [<PRI>]TIMESTAMP [HOST] [TAG[PID]:] MSG, where TIMESTAMP is
 *              "Mmm dd hh:mm:ss" (optional ".fraction", optional " yyyy"
 *              before the time), or RFC 3339 ("2013-10-30T14:51:21.9+01:00"),
 *              or "yyyy-mm-dd hh:mm:ss[.f][zone]". This covers network
 *              syslog and the lines of log files (/var/log/auth.log, the
 *              loghub samples) which carry no PRI.
 *   raw        anything else: the whole line is the message (PRI kept if it
 *              was valid). This is not an error: koban keeps every line.
 *
 * HOST is absent when the word after the timestamp is already a tag
 * ("sshd[12]:" or "sshd:") or the line is "last message repeated N times".
 * A TAG is a word ending in ':' or "[pid]:". Two old daemons write a tag with
 * one space in it, which is accepted when the second word starts with a digit
 * or the first is "--" ("syslogd 1.4.1: restart.", "-- root[2421]: ...").
 *
 * Year inference (RFC 3164 timestamps have no year): of the years
 * ref-1, ref and ref+1 (ref = the reference time's UTC year) the latest one
 * that puts the timestamp at most SYSLOG_FUTURE_SLACK_MS after the reference
 * is chosen. So "Dec 31 23:59" read on Jan 1 is last year, "Jan 1 00:01"
 * read at "Dec 31 23:59" (a clock a little ahead) is next year, and an old
 * log file's lines land in the past year in which they last occurred. A
 * "Feb 29" skips years without one. Timestamps without a zone are taken as
 * UTC: koban has no per-sender time zone.
 *
 * Bytes: any bytes are accepted (NUL, invalid UTF-8). Fields are slices of
 * the line (zero-copy); invalid UTF-8 is kept as is and flagged in
 * utf8_ok — JSON output replaces it with U+FFFD, the journal keeps the
 * original bytes. The message is trimmed of surrounding spaces, tabs, CR
 * and LF. Header scans are bounded (SYSLOG_MAX_HOST, SYSLOG_MAX_TAG, ...);
 * the message can be any length up to SYSLOG_MAX_LINE.
 */
#ifndef KOBAN_SYSLOG_PARSE_H
#define KOBAN_SYSLOG_PARSE_H

#include "formats/format.h"

#define SYSLOG_MAX_LINE (1024u * 1024)  /* longer lines: KB_ETOOBIG */
#define SYSLOG_MAX_HOST 255             /* RFC 5424 HOSTNAME bound */
#define SYSLOG_MAX_TAG 64               /* app name / tag word */
#define SYSLOG_MAX_PID 128              /* RFC 5424 PROCID bound */
#define SYSLOG_MAX_MSGID 32
#define SYSLOG_FUTURE_SLACK_MS (2LL * 24 * 3600 * 1000) /* two days */

enum syslog_shape {
    SYSLOG_RAW = 0,   /* no recognisable header: msg is the whole line */
    SYSLOG_RFC3164 = 1,
    SYSLOG_RFC5424 = 2,
};

struct syslog_msg {
    enum syslog_shape shape;
    int facility;            /* 0..23; -1 without a valid PRI */
    int severity;            /* 0..7; -1 without a valid PRI */
    int64_t time_ms;         /* 0 when unknown */
    bool year_inferred;      /* the timestamp had no year */
    struct kb_str timestamp; /* as written */
    struct kb_str host;      /* all kb_str: KB_STR_NULL when absent / "-" */
    struct kb_str app;       /* RFC 5424 APP-NAME or RFC 3164 tag */
    struct kb_str pid;       /* PROCID or the [pid] of the tag */
    struct kb_str msgid;     /* RFC 5424 only */
    struct kb_str sd;        /* RFC 5424 structured data, verbatim */
    struct kb_str msg;       /* the message (trimmed) */
    uint32_t repeated;       /* N of "last message repeated N times", else 0 */
    bool utf8_ok;            /* the line is valid UTF-8 */
};

/* Parses line (no newline needed; a trailing CR/LF is ignored) with ref_ms
 * as the reference time for year inference. KB_EINVAL for an empty (or
 * blank) line, KB_ETOOBIG past SYSLOG_MAX_LINE; otherwise KB_OK and *out
 * filled (shape RAW when no header was recognised). */
kb_err syslog_parse(struct kb_str line, int64_t ref_ms, struct syslog_msg *out);

/* "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug";
 * NULL out of range. */
const char *syslog_severity_name(int severity);
/* "kern", "user", ... "local7"; NULL out of range. */
const char *syslog_facility_name(int facility);

/* The syslog normalizer (format_syslog's normalize_text) with an explicit
 * reference time for year inference; format_syslog uses kb_now_ms().
 * Emits exactly one alert per non-blank line; see docs/ALERT_FORMAT.md. */
kb_err syslog_normalize_at(struct kb_str line, int64_t ref_ms, struct arena *a,
                           alert_emit_fn emit, void *ctx, struct kb_why *why);

#endif
