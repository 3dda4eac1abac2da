/* incident_bot.c — incident timeline events turned into the incident bot's
 * Slack jobs, and its step (incident_bot.h); the GitHub jobs are in
 * incident_bot_github.c. */
#include "incident/incident_bot.h"

#include "incident/incident_bot_github.h"

#include "incident/incident.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "notify/template.h"
#include "store/db.h"
#include "store/db_incident.h"
#include "store/db_outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IB_CHECKPOINT "incident-bot"
#define IB_TEXT_MAX (16u * 1024)
#define IB_PAYLOAD_MAX (64u * 1024)
#define IB_ACTIVE_MAX 1000 /* active incidents looked at per step */

struct step {
    struct db *db;
    const struct incident_bot *b;
    int64_t now;
    struct incident_bot_stats *st;
    struct kb_why *why;
    uint64_t last_event;
};

/* ---- text ---------------------------------------------------------------- */

/* A Slack user or group id ("U024BE7LH", "W0123"): mentioned, not quoted. */
static bool slack_user_id(const char *s)
{
    if (!s || (s[0] != 'U' && s[0] != 'W') || strlen(s) < 3 || strlen(s) > 20)
        return false;
    for (const char *p = s + 1; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return false;
    return true;
}

static void person(struct buf *t, const char *who)
{
    if (!who || !*who)
        buf_puts(t, "unassigned");
    else if (slack_user_id(who))
        buf_printf(t, "<@%s>", who);
    else
        tmpl_escape_text(TMPL_SLACK, who, strlen(who), 200, t);
}

static void text(struct buf *t, const char *s, size_t max)
{
    if (s)
        tmpl_escape_text(TMPL_SLACK, s, strlen(s), max, t);
}

/* "[DRILL] Incident #7 (payments, level 2)" */
static void head(struct buf *t, const struct db_incident *r)
{
    if (r->drill)
        buf_puts(t, "[DRILL] ");
    buf_printf(t, "Incident #%" PRId64 " (", r->id);
    text(t, r->service, 64);
    buf_printf(t, ", level %d)", r->level);
}

static void clock_time(struct buf *t, int64_t ms)
{
    if (!ms) {
        buf_puts(t, "—");
        return;
    }
    char s[32];
    kb_time_format(ms, s); /* 2026-12-04T21:00:00.000Z -> 21:00 UTC, Dec 4 */
    buf_printf(t, "%.5s UTC %.10s", s + 11, s);
}

static void elapsed(struct buf *t, int64_t ms)
{
    int64_t m = ms > 0 ? ms / 60000 : 0;
    if (m >= 60)
        buf_printf(t, "%" PRId64 "h %02" PRId64 "m", m / 60, m % 60);
    else
        buf_printf(t, "%" PRId64 " min", m);
}

/* ---- jobs ---------------------------------------------------------------- */

static const struct incident_bot_service *service_of(const struct incident_bot *b,
                                                      const char *name)
{
    for (size_t i = 0; name && i < b->nservices; i++)
        if (strcmp(b->services[i].name, name) == 0)
            return &b->services[i];
    return NULL;
}

static void list2(struct jw *w, const char *key, const struct incident_bot_list *a,
                  const struct incident_bot_list *b2)
{
    jw_key(w, key);
    jw_arr_begin(w);
    for (size_t i = 0; i < a->n; i++)
        jw_str(w, a->v[i]);
    for (size_t i = 0; b2 && i < b2->n; i++)
        jw_str(w, b2->v[i]);
    jw_arr_end(w);
}

/* Starts a payload: {"event":"incident","op":op,"incident":{id, service,
 * title, level, status, drill}, ... (the caller adds members and ends). */
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
    jw_obj_end(w);
}

/* Finishes the payload w wrote into p, writes it as a job of the incident
 * and releases p. */
static kb_err enqueue(struct step *s, int64_t incident_id, const char *op, struct jw *w,
                      struct buf *p)
{
    kb_err e = KB_OK;
    if (jw_finish(w) != KB_OK || !p->p) {
        e = kb_fail(s->why, KB_ETOOBIG, "incident %" PRId64 ": %s: payload too large",
                    incident_id, op);
    } else {
        struct db_outbox_new j = {.receiver = s->b->receiver, .issue_id = incident_id,
                                  .event = "incident", .payload = p->p};
        int64_t id;
        if (db_outbox_enqueue(s->db, &j, s->now, &id))
            e = kb_fail(s->why, KB_EDB, "store: outbox: %s", db_errmsg(s->db));
        else
            s->st->jobs++;
    }
    buf_release(p);
    return e;
}

/* One message: into the incident's channel (channel NULL) or another. */
static kb_err post(struct step *s, const struct db_incident *r, int64_t job_incident,
                   const char *msg)
{
    struct buf p = BUF_INIT(IB_PAYLOAD_MAX);
    struct jw w;
    jw_init(&w, &p);
    payload_start(&w, "post", r);
    jw_kv_str(&w, "text", msg);
    jw_obj_end(&w);
    return enqueue(s, job_incident, "post", &w, &p);
}

static kb_err broadcast(struct step *s, const struct db_incident *r, const char *msg)
{
    if (!s->b->broadcast.n)
        return KB_OK;
    struct buf p = BUF_INIT(IB_PAYLOAD_MAX);
    struct jw w;
    jw_init(&w, &p);
    payload_start(&w, "broadcast", r);
    list2(&w, "channels", &s->b->broadcast, NULL);
    jw_kv_str(&w, "text", msg);
    jw_obj_end(&w);
    return enqueue(s, r->id, "broadcast", &w, &p);
}

static kb_err simple(struct step *s, const struct db_incident *r, const char *op)
{
    struct buf p = BUF_INIT(IB_PAYLOAD_MAX);
    struct jw w;
    jw_init(&w, &p);
    payload_start(&w, op, r);
    jw_obj_end(&w);
    return enqueue(s, r->id, op, &w, &p);
}

/* declared: the channel with its people and checklist, then the announcement. */
static kb_err on_declared(struct step *s, const struct db_incident *r, const char *actor)
{
    const struct incident_bot *b = s->b;
    const struct incident_bot_service *svc = service_of(b, r->service);
    struct buf t = BUF_INIT(IB_TEXT_MAX);
    buf_puts(&t, ":rotating_light: ");
    head(&t, r);
    buf_puts(&t, " declared: *");
    text(&t, r->title, 300);
    buf_puts(&t, "*\nDeclared by ");
    person(&t, actor);
    buf_printf(&t, " · temperature %s · handler ", incident_temp_name(r->temperature));
    person(&t, r->handler);
    buf_puts(&t, "\n\n*First response*\n1. Assign a handler (incident commander): "
                 "`/incident handler @name`\n2. Follow the decision flowchart");
    if (b->flowchart)
        buf_printf(&t, ": <%s>", b->flowchart);
    buf_puts(&t, "\n3. Service manual: ");
    if (svc && svc->manual)
        buf_printf(&t, "<%s>", svc->manual);
    else
        buf_puts(&t, "none configured");
    buf_puts(&t, "\n\n");
    person(&t, actor);
    buf_puts(&t, ", please post here: *impact* (who and what is affected), whether "
                 "*user-facing communication* is needed, and the *cause and outlook* as far "
                 "as known. React with :pushpin: to put a message on the timeline.");

    struct buf p = BUF_INIT(IB_PAYLOAD_MAX);
    struct jw w;
    jw_init(&w, &p);
    payload_start(&w, "open", r);
    jw_kv_str(&w, "channel_name", r->slack_channel_name);
    jw_key(&w, "private");
    jw_bool(&w, b->private_channels);
    list2(&w, "users", &b->invite, svc ? &svc->invite : NULL);
    list2(&w, "usergroups", &b->invite_groups, svc ? &svc->invite_groups : NULL);
    jw_kv_str(&w, "text", t.p ? t.p : "");
    jw_obj_end(&w);
    kb_err e = KB_OK;
    if (!r->slack_channel_name) {
        buf_release(&p);
        e = kb_fail(s->why, KB_EINVAL, "incident %" PRId64 " has no channel name", r->id);
    } else {
        e = enqueue(s, r->id, "open", &w, &p);
    }
    if (!e) {
        buf_reset(&t);
        buf_puts(&t, ":rotating_light: ");
        head(&t, r);
        buf_puts(&t, " declared: ");
        text(&t, r->title, 300);
        buf_printf(&t, "\nFollow it in #%s", r->slack_channel_name);
        e = broadcast(s, r, t.p);
    }
    buf_release(&t);
    return e;
}

struct child_ctx {
    struct step *s;
    const char *msg;
};

static kb_err tell_child(void *ctx, const struct db_incident *child)
{
    struct child_ctx *c = ctx;
    return post(c->s, child, child->id, c->msg);
}

static kb_err on_status(struct step *s, const struct db_incident *r, const char *actor)
{
    struct buf t = BUF_INIT(IB_TEXT_MAX);
    int st = r->status;
    const char *icon = st == INCIDENT_RECOVERED   ? ":white_check_mark:"
                       : st == INCIDENT_COMPLETED ? ":checkered_flag:"
                       : st == INCIDENT_CANCELLED ? ":heavy_multiplication_x:"
                                                  : ":mag:";
    buf_printf(&t, "%s ", icon);
    head(&t, r);
    buf_printf(&t, " is now *%s*", incident_status_name(st));
    if (st == INCIDENT_RECOVERED && r->recovered) {
        buf_puts(&t, " after ");
        elapsed(&t, r->recovered - (r->detected ? r->detected : r->declared));
    }
    buf_puts(&t, " (by ");
    person(&t, actor);
    buf_puts(&t, "): ");
    text(&t, r->title, 300);
    kb_err e = post(s, r, r->id, t.p);
    if (!e && (st == INCIDENT_RECOVERED || st == INCIDENT_COMPLETED || st == INCIDENT_CANCELLED))
        e = broadcast(s, r, t.p);
    if (!e && (st == INCIDENT_COMPLETED || st == INCIDENT_CANCELLED))
        e = simple(s, r, "archive");
    if (!e) {
        buf_reset(&t);
        buf_puts(&t, ":link: Parent ");
        head(&t, r);
        buf_printf(&t, " is now *%s*: ", incident_status_name(st));
        text(&t, r->title, 300);
        struct child_ctx c = {s, t.p};
        e = incident_children(s->db, r->id, tell_child, &c);
        if (e && !s->why->msg[0])
            kb_fail(s->why, e, "store: children of incident %" PRId64, r->id);
    }
    buf_release(&t);
    return e;
}

static kb_err on_event(void *ctx, const struct db_incident_event *ev)
{
    struct step *s = ctx;
    s->st->events++;
    s->last_event = (uint64_t)ev->id;
    const char *k = ev->kind;
    bool status = strcmp(k, "status") == 0, declared = strcmp(k, "declared") == 0;
    bool level = strcmp(k, "level") == 0;
    bool handler = strcmp(k, "role") == 0 && ev->field && strcmp(ev->field, "handler") == 0;
    if (!status && !declared && !level && !handler)
        return KB_OK;
    struct db_incident r;
    kb_err e = db_incident_get(s->db, ev->incident_id, &r);
    if (e)
        return kb_fail(s->why, e, "store: incident %" PRId64, ev->incident_id);
    if (!s->b->receiver) {
        /* no Slack: only GitHub hears it */
    } else if (declared) {
        e = on_declared(s, &r, ev->actor);
    } else if (status) {
        e = on_status(s, &r, ev->actor);
    } else {
        struct buf t = BUF_INIT(IB_TEXT_MAX);
        if (level) {
            buf_printf(&t, ":arrow_up_down: Level is now *%s* (by ", ev->value ? ev->value : "?");
        } else {
            buf_puts(&t, ":bust_in_silhouette: Handler: ");
            person(&t, ev->value);
            buf_puts(&t, " (by ");
        }
        person(&t, ev->actor);
        buf_puts(&t, ")");
        e = post(s, &r, r.id, t.p);
        buf_release(&t);
    }
    if (!e)
        e = incident_bot_github_event(s->db, s->b, ev, &r, s->now, &s->st->jobs, s->why);
    db_incident_release(&r);
    return e;
}

/* ---- the timekeeper ------------------------------------------------------ */

static void button(struct jw *w, const char *label, const char *action, int64_t id,
                   const char *value)
{
    char v[64];
    snprintf(v, sizeof v, "%" PRId64 ":%s", id, value);
    jw_obj_begin(w);
    jw_kv_str(w, "type", "button");
    jw_key(w, "text");
    jw_obj_begin(w);
    jw_kv_str(w, "type", "plain_text");
    jw_kv_str(w, "text", label);
    jw_obj_end(w);
    jw_kv_str(w, "action_id", action);
    jw_kv_str(w, "value", v);
    jw_obj_end(w);
}

#define IB_KIDS_SHOWN 20 /* children listed in a parent's timekeeper */

struct kid_line {
    struct buf *t;
    size_t n;
};

static kb_err kid(void *ctx, const struct db_incident *c)
{
    struct kid_line *k = ctx;
    if (k->n++ == 0)
        buf_puts(k->t, "\nChildren:");
    if (k->n > IB_KIDS_SHOWN)
        return KB_OK;
    buf_printf(k->t, "\n• #%" PRId64 " ", c->id);
    text(k->t, c->service, 64);
    buf_printf(k->t, " — *%s*: ", incident_status_name(c->status));
    text(k->t, c->title, 120);
    return KB_OK;
}

static kb_err timekeeper(struct step *s, const struct db_incident *r)
{
    struct buf t = BUF_INIT(IB_TEXT_MAX);
    buf_puts(&t, ":stopwatch: ");
    head(&t, r);
    buf_puts(&t, ": *");
    elapsed(&t, s->now - r->declared);
    buf_printf(&t, "* since declared · status *%s* · handler ", incident_status_name(r->status));
    person(&t, r->handler);
    buf_puts(&t, "\nDetected ");
    clock_time(&t, r->detected);
    buf_puts(&t, " · Declared ");
    clock_time(&t, r->declared);
    buf_puts(&t, " · First response ");
    clock_time(&t, r->first_response);
    buf_puts(&t, " · Recovered ");
    clock_time(&t, r->recovered);
    /* A parent shows where its children are (one upstream outage, many
     * incidents). */
    struct kid_line k = {&t, 0};
    kb_err e = incident_children(s->db, r->id, kid, &k);
    if (e) {
        buf_release(&t);
        return kb_fail(s->why, e, "store: children of incident %" PRId64, r->id);
    }
    if (k.n > IB_KIDS_SHOWN)
        buf_printf(&t, "\n… and %zu more", k.n - IB_KIDS_SHOWN);

    struct buf p = BUF_INIT(IB_PAYLOAD_MAX);
    struct jw w;
    jw_init(&w, &p);
    payload_start(&w, "timekeeper", r);
    jw_kv_str(&w, "mode", s->b->timekeeper_update ? "update" : "post");
    jw_kv_str(&w, "text", t.p);
    jw_key(&w, "blocks");
    jw_arr_begin(&w);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "section");
    jw_key(&w, "text");
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "mrkdwn");
    jw_kv_str(&w, "text", t.p);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "actions");
    jw_key(&w, "elements");
    jw_arr_begin(&w);
    button(&w, "Investigating", "incident_status", r->id, "investigating");
    button(&w, "Recovered", "incident_status", r->id, "recovered");
    button(&w, "Completed", "incident_status", r->id, "completed");
    button(&w, "Take handler", "incident_handler", r->id, "me");
    jw_arr_end(&w);
    jw_obj_end(&w);
    jw_arr_end(&w);
    jw_obj_end(&w);
    e = enqueue(s, r->id, "timekeeper", &w, &p);
    if (!e)
        s->st->timekeeper++;
    buf_release(&t);
    return e;
}

static kb_err tick(void *ctx, const struct db_incident *r)
{
    struct step *s = ctx;
    if (r->status == INCIDENT_COMPLETED || r->status == INCIDENT_CANCELLED || !r->declared ||
        s->now <= r->declared)
        return KB_OK;
    /* Tick k is due at declared + k * interval; the last one sent is kept
     * per incident beside the bot's checkpoint. */
    uint64_t k = (uint64_t)((s->now - r->declared) / s->b->timekeeper_ms), last;
    char name[48];
    snprintf(name, sizeof name, "incident-tk-%" PRId64, r->id);
    if (db_checkpoint_get(s->db, name, &last))
        return kb_fail(s->why, KB_EDB, "store: %s", db_errmsg(s->db));
    if (k == 0 || k <= last)
        return KB_OK;
    kb_err e = timekeeper(s, r);
    if (!e && db_checkpoint_set(s->db, name, k))
        e = kb_fail(s->why, KB_EDB, "store: %s", db_errmsg(s->db));
    return e;
}

/* ---- what the receivers created -------------------------------------------- */

/* An incident that lacks what a receiver may have created for it. */
struct wanted {
    int64_t id;
    bool channel, issue, pr;
};

struct pending {
    const struct incident_bot *b;
    struct wanted v[IB_ACTIVE_MAX];
    size_t n;
};

static kb_err want(void *ctx, const struct db_incident *r)
{
    struct pending *p = ctx;
    bool active = r->status != INCIDENT_COMPLETED && r->status != INCIDENT_CANCELLED;
    struct wanted w = {
        .id = r->id,
        .channel = p->b->receiver && !r->slack_channel_id && active,
        .issue = p->b->github_receiver && r->github_issue == 0,
        .pr = p->b->github_receiver && r->github_pr == 0 && r->status == INCIDENT_COMPLETED,
    };
    if ((w.channel || w.issue || w.pr) && p->n < IB_ACTIVE_MAX)
        p->v[p->n++] = w;
    return KB_OK;
}

/* The state the receiver saved for the incident, parsed into ar; NULL when
 * there is none (or it is not a JSON object). */
static const struct json_value *saved(struct db *db, const char *receiver, int64_t id,
                                      struct arena *ar)
{
    char *state = NULL;
    if (db_outbox_state_get(db, receiver, id, &state) || !state)
        return NULL;
    struct json_value *v = NULL;
    char *copy = arena_strndup(ar, state, strlen(state)); /* the values point into it */
    free(state);
    if (!copy || json_parse(copy, strlen(copy), NULL, ar, &v, NULL) != KB_OK ||
        v->type != JSON_OBJECT)
        return NULL;
    return v;
}

/* Copies into each incident what the receivers created for it: the Slack
 * channel (id and name) and the GitHub issue and pull request numbers.
 * One pass over the incidents and one incident_update each (its own
 * transaction, so the links are on the timeline). */
static kb_err copy_back(struct db *db, const struct incident_bot *b, int64_t now,
                        struct incident_bot_stats *st, struct kb_why *why)
{
    struct pending *p = kb_calloc(1, sizeof *p);
    p->b = b;
    struct db_incident_filter f = {.status = -1, .limit = IB_ACTIVE_MAX};
    kb_err e = db_incident_list(db, &f, want, p);
    for (size_t i = 0; !e && i < p->n; i++) {
        const struct wanted *w = &p->v[i];
        struct arena ar = ARENA_INIT(64u << 10);
        struct incident_change c;
        incident_change_init(&c);
        const struct json_value *v = w->channel ? saved(db, b->receiver, w->id, &ar) : NULL;
        struct kb_str ch = json_str(json_get(v, "channel")), nm = json_str(json_get(v, "name"));
        if (ch.n) {
            c.slack_channel_id = arena_strndup(&ar, ch.p, ch.n);
            c.slack_channel_name = nm.n ? arena_strndup(&ar, nm.p, nm.n) : NULL;
        }
        v = w->issue || w->pr ? saved(db, b->github_receiver, w->id, &ar) : NULL;
        int64_t issue = 0, pr = 0;
        if (!w->issue || !json_as_int(json_get(v, "number"), &issue) || issue < 0)
            issue = 0;
        if (!w->pr || !json_as_int(json_get(v, "pr"), &pr) || pr < 0)
            pr = 0;
        c.github_issue = issue;
        c.github_pr = pr;
        if (c.slack_channel_id || issue || pr) {
            c.actor = "koban";
            c.now = now;
            struct kb_why w2 = {{0}};
            bool changed = false;
            kb_err u = incident_update(db, w->id, &c, &changed, &w2);
            if (u != KB_OK && c.slack_channel_id && (issue || pr)) {
                /* a refused channel (its name another incident's) must not
                 * hold back the GitHub numbers */
                c.slack_channel_id = c.slack_channel_name = NULL;
                u = incident_update(db, w->id, &c, &changed, &w2);
            }
            if (u == KB_OK && changed) {
                st->channels += c.slack_channel_id != NULL;
                st->github += issue || pr;
            }
        }
        arena_release(&ar);
    }
    free(p);
    if (e)
        kb_fail(why, e, "store: incidents: %s", db_errmsg(db));
    return e;
}

kb_err incident_bot_step(struct db *db, const struct incident_bot *b, int64_t now,
                         struct incident_bot_stats *st, struct kb_why *why)
{
    memset(st, 0, sizeof *st);
    kb_err e = copy_back(db, b, now, st, why);
    if (e)
        return e;
    if (db_begin(db))
        return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    struct step s = {db, b, now, st, why, 0};
    uint64_t cp = 0;
    if (db_checkpoint_get(db, IB_CHECKPOINT, &cp))
        e = kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    s.last_event = cp;
    if (!e)
        e = db_incident_events(db, 0, (int64_t)cp, NULL, INCIDENT_BOT_EVENTS_PER_STEP, on_event,
                               &s);
    if (!e && s.last_event != cp && db_checkpoint_set(db, IB_CHECKPOINT, s.last_event))
        e = kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    if (!e && b->receiver && b->timekeeper_ms > 0) {
        struct db_incident_filter f = {.status = -1, .limit = IB_ACTIVE_MAX};
        e = db_incident_list(db, &f, tick, &s);
    }
    if (e) {
        if (!why->msg[0])
            kb_fail(why, e, "store: %s", db_errmsg(db));
        db_rollback(db);
        return e;
    }
    if (db_commit(db)) {
        e = kb_fail(why, KB_EDB, "store: commit: %s", db_errmsg(db));
        db_rollback(db);
    }
    return e;
}
