/* issue.c — identity hashing, batch folding, lifecycle transitions. */
#include "issues/issue.h"
#include "issues/issue_summary.h"

#include "store/db.h"

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

static const char *const event_names[ISSUE_EV_COUNT] = {
    "opened", "repeated", "reopened", "closed", "acknowledged", "unacknowledged"};

const char *issue_event_name(int ev)
{
    return ev >= 0 && ev < ISSUE_EV_COUNT ? event_names[ev] : "?";
}

/* The event a transition from -> to is. */
static int transition_event(int from, int to)
{
    if (to == ISSUE_CLOSED)
        return ISSUE_EV_CLOSED;
    if (to == ISSUE_ACKED)
        return ISSUE_EV_ACKED;
    return from == ISSUE_CLOSED ? ISSUE_EV_REOPENED : ISSUE_EV_UNACKED;
}

kb_err issue_transition(struct db *db, int64_t id, int to, const char *actor,
                        const char *reason, const struct issue_observer *obs,
                        struct kb_why *why)
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
    struct issue_change c = {.event = transition_event(from, to), .id = id, .fp = NULL,
                             .severity = r.severity, .actor = actor ? actor : "?",
                             .reason = reason};
    uint8_t fp[16];
    memcpy(fp, r.fp, 16);
    c.fp = fp;
    db_issue_release(&r);
    if (!transition_allowed(from, to)) {
        db_rollback(db);
        return kb_fail(why, KB_EINVAL, "issue %lld is %s: cannot make it %s", (long long)id,
                       issue_state_name(from), issue_state_name(to));
    }
    e = db_issue_set_state(db, id, from, to, kb_now_ms(), actor, reason, 0);
    if (!e && obs && obs->fn && (e = obs->fn(obs->ctx, db, &c)) != KB_OK) {
        db_rollback(db);
        return kb_fail(why, e, "issue %lld: notification not recorded: %s", (long long)id,
                       kb_strerror(e));
    }
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
    bool has_fields; /* filled from an alert (else: from summaries only) */
    bool created;    /* inserted by the last apply */
    int64_t count;
    int64_t first_seen, last_seen, last_received;
    uint64_t first_seq, last_seq;
    int severity;
    /* copies for an insert, from the first alert of the batch */
    char *identity, *source, *kind, *title, *account, *region, *resource;
    char *actor_user, *actor_ip, *host, *native_severity;
    char *last_title;
    bool has_triage; /* the newest triage below replaces the stored one */
    char *t_rules, *t_policies, *t_labels, *t_annotations, *t_mute_reason;
    int64_t t_mute_until;
};

/* Fingerprints in the store: open addressing, all-zero = empty slot (an
 * all-zero fingerprint is never remembered, so it always takes the full
 * path). */
struct fp_set {
    uint8_t (*fps)[16];
    size_t cap; /* power of two, or 0 */
    size_t n;
};

struct issue_folder {
    struct fold_entry *slots;
    size_t cap;   /* power of two */
    size_t used;
    struct fp_set known;
    bool track_known; /* issue_fold_load_known() was called */
    uint8_t (*created)[16]; /* issues created by applies not yet committed */
    size_t ncreated, created_cap;
    struct arena arena;
    struct buf tmp;
    struct issue_observer obs;
    /* What the store holds as each issue's triage, for the issues written
     * last (direct-mapped by fingerprint; a miss just writes): repeats
     * folded from summaries carry the same texts, and rewriting them every
     * batch doubled the store's work. Entries staged by an apply become
     * true only in issue_fold_committed(). */
    struct tcache_slot {
        uint8_t fp[16];
        uint64_t h;
    } *tcache, *tstaged;
    size_t nstaged, capstaged;
};

#define TCACHE_SLOTS 65536 /* 1.5 MiB */

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

void issue_folder_observe(struct issue_folder *f, const struct issue_observer *obs)
{
    f->obs = obs ? *obs : (struct issue_observer){0};
}

static kb_err tell(struct issue_folder *f, struct db *db, int ev, int64_t id, const uint8_t *fp,
                   int severity, int64_t added, const char *reason)
{
    if (!f->obs.fn)
        return KB_OK;
    struct issue_change c = {.event = ev, .id = id, .fp = fp, .severity = severity,
                             .added = added, .actor = "koban", .reason = reason};
    return f->obs.fn(f->obs.ctx, db, &c);
}

void issue_folder_free(struct issue_folder *f)
{
    if (!f)
        return;
    free(f->slots);
    free(f->known.fps);
    free(f->created);
    free(f->tcache);
    free(f->tstaged);
    arena_release(&f->arena);
    buf_release(&f->tmp);
    free(f);
}

size_t issue_fold_pending(const struct issue_folder *f)
{
    return f->used;
}

/* Empties the pending entries (their strings stay in the arena until the
 * next reset). */
static void fold_clear(struct issue_folder *f)
{
    if (f->used)
        memset(f->slots, 0, f->cap * sizeof *f->slots);
    f->used = 0;
}

void issue_fold_reset(struct issue_folder *f)
{
    fold_clear(f);
    f->ncreated = 0;
    f->nstaged = 0;
    arena_reset(&f->arena);
}

static uint64_t fp_hash(const uint8_t fp[16])
{
    uint64_t h;
    memcpy(&h, fp, sizeof h);
    return h;
}

static const uint8_t fp_zero[16];

static bool set_has(const struct fp_set *s, const uint8_t fp[16])
{
    if (!s->cap || memcmp(fp, fp_zero, 16) == 0)
        return false;
    for (size_t i = fp_hash(fp) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (memcmp(s->fps[i], fp, 16) == 0)
            return true;
        if (memcmp(s->fps[i], fp_zero, 16) == 0)
            return false;
    }
}

static void set_put_slot(uint8_t (*fps)[16], size_t cap, const uint8_t fp[16])
{
    size_t i = fp_hash(fp) & (cap - 1);
    while (memcmp(fps[i], fp_zero, 16) != 0) {
        if (memcmp(fps[i], fp, 16) == 0)
            return;
        i = (i + 1) & (cap - 1);
    }
    memcpy(fps[i], fp, 16);
}

static void set_add(struct fp_set *s, const uint8_t fp[16])
{
    if (memcmp(fp, fp_zero, 16) == 0 || set_has(s, fp))
        return;
    if ((s->n + 1) * 2 > s->cap) { /* load at most 1/2 */
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        uint8_t(*nf)[16] = kb_calloc(ncap, 16);
        for (size_t i = 0; i < s->cap; i++)
            if (memcmp(s->fps[i], fp_zero, 16) != 0)
                set_put_slot(nf, ncap, s->fps[i]);
        free(s->fps);
        s->fps = nf;
        s->cap = ncap;
    }
    set_put_slot(s->fps, s->cap, fp);
    s->n++;
}

static int add_known(void *ctx, const uint8_t fp[16])
{
    set_add(ctx, fp);
    return 0;
}

kb_err issue_fold_load_known(struct issue_folder *f, struct db *db)
{
    f->track_known = true;
    return db_issue_each_fp(db, add_known, &f->known);
}

void issue_fold_committed(struct issue_folder *f)
{
    if (f->track_known)
        for (size_t i = 0; i < f->ncreated; i++)
            set_add(&f->known, f->created[i]);
    f->ncreated = 0;
    for (size_t i = 0; i < f->nstaged; i++) {
        if (!f->tcache)
            f->tcache = kb_calloc(TCACHE_SLOTS, sizeof *f->tcache);
        f->tcache[fp_hash(f->tstaged[i].fp) & (TCACHE_SLOTS - 1)] = f->tstaged[i];
    }
    f->nstaged = 0;
}

static void hash_text(XXH3_state_t *st, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) + 1 : 0; /* 0: absent, distinct from "" */
    XXH3_64bits_update(st, &n, sizeof n);
    if (n > 1)
        XXH3_64bits_update(st, s, n - 1);
}

/* Whether the store already holds this triage for the entry's issue; when
 * not, the write about to happen is staged for the cache. */
static bool triage_unchanged(struct issue_folder *f, const struct fold_entry *e)
{
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset(&st);
    hash_text(&st, e->t_rules);
    hash_text(&st, e->t_policies);
    hash_text(&st, e->t_labels);
    hash_text(&st, e->t_annotations);
    hash_text(&st, e->t_mute_reason);
    XXH3_64bits_update(&st, &e->t_mute_until, sizeof e->t_mute_until);
    uint64_t h = XXH3_64bits_digest(&st);
    if (f->tcache) {
        const struct tcache_slot *c = &f->tcache[fp_hash(e->fp) & (TCACHE_SLOTS - 1)];
        if (c->h == h && memcmp(c->fp, e->fp, 16) == 0)
            return true;
    }
    if (f->nstaged == f->capstaged) {
        f->capstaged = f->capstaged ? f->capstaged * 2 : 256;
        f->tstaged = kb_realloc(f->tstaged, f->capstaged * sizeof *f->tstaged);
    }
    memcpy(f->tstaged[f->nstaged].fp, e->fp, 16);
    f->tstaged[f->nstaged++].h = h;
    return false;
}

static void remember_created(struct issue_folder *f, const uint8_t fp[16])
{
    if (!f->track_known)
        return;
    if (f->ncreated == f->created_cap) {
        f->created_cap = f->created_cap ? f->created_cap * 2 : 256;
        f->created = kb_realloc(f->created, f->created_cap * 16);
    }
    memcpy(f->created[f->ncreated++], fp, 16);
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

static struct fold_entry *fold_find(const struct issue_folder *f, const uint8_t fp[16])
{
    size_t i = fp_hash(fp) & (f->cap - 1);
    while (f->slots[i].used) {
        if (memcmp(f->slots[i].fp, fp, 16) == 0)
            return &f->slots[i];
        i = (i + 1) & (f->cap - 1);
    }
    return NULL;
}

bool issue_fold_can_repeat(const struct issue_folder *f, const uint8_t fp[16])
{
    return fold_find(f, fp) != NULL || set_has(&f->known, fp);
}

/* *dst becomes a copy of v (NULL when v is absent), unless it already
 * holds those bytes: repeats mostly carry the same triage texts. */
static void keep_text(struct issue_folder *f, char **dst, struct kb_str v, size_t max)
{
    if (!v.p) {
        *dst = NULL;
        return;
    }
    if (*dst && strlen(*dst) == v.n && memcmp(*dst, v.p, v.n) == 0)
        return;
    *dst = fold_dup(f, v, max);
}

kb_err issue_fold_repeat(struct issue_folder *f, const uint8_t fp[16], int64_t time_ms,
                         int severity, struct kb_str title, const char *source, uint64_t seq,
                         int64_t received_ms, const struct issue_summary_alert *triage)
{
    struct fold_entry *e = fold_find(f, fp);
    int64_t t = time_ms ? time_ms : received_ms;
    if (!e) {
        if (!set_has(&f->known, fp))
            return KB_ENOTFOUND;
        if ((f->used + 1) * 4 > f->cap * 3)
            fold_grow(f);
        size_t i = fp_hash(fp) & (f->cap - 1);
        while (f->slots[i].used)
            i = (i + 1) & (f->cap - 1);
        e = &f->slots[i];
        memset(e, 0, sizeof *e);
        e->used = true;
        memcpy(e->fp, fp, 16);
        f->used++;
        e->first_seen = e->last_seen = t;
        e->first_seq = seq;
        e->source = arena_strndup(&f->arena, source, strlen(source));
        if (!e->source)
            return KB_ETOOBIG;
    } else {
        e->first_seen = KB_MIN(e->first_seen, t);
        e->last_seen = KB_MAX(e->last_seen, t);
    }
    const char *cur = e->last_title ? e->last_title : e->title;
    if (!kb_str_empty(title) && (!cur || !kb_str_eq(title, cur)))
        e->last_title = fold_dup(f, title, 1024);
    e->count++;
    e->last_seq = seq;
    e->last_received = received_ms;
    e->severity = severity;
    if (triage && triage->has_triage) {
        if (!e->has_triage) /* the stored texts are not in the entry: replace all */
            e->t_rules = e->t_policies = e->t_labels = e->t_annotations = NULL;
        e->has_triage = true;
        keep_text(f, &e->t_rules, triage->rules, 16384);
        keep_text(f, &e->t_policies, triage->policies, 16384);
        keep_text(f, &e->t_labels, triage->labels, 16384);
        keep_text(f, &e->t_annotations, triage->annotations, 65536);
        e->t_mute_reason = NULL; /* a muted alert never takes this path */
        e->t_mute_until = 0;
    }
    return KB_OK;
}

static char *dup_c(struct issue_folder *f, const char *s, size_t max)
{
    return s ? arena_strndup(&f->arena, s, KB_MIN(strlen(s), max)) : NULL;
}

static void set_entry_triage(struct issue_folder *f, struct fold_entry *e,
                             const struct issue_triage *t)
{
    e->has_triage = true;
    e->t_rules = dup_c(f, t->rules, 16384);
    e->t_policies = dup_c(f, t->policies, 16384);
    e->t_labels = dup_c(f, t->labels, 16384);
    e->t_annotations = dup_c(f, t->annotations, 65536);
    e->t_mute_reason = dup_c(f, t->mute_reason, 4096);
    e->t_mute_until = t->mute_reason ? t->mute_until_ms : 0;
}

kb_err issue_fold_add_fp(struct issue_folder *f, const struct alert *a, const uint8_t fp[16],
                         const char *identity, const struct issue_triage *t, uint64_t seq,
                         int64_t received_ms)
{
    if ((f->used + 1) * 4 > f->cap * 3)
        fold_grow(f);
    size_t i = fp_hash(fp) & (f->cap - 1);
    while (f->slots[i].used && memcmp(f->slots[i].fp, fp, 16) != 0)
        i = (i + 1) & (f->cap - 1);
    struct fold_entry *e = &f->slots[i];
    int64_t tm = a->time_ms ? a->time_ms : received_ms;
    if (!e->used) {
        memset(e, 0, sizeof *e);
        e->used = true;
        memcpy(e->fp, fp, 16);
        f->used++;
        e->first_seen = e->last_seen = tm;
        e->first_seq = seq;
        e->has_fields = true;
        if (identity) {
            e->identity = dup_c(f, identity, ISSUE_IDENTITY_MAX);
        } else {
            uint8_t unused[16];
            buf_reset(&f->tmp);
            issue_identity(a, unused, &f->tmp);
            e->identity = arena_strndup(&f->arena, f->tmp.p ? f->tmp.p : "", f->tmp.len);
        }
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
        e->first_seen = KB_MIN(e->first_seen, tm);
        e->last_seen = KB_MAX(e->last_seen, tm);
        /* Keep the newest title; copy it only when it changed, since
         * repeats nearly always carry the same one. */
        const char *cur = e->last_title ? e->last_title : e->title;
        if (!cur || !kb_str_eq(a->title, cur))
            e->last_title = fold_dup(f, a->title, 1024);
    }
    if (t)
        set_entry_triage(f, e, t);
    e->count++;
    e->last_seq = seq;
    e->last_received = received_ms;
    e->severity = a->severity;
    return KB_OK;
}

kb_err issue_fold_add(struct issue_folder *f, const struct alert *a, uint64_t seq,
                      int64_t received_ms)
{
    uint8_t fp[16];
    issue_identity(a, fp, NULL); /* the readable text only for a new entry */
    return issue_fold_add_fp(f, a, fp, NULL, NULL, seq, received_ms);
}

kb_err issue_fold_close(struct issue_folder *f, struct db *db, const uint8_t fp[16],
                        const char *reason, uint64_t seq, struct issue_fold_stats *st,
                        bool *closed)
{
    *closed = false;
    if (fold_find(f, fp)) { /* its earlier occurrences come first */
        kb_err e = issue_fold_apply(f, db, st);
        if (e)
            return e;
    }
    int64_t id;
    int state;
    kb_err e = db_issue_find(db, fp, &id, &state);
    if (e)
        return e;
    if (state != ISSUE_OPEN && state != ISSUE_ACKED)
        return KB_OK;
    e = db_issue_set_state(db, id, state, ISSUE_CLOSED, kb_now_ms(), "koban", reason, seq);
    if (!e && f->obs.fn) {
        struct db_issue r;
        if ((e = db_issue_get(db, id, &r)) == KB_OK) {
            e = tell(f, db, ISSUE_EV_CLOSED, id, fp, r.severity, 0, reason);
            db_issue_release(&r);
        }
    }
    if (e)
        return e;
    *closed = true;
    st->closed++;
    if (state == ISSUE_ACKED)
        st->closed_acked++;
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
        int ev = -1;
        kb_err err = db_issue_find(db, e->fp, &id, &state);
        if (err == KB_ENOTFOUND) {
            /* An entry folded from summaries only whose issue is not in the
             * store (the known set said otherwise): insert what is known. */
            char hex[33];
            issue_fp_hex(e->fp, hex);
            if (!e->has_fields) {
                e->identity = arena_strndup(&f->arena, hex, 32);
                if (!e->last_title)
                    e->title = e->identity;
            }
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
            e->created = true;
            remember_created(f, e->fp);
            ev = ISSUE_EV_OPENED;
        } else if (err == KB_OK) {
            err = db_issue_bump(db, id, e->count, e->last_seen, e->last_received, e->last_seq,
                                e->severity, e->last_title);
            if (!err && state == ISSUE_CLOSED) {
                err = db_issue_set_state(db, id, ISSUE_CLOSED, ISSUE_OPEN, now, "koban",
                                         "recurred", e->first_seq);
                st->reopened++;
            }
            st->updated++;
            ev = state == ISSUE_CLOSED ? ISSUE_EV_REOPENED : ISSUE_EV_REPEATED;
        }
        if (!err && e->has_triage && !triage_unchanged(f, e)) {
            struct db_triage t = {.rules = e->t_rules, .policies = e->t_policies,
                                  .labels = e->t_labels, .annotations = e->t_annotations,
                                  .mute_reason = e->t_mute_reason,
                                  .mute_until = e->t_mute_until};
            err = db_issue_set_triage(db, id, &t);
        }
        /* told last, so an observer reading the issue sees all of it */
        if (!err && ev >= 0)
            err = tell(f, db, ev, id, e->fp, e->severity, e->count,
                       ev == ISSUE_EV_OPENED     ? "first occurrence"
                       : ev == ISSUE_EV_REOPENED ? "recurred"
                                                 : NULL);
        if (err)
            return err;
    }
    fold_clear(f);
    return KB_OK;
}
