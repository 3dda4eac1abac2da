/*
 * syslog_net.h — the syslog listener (UDP and TCP) and its TCP framer.
 *
 * UDP (RFC 5426): one datagram is one message; trailing LF/CR are
 * stripped; a datagram longer than syslog.max_message is cut to it and
 * counted as truncated.
 *
 * TCP (RFC 6587): each message chooses its framing by its first byte — a
 * digit means octet counting ("LEN SP MSG": the LEN bytes are the message,
 * kept exactly as counted, CR/LF at its end included), anything else means
 * LF framing (the message runs to the next LF; a CR before it is dropped).
 * CR/LF between messages are skipped. A count that is not 1..9 digits
 * followed by SP is a framing error: the bytes read so far are kept and
 * the message is read as LF-framed instead. A message longer than
 * max_message is delivered cut to max_message with truncated = true, and
 * the rest of it is skipped (octet counting) or discarded up to the next LF.
 * So a client costs at most max_message bytes of buffer, whatever it sends.
 *
 * Every message goes to intake_line(..., JOURNAL_PATH_SYSLOG, ...), which
 * appends to the journal without waiting for durability (syslog has no
 * acknowledgement to give). Blank messages (empty, or nothing but CR/LF)
 * are skipped and not counted.
 *
 * The listener runs one thread with epoll over nonblocking sockets: at most
 * SYSLOG_NET_MAX_CLIENTS TCP clients (more are accepted and closed at once,
 * counted), and a client silent for SYSLOG_NET_IDLE_S is closed.
 *
 * Ownership: syslog_net_start returns a listener the caller frees with
 * syslog_net_stop, which stops the thread after it has handled what it had
 * already read (including data waiting in the sockets), delivers each TCP
 * client's unterminated last line as at end of stream, closes the sockets
 * and frees. The intake must outlive the listener.
 */
#ifndef KOBAN_SYSLOG_NET_H
#define KOBAN_SYSLOG_NET_H

#include "config/config.h"
#include "ingest/intake.h"
#include "lib/buf.h"

#define SYSLOG_NET_MAX_CLIENTS 256
#define SYSLOG_NET_IDLE_S 300

/* ---- the TCP framer (pure: no sockets) ---- */

/* Receives each complete message: msg[0..len) is valid during the call. */
typedef void (*syslog_frame_fn)(void *ctx, const char *msg, size_t len, bool truncated);

struct syslog_framer {
    size_t max;            /* message bound (>= 1) */
    int state;             /* see syslog_net.c */
    size_t need;           /* octet counting: bytes of the frame still due */
    unsigned ndigits;      /* digits of the count read so far */
    bool cut;              /* the current frame overflowed max */
    struct buf msg;        /* the message so far (max bytes at most) */
    uint64_t messages;     /* delivered */
    uint64_t truncated;    /* delivered cut */
    uint64_t framing_errors;
};

/* Owner: the caller; release with syslog_framer_release. */
void syslog_framer_init(struct syslog_framer *f, size_t max_message);
void syslog_framer_release(struct syslog_framer *f);
/* Feeds n bytes; calls cb for each message they complete. Any split of a
 * stream into feeds gives the same messages. */
void syslog_framer_feed(struct syslog_framer *f, const char *p, size_t n, syslog_frame_fn cb,
                        void *ctx);
/* End of stream: an unterminated LF-framed message is delivered; a partial
 * octet-counted frame is delivered as truncated. */
void syslog_framer_finish(struct syslog_framer *f, syslog_frame_fn cb, void *ctx);

/* ---- the listener ---- */

struct syslog_net;

/* Binds cfg->syslog.udp and cfg->syslog.tcp ("host:port"; port 0 picks a
 * free one; NULL or "" leaves that transport off) and starts the thread.
 * KB_EINVAL (bad address) or KB_EIO (socket, bind) with why filled. */
kb_err syslog_net_start(const struct kb_config *cfg, struct intake *in, struct syslog_net **out,
                        struct kb_why *why);
/* The bound ports (0 when that transport is off). */
uint16_t syslog_net_udp_port(const struct syslog_net *s);
uint16_t syslog_net_tcp_port(const struct syslog_net *s);
/* See "Ownership" above. NULL is a no-op. */
void syslog_net_stop(struct syslog_net *s);

/* Prometheus text: koban_syslog_messages_total{transport}, ..._truncated_total
 * {transport}, ..._framing_errors_total, ..._intake_errors_total,
 * koban_syslog_tcp_clients, ..._tcp_clients_rejected_total. */
kb_err syslog_net_metrics(struct syslog_net *s, struct buf *out);

#endif
