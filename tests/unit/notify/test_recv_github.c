/* test_recv_github.c — the GitHub Issues receiver: search before create
 * (and again after a crash), recovery of a lost mapping by the marker,
 * comments with what changed, reopen and close, resumption after a failed
 * step, rate limits, hostile titles in markdown, the repo check. */
#include "notify/recv_internal.h"
#include "recv_testlib.h"
#include "test.h"

static struct arena ar = ARENA_INIT(16u << 20);

#define FP "0123456789abcdef0123456789abcdef"
#define MARKER "<!-- koban:fp=" FP " -->"

static const char *NOT_FOUND = "{\"total_count\":0,\"incomplete_results\":false,\"items\":[]}";

static struct receiver *make(void)
{
    struct recv_config c = {.name = "gh",
                            .type = "github",
                            .base_url = "http://127.0.0.1:7/",
                            .token = "ghp_x",
                            .repo = "acme/alerts",
                            .koban_url = "http://koban.example:8478"};
    struct receiver *r = NULL;
    struct kb_why why = {{0}};
    kb_err e = receiver_new(&c, &r, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    return r;
}

static void check_headers(const struct recv_request *req)
{
    T_EQ_STR(treq_header(req, "Authorization"), "Bearer ghp_x");
    T_EQ_STR(treq_header(req, "Accept"), "application/vnd.github+json");
    T_EQ_STR(treq_header(req, "X-GitHub-Api-Version"), "2022-11-28");
}

/* Builds the job's request at step; returns its body parsed into ar. */
static const struct json_value *step_req(struct receiver *r, struct tjob *t, int step,
                                         struct recv_request *req, const char *method,
                                         const char *url)
{
    struct kb_why why;
    kb_err e = tbuild(r, t, step, req, &why);
    T_CHECKF(e == KB_OK, "step %d: %s", step, why.msg);
    T_EQ_STR(req->method, method);
    T_EQ_STR(req->url, url);
    check_headers(req);
    arena_reset(&ar);
    return treq_json(req, &ar);
}

static void test_config(void)
{
    static const char *const bad[] = {"acme", "acme/", "/alerts", "a/b/c", "acme/al erts"};
    for (size_t i = 0; i < KB_ARRAY_LEN(bad); i++) {
        struct recv_config c = {.name = "gh", .type = "github", .token = "t", .repo = bad[i]};
        struct receiver *r = NULL;
        struct kb_why why = {{0}};
        T_EQ_INT(receiver_new(&c, &r, &why), KB_EINVAL);
        T_CHECKF(strstr(why.msg, "repo") != NULL, "%s", why.msg);
    }
    struct recv_config c = {.name = "gh", .type = "github", .repo = "a/b"};
    struct receiver *r = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(receiver_new(&c, &r, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "token is required") != NULL);
}

static void test_open_create(void)
{
    struct receiver *r = make();
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    struct recv_request req;
    step_req(r, &t, 0, &req, "GET",
             "http://127.0.0.1:7/search/issues?q=%22koban%3Afp%3D" FP
             "%22%20repo%3Aacme%2Falerts%20is%3Aissue%20in%3Abody&per_page=20");
    T_EQ_INT(req.body.len, 0);
    recv_request_release(&req);
    struct recv_response resp = tresp(200, NOT_FOUND);
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_NEXT);

    const struct json_value *b =
        step_req(r, &t, 1, &req, "POST", "http://127.0.0.1:7/repos/acme/alerts/issues");
    T_EQ_STR(treq_header(&req, "Content-Type"), "application/json");
    T_EQ_KSTR(tstr(b, "title"), is.title);
    struct kb_str body = tstr(b, "body");
    T_CHECK(body.p && memmem(body.p, body.n, MARKER, strlen(MARKER)) != NULL);
    T_CHECK(memmem(body.p, body.n, "- **Count:** 3", 14) != NULL);
    T_CHECK(memmem(body.p, body.n, "[Issue #7 in koban](http://koban.example:8478/v1/issues/7)",
                   58) != NULL);
    T_EQ_KSTR(tstr(b, "labels.0"), "severity:high");
    T_EQ_KSTR(tstr(b, "labels.1"), "source:guardduty");
    recv_request_release(&req);
    resp = tresp(201, "{\"number\":42,\"html_url\":\"https://github.com/acme/alerts/issues/42\"}");
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_DONE);
    arena_reset(&ar);
    struct json_value *st = NULL;
    T_CHECK(json_parse(t.state, strlen(t.state), NULL, &ar, &st, NULL) == KB_OK);
    T_EQ_INT(recv_state_int(st, "number", 0), 42);
    T_EQ_INT(recv_state_int(st, "count", 0), 3);
    /* done: nothing more to send */
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 2, &req, &why), KB_ENOTFOUND);
    recv_request_release(&req);
    tjob_free(&t);
    receiver_free(r);
}

static void test_crash_during_create(void)
{
    struct receiver *r = make();
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    struct recv_response resp = tresp(200, NOT_FOUND);
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_NEXT);
    /* the create was sent, then koban died; the job is claimed again
     * (attempt 2) and resumes at step 1: it searches first */
    t.job.attempt = 2;
    struct recv_request req;
    step_req(r, &t, 1, &req, "GET",
             "http://127.0.0.1:7/search/issues?q=%22koban%3Afp%3D" FP
             "%22%20repo%3Aacme%2Falerts%20is%3Aissue%20in%3Abody&per_page=20");
    recv_request_release(&req);
    /* found: items without the exact marker and pull requests are skipped,
     * the lowest number carrying it wins */
    resp = tresp(200, "{\"total_count\":4,\"items\":["
                      "{\"number\":3,\"body\":\"mentions koban:fp=" FP " only\"},"
                      "{\"number\":2,\"body\":\"" MARKER "\",\"pull_request\":{}},"
                      "{\"number\":19,\"body\":\"x\\n" MARKER "\\n\"},"
                      "{\"number\":17,\"body\":\"" MARKER "\"}]}");
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_DONE);
    T_CHECK(strstr(t.state, "\"number\":17") != NULL);
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 2, &req, &why), KB_ENOTFOUND);
    recv_request_release(&req);
    tjob_free(&t);

    /* a create answered without a number: retried, and the retry searches */
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    resp = tresp(200, NOT_FOUND);
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_NEXT);
    resp = tresp(201, "{}");
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_RETRY);
    t.job.attempt = 2;
    step_req(r, &t, 1, &req, "GET",
             "http://127.0.0.1:7/search/issues?q=%22koban%3Afp%3D" FP
             "%22%20repo%3Aacme%2Falerts%20is%3Aissue%20in%3Abody&per_page=20");
    recv_request_release(&req);
    tjob_free(&t);
    receiver_free(r);
}

/* A create went out and its answer was lost (koban killed): for a while
 * GitHub's search may not show the new issue yet, so a retry that finds
 * nothing waits instead of creating a second one. */
static void test_create_in_flight_waits(void)
{
    struct receiver *r = make();
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    struct recv_response resp = tresp(200, NOT_FOUND);
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_NEXT);
    T_CHECKF(t.state && strstr(t.state, "\"creating\":") != NULL, "%s", t.state);
    t.job.attempt = 2; /* claimed again after the crash: searches first */
    struct recv_request req;
    step_req(r, &t, 1, &req, "GET",
             "http://127.0.0.1:7/search/issues?q=%22koban%3Afp%3D" FP
             "%22%20repo%3Aacme%2Falerts%20is%3Aissue%20in%3Abody&per_page=20");
    recv_request_release(&req);
    resp = tresp(200, NOT_FOUND);
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_RETRY);
    T_CHECKF(res.retry_after_ms > 0 && res.retry_after_ms <= 10000, "%lld",
             (long long)res.retry_after_ms);
    tjob_free(&t);
    receiver_free(r);
}

static void test_repeated_comment(void)
{
    struct receiver *r = make();
    struct tissue is = tissue_default();
    is.count = 10;
    struct tjob t;
    tjob_init(&t, "repeated", &is, NULL, NULL, "{\"number\":42,\"count\":3,\"job\":9,\"done\":2}");
    struct recv_request req;
    const struct json_value *b =
        step_req(r, &t, 0, &req, "POST", "http://127.0.0.1:7/repos/acme/alerts/issues/42/comments");
    T_EQ_KSTR(tstr(b, "body"), "**Repeated:** seen 10 times (+7 since the last report); last "
                               "seen 2026-11-20T11:00:00.000Z.\n");
    recv_request_release(&req);
    struct recv_response resp = tresp(201, "{\"id\":1}");
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_DONE);
    T_CHECK(strstr(t.state, "\"number\":42,\"count\":10") != NULL);
    tjob_free(&t);

    /* the mapping was lost: search finds the issue, then the comment */
    tjob_init(&t, "repeated", &is, NULL, NULL, NULL);
    resp = tresp(200, "{\"total_count\":1,\"items\":[{\"number\":8,\"body\":\"" MARKER "\"}]}");
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_NEXT);
    b = step_req(r, &t, 1, &req, "POST", "http://127.0.0.1:7/repos/acme/alerts/issues/8/comments");
    T_EQ_KSTR(tstr(b, "body"),
              "**Repeated:** seen 10 times; last seen 2026-11-20T11:00:00.000Z.\n");
    recv_request_release(&req);
    tjob_free(&t);

    /* not found at all: created, and no comment after it */
    tjob_init(&t, "repeated", &is, NULL, NULL, NULL);
    resp = tresp(200, NOT_FOUND);
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_NEXT);
    step_req(r, &t, 1, &req, "POST", "http://127.0.0.1:7/repos/acme/alerts/issues");
    recv_request_release(&req);
    resp = tresp(201, "{\"number\":50}");
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_DONE);
    tjob_free(&t);
    receiver_free(r);
}

static void test_reopen_and_close(void)
{
    struct receiver *r = make();
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "reopened", &is, "recurred", NULL, "{\"number\":42,\"count\":3}");
    struct recv_request req;
    const struct json_value *b =
        step_req(r, &t, 0, &req, "PATCH", "http://127.0.0.1:7/repos/acme/alerts/issues/42");
    T_EQ_KSTR(tstr(b, "state"), "open");
    T_EQ_KSTR(tstr(b, "state_reason"), "reopened");
    recv_request_release(&req);
    struct recv_response resp = tresp(200, "{\"number\":42}");
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_NEXT);
    b = step_req(r, &t, 1, &req, "POST", "http://127.0.0.1:7/repos/acme/alerts/issues/42/comments");
    T_CHECK(memmem(tstr(b, "body").p, tstr(b, "body").n, "**Reopened**: recurred.", 23) != NULL);
    recv_request_release(&req);
    resp = tresp(201, "{}");
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_DONE);
    tjob_free(&t);

    /* closed: the comment with the reason, then the close; the close fails
     * once, and the retry resumes at the close (no second comment) */
    tjob_init(&t, "closed", &is, "remediated: <b>@ops</b>", NULL, "{\"number\":42,\"count\":3}");
    b = step_req(r, &t, 0, &req, "POST", "http://127.0.0.1:7/repos/acme/alerts/issues/42/comments");
    T_EQ_KSTR(tstr(b, "body"), "**Closed**: remediated: &lt;b&gt;@\xE2\x81\xA0ops&lt;/b&gt;.\n");
    recv_request_release(&req);
    resp = tresp(201, "{}");
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_NEXT);
    b = step_req(r, &t, 1, &req, "PATCH", "http://127.0.0.1:7/repos/acme/alerts/issues/42");
    T_EQ_KSTR(tstr(b, "state"), "closed");
    T_EQ_KSTR(tstr(b, "state_reason"), "completed");
    recv_request_release(&req);
    resp = tresp(502, "bad gateway");
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_RETRY);
    t.job.attempt = 2;
    b = step_req(r, &t, 1, &req, "PATCH", "http://127.0.0.1:7/repos/acme/alerts/issues/42");
    T_EQ_KSTR(tstr(b, "state"), "closed");
    recv_request_release(&req);
    resp = tresp(200, "{}");
    T_EQ_INT(tresult(r, &t, 1, &resp, &res), RECV_DONE);
    tjob_free(&t);

    /* closed with no GitHub issue anywhere: search, then nothing */
    tjob_init(&t, "closed", &is, "x", NULL, NULL);
    resp = tresp(200, NOT_FOUND);
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_DONE);
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 1, &req, &why), KB_ENOTFOUND);
    recv_request_release(&req);
    tjob_free(&t);

    /* test: checks the repo */
    tjob_init(&t, "test", &is, NULL, NULL, NULL);
    step_req(r, &t, 0, &req, "GET", "http://127.0.0.1:7/repos/acme/alerts");
    recv_request_release(&req);
    resp = tresp(200, "{\"full_name\":\"acme/alerts\"}");
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_DONE);
    T_CHECK(t.state == NULL);
    tjob_free(&t);
    receiver_free(r);
}

static void test_limits_and_failures(void)
{
    struct receiver *r = make();
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "repeated", &is, NULL, NULL, "{\"number\":42}");
    struct recv_result res;
    /* 403 with the rate limit used up: retry at x-ratelimit-reset */
    struct recv_response resp = tresp(403, "{\"message\":\"API rate limit exceeded\"}");
    resp.ratelimit_remaining = 0;
    resp.ratelimit_reset_ms = kb_now_ms() + 120000;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    T_CHECKF(res.retry_after_ms > 100000 && res.retry_after_ms <= 120000, "%lld",
             (long long)res.retry_after_ms);
    /* Retry-After wins */
    resp = tresp(403, "{\"message\":\"You have exceeded a secondary rate limit\"}");
    resp.retry_after_ms = 5000;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    T_EQ_INT(res.retry_after_ms, 5000);
    /* a secondary limit without headers, and 429: at least a minute */
    resp = tresp(403, "{\"message\":\"You have exceeded a secondary rate limit\"}");
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    T_EQ_INT(res.retry_after_ms, 60000);
    resp = tresp(429, "");
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    T_EQ_INT(res.retry_after_ms, 60000);
    /* a plain 403 (no access), and what can never succeed */
    static const long fail[] = {403, 401, 404, 410, 422, 400};
    for (size_t i = 0; i < KB_ARRAY_LEN(fail); i++) {
        resp = tresp(fail[i], "{\"message\":\"Validation Failed\"}");
        resp.ratelimit_remaining = 4000;
        T_CHECKF(tresult(r, &t, 0, &resp, &res) == RECV_FAIL, "HTTP %ld", fail[i]);
    }
    static const long retry[] = {500, 502, 503, 408, 0};
    for (size_t i = 0; i < KB_ARRAY_LEN(retry); i++) {
        resp = tresp(retry[i], "");
        T_CHECKF(tresult(r, &t, 0, &resp, &res) == RECV_RETRY, "HTTP %ld", retry[i]);
    }
    T_EQ_STR(t.state, "{\"number\":42}"); /* failures change nothing */
    tjob_free(&t);
    /* an unreadable search answer is retried */
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    resp = tresp(200, "{\"items\":[{\"number\":1,");
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    tjob_free(&t);
    /* no usable fingerprint: never sendable */
    is.fingerprint = "NOT-HEX\"q";
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_EINVAL);
    recv_request_release(&req);
    tjob_free(&t);
    /* events with no plan */
    is = tissue_default();
    tjob_init(&t, "bogus", &is, NULL, NULL, NULL);
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_ENOTFOUND);
    recv_request_release(&req);
    tjob_free(&t);
    receiver_free(r);
}

static void test_hostile_markdown(void)
{
    struct receiver *r = make();
    struct tissue is = tissue_default();
    is.title = "<script>alert(1)</script> @team *bold* </details> #1";
    is.resource = "a`b";
    is.annotations = "[{\"text\":\"see <img src=x> @here\",\"link\":\"javascript:alert(1)\"}]";
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, "{\"job\":501,\"searched\":1}");
    struct recv_request req;
    const struct json_value *b =
        step_req(r, &t, 0, &req, "POST", "http://127.0.0.1:7/repos/acme/alerts/issues");
    T_EQ_KSTR(tstr(b, "title"), is.title); /* titles are plain text */
    struct kb_str body = tstr(b, "body");
    char *s = kb_strndup(body.p, body.n);
    T_CHECK(strstr(s, "**&lt;script&gt;alert(1)&lt;/script&gt; @\xE2\x81\xA0team \\*bold\\* "
                      "&lt;/details&gt; #\xE2\x81\xA0"
                      "1**") != NULL);
    T_CHECK(strstr(s, "<script>") == NULL && strstr(s, "@team") == NULL &&
            strstr(s, "@here") == NULL && strstr(s, "<img") == NULL);
    T_CHECK(strstr(s, "javascript:") == NULL);
    T_CHECK(strstr(s, "- **Resource:** ``a`b``") != NULL);
    /* one </details>: the template's own */
    T_CHECK(strstr(strstr(s, "</details>") + 1, "</details>") == NULL);
    free(s);
    recv_request_release(&req);
    tjob_free(&t);
    receiver_free(r);
}

int main(void)
{
    T_RUN(test_config);
    T_RUN(test_open_create);
    T_RUN(test_crash_during_create);
    T_RUN(test_create_in_flight_waits);
    T_RUN(test_repeated_comment);
    T_RUN(test_reopen_and_close);
    T_RUN(test_limits_and_failures);
    T_RUN(test_hostile_markdown);
    arena_release(&ar);
    return t_done();
}
