/* test_recv_github_incident.c — the incident bot's GitHub calls: the
 * incident's issue found by its marker or created (title, labels, body
 * with the marker), later updated with a comment, closed as not planned
 * when cancelled; the postmortem committed to a branch and opened as a
 * pull request that closes the issue, each step resumable from the state;
 * the 422s that mean "already done"; rate limits retry. */
#include "notify/recv_internal.h"
#include "recv_testlib.h"
#include "test.h"

static struct arena ar = ARENA_INIT(16u << 20);

static struct receiver *make(void)
{
    struct recv_config c = {.name = "gi", .type = "github_incident",
                            .base_url = "http://127.0.0.1:5", .token = "ghp-9", .repo = "acme/sec"};
    struct receiver *r = NULL;
    struct kb_why why = {{0}};
    T_CHECKF(receiver_new(&c, &r, &why) == KB_OK, "%s", why.msg);
    return r;
}

static void job(struct tjob *t, const char *payload, const char *state, int attempt)
{
    memset(t, 0, sizeof *t);
    arena_init(&t->a, 1u << 20);
    buf_init(&t->text, 1u << 20);
    buf_puts(&t->text, payload);
    struct json_value *root = NULL;
    T_CHECK(json_parse(t->text.p, t->text.len, NULL, &t->a, &root, NULL) == KB_OK);
    t->state = state ? strdup(state) : NULL;
    t->job = (struct recv_job){.id = 9, .payload = root, .payload_text = t->text.p,
                               .state = t->state, .attempt = attempt};
}

static const struct json_value *expect(struct receiver *r, struct tjob *t, const char *method,
                                       const char *url)
{
    struct recv_request req;
    struct kb_why why;
    kb_err e = tbuild(r, t, 0, &req, &why);
    T_CHECKF(e == KB_OK, "%s %s: %s", method, url, why.msg);
    T_EQ_STR(req.method, method);
    T_EQ_STR(req.url, url);
    T_EQ_STR(treq_header(&req, "Authorization"), "Bearer ghp-9");
    struct json_value *v = NULL;
    if (req.body.p) {
        char *copy = arena_strndup(&ar, req.body.p, req.body.len);
        T_CHECK(json_parse(copy, req.body.len, NULL, &ar, &v, NULL) == KB_OK);
    }
    recv_request_release(&req);
    return v;
}

static void done(struct receiver *r, struct tjob *t)
{
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, t, 0, &req, &why), KB_ENOTFOUND);
    recv_request_release(&req);
}

static enum recv_outcome answer(struct receiver *r, struct tjob *t, long status, const char *body)
{
    struct recv_response resp = tresp(status, body);
    struct recv_result res;
    enum recv_outcome o = tresult(r, t, 0, &resp, &res);
    recv_result_release(&res);
    return o;
}

#define API "http://127.0.0.1:5"
#define INC "\"incident\":{\"id\":4,\"service\":\"payments\",\"title\":\"Card *declines*\"," \
            "\"level\":2,\"status\":\"declared\",\"drill\":false,\"temperature\":\"hot\","  \
            "\"declared\":\"2026-12-04T21:00:00Z\",\"summary\":\"5xx at 40%\"}"
#define SEARCH API "/search/issues?q=%22koban-incident%3A4%22%20repo%3Aacme%2Fsec%20is%3Aissue%20in%3Abody&per_page=20"

static const char *DECLARED = "{\"event\":\"incident\",\"op\":\"issue\"," INC ",\"text\":\"\"}";

static void test_issue(void)
{
    struct receiver *r = make();
    struct tjob t;
    job(&t, DECLARED, NULL, 1);
    expect(r, &t, "GET", SEARCH);
    /* another incident's marker does not count */
    T_EQ_INT(answer(r, &t, 200, "{\"items\":[{\"number\":3,\"body\":\"<!-- koban-incident:41 -->\"}]}"),
             RECV_NEXT);
    const struct json_value *b = expect(r, &t, "POST", API "/repos/acme/sec/issues");
    T_EQ_KSTR(tstr(b, "title"), "Incident #4: Card *declines*");
    T_EQ_KSTR(tstr(b, "labels.0"), "incident");
    T_EQ_KSTR(tstr(b, "labels.1"), "service:payments");
    T_EQ_KSTR(tstr(b, "labels.2"), "level:2");
    struct kb_str body = tstr(b, "body");
    T_CHECK(memmem(body.p, body.n, "<!-- koban-incident:4 -->", 25) != NULL);
    T_CHECK(memmem(body.p, body.n, "- **Level:** 2", 14) != NULL);
    T_CHECK(memmem(body.p, body.n, "- **Handler:** unassigned", 25) != NULL);
    T_CHECK(memmem(body.p, body.n, "- **Temperature:** hot", 22) != NULL);
    T_CHECK(memmem(body.p, body.n, "Card *declines*", 15) == NULL); /* escaped */
    /* a crash before the answer: the retry (a new attempt) searches first
     * and finds the issue instead of opening a second one */
    struct tjob again;
    job(&again, DECLARED, t.state, 2);
    expect(r, &again, "GET", SEARCH);
    T_EQ_INT(answer(r, &again, 200,
                    "{\"items\":[{\"number\":12,\"body\":\"x <!-- koban-incident:4 -->\"}]}"),
             RECV_NEXT);
    /* found, not created by this job: brought up to date (no comment: no text) */
    b = expect(r, &again, "PATCH", API "/repos/acme/sec/issues/12");
    T_EQ_KSTR(tstr(b, "labels.2"), "level:2");
    T_CHECK(!json_get(b, "state"));
    T_EQ_INT(answer(r, &again, 200, "{}"), RECV_DONE);
    done(r, &again);
    tjob_free(&again);
    /* the first attempt's answer: created, and nothing more */
    T_EQ_INT(answer(r, &t, 201, "{\"number\":12}"), RECV_DONE);
    T_EQ_STR(t.state, "{\"number\":12,\"job\":9,\"done\":2,\"searched\":1,\"new\":true}");
    done(r, &t);
    tjob_free(&t);

    /* a change: PATCH, then the comment */
    job(&t, "{\"event\":\"incident\",\"op\":\"issue\",\"incident\":{\"id\":4,\"service\":"
            "\"payments\",\"title\":\"t\",\"level\":1,\"status\":\"recovered\",\"drill\":true},"
            "\"text\":\"Status is now **recovered** (by alice).\"}",
        "{\"number\":12,\"job\":8,\"done\":2,\"new\":true}", 1);
    b = expect(r, &t, "PATCH", API "/repos/acme/sec/issues/12");
    T_EQ_KSTR(tstr(b, "title"), "[DRILL] Incident #4: t");
    T_EQ_KSTR(tstr(b, "labels.2"), "level:1");
    T_EQ_INT(answer(r, &t, 200, "{}"), RECV_NEXT);
    /* a rate limit on the comment: retried at the reset, from the comment */
    struct recv_response rl = tresp(403, "{\"message\":\"API rate limit exceeded\"}");
    rl.ratelimit_remaining = 0;
    rl.ratelimit_reset_ms = kb_now_ms() + 30000;
    struct recv_result res;
    b = expect(r, &t, "POST", API "/repos/acme/sec/issues/12/comments");
    T_EQ_KSTR(tstr(b, "body"), "Status is now **recovered** (by alice).");
    T_EQ_INT(tresult(r, &t, 0, &rl, &res), RECV_RETRY);
    T_CHECKF(res.retry_after_ms > 20000 && res.retry_after_ms <= 30000, "%lld",
             (long long)res.retry_after_ms);
    recv_result_release(&res);
    rl = tresp(429, "");
    rl.retry_after_ms = 7000;
    T_EQ_INT(tresult(r, &t, 0, &rl, &res), RECV_RETRY);
    T_EQ_INT(res.retry_after_ms, 7000);
    recv_result_release(&res);
    T_EQ_INT(answer(r, &t, 403, "{\"message\":\"Resource not accessible\"}"), RECV_FAIL);
    expect(r, &t, "POST", API "/repos/acme/sec/issues/12/comments");
    T_EQ_INT(answer(r, &t, 201, "{\"id\":1}"), RECV_DONE);
    done(r, &t);
    tjob_free(&t);

    /* cancelled: closed as not planned */
    job(&t, "{\"event\":\"incident\",\"op\":\"issue\",\"incident\":{\"id\":4,\"title\":\"t\","
            "\"level\":3,\"status\":\"cancelled\"},\"text\":\"Status is now **cancelled**.\"}",
        "{\"number\":12}", 1);
    b = expect(r, &t, "PATCH", API "/repos/acme/sec/issues/12");
    T_EQ_KSTR(tstr(b, "state"), "closed");
    T_EQ_KSTR(tstr(b, "state_reason"), "not_planned");
    tjob_free(&t);
    receiver_free(r);
}

static const char *PM = "{\"event\":\"incident\",\"op\":\"postmortem\"," INC
                        ",\"path\":\"postmortems/2026-12-04-incident-4.md\","
                        "\"markdown\":\"# Postmortem\\n\"}";

static void test_postmortem(void)
{
    struct receiver *r = make();
    struct tjob t;
    job(&t, PM, "{\"number\":12}", 1);
    expect(r, &t, "GET", API "/repos/acme/sec");
    T_EQ_INT(answer(r, &t, 200, "{\"default_branch\":\"trunk\"}"), RECV_NEXT);
    expect(r, &t, "GET", API "/repos/acme/sec/git/ref/heads/trunk");
    T_EQ_INT(answer(r, &t, 200, "{\"object\":{\"sha\":\"abc123\"}}"), RECV_NEXT);
    const struct json_value *b = expect(r, &t, "POST", API "/repos/acme/sec/git/refs");
    T_EQ_KSTR(tstr(b, "ref"), "refs/heads/koban/postmortem-4");
    T_EQ_KSTR(tstr(b, "sha"), "abc123");
    /* made by an earlier attempt: fine */
    T_EQ_INT(answer(r, &t, 422, "{\"message\":\"Reference already exists\"}"), RECV_NEXT);
    b = expect(r, &t, "PUT", API "/repos/acme/sec/contents/postmortems/2026-12-04-incident-4.md");
    T_EQ_KSTR(tstr(b, "content"), "IyBQb3N0bW9ydGVtCg==");
    T_EQ_KSTR(tstr(b, "branch"), "koban/postmortem-4");
    T_CHECK(!json_get(b, "sha"));
    /* the file is there already (a retry): its sha, then the update */
    T_EQ_INT(answer(r, &t, 422, "{\"message\":\"Invalid request.\\n\\n\\\"sha\\\" wasn't "
                                "supplied.\"}"),
             RECV_NEXT);
    expect(r, &t, "GET",
           API "/repos/acme/sec/contents/postmortems/2026-12-04-incident-4.md?ref=koban/"
               "postmortem-4");
    T_EQ_INT(answer(r, &t, 200, "{\"sha\":\"f00d\"}"), RECV_NEXT);
    b = expect(r, &t, "PUT", API "/repos/acme/sec/contents/postmortems/2026-12-04-incident-4.md");
    T_EQ_KSTR(tstr(b, "sha"), "f00d");
    T_EQ_INT(answer(r, &t, 200, "{\"content\":{}}"), RECV_NEXT);
    /* a crash here: the retry goes on with the pull request */
    struct tjob again;
    job(&again, PM, t.state, 2);
    b = expect(r, &again, "POST", API "/repos/acme/sec/pulls");
    tjob_free(&again);
    b = expect(r, &t, "POST", API "/repos/acme/sec/pulls");
    T_EQ_KSTR(tstr(b, "title"), "Postmortem: Incident #4: Card *declines*");
    T_EQ_KSTR(tstr(b, "head"), "koban/postmortem-4");
    T_EQ_KSTR(tstr(b, "base"), "trunk");
    struct kb_str body = tstr(b, "body");
    T_CHECK(body.n > 11 && memcmp(body.p, "Closes #12\n\n", 11) == 0);
    T_EQ_INT(answer(r, &t, 422, "{\"message\":\"Validation Failed\",\"errors\":[{\"message\":"
                                "\"A pull request already exists for acme:koban/postmortem-4.\"}]}"),
             RECV_NEXT);
    expect(r, &t, "GET",
           API "/repos/acme/sec/pulls?head=acme%3Akoban%2Fpostmortem-4&state=all");
    T_EQ_INT(answer(r, &t, 200, "[{\"number\":13}]"), RECV_DONE);
    done(r, &t);
    T_EQ_STR(t.state, "{\"number\":12,\"pr\":13,\"branch\":\"koban/postmortem-4\",\"base\":"
                      "\"trunk\",\"sha\":\"abc123\",\"committed\":1,\"job\":9,\"done\":0}");
    tjob_free(&t);

    /* no issue known: searched once, then the pull request without "Closes" */
    job(&t, PM, "{\"branch\":\"koban/postmortem-4\",\"base\":\"main\",\"committed\":1}", 1);
    expect(r, &t, "GET", SEARCH);
    T_EQ_INT(answer(r, &t, 200, "{\"items\":[]}"), RECV_NEXT);
    b = expect(r, &t, "POST", API "/repos/acme/sec/pulls");
    body = tstr(b, "body");
    T_CHECK(body.n > 6 && memcmp(body.p, "The postmortem", 14) == 0);
    T_EQ_INT(answer(r, &t, 500, "oops"), RECV_RETRY);
    T_EQ_INT(answer(r, &t, 0, ""), RECV_RETRY);
    T_EQ_INT(answer(r, &t, 201, "{\"number\":2}"), RECV_DONE);
    tjob_free(&t);

    /* a path that is not a plain relative path is refused */
    job(&t, "{\"event\":\"incident\",\"op\":\"postmortem\"," INC ",\"path\":\"../x.md\"}",
        "{\"number\":12}", 1);
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_EINVAL);
    recv_request_release(&req);
    tjob_free(&t);
    receiver_free(r);

    struct recv_config c = {.name = "gi", .type = "github_incident", .token = "t"};
    struct receiver *bad = NULL;
    T_EQ_INT(receiver_new(&c, &bad, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "repo is required") != NULL);
}

int main(void)
{
    T_RUN(test_issue);
    T_RUN(test_postmortem);
    arena_release(&ar);
    return t_done();
}
