/*
 * journal.c — segment files, group commit, recovery and readers.
 *
 * Record header, 32 bytes, integers little-endian:
 *   0 magic "KJR2" | 4 payload length | 8 seq | 16 recv_ms | 24 kind |
 *   25 format id | 26 path | 27 flags | 28 check
 * check: the low 32 bits of XXH3-64 over the header (with check = 0), seeded
 * with XXH3-64 of the payload. XXH3 runs at memory speed; zlib's crc32 cost
 * a measurable share of ingest CPU, written once and verified on every read.
 * flags bit 1 (JR_AUX): the payload is data, then aux, then aux's length as
 * u32; readers hand data and aux out separately.
 * A pack (journal_pack.h: magic "KJP1", seq of its first record, a count)
 * is a unit in place of count records; everything below that says
 * "record" about the file means a unit, and seq advances by its count.
 * flags bit 0 (JR_MORE): the next record belongs to the same append. Recovery
 * cuts a torn tail back to the end of the last complete append, and the writer
 * rotates segments only between appends, so an append survives a crash whole
 * or not at all, and an older segment always ends with a complete append.
 *
 * Invariants:
 *  1. Sequence numbers are contiguous across segments; a segment's name is the
 *     seq of its first record (or of the next record, when it is empty).
 *  2. durable_seq and segs[].size are published together under mu, after the
 *     bytes were written and fdatasync'ed. segs[i].size is always a record
 *     boundary, and readers never read past it, so they never see a record
 *     that is half written or not yet durable.
 *  3. Only the writer thread touches wfd, w_size, wbuf and due.
 *  4. Once failed is set it stays set: nothing more is written, pending
 *     callbacks get KB_EIO, appends fail.
 *
 * Locking: one mutex (mu) guards the pending buffer, next_seq, the segment
 * table, the callback heap and the flags. Appenders hold it for a memcpy per
 * record; the writer holds it to swap buffers and to publish; callbacks run
 * outside it. A group larger than max_pending is admitted alone once the
 * pending buffer is empty, so pending memory is bounded by max_pending or
 * the largest single append (itself bounded by JR_MAX_GROUP).
 *
 * Open verifies every record of every segment (check and numbering), reading
 * 1 MiB at a time. Readers pread 1 MiB at a time and verify checks too; a closed
 * reader leaves its position behind (struct hint) so that a consumer opening
 * one reader per batch does not rescan its segment each time.
 */
#include "store/journal.h"
#include "store/journal_pack.h"

#include "lib/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack; header and library ship together */
#include <xxhash.h>

#define JR_NAME_LEN 23                         /* 20 digits + ".kj" */
#define JR_CHUNK ((size_t)1 << 20)             /* reads are this large */
#define JR_DEF_BYTES ((size_t)64 << 20)        /* segment_bytes, max_pending */
#define JR_MAX_GROUP ((size_t)1 << 30)         /* one append, headers included */
#define JR_MAX_CALLBACKS ((size_t)1 << 20)     /* pending journal_on_durable */
#define JR_MAX_SEGMENTS ((size_t)1 << 20)      /* segment files in a journal */
#define JR_HINTS 4                             /* remembered reader positions */
#define JR_POOL 8                              /* idle pack encoders kept */
#define JR_PACK_MIN 16384                      /* smaller appends stay plain */

struct seg {
    uint64_t first; /* seq of its first record */
    uint64_t size;  /* durable bytes (the final size once a newer one exists) */
};

struct pbuf {
    char *p;
    size_t len, cap;
};

/* Where a closed reader stopped: record seq starts at offset off of segment
 * seg_first. A consumer that reads in batches (one reader per batch) resumes
 * there instead of scanning its segment from the start. */
struct hint {
    uint64_t seq, seg_first, off;
    uint64_t unit_seq; /* first seq of the unit at off (a pack may start
                          before seq) */
};

struct cb {
    uint64_t seq;
    journal_done_fn fn;
    void *ctx;
};

/* A chunked reader of one segment file; off is the file offset of p[len]. */
struct rbuf {
    int fd;
    char *p;
    size_t cap, pos, len;
    uint64_t off;
};

/* A unit as read: a plain record, or a pack of count records (pack true:
 * data/len are its compressed bytes, raw_len their size decompressed). */
struct rec {
    uint64_t seq;
    int64_t recv_ms;
    uint8_t kind, format_id, path, flags;
    const char *data;
    uint32_t len;
    bool pack;
    uint32_t count, raw_len;
};

enum scan { SCAN_OK, SCAN_END, SCAN_SHORT, SCAN_BAD, SCAN_IOERR };

struct journal {
    char *dir; /* owned */
    int dirfd, lockfd;
    size_t seg_bytes, max_pending;
    bool no_sync;

    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_space, cv_durable;
    pthread_t writer;
    bool writer_idle, closing, stopped;
    atomic_bool failed;
    struct pbuf pend;
    uint64_t next_seq;
    _Atomic uint64_t durable_seq;
    struct seg *segs; /* sorted by first; the last is the writer's */
    size_t nsegs, segs_cap;
    struct cb *heap;  /* min-heap by seq */
    size_t nheap, heap_cap;
    uint64_t bytes, syncs, torn_bytes, durable_at_open;
    uint64_t in_bytes, out_bytes; /* appended: as plain records, as written */
    int level;                    /* zstd level of packs; 0: plain records */

    pthread_mutex_t pool_mu; /* guards pool: encoders idle between appends */
    struct jpack_enc *pool[JR_POOL];
    size_t npool;
    struct hint hints[JR_HINTS];
    unsigned hint_next;

    /* writer thread only */
    struct pbuf wbuf;
    int wfd;
    uint64_t w_first; /* first seq of the segment wfd writes */
    uint64_t w_size;
    struct cb *due;
    size_t ndue, due_cap;
};

struct journal_reader {
    struct journal *j;
    struct rbuf b;
    uint64_t seg_first; /* segment being read */
    uint64_t limit;     /* its readable (durable) bytes */
    bool seg_done;      /* a newer segment exists: this one is complete */
    uint64_t next_first;
    uint64_t durable;   /* cached durable_seq */
    uint64_t file_seq;  /* seq of the next record in the file */
    uint64_t after;
    bool broken;        /* an error was returned: the position is unknown */
    struct jpack_dec *dec; /* the pack being read (created on the first) */
    uint32_t pack_left;    /* its records not yet handed out */
    bool lazy;             /* journal_reader_set_lazy */
    bool last_packed;      /* the record handed out last came from a pack */
    uint64_t pack_off, pack_seq; /* its file offset and first seq */
};

/* ---- encoding ---------------------------------------------------------- */

/* The record check of a header whose check field is zero, given the hash
 * of its payload. */
static uint32_t rec_check(const char *hdr_zeroed, uint64_t payload_hash)
{
    return (uint32_t)XXH3_64bits_withSeed(hdr_zeroed, JR_HDR, payload_hash);
}

static uint32_t hdr_crc(const char *hdr, const char *data, size_t n)
{
    char h[JR_HDR];
    memcpy(h, hdr, JR_HDR);
    jr_put_u32(h + 28, 0);
    return rec_check(h, XXH3_64bits(data, n));
}

static void seg_name(uint64_t first, char out[JR_NAME_LEN + 1])
{
    snprintf(out, JR_NAME_LEN + 1, "%020" PRIu64 ".kj", first);
}

static bool seg_name_parse(const char *s, uint64_t *first)
{
    if (strlen(s) != JR_NAME_LEN || memcmp(s + 20, ".kj", 3) != 0)
        return false;
    for (int i = 0; i < 20; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno != 0 || v == 0)
        return false;
    *first = v;
    return true;
}

/* Grows b to hold extra more bytes, doubling but not past soft (when the
 * request fits under it). */
static void pbuf_reserve(struct pbuf *b, size_t extra, size_t soft)
{
    size_t want = b->len + extra;
    if (want <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64 * 1024;
    while (cap < want)
        cap *= 2;
    if (cap > soft && want <= soft)
        cap = soft;
    b->p = kb_realloc(b->p, cap);
    b->cap = cap;
}

/* ---- chunked reading --------------------------------------------------- */

static void rbuf_reset(struct rbuf *b, int fd)
{
    if (b->fd >= 0)
        close(b->fd);
    b->fd = fd;
    b->pos = b->len = 0;
    b->off = 0;
}

/* Makes `need` bytes available at p + pos, reading no further than limit.
 * KB_ENOTFOUND when limit (or the end of the file) comes first. */
static kb_err rbuf_fill(struct rbuf *b, size_t need, uint64_t limit)
{
    if (b->len - b->pos >= need)
        return KB_OK;
    if (b->pos > 0) {
        memmove(b->p, b->p + b->pos, b->len - b->pos);
        b->len -= b->pos;
        b->pos = 0;
    }
    if (need > b->cap) {
        b->cap = need;
        b->p = kb_realloc(b->p, b->cap);
    }
    while (b->len < need) {
        if (b->off >= limit)
            return KB_ENOTFOUND;
        size_t want = (size_t)KB_MIN((uint64_t)(b->cap - b->len), limit - b->off);
        ssize_t r = pread(b->fd, b->p + b->len, want, (off_t)b->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return KB_EIO;
        if (r == 0)
            return KB_ENOTFOUND;
        b->len += (size_t)r;
        b->off += (uint64_t)r;
    }
    return KB_OK;
}

/* File offset of the next unread byte. */
static uint64_t rbuf_tell(const struct rbuf *b)
{
    return b->off - (b->len - b->pos);
}

/* Parses and checks the next record below limit. On SCAN_BAD *bad says why. */
static enum scan rec_next(struct rbuf *b, uint64_t limit, struct rec *r, const char **bad)
{
    kb_err rc = rbuf_fill(b, JR_HDR, limit);
    if (rc == KB_EIO)
        return SCAN_IOERR;
    if (rc != KB_OK)
        return b->len == b->pos ? SCAN_END : SCAN_SHORT;
    const char *h = b->p + b->pos;
    bool pack = memcmp(h, "KJP1", 4) == 0;
    if (!pack && memcmp(h, "KJR2", 4) != 0) {
        *bad = "bad magic";
        return SCAN_BAD;
    }
    uint32_t len = jr_get_u32(h + 4);
    if (len > (pack ? JP_MAX_COMP : JOURNAL_MAX_RECORD)) {
        *bad = "length over the record limit";
        return SCAN_BAD;
    }
    rc = rbuf_fill(b, JR_HDR + len, limit);
    if (rc == KB_EIO)
        return SCAN_IOERR;
    if (rc != KB_OK)
        return SCAN_SHORT;
    h = b->p + b->pos; /* the buffer may have moved */
    if (hdr_crc(h, h + JR_HDR, len) != jr_get_u32(h + 28)) {
        *bad = "checksum mismatch";
        return SCAN_BAD;
    }
    r->len = len;
    r->seq = jr_get_u64(h + 8);
    r->recv_ms = (int64_t)jr_get_u64(h + 16);
    r->kind = (uint8_t)h[24];
    r->format_id = (uint8_t)h[25];
    r->path = (uint8_t)h[26];
    r->flags = (uint8_t)h[27];
    r->data = h + JR_HDR;
    r->pack = pack;
    r->count = 1;
    r->raw_len = 0;
    if (pack) { /* the check held, so a bad field is a writer's bug */
        r->count = jr_get_u32(h + 16);
        r->raw_len = jr_get_u32(h + 20);
        if (r->count == 0 || (uint8_t)h[24] != JP_CODEC_ZSTD) {
            *bad = "pack with no records or an unknown codec";
            return SCAN_BAD;
        }
        r->recv_ms = 0;
        r->kind = r->format_id = r->path = 0;
    }
    b->pos += JR_HDR + len;
    return SCAN_OK;
}

/* ---- open and recovery ------------------------------------------------- */

static int seg_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct seg *)a)->first, y = ((const struct seg *)b)->first;
    return x < y ? -1 : x > y;
}

static void segs_push(struct journal *j, uint64_t first, uint64_t size)
{
    if (j->nsegs == j->segs_cap) {
        j->segs_cap = j->segs_cap ? j->segs_cap * 2 : 16;
        j->segs = kb_realloc(j->segs, j->segs_cap * sizeof *j->segs);
    }
    j->segs[j->nsegs++] = (struct seg){first, size};
}

static kb_err segs_list(struct journal *j, struct kb_why *why)
{
    int fd = dup(j->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return kb_fail(why, KB_EIO, "journal %s: cannot list: %s", j->dir, strerror(errno));
    }
    kb_err rc = KB_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t first;
        if (!seg_name_parse(de->d_name, &first))
            continue;
        if (j->nsegs >= JR_MAX_SEGMENTS) {
            rc = kb_fail(why, KB_ETOOBIG, "journal %s: more than %zu segments", j->dir,
                         JR_MAX_SEGMENTS);
            break;
        }
        segs_push(j, first, 0);
    }
    closedir(d);
    if (j->nsegs > 1)
        qsort(j->segs, j->nsegs, sizeof *j->segs, seg_cmp);
    return rc;
}

struct scan_result {
    uint64_t size;      /* bytes in the file */
    uint64_t good_end;  /* end of the last complete append */
    uint64_t next_seq;  /* seq after that append */
    uint64_t bad_off;   /* where the first problem starts */
    const char *problem; /* NULL when the file is whole */
    bool misnumbered;   /* a record with a good check but an unexpected seq */
};

static kb_err seg_scan(struct journal *j, struct rbuf *b, const struct seg *s,
                       struct scan_result *out, struct kb_why *why)
{
    char name[JR_NAME_LEN + 1];
    seg_name(s->first, name);
    int fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return kb_fail(why, KB_EIO, "journal %s: segment %s: %s", j->dir, name, strerror(e));
    }
    rbuf_reset(b, fd);
    *out = (struct scan_result){.size = (uint64_t)st.st_size, .next_seq = s->first};
    uint64_t seq = s->first;
    for (;;) {
        uint64_t at = rbuf_tell(b);
        struct rec r;
        const char *bad = NULL;
        enum scan sc = rec_next(b, out->size, &r, &bad);
        if (sc == SCAN_IOERR)
            return kb_fail(why, KB_EIO, "journal %s: segment %s: read: %s", j->dir, name,
                           strerror(errno));
        if (sc == SCAN_OK && r.seq != seq) {
            out->misnumbered = true;
            bad = "unexpected sequence number";
            sc = SCAN_BAD;
        }
        if (sc != SCAN_OK) {
            if (sc == SCAN_SHORT)
                bad = "record cut short";
            else if (sc == SCAN_END && out->good_end != out->size)
                bad = "ends inside an append";
            out->problem = bad;
            out->bad_off = sc == SCAN_END ? out->good_end : at;
            return KB_OK;
        }
        seq += r.count;
        if (!(r.flags & JR_MORE)) {
            out->good_end = rbuf_tell(b);
            out->next_seq = seq;
        }
    }
}

static kb_err recover_tail(struct journal *j, struct seg *s, const struct scan_result *sr,
                           struct kb_why *why)
{
    char name[JR_NAME_LEN + 1], q[256];
    seg_name(s->first, name);
    if (ftruncate(j->wfd, (off_t)sr->good_end) != 0 || fsync(j->wfd) != 0)
        return kb_fail(why, KB_EIO, "journal %s: segment %s: cannot cut torn tail: %s", j->dir,
                       name, strerror(errno));
    j->torn_bytes = sr->size - sr->good_end;
    log_warn("journal: torn tail cut", "dir=%s segment=%s offset=%" PRIu64
             " dropped_bytes=%" PRIu64 " reason=\"%s\"",
             kb_logq(q, sizeof q, j->dir), name, sr->good_end, j->torn_bytes, sr->problem);
    return KB_OK;
}

/* Lists, checks and recovers the segments; leaves wfd open on the last one. */
static kb_err segs_load(struct journal *j, struct kb_why *why)
{
    kb_err rc = segs_list(j, why);
    if (rc != KB_OK)
        return rc;
    char name[JR_NAME_LEN + 1];
    if (j->nsegs == 0) {
        seg_name(1, name);
        j->wfd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
        if (j->wfd < 0 || (!j->no_sync && fsync(j->dirfd) != 0))
            return kb_fail(why, KB_EIO, "journal %s: cannot create %s: %s", j->dir, name,
                           strerror(errno));
        segs_push(j, 1, 0);
        j->next_seq = 1;
        return KB_OK;
    }
    struct rbuf b = {.fd = -1, .p = kb_malloc(JR_CHUNK), .cap = JR_CHUNK};
    uint64_t expect = j->segs[0].first;
    for (size_t i = 0; i < j->nsegs && rc == KB_OK; i++) {
        struct seg *s = &j->segs[i];
        bool last = i + 1 == j->nsegs;
        struct scan_result sr = {0};
        seg_name(s->first, name);
        if (s->first != expect) {
            rc = kb_fail(why, KB_ECORRUPT,
                         "journal %s: segment %s: expected it to start at seq %" PRIu64,
                         j->dir, name, expect);
            break;
        }
        rc = seg_scan(j, &b, s, &sr, why);
        if (rc != KB_OK)
            break;
        if (sr.problem && (!last || sr.misnumbered)) {
            rc = kb_fail(why, KB_ECORRUPT, "journal %s: segment %s: offset %" PRIu64 ": %s",
                         j->dir, name, sr.bad_off, sr.problem);
            break;
        }
        s->size = sr.good_end;
        expect = sr.next_seq;
        if (last) {
            j->wfd = openat(j->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
            if (j->wfd < 0)
                rc = kb_fail(why, KB_EIO, "journal %s: segment %s: %s", j->dir, name,
                             strerror(errno));
            else if (sr.problem)
                rc = recover_tail(j, s, &sr, why);
        }
    }
    rbuf_reset(&b, -1);
    free(b.p);
    j->next_seq = expect;
    j->w_first = j->segs[j->nsegs - 1].first;
    j->w_size = j->segs[j->nsegs - 1].size;
    return rc;
}

/* ---- the writer -------------------------------------------------------- */

static void run_due(struct journal *j, kb_err err)
{
    for (size_t i = 0; i < j->ndue; i++)
        j->due[i].fn(j->due[i].ctx, err);
    j->ndue = 0;
}

static void due_push(struct journal *j, struct cb c)
{
    if (j->ndue == j->due_cap) {
        j->due_cap = j->due_cap ? j->due_cap * 2 : 64;
        j->due = kb_realloc(j->due, j->due_cap * sizeof *j->due);
    }
    j->due[j->ndue++] = c;
}

static void heap_push(struct journal *j, struct cb c)
{
    if (j->nheap == j->heap_cap) {
        j->heap_cap = j->heap_cap ? j->heap_cap * 2 : 64;
        j->heap = kb_realloc(j->heap, j->heap_cap * sizeof *j->heap);
    }
    size_t i = j->nheap++;
    while (i > 0 && j->heap[(i - 1) / 2].seq > c.seq) {
        j->heap[i] = j->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    j->heap[i] = c;
}

static struct cb heap_pop(struct journal *j)
{
    struct cb top = j->heap[0], last = j->heap[--j->nheap];
    size_t i = 0, n = j->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && j->heap[c + 1].seq < j->heap[c].seq)
            c++;
        if (j->heap[c].seq >= last.seq)
            break;
        j->heap[i] = j->heap[c];
        i = c;
    }
    if (n > 0)
        j->heap[i] = last;
    return top;
}

/* Moves every waiting callback to due (called with mu held). */
static void heap_drain(struct journal *j)
{
    while (j->nheap > 0)
        due_push(j, heap_pop(j));
}

static void writer_fail(struct journal *j, const char *op, uint64_t seg_first, int err)
{
    char name[JR_NAME_LEN + 1], q[256];
    seg_name(seg_first, name);
    log_error("journal: write failed, appends now fail until restart",
              "dir=%s segment=%s op=%s error=\"%s\"", kb_logq(q, sizeof q, j->dir), name, op,
              strerror(err));
    pthread_mutex_lock(&j->mu);
    atomic_store(&j->failed, true);
    heap_drain(j);
    pthread_cond_broadcast(&j->cv_durable);
    pthread_cond_broadcast(&j->cv_space);
    pthread_mutex_unlock(&j->mu);
    run_due(j, KB_EIO);
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Closes the full segment and starts the one whose first record is seq. */
static bool writer_rotate(struct journal *j, uint64_t seq)
{
    char name[JR_NAME_LEN + 1];
    seg_name(seq, name);
    int fd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0 || (!j->no_sync && fsync(j->dirfd) != 0)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        writer_fail(j, "create segment", seq, e);
        return false;
    }
    close(j->wfd);
    j->wfd = fd;
    j->w_first = seq;
    j->w_size = 0;
    pthread_mutex_lock(&j->mu);
    segs_push(j, seq, 0);
    pthread_mutex_unlock(&j->mu);
    return true;
}

/* Writes a batch of whole appends (first record: seq), rotating between
 * appends, one fdatasync per segment touched; publishes after each sync. */
static void writer_flush(struct journal *j, const char *p, size_t n, uint64_t seq)
{
    size_t off = 0;
    while (off < n) {
        if (j->w_size >= j->seg_bytes && !writer_rotate(j, seq))
            return;
        size_t end = off;
        uint64_t s = seq;
        do { /* take whole appends until the segment is full */
            bool more;
            do {
                uint32_t len = jr_get_u32(p + end + 4);
                more = ((uint8_t)p[end + 27] & JR_MORE) != 0;
                s += memcmp(p + end, "KJP1", 4) == 0 ? jr_get_u32(p + end + 16) : 1;
                end += JR_HDR + len;
            } while (more);
        } while (end < n && j->w_size + (end - off) < j->seg_bytes);
        size_t len = end - off;
        if (!write_all(j->wfd, p + off, len)) {
            writer_fail(j, "write", j->w_first, errno);
            return;
        }
        if (!j->no_sync && fdatasync(j->wfd) != 0) {
            writer_fail(j, "fdatasync", j->w_first, errno);
            return;
        }
        j->w_size += len;
        pthread_mutex_lock(&j->mu);
        j->segs[j->nsegs - 1].size = j->w_size;
        atomic_store(&j->durable_seq, s - 1);
        j->bytes += len;
        j->syncs += !j->no_sync;
        while (j->nheap > 0 && j->heap[0].seq < s)
            due_push(j, heap_pop(j));
        pthread_cond_broadcast(&j->cv_durable);
        pthread_mutex_unlock(&j->mu);
        run_due(j, KB_OK);
        off = end;
        seq = s;
    }
}

static void *writer_main(void *arg)
{
    struct journal *j = arg;
    pthread_setname_np(pthread_self(), "kb-journal"); /* for top -H, perf */
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (j->pend.len == 0 && !j->closing) {
            j->writer_idle = true;
            pthread_cond_wait(&j->cv_work, &j->mu);
            j->writer_idle = false;
        }
        if (j->pend.len == 0)
            break; /* closing, and everything is written */
        struct pbuf t = j->pend;
        j->pend = j->wbuf;
        j->wbuf = t;
        uint64_t first = atomic_load(&j->durable_seq) + 1;
        bool failed = atomic_load(&j->failed);
        pthread_cond_broadcast(&j->cv_space);
        pthread_mutex_unlock(&j->mu);
        if (!failed)
            writer_flush(j, j->wbuf.p, j->wbuf.len, first);
        j->wbuf.len = 0;
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* ---- public API -------------------------------------------------------- */

static void journal_free(struct journal *j)
{
    if (j->wfd >= 0)
        close(j->wfd);
    if (j->dirfd >= 0)
        close(j->dirfd);
    if (j->lockfd >= 0)
        close(j->lockfd); /* releases the flock */
    for (size_t i = 0; i < j->npool; i++)
        jpack_enc_free(j->pool[i]);
    pthread_mutex_destroy(&j->pool_mu);
    free(j->pend.p);
    free(j->wbuf.p);
    free(j->segs);
    free(j->heap);
    free(j->due);
    free(j->dir);
    free(j);
}

kb_err journal_open(const char *dir, const struct journal_opts *opts, struct journal **out,
                    struct kb_why *why)
{
    *out = NULL;
    if (!dir || !*dir)
        return kb_fail(why, KB_EINVAL, "journal: no directory given");
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return kb_fail(why, KB_EIO, "journal %s: cannot create directory: %s", dir,
                       strerror(errno));
    struct journal *j = kb_calloc(1, sizeof *j);
    j->dir = kb_strdup(dir);
    j->dirfd = j->lockfd = j->wfd = -1;
    j->seg_bytes = opts && opts->segment_bytes ? opts->segment_bytes : JR_DEF_BYTES;
    j->max_pending = opts && opts->max_pending ? opts->max_pending : JR_DEF_BYTES;
    j->no_sync = opts && opts->no_sync;
    j->level = opts ? opts->compress_level : 0;
    pthread_mutex_init(&j->pool_mu, NULL);
    atomic_init(&j->failed, false);
    kb_err rc = KB_OK;
    j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (j->dirfd < 0) {
        rc = kb_fail(why, KB_EIO, "journal %s: cannot open directory: %s", dir, strerror(errno));
        goto fail;
    }
    j->lockfd = openat(j->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (j->lockfd < 0) {
        rc = kb_fail(why, KB_EIO, "journal %s: cannot open LOCK: %s", dir, strerror(errno));
        goto fail;
    }
    if (flock(j->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            rc = kb_fail(why, KB_EBUSY,
                         "journal %s is already open (another koban process holds %s/LOCK)",
                         dir, dir);
        else
            rc = kb_fail(why, KB_EIO, "journal %s: cannot lock: %s", dir, strerror(errno));
        goto fail;
    }
    rc = segs_load(j, why);
    if (rc != KB_OK)
        goto fail;
    atomic_init(&j->durable_seq, j->next_seq - 1);
    j->durable_at_open = j->next_seq - 1;

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv_work, NULL);
    pthread_cond_init(&j->cv_space, NULL);
    pthread_cond_init(&j->cv_durable, &ca);
    pthread_condattr_destroy(&ca);
    int e = pthread_create(&j->writer, NULL, writer_main, j);
    if (e != 0) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv_work);
        pthread_cond_destroy(&j->cv_space);
        pthread_cond_destroy(&j->cv_durable);
        rc = kb_fail(why, KB_EIO, "journal %s: cannot start writer: %s", dir, strerror(e));
        goto fail;
    }
    *out = j;
    return KB_OK;
fail:
    journal_free(j);
    return rc;
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->closing = true;
    pthread_cond_signal(&j->cv_work);
    pthread_cond_broadcast(&j->cv_space);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->writer, NULL); /* it writes and syncs what is pending */

    pthread_mutex_lock(&j->mu);
    j->stopped = true;
    heap_drain(j); /* seqs never appended, or a failed journal */
    pthread_cond_broadcast(&j->cv_durable);
    pthread_mutex_unlock(&j->mu);
    run_due(j, atomic_load(&j->failed) ? KB_EIO : KB_ECLOSED);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv_work);
    pthread_cond_destroy(&j->cv_space);
    pthread_cond_destroy(&j->cv_durable);
    journal_free(j);
}

static bool entry_ok(const struct journal_entry *e)
{
    return e->kind >= JOURNAL_EVENT_JSON && e->kind <= JOURNAL_REJECT &&
           e->path >= JOURNAL_PATH_HTTP && e->path <= JOURNAL_PATH_CLI &&
           (e->data.p != NULL || e->data.n == 0) && (e->aux.p != NULL || e->aux.n == 0) &&
           e->aux.n <= JOURNAL_MAX_AUX;
}

/* Waits (mu held) until total more bytes fit in the pending buffer. */
static kb_err pend_wait_room(struct journal *j, size_t total)
{
    while (!atomic_load(&j->failed) && !j->closing && j->pend.len > 0 &&
           j->pend.len + total > j->max_pending)
        pthread_cond_wait(&j->cv_space, &j->mu);
    return atomic_load(&j->failed) ? KB_EIO : j->closing ? KB_ECLOSED : KB_OK;
}

/* Plain records: each payload copied into the pending buffer under the
 * lock (the payload hashes are computed before it). */
static kb_err append_plain(struct journal *j, const struct journal_entry *entries, size_t n,
                           size_t total, uint64_t *last_seq)
{
    uint64_t small[64], *pc = n <= KB_ARRAY_LEN(small) ? small : kb_malloc(n * sizeof *pc);
    for (size_t i = 0; i < n; i++)
        pc[i] = jr_payload_hash(&entries[i]);
    pthread_mutex_lock(&j->mu);
    kb_err rc = pend_wait_room(j, total);
    if (rc == KB_OK) {
        pbuf_reserve(&j->pend, total, j->max_pending);
        char *w = j->pend.p + j->pend.len;
        for (size_t i = 0; i < n; i++) {
            jr_put_record(w, &entries[i], i + 1 < n);
            jr_put_u64(w + 8, j->next_seq++);
            jr_put_u32(w + 28, rec_check(w, pc[i]));
            w += JR_HDR + jr_payload_bytes(&entries[i]);
        }
        j->pend.len += total;
        j->in_bytes += total;
        j->out_bytes += total;
        *last_seq = j->next_seq - 1;
        if (j->writer_idle)
            pthread_cond_signal(&j->cv_work);
    }
    pthread_mutex_unlock(&j->mu);
    if (pc != small)
        free(pc);
    return rc;
}

static struct jpack_enc *enc_take(struct journal *j)
{
    struct jpack_enc *enc = NULL;
    pthread_mutex_lock(&j->pool_mu);
    if (j->npool > 0)
        enc = j->pool[--j->npool];
    pthread_mutex_unlock(&j->pool_mu);
    return enc ? enc : jpack_enc_new(j->level);
}

static void enc_give(struct journal *j, struct jpack_enc *enc)
{
    pthread_mutex_lock(&j->pool_mu);
    if (j->npool < JR_POOL) {
        j->pool[j->npool++] = enc;
        enc = NULL;
    }
    pthread_mutex_unlock(&j->pool_mu);
    jpack_enc_free(enc);
}

/* Packs: compressed in this thread, then copied under the lock, where only
 * each unit's seq and check are filled in. */
static kb_err append_packed(struct journal *j, const struct journal_entry *entries, size_t n,
                            size_t total, uint64_t *last_seq)
{
    struct jpack_enc *enc = enc_take(j);
    const char *out;
    size_t len, nunits;
    const struct jpack_unit *units;
    kb_err rc = jpack_encode(enc, entries, n, JR_MAX_GROUP, &out, &len, &units, &nunits);
    if (rc == KB_OK) {
        pthread_mutex_lock(&j->mu);
        rc = pend_wait_room(j, len);
        if (rc == KB_OK) {
            pbuf_reserve(&j->pend, len, j->max_pending);
            char *w = j->pend.p + j->pend.len;
            memcpy(w, out, len);
            for (size_t i = 0; i < nunits; i++) {
                char *h = w + units[i].off;
                jr_put_u64(h + 8, j->next_seq);
                j->next_seq += units[i].count;
                jr_put_u32(h + 28, rec_check(h, units[i].payload_hash));
            }
            j->pend.len += len;
            j->in_bytes += total;
            j->out_bytes += len;
            *last_seq = j->next_seq - 1;
            if (j->writer_idle)
                pthread_cond_signal(&j->cv_work);
        }
        pthread_mutex_unlock(&j->mu);
    }
    enc_give(j, enc);
    return rc;
}

kb_err journal_append(struct journal *j, const struct journal_entry *entries, size_t n,
                      uint64_t *last_seq)
{
    if (!j || !entries || n == 0 || !last_seq)
        return KB_EINVAL;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!entry_ok(&entries[i]))
            return KB_EINVAL;
        if (entries[i].data.n > JOURNAL_MAX_RECORD - jr_aux_bytes(&entries[i]))
            return KB_ETOOBIG;
        total += JR_HDR + jr_payload_bytes(&entries[i]);
        if (total > JR_MAX_GROUP)
            return KB_ETOOBIG;
    }
    if (atomic_load(&j->failed))
        return KB_EIO;
    /* A few hundred bytes gain nothing from a compressed frame. */
    if (j->level != 0 && total >= JR_PACK_MIN)
        return append_packed(j, entries, n, total, last_seq);
    return append_plain(j, entries, n, total, last_seq);
}

kb_err journal_wait(struct journal *j, uint64_t seq, int timeout_ms)
{
    if (!j)
        return KB_EINVAL;
    if (atomic_load(&j->durable_seq) >= seq)
        return KB_OK;
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    if (timeout_ms >= 0) {
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
    }
    bool timed_out = false;
    pthread_mutex_lock(&j->mu);
    while (atomic_load(&j->durable_seq) < seq && !atomic_load(&j->failed) && !j->stopped &&
           !timed_out) {
        if (timeout_ms < 0)
            pthread_cond_wait(&j->cv_durable, &j->mu);
        else
            timed_out = pthread_cond_timedwait(&j->cv_durable, &j->mu, &dl) == ETIMEDOUT;
    }
    kb_err rc = atomic_load(&j->durable_seq) >= seq ? KB_OK
                : atomic_load(&j->failed)           ? KB_EIO
                : j->stopped                        ? KB_ECLOSED
                                                    : KB_ETIMEOUT;
    pthread_mutex_unlock(&j->mu);
    return rc;
}

kb_err journal_on_durable(struct journal *j, uint64_t seq, journal_done_fn done, void *ctx)
{
    if (!j || !done)
        return KB_EINVAL;
    kb_err rc = KB_OK;
    bool now = false;
    pthread_mutex_lock(&j->mu);
    if (atomic_load(&j->durable_seq) >= seq)
        now = true;
    else if (atomic_load(&j->failed))
        rc = KB_EIO;
    else if (j->closing)
        rc = KB_ECLOSED;
    else if (j->nheap >= JR_MAX_CALLBACKS)
        rc = KB_ETOOBIG;
    else
        heap_push(j, (struct cb){seq, done, ctx});
    pthread_mutex_unlock(&j->mu);
    if (now)
        done(ctx, KB_OK);
    return rc;
}

uint64_t journal_durable_seq(struct journal *j)
{
    return j ? atomic_load(&j->durable_seq) : 0;
}

void journal_stats(struct journal *j, struct journal_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    out->records = atomic_load(&j->durable_seq) - j->durable_at_open;
    out->bytes = j->bytes;
    out->syncs = j->syncs;
    out->segments = j->nsegs;
    out->torn_bytes = j->torn_bytes;
    out->in_bytes = j->in_bytes;
    out->out_bytes = j->out_bytes;
    for (size_t i = 0; i < j->nsegs; i++)
        out->disk_bytes += j->segs[i].size;
    pthread_mutex_unlock(&j->mu);
}

kb_err journal_trim(struct journal *j, uint64_t upto, int64_t min_age_ms)
{
    if (!j)
        return KB_EINVAL;
    if (atomic_load(&j->failed))
        return KB_EIO;
    int64_t now = kb_now_ms();
    size_t removed = 0;
    kb_err rc = KB_OK;
    for (;;) { /* oldest first, so the journal stays contiguous */
        pthread_mutex_lock(&j->mu);
        bool whole = j->nsegs >= 2 && j->segs[1].first - 1 <= upto;
        uint64_t first = j->segs[0].first;
        pthread_mutex_unlock(&j->mu);
        if (!whole)
            break;
        char name[JR_NAME_LEN + 1];
        seg_name(first, name);
        struct stat st;
        if (fstatat(j->dirfd, name, &st, 0) != 0) {
            rc = KB_EIO;
            break;
        }
        int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (now - mtime < min_age_ms)
            break;
        pthread_mutex_lock(&j->mu);
        bool mine = j->nsegs >= 2 && j->segs[0].first == first; /* not taken by a racing trim */
        if (mine)
            memmove(j->segs, j->segs + 1, --j->nsegs * sizeof *j->segs);
        pthread_mutex_unlock(&j->mu);
        if (mine && unlinkat(j->dirfd, name, 0) != 0) {
            rc = KB_EIO;
            break;
        }
        removed += mine;
    }
    if (removed > 0 && !j->no_sync && fsync(j->dirfd) != 0)
        rc = KB_EIO;
    return rc;
}

/* ---- readers ----------------------------------------------------------- */

/* Re-reads the reader's view of the journal: durable seq, readable bytes of
 * its segment, and whether a newer segment exists. */
static void reader_refresh(struct journal_reader *r)
{
    struct journal *j = r->j;
    pthread_mutex_lock(&j->mu);
    r->durable = atomic_load(&j->durable_seq);
    size_t lo = 0, hi = j->nsegs; /* first segment with first >= seg_first */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (j->segs[mid].first < r->seg_first)
            lo = mid + 1;
        else
            hi = mid;
    }
    bool here = lo < j->nsegs && j->segs[lo].first == r->seg_first;
    if (here)
        r->limit = j->segs[lo].size;
    size_t nx = here ? lo + 1 : lo;
    r->seg_done = nx < j->nsegs;
    r->next_first = r->seg_done ? j->segs[nx].first : 0;
    pthread_mutex_unlock(&j->mu);
    struct stat st;
    if (!here && fstat(r->b.fd, &st) == 0) /* trimmed under us: complete */
        r->limit = (uint64_t)st.st_size;
}

/* Points the reader at the start of the segment holding want (or of the
 * oldest one kept, when want was trimmed). */
static kb_err reader_seek(struct journal_reader *r, uint64_t want)
{
    struct journal *j = r->j;
    for (int attempt = 0; attempt < 8; attempt++) { /* races with journal_trim */
        pthread_mutex_lock(&j->mu);
        size_t i = j->nsegs;
        while (i > 1 && j->segs[i - 1].first > want)
            i--;
        uint64_t first = j->segs[i - 1].first;
        pthread_mutex_unlock(&j->mu);
        if (want < first) {
            char q[256];
            log_warn("journal: reader skipped trimmed records",
                     "dir=%s from_seq=%" PRIu64 " to_seq=%" PRIu64,
                     kb_logq(q, sizeof q, j->dir), want, first);
        }
        char name[JR_NAME_LEN + 1];
        seg_name(first, name);
        int fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
            continue;
        if (fd < 0)
            return KB_EIO;
        rbuf_reset(&r->b, fd);
        r->seg_first = first;
        r->file_seq = first;
        r->pack_left = 0;
        reader_refresh(r);
        return KB_OK;
    }
    return KB_EIO;
}

kb_err journal_reader_open(struct journal *j, uint64_t after, struct journal_reader **out)
{
    *out = NULL;
    if (!j || after == UINT64_MAX)
        return KB_EINVAL;
    if (atomic_load(&j->failed))
        return KB_EIO;
    struct journal_reader *r = kb_calloc(1, sizeof *r);
    r->j = j;
    r->after = after;
    r->b = (struct rbuf){.fd = -1, .p = kb_malloc(JR_CHUNK), .cap = JR_CHUNK};
    struct hint h = {0};
    pthread_mutex_lock(&j->mu);
    for (size_t i = 0; i < JR_HINTS; i++)
        if (j->hints[i].seq == after + 1)
            h = j->hints[i];
    pthread_mutex_unlock(&j->mu);
    if (h.seq != 0) {
        char name[JR_NAME_LEN + 1];
        seg_name(h.seg_first, name);
        int fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) { /* else trimmed since: seek as usual */
            rbuf_reset(&r->b, fd);
            r->b.off = h.off;
            r->seg_first = h.seg_first;
            r->file_seq = h.unit_seq; /* records up to after are skipped */
            reader_refresh(r);
            *out = r;
            return KB_OK;
        }
    }
    kb_err rc = reader_seek(r, after + 1);
    if (rc != KB_OK) {
        journal_reader_close(r);
        return rc;
    }
    *out = r;
    return KB_OK;
}

/* The next record of the pack in hand that is past after. KB_ENOTFOUND
 * when the pack has no more. */
static kb_err reader_pack_next(struct journal_reader *r, struct journal_entry *e)
{
    while (r->pack_left > 0) {
        kb_err rc = jpack_next(r->dec, e, !r->lazy);
        if (rc != KB_OK)
            return KB_ECORRUPT; /* the check held: a writer's bug */
        r->pack_left--;
        e->seq = r->file_seq++;
        if (e->seq > r->after) {
            r->last_packed = true;
            return KB_OK;
        }
    }
    return KB_ENOTFOUND;
}

/* Hands out a plain record read from the file. */
static kb_err reader_plain(const struct rec *rec, struct journal_entry *e)
{
    *e = (struct journal_entry){
        .seq = rec->seq, .recv_ms = rec->recv_ms, .kind = rec->kind,
        .format_id = rec->format_id, .path = rec->path,
        .data = {rec->data, rec->len}};
    if (rec->flags & JR_AUX) {
        /* The check covered these bytes: a bad length here is a writer's
         * bug, not a torn write. */
        uint32_t an = rec->len >= 4 ? jr_get_u32(rec->data + rec->len - 4) : UINT32_MAX;
        if (an > rec->len - 4 || an > JOURNAL_MAX_AUX)
            return KB_ECORRUPT;
        e->data.n = rec->len - 4 - an;
        e->aux = (struct kb_str){rec->data + e->data.n, an};
    }
    return KB_OK;
}

static kb_err reader_next(struct journal_reader *r, struct journal_entry *e)
{
    for (;;) {
        if (atomic_load(&r->j->failed))
            return KB_EIO;
        kb_err pr = reader_pack_next(r, e);
        if (pr != KB_ENOTFOUND)
            return pr;
        if (r->file_seq > r->durable) {
            reader_refresh(r);
            if (r->file_seq > r->durable)
                return KB_ENOTFOUND;
        }
        struct rec rec;
        const char *bad = NULL;
        uint64_t at = rbuf_tell(&r->b);
        enum scan sc = rec_next(&r->b, r->limit, &rec, &bad);
        if (sc == SCAN_IOERR)
            return KB_EIO;
        if (sc == SCAN_BAD || (sc == SCAN_OK && rec.seq != r->file_seq))
            return KB_ECORRUPT;
        if (sc == SCAN_OK && rec.pack) {
            if (rec.seq + rec.count - 1 <= r->after) { /* wholly read before */
                r->file_seq += rec.count;
                continue;
            }
            if (!r->dec)
                r->dec = jpack_dec_new();
            if (jpack_decode(r->dec, rec.data, rec.len, rec.count) != KB_OK)
                return KB_ECORRUPT;
            r->pack_left = rec.count;
            r->pack_off = at;
            r->pack_seq = rec.seq;
            continue;
        }
        if (sc == SCAN_OK) {
            r->file_seq++;
            if (rec.seq <= r->after)
                continue;
            r->last_packed = false;
            return reader_plain(&rec, e);
        }
        /* Nothing more below limit: more became durable, or the segment is
         * complete and the next one follows, or we are caught up. */
        uint64_t old = r->limit;
        reader_refresh(r);
        if (r->limit != old)
            continue;
        if (!r->seg_done)
            return KB_ENOTFOUND;
        if (sc == SCAN_SHORT)
            return KB_ECORRUPT;
        kb_err rc = reader_seek(r, r->file_seq);
        if (rc != KB_OK)
            return rc;
    }
}

kb_err journal_reader_next(struct journal_reader *r, struct journal_entry *e)
{
    if (!r || !e)
        return KB_EINVAL;
    kb_err rc = reader_next(r, e);
    if (rc != KB_OK && rc != KB_ENOTFOUND)
        r->broken = true;
    return rc;
}

void journal_reader_set_lazy(struct journal_reader *r, bool lazy)
{
    if (r)
        r->lazy = lazy;
}

kb_err journal_reader_data(struct journal_reader *r, struct journal_entry *e)
{
    if (!r || !e)
        return KB_EINVAL;
    if (e->data.p || e->data.n == 0 || !r->last_packed) {
        if (!e->data.p)
            e->data.p = "";
        return KB_OK;
    }
    kb_err rc = jpack_data(r->dec, e);
    if (rc != KB_OK)
        r->broken = true;
    return rc;
}

void journal_reader_close(struct journal_reader *r)
{
    if (!r)
        return;
    if (r->b.fd >= 0 && !r->broken && r->file_seq > r->after) {
        struct journal *j = r->j;
        /* Inside a pack, the next reader starts at the pack and skips. */
        struct hint h = r->pack_left > 0
                            ? (struct hint){r->file_seq, r->seg_first, r->pack_off, r->pack_seq}
                            : (struct hint){r->file_seq, r->seg_first, rbuf_tell(&r->b),
                                            r->file_seq};
        pthread_mutex_lock(&j->mu);
        size_t slot = j->hint_next;
        for (size_t i = 0; i < JR_HINTS; i++)
            if (j->hints[i].seq == h.seq)
                slot = i;
        j->hints[slot] = h;
        if (slot == j->hint_next)
            j->hint_next = (j->hint_next + 1) % JR_HINTS;
        pthread_mutex_unlock(&j->mu);
    }
    if (r->b.fd >= 0)
        close(r->b.fd);
    jpack_dec_free(r->dec);
    free(r->b.p);
    free(r);
}
