/*
 * fmt_gcpaudit.c — Google Cloud audit logs: one Cloud Logging LogEntry whose
 * protoPayload is a google.cloud.audit.AuditLog (Admin Activity, Data
 * Access, System Event, Policy Denied), as a log sink exports it.
 *
 * Like CloudTrail, an audit entry is evidence, not a verdict: koban severity
 * stays none and rules decide. The LogEntry severity is kept as
 * native_severity. Field map: docs/ALERT_FORMAT.md ("gcp_audit").
 */
#include "formats/formats_internal.h"

#include <string.h>

#define GA "gcp_audit"

static const char *const ga_identity[] = {"account", "kind", "actor.user", "resource", NULL};

static const char audit_type[] = "type.googleapis.com/google.cloud.audit.AuditLog";
static const char audit_log[] = "cloudaudit.googleapis.com";

static int ga_detect(const struct json_value *root)
{
    if (!root || root->type != JSON_OBJECT)
        return 0;
    const struct json_value *p = fmt_obj(root, "protoPayload");
    if (!p)
        return 0;
    if (kb_str_eq(fmt_str(p, "@type"), audit_type))
        return 95;
    struct kb_str ln = fmt_str(root, "logName");
    if (ln.p && memmem(ln.p, ln.n, audit_log, sizeof audit_log - 1))
        return 90;
    return 0;
}

/* "projects/p/logs/cloudaudit.googleapis.com%2Factivity" -> "activity". */
static struct kb_str ga_log_kind(struct kb_str ln)
{
    if (!ln.p)
        return KB_STR_NULL;
    const char *p = memmem(ln.p, ln.n, audit_log, sizeof audit_log - 1);
    if (!p)
        return KB_STR_NULL;
    p += sizeof audit_log - 1;
    const char *end = ln.p + ln.n;
    if (end - p > 3 && memcmp(p, "%2F", 3) == 0)
        p += 3;
    else if (end - p > 1 && *p == '/')
        p += 1;
    else
        return KB_STR_NULL;
    return (struct kb_str){p, (size_t)(end - p)};
}

static kb_err ga_normalize(const struct json_value *root, struct kb_str raw, struct arena *ar,
                           alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    if (!root || root->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, GA ": a log entry must be a JSON object");
    const struct json_value *p = fmt_get(root, "protoPayload");
    if (!p)
        return kb_fail(why, KB_EINVAL, GA ": field 'protoPayload' missing");
    if (p->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, GA ": field 'protoPayload' is not an object");

    struct alert a;
    alert_init(&a, GA, ga_identity);
    a.raw = raw;
    a.json = root;
    const struct fmt_src src = fmt_src(root, raw);
    struct kb_str svc, method;
    kb_err e;
    if ((e = fmt_need_str(p, "serviceName", GA, "protoPayload.serviceName", &svc, why)) ||
        (e = fmt_need_str(p, "methodName", GA, "protoPayload.methodName", &method, why)))
        return e;
    if ((e = FMT_JOIN(ar, &a.kind, svc, KB_STR_LIT(":"), method)))
        return kb_fail(why, e, GA ": arena limit reached");

    a.native_id = fmt_str(root, "insertId");
    a.account = fmt_str(root, "resource.labels.project_id");
    a.region = fmt_str(root, "resource.labels.location");
    if (kb_str_empty(a.region))
        a.region = fmt_str(root, "resource.labels.zone");
    if (kb_str_empty(a.region))
        a.region = fmt_str(root, "resource.labels.region");
    a.actor_user = fmt_str(p, "authenticationInfo.principalEmail");
    if (kb_str_empty(a.actor_user))
        a.actor_user = fmt_str(p, "authenticationInfo.principalSubject");
    a.actor_ip = fmt_str(p, "requestMetadata.callerIp");
    a.resource = fmt_str(p, "resourceName");
    a.native_severity = fmt_str(root, "severity");
    a.severity = KB_SEV_NONE;
    fmt_time(fmt_str(root, "timestamp"), &a.time_ms);

    /* google.rpc.Status: code 0 (or no status) is success. */
    int64_t code = 0;
    const struct json_value *st = fmt_path(p, "status.code");
    if (st && !json_as_int(st, &code))
        code = -1;
    a.outcome = code == 0 ? KB_STR_LIT("success") : KB_STR_LIT("failure");

    struct kb_str who = kb_str_empty(a.actor_user) ? KB_STR_LIT("unknown") : a.actor_user;
    if ((e = FMT_JOIN(ar, &a.title, a.kind, KB_STR_LIT(" by "), who,
                      code == 0 ? KB_STR_LIT(" (success)") : KB_STR_LIT(" (failure)"))))
        return kb_fail(why, e, GA ": arena limit reached");

    alert_add_field(&a, "status_code", code ? fmt_text(st, &src, ar) : KB_STR_NULL);
    alert_add_field(&a, "status_message", fmt_str(p, "status.message"));
    alert_add_field(&a, "log", ga_log_kind(fmt_str(root, "logName")));
    alert_add_field(&a, "resource_type", fmt_str(root, "resource.type"));
    alert_add_field(&a, "user_agent", fmt_str(p, "requestMetadata.callerSuppliedUserAgent"));
    alert_add_field(&a, "service_account_delegation",
                    fmt_str(p, "authenticationInfo.serviceAccountDelegationInfo.0."
                               "firstPartyPrincipal.principalEmail"));
    alert_add_field(&a, "permission", fmt_str(p, "authorizationInfo.0.permission"));
    return emit(ctx, &a);
}

const struct format format_gcp_audit = {
    .name = GA,
    .summary = "Google Cloud audit log entries (AuditLog protoPayload)",
    .id = 5,
    .detect = ga_detect,
    .normalize_json = ga_normalize,
    .normalize_text = NULL,
    .identity = ga_identity,
};
