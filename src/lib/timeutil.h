/*
 * timeutil.h — parsing and printing the timestamps sources use.
 */
#ifndef KOBAN_TIMEUTIL_H
#define KOBAN_TIMEUTIL_H

#include "lib/kb.h"

/* RFC 3339 / ISO 8601: "2021-02-24T01:02:03Z", with optional fraction
 * (any digits, kept to ms) and "Z" or "+09:00"/"-0500" offsets; a space
 * instead of 'T' is accepted. KB_EINVAL if malformed or out of range. */
kb_err kb_time_parse_rfc3339(struct kb_str s, int64_t *ms);

/* Formats ms since the epoch as "2021-02-24T01:02:03.456Z" (24 chars + NUL). */
void kb_time_format(int64_t ms, char out[32]);

/* Days since 1970-01-01 for a proleptic Gregorian date (month 1..12). */
int64_t kb_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
