/*
 * intake.c — split a payload into events, check each, journal the lot.
 *
 * Why events are checked here and not only later in the pipeline: the sender
 * must learn which events were bad (index and reason) in the response, and a
 * bad event must not take the good ones beside it down with it. Checking is a
 * full parse + normalize. The journal keeps the raw event (replayable with
 * newer normalizers) and, beside it, a summary of what the check found
 * (issue_summary.h: each alert's fingerprint, time, severity, title), so the
 * pipeline folds a repeat without normalizing the event again.
 */
#include "ingest/intake.h"

#include "formats/split.h"
#include "ingest/triage.h"
#include "issues/issue_summary.h"
#include "lib/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define INTAKE_REJECT_RAW_MAX (64 * 1024) /* raw bytes kept per quarantined event */
#define INTAKE_ARENA_LIMIT (256u * 1024 * 1024)
#define INTAKE_FORMATS 256
#define INTAKE_PATHS 5
#define INTAKE_SUMMARY_BYTES (64u * 1024 * 1024) /* summaries of one payload */

struct intake {
    struct journal *journal;
    struct intake_opts opts;
    struct json_limits lim;
    _Atomic uint64_t accepted[INTAKE_FORMATS][INTAKE_PATHS];
    _Atomic uint64_t rejected[INTAKE_FORMATS][INTAKE_PATHS]; /* format 0: not JSON */
    _Atomic uint64_t payloads[INTAKE_PATHS];
};

/* What one call collects before appending to the journal. */
struct batch {
    struct intake *in;
    const struct format *forced;
    enum journal_path path;
    int64_t now_ms;
    struct journal_entry *entries;
    size_t *aux_off; /* per entry: offset of its summary in sums */
    size_t n, cap;
    struct buf sums; /* summaries; entries[].aux is set from it at the end */
    char **owned; /* reject payloads we allocated */
    size_t nowned, capowned;
    size_t index; /* index of the next event in the payload */
    struct intake_report *rep;
    uint64_t per_format[INTAKE_FORMATS];
    uint64_t rejected_by_format[INTAKE_FORMATS];
    size_t rejected;
    struct arena *arena; /* per-event memory for normalizer checks */
    struct triage_eval *eval; /* NULL: plain summaries */
};

kb_err intake_new(struct journal *j, const struct intake_opts *opts, struct intake **out)
{
    struct intake *in = kb_calloc(1, sizeof *in);
    in->journal = j;
    if (opts)
        in->opts = *opts;
    if (!in->opts.max_event_bytes)
        in->opts.max_event_bytes = 1024 * 1024;
    if (!in->opts.max_events)
        in->opts.max_events = 100000;
    if (!in->opts.max_json_depth)
        in->opts.max_json_depth = 64;
    in->lim.max_depth = in->opts.max_json_depth;
    in->lim.max_bytes = in->opts.max_event_bytes;
    *out = in;
    return KB_OK;
}

void intake_free(struct intake *in)
{
    free(in);
}

static kb_err batch_push(struct batch *b, uint8_t kind, uint8_t fmt, struct kb_str data)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->entries = kb_realloc(b->entries, b->cap * sizeof *b->entries);
        b->aux_off = kb_realloc(b->aux_off, b->cap * sizeof *b->aux_off);
    }
    b->aux_off[b->n] = 0;
    b->entries[b->n++] = (struct journal_entry){
        .recv_ms = b->now_ms, .kind = kind, .format_id = fmt, .path = (uint8_t)b->path,
        .data = data};
    return KB_OK;
}

/* fmt: the format the event was meant for (forced or detected), 0 when
 * it was not even JSON. */
static kb_err batch_reject(struct batch *b, struct kb_str raw, const char *reason, uint8_t fmt)
{
    size_t rlen = strlen(reason);
    if (rlen > 1000)
        rlen = 1000;
    size_t keep = raw.n > INTAKE_REJECT_RAW_MAX ? INTAKE_REJECT_RAW_MAX : raw.n;
    char *p = kb_malloc(2 + rlen + keep);
    p[0] = (char)(rlen & 0xff);
    p[1] = (char)(rlen >> 8);
    memcpy(p + 2, reason, rlen);
    if (keep)
        memcpy(p + 2 + rlen, raw.p, keep);
    if (b->nowned == b->capowned) {
        b->capowned = b->capowned ? b->capowned * 2 : 16;
        b->owned = kb_realloc(b->owned, b->capowned * sizeof *b->owned);
    }
    b->owned[b->nowned++] = p;
    struct intake_report *rep = b->rep;
    if (rep->nreported < INTAKE_MAX_REJECTS_REPORTED) {
        rep->rejects[rep->nreported].index = b->index;
        snprintf(rep->rejects[rep->nreported].reason, sizeof rep->rejects[0].reason, "%s",
                 reason);
        rep->nreported++;
    }
    rep->rejected++;
    b->rejected++;
    b->rejected_by_format[fmt]++;
    b->index++;
    return batch_push(b, JOURNAL_REJECT, b->forced ? b->forced->id : 0,
                      (struct kb_str){p, 2 + rlen + keep});
}

/* Collects each alert of the event being checked into its summary. */
struct sum_ctx {
    struct buf *sums;
    size_t start;
    struct triage_eval *eval; /* non-NULL: a version 2 summary */
    bool ok; /* false: too many alerts, no room, or an alert only the
                pipeline can settle; the event has none */
};

static kb_err sum_emit(void *ctx, struct alert *a)
{
    struct sum_ctx *c = ctx;
    if (!c->ok)
        return KB_OK;
    kb_err e = c->eval ? triage_eval_alert(c->eval, a, c->sums, c->start)
                       : issue_summary_add(c->sums, c->start, a);
    if (e != KB_OK)
        c->ok = false;
    return KB_OK;
}

/* One JSON event, already parsed: check it with its format, then queue it. */
static kb_err batch_json_event(struct batch *b, const struct json_value *v, struct kb_str raw)
{
    char reason[320];
    const struct format *f = b->forced ? b->forced : format_detect(v);
    if (!f || !f->normalize_json) {
        snprintf(reason, sizeof reason, "format %s does not take JSON events",
                 f ? f->name : "(none)");
        return batch_reject(b, raw, reason, f ? f->id : 0);
    }
    struct kb_why why = {{0}};
    size_t before = b->sums.len;
    struct sum_ctx sc = {.sums = &b->sums};
    if (b->eval && triage_eval_applies(b->eval, f->name)) {
        sc.eval = b->eval;
        sc.ok = issue_summary_begin_triaged(&b->sums, f->id, triage_eval_generation(b->eval),
                                            &sc.start) == KB_OK;
    } else {
        sc.ok = issue_summary_begin(&b->sums, f->id, &sc.start) == KB_OK;
    }
    arena_reset(b->arena);
    kb_err e = f->normalize_json(v, raw, b->arena, sum_emit, &sc, &why);
    if (e || !sc.ok || b->sums.len - sc.start > JOURNAL_MAX_AUX) {
        b->sums.len = before; /* no summary for this event */
        if (b->sums.p)
            b->sums.p[before] = '\0';
        sc.ok = false;
    }
    if (e) {
        snprintf(reason, sizeof reason, "%s: %s", f->name,
                 why.msg[0] ? why.msg : kb_strerror(e));
        return batch_reject(b, raw, reason, f->id);
    }
    b->per_format[f->id]++;
    b->rep->accepted++;
    b->index++;
    batch_push(b, JOURNAL_EVENT_JSON, b->forced ? b->forced->id : 0, raw);
    if (sc.ok) {
        b->aux_off[b->n - 1] = sc.start;
        b->entries[b->n - 1].aux.n = b->sums.len - sc.start; /* .p set at the end */
    }
    return KB_OK;
}

static kb_err batch_event(void *ctx, const struct split_event *ev)
{
    struct batch *b = ctx;
    switch (ev->kind) {
    case SPLIT_JSON:
        return batch_json_event(b, ev->json, ev->raw);
    case SPLIT_BAD:
        return batch_reject(b, ev->raw, ev->error, b->forced ? b->forced->id : 0);
    case SPLIT_TEXT: {
        const struct format *f = b->forced ? b->forced : format_by_name("syslog");
        b->per_format[f ? f->id : 0]++;
        b->rep->accepted++;
        b->index++;
        return batch_push(b, JOURNAL_EVENT_TEXT, b->forced ? b->forced->id : 0, ev->raw);
    }
    }
    return KB_EINVAL;
}

static kb_err batch_split(struct batch *b, const char *body, size_t len, struct kb_why *why)
{
    bool forced_text = b->forced && b->forced->normalize_text && !b->forced->normalize_json;
    if (b->forced && !b->forced->normalize_text && !split_looks_json(body, len))
        return kb_fail(why, KB_EINVAL, "payload is not JSON but source %s takes JSON",
                       b->forced->name);
    struct split_opts so = {.force_text = forced_text,
                            .max_event = b->in->opts.max_event_bytes,
                            .max_depth = b->in->opts.max_json_depth,
                            .max_events = b->in->opts.max_events};
    struct arena ar = ARENA_INIT(INTAKE_ARENA_LIMIT);
    struct arena norm = ARENA_INIT(16u * 1024 * 1024);
    b->arena = &norm;
    kb_err e = split_payload(body, len, &so, &ar, batch_event, b, why);
    arena_release(&ar);
    arena_release(&norm);
    b->arena = NULL;
    return e;
}

kb_err intake_body(struct intake *in, const char *body, size_t len, enum journal_path path,
                   const struct format *forced, struct intake_report *rep, uint64_t *last_seq,
                   struct kb_why *why)
{
    memset(rep, 0, offsetof(struct intake_report, rejects));
    *last_seq = 0;
    struct batch *b = kb_calloc(1, sizeof *b);
    b->in = in;
    b->forced = forced;
    b->path = path;
    b->now_ms = kb_now_ms();
    b->rep = rep;
    buf_init(&b->sums, INTAKE_SUMMARY_BYTES);
    if (in->opts.triage)
        b->eval = triage_eval_acquire(in->opts.triage);
    kb_err e = batch_split(b, body, len, why);
    if (b->eval)
        triage_eval_release(in->opts.triage, b->eval);
    for (size_t i = 0; e == KB_OK && i < b->n; i++)
        if (b->entries[i].aux.n)
            b->entries[i].aux.p = b->sums.p + b->aux_off[i];
    if (e == KB_OK && b->n > 0) {
        e = journal_append(in->journal, b->entries, b->n, last_seq);
        if (e)
            kb_fail(why, e, "journal: %s", kb_strerror(e));
    }
    if (e == KB_OK) {
        unsigned p = (unsigned)path < INTAKE_PATHS ? (unsigned)path : 0;
        for (size_t f = 0; f < INTAKE_FORMATS; f++)
            if (b->per_format[f])
                atomic_fetch_add(&in->accepted[f][p], b->per_format[f]);
        for (size_t f = 0; f < INTAKE_FORMATS; f++)
            if (b->rejected_by_format[f])
                atomic_fetch_add(&in->rejected[f][p], b->rejected_by_format[f]);
        atomic_fetch_add(&in->payloads[p], 1);
    } else {
        memset(rep, 0, offsetof(struct intake_report, rejects));
    }
    for (size_t i = 0; i < b->nowned; i++)
        free(b->owned[i]);
    free(b->owned);
    free(b->entries);
    free(b->aux_off);
    buf_release(&b->sums);
    free(b);
    return e;
}

kb_err intake_line(struct intake *in, const char *line, size_t len, enum journal_path path,
                   uint64_t *last_seq, struct kb_why *why)
{
    /* The bytes are kept as framed: the newline framer has already dropped
     * its terminator, and an octet-counted message is exactly its count. */
    if (len == 0)
        return kb_fail(why, KB_EINVAL, "empty line");
    unsigned p = (unsigned)path < INTAKE_PATHS ? (unsigned)path : 0;
    struct journal_entry e = {.recv_ms = kb_now_ms(), .path = (uint8_t)path};
    const struct format *sys = format_by_name("syslog");
    if (len > in->opts.max_event_bytes) {
        char reason[120];
        int rl = snprintf(reason, sizeof reason, "line is %zu bytes, over the limit of %zu",
                          len, in->opts.max_event_bytes);
        size_t keep = KB_MIN(len, (size_t)INTAKE_REJECT_RAW_MAX);
        char *pl = kb_malloc(2 + (size_t)rl + keep);
        pl[0] = (char)(rl & 0xff);
        pl[1] = (char)(rl >> 8);
        memcpy(pl + 2, reason, (size_t)rl);
        memcpy(pl + 2 + rl, line, keep);
        e.kind = JOURNAL_REJECT;
        e.data = (struct kb_str){pl, 2 + (size_t)rl + keep};
        kb_err err = journal_append(in->journal, &e, 1, last_seq);
        free(pl);
        atomic_fetch_add(&in->rejected[sys ? sys->id : 0][p], 1);
        return err ? kb_fail(why, err, "journal: %s", kb_strerror(err))
                   : kb_fail(why, KB_ETOOBIG, "%s", reason);
    }
    e.kind = JOURNAL_EVENT_TEXT;
    e.data = (struct kb_str){line, len};
    kb_err err = journal_append(in->journal, &e, 1, last_seq);
    if (err)
        return kb_fail(why, err, "journal: %s", kb_strerror(err));
    atomic_fetch_add(&in->accepted[sys ? sys->id : 0][p], 1);
    return KB_OK;
}

static const char *const path_names[INTAKE_PATHS] = {"other", "http", "spool", "syslog",
                                                     "cli"};

kb_err intake_metrics(struct intake *in, struct buf *out)
{
    buf_puts(out, "# HELP koban_events_accepted_total Events written to the journal.\n"
                  "# TYPE koban_events_accepted_total counter\n");
    for (size_t f = 0; f < INTAKE_FORMATS; f++) {
        const struct format *fmt = format_by_id((uint8_t)f);
        for (unsigned p = 0; p < INTAKE_PATHS; p++) {
            uint64_t v = atomic_load(&in->accepted[f][p]);
            if (v || (fmt && p == JOURNAL_PATH_HTTP))
                buf_printf(out, "koban_events_accepted_total{source=\"%s\",path=\"%s\"} %llu\n",
                           fmt ? fmt->name : "unknown", path_names[p],
                           (unsigned long long)v);
        }
    }
    buf_puts(out, "# HELP koban_events_rejected_total Events rejected (kept in quarantine).\n"
                  "# TYPE koban_events_rejected_total counter\n");
    for (size_t f = 0; f < INTAKE_FORMATS; f++) {
        const struct format *fmt = format_by_id((uint8_t)f);
        for (unsigned p = 1; p < INTAKE_PATHS; p++) {
            uint64_t v = atomic_load(&in->rejected[f][p]);
            /* "unknown": not JSON, or no format was named */
            if (v || (f == 0 && p == JOURNAL_PATH_HTTP))
                buf_printf(out, "koban_events_rejected_total{source=\"%s\",path=\"%s\"} %llu\n",
                           fmt ? fmt->name : "unknown", path_names[p], (unsigned long long)v);
        }
    }
    buf_puts(out, "# HELP koban_payloads_total Payloads (requests, files) taken in.\n"
                  "# TYPE koban_payloads_total counter\n");
    for (unsigned p = 1; p < INTAKE_PATHS; p++)
        buf_printf(out, "koban_payloads_total{path=\"%s\"} %llu\n", path_names[p],
                   (unsigned long long)atomic_load(&in->payloads[p]));
    return out->len > out->max ? KB_ETOOBIG : KB_OK;
}
