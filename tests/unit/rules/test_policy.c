/*
 * test_policy.c — each policy action on hand-made alerts: severity set,
 * raise/lower, map and bands; first_only; escalate; enrichment fields;
 * mute and its expiry; close; annotations and labels; identity; the cidr
 * condition; raw.* fields; and load errors.
 */
#include "lib/timeutil.h"
#include "rules/policy.h"
#include "test.h"

static const char *const default_id[] = {"account", "kind", "resource", NULL};

struct fixture {
    struct arena ar;
    struct alert a;
};

/* An alert of `source` with kind and (optionally) the raw JSON event. */
static void mk(struct fixture *f, const char *source, const char *kind, const char *raw)
{
    arena_init(&f->ar, 1 << 20);
    alert_init(&f->a, source, default_id);
    f->a.kind = kb_str_c(kind);
    f->a.account = KB_STR_LIT("111122223333");
    f->a.resource = KB_STR_LIT("i-0abc");
    f->a.time_ms = 1767225600000; /* 2026-01-01T00:00:00Z */
    if (raw) {
        struct json_value *root = NULL;
        T_CHECK(json_parse(raw, strlen(raw), NULL, &f->ar, &root, NULL) == KB_OK);
        f->a.raw = kb_str_c(raw);
        f->a.json = root;
    }
}

static void done(struct fixture *f)
{
    arena_release(&f->ar);
}

static struct policy_set *load(const char *yaml)
{
    struct policy_set *ps = NULL;
    struct kb_why why = {{0}};
    T_CHECK(policy_set_new(&ps, &why) == KB_OK);
    kb_err e = policy_load_buffer(ps, yaml, strlen(yaml), "t.yml", NULL, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    return ps;
}

/* The load error of yaml ("" when it loaded). */
static const char *load_error(const char *yaml, char *out, size_t n)
{
    struct policy_set *ps = NULL;
    struct kb_why why = {{0}};
    out[0] = '\0';
    policy_set_new(&ps, &why);
    if (policy_load_buffer(ps, yaml, strlen(yaml), "t.yml", NULL, &why) != KB_OK)
        snprintf(out, n, "%s", why.msg);
    policy_set_free(ps);
    return out;
}

static int eval_sev(struct policy_set *ps, const struct alert *a)
{
    struct policy_result r;
    T_CHECK(policy_eval(ps, a, NULL, 0, &r) == KB_OK);
    return r.severity;
}

static void test_set_and_select(void)
{
    struct policy_set *ps = load("id: p1\n"
                                 "detection:\n  sel:\n    kind: Recon:EC2/PortProbe\n"
                                 "  condition: sel\n"
                                 "severity: critical\n");
    struct fixture f, g;
    mk(&f, "guardduty", "Recon:EC2/PortProbe", NULL);
    mk(&g, "guardduty", "Other", NULL);
    f.a.severity = g.a.severity = KB_SEV_LOW;
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_CRITICAL);
    T_EQ_INT(eval_sev(ps, &g.a), KB_SEV_LOW);
    done(&f);
    done(&g);
    policy_set_free(ps);
}

static void test_raise_lower_clamp(void)
{
    struct policy_set *up = load("id: up\nseverity: {raise: 2}\n");
    struct policy_set *down = load("id: down\nseverity: {lower: 3}\n");
    struct fixture f;
    mk(&f, "scc", "X", NULL);
    f.a.severity = KB_SEV_MEDIUM;
    T_EQ_INT(eval_sev(up, &f.a), KB_SEV_CRITICAL);
    T_EQ_INT(eval_sev(down, &f.a), KB_SEV_NONE);
    f.a.severity = KB_SEV_HIGH;
    T_EQ_INT(eval_sev(up, &f.a), KB_SEV_CRITICAL); /* clamped */
    T_EQ_INT(eval_sev(down, &f.a), KB_SEV_NONE);
    f.a.severity = KB_SEV_LOW;
    T_EQ_INT(eval_sev(up, &f.a), KB_SEV_HIGH);
    done(&f);
    policy_set_free(up);
    policy_set_free(down);
}

static void test_map(void)
{
    struct policy_set *ps = load("id: m\nsource: scc\n"
                                 "severity:\n  from: native_severity\n"
                                 "  map: {CRITICAL: critical, HIGH: high, LOW: low}\n"
                                 "  default: medium\n"
                                 "---\nid: nodef\nsource: alertmanager\n"
                                 "severity: {from: state, map: {resolved: none}}\n");
    struct fixture f;
    mk(&f, "scc", "X", NULL);
    f.a.severity = KB_SEV_NONE;
    f.a.native_severity = KB_STR_LIT("high"); /* case-insensitive */
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_HIGH);
    f.a.native_severity = KB_STR_LIT("CRITICAL");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_CRITICAL);
    f.a.native_severity = KB_STR_LIT("SEVERITY_UNSPECIFIED");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_MEDIUM); /* default */
    f.a.native_severity = KB_STR_NULL;
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_MEDIUM); /* absent: default */
    f.a.source = "alertmanager";
    f.a.severity = KB_SEV_HIGH;
    f.a.state = KB_STR_LIT("firing");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_HIGH); /* no row, no default: unchanged */
    f.a.state = KB_STR_LIT("resolved");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_NONE);
    done(&f);
    policy_set_free(ps);
}

static void test_bands(void)
{
    struct policy_set *ps = load("id: b\nsource: guardduty\n"
                                 "severity:\n  from: native_severity\n  bands:\n"
                                 "    - {min: 9, severity: critical}\n"
                                 "    - {min: 7, max: 9, severity: high}\n"
                                 "    - {min: 4, max: 7, severity: medium}\n"
                                 "    - {min: 1, max: 4, severity: low}\n"
                                 "  default: none\n"
                                 "---\nid: raw-bands\nsource: generic\n"
                                 "severity: {from: raw.detail.score, bands: [{max: 50, severity: "
                                 "low}, {min: 50, severity: high}]}\n");
    static const struct {
        const char *v;
        int sev;
    } cases[] = {{"0", KB_SEV_NONE},     {"0.5", KB_SEV_NONE},      {"1", KB_SEV_LOW},
                 {"3.9", KB_SEV_LOW},    {"4.0", KB_SEV_MEDIUM},    {"6.95", KB_SEV_MEDIUM},
                 {"7", KB_SEV_HIGH},     {"8.9", KB_SEV_HIGH},      {"8.95", KB_SEV_HIGH},
                 {"9", KB_SEV_CRITICAL}, {"10.0", KB_SEV_CRITICAL}, {"n/a", KB_SEV_NONE}};
    struct fixture f;
    mk(&f, "guardduty", "X", NULL);
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        f.a.severity = KB_SEV_MEDIUM;
        f.a.native_severity = kb_str_c(cases[i].v);
        T_CHECKF(eval_sev(ps, &f.a) == cases[i].sev, "value %s", cases[i].v);
    }
    done(&f);
    /* A number inside the raw event (read as a JSON number). */
    mk(&f, "generic", "X", "{\"detail\":{\"score\":72}}");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_HIGH);
    done(&f);
    mk(&f, "generic", "X", "{\"detail\":{\"score\":49.5}}");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_LOW);
    done(&f);
    policy_set_free(ps);
}

static void test_first_only(void)
{
    struct policy_set *ps = load("id: f\nseverity: high\nfirst_only: low\n");
    struct policy_memstate *ms = policy_memstate_new(64);
    struct policy_state st = policy_memstate_state(ms);
    struct fixture f;
    mk(&f, "guardduty", "Recon:EC2/PortProbe", NULL);
    struct policy_result r;
    T_CHECK(policy_eval(ps, &f.a, &st, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_HIGH);
    T_CHECK(r.state_used && r.prior == 0);
    T_CHECK(policy_eval(ps, &f.a, &st, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_LOW);
    T_EQ_INT(r.prior, 1);
    /* Another identity is a first occurrence of its own. */
    f.a.resource = KB_STR_LIT("i-other");
    T_CHECK(policy_eval(ps, &f.a, &st, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_HIGH);
    /* Without state every alert is a first occurrence. */
    T_CHECK(policy_eval(ps, &f.a, NULL, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_HIGH);
    T_CHECK(!r.state_used);
    done(&f);
    policy_set_free(ps);
    /* first_only never raises: a repeat already below stays there. */
    ps = load("id: f2\nfirst_only: medium\n");
    mk(&f, "scc", "X", NULL);
    f.a.severity = KB_SEV_LOW;
    T_CHECK(policy_eval(ps, &f.a, &st, 0, &r) == KB_OK);
    T_CHECK(policy_eval(ps, &f.a, &st, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_LOW);
    done(&f);
    policy_set_free(ps);
    policy_memstate_free(ms);
}

static void test_escalate_window(void)
{
    struct policy_set *ps = load("id: e\nseverity: medium\n"
                                 "escalate: {after: 3, within: 1h, severity: high}\n");
    struct policy_memstate *ms = policy_memstate_new(64);
    struct policy_state st = policy_memstate_state(ms);
    struct fixture f;
    mk(&f, "syslog", "sshd:failed_password", NULL);
    int64_t t0 = f.a.time_ms;
    static const struct {
        int64_t dt;
        int sev;
    } steps[] = {
        {0, KB_SEV_MEDIUM},
        {60000, KB_SEV_MEDIUM},
        {120000, KB_SEV_HIGH},
        {180000, KB_SEV_HIGH},         /* 4 within the hour */
        {10 * 3600000, KB_SEV_MEDIUM}, /* the window moved on: 1 */
        {10 * 3600000 + 1000, KB_SEV_MEDIUM},
        {10 * 3600000 + 2000, KB_SEV_HIGH},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(steps); i++) {
        struct policy_result r;
        f.a.time_ms = t0 + steps[i].dt;
        T_CHECK(policy_eval(ps, &f.a, &st, 0, &r) == KB_OK);
        T_CHECKF(r.severity == steps[i].sev, "step %zu: %s", i, kb_severity_name(r.severity));
    }
    done(&f);
    policy_set_free(ps);
    policy_memstate_free(ms);
}

static void test_escalate_cumulative(void)
{
    struct policy_set *ps = load("id: c\nescalate: {after: 5, severity: {raise: 2}}\n");
    struct policy_memstate *ms = policy_memstate_new(64);
    struct policy_state st = policy_memstate_state(ms);
    struct fixture f;
    mk(&f, "guardduty", "X", NULL);
    for (int i = 1; i <= 7; i++) {
        struct policy_result r;
        f.a.severity = KB_SEV_LOW;
        f.a.time_ms += 30LL * 86400000; /* a month apart: no window */
        T_CHECK(policy_eval(ps, &f.a, &st, 0, &r) == KB_OK);
        T_CHECKF(r.severity == (i >= 5 ? KB_SEV_HIGH : KB_SEV_LOW), "occurrence %d", i);
    }
    done(&f);
    policy_set_free(ps);
    policy_memstate_free(ms);
}

static void test_enrichment_field(void)
{
    struct policy_set *ps = load("id: x\ndetection:\n  sel: {exposure: internet}\n"
                                 "  condition: sel\nseverity: {raise: 1}\n");
    struct fixture f;
    mk(&f, "scc", "PUBLIC_IP_ADDRESS", NULL);
    f.a.severity = KB_SEV_MEDIUM;
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_MEDIUM); /* not enriched */
    T_CHECK(alert_add_field(&f.a, "exposure", KB_STR_LIT("internet")) == KB_OK);
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_HIGH);
    done(&f);
    policy_set_free(ps);
}

static void test_mute_expiry(void)
{
    struct policy_set *ps = load("id: m1\ndetection: {sel: {kind: A}, condition: sel}\n"
                                 "mute: {reason: accepted risk (TICKET-1), until: 2026-12-31}\n"
                                 "---\nid: forever\ndetection: {sel: {kind: B}, condition: sel}\n"
                                 "mute: {reason: lab account}\n");
    int64_t late_dec = 0, jan = 0;
    kb_time_parse_rfc3339(KB_STR_LIT("2026-12-31T23:59:59Z"), &late_dec);
    kb_time_parse_rfc3339(KB_STR_LIT("2027-01-01T00:00:00Z"), &jan);
    struct fixture f;
    mk(&f, "scc", "A", NULL);
    struct policy_result r;
    T_CHECK(policy_eval(ps, &f.a, NULL, late_dec, &r) == KB_OK);
    T_CHECK(r.muted);
    T_EQ_STR(r.mute_reason, "accepted risk (TICKET-1)");
    T_EQ_INT(r.mute_until_ms, jan);
    T_EQ_STR(r.mute_policy, "m1");
    T_CHECK(r.expired_mute_policy == NULL);
    T_EQ_INT(policy_set_expired_mutes(ps, late_dec, NULL, 0), 0);
    /* From the next day on the mute no longer applies, and is reported. */
    T_CHECK(policy_eval(ps, &f.a, NULL, jan, &r) == KB_OK);
    T_CHECK(!r.muted);
    T_EQ_STR(r.expired_mute_policy, "m1");
    const struct policy *exp[4];
    T_EQ_INT(policy_set_expired_mutes(ps, jan, exp, 4), 1);
    T_EQ_STR(policy_id(exp[0]), "m1");
    /* A mute without until never expires. */
    f.a.kind = KB_STR_LIT("B");
    T_CHECK(policy_eval(ps, &f.a, NULL, jan + 1000LL * 86400000, &r) == KB_OK);
    T_CHECK(r.muted && r.mute_until_ms == 0);
    done(&f);
    policy_set_free(ps);
}

static void test_close(void)
{
    struct policy_set *ps = load("id: c\ndetection: {sel: {state: INACTIVE}, condition: sel}\n"
                                 "close: {reason: fixed}\n"
                                 "---\nid: c2\ndetection: {sel: {kind: Delete}, condition: sel}\n"
                                 "close: {reason: deleted, identity: [account, resource]}\n");
    struct fixture f;
    mk(&f, "scc", "OPEN_FIREWALL", NULL);
    struct policy_result r;
    uint8_t fp[16];
    T_CHECK(policy_eval(ps, &f.a, NULL, 0, &r) == KB_OK);
    T_CHECK(!r.close);
    memcpy(fp, r.fp, 16);
    f.a.state = KB_STR_LIT("INACTIVE");
    T_CHECK(policy_eval(ps, &f.a, NULL, 0, &r) == KB_OK);
    T_CHECK(r.close);
    T_EQ_STR(r.close_reason, "fixed");
    T_EQ_STR(r.close_policy, "c");
    T_CHECK(memcmp(r.close_fp, fp, 16) == 0); /* the ACTIVE finding's issue */
    T_EQ_STR(r.close_identity, "account=111122223333 kind=OPEN_FIREWALL resource=i-0abc");
    /* A close with its own identity names another issue. */
    f.a.state = KB_STR_NULL;
    f.a.kind = KB_STR_LIT("Delete");
    T_CHECK(policy_eval(ps, &f.a, NULL, 0, &r) == KB_OK);
    static const char *const ar[] = {"account", "resource", NULL};
    policy_fingerprint(&f.a, ar, fp, NULL, 0);
    T_CHECK(r.close && memcmp(r.close_fp, fp, 16) == 0);
    T_EQ_STR(r.close_identity, "account=111122223333 resource=i-0abc");
    done(&f);
    policy_set_free(ps);
}

static void test_annotations_labels(void)
{
    struct policy_set *ps = load("id: a\nlabels: {team: secops, project: shop}\n"
                                 "annotations:\n  - first note\n"
                                 "  - {text: runbook, link: 'https://runbooks.example/x'}\n"
                                 "---\nid: b\nlabels: {team: platform}\nannotations: [second]\n");
    struct fixture f;
    mk(&f, "scc", "X", NULL);
    struct policy_result r;
    T_CHECK(policy_eval(ps, &f.a, NULL, 0, &r) == KB_OK);
    T_EQ_INT(r.nannotations, 3);
    T_EQ_STR(r.annotations[0].text, "first note");
    T_CHECK(r.annotations[0].link == NULL);
    T_EQ_STR(r.annotations[1].link, "https://runbooks.example/x");
    T_EQ_STR(r.annotations[2].policy, "b");
    T_EQ_INT(r.nlabels, 2);
    T_EQ_STR(r.labels[0].key, "team");
    T_EQ_STR(r.labels[0].value, "platform"); /* the later policy wins */
    T_EQ_STR(r.labels[0].policy, "b");
    T_EQ_STR(r.labels[1].value, "shop");
    done(&f);
    policy_set_free(ps);
}

static void test_identity(void)
{
    struct policy_set *ps = load("id: i\ndetection: {sel: {kind: A}, condition: sel}\n"
                                 "identity: [account, kind]\n");
    struct fixture f;
    mk(&f, "scc", "A", NULL);
    struct policy_result r1, r2;
    T_CHECK(policy_eval(ps, &f.a, NULL, 0, &r1) == KB_OK);
    f.a.resource = KB_STR_LIT("i-elsewhere");
    T_CHECK(policy_eval(ps, &f.a, NULL, 0, &r2) == KB_OK);
    T_CHECK(memcmp(r1.fp, r2.fp, 16) == 0); /* resource is not part of it */
    T_EQ_STR(r1.identity_policy, "i");
    T_EQ_STR(r1.identity[1], "kind");
    T_EQ_STR(r2.identity_text, "account=111122223333 kind=A");
    /* Not matched: the alert's own identity (resource counts). */
    f.a.kind = KB_STR_LIT("B");
    T_CHECK(policy_eval(ps, &f.a, NULL, 0, &r1) == KB_OK);
    T_CHECK(r1.identity == f.a.identity && r1.identity_policy == NULL);
    uint8_t fp[16];
    policy_fingerprint(&f.a, default_id, fp, NULL, 0);
    T_CHECK(memcmp(r1.fp, fp, 16) == 0);
    /* The source is part of the fingerprint. */
    f.a.source = "guardduty";
    policy_fingerprint(&f.a, default_id, fp, NULL, 0);
    T_CHECK(memcmp(r1.fp, fp, 16) != 0);
    done(&f);
    policy_set_free(ps);
}

static void test_cidr(void)
{
    struct policy_set *ps = load("id: wide\ncidr:\n  field:\n    - raw.cidrIp\n"
                                 "    - raw.perms.items.ranges.items.cidr\n"
                                 "  prefix: 1-7\n  family: ipv4\nseverity: high\n");
    static const struct {
        const char *raw;
        int sev;
    } cases[] = {
        {"{\"cidrIp\":\"32.0.0.0/3\"}", KB_SEV_HIGH},
        {"{\"cidrIp\":\"0.0.0.0/0\"}", KB_SEV_NONE},
        {"{\"cidrIp\":\"10.0.0.0/8\"}", KB_SEV_NONE},
        {"{\"cidrIp\":\"128.0.0.0/1\"}", KB_SEV_HIGH},
        {"{\"cidrIp\":\"203.0.113.7\"}", KB_SEV_NONE}, /* a host: /32 */
        {"{\"cidrIp\":\"1.2.3.4/07\"}", KB_SEV_HIGH},
        {"{\"cidrIp\":\"1.2.3.4/33\"}", KB_SEV_NONE},
        {"{\"cidrIp\":\"not an address/3\"}", KB_SEV_NONE},
        {"{\"cidrIp\":\"2000::/3\"}", KB_SEV_NONE}, /* family ipv4 only */
        {"{\"cidrIp\":[\"10.1.0.0/16\",\"64.0.0.0/2\"]}", KB_SEV_HIGH},
        {"{\"perms\":{\"items\":[{\"ranges\":{\"items\":[{\"cidr\":\"10.0.0.0/24\"}]}},"
         "{\"ranges\":{\"items\":[{\"cidr\":\"9.9.9.9/32\"},{\"cidr\":\"0.0.0.0/4\"}]}}]}}",
         KB_SEV_HIGH},
        {"{\"perms\":{\"items\":[{\"ranges\":{\"items\":[{\"cidr\":\"0.0.0.0/0\"}]}}]}}",
         KB_SEV_NONE},
        {"{\"cidrIp\":3}", KB_SEV_NONE},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        struct fixture f;
        mk(&f, "cloudtrail", "X", cases[i].raw);
        T_CHECKF(eval_sev(ps, &f.a) == cases[i].sev, "%s", cases[i].raw);
        done(&f);
    }
    policy_set_free(ps);
}

static void test_raw_fields_and_sources(void)
{
    struct policy_set *ps = load("id: sample\nsource: [guardduty, scc]\n"
                                 "detection:\n  sel:\n    raw.service.additionalInfo.sample: true\n"
                                 "    actor.user|startswith: adm\n  condition: sel\n"
                                 "severity: none\n");
    struct fixture f;
    mk(&f, "guardduty", "X", "{\"service\":{\"additionalInfo\":{\"sample\":true}}}");
    f.a.severity = KB_SEV_HIGH;
    f.a.actor_user = KB_STR_LIT("admin");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_NONE);
    f.a.source = "cloudtrail"; /* not one of the policy's sources */
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_HIGH);
    f.a.source = "guardduty";
    f.a.actor_user = KB_STR_LIT("bob");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_HIGH);
    done(&f);
    mk(&f, "guardduty", "X", "{\"service\":{\"additionalInfo\":{\"sample\":false}}}");
    f.a.severity = KB_SEV_HIGH;
    f.a.actor_user = KB_STR_LIT("admin");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_HIGH);
    done(&f);
    policy_set_free(ps);
}

static void test_view_numbers_and_absent(void)
{
    struct policy_set *ps = load("id: n\ndetection:\n  sel:\n    native_severity|gte: 7\n"
                                 "    region|exists: false\n  condition: sel\nseverity: high\n");
    struct fixture f;
    mk(&f, "guardduty", "X", NULL);
    f.a.native_severity = KB_STR_LIT("8.0");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_HIGH);
    f.a.native_severity = KB_STR_LIT("6.9");
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_NONE);
    f.a.native_severity = KB_STR_LIT("7");
    f.a.region = KB_STR_LIT("us-east-1"); /* present: exists false fails */
    T_EQ_INT(eval_sev(ps, &f.a), KB_SEV_NONE);
    done(&f);
    policy_set_free(ps);
}

static void test_load_errors(void)
{
    char e[300];
    T_CHECK(strstr(load_error("id: a\nseverty: none\n", e, sizeof e),
                   "t.yml:2: policy 'a': (policy): unknown key 'severty'"));
    T_CHECK(strstr(load_error("severity: none\n", e, sizeof e), "id: missing"));
    T_CHECK(strstr(load_error("id: a\nseverity: urgent\n", e, sizeof e), "severity: expected"));
    T_CHECK(strstr(load_error("id: a\n---\nid: a\n", e, sizeof e),
                   "t.yml:3: id: 'a' is already loaded"));
    T_CHECK(
        strstr(load_error("id: a\ndetection: {sel: {kind: x}, condition: nosuch}\n", e, sizeof e),
               "t.yml:2: policy 'a': detection.condition: unknown identifier 'nosuch'"));
    T_CHECK(strstr(
        load_error("id: a\nescalate: {after: 100, within: 1h, severity: high}\n", e, sizeof e),
        "escalate.after"));
    T_CHECK(strstr(load_error("id: a\nidentity: [raw.x]\n", e, sizeof e), "identity"));
    T_CHECK(
        strstr(load_error("id: a\nmute: {reason: x, until: soon}\n", e, sizeof e), "mute.until"));
    T_CHECK(strstr(load_error("id: a\nmute: {until: 2026-01-01}\n", e, sizeof e), "reason"));
    T_CHECK(strstr(load_error("id: a\ncidr: {field: raw.x, prefix: 9-3}\n", e, sizeof e),
                   "cidr.prefix"));
    T_CHECK(
        strstr(load_error("id: a\nseverity: {raise: 1, from: x}\n", e, sizeof e), "exactly one"));
    T_CHECK(
        strstr(load_error("id: a\nannotations: [{text: x, link: 'javascript:1'}]\n", e, sizeof e),
               "annotations.link"));
    T_CHECK(strstr(load_error("id: a\nstop: maybe\n", e, sizeof e), "stop"));
    T_CHECK(strstr(load_error("id: a\n  bad: [\n", e, sizeof e), "YAML"));
    /* A bad document does not hide the good ones beside it. */
    struct policy_set *ps = NULL;
    struct kb_why why = {{0}};
    size_t n = 0;
    policy_set_new(&ps, &why);
    const char *y = "id: good1\n---\nid: bad\nseverity: 7\n---\nid: good2\n";
    T_EQ_INT(policy_load_buffer(ps, y, strlen(y), "t.yml", &n, &why), KB_EINVAL);
    T_EQ_INT(n, 2);
    T_EQ_INT(policy_set_count(ps), 2);
    T_EQ_INT(policy_set_nerrors(ps), 1);
    T_CHECK(strstr(policy_set_error(ps, 0), "policy 'bad'"));
    T_CHECK(policy_set_find(ps, "good2") != NULL);
    T_EQ_INT(policy_line(policy_set_find(ps, "good2")), 6);
    policy_set_free(ps);
}

int main(void)
{
    T_RUN(test_set_and_select);
    T_RUN(test_raise_lower_clamp);
    T_RUN(test_map);
    T_RUN(test_bands);
    T_RUN(test_first_only);
    T_RUN(test_escalate_window);
    T_RUN(test_escalate_cumulative);
    T_RUN(test_enrichment_field);
    T_RUN(test_mute_expiry);
    T_RUN(test_close);
    T_RUN(test_annotations_labels);
    T_RUN(test_identity);
    T_RUN(test_cidr);
    T_RUN(test_raw_fields_and_sources);
    T_RUN(test_view_numbers_and_absent);
    T_RUN(test_load_errors);
    return t_done();
}
