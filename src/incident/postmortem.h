/*
 * postmortem.h — the markdown draft of an incident's postmortem, built from
 * what koban recorded: a metadata table, the summary, the timeline (pinned
 * chat messages, notes and status changes, in time order, UTC) and the
 * sections a person writes (impact, detection, trigger, root causes,
 * resolution, what went well / badly / lucky, action items), which start
 * as placeholders "_To be written: ..._".
 *
 * Every piece of user text is markdown-escaped (a '|' or '*' in a title
 * cannot break the table or start emphasis; a newline inside a table cell
 * or a timeline line becomes a space). A drill says "DRILL" in the title
 * and in a line at the top.
 *
 * Ownership: the caller owns out; everything else is borrowed.
 */
#ifndef KOBAN_POSTMORTEM_H
#define KOBAN_POSTMORTEM_H

#include "lib/buf.h"
#include "store/db_incident.h"

#define POSTMORTEM_EVENTS_MAX 5000 /* timeline entries read for one draft */
#define POSTMORTEM_CHILDREN_MAX 200

/* A child incident, as listed under "Related incidents". */
struct postmortem_child {
    int64_t id;
    const char *title;
    int status; /* enum incident_status */
};

/* Appends s to out markdown-escaped. inline_only: newlines (and CR, tabs)
 * become spaces, for table cells and list lines; otherwise newlines stay. */
kb_err postmortem_escape(struct buf *out, const char *s, bool inline_only);

/* Appends the draft for inc to out; KB_ETOOBIG when it comes within 64 KiB
 * of out's limit (give it a few MiB). ev: its timeline in the order to print
 * (only kinds "declared", "status", "level", "note" and "pin" appear);
 * children may be NULL when nchildren is 0. */
kb_err postmortem_render(const struct db_incident *inc, const struct db_incident_event *ev,
                         size_t nev, const struct postmortem_child *children, size_t nchildren,
                         struct buf *out);

/* Reads incident id, its timeline (sorted by time, then by when written)
 * and its children from the store and renders the draft into out.
 * KB_ENOTFOUND when there is no such incident. */
kb_err postmortem_build(struct db *db, int64_t id, struct buf *out, struct kb_why *why);

#endif
