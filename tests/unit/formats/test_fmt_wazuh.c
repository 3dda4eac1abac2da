/* test_fmt_wazuh.c — Wazuh alerts.json lines: koban's examples, the level
 * bands, the "+0000" time offset, malformed alerts. */
#include "fmt_testlib.h"

struct wz_seen {
    struct alert al[8];
    size_t n;
    struct arena *ar;
};

static void wz_event(void *ctx, struct kb_str raw)
{
    struct wz_seen *s = ctx;
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm(NULL, raw, s->ar, &out, &why), KB_OK);
    if (out.n == 1 && s->n < 8)
        s->al[s->n++] = out.al[0];
}

static void test_examples(void)
{
    struct tl_check c = {"wazuh", 0, 0, 0, NULL, NULL};
    tl_each_file(KOBAN_SOURCE_DIR "/examples/wazuh", ".json", tl_check_file, &c);
    T_EQ_INT(c.events, 6);
    T_EQ_INT(c.failures, 0);

    size_t len;
    char *t = t_read_file(KOBAN_SOURCE_DIR "/examples/wazuh/alerts.json", &len);
    T_CHECK(t != NULL);
    if (!t)
        return;
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct wz_seen s = {.n = 0, .ar = &ar};
    tl_split(t, len, wz_event, &s);
    T_EQ_INT(s.n, 6);
    if (s.n == 6) {
        const struct alert *a = &s.al[0];
        T_EQ_STR(a->source, "wazuh");
        T_EQ_KSTR(a->kind, "wazuh:5710");
        T_EQ_KSTR(a->native_id, "1763687523.4471822");
        T_EQ_KSTR(a->native_severity, "5");
        T_EQ_INT(a->severity, KB_SEV_LOW);
        T_EQ_KSTR(a->title, "sshd: Attempt to login using a non-existent user");
        T_EQ_KSTR(a->host, "bastion-1");
        T_EQ_KSTR(a->actor_ip, "198.51.100.77");
        T_EQ_KSTR(a->actor_user, "oracle");
        T_EQ_INT(a->time_ms, 1795223523114LL); /* "+0000" */
        T_EQ_KSTR(alert_get(a, "location"), "/var/log/auth.log");
        T_EQ_KSTR(alert_get(a, "decoder"), "sshd");
        T_EQ_KSTR(alert_get(a, "groups"), "syslog,sshd,authentication_failed,invalid_login");
        T_EQ_KSTR(alert_get(a, "src_port"), "50514");
        T_EQ_KSTR(alert_get(a, "rule_id"), "5710");
        T_EQ_KSTR(a->description, "Nov 21 01:12:02 bastion-1 sshd[21877]: Invalid user oracle "
                                  "from 198.51.100.77 port 50514");
        /* three invalid users from one address fold into one issue */
        for (const char *const *k = a->identity; *k; k++) {
            T_CHECK(kb_str_eq(alert_get(a, *k), tl_s(alert_get(&s.al[1], *k))));
            T_CHECK(kb_str_eq(alert_get(a, *k), tl_s(alert_get(&s.al[2], *k))));
        }
        T_EQ_INT(s.al[3].severity, KB_SEV_MEDIUM); /* level 10 */
        T_EQ_KSTR(s.al[4].actor_user, "hanako");   /* srcuser before dstuser */
        T_EQ_KSTR(alert_get(&s.al[4], "dst_user"), "root");
        T_EQ_INT(s.al[4].severity, KB_SEV_LOW);    /* level 3 */
        T_CHECK(kb_str_empty(s.al[5].actor_ip));   /* syscheck: no address */
        T_EQ_KSTR(s.al[5].kind, "wazuh:550");
        T_EQ_KSTR(s.al[5].resource, "/etc/ssh/sshd_config");
        T_CHECK(kb_str_empty(a->resource));
    }
    arena_release(&ar);
    free(t);
}

static void test_levels(void)
{
    static const int want[17] = {0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4};
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (int lv = 0; lv <= 16; lv++) {
        char ev[256];
        snprintf(ev, sizeof ev,
                 "{\"rule\":{\"id\":%d,\"level\":%d},\"agent\":{\"name\":\"h\"}}", 100 + lv, lv);
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm_c(NULL, ev, &ar, &out, &why), KB_OK);
        T_EQ_STR(out.al[0].source, "wazuh");
        T_CHECKF(out.al[0].severity == want[lv], "level %d -> %d", lv, out.al[0].severity);
    }
    arena_release(&ar);
}

static void test_malformed(void)
{
    static const struct {
        const char *ev;
        const char *why;
    } cases[] = {
        {"{\"agent\":{\"name\":\"h\"}}", "wazuh: field 'rule' missing"},
        {"{\"rule\":\"5710\"}", "wazuh: field 'rule' is not an object"},
        {"{\"rule\":{\"level\":3}}", "wazuh: field 'rule.id' missing"},
        {"{\"rule\":{\"id\":[],\"level\":3}}", "wazuh: field 'rule.id' is not a string or number"},
        {"{\"rule\":{\"id\":\"1\"}}", "wazuh: field 'rule.level' missing"},
        {"{\"rule\":{\"id\":\"1\",\"level\":\"high\"}}",
         "wazuh: field 'rule.level' is not a level from 0 to 16"},
        {"{\"rule\":{\"id\":\"1\",\"level\":99}}",
         "wazuh: field 'rule.level' is not a level from 0 to 16"},
        {"null", "wazuh: an alert must be a JSON object"},
    };
    const struct format *f = format_by_name("wazuh");
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
                       "{\"rule\":{\"id\":\"1\",\"level\":\"7\",\"groups\":[1,\"a\",{}]},"
                       "\"agent\":\"x\",\"data\":[],\"timestamp\":1}",
                       &ar, &out, &why),
             KB_OK);
    T_EQ_INT(out.al[0].severity, KB_SEV_MEDIUM);
    T_EQ_KSTR(alert_get(&out.al[0], "groups"), "a");
    T_CHECK(kb_str_empty(out.al[0].host));
    arena_release(&ar);
}

int main(void)
{
    T_RUN(test_examples);
    T_RUN(test_levels);
    T_RUN(test_malformed);
    return t_done();
}
