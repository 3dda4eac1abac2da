/* test_fmt_cloudtrail.c — CloudTrail records: every public record (Stratus
 * Red Team detonations as arrays, OTRF as JSON lines with @timestamp),
 * koban's {"Records":[...]} example, exact fields, malformed records. */
#include "fmt_testlib.h"

struct ct_seen {
    size_t failures, with_time, with_user, with_resource;
};

static void ct_more(void *ctx, struct kb_str raw, const struct tl_out *out)
{
    struct ct_seen *s = ctx;
    const struct alert *a = &out->al[0];
    T_EQ_INT(out->n, 1);
    T_EQ_INT(a->severity, KB_SEV_NONE);
    T_CHECK(kb_str_eq(a->outcome, "success") || kb_str_eq(a->outcome, "failure"));
    T_CHECK(!kb_str_empty(a->account));
    T_CHECK(!kb_str_empty(a->native_id));
    T_CHECK(!kb_str_empty(a->title));
    if (kb_str_eq(a->outcome, "failure"))
        s->failures++;
    if (a->time_ms)
        s->with_time++;
    if (!kb_str_empty(a->actor_user))
        s->with_user++;
    if (!kb_str_empty(a->resource))
        s->with_resource++;
}

static void test_stratus(void)
{
    T_NEED_DATA(data);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/cloudtrail/stratus", data);
    struct ct_seen seen = {0, 0, 0, 0};
    struct tl_check c = {"cloudtrail", 0, 0, 0, ct_more, &seen};
    size_t files = tl_each_file(dir, ".json", tl_check_file, &c);
    T_EQ_INT(files, 35);
    T_EQ_INT(c.events, 310);
    T_EQ_INT(c.failures, 0);
    T_EQ_INT(seen.with_time, 310);
    T_EQ_INT(seen.with_user, 310);
    T_EQ_INT(seen.failures, 52); /* the records with an errorCode */
    T_CHECK(seen.with_resource > 100);
}

static void test_otrf(void)
{
    T_NEED_DATA(data);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/cloudtrail/otrf", data);
    struct ct_seen seen = {0, 0, 0, 0};
    struct tl_check c = {"cloudtrail", 0, 0, 0, ct_more, &seen};
    tl_each_file(dir, ".json", tl_check_file, &c);
    T_EQ_INT(c.events, 103);
    T_EQ_INT(c.failures, 0);
    T_EQ_INT(seen.with_time, 103); /* from @timestamp: these have no eventTime */
}

static kb_err first_record(const char *path, char **text, struct arena *ar, struct tl_out *out,
                           struct kb_why *why)
{
    size_t len;
    *text = t_read_file(path, &len);
    out->n = 0;
    if (!*text)
        return KB_EIO;
    struct json_value *root = NULL;
    if (json_parse_prefix(*text, len, &tl_lim, ar, &root, &len, NULL) != KB_OK)
        return KB_EPARSE;
    const struct json_value *r = root->type == JSON_ARRAY ? root->u.child : root;
    return tl_norm(NULL, (struct kb_str){*text + r->src_off, r->src_len}, ar, out, why);
}

static void test_exact(void)
{
    T_NEED_DATA(data);
    char path[4096];
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    char *t = NULL;

    snprintf(path, sizeof path, "%s/cloudtrail/stratus/aws.initial-access.console-login-without-mfa.json",
             data);
    T_EQ_INT(first_record(path, &t, &ar, &out, &why), KB_OK);
    const struct alert *a = &out.al[0];
    T_EQ_KSTR(a->kind, "signin.amazonaws.com:ConsoleLogin");
    T_EQ_KSTR(a->native_id, "865d9377-9c6b-4fd7-8aad-725e95f6a140");
    T_EQ_KSTR(a->account, "562283505220");
    T_EQ_KSTR(a->region, "eu-west-2r");
    T_EQ_KSTR(a->actor_user, "arn:aws:iam::562283505220:user/stratus-red-team-nmfalu-jfzdtsvchl");
    T_EQ_KSTR(a->actor_ip, "225.01.00.16");
    T_EQ_KSTR(a->outcome, "success");
    T_EQ_INT(a->time_ms, 1722588804000LL);
    T_EQ_KSTR(alert_get(a, "mfa"), "No");
    T_EQ_KSTR(alert_get(a, "event_type"), "AwsConsoleSignIn");
    T_EQ_KSTR(alert_get(a, "principal_type"), "IAMUser");
    T_EQ_KSTR(a->title, "signin.amazonaws.com:ConsoleLogin by "
                        "arn:aws:iam::562283505220:user/stratus-red-team-nmfalu-jfzdtsvchl (success)");
    free(t);

    arena_reset(&ar);
    snprintf(path, sizeof path, "%s/cloudtrail/stratus/aws.defense-evasion.cloudtrail-stop.json",
             data);
    T_EQ_INT(first_record(path, &t, &ar, &out, &why), KB_OK);
    a = &out.al[0];
    T_EQ_KSTR(a->kind, "cloudtrail.amazonaws.com:StopLogging");
    T_EQ_KSTR(a->resource, "stratus-red-team-ct-stop-trail-buykxbqejv"); /* requestParameters.name */
    T_EQ_KSTR(a->actor_user, "arn:aws:iam::143434273843:user/christophe");
    T_EQ_KSTR(a->account, "143434273843");
    T_EQ_INT(a->time_ms, 1722431184000LL);
    T_EQ_KSTR(alert_get(a, "user_agent"), "stratus-red-team_c97089f1-1ae3-4ecc-b006-f5e8fd0f2571");
    free(t);

    arena_reset(&ar);
    snprintf(path, sizeof path, "%s/cloudtrail/otrf/ec2_proxy_s3_exfiltration_2020-09-14011940.json",
             data);
    size_t len;
    t = t_read_file(path, &len);
    T_CHECK(t != NULL);
    char *l2 = t ? strchr(t, '\n') : NULL;
    if (l2) {
        l2++;
        char *e = strchr(l2, '\n');
        T_EQ_INT(tl_norm(NULL, (struct kb_str){l2, e ? (size_t)(e - l2) : strlen(l2)}, &ar, &out,
                         &why),
                 KB_OK);
        a = &out.al[0];
        T_EQ_KSTR(a->kind, "ec2.amazonaws.com:DescribeInstances");
        T_EQ_KSTR(a->resource, "i-044b1baf4c96e1b62"); /* instancesSet.items[0] */
        T_EQ_INT(a->time_ms, 1600044264000LL);
        T_EQ_KSTR(alert_get(a, "mfa_authenticated"), "true");
    }
    free(t);
    arena_release(&ar);
}

/* koban's example: a Records file with a failed console login (no
 * errorCode: the response says Failure) and a repeated API call. */
struct ex_seen {
    struct alert al[16];
    size_t n;
    struct arena *ar;
};

static void ex_event(void *ctx, struct kb_str raw)
{
    struct ex_seen *s = ctx;
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_STR(tl_detect(raw), "cloudtrail");
    T_EQ_INT(tl_norm(NULL, raw, s->ar, &out, &why), KB_OK);
    if (out.n == 1 && s->n < 16)
        s->al[s->n++] = out.al[0];
}

static void test_example(void)
{
    size_t len;
    char *t = t_read_file(KOBAN_SOURCE_DIR "/examples/cloudtrail/records.json", &len);
    T_CHECK(t != NULL);
    if (!t)
        return;
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct ex_seen s = {.n = 0, .ar = &ar};
    T_EQ_INT(tl_split(t, len, ex_event, &s), 8);
    T_EQ_INT(s.n, 8);
    if (s.n == 8) {
        const struct alert *a = &s.al[0];
        T_EQ_KSTR(a->kind, "signin.amazonaws.com:ConsoleLogin");
        T_EQ_KSTR(a->outcome, "failure");
        T_EQ_KSTR(a->actor_user, "taro.yamada"); /* no arn: userName */
        T_EQ_KSTR(alert_get(a, "console_login"), "Failure");
        T_EQ_KSTR(alert_get(a, "error_message"), "Failed authentication");
        T_EQ_INT(a->time_ms, 1795219331000LL);
        T_EQ_KSTR(s.al[1].outcome, "success");
        T_EQ_KSTR(s.al[2].resource, "svc-backup2");
        T_EQ_KSTR(s.al[4].resource, "sg-0a9b8c7d6e5f40312");
        /* the repeated call: same identity, different eventID */
        for (const char *const *k = s.al[4].identity; *k; k++)
            T_CHECK(kb_str_eq(alert_get(&s.al[4], *k), tl_s(alert_get(&s.al[5], *k))));
        T_CHECK(!kb_str_eq(s.al[4].native_id, tl_s(s.al[5].native_id)));
        T_EQ_KSTR(s.al[6].outcome, "failure");
        T_EQ_KSTR(alert_get(&s.al[6], "error_code"), "AccessDenied");
        T_EQ_KSTR(s.al[6].title, "cloudtrail.amazonaws.com:StopLogging by "
                                 "arn:aws:iam::210987654321:user/taro.yamada (failure: AccessDenied)");
        T_EQ_KSTR(s.al[7].resource, "arn:aws:s3:::shop-static-assets"); /* resources[0] */
        T_EQ_KSTR(s.al[7].actor_user, "arn:aws:sts::210987654321:assumed-role/ci-deploy/deploy");
    }
    arena_release(&ar);
    free(t);
}

static void test_eventbridge(void)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(NULL,
                       "{\"version\":\"0\",\"detail-type\":\"AWS API Call via CloudTrail\","
                       "\"source\":\"aws.iam\",\"detail\":{\"eventVersion\":\"1.08\","
                       "\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"DeleteRole\","
                       "\"recipientAccountId\":\"1\",\"requestParameters\":{\"roleName\":\"r\"}}}",
                       &ar, &out, &why),
             KB_OK);
    T_EQ_STR(out.al[0].source, "cloudtrail");
    T_EQ_KSTR(out.al[0].kind, "iam.amazonaws.com:DeleteRole");
    T_EQ_KSTR(out.al[0].resource, "r");
    T_EQ_KSTR(out.al[0].title, "iam.amazonaws.com:DeleteRole by unknown (success)");
    arena_release(&ar);
}

static void test_malformed(void)
{
    static const struct {
        const char *ev;
        const char *why;
    } cases[] = {
        {"{\"eventVersion\":\"1.08\",\"eventName\":\"X\"}", "cloudtrail: field 'eventSource' missing"},
        {"{\"eventVersion\":\"1.08\",\"eventSource\":\"s\",\"eventName\":{}}",
         "cloudtrail: field 'eventName' is not a string"},
        {"{\"eventSource\":\"s\",\"eventName\":\"n\",\"userIdentity\":\"root\"}",
         "cloudtrail: field 'userIdentity' is not an object"},
        {"{\"Records\":[]}",
         "cloudtrail: a {\"Records\":[...]} file holds many records; send it as a payload so it "
         "is split"},
        {"17", "cloudtrail: a record must be a JSON object"},
    };
    const struct format *f = format_by_name("cloudtrail");
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; f && i < KB_ARRAY_LEN(cases); i++) {
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm_c(f, cases[i].ev, &ar, &out, &why), KB_EINVAL);
        T_EQ_STR(why.msg, cases[i].why);
    }
    /* Odd optional types: ignored. */
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(f,
                       "{\"eventVersion\":1,\"eventSource\":\"s\",\"eventName\":\"n\","
                       "\"errorCode\":403,\"resources\":{\"ARN\":1},\"eventTime\":5,"
                       "\"requestParameters\":[\"x\"],\"sourceIPAddress\":[]}",
                       &ar, &out, &why),
             KB_OK);
    T_EQ_KSTR(out.al[0].outcome, "failure");
    T_EQ_KSTR(alert_get(&out.al[0], "error_code"), "403");
    T_CHECK(kb_str_empty(out.al[0].resource));
    arena_release(&ar);
}

int main(void)
{
    T_RUN(test_stratus);
    T_RUN(test_otrf);
    T_RUN(test_exact);
    T_RUN(test_example);
    T_RUN(test_eventbridge);
    T_RUN(test_malformed);
    return t_done();
}
