/* triage.c — rules, correlation and policies between normalize and fold. */
#include "ingest/triage.h"

#include "rules/sigma_mapfile.h"

#include "formats/format.h"
#include "ingest/geoip.h"
#include "lib/embedded.h"
#include "lib/log.h"
#include "rules/correlate.h"
#include "rules/policy.h"
#include "rules/rule_alert.h"
#include "rules/rule_tests.h"
#include "rules/rules_field.h"
#include "rules/sigma.h"

#include "issues/issue_summary.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

/* One loaded generation of rules and policies; swapped whole on reload. */
struct triage_sets {
    struct sigma_ruleset *rs;    /* NULL when no rule loaded */
    struct corr_engine *corr;    /* NULL when no correlation loaded */
    struct policy_set *ps;       /* NULL when no policy loaded */
    bool all_sources;            /* a rule or policy applies to every source */
    bool applies[256];           /* by format id */
    size_t nrules, ncorr, npolicies;
    /* Base rules that only feed correlations (referenced by one with
     * `generate: false`, Sigma's default): sorted, for bsearch. */
    const struct sigma_rule **quiet;
    size_t nquiet;
};

/* A private copy of the sets for one intake thread at a time (the Sigma
 * and policy engines keep scratch in their sets). */
struct triage_eval {
    struct triage_sets *sets;    /* NULL until loaded */
    uint64_t gen;                /* generation it was loaded for */
    bool valid;                  /* loaded from the files of that generation */
    bool busy;
    const char **rule_identity[256]; /* borrowed from the triage */
    struct policy_state st;      /* no state: tells when a policy wants it */
    struct buf jrules, jpolicies, jlabels, jannot;
};

struct triage {
    struct triage_opts o;        /* strings owned */
    /* Generation of the sets in use: 1 at load, +1 per reload that took.
     * gen_sig is the files' signature it was loaded from. Written by the
     * pipeline thread under pool_mu; intake threads read them there. */
    uint64_t gen, gen_sig;
    pthread_mutex_t pool_mu;
    struct triage_eval pool[TRIAGE_EVALUATORS];
    struct triage_sets *sets;
    struct geoip *geo;           /* NULL without o.geoip_db */
    struct policy_memstate *mem; /* occurrences; survives reloads */
    struct policy_state mem_st;  /* its callbacks */
    struct policy_state st;      /* wrapper: no recording during a replay */
    /* identity of rule alerts per format id: the format's names + rule.id */
    const char **rule_identity[256];
    uint64_t seen_max, fresh_from;
    bool replaying;
    struct buf jrules, jpolicies, jlabels, jannot, text;
    uint64_t sig;                /* signature of the files at the last load */
    int64_t polled_ns;
    atomic_bool reload_asked;
    _Atomic uint64_t n_rules, n_corr, n_policies, matches, corr_alerts, closes,
        closes_unknown, muted, reloads, reload_failures, countries;
};

static void eval_init(struct triage *t, struct triage_eval *ev);
static void eval_release(struct triage_eval *ev);

/* ---- files ------------------------------------------------------------- */

struct paths {
    char **v;
    size_t n, cap;
    bool truncated;
};

static bool yaml_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 4 && !strcmp(n + l - 4, ".yml")) || (l > 5 && !strcmp(n + l - 5, ".yaml"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the .yml and .yaml files under dir (recursive up to depth; names starting
 * with '.' skipped, so editors' and git's files are not read). */
static void collect(const char *dir, unsigned depth, bool recursive, struct paths *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (out->n >= TRIAGE_MAX_FILES) {
            out->truncated = true;
            break;
        }
        struct buf p = BUF_INIT(8192);
        if (buf_printf(&p, "%s/%s", dir, de->d_name)) {
            buf_release(&p);
            continue;
        }
        struct stat sb;
        if (stat(p.p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (recursive && depth < TRIAGE_MAX_DEPTH)
                collect(p.p, depth + 1, recursive, out);
            buf_release(&p);
        } else if (S_ISREG(sb.st_mode) && yaml_name(de->d_name)) {
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 64;
                out->v = kb_realloc(out->v, out->cap * sizeof *out->v);
            }
            out->v[out->n++] = buf_take(&p, NULL);
        } else {
            buf_release(&p);
        }
    }
    closedir(d);
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;
    return x < y ? -1 : x > y;
}

static void paths_get(const char *dir, bool recursive, struct paths *out)
{
    memset(out, 0, sizeof *out);
    if (dir && *dir)
        collect(dir, 0, recursive, out);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_str); /* load order: byte order of paths */
}

static void paths_free(struct paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

/* A cheap signature of a file list: names, sizes and modification times. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL; /* FNV-1a */
    return h;
}

static uint64_t files_signature(const struct triage_opts *o)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int k = 0; k < 2; k++) {
        struct paths ps;
        paths_get(k ? o->policies_dir : o->rules_dir, k == 0, &ps);
        h = mix(h, &k, sizeof k);
        for (size_t i = 0; i < ps.n; i++) {
            struct stat sb;
            int64_t v[3] = {0, 0, 0};
            if (stat(ps.v[i], &sb) == 0) {
                v[0] = (int64_t)sb.st_size;
                v[1] = (int64_t)sb.st_mtim.tv_sec;
                v[2] = (int64_t)sb.st_mtim.tv_nsec;
            }
            h = mix(h, ps.v[i], strlen(ps.v[i]) + 1);
            h = mix(h, v, sizeof v);
        }
        paths_free(&ps);
    }
    return h;
}

/* ---- loading ----------------------------------------------------------- */

struct loader {
    triage_error_fn on_error;
    void *ctx;
    size_t nerrors;
};

static void report(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct loader *l, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    l->nerrors++;
    if (l->on_error) {
        l->on_error(l->ctx, msg);
    } else {
        char q[1100];
        log_error("rule or policy failed to load", "err=%s", kb_logq(q, sizeof q, msg));
    }
}

static void mark_source(struct triage_sets *s, const char *name)
{
    if (!name)
        return;
    if (!strcmp(name, "*")) {
        s->all_sources = true;
        return;
    }
    const struct format *f = format_by_name(name);
    if (f)
        s->applies[f->id] = true;
}

/* The sources the policy documents of text name (their `source:` key, a
 * name or a list); a document without one applies to every source. The
 * policy engine compiles the same key; reading it here keeps the short
 * path's decision to public facts of the files. */
static void scan_policy_sources(struct triage_sets *s, const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    for (size_t ndoc = 0; ndoc < POLICY_MAX_DOCS; ndoc++) {
        yaml_document_t doc;
        if (!yaml_parser_load(&p, &doc))
            break; /* the loader reports the syntax error */
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        bool found = false;
        if (root->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
                 pr < root->data.mapping.pairs.top; pr++) {
                yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
                yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
                if (!k || k->type != YAML_SCALAR_NODE || strcmp((char *)k->data.scalar.value, "source"))
                    continue;
                if (v && v->type == YAML_SCALAR_NODE) {
                    mark_source(s, (const char *)v->data.scalar.value);
                    found = true;
                } else if (v && v->type == YAML_SEQUENCE_NODE) {
                    found = true;
                    for (yaml_node_item_t *it = v->data.sequence.items.start;
                         it < v->data.sequence.items.top; it++) {
                        yaml_node_t *e = yaml_document_get_node(&doc, *it);
                        if (e && e->type == YAML_SCALAR_NODE)
                            mark_source(s, (const char *)e->data.scalar.value);
                        else
                            s->all_sources = true;
                    }
                }
            }
        }
        if (!found)
            s->all_sources = true;
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&p);
}

static void load_policy_text(struct triage_sets *s, struct loader *l, const char *text,
                             size_t len, const char *name)
{
    size_t before = policy_set_nerrors(s->ps), n = 0;
    struct kb_why why = {{0}};
    kb_err e = policy_load_buffer(s->ps, text, len, name, &n, &why);
    size_t after = policy_set_nerrors(s->ps);
    for (size_t k = before; k < after; k++) {
        const char *m = policy_set_error(s->ps, k);
        report(l, "%s", m ? m : "(more errors)");
    }
    if (e && after == before)
        report(l, "%s", why.msg[0] ? why.msg : kb_strerror(e));
    if (n)
        scan_policy_sources(s, text, len);
}

static void load_policies(struct triage_sets *s, const struct triage_opts *o, struct loader *l)
{
    struct kb_why why = {{0}};
    if (policy_set_new(&s->ps, &why)) {
        report(l, "policies: %s", why.msg);
        return;
    }
    if (o->stock_policies)
        for (const struct kb_embedded *emb = kb_stock_policies; emb->name; emb++) {
            char name[256];
            snprintf(name, sizeof name, "stock/%s", emb->name);
            load_policy_text(s, l, emb->data, emb->len, name);
        }
    struct paths ps;
    paths_get(o->policies_dir, false, &ps);
    if (o->policies_dir && *o->policies_dir) {
        struct stat sb;
        errno = 0;
        if (stat(o->policies_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            report(l, "%s: policies.dir: %s", o->policies_dir,
                   errno ? strerror(errno) : "not a folder");
    }
    if (ps.truncated)
        report(l, "%s: more than %d policy files", o->policies_dir, TRIAGE_MAX_FILES);
    for (size_t i = 0; i < ps.n; i++) {
        FILE *f = fopen(ps.v[i], "rb");
        if (!f) {
            report(l, "%s: %s", ps.v[i], strerror(errno));
            continue;
        }
        struct buf b = BUF_INIT(POLICY_MAX_FILE_BYTES + 1);
        char chunk[65536];
        size_t r;
        kb_err e = KB_OK;
        while (!e && (r = fread(chunk, 1, sizeof chunk, f)) > 0)
            e = buf_append(&b, chunk, r);
        fclose(f);
        if (e || b.len > POLICY_MAX_FILE_BYTES)
            report(l, "%s: larger than %u bytes", ps.v[i], POLICY_MAX_FILE_BYTES);
        else
            load_policy_text(s, l, b.p ? b.p : "", b.len, ps.v[i]);
        buf_release(&b);
    }
    paths_free(&ps);
    s->npolicies = policy_set_count(s->ps);
    if (!s->npolicies) {
        policy_set_free(s->ps);
        s->ps = NULL;
    }
}

static void load_rules(struct triage_sets *s, const struct triage_opts *o, struct loader *l)
{
    if (!o->rules_dir || !*o->rules_dir)
        return;
    struct stat sb;
    errno = 0;
    if (stat(o->rules_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        report(l, "%s: rules.dir: %s", o->rules_dir, errno ? strerror(errno) : "not a folder");
        return;
    }
    struct kb_why why = {{0}};
    struct sigma_options opt;
    memset(&opt, 0, sizeof opt);
    struct sigma_mapfile *map = NULL;
    if (o->rules_mapping) {
        if (sigma_mapfile_load(o->rules_mapping, &map, &why)) {
            report(l, "rules.mapping: %s", why.msg); /* no rules rather than wrong ones */
            return;
        }
        sigma_mapfile_apply(map, &opt);
    }
    kb_err ne = sigma_ruleset_new(&opt, &s->rs, &why);
    sigma_mapfile_free(map); /* the ruleset copied the tables */
    if (ne) {
        report(l, "rules: %s", why.msg);
        return;
    }
    struct paths ps;
    paths_get(o->rules_dir, true, &ps);
    if (ps.truncated)
        report(l, "%s: more than %d rule files", o->rules_dir, TRIAGE_MAX_FILES);
    for (size_t i = 0; i < ps.n; i++) {
        size_t before = sigma_ruleset_nerrors(s->rs);
        kb_err e = sigma_load_file(ps.v[i], s->rs, NULL, &why);
        size_t after = sigma_ruleset_nerrors(s->rs);
        for (size_t k = before; k < after; k++) {
            const char *m = sigma_ruleset_error(s->rs, k);
            report(l, "%s", m ? m : "(more errors)");
        }
        if (e && after == before)
            report(l, "%s", why.msg[0] ? why.msg : kb_strerror(e));
    }
    paths_free(&ps);
    s->nrules = sigma_ruleset_count(s->rs);
    for (size_t i = 0; i < s->nrules; i++)
        mark_source(s, sigma_rule_source(sigma_ruleset_rule(s->rs, i)));
    s->ncorr = sigma_ruleset_ncorrelations(s->rs);
    if (s->ncorr &&
        corr_engine_new(sigma_ruleset_correlations(s->rs), s->ncorr, NULL, &s->corr, &why)) {
        report(l, "%s: correlation: %s", o->rules_dir, why.msg);
        s->corr = NULL;
    }
    for (size_t i = 0; s->corr && i < s->ncorr; i++) {
        const struct corr_rule *cr = sigma_ruleset_correlations(s->rs)[i];
        for (size_t k = 0; !cr->generate && k < cr->nrules; k++) {
            const struct sigma_rule *br = sigma_ruleset_find(s->rs, cr->rules[k]);
            if (!br)
                continue;
            s->quiet = kb_realloc(s->quiet, (s->nquiet + 1) * sizeof *s->quiet);
            s->quiet[s->nquiet++] = br;
        }
    }
    if (s->nquiet)
        qsort(s->quiet, s->nquiet, sizeof *s->quiet, cmp_ptr);
    if (!s->nrules) {
        corr_engine_free(s->corr);
        sigma_ruleset_free(s->rs);
        s->rs = NULL;
        s->corr = NULL;
        s->ncorr = 0;
    }
}

static void sets_free(struct triage_sets *s)
{
    if (!s)
        return;
    free(s->quiet);
    corr_engine_free(s->corr);
    sigma_ruleset_free(s->rs);
    policy_set_free(s->ps);
    free(s);
}

static struct triage_sets *sets_load(const struct triage_opts *o, struct loader *l)
{
    struct triage_sets *s = kb_calloc(1, sizeof *s);
    load_rules(s, o, l);
    load_policies(s, o, l);
    return s;
}

static void publish_counts(struct triage *t)
{
    atomic_store(&t->n_rules, t->sets->nrules);
    atomic_store(&t->n_corr, t->sets->ncorr);
    atomic_store(&t->n_policies, t->sets->npolicies);
}

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
    t->sig = files_signature(&t->o);
    struct loader l = {on_error, ctx, 0};
    t->sets = sets_load(&t->o, &l);
    publish_counts(t);
    pthread_mutex_init(&t->pool_mu, NULL);
    /* Generations start somewhere new in each process, so a summary made by
     * an earlier process (a journal tail replayed at start, perhaps under
     * other rules) never passes for one of ours. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    t->gen = ((uint64_t)now.tv_sec << 32 ^ (uint64_t)now.tv_nsec << 8 ^ (uint64_t)getpid()) | 1;
    t->gen_sig = t->sig;
    for (size_t i = 0; i < TRIAGE_EVALUATORS; i++)
        eval_init(t, &t->pool[i]);
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
        eval_release(&t->pool[i]);
    pthread_mutex_destroy(&t->pool_mu);
    sets_free(t->sets);
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

static bool sets_apply(const struct triage_sets *s, const char *source)
{
    if (!s->rs && !s->ps)
        return false;
    if (s->all_sources)
        return true;
    const struct format *f = source ? format_by_name(source) : NULL;
    return !f || s->applies[f->id];
}

bool triage_applies(const struct triage *t, const char *source)
{
    return sets_apply(t->sets, source);
}

/* ---- evaluation -------------------------------------------------------- */

void triage_batch_begin(struct triage *t)
{
    t->fresh_from = t->seen_max + 1;
}

/* What a policy result says, as the JSON texts an issue records, written
 * into the three buffers; *it points into them. */
static void triage_texts(const struct policy_result *res, const char *rules_json,
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
static const char *rules_text(struct buf *b, const char *rule_id)
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
    const char *rules_json = rules_text(&t->jrules, rule_id);
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
    bool quiet = ts->nquiet && bsearch(&r, ts->quiet, ts->nquiet, sizeof *ts->quiet, cmp_ptr);
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

/* ---- intake: the stateless part ---------------------------------------- */

static kb_err no_state(void *ctx, const uint8_t fp[16], int64_t since_ms, uint64_t *n)
{
    (void)ctx, (void)fp, (void)since_ms;
    *n = 0; /* the result says state_used: the pipeline settles it */
    return KB_OK;
}

static void eval_init(struct triage *t, struct triage_eval *ev)
{
    memset(ev, 0, sizeof *ev);
    memcpy(ev->rule_identity, t->rule_identity, sizeof ev->rule_identity);
    ev->st = (struct policy_state){.occurrences = no_state};
    buf_init(&ev->jrules, 16384);
    buf_init(&ev->jpolicies, 16384);
    buf_init(&ev->jlabels, 16384);
    buf_init(&ev->jannot, 65536);
}

static void eval_release(struct triage_eval *ev)
{
    sets_free(ev->sets);
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
        sets_free(ev->sets);
        uint64_t before = files_signature(&t->o);
        struct loader l = {silent, NULL, 0};
        ev->sets = sets_load(&t->o, &l);
        ev->valid = before == want_sig && files_signature(&t->o) == want_sig;
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
    return sets_apply(ev->sets, source);
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
    const char *rules_json = rules_text(&ev->jrules, rule_id);
    if (rule_id && !rules_json)
        return KB_EUNSUPPORTED;
    if (!ev->sets->ps || !sets_apply(ev->sets, a->source)) {
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
    if (ts->rs && sets_apply(ts, a->source)) {
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

/* ---- reload ------------------------------------------------------------ */

void triage_request_reload(struct triage *t)
{
    atomic_store(&t->reload_asked, true);
}

kb_err triage_reload(struct triage *t, size_t *nerrors)
{
    if (t->o.geoip_db) { /* a replaced database file is taken on reload */
        struct geoip *g = NULL;
        struct kb_why gw = {{0}};
        if (geoip_open(t->o.geoip_db, &g, &gw) == KB_OK) {
            geoip_close(t->geo);
            t->geo = g;
        } else {
            char q[400];
            log_error("GeoIP database not reopened: the previous one stays", "err=%s",
                      kb_logq(q, sizeof q, gw.msg));
        }
    }
    uint64_t sig = files_signature(&t->o);
    struct loader l = {NULL, NULL, 0};
    struct triage_sets *s = sets_load(&t->o, &l);
    t->sig = sig; /* a broken file is not retried until it changes again */
    if (nerrors)
        *nerrors = l.nerrors;
    if (l.nerrors) {
        sets_free(s);
        atomic_fetch_add(&t->reload_failures, 1);
        log_error("rules and policies not reloaded: the previous ones stay", "errors=%zu",
                  l.nerrors);
        return KB_EINVAL;
    }
    sets_free(t->sets);
    t->sets = s;
    pthread_mutex_lock(&t->pool_mu);
    t->gen++; /* intake summaries of older generations take the full path */
    t->gen_sig = sig;
    pthread_mutex_unlock(&t->pool_mu);
    publish_counts(t);
    atomic_fetch_add(&t->reloads, 1);
    log_info("rules and policies reloaded", "rules=%zu correlations=%zu policies=%zu",
             s->nrules, s->ncorr, s->npolicies);
    return KB_OK;
}

void triage_maybe_reload(struct triage *t)
{
    bool asked = atomic_exchange(&t->reload_asked, false);
    if (!asked && !t->o.no_watch && kb_mono_ns() - t->polled_ns >= TRIAGE_POLL_MS * 1000000LL) {
        t->polled_ns = kb_mono_ns();
        asked = files_signature(&t->o) != t->sig;
        if (asked)
            log_info("rule or policy files changed: reloading", NULL);
    }
    if (asked)
        triage_reload(t, NULL);
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
