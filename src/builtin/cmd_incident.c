/* cmd_incident.c — `koban incident open|list|show|update|link|note|postmortem|stats`. */
#include "builtin/builtin.h"

#include "incident/incident.h"
#include "incident/incident_json.h"
#include "incident/postmortem.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "store/db_incident.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const struct builtin builtin_incident = {
    "incident", cmd_incident, "declare, update and review incidents; postmortem drafts",
    "usage: koban incident open --service S --title T [--summary TEXT] [--level N]\n"
    "                           [--temperature cold|warm|hot] [--handler NAME] [--drill]\n"
    "                           [--occurred TIME] [--detected TIME]\n"
    "       koban incident list [--status S] [--service S] [--limit N] [--json] [--stats]\n"
    "       koban incident show ID [--json]\n"
    "       koban incident update ID [--status S] [--level N] [--temperature T]\n"
    "                           [--handler NAME] [--scribe NAME] [--liaison NAME]\n"
    "                           [--title T] [--summary TEXT] [--tag TAG]... [--issue N]...\n"
    "                           [--occurred TIME] [--detected TIME]\n"
    "                           [--github-issue N] [--github-pr N] [--channel-id ID]\n"
    "       koban incident link CHILD --parent PARENT\n"
    "       koban incident note ID TEXT [--pin] [--ref MESSAGE]\n"
    "       koban incident postmortem ID [--output FILE]\n"
    "       koban incident stats [--json]\n"
    "       (each also takes --author WHO, --config FILE and --data-dir DIR)\n\n"
    "Status: declared -> investigating -> recovered -> completed, or cancelled\n"
    "(from any but completed); recovered -> investigating when it breaks again.\n"
    "Level 1 is the most severe, 5 the least (default 3). Temperature: cold (no\n"
    "user impact yet), warm (impact, being handled, the default), hot (already\n"
    "bad: emergency). Times are RFC 3339 (2021-02-24T10:00:00+09:00) and are\n"
    "printed in UTC. Every change is written to the incident's timeline.\n\n"
    "  --drill         a training run: marked DRILL everywhere, left out of stats\n"
    "  --tag TAG       add a tag (repeatable); --issue N links koban issue N\n"
    "  --handler ''    clears a role (also --scribe, --liaison)\n"
    "  --pin           the note is a pinned chat message (--ref: its ts or link)\n"
    "  --stats         incidents and median time to recovery per service and\n"
    "                  level, drills excluded (same as 'stats')\n"
    "  --json          list, stats: one object per line; show: one object\n"
    "  --author WHO    who (default $USER)\n\n"
    "Exit status: 0 done, 1 unknown incident or store error, 2 refused input.\n",
};

#define TAGS_MAX 32
#define ISSUES_MAX 64

struct inc_opts {
    const char *config, *data_dir, *service, *title, *summary, *handler, *scribe, *liaison;
    const char *author, *ref, *output, *channel_id;
    const char *tags[TAGS_MAX];
    size_t ntags;
    int64_t issues[ISSUES_MAX];
    size_t nissues;
    int status, temperature, level;
    int64_t occurred, detected, parent, github_issue, github_pr;
    size_t limit;
    bool json, drill, stats, pin;
};

/* Prints "koban incident: ..." and returns 2 (refused input). */
static int fail2(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail2(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "koban incident: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0 || errno)
        return false;
    *out = v;
    return true;
}

static int parse_time(const char *opt, const char *s, int64_t *out)
{
    if (kb_time_parse_rfc3339(kb_str_c(s), out) || *out <= 0) {
        fprintf(stderr, "koban incident: %s: '%s' is not an RFC 3339 time "
                        "(e.g. 2021-02-24T10:00:00Z)\n", opt, s);
        return 2;
    }
    return 0;
}

/* "2021-02-24T01:02:03Z" or "-" for 0. */
static const char *utc(int64_t ms, char out[32])
{
    if (!ms) {
        snprintf(out, 32, "-");
        return out;
    }
    char t[32];
    kb_time_format(ms, t);
    snprintf(out, 32, "%.19sZ", t);
    return out;
}

static void print_json(struct buf *out)
{
    printf("%s\n", out->p ? out->p : "");
}

static kb_err list_row(void *ctx, const struct db_incident *r)
{
    const struct inc_opts *o = ctx;
    if (o->json) {
        struct buf out = BUF_INIT(1 << 20);
        struct jw w;
        jw_init(&w, &out);
        jw_obj_begin(&w);
        incident_write_fields(&w, r);
        jw_obj_end(&w);
        if (jw_finish(&w) == KB_OK)
            print_json(&out);
        buf_release(&out);
        return KB_OK;
    }
    char t[32];
    printf("%6" PRId64 "  %-13s  %5d  %-4s  %-16.16s  %-20s  %s%.70s\n", r->id,
           incident_status_name(r->status), r->level, incident_temp_name(r->temperature),
           r->service, utc(r->declared, t), r->drill ? "[DRILL] " : "", r->title);
    return KB_OK;
}

static int inc_list(struct db *db, struct inc_opts *o)
{
    struct db_incident_filter f = {.status = o->status, .service = o->service,
                                   .limit = o->limit ? o->limit : 100};
    if (!o->json)
        printf("%6s  %-13s  %5s  %-4s  %-16s  %-20s  %s\n", "ID", "STATUS", "LEVEL", "TEMP",
               "SERVICE", "DECLARED (UTC)", "TITLE");
    if (db_incident_list(db, &f, list_row, o))
        return builtin_error("incident", "store: %s", db_errmsg(db));
    return 0;
}

static int inc_stats(struct db *db, const struct inc_opts *o)
{
    struct incident_stats s;
    if (incident_stats_compute(db, &s))
        return builtin_error("incident", "store: %s", db_errmsg(db));
    if (!o->json)
        printf("%-20s  %5s  %9s  %9s  %s\n", "SERVICE", "LEVEL", "INCIDENTS", "RECOVERED",
               "MEDIAN TIME TO RECOVERY");
    for (size_t i = 0; i < s.n; i++) {
        const struct incident_stat *r = &s.rows[i];
        if (o->json) {
            printf("{\"service\":");
            struct buf b = BUF_INIT(4096);
            json_escape_into(&b, r->service, strlen(r->service));
            printf("\"%s\",\"level\":%d,\"count\":%" PRId64 ",\"recovered\":%" PRId64
                   ",\"median_ttr_seconds\":",
                   b.p ? b.p : "", r->level, r->count, r->recovered);
            buf_release(&b);
            if (r->median_ttr_ms >= 0)
                printf("%" PRId64 "}\n", r->median_ttr_ms / 1000);
            else
                printf("null}\n");
            continue;
        }
        char d[48] = "-";
        if (r->median_ttr_ms >= 0) {
            int64_t m = r->median_ttr_ms / 60000;
            snprintf(d, sizeof d, "%" PRId64 "h %02" PRId64 "m", m / 60, m % 60);
        }
        printf("%-20s  %5d  %9" PRId64 "  %9" PRId64 "  %s\n", r->service, r->level, r->count,
               r->recovered, d);
    }
    incident_stats_release(&s);
    return 0;
}

static kb_err show_child(void *ctx, const struct db_incident *r)
{
    (void)ctx;
    printf("  %6" PRId64 "  %-13s  %s%s\n", r->id, incident_status_name(r->status),
           r->drill ? "[DRILL] " : "", r->title);
    return KB_OK;
}

static kb_err show_event(void *ctx, const struct db_incident_event *ev)
{
    (void)ctx;
    char t[32];
    printf("  %s  %-8s  %s%s%s\n", utc(ev->at, t), ev->kind, ev->actor ? ev->actor : "",
           ev->actor ? ": " : "", ev->text ? ev->text : "");
    return KB_OK;
}

static void show_text(const struct db_incident *r)
{
    char t[32];
    printf("incident %" PRId64 "  [%s, level %d, %s]%s\n", r->id, incident_status_name(r->status),
           r->level, incident_temp_name(r->temperature), r->drill ? "  DRILL" : "");
#define ROW(k, v) if ((v) && *(v)) printf("%-16s %s\n", k, v)
    ROW("title", r->title);
    ROW("service", r->service);
    ROW("summary", r->summary);
    ROW("handler", r->handler);
    ROW("scribe", r->scribe);
    ROW("liaison", r->liaison);
#undef ROW
    const struct {
        const char *k;
        int64_t ms;
    } times[] = {{"occurred", r->occurred},   {"detected", r->detected},
                 {"declared", r->declared},   {"first response", r->first_response},
                 {"recovered", r->recovered}, {"completed", r->completed},
                 {"cancelled", r->cancelled}};
    for (size_t i = 0; i < KB_ARRAY_LEN(times); i++)
        if (times[i].ms)
            printf("%-16s %s\n", times[i].k, utc(times[i].ms, t));
    if (r->slack_channel_name)
        printf("%-16s #%s%s%s%s\n", "channel", r->slack_channel_name,
               r->slack_channel_id ? " (" : "", r->slack_channel_id ? r->slack_channel_id : "",
               r->slack_channel_id ? ")" : "");
    if (r->github_issue)
        printf("%-16s #%" PRId64 "\n", "github issue", r->github_issue);
    if (r->github_pr)
        printf("%-16s #%" PRId64 "\n", "pull request", r->github_pr);
    if (r->parent_id)
        printf("%-16s incident %" PRId64 "\n", "parent", r->parent_id);
    if (r->ntags) {
        printf("%-16s", "tags");
        for (size_t i = 0; i < r->ntags; i++)
            printf("%s%s", i ? ", " : " ", r->tags[i]);
        printf("\n");
    }
    if (r->nissues) {
        printf("%-16s", "koban issues");
        for (size_t i = 0; i < r->nissues; i++)
            printf("%s%" PRId64, i ? ", " : " ", r->issues[i]);
        printf("\n");
    }
}

static int inc_show(struct db *db, int64_t id, const struct inc_opts *o)
{
    struct db_incident r;
    kb_err e = db_incident_get(db, id, &r);
    if (e == KB_ENOTFOUND)
        return builtin_error("incident", "incident %" PRId64 ": no such incident", id);
    if (e)
        return builtin_error("incident", "store: %s", db_errmsg(db));
    if (o->json) {
        struct buf out = BUF_INIT(16 << 20);
        struct jw w;
        jw_init(&w, &out);
        e = incident_write_show(&w, db, &r);
        if (!e && jw_finish(&w) == KB_OK)
            print_json(&out);
        buf_release(&out);
        db_incident_release(&r);
        return e ? builtin_error("incident", "store: %s", db_errmsg(db)) : 0;
    }
    show_text(&r);
    printf("children:\n");
    e = incident_children(db, id, show_child, NULL);
    printf("timeline:\n");
    if (!e)
        e = db_incident_events(db, id, 0, NULL, 0, show_event, NULL);
    db_incident_release(&r);
    return e ? builtin_error("incident", "store: %s", db_errmsg(db)) : 0;
}

/* Exit status for a model error: unknown things 1, refused input 2. */
static int model_error(kb_err e, const struct kb_why *why)
{
    builtin_error("incident", "%s", why->msg[0] ? why->msg : kb_strerror(e));
    return e == KB_ENOTFOUND || e == KB_EDB || e == KB_EIO ? 1 : 2;
}

static int inc_open(struct db *db, const struct inc_opts *o, const char *author)
{
    if (!o->service || !o->title)
        return fail2("open: %s", "--service and --title are required");
    struct incident_new n = {.service = o->service, .title = o->title, .summary = o->summary,
                             .temperature = o->temperature < 0 ? INCIDENT_WARM : o->temperature,
                             .level = o->level, .handler = o->handler, .drill = o->drill,
                             .occurred = o->occurred, .detected = o->detected,
                             .now = kb_now_ms(), .actor = author};
    struct kb_why why = {{0}};
    int64_t id;
    kb_err e = incident_open(db, &n, &id, &why);
    if (e)
        return model_error(e, &why);
    struct db_incident r;
    if (db_incident_get(db, id, &r) == KB_OK) {
        printf("incident %" PRId64 " declared%s: #%s\n", id, o->drill ? " (DRILL)" : "",
               r.slack_channel_name ? r.slack_channel_name : "");
        db_incident_release(&r);
    }
    return 0;
}

static int inc_update(struct db *db, int64_t id, const struct inc_opts *o, const char *author)
{
    struct incident_change c;
    incident_change_init(&c);
    c.status = o->status;
    c.temperature = o->temperature;
    c.level = o->level;
    c.title = o->title;
    c.summary = o->summary;
    c.handler = o->handler;
    c.scribe = o->scribe;
    c.liaison = o->liaison;
    c.tags = o->tags;
    c.ntags = o->ntags;
    c.issues = o->issues;
    c.nissues = o->nissues;
    c.occurred = o->occurred;
    c.detected = o->detected;
    c.github_issue = o->github_issue;
    c.github_pr = o->github_pr;
    c.slack_channel_id = o->channel_id;
    c.actor = author;
    c.now = kb_now_ms();
    c.source_ref = o->ref;
    struct kb_why why = {{0}};
    bool changed;
    kb_err e = incident_update(db, id, &c, &changed, &why);
    if (e)
        return model_error(e, &why);
    printf("incident %" PRId64 " %s\n", id, changed ? "updated" : "unchanged");
    return 0;
}

int cmd_incident(int argc, char **argv)
{
    static const struct option lo[] = {
        {"service", required_argument, NULL, 'S'},  {"title", required_argument, NULL, 'T'},
        {"summary", required_argument, NULL, 'm'},  {"level", required_argument, NULL, 'l'},
        {"temperature", required_argument, NULL, 't'},
        {"handler", required_argument, NULL, 'H'},  {"scribe", required_argument, NULL, 's'},
        {"liaison", required_argument, NULL, 'L'},  {"drill", no_argument, NULL, 'D'},
        {"occurred", required_argument, NULL, 'o'}, {"detected", required_argument, NULL, 'x'},
        {"status", required_argument, NULL, 'u'},   {"tag", required_argument, NULL, 'g'},
        {"issue", required_argument, NULL, 'i'},    {"parent", required_argument, NULL, 'p'},
        {"author", required_argument, NULL, 'a'},   {"by", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},           {"stats", no_argument, NULL, 'A'},
        {"limit", required_argument, NULL, 'n'},    {"pin", no_argument, NULL, 'P'},
        {"ref", required_argument, NULL, 'r'},      {"output", required_argument, NULL, 'O'},
        {"github-issue", required_argument, NULL, 'G'},
        {"github-pr", required_argument, NULL, 'R'},
        {"channel-id", required_argument, NULL, 'C'},
        {"config", required_argument, NULL, 'c'},   {"data-dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0}};
    struct inc_opts o = {.status = -1, .temperature = -1};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        int64_t v;
        switch (ch) {
        case 'S': o.service = optarg; break;
        case 'T': o.title = optarg; break;
        case 'm': o.summary = optarg; break;
        case 'l':
            if (!parse_i64(optarg, &v) || v > 5)
                return fail2("--level: '%s' is not 1 (most severe) to 5", optarg);
            o.level = (int)v;
            break;
        case 't':
            if (incident_temp_parse(optarg, &o.temperature))
                return fail2("--temperature: '%s' is not cold, warm or hot", optarg);
            break;
        case 'H': o.handler = optarg; break;
        case 's': o.scribe = optarg; break;
        case 'L': o.liaison = optarg; break;
        case 'D': o.drill = true; break;
        case 'o':
            if (parse_time("--occurred", optarg, &o.occurred))
                return 2;
            break;
        case 'x':
            if (parse_time("--detected", optarg, &o.detected))
                return 2;
            break;
        case 'u':
            if (incident_status_parse(optarg, &o.status))
                return fail2("--status: '%s' is not declared, investigating, recovered, "
                             "completed or cancelled", optarg);
            break;
        case 'g':
            if (o.ntags == TAGS_MAX)
                return fail2("--tag: %s", "too many tags at once");
            o.tags[o.ntags++] = optarg;
            break;
        case 'i':
            if (o.nissues == ISSUES_MAX)
                return fail2("--issue: %s", "too many issues at once");
            if (!parse_i64(optarg, &o.issues[o.nissues]))
                return fail2("--issue: '%s' is not an issue id", optarg);
            o.nissues++;
            break;
        case 'p':
            if (!parse_i64(optarg, &o.parent))
                return fail2("--parent: '%s' is not an incident id", optarg);
            break;
        case 'G':
            if (!parse_i64(optarg, &o.github_issue))
                return fail2("--github-issue: '%s' is not a number", optarg);
            break;
        case 'R':
            if (!parse_i64(optarg, &o.github_pr))
                return fail2("--github-pr: '%s' is not a number", optarg);
            break;
        case 'a': o.author = optarg; break;
        case 'j': o.json = true; break;
        case 'A': o.stats = true; break;
        case 'n':
            if (!parse_i64(optarg, &v) || v > 100000)
                return fail2("--limit: '%s' is not 1 to 100000", optarg);
            o.limit = (size_t)v;
            break;
        case 'P': o.pin = true; break;
        case 'r': o.ref = optarg; break;
        case 'O': o.output = optarg; break;
        case 'C': o.channel_id = optarg; break;
        case 'c': o.config = optarg; break;
        case 'd': o.data_dir = optarg; break;
        default: return builtin_usage(&builtin_incident);
        }
    }
    if (optind >= argc)
        return builtin_usage(&builtin_incident);
    const char *sub = argv[optind];
    int npos = argc - optind - 1; /* positional arguments after the subcommand */
    char **pos = argv + optind + 1;
    static const char *const subs[] = {"open", "list", "show", "update", "link", "note",
                                       "postmortem", "stats"};
    bool known = false;
    for (size_t i = 0; i < KB_ARRAY_LEN(subs); i++)
        known = known || !strcmp(sub, subs[i]);
    if (!known)
        return fail2("unknown subcommand '%s' (open, list, show, update, link, note, "
                     "postmortem, stats)", sub);
    bool wants_id = strcmp(sub, "open") && strcmp(sub, "list") && strcmp(sub, "stats");
    int64_t id = 0;
    if (wants_id && (npos < 1 || !parse_i64(pos[0], &id)))
        return fail2("%s needs an incident id", sub);
    if (!strcmp(sub, "note") && npos != 2)
        return fail2("note: %s", "give the incident id and the text (quote it)");
    if (!strcmp(sub, "link") && !o.parent)
        return fail2("link: %s", "--parent PARENT is required");
    if (npos > (wants_id ? 1 : 0) + !strcmp(sub, "note"))
        return fail2("unexpected argument '%s'", pos[npos - 1]);

    struct kb_config cfg;
    if (builtin_load_config(o.config, o.data_dir, &cfg))
        return 1;
    char path[4096];
    builtin_db_path(&cfg, path, sizeof path);
    const char *author = o.author ? o.author : getenv("USER") ? getenv("USER") : "cli";
    struct db *db = NULL;
    struct kb_why why = {{0}};
    int rc;
    if (!strcmp(sub, "open") && builtin_ensure_data_dir(&cfg)) {
        rc = 1;
    } else if (strcmp(sub, "open") && access(path, F_OK) != 0) {
        rc = builtin_error("incident", "no store at %s (no incident was opened with this "
                                       "data_dir)", path);
    } else if (db_open(path, DB_CLIENT, 8, &db, &why)) {
        rc = builtin_error("incident", "%s", why.msg);
    } else if (!strcmp(sub, "open")) {
        rc = inc_open(db, &o, author);
    } else if (!strcmp(sub, "stats") || (!strcmp(sub, "list") && o.stats)) {
        rc = inc_stats(db, &o);
    } else if (!strcmp(sub, "list")) {
        rc = inc_list(db, &o);
    } else if (!strcmp(sub, "show")) {
        rc = inc_show(db, id, &o);
    } else if (!strcmp(sub, "update")) {
        rc = inc_update(db, id, &o, author);
    } else if (!strcmp(sub, "link")) {
        kb_err e = incident_link(db, id, o.parent, author, kb_now_ms(), &why);
        rc = e ? model_error(e, &why) : 0;
        if (!rc)
            printf("incident %" PRId64 " is a child of incident %" PRId64 "\n", id, o.parent);
    } else if (!strcmp(sub, "note")) {
        kb_err e = incident_note(db, id, o.pin ? "pin" : "note", pos[1], author, kb_now_ms(),
                                 o.ref, &why);
        rc = e ? model_error(e, &why) : 0;
        if (!rc)
            printf("%s added to incident %" PRId64 "\n", o.pin ? "pin" : "note", id);
    } else {
        struct buf md = BUF_INIT(8 << 20);
        kb_err e = postmortem_build(db, id, &md, &why);
        if (e) {
            rc = model_error(e, &why);
        } else if (o.output) {
            FILE *f = fopen(o.output, "w");
            bool ok = f && fwrite(md.p, 1, md.len, f) == md.len;
            if (f && fclose(f) != 0)
                ok = false;
            rc = ok ? 0 : builtin_error("incident", "%s: cannot write: %s", o.output,
                                        strerror(errno));
        } else {
            fwrite(md.p, 1, md.len, stdout);
            rc = 0;
        }
        buf_release(&md);
    }
    db_close(db);
    config_release(&cfg);
    return rc;
}
