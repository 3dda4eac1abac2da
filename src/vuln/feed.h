/*
 * feed.h — koban's advisory feeds: HTTP fetchers for OSV, NVD, GitHub
 * (GHSA), JVN (MyJVN), CISA KEV and FIRST EPSS, and the offline import of
 * the same formats from files (air-gapped sites).
 *
 * Data flow:
 *
 *   feed_sync ── per enabled feed ──► fetcher (feed_fetch_*.c) ── HTTP ──► feed
 *        │                               │ native answer
 *        │                               ▼
 *        │                        converter (feed_convert.h) ──► OSV text
 *        ▼                               │
 *   per-feed results               sink (caller's callbacks): advisory(), kev(),
 *                                  epss(), state_get()/state_set(), progress(),
 *                                  warn()
 *
 * Feeds run one after the other (EPSS first, then by id, so that the
 * alerts of a sync carry that day's EPSS scores); one that fails (after
 * its retries) is reported in its feed_result and the next still runs.
 * Every request is
 * bounded (connect and total timeout, body size), every feed is bounded
 * (requests, wall time), and retries use exponential backoff between
 * backoff_ms and backoff_max_ms, honouring Retry-After. Retried: no answer
 * (refused, reset, timed out, a body shorter than its Content-Length), 429
 * and 5xx, and GitHub's 403 with x-ratelimit-remaining 0.
 *
 * Cursors: a feed keeps what it needs to resume in the sink's state, as
 * strings under (feed, key): OSV "cursor:<Ecosystem>" (RFC 3339 time of the
 * newest modified_id.csv entry delivered), NVD "last_modified" (end of the
 * last window delivered), GHSA "updated" (updated_at of the newest advisory
 * delivered; the next sync asks updated>= it), JVN "updated" (the last day
 * whose changes were delivered), KEV and EPSS "etag" and "last_modified". A cursor
 * is set only after everything before it was handed to the sink, so a sync
 * that fails or dies midway resumes where it stopped and never skips; it
 * may deliver some advisories twice (the sink overwrites by id).
 *
 * Ownership: strings in feed_opts and feed_config are borrowed and must
 * outlive feed_sync. Text handed to a sink callback is valid during the
 * call only.
 */
#ifndef KOBAN_FEED_H
#define KOBAN_FEED_H

#include "lib/kb.h"
#include "vuln/feed_convert.h"

enum feed_id { FEED_OSV = 0, FEED_NVD, FEED_GHSA, FEED_JVN, FEED_KEV, FEED_EPSS, FEED_COUNT };

#define FEED_MAX_ECOSYSTEMS 64
#define FEED_STATE_MAX 512 /* one state value, NUL included */

/* What a feed's fetcher does with what it gets. Every callback but
 * advisory may be NULL. A callback's error stops that feed (it is then
 * reported as failed; the cursor stays where it was). */
struct feed_sink {
    void *ctx;
    /* One advisory as OSV JSON text; id is the record's id. */
    kb_err (*advisory)(void *ctx, const char *feed, const char *id, const char *osv_json,
                       size_t len);
    /* The KEV catalog: kev_begin, kev for each entry, then kev_end with
     * complete = true when every entry was delivered (the catalog replaces
     * the previous one) or false (discard what came since kev_begin). */
    kb_err (*kev_begin)(void *ctx);
    kb_err (*kev)(void *ctx, const struct feed_kev *entry);
    kb_err (*kev_end)(void *ctx, bool complete);
    /* The EPSS scores, the same way: epss_begin, epss for each row,
     * epss_end(complete). */
    kb_err (*epss_begin)(void *ctx);
    kb_err (*epss)(void *ctx, const struct feed_epss *score);
    kb_err (*epss_end)(void *ctx, bool complete);
    /* State: *out (outsz >= FEED_STATE_MAX) gets the value; KB_ENOTFOUND
     * when there is none. state_set (value NULL: remove the key) must make
     * everything delivered before it durable no later than the value. */
    kb_err (*state_get)(void *ctx, const char *feed, const char *key, char *out, size_t outsz);
    kb_err (*state_set)(void *ctx, const char *feed, const char *key, const char *value);
    /* done of total items (total -1: unknown). */
    void (*progress)(void *ctx, const char *feed, int64_t done, int64_t total);
    /* A problem that does not stop the feed (a record skipped, a 404). */
    void (*warn)(void *ctx, const char *feed, const char *message);
};

/* One feed's settings; feed_config_defaults fills them. Zero in a number
 * takes the default given in brackets. */
struct feed_opts {
    bool enabled;         /* [true] */
    const char *base_url; /* [the feed's public URL, see feed_default_url] */
    const char *api_key;  /* NVD apiKey header, GHSA bearer token; NULL: none */
    const char *ecosystems[FEED_MAX_ECOSYSTEMS]; /* OSV only */
    size_t n_ecosystems;        /* OSV: none given = every ecosystem in ecosystems.txt */
    int page_size;              /* [NVD 2000, GHSA 100, JVN 50] */
    int rate_count;             /* requests per rate_window_ms; [NVD 5, 50 with a key;
                                   GHSA 60, 5000 with a token; others 10] */
    int64_t rate_window_ms;     /* [NVD 30000, GHSA 3600000, others 1000] */
    int64_t connect_timeout_ms; /* [10000] */
    int64_t timeout_ms;         /* one request [120000; OSV 600000] */
    size_t max_body;            /* one response [64 MiB; OSV FEED_MAX_BODY] */
    int max_retries;            /* retries of one request [4] */
    int64_t backoff_ms;         /* first retry delay [1000] */
    int64_t backoff_max_ms;     /* longest retry delay [60000] */
    int64_t max_time_ms;        /* one feed's whole sync [6 h] */
    int64_t max_requests;       /* one feed's whole sync [200000] */
    int64_t window_ms;          /* NVD: one query's lastMod range [120 days, the
                                   API's maximum]; JVN: [30 days] */
    int64_t since_ms;           /* first sync (no cursor) starts here
                                   [NVD, JVN 1999-01-01; GHSA: every advisory] */
    const char *lang;           /* JVN: "en" or "ja" [en] */
};

struct feed_config {
    struct feed_opts feed[FEED_COUNT];
};

/* What one feed's sync did. */
struct feed_result {
    bool ran;           /* the feed was enabled */
    kb_err err;         /* KB_OK: synced */
    char msg[512];      /* why it failed */
    int64_t advisories; /* records handed to the sink */
    int64_t kev;        /* KEV entries handed to the sink */
    int64_t epss;       /* EPSS scores handed to the sink */
    int64_t requests;   /* HTTP requests sent, retries included */
    bool not_modified;  /* KEV, EPSS (or an OSV list) answered 304 */
};

/* "osv", "nvd", "ghsa", "jvn", "kev", "epss"; NULL for an unknown id. */
const char *feed_name(enum feed_id id);
/* The id for a name; KB_ENOTFOUND when none. */
kb_err feed_parse_name(const char *name, enum feed_id *out);
/* The public base URL koban uses when none is configured. */
const char *feed_default_url(enum feed_id id);

/* Every feed enabled with its defaults (zeros: see feed_opts). */
void feed_config_defaults(struct feed_config *c);

/* Syncs every enabled feed into sink, one after the other. res[i] tells
 * how feed i went. Returns KB_OK when every enabled feed synced, else the
 * error of the failed feed with the lowest id (why names it); the others
 * still ran.
 * Needs http_client_global_init() to have been called. */
kb_err feed_sync(const struct feed_config *c, const struct feed_sink *sink,
                 struct feed_result res[FEED_COUNT], struct kb_why *why);

/* Offline import: every regular file under dir (sorted, 4 levels deep at
 * most, dot files skipped) whose content is one of: an OSV record, a zip of
 * OSV records, an NVD API page, a GHSA page (a JSON array), a MyJVN
 * getVulnDetailInfo document, the KEV catalog, the EPSS scores (CSV, gzip
 * or plain). Records go to the sink
 * under the feed their format belongs to; state is not touched. A file of
 * another kind, or one that does not convert, is reported through warn and
 * counted in res[feed].err only when it was of a known kind. Returns KB_OK
 * when every known file imported whole. */
kb_err feed_import_dir(const char *dir, const struct feed_sink *sink,
                       struct feed_result res[FEED_COUNT], struct kb_why *why);

#endif
