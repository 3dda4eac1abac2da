/*
 * bench_ingest.c — payloads for the benchmarks, and timed `koban ingest` runs.
 *
 *   bench_ingest templates --out FILE [--data DIR] [--min-bytes N] [--max-bytes N]
 *       Reads real CloudTrail records under DIR (default
 *       $KOBAN_SOURCE_DIR/../shared/data/cloudtrail: JSON arrays,
 *       {"Records":[...]} files or JSON lines), rewrites each compactly with
 *       koban's JSON writer, and marks what must vary: the principal
 *       (userIdentity arn, userName, principalId) gets "-{{ID}}" and eventID
 *       ends in "{{SEQ}}". Records without a principal, or outside the size
 *       window (default 600..2000 bytes, which keeps the mean near a typical
 *       1.1 KB record), are skipped. Writes one template per line; prints
 *       `templates=N mean_bytes=M`. Exits 3 when DIR holds no usable record
 *       (the caller then uses bench_load's built-in record).
 *
 *   bench_ingest gen --templates FILE --out FILE --count N [--distinct D] [--id-base B]
 *       Writes N events as NDJSON: event n is identity k = n % D (k = n
 *       when D is 0), template k % T with {{ID}} = B + k, and {{SEQ}} = n on
 *       12 digits — the same expansion as bench_load, so HTTP and file runs
 *       see equal data: exactly D issue identities.
 *
 *   bench_ingest run --koban PATH --data-dir DIR FILE
 *       Runs `koban ingest --quiet --data-dir DIR FILE` and prints
 *       `events_per_s=... koban_events_per_s=... accepted=... wall_s=...
 *       cpu_s=... maxrss_kb=...`: events_per_s counts the whole process
 *       (start, read, journal fsync, store, exit); koban_events_per_s is the
 *       figure koban prints itself (from reading the file to the store being
 *       caught up).
 *
 * Ownership: every buffer is local to the command that allocates it.
 */
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/jsonw.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BI_MAX_INPUT (256u * 1024 * 1024)     /* one data file, one template file */
#define MAX_RECORD (64u * 1024)
#define MAX_FILES 10000
#define MAX_COUNT 100000000ULL
#define MAX_DEPTH 48

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "bench_ingest: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 2;
}

static kb_err read_all(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return KB_EIO;
    char chunk[65536];
    size_t n;
    kb_err e = KB_OK;
    while (!e && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        e = buf_append(out, chunk, n);
    fclose(f);
    return e;
}

/* ---- templates ---------------------------------------------------------- */

struct tpl_ctx {
    struct jw jw;
    struct arena *ar;
    const char *input;      /* the text the value's src_off refers to */
    bool varied;            /* a principal field got {{ID}} */
};

static void put_key(struct tpl_ctx *t, const struct json_value *m)
{
    char *k = arena_strndup(t->ar, m->key, m->key_len);
    jw_key(&t->jw, k ? k : "");
}

/* Writes s followed by suffix as one JSON string. */
static void put_suffixed(struct tpl_ctx *t, struct kb_str s, const char *suffix)
{
    size_t sl = strlen(suffix);
    char *tmp = arena_alloc(t->ar, s.n + sl + 1);
    if (!tmp) {
        jw_strn(&t->jw, s.p, s.n);
        return;
    }
    memcpy(tmp, s.p, s.n);
    memcpy(tmp + s.n, suffix, sl);
    jw_strn(&t->jw, tmp, s.n + sl);
}

/* role: 0 plain, 1 the record root, 2 the userIdentity object. */
static void emit(struct tpl_ctx *t, const struct json_value *v, int role, int depth)
{
    if (depth > MAX_DEPTH) {
        jw_null(&t->jw);
        return;
    }
    switch (v->type) {
    case JSON_NULL: jw_null(&t->jw); break;
    case JSON_TRUE: jw_bool(&t->jw, true); break;
    case JSON_FALSE: jw_bool(&t->jw, false); break;
    case JSON_NUMBER: jw_raw(&t->jw, t->input + v->src_off, v->src_len); break;
    case JSON_STRING: jw_strn(&t->jw, v->u.str, v->len); break;
    case JSON_ARRAY:
        jw_arr_begin(&t->jw);
        for (const struct json_value *c = v->u.child; c; c = c->next)
            emit(t, c, 0, depth + 1);
        jw_arr_end(&t->jw);
        break;
    case JSON_OBJECT:
        jw_obj_begin(&t->jw);
        for (const struct json_value *m = v->u.child; m; m = m->next) {
            struct kb_str key = {m->key, m->key_len};
            put_key(t, m);
            if (role == 1 && kb_str_eq(key, "userIdentity") && m->type == JSON_OBJECT) {
                emit(t, m, 2, depth + 1);
            } else if (role == 1 && kb_str_eq(key, "eventID") && m->type == JSON_STRING) {
                struct kb_str id = {m->u.str, KB_MIN(m->len, 24u)};
                put_suffixed(t, id, "{{SEQ}}");
            } else if (role == 2 && m->type == JSON_STRING && m->len > 0 &&
                       (kb_str_eq(key, "arn") || kb_str_eq(key, "userName") ||
                        kb_str_eq(key, "principalId"))) {
                put_suffixed(t, (struct kb_str){m->u.str, m->len}, "-{{ID}}");
                t->varied = true;
            } else {
                emit(t, m, 0, depth + 1);
            }
        }
        jw_obj_end(&t->jw);
        break;
    default: jw_null(&t->jw); break;
    }
}

struct tpl_out {
    FILE *f;
    size_t kept, skipped, bytes, min_b, max_b;
};

static void take_record(struct tpl_out *o, const struct json_value *r, const char *input)
{
    if (r->type != JSON_OBJECT || !json_get(r, "eventSource") || !json_get(r, "eventName")) {
        o->skipped++;
        return;
    }
    struct arena ar = ARENA_INIT(4u * MAX_RECORD);
    struct buf b = BUF_INIT(MAX_RECORD);
    struct tpl_ctx t = {.ar = &ar, .input = input};
    jw_init(&t.jw, &b);
    emit(&t, r, 1, 0);
    /* "{{ID}}" and "{{SEQ}}" expand to about as many bytes as they take. */
    if (jw_finish(&t.jw) == KB_OK && t.varied && b.len >= o->min_b && b.len <= o->max_b &&
        !memchr(b.p, '\n', b.len)) {
        fwrite(b.p, 1, b.len, o->f);
        fputc('\n', o->f);
        o->kept++;
        o->bytes += b.len;
    } else {
        o->skipped++;
    }
    buf_release(&b);
    arena_release(&ar);
}

/* A file holds an array, a {"Records":[...]} object, one record, or JSON lines. */
static void take_file(struct tpl_out *o, const char *path)
{
    struct buf data = BUF_INIT(BI_MAX_INPUT);
    if (read_all(path, &data) != KB_OK || !data.p) {
        buf_release(&data);
        return;
    }
    struct json_limits lim = {.max_depth = 64, .max_bytes = BI_MAX_INPUT};
    struct arena ar = ARENA_INIT((size_t)8 * BI_MAX_INPUT);
    size_t pos = 0;
    while (pos < data.len) {
        struct json_value *v;
        size_t used = 0;
        if (json_parse_prefix(data.p + pos, data.len - pos, &lim, &ar, &v, &used, NULL) != KB_OK ||
            used == 0)
            break;
        const char *input = data.p + pos;
        const struct json_value *recs = v->type == JSON_ARRAY ? v : json_get(v, "Records");
        if (recs && recs->type == JSON_ARRAY) {
            for (const struct json_value *c = recs->u.child; c; c = c->next)
                take_record(o, c, input);
        } else {
            take_record(o, v, input);
        }
        pos += used;
        while (pos < data.len && (data.p[pos] == '\n' || data.p[pos] == '\r' ||
                                  data.p[pos] == ' ' || data.p[pos] == '\t'))
            pos++;
        arena_reset(&ar);
    }
    arena_release(&ar);
    buf_release(&data);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks dir (and one level of subfolders) in name order, for stable output. */
static void take_dir(struct tpl_out *o, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = kb_calloc(MAX_FILES, sizeof *names);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < MAX_FILES)
        if (de->d_name[0] != '.')
            names[n++] = kb_strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        int k = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (k > 0 && (size_t)k < sizeof path && stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode) && depth < 2)
                take_dir(o, path, depth + 1);
            else if (S_ISREG(st.st_mode) && strstr(names[i], ".json"))
                take_file(o, path);
        }
        free(names[i]);
    }
    free(names);
}

static int cmd_templates(const char *data_dir, const char *out, size_t min_b, size_t max_b)
{
    struct tpl_out o = {.min_b = min_b, .max_b = max_b};
    if (!(o.f = fopen(out, "w")))
        return fail(out, strerror(errno));
    take_dir(&o, data_dir, 0);
    if (fclose(o.f) != 0)
        return fail(out, strerror(errno));
    printf("templates=%zu skipped=%zu mean_bytes=%.0f\n", o.kept, o.skipped,
           o.kept ? (double)o.bytes / (double)o.kept : 0.0);
    return o.kept ? 0 : 3;
}

/* ---- gen ---------------------------------------------------------------- */

/* Writes line with {{ID}} and {{SEQ}} expanded (same rules as bench_load). */
static void expand(FILE *f, const char *p, size_t n, unsigned long long id, unsigned long long seq)
{
    while (n > 0) {
        const char *hit = memmem(p, n, "{{", 2);
        if (!hit) {
            fwrite(p, 1, n, f);
            return;
        }
        size_t lit = (size_t)(hit - p);
        fwrite(p, 1, lit, f);
        p += lit;
        n -= lit;
        if (n >= 6 && memcmp(p, "{{ID}}", 6) == 0) {
            fprintf(f, "%llu", id);
            p += 6;
            n -= 6;
        } else if (n >= 7 && memcmp(p, "{{SEQ}}", 7) == 0) {
            fprintf(f, "%012llu", seq);
            p += 7;
            n -= 7;
        } else {
            fwrite(p, 1, 2, f);
            p += 2;
            n -= 2;
        }
    }
}

static int cmd_gen(const char *tpl_path, const char *out, unsigned long long count,
                   unsigned long long distinct, unsigned long long base)
{
    struct buf tpl = BUF_INIT(BI_MAX_INPUT);
    if (read_all(tpl_path, &tpl) != KB_OK || !tpl.p)
        return fail(tpl_path, "cannot read (or larger than 256 MiB)");
    size_t nlines = 0, cap = 1024;
    struct kb_str *lines = kb_malloc(cap * sizeof *lines);
    for (size_t pos = 0; pos < tpl.len;) {
        const char *nl = memchr(tpl.p + pos, '\n', tpl.len - pos);
        size_t end = nl ? (size_t)(nl - tpl.p) : tpl.len;
        if (end > pos) {
            if (nlines == cap)
                lines = kb_realloc(lines, (cap *= 2) * sizeof *lines);
            lines[nlines++] = (struct kb_str){tpl.p + pos, end - pos};
        }
        pos = end + 1;
    }
    int rc = 0;
    FILE *f = nlines ? fopen(out, "w") : NULL;
    if (!f) {
        rc = fail(out, nlines ? strerror(errno) : "no templates");
    } else {
        static char iobuf[1u << 20];
        setvbuf(f, iobuf, _IOFBF, sizeof iobuf);
        for (unsigned long long i = 0; i < count; i++) {
            unsigned long long k = distinct ? i % distinct : i;
            const struct kb_str *l = &lines[k % nlines];
            expand(f, l->p, l->n, base + k, i);
            fputc('\n', f);
        }
        if (fclose(f) != 0)
            rc = fail(out, strerror(errno));
    }
    free(lines);
    buf_release(&tpl);
    if (!rc)
        printf("events=%llu distinct=%llu\n", count, distinct);
    return rc;
}

/* ---- run ---------------------------------------------------------------- */

static int cmd_run(const char *koban, const char *data_dir, const char *file)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return fail("pipe", strerror(errno));
    int64_t t0 = kb_mono_ns();
    pid_t pid = fork();
    if (pid < 0)
        return fail("fork", strerror(errno));
    if (pid == 0) {
        dup2(pfd[1], STDOUT_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        execl(koban, koban, "ingest", "--quiet", "--data-dir", data_dir, file, (char *)NULL);
        fprintf(stderr, "bench_ingest: exec %s: %s\n", koban, strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    char out[4096];
    size_t n = 0;
    ssize_t k;
    while ((k = read(pfd[0], out + n, sizeof out - 1 - n)) > 0 || (k < 0 && errno == EINTR))
        if (k > 0)
            n += (size_t)k;
    close(pfd[0]);
    out[n] = '\0';
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return fail("wait4", strerror(errno));
    double wall = (double)(kb_mono_ns() - t0) / 1e9;
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    /* "ingested N events from 1 file in X.XXs (Y events/s); Z rejected" */
    unsigned long long accepted = 0, rejected = 0;
    double rate = 0;
    const char *line = strstr(out, "ingested ");
    if (line) {
        char *end;
        accepted = strtoull(line + 9, &end, 10);
        const char *par = strchr(end, '(');
        if (par)
            rate = strtod(par + 1, NULL);
        const char *semi = strstr(end, "; ");
        if (semi)
            rejected = strtoull(semi + 2, NULL, 10);
    }
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && line && accepted > 0;
    printf("events_per_s=%.0f koban_events_per_s=%.0f accepted=%llu rejected=%llu wall_s=%.3f "
           "cpu_s=%.2f maxrss_kb=%ld exit=%d\n",
           wall > 0 ? (double)accepted / wall : 0.0, rate, accepted, rejected, wall, cpu,
           ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    if (!ok)
        fprintf(stderr, "bench_ingest: koban ingest failed; its output:\n%s", out);
    return ok ? 0 : 1;
}

/* ---- main --------------------------------------------------------------- */

static const char *arg(int argc, char **argv, const char *name, const char *dflt)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return dflt;
}

static bool num(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = s ? strtoull(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || *s == '-' || v > max)
        return false;
    *out = v;
    return true;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bench_ingest templates --out FILE [--data DIR] [--min-bytes N] [--max-bytes N]\n"
            "       bench_ingest gen --templates FILE --out FILE --count N [--distinct D] "
            "[--id-base B]\n"
            "       bench_ingest run --koban PATH --data-dir DIR FILE\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (strcmp(cmd, "templates") == 0) {
        const char *out = arg(argc, argv, "--out", NULL);
        const char *data = arg(argc, argv, "--data", KOBAN_SOURCE_DIR "/../shared/data/cloudtrail");
        unsigned long long lo = 600, hi = 2000;
        if (!out || !num(arg(argc, argv, "--min-bytes", "600"), MAX_RECORD, &lo) ||
            !num(arg(argc, argv, "--max-bytes", "2000"), MAX_RECORD, &hi))
            return usage();
        return cmd_templates(data, out, (size_t)lo, (size_t)hi);
    }
    if (strcmp(cmd, "gen") == 0) {
        const char *tpl = arg(argc, argv, "--templates", NULL), *out = arg(argc, argv, "--out", NULL);
        unsigned long long count, distinct = 0, base = 0;
        if (!tpl || !out || !num(arg(argc, argv, "--count", NULL), MAX_COUNT, &count) ||
            !num(arg(argc, argv, "--distinct", "0"), MAX_COUNT, &distinct) ||
            !num(arg(argc, argv, "--id-base", "0"), MAX_COUNT * 100, &base))
            return usage();
        return cmd_gen(tpl, out, count, distinct, base);
    }
    if (strcmp(cmd, "run") == 0 && argc == 7) {
        const char *koban = arg(argc, argv, "--koban", NULL);
        const char *dir = arg(argc, argv, "--data-dir", NULL);
        if (!koban || !dir)
            return usage();
        return cmd_run(koban, dir, argv[argc - 1]);
    }
    return usage();
}
