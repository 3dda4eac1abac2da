/* spool.c — inotify-driven spool directory ingest. */
#include "ingest/spool.h"

#include "lib/inflate.h"
#include "lib/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_MAX_PENDING 4096      /* files tracked at once */
#define SPOOL_TICK_MS 100

struct pending {
    char name[256];
    off_t size;
    struct timespec mtime;
    int64_t stable_since_ms;  /* when size/mtime last changed */
};

struct spool {
    char *dir;
    unsigned settle_ms;
    size_t max_file;
    struct intake *intake;
    struct journal *journal;
    int ino;                  /* inotify fd */
    int wake;                 /* eventfd to stop the thread */
    pthread_t thread;
    atomic_bool stop;
    struct pending *pending;
    size_t npending;
    _Atomic uint64_t files_done, files_failed, events, rejected, errors;
};

static bool ignored_name(const char *n)
{
    size_t l = strlen(n);
    if (n[0] == '.')
        return true;
    if (l >= 4 && strcmp(n + l - 4, ".tmp") == 0)
        return true;
    if (l >= 5 && strcmp(n + l - 5, ".part") == 0)
        return true;
    return false;
}

static void track(struct spool *s, const char *name)
{
    if (ignored_name(name) || strlen(name) >= sizeof s->pending[0].name)
        return;
    for (size_t i = 0; i < s->npending; i++)
        if (strcmp(s->pending[i].name, name) == 0) {
            s->pending[i].stable_since_ms = kb_mono_ns() / 1000000;
            return;
        }
    if (s->npending >= SPOOL_MAX_PENDING)
        return; /* picked up by the next rescan */
    struct pending *p = &s->pending[s->npending++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->size = -1;
    p->stable_since_ms = kb_mono_ns() / 1000000;
}

static void rescan(struct spool *s)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
            continue;
        track(s, de->d_name);
    }
    closedir(d);
}

/* Moves dir/name to dir/sub/name (adding .N when taken) and writes err text
 * beside it when non-NULL. The .err is written first, so that whoever sees
 * the file in done/ or failed/ finds its .err complete. */
static void move_to(struct spool *s, const char *name, const char *sub, const char *err)
{
    char from[4096], to[4096], ep[4200];
    snprintf(from, sizeof from, "%s/%s", s->dir, name);
    snprintf(to, sizeof to, "%s/%s/%s", s->dir, sub, name);
    struct stat st;
    for (int i = 1; i < 1000 && stat(to, &st) == 0; i++)
        snprintf(to, sizeof to, "%s/%s/%s.%d", s->dir, sub, name, i);
    snprintf(ep, sizeof ep, "%s.err", to);
    if (err) {
        FILE *f = fopen(ep, "w");
        if (f) {
            fputs(err, f);
            fclose(f);
        }
    }
    if (rename(from, to) != 0) {
        log_error("spool: cannot move file", "file=%s to=%s err=\"%s\"", from, to,
                  strerror(errno));
        atomic_fetch_add(&s->errors, 1);
        if (err)
            unlink(ep);
    }
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t l = strlen(s), k = strlen(suffix);
    return l >= k && memcmp(s + l - k, suffix, k) == 0;
}

/* Reads path into out, gunzipping it (lib/inflate.h) when the name ends in
 * .gz or the bytes start with the gzip magic — S3 delivers CloudTrail as
 * *.json.gz, and a gzip file renamed without its suffix is still gzip. Both
 * the bytes on disk and the decoded bytes are bounded by max, and the
 * compressed bytes are streamed: only the decoded file is held. */
static kb_err read_input(const char *path, const char *name, size_t max, struct buf *out,
                         bool *gunzipped, struct kb_why *why)
{
    *gunzipped = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kb_fail(why, KB_EIO, "open: %s", strerror(errno));
    kb_err e = KB_OK;
    struct inflate_stream *z = NULL;
    size_t on_disk = 0;
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = kb_fail(why, KB_EIO, "read: %s", strerror(errno));
            break;
        }
        if (r == 0)
            break;
        if ((size_t)r > max - on_disk) {
            e = kb_fail(why, KB_ETOOBIG, "file is larger than %zu bytes", max);
            break;
        }
        if (on_disk == 0 && (has_suffix(name, ".gz") || inflate_is_gzip(chunk, (size_t)r))) {
            *gunzipped = true;
            if ((e = inflate_init(&z, max, why)) != KB_OK)
                break;
        }
        on_disk += (size_t)r;
        if (z)
            e = inflate_feed(z, chunk, (size_t)r, out, why);
        else if (buf_append(out, chunk, (size_t)r) != KB_OK)
            e = kb_fail(why, KB_ETOOBIG, "file is larger than %zu bytes", max);
        if (e)
            break;
    }
    if (e == KB_OK && z)
        e = inflate_finish(z, why);
    inflate_end(z);
    close(fd);
    return e;
}

static void ingest_file(struct spool *s, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    struct buf data = BUF_INIT(s->max_file);
    struct kb_why why = {{0}};
    struct intake_report *rep = kb_calloc(1, sizeof *rep);
    uint64_t last = 0;
    bool gunzipped = false;
    kb_err e = read_input(path, name, s->max_file, &data, &gunzipped, &why);
    bool read_failed = e == KB_EIO;
    if (e == KB_OK && data.len == 0)
        e = kb_fail(&why, KB_EINVAL, "%s", gunzipped ? "empty file (after gunzip)" : "empty file");
    if (e == KB_OK)
        e = intake_body(s->intake, data.p, data.len, JOURNAL_PATH_SPOOL, NULL, rep, &last, &why);
    if (e == KB_OK && last)
        e = journal_wait(s->journal, last, 60000);
    if (read_failed) {
        /* Unreadable now (permissions, I/O): left in place for the next
         * rescan rather than filed as bad data. */
        log_error("spool: cannot read file; left in place", "file=%s err=\"%s\"", name,
                  why.msg);
        atomic_fetch_add(&s->errors, 1);
    } else if (e == KB_EIO || e == KB_ETIMEOUT || e == KB_ECLOSED) {
        /* The journal failed: leave the file where it is for a later try. */
        log_error("spool: journal not durable; file left in place", "file=%s err=\"%s\"", name,
                  why.msg[0] ? why.msg : kb_strerror(e));
        atomic_fetch_add(&s->errors, 1);
    } else if (e != KB_OK || rep->accepted == 0) {
        struct buf err = BUF_INIT(1 << 20);
        if (e)
            buf_printf(&err, "%s\n", why.msg[0] ? why.msg : kb_strerror(e));
        for (size_t i = 0; i < rep->nreported; i++)
            buf_printf(&err, "event %zu: %s\n", rep->rejects[i].index, rep->rejects[i].reason);
        if (!e && rep->accepted == 0 && rep->rejected == 0)
            buf_puts(&err, "no events in file\n");
        move_to(s, name, "failed", err.p ? err.p : "failed\n");
        buf_release(&err);
        atomic_fetch_add(&s->files_failed, 1);
        atomic_fetch_add(&s->rejected, rep->rejected);
        char q[300];
        log_warn("spool: file failed", "file=%s rejected=%zu why=%s", name, rep->rejected,
                 kb_logq(q, sizeof q,
                         e ? (why.msg[0] ? why.msg : kb_strerror(e)) : "no event accepted"));
    } else {
        struct buf err = BUF_INIT(1 << 20);
        for (size_t i = 0; i < rep->nreported; i++)
            buf_printf(&err, "event %zu: %s\n", rep->rejects[i].index, rep->rejects[i].reason);
        if (rep->rejected > rep->nreported)
            buf_printf(&err, "... and %zu more rejected events (see `koban quarantine`)\n",
                       rep->rejected - rep->nreported);
        move_to(s, name, "done", rep->rejected ? err.p : NULL);
        buf_release(&err);
        atomic_fetch_add(&s->files_done, 1);
        atomic_fetch_add(&s->events, rep->accepted);
        atomic_fetch_add(&s->rejected, rep->rejected);
        log_info("spool: file ingested", "file=%s accepted=%zu rejected=%zu", name,
                 rep->accepted, rep->rejected);
    }
    free(rep);
    buf_release(&data);
}

/* Takes every pending file whose size and mtime held still for settle_ms. */
static void check_pending(struct spool *s)
{
    int64_t now = kb_mono_ns() / 1000000;
    size_t i = 0;
    while (i < s->npending && !atomic_load(&s->stop)) {
        struct pending *p = &s->pending[i];
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", s->dir, p->name);
        struct stat st;
        bool drop = false;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            drop = true; /* gone or not a file */
        } else if (st.st_size != p->size || st.st_mtim.tv_sec != p->mtime.tv_sec ||
                   st.st_mtim.tv_nsec != p->mtime.tv_nsec) {
            p->size = st.st_size;
            p->mtime = st.st_mtim;
            p->stable_since_ms = now;
        } else if (now - p->stable_since_ms >= (int64_t)s->settle_ms) {
            char name[256];
            memcpy(name, p->name, sizeof name);
            ingest_file(s, name);
            drop = true;
        }
        if (drop)
            s->pending[i] = s->pending[--s->npending];
        else
            i++;
    }
}

static void *spool_main(void *arg)
{
    struct spool *s = arg;
    char evbuf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int64_t last_rescan = 0;
    while (!atomic_load(&s->stop)) {
        struct pollfd pfd[2] = {{s->ino, POLLIN, 0}, {s->wake, POLLIN, 0}};
        int r = poll(pfd, 2, SPOOL_TICK_MS);
        if (r > 0 && (pfd[0].revents & POLLIN)) {
            ssize_t n = read(s->ino, evbuf, sizeof evbuf);
            for (char *p = evbuf; n > 0 && p < evbuf + n;) {
                struct inotify_event *ev = (struct inotify_event *)p;
                if (ev->mask & IN_Q_OVERFLOW)
                    rescan(s);
                else if (ev->len && !(ev->mask & IN_ISDIR))
                    track(s, ev->name);
                p += sizeof *ev + ev->len;
            }
        }
        int64_t now = kb_mono_ns() / 1000000;
        if (now - last_rescan > 30000) { /* belt and braces: missed events */
            rescan(s);
            last_rescan = now;
        }
        check_pending(s);
    }
    return NULL;
}

static kb_err make_dir(const char *path, struct kb_why *why)
{
    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        return kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
    return KB_OK;
}

kb_err spool_start(const struct kb_config *cfg, struct intake *in, struct journal *j,
                   struct spool **out, struct kb_why *why)
{
    return spool_start_opts(cfg, NULL, in, j, out, why);
}

kb_err spool_start_opts(const struct kb_config *cfg, const struct spool_opts *opts,
                        struct intake *in, struct journal *j, struct spool **out,
                        struct kb_why *why)
{
    char sub[4096];
    kb_err e = make_dir(cfg->spool.dir, why);
    snprintf(sub, sizeof sub, "%s/done", cfg->spool.dir);
    if (!e)
        e = make_dir(sub, why);
    snprintf(sub, sizeof sub, "%s/failed", cfg->spool.dir);
    if (!e)
        e = make_dir(sub, why);
    if (e)
        return e;
    struct spool *s = kb_calloc(1, sizeof *s);
    s->dir = kb_strdup(cfg->spool.dir);
    s->settle_ms = cfg->spool.settle_ms;
    s->max_file = opts && opts->max_file ? opts->max_file : SPOOL_MAX_FILE;
    s->intake = in;
    s->journal = j;
    s->pending = kb_calloc(SPOOL_MAX_PENDING, sizeof *s->pending);
    atomic_init(&s->stop, false);
    s->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    s->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->ino < 0 || s->wake < 0 ||
        inotify_add_watch(s->ino, s->dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY) <
            0) {
        e = kb_fail(why, KB_EIO, "spool %s: inotify: %s", s->dir, strerror(errno));
        goto fail;
    }
    rescan(s);
    if (pthread_create(&s->thread, NULL, spool_main, s) != 0) {
        e = kb_fail(why, KB_EIO, "spool: cannot start thread");
        goto fail;
    }
    *out = s;
    return KB_OK;
fail:
    if (s->ino >= 0)
        close(s->ino);
    if (s->wake >= 0)
        close(s->wake);
    free(s->pending);
    free(s->dir);
    free(s);
    return e;
}

void spool_stop(struct spool *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    uint64_t one = 1;
    ssize_t w = write(s->wake, &one, sizeof one);
    (void)w;
    pthread_join(s->thread, NULL);
    close(s->ino);
    close(s->wake);
    free(s->pending);
    free(s->dir);
    free(s);
}

kb_err spool_metrics(struct spool *s, struct buf *out)
{
    return buf_printf(out,
                      "# TYPE koban_spool_files_total counter\n"
                      "koban_spool_files_total{result=\"done\"} %llu\n"
                      "koban_spool_files_total{result=\"failed\"} %llu\n"
                      "# TYPE koban_spool_errors_total counter\n"
                      "koban_spool_errors_total %llu\n",
                      (unsigned long long)atomic_load(&s->files_done),
                      (unsigned long long)atomic_load(&s->files_failed),
                      (unsigned long long)atomic_load(&s->errors));
}
