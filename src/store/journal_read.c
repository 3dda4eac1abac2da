/*
 * journal_read.c — reading the journal's files: a chunked reader of one
 * segment, the unit parser that checks every unit, and the readers
 * (journal.h) with their packs and remembered positions.
 */
#include "store/journal_impl.h"

#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

void jr_seg_name(uint64_t first, char out[JR_NAME_LEN + 1])
{
    snprintf(out, JR_NAME_LEN + 1, "%020" PRIu64 ".kj", first);
}

static uint32_t hdr_crc(const char *hdr, const char *data, size_t n)
{
    char h[JR_HDR];
    memcpy(h, hdr, JR_HDR);
    jr_put_u32(h + 28, 0);
    return jr_rec_check(h, XXH3_64bits(data, n));
}

/* ---- chunked reading --------------------------------------------------- */

void jr_rbuf_reset(struct rbuf *b, int fd)
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
uint64_t jr_rbuf_tell(const struct rbuf *b)
{
    return b->off - (b->len - b->pos);
}

/* Parses and checks the next record below limit. On SCAN_BAD *bad says why. */
enum scan jr_rec_next(struct rbuf *b, uint64_t limit, struct rec *r, const char **bad)
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
    r->count = jr_unit_count(h);
    /* the check held, so a bad field is a writer's bug */
    if (pack && (r->count == 0 || (uint8_t)h[24] != JP_CODEC_ZSTD)) {
        *bad = "pack with no records or an unknown codec";
        return SCAN_BAD;
    }
    b->pos += JR_HDR + len;
    return SCAN_OK;
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
        jr_seg_name(first, name);
        int fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
            continue;
        if (fd < 0)
            return KB_EIO;
        jr_rbuf_reset(&r->b, fd);
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
        jr_seg_name(h.seg_first, name);
        int fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) { /* else trimmed since: seek as usual */
            jr_rbuf_reset(&r->b, fd);
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
        uint64_t at = jr_rbuf_tell(&r->b);
        enum scan sc = jr_rec_next(&r->b, r->limit, &rec, &bad);
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
    if (!r->last_packed)
        return KB_OK; /* a plain record comes whole */
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
                            : (struct hint){r->file_seq, r->seg_first, jr_rbuf_tell(&r->b),
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
