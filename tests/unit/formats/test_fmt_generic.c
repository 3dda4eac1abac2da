/* test_fmt_generic.c — the generic format: member names, time forms,
 * severity names and numbers, non-object events. */
#include "fmt_testlib.h"

static void test_fields(void)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(NULL,
                       "{\"message\":\"disk almost full\",\"description\":\"92% used\","
                       "\"timestamp\":\"2026-11-21T05:12:30Z\",\"level\":\"warning\","
                       "\"hostname\":\"db-1\",\"client_ip\":\"10.0.0.9\",\"type\":\"disk\","
                       "\"user\":\"postgres\",\"id\":42,\"account\":\"a1\"}",
                       &ar, &out, &why),
             KB_OK);
    T_EQ_INT(out.n, 1);
    const struct alert *a = &out.al[0];
    T_EQ_STR(a->source, "generic");
    T_EQ_KSTR(a->title, "disk almost full");
    T_EQ_KSTR(a->description, "92% used");
    T_EQ_INT(a->time_ms, 1795237950000LL);
    T_EQ_KSTR(a->native_severity, "warning");
    T_EQ_INT(a->severity, KB_SEV_MEDIUM);
    T_EQ_KSTR(a->host, "db-1");
    T_EQ_KSTR(a->actor_ip, "10.0.0.9");
    T_EQ_KSTR(a->actor_user, "postgres");
    T_EQ_KSTR(a->kind, "disk");
    T_EQ_KSTR(a->native_id, "42");
    T_EQ_KSTR(a->account, "a1");
    T_EQ_STR(a->identity[0], "kind");

    /* the description is the title when nothing else is: not repeated */
    T_EQ_INT(tl_norm_c(NULL, "{\"description\":\"only this\"}", &ar, &out, &why), KB_OK);
    T_EQ_KSTR(out.al[0].title, "only this");
    T_CHECK(kb_str_empty(out.al[0].description));
    T_EQ_KSTR(out.al[0].kind, "generic");
    T_EQ_INT(out.al[0].severity, KB_SEV_NONE);
    T_EQ_INT(out.al[0].time_ms, 0);
    arena_release(&ar);
}

static void test_times(void)
{
    static const struct {
        const char *member;
        long long want;
    } cases[] = {
        {"\"time\":1795237950", 1795237950000LL},
        {"\"ts\":1795237950123", 1795237950123LL},
        {"\"ts\":1795237950.5", 1795237950500LL},
        {"\"@timestamp\":\"2026-11-21T05:12:30.000+09:00\"", 1795205550000LL},
        {"\"eventTime\":\"1795237950\"", 1795237950000LL},
        {"\"time\":\"yesterday\"", 0},
        {"\"time\":-5", 0},
        {"\"time\":{}", 0},
    };
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        char ev[256];
        snprintf(ev, sizeof ev, "{%s}", cases[i].member);
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm_c(NULL, ev, &ar, &out, &why), KB_OK);
        T_CHECKF(out.al[0].time_ms == cases[i].want, "%s -> %lld", cases[i].member,
                 (long long)out.al[0].time_ms);
    }
    arena_release(&ar);
}

static void test_severity(void)
{
    static const struct {
        const char *member;
        int want;
    } cases[] = {
        {"\"severity\":\"CRITICAL\"", 4}, {"\"severity\":\"high\"", 3},
        {"\"level\":\"error\"", 3},       {"\"level\":\"warn\"", 2},
        {"\"priority\":\"low\"", 1},      {"\"severity\":\"info\"", 0},
        {"\"severity\":\"bogus\"", 0},    {"\"severity\":9.5", 4},
        {"\"severity\":7", 3},            {"\"level\":5", 2},
        {"\"level\":\"2\"", 1},           {"\"level\":0", 0},
        {"\"level\":42", 0},              {"\"level\":[]", 0},
    };
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        char ev[256];
        snprintf(ev, sizeof ev, "{%s}", cases[i].member);
        struct tl_out out;
        struct kb_why why = {{0}};
        T_EQ_INT(tl_norm_c(NULL, ev, &ar, &out, &why), KB_OK);
        T_CHECKF(out.al[0].severity == cases[i].want, "%s -> %d", cases[i].member,
                 out.al[0].severity);
    }
    arena_release(&ar);
}

static void test_not_objects(void)
{
    static const char *const cases[] = {"42", "\"text\"", "[1,2]", "[[]]", "null", "true"};
    const struct format *g = format_by_name("generic");
    struct arena ar = ARENA_INIT(TL_ARENA);
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        struct tl_out out;
        struct kb_why why = {{0}};
        /* detected or forced, a non-object is rejected with the same reason */
        T_EQ_INT(tl_norm_c(NULL, cases[i], &ar, &out, &why), KB_EINVAL);
        T_EQ_STR(why.msg, "generic events must be JSON objects");
        T_EQ_INT(tl_norm_c(g, cases[i], &ar, &out, &why), KB_EINVAL);
        T_EQ_STR(why.msg, "generic events must be JSON objects");
        T_EQ_INT(out.n, 0);
    }
    arena_release(&ar);
}

int main(void)
{
    T_RUN(test_fields);
    T_RUN(test_times);
    T_RUN(test_severity);
    T_RUN(test_not_objects);
    return t_done();
}
