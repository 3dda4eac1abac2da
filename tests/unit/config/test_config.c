/* test_config.c — koban.yaml: defaults, values, and errors naming line and key. */
#include "config/config.h"
#include "test.h"

#include <stdlib.h>

static char tmpdir[256];

static const char *write_cfg(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_defaults(void)
{
    struct kb_config c;
    struct kb_why why = {{0}};
    T_EQ_INT(config_load(NULL, &c, &why), KB_OK);
    T_EQ_STR(c.http.listen, "127.0.0.1:8478");
    T_EQ_STR(c.data_dir, "./var");
    T_EQ_STR(c.spool.dir, "./var/spool");
    T_EQ_INT(c.http.max_body, 64u * 1024 * 1024);
    T_CHECK(c.journal.fsync);
    T_EQ_INT(c.journal.compress_level, -3);
    T_CHECK(c.http.token == NULL);
    T_EQ_STR(c.slack.hooks_url, "https://hooks.slack.com");
    config_release(&c);
}

static void test_values(void)
{
    setenv("KOBAN_T_TOKEN", "abc123", 1);
    const char *p = write_cfg("ok.yaml", "# comment\n"
                                         "data_dir: /tmp/kb\n"
                                         "http:\n"
                                         "  listen: \"[::1]:9000\"\n"
                                         "  token: ${KOBAN_T_TOKEN}\n"
                                         "  max_body: 8MiB\n"
                                         "syslog:\n"
                                         "  udp: ''\n"
                                         "  tcp:\n"
                                         "journal:\n"
                                         "  fsync: false\n"
                                         "  compress_level: -5\n"
                                         "store:\n"
                                         "  batch: 100\n");
    struct kb_config c;
    struct kb_why why = {{0}};
    T_EQ_INT(config_load(p, &c, &why), KB_OK);
    T_CHECKF(!why.msg[0], "%s", why.msg);
    T_EQ_STR(c.data_dir, "/tmp/kb");
    T_EQ_STR(c.http.listen, "[::1]:9000");
    T_EQ_STR(c.http.token, "abc123");
    T_EQ_INT(c.http.max_body, 8 * 1024 * 1024);
    T_EQ_STR(c.syslog.udp, "");
    T_CHECK(c.syslog.tcp == NULL);
    T_CHECK(!c.journal.fsync);
    T_EQ_INT(c.journal.compress_level, -5);
    T_EQ_INT(c.store.batch, 100);
    T_EQ_STR(c.spool.dir, "/tmp/kb/spool");
    char *dump = NULL;
    T_EQ_INT(config_dump(&c, &dump), KB_OK);
    T_CHECK(strstr(dump, "listen: \"[::1]:9000\"") != NULL);
    T_CHECK(strstr(dump, "abc123") == NULL); /* the token is not printed */
    T_CHECK(strstr(dump, "compress_level: -5") != NULL);
    free(dump);
    config_release(&c);
}

static void expect_error(const char *text, const char *needle1, const char *needle2)
{
    const char *p = write_cfg("bad.yaml", text);
    struct kb_config c;
    struct kb_why why = {{0}};
    T_CHECK(config_load(p, &c, &why) != KB_OK);
    T_CHECKF(strstr(why.msg, needle1) != NULL, "'%s' not in '%s'", needle1, why.msg);
    T_CHECKF(strstr(why.msg, needle2) != NULL, "'%s' not in '%s'", needle2, why.msg);
}

static void test_errors(void)
{
    expect_error("http:\n  listen: 1.2.3.4:80\n  max_bodyy: 1\n", ":3:", "http.max_bodyy");
    expect_error("journal:\n  fsync: perhaps\n", ":2:", "journal.fsync");
    expect_error("http:\n  max_body: lots\n", ":2:", "http.max_body");
    expect_error("store:\n  batch: -5\n", ":2:", "store.batch");
    expect_error("nosuch:\n  key: 1\n", ":1:", "nosuch");
    expect_error("http: [1, 2]\n", ":1:", "http");
    expect_error("http:\n  listen: [a, b]\n", ":2:", "http.listen");
    expect_error("http:\n  listen: \"nocolon\"\n", "nocolon", "host:port");
    expect_error("http:\n  listen: \"1.2.3.4:99999\"\n", "99999", "port");
    expect_error("http:\n  token: ${KOBAN_T_UNSET_VAR}\n", ":2:", "KOBAN_T_UNSET_VAR");
    expect_error("data_dir: x\n  bad indent: [\n", "bad.yaml", "YAML");
    expect_error("log_level: loud\n", "log_level", "loud");
    expect_error("journal:\n  compress_level: 20\n", "journal.compress_level", "19");
    expect_error("journal:\n  compress_level: -8\n", "journal.compress_level", "-7");
    expect_error("journal:\n  compress_level: fast\n", ":2:", "journal.compress_level");
    struct kb_config c;
    struct kb_why why = {{0}};
    T_EQ_INT(config_load("/nonexistent/koban.yaml", &c, &why), KB_EIO);
    T_CHECK(strstr(why.msg, "/nonexistent/koban.yaml") != NULL);
}

/* slack.hooks_url: a base URL whose scheme, host and port a response_url
 * must repeat exactly, so nothing that could move the host is accepted. */
static void test_hooks_url(void)
{
    const char *good[] = {"http://127.0.0.1:8080", "https://hooks.slack.com/",
                          "https://hooks.slack.com/actions", "http://[::1]:9"};
    for (size_t i = 0; i < KB_ARRAY_LEN(good); i++) {
        char text[256];
        snprintf(text, sizeof text, "slack:\n  hooks_url: \"%s\"\n", good[i]);
        const char *p = write_cfg("hooks.yaml", text);
        struct kb_config c;
        struct kb_why why = {{0}};
        T_CHECKF(config_load(p, &c, &why) == KB_OK, "%s: %s", good[i], why.msg);
        T_EQ_STR(c.slack.hooks_url, good[i]);
        config_release(&c);
    }
    expect_error("slack:\n  hooks_url: ftp://hooks.slack.com\n", ":2:", "slack.hooks_url");
    expect_error("log_level: info\nslack:\n  hooks_url: \"https://hooks.slack.com@evil\"\n",
                 ":3:", "slack.hooks_url");
    const char *bad[] = {"https://", "https://:80", "https://h:", "https://h:123456", "https://h:65536",
                         "https://h:8x", "https://u:p@h", "https://h?x", "https://h/p#f",
                         "https://h/a b", "https://h\\@e", "https://[]", "https://[::1",
                         "hooks.slack.com", "https://h\tx"};
    for (size_t i = 0; i < KB_ARRAY_LEN(bad); i++) {
        char text[256];
        snprintf(text, sizeof text, "slack:\n  hooks_url: '%s'\n", bad[i]);
        expect_error(text, ":2:", "slack.hooks_url");
    }
    char text[1024] = "slack:\n  hooks_url: https://h/";
    memset(text + strlen(text), 'a', 600);
    text[sizeof text - 2] = '\n';
    text[sizeof text - 1] = 0;
    expect_error(text, ":2:", "512 bytes");
}

static void test_sizes_and_addrs(void)
{
    size_t n;
    T_EQ_INT(config_parse_size("1k", &n), KB_OK);
    T_EQ_INT(n, 1000);
    T_EQ_INT(config_parse_size("2KiB", &n), KB_OK);
    T_EQ_INT(n, 2048);
    T_EQ_INT(config_parse_size("3 GiB", &n), KB_OK);
    T_EQ_INT(n, 3ull << 30);
    T_CHECK(config_parse_size("", &n) != KB_OK);
    T_CHECK(config_parse_size("-1", &n) != KB_OK);
    T_CHECK(config_parse_size("99999999999999999999", &n) != KB_OK);
    T_CHECK(config_parse_size("1 parsec", &n) != KB_OK);
    char *h = NULL;
    uint16_t port;
    T_EQ_INT(config_parse_addr("127.0.0.1:0", &h, &port, NULL), KB_OK);
    T_EQ_STR(h, "127.0.0.1");
    T_EQ_INT(port, 0);
    free(h);
    T_EQ_INT(config_parse_addr("[::1]:8478", &h, &port, NULL), KB_OK);
    T_EQ_STR(h, "::1");
    T_EQ_INT(port, 8478);
    free(h);
    T_CHECK(config_parse_addr("[::1]8478", &h, &port, NULL) != KB_OK);
    T_CHECK(config_parse_addr("host:-1", &h, &port, NULL) != KB_OK);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/koban-test-config-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    T_RUN(test_defaults);
    T_RUN(test_values);
    T_RUN(test_errors);
    T_RUN(test_hooks_url);
    T_RUN(test_sizes_and_addrs);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return t_done();
}
