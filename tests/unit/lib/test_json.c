/* test_json.c — the JSON parser: JSONTestSuite conformance (y/n/i), and
 * hand-written cases for lookups, escapes, numbers, limits, error positions,
 * prefix parsing, source ranges and helpers. */
#include "test.h"

#include "lib/json.h"

#include <dirent.h>
#include <math.h>

#include "../../../fuzz/json_check.h"

/* The implementation-defined (i_) files and what koban does with them; the
 * same table is in docs/JSON.md. 0 = accepted, else the error. */
static const struct {
    const char *name;
    kb_err want;
} i_choices[] = {
    {"i_number_double_huge_neg_exp.json", KB_OK},       /* .d = 0 */
    {"i_number_huge_exp.json", KB_OK},                  /* .d = +inf */
    {"i_number_neg_int_huge_exp.json", KB_OK},          /* .d = -inf */
    {"i_number_pos_double_huge_exp.json", KB_OK},       /* .d = +inf */
    {"i_number_real_neg_overflow.json", KB_OK},         /* .d = -inf */
    {"i_number_real_pos_overflow.json", KB_OK},         /* .d = +inf */
    {"i_number_real_underflow.json", KB_OK},            /* .d = 0 */
    {"i_number_too_big_neg_int.json", KB_OK},           /* not JSON_F_INT; .d */
    {"i_number_too_big_pos_int.json", KB_OK},           /* not JSON_F_INT; .d */
    {"i_number_very_big_negative_int.json", KB_OK},     /* not JSON_F_INT; .d */
    {"i_object_key_lone_2nd_surrogate.json", KB_EPARSE},
    {"i_string_1st_surrogate_but_2nd_missing.json", KB_EPARSE},
    {"i_string_1st_valid_surrogate_2nd_invalid.json", KB_EPARSE},
    {"i_string_UTF-16LE_with_BOM.json", KB_EPARSE},
    {"i_string_UTF-8_invalid_sequence.json", KB_EPARSE},
    {"i_string_UTF8_surrogate_U+D800.json", KB_EPARSE},
    {"i_string_incomplete_surrogate_and_escape_valid.json", KB_EPARSE},
    {"i_string_incomplete_surrogate_pair.json", KB_EPARSE},
    {"i_string_incomplete_surrogates_escape_valid.json", KB_EPARSE},
    {"i_string_invalid_lonely_surrogate.json", KB_EPARSE},
    {"i_string_invalid_surrogate.json", KB_EPARSE},
    {"i_string_invalid_utf-8.json", KB_EPARSE},
    {"i_string_inverted_surrogates_U+1D11E.json", KB_EPARSE},
    {"i_string_iso_latin_1.json", KB_EPARSE},
    {"i_string_lone_second_surrogate.json", KB_EPARSE},
    {"i_string_lone_utf8_continuation_byte.json", KB_EPARSE},
    {"i_string_not_in_unicode_range.json", KB_EPARSE},
    {"i_string_overlong_sequence_2_bytes.json", KB_EPARSE},
    {"i_string_overlong_sequence_6_bytes.json", KB_EPARSE},
    {"i_string_overlong_sequence_6_bytes_null.json", KB_EPARSE},
    {"i_string_truncated-utf-8.json", KB_EPARSE},
    {"i_string_utf16BE_no_BOM.json", KB_EPARSE},
    {"i_string_utf16LE_no_BOM.json", KB_EPARSE},
    {"i_structure_500_nested_arrays.json", KB_ETOOBIG}, /* default depth 64 */
    {"i_structure_UTF-8_BOM_empty_object.json", KB_EPARSE},
};

static struct arena ar = ARENA_INIT(64u << 20);

static struct json_value *P(const char *text)
{
    arena_reset(&ar);
    struct json_value *v = NULL;
    struct json_error je;
    kb_err e = json_parse(text, strlen(text), NULL, &ar, &v, &je);
    if (e)
        fprintf(stderr, "    parse of %s failed: %s at %zu\n", text, je.msg, je.offset);
    return e ? NULL : v;
}

static kb_err E(const char *text, size_t len, struct json_error *je)
{
    arena_reset(&ar);
    struct json_value *v = NULL;
    return json_parse(text, len, NULL, &ar, &v, je);
}
#define REJ(lit) E(lit, sizeof(lit) - 1, NULL)

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted file names of dir; caller frees each and the array. */
static char **list_dir(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    *n = 0;
    if (!d)
        return NULL;
    size_t cap = 512;
    char **v = malloc(cap * sizeof *v);
    struct dirent *de;
    while ((de = readdir(d)) && *n < cap)
        if (de->d_name[0] != '.')
            v[(*n)++] = strdup(de->d_name);
    closedir(d);
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void test_suite_parsing(void)
{
    T_NEED_DATA(data);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/json/JSONTestSuite/test_parsing", data);
    size_t n;
    char **names = list_dir(dir, &n);
    T_CHECK(names && n > 300);
    int y = 0, yok = 0, nn = 0, nok = 0, ii = 0, iok = 0;
    struct arena a2 = ARENA_INIT(64u << 20);
    struct buf out = BUF_INIT(16u << 20), tmp = BUF_INIT(1u << 20);
    for (size_t k = 0; names && k < n; k++) {
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        size_t len;
        char *text = t_read_file(path, &len);
        T_CHECK(text);
        if (!text)
            continue;
        arena_reset(&ar);
        struct json_value *v = NULL;
        struct json_error je;
        kb_err e = json_parse(text, len, NULL, &ar, &v, &je);
        if (names[k][0] == 'y') {
            y++;
            if (e == KB_OK) {
                struct json_limits lim = {0};
                const char *why = jc_roundtrip(v, text, len, &lim, &a2, &out, &tmp);
                T_CHECKF(!why, "%s: %s", names[k], why);
                yok += !why;
            } else {
                fprintf(stderr, "    y_ REJECTED: %s (%s at %u:%u)\n", names[k], je.msg, je.line,
                        je.col);
            }
        } else if (names[k][0] == 'n') {
            nn++;
            if (e != KB_OK) {
                nok++;
                T_CHECK(je.offset <= len && je.line >= 1 && je.col >= 1 && je.msg[0]);
            } else {
                fprintf(stderr, "    n_ ACCEPTED: %s\n", names[k]);
            }
        } else if (names[k][0] == 'i') {
            ii++;
            size_t c = 0;
            while (c < KB_ARRAY_LEN(i_choices) && strcmp(i_choices[c].name, names[k]) != 0)
                c++;
            T_CHECKF(c < KB_ARRAY_LEN(i_choices), "%s is not in the i_ table", names[k]);
            if (c < KB_ARRAY_LEN(i_choices) && e == i_choices[c].want)
                iok++;
            else
                fprintf(stderr, "    i_ %s: got %s\n", names[k], kb_strerror(e));
            if (e == KB_OK) {
                struct json_limits lim = {0};
                const char *why = jc_roundtrip(v, text, len, &lim, &a2, &out, &tmp);
                T_CHECKF(!why, "%s: %s", names[k], why);
            }
            if (strcmp(names[k], "i_structure_500_nested_arrays.json") == 0) {
                struct json_limits deep = {.max_depth = 600};
                arena_reset(&ar);
                T_EQ_INT(json_parse(text, len, &deep, &ar, &v, NULL), KB_OK);
            }
        }
        free(text);
    }
    fprintf(stderr, "    JSONTestSuite: y %d/%d accepted, n %d/%d rejected, i %d/%d as documented\n",
            yok, y, nok, nn, iok, ii);
    T_EQ_INT(y, 95);
    T_EQ_INT(nn, 188);
    T_EQ_INT(ii, (int)KB_ARRAY_LEN(i_choices));
    T_EQ_INT(yok, y);
    T_EQ_INT(nok, nn);
    T_EQ_INT(iok, ii);
    for (size_t k = 0; k < n; k++)
        free(names[k]);
    free(names);
    arena_release(&a2);
    buf_release(&out);
    buf_release(&tmp);
}

static void test_suite_transform(void)
{
    T_NEED_DATA(data);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/json/JSONTestSuite/test_transform", data);
    size_t n;
    char **names = list_dir(dir, &n);
    T_CHECK(names && n >= 20);
    int ok = 0;
    for (size_t k = 0; names && k < n; k++) {
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        size_t len;
        char *text = t_read_file(path, &len);
        if (!text)
            continue;
        arena_reset(&ar);
        struct json_value *v = NULL;
        if (json_parse(text, len, NULL, &ar, &v, NULL) == KB_OK) {
            ok++;
            T_CHECKF(!jc_check_dom(v, text, len, 0), "%s", names[k]);
            const struct json_value *x = v->type == JSON_ARRAY ? v->u.child : NULL;
            if (strcmp(names[k], "number_9223372036854775807.json") == 0)
                T_CHECK(x && (x->flags & JSON_F_INT) && x->i == INT64_MAX);
            if (strcmp(names[k], "number_-9223372036854775808.json") == 0)
                T_CHECK(x && (x->flags & JSON_F_INT) && x->i == INT64_MIN);
            if (strcmp(names[k], "number_9223372036854775808.json") == 0)
                T_CHECK(x && !(x->flags & JSON_F_INT) && x->d == 9223372036854775808.0);
            if (strcmp(names[k], "number_1e-999.json") == 0)
                T_CHECK(x && x->d == 0.0);
            if (strcmp(names[k], "string_with_escaped_NULL.json") == 0)
                T_CHECK(x && x->type == JSON_STRING && memchr(x->u.str, 0, x->len));
        }
        free(text);
    }
    fprintf(stderr, "    test_transform: %d of %zu parsed\n", ok, n);
    for (size_t k = 0; k < n; k++)
        free(names[k]);
    free(names);
}

static void test_lookups(void)
{
    const char *t = "{\"a\":{\"b\":{\"c\":\"deep\"}},\"arr\":[{\"x\":1},{\"x\":2},[10,20]],"
                    "\"m\":{\"0\":\"zero\"},\"dup\":1,\"dup\":2,\"k\\u0062\":\"esc\",\"\":\"empty\"}";
    struct json_value *v = P(t);
    T_CHECK(v && v->type == JSON_OBJECT && v->len == 7);
    if (!v)
        return;
    T_EQ_KSTR(json_str(json_path(v, "a.b.c")), "deep");
    T_EQ_INT(json_path(v, "arr.1.x")->i, 2);
    T_EQ_INT(json_path(v, "arr.0.x")->i, 1);
    T_EQ_INT(json_path(v, "arr.2.1")->i, 20);
    T_CHECK(json_path(v, "arr.3") == NULL);
    T_CHECK(json_path(v, "arr.x") == NULL);
    T_CHECK(json_path(v, "arr.1x") == NULL);
    T_CHECK(json_path(v, "a.b.c.d") == NULL);
    T_CHECK(json_path(v, "a.nope.c") == NULL);
    T_EQ_KSTR(json_str(json_path(v, "m.0")), "zero"); /* numeric key of an object */
    T_CHECK(json_path(v, "") == v);
    T_CHECK(json_path(NULL, "a") == NULL);
    T_EQ_INT(json_get(v, "dup")->i, 1); /* the first of duplicates */
    T_EQ_KSTR(json_str(json_get(v, "kb")), "esc");
    T_EQ_KSTR(json_str(json_get(v, "")), "empty");
    T_CHECK(json_get(v, "k") == NULL);
    T_CHECK(json_getn(v, "arrXYZ", 3) == json_get(v, "arr"));
    T_CHECK(json_get(json_get(v, "arr"), "x") == NULL); /* not an object */
    T_CHECK(json_get(NULL, "x") == NULL);
    const struct json_value *arr = json_get(v, "arr");
    T_CHECK(arr->type == JSON_ARRAY && arr->len == 3 && arr->u.child->key == NULL);
    T_CHECK(json_str(arr).p == NULL && json_str(NULL).p == NULL);
    const struct json_value *first = v->u.child;
    T_CHECK(first->key_len == 1 && first->key[0] == 'a');
}

/* json_getn skips objects whose key summary rules a key out: every present
 * key must still be found, in wide objects, with any length and bytes. */
static void test_lookup_wide(void)
{
    static char text[64 * 1024];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "{");
    for (int i = 0; i < 600; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s\"%c%0*d\":%d", i ? "," : "",
                              'a' + i % 26, 1 + i % 9, i, i);
    snprintf(text + n, sizeof text - n, "}");
    struct json_value *v = P(text);
    T_CHECK(v && v->len == 600);
    if (!v)
        return;
    int found = 0, absent_ok = 0;
    for (int i = 0; i < 600; i++) {
        char key[32];
        snprintf(key, sizeof key, "%c%0*d", 'a' + i % 26, 1 + i % 9, i);
        const struct json_value *m = json_get(v, key);
        found += m && m->i == i;
        snprintf(key, sizeof key, "%c%0*d", 'a' + (i + 1) % 26, 1 + i % 9, i);
        absent_ok += json_get(v, key) == NULL; /* same length, other first byte */
    }
    T_EQ_INT(found, 600);
    T_EQ_INT(absent_ok, 600);
}

static void test_escapes(void)
{
    const char *t = "\"\\\"\\\\\\/\\b\\f\\n\\r\\tA\\u0041\\u00e9\\u00E9\\u20ac\\ud83d\\ude00"
                    "\\uDBFF\\uDFFF\\u0000z\"";
    struct json_value *v = P(t);
    T_CHECK(v && v->type == JSON_STRING && (v->flags & JSON_F_ESCAPED));
    static const char want[] = "\"\\/\b\f\n\r\tAA\xc3\xa9\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                               "\xf4\x8f\xbf\xbf\0z";
    T_EQ_INT(v ? v->len : 0, sizeof want - 1);
    T_CHECK(v && memcmp(v->u.str, want, sizeof want - 1) == 0);
    T_EQ_INT(v ? v->src_len : 0, strlen(t));
    /* No escapes: zero-copy, pointing into the input. */
    const char *plain = "  \"caf\xc3\xa9 \xf0\x9f\x98\x80\"";
    v = P(plain);
    T_CHECK(v && v->u.str == plain + 3 && v->len == 10 && !(v->flags & JSON_F_ESCAPED));
    /* Keys decode too, NUL-terminated. */
    v = P("{\"a\\nb\":1}");
    T_CHECK(v && v->u.child->key_len == 3 && memcmp(v->u.child->key, "a\nb", 4) == 0);
}

static void test_bad_strings(void)
{
    T_EQ_INT(REJ("\"\\ud800\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\\udc00\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\\ud800\\u0041\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\\ud800x\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\\ud800\\ud800\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\\ude00\\ud83d\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\\ud800\\"), KB_EPARSE);
    T_EQ_INT(REJ("\"\\u12\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\\u12G4\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\\x41\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\\U0041\""), KB_EPARSE);
    T_EQ_INT(REJ("\"a\tb\""), KB_EPARSE);
    T_EQ_INT(REJ("\"a\x7f\""), KB_OK); /* DEL is not a control character in JSON */
    T_EQ_INT(REJ("\"\xed\xa0\x80\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\xc0\xaf\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\xf4\x90\x80\x80\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\xe2\x82\""), KB_EPARSE);
    T_EQ_INT(REJ("\"\xe2\x82"), KB_EPARSE);
    T_EQ_INT(REJ("{\"\xff\":1}"), KB_EPARSE);
    T_EQ_INT(E("\"a\0b\"", 5, NULL), KB_EPARSE); /* raw NUL is a control char */
}

static void test_numbers(void)
{
    struct json_value *v = P("[9223372036854775807,-9223372036854775808,9223372036854775808,"
                             "-9223372036854775809,0,-0,1.5,-2.5e3,1E2,1e308,1e309,-1e309,1e-400,"
                             "123456789012345678901234567890,0.1e1]");
    T_CHECK(v && v->len == 15);
    if (!v)
        return;
    const struct json_value *x[15], *c = v->u.child;
    for (int i = 0; i < 15 && c; i++, c = c->next)
        x[i] = c;
    T_CHECK((x[0]->flags & JSON_F_INT) && x[0]->i == INT64_MAX);
    T_CHECK((x[1]->flags & JSON_F_INT) && x[1]->i == INT64_MIN);
    T_CHECK(!(x[2]->flags & JSON_F_INT) && x[2]->d == 9223372036854775808.0);
    T_CHECK(!(x[3]->flags & JSON_F_INT) && x[3]->d == -9223372036854775808.0);
    T_CHECK((x[4]->flags & JSON_F_INT) && x[4]->i == 0);
    T_CHECK((x[5]->flags & JSON_F_INT) && x[5]->i == 0 && signbit(x[5]->d));
    T_CHECK(!(x[6]->flags & JSON_F_INT) && x[6]->d == 1.5);
    T_CHECK(x[7]->d == -2500.0);
    T_CHECK(!(x[8]->flags & JSON_F_INT) && x[8]->d == 100.0); /* exponent: not an int */
    T_CHECK(x[9]->d == 1e308);
    T_CHECK(isinf(x[10]->d) && x[10]->d > 0);
    T_CHECK(isinf(x[11]->d) && x[11]->d < 0);
    T_CHECK(x[12]->d == 0.0);
    T_CHECK(!(x[13]->flags & JSON_F_INT) && x[13]->d > 1.2345e29 && x[13]->d < 1.2346e29);
    T_CHECK(x[14]->d == 1.0);
    for (int i = 0; i < 15; i++)
        T_EQ_INT(x[i]->type, JSON_NUMBER);
    /* A number longer than the parser's stack buffer goes through the arena. */
    char big[300];
    memset(big, '1', 299);
    big[299] = '\0';
    big[1] = '.';
    v = P(big);
    T_CHECK(v && v->d > 1.11 && v->d < 1.12);
    T_EQ_INT(REJ("01"), KB_EPARSE);
    T_EQ_INT(REJ("-01"), KB_EPARSE);
    T_EQ_INT(REJ("1."), KB_EPARSE);
    T_EQ_INT(REJ(".5"), KB_EPARSE);
    T_EQ_INT(REJ("1e"), KB_EPARSE);
    T_EQ_INT(REJ("1e+"), KB_EPARSE);
    T_EQ_INT(REJ("+1"), KB_EPARSE);
    T_EQ_INT(REJ("-"), KB_EPARSE);
    T_EQ_INT(REJ("NaN"), KB_EPARSE);
    T_EQ_INT(REJ("Infinity"), KB_EPARSE);
    T_EQ_INT(REJ("0x10"), KB_EPARSE);
    T_EQ_INT(REJ("1.0.0"), KB_EPARSE);
}

static void test_structure_rejects(void)
{
    T_EQ_INT(REJ("[1,]"), KB_EPARSE);
    T_EQ_INT(REJ("{\"a\":1,}"), KB_EPARSE);
    T_EQ_INT(REJ("[,1]"), KB_EPARSE);
    T_EQ_INT(REJ("{\"a\" 1}"), KB_EPARSE);
    T_EQ_INT(REJ("{a:1}"), KB_EPARSE);
    T_EQ_INT(REJ("[1] // c"), KB_EPARSE);
    T_EQ_INT(REJ("/* c */ 1"), KB_EPARSE);
    T_EQ_INT(REJ("tru"), KB_EPARSE);
    T_EQ_INT(REJ("nulll"), KB_EPARSE);
    T_EQ_INT(REJ("[1 2]"), KB_EPARSE);
    T_EQ_INT(REJ(""), KB_EPARSE);
    T_EQ_INT(REJ(" \n\t\r "), KB_EPARSE);
    T_EQ_INT(REJ("\xef\xbb\xbf{}"), KB_EPARSE); /* a BOM is the splitter's business */
    T_EQ_INT(REJ("[\f1]"), KB_EPARSE);           /* form feed is not JSON whitespace */
    T_EQ_INT(REJ(" \r\n[ 1 ,\t2 ] \n"), KB_OK);
    T_EQ_INT(REJ("{}"), KB_OK);
    T_EQ_INT(REJ("[]"), KB_OK);
    T_EQ_INT(REJ("{ }"), KB_OK);
}

static void test_limits(void)
{
    char deep[2200];
    struct json_value *v;
    for (int depth = 63; depth <= 65; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        arena_reset(&ar);
        T_EQ_INT(json_parse(deep, 2 * (size_t)depth, NULL, &ar, &v, NULL),
                 depth <= 64 ? KB_OK : KB_ETOOBIG);
    }
    struct json_limits lim = {.max_depth = 3};
    arena_reset(&ar);
    T_EQ_INT(json_parse("[{\"a\":[1]}]", 11, &lim, &ar, &v, NULL), KB_OK);
    arena_reset(&ar);
    struct json_error je;
    T_EQ_INT(json_parse("[{\"a\":[[1]]}]", 13, &lim, &ar, &v, &je), KB_ETOOBIG);
    T_EQ_INT(je.offset, 7);
    /* A huge requested depth is capped at 1024 (the parser recurses). */
    lim.max_depth = 100000;
    for (int depth = 1024; depth <= 1025; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        arena_reset(&ar);
        T_EQ_INT(json_parse(deep, 2 * (size_t)depth, &lim, &ar, &v, NULL),
                 depth <= 1024 ? KB_OK : KB_ETOOBIG);
    }
    /* Input size. */
    struct json_limits sz = {.max_bytes = 10};
    arena_reset(&ar);
    T_EQ_INT(json_parse("[1,2,3,45]", 10, &sz, &ar, &v, NULL), KB_OK);
    arena_reset(&ar);
    T_EQ_INT(json_parse("[1,2,3,456]", 11, &sz, &ar, &v, &je), KB_ETOOBIG);
    T_EQ_INT(je.offset, 0);
    /* Arena: nodes, then a decoded string, past the limit. */
    struct arena small = ARENA_INIT(1024);
    char many[400];
    size_t n = 0;
    many[n++] = '[';
    for (int i = 0; i < 100; i++) {
        many[n++] = '1';
        many[n++] = ',';
    }
    many[n - 1] = ']';
    T_EQ_INT(json_parse(many, n, NULL, &small, &v, &je), KB_ETOOBIG);
    T_CHECK(strstr(je.msg, "arena") != NULL);
    arena_reset(&small);
    char esc[1100] = "\"";
    for (int i = 0; i < 500; i++)
        memcpy(esc + 1 + 2 * i, "\\n", 2);
    esc[1001] = '"';
    T_EQ_INT(json_parse(esc, 1002, NULL, &small, &v, NULL), KB_ETOOBIG);
    arena_reset(&small);
    T_EQ_INT(json_parse("[1,2]", 5, NULL, &small, &v, NULL), KB_OK); /* still usable */
    arena_release(&small);
}

static void check_err(const char *text, size_t len, kb_err want, size_t off, unsigned line,
                      unsigned col, const char *msg)
{
    struct json_error je;
    memset(&je, 0x55, sizeof je);
    kb_err e = E(text, len, &je);
    T_CHECKF(e == want && je.offset == off && je.line == line && je.col == col &&
                 strstr(je.msg, msg) != NULL,
             "%s: got %s at %zu %u:%u \"%s\"", text, kb_strerror(e), je.offset, je.line, je.col,
             je.msg);
}
#define CHECK_ERR(lit, ...) check_err(lit, sizeof(lit) - 1, __VA_ARGS__)

static void test_error_positions(void)
{
    CHECK_ERR("{\n  \"a\": tru\n}", KB_EPARSE, 9, 2, 8, "invalid literal");
    CHECK_ERR("[1,2,]", KB_EPARSE, 5, 1, 6, "trailing comma");
    CHECK_ERR("[1 2]", KB_EPARSE, 3, 1, 4, "expected ',' or ']'");
    CHECK_ERR("{\"a\":1 \"b\":2}", KB_EPARSE, 7, 1, 8, "expected ',' or '}'");
    CHECK_ERR("{\"a\" 1}", KB_EPARSE, 5, 1, 6, "expected ':'");
    CHECK_ERR("{1:2}", KB_EPARSE, 1, 1, 2, "string key");
    CHECK_ERR("\"abc", KB_EPARSE, 0, 1, 1, "unterminated string");
    CHECK_ERR("[1]x", KB_EPARSE, 3, 1, 4, "after the JSON value");
    CHECK_ERR("[1]\n\n  x", KB_EPARSE, 7, 3, 3, "after the JSON value");
    CHECK_ERR("\"a\\qb\"", KB_EPARSE, 2, 1, 3, "invalid escape");
    CHECK_ERR("\"\x01\"", KB_EPARSE, 1, 1, 2, "control character");
    CHECK_ERR("[\"a\xff\"]", KB_EPARSE, 3, 1, 4, "UTF-8");
    CHECK_ERR("", KB_EPARSE, 0, 1, 1, "end of input");
    CHECK_ERR("  ", KB_EPARSE, 2, 1, 3, "end of input");
    CHECK_ERR("[\r\n1,\r\n]", KB_EPARSE, 7, 3, 1, "trailing comma");
    CHECK_ERR("[1,\n\"\\ud800\"]", KB_EPARSE, 5, 2, 2, "surrogate");
    CHECK_ERR("[01]", KB_EPARSE, 1, 1, 2, "leading zero");
    CHECK_ERR("[1.e5]", KB_EPARSE, 3, 1, 4, "digit after '.'");
    CHECK_ERR("[1", KB_EPARSE, 2, 1, 3, "unterminated array");
    CHECK_ERR("{\"a\":1", KB_EPARSE, 6, 1, 7, "unterminated object");
    CHECK_ERR("@", KB_EPARSE, 0, 1, 1, "unexpected character");
    /* The error struct is also cleared on success paths that fail later. */
    struct json_value *v;
    arena_reset(&ar);
    T_EQ_INT(json_parse("[1]x", 4, NULL, &ar, &v, NULL), KB_EPARSE); /* err may be NULL */
}

static void test_prefix(void)
{
    const char *nd = "{\"a\":1}\n{\"b\":[2,3]}\n  [4]\n\"s\" 5 true\n";
    size_t len = strlen(nd), off = 0, used;
    struct json_value *v;
    const size_t want_used[] = {7, 12, 6, 4, 2, 5};
    const uint8_t want_type[] = {JSON_OBJECT, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER,
                                 JSON_TRUE};
    for (size_t i = 0; i < 6; i++) {
        arena_reset(&ar);
        used = 999;
        kb_err e = json_parse_prefix(nd + off, len - off, NULL, &ar, &v, &used, NULL);
        T_EQ_INT(e, KB_OK);
        if (e)
            return;
        T_EQ_INT(used, want_used[i]);
        T_EQ_INT(v->type, want_type[i]);
        off += used;
    }
    T_EQ_INT(off, len - 1);
    arena_reset(&ar);
    struct json_error je;
    T_EQ_INT(json_parse_prefix(nd + off, len - off, NULL, &ar, &v, &used, &je), KB_EPARSE);
    T_EQ_INT(je.offset, 1);
    /* Concatenated without whitespace. */
    const char *cat = "[1][2]{}\"x\"truefalse";
    const size_t want_cat[] = {3, 3, 2, 3, 4, 5};
    off = 0;
    for (size_t i = 0; i < 6; i++) {
        arena_reset(&ar);
        T_EQ_INT(json_parse_prefix(cat + off, strlen(cat) - off, NULL, &ar, &v, &used, NULL),
                 KB_OK);
        T_EQ_INT(used, want_cat[i]);
        off += used;
    }
    T_EQ_INT(off, strlen(cat));
    /* Offsets in a prefix parse are relative to the text passed. */
    arena_reset(&ar);
    T_EQ_INT(json_parse_prefix("  {\"k\":\"v\"} rest", 16, NULL, &ar, &v, &used, NULL), KB_OK);
    T_EQ_INT(used, 11);
    T_EQ_INT(v->src_off, 2);
    T_EQ_INT(v->u.child->src_off, 7);
    arena_reset(&ar);
    T_EQ_INT(json_parse_prefix("[1,", 3, NULL, &ar, &v, &used, &je), KB_EPARSE);
    T_EQ_INT(je.offset, 3);
}

static void expect_src(const char *text, const struct json_value *v, const char *want)
{
    T_CHECKF(v && v->src_len == strlen(want) && memcmp(text + v->src_off, want, v->src_len) == 0,
             "got \"%.*s\" want \"%s\"", v ? (int)v->src_len : 0, v ? text + v->src_off : "",
             want);
}

static void test_src_ranges(void)
{
    const char *t = " { \"a\" : [1, -2.5e3 , \"x\\n\" ,[ ] ], \"b\":{\"c\":null,\"d\":true} ,"
                    "\"e\":\"\", \"f\" :false,\"g\":{ }}\n";
    struct json_value *v = P(t);
    T_CHECK(v != NULL);
    if (!v)
        return;
    expect_src(t, v, "{ \"a\" : [1, -2.5e3 , \"x\\n\" ,[ ] ], \"b\":{\"c\":null,\"d\":true} ,"
                     "\"e\":\"\", \"f\" :false,\"g\":{ }}");
    const struct json_value *a = json_get(v, "a");
    expect_src(t, a, "[1, -2.5e3 , \"x\\n\" ,[ ] ]");
    expect_src(t, a->u.child, "1");
    expect_src(t, a->u.child->next, "-2.5e3");
    expect_src(t, a->u.child->next->next, "\"x\\n\"");
    expect_src(t, a->u.child->next->next->next, "[ ]");
    expect_src(t, json_get(v, "b"), "{\"c\":null,\"d\":true}");
    expect_src(t, json_path(v, "b.c"), "null");
    expect_src(t, json_path(v, "b.d"), "true");
    expect_src(t, json_get(v, "e"), "\"\"");
    expect_src(t, json_get(v, "f"), "false");
    expect_src(t, json_get(v, "g"), "{ }");
    T_EQ_INT(json_get(v, "g")->len, 0);
    T_CHECK(json_get(v, "g")->u.child == NULL);
    T_CHECK(!jc_check_dom(v, t, strlen(t), 0));
}

static void test_scalar_text(void)
{
    const char *t = "[\"s\\t\",-1.50e+2,true,false,null,{},[],7]";
    struct json_value *v = P(t);
    T_CHECK(v && v->len == 8);
    if (!v)
        return;
    const struct json_value *c = v->u.child;
    struct kb_str s = json_scalar_text(c, t);
    T_CHECK(s.n == 2 && memcmp(s.p, "s\t", 2) == 0);
    c = c->next;
    T_EQ_KSTR(json_scalar_text(c, t), "-1.50e+2");
    T_CHECK(json_scalar_text(c, NULL).p == NULL);
    c = c->next;
    T_EQ_KSTR(json_scalar_text(c, t), "true");
    c = c->next;
    T_EQ_KSTR(json_scalar_text(c, t), "false");
    c = c->next;
    T_CHECK(json_scalar_text(c, t).p == NULL); /* null */
    c = c->next;
    T_CHECK(json_scalar_text(c, t).p == NULL); /* object */
    c = c->next;
    T_CHECK(json_scalar_text(c, t).p == NULL); /* array */
    T_EQ_KSTR(json_scalar_text(c->next, t), "7");
    T_CHECK(json_scalar_text(NULL, t).p == NULL);
}

static void test_as_number(void)
{
    struct json_value *v = P("[42,2.9,-2.9,1e300,\"123\",\"-5\",\" 5\",\"+5\",\"12\\u0000x\","
                             "\"9223372036854775807\",\"9223372036854775808\",\"\",\"1.5\",true,"
                             "\"2.5\",\"1e3\",\"0x10\",\"inf\",\"nan\",\"1e999\",\"1.\",\"007\","
                             "-9223372036854775808,9.3e18,null,\"-\",\"2.5 \"]");
    T_CHECK(v && v->len == 27);
    if (!v)
        return;
    const struct json_value *x[27], *c = v->u.child;
    for (int i = 0; i < 27 && c; i++, c = c->next)
        x[i] = c;
    int64_t i = 0;
    double d = 0;
    T_CHECK(json_as_int(x[0], &i) && i == 42);
    T_CHECK(json_as_int(x[1], &i) && i == 2);
    T_CHECK(json_as_int(x[2], &i) && i == -2);
    T_CHECK(!json_as_int(x[3], &i));
    T_CHECK(json_as_int(x[4], &i) && i == 123);
    T_CHECK(json_as_int(x[5], &i) && i == -5);
    T_CHECK(!json_as_int(x[6], &i));
    T_CHECK(!json_as_int(x[7], &i));
    T_CHECK(!json_as_int(x[8], &i)); /* a NUL must not hide "x" */
    T_CHECK(json_as_int(x[9], &i) && i == INT64_MAX);
    T_CHECK(!json_as_int(x[10], &i));
    T_CHECK(!json_as_int(x[11], &i));
    T_CHECK(!json_as_int(x[12], &i));
    T_CHECK(!json_as_int(x[13], &i));
    T_CHECK(json_as_int(x[21], &i) && i == 7);
    T_CHECK(json_as_int(x[22], &i) && i == INT64_MIN);
    T_CHECK(!json_as_int(x[23], &i));
    T_CHECK(!json_as_int(x[24], &i));
    T_CHECK(!json_as_int(x[25], &i));
    T_CHECK(!json_as_int(NULL, &i));
    T_CHECK(json_as_double(x[1], &d) && d == 2.9);
    T_CHECK(json_as_double(x[3], &d) && d == 1e300);
    T_CHECK(json_as_double(x[14], &d) && d == 2.5);
    T_CHECK(json_as_double(x[15], &d) && d == 1000.0);
    T_CHECK(json_as_double(x[4], &d) && d == 123.0);
    T_CHECK(!json_as_double(x[16], &d));
    T_CHECK(!json_as_double(x[17], &d));
    T_CHECK(!json_as_double(x[18], &d));
    T_CHECK(!json_as_double(x[19], &d));
    T_CHECK(!json_as_double(x[20], &d));
    T_CHECK(!json_as_double(x[6], &d));
    T_CHECK(!json_as_double(x[8], &d));
    T_CHECK(!json_as_double(x[11], &d));
    T_CHECK(!json_as_double(x[13], &d));
    T_CHECK(!json_as_double(x[24], &d));
    T_CHECK(!json_as_double(x[25], &d));
    T_CHECK(!json_as_double(x[26], &d));
    T_CHECK(!json_as_double(NULL, &d));
}

static void utf8_case(const char *s, size_t n, bool ok, size_t bad)
{
    size_t at = 12345;
    bool r = json_utf8_valid(s, n, &at);
    T_CHECKF(r == ok && (ok || at == bad), "case of %zu bytes: got %d at %zu", n, r, at);
}
#define U8(lit, ok, bad) utf8_case(lit, sizeof(lit) - 1, ok, bad)

static void test_utf8_valid(void)
{
    U8("", true, 0);
    U8("plain ascii", true, 0);
    U8("a\0b", true, 0);
    U8("\xc3\xa9", true, 0);
    U8("\xc2\x80", true, 0);
    U8("\xdf\xbf", true, 0);
    U8("\xc0\x80", false, 0);   /* overlong NUL */
    U8("\xc1\xbf", false, 0);   /* overlong */
    U8("\xe0\x80\x80", false, 0);
    U8("\xe0\x9f\xbf", false, 0); /* overlong U+07FF */
    U8("\xe0\xa0\x80", true, 0);  /* U+0800 */
    U8("\xed\x9f\xbf", true, 0);  /* U+D7FF */
    U8("\xed\xa0\x80", false, 0); /* U+D800 */
    U8("\xed\xbf\xbf", false, 0); /* U+DFFF */
    U8("\xee\x80\x80", true, 0);  /* U+E000 */
    U8("\xef\xbf\xbf", true, 0);  /* U+FFFF */
    U8("\xf0\x8f\xbf\xbf", false, 0); /* overlong */
    U8("\xf0\x90\x80\x80", true, 0);  /* U+10000 */
    U8("\xf4\x8f\xbf\xbf", true, 0);  /* U+10FFFF */
    U8("\xf4\x90\x80\x80", false, 0); /* U+110000 */
    U8("\xf5\x80\x80\x80", false, 0);
    U8("\xf8\x88\x80\x80\x80", false, 0);
    U8("\xff", false, 0);
    U8("\xfe", false, 0);
    U8("\x80", false, 0);
    U8("ab\xbf", false, 2);
    U8("ab\xe2\x82", false, 2);  /* truncated */
    U8("\xc3", false, 0);
    U8("a\xc3(", false, 1);
    U8("\xf0\x9f\x98", false, 0);
    U8("\xf0\x9f\x98\x80z\xf0\x9f\x98", false, 5);
    U8("\xe2\x28\xa1", false, 0);
    T_CHECK(json_utf8_valid("\xff", 1, NULL) == false); /* bad_at may be NULL */
}

int main(void)
{
    T_RUN(test_suite_parsing);
    T_RUN(test_suite_transform);
    T_RUN(test_lookups);
    T_RUN(test_lookup_wide);
    T_RUN(test_escapes);
    T_RUN(test_bad_strings);
    T_RUN(test_numbers);
    T_RUN(test_structure_rejects);
    T_RUN(test_limits);
    T_RUN(test_error_positions);
    T_RUN(test_prefix);
    T_RUN(test_src_ranges);
    T_RUN(test_scalar_text);
    T_RUN(test_as_number);
    T_RUN(test_utf8_valid);
    arena_release(&ar);
    return t_done();
}
