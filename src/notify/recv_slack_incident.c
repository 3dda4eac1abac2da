/*
 * recv_slack_incident.c — the incident bot's Slack calls (receiver type
 * "slack_incident"): the incident's channel, its people, its messages.
 * The incident code (src/incident/) writes one outbox job per action, keyed
 * by the incident id; jobs of one incident are delivered in order.
 *
 * Payload: {"event":"incident","op":OP,"incident":{...},...}
 *   op "open":       channel_name, private (bool), users [ids], usergroups
 *                    [ids], text (the first message in the channel)
 *   op "post":       text, blocks (raw JSON, optional), channel (optional:
 *                    default the incident's)
 *   op "broadcast":  channels [ids], text — one message to each
 *   op "timekeeper": text, blocks; mode "update" (edit the last timekeeper
 *                    message; post one when there is none) or "post"
 *   op "invite":     users, usergroups (people added later)
 *   op "archive":    (none)
 *
 * State per incident (what the steps created; saved after each step, so a
 * job retried after a crash resumes where it stopped):
 *   {"channel":C,"name":N,"tries":k,"inv":0|1,"ugi":i,"ugu":"U1,U2",
 *    "posted":0|1,"tk":"ts"}
 *   open: conversations.create until "channel" is set — name_taken adds a
 *   suffix (-2, -3, ... up to -SI_MAX_TRIES), then conversations.invite of
 *   users (already_in_channel and cant_invite_self are fine), then for each
 *   user group usergroups.users.list then conversations.invite of its
 *   members ("ugu" holds them between the two), then chat.postMessage of
 *   text. Each is skipped when the state says it is done.
 *   broadcast: step k posts to channels[k] (steps are the job's own).
 *
 * Answers: as recv_slack.c — 429 and Slack's ratelimited / internal errors
 * retry (Retry-After honoured); other ok:false errors fail the job (a dead
 * letter names the call and Slack's error).
 */
#include "notify/recv_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SI_DEFAULT_BASE "https://slack.com/api"
#define SI_MAX_TRIES 10       /* channel names tried: N, N-2 ... N-10 */
#define SI_MAX_USERS 300      /* people invited in one call */
#define SI_NAME_MAX 80        /* Slack's channel name limit */
#define SI_TEXT_MAX 3000

enum si_call {
    SI_NONE = 0,
    SI_CREATE,
    SI_INVITE,      /* payload users */
    SI_UG_LIST,     /* usergroups.users.list of usergroups[ugi] */
    SI_UG_INVITE,   /* conversations.invite of "ugu" */
    SI_POST_FIRST,  /* open: the first message */
    SI_POST,
    SI_BROADCAST,
    SI_TK_UPDATE,
    SI_TK_POST,
    SI_ARCHIVE,
};

static const char *const si_paths[] = {
    "", "/conversations.create", "/conversations.invite", "/usergroups.users.list",
    "/conversations.invite", "/chat.postMessage", "/chat.postMessage", "/chat.postMessage",
    "/chat.update", "/chat.postMessage", "/conversations.archive"};

/* The state, read into one struct and written back whole. */
struct si_state {
    char channel[32], name[SI_NAME_MAX + 1], tk[32];
    char ugu[SI_MAX_USERS * 12];
    int64_t tries, inv, ugi, posted;
};

static void copy_str(char *dst, size_t n, struct kb_str s)
{
    size_t k = KB_MIN(s.n, n - 1);
    if (s.p)
        memcpy(dst, s.p, k);
    dst[s.p ? k : 0] = 0;
}

static void state_read(const struct recv_job *job, struct si_state *s)
{
    memset(s, 0, sizeof *s);
    struct arena a = ARENA_INIT(64u << 10);
    const struct json_value *st = recv_state(job, &a);
    if (st) {
        copy_str(s->channel, sizeof s->channel, json_str(json_get(st, "channel")));
        copy_str(s->name, sizeof s->name, json_str(json_get(st, "name")));
        copy_str(s->tk, sizeof s->tk, json_str(json_get(st, "tk")));
        copy_str(s->ugu, sizeof s->ugu, json_str(json_get(st, "ugu")));
        s->tries = recv_state_int(st, "tries", 0);
        s->inv = recv_state_int(st, "inv", 0);
        s->ugi = recv_state_int(st, "ugi", 0);
        s->posted = recv_state_int(st, "posted", 0);
    }
    arena_release(&a);
}

static char *state_write(const struct si_state *s)
{
    struct buf b = BUF_INIT(RECV_STATE_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    if (s->channel[0])
        jw_kv_str(&w, "channel", s->channel);
    if (s->name[0])
        jw_kv_str(&w, "name", s->name);
    if (s->tries)
        jw_kv_int(&w, "tries", s->tries);
    if (s->inv)
        jw_kv_int(&w, "inv", s->inv);
    if (s->ugi)
        jw_kv_int(&w, "ugi", s->ugi);
    if (s->ugu[0])
        jw_kv_str(&w, "ugu", s->ugu);
    if (s->posted)
        jw_kv_int(&w, "posted", s->posted);
    if (s->tk[0])
        jw_kv_str(&w, "tk", s->tk);
    jw_obj_end(&w);
    if (jw_finish(&w)) {
        buf_release(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

static const struct json_value *payload(const struct recv_job *job, const char *key)
{
    return json_get(job->payload, key);
}

static size_t arr_len(const struct json_value *v)
{
    return v && v->type == JSON_ARRAY ? v->len : 0;
}

static const struct json_value *arr_at(const struct json_value *v, size_t i)
{
    if (!v || v->type != JSON_ARRAY)
        return NULL;
    const struct json_value *c = v->u.child;
    while (c && i--)
        c = c->next;
    return c;
}

static bool op_is(const struct recv_job *job, const char *op)
{
    return kb_str_eq(json_str(payload(job, "op")), op);
}

/* Which call this step makes, from the op, the state and the step. */
static enum si_call si_call(const struct recv_job *job, int step, const struct si_state *s)
{
    if (op_is(job, "open") || op_is(job, "invite")) {
        bool open = op_is(job, "open");
        if (open && !s->channel[0])
            return SI_CREATE;
        if (!s->channel[0])
            return SI_NONE; /* invite before any channel: nothing to do */
        if (!s->inv && arr_len(payload(job, "users")))
            return SI_INVITE;
        if (s->ugu[0])
            return SI_UG_INVITE;
        if ((size_t)s->ugi < arr_len(payload(job, "usergroups")))
            return SI_UG_LIST;
        if (open && !s->posted && json_str(payload(job, "text")).n)
            return SI_POST_FIRST;
        return SI_NONE;
    }
    if (op_is(job, "post"))
        return step == 0 ? SI_POST : SI_NONE;
    if (op_is(job, "broadcast"))
        return (size_t)step < arr_len(payload(job, "channels")) ? SI_BROADCAST : SI_NONE;
    if (op_is(job, "timekeeper")) {
        /* step 0 edits the last one (mode update) or posts; step 1 comes
         * only after the last one was found gone, and posts */
        bool update = kb_str_eq(json_str(payload(job, "mode")), "update") && s->tk[0];
        if (step == 0)
            return update ? SI_TK_UPDATE : SI_TK_POST;
        return step == 1 && !s->tk[0] ? SI_TK_POST : SI_NONE;
    }
    if (op_is(job, "archive"))
        return step == 0 && s->channel[0] ? SI_ARCHIVE : SI_NONE;
    return SI_NONE;
}

/* The channel name for this try: name, then name-2, name-3, ... cut so
 * that the whole stays within Slack's 80 characters. */
static void try_name(const char *base, int64_t tries, char *out, size_t n)
{
    char sfx[16] = "";
    if (tries > 0)
        snprintf(sfx, sizeof sfx, "-%lld", (long long)tries + 1);
    size_t room = SI_NAME_MAX - strlen(sfx);
    snprintf(out, n, "%.*s%s", (int)KB_MIN(strlen(base), room), base, sfx);
}

static void put_users(struct jw *w, const struct json_value *users)
{
    char list[SI_MAX_USERS * 12];
    size_t k = 0, n = 0;
    for (const struct json_value *u = users ? users->u.child : NULL; u && n < SI_MAX_USERS;
         u = u->next) {
        struct kb_str id = json_str(u);
        if (!id.n || k + id.n + 2 >= sizeof list)
            continue;
        if (k)
            list[k++] = ',';
        memcpy(list + k, id.p, id.n);
        k += id.n;
        n++;
    }
    list[k] = 0;
    jw_kv_str(w, "users", list);
}

static void put_text(struct jw *w, const struct recv_job *job)
{
    struct kb_str t = json_str(payload(job, "text"));
    jw_key(w, "text");
    jw_strn(w, t.p ? t.p : "", KB_MIN(t.n, (size_t)SI_TEXT_MAX));
    const struct json_value *blocks = payload(job, "blocks");
    if (blocks && blocks->type == JSON_ARRAY) {
        jw_key(w, "blocks");
        jw_raw_compact(w, job->payload_text + blocks->src_off, blocks->src_len);
    }
}

static kb_err si_build(const struct receiver *r, const struct recv_job *job, int step,
                       struct recv_request *req, struct kb_why *why)
{
    const struct recv_config *c = receiver_config(r);
    struct si_state s;
    state_read(job, &s);
    enum si_call call = si_call(job, step, &s);
    if (call == SI_NONE)
        return KB_ENOTFOUND;
    kb_err e;
    if (call == SI_UG_LIST) {
        struct kb_str ug = json_str(arr_at(payload(job, "usergroups"), (size_t)s.ugi));
        struct buf q = BUF_INIT(256);
        e = buf_url_escape(&q, ug.p ? ug.p : "", ug.n);
        if (!e)
            e = recv_req_start(req, "GET", c->base_url, SI_DEFAULT_BASE,
                               "/usergroups.users.list?usergroup=%.*s", (int)q.len,
                               q.p ? q.p : "");
        buf_release(&q);
    } else {
        e = recv_req_start(req, "POST", c->base_url, SI_DEFAULT_BASE, "%s", si_paths[call]);
    }
    if (e)
        return kb_fail(why, e, "slack_incident: URL too long");
    if (call != SI_UG_LIST) {
        struct jw w;
        jw_init(&w, &req->body);
        jw_obj_begin(&w);
        switch (call) {
        case SI_CREATE: {
            struct kb_str base = json_str(payload(job, "channel_name"));
            if (!base.n || base.n > SI_NAME_MAX)
                return kb_fail(why, KB_EINVAL, "slack_incident: payload: channel_name missing "
                                               "or longer than 80 characters");
            char b[SI_NAME_MAX + 1], name[SI_NAME_MAX + 1];
            copy_str(b, sizeof b, base);
            try_name(b, s.tries, name, sizeof name);
            jw_kv_str(&w, "name", name);
            const struct json_value *priv = payload(job, "private");
            jw_key(&w, "is_private");
            jw_bool(&w, priv && priv->type == JSON_TRUE);
            break;
        }
        case SI_INVITE:
            jw_kv_str(&w, "channel", s.channel);
            put_users(&w, payload(job, "users"));
            jw_key(&w, "force");
            jw_bool(&w, true);
            break;
        case SI_UG_INVITE:
            jw_kv_str(&w, "channel", s.channel);
            jw_kv_str(&w, "users", s.ugu);
            jw_key(&w, "force");
            jw_bool(&w, true);
            break;
        case SI_POST_FIRST:
        case SI_POST:
        case SI_TK_POST: {
            struct kb_str ch = json_str(payload(job, "channel"));
            if (ch.n)
                jw_kv_kstr(&w, "channel", ch);
            else
                jw_kv_str(&w, "channel", s.channel);
            if (!ch.n && !s.channel[0])
                return kb_fail(why, KB_EINVAL, "slack_incident: the incident has no channel");
            put_text(&w, job);
            break;
        }
        case SI_BROADCAST:
            jw_kv_kstr(&w, "channel", json_str(arr_at(payload(job, "channels"), (size_t)step)));
            put_text(&w, job);
            jw_key(&w, "unfurl_links");
            jw_bool(&w, false);
            break;
        case SI_TK_UPDATE:
            jw_kv_str(&w, "channel", s.channel);
            jw_kv_str(&w, "ts", s.tk);
            put_text(&w, job);
            break;
        case SI_ARCHIVE:
            jw_kv_str(&w, "channel", s.channel);
            break;
        default:
            break;
        }
        jw_obj_end(&w);
        if ((e = jw_finish(&w)))
            return kb_fail(why, e, "slack_incident: message larger than %zu bytes",
                           req->body.max);
        e = recv_request_header(req, "Content-Type: application/json; charset=utf-8");
        if (e)
            return kb_fail(why, e, "slack_incident: too many headers");
    }
    if ((e = recv_request_header(req, "Authorization: Bearer %s", c->token)))
        return kb_fail(why, e, "slack_incident: too many headers");
    return KB_OK;
}

static bool in_list(struct kb_str s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (kb_str_eq(s, list[i]))
            return true;
    return false;
}

/* usergroups.users.list's "users" joined with ',' into out. */
static void ug_members(const struct json_value *v, char *out, size_t n)
{
    size_t k = 0, count = 0;
    out[0] = 0;
    const struct json_value *users = json_get(v, "users");
    for (const struct json_value *u = users && users->type == JSON_ARRAY ? users->u.child : NULL;
         u && count < SI_MAX_USERS; u = u->next) {
        struct kb_str id = json_str(u);
        if (!id.n || k + id.n + 2 >= n)
            continue;
        if (k)
            out[k++] = ',';
        memcpy(out + k, id.p, id.n);
        k += id.n;
        out[k] = 0;
        count++;
    }
}

static void si_result(const struct receiver *r, const struct recv_job *job, int step,
                      const struct recv_response *resp, struct recv_result *out)
{
    static const char *const names[] = {
        "",         "conversations.create", "conversations.invite", "usergroups.users.list",
        "conversations.invite", "chat.postMessage", "chat.postMessage", "chat.postMessage",
        "chat.update", "chat.postMessage", "conversations.archive"};
    static const char *const transient[] = {"ratelimited",         "rate_limited",
                                            "internal_error",      "fatal_error",
                                            "service_unavailable", "request_timeout"};
    static const char *const invite_ok[] = {"already_in_channel", "cant_invite_self",
                                            "no_user"};
    (void)r;
    recv_result_start(out);
    struct si_state s;
    state_read(job, &s);
    enum si_call call = si_call(job, step, &s);
    const char *what = names[call];
    if (call == SI_NONE) {
        recv_set(out, RECV_DONE, -1, "slack_incident: nothing to send");
        return;
    }
    if (!recv_http_common(resp, out, what))
        return;
    struct arena a = ARENA_INIT(1u << 20);
    struct json_value *v = NULL;
    struct json_limits lim = {32, 0};
    if (json_parse(resp->body.p ? resp->body.p : "", resp->body.n, &lim, &a, &v, NULL) ||
        v->type != JSON_OBJECT) {
        char snip[128];
        recv_body_snippet(resp->body, snip, sizeof snip);
        recv_set(out, RECV_RETRY, -1, "%s: HTTP %ld but not Slack's JSON: %s", what, resp->status,
                 snip);
        goto done;
    }
    bool ok = json_get(v, "ok") && json_get(v, "ok")->type == JSON_TRUE;
    struct kb_str err = json_str(json_get(v, "error"));
    if (!ok && kb_str_empty(err))
        err = KB_STR_LIT("unknown_error");
    int elen = (int)KB_MIN(err.n, 80);
    bool changed = false;
    if (!ok && in_list(err, transient, KB_ARRAY_LEN(transient))) {
        recv_set(out, RECV_RETRY, resp->retry_after_ms, "%s: %.*s", what, elen, err.p);
        goto done;
    }
    switch (call) {
    case SI_CREATE:
        if (ok) {
            copy_str(s.channel, sizeof s.channel, json_str(json_path(v, "channel.id")));
            copy_str(s.name, sizeof s.name, json_str(json_path(v, "channel.name")));
            if (!s.channel[0]) {
                recv_set(out, RECV_RETRY, -1, "%s: no channel id in the answer", what);
                goto done;
            }
            changed = true;
        } else if (kb_str_eq(err, "name_taken") && s.tries + 1 < SI_MAX_TRIES) {
            s.tries++;
            changed = true;
        } else {
            recv_set(out, RECV_FAIL, -1, "%s: %.*s", what, elen, err.p);
            goto done;
        }
        break;
    case SI_INVITE:
    case SI_UG_INVITE:
        if (!ok && !in_list(err, invite_ok, KB_ARRAY_LEN(invite_ok))) {
            recv_set(out, RECV_FAIL, -1, "%s: %.*s", what, elen, err.p);
            goto done;
        }
        if (call == SI_INVITE) {
            s.inv = 1;
        } else {
            s.ugu[0] = 0;
            s.ugi++;
        }
        changed = true;
        break;
    case SI_UG_LIST:
        if (!ok) {
            recv_set(out, RECV_FAIL, -1, "%s: %.*s", what, elen, err.p);
            goto done;
        }
        ug_members(v, s.ugu, sizeof s.ugu);
        if (!s.ugu[0])
            s.ugi++; /* an empty group: nobody to invite */
        changed = true;
        break;
    case SI_TK_UPDATE:
        if (!ok && (kb_str_eq(err, "message_not_found") || kb_str_eq(err, "cant_update_message") ||
                    kb_str_eq(err, "edit_window_closed"))) {
            s.tk[0] = 0; /* the next step posts a new one */
            out->state = state_write(&s);
            recv_set(out, RECV_NEXT, -1, "%s: %.*s: posting a new one", what, elen, err.p);
            goto done;
        }
        if (!ok) {
            recv_set(out, RECV_FAIL, -1, "%s: %.*s", what, elen, err.p);
            goto done;
        }
        recv_set(out, RECV_DONE, -1, "%s: ok", what);
        goto done;
    case SI_ARCHIVE:
        if (!ok && !kb_str_eq(err, "already_archived")) {
            recv_set(out, RECV_FAIL, -1, "%s: %.*s", what, elen, err.p);
            goto done;
        }
        recv_set(out, RECV_DONE, -1, "%s: ok", what);
        goto done;
    default: /* the posts */
        if (!ok) {
            recv_set(out, RECV_FAIL, -1, "%s: %.*s", what, elen, err.p);
            goto done;
        }
        if (call == SI_POST_FIRST) {
            s.posted = 1;
            changed = true;
        } else if (call == SI_TK_POST) {
            copy_str(s.tk, sizeof s.tk, json_str(json_get(v, "ts")));
            out->state = state_write(&s);
            recv_set(out, RECV_DONE, -1, "%s: ok", what);
            goto done;
        }
        break;
    }
    if (changed)
        out->state = state_write(&s);
    recv_set(out, RECV_NEXT, -1, "%s: ok", what);
done:
    arena_release(&a);
}

static kb_err si_init(const struct recv_config *c, void **data, struct kb_why *why)
{
    *data = NULL;
    if (!c->token || !*c->token)
        return kb_fail(why, KB_EINVAL, "receiver %s: token is required (the bot token)", c->name);
    return KB_OK;
}

const struct recv_ops recv_slack_incident_ops = {
    .type = "slack_incident",
    .init = si_init,
    .fini = NULL,
    .build = si_build,
    .result = si_result,
};
