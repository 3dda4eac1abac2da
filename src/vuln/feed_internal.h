/*
 * feed_internal.h — what feed.c gives the fetchers (feed_fetch_*.c) and
 * the offline import: one run of one feed, its HTTP with retries and rate
 * limit, its state, and delivery to the sink with counting.
 *
 * Ownership: a feed_run lives on feed_sync's stack for one feed; its HTTP
 * client and buffers are feed.c's. A response filled by feed_get points
 * into the run's client and stays valid until the next feed_get.
 */
#ifndef KOBAN_FEED_INTERNAL_H
#define KOBAN_FEED_INTERNAL_H

#include "notify/receiver.h"
#include "vuln/feed.h"

#define FEED_RATE_MAX 5000 /* request times remembered for rate limiting */

struct http_client;

struct feed_run {
    enum feed_id id;
    const char *name;
    struct feed_opts o; /* defaults applied */
    const struct feed_sink *sink;
    struct feed_result *res;
    struct http_client *http;
    int64_t deadline_ns; /* kb_mono_ns() bound of the whole feed */
    int64_t *sent_ns;    /* ring of the last rate_count request times */
    size_t sent_n, sent_at;
    struct kb_why cb_why; /* why of a sink error inside a converter callback */
};

/* The sync of one feed (feed_fetch_*.c). */
kb_err feed_osv_sync(struct feed_run *r, struct kb_why *why);
kb_err feed_nvd_sync(struct feed_run *r, struct kb_why *why);
kb_err feed_ghsa_sync(struct feed_run *r, struct kb_why *why);
kb_err feed_jvn_sync(struct feed_run *r, struct kb_why *why);
kb_err feed_kev_sync(struct feed_run *r, struct kb_why *why);
kb_err feed_epss_sync(struct feed_run *r, struct kb_why *why);

/* GETs url with the extra headers ("Name: value"), waiting for the rate
 * limit and retrying transient failures (see feed.h). KB_OK with *resp
 * for 2xx and 304 (and for the statuses in ok_status, a 0-terminated list,
 * e.g. 404 for a record gone); an error naming the URL and the last
 * answer otherwise. A body cut at max_body is KB_ETOOBIG. */
kb_err feed_get(struct feed_run *r, const char *url, const char *const *headers, size_t nh,
                const long *ok_status, struct recv_response *resp, struct kb_why *why);

/* A catalog published whole (KEV, EPSS): GETs base_url + path with
 * If-None-Match / If-Modified-Since from the feed's state ("etag",
 * "last_modified"); a 304 marks the result not modified; otherwise body()
 * delivers the answer, *done (the count body advances) is shown as
 * progress, and the answer's ETag and Last-Modified become the new state. */
kb_err feed_catalog_sync(struct feed_run *r, const char *path,
                         kb_err (*body)(struct feed_run *r, const char *body, size_t len,
                                        struct kb_why *why),
                         const int64_t *done, struct kb_why *why);


/* State of this feed in the sink; feed_state_get returns false when unset. */
bool feed_state_get(struct feed_run *r, const char *key, char *out, size_t outsz);
kb_err feed_state_set(struct feed_run *r, const char *key, const char *value, struct kb_why *why);

/* Hands one advisory to the sink under this feed, counting it. */
kb_err feed_deliver(struct feed_run *r, const char *id, const char *json, size_t len,
                    struct kb_why *why);
/* A converter's advisory callback (ctx: the feed_run; errors are kept in
 * the run and returned by the converter). */
kb_err feed_deliver_cb(void *ctx, const char *id, const char *osv_json, size_t len);
/* A converter's skip callback: a warning. */
void feed_skip_cb(void *ctx, const char *where, const char *why);

void feed_warn(struct feed_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void feed_progress(struct feed_run *r, int64_t done, int64_t total);

/* Delivers every *.json entry of an OSV zip archive (in memory) under
 * feed "osv"; entries that are not a JSON object with an "id" are warned
 * about and skipped. *n (may be NULL) gets the count delivered. */
kb_err feed_osv_zip(struct feed_run *r, const char *data, size_t len, int64_t *n,
                    struct kb_why *why);
/* Delivers one OSV record's text (its "id" read from it). */
kb_err feed_osv_record(struct feed_run *r, const char *json, size_t len, struct kb_why *why);

/* Delivers a KEV catalog body: kev_begin, entries, kev_end. */
kb_err feed_kev_body(struct feed_run *r, const char *body, size_t len, struct kb_why *why);
/* Delivers an EPSS file (gzip or plain): epss_begin, scores, epss_end. */
kb_err feed_epss_body(struct feed_run *r, const char *body, size_t len, struct kb_why *why);

/* True when the feed's time or request budget is spent (why filled). */
bool feed_over_budget(struct feed_run *r, struct kb_why *why);

#endif
