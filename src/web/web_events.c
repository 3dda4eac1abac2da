/*
 * web_events.c — POST /v1/events: the body goes through intake (which
 * appends to the journal), and the answer waits until the journal says the
 * records are durable.
 *
 * Waiting never blocks the HTTP thread: the connection is suspended and
 * journal_on_durable() resumes it from the journal writer thread after the
 * fsync that covers it; MHD then calls the handler again, which answers.
 * MHD_resume_connection is safe from any thread (it takes the daemon's lock
 * and wakes the polling thread through its inter-thread channel, which
 * MHD_ALLOW_SUSPEND_RESUME turns on).
 *
 * Invariants:
 *   1. A connection is suspended, and its request listed in w->waiting,
 *      under w->mu, before the durability callback is registered, so every
 *      resume follows its suspend.
 *   2. Exactly one party resumes a waiting request: whoever wins `claimed`
 *      (the journal callback, or web_stop giving up after its bounded wait).
 *   3. The request is freed when both the connection and the journal callback
 *      have dropped their reference; the callback touches nothing else, so a
 *      callback arriving after web_stop is harmless.
 */
#include "web/web_int.h"

#include "lib/jsonw.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>

#define WEB_REPORT_MAX (1024u * 1024)

static bool claim(struct web_req *r)
{
    int expected = 0;
    return atomic_compare_exchange_strong(&r->claimed, &expected, 1);
}

/* Runs on the journal writer thread (or on this thread if already durable). */
static void on_durable(void *ctx, kb_err err)
{
    struct web_req *r = ctx;
    if (claim(r)) {
        atomic_store(&r->derr, (int)err);
        MHD_resume_connection(r->conn);
    }
    web_req_unref(r);
}

static void unlist(struct web *w, struct web_req *r)
{
    if (!r->listed)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else
        w->waiting = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    r->listed = false;
}

static enum MHD_Result reply_report(struct web_req *r)
{
    const struct intake_report *rep = r->rep;
    struct buf b = BUF_INIT(WEB_REPORT_MAX);
    struct jw jw;
    jw_init(&jw, &b);
    jw_obj_begin(&jw);
    jw_kv_int(&jw, "accepted", (int64_t)rep->accepted);
    jw_kv_int(&jw, "rejected", (int64_t)rep->rejected);
    jw_key(&jw, "errors");
    jw_arr_begin(&jw);
    for (size_t i = 0; i < rep->nreported && i < INTAKE_MAX_REJECTS_REPORTED; i++) {
        jw_obj_begin(&jw);
        jw_kv_int(&jw, "index", (int64_t)rep->rejects[i].index);
        jw_kv_str(&jw, "reason", rep->rejects[i].reason);
        jw_obj_end(&jw);
    }
    jw_arr_end(&jw);
    jw_kv_int(&jw, "last_seq", (int64_t)r->last_seq);
    jw_obj_end(&jw);
    buf_putc(&b, '\n');
    /* All rejected: the client sent nothing usable, but the rejects are
     * durable in quarantine, so the report still says which and why. */
    unsigned status = rep->accepted == 0 && rep->rejected > 0 ? 400 : 200;
    return web_reply(r, status, "application/json", &b, NULL, NULL);
}

static unsigned status_for(kb_err e)
{
    switch (e) {
    case KB_ETOOBIG:
        return 413;
    case KB_EIO:
    case KB_ECLOSED:
    case KB_EBUSY:
    case KB_ETIMEOUT:
        return 503;
    default:
        return 400;
    }
}

enum MHD_Result web_events(struct web_req *r)
{
    struct web *w = r->w;
    pthread_mutex_lock(&w->mu);
    bool stopping = w->stopping;
    if (!stopping) {
        w->inflight++;
        r->counted = true;
    }
    pthread_mutex_unlock(&w->mu);
    if (stopping)
        return web_reply_error(r, 503, "server is shutting down", NULL, NULL);

    r->rep = kb_malloc(sizeof *r->rep);
    struct kb_why why = {0};
    const char *body = r->body.out.p ? r->body.out.p : "";
    kb_err e = intake_body(w->deps.intake, body, r->body.out.len, JOURNAL_PATH_HTTP, r->forced,
                           r->rep, &r->last_seq, &why);
    /* The journal copied what it keeps: the body is not needed any more. */
    web_body_release(&r->body);
    r->body_ready = false;
    if (e != KB_OK)
        return web_reply_error(r, status_for(e), why.msg[0] ? why.msg : kb_strerror(e), NULL,
                               NULL);
    if (r->last_seq == 0 || journal_durable_seq(w->deps.journal) >= r->last_seq)
        return reply_report(r);

    r->st = WEB_REQ_WAIT;
    atomic_store(&r->refs, 2); /* the connection's and the callback's */
    pthread_mutex_lock(&w->mu);
    r->prev = NULL;
    r->next = w->waiting;
    if (w->waiting)
        w->waiting->prev = r;
    w->waiting = r;
    r->listed = true;
    MHD_suspend_connection(r->conn);
    pthread_mutex_unlock(&w->mu);
    kb_err je = journal_on_durable(w->deps.journal, r->last_seq, on_durable, r);
    if (je != KB_OK) {
        /* Not registered: no callback will come. */
        if (claim(r)) {
            atomic_store(&r->derr, (int)je);
            MHD_resume_connection(r->conn);
        }
        web_req_unref(r);
    }
    return MHD_YES;
}

enum MHD_Result web_events_resumed(struct web_req *r)
{
    struct web *w = r->w;
    pthread_mutex_lock(&w->mu);
    unlist(w, r);
    pthread_mutex_unlock(&w->mu);
    kb_err e = (kb_err)atomic_load(&r->derr);
    if (e != KB_OK) {
        char msg[160];
        snprintf(msg, sizeof msg, "journal: events not confirmed durable (%s); retry",
                 kb_strerror(e));
        log_warn("events not acknowledged", "last_seq=%llu err=%s",
                 (unsigned long long)r->last_seq, kb_strerror(e));
        return web_reply_error(r, 503, msg, NULL, NULL);
    }
    return reply_report(r);
}

void web_events_completed(struct web_req *r)
{
    struct web *w = r->w;
    if (!r->counted && !r->listed)
        return;
    pthread_mutex_lock(&w->mu);
    unlist(w, r);
    if (r->counted)
        w->inflight--;
    r->counted = false;
    pthread_mutex_unlock(&w->mu);
}

void web_events_abandon(struct web *w)
{
    pthread_mutex_lock(&w->mu);
    for (struct web_req *r = w->waiting; r; r = r->next)
        if (claim(r)) {
            atomic_store(&r->derr, (int)KB_ETIMEOUT);
            MHD_resume_connection(r->conn);
        }
    pthread_mutex_unlock(&w->mu);
}
