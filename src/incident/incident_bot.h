/*
 * incident_bot.h — what koban says and does in Slack and on GitHub about
 * incidents, whoever changed them (`koban incident`, Slack's buttons and
 * commands, the API).
 *
 * How: every change to an incident is a timeline event in the store
 * (incident.h). incident_bot_step reads the events after its checkpoint
 * (store checkpoint "incident-bot") and turns each into outbox jobs for the
 * slack_incident receiver (notify/recv_slack_incident.c), in the same
 * transaction that moves the checkpoint: no change is announced twice or
 * missed, and Slack being down only delays the jobs (the outbox retries).
 *
 *   declared        → "open" (channel, invites, the first-response
 *                     checklist) and "broadcast" to the announce channels
 *   status          → a line in the channel; recovered, completed and
 *                     cancelled are also broadcast; completed and cancelled
 *                     archive the channel; children hear their parent's
 *   level, handler  → a line in the channel
 *   every interval  → the timekeeper: elapsed time since declared, handler,
 *                     level, status and key times, with buttons; one
 *                     message edited in place (mode update) or a new one
 *                     each time (mode post)
 * It also copies the channel id and name Slack gave back (receiver state)
 * into the incident. Drills say so in every message.
 *
 * GitHub (optional, incident_bot_github.c): the same events become jobs
 * for a github_incident receiver (notify/recv_github_incident.c):
 *   declared                → "issue": the incident's GitHub issue
 *   status, level, handler  → "issue": the issue updated, and a comment
 *                             saying what changed (cancelled closes it)
 *   completed               → also "postmortem": the draft (postmortem.h)
 *                             committed to a branch and opened as a pull
 *                             request that closes the issue
 * and the issue and pull request numbers the receiver saved are copied
 * into the incident (github_issue, github_pr).
 *
 * The settings file (incident.config in koban.yaml; docs/INCIDENTS.md):
 *   slack:
 *     receiver: incident-bot       # a slack_incident receiver in notify.routes
 *     private: false               # private channels
 *     invite: [U0SEC1]             # people always invited
 *     invite_groups: [S0SECURITY]  # Slack user groups always invited
 *     broadcast: [C0ENG, C0MGMT]   # where declarations and endings are announced
 *     timekeeper: 15m              # 0 or off: none
 *     timekeeper_mode: update      # or post
 *     flowchart: https://...       # the decision flowchart, linked in the checklist
 *   github:
 *     receiver: incident-gh        # a github_incident receiver in notify.routes
 *     postmortem_dir: postmortems  # where drafts go in the repo
 *   services:
 *     payments:
 *       invite: [U0PAY1]
 *       invite_groups: [S0PAYONCALL]
 *       manual: https://wiki.example/payments
 *
 * At least one of slack and github is required.
 *
 * Ownership: incident_bot_load returns settings freed with
 * incident_bot_free. incident_bot_step borrows everything.
 */
#ifndef KOBAN_INCIDENT_BOT_H
#define KOBAN_INCIDENT_BOT_H

#include "lib/kb.h"

#define INCIDENT_BOT_MAX_LIST 64      /* people, groups or channels in one list */
#define INCIDENT_BOT_MAX_SERVICES 256
#define INCIDENT_BOT_EVENTS_PER_STEP 500

struct incident_bot_list {
    const char **v;
    size_t n;
};

struct incident_bot_service {
    const char *name;
    struct incident_bot_list invite, invite_groups;
    const char *manual; /* NULL: none */
};

struct incident_bot {
    const char *receiver;        /* the slack_incident receiver; NULL: no Slack */
    bool private_channels;
    struct incident_bot_list invite, invite_groups, broadcast;
    int64_t timekeeper_ms;       /* 0: no timekeeper */
    bool timekeeper_update;      /* true: edit one message */
    const char *flowchart;       /* NULL: none */
    const char *github_receiver; /* the github_incident receiver; NULL: no GitHub */
    const char *postmortem_dir;  /* folder of drafts in the repo ("postmortems") */
    struct incident_bot_service *services;
    size_t nservices;
    void *mem;                   /* owns every string above */
};

/* Reads the settings file. KB_EINVAL with why = "FILE:LINE: key: reason". */
kb_err incident_bot_load(const char *path, struct incident_bot **out, struct kb_why *why);
/* The same from text (tests); name is used in messages. */
kb_err incident_bot_load_buffer(const char *text, size_t len, const char *name,
                                struct incident_bot **out, struct kb_why *why);
void incident_bot_free(struct incident_bot *b);

/* What one step did. */
struct incident_bot_stats {
    size_t events;     /* timeline events read */
    size_t jobs;       /* outbox jobs written */
    size_t timekeeper; /* of which timekeeper messages */
    size_t channels;   /* channel ids copied into incidents */
    size_t github;     /* GitHub issue and pull request numbers copied */
};

struct db;
/* Handles the events after the checkpoint (at most
 * INCIDENT_BOT_EVENTS_PER_STEP) and the timekeepers due at now in one
 * transaction, after copying the channels Slack created and the GitHub
 * issues and pull requests opened. */
kb_err incident_bot_step(struct db *db, const struct incident_bot *b, int64_t now,
                         struct incident_bot_stats *st, struct kb_why *why);

#endif
