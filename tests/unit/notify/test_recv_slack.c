/* test_recv_slack.c — the Slack receiver: the first post (Block Kit) and
 * its saved ts, update + thread reply on later events, a message that is
 * gone, Slack's ok:false errors, incoming-webhook mode, hostile titles, a
 * template override and the "Declare incident" button of severe issues. */
#include "notify/recv_internal.h"
#include "recv_testlib.h"
#include "test.h"

static struct arena ar = ARENA_INIT(16u << 20);

static const char *OK_POST = "{\"ok\":true,\"channel\":\"C0KOBAN\",\"ts\":\"1700000000.000100\","
                             "\"message\":{\"text\":\"x\"}}";
static const char *STATE = "{\"channel\":\"C0KOBAN\",\"ts\":\"1700000000.000100\"}";

static struct receiver *make(const char *webhook, const char *tdir)
{
    struct recv_config c = {.name = "sl",
                            .type = "slack",
                            .base_url = "http://127.0.0.1:5/api/",
                            .token = webhook ? NULL : "xoxb-1",
                            .channel = webhook ? NULL : "C999",
                            .webhook_url = webhook,
                            .koban_url = "http://koban.example:8478",
                            .templates_dir = tdir};
    struct receiver *r = NULL;
    struct kb_why why = {{0}};
    kb_err e = receiver_new(&c, &r, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    return r;
}

static void test_config(void)
{
    struct recv_config c = {.name = "sl", .type = "slack", .token = "xoxb"};
    struct receiver *r = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(receiver_new(&c, &r, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "channel is required") != NULL);
    c = (struct recv_config){.name = "sl", .type = "slack", .channel = "C1"};
    T_EQ_INT(receiver_new(&c, &r, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "token is required") != NULL);
    c = (struct recv_config){.name = "sl", .type = "slack", .webhook_url = "hooks.slack.com/x"};
    T_EQ_INT(receiver_new(&c, &r, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "webhook_url") != NULL);
}

/* The text of the block of type `type` (the n-th of that type). */
static struct kb_str block_text(const struct json_value *body, const char *type, int n)
{
    const struct json_value *blocks = json_get(body, "blocks");
    for (const struct json_value *b = blocks ? blocks->u.child : NULL; b; b = b->next)
        if (kb_str_eq(json_str(json_get(b, "type")), type) && n-- == 0)
            return tstr(b, "text.text");
    return KB_STR_NULL;
}

static bool has(struct kb_str s, const char *needle)
{
    return s.p && memmem(s.p, s.n, needle, strlen(needle)) != NULL;
}

static void test_first_post(void)
{
    struct receiver *r = make(NULL, NULL);
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_OK);
    T_EQ_STR(req.method, "POST");
    T_EQ_STR(req.url, "http://127.0.0.1:5/api/chat.postMessage");
    T_EQ_STR(treq_header(&req, "Authorization"), "Bearer xoxb-1");
    T_EQ_STR(treq_header(&req, "Content-Type"), "application/json; charset=utf-8");
    arena_reset(&ar);
    const struct json_value *b = treq_json(&req, &ar);
    T_CHECK(b != NULL);
    T_EQ_KSTR(tstr(b, "channel"), "C999");
    T_EQ_KSTR(tstr(b, "text"), is.title);
    T_CHECK(json_get(b, "thread_ts") == NULL);
    T_EQ_KSTR(block_text(b, "header", 0), is.title);
    T_EQ_KSTR(tstr(b, "blocks.1.text.type"), "mrkdwn");
    struct kb_str body = block_text(b, "section", 0);
    T_CHECK(has(body, "*Severity:* high   *State:* open   *Count:* 3\n"));
    T_CHECK(has(body, "*Source:* guardduty"));
    T_CHECK(has(body, "*Resource:* `i-0abc`"));
    T_CHECK(has(body, "*Account:* `111122223333` (eu-west-1)"));
    T_CHECK(has(body, "*First seen:* 2026-11-20T10:00:00.000Z"));
    T_CHECK(has(body, "<http://koban.example:8478/v1/issues/7|Issue #7 in koban>"));
    struct kb_str ann = block_text(b, "section", 1);
    T_EQ_KSTR(ann, "• Runbook <https://wiki.example/ssh|link>\n• No link here");
    recv_request_release(&req);

    struct recv_response resp = tresp(200, OK_POST);
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_DONE);
    T_EQ_STR(t.state, STATE);
    tjob_free(&t);

    /* no annotations: no second section */
    is.annotations = NULL;
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_OK);
    arena_reset(&ar);
    b = treq_json(&req, &ar);
    T_CHECK(block_text(b, "section", 1).p == NULL);
    recv_request_release(&req);
    tjob_free(&t);
    receiver_free(r);
}

/* A later event on an issue with a message: update, then thread reply. */
static void later_event(struct receiver *r, const char *event, const char *reason,
                        const char *want_thread)
{
    struct tissue is = tissue_default();
    is.count = 12;
    is.state = strcmp(event, "closed") == 0 ? "closed" : "open";
    struct tjob t;
    tjob_init(&t, event, &is, reason, NULL, STATE);
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_OK);
    T_EQ_STR(req.url, "http://127.0.0.1:5/api/chat.update");
    arena_reset(&ar);
    const struct json_value *b = treq_json(&req, &ar);
    T_EQ_KSTR(tstr(b, "channel"), "C0KOBAN");
    T_EQ_KSTR(tstr(b, "ts"), "1700000000.000100");
    struct kb_str body = block_text(b, "section", 0);
    T_CHECKF(has(body, "*Count:* 12"), "%s", event);
    T_CHECK(has(body, is.state));
    recv_request_release(&req);
    struct recv_response resp = tresp(200, OK_POST);
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_NEXT);
    T_EQ_STR(t.state, STATE);

    T_EQ_INT(tbuild(r, &t, 1, &req, &why), KB_OK);
    T_EQ_STR(req.url, "http://127.0.0.1:5/api/chat.postMessage");
    arena_reset(&ar);
    b = treq_json(&req, &ar);
    T_EQ_KSTR(tstr(b, "channel"), "C0KOBAN");
    T_EQ_KSTR(tstr(b, "thread_ts"), "1700000000.000100");
    T_EQ_KSTR(tstr(b, "text"), want_thread);
    T_CHECK(json_get(b, "blocks") == NULL);
    recv_request_release(&req);
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_DONE);
    T_EQ_STR(t.state, STATE); /* unchanged */
    T_EQ_INT(tbuild(r, &t, 2, &req, &why), KB_ENOTFOUND);
    recv_request_release(&req);
    tjob_free(&t);
}

static void test_update_and_thread(void)
{
    struct receiver *r = make(NULL, NULL);
    later_event(r, "repeated", NULL, "Repeated: seen 12 times, last at 2026-11-20T11:00:00.000Z.");
    later_event(r, "reopened", "recurred", "Reopened: recurred (seen 12 times).");
    later_event(r, "closed", "fixed <by> *policy*",
                "Closed: fixed &lt;by&gt; \xE2\x88\x97policy\xE2\x88\x97.");
    later_event(r, "acknowledged", NULL, "Acknowledged.");

    /* "opened" with a message already saved (a retry): update only */
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, STATE);
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_OK);
    T_EQ_STR(req.url, "http://127.0.0.1:5/api/chat.update");
    recv_request_release(&req);
    struct recv_response resp = tresp(200, OK_POST);
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_DONE);
    tjob_free(&t);

    /* "test" posts a fresh message and keeps no state */
    tjob_init(&t, "test", &is, NULL, NULL, STATE);
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_OK);
    T_EQ_STR(req.url, "http://127.0.0.1:5/api/chat.postMessage");
    recv_request_release(&req);
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_DONE);
    T_EQ_STR(t.state, STATE);
    tjob_free(&t);
    receiver_free(r);
}

static void test_message_gone(void)
{
    struct receiver *r = make(NULL, NULL);
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "repeated", &is, NULL, NULL, STATE);
    struct recv_response resp = tresp(200, "{\"ok\":false,\"error\":\"message_not_found\"}");
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_NEXT);
    T_EQ_STR(t.state, "{}");
    /* step 1: a fresh message with the blocks, not a thread reply */
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 1, &req, &why), KB_OK);
    arena_reset(&ar);
    const struct json_value *b = treq_json(&req, &ar);
    T_EQ_STR(req.url, "http://127.0.0.1:5/api/chat.postMessage");
    T_CHECK(json_get(b, "thread_ts") == NULL);
    T_EQ_KSTR(tstr(b, "channel"), "C999");
    T_CHECK(json_get(b, "blocks") != NULL);
    recv_request_release(&req);
    resp = tresp(200, "{\"ok\":true,\"channel\":\"C999\",\"ts\":\"2.000\"}");
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_DONE);
    T_EQ_STR(t.state, "{\"channel\":\"C999\",\"ts\":\"2.000\"}");
    tjob_free(&t);

    /* the thread parent is gone: forget it and retry the step as a post */
    tjob_init(&t, "closed", &is, NULL, NULL, STATE);
    resp = tresp(200, "{\"ok\":false,\"error\":\"thread_not_found\"}");
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_RETRY);
    T_EQ_INT(res.retry_after_ms, 0);
    T_EQ_STR(t.state, "{}");
    T_EQ_INT(tbuild(r, &t, 1, &req, &why), KB_OK);
    arena_reset(&ar);
    b = treq_json(&req, &ar);
    T_CHECK(json_get(b, "thread_ts") == NULL && json_get(b, "blocks") != NULL);
    recv_request_release(&req);
    tjob_free(&t);
    receiver_free(r);
}

static void test_errors(void)
{
    struct receiver *r = make(NULL, NULL);
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    struct recv_result res;
    /* ratelimited inside a 200, with Retry-After */
    struct recv_response resp = tresp(200, "{\"ok\":false,\"error\":\"ratelimited\"}");
    resp.retry_after_ms = 30000;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    T_EQ_INT(res.retry_after_ms, 30000);
    T_CHECK(strstr(res.reason, "ratelimited") != NULL);
    /* HTTP 429 */
    resp = tresp(429, "");
    resp.retry_after_ms = 4000;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    T_EQ_INT(res.retry_after_ms, 4000);
    static const char *const fail[] = {"invalid_auth", "channel_not_found", "not_in_channel",
                                       "is_archived",  "invalid_blocks",    "some_new_error"};
    for (size_t i = 0; i < KB_ARRAY_LEN(fail); i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"ok\":false,\"error\":\"%s\"}", fail[i]);
        resp = tresp(200, body);
        T_CHECKF(tresult(r, &t, 0, &resp, &res) == RECV_FAIL, "%s", fail[i]);
        T_CHECK(strstr(res.reason, fail[i]) != NULL);
    }
    static const char *const retry[] = {"internal_error", "fatal_error", "service_unavailable",
                                        "request_timeout"};
    for (size_t i = 0; i < KB_ARRAY_LEN(retry); i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"ok\":false,\"error\":\"%s\"}", retry[i]);
        resp = tresp(200, body);
        T_CHECKF(tresult(r, &t, 0, &resp, &res) == RECV_RETRY, "%s", retry[i]);
    }
    resp = tresp(200, "<html>proxy</html>");
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    resp = tresp(0, NULL);
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    resp = tresp(503, "");
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    resp = tresp(404, "");
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_FAIL);
    T_CHECK(t.state == NULL);
    tjob_free(&t);
    receiver_free(r);
}

/* The actions block of a message body, or NULL. */
static const struct json_value *actions_block(const struct json_value *body)
{
    const struct json_value *blocks = json_get(body, "blocks");
    for (const struct json_value *b = blocks ? blocks->u.child : NULL; b; b = b->next)
        if (kb_str_eq(json_str(json_get(b, "type")), "actions"))
            return b;
    return NULL;
}

/* High and critical issues get a "Declare incident" button carrying the
 * issue id, on the first post and on updates; lower severities and
 * incoming-webhook messages do not. */
static void test_declare_button(void)
{
    static const struct {
        const char *severity, *webhook;
        bool button;
    } cases[] = {{"high", NULL, true},       {"critical", NULL, true}, {"medium", NULL, false},
                 {"low", NULL, false},       {"info", NULL, false},
                 {"critical", "https://hooks.slack.com/services/T/B/X", false}};
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        for (int update = 0; update < 2; update++) {
            struct receiver *r = make(cases[i].webhook, NULL);
            struct tissue is = tissue_default();
            is.severity = cases[i].severity;
            is.id = 4242;
            struct tjob t;
            tjob_init(&t, update ? "repeated" : "opened", &is, NULL, NULL,
                      update ? STATE : NULL);
            struct recv_request req;
            struct kb_why why;
            T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_OK);
            if (update && !cases[i].webhook)
                T_CHECK(strstr(req.url, "chat.update") != NULL);
            arena_reset(&ar);
            const struct json_value *b = treq_json(&req, &ar);
            const struct json_value *act = actions_block(b);
            T_CHECKF((act != NULL) == cases[i].button, "severity %s webhook %d update %d",
                     cases[i].severity, cases[i].webhook != NULL, update);
            if (act) {
                T_EQ_KSTR(tstr(act, "elements.0.type"), "button");
                T_EQ_KSTR(tstr(act, "elements.0.action_id"), "incident_declare");
                T_EQ_KSTR(tstr(act, "elements.0.value"), "4242");
                T_EQ_KSTR(tstr(act, "elements.0.text.text"), "Declare incident");
                T_CHECK(act->next == NULL); /* the last block */
            }
            recv_request_release(&req);
            tjob_free(&t);
            receiver_free(r);
        }
    }
}

static void test_webhook_mode(void)
{
    struct receiver *r = make("https://hooks.slack.com/services/T/B/X", NULL);
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "repeated", &is, NULL, NULL, STATE);
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_OK);
    T_EQ_STR(req.url, "https://hooks.slack.com/services/T/B/X");
    T_CHECK(treq_header(&req, "Authorization") == NULL);
    arena_reset(&ar);
    const struct json_value *b = treq_json(&req, &ar);
    T_CHECK(json_get(b, "channel") == NULL && json_get(b, "ts") == NULL);
    T_EQ_KSTR(block_text(b, "header", 0), is.title);
    recv_request_release(&req);
    struct recv_response resp = tresp(200, "ok");
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_DONE);
    T_EQ_STR(t.state, STATE); /* untouched */
    T_EQ_INT(tbuild(r, &t, 1, &req, &why), KB_ENOTFOUND);
    recv_request_release(&req);
    static const struct {
        long status;
        const char *body;
        enum recv_outcome want;
    } cases[] = {
        {400, "invalid_payload", RECV_FAIL},
        {403, "action_prohibited", RECV_FAIL},
        {404, "channel_not_found", RECV_FAIL},
        {410, "channel_is_archived", RECV_FAIL},
        {429, "", RECV_RETRY},
        {500, "", RECV_RETRY},
        {0, NULL, RECV_RETRY},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        resp = tresp(cases[i].status, cases[i].body);
        T_CHECKF(tresult(r, &t, 0, &resp, &res) == cases[i].want, "HTTP %ld", cases[i].status);
        if (cases[i].body && *cases[i].body)
            T_CHECK(strstr(res.reason, cases[i].body) != NULL);
    }
    tjob_free(&t);
    receiver_free(r);
}

static void test_hostile_title(void)
{
    struct receiver *r = make(NULL, NULL);
    struct tissue is = tissue_default();
    is.title = "<!here> *urgent* & <script>x</script> @here\nline2";
    is.resource = "arn:aws:s3:::a_b/`x`";
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_OK);
    arena_reset(&ar);
    const struct json_value *b = treq_json(&req, &ar);
    /* the header is plain_text: shown as is (one line), never parsed */
    T_EQ_KSTR(block_text(b, "header", 0), "<!here> *urgent* & <script>x</script> @here line2");
    /* the notification text is mrkdwn: escaped */
    T_EQ_KSTR(tstr(b, "text"), "&lt;!here&gt; \xE2\x88\x97urgent\xE2\x88\x97 &amp; "
                               "&lt;script&gt;x&lt;/script&gt; @here\nline2");
    struct kb_str body = block_text(b, "section", 0);
    T_CHECK(has(body, "*Resource:* `arn:aws:s3:::a_b/\xEF\xBD\x80x\xEF\xBD\x80`"));
    T_CHECK(!has(body, "<!"));
    recv_request_release(&req);
    tjob_free(&t);
    receiver_free(r);
}

static void test_template_override(void)
{
    char dir[64];
    tdir_make(dir, sizeof dir);
    tdir_write(dir, "slack.thread.tmpl", "{{event}} on {{receiver}}: #{{issue.id}}\n");
    struct receiver *r = make(NULL, dir);
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "repeated", &is, NULL, NULL, STATE);
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 1, &req, &why), KB_OK);
    arena_reset(&ar);
    T_EQ_KSTR(tstr(treq_json(&req, &ar), "text"), "repeated on sl: #7");
    recv_request_release(&req);
    tjob_free(&t);
    receiver_free(r);

    tdir_write(dir, "slack.body.tmpl", "*x*\n{{#issue}}\n{{/issues}}\n");
    struct recv_config c = {
        .name = "sl", .type = "slack", .token = "t", .channel = "C", .templates_dir = dir};
    T_EQ_INT(receiver_new(&c, &r, &why), KB_EPARSE);
    char want[160];
    snprintf(want, sizeof want, "%s/slack.body.tmpl:3: {{/issues}} closes {{#issue}}", dir);
    T_CHECKF(strncmp(why.msg, want, strlen(want)) == 0, "%s", why.msg);
    static const char *const names[] = {"slack.thread.tmpl", "slack.body.tmpl"};
    tdir_remove(dir, names, 2);
}

int main(void)
{
    T_RUN(test_config);
    T_RUN(test_first_post);
    T_RUN(test_update_and_thread);
    T_RUN(test_message_gone);
    T_RUN(test_errors);
    T_RUN(test_webhook_mode);
    T_RUN(test_declare_button);
    T_RUN(test_hostile_title);
    T_RUN(test_template_override);
    arena_release(&ar);
    return t_done();
}
