/* test_recv_slack_incident.c — the incident bot's Slack calls: a channel
 * created (a taken name gets a suffix), people and user groups invited
 * (already_in_channel is fine), the first message, broadcasts, the
 * timekeeper edited in place (and posted anew when gone), archive; the
 * state after each step lets a retried job resume; errors retry or fail. */
#include "notify/recv_internal.h"
#include "recv_testlib.h"
#include "test.h"

static struct arena ar = ARENA_INIT(16u << 20);

static struct receiver *make(void)
{
    struct recv_config c = {.name = "ir", .type = "slack_incident",
                            .base_url = "http://127.0.0.1:5/api", .token = "xoxb-9"};
    struct receiver *r = NULL;
    struct kb_why why = {{0}};
    T_CHECKF(receiver_new(&c, &r, &why) == KB_OK, "%s", why.msg);
    return r;
}

/* A job whose payload is the given JSON text. */
static void job(struct tjob *t, const char *payload, const char *state)
{
    memset(t, 0, sizeof *t);
    arena_init(&t->a, 1u << 20);
    buf_init(&t->text, 1u << 20);
    buf_puts(&t->text, payload);
    struct json_value *root = NULL;
    T_CHECK(json_parse(t->text.p, t->text.len, NULL, &t->a, &root, NULL) == KB_OK);
    t->state = state ? strdup(state) : NULL;
    t->job = (struct recv_job){.id = 9, .payload = root, .payload_text = t->text.p,
                               .state = t->state, .attempt = 1};
}

/* Builds step, checks the path, returns the body's JSON (in ar). */
static const struct json_value *expect(struct receiver *r, struct tjob *t, int step,
                                       const char *method, const char *url)
{
    struct recv_request req;
    struct kb_why why;
    kb_err e = tbuild(r, t, step, &req, &why);
    T_CHECKF(e == KB_OK, "step %d: %s", step, why.msg);
    T_EQ_STR(req.method, method);
    T_EQ_STR(req.url, url);
    T_EQ_STR(treq_header(&req, "Authorization"), "Bearer xoxb-9");
    /* the parsed values point into the text: keep a copy beside them */
    struct json_value *v = NULL;
    if (req.body.p) {
        char *copy = arena_strndup(&ar, req.body.p, req.body.len);
        T_CHECK(json_parse(copy, req.body.len, NULL, &ar, &v, NULL) == KB_OK);
    }
    recv_request_release(&req);
    return v;
}

static void done(struct receiver *r, struct tjob *t, int step)
{
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, t, step, &req, &why), KB_ENOTFOUND);
    recv_request_release(&req);
}

static enum recv_outcome answer(struct receiver *r, struct tjob *t, int step, long status,
                                const char *body)
{
    struct recv_response resp = tresp(status, body);
    struct recv_result res;
    enum recv_outcome o = tresult(r, t, step, &resp, &res);
    recv_result_release(&res);
    return o;
}

#define API "http://127.0.0.1:5/api"

static const char *OPEN =
    "{\"event\":\"incident\",\"op\":\"open\",\"incident\":{\"id\":4},"
    "\"channel_name\":\"payments-20261204i\",\"private\":false,"
    "\"users\":[\"U1\",\"U2\"],\"usergroups\":[\"S9\"],"
    "\"text\":\"Incident 4 declared. Checklist: assign a handler.\"}";

static void test_open(void)
{
    struct receiver *r = make();
    struct tjob t;
    job(&t, OPEN, NULL);
    const struct json_value *b = expect(r, &t, 0, "POST", API "/conversations.create");
    T_EQ_KSTR(tstr(b, "name"), "payments-20261204i");
    T_CHECK(json_get(b, "is_private") && json_get(b, "is_private")->type == JSON_FALSE);
    /* taken: the next step tries name-2 */
    T_EQ_INT(answer(r, &t, 0, 200, "{\"ok\":false,\"error\":\"name_taken\"}"), RECV_NEXT);
    b = expect(r, &t, 1, "POST", API "/conversations.create");
    T_EQ_KSTR(tstr(b, "name"), "payments-20261204i-2");
    T_EQ_INT(answer(r, &t, 1, 200,
                    "{\"ok\":true,\"channel\":{\"id\":\"C42\",\"name\":\"payments-20261204i-2\"}}"),
             RECV_NEXT);
    T_EQ_STR(t.state, "{\"channel\":\"C42\",\"name\":\"payments-20261204i-2\",\"tries\":1}");
    b = expect(r, &t, 2, "POST", API "/conversations.invite");
    T_EQ_KSTR(tstr(b, "channel"), "C42");
    T_EQ_KSTR(tstr(b, "users"), "U1,U2");
    T_EQ_INT(answer(r, &t, 2, 200, "{\"ok\":false,\"error\":\"already_in_channel\"}"), RECV_NEXT);
    expect(r, &t, 3, "GET", API "/usergroups.users.list?usergroup=S9");
    T_EQ_INT(answer(r, &t, 3, 200, "{\"ok\":true,\"users\":[\"U7\",\"U8\"]}"), RECV_NEXT);
    b = expect(r, &t, 4, "POST", API "/conversations.invite");
    T_EQ_KSTR(tstr(b, "users"), "U7,U8");
    /* a crash here: the job is retried from the saved state, not from scratch */
    struct tjob again;
    job(&again, OPEN, t.state);
    b = expect(r, &again, 0, "POST", API "/conversations.invite");
    T_EQ_KSTR(tstr(b, "users"), "U7,U8");
    tjob_free(&again);
    T_EQ_INT(answer(r, &t, 4, 200, "{\"ok\":true}"), RECV_NEXT);
    b = expect(r, &t, 5, "POST", API "/chat.postMessage");
    T_EQ_KSTR(tstr(b, "channel"), "C42");
    T_EQ_KSTR(tstr(b, "text"), "Incident 4 declared. Checklist: assign a handler.");
    T_EQ_INT(answer(r, &t, 5, 200, "{\"ok\":true,\"channel\":\"C42\",\"ts\":\"1.5\"}"), RECV_NEXT);
    done(r, &t, 6);
    T_EQ_STR(t.state, "{\"channel\":\"C42\",\"name\":\"payments-20261204i-2\",\"tries\":1,"
                      "\"inv\":1,\"ugi\":1,\"posted\":1}");
    tjob_free(&t);

    /* a name taken ten times, a refused invite, a rate limit */
    job(&t, OPEN, "{\"tries\":9}");
    T_EQ_INT(answer(r, &t, 0, 200, "{\"ok\":false,\"error\":\"name_taken\"}"), RECV_FAIL);
    tjob_free(&t);
    job(&t, OPEN, "{\"channel\":\"C1\"}");
    T_EQ_INT(answer(r, &t, 0, 200, "{\"ok\":false,\"error\":\"not_in_channel\"}"), RECV_FAIL);
    T_EQ_INT(answer(r, &t, 0, 200, "{\"ok\":false,\"error\":\"ratelimited\"}"), RECV_RETRY);
    T_EQ_INT(answer(r, &t, 0, 429, ""), RECV_RETRY);
    T_EQ_INT(answer(r, &t, 0, 0, ""), RECV_RETRY);
    tjob_free(&t);
    receiver_free(r);
}

static void test_broadcast_post_archive(void)
{
    struct receiver *r = make();
    struct tjob t;
    job(&t, "{\"event\":\"incident\",\"op\":\"broadcast\",\"channels\":[\"CENG\",\"CMGT\"],"
            "\"text\":\"Incident 4: recovered\"}",
        "{\"channel\":\"C42\"}");
    const struct json_value *b = expect(r, &t, 0, "POST", API "/chat.postMessage");
    T_EQ_KSTR(tstr(b, "channel"), "CENG");
    T_EQ_INT(answer(r, &t, 0, 200, "{\"ok\":true,\"ts\":\"1.1\"}"), RECV_NEXT);
    b = expect(r, &t, 1, "POST", API "/chat.postMessage");
    T_EQ_KSTR(tstr(b, "channel"), "CMGT");
    T_EQ_KSTR(tstr(b, "text"), "Incident 4: recovered");
    T_EQ_INT(answer(r, &t, 1, 200, "{\"ok\":true,\"ts\":\"1.2\"}"), RECV_NEXT);
    done(r, &t, 2);
    T_EQ_STR(t.state, "{\"channel\":\"C42\"}"); /* broadcasts keep no state */
    tjob_free(&t);

    job(&t, "{\"event\":\"incident\",\"op\":\"post\",\"text\":\"hi\",\"blocks\":[{\"type\":"
            "\"divider\"}]}",
        "{\"channel\":\"C42\"}");
    b = expect(r, &t, 0, "POST", API "/chat.postMessage");
    T_EQ_KSTR(tstr(b, "channel"), "C42");
    T_EQ_KSTR(tstr(b, "blocks.0.type"), "divider");
    T_EQ_INT(answer(r, &t, 0, 200, "{\"ok\":false,\"error\":\"channel_not_found\"}"), RECV_FAIL);
    tjob_free(&t);

    job(&t, "{\"event\":\"incident\",\"op\":\"archive\"}", "{\"channel\":\"C42\"}");
    b = expect(r, &t, 0, "POST", API "/conversations.archive");
    T_EQ_KSTR(tstr(b, "channel"), "C42");
    T_EQ_INT(answer(r, &t, 0, 200, "{\"ok\":false,\"error\":\"already_archived\"}"), RECV_DONE);
    tjob_free(&t);
    job(&t, "{\"event\":\"incident\",\"op\":\"archive\"}", NULL);
    done(r, &t, 0); /* no channel: nothing to archive */
    tjob_free(&t);
    receiver_free(r);
}

static void test_timekeeper(void)
{
    struct receiver *r = make();
    const char *tk = "{\"event\":\"incident\",\"op\":\"timekeeper\",\"mode\":\"update\","
                     "\"text\":\"15 min since declared\"}";
    struct tjob t;
    job(&t, tk, "{\"channel\":\"C42\"}");
    expect(r, &t, 0, "POST", API "/chat.postMessage"); /* none yet: post */
    T_EQ_INT(answer(r, &t, 0, 200, "{\"ok\":true,\"ts\":\"5.5\"}"), RECV_DONE);
    T_EQ_STR(t.state, "{\"channel\":\"C42\",\"tk\":\"5.5\"}");
    tjob_free(&t);
    job(&t, tk, "{\"channel\":\"C42\",\"tk\":\"5.5\"}");
    const struct json_value *b = expect(r, &t, 0, "POST", API "/chat.update");
    T_EQ_KSTR(tstr(b, "ts"), "5.5");
    T_EQ_INT(answer(r, &t, 0, 200, "{\"ok\":false,\"error\":\"message_not_found\"}"), RECV_NEXT);
    expect(r, &t, 1, "POST", API "/chat.postMessage");
    T_EQ_INT(answer(r, &t, 1, 200, "{\"ok\":true,\"ts\":\"6.6\"}"), RECV_DONE);
    T_EQ_STR(t.state, "{\"channel\":\"C42\",\"tk\":\"6.6\"}");
    tjob_free(&t);
    receiver_free(r);

    struct recv_config c = {.name = "ir", .type = "slack_incident"};
    struct receiver *bad = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(receiver_new(&c, &bad, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "token is required") != NULL);
}

int main(void)
{
    T_RUN(test_open);
    T_RUN(test_broadcast_post_archive);
    T_RUN(test_timekeeper);
    arena_release(&ar);
    return t_done();
}
