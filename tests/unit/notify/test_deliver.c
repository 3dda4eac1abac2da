/* test_deliver.c — the delivery worker against a real HTTP server on
 * 127.0.0.1 (tests/integration/fakesaas.py, started as a process), with
 * test receivers: order, Retry-After, 5xx, 4xx, timeouts, per-issue state,
 * a bounded stop; and the HTTP client's header parsing and body limit. */
#include "lib/arena.h"
#include "lib/json.h"
#include "notify/deliver.h"
#include "notify/http_client.h"
#include "store/db_outbox.h"
#include "test.h"

#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char g_dir[256];
static char g_db[300];
static char g_base[64];
static pid_t g_fake = -1;
static struct http_client *g_http; /* the test's own client, for the fake's controls */

/* ---- the fake server ---------------------------------------------------- */

static bool fake_start(void)
{
    char script[600], portfile[320];
    snprintf(script, sizeof script, "%s/tests/integration/fakesaas.py", KOBAN_SOURCE_DIR);
    snprintf(portfile, sizeof portfile, "%s/fake.port", g_dir);
    char *argv[] = {"python3", script, "--port-file", portfile, "--max-seconds", "300", NULL};
    if (posix_spawnp(&g_fake, "python3", NULL, NULL, argv, environ) != 0) {
        g_fake = -1;
        return false;
    }
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        FILE *f = fopen(portfile, "r");
        int port = 0;
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port > 0) {
            snprintf(g_base, sizeof g_base, "http://127.0.0.1:%d", port);
            return true;
        }
        if (waitpid(g_fake, NULL, WNOHANG) == g_fake) {
            g_fake = -1;
            return false;
        }
        usleep(50000);
    }
    return false;
}

static void fake_stop(void)
{
    if (g_fake > 0) {
        kill(g_fake, SIGTERM);
        waitpid(g_fake, NULL, 0);
        g_fake = -1;
    }
}

/* One control call; the answer's body is copied into out (may be NULL). */
static long fake_call(const char *method, const char *path, const char *body, struct buf *out)
{
    struct recv_request req = {.body = BUF_INIT(1 << 20)};
    snprintf(req.method, sizeof req.method, "%s", method);
    snprintf(req.url, sizeof req.url, "%s%s", g_base, path);
    recv_request_header(&req, "Content-Type: application/json");
    if (body)
        buf_puts(&req.body, body);
    struct recv_response resp;
    http_client_send(g_http, &req, &resp, NULL);
    recv_request_release(&req);
    if (out) {
        buf_reset(out);
        buf_append(out, resp.body.p ? resp.body.p : "", resp.body.n);
    }
    return resp.status;
}

static void fake_script(const char *path, const char *kind, int times, int hang_ms,
                        const char *retry_after)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"path\":\"%s\",\"kind\":\"%s\",\"times\":%d,\"hang_ms\":%d,\"retry_after\":\"%s\"}",
             path, kind, times, hang_ms, retry_after ? retry_after : "1");
    T_EQ_INT(fake_call("POST", "/_fake/script", body, NULL), 200);
}

/* The requests the fake received on path, parsed into a. */
struct reqs {
    struct buf raw;
    struct arena a;
    const struct json_value *list; /* array of request objects */
    size_t n;
};

static void reqs_get(struct reqs *r, const char *path)
{
    buf_reset(&r->raw);
    arena_reset(&r->a);
    r->list = NULL;
    r->n = 0;
    char p[256];
    snprintf(p, sizeof p, "/_fake/requests?path=%s", path);
    T_EQ_INT(fake_call("GET", p, NULL, &r->raw), 200);
    struct json_value *root;
    if (json_parse(r->raw.p, r->raw.len, NULL, &r->a, &root, NULL) == KB_OK) {
        r->list = json_get(root, "requests");
        r->n = r->list ? r->list->len : 0;
    }
}

static const struct json_value *reqs_at(const struct reqs *r, size_t i)
{
    const struct json_value *v = r->list ? r->list->u.child : NULL;
    for (; v && i; i--)
        v = v->next;
    return v;
}

/* Parses request i's body (a job payload) and returns its field key. */
static int64_t reqs_body_int(struct reqs *r, size_t i, const char *key)
{
    struct kb_str body = json_str(json_get(reqs_at(r, i), "body"));
    struct json_value *root;
    int64_t v = -1;
    if (body.p && json_parse(body.p, body.n, NULL, &r->a, &root, NULL) == KB_OK)
        json_as_int(json_path(root, key), &v);
    return v;
}

static double reqs_time(const struct reqs *r, size_t i)
{
    double t = 0;
    json_as_double(json_get(reqs_at(r, i), "t"), &t);
    return t;
}

static void reqs_release(struct reqs *r)
{
    buf_release(&r->raw);
    arena_release(&r->a);
}

/* ---- test receivers ------------------------------------------------------ */

struct tctx {
    char path[64];
    atomic_int state_seen_saved; /* step 1 found step 0's state in the store */
    atomic_int state_wrong;
};

/* "seq": one POST of the payload to path; 2xx done, 429/5xx/none retry,
 * other 4xx fail. */
static kb_err seq_build(const struct receiver *r, const struct recv_job *job, int step,
                        struct recv_request *req, struct kb_why *why)
{
    struct tctx *c = receiver_ctx(r);
    if (step > 0)
        return KB_ENOTFOUND;
    snprintf(req->method, sizeof req->method, "POST");
    snprintf(req->url, sizeof req->url, "%s%s", g_base, c->path);
    recv_request_header(req, "Content-Type: application/json");
    return buf_puts(&req->body, job->payload_text);
}

static void seq_result(const struct receiver *r, const struct recv_job *job, int step,
                       const struct recv_response *resp, struct recv_result *out)
{
    if (resp->status >= 200 && resp->status < 300) {
        out->outcome = RECV_DONE;
    } else if (resp->status == 0 || resp->status == 429 || resp->status >= 500) {
        out->outcome = RECV_RETRY;
        out->retry_after_ms = resp->retry_after_ms;
        snprintf(out->reason, sizeof out->reason, "HTTP %ld %s", resp->status,
                 resp->err ? resp->err : "");
    } else {
        out->outcome = RECV_FAIL;
        snprintf(out->reason, sizeof out->reason, "HTTP %ld: %.*s", resp->status,
                 (int)KB_MIN(resp->body.n, 100), resp->body.p);
    }
}

static const struct recv_ops seq_ops = {
    .type = "test-seq", .build = seq_build, .result = seq_result};

/* "slackish": without state, step 0 posts a message and keeps its ts as the
 * state, step 1 updates it; with state, step 0 updates it. */
static kb_err sl_build(const struct receiver *r, const struct recv_job *job, int step,
                       struct recv_request *req, struct kb_why *why)
{
    struct tctx *c = receiver_ctx(r);
    char ts[64] = "";
    if (job->state) {
        struct arena a = ARENA_INIT(1 << 16);
        struct json_value *root;
        if (json_parse(job->state, strlen(job->state), NULL, &a, &root, NULL) == KB_OK) {
            struct kb_str s = json_str(json_get(root, "ts"));
            snprintf(ts, sizeof ts, "%.*s", (int)s.n, s.p ? s.p : "");
        }
        arena_release(&a);
    }
    if (step == 1) {
        /* The state step 0 returned must already be in the store. */
        struct db *db;
        char *saved = NULL;
        if (db_open(g_db, DB_CLIENT, 1, &db, NULL) == KB_OK) {
            db_outbox_state_get(db, receiver_name(r), 1, &saved);
            db_close(db);
        }
        if (saved && job->state && strcmp(saved, job->state) == 0)
            atomic_fetch_add(&c->state_seen_saved, 1);
        else
            atomic_fetch_add(&c->state_wrong, 1);
        free(saved);
    }
    if (step > 1 || (step == 1 && !ts[0]))
        return KB_ENOTFOUND;
    snprintf(req->method, sizeof req->method, "POST");
    recv_request_header(req, "Content-Type: application/json");
    if (!ts[0]) {
        snprintf(req->url, sizeof req->url, "%s/api/chat.postMessage", g_base);
        return buf_printf(&req->body, "{\"channel\":\"C1\",\"text\":\"new\"}");
    }
    snprintf(req->url, sizeof req->url, "%s/api/chat.update", g_base);
    return buf_printf(&req->body, "{\"channel\":\"C1\",\"ts\":\"%s\",\"text\":\"step %d\"}", ts,
                      step);
}

static void sl_result(const struct receiver *r, const struct recv_job *job, int step,
                      const struct recv_response *resp, struct recv_result *out)
{
    if (resp->status != 200) {
        out->outcome = resp->status == 0 || resp->status >= 500 ? RECV_RETRY : RECV_FAIL;
        return;
    }
    struct arena a = ARENA_INIT(1 << 16);
    struct json_value *root;
    out->outcome = RECV_FAIL;
    if (json_parse(resp->body.p, resp->body.n, NULL, &a, &root, NULL) == KB_OK &&
        json_get(root, "ok") && json_get(root, "ok")->type == JSON_TRUE) {
        if (!job->state) {
            struct kb_str ts = json_str(json_get(root, "ts"));
            if (asprintf(&out->state, "{\"ts\":\"%.*s\"}", (int)ts.n, ts.p ? ts.p : "") < 0)
                out->state = NULL;
            out->outcome = RECV_NEXT;
        } else {
            out->outcome = RECV_DONE;
        }
    }
    arena_release(&a);
}

static const struct recv_ops sl_ops = {
    .type = "test-slack", .build = sl_build, .result = sl_result};

/* ---- helpers ------------------------------------------------------------- */

static struct db *g_check; /* the test's store handle */

static void fresh_store(void)
{
    db_close(g_check);
    g_check = NULL;
    const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < KB_ARRAY_LEN(sfx); i++) {
        char p[320];
        snprintf(p, sizeof p, "%s%s", g_db, sfx[i]);
        unlink(p);
    }
    struct kb_why why = {{0}};
    T_CHECKF(db_open(g_db, DB_CLIENT, 2, &g_check, &why) == KB_OK, "%s", why.msg);
    T_EQ_INT(fake_call("POST", "/_fake/reset", "{}", NULL), 200);
}

static int64_t enqueue(const char *recv, int64_t issue, int n)
{
    char payload[160];
    snprintf(payload, sizeof payload, "{\"event\":\"opened\",\"issue\":{\"id\":%lld},\"n\":%d}",
             (long long)issue, n);
    struct db_outbox_new j = {
        .receiver = recv, .issue_id = issue, .event = "opened", .payload = payload};
    int64_t id = 0;
    T_EQ_INT(db_begin(g_check), KB_OK);
    T_EQ_INT(db_outbox_enqueue(g_check, &j, kb_now_ms(), &id), KB_OK);
    T_EQ_INT(db_commit(g_check), KB_OK);
    return id;
}

static struct db_outbox_job job_get(int64_t id)
{
    struct db_outbox_job j = {.state = -1};
    db_outbox_get(g_check, id, &j);
    return j;
}

/* Waits up to ms for job id to reach state; true when it did. */
static bool wait_state(int64_t id, int state, int ms)
{
    for (int t = 0; t < ms; t += 10) {
        struct db_outbox_job j = job_get(id);
        int s = j.state;
        db_outbox_job_release(&j);
        if (s == state)
            return true;
        usleep(10000);
    }
    return false;
}

static struct deliver_config test_config(void)
{
    return (struct deliver_config){.db_path = g_db,
                                   .connect_timeout_ms = 500,
                                   .timeout_ms = 300,
                                   .backoff_base_ms = 20,
                                   .backoff_cap_ms = 200,
                                   .poll_ms = 20,
                                   .stop_grace_ms = 100};
}

static struct deliver *start(struct receiver *r, unsigned concurrency,
                             const struct deliver_config *cfg)
{
    struct deliver_target t = {.receiver = r, .concurrency = concurrency};
    struct deliver *d = NULL;
    struct kb_why why = {{0}};
    struct deliver_config c = cfg ? *cfg : test_config();
    T_CHECKF(deliver_new(&c, &t, 1, &d, &why) == KB_OK, "%s", why.msg);
    if (d)
        T_CHECKF(deliver_start(d, &why) == KB_OK, "%s", why.msg);
    return d;
}

/* ---- tests --------------------------------------------------------------- */

static void test_jobs_in_order(void)
{
    fresh_store();
    struct tctx c = {.path = "/seq"};
    struct receiver *r;
    T_EQ_INT(receiver_new_ops("seq", &seq_ops, &c, &r), KB_OK);
    int64_t ids[8];
    for (int i = 0; i < 5; i++) {
        ids[i] = enqueue("seq", 1, i);
        if (i < 3)
            ids[5 + i] = enqueue("seq", 2, i);
    }
    /* Three threads: jobs of one issue must still go one after another. */
    struct deliver *d = start(r, 3, NULL);
    for (int i = 0; i < 8; i++)
        T_CHECKF(wait_state(ids[i], OUTBOX_DONE, 5000), "job %d delivered", i);
    struct reqs q = {.raw = BUF_INIT(4 << 20), .a = ARENA_INIT(8 << 20)};
    reqs_get(&q, "/seq");
    T_EQ_INT(q.n, 8);
    int next[3] = {0, 0, 0};
    for (size_t i = 0; i < q.n; i++) {
        int64_t issue = reqs_body_int(&q, i, "issue.id"), n = reqs_body_int(&q, i, "n");
        T_CHECK(issue == 1 || issue == 2);
        if (issue == 1 || issue == 2) {
            T_EQ_INT(n, next[issue]);
            next[issue] = (int)n + 1;
        }
    }
    T_EQ_INT(next[1], 5);
    T_EQ_INT(next[2], 3);
    struct buf m = BUF_INIT(1 << 20);
    T_EQ_INT(deliver_metrics(d, &m), KB_OK);
    T_CHECKF(strstr(m.p, "koban_notify_sent_total{receiver=\"seq\"} 8\n"), "%s", m.p);
    T_CHECKF(strstr(m.p, "koban_outbox_jobs{receiver=\"seq\",state=\"done\"} 8\n"), "%s", m.p);
    T_CHECKF(strstr(m.p, "koban_outbox_jobs{receiver=\"seq\",state=\"dead\"} 0\n"), "%s", m.p);
    T_CHECK(strstr(m.p, "koban_notify_latency_seconds_count 8\n"));
    buf_release(&m);
    deliver_free(d);
    receiver_free(r);
    reqs_release(&q);
}

static void test_keep_alive(void)
{
    fresh_store();
    struct tctx c = {.path = "/ka"};
    struct receiver *r;
    T_EQ_INT(receiver_new_ops("ka", &seq_ops, &c, &r), KB_OK);
    int64_t last = 0;
    for (int i = 0; i < 5; i++)
        last = enqueue("ka", 1, i);
    struct deliver *d = start(r, 1, NULL);
    T_CHECK(wait_state(last, OUTBOX_DONE, 5000));
    deliver_free(d);
    struct reqs q = {.raw = BUF_INIT(4 << 20), .a = ARENA_INIT(8 << 20)};
    reqs_get(&q, "/ka");
    T_EQ_INT(q.n, 5);
    int64_t port0 = -1, port;
    for (size_t i = 0; i < q.n; i++) {
        T_CHECK(json_as_int(json_get(reqs_at(&q, i), "peer_port"), &port));
        if (i == 0)
            port0 = port;
        T_EQ_INT(port, port0); /* one connection, kept alive */
    }
    receiver_free(r);
    reqs_release(&q);
}

static void test_retry_after_honoured(void)
{
    fresh_store();
    struct tctx c = {.path = "/r429"};
    struct receiver *r;
    T_EQ_INT(receiver_new_ops("r429", &seq_ops, &c, &r), KB_OK);
    fake_script("/r429", "429", 1, 0, "1");
    int64_t id = enqueue("r429", 1, 0);
    struct deliver *d = start(r, 1, NULL);
    struct reqs q = {.raw = BUF_INIT(4 << 20), .a = ARENA_INIT(8 << 20)};
    /* After the 429 the job waits, pending, until at least a second later. */
    bool waited = false;
    for (int t = 0; t < 3000 && !waited; t += 10) {
        struct db_outbox_job j = job_get(id);
        if (j.state == OUTBOX_PENDING && j.attempts == 1 && j.last_error) {
            reqs_get(&q, "/r429");
            T_EQ_INT(q.n, 1);
            int64_t first_ms = (int64_t)(reqs_time(&q, 0) * 1000);
            T_CHECKF(j.next_at >= first_ms + 1000, "next_at %lld, 429 at %lld",
                     (long long)j.next_at, (long long)first_ms);
            waited = true;
        }
        db_outbox_job_release(&j);
        usleep(10000);
    }
    T_CHECK(waited);
    T_CHECK(wait_state(id, OUTBOX_DONE, 5000));
    reqs_get(&q, "/r429");
    T_EQ_INT(q.n, 2);
    T_CHECKF(reqs_time(&q, 1) - reqs_time(&q, 0) >= 0.99, "second try after %.3f s",
             reqs_time(&q, 1) - reqs_time(&q, 0));
    deliver_free(d);
    receiver_free(r);
    reqs_release(&q);
}

static void test_500_twice_then_ok(void)
{
    fresh_store();
    struct tctx c = {.path = "/r500"};
    struct receiver *r;
    T_EQ_INT(receiver_new_ops("r500", &seq_ops, &c, &r), KB_OK);
    fake_script("/r500", "500", 2, 0, NULL);
    int64_t id = enqueue("r500", 1, 0);
    struct deliver *d = start(r, 1, NULL);
    T_CHECK(wait_state(id, OUTBOX_DONE, 5000));
    struct db_outbox_job j = job_get(id);
    T_EQ_INT(j.attempts, 3);
    T_CHECK(j.last_error == NULL);
    db_outbox_job_release(&j);
    struct reqs q = {.raw = BUF_INIT(4 << 20), .a = ARENA_INIT(8 << 20)};
    reqs_get(&q, "/r500");
    T_EQ_INT(q.n, 3);
    int ok = 0;
    for (size_t i = 0; i < q.n; i++) {
        int64_t st = 0;
        json_as_int(json_get(reqs_at(&q, i), "status"), &st);
        ok += st == 200;
    }
    T_EQ_INT(ok, 1); /* delivered once */
    struct buf m = BUF_INIT(1 << 20);
    deliver_metrics(d, &m);
    T_CHECKF(strstr(m.p, "koban_notify_retries_total{receiver=\"r500\"} 2\n"), "%s", m.p);
    T_CHECKF(strstr(m.p, "koban_notify_sent_total{receiver=\"r500\"} 1\n"), "%s", m.p);
    buf_release(&m);
    deliver_free(d);
    receiver_free(r);
    reqs_release(&q);
}

static void test_400_dead_not_retried(void)
{
    fresh_store();
    struct tctx c = {.path = "/r400"};
    struct receiver *r;
    T_EQ_INT(receiver_new_ops("r400", &seq_ops, &c, &r), KB_OK);
    fake_script("/r400", "400", 100, 0, NULL);
    int64_t id = enqueue("r400", 1, 0);
    struct deliver *d = start(r, 1, NULL);
    T_CHECK(wait_state(id, OUTBOX_DEAD, 5000));
    usleep(300000); /* 15 backoff bases: time enough for a wrong retry */
    struct db_outbox_job j = job_get(id);
    T_EQ_INT(j.state, OUTBOX_DEAD);
    T_EQ_INT(j.attempts, 1);
    T_CHECKF(j.last_error && strstr(j.last_error, "HTTP 400"), "%s",
             j.last_error ? j.last_error : "(null)");
    db_outbox_job_release(&j);
    struct reqs q = {.raw = BUF_INIT(4 << 20), .a = ARENA_INIT(8 << 20)};
    reqs_get(&q, "/r400");
    T_EQ_INT(q.n, 1);
    struct buf m = BUF_INIT(1 << 20);
    deliver_metrics(d, &m);
    T_CHECKF(strstr(m.p, "koban_notify_failed_total{receiver=\"r400\"} 1\n"), "%s", m.p);
    buf_release(&m);
    deliver_free(d);
    receiver_free(r);
    reqs_release(&q);
}

static void test_max_attempts_dead(void)
{
    fresh_store();
    struct tctx c = {.path = "/rmax"};
    struct receiver *r;
    T_EQ_INT(receiver_new_ops("rmax", &seq_ops, &c, &r), KB_OK);
    fake_script("/rmax", "500", 100, 0, NULL);
    int64_t id = enqueue("rmax", 1, 0);
    struct deliver_config cfg = test_config();
    cfg.max_attempts = 3;
    struct deliver *d = start(r, 1, &cfg);
    T_CHECK(wait_state(id, OUTBOX_DEAD, 5000));
    struct db_outbox_job j = job_get(id);
    T_EQ_INT(j.attempts, 3);
    T_CHECKF(j.last_error && strstr(j.last_error, "after 3 attempts"), "%s",
             j.last_error ? j.last_error : "(null)");
    db_outbox_job_release(&j);
    deliver_free(d);
    receiver_free(r);
}

static void test_hang_times_out_and_retries(void)
{
    fresh_store();
    struct tctx c = {.path = "/rhang"};
    struct receiver *r;
    T_EQ_INT(receiver_new_ops("rhang", &seq_ops, &c, &r), KB_OK);
    fake_script("/rhang", "hang", 1, 3000, NULL);
    int64_t id = enqueue("rhang", 1, 0);
    int64_t t0 = kb_mono_ns();
    struct deliver *d = start(r, 1, NULL);
    T_CHECK(wait_state(id, OUTBOX_DONE, 5000));
    T_CHECKF(kb_mono_ns() - t0 < 2000000000LL, "delivered in %lld ms, not after the hang",
             (long long)((kb_mono_ns() - t0) / 1000000));
    struct db_outbox_job j = job_get(id);
    T_EQ_INT(j.attempts, 2);
    db_outbox_job_release(&j);
    deliver_free(d);
    receiver_free(r);
}

static void test_state_between_steps_and_jobs(void)
{
    fresh_store();
    struct tctx c = {.path = ""};
    struct receiver *r;
    T_EQ_INT(receiver_new_ops("slk", &sl_ops, &c, &r), KB_OK);
    int64_t a = enqueue("slk", 1, 0);
    int64_t b = enqueue("slk", 1, 1);
    struct deliver *d = start(r, 1, NULL);
    T_CHECK(wait_state(a, OUTBOX_DONE, 5000));
    T_CHECK(wait_state(b, OUTBOX_DONE, 5000));
    deliver_free(d);
    T_EQ_INT(atomic_load(&c.state_seen_saved), 1);
    T_EQ_INT(atomic_load(&c.state_wrong), 0);
    struct reqs q = {.raw = BUF_INIT(4 << 20), .a = ARENA_INIT(8 << 20)};
    reqs_get(&q, "/api/chat.postMessage");
    T_EQ_INT(q.n, 1); /* the second job updates the same message */
    reqs_get(&q, "/api/chat.update");
    T_EQ_INT(q.n, 2);
    char *state = NULL;
    T_EQ_INT(db_outbox_state_get(g_check, "slk", 1, &state), KB_OK);
    T_CHECKF(state && strstr(state, "\"ts\":\""), "%s", state ? state : "(null)");
    for (size_t i = 0; i < q.n && state; i++) {
        struct kb_str body = json_str(json_get(reqs_at(&q, i), "body"));
        char ts[80];
        const char *p = strstr(state, "\"ts\":\"");
        snprintf(ts, sizeof ts, "%.*s", (int)strcspn(p + 6, "\""), p + 6);
        T_CHECKF(body.p && memmem(body.p, body.n, ts, strlen(ts)), "update %zu uses ts %s", i, ts);
    }
    free(state);
    receiver_free(r);
    reqs_release(&q);
}

static void test_stop_bounded_while_hanging(void)
{
    fresh_store();
    struct tctx c = {.path = "/rstop"};
    struct receiver *r;
    T_EQ_INT(receiver_new_ops("rstop", &seq_ops, &c, &r), KB_OK);
    fake_script("/rstop", "hang", 100, 10000, NULL);
    int64_t id = enqueue("rstop", 1, 0);
    struct deliver_config cfg = test_config();
    cfg.timeout_ms = 20000; /* the request would hang far longer than the stop */
    struct deliver *d = start(r, 1, &cfg);
    struct reqs q = {.raw = BUF_INIT(4 << 20), .a = ARENA_INIT(8 << 20)};
    for (int t = 0; t < 3000 && q.n == 0; t += 10) {
        usleep(10000);
        reqs_get(&q, "/rstop");
    }
    T_EQ_INT(q.n, 1);
    int64_t t0 = kb_mono_ns();
    deliver_stop(d);
    int64_t ms = (kb_mono_ns() - t0) / 1000000;
    T_CHECKF(ms < 1000, "deliver_stop took %lld ms (grace 100 ms)", (long long)ms);
    deliver_free(d);
    /* Abandoned mid-request: inflight until the next start recovers it. */
    struct db_outbox_job j = job_get(id);
    T_EQ_INT(j.state, OUTBOX_INFLIGHT);
    db_outbox_job_release(&j);
    fake_call("POST", "/_fake/reset", "{}", NULL); /* no more hangs */
    d = start(r, 1, NULL);
    T_CHECK(wait_state(id, OUTBOX_DONE, 5000));
    deliver_free(d);
    receiver_free(r);
    reqs_release(&q);
}

static void test_http_client_headers_and_limit(void)
{
    struct buf b = BUF_INIT(1 << 20);
    T_EQ_INT(fake_call("POST", "/_fake/reset", "{}", NULL), 200);
    /* Retry-After as an HTTP date, and GitHub's rate-limit headers. */
    char date[64], body[512];
    time_t when = time(NULL) + 3;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(body, sizeof body,
             "{\"path\":\"/h\",\"kind\":\"429\",\"retry_after\":\"%s\",\"headers\":"
             "{\"x-ratelimit-remaining\":\"0\",\"x-ratelimit-reset\":\"%lld\"}}",
             date, (long long)when);
    T_EQ_INT(fake_call("POST", "/_fake/script", body, NULL), 200);
    struct recv_request req = {.method = "GET", .body = BUF_INIT(1024)};
    snprintf(req.url, sizeof req.url, "%s/h", g_base);
    struct recv_response resp;
    http_client_send(g_http, &req, &resp, NULL);
    T_EQ_INT(resp.status, 429);
    T_CHECKF(resp.retry_after_ms > 1000 && resp.retry_after_ms <= 3000, "%lld",
             (long long)resp.retry_after_ms);
    T_EQ_INT(resp.ratelimit_remaining, 0);
    T_EQ_INT(resp.ratelimit_reset_ms, (int64_t)when * 1000);
    /* Absent headers are -1; no answer is status 0 with why. */
    http_client_send(g_http, &req, &resp, NULL);
    T_EQ_INT(resp.status, 200);
    T_EQ_INT(resp.retry_after_ms, -1);
    T_EQ_INT(resp.ratelimit_remaining, -1);
    snprintf(req.url, sizeof req.url, "http://127.0.0.1:1/nothing");
    http_client_send(g_http, &req, &resp, NULL);
    T_EQ_INT(resp.status, 0);
    T_CHECK(resp.err && *resp.err);
    recv_request_release(&req);
    /* A body past the limit is cut there; the status stands. */
    struct http_client *small;
    T_EQ_INT(http_client_new(&(struct http_client_opts){.max_body = 64}, &small), KB_OK);
    for (int i = 0; i < 20; i++)
        fake_call("POST", "/fill", "{\"padding\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", NULL);
    struct recv_request big = {.method = "GET", .body = BUF_INIT(16)};
    snprintf(big.url, sizeof big.url, "%s/_fake/requests", g_base);
    http_client_send(small, &big, &resp, NULL);
    T_EQ_INT(resp.status, 200);
    T_EQ_INT(resp.body.n, 64);
    http_client_free(small);
    buf_release(&b);
}

static void test_config_checked(void)
{
    struct receiver *r1, *r2;
    T_EQ_INT(receiver_new_ops("same", &seq_ops, NULL, &r1), KB_OK);
    T_EQ_INT(receiver_new_ops("same", &seq_ops, NULL, &r2), KB_OK);
    struct deliver_target t[2] = {{.receiver = r1}, {.receiver = r2}};
    struct deliver *d = NULL;
    struct kb_why why = {{0}};
    struct deliver_config c = test_config();
    T_EQ_INT(deliver_new(&c, t, 2, &d, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "same"), "%s", why.msg);
    t[1].receiver = r1;
    t[0].concurrency = 99;
    T_EQ_INT(deliver_new(&c, t, 1, &d, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "concurrency"), "%s", why.msg);
    c.db_path = NULL;
    T_EQ_INT(deliver_new(&c, t, 0, &d, &why), KB_EINVAL);
    receiver_free(r1);
    receiver_free(r2);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(g_dir, sizeof g_dir, "/tmp/koban-deliver-XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_db, sizeof g_db, "%s/koban.db", g_dir);
    T_RUN(test_config_checked);
    http_client_global_init();
    http_client_new(&(struct http_client_opts){.timeout_ms = 5000}, &g_http);
    if (fake_start()) {
        T_RUN(test_http_client_headers_and_limit);
        T_RUN(test_jobs_in_order);
        T_RUN(test_keep_alive);
        T_RUN(test_retry_after_honoured);
        T_RUN(test_500_twice_then_ok);
        T_RUN(test_400_dead_not_retried);
        T_RUN(test_max_attempts_dead);
        T_RUN(test_hang_times_out_and_retries);
        T_RUN(test_state_between_steps_and_jobs);
        T_RUN(test_stop_bounded_while_hanging);
    } else {
        fprintf(stderr, "  FAIL: could not start python3 %s/tests/integration/fakesaas.py\n",
                KOBAN_SOURCE_DIR);
        t_st.failed++;
    }
    fake_stop();
    db_close(g_check);
    http_client_free(g_http);
    http_client_global_cleanup();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
    return t_done();
}
