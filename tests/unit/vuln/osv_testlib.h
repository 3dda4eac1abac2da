/* osv_testlib.h — what the OSV tests share: parsing a record that must
 * parse, and loading every record of ../shared/data/osv/records. */
#ifndef KOBAN_OSV_TESTLIB_H
#define KOBAN_OSV_TESTLIB_H

#include <dirent.h>

#include "test.h"
#include "vuln/osv.h"

#define MOD "\"modified\":\"2024-01-01T00:00:00Z\""

static inline struct osv_record *parse_ok(const char *json, int line)
{
    struct osv_record *r = NULL;
    struct kb_why why = {{0}};
    kb_err e = osv_parse(json, strlen(json), &r, &why);
    T_CHECKF(e == KB_OK && r, "line %d: parse: %s (%s)", line, kb_strerror(e), why.msg);
    return r;
}
#define PARSE(json) parse_ok((json), __LINE__)

struct loaded {
    struct osv_record *recs[64];
    char names[64][64];
    size_t n;
};

static inline void load_records(const char *data, struct loaded *l)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/osv/records", data);
    DIR *d = opendir(dir);
    T_CHECKF(d != NULL, "%s: cannot open", dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && l->n < 64) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0)
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len = 0;
        char *text = t_read_file(path, &len);
        T_CHECKF(text != NULL, "%s: unreadable", path);
        if (!text)
            continue;
        struct kb_why why = {{0}};
        struct osv_record *r = NULL;
        kb_err e = osv_parse(text, len, &r, &why);
        free(text);
        T_CHECKF(e == KB_OK, "%s: %s", de->d_name, why.msg);
        if (e)
            continue;
        snprintf(l->names[l->n], sizeof l->names[0], "%s", de->d_name);
        l->recs[l->n++] = r;
    }
    closedir(d);
}

static inline void free_records(struct loaded *l)
{
    for (size_t i = 0; i < l->n; i++)
        osv_record_free(l->recs[i]);
}

static inline struct osv_record *by_id(struct loaded *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->recs[i]->id, id))
            return l->recs[i];
    T_CHECKF(0, "record %s not loaded", id);
    return NULL;
}

#endif
