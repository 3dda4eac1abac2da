/*
 * triage_load.c — the rule and policy files (listing, signature), loading
 * them into a generation of sets (with the sources they apply to), and
 * reload (triage_impl.h).
 */
#include "ingest/triage_impl.h"

#include "rules/sigma_mapfile.h"

#include "ingest/geoip.h"
#include "lib/embedded.h"
#include "lib/log.h"
#include "rules/correlate.h"
#include "rules/sigma.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <yaml.h>

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

int triage_cmp_ptr(const void *a, const void *b)
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

uint64_t triage_files_signature(const struct triage_opts *o)
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
        qsort(s->quiet, s->nquiet, sizeof *s->quiet, triage_cmp_ptr);
    if (!s->nrules) {
        corr_engine_free(s->corr);
        sigma_ruleset_free(s->rs);
        s->rs = NULL;
        s->corr = NULL;
        s->ncorr = 0;
    }
}

void triage_sets_free(struct triage_sets *s)
{
    if (!s)
        return;
    free(s->quiet);
    corr_engine_free(s->corr);
    sigma_ruleset_free(s->rs);
    policy_set_free(s->ps);
    free(s);
}

struct triage_sets *triage_sets_load(const struct triage_opts *o, struct loader *l)
{
    struct triage_sets *s = kb_calloc(1, sizeof *s);
    load_rules(s, o, l);
    load_policies(s, o, l);
    return s;
}

void triage_publish_counts(struct triage *t)
{
    atomic_store(&t->n_rules, t->sets->nrules);
    atomic_store(&t->n_corr, t->sets->ncorr);
    atomic_store(&t->n_policies, t->sets->npolicies);
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
    uint64_t sig = triage_files_signature(&t->o);
    struct loader l = {NULL, NULL, 0};
    struct triage_sets *s = triage_sets_load(&t->o, &l);
    t->sig = sig; /* a broken file is not retried until it changes again */
    if (nerrors)
        *nerrors = l.nerrors;
    if (l.nerrors) {
        triage_sets_free(s);
        atomic_fetch_add(&t->reload_failures, 1);
        log_error("rules and policies not reloaded: the previous ones stay", "errors=%zu",
                  l.nerrors);
        return KB_EINVAL;
    }
    triage_sets_free(t->sets);
    t->sets = s;
    pthread_mutex_lock(&t->pool_mu);
    t->gen++; /* intake summaries of older generations take the full path */
    t->gen_sig = sig;
    pthread_mutex_unlock(&t->pool_mu);
    triage_publish_counts(t);
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
        asked = triage_files_signature(&t->o) != t->sig;
        if (asked)
            log_info("rule or policy files changed: reloading", NULL);
    }
    if (asked)
        triage_reload(t, NULL);
}
