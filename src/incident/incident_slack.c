/* incident_slack.c — incidents driven from Slack (incident_slack.h). */
#include "incident/incident_slack.h"

#include "incident/incident.h"
#include "incident/slack_app.h"
#include "lib/jsonw.h"
#include "store/db.h"
#include "store/db_incident.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IS_ARG_MAX 4000 /* bytes of a command's text */

struct incident_slack {
    pthread_mutex_t mu; /* one request at a time on db */
    struct db *db;
    char *workspace_url;
};

kb_err incident_slack_new(const char *db_path, struct db_gate *gate, const char *workspace_url,
                          struct incident_slack **out, struct kb_why *why)
{
    *out = NULL;
    struct incident_slack *s = kb_calloc(1, sizeof *s);
    kb_err e = db_open(db_path, DB_CLIENT, 2, &s->db, why);
    if (e) {
        free(s);
        return e;
    }
    db_use_gate(s->db, gate);
    pthread_mutex_init(&s->mu, NULL);
    s->workspace_url = workspace_url && *workspace_url ? kb_strdup(workspace_url) : NULL;
    *out = s;
    return KB_OK;
}

void incident_slack_free(struct incident_slack *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    db_close(s->db);
    free(s->workspace_url);
    free(s);
}

/* An ephemeral answer: {"response_type":"ephemeral","text":...}. */
static kb_err say(struct buf *reply, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static kb_err say(struct buf *reply, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    buf_reset(reply);
    struct jw w;
    jw_init(&w, reply);
    jw_obj_begin(&w);
    jw_kv_str(&w, "response_type", "ephemeral");
    jw_kv_str(&w, "text", text);
    jw_obj_end(&w);
    return jw_finish(&w);
}

kb_err incident_slack_timeline(void *ctx, const char *channel, const char *ts,
                               const char *marked_by, const char *author, const char *text,
                               int64_t at_ms, struct kb_why *why)
{
    struct incident_slack *s = ctx;
    if (!channel || !ts)
        return KB_ENOTFOUND;
    pthread_mutex_lock(&s->mu);
    int64_t id = 0;
    kb_err e = db_incident_by_channel(s->db, channel, &id);
    if (!e) {
        char link[512];
        slack_permalink(s->workspace_url, channel, ts, link, sizeof link);
        char ref[600];
        snprintf(ref, sizeof ref, "%s", link[0] ? link : ts);
        char body[INCIDENT_TEXT_MAX];
        snprintf(body, sizeof body, "%s", text && *text ? text : "(pinned message)");
        e = incident_note(s->db, id, "pin", body, author ? author : marked_by, at_ms, ref, why);
    } else if (e != KB_ENOTFOUND) {
        kb_fail(why, e, "store: %s", db_errmsg(s->db));
    }
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* The next word of *p (spaces skipped) into out; false at the end. */
static bool word(const char **p, char *out, size_t n)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t k = 0;
    while (*s && *s != ' ' && *s != '\t') {
        if (k + 1 < n)
            out[k++] = *s;
        s++;
    }
    out[k] = 0;
    *p = s;
    return k > 0;
}

/* "<@U123|ana>" or "<@U123>" -> "U123"; "me" -> the caller; else as is. */
static void who(const char *arg, const char *me, char *out, size_t n)
{
    if (strcmp(arg, "me") == 0) {
        snprintf(out, n, "%s", me ? me : "");
    } else if (strncmp(arg, "<@", 2) == 0) {
        size_t k = strcspn(arg + 2, "|>");
        snprintf(out, n, "%.*s", (int)k, arg + 2);
    } else {
        snprintf(out, n, "%s", arg[0] == '@' ? arg + 1 : arg);
    }
}

static const char *rest(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static const char usage[] =
    "Usage: `/incident declare SERVICE: TITLE` (or `drill`) anywhere; in an incident's "
    "channel: `/incident investigating|recovered|completed|cancel`, `level N`, "
    "`handler @someone|me`, `note TEXT`.";

static kb_err declare(struct incident_slack *s, const struct slack_command *c, const char *args,
                      bool drill, struct buf *reply, struct kb_why *why)
{
    const char *colon = strchr(args, ':');
    char service[INCIDENT_SERVICE_MAX + 1];
    const char *title = colon ? rest(colon + 1) : "";
    size_t sl = colon ? (size_t)(colon - args) : 0;
    while (sl > 0 && args[sl - 1] == ' ')
        sl--;
    if (!colon || sl == 0 || sl > INCIDENT_SERVICE_MAX || !*title)
        return say(reply, "To declare: `/incident declare SERVICE: what is happening`");
    snprintf(service, sizeof service, "%.*s", (int)sl, args);
    struct incident_new n = {.service = service, .title = title, .temperature = INCIDENT_WARM,
                             .drill = drill, .now = kb_now_ms(), .actor = c->user_id};
    int64_t id = 0;
    struct kb_why w = {{0}};
    kb_err e = incident_open(s->db, &n, &id, &w);
    if (e == KB_EINVAL)
        return say(reply, "Not declared: %s", w.msg);
    if (e)
        return kb_fail(why, e, "%s", w.msg);
    struct db_incident r;
    if (db_incident_get(s->db, id, &r) == KB_OK) {
        say(reply, "%sIncident #%" PRId64 " declared (%s). Its channel #%s is being created; "
                   "you will be invited.",
            drill ? "[DRILL] " : "", id, r.service, r.slack_channel_name ? r.slack_channel_name : "?");
        db_incident_release(&r);
    }
    return KB_OK;
}

/* Applies one change to incident id on behalf of user. */
static kb_err change(struct incident_slack *s, int64_t id, struct incident_change *ch,
                     const char *user, struct buf *reply, struct kb_why *why)
{
    ch->actor = user;
    ch->now = kb_now_ms();
    struct kb_why w = {{0}};
    bool changed = false;
    kb_err e = incident_update(s->db, id, ch, &changed, &w);
    if (e == KB_EINVAL || e == KB_ENOTFOUND)
        return say(reply, "Not changed: %s", w.msg);
    if (e)
        return kb_fail(why, e, "%s", w.msg);
    return say(reply, changed ? "Done." : "Nothing to change.");
}

kb_err incident_slack_command(void *ctx, const struct slack_command *c, struct buf *reply,
                              struct kb_why *why)
{
    struct incident_slack *s = ctx;
    const char *p = c->text ? c->text : "";
    if (strlen(p) > IS_ARG_MAX)
        return say(reply, "That is longer than %d bytes.", IS_ARG_MAX);
    char verb[32];
    bool any = word(&p, verb, sizeof verb);
    for (char *v = verb; *v; v++)
        *v = (char)tolower((unsigned char)*v);
    pthread_mutex_lock(&s->mu);
    kb_err e = KB_OK;
    if (any && (strcmp(verb, "declare") == 0 || strcmp(verb, "drill") == 0)) {
        e = declare(s, c, rest(p), strcmp(verb, "drill") == 0, reply, why);
        goto out;
    }
    int64_t id = 0;
    kb_err f = c->channel_id ? db_incident_by_channel(s->db, c->channel_id, &id) : KB_ENOTFOUND;
    if (f == KB_ENOTFOUND) {
        e = say(reply, "This channel is not an incident's. %s", usage);
        goto out;
    }
    if (f) {
        e = kb_fail(why, f, "store: %s", db_errmsg(s->db));
        goto out;
    }
    struct incident_change ch;
    incident_change_init(&ch);
    int status;
    char arg[128], user[64];
    if (!any || strcmp(verb, "help") == 0) {
        struct db_incident r;
        if ((e = db_incident_get(s->db, id, &r)) == KB_OK) {
            e = say(reply, "%sIncident #%" PRId64 " (%s): %s — status %s, level %d, handler %s. %s",
                    r.drill ? "[DRILL] " : "", r.id, r.service, r.title,
                    incident_status_name(r.status), r.level, r.handler ? r.handler : "unassigned",
                    usage);
            db_incident_release(&r);
        }
    } else if (strcmp(verb, "cancel") == 0 || incident_status_parse(verb, &status) == KB_OK) {
        ch.status = strcmp(verb, "cancel") == 0 ? INCIDENT_CANCELLED : status;
        e = change(s, id, &ch, c->user_id, reply, why);
    } else if (strcmp(verb, "level") == 0 && word(&p, arg, sizeof arg)) {
        char *end;
        long lv = strtol(arg, &end, 10);
        if (*end || lv < 1 || lv > 5) {
            e = say(reply, "The level is 1 (most severe) to 5.");
        } else {
            ch.level = (int)lv;
            e = change(s, id, &ch, c->user_id, reply, why);
        }
    } else if (strcmp(verb, "handler") == 0 && word(&p, arg, sizeof arg)) {
        who(arg, c->user_id, user, sizeof user);
        ch.handler = user;
        e = change(s, id, &ch, c->user_id, reply, why);
    } else if (strcmp(verb, "note") == 0 && *rest(p)) {
        struct kb_why w = {{0}};
        e = incident_note(s->db, id, "note", rest(p), c->user_id, kb_now_ms(), NULL, &w);
        e = e == KB_OK ? say(reply, "Noted on the timeline.") : kb_fail(why, e, "%s", w.msg);
    } else {
        e = say(reply, "I did not understand `%s`. %s", verb, usage);
    }
out:
    pthread_mutex_unlock(&s->mu);
    return e;
}

kb_err incident_slack_action(void *ctx, const struct slack_action *a, struct buf *reply,
                             struct kb_why *why)
{
    struct incident_slack *s = ctx;
    if (!a->type || strcmp(a->type, "block_actions") != 0 || !a->action_id || !a->value)
        return KB_OK;
    bool status = strcmp(a->action_id, "incident_status") == 0;
    bool handler = strcmp(a->action_id, "incident_handler") == 0;
    if (!status && !handler)
        return KB_OK;
    /* value "ID:what", written by the timekeeper (incident_bot.c) */
    char *end;
    int64_t id = strtoll(a->value, &end, 10);
    if (*end != ':' || id <= 0)
        return say(reply, "That button is not koban's.");
    struct incident_change ch;
    incident_change_init(&ch);
    int st;
    if (status) {
        if (incident_status_parse(end + 1, &st) != KB_OK)
            return say(reply, "Unknown status '%s'.", end + 1);
        ch.status = st;
    } else {
        ch.handler = a->user_id;
    }
    pthread_mutex_lock(&s->mu);
    kb_err e = change(s, id, &ch, a->user_id, reply, why);
    pthread_mutex_unlock(&s->mu);
    /* Buttons get no message back from an answer body: the change shows
     * in the channel through the bot. */
    buf_reset(reply);
    return e;
}
