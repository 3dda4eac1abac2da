/* test_jpack_fuzzsmoke.c — a short, deterministic fuzz run of the journal's
 * pack decoder in the unit tests: packs made by jpack_encode (checked to
 * decode whole), the seeds of fuzz/seeds/jpack, then mutants of them, with
 * the checks of fuzz/check_jpack.h (no crash, no read out of bounds, no
 * leak). fuzz/fuzz_jpack.c does the long runs. */
#include "test.h"

#include "../../../fuzz/check_jpack.h"
#include "../../../fuzz/smoke.h"

#define ITERS 40000
#define MAX_SECS 4.0

static const char *const tokens[] = {
    "\x28\xb5\x2f\xfd", /* zstd frame magic */
    "\x00\x00\x00\x00",
    "\xff\xff\xff\xff",
    "\x01\x00\x00\x00",
    "\x14\x00\x00\x00",
    "{\"eventName\":\"",
    "\x02",
};

/* Adds a pack of n records made by the encoder, with its count first. */
static void add_encoded(struct smoke_seeds *s, struct jpack_enc *enc, size_t n, bool aux)
{
    char data[40][200], auxb[40][40];
    struct journal_entry e[40];
    for (size_t i = 0; i < n && i < 40; i++) {
        int dn = snprintf(data[i], sizeof data[i],
                          "{\"eventName\":\"Describe%zu\",\"user\":\"u%zu\",\"pad\":\"aaaaaaaa\"}",
                          i % 7, i % 3);
        int an = snprintf(auxb[i], sizeof auxb[i], "summary %zu", i);
        e[i] = (struct journal_entry){.recv_ms = (int64_t)i, .kind = JOURNAL_EVENT_JSON,
                                      .path = JOURNAL_PATH_HTTP, .data = {data[i], (size_t)dn},
                                      .aux = {auxb[i], aux && i % 2 ? (size_t)an : 0}};
    }
    const char *out;
    size_t len, nunits;
    const struct jpack_unit *units;
    T_EQ_INT(jpack_encode(enc, e, n, true, SIZE_MAX, &out, &len, &units, &nunits), KB_OK);
    T_EQ_INT(nunits, 1);
    T_CHECK(len > JR_HDR && memcmp(out, "KJP1", 4) == 0);
    smoke_add_sel(s, (unsigned char)n, out + JR_HDR, len - JR_HDR);
}

static void test_mutations(void)
{
    struct smoke_seeds *s = calloc(1, sizeof *s);
    struct jpack_enc *enc = jpack_enc_new(1);
    add_encoded(s, enc, 40, true);
    add_encoded(s, enc, 25, false);
    add_encoded(s, enc, 33, true);
    jpack_enc_free(enc);
    size_t own = s->count;
    smoke_add_dir(s, -1, KOBAN_SOURCE_DIR "/fuzz/seeds/jpack", NULL);
    T_CHECK(s->count > own);
    /* Every seed decodes whole. */
    struct fz_stats st0 = {0};
    for (size_t i = 0; i < s->count; i++)
        T_CHECKF(fz_jpack_one(s->p[i], s->n[i], &st0) == NULL, "seed %zu", i);
    T_EQ_INT(st0.ok, s->count);
    struct fz_stats st = {0};
    struct smoke_result r =
        smoke_run(s, ITERS, MAX_SECS, tokens, KB_ARRAY_LEN(tokens), fz_jpack_one, &st);
    fprintf(stderr, "    %zu seeds, %d inputs (%u decoded), %d failures, %.2f s\n", s->count,
            r.runs, st.ok, r.failures, r.secs);
    T_EQ_INT(r.failures, 0);
    T_CHECK(r.runs >= (int)s->count);
    T_CHECK(st.ok > 0);
    smoke_release(s);
    free(s);
}

int main(void)
{
    T_RUN(test_mutations);
    return t_done();
}
