/*
 * test_sigma_modifiers.c — every value form and modifier of Sigma, each
 * with events that must match and events that must not.
 */
#include "test_sigma_util.h"

/* One rule with selection `sel` (YAML lines indented by 4). */
#define RULE(sel)                                                                              \
    "title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n" sel    \
    "  condition: sel\n"
static int rm(const char *sel, const char *json)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, RULE("%s"), sel);
    return su_match(yaml, json);
}
#define YES(sel, json) T_CHECKF(rm(sel, json) == 1, "%s on %s", sel, json)
#define NO(sel, json) T_CHECKF(rm(sel, json) == 0, "%s on %s", sel, json)

static void test_plain_values(void)
{
    YES("    f: abc\n", "{\"f\":\"ABC\"}");        /* case-insensitive */
    NO("    f: abc\n", "{\"f\":\"abcd\"}");        /* whole value */
    NO("    f: abc\n", "{\"g\":\"abc\"}");         /* absent field */
    YES("    f: ''\n", "{\"f\":\"\"}");
    NO("    f: ''\n", "{\"f\":\"x\"}");
    YES("    f: [a, b]\n", "{\"f\":\"b\"}");       /* list: OR */
    NO("    f: [a, b]\n", "{\"f\":\"c\"}");
    YES("    f: a\n    g: b\n", "{\"f\":\"a\",\"g\":\"b\"}"); /* map: AND */
    NO("    f: a\n    g: b\n", "{\"f\":\"a\",\"g\":\"c\"}");
    YES("    f: x\n", "{\"f\":[\"y\",\"X\"]}");    /* list value: any element */
    NO("    f: x\n", "{\"f\":[\"y\",\"z\"]}");
    NO("    f: x\n", "{\"f\":{\"x\":\"x\"}}");     /* objects never equal a string */
}

static void test_list_of_maps(void)
{
    const char *sel = "    - f: a\n      g: b\n    - h: c\n";
    YES(sel, "{\"f\":\"a\",\"g\":\"b\"}");
    YES(sel, "{\"h\":\"c\"}");
    NO(sel, "{\"f\":\"a\",\"h\":\"d\"}");
}

static void test_wildcards(void)
{
    YES("    f: 'a*c'\n", "{\"f\":\"abbbc\"}");
    YES("    f: 'a*c'\n", "{\"f\":\"ac\"}");
    NO("    f: 'a*c'\n", "{\"f\":\"abcd\"}");
    YES("    f: 'a?c'\n", "{\"f\":\"abc\"}");
    YES("    f: 'a?c'\n", "{\"f\":\"a\\u00e9c\"}"); /* ? is one character, é is 2 bytes */
    NO("    f: 'a?c'\n", "{\"f\":\"ac\"}");
    YES("    f: '*'\n", "{\"f\":\"anything\"}");
    NO("    f: '*'\n", "{\"g\":\"x\"}");
    YES("    f: '*a*b*c*'\n", "{\"f\":\"xxAyyBzzC\"}");
    NO("    f: '*a*b*c*'\n", "{\"f\":\"xxCyyBzzA\"}");
    /* escapes: \* and \? are literal, \\ is one backslash, \x stays \x */
    YES("    f: 'a\\*c'\n", "{\"f\":\"a*c\"}");
    NO("    f: 'a\\*c'\n", "{\"f\":\"abc\"}");
    YES("    f: 'a\\?'\n", "{\"f\":\"a?\"}");
    NO("    f: 'a\\?'\n", "{\"f\":\"ab\"}");
    YES("    f: 'C:\\\\Windows\\\\*'\n", "{\"f\":\"c:\\\\windows\\\\x\"}");
    NO("    f: 'C:\\Windows\\*'\n", "{\"f\":\"C:\\\\Windows\\\\x\"}"); /* \* is a literal star */
    YES("    f: 'C:\\Windows\\*'\n", "{\"f\":\"C:\\\\Windows*\"}");
    YES("    f: 'C:\\Windows\\\\*'\n", "{\"f\":\"C:\\\\Windows\\\\abc\"}");
}

static void test_contains_startswith_endswith(void)
{
    YES("    f|contains: BC\n", "{\"f\":\"abcd\"}");
    NO("    f|contains: bd\n", "{\"f\":\"abcd\"}");
    YES("    f|startswith: AB\n", "{\"f\":\"abcd\"}");
    NO("    f|startswith: bc\n", "{\"f\":\"abcd\"}");
    YES("    f|endswith: '\\cmd.exe'\n", "{\"f\":\"C:\\\\x\\\\CMD.EXE\"}");
    NO("    f|endswith: '\\cmd.exe'\n", "{\"f\":\"C:\\\\x\\\\cmd.exe2\"}");
    YES("    f|contains: 'a*c'\n", "{\"f\":\"xxabbcxx\"}"); /* wildcards inside */
    NO("    f|contains: 'a?c'\n", "{\"f\":\"xxabbcxx\"}");
    YES("    f|contains|cased: Ab\n", "{\"f\":\"xAbx\"}");
    NO("    f|contains|cased: Ab\n", "{\"f\":\"xabx\"}");
    YES("    f|cased: Ab\n", "{\"f\":\"Ab\"}");
    NO("    f|cased: Ab\n", "{\"f\":\"AB\"}");
}

static void test_all(void)
{
    const char *sel = "    f|contains|all:\n      - ' -a'\n      - ' -b'\n";
    YES(sel, "{\"f\":\"x -b -a\"}");
    NO(sel, "{\"f\":\"x -a\"}");
    /* all over a list value: each needle in some element */
    YES(sel, "{\"f\":[\"x -a\",\"y -b\"]}");
}

static void test_null_and_exists(void)
{
    YES("    f: null\n", "{\"g\":1}");
    YES("    f: null\n", "{\"f\":null}");
    NO("    f: null\n", "{\"f\":\"\"}");
    YES("    f: ~\n", "{\"f\":null}");
    YES("    f|exists: true\n", "{\"f\":null}"); /* present, even null */
    NO("    f|exists: true\n", "{\"g\":1}");
    YES("    f|exists: false\n", "{\"g\":1}");
    NO("    f|exists: false\n", "{\"f\":\"\"}");
}

static void test_numbers_and_bools(void)
{
    YES("    f: 4688\n", "{\"f\":4688}");
    YES("    f: 4688\n", "{\"f\":\"4688\"}"); /* its string form */
    NO("    f: 4688\n", "{\"f\":46880}");
    NO("    f: 4688\n", "{\"f\":\"4688 \"}");
    YES("    f: 1.5\n", "{\"f\":1.50}");
    YES("    f: '4688'\n", "{\"f\":4688}"); /* a string matches the number's text */
    YES("    f|startswith: 46\n", "{\"f\":4688}");
    YES("    f: true\n", "{\"f\":true}");
    YES("    f: true\n", "{\"f\":\"True\"}");
    NO("    f: true\n", "{\"f\":false}");
    NO("    f: false\n", "{\"f\":\"no\"}");
}

static void test_compare(void)
{
    YES("    f|gt: 10\n", "{\"f\":11}");
    NO("    f|gt: 10\n", "{\"f\":10}");
    YES("    f|gte: 10\n", "{\"f\":10}");
    YES("    f|lt: 10\n", "{\"f\":\"9.5\"}"); /* numeric string */
    NO("    f|lt: 10\n", "{\"f\":\"nine\"}");
    YES("    f|lte: 1.5\n", "{\"f\":1.5}");
    NO("    f|lte: 1.5\n", "{\"f\":1.6}");
    NO("    f|gt: 10\n", "{\"g\":11}");
}

static void test_neq(void)
{
    YES("    f|neq: a\n", "{\"f\":\"b\"}");
    NO("    f|neq: a\n", "{\"f\":\"A\"}");
    NO("    f|neq: a\n", "{\"g\":\"b\"}");       /* needs a value */
    YES("    f|neq: [a, b]\n", "{\"f\":\"c\"}");  /* differs from every one */
    NO("    f|neq: [a, b]\n", "{\"f\":\"b\"}");
    YES("    f|neq: 5\n", "{\"f\":6}");
    NO("    f|neq: 5\n", "{\"f\":5}");
    YES("    f|neq: null\n", "{\"f\":\"x\"}");
    NO("    f|neq: null\n", "{\"f\":null}");
}

static void test_windash(void)
{
    const char *sel = "    f|windash|contains: ' -enc '\n";
    YES(sel, "{\"f\":\"ps -enc abc\"}");
    YES(sel, "{\"f\":\"ps /enc abc\"}");
    YES(sel, "{\"f\":\"ps \\u2013enc abc\"}"); /* en dash */
    YES(sel, "{\"f\":\"ps \\u2014enc abc\"}"); /* em dash */
    YES(sel, "{\"f\":\"ps \\u2015enc abc\"}"); /* horizontal bar */
    NO(sel, "{\"f\":\"ps +enc abc\"}");
    /* every flag position varies independently */
    YES("    f|windash: '-a -b'\n", "{\"f\":\"/a -b\"}");
    YES("    f|windash: '-a -b'\n", "{\"f\":\"-a /b\"}");
    NO("    f|windash: 'a-b'\n", "{\"f\":\"a/b\"}"); /* not a flag: inside a word */
}

static void test_re(void)
{
    YES("    f|re: '^a.c$'\n", "{\"f\":\"abc\"}");
    NO("    f|re: '^a.c$'\n", "{\"f\":\"ABC\"}");      /* case-sensitive */
    YES("    f|re|i: '^a.c$'\n", "{\"f\":\"ABC\"}");
    YES("    f|re: 'b'\n", "{\"f\":\"abc\"}");          /* search, not anchored */
    NO("    f|re: '^b$'\n", "{\"f\":\"a\\nb\"}");
    YES("    f|re|m: '^b$'\n", "{\"f\":\"a\\nb\"}");
    NO("    f|re: 'a.b'\n", "{\"f\":\"a\\nb\"}");
    YES("    f|re|s: 'a.b'\n", "{\"f\":\"a\\nb\"}");
    YES("    f|re: '^4[0-9]+$'\n", "{\"f\":4688}");     /* numbers by their text */
    char err[256];
    T_CHECK(strstr(su_load_error(RULE("    f|re: 'a(b'\n"), err, sizeof err),
                   "t.yml:7: detection.sel.f|re: bad regular expression") != NULL);
}

static void test_re_limit(void)
{
    struct sigma_options opt = {.re_match_limit = 1000};
    struct sigma_ruleset *rs = su_load(RULE("    f|re: '^(a+)+$'\n"), &opt);
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    char json[200];
    snprintf(json, sizeof json, "{\"f\":\"%s\"}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    struct arena a = ARENA_INIT(1 << 20);
    struct json_value *root = NULL;
    T_CHECK(json_parse(json, strlen(json), NULL, &a, &root, NULL) == KB_OK);
    struct sigma_event ev = {root, json, strlen(json)};
    bool m = true;
    T_EQ_INT(sigma_match(sigma_ruleset_rule(rs, 0), &ev, &m), KB_ETOOBIG);
    T_CHECK(!m);
    struct sigma_stats st;
    sigma_ruleset_stats(rs, &st);
    T_EQ_INT(st.re_limited, 1);
    arena_release(&a);
    sigma_ruleset_free(rs);
}

static void test_base64_and_utf16(void)
{
    /* "http://" = aHR0cDovLw== */
    YES("    f|base64: 'http://'\n", "{\"f\":\"aHR0cDovLw==\"}");
    NO("    f|base64: 'http://'\n", "{\"f\":\"AHR0CDOVLW==\"}"); /* base64 is cased */
    YES("    f|base64|contains: 'http://'\n", "{\"f\":\"xx aHR0cDovLw== yy\"}");
    /* base64offset: the value at offsets 0, 1, 2 of an encoded text */
    const char *off = "    f|base64offset|contains: 'http://'\n";
    YES(off, "{\"f\":\"aHR0cDovL2V2aWwuY29t\"}");     /* "http://evil.com" */
    YES(off, "{\"f\":\"eGh0dHA6Ly9ldmlsLmNvbQ==\"}"); /* "xhttp://evil.com" */
    YES(off, "{\"f\":\"eHhodHRwOi8vZXZpbC5jb20=\"}"); /* "xxhttp://evil.com" */
    NO(off, "{\"f\":\"aHR0cHM6Ly9ldmlsLmNvbQ==\"}");  /* "https://evil.com" */
    /* UTF-16: "cmd" -> 63 00 6d 00 64 00 -> YwBtAGQA */
    YES("    f|utf16le|base64: cmd\n", "{\"f\":\"YwBtAGQA\"}");
    YES("    f|wide|base64: cmd\n", "{\"f\":\"YwBtAGQA\"}");
    YES("    f|utf16be|base64: cmd\n", "{\"f\":\"AGMAbQBk\"}");
    YES("    f|utf16|base64: cmd\n", "{\"f\":\"//5jAG0AZAA=\"}");
    YES("    f|wide|base64offset|contains: cmd\n", "{\"f\":\"IABjAG0AZAAgAA==\"}"); /* " cmd " */
    NO("    f|wide|base64offset|contains: cmd\n", "{\"f\":\"IABwAHMAIAA=\"}");     /* " ps " */
}

static void test_cidr(void)
{
    YES("    ip|cidr: 10.0.0.0/8\n", "{\"ip\":\"10.20.30.40\"}");
    NO("    ip|cidr: 10.0.0.0/8\n", "{\"ip\":\"11.0.0.1\"}");
    YES("    ip|cidr: 192.168.1.0/25\n", "{\"ip\":\"192.168.1.127\"}");
    NO("    ip|cidr: 192.168.1.0/25\n", "{\"ip\":\"192.168.1.128\"}");
    YES("    ip|cidr: 'fe80::/10'\n", "{\"ip\":\"FE80::1\"}");
    NO("    ip|cidr: 'fe80::/10'\n", "{\"ip\":\"fec0::1\"}");
    NO("    ip|cidr: 'fe80::/10'\n", "{\"ip\":\"10.0.0.1\"}");   /* other family */
    NO("    ip|cidr: 10.0.0.0/8\n", "{\"ip\":\"not an address\"}"); /* non-IP: no match */
    NO("    ip|cidr: 10.0.0.0/8\n", "{\"ip\":10}");
    YES("    ip|cidr: [10.0.0.0/8, 172.16.0.0/12]\n", "{\"ip\":\"172.20.0.1\"}");
    char err[256];
    T_CHECK(strstr(su_load_error(RULE("    ip|cidr: 10.0.0.0/33\n"), err, sizeof err),
                   "is not an IPv4 or IPv6 CIDR") != NULL);
}

static void test_expand(void)
{
    static const char *const admins[] = {"root", "adm*"};
    struct sigma_placeholder ph = {"admins", admins, 2};
    struct sigma_options opt = {.placeholders = &ph, .nplaceholders = 1};
    struct sigma_ruleset *rs = su_load(RULE("    user|expand: '%admins%'\n"), &opt);
    T_CHECK(rs != NULL);
    if (!rs)
        return;
    const struct sigma_rule *r = sigma_ruleset_rule(rs, 0);
    T_EQ_INT(su_match_rule(r, "{\"user\":\"root\"}"), 1);
    T_EQ_INT(su_match_rule(r, "{\"user\":\"administrator\"}"), 1); /* values keep wildcards */
    T_EQ_INT(su_match_rule(r, "{\"user\":\"bob\"}"), 0);
    sigma_ruleset_free(rs);
    char err[256];
    T_EQ_STR(su_load_error(RULE("    user|expand: '%admins%'\n"), err, sizeof err),
             "t.yml:7: detection.sel.user|expand: unresolved placeholder '%admins%'");
}

static void test_fieldref(void)
{
    YES("    a|fieldref: b\n", "{\"a\":\"Bob\",\"b\":\"bob\"}");
    NO("    a|fieldref: b\n", "{\"a\":\"bob\",\"b\":\"alice\"}");
    NO("    a|fieldref: b\n", "{\"a\":\"bob\"}");
    YES("    a|fieldref|startswith: b\n", "{\"a\":\"bobby\",\"b\":\"bob\"}");
    YES("    a|fieldref|endswith: b\n", "{\"a\":\"xbob\",\"b\":\"BOB\"}");
    YES("    a|fieldref|contains: b\n", "{\"a\":\"xbobx\",\"b\":\"bob\"}");
    NO("    a|fieldref|cased: b\n", "{\"a\":\"Bob\",\"b\":\"bob\"}");
    YES("    a|fieldref|neq: b\n", "{\"a\":\"bob\",\"b\":\"alice\"}");
    NO("    a|fieldref|neq: b\n", "{\"a\":\"bob\",\"b\":\"bob\"}");
    YES("    a|fieldref: x.y\n", "{\"a\":5,\"x\":{\"y\":5}}");
}

static void test_time_parts(void)
{
    const char *ev = "{\"t\":\"2024-07-31T12:46:41Z\"}"; /* a Wednesday of ISO week 31 */
    YES("    t|minute: 46\n", ev);
    YES("    t|hour: 12\n", ev);
    NO("    t|hour: 13\n", ev);
    YES("    t|day: 31\n", ev);
    YES("    t|week: 31\n", ev);
    YES("    t|month: 7\n", ev);
    YES("    t|year: 2024\n", ev);
    YES("    t|hour|gte: 9\n", ev);
    NO("    t|hour|lt: 9\n", ev);
    YES("    t|week: 1\n", "{\"t\":\"2024-12-30 08:00:00\"}"); /* ISO week 1 of 2025 */
    YES("    t|week: 53\n", "{\"t\":\"2021-01-01\"}");         /* week 53 of 2020 */
    YES("    t|hour: 12\n", "{\"t\":1722430001}");            /* epoch seconds, UTC */
    YES("    t|hour: 12\n", "{\"t\":1722430001000}");         /* epoch milliseconds */
    NO("    t|hour: 12\n", "{\"t\":\"yesterday\"}");
}

static void test_keywords(void)
{
    const char *rule = "title: t\ndetection:\n  kw:\n    - 'Failed password'\n    - 'evil*.exe'\n"
                       "  condition: kw\n";
    T_EQ_INT(su_match(rule, "{\"message\":\"sshd: failed PASSWORD for root\"}"), 1);
    T_EQ_INT(su_match(rule, "{\"a\":{\"b\":[\"x\",\"run EVILtool.exe now\"]}}"), 1);
    T_EQ_INT(su_match(rule, "{\"message\":\"accepted password\"}"), 0);
    /* keys are not text of the event: only values are searched */
    T_EQ_INT(su_match(rule, "{\"Failed password\":1}"), 0);
    const char *one = "title: t\ndetection:\n  kw: 4625\n  condition: kw\n";
    T_EQ_INT(su_match(one, "{\"id\":14625}"), 1); /* numbers by their text */
    T_EQ_INT(su_match(one, "{\"id\":\"x\"}"), 0);
    const char *all = "title: t\ndetection:\n  kw:\n    '|all':\n      - foo\n      - bar\n"
                      "  condition: kw\n";
    T_EQ_INT(su_match(all, "{\"a\":\"foo\",\"b\":\"bar\"}"), 1);
    T_EQ_INT(su_match(all, "{\"a\":\"foo\"}"), 0);
}

static void test_field_lookup(void)
{
    YES("    a.b: x\n", "{\"a\":{\"b\":\"x\"}}");
    YES("    a.b: x\n", "{\"a.b\":\"x\",\"a\":{\"b\":\"y\"}}"); /* exact key first */
    YES("    a.0.b: x\n", "{\"a\":[{\"b\":\"x\"}]}");
    /* a dotted path crossing a list tries every element */
    YES("    a.b: x\n", "{\"a\":[{\"b\":\"y\"},{\"b\":\"x\"}]}");
    NO("    a.b: x\n", "{\"a\":[{\"b\":\"y\"},{\"c\":\"x\"}]}");
    YES("    a.b: null\n", "{\"a\":[{\"c\":\"y\"}]}");
}

int main(void)
{
    T_RUN(test_plain_values);
    T_RUN(test_list_of_maps);
    T_RUN(test_wildcards);
    T_RUN(test_contains_startswith_endswith);
    T_RUN(test_all);
    T_RUN(test_null_and_exists);
    T_RUN(test_numbers_and_bools);
    T_RUN(test_compare);
    T_RUN(test_neq);
    T_RUN(test_windash);
    T_RUN(test_re);
    T_RUN(test_re_limit);
    T_RUN(test_base64_and_utf16);
    T_RUN(test_cidr);
    T_RUN(test_expand);
    T_RUN(test_fieldref);
    T_RUN(test_time_parts);
    T_RUN(test_keywords);
    T_RUN(test_field_lookup);
    return t_done();
}
