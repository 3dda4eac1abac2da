/* test_jsonw.c — the JSON writer: separators, escaping, U+FFFD for bad
 * UTF-8, raw and compact raw, the sticky buffer limit, and round trips
 * through json_parse. */
#include "test.h"

#include "lib/json.h"
#include "lib/jsonw.h"

#include <math.h>

static struct arena ar = ARENA_INIT(16u << 20);

static struct json_value *reparse(const struct buf *b)
{
    arena_reset(&ar);
    struct json_value *v = NULL;
    struct json_error je;
    if (json_parse(b->p, b->len, NULL, &ar, &v, &je) != KB_OK) {
        fprintf(stderr, "    output does not parse: %s at %zu: %s\n", je.msg, je.offset, b->p);
        return NULL;
    }
    return v;
}

static void test_nesting_and_commas(void)
{
    struct buf b = BUF_INIT(4096);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_kv_str(&w, "a", "x");
    jw_kv_int(&w, "n", -42);
    jw_key(&w, "arr");
    jw_arr_begin(&w);
    jw_int(&w, 1);
    jw_arr_begin(&w);
    jw_arr_end(&w);
    jw_obj_begin(&w);
    jw_obj_end(&w);
    jw_null(&w);
    jw_bool(&w, true);
    jw_bool(&w, false);
    jw_double(&w, 1.5);
    jw_double(&w, NAN);
    jw_double(&w, INFINITY);
    jw_str(&w, NULL);
    jw_kstr(&w, KB_STR_NULL);
    jw_kstr(&w, KB_STR_LIT(""));
    jw_kstr(&w, KB_STR_LIT("ks"));
    jw_strn(&w, "abcdef", 3);
    jw_int(&w, INT64_MIN);
    jw_arr_end(&w);
    jw_key(&w, "o");
    jw_obj_begin(&w);
    jw_kv_kstr(&w, "k", KB_STR_LIT("v"));
    jw_key(&w, "raw");
    jw_raw(&w, "{\"r\":[1,2]}", 11);
    jw_obj_end(&w);
    jw_obj_end(&w);
    T_EQ_INT(jw_finish(&w), KB_OK);
    T_EQ_STR(b.p, "{\"a\":\"x\",\"n\":-42,\"arr\":[1,[],{},null,true,false,1.5,null,null,null,"
                  "null,null,\"ks\",\"abc\",-9223372036854775808],\"o\":{\"k\":\"v\","
                  "\"raw\":{\"r\":[1,2]}}}");
    struct json_value *v = reparse(&b);
    T_CHECK(v && json_path(v, "o.raw.r.1")->i == 2);
    T_CHECK(v && json_path(v, "arr.14")->i == INT64_MIN);
    buf_release(&b);
}

static void test_escaping(void)
{
    struct buf b = BUF_INIT(4096);
    struct jw w;
    jw_init(&w, &b);
    static const char s[] = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f end";
    jw_arr_begin(&w);
    jw_strn(&w, s, sizeof s - 1);
    jw_arr_end(&w);
    T_EQ_INT(jw_finish(&w), KB_OK);
    T_EQ_STR(b.p, "[\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f end\"]");
    struct json_value *v = reparse(&b);
    T_CHECK(v && v->u.child->len == sizeof s - 1 &&
            memcmp(v->u.child->u.str, s, sizeof s - 1) == 0);
    /* Every byte 0..127, and a NUL in the middle, survive a round trip. */
    char all[128];
    for (int i = 0; i < 128; i++)
        all[i] = (char)i;
    buf_reset(&b);
    jw_init(&w, &b);
    jw_strn(&w, all, sizeof all);
    T_EQ_INT(jw_finish(&w), KB_OK);
    v = reparse(&b);
    T_CHECK(v && v->len == 128 && memcmp(v->u.str, all, 128) == 0);
    /* Keys are escaped as well. */
    buf_reset(&b);
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_kv_str(&w, "k\"\n", "v");
    jw_obj_end(&w);
    T_EQ_STR(b.p, "{\"k\\\"\\n\":\"v\"}");
    /* json_escape_into on its own. */
    buf_reset(&b);
    T_EQ_INT(json_escape_into(&b, "a\"\xc3\xa9", 4), KB_OK);
    T_EQ_STR(b.p, "a\\\"\xc3\xa9");
    buf_release(&b);
}

static void test_invalid_utf8(void)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"a\xff" "b", "a\xef\xbf\xbd" "b"},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},              /* overlong: 2 bad bytes */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd"},            /* truncated at the end */
        {"\xe2\x82z", "\xef\xbf\xbd\xef\xbf\xbdz"},
        {"\x80\"", "\xef\xbf\xbd\\\""},
    };
    struct buf b = BUF_INIT(4096);
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        buf_reset(&b);
        struct jw w;
        jw_init(&w, &b);
        jw_str(&w, cases[i].in);
        T_EQ_INT(jw_finish(&w), KB_OK);
        T_CHECKF(b.len == strlen(cases[i].out) + 2 && memcmp(b.p + 1, cases[i].out, b.len - 2) == 0,
                 "case %zu: %s", i, b.p);
        T_CHECK(json_utf8_valid(b.p, b.len, NULL));
        T_CHECK(reparse(&b) != NULL);
    }
    /* Every 2-byte sequence, written alone, gives valid UTF-8 and valid JSON. */
    int bad = 0;
    for (int x = 0; x < 256; x++)
        for (int y = 0; y < 256; y++) {
            char s[3] = {(char)x, (char)y, (char)0xE0};
            buf_reset(&b);
            struct jw w;
            jw_init(&w, &b);
            jw_strn(&w, s, 3);
            if (jw_finish(&w) || !json_utf8_valid(b.p, b.len, NULL) || !reparse(&b))
                bad++;
        }
    T_EQ_INT(bad, 0);
    buf_release(&b);
}

static void test_raw_compact(void)
{
    struct buf b = BUF_INIT(4096);
    struct jw w;
    jw_init(&w, &b);
    const char *pretty = "{\n  \"a b\" : [ 1 ,\t2 ],\r\n  \"s\": \"x \\\" y \\\\\",\n"
                         "  \"t\" : \" \\\\\\\" \\n z \"\n}\n";
    jw_arr_begin(&w);
    jw_raw_compact(&w, pretty, strlen(pretty));
    jw_raw_compact(&w, " 7 ", 3);
    jw_arr_end(&w);
    T_EQ_INT(jw_finish(&w), KB_OK);
    T_EQ_STR(b.p, "[{\"a b\":[1,2],\"s\":\"x \\\" y \\\\\",\"t\":\" \\\\\\\" \\n z \"},7]");
    struct json_value *v = reparse(&b);
    T_EQ_KSTR(json_str(json_path(v, "0.s")), "x \" y \\");
    T_EQ_KSTR(json_str(json_path(v, "0.t")), " \\\" \n z ");
    T_CHECK(json_path(v, "0.a b.1") && json_path(v, "0.a b.1")->i == 2);
    buf_release(&b);
}

static void test_limit_sticky(void)
{
    struct buf b = BUF_INIT(16);
    struct jw w;
    jw_init(&w, &b);
    jw_arr_begin(&w);
    jw_str(&w, "0123456789");
    T_EQ_INT(jw_finish(&w), KB_OK);
    jw_str(&w, "too long for the buffer");
    T_EQ_INT(jw_finish(&w), KB_ETOOBIG);
    size_t len = b.len;
    jw_int(&w, 1); /* fits, but the error is sticky: nothing more is written */
    jw_arr_end(&w);
    T_EQ_INT(jw_finish(&w), KB_ETOOBIG);
    T_EQ_INT(b.len, len);
    T_CHECK(b.len <= 16);
    /* Depth past JW_MAX_DEPTH is an error too. */
    struct buf d = BUF_INIT(4096);
    jw_init(&w, &d);
    for (int i = 0; i < JW_MAX_DEPTH; i++)
        jw_arr_begin(&w);
    T_EQ_INT(jw_finish(&w), KB_OK);
    jw_arr_begin(&w);
    T_EQ_INT(jw_finish(&w), KB_ETOOBIG);
    /* A limit hit inside an escaped string. */
    struct buf e = BUF_INIT(8);
    jw_init(&w, &e);
    jw_str(&w, "\x01\x01\x01");
    T_EQ_INT(jw_finish(&w), KB_ETOOBIG);
    buf_release(&b);
    buf_release(&d);
    buf_release(&e);
}

static void test_roundtrip(void)
{
    const char *src = "{\"s\":\"h\xc3\xa9llo \\u0000 \\ud83d\\ude00\",\"n\":[0,-1,1.25,1e-7,"
                      "123456789012],\"b\":[true,false,null],\"o\":{\"\":{}}}";
    arena_reset(&ar);
    struct json_value *v;
    T_EQ_INT(json_parse(src, strlen(src), NULL, &ar, &v, NULL), KB_OK);
    struct buf b = BUF_INIT(4096);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    struct kb_str s = json_str(json_get(v, "s"));
    jw_key(&w, "s");
    jw_strn(&w, s.p, s.n);
    jw_key(&w, "n");
    jw_arr_begin(&w);
    for (const struct json_value *c = json_get(v, "n")->u.child; c; c = c->next)
        if (c->flags & JSON_F_INT)
            jw_int(&w, c->i);
        else
            jw_double(&w, c->d);
    jw_arr_end(&w);
    jw_obj_end(&w);
    T_EQ_INT(jw_finish(&w), KB_OK);
    struct json_value *r = reparse(&b);
    T_CHECK(r != NULL);
    if (!r)
        return;
    struct kb_str s2 = json_str(json_get(r, "s"));
    T_CHECK(s2.n == 13 && memcmp(s2.p, "h\xc3\xa9llo \0 \xf0\x9f\x98\x80", 13) == 0);
    const double want[] = {0, -1, 1.25, 1e-7, 123456789012.0};
    const struct json_value *c = json_get(r, "n")->u.child;
    for (int i = 0; i < 5; i++, c = c ? c->next : NULL)
        T_CHECK(c && c->d == want[i]);
    /* %.17g round trips doubles exactly. */
    buf_reset(&b);
    jw_init(&w, &b);
    jw_double(&w, 0.1);
    v = reparse(&b);
    T_CHECK(v && v->d == 0.1);
    buf_release(&b);
}

int main(void)
{
    T_RUN(test_nesting_and_commas);
    T_RUN(test_escaping);
    T_RUN(test_invalid_utf8);
    T_RUN(test_raw_compact);
    T_RUN(test_limit_sticky);
    T_RUN(test_roundtrip);
    arena_release(&ar);
    return t_done();
}
