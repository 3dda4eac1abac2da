/* cmd_normalize.c — `koban normalize FILE...`: print normalized alerts as
 * NDJSON without storing anything (to check what a new source becomes). */
#include "builtin/builtin.h"

#include "formats/format.h"
#include "formats/split.h"
#include "lib/jsonw.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

const struct builtin builtin_normalize = {
    "normalize", cmd_normalize, "print events as normalized alerts (NDJSON), store nothing",
    "usage: koban normalize [--source NAME] FILE... | -\n\n"
    "Reads each FILE (JSON object, array, {\"Records\":[...]}, NDJSON, or text\n"
    "lines for syslog) and prints one normalized alert per line on stdout.\n"
    "Events that cannot be normalized are reported on stderr with their index\n"
    "and the reason; the exit code is 1 when any was.\n\n"
    "  -s, --source NAME   force a format (see 'koban help formats')\n",
};

struct norm_ctx {
    struct buf out;
    size_t alerts;
};

static kb_err print_alert(void *ctx, struct alert *a)
{
    struct norm_ctx *c = ctx;
    buf_reset(&c->out);
    struct jw w;
    jw_init(&w, &c->out);
    alert_write_json(a, &w);
    kb_err e = jw_finish(&w);
    if (e)
        return e;
    fwrite(c->out.p, 1, c->out.len, stdout);
    fputc('\n', stdout);
    c->alerts++;
    return KB_OK;
}

struct norm_file {
    struct norm_ctx *c;
    const struct format *forced;
    const char *file;
    struct arena norm;   /* per-event normalizer memory */
    struct json_limits lim;
    int bad;
};

static kb_err normalize_event(void *ctx, const struct split_event *ev)
{
    struct norm_file *nf = ctx;
    struct kb_why why = {{0}};
    const struct format *f = nf->forced;
    kb_err e;
    arena_reset(&nf->norm);
    switch (ev->kind) {
    case SPLIT_BAD:
        e = kb_fail(&why, KB_EPARSE, "%s", ev->error);
        break;
    case SPLIT_TEXT:
        e = format_normalize(f, ev->raw, true, &nf->lim, &nf->norm, print_alert, nf->c, &why);
        break;
    default:
        if (!f)
            f = format_detect(ev->json);
        e = f->normalize_json ? f->normalize_json(ev->json, ev->raw, &nf->norm, print_alert,
                                                  nf->c, &why)
                              : kb_fail(&why, KB_EINVAL, "%s does not take JSON", f->name);
        break;
    }
    if (e && e != KB_EIO) {
        fprintf(stderr, "%s: event %zu: %s\n", nf->file, ev->index,
                why.msg[0] ? why.msg : kb_strerror(e));
        nf->bad = 1;
        return KB_OK;
    }
    return e;
}

static int normalize_file(const char *file, const struct format *forced, struct norm_ctx *c)
{
    struct buf data = BUF_INIT(1024u * 1024 * 1024);
    struct kb_why why = {{0}};
    if (builtin_read_file(file, data.max, &data, &why)) {
        buf_release(&data);
        return builtin_error("normalize", "%s", why.msg);
    }
    struct norm_file nf = {.c = c, .forced = forced, .file = file,
                           .norm = ARENA_INIT(64u * 1024 * 1024),
                           .lim = {.max_depth = 64, .max_bytes = 8u * 1024 * 1024}};
    struct split_opts so = {
        .force_text = forced && forced->normalize_text && !forced->normalize_json,
        .max_event = 8u * 1024 * 1024, .max_depth = 64};
    struct arena ar = ARENA_INIT(2048u * 1024 * 1024);
    kb_err e = split_payload(data.p ? data.p : "", data.len, &so, &ar, normalize_event, &nf,
                             &why);
    if (e)
        nf.bad = builtin_error("normalize", "%s: %s", file,
                               why.msg[0] ? why.msg : kb_strerror(e));
    arena_release(&ar);
    arena_release(&nf.norm);
    buf_release(&data);
    return nf.bad;
}

int cmd_normalize(int argc, char **argv)
{
    static const struct option opts[] = {{"source", required_argument, NULL, 's'},
                                          {NULL, 0, NULL, 0}};
    const struct format *forced = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
        if (ch == 's') {
            forced = format_by_name(optarg);
            if (!forced)
                return builtin_error("normalize", "unknown source '%s' (see 'koban help formats')",
                                     optarg), 2;
        } else {
            return builtin_usage(&builtin_normalize);
        }
    }
    if (optind >= argc)
        return builtin_usage(&builtin_normalize);
    struct norm_ctx c = {.out = BUF_INIT(16u * 1024 * 1024)};
    int rc = 0;
    for (int i = optind; i < argc; i++)
        rc |= normalize_file(argv[i], forced, &c);
    buf_release(&c.out);
    fflush(stdout);
    return rc;
}
