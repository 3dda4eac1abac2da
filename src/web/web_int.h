/*
 * web_int.h — what web.c and web_events.c share. Internal to src/web.
 */
#ifndef KOBAN_WEB_INT_H
#define KOBAN_WEB_INT_H

#include "web/web.h"
#include "web/web_body.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

enum web_route {
    WEB_ROUTE_EVENTS,
    WEB_ROUTE_HEALTHZ,
    WEB_ROUTE_METRICS,
    WEB_ROUTE_API,   /* handled by deps->route */
    WEB_ROUTE_NONE,  /* 404 */
    WEB_ROUTE_COUNT
};

#define WEB_CODE_MIN 100
#define WEB_CODE_MAX 599
#define WEB_CODES (WEB_CODE_MAX - WEB_CODE_MIN + 1)

struct web_req;

#define WEB_MAX_THREADS 64u /* http.threads bound */

struct web {
    struct web_deps deps;
    /* One MHD daemon per HTTP thread, each with its own polling thread and
     * no listening socket: the acceptor thread accepts on lfd and hands the
     * connections out in turn (MHD_add_connection). With MHD's own thread
     * pool every worker polls the one listening socket and a burst of
     * connects often landed on one worker, leaving the others idle. */
    struct MHD_Daemon *mhd[WEB_MAX_THREADS];
    unsigned nmhd;
    int lfd;                 /* the listening socket */
    int stop_fds[2];         /* a pipe: the acceptor stops when it is readable */
    pthread_t acceptor;
    bool acceptor_started;
    unsigned next;           /* acceptor thread only: the next daemon */
    uint16_t port;
    size_t max_body;
    pthread_mutex_t mu;      /* guards waiting */
    struct web_req *waiting; /* suspended event requests */
    /* Event requests from intake until their end, and the stop flag. Both
     * sequentially consistent: a request counts itself and then reads
     * stopping; web_stop sets stopping and then reads the count, so either
     * the request sees the stop (and answers 503) or web_stop waits for it. */
    atomic_size_t inflight;
    atomic_bool stopping;
    atomic_uint_fast64_t counts[WEB_ROUTE_COUNT][WEB_CODES];
};

enum web_req_state { WEB_REQ_NEW, WEB_REQ_BODY, WEB_REQ_WAIT, WEB_REQ_DONE };

/* One HTTP request. Owned by the connection (MHD's con_cls) and, while a
 * durability callback is registered, also by the journal: freed by
 * web_req_unref when both let go. Everything but the durability fields is
 * used only by the HTTP thread that serves the connection (with a thread
 * pool, each connection stays on one thread). */
struct web_req {
    struct web *w;
    struct MHD_Connection *conn;
    enum web_route route;
    enum web_req_state st;
    unsigned fail_status;        /* set when the body could not be taken */
    size_t discarded;            /* body bytes dropped after that */
    struct kb_why fail_why;
    bool body_ready;             /* body is initialised */
    struct web_body body;
    const struct format *forced; /* ?source= */
    /* Events: the answer, built from the intake report before waiting for
     * durability (so the ~17 KB report lives on the stack, not per request
     * on the heap); sent once durable, released at completion. */
    struct buf reply;
    unsigned reply_status;
    uint64_t last_seq;
    bool counted;                /* counted in w->inflight */
    bool listed;                 /* in w->waiting (changed under w->mu, by
                                    the connection's thread only) */
    struct web_req *prev, *next;
    /* Durability: the journal callback and web_stop race to claim the
     * resume; the winner stores derr and resumes the connection. */
    atomic_int claimed;
    atomic_int derr;
    atomic_int refs;
};

enum MHD_Result web_reply(struct web_req *r, unsigned status, const char *ctype,
                          struct buf *body, const char *hname, const char *hvalue);
enum MHD_Result web_reply_error(struct web_req *r, unsigned status, const char *msg,
                                const char *hname, const char *hvalue);
enum MHD_Result web_healthz(struct web_req *r);
enum MHD_Result web_metrics_route(struct web_req *r);
void web_req_unref(struct web_req *r);

/* web_events.c */
enum MHD_Result web_events(struct web_req *r);
enum MHD_Result web_events_resumed(struct web_req *r);
void web_events_completed(struct web_req *r);
/* Resumes every suspended request with KB_ETIMEOUT (web_stop's last resort). */
void web_events_abandon(struct web *w);

#endif
