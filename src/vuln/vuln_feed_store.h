/*
 * vuln_feed_store.h — the feeds' sink into koban's store: each advisory a
 * feed delivers is stored and, in batches, re-evaluated across every asset
 * by the engine (vuln_engine.h), whose alerts then tell what changed; the
 * KEV catalog replaces the stored one and re-evaluates everything; the
 * EPSS scores replace the stored ones and re-evaluate nothing (they change
 * daily: the engine reads a finding's score when it writes its next
 * alert); the feeds' cursors live in the store too.
 *
 * Batches: advisories are written in one transaction per
 * VULN_FEED_STORE_BATCH records, then handed to
 * vuln_engine_advisories_changed (its own transaction). A cursor is stored
 * only after every advisory before it went through both, as feed.h asks:
 * a sync that dies resumes and never skips.
 *
 * Evaluation goes through callbacks, so that the engine may be another
 * thread's (the daemon's, which also serves inventories): the store writes
 * with its own connection (db), commits, then asks the owner of the
 * engine to evaluate. vuln_feed_store_engine_eval gives the callbacks for
 * an engine the caller owns.
 *
 * Ownership: vuln_feed_store_new borrows db and the eval context (both
 * outlive it); free with vuln_feed_store_free. One thread.
 */
#ifndef KOBAN_VULN_FEED_STORE_H
#define KOBAN_VULN_FEED_STORE_H

#include "store/db.h"
#include "vuln/feed.h"
#include "vuln/vuln_engine.h"

#define VULN_FEED_STORE_BATCH 1000

struct vuln_feed_store;

/* What went to the store. */
struct vuln_feed_store_stats {
    int64_t stored;     /* advisories stored */
    int64_t refused;    /* advisories osv_parse refused (warned, skipped) */
    int64_t kev;        /* KEV entries stored (last complete catalog) */
    int64_t epss;       /* EPSS scores stored (last complete file) */
    struct vuln_eval_stats eval; /* summed over the evaluations */
};

/* How stored advisories get evaluated. */
struct vuln_feed_store_eval {
    /* these ids changed in the store (vuln_engine_advisories_changed) */
    kb_err (*changed)(void *ctx, const char *const *ids, size_t n, struct vuln_eval_stats *st,
                      struct kb_why *why);
    /* a new KEV catalog: everything again (vuln_engine_evaluate_all) */
    kb_err (*all)(void *ctx, struct vuln_eval_stats *st, struct kb_why *why);
    void *ctx;
};
/* The callbacks for an engine the caller owns (ctx = the engine). */
struct vuln_feed_store_eval vuln_feed_store_engine_eval(struct vuln_engine *e);

kb_err vuln_feed_store_new(struct db *db, const struct vuln_feed_store_eval *ev,
                           struct vuln_feed_store **out, struct kb_why *why);
/* Fills sink with the store's callbacks. warn and progress, when given,
 * are passed on (ctx: warn_ctx). */
void vuln_feed_store_sink(struct vuln_feed_store *s, struct feed_sink *sink,
                          void (*warn)(void *ctx, const char *feed, const char *msg),
                          void (*progress)(void *ctx, const char *feed, int64_t done,
                                           int64_t total),
                          void *warn_ctx);
/* Evaluates what is pending (and everything after a new KEV catalog). */
kb_err vuln_feed_store_finish(struct vuln_feed_store *s, struct kb_why *why);
void vuln_feed_store_get_stats(const struct vuln_feed_store *s, struct vuln_feed_store_stats *out);
/* The last error a callback returned (for messages); "" when none. */
const char *vuln_feed_store_error(const struct vuln_feed_store *s);
void vuln_feed_store_free(struct vuln_feed_store *s);

#endif
