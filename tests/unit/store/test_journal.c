/* test_journal.c — the durable journal: round trips, group commit, torn
 * tails, corruption, rotation, readers, trim, limits and sticky failure. */
#include "test.h"

#include "journal_testlib.h"
#include "lib/log.h"
#include "store/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>

static char t_root[256];

static void tdir(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", t_root, name);
}

/* Segment first seqs in dir, sorted; returns the count. */
static size_t list_segs(const char *dir, uint64_t *firsts, size_t max)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l == 23 && strcmp(de->d_name + 20, ".kj") == 0 && n < max)
            firsts[n++] = strtoull(de->d_name, NULL, 10);
    }
    if (d)
        closedir(d);
    for (size_t i = 1; i < n; i++) /* insertion sort */
        for (size_t k = i; k > 0 && firsts[k - 1] > firsts[k]; k--) {
            uint64_t t = firsts[k];
            firsts[k] = firsts[k - 1];
            firsts[k - 1] = t;
        }
    return n;
}

static void write_file(const char *path, const char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    if (n)
        fwrite(p, 1, n, f);
    fclose(f);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* A payload determined by seq, 1..max bytes. */
static size_t gen_payload(uint64_t seq, char *out, size_t max)
{
    size_t n = 1 + (size_t)((seq * 7919u) % max);
    for (size_t k = 0; k < n; k++)
        out[k] = (char)((seq * 31u + k) & 0xff);
    return n;
}

static struct journal_entry ent(const char *p, size_t n)
{
    return (struct journal_entry){.recv_ms = 1700000000123, .kind = JOURNAL_EVENT_JSON,
                                  .path = JOURNAL_PATH_HTTP, .data = {p, n}};
}

static struct journal *open_j(const char *dir, size_t seg, size_t pend)
{
    struct journal_opts o = {.segment_bytes = seg, .max_pending = pend};
    struct journal *j = NULL;
    struct kb_why why = {{0}};
    kb_err rc = journal_open(dir, &o, &j, &why);
    T_CHECKF(rc == KB_OK, "open %s: %s: %s", dir, kb_strerror(rc), why.msg);
    return j;
}

/* Appends records whose payloads come from gen_payload(seq); returns last. */
static uint64_t append_gen(struct journal *j, uint64_t from, size_t count, size_t max)
{
    static char buf[4096];
    uint64_t last = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n = gen_payload(from + i, buf, max);
        struct journal_entry e = ent(buf, n);
        T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK);
        T_EQ_INT(last, from + i);
    }
    return last;
}

/* A record holds gen_payload(seq) of at most *(size_t *)max bytes. */
static bool is_gen(void *max, struct journal_reader *r, struct journal_entry *e)
{
    (void)r;
    char want[4096];
    size_t wn = gen_payload(e->seq, want, *(size_t *)max);
    return e->data.n == wn && memcmp(e->data.p, want, wn) == 0;
}

/* Reads everything after `after`, checking gen_payload contents; returns
 * how many records were read (stops at the first mismatch). */
static uint64_t read_check(struct journal *j, uint64_t after, size_t max)
{
    return jt_read_all(j, after, false, is_gen, &max);
}

static void test_round_trip(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "roundtrip");
    struct journal *j = open_j(dir, 0, 0);
    if (!j)
        return;
    T_EQ_INT(journal_durable_seq(j), 0);
    static const char bin[] = {'a', 0, 'b', (char)0xff, '\n'};
    struct journal_entry es[] = {
        {.recv_ms = 0, .kind = JOURNAL_EVENT_JSON, .format_id = 0, .path = JOURNAL_PATH_HTTP,
         .data = KB_STR_LIT("{\"a\":1}")},
        {.recv_ms = -5, .kind = JOURNAL_EVENT_TEXT, .format_id = 7, .path = JOURNAL_PATH_SYSLOG,
         .data = KB_STR_LIT("<13>Jan 1 host app: hi")},
        {.recv_ms = INT64_MAX, .kind = JOURNAL_REJECT, .format_id = 255,
         .path = JOURNAL_PATH_SPOOL, .data = {bin, sizeof bin}},
        {.recv_ms = INT64_MIN, .kind = JOURNAL_EVENT_JSON, .format_id = 128,
         .path = JOURNAL_PATH_CLI, .data = {NULL, 0}},
    };
    uint64_t last = 0;
    T_EQ_INT(journal_append(j, es, 1, &last), KB_OK);
    T_EQ_INT(last, 1);
    T_EQ_INT(journal_append(j, es + 1, 3, &last), KB_OK); /* one group */
    T_EQ_INT(last, 4);
    T_EQ_INT(journal_wait(j, last, 5000), KB_OK);
    T_EQ_INT(journal_durable_seq(j), 4);

    struct journal_entry bad = es[0];
    bad.kind = 0;
    T_EQ_INT(journal_append(j, &bad, 1, &last), KB_EINVAL);
    bad = es[0];
    bad.path = 9;
    T_EQ_INT(journal_append(j, &bad, 1, &last), KB_EINVAL);
    T_EQ_INT(journal_append(j, es, 0, &last), KB_EINVAL);
    T_EQ_INT(last, 4);

    struct journal_reader *r = NULL;
    T_EQ_INT(journal_reader_open(j, 0, &r), KB_OK);
    struct journal_entry e;
    for (size_t i = 0; i < 4 && r; i++) {
        T_EQ_INT(journal_reader_next(r, &e), KB_OK);
        T_EQ_INT(e.seq, i + 1);
        T_EQ_INT(e.recv_ms, es[i].recv_ms);
        T_EQ_INT(e.kind, es[i].kind);
        T_EQ_INT(e.format_id, es[i].format_id);
        T_EQ_INT(e.path, es[i].path);
        T_EQ_INT(e.data.n, es[i].data.n);
        T_CHECK(e.data.n == 0 || memcmp(e.data.p, es[i].data.p, e.data.n) == 0);
    }
    if (r)
        T_EQ_INT(journal_reader_next(r, &e), KB_ENOTFOUND);
    journal_reader_close(r);
    journal_close(j);

    /* Reopen: numbering continues, a reader can start in the middle. */
    j = open_j(dir, 0, 0);
    if (!j)
        return;
    T_EQ_INT(journal_durable_seq(j), 4);
    T_EQ_INT(journal_append(j, es, 1, &last), KB_OK);
    T_EQ_INT(last, 5);
    T_EQ_INT(journal_wait(j, 5, 5000), KB_OK);
    T_EQ_INT(journal_reader_open(j, 3, &r), KB_OK);
    uint64_t seqs[3] = {0};
    for (int i = 0; i < 3 && r; i++)
        if (journal_reader_next(r, &e) == KB_OK)
            seqs[i] = e.seq;
    T_CHECK(seqs[0] == 4 && seqs[1] == 5 && seqs[2] == 0);
    journal_reader_close(r);
    struct journal_stats st;
    journal_stats(j, &st);
    T_EQ_INT(st.records, 1); /* made durable since this open */
    T_EQ_INT(st.segments, 1);
    T_EQ_INT(st.torn_bytes, 0);
    T_EQ_INT(st.bytes, 32 + es[0].data.n);
    T_EQ_INT(st.syncs, 1);
    journal_close(j);
}

struct cbstate {
    atomic_int calls;
    atomic_int last_err;
    pthread_t thread;
};

static void on_done(void *ctx, kb_err err)
{
    struct cbstate *s = ctx;
    s->thread = pthread_self();
    atomic_store(&s->last_err, (int)err);
    atomic_fetch_add(&s->calls, 1);
}

static void test_wait_and_callbacks(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "wait");
    struct journal *j = open_j(dir, 0, 0);
    if (!j)
        return;
    struct cbstate early = {0}, now = {0}, never = {0}, flushed = {0};
    T_EQ_INT(journal_on_durable(j, 1, on_done, &early), KB_OK); /* before the append */
    T_EQ_INT(journal_wait(j, 1, 30), KB_ETIMEOUT);
    T_EQ_INT(journal_wait(j, 0, 0), KB_OK);
    uint64_t last;
    struct journal_entry e = ent("x", 1);
    T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK);
    T_EQ_INT(journal_wait(j, last, -1), KB_OK);
    for (int i = 0; i < 1000 && atomic_load(&early.calls) == 0; i++)
        usleep(1000); /* the writer runs callbacks after waking waiters */
    T_EQ_INT(atomic_load(&early.calls), 1);
    T_EQ_INT(atomic_load(&early.last_err), KB_OK);
    T_CHECK(!pthread_equal(early.thread, pthread_self()));

    T_EQ_INT(journal_on_durable(j, 1, on_done, &now), KB_OK); /* already durable */
    T_EQ_INT(atomic_load(&now.calls), 1);
    T_CHECK(pthread_equal(now.thread, pthread_self()));
    T_EQ_INT(journal_on_durable(j, 1000, on_done, &never), KB_OK);
    T_EQ_INT(journal_on_durable(j, 1, NULL, NULL), KB_EINVAL);

    /* close writes and syncs what is pending, then runs its callbacks */
    for (int i = 0; i < 300; i++)
        T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK);
    T_EQ_INT(journal_on_durable(j, last, on_done, &flushed), KB_OK);
    journal_close(j);
    T_EQ_INT(atomic_load(&flushed.calls), 1);
    T_EQ_INT(atomic_load(&flushed.last_err), KB_OK);
    T_EQ_INT(atomic_load(&never.calls), 1);
    T_EQ_INT(atomic_load(&never.last_err), KB_ECLOSED);
    T_EQ_INT(atomic_load(&early.calls), 1);
    j = open_j(dir, 0, 0);
    T_EQ_INT(journal_durable_seq(j), 301);
    journal_close(j);
}

/* A thread in journal_wait (or, kickable, journal_wait_kickable with gen)
 * for seq; rc is its result, -1 while it waits. */
struct waiter {
    struct journal *j;
    uint64_t seq, gen;
    bool kickable;
    atomic_int rc;
};

static void *waiter_main(void *p)
{
    struct waiter *w = p;
    kb_err e = w->kickable ? journal_wait_kickable(w->j, w->seq, 20000, w->gen)
                           : journal_wait(w->j, w->seq, 20000);
    atomic_store(&w->rc, (int)e);
    return NULL;
}

/* Waiters for different seqs: the writer wakes waiters only when the
 * smallest awaited seq is durable, so each must still return when its own
 * seq is, whichever registered first. */
static void test_waiters_for_different_seqs(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "waiters");
    struct journal *j = open_j(dir, 0, 0);
    if (!j)
        return;
    /* far registers before near, then near2 after near */
    struct waiter far = {j, 6, 0, false, -1}, near = {j, 2, 0, false, -1},
                  near2 = {j, 3, 0, false, -1};
    pthread_t tf, tn, tn2;
    T_EQ_INT(pthread_create(&tf, NULL, waiter_main, &far), 0);
    usleep(20000);
    T_EQ_INT(pthread_create(&tn, NULL, waiter_main, &near), 0);
    usleep(20000);
    T_EQ_INT(pthread_create(&tn2, NULL, waiter_main, &near2), 0);
    usleep(20000);
    uint64_t last;
    struct journal_entry e = ent("x", 1);
    T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK);
    T_EQ_INT(journal_wait(j, 1, 10000), KB_OK);
    usleep(20000);
    T_EQ_INT(atomic_load(&near.rc), -1);
    T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK); /* 2: near returns */
    for (int i = 0; i < 2000 && atomic_load(&near.rc) == -1; i++)
        usleep(1000);
    T_EQ_INT(atomic_load(&near.rc), KB_OK);
    T_EQ_INT(atomic_load(&near2.rc), -1);
    T_EQ_INT(atomic_load(&far.rc), -1);
    T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK); /* 3: near2 returns */
    for (int i = 0; i < 2000 && atomic_load(&near2.rc) == -1; i++)
        usleep(1000);
    T_EQ_INT(atomic_load(&near2.rc), KB_OK);
    T_EQ_INT(atomic_load(&far.rc), -1);
    for (int i = 0; i < 3; i++)
        T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK); /* 4..6: far returns */
    pthread_join(tf, NULL);
    pthread_join(tn, NULL);
    pthread_join(tn2, NULL);
    T_EQ_INT(atomic_load(&far.rc), KB_OK);
    T_EQ_INT(last, 6);
    journal_close(j);
}

/* journal_kick() ends a journal_wait_kickable() in progress, and one whose
 * generation is already stale returns at once; plain waiters keep waiting. */
static void test_kick(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "kick");
    struct journal *j = open_j(dir, 0, 0);
    if (!j)
        return;
    uint64_t gen = journal_kicks(j);
    struct waiter k = {j, 1000, gen, true, -1}, plain = {j, 2, 0, false, -1};
    pthread_t tk, tp;
    T_EQ_INT(pthread_create(&tk, NULL, waiter_main, &k), 0);
    T_EQ_INT(pthread_create(&tp, NULL, waiter_main, &plain), 0);
    usleep(50000);
    T_EQ_INT(atomic_load(&k.rc), -1);
    journal_kick(j);
    for (int i = 0; i < 5000 && atomic_load(&k.rc) == -1; i++)
        usleep(1000);
    T_EQ_INT(atomic_load(&k.rc), KB_ETIMEOUT); /* long before its 20 s */
    T_EQ_INT(atomic_load(&plain.rc), -1);
    T_CHECK(journal_kicks(j) != gen);
    /* a generation read before the kick: the wait ends at once */
    T_EQ_INT(journal_wait_kickable(j, 1000, 20000, gen), KB_ETIMEOUT);
    /* durable already: OK whatever the generation */
    uint64_t last;
    struct journal_entry e = ent("x", 1);
    T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK);
    T_EQ_INT(journal_wait_kickable(j, last, 10000, journal_kicks(j)), KB_OK);
    T_EQ_INT(atomic_load(&plain.rc), -1);
    T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK); /* 2: the plain waiter's */
    pthread_join(tk, NULL);
    pthread_join(tp, NULL);
    T_EQ_INT(atomic_load(&plain.rc), KB_OK);
    journal_close(j);
}

#define CT_THREADS 8
#define CT_RECORDS 2000

struct ct_arg {
    struct journal *j;
    int tid;
    int errors;
};

static void *ct_main(void *p)
{
    struct ct_arg *a = p;
    char buf[1200];
    memset(buf, 'p', sizeof buf);
    uint64_t last = 0;
    for (int i = 0; i < CT_RECORDS; i++) {
        int n = snprintf(buf, 64, "%d %d ", a->tid, i);
        buf[n] = 'p';
        struct journal_entry e = ent(buf, 1000 + (size_t)(i % 150));
        if (journal_append(a->j, &e, 1, &last) != KB_OK)
            a->errors++;
        if (i % 100 == 99 && journal_wait(a->j, last, 10000) != KB_OK)
            a->errors++;
    }
    if (journal_wait(a->j, last, 10000) != KB_OK)
        a->errors++;
    return NULL;
}

static void test_concurrent_appends(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "concurrent");
    struct journal *j = open_j(dir, 4 << 20, 0);
    if (!j)
        return;
    pthread_t th[CT_THREADS];
    struct ct_arg args[CT_THREADS];
    for (int t = 0; t < CT_THREADS; t++) {
        args[t] = (struct ct_arg){j, t, 0};
        pthread_create(&th[t], NULL, ct_main, &args[t]);
    }
    for (int t = 0; t < CT_THREADS; t++) {
        pthread_join(th[t], NULL);
        T_EQ_INT(args[t].errors, 0);
    }
    struct journal_stats st;
    journal_stats(j, &st);
    T_EQ_INT(st.records, CT_THREADS * CT_RECORDS);
    T_CHECKF(st.syncs * 10 < st.records, "syncs=%" PRIu64 " records=%" PRIu64, st.syncs,
             st.records);
    T_CHECK(st.segments >= 2);

    int next[CT_THREADS] = {0}, bad = 0;
    uint64_t seen = 0;
    struct journal_reader *r = NULL;
    T_EQ_INT(journal_reader_open(j, 0, &r), KB_OK);
    struct journal_entry e;
    while (r && journal_reader_next(r, &e) == KB_OK) {
        seen++;
        char tmp[64];
        size_t n = KB_MIN(e.data.n, sizeof tmp - 1);
        memcpy(tmp, e.data.p, n);
        tmp[n] = '\0';
        char *end;
        long t = strtol(tmp, &end, 10), i = strtol(end, NULL, 10);
        if (e.seq != seen || t < 0 || t >= CT_THREADS || i != next[t]++)
            bad++;
    }
    journal_reader_close(r);
    T_EQ_INT(bad, 0);
    T_EQ_INT(seen, CT_THREADS * CT_RECORDS);
    for (int t = 0; t < CT_THREADS; t++)
        T_EQ_INT(next[t], CT_RECORDS);
    journal_close(j);
}

/* Reopens dir after the last segment was replaced by bytes[0..n) and checks
 * that exactly `keep` records survive, the file is cut at `cut_to`, and the
 * next append gets keep + 1. */
static void torn_case(const char *dir, const char *seg, const char *bytes, size_t n,
                      uint64_t keep, size_t cut_to, size_t max, const char *what)
{
    write_file(seg, bytes, n);
    struct journal *j = open_j(dir, 0, 0);
    if (!j)
        return;
    struct journal_stats st;
    journal_stats(j, &st);
    T_CHECKF(journal_durable_seq(j) == keep, "%s: durable %" PRIu64, what,
             journal_durable_seq(j));
    T_CHECKF(st.torn_bytes == n - cut_to, "%s: torn %" PRIu64, what, st.torn_bytes);
    T_CHECKF(file_size(seg) == (long)cut_to, "%s: size %ld", what, file_size(seg));
    T_EQ_INT(append_gen(j, keep + 1, 1, max), keep + 1);
    T_EQ_INT(journal_wait(j, keep + 1, 5000), KB_OK);
    T_EQ_INT(read_check(j, 0, max), keep + 1);
    journal_close(j);
}

static void test_torn_tail(void)
{
    char dir[300], seg[400];
    tdir(dir, sizeof dir, "torn");
    const size_t max = 300;
    struct journal *j = open_j(dir, 0, 0);
    if (!j)
        return;
    uint64_t last = append_gen(j, 1, 20, max);
    T_EQ_INT(journal_wait(j, last, 5000), KB_OK);
    journal_close(j);
    jt_seg_path(seg, sizeof seg, dir, 1);
    size_t n = 0;
    char *orig = t_read_file(seg, &n);
    char tmp[4096];
    size_t last_len = 32 + gen_payload(20, tmp, max);
    T_CHECK(orig && n > last_len);
    if (!orig)
        return;
    size_t start = n - last_len;
    T_CHECK(memcmp(orig + start, "KJR2", 4) == 0);

    /* Every cut inside the last record: 19 survive; record 20 is rewritten
     * by the check, so restore the original bytes each time. */
    for (size_t cut = start; cut < n; cut++)
        torn_case(dir, seg, orig, cut, 19, start, max, "cut");
    /* A flipped byte anywhere in the last record (header or payload). */
    size_t flips[] = {start, start + 5, start + 9, start + 20, start + 24, start + 27,
                      start + 29, start + 32, n - 1};
    for (size_t i = 0; i < KB_ARRAY_LEN(flips); i++) {
        char *c = kb_malloc(n);
        memcpy(c, orig, n);
        c[flips[i]] ^= 0x10;
        torn_case(dir, seg, c, n, 19, start, max, "flip");
        free(c);
    }
    /* The whole file intact: nothing cut. */
    torn_case(dir, seg, orig, n, 20, n, max, "whole");
    free(orig);

    /* A group is kept whole or dropped whole. */
    j = open_j(dir, 0, 0);
    if (!j)
        return;
    char a[300], b[300], c[300];
    struct journal_entry grp[3];
    uint64_t s0 = journal_durable_seq(j);
    grp[0] = ent(a, gen_payload(s0 + 1, a, max));
    grp[1] = ent(b, gen_payload(s0 + 2, b, max));
    grp[2] = ent(c, gen_payload(s0 + 3, c, max));
    T_EQ_INT(journal_append(j, grp, 3, &last), KB_OK);
    T_EQ_INT(journal_wait(j, last, 5000), KB_OK);
    journal_close(j);
    orig = t_read_file(seg, &n);
    size_t glen = 96 + grp[0].data.n + grp[1].data.n + grp[2].data.n;
    if (!orig)
        return;
    torn_case(dir, seg, orig, n - 1, s0, n - glen, max, "group cut in third");
    torn_case(dir, seg, orig, n - (32 + grp[2].data.n), s0, n - glen, max,
              "group cut between records");
    free(orig);
}

static void test_old_segment_corrupt(void)
{
    char dir[300], seg[400];
    tdir(dir, sizeof dir, "corrupt");
    struct journal *j = open_j(dir, 2048, 0);
    if (!j)
        return;
    uint64_t last = append_gen(j, 1, 60, 300);
    T_EQ_INT(journal_wait(j, last, 5000), KB_OK);
    uint64_t f[64];
    size_t ns = list_segs(dir, f, 64);
    T_CHECK(ns >= 3);
    jt_seg_path(seg, sizeof seg, dir, f[0]);
    size_t n = 0;
    char *orig = t_read_file(seg, &n);
    if (!orig || n < 40) {
        T_CHECK(0);
        free(orig);
        journal_close(j);
        return;
    }
    /* While open: a reader checks every record's check. */
    char *c = kb_malloc(n);
    memcpy(c, orig, n);
    c[35] ^= 1; /* first record's payload */
    write_file(seg, c, n);
    struct journal_reader *r = NULL;
    struct journal_entry e;
    T_EQ_INT(journal_reader_open(j, 0, &r), KB_OK);
    if (r)
        T_EQ_INT(journal_reader_next(r, &e), KB_ECORRUPT);
    journal_reader_close(r);
    journal_close(j);

    struct kb_why why = {{0}};
    T_EQ_INT(journal_open(dir, NULL, &j, &why), KB_ECORRUPT);
    T_CHECKF(strstr(why.msg, "00000000000000000001.kj") != NULL, "why: %s", why.msg);
    /* An older segment cut short is corruption too, not a torn tail. */
    write_file(seg, orig, n - 3);
    T_EQ_INT(journal_open(dir, NULL, &j, &why), KB_ECORRUPT);
    /* A missing middle segment breaks the sequence. */
    write_file(seg, orig, n);
    char mid[400];
    jt_seg_path(mid, sizeof mid, dir, f[1]);
    size_t mn = 0;
    char *mbytes = t_read_file(mid, &mn);
    unlink(mid);
    T_EQ_INT(journal_open(dir, NULL, &j, &why), KB_ECORRUPT);
    write_file(mid, mbytes, mn);
    T_EQ_INT(journal_open(dir, NULL, &j, &why), KB_OK);
    T_EQ_INT(journal_durable_seq(j), 60);
    journal_close(j);
    free(mbytes);
    free(c);
    free(orig);
}

struct rot_arg {
    struct journal *j;
    uint64_t total;
    int errors;
};

static void *rot_writer(void *p)
{
    struct rot_arg *a = p;
    char bufs[5][400];
    struct journal_entry es[5];
    uint64_t seq = 1, last = 0;
    while (seq <= a->total) {
        size_t g = KB_MIN((size_t)(1 + seq % 5), (size_t)(a->total - seq + 1));
        for (size_t i = 0; i < g; i++)
            es[i] = ent(bufs[i], gen_payload(seq + i, bufs[i], 400));
        if (journal_append(a->j, es, g, &last) != KB_OK || last != seq + g - 1)
            a->errors++;
        seq += g;
        if (seq % 7 == 0)
            usleep(100);
    }
    return NULL;
}

static void test_rotation_and_follow(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "rotation");
    const size_t segb = 8192;
    struct journal *j = open_j(dir, segb, 0);
    if (!j)
        return;
    struct journal_reader *r = NULL;
    T_EQ_INT(journal_reader_open(j, 0, &r), KB_OK);
    struct rot_arg a = {j, 3000, 0};
    pthread_t th;
    pthread_create(&th, NULL, rot_writer, &a);
    uint64_t expect = 1;
    char want[400];
    int64_t deadline = kb_mono_ns() + 60 * 1000000000LL;
    int bad = 0;
    while (r && expect <= a.total && kb_mono_ns() < deadline) {
        struct journal_entry e;
        kb_err rc = journal_reader_next(r, &e);
        if (rc == KB_ENOTFOUND) {
            journal_wait(j, expect, 100);
            continue;
        }
        if (rc != KB_OK) {
            T_CHECKF(0, "reader: %s at %" PRIu64, kb_strerror(rc), expect);
            break;
        }
        size_t wn = gen_payload(expect, want, 400);
        if (e.seq != expect || e.data.n != wn || memcmp(e.data.p, want, wn) != 0)
            bad++;
        expect++;
    }
    pthread_join(th, NULL);
    T_EQ_INT(a.errors, 0);
    T_EQ_INT(bad, 0);
    T_EQ_INT(expect, a.total + 1);
    journal_reader_close(r);
    struct journal_stats st;
    journal_stats(j, &st);
    T_CHECK(st.segments >= 20);
    journal_close(j);

    /* Names are first seqs; older segments end near segment_bytes. */
    uint64_t f[1024];
    size_t ns = list_segs(dir, f, 1024);
    T_EQ_INT(ns, st.segments);
    T_EQ_INT(f[0], 1);
    for (size_t i = 0; i + 1 < ns; i++) {
        char p[400];
        jt_seg_path(p, sizeof p, dir, f[i]);
        long sz = file_size(p);
        T_CHECKF(sz >= (long)segb && sz < (long)(segb + 5 * 432), "segment %zu: %ld", i, sz);
    }
    j = open_j(dir, segb, 0);
    if (j) {
        T_EQ_INT(journal_durable_seq(j), a.total);
        T_EQ_INT(read_check(j, 2500, 400), 500);
        journal_close(j);
    }
}

/* A consumer that opens one reader per batch (as the pipeline does) resumes
 * where the previous reader stopped, across rotations and while appending. */
static void test_batched_readers(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "batched");
    struct journal *j = open_j(dir, 3000, 0);
    if (!j)
        return;
    uint64_t done = 0, appended = 0;
    char want[300];
    int bad = 0;
    for (int round = 0; round < 400 && done < 600; round++) {
        if (appended < 600) {
            appended = append_gen(j, appended + 1, 5, 300);
            T_EQ_INT(journal_wait(j, appended, 5000), KB_OK);
        }
        struct journal_reader *r = NULL;
        T_EQ_INT(journal_reader_open(j, done, &r), KB_OK);
        struct journal_entry e;
        for (int k = 0; r && k < 7 && journal_reader_next(r, &e) == KB_OK; k++) {
            size_t wn = gen_payload(done + 1, want, 300);
            if (e.seq != done + 1 || e.data.n != wn || memcmp(e.data.p, want, wn) != 0)
                bad++;
            done = e.seq;
        }
        journal_reader_close(r);
    }
    T_EQ_INT(bad, 0);
    T_EQ_INT(done, 600);
    struct journal_stats st;
    journal_stats(j, &st);
    T_CHECK(st.segments >= 10);
    /* Going back to an earlier point still works (no remembered position). */
    T_EQ_INT(read_check(j, 123, 300), 600 - 123);
    journal_close(j);
}

static void test_trim(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "trim");
    struct journal *j = open_j(dir, 4096, 0);
    if (!j)
        return;
    uint64_t last = append_gen(j, 1, 200, 300);
    T_EQ_INT(journal_wait(j, last, 5000), KB_OK);
    uint64_t f[256];
    size_t ns = list_segs(dir, f, 256);
    T_CHECK(ns >= 6);
    if (ns < 6) {
        journal_close(j);
        return;
    }
    /* too young: nothing goes */
    T_EQ_INT(journal_trim(j, last, 3600 * 1000), KB_OK);
    T_EQ_INT(list_segs(dir, f, 256), ns);
    /* segment 1 holds f[1]..f[2]-1: not all processed, so only segment 0 goes */
    T_EQ_INT(journal_trim(j, f[2] - 2, 0), KB_OK);
    uint64_t g[256];
    T_EQ_INT(list_segs(dir, g, 256), ns - 1);
    T_EQ_INT(g[0], f[1]);
    /* exactly processed up to the end of segment 2 */
    T_EQ_INT(journal_trim(j, f[3] - 1, 0), KB_OK);
    T_EQ_INT(list_segs(dir, g, 256), ns - 3);
    T_EQ_INT(g[0], f[3]);
    struct journal_stats st;
    journal_stats(j, &st);
    T_EQ_INT(st.segments, ns - 3);
    T_EQ_INT(st.records, last);
    /* a reader asking for trimmed records starts at the oldest kept */
    T_EQ_INT(read_check(j, f[3] - 1, 300), last - f[3] + 1);
    struct journal_reader *r = NULL;
    struct journal_entry e;
    T_EQ_INT(journal_reader_open(j, 0, &r), KB_OK);
    if (r) {
        T_EQ_INT(journal_reader_next(r, &e), KB_OK);
        T_EQ_INT(e.seq, f[3]);
    }
    journal_reader_close(r);
    /* everything processed: the newest segment stays */
    T_EQ_INT(journal_trim(j, UINT64_MAX, 0), KB_OK);
    T_EQ_INT(list_segs(dir, g, 256), 1);
    T_EQ_INT(g[0], f[ns - 1]);
    T_EQ_INT(append_gen(j, last + 1, 1, 300), last + 1);
    T_EQ_INT(journal_wait(j, last + 1, 5000), KB_OK);
    journal_close(j);
    j = open_j(dir, 4096, 0);
    if (j)
        T_EQ_INT(read_check(j, f[ns - 1] - 1, 300), last + 1 - f[ns - 1] + 1);
    journal_close(j);
}

static void test_limits(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "limits");
    struct journal *j = open_j(dir, 0, 0);
    if (!j)
        return;
    char *big = kb_malloc(JOURNAL_MAX_RECORD + 1);
    memset(big, 'z', JOURNAL_MAX_RECORD + 1);
    struct journal_entry e = ent(big, JOURNAL_MAX_RECORD + 1);
    uint64_t last = 0;
    T_EQ_INT(journal_append(j, &e, 1, &last), KB_ETOOBIG);
    e.data.n = JOURNAL_MAX_RECORD;
    T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK);
    T_EQ_INT(journal_wait(j, last, 10000), KB_OK);
    struct journal_reader *r = NULL;
    T_EQ_INT(journal_reader_open(j, 0, &r), KB_OK);
    struct journal_entry got;
    if (r) {
        T_EQ_INT(journal_reader_next(r, &got), KB_OK);
        T_EQ_INT(got.data.n, JOURNAL_MAX_RECORD);
        T_CHECK(got.data.n == JOURNAL_MAX_RECORD && memcmp(got.data.p, big, got.data.n) == 0);
    }
    journal_reader_close(r);
    free(big);

    struct journal *j2 = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(journal_open(dir, NULL, &j2, &why), KB_EBUSY);
    T_CHECK(j2 == NULL);
    T_CHECKF(strstr(why.msg, dir) != NULL, "why: %s", why.msg);
    journal_close(j);
    T_EQ_INT(journal_open(dir, NULL, &j2, &why), KB_OK);
    journal_close(j2);
}

struct bp_arg {
    struct journal *j;
    int tid, errors;
};

static void *bp_main(void *p)
{
    struct bp_arg *a = p;
    char buf[1000];
    memset(buf, 'b', sizeof buf);
    for (int i = 0; i < 300; i++) {
        struct journal_entry e[6];
        size_t g = i % 10 == 0 ? 6 : 1; /* 6 KB: larger than max_pending */
        for (size_t k = 0; k < g; k++)
            e[k] = ent(buf, sizeof buf);
        uint64_t last;
        if (journal_append(a->j, e, g, &last) != KB_OK)
            a->errors++;
    }
    return NULL;
}

static void test_back_pressure(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "backpressure");
    struct journal *j = open_j(dir, 0, 4096);
    if (!j)
        return;
    pthread_t th[4];
    struct bp_arg args[4];
    for (int t = 0; t < 4; t++) {
        args[t] = (struct bp_arg){j, t, 0};
        pthread_create(&th[t], NULL, bp_main, &args[t]);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        T_EQ_INT(args[t].errors, 0);
    }
    uint64_t total = 4 * (270 + 30 * 6);
    T_EQ_INT(journal_wait(j, total, 10000), KB_OK);
    struct journal_stats st;
    journal_stats(j, &st);
    T_EQ_INT(st.records, total);
    T_EQ_INT(st.bytes, total * 1032);
    journal_close(j);
}

static void test_sticky_failure(void)
{
    char dir[300], blocker[400];
    tdir(dir, sizeof dir, "sticky");
    struct journal *j = open_j(dir, 1, 0); /* rotate after every append */
    if (!j)
        return;
    T_EQ_INT(append_gen(j, 1, 1, 50), 1);
    T_EQ_INT(journal_wait(j, 1, 5000), KB_OK);
    /* The next segment's name is taken: creating it fails. */
    jt_seg_path(blocker, sizeof blocker, dir, 2);
    T_EQ_INT(mkdir(blocker, 0700), 0);
    struct cbstate cb = {0};
    T_EQ_INT(journal_on_durable(j, 2, on_done, &cb), KB_OK);
    uint64_t last = 0;
    struct journal_entry e = ent("y", 1);
    T_EQ_INT(journal_append(j, &e, 1, &last), KB_OK);
    T_EQ_INT(journal_wait(j, 2, 5000), KB_EIO);
    T_EQ_INT(atomic_load(&cb.calls), 1);
    T_EQ_INT(atomic_load(&cb.last_err), KB_EIO);
    T_EQ_INT(journal_append(j, &e, 1, &last), KB_EIO);
    T_EQ_INT(journal_on_durable(j, 3, on_done, &cb), KB_EIO);
    T_EQ_INT(atomic_load(&cb.calls), 1);
    T_EQ_INT(journal_wait(j, 1, 0), KB_OK); /* still true: 1 is durable */
    T_EQ_INT(journal_durable_seq(j), 1);
    struct journal_reader *r = NULL;
    T_EQ_INT(journal_reader_open(j, 0, &r), KB_EIO);
    T_EQ_INT(journal_trim(j, 1, 0), KB_EIO);
    journal_close(j);
    rmdir(blocker);
    j = open_j(dir, 1, 0);
    if (j) {
        T_EQ_INT(journal_durable_seq(j), 1);
        T_EQ_INT(append_gen(j, 2, 2, 50), 3);
        T_EQ_INT(journal_wait(j, 3, 5000), KB_OK);
        T_EQ_INT(read_check(j, 0, 50), 3);
        journal_close(j);
    }
}

/* Records with an aux section give back data and aux apart, across a
 * reopen (recovery scans them too), beside records without one; an aux over
 * its bound is refused. */
static void test_aux(void)
{
    char dir[300];
    tdir(dir, sizeof dir, "aux");
    struct journal *j = open_j(dir, 0, 0);
    if (!j)
        return;
    struct journal_entry es[4] = {ent("{\"a\":1}", 7), ent("{\"b\":2}", 7), ent("", 0),
                                  ent("x", 1)};
    es[0].aux = (struct kb_str){"SUMMARY-A", 9};
    es[2].aux = (struct kb_str){"\0\1\2", 3}; /* empty data, binary aux */
    uint64_t last = 0;
    T_EQ_INT(journal_append(j, es, 4, &last), KB_OK);
    T_EQ_INT(journal_wait(j, last, 5000), KB_OK);
    struct journal_entry big = ent("y", 1);
    static char huge[JOURNAL_MAX_AUX + 1];
    big.aux = (struct kb_str){huge, sizeof huge};
    uint64_t l2 = 0;
    T_EQ_INT(journal_append(j, &big, 1, &l2), KB_EINVAL);
    journal_close(j);
    j = open_j(dir, 0, 0); /* recovery verifies every record */
    if (!j)
        return;
    struct journal_reader *r = NULL;
    T_EQ_INT(journal_reader_open(j, 0, &r), KB_OK);
    struct journal_entry e;
    const char *want_data[4] = {"{\"a\":1}", "{\"b\":2}", "", "x"};
    const char *want_aux[4] = {"SUMMARY-A", "", "\0\1\2", ""};
    size_t aux_n[4] = {9, 0, 3, 0};
    for (int i = 0; i < 4; i++) {
        T_EQ_INT(journal_reader_next(r, &e), KB_OK);
        T_EQ_INT(e.data.n, strlen(want_data[i]));
        T_CHECK(e.data.n == 0 || memcmp(e.data.p, want_data[i], e.data.n) == 0);
        T_EQ_INT(e.aux.n, aux_n[i]);
        T_CHECK(e.aux.n == 0 || memcmp(e.aux.p, want_aux[i], e.aux.n) == 0);
    }
    T_EQ_INT(journal_reader_next(r, &e), KB_ENOTFOUND);
    journal_reader_close(r);
    journal_close(j);
}

int main(void)
{
    if (!jt_root_make(t_root, sizeof t_root, "koban-test-journal"))
        return 1;
    kb_log_set_level(KB_LOG_ERROR); /* each torn-tail case logs a warning */
    T_RUN(test_round_trip);
    T_RUN(test_wait_and_callbacks);
    T_RUN(test_waiters_for_different_seqs);
    T_RUN(test_kick);
    T_RUN(test_concurrent_appends);
    T_RUN(test_torn_tail);
    T_RUN(test_old_segment_corrupt);
    T_RUN(test_rotation_and_follow);
    T_RUN(test_batched_readers);
    T_RUN(test_trim);
    T_RUN(test_limits);
    T_RUN(test_back_pressure);
    T_RUN(test_sticky_failure);
    T_RUN(test_aux);
    jt_root_remove(t_root);
    return t_done();
}
