/* issue.c — identity hashing, batch folding, lifecycle transitions. */
#include "issues/issue.h"

#include <stdio.h>
#include <stdlib.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack; header and library ship together */
#include <xxhash.h>

kb_err issue_identity(const struct alert *a, uint8_t fp[16], struct buf *text)
{
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_128bits_reset(&st);
    uint32_t n = (uint32_t)strlen(a->source);
    XXH3_128bits_update(&st, &n, sizeof n);
    XXH3_128bits_update(&st, a->source, n);
    bool first = true;
    for (const char *const *k = a->identity; k && *k; k++) {
        struct kb_str v = alert_get(a, *k);
        uint32_t kl = (uint32_t)strlen(*k), vl = (uint32_t)v.n;
        XXH3_128bits_update(&st, &kl, sizeof kl);
        XXH3_128bits_update(&st, *k, kl);
        XXH3_128bits_update(&st, &vl, sizeof vl);
        if (vl)
            XXH3_128bits_update(&st, v.p, vl);
        if (text && text->len < ISSUE_IDENTITY_MAX) {
            buf_printf(text, "%s%s=%.*s", first ? "" : " ", *k,
                       (int)KB_MIN(v.n, (size_t)512), v.p ? v.p : "");
            first = false;
        }
    }
    XXH128_hash_t h = XXH3_128bits_digest(&st);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(fp, c.digest, 16);
    if (text && first)
        buf_puts(text, "(no identity fields)");
    return KB_OK;
}

void issue_fp_hex(const uint8_t fp[16], char out[33])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[fp[i] >> 4];
        out[2 * i + 1] = hex[fp[i] & 15];
    }
    out[32] = '\0';
}

static bool transition_allowed(int from, int to)
{
    switch (from) {
    case ISSUE_OPEN:
        return to == ISSUE_ACKED || to == ISSUE_CLOSED;
    case ISSUE_ACKED:
        return to == ISSUE_OPEN || to == ISSUE_CLOSED;
    case ISSUE_CLOSED:
        return to == ISSUE_OPEN;
    default:
        return false;
    }
}

kb_err issue_transition(struct db *db, int64_t id, int to, const char *actor,
                        const char *reason, struct kb_why *why)
{
    kb_err e = db_begin(db);
    if (e)
        return kb_fail(why, e, "store: %s", db_errmsg(db));
    struct db_issue r;
    e = db_issue_get(db, id, &r);
    if (e) {
        db_rollback(db);
        return e == KB_ENOTFOUND ? kb_fail(why, e, "issue %lld: no such issue", (long long)id)
                                 : kb_fail(why, e, "store: %s", db_errmsg(db));
    }
    int from = r.state;
    db_issue_release(&r);
    if (!transition_allowed(from, to)) {
        db_rollback(db);
        return kb_fail(why, KB_EINVAL, "issue %lld is %s: cannot make it %s", (long long)id,
                       issue_state_name(from), issue_state_name(to));
    }
    e = db_issue_set_state(db, id, from, to, kb_now_ms(), actor, reason, 0);
    if (!e)
        e = db_commit(db);
    if (e) {
        kb_fail(why, e, "store: %s", db_errmsg(db));
        db_rollback(db);
    }
    return e;
}

/* ---- folding ------------------------------------------------------------ */

struct fold_entry {
    uint8_t fp[16];
    bool used;
    int64_t count;
    int64_t first_seen, last_seen, last_received;
    uint64_t first_seq, last_seq;
    int severity;
    /* copies for an insert, from the first alert of the batch */
    char *identity, *source, *kind, *title, *account, *region, *resource;
    char *actor_user, *actor_ip, *host, *native_severity;
    char *last_title;
};

struct issue_folder {
    struct fold_entry *slots;
    size_t cap;   /* power of two */
    size_t used;
    struct arena arena;
    struct buf tmp;
};

#define FOLD_MIN_CAP 1024

struct issue_folder *issue_folder_new(void)
{
    struct issue_folder *f = kb_calloc(1, sizeof *f);
    f->cap = FOLD_MIN_CAP;
    f->slots = kb_calloc(f->cap, sizeof *f->slots);
    arena_init(&f->arena, 512u * 1024 * 1024);
    buf_init(&f->tmp, ISSUE_IDENTITY_MAX + 1024);
    return f;
}

void issue_folder_free(struct issue_folder *f)
{
    if (!f)
        return;
    free(f->slots);
    arena_release(&f->arena);
    buf_release(&f->tmp);
    free(f);
}

size_t issue_fold_pending(const struct issue_folder *f)
{
    return f->used;
}

void issue_fold_reset(struct issue_folder *f)
{
    if (f->used)
        memset(f->slots, 0, f->cap * sizeof *f->slots);
    f->used = 0;
    arena_reset(&f->arena);
}

static uint64_t fp_hash(const uint8_t fp[16])
{
    uint64_t h;
    memcpy(&h, fp, sizeof h);
    return h;
}

static void fold_grow(struct issue_folder *f)
{
    size_t ncap = f->cap * 2;
    struct fold_entry *ns = kb_calloc(ncap, sizeof *ns);
    for (size_t i = 0; i < f->cap; i++) {
        if (!f->slots[i].used)
            continue;
        size_t j = fp_hash(f->slots[i].fp) & (ncap - 1);
        while (ns[j].used)
            j = (j + 1) & (ncap - 1);
        ns[j] = f->slots[i];
    }
    free(f->slots);
    f->slots = ns;
    f->cap = ncap;
}

static char *fold_dup(struct issue_folder *f, struct kb_str s, size_t max)
{
    if (kb_str_empty(s))
        return NULL;
    return arena_strndup(&f->arena, s.p, KB_MIN(s.n, max));
}

kb_err issue_fold_add(struct issue_folder *f, const struct alert *a, uint64_t seq,
                      int64_t received_ms)
{
    uint8_t fp[16];
    issue_identity(a, fp, NULL); /* the readable text only for a new entry */
    if ((f->used + 1) * 4 > f->cap * 3)
        fold_grow(f);
    size_t i = fp_hash(fp) & (f->cap - 1);
    while (f->slots[i].used && memcmp(f->slots[i].fp, fp, 16) != 0)
        i = (i + 1) & (f->cap - 1);
    struct fold_entry *e = &f->slots[i];
    int64_t t = a->time_ms ? a->time_ms : received_ms;
    if (!e->used) {
        memset(e, 0, sizeof *e);
        e->used = true;
        memcpy(e->fp, fp, 16);
        f->used++;
        e->first_seen = e->last_seen = t;
        e->first_seq = seq;
        buf_reset(&f->tmp);
        issue_identity(a, fp, &f->tmp);
        e->identity = arena_strndup(&f->arena, f->tmp.p ? f->tmp.p : "", f->tmp.len);
        e->source = arena_strndup(&f->arena, a->source, strlen(a->source));
        e->kind = fold_dup(f, a->kind, 512);
        e->title = fold_dup(f, a->title, 1024);
        e->account = fold_dup(f, a->account, 256);
        e->region = fold_dup(f, a->region, 128);
        e->resource = fold_dup(f, a->resource, 1024);
        e->actor_user = fold_dup(f, a->actor_user, 512);
        e->actor_ip = fold_dup(f, a->actor_ip, 128);
        e->host = fold_dup(f, a->host, 256);
        e->native_severity = fold_dup(f, a->native_severity, 64);
        if (!e->identity || !e->source)
            return KB_ETOOBIG;
    } else {
        e->first_seen = KB_MIN(e->first_seen, t);
        e->last_seen = KB_MAX(e->last_seen, t);
        /* Keep the newest title; copy it only when it changed, since
         * repeats nearly always carry the same one. */
        const char *cur = e->last_title ? e->last_title : e->title;
        if (!cur || !kb_str_eq(a->title, cur))
            e->last_title = fold_dup(f, a->title, 1024);
    }
    e->count++;
    e->last_seq = seq;
    e->last_received = received_ms;
    e->severity = a->severity;
    return KB_OK;
}

kb_err issue_fold_apply(struct issue_folder *f, struct db *db, struct issue_fold_stats *st)
{
    int64_t now = kb_now_ms();
    for (size_t i = 0; i < f->cap; i++) {
        struct fold_entry *e = &f->slots[i];
        if (!e->used)
            continue;
        st->alerts += (uint64_t)e->count;
        int64_t id;
        int state;
        kb_err err = db_issue_find(db, e->fp, &id, &state);
        if (err == KB_ENOTFOUND) {
            struct db_issue r = {
                .identity = e->identity, .source = e->source, .kind = e->kind,
                .title = e->last_title ? e->last_title : e->title, .account = e->account,
                .region = e->region, .resource = e->resource, .actor_user = e->actor_user,
                .actor_ip = e->actor_ip, .host = e->host,
                .native_severity = e->native_severity, .severity = e->severity,
                .state = ISSUE_OPEN, .count = e->count, .first_seen = e->first_seen,
                .last_seen = e->last_seen, .last_received = e->last_received,
                .first_seq = e->first_seq, .last_seq = e->last_seq, .state_changed = now};
            memcpy(r.fp, e->fp, 16);
            err = db_issue_insert(db, &r, &id);
            if (!err)
                err = db_issue_set_state(db, id, -1, ISSUE_OPEN, now, "koban",
                                         "first occurrence", e->first_seq);
            st->created++;
        } else if (err == KB_OK) {
            err = db_issue_bump(db, id, e->count, e->last_seen, e->last_received, e->last_seq,
                                e->severity, e->last_title);
            if (!err && state == ISSUE_CLOSED) {
                err = db_issue_set_state(db, id, ISSUE_CLOSED, ISSUE_OPEN, now, "koban",
                                         "recurred", e->first_seq);
                st->reopened++;
            }
            st->updated++;
        }
        if (err)
            return err;
    }
    return KB_OK;
}
