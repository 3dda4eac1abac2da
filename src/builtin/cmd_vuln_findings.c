/* cmd_vuln_findings.c — `koban vuln search | list | show`: where a package
 * runs, and the findings with their issues and triage, read from koban's
 * store (nothing changes). */
#include "builtin/cmd_vuln.h"
#include "builtin/vuln_sink.h"

#include "formats/alert.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "store/db.h"
#include "vuln/vuln_triage.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- search, list, show ---- */

/* Parses the read-only commands' options; the positional arguments stay
 * in argv[optind..]. Returns -1 to go on, else an exit code. */
struct read_opts {
    struct vuln_cli c;
    int state; /* -1 all */
    const char *asset;
    int min_sev;
    bool suspected;
};

static int read_args(const char *sub, const char *usage, int argc, char **argv, struct read_opts *o)
{
    static const struct option lo[] = {
        {"json", no_argument, NULL, 'j'},         {"state", required_argument, NULL, 's'},
        {"asset", required_argument, NULL, 'a'},  {"severity", required_argument, NULL, 'S'},
        {"suspected", no_argument, NULL, 'u'},    {"config", required_argument, NULL, 'c'},
        {"data-dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "js:a:S:uc:d:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'j': o->c.json = true; break;
        case 's':
            if (!strcmp(optarg, "all"))
                o->state = -1;
            else if (!strcmp(optarg, "open"))
                o->state = DB_VULN_OPEN;
            else if (!strcmp(optarg, "resolved"))
                o->state = DB_VULN_RESOLVED;
            else
                return builtin_error("vuln", "%s: --state is open, resolved or all", sub), 2;
            break;
        case 'a': o->asset = optarg; break;
        case 'S':
            if (kb_severity_parse(optarg, &o->min_sev))
                return builtin_error("vuln", "%s: --severity: unknown '%s'", sub, optarg), 2;
            break;
        case 'u': o->suspected = true; break;
        case 'c': o->c.config = optarg; break;
        case 'd': o->c.data_dir = optarg; break;
        case 'h': printf("%s%s", usage, vuln_cli_usage); return 0;
        default: return 2;
        }
    }
    return -1;
}

static void print_json_line(void (*fn)(struct jw *, const struct vuln_found *),
                            const struct vuln_found *f)
{
    struct buf b = BUF_INIT(1 << 20);
    struct jw w;
    jw_init(&w, &b);
    fn(&w, f);
    if (jw_finish(&w) == KB_OK)
        printf("%s\n", b.p);
    buf_release(&b);
}

struct list_ctx {
    struct vuln_triage *t;
    const struct read_opts *o;
    size_t n;
    kb_err err;
};

static kb_err list_one(void *ctx, const struct db_vuln_finding *f)
{
    struct list_ctx *c = ctx;
    if (f->severity < c->o->min_sev || (c->o->suspected && !f->suspected))
        return KB_OK;
    struct vuln_found vf;
    kb_err e = vuln_triage_found_from(c->t, f, &vf);
    if (e) {
        vuln_found_release(&vf);
        return e;
    }
    c->n++;
    if (c->o->c.json) {
        print_json_line(vuln_found_write_json, &vf);
    } else {
        char issue[24] = "-";
        if (vf.issue)
            snprintf(issue, sizeof issue, "#%lld %s", (long long)vf.issue,
                     vf.issue_state == ISSUE_CLOSED ? "closed" : "open");
        printf("%.12s  %-8s %-8s %-16s %-28s %-32s %-20s %-10s %s%s\n", vf.hex,
               kb_severity_name(f->severity), db_vuln_state_name(f->state), f->asset,
               f->group_key, f->package, f->installed ? f->installed : "",
               vf.triaged ? db_vuln_triage_status_name(vf.t.status) : "-", issue,
               f->suspected ? " (suspected)" : "");
    }
    vuln_found_release(&vf);
    return KB_OK;
}

/* Opens the store and a triage handle for a read-only command. */
static int open_read(const char *sub, const struct vuln_cli *c, struct kb_config *cfg,
                     struct db **db, struct vuln_triage **t)
{
    if (vuln_cli_load(c, cfg))
        return 1;
    int rc = vuln_store_open(sub, cfg, false, db);
    if (!rc && vuln_triage_open(*db, NULL, t))
        rc = builtin_error("vuln", "%s: cannot read the store", sub);
    return rc;
}

int cmd_vuln_list(int argc, char **argv)
{
    struct read_opts o = {.state = DB_VULN_OPEN};
    int rc = read_args("list", "usage: koban vuln list [--state open|resolved|all] [--asset A]\n"
                               "       [--severity S] [--suspected] [--json]\n\n"
                               "Findings (open by default) with their id, issue and triage;\n"
                               "--severity S shows S and above.\n",
                       argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (optind != argc)
        return builtin_error("vuln", "list: unexpected argument '%s'", argv[optind]), 2;
    struct kb_config cfg;
    struct db *db = NULL;
    struct vuln_triage *t = NULL;
    rc = open_read("list", &o.c, &cfg, &db, &t);
    if (!rc) {
        struct list_ctx c = {.t = t, .o = &o};
        if (!o.c.json)
            printf("%-12s  %-8s %-8s %-16s %-28s %-32s %-20s %-10s %s\n", "ID", "SEVERITY",
                   "STATE", "ASSET", "ADVISORY", "PACKAGE", "INSTALLED", "TRIAGE", "ISSUE");
        struct db_vuln_finding_filter flt = {.asset = o.asset, .state = o.state};
        if (db_vuln_finding_each(vuln_triage_store(t), &flt, list_one, &c))
            rc = builtin_error("vuln", "list: reading findings failed");
        else if (!o.c.json)
            printf("%zu finding%s\n", c.n, c.n == 1 ? "" : "s");
    }
    vuln_triage_close(t);
    db_close(db);
    config_release(&cfg);
    return rc;
}

int cmd_vuln_show(int argc, char **argv)
{
    struct read_opts o = {.state = -1};
    int rc = read_args("show", "usage: koban vuln show FINDING-ID|ISSUE-ID [--json]\n", argc,
                       argv, &o);
    if (rc >= 0)
        return rc;
    if (optind + 1 != argc)
        return builtin_error("vuln", "usage: koban vuln show FINDING-ID|ISSUE-ID [--json]"), 2;
    struct kb_config cfg;
    struct db *db = NULL;
    struct vuln_triage *t = NULL;
    rc = open_read("show", &o.c, &cfg, &db, &t);
    struct vuln_found f;
    struct kb_why why = {{0}};
    if (!rc && vuln_triage_find(t, argv[optind], &f, &why))
        rc = builtin_error("vuln", "show: %s", why.msg);
    else if (!rc) {
        if (o.c.json) {
            print_json_line(vuln_found_write_json, &f);
        } else {
            char ts[32];
            printf("%-12s %s\n%-12s %s\n%-12s %s on %s (%s)\n", "finding", f.hex, "advisory",
                   f.f.group_key, "package", f.f.package, f.f.asset, f.f.ecosystem);
            printf("%-12s %s\n%-12s %s\n", "installed", f.f.installed,
                   "fixed", f.f.fixed ? f.f.fixed : "no fix");
            printf("%-12s %s", "severity", kb_severity_name(f.f.severity));
            if (f.f.cvss >= 0)
                printf(" (CVSS %.1f)", f.f.cvss);
            printf("%s%s\n", f.f.kev ? ", known exploited" : "",
                   f.f.suspected ? ", suspected" : "");
            kb_time_format(f.f.changed, ts);
            printf("%-12s %s since %s (%s)\n", "state", db_vuln_state_name(f.f.state), ts,
                   f.f.reason ? f.f.reason : "");
            if (f.issue)
                printf("%-12s #%lld (%s)\n", "issue", (long long)f.issue,
                       issue_state_name(f.issue_state));
            else
                printf("%-12s none\n", "issue");
            if (f.triaged) {
                char reason[600];
                vuln_triage_reason(&f.t, reason, sizeof reason);
                kb_time_format(f.t.at, ts);
                printf("%-12s %s (at %s)\n", "triage", reason, ts);
            }
        }
        vuln_found_release(&f);
    }
    vuln_triage_close(t);
    db_close(db);
    config_release(&cfg);
    return rc;
}

struct search_ctx {
    struct db_vuln *dv;
    bool json;
    size_t n;
};

static kb_err search_one(void *ctx, const struct db_vuln_package *p)
{
    struct search_ctx *c = ctx;
    struct db_vuln_asset a;
    const char *kind = "?";
    bool had = db_vuln_asset_get(c->dv, p->asset, &a) == KB_OK;
    if (had)
        kind = db_vuln_asset_kind_name(a.kind);
    c->n++;
    if (c->json) {
        struct buf b = BUF_INIT(64 * 1024);
        struct jw w;
        jw_init(&w, &b);
        jw_obj_begin(&w);
        jw_kv_str(&w, "asset", p->asset);
        jw_kv_str(&w, "kind", kind);
        jw_kv_str(&w, "ecosystem", p->ecosystem);
        jw_kv_str(&w, "package", p->name);
        jw_kv_str(&w, "version", p->version);
        jw_kv_str(&w, "location", p->location);
        jw_kv_str(&w, "source", p->source);
        jw_obj_end(&w);
        if (jw_finish(&w) == KB_OK)
            printf("%s\n", b.p);
        buf_release(&b);
    } else {
        printf("%-24s %-10s %-14s %-24s %s\n", p->asset, kind, p->ecosystem, p->version,
               p->location ? p->location : "");
    }
    if (had)
        db_vuln_asset_release(&a);
    return KB_OK;
}

int cmd_vuln_search(int argc, char **argv)
{
    struct read_opts o = {.state = -1};
    int rc = read_args("search", "usage: koban vuln search PACKAGE [--json]\n\n"
                                 "Every host and repository running PACKAGE (exact name), and\n"
                                 "at which version.\n",
                       argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (optind + 1 != argc)
        return builtin_error("vuln", "usage: koban vuln search PACKAGE [--json]"), 2;
    struct kb_config cfg;
    struct db *db = NULL;
    struct vuln_triage *t = NULL;
    rc = open_read("search", &o.c, &cfg, &db, &t);
    if (!rc) {
        /* vuln_engine_search reads the same rows; the engine itself (every
         * advisory in memory) is not needed to answer. */
        struct search_ctx c = {.dv = vuln_triage_store(t), .json = o.c.json};
        if (!o.c.json)
            printf("%-24s %-10s %-14s %-24s %s\n", "ASSET", "KIND", "ECOSYSTEM", "VERSION",
                   "LOCATION");
        if (db_vuln_package_find(c.dv, argv[optind], search_one, &c))
            rc = builtin_error("vuln", "search: reading packages failed");
        else if (!o.c.json)
            printf("%s: %zu installation%s\n", argv[optind], c.n, c.n == 1 ? "" : "s");
        if (!rc && c.n == 0)
            rc = 1;
    }
    vuln_triage_close(t);
    db_close(db);
    config_release(&cfg);
    return rc;
}
