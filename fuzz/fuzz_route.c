/*
 * fuzz_route.c — libFuzzer target: the notification routing file
 * (route_load_buffer).
 * The rules checked are in check_route.h (shared with the unit-test
 * smoke run); a broken one aborts, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check_route.h"
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
    const char *why = fz_route_one((const char *)data, size, NULL);
    if (why) {
        fprintf(stderr, "fuzz_route: %s\n", why);
        abort();
    }
    return 0;
}
