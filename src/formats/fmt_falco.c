/*
 * fmt_falco.c — Falco's JSON output (json_output: true, or as forwarded by
 * falcosidekick):
 *   {"time":"...Z","rule":"Terminal shell in container","priority":"Warning",
 *    "output":"...","source":"syscall","tags":[...],"hostname":"node-1",
 *    "output_fields":{"container.id":"...","proc.name":"bash",...}}
 *
 * Every scalar of output_fields becomes a field under its Falco name
 * ("proc.cmdline"), while room remains. Field map: docs/ALERT_FORMAT.md.
 */
#include "formats/formats_internal.h"

#define FC "falco"
#define FC_MAX_TAGS 16

static const char *const fc_identity[] = {"host", "kind", "resource", NULL};

static int fc_detect(const struct json_value *root)
{
    if (!root || root->type != JSON_OBJECT)
        return 0;
    if (!json_str(fmt_get(root, "rule")).p || !json_str(fmt_get(root, "priority")).p ||
        !json_str(fmt_get(root, "output")).p)
        return 0;
    return fmt_obj(root, "output_fields") ? 95 : 85;
}

static const struct {
    const char *name;
    int sev;
} fc_priorities[] = {
    {"emergency", KB_SEV_CRITICAL}, {"alert", KB_SEV_CRITICAL},
    {"critical", KB_SEV_CRITICAL},  {"error", KB_SEV_HIGH},
    {"warning", KB_SEV_MEDIUM},     {"notice", KB_SEV_LOW},
    {"informational", KB_SEV_LOW},  {"info", KB_SEV_LOW},
    {"debug", KB_SEV_NONE},
};

/* The workload the rule fired on: the container image (stable across
 * restarts), else the container's name or id, else the process. */
static struct kb_str fc_resource(const struct json_value *of)
{
    struct kb_str s = json_str(fmt_get(of, "container.image.repository"));
    if (kb_str_empty(s))
        s = json_str(fmt_get(of, "container.name"));
    if (kb_str_empty(s) || kb_str_eq(s, "host")) {
        struct kb_str id = json_str(fmt_get(of, "container.id"));
        s = kb_str_eq(id, "host") ? KB_STR_NULL : id;
    }
    if (kb_str_empty(s))
        s = json_str(fmt_get(of, "proc.exepath"));
    if (kb_str_empty(s))
        s = json_str(fmt_get(of, "proc.name"));
    return s;
}

static kb_err fc_tags(const struct json_value *root, struct arena *ar, struct kb_str *out)
{
    const struct json_value *arr = fmt_arr(root, "tags");
    int n = 0;
    for (const struct json_value *t = arr ? arr->u.child : NULL; t && n < FC_MAX_TAGS;
         t = t->next) {
        struct kb_str s = json_str(t);
        if (kb_str_empty(s))
            continue;
        kb_err e = KB_OK;
        if (n++ == 0)
            *out = s;
        else
            e = fmt_printf(ar, out, "%.*s,%.*s", (int)out->n, out->p, (int)s.n, s.p);
        if (e)
            return e;
    }
    return KB_OK;
}

static kb_err fc_normalize(const struct json_value *root, struct kb_str raw, struct arena *ar,
                           alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    if (!root || root->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, FC ": an event must be a JSON object");
    struct alert a;
    alert_init(&a, FC, fc_identity);
    a.raw = raw;
    a.json = root;
    const struct fmt_src src = fmt_src(root, raw);
    kb_err e;
    if ((e = fmt_need_str(root, "rule", FC, "rule", &a.kind, why)) ||
        (e = fmt_need_str(root, "priority", FC, "priority", &a.native_severity, why)))
        return e;
    a.severity = -1;
    for (size_t i = 0; i < KB_ARRAY_LEN(fc_priorities); i++)
        if (fmt_str_ieq(a.native_severity, fc_priorities[i].name))
            a.severity = fc_priorities[i].sev;
    if (a.severity < 0)
        return kb_fail(why, KB_EINVAL, FC ": field 'priority' is not a Falco priority");
    const struct json_value *of = fmt_get(root, "output_fields");
    if (of && of->type != JSON_OBJECT && of->type != JSON_NULL)
        return kb_fail(why, KB_EINVAL, FC ": field 'output_fields' is not an object");
    if (of && of->type != JSON_OBJECT)
        of = NULL;

    a.title = a.kind;
    a.description = fmt_str(root, "output");
    a.host = fmt_str(root, "hostname");
    a.actor_user = json_str(fmt_get(of, "user.name"));
    a.resource = fc_resource(of);
    a.account = json_str(fmt_get(of, "k8s.ns.name"));
    fmt_time(fmt_str(root, "time"), &a.time_ms);
    a.native_id = fmt_str(root, "uuid");

    struct kb_str tags = KB_STR_NULL;
    if ((e = fc_tags(root, ar, &tags)))
        return kb_fail(why, e, FC ": arena limit reached");
    alert_add_field(&a, "falco_source", fmt_str(root, "source"));
    alert_add_field(&a, "tags", tags);
    for (const struct json_value *m = of ? of->u.child : NULL; m; m = m->next) {
        struct kb_str v = fmt_text(m, &src, ar);
        if (kb_str_empty(v))
            continue;
        const char *name = fmt_name(ar, "", (struct kb_str){m->key, m->key_len});
        if (!name)
            return kb_fail(why, KB_ETOOBIG, FC ": arena limit reached");
        if (alert_add_field(&a, name, v) != KB_OK)
            break; /* the field table is full: the rest stays in raw */
    }
    return emit(ctx, &a);
}

const struct format format_falco = {
    .name = FC,
    .summary = "Falco JSON output (falco json_output, falcosidekick)",
    .id = 7,
    .detect = fc_detect,
    .normalize_json = fc_normalize,
    .normalize_text = NULL,
    .identity = fc_identity,
};
