/* test_fmt_falco.c — Falco JSON output: koban's examples, priorities,
 * output_fields as fields, malformed events. */
#include "fmt_testlib.h"

struct fc_seen {
    struct alert al[8];
    size_t n;
    struct arena *ar;
};

static void fc_event(void *ctx, struct kb_str raw)
{
    struct fc_seen *s = ctx;
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm(NULL, raw, s->ar, &out, &why), KB_OK);
    if (out.n == 1 && s->n < 8)
        s->al[s->n++] = out.al[0];
}

static void test_examples(void)
{
    struct tl_check c = {"falco", 0, 0, 0, NULL, NULL};
    tl_each_file(KOBAN_SOURCE_DIR "/examples/falco", ".json", tl_check_file, &c);
    T_EQ_INT(c.events, 4);
    T_EQ_INT(c.failures, 0);

    size_t len;
    char *t = t_read_file(KOBAN_SOURCE_DIR "/examples/falco/events.json", &len);
    T_CHECK(t != NULL);
    if (!t)
        return;
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct fc_seen s = {.n = 0, .ar = &ar};
    tl_split(t, len, fc_event, &s);
    T_EQ_INT(s.n, 4);
    if (s.n == 4) {
        const struct alert *a = &s.al[0];
        T_EQ_STR(a->source, "falco");
        T_EQ_KSTR(a->kind, "Terminal shell in container");
        T_EQ_KSTR(a->title, "Terminal shell in container");
        T_EQ_KSTR(a->native_severity, "Notice");
        T_EQ_INT(a->severity, KB_SEV_LOW);
        T_EQ_KSTR(a->host, "gke-shop-pool-1-8d2f");
        T_EQ_KSTR(a->actor_user, "root");
        T_EQ_KSTR(a->resource, "registry.example.co.jp/shop/api");
        T_EQ_KSTR(a->account, "shop");
        T_EQ_KSTR(a->native_id, "0f0b8a7c-3d1e-4b5f-9a2c-6e8d7f1a2b3c");
        T_EQ_INT(a->time_ms, 1795237331538LL);
        T_EQ_KSTR(alert_get(a, "container.id"), "5f0c2a9e71b4");
        T_EQ_KSTR(alert_get(a, "proc.name"), "bash");
        T_EQ_KSTR(alert_get(a, "proc.tty"), "34816");
        T_EQ_KSTR(alert_get(a, "user.loginuid"), "-1");
        T_EQ_KSTR(alert_get(a, "evt.time"), "1763701331538401221");
        T_EQ_KSTR(alert_get(a, "falco_source"), "syscall");
        T_EQ_KSTR(alert_get(a, "tags"), "T1059,container,maturity_stable,mitre_execution,shell");
        /* a second shell in another pod of the same image: one issue */
        for (const char *const *k = a->identity; *k; k++)
            T_CHECK(kb_str_eq(alert_get(a, *k), tl_s(alert_get(&s.al[1], *k))));
        T_EQ_INT(s.al[2].severity, KB_SEV_MEDIUM); /* Warning */
        const struct alert *h = &s.al[3];
        T_EQ_INT(h->severity, KB_SEV_CRITICAL);
        T_EQ_KSTR(h->resource, "/tmp/.x/xmrig"); /* on the host: the program */
        T_EQ_KSTR(alert_get(h, "fd.sip"), "45.9.148.117");
    }
    arena_release(&ar);
    free(t);
}

static void test_priorities(void)
{
    static const struct {
        const char *p;
        int want;
    } cases[] = {{"Emergency", 4}, {"ALERT", 4}, {"Critical", 4}, {"Error", 3},
                 {"Warning", 2},   {"Notice", 1}, {"Informational", 1}, {"Debug", 0}};
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        char ev[256];
        snprintf(ev, sizeof ev,
                 "{\"rule\":\"r\",\"priority\":\"%s\",\"output\":\"o\",\"output_fields\":{}}",
                 cases[i].p);
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm_c(NULL, ev, &ar, &out, &why), KB_OK);
        T_EQ_STR(out.al[0].source, "falco");
        T_CHECKF(out.al[0].severity == cases[i].want, "%s -> %d", cases[i].p, out.al[0].severity);
    }
    arena_release(&ar);
}

static void test_many_fields(void)
{
    char ev[8192];
    size_t off = (size_t)snprintf(ev, sizeof ev,
                                  "{\"rule\":\"r\",\"priority\":\"Error\",\"output\":\"o\","
                                  "\"output_fields\":{");
    for (int i = 0; i < 60; i++)
        off += (size_t)snprintf(ev + off, sizeof ev - off, "%s\"f.%d\":%d", i ? "," : "", i, i);
    snprintf(ev + off, sizeof ev - off, "}}");
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(NULL, ev, &ar, &out, &why), KB_OK);
    T_EQ_INT(out.al[0].nfields, ALERT_MAX_FIELDS);
    T_EQ_KSTR(alert_get(&out.al[0], "f.0"), "0");
    arena_release(&ar);
}

static void test_malformed(void)
{
    static const struct {
        const char *ev;
        const char *why;
    } cases[] = {
        {"{\"priority\":\"Error\",\"output\":\"o\"}", "falco: field 'rule' missing"},
        {"{\"rule\":\"r\",\"output\":\"o\"}", "falco: field 'priority' missing"},
        {"{\"rule\":\"r\",\"priority\":3}", "falco: field 'priority' is not a string"},
        {"{\"rule\":\"r\",\"priority\":\"Severe\"}", "falco: field 'priority' is not a Falco priority"},
        {"{\"rule\":\"r\",\"priority\":\"Error\",\"output_fields\":[1]}",
         "falco: field 'output_fields' is not an object"},
        {"true", "falco: an event must be a JSON object"},
    };
    const struct format *f = format_by_name("falco");
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; f && i < KB_ARRAY_LEN(cases); i++) {
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm_c(f, cases[i].ev, &ar, &out, &why), KB_EINVAL);
        T_EQ_STR(why.msg, cases[i].why);
    }
    arena_release(&ar);
}

int main(void)
{
    T_RUN(test_examples);
    T_RUN(test_priorities);
    T_RUN(test_many_fields);
    T_RUN(test_malformed);
    return t_done();
}
