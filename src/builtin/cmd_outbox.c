/* cmd_outbox.c — `koban outbox`: notification jobs, dead letters, retry, drop. */
#include "builtin/builtin.h"

#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "store/db_outbox.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const struct builtin builtin_outbox = {
    "outbox",
    cmd_outbox,
    "list, retry or drop notification jobs (dead letters)",
    "usage: koban outbox list [--state S] [--receiver R] [--limit N] [--json]\n"
    "       koban outbox retry ID | --all-dead [--receiver R]\n"
    "       koban outbox drop ID\n"
    "       (each also takes --config FILE and --data-dir DIR)\n\n"
    "Every notification is a job in the outbox, written with the issue change\n"
    "that caused it, and sent by `koban serve` to its receiver:\n"
    "  pending   waiting to be sent (or to be retried) at NEXT, or after an\n"
    "            earlier job of the same issue (jobs of an issue go in order)\n"
    "  inflight  being sent\n"
    "  done      delivered\n"
    "  dead      failed for good (the receiver refused it, or too many\n"
    "            attempts); ERROR says why\n"
    "  dropped   dropped by hand; never sent\n\n"
    "list     jobs, oldest first (default: at most 100); --state pending|inflight|\n"
    "         done|dead|dropped; --json writes one object per line\n"
    "retry    sends a dead job again (from its first attempt); --all-dead retries\n"
    "         every dead job (of --receiver R only, when given)\n"
    "drop     marks a job dropped so it is never sent (kept in the list)\n",
};

struct ob_opts {
    const char *config, *data_dir, *receiver;
    int state;
    size_t limit;
    bool json, all_dead;
};

static kb_err ob_row(void *ctx, const struct db_outbox_job *j)
{
    struct buf *out = ctx;
    char next[32], created[32], updated[32];
    bool waiting = j->state == OUTBOX_PENDING && j->next_at >= OUTBOX_BLOCKED;
    if (waiting)
        snprintf(next, sizeof next, "after an earlier job");
    else
        kb_time_format(j->next_at, next);
    kb_time_format(j->created, created);
    kb_time_format(j->updated, updated);
    if (out) {
        buf_reset(out);
        struct jw w;
        jw_init(&w, out);
        jw_obj_begin(&w);
        jw_kv_int(&w, "id", j->id);
        jw_kv_str(&w, "receiver", j->receiver);
        jw_kv_int(&w, "issue_id", j->issue_id);
        char fp[33] = "";
        for (int i = 0; j->has_fp && i < 16; i++)
            snprintf(fp + 2 * i, 3, "%02x", j->fp[i]);
        jw_kv_str(&w, "fingerprint", j->has_fp ? fp : NULL);
        jw_kv_str(&w, "event", j->event);
        jw_kv_str(&w, "state", db_outbox_state_name(j->state));
        jw_kv_int(&w, "attempts", j->attempts);
        jw_kv_int(&w, "step", j->step);
        jw_kv_str(&w, "next_at", j->state == OUTBOX_PENDING && !waiting ? next : NULL);
        jw_key(&w, "waiting");
        jw_bool(&w, waiting); /* behind an earlier job of the same issue */
        jw_kv_str(&w, "created", created);
        jw_kv_str(&w, "updated", updated);
        jw_kv_str(&w, "last_error", j->last_error);
        jw_obj_end(&w);
        if (jw_finish(&w) == KB_OK)
            printf("%s\n", out->p);
        return KB_OK;
    }
    printf("%6" PRId64 "  %-12s %6" PRId64 "  %-13s %-8s %3d  %s  %s\n", j->id, j->receiver,
           j->issue_id, j->event ? j->event : "", db_outbox_state_name(j->state), j->attempts,
           j->state == OUTBOX_PENDING ? next : updated, j->last_error ? j->last_error : "");
    return KB_OK;
}

static int ob_list(struct db *db, const struct ob_opts *o)
{
    struct db_outbox_filter f = {.state = o->state, .receiver = o->receiver, .limit = o->limit};
    struct buf out = BUF_INIT(1 << 20);
    if (!o->json)
        printf("%6s  %-12s %6s  %-13s %-8s %3s  %-24s  %s\n", "ID", "RECEIVER", "ISSUE", "EVENT",
               "STATE", "TRY", "NEXT (pending) / CHANGED", "ERROR");
    kb_err e = db_outbox_list(db, &f, ob_row, o->json ? &out : NULL);
    buf_release(&out);
    return e ? builtin_error("outbox", "store error: %s", db_errmsg(db)) : 0;
}

static bool parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0)
        return false;
    *id = v;
    return true;
}

static int ob_retry(struct db *db, const struct ob_opts *o, const char *arg)
{
    int64_t now = kb_now_ms();
    if (o->all_dead) {
        int64_t n = 0;
        if (db_outbox_retry_dead(db, o->receiver, now, &n))
            return builtin_error("outbox", "store error: %s", db_errmsg(db));
        printf("%" PRId64 " dead job%s pending again\n", n, n == 1 ? "" : "s");
        return 0;
    }
    int64_t id;
    if (!arg || !parse_id(arg, &id))
        return builtin_usage(&builtin_outbox);
    kb_err e = db_outbox_retry(db, id, now);
    if (e == KB_ENOTFOUND)
        return builtin_error("outbox", "no job %" PRId64, id);
    if (e == KB_EINVAL)
        return builtin_error("outbox", "job %" PRId64 " is not dead; only dead jobs are retried",
                             id);
    if (e)
        return builtin_error("outbox", "store error: %s", db_errmsg(db));
    printf("job %" PRId64 " pending again\n", id);
    return 0;
}

static int ob_drop(struct db *db, const char *arg)
{
    int64_t id;
    if (!arg || !parse_id(arg, &id))
        return builtin_usage(&builtin_outbox);
    kb_err e = db_outbox_drop(db, id, kb_now_ms());
    if (e == KB_ENOTFOUND)
        return builtin_error("outbox", "no job %" PRId64, id);
    if (e == KB_EINVAL)
        return builtin_error("outbox", "job %" PRId64 " is already dropped", id);
    if (e)
        return builtin_error("outbox", "store error: %s", db_errmsg(db));
    printf("job %" PRId64 " dropped\n", id);
    return 0;
}

int cmd_outbox(int argc, char **argv)
{
    static const struct option lo[] = {
        {"state", required_argument, NULL, 's'},    {"receiver", required_argument, NULL, 'r'},
        {"limit", required_argument, NULL, 'n'},    {"json", no_argument, NULL, 'j'},
        {"all-dead", no_argument, NULL, 'a'},       {"config", required_argument, NULL, 'c'},
        {"data-dir", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
    struct ob_opts o = {.state = -1, .limit = 100};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:r:n:jac:d:", lo, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (db_outbox_state_parse(optarg, &o.state))
                return builtin_error("outbox",
                                     "--state: unknown state '%s' (pending, "
                                     "inflight, done, dead, dropped)",
                                     optarg),
                       2;
            break;
        case 'r':
            o.receiver = optarg;
            break;
        case 'n':
            o.limit = (size_t)strtoul(optarg, NULL, 10);
            break;
        case 'j':
            o.json = true;
            break;
        case 'a':
            o.all_dead = true;
            break;
        case 'c':
            o.config = optarg;
            break;
        case 'd':
            o.data_dir = optarg;
            break;
        default:
            return builtin_usage(&builtin_outbox);
        }
    }
    if (optind >= argc)
        return builtin_usage(&builtin_outbox);
    const char *verb = argv[optind];
    const char *arg = optind + 1 < argc ? argv[optind + 1] : NULL;
    bool list = !strcmp(verb, "list"), retry = !strcmp(verb, "retry"), drop = !strcmp(verb, "drop");
    int want_args = list || (retry && o.all_dead) ? 1 : 2;
    if ((!list && !retry && !drop) || argc - optind != want_args)
        return builtin_usage(&builtin_outbox);
    struct kb_config cfg;
    if (builtin_load_config(o.config, o.data_dir, &cfg))
        return 1;
    char path[4096];
    builtin_db_path(&cfg, path, sizeof path);
    config_release(&cfg);
    if (access(path, F_OK) != 0)
        return builtin_error("outbox", "no store at %s", path);
    struct db *db;
    struct kb_why why = {{0}};
    if (db_open(path, DB_CLIENT, 8, &db, &why))
        return builtin_error("outbox", "%s", why.msg);
    int rc = list ? ob_list(db, &o) : retry ? ob_retry(db, &o, arg) : ob_drop(db, arg);
    db_close(db);
    return rc;
}
