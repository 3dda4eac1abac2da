/* test_triage.c — rules, correlation and policies in the pipeline, end to
 * end on a real journal and a real SQLite file: intake → journal → pipeline
 * (with a triage) → issues. */
#include "ingest/intake.h"
#include "ingest/pipeline.h"
#include "ingest/triage.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char top[256];
static int serial;

#define CT(id, name, user)                                                                  \
    "{\"eventVersion\":\"1.08\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"" name \
    "\",\"eventTime\":\"2026-11-20T10:00:0" id "Z\",\"awsRegion\":\"us-east-1\","            \
    "\"sourceIPAddress\":\"203.0.113.5\",\"eventID\":\"e" id "\","                           \
    "\"recipientAccountId\":\"123456789012\",\"userIdentity\":{\"type\":\"IAMUser\","        \
    "\"arn\":\"arn:aws:iam::123456789012:user/" user "\"}}\n"

#define RULE_CREATE                                                                       \
    "title: IAM user created\n"                                                           \
    "id: 0e3b5c8a-1111-4222-8333-944445555666\n"                                          \
    "name: iam_user_created\n"                                                            \
    "logsource: {product: aws, service: cloudtrail}\n"                                    \
    "detection:\n  sel:\n    eventSource: iam.amazonaws.com\n    eventName: CreateUser\n" \
    "  condition: sel\nlevel: high\n"

struct env {
    char dir[300], jdir[340], db[340], rules[340], pol[340];
    struct journal *j;
    struct intake *in;
    struct triage *t;
    struct pipeline *p;
    size_t load_errors;
};

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    T_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void env_dirs(struct env *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "%s/t%d", top, ++serial);
    snprintf(e->jdir, sizeof e->jdir, "%s/journal", e->dir);
    snprintf(e->db, sizeof e->db, "%s/koban.db", e->dir);
    snprintf(e->rules, sizeof e->rules, "%s/rules", e->dir);
    snprintf(e->pol, sizeof e->pol, "%s/policies", e->dir);
    mkdir(e->dir, 0700);
    mkdir(e->rules, 0700);
    mkdir(e->pol, 0700);
}

/* intake_triage: rules and policies also run at intake (as in koban serve
 * and koban ingest), so repeats fold from the intake's summaries; false:
 * every event takes the pipeline's full path. */
static void env_start_with(struct env *e, bool stock, bool intake_triage)
{
    struct kb_why why = {{0}};
    struct triage_opts to = {.rules_dir = e->rules, .stock_policies = stock,
                             .policies_dir = e->pol, .no_watch = true};
    T_EQ_INT(triage_new(&to, NULL, NULL, &e->load_errors, &e->t, &why), KB_OK);
    T_EQ_INT(journal_open(e->jdir, NULL, &e->j, &why), KB_OK);
    struct intake_opts io = {.triage = intake_triage ? e->t : NULL};
    T_EQ_INT(intake_new(e->j, &io, &e->in), KB_OK);
    struct pipeline_opts po = {.triage = e->t};
    T_EQ_INT(pipeline_new(e->j, e->db, &po, &e->p, &why), KB_OK);
}

static void env_start(struct env *e, bool stock)
{
    env_start_with(e, stock, true);
}

static void env_stop(struct env *e)
{
    pipeline_stop(e->p);
    triage_free(e->t);
    intake_free(e->in);
    journal_close(e->j);
    e->p = NULL;
    e->t = NULL;
    e->in = NULL;
    e->j = NULL;
}

static void post(struct env *e, const char *body, size_t len)
{
    struct intake_report *rep = calloc(1, sizeof *rep);
    struct kb_why why = {{0}};
    uint64_t last = 0;
    T_EQ_INT(intake_body(e->in, body, len, JOURNAL_PATH_HTTP, NULL, rep, &last, &why), KB_OK);
    T_EQ_INT(rep->rejected, 0);
    free(rep);
    T_EQ_INT(journal_wait(e->j, last, 10000), KB_OK);
    T_EQ_INT(pipeline_run_until_idle(e->p, &why), KB_OK);
}

static void post_s(struct env *e, const char *body)
{
    post(e, body, strlen(body));
}

static void post_file(struct env *e, const char *path)
{
    size_t n;
    char *p = t_read_file(path, &n);
    T_CHECKF(p != NULL, "%s", path);
    if (p)
        post(e, p, n);
    free(p);
}

/* Every issue, in id order, as copies. */
struct rows {
    struct db_issue r[64];
    size_t n;
};

static kb_err keep_row(void *ctx, const struct db_issue *r)
{
    struct rows *rs = ctx;
    if (rs->n < 64) {
        struct db_issue *c = &rs->r[rs->n++];
        *c = *r;
        c->identity = r->identity ? kb_strdup(r->identity) : NULL;
        c->source = r->source ? kb_strdup(r->source) : NULL;
        c->kind = r->kind ? kb_strdup(r->kind) : NULL;
        c->title = r->title ? kb_strdup(r->title) : NULL;
        c->account = r->account ? kb_strdup(r->account) : NULL;
        c->region = r->region ? kb_strdup(r->region) : NULL;
        c->resource = r->resource ? kb_strdup(r->resource) : NULL;
        c->actor_user = r->actor_user ? kb_strdup(r->actor_user) : NULL;
        c->actor_ip = r->actor_ip ? kb_strdup(r->actor_ip) : NULL;
        c->host = r->host ? kb_strdup(r->host) : NULL;
        c->native_severity = r->native_severity ? kb_strdup(r->native_severity) : NULL;
        c->rules = r->rules ? kb_strdup(r->rules) : NULL;
        c->policies = r->policies ? kb_strdup(r->policies) : NULL;
        c->labels = r->labels ? kb_strdup(r->labels) : NULL;
        c->annotations = r->annotations ? kb_strdup(r->annotations) : NULL;
        c->mute_reason = r->mute_reason ? kb_strdup(r->mute_reason) : NULL;
    }
    return KB_OK;
}

static void rows_get(struct env *e, struct rows *rs)
{
    struct db *db;
    struct kb_why why = {{0}};
    rs->n = 0;
    T_EQ_INT(db_open(e->db, DB_CLIENT, 0, &db, &why), KB_OK);
    struct db_issue_filter f = {.state = -1};
    T_EQ_INT(db_issue_list(db, &f, keep_row, rs), KB_OK);
    db_close(db);
}

static void rows_free(struct rows *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        db_issue_release(&rs->r[i]);
    rs->n = 0;
}

static const struct db_issue *by_kind(const struct rows *rs, const char *kind)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->r[i].kind && !strcmp(rs->r[i].kind, kind))
            return &rs->r[i];
    return NULL;
}

static void test_rule_detection(void)
{
    struct env e;
    env_dirs(&e);
    write_file(e.rules, "iam.yml", RULE_CREATE);
    env_start(&e, false);
    T_EQ_INT(e.load_errors, 0);
    T_CHECK(triage_applies(e.t, "cloudtrail"));
    T_CHECK(!triage_applies(e.t, "guardduty"));
    post_s(&e, CT("1", "CreateUser", "alice") CT("2", "ListUsers", "alice")
                   CT("3", "CreateUser", "alice"));
    struct rows rs;
    rows_get(&e, &rs);
    T_EQ_INT(rs.n, 2);
    const struct db_issue *d = by_kind(&rs, "0e3b5c8a-1111-4222-8333-944445555666");
    T_CHECK(d != NULL);
    if (d) {
        T_EQ_STR(d->title, "IAM user created");
        T_EQ_INT(d->severity, KB_SEV_HIGH);
        T_EQ_INT(d->count, 2);
        T_EQ_STR(d->rules, "[\"0e3b5c8a-1111-4222-8333-944445555666\"]");
        T_CHECKF(strstr(d->identity, "rule.id=0e3b5c8a") != NULL, "%s", d->identity);
    }
    /* the unmatched event keeps its plain alert */
    const struct db_issue *u = by_kind(&rs, "iam.amazonaws.com:ListUsers");
    T_CHECK(u != NULL);
    if (u)
        T_CHECK(u->rules == NULL);
    T_CHECK(by_kind(&rs, "iam.amazonaws.com:CreateUser") == NULL);
    struct triage_stats ts;
    triage_get_stats(e.t, &ts);
    T_EQ_INT(ts.rules, 1);
    T_EQ_INT(ts.rule_matches, 2);
    rows_free(&rs);
    env_stop(&e);
}

/* rules.mapping: a team's own logsource (product acme) runs on CloudTrail
 * events and finds its field under another name; a broken mapping file
 * loads no rules (rather than wrong ones) and says where. */
static void test_mapping_file(void)
{
    struct env e;
    env_dirs(&e);
    write_file(e.rules, "acme.yml",
               "title: acme user created\n"
               "id: 7a7a7a7a-1111-4222-8333-944445555666\n"
               "logsource: {product: acme, service: audit}\n"
               "detection:\n  sel:\n    acme.action: CreateUser\n  condition: sel\n"
               "level: medium\n");
    char map[400];
    snprintf(map, sizeof map, "%s/map.yml", e.dir);
    write_file(e.dir, "map.yml",
               "logsources:\n  - {product: acme, source: cloudtrail}\n"
               "fields:\n  - {source: cloudtrail, sigma: acme.action, event: eventName}\n");
    struct kb_why why = {{0}};
    struct triage_opts to = {.rules_dir = e.rules, .rules_mapping = map, .no_watch = true};
    T_EQ_INT(triage_new(&to, NULL, NULL, &e.load_errors, &e.t, &why), KB_OK);
    T_EQ_INT(e.load_errors, 0);
    T_CHECK(triage_applies(e.t, "cloudtrail"));
    T_EQ_INT(journal_open(e.jdir, NULL, &e.j, &why), KB_OK);
    T_EQ_INT(intake_new(e.j, NULL, &e.in), KB_OK);
    struct pipeline_opts po = {.triage = e.t};
    T_EQ_INT(pipeline_new(e.j, e.db, &po, &e.p, &why), KB_OK);
    post_s(&e, CT("1", "CreateUser", "bob") CT("2", "ListUsers", "bob"));
    struct rows rs;
    rows_get(&e, &rs);
    const struct db_issue *d = by_kind(&rs, "7a7a7a7a-1111-4222-8333-944445555666");
    T_CHECK(d != NULL);
    if (d)
        T_EQ_INT(d->severity, KB_SEV_MEDIUM);
    rows_free(&rs);
    env_stop(&e);

    write_file(e.dir, "map.yml", "logsources:\n  - {sorce: cloudtrail}\n");
    size_t errs = 0;
    struct triage *t = NULL;
    triage_new(&to, NULL, NULL, &errs, &t, &why);
    T_CHECK(errs >= 1);
    if (t) {
        T_CHECK(!triage_applies(t, "cloudtrail"));
        triage_free(t);
    }
}

static void test_sigmahq_rule(void)
{
    T_NEED_DATA(data);
    struct env e;
    env_dirs(&e);
    char src[600], dst[600];
    snprintf(src, sizeof src,
             "%s/sigma/rules/cloud/aws/cloudtrail/aws_iam_backdoor_users_keys.yml", data);
    size_t n;
    char *text = t_read_file(src, &n);
    if (!text)
        T_SKIP("aws_iam_backdoor_users_keys.yml is absent");
    snprintf(dst, sizeof dst, "backdoor.yml");
    write_file(e.rules, dst, text);
    free(text);
    env_start(&e, false);
    T_EQ_INT(e.load_errors, 0);
    /* CreateAccessKey for another user: the rule's selection */
    post_s(&e, "{\"eventVersion\":\"1.08\",\"eventSource\":\"iam.amazonaws.com\","
               "\"eventName\":\"CreateAccessKey\",\"eventTime\":\"2026-11-20T10:00:00Z\","
               "\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"123456789012\","
               "\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::1:user/alice\"},"
               "\"requestParameters\":{\"userName\":\"bob\"}}");
    struct rows rs;
    rows_get(&e, &rs);
    T_EQ_INT(rs.n, 1);
    if (rs.n) {
        T_EQ_STR(rs.r[0].title, "AWS IAM Backdoor Users Keys");
        T_EQ_INT(rs.r[0].severity, KB_SEV_MEDIUM);
    }
    rows_free(&rs);
    env_stop(&e);
}

static void test_guardduty_bands(void)
{
    T_NEED_DATA(data);
    struct env e;
    env_dirs(&e);
    env_start(&e, true);
    T_EQ_INT(e.load_errors, 0);
    char path[600];
    snprintf(path, sizeof path, "%s/guardduty/panther_guardduty_findings.jsonl", data);
    post_file(&e, path);
    struct rows rs;
    rows_get(&e, &rs);
    T_CHECK(rs.n >= 2);
    /* native 9 → critical (band), sample findings → none */
    const struct db_issue *c = by_kind(&rs, "AttackSequence:IAM/CompromisedCredentials");
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_INT(c->severity, KB_SEV_CRITICAL);
        T_CHECKF(c->policies && strstr(c->policies, "guardduty-severity-bands"), "%s",
                 c->policies ? c->policies : "(null)");
    }
    const struct db_issue *s =
        by_kind(&rs, "PrivilegeEscalation:IAMUser/AdministrativePermissions");
    T_CHECK(s != NULL);
    if (s) {
        T_EQ_INT(s->severity, KB_SEV_NONE);
        T_CHECK(s->annotations && strstr(s->annotations, "sample finding"));
    }
    rows_free(&rs);
    env_stop(&e);
}

static void test_scc_remediated_closes(void)
{
    T_NEED_DATA(data);
    struct env e;
    env_dirs(&e);
    env_start(&e, true);
    char path[600];
    snprintf(path, sizeof path, "%s/scc/public_bucket_acl.json", data);
    post_file(&e, path);
    struct rows rs;
    rows_get(&e, &rs);
    T_EQ_INT(rs.n, 1);
    T_EQ_INT(rs.n ? rs.r[0].state : -1, ISSUE_OPEN);
    rows_free(&rs);
    snprintf(path, sizeof path, "%s/scc/public_bucket_acl-remediated.json", data);
    post_file(&e, path);
    rows_get(&e, &rs);
    T_EQ_INT(rs.n, 1); /* the twin folds nowhere: it closes its original */
    if (rs.n) {
        T_EQ_INT(rs.r[0].state, ISSUE_CLOSED);
        T_EQ_INT(rs.r[0].count, 1);
    }
    rows_free(&rs);
    struct triage_stats ts;
    triage_get_stats(e.t, &ts);
    T_EQ_INT(ts.closes, 1);
    /* a twin whose original never came: counted, not an error */
    snprintf(path, sizeof path, "%s/scc/open_ssh_port-remediated.json", data);
    post_file(&e, path);
    triage_get_stats(e.t, &ts);
    T_EQ_INT(ts.closes, 1);
    T_EQ_INT(ts.closes_unknown, 1);
    env_stop(&e);
}

static void test_correlation(void)
{
    struct env e;
    env_dirs(&e);
    write_file(e.rules, "iam.yml", RULE_CREATE);
    write_file(e.rules, "corr.yml",
               "title: Many IAM users created\nid: corr-many-users\n"
               "correlation:\n  type: event_count\n  rules: [iam_user_created]\n"
               "  group-by: [recipientAccountId]\n  timespan: 1h\n  condition: {gte: 3}\n"
               "level: critical\n");
    env_start(&e, false);
    T_EQ_INT(e.load_errors, 0);
    post_s(&e, CT("1", "CreateUser", "a") CT("2", "CreateUser", "b"));
    struct rows rs;
    rows_get(&e, &rs);
    T_CHECK(by_kind(&rs, "corr-many-users") == NULL);
    /* generate: false (Sigma's default): the base rule only feeds */
    T_CHECK(by_kind(&rs, "0e3b5c8a-1111-4222-8333-944445555666") == NULL);
    T_CHECK(by_kind(&rs, "iam.amazonaws.com:CreateUser") != NULL);
    rows_free(&rs);
    post_s(&e, CT("3", "CreateUser", "c"));
    rows_get(&e, &rs);
    const struct db_issue *c = by_kind(&rs, "corr-many-users");
    T_CHECK(c != NULL);
    if (c) {
        T_EQ_STR(c->title, "Many IAM users created");
        T_EQ_INT(c->severity, KB_SEV_CRITICAL);
        T_EQ_INT(c->count, 1);
        T_CHECKF(strstr(c->identity, "group.recipientAccountId=123456789012") != NULL, "%s",
                 c->identity);
    }
    rows_free(&rs);
    struct triage_stats ts;
    triage_get_stats(e.t, &ts);
    T_EQ_INT(ts.corr_alerts, 1);
    env_stop(&e);
}

static void test_mute_and_labels(void)
{
    struct env e;
    env_dirs(&e);
    write_file(e.pol, "50-local.yml",
               "id: mute-listusers\nsource: cloudtrail\n"
               "detection:\n  sel:\n    kind: 'iam.amazonaws.com:ListUsers'\n  condition: sel\n"
               "mute:\n  reason: noisy inventory job\n  until: 2099-01-01\n"
               "labels: {team: cloud-sec}\n"
               "annotations:\n  - {text: Runbook, link: 'https://wiki.example/iam'}\n");
    env_start(&e, false);
    T_EQ_INT(e.load_errors, 0);
    post_s(&e, CT("1", "ListUsers", "alice") CT("2", "ListUsers", "alice"));
    struct rows rs;
    rows_get(&e, &rs);
    T_EQ_INT(rs.n, 1);
    if (rs.n) {
        T_EQ_INT(rs.r[0].count, 2); /* muted alerts still fold */
        T_EQ_STR(rs.r[0].mute_reason, "noisy inventory job");
        T_CHECK(rs.r[0].mute_until > 4000000000000LL);
        T_EQ_STR(rs.r[0].labels, "{\"team\":\"cloud-sec\"}");
        T_EQ_STR(rs.r[0].policies, "[\"mute-listusers\"]");
        T_CHECK(rs.r[0].annotations && strstr(rs.r[0].annotations, "wiki.example"));
    }
    rows_free(&rs);
    /* the issue JSON shows it */
    struct db *db;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(e.db, DB_CLIENT, 0, &db, &why), KB_OK);
    struct db_issue r;
    T_EQ_INT(db_issue_get(db, 1, &r), KB_OK);
    struct buf out = BUF_INIT(1 << 20);
    struct jw w;
    jw_init(&w, &out);
    issue_write_json(&w, &r, db);
    T_EQ_INT(jw_finish(&w), KB_OK);
    T_CHECKF(strstr(out.p, "\"muted\":{\"reason\":\"noisy inventory job\",\"until\":\"2099-") &&
                 strstr(out.p, "\"labels\":{\"team\":\"cloud-sec\"}") &&
                 strstr(out.p, "\"history\":["),
             "%s", out.p);
    buf_release(&out);
    db_issue_release(&r);
    db_close(db);
    env_stop(&e);
}

static kb_err dump_issue(void *ctx, const struct db_issue *r)
{
#define S(x) ((x) ? (x) : "-")
    buf_printf(ctx, "%s|%s|%s|%s|%s|%d|%d|%lld|%lld|%lld|%llu|%llu|%s|%s|%s|%s|%s\n",
               r->identity, r->source, S(r->kind), S(r->title), S(r->resource), r->severity,
               r->state, (long long)r->count, (long long)r->first_seen,
               (long long)r->last_seen, (unsigned long long)r->first_seq,
               (unsigned long long)r->last_seq, S(r->rules), S(r->policies), S(r->labels),
               S(r->annotations), S(r->mute_reason));
#undef S
    return KB_OK;
}

static void dump(struct env *e, struct buf *out)
{
    struct db *db;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(e->db, DB_CLIENT, 0, &db, &why), KB_OK);
    struct db_issue_filter f = {.state = -1};
    T_EQ_INT(db_issue_list(db, &f, dump_issue, out), KB_OK);
    db_close(db);
}

#define CT_SG(id, name)                                                                     \
    "{\"eventVersion\":\"1.08\",\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"" name \
    "\",\"eventTime\":\"2026-11-20T10:00:0" id "Z\",\"awsRegion\":\"us-east-1\","            \
    "\"eventID\":\"s" id "\",\"recipientAccountId\":\"123456789012\","                        \
    "\"requestParameters\":{\"groupId\":\"sg-0123\"},\"userIdentity\":{\"type\":\"IAMUser\"," \
    "\"arn\":\"arn:aws:iam::123456789012:user/carol\"}}\n"
#define CT_RO(id)                                                                           \
    "{\"eventVersion\":\"1.08\",\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":"          \
    "\"DescribeInstances\",\"readOnly\":true,\"eventTime\":\"2026-11-20T10:00:0" id "Z\","    \
    "\"eventID\":\"r" id "\",\"recipientAccountId\":\"123456789012\",\"userIdentity\":"       \
    "{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::123456789012:user/dave\"}}\n"
#define CT_LOGIN(id)                                                                        \
    "{\"eventVersion\":\"1.08\",\"eventSource\":\"signin.amazonaws.com\",\"eventName\":"      \
    "\"ConsoleLogin\",\"eventTime\":\"2026-11-20T10:00:0" id "Z\",\"sourceIPAddress\":"       \
    "\"198.51.100.7\",\"eventID\":\"l" id "\",\"recipientAccountId\":\"123456789012\","       \
    "\"responseElements\":{\"ConsoleLogin\":\"Failure\"},\"userIdentity\":{\"type\":"        \
    "\"IAMUser\",\"arn\":\"arn:aws:iam::123456789012:user/erin\"}}\n"

/* Rules and policies at intake (the summaries' short path) leave the same
 * issues as the pipeline's full path, triage columns included: a rule
 * match, a policy with labels and annotations, a read-only call lowered by
 * a stock policy, an escalation that needs occurrence counts and a close
 * (both settled by the pipeline), each repeated across payloads. */
static void test_intake_triage_same_as_full_path(void)
{
    struct env a, b;
    const char *pol = "id: label-deletes\nsource: cloudtrail\n"
                      "detection:\n  sel:\n    kind: 'iam.amazonaws.com:DeleteUser'\n"
                      "  condition: sel\nseverity: medium\nlabels: {team: iam}\n"
                      "annotations:\n  - {text: Who deleted it?, link: 'https://wiki.example/x'}\n"
                      "---\nid: note-e7\nsource: cloudtrail\n"
                      "detection:\n  sel:\n    raw.eventID: e7\n  condition: sel\n"
                      "annotations:\n  - {text: the seventh}\n";
    env_dirs(&a);
    env_dirs(&b);
    write_file(a.rules, "create.yml", RULE_CREATE);
    write_file(b.rules, "create.yml", RULE_CREATE);
    write_file(a.pol, "50-local.yml", pol);
    write_file(b.pol, "50-local.yml", pol);
    env_start_with(&a, true, true);
    env_start_with(&b, true, false);
    T_EQ_INT(a.load_errors, 0);
    const char *p1 = CT("1", "CreateUser", "alice") CT("2", "DeleteUser", "bob")
        CT_RO("3") CT_LOGIN("4") CT_SG("5", "AuthorizeSecurityGroupIngress");
    const char *p2 = CT("6", "CreateUser", "alice") CT("7", "DeleteUser", "bob") CT_RO("8")
        CT_LOGIN("9") CT_SG("9", "DeleteSecurityGroup") CT("9", "ListUsers", "frank");
    /* the newest occurrence's triage is what an issue shows: end on p2 */
    const char *bodies[] = {p1, p2, p1, p2, p1, p1, p2};
    for (size_t i = 0; i < KB_ARRAY_LEN(bodies); i++) {
        post_s(&a, bodies[i]);
        post_s(&b, bodies[i]);
    }
    struct pipeline_stats sa, sb;
    pipeline_get_stats(a.p, &sa);
    pipeline_get_stats(b.p, &sb);
    T_CHECKF(sa.summarized >= 10, "summarized %llu", (unsigned long long)sa.summarized);
    T_EQ_INT(sb.summarized, 0);
    T_EQ_INT(sa.alerts, sb.alerts);
    struct triage_stats ta, tb;
    triage_get_stats(a.t, &ta);
    triage_get_stats(b.t, &tb);
    T_EQ_INT(ta.rule_matches, tb.rule_matches);
    T_EQ_INT(ta.closes, tb.closes);
    T_CHECK(ta.rule_matches >= 4);
    struct buf xa = BUF_INIT(1 << 20), xb = BUF_INIT(1 << 20);
    dump(&a, &xa);
    dump(&b, &xb);
    T_CHECK(xa.len > 0);
    T_CHECKF(xa.len == xb.len && memcmp(xa.p, xb.p, xa.len) == 0,
             "intake triage:\n%s\npipeline only:\n%s", xa.p, xb.p);
    T_CHECKF(strstr(xa.p, "{\"team\":\"iam\"}") && strstr(xa.p, "cloudtrail-read-only") &&
                 strstr(xa.p, "the seventh") &&
                 strstr(xa.p, "[\"0e3b5c8a-1111-4222-8333-944445555666\"]"),
             "%s", xa.p);
    buf_release(&xa);
    buf_release(&xb);
    env_stop(&a);
    env_stop(&b);
}

static void count_error(void *ctx, const char *msg)
{
    (*(int *)ctx)++;
    T_CHECKF(strstr(msg, "broken.yml:") != NULL, "%s", msg);
}

static void test_reload(void)
{
    struct env e;
    env_dirs(&e);
    write_file(e.rules, "iam.yml", RULE_CREATE);
    write_file(e.rules, "broken.yml", "title: broken\nlogsource: {product: aws}\n"
                                      "detection:\n  condition: nothing\n");
    /* at start: the broken file is reported, the good rule loads */
    struct triage *t;
    struct kb_why why = {{0}};
    int nerr = 0;
    size_t n = 0;
    struct triage_opts to = {.rules_dir = e.rules, .no_watch = true};
    T_EQ_INT(triage_new(&to, count_error, &nerr, &n, &t, &why), KB_OK);
    T_CHECK(n >= 1);
    T_CHECK(nerr >= 1);
    struct triage_stats ts;
    triage_get_stats(t, &ts);
    T_EQ_INT(ts.rules, 1);
    /* a reload with a broken file keeps the old set */
    T_EQ_INT(triage_reload(t, &n), KB_EINVAL);
    triage_get_stats(t, &ts);
    T_EQ_INT(ts.rules, 1);
    T_EQ_INT(ts.reload_failures, 1);
    /* fixed and one more rule: swapped */
    char path[600];
    snprintf(path, sizeof path, "%s/broken.yml", e.rules);
    unlink(path);
    mkdir(path, 0700); /* a sub-folder: searched recursively */
    write_file(path, "del.yml",
               "title: IAM user deleted\nid: 7d1e2f3a-0000-4000-8000-000000000001\n"
               "logsource: {product: aws, service: cloudtrail}\n"
               "detection:\n  sel:\n    eventName: DeleteUser\n  condition: sel\nlevel: low\n");
    T_EQ_INT(triage_reload(t, &n), KB_OK);
    T_EQ_INT(n, 0);
    triage_get_stats(t, &ts);
    T_EQ_INT(ts.rules, 2);
    T_EQ_INT(ts.reloads, 1);
    /* a change of the files is seen by the poll (here: asked) */
    triage_request_reload(t);
    triage_maybe_reload(t);
    triage_get_stats(t, &ts);
    T_EQ_INT(ts.reloads, 2);
    struct buf m = BUF_INIT(1 << 16);
    T_EQ_INT(triage_metrics(t, &m), KB_OK);
    T_CHECKF(strstr(m.p, "koban_rules_loaded 2\n") &&
                 strstr(m.p, "koban_rules_reload_failures_total 1\n"),
             "%s", m.p);
    buf_release(&m);
    triage_free(t);
}

static void test_restart_replays_nothing(void)
{
    struct env e;
    env_dirs(&e);
    write_file(e.rules, "iam.yml", RULE_CREATE);
    env_start(&e, true);
    post_s(&e, CT("1", "CreateUser", "alice") CT("2", "ListUsers", "alice"));
    env_stop(&e);
    env_start(&e, true);
    struct kb_why why = {{0}};
    T_EQ_INT(pipeline_run_until_idle(e.p, &why), KB_OK);
    post_s(&e, CT("3", "CreateUser", "alice"));
    struct rows rs;
    rows_get(&e, &rs);
    T_EQ_INT(rs.n, 2);
    const struct db_issue *d = by_kind(&rs, "0e3b5c8a-1111-4222-8333-944445555666");
    T_EQ_INT(d ? d->count : -1, 2);
    const struct db_issue *u = by_kind(&rs, "iam.amazonaws.com:ListUsers");
    T_EQ_INT(u ? u->count : -1, 1);
    rows_free(&rs);
    struct pipeline_stats ps;
    pipeline_get_stats(e.p, &ps);
    T_EQ_INT(ps.records, 1); /* only the new event since the restart */
    env_stop(&e);
}

int main(void)
{
    snprintf(top, sizeof top, "/tmp/koban-test-triage-XXXXXX");
    if (!mkdtemp(top)) {
        perror("mkdtemp");
        return 1;
    }
    T_RUN(test_rule_detection);
    T_RUN(test_mapping_file);
    T_RUN(test_sigmahq_rule);
    T_RUN(test_guardduty_bands);
    T_RUN(test_scc_remediated_closes);
    T_RUN(test_correlation);
    T_RUN(test_mute_and_labels);
    T_RUN(test_reload);
    T_RUN(test_restart_replays_nothing);
    T_RUN(test_intake_triage_same_as_full_path);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", top);
    return t_done();
}
