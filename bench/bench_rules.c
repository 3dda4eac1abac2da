/*
 * bench_rules.c — Sigma matching throughput with few and with many rules,
 * indexed (sigma_match_all) against the plain loop (sigma_match_all_naive).
 *
 *   bench_rules [--data DIR] [--evals N] [--runs R] [--max-run-s S]
 *
 * Events: the real CloudTrail records under DIR/cloudtrail (default DIR:
 * $KOBAN_SOURCE_DIR/../shared/data; stratus/ files hold JSON arrays, otrf/
 * JSON lines), each compacted onto one line as it would arrive over HTTP,
 * parsed once. A measurement cycles over them for N evaluations (default
 * 1,000,000) or S seconds (default 1.5), whichever ends first, and counts
 * events per second on one core. Rule sets:
 *   aws  DIR/sigma/rules/cloud/aws (57 CloudTrail rules)
 *   all  every .yml under DIR/sigma/rules, rules-emerging-threats and
 *        rules-threat-hunting (about 3,777 files)
 * For each set: load time; matching with source "cloudtrail" (what koban
 * does with a CloudTrail event), indexed and naive, on parsed events;
 * end to end (json_parse + match) indexed. For the big set also source
 * NULL (every rule considered for every event: the index's worst case).
 * Each figure is the median of R runs (default 5). Human lines go to
 * stderr; one machine line to stdout for bench/run.sh:
 *
 *   bench_rules aws_rules=57 aws_load_ms=... aws_indexed_eps=... ...
 *
 * Exit 2 when the data is absent or an indexed pass disagrees with the
 * naive one (the number of matches over the events differs).
 * Ownership: everything is local to main and freed before exit.
 */
#include "lib/arena.h"
#include "lib/json.h"
#include "rules/sigma.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define MAX_EVENTS 100000
#define MAX_FILES 20000
#define MAX_RUNS 15
#define MAX_FILE_BYTES (256u * 1024 * 1024)

struct event {
    char *text; /* compact JSON, one line */
    size_t len;
    struct sigma_event ev; /* parsed once, into the shared arena */
};

struct evset {
    struct event *e;
    size_t n;
    struct arena ar;
};

struct paths {
    char **p;
    size_t n;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file under dir whose name ends with ext, sorted per folder. */
static void walk(const char *dir, const char *ext, struct paths *out, int depth)
{
    DIR *d = depth <= 8 ? opendir(dir) : NULL;
    if (!d)
        return;
    char **names = kb_calloc(MAX_FILES, sizeof *names);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < MAX_FILES)
        if (de->d_name[0] != '.')
            names[n++] = kb_strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int k = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t nl = strlen(names[i]), el = strlen(ext);
        if (k > 0 && (size_t)k < sizeof path && stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                walk(path, ext, out, depth + 1);
            else if (nl >= el && strcmp(names[i] + nl - el, ext) == 0 && out->n < MAX_FILES) {
                out->p = kb_realloc(out->p, (out->n + 1) * sizeof *out->p);
                out->p[out->n++] = kb_strdup(path);
            }
        }
        free(names[i]);
    }
    free(names);
}

static void paths_free(struct paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->p[i]);
    free(p->p);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    size_t want = fstat(fileno(f), &st) == 0 && st.st_size > 0 &&
                          (uint64_t)st.st_size <= MAX_FILE_BYTES
                      ? (size_t)st.st_size
                      : 0;
    char *p = kb_malloc(want + 1);
    *len = fread(p, 1, want, f);
    p[*len] = '\0';
    fclose(f);
    return p;
}

/* JSON text without the whitespace between tokens (input is valid JSON). */
static char *compact(const char *s, size_t n, size_t *outn)
{
    char *o = kb_malloc(n + 1);
    size_t k = 0;
    bool str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (str) {
            str = esc || c != '"';
            esc = !esc && c == '\\';
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            continue;
        } else if (c == '"') {
            str = true;
        }
        o[k++] = c;
    }
    o[k] = '\0';
    *outn = k;
    return o;
}

static void add_event(struct evset *es, const char *text, size_t len)
{
    if (es->n >= MAX_EVENTS)
        return;
    struct event *e = &es->e[es->n];
    e->text = compact(text, len, &e->len);
    struct json_value *root = NULL;
    if (json_parse(e->text, e->len, NULL, &es->ar, &root, NULL) != KB_OK) {
        free(e->text);
        return;
    }
    e->ev = (struct sigma_event){root, e->text, e->len};
    es->n++;
}

/* A file holds JSON arrays, {"Records":[...]} objects or JSON lines. */
static void load_events(const char *path, struct evset *es)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    struct arena tmp = ARENA_INIT((size_t)8 * MAX_FILE_BYTES);
    for (size_t off = 0; text && off < len;) {
        while (off < len && (text[off] == ' ' || text[off] == '\n' || text[off] == '\r' ||
                             text[off] == '\t'))
            off++;
        struct json_value *v = NULL;
        size_t used = 0;
        if (off >= len ||
            json_parse_prefix(text + off, len - off, NULL, &tmp, &v, &used, NULL) != KB_OK ||
            used == 0)
            break;
        const char *in = text + off;
        const struct json_value *recs = v->type == JSON_ARRAY ? v : json_get(v, "Records");
        if (recs && recs->type == JSON_ARRAY) {
            for (const struct json_value *c = recs->u.child; c; c = c->next)
                add_event(es, in + c->src_off, c->src_len);
        } else {
            add_event(es, in + v->src_off, v->src_len);
        }
        off += used;
    }
    arena_release(&tmp);
    free(text);
}

static double median(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: n <= MAX_RUNS */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static kb_err count(void *ctx, const struct sigma_rule *r, const struct sigma_event *ev)
{
    (*(uint64_t *)ctx)++;
    return KB_OK;
}

typedef kb_err (*match_all_fn)(const struct sigma_ruleset *, const char *,
                               const struct sigma_event *, sigma_match_fn, void *);

struct knobs {
    uint64_t evals;
    int runs;
    double max_run_s;
};

/* Events per second over one timed run; parse: json_parse each event too. */
static double run_once(const struct sigma_ruleset *rs, const char *source, struct evset *es,
                       match_all_fn fn, bool parse, const struct knobs *k)
{
    struct arena a = ARENA_INIT(64u << 20);
    uint64_t hits = 0, done = 0;
    int64_t t0 = kb_mono_ns(), limit = (int64_t)(k->max_run_s * 1e9), t = t0;
    size_t j = 0;
    for (; done < k->evals; done++) {
        if ((done & 1023) == 0 && done && (t = kb_mono_ns()) - t0 > limit)
            break;
        struct event *e = &es->e[j];
        j = j + 1 == es->n ? 0 : j + 1;
        if (parse) {
            struct json_value *root = NULL;
            arena_reset(&a);
            if (json_parse(e->text, e->len, NULL, &a, &root, NULL) != KB_OK)
                continue;
            struct sigma_event ev = {root, e->text, e->len};
            fn(rs, source, &ev, count, &hits);
        } else {
            fn(rs, source, &e->ev, count, &hits);
        }
    }
    t = kb_mono_ns();
    arena_release(&a);
    return t > t0 ? (double)done * 1e9 / (double)(t - t0) : 0;
}

static double run_median(const struct sigma_ruleset *rs, const char *source, struct evset *es,
                         match_all_fn fn, bool parse, const struct knobs *k)
{
    double v[MAX_RUNS];
    for (int i = 0; i < k->runs; i++)
        v[i] = run_once(rs, source, es, fn, parse, k);
    return median(v, (size_t)k->runs);
}

/* Matches over one pass of the events, and the rule evaluations it took. */
static void one_pass(const struct sigma_ruleset *rs, const char *source, struct evset *es,
                     match_all_fn fn, uint64_t *hits, uint64_t *evaluated)
{
    struct sigma_stats s0, s1;
    sigma_ruleset_stats(rs, &s0);
    *hits = 0;
    for (size_t i = 0; i < es->n; i++)
        fn(rs, source, &es->e[i].ev, count, hits);
    sigma_ruleset_stats(rs, &s1);
    *evaluated = s1.evaluated - s0.evaluated;
}

/* Loads the files R times (median load time); keeps the last ruleset. */
static struct sigma_ruleset *load_rules(const struct paths *files, const struct knobs *k,
                                        double *ms, size_t *nrules)
{
    double v[MAX_RUNS];
    struct sigma_ruleset *rs = NULL;
    for (int i = 0; i < k->runs; i++) {
        sigma_ruleset_free(rs);
        rs = NULL;
        int64_t t0 = kb_mono_ns();
        if (sigma_ruleset_new(NULL, &rs, NULL) != KB_OK)
            return NULL;
        for (size_t f = 0; f < files->n; f++)
            sigma_load_file(files->p[f], rs, NULL, NULL);
        v[i] = (double)(kb_mono_ns() - t0) / 1e6;
    }
    *ms = median(v, (size_t)k->runs);
    *nrules = sigma_ruleset_count(rs);
    return rs;
}

struct result {
    size_t rules;
    double load_ms, idx, naive, e2e, any_idx, any_naive;
    uint64_t hits, eval_idx, eval_naive, any_hits, any_eval_idx, any_eval_naive;
    bool same;
};

static void measure(const char *name, const struct paths *files, struct evset *es, bool anysrc,
                    const struct knobs *k, struct result *r)
{
    struct sigma_ruleset *rs = load_rules(files, k, &r->load_ms, &r->rules);
    if (!rs)
        return;
    uint64_t h1, h2;
    one_pass(rs, "cloudtrail", es, sigma_match_all, &h1, &r->eval_idx);
    one_pass(rs, "cloudtrail", es, sigma_match_all_naive, &h2, &r->eval_naive);
    r->hits = h1;
    r->same = h1 == h2;
    r->idx = run_median(rs, "cloudtrail", es, sigma_match_all, false, k);
    r->naive = run_median(rs, "cloudtrail", es, sigma_match_all_naive, false, k);
    r->e2e = run_median(rs, "cloudtrail", es, sigma_match_all, true, k);
    fprintf(stderr,
            "%s: %zu rules (%zu files) loaded in %.0f ms; per pass of %zu events: %llu matches, "
            "%llu evaluations indexed, %llu naive%s\n"
            "  source cloudtrail: indexed %.0f ev/s, naive %.0f ev/s (%.1fx); "
            "end to end with json_parse %.0f ev/s\n",
            name, r->rules, files->n, r->load_ms, es->n, (unsigned long long)h1,
            (unsigned long long)r->eval_idx, (unsigned long long)r->eval_naive,
            r->same ? "" : " — MISMATCH with naive", r->idx, r->naive,
            r->naive > 0 ? r->idx / r->naive : 0, r->e2e);
    if (anysrc) {
        one_pass(rs, NULL, es, sigma_match_all, &h1, &r->any_eval_idx);
        one_pass(rs, NULL, es, sigma_match_all_naive, &h2, &r->any_eval_naive);
        r->any_hits = h1;
        r->same = r->same && h1 == h2;
        r->any_idx = run_median(rs, NULL, es, sigma_match_all, false, k);
        r->any_naive = run_median(rs, NULL, es, sigma_match_all_naive, false, k);
        fprintf(stderr,
                "  source NULL (every rule considered): %llu matches, %llu evaluations indexed, "
                "%llu naive%s; indexed %.0f ev/s, naive %.0f ev/s (%.1fx)\n",
                (unsigned long long)h1, (unsigned long long)r->any_eval_idx,
                (unsigned long long)r->any_eval_naive, h1 == h2 ? "" : " — MISMATCH", r->any_idx,
                r->any_naive, r->any_naive > 0 ? r->any_idx / r->any_naive : 0);
    }
    sigma_ruleset_free(rs);
}

int main(int argc, char **argv)
{
    char data[4096];
    snprintf(data, sizeof data, "%s/../shared/data", KOBAN_SOURCE_DIR);
    struct knobs k = {1000000, 5, 1.5};
    for (int i = 1; i + 1 < argc; i += 2) {
        char *end = NULL;
        if (!strcmp(argv[i], "--data"))
            snprintf(data, sizeof data, "%s", argv[i + 1]);
        else if (!strcmp(argv[i], "--evals"))
            k.evals = strtoull(argv[i + 1], &end, 10);
        else if (!strcmp(argv[i], "--runs"))
            k.runs = (int)strtol(argv[i + 1], &end, 10);
        else if (!strcmp(argv[i], "--max-run-s"))
            k.max_run_s = strtod(argv[i + 1], &end);
        else
            end = argv[i];
        if (end && *end) {
            fprintf(stderr, "usage: bench_rules [--data DIR] [--evals N] [--runs R] "
                            "[--max-run-s S]\n");
            return 2;
        }
    }
    k.runs = KB_MAX(1, KB_MIN(k.runs, MAX_RUNS));
    k.evals = KB_MAX(1000, KB_MIN(k.evals, 100000000ULL));
    k.max_run_s = KB_MAX(0.05, KB_MIN(k.max_run_s, 60.0));

    char dir[4200];
    struct evset es = {.e = kb_calloc(MAX_EVENTS, sizeof *es.e), .ar = ARENA_INIT(1u << 30)};
    struct paths evfiles = {0}, aws = {0}, all = {0};
    snprintf(dir, sizeof dir, "%s/cloudtrail", data);
    walk(dir, ".json", &evfiles, 0);
    for (size_t i = 0; i < evfiles.n; i++)
        load_events(evfiles.p[i], &es);
    snprintf(dir, sizeof dir, "%s/sigma/rules/cloud/aws", data);
    walk(dir, ".yml", &aws, 0);
    static const char *const subs[] = {"rules", "rules-emerging-threats", "rules-threat-hunting"};
    for (size_t i = 0; i < KB_ARRAY_LEN(subs); i++) {
        snprintf(dir, sizeof dir, "%s/sigma/%s", data, subs[i]);
        walk(dir, ".yml", &all, 0);
    }
    int rc = 0;
    if (es.n == 0 || aws.n == 0 || all.n == 0) {
        fprintf(stderr, "bench_rules: no events or rules under %s\n", data);
        rc = 2;
        goto out;
    }
    fprintf(stderr, "bench_rules: %zu CloudTrail events from %zu files; up to %llu evaluations "
            "or %.1f s per run, median of %d runs\n", es.n, evfiles.n,
            (unsigned long long)k.evals, k.max_run_s, k.runs);
    struct result ra = {0}, rl = {0};
    measure("aws", &aws, &es, false, &k, &ra);
    measure("all", &all, &es, true, &k, &rl);
    double pct = ra.idx > 0 ? 100.0 * rl.idx / ra.idx : 0;
    double pct_any = ra.idx > 0 ? 100.0 * rl.any_idx / ra.idx : 0;
    fprintf(stderr, "all vs aws (indexed, source cloudtrail): %.0f%%; source NULL: %.0f%%\n", pct,
            pct_any);
    printf("bench_rules events=%zu aws_rules=%zu aws_load_ms=%.1f aws_indexed_eps=%.0f "
           "aws_naive_eps=%.0f aws_ratio=%.2f aws_e2e_eps=%.0f aws_matches=%llu "
           "all_rules=%zu all_load_ms=%.1f all_indexed_eps=%.0f all_naive_eps=%.0f "
           "all_ratio=%.2f all_e2e_eps=%.0f all_vs_aws_pct=%.1f anysrc_indexed_eps=%.0f "
           "anysrc_naive_eps=%.0f anysrc_ratio=%.2f anysrc_vs_aws_pct=%.1f same_matches=%d\n",
           es.n, ra.rules, ra.load_ms, ra.idx, ra.naive, ra.naive > 0 ? ra.idx / ra.naive : 0,
           ra.e2e, (unsigned long long)ra.hits, rl.rules, rl.load_ms, rl.idx, rl.naive,
           rl.naive > 0 ? rl.idx / rl.naive : 0, rl.e2e, pct, rl.any_idx, rl.any_naive,
           rl.any_naive > 0 ? rl.any_idx / rl.any_naive : 0, pct_any, ra.same && rl.same);
    if (!ra.same || !rl.same)
        rc = 2;
out:
    for (size_t i = 0; i < es.n; i++)
        free(es.e[i].text);
    free(es.e);
    arena_release(&es.ar);
    paths_free(&evfiles);
    paths_free(&aws);
    paths_free(&all);
    return rc;
}
