/*
 * fmt_cloudtrail.c — one AWS CloudTrail record (the intake splits
 * {"Records":[...]} files, arrays and JSON lines into records). Also accepts
 * a record wrapped by EventBridge ({"detail-type":"AWS API Call via
 * CloudTrail","detail":{...}}).
 *
 * CloudTrail has no severity: every record is KB_SEV_NONE and rules decide.
 * Field map and the resource choice: docs/ALERT_FORMAT.md ("cloudtrail").
 */
#include "formats/formats_internal.h"

#include <string.h>

#define CT "cloudtrail"

static const char *const ct_identity[] = {"account", "kind", "actor.user", "resource", NULL};

static bool ct_is_record(const struct json_value *r)
{
    return r && r->type == JSON_OBJECT && fmt_get(r, "eventVersion") &&
           fmt_get(r, "eventSource") && fmt_get(r, "eventName");
}

/* The record inside an EventBridge envelope, or root itself. */
static const struct json_value *ct_record(const struct json_value *root)
{
    static const char sfx[] = "via CloudTrail";
    struct kb_str dt = fmt_str(root, "detail-type");
    if (dt.p && dt.n >= sizeof sfx - 1 &&
        memcmp(dt.p + dt.n - (sizeof sfx - 1), sfx, sizeof sfx - 1) == 0)
        return fmt_get(root, "detail");
    if (!fmt_get(root, "eventVersion") && ct_is_record(fmt_obj(root, "detail")) &&
        fmt_get(root, "detail-type"))
        return fmt_get(root, "detail");
    return root;
}

static int ct_detect(const struct json_value *root)
{
    if (!root || root->type != JSON_OBJECT)
        return 0;
    const struct json_value *r = ct_record(root);
    if (!ct_is_record(r))
        return 0;
    return r == root ? 95 : 96;
}

/* When the record has no resources[] (most don't), the request names the
 * target: these members of requestParameters, in this order, are the best
 * guess. */
static const char *const ct_request_resources[] = {
    "bucketName",
    "instanceId",
    "instancesSet.items.0.instanceId",
    "roleName",
    "userName",
    "groupName",
    "groupId",
    "functionName",
    "secretId",
    "trailName",
    "name",
    "snapshotId",
    "imageId",
    "dBSnapshotIdentifier",
    "dBInstanceIdentifier",
    "keyId",
    "policyArn",
    "logGroupName",
    "detectorId",
    "clusterName",
    "target",
    NULL,
};

static struct kb_str ct_resource(const struct json_value *r)
{
    struct kb_str s = fmt_str(r, "resources.0.ARN");
    /* requestParameters is found once; the candidates are looked up in it. */
    const struct json_value *rp = kb_str_empty(s) ? fmt_obj(r, "requestParameters") : NULL;
    for (size_t i = 0; rp && kb_str_empty(s) && ct_request_resources[i]; i++)
        s = fmt_str(rp, ct_request_resources[i]);
    return s;
}

static struct kb_str ct_actor(const struct json_value *r)
{
    static const char *const keys[] = {"arn", "userName", "principalId", "invokedBy", NULL};
    struct kb_str s = fmt_first_str(fmt_obj(r, "userIdentity"), keys);
    if (kb_str_empty(s))
        s = fmt_str(r, "userIdentity.sessionContext.sessionIssuer.arn");
    return s;
}

static kb_err ct_normalize(const struct json_value *root, struct kb_str raw, struct arena *ar,
                           alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    if (!root || root->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, CT ": a record must be a JSON object");
    if (fmt_arr(root, "Records"))
        return kb_fail(why, KB_EINVAL, CT ": a {\"Records\":[...]} file holds many records; "
                                       "send it as a payload so it is split");
    const struct json_value *r = ct_record(root);
    if (!r || r->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, CT ": field 'detail' is not an object");

    struct alert a;
    alert_init(&a, CT, ct_identity);
    a.raw = raw;
    a.json = root;
    const struct fmt_src src = fmt_src(root, raw);
    struct kb_str esrc, name;
    kb_err e;
    if ((e = fmt_need_str(r, "eventSource", CT, "eventSource", &esrc, why)) ||
        (e = fmt_need_str(r, "eventName", CT, "eventName", &name, why)))
        return e;
    const struct json_value *uid = fmt_get(r, "userIdentity");
    if (uid && uid->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, CT ": field 'userIdentity' is not an object");
    if ((e = FMT_JOIN(ar, &a.kind, esrc, KB_STR_LIT(":"), name)))
        return kb_fail(why, e, CT ": arena limit reached");

    a.native_id = fmt_str(r, "eventID");
    a.account = fmt_str(r, "recipientAccountId");
    if (kb_str_empty(a.account))
        a.account = fmt_str(r, "userIdentity.accountId");
    a.region = fmt_str(r, "awsRegion");
    a.actor_user = ct_actor(r);
    a.actor_ip = fmt_str(r, "sourceIPAddress");
    a.resource = ct_resource(r);
    if (!fmt_time(fmt_str(r, "eventTime"), &a.time_ms))
        fmt_time(fmt_str(r, "@timestamp"), &a.time_ms);

    /* ConsoleLogin failures carry no errorCode: the response says it. */
    struct kb_str code = fmt_text_at(r, "errorCode", &src, ar);
    bool failed = !kb_str_empty(code) ||
                  kb_str_eq(fmt_str(r, "responseElements.ConsoleLogin"), "Failure");
    a.outcome = failed ? KB_STR_LIT("failure") : KB_STR_LIT("success");
    a.severity = KB_SEV_NONE;

    struct kb_str who = kb_str_empty(a.actor_user) ? KB_STR_LIT("unknown") : a.actor_user;
    if (!kb_str_empty(code))
        e = FMT_JOIN(ar, &a.title, a.kind, KB_STR_LIT(" by "), who, KB_STR_LIT(" (failure: "),
                     code, KB_STR_LIT(")"));
    else
        e = FMT_JOIN(ar, &a.title, a.kind, KB_STR_LIT(" by "), who,
                     failed ? KB_STR_LIT(" (failure)") : KB_STR_LIT(" (success)"));
    if (e)
        return kb_fail(why, e, CT ": arena limit reached");

    alert_add_field(&a, "error_code", code);
    alert_add_field(&a, "error_message", fmt_text_at(r, "errorMessage", &src, ar));
    alert_add_field(&a, "user_agent", fmt_str(r, "userAgent"));
    alert_add_field(&a, "event_type", fmt_str(r, "eventType"));
    alert_add_field(&a, "principal_type", fmt_str(r, "userIdentity.type"));
    alert_add_field(&a, "access_key_id", fmt_str(r, "userIdentity.accessKeyId"));
    alert_add_field(&a, "session_issuer", fmt_str(r, "userIdentity.sessionContext.sessionIssuer.arn"));
    alert_add_field(&a, "mfa_authenticated",
                    fmt_str(r, "userIdentity.sessionContext.attributes.mfaAuthenticated"));
    if (kb_str_eq(name, "ConsoleLogin")) {
        alert_add_field(&a, "mfa", fmt_text_at(r, "additionalEventData.MFAUsed", &src, ar));
        alert_add_field(&a, "console_login", fmt_str(r, "responseElements.ConsoleLogin"));
    }
    alert_add_field(&a, "read_only", fmt_text_at(r, "readOnly", &src, ar));
    alert_add_field(&a, "request_id", fmt_str(r, "requestID"));
    return emit(ctx, &a);
}

const struct format format_cloudtrail = {
    .name = CT,
    .summary = "AWS CloudTrail records (one per event; Records files are split)",
    .id = 4,
    .detect = ct_detect,
    .normalize_json = ct_normalize,
    .normalize_text = NULL,
    .identity = ct_identity,
};
