/* incident_stats.c — incident counts and median time to recovery per
 * service and level (incident.h, incident_stats_compute). */
#include "incident/incident.h"

#include <stdlib.h>

#define STATS_INCIDENTS_MAX 100000

struct sample {
    const char *service; /* points into the stats' services */
    int level;
    int64_t ttr;         /* ms; -1: not recovered */
};

struct collect {
    struct incident_stats *s;
    struct sample *v;
    size_t n, cap;
};

static const char *intern(struct incident_stats *s, const char *name)
{
    for (size_t i = 0; i < s->nservices; i++)
        if (!strcmp(s->services[i], name))
            return s->services[i];
    s->services = kb_realloc(s->services, (s->nservices + 1) * sizeof *s->services);
    s->services[s->nservices] = kb_strdup(name);
    return s->services[s->nservices++];
}

static kb_err collect_one(void *ctx, const struct db_incident *r)
{
    struct collect *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = kb_realloc(c->v, c->cap * sizeof *c->v);
    }
    int64_t from = r->detected ? r->detected : r->declared;
    c->v[c->n++] = (struct sample){
        .service = intern(c->s, r->service), .level = r->level,
        .ttr = r->recovered && r->recovered >= from ? r->recovered - from : -1};
    return KB_OK;
}

static int by_group(const void *a, const void *b)
{
    const struct sample *x = a, *y = b;
    int c = strcmp(x->service, y->service);
    if (c)
        return c;
    if (x->level != y->level)
        return x->level < y->level ? -1 : 1;
    return x->ttr < y->ttr ? -1 : x->ttr > y->ttr;
}

kb_err incident_stats_compute(struct db *db, struct incident_stats *out)
{
    memset(out, 0, sizeof *out);
    struct collect c = {.s = out};
    struct db_incident_filter f = {.status = -1, .drill = DB_INCIDENT_REAL, .limit = STATS_INCIDENTS_MAX};
    kb_err e = db_incident_list(db, &f, collect_one, &c);
    if (e) {
        free(c.v);
        incident_stats_release(out);
        return e;
    }
    /* Sorted by group and then time to recovery (not recovered first), so
     * each group's recovered samples are one sorted run. */
    if (c.n)
        qsort(c.v, c.n, sizeof *c.v, by_group);
    out->rows = kb_calloc(c.n ? c.n : 1, sizeof *out->rows);
    for (size_t i = 0; i < c.n;) {
        size_t j = i, first_rec = SIZE_MAX;
        while (j < c.n && c.v[j].service == c.v[i].service && c.v[j].level == c.v[i].level) {
            if (c.v[j].ttr >= 0 && first_rec == SIZE_MAX)
                first_rec = j;
            j++;
        }
        struct incident_stat *st = &out->rows[out->n++];
        st->service = c.v[i].service;
        st->level = c.v[i].level;
        st->count = (int64_t)(j - i);
        st->recovered = first_rec == SIZE_MAX ? 0 : (int64_t)(j - first_rec);
        st->median_ttr_ms = -1;
        if (st->recovered) {
            size_t k = (size_t)st->recovered;
            const struct sample *r = &c.v[first_rec];
            st->median_ttr_ms = k % 2 ? r[k / 2].ttr : (r[k / 2 - 1].ttr + r[k / 2].ttr) / 2;
        }
        i = j;
    }
    free(c.v);
    return KB_OK;
}

void incident_stats_release(struct incident_stats *s)
{
    for (size_t i = 0; i < s->nservices; i++)
        free(s->services[i]);
    free(s->services);
    free(s->rows);
    memset(s, 0, sizeof *s);
}
