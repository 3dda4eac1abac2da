/* cmd_quarantine.c — `koban quarantine`: rejected events and why. */
#include "builtin/builtin.h"

#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "store/db.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const struct builtin builtin_quarantine = {
    "quarantine", cmd_quarantine, "list rejected events with the reason",
    "usage: koban quarantine [--limit N] [--json] [--config FILE] [--data-dir DIR]\n\n"
    "Every event koban could not accept is kept, with the reason, the ingest\n"
    "path and its journal seq. Newest first.\n",
};

struct q_ctx {
    bool json;
    struct buf out;
};

static kb_err q_row(void *ctx, const struct db_quarantine *q)
{
    struct q_ctx *c = ctx;
    char t[32];
    kb_time_format(q->received, t);
    if (c->json) {
        buf_reset(&c->out);
        struct jw w;
        jw_init(&w, &c->out);
        jw_obj_begin(&w);
        jw_kv_int(&w, "id", q->id);
        jw_kv_int(&w, "seq", (int64_t)q->seq);
        jw_kv_str(&w, "received", t);
        jw_kv_str(&w, "path", q->path);
        jw_kv_str(&w, "source", q->source);
        jw_kv_str(&w, "reason", q->reason);
        jw_key(&w, "raw");
        jw_strn(&w, q->raw.p, q->raw.n);
        jw_obj_end(&w);
        if (jw_finish(&w) == KB_OK)
            printf("%s\n", c->out.p);
    } else {
        printf("%6lld  %s  %-6s  %s\n        raw: %.*s%s\n", (long long)q->id, t,
               q->path ? q->path : "", q->reason ? q->reason : "", (int)KB_MIN(q->raw.n, 160),
               q->raw.p ? q->raw.p : "", q->raw.n > 160 ? "…" : "");
    }
    return KB_OK;
}

int cmd_quarantine(int argc, char **argv)
{
    static const struct option lo[] = {
        {"limit", required_argument, NULL, 'n'}, {"json", no_argument, NULL, 'j'},
        {"config", required_argument, NULL, 'c'}, {"data-dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0}};
    const char *config = NULL, *data_dir = NULL;
    struct q_ctx c = {.out = BUF_INIT(1 << 20)};
    size_t limit = 50;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "n:jc:d:", lo, NULL)) != -1) {
        switch (ch) {
        case 'n': limit = (size_t)strtoul(optarg, NULL, 10); break;
        case 'j': c.json = true; break;
        case 'c': config = optarg; break;
        case 'd': data_dir = optarg; break;
        default: return builtin_usage(&builtin_quarantine);
        }
    }
    struct kb_config cfg;
    if (builtin_load_config(config, data_dir, &cfg))
        return 1;
    char path[4096];
    builtin_db_path(&cfg, path, sizeof path);
    config_release(&cfg);
    if (access(path, F_OK) != 0)
        return builtin_error("quarantine", "no store at %s", path);
    struct db *db;
    struct kb_why why = {{0}};
    if (db_open(path, DB_CLIENT, 8, &db, &why))
        return builtin_error("quarantine", "%s", why.msg);
    kb_err e = db_quarantine_list(db, limit, q_row, &c);
    db_close(db);
    buf_release(&c.out);
    return e ? builtin_error("quarantine", "store error") : 0;
}
