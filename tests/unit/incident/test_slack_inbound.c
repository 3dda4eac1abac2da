/* test_slack_inbound.c — Slack's requests: the signature (Slack's own
 * documented example, tampering, stale and future timestamps), replays,
 * retried events handled once, a failed handler's event accepted again,
 * url_verification, slash commands and interactivity parsed, form decoding,
 * and the report reaction turned into a report event. */
#include "test.h"

#include "incident/slack_app.h"
#include "incident/slack_inbound.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "8f742231b10e8888abcd99yyyzzz85a5"

/* Slack's published example request (api.slack.com, "Verifying requests"). */
static const char doc_body[] =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977008"
    "85554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c44"
    "7fce8b6703c";
static const char doc_sig[] = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
#define DOC_TS 1531420618

static void sign(const char *secret, const char *ts, const char *body, char out[68])
{
    char base[8192];
    int n = snprintf(base, sizeof base, "v0:%s:%s", ts, body);
    unsigned char md[32];
    unsigned mdlen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)base, (size_t)n, md, &mdlen);
    strcpy(out, "v0=");
    for (unsigned i = 0; i < 32; i++)
        sprintf(out + 3 + 2 * i, "%02x", md[i]);
}

static void test_verify(void)
{
    struct kb_why why = {{0}};
    size_t n = strlen(doc_body);
    T_EQ_INT(slack_verify(SECRET, "1531420618", doc_sig, doc_body, n, DOC_TS + 10, &why), KB_OK);
    /* upper-case hex is the same signature */
    char up[68];
    strcpy(up, doc_sig);
    for (char *p = up + 3; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    T_EQ_INT(slack_verify(SECRET, "1531420618", up, doc_body, n, DOC_TS, &why), KB_OK);

    T_EQ_INT(slack_verify("other-secret", "1531420618", doc_sig, doc_body, n, DOC_TS, &why),
             KB_EAUTH);
    T_EQ_STR(why.msg, "signature does not match");
    char body2[sizeof doc_body];
    memcpy(body2, doc_body, sizeof doc_body);
    body2[6] = 'X'; /* one byte of the body changed */
    T_EQ_INT(slack_verify(SECRET, "1531420618", doc_sig, body2, n, DOC_TS, &why), KB_EAUTH);
    T_EQ_INT(slack_verify(SECRET, "1531420619", doc_sig, doc_body, n, DOC_TS, &why), KB_EAUTH);
    /* 5 minutes either side */
    T_EQ_INT(slack_verify(SECRET, "1531420618", doc_sig, doc_body, n, DOC_TS + 300, &why), KB_OK);
    T_EQ_INT(slack_verify(SECRET, "1531420618", doc_sig, doc_body, n, DOC_TS + 301, &why),
             KB_EAUTH);
    T_EQ_STR(why.msg, "stale timestamp (-301 s from now)");
    T_EQ_INT(slack_verify(SECRET, "1531420618", doc_sig, doc_body, n, DOC_TS - 301, &why),
             KB_EAUTH);
    T_EQ_INT(slack_verify(SECRET, NULL, doc_sig, doc_body, n, DOC_TS, &why), KB_EAUTH);
    T_EQ_STR(why.msg, "no X-Slack-Request-Timestamp");
    T_EQ_INT(slack_verify(SECRET, "1531420618", NULL, doc_body, n, DOC_TS, &why), KB_EAUTH);
    T_EQ_INT(slack_verify(SECRET, "15x", doc_sig, doc_body, n, DOC_TS, &why), KB_EAUTH);
    T_EQ_INT(slack_verify(SECRET, "1531420618", "v1=abc", doc_body, n, DOC_TS, &why), KB_EAUTH);
    T_EQ_INT(slack_verify(SECRET, "1531420618", doc_sig, doc_body, n - 1, DOC_TS, &why), KB_EAUTH);
}

static void test_form(void)
{
    struct buf b = BUF_INIT(1024);
    const char *f = "a=1&command=%2Fincident&text=db+is+down%21&empty=&flag&bad=%4";
    size_t n = strlen(f);
    T_EQ_INT(slack_form_get(f, n, "command", &b), KB_OK);
    T_EQ_STR(b.p, "/incident");
    T_EQ_INT(slack_form_get(f, n, "text", &b), KB_OK);
    T_EQ_STR(b.p, "db is down!");
    T_EQ_INT(slack_form_get(f, n, "empty", &b), KB_OK);
    T_EQ_INT(b.len, 0);
    T_EQ_INT(slack_form_get(f, n, "flag", &b), KB_OK);
    T_EQ_INT(b.len, 0);
    T_EQ_INT(slack_form_get(f, n, "bad", &b), KB_EINVAL);
    T_EQ_INT(slack_form_get(f, n, "comm", &b), KB_ENOTFOUND);
    T_EQ_INT(slack_form_get(f, n, "missing", &b), KB_ENOTFOUND);
    buf_release(&b);
}

/* What the handler saw. */
struct seen {
    int events, commands, actions;
    int fail_next;
    char type[64], reaction[64], channel[64], ts[64], user[64], item_user[64], text[128];
    char command[64], ctext[128], trigger[128];
    char atype[64], action_id[64], value[64], callback[64], values[256], meta[64];
};

static void cp(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "(null)");
}

static kb_err h_event(void *ctx, const struct slack_event *e, struct kb_why *why)
{
    struct seen *s = ctx;
    if (s->fail_next) {
        s->fail_next = 0;
        return kb_fail(why, KB_EIO, "store unavailable");
    }
    s->events++;
    cp(s->type, sizeof s->type, e->type);
    cp(s->reaction, sizeof s->reaction, e->reaction);
    cp(s->channel, sizeof s->channel, e->channel);
    cp(s->ts, sizeof s->ts, e->ts);
    cp(s->user, sizeof s->user, e->user);
    cp(s->item_user, sizeof s->item_user, e->item_user);
    cp(s->text, sizeof s->text, e->text);
    return KB_OK;
}

static kb_err h_command(void *ctx, const struct slack_command *c, struct buf *reply,
                        struct kb_why *why)
{
    (void)why;
    struct seen *s = ctx;
    s->commands++;
    cp(s->command, sizeof s->command, c->command);
    cp(s->ctext, sizeof s->ctext, c->text);
    cp(s->trigger, sizeof s->trigger, c->trigger_id);
    buf_puts(reply, "{\"text\":\"ok\"}");
    return KB_OK;
}

static kb_err h_action(void *ctx, const struct slack_action *a, struct buf *reply,
                       struct kb_why *why)
{
    (void)reply;
    (void)why;
    struct seen *s = ctx;
    s->actions++;
    cp(s->atype, sizeof s->atype, a->type);
    cp(s->action_id, sizeof s->action_id, a->action_id);
    cp(s->value, sizeof s->value, a->value);
    cp(s->callback, sizeof s->callback, a->callback_id);
    cp(s->values, sizeof s->values, a->view_values);
    cp(s->meta, sizeof s->meta, a->private_metadata);
    return KB_OK;
}

/* Sends body signed at time ts (seconds); now = ts + skew. */
static unsigned send(struct slack_inbound *in, const char *ctype, const char *body, long ts,
                     long skew, const char *retry, struct buf *reply)
{
    char tss[32], sig[68];
    snprintf(tss, sizeof tss, "%ld", ts);
    sign(SECRET, tss, body, sig);
    struct slack_http rq = {ctype, tss, sig, retry, body, strlen(body), (ts + skew) * 1000};
    unsigned status = 0;
    buf_reset(reply);
    T_EQ_INT(slack_inbound_handle(in, &rq, &status, reply), KB_OK);
    return status;
}

static const char reaction_ev[] =
    "{\"type\":\"event_callback\",\"team_id\":\"T1\",\"event_id\":\"Ev01\",\"event_time\":"
    "1764882000,\"event\":{\"type\":\"reaction_added\",\"user\":\"U1\",\"reaction\":"
    "\"rotating_light\",\"item_user\":\"U7\",\"item\":{\"type\":\"message\",\"channel\":\"C9\","
    "\"ts\":\"1764881000.000100\"}}}";

static void test_handle(void)
{
    struct seen s = {0};
    struct slack_handler h = {h_event, h_command, h_action, &s};
    struct slack_inbound_opts o = {.signing_secret = SECRET};
    struct slack_inbound *in = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(slack_inbound_new(&o, &h, &in, &why), KB_OK);
    if (!in)
        return;
    struct buf reply = BUF_INIT(1 << 20);
    const char *json = "application/json";
    const char *form = "application/x-www-form-urlencoded";
    long t = 1764882000;

    T_EQ_INT(send(in, json, reaction_ev, t, 1, NULL, &reply), 200);
    T_EQ_INT(s.events, 1);
    T_EQ_STR(s.type, "reaction_added");
    T_EQ_STR(s.reaction, "rotating_light");
    T_EQ_STR(s.channel, "C9");
    T_EQ_STR(s.ts, "1764881000.000100");
    T_EQ_STR(s.user, "U1");
    T_EQ_STR(s.item_user, "U7");
    /* the same bytes again: a replay */
    T_EQ_INT(send(in, json, reaction_ev, t, 2, NULL, &reply), 401);
    T_CHECK(reply.p && strstr(reply.p, "replayed request"));
    /* Slack's retry: a new timestamp and signature, the same event_id */
    T_EQ_INT(send(in, json, reaction_ev, t + 5, 1, "1", &reply), 200);
    T_EQ_INT(s.events, 1);
    /* stale */
    T_EQ_INT(send(in, json, reaction_ev, t - 400, 400, NULL, &reply), 401);
    T_CHECK(reply.p && strstr(reply.p, "stale timestamp"));
    /* unsigned */
    struct slack_http rq = {json, "1764882000", "v0=00", NULL, reaction_ev, strlen(reaction_ev),
                            t * 1000};
    unsigned st = 0;
    T_EQ_INT(slack_inbound_handle(in, &rq, &st, &reply), KB_OK);
    T_EQ_INT(st, 401);

    /* a handler that fails: 500, and Slack's retry is handled */
    const char *ev2 = "{\"type\":\"event_callback\",\"event_id\":\"Ev02\",\"event\":{\"type\":"
                      "\"pin_added\",\"user\":\"U2\",\"channel_id\":\"C3\",\"item\":{\"type\":"
                      "\"message\",\"channel\":\"C3\",\"message\":{\"ts\":\"17.2\",\"user\":"
                      "\"U4\",\"text\":\"db failover done\"}}}}";
    s.fail_next = 1;
    T_EQ_INT(send(in, json, ev2, t + 10, 0, NULL, &reply), 500);
    T_EQ_INT(send(in, json, ev2, t + 11, 0, "1", &reply), 200);
    T_EQ_INT(s.events, 2);
    T_EQ_STR(s.type, "pin_added");
    T_EQ_STR(s.channel, "C3");
    T_EQ_STR(s.ts, "17.2");
    T_EQ_STR(s.item_user, "U4");
    T_EQ_STR(s.text, "db failover done");

    /* url_verification answers the challenge */
    T_EQ_INT(send(in, json, "{\"type\":\"url_verification\",\"challenge\":\"3eZbrw1a\"}", t + 20,
                  0, NULL, &reply),
             200);
    T_EQ_STR(reply.p, "{\"challenge\":\"3eZbrw1a\"}");
    T_EQ_INT(send(in, json, "[1,2", t + 21, 0, NULL, &reply), 400);

    /* Slack's documented slash command, signed with the test's clock */
    T_EQ_INT(send(in, form, doc_body, t + 30, 0, NULL, &reply), 200);
    T_EQ_INT(s.commands, 1);
    T_EQ_STR(s.command, "/webhook-collect");
    T_EQ_STR(s.ctext, "");
    T_EQ_STR(s.trigger, "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c");
    T_EQ_STR(reply.p, "{\"text\":\"ok\"}");
    T_EQ_INT(send(in, form, "user_id=U1&text=x", t + 31, 0, NULL, &reply), 400);

    /* interactivity: a button, then a modal submitted */
    const char *btn = "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A"
                      "%22U1%22%7D%2C%22actions%22%3A%5B%7B%22action_id%22%3A%22set_level%22%2C"
                      "%22selected_option%22%3A%7B%22value%22%3A%222%22%7D%7D%5D%7D";
    T_EQ_INT(send(in, form, btn, t + 40, 0, NULL, &reply), 200);
    T_EQ_INT(s.actions, 1);
    T_EQ_STR(s.atype, "block_actions");
    T_EQ_STR(s.action_id, "set_level");
    T_EQ_STR(s.value, "2");
    const char *view = "payload={\"type\":\"view_submission\",\"user\":{\"id\":\"U1\"},\"view\":"
                       "{\"callback_id\":\"declare\",\"private_metadata\":\"C5\",\"state\":"
                       "{\"values\":{\"svc\":{\"v\":{\"type\":\"plain_text_input\",\"value\":"
                       "\"payments\"}}}}}}";
    T_EQ_INT(send(in, form, view, t + 41, 0, NULL, &reply), 200);
    T_EQ_STR(s.atype, "view_submission");
    T_EQ_STR(s.callback, "declare");
    T_EQ_STR(s.meta, "C5");
    T_EQ_STR(s.values,
             "{\"svc\":{\"v\":{\"type\":\"plain_text_input\",\"value\":\"payments\"}}}");
    T_EQ_INT(send(in, form, "payload=%7Bnot-json", t + 42, 0, NULL, &reply), 400);

    struct buf m = BUF_INIT(1 << 16);
    T_EQ_INT(slack_inbound_metrics(in, &m), KB_OK);
    T_CHECK(m.p && strstr(m.p, "koban_slack_requests_total{kind=\"event\",result=\"ok\"} 3"));
    T_CHECK(m.p && strstr(m.p, "koban_slack_requests_total{kind=\"event\",result=\"refused\"} 3"));
    T_CHECK(m.p && strstr(m.p, "koban_slack_requests_total{kind=\"event\",result=\"duplicate\"} 1"));
    T_CHECK(m.p && strstr(m.p, "koban_slack_requests_total{kind=\"event\",result=\"failed\"} 1"));
    buf_release(&m);
    buf_release(&reply);
    slack_inbound_free(in);
    T_CHECK(slack_inbound_new(&(struct slack_inbound_opts){0}, &h, &in, &why) == KB_EINVAL);
}

/* The replay memory over a long life: requests keep coming for hours
 * (their signatures expire and make room), and only SLACK_SEEN_MAX live at
 * once are refused (503). */
static void test_memory_bounded(void)
{
    struct slack_handler h = {0};
    struct slack_inbound_opts o = {.signing_secret = SECRET};
    struct slack_inbound *in = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(slack_inbound_new(&o, &h, &in, &why), KB_OK);
    if (!in)
        return;
    struct buf reply = BUF_INIT(1 << 16);
    char body[128];
    long t = 1764882000;
    int refused = 0;
    for (int i = 0; i < 3 * SLACK_SEEN_MAX; i++) {
        if (i % 4000 == 0)
            t += 400; /* the earlier signatures are past the 5-minute window */
        snprintf(body, sizeof body, "command=%%2Fx&text=%d", i);
        refused += send(in, "application/x-www-form-urlencoded", body, t, 0, NULL, &reply) != 200;
    }
    T_EQ_INT(refused, 0);
    t += 400;
    for (int i = 0; i <= SLACK_SEEN_MAX; i++) {
        snprintf(body, sizeof body, "command=%%2Fy&text=%d", i);
        unsigned st = send(in, "application/x-www-form-urlencoded", body, t, 0, NULL, &reply);
        if (i < SLACK_SEEN_MAX)
            refused += st != 200;
        else
            T_EQ_INT(st, 503);
    }
    T_EQ_INT(refused, 0);
    buf_release(&reply);
    slack_inbound_free(in);
}

/* The app: a report reaction becomes one report event; others do nothing. */
struct submitted {
    int n;
    char format[16];
    char json[2048];
};

static kb_err fake_submit(void *ctx, const char *format, const char *json, size_t len,
                          struct kb_why *why)
{
    (void)why;
    struct submitted *s = ctx;
    s->n++;
    snprintf(s->format, sizeof s->format, "%s", format);
    snprintf(s->json, sizeof s->json, "%.*s", (int)len, json);
    return KB_OK;
}

static void test_app_report(void)
{
    struct submitted sub = {0};
    struct slack_app_opts o = {.report_emoji = "rotating_light",
                               .timeline_emoji = "pushpin",
                               .workspace_url = "https://acme.slack.com/",
                               .submit = fake_submit,
                               .submit_ctx = &sub};
    struct slack_app *app = NULL;
    T_EQ_INT(slack_app_new(&o, &app), KB_OK);
    struct slack_handler h = slack_app_handler(app);
    struct slack_event e = {.event_id = "Ev9", .type = "reaction_added", .user = "U1",
                            .reaction = "rotating_light", .channel = "C9",
                            .ts = "1764881000.000100", .item_user = "U7",
                            .event_time = 1764882000};
    struct kb_why why = {{0}};
    T_EQ_INT(h.event(h.ctx, &e, &why), KB_OK);
    T_EQ_INT(sub.n, 1);
    T_EQ_STR(sub.format, "report");
    T_EQ_STR(sub.json, "{\"report\":{\"reporter\":\"U1\",\"channel\":\"C9\",\"ts\":"
                       "\"1764881000.000100\",\"author\":\"U7\",\"permalink\":"
                       "\"https://acme.slack.com/archives/C9/p1764881000000100\",\"text\":null,"
                       "\"via\":\"slack-reaction\",\"emoji\":\"rotating_light\",\"event_id\":"
                       "\"Ev9\",\"time\":\"2025-12-04T21:00:00.000Z\"}}");
    e.reaction = "thumbsup";
    T_EQ_INT(h.event(h.ctx, &e, &why), KB_OK);
    e.reaction = "pushpin"; /* no timeline callback: ignored */
    T_EQ_INT(h.event(h.ctx, &e, &why), KB_OK);
    e.type = "reaction_removed";
    e.reaction = "rotating_light";
    T_EQ_INT(h.event(h.ctx, &e, &why), KB_OK);
    T_EQ_INT(sub.n, 1);
    slack_app_free(app);

    char link[128];
    slack_permalink(NULL, "C1", "1.2", link, sizeof link);
    T_EQ_STR(link, "");
}

int main(void)
{
    T_RUN(test_verify);
    T_RUN(test_form);
    T_RUN(test_handle);
    T_RUN(test_memory_bounded);
    T_RUN(test_app_report);
    return t_done();
}
