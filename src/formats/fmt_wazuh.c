/*
 * fmt_wazuh.c — Wazuh manager alerts, one line of alerts.json:
 *   {"timestamp":"2024-01-02T03:04:05.678+0000","rule":{"id":"5712",
 *    "level":10,"description":...,"groups":[...]},"agent":{"name":...},
 *    "data":{"srcip":...,"srcuser":...},"decoder":{"name":...},
 *    "full_log":...,"location":...,"id":"1704164645.123"}
 *
 * kind is "wazuh:<rule id>": Wazuh rule ids are stable numbers, and the
 * prefix keeps them apart from other sources' kinds in rules and search.
 * Severity from rule.level (0..15): 0-2 none, 3-6 low, 7-10 medium,
 * 11-13 high, 14-16 critical (16 exists in Wazuh's own scale). Field map: docs/ALERT_FORMAT.md ("wazuh").
 */
#include "formats/formats_internal.h"

#define WZ "wazuh"
#define WZ_MAX_GROUPS 16

static const char *const wz_identity[] = {"host", "kind", "actor.ip", NULL};

static int wz_detect(const struct json_value *root)
{
    const struct json_value *rule = fmt_obj(root, "rule");
    if (!rule || !fmt_get(rule, "level") || !fmt_get(rule, "id"))
        return 0;
    if (fmt_obj(root, "agent") || fmt_obj(root, "decoder") || fmt_obj(root, "manager"))
        return 90;
    return 60;
}

static int wz_severity(int64_t level)
{
    if (level <= 2)
        return KB_SEV_NONE;
    if (level <= 6)
        return KB_SEV_LOW;
    if (level <= 10)
        return KB_SEV_MEDIUM;
    if (level <= 13)
        return KB_SEV_HIGH;
    return KB_SEV_CRITICAL;
}

/* rule.groups joined with ',' ("syslog,sshd,authentication_failed"). */
static kb_err wz_groups(const struct json_value *rule, struct arena *ar, struct kb_str *out)
{
    const struct json_value *arr = fmt_arr(rule, "groups");
    int n = 0;
    for (const struct json_value *g = arr ? arr->u.child : NULL; g && n < WZ_MAX_GROUPS;
         g = g->next) {
        struct kb_str s = json_str(g);
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

static kb_err wz_normalize(const struct json_value *root, struct kb_str raw, struct arena *ar,
                           alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    if (!root || root->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, WZ ": an alert must be a JSON object");
    const struct json_value *rule = fmt_get(root, "rule");
    if (!rule)
        return kb_fail(why, KB_EINVAL, WZ ": field 'rule' missing");
    if (rule->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, WZ ": field 'rule' is not an object");
    const struct json_value *rid = fmt_get(rule, "id");
    if (!rid)
        return kb_fail(why, KB_EINVAL, WZ ": field 'rule.id' missing");
    if (!(rid->type == JSON_STRING && rid->len > 0) && rid->type != JSON_NUMBER)
        return kb_fail(why, KB_EINVAL, WZ ": field 'rule.id' is not a string or number");
    const struct json_value *lv = fmt_get(rule, "level");
    int64_t level;
    if (!lv)
        return kb_fail(why, KB_EINVAL, WZ ": field 'rule.level' missing");
    if (!json_as_int(lv, &level) || level < 0 || level > 16)
        return kb_fail(why, KB_EINVAL, WZ ": field 'rule.level' is not a level from 0 to 16");

    struct alert a;
    alert_init(&a, WZ, wz_identity);
    a.raw = raw;
    a.json = root;
    const struct fmt_src src = fmt_src(root, raw);
    struct kb_str id = fmt_text(rid, &src, ar);
    kb_err e = fmt_printf(ar, &a.kind, "wazuh:%.*s", (int)id.n, id.p);
    if (e)
        return kb_fail(why, e, WZ ": arena limit reached");
    a.native_id = fmt_str(root, "id");
    a.native_severity = fmt_text(lv, &src, ar);
    a.severity = wz_severity(level);
    a.title = fmt_str(rule, "description");
    a.description = fmt_str(root, "full_log");
    a.host = fmt_str(root, "agent.name");
    if (kb_str_empty(a.host))
        a.host = fmt_str(root, "predecoder.hostname");
    a.actor_ip = fmt_str(root, "data.srcip");
    a.actor_user = fmt_str(root, "data.srcuser");
    if (kb_str_empty(a.actor_user))
        a.actor_user = fmt_str(root, "data.dstuser");
    a.resource = fmt_str(root, "syscheck.path"); /* file integrity alerts */
    fmt_time(fmt_str(root, "timestamp"), &a.time_ms);

    alert_add_field(&a, "rule_id", id);
    alert_add_field(&a, "location", fmt_str(root, "location"));
    alert_add_field(&a, "decoder", fmt_str(root, "decoder.name"));
    alert_add_field(&a, "program", fmt_str(root, "predecoder.program_name"));
    alert_add_field(&a, "agent_id", fmt_str(root, "agent.id"));
    alert_add_field(&a, "agent_ip", fmt_str(root, "agent.ip"));
    alert_add_field(&a, "manager", fmt_str(root, "manager.name"));
    struct kb_str groups = KB_STR_NULL;
    if ((e = wz_groups(rule, ar, &groups)))
        return kb_fail(why, e, WZ ": arena limit reached");
    alert_add_field(&a, "groups", groups);
    alert_add_field(&a, "mitre_id", fmt_str(rule, "mitre.id.0"));
    alert_add_field(&a, "src_port", fmt_text_at(root, "data.srcport", &src, ar));
    alert_add_field(&a, "dst_user", fmt_str(root, "data.dstuser"));
    alert_add_field(&a, "firedtimes", fmt_text_at(rule, "firedtimes", &src, ar));
    return emit(ctx, &a);
}

const struct format format_wazuh = {
    .name = WZ,
    .summary = "Wazuh manager alerts (alerts.json lines)",
    .id = 6,
    .detect = wz_detect,
    .normalize_json = wz_normalize,
    .normalize_text = NULL,
    .identity = wz_identity,
};
