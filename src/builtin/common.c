/* common.c — what the subcommands share: config loading, paths, errors. */
#include "builtin/builtin.h"

#include "lib/buf.h"
#include "notify/notifier.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const struct builtin *const koban_builtins[] = {
    &builtin_serve, &builtin_ingest, &builtin_normalize, &builtin_issues,
    &builtin_quarantine, &builtin_journal, &builtin_test, &builtin_rules, &builtin_outbox,
    &builtin_vuln, &builtin_incident, &builtin_help, NULL,
};

const struct builtin *builtin_find(const char *name)
{
    for (size_t i = 0; koban_builtins[i]; i++)
        if (strcmp(koban_builtins[i]->name, name) == 0)
            return koban_builtins[i];
    return NULL;
}

int builtin_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "koban %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int builtin_usage(const struct builtin *b)
{
    fprintf(stderr, "%s", b->usage);
    return 2;
}

int builtin_load_config(const char *path, const char *data_dir_override, struct kb_config *cfg)
{
    struct stat st;
    if (!path)
        path = getenv("KOBAN_CONFIG");
    if ((!path || !*path) && stat("koban.yaml", &st) == 0)
        path = "koban.yaml";
    if (path && !*path)
        path = NULL;
    struct kb_why why = {{0}};
    if (config_load(path, cfg, &why) != KB_OK) {
        fprintf(stderr, "koban: configuration error: %s\n", why.msg);
        return 1;
    }
    if (data_dir_override) {
        free(cfg->data_dir);
        cfg->data_dir = kb_strdup(data_dir_override);
        /* The spool follows data_dir unless the file set it explicitly. */
        free(cfg->spool.dir);
        struct buf b = BUF_INIT(4096);
        buf_printf(&b, "%s/spool", cfg->data_dir);
        cfg->spool.dir = buf_take(&b, NULL);
    }
    return 0;
}

void builtin_db_path(const struct kb_config *cfg, char *out, size_t n)
{
    snprintf(out, n, "%s/koban.db", cfg->data_dir);
}

void builtin_journal_path(const struct kb_config *cfg, char *out, size_t n)
{
    snprintf(out, n, "%s/journal", cfg->data_dir);
}

int builtin_ensure_data_dir(const struct kb_config *cfg)
{
    if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "koban: cannot create data_dir %s: %s\n", cfg->data_dir,
                strerror(errno));
        return 1;
    }
    return 0;
}

kb_err builtin_input_open(const char *path, size_t max, struct builtin_input *in,
                          struct kb_why *why)
{
    memset(in, 0, sizeof *in);
    in->p = "";
    buf_init(&in->buf, max);
    if (strcmp(path, "-") != 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            kb_err e = KB_OK;
            if ((uint64_t)st.st_size > max) {
                e = kb_fail(why, KB_ETOOBIG, "%s: larger than %zu bytes", path, max);
            } else if (st.st_size > 0) {
                /* MAP_POPULATE maps the cached pages in bulk: far cheaper than
                 * one fault per page, and there is no copy at all. (A file
                 * truncated by someone else while it is read would fault:
                 * acceptable for a command-line load, never used by serve.) */
                void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                               fd, 0);
                if (m == MAP_FAILED) {
                    e = kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
                } else {
                    madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
                    in->map = m;
                    in->map_len = (size_t)st.st_size;
                    in->p = m;
                    in->n = (size_t)st.st_size;
                }
            }
            close(fd);
            return e;
        }
        close(fd);
    }
    kb_err e = builtin_read_file(path, max, &in->buf, why);
    if (!e && in->buf.p) {
        in->p = in->buf.p;
        in->n = in->buf.len;
    }
    return e;
}

void builtin_input_close(struct builtin_input *in)
{
    if (in->map)
        munmap(in->map, in->map_len);
    buf_release(&in->buf);
    memset(in, 0, sizeof *in);
}

kb_err builtin_read_file(const char *path, size_t max, struct buf *out, struct kb_why *why)
{
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
    char chunk[65536];
    kb_err e = KB_OK;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        if (buf_append(out, chunk, (size_t)r) != KB_OK) {
            e = kb_fail(why, KB_ETOOBIG, "%s: larger than %zu bytes", path, max);
            break;
        }
    }
    if (fd != STDIN_FILENO)
        close(fd);
    return e;
}

kb_err builtin_notifier_open(const struct kb_config *cfg, struct route_set **rs,
                             struct notifier **nt, struct kb_why *why)
{
    *rs = NULL;
    *nt = NULL;
    if (!cfg->notify.routes || !*cfg->notify.routes)
        return KB_OK;
    struct notifier_opts no = {.repeat_interval_ms = (int64_t)cfg->notify.repeat_interval_s * 1000};
    kb_err e = route_load_file(cfg->notify.routes, rs, why);
    if (!e)
        e = notifier_new(*rs, &no, nt, why);
    if (e) {
        builtin_notifier_close(*rs, *nt);
        *rs = NULL;
        *nt = NULL;
    }
    return e;
}

void builtin_notifier_close(struct route_set *rs, struct notifier *nt)
{
    notifier_free(nt);
    route_set_free(rs);
}
