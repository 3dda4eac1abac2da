/*
 * journal_pack.c — encode an append into packs and plain records; decode a
 * pack back into records. Layout: journal_pack.h.
 */
#include "store/journal_pack.h"

#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>
#include <zstd.h>

struct jpack_enc {
    ZSTD_CCtx *cctx;
    char *meta, *data; /* one pack's frames before compression */
    size_t meta_cap, data_cap;
    char *out; /* the encoded append */
    size_t out_len, out_cap;
    struct jpack_unit *units;
    size_t nunits, units_cap;
};

struct jpack_dec {
    ZSTD_DCtx *dctx;
    char *meta; /* decompressed meta frame */
    size_t meta_cap, meta_len, pos;
    char *zdata; /* the data frame, still compressed */
    size_t zdata_cap, zdata_len;
    char *data; /* decompressed, once asked for */
    size_t data_cap, data_len, data_pos;
    bool data_ready;
    size_t last_off; /* data offset of the record handed out last */
    uint32_t left; /* records not yet handed out */
};

struct jpack_enc *jpack_enc_new(int level)
{
    struct jpack_enc *enc = kb_calloc(1, sizeof *enc);
    enc->cctx = ZSTD_createCCtx();
    if (!enc->cctx)
        abort(); /* out of memory, as kb_malloc does */
    ZSTD_CCtx_setParameter(enc->cctx, ZSTD_c_compressionLevel, level);
    /* The record check (XXH3 over the compressed bytes) covers the frame. */
    ZSTD_CCtx_setParameter(enc->cctx, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(enc->cctx, ZSTD_c_contentSizeFlag, 1);
    return enc;
}

void jpack_enc_free(struct jpack_enc *enc)
{
    if (!enc)
        return;
    ZSTD_freeCCtx(enc->cctx);
    free(enc->meta);
    free(enc->data);
    free(enc->out);
    free(enc->units);
    free(enc);
}

/* XXH3-64 of a plain record's payload as written: data, aux, aux's length. */
static uint64_t payload_hash(const struct journal_entry *e)
{
    if (!e->aux.n)
        return XXH3_64bits(e->data.p, e->data.n);
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, e->data.p, e->data.n);
    XXH3_64bits_update(&st, e->aux.p, e->aux.n);
    char len[4];
    jr_put_u32(len, (uint32_t)e->aux.n);
    XXH3_64bits_update(&st, len, 4);
    return XXH3_64bits_digest(&st);
}

/* Payload bytes as a record stores them: data, aux, aux's length. */
static void put_payload(char *d, const struct journal_entry *e)
{
    if (e->data.n)
        memcpy(d, e->data.p, e->data.n);
    if (e->aux.n) {
        memcpy(d + e->data.n, e->aux.p, e->aux.n);
        jr_put_u32(d + e->data.n + e->aux.n, (uint32_t)e->aux.n);
    }
}

/* Writes a plain record's header (seq and check zero) and payload at w. */
static void put_record(char *w, const struct journal_entry *e, bool more)
{
    memcpy(w, "KJR2", 4);
    jr_put_u32(w + 4, (uint32_t)jr_payload_bytes(e));
    jr_put_u64(w + 8, 0);
    jr_put_u64(w + 16, (uint64_t)e->recv_ms);
    w[24] = (char)e->kind;
    w[25] = (char)e->format_id;
    w[26] = (char)e->path;
    w[27] = (char)((more ? JR_MORE : 0) | (e->aux.n ? JR_AUX : 0));
    jr_put_u32(w + 28, 0);
    put_payload(w + JR_HDR, e);
}

static void out_reserve(struct jpack_enc *enc, size_t extra)
{
    if (enc->out_len + extra <= enc->out_cap)
        return;
    size_t cap = enc->out_cap ? enc->out_cap : 64 * 1024;
    while (cap < enc->out_len + extra)
        cap *= 2;
    enc->out = kb_realloc(enc->out, cap);
    enc->out_cap = cap;
}

static struct jpack_unit *unit_push(struct jpack_enc *enc)
{
    if (enc->nunits == enc->units_cap) {
        enc->units_cap = enc->units_cap ? enc->units_cap * 2 : 64;
        enc->units = kb_realloc(enc->units, enc->units_cap * sizeof *enc->units);
    }
    struct jpack_unit *u = &enc->units[enc->nunits++];
    *u = (struct jpack_unit){.off = enc->out_len};
    return u;
}

/* Appends entries[0..n) as plain records. */
static kb_err emit_plain(struct jpack_enc *enc, const struct journal_entry *entries, size_t n,
                         size_t max_bytes)
{
    for (size_t i = 0; i < n; i++) {
        size_t sz = JR_HDR + jr_payload_bytes(&entries[i]);
        if (enc->out_len + sz > max_bytes)
            return KB_ETOOBIG;
        out_reserve(enc, sz);
        struct jpack_unit *u = unit_push(enc);
        u->count = 1;
        u->payload_hash = payload_hash(&entries[i]);
        put_record(enc->out + enc->out_len, &entries[i], true);
        enc->out_len += sz;
    }
    return KB_OK;
}

/* Grows *p (capacity *cap) to hold need bytes, in steps of 64 KiB (an HTTP
 * batch needs about 100 KB, `koban ingest` JP_TARGET); the old content is
 * not kept. */
static void scratch(char **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    *cap = (need + 0xffff) & ~(size_t)0xffff;
    free(*p);
    *p = kb_malloc(*cap);
}

/* Packs entries[0..n) into one unit, or plain records when compression does
 * not pay. */
static kb_err emit_group(struct jpack_enc *enc, const struct journal_entry *entries, size_t n,
                         size_t max_bytes)
{
    size_t meta_raw = 0, data_raw = 0;
    for (size_t i = 0; i < n; i++) {
        meta_raw += JP_INNER + entries[i].aux.n;
        data_raw += entries[i].data.n;
    }
    scratch(&enc->meta, &enc->meta_cap, meta_raw);
    scratch(&enc->data, &enc->data_cap, data_raw ? data_raw : 1);
    char *m = enc->meta, *d = enc->data;
    for (size_t i = 0; i < n; i++) {
        const struct journal_entry *e = &entries[i];
        jr_put_u32(m, (uint32_t)e->data.n);
        jr_put_u32(m + 4, (uint32_t)e->aux.n);
        m[8] = (char)e->kind;
        m[9] = (char)e->format_id;
        m[10] = (char)e->path;
        m[11] = 0;
        jr_put_u64(m + 12, (uint64_t)e->recv_ms);
        if (e->aux.n)
            memcpy(m + JP_INNER, e->aux.p, e->aux.n);
        m += JP_INNER + e->aux.n;
        if (e->data.n)
            memcpy(d, e->data.p, e->data.n);
        d += e->data.n;
    }
    size_t mb = ZSTD_compressBound(meta_raw), db = ZSTD_compressBound(data_raw);
    out_reserve(enc, JR_HDR + JP_TABLE + mb + db);
    char *h = enc->out + enc->out_len, *t = h + JR_HDR;
    size_t mc = ZSTD_compress2(enc->cctx, t + JP_TABLE, mb, enc->meta, meta_raw);
    size_t dc = ZSTD_isError(mc) ? mc
                                 : ZSTD_compress2(enc->cctx, t + JP_TABLE + mc, db, enc->data,
                                                  data_raw);
    size_t raw = meta_raw + data_raw;
    if (ZSTD_isError(mc) || ZSTD_isError(dc) || JP_TABLE + mc + dc > raw - raw / 8)
        return emit_plain(enc, entries, n, max_bytes);
    size_t plen = JP_TABLE + mc + dc;
    if (enc->out_len + JR_HDR + plen > max_bytes)
        return KB_ETOOBIG;
    jr_put_u32(t, (uint32_t)mc);
    jr_put_u32(t + 4, (uint32_t)meta_raw);
    jr_put_u32(t + 8, (uint32_t)dc);
    jr_put_u32(t + 12, (uint32_t)data_raw);
    memcpy(h, "KJP1", 4);
    jr_put_u32(h + 4, (uint32_t)plen);
    jr_put_u64(h + 8, 0);
    jr_put_u32(h + 16, (uint32_t)n);
    jr_put_u32(h + 20, (uint32_t)raw);
    h[24] = (char)JP_CODEC_ZSTD;
    h[25] = h[26] = 0;
    h[27] = (char)JR_MORE;
    jr_put_u32(h + 28, 0);
    struct jpack_unit *u = unit_push(enc);
    u->count = (uint32_t)n;
    u->payload_hash = XXH3_64bits(t, plen);
    enc->out_len += JR_HDR + plen;
    return KB_OK;
}

kb_err jpack_encode(struct jpack_enc *enc, const struct journal_entry *entries, size_t n,
                    bool compress, size_t max_bytes, const char **out, size_t *len,
                    const struct jpack_unit **units, size_t *nunits)
{
    enc->out_len = 0;
    enc->nunits = 0;
    kb_err rc = compress ? KB_OK : emit_plain(enc, entries, n, max_bytes);
    size_t start = compress ? 0 : n, raw = 0;
    for (size_t i = start; i < n && rc == KB_OK; i++) {
        size_t sz = JP_INNER + entries[i].data.n + entries[i].aux.n;
        if (raw > 0 && raw + sz > JP_TARGET) {
            rc = emit_group(enc, entries + start, i - start, max_bytes);
            start = i;
            raw = 0;
        }
        raw += sz;
    }
    if (rc == KB_OK && start < n)
        rc = emit_group(enc, entries + start, n - start, max_bytes);
    if (rc != KB_OK)
        return rc;
    /* Every unit but the last says "the next one belongs to this append". */
    struct jpack_unit *lastu = &enc->units[enc->nunits - 1];
    enc->out[lastu->off + 27] = (char)(enc->out[lastu->off + 27] & ~JR_MORE);
    *out = enc->out;
    *len = enc->out_len;
    *units = enc->units;
    *nunits = enc->nunits;
    return KB_OK;
}

struct jpack_dec *jpack_dec_new(void)
{
    struct jpack_dec *dec = kb_calloc(1, sizeof *dec);
    dec->dctx = ZSTD_createDCtx();
    if (!dec->dctx)
        abort();
    return dec;
}

void jpack_dec_free(struct jpack_dec *dec)
{
    if (!dec)
        return;
    ZSTD_freeDCtx(dec->dctx);
    free(dec->meta);
    free(dec->zdata);
    free(dec->data);
    free(dec);
}

kb_err jpack_decode(struct jpack_dec *dec, const char *p, size_t n, uint32_t count)
{
    dec->left = 0;
    if (n < JP_TABLE || count == 0)
        return KB_ECORRUPT;
    size_t mc = jr_get_u32(p), mraw = jr_get_u32(p + 4);
    size_t dc = jr_get_u32(p + 8), draw = jr_get_u32(p + 12);
    if (mc > n - JP_TABLE || dc != n - JP_TABLE - mc || mraw > JP_MAX_RAW ||
        draw > JP_MAX_RAW || mraw < (size_t)count * JP_INNER)
        return KB_ECORRUPT;
    scratch(&dec->meta, &dec->meta_cap, mraw);
    size_t got = ZSTD_decompressDCtx(dec->dctx, dec->meta, mraw, p + JP_TABLE, mc);
    if (ZSTD_isError(got) || got != mraw)
        return KB_ECORRUPT;
    scratch(&dec->zdata, &dec->zdata_cap, dc ? dc : 1);
    if (dc)
        memcpy(dec->zdata, p + JP_TABLE + mc, dc);
    dec->zdata_len = dc;
    dec->data_len = draw;
    dec->data_ready = false;
    dec->meta_len = mraw;
    dec->pos = dec->data_pos = 0;
    dec->left = count;
    return KB_OK;
}

kb_err jpack_next(struct jpack_dec *dec, struct journal_entry *e, bool want_data)
{
    if (dec->left == 0)
        return KB_ENOTFOUND;
    size_t rest = dec->meta_len - dec->pos;
    if (rest < JP_INNER)
        return KB_ECORRUPT;
    const char *h = dec->meta + dec->pos;
    uint32_t dn = jr_get_u32(h), an = jr_get_u32(h + 4);
    if (an > rest - JP_INNER || an > JOURNAL_MAX_AUX || dn > dec->data_len - dec->data_pos)
        return KB_ECORRUPT;
    *e = (struct journal_entry){.recv_ms = (int64_t)jr_get_u64(h + 12),
                                .kind = (uint8_t)h[8],
                                .format_id = (uint8_t)h[9],
                                .path = (uint8_t)h[10],
                                .data = {NULL, dn},
                                .aux = {an ? h + JP_INNER : NULL, an}};
    dec->last_off = dec->data_pos;
    dec->pos += JP_INNER + an;
    dec->data_pos += dn;
    /* The last record must end both frames exactly. */
    if (--dec->left == 0 && (dec->pos != dec->meta_len || dec->data_pos != dec->data_len))
        return KB_ECORRUPT;
    return want_data || !an ? jpack_data(dec, e) : KB_OK;
}

kb_err jpack_data(struct jpack_dec *dec, struct journal_entry *e)
{
    if (e->data.p || e->data.n == 0) {
        if (!e->data.p)
            e->data.p = "";
        return KB_OK;
    }
    if (!dec->data_ready) {
        scratch(&dec->data, &dec->data_cap, dec->data_len ? dec->data_len : 1);
        size_t got = ZSTD_decompressDCtx(dec->dctx, dec->data, dec->data_len, dec->zdata,
                                         dec->zdata_len);
        if (ZSTD_isError(got) || got != dec->data_len)
            return KB_ECORRUPT;
        dec->data_ready = true;
    }
    e->data.p = dec->data + dec->last_off;
    return KB_OK;
}
