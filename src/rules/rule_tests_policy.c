/*
 * rule_tests_policy.c — the final severity of a rule test (see
 * rule_tests.h): the policies `koban test` loads, and the alert of a rule
 * on a test's event evaluated by them.
 *
 * The alert is made the way src/ingest/triage.c makes a rule's alert
 * (on_rule), and the policies are only ever evaluated by policy_eval: what
 * a policy does is decided in one place, policy_eval.c. No occurrence
 * state is passed, which policy.h defines as "every alert is a first
 * occurrence": the outcome of a test never depends on the tests run
 * before it.
 */
#include "rules/rule_tests.h"
#include "rules/rule_alert.h"

#include "formats/format.h"
#include "lib/embedded.h"
#include "lib/json.h"
#include "rules/sigma.h"

#include <stdio.h>

/* Reports the errors ps kept since `before`, or why when it kept none. */
static size_t report_new(struct policy_set *ps, size_t before, kb_err e, const struct kb_why *w,
                         rule_tests_error_fn on_error, void *ctx)
{
    size_t after = policy_set_nerrors(ps), n = 0;
    for (size_t k = before; k < after; k++, n++) {
        const char *m = policy_set_error(ps, k);
        if (on_error)
            on_error(ctx, m ? m : "(more policy errors than are kept)");
    }
    if (e && !n) {
        if (on_error)
            on_error(ctx, w->msg[0] ? w->msg : kb_strerror(e));
        n = 1;
    }
    return n;
}

kb_err rule_tests_load_policies(struct policy_set *ps, bool stock, const char *const *dirs,
                                size_t ndirs, rule_tests_error_fn on_error, void *ctx,
                                size_t *nerrors, struct kb_why *why)
{
    size_t bad = 0;
    kb_err ret = KB_OK;
    if (ndirs > RULE_TESTS_MAX_POLICY_DIRS) {
        ret = kb_fail(why, KB_ETOOBIG, "more than %d policy folders", RULE_TESTS_MAX_POLICY_DIRS);
        if (on_error)
            on_error(ctx, why->msg);
        if (nerrors)
            *nerrors = 1;
        return ret;
    }
    for (const struct kb_embedded *emb = kb_stock_policies; stock && emb->name; emb++) {
        char name[256];
        snprintf(name, sizeof name, "stock/%s", emb->name);
        struct kb_why w = {{0}};
        size_t before = policy_set_nerrors(ps);
        kb_err e = policy_load_buffer(ps, emb->data, emb->len, name, NULL, &w);
        bad += report_new(ps, before, e, &w, on_error, ctx);
        if (e && !ret)
            ret = kb_fail(why, e, "%s", w.msg);
    }
    for (size_t i = 0; i < ndirs; i++) {
        struct kb_why w = {{0}};
        size_t before = policy_set_nerrors(ps);
        kb_err e = policy_load_dir(ps, dirs[i], NULL, &w);
        bad += report_new(ps, before, e, &w, on_error, ctx);
        if (e && !ret)
            ret = kb_fail(why, e, "%s", w.msg);
    }
    if (nerrors)
        *nerrors = bad;
    return ret;
}

/* ---- the outcome of one test ---- */

struct emit_ctx {
    struct policy_set *ps;
    const struct sigma_rule *r;
    struct rule_tests_outcome *out;
    struct arena *ar;
    bool done;
    kb_err err;
};

static kb_err on_alert(void *vctx, struct alert *a)
{
    struct emit_ctx *c = vctx;
    if (c->done) /* the first alert of the event is the one tested */
        return KB_OK;
    c->done = true;
    const struct sigma_rule *r = c->r;
    /* identity: the source's names, then rule.id (as the pipeline's) */
    const struct format *f = format_by_name(a->source);
    size_t need = rule_alert_identity(f, NULL, 0);
    const char **names = arena_alloc(c->ar, need * sizeof *names);
    if (!names)
        return c->err = KB_ETOOBIG;
    rule_alert_identity(f, names, need);
    struct alert d;
    rule_alert_make(a, r, f ? names : NULL, &d);

    struct rule_tests_outcome *o = c->out;
    o->source = a->source;
    o->rule_severity = o->severity = d.severity;
    if (!c->ps)
        return KB_OK;
    struct policy_result res;
    kb_err e = policy_eval(c->ps, &d, NULL, kb_now_ms(), &res);
    if (e)
        return c->err = e;
    o->severity = res.severity;
    o->napplied = res.napplied;
    o->nmatched = res.nmatched;
    memcpy(o->applied, res.applied, res.napplied * sizeof *res.applied);
    o->mute_policy = res.muted ? res.mute_policy : NULL;
    o->close_policy = res.close ? res.close_policy : NULL;
    return KB_OK;
}

kb_err rule_tests_outcome(struct policy_set *ps, const struct sigma_rule *r,
                          const struct rule_test *t, struct rule_tests_outcome *out,
                          struct kb_why *why)
{
    memset(out, 0, sizeof *out);
    out->rule_severity = out->severity = sigma_rule_severity(r);
    const struct format *f = NULL;
    bool text = t->source != NULL;
    if (text) {
        f = format_by_name(t->source);
    } else {
        /* the rule only ever runs on alerts of its source: a JSON event of
         * it is that source's (a rule for "*" or a text source is not
         * tied to one, and the intake's detection decides) */
        const struct format *rf = format_by_name(sigma_rule_source(r));
        f = rf && rf->normalize_json ? rf : NULL;
    }
    if (text && !f)
        return kb_fail(why, KB_EINVAL, "'%s' is not a koban source", t->source);
    struct arena ar = ARENA_INIT(16u * RULE_TESTS_MAX_EVENT);
    struct json_limits lim = {.max_depth = RULE_TESTS_MAX_DEPTH,
                              .max_bytes = RULE_TESTS_MAX_EVENT};
    struct kb_str raw = {t->event, t->event_len};
    kb_err e = KB_OK;
    if (!f) { /* detected here, so that a message can name the format */
        struct json_value *root = NULL;
        struct json_error je = {0};
        if ((e = json_parse(raw.p, raw.n, &lim, &ar, &root, &je)) != KB_OK) {
            arena_release(&ar);
            return kb_fail(why, e, "event: %s", je.msg);
        }
        f = format_detect(root);
    }
    struct emit_ctx c = {.ps = ps, .r = r, .out = out, .ar = &ar};
    struct kb_why w = {{0}};
    e = format_normalize(f, raw, text, &lim, &ar, on_alert, &c, &w);
    if (c.err)
        e = kb_fail(why, c.err, "the policies could not be applied: %s", kb_strerror(c.err));
    else if (e)
        e = kb_fail(why, e, "koban's %s normalizer refuses the event: %s", f->name, w.msg);
    else if (!c.done)
        e = kb_fail(why, KB_EINVAL, "koban's %s normalizer makes no alert of the event",
                    f->name);
    arena_release(&ar);
    return e;
}
