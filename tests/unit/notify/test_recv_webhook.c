/* test_recv_webhook.c — the generic webhook receiver: HMAC-SHA256 against
 * RFC 4231 vectors, the signed request (body, headers, delivery id), and
 * the outcome of every kind of answer. */
#include "notify/recv_internal.h"
#include "recv_testlib.h"
#include "test.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

static struct arena ar = ARENA_INIT(16u << 20);

static void test_hmac_vectors(void)
{
    char hex[65];
    /* RFC 4231, test case 2 */
    const char *data = "what do ya want for nothing?";
    T_EQ_INT(recv_webhook_sign("Jefe", 4, data, strlen(data), hex), KB_OK);
    T_EQ_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 4231, test case 1 */
    unsigned char key[20];
    memset(key, 0x0b, sizeof key);
    T_EQ_INT(recv_webhook_sign(key, sizeof key, "Hi There", 8, hex), KB_OK);
    T_EQ_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static struct receiver *make(const char *url, const char *token, kb_err want, const char *needle)
{
    struct recv_config c = {.name = "hook",
                            .type = "webhook",
                            .url = url,
                            .token = token,
                            .koban_url = "http://koban.example:8478"};
    struct receiver *r = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(receiver_new(&c, &r, &why), want);
    if (needle)
        T_CHECKF(strstr(why.msg, needle) != NULL, "%s", why.msg);
    return r;
}

static void test_config(void)
{
    make(NULL, "s", KB_EINVAL, "url is required");
    make("ftp://x", "s", KB_EINVAL, "url: not an http(s) URL");
    make("https://hooks.example/in", NULL, KB_EINVAL, "token is required");
    struct recv_config c = {.name = "x", .type = "carrier-pigeon"};
    struct receiver *r = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(receiver_new(&c, &r, &why), KB_EINVAL);
    T_CHECK(strstr(why.msg, "unknown type") != NULL);
}

static void test_request(void)
{
    struct receiver *r = make("https://hooks.example/in/", "s3cret", KB_OK, NULL);
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "closed", &is, "fixed by policy", "http://ui/7", "{\"x\":1}");
    struct recv_request req;
    struct kb_why why;
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_OK);
    T_EQ_STR(req.method, "POST");
    T_EQ_STR(req.url, "https://hooks.example/in/"); /* used as given */
    T_EQ_STR(treq_header(&req, "Content-Type"), "application/json");
    T_EQ_STR(treq_header(&req, "X-Koban-Event"), "closed");
    T_EQ_STR(treq_header(&req, "X-Koban-Delivery"), "501");
    /* the signature, computed here with OpenSSL directly */
    unsigned char md[32];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), "s3cret", 6, (const unsigned char *)req.body.p, req.body.len, md, &mdlen);
    char want[80] = "sha256=";
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
    T_EQ_STR(treq_header(&req, "X-Koban-Signature"), want);
    /* the body: the payload plus receiver and job_id */
    arena_reset(&ar);
    const struct json_value *b = treq_json(&req, &ar);
    T_CHECK(b != NULL);
    T_EQ_KSTR(tstr(b, "receiver"), "hook");
    int64_t id = 0;
    T_CHECK(json_as_int(json_get(b, "job_id"), &id) && id == 501);
    T_EQ_KSTR(tstr(b, "event"), "closed");
    T_EQ_KSTR(tstr(b, "reason"), "fixed by policy");
    T_EQ_KSTR(tstr(b, "url"), "http://ui/7");
    T_EQ_KSTR(tstr(b, "issue.title"), is.title);
    T_EQ_KSTR(tstr(b, "issue.annotations.0.link"), "https://wiki.example/ssh");
    T_CHECK(json_as_int(json_path(b, "issue.count"), &id) && id == 3);
    recv_request_release(&req);
    T_EQ_INT(tbuild(r, &t, 1, &req, &why), KB_ENOTFOUND);
    recv_request_release(&req);
    tjob_free(&t);

    /* a payload's own "receiver" is replaced, and a hostile event name
     * cannot add a header */
    tjob_init(&t, "opened\r\nX-Evil: 1", &is, NULL, NULL, NULL);
    T_EQ_INT(tbuild(r, &t, 0, &req, &why), KB_OK);
    T_EQ_STR(treq_header(&req, "X-Koban-Event"), "unknown");
    T_CHECK(treq_header(&req, "X-Evil") == NULL);
    for (size_t i = 0; i < req.nheaders; i++)
        T_CHECK(strpbrk(req.headers[i], "\r\n") == NULL);
    recv_request_release(&req);
    tjob_free(&t);
    receiver_free(r);
}

static void test_outcomes(void)
{
    struct receiver *r = make("http://127.0.0.1:9/hook", "k", KB_OK, NULL);
    struct tissue is = tissue_default();
    struct tjob t;
    tjob_init(&t, "opened", &is, NULL, NULL, NULL);
    static const struct {
        long status;
        enum recv_outcome want;
    } cases[] = {
        {200, RECV_DONE},  {202, RECV_DONE},  {204, RECV_DONE},  {0, RECV_RETRY},
        {408, RECV_RETRY}, {429, RECV_RETRY}, {500, RECV_RETRY}, {503, RECV_RETRY},
        {301, RECV_FAIL},  {400, RECV_FAIL},  {401, RECV_FAIL},  {404, RECV_FAIL},
        {410, RECV_FAIL},  {422, RECV_FAIL},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        struct recv_response resp = tresp(cases[i].status, "nope");
        struct recv_result res;
        T_CHECKF(tresult(r, &t, 0, &resp, &res) == cases[i].want, "HTTP %ld", cases[i].status);
        T_CHECK(t.state == NULL); /* no state, ever */
    }
    struct recv_response resp = tresp(429, "");
    resp.retry_after_ms = 5000;
    struct recv_result res;
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    T_EQ_INT(res.retry_after_ms, 5000);
    resp = tresp(0, NULL);
    T_EQ_INT(tresult(r, &t, 0, &resp, &res), RECV_RETRY);
    T_CHECK(strstr(res.reason, "connection refused") != NULL);
    tjob_free(&t);
    receiver_free(r);
}

int main(void)
{
    T_RUN(test_hmac_vectors);
    T_RUN(test_config);
    T_RUN(test_request);
    T_RUN(test_outcomes);
    arena_release(&ar);
    return t_done();
}
