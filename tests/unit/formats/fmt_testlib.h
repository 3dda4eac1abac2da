/*
 * fmt_testlib.h — shared by the format tests: collect emitted alerts, cut
 * sample files into events (as the intake does: {"Records":[...]}, arrays,
 * JSON lines), and check one event end to end.
 */
#ifndef KOBAN_FMT_TESTLIB_H
#define KOBAN_FMT_TESTLIB_H

#include "test.h"

#include "formats/format.h"
#include "lib/json.h"

#include <dirent.h>

#define TL_MAX_ALERTS 16
#define TL_ARENA (64u << 20)

static const struct json_limits tl_lim = {0, 0};

struct tl_out {
    struct alert al[TL_MAX_ALERTS];
    size_t n;
};

/* Alerts only borrow from the raw text and the arena, so a copy stays valid
 * while both live. */
static inline kb_err tl_collect(void *ctx, struct alert *a)
{
    struct tl_out *o = ctx;
    if (o->n < TL_MAX_ALERTS)
        o->al[o->n] = *a;
    o->n++;
    return KB_OK;
}

/* format_normalize on one JSON event. */
static inline kb_err tl_norm(const struct format *forced, struct kb_str raw, struct arena *ar,
                             struct tl_out *out, struct kb_why *why)
{
    out->n = 0;
    why->msg[0] = '\0';
    return format_normalize(forced, raw, false, NULL, ar, tl_collect, out, why);
}

static inline kb_err tl_norm_c(const struct format *forced, const char *text, struct arena *ar,
                               struct tl_out *out, struct kb_why *why)
{
    return tl_norm(forced, kb_str_c(text), ar, out, why);
}

/* The name of the format detected for one JSON event ("?" if unparsable). */
static inline const char *tl_detect(struct kb_str raw)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct json_value *root = NULL;
    const char *name = "?";
    if (json_parse(raw.p, raw.n, &tl_lim, &ar, &root, NULL) == KB_OK)
        name = format_detect(root)->name;
    arena_release(&ar);
    return name;
}

typedef void (*tl_event_fn)(void *ctx, struct kb_str raw);

static inline void tl_each_child(const char *base, const struct json_value *arr, tl_event_fn fn,
                                 void *ctx, size_t *count)
{
    for (const struct json_value *v = arr->u.child; v; v = v->next, (*count)++)
        fn(ctx, (struct kb_str){base + v->src_off, v->src_len});
}

/* Cuts a payload into events and calls fn for each; returns how many. */
static inline size_t tl_split(const char *text, size_t n, tl_event_fn fn, void *ctx)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct json_value *root = NULL;
    size_t count = 0;
    if (json_parse(text, n, &tl_lim, &ar, &root, NULL) == KB_OK) {
        const struct json_value *rec = json_get(root, "Records");
        if (rec && rec->type == JSON_ARRAY)
            tl_each_child(text, rec, fn, ctx, &count);
        else if (root->type == JSON_ARRAY)
            tl_each_child(text, root, fn, ctx, &count);
        else {
            fn(ctx, (struct kb_str){text + root->src_off, root->src_len});
            count++;
        }
        arena_release(&ar);
        return count;
    }
    size_t off = 0;
    while (off < n && count < 100000) {
        size_t used = 0;
        arena_reset(&ar);
        while (off < n && (text[off] == '\n' || text[off] == ' ' || text[off] == '\r'))
            off++;
        if (off >= n)
            break;
        if (json_parse_prefix(text + off, n - off, &tl_lim, &ar, &root, &used, NULL) != KB_OK ||
            used == 0) {
            T_CHECKF(0, "cannot split at byte %zu", off);
            break;
        }
        fn(ctx, (struct kb_str){text + off + root->src_off, root->src_len});
        count++;
        off += used;
    }
    arena_release(&ar);
    return count;
}

/* Calls fn(ctx, path) for each regular file in dir whose name ends in sfx. */
static inline size_t tl_each_file(const char *dir, const char *sfx,
                                  void (*fn)(void *ctx, const char *path), void *ctx)
{
    DIR *d = opendir(dir);
    size_t count = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t ln = strlen(e->d_name), ls = strlen(sfx);
        if (e->d_name[0] == '.' || ln < ls || strcmp(e->d_name + ln - ls, sfx) != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        fn(ctx, path);
        count++;
    }
    closedir(d);
    return count;
}

/* Checks one event: detected as `want`, normalizes with format_normalize
 * (no format forced) into at least one alert of that source, each stamped
 * with raw and json. Returns the number of alerts. */
struct tl_check {
    const char *want;
    size_t events, alerts, failures;
    void (*more)(void *more_ctx, struct kb_str raw, const struct tl_out *out);
    void *more_ctx;
};

static inline void tl_check_event(void *vctx, struct kb_str raw)
{
    struct tl_check *c = vctx;
    c->events++;
    const char *got = tl_detect(raw);
    if (strcmp(got, c->want) != 0) {
        c->failures++;
        T_CHECKF(0, "detected as %s, want %s: %.80s", got, c->want, raw.p);
        return;
    }
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    kb_err e = tl_norm(NULL, raw, &ar, &out, &why);
    if (e != KB_OK || out.n == 0) {
        c->failures++;
        T_CHECKF(0, "%s: %s (%s): %.80s", c->want, kb_strerror(e), why.msg, raw.p);
    } else {
        for (size_t i = 0; i < out.n && i < TL_MAX_ALERTS; i++) {
            const struct alert *a = &out.al[i];
            T_EQ_STR(a->source, c->want);
            T_CHECK(a->raw.p == raw.p && a->raw.n == raw.n);
            T_CHECK(a->json != NULL);
            T_CHECK(!kb_str_empty(a->kind));
            T_CHECK(a->identity && a->identity[0]);
            T_CHECK(a->severity >= KB_SEV_NONE && a->severity <= KB_SEV_CRITICAL);
        }
        c->alerts += out.n;
        if (c->more)
            c->more(c->more_ctx, raw, &out);
    }
    arena_release(&ar);
}

/* Splits every file ending in sfx under dir and checks each event. */
static inline void tl_check_file(void *vctx, const char *path)
{
    size_t len = 0;
    char *text = t_read_file(path, &len);
    T_CHECKF(text != NULL, "cannot read %s", path);
    if (!text)
        return;
    size_t n = tl_split(text, len, tl_check_event, vctx);
    T_CHECKF(n > 0, "no events in %s", path);
    free(text);
}

/* The string at a dotted path ("fields.rule_id"). */
static inline struct kb_str tl_get(const struct json_value *root, const char *path)
{
    return json_str(json_path(root, path));
}

/* A kb_str as a NUL-terminated copy in a static buffer, for messages. */
static inline const char *tl_s(struct kb_str s)
{
    static char buf[512];
    if (!s.p)
        return "(null)";
    snprintf(buf, sizeof buf, "%.*s", (int)KB_MIN(s.n, sizeof buf - 1), s.p);
    return buf;
}

#endif
