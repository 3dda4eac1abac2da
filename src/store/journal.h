/*
 * journal.h — the durable, append-only event journal.
 *
 * Every accepted event is a record here before anyone is told "accepted".
 * Records live in segment files <dir>/<first-seq, 20 digits>.kj. On disk a
 * record is a 32-byte header followed by the payload:
 *
 *   u32 magic 'KJR2' | u32 payload length | u64 seq | i64 recv_ms |
 *   u8 kind | u8 format id | u8 path | u8 flags | u32 check (low 32 bits
 *   of XXH3-64 over the header with this field zeroed, seeded with the
 *   XXH3-64 of the payload)
 * (little-endian; flags bit 0: the next record belongs to the same append,
 * so recovery can drop an append that reached the disk only in part).
 *
 * With compress_level set, an append of 16 KiB or more is written as packs
 * instead: units with the same header layout (magic 'KJP1') that hold many
 * records compressed (store/journal_pack.h). Readers take both kinds.
 *
 * Sequence numbers start at 1 and increase by one per record, across
 * segments. A new segment starts when the current one passes segment_bytes.
 *
 * Group commit: appends from any thread are copied into a pending buffer; a
 * single writer thread writes everything pending, calls fdatasync() once,
 * then publishes the new durable sequence number, wakes journal_wait()ers and
 * runs journal_on_durable() callbacks. So N concurrent appends cost one
 * fsync. No caller may acknowledge an event before it is durable.
 *
 * Recovery (journal_open): the last segment is scanned; the first record
 * whose header or CRC is bad, or that is cut short, marks the torn tail: the
 * file is truncated there (and the count of dropped bytes logged). Records
 * before it are intact by CRC. A bad record in an older segment is corruption
 * (KB_ECORRUPT), not a torn tail.
 *
 * Ownership: journal_open returns a journal the caller frees with
 * journal_close (which flushes, fsyncs and joins the writer). Readers are
 * owned by their caller and must be closed before the journal.
 * Thread safety: append, wait, on_durable, durable_seq: any thread. A reader:
 * one thread at a time.
 */
#ifndef KOBAN_JOURNAL_H
#define KOBAN_JOURNAL_H

#include "lib/kb.h"

enum journal_kind {
    JOURNAL_EVENT_JSON = 1, /* payload: one JSON value, verbatim */
    JOURNAL_EVENT_TEXT = 2, /* payload: one text message (syslog): a line
                               without its newline, or an octet-counted
                               frame byte for byte */
    JOURNAL_REJECT = 3,     /* payload: u16 reason length, reason, raw input */
};

enum journal_path {         /* how the event arrived */
    JOURNAL_PATH_HTTP = 1,
    JOURNAL_PATH_SPOOL = 2,
    JOURNAL_PATH_SYSLOG = 3,
    JOURNAL_PATH_CLI = 4,
};

#define JOURNAL_MAX_RECORD (8u * 1024 * 1024) /* payload bound (data + aux) */
#define JOURNAL_MAX_AUX (64u * 1024)           /* aux bound */

struct journal_entry {
    uint64_t seq;       /* set by append / read */
    int64_t recv_ms;    /* receive time */
    uint8_t kind;       /* enum journal_kind */
    uint8_t format_id;  /* forced format, 0 = detect */
    uint8_t path;       /* enum journal_path */
    struct kb_str data; /* payload; for reads, valid until the next read */
    struct kb_str aux;  /* optional derived bytes kept beside the payload
                           (the intake's summary of the event, so that
                           consumers need not redo its work); empty when
                           absent; for reads, valid until the next read */
};

struct journal_opts {
    size_t segment_bytes;   /* rotate past this; 0 = 64 MiB */
    size_t max_pending;     /* bytes buffered before appends block; 0 = 64 MiB */
    bool no_sync;           /* skip fdatasync (benchmarks of the rest only) */
    int compress_level;     /* zstd level for appends of 16 KiB or more,
                               written as packs (journal_pack.h); 0 = every
                               record plain. Readers take both. */
};

struct journal;
struct journal_reader;

kb_err journal_open(const char *dir, const struct journal_opts *opts,
                    struct journal **out, struct kb_why *why);
/* Flushes pending records, fsyncs, stops the writer, frees. NULL is a no-op. */
void journal_close(struct journal *j);

/* Appends n records atomically as a group (consecutive sequence numbers;
 * all or none reach the disk in order) and sets *last_seq to the last one's.
 * Not durable until journal_durable_seq() >= *last_seq. Blocks while the
 * pending buffer is full. KB_ETOOBIG if a payload exceeds
 * JOURNAL_MAX_RECORD, KB_EIO if the journal has failed (sticky). */
kb_err journal_append(struct journal *j, const struct journal_entry *entries, size_t n,
                      uint64_t *last_seq);

/* Blocks until seq is durable. KB_ETIMEOUT after timeout_ms (<0 = forever),
 * KB_EIO if the writer failed. */
kb_err journal_wait(struct journal *j, uint64_t seq, int timeout_ms);

/* For a waiter that gathers records and must stop gathering when asked:
 * journal_wait_kickable() is journal_wait() that also ends (KB_ETIMEOUT)
 * once journal_kick() has been called since journal_kicks() returned gen.
 * Reading gen before deciding what to wait for means no kick is missed. */
uint64_t journal_kicks(struct journal *j);
kb_err journal_wait_kickable(struct journal *j, uint64_t seq, int timeout_ms, uint64_t gen);
void journal_kick(struct journal *j);

/* Calls done(ctx, err) from the writer thread once seq is durable (or the
 * journal failed or closed: err != KB_OK). Called at once, in this thread,
 * if seq is already durable. done must be quick and must not call back into
 * the journal. When this returns an error, done is never called. */
typedef void (*journal_done_fn)(void *ctx, kb_err err);
kb_err journal_on_durable(struct journal *j, uint64_t seq, journal_done_fn done, void *ctx);

/* Highest durable sequence number (0 when empty). */
uint64_t journal_durable_seq(struct journal *j);

/* Counters for /metrics. */
struct journal_stats {
    uint64_t records;      /* records made durable since open */
    uint64_t bytes;        /* durable bytes written since open */
    uint64_t syncs;        /* fdatasync calls since open */
    uint64_t segments;     /* segment files present */
    uint64_t torn_bytes;   /* bytes cut from a torn tail at open */
    uint64_t in_bytes;     /* appended since open, as plain records */
    uint64_t out_bytes;    /* the same as written (packs compressed) */
    uint64_t disk_bytes;   /* durable bytes in the segment files */
};
void journal_stats(struct journal *j, struct journal_stats *out);

/* Readers see durable records with seq > after, in order. */
kb_err journal_reader_open(struct journal *j, uint64_t after, struct journal_reader **out);
/* Reads the next durable record into *e. KB_ENOTFOUND when caught up. */
kb_err journal_reader_next(struct journal_reader *r, struct journal_entry *e);
/* With lazy set, a record read from a pack that carries aux comes with
 * data.p NULL (data.n is its length) until journal_reader_data is called on
 * it, before the next read: a consumer that can do with aux alone skips
 * decompressing the data. Off by default. */
void journal_reader_set_lazy(struct journal_reader *r, bool lazy);
/* Fills e->data of the record journal_reader_next returned last (a no-op
 * when it is already there). KB_ECORRUPT when its pack's data is bad. */
kb_err journal_reader_data(struct journal_reader *r, struct journal_entry *e);
void journal_reader_close(struct journal_reader *r);

/* Deletes whole segments all of whose records have seq <= upto and whose
 * file is older than min_age_ms; never the newest segment. */
kb_err journal_trim(struct journal *j, uint64_t upto, int64_t min_age_ms);

#endif
