/*
 * syslog_net.c — the syslog framer and listener (see syslog_net.h).
 *
 * Framer states (one message at a time):
 *   START   between messages: CR/LF skipped; a digit -> COUNT, else LINE.
 *   COUNT   reading "LEN": digits are kept in the buffer so that a bad count
 *           (leading zero, >9 digits, no SP) can fall back to LINE with
 *           nothing lost; SP -> OCTET with need = LEN.
 *   OCTET   reading need bytes; once max bytes are buffered the message is
 *           delivered cut and the rest of the frame is skipped (SKIP).
 *   LINE    reading to LF; past max bytes the message is delivered cut and
 *           the rest of the line discarded (DISCARD).
 *   SKIP    dropping need more bytes of an over-long frame -> START.
 *   DISCARD dropping bytes up to LF -> START.
 *
 * Listener: one thread, one epoll set holding the UDP socket, the TCP
 * listening socket, an eventfd for stop, and the TCP clients. Sockets are
 * level-triggered and each wakeup handles a bounded amount per socket, so
 * one busy sender cannot starve the others.
 */
#include "ingest/syslog_net.h"

#include "lib/log.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- framer ---- */

enum { ST_START, ST_COUNT, ST_OCTET, ST_LINE, ST_SKIP, ST_DISCARD };

#define MAX_COUNT_DIGITS 9

void syslog_framer_init(struct syslog_framer *f, size_t max_message)
{
    memset(f, 0, sizeof *f);
    f->max = max_message ? max_message : 1;
    buf_init(&f->msg, f->max);
    f->state = ST_START;
}

void syslog_framer_release(struct syslog_framer *f)
{
    buf_release(&f->msg);
}

/* Appends what fits under max; sets cut when something did not. */
static void put(struct syslog_framer *f, const char *p, size_t n)
{
    size_t room = f->max - f->msg.len;
    if (n > room) {
        f->cut = true;
        n = room;
    }
    if (n)
        (void)buf_append(&f->msg, p, n); /* within max: cannot fail */
}

static void deliver(struct syslog_framer *f, syslog_frame_fn cb, void *ctx)
{
    size_t n = f->msg.len;
    const char *p = f->msg.p ? f->msg.p : "";
    if (f->state == ST_LINE || f->state == ST_COUNT)
        while (n > 0 && p[n - 1] == '\r')
            n--;
    if (n > 0 || f->cut) {
        f->messages++;
        f->truncated += f->cut;
        cb(ctx, p, n, f->cut);
    }
    buf_reset(&f->msg);
    f->cut = false;
    f->state = ST_START;
}

void syslog_framer_feed(struct syslog_framer *f, const char *p, size_t n, syslog_frame_fn cb,
                        void *ctx)
{
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        switch (f->state) {
        case ST_START:
            if (c == '\n' || c == '\r') {
                i++;
            } else if (c >= '0' && c <= '9') {
                f->state = ST_COUNT;
                f->need = 0;
                f->ndigits = 0;
            } else {
                f->state = ST_LINE;
            }
            break;
        case ST_COUNT:
            if (c >= '0' && c <= '9' && f->ndigits < MAX_COUNT_DIGITS &&
                !(f->ndigits == 0 && c == '0')) {
                f->need = f->need * 10 + (size_t)(c - '0');
                f->ndigits++;
                put(f, &c, 1);
                i++;
            } else if (c == ' ' && f->ndigits > 0) {
                buf_reset(&f->msg);
                f->cut = false;
                f->state = ST_OCTET;
                i++;
            } else { /* not a count: the digits start an LF-framed message */
                f->framing_errors++;
                f->state = ST_LINE;
            }
            break;
        case ST_OCTET: {
            size_t take = KB_MIN(f->need, n - i);
            put(f, p + i, take);
            i += take;
            f->need -= take;
            if (f->cut) { /* over max: deliver now, skip the rest */
                deliver(f, cb, ctx);
                f->state = f->need ? ST_SKIP : ST_START;
            } else if (f->need == 0) {
                deliver(f, cb, ctx);
            }
            break;
        }
        case ST_LINE: {
            const char *nl = memchr(p + i, '\n', n - i);
            size_t take = nl ? (size_t)(nl - (p + i)) : n - i;
            put(f, p + i, take);
            i += take;
            if (f->cut) {
                deliver(f, cb, ctx);
                f->state = ST_DISCARD;
            } else if (nl) {
                i++;
                deliver(f, cb, ctx);
            }
            break;
        }
        case ST_SKIP: {
            size_t take = KB_MIN(f->need, n - i);
            i += take;
            f->need -= take;
            if (f->need == 0)
                f->state = ST_START;
            break;
        }
        case ST_DISCARD: {
            const char *nl = memchr(p + i, '\n', n - i);
            i = nl ? (size_t)(nl - p) + 1 : n;
            if (nl)
                f->state = ST_START;
            break;
        }
        default:
            f->state = ST_START;
            break;
        }
    }
}

void syslog_framer_finish(struct syslog_framer *f, syslog_frame_fn cb, void *ctx)
{
    switch (f->state) {
    case ST_COUNT:
        if (f->ndigits)
            f->framing_errors++;
        f->state = ST_LINE;
        deliver(f, cb, ctx);
        break;
    case ST_LINE:
        deliver(f, cb, ctx);
        break;
    case ST_OCTET:
        f->cut = true; /* the frame ended early */
        deliver(f, cb, ctx);
        break;
    default:
        break;
    }
    buf_reset(&f->msg);
    f->cut = false;
    f->need = 0;
    f->state = ST_START;
}

/* ---- listener ---- */

enum { TAG_WAKE, TAG_UDP, TAG_TCP, TAG_CLIENT };
enum { TR_UDP, TR_TCP };

#define READ_CHUNK (64 * 1024)
#define UDP_PER_WAKEUP 256   /* datagrams per wakeup */
#define TCP_READS_PER_WAKEUP 16
#define ACCEPTS_PER_WAKEUP 64
#define DRAIN_MAX 100000     /* datagrams / reads when stopping */

struct tag {
    int kind;
};

struct client {
    struct tag tag; /* first: epoll data points here */
    int fd;
    size_t slot;
    int64_t last_ns;
    struct syslog_framer fr;
};

struct syslog_net {
    struct intake *in;
    size_t max_message;
    int ep, wake_fd, udp_fd, tcp_fd;
    struct tag wake_tag, udp_tag, tcp_tag;
    uint16_t udp_port, tcp_port;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    char *udp_buf;                 /* max_message bytes */
    char *read_buf;                /* READ_CHUNK bytes */
    struct client *clients[SYSLOG_NET_MAX_CLIENTS];
    size_t nclients;
    /* counters (read by syslog_net_metrics from any thread) */
    atomic_uint_fast64_t messages[2], truncated[2], framing_errors, intake_errors,
        clients_rejected, clients_now;
};

/* True when msg holds nothing but CR/LF: an octet-counted frame may (its
 * bytes are kept as counted, so the LF framer's skipping does not apply). */
static bool blank(const char *msg, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (msg[i] != '\r' && msg[i] != '\n')
            return false;
    return true;
}

static void on_message(struct syslog_net *s, int tr, const char *msg, size_t len,
                       bool truncated)
{
    if (!truncated && blank(msg, len))
        return; /* skipped like blank lines, not refused by the intake */
    atomic_fetch_add(&s->messages[tr], 1);
    if (truncated)
        atomic_fetch_add(&s->truncated[tr], 1);
    if (len == 0)
        return;
    uint64_t seq = 0;
    struct kb_why why = {{0}};
    kb_err err = intake_line(s->in, msg, len, JOURNAL_PATH_SYSLOG, &seq, &why);
    if (err != KB_OK) {
        /* the count is the signal; one log line per 1000 avoids a flood */
        uint64_t n = atomic_fetch_add(&s->intake_errors, 1);
        if (n % 1000 == 0) {
            char q[300];
            log_warn("syslog: message not taken", "err=%s why=%s count=%llu",
                     kb_strerror(err), kb_logq(q, sizeof q, why.msg),
                     (unsigned long long)n + 1);
        }
    }
}

static void on_tcp_frame(void *ctx, const char *msg, size_t len, bool truncated)
{
    on_message(ctx, TR_TCP, msg, len, truncated);
}

/* One datagram per call; false when the socket has nothing more. */
static bool read_udp(struct syslog_net *s)
{
    ssize_t r = recv(s->udp_fd, s->udp_buf, s->max_message, MSG_TRUNC | MSG_DONTWAIT);
    if (r < 0)
        return errno == EINTR;
    size_t len = (size_t)r;
    bool cut = len > s->max_message;
    if (cut)
        len = s->max_message;
    while (len > 0 && (s->udp_buf[len - 1] == '\n' || s->udp_buf[len - 1] == '\r'))
        len--;
    if (len > 0 || cut)
        on_message(s, TR_UDP, s->udp_buf, len, cut);
    return true;
}

static void close_client(struct syslog_net *s, struct client *c, bool deliver_rest)
{
    if (deliver_rest) {
        uint64_t before = c->fr.framing_errors;
        syslog_framer_finish(&c->fr, on_tcp_frame, s);
        atomic_fetch_add(&s->framing_errors, c->fr.framing_errors - before);
    }
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    syslog_framer_release(&c->fr);
    s->clients[c->slot] = NULL;
    s->nclients--;
    atomic_fetch_sub(&s->clients_now, 1);
    free(c);
}

/* Reads up to `reads` chunks; closes the client at end of stream or error. */
static void read_client(struct syslog_net *s, struct client *c, int reads)
{
    for (int k = 0; k < reads; k++) {
        ssize_t r = recv(c->fd, s->read_buf, READ_CHUNK, MSG_DONTWAIT);
        if (r > 0) {
            uint64_t before = c->fr.framing_errors;
            syslog_framer_feed(&c->fr, s->read_buf, (size_t)r, on_tcp_frame, s);
            atomic_fetch_add(&s->framing_errors, c->fr.framing_errors - before);
            c->last_ns = kb_mono_ns();
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close_client(s, c, true); /* 0: end of stream; <0: reset */
        return;
    }
}

static void accept_clients(struct syslog_net *s)
{
    for (int k = 0; k < ACCEPTS_PER_WAKEUP; k++) {
        int fd = accept4(s->tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a transient error (EMFILE...): retried next wakeup */
        if (s->nclients >= SYSLOG_NET_MAX_CLIENTS) {
            close(fd);
            atomic_fetch_add(&s->clients_rejected, 1);
            continue;
        }
        struct client *c = kb_calloc(1, sizeof *c);
        c->tag.kind = TAG_CLIENT;
        c->fd = fd;
        c->last_ns = kb_mono_ns();
        syslog_framer_init(&c->fr, s->max_message);
        size_t slot = 0;
        while (s->clients[slot])
            slot++;
        c->slot = slot;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            syslog_framer_release(&c->fr);
            close(fd);
            free(c);
            continue;
        }
        s->clients[slot] = c;
        s->nclients++;
        atomic_fetch_add(&s->clients_now, 1);
    }
}

static void close_idle(struct syslog_net *s)
{
    int64_t now = kb_mono_ns(), idle = (int64_t)SYSLOG_NET_IDLE_S * 1000000000LL;
    for (size_t i = 0; i < SYSLOG_NET_MAX_CLIENTS; i++)
        if (s->clients[i] && now - s->clients[i]->last_ns > idle)
            close_client(s, s->clients[i], true);
}

/* At stop: what the sockets already hold is read and handed on, including
 * connections the kernel has completed but the loop has not accepted yet
 * (their senders have already written, and TCP gave them no reason to
 * think otherwise). */
static void drain(struct syslog_net *s)
{
    if (s->tcp_fd >= 0)
        accept_clients(s);
    if (s->udp_fd >= 0)
        for (int k = 0; k < DRAIN_MAX && read_udp(s); k++)
            ;
    for (size_t i = 0; i < SYSLOG_NET_MAX_CLIENTS; i++)
        if (s->clients[i])
            read_client(s, s->clients[i], DRAIN_MAX);
    for (size_t i = 0; i < SYSLOG_NET_MAX_CLIENTS; i++)
        if (s->clients[i])
            close_client(s, s->clients[i], true);
}

static void *net_thread(void *arg)
{
    struct syslog_net *s = arg;
    struct epoll_event evs[64];
    int64_t last_sweep = kb_mono_ns();
    while (!atomic_load(&s->stop)) {
        int n = epoll_wait(s->ep, evs, (int)KB_ARRAY_LEN(evs), 1000);
        for (int i = 0; i < n; i++) {
            struct tag *t = evs[i].data.ptr;
            if (t->kind == TAG_UDP) {
                for (int k = 0; k < UDP_PER_WAKEUP && read_udp(s); k++)
                    ;
            } else if (t->kind == TAG_TCP) {
                accept_clients(s);
            } else if (t->kind == TAG_CLIENT) {
                read_client(s, (struct client *)t, TCP_READS_PER_WAKEUP);
            }
            /* TAG_WAKE: the stop flag is checked by the loop */
        }
        if (kb_mono_ns() - last_sweep > 1000000000LL) {
            close_idle(s);
            last_sweep = kb_mono_ns();
        }
    }
    drain(s);
    return NULL;
}

/* Binds "host:port" for type (SOCK_DGRAM / SOCK_STREAM); returns the fd. */
static kb_err bind_addr(const char *addr, int type, int *fd_out, uint16_t *port_out,
                        struct kb_why *why)
{
    char *host = NULL;
    uint16_t port;
    kb_err err = config_parse_addr(addr, &host, &port, why);
    if (err != KB_OK)
        return err;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    struct addrinfo hints = {.ai_socktype = type, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &ai);
    const char *proto = type == SOCK_DGRAM ? "udp" : "tcp";
    if (gai != 0) {
        err = kb_fail(why, KB_EINVAL, "syslog %s address '%s': %s", proto, addr,
                      gai_strerror(gai));
        goto out;
    }
    int fd = socket(ai->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = kb_fail(why, KB_EIO, "syslog %s socket: %s", proto, strerror(errno));
        goto out;
    }
    int one = 1;
    if (type == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        (type == SOCK_STREAM && listen(fd, 128) != 0)) {
        err = kb_fail(why, KB_EIO, "syslog %s bind %s: %s", proto, addr, strerror(errno));
        close(fd);
        goto out;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
out:
    if (ai)
        freeaddrinfo(ai);
    free(host);
    return err;
}

static kb_err watch(struct syslog_net *s, int fd, struct tag *t, struct kb_why *why)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = t};
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        return kb_fail(why, KB_EIO, "syslog: epoll_ctl: %s", strerror(errno));
    return KB_OK;
}

static void free_net(struct syslog_net *s)
{
    if (s->udp_fd >= 0)
        close(s->udp_fd);
    if (s->tcp_fd >= 0)
        close(s->tcp_fd);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    if (s->ep >= 0)
        close(s->ep);
    free(s->udp_buf);
    free(s->read_buf);
    free(s);
}

kb_err syslog_net_start(const struct kb_config *cfg, struct intake *in, struct syslog_net **out,
                        struct kb_why *why)
{
    *out = NULL;
    struct syslog_net *s = kb_calloc(1, sizeof *s);
    s->in = in;
    s->max_message = cfg->syslog.max_message ? cfg->syslog.max_message : 64 * 1024;
    s->ep = s->wake_fd = s->udp_fd = s->tcp_fd = -1;
    s->wake_tag.kind = TAG_WAKE;
    s->udp_tag.kind = TAG_UDP;
    s->tcp_tag.kind = TAG_TCP;
    kb_err err = KB_OK;
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->ep < 0 || s->wake_fd < 0) {
        err = kb_fail(why, KB_EIO, "syslog: epoll/eventfd: %s", strerror(errno));
        goto fail;
    }
    if ((err = watch(s, s->wake_fd, &s->wake_tag, why)) != KB_OK)
        goto fail;
    if (cfg->syslog.udp && cfg->syslog.udp[0]) {
        if ((err = bind_addr(cfg->syslog.udp, SOCK_DGRAM, &s->udp_fd, &s->udp_port, why)) ||
            (err = watch(s, s->udp_fd, &s->udp_tag, why)))
            goto fail;
        s->udp_buf = kb_malloc(s->max_message);
    }
    if (cfg->syslog.tcp && cfg->syslog.tcp[0]) {
        if ((err = bind_addr(cfg->syslog.tcp, SOCK_STREAM, &s->tcp_fd, &s->tcp_port, why)) ||
            (err = watch(s, s->tcp_fd, &s->tcp_tag, why)))
            goto fail;
        s->read_buf = kb_malloc(READ_CHUNK);
    }
    if (pthread_create(&s->thread, NULL, net_thread, s) != 0) {
        err = kb_fail(why, KB_EIO, "syslog: cannot start the listener thread");
        goto fail;
    }
    s->thread_started = true;
    log_info("syslog listening", "udp=%u tcp=%u", (unsigned)s->udp_port, (unsigned)s->tcp_port);
    *out = s;
    return KB_OK;
fail:
    free_net(s);
    return err;
}

uint16_t syslog_net_udp_port(const struct syslog_net *s)
{
    return s ? s->udp_port : 0;
}

uint16_t syslog_net_tcp_port(const struct syslog_net *s)
{
    return s ? s->tcp_port : 0;
}

void syslog_net_stop(struct syslog_net *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    uint64_t one = 1;
    if (write(s->wake_fd, &one, sizeof one) < 0) {
        /* the 1 s epoll timeout still ends the loop */
    }
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    free_net(s);
}

kb_err syslog_net_metrics(struct syslog_net *s, struct buf *out)
{
    static const char *const tr[2] = {"udp", "tcp"};
    kb_err err = buf_puts(out, "# HELP koban_syslog_messages_total Syslog messages received.\n"
                               "# TYPE koban_syslog_messages_total counter\n");
    for (int i = 0; i < 2 && !err; i++)
        err = buf_printf(out, "koban_syslog_messages_total{transport=\"%s\"} %llu\n", tr[i],
                         (unsigned long long)atomic_load(&s->messages[i]));
    if (!err)
        err = buf_puts(out, "# HELP koban_syslog_truncated_total Syslog messages cut to "
                            "syslog.max_message.\n"
                            "# TYPE koban_syslog_truncated_total counter\n");
    for (int i = 0; i < 2 && !err; i++)
        err = buf_printf(out, "koban_syslog_truncated_total{transport=\"%s\"} %llu\n", tr[i],
                         (unsigned long long)atomic_load(&s->truncated[i]));
    if (!err)
        err = buf_printf(
            out,
            "# HELP koban_syslog_framing_errors_total TCP octet counts that were not valid.\n"
            "# TYPE koban_syslog_framing_errors_total counter\n"
            "koban_syslog_framing_errors_total %llu\n"
            "# HELP koban_syslog_intake_errors_total Syslog messages the intake refused.\n"
            "# TYPE koban_syslog_intake_errors_total counter\n"
            "koban_syslog_intake_errors_total %llu\n"
            "# HELP koban_syslog_tcp_clients Connected syslog TCP clients.\n"
            "# TYPE koban_syslog_tcp_clients gauge\n"
            "koban_syslog_tcp_clients %llu\n"
            "# HELP koban_syslog_tcp_clients_rejected_total TCP clients closed at once "
            "because %d were connected.\n"
            "# TYPE koban_syslog_tcp_clients_rejected_total counter\n"
            "koban_syslog_tcp_clients_rejected_total %llu\n",
            (unsigned long long)atomic_load(&s->framing_errors),
            (unsigned long long)atomic_load(&s->intake_errors),
            (unsigned long long)atomic_load(&s->clients_now), SYSLOG_NET_MAX_CLIENTS,
            (unsigned long long)atomic_load(&s->clients_rejected));
    return err;
}
