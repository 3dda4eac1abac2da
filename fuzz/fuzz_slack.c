/*
 * fuzz_slack.c — libFuzzer target: Slack's inbound requests: slack_form_get
 * on any body, and signed JSON and form requests through
 * slack_inbound_handle (the first input byte chooses).
 * The rules checked are in check_slack.h (shared with the unit-test
 * smoke run); a broken one aborts, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check_slack.h"
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
    const char *why = fz_slack_one((const char *)data, size, NULL);
    if (why) {
        fprintf(stderr, "fuzz_slack: %s\n", why);
        abort();
    }
    return 0;
}
