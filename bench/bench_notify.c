/*
 * bench_notify.c — notification benchmarks: delivery throughput, memory
 * with a receiver down, and the pieces bench/run.sh needs to measure the
 * cost of routing and outbox writes on ingest (docs/BENCHMARKS.md,
 * "Notifications"). Everything runs on 127.0.0.1.
 *
 *   bench_notify receiver --port-file F [--status N] [--max-s S]
 *       A fast HTTP responder (libmicrohttpd, one polling thread) on a free
 *       port of 127.0.0.1, written to F. Answers 200 {"ok":true,...};
 *       202 on PagerDuty paths (/v2/enqueue); 201 {"number":N} to a GitHub
 *       issue creation (POST /repos/O/R/issues); an empty search result to
 *       GET /search/issues; --status N answers N to everything (503: a
 *       receiver that is down). Runs until SIGTERM/SIGINT or --max-s
 *       (default 3600), then prints `requests=N`.
 *
 *   bench_notify deliver --jobs N [--receivers K] [--issues I] [--url URL]
 *                        [--concurrency C] [--timeout-s S]
 *       Writes N jobs (a real issue payload, events "opened") into a fresh
 *       store in transactions of 1,000, spread over K webhook receivers
 *       (default 1) and I issues per receiver (default 1000; job n is for
 *       issue n mod I, so an issue's later jobs wait for its earlier ones),
 *       then starts the delivery worker with its defaults (one thread per
 *       receiver unless C is given, no rate limit) against the in-process
 *       responder (or URL) and waits
 *       until every job is done (at most S seconds, default 300). Prints
 *       `jobs=N receivers=K elapsed_s=.. per_s=.. per_receiver_per_s=..
 *       requests=.. done=.. dead=.. left=..`.
 *
 *   bench_notify queue --jobs N [--sample-every M] [--status 503]
 *       The receiver is down: a port nobody listens on (connection refused),
 *       or with --status the in-process responder answering that status.
 *       Starts the worker on a fresh store, then enqueues N jobs (default
 *       1,000,000) in transactions of 1,000 while it runs, sampling this
 *       process's VmRSS before the first job and after every M jobs (default
 *       100,000) and once more 2 s after the last. Prints `rss_kb=a,b,...`
 *       and `jobs=N rss_min_kb rss_max_kb growth_kb growth_pct attempts=..`
 *       where growth is measured from the sample after the first M jobs
 *       (SQLite's page caches fill up to their bound during those).
 *
 *   bench_notify mix --templates IN --out OUT [--every E]
 *       From bench_ingest's templates, writes E lines (default 100): line 0
 *       is a marker event (eventName "KobanBenchNotify", and a principal
 *       unique to every event, so each one opens a new issue), lines 1..E-1
 *       are templates as they are. With bench_load --distinct D (a multiple
 *       of E), exactly 1/E of the events are markers.
 *
 * Ownership: each command owns what it allocates and frees it before it
 * returns; the responder's counters live in struct responder.
 */
#include "formats/alert.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "notify/deliver.h"
#include "notify/notifier.h"
#include "store/db.h"
#include "store/db_outbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 20000000L
#define TXN_JOBS 1000
#define MAX_LINE (1024u * 1024)
#define SECRET "bench-secret"

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "bench_notify: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 2;
}

/* Parses a whole decimal number in [lo, hi]. */
static bool num_arg(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static double secs_since(int64_t t0_ns)
{
    return (double)(kb_mono_ns() - t0_ns) / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    if (f)
        fclose(f);
    return kb;
}

/* ---- the responder ------------------------------------------------------- */

struct responder {
    struct MHD_Daemon *d;
    unsigned status; /* 0: answer by path */
    atomic_uint_fast64_t requests;
    atomic_int_fast64_t gh_number;
    uint16_t port;
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body,
                              enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, mode);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    struct responder *rs = cls;
    static int seen; /* the address marks "headers read"; never written */
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_size) { /* the body is not needed: only counted as read */
        *upload_size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&rs->requests, 1);
    if (rs->status)
        return answer(c, rs->status, "{\"ok\":false,\"error\":\"bench: receiver down\"}",
                      MHD_RESPMEM_PERSISTENT);
    bool post = strcmp(method, "POST") == 0;
    if (strstr(url, "/v2/enqueue"))
        return answer(c, 202, "{\"status\":\"success\",\"message\":\"Event processed\"}",
                      MHD_RESPMEM_PERSISTENT);
    if (strncmp(url, "/search/issues", 14) == 0)
        return answer(c, 200, "{\"total_count\":0,\"incomplete_results\":false,\"items\":[]}",
                      MHD_RESPMEM_PERSISTENT);
    size_t ul = strlen(url);
    if (post && strncmp(url, "/repos/", 7) == 0 && ul > 7 && strcmp(url + ul - 7, "/issues") == 0) {
        char body[64];
        snprintf(body, sizeof body, "{\"number\":%lld}",
                 (long long)atomic_fetch_add(&rs->gh_number, 1) + 1);
        return answer(c, 201, body, MHD_RESPMEM_MUST_COPY);
    }
    return answer(c, 200, "{\"ok\":true,\"channel\":\"C0BENCH\",\"ts\":\"1700000000.000100\"}",
                  MHD_RESPMEM_PERSISTENT);
}

/* Starts rs on a free port of 127.0.0.1. */
static kb_err responder_start(struct responder *rs, unsigned status)
{
    memset(rs, 0, sizeof *rs);
    rs->status = status;
    atomic_init(&rs->requests, 0);
    atomic_init(&rs->gh_number, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rs->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG,
                             0, NULL, NULL, on_request, rs, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_CONNECTION_TIMEOUT,
                             60u, MHD_OPTION_END);
    if (!rs->d)
        return KB_EIO;
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(rs->d, MHD_DAEMON_INFO_BIND_PORT);
    rs->port = i ? i->port : 0;
    if (!rs->port) {
        MHD_stop_daemon(rs->d);
        rs->d = NULL;
        return KB_EIO;
    }
    return KB_OK;
}

static void responder_stop(struct responder *rs)
{
    if (rs->d)
        MHD_stop_daemon(rs->d);
    rs->d = NULL;
}

static int cmd_receiver(const char *port_file, long status, long max_s)
{
    struct responder rs;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    /* Blocked before the polling thread starts, so it inherits the mask
     * and sigtimedwait below is the one taker. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (responder_start(&rs, (unsigned)status))
        return fail("receiver", "cannot listen on 127.0.0.1");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", rs.port) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0) {
        responder_stop(&rs);
        return fail("cannot write the port file", port_file);
    }
    struct timespec tick = {.tv_sec = 1};
    for (long s = 0; s < max_s; s++) {
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT)
            break;
    }
    responder_stop(&rs);
    printf("requests=%llu\n", (unsigned long long)atomic_load(&rs.requests));
    return 0;
}

/* ---- jobs ------------------------------------------------------------------ */

/* A fresh directory for the store; path filled. */
static int make_dir(char *path, size_t n)
{
    snprintf(path, n, "/tmp/koban-bn.XXXXXX");
    return mkdtemp(path) ? 0 : fail("mkdtemp", strerror(errno));
}

static void remove_dir(const char *dir)
{
    const char *names[] = {"koban.db", "koban.db-wal", "koban.db-shm"};
    char p[512];
    for (size_t i = 0; i < KB_ARRAY_LEN(names); i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* The payload the notifier writes for a CloudTrail issue (~1 KB). */
static kb_err make_payload(struct buf *out)
{
    struct db_issue r = {
        .id = 42,
        .identity = "account=229654561268 kind=DeleteTrail actor.user=bench-user-17 "
                    "resource=arn:aws:cloudtrail:us-east-1:229654561268:trail/main",
        .source = "cloudtrail",
        .kind = "DeleteTrail",
        .title = "CloudTrail trail deleted by bench-user-17",
        .account = "229654561268",
        .region = "us-east-1",
        .resource = "arn:aws:cloudtrail:us-east-1:229654561268:trail/main",
        .actor_user = "bench-user-17",
        .actor_ip = "198.51.100.23",
        .native_severity = "",
        .severity = KB_SEV_HIGH,
        .state = ISSUE_OPEN,
        .count = 1,
        .first_seen = 1722519208000,
        .last_seen = 1722519208000,
        .last_received = 1722519208000,
        .first_seq = 1,
        .last_seq = 1,
        .rules = "[\"aws_cloudtrail_disable_logging\"]",
        .policies = "[\"cloudtrail-defense-evasion\"]",
        .labels = "{\"team\":\"cloud\"}",
        .annotations = "[{\"text\":\"Logging was turned off: find out who and why.\","
                       "\"link\":\"https://docs.aws.amazon.com/awscloudtrail/\"}]",
    };
    for (int i = 0; i < 16; i++)
        r.fp[i] = (uint8_t)(i * 17 + 3);
    return notifier_payload(&r, "opened", NULL, -1, "http://koban.internal:8478", out);
}

/* Writes n jobs for the receivers names[0..k) round-robin, issues spread
 * over `issues` per receiver, in transactions of TXN_JOBS; calls kick (may
 * be NULL) after each commit and sample every `every` jobs (when set). */
struct enq {
    struct db *db;
    char (*names)[32];
    long k, issues;
    const char *payload;
    struct deliver *kick;
    long every;
    void (*sample)(void *ctx, long done);
    void *ctx;
};

static kb_err enqueue_jobs(struct enq *q, long n)
{
    for (long i = 0; i < n;) {
        kb_err e = db_begin(q->db);
        if (e)
            return e;
        int64_t now = kb_now_ms();
        long end = KB_MIN(n, i + TXN_JOBS);
        for (; i < end && !e; i++) {
            long r = i % q->k;
            struct db_outbox_new j = {.receiver = q->names[r],
                                      .issue_id = 1 + (i / q->k) % q->issues,
                                      .event = "opened",
                                      .payload = q->payload};
            e = db_outbox_enqueue(q->db, &j, now, NULL);
        }
        if (!e)
            e = db_commit(q->db);
        if (e) {
            db_rollback(q->db);
            return e;
        }
        if (q->kick)
            deliver_kick(q->kick);
        if (q->sample && q->every && i % q->every == 0)
            q->sample(q->ctx, i);
    }
    return KB_OK;
}

struct counts {
    int64_t n[OUTBOX_STATE_COUNT];
};

static kb_err on_count(void *ctx, const char *recv, int state, int64_t n)
{
    (void)recv;
    struct counts *c = ctx;
    if (state >= 0 && state < OUTBOX_STATE_COUNT)
        c->n[state] += n;
    return KB_OK;
}

/* The worker's koban_notify_retries_total summed over receivers. */
static long long retries_total(struct deliver *d)
{
    struct buf m = BUF_INIT(1 << 20);
    long long sum = 0;
    if (deliver_metrics(d, &m) == KB_OK && m.p) {
        const char *key = "koban_notify_retries_total{";
        for (const char *p = strstr(m.p, key); p; p = strstr(p + 1, key)) {
            const char *sp = strchr(p, ' ');
            if (sp)
                sum += strtoll(sp + 1, NULL, 10);
        }
    }
    buf_release(&m);
    return sum;
}

/* A worker set up for k webhook receivers posting to url (each gets its
 * own path). */
struct rig {
    char dir[64], db_path[128];
    struct db *db;
    struct receiver *r[DELIVER_MAX_RECEIVERS];
    char names[DELIVER_MAX_RECEIVERS][32];
    long k;
    struct deliver *d;
    struct buf payload;
};

static int rig_open(struct rig *g, long k, long conc, const char *url)
{
    memset(g, 0, sizeof *g);
    g->payload = (struct buf)BUF_INIT(1 << 20);
    g->k = k;
    if (make_dir(g->dir, sizeof g->dir))
        return 2;
    snprintf(g->db_path, sizeof g->db_path, "%s/koban.db", g->dir);
    struct kb_why why = {{0}};
    if (db_open(g->db_path, DB_DAEMON, 4, &g->db, &why))
        return fail("store", why.msg);
    if (make_payload(&g->payload))
        return fail("payload", "cannot write it");
    struct deliver_target t[DELIVER_MAX_RECEIVERS];
    for (long i = 0; i < k; i++) {
        char u[RECV_URL_MAX];
        snprintf(g->names[i], sizeof g->names[i], "bench%ld", i);
        snprintf(u, sizeof u, "%s/hook/%ld", url, i);
        struct recv_config rc = {.name = g->names[i], .type = "webhook", .url = u,
                                 .token = SECRET};
        if (receiver_new(&rc, &g->r[i], &why))
            return fail("receiver", why.msg);
        t[i] = (struct deliver_target){.receiver = g->r[i], .concurrency = (unsigned)conc};
    }
    struct deliver_config c = {.db_path = g->db_path};
    if (deliver_new(&c, t, (size_t)k, &g->d, &why))
        return fail("deliver_new", why.msg);
    return 0;
}

static void rig_close(struct rig *g)
{
    deliver_free(g->d);
    for (long i = 0; i < g->k; i++)
        receiver_free(g->r[i]);
    db_close(g->db);
    buf_release(&g->payload);
    if (g->dir[0])
        remove_dir(g->dir);
}

static int cmd_deliver(long jobs, long k, long conc, long issues, const char *url, long timeout_s)
{
    struct responder rs = {0};
    char base[RECV_URL_MAX];
    if (url) {
        snprintf(base, sizeof base, "%s", url);
    } else {
        if (responder_start(&rs, 0))
            return fail("responder", "cannot listen on 127.0.0.1");
        snprintf(base, sizeof base, "http://127.0.0.1:%u", rs.port);
    }
    struct rig g;
    int rc = rig_open(&g, k, conc, base);
    struct enq q = {.db = g.db, .names = g.names, .k = k, .issues = issues,
                    .payload = g.payload.p};
    int64_t t0 = kb_mono_ns();
    if (!rc && enqueue_jobs(&q, jobs))
        rc = fail("enqueue", db_errmsg(g.db));
    double enq_s = secs_since(t0);
    struct kb_why why = {{0}};
    struct counts c = {{0}};
    double el = 0;
    if (!rc) {
        t0 = kb_mono_ns();
        if (deliver_start(g.d, &why))
            rc = fail("deliver_start", why.msg);
        deliver_kick(g.d);
        /* Bounded: timeout_s. While jobs are pending, an index lookup per
         * receiver (cheap); then the counts (a scan) until none is inflight. */
        for (int64_t end = t0 + (int64_t)timeout_s * 1000000000; !rc && kb_mono_ns() < end;) {
            bool pending = false;
            for (long i = 0; i < k && !pending; i++) {
                int64_t at = -1;
                pending = db_outbox_next_due(g.db, g.names[i], &at) != KB_OK || at >= 0;
            }
            if (!pending) {
                memset(&c, 0, sizeof c);
                if (db_outbox_counts(g.db, on_count, &c))
                    rc = fail("counts", db_errmsg(g.db));
                if (c.n[OUTBOX_PENDING] + c.n[OUTBOX_INFLIGHT] == 0)
                    break;
            }
            struct timespec ts = {.tv_nsec = 20 * 1000000};
            nanosleep(&ts, NULL);
        }
        el = secs_since(t0);
        memset(&c, 0, sizeof c); /* final (also after a timeout) */
        if (!rc && db_outbox_counts(g.db, on_count, &c))
            rc = fail("counts", db_errmsg(g.db));
    }
    long long retries = g.d ? retries_total(g.d) : 0;
    rig_close(&g);
    uint64_t reqs = atomic_load(&rs.requests);
    responder_stop(&rs);
    if (rc)
        return rc;
    int64_t left = c.n[OUTBOX_PENDING] + c.n[OUTBOX_INFLIGHT];
    printf("jobs=%ld receivers=%ld elapsed_s=%.3f per_s=%.0f per_receiver_per_s=%.0f "
           "requests=%llu done=%lld dead=%lld left=%lld retries=%lld enqueue_per_s=%.0f\n",
           jobs, k, el, (double)c.n[OUTBOX_DONE] / el, (double)c.n[OUTBOX_DONE] / el / (double)k,
           (unsigned long long)reqs, (long long)c.n[OUTBOX_DONE], (long long)c.n[OUTBOX_DEAD],
           (long long)left, retries, (double)jobs / enq_s);
    return left || c.n[OUTBOX_DONE] != jobs ? 1 : 0;
}

struct series {
    long kb[256];
    size_t n;
};

static void take_sample(void *ctx, long done)
{
    (void)done;
    struct series *s = ctx;
    if (s->n < KB_ARRAY_LEN(s->kb))
        s->kb[s->n++] = rss_kb();
}

/* A loopback port nobody listens on (bound, then closed). */
static uint16_t dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int cmd_queue(long jobs, long every, long status, long issues)
{
    struct responder rs = {0};
    char base[64];
    if (status) {
        if (responder_start(&rs, (unsigned)status))
            return fail("responder", "cannot listen on 127.0.0.1");
        snprintf(base, sizeof base, "http://127.0.0.1:%u", rs.port);
    } else {
        uint16_t p = dead_port();
        if (!p)
            return fail("queue", "no free loopback port");
        snprintf(base, sizeof base, "http://127.0.0.1:%u", p);
    }
    struct rig g;
    struct series s = {.n = 0};
    int rc = rig_open(&g, 1, 0, base);
    struct kb_why why = {{0}};
    if (!rc && deliver_start(g.d, &why))
        rc = fail("deliver_start", why.msg);
    take_sample(&s, 0);
    struct enq q = {.db = g.db, .names = g.names, .k = 1, .issues = issues,
                    .payload = g.payload.p, .kick = g.d, .every = every,
                    .sample = take_sample, .ctx = &s};
    int64_t t0 = kb_mono_ns();
    if (!rc && enqueue_jobs(&q, jobs))
        rc = fail("enqueue", db_errmsg(g.db));
    double el = secs_since(t0);
    if (!rc) {
        struct timespec ts = {.tv_sec = 2};
        nanosleep(&ts, NULL);
        take_sample(&s, jobs);
    }
    long long attempts = g.d ? retries_total(g.d) : 0;
    rig_close(&g);
    uint64_t reqs = atomic_load(&rs.requests);
    responder_stop(&rs);
    if (rc)
        return rc;
    /* Growth from the sample after the first `every` jobs (index 1), and
     * over the second half of the jobs (from the middle sample on). */
    size_t from = s.n > 2 ? 1 : 0, mid = (s.n - 1) / 2;
    long mn = s.kb[from], mx = s.kb[from], half_mx = s.kb[mid];
    printf("rss_kb=");
    for (size_t i = 0; i < s.n; i++) {
        printf("%s%ld", i ? "," : "", s.kb[i]);
        if (i >= from) {
            mn = KB_MIN(mn, s.kb[i]);
            mx = KB_MAX(mx, s.kb[i]);
        }
        if (i >= mid)
            half_mx = KB_MAX(half_mx, s.kb[i]);
    }
    printf("\njobs=%ld elapsed_s=%.3f enqueue_per_s=%.0f rss_start_kb=%ld rss_min_kb=%ld "
           "rss_max_kb=%ld growth_kb=%ld growth_pct=%.1f half_growth_kb=%ld attempts=%lld "
           "requests=%llu\n",
           jobs, el, (double)jobs / el, s.kb[0], mn, mx, mx - s.kb[from],
           100.0 * (double)(mx - s.kb[from]) / (double)s.kb[from], half_mx - s.kb[mid], attempts,
           (unsigned long long)reqs);
    return 0;
}

/* ---- mix ------------------------------------------------------------------- */

/* Replaces every occurrence of from in line by to into out. */
static void replace_all(struct buf *out, const char *line, const char *from, const char *to)
{
    size_t fl = strlen(from);
    for (const char *p = line, *q; *p; p = q + fl) {
        if (!(q = strstr(p, from))) {
            buf_puts(out, p);
            break;
        }
        buf_append(out, p, (size_t)(q - p));
        buf_puts(out, to);
    }
}

/* One pass over the templates: writes lines until *kept reaches every. */
static void mix_pass(FILE *f, FILE *o, char *line, struct buf *a, struct buf *b, long every,
                     long *kept)
{
    while (*kept < every && fgets(line, (int)MAX_LINE, f)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        if (!l)
            continue;
        if (*kept == 0) {
            /* The marker: a principal unique to each event, a known name. */
            if (!strstr(line, "\"eventName\":\"") || !strstr(line, "-{{ID}}"))
                continue;
            buf_reset(a);
            buf_reset(b);
            replace_all(a, line, "-{{ID}}", "-{{ID}}-{{SEQ}}");
            const char *p = strstr(a->p, "\"eventName\":\"") + 13, *q = strchr(p, '"');
            if (!q)
                continue;
            buf_append(b, a->p, (size_t)(p - a->p));
            buf_puts(b, "KobanBenchNotify");
            buf_puts(b, q);
            fprintf(o, "%s\n", b->p);
        } else {
            fprintf(o, "%s\n", line);
        }
        (*kept)++;
    }
}

static int cmd_mix(const char *in, const char *outp, long every)
{
    FILE *f = fopen(in, "r"), *o = NULL;
    if (!f)
        return fail("cannot read", in);
    char *line = kb_malloc(MAX_LINE);
    struct buf a = BUF_INIT(4 * MAX_LINE), b = BUF_INIT(4 * MAX_LINE);
    int rc = 0;
    long kept = 0;
    if (!(o = fopen(outp, "w")))
        rc = fail("cannot write", outp);
    /* Fewer templates than lines: the file is read again (bounded). */
    for (int pass = 0; !rc && kept < every && pass < every; pass++) {
        if (pass)
            rewind(f);
        long before = kept;
        mix_pass(f, o, line, &a, &b, every, &kept);
        if (kept == before)
            break;
    }
    if (!rc && kept < every)
        rc = fail("no usable template (eventName and {{ID}}) in", in);
    if (o && fclose(o) != 0 && !rc)
        rc = fail("cannot write", outp);
    fclose(f);
    free(line);
    buf_release(&a);
    buf_release(&b);
    if (!rc)
        printf("templates=%ld marker_share=%.4f\n", kept, 1.0 / (double)kept);
    return rc;
}

/* ---- main ------------------------------------------------------------------ */

static int usage(void)
{
    fprintf(stderr,
            "usage: bench_notify receiver --port-file F [--status N] [--max-s S]\n"
            "       bench_notify deliver --jobs N [--receivers K] [--issues I] [--url URL]"
            " [--concurrency C] [--timeout-s S]\n"
            "       bench_notify queue [--jobs N] [--sample-every M] [--status N] [--issues I]\n"
            "       bench_notify mix --templates IN --out OUT [--every E]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1], *port_file = NULL, *url = NULL, *tin = NULL, *tout = NULL;
    long jobs = 0, k = 1, conc = 0, issues = 1000, status = 0, max_s = 3600, timeout_s = 300,
         every = 100000, mix_every = 100;
    for (int i = 2; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        bool ok = true;
        if (strcmp(a, "--port-file") == 0)
            port_file = v;
        else if (strcmp(a, "--url") == 0)
            url = v;
        else if (strcmp(a, "--templates") == 0)
            tin = v;
        else if (strcmp(a, "--out") == 0)
            tout = v;
        else if (strcmp(a, "--jobs") == 0)
            ok = num_arg(v, 1, MAX_JOBS, &jobs);
        else if (strcmp(a, "--receivers") == 0)
            ok = num_arg(v, 1, DELIVER_MAX_RECEIVERS, &k);
        else if (strcmp(a, "--concurrency") == 0)
            ok = num_arg(v, 1, DELIVER_MAX_CONCURRENCY, &conc);
        else if (strcmp(a, "--issues") == 0)
            ok = num_arg(v, 1, MAX_JOBS, &issues);
        else if (strcmp(a, "--status") == 0)
            ok = num_arg(v, 100, 599, &status);
        else if (strcmp(a, "--max-s") == 0)
            ok = num_arg(v, 1, 86400, &max_s);
        else if (strcmp(a, "--timeout-s") == 0)
            ok = num_arg(v, 1, 86400, &timeout_s);
        else if (strcmp(a, "--sample-every") == 0)
            ok = num_arg(v, 1, MAX_JOBS, &every);
        else if (strcmp(a, "--every") == 0)
            ok = num_arg(v, 2, 100000, &mix_every);
        else
            return usage();
        if (!ok)
            return fail("bad value for", a);
    }
    kb_log_set_level(KB_LOG_WARN); /* the worker's info lines are not results */
    if (strcmp(cmd, "receiver") == 0 && port_file)
        return cmd_receiver(port_file, status, max_s);
    if (strcmp(cmd, "deliver") == 0 && jobs)
        return cmd_deliver(jobs, k, conc, issues, url, timeout_s);
    if (strcmp(cmd, "queue") == 0)
        return cmd_queue(jobs ? jobs : 1000000, every, status, issues);
    if (strcmp(cmd, "mix") == 0 && tin && tout)
        return cmd_mix(tin, tout, mix_every);
    return usage();
}
