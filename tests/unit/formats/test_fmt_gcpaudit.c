/* test_fmt_gcpaudit.c — Google Cloud audit log entries (koban's examples:
 * no public samples are stored), outcome from status, malformed entries. */
#include "fmt_testlib.h"

static void test_examples(void)
{
    struct tl_check c = {"gcp_audit", 0, 0, 0, NULL, NULL};
    size_t files = tl_each_file(KOBAN_SOURCE_DIR "/examples/gcp_audit", ".json", tl_check_file, &c);
    T_CHECK(files >= 1);
    T_EQ_INT(c.events, 5);
    T_EQ_INT(c.failures, 0);
}

struct ga_seen {
    struct alert al[8];
    size_t n;
    struct arena *ar;
};

static void ga_event(void *ctx, struct kb_str raw)
{
    struct ga_seen *s = ctx;
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm(NULL, raw, s->ar, &out, &why), KB_OK);
    if (out.n == 1 && s->n < 8)
        s->al[s->n++] = out.al[0];
}

static void test_exact(void)
{
    size_t len;
    char *t = t_read_file(KOBAN_SOURCE_DIR "/examples/gcp_audit/activity.json", &len);
    T_CHECK(t != NULL);
    if (!t)
        return;
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct ga_seen s = {.n = 0, .ar = &ar};
    tl_split(t, len, ga_event, &s);
    T_EQ_INT(s.n, 5);
    if (s.n == 5) {
        const struct alert *a = &s.al[0];
        T_EQ_STR(a->source, "gcp_audit");
        T_EQ_KSTR(a->kind, "cloudresourcemanager.googleapis.com:SetIamPolicy");
        T_EQ_KSTR(a->native_id, "1x7kq2fe3a9b1");
        T_EQ_KSTR(a->account, "shop-prod-7f3a");
        T_EQ_KSTR(a->actor_user, "contractor-ken@example.net");
        T_EQ_KSTR(a->actor_ip, "192.0.2.88");
        T_EQ_KSTR(a->resource, "projects/shop-prod-7f3a");
        T_EQ_KSTR(a->outcome, "success"); /* status {} */
        T_EQ_KSTR(a->native_severity, "NOTICE");
        T_EQ_INT(a->severity, KB_SEV_NONE);
        T_EQ_INT(a->time_ms, 1795234939551LL);
        T_EQ_KSTR(alert_get(a, "log"), "activity");
        T_EQ_KSTR(alert_get(a, "resource_type"), "project");
        T_EQ_KSTR(alert_get(a, "permission"), "resourcemanager.projects.setIamPolicy");
        T_EQ_KSTR(a->title, "cloudresourcemanager.googleapis.com:SetIamPolicy by "
                            "contractor-ken@example.net (success)");
        T_EQ_KSTR(s.al[1].outcome, "success"); /* no status at all */
        const struct alert *d = &s.al[2];
        T_EQ_KSTR(d->outcome, "failure");
        T_EQ_KSTR(d->native_severity, "ERROR");
        T_EQ_KSTR(d->region, "asia-northeast1-b");
        T_EQ_KSTR(alert_get(d, "status_code"), "7");
        T_EQ_KSTR(alert_get(d, "status_message"), "PERMISSION_DENIED");
        /* the repeated denied call: same identity */
        for (const char *const *k = d->identity; *k; k++)
            T_CHECK(kb_str_eq(alert_get(d, *k), tl_s(alert_get(&s.al[3], *k))));
        T_EQ_KSTR(s.al[4].region, "asia-northeast1");
    }
    arena_release(&ar);
    free(t);
}

/* Detection by logName alone (an entry without @type). */
static void test_detect_logname(void)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(NULL,
                       "{\"logName\":\"organizations/1/logs/cloudaudit.googleapis.com%2Fdata_access\","
                       "\"protoPayload\":{\"serviceName\":\"bigquery.googleapis.com\","
                       "\"methodName\":\"jobservice.query\",\"status\":{\"code\":\"3\"}},"
                       "\"timestamp\":\"2026-01-02T03:04:05Z\"}",
                       &ar, &out, &why),
             KB_OK);
    T_EQ_STR(out.al[0].source, "gcp_audit");
    T_EQ_KSTR(alert_get(&out.al[0], "log"), "data_access");
    T_EQ_KSTR(out.al[0].outcome, "failure");
    T_CHECK(kb_str_empty(out.al[0].actor_user));
    T_EQ_KSTR(out.al[0].title, "bigquery.googleapis.com:jobservice.query by unknown (failure)");
    arena_release(&ar);
}

static void test_malformed(void)
{
    static const struct {
        const char *ev;
        const char *why;
    } cases[] = {
        {"{\"logName\":\"x\"}", "gcp_audit: field 'protoPayload' missing"},
        {"{\"protoPayload\":\"x\"}", "gcp_audit: field 'protoPayload' is not an object"},
        {"{\"protoPayload\":{\"methodName\":\"m\"}}",
         "gcp_audit: field 'protoPayload.serviceName' missing"},
        {"{\"protoPayload\":{\"serviceName\":\"s\",\"methodName\":1}}",
         "gcp_audit: field 'protoPayload.methodName' is not a string"},
        {"[]", "gcp_audit: a log entry must be a JSON object"},
    };
    const struct format *f = format_by_name("gcp_audit");
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; f && i < KB_ARRAY_LEN(cases); i++) {
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm_c(f, cases[i].ev, &ar, &out, &why), KB_EINVAL);
        T_EQ_STR(why.msg, cases[i].why);
    }
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(f,
                       "{\"protoPayload\":{\"serviceName\":\"s\",\"methodName\":\"m\","
                       "\"status\":{\"code\":{}},\"authenticationInfo\":[]},\"resource\":5,"
                       "\"timestamp\":[]}",
                       &ar, &out, &why),
             KB_OK);
    T_EQ_KSTR(out.al[0].outcome, "failure"); /* an unreadable code is not success */
    T_CHECK(kb_str_empty(out.al[0].account));
    arena_release(&ar);
}

int main(void)
{
    T_RUN(test_examples);
    T_RUN(test_exact);
    T_RUN(test_detect_logname);
    T_RUN(test_malformed);
    return t_done();
}
