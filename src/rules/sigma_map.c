/*
 * sigma_map.c — the default logsource and field-mapping tables, and level →
 * severity. The tables are documented for users in docs/RULES.md
 * ("Logsource and field mapping"); keep the two in step.
 */
#include "formats/alert.h"
#include "rules/sigma_impl.h"

#include <stdio.h>
#include <strings.h>

/* Sigma logsource → koban source (format names of src/formats/format.c).
 * First match wins; NULL members match anything. */
static const struct sigma_logsource_map default_logsources[] = {
    {"aws", "cloudtrail", NULL, "cloudtrail"},
    {"aws", "guardduty", NULL, "guardduty"},
    {"gcp", "gcp.audit", NULL, "gcp_audit"},
    {"gcp", "scc", NULL, "scc"},
    {"linux", NULL, NULL, "syslog"},
    {NULL, "syslog", NULL, "syslog"},
    {NULL, "falco", NULL, "falco"},
    {NULL, "wazuh", NULL, "wazuh"},
    {NULL, "alertmanager", NULL, "alertmanager"},
    /* koban's own convention: `product: koban, service: <source>` */
    {"koban", "generic", NULL, "generic"},
    {"koban", "guardduty", NULL, "guardduty"},
    {"koban", "scc", NULL, "scc"},
    {"koban", "cloudtrail", NULL, "cloudtrail"},
    {"koban", "gcp_audit", NULL, "gcp_audit"},
    {"koban", "wazuh", NULL, "wazuh"},
    {"koban", "falco", NULL, "falco"},
    {"koban", "alertmanager", NULL, "alertmanager"},
    {"koban", "syslog", NULL, "syslog"},
};

/* Sigma field → event field, per source. A name ending in ".*" maps a
 * prefix: "data.*" → "*" turns data.protoPayload.methodName into
 * protoPayload.methodName. */
static const struct sigma_field_map default_fields[] = {
    {"gcp_audit", "gcp.audit.method_name", "protoPayload.methodName"},
    {"gcp_audit", "gcp.audit.service_name", "protoPayload.serviceName"},
    {"gcp_audit", "gcp.audit.resource_name", "protoPayload.resourceName"},
    {"gcp_audit", "gcp.audit.principal_email", "protoPayload.authenticationInfo.principalEmail"},
    {"gcp_audit", "gcp.audit.caller_ip", "protoPayload.requestMetadata.callerIp"},
    {"gcp_audit", "gcp.audit.status_code", "protoPayload.status.code"},
    {"gcp_audit", "data.*", "*"},
    {"cloudtrail", "aws.cloudtrail.event_name", "eventName"},
    {"cloudtrail", "aws.cloudtrail.event_source", "eventSource"},
};

static bool eq_opt(const char *row, const char *val)
{
    return !row || (val && strcasecmp(row, val) == 0);
}

static const char *ls_lookup(const struct sigma_logsource_map *t, size_t n, const char *product,
                             const char *service, const char *category, bool *found)
{
    for (size_t i = 0; i < n; i++) {
        if (eq_opt(t[i].product, product) && eq_opt(t[i].service, service) &&
            eq_opt(t[i].category, category)) {
            *found = true;
            return t[i].source;
        }
    }
    *found = false;
    return NULL;
}

const char *sigma_map_logsource(const struct sigma_logsource_map *caller, size_t ncaller,
                                bool defaults, const char *product, const char *service,
                                const char *category)
{
    bool found = false;
    const char *s = ls_lookup(caller, ncaller, product, service, category, &found);
    if (found || !defaults)
        return s;
    return ls_lookup(default_logsources, KB_ARRAY_LEN(default_logsources), product, service,
                     category, &found);
}

/* Returns the mapped name (static or from the table) or NULL; a prefix
 * mapping writes into out. */
static const char *fm_lookup(const struct sigma_field_map *t, size_t n, const char *source,
                             const char *field, size_t fn, char *out, size_t outsz)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].source && (!source || strcmp(t[i].source, source) != 0))
            continue;
        size_t sl = strlen(t[i].sigma_field);
        if (sl >= 2 && t[i].sigma_field[sl - 1] == '*' && t[i].sigma_field[sl - 2] == '.') {
            size_t pl = sl - 1; /* prefix including the dot */
            size_t el = strlen(t[i].event_field);
            if (fn <= pl || memcmp(field, t[i].sigma_field, pl) != 0 || el == 0 ||
                t[i].event_field[el - 1] != '*')
                continue;
            int w = snprintf(out, outsz, "%.*s%.*s", (int)(el - 1), t[i].event_field,
                             (int)(fn - pl), field + pl);
            if (w < 0 || (size_t)w >= outsz)
                continue;
            return out;
        }
        if (sl == fn && memcmp(t[i].sigma_field, field, fn) == 0)
            return t[i].event_field;
    }
    return NULL;
}

const char *sigma_map_field(const struct sigma_field_map *caller, size_t ncaller, bool defaults,
                            const char *source, const char *field, size_t n, char *buf,
                            size_t bufsz)
{
    const char *m = fm_lookup(caller, ncaller, source, field, n, buf, bufsz);
    if (m || !defaults)
        return m;
    return fm_lookup(default_fields, KB_ARRAY_LEN(default_fields), source, field, n, buf, bufsz);
}

kb_err sigma_level_severity(const char *level, int *sev)
{
    static const struct {
        const char *name;
        int sev;
    } levels[] = {
        {"informational", KB_SEV_NONE}, {"low", KB_SEV_LOW},   {"medium", KB_SEV_MEDIUM},
        {"high", KB_SEV_HIGH},          {"critical", KB_SEV_CRITICAL},
    };
    for (size_t i = 0; level && i < KB_ARRAY_LEN(levels); i++) {
        if (strcasecmp(level, levels[i].name) == 0) {
            *sev = levels[i].sev;
            return KB_OK;
        }
    }
    return KB_EINVAL;
}
