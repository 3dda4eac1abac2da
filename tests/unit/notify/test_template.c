/* test_template.c — the notification template language: values, sections,
 * loops, standalone lines, escaping per target with hostile text, the
 * output bound, syntax errors with file:line, and user overrides. */
#include "lib/json.h"
#include "notify/template.h"
#include "recv_testlib.h"
#include "test.h"

static struct arena ar = ARENA_INIT(16u << 20);

static const char *CTX_JSON =
    "{\"issue\":{\"title\":\"T\",\"count\":12,\"ratio\":1.5,\"on\":true,\"off\":false,"
    "\"none\":null,\"empty\":\"\",\"zero\":0,\"tags\":[\"a\",\"b\",\"c\"],"
    "\"ann\":[{\"text\":\"one\",\"link\":\"https://x.example/1\"},{\"text\":\"two\"}]},"
    "\"reason\":\"because\",\"link\":\"outer\"}";

/* Renders src against CTX_JSON (or ctx_json) into a static buffer. */
static const char *render_in(const char *ctx_json, const char *src, enum tmpl_escape esc,
                             size_t max, bool *cut)
{
    static struct buf out = BUF_INIT(1u << 20);
    buf_reset(&out);
    arena_reset(&ar);
    struct json_value *root = NULL;
    T_CHECK(json_parse(ctx_json, strlen(ctx_json), NULL, &ar, &root, NULL) == KB_OK);
    struct tmpl *t = NULL;
    struct kb_why why = {{0}};
    kb_err e = tmpl_parse("t", src, strlen(src), &t, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    if (e)
        return "(parse error)";
    struct tmpl_ctx ctx = {{root}, {ctx_json}, 1};
    T_EQ_INT(tmpl_render(t, &ctx, esc, max, &out, cut), KB_OK);
    tmpl_free(t);
    if (!out.p)
        buf_append(&out, "", 0);
    size_t bad;
    T_CHECKF(json_utf8_valid(out.p, out.len, &bad), "invalid UTF-8 at %zu", bad);
    return out.p;
}

static const char *render(const char *src, enum tmpl_escape esc)
{
    return render_in(CTX_JSON, src, esc, 10000, NULL);
}

/* {"v": value} as a context, rendered through "{{v}}" or with a filter. */
static const char *render_value(const char *value_json, const char *tag, enum tmpl_escape esc)
{
    static char ctx[4096];
    snprintf(ctx, sizeof ctx, "{\"v\":%s}", value_json);
    return render_in(ctx, tag, esc, 10000, NULL);
}

static void test_values(void)
{
    T_EQ_STR(render("[{{issue.title}}] {{ issue.count }} {{issue.ratio}} {{issue.on}}", TMPL_PLAIN),
             "[T] 12 1.5 true");
    T_EQ_STR(render("<{{issue.missing}}{{nothere.x}}{{issue.none}}{{issue.tags}}>", TMPL_PLAIN),
             "<>");
    T_EQ_STR(render("{{issue.tags.1}}", TMPL_PLAIN), "b");
    T_EQ_STR(render("{{! a comment }}x{{!another}}", TMPL_PLAIN), "x");
}

static void test_sections(void)
{
    T_EQ_STR(render("{{#reason}}why: {{reason}}{{/reason}}", TMPL_PLAIN), "why: because");
    T_EQ_STR(render("{{#issue.none}}x{{/issue.none}}{{#issue.empty}}y{{/issue.empty}}"
                    "{{#issue.zero}}z{{/issue.zero}}{{#issue.off}}w{{/issue.off}}|",
                    TMPL_PLAIN),
             "|");
    T_EQ_STR(
        render("{{^issue.missing}}absent{{/issue.missing}}{{^reason}}no{{/reason}}", TMPL_PLAIN),
        "absent");
    T_EQ_STR(render("{{#issue.tags}}<{{.}}>{{/issue.tags}}", TMPL_PLAIN), "<a><b><c>");
    /* .link: the element's (the root "link" never leaks in); inside a section
     * on a string, .link is still found in the enclosing element */
    T_EQ_STR(
        render("{{#issue.ann}}{{.text}}{{#.link}}={{.link}}{{/.link}};{{/issue.ann}}", TMPL_PLAIN),
        "one=https://x.example/1;two;");
    T_EQ_STR(render("{{#issue}}{{.title}}/{{title}}{{/issue}}", TMPL_PLAIN), "T/");
    /* a section over an object: a plain path still finds the roots */
    T_EQ_STR(render("{{#issue}}{{reason}}{{/issue}}", TMPL_PLAIN), "because");
}

static void test_loop_bound(void)
{
    struct buf ctx = BUF_INIT(1u << 20);
    buf_puts(&ctx, "{\"xs\":[");
    for (int i = 0; i < 250; i++)
        buf_printf(&ctx, "%s1", i ? "," : "");
    buf_puts(&ctx, "]}");
    const char *out = render_in(ctx.p, "{{#xs}}x{{/xs}}", TMPL_PLAIN, 10000, NULL);
    T_EQ_INT(strlen(out), TMPL_MAX_LOOP);
    buf_release(&ctx);
}

static void test_standalone_lines(void)
{
    const char *src = "a\n"
                      "  {{#reason}}  \n"
                      "b {{reason}}\n"
                      "{{/reason}}\n"
                      "{{#issue.none}}\n"
                      "hidden\n"
                      "{{/issue.none}}\n"
                      "{{! note }}\n"
                      "c {{#reason}}inline{{/reason}}\n"
                      "end";
    T_EQ_STR(render(src, TMPL_PLAIN), "a\nb because\nc inline\nend");
    T_EQ_STR(render("x\r\n{{#reason}}\r\ny\r\n{{/reason}}\r\nz", TMPL_PLAIN), "x\r\ny\r\nz");
}

static void test_escape_slack(void)
{
    T_EQ_STR(
        render_value("\"<script>alert(1)</script> & <!here> @here <@U123>\"", "{{v}}", TMPL_SLACK),
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!here&gt; @here &lt;@U123&gt;");
    /* formatting marks that could open or close formatting are neutralised;
     * inside a name they stay */
    T_EQ_STR(
        render_value("\"*bold* _it_ ~st~ `code` my_bucket_name a*b s3:*\"", "{{v}}", TMPL_SLACK),
        "\xE2\x88\x97"
        "bold\xE2\x88\x97 \xEF\xBC\xBF"
        "it\xEF\xBC\xBF "
        "\xE2\x88\xBC"
        "st\xE2\x88\xBC \xEF\xBD\x80"
        "code\xEF\xBD\x80 my_bucket_name a*b "
        "s3:\xE2\x88\x97");
    T_EQ_STR(render_value("\"a\\nb\\tc\\u0001d\"", "{{v}}", TMPL_SLACK), "a\nb\tc d");
    T_EQ_STR(render_value("\"arn:aws:s3:::my_bucket/*`x` <b>\"", "{{v|code}}", TMPL_SLACK),
             "`arn:aws:s3:::my_bucket/*\xEF\xBD\x80x\xEF\xBD\x80 &lt;b&gt;`");
    T_EQ_STR(render_value("\"https://k.example/a?x=1&y=|2>\"", "<{{v|url}}|open>", TMPL_SLACK),
             "<https://k.example/a?x=1&amp;y=%7C2&gt;|open>");
    T_EQ_STR(render_value("\"javascript:alert(1)\"", "[{{v|url}}]", TMPL_SLACK), "[]");
}

static void test_escape_github(void)
{
    const char *out =
        render_value("\"<script>alert(1)</script> @team #12 *bold* </details> [x](javascript:y)\"",
                     "{{v}}", TMPL_GITHUB);
    T_EQ_STR(out, "&lt;script&gt;alert(1)&lt;/script&gt; @\xE2\x81\xA0team #\xE2\x81\xA0"
                  "12 "
                  "\\*bold\\* &lt;/details&gt; \\[x\\](javascript:y)");
    T_CHECK(strstr(out, "<script>") == NULL && strstr(out, "@team") == NULL);
    /* a value never starts a block: lists, headings, new lines */
    T_EQ_STR(render_value("\"1. one\\n- two\\n# three\"", "{{v}}", TMPL_GITHUB),
             "1\\. one - two #\xE2\x81\xA0 three");
    T_EQ_STR(render_value("\"- x\"", "{{v}}", TMPL_GITHUB), "\\- x");
    T_EQ_STR(render_value("\"a|b ~c~ _d_ \\\\e\"", "{{v}}", TMPL_GITHUB),
             "a\\|b \\~c\\~ \\_d\\_ \\\\e");
    /* code spans: the fence outgrows backticks in the value */
    T_EQ_STR(render_value("\"a`b <i> @x\"", "{{v|code}}", TMPL_GITHUB), "``a`b <i> @x``");
    T_EQ_STR(render_value("\"`x\"", "{{v|code}}", TMPL_GITHUB), "`` `x ``");
    T_EQ_STR(render_value("\"l1\\nl2\"", "{{v|code}}", TMPL_GITHUB), "`l1 l2`");
    T_EQ_STR(render_value("\"\"", "[{{v|code}}]", TMPL_GITHUB), "[]");
    T_EQ_STR(render_value("\"https://x.example/a b(c)\"", "({{v|url}})", TMPL_GITHUB),
             "(https://x.example/a%20b%28c%29)");
}

static void test_escape_json_and_plain(void)
{
    const char *hostile = "\"quote \\\" back \\\\ nl \\n tab \\t ctl \\u0001 <x> é\"";
    const char *out = render_value(hostile, "{\"t\":\"{{v}}\"}", TMPL_JSON);
    struct arena a = ARENA_INIT(1u << 20);
    struct json_value *v = NULL;
    T_CHECKF(json_parse(out, strlen(out), NULL, &a, &v, NULL) == KB_OK, "%s", out);
    T_EQ_KSTR(json_str(json_get(v, "t")), "quote \" back \\ nl \n tab \t ctl \x01 <x> é");
    arena_release(&a);
    T_EQ_STR(render_value("\"a\\r\\nb\\u0007c <d> *e*\"", "{{v}}", TMPL_PLAIN), "a\nb c <d> *e*");
}

static void test_invalid_utf8_value(void)
{
    /* the context's JSON is valid, so the bad bytes come through a number's
     * source text: build a context whose string holds them directly */
    const char ctx_text[] = "{\"v\":\"ok\"}";
    struct arena a = ARENA_INIT(1u << 20);
    struct json_value *root = NULL;
    T_CHECK(json_parse(ctx_text, strlen(ctx_text), NULL, &a, &root, NULL) == KB_OK);
    struct json_value *v = (struct json_value *)json_get(root, "v");
    static const char bad[] = "a\xff"
                              "b\xc3(\xed\xa0\x80z";
    v->u.str = bad;
    v->len = sizeof bad - 1;
    static const enum tmpl_escape modes[] = {TMPL_PLAIN, TMPL_SLACK, TMPL_GITHUB, TMPL_JSON};
    struct tmpl *t = NULL;
    T_EQ_INT(tmpl_parse("t", "{{v}}|{{v|code}}", 16, &t, NULL), KB_OK);
    for (size_t i = 0; i < KB_ARRAY_LEN(modes); i++) {
        struct buf out = BUF_INIT(4096);
        struct tmpl_ctx ctx = {{root}, {ctx_text}, 1};
        T_EQ_INT(tmpl_render(t, &ctx, modes[i], 1000, &out, NULL), KB_OK);
        size_t at;
        T_CHECKF(json_utf8_valid(out.p, out.len, &at), "mode %zu: bad byte at %zu", i, at);
        T_CHECK(strstr(out.p, "a\xEF\xBF\xBD"
                              "b") != NULL);
        buf_release(&out);
    }
    tmpl_free(t);
    arena_release(&a);
}

static size_t chars(const char *s)
{
    size_t c = 0;
    for (; *s; s++)
        c += ((unsigned char)*s & 0xC0) != 0x80;
    return c;
}

static void test_bound(void)
{
    bool cut = false;
    const char *out = render_in("{\"v\":\"0123456789abcdefghij\xC3\xA9\xC3\xA9\xC3\xA9\"}",
                                "title: {{v}} and more text", TMPL_PLAIN, 20, &cut);
    T_CHECK(cut);
    T_CHECKF(chars(out) <= 20, "%zu chars: %s", chars(out), out);
    T_EQ_STR(out, "title: 0123456789ab\xE2\x80\xA6");
    /* an entity is not split, and a cut code span is still closed */
    out = render_in("{\"v\":\"&&&&&&&&\"}", "{{v}}", TMPL_SLACK, 14, &cut);
    T_EQ_STR(out, "&amp;&amp;\xE2\x80\xA6");
    out = render_in("{\"v\":\"abcdefghijklmnopqrstuvwxyz\"}", "x {{v|code}} y", TMPL_GITHUB, 12,
                    &cut);
    T_CHECK(cut);
    T_EQ_STR(out, "x `abcdefg\xE2\x80\xA6`");
    out = render_in("{\"v\":\"short\"}", "{{v}}", TMPL_PLAIN, 20, &cut);
    T_CHECK(!cut);
    T_EQ_STR(out, "short");
}

static void expect_error(const char *src, kb_err want, const char *needle)
{
    struct tmpl *t = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(tmpl_parse("x.tmpl", src, strlen(src), &t, &why), want);
    T_CHECK(t == NULL);
    T_CHECKF(strstr(why.msg, needle) != NULL, "\"%s\" not in \"%s\"", needle, why.msg);
}

static void test_syntax_errors(void)
{
    expect_error("a\nb\n{{#x}}\nc", KB_EPARSE, "x.tmpl:3: section {{#x}} is not closed");
    expect_error("{{#a}}{{/b}}", KB_EPARSE, "x.tmpl:1: {{/b}} closes {{#a}}");
    expect_error("\n{{/a}}", KB_EPARSE, "x.tmpl:2: {{/a}} closes no section");
    expect_error("{{{raw}}}", KB_EPARSE, "x.tmpl:1: '{{{'");
    expect_error("a {{title", KB_EPARSE, "x.tmpl:1: '{{' is not closed");
    expect_error("{{title|upper}}", KB_EPARSE, "unknown filter \"upper\"");
    expect_error("{{.text}}", KB_EPARSE, "outside a section");
    expect_error("{{a b}}", KB_EPARSE, "bad name");
    expect_error("{{a..b}}", KB_EPARSE, "bad name");
    expect_error("{{}}", KB_EPARSE, "empty tag");
    expect_error("{{#a|code}}{{/a}}", KB_EPARSE, "filters apply to values only");
    expect_error("ok\n\xff", KB_EPARSE, "x.tmpl:2: invalid UTF-8");
    expect_error("{{#a}}{{#b}}{{#c}}{{#d}}{{#e}}{{#f}}{{#g}}{{#h}}{{#i}}", KB_ETOOBIG,
                 "nested deeper than 8");
    struct buf big = BUF_INIT(1u << 20);
    for (int i = 0; i < 3000; i++)
        buf_puts(&big, "{{a}}");
    expect_error(big.p, KB_ETOOBIG, "more than 2048");
    buf_reset(&big);
    for (size_t i = 0; i <= TMPL_MAX_SOURCE; i++)
        buf_putc(&big, 'x');
    expect_error(big.p, KB_ETOOBIG, "larger than");
    buf_release(&big);
}

static const struct tmpl_default defs[] = {
    {"one.tmpl", "builtin {{reason}}"},
    {"two.tmpl", "two"},
};

static void test_set_override(void)
{
    char dir[64];
    tdir_make(dir, sizeof dir);
    tdir_write(dir, "one.tmpl", "user {{reason}}!");
    struct tmpl_set *s = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(tmpl_set_load(defs, 2, dir, &s, &why), KB_OK);
    struct json_value *root = NULL;
    arena_reset(&ar);
    T_CHECK(json_parse(CTX_JSON, strlen(CTX_JSON), NULL, &ar, &root, NULL) == KB_OK);
    struct tmpl_ctx ctx = {{root}, {CTX_JSON}, 1};
    struct buf out = BUF_INIT(4096);
    T_EQ_INT(tmpl_render(tmpl_set_get(s, "one.tmpl"), &ctx, TMPL_PLAIN, 100, &out, NULL), KB_OK);
    T_EQ_STR(out.p, "user because!");
    buf_reset(&out);
    T_EQ_INT(tmpl_render(tmpl_set_get(s, "two.tmpl"), &ctx, TMPL_PLAIN, 100, &out, NULL), KB_OK);
    T_EQ_STR(out.p, "two");
    T_EQ_STR(tmpl_name(tmpl_set_get(s, "two.tmpl")), "builtin:two.tmpl");
    T_CHECK(tmpl_set_get(s, "three.tmpl") == NULL);
    buf_release(&out);
    tmpl_set_free(s);

    /* a broken user template: the error names the file and line */
    tdir_write(dir, "two.tmpl", "fine\n{{#x}}never closed\n");
    s = NULL;
    T_EQ_INT(tmpl_set_load(defs, 2, dir, &s, &why), KB_EPARSE);
    T_CHECK(s == NULL);
    char want[128];
    snprintf(want, sizeof want, "%s/two.tmpl:2: section {{#x}} is not closed", dir);
    T_EQ_STR(why.msg, want);

    /* no such folder */
    T_EQ_INT(tmpl_set_load(defs, 2, "/nonexistent/koban-tmpl", &s, &why), KB_EIO);
    T_CHECK(strstr(why.msg, "/nonexistent/koban-tmpl") != NULL);
    static const char *const names[] = {"one.tmpl", "two.tmpl"};
    tdir_remove(dir, names, 2);
}

int main(void)
{
    T_RUN(test_values);
    T_RUN(test_sections);
    T_RUN(test_loop_bound);
    T_RUN(test_standalone_lines);
    T_RUN(test_escape_slack);
    T_RUN(test_escape_github);
    T_RUN(test_escape_json_and_plain);
    T_RUN(test_invalid_utf8_value);
    T_RUN(test_bound);
    T_RUN(test_syntax_errors);
    T_RUN(test_set_override);
    arena_release(&ar);
    return t_done();
}
