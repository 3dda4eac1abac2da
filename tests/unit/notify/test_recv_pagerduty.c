/* test_recv_pagerduty.c — the PagerDuty Events v2 receiver: which action
 * each event sends, the trigger's body (dedup_key, severity mapping,
 * summary bound, details, links), events it declines, and outcomes. */
#include "notify/recv_internal.h"
#include "recv_testlib.h"
#include "test.h"

static struct arena ar = ARENA_INIT(16u << 20);

static struct receiver *make(const char *base, const char *tdir)
{
    struct recv_config c = {.name = "pd",
                            .type = "pagerduty",
                            .base_url = base,
                            .token = "R0UTINGKEY",
                            .koban_url = "http://koban.example:8478/",
                            .templates_dir = tdir};
    struct receiver *r = NULL;
    struct kb_why why = {{0}};
    kb_err e = receiver_new(&c, &r, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    return r;
}

/* Builds step 0 of event for is; the body parsed into ar (NULL: declined). */
static const struct json_value *build(struct receiver *r, const char *event,
                                      const struct tissue *is, struct recv_request *req,
                                      kb_err want)
{
    struct tjob t;
    tjob_init(&t, event, is, "the reason", NULL, NULL);
    struct kb_why why;
    T_CHECKF(tbuild(r, &t, 0, req, &why) == want, "event %s: %s", event, why.msg);
    arena_reset(&ar);
    const struct json_value *b = want == KB_OK ? treq_json(req, &ar) : NULL;
    tjob_free(&t);
    return b;
}

static void test_trigger(void)
{
    struct receiver *r = make(NULL, NULL);
    struct tissue is = tissue_default();
    struct recv_request req;
    const struct json_value *b = build(r, "opened", &is, &req, KB_OK);
    T_CHECK(b != NULL);
    T_EQ_STR(req.method, "POST");
    T_EQ_STR(req.url, "https://events.pagerduty.com/v2/enqueue");
    T_EQ_STR(treq_header(&req, "Content-Type"), "application/json");
    T_EQ_KSTR(tstr(b, "routing_key"), "R0UTINGKEY");
    T_EQ_KSTR(tstr(b, "event_action"), "trigger");
    T_EQ_KSTR(tstr(b, "dedup_key"), is.fingerprint);
    T_EQ_KSTR(tstr(b, "payload.summary"),
              "[high] SSH brute force against i-0abc on i-0abc (account 111122223333)");
    T_EQ_KSTR(tstr(b, "payload.severity"), "error");
    T_EQ_KSTR(tstr(b, "payload.source"), "i-0abc");
    T_EQ_KSTR(tstr(b, "payload.component"), "guardduty");
    T_EQ_KSTR(tstr(b, "payload.group"), "111122223333");
    T_EQ_KSTR(tstr(b, "payload.class"), is.kind);
    T_EQ_KSTR(tstr(b, "payload.timestamp"), is.last_seen);
    int64_t n = 0;
    T_CHECK(json_as_int(json_path(b, "payload.custom_details.count"), &n) && n == 3);
    T_CHECK(json_as_int(json_path(b, "payload.custom_details.koban_issue"), &n) && n == 7);
    T_EQ_KSTR(tstr(b, "payload.custom_details.labels.team"), "infra");
    T_EQ_KSTR(tstr(b, "payload.custom_details.actor.ip"), "198.51.100.7");
    T_EQ_KSTR(tstr(b, "payload.custom_details.reason"), "the reason");
    T_EQ_KSTR(tstr(b, "links.0.href"), "http://koban.example:8478/v1/issues/7");
    T_EQ_KSTR(tstr(b, "links.1.href"), "https://wiki.example/ssh");
    T_EQ_KSTR(tstr(b, "links.1.text"), "Runbook");
    T_CHECK(json_path(b, "links.2") == NULL); /* the annotation without a link */
    T_EQ_KSTR(tstr(b, "client_url"), "http://koban.example:8478/v1/issues/7");
    recv_request_release(&req);

    /* every event that triggers, and the others */
    static const char *const triggers[] = {"opened", "reopened", "repeated", "reminder"};
    for (size_t i = 0; i < KB_ARRAY_LEN(triggers); i++) {
        b = build(r, triggers[i], &is, &req, KB_OK);
        T_EQ_KSTR(tstr(b, "event_action"), "trigger");
        recv_request_release(&req);
    }
    b = build(r, "acknowledged", &is, &req, KB_OK);
    T_EQ_KSTR(tstr(b, "event_action"), "acknowledge");
    T_EQ_KSTR(tstr(b, "dedup_key"), is.fingerprint);
    T_CHECK(json_get(b, "payload") == NULL);
    recv_request_release(&req);
    b = build(r, "closed", &is, &req, KB_OK);
    T_EQ_KSTR(tstr(b, "event_action"), "resolve");
    T_EQ_KSTR(tstr(b, "routing_key"), "R0UTINGKEY");
    recv_request_release(&req);
    static const char *const declined[] = {"flood_started", "flood_ended", "test", "bogus"};
    for (size_t i = 0; i < KB_ARRAY_LEN(declined); i++) {
        build(r, declined[i], &is, &req, KB_ENOTFOUND);
        recv_request_release(&req);
    }
    /* one request per job */
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 1, &req, &why), KB_ENOTFOUND);
    recv_request_release(&req);
    tjob_free(&t);
    /* no fingerprint: can never be sent */
    is.fingerprint = NULL;
    build(r, "opened", &is, &req, KB_EINVAL);
    recv_request_release(&req);
    receiver_free(r);
}

static void test_severity_and_bounds(void)
{
    struct receiver *r = make("http://127.0.0.1:1234/", NULL);
    static const char *const map[][2] = {{"critical", "critical"}, {"high", "error"},
                                         {"medium", "warning"},    {"low", "info"},
                                         {"none", "info"},         {"weird", "info"}};
    struct tissue is = tissue_default();
    struct recv_request req;
    for (size_t i = 0; i < KB_ARRAY_LEN(map); i++) {
        is.severity = map[i][0];
        const struct json_value *b = build(r, "opened", &is, &req, KB_OK);
        T_EQ_KSTR(tstr(b, "payload.severity"), map[i][1]);
        T_EQ_STR(req.url, "http://127.0.0.1:1234/v2/enqueue");
        recv_request_release(&req);
    }
    /* a huge title: the summary stays within PagerDuty's 1,024 characters */
    char *title = malloc(5001);
    memset(title, 'A', 5000);
    title[5000] = '\0';
    is.title = title;
    is.resource = NULL;
    const struct json_value *b = build(r, "opened", &is, &req, KB_OK);
    struct kb_str s = tstr(b, "payload.summary");
    T_CHECK(s.n > 1000 && s.n <= 1024 + 2);
    T_CHECK(s.n >= 3 && memcmp(s.p + s.n - 3, "\xE2\x80\xA6", 3) == 0);
    T_EQ_KSTR(tstr(b, "payload.source"), "111122223333"); /* no resource: the account */
    recv_request_release(&req);
    free(title);
    receiver_free(r);
}

static void test_outcomes(void)
{
    struct receiver *r = make(NULL, NULL);
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    static const struct {
        long status;
        enum recv_outcome want;
    } cases[] = {
        {202, RECV_DONE},  {200, RECV_DONE},  {400, RECV_FAIL}, {401, RECV_FAIL},
        {403, RECV_FAIL},  {404, RECV_FAIL},  {413, RECV_FAIL}, {429, RECV_RETRY},
        {500, RECV_RETRY}, {502, RECV_RETRY}, {0, RECV_RETRY},  {408, RECV_RETRY},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        struct recv_response resp = tresp(
            cases[i].status, "{\"status\":\"invalid event\",\"message\":\"Event object is "
                             "invalid\",\"errors\":[\"Length of 'routing_key' is incorrect\"]}");
        struct recv_result res;
        T_CHECKF(tresult(r, &t, 0, &resp, &res) == cases[i].want, "HTTP %ld", cases[i].status);
        T_CHECK(t.state == NULL);
        if (cases[i].status == 400)
            T_CHECK(strstr(res.reason, "HTTP 400") && strstr(res.reason, "routing_key"));
    }
    struct recv_response resp = tresp(429, "");
    resp.retry_after_ms = 12000;
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    T_EQ_INT(res.retry_after_ms, 12000);
    tjob_free(&t);
    receiver_free(r);
}

static void test_template_override(void)
{
    char dir[64];
    tdir_make(dir, sizeof dir);
    tdir_write(dir, "pagerduty.summary.tmpl", "koban {{issue.id}}: {{issue.title}}\n");
    struct receiver *r = make(NULL, dir);
    struct tissue is = tissue_default();
    struct recv_request req;
    const struct json_value *b = build(r, "opened", &is, &req, KB_OK);
    T_EQ_KSTR(tstr(b, "payload.summary"), "koban 7: SSH brute force against i-0abc\n");
    recv_request_release(&req);
    receiver_free(r);
    /* broken: receiver_new fails with file:line */
    tdir_write(dir, "pagerduty.summary.tmpl", "ok\n\n{{issue.title|shout}}\n");
    struct recv_config c = {.name = "pd", .type = "pagerduty", .token = "k", .templates_dir = dir};
    struct kb_why why = {{0}};
    T_EQ_INT(receiver_new(&c, &r, &why), KB_EPARSE);
    char want[160];
    snprintf(want, sizeof want, "%s/pagerduty.summary.tmpl:3: unknown filter", dir);
    T_CHECKF(strncmp(why.msg, want, strlen(want)) == 0, "%s", why.msg);
    static const char *const names[] = {"pagerduty.summary.tmpl"};
    tdir_remove(dir, names, 1);
}

int main(void)
{
    T_RUN(test_trigger);
    T_RUN(test_severity_and_bounds);
    T_RUN(test_outcomes);
    T_RUN(test_template_override);
    arena_release(&ar);
    return t_done();
}
