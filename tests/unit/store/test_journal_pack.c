/* test_journal_pack.c — the journal with compression on: packs and plain
 * records side by side, lazy readers, readers that stop inside a pack,
 * torn and corrupt packs, and the pack codec on bad input. */
#include "test.h"

#include "journal_testlib.h"
#include "lib/log.h"
#include "store/journal.h"
#include "store/journal_pack.h"

#include <fcntl.h>
#include <inttypes.h>

static char t_root[256];

/* What record seq holds: compressible JSON-like text of varying length, an
 * aux for two seqs in three, and header fields that vary. */
struct want {
    char data[2048], aux[64];
    size_t dn, an;
    uint8_t kind, fmt, path;
    int64_t recv_ms;
};

static void want_of(uint64_t seq, struct want *w)
{
    int n = snprintf(w->data, sizeof w->data,
                     "{\"eventID\":\"%" PRIu64 "\",\"userIdentity\":{\"userName\":\"user-%u\"},"
                     "\"eventName\":\"DescribeInstances\",\"pad\":\"",
                     seq, (unsigned)(seq % 17));
    size_t pad = (size_t)(seq * 7919u % 900);
    for (size_t i = 0; i < pad; i++)
        w->data[n + (int)i] = (char)('a' + (seq + i / 40) % 26);
    n += (int)pad;
    n += snprintf(w->data + n, sizeof w->data - (size_t)n, "\"}");
    w->dn = (size_t)n;
    w->an = seq % 3 ? (size_t)snprintf(w->aux, sizeof w->aux, "aux of %" PRIu64, seq) : 0;
    w->kind = seq % 11 == 0 ? JOURNAL_EVENT_TEXT : JOURNAL_EVENT_JSON;
    w->fmt = (uint8_t)(seq % 5);
    w->path = (uint8_t)(JOURNAL_PATH_HTTP + seq % 4);
    w->recv_ms = 1700000000000 + (int64_t)seq;
}

static struct journal_entry entry_of(const struct want *w)
{
    return (struct journal_entry){.recv_ms = w->recv_ms, .kind = w->kind, .format_id = w->fmt,
                                  .path = w->path, .data = {w->data, w->dn},
                                  .aux = {w->an ? w->aux : NULL, w->an}};
}

static struct journal *open_level(const char *dir, int level, size_t seg)
{
    struct journal_opts o = {.compress_level = level, .segment_bytes = seg};
    struct journal *j = NULL;
    struct kb_why why = {{0}};
    kb_err rc = journal_open(dir, &o, &j, &why);
    T_CHECKF(rc == KB_OK, "open %s: %s: %s", dir, kb_strerror(rc), why.msg);
    return j;
}

/* Appends records from..from+n-1 as one append; returns the last seq. */
static uint64_t append_range(struct journal *j, uint64_t from, size_t n)
{
    struct want *w = kb_calloc(n, sizeof *w);
    struct journal_entry *e = kb_calloc(n, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        want_of(from + i, &w[i]);
        e[i] = entry_of(&w[i]);
    }
    uint64_t last = 0;
    T_EQ_INT(journal_append(j, e, n, &last), KB_OK);
    T_EQ_INT(last, from + n - 1);
    T_EQ_INT(journal_wait(j, last, 10000), KB_OK);
    free(w);
    free(e);
    return last;
}

/* True when e is what record e->seq holds. */
static bool entry_is(const struct journal_entry *e)
{
    struct want w;
    want_of(e->seq, &w);
    return e->data.n == w.dn && memcmp(e->data.p, w.data, w.dn) == 0 && e->aux.n == w.an &&
           (w.an == 0 || memcmp(e->aux.p, w.aux, w.an) == 0) && e->kind == w.kind &&
           e->format_id == w.fmt && e->path == w.path && e->recv_ms == w.recv_ms;
}

/* e is what its seq holds, once journal_reader_data has filled it; when
 * *strict (every record packed, read lazily) it came without its data. */
static bool is_want(void *strict, struct journal_reader *r, struct journal_entry *e)
{
    if (*(bool *)strict && e->aux.n && e->data.n && e->data.p) {
        T_CHECKF(0, "lazy record %" PRIu64 " came with its data", e->seq);
        return false;
    }
    T_EQ_INT(journal_reader_data(r, e), KB_OK);
    return entry_is(e);
}

/* Reads every record after `after`; returns how many were right and in
 * order (stops at the first that is not). */
static uint64_t read_all_(struct journal *j, uint64_t after, bool lazy, bool all_packed)
{
    bool strict = all_packed && lazy;
    return jt_read_all(j, after, lazy, is_want, &strict);
}

static uint64_t read_all(struct journal *j, uint64_t after, bool lazy)
{
    return read_all_(j, after, lazy, false);
}

static size_t count_magic(const char *p, size_t n, const char *magic)
{
    size_t c = 0;
    for (const char *q = p; (q = memmem(q, n - (size_t)(q - p), magic, 4)) != NULL; q += 4)
        c++;
    return c;
}

static void test_round_trip(void)
{
    char dir[300], seg[400];
    snprintf(dir, sizeof dir, "%s/rt", t_root);
    struct journal *j = open_level(dir, 1, 0);
    if (!j)
        return;
    uint64_t last = append_range(j, 1, 3000); /* ~1.6 MB: several packs */
    for (int i = 0; i < 5; i++)
        last = append_range(j, last + 1, 1); /* one small record each: plain */
    /* Incompressible data stays plain even in a large append. */
    struct want w;
    want_of(last + 1, &w);
    char *noise = kb_malloc(64 * 1024);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < 64 * 1024; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = (char)x;
    }
    struct journal_entry ne = {.recv_ms = 5, .kind = JOURNAL_EVENT_TEXT,
                               .path = JOURNAL_PATH_SYSLOG, .data = {noise, 64 * 1024}};
    uint64_t noise_seq;
    T_EQ_INT(journal_append(j, &ne, 1, &noise_seq), KB_OK);
    T_EQ_INT(journal_wait(j, noise_seq, 10000), KB_OK);
    last = append_range(j, noise_seq + 1, 700);

    struct journal_stats st;
    journal_stats(j, &st);
    T_CHECKF(st.out_bytes * 4 < st.in_bytes, "in %" PRIu64 " out %" PRIu64, st.in_bytes,
             st.out_bytes);
    T_EQ_INT(st.disk_bytes, st.out_bytes);

    /* Read it all back: every record but the noise is a generated one. */
    struct journal_reader *r = NULL;
    T_EQ_INT(journal_reader_open(j, 0, &r), KB_OK);
    struct journal_entry e;
    uint64_t seen = 0, bad = 0;
    while (r && journal_reader_next(r, &e) == KB_OK) {
        seen++;
        bad += e.seq != seen;
        if (e.seq == noise_seq)
            bad += e.data.n != 64 * 1024 || memcmp(e.data.p, noise, 64 * 1024) != 0;
        else
            bad += !entry_is(&e);
    }
    journal_reader_close(r);
    T_EQ_INT(seen, last);
    T_EQ_INT(bad, 0);
    journal_close(j);

    /* On disk: packs and plain records side by side. */
    jt_seg_path(seg, sizeof seg, dir, 1);
    size_t n = 0;
    char *file = t_read_file(seg, &n);
    T_CHECK(file && count_magic(file, n, "KJP1") >= 3);
    T_CHECK(file && count_magic(file, n, "KJR2") >= 6);
    free(file);

    /* Reopened (every unit checked again), with compression off now: the
     * packs still read, and new records are plain. */
    j = open_level(dir, 0, 0);
    if (!j) {
        free(noise);
        return;
    }
    T_EQ_INT(journal_durable_seq(j), last);
    T_EQ_INT(read_all(j, noise_seq, false), last - noise_seq);
    uint64_t more = append_range(j, last + 1, 50);
    T_EQ_INT(read_all(j, noise_seq, true), more - noise_seq);
    journal_stats(j, &st);
    T_EQ_INT(st.in_bytes, st.out_bytes);
    journal_close(j);
    free(noise);
}

static void test_lazy_and_batches(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/lazy", t_root);
    struct journal *j = open_level(dir, -3, 256 * 1024); /* several segments; a fast level */
    if (!j)
        return;
    uint64_t last = 0;
    for (int i = 0; i < 6; i++)
        last = append_range(j, last + 1, 500 + (size_t)i * 37);
    T_EQ_INT(read_all_(j, 0, true, true), last); /* lazy: no data until asked */
    T_EQ_INT(read_all(j, 0, false), last);
    /* Starting anywhere, inside packs too. */
    uint64_t starts[] = {1, 2, 499, 500, 501, 1234, last - 1, last};
    for (size_t i = 0; i < KB_ARRAY_LEN(starts); i++)
        T_EQ_INT(read_all(j, starts[i], i % 2 == 0), last - starts[i]);

    /* One reader per batch of 7, as the pipeline reads: each resumes inside
     * the pack the last one stopped in. */
    uint64_t done = 0;
    int bad = 0;
    for (int round = 0; round < 2000 && done < last; round++) {
        struct journal_reader *r = NULL;
        T_EQ_INT(journal_reader_open(j, done, &r), KB_OK);
        if (!r)
            break;
        journal_reader_set_lazy(r, round % 2 == 0);
        struct journal_entry e;
        for (int k = 0; k < 7 && journal_reader_next(r, &e) == KB_OK; k++) {
            if (journal_reader_data(r, &e) != KB_OK || e.seq != done + 1 || !entry_is(&e))
                bad++;
            done = e.seq;
        }
        journal_reader_close(r);
    }
    T_EQ_INT(bad, 0);
    T_EQ_INT(done, last);
    journal_close(j);
}

/* Cuts the segment at `cut` (or flips the byte there), reopens and checks
 * that exactly `keep` records survive and read back right. */
static void torn_case(const char *dir, const char *seg, const char *orig, size_t n, size_t cut,
                      bool flip, uint64_t keep)
{
    char *c = kb_malloc(n);
    memcpy(c, orig, n);
    size_t len = cut;
    if (flip) {
        c[cut] ^= 0x20;
        len = n;
    }
    int fd = open(seg, O_WRONLY | O_TRUNC);
    T_CHECK(fd >= 0 && write(fd, c, len) == (ssize_t)len);
    if (fd >= 0)
        close(fd);
    free(c);
    struct journal *j = open_level(dir, 1, 0);
    if (!j)
        return;
    uint64_t durable = journal_durable_seq(j), read = read_all(j, 0, cut % 2 == 0);
    T_CHECKF(durable == keep && read == keep,
             "cut at %zu (flip %d): durable %" PRIu64 ", read %" PRIu64 ", want %" PRIu64, cut,
             flip, durable, read, keep);
    journal_close(j);
}

static void test_torn_packs(void)
{
    char dir[300], seg[400];
    snprintf(dir, sizeof dir, "%s/torn", t_root);
    struct journal *j = open_level(dir, 1, 0);
    if (!j)
        return;
    uint64_t before = append_range(j, 1, 400);
    journal_close(j);
    jt_seg_path(seg, sizeof seg, dir, 1);
    struct stat sst;
    size_t start = stat(seg, &sst) == 0 ? (size_t)sst.st_size : 0;
    j = open_level(dir, 1, 0);
    if (!j)
        return;
    uint64_t last = append_range(j, before + 1, 2500); /* one append, several packs */
    journal_close(j);
    size_t n = 0;
    char *orig = t_read_file(seg, &n);
    if (!orig)
        return;
    T_CHECK(count_magic(orig + start, n - start, "KJP1") >= 2);
    /* Cut anywhere inside the append, between its packs included: all of
     * it goes, and what came before stays. */
    for (size_t cut = start; cut < n; cut += 4093)
        torn_case(dir, seg, orig, n, cut, false, before);
    for (const char *q = orig + start + 4; (q = memmem(q, n - (size_t)(q - orig), "KJP1", 4));
         q += 4)
        torn_case(dir, seg, orig, n, (size_t)(q - orig), false, before);
    torn_case(dir, seg, orig, n, n - 1, false, before);
    /* A flipped byte in a pack's header, frame table or frames. */
    size_t flips[] = {start + 6, start + 17, start + 21, start + 33, start + 45, start + 300,
                      n - 2};
    for (size_t i = 0; i < KB_ARRAY_LEN(flips); i++)
        torn_case(dir, seg, orig, n, flips[i], true, before);
    torn_case(dir, seg, orig, n, n, false, last); /* intact */
    free(orig);
}

static void test_old_segment_corrupt(void)
{
    char dir[300], seg[400];
    snprintf(dir, sizeof dir, "%s/old", t_root);
    struct journal *j = open_level(dir, 1, 64 * 1024);
    if (!j)
        return;
    uint64_t last = 0;
    struct journal_stats st = {0};
    for (int i = 0; i < 40 && st.segments < 3; i++) {
        last = append_range(j, last + 1, 400);
        journal_stats(j, &st);
    }
    T_CHECK(st.segments >= 3);
    journal_close(j);
    jt_seg_path(seg, sizeof seg, dir, 1);
    size_t n = 0;
    char *orig = t_read_file(seg, &n);
    if (!orig)
        return;
    orig[n / 2] ^= 0x01; /* inside the first segment's pack */
    int fd = open(seg, O_WRONLY | O_TRUNC);
    T_CHECK(fd >= 0 && write(fd, orig, n) == (ssize_t)n);
    if (fd >= 0)
        close(fd);
    free(orig);
    struct journal_opts o = {.compress_level = 1, .segment_bytes = 64 * 1024};
    struct kb_why why = {{0}};
    T_EQ_INT(journal_open(dir, &o, &j, &why), KB_ECORRUPT);
    T_CHECKF(strstr(why.msg, "checksum") != NULL, "why: %s", why.msg);
}

static void test_codec_bad_input(void)
{
    struct jpack_enc *enc = jpack_enc_new(1);
    struct want w[40];
    struct journal_entry e[40];
    for (int i = 0; i < 40; i++) {
        want_of((uint64_t)i + 1, &w[i]);
        e[i] = entry_of(&w[i]);
    }
    const char *out;
    size_t len, nunits;
    const struct jpack_unit *units;
    T_EQ_INT(jpack_encode(enc, e, 40, true, SIZE_MAX, &out, &len, &units, &nunits), KB_OK);
    T_EQ_INT(nunits, 1);
    T_CHECK(memcmp(out, "KJP1", 4) == 0);
    T_EQ_INT(jr_get_u32(out + 16), 40);
    /* The limit is kept. */
    const char *o2;
    size_t l2, n2;
    const struct jpack_unit *u2;
    T_EQ_INT(jpack_encode(enc, e, 40, true, 100, &o2, &l2, &u2, &n2), KB_ETOOBIG);
    T_EQ_INT(jpack_encode(enc, e, 40, true, SIZE_MAX, &out, &len, &units, &nunits), KB_OK);

    const char *pl = out + JR_HDR;
    size_t pn = len - JR_HDR;
    struct jpack_dec *dec = jpack_dec_new();
    struct journal_entry d;
    T_EQ_INT(jpack_decode(dec, pl, pn, 40), KB_OK);
    int good = 0;
    for (uint64_t s = 1; jpack_next(dec, &d, true) == KB_OK; s++) {
        d.seq = s;
        good += entry_is(&d);
    }
    T_EQ_INT(good, 40);
    /* Wrong count, short payload, bad table, bad frame bytes. */
    T_EQ_INT(jpack_decode(dec, pl, pn, 0), KB_ECORRUPT);
    T_EQ_INT(jpack_decode(dec, pl, 10, 40), KB_ECORRUPT);
    T_EQ_INT(jpack_decode(dec, pl, pn - 1, 40), KB_ECORRUPT);
    char *c = kb_malloc(pn);
    memcpy(c, pl, pn);
    jr_put_u32(c + 4, 0xffffffffu); /* meta raw length */
    T_EQ_INT(jpack_decode(dec, c, pn, 40), KB_ECORRUPT);
    memcpy(c, pl, pn);
    memset(c + JP_TABLE, 0x55, 12); /* meta frame magic */
    T_EQ_INT(jpack_decode(dec, c, pn, 40), KB_ECORRUPT);
    /* More records claimed than the meta frame holds: the walk says so. */
    memcpy(c, pl, pn);
    T_EQ_INT(jpack_decode(dec, c, pn, 41), KB_OK);
    kb_err rc = KB_OK;
    for (int i = 0; i < 41 && rc == KB_OK; i++)
        rc = jpack_next(dec, &d, true);
    T_EQ_INT(rc, KB_ECORRUPT);
    /* Fewer: the last one does not end the frames. */
    T_EQ_INT(jpack_decode(dec, c, pn, 39), KB_OK);
    rc = KB_OK;
    for (int i = 0; i < 39 && rc == KB_OK; i++)
        rc = jpack_next(dec, &d, true);
    T_EQ_INT(rc, KB_ECORRUPT);
    free(c);
    jpack_dec_free(dec);
    jpack_enc_free(enc);
}

int main(void)
{
    if (!jt_root_make(t_root, sizeof t_root, "koban-test-jpack"))
        return 1;
    kb_log_set_level(KB_LOG_ERROR); /* each torn case logs a warning */
    T_RUN(test_round_trip);
    T_RUN(test_lazy_and_batches);
    T_RUN(test_torn_packs);
    T_RUN(test_old_segment_corrupt);
    T_RUN(test_codec_bad_input);
    jt_root_remove(t_root);
    return t_done();
}
