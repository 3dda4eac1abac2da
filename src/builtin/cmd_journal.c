/* cmd_journal.c — `koban journal cat|stats`: read the raw event journal. */
#include "builtin/builtin.h"

#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "store/journal.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

const struct builtin builtin_journal = {
    "journal", cmd_journal, "print raw journal records (every accepted event)",
    "usage: koban journal cat [--after SEQ] [--seq N] [--json] [--config FILE] [--data-dir DIR]\n"
    "       koban journal stats\n\n"
    "The journal holds every accepted event verbatim, in arrival order. 'cat'\n"
    "prints payloads one per line (with --json: seq, time, kind, path, data).\n"
    "'koban serve' holds the journal while it runs; stop it first.\n",
};

static const char *kind_name(uint8_t k)
{
    return k == JOURNAL_EVENT_JSON ? "json" : k == JOURNAL_EVENT_TEXT ? "text"
                                  : k == JOURNAL_REJECT ? "reject" : "?";
}

int cmd_journal(int argc, char **argv)
{
    static const struct option lo[] = {
        {"after", required_argument, NULL, 'a'}, {"seq", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},        {"config", required_argument, NULL, 'c'},
        {"data-dir", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
    const char *config = NULL, *data_dir = NULL;
    uint64_t after = 0, only = 0;
    bool json = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "a:s:jc:d:", lo, NULL)) != -1) {
        switch (ch) {
        case 'a': after = strtoull(optarg, NULL, 10); break;
        case 's': only = strtoull(optarg, NULL, 10); break;
        case 'j': json = true; break;
        case 'c': config = optarg; break;
        case 'd': data_dir = optarg; break;
        default: return builtin_usage(&builtin_journal);
        }
    }
    const char *sub = optind < argc ? argv[optind] : "cat";
    if (strcmp(sub, "cat") && strcmp(sub, "stats"))
        return builtin_usage(&builtin_journal);
    struct kb_config cfg;
    if (builtin_load_config(config, data_dir, &cfg))
        return 1;
    char jpath[4096];
    builtin_journal_path(&cfg, jpath, sizeof jpath);
    config_release(&cfg);
    struct journal *j;
    struct kb_why why = {{0}};
    if (journal_open(jpath, NULL, &j, &why))
        return builtin_error("journal", "%s", why.msg);
    int rc = 0;
    if (!strcmp(sub, "stats")) {
        struct journal_stats st;
        journal_stats(j, &st);
        printf("durable_seq %llu\nsegments %llu\nbytes_on_disk %llu\ntorn_bytes_at_open %llu\n",
               (unsigned long long)journal_durable_seq(j), (unsigned long long)st.segments,
               (unsigned long long)st.disk_bytes, (unsigned long long)st.torn_bytes);
    } else {
        struct journal_reader *r;
        if (only)
            after = only - 1;
        if (journal_reader_open(j, after, &r)) {
            journal_close(j);
            return builtin_error("journal", "cannot read %s", jpath);
        }
        struct journal_entry e;
        struct buf out = BUF_INIT(64u * 1024 * 1024);
        kb_err err;
        while ((err = journal_reader_next(r, &e)) == KB_OK) {
            if (json) {
                char t[32];
                kb_time_format(e.recv_ms, t);
                buf_reset(&out);
                struct jw w;
                jw_init(&w, &out);
                jw_obj_begin(&w);
                jw_kv_int(&w, "seq", (int64_t)e.seq);
                jw_kv_str(&w, "received", t);
                jw_kv_str(&w, "kind", kind_name(e.kind));
                jw_kv_int(&w, "path", e.path);
                jw_kv_int(&w, "format_id", e.format_id);
                jw_key(&w, "data");
                jw_strn(&w, e.data.p, e.data.n);
                jw_obj_end(&w);
                if (jw_finish(&w) == KB_OK)
                    printf("%s\n", out.p);
            } else {
                fwrite(e.data.p, 1, e.data.n, stdout);
                fputc('\n', stdout);
            }
            if (only)
                break;
        }
        if (err != KB_OK && err != KB_ENOTFOUND)
            rc = builtin_error("journal", "read failed: %s", kb_strerror(err));
        buf_release(&out);
        journal_reader_close(r);
    }
    journal_close(j);
    return rc;
}
