/*
 * incident_modal.h — the declaration modal: the Slack view koban opens
 * (views.open) for `/incident` with nothing after it, and for the "Declare
 * incident" button of an alert message, and what koban does when it is
 * submitted (view_submission with callback_id INCIDENT_MODAL_CALLBACK).
 *
 * The view's input blocks (block_id; each input's action_id is "value"):
 *   service       plain_text_input, required, ≤ INCIDENT_SERVICE_MAX
 *   what          "What is happening", multiline, required; its first line
 *                 becomes the title, the whole text the summary when it has
 *                 more than one line
 *   temperature   static_select cold | warm | hot (warm first)
 *   channel       plain_text_input, optional, ≤ INCIDENT_CHANNEL_MAX:
 *                 empty = koban picks "<service>-<YYYYMMDD>i"
 *   drill         checkboxes: one option, value "drill"
 * private_metadata: the koban issue id to link ("" when none).
 *
 * A submission is checked before anything is written: a bad field is
 * answered {"response_action":"errors","errors":{BLOCK_ID:"why"}} (Slack
 * shows it under the field and keeps the modal open); a good one opens the
 * incident (and links the issue) and is answered
 * {"response_action":"clear"}.
 *
 * Ownership: every string passed in is borrowed for the call; outputs go
 * into the caller's buffers.
 */
#ifndef KOBAN_INCIDENT_MODAL_H
#define KOBAN_INCIDENT_MODAL_H

#include "incident/incident.h"
#include "lib/buf.h"
#include "lib/jsonw.h"

#define INCIDENT_MODAL_CALLBACK "koban_declare" /* the view's callback_id */
#define INCIDENT_MODAL_BUTTON "incident_declare" /* action_id of the alert message button */
#define INCIDENT_MODAL_WHAT_MAX 3000   /* characters Slack lets one type in "what" */
#define INCIDENT_MODAL_VIEW_MAX (64u * 1024) /* bytes of the views.open body */

/* What the modal starts with. */
struct incident_modal_prefill {
    const char *what;  /* "What is happening" (an alert's title); NULL: empty */
    int64_t issue;     /* koban issue to link (private_metadata); 0: none */
    bool drill;        /* the drill box ticked */
};

/* Writes the view (type modal) into w. */
void incident_modal_view(struct jw *w, const struct incident_modal_prefill *p);

/* Writes views.open's body {"trigger_id":..,"view":{...}} into out
 * (cleared first). KB_ETOOBIG past out's limit. */
kb_err incident_modal_open_body(const char *trigger_id, const struct incident_modal_prefill *p,
                                struct buf *out);

/* A submission read from view.state.values and private_metadata. */
struct incident_modal_form {
    char service[INCIDENT_SERVICE_MAX + 1];
    char channel[INCIDENT_CHANNEL_MAX + 1]; /* "": koban picks */
    char title[INCIDENT_TEXT_MAX + 1];
    char summary[INCIDENT_TEXT_MAX + 1];    /* "": none */
    int temperature;                        /* enum incident_temp */
    bool drill;
    int64_t issue;                          /* 0: none */
};

/* Reads and checks a submission without the store: service present, within
 * INCIDENT_SERVICE_MAX and usable in a channel name; "what" present and
 * within INCIDENT_TEXT_MAX; the channel name (when given) within
 * INCIDENT_CHANNEL_MAX and of Slack's characters. KB_EINVAL with block set
 * to the faulty field's block_id (size 16) and why saying what is wrong. */
kb_err incident_modal_read(const char *values, const char *private_metadata,
                           struct incident_modal_form *f, char block[16], struct kb_why *why);

/* Handles one submission on db: reads it (incident_modal_read), refuses a
 * taken channel name, opens the incident as actor at now, links the issue,
 * and writes the answer for Slack into reply (errors or clear). *id is the
 * new incident (0 when refused). Returns KB_OK when reply is set, refused
 * or not; an error only when the store failed. */
kb_err incident_modal_submit(struct db *db, const char *values, const char *private_metadata,
                             const char *actor, int64_t now, struct buf *reply, int64_t *id,
                             struct kb_why *why);

#endif
