/*
 * vuln_sink.h — the vulnerability engine's alerts into koban's journal from
 * a CLI command, folded into issues by the pipeline in this process, as
 * `koban ingest` does (builtin/cmd_ingest.c): journal, intake with the
 * rules and policies, pipeline, notifications queued for `koban serve`.
 *
 * Each alert is journaled (intake_body, format "vuln") and made durable
 * (journal_wait) inside the engine's transaction, before the findings it
 * tells of commit: a crash loses no alert of a stored change (a repeat
 * after a rollback folds as a repeat). Alerts the triage filter drops
 * (vuln_triage_alert_keep) are not journaled.
 *
 * The journal has one writer: while `koban serve` runs on the data_dir,
 * vuln_sink_open refuses with the given hint.
 *
 * Ownership: the sink owns everything it opens; close it with
 * vuln_sink_close. The config is borrowed and must outlive it.
 */
#ifndef KOBAN_VULN_SINK_H
#define KOBAN_VULN_SINK_H

#include "builtin/builtin.h"
#include "vuln/vuln_triage.h"

struct vuln_sink;

/* Opens the journal and the pipeline for cfg's data_dir. Returns 0, or the
 * exit code after printing "koban vuln CMD: ..." (with busy_hint when
 * `koban serve` holds the journal). */
int vuln_sink_open(const char *cmd, const struct kb_config *cfg, const char *busy_hint,
                   struct vuln_sink **out);
/* The writer gate to give the engine's store connection (store/db.h), so
 * that it and the pipeline take turns. */
struct db_gate *vuln_sink_gate(struct vuln_sink *s);
/* Alerts of findings under a closing verdict are dropped (t borrowed; NULL:
 * none). */
void vuln_sink_filter(struct vuln_sink *s, struct vuln_triage *t);
/* A vuln_alert_fn (vuln/vuln_engine.h); ctx is the sink. */
kb_err vuln_sink_alert(void *ctx, const char *json, size_t len);
/* Waits until the pipeline has folded every alert and prints the issue
 * counts ("issues: N new, ..."). Returns 0 or 1 after an error. */
int vuln_sink_finish(struct vuln_sink *s);
void vuln_sink_close(struct vuln_sink *s);

/* Opens cfg's store for a `koban vuln` command (DB_CLIENT). Without
 * create, a missing store is an error. Returns 0, or 1 after printing. */
struct db;
int vuln_store_open(const char *cmd, const struct kb_config *cfg, bool create, struct db **out);

/* What one engine alert says, for printing: its state ("open" /
 * "resolved"), severity word and title, copied (truncated) into the
 * caller's arrays. false when the text is not an alert. */
struct vuln_alert_line {
    char state[16], severity[16], change[64], title[512];
};
bool vuln_alert_line(const char *json, size_t len, struct vuln_alert_line *out);

#endif
