/*
 * journal_pack.h — compressed record groups ("packs") of the journal.
 * Internal to src/store: journal.c is the only user.
 *
 * A pack is one unit on disk holding `count` consecutive records. Its 32-byte
 * header has the record header's layout:
 *
 *   0 magic "KJP1" | 4 u32 payload length | 8 u64 seq of its first record |
 *   16 u32 count | 20 u32 raw length (both frames decompressed) |
 *   24 u8 codec (1: zstd) | 25, 26 zero | 27 flags (JR_MORE) |
 *   28 check (as for a record, over the payload as written)
 *
 * The payload is a 16-byte table, then two zstd frames:
 *
 *   0 u32 meta frame length | 4 u32 meta raw length |
 *   8 u32 data frame length | 12 u32 data raw length
 *
 * The meta frame holds, per record, a 20-byte inner header and the record's
 * aux bytes; the data frame holds the records' data, concatenated:
 *
 *   0 u32 data length | 4 u32 aux length | 8 u8 kind | 9 u8 format id |
 *   10 u8 path | 11 u8 zero | 12 i64 recv_ms
 *
 * Two frames because the pipeline folds most events from their aux (the
 * intake's summary) alone: it need not decompress the data at all.
 *
 * Sequence numbers are not inside: a pack is built before the journal's lock
 * hands them out, and its records take seq, seq + 1, ... in order.
 *
 * Why: journal bytes were the bound of `koban ingest` (every byte copied into
 * the page cache by one writer thread, then written to disk). CloudTrail JSON
 * compresses 8–20x with zstd level 1 at 1.2–1.5 GB/s per core, and the
 * compression runs on the appending threads, in parallel.
 *
 * Ownership: an encoder or decoder is owned by its creator and freed with
 * its _free function; what they return points into their own buffers, valid
 * until their next call.
 */
#ifndef KOBAN_JOURNAL_PACK_H
#define KOBAN_JOURNAL_PACK_H

#include "store/journal.h"

#define JR_HDR 32u
#define JR_MORE 0x01u
#define JR_AUX 0x02u
#define JP_INNER 20u                                     /* inner header */
#define JP_TABLE 16u                                     /* frame table */
#define JP_TARGET ((size_t)1 << 20)                      /* raw bytes a pack aims at */
#define JP_MAX_RAW ((size_t)JP_INNER + JOURNAL_MAX_RECORD) /* raw bound of one pack */
#define JP_MAX_COMP (JP_MAX_RAW + JP_MAX_RAW / 64 + 4096)  /* > zstd's bound for it */
#define JP_CODEC_ZSTD 1u

/* Little-endian fields, shared by the record and pack headers. */
static inline void jr_put_u32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (char)(v >> (8 * i));
}
static inline void jr_put_u64(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(v >> (8 * i));
}
static inline uint32_t jr_get_u32(const char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)(unsigned char)p[i] << (8 * i);
    return v;
}
static inline uint64_t jr_get_u64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)(unsigned char)p[i] << (8 * i);
    return v;
}

/* Records in the unit whose (checked) header is at h: a pack's count, or 1. */
static inline uint32_t jr_unit_count(const char *h)
{
    return memcmp(h, "KJP1", 4) == 0 ? jr_get_u32(h + 16) : 1;
}

/* Bytes the aux section takes in a payload: aux and its u32 length. */
static inline size_t jr_aux_bytes(const struct journal_entry *e)
{
    return e->aux.n ? e->aux.n + 4 : 0;
}
static inline size_t jr_payload_bytes(const struct journal_entry *e)
{
    return e->data.n + jr_aux_bytes(e);
}

/* One unit of an encoded append: a plain record or a pack, laid out in
 * jpack_enc's output at off, header first, seq and check still zero. */
struct jpack_unit {
    size_t off;
    uint32_t count;        /* records (1 for a plain record) */
    uint64_t payload_hash; /* XXH3-64 of the unit's payload as written */
};

struct jpack_enc;

/* level: zstd level (1 = fast). NULL only when memory runs out (aborts). */
struct jpack_enc *jpack_enc_new(int level);
void jpack_enc_free(struct jpack_enc *enc);

/* Encodes n entries (already checked by the caller) as units: with
 * compress, packs of about JP_TARGET raw bytes, a group whose compressed
 * form would not save an eighth of its size written as plain records
 * instead; without, plain records only. On success
 * *out and *len are the encoded bytes, *units and *nunits their layout, owned
 * by enc until its next call. KB_ETOOBIG when the output would pass
 * max_bytes. */
kb_err jpack_encode(struct jpack_enc *enc, const struct journal_entry *entries, size_t n,
                    bool compress, size_t max_bytes, const char **out, size_t *len,
                    const struct jpack_unit **units, size_t *nunits);

struct jpack_dec;

struct jpack_dec *jpack_dec_new(void);
void jpack_dec_free(struct jpack_dec *dec);

/* Takes a pack's payload (p, n) that must hold count records: decompresses
 * its meta frame and keeps a copy of its data frame. KB_ECORRUPT when the
 * payload does not hold what its header says. */
kb_err jpack_decode(struct jpack_dec *dec, const char *p, size_t n, uint32_t count);

/* The next record of the decoded pack into *e (seq left to the caller; aux
 * points into dec). With want_data, data points into dec too; without it,
 * data.p is NULL (data.n is set) until jpack_data. KB_ENOTFOUND after the
 * last; KB_ECORRUPT when the inner layout is wrong. */
kb_err jpack_next(struct jpack_dec *dec, struct journal_entry *e, bool want_data);

/* Fills e->data of the record jpack_next returned last, decompressing the
 * data frame on first use. KB_ECORRUPT when the frame is bad. */
kb_err jpack_data(struct jpack_dec *dec, struct journal_entry *e);

#endif
