/* test_fmt_alertmanager.c — Alertmanager webhook payloads: one alert per
 * element, label-set identity (labels_hash), severity, malformed payloads. */
#include "fmt_testlib.h"

#include <xxhash.h>

static kb_err am_file(const char *name, char **text, struct arena *ar, struct tl_out *out,
                      struct kb_why *why)
{
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/examples/alertmanager/%s", KOBAN_SOURCE_DIR, name);
    *text = t_read_file(path, &len);
    out->n = 0;
    if (!*text)
        return KB_EIO;
    return tl_norm(NULL, (struct kb_str){*text, len}, ar, out, why);
}

static void test_examples(void)
{
    struct tl_check c = {"alertmanager", 0, 0, 0, NULL, NULL};
    tl_each_file(KOBAN_SOURCE_DIR "/examples/alertmanager", ".json", tl_check_file, &c);
    T_EQ_INT(c.events, 2);
    T_EQ_INT(c.alerts, 3);
    T_EQ_INT(c.failures, 0);
}

static void test_firing_resolved(void)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out f, r;
    struct kb_why why = {{0}};
    char *t1 = NULL, *t2 = NULL;
    T_EQ_INT(am_file("firing.json", &t1, &ar, &f, &why), KB_OK);
    T_EQ_INT(am_file("resolved.json", &t2, &ar, &r, &why), KB_OK);
    T_EQ_INT(f.n, 2);
    T_EQ_INT(r.n, 1);
    if (f.n == 2 && r.n == 1) {
        const struct alert *a = &f.al[0];
        T_EQ_STR(a->source, "alertmanager");
        T_EQ_KSTR(a->kind, "HighErrorRate");
        T_EQ_KSTR(a->state, "firing");
        T_EQ_KSTR(a->native_id, "6e1a7c3b9d2f4a58");
        T_EQ_KSTR(a->native_severity, "critical");
        T_EQ_INT(a->severity, KB_SEV_CRITICAL);
        T_EQ_KSTR(a->title, "shop-api 5xx ratio above 5% for 10 minutes");
        T_EQ_KSTR(a->description, "5xx responses are 7.3% of all responses (threshold 5%).");
        T_EQ_KSTR(a->resource, "shop-api"); /* no instance label: job */
        T_EQ_KSTR(a->account, "shop");      /* no project label: namespace */
        T_EQ_INT(a->time_ms, 1795237950000LL);
        T_EQ_KSTR(alert_get(a, "label.service"), "api");
        T_EQ_KSTR(alert_get(a, "receiver"), "koban");
        T_CHECK(kb_str_empty(alert_get(a, "ends_at"))); /* the zero time is dropped */
        T_CHECK(a->raw.p == t1);                         /* the whole payload */

        /* labels_hash: XXH3 over the sorted "k=v\n" pairs */
        static const char pairs[] = "alertname=HighErrorRate\ncluster=prod-tokyo\njob=shop-api\n"
                                    "namespace=shop\nservice=api\nseverity=critical\n";
        char hex[32];
        snprintf(hex, sizeof hex, "%016llx",
                 (unsigned long long)XXH3_64bits(pairs, sizeof pairs - 1));
        T_EQ_KSTR(alert_get(a, "labels_hash"), hex);

        /* resolved: same identity although the annotations changed */
        const struct alert *b = &r.al[0];
        T_EQ_KSTR(b->state, "resolved");
        for (const char *const *k = a->identity; *k; k++)
            T_CHECK(kb_str_eq(alert_get(a, *k), tl_s(alert_get(b, *k))));
        T_EQ_KSTR(alert_get(b, "ends_at"), "2026-11-21T05:41:30.000Z");

        const struct alert *d = &f.al[1];
        T_EQ_KSTR(d->kind, "NodeFilesystemAlmostFull");
        T_EQ_INT(d->severity, KB_SEV_MEDIUM);
        T_EQ_KSTR(d->resource, "10.20.2.31:9100");
        T_EQ_KSTR(d->account, "prod-tokyo"); /* cluster */
        T_CHECK(!kb_str_eq(alert_get(a, "labels_hash"), tl_s(alert_get(d, "labels_hash"))));
    }
    free(t1);
    free(t2);
    arena_release(&ar);
}

/* Label order in the payload does not change the identity. */
static void test_label_order(void)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out a, b;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(NULL,
                       "{\"version\":\"4\",\"alerts\":[{\"labels\":{\"alertname\":\"X\",\"a\":\"1\","
                       "\"b\":\"2\",\"severity\":\"info\"},\"annotations\":{\"summary\":\"s1\"}}]}",
                       &ar, &a, &why),
             KB_OK);
    T_EQ_INT(tl_norm_c(NULL,
                       "{\"version\":\"4\",\"alerts\":[{\"labels\":{\"severity\":\"info\",\"b\":\"2\","
                       "\"alertname\":\"X\",\"a\":\"1\"},\"annotations\":{\"summary\":\"s2\"}}]}",
                       &ar, &b, &why),
             KB_OK);
    T_EQ_KSTR(alert_get(&a.al[0], "labels_hash"), tl_s(alert_get(&b.al[0], "labels_hash")));
    T_EQ_INT(a.al[0].severity, KB_SEV_LOW);
    T_EQ_KSTR(a.al[0].title, "s1");
    /* no severity label -> none; no summary -> the alert name */
    T_EQ_INT(tl_norm_c(NULL, "{\"version\":\"4\",\"alerts\":[{\"labels\":{\"alertname\":\"Y\"}}]}",
                       &ar, &a, &why),
             KB_OK);
    T_EQ_INT(a.al[0].severity, KB_SEV_NONE);
    T_EQ_KSTR(a.al[0].title, "Y");
    /* an empty alerts array is a valid payload with nothing in it */
    T_EQ_INT(tl_norm_c(NULL, "{\"version\":\"4\",\"alerts\":[]}", &ar, &a, &why), KB_OK);
    T_EQ_INT(a.n, 0);
    arena_release(&ar);
}

static void test_many_labels(void)
{
    char ev[8192];
    size_t off = (size_t)snprintf(ev, sizeof ev,
                                  "{\"version\":\"4\",\"alerts\":[{\"labels\":{\"alertname\":\"Z\"");
    for (int i = 0; i < 50; i++)
        off += (size_t)snprintf(ev + off, sizeof ev - off, ",\"l%02d\":\"v%d\"", i, i);
    snprintf(ev + off, sizeof ev - off, "}}]}");
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(NULL, ev, &ar, &out, &why), KB_OK);
    T_EQ_INT(out.al[0].nfields, ALERT_MAX_FIELDS);
    T_CHECK(!kb_str_empty(alert_get(&out.al[0], "labels_hash")));
    T_EQ_KSTR(alert_get(&out.al[0], "label.alertname"), "Z");
    arena_release(&ar);
}

static void test_malformed(void)
{
    static const struct {
        const char *ev;
        const char *why;
    } cases[] = {
        {"{\"version\":\"4\",\"status\":\"firing\"}", "alertmanager: field 'alerts' missing"},
        {"{\"alerts\":{}}", "alertmanager: field 'alerts' is not an array"},
        {"{\"alerts\":[{\"labels\":{\"alertname\":\"A\"}},3]}",
         "alertmanager: alerts[1] is not an object"},
        {"{\"alerts\":[{\"status\":\"firing\"}]}", "alertmanager: alerts[0]: field 'labels' missing"},
        {"{\"alerts\":[{\"labels\":[]}]}", "alertmanager: alerts[0]: field 'labels' is not an object"},
        {"{\"alerts\":[{\"labels\":{\"alertname\":\"A\",\"n\":1}}]}",
         "alertmanager: alerts[0]: label 'n' is not a string"},
        {"{\"alerts\":[{\"labels\":{\"job\":\"j\"}}]}",
         "alertmanager: alerts[0]: label 'alertname' missing"},
        {"{\"alerts\":[{\"labels\":{\"alertname\":\"A\"},\"annotations\":\"x\"}]}",
         "alertmanager: alerts[0]: field 'annotations' is not an object"},
        {"[]", "alertmanager: a webhook payload must be a JSON object"},
    };
    const struct format *f = format_by_name("alertmanager");
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; f && i < KB_ARRAY_LEN(cases); i++) {
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm_c(f, cases[i].ev, &ar, &out, &why), KB_EINVAL);
        T_EQ_STR(why.msg, cases[i].why);
        T_EQ_INT(out.n, 0); /* nothing emitted before the whole payload is checked */
    }
    arena_release(&ar);
}

int main(void)
{
    T_RUN(test_examples);
    T_RUN(test_firing_resolved);
    T_RUN(test_label_order);
    T_RUN(test_many_labels);
    T_RUN(test_malformed);
    return t_done();
}
