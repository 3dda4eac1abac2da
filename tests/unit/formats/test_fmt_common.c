/* test_fmt_common.c — the lookup helpers the normalizers share: fmt_members
 * against json_getn (one pass must find what one lookup per name finds),
 * the key summary json_parse leaves on objects, alert_get by every name,
 * and format_by_name with a name that is not the registry's own string. */
#include "fmt_testlib.h"

#include "formats/formats_internal.h"

#include <stdio.h>

static const struct fmt_key member_keys[] = {
    FMT_KEY("eventSource"), FMT_KEY("eventName"), FMT_KEY("a"),  FMT_KEY("ab"),
    FMT_KEY("ba"),          FMT_KEY("dup"),       FMT_KEY("tab\t"), FMT_KEY("absent"),
    FMT_KEY("x.y"),
};
#define NKEYS KB_ARRAY_LEN(member_keys)

/* fmt_members(obj) gives, for every name, what json_getn gives. */
static void check_members(const char *text)
{
    struct arena a;
    arena_init(&a, 1 << 20);
    struct json_value *root = NULL;
    T_EQ_INT(json_parse(text, strlen(text), &tl_lim, &a, &root, NULL), KB_OK);
    const struct json_value *m[NKEYS];
    fmt_members(root, member_keys, NKEYS, m);
    for (size_t i = 0; i < NKEYS; i++) {
        const struct json_value *want = json_getn(root, member_keys[i].name, member_keys[i].len);
        if (m[i] != want)
            fprintf(stderr, "    %s: key '%s'\n", text, member_keys[i].name);
        T_CHECK(m[i] == want);
    }
    arena_release(&a);
}

static void test_members(void)
{
    check_members("{}");
    check_members("[1,2]");
    check_members("\"text\"");
    check_members("{\"eventSource\":\"s\",\"eventName\":\"n\"}");
    /* the first of duplicate keys, as json_getn */
    check_members("{\"dup\":1,\"a\":2,\"dup\":3}");
    /* names that share a summary bit or differ only in order */
    check_members("{\"ab\":1,\"ba\":2,\"a\":3,\"b\":4,\"aab\":5}");
    /* escaped keys compare decoded; a dotted name is one member */
    check_members("{\"tab\\t\":1,\"x.y\":2,\"x\":{\"y\":3}}");
    check_members("{\"eventName\":null,\"eventSource\":{},\"absentx\":1,\"\":2}");

    const struct json_value *m[2] = {(const struct json_value *)1,
                                     (const struct json_value *)1};
    fmt_members(NULL, member_keys, 2, m);
    T_CHECK(m[0] == NULL && m[1] == NULL);
}

/* Every object's summary holds the bit of each of its keys. */
static void test_key_summary(void)
{
    static const char text[] = "{\"k\":1,\"key\":{\"inner\":[{\"deep\":true}]},\"\":0,"
                               "\"esc\\u0041\":2,\"userIdentity\":{}}";
    struct arena a;
    arena_init(&a, 1 << 20);
    struct json_value *root = NULL;
    T_EQ_INT(json_parse(text, sizeof text - 1, &tl_lim, &a, &root, NULL), KB_OK);
    uint64_t bits = 0;
    for (const struct json_value *c = root->u.child; c; c = c->next)
        bits |= json_key_bit(c->key, c->key_len);
    T_CHECK((uint64_t)root->i == bits);
    T_CHECK(json_getn(root, "escA", 4) != NULL);
    T_CHECK(json_getn(root, "", 0) != NULL);
    T_CHECK(json_path(root, "key.inner.0.deep") != NULL);
    T_CHECK(json_path(root, "key.inner.1") == NULL);
    T_CHECK(json_path(root, "key.") == json_get(root, "key"));
    arena_release(&a);
}

static void test_alert_get(void)
{
    static const char *const none[] = {NULL};
    struct alert a;
    alert_init(&a, "cloudtrail", none);
    a.kind = KB_STR_LIT("K");
    a.native_id = KB_STR_LIT("N");
    a.title = KB_STR_LIT("T");
    a.description = KB_STR_LIT("D");
    a.native_severity = KB_STR_LIT("NS");
    a.severity = KB_SEV_HIGH;
    a.account = KB_STR_LIT("AC");
    a.region = KB_STR_LIT("R");
    a.resource = KB_STR_LIT("RS");
    a.actor_user = KB_STR_LIT("AU");
    a.actor_ip = KB_STR_LIT("AI");
    a.host = KB_STR_LIT("H");
    a.outcome = KB_STR_LIT("O");
    a.state = KB_STR_LIT("S");
    T_EQ_INT(alert_add_field(&a, "actor.user.extra", KB_STR_LIT("F1")), KB_OK);
    T_EQ_INT(alert_add_field(&a, "s", KB_STR_LIT("F2")), KB_OK);
    static const struct {
        const char *name, *want;
    } cases[] = {
        {"source", "cloudtrail"}, {"kind", "K"},        {"native_id", "N"},
        {"title", "T"},           {"description", "D"}, {"native_severity", "NS"},
        {"severity", "high"},     {"account", "AC"},    {"region", "R"},
        {"resource", "RS"},       {"actor.user", "AU"}, {"actor.ip", "AI"},
        {"host", "H"},            {"outcome", "O"},     {"state", "S"},
        {"actor.user.extra", "F1"}, {"s", "F2"},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++)
        T_CHECK(kb_str_eq(alert_get(&a, cases[i].name), cases[i].want));
    /* prefixes and extensions of the names are not the names */
    T_CHECK(alert_get(&a, "accoun").p == NULL);
    T_CHECK(alert_get(&a, "accounts").p == NULL);
    T_CHECK(alert_get(&a, "actor").p == NULL);
    T_CHECK(alert_get(&a, "").p == NULL);
}

static void test_format_by_name_copy(void)
{
    char name[16];
    snprintf(name, sizeof name, "%s", "cloudtrail");
    const struct format *f = format_by_name(name);
    T_CHECK(f != NULL && strcmp(f->name, "cloudtrail") == 0);
    T_CHECK(format_by_name(f->name) == f);
}

int main(void)
{
    T_RUN(test_members);
    T_RUN(test_key_summary);
    T_RUN(test_alert_get);
    T_RUN(test_format_by_name_copy);
    return t_done();
}
