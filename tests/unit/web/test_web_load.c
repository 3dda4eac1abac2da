/*
 * test_web_load.c — many clients at once (group commit across connections,
 * every acknowledgement durable, every event journaled exactly once) and
 * web_stop while clients are still sending.
 */
#include "test.h"

#include "web_test.h"

static struct env E;

/* ---- many clients at once ---------------------------------------------------- */

#define CC_THREADS 50
#define CC_REQS 100

struct cc_arg {
    uint16_t port;
    struct journal *j;
    int t;
    int acked;
    int early; /* answered before the journal said durable */
    bool acked_ok[CC_REQS];
};

#define CC_FMT "{\"title\":\"cc\",\"n\":%d}"

static void *cc_client(void *p)
{
    struct cc_arg *a = p;
    struct hc *c = malloc(sizeof *c);
    if (!hc_open(c, a->port)) {
        free(c);
        return NULL;
    }
    for (int i = 0; i < CC_REQS; i++) {
        char ev[64];
        snprintf(ev, sizeof ev, CC_FMT, a->t * CC_REQS + i);
        struct hresp r;
        if (!hc_request(c, "POST", "/v1/events", NULL, ev, strlen(ev), &r)) {
            hc_close(c);
            if (!hc_open(c, a->port))
                break;
            continue;
        }
        if (r.status == 200 && jint(r.body, "accepted") == 1) {
            long long seq = jint(r.body, "last_seq");
            if (seq < 1 || journal_durable_seq(a->j) < (uint64_t)seq)
                a->early++;
            a->acked++;
            a->acked_ok[i] = true;
        }
        hresp_free(&r);
    }
    hc_close(c);
    free(c);
    return NULL;
}

static void test_concurrency(void)
{
    struct journal_stats s0, s1;
    journal_stats(E.j, &s0);
    uint64_t seq0 = journal_durable_seq(E.j);
    static struct cc_arg args[CC_THREADS];
    pthread_t th[CC_THREADS];
    int64_t t0 = kb_mono_ns();
    for (int t = 0; t < CC_THREADS; t++) {
        args[t] = (struct cc_arg){.port = E.port, .j = E.j, .t = t};
        pthread_create(&th[t], NULL, cc_client, &args[t]);
    }
    int acked = 0, early = 0;
    for (int t = 0; t < CC_THREADS; t++) {
        pthread_join(th[t], NULL);
        acked += args[t].acked;
        early += args[t].early;
    }
    double secs = (double)(kb_mono_ns() - t0) / 1e9;
    journal_stats(E.j, &s1);
    uint64_t syncs = s1.syncs - s0.syncs;
    fprintf(stderr, "  concurrency: %d acked in %.2fs (%.0f req/s), %llu fsyncs\n", acked, secs,
            acked / secs, (unsigned long long)syncs);
    T_EQ_INT(acked, CC_THREADS * CC_REQS);
    T_EQ_INT(early, 0);
    T_CHECKF(syncs < (uint64_t)(CC_THREADS * CC_REQS), "%llu syncs for %d requests",
             (unsigned long long)syncs, CC_THREADS * CC_REQS);

    /* Every acknowledged event is in the journal exactly once, verbatim. */
    int n = CC_THREADS * CC_REQS;
    unsigned char *seen = calloc((size_t)n, 1);
    struct journal_reader *rd = NULL;
    T_EQ_INT(journal_reader_open(E.j, seq0, &rd), KB_OK);
    struct journal_entry je;
    int bad = 0;
    while (rd && journal_reader_next(rd, &je) == KB_OK) {
        if (je.kind != JOURNAL_EVENT_JSON || je.data.n < 8 ||
            memcmp(je.data.p, "{\"title\":\"cc\"", 13) != 0)
            continue;
        char tmp[64];
        size_t k = je.data.n < sizeof tmp - 1 ? je.data.n : sizeof tmp - 1;
        memcpy(tmp, je.data.p, k);
        tmp[k] = '\0';
        int id = (int)jint(tmp, "n");
        char want[64];
        snprintf(want, sizeof want, CC_FMT, id);
        if (id < 0 || id >= n || strcmp(tmp, want) != 0 || je.path != JOURNAL_PATH_HTTP)
            bad++;
        else
            seen[id]++;
    }
    if (rd)
        journal_reader_close(rd);
    int missing = 0, dup = 0;
    for (int t = 0; t < CC_THREADS; t++)
        for (int i = 0; i < CC_REQS; i++) {
            int id = t * CC_REQS + i;
            if (args[t].acked_ok[i] && seen[id] == 0)
                missing++;
            if (seen[id] > 1)
                dup++;
        }
    T_EQ_INT(bad, 0);
    T_EQ_INT(missing, 0);
    T_EQ_INT(dup, 0);
    free(seen);
}

/* web_stop while clients are still sending: it returns, and whatever was
 * acknowledged is durable. */
static void test_stop_under_load(void)
{
    struct env *t = calloc(1, sizeof *t);
    if (!env_start(t, NULL, 1 << 20)) {
        T_CHECK(!"second server started");
        free(t);
        return;
    }
    enum { N = 8 };
    static struct cc_arg args[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        args[i] = (struct cc_arg){.port = t->port, .j = t->j, .t = i};
        pthread_create(&th[i], NULL, cc_client, &args[i]);
    }
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    int64_t t0 = kb_mono_ns();
    web_stop(t->w);
    t->w = NULL;
    T_CHECK(kb_mono_ns() - t0 < 10LL * 1000 * 1000 * 1000);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    int acked = 0, missing = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < CC_REQS; k++)
            if (args[i].acked_ok[k]) {
                acked++;
                char ev[64];
                snprintf(ev, sizeof ev, CC_FMT, i * CC_REQS + k);
                if (journal_count(t, ev, strlen(ev), NULL) != 1)
                    missing++;
            }
    fprintf(stderr, "  stop under load: %d acknowledged before the stop\n", acked);
    T_EQ_INT(missing, 0);
    for (int i = 0; i < N; i++)
        T_EQ_INT(args[i].early, 0);
    env_stop(t);
    free(t);
}

static bool up;

static void test_start(void)
{
    up = env_start(&E, NULL, 256 * 1024);
    T_CHECK(up);
}

int main(void)
{
    T_RUN(test_start);
    if (up) {
        T_RUN(test_concurrency);
        env_stop(&E);
    }
    T_RUN(test_stop_under_load);
    return t_done();
}
