/*
 * journal.c — the journal: open and close, group commit (the writer
 * thread), appends, waits, stats and trim. Recovery at open is in
 * journal_recover.c, reading in journal_read.c (journal_impl.h).
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
#include "store/journal_impl.h"

#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
    jr_seg_name(seg_first, name);
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
    jr_seg_name(seq, name);
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
    jr_segs_push(j, seq, 0);
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
                s += jr_unit_count(p + end);
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
        if (s - 1 >= j->wait_min) {
            j->wait_min = UINT64_MAX; /* the unsatisfied register again */
            pthread_cond_broadcast(&j->cv_durable);
        }
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
    rc = jr_segs_load(j, why);
    if (rc != KB_OK)
        goto fail;
    atomic_init(&j->durable_seq, j->next_seq - 1);
    j->durable_at_open = j->next_seq - 1;
    j->wait_min = UINT64_MAX;

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
    /* The units are made in this thread (packs compressed, payloads hashed);
     * under the lock they are copied and only each one's seq and check are
     * filled in. A few KiB gain nothing from a compressed frame. */
    struct jpack_enc *enc = enc_take(j);
    const char *out;
    size_t len, nunits;
    const struct jpack_unit *units;
    kb_err rc = jpack_encode(enc, entries, n, j->level != 0 && total >= JR_PACK_MIN,
                             JR_MAX_GROUP, &out, &len, &units, &nunits);
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
                jr_put_u32(h + 28, jr_rec_check(h, units[i].payload_hash));
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

/* gen: NULL, or the kick generation at which the wait ends early. */
static kb_err wait_durable(struct journal *j, uint64_t seq, int timeout_ms, const uint64_t *gen)
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
           !timed_out && !(gen && j->kicks != *gen)) {
        if (seq < j->wait_min)
            j->wait_min = seq;
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

kb_err journal_wait(struct journal *j, uint64_t seq, int timeout_ms)
{
    return wait_durable(j, seq, timeout_ms, NULL);
}

uint64_t journal_kicks(struct journal *j)
{
    if (!j)
        return 0;
    pthread_mutex_lock(&j->mu);
    uint64_t k = j->kicks;
    pthread_mutex_unlock(&j->mu);
    return k;
}

kb_err journal_wait_kickable(struct journal *j, uint64_t seq, int timeout_ms, uint64_t gen)
{
    return wait_durable(j, seq, timeout_ms, &gen);
}

void journal_kick(struct journal *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->kicks++;
    pthread_cond_broadcast(&j->cv_durable);
    pthread_mutex_unlock(&j->mu);
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
        jr_seg_name(first, name);
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
