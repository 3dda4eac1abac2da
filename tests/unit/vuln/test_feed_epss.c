/* test_feed_epss.c — FIRST's EPSS scores (feed_epss_parse): a small file
 * plain and gzip-compressed, with and without the comment line, bad rows
 * among good ones, malformed bodies, the line bound, a failing callback,
 * the offline import recognising the file by its content, and a finding's
 * alert carrying the score of its key or an alias. */
#include "feed_testlib.h"
#include "formats/alert.h"
#include "store/db_vuln.h"
#include "vuln/feed.h"
#include "vuln/vuln_engine.h"
#include "vuln/vuln_engine_alert.h"

#include <unistd.h>
#include <zlib.h>

#define MAXS 16

struct scores {
    char cve[MAXS][32];
    double score[MAXS], pct[MAXS];
    int64_t date[MAXS];
    size_t n;
    int fail_at;
    struct collect col; /* the skipped rows */
};

static kb_err on_score(void *ctx, const struct feed_epss *x)
{
    struct scores *s = ctx;
    if (s->fail_at && (int)s->n + 1 == s->fail_at)
        return KB_EIO;
    if (s->n >= MAXS)
        return KB_ETOOBIG;
    snprintf(s->cve[s->n], sizeof s->cve[0], "%s", x->cve);
    s->score[s->n] = x->score;
    s->pct[s->n] = x->percentile;
    s->date[s->n] = x->date_ms;
    s->n++;
    return KB_OK;
}

static void on_skip(void *ctx, const char *where, const char *why)
{
    col_skip(&((struct scores *)ctx)->col, where, why);
}

/* src gzip-compressed (malloc'd; the caller frees). */
static unsigned char *gz(const char *src, size_t *outlen)
{
    z_stream zs = {0};
    size_t n = strlen(src);
    T_CHECK(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&zs, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    T_CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    *outlen = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static const char GOOD[] = "#model_version:v2023.03.01,score_date:2024-03-01T00:00:00+0000\n"
                           "cve,epss,percentile\n"
                           "CVE-2021-44228,0.97565,0.99995\n"
                           "CVE-2024-3094,0.00043,0.08000\r\n"
                           "\n"
                           "CVE-1999-0001,4.3e-05,0\n"
                           "CVE-2099-0001,1.00000,1.00000";

static void check_good(const struct scores *s, int64_t count, int64_t date)
{
    int64_t day = ms_of("2024-03-01T00:00:00Z");
    T_EQ_INT(count, 4);
    T_EQ_INT(s->n, 4);
    T_EQ_INT(date, day);
    T_EQ_STR(s->cve[0], "CVE-2021-44228");
    T_CHECK(s->score[0] == 0.97565 && s->pct[0] == 0.99995);
    T_EQ_INT(s->date[0], day);
    T_EQ_STR(s->cve[1], "CVE-2024-3094"); /* CRLF accepted */
    T_CHECK(s->score[1] == 0.00043 && s->pct[1] == 0.08);
    T_EQ_STR(s->cve[2], "CVE-1999-0001");
    T_CHECK(s->score[2] == 4.3e-05 && s->pct[2] == 0);
    T_EQ_STR(s->cve[3], "CVE-2099-0001"); /* no final newline */
    T_CHECK(s->score[3] == 1 && s->pct[3] == 1);
    T_EQ_INT(s->col.nskip, 0);
}

static void test_plain_and_gzip(void)
{
    struct scores s = {0};
    struct kb_why why = {{0}};
    int64_t count = -1, date = -1;
    T_EQ_INT(feed_epss_parse(GOOD, strlen(GOOD), on_score, on_skip, &s, &count, &date, &why),
             KB_OK);
    check_good(&s, count, date);

    size_t zlen = 0;
    unsigned char *z = gz(GOOD, &zlen);
    memset(&s, 0, sizeof s);
    T_EQ_INT(feed_epss_parse((const char *)z, zlen, on_score, on_skip, &s, &count, &date, &why),
             KB_OK);
    check_good(&s, count, date);
    /* cut short: the gzip stream is truncated */
    memset(&s, 0, sizeof s);
    T_EQ_INT(feed_epss_parse((const char *)z, zlen / 2, on_score, on_skip, &s, &count, &date, &why),
             KB_EPARSE);
    T_CHECKF(strstr(why.msg, "gzip") != NULL, "%s", why.msg);
    free(z);

    /* no comment line: no date; a BOM and a "Z" date are fine */
    const char *zdate = "\xEF\xBB\xBF#model_version:v2025.03.14,score_date:2026-05-18T00:00:00Z\n"
                        "cve,epss,percentile\nCVE-1999-0001,0.0046,0.7385\n";
    memset(&s, 0, sizeof s);
    T_EQ_INT(feed_epss_parse(zdate, strlen(zdate), on_score, NULL, &s, &count, &date, &why), KB_OK);
    T_EQ_INT(count, 1);
    T_EQ_INT(date, ms_of("2026-05-18T00:00:00Z"));
    T_CHECK(s.score[0] == 0.0046 && s.pct[0] == 0.7385);
    const char *bare = "cve,epss,percentile\nCVE-2021-44228,0.5,0.6\n";
    memset(&s, 0, sizeof s);
    T_EQ_INT(feed_epss_parse(bare, strlen(bare), on_score, NULL, &s, &count, &date, &why), KB_OK);
    T_EQ_INT(count, 1);
    T_EQ_INT(date, 0);
    T_EQ_INT(s.date[0], 0);
}

static void test_bad_rows_skipped(void)
{
    const char *csv = "#model_version:v2023.03.01,score_date:2024-03-01T00:00:00+0000\n"
                      "cve,epss,percentile\n"
                      "CVE-2024-0001,0.1,0.2\n"
                      "CVE-24-0002,0.1,0.2\n"
                      "CVE-2024-0003,1.5,0.2\n"
                      "CVE-2024-0004,abc,0.3\n"
                      "CVE-2024-0005,0.1\n"
                      "CVE-2024-0006,0.1,0.2,0.3\n"
                      "CVE-2024-0007,-0.1,0.5\n"
                      "CVE-2024-0008,nan,0.5\n"
                      "CVE-2024-0009,0.1,.5\n"
                      "CVE-2024-0010,0.2,0.3\n";
    struct scores s = {0};
    struct kb_why why = {{0}};
    int64_t count = -1;
    T_EQ_INT(feed_epss_parse(csv, strlen(csv), on_score, on_skip, &s, &count, NULL, &why), KB_OK);
    T_EQ_INT(count, 2);
    T_EQ_STR(s.cve[0], "CVE-2024-0001");
    T_EQ_STR(s.cve[1], "CVE-2024-0010");
    T_EQ_INT(s.col.nskip, 8);
    T_EQ_STR(s.col.skip_where[0], "line 4");
    T_EQ_STR(s.col.skip_why[0], "not a CVE id");
    T_EQ_STR(s.col.skip_where[1], "line 5");
    T_EQ_STR(s.col.skip_why[1], "score or percentile is not a number from 0 to 1");
    T_EQ_STR(s.col.skip_where[3], "line 7");
    T_EQ_STR(s.col.skip_why[3], "not three comma-separated fields");
    T_EQ_STR(s.col.skip_where[4], "line 8");
    T_EQ_STR(s.col.skip_where[7], "line 11");
}

static void test_malformed(void)
{
    struct scores s = {0};
    struct kb_why why = {{0}};
    int64_t count = -1;
    const char *nohdr = "CVE-2024-0001,0.1,0.2\n";
    T_EQ_INT(feed_epss_parse(nohdr, strlen(nohdr), on_score, on_skip, &s, &count, NULL, &why),
             KB_EINVAL);
    T_EQ_STR(why.msg, "line 1: not the header cve,epss,percentile");
    T_EQ_INT(feed_epss_parse("", 0, on_score, on_skip, &s, &count, NULL, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "no header cve,epss,percentile");
    const char *two_comments = "#a\n#b\ncve,epss,percentile\n";
    T_EQ_INT(feed_epss_parse(two_comments, strlen(two_comments), on_score, on_skip, &s, &count,
                             NULL, &why),
             KB_EINVAL);
    T_EQ_STR(why.msg, "line 2: not the header cve,epss,percentile");
    T_EQ_INT(feed_epss_parse(GOOD, strlen(GOOD), NULL, on_skip, &s, &count, NULL, &why), KB_EINVAL);

    /* a row over the line bound stops the file */
    char big[FEED_EPSS_MAX_LINE + 64];
    int k = snprintf(big, sizeof big, "cve,epss,percentile\nCVE-2024-0001,0.");
    memset(big + k, '1', FEED_EPSS_MAX_LINE);
    snprintf(big + k + FEED_EPSS_MAX_LINE, 8, ",0.5\n");
    T_EQ_INT(feed_epss_parse(big, strlen(big), on_score, on_skip, &s, &count, NULL, &why),
             KB_EINVAL);
    T_EQ_STR(why.msg, "line 2: longer than 256 bytes");

    /* a failing callback stops the walk with its error */
    memset(&s, 0, sizeof s);
    s.fail_at = 2;
    T_EQ_INT(feed_epss_parse(GOOD, strlen(GOOD), on_score, on_skip, &s, &count, NULL, &why),
             KB_EIO);
    T_EQ_STR(why.msg, "line 4 CVE-2024-3094: the callback failed (i/o error)");
    T_EQ_INT(count, 1);
}

/* ---- the offline import ---- */

struct isink {
    int begins, ends_complete, scores, advisories, warns;
    double first_score;
};

static kb_err i_adv(void *ctx, const char *feed, const char *id, const char *json, size_t len)
{
    (void)feed, (void)id, (void)json, (void)len;
    ((struct isink *)ctx)->advisories++;
    return KB_OK;
}

static kb_err i_begin(void *ctx)
{
    ((struct isink *)ctx)->begins++;
    return KB_OK;
}

static kb_err i_score(void *ctx, const struct feed_epss *x)
{
    struct isink *s = ctx;
    if (!s->scores++)
        s->first_score = x->score;
    return KB_OK;
}

static kb_err i_end(void *ctx, bool complete)
{
    ((struct isink *)ctx)->ends_complete += complete;
    return KB_OK;
}

static void i_warn(void *ctx, const char *feed, const char *msg)
{
    (void)feed, (void)msg;
    ((struct isink *)ctx)->warns++;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    T_CHECK(f != NULL);
    if (f) {
        T_CHECK(fwrite(p, 1, n, f) == n);
        fclose(f);
    }
}

static void test_import_by_content(void)
{
    char dir[] = "/tmp/koban-epss-import-XXXXXX", p[256];
    T_CHECK(mkdtemp(dir) != NULL);
    size_t zlen = 0;
    unsigned char *z = gz(GOOD, &zlen);
    snprintf(p, sizeof p, "%s/a.bin", dir); /* the name says nothing */
    write_bytes(p, z, zlen);
    free(z);
    snprintf(p, sizeof p, "%s/b", dir);
    write_bytes(p, GOOD, strlen(GOOD));
    z = gz("hello, not a feed\n", &zlen);
    snprintf(p, sizeof p, "%s/c.gz", dir);
    write_bytes(p, z, zlen);
    free(z);
    struct isink s = {0};
    struct feed_sink sink = {.ctx = &s,
                             .advisory = i_adv,
                             .epss_begin = i_begin,
                             .epss = i_score,
                             .epss_end = i_end,
                             .warn = i_warn};
    struct feed_result res[FEED_COUNT];
    struct kb_why why = {{0}};
    T_EQ_INT(feed_import_dir(dir, &sink, res, &why), KB_OK);
    T_CHECK(res[FEED_EPSS].ran);
    T_EQ_INT(res[FEED_EPSS].epss, 8);
    T_EQ_INT(s.begins, 2);
    T_EQ_INT(s.ends_complete, 2);
    T_EQ_INT(s.scores, 8);
    T_CHECK(s.first_score == 0.97565);
    T_EQ_INT(s.advisories, 0);
    T_EQ_INT(s.warns, 1); /* c.gz: not a feed format */
    T_CHECK(!res[FEED_OSV].ran && !res[FEED_KEV].ran);
    const char *rm[] = {"a.bin", "b", "c.gz"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, rm[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* ---- the alert ---- */

static void test_alert_carries_score(void)
{
    char dir[] = "/tmp/koban-epss-alert-XXXXXX", path[128];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/koban.db", dir);
    struct db *db = NULL;
    struct db_vuln *v = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(path, DB_CLIENT, 0, &db, &why), KB_OK);
    T_EQ_INT(db_vuln_open(db, &v), KB_OK);
    T_EQ_INT(db_vuln_epss_put(v, "CVE-2099-0001", 0.97234, 0.99871, 0), KB_OK);
    struct db_vuln_finding f = {.group_key = "GHSA-test-0001",
                                .asset = "web-1",
                                .ecosystem = "PyPI",
                                .package = "flask",
                                .installed = "2.0.0",
                                .severity = KB_SEV_HIGH,
                                .cvss = 9.8};
    struct ve_alert a = {.f = &f, .aliases = "PYSEC-1,CVE-2099-0001", .change = "new advisory"};
    struct buf out = BUF_INIT(VULN_ENGINE_MAX_ALERT);
    /* found through an alias */
    T_EQ_INT(ve_alert_write_scored(&out, &a, v), KB_OK);
    T_CHECKF(strstr(out.p, "\"kev\":\"false\",\"epss\":\"0.97234\","
                           "\"epss_percentile\":\"0.99871\"") != NULL,
             "%s", out.p);
    /* through the group key */
    f.group_key = "CVE-2099-0001";
    a.aliases = NULL;
    T_EQ_INT(ve_alert_write_scored(&out, &a, v), KB_OK);
    T_CHECKF(strstr(out.p, "\"epss\":\"0.97234\"") != NULL, "%s", out.p);
    /* no score, no store: no field */
    f.group_key = "CVE-2099-0002";
    T_EQ_INT(ve_alert_write_scored(&out, &a, v), KB_OK);
    T_CHECKF(strstr(out.p, "epss") == NULL, "%s", out.p);
    f.group_key = "CVE-2099-0001";
    T_EQ_INT(ve_alert_write(&out, &a), KB_OK);
    T_CHECKF(strstr(out.p, "epss") == NULL, "%s", out.p);
    buf_release(&out);
    db_vuln_close(v);
    db_close(db);
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void test_name(void)
{
    enum feed_id id;
    T_EQ_STR(feed_name(FEED_EPSS), "epss");
    T_CHECK(feed_parse_name("epss", &id) == KB_OK && id == FEED_EPSS);
    T_EQ_STR(feed_default_url(FEED_EPSS), "https://epss.cyentia.com");
}

int main(void)
{
    T_RUN(test_plain_and_gzip);
    T_RUN(test_bad_rows_skipped);
    T_RUN(test_malformed);
    T_RUN(test_import_by_content);
    T_RUN(test_alert_carries_score);
    T_RUN(test_name);
    return t_done();
}
