/*
 * fuzz_feed.c — libFuzzer target: the advisory feed converters
 * (feed_nvd_page, feed_ghsa_page, feed_jvn_overview, feed_jvn_detail,
 * feed_kev_parse), the first input byte choosing which.
 * The rules checked are in check_feed.h (shared with the unit-test
 * smoke run); a broken one aborts, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check_feed.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    kb_log_set_level(KB_LOG_OFF); /* refused inputs are logged; not wanted here */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = fz_feed_one((const char *)data, size, NULL);
    if (why) {
        fprintf(stderr, "fuzz_feed: %s\n", why);
        abort();
    }
    return 0;
}
