/*
 * fmt_guardduty.c — Amazon GuardDuty findings, either the finding itself
 * (GetFindings, S3 export) or wrapped by EventBridge:
 *   {"detail-type":"GuardDuty Finding","source":"aws.guardduty","detail":{...}}
 * Field map and severity bands: docs/ALERT_FORMAT.md ("guardduty").
 */
#include "formats/formats_internal.h"

#define GD "guardduty"
#define GD_MAX_BUCKETS 8

static const char *const gd_identity[] = {"account", "kind", "resource", NULL};

/* The finding inside an EventBridge envelope, or root itself. */
static const struct json_value *gd_finding(const struct json_value *root)
{
    struct kb_str dt = fmt_str(root, "detail-type");
    struct kb_str src = fmt_str(root, "source");
    if (kb_str_eq(dt, "GuardDuty Finding") || kb_str_eq(src, "aws.guardduty"))
        return fmt_get(root, "detail");
    return root;
}

static int gd_detect(const struct json_value *root)
{
    if (!root || root->type != JSON_OBJECT)
        return 0;
    const struct json_value *f = gd_finding(root);
    if (f != root)
        return f && f->type == JSON_OBJECT ? 100 : 60;
    if (kb_str_eq(fmt_str(root, "service.serviceName"), "guardduty"))
        return 95;
    /* A finding without service.serviceName: the shape still says it. */
    if (fmt_get(root, "type") && fmt_get(root, "accountId") && fmt_get(root, "severity") &&
        fmt_obj(root, "service") && fmt_get(root, "schemaVersion"))
        return 80;
    return 0;
}

/* resource.resourceType -> the detail naming the affected resource. */
static const struct {
    const char *type;
    const char *path;
} gd_resource_paths[] = {
    {"Instance", "resource.instanceDetails.instanceId"},
    {"AccessKey", "resource.accessKeyDetails.userName"},
    {"EKSCluster", "resource.eksClusterDetails.name"},
    {"ECSCluster", "resource.ecsClusterDetails.name"},
    {"Container", "resource.containerDetails.name"},
    {"RDSDBInstance", "resource.rdsDbInstanceDetails.dbInstanceIdentifier"},
    {"RDSLimitlessDB", "resource.rdsLimitlessDbDetails.dbClusterIdentifier"},
    {"Lambda", "resource.lambdaDetails.functionArn"},
    {"EC2NetworkInterface", "resource.ec2NetworkInterfaceDetails.networkInterfaceId"},
};

/* S3 findings name one or more buckets: "b1,b2" (at most GD_MAX_BUCKETS). */
static kb_err gd_buckets(const struct json_value *f, struct arena *a, struct kb_str *out)
{
    const struct json_value *arr = fmt_arr(f, "resource.s3BucketDetails");
    if (!arr)
        return KB_OK;
    struct kb_str acc = KB_STR_NULL;
    int n = 0;
    for (const struct json_value *b = arr->u.child; b && n < GD_MAX_BUCKETS; b = b->next) {
        struct kb_str name = fmt_str(b, "name");
        if (kb_str_empty(name))
            continue;
        if (n == 0) {
            acc = name;
        } else {
            kb_err e = fmt_printf(a, &acc, "%.*s,%.*s", (int)acc.n, acc.p, (int)name.n, name.p);
            if (e)
                return e;
        }
        n++;
    }
    *out = acc;
    return KB_OK;
}

/* The remote IP of whichever action the finding carries (API call, network
 * connection, port probe, Kubernetes API call, RDS login, ...). */
static struct kb_str gd_remote_ip(const struct json_value *f)
{
    const struct json_value *action = fmt_obj(f, "service.action");
    if (!action)
        return KB_STR_NULL;
    for (const struct json_value *m = action->u.child; m; m = m->next) {
        if (m->type != JSON_OBJECT)
            continue;
        struct kb_str ip = fmt_str(m, "remoteIpDetails.ipAddressV4");
        if (kb_str_empty(ip))
            ip = fmt_str(m, "remoteIpDetails.ipAddressV6");
        if (kb_str_empty(ip))
            ip = fmt_str(m, "portProbeDetails.0.remoteIpDetails.ipAddressV4");
        if (!kb_str_empty(ip))
            return ip;
    }
    return KB_STR_NULL;
}

static kb_err gd_normalize(const struct json_value *root, struct kb_str raw, struct arena *ar,
                           alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    if (!root || root->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, GD ": a finding must be a JSON object");
    const struct json_value *f = gd_finding(root);
    if (!f || f->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, GD ": field 'detail' missing or not an object");

    struct alert a;
    alert_init(&a, GD, gd_identity);
    a.raw = raw;
    a.json = root;
    const struct fmt_src src = fmt_src(root, raw);
    kb_err e;
    if ((e = fmt_need_str(f, "type", GD, "type", &a.kind, why)) ||
        (e = fmt_need_str(f, "id", GD, "id", &a.native_id, why)))
        return e;
    const struct json_value *sev = fmt_get(f, "severity");
    double score;
    if (!sev)
        return kb_fail(why, KB_EINVAL, GD ": field 'severity' missing");
    if (!json_as_double(sev, &score) || !(score >= 0) || score > 10)
        return kb_fail(why, KB_EINVAL, GD ": field 'severity' is not a number from 0 to 10");
    a.native_severity = fmt_text(sev, &src, ar);
    a.severity = fmt_sev_score10(score);

    a.title = fmt_str(f, "title");
    a.description = fmt_str(f, "description");
    a.account = fmt_str(f, "accountId");
    a.region = fmt_str(f, "region");
    fmt_time(fmt_str(f, "updatedAt"), &a.time_ms);
    if (!a.time_ms)
        fmt_time(fmt_str(f, "createdAt"), &a.time_ms);

    struct kb_str rtype = fmt_str(f, "resource.resourceType");
    for (size_t i = 0; i < KB_ARRAY_LEN(gd_resource_paths); i++)
        if (kb_str_eq(rtype, gd_resource_paths[i].type))
            a.resource = fmt_str(f, gd_resource_paths[i].path);
    if (kb_str_eq(rtype, "S3Bucket") && (e = gd_buckets(f, ar, &a.resource)))
        return kb_fail(why, e, GD ": arena limit reached");

    a.actor_ip = gd_remote_ip(f);
    a.actor_user = fmt_str(f, "resource.accessKeyDetails.userName");
    if (kb_str_empty(a.actor_user))
        a.actor_user = fmt_str(f, "resource.kubernetesDetails.kubernetesUserDetails.username");

    const struct json_value *sample = fmt_path(f, "service.additionalInfo.sample");
    bool is_sample = sample && (sample->type == JSON_TRUE ||
                                kb_str_eq(json_str(sample), "true"));
    const struct json_value *archived = fmt_path(f, "service.archived");
    alert_add_field(&a, "count", fmt_text_at(f, "service.count", &src, ar));
    if (is_sample)
        alert_add_field(&a, "sample", KB_STR_LIT("true"));
    if (archived && archived->type == JSON_TRUE)
        alert_add_field(&a, "archived", KB_STR_LIT("true"));
    alert_add_field(&a, "action_type", fmt_str(f, "service.action.actionType"));
    alert_add_field(&a, "api", fmt_str(f, "service.action.awsApiCallAction.api"));
    alert_add_field(&a, "resource_type", rtype);
    alert_add_field(&a, "access_key_id", fmt_str(f, "resource.accessKeyDetails.accessKeyId"));
    alert_add_field(&a, "arn", fmt_str(f, "arn"));
    alert_add_field(&a, "first_seen", fmt_str(f, "service.eventFirstSeen"));
    alert_add_field(&a, "last_seen", fmt_str(f, "service.eventLastSeen"));
    return emit(ctx, &a);
}

const struct format format_guardduty = {
    .name = GD,
    .summary = "Amazon GuardDuty findings (raw or EventBridge \"GuardDuty Finding\")",
    .id = 2,
    .detect = gd_detect,
    .normalize_json = gd_normalize,
    .normalize_text = NULL,
    .identity = gd_identity,
};
