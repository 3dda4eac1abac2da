/*
 * journal_impl.h — what the journal's files share (internal to src/store):
 * the segment table, the on-disk unit as read, the chunked file reader and
 * struct journal itself. journal.c: open, writer, appends, waits, trim;
 * journal_recover.c: listing and checking segments at open, torn tails;
 * journal_read.c: reading units from a file, and the readers.
 */
#ifndef KOBAN_JOURNAL_IMPL_H
#define KOBAN_JOURNAL_IMPL_H

#include "store/journal.h"
#include "store/journal_pack.h"

#include <pthread.h>
#include <stdatomic.h>
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
 * data/len are its payload; its header fields past the count are not
 * those of a record). */
struct rec {
    uint64_t seq;
    int64_t recv_ms;
    uint8_t kind, format_id, path, flags;
    const char *data;
    uint32_t len;
    bool pack;
    uint32_t count;
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
    /* The smallest seq a journal_wait caller sleeps for (UINT64_MAX: none).
     * The writer wakes waiters only when durable_seq reaches it: a waiter
     * gathering thousands of records must not wake at every group commit. */
    uint64_t wait_min;
    uint64_t kicks; /* journal_kick() calls; ends journal_wait_kickable() */
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

/* The record check of a header whose check field is zero, given the hash
 * of its payload. */
static inline uint32_t jr_rec_check(const char *hdr_zeroed, uint64_t payload_hash)
{
    return (uint32_t)XXH3_64bits_withSeed(hdr_zeroed, JR_HDR, payload_hash);
}

/* "<first, 20 digits>.kj" */
void jr_seg_name(uint64_t first, char out[JR_NAME_LEN + 1]);

/* Chunked reading of one segment file (journal_read.c). */
void jr_rbuf_reset(struct rbuf *b, int fd); /* closes the old fd, takes fd */
uint64_t jr_rbuf_tell(const struct rbuf *b); /* file offset of the next unread byte */
/* Parses and checks the next unit below limit. On SCAN_BAD *bad says why. */
enum scan jr_rec_next(struct rbuf *b, uint64_t limit, struct rec *r, const char **bad);

/* The segment table (journal_recover.c); the caller holds mu when others
 * may look. */
void jr_segs_push(struct journal *j, uint64_t first, uint64_t size);
/* Lists, checks and recovers the segments; leaves wfd open on the last. */
kb_err jr_segs_load(struct journal *j, struct kb_why *why);

#endif
