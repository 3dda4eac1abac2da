/*
 * triage.c — rules, correlation and policies between normalize and fold:
 * triage_new and triage_free, the pipeline's evaluation of each alert in
 * journal order (then fold or close), what it notes for an alert folded
 * from an intake summary, and the metrics. Loading and reload are in
 * triage_load.c, the intake's evaluators in triage_eval.c (triage_impl.h).
 */
#include "ingest/triage_impl.h"

#include "ingest/geoip.h"
#include "lib/log.h"
#include "rules/correlate.h"
#include "rules/rule_alert.h"
#include "rules/rule_tests.h"
#include "rules/rules_field.h"
#include "rules/sigma.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* ---- state wrapper ----------------------------------------------------- */

static kb_err st_occurrences(void *ctx, const uint8_t fp[16], int64_t since, uint64_t *n)
{
    struct triage *t = ctx;
    return t->mem_st.occurrences(t->mem_st.ctx, fp, since, n);
}

static kb_err st_record(void *ctx, const uint8_t fp[16], int64_t t_ms)
{
    struct triage *t = ctx;
    if (t->replaying || !t->mem_st.record)
        return KB_OK;
    return t->mem_st.record(t->mem_st.ctx, fp, t_ms);
}

kb_err triage_new(const struct triage_opts *o, triage_error_fn on_error, void *ctx,
                  size_t *nerrors, struct triage **out, struct kb_why *why)
{
    if (!o)
        return kb_fail(why, KB_EINVAL, "triage: no options");
    struct geoip *geo = NULL;
    if (o->geoip_db && *o->geoip_db) {
        struct kb_why gw = {{0}};
        kb_err e = geoip_open(o->geoip_db, &geo, &gw);
        if (e)
            return kb_fail(why, e, "enrich.geoip_db: %s", gw.msg);
    }
    struct triage *t = kb_calloc(1, sizeof *t);
    t->o = *o;
    t->geo = geo;
    t->o.geoip_db = geo ? kb_strdup(o->geoip_db) : NULL;
    t->o.rules_dir = o->rules_dir && *o->rules_dir ? kb_strdup(o->rules_dir) : NULL;
    t->o.rules_mapping =
        o->rules_mapping && *o->rules_mapping ? kb_strdup(o->rules_mapping) : NULL;
    t->o.policies_dir = o->policies_dir && *o->policies_dir ? kb_strdup(o->policies_dir) : NULL;
    t->mem = policy_memstate_new(o->max_identities ? o->max_identities : TRIAGE_MAX_IDENTITIES);
    t->mem_st = policy_memstate_state(t->mem);
    t->st = (struct policy_state){.ctx = t, .occurrences = st_occurrences, .record = st_record};
    for (size_t i = 0; i < format_count(); i++) {
        const struct format *f = format_at(i);
        size_t need = rule_alert_identity(f, NULL, 0);
        const char **names = kb_calloc(need, sizeof *names);
        rule_alert_identity(f, names, need);
        t->rule_identity[f->id] = names;
    }
    buf_init(&t->jrules, 16384);
    buf_init(&t->jpolicies, 16384);
    buf_init(&t->jlabels, 16384);
    buf_init(&t->jannot, 65536);
    buf_init(&t->text, 1u << 20);
    atomic_init(&t->reload_asked, false);
    t->sig = triage_files_signature(&t->o);
    struct loader l = {on_error, ctx, 0};
    t->sets = triage_sets_load(&t->o, &l);
    triage_publish_counts(t);
    pthread_mutex_init(&t->pool_mu, NULL);
    /* Generations start somewhere new in each process, so a summary made by
     * an earlier process (a journal tail replayed at start, perhaps under
     * other rules) never passes for one of ours. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    t->gen = ((uint64_t)now.tv_sec << 32 ^ (uint64_t)now.tv_nsec << 8 ^ (uint64_t)getpid()) | 1;
    t->gen_sig = t->sig;
    for (size_t i = 0; i < TRIAGE_EVALUATORS; i++)
        triage_evaluator_init(t, &t->pool[i]);
    t->polled_ns = kb_mono_ns();
    if (nerrors)
        *nerrors = l.nerrors;
    *out = t;
    return KB_OK;
}

void triage_free(struct triage *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < TRIAGE_EVALUATORS; i++)
        triage_evaluator_release(&t->pool[i]);
    pthread_mutex_destroy(&t->pool_mu);
    triage_sets_free(t->sets);
    geoip_close(t->geo);
    free((char *)t->o.geoip_db);
    policy_memstate_free(t->mem);
    for (size_t i = 0; i < 256; i++)
        free(t->rule_identity[i]);
    buf_release(&t->jrules);
    buf_release(&t->jpolicies);
    buf_release(&t->jlabels);
    buf_release(&t->jannot);
    buf_release(&t->text);
    free((char *)t->o.rules_dir);
    free((char *)t->o.rules_mapping);
    free((char *)t->o.policies_dir);
    free(t);
}

bool triage_applies(const struct triage *t, const char *source)
{
    return triage_sets_apply(t->sets, source);
}

/* ---- evaluation -------------------------------------------------------- */

void triage_batch_begin(struct triage *t)
{
    t->fresh_from = t->seen_max + 1;
}

/* What a policy result says, as the JSON texts an issue records, written
 * into the three buffers; *it points into them. */
void triage_texts(const struct policy_result *res, const char *rules_json,
                  struct buf *jp, struct buf *jl, struct buf *ja, struct issue_triage *it)
{
    struct jw w;
    buf_reset(jp);
    jw_init(&w, jp);
    jw_arr_begin(&w);
    for (uint32_t i = 0; i < res->napplied; i++)
        jw_str(&w, res->applied[i].id);
    jw_arr_end(&w);
    bool pol_ok = jw_finish(&w) == KB_OK;
    buf_reset(jl);
    jw_init(&w, jl);
    jw_obj_begin(&w);
    for (uint32_t i = 0; i < res->nlabels; i++)
        jw_kv_str(&w, res->labels[i].key, res->labels[i].value);
    jw_obj_end(&w);
    bool lab_ok = jw_finish(&w) == KB_OK;
    buf_reset(ja);
    jw_init(&w, ja);
    jw_arr_begin(&w);
    for (uint32_t i = 0; i < res->nannotations; i++) {
        jw_obj_begin(&w);
        jw_kv_str(&w, "text", res->annotations[i].text);
        if (res->annotations[i].link)
            jw_kv_str(&w, "link", res->annotations[i].link);
        jw_kv_str(&w, "policy", res->annotations[i].policy);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    bool ann_ok = jw_finish(&w) == KB_OK;
    *it = (struct issue_triage){
        .rules = rules_json,
        .policies = pol_ok && res->napplied ? jp->p : NULL,
        .labels = lab_ok && res->nlabels ? jl->p : NULL,
        .annotations = ann_ok && res->nannotations ? ja->p : NULL,
        .mute_reason = res->muted ? (res->mute_reason ? res->mute_reason : "muted") : NULL,
        .mute_until_ms = res->muted ? res->mute_until_ms : 0,
    };
}

/* ["rule id"] into b; NULL when there is no rule (or no room). */
const char *triage_rules_text(struct buf *b, const char *rule_id)
{
    buf_reset(b);
    if (!rule_id)
        return NULL;
    struct jw w;
    jw_init(&w, b);
    jw_arr_begin(&w);
    jw_str(&w, rule_id);
    jw_arr_end(&w);
    if (jw_finish(&w)) {
        buf_reset(b);
        return NULL;
    }
    return b->p;
}

/* One alert (plain or derived): policies, then fold or close. rule_id is
 * the rule that produced it (NULL for a plain alert). */
static kb_err settle(struct triage *t, const struct alert *a, const char *rule_id,
                     const struct triage_sink *s, uint64_t *nalerts)
{
    struct triage_sets *ts = t->sets;
    const char *rules_json = triage_rules_text(&t->jrules, rule_id);
    if (nalerts)
        (*nalerts)++;
    if (!ts->ps || !triage_applies(t, a->source)) {
        uint8_t fp[16];
        issue_identity(a, fp, NULL);
        struct issue_triage it = {.rules = rules_json};
        return issue_fold_add_fp(s->folder, a, fp, NULL, rule_id ? &it : NULL, s->seq,
                                 s->recv_ms);
    }
    struct policy_result res;
    kb_err e = policy_eval(ts->ps, a, &t->st, kb_now_ms(), &res);
    if (e)
        return e;
    if (res.close) {
        bool closed = false;
        e = issue_fold_close(s->folder, s->db, res.close_fp, res.close_reason, s->seq, s->st,
                             &closed);
        if (e == KB_ENOTFOUND || (!e && !closed)) {
            atomic_fetch_add(&t->closes_unknown, 1);
            return KB_OK;
        }
        if (!e)
            atomic_fetch_add(&t->closes, 1);
        return e;
    }
    struct issue_triage it;
    triage_texts(&res, rules_json, &t->jpolicies, &t->jlabels, &t->jannot, &it);
    if (res.muted)
        atomic_fetch_add(&t->muted, 1);
    struct alert b = *a;
    b.severity = res.severity;
    b.identity = res.identity ? res.identity : a->identity;
    return issue_fold_add_fp(s->folder, &b, res.fp, res.identity_text, &it, s->seq, s->recv_ms);
}

struct match_ctx {
    struct triage *t;
    const struct alert *a;
    const struct triage_sink *s;
    uint64_t *nalerts;
    size_t nmatched;
    kb_err err;
};

static const struct json_value *corr_field(const struct json_value *ev, const char *name,
                                           size_t len, void *ctx)
{
    (void)ctx;
    return rules_field(ev, name, len);
}

/* A correlation alert: source = the event's, kind = the correlation's id
 * (else name, else title), identity = rule.id + the group-by values, time =
 * the window's end. */
static kb_err on_corr(void *ctx, const struct corr_alert *ca)
{
    struct match_ctx *m = ctx;
    const struct corr_rule *r = ca->rule;
    struct arena *ar = m->s->arena;
    const char *rid = r->id ? r->id : r->name ? r->name : r->title;
    size_t ng = KB_MIN(ca->ngroup, (size_t)ALERT_MAX_FIELDS - 2);
    const char **names = arena_alloc(ar, (ng + 2) * sizeof *names);
    if (!names)
        return KB_ETOOBIG;
    struct alert c;
    alert_init(&c, m->a->source, names);
    names[0] = "rule.id";
    alert_add_field(&c, "rule.id", kb_str_c(rid));
    for (size_t i = 0; i < ng; i++) {
        const char *g = i < r->ngroup_by ? r->group_by[i] : "?";
        size_t gl = strlen(g) + 7;
        char *nm = arena_alloc(ar, gl);
        if (!nm)
            return KB_ETOOBIG;
        snprintf(nm, gl, "group.%s", g);
        names[i + 1] = nm;
        alert_add_field(&c, nm, ca->group[i]);
    }
    names[ng + 1] = NULL;
    int sev = KB_SEV_MEDIUM;
    if (r->level)
        sigma_level_severity(r->level, &sev);
    c.kind = kb_str_c(rid);
    c.title = kb_str_c(r->title);
    c.severity = sev;
    c.time_ms = ca->last_ms;
    c.account = m->a->account;
    c.region = m->a->region;
    c.raw = m->a->raw;
    c.json = m->a->json;
    atomic_fetch_add(&m->t->corr_alerts, 1);
    return settle(m->t, &c, rid, m->s, m->nalerts);
}

static kb_err on_rule(void *ctx, const struct sigma_rule *r, const struct sigma_event *ev)
{
    struct match_ctx *m = ctx;
    const char *rid = rule_alert_id(r);
    const struct format *f = format_by_name(m->a->source);
    struct triage_sets *ts = m->t->sets;
    bool quiet = ts->nquiet &&
                 bsearch(&r, ts->quiet, ts->nquiet, sizeof *ts->quiet, triage_cmp_ptr);
    kb_err e = KB_OK;
    if (quiet) /* it only feeds its correlations: the plain alert goes on */
        goto feed;
    struct alert d;
    rule_alert_make(m->a, r, f ? m->t->rule_identity[f->id] : NULL, &d);
    m->nmatched++;
    atomic_fetch_add(&m->t->matches, 1);
    e = settle(m->t, &d, rid, m->s, m->nalerts);
    if (e)
        return e;
feed:
    if (ts->corr && !m->t->replaying && corr_engine_wants(ts->corr, sigma_rule_name(r), sigma_rule_id(r))) {
        struct corr_match cm = {.rule_name = sigma_rule_name(r), .rule_id = sigma_rule_id(r),
                                .time_ms = m->a->time_ms ? m->a->time_ms : m->s->recv_ms,
                                .ref = m->s->seq, .event = ev->root};
        e = corr_feed(ts->corr, &cm, corr_field, on_corr, m);
    }
    return e;
}

kb_err triage_alert(struct triage *t, const struct alert *a, const struct triage_sink *s,
                    uint64_t *nalerts)
{
    struct alert enriched;
    char cc[GEOIP_CC_SIZE]; /* the country's bytes: outlives every use of enriched */
    if (t->geo && !kb_str_empty(a->actor_ip)) {
        bool added = false;
        enriched = *a;
        if (geoip_enrich(t->geo, &enriched, cc, &added) == KB_OK && added) {
            a = &enriched;
            atomic_fetch_add(&t->countries, 1);
        }
    }
    t->replaying = s->seq < t->fresh_from;
    if (s->seq > t->seen_max)
        t->seen_max = s->seq;
    struct triage_sets *ts = t->sets;
    if (ts->rs && triage_applies(t, a->source)) {
        struct sigma_event ev = {0};
        if (a->json) {
            const char *base = a->raw.p ? a->raw.p - a->json->src_off : NULL;
            ev = (struct sigma_event){a->json, base, base ? a->json->src_off + a->raw.n : 0};
        } else if (a->raw.n) {
            /* a text event: rules see the JSON object koban makes of it */
            struct json_value *root = NULL;
            buf_reset(&t->text);
            if (rule_tests_text_event(a->source, a->raw.p, a->raw.n, s->recv_ms, &t->text,
                                      NULL) == KB_OK &&
                json_parse(t->text.p, t->text.len, NULL, s->arena, &root, NULL) == KB_OK)
                ev = (struct sigma_event){root, t->text.p, t->text.len};
        }
        if (ev.root) {
            struct match_ctx m = {.t = t, .a = a, .s = s, .nalerts = nalerts};
            kb_err e = sigma_match_all(ts->rs, a->source, &ev, on_rule, &m);
            if (e)
                return e;
            if (m.nmatched) /* a detection says what the event means */
                return KB_OK;
        }
    }
    return settle(t, a, NULL, s, nalerts);
}

/* ---- intake summaries, in the pipeline --------------------------------- */

uint64_t triage_generation(struct triage *t)
{
    /* Only the pipeline thread writes gen (under pool_mu, for the intake
     * threads that read it): its own reads need no lock, and this runs for
     * every summarized record. */
    return t->gen;
}

void triage_note_repeat(struct triage *t, uint64_t seq, const uint8_t fp[16], int64_t time_ms,
                        bool rule)
{
    t->replaying = seq < t->fresh_from;
    if (seq > t->seen_max)
        t->seen_max = seq;
    if (rule)
        atomic_fetch_add(&t->matches, 1);
    if (t->sets->ps)
        st_record(t, fp, time_ms ? time_ms : kb_now_ms());
}

/* ---- metrics ----------------------------------------------------------- */

void triage_get_stats(struct triage *t, struct triage_stats *o)
{
    o->rules = atomic_load(&t->n_rules);
    o->correlations = atomic_load(&t->n_corr);
    o->policies = atomic_load(&t->n_policies);
    o->rule_matches = atomic_load(&t->matches);
    o->corr_alerts = atomic_load(&t->corr_alerts);
    o->closes = atomic_load(&t->closes);
    o->closes_unknown = atomic_load(&t->closes_unknown);
    o->muted = atomic_load(&t->muted);
    o->reloads = atomic_load(&t->reloads);
    o->reload_failures = atomic_load(&t->reload_failures);
    o->geoip_countries = atomic_load(&t->countries);
}

kb_err triage_metrics(struct triage *t, struct buf *out)
{
    struct triage_stats s;
    triage_get_stats(t, &s);
    return buf_printf(
        out,
        "# HELP koban_rules_loaded Sigma rules in use.\n# TYPE koban_rules_loaded gauge\n"
        "koban_rules_loaded %llu\n"
        "# TYPE koban_correlations_loaded gauge\nkoban_correlations_loaded %llu\n"
        "# HELP koban_policies_loaded Triage policies in use.\n"
        "# TYPE koban_policies_loaded gauge\nkoban_policies_loaded %llu\n"
        "# TYPE koban_rule_matches_total counter\nkoban_rule_matches_total %llu\n"
        "# TYPE koban_correlation_alerts_total counter\nkoban_correlation_alerts_total %llu\n"
        "# HELP koban_policy_closes_total Issues closed by a policy.\n"
        "# TYPE koban_policy_closes_total counter\nkoban_policy_closes_total %llu\n"
        "# HELP koban_policy_closes_unmatched_total Closes naming no open issue.\n"
        "# TYPE koban_policy_closes_unmatched_total counter\n"
        "koban_policy_closes_unmatched_total %llu\n"
        "# TYPE koban_alerts_muted_total counter\nkoban_alerts_muted_total %llu\n"
        "# TYPE koban_rules_reloads_total counter\nkoban_rules_reloads_total %llu\n"
        "# TYPE koban_rules_reload_failures_total counter\n"
        "koban_rules_reload_failures_total %llu\n"
        "# HELP koban_geoip_countries_total actor.country fields added by GeoIP.\n"
        "# TYPE koban_geoip_countries_total counter\nkoban_geoip_countries_total %llu\n",
        (unsigned long long)s.rules, (unsigned long long)s.correlations,
        (unsigned long long)s.policies, (unsigned long long)s.rule_matches,
        (unsigned long long)s.corr_alerts, (unsigned long long)s.closes,
        (unsigned long long)s.closes_unknown, (unsigned long long)s.muted,
        (unsigned long long)s.reloads, (unsigned long long)s.reload_failures,
        (unsigned long long)s.geoip_countries);
}
