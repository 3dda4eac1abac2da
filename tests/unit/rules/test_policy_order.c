/*
 * test_policy_order.c — evaluation order and conflicts: severity actions in
 * load order, `stop`, mute wins over severity, the first close and the
 * first active mute win, the last identity wins, a closing alert is not an
 * occurrence, failing state never hides an alert, the in-memory state's
 * bounds, and folder load order.
 */
#include "rules/policy.h"
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const default_id[] = {"account", "kind", "resource", NULL};

static void mk(struct alert *a, const char *kind, int sev)
{
    alert_init(a, "scc", default_id);
    a->kind = kb_str_c(kind);
    a->account = KB_STR_LIT("proj-1");
    a->resource = KB_STR_LIT("fw-1");
    a->severity = sev;
    a->time_ms = 1767225600000;
}

static struct policy_set *load(const char *yaml)
{
    struct policy_set *ps = NULL;
    struct kb_why why = {{0}};
    T_CHECK(policy_set_new(&ps, &why) == KB_OK);
    kb_err e = policy_load_buffer(ps, yaml, strlen(yaml), "order.yml", NULL, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    return ps;
}

static void test_severity_in_load_order(void)
{
    struct policy_set *a = load("id: set\nseverity: low\n---\nid: up\nseverity: {raise: 2}\n");
    struct policy_set *b = load("id: up\nseverity: {raise: 2}\n---\nid: set\nseverity: low\n");
    struct alert al;
    mk(&al, "X", KB_SEV_MEDIUM);
    struct policy_result r;
    T_CHECK(policy_eval(a, &al, NULL, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_HIGH); /* low, then +2 */
    T_EQ_INT(r.initial, KB_SEV_MEDIUM);
    T_EQ_INT(r.napplied, 2);
    T_EQ_STR(r.applied[0].id, "set");
    T_EQ_INT(r.applied[0].severity, KB_SEV_LOW);
    T_EQ_STR(r.applied[1].id, "up");
    T_EQ_INT(r.applied[1].severity, KB_SEV_HIGH);
    T_CHECK(policy_eval(b, &al, NULL, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_LOW); /* +2, then low */
    policy_set_free(a);
    policy_set_free(b);
}

static void test_stop(void)
{
    struct policy_set *ps = load("id: sample\ndetection: {s: {kind: SAMPLE}, condition: s}\n"
                                 "severity: none\nstop: true\n"
                                 "---\nid: raise\nseverity: {raise: 1}\nlabels: {team: x}\n");
    struct alert al;
    struct policy_result r;
    mk(&al, "SAMPLE", KB_SEV_HIGH);
    T_CHECK(policy_eval(ps, &al, NULL, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_NONE);
    T_EQ_INT(r.nmatched, 1);
    T_EQ_INT(r.nlabels, 0);
    mk(&al, "OTHER", KB_SEV_HIGH);
    T_CHECK(policy_eval(ps, &al, NULL, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_CRITICAL);
    T_EQ_INT(r.nmatched, 1);
    T_EQ_STR(r.applied[0].id, "raise");
    policy_set_free(ps);
}

static void test_mute_wins(void)
{
    struct policy_set *ps = load("id: old\nmute: {reason: expired one, until: 2020-01-01}\n"
                                 "---\nid: m1\nmute: {reason: first active}\n"
                                 "---\nid: m2\nmute: {reason: second active}\n"
                                 "---\nid: loud\nseverity: critical\n");
    struct alert al;
    struct policy_result r;
    mk(&al, "X", KB_SEV_LOW);
    T_CHECK(policy_eval(ps, &al, NULL, 1767225600000, &r) == KB_OK);
    T_CHECK(r.muted);
    T_EQ_STR(r.mute_policy, "m1");
    T_EQ_STR(r.mute_reason, "first active");
    T_EQ_STR(r.expired_mute_policy, "old");
    T_EQ_INT(r.severity, KB_SEV_CRITICAL); /* kept: a mute decides routing, not severity */
    T_EQ_INT(r.nmatched, 4);
    policy_set_free(ps);
}

static void test_close_is_separate(void)
{
    struct policy_set *ps = load("id: sev\nseverity: high\nfirst_only: low\n"
                                 "---\nid: c1\ndetection: {s: {state: INACTIVE}, condition: s}\n"
                                 "close: {reason: first close}\n"
                                 "---\nid: c2\ndetection: {s: {state: INACTIVE}, condition: s}\n"
                                 "close: {reason: second close}\n");
    struct policy_memstate *ms = policy_memstate_new(16);
    struct policy_state st = policy_memstate_state(ms);
    struct alert al;
    struct policy_result r;
    mk(&al, "OPEN_FIREWALL", KB_SEV_MEDIUM);
    al.state = KB_STR_LIT("INACTIVE");
    T_CHECK(policy_eval(ps, &al, &st, 0, &r) == KB_OK);
    T_CHECK(r.close);
    T_EQ_STR(r.close_policy, "c1"); /* the first close wins */
    T_EQ_STR(r.close_reason, "first close");
    T_EQ_INT(r.severity, KB_SEV_HIGH);     /* severity is still decided */
    T_EQ_INT(policy_memstate_size(ms), 0); /* a close is not an occurrence */
    /* So the next (non-closing) alert of that identity is still a first. */
    al.state = KB_STR_LIT("ACTIVE");
    T_CHECK(policy_eval(ps, &al, &st, 0, &r) == KB_OK);
    T_CHECK(!r.close);
    T_EQ_INT(r.severity, KB_SEV_HIGH);
    T_EQ_INT(policy_memstate_size(ms), 1);
    T_CHECK(policy_eval(ps, &al, &st, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_LOW);
    policy_memstate_free(ms);
    policy_set_free(ps);
}

static void test_identity_last_wins(void)
{
    struct policy_set *ps = load("id: i1\nidentity: [account]\n"
                                 "---\nid: i2\ndetection: {s: {kind: B}, condition: s}\n"
                                 "identity: [kind]\n");
    struct alert al;
    struct policy_result r;
    mk(&al, "A", KB_SEV_LOW);
    T_CHECK(policy_eval(ps, &al, NULL, 0, &r) == KB_OK);
    T_EQ_STR(r.identity_policy, "i1");
    T_EQ_STR(r.identity_text, "account=proj-1");
    mk(&al, "B", KB_SEV_LOW);
    T_CHECK(policy_eval(ps, &al, NULL, 0, &r) == KB_OK);
    T_EQ_STR(r.identity_policy, "i2");
    T_EQ_STR(r.identity_text, "kind=B");
    policy_set_free(ps);
}

static kb_err fail_occ(void *ctx, const uint8_t fp[16], int64_t since, uint64_t *n)
{
    *n = 1000;
    return KB_EIO;
}

static kb_err fail_rec(void *ctx, const uint8_t fp[16], int64_t t)
{
    (*(int *)ctx)++;
    return KB_EIO;
}

static void test_state_error_never_hides(void)
{
    struct policy_set *ps = load("id: f\nseverity: high\nfirst_only: none\n"
                                 "escalate: {after: 2, severity: critical}\n");
    int recorded = 0;
    struct policy_state st = {&recorded, fail_occ, fail_rec};
    struct alert al;
    struct policy_result r;
    mk(&al, "X", KB_SEV_LOW);
    T_CHECK(policy_eval(ps, &al, &st, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_HIGH); /* not lowered, not escalated */
    T_CHECK(r.state_error);
    T_EQ_INT(recorded, 1);
    policy_set_free(ps);
}

static void test_memstate_bounds(void)
{
    struct policy_memstate *ms = policy_memstate_new(10); /* rounds up to 16 */
    struct policy_state st = policy_memstate_state(ms);
    uint8_t fp[16] = {0};
    for (int i = 0; i < 1000; i++) {
        memcpy(fp, &i, sizeof i);
        fp[8] = (uint8_t)i;
        T_CHECK(st.record(st.ctx, fp, i) == KB_OK);
    }
    T_CHECK(policy_memstate_size(ms) <= 16);
    T_EQ_INT(policy_memstate_size(ms) + policy_memstate_evicted(ms), 1000);
    /* The most recent identity survives; counts since a time are exact. */
    int last = 999;
    memset(fp, 0, sizeof fp);
    memcpy(fp, &last, sizeof last);
    fp[8] = (uint8_t)last;
    for (int i = 0; i < 100; i++)
        st.record(st.ctx, fp, 1000 + i);
    uint64_t n = 0;
    T_CHECK(st.occurrences(st.ctx, fp, INT64_MIN, &n) == KB_OK);
    T_EQ_INT(n, 101);
    T_CHECK(st.occurrences(st.ctx, fp, 1090, &n) == KB_OK);
    T_EQ_INT(n, 10);
    T_CHECK(st.occurrences(st.ctx, fp, 0, &n) == KB_OK);
    T_EQ_INT(n, POLICY_MAX_WINDOW_COUNT); /* the ring keeps the last 64 */
    uint8_t absent[16] = {0xff};
    T_CHECK(st.occurrences(st.ctx, absent, INT64_MIN, &n) == KB_OK && n == 0);
    policy_memstate_free(ms);
}

static void test_expired_mutes_list(void)
{
    struct policy_set *ps = load("id: a\nmute: {reason: r, until: '2025-01-01T00:00:00Z'}\n"
                                 "---\nid: b\nmute: {reason: r}\n"
                                 "---\nid: c\nmute: {reason: r, until: 2025-06-30}\n"
                                 "---\nid: d\nmute: {reason: r, until: 2030-01-01}\n");
    const struct policy *out[1];
    int64_t now = 1767225600000; /* 2026-01-01 */
    T_EQ_INT(policy_set_expired_mutes(ps, now, out, 1), 2);
    T_EQ_STR(policy_id(out[0]), "a");
    const char *reason = NULL;
    int64_t until = 0;
    T_CHECK(policy_mute(policy_set_find(ps, "c"), &reason, &until));
    T_EQ_INT(until, 1751328000000); /* 2025-07-01T00:00:00Z: through the 30th */
    T_CHECK(policy_mute(policy_set_find(ps, "b"), &reason, &until) && until == 0);
    policy_set_free(ps);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    T_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_dir_load_order(void)
{
    char dir[] = "/tmp/koban-policy-XXXXXX";
    T_CHECK(mkdtemp(dir) != NULL);
    char p1[64], p2[64], p3[64];
    snprintf(p1, sizeof p1, "%s/90-late.yml", dir);
    snprintf(p2, sizeof p2, "%s/10-early.yaml", dir);
    snprintf(p3, sizeof p3, "%s/notes.txt", dir);
    write_file(p1, "id: late\nseverity: {raise: 1}\n");
    write_file(p2, "id: early\nseverity: low\n");
    write_file(p3, "id: ignored\n");
    struct policy_set *ps = NULL;
    struct kb_why why = {{0}};
    size_t n = 0;
    policy_set_new(&ps, &why);
    T_CHECK(policy_load_dir(ps, dir, &n, &why) == KB_OK);
    T_EQ_INT(n, 2);
    T_EQ_STR(policy_id(policy_set_at(ps, 0)), "early");
    T_EQ_STR(policy_id(policy_set_at(ps, 1)), "late");
    struct alert al;
    struct policy_result r;
    mk(&al, "X", KB_SEV_CRITICAL);
    T_CHECK(policy_eval(ps, &al, NULL, 0, &r) == KB_OK);
    T_EQ_INT(r.severity, KB_SEV_MEDIUM);
    policy_set_free(ps);
    unlink(p1);
    unlink(p2);
    unlink(p3);
    rmdir(dir);
}

int main(void)
{
    T_RUN(test_severity_in_load_order);
    T_RUN(test_stop);
    T_RUN(test_mute_wins);
    T_RUN(test_close_is_separate);
    T_RUN(test_identity_last_wins);
    T_RUN(test_state_error_never_hides);
    T_RUN(test_memstate_bounds);
    T_RUN(test_expired_mutes_list);
    T_RUN(test_dir_load_order);
    return t_done();
}
