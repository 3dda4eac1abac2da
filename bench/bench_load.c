/*
 * bench_load.c — a bounded HTTP/1.1 load generator for POST /v1/events.
 *
 * One thread, epoll, N keep-alive connections to 127.0.0.1 (nothing else is
 * allowed); each connection has at most one request in flight (no
 * pipelining), so throughput with one event per request comes only from
 * concurrency — for koban, from the journal's group commit across
 * connections. Every response must be 200; the "accepted" count in the body
 * is summed (a body without one, e.g. Alertmanager's, counts the batch).
 *
 * Payload: lines of a template file (one event per line, cycled), or a
 * built-in CloudTrail-like record of about 1.1 KB. Event n of the run is
 * identity k = n % distinct (k = n when distinct is 0): it uses template
 * k % T, its {{ID}} becomes id_base + k and its {{SEQ}} a 12-digit number
 * unique to the event. So there are exactly `distinct` issue identities
 * (principals that keep doing the same action) while event ids never repeat.
 *
 * Bounds: --requests (total), --duration-s (no new request after it; in-flight
 * ones get 30 s more), line length, batch size, connections, response size.
 * Output (one line): events_per_s=... requests_per_s=... p50_ms=... p99_ms=...
 * errors=... plus counts, and the server's CPU and RSS with --server-pid.
 *
 * Ownership: main() owns the template, the connections and their buffers,
 * and the latency array; all are freed before exit.
 */
#include "lib/kb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define MAX_BATCH 10000
#define MAX_LINE (1024u * 1024)
#define MAX_LINES 1000000
#define MAX_PARTS 32               /* literal/placeholder parts per line */
#define MAX_REQUESTS 20000000ULL
#define MAX_RESPONSE (1024u * 1024)
#define MAX_RECONNECTS 1000
#define HDR_ROOM 512               /* request line + headers, before the body */
#define GRACE_NS (30LL * 1000000000)
#define PH_DIGITS 24               /* room for one expanded placeholder */

/* A built-in CloudTrail record (~1.1 KB once expanded), for when no template
 * file is given: an IAM user calling an S3 API. */
static const char builtin_event[] =
    "{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":"
    "\"AIDAZ49AHUAJ9OEK{{ID}}\",\"arn\":\"arn:aws:iam::229654561268:user/bench-user-{{ID}}\","
    "\"accountId\":\"229654561268\",\"accessKeyId\":\"AKIAOZUDECYXYM4ONAN4\",\"userName\":"
    "\"bench-user-{{ID}}\",\"sessionContext\":{\"attributes\":{\"creationDate\":"
    "\"2024-08-01T13:20:11Z\",\"mfaAuthenticated\":\"false\"}}},\"eventTime\":"
    "\"2024-08-01T13:33:28Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":"
    "\"GetObject\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"198.51.100.23\","
    "\"userAgent\":\"[aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 command/s3.cp]\","
    "\"requestParameters\":{\"bucketName\":\"bench-data-{{ID}}\",\"key\":\"exports/2024/08/01/"
    "customers.csv.gz\"},\"responseElements\":null,\"additionalEventData\":{\"SignatureVersion\""
    ":\"SigV4\",\"bytesTransferredOut\":48213},\"requestID\":\"710F2703{{SEQ}}\",\"eventID\":"
    "\"083dc4ad-e264-46bc-a407-{{SEQ}}\",\"readOnly\":true,\"resources\":[{\"type\":"
    "\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::bench-data-{{ID}}/exports/2024/08/01/"
    "customers.csv.gz\"},{\"accountId\":\"229654561268\",\"type\":\"AWS::S3::Bucket\","
    "\"ARN\":\"arn:aws:s3:::bench-data-{{ID}}\"}],\"eventType\":\"AwsApiCall\","
    "\"managementEvent\":false,\"recipientAccountId\":\"229654561268\",\"eventCategory\":"
    "\"Data\"}";

enum part_kind { PART_LIT, PART_ID, PART_SEQ };
struct part {
    const char *p;
    size_t n;
    enum part_kind kind;
};
struct line {
    struct part parts[MAX_PARTS];
    unsigned nparts;
    size_t max_len;         /* expanded length bound */
};

enum body_format { FMT_AUTO, FMT_OBJECT, FMT_ARRAY, FMT_NDJSON };

struct opts {
    char host[64];
    uint16_t port;
    const char *path, *payload, *content_type, *header;
    unsigned conns, batch;
    unsigned long long requests, distinct, id_base;
    double duration_s;
    enum body_format fmt;
    int server_pid;
};

enum conn_state { C_IDLE, C_BUSY };
struct conn {
    int fd;
    enum conn_state state;
    char *w;                 /* HDR_ROOM + body capacity */
    size_t wcap, woff, wend; /* bytes [woff, wend) remain to send */
    char *r;
    size_t rlen;
    size_t rcap;
    int64_t t0;
    unsigned events;         /* events in the request in flight */
};

struct run {
    struct opts o;
    struct line *lines;
    size_t nlines;
    char *text;              /* the template file's bytes (owned) */
    unsigned long long issued, done, next_event;
    unsigned long long accepted, errors, reconnects;
    uint32_t *lat_us;        /* one per response received (bounded by requests) */
    size_t nlat;
    int ep;
    struct sockaddr_in addr;
    int64_t start, last_done, deadline;
    char last_error[200];
};

static void note_error(struct run *rn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note_error(struct run *rn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rn->errors++;
    vsnprintf(rn->last_error, sizeof rn->last_error, fmt, ap);
    va_end(ap);
}

/* Splits one template line into literal and placeholder parts. */
static int parse_line(const char *p, size_t n, struct line *l)
{
    static const struct {
        const char *tok;
        enum part_kind kind;
    } phs[] = {{"{{ID}}", PART_ID}, {"{{SEQ}}", PART_SEQ}};
    l->nparts = 0;
    l->max_len = 0;
    while (n > 0) {
        size_t best = n, blen = 0;
        enum part_kind bk = PART_LIT;
        for (size_t i = 0; i < KB_ARRAY_LEN(phs); i++) {
            const char *hit = memmem(p, n, phs[i].tok, strlen(phs[i].tok));
            if (hit && (size_t)(hit - p) < best) {
                best = (size_t)(hit - p);
                blen = strlen(phs[i].tok);
                bk = phs[i].kind;
            }
        }
        if (best > 0) {
            if (l->nparts >= MAX_PARTS)
                return -1;
            l->parts[l->nparts++] = (struct part){p, best, PART_LIT};
            l->max_len += best;
        }
        if (blen == 0)
            break;
        if (l->nparts >= MAX_PARTS)
            return -1;
        l->parts[l->nparts++] = (struct part){NULL, 0, bk};
        l->max_len += PH_DIGITS;
        p += best + blen;
        n -= best + blen;
    }
    return l->nparts ? 0 : -1;
}

static int load_template(struct run *rn)
{
    const char *src = builtin_event;
    size_t len = sizeof builtin_event - 1;
    if (rn->o.payload) {
        FILE *f = fopen(rn->o.payload, "rb");
        if (!f) {
            fprintf(stderr, "bench_load: %s: %s\n", rn->o.payload, strerror(errno));
            return -1;
        }
        size_t cap = 1u << 20, n = 0;
        rn->text = kb_malloc(cap);
        size_t got;
        while ((got = fread(rn->text + n, 1, cap - n, f)) > 0) {
            n += got;
            if (n == cap) {
                if (cap >= (1ull << 31)) {
                    fclose(f);
                    fprintf(stderr, "bench_load: %s: larger than 2 GiB\n", rn->o.payload);
                    return -1;
                }
                cap *= 2;
                rn->text = kb_realloc(rn->text, cap);
            }
        }
        fclose(f);
        src = rn->text;
        len = n;
    }
    rn->lines = kb_calloc(1, sizeof *rn->lines);
    size_t lcap = 1;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(src + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - src) : len;
        size_t n = end - pos;
        if (n > 0 && src[pos + n - 1] == '\r')
            n--;
        if (n > 0) {
            if (n > MAX_LINE || rn->nlines >= MAX_LINES) {
                fprintf(stderr, "bench_load: line %zu too long or too many lines\n",
                        rn->nlines + 1);
                return -1;
            }
            if (rn->nlines == lcap) {
                lcap *= 2;
                rn->lines = kb_realloc(rn->lines, lcap * sizeof *rn->lines);
            }
            if (parse_line(src + pos, n, &rn->lines[rn->nlines]) != 0) {
                fprintf(stderr, "bench_load: line %zu: more than %d parts\n", rn->nlines + 1,
                        MAX_PARTS);
                return -1;
            }
            rn->nlines++;
        }
        pos = end + 1;
    }
    if (rn->nlines == 0) {
        fprintf(stderr, "bench_load: no events in the payload\n");
        return -1;
    }
    return 0;
}

/* Appends event number n (expanded) at dst; returns bytes written. */
static size_t put_event(const struct run *rn, unsigned long long n, char *dst)
{
    /* With distinct D, event n is identity k = n % D: template k % T and
     * principal k, so there are exactly D identities (each principal keeps
     * doing its own action); with D = 0 every event is a new identity. */
    unsigned long long k = rn->o.distinct ? n % rn->o.distinct : n;
    const struct line *l = &rn->lines[k % rn->nlines];
    unsigned long long id = rn->o.id_base + k;
    char *d = dst;
    for (unsigned i = 0; i < l->nparts; i++) {
        const struct part *pt = &l->parts[i];
        if (pt->kind == PART_LIT) {
            memcpy(d, pt->p, pt->n);
            d += pt->n;
        } else {
            int w = pt->kind == PART_ID ? snprintf(d, PH_DIGITS, "%llu", id)
                                        : snprintf(d, PH_DIGITS, "%012llu", n);
            d += w > 0 ? (size_t)w : 0;
        }
    }
    return (size_t)(d - dst);
}

static void conn_close(struct run *rn, struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(rn->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = C_IDLE;
    c->rlen = 0;
}

static int conn_open(struct run *rn, struct conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&rn->addr, sizeof rn->addr) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    if (epoll_ctl(rn->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->state = C_IDLE;
    c->rlen = 0;
    return 0;
}

static void want_out(struct run *rn, struct conn *c, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0),
                             .data.ptr = c};
    epoll_ctl(rn->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_flush(struct run *rn, struct conn *c)
{
    while (c->woff < c->wend) {
        ssize_t k = send(c->fd, c->w + c->woff, c->wend - c->woff, MSG_NOSIGNAL);
        if (k > 0) {
            c->woff += (size_t)k;
        } else if (k < 0 && errno == EINTR) {
            continue;
        } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            want_out(rn, c, true);
            return;
        } else {
            note_error(rn, "send: %s", strerror(errno));
            rn->done++;
            conn_close(rn, c);
            return;
        }
    }
    want_out(rn, c, false);
}

/* Builds the next request into c->w and starts sending it. */
static void conn_issue(struct run *rn, struct conn *c)
{
    const struct opts *o = &rn->o;
    char *body = c->w + HDR_ROOM, *d = body;
    enum body_format fmt = o->fmt;
    if (fmt == FMT_AUTO)
        fmt = o->batch == 1 ? FMT_OBJECT : FMT_ARRAY;
    if (fmt == FMT_ARRAY)
        *d++ = '[';
    for (unsigned i = 0; i < o->batch; i++) {
        if (i > 0)
            *d++ = fmt == FMT_NDJSON ? '\n' : ',';
        d += put_event(rn, rn->next_event++, d);
    }
    if (fmt == FMT_ARRAY)
        *d++ = ']';
    else if (fmt == FMT_NDJSON)
        *d++ = '\n';
    size_t blen = (size_t)(d - body);
    char hdr[HDR_ROOM];
    int hl = snprintf(hdr, sizeof hdr,
                      "POST %s HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\n%s%s\r\n",
                      o->path, o->host, o->port, o->content_type, blen,
                      o->header ? o->header : "", o->header ? "\r\n" : "");
    if (hl <= 0 || (size_t)hl >= sizeof hdr)
        hl = 0; /* cannot happen: options are length-checked */
    memcpy(c->w + HDR_ROOM - hl, hdr, (size_t)hl);
    c->woff = HDR_ROOM - (size_t)hl;
    c->wend = HDR_ROOM + blen;
    c->events = o->batch;
    c->state = C_BUSY;
    c->rlen = 0;
    c->t0 = kb_mono_ns();
    rn->issued++;
    conn_flush(rn, c);
}

static bool may_issue(const struct run *rn, int64_t now)
{
    return rn->issued < rn->o.requests && now < rn->deadline;
}

/* Case-insensitive search for a header's value in [p, end). */
static const char *header_value(const char *p, const char *end, const char *name)
{
    size_t nl = strlen(name);
    for (const char *s = p; s && s < end;) {
        const char *eol = memmem(s, (size_t)(end - s), "\r\n", 2);
        if (!eol)
            eol = end;
        if ((size_t)(eol - s) > nl && s[nl] == ':' && strncasecmp(s, name, nl) == 0) {
            const char *v = s + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            return v;
        }
        s = eol + 2;
    }
    return NULL;
}

/* Chunked body: 1 when complete (then the body bytes are moved to the start
 * of p and *blen is their length), 0 when more is needed, -1 when malformed.
 * Nothing moves until the whole body is there, so it can be called again. */
static int dechunk(char *p, size_t n, size_t *blen)
{
    for (int pass = 0; pass < 2; pass++) {
        size_t in = 0, out = 0;
        for (;;) {
            const char *eol = memmem(p + in, n - in, "\r\n", 2);
            if (!eol)
                return 0;
            char *endp;
            unsigned long long sz = strtoull(p + in, &endp, 16);
            if (endp == p + in || sz > MAX_RESPONSE)
                return -1;
            in = (size_t)(eol - p) + 2;
            if (sz == 0) {
                if (n - in < 2)
                    return 0;
                break;
            }
            if (n - in < sz + 2)
                return 0;
            if (pass == 1)
                memmove(p + out, p + in, sz);
            out += sz;
            in += sz + 2;
        }
        *blen = out;
    }
    return 1;
}

/* 1: a whole response is in c->r and was handled; 0: need more; -1: bad. */
static int try_response(struct run *rn, struct conn *c, bool *close_after)
{
    char *hend = memmem(c->r, c->rlen, "\r\n\r\n", 4);
    if (!hend)
        return c->rlen >= MAX_RESPONSE ? -1 : 0;
    char *body = hend + 4;
    size_t avail = c->rlen - (size_t)(body - c->r);
    if (c->rlen < 12 || memcmp(c->r, "HTTP/1.", 7) != 0)
        return -1;
    int status = (int)strtol(c->r + 9, NULL, 10);
    const char *cl = header_value(c->r, hend, "Content-Length");
    const char *te = header_value(c->r, hend, "Transfer-Encoding");
    const char *cn = header_value(c->r, hend, "Connection");
    *close_after = cn && strncasecmp(cn, "close", 5) == 0;
    size_t blen;
    if (te && strncasecmp(te, "chunked", 7) == 0) {
        char save = c->r[c->rlen];
        int k = dechunk(body, avail, &blen);
        c->r[c->rlen] = save;
        if (k <= 0)
            return k;
    } else if (cl) {
        char *endp;
        unsigned long long n = strtoull(cl, &endp, 10);
        if (endp == cl || n > MAX_RESPONSE)
            return -1;
        if (avail < n)
            return 0;
        blen = (size_t)n;
    } else if (status == 204 || status == 304) {
        blen = 0;
    } else {
        return -1; /* read-until-close bodies are not used on keep-alive */
    }

    int64_t now = kb_mono_ns();
    int64_t us = (now - c->t0) / 1000;
    rn->lat_us[rn->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    rn->done++;
    rn->last_done = now;
    if (status != 200) {
        note_error(rn, "HTTP %d %.*s", status, (int)KB_MIN(blen, 60), body);
        return 1;
    }
    const char *acc = memmem(body, blen, "\"accepted\":", 11);
    if (acc) {
        unsigned long long n = strtoull(acc + 11, NULL, 10);
        rn->accepted += n;
        if (n != c->events)
            note_error(rn, "accepted %llu of %u events", n, c->events);
    } else {
        rn->accepted += c->events;
    }
    return 1;
}

static void conn_read(struct run *rn, struct conn *c)
{
    for (;;) {
        if (c->rlen + 1 >= c->rcap) {
            if (c->rcap >= MAX_RESPONSE) {
                note_error(rn, "response larger than %u bytes", MAX_RESPONSE);
                conn_close(rn, c);
                return;
            }
            c->rcap *= 2;
            c->r = kb_realloc(c->r, c->rcap);
        }
        ssize_t k = recv(c->fd, c->r + c->rlen, c->rcap - c->rlen - 1, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (k <= 0) {
            if (c->state == C_BUSY) {
                note_error(rn, "connection closed by the server (%s)",
                           k == 0 ? "EOF" : strerror(errno));
                rn->done++;
            }
            conn_close(rn, c);
            return;
        }
        c->rlen += (size_t)k;
        c->r[c->rlen] = '\0';
        if (c->state != C_BUSY) {
            note_error(rn, "unexpected bytes from the server");
            conn_close(rn, c);
            return;
        }
        bool close_after = false;
        int st = try_response(rn, c, &close_after);
        if (st < 0) {
            note_error(rn, "malformed response: %.60s", c->r);
            rn->done++;
            conn_close(rn, c);
            return;
        }
        if (st == 1) {
            c->state = C_IDLE;
            c->rlen = 0;
            if (close_after)
                conn_close(rn, c);
            return;
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* utime+stime in seconds and VmRSS in KiB of pid; false when unreadable. */
static bool proc_usage(int pid, double *cpu_s, long *rss_kb)
{
    char path[64], text[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p = strrchr(text, ')'); /* comm may hold spaces */
    if (!p)
        return false;
    unsigned long long ut = 0, st = 0;
    /* After ")": state is field 3; utime and stime are fields 14 and 15. */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return false;
    *cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    *rss_kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if ((f = fopen(path, "r"))) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "VmRSS:", 6) == 0)
                *rss_kb = strtol(line + 6, NULL, 10);
        fclose(f);
    }
    return true;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_load --url 127.0.0.1:PORT [--path /v1/events] [--connections N]\n"
            "                  [--batch N] [--requests N] [--duration-s S] [--payload FILE]\n"
            "                  [--distinct N] [--id-base N] [--format auto|object|array|ndjson]\n"
            "                  [--content-type T] [--header 'Name: value'] [--server-pid PID]\n"
            "       bench_load --print-template   (the built-in event, for bench_ingest gen)\n");
}

static bool parse_ull(const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi || *s == '-')
        return false;
    *out = v;
    return true;
}

static int parse_url(const char *u, struct opts *o)
{
    if (strncmp(u, "http://", 7) == 0)
        u += 7;
    const char *colon = strrchr(u, ':');
    if (!colon || (size_t)(colon - u) >= sizeof o->host)
        return -1;
    memcpy(o->host, u, (size_t)(colon - u));
    o->host[colon - u] = '\0';
    char portbuf[8];
    size_t pl = strcspn(colon + 1, "/");
    if (pl == 0 || pl >= sizeof portbuf)
        return -1;
    memcpy(portbuf, colon + 1, pl);
    portbuf[pl] = '\0';
    unsigned long long port;
    if (!parse_ull(portbuf, 1, 65535, &port))
        return -1;
    o->port = (uint16_t)port;
    if (strcmp(o->host, "127.0.0.1") != 0 && strcmp(o->host, "localhost") != 0) {
        fprintf(stderr, "bench_load: only 127.0.0.1 is allowed, not '%s'\n", o->host);
        return -1;
    }
    return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"url", required_argument, NULL, 'u'},        {"path", required_argument, NULL, 'P'},
        {"connections", required_argument, NULL, 'c'}, {"batch", required_argument, NULL, 'b'},
        {"requests", required_argument, NULL, 'n'},   {"duration-s", required_argument, NULL, 'd'},
        {"payload", required_argument, NULL, 'p'},    {"distinct", required_argument, NULL, 'D'},
        {"id-base", required_argument, NULL, 'I'},    {"format", required_argument, NULL, 'f'},
        {"content-type", required_argument, NULL, 'T'}, {"header", required_argument, NULL, 'H'},
        {"server-pid", required_argument, NULL, 's'}, {"print-template", no_argument, NULL, 'E'},
        {NULL, 0, NULL, 0}};
    *o = (struct opts){.path = "/v1/events", .content_type = "application/json", .conns = 4,
                       .batch = 100, .requests = 1000, .duration_s = 60, .distinct = 1000};
    bool have_url = false;
    unsigned long long v;
    int ch;
    while ((ch = getopt_long(argc, argv, "u:c:b:n:d:p:", lo, NULL)) != -1) {
        switch (ch) {
        case 'u':
            if (parse_url(optarg, o) != 0)
                return -1;
            have_url = true;
            break;
        case 'E': printf("%s\n", builtin_event); exit(0);
        case 'P': o->path = optarg; break;
        case 'p': o->payload = optarg; break;
        case 'T': o->content_type = optarg; break;
        case 'H': o->header = optarg; break;
        case 'c':
            if (!parse_ull(optarg, 1, MAX_CONNS, &v))
                return -1;
            o->conns = (unsigned)v;
            break;
        case 'b':
            if (!parse_ull(optarg, 1, MAX_BATCH, &v))
                return -1;
            o->batch = (unsigned)v;
            break;
        case 'n':
            if (!parse_ull(optarg, 1, MAX_REQUESTS, &o->requests))
                return -1;
            break;
        case 'D':
            if (!parse_ull(optarg, 0, ULLONG_MAX / 2, &o->distinct))
                return -1;
            break;
        case 'I':
            if (!parse_ull(optarg, 0, ULLONG_MAX / 2, &o->id_base))
                return -1;
            break;
        case 's':
            if (!parse_ull(optarg, 1, 1u << 22, &v))
                return -1;
            o->server_pid = (int)v;
            break;
        case 'd': {
            char *end;
            o->duration_s = strtod(optarg, &end);
            if (end == optarg || *end || !(o->duration_s > 0 && o->duration_s <= 3600))
                return -1;
            break;
        }
        case 'f':
            if (strcmp(optarg, "auto") == 0)
                o->fmt = FMT_AUTO;
            else if (strcmp(optarg, "object") == 0)
                o->fmt = FMT_OBJECT;
            else if (strcmp(optarg, "array") == 0)
                o->fmt = FMT_ARRAY;
            else if (strcmp(optarg, "ndjson") == 0)
                o->fmt = FMT_NDJSON;
            else
                return -1;
            break;
        default: return -1;
        }
    }
    if (!have_url || optind != argc || o->path[0] != '/' || strlen(o->path) > 200 ||
        strlen(o->content_type) > 100 || (o->header && strlen(o->header) > 150) ||
        (o->fmt == FMT_OBJECT && o->batch != 1))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct run rn = {.ep = -1};
    if (parse_opts(argc, argv, &rn.o) != 0) {
        usage();
        return 2;
    }
    if (load_template(&rn) != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    const struct opts *o = &rn.o;
    rn.addr.sin_family = AF_INET;
    rn.addr.sin_port = htons(o->port);
    rn.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rn.ep = epoll_create1(EPOLL_CLOEXEC);
    rn.lat_us = kb_malloc((size_t)o->requests * sizeof *rn.lat_us);

    size_t maxline = 0;
    for (size_t i = 0; i < rn.nlines; i++)
        maxline = KB_MAX(maxline, rn.lines[i].max_len);
    size_t wcap = HDR_ROOM + (size_t)o->batch * (maxline + 1) + 4;
    struct conn *cs = kb_calloc(o->conns, sizeof *cs);
    int rc = 0;
    for (unsigned i = 0; i < o->conns; i++) {
        cs[i].fd = -1;
        cs[i].w = kb_malloc(wcap);
        cs[i].wcap = wcap;
        cs[i].rcap = 4096;
        cs[i].r = kb_malloc(cs[i].rcap);
        if (conn_open(&rn, &cs[i]) != 0) {
            fprintf(stderr, "bench_load: connect to 127.0.0.1:%u: %s\n", o->port, strerror(errno));
            rc = 1;
            goto out;
        }
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double scpu0 = 0, scpu1 = 0;
    long rss0 = -1, rss1 = -1;
    if (o->server_pid)
        proc_usage(o->server_pid, &scpu0, &rss0);

    rn.start = kb_mono_ns();
    rn.last_done = rn.start;
    rn.deadline = rn.start + (int64_t)(o->duration_s * 1e9);
    for (unsigned i = 0; i < o->conns && may_issue(&rn, rn.start); i++)
        conn_issue(&rn, &cs[i]);

    struct epoll_event evs[256];
    while (rn.done < rn.issued || may_issue(&rn, kb_mono_ns())) {
        int n = epoll_wait(rn.ep, evs, (int)KB_ARRAY_LEN(evs), 100);
        if (n < 0 && errno != EINTR) {
            perror("bench_load: epoll_wait");
            rc = 1;
            break;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue;
            if (evs[i].events & EPOLLOUT)
                conn_flush(&rn, c);
            if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
                conn_read(&rn, c);
        }
        int64_t now = kb_mono_ns();
        for (unsigned i = 0; i < o->conns && may_issue(&rn, now); i++) {
            struct conn *c = &cs[i];
            if (c->state != C_IDLE)
                continue;
            if (c->fd < 0) {
                if (rn.reconnects >= MAX_RECONNECTS || conn_open(&rn, c) != 0)
                    continue;
                rn.reconnects++;
            }
            conn_issue(&rn, c);
        }
        if (now > rn.deadline + GRACE_NS) {
            unsigned long long lost = rn.issued - rn.done;
            rn.errors += lost;
            snprintf(rn.last_error, sizeof rn.last_error, "%llu requests timed out", lost);
            break;
        }
        bool any_open = false;
        for (unsigned i = 0; i < o->conns && !any_open; i++)
            any_open = cs[i].fd >= 0;
        if (!any_open && rn.reconnects >= MAX_RECONNECTS) {
            rn.errors += rn.issued - rn.done;
            snprintf(rn.last_error, sizeof rn.last_error,
                     "every connection closed and %d reconnects used", MAX_RECONNECTS);
            break;
        }
    }
    getrusage(RUSAGE_SELF, &ru1);
    if (o->server_pid)
        proc_usage(o->server_pid, &scpu1, &rss1);

    double secs = (double)(rn.last_done - rn.start) / 1e9;
    if (secs <= 0)
        secs = 1e-9;
    size_t nlat = rn.nlat;
    qsort(rn.lat_us, nlat, sizeof *rn.lat_us, cmp_u32);
    double p50 = nlat ? rn.lat_us[nlat / 2] / 1000.0 : 0;
    double p99 = nlat ? rn.lat_us[KB_MIN(nlat - 1, nlat * 99 / 100)] / 1000.0 : 0;
    double ccpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                           ru0.ru_stime.tv_sec) +
                  (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
                           ru0.ru_stime.tv_usec) / 1e6;
    printf("events_per_s=%.0f requests_per_s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%llu "
           "accepted=%llu requests=%llu elapsed_s=%.3f client_cpu_s=%.2f",
           (double)rn.accepted / secs, (double)rn.done / secs, p50, p99, rn.errors, rn.accepted,
           rn.done, secs, ccpu);
    if (o->server_pid && rss1 >= 0)
        printf(" server_cpu_s=%.2f server_cpu_us_per_event=%.2f server_rss_kb=%ld",
               scpu1 - scpu0, rn.accepted ? 1e6 * (scpu1 - scpu0) / (double)rn.accepted : 0.0,
               rss1);
    printf("\n");
    if (rn.errors) {
        fprintf(stderr, "bench_load: %llu errors; last: %s\n", rn.errors, rn.last_error);
        rc = 1;
    }
out:
    for (unsigned i = 0; i < o->conns; i++) {
        if (cs[i].fd >= 0)
            close(cs[i].fd);
        free(cs[i].w);
        free(cs[i].r);
    }
    free(cs);
    free(rn.lat_us);
    free(rn.lines);
    free(rn.text);
    if (rn.ep >= 0)
        close(rn.ep);
    return rc;
}
