/* cmd_issues.c — `koban issues list|show|ack|close|reopen`. */
#include "builtin/builtin.h"

#include "formats/alert.h"
#include "issues/issue.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "notify/notifier.h"
#include "store/db.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const struct builtin builtin_issues = {
    "issues", cmd_issues, "list, show, acknowledge, close and reopen issues",
    "usage: koban issues [list] [--state S|all] [--source NAME] [--severity MIN]\n"
    "                    [--text TEXT] [--limit N] [--json]\n"
    "       koban issues show ID [--json]\n"
    "       koban issues ack|close|reopen ID [--reason TEXT] [--by WHO]\n\n"
    "An issue is one alert identity: repeats fold into it (count, first and last\n"
    "seen); a recurrence reopens a closed issue. 'list' shows open and\n"
    "acknowledged issues by default, most severe and most recent first.\n\n"
    "  --state S       open, acknowledged, closed, or all\n"
    "  --source NAME   only this source (guardduty, cloudtrail, syslog, ...)\n"
    "  --severity MIN  none, low, medium, high, critical (at least)\n"
    "  --text TEXT     substring of title, identity, kind or resource\n"
    "  --limit N       at most N issues (default 100)\n"
    "  --json          one JSON object per line\n"
    "  --reason TEXT   why (kept in the issue's history)\n"
    "  --by WHO        who (default $USER)\n"
    "  --config FILE, --data-dir DIR   as for 'koban serve'\n",
};

struct opts {
    const char *config, *data_dir, *source, *text, *reason, *by;
    int state; /* -1 any, -2 default (not closed) */
    int min_sev;
    size_t limit;
    bool json;
};

struct list_ctx {
    struct opts *o;
    struct buf out;
    size_t n;
};

static kb_err list_row(void *ctx, const struct db_issue *r)
{
    struct list_ctx *c = ctx;
    c->n++;
    if (c->o->json) {
        buf_reset(&c->out);
        struct jw w;
        jw_init(&w, &c->out);
        issue_write_json(&w, r, NULL);
        if (jw_finish(&w) == KB_OK)
            printf("%s\n", c->out.p);
        return KB_OK;
    }
    char t[32];
    kb_time_format(r->last_seen, t);
    t[19] = '\0';
    t[10] = ' ';
    const char *title = r->title && *r->title ? r->title : r->identity;
    printf("%6lld  %-8s  %-12s  %7lld  %s  %-11s  %.70s\n", (long long)r->id,
           kb_severity_name(r->severity), issue_state_name(r->state), (long long)r->count, t,
           r->source, title);
    return KB_OK;
}

static int issues_list(struct db *db, struct opts *o)
{
    struct db_issue_filter f = {.state = o->state < 0 ? -1 : o->state,
                                .active_only = o->state == -2,
                                .min_severity = o->min_sev, .source = o->source,
                                .text = o->text, .limit = o->limit ? o->limit : 100};
    struct list_ctx c = {.o = o, .out = BUF_INIT(1 << 20)};
    if (!o->json)
        printf("%6s  %-8s  %-12s  %7s  %-19s  %-11s  %s\n", "ID", "SEVERITY", "STATE", "COUNT",
               "LAST SEEN (UTC)", "SOURCE", "TITLE");
    kb_err e = db_issue_list(db, &f, list_row, &c);
    buf_release(&c.out);
    if (e)
        return builtin_error("issues", "store: %s", db_errmsg(db));
    if (!o->json && c.n == 0)
        printf("(no issues match)\n");
    return 0;
}

static kb_err print_history(void *ctx, const struct db_history *h)
{
    (void)ctx;
    char t[32];
    kb_time_format(h->at, t);
    printf("  %s  %-12s -> %-12s  by %s%s%s\n", t,
           h->from < 0 ? "-" : issue_state_name(h->from), issue_state_name(h->to),
           h->actor ? h->actor : "?", h->reason ? ": " : "", h->reason ? h->reason : "");
    return KB_OK;
}

static int issues_show(struct db *db, int64_t id, struct opts *o)
{
    struct db_issue r;
    kb_err e = db_issue_get(db, id, &r);
    if (e == KB_ENOTFOUND)
        return builtin_error("issues", "issue %lld: no such issue", (long long)id);
    if (e)
        return builtin_error("issues", "store: %s", db_errmsg(db));
    if (o->json) {
        struct buf out = BUF_INIT(1 << 20);
        struct jw w;
        jw_init(&w, &out);
        issue_write_json(&w, &r, db);
        if (jw_finish(&w) == KB_OK)
            printf("%s\n", out.p);
        buf_release(&out);
    } else {
        char fp[33], t1[32], t2[32];
        issue_fp_hex(r.fp, fp);
        kb_time_format(r.first_seen, t1);
        kb_time_format(r.last_seen, t2);
#define ROW(k, v) if ((v) && *(v)) printf("%-16s %s\n", k, v)
        printf("issue %lld  [%s, %s]\n", (long long)r.id, kb_severity_name(r.severity),
               issue_state_name(r.state));
        ROW("title", r.title);
        ROW("source", r.source);
        ROW("kind", r.kind);
        ROW("native severity", r.native_severity);
        ROW("account", r.account);
        ROW("region", r.region);
        ROW("resource", r.resource);
        ROW("actor.user", r.actor_user);
        ROW("actor.ip", r.actor_ip);
        ROW("host", r.host);
        printf("%-16s %lld (reopened %lld times)\n", "count", (long long)r.count,
               (long long)r.reopened);
        printf("%-16s %s\n%-16s %s\n", "first seen", t1, "last seen", t2);
        ROW("identity", r.identity);
        /* triage: JSON text as stored ('--json' gives it structured) */
        if (r.rules && strcmp(r.rules, "[]"))
            ROW("rules", r.rules);
        if (r.policies && strcmp(r.policies, "[]"))
            ROW("policies", r.policies);
        if (r.labels && strcmp(r.labels, "{}"))
            ROW("labels", r.labels);
        if (r.annotations && strcmp(r.annotations, "[]"))
            ROW("annotations", r.annotations);
        if (r.mute_reason) {
            char tu[32] = "no expiry";
            if (r.mute_until)
                kb_time_format(r.mute_until, tu);
            printf("%-16s %s (until %s)\n", "muted", r.mute_reason, tu);
        }
        printf("%-16s %s\n", "fingerprint", fp);
        printf("%-16s first %llu, last %llu ('koban journal cat --seq N' shows one)\n",
               "journal seq", (unsigned long long)r.first_seq, (unsigned long long)r.last_seq);
#undef ROW
        printf("history:\n");
        db_issue_history(db, id, print_history, NULL);
    }
    db_issue_release(&r);
    return 0;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0)
        return builtin_error("issues", "'%s' is not an issue id", s);
    *id = v;
    return 0;
}

int cmd_issues(int argc, char **argv)
{
    static const struct option lo[] = {
        {"state", required_argument, NULL, 's'},   {"source", required_argument, NULL, 'S'},
        {"severity", required_argument, NULL, 'v'}, {"text", required_argument, NULL, 't'},
        {"limit", required_argument, NULL, 'n'},   {"json", no_argument, NULL, 'j'},
        {"reason", required_argument, NULL, 'r'},  {"by", required_argument, NULL, 'b'},
        {"config", required_argument, NULL, 'c'},  {"data-dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0}};
    struct opts o = {.state = -2};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:S:v:t:n:jr:b:c:d:", lo, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (!strcmp(optarg, "all"))
                o.state = -1;
            else if (issue_state_parse(optarg, &o.state))
                return builtin_error("issues", "--state: '%s' is not open, acknowledged, "
                                               "closed or all", optarg), 2;
            break;
        case 'S': o.source = optarg; break;
        case 'v':
            if (kb_severity_parse(optarg, &o.min_sev))
                return builtin_error("issues", "--severity: '%s' is not a severity", optarg), 2;
            break;
        case 't': o.text = optarg; break;
        case 'n': o.limit = (size_t)strtoul(optarg, NULL, 10); break;
        case 'j': o.json = true; break;
        case 'r': o.reason = optarg; break;
        case 'b': o.by = optarg; break;
        case 'c': o.config = optarg; break;
        case 'd': o.data_dir = optarg; break;
        default: return builtin_usage(&builtin_issues);
        }
    }
    const char *sub = optind < argc ? argv[optind] : "list";
    struct kb_config cfg;
    if (builtin_load_config(o.config, o.data_dir, &cfg))
        return 1;
    char path[4096];
    builtin_db_path(&cfg, path, sizeof path);
    struct db *db = NULL;
    struct kb_why why = {{0}};
    int64_t id = 0;
    int rc;
    bool transition = !strcmp(sub, "ack") || !strcmp(sub, "close") || !strcmp(sub, "reopen") ||
                      !strcmp(sub, "unack");
    if (access(path, F_OK) != 0) {
        rc = builtin_error("issues", "no store at %s (has 'koban serve' or 'koban ingest' "
                                     "run with this data_dir?)", path);
    } else if (db_open(path, DB_CLIENT, 8, &db, &why)) {
        rc = builtin_error("issues", "%s", why.msg);
    } else if (!strcmp(sub, "list")) {
        rc = issues_list(db, &o);
    } else if (strcmp(sub, "show") && !transition) {
        rc = builtin_error("issues", "unknown subcommand '%s'", sub);
    } else if (optind + 1 >= argc) {
        rc = builtin_usage(&builtin_issues);
    } else if ((rc = parse_id(argv[optind + 1], &id)) != 0) {
        /* parse_id said why */
    } else if (!transition) {
        rc = issues_show(db, id, &o);
    } else {
        int to = !strcmp(sub, "ack") ? ISSUE_ACKED
                 : !strcmp(sub, "close") ? ISSUE_CLOSED : ISSUE_OPEN;
        const char *by = o.by ? o.by : getenv("USER") ? getenv("USER") : "cli";
        /* A person's transition notifies like the API's: the jobs are
         * written here, and the running daemon's delivery picks them up. */
        struct route_set *rs = NULL;
        struct notifier *nt = NULL;
        struct issue_observer obs = {0};
        kb_err e = builtin_notifier_open(&cfg, &rs, &nt, &why);
        if (!e && nt)
            obs = notifier_observer(nt);
        if (!e)
            e = issue_transition(db, id, to, by, o.reason, &obs, &why);
        builtin_notifier_close(rs, nt);
        rc = e ? builtin_error("issues", "%s", why.msg) : 0;
        if (!rc)
            printf("issue %lld is now %s\n", (long long)id, issue_state_name(to));
    }
    db_close(db);
    config_release(&cfg);
    return rc;
}
