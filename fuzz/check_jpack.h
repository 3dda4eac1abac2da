/*
 * check_jpack.h — one fuzz input as a journal pack (store/journal_pack.h),
 * shared by fuzz/fuzz_jpack.c and the unit-test smoke run. The first byte
 * is the record count the header would claim (1-255), the rest the pack's
 * payload (frame table and frames). Decoding must say KB_OK or KB_ECORRUPT;
 * after KB_OK, walking the records (data asked for on every other one)
 * must end in KB_ENOTFOUND after exactly the count, or in KB_ECORRUPT,
 * with every byte handed out inside the decoder's buffers.
 *
 * A pack is read only after its check (XXH3 over these bytes) held, so bad
 * input here means a writer's bug or a collision; the decoder must still
 * refuse it instead of reading out of bounds.
 */
#ifndef KOBAN_FUZZ_CHECK_JPACK_H
#define KOBAN_FUZZ_CHECK_JPACK_H

#include "check.h"
#include "store/journal_pack.h"

/* NULL when the decoder behaved on this input. */
static inline const char *fz_jpack_one(const char *in, size_t size, void *stats)
{
    if (size < 1)
        return NULL;
    uint32_t count = (uint8_t)in[0];
    struct jpack_dec *dec = jpack_dec_new();
    kb_err e = jpack_decode(dec, in + 1, size - 1, count);
    fz_count(stats, e);
    const char *bad = NULL;
    if (e != KB_OK && e != KB_ECORRUPT)
        bad = "decode: neither KB_OK nor KB_ECORRUPT";
    unsigned sum = 0;
    uint32_t seen = 0;
    while (!bad && e == KB_OK) {
        struct journal_entry ent;
        kb_err ne = jpack_next(dec, &ent, seen % 2 == 0);
        if (ne == KB_ENOTFOUND) {
            if (seen != count)
                bad = "walk ended before the count";
            break;
        }
        if (ne == KB_OK && !ent.data.p)
            ne = jpack_data(dec, &ent);
        if (ne == KB_ECORRUPT)
            break;
        if (ne != KB_OK) {
            bad = "next: unexpected error";
            break;
        }
        if (++seen > count) {
            bad = "more records than the count";
            break;
        }
        if (ent.data.n > JOURNAL_MAX_RECORD || ent.aux.n > JOURNAL_MAX_AUX)
            bad = "record over its bounds";
        fz_touchn(&sum, ent.data.p, ent.data.n);
        fz_touchn(&sum, ent.aux.p, ent.aux.n);
    }
    jpack_dec_free(dec);
    return bad;
}

#endif
