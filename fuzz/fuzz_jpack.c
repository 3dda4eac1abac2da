/*
 * fuzz_jpack.c — libFuzzer target: the journal's pack decoder
 * (jpack_decode, jpack_next, jpack_data). The rules checked are in
 * check_jpack.h (shared with the unit-test smoke run); a broken one aborts,
 * which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check_jpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = fz_jpack_one((const char *)data, size, NULL);
    if (why) {
        fprintf(stderr, "fuzz_jpack: %s\n", why);
        abort();
    }
    return 0;
}
