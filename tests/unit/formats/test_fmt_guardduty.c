/* test_fmt_guardduty.c — GuardDuty findings: the public sample findings,
 * koban's examples, the EventBridge envelope, severity bands, bad shapes. */
#include "fmt_testlib.h"

/* Every sample finding (one per line; the extraction's _panther_* keys are
 * extra members the normalizer ignores). */
struct gd_seen {
    int sev[KB_SEV_COUNT];
    int samples;
    int64_t times_known;
};

static void gd_count(void *ctx, struct kb_str raw, const struct tl_out *out)
{
    struct gd_seen *s = ctx;
    const struct alert *a = &out->al[0];
    T_EQ_INT(out->n, 1);
    s->sev[a->severity]++;
    if (kb_str_eq(alert_get(a, "sample"), "true"))
        s->samples++;
    if (a->time_ms)
        s->times_known++;
    T_CHECK(!kb_str_empty(a->account));
    T_CHECK(!kb_str_empty(a->native_severity));
    T_EQ_KSTR(alert_get(a, "count"), "1");
}

static void test_public_findings(void)
{
    T_NEED_DATA(data);
    char path[4096];
    snprintf(path, sizeof path, "%s/guardduty/panther_guardduty_findings.jsonl", data);
    struct gd_seen seen = {{0}, 0, 0};
    struct tl_check c = {"guardduty", 0, 0, 0, gd_count, &seen};
    tl_check_file(&c, path);
    T_EQ_INT(c.events, 8);
    T_EQ_INT(c.failures, 0);
    T_EQ_INT(seen.sev[KB_SEV_CRITICAL], 2);
    T_EQ_INT(seen.sev[KB_SEV_HIGH], 2);
    T_EQ_INT(seen.sev[KB_SEV_MEDIUM], 2);
    T_EQ_INT(seen.sev[KB_SEV_LOW], 2);
    T_EQ_INT(seen.samples, 4);
    T_EQ_INT(seen.times_known, 8); /* including "2025-02-25 20:40:06.721" */
}

/* Exact fields of two of the public findings. */
static void test_public_exact(void)
{
    T_NEED_DATA(data);
    char path[4096];
    snprintf(path, sizeof path, "%s/guardduty/panther_guardduty_findings.jsonl", data);
    size_t len;
    char *text = t_read_file(path, &len);
    T_CHECK(text != NULL);
    if (!text)
        return;
    /* Line 3: high severity, an API-call finding without a resource. */
    char *line = text;
    for (int i = 0; i < 2 && line; i++) {
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    T_CHECK(line != NULL);
    if (!line) {
        free(text);
        return;
    }
    char *end = strchr(line, '\n');
    struct kb_str raw = {line, end ? (size_t)(end - line) : strlen(line)};
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm(NULL, raw, &ar, &out, &why), KB_OK);
    T_EQ_INT(out.n, 1);
    const struct alert *a = &out.al[0];
    T_EQ_KSTR(a->kind, "PrivilegeEscalation:IAMUser/AdministrativePermissions");
    T_EQ_KSTR(a->native_id, "eeb88ab56556eb7771b266670dddee5a");
    T_EQ_KSTR(a->native_severity, "8");
    T_EQ_INT(a->severity, KB_SEV_HIGH);
    T_EQ_KSTR(a->account, "123456789012");
    T_EQ_KSTR(a->region, "us-east-1");
    T_EQ_KSTR(a->title, "Principal AssumedRole:IAMRole attempted to add a policy to themselves "
                        "that is highly permissive.");
    T_EQ_INT(a->time_ms, 1581703942316LL);
    T_CHECK(kb_str_empty(a->resource));
    T_CHECK(kb_str_empty(a->actor_ip));
    T_EQ_KSTR(alert_get(a, "action_type"), "AWS_API_CALL");
    T_EQ_KSTR(alert_get(a, "api"), "PutRolePolicy");
    T_CHECK(kb_str_empty(alert_get(a, "sample")));

    /* Line 1: critical attack sequence with a zone-less time. */
    arena_reset(&ar);
    end = strchr(text, '\n');
    raw = (struct kb_str){text, (size_t)(end - text)};
    T_EQ_INT(tl_norm(NULL, raw, &ar, &out, &why), KB_OK);
    a = &out.al[0];
    T_EQ_KSTR(a->kind, "AttackSequence:IAM/CompromisedCredentials");
    T_EQ_INT(a->severity, KB_SEV_CRITICAL);
    T_EQ_KSTR(a->native_severity, "9");
    T_EQ_INT(a->time_ms, 1740516006721LL);
    T_EQ_KSTR(alert_get(a, "resource_type"), "AttackSequence");
    arena_release(&ar);
    free(text);
}

static void gd_examples_more(void *ctx, struct kb_str raw, const struct tl_out *out)
{
    size_t *n = ctx;
    *n += out->n;
}

static void test_examples(void)
{
    size_t n = 0;
    struct tl_check c = {"guardduty", 0, 0, 0, gd_examples_more, &n};
    size_t files = tl_each_file(KOBAN_SOURCE_DIR "/examples/guardduty", ".json", tl_check_file, &c);
    T_CHECK(files >= 2);
    T_EQ_INT(c.failures, 0);
    T_EQ_INT(n, 5);
}

static void test_eventbridge(void)
{
    size_t len;
    char *text = t_read_file(KOBAN_SOURCE_DIR "/examples/guardduty/eventbridge-ssh-bruteforce.json",
                             &len);
    T_CHECK(text != NULL);
    if (!text)
        return;
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm(NULL, (struct kb_str){text, len}, &ar, &out, &why), KB_OK);
    T_EQ_INT(out.n, 1);
    const struct alert *a = &out.al[0];
    T_EQ_STR(a->source, "guardduty");
    T_EQ_KSTR(a->kind, "UnauthorizedAccess:EC2/SSHBruteForce");
    T_EQ_KSTR(a->native_id, "a4c9f1d27e3b4c8a9e0d5f6b7a8c9d01");
    T_EQ_KSTR(a->account, "210987654321");
    T_EQ_KSTR(a->region, "ap-northeast-1");
    T_EQ_KSTR(a->resource, "i-0c3d9e8f7a6b5c4d2");
    T_EQ_KSTR(a->actor_ip, "198.51.100.77");
    T_EQ_INT(a->severity, KB_SEV_LOW);
    T_EQ_INT(a->time_ms, 1795162222519LL);
    T_EQ_KSTR(alert_get(a, "count"), "14");
    T_EQ_KSTR(alert_get(a, "action_type"), "NETWORK_CONNECTION");
    T_CHECK(a->raw.p == text && a->raw.n == len); /* the envelope is kept */
    arena_release(&ar);
    free(text);
}

static void test_resources(void)
{
    size_t len;
    char *text = t_read_file(KOBAN_SOURCE_DIR "/examples/guardduty/findings.json", &len);
    T_CHECK(text != NULL);
    if (!text)
        return;
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct json_value *root = NULL;
    T_EQ_INT(json_parse(text, len, &tl_lim, &ar, &root, NULL), KB_OK);
    const char *want_res[] = {"i-0c3d9e8f7a6b5c4d2", "app-server-role", "acme-billing-exports",
                              "i-0e1f2a3b4c5d6e7f8"};
    const char *want_ip[] = {"198.51.100.77", "192.0.2.201", "203.0.113.9", NULL};
    const char *want_user[] = {NULL, "app-server-role", "ops-hanako", NULL};
    size_t i = 0;
    for (const struct json_value *f = root ? root->u.child : NULL; f && i < 4; f = f->next, i++) {
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm(NULL, (struct kb_str){text + f->src_off, f->src_len}, &ar, &out, &why),
                 KB_OK);
        const struct alert *a = &out.al[0];
        T_EQ_KSTR(a->resource, want_res[i]);
        if (want_ip[i])
            T_EQ_KSTR(a->actor_ip, want_ip[i]);
        else
            T_CHECK(kb_str_empty(a->actor_ip));
        if (want_user[i])
            T_EQ_KSTR(a->actor_user, want_user[i]);
        else
            T_CHECK(kb_str_empty(a->actor_user));
    }
    T_EQ_INT(i, 4);
    arena_release(&ar);
    free(text);
}

static void test_severity_bands(void)
{
    static const struct {
        const char *sev;
        int want;
    } cases[] = {{"1", KB_SEV_LOW},     {"3.9", KB_SEV_LOW},       {"4", KB_SEV_MEDIUM},
                 {"6.9", KB_SEV_MEDIUM}, {"7.0", KB_SEV_HIGH},      {"8.9", KB_SEV_HIGH},
                 {"9", KB_SEV_CRITICAL}, {"10", KB_SEV_CRITICAL},   {"\"5.5\"", KB_SEV_MEDIUM}};
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        char ev[512];
        snprintf(ev, sizeof ev,
                 "{\"schemaVersion\":\"2.0\",\"accountId\":\"1\",\"id\":\"x\",\"type\":\"T\","
                 "\"service\":{\"serviceName\":\"guardduty\"},\"severity\":%s}",
                 cases[i].sev);
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm(NULL, kb_str_c(ev), &ar, &out, &why), KB_OK);
        T_EQ_STR(out.al[0].source, "guardduty");
        T_CHECKF(out.al[0].severity == cases[i].want, "severity %s -> %d", cases[i].sev,
                 out.al[0].severity);
    }
    arena_release(&ar);
}

static void test_malformed(void)
{
    static const struct {
        const char *ev;
        const char *why;
    } cases[] = {
        {"{\"id\":\"x\",\"severity\":5,\"service\":{\"serviceName\":\"guardduty\"}}",
         "guardduty: field 'type' missing"},
        {"{\"id\":\"x\",\"type\":7,\"severity\":5}", "guardduty: field 'type' is not a string"},
        {"{\"type\":\"T\",\"severity\":5}", "guardduty: field 'id' missing"},
        {"{\"id\":\"x\",\"type\":\"T\"}", "guardduty: field 'severity' missing"},
        {"{\"id\":\"x\",\"type\":\"T\",\"severity\":\"high\"}",
         "guardduty: field 'severity' is not a number from 0 to 10"},
        {"{\"id\":\"x\",\"type\":\"T\",\"severity\":11}",
         "guardduty: field 'severity' is not a number from 0 to 10"},
        {"{\"detail-type\":\"GuardDuty Finding\",\"detail\":[1]}",
         "guardduty: field 'detail' missing or not an object"},
        {"[1,2]", "guardduty: a finding must be a JSON object"},
    };
    const struct format *gd = format_by_name("guardduty");
    T_CHECK(gd != NULL);
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; gd && i < KB_ARRAY_LEN(cases); i++) {
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm_c(gd, cases[i].ev, &ar, &out, &why), KB_EINVAL);
        T_EQ_STR(why.msg, cases[i].why);
        T_EQ_INT(out.n, 0);
    }
    /* Odd types in optional members are ignored, not fatal. */
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(gd,
                       "{\"id\":\"x\",\"type\":\"T\",\"severity\":5,\"accountId\":3,"
                       "\"resource\":{\"resourceType\":\"S3Bucket\",\"s3BucketDetails\":{}},"
                       "\"service\":{\"action\":[1],\"count\":{}},\"updatedAt\":\"nope\"}",
                       &ar, &out, &why),
             KB_OK);
    T_EQ_INT(out.n, 1);
    T_CHECK(kb_str_empty(out.al[0].account));
    T_EQ_INT(out.al[0].time_ms, 0);
    arena_release(&ar);
}

int main(void)
{
    T_RUN(test_public_findings);
    T_RUN(test_public_exact);
    T_RUN(test_examples);
    T_RUN(test_eventbridge);
    T_RUN(test_resources);
    T_RUN(test_severity_bands);
    T_RUN(test_malformed);
    return t_done();
}
