/* incident_service.c — the incident bot's thread in the daemon
 * (incident_service.h). */
#include "incident/incident_service.h"

#include "lib/log.h"
#include "store/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct incident_service {
    struct incident_bot *bot;
    struct db *db;
    int64_t tick_ms;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards stop, with cv */
    pthread_cond_t cv;
    bool stop;
    atomic_uint_fast64_t jobs, timekeeper, errors;
};

kb_err incident_service_new(const struct incident_service_opts *o, struct incident_service **out,
                            struct kb_why *why)
{
    *out = NULL;
    struct incident_service *s = kb_calloc(1, sizeof *s);
    kb_err e = incident_bot_load(o->config_path, &s->bot, why);
    if (!e)
        e = db_open(o->db_path, DB_DAEMON, 2, &s->db, why);
    if (e) {
        incident_service_free(s);
        return e;
    }
    db_use_gate(s->db, o->gate);
    s->tick_ms = o->tick_ms > 0 ? o->tick_ms : 1000;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->jobs, 0);
    atomic_init(&s->timekeeper, 0);
    atomic_init(&s->errors, 0);
    *out = s;
    return KB_OK;
}

static void *run(void *arg)
{
    struct incident_service *s = arg;
    char last_error[200] = "";
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        pthread_mutex_unlock(&s->mu);
        struct incident_bot_stats st;
        struct kb_why why = {{0}};
        kb_err e = incident_bot_step(s->db, s->bot, kb_now_ms(), &st, &why);
        if (e) {
            atomic_fetch_add(&s->errors, 1);
            /* the same failure every second is logged once */
            if (strcmp(last_error, why.msg) != 0) {
                char q[240];
                log_error("incident bot failed", "err=%s", kb_logq(q, sizeof q, why.msg));
                snprintf(last_error, sizeof last_error, "%s", why.msg);
            }
        } else {
            last_error[0] = 0;
            atomic_fetch_add(&s->jobs, st.jobs);
            atomic_fetch_add(&s->timekeeper, st.timekeeper);
            if (st.jobs || st.channels)
                log_info("incident bot", "events=%zu jobs=%zu timekeeper=%zu channels=%zu",
                         st.events, st.jobs, st.timekeeper, st.channels);
        }
        pthread_mutex_lock(&s->mu);
        if (s->stop)
            break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->tick_ms / 1000;
        until.tv_nsec += (long)(s->tick_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &until);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

kb_err incident_service_start(struct incident_service *s, struct kb_why *why)
{
    if (pthread_create(&s->thread, NULL, run, s) != 0)
        return kb_fail(why, KB_EIO, "incident bot: cannot start its thread");
    s->started = true;
    return KB_OK;
}

const struct incident_bot *incident_service_bot(const struct incident_service *s)
{
    return s->bot;
}

kb_err incident_service_metrics(struct incident_service *s, struct buf *out)
{
    return buf_printf(out,
                      "# TYPE koban_incident_bot_jobs_total counter\n"
                      "koban_incident_bot_jobs_total %llu\n"
                      "# TYPE koban_incident_bot_timekeeper_total counter\n"
                      "koban_incident_bot_timekeeper_total %llu\n"
                      "# TYPE koban_incident_bot_errors_total counter\n"
                      "koban_incident_bot_errors_total %llu\n",
                      (unsigned long long)atomic_load(&s->jobs),
                      (unsigned long long)atomic_load(&s->timekeeper),
                      (unsigned long long)atomic_load(&s->errors));
}

void incident_service_free(struct incident_service *s)
{
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    if (s->db) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
    }
    db_close(s->db);
    incident_bot_free(s->bot);
    free(s);
}
