/* notifier.c — issue changes to outbox jobs (notifier.h). */
#include "notify/notifier.h"

#include "lib/jsonw.h"
#include "lib/log.h"
#include "store/db_notice.h"
#include "store/db_outbox.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define NOTIFIER_MAX_ROUTED 64    /* receivers one change can go to */
#define NOTIFIER_FLOOD_ISSUES 4096 /* floods remembered with their issue */
#define NOTIFIER_TICK_LIMIT 1000   /* reminders per severity per tick */

struct repeat_slot {
    uint8_t fp[16];
    int64_t at; /* ms of the last notice that counts for the repeat limit */
};

/* The issue a flood key last concerned, so its end can be told with it. */
struct flood_issue {
    uint8_t key[16];
    int64_t issue_id;
    bool used;
};

struct notifier {
    const struct route_set *rs;
    struct notifier_opts o;
    pthread_mutex_t mu;
    struct flood *flood_id, *flood_rule; /* NULL when not configured */
    struct repeat_slot *repeats;         /* NOTIFIER_REPEAT_SLOTS */
    struct flood_issue floods[NOTIFIER_FLOOD_ISSUES];
    struct buf payload;
    atomic_bool wrote; /* jobs written since the last notifier_committed */
    _Atomic uint64_t changes, jobs, unrouted, muted, repeats_held, flood_held, nfloods,
        reminders;
};

static int64_t now_of(const struct notifier *n)
{
    return n->o.now_ms ? n->o.now_ms() : kb_now_ms();
}

static size_t slot_of(const uint8_t key[16], size_t nslots)
{
    uint64_t h;
    memcpy(&h, key, sizeof h);
    return (size_t)(h % nslots);
}

kb_err notifier_new(const struct route_set *rs, const struct notifier_opts *o,
                    struct notifier **out, struct kb_why *why)
{
    *out = NULL;
    if (!rs)
        return kb_fail(why, KB_EINVAL, "notifier: no routes");
    struct notifier *n = kb_calloc(1, sizeof *n);
    n->rs = rs;
    if (o)
        n->o = *o;
    if (n->o.repeat_interval_ms <= 0)
        n->o.repeat_interval_ms = 3600 * 1000;
    const struct flood_config *fc = route_flood(rs), *fr = route_flood_rule(rs);
    kb_err e = KB_OK;
    if (fc)
        e = flood_new(fc, &n->flood_id, why);
    if (!e && fr)
        e = flood_new(fr, &n->flood_rule, why);
    if (e) {
        notifier_free(n);
        return e;
    }
    n->repeats = kb_calloc(NOTIFIER_REPEAT_SLOTS, sizeof *n->repeats);
    buf_init(&n->payload, 4u << 20);
    pthread_mutex_init(&n->mu, NULL);
    *out = n;
    return KB_OK;
}

void notifier_free(struct notifier *n)
{
    if (!n)
        return;
    flood_free(n->flood_id);
    flood_free(n->flood_rule);
    free(n->repeats);
    buf_release(&n->payload);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

kb_err notifier_payload(const struct db_issue *r, const char *event, const char *reason,
                        int64_t held_back, const char *koban_url, struct buf *out)
{
    buf_reset(out);
    struct jw w;
    jw_init(&w, out);
    jw_obj_begin(&w);
    jw_kv_str(&w, "event", event);
    jw_key(&w, "issue");
    issue_write_json(&w, r, NULL);
    if (reason)
        jw_kv_str(&w, "reason", reason);
    if (held_back >= 0)
        jw_kv_int(&w, "held_back", held_back);
    if (koban_url && *koban_url) {
        char url[2048];
        size_t l = strlen(koban_url);
        while (l && koban_url[l - 1] == '/')
            l--;
        snprintf(url, sizeof url, "%.*s/v1/issues/%lld", (int)l, koban_url, (long long)r->id);
        jw_kv_str(&w, "url", url);
    }
    jw_obj_end(&w);
    return jw_finish(&w);
}

static bool is_muted(const struct db_issue *r, int64_t now)
{
    return r->mute_reason && (r->mute_until == 0 || r->mute_until > now);
}

/* Writes one job per receiver in idx[0..n) (and extra, when >= 0 and not
 * among them), with the payload for r. Called with n->mu held. */
static kb_err enqueue(struct notifier *n, struct db *db, const struct db_issue *r,
                      const char *event, const char *reason, int64_t held_back,
                      const size_t *idx, size_t nidx, long extra, int64_t now)
{
    kb_err e = notifier_payload(r, event, reason, held_back, route_koban_url(n->rs),
                                &n->payload);
    if (e)
        return e;
    bool extra_done = extra < 0;
    for (size_t i = 0; i <= nidx && !e; i++) {
        size_t k;
        if (i < nidx) {
            k = idx[i];
            if (extra >= 0 && k == (size_t)extra)
                extra_done = true;
        } else if (!extra_done) {
            k = (size_t)extra;
        } else {
            break;
        }
        const struct recv_config *rc = route_receiver(n->rs, k);
        struct db_outbox_new j = {.receiver = rc->name, .issue_id = r->id, .fp = r->fp,
                                  .event = event, .payload = n->payload.p};
        e = db_outbox_enqueue(db, &j, now, NULL);
        if (!e) {
            atomic_fetch_add(&n->jobs, 1);
            atomic_store(&n->wrote, true);
        }
    }
    return e;
}

static size_t route_issue(struct notifier *n, const struct db_issue *r, size_t *idx, size_t max)
{
    struct route_input in = {.severity = r->severity, .source = r->source, .kind = r->kind,
                             .labels_json = r->labels};
    return route_match(n->rs, &in, idx, max);
}

static void remember_flood(struct notifier *n, const uint8_t key[16], int64_t issue_id)
{
    struct flood_issue *s = &n->floods[slot_of(key, NOTIFIER_FLOOD_ISSUES)];
    memcpy(s->key, key, 16);
    s->issue_id = issue_id;
    s->used = true;
}

/* A flood that ended (or was pushed out of its table): tell it with the
 * issue it last concerned, when that is still known. */
struct end_ctx {
    struct notifier *n;
    struct db *db;
    int64_t now;
    kb_err err;
    size_t jobs;
};

static void flood_ended(void *ctx, const struct flood_summary *s)
{
    struct end_ctx *c = ctx;
    struct notifier *n = c->n;
    struct flood_issue *fi = &n->floods[slot_of(s->key, NOTIFIER_FLOOD_ISSUES)];
    if (c->err || !fi->used || memcmp(fi->key, s->key, 16) != 0)
        return;
    fi->used = false;
    struct db_issue r;
    if (db_issue_get(c->db, fi->issue_id, &r) != KB_OK)
        return;
    size_t idx[NOTIFIER_MAX_ROUTED];
    size_t k = route_issue(n, &r, idx, NOTIFIER_MAX_ROUTED);
    uint64_t before = atomic_load(&n->jobs);
    if (k && !is_muted(&r, c->now))
        c->err = enqueue(n, c->db, &r, "flood_ended", NULL, (int64_t)s->held, idx, k, -1,
                         c->now);
    c->jobs += (size_t)(atomic_load(&n->jobs) - before);
    db_issue_release(&r);
}

/* Flood control for one copy: true when it may be notified. A START
 * writes the flooding notice instead. Called with n->mu held. */
static kb_err flood_check(struct notifier *n, struct db *db, const struct db_issue *r,
                          const size_t *idx, size_t nidx, int64_t now, bool *pass)
{
    *pass = true;
    struct {
        struct flood *f;
        uint8_t key[16];
    } b[2] = {{n->flood_id, {0}}, {n->flood_rule, {0}}};
    memcpy(b[0].key, r->fp, 16);
    if (r->kind)
        flood_key_str(r->kind, strlen(r->kind), b[1].key);
    else
        b[1].f = NULL;
    for (int i = 0; i < 2; i++) {
        if (!b[i].f)
            continue;
        struct flood_decision d;
        enum flood_verdict v = flood_take(b[i].f, b[i].key, now, &d);
        if (d.evicted) {
            struct end_ctx c = {n, db, now, KB_OK, 0};
            flood_ended(&c, &d.evicted_flood);
            if (c.err)
                return c.err;
        }
        if (v == FLOOD_PASS)
            continue;
        *pass = false;
        atomic_fetch_add(&n->flood_held, 1);
        if (v == FLOOD_START) {
            atomic_fetch_add(&n->nfloods, 1);
            remember_flood(n, b[i].key, r->id);
            return enqueue(n, db, r, "flood_started", i ? "rule" : "identity", -1, idx, nidx,
                           -1, now);
        }
        return KB_OK;
    }
    return KB_OK;
}

static kb_err on_change(void *ctx, struct db *db, const struct issue_change *c)
{
    struct notifier *n = ctx;
    atomic_fetch_add(&n->changes, 1);
    int64_t now = now_of(n);
    pthread_mutex_lock(&n->mu);
    kb_err e = KB_OK;
    struct repeat_slot *rs = &n->repeats[slot_of(c->fp, NOTIFIER_REPEAT_SLOTS)];
    bool known = memcmp(rs->fp, c->fp, 16) == 0;
    if (c->event == ISSUE_EV_REPEATED && known && now - rs->at < n->o.repeat_interval_ms) {
        atomic_fetch_add(&n->repeats_held, 1); /* the cheap case: no store read */
        goto out;
    }
    struct db_issue r;
    if ((e = db_issue_get(db, c->id, &r)) != KB_OK)
        goto out;
    if (is_muted(&r, now)) {
        atomic_fetch_add(&n->muted, 1);
        goto release;
    }
    size_t idx[NOTIFIER_MAX_ROUTED];
    size_t k = route_issue(n, &r, idx, NOTIFIER_MAX_ROUTED);
    if (!k) {
        atomic_fetch_add(&n->unrouted, 1);
        goto release;
    }
    bool copy = c->event == ISSUE_EV_OPENED || c->event == ISSUE_EV_REPEATED ||
                c->event == ISSUE_EV_REOPENED;
    if (copy) {
        bool pass = true;
        if ((e = flood_check(n, db, &r, idx, k, now, &pass)) != KB_OK || !pass)
            goto release;
        memcpy(rs->fp, c->fp, 16);
        rs->at = now;
    }
    e = enqueue(n, db, &r, issue_event_name(c->event), c->reason, -1, idx, k, -1, now);
    if (!e && (c->event == ISSUE_EV_OPENED || c->event == ISSUE_EV_REOPENED))
        e = db_notice_record(db, r.id, now, false);
release:
    db_issue_release(&r);
out:
    pthread_mutex_unlock(&n->mu);
    return e;
}

void notifier_committed(struct notifier *n)
{
    if (atomic_exchange(&n->wrote, false) && n->o.kick)
        n->o.kick(n->o.kick_ctx);
}

struct issue_observer notifier_observer(struct notifier *n)
{
    return (struct issue_observer){on_change, n};
}

struct remind_ctx {
    struct notifier *n;
    struct db *db;
    int64_t now;
    size_t jobs;
};

static kb_err remind(void *ctx, int64_t issue_id, int64_t reminders)
{
    struct remind_ctx *c = ctx;
    struct notifier *n = c->n;
    struct db_issue r;
    kb_err e = db_issue_get(c->db, issue_id, &r);
    if (e)
        return e == KB_ENOTFOUND ? KB_OK : e;
    size_t idx[NOTIFIER_MAX_ROUTED];
    size_t k = is_muted(&r, c->now) ? 0 : route_issue(n, &r, idx, NOTIFIER_MAX_ROUTED);
    unsigned after = 0;
    size_t esc = 0;
    long extra = -1;
    /* reminder number reminders + 1: escalated past `after` */
    if (route_escalate(n->rs, &after, &esc) && (uint64_t)reminders + 1 > after)
        extra = (long)esc;
    uint64_t before = atomic_load(&n->jobs);
    if (k || extra >= 0) {
        char why[64];
        snprintf(why, sizeof why, "reminder %lld: not acknowledged", (long long)reminders + 1);
        e = enqueue(n, c->db, &r, "reminder", why, -1, idx, k, extra, c->now);
        if (!e)
            atomic_fetch_add(&n->reminders, 1);
    }
    /* recorded even when no receiver takes it, so it is not asked again
     * every tick */
    if (!e)
        e = db_notice_record(c->db, issue_id, c->now, true);
    c->jobs += (size_t)(atomic_load(&n->jobs) - before);
    db_issue_release(&r);
    return e;
}

kb_err notifier_tick(struct notifier *n, struct db *db, int64_t now_ms, size_t *njobs)
{
    if (njobs)
        *njobs = 0;
    kb_err e = db_begin(db);
    if (e)
        return e;
    pthread_mutex_lock(&n->mu);
    struct end_ctx ec = {n, db, now_ms, KB_OK, 0};
    if (n->flood_id)
        flood_tick(n->flood_id, now_ms, flood_ended, &ec);
    if (n->flood_rule)
        flood_tick(n->flood_rule, now_ms, flood_ended, &ec);
    e = ec.err;
    struct remind_ctx rc = {n, db, now_ms, 0};
    for (int sev = KB_SEV_LOW; !e && sev <= KB_SEV_CRITICAL; sev++) {
        int64_t every = route_reminder_ms(n->rs, sev);
        if (every > 0)
            e = db_notice_due(db, sev, now_ms - every, NOTIFIER_TICK_LIMIT, remind, &rc);
    }
    pthread_mutex_unlock(&n->mu);
    if (!e)
        e = db_commit(db);
    if (e) {
        db_rollback(db);
        atomic_store(&n->wrote, false); /* rolled back: nothing to deliver */
        return e;
    }
    notifier_committed(n);
    if (njobs)
        *njobs = ec.jobs + rc.jobs;
    return KB_OK;
}

void notifier_get_stats(struct notifier *n, struct notifier_stats *o)
{
    o->changes = atomic_load(&n->changes);
    o->jobs = atomic_load(&n->jobs);
    o->unrouted = atomic_load(&n->unrouted);
    o->muted = atomic_load(&n->muted);
    o->repeats_held = atomic_load(&n->repeats_held);
    o->flood_held = atomic_load(&n->flood_held);
    o->floods = atomic_load(&n->nfloods);
    o->reminders = atomic_load(&n->reminders);
}

kb_err notifier_metrics(struct notifier *n, struct buf *out)
{
    struct notifier_stats s;
    notifier_get_stats(n, &s);
    return buf_printf(
        out,
        "# HELP koban_notify_changes_total Issue changes the notifier heard.\n"
        "# TYPE koban_notify_changes_total counter\nkoban_notify_changes_total %llu\n"
        "# HELP koban_notify_jobs_total Outbox jobs written.\n"
        "# TYPE koban_notify_jobs_total counter\nkoban_notify_jobs_total %llu\n"
        "# TYPE koban_notify_unrouted_total counter\nkoban_notify_unrouted_total %llu\n"
        "# TYPE koban_notify_muted_total counter\nkoban_notify_muted_total %llu\n"
        "# HELP koban_notify_repeats_held_total Repeats within the repeat interval.\n"
        "# TYPE koban_notify_repeats_held_total counter\nkoban_notify_repeats_held_total %llu\n"
        "# HELP koban_notify_flood_held_total Copies held back by flood control.\n"
        "# TYPE koban_notify_flood_held_total counter\nkoban_notify_flood_held_total %llu\n"
        "# TYPE koban_notify_floods_total counter\nkoban_notify_floods_total %llu\n"
        "# TYPE koban_notify_reminders_total counter\nkoban_notify_reminders_total %llu\n",
        (unsigned long long)s.changes, (unsigned long long)s.jobs,
        (unsigned long long)s.unrouted, (unsigned long long)s.muted,
        (unsigned long long)s.repeats_held, (unsigned long long)s.flood_held,
        (unsigned long long)s.floods, (unsigned long long)s.reminders);
}
