/*
 * log.h — structured logs in logfmt on stderr:
 *   ts=2026-11-22T05:00:00.123Z level=info msg="listening" addr=127.0.0.1:8478
 *
 * The level threshold is a process-wide setting written once by main before
 * threads start (the one documented exception to "no global mutable state").
 * Lines are written with a single write(2) so threads do not interleave.
 */
#ifndef KOBAN_LOG_H
#define KOBAN_LOG_H

#include <stddef.h>

enum kb_log_level { KB_LOG_DEBUG = 0, KB_LOG_INFO, KB_LOG_WARN, KB_LOG_ERROR, KB_LOG_OFF };

/* Sets the threshold; call before starting threads. */
void kb_log_set_level(enum kb_log_level lvl);
/* Parses "debug|info|warn|error|off"; returns -1 when unknown. */
int kb_log_level_parse(const char *s);
/* Same as kb_log_level_parse but NULL-safe, for validation. */
int kb_log_level_valid(const char *s);

/* Logs msg (quoted as needed) followed by the key=value pairs that kvfmt
 * formats (may be NULL). Values that may contain spaces or quotes must go
 * through kb_logq(). */
void kb_log(enum kb_log_level lvl, const char *msg, const char *kvfmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes s as a logfmt value into out (quoted and escaped when needed,
 * truncated to fit) and returns out. */
const char *kb_logq(char *out, size_t outsz, const char *s);

#define log_debug(...) kb_log(KB_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) kb_log(KB_LOG_INFO, __VA_ARGS__)
#define log_warn(...) kb_log(KB_LOG_WARN, __VA_ARGS__)
#define log_error(...) kb_log(KB_LOG_ERROR, __VA_ARGS__)

#endif
