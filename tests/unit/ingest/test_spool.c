/*
 * test_spool.c — the spool directory on a real directory, journal and
 * intake: plain and gzip files (CloudTrail's *.json.gz, NDJSON .gz with
 * several members, gzip without the suffix) are ingested and moved to done/;
 * corrupt, truncated, empty and over-the-limit gzip goes to failed/ with a
 * .err that says why, and none of its bytes reach the journal.
 */
#include "ingest/spool.h"

#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <zlib.h>

struct env {
    char dir[64];
    char spool[128];
    struct journal *j;
    struct intake *in;
    struct spool *sp;
    struct kb_config cfg;
};

static bool env_open(struct env *e, size_t max_file)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/koban-spool-XXXXXX");
    if (!mkdtemp(e->dir))
        return false;
    snprintf(e->spool, sizeof e->spool, "%s/spool", e->dir);
    struct kb_why why = {{0}};
    struct journal_opts jo = {.no_sync = true};
    T_EQ_INT(journal_open(e->dir, &jo, &e->j, &why), KB_OK);
    if (!e->j)
        return false;
    T_EQ_INT(intake_new(e->j, NULL, &e->in), KB_OK);
    e->cfg.spool.dir = e->spool;
    e->cfg.spool.settle_ms = 50;
    struct spool_opts so = {.max_file = max_file};
    kb_err err = spool_start_opts(&e->cfg, &so, e->in, e->j, &e->sp, &why);
    T_CHECKF(err == KB_OK, "%s", why.msg);
    return err == KB_OK;
}

static void env_close(struct env *e)
{
    spool_stop(e->sp);
    intake_free(e->in);
    journal_close(e->j);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", e->dir);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* gzip of src (one member); the caller frees the result. */
static unsigned char *gzip_bytes(const void *src, size_t n, size_t *outlen)
{
    z_stream zs = {0};
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&zs, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        abort();
    *outlen = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

/* Writes spool/NAME.tmp and renames it to spool/NAME, as writers should. */
static void drop(struct env *e, const char *name, const void *p, size_t n)
{
    char tmp[512], path[512];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", e->spool, name);
    snprintf(path, sizeof path, "%s/%s", e->spool, name);
    FILE *f = fopen(tmp, "wb");
    T_CHECK(f != NULL);
    if (!f)
        return;
    T_EQ_INT(fwrite(p, 1, n, f), n);
    fclose(f);
    T_EQ_INT(rename(tmp, path), 0);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Waits (at most 10 s) for spool/SUB/NAME to appear. */
static bool wait_moved(struct env *e, const char *sub, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", e->spool, sub, name);
    for (int i = 0; i < 1000; i++) {
        if (exists(path))
            return true;
        sleep_ms(10);
    }
    fprintf(stderr, "  %s never appeared\n", path);
    return false;
}

/* The text of spool/SUB/NAME.err, or "" when absent (caller frees). */
static char *read_err(struct env *e, const char *sub, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s.err", e->spool, sub, name);
    char *p = t_read_file(path, NULL);
    return p ? p : calloc(1, 1);
}

/* Durable spool events whose payload contains needle. */
static int count_events(struct env *e, const char *needle)
{
    struct journal_reader *rd = NULL;
    T_EQ_INT(journal_reader_open(e->j, 0, &rd), KB_OK);
    int n = 0;
    struct journal_entry je;
    while (rd && journal_reader_next(rd, &je) == KB_OK)
        if (je.kind == JOURNAL_EVENT_JSON && je.path == JOURNAL_PATH_SPOOL &&
            memmem(je.data.p, je.data.n, needle, strlen(needle)))
            n++;
    journal_reader_close(rd);
    return n;
}

#define CT(id)                                                                                     \
    "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":"               \
    "\"ListBuckets\",\"eventTime\":\"2026-11-20T11:00:00Z\",\"awsRegion\":\"eu-west-1\","          \
    "\"sourceIPAddress\":\"203.0.113.9\",\"eventID\":\"" id "\","                                  \
    "\"recipientAccountId\":\"444455556666\",\"userIdentity\":{\"type\":\"IAMUser\","              \
    "\"arn\":\"arn:aws:iam::444455556666:user/bob\"}}"

static void test_gz_cloudtrail(void)
{
    struct env e;
    if (!env_open(&e, 0))
        return;
    /* the shape and name S3 delivers: {"Records":[...]} gzipped */
    const char *name = "444455556666_CloudTrail_eu-west-1_20261120T1105Z_Xq3PpUy1mWn0K2aB.json.gz";
    const char *doc = "{\"Records\":[" CT("gzct-1") "," CT("gzct-2") "," CT("gzct-3") "]}";
    size_t zn;
    unsigned char *z = gzip_bytes(doc, strlen(doc), &zn);
    drop(&e, name, z, zn);
    T_CHECK(wait_moved(&e, "done", name));
    char path[512];
    snprintf(path, sizeof path, "%s/%s", e.spool, name);
    T_CHECK(!exists(path)); /* moved, not copied */
    char *err = read_err(&e, "done", name);
    T_EQ_STR(err, ""); /* nothing rejected */
    free(err);
    T_EQ_INT(count_events(&e, "\"gzct-1\""), 1);
    T_EQ_INT(count_events(&e, "\"gzct-2\""), 1);
    T_EQ_INT(count_events(&e, "\"gzct-3\""), 1);
    T_EQ_INT(count_events(&e, "gzct-"), 3);
    /* the file in done/ is the original, still compressed */
    snprintf(path, sizeof path, "%s/done/%s", e.spool, name);
    size_t got = 0;
    char *kept = t_read_file(path, &got);
    T_CHECK(kept && got == zn && memcmp(kept, z, zn) == 0);
    free(kept);
    free(z);
    env_close(&e);
}

static void test_gz_ndjson(void)
{
    struct env e;
    if (!env_open(&e, 0))
        return;
    /* two gzip members back to back, as log shippers append them */
    const char *a = CT("nd-1") "\n" CT("nd-2") "\n";
    const char *b = CT("nd-3") "\n{broken\n" CT("nd-4") "\n";
    size_t an, bn;
    unsigned char *za = gzip_bytes(a, strlen(a), &an);
    unsigned char *zb = gzip_bytes(b, strlen(b), &bn);
    unsigned char *both = malloc(an + bn);
    memcpy(both, za, an);
    memcpy(both + an, zb, bn);
    drop(&e, "x.ndjson.gz", both, an + bn);
    T_CHECK(wait_moved(&e, "done", "x.ndjson.gz"));
    T_EQ_INT(count_events(&e, "\"nd-"), 4);
    char *err = read_err(&e, "done", "x.ndjson.gz");
    T_CHECKF(strncmp(err, "event 3:", 8) == 0, "%s", err); /* the broken line, by index */
    free(err);
    /* gzip content without the .gz suffix is recognised by its magic */
    const char *c = CT("magic-1");
    size_t cn;
    unsigned char *zc = gzip_bytes(c, strlen(c), &cn);
    drop(&e, "renamed.json", zc, cn);
    T_CHECK(wait_moved(&e, "done", "renamed.json"));
    T_EQ_INT(count_events(&e, "\"magic-1\""), 1);
    /* and a plain file still goes in as it is */
    drop(&e, "plain.json", CT("plain-1"), strlen(CT("plain-1")));
    T_CHECK(wait_moved(&e, "done", "plain.json"));
    T_EQ_INT(count_events(&e, "\"plain-1\""), 1);
    free(zc);
    free(both);
    free(za);
    free(zb);
    env_close(&e);
}

static void test_gz_corrupt(void)
{
    struct env e;
    if (!env_open(&e, 0))
        return;
    const char *doc = "{\"Records\":[" CT("bad-1") "," CT("bad-2") "]}";
    size_t zn;
    unsigned char *z = gzip_bytes(doc, strlen(doc), &zn);
    /* a reserved block type right after the 10-byte header */
    unsigned char *bad = malloc(zn);
    memcpy(bad, z, zn);
    bad[10] |= 0x06;
    drop(&e, "corrupt.json.gz", bad, zn);
    /* cut short: the last 6 bytes of the trailer missing */
    drop(&e, "short.json.gz", z, zn - 6);
    /* named .gz but plain JSON */
    drop(&e, "notgz.json.gz", doc, strlen(doc));
    /* a gzip of nothing */
    size_t en;
    unsigned char *empty = gzip_bytes("", 0, &en);
    drop(&e, "empty.json.gz", empty, en);

    T_CHECK(wait_moved(&e, "failed", "corrupt.json.gz"));
    char *err = read_err(&e, "failed", "corrupt.json.gz");
    T_CHECKF(strncmp(err, "gzip: corrupt data at byte 11 (", 31) == 0, "%s", err);
    free(err);
    T_CHECK(wait_moved(&e, "failed", "short.json.gz"));
    err = read_err(&e, "failed", "short.json.gz");
    T_CHECKF(strncmp(err, "gzip: truncated stream", 22) == 0, "%s", err);
    free(err);
    T_CHECK(wait_moved(&e, "failed", "notgz.json.gz"));
    err = read_err(&e, "failed", "notgz.json.gz");
    T_CHECKF(strncmp(err, "gzip: corrupt data at byte ", 27) == 0, "%s", err);
    free(err);
    T_CHECK(wait_moved(&e, "failed", "empty.json.gz"));
    err = read_err(&e, "failed", "empty.json.gz");
    T_EQ_STR(err, "empty file (after gunzip)\n");
    free(err);
    /* a truncated stream decodes both events before the cut is seen: none
     * of them may reach the journal */
    T_EQ_INT(count_events(&e, "\"bad-"), 0);
    free(empty);
    free(bad);
    free(z);
    env_close(&e);
}

static void test_gz_over_limit(void)
{
    struct env e;
    size_t limit = 64 * 1024;
    if (!env_open(&e, limit))
        return;
    /* 4 MiB of NDJSON padding: about 10 KB compressed, 64x the bound */
    size_t n = 4u * 1024 * 1024;
    char *big = malloc(n);
    memset(big, ' ', n);
    memcpy(big, CT("bomb-1") "\n", strlen(CT("bomb-1")) + 1);
    big[n - 1] = '\n';
    size_t zn;
    unsigned char *z = gzip_bytes(big, n, &zn);
    T_CHECK(zn < limit); /* small on disk: only the decoded size is over */
    drop(&e, "bomb.ndjson.gz", z, zn);
    T_CHECK(wait_moved(&e, "failed", "bomb.ndjson.gz"));
    char *err = read_err(&e, "failed", "bomb.ndjson.gz");
    T_EQ_STR(err, "gzip: decompressed size exceeds 65536 bytes\n");
    free(err);
    T_EQ_INT(count_events(&e, "\"bomb-1\""), 0);
    /* just under the bound decompressed: taken */
    size_t okn = limit - 1;
    memset(big, ' ', okn);
    memcpy(big, CT("under-1") "\n", strlen(CT("under-1")) + 1);
    unsigned char *zok = gzip_bytes(big, okn, &zn);
    drop(&e, "under.ndjson.gz", zok, zn);
    T_CHECK(wait_moved(&e, "done", "under.ndjson.gz"));
    T_EQ_INT(count_events(&e, "\"under-1\""), 1);
    /* a plain file over the bound: the same limit, said plainly */
    drop(&e, "big.ndjson", big, limit + 1);
    T_CHECK(wait_moved(&e, "failed", "big.ndjson"));
    err = read_err(&e, "failed", "big.ndjson");
    T_EQ_STR(err, "file is larger than 65536 bytes\n");
    free(err);
    free(zok);
    free(z);
    free(big);
    env_close(&e);
}

/* A real CloudTrail capture, wrapped and gzipped the way S3 delivers it. */
static void test_gz_real_cloudtrail(void)
{
    T_NEED_DATA(data);
    char src[4096];
    snprintf(src, sizeof src, "%s/cloudtrail/stratus/aws.defense-evasion.cloudtrail-stop.json",
             data);
    size_t n = 0;
    char *arr = t_read_file(src, &n);
    if (!arr)
        T_SKIP("stratus cloudtrail-stop capture is absent");
    struct buf doc = BUF_INIT(SIZE_MAX);
    buf_puts(&doc, "{\"Records\":");
    buf_append(&doc, arr, n);
    buf_puts(&doc, "}");
    struct env e;
    if (!env_open(&e, 0)) {
        buf_release(&doc);
        free(arr);
        return;
    }
    size_t zn;
    unsigned char *z = gzip_bytes(doc.p, doc.len, &zn);
    const char *name = "143434273843_CloudTrail_us-east-1_20240731T1310Z_stratus.json.gz";
    drop(&e, name, z, zn);
    T_CHECK(wait_moved(&e, "done", name));
    char *err = read_err(&e, "done", name);
    T_EQ_STR(err, ""); /* every record accepted */
    free(err);
    T_CHECK(count_events(&e, "\"StopLogging\"") >= 1);
    free(z);
    buf_release(&doc);
    free(arr);
    env_close(&e);
}

int main(void)
{
    T_RUN(test_gz_cloudtrail);
    T_RUN(test_gz_ndjson);
    T_RUN(test_gz_corrupt);
    T_RUN(test_gz_over_limit);
    T_RUN(test_gz_real_cloudtrail);
    return t_done();
}
