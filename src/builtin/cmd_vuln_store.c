/* cmd_vuln_store.c — `koban vuln inventory | advisory add | search | list |
 * show`: what the assets run and what affects them, in koban's store.
 * inventory and advisory add change findings, so their alerts go through
 * the journal into issues (builtin/vuln_sink.h); search, list and show
 * only read (cmd_vuln_findings.c). */
#include "builtin/cmd_vuln.h"
#include "builtin/serve_client.h"
#include "builtin/vuln_sink.h"

#include "formats/alert.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "store/db.h"
#include "vuln/inventory.h"
#include "vuln/osv.h"
#include "vuln/vuln_engine.h"
#include "vuln/vuln_triage.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define VS_MAX_FILES 1000000u  /* advisory files per run */
#define VS_MAX_DEPTH 16        /* directory levels */
#define VS_MAX_LABELS 64       /* --label */
#define VS_MAX_SHOWN 200       /* changes printed per inventory */
#define VS_DPKG_STATUS "/var/lib/dpkg/status"

const char *const vuln_cli_usage =
    "  -c, --config FILE   configuration (default $KOBAN_CONFIG or ./koban.yaml)\n"
    "  -d, --data-dir DIR  override data_dir\n";

int vuln_cli_load(const struct vuln_cli *c, struct kb_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    if (builtin_load_config(c->config, c->data_dir, cfg)) {
        memset(cfg, 0, sizeof *cfg); /* config_load released it */
        return 1;
    }
    return 0;
}

/* ---- inventory ---- */

struct inv_print {
    struct vuln_sink *sink;
    size_t shown, more;
};

/* Prints each change, then hands the alert to the journal. */
static kb_err inv_alert(void *ctx, const char *json, size_t len)
{
    struct inv_print *p = ctx;
    struct vuln_alert_line l;
    if (vuln_alert_line(json, len, &l)) {
        if (p->shown < VS_MAX_SHOWN) {
            printf("  %-8s %-8s %s\n", strcmp(l.state, "resolved") ? "open" : "resolved",
                   l.severity, l.title);
            p->shown++;
        } else {
            p->more++;
        }
    }
    return vuln_sink_alert(p->sink, json, len);
}

/* The labels as a JSON object into out: old's (a JSON object, or NULL)
 * with the "k=v" strings set (vuln_labels_merge). 0 or an exit code. */
static int labels_json(const char *old, char **kv, size_t n, struct buf *out)
{
    struct kb_str s[VS_MAX_LABELS];
    for (size_t i = 0; i < n && i < VS_MAX_LABELS; i++)
        s[i] = kb_str_c(kv[i]);
    struct kb_why why = {{0}};
    if (vuln_labels_merge(old, s, KB_MIN(n, (size_t)VS_MAX_LABELS), out, &why) != KB_OK)
        return builtin_error("vuln", "inventory: --%s", why.msg), 2;
    return 0;
}

/* Reads the FILEs into one text: several only of one line-based format,
 * whose files join into one inventory. */
static int inv_read(char **files, int n, const char *format, struct buf *text, const char **fname)
{
    struct kb_why why = {{0}};
    enum inventory_format first = INV_FORMAT_COUNT;
    for (int i = 0; i < n; i++) {
        struct buf one = BUF_INIT(INVENTORY_MAX_BYTES);
        if (builtin_read_file(files[i], INVENTORY_MAX_BYTES, &one, &why)) {
            buf_release(&one);
            return builtin_error("vuln", "inventory: %s: %s", files[i], why.msg);
        }
        enum inventory_format f;
        kb_err e = format ? inventory_format_parse(format, &f)
                          : inventory_detect(files[i], one.p ? one.p : "", one.len, &f);
        if (e) {
            buf_release(&one);
            return builtin_error("vuln", "inventory: %s: not an inventory format koban reads "
                                         "(use --format)", files[i]);
        }
        if (i && (f != first || (f != INV_DPKG && f != INV_RPM && f != INV_APK &&
                                 f != INV_REQUIREMENTS && f != INV_GO_SUM))) {
            buf_release(&one);
            return builtin_error("vuln", "inventory: several FILEs must all be dpkg, rpm, apk, "
                                         "requirements.txt or go.sum files of one format (%s is "
                                         "%s); give a repository's lockfiles as one SBOM",
                                 files[i], inventory_format_name(f));
        }
        first = f;
        if (i)
            buf_puts(text, f == INV_DPKG || f == INV_APK ? "\n\n" : "\n");
        if (buf_append(text, one.p ? one.p : "", one.len)) {
            buf_release(&one);
            return builtin_error("vuln", "inventory: over %u bytes in all", INVENTORY_MAX_BYTES);
        }
        buf_release(&one);
    }
    *fname = n == 1 ? files[0] : inventory_format_name(first);
    return 0;
}

/* Parses the inventory once before the engine does, for its warnings
 * (printed): one with warnings and no package is refused rather than
 * taken as "the asset runs nothing". */
static int inv_check(const char *format, const char *fname, const struct buf *text)
{
    enum inventory_format f;
    const char *p = text->p ? text->p : "";
    if (format ? inventory_format_parse(format, &f) != KB_OK
               : inventory_detect(fname, p, text->len, &f) != KB_OK)
        return builtin_error("vuln", "inventory: %s: not an inventory format koban reads (use "
                                     "--format)", fname);
    struct inventory inv = INVENTORY_INIT;
    struct kb_why why = {{0}};
    kb_err e = inventory_parse(f, p, text->len, fname, &inv, &why);
    for (size_t i = 0; !e && i < inv.nwarnings; i++)
        fprintf(stderr, "koban vuln: inventory: warning: %s\n", inv.warnings[i]);
    if (!e && inv.warnings_total > inv.nwarnings)
        fprintf(stderr, "koban vuln: inventory: %zu more warnings\n",
                inv.warnings_total - inv.nwarnings);
    int rc = e ? builtin_error("vuln", "inventory: %s", why.msg)
             : inv.n == 0 && inv.nwarnings ? builtin_error("vuln", "inventory: %s: no package "
                                                                   "read, only warnings", fname)
                                           : 0;
    inventory_release(&inv);
    return rc;
}

static int inv_run(const struct kb_config *cfg, const char *asset, const char *kind, char **labels,
                   size_t nlabels, const char *format, const char *fname, const struct buf *text)
{
    struct buf lj = BUF_INIT(64 * 1024);
    int rc = nlabels ? labels_json(NULL, labels, nlabels, &lj) : 0;
    if (!rc)
        rc = inv_check(format, fname, text);
    if (rc) {
        buf_release(&lj);
        return rc;
    }
    /* koban serve holds the journal: the inventory goes to it over HTTP */
    char addr[256];
    if (serve_addr(cfg->data_dir, addr, sizeof addr) == KB_OK) {
        buf_release(&lj);
        return serve_inventory(cfg, addr, asset, kind, format, labels, nlabels, fname,
                                      text->p ? text->p : "", text->len);
    }
    struct vuln_sink *sink = NULL;
    char hint[512];
    snprintf(hint, sizeof hint, "send the inventory to it instead: POST /v1/inventory/%s with "
                                "the file as the body", asset);
    if ((rc = vuln_sink_open("inventory", cfg, hint, &sink)) != 0) {
        buf_release(&lj);
        return rc;
    }
    struct db *db = NULL;
    struct vuln_engine *eng = NULL;
    struct vuln_triage *tr = NULL;
    struct kb_why why = {{0}};
    struct inv_print pr = {.sink = sink};
    struct vuln_engine_opts eo = {.alert = inv_alert, .ctx = &pr};
    struct vuln_eval_stats st = {0};
    rc = vuln_store_open("inventory", cfg, true, &db);
    kb_err e = KB_OK;
    if (!rc) {
        db_use_gate(db, vuln_sink_gate(sink));
        e = vuln_triage_open(db, NULL, &tr);
        if (!e)
            e = vuln_engine_open(db, &eo, &eng, &why);
        vuln_sink_filter(sink, tr);
    }
    if (!rc && !e && (kind || nlabels)) {
        /* keep what the asset had for the part not given */
        struct db_vuln_asset a;
        bool had = db_vuln_asset_get(vuln_triage_store(tr), asset, &a) == KB_OK;
        if (nlabels && had) { /* the labels named replace theirs; the others stay */
            buf_reset(&lj);
            labels_json(a.labels, labels, nlabels, &lj);
        }
        e = vuln_engine_set_asset(eng, asset, kind ? kind : had ? db_vuln_asset_kind_name(a.kind)
                                                                : "host",
                                  nlabels ? lj.p : had ? a.labels : NULL, &why);
        if (had)
            db_vuln_asset_release(&a);
    }
    if (!rc && !e)
        e = vuln_engine_replace_inventory(eng, asset, format, fname, text->p ? text->p : "",
                                          text->len, &st, &why);
    if (!rc && e)
        rc = builtin_error("vuln", "inventory: %s", why.msg[0] ? why.msg : kb_strerror(e));
    if (pr.more)
        printf("  ... and %zu more changes (see 'koban vuln list')\n", pr.more);
    if (!rc) {
        printf("%s: %zu packages; findings: %zu new, %zu updated, %zu resolved", asset,
               st.packages, st.opened, st.updated, st.resolved);
        if (st.unsure)
            printf("; %zu not decidable", st.unsure);
        printf("\n");
        rc = vuln_sink_finish(sink);
    }
    vuln_engine_close(eng);
    vuln_triage_close(tr);
    db_close(db); /* before the sink frees the gate */
    vuln_sink_close(sink);
    buf_release(&lj);
    return rc;
}

int cmd_vuln_inventory(int argc, char **argv)
{
    static const struct option lo[] = {
        {"kind", required_argument, NULL, 'k'},   {"label", required_argument, NULL, 'l'},
        {"format", required_argument, NULL, 'f'}, {"local", no_argument, NULL, 'L'},
        {"config", required_argument, NULL, 'c'}, {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    struct vuln_cli c = {0};
    const char *kind = NULL, *format = NULL;
    char *labels[VS_MAX_LABELS];
    size_t nlabels = 0;
    bool local = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "k:l:f:Lc:d:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'k': {
            int k;
            if (db_vuln_asset_kind_parse(optarg, &k))
                return builtin_error("vuln", "inventory: --kind is host or repository"), 2;
            kind = optarg;
            break;
        }
        case 'l':
            if (nlabels >= VS_MAX_LABELS)
                return builtin_error("vuln", "inventory: more than %d labels", VS_MAX_LABELS), 2;
            labels[nlabels++] = optarg;
            break;
        case 'f': {
            enum inventory_format f;
            if (inventory_format_parse(optarg, &f))
                return builtin_error("vuln", "inventory: unknown --format '%s'", optarg), 2;
            format = optarg;
            break;
        }
        case 'L': local = true; break;
        case 'c': c.config = optarg; break;
        case 'd': c.data_dir = optarg; break;
        case 'h':
            printf("usage: koban vuln inventory ASSET FILE... | --local [--kind host|repository]\n"
                   "                            [--label KEY=VALUE]... [--format NAME]\n\n"
                   "Replaces what ASSET runs with the inventory in FILE (a package database,\n"
                   "lockfile or SBOM; several FILEs only of one line-based format), matches\n"
                   "it against the stored advisories and prints what changed. Findings\n"
                   "become issues (source vuln). --local reads %s.\n%s",
                   VS_DPKG_STATUS, vuln_cli_usage);
            return 0;
        default: return 2;
        }
    }
    int nfiles = argc - optind - 1;
    if (optind >= argc || (local ? nfiles != 0 : nfiles < 1))
        return builtin_error("vuln", "usage: koban vuln inventory ASSET FILE... | --local "
                                     "(see --help)"), 2;
    const char *asset = argv[optind];
    char *dpkg[] = {(char *)VS_DPKG_STATUS};
    char **files = local ? dpkg : argv + optind + 1;
    char release[96];
    if (local) {
        nfiles = 1;
        format = format ? format : "dpkg";
        /* the release of this machine, unless a label says it */
        bool given = false;
        for (size_t i = 0; i < nlabels; i++)
            given = given || strncmp(labels[i], "release=", 8) == 0;
        char os[64];
        struct buf osr = BUF_INIT(64 * 1024);
        FILE *f = given ? NULL : fopen("/etc/os-release", "r");
        if (f) {
            char chunk[4096];
            size_t got;
            while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && buf_append(&osr, chunk, got) == KB_OK)
                ;
            fclose(f);
        }
        if (osr.len && inventory_os_release(osr.p, osr.len, os, sizeof os) &&
            nlabels < VS_MAX_LABELS) {
            snprintf(release, sizeof release, "release=%s", os);
            labels[nlabels++] = release;
        }
        buf_release(&osr);
    }
    struct kb_config cfg;
    if (vuln_cli_load(&c, &cfg))
        return 1;
    struct buf text = BUF_INIT(INVENTORY_MAX_BYTES);
    const char *fname = NULL;
    int rc = inv_read(files, nfiles, format, &text, &fname);
    if (!rc)
        rc = inv_run(&cfg, asset, kind, labels, nlabels, format, fname, &text);
    buf_release(&text);
    config_release(&cfg);
    return rc;
}

/* ---- advisory add ---- */

struct adv_add {
    struct vuln_engine *eng;
    char **ids;
    size_t n, cap, files, refused;
};

/* The "id" of an OSV record text, malloc'd, or NULL. */
static char *osv_id(const char *text, size_t len)
{
    struct arena ar;
    arena_init(&ar, (size_t)4 * OSV_MAX_BYTES);
    struct json_value *root = NULL;
    char *id = NULL;
    if (json_parse(text, len, NULL, &ar, &root, NULL) == KB_OK) {
        struct kb_str s = json_str(json_get(root, "id"));
        if (s.n)
            id = kb_strndup(s.p, s.n);
    }
    arena_release(&ar);
    return id;
}

static void adv_file(struct adv_add *a, const char *path)
{
    struct buf b = BUF_INIT(OSV_MAX_BYTES);
    struct kb_why why = {{0}};
    a->files++;
    kb_err e = builtin_read_file(path, OSV_MAX_BYTES, &b, &why);
    char *id = NULL;
    if (!e && !(id = osv_id(b.p ? b.p : "", b.len)))
        e = kb_fail(&why, KB_EPARSE, "not an OSV record (no \"id\")");
    if (!e)
        e = vuln_engine_put_advisory(a->eng, "local", b.p, b.len, &why);
    buf_release(&b);
    if (e) {
        fprintf(stderr, "koban vuln: advisory add: %s: %s\n", path, why.msg);
        a->refused++;
        free(id);
        return;
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->ids = kb_realloc(a->ids, a->cap * sizeof *a->ids);
    }
    a->ids[a->n++] = id;
}

/* A file, or every *.json under a directory (dot entries skipped). */
static void adv_walk(struct adv_add *a, const char *path, int depth, bool named)
{
    struct stat sb;
    if (a->files >= VS_MAX_FILES)
        return;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "koban vuln: advisory add: %s: cannot read\n", path);
        a->refused++;
        return;
    }
    if (!S_ISDIR(sb.st_mode)) {
        size_t n = strlen(path);
        if (named || (n > 5 && strcmp(path + n - 5, ".json") == 0))
            adv_file(a, path);
        return;
    }
    if (depth >= VS_MAX_DEPTH)
        return;
    struct dirent **ents = NULL;
    int n = scandir(path, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] != '.') {
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, ents[i]->d_name);
            adv_walk(a, sub, depth + 1, false);
        }
        free(ents[i]);
    }
    free(ents);
}

int cmd_vuln_advisory(int argc, char **argv)
{
    static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
                                        {"data-dir", required_argument, NULL, 'd'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
    struct vuln_cli c = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': c.config = optarg; break;
        case 'd': c.data_dir = optarg; break;
        case 'h':
            printf("usage: koban vuln advisory add FILE|DIR...\n\n"
                   "Stores OSV records (a file, or every *.json under a directory) as\n"
                   "advisories of the feed \"local\" and re-evaluates the packages they\n"
                   "name on every asset.\n%s", vuln_cli_usage);
            return 0;
        default: return 2;
        }
    }
    if (argc - optind < 2 || strcmp(argv[optind], "add") != 0)
        return builtin_error("vuln", "usage: koban vuln advisory add FILE|DIR..."), 2;
    struct kb_config cfg;
    if (vuln_cli_load(&c, &cfg))
        return 1;
    struct vuln_sink *sink = NULL;
    int rc = vuln_sink_open("advisory add", &cfg,
                            "stop it first: it keeps the advisories in memory", &sink);
    struct db *db = NULL;
    struct vuln_triage *tr = NULL;
    struct adv_add a = {0};
    struct kb_why why = {{0}};
    struct vuln_engine_opts eo = {.alert = vuln_sink_alert, .ctx = sink};
    if (!rc)
        rc = vuln_store_open("advisory add", &cfg, true, &db);
    if (!rc) {
        db_use_gate(db, vuln_sink_gate(sink));
        kb_err e = vuln_triage_open(db, NULL, &tr);
        if (!e)
            e = vuln_engine_open(db, &eo, &a.eng, &why);
        if (e)
            rc = builtin_error("vuln", "advisory add: %s", why.msg[0] ? why.msg : kb_strerror(e));
        vuln_sink_filter(sink, tr);
    }
    struct vuln_eval_stats total = {0};
    for (int i = optind + 1; !rc && i < argc; i++)
        adv_walk(&a, argv[i], 0, true);
    for (size_t off = 0; !rc && off < a.n; off += VULN_ENGINE_MAX_CHANGED) {
        size_t k = KB_MIN(a.n - off, (size_t)VULN_ENGINE_MAX_CHANGED);
        struct vuln_eval_stats st = {0};
        if (vuln_engine_advisories_changed(a.eng, (const char *const *)a.ids + off, k, &st, &why))
            rc = builtin_error("vuln", "advisory add: %s", why.msg);
        total.opened += st.opened;
        total.updated += st.updated;
        total.resolved += st.resolved;
    }
    if (!rc || a.n) {
        printf("%zu advisor%s stored, %zu refused; findings: %zu new, %zu updated, %zu "
               "resolved\n",
               a.n, a.n == 1 ? "y" : "ies", a.refused, total.opened, total.updated,
               total.resolved);
    }
    if (!rc)
        rc = vuln_sink_finish(sink);
    if (!rc && a.refused)
        rc = 1;
    for (size_t i = 0; i < a.n; i++)
        free(a.ids[i]);
    free(a.ids);
    vuln_engine_close(a.eng);
    vuln_triage_close(tr);
    db_close(db);
    vuln_sink_close(sink);
    config_release(&cfg);
    return rc;
}

