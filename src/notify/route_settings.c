/*
 * route_settings.c — the routing file's settings beside the tree: flood,
 * flood_rule, reminders, escalate and ops, with their defaults
 * (route_internal.h; the keys are documented in docs/ROUTING.md).
 */
#include "notify/route_internal.h"

#include <stdio.h>

#define PATH_MAX_KEY 64

kb_err route_receiver_ref(struct ry_ctx *y, const struct route_set *rs, const yaml_node_t *v,
                          const char *path, size_t *idx)
{
    const char *name;
    kb_err e = ry_scalar(y, v, path, &name);
    if (e)
        return e;
    if (route_receiver_index(rs, name, idx) != KB_OK)
        return ry_bad(y, v, path, "unknown receiver '%s'", name);
    return KB_OK;
}

void route_settings_defaults(struct route_set *rs)
{
    rs->flood_on = rs->flood_rule_on = true;
    rs->flood = (struct flood_config){.rate = 10, .per_ms = 3600000, .burst = 5};
    rs->flood_rule = (struct flood_config){.rate = 100, .per_ms = 3600000, .burst = 20};
    rs->reminder_ms[KB_SEV_MEDIUM] = 24 * 3600000LL;
    rs->reminder_ms[KB_SEV_HIGH] = 3600000LL;
    rs->reminder_ms[KB_SEV_CRITICAL] = 30 * 60000LL;
}

/* `flood: off`, or a mapping whose absent keys keep the defaults. */
static kb_err parse_flood(struct ry_ctx *y, const yaml_node_t *n, const char *key, bool *on,
                          struct flood_config *fc)
{
    static const char *const allowed[] = {"rate", "burst", NULL};
    if (ry_is_off(n)) {
        *on = false;
        return KB_OK;
    }
    kb_err e = ry_mapping(y, n, key, allowed);
    if (e)
        return e;
    char path[PATH_MAX_KEY];
    yaml_node_t *v;
    if ((v = ry_get(y, n, "rate"))) {
        snprintf(path, sizeof path, "%s.rate", key);
        if ((e = ry_rate(y, v, path, &fc->rate, &fc->per_ms)))
            return e;
    }
    if ((v = ry_get(y, n, "burst"))) {
        snprintf(path, sizeof path, "%s.burst", key);
        uint64_t b;
        if ((e = ry_uint(y, v, path, 1, FLOOD_MAX_BURST, &b)))
            return e;
        fc->burst = (uint32_t)b;
    }
    return KB_OK;
}

/* The map replaces the defaults; a severity may be `off`. */
static kb_err parse_reminders(struct ry_ctx *y, struct route_set *rs, const yaml_node_t *n)
{
    static const char *const allowed[] = {"low", "medium", "high", "critical", NULL};
    memset(rs->reminder_ms, 0, sizeof rs->reminder_ms);
    if (ry_is_off(n))
        return KB_OK;
    kb_err e = ry_mapping(y, n, "reminders", allowed);
    for (size_t i = 0; !e && i < ry_len(n); i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        const char *k = ry_cstr(yaml_document_get_node(y->doc, p->key));
        yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
        int sev = KB_SEV_NONE;
        kb_severity_parse(k, &sev);
        char path[PATH_MAX_KEY];
        snprintf(path, sizeof path, "reminders.%s", k);
        if (ry_is_off(v))
            rs->reminder_ms[sev] = -1;
        else
            e = ry_duration(y, v, path, 60000, &rs->reminder_ms[sev]);
    }
    return e;
}

static kb_err parse_escalate(struct ry_ctx *y, struct route_set *rs, const yaml_node_t *n)
{
    static const char *const allowed[] = {"after", "receiver", NULL};
    kb_err e = ry_mapping(y, n, "escalate", allowed);
    if (e)
        return e;
    yaml_node_t *a = ry_get(y, n, "after"), *r = ry_get(y, n, "receiver");
    if (!a || !r)
        return ry_bad(y, n, "escalate", "needs both after and receiver");
    uint64_t after;
    if ((e = ry_uint(y, a, "escalate.after", 1, ROUTE_MAX_ESCALATE_AFTER, &after)) ||
        (e = route_receiver_ref(y, rs, r, "escalate.receiver", &rs->escalate_recv)))
        return e;
    rs->escalate_after = (unsigned)after;
    rs->escalate_on = true;
    return KB_OK;
}

static kb_err parse_ops(struct ry_ctx *y, struct route_set *rs, const yaml_node_t *n)
{
    static const char *const allowed[] = {"receiver", "mention", NULL};
    kb_err e = ry_mapping(y, n, "ops", allowed);
    if (e)
        return e;
    yaml_node_t *r = ry_get(y, n, "receiver"), *m = ry_get(y, n, "mention");
    if (!r)
        return ry_bad(y, n, "ops.receiver", "is required");
    if ((e = route_receiver_ref(y, rs, r, "ops.receiver", &rs->ops_recv)) ||
        (m && (e = ry_text(y, m, "ops.mention", false, &rs->ops_mention))))
        return e;
    rs->ops_on = true;
    return KB_OK;
}

kb_err route_parse_settings(struct ry_ctx *y, struct route_set *rs, const yaml_node_t *root)
{
    kb_err e = KB_OK;
    yaml_node_t *v;
    if ((v = ry_get(y, root, "flood")))
        e = parse_flood(y, v, "flood", &rs->flood_on, &rs->flood);
    if (!e && (v = ry_get(y, root, "flood_rule")))
        e = parse_flood(y, v, "flood_rule", &rs->flood_rule_on, &rs->flood_rule);
    if (!e && (v = ry_get(y, root, "reminders")))
        e = parse_reminders(y, rs, v);
    if (!e && (v = ry_get(y, root, "escalate")))
        e = parse_escalate(y, rs, v);
    if (!e && (v = ry_get(y, root, "ops")))
        e = parse_ops(y, rs, v);
    return e;
}
