/* slack_inbound.c — Slack's requests: signature, replay and retry checks,
 * parsing, dispatch to the handler (slack_inbound.h). */
#include "incident/slack_inbound.h"

#include "lib/arena.h"
#include "lib/json.h"
#include "lib/log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SI_ARENA (4u * 1024 * 1024) /* parsed request */
#define SI_FIELD_MAX (64u * 1024)   /* one form field, decoded */

/* A logfmt-safe copy of s, in a buffer that lives for the statement. */
#define Q(s) kb_logq((char[160]){0}, 160, (s))

/* ---- seen set: signatures and event ids, each until an expiry ------------- */

/* Open addressing on a hash of the key; an expired slot is free again. The
 * table is sized for SLACK_SEEN_MAX live keys at most half full. */
#define SEEN_SLOTS (2 * SLACK_SEEN_MAX)
#define SEEN_KEY 72 /* "v0=" + 64 hex, or an event id (Ev0123..., ~12 chars) */

struct seen_slot {
    int64_t until; /* seconds; 0: empty */
    char key[SEEN_KEY];
};

struct seen {
    struct seen_slot *slot;
    size_t used; /* slots not empty: live or expired (swept when half full) */
};

static uint64_t seen_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void seen_put(struct seen *s, const char *key, int64_t until)
{
    size_t mask = SEEN_SLOTS - 1, i = (size_t)seen_hash(key) & mask;
    while (s->slot[i].until != 0) /* a sweep leaves room: the loop ends */
        i = (i + 1) & mask;
    s->slot[i].until = until;
    snprintf(s->slot[i].key, sizeof s->slot[i].key, "%s", key);
    s->used++;
}

/* Drops the expired entries. Open addressing cannot just empty a slot (a
 * key further on would no longer be found), so the live ones are put back
 * into a cleared table. */
static void seen_sweep(struct seen *s, int64_t now)
{
    struct seen_slot *live = kb_malloc(SEEN_SLOTS * sizeof *live);
    size_t n = 0;
    for (size_t i = 0; i < SEEN_SLOTS; i++)
        if (s->slot[i].until > now)
            live[n++] = s->slot[i];
    memset(s->slot, 0, SEEN_SLOTS * sizeof *s->slot);
    s->used = 0;
    for (size_t i = 0; i < n; i++)
        seen_put(s, live[i].key, live[i].until);
    free(live);
}

/* True when key is present and unexpired; else records it until `until`.
 * When SLACK_SEEN_MAX keys are live at once the table refuses to remember
 * more: *full is set and the caller decides. */
static bool seen_check_add(struct seen *s, const char *key, int64_t now, int64_t until,
                           bool *full)
{
    *full = false;
    size_t mask = SEEN_SLOTS - 1, i = (size_t)seen_hash(key) & mask;
    for (size_t probe = 0; probe < SEEN_SLOTS; probe++, i = (i + 1) & mask) {
        const struct seen_slot *sl = &s->slot[i];
        if (sl->until == 0)
            break;
        if (sl->until > now && strcmp(sl->key, key) == 0)
            return true;
    }
    if (s->used >= SLACK_SEEN_MAX)
        seen_sweep(s, now);
    if (s->used >= SLACK_SEEN_MAX) {
        *full = true;
        return false;
    }
    seen_put(s, key, until);
    return false;
}

_Static_assert((SEEN_SLOTS & (SEEN_SLOTS - 1)) == 0, "SEEN_SLOTS must be a power of two");

/* ---- the object ---------------------------------------------------------- */

enum si_kind { SI_EVENT, SI_COMMAND, SI_ACTION, SI_OTHER, SI_KINDS };
enum si_result { SI_OK, SI_DUPLICATE, SI_REFUSED, SI_BAD, SI_FAILED, SI_RESULTS };
static const char *const kind_names[SI_KINDS] = {"event", "command", "action", "other"};
static const char *const result_names[SI_RESULTS] = {"ok", "duplicate", "refused", "bad",
                                                     "failed"};

struct slack_inbound {
    char *secret;
    int64_t window_s;
    struct slack_handler h;
    pthread_mutex_t mu; /* guards sigs and events */
    struct seen sigs, events;
    atomic_uint_fast64_t count[SI_KINDS][SI_RESULTS];
};

kb_err slack_inbound_new(const struct slack_inbound_opts *o, const struct slack_handler *h,
                         struct slack_inbound **out, struct kb_why *why)
{
    if (!o->signing_secret || !*o->signing_secret)
        return kb_fail(why, KB_EINVAL, "slack: a signing secret is required");
    struct slack_inbound *in = kb_calloc(1, sizeof *in);
    in->secret = kb_strdup(o->signing_secret);
    in->window_s = o->window_s > 0 ? o->window_s : SLACK_SIG_WINDOW_S;
    if (h)
        in->h = *h;
    in->sigs.slot = kb_calloc(SEEN_SLOTS, sizeof *in->sigs.slot);
    in->events.slot = kb_calloc(SEEN_SLOTS, sizeof *in->events.slot);
    pthread_mutex_init(&in->mu, NULL);
    for (int k = 0; k < SI_KINDS; k++)
        for (int r = 0; r < SI_RESULTS; r++)
            atomic_init(&in->count[k][r], 0);
    *out = in;
    return KB_OK;
}

void slack_inbound_free(struct slack_inbound *in)
{
    if (!in)
        return;
    pthread_mutex_destroy(&in->mu);
    free(in->sigs.slot);
    free(in->events.slot);
    free(in->secret);
    free(in);
}

/* ---- signature ----------------------------------------------------------- */

kb_err slack_verify(const char *secret, const char *timestamp, const char *signature,
                    const char *body, size_t len, int64_t now_s, struct kb_why *why)
{
    if (!timestamp || !*timestamp)
        return kb_fail(why, KB_EAUTH, "no X-Slack-Request-Timestamp");
    if (!signature || !*signature)
        return kb_fail(why, KB_EAUTH, "no X-Slack-Signature");
    char *end;
    long long ts = strtoll(timestamp, &end, 10);
    if (*end || end == timestamp || ts <= 0)
        return kb_fail(why, KB_EAUTH, "X-Slack-Request-Timestamp is not a number");
    if (ts < now_s - SLACK_SIG_WINDOW_S || ts > now_s + SLACK_SIG_WINDOW_S)
        return kb_fail(why, KB_EAUTH, "stale timestamp (%lld s from now)",
                       (long long)(ts - now_s));
    if (strlen(signature) != 67 || strncmp(signature, "v0=", 3) != 0)
        return kb_fail(why, KB_EAUTH, "X-Slack-Signature is not v0=<64 hex digits>");

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    /* "v0:" timestamp ":" body, fed to HMAC in three pieces (no copy of the body). */
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t outl = 0;
    bool ok = ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) &&
              EVP_MAC_update(ctx, (const unsigned char *)"v0:", 3) &&
              EVP_MAC_update(ctx, (const unsigned char *)timestamp, strlen(timestamp)) &&
              EVP_MAC_update(ctx, (const unsigned char *)":", 1) &&
              EVP_MAC_update(ctx, (const unsigned char *)body, len) &&
              EVP_MAC_final(ctx, md, &outl, sizeof md);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    mdlen = (unsigned)outl;
    if (!ok || mdlen != 32)
        return kb_fail(why, KB_EAUTH, "cannot compute HMAC-SHA256");
    char want[65];
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        want[2 * i] = hex[md[i] >> 4];
        want[2 * i + 1] = hex[md[i] & 15];
    }
    want[64] = 0;
    char got[65];
    for (int i = 0; i < 64; i++) /* Slack sends lower case; accept either */
        got[i] = (char)((signature[3 + i] >= 'A' && signature[3 + i] <= 'F')
                            ? signature[3 + i] - 'A' + 'a'
                            : signature[3 + i]);
    got[64] = 0;
    if (CRYPTO_memcmp(want, got, 64) != 0)
        return kb_fail(why, KB_EAUTH, "signature does not match");
    return KB_OK;
}

/* ---- form bodies --------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static kb_err form_decode(const char *s, size_t n, struct buf *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return KB_EINVAL;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        kb_err e = buf_putc(out, c);
        if (e)
            return e;
    }
    kb_err e = buf_putc(out, '\0'); /* keeps the text NUL-terminated */
    if (e == KB_OK)
        out->len--;
    return e;
}

kb_err slack_form_get(const char *body, size_t len, const char *key, struct buf *out)
{
    buf_reset(out);
    size_t klen = strlen(key);
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        if ((size_t)(kend - p) == klen && memcmp(p, key, klen) == 0) {
            const char *v = eq ? eq + 1 : stop;
            return form_decode(v, (size_t)(stop - v), out);
        }
        p = stop + (amp ? 1 : 0);
    }
    return KB_ENOTFOUND;
}

/* Forgets key (a handler failed: Slack's retry must be handled). */
static void seen_remove(struct seen *s, const char *key)
{
    size_t mask = SEEN_SLOTS - 1, i = (size_t)seen_hash(key) & mask;
    for (size_t probe = 0; probe < SEEN_SLOTS; probe++, i = (i + 1) & mask) {
        struct seen_slot *sl = &s->slot[i];
        if (sl->until == 0)
            return;
        if (strcmp(sl->key, key) == 0) {
            sl->until = 1; /* expired, not empty: probes go on past it */
            return;
        }
    }
}

/* ---- parsing ------------------------------------------------------------- */

/* A NUL-terminated copy of the string (or scalar) at path under v, or NULL. */
static const char *jdup(struct arena *a, const struct json_value *v, const char *path,
                        const char *input)
{
    const struct json_value *x = v ? json_path(v, path) : NULL;
    struct kb_str s = x && x->type == JSON_STRING ? json_str(x) : json_scalar_text(x, input);
    return s.p ? arena_strndup(a, s.p, s.n) : NULL;
}

static const char *first_of(const char *a, const char *b)
{
    return a ? a : b;
}

static void parse_event(struct arena *a, const struct json_value *root, const char *in,
                        struct slack_event *e)
{
    memset(e, 0, sizeof *e);
    e->event_id = jdup(a, root, "event_id", in);
    e->team_id = jdup(a, root, "team_id", in);
    int64_t t = 0;
    if (json_as_int(json_get(root, "event_time"), &t))
        e->event_time = t;
    const struct json_value *ev = json_get(root, "event");
    e->type = jdup(a, ev, "type", in);
    e->user = jdup(a, ev, "user", in);
    e->reaction = jdup(a, ev, "reaction", in);
    e->item_user = jdup(a, ev, "item_user", in);
    const struct json_value *item = json_get(ev, "item");
    if (item && item->type == JSON_OBJECT) {
        /* reaction_*: item {channel, ts}; pin_added: item {channel,
         * message {ts, user, text}} */
        e->channel = first_of(jdup(a, item, "channel", in), jdup(a, ev, "channel_id", in));
        e->ts = first_of(jdup(a, item, "ts", in), jdup(a, item, "message.ts", in));
        e->text = jdup(a, item, "message.text", in);
        if (!e->item_user)
            e->item_user = jdup(a, item, "message.user", in);
    } else {
        e->channel = jdup(a, ev, "channel", in);
        e->ts = jdup(a, ev, "ts", in);
        e->text = jdup(a, ev, "text", in);
    }
}

static void parse_action(struct arena *a, const struct json_value *p, const char *in,
                         struct slack_action *x)
{
    memset(x, 0, sizeof *x);
    x->type = jdup(a, p, "type", in);
    x->user_id = jdup(a, p, "user.id", in);
    x->user_name = first_of(jdup(a, p, "user.username", in), jdup(a, p, "user.name", in));
    x->channel_id = first_of(jdup(a, p, "channel.id", in), jdup(a, p, "container.channel_id", in));
    x->trigger_id = jdup(a, p, "trigger_id", in);
    x->response_url = jdup(a, p, "response_url", in);
    x->action_id = jdup(a, p, "actions.0.action_id", in);
    x->value = first_of(jdup(a, p, "actions.0.value", in),
                        jdup(a, p, "actions.0.selected_option.value", in));
    x->message_ts = first_of(jdup(a, p, "message.ts", in), jdup(a, p, "container.message_ts", in));
    x->message_text = jdup(a, p, "message.text", in);
    x->callback_id = first_of(jdup(a, p, "view.callback_id", in), jdup(a, p, "callback_id", in));
    x->private_metadata = jdup(a, p, "view.private_metadata", in);
    const struct json_value *vals = json_path(p, "view.state.values");
    if (vals && vals->type == JSON_OBJECT)
        x->view_values = arena_strndup(a, in + vals->src_off, vals->src_len);
}

/* The form field key as a NUL-terminated string in the arena; NULL when
 * absent or badly escaped. */
static const char *form_dup(struct arena *a, const char *body, size_t len, const char *key,
                            struct buf *tmp)
{
    if (slack_form_get(body, len, key, tmp) != KB_OK)
        return NULL;
    return arena_strndup(a, tmp->p ? tmp->p : "", tmp->len);
}

/* ---- dispatch ------------------------------------------------------------ */

static void count(struct slack_inbound *in, enum si_kind k, enum si_result r)
{
    atomic_fetch_add_explicit(&in->count[k][r], 1, memory_order_relaxed);
}

static bool is_form(const char *ct)
{
    return ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

static unsigned handle_event(struct slack_inbound *in, struct arena *a, const struct slack_http *rq,
                             int64_t now_s, struct buf *reply)
{
    struct json_value *root = NULL;
    struct json_error jerr = {0};
    struct json_limits lim = {.max_depth = 32, .max_bytes = SLACK_MAX_BODY};
    if (json_parse(rq->body, rq->len, &lim, a, &root, &jerr) != KB_OK ||
        root->type != JSON_OBJECT) {
        log_warn("slack request unusable", "kind=event reason=%s",
                 Q(root ? "not a JSON object" : jerr.msg));
        count(in, SI_EVENT, SI_BAD);
        return 400;
    }
    const char *type = jdup(a, root, "type", rq->body);
    if (type && strcmp(type, "url_verification") == 0) {
        const char *ch = jdup(a, root, "challenge", rq->body);
        if (!ch) {
            count(in, SI_EVENT, SI_BAD);
            return 400;
        }
        buf_puts(reply, "{\"challenge\":\"");
        for (const char *c = ch; *c; c++) /* Slack's challenges are letters and digits */
            if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
                buf_putc(reply, *c);
        buf_puts(reply, "\"}");
        count(in, SI_EVENT, SI_OK);
        return 200;
    }
    struct slack_event ev;
    parse_event(a, root, rq->body, &ev);
    if (ev.event_id) {
        char key[SEEN_KEY];
        snprintf(key, sizeof key, "%s", ev.event_id);
        bool full, dup;
        pthread_mutex_lock(&in->mu);
        dup = seen_check_add(&in->events, key, now_s, now_s + SLACK_EVENT_TTL_S, &full);
        pthread_mutex_unlock(&in->mu);
        if (dup) {
            log_info("slack event already handled", "event_id=%s retry=%s", Q(ev.event_id),
                     Q(rq->retry_num ? rq->retry_num : "none"));
            count(in, SI_EVENT, SI_DUPLICATE);
            return 200;
        }
    }
    struct kb_why why = {{0}};
    if (in->h.event && in->h.event(in->h.ctx, &ev, &why) != KB_OK) {
        log_error("slack event failed", "event_id=%s type=%s reason=%s",
                  Q(ev.event_id ? ev.event_id : "-"), Q(ev.type ? ev.type : "-"), Q(why.msg));
        if (ev.event_id) {
            pthread_mutex_lock(&in->mu);
            seen_remove(&in->events, ev.event_id);
            pthread_mutex_unlock(&in->mu);
        }
        count(in, SI_EVENT, SI_FAILED);
        return 500;
    }
    count(in, SI_EVENT, SI_OK);
    return 200;
}

static unsigned handle_form(struct slack_inbound *in, struct arena *a, const struct slack_http *rq,
                            struct buf *reply)
{
    struct buf tmp = BUF_INIT(SI_FIELD_MAX);
    const char *payload = form_dup(a, rq->body, rq->len, "payload", &tmp);
    struct kb_why why = {{0}};
    unsigned status = 200;
    if (payload) {
        struct json_value *root = NULL;
        struct json_error jerr = {0};
        struct json_limits lim = {.max_depth = 48, .max_bytes = SLACK_MAX_BODY};
        if (json_parse(payload, strlen(payload), &lim, a, &root, &jerr) != KB_OK ||
            root->type != JSON_OBJECT) {
            log_warn("slack request unusable", "kind=action reason=%s",
                     Q(root ? "payload is not a JSON object" : jerr.msg));
            count(in, SI_ACTION, SI_BAD);
            status = 400;
        } else {
            struct slack_action x;
            parse_action(a, root, payload, &x);
            if (in->h.action && in->h.action(in->h.ctx, &x, reply, &why) != KB_OK) {
                log_error("slack action failed", "type=%s action=%s reason=%s",
                          Q(x.type ? x.type : "-"), Q(x.action_id ? x.action_id : "-"), Q(why.msg));
                count(in, SI_ACTION, SI_FAILED);
                status = 500;
            } else {
                count(in, SI_ACTION, SI_OK);
            }
        }
    } else {
        struct slack_command c = {
            .command = form_dup(a, rq->body, rq->len, "command", &tmp),
            .text = form_dup(a, rq->body, rq->len, "text", &tmp),
            .user_id = form_dup(a, rq->body, rq->len, "user_id", &tmp),
            .user_name = form_dup(a, rq->body, rq->len, "user_name", &tmp),
            .channel_id = form_dup(a, rq->body, rq->len, "channel_id", &tmp),
            .channel_name = form_dup(a, rq->body, rq->len, "channel_name", &tmp),
            .team_id = form_dup(a, rq->body, rq->len, "team_id", &tmp),
            .trigger_id = form_dup(a, rq->body, rq->len, "trigger_id", &tmp),
            .response_url = form_dup(a, rq->body, rq->len, "response_url", &tmp),
        };
        if (!c.command) {
            log_warn("slack request unusable", "kind=command reason=%s",
                     Q("neither a command nor a payload"));
            count(in, SI_OTHER, SI_BAD);
            status = 400;
        } else {
            if (!c.text)
                c.text = "";
            if (in->h.command && in->h.command(in->h.ctx, &c, reply, &why) != KB_OK) {
                log_error("slack command failed", "command=%s reason=%s", Q(c.command), Q(why.msg));
                count(in, SI_COMMAND, SI_FAILED);
                status = 500;
            } else {
                count(in, SI_COMMAND, SI_OK);
            }
        }
    }
    buf_release(&tmp);
    return status;
}

kb_err slack_inbound_handle(struct slack_inbound *in, const struct slack_http *rq,
                            unsigned *status, struct buf *reply)
{
    enum si_kind kind = is_form(rq->content_type) ? SI_COMMAND : SI_EVENT;
    if (rq->len > SLACK_MAX_BODY) {
        count(in, kind, SI_BAD);
        *status = 413;
        return KB_OK;
    }
    int64_t now_s = rq->now_ms / 1000;
    struct kb_why why = {{0}};
    if (slack_verify(in->secret, rq->timestamp, rq->signature, rq->body, rq->len, now_s, &why) !=
        KB_OK) {
        log_warn("slack request refused", "reason=%s", Q(why.msg));
        count(in, kind, SI_REFUSED);
        buf_printf(reply, "{\"error\":\"%s\"}", why.msg);
        *status = 401;
        return KB_OK;
    }
    /* The same signed bytes twice inside the window: a replay. */
    bool full, dup;
    int64_t ts = strtoll(rq->timestamp, NULL, 10);
    pthread_mutex_lock(&in->mu);
    dup = seen_check_add(&in->sigs, rq->signature, now_s, ts + in->window_s + 1, &full);
    pthread_mutex_unlock(&in->mu);
    if (dup || full) {
        const char *reason = dup ? "replayed request" : "too many requests remembered";
        log_warn("slack request refused", "reason=%s", Q(reason));
        count(in, kind, SI_REFUSED);
        buf_printf(reply, "{\"error\":\"%s\"}", reason);
        *status = dup ? 401 : 503;
        return KB_OK;
    }
    struct arena a = ARENA_INIT(SI_ARENA);
    *status = kind == SI_EVENT ? handle_event(in, &a, rq, now_s, reply)
                               : handle_form(in, &a, rq, reply);
    arena_release(&a);
    return KB_OK;
}

kb_err slack_inbound_metrics(struct slack_inbound *in, struct buf *out)
{
    kb_err e = buf_puts(out, "# HELP koban_slack_requests_total Requests from Slack, by kind "
                             "and result.\n# TYPE koban_slack_requests_total counter\n");
    for (int k = 0; k < SI_KINDS && !e; k++)
        for (int r = 0; r < SI_RESULTS && !e; r++) {
            uint64_t n = atomic_load_explicit(&in->count[k][r], memory_order_relaxed);
            if (n)
                e = buf_printf(out, "koban_slack_requests_total{kind=\"%s\",result=\"%s\"} %llu\n",
                               kind_names[k], result_names[r], (unsigned long long)n);
        }
    return e;
}
