/* osv.c — reading one OSV record into a struct osv_record (osv.h).
 *
 * The JSON tree lives in a scratch arena for the call; everything kept is
 * copied into the record's own arena, so the caller may free the input at
 * once. Field paths for messages are built as the parser descends
 * ("affected[2].ranges[0].events[1]"). */
#include "vuln/osv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/json.h"
#include "lib/timeutil.h"

#define OSV_SCRATCH_LIMIT (256u * 1024 * 1024) /* JSON tree of one record */
#define OSV_RECORD_LIMIT (64u * 1024 * 1024)   /* what a record keeps */

struct ps {
    struct osv_record *r;
    const char *text;
    struct kb_why *why;
    char path[160];
};

/* Fails with the current path in front of the message. */
static kb_err ps_fail(struct ps *p, kb_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static kb_err ps_fail(struct ps *p, kb_err err, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kb_fail(p->why, err, "%s%s%s", p->path, p->path[0] ? ": " : "", msg);
}

/* Appends ".name" or "[i]" to the path; returns the old length to restore. */
static size_t ps_push(struct ps *p, const char *name, size_t index)
{
    size_t old = strlen(p->path);
    if (name)
        snprintf(p->path + old, sizeof p->path - old, "%s%s", old ? "." : "", name);
    else
        snprintf(p->path + old, sizeof p->path - old, "[%zu]", index);
    return old;
}

static void ps_pop(struct ps *p, size_t old)
{
    p->path[old] = '\0';
}

static void *ps_alloc(struct ps *p, size_t n, kb_err *err)
{
    void *m = arena_alloc(&p->r->arena, n ? n : 1);
    if (!m)
        *err = ps_fail(p, KB_ETOOBIG, "record over %u bytes in memory", OSV_RECORD_LIMIT);
    else
        memset(m, 0, n ? n : 1);
    return m;
}

/* Copies a JSON string into the record. cut: keep at most `max` bytes (on a
 * UTF-8 boundary) and stop at a NUL instead of refusing. */
static kb_err ps_str(struct ps *p, const struct json_value *v, size_t max, bool cut,
                     const char **out, bool *was_cut)
{
    if (!v || v->type != JSON_STRING)
        return ps_fail(p, KB_EINVAL, "not a string");
    size_t n = v->len;
    const char *nul = memchr(v->u.str, '\0', n);
    if (nul && !cut)
        return ps_fail(p, KB_EINVAL, "contains a NUL byte");
    if (nul)
        n = (size_t)(nul - v->u.str);
    if (n > max) {
        if (!cut)
            return ps_fail(p, KB_ETOOBIG, "longer than %zu bytes", max);
        n = max;
        while (n && ((unsigned char)v->u.str[n] & 0xC0) == 0x80)
            n--; /* do not split a UTF-8 sequence */
        if (was_cut)
            *was_cut = true;
    }
    char *s = arena_strndup(&p->r->arena, v->u.str, n);
    if (!s)
        return ps_fail(p, KB_ETOOBIG, "record over %u bytes in memory", OSV_RECORD_LIMIT);
    *out = s;
    return KB_OK;
}

/* An optional string member: absent or null leaves *out NULL. */
static kb_err ps_opt_str(struct ps *p, const struct json_value *obj, const char *key,
                         const char **out)
{
    const struct json_value *v = json_get(obj, key);
    *out = NULL;
    if (!v || v->type == JSON_NULL)
        return KB_OK;
    size_t old = ps_push(p, key, 0);
    kb_err e = ps_str(p, v, OSV_MAX_STRING, false, out, NULL);
    ps_pop(p, old);
    return e;
}

static kb_err ps_req_str(struct ps *p, const struct json_value *obj, const char *key,
                         const char **out)
{
    if (!json_get(obj, key) || json_get(obj, key)->type == JSON_NULL)
        return ps_fail(p, KB_EINVAL, "missing '%s'", key);
    return ps_opt_str(p, obj, key, out);
}

/* An optional array member: *arr NULL and *n 0 when absent or null. */
static kb_err ps_array(struct ps *p, const struct json_value *obj, const char *key,
                       const struct json_value **arr, size_t *n)
{
    const struct json_value *v = json_get(obj, key);
    *arr = NULL;
    *n = 0;
    if (!v || v->type == JSON_NULL)
        return KB_OK;
    if (v->type != JSON_ARRAY)
        return ps_fail(p, KB_EINVAL, "'%s': not an array", key);
    if (v->len > OSV_MAX_ITEMS)
        return ps_fail(p, KB_ETOOBIG, "'%s': more than %d elements", key, OSV_MAX_ITEMS);
    *arr = v;
    *n = v->len;
    return KB_OK;
}

static kb_err ps_str_array(struct ps *p, const struct json_value *obj, const char *key,
                           const char ***out, size_t *nout)
{
    const struct json_value *arr;
    size_t n;
    kb_err e = ps_array(p, obj, key, &arr, &n);
    *out = NULL;
    *nout = 0;
    if (e || !n)
        return e;
    const char **list = ps_alloc(p, n * sizeof *list, &e);
    if (!list)
        return e;
    size_t i = 0;
    for (const struct json_value *c = arr->u.child; c; c = c->next, i++) {
        size_t old = ps_push(p, key, 0);
        ps_push(p, NULL, i);
        e = ps_str(p, c, OSV_MAX_STRING, false, &list[i], NULL);
        ps_pop(p, old);
        if (e)
            return e;
    }
    *out = list;
    *nout = n;
    return KB_OK;
}

static kb_err ps_time(struct ps *p, const struct json_value *obj, const char *key, bool required,
                      int64_t *ms, bool *present)
{
    const struct json_value *v = json_get(obj, key);
    *ms = 0;
    if (present)
        *present = false;
    if (!v || v->type == JSON_NULL)
        return required ? ps_fail(p, KB_EINVAL, "missing '%s'", key) : KB_OK;
    size_t old = ps_push(p, key, 0);
    kb_err e = KB_OK;
    if (v->type != JSON_STRING)
        e = ps_fail(p, KB_EINVAL, "not a string");
    else if (kb_time_parse_rfc3339((struct kb_str){v->u.str, v->len}, ms) != KB_OK)
        e = ps_fail(p, KB_EINVAL, "not an RFC 3339 time: '%.*s'", (int)KB_MIN(v->len, 40u),
                    v->u.str);
    else if (present)
        *present = true;
    ps_pop(p, old);
    return e;
}

/* A *_specific member kept as its raw JSON text when small. */
static kb_err ps_raw(struct ps *p, const struct json_value *obj, const char *key, const char **out)
{
    const struct json_value *v = json_get(obj, key);
    *out = NULL;
    if (!v || v->type == JSON_NULL || v->src_len > OSV_MAX_RAW)
        return KB_OK;
    if (v->type != JSON_OBJECT)
        return ps_fail(p, KB_EINVAL, "'%s': not an object", key);
    char *s = arena_strndup(&p->r->arena, p->text + v->src_off, v->src_len);
    if (!s)
        return ps_fail(p, KB_ETOOBIG, "record over %u bytes in memory", OSV_RECORD_LIMIT);
    *out = s;
    return KB_OK;
}

static kb_err ps_severity(struct ps *p, const struct json_value *obj, struct osv_severity **out,
                          size_t *nout)
{
    const struct json_value *arr;
    size_t n;
    kb_err e = ps_array(p, obj, "severity", &arr, &n);
    *out = NULL;
    *nout = 0;
    if (e || !n)
        return e;
    struct osv_severity *s = ps_alloc(p, n * sizeof *s, &e);
    if (!s)
        return e;
    size_t i = 0;
    for (const struct json_value *c = arr->u.child; c && !e; c = c->next, i++) {
        size_t old = ps_push(p, "severity", 0);
        ps_push(p, NULL, i);
        if (c->type != JSON_OBJECT)
            e = ps_fail(p, KB_EINVAL, "not an object");
        if (!e)
            e = ps_req_str(p, c, "type", &s[i].type);
        if (!e)
            e = ps_req_str(p, c, "score", &s[i].score);
        ps_pop(p, old);
    }
    if (e)
        return e;
    *out = s;
    *nout = n;
    return KB_OK;
}

static const struct {
    const char *key;
    enum osv_event_kind kind;
} event_keys[] = {
    {"introduced", OSV_EV_INTRODUCED},
    {"fixed", OSV_EV_FIXED},
    {"last_affected", OSV_EV_LAST_AFFECTED},
    {"limit", OSV_EV_LIMIT},
};

/* One event object: exactly one member, one of the four kinds. */
static kb_err ps_event(struct ps *p, const struct json_value *ev, struct osv_event *out)
{
    if (ev->type != JSON_OBJECT)
        return ps_fail(p, KB_EINVAL, "not an object");
    if (ev->len == 0)
        return ps_fail(p, KB_EINVAL, "no key (introduced, fixed, last_affected or limit)");
    if (ev->len > 1)
        return ps_fail(p, KB_EINVAL, "more than one key");
    const struct json_value *m = ev->u.child;
    for (size_t k = 0; k < KB_ARRAY_LEN(event_keys); k++) {
        size_t kl = strlen(event_keys[k].key);
        if (m->key_len == kl && memcmp(m->key, event_keys[k].key, kl) == 0) {
            out->kind = event_keys[k].kind;
            size_t old = ps_push(p, event_keys[k].key, 0);
            kb_err e = ps_str(p, m, OSV_MAX_STRING, false, &out->value, NULL);
            if (!e && !out->value[0])
                e = ps_fail(p, KB_EINVAL, "empty version");
            ps_pop(p, old);
            return e;
        }
    }
    return ps_fail(p, KB_EINVAL, "unknown key '%.*s'", (int)KB_MIN(m->key_len, 40u), m->key);
}

static kb_err ps_range(struct ps *p, const struct json_value *rv, struct osv_range *rg)
{
    if (rv->type != JSON_OBJECT)
        return ps_fail(p, KB_EINVAL, "not an object");
    kb_err e = ps_req_str(p, rv, "type", &rg->type_name);
    if (e)
        return e;
    if (!strcmp(rg->type_name, "SEMVER"))
        rg->type = OSV_RANGE_SEMVER;
    else if (!strcmp(rg->type_name, "ECOSYSTEM"))
        rg->type = OSV_RANGE_ECOSYSTEM;
    else if (!strcmp(rg->type_name, "GIT"))
        rg->type = OSV_RANGE_GIT;
    else
        rg->type = OSV_RANGE_OTHER;
    if ((e = ps_opt_str(p, rv, "repo", &rg->repo)))
        return e;
    if (rg->type == OSV_RANGE_GIT && !rg->repo)
        return ps_fail(p, KB_EINVAL, "GIT range without 'repo'");
    const struct json_value *arr;
    size_t n;
    if ((e = ps_array(p, rv, "events", &arr, &n)))
        return e;
    if (!n)
        return ps_fail(p, KB_EINVAL, "no events");
    rg->events = ps_alloc(p, n * sizeof *rg->events, &e);
    if (!rg->events)
        return e;
    size_t i = 0, nintro = 0, nfixed = 0, nlast = 0;
    for (const struct json_value *c = arr->u.child; c; c = c->next, i++) {
        size_t old = ps_push(p, "events", 0);
        ps_push(p, NULL, i);
        e = ps_event(p, c, &rg->events[i]);
        ps_pop(p, old);
        if (e)
            return e;
        nintro += rg->events[i].kind == OSV_EV_INTRODUCED;
        nfixed += rg->events[i].kind == OSV_EV_FIXED;
        nlast += rg->events[i].kind == OSV_EV_LAST_AFFECTED;
    }
    rg->nevents = n;
    if (!nintro)
        return ps_fail(p, KB_EINVAL, "events: no 'introduced' event");
    if (nfixed && nlast)
        return ps_fail(p, KB_EINVAL, "events: both 'fixed' and 'last_affected'");
    return KB_OK;
}

static kb_err ps_affected(struct ps *p, const struct json_value *av, struct osv_affected *a)
{
    if (av->type != JSON_OBJECT)
        return ps_fail(p, KB_EINVAL, "not an object");
    kb_err e = KB_OK;
    const struct json_value *pkg = json_get(av, "package");
    if (pkg && pkg->type != JSON_NULL) {
        size_t old = ps_push(p, "package", 0);
        if (pkg->type != JSON_OBJECT)
            e = ps_fail(p, KB_EINVAL, "not an object");
        if (!e)
            e = ps_req_str(p, pkg, "ecosystem", &a->package.ecosystem);
        if (!e)
            e = ps_req_str(p, pkg, "name", &a->package.name);
        if (!e)
            e = ps_opt_str(p, pkg, "purl", &a->package.purl);
        ps_pop(p, old);
        if (e)
            return e;
    }
    const struct json_value *arr;
    size_t n;
    if ((e = ps_array(p, av, "ranges", &arr, &n)))
        return e;
    if (n) {
        a->ranges = ps_alloc(p, n * sizeof *a->ranges, &e);
        if (!a->ranges)
            return e;
        size_t i = 0;
        for (const struct json_value *c = arr->u.child; c; c = c->next, i++) {
            size_t old = ps_push(p, "ranges", 0);
            ps_push(p, NULL, i);
            e = ps_range(p, c, &a->ranges[i]);
            ps_pop(p, old);
            if (e)
                return e;
        }
        a->nranges = n;
    }
    if ((e = ps_str_array(p, av, "versions", &a->versions, &a->nversions)))
        return e;
    if ((e = ps_severity(p, av, &a->severity, &a->nseverity)))
        return e;
    if ((e = ps_raw(p, av, "ecosystem_specific", &a->ecosystem_specific)))
        return e;
    return ps_raw(p, av, "database_specific", &a->database_specific);
}

static kb_err ps_references(struct ps *p, const struct json_value *root)
{
    const struct json_value *arr;
    size_t n;
    kb_err e = ps_array(p, root, "references", &arr, &n);
    if (e || !n)
        return e;
    struct osv_reference *refs = ps_alloc(p, n * sizeof *refs, &e);
    if (!refs)
        return e;
    size_t i = 0;
    for (const struct json_value *c = arr->u.child; c && !e; c = c->next, i++) {
        size_t old = ps_push(p, "references", 0);
        ps_push(p, NULL, i);
        if (c->type != JSON_OBJECT)
            e = ps_fail(p, KB_EINVAL, "not an object");
        if (!e)
            e = ps_opt_str(p, c, "type", &refs[i].type);
        if (!e)
            e = ps_req_str(p, c, "url", &refs[i].url);
        ps_pop(p, old);
    }
    if (e)
        return e;
    p->r->references = refs;
    p->r->nreferences = n;
    return KB_OK;
}

static kb_err ps_record(struct ps *p, const struct json_value *root)
{
    struct osv_record *r = p->r;
    if (root->type != JSON_OBJECT)
        return ps_fail(p, KB_EINVAL, "not a JSON object");
    kb_err e = ps_req_str(p, root, "id", &r->id);
    if (!e && !r->id[0])
        e = ps_fail(p, KB_EINVAL, "id: empty");
    if (!e)
        e = ps_opt_str(p, root, "schema_version", &r->schema_version);
    if (!e)
        e = ps_time(p, root, "modified", true, &r->modified_ms, NULL);
    if (!e)
        e = ps_time(p, root, "published", false, &r->published_ms, NULL);
    if (!e)
        e = ps_time(p, root, "withdrawn", false, &r->withdrawn_ms, &r->withdrawn);
    if (!e)
        e = ps_str_array(p, root, "aliases", &r->aliases, &r->naliases);
    if (!e)
        e = ps_str_array(p, root, "upstream", &r->upstream, &r->nupstream);
    if (!e)
        e = ps_str_array(p, root, "related", &r->related, &r->nrelated);
    const struct json_value *v = json_get(root, "summary");
    if (!e && v && v->type != JSON_NULL) {
        size_t old = ps_push(p, "summary", 0);
        e = ps_str(p, v, OSV_MAX_STRING, true, &r->summary, NULL);
        ps_pop(p, old);
    }
    v = json_get(root, "details");
    if (!e && v && v->type != JSON_NULL) {
        size_t old = ps_push(p, "details", 0);
        e = ps_str(p, v, OSV_MAX_DETAILS, true, &r->details, &r->details_cut);
        ps_pop(p, old);
    }
    if (!e)
        e = ps_severity(p, root, &r->severity, &r->nseverity);
    const struct json_value *arr = NULL;
    size_t n = 0;
    if (!e)
        e = ps_array(p, root, "affected", &arr, &n);
    if (!e && n) {
        r->affected = ps_alloc(p, n * sizeof *r->affected, &e);
        size_t i = 0;
        for (const struct json_value *c = arr->u.child; c && r->affected && !e; c = c->next, i++) {
            size_t old = ps_push(p, "affected", 0);
            ps_push(p, NULL, i);
            e = ps_affected(p, c, &r->affected[i]);
            ps_pop(p, old);
        }
        if (r->affected)
            r->naffected = n;
    }
    if (!e)
        e = ps_references(p, root);
    if (!e)
        e = ps_raw(p, root, "database_specific", &r->database_specific);
    return e;
}

kb_err osv_parse_into(const char *text, size_t len, struct osv_record *r, struct kb_why *why)
{
    memset(r, 0, sizeof *r);
    if (!text)
        return kb_fail(why, KB_EINVAL, "osv: no input");
    if (len > OSV_MAX_BYTES)
        return kb_fail(why, KB_ETOOBIG, "record over %u bytes", OSV_MAX_BYTES);
    struct arena scratch = ARENA_INIT(OSV_SCRATCH_LIMIT);
    /* Most of a record's text is kept: a first block just over its size
     * rather than the 64 KiB default. bench_vuln, 200,000 advisories: parse
     * 1.73 s -> 0.65 s, and resident memory after parsing 495 MB -> 152 MB
     * (a block of text + 2 KiB left ~2 KB unused per record). */
    arena_init_sized(&r->arena, OSV_RECORD_LIMIT, KB_MIN(len + 256, (size_t)65536));
    struct json_limits lim = {.max_depth = OSV_MAX_DEPTH, .max_bytes = OSV_MAX_BYTES};
    struct json_value *root = NULL;
    struct json_error jerr = {0};
    kb_err e = json_parse(text, len, &lim, &scratch, &root, &jerr);
    if (e) {
        kb_fail(why, e, "line %u col %u: %s", jerr.line, jerr.col, jerr.msg);
    } else {
        struct ps p = {.r = r, .text = text, .why = why};
        e = ps_record(&p, root);
    }
    arena_release(&scratch);
    if (e)
        osv_record_release(r);
    return e;
}

kb_err osv_parse(const char *text, size_t len, struct osv_record **out, struct kb_why *why)
{
    struct osv_record *r = kb_malloc(sizeof *r);
    kb_err e = osv_parse_into(text, len, r, why);
    if (e) {
        free(r);
        *out = NULL;
        return e;
    }
    *out = r;
    return KB_OK;
}

void osv_record_release(struct osv_record *r)
{
    if (!r)
        return;
    arena_release(&r->arena);
    memset(r, 0, sizeof *r);
}

void osv_record_free(struct osv_record *r)
{
    if (!r)
        return;
    osv_record_release(r);
    free(r);
}
