/* cmd_vuln_sync.c — `koban vuln sync`: the advisory feeds (vuln/feed.h)
 * into a mirror directory that `koban vuln check --osv DIR` reads:
 *
 *   DIR/<feed>/<id>.json     one OSV record per advisory (temp file + rename)
 *   DIR/.koban/kev.json      the KEV catalog: {"vulnerabilities":[...]}
 *   DIR/.koban/epss.csv      the EPSS scores as FIRST publishes them (plain):
 *                            "#score_date:...", "cve,epss,percentile", rows
 *   DIR/.koban/state.json    the feeds' cursors: {"<feed>":{"<key>":"<value>"}}
 *
 * .koban/ starts with a dot, so the advisory loader (which skips dot
 * files) never reads kev.json, epss.csv or state.json as advisories. state.json is
 * written after the records it covers (the feeds set a cursor only after
 * delivering what it covers; the file system is synced first) and
 * fsynced, so a sync that dies, even with the machine, resumes. */
#include "builtin/builtin.h"
#include "builtin/cmd_vuln.h"
#include "vuln/feed_settings.h"

#include "lib/arena.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "notify/http_client.h"
#include "vuln/feed.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYNC_MAX_STATE 1024
#define SYNC_MAX_ID 200

struct state_ent {
    char feed[8];
    char *key, *value;
};

struct mirror {
    const char *dir;
    struct state_ent st[SYNC_MAX_STATE];
    size_t nst;
    struct buf kev; /* entries of the catalog being received, as JSON */
    bool kev_first;
    struct buf epss; /* the scores being received, as CSV rows */
    int64_t epss_date;
    bool tty;
    bool progress_shown;
};

/* Writes data to path through path.tmp and a rename; fsync when durable. */
static kb_err write_atomic(const char *path, const char *data, size_t len, bool durable)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return KB_EIO;
    size_t off = 0;
    while (off < len) {
        ssize_t k = write(fd, data + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    bool ok = off == len && (!durable || fsync(fd) == 0);
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return KB_EIO;
    }
    return KB_OK;
}

static kb_err ensure_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return KB_OK;
    return KB_EIO;
}

/* An id usable as a file name: letters, digits, . _ - :, not leading '.'. */
static bool id_ok(const char *id)
{
    size_t n = strlen(id);
    if (!n || n > SYNC_MAX_ID || id[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == ':'))
            return false;
    }
    return true;
}

static void clear_progress(struct mirror *m)
{
    if (m->progress_shown) {
        fputs("\r\033[K", stderr);
        m->progress_shown = false;
    }
}

static void m_warn(void *ctx, const char *feed, const char *msg)
{
    clear_progress(ctx);
    fprintf(stderr, "koban vuln sync: %s: %s\n", feed, msg);
}

static void m_progress(void *ctx, const char *feed, int64_t done, int64_t total)
{
    struct mirror *m = ctx;
    if (!m->tty)
        return;
    if (total >= 0)
        fprintf(stderr, "\r\033[K%s: %lld/%lld", feed, (long long)done, (long long)total);
    else
        fprintf(stderr, "\r\033[K%s: %lld", feed, (long long)done);
    m->progress_shown = true;
}

static kb_err m_advisory(void *ctx, const char *feed, const char *id, const char *json, size_t len)
{
    struct mirror *m = ctx;
    if (!id_ok(id)) {
        m_warn(ctx, feed, "an advisory id that cannot be a file name was skipped");
        return KB_OK;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", m->dir, feed);
    if (ensure_dir(path) != KB_OK)
        return KB_EIO;
    snprintf(path, sizeof path, "%s/%s/%s.json", m->dir, feed, id);
    return write_atomic(path, json, len, false);
}

static kb_err m_kev_begin(void *ctx)
{
    struct mirror *m = ctx;
    buf_reset(&m->kev);
    m->kev_first = true;
    return buf_puts(&m->kev, "{\"vulnerabilities\":[");
}

static void kv_date(struct jw *w, const char *key, int64_t ms)
{
    char t[32];
    if (ms <= 0)
        return;
    kb_time_format(ms, t);
    jw_key(w, key);
    jw_strn(w, t, 10);
}

static kb_err m_kev(void *ctx, const struct feed_kev *k)
{
    struct mirror *m = ctx;
    if (!m->kev_first && buf_putc(&m->kev, ',') != KB_OK)
        return KB_ETOOBIG;
    m->kev_first = false;
    struct jw w;
    jw_init(&w, &m->kev);
    jw_obj_begin(&w);
    jw_kv_str(&w, "cveID", k->cve);
    if (k->vendor)
        jw_kv_str(&w, "vendorProject", k->vendor);
    if (k->product)
        jw_kv_str(&w, "product", k->product);
    if (k->name)
        jw_kv_str(&w, "vulnerabilityName", k->name);
    kv_date(&w, "dateAdded", k->date_added_ms);
    kv_date(&w, "dueDate", k->due_date_ms);
    jw_kv_str(&w, "knownRansomwareCampaignUse", k->ransomware ? "Known" : "Unknown");
    jw_obj_end(&w);
    return jw_finish(&w);
}

static kb_err m_kev_end(void *ctx, bool complete)
{
    struct mirror *m = ctx;
    if (!complete)
        return KB_OK;
    kb_err e = buf_puts(&m->kev, "]}\n");
    if (e != KB_OK)
        return e;
    char path[4096];
    snprintf(path, sizeof path, "%s/.koban/kev.json", m->dir);
    return write_atomic(path, m->kev.p, m->kev.len, true);
}

static kb_err m_epss_begin(void *ctx)
{
    struct mirror *m = ctx;
    buf_reset(&m->epss);
    m->epss_date = 0;
    return buf_puts(&m->epss, "cve,epss,percentile\n");
}

static kb_err m_epss(void *ctx, const struct feed_epss *s)
{
    struct mirror *m = ctx;
    m->epss_date = s->date_ms;
    return buf_printf(&m->epss, "%s,%.5f,%.5f\n", s->cve, s->score, s->percentile);
}

static kb_err m_epss_end(void *ctx, bool complete)
{
    struct mirror *m = ctx;
    if (!complete)
        return KB_OK;
    char path[4096], head[64] = "";
    if (m->epss_date > 0) {
        char t[32];
        kb_time_format(m->epss_date, t);
        snprintf(head, sizeof head, "#score_date:%.10sT00:00:00+0000\n", t);
    }
    snprintf(path, sizeof path, "%s/.koban/epss.csv", m->dir);
    struct buf b = BUF_INIT(m->epss.len + sizeof head);
    kb_err e = buf_puts(&b, head);
    if (e == KB_OK && m->epss.len)
        e = buf_append(&b, m->epss.p, m->epss.len);
    if (e == KB_OK)
        e = write_atomic(path, b.p, b.len, true);
    buf_release(&b);
    return e;
}

static struct state_ent *state_find(struct mirror *m, const char *feed, const char *key)
{
    for (size_t i = 0; i < m->nst; i++)
        if (strcmp(m->st[i].feed, feed) == 0 && strcmp(m->st[i].key, key) == 0)
            return &m->st[i];
    return NULL;
}

static kb_err m_state_get(void *ctx, const char *feed, const char *key, char *out, size_t outsz)
{
    struct state_ent *s = state_find(ctx, feed, key);
    if (!s)
        return KB_ENOTFOUND;
    snprintf(out, outsz, "%s", s->value);
    return KB_OK;
}

static kb_err state_save(struct mirror *m)
{
    struct buf b = BUF_INIT(4u << 20);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    for (int f = 0; f < FEED_COUNT; f++) {
        const char *name = feed_name((enum feed_id)f);
        bool any = false;
        for (size_t i = 0; i < m->nst; i++) {
            if (strcmp(m->st[i].feed, name) != 0)
                continue;
            if (!any) {
                jw_key(&w, name);
                jw_obj_begin(&w);
            }
            any = true;
            jw_kv_str(&w, m->st[i].key, m->st[i].value);
        }
        if (any)
            jw_obj_end(&w);
    }
    jw_obj_end(&w);
    kb_err e = jw_finish(&w);
    if (e == KB_OK)
        e = buf_putc(&b, '\n');
    /* The records the new cursors cover reach the disk first: one syncfs
     * instead of an fsync per record file. */
    int dfd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || syncfs(dfd) != 0)
        e = e == KB_OK ? KB_EIO : e;
    if (dfd >= 0)
        close(dfd);
    char path[4096];
    snprintf(path, sizeof path, "%s/.koban/state.json", m->dir);
    if (e == KB_OK)
        e = write_atomic(path, b.p, b.len, true);
    buf_release(&b);
    return e;
}

static kb_err m_state_set(void *ctx, const char *feed, const char *key, const char *value)
{
    struct mirror *m = ctx;
    struct state_ent *s = state_find(m, feed, key);
    if (!value) {
        if (!s)
            return KB_OK;
        free(s->key);
        free(s->value);
        *s = m->st[--m->nst];
    } else if (s) {
        free(s->value);
        s->value = kb_strdup(value);
    } else {
        if (m->nst == SYNC_MAX_STATE || strlen(feed) >= sizeof m->st[0].feed)
            return KB_ETOOBIG;
        s = &m->st[m->nst++];
        snprintf(s->feed, sizeof s->feed, "%s", feed);
        s->key = kb_strdup(key);
        s->value = kb_strdup(value);
    }
    return state_save(m);
}

/* Loads DIR/.koban/state.json when it exists. */
static int state_load(struct mirror *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.koban/state.json", m->dir);
    struct buf b = BUF_INIT(4u << 20);
    struct kb_why why = {{0}};
    if (access(path, F_OK) != 0) {
        buf_release(&b);
        return 0;
    }
    if (builtin_read_file(path, 4u << 20, &b, &why) != KB_OK) {
        buf_release(&b);
        return builtin_error("vuln sync", "%s: %s", path, why.msg), 1;
    }
    struct arena a = ARENA_INIT(32u << 20);
    struct json_value *root = NULL;
    int rc = 0;
    if (json_parse(b.p ? b.p : "", b.len, NULL, &a, &root, NULL) != KB_OK ||
        root->type != JSON_OBJECT) {
        rc = builtin_error("vuln sync", "%s: not a JSON object", path);
    } else {
        for (const struct json_value *f = root->u.child; f; f = f->next) {
            if (f->type != JSON_OBJECT || f->key_len >= sizeof m->st[0].feed)
                continue;
            for (const struct json_value *k = f->u.child; k && m->nst < SYNC_MAX_STATE;
                 k = k->next) {
                struct kb_str v = json_str(k);
                if (!v.p || v.n >= FEED_STATE_MAX)
                    continue;
                struct state_ent *s = &m->st[m->nst++];
                snprintf(s->feed, sizeof s->feed, "%.*s", (int)f->key_len, f->key);
                s->key = kb_strndup(k->key, k->key_len);
                s->value = kb_strndup(v.p, v.n);
            }
        }
    }
    arena_release(&a);
    buf_release(&b);
    return rc;
}

/* The usage on f; 0 when asked for (--help, stdout), else 2. */
static int usage_to(FILE *f)
{
    fputs("usage: koban vuln sync [--mirror DIR | --config FILE --data-dir DIR]\n"
          "         [--feed NAME]... [--offline SRC]\n"
          "         [--base-url FEED=URL]... [--nvd-api-key KEY] [--ghsa-token TOKEN]\n"
          "         [--osv-ecosystem NAME]... [--since DATE] [--window-days N]\n"
          "         [--timeout SECONDS] [--retries N] [--rate FEED=N/SECONDS]\n"
          "Without --mirror the advisories go into koban's store and are matched\n"
          "against every asset (findings become issues); the feeds, URLs and keys\n"
          "come from koban.yaml's vuln.* keys, and the options override them.\n"
          "With --mirror they are written to DIR as OSV files (koban vuln check\n"
          "--osv DIR reads them; --offline DIR imports them elsewhere).\n"
          "feeds: osv nvd ghsa jvn kev epss (all when no --feed). Keys may also come\n"
          "from KOBAN_NVD_API_KEY and KOBAN_GITHUB_TOKEN. Exit 0: every feed synced;\n"
          "1: some feed failed (the others are written); 2: usage.\n",
          f);
    return f == stdout ? 0 : 2;
}

static int usage(void)
{
    return usage_to(stderr);
}

/* "FEED=REST": the feed's id and REST; false when malformed. */
static bool feed_arg(const char *arg, enum feed_id *id, const char **rest)
{
    const char *eq = strchr(arg, '=');
    char name[16];
    if (!eq || (size_t)(eq - arg) >= sizeof name)
        return false;
    snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
    *rest = eq + 1;
    return feed_parse_name(name, id) == KB_OK;
}

static bool parse_pos(const char *s, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > max)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, struct feed_config *c, const char **mirror,
                      const char **offline, bool store)
{
    static const struct option lo[] = {{"mirror", required_argument, NULL, 'm'},
                                       {"config", required_argument, NULL, 'C'},
                                       {"data-dir", required_argument, NULL, 'D'},
                                       {"feed", required_argument, NULL, 'f'},
                                       {"offline", required_argument, NULL, 'o'},
                                       {"base-url", required_argument, NULL, 'b'},
                                       {"nvd-api-key", required_argument, NULL, 'k'},
                                       {"ghsa-token", required_argument, NULL, 'g'},
                                       {"osv-ecosystem", required_argument, NULL, 'e'},
                                       {"since", required_argument, NULL, 's'},
                                       {"window-days", required_argument, NULL, 'w'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"retries", required_argument, NULL, 'r'},
                                       {"rate", required_argument, NULL, 'R'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    bool chosen = false;
    int ch;
    int64_t v;
    enum feed_id id;
    const char *rest;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "m:f:o:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'm':
            *mirror = optarg;
            break;
        case 'C': /* read before (store mode) */
        case 'D':
            break;
        case 'o':
            *offline = optarg;
            break;
        case 'f':
            if (feed_parse_name(optarg, &id) != KB_OK)
                return builtin_error("vuln sync", "--feed: unknown feed '%s'", optarg), 2;
            if (!chosen)
                for (int i = 0; i < FEED_COUNT; i++)
                    c->feed[i].enabled = false;
            chosen = true;
            c->feed[id].enabled = true;
            break;
        case 'b':
            if (!feed_arg(optarg, &id, &rest) ||
                (strncmp(rest, "http://", 7) != 0 && strncmp(rest, "https://", 8) != 0))
                return builtin_error("vuln sync", "--base-url: want FEED=http(s)://..."), 2;
            c->feed[id].base_url = rest;
            break;
        case 'k':
            c->feed[FEED_NVD].api_key = optarg;
            break;
        case 'g':
            c->feed[FEED_GHSA].api_key = optarg;
            break;
        case 'e':
            if (c->feed[FEED_OSV].n_ecosystems == FEED_MAX_ECOSYSTEMS)
                return builtin_error("vuln sync", "--osv-ecosystem: too many"), 2;
            c->feed[FEED_OSV].ecosystems[c->feed[FEED_OSV].n_ecosystems++] = optarg;
            break;
        case 's': {
            int64_t ms;
            if (kb_time_parse_rfc3339(kb_str_c(optarg), &ms) != KB_OK || ms <= 0)
                return builtin_error("vuln sync", "--since: want an RFC 3339 time"), 2;
            for (int i = 0; i < FEED_COUNT; i++)
                c->feed[i].since_ms = ms;
            break;
        }
        case 'w':
            if (!parse_pos(optarg, 120, &v))
                return builtin_error("vuln sync", "--window-days: 1 to 120"), 2;
            c->feed[FEED_NVD].window_ms = c->feed[FEED_JVN].window_ms = v * 24 * 3600 * 1000;
            break;
        case 't':
            if (!parse_pos(optarg, 86400, &v))
                return builtin_error("vuln sync", "--timeout: seconds, 1 to 86400"), 2;
            for (int i = 0; i < FEED_COUNT; i++)
                c->feed[i].timeout_ms = v * 1000;
            break;
        case 'r':
            if (!parse_pos(optarg, 20, &v))
                return builtin_error("vuln sync", "--retries: 1 to 20"), 2;
            for (int i = 0; i < FEED_COUNT; i++)
                c->feed[i].max_retries = (int)v;
            break;
        case 'R': {
            int64_t n, s;
            const char *slash;
            char num[24];
            if (!feed_arg(optarg, &id, &rest) || !(slash = strchr(rest, '/')) ||
                (size_t)(slash - rest) >= sizeof num)
                return builtin_error("vuln sync", "--rate: want FEED=N/SECONDS"), 2;
            snprintf(num, sizeof num, "%.*s", (int)(slash - rest), rest);
            if (!parse_pos(num, 100000, &n) || !parse_pos(slash + 1, 86400, &s))
                return builtin_error("vuln sync", "--rate: want FEED=N/SECONDS"), 2;
            c->feed[id].rate_count = (int)n;
            c->feed[id].rate_window_ms = s * 1000;
            break;
        }
        case 'h':
            usage_to(stdout);
            return -1; /* done: the caller exits 0 */
        default:
            return usage();
        }
    }
    if ((!store && !*mirror) || optind != argc)
        return usage();
    return 0;
}

/* The value of --NAME VALUE or --NAME=VALUE in argv, or NULL. */
static const char *opt_value(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            return argv[i] + n + 1;
        if (strcmp(argv[i], name) == 0 && i + 1 < argc)
            return argv[i + 1];
    }
    return NULL;
}

/* True when path is dir or under it (the import would read its own
 * output). A path that does not exist yet is judged by its parent. */
static bool inside(const char *path, const char *dir)
{
    char rd[PATH_MAX], rp[PATH_MAX], parent[PATH_MAX];
    if (!realpath(dir, rd))
        return false;
    if (!realpath(path, rp)) {
        snprintf(parent, sizeof parent, "%s", path);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
        if (!realpath(slash ? (parent[0] ? parent : "/") : ".", rp))
            return false;
    }
    size_t n = strlen(rd);
    return strncmp(rp, rd, n) == 0 && (rp[n] == '\0' || rp[n] == '/' || n == 1);
}

int cmd_vuln_sync(int argc, char **argv)
{
    struct feed_config c;
    feed_config_defaults(&c);
    bool store = !opt_value(argc, argv, "--mirror");
    for (int i = 1; store && i < argc; i++)
        store = strncmp(argv[i], "-m", 2) != 0;
    struct kb_config cfg;
    char *mem = NULL;
    if (store) {
        if (builtin_load_config(opt_value(argc, argv, "--config"),
                                opt_value(argc, argv, "--data-dir"), &cfg))
            return 2;
        struct kb_why why = {{0}};
        if (feed_settings(&cfg, &c, &mem, &why) != KB_OK) {
            config_release(&cfg);
            return builtin_error("vuln sync", "%s", why.msg), 2;
        }
    }
    if (getenv("KOBAN_NVD_API_KEY"))
        c.feed[FEED_NVD].api_key = getenv("KOBAN_NVD_API_KEY");
    if (getenv("KOBAN_GITHUB_TOKEN"))
        c.feed[FEED_GHSA].api_key = getenv("KOBAN_GITHUB_TOKEN");
    const char *dir = NULL, *offline = NULL;
    int rc = parse_args(argc, argv, &c, &dir, &offline, store);
    if (store) {
        if (!rc)
            rc = vuln_sync_store(&cfg, &c, offline);
        config_release(&cfg);
        free(mem);
        return rc < 0 ? 0 : rc;
    }
    if (rc)
        return rc < 0 ? 0 : rc;
    if (offline && inside(dir, offline))
        return builtin_error("vuln sync", "--mirror %s is inside --offline %s", dir, offline), 2;
    struct mirror *m = kb_calloc(1, sizeof *m);
    m->dir = dir;
    m->tty = isatty(2);
    buf_init(&m->kev, 64u << 20);
    buf_init(&m->epss, 128u << 20);
    char path[4096];
    snprintf(path, sizeof path, "%s/.koban", dir);
    if (ensure_dir(dir) != KB_OK || ensure_dir(path) != KB_OK) {
        rc = builtin_error("vuln sync", "%s: cannot create: %s", path, strerror(errno));
        goto out;
    }
    if ((rc = state_load(m)) != 0)
        goto out;
    struct feed_sink sink = {.ctx = m,
                             .advisory = m_advisory,
                             .kev_begin = m_kev_begin,
                             .kev = m_kev,
                             .kev_end = m_kev_end,
                             .epss_begin = m_epss_begin,
                             .epss = m_epss,
                             .epss_end = m_epss_end,
                             .state_get = m_state_get,
                             .state_set = m_state_set,
                             .progress = m_progress,
                             .warn = m_warn};
    struct feed_result res[FEED_COUNT];
    struct kb_why why = {{0}};
    kb_err e;
    if (offline) {
        e = feed_import_dir(offline, &sink, res, &why);
    } else {
        if (http_client_global_init() != KB_OK) {
            rc = builtin_error("vuln sync", "cannot initialise HTTP");
            goto out;
        }
        e = feed_sync(&c, &sink, res, &why);
        http_client_global_cleanup();
    }
    clear_progress(m);
    for (int i = 0; i < FEED_COUNT; i++) {
        if (!res[i].ran)
            continue;
        if (res[i].err == KB_OK)
            printf("%s: ok, %lld advisories, %lld kev entries, %lld epss scores, %lld requests%s\n",
                   feed_name((enum feed_id)i), (long long)res[i].advisories, (long long)res[i].kev,
                   (long long)res[i].epss, (long long)res[i].requests,
                   res[i].not_modified ? ", not modified" : "");
        else
            printf("%s: FAILED after %lld advisories: %s\n", feed_name((enum feed_id)i),
                   (long long)res[i].advisories, res[i].msg);
    }
    if (e != KB_OK) {
        if (!offline || why.msg[0])
            builtin_error("vuln sync", "%s", why.msg[0] ? why.msg : kb_strerror(e));
        rc = 1;
    }
out:
    for (size_t i = 0; i < m->nst; i++) {
        free(m->st[i].key);
        free(m->st[i].value);
    }
    buf_release(&m->kev);
    buf_release(&m->epss);
    free(m);
    return rc;
}
