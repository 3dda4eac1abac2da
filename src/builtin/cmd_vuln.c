/* cmd_vuln.c — `koban vuln check`: inventories matched against OSV advisories,
 * for a repository's CI (exit 1 at or above --fail-on). */
#include "builtin/builtin.h"
#include "builtin/cmd_vuln.h"

#include "formats/alert.h"
#include "lib/arena.h"
#include "lib/jsonw.h"
#include "vuln/advisory_index.h"
#include "vuln/inventory.h"
#include "vuln/version.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VC_MAX_FINDINGS 1000000 /* per run; more is an error */
#define VC_MAX_FILES 10000      /* FILE arguments */

const struct builtin builtin_vuln = {
    "vuln",
    cmd_vuln,
    "vulnerabilities: feeds, inventories, findings, triage, CI check",
    "usage: koban vuln sync [--mirror DIR] [--offline SRC] [--feed NAME]...\n"
    "       koban vuln inventory ASSET FILE... | --local [--kind K] [--label K=V]...\n"
    "       koban vuln advisory add FILE|DIR...\n"
    "       koban vuln search PACKAGE [--json]\n"
    "       koban vuln list [--state S] [--asset A] [--severity S] [--suspected] [--json]\n"
    "       koban vuln show FINDING|ISSUE [--json]\n"
    "       koban vuln triage FINDING|ISSUE --status STATUS [--justification J]\n"
    "                         [--until DATE] [--note TEXT] | --expire\n"
    "       koban vuln vex export [--asset A] | vex import FILE\n"
    "       koban vuln check --osv DIR [--format NAME] [--fail-on SEVERITY]\n"
    "                        [--json | --sarif] FILE...\n\n"
    "Each subcommand explains itself with --help; docs/VULN.md has the whole\n"
    "picture (feeds, the store, matching, severity, triage).\n\n"
    "check    reads each FILE as an inventory (a lockfile, an SBOM or a package\n"
    "         database; the format is detected from the name and content, or\n"
    "         forced with --format) and matches every package against the OSV\n"
    "         records (*.json) under --osv DIR. One line per finding: severity,\n"
    "         file, ecosystem, package and installed version, the advisory\n"
    "         group (a CVE id when known) with its aliases, and the version\n"
    "         that fixes it or \"no fix\"; then a summary.\n\n"
    "--osv DIR          OSV records, e.g. an unpacked osv.dev export or a mirror\n"
    "                   written by koban vuln sync --mirror (required)\n"
    "--format NAME      dpkg, rpm, apk, package-lock, yarn.lock, pnpm-lock,\n"
    "                   Gemfile.lock, go.mod, go.sum, requirements.txt,\n"
    "                   poetry.lock, Cargo.lock, composer.lock, cyclonedx, spdx\n"
    "--fail-on SEV      exit 1 when a finding is at or above SEV (low, medium,\n"
    "                   high, critical); default none: findings alone exit 0\n"
    "--json             one JSON object per finding and line (summary on stderr)\n"
    "--sarif            SARIF 2.1.0 for code scanning (summary on stderr)\n\n"
    "Severity: the highest CVSS base score of the advisory's vectors, computed\n"
    "by koban; else GHSA's database_specific.severity; else medium (\"no CVSS\n"
    "vector\"). Exit: 0 clean, 1 a finding at or above --fail-on, 2 a usage\n"
    "error, an unreadable FILE or advisory, or a record that does not parse\n"
    "(each named on stderr).\n",
};

struct finding {
    const char *asset, *ecosystem, *name, *version, *location;
    const char *group, *aliases, *fixed, *record, *summary, *sev_from;
    int severity;
    double score;
};

struct vc {
    struct arena arena; /* every string of the findings */
    struct finding *f;
    size_t n, cap;
    size_t unsure;
    bool full;
    /* the package being matched */
    const char *asset;
    const struct inventory_pkg *pkg;
};

static const char *vc_dup(struct vc *v, const char *s)
{
    if (!s)
        return NULL;
    const char *d = arena_strndup(&v->arena, s, strlen(s));
    if (!d)
        v->full = true;
    return d ? d : "";
}

/* The greater of two fixed versions in the ecosystem's order: upgrading to
 * it fixes both records of a group. Incomparable: the first. */
static const char *later_fix(const char *eco, const char *a, const char *b)
{
    if (!a || !b)
        return a ? a : b;
    enum version_eco ve;
    int cmp = 0;
    if (version_eco_parse(eco, &ve) != KB_OK || version_compare(ve, a, b, &cmp, NULL) != KB_OK)
        return a;
    return cmp >= 0 ? a : b;
}

static kb_err vc_hit(void *ctx, const struct advidx_hit *h)
{
    struct vc *v = ctx;
    const struct inventory_pkg *p = v->pkg;
    /* One finding per (asset, package, version, group): a group's records
     * are one vulnerability. Hits of one package arrive together. */
    for (size_t i = v->n; i-- > 0;) {
        struct finding *f = &v->f[i];
        if (f->asset != v->asset || strcmp(f->name, p->name) != 0)
            break;
        if (strcmp(f->version, p->version) || strcmp(f->ecosystem, p->ecosystem) ||
            strcmp(f->group, h->group_key))
            continue;
        const char *fx = later_fix(p->ecosystem, f->fixed, h->match->fixed);
        if (fx != f->fixed)
            f->fixed = vc_dup(v, fx);
        if (h->severity > f->severity || (h->severity == f->severity && h->score > f->score)) {
            f->severity = h->severity;
            f->score = h->score;
            f->sev_from = h->severity_from;
        }
        return KB_OK;
    }
    if (v->n >= VC_MAX_FINDINGS)
        return KB_ETOOBIG;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->f = kb_realloc(v->f, v->cap * sizeof *v->f);
    }
    struct buf al = BUF_INIT(64 * 1024);
    for (size_t i = 0; i < h->naliases; i++)
        buf_printf(&al, "%s%s", i ? ", " : "", h->aliases[i]);
    struct finding *f = &v->f[v->n++];
    *f = (struct finding){
        .asset = v->asset,
        .ecosystem = vc_dup(v, p->ecosystem),
        .name = vc_dup(v, p->name),
        .version = vc_dup(v, p->version),
        .location = vc_dup(v, p->location),
        .group = h->group_key,
        .aliases = vc_dup(v, al.p ? al.p : ""),
        .fixed = vc_dup(v, h->match->fixed),
        .record = h->record->id,
        .summary = h->record->summary,
        .sev_from = h->severity_from,
        .severity = h->severity,
        .score = h->score,
    };
    buf_release(&al);
    return v->full ? KB_ETOOBIG : KB_OK;
}

static int finding_cmp(const void *a, const void *b)
{
    const struct finding *x = a, *y = b;
    if (x->severity != y->severity)
        return y->severity - x->severity;
    int c = strcmp(x->name, y->name);
    if (!c)
        c = strcmp(x->version, y->version);
    if (!c)
        c = strcmp(x->asset, y->asset);
    if (!c)
        c = strcmp(x->group, y->group);
    return c;
}

/* The line of "FILE:LINE" locations; 0 for JSON paths and the like. */
static long location_line(const char *loc)
{
    const char *c = loc ? strrchr(loc, ':') : NULL;
    if (!c || !c[1])
        return 0;
    char *end;
    long n = strtol(c + 1, &end, 10);
    return *end || n <= 0 ? 0 : n;
}

static void print_text(const struct finding *f)
{
    char al[512] = "";
    if (f->aliases && *f->aliases)
        snprintf(al, sizeof al, " (%s)", f->aliases);
    char fix[256];
    if (f->fixed)
        snprintf(fix, sizeof fix, "fixed in %s", f->fixed);
    else
        snprintf(fix, sizeof fix, "no fix");
    printf("%-8s %s  %s  %s %s  %s%s  %s\n", kb_severity_name(f->severity), f->asset,
           f->ecosystem, f->name, f->version, f->group, al, fix);
}

static void print_json(const struct finding *f, struct buf *out)
{
    buf_reset(out);
    struct jw w;
    jw_init(&w, out);
    jw_obj_begin(&w);
    jw_kv_str(&w, "asset", f->asset);
    jw_kv_str(&w, "location", f->location);
    jw_kv_str(&w, "ecosystem", f->ecosystem);
    jw_kv_str(&w, "package", f->name);
    jw_kv_str(&w, "version", f->version);
    jw_kv_str(&w, "advisory", f->group);
    jw_key(&w, "aliases");
    jw_arr_begin(&w);
    for (const char *s = f->aliases; s && *s;) {
        const char *e = strstr(s, ", ");
        size_t n = e ? (size_t)(e - s) : strlen(s);
        jw_strn(&w, s, n);
        s = e ? e + 2 : s + n;
    }
    jw_arr_end(&w);
    jw_kv_str(&w, "record", f->record);
    jw_kv_str(&w, "severity", kb_severity_name(f->severity));
    jw_key(&w, "cvss_score");
    if (f->score >= 0)
        jw_double(&w, f->score);
    else
        jw_null(&w);
    jw_kv_str(&w, "severity_from", f->sev_from);
    jw_kv_str(&w, "fixed", f->fixed);
    jw_kv_str(&w, "summary", f->summary);
    jw_obj_end(&w);
    if (jw_finish(&w) == KB_OK)
        printf("%s\n", out->p);
}

static const char *sarif_level(int sev)
{
    return sev >= KB_SEV_HIGH ? "error" : sev == KB_SEV_MEDIUM ? "warning" : "note";
}

struct rg {
    const char *group;
    size_t i;
};

static int rg_cmp(const void *a, const void *b)
{
    const struct rg *x = a, *y = b;
    int c = strcmp(x->group, y->group);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int print_sarif(const struct finding *f, size_t n)
{
    struct buf out = BUF_INIT((size_t)1 << 30);
    struct jw w;
    jw_init(&w, &out);
    jw_obj_begin(&w);
    jw_kv_str(&w, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    jw_kv_str(&w, "version", "2.1.0");
    jw_key(&w, "runs");
    jw_arr_begin(&w);
    jw_obj_begin(&w);
    jw_key(&w, "tool");
    jw_obj_begin(&w);
    jw_key(&w, "driver");
    jw_obj_begin(&w);
    jw_kv_str(&w, "name", "koban");
    jw_key(&w, "rules");
    jw_arr_begin(&w);
    /* One rule per advisory group, in first-seen order. Groups are found
     * through a copy sorted by (group, index), so many findings stay
     * n log n. */
    size_t m = n ? n : 1;
    struct rg *ord = kb_calloc(m, sizeof *ord);
    size_t *first = kb_calloc(m, sizeof *first), *rule_of = kb_calloc(m, sizeof *rule_of);
    for (size_t i = 0; i < n; i++)
        ord[i] = (struct rg){f[i].group, i};
    if (n)
        qsort(ord, n, sizeof *ord, rg_cmp);
    for (size_t k = 0, start = 0; k < n; k++) {
        if (k && strcmp(ord[k].group, ord[k - 1].group) != 0)
            start = k;
        first[ord[k].i] = ord[start].i;
    }
    size_t nrules = 0;
    for (size_t i = 0; i < n; i++) {
        if (first[i] != i) {
            rule_of[i] = rule_of[first[i]];
            continue;
        }
        rule_of[i] = nrules++;
        jw_obj_begin(&w);
        jw_kv_str(&w, "id", f[i].group);
        jw_key(&w, "shortDescription");
        jw_obj_begin(&w);
        jw_kv_str(&w, "text", f[i].summary ? f[i].summary : f[i].group);
        jw_obj_end(&w);
        jw_key(&w, "properties");
        jw_obj_begin(&w);
        if (f[i].score >= 0) {
            char s[16];
            snprintf(s, sizeof s, "%.1f", f[i].score);
            jw_kv_str(&w, "security-severity", s);
        }
        jw_key(&w, "tags");
        jw_arr_begin(&w);
        jw_str(&w, "security");
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w); /* driver */
    jw_obj_end(&w); /* tool */
    jw_key(&w, "results");
    jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        jw_obj_begin(&w);
        jw_kv_str(&w, "ruleId", f[i].group);
        jw_kv_int(&w, "ruleIndex", (int64_t)rule_of[i]);
        jw_kv_str(&w, "level", sarif_level(f[i].severity));
        jw_key(&w, "message");
        jw_obj_begin(&w);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s %s (%s) is affected by %s (%s severity); %s%s",
                 f[i].name, f[i].version, f[i].ecosystem, f[i].group,
                 kb_severity_name(f[i].severity), f[i].fixed ? "fixed in " : "no fix",
                 f[i].fixed ? f[i].fixed : "");
        jw_kv_str(&w, "text", msg);
        jw_obj_end(&w);
        jw_key(&w, "locations");
        jw_arr_begin(&w);
        jw_obj_begin(&w);
        jw_key(&w, "physicalLocation");
        jw_obj_begin(&w);
        jw_key(&w, "artifactLocation");
        jw_obj_begin(&w);
        jw_kv_str(&w, "uri", f[i].asset);
        jw_obj_end(&w);
        long line = location_line(f[i].location);
        if (line > 0) {
            jw_key(&w, "region");
            jw_obj_begin(&w);
            jw_kv_int(&w, "startLine", line);
            jw_obj_end(&w);
        }
        jw_obj_end(&w); /* physicalLocation */
        jw_obj_end(&w);
        jw_arr_end(&w);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w); /* run */
    jw_arr_end(&w);
    jw_obj_end(&w);
    free(rule_of);
    free(first);
    free(ord);
    kb_err e = jw_finish(&w);
    if (e == KB_OK)
        printf("%s\n", out.p);
    buf_release(&out);
    return e == KB_OK ? 0 : builtin_error("vuln", "SARIF output over 1 GiB");
}

struct vc_opts {
    const char *osv, *format;
    int fail_on; /* -1: none */
    bool json, sarif;
};

/* Reads and matches one inventory file. Returns 0, or 2 after naming the
 * problem. The file name is kept (argv outlives the findings). */
static int vc_file(struct vc *v, const struct advidx *idx, const struct vc_opts *o,
                   const char *path, size_t *npkgs)
{
    struct builtin_input in;
    struct kb_why why = {{0}};
    if (builtin_input_open(path, INVENTORY_MAX_BYTES, &in, &why) != KB_OK) {
        builtin_error("vuln", "%s: %s", path, why.msg);
        return 2;
    }
    enum inventory_format fmt;
    kb_err e = o->format ? inventory_format_parse(o->format, &fmt)
                         : inventory_detect(path, in.p, in.n, &fmt);
    if (e != KB_OK) {
        builtin_input_close(&in);
        builtin_error("vuln", "%s: not an inventory format koban reads (use --format)", path);
        return 2;
    }
    struct inventory inv = INVENTORY_INIT;
    e = inventory_parse(fmt, in.p, in.n, path, &inv, &why);
    builtin_input_close(&in);
    if (e != KB_OK) {
        inventory_release(&inv);
        builtin_error("vuln", "%s: %s", path, why.msg);
        return 2;
    }
    for (size_t i = 0; i < inv.nwarnings; i++)
        fprintf(stderr, "koban vuln: warning: %s\n", inv.warnings[i]);
    v->asset = path;
    int rc = 0;
    for (size_t i = 0; i < inv.n; i++) {
        v->pkg = &inv.pkgs[i];
        size_t unsure = 0;
        const struct inventory_pkg *p = &inv.pkgs[i];
        e = advidx_match(idx, p->ecosystem, p->name, p->version, vc_hit, v, &unsure);
        char src[256], srcver[256];
        /* distributions' advisories name source packages (inventory.h) */
        if ((e == KB_OK || e == KB_EINVAL) &&
            inventory_source_of(p->ecosystem, p->name, p->source, p->version, src, sizeof src,
                                srcver, sizeof srcver))
            e = advidx_match(idx, p->ecosystem, src, srcver, vc_hit, v, &unsure);
        v->unsure += unsure;
        if (e != KB_OK && e != KB_EINVAL) {
            builtin_error("vuln", "%s: more than %d findings", path, VC_MAX_FINDINGS);
            rc = 2;
            break;
        }
    }
    v->pkg = NULL; /* it pointed into inv */
    *npkgs += inv.n;
    inventory_release(&inv);
    return rc;
}

static int vuln_check(const struct vc_opts *o, int nfiles, char **files)
{
    struct advidx *idx;
    struct kb_why why = {{0}};
    advidx_new(&idx);
    int rc = 0;
    if (advidx_add_dir(idx, o->osv, NULL, &why) != KB_OK) {
        builtin_error("vuln", "--osv %s: %s", o->osv, why.msg);
        advidx_free(idx);
        return 2;
    }
    size_t nerr = 0, total = 0;
    const char *const *errs = advidx_errors(idx, &nerr, &total);
    for (size_t i = 0; i < nerr; i++)
        fprintf(stderr, "koban vuln: advisory not loaded: %s\n", errs[i]);
    if (total > nerr)
        fprintf(stderr, "koban vuln: %zu more advisories not loaded\n", total - nerr);
    if (total)
        rc = 2;
    if (advidx_finish(idx, &why) != KB_OK) {
        builtin_error("vuln", "--osv %s: %s", o->osv, why.msg);
        advidx_free(idx);
        return 2;
    }
    struct vc v = {0};
    arena_init(&v.arena, (size_t)4 << 30);
    size_t npkgs = 0;
    for (int i = 0; i < nfiles; i++)
        if (vc_file(&v, idx, o, files[i], &npkgs))
            rc = 2;
    if (v.n)
        qsort(v.f, v.n, sizeof *v.f, finding_cmp);
    size_t by_sev[KB_SEV_COUNT] = {0};
    bool fail = false;
    for (size_t i = 0; i < v.n; i++) {
        by_sev[v.f[i].severity]++;
        if (o->fail_on >= 0 && v.f[i].severity >= o->fail_on)
            fail = true;
    }
    struct buf line = BUF_INIT(1 << 20);
    if (o->sarif) {
        if (print_sarif(v.f, v.n))
            rc = 2;
    } else {
        for (size_t i = 0; i < v.n; i++)
            o->json ? print_json(&v.f[i], &line) : print_text(&v.f[i]);
    }
    buf_release(&line);
    struct advidx_stats st;
    advidx_stats(idx, &st);
    FILE *sum = o->json || o->sarif ? stderr : stdout;
    fprintf(sum,
            "%zu finding%s (%zu critical, %zu high, %zu medium, %zu low) in %d file%s, %zu "
            "package%s; %zu advisories in %zu groups",
            v.n, v.n == 1 ? "" : "s", by_sev[KB_SEV_CRITICAL], by_sev[KB_SEV_HIGH],
            by_sev[KB_SEV_MEDIUM], by_sev[KB_SEV_LOW], nfiles, nfiles == 1 ? "" : "s", npkgs,
            npkgs == 1 ? "" : "s", st.kept, st.groups);
    if (v.unsure)
        fprintf(sum, "; %zu not decidable (no release or ordering)", v.unsure);
    if (total)
        fprintf(sum, "; %zu advisor%s not loaded", total, total == 1 ? "y" : "ies");
    fputc('\n', sum);
    free(v.f);
    arena_release(&v.arena);
    advidx_free(idx);
    if (rc)
        return rc;
    return fail ? 1 : 0;
}

/* Subcommands other than check, each in its own file (cmd_vuln_*.c), called
 * with argv[0] = the subcommand's name. */
static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} vuln_subs[] = {
    {"sync", cmd_vuln_sync},
    {"inventory", cmd_vuln_inventory},
    {"advisory", cmd_vuln_advisory},
    {"search", cmd_vuln_search},
    {"list", cmd_vuln_list},
    {"show", cmd_vuln_show},
    {"triage", cmd_vuln_triage},
    {"vex", cmd_vuln_vex},
    {NULL, NULL},
};

int cmd_vuln(int argc, char **argv)
{
    for (size_t i = 0; argc > 1 && vuln_subs[i].name; i++)
        if (strcmp(argv[1], vuln_subs[i].name) == 0)
            return vuln_subs[i].fn(argc - 1, argv + 1);
    static const struct option lo[] = {
        {"osv", required_argument, NULL, 'o'},     {"format", required_argument, NULL, 'f'},
        {"fail-on", required_argument, NULL, 'F'}, {"json", no_argument, NULL, 'j'},
        {"sarif", no_argument, NULL, 's'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct vc_opts o = {.fail_on = -1};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:f:F:jsh", lo, NULL)) != -1) {
        switch (ch) {
        case 'o':
            o.osv = optarg;
            break;
        case 'f': {
            enum inventory_format f;
            if (inventory_format_parse(optarg, &f) != KB_OK)
                return builtin_error("vuln", "--format: unknown format '%s'", optarg), 2;
            o.format = optarg;
            break;
        }
        case 'F':
            if (strcmp(optarg, "none") == 0) {
                o.fail_on = -1;
            } else if (kb_severity_parse(optarg, &o.fail_on) != KB_OK ||
                       o.fail_on == KB_SEV_NONE) {
                return builtin_error("vuln",
                                     "--fail-on: '%s' is not low, medium, high, critical "
                                     "or none",
                                     optarg),
                       2;
            }
            break;
        case 'j':
            o.json = true;
            break;
        case 's':
            o.sarif = true;
            break;
        case 'h':
            printf("%s", builtin_vuln.usage);
            return 0;
        default:
            return builtin_usage(&builtin_vuln);
        }
    }
    if (optind >= argc || strcmp(argv[optind], "check") != 0)
        return builtin_usage(&builtin_vuln);
    int nfiles = argc - optind - 1;
    if (nfiles < 1 || nfiles > VC_MAX_FILES || !o.osv || (o.json && o.sarif))
        return builtin_usage(&builtin_vuln);
    return vuln_check(&o, nfiles, argv + optind + 1);
}
