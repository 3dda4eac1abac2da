/* test_feed_sync.c — the feed framework (feed.h): names and defaults, the
 * offline import's detection by content, retries and per-feed failure
 * against a refused loopback port, and KEV's ETag against a tiny loopback
 * server. Only 127.0.0.1 is contacted. */
#include "test.h"

#include "lib/buf.h"
#include "notify/http_client.h"
#include "vuln/feed.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURES KOBAN_SOURCE_DIR "/tests/data/feeds/"

struct mem_sink {
    char feed[64][8];
    char id[64][64];
    size_t n;
    int kev_entries, kev_begins, kev_complete;
    char state[8][3][128]; /* feed, key, value */
    size_t nstate;
    int warns, state_sets;
};

static kb_err s_adv(void *ctx, const char *feed, const char *id, const char *json, size_t len)
{
    struct mem_sink *s = ctx;
    if (s->n < 64) {
        snprintf(s->feed[s->n], sizeof s->feed[0], "%s", feed);
        snprintf(s->id[s->n], sizeof s->id[0], "%s", id);
    }
    s->n++;
    return KB_OK;
}

static kb_err s_kev_begin(void *ctx)
{
    ((struct mem_sink *)ctx)->kev_begins++;
    return KB_OK;
}

static kb_err s_kev(void *ctx, const struct feed_kev *k)
{
    ((struct mem_sink *)ctx)->kev_entries++;
    return k->cve ? KB_OK : KB_EINVAL;
}

static kb_err s_kev_end(void *ctx, bool complete)
{
    ((struct mem_sink *)ctx)->kev_complete += complete;
    return KB_OK;
}

static kb_err s_get(void *ctx, const char *feed, const char *key, char *out, size_t outsz)
{
    struct mem_sink *s = ctx;
    for (size_t i = 0; i < s->nstate; i++)
        if (!strcmp(s->state[i][0], feed) && !strcmp(s->state[i][1], key)) {
            snprintf(out, outsz, "%s", s->state[i][2]);
            return KB_OK;
        }
    return KB_ENOTFOUND;
}

static kb_err s_set(void *ctx, const char *feed, const char *key, const char *value)
{
    struct mem_sink *s = ctx;
    s->state_sets++;
    size_t i = 0;
    while (i < s->nstate && !(!strcmp(s->state[i][0], feed) && !strcmp(s->state[i][1], key)))
        i++;
    if (i == 8)
        return KB_ETOOBIG;
    if (i == s->nstate)
        s->nstate++;
    snprintf(s->state[i][0], 128, "%s", feed);
    snprintf(s->state[i][1], 128, "%s", key);
    snprintf(s->state[i][2], 128, "%s", value ? value : "");
    return KB_OK;
}

static void s_warn(void *ctx, const char *feed, const char *msg)
{
    ((struct mem_sink *)ctx)->warns++;
}

static struct feed_sink sink_for(struct mem_sink *s)
{
    return (struct feed_sink){.ctx = s,
                              .advisory = s_adv,
                              .kev_begin = s_kev_begin,
                              .kev = s_kev,
                              .kev_end = s_kev_end,
                              .state_get = s_get,
                              .state_set = s_set,
                              .warn = s_warn};
}

static void test_names(void)
{
    enum feed_id id;
    T_EQ_STR(feed_name(FEED_NVD), "nvd");
    T_CHECK(feed_name(FEED_COUNT) == NULL);
    T_CHECK(feed_parse_name("ghsa", &id) == KB_OK && id == FEED_GHSA);
    T_CHECK(feed_parse_name("GHSA", &id) == KB_ENOTFOUND);
    T_EQ_STR(feed_default_url(FEED_OSV), "https://osv-vulnerabilities.storage.googleapis.com");
    T_EQ_STR(feed_default_url(FEED_KEV), "https://www.cisa.gov");
    struct feed_config c;
    feed_config_defaults(&c);
    for (int i = 0; i < FEED_COUNT; i++)
        T_CHECK(c.feed[i].enabled);
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    T_CHECK(a && b);
    char buf[4096];
    size_t n;
    while (a && b && (n = fread(buf, 1, sizeof buf, a)) > 0)
        fwrite(buf, 1, n, b);
    if (a)
        fclose(a);
    if (b)
        fclose(b);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    T_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_import_detects_by_content(void)
{
    char dir[] = "/tmp/koban-feed-import-XXXXXX", p[256];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(p, sizeof p, "%s/a", dir);
    copy_file(FIXTURES "kev_catalog.json", p);
    snprintf(p, sizeof p, "%s/b", dir);
    copy_file(FIXTURES "ghsa_page.json", p);
    snprintf(p, sizeof p, "%s/c.xml", dir);
    copy_file(FIXTURES "jvn_detail.xml", p);
    snprintf(p, sizeof p, "%s/d.json", dir);
    write_file(p, "{\"id\":\"PYSEC-T-1\",\"modified\":\"2024-01-01T00:00:00Z\"}");
    snprintf(p, sizeof p, "%s/e.txt", dir);
    write_file(p, "hello\n");
    snprintf(p, sizeof p, "%s/.hidden.json", dir);
    write_file(p, "{\"id\":\"HIDDEN\"}");
    struct mem_sink s = {0};
    struct feed_sink sink = sink_for(&s);
    struct feed_result res[FEED_COUNT];
    struct kb_why why = {{0}};
    T_EQ_INT(feed_import_dir(dir, &sink, res, &why), KB_OK);
    T_CHECK(res[FEED_KEV].ran && res[FEED_GHSA].ran && res[FEED_JVN].ran && res[FEED_OSV].ran);
    T_CHECK(!res[FEED_NVD].ran);
    T_EQ_INT(s.kev_begins, 1);
    T_EQ_INT(s.kev_complete, 1);
    T_CHECK(s.kev_entries >= 1);
    T_EQ_INT(res[FEED_KEV].kev, s.kev_entries);
    bool pysec = false, hidden = false;
    for (size_t i = 0; i < s.n && i < 64; i++) {
        pysec |= !strcmp(s.id[i], "PYSEC-T-1") && !strcmp(s.feed[i], "osv");
        hidden |= !strcmp(s.id[i], "HIDDEN");
    }
    T_CHECK(pysec);
    T_CHECK(!hidden);
    T_CHECK(res[FEED_GHSA].advisories >= 1 && res[FEED_JVN].advisories >= 1);
    T_CHECK(s.warns >= 1);     /* e.txt, and the fixture's bad GHSA record */
    T_EQ_INT(s.state_sets, 0); /* the import never moves a cursor */
    T_CHECK(feed_import_dir("/nonexistent/koban", &sink, res, &why) == KB_EIO);
    const char *rm[] = {"a", "b", "c.xml", "d.json", "e.txt", ".hidden.json"};
    for (size_t i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, rm[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* A port on 127.0.0.1 nothing listens on. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    T_CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_refused_feeds_fail_each_bounded(void)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    struct feed_config c;
    feed_config_defaults(&c);
    for (int i = 0; i < FEED_COUNT; i++) {
        c.feed[i].base_url = url;
        c.feed[i].max_retries = 2;
        c.feed[i].backoff_ms = 10;
        c.feed[i].rate_count = 100;
    }
    c.feed[FEED_OSV].ecosystems[0] = "PyPI";
    c.feed[FEED_OSV].n_ecosystems = 1;
    struct mem_sink s = {0};
    struct feed_sink sink = sink_for(&s);
    struct feed_result res[FEED_COUNT];
    struct kb_why why = {{0}};
    int64_t t0 = kb_mono_ns();
    T_CHECK(feed_sync(&c, &sink, res, &why) != KB_OK);
    T_CHECK(kb_mono_ns() - t0 < 10LL * 1000000000);
    T_CHECK(strstr(why.msg, "osv") != NULL);
    for (int i = 0; i < FEED_COUNT; i++) {
        T_CHECK(res[i].ran);
        T_CHECK(res[i].err != KB_OK);
        T_EQ_INT(res[i].requests, 3); /* the first try and two retries */
        T_CHECKF(strstr(res[i].msg, "after 3 tries: ") != NULL, "%s", res[i].msg);
    }
    T_EQ_INT(s.state_sets, 0);
    T_EQ_INT((int64_t)s.n, 0);
}

/* ---- a loopback server answering KEV with an ETag ---- */

struct srv {
    int fd, port, served;
    char body[8192];
    char last_req[2048];
};

static void *serve(void *arg)
{
    struct srv *v = arg;
    for (int k = 0; k < 2; k++) {
        int c = accept(v->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        ssize_t n = read(c, v->last_req, sizeof v->last_req - 1);
        v->last_req[n > 0 ? n : 0] = '\0';
        char head[256];
        bool match = strstr(v->last_req, "If-None-Match: \"e1\"") != NULL;
        if (match)
            snprintf(head, sizeof head,
                     "HTTP/1.1 304 Not Modified\r\nETag: \"e1\"\r\nConnection: close\r\n\r\n");
        else
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nETag: \"e1\"\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     strlen(v->body));
        T_CHECK(write(c, head, strlen(head)) > 0);
        if (!match)
            T_CHECK(write(c, v->body, strlen(v->body)) > 0);
        v->served++;
        close(c);
    }
    return NULL;
}

static void test_kev_etag(void)
{
    struct srv v = {0};
    FILE *f = fopen(FIXTURES "kev_catalog.json", "rb");
    T_CHECK(f != NULL);
    if (!f)
        return;
    size_t n = fread(v.body, 1, sizeof v.body - 1, f);
    fclose(f);
    v.body[n] = '\0';
    v.fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    T_CHECK(bind(v.fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(v.fd, 4) == 0);
    getsockname(v.fd, (struct sockaddr *)&a, &len);
    pthread_t th;
    pthread_create(&th, NULL, serve, &v);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    struct feed_config c;
    feed_config_defaults(&c);
    for (int i = 0; i < FEED_COUNT; i++)
        c.feed[i].enabled = i == FEED_KEV;
    c.feed[FEED_KEV].base_url = url;
    c.feed[FEED_KEV].max_retries = 1;
    struct mem_sink s = {0};
    struct feed_sink sink = sink_for(&s);
    struct feed_result res[FEED_COUNT];
    struct kb_why why = {{0}};
    T_EQ_INT(feed_sync(&c, &sink, res, &why), KB_OK);
    T_CHECK(!res[FEED_KEV].not_modified);
    T_CHECK(res[FEED_KEV].kev >= 1);
    char etag[FEED_STATE_MAX];
    T_EQ_INT(s_get(&s, "kev", "etag", etag, sizeof etag), KB_OK);
    T_EQ_STR(etag, "\"e1\"");
    int sets = s.state_sets, begins = s.kev_begins;
    T_EQ_INT(feed_sync(&c, &sink, res, &why), KB_OK);
    T_CHECK(res[FEED_KEV].not_modified);
    T_CHECK(strstr(v.last_req, "GET /feeds/known_exploited_vulnerabilities.json") != NULL);
    T_EQ_INT(s.state_sets, sets);   /* 304: state unchanged */
    T_EQ_INT(s.kev_begins, begins); /* and the catalog untouched */
    pthread_join(th, NULL);
    close(v.fd);
    T_EQ_INT(v.served, 2);
}

int main(void)
{
    http_client_global_init();
    T_RUN(test_names);
    T_RUN(test_import_detects_by_content);
    T_RUN(test_refused_feeds_fail_each_bounded);
    T_RUN(test_kev_etag);
    http_client_global_cleanup();
    return t_done();
}
