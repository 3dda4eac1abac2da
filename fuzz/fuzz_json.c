/*
 * fuzz_json.c — libFuzzer target for the JSON parser and writer.
 *
 * For every input, with small limits: json_parse must either fail with a
 * sane error (KB_EPARSE/KB_ETOOBIG, offset inside the input) or give a DOM
 * whose strings are valid UTF-8 and whose source ranges lie in the input;
 * that DOM written back with jsonw must parse to the same structure. The
 * input is also walked with json_parse_prefix, and written as one string
 * with jw_strn (always valid UTF-8 and valid JSON). Any broken invariant
 * aborts, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "json_check.h"

static void fail(const char *what, const char *why)
{
    fprintf(stderr, "fuzz_json: %s: %s\n", what, why);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const struct json_limits lim = {.max_depth = 32, .max_bytes = 256 * 1024};
    struct arena a1 = ARENA_INIT(2u << 20), a2 = ARENA_INIT(2u << 20);
    struct buf out = BUF_INIT(4u << 20), tmp = BUF_INIT(1u << 20);

    struct json_value *v = NULL;
    struct json_error je;
    kb_err e = json_parse(in, size, &lim, &a1, &v, &je);
    if (e == KB_OK) {
        const char *why = jc_roundtrip(v, in, size, &lim, &a2, &out, &tmp);
        if (why)
            fail("round trip", why);
    } else if ((e != KB_EPARSE && e != KB_ETOOBIG) || je.offset > size || je.line < 1 ||
               je.col < 1 || !je.msg[0]) {
        fail("error report", je.msg);
    }

    size_t off = 0;
    for (int step = 0; step < 256 && off < size; step++) {
        size_t used = 0;
        arena_reset(&a1);
        if (json_parse_prefix(in + off, size - off, &lim, &a1, &v, &used, NULL) != KB_OK)
            break;
        if (used == 0 || used > size - off)
            fail("prefix", "consumed out of range");
        const char *why = jc_check_dom(v, in + off, size - off, 0);
        if (why)
            fail("prefix dom", why);
        off += used;
    }

    buf_reset(&out);
    struct jw w;
    jw_init(&w, &out);
    jw_strn(&w, in, size);
    arena_reset(&a2);
    struct json_value *sv = NULL;
    if (jw_finish(&w) != KB_OK || !json_utf8_valid(out.p, out.len, NULL) ||
        json_parse(out.p, out.len, NULL, &a2, &sv, NULL) != KB_OK || sv->type != JSON_STRING)
        fail("jw_strn", "output is not a valid JSON string");
    if (json_utf8_valid(in, size, NULL) && (sv->len != size || memcmp(sv->u.str, in, size) != 0))
        fail("jw_strn", "valid UTF-8 not kept byte for byte");

    /* jw_raw_compact on a valid document must stay valid and equal. */
    if (e == KB_OK) {
        buf_reset(&out);
        jw_init(&w, &out);
        jw_raw_compact(&w, in, size);
        arena_reset(&a1);
        arena_reset(&a2);
        struct json_value *x = NULL, *y = NULL;
        if (jw_finish(&w) != KB_OK ||
            json_parse(in, size, &lim, &a1, &x, NULL) != KB_OK ||
            json_parse(out.p, out.len, &lim, &a2, &y, NULL) != KB_OK)
            fail("jw_raw_compact", "output does not parse");
        const char *why = jc_same(x, in, y, out.p);
        if (why)
            fail("jw_raw_compact", why);
    }

    arena_release(&a1);
    arena_release(&a2);
    buf_release(&out);
    buf_release(&tmp);
    return 0;
}
