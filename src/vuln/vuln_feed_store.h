/*
 * vuln_feed_store.h — the feeds' sink into koban's store: each advisory a
 * feed delivers is stored and, in batches, re-evaluated across every asset
 * by the engine (vuln_engine.h), whose alerts then tell what changed; the
 * KEV catalog replaces the stored one and re-evaluates everything; the
 * feeds' cursors live in the store too.
 *
 * Batches: advisories are written in one transaction per
 * VULN_FEED_STORE_BATCH records, then handed to
 * vuln_engine_advisories_changed (its own transaction). A cursor is stored
 * only after every advisory before it went through both, as feed.h asks:
 * a sync that dies resumes and never skips.
 *
 * Ownership: vuln_feed_store_new borrows db and the engine (both outlive
 * it); free with vuln_feed_store_free. One thread.
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
    struct vuln_eval_stats eval; /* summed over the evaluations */
};

kb_err vuln_feed_store_new(struct db *db, struct vuln_engine *e, struct vuln_feed_store **out,
                           struct kb_why *why);
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
