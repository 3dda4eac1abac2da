/*
 * incident.h — koban's incident model: opening an incident, changing it
 * under its rules, its timeline, parent/child links and chat channel names.
 * Rows live in the store (store/db_incident.h); this module decides what
 * may change and writes each change with its timeline events in one
 * transaction, so the timeline never misses or invents a change.
 *
 * Status (the state machine; anything else is refused with KB_EINVAL):
 *
 *     declared ──► investigating ──► recovered ──► completed
 *        │                ▲               │
 *        │                └───────────────┘ (it broke again)
 *        └─► recovered;  declared | investigating | recovered ─► cancelled
 *
 *   declared → investigating | recovered | cancelled
 *   investigating → recovered | cancelled
 *   recovered → investigating | completed | cancelled
 *   completed, cancelled: final
 *
 * Times set by transitions: first_response when the incident first enters
 * investigating; recovered when it enters recovered (cleared when it goes
 * back to investigating); completed and cancelled when it enters them.
 *
 * Level: 1 (most severe) .. 5 (least), default 3. Temperature: cold, warm,
 * hot (store/db_incident.h), default warm.
 *
 * Parents: an upstream outage may open many incidents; each may name one
 * parent. No self-links, no cycles, and a tree at most INCIDENT_DEPTH_MAX
 * incidents deep. A parent's status events are what a broadcaster posts to
 * its children (incident_children, db_incident_events with kind "status").
 *
 * Channel names: "<service>-<YYYYMMDD>i" (the UTC date declared), then
 * "-2", "-3", ... when taken; Slack's rules: lowercase letters, digits, '-'
 * and '_', at most 80 characters.
 *
 * Ownership: every string in the parameter structs is borrowed for the
 * call. Errors fill why with what and why.
 */
#ifndef KOBAN_INCIDENT_H
#define KOBAN_INCIDENT_H

#include "store/db_incident.h"

#define INCIDENT_LEVEL_DEFAULT 3
#define INCIDENT_DEPTH_MAX 4          /* incidents from a root to its deepest child */
#define INCIDENT_CHANNEL_MAX 80       /* Slack's limit on channel names */
#define INCIDENT_CHANNEL_TRIES 100    /* suffixes tried before giving up */
#define INCIDENT_TEXT_MAX 4000        /* bytes of a title, summary, note or role */
#define INCIDENT_TAG_MAX 64           /* bytes of a tag */
#define INCIDENT_SERVICE_MAX 64

/* Whether status from may become to. */
bool incident_transition_ok(int from, int to);

/* Checks name against Slack's channel rules. KB_EINVAL with why. */
kb_err incident_channel_check(const char *name, struct kb_why *why);
/* The channel name for service at day (ms, its UTC date) with suffix n
 * (1: none, 2: "-2", ...) into out: the service lowercased, ' ', '.' and
 * '/' turned into '-', shortened so the whole name fits 80 characters.
 * KB_EINVAL when the service holds another character Slack refuses. */
kb_err incident_channel_format(const char *service, int64_t day, int n,
                               char out[INCIDENT_CHANNEL_MAX + 1], struct kb_why *why);
/* The first name of incident_channel_format not taken in the store
 * (db_incident_channel_taken). KB_EEXIST after INCIDENT_CHANNEL_TRIES. */
kb_err incident_channel_pick(struct db *db, const char *service, int64_t day,
                             char out[INCIDENT_CHANNEL_MAX + 1], struct kb_why *why);

/* What a new incident starts with. */
struct incident_new {
    const char *service, *title, *summary; /* service and title required */
    int temperature;                       /* enum incident_temp */
    int level;                             /* 1..5; 0: INCIDENT_LEVEL_DEFAULT */
    const char *handler;                   /* NULL: unassigned */
    bool drill;
    int64_t occurred, detected;            /* ms; 0: unknown */
    int64_t now;                           /* declared time (ms) */
    const char *actor;                     /* who declared it */
    const char *channel_name;              /* NULL/"": picked (incident_channel_pick) */
};
/* Opens an incident (status declared) with a free channel name (or
 * n->channel_name: KB_EINVAL when Slack would refuse it, KB_EEXIST when
 * taken) and a "declared" timeline event; sets *id. */
kb_err incident_open(struct db *db, const struct incident_new *n, int64_t *id,
                     struct kb_why *why);

/* A change: fields left at their zero value (NULL, 0, -1 where said) stay
 * as they are. An empty string clears a role. Every field that changes
 * writes one timeline event; nothing changes when any field is refused. */
struct incident_change {
    int status;                            /* -1: unchanged */
    int temperature;                       /* -1: unchanged */
    int level;                             /* 0: unchanged */
    const char *title, *summary;
    const char *handler, *scribe, *liaison;
    const char *const *tags;               /* ntags tags to add */
    size_t ntags;
    const int64_t *issues;                 /* nissues koban issue ids to link */
    size_t nissues;
    int64_t occurred, detected;            /* 0: unchanged */
    int64_t github_issue, github_pr;       /* 0: unchanged */
    const char *slack_channel_id, *slack_channel_name;
    const char *actor;                     /* who */
    int64_t now;                           /* when (ms) */
    const char *source_ref;                /* chat message it came from, or NULL */
};
/* Sets c's status -1, temperature -1 and everything else zero. */
void incident_change_init(struct incident_change *c);
/* Applies c to incident id. KB_ENOTFOUND: no such incident (or linked
 * issue); KB_EINVAL: a refused value or transition; *changed (may be NULL)
 * says whether anything changed. */
kb_err incident_update(struct db *db, int64_t id, const struct incident_change *c,
                       bool *changed, struct kb_why *why);

/* Adds a timeline note (kind "note") or a pinned chat message ("pin"). */
kb_err incident_note(struct db *db, int64_t id, const char *kind, const char *text,
                     const char *actor, int64_t at, const char *source_ref,
                     struct kb_why *why);

/* Makes parent the parent of child ("link" events on both). Refuses a
 * self-link, a cycle, and a tree deeper than INCIDENT_DEPTH_MAX. */
kb_err incident_link(struct db *db, int64_t child, int64_t parent, const char *actor,
                     int64_t at, struct kb_why *why);

/* The children of parent (oldest declared last, as db_incident_list). */
kb_err incident_children(struct db *db, int64_t parent, db_incident_fn fn, void *ctx);

/* Counts and median time to recovery of real incidents (drills excluded)
 * per service and level. Time to recovery: recovered − detected (declared
 * when detection is unknown), over the incidents that recovered. */
struct incident_stat {
    const char *service;      /* borrowed from the incident_stats result */
    int level;
    int64_t count;            /* incidents */
    int64_t recovered;        /* of which recovered (with a recovery time) */
    int64_t median_ttr_ms;    /* -1 when none recovered */
};
struct incident_stats {
    struct incident_stat *rows; /* by service, then level */
    size_t n;
    char **services;            /* owned strings the rows point to */
    size_t nservices;
};
/* Fills out (release with incident_stats_release); at most 100,000
 * incidents are read. */
kb_err incident_stats_compute(struct db *db, struct incident_stats *out);
void incident_stats_release(struct incident_stats *s);

#endif
