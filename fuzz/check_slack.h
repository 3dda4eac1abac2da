/*
 * check_slack.h — one fuzz input through Slack's inbound parsing
 * (incident/slack_inbound.h), shared by fuzz/fuzz_slack.c and the unit-test
 * smoke run. The first byte chooses (modulo 3):
 *   0  slack_form_get on the rest as a body, for a key chosen by the
 *      second byte, into a small bounded buffer: KB_OK, KB_ENOTFOUND,
 *      KB_EINVAL or KB_ETOOBIG;
 *   1  the rest as an application/json request, 2 as a form request:
 *      signed here with FZ_SLACK_SECRET at the current time, so that the
 *      parsing behind the signature is reached, and handed to a fresh
 *      slack_inbound (no replay memory shared between inputs) whose
 *      handler reads what it is given and does nothing. The answer must be
 *      200 or 400 (the request is signed and fresh, the handler never
 *      fails).
 */
#ifndef KOBAN_FUZZ_CHECK_SLACK_H
#define KOBAN_FUZZ_CHECK_SLACK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "check.h"
#include "incident/slack_inbound.h"

#define FZ_SLACK_SECRET "8f742231b10e8888abcd99yyyzzz85a5"

static const char *const fz_slack_keys[] = {
    "payload", "command", "text", "user_id", "trigger_id", "response_url", "a", "",
};

static inline kb_err fz_slack_event(void *ctx, const struct slack_event *e, struct kb_why *why)
{
    unsigned *sum = ctx;
    fz_touch(sum, e->event_id);
    fz_touch(sum, e->team_id);
    fz_touch(sum, e->type);
    fz_touch(sum, e->user);
    fz_touch(sum, e->reaction);
    fz_touch(sum, e->channel);
    fz_touch(sum, e->ts);
    fz_touch(sum, e->item_user);
    fz_touch(sum, e->text);
    return KB_OK;
}

static inline kb_err fz_slack_command(void *ctx, const struct slack_command *c, struct buf *reply,
                                      struct kb_why *why)
{
    unsigned *sum = ctx;
    fz_touch(sum, c->command);
    fz_touch(sum, c->text);
    fz_touch(sum, c->user_id);
    fz_touch(sum, c->user_name);
    fz_touch(sum, c->channel_id);
    fz_touch(sum, c->channel_name);
    fz_touch(sum, c->team_id);
    fz_touch(sum, c->trigger_id);
    fz_touch(sum, c->response_url);
    return KB_OK;
}

static inline kb_err fz_slack_action(void *ctx, const struct slack_action *a, struct buf *reply,
                                     struct kb_why *why)
{
    unsigned *sum = ctx;
    fz_touch(sum, a->type);
    fz_touch(sum, a->user_id);
    fz_touch(sum, a->user_name);
    fz_touch(sum, a->channel_id);
    fz_touch(sum, a->trigger_id);
    fz_touch(sum, a->response_url);
    fz_touch(sum, a->action_id);
    fz_touch(sum, a->value);
    fz_touch(sum, a->message_ts);
    fz_touch(sum, a->message_text);
    fz_touch(sum, a->callback_id);
    fz_touch(sum, a->private_metadata);
    fz_touch(sum, a->view_values);
    return KB_OK;
}

static inline const char *fz_slack_form(const char *body, size_t len, void *stats)
{
    if (len == 0)
        return NULL;
    const char *key = fz_slack_keys[(unsigned char)body[0] % KB_ARRAY_LEN(fz_slack_keys)];
    struct buf out = BUF_INIT(4096);
    kb_err e = slack_form_get(body + 1, len - 1, key, &out);
    fz_count(stats, e);
    const char *bad = NULL;
    if (e != KB_OK && e != KB_ENOTFOUND && e != KB_EINVAL && e != KB_ETOOBIG)
        bad = "slack_form_get: unexpected error code";
    else if (e == KB_OK && out.len > 4096)
        bad = "slack_form_get: value past the buffer's limit";
    unsigned sum = 0;
    if (e == KB_OK)
        fz_touchn(&sum, out.p, out.len);
    buf_release(&out);
    return bad;
}

static inline const char *fz_slack_request(const char *body, size_t len, bool form, void *stats)
{
    /* The request's body is NUL-terminated (slack_http says so). */
    char *copy = kb_malloc(len + 1);
    memcpy(copy, body, len);
    copy[len] = '\0';
    int64_t now_ms = kb_now_ms();
    char ts[32], sig[3 + 64 + 1];
    snprintf(ts, sizeof ts, "%" PRId64, now_ms / 1000);
    /* The signed base string "v0:" ts ":" body (the body may hold NULs). */
    size_t tl = strlen(ts), bl = 3 + tl + 1 + len;
    char *base = kb_malloc(bl);
    memcpy(base, "v0:", 3);
    memcpy(base + 3, ts, tl);
    base[3 + tl] = ':';
    memcpy(base + 4 + tl, copy, len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    HMAC(EVP_sha256(), FZ_SLACK_SECRET, (int)strlen(FZ_SLACK_SECRET), (unsigned char *)base, bl, md,
         &mdlen);
    free(base);
    memcpy(sig, "v0=", 3);
    for (unsigned i = 0; i < 32 && i < mdlen; i++)
        snprintf(sig + 3 + 2 * i, 3, "%02x", md[i]);

    unsigned sum = 0;
    struct slack_handler hd = {fz_slack_event, fz_slack_command, fz_slack_action, &sum};
    struct slack_inbound_opts o = {.signing_secret = FZ_SLACK_SECRET};
    struct slack_inbound *in = NULL;
    struct kb_why why = {{0}};
    const char *bad = NULL;
    if (slack_inbound_new(&o, &hd, &in, &why) != KB_OK) {
        free(copy);
        return "slack_inbound_new failed";
    }
    struct slack_http rq = {
        .content_type = form ? "application/x-www-form-urlencoded" : "application/json",
        .timestamp = ts,
        .signature = sig,
        .body = copy,
        .len = len,
        .now_ms = now_ms,
    };
    unsigned status = 0;
    struct buf reply = BUF_INIT(1u << 20);
    kb_err e = slack_inbound_handle(in, &rq, &status, &reply);
    fz_count(stats, e == KB_OK && status == 200 ? KB_OK : KB_EINVAL);
    if (e != KB_OK)
        bad = "slack_inbound_handle did not set a status";
    else if (status != 200 && status != 400)
        bad = status == 401 ? "a signed request refused (401)" : "answer neither 200 nor 400";
    fz_touchn(&sum, reply.p, reply.len);
    buf_release(&reply);
    slack_inbound_free(in);
    free(copy);
    return bad;
}

/* NULL when Slack's inbound parsing behaved on this input, else why not. */
static inline const char *fz_slack_one(const char *in, size_t size, void *stats)
{
    if (size == 0)
        return NULL;
    switch ((unsigned char)in[0] % 3) {
    case 0:
        return fz_slack_form(in + 1, size - 1, stats);
    case 1:
        return fz_slack_request(in + 1, size - 1, false, stats);
    default:
        return fz_slack_request(in + 1, size - 1, true, stats);
    }
}

#endif
