/*
 * test_syslog_net.c — the syslog listener over real sockets on 127.0.0.1:
 * UDP datagrams and TCP streams in both framings end up in the journal as
 * exactly the messages sent.
 */
#include "ingest/syslog_net.h"

#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_RECS 512

struct env {
    char dir[64];
    struct journal *j;
    struct intake *in;
    struct syslog_net *net;
    struct kb_config cfg;
};

static bool env_open(struct env *e, size_t max_message)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/koban-syslog-net-XXXXXX");
    if (!mkdtemp(e->dir))
        return false;
    struct kb_why why = {{0}};
    struct journal_opts jo = {.no_sync = true};
    T_EQ_INT(journal_open(e->dir, &jo, &e->j, &why), KB_OK);
    if (!e->j)
        return false;
    struct intake_opts io = {0};
    T_EQ_INT(intake_new(e->j, &io, &e->in), KB_OK);
    e->cfg.syslog.udp = "127.0.0.1:0";
    e->cfg.syslog.tcp = "127.0.0.1:0";
    e->cfg.syslog.max_message = max_message;
    kb_err err = syslog_net_start(&e->cfg, e->in, &e->net, &why);
    T_CHECKF(err == KB_OK, "%s", why.msg);
    return err == KB_OK;
}

static void env_close(struct env *e)
{
    syslog_net_stop(e->net);
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

/* Reads journal payloads until `want` records are there or 10 s pass. */
struct recs {
    int n;
    char *p[MAX_RECS];
    size_t len[MAX_RECS];
};

static void read_journal(struct env *e, int want, struct recs *r)
{
    memset(r, 0, sizeof *r);
    for (int tries = 0; tries < 1000 && r->n < want; tries++) {
        struct journal_reader *rd = NULL;
        for (int i = 0; i < r->n; i++)
            free(r->p[i]);
        r->n = 0;
        T_EQ_INT(journal_reader_open(e->j, 0, &rd), KB_OK);
        struct journal_entry je;
        while (rd && r->n < MAX_RECS && journal_reader_next(rd, &je) == KB_OK) {
            T_EQ_INT(je.kind, JOURNAL_EVENT_TEXT);
            T_EQ_INT(je.path, JOURNAL_PATH_SYSLOG);
            r->p[r->n] = malloc(je.data.n + 1);
            memcpy(r->p[r->n], je.data.p, je.data.n);
            r->p[r->n][je.data.n] = '\0';
            r->len[r->n] = je.data.n;
            r->n++;
        }
        journal_reader_close(rd);
        if (r->n < want)
            sleep_ms(10);
    }
}

static void recs_free(struct recs *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->p[i]);
    r->n = 0;
}

/* Each expected message is in the journal exactly once, and nothing else. */
static void expect_exactly(struct recs *r, const char *const *want, int nwant)
{
    T_EQ_INT(r->n, nwant);
    bool used[MAX_RECS] = {0};
    for (int w = 0; w < nwant; w++) {
        bool found = false;
        for (int i = 0; i < r->n && !found; i++)
            if (!used[i] && r->len[i] == strlen(want[w]) && strcmp(r->p[i], want[w]) == 0)
                used[i] = found = true;
        T_CHECKF(found, "message not in the journal: \"%.60s\"", want[w]);
    }
}

static int udp_sock(void)
{
    return socket(AF_INET, SOCK_DGRAM, 0);
}

static void udp_send(int fd, uint16_t port, const char *msg, size_t len)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    T_EQ_INT(sendto(fd, msg, len, 0, (struct sockaddr *)&sa, sizeof sa), (ssize_t)len);
}

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    T_EQ_INT(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void tcp_send(int fd, const char *p, size_t n)
{
    T_EQ_INT(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void test_udp_and_tcp(void)
{
    struct env e;
    if (!env_open(&e, 1024)) {
        T_CHECK(0);
        return;
    }
    uint16_t up = syslog_net_udp_port(e.net), tp = syslog_net_tcp_port(e.net);
    T_CHECK(up != 0 && tp != 0);

    /* UDP: one message per datagram; trailing LF stripped; LF inside kept */
    int u = udp_sock();
    udp_send(u, up, "<13>Oct 11 22:14:15 h app: udp one", 34);
    udp_send(u, up, "<13>udp two\n", 12);
    udp_send(u, up, "<13>udp three\nstill three", 25);
    char big[2000];
    memset(big, 'u', sizeof big);
    memcpy(big, "<13>", 4);
    udp_send(u, up, big, sizeof big); /* over max_message: cut to 1024 */
    udp_send(u, up, "\n", 1);         /* blank: skipped */
    close(u);

    /* TCP, LF framing, sent in awkward pieces */
    int t1 = tcp_connect(tp);
    tcp_send(t1, "<13>tcp lf o", 12);
    sleep_ms(20);
    tcp_send(t1, "ne\n<13>tcp lf two\r", 18);
    sleep_ms(20);
    tcp_send(t1, "\n<13>tcp lf three", 17);
    close(t1); /* the last line has no LF: delivered at end of stream */

    /* TCP, octet counting, with an LF inside a message */
    int t2 = tcp_connect(tp);
    const char *m1 = "<13>octet a\nline 2", *m2 = "<13>octet two  xx";
    char octet[128];
    int ol = snprintf(octet, sizeof octet, "%zu %s%zu %s", strlen(m1), m1, strlen(m2), m2);
    tcp_send(t2, octet, 5);
    sleep_ms(20);
    tcp_send(t2, octet + 5, (size_t)ol - 5);
    /* mixed framings on one connection, and an oversized frame */
    char frame[1200 + 8];
    int hl = snprintf(frame, sizeof frame, "1200 ");
    memset(frame + hl, 'o', 1200);
    tcp_send(t2, frame, (size_t)hl + 1200);
    tcp_send(t2, "<13>lf after octet\n9 <13>last!", 30);
    close(t2);

    char big_cut[1025];
    memcpy(big_cut, big, 1024);
    big_cut[1024] = '\0';
    char frame_cut[1025];
    memset(frame_cut, 'o', 1024);
    frame_cut[1024] = '\0';
    const char *want[] = {
        "<13>Oct 11 22:14:15 h app: udp one",
        "<13>udp two",
        "<13>udp three\nstill three",
        big_cut,
        "<13>tcp lf one",
        "<13>tcp lf two",
        "<13>tcp lf three",
        "<13>octet a\nline 2",
        "<13>octet two  xx",
        frame_cut,
        "<13>lf after octet",
        "<13>last!",
    };
    int nwant = (int)KB_ARRAY_LEN(want);
    struct recs r;
    read_journal(&e, nwant, &r);
    expect_exactly(&r, want, nwant);
    recs_free(&r);

    /* counters */
    struct buf m = BUF_INIT(1 << 16);
    T_EQ_INT(syslog_net_metrics(e.net, &m), KB_OK);
    T_CHECKF(strstr(m.p, "koban_syslog_messages_total{transport=\"udp\"} 4\n") != NULL, "%s",
             m.p);
    T_CHECK(strstr(m.p, "koban_syslog_messages_total{transport=\"tcp\"} 8\n") != NULL);
    T_CHECK(strstr(m.p, "koban_syslog_truncated_total{transport=\"udp\"} 1\n") != NULL);
    T_CHECK(strstr(m.p, "koban_syslog_truncated_total{transport=\"tcp\"} 1\n") != NULL);
    T_CHECK(strstr(m.p, "koban_syslog_framing_errors_total 0\n") != NULL);
    buf_release(&m);
    env_close(&e);
}

/* RFC 6587 octet counting: the journal holds a message's bytes exactly as
 * counted, trailing CR/LF included; only LF framing drops its terminator.
 * A frame of nothing but CR/LF is blank: skipped, not an intake error. */
static void test_octet_keeps_terminators(void)
{
    struct env e;
    if (!env_open(&e, 1024)) {
        T_CHECK(0);
        return;
    }
    int t = tcp_connect(syslog_net_tcp_port(e.net));
    const char *frames[] = {"<13>crlf kept\r\n", "<13>lf kept\n", "<13>cr kept\r",
                            "<13>two lf\n\n", "\r\n"};
    char out[512];
    size_t n = 0;
    for (size_t i = 0; i < KB_ARRAY_LEN(frames); i++)
        n += (size_t)snprintf(out + n, sizeof out - n, "%zu %s", strlen(frames[i]), frames[i]);
    n += (size_t)snprintf(out + n, sizeof out - n, "<13>lf framed\r\n");
    tcp_send(t, out, n);
    close(t);
    const char *want[] = {"<13>crlf kept\r\n", "<13>lf kept\n", "<13>cr kept\r",
                          "<13>two lf\n\n", "<13>lf framed"};
    int nwant = (int)KB_ARRAY_LEN(want);
    struct recs r;
    read_journal(&e, nwant, &r);
    expect_exactly(&r, want, nwant);
    recs_free(&r);
    struct buf m = BUF_INIT(1 << 16);
    T_EQ_INT(syslog_net_metrics(e.net, &m), KB_OK);
    T_CHECKF(strstr(m.p, "koban_syslog_messages_total{transport=\"tcp\"} 5\n") != NULL, "%s",
             m.p);
    T_CHECK(strstr(m.p, "koban_syslog_intake_errors_total 0\n") != NULL);
    buf_release(&m);
    env_close(&e);
}

/* Data already in the sockets when stop is called is still journaled. */
static void test_stop_drains(void)
{
    struct env e;
    if (!env_open(&e, 4096)) {
        T_CHECK(0);
        return;
    }
    uint16_t up = syslog_net_udp_port(e.net), tp = syslog_net_tcp_port(e.net);
    int u = udp_sock();
    int t = tcp_connect(tp);
    char msg[64];
    static char store[100][64];
    const char *want[100];
    for (int i = 0; i < 50; i++) {
        int n = snprintf(msg, sizeof msg, "<13>drain udp %d", i);
        udp_send(u, up, msg, (size_t)n);
        snprintf(store[i], sizeof store[i], "%s", msg);
        want[i] = store[i];
        n = snprintf(msg, sizeof msg, "<13>drain tcp %d\n", i);
        tcp_send(t, msg, (size_t)n);
        snprintf(store[50 + i], sizeof store[i], "<13>drain tcp %d", i);
        want[50 + i] = store[50 + i];
    }
    close(u);
    syslog_net_stop(e.net); /* at once: no time for the thread to catch up */
    e.net = NULL;
    close(t);
    struct recs r;
    read_journal(&e, 100, &r);
    expect_exactly(&r, want, 100);
    recs_free(&r);
    env_close(&e);
}

static void test_bad_config(void)
{
    struct kb_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.syslog.udp = "no-port-here";
    struct syslog_net *s = (struct syslog_net *)&cfg; /* must be reset to NULL */
    struct kb_why why = {{0}};
    T_EQ_INT(syslog_net_start(&cfg, NULL, &s, &why), KB_EINVAL);
    T_CHECK(s == NULL);
    T_CHECK(why.msg[0] != '\0');

    /* both off: starts, ports 0 */
    cfg.syslog.udp = NULL;
    cfg.syslog.tcp = "";
    T_EQ_INT(syslog_net_start(&cfg, NULL, &s, &why), KB_OK);
    T_EQ_INT(syslog_net_udp_port(s), 0);
    T_EQ_INT(syslog_net_tcp_port(s), 0);
    syslog_net_stop(s);
    syslog_net_stop(NULL);

    /* a port in use */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    T_EQ_INT(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    T_EQ_INT(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    cfg.syslog.udp = addr;
    T_EQ_INT(syslog_net_start(&cfg, NULL, &s, &why), KB_EIO);
    T_CHECK(strstr(why.msg, addr) != NULL);
    close(fd);
}

int main(void)
{
    T_RUN(test_bad_config);
    T_RUN(test_udp_and_tcp);
    T_RUN(test_stop_drains);
    T_RUN(test_octet_keeps_terminators);
    return t_done();
}
