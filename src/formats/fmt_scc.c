/*
 * fmt_scc.c — Google Cloud Security Command Center findings, as Pub/Sub
 * notifications deliver them:
 *   v1: {"notificationConfigName":..., "finding":{...}, "resource":{...}}
 *       (older ones have no severity and no "resource");
 *   v2: finding.name ".../locations/<loc>/findings/<id>", findingClass,
 *       severity, resource.gcpMetadata.{project,projectDisplayName};
 * plus a bare {"finding":{...}} and, from Event Threat Detection, its Cloud
 * Logging entries ({"logName":".../threatdetection.googleapis.com...",
 * "jsonPayload":{"detectionCategory":{"ruleName":...}}}).
 * The Pub/Sub push envelope ({"message":{"data":base64}}) is not unwrapped
 * here: the sender posts the decoded message.
 * Field map: docs/ALERT_FORMAT.md ("scc").
 */
#include "formats/formats_internal.h"

#include <string.h>

#define SCC "scc"
#define SCC_MAX_MARKS 8

static const char *const scc_identity[] = {"account", "kind", "resource", NULL};

static bool is_etd_log(const struct json_value *root)
{
    struct kb_str ln = fmt_str(root, "logName");
    return ln.p && memmem(ln.p, ln.n, "threatdetection.googleapis.com", 30) &&
           fmt_obj(root, "jsonPayload.detectionCategory");
}

static int scc_detect(const struct json_value *root)
{
    if (!root || root->type != JSON_OBJECT)
        return 0;
    const struct json_value *f = fmt_obj(root, "finding");
    if (f) {
        struct kb_str name = fmt_str(f, "name");
        bool named = name.p && memmem(name.p, name.n, "/sources/", 9);
        if (fmt_get(root, "notificationConfigName"))
            return 100;
        if (named && fmt_get(f, "category"))
            return 95;
        if (fmt_get(f, "category") && fmt_get(f, "state"))
            return 70;
        return 0;
    }
    return is_etd_log(root) ? 90 : 0;
}

/* "projects/<id>/" inside a resource name ("//compute.googleapis.com/
 * projects/test-project/global/firewalls/1"); KB_STR_NULL when absent. */
static struct kb_str project_in(struct kb_str name)
{
    static const char pfx[] = "projects/";
    if (!name.p)
        return KB_STR_NULL;
    const char *p = memmem(name.p, name.n, pfx, sizeof pfx - 1);
    if (!p)
        return KB_STR_NULL;
    p += sizeof pfx - 1;
    const char *end = name.p + name.n;
    const char *q = p;
    while (q < end && *q != '/')
        q++;
    return q > p ? (struct kb_str){p, (size_t)(q - p)} : KB_STR_NULL;
}

/* The project, from the most readable source that has it: display names
 * first, then the project id a scanner recorded, then a resource name. */
static struct kb_str scc_account(const struct json_value *root, const struct json_value *f)
{
    static const char *const paths[] = {
        "resource.projectDisplayName",
        "resource.gcpMetadata.projectDisplayName",
        "resource.project_display_name",
        "finding.resource.projectDisplayName",
        "finding.resource.project_display_name",
        "finding.resource.gcpMetadata.projectDisplayName",
        "finding.sourceProperties.ProjectId",
        "finding.sourceProperties.properties.project_id",
        "finding.sourceProperties.properties.projectId",
        "finding.sourceProperties.properties.network.project",
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(paths); i++) {
        struct kb_str s = fmt_str(root, paths[i]);
        if (!kb_str_empty(s))
            return s;
    }
    struct kb_str s = project_in(fmt_str(f, "resourceName"));
    if (kb_str_empty(s))
        s = project_in(fmt_str(root, "resource.name"));
    if (kb_str_empty(s))
        s = project_in(fmt_str(f, "resource.name"));
    if (kb_str_empty(s))
        s = project_in(fmt_str(root, "resource.gcpMetadata.project"));
    return s;
}

static int scc_severity(struct kb_str s)
{
    if (fmt_str_ieq(s, "CRITICAL"))
        return KB_SEV_CRITICAL;
    if (fmt_str_ieq(s, "HIGH"))
        return KB_SEV_HIGH;
    if (fmt_str_ieq(s, "LOW"))
        return KB_SEV_LOW;
    /* MEDIUM, SEVERITY_UNSPECIFIED and absent (older notifications). */
    return KB_SEV_MEDIUM;
}

/* Security marks become fields "mark.<key>" (string values only). */
static void scc_marks(struct alert *a, const struct json_value *f, struct arena *ar)
{
    const struct json_value *marks = fmt_obj(f, "securityMarks.marks");
    int n = 0;
    for (const struct json_value *m = marks ? marks->u.child : NULL; m && n < SCC_MAX_MARKS;
         m = m->next) {
        if (m->type != JSON_STRING)
            continue;
        const char *name = fmt_name(ar, "mark.", (struct kb_str){m->key, m->key_len});
        if (!name || alert_add_field(a, name, json_str(m)) != KB_OK)
            return;
        n++;
    }
}

static kb_err scc_etd(const struct json_value *root, struct alert *a, struct kb_why *why)
{
    const struct json_value *p = fmt_obj(root, "jsonPayload");
    kb_err e = fmt_need_str(fmt_get(p, "detectionCategory"), "ruleName", SCC,
                            "jsonPayload.detectionCategory.ruleName", &a->kind, why);
    if (e)
        return e;
    a->native_id = fmt_str(root, "insertId");
    a->account = fmt_str(p, "properties.project_id");
    if (kb_str_empty(a->account))
        a->account = fmt_str(p, "properties.network.project");
    if (kb_str_empty(a->account))
        a->account = project_in(fmt_str(root, "logName"));
    a->resource = fmt_str(p, "properties.instanceDetails");
    a->native_severity = fmt_str(p, "detectionPriority");
    a->severity = scc_severity(a->native_severity);
    a->title = a->kind;
    a->state = KB_STR_LIT("ACTIVE");
    if (!fmt_time(fmt_str(p, "eventTime"), &a->time_ms))
        fmt_time(fmt_str(root, "timestamp"), &a->time_ms);
    alert_add_field(a, "log_name", fmt_str(root, "logName"));
    return KB_OK;
}

static kb_err scc_normalize(const struct json_value *root, struct kb_str raw, struct arena *ar,
                            alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    if (!root || root->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, SCC ": a notification must be a JSON object");
    struct alert a;
    alert_init(&a, SCC, scc_identity);
    a.raw = raw;
    a.json = root;
    kb_err e;
    const struct json_value *f = fmt_get(root, "finding");
    if (!f && is_etd_log(root)) {
        if ((e = scc_etd(root, &a, why)))
            return e;
        return emit(ctx, &a);
    }
    if (!f)
        return kb_fail(why, KB_EINVAL, SCC ": field 'finding' missing");
    if (f->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, SCC ": field 'finding' is not an object");
    if ((e = fmt_need_str(f, "name", SCC, "finding.name", &a.native_id, why)) ||
        (e = fmt_need_str(f, "category", SCC, "finding.category", &a.kind, why)))
        return e;

    a.state = fmt_str(f, "state");
    a.native_severity = fmt_str(f, "severity");
    a.severity = scc_severity(a.native_severity);
    a.resource = fmt_str(f, "resourceName");
    if (kb_str_empty(a.resource))
        a.resource = fmt_str(root, "resource.name");
    if (kb_str_empty(a.resource))
        a.resource = fmt_str(f, "resource.name");
    a.account = scc_account(root, f);
    a.region = fmt_str(root, "resource.gcpMetadata.location");
    if (kb_str_empty(a.region))
        a.region = fmt_str(root, "resource.location");
    a.actor_ip = fmt_str(f, "access.callerIp");
    a.actor_user = fmt_str(f, "access.principalEmail");
    a.description = fmt_str(f, "description");
    if (kb_str_empty(a.description))
        a.description = fmt_str(f, "sourceProperties.Explanation");
    fmt_time(fmt_str(f, "eventTime"), &a.time_ms);
    if (!a.time_ms)
        fmt_time(fmt_str(f, "createTime"), &a.time_ms);

    struct kb_str what = fmt_str(f, "resource.display_name");
    if (kb_str_empty(what))
        what = fmt_str(root, "resource.displayName");
    if (kb_str_empty(what))
        what = fmt_str(f, "assetDisplayName");
    if (kb_str_empty(what))
        what = a.resource;
    if (kb_str_empty(what))
        a.title = a.kind;
    else if ((e = fmt_printf(ar, &a.title, "%.*s on %.*s", (int)a.kind.n, a.kind.p,
                             (int)what.n, what.p)))
        return kb_fail(why, e, SCC ": arena limit reached");

    alert_add_field(&a, "mute", fmt_str(f, "mute"));
    alert_add_field(&a, "finding_class", fmt_str(f, "findingClass"));
    alert_add_field(&a, "source_display_name", fmt_str(f, "sourceDisplayName"));
    alert_add_field(&a, "external_uri", fmt_str(f, "externalUri"));
    alert_add_field(&a, "notification_config", fmt_str(root, "notificationConfigName"));
    alert_add_field(&a, "resource_type", fmt_str(root, "resource.type"));
    if (kb_str_empty(alert_get(&a, "resource_type")))
        alert_add_field(&a, "resource_type", fmt_str(f, "resource.type"));
    alert_add_field(&a, "scanner", fmt_str(f, "sourceProperties.ScannerName"));
    alert_add_field(&a, "rule_name", fmt_str(f, "sourceProperties.detectionCategory.ruleName"));
    scc_marks(&a, f, ar);
    return emit(ctx, &a);
}

const struct format format_scc = {
    .name = SCC,
    .summary = "Google Cloud Security Command Center notifications (v1 and v2)",
    .id = 3,
    .detect = scc_detect,
    .normalize_json = scc_normalize,
    .normalize_text = NULL,
    .identity = scc_identity,
};
