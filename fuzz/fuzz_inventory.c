/*
 * fuzz_inventory.c — libFuzzer target: inventory_parse in every format (the first
 * input byte chooses it) and inventory_detect on the same text.
 * The rules checked are in check_inventory.h (shared with the unit-test
 * smoke run); a broken one aborts, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check_inventory.h"
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
    const char *why = fz_inventory_one((const char *)data, size, NULL);
    if (why) {
        fprintf(stderr, "fuzz_inventory: %s\n", why);
        abort();
    }
    return 0;
}
