/* test_fmt_report.c — messages reported to security: koban's examples,
 * detection only of the report shape, the title, identity, malformed
 * reports. */
#include "fmt_testlib.h"

static void test_examples(void)
{
    struct tl_check c = {"report", 0, 0, 0, NULL, NULL};
    tl_each_file(KOBAN_SOURCE_DIR "/examples/report", ".json", tl_check_file, &c);
    T_EQ_INT(c.events, 2);
    T_EQ_INT(c.failures, 0);
}

static void test_fields(void)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    const char *ev = "{\"report\":{\"reporter\":\"U1\",\"channel\":\"C2\",\"ts\":\"17.5\","
                     "\"author\":\"U3\",\"permalink\":\"https://s/p17\",\"text\":\"hi\"}}";
    T_EQ_INT(tl_norm_c(NULL, ev, &ar, &out, &why), KB_OK);
    T_EQ_INT(out.n, 1);
    const struct alert *a = &out.al[0];
    T_EQ_STR(a->source, "report");
    T_EQ_KSTR(a->kind, "report"); /* no "via" */
    T_EQ_INT(a->severity, KB_SEV_MEDIUM);
    T_EQ_KSTR(a->title, "Reported by U1 in #C2: hi"); /* ids when names are absent */
    T_EQ_KSTR(a->actor_user, "U3");
    T_EQ_KSTR(a->resource, "https://s/p17");
    T_EQ_KSTR(alert_get(a, "channel"), "C2");
    T_EQ_KSTR(alert_get(a, "ts"), "17.5");
    T_EQ_STR(a->identity[0], "channel");
    T_EQ_STR(a->identity[1], "ts");

    /* A long message is quoted up to 80 bytes, never inside a character. */
    char big[400];
    int n = snprintf(big, sizeof big, "{\"report\":{\"reporter\":\"U1\",\"channel\":\"C\",\"ts\":\"1\","
                                      "\"text\":\"");
    for (int i = 0; i < 50; i++)
        n += snprintf(big + n, sizeof big - (size_t)n, "\xc3\xa9"); /* é: 2 bytes */
    snprintf(big + n, sizeof big - (size_t)n, "\"}}");
    T_EQ_INT(tl_norm_c(NULL, big, &ar, &out, &why), KB_OK);
    struct kb_str t = out.al[0].title;
    const char *pre = "Reported by U1 in #C: ";
    size_t quoted = t.n - strlen(pre) - strlen("…");
    T_EQ_INT(quoted, 80);
    T_CHECK(kb_str_eq((struct kb_str){t.p + t.n - 3, 3}, "…"));
    arena_release(&ar);
}

static void test_detect(void)
{
    T_EQ_STR(tl_detect(KB_STR_LIT("{\"report\":{\"reporter\":\"U\",\"ts\":\"1\"}}")), "report");
    /* Another object with a "report" member is not a report. */
    T_EQ_STR(tl_detect(KB_STR_LIT("{\"report\":\"weekly\",\"title\":\"x\"}")), "generic");
    T_EQ_STR(tl_detect(KB_STR_LIT("{\"report\":{\"name\":\"x\"}}")), "generic");
}

static void test_malformed(void)
{
    static const struct {
        const char *ev;
        const char *why;
    } cases[] = {
        {"{\"x\":1}", "report: field 'report' missing or not an object"},
        {"{\"report\":{\"channel\":\"C\",\"ts\":\"1\"}}", "report: field 'report.reporter' missing"},
        {"{\"report\":{\"reporter\":\"U\",\"ts\":\"1\"}}", "report: field 'report.channel' missing"},
        {"{\"report\":{\"reporter\":\"U\",\"channel\":\"C\",\"ts\":1}}",
         "report: field 'report.ts' is not a string"},
    };
    const struct format *f = format_by_name("report");
    T_CHECK(f != NULL);
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
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
    T_RUN(test_fields);
    T_RUN(test_detect);
    T_RUN(test_malformed);
    return t_done();
}
