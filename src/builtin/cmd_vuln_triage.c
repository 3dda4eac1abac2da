/* cmd_vuln_triage.c — `koban vuln triage` (people's verdicts on findings,
 * OpenVEX statuses; vuln/vuln_triage.h) and `koban vuln vex export|import`
 * (vuln/openvex.h). Both write the store directly, as `koban issues close`
 * does, so they work while `koban serve` runs. */
#include "builtin/cmd_vuln.h"
#include "builtin/vuln_sink.h"

#include "lib/timeutil.h"
#include "notify/notifier.h"
#include "store/db.h"
#include "vuln/openvex.h"
#include "vuln/vuln_triage.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char triage_usage[] =
    "usage: koban vuln triage FINDING-ID|ISSUE-ID --status STATUS [--justification J]\n"
    "                         [--until DATE] [--note TEXT] [--author NAME]\n"
    "       koban vuln triage --expire [--now TIME]\n\n"
    "STATUS (OpenVEX): not_affected (needs --justification), affected, fixed,\n"
    "under_investigation. not_affected and fixed close the finding's issue until\n"
    "--until (a date or RFC 3339 time; none: for good); affected and\n"
    "under_investigation keep it open. Justifications: component_not_present,\n"
    "vulnerable_code_not_present, vulnerable_code_not_in_execute_path,\n"
    "vulnerable_code_cannot_be_controlled_by_adversary,\n"
    "inline_mitigations_already_exist.\n"
    "--expire reopens the issues whose verdict expired (at --now, default now)\n"
    "while the asset still runs the affected version.\n"
    "  -c, --config FILE   configuration\n"
    "  -d, --data-dir DIR  override data_dir\n";

static const char vex_usage[] =
    "usage: koban vuln vex export [--asset A] [--author NAME]\n"
    "       koban vuln vex import FILE [--author NAME]\n\n"
    "export writes the triage as an OpenVEX 0.2.0 document on stdout; import\n"
    "applies a document's statements as triage (vulnerability name or alias and\n"
    "product: an asset name or a package URL). --author: the triage's author on\n"
    "import (default the document's), the document's author on export (default\n"
    "$USER).\n"
    "  -c, --config FILE   configuration\n"
    "  -d, --data-dir DIR  override data_dir\n";

struct topts {
    const char *config, *data_dir, *status, *justification, *until, *note, *author, *now, *asset;
    bool expire;
};

static int topts_parse(const char *sub, const char *usage, int argc, char **argv, struct topts *o)
{
    static const struct option lo[] = {
        {"status", required_argument, NULL, 's'}, {"justification", required_argument, NULL, 'j'},
        {"until", required_argument, NULL, 'u'},  {"note", required_argument, NULL, 'n'},
        {"author", required_argument, NULL, 'a'}, {"expire", no_argument, NULL, 'E'},
        {"now", required_argument, NULL, 'N'},    {"asset", required_argument, NULL, 'A'},
        {"config", required_argument, NULL, 'c'}, {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:j:u:n:a:EN:A:c:d:h", lo, NULL)) != -1) {
        switch (ch) {
        case 's': o->status = optarg; break;
        case 'j': o->justification = optarg; break;
        case 'u': o->until = optarg; break;
        case 'n': o->note = optarg; break;
        case 'a': o->author = optarg; break;
        case 'E': o->expire = true; break;
        case 'N': o->now = optarg; break;
        case 'A': o->asset = optarg; break;
        case 'c': o->config = optarg; break;
        case 'd': o->data_dir = optarg; break;
        case 'h': printf("%s", usage); return 0;
        default: return builtin_error("vuln", "%s: see 'koban vuln %s --help'", sub, sub), 2;
        }
    }
    return -1;
}

static const char *default_author(const char *given)
{
    const char *u = getenv("USER");
    return given ? given : u && *u ? u : "cli";
}

/* The store, a triage handle and the notifier for people's transitions. */
struct tctx {
    struct kb_config cfg;
    struct db *db;
    struct vuln_triage *t;
    struct route_set *rs;
    struct notifier *nt;
    struct issue_observer obs;
};

static int tctx_open(const char *sub, const struct topts *o, struct tctx *c)
{
    memset(c, 0, sizeof *c);
    if (builtin_load_config(o->config, o->data_dir, &c->cfg)) {
        memset(&c->cfg, 0, sizeof c->cfg);
        return 1;
    }
    int rc = vuln_store_open(sub, &c->cfg, false, &c->db);
    if (rc)
        return rc;
    struct kb_why why = {{0}};
    if (builtin_notifier_open(&c->cfg, &c->rs, &c->nt, &why))
        return builtin_error("vuln", "%s: %s", sub, why.msg);
    if (c->nt)
        c->obs = notifier_observer(c->nt);
    struct vuln_triage_opts to = {.obs = &c->obs};
    if (vuln_triage_open(c->db, &to, &c->t))
        return builtin_error("vuln", "%s: cannot read the store", sub);
    return 0;
}

static void tctx_close(struct tctx *c)
{
    vuln_triage_close(c->t);
    builtin_notifier_close(c->rs, c->nt);
    db_close(c->db);
    config_release(&c->cfg);
}

static int triage_expire(const struct topts *o)
{
    int64_t now = kb_now_ms();
    if (o->now && vuln_triage_parse_date(o->now, &now))
        return builtin_error("vuln", "triage: --now '%s' is not a date or RFC 3339 time",
                             o->now), 2;
    struct tctx c;
    int rc = tctx_open("triage", o, &c);
    size_t expired = 0, reopened = 0;
    struct kb_why why = {{0}};
    if (!rc && vuln_triage_expire(c.t, now, &expired, &reopened, &why))
        rc = builtin_error("vuln", "triage --expire: %s", why.msg);
    if (!rc)
        printf("%zu triage expired; %zu issue%s reopened (triage expired)\n", expired, reopened,
               reopened == 1 ? "" : "s");
    tctx_close(&c);
    return rc;
}

int cmd_vuln_triage(int argc, char **argv)
{
    struct topts o = {0};
    int rc = topts_parse("triage", triage_usage, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.expire) {
        if (optind != argc || o.status)
            return builtin_error("vuln", "triage: --expire takes no finding or --status"), 2;
        return triage_expire(&o);
    }
    if (optind + 1 != argc || !o.status)
        return builtin_error("vuln", "triage: usage: koban vuln triage FINDING-ID|ISSUE-ID "
                                     "--status STATUS (see --help)"), 2;
    struct db_vuln_triage v = {.justification = o.justification,
                               .note = o.note,
                               .author = default_author(o.author)};
    if (db_vuln_triage_status_parse(o.status, &v.status))
        return builtin_error("vuln", "triage: --status '%s' is not not_affected, affected, "
                                     "fixed or under_investigation", o.status), 2;
    if (o.until && vuln_triage_parse_date(o.until, &v.until))
        return builtin_error("vuln", "triage: --until '%s' is not a date (2027-03-01) or RFC "
                                     "3339 time", o.until), 2;
    struct kb_why why = {{0}};
    if (vuln_triage_check(&v, kb_now_ms(), &why))
        return builtin_error("vuln", "triage: %s", why.msg), 2;
    struct tctx c;
    rc = tctx_open("triage", &o, &c);
    struct vuln_found f;
    if (!rc && vuln_triage_find(c.t, argv[optind], &f, &why)) {
        rc = builtin_error("vuln", "triage: %s", why.msg);
    } else if (!rc) {
        struct vuln_key k = {f.f.group_key, f.f.asset, f.f.ecosystem, f.f.package};
        int act = 0;
        char reason[600];
        if (vuln_triage_apply(c.t, &k, &v, &act, reason, sizeof reason, &why))
            rc = builtin_error("vuln", "triage: %s", why.msg);
        else if (act == VULN_ISSUE_NONE)
            printf("finding %.12s (%s in %s on %s): %s; no issue yet\n", f.hex, k.group_key,
                   k.package, k.asset, reason);
        else
            printf("finding %.12s (%s in %s on %s): %s; issue #%lld %s\n", f.hex, k.group_key,
                   k.package, k.asset, reason, (long long)f.issue, vuln_issue_action_name(act));
        vuln_found_release(&f);
    }
    tctx_close(&c);
    return rc;
}

/* ---- vex ---- */

static int vex_export(const struct topts *o)
{
    struct tctx c;
    int rc = tctx_open("vex export", o, &c);
    if (!rc) {
        struct buf out = BUF_INIT(OPENVEX_MAX_BYTES + 1024);
        struct openvex_export_opts eo = {.asset = o->asset,
                                         .author = default_author(o->author),
                                         .now = kb_now_ms()};
        size_t n = 0;
        struct kb_why why = {{0}};
        if (openvex_export(vuln_triage_store(c.t), &eo, &out, &n, &why)) {
            rc = builtin_error("vuln", "vex export: %s", why.msg);
        } else {
            fwrite(out.p, 1, out.len, stdout);
            fputc('\n', stdout);
            fprintf(stderr, "%zu statement%s\n", n, n == 1 ? "" : "s");
        }
        buf_release(&out);
    }
    tctx_close(&c);
    return rc;
}

static int vex_import(const struct topts *o, const char *file)
{
    struct buf text = BUF_INIT(OPENVEX_MAX_BYTES);
    struct kb_why why = {{0}};
    if (builtin_read_file(file, OPENVEX_MAX_BYTES, &text, &why)) {
        buf_release(&text);
        return builtin_error("vuln", "vex import: %s: %s", file, why.msg);
    }
    struct openvex_doc d;
    kb_err e = openvex_parse(text.p ? text.p : "", text.len, &d, &why);
    buf_release(&text);
    if (e)
        return builtin_error("vuln", "vex import: %s: %s", file, why.msg);
    struct tctx c;
    int rc = tctx_open("vex import", o, &c);
    size_t applied = 0, unmatched = 0, refused = 0;
    for (size_t i = 0; !rc && i < d.n; i++) {
        const struct openvex_statement *s = &d.st[i];
        struct openvex_matches m = {0};
        if (openvex_match(vuln_triage_store(c.t), s, &m, &why)) {
            rc = builtin_error("vuln", "vex import: statement %zu: %s", i, why.msg);
            break;
        }
        if (!m.n) {
            fprintf(stderr, "koban vuln: vex import: statement %zu: no finding matches %s on "
                            "the products given\n", i, s->vuln);
            unmatched++;
        }
        struct db_vuln_triage v;
        openvex_statement_triage(s, o->author ? o->author : d.author, &v);
        for (size_t k = 0; k < m.n; k++) {
            struct vuln_key key = {m.v[k].group_key, m.v[k].asset, m.v[k].ecosystem,
                                   m.v[k].package};
            int act = 0;
            char reason[600];
            /* expiry is not part of OpenVEX: only the status rules apply */
            if (vuln_triage_check(&v, 0, &why) ||
                vuln_triage_apply(c.t, &key, &v, &act, reason, sizeof reason, &why)) {
                fprintf(stderr, "koban vuln: vex import: statement %zu: %s on %s: %s\n", i,
                        key.group_key, key.asset, why.msg);
                refused++;
                continue;
            }
            applied++;
            printf("%s in %s on %s: %s (issue %s)\n", key.group_key, key.package, key.asset,
                   db_vuln_triage_status_name(v.status), vuln_issue_action_name(act));
        }
        openvex_matches_release(&m);
    }
    if (!rc) {
        printf("%zu statement%s: %zu finding%s triaged, %zu statement%s matched nothing, %zu "
               "refused\n",
               d.n, d.n == 1 ? "" : "s", applied, applied == 1 ? "" : "s", unmatched,
               unmatched == 1 ? "" : "s", refused);
        if (unmatched || refused)
            rc = 1;
    }
    openvex_doc_release(&d);
    tctx_close(&c);
    return rc;
}

int cmd_vuln_vex(int argc, char **argv)
{
    struct topts o = {0};
    int rc = topts_parse("vex", vex_usage, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (optind < argc && !strcmp(argv[optind], "export") && optind + 1 == argc)
        return vex_export(&o);
    if (optind < argc && !strcmp(argv[optind], "import") && optind + 2 == argc)
        return vex_import(&o, argv[optind + 1]);
    return builtin_error("vuln", "vex: usage: koban vuln vex export | import FILE (see "
                                 "--help)"), 2;
}
