/* test_fmt_scc.c — Security Command Center notifications: the 22 public
 * samples (v1, the "-remediated" twins, one Event Threat Detection log
 * entry), koban's v1/v2 examples, severity and malformed shapes. */
#include "fmt_testlib.h"

static kb_err scc_file(const char *dir, const char *name, char **text, struct arena *ar,
                       struct tl_out *out, struct kb_why *why)
{
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *text = t_read_file(path, &len);
    out->n = 0;
    if (!*text)
        return KB_EIO;
    return tl_norm(NULL, (struct kb_str){*text, len}, ar, out, why);
}

static void test_public_all(void)
{
    T_NEED_DATA(data);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/scc", data);
    struct tl_check c = {"scc", 0, 0, 0, NULL, NULL};
    size_t files = tl_each_file(dir, ".json", tl_check_file, &c);
    T_EQ_INT(files, 22); /* the folder's 23rd file is its LICENSE */
    T_EQ_INT(c.events, 22);
    T_EQ_INT(c.alerts, 22);
    T_EQ_INT(c.failures, 0);
}

/* A "-remediated" file is the same finding after security-response-
 * automation acted on it: it must land on the same issue. In these samples
 * the state stays ACTIVE (the remediation is recorded as a security mark,
 * "sra-remediated-event-time"), so the state is compared, not assumed. */
static void test_public_twins(void)
{
    T_NEED_DATA(data);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/scc", data);
    static const char *const twins[] = {"audit_logging_disabled", "bad_ip_scc",
                                        "non_org_iam_member", "public_bucket_acl",
                                        "public_dataset"};
    for (size_t i = 0; i < KB_ARRAY_LEN(twins); i++) {
        char n1[256], n2[256];
        snprintf(n1, sizeof n1, "%s.json", twins[i]);
        snprintf(n2, sizeof n2, "%s-remediated.json", twins[i]);
        struct arena ar = ARENA_INIT(TL_ARENA);
        struct tl_out o1, o2;
        struct kb_why why = {{0}};
        char *t1 = NULL, *t2 = NULL;
        T_EQ_INT(scc_file(dir, n1, &t1, &ar, &o1, &why), KB_OK);
        T_EQ_INT(scc_file(dir, n2, &t2, &ar, &o2, &why), KB_OK);
        if (o1.n == 1 && o2.n == 1) {
            const struct alert *a = &o1.al[0], *b = &o2.al[0];
            for (const char *const *k = a->identity; *k; k++) {
                struct kb_str x = alert_get(a, *k), y = alert_get(b, *k);
                T_CHECKF(x.n == y.n && (x.n == 0 || memcmp(x.p, y.p, x.n) == 0),
                         "%s: identity field %s differs", twins[i], *k);
                T_CHECKF(!kb_str_empty(x), "%s: identity field %s empty", twins[i], *k);
            }
            T_CHECK(kb_str_eq(a->native_id, tl_s(b->native_id)));
            T_EQ_KSTR(a->state, "ACTIVE");
            T_EQ_KSTR(b->state, "ACTIVE");
            T_CHECK(!kb_str_empty(alert_get(b, "mark.sra-remediated-event-time")));
        }
        free(t1);
        free(t2);
        arena_release(&ar);
    }
}

static void test_public_exact(void)
{
    T_NEED_DATA(data);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/scc", data);
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    char *t = NULL;

    /* Newer v1 shape: severity, mute, the resource inside the finding. */
    T_EQ_INT(scc_file(dir, "open_firewall-remediated.json", &t, &ar, &out, &why), KB_OK);
    const struct alert *a = &out.al[0];
    T_EQ_KSTR(a->kind, "OPEN_FIREWALL");
    T_EQ_KSTR(a->native_id,
              "organizations/0000000000/sources/0000000/findings/2087237f91e4904e344a624c98e52ae6");
    T_EQ_KSTR(a->native_severity, "HIGH");
    T_EQ_INT(a->severity, KB_SEV_HIGH);
    T_EQ_KSTR(a->state, "ACTIVE");
    T_EQ_KSTR(a->resource,
              "//compute.googleapis.com/projects/test-project/global/firewalls/4695668982209007936");
    T_EQ_KSTR(a->account, "test-project");
    T_EQ_INT(a->time_ms, 1622559453426LL);
    T_EQ_KSTR(a->title, "OPEN_FIREWALL on open-cassandra-port-tcp-7199");
    T_EQ_KSTR(alert_get(a, "mute"), "UNDEFINED");
    T_EQ_KSTR(alert_get(a, "finding_class"), "MISCONFIGURATION");
    T_EQ_KSTR(alert_get(a, "mark.sra-remediated-event-time"), "2021-06-01T14:57:33.426Z");
    free(t);

    /* Older v1 shape: no severity (-> medium), project from the scanner. */
    arena_reset(&ar);
    T_EQ_INT(scc_file(dir, "audit_logging_disabled.json", &t, &ar, &out, &why), KB_OK);
    a = &out.al[0];
    T_EQ_KSTR(a->kind, "AUDIT_LOGGING_DISABLED");
    T_CHECK(kb_str_empty(a->native_severity));
    T_EQ_INT(a->severity, KB_SEV_MEDIUM);
    T_EQ_KSTR(a->account, "test-project");
    T_EQ_KSTR(a->resource, "//cloudresourcemanager.googleapis.com/projects/108906606255");
    T_EQ_INT(a->time_ms, 1571778068832LL);
    T_EQ_KSTR(alert_get(a, "scanner"), "LOGGING_SCANNER");
    free(t);

    /* Event Threat Detection's own log entry. */
    arena_reset(&ar);
    T_EQ_INT(scc_file(dir, "bad_ip.json", &t, &ar, &out, &why), KB_OK);
    a = &out.al[0];
    T_EQ_KSTR(a->kind, "bad_ip");
    T_EQ_KSTR(a->account, "test-project");
    T_EQ_KSTR(a->resource, "/projects/test-project/zones/zone-name/instances/source-instance-name");
    free(t);
    arena_release(&ar);
}

static void test_examples(void)
{
    struct tl_check c = {"scc", 0, 0, 0, NULL, NULL};
    size_t files = tl_each_file(KOBAN_SOURCE_DIR "/examples/scc", ".json", tl_check_file, &c);
    T_CHECK(files >= 4);
    T_EQ_INT(c.failures, 0);
    T_EQ_INT(c.alerts, files);

    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out o1, o2;
    struct kb_why why = {{0}};
    char *t1 = NULL, *t2 = NULL;
    T_EQ_INT(scc_file(KOBAN_SOURCE_DIR "/examples/scc", "open-firewall-active.json", &t1, &ar, &o1,
                      &why),
             KB_OK);
    T_EQ_INT(scc_file(KOBAN_SOURCE_DIR "/examples/scc", "open-firewall-inactive.json", &t2, &ar,
                      &o2, &why),
             KB_OK);
    if (o1.n == 1 && o2.n == 1) {
        T_EQ_KSTR(o1.al[0].state, "ACTIVE");
        T_EQ_KSTR(o2.al[0].state, "INACTIVE");
        T_EQ_KSTR(o2.al[0].account, "shop-prod-7f3a");
        T_EQ_KSTR(o2.al[0].title, "OPEN_FIREWALL on allow-admin-wide");
        T_EQ_KSTR(alert_get(&o2.al[0], "mute"), "UNMUTED");
        for (const char *const *k = o1.al[0].identity; *k; k++)
            T_CHECK(kb_str_eq(alert_get(&o1.al[0], *k), tl_s(alert_get(&o2.al[0], *k))));
    }
    free(t1);
    free(t2);
    arena_release(&ar);
}

/* A v2 notification: locations/ in the name, gcpMetadata, access. */
static void test_v2(void)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    char *t = NULL;
    T_EQ_INT(scc_file(KOBAN_SOURCE_DIR "/examples/scc", "iam-anomalous-grant-v2.json", &t, &ar,
                      &out, &why),
             KB_OK);
    const struct alert *a = &out.al[0];
    T_EQ_KSTR(a->kind, "Persistence: IAM Anomalous Grant");
    T_EQ_INT(a->severity, KB_SEV_HIGH);
    T_EQ_KSTR(a->account, "shop-prod-7f3a");
    T_EQ_KSTR(a->region, "global");
    T_EQ_KSTR(a->actor_user, "contractor-ken@example.net");
    T_EQ_KSTR(a->actor_ip, "192.0.2.88");
    T_EQ_KSTR(a->resource, "//cloudresourcemanager.googleapis.com/projects/593027118834");
    T_EQ_INT(a->time_ms, 1795234939551LL);
    T_EQ_KSTR(a->description, "An external member was granted roles/owner on project shop-prod-7f3a.");
    T_EQ_KSTR(alert_get(a, "finding_class"), "THREAT");
    free(t);

    /* v2 without a display name: the project comes from gcpMetadata.project. */
    arena_reset(&ar);
    T_EQ_INT(tl_norm_c(NULL,
                       "{\"finding\":{\"name\":\"organizations/1/sources/2/locations/global/"
                       "findings/3\",\"category\":\"OPEN_SSH_PORT\",\"state\":\"ACTIVE\","
                       "\"severity\":\"CRITICAL\",\"resourceName\":\"//compute.googleapis.com/"
                       "projects/p-1/global/firewalls/9\"},\"resource\":{\"gcpMetadata\":"
                       "{\"project\":\"//cloudresourcemanager.googleapis.com/projects/p-1\"}}}",
                       &ar, &out, &why),
             KB_OK);
    T_EQ_STR(out.al[0].source, "scc");
    T_EQ_INT(out.al[0].severity, KB_SEV_CRITICAL);
    T_EQ_KSTR(out.al[0].account, "p-1");
    arena_release(&ar);
}

static void test_severity(void)
{
    static const struct {
        const char *sev;
        int want;
    } cases[] = {{"\"CRITICAL\"", KB_SEV_CRITICAL}, {"\"HIGH\"", KB_SEV_HIGH},
                 {"\"MEDIUM\"", KB_SEV_MEDIUM},     {"\"LOW\"", KB_SEV_LOW},
                 {"\"SEVERITY_UNSPECIFIED\"", KB_SEV_MEDIUM}, {"null", KB_SEV_MEDIUM},
                 {"3", KB_SEV_MEDIUM}};
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        char ev[512];
        snprintf(ev, sizeof ev,
                 "{\"finding\":{\"name\":\"organizations/1/sources/2/findings/3\","
                 "\"category\":\"C\",\"state\":\"ACTIVE\",\"severity\":%s}}",
                 cases[i].sev);
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm(NULL, kb_str_c(ev), &ar, &out, &why), KB_OK);
        T_EQ_STR(out.al[0].source, "scc");
        T_CHECKF(out.al[0].severity == cases[i].want, "%s -> %d", cases[i].sev,
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
        {"{\"notificationConfigName\":\"x\"}", "scc: field 'finding' missing"},
        {"{\"finding\":\"x\"}", "scc: field 'finding' is not an object"},
        {"{\"finding\":{\"category\":\"C\"}}", "scc: field 'finding.name' missing"},
        {"{\"finding\":{\"name\":\"n\",\"category\":[]}}",
         "scc: field 'finding.category' is not a string"},
        {"{\"finding\":{\"name\":\"\",\"category\":\"C\"}}", "scc: field 'finding.name' is empty"},
        {"{\"logName\":\"projects/p/logs/threatdetection.googleapis.com%2Fdetection\","
         "\"jsonPayload\":{\"detectionCategory\":{\"ruleName\":5}}}",
         "scc: field 'jsonPayload.detectionCategory.ruleName' is not a string"},
        {"\"finding\"", "scc: a notification must be a JSON object"},
    };
    const struct format *f = format_by_name("scc");
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; f && i < KB_ARRAY_LEN(cases); i++) {
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm_c(f, cases[i].ev, &ar, &out, &why), KB_EINVAL);
        T_EQ_STR(why.msg, cases[i].why);
    }
    /* Wrong types in optional members are ignored. */
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(f,
                       "{\"finding\":{\"name\":\"n/sources/1\",\"category\":\"C\",\"state\":1,"
                       "\"access\":[],\"securityMarks\":{\"marks\":{\"a\":1,\"b\":\"x\"}},"
                       "\"resource\":7},\"resource\":\"r\"}",
                       &ar, &out, &why),
             KB_OK);
    T_CHECK(kb_str_empty(out.al[0].state));
    T_EQ_KSTR(alert_get(&out.al[0], "mark.b"), "x");
    T_CHECK(kb_str_empty(alert_get(&out.al[0], "mark.a")));
    arena_release(&ar);
}

int main(void)
{
    T_RUN(test_public_all);
    T_RUN(test_public_twins);
    T_RUN(test_public_exact);
    T_RUN(test_examples);
    T_RUN(test_v2);
    T_RUN(test_severity);
    T_RUN(test_malformed);
    return t_done();
}
