/* incident_slack.c — incidents driven from Slack (incident_slack.h). */
#include "incident/incident_slack.h"

#include "incident/incident.h"
#include "incident/incident_modal.h"
#include "incident/slack_app.h"
#include "lib/arena.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "lib/url.h"
#include "notify/http_client.h"
#include "store/db.h"
#include "store/db_incident.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IS_ARG_MAX 4000 /* bytes of a command's text */
#define IS_API_CONNECT_MS 1000 /* views.open: Slack's trigger_id lives 3 s */
#define IS_API_TIMEOUT_MS 2000
#define IS_API_ANSWER_MAX (64u * 1024) /* bytes of Slack's answer kept */
#define IS_TELL_TIMEOUT_MS 800 /* after a failed views.open: within Slack's 3 s */
#define IS_HOOKS_DEFAULT "https://hooks.slack.com"

struct incident_slack {
    pthread_mutex_t mu; /* one request at a time on db */
    struct db *db;
    char *workspace_url;
    char *api_url, *bot_token; /* NULL: no modal */
    char *hooks_url;           /* response_urls are answered under it; no trailing '/' */
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
    /* balanced in incident_slack_free: views.open and button answers */
    if (http_client_global_init() != KB_OK) {
        db_close(s->db);
        free(s);
        return kb_fail(why, KB_EIO, "libcurl did not initialise");
    }
    db_use_gate(s->db, gate);
    pthread_mutex_init(&s->mu, NULL);
    s->workspace_url = workspace_url && *workspace_url ? kb_strdup(workspace_url) : NULL;
    s->hooks_url = kb_strdup(IS_HOOKS_DEFAULT);
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
    free(s->api_url);
    free(s->bot_token);
    free(s->hooks_url);
    http_client_global_cleanup();
    free(s);
}

kb_err incident_slack_set_api(struct incident_slack *s, const char *api_url,
                              const char *bot_token, struct kb_why *why)
{
    if (!bot_token || !*bot_token)
        return KB_OK;
    const char *u = api_url && *api_url ? api_url : "https://slack.com/api";
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
        return kb_fail(why, KB_EINVAL, "slack.api_url: not an http(s) URL");
    if (strlen(u) + 32 >= RECV_URL_MAX)
        return kb_fail(why, KB_EINVAL, "slack.api_url: too long");
    free(s->api_url);
    free(s->bot_token);
    s->api_url = kb_strdup(u);
    s->bot_token = kb_strdup(bot_token);
    return KB_OK;
}

kb_err incident_slack_set_hooks(struct incident_slack *s, const char *hooks_url,
                                struct kb_why *why)
{
    const char *u = hooks_url && *hooks_url ? hooks_url : IS_HOOKS_DEFAULT;
    if (!kb_base_url_ok(u))
        return kb_fail(why, KB_EINVAL,
                       "slack.hooks_url: not an http(s)://HOST[:PORT][/PATH] URL of at most %d "
                       "bytes without user, query or fragment",
                       KB_BASE_URL_MAX);
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        n--;
    free(s->hooks_url);
    s->hooks_url = kb_strndup(u, n);
    return KB_OK;
}

/* True when url is under s->hooks_url: that base, then '/', then printable
 * ASCII only (no space or control byte for the HTTP client to trip on). */
static bool under_hooks(const struct incident_slack *s, const char *url)
{
    size_t n = strlen(s->hooks_url);
    if (strncmp(url, s->hooks_url, n) != 0 || url[n] != '/' || strlen(url) >= RECV_URL_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= ' ' || *p >= 0x7f)
            return false;
    return true;
}

/* Sends rq with a timeout of timeout_ms. want_ok: Slack's Web API, whose
 * answer must be {"ok":true}; else any 2xx will do. On failure err (size n)
 * says why, for the person. */
static kb_err slack_send(const struct recv_request *rq, int64_t timeout_ms, bool want_ok,
                         char *err, size_t n)
{
    struct http_client_opts ho = {.connect_timeout_ms = KB_MIN(IS_API_CONNECT_MS, timeout_ms),
                                  .timeout_ms = timeout_ms,
                                  .max_body = IS_API_ANSWER_MAX};
    struct http_client *hc = NULL;
    kb_err e = http_client_new(&ho, &hc);
    if (e) {
        snprintf(err, n, "no HTTP client");
        return e;
    }
    struct recv_response resp;
    http_client_send(hc, rq, &resp, NULL);
    if (resp.status == 0) {
        snprintf(err, n, "Slack did not answer: %s", resp.err ? resp.err : "no answer");
        e = KB_EIO;
    } else if (!want_ok) {
        if (resp.status < 200 || resp.status > 299)
            snprintf(err, n, "Slack answered HTTP %ld", resp.status);
        e = resp.status >= 200 && resp.status <= 299 ? KB_OK : KB_EIO;
    } else {
        struct arena a = ARENA_INIT(IS_API_ANSWER_MAX * 4);
        struct json_value *v = NULL;
        struct json_limits lim = {32, 0};
        bool json = json_parse(resp.body.p ? resp.body.p : "", resp.body.n, &lim, &a, &v, NULL) ==
                        KB_OK &&
                    v->type == JSON_OBJECT;
        const struct json_value *ok = json ? json_get(v, "ok") : NULL;
        if (resp.status == 200 && ok && ok->type == JSON_TRUE) {
            e = KB_OK;
        } else {
            struct kb_str es = json ? json_str(json_get(v, "error")) : KB_STR_NULL;
            if (es.n)
                snprintf(err, n, "Slack answered %.*s", (int)KB_MIN(es.n, (size_t)80), es.p);
            else
                snprintf(err, n, "Slack answered HTTP %ld", resp.status);
            e = KB_EIO;
        }
        arena_release(&a);
    }
    http_client_free(hc);
    return e;
}

/* Opens the declaration modal for trigger_id (views.open), bounded by
 * IS_API_TIMEOUT_MS. On failure err (size n) says why, for the person. */
static kb_err views_open(const struct incident_slack *s, const char *trigger_id,
                         const struct incident_modal_prefill *p, char *err, size_t n)
{
    err[0] = 0;
    if (!s->bot_token) {
        snprintf(err, n, "slack.bot_token is not set");
        return KB_EUNSUPPORTED;
    }
    if (!trigger_id || !*trigger_id) {
        snprintf(err, n, "Slack sent no trigger_id");
        return KB_EINVAL;
    }
    struct recv_request rq = {.body = BUF_INIT(INCIDENT_MODAL_VIEW_MAX)};
    snprintf(rq.method, sizeof rq.method, "POST");
    size_t bl = strlen(s->api_url);
    while (bl > 0 && s->api_url[bl - 1] == '/')
        bl--;
    snprintf(rq.url, sizeof rq.url, "%.*s/views.open", (int)bl, s->api_url);
    kb_err e = incident_modal_open_body(trigger_id, p, &rq.body);
    if (!e)
        e = recv_request_header(&rq, "Content-Type: application/json; charset=utf-8");
    if (!e)
        e = recv_request_header(&rq, "Authorization: Bearer %s", s->bot_token);
    if (e)
        snprintf(err, n, "the form is too large");
    else
        e = slack_send(&rq, IS_API_TIMEOUT_MS, true, err, n);
    recv_request_release(&rq);
    if (e) {
        char q[160];
        log_warn("declaration modal not opened", "why=%s", kb_logq(q, sizeof q, err));
    }
    return e;
}

/* Tells the person who clicked a button, through the action's response_url
 * (Slack shows nothing of a button's answer body): an ephemeral message,
 * bounded by IS_TELL_TIMEOUT_MS. Best effort: a failure is logged. Only a
 * response_url under slack.hooks_url is used: the request is signed, but
 * where koban POSTs stays Slack's, not the payload's, to choose. */
static void tell(const struct incident_slack *s, const char *response_url, const char *text)
{
    if (!response_url || !*response_url)
        return;
    if (!under_hooks(s, response_url)) {
        char q[256];
        log_warn("button not answered: response_url is not under slack.hooks_url", "url=%s",
                 kb_logq(q, sizeof q, response_url));
        return;
    }
    struct recv_request rq = {.body = BUF_INIT(8 * 1024)};
    snprintf(rq.method, sizeof rq.method, "POST");
    snprintf(rq.url, sizeof rq.url, "%s", response_url);
    struct jw w;
    jw_init(&w, &rq.body);
    jw_obj_begin(&w);
    jw_kv_str(&w, "response_type", "ephemeral");
    jw_key(&w, "replace_original");
    jw_bool(&w, false);
    jw_kv_str(&w, "text", text);
    jw_obj_end(&w);
    char err[256] = "";
    kb_err e = jw_finish(&w);
    if (!e)
        e = recv_request_header(&rq, "Content-Type: application/json; charset=utf-8");
    if (!e)
        e = slack_send(&rq, IS_TELL_TIMEOUT_MS, false, err, sizeof err);
    if (e) {
        char q[160];
        log_warn("could not answer a button", "why=%s", kb_logq(q, sizeof q, err));
    }
    recv_request_release(&rq);
}

#define DECLARE_INSTEAD                                                                      \
    "Could not open the declaration form (%s). Declare with "                                \
    "`/incident declare SERVICE: what is happening` instead."

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

/* `/incident` alone or `/incident declare` alone: the declaration modal,
 * answered with an empty 200; if it cannot open, an ephemeral answer. */
static kb_err modal(struct incident_slack *s, const struct slack_command *c, bool drill,
                    struct buf *reply)
{
    struct incident_modal_prefill pf = {.drill = drill};
    char err[256];
    if (views_open(s, c->trigger_id, &pf, err, sizeof err) == KB_OK) {
        buf_reset(reply);
        return KB_OK;
    }
    return say(reply, DECLARE_INSTEAD, err);
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
    bool declaring = any && (strcmp(verb, "declare") == 0 || strcmp(verb, "drill") == 0);
    pthread_mutex_lock(&s->mu);
    kb_err e = KB_OK;
    if (declaring && (*rest(p) || !s->bot_token)) {
        e = declare(s, c, rest(p), strcmp(verb, "drill") == 0, reply, why);
        goto out;
    }
    int64_t id = 0;
    kb_err f = KB_ENOTFOUND;
    if (!declaring && c->channel_id)
        f = db_incident_by_channel(s->db, c->channel_id, &id);
    if (f == KB_ENOTFOUND && (declaring || !any) && s->bot_token) {
        /* The modal: views.open must follow the command within 3 s, so it
         * is called here, without the store's lock. */
        pthread_mutex_unlock(&s->mu);
        return modal(s, c, declaring && strcmp(verb, "drill") == 0, reply);
    }
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

/* The modal submitted: errors under its fields, or the incident opened. */
static kb_err submitted(struct incident_slack *s, const struct slack_action *a,
                        struct buf *reply, struct kb_why *why)
{
    int64_t id = 0;
    pthread_mutex_lock(&s->mu);
    kb_err e = incident_modal_submit(s->db, a->view_values, a->private_metadata, a->user_id,
                                     kb_now_ms(), reply, &id, why);
    pthread_mutex_unlock(&s->mu);
    if (!e && id) {
        char q[64];
        log_info("incident declared from the modal", "incident=%" PRId64 " by=%s", id,
                 kb_logq(q, sizeof q, a->user_id ? a->user_id : ""));
    }
    return e;
}

/* "Declare incident" on an alert message (value: the koban issue id): the
 * modal with the issue's title and id. Slack shows nothing of a button's
 * answer body, so a failure is told through the response_url. */
static kb_err declare_button(struct incident_slack *s, const struct slack_action *a,
                             struct buf *reply)
{
    buf_reset(reply);
    char *end;
    long long issue = strtoll(a->value, &end, 10);
    if (*end || issue <= 0)
        return KB_OK;
    char *title = NULL;
    pthread_mutex_lock(&s->mu);
    struct db_issue is;
    if (db_issue_get(s->db, issue, &is) == KB_OK) {
        title = is.title ? kb_strdup(is.title) : NULL;
        db_issue_release(&is);
    }
    pthread_mutex_unlock(&s->mu);
    struct incident_modal_prefill pf = {.what = title, .issue = issue};
    char err[256];
    if (views_open(s, a->trigger_id, &pf, err, sizeof err) != KB_OK) {
        char text[512];
        snprintf(text, sizeof text, DECLARE_INSTEAD, err);
        tell(s, a->response_url, text);
    }
    free(title);
    return KB_OK;
}

kb_err incident_slack_action(void *ctx, const struct slack_action *a, struct buf *reply,
                             struct kb_why *why)
{
    struct incident_slack *s = ctx;
    if (a->type && strcmp(a->type, "view_submission") == 0 && a->callback_id &&
        strcmp(a->callback_id, INCIDENT_MODAL_CALLBACK) == 0)
        return submitted(s, a, reply, why);
    if (!a->type || strcmp(a->type, "block_actions") != 0 || !a->action_id || !a->value)
        return KB_OK;
    if (strcmp(a->action_id, INCIDENT_MODAL_BUTTON) == 0)
        return declare_button(s, a, reply);
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
