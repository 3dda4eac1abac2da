/*
 * sigma_explain.h — why a Sigma rule did or did not match an event, as text
 * a person reads (`koban rules explain`, the failures of `koban test`).
 *
 * The trace evaluates each field of each selection with the engine itself
 * (sigma_match.c), so it cannot disagree with sigma_match. For each
 * selection it says whether it matched and, per field, the value found in
 * the event and the values the rule wants; then the condition (as compiled,
 * so `1 of selection_*` shows the selections it stands for) and its result:
 *
 *   selection: no match
 *     yes  eventSource: found "cloudtrail.amazonaws.com"; wanted "cloudtrail.amazonaws.com"
 *     no   eventName: found "GetCallerIdentity"; wanted "StopLogging", "DeleteTrail"
 *   condition: selection -> no match
 *
 * Field keys and wanted values are shown as the rule file writes them
 * (modifiers included), read again from sigma_rule_file(); when the file is
 * gone or changed, they are described from the compiled rule instead.
 *
 * Like matching, explaining uses the ruleset's scratch: one thread at a time
 * per ruleset. The ruleset's counters (sigma_ruleset_stats) count the
 * evaluations an explanation makes.
 */
#ifndef KOBAN_SIGMA_EXPLAIN_H
#define KOBAN_SIGMA_EXPLAIN_H

#include "lib/buf.h"
#include "rules/sigma.h"

#define SIGMA_EXPLAIN_MAX_VALUES 8  /* values listed per field before "and N more" */
#define SIGMA_EXPLAIN_MAX_TEXT 160  /* bytes of one value shown */

/* Appends the trace of r on ev to out, each line starting with `indent`
 * (may be NULL), and sets *matched as sigma_match would. Returns KB_OK, or
 * KB_ETOOBIG when out's limit was reached (the trace is then cut). */
kb_err sigma_explain(const struct sigma_rule *r, const struct sigma_event *ev,
                     const char *indent, struct buf *out, bool *matched);

#endif
