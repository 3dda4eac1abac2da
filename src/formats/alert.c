/* alert.c — the common alert: severities, field access, JSON output. */
#include "formats/alert.h"

#include "lib/timeutil.h"

#include <strings.h>

static const char *const sev_names[KB_SEV_COUNT] = {"none", "low", "medium", "high",
                                                    "critical"};

const char *kb_severity_name(int sev)
{
    if (sev < 0 || sev >= KB_SEV_COUNT)
        return "?";
    return sev_names[sev];
}

kb_err kb_severity_parse(const char *s, int *out)
{
    for (int i = 0; i < KB_SEV_COUNT; i++)
        if (strcasecmp(s, sev_names[i]) == 0) {
            *out = i;
            return KB_OK;
        }
    if (strcasecmp(s, "informational") == 0 || strcasecmp(s, "info") == 0) {
        *out = KB_SEV_NONE;
        return KB_OK;
    }
    return KB_EINVAL;
}

void alert_init(struct alert *a, const char *source, const char *const *identity)
{
    memset(a, 0, sizeof *a);
    a->source = source;
    a->identity = identity;
    a->severity = KB_SEV_NONE;
}

kb_err alert_add_field(struct alert *a, const char *name, struct kb_str value)
{
    if (kb_str_empty(value))
        return KB_OK;
    if (a->nfields >= ALERT_MAX_FIELDS)
        return KB_ETOOBIG;
    a->fields[a->nfields].name = name;
    a->fields[a->nfields].value = value;
    a->nfields++;
    return KB_OK;
}

/* name[0..n) is the literal lit: a compare of known length, which the
 * compiler turns into a few loads (alert_get runs for every identity name
 * and view member of every event). */
#define NAME_IS(name, n, lit)                                                              \
    ((n) == sizeof(lit) - 1 && memcmp((name), (lit), sizeof(lit) - 1) == 0)

struct kb_str alert_get(const struct alert *a, const char *name)
{
    size_t n = strlen(name);
    switch (name[0]) {
    case 'a':
        if (NAME_IS(name, n, "account"))
            return a->account;
        if (NAME_IS(name, n, "actor.user"))
            return a->actor_user;
        if (NAME_IS(name, n, "actor.ip"))
            return a->actor_ip;
        break;
    case 'd':
        if (NAME_IS(name, n, "description"))
            return a->description;
        break;
    case 'h':
        if (NAME_IS(name, n, "host"))
            return a->host;
        break;
    case 'k':
        if (NAME_IS(name, n, "kind"))
            return a->kind;
        break;
    case 'n':
        if (NAME_IS(name, n, "native_id"))
            return a->native_id;
        if (NAME_IS(name, n, "native_severity"))
            return a->native_severity;
        break;
    case 'o':
        if (NAME_IS(name, n, "outcome"))
            return a->outcome;
        break;
    case 'r':
        if (NAME_IS(name, n, "region"))
            return a->region;
        if (NAME_IS(name, n, "resource"))
            return a->resource;
        break;
    case 's':
        if (NAME_IS(name, n, "source"))
            return kb_str_c(a->source);
        if (NAME_IS(name, n, "severity"))
            return kb_str_c(kb_severity_name(a->severity));
        if (NAME_IS(name, n, "state"))
            return a->state;
        break;
    case 't':
        if (NAME_IS(name, n, "title"))
            return a->title;
        break;
    default:
        break;
    }
    for (uint32_t i = 0; i < a->nfields; i++)
        if (strcmp(a->fields[i].name, name) == 0)
            return a->fields[i].value;
    return KB_STR_NULL;
}

void alert_write_json(const struct alert *a, struct jw *w)
{
    jw_obj_begin(w);
    jw_kv_str(w, "source", a->source);
    jw_kv_kstr(w, "kind", a->kind);
    jw_kv_kstr(w, "native_id", a->native_id);
    jw_key(w, "time");
    if (a->time_ms) {
        char ts[32];
        kb_time_format(a->time_ms, ts);
        jw_str(w, ts);
    } else {
        jw_null(w);
    }
    jw_kv_kstr(w, "title", a->title);
    jw_kv_kstr(w, "description", a->description);
    jw_kv_kstr(w, "native_severity", a->native_severity);
    jw_kv_str(w, "severity", kb_severity_name(a->severity));
    jw_kv_kstr(w, "account", a->account);
    jw_kv_kstr(w, "region", a->region);
    jw_kv_kstr(w, "resource", a->resource);
    jw_key(w, "actor");
    jw_obj_begin(w);
    jw_kv_kstr(w, "user", a->actor_user);
    jw_kv_kstr(w, "ip", a->actor_ip);
    jw_obj_end(w);
    jw_kv_kstr(w, "host", a->host);
    jw_kv_kstr(w, "outcome", a->outcome);
    jw_kv_kstr(w, "state", a->state);
    jw_key(w, "fields");
    jw_obj_begin(w);
    for (uint32_t i = 0; i < a->nfields; i++)
        jw_kv_kstr(w, a->fields[i].name, a->fields[i].value);
    jw_obj_end(w);
    jw_key(w, "identity");
    jw_arr_begin(w);
    for (const char *const *k = a->identity; k && *k; k++)
        jw_str(w, *k);
    jw_arr_end(w);
    jw_key(w, "raw");
    if (a->json)
        jw_raw_compact(w, a->raw.p, a->raw.n);
    else
        jw_strn(w, a->raw.p, a->raw.n);
    jw_obj_end(w);
}
