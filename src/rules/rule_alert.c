/* rule_alert.c — the alert a Sigma rule match makes (rule_alert.h). */
#include "rules/rule_alert.h"

const char *rule_alert_id(const struct sigma_rule *r)
{
    const char *rid = sigma_rule_id(r);
    if (!rid)
        rid = sigma_rule_name(r);
    if (!rid)
        rid = sigma_rule_title(r) ? sigma_rule_title(r) : "?";
    return rid;
}

size_t rule_alert_identity(const struct format *f, const char **names, size_t cap)
{
    size_t n = 0;
    while (f && f->identity && f->identity[n])
        n++;
    for (size_t i = 0; i < n && i < cap; i++)
        names[i] = f->identity[i];
    if (n < cap)
        names[n] = "rule.id";
    if (n + 1 < cap)
        names[n + 1] = NULL;
    return n + 2;
}

void rule_alert_make(const struct alert *a, const struct sigma_rule *r,
                     const char *const *identity, struct alert *out)
{
    const char *rid = rule_alert_id(r);
    *out = *a;
    out->kind = kb_str_c(rid);
    out->title = kb_str_c(sigma_rule_title(r));
    out->severity = sigma_rule_severity(r);
    if (identity)
        out->identity = identity;
    if (out->nfields >= ALERT_MAX_FIELDS)
        out->nfields = ALERT_MAX_FIELDS - 1; /* rule.id must be there: it is identity */
    alert_add_field(out, "rule.id", kb_str_c(rid));
}
