/* feed_testlib.h — what the feed conversion tests share: a collector of
 * converted records (each parsed back with osv_parse) and skipped ones,
 * and reading a fixture of tests/data/feeds. */
#ifndef KOBAN_FEED_TESTLIB_H
#define KOBAN_FEED_TESTLIB_H

#include "test.h"
#include "vuln/feed_convert.h"
#include "lib/timeutil.h"
#include "vuln/osv.h"

#define COL_MAX 64

struct collect {
    struct osv_record *rec[COL_MAX];
    char *json[COL_MAX];
    char id[COL_MAX][64];
    size_t n;
    char skip_where[8][128];
    char skip_why[8][256];
    size_t nskip;
    int fail_at; /* 1-based record at which the callback fails; 0 never */
};

static inline kb_err col_adv(void *ctx, const char *id, const char *json, size_t len)
{
    struct collect *c = ctx;
    if (c->fail_at && (int)c->n + 1 == c->fail_at)
        return KB_EIO;
    if (c->n >= COL_MAX)
        return KB_ETOOBIG;
    struct kb_why why = {{0}};
    struct osv_record *r = NULL;
    kb_err e = osv_parse(json, len, &r, &why);
    T_CHECKF(e == KB_OK, "%s: osv_parse: %s", id, why.msg);
    T_CHECKF(strlen(json) == len, "%s: length %zu", id, len);
    snprintf(c->id[c->n], sizeof c->id[0], "%s", id);
    c->json[c->n] = strndup(json, len);
    c->rec[c->n++] = r;
    return KB_OK;
}

static inline void col_skip(void *ctx, const char *where, const char *why)
{
    struct collect *c = ctx;
    if (c->nskip < 8) {
        snprintf(c->skip_where[c->nskip], sizeof c->skip_where[0], "%s", where);
        snprintf(c->skip_why[c->nskip], sizeof c->skip_why[0], "%s", why);
    }
    c->nskip++;
}

static inline void col_free(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++) {
        osv_record_free(c->rec[i]);
        free(c->json[i]);
    }
    memset(c, 0, sizeof *c);
}

/* The converted record with this id, or NULL. */
static inline struct osv_record *col_get(struct collect *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->rec[i] && !strcmp(c->rec[i]->id, id))
            return c->rec[i];
    return NULL;
}

/* Whether the raw database_specific of r contains the text. */
static inline int dbs_has(const struct osv_record *r, const char *text)
{
    return r && r->database_specific && strstr(r->database_specific, text) != NULL;
}

/* Reads tests/data/feeds/<name> (a fixture; failing when absent). */
static inline char *fixture(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/feeds/%s", KOBAN_SOURCE_DIR, name);
    char *p = t_read_file(path, len);
    T_CHECKF(p != NULL, "%s: cannot read", path);
    return p;
}

static inline int64_t ms_of(const char *iso)
{
    int64_t ms = 0;
    kb_time_parse_rfc3339(kb_str_c(iso), &ms);
    return ms;
}

#endif
