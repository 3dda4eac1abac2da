/*
 * test_policy_stock.c — the stock policies (policies/stock) on real
 * events, normalized by koban's own normalizers: GuardDuty findings get
 * AWS's severity bands (samples none), SCC severities map, the
 * `-remediated` twins close the issue of their original, INACTIVE closes,
 * wide-but-not-/0 firewall changes are high, security services stopped are
 * high, sign-ins from a country off the allow list are high, and failed
 * sign-ins escalate.
 */
#include "formats/format.h"
#include "rules/policy.h"
#include "test.h"

#include <dirent.h>

struct run {
    struct policy_set *ps;
    struct policy_state *st;
    struct policy_result r;
    char kind[256];
    int nalerts;
};

static kb_err on_alert(void *ctx, struct alert *a)
{
    struct run *run = ctx;
    run->nalerts++;
    snprintf(run->kind, sizeof run->kind, "%.*s", (int)a->kind.n, a->kind.p ? a->kind.p : "");
    return policy_eval(run->ps, a, run->st, 1767225600000, &run->r);
}

/* Normalizes one raw event (format detected unless forced) and evaluates
 * the stock policies on its one alert. */
static bool eval_raw(struct run *run, const char *fmt, const char *raw, size_t len)
{
    struct arena ar = ARENA_INIT(8 << 20);
    struct kb_why why = {{0}};
    run->nalerts = 0;
    kb_err e = format_normalize(fmt ? format_by_name(fmt) : NULL, (struct kb_str){raw, len}, false,
                                NULL, &ar, on_alert, run, &why);
    arena_release(&ar);
    T_CHECKF(e == KB_OK && run->nalerts == 1, "%s (%d alerts)", why.msg, run->nalerts);
    return e == KB_OK && run->nalerts == 1;
}

static struct policy_set *stock(void)
{
    struct policy_set *ps = NULL;
    struct kb_why why = {{0}};
    size_t n = 0;
    policy_set_new(&ps, &why);
    kb_err e = policy_load_dir(ps, KOBAN_SOURCE_DIR "/policies/stock", &n, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    for (size_t i = 0; i < policy_set_nerrors(ps); i++)
        fprintf(stderr, "    %s\n", policy_set_error(ps, i));
    return ps;
}

static void test_stock_loads(void)
{
    struct policy_set *ps = stock();
    T_EQ_INT(policy_set_nerrors(ps), 0);
    T_CHECK(policy_set_count(ps) >= 15);
    T_EQ_STR(policy_id(policy_set_at(ps, 0)), "guardduty-severity-bands");
    T_EQ_INT(policy_set_expired_mutes(ps, 1767225600000, NULL, 0), 0);
    policy_set_free(ps);
}

/* The band AWS documents for a numeric severity. */
static int aws_band(double s)
{
    return s >= 9   ? KB_SEV_CRITICAL
           : s >= 7 ? KB_SEV_HIGH
           : s >= 4 ? KB_SEV_MEDIUM
           : s >= 1 ? KB_SEV_LOW
                    : KB_SEV_NONE;
}

static void test_guardduty_bands(void)
{
    T_NEED_DATA(data);
    char path[4096];
    snprintf(path, sizeof path, "%s/guardduty/panther_guardduty_findings.jsonl", data);
    size_t len = 0;
    char *text = t_read_file(path, &len);
    T_CHECK(text != NULL);
    if (!text)
        return;
    struct run run = {.ps = stock()};
    int n = 0, samples = 0, bands[KB_SEV_COUNT] = {0};
    for (char *line = text, *end; line < text + len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end)
            end = text + len;
        if (end == line)
            continue;
        /* The expected band, from the finding itself (parsed apart). */
        struct arena ar = ARENA_INIT(8 << 20);
        struct json_value *root = NULL;
        T_CHECK(json_parse(line, (size_t)(end - line), NULL, &ar, &root, NULL) == KB_OK);
        const struct json_value *f = json_get(root, "detail") ? json_get(root, "detail") : root;
        double sev = -1;
        T_CHECK(json_as_double(json_get(f, "severity"), &sev));
        const struct json_value *smp = json_path(f, "service.additionalInfo.sample");
        bool sample = smp && smp->type == JSON_TRUE;
        struct kb_str title = json_str(json_get(f, "title"));
        sample = sample || (title.n >= 8 && memcmp(title.p, "[SAMPLE]", 8) == 0);
        arena_release(&ar);
        if (!eval_raw(&run, "guardduty", line, (size_t)(end - line)))
            continue;
        int want = sample ? KB_SEV_NONE : aws_band(sev);
        T_CHECKF(run.r.severity == want, "%s severity %g sample %d: got %s", run.kind, sev, sample,
                 kb_severity_name(run.r.severity));
        T_EQ_STR(run.r.applied[0].id, "guardduty-severity-bands");
        if (sample) {
            samples++;
            T_EQ_STR(run.r.applied[run.r.napplied - 1].id, "guardduty-sample-findings");
            T_CHECK(run.r.nannotations == 1 && run.r.annotations[0].link != NULL);
        } else {
            bands[want]++;
        }
        n++;
    }
    T_EQ_INT(n, 8);
    T_CHECK(samples >= 1);
    /* The set covers critical, high, medium and low findings. */
    T_CHECK(bands[KB_SEV_CRITICAL] && bands[KB_SEV_HIGH] && bands[KB_SEV_MEDIUM] &&
            bands[KB_SEV_LOW]);
    policy_set_free(run.ps);
    free(text);
}

static bool eval_file(struct run *run, const char *fmt, const char *path)
{
    size_t len = 0;
    char *text = t_read_file(path, &len);
    T_CHECKF(text != NULL, "%s", path);
    bool ok = text && eval_raw(run, fmt, text, len);
    free(text);
    return ok;
}

static void test_scc_samples(void)
{
    T_NEED_DATA(data);
    char dir[4096], path[8192];
    snprintf(dir, sizeof dir, "%s/scc", data);
    DIR *d = opendir(dir);
    T_CHECK(d != NULL);
    if (!d)
        return;
    struct run run = {.ps = stock()}, base = {.ps = run.ps};
    int twins = 0, pairs = 0, files = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (!eval_file(&run, "scc", path))
            continue;
        files++;
        const char *twin = strstr(de->d_name, "-remediated.json");
        if (!twin) {
            /* Sources without a severity are medium; none are muted. */
            T_CHECK(run.r.severity >= KB_SEV_LOW);
            T_CHECK(!run.r.muted);
            continue;
        }
        twins++;
        T_CHECKF(run.r.close, "%s: no close decision", de->d_name);
        T_EQ_STR(run.r.close_policy, "scc-remediated-closes");
        T_CHECK(run.r.close_reason && strstr(run.r.close_reason, "security-response-automation"));
        /* The close names the issue of the original finding, when there is one. */
        snprintf(path, sizeof path, "%s/%.*s.json", dir, (int)(twin - de->d_name), de->d_name);
        if (access(path, R_OK) != 0 || !eval_file(&base, "scc", path))
            continue;
        pairs++;
        T_CHECKF(memcmp(base.r.fp, run.r.close_fp, 16) == 0, "%s: closes %s, not %s", de->d_name,
                 run.r.close_identity, base.r.identity_text);
        T_EQ_STR(run.r.close_identity, base.r.identity_text);
    }
    closedir(d);
    T_EQ_INT(files, 22);
    T_EQ_INT(twins, 16);
    T_CHECK(pairs >= 4);
    policy_set_free(run.ps);
}

static void test_scc_severity_and_inactive(void)
{
    struct run run = {.ps = stock()}, active = {.ps = run.ps};
    T_CHECK(eval_file(&active, "scc", KOBAN_SOURCE_DIR "/examples/scc/open-firewall-active.json"));
    T_EQ_INT(active.r.severity, KB_SEV_HIGH);
    T_CHECK(!active.r.close);
    T_CHECK(eval_file(&run, "scc", KOBAN_SOURCE_DIR "/examples/scc/open-firewall-inactive.json"));
    T_CHECK(run.r.close);
    T_EQ_STR(run.r.close_policy, "scc-inactive-closes");
    T_CHECK(memcmp(run.r.close_fp, active.r.fp, 16) == 0);
    /* A finding muted in SCC is muted; no expiry. */
    static const char muted[] =
        "{\"finding\":{\"name\":\"organizations/1/sources/2/findings/3\",\"category\":"
        "\"PUBLIC_BUCKET_ACL\",\"state\":\"ACTIVE\",\"severity\":\"LOW\",\"mute\":\"MUTED\","
        "\"resourceName\":\"//storage.googleapis.com/b\"}}";
    T_CHECK(eval_raw(&run, "scc", muted, sizeof muted - 1));
    T_CHECK(run.r.muted && run.r.mute_until_ms == 0);
    T_EQ_STR(run.r.mute_policy, "scc-muted");
    T_EQ_INT(run.r.severity, KB_SEV_LOW);
    policy_set_free(run.ps);
}

/* Evaluates every element of {"Records":[...]} or a JSON array; cb sees
 * each result with the record's kind. */
static void each_record(struct run *run, const char *fmt, const char *path,
                        void (*cb)(struct run *, void *), void *ctx)
{
    size_t len = 0;
    char *text = t_read_file(path, &len);
    T_CHECKF(text != NULL, "%s", path);
    if (!text)
        return;
    struct arena ar = ARENA_INIT(16 << 20);
    struct json_value *root = NULL;
    T_CHECK(json_parse(text, len, NULL, &ar, &root, NULL) == KB_OK);
    const struct json_value *arr =
        root && root->type == JSON_OBJECT ? json_get(root, "Records") : root;
    for (const struct json_value *v = arr ? arr->u.child : NULL; v; v = v->next)
        if (eval_raw(run, fmt, text + v->src_off, v->src_len))
            cb(run, ctx);
    arena_release(&ar);
    free(text);
}

struct tally {
    int wide, stopped, other_high;
};

static void tally_cb(struct run *run, void *ctx)
{
    struct tally *t = ctx;
    for (uint32_t i = 0; i < run->r.napplied; i++) {
        if (!strncmp(run->r.applied[i].id, "firewall-wide-range-", 20))
            t->wide++;
        if (!strcmp(run->r.applied[i].id, "cloudtrail-security-service-stopped"))
            t->stopped++;
    }
    if (run->r.severity >= KB_SEV_HIGH && !strstr(run->kind, "StopLogging") &&
        !strstr(run->kind, "firewalls.insert"))
        t->other_high++;
}

static void test_firewall_and_cloudtrail_examples(void)
{
    struct run run = {.ps = stock()};
    struct tally t = {0};
    /* The GCP example opens a firewall to 32.0.0.0/3: high. */
    each_record(&run, "gcp_audit", KOBAN_SOURCE_DIR "/examples/gcp_audit/activity.json", tally_cb,
                &t);
    T_EQ_INT(t.wide, 1);
    T_EQ_INT(t.other_high, 0);
    /* The CloudTrail example opens port 22 to 0.0.0.0/0 (the provider's
     * check, not this one) and stops a trail (high). */
    memset(&t, 0, sizeof t);
    each_record(&run, "cloudtrail", KOBAN_SOURCE_DIR "/examples/cloudtrail/records.json", tally_cb,
                &t);
    T_EQ_INT(t.wide, 0);
    T_EQ_INT(t.stopped, 1);
    T_EQ_INT(t.other_high, 0);
    policy_set_free(run.ps);
}

static void test_stratus_cloudtrail(void)
{
    T_NEED_DATA(data);
    char path[4096];
    struct run run = {.ps = stock()};
    struct tally t = {0};
    snprintf(path, sizeof path, "%s/cloudtrail/stratus/aws.defense-evasion.cloudtrail-stop.json",
             data);
    each_record(&run, "cloudtrail", path, tally_cb, &t);
    T_EQ_INT(t.stopped, 1);
    T_EQ_INT(run.r.severity, KB_SEV_HIGH);
    /* "208.236.235.254/0" is the whole internet, not a wide typo. */
    memset(&t, 0, sizeof t);
    snprintf(path, sizeof path,
             "%s/cloudtrail/stratus/aws.exfiltration.ec2-security-group-open-port-22-ingress.json",
             data);
    each_record(&run, "cloudtrail", path, tally_cb, &t);
    T_EQ_INT(t.wide, 0);
    policy_set_free(run.ps);
}

static const char login_fmt[] =
    "{\"eventVersion\":\"1.08\",\"eventSource\":\"signin.amazonaws.com\",\"eventName\":"
    "\"ConsoleLogin\",\"eventTime\":\"2026-01-01T00:%02d:00Z\",\"recipientAccountId\":"
    "\"111122223333\",\"sourceIPAddress\":\"198.51.100.9\",\"userIdentity\":{\"arn\":"
    "\"arn:aws:iam::111122223333:user/alice\"},\"responseElements\":{\"ConsoleLogin\":\"%s\"}}";

struct geo {
    const char *country;
    struct policy_result r;
    struct policy_set *ps;
};

/* Stands in for the GeoIP enricher: adds actor.country, then evaluates. */
static kb_err geo_emit(void *ctx, struct alert *a)
{
    struct geo *g = ctx;
    if (g->country)
        alert_add_field(a, "actor.country", kb_str_c(g->country));
    return policy_eval(g->ps, a, NULL, 0, &g->r);
}

static int geo_severity(struct geo *g, const char *country)
{
    char raw[1024];
    int n = snprintf(raw, sizeof raw, login_fmt, 0, "Success");
    struct arena ar = ARENA_INIT(1 << 20);
    struct kb_why why = {{0}};
    g->country = country;
    T_CHECK(format_normalize(format_by_name("cloudtrail"), (struct kb_str){raw, (size_t)n}, false,
                             NULL, &ar, geo_emit, g, &why) == KB_OK);
    arena_release(&ar);
    return g->r.severity;
}

static void test_signin_country(void)
{
    struct geo g = {.ps = stock()};
    T_EQ_INT(geo_severity(&g, "JP"), KB_SEV_NONE); /* on the allow list */
    T_EQ_INT(geo_severity(&g, NULL), KB_SEV_NONE); /* no GeoIP: never matches */
    T_EQ_INT(geo_severity(&g, "RO"), KB_SEV_HIGH);
    T_EQ_STR(g.r.identity_policy, "signin-unexpected-country");
    T_CHECK(strstr(g.r.identity_text, "actor.country=RO"));
    policy_set_free(g.ps);
}

static void test_signin_failures_escalate(void)
{
    struct policy_memstate *ms = policy_memstate_new(64);
    struct policy_state st = policy_memstate_state(ms);
    struct run run = {.ps = stock(), .st = &st};
    for (int i = 1; i <= 11; i++) {
        char raw[1024];
        int n = snprintf(raw, sizeof raw, login_fmt, i, "Failure");
        if (!eval_raw(&run, "cloudtrail", raw, (size_t)n))
            break;
        T_CHECKF(run.r.severity == (i >= 10 ? KB_SEV_HIGH : KB_SEV_LOW), "failure %d: %s", i,
                 kb_severity_name(run.r.severity));
    }
    policy_memstate_free(ms);
    policy_set_free(run.ps);
}

int main(void)
{
    T_RUN(test_stock_loads);
    T_RUN(test_guardduty_bands);
    T_RUN(test_scc_samples);
    T_RUN(test_scc_severity_and_inactive);
    T_RUN(test_firewall_and_cloudtrail_examples);
    T_RUN(test_stratus_cloudtrail);
    T_RUN(test_signin_country);
    T_RUN(test_signin_failures_escalate);
    return t_done();
}
