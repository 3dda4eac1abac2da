/* cmd_rules.c — `koban rules lint|explain|match`: checking Sigma rule files,
 * showing why a rule matches an event or not, and running rules over event
 * files offline (output comparable with reference results). Documented in
 * docs/RULES-cli.md. */
#include "builtin/builtin.h"

#include "formats/format.h"
#include "formats/split.h"
#include "rules/rule_tests.h"
#include "rules/sigma.h"
#include "rules/sigma_explain.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const struct builtin builtin_rules = {
    "rules", cmd_rules, "check Sigma rules, explain a match, run rules over event files",
    "usage: koban rules lint PATH...\n"
    "       koban rules explain RULE EVENTS\n"
    "       koban rules match [--source NAME] [-k] [-t] RULES... -- EVENTS...\n\n"
    "PATH and RULES are rule files or folders (searched recursively for *.yml\n"
    "and *.yaml).\n\n"
    "lint      loads every rule and prints each unsupported or invalid construct\n"
    "          as FILE:LINE: KEY: reason (malformed `tests:` included), then\n"
    "          warnings (a logsource no koban source has, a rule without id) and\n"
    "          a count line. Exit status 1 when there is any error.\n"
    "explain   RULE is FILE (its first rule) or FILE:ID (id or name). EVENTS is\n"
    "          a file or - (stdin) of one or more events. Prints, per selection,\n"
    "          whether it matched and, per field, the value found and the values\n"
    "          wanted, then the condition's result. Exit status 0 when the rule\n"
    "          matches every event, 1 when it misses one, 2 on an error.\n"
    "match     evaluates the rules over EVENTS (files, folders of *.json,\n"
    "          *.jsonl, *.ndjson, *.log, *.txt, or -) and prints one line per\n"
    "          (event, matching rule): file name, event index in its file (from\n"
    "          0), rule id, level, title, separated by tabs. Files are cut into\n"
    "          events as the daemon cuts them ({\"Records\":[...]}, arrays, NDJSON,\n"
    "          text lines); a text line becomes the event of koban's syslog\n"
    "          normalizer (message, host, user, src_ip, ...: see docs/RULES-cli.md).\n"
    "          By default EVERY rule runs on EVERY event, whatever its logsource.\n"
    "  --source NAME   run only the rules whose logsource maps to koban source\n"
    "                  NAME (and rules without a logsource)\n"
    "  -k, --keep-going  run the rules that loaded even when others did not\n"
    "                  (exit status stays 2)\n"
    "  -t, --text      read event files as text lines whatever they look like\n"
    "                  (a log whose lines start with '[' reads as JSON otherwise)\n"
    "Exit status of match: 0, 1 when an event could not be read, 2 when a rule\n"
    "could not be loaded or on a usage error.\n",
};

#define RULES_MAX_INPUT (1024u * 1024 * 1024) /* one event file */
#define RULES_MAX_EVENT (8u * 1024 * 1024)    /* one event */
#define RULES_TRACE_MAX (4u * 1024 * 1024)

static const char *const rule_exts[] = {".yml", ".yaml", NULL};
static const char *const event_exts[] = {".json", ".jsonl", ".ndjson", ".log", ".txt", NULL};

/* ---- lint ---- */

static void lint_warn(const struct sigma_rule *r, size_t *nwarn)
{
    if (!sigma_rule_source(r)) {
        printf("%s:%u: warning: logsource: product=%s service=%s category=%s maps to no koban "
               "source: the rule loads but the daemon never runs it\n",
               sigma_rule_file(r), sigma_rule_line(r),
               sigma_rule_product(r) ? sigma_rule_product(r) : "-",
               sigma_rule_service(r) ? sigma_rule_service(r) : "-",
               sigma_rule_category(r) ? sigma_rule_category(r) : "-");
        (*nwarn)++;
    }
    if (!sigma_rule_id(r)) {
        printf("%s:%u: warning: id: missing: matches are reported by rule id\n",
               sigma_rule_file(r), sigma_rule_line(r));
        (*nwarn)++;
    }
}

static int rules_lint(int argc, char **argv)
{
    if (argc < 2)
        return builtin_usage(&builtin_rules);
    char **files = NULL;
    size_t nfiles = 0;
    struct kb_why why = {{0}};
    struct sigma_ruleset *rs = NULL;
    if (rule_tests_paths((const char *const *)argv + 1, (size_t)(argc - 1), rule_exts, &files,
                         &nfiles, &why) != KB_OK ||
        sigma_ruleset_new(NULL, &rs, &why) != KB_OK) {
        rule_tests_paths_free(files, nfiles);
        return builtin_error("rules lint", "%s", why.msg), 2;
    }
    size_t nerr = 0, nwarn = 0;
    struct rule_tests tests = RULE_TESTS_INIT;
    for (size_t i = 0; i < nfiles; i++) {
        size_t e0 = sigma_ruleset_nerrors(rs), r0 = sigma_ruleset_count(rs);
        size_t t0 = tests.nerrors;
        sigma_load_file(files[i], rs, NULL, NULL);
        rule_tests_load_file(files[i], &tests, NULL);
        for (size_t k = e0; k < sigma_ruleset_nerrors(rs); k++, nerr++)
            printf("%s\n", sigma_ruleset_error(rs, k));
        for (size_t k = t0; k < tests.nerrors; k++, nerr++)
            printf("%s\n", tests.errors[k]);
        for (size_t k = r0; k < sigma_ruleset_count(rs); k++)
            lint_warn(sigma_ruleset_rule(rs, k), &nwarn);
    }
    printf("%zu file%s, %zu rule%s, %zu correlation%s, %zu error%s, %zu warning%s\n", nfiles,
           nfiles == 1 ? "" : "s", sigma_ruleset_count(rs),
           sigma_ruleset_count(rs) == 1 ? "" : "s", sigma_ruleset_ncorrelations(rs),
           sigma_ruleset_ncorrelations(rs) == 1 ? "" : "s", nerr, nerr == 1 ? "" : "s", nwarn,
           nwarn == 1 ? "" : "s");
    rule_tests_release(&tests);
    sigma_ruleset_free(rs);
    rule_tests_paths_free(files, nfiles);
    return nerr ? 1 : 0;
}

/* ---- events of a file, as rules see them ---- */

typedef void (*event_fn)(void *ctx, const char *file, size_t index,
                         const struct sigma_event *ev);

struct evwalk {
    const char *file;      /* as given (messages) */
    const char *base;      /* basename (output) */
    event_fn fn;
    void *ctx;
    struct buf text;       /* a text line's event */
    struct arena ar;       /* its parse */
    int bad;
};

static kb_err on_split(void *ctx, const struct split_event *se)
{
    struct evwalk *w = ctx;
    struct kb_why why = {{0}};
    struct sigma_event ev;
    if (se->kind == SPLIT_BAD) {
        fprintf(stderr, "koban rules: %s: event %zu: %s\n", w->file, se->index, se->error);
        w->bad = 1;
        return KB_OK;
    }
    if (se->kind == SPLIT_JSON) {
        /* offsets in the tree are relative to where its parse began */
        const char *base = se->raw.p - se->json->src_off;
        ev = (struct sigma_event){se->json, base, se->json->src_off + se->raw.n};
    } else {
        buf_reset(&w->text);
        arena_reset(&w->ar);
        struct json_value *root = NULL;
        kb_err e = rule_tests_text_event("syslog", se->raw.p, se->raw.n, kb_now_ms(), &w->text,
                                         &why);
        if (!e && (e = json_parse(w->text.p, w->text.len, NULL, &w->ar, &root, NULL)))
            kb_fail(&why, e, "the event of the line does not parse");
        if (e) {
            fprintf(stderr, "koban rules: %s: event %zu: %s\n", w->file, se->index, why.msg);
            w->bad = 1;
            return KB_OK;
        }
        ev = (struct sigma_event){root, w->text.p, w->text.len};
    }
    w->fn(w->ctx, w->base, se->index, &ev);
    return KB_OK;
}

/* Calls fn for each event of file ("-": stdin). Returns 1 when the file or
 * one of its events could not be read, else 0. */
static int for_each_event(const char *file, bool text, event_fn fn, void *ctx)
{
    struct builtin_input in;
    struct kb_why why = {{0}};
    if (builtin_input_open(file, RULES_MAX_INPUT, &in, &why) != KB_OK) {
        builtin_input_close(&in);
        return builtin_error("rules", "%s", why.msg);
    }
    const char *slash = strrchr(file, '/');
    struct evwalk w = {.file = file, .base = slash ? slash + 1 : file, .fn = fn, .ctx = ctx,
                       .text = BUF_INIT(4u * RULES_MAX_EVENT),
                       .ar = ARENA_INIT(64u * RULES_MAX_EVENT)};
    struct split_opts so = {.force_text = text, .max_event = RULES_MAX_EVENT, .max_depth = 64};
    struct arena ar = ARENA_INIT(2048u * 1024 * 1024);
    kb_err e = split_payload(in.p, in.n, &so, &ar, on_split, &w, &why);
    if (e)
        w.bad = builtin_error("rules", "%s: %s", file, why.msg[0] ? why.msg : kb_strerror(e));
    arena_release(&ar);
    arena_release(&w.ar);
    buf_release(&w.text);
    builtin_input_close(&in);
    return w.bad;
}

/* Loads rule files; prints every load error on stderr. Returns the number
 * of errors, or -1 when the paths themselves are wrong. */
static long load_rules(const char *cmd, char **paths, size_t npaths, struct sigma_ruleset **rs)
{
    char **files = NULL;
    size_t nfiles = 0;
    struct kb_why why = {{0}};
    *rs = NULL;
    if (rule_tests_paths((const char *const *)paths, npaths, rule_exts, &files, &nfiles,
                         &why) != KB_OK ||
        sigma_ruleset_new(NULL, rs, &why) != KB_OK) {
        rule_tests_paths_free(files, nfiles);
        builtin_error(cmd, "%s", why.msg);
        return -1;
    }
    for (size_t i = 0; i < nfiles; i++)
        sigma_load_file(files[i], *rs, NULL, NULL);
    size_t n = sigma_ruleset_nerrors(*rs);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "koban %s: error: %s\n", cmd, sigma_ruleset_error(*rs, i));
    rule_tests_paths_free(files, nfiles);
    return (long)n;
}

/* ---- explain ---- */

struct explain_ctx {
    const struct sigma_rule *r;
    struct buf out;
    size_t events, missed;
};

static void explain_one(void *ctx, const char *file, size_t index, const struct sigma_event *ev)
{
    struct explain_ctx *x = ctx;
    bool matched = false;
    buf_reset(&x->out);
    sigma_explain(x->r, ev, NULL, &x->out, &matched);
    printf("%sevent %zu of %s:\n%s", x->events ? "\n" : "", index, file,
           x->out.p ? x->out.p : "");
    x->events++;
    x->missed += !matched;
}

static int rules_explain(int argc, char **argv)
{
    if (argc != 3)
        return builtin_usage(&builtin_rules);
    const char *spec = argv[1], *id = NULL;
    char *file = kb_strdup(spec);
    struct stat st;
    if (stat(file, &st) != 0) {
        char *colon = strrchr(file, ':');
        if (colon) {
            *colon = '\0';
            id = spec + (colon - file) + 1;
        }
    }
    struct sigma_ruleset *rs = NULL;
    long nerr = load_rules("rules explain", &file, 1, &rs);
    const struct sigma_rule *r = NULL;
    if (rs && id) {
        r = sigma_ruleset_find(rs, id);
        for (size_t i = 0; !r && i < sigma_ruleset_count(rs); i++)
            if (strcmp(sigma_rule_title(sigma_ruleset_rule(rs, i)), id) == 0)
                r = sigma_ruleset_rule(rs, i);
    } else if (rs) {
        r = sigma_ruleset_rule(rs, 0);
    }
    int rc = 2;
    if (nerr >= 0 && !r) {
        builtin_error("rules explain", id ? "%s: no rule with id, name or title '%s'"
                                          : "%s: no rule loaded%s", file, id ? id : "");
    } else if (r) {
        printf("rule: %s (%s) at %s:%u\n", sigma_rule_title(r),
               sigma_rule_id(r) ? sigma_rule_id(r) : "no id", sigma_rule_file(r),
               sigma_rule_line(r));
        struct explain_ctx x = {.r = r, .out = BUF_INIT(RULES_TRACE_MAX)};
        int bad = for_each_event(argv[2], false, explain_one, &x);
        buf_release(&x.out);
        rc = bad || x.events == 0 ? 2 : x.missed ? 1 : 0;
    }
    sigma_ruleset_free(rs);
    free(file);
    fflush(stdout);
    return rc;
}

/* ---- match ---- */

struct match_ctx {
    const struct sigma_ruleset *rs;
    const char *source;
    const char *file;
    size_t index;
    size_t events, matches;
};

/* A TSV cell: tabs and line breaks become spaces. */
static void put_cell(const char *s)
{
    for (; s && *s; s++)
        putchar(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

static kb_err print_match(void *ctx, const struct sigma_rule *r, const struct sigma_event *ev)
{
    struct match_ctx *m = ctx;
    put_cell(m->file);
    printf("\t%zu\t", m->index);
    put_cell(sigma_rule_id(r) ? sigma_rule_id(r) : sigma_rule_name(r));
    putchar('\t');
    put_cell(sigma_rule_level(r));
    putchar('\t');
    put_cell(sigma_rule_title(r));
    putchar('\n');
    m->matches++;
    return KB_OK;
}

static void match_one(void *ctx, const char *file, size_t index, const struct sigma_event *ev)
{
    struct match_ctx *m = ctx;
    m->file = file;
    m->index = index;
    m->events++;
    sigma_match_all(m->rs, m->source, ev, print_match, m);
}

static int rules_match(int argc, char **argv)
{
    static const struct option opts[] = {{"source", required_argument, NULL, 's'},
                                          {"keep-going", no_argument, NULL, 'k'},
                                          {"text", no_argument, NULL, 't'},
                                          {NULL, 0, NULL, 0}};
    int dd = 0;
    for (int i = 1; i < argc && !dd; i++)
        if (strcmp(argv[i], "--") == 0)
            dd = i;
    if (!dd || dd + 1 >= argc)
        return builtin_usage(&builtin_rules);
    const char *source = NULL;
    bool keep_going = false, text = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(dd, argv, "s:kt", opts, NULL)) != -1) {
        if (ch == 's') {
            if (!format_by_name(optarg))
                return builtin_error("rules match", "unknown source '%s' (see 'koban help "
                                     "formats')", optarg), 2;
            source = optarg;
        } else if (ch == 'k') {
            keep_going = true;
        } else if (ch == 't') {
            text = true;
        } else {
            return builtin_usage(&builtin_rules);
        }
    }
    if (optind >= dd)
        return builtin_usage(&builtin_rules);
    struct sigma_ruleset *rs = NULL;
    long nerr = load_rules("rules match", argv + optind, (size_t)(dd - optind), &rs);
    if (nerr < 0 || (nerr > 0 && !keep_going)) {
        if (nerr > 0)
            fprintf(stderr, "koban rules match: %ld rule load error%s: nothing run (-k runs the "
                    "rules that loaded)\n", nerr, nerr == 1 ? "" : "s");
        sigma_ruleset_free(rs);
        return 2;
    }
    struct match_ctx m = {.rs = rs, .source = source};
    int bad = 0;
    for (int i = dd + 1; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0) {
            bad |= for_each_event("-", text, match_one, &m);
            continue;
        }
        char **files = NULL;
        size_t nfiles = 0;
        struct kb_why why = {{0}};
        if (rule_tests_paths((const char *const *)&argv[i], 1, event_exts, &files, &nfiles,
                             &why) != KB_OK)
            bad = builtin_error("rules match", "%s", why.msg);
        for (size_t k = 0; k < nfiles; k++)
            bad |= for_each_event(files[k], text, match_one, &m);
        rule_tests_paths_free(files, nfiles);
    }
    fflush(stdout);
    fprintf(stderr, "koban rules match: %zu rule%s, %zu event%s, %zu match%s\n",
            sigma_ruleset_count(rs), sigma_ruleset_count(rs) == 1 ? "" : "s", m.events,
            m.events == 1 ? "" : "s", m.matches, m.matches == 1 ? "" : "es");
    sigma_ruleset_free(rs);
    return nerr ? 2 : bad ? 1 : 0;
}

int cmd_rules(int argc, char **argv)
{
    if (argc < 2)
        return builtin_usage(&builtin_rules);
    const char *sub = argv[1];
    if (!strcmp(sub, "lint"))
        return rules_lint(argc - 1, argv + 1);
    if (!strcmp(sub, "explain"))
        return rules_explain(argc - 1, argv + 1);
    if (!strcmp(sub, "match"))
        return rules_match(argc - 1, argv + 1);
    builtin_error("rules", "unknown subcommand '%s' (lint, explain, match)", sub);
    return 2;
}
