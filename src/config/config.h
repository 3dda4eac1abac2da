/*
 * config.h — koban.yaml: one file, documented defaults, works with none.
 *
 * Every key, its default and its meaning are listed in docs/CONFIG.md and in
 * `koban help config`. Unknown keys and wrong types are errors naming the key
 * and the line ("koban.yaml:12: http.max_body: expected a size like 64MiB").
 *
 * Ownership: config_load fills a struct the caller releases with
 * config_release; every string in it is owned by the struct.
 */
#ifndef KOBAN_CONFIG_H
#define KOBAN_CONFIG_H

#include "lib/kb.h"

struct kb_config {
    char *path;               /* file loaded, or NULL for built-in defaults */
    char *data_dir;           /* "./var": SQLite file, journal, spool */
    char *log_level;          /* "info" */

    struct {
        char *listen;         /* "127.0.0.1:8478"; port 0 picks a free one */
        char *token;          /* bearer token required when set; NULL = none */
        size_t max_body;      /* request body limit (after gzip): 64 MiB */
        unsigned max_connections; /* 1024 */
        unsigned timeout_s;   /* idle connection timeout: 30 */
        unsigned threads;     /* request-checking threads; 0 = one per CPU, min 8 */
    } http;

    struct {
        bool enabled;         /* true */
        char *dir;            /* "<data_dir>/spool" */
        unsigned settle_ms;   /* a file unchanged this long is complete: 500 */
        size_t max_file;      /* largest file, on disk and decompressed: 1 GiB */
    } spool;

    struct {
        char *udp;            /* "127.0.0.1:5514", NULL/"" = off */
        char *tcp;            /* "127.0.0.1:5514", NULL/"" = off */
        size_t max_message;   /* 64 KiB */
    } syslog;

    struct {
        size_t segment_bytes; /* 64 MiB */
        unsigned retention_days; /* segments older than this and processed
                                    are deleted: 30; 0 = keep forever */
        bool fsync;           /* true; false only for throwaway benchmarks */
        int compress_level;   /* zstd level of journal packs: -3; 0 = off;
                                 negative: zstd's fast levels */
    } journal;

    struct {
        size_t max_event;     /* one event: 1 MiB */
        size_t max_events;    /* per payload: 100000 */
        unsigned max_depth;   /* JSON nesting: 64 */
    } ingest;

    struct {
        unsigned batch;       /* events per pipeline transaction: 32768 */
        unsigned cache_mib;   /* SQLite page cache: 16 */
    } store;

    struct {
        char *dir;            /* Sigma rule files (*.yml, *.yaml, recursive);
                                 NULL/"" = no rules */
        char *mapping;        /* logsource/field/placeholder tables
                                 (rules/sigma_mapfile.h); NULL = defaults */
    } rules;

    struct {
        bool stock;           /* load the stock policies compiled in: true */
        char *dir;            /* more policy files, loaded after the stock
                                 ones; NULL/"" = none */
    } policies;

    struct {
        char *geoip_db;       /* MaxMind DB (GeoLite2/GeoIP2 Country or City)
                                 for actor.country; NULL/"" = off */
    } enrich;

    struct {
        char *routes;         /* the routing file (docs/ROUTING.md): receivers,
                                 route tree, flood, reminders; NULL/"" = no
                                 notifications */
        unsigned repeat_interval_s; /* "repeated" per issue at most this often: 3600 */
        unsigned timeout_ms;  /* one request to a receiver: 30000 */
        unsigned backoff_base_ms; /* first retry delay (exponential, jitter): 1000 */
        unsigned backoff_cap_ms;  /* longest retry delay: 600000 */
        unsigned max_attempts;    /* then the job is dead-lettered: 20 */
        unsigned poll_ms;     /* an idle delivery thread looks for due jobs: 1000 */
    } notify;

    struct {
        char *signing_secret; /* Slack app's signing secret; NULL/"" = Slack's
                                 requests are not accepted (/v1/slack/ 404) */
        char *report_emoji;   /* reaction that reports a message to security:
                                 "rotating_light"; "" = off */
        char *timeline_emoji; /* reaction that adds a message to an incident's
                                 timeline: "pushpin"; "" = off */
        char *workspace_url;  /* "https://example.slack.com", for permalinks */
        char *bot_token;      /* the app's bot token (xoxb-...) for the calls
                                 koban makes while answering (views.open);
                                 NULL/"" = none: /incident has no modal */
        char *api_url;        /* Slack's Web API: "https://slack.com/api" */
        char *hooks_url;      /* a button's response_url is used only when it
                                 starts with this and '/': "https://hooks.slack.com";
                                 NULL/"" = that default */
    } slack;

    struct {
        char *config;         /* the incident bot's settings file
                                 (docs/INCIDENTS.md); NULL/"" = no bot */
    } incident;

    struct {
        char *feeds;          /* feeds to sync, comma-separated: "osv,ghsa,nvd,kev,epss"
                                 (also "jvn") */
        char *osv_ecosystems; /* OSV ecosystems, comma-separated; NULL/"" = all */
        char *nvd_api_key;    /* NVD API key (50 requests per 30 s instead of 5) */
        char *github_token;   /* GitHub token for the advisory database */
        char *osv_url, *nvd_url, *ghsa_url, *jvn_url, *kev_url, *epss_url; /* NULL/"": public */
        unsigned sync_interval_s; /* `koban serve` syncs this often; 0 = never */
    } vuln;
};

/* Loads path (NULL: built-in defaults only). Fills *cfg with defaults first,
 * then the file's values. On error returns KB_EINVAL / KB_EIO with why =
 * "FILE:LINE: KEY: reason". */
kb_err config_load(const char *path, struct kb_config *cfg, struct kb_why *why);
void config_release(struct kb_config *cfg);

/* Parses "64MiB", "1k", "100000" (bytes; k/M/G = 1000s, KiB/MiB/GiB = 1024s). */
kb_err config_parse_size(const char *s, size_t *out);

/* Splits "host:port" ("[::1]:80" too) into host (caller frees) and port. */
kb_err config_parse_addr(const char *s, char **host, uint16_t *port, struct kb_why *why);

/* Writes the effective configuration as YAML (for `koban serve --check-config`). */
kb_err config_dump(const struct kb_config *cfg, char **out);

#endif
