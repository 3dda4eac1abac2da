/*
 * format.c — the registry of source formats and the one entry point that
 * turns a raw event into alerts (format_normalize).
 *
 * The list below is in id order and append-only: ids are stored in the
 * journal, so a format keeps its id forever and new formats take the next.
 */
#include "formats/formats_internal.h"

#include <string.h>

static const struct format *const registry[] = {
    &format_generic,      /* 1 */
    &format_guardduty,    /* 2 */
    &format_scc,          /* 3 */
    &format_cloudtrail,   /* 4 */
    &format_gcp_audit,    /* 5 */
    &format_wazuh,        /* 6 */
    &format_falco,        /* 7 */
    &format_alertmanager, /* 8 */
    &format_syslog,       /* 9 */
    &format_report,       /* 10 */
    &format_vuln,         /* 11 */
};

size_t format_count(void)
{
    return KB_ARRAY_LEN(registry);
}

const struct format *format_at(size_t i)
{
    return i < KB_ARRAY_LEN(registry) ? registry[i] : NULL;
}

const struct format *format_by_name(const char *name)
{
    if (!name)
        return NULL;
    /* Alerts carry the registry's own name string: a pointer compare finds
     * it without a strcmp per format (this runs several times per event). */
    for (size_t i = 0; i < KB_ARRAY_LEN(registry); i++)
        if (registry[i]->name == name)
            return registry[i];
    for (size_t i = 0; i < KB_ARRAY_LEN(registry); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const struct format *format_by_id(uint8_t id)
{
    for (size_t i = 0; i < KB_ARRAY_LEN(registry); i++)
        if (registry[i]->id == id)
            return registry[i];
    return NULL;
}

/* Highest score wins; on a tie the lower id (earlier in the list) wins, so
 * the result never depends on anything but the event. */
const struct format *format_detect(const struct json_value *root)
{
    const struct format *best = &format_generic;
    int best_score = 0;
    for (size_t i = 0; i < KB_ARRAY_LEN(registry); i++) {
        const struct format *f = registry[i];
        if (!f->detect || !f->normalize_json)
            continue;
        int s = f->detect(root);
        if (s > best_score) {
            best = f;
            best_score = s;
        }
    }
    return best;
}

/* format_normalize stamps every alert with the event it came from, so a
 * normalizer that forgets cannot break the journal or the UI. */
struct stamp_ctx {
    alert_emit_fn emit;
    void *ctx;
    struct kb_str raw;
    const struct json_value *root;
};

static kb_err stamp_emit(void *vctx, struct alert *a)
{
    struct stamp_ctx *s = vctx;
    a->raw = s->raw;
    a->json = s->root;
    return s->emit(s->ctx, a);
}

kb_err format_normalize(const struct format *forced, struct kb_str raw, bool is_text,
                        const struct json_limits *lim, struct arena *a,
                        alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    struct stamp_ctx st = {emit, ctx, raw, NULL};
    if (!raw.p)
        return kb_fail(why, KB_EINVAL, "empty event");
    if (is_text) {
        const struct format *f = forced ? forced : &format_syslog;
        if (!f->normalize_text)
            return kb_fail(why, KB_EINVAL, "format '%s' reads JSON, not text lines", f->name);
        return f->normalize_text(raw, a, stamp_emit, &st, why);
    }
    if (forced && !forced->normalize_json)
        return kb_fail(why, KB_EINVAL, "format '%s' reads text lines, not JSON", forced->name);

    static const struct json_limits default_lim = {0, 0};
    struct json_error jerr;
    memset(&jerr, 0, sizeof jerr);
    struct json_value *root = NULL;
    kb_err e = json_parse(raw.p, raw.n, lim ? lim : &default_lim, a, &root, &jerr);
    if (e != KB_OK)
        return kb_fail(why, e, "line %u, byte %u: %s", jerr.line, jerr.col,
                       jerr.msg[0] ? jerr.msg : kb_strerror(e));
    st.root = root;
    const struct format *f = forced ? forced : format_detect(root);
    return f->normalize_json(root, raw, a, stamp_emit, &st, why);
}
