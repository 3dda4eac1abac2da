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
    /* detail-type first: absent from plain records, it is rejected by the
     * key summary, where eventVersion (often the last member) is a scan. */
    if (fmt_get(root, "detail-type") && !fmt_get(root, "eventVersion") &&
        ct_is_record(fmt_obj(root, "detail")))
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
 * guess. A plain name is one member, looked up with its length (no path
 * scan for each of twenty names per event); a path is followed. */
#define CT_KEY(s) {s, sizeof s - 1, false}
static const struct {
    const char *key;
    size_t len;
    bool path;
} ct_request_resources[] = {
    CT_KEY("bucketName"),
    CT_KEY("instanceId"),
    {"instancesSet.items.0.instanceId", 0, true},
    CT_KEY("roleName"),
    CT_KEY("userName"),
    CT_KEY("groupName"),
    CT_KEY("groupId"),
    CT_KEY("functionName"),
    CT_KEY("secretId"),
    CT_KEY("trailName"),
    CT_KEY("name"),
    CT_KEY("snapshotId"),
    CT_KEY("imageId"),
    CT_KEY("dBSnapshotIdentifier"),
    CT_KEY("dBInstanceIdentifier"),
    CT_KEY("keyId"),
    CT_KEY("policyArn"),
    CT_KEY("logGroupName"),
    CT_KEY("detectorId"),
    CT_KEY("clusterName"),
    CT_KEY("target"),
};
#undef CT_KEY

/* res: the record's resources member; rp: its requestParameters member. */
static struct kb_str ct_resource(const struct json_value *res, const struct json_value *rp)
{
    struct kb_str s = fmt_str(res, "0.ARN");
    /* requestParameters is found once; the candidates are looked up in it. */
    if (!kb_str_empty(s) || !rp || rp->type != JSON_OBJECT)
        return s;
    for (size_t i = 0; kb_str_empty(s) && i < KB_ARRAY_LEN(ct_request_resources); i++) {
        const char *k = ct_request_resources[i].key;
        s = ct_request_resources[i].path ? fmt_str(rp, k)
                                         : json_str(json_getn(rp, k, ct_request_resources[i].len));
    }
    return s;
}

/* uid: the record's userIdentity object, or NULL; issuer: its
 * sessionContext.sessionIssuer.arn. */
static struct kb_str ct_actor(const struct json_value *uid, struct kb_str issuer)
{
    static const char *const keys[] = {"arn", "userName", "principalId", "invokedBy", NULL};
    struct kb_str s = fmt_first_str(uid, keys);
    if (kb_str_empty(s))
        s = issuer;
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
    /* The record's members, found in one pass over it. */
    enum {
        M_SOURCE, M_NAME, M_UID, M_ID, M_ACCOUNT, M_REGION, M_IP, M_RESOURCES, M_REQUEST,
        M_TIME, M_TIMESTAMP, M_ERRCODE, M_RESPONSE, M_ERRMSG, M_AGENT, M_TYPE, M_EXTRA,
        M_READONLY, M_REQID, M_COUNT
    };
    static const struct fmt_key keys[M_COUNT] = {
        FMT_KEY("eventSource"), FMT_KEY("eventName"), FMT_KEY("userIdentity"),
        FMT_KEY("eventID"), FMT_KEY("recipientAccountId"), FMT_KEY("awsRegion"),
        FMT_KEY("sourceIPAddress"), FMT_KEY("resources"), FMT_KEY("requestParameters"),
        FMT_KEY("eventTime"), FMT_KEY("@timestamp"), FMT_KEY("errorCode"),
        FMT_KEY("responseElements"), FMT_KEY("errorMessage"), FMT_KEY("userAgent"),
        FMT_KEY("eventType"), FMT_KEY("additionalEventData"), FMT_KEY("readOnly"),
        FMT_KEY("requestID"),
    };
    const struct json_value *m[M_COUNT];
    fmt_members(r, keys, M_COUNT, m);
    struct kb_str esrc, name;
    kb_err e;
    if ((e = fmt_need_str_of(m[M_SOURCE], CT, "eventSource", &esrc, why)) ||
        (e = fmt_need_str_of(m[M_NAME], CT, "eventName", &name, why)))
        return e;
    const struct json_value *uid = m[M_UID];
    if (uid && uid->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, CT ": field 'userIdentity' is not an object");
    if ((e = FMT_JOIN(ar, &a.kind, esrc, KB_STR_LIT(":"), name)))
        return kb_fail(why, e, CT ": arena limit reached");

    /* userIdentity's members are read from the object found once above
     * rather than by a full path from the record each time. */
    const struct json_value *sctx = fmt_obj(uid, "sessionContext");
    struct kb_str issuer = fmt_str(sctx, "sessionIssuer.arn");
    a.native_id = json_str(m[M_ID]);
    a.account = json_str(m[M_ACCOUNT]);
    if (kb_str_empty(a.account))
        a.account = FMT_MEMBER(uid, "accountId");
    a.region = json_str(m[M_REGION]);
    a.actor_user = ct_actor(uid, issuer);
    a.actor_ip = json_str(m[M_IP]);
    a.resource = ct_resource(m[M_RESOURCES], m[M_REQUEST]);
    if (!fmt_time(json_str(m[M_TIME]), &a.time_ms))
        fmt_time(json_str(m[M_TIMESTAMP]), &a.time_ms);

    /* ConsoleLogin failures carry no errorCode: the response says it. */
    struct kb_str code = fmt_text(m[M_ERRCODE], &src, ar);
    bool failed = !kb_str_empty(code) ||
                  kb_str_eq(FMT_MEMBER(m[M_RESPONSE], "ConsoleLogin"), "Failure");
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
    alert_add_field(&a, "error_message", fmt_text(m[M_ERRMSG], &src, ar));
    alert_add_field(&a, "user_agent", json_str(m[M_AGENT]));
    alert_add_field(&a, "event_type", json_str(m[M_TYPE]));
    alert_add_field(&a, "principal_type", FMT_MEMBER(uid, "type"));
    alert_add_field(&a, "access_key_id", FMT_MEMBER(uid, "accessKeyId"));
    alert_add_field(&a, "session_issuer", issuer);
    alert_add_field(&a, "mfa_authenticated", fmt_str(sctx, "attributes.mfaAuthenticated"));
    if (kb_str_eq(name, "ConsoleLogin")) {
        alert_add_field(&a, "mfa", fmt_text(json_getn(m[M_EXTRA], "MFAUsed", 7), &src, ar));
        alert_add_field(&a, "console_login", FMT_MEMBER(m[M_RESPONSE], "ConsoleLogin"));
    }
    alert_add_field(&a, "read_only", fmt_text(m[M_READONLY], &src, ar));
    alert_add_field(&a, "request_id", json_str(m[M_REQID]));
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
