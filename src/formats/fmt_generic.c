/*
 * fmt_generic.c — any JSON object, read by well-known member names; the
 * fallback when no other format recognises an event (detect answers 1).
 * The member names tried, in order, are listed in docs/ALERT_FORMAT.md
 * ("generic").
 *
 * Severity: a name (koban's five, or common words such as "warning",
 * "error", "crit") or a number on a 0-10 scale with GuardDuty's bands
 * (0 none, under 4 low, under 7 medium, under 9 high, else critical);
 * absent or not understood -> none.
 */
#include "formats/formats_internal.h"

#define GEN "generic"

static const char *const gen_identity[] = {"kind", "host", "title", NULL};

static int gen_detect(const struct json_value *root)
{
    return root && root->type == JSON_OBJECT ? 1 : 0;
}

/* The first member of obj named in keys that is present (any type). */
static const struct json_value *first_member(const struct json_value *obj,
                                             const char *const *keys)
{
    for (; *keys; keys++) {
        const struct json_value *v = fmt_get(obj, *keys);
        if (v && v->type != JSON_NULL)
            return v;
    }
    return NULL;
}

static int gen_severity(const struct json_value *v, struct kb_str text)
{
    if (!v)
        return KB_SEV_NONE;
    double d;
    if (v->type == JSON_NUMBER || (v->type == JSON_STRING && json_as_double(v, &d))) {
        if (!json_as_double(v, &d) || d < 0 || d > 10)
            return KB_SEV_NONE;
        return fmt_sev_score10(d);
    }
    int s = fmt_sev_word(text);
    return s < 0 ? KB_SEV_NONE : s;
}

static kb_err gen_normalize(const struct json_value *root, struct kb_str raw, struct arena *ar,
                            alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    if (!root || root->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, "generic events must be JSON objects");
    static const char *const title_keys[] = {"title", "message", "msg", "summary",
                                             "description", "event", NULL};
    static const char *const time_keys[] = {"time", "timestamp", "@timestamp", "eventTime",
                                            "ts", NULL};
    static const char *const sev_keys[] = {"severity", "level", "priority", NULL};
    static const char *const host_keys[] = {"host", "hostname", NULL};
    static const char *const ip_keys[] = {"src_ip", "source_ip", "ip", "client_ip", NULL};
    static const char *const user_keys[] = {"user", "username", "user_name", NULL};
    static const char *const kind_keys[] = {"kind", "type", "event_type", "category", NULL};
    static const char *const id_keys[] = {"id", "event_id", "uuid", NULL};
    static const char *const acct_keys[] = {"account", "account_id", "project", NULL};

    struct alert a;
    alert_init(&a, GEN, gen_identity);
    a.raw = raw;
    a.json = root;
    const struct fmt_src src = fmt_src(root, raw);
    a.kind = fmt_first_str(root, kind_keys);
    if (kb_str_empty(a.kind))
        a.kind = KB_STR_LIT(GEN);
    a.title = fmt_first_str(root, title_keys);
    struct kb_str desc = json_str(fmt_get(root, "description"));
    if (desc.p != a.title.p)
        a.description = desc;
    const struct json_value *sev = first_member(root, sev_keys);
    a.native_severity = fmt_text(sev, &src, ar);
    a.severity = gen_severity(sev, a.native_severity);
    a.host = fmt_first_str(root, host_keys);
    a.actor_ip = fmt_first_str(root, ip_keys);
    a.actor_user = fmt_first_str(root, user_keys);
    a.native_id = fmt_text(first_member(root, id_keys), &src, ar);
    a.account = fmt_first_str(root, acct_keys);
    a.region = json_str(fmt_get(root, "region"));
    a.resource = json_str(fmt_get(root, "resource"));
    for (const char *const *k = time_keys; *k && !a.time_ms; k++)
        fmt_time_value(fmt_get(root, *k), &a.time_ms);
    return emit(ctx, &a);
}

const struct format format_generic = {
    .name = GEN,
    .summary = "any JSON object (title/message, time, severity, host, ... by name)",
    .id = 1,
    .detect = gen_detect,
    .normalize_json = gen_normalize,
    .normalize_text = NULL,
    .identity = gen_identity,
};
