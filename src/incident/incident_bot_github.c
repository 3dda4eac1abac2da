/* incident_bot_github.c — incident timeline events turned into the
 * incident bot's GitHub jobs, and the numbers GitHub gave copied back
 * (incident_bot_github.h). */
#include "incident/incident_bot_github.h"

#include "incident/incident.h"
#include "incident/postmortem.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "store/db.h"
#include "store/db_outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IG_TEXT_MAX (16u * 1024)
#define IG_PAYLOAD_MAX (2u << 20) /* a draft, JSON-escaped, and the facts */

static void time_str(struct jw *w, const char *key, int64_t ms)
{
    if (!ms)
        return;
    char s[32];
    kb_time_format(ms, s); /* 2026-12-04T21:00:00.000Z -> 2026-12-04T21:00:00Z */
    char t[32];
    snprintf(t, sizeof t, "%.19sZ", s);
    jw_kv_str(w, key, t);
}

/* {"event":"incident","op":op,"incident":{the facts the issue shows}, ...
 * (the caller adds members and ends). */
static void payload_start(struct jw *w, const char *op, const struct db_incident *r)
{
    jw_obj_begin(w);
    jw_kv_str(w, "event", "incident");
    jw_kv_str(w, "op", op);
    jw_key(w, "incident");
    jw_obj_begin(w);
    jw_kv_int(w, "id", r->id);
    jw_kv_str(w, "service", r->service);
    jw_kv_str(w, "title", r->title);
    jw_kv_int(w, "level", r->level);
    jw_kv_str(w, "status", incident_status_name(r->status));
    jw_key(w, "drill");
    jw_bool(w, r->drill);
    jw_kv_str(w, "temperature", incident_temp_name(r->temperature));
    if (r->handler && *r->handler)
        jw_kv_str(w, "handler", r->handler);
    if (r->summary && *r->summary)
        jw_kv_str(w, "summary", r->summary);
    time_str(w, "detected", r->detected);
    time_str(w, "declared", r->declared);
    if (r->slack_channel_name)
        jw_kv_str(w, "channel", r->slack_channel_name);
    jw_obj_end(w);
}

static kb_err enqueue(struct db *db, const struct incident_bot *b, const struct db_incident *r,
                      const char *op, struct jw *w, int64_t now, size_t *jobs,
                      struct kb_why *why)
{
    jw_obj_end(w);
    if (jw_finish(w))
        return kb_fail(why, KB_ETOOBIG, "incident %" PRId64 ": github %s: payload too large",
                       r->id, op);
    struct db_outbox_new j = {.receiver = b->github_receiver, .issue_id = r->id,
                              .event = "incident", .payload = w->out->p};
    if (db_outbox_enqueue(db, &j, now, NULL))
        return kb_fail(why, KB_EDB, "store: outbox: %s", db_errmsg(db));
    (*jobs)++;
    return KB_OK;
}

/* "Status is now **recovered** (by alice)" and the like; "" when declared. */
static void change_text(struct buf *t, const struct db_incident_event *ev,
                        const struct db_incident *r)
{
    const char *k = ev->kind;
    if (strcmp(k, "status") == 0) {
        /* the event's status: later events of the same step may have moved on */
        buf_printf(t, "Status is now **%s**",
                   ev->value ? ev->value : incident_status_name(r->status));
    } else if (strcmp(k, "level") == 0) {
        buf_puts(t, "Level is now **");
        postmortem_escape(t, ev->value ? ev->value : "?", true);
        buf_puts(t, "**");
    } else {
        buf_puts(t, "Handler: ");
        if (ev->value && *ev->value) {
            buf_puts(t, "**");
            postmortem_escape(t, ev->value, true);
            buf_puts(t, "**");
        } else {
            buf_puts(t, "unassigned");
        }
    }
    if (ev->actor && *ev->actor) {
        buf_puts(t, " (by ");
        postmortem_escape(t, ev->actor, true);
        buf_puts(t, ")");
    }
    buf_puts(t, ".");
}

static kb_err issue_job(struct db *db, const struct incident_bot *b,
                        const struct db_incident_event *ev, const struct db_incident *r,
                        int64_t now, size_t *jobs, struct kb_why *why)
{
    struct buf t = BUF_INIT(IG_TEXT_MAX);
    if (strcmp(ev->kind, "declared") != 0)
        change_text(&t, ev, r);
    struct buf p = BUF_INIT(IG_PAYLOAD_MAX);
    struct jw w;
    jw_init(&w, &p);
    payload_start(&w, "issue", r);
    jw_kv_str(&w, "text", t.p ? t.p : "");
    kb_err e = enqueue(db, b, r, "issue", &w, now, jobs, why);
    buf_release(&p);
    buf_release(&t);
    return e;
}

static kb_err postmortem_job(struct db *db, const struct incident_bot *b,
                             const struct db_incident *r, int64_t now, size_t *jobs,
                             struct kb_why *why)
{
    struct buf md = BUF_INIT(INCIDENT_BOT_DRAFT_MAX + (64u << 10));
    struct kb_why w2 = {{0}};
    kb_err e = postmortem_build(db, r->id, &md, &w2);
    if (e == KB_ETOOBIG || (!e && md.len > INCIDENT_BOT_DRAFT_MAX)) {
        /* A draft GitHub would not take: a stub that says how to get it. */
        buf_reset(&md);
        buf_printf(&md, "# Postmortem: incident %" PRId64 "\n\nThe draft is too large to "
                        "commit; write it with `koban incident postmortem %" PRId64
                        " --output FILE`.\n", r->id, r->id);
        e = KB_OK;
    }
    if (e) {
        buf_release(&md);
        return kb_fail(why, e, "incident %" PRId64 ": postmortem: %s", r->id, w2.msg);
    }
    char day[32], path[256];
    kb_time_format(r->declared ? r->declared : now, day);
    snprintf(path, sizeof path, "%s/%.10s-incident-%" PRId64 ".md", b->postmortem_dir, day,
             r->id);
    struct buf p = BUF_INIT(IG_PAYLOAD_MAX);
    struct jw w;
    jw_init(&w, &p);
    payload_start(&w, "postmortem", r);
    jw_kv_str(&w, "path", path);
    jw_key(&w, "markdown");
    jw_strn(&w, md.p ? md.p : "", md.len);
    e = enqueue(db, b, r, "postmortem", &w, now, jobs, why);
    buf_release(&p);
    buf_release(&md);
    return e;
}

kb_err incident_bot_github_event(struct db *db, const struct incident_bot *b,
                                 const struct db_incident_event *ev, const struct db_incident *r,
                                 int64_t now, size_t *jobs, struct kb_why *why)
{
    const char *k = ev->kind;
    bool status = strcmp(k, "status") == 0;
    bool handler = strcmp(k, "role") == 0 && ev->field && strcmp(ev->field, "handler") == 0;
    if (!b->github_receiver ||
        (!status && !handler && strcmp(k, "declared") != 0 && strcmp(k, "level") != 0))
        return KB_OK;
    kb_err e = issue_job(db, b, ev, r, now, jobs, why);
    /* The event's own status, not the incident's now: a step that reads
     * "completed" once writes one draft, even if more events follow. */
    if (!e && status && ev->value && strcmp(ev->value, "completed") == 0)
        e = postmortem_job(db, b, r, now, jobs, why);
    return e;
}

