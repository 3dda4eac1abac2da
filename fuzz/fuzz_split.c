/*
 * fuzz_split.c — libFuzzer target for the payload splitter and the
 * normalizers: split_payload cuts the input into events and every event goes
 * through format_normalize (auto-detected format, or text/syslog). Nothing
 * may crash, leak or read out of bounds; each event's raw bytes must lie in
 * the payload, and every alert string is read in full so that ASan sees a
 * dangling or short slice.
 */
#include <stdio.h>
#include <stdlib.h>

#include "formats/format.h"
#include "formats/split.h"

struct fz {
    const char *body;
    size_t len;
    struct arena *norm;
    unsigned sum;
    size_t events;
};

static void fail(const char *why)
{
    fprintf(stderr, "fuzz_split: %s\n", why);
    abort();
}

static void touch(struct fz *f, struct kb_str s)
{
    if (s.p && s.n > (64u << 20))
        fail("absurd slice length");
    for (size_t i = 0; s.p && i < s.n; i++)
        f->sum += (unsigned char)s.p[i];
}

static kb_err on_alert(void *ctx, struct alert *a)
{
    struct fz *f = ctx;
    touch(f, a->kind);
    touch(f, a->native_id);
    touch(f, a->title);
    touch(f, a->description);
    touch(f, a->native_severity);
    touch(f, a->account);
    touch(f, a->region);
    touch(f, a->resource);
    touch(f, a->actor_user);
    touch(f, a->actor_ip);
    touch(f, a->host);
    touch(f, a->outcome);
    touch(f, a->state);
    touch(f, a->raw);
    if (a->nfields > ALERT_MAX_FIELDS || a->severity < 0 || a->severity >= KB_SEV_COUNT)
        fail("alert out of range");
    for (uint32_t i = 0; i < a->nfields; i++)
        touch(f, a->fields[i].value);
    return KB_OK;
}

static kb_err on_event(void *ctx, const struct split_event *ev)
{
    struct fz *f = ctx;
    f->events++;
    if (ev->raw.p < f->body || ev->raw.n > f->len || ev->raw.p + ev->raw.n > f->body + f->len)
        fail("event raw outside the payload");
    if (ev->kind == SPLIT_BAD) {
        if (!ev->error)
            fail("bad event without an error");
        return KB_OK;
    }
    if (ev->kind == SPLIT_JSON && !ev->json)
        fail("JSON event without a DOM");
    const struct json_limits lim = {.max_depth = 32, .max_bytes = 256 * 1024};
    struct kb_why why = {{0}};
    arena_reset(f->norm);
    format_normalize(NULL, ev->raw, ev->kind == SPLIT_TEXT, &lim, f->norm, on_alert, f, &why);
    return KB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena split_ar = ARENA_INIT(2u << 20), norm = ARENA_INIT(2u << 20);
    struct fz f = {.body = (const char *)data, .len = size, .norm = &norm};
    for (int forced = 0; forced < 2; forced++) {
        struct split_opts o = {.force_text = forced, .max_event = 64 * 1024, .max_depth = 32,
                               .max_events = 2000};
        struct kb_why why = {{0}};
        arena_reset(&split_ar);
        split_payload((const char *)data, size, &o, &split_ar, on_event, &f, &why);
    }
    arena_release(&split_ar);
    arena_release(&norm);
    return (int)(f.sum & 0); /* keep the reads */
}
