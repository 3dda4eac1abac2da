/*
 * check_incident_bot.h — one fuzz input as the incident bot's settings
 * file (incident_bot_load_buffer, incident/incident_bot.h), shared by
 * fuzz/fuzz_incident_bot.c and the unit-test smoke run. The whole input is
 * the file; the load must return KB_OK with settings, or an error with a
 * message and no settings.
 */
#ifndef KOBAN_FUZZ_CHECK_INCIDENT_BOT_H
#define KOBAN_FUZZ_CHECK_INCIDENT_BOT_H

#include "check.h"
#include "incident/incident_bot.h"

/* NULL when incident_bot_load_buffer behaved on this input. */
static inline const char *fz_incident_bot_one(const char *in, size_t size, void *stats)
{
    struct incident_bot *b = NULL;
    struct kb_why why = {{0}};
    kb_err e = incident_bot_load_buffer(in, size, "incidents.yml", &b, &why);
    fz_count(stats, e);
    if (e != KB_OK)
        return !fz_err_ok(e, why.msg) ? "error without a message"
               : b                    ? "settings given back with an error"
                                      : NULL;
    if (!b)
        return "KB_OK without settings";
    unsigned sum = 0;
    fz_touch(&sum, b->receiver);
    fz_touch(&sum, b->github_receiver);
    fz_touch(&sum, b->postmortem_dir);
    fz_touch(&sum, b->flowchart);
    for (size_t i = 0; i < b->nservices; i++) {
        fz_touch(&sum, b->services[i].name);
        fz_touch(&sum, b->services[i].manual);
    }
    incident_bot_free(b);
    return NULL;
}

#endif
