/*
 * test_sigma_cond.c — the condition grammar: and/or/not with precedence,
 * parentheses, `1 of`, `all of`, `any of`, `them` (without `_` names),
 * lists of conditions, and the errors for what does not parse.
 */
#include "test_sigma_util.h"

/* Selections a, b, c, sel_x, sel_y and _hidden on fields of the same name. */
#define DET                                                                                    \
    "title: t\ndetection:\n  a: {a: 1}\n  b: {b: 1}\n  c: {c: 1}\n  sel_x: {x: 1}\n"          \
    "  sel_y: {y: 1}\n  _hidden: {h: 1}\n"

static int cm(const char *cond, const char *json)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, DET "  condition: %s\n", cond);
    return su_match(yaml, json);
}
#define YES(c, j) T_CHECKF(cm(c, j) == 1, "'%s' on %s", c, j)
#define NO(c, j) T_CHECKF(cm(c, j) == 0, "'%s' on %s", c, j)

static void test_boolean_operators(void)
{
    YES("a and b", "{\"a\":1,\"b\":1}");
    NO("a and b", "{\"a\":1}");
    YES("a or b", "{\"b\":1}");
    NO("a or b", "{\"c\":1}");
    YES("not a", "{\"b\":1}");
    NO("not a", "{\"a\":1}");
    YES("a AND NOT b", "{\"a\":1}"); /* keywords in any case */
    T_EQ_INT(cm("A", "{\"a\":1}"), -1);           /* identifiers are exact */
    YES("not not a", "{\"a\":1}");
}

static void test_precedence(void)
{
    /* not > and > or: "a or b and c" is a or (b and c) */
    YES("a or b and c", "{\"a\":1}");
    NO("a or b and c", "{\"b\":1}");
    NO("(a or b) and c", "{\"a\":1}");
    YES("(a or b) and c", "{\"b\":1,\"c\":1}");
    /* "not a and b" is (not a) and b */
    YES("not a and b", "{\"b\":1}");
    NO("not a and b", "{\"c\":1}");
    YES("not (a and b)", "{\"a\":1}");
    YES("((a))", "{\"a\":1}");
}

static void test_quantifiers(void)
{
    YES("1 of sel_*", "{\"y\":1}");
    NO("1 of sel_*", "{\"a\":1}");
    YES("all of sel_*", "{\"x\":1,\"y\":1}");
    NO("all of sel_*", "{\"x\":1}");
    YES("any of sel_*", "{\"x\":1}");
    YES("1 of them", "{\"c\":1}");
    NO("1 of them", "{\"h\":1}"); /* _hidden is not part of them */
    NO("all of them", "{\"a\":1,\"b\":1,\"c\":1,\"x\":1}");
    YES("all of them", "{\"a\":1,\"b\":1,\"c\":1,\"x\":1,\"y\":1}");
    YES("1 of _h*", "{\"h\":1}"); /* a pattern may name them */
    YES("a and not 1 of sel*", "{\"a\":1}");
    NO("a and not 1 of sel*", "{\"a\":1,\"y\":1}");
    YES("1 of s*_y", "{\"y\":1}");
}

static void test_condition_list(void)
{
    const char *yaml = DET "  condition:\n    - a and b\n    - c\n";
    T_EQ_INT(su_match(yaml, "{\"c\":1}"), 1);
    T_EQ_INT(su_match(yaml, "{\"a\":1,\"b\":1}"), 1);
    T_EQ_INT(su_match(yaml, "{\"a\":1}"), 0);
}

static void test_errors(void)
{
    static const struct {
        const char *cond, *msg;
    } cases[] = {
        {"a and d", "detection.condition: unknown identifier 'd'"},
        {"1 of z*", "detection.condition: 'z*' matches no identifier"},
        {"(a or b", "detection.condition: missing ')'"},
        {"a or b)", "detection.condition: unexpected ')'"},
        {"a b", "detection.condition: unexpected 'b'"},
        {"a and", "detection.condition: unexpected end"},
        {"a | count() > 5", "'|' aggregations are Sigma v1"},
        {"1 of", "'of' needs an identifier pattern or 'them'"},
        {"a or or b", "unexpected 'or'"},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        char yaml[1024], err[256];
        snprintf(yaml, sizeof yaml, DET "  condition: %s\n", cases[i].cond);
        su_load_error(yaml, err, sizeof err);
        T_CHECKF(strstr(err, cases[i].msg) != NULL, "'%s': got '%s'", cases[i].cond, err);
        T_CHECKF(strncmp(err, "t.yml:9: ", 9) == 0, "'%s': got '%s'", cases[i].cond, err);
    }
    char err[256];
    su_load_error("title: t\ndetection:\n  a: {a: 1}\n", err, sizeof err);
    T_EQ_STR(err, "t.yml:3: detection.condition: missing");
    /* nesting is bounded */
    char deep[100];
    memset(deep, '(', 40);
    deep[40] = 'a';
    memset(deep + 41, ')', 40);
    deep[81] = '\0';
    T_CHECK(cm(deep, "{\"a\":1}") == -1);
}

static void test_selection_cache(void)
{
    /* the same selection used twice is evaluated once per event and gives
     * the same answer both times */
    YES("a and (a or b) and not (not a)", "{\"a\":1}");
    NO("a and (a or b) and not (not a)", "{\"b\":1}");
}

int main(void)
{
    T_RUN(test_boolean_operators);
    T_RUN(test_precedence);
    T_RUN(test_quantifiers);
    T_RUN(test_condition_list);
    T_RUN(test_errors);
    T_RUN(test_selection_cache);
    return t_done();
}
