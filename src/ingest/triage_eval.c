/*
 * triage_eval.c — the intake's stateless part: the pool of evaluators
 * (private copies of the sets, loaded per generation), and settling an
 * alert without occurrence state into a version 2 summary (triage_impl.h).
 */
#include "ingest/triage_impl.h"

#include "rules/correlate.h"
#include "rules/rule_alert.h"
#include "rules/sigma.h"

#include "issues/issue_summary.h"

#include <string.h>

/* ---- intake: the stateless part ---------------------------------------- */

static kb_err no_state(void *ctx, const uint8_t fp[16], int64_t since_ms, uint64_t *n)
{
    (void)ctx, (void)fp, (void)since_ms;
    *n = 0; /* the result says state_used: the pipeline settles it */
    return KB_OK;
}

void triage_evaluator_init(struct triage *t, struct triage_eval *ev)
{
    memset(ev, 0, sizeof *ev);
    memcpy(ev->rule_identity, t->rule_identity, sizeof ev->rule_identity);
    ev->st = (struct policy_state){.occurrences = no_state};
    buf_init(&ev->jrules, 16384);
    buf_init(&ev->jpolicies, 16384);
    buf_init(&ev->jlabels, 16384);
    buf_init(&ev->jannot, 65536);
}

void triage_evaluator_release(struct triage_eval *ev)
{
    triage_sets_free(ev->sets);
    ev->sets = NULL;
    buf_release(&ev->jrules);
    buf_release(&ev->jpolicies);
    buf_release(&ev->jlabels);
    buf_release(&ev->jannot);
}

static void silent(void *ctx, const char *msg)
{
    (void)ctx, (void)msg; /* the pipeline's load reported the same errors */
}

struct triage_eval *triage_eval_acquire(struct triage *t)
{
    if (t->o.geoip_db) /* enrichment (its file reopens on reload): pipeline only */
        return NULL;
    pthread_mutex_lock(&t->pool_mu);
    uint64_t gen = t->gen, want_sig = t->gen_sig;
    struct triage_eval *ev = NULL, *stale = NULL;
    for (size_t i = 0; i < TRIAGE_EVALUATORS && !ev; i++) {
        struct triage_eval *c = &t->pool[i];
        if (c->busy)
            continue;
        if (c->gen == gen)
            ev = c;
        else if (!stale)
            stale = c;
    }
    if (!ev)
        ev = stale;
    if (ev)
        ev->busy = true;
    pthread_mutex_unlock(&t->pool_mu);
    if (!ev)
        return NULL; /* every copy is in use: the pipeline settles these */
    if (ev->gen != gen) {
        /* Load outside the lock. The copy is good only if the files did
         * not change since the pipeline loaded this generation. */
        triage_sets_free(ev->sets);
        uint64_t before = triage_files_signature(&t->o);
        struct loader l = {silent, NULL, 0};
        ev->sets = triage_sets_load(&t->o, &l);
        ev->valid = before == want_sig && triage_files_signature(&t->o) == want_sig;
        ev->gen = gen;
    }
    if (!ev->valid) {
        triage_eval_release(t, ev);
        return NULL;
    }
    return ev;
}

void triage_eval_release(struct triage *t, struct triage_eval *ev)
{
    if (!ev)
        return;
    pthread_mutex_lock(&t->pool_mu);
    ev->busy = false;
    pthread_mutex_unlock(&t->pool_mu);
}

bool triage_eval_applies(const struct triage_eval *ev, const char *source)
{
    return triage_sets_apply(ev->sets, source);
}

uint64_t triage_eval_generation(const struct triage_eval *ev)
{
    return ev->gen;
}

struct eval_ctx {
    struct triage_eval *ev;
    const struct alert *a;
    struct buf *sums;
    size_t start;
    size_t nmatched;
};

/* settle() without state: appends the alert to the summary, or
 * KB_EUNSUPPORTED when only the pipeline can settle it. */
static kb_err eval_settle(struct eval_ctx *c, const struct alert *a, const char *rule_id)
{
    struct triage_eval *ev = c->ev;
    const char *rules_json = triage_rules_text(&ev->jrules, rule_id);
    if (rule_id && !rules_json)
        return KB_EUNSUPPORTED;
    if (!ev->sets->ps || !triage_sets_apply(ev->sets, a->source)) {
        uint8_t fp[16];
        issue_identity(a, fp, NULL);
        struct issue_triage it = {.rules = rules_json};
        return issue_summary_add_triaged(c->sums, c->start, fp, a->time_ms, a->severity,
                                         a->title, rule_id ? &it : NULL);
    }
    struct policy_result res;
    kb_err e = policy_eval(ev->sets->ps, a, &ev->st, kb_now_ms(), &res);
    if (e)
        return e;
    /* occurrence counts, closes (in the store, in event order) and mutes
     * (counted there) are the pipeline's */
    if (res.state_used || res.state_error || res.close || res.muted)
        return KB_EUNSUPPORTED;
    struct issue_triage it;
    triage_texts(&res, rules_json, &ev->jpolicies, &ev->jlabels, &ev->jannot, &it);
    return issue_summary_add_triaged(c->sums, c->start, res.fp, a->time_ms, res.severity,
                                     a->title, &it);
}

static kb_err eval_rule(void *ctx, const struct sigma_rule *r, const struct sigma_event *sev)
{
    (void)sev;
    struct eval_ctx *c = ctx;
    struct triage_sets *ts = c->ev->sets;
    /* a rule that feeds a correlation needs the ordered engine */
    if (ts->corr && corr_engine_wants(ts->corr, sigma_rule_name(r), sigma_rule_id(r)))
        return KB_EUNSUPPORTED;
    const char *rid = rule_alert_id(r);
    const struct format *f = format_by_name(c->a->source);
    struct alert d;
    rule_alert_make(c->a, r, f ? c->ev->rule_identity[f->id] : NULL, &d);
    c->nmatched++;
    return eval_settle(c, &d, rid);
}

kb_err triage_eval_alert(struct triage_eval *ev, const struct alert *a, struct buf *sums,
                         size_t start)
{
    struct triage_sets *ts = ev->sets;
    struct eval_ctx c = {.ev = ev, .a = a, .sums = sums, .start = start};
    if (ts->rs && triage_sets_apply(ts, a->source)) {
        if (!a->json || !a->raw.p)
            return KB_EUNSUPPORTED; /* text events: the pipeline makes their view */
        const char *base = a->raw.p - a->json->src_off;
        struct sigma_event sev = {a->json, base, a->json->src_off + a->raw.n};
        kb_err e = sigma_match_all(ts->rs, a->source, &sev, eval_rule, &c);
        if (e)
            return e;
        if (c.nmatched)
            return KB_OK;
    }
    return eval_settle(&c, a, NULL);
}
