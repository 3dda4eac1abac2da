/*
 * web_events.c — POST /v1/events: the body goes through intake (which
 * appends to the journal), and the answer waits until the journal says the
 * records are durable.
 *
 * Waiting never blocks the HTTP thread: the connection is suspended and
 * journal_on_durable() resumes it from the journal writer thread after the
 * fsync that covers it; MHD then calls the handler again, which answers.
 * MHD_resume_connection is safe from any thread (it takes the lock of the
 * daemon (one per HTTP thread, src/web/web_int.h) that owns the connection and
 * wakes its polling thread through its inter-thread channel, which
 * MHD_ALLOW_SUSPEND_RESUME turns on); the connection stays on that worker,
 * so the handler runs again on the thread that suspended it.
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

/* Writes the answer for rep into r->reply (and its status into
 * r->reply_status); it is sent once the records are durable. */
static void build_report(struct web_req *r, const struct intake_report *rep)
{
    buf_init(&r->reply, WEB_REPORT_MAX);
    buf_reserve(&r->reply, rep->nreported ? 4096 : 128);
    struct jw jw;
    jw_init(&jw, &r->reply);
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
    buf_putc(&r->reply, '\n');
    /* All rejected: the client sent nothing usable, but the rejects are
     * durable in quarantine, so the report still says which and why. */
    r->reply_status = rep->accepted == 0 && rep->rejected > 0 ? 400 : 200;
}

static enum MHD_Result send_report(struct web_req *r)
{
    return web_reply(r, r->reply_status, "application/json", &r->reply, NULL, NULL);
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
    atomic_fetch_add(&w->inflight, 1);
    if (atomic_load(&w->stopping)) {
        atomic_fetch_sub(&w->inflight, 1);
        return web_reply_error(r, 503, "server is shutting down", NULL, NULL);
    }
    r->counted = true;

    /* Large (the reject reasons), so kept on this thread's stack only until
     * the answer is written from it. */
    struct intake_report rep;
    struct kb_why why = {0};
    const char *body = r->body.out.p ? r->body.out.p : "";
    kb_err e = intake_body(w->deps.intake, body, r->body.out.len, JOURNAL_PATH_HTTP, r->forced,
                           &rep, &r->last_seq, &why);
    /* The journal copied what it keeps: the body is not needed any more. */
    web_body_release(&r->body);
    r->body_ready = false;
    if (e != KB_OK)
        return web_reply_error(r, status_for(e), why.msg[0] ? why.msg : kb_strerror(e), NULL,
                               NULL);
    build_report(r, &rep);
    if (r->last_seq == 0 || journal_durable_seq(w->deps.journal) >= r->last_seq)
        return send_report(r);

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

/* The request stays in w->waiting until web_events_completed: taking it out
 * here would cost a second lock per request, and web_events_abandon only
 * skips requests already claimed. */
enum MHD_Result web_events_resumed(struct web_req *r)
{
    kb_err e = (kb_err)atomic_load(&r->derr);
    if (e != KB_OK) {
        char msg[160];
        snprintf(msg, sizeof msg, "journal: events not confirmed durable (%s); retry",
                 kb_strerror(e));
        log_warn("events not acknowledged", "last_seq=%llu err=%s",
                 (unsigned long long)r->last_seq, kb_strerror(e));
        buf_release(&r->reply);
        return web_reply_error(r, 503, msg, NULL, NULL);
    }
    return send_report(r);
}

void web_events_completed(struct web_req *r)
{
    struct web *w = r->w;
    if (r->listed) {
        pthread_mutex_lock(&w->mu);
        unlist(w, r);
        pthread_mutex_unlock(&w->mu);
    }
    if (r->counted) {
        r->counted = false;
        atomic_fetch_sub(&w->inflight, 1);
    }
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
