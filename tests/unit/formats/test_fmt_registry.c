/* test_fmt_registry.c — the format registry, format_normalize (parsing,
 * text, forcing, stamping), the JSON form of an alert, and robustness:
 * every format given every sample with each value replaced by values of
 * other types answers KB_OK or KB_EINVAL (never crashes, never leaks). */
#include "fmt_testlib.h"

#include <stdlib.h>

static void test_registry(void)
{
    static const char *const names[] = {"generic", "guardduty", "scc", "cloudtrail", "gcp_audit",
                                        "wazuh", "falco", "alertmanager", "syslog", "report",
                                        "vuln"};
    T_EQ_INT(format_count(), KB_ARRAY_LEN(names));
    for (size_t i = 0; i < KB_ARRAY_LEN(names); i++) {
        const struct format *f = format_at(i);
        T_CHECK(f != NULL);
        if (!f)
            continue;
        T_EQ_STR(f->name, names[i]);
        T_EQ_INT(f->id, i + 1); /* append-only ids, in order */
        T_CHECK(format_by_name(names[i]) == f);
        T_CHECK(format_by_id((uint8_t)(i + 1)) == f);
        T_CHECK(f->summary && f->summary[0]);
        T_CHECK(f->identity && f->identity[0]);
        T_CHECK((f->detect && f->normalize_json) || f->normalize_text);
    }
    T_CHECK(format_at(format_count()) == NULL);
    T_CHECK(format_by_name("nope") == NULL);
    T_CHECK(format_by_name(NULL) == NULL);
    T_CHECK(format_by_id(0) == NULL);
    T_CHECK(format_by_id(200) == NULL);
}

static void test_detect_fallback(void)
{
    T_EQ_STR(tl_detect(KB_STR_LIT("{\"anything\":1}")), "generic");
    T_EQ_STR(tl_detect(KB_STR_LIT("{}")), "generic");
    T_EQ_STR(tl_detect(KB_STR_LIT("[1]")), "generic");
    T_EQ_STR(tl_detect(KB_STR_LIT("{\"Records\":[]}")), "generic");
    /* near misses stay generic */
    T_EQ_STR(tl_detect(KB_STR_LIT("{\"eventSource\":\"s\",\"eventName\":\"n\"}")), "generic");
    T_EQ_STR(tl_detect(KB_STR_LIT("{\"rule\":\"r\",\"priority\":\"Error\"}")), "generic");
    T_EQ_STR(tl_detect(KB_STR_LIT("{\"finding\":{\"name\":\"x\"}}")), "generic");
    T_EQ_STR(tl_detect(KB_STR_LIT("{\"protoPayload\":{\"methodName\":\"m\"}}")), "generic");
}

static void test_normalize_errors(void)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    T_EQ_INT(tl_norm_c(NULL, "{\"a\":1,}", &ar, &out, &why), KB_EPARSE);
    T_CHECKF(strncmp(why.msg, "line 1, byte ", 13) == 0, "why: %s", why.msg);
    T_EQ_INT(tl_norm_c(NULL, "{\"a\":\n  tru}", &ar, &out, &why), KB_EPARSE);
    T_CHECKF(strncmp(why.msg, "line 2, byte ", 13) == 0, "why: %s", why.msg);
    T_EQ_INT(out.n, 0);

    struct json_limits lim = {2, 0};
    why.msg[0] = '\0';
    T_EQ_INT(format_normalize(NULL, KB_STR_LIT("{\"a\":{\"b\":{\"c\":1}}}"), false, &lim, &ar,
                              tl_collect, &out, &why),
             KB_ETOOBIG);
    T_CHECK(why.msg[0] != '\0');

    /* a text format forced on JSON, and a JSON format forced on text */
    T_EQ_INT(tl_norm_c(format_by_name("syslog"), "{\"a\":1}", &ar, &out, &why), KB_EINVAL);
    T_EQ_STR(why.msg, "format 'syslog' reads text lines, not JSON");
    T_EQ_INT(format_normalize(format_by_name("wazuh"), KB_STR_LIT("hello"), true, NULL, &ar,
                              tl_collect, &out, &why),
             KB_EINVAL);
    T_EQ_STR(why.msg, "format 'wazuh' reads JSON, not text lines");
    arena_release(&ar);
}

static kb_err stop_emit(void *ctx, struct alert *a)
{
    int *n = ctx;
    (*n)++;
    return KB_EBUSY;
}

static void test_text_and_emit_errors(void)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    static const char line[] = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick";
    out.n = 0;
    T_EQ_INT(format_normalize(NULL, KB_STR_LIT(line), true, NULL, &ar, tl_collect, &out, &why),
             KB_OK);
    T_EQ_INT(out.n, 1);
    if (out.n == 1) {
        T_EQ_STR(out.al[0].source, "syslog");
        T_CHECK(out.al[0].raw.p == line);
        T_CHECK(out.al[0].json == NULL);
    }
    /* what emit returns stops normalization and is passed back */
    int n = 0;
    T_EQ_INT(format_normalize(NULL,
                              KB_STR_LIT("{\"alerts\":[{\"labels\":{\"alertname\":\"A\"}},"
                                         "{\"labels\":{\"alertname\":\"B\"}}],\"version\":\"4\"}"),
                              false, NULL, &ar, stop_emit, &n, &why),
             KB_EBUSY);
    T_EQ_INT(n, 1);
    arena_release(&ar);
}

/* A normalizer called directly with a DOM parsed from a larger payload (as
 * the splitter does) still reads numbers as written. */
static void test_numbers_in_payload(void)
{
    static const char payload[] =
        "[ {\"id\":\"x\",\"type\":\"T\",\"severity\":2.50,\"service\":{\"count\":7}} ]";
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct json_value *root = NULL;
    T_EQ_INT(json_parse(payload, sizeof payload - 1, &tl_lim, &ar, &root, NULL), KB_OK);
    const struct json_value *ev = root ? root->u.child : NULL;
    T_CHECK(ev != NULL);
    if (ev) {
        struct tl_out out = {.n = 0};
        struct kb_why why = {{0}};
        struct kb_str raw = {payload + ev->src_off, ev->src_len};
        T_EQ_INT(format_by_name("guardduty")->normalize_json(ev, raw, &ar, tl_collect, &out, &why),
                 KB_OK);
        T_EQ_KSTR(out.al[0].native_severity, "2.50");
        T_EQ_KSTR(alert_get(&out.al[0], "count"), "7");
        /* a raw that is not the parsed text: the number is printed instead */
        out.n = 0;
        T_EQ_INT(format_by_name("guardduty")->normalize_json(ev, KB_STR_LIT("{}"), &ar, tl_collect,
                                                             &out, &why),
                 KB_OK);
        T_EQ_KSTR(out.al[0].native_severity, "2.5");
    }
    arena_release(&ar);
}

static void test_write_json(void)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct tl_out out;
    struct kb_why why = {{0}};
    static const char ev[] = "{\"rule\":{\"id\":\"5710\",\"level\":5,\"description\":\"d\"},"
                             "\"agent\":{\"name\":\"h\"},\"data\":{\"srcip\":\"1.2.3.4\"},"
                             "\"timestamp\":\"2026-11-21T01:12:03.114+0000\"}";
    T_EQ_INT(tl_norm_c(NULL, ev, &ar, &out, &why), KB_OK);
    struct buf b = BUF_INIT(1 << 20);
    struct jw w;
    jw_init(&w, &b);
    alert_write_json(&out.al[0], &w);
    T_EQ_INT(jw_finish(&w), KB_OK);
    struct json_value *root = NULL;
    T_EQ_INT(json_parse(b.p, b.len, &tl_lim, &ar, &root, NULL), KB_OK);
    T_EQ_KSTR(tl_get(root, "source"), "wazuh");
    T_EQ_KSTR(tl_get(root, "kind"), "wazuh:5710");
    T_EQ_KSTR(tl_get(root, "severity"), "low");
    T_EQ_KSTR(tl_get(root, "actor.ip"), "1.2.3.4");
    T_EQ_KSTR(tl_get(root, "time"), "2026-11-21T01:12:03.114Z");
    T_EQ_KSTR(tl_get(root, "fields.rule_id"), "5710");
    T_EQ_KSTR(tl_get(root, "raw.rule.id"), "5710"); /* the original, verbatim */
    T_EQ_KSTR(tl_get(root, "identity.0"), "host");
    buf_release(&b);
    arena_release(&ar);
}

/* ---- robustness: every value of every sample replaced by other types ---- */

#define RB_MAX_NODES 400

static const char *const rb_repl[] = {"0", "-1.5e300", "\"\"", "\"x\"", "{}", "[]", "null",
                                      "true", "[[{}]]"};

struct rb_state {
    size_t variants, calls;
};

static kb_err rb_emit(void *ctx, struct alert *a)
{
    /* touch every string the alert borrows, so ASan sees bad pointers */
    size_t *sum = ctx;
    const struct kb_str *s[] = {&a->kind, &a->native_id, &a->title, &a->description,
                                &a->native_severity, &a->account, &a->region, &a->resource,
                                &a->actor_user, &a->actor_ip, &a->host, &a->outcome, &a->state};
    for (size_t i = 0; i < KB_ARRAY_LEN(s); i++)
        for (size_t j = 0; j < s[i]->n; j++)
            *sum += (unsigned char)s[i]->p[j];
    for (uint32_t i = 0; i < a->nfields; i++)
        for (size_t j = 0; j < a->fields[i].value.n; j++)
            *sum += (unsigned char)a->fields[i].value.p[j] + strlen(a->fields[i].name);
    return KB_OK;
}

static void rb_run_all(struct rb_state *st, const char *text, size_t n)
{
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct json_value *root = NULL;
    if (json_parse(text, n, &tl_lim, &ar, &root, NULL) != KB_OK) {
        arena_release(&ar);
        return;
    }
    for (size_t i = 0; i < format_count(); i++) {
        const struct format *f = format_at(i);
        if (!f->normalize_json)
            continue;
        size_t sum = 0;
        struct kb_why why = {{0}};
        (void)f->detect(root);
        kb_err e = f->normalize_json(root, (struct kb_str){text, n}, &ar, rb_emit, &sum, &why);
        st->calls++;
        T_CHECKF(e == KB_OK || e == KB_EINVAL, "%s: %s on %.60s", f->name, kb_strerror(e), text);
        if (e == KB_EINVAL)
            T_CHECKF(why.msg[0] != '\0', "%s: no reason", f->name);
    }
    arena_release(&ar);
}

static void rb_event(void *ctx, struct kb_str raw)
{
    struct rb_state *st = ctx;
    struct arena ar = ARENA_INIT(TL_ARENA);
    struct json_value *root = NULL;
    if (json_parse(raw.p, raw.n, &tl_lim, &ar, &root, NULL) != KB_OK) {
        arena_release(&ar);
        return;
    }
    rb_run_all(st, raw.p, raw.n);
    /* collect nodes breadth-first */
    const struct json_value *nodes[RB_MAX_NODES];
    size_t nn = 0, head = 0;
    nodes[nn++] = root;
    while (head < nn && nn < RB_MAX_NODES) {
        const struct json_value *v = nodes[head++];
        if (v->type == JSON_OBJECT || v->type == JSON_ARRAY)
            for (const struct json_value *c = v->u.child; c && nn < RB_MAX_NODES; c = c->next)
                nodes[nn++] = c;
    }
    for (size_t i = 1; i < nn; i++) {
        for (size_t r = 0; r < KB_ARRAY_LEN(rb_repl); r++) {
            size_t rl = strlen(rb_repl[r]);
            size_t len = raw.n - nodes[i]->src_len + rl;
            char *t = malloc(len + 1);
            memcpy(t, raw.p, nodes[i]->src_off);
            memcpy(t + nodes[i]->src_off, rb_repl[r], rl);
            memcpy(t + nodes[i]->src_off + rl, raw.p + nodes[i]->src_off + nodes[i]->src_len,
                   raw.n - nodes[i]->src_off - nodes[i]->src_len);
            t[len] = '\0';
            rb_run_all(st, t, len);
            st->variants++;
            free(t);
        }
    }
    arena_release(&ar);
}

static void rb_file(void *ctx, const char *path)
{
    size_t len;
    char *text = t_read_file(path, &len);
    if (!text)
        return;
    tl_split(text, len, rb_event, ctx);
    free(text);
}

static void test_robust_examples(void)
{
    static const char *const dirs[] = {"guardduty", "scc", "cloudtrail", "gcp_audit",
                                       "wazuh", "falco", "alertmanager"};
    struct rb_state st = {0, 0};
    for (size_t i = 0; i < KB_ARRAY_LEN(dirs); i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/examples/%s", KOBAN_SOURCE_DIR, dirs[i]);
        tl_each_file(dir, ".json", rb_file, &st);
    }
    T_CHECK(st.variants > 5000);
    fprintf(stderr, "  robustness: %zu variants, %zu normalizer calls\n", st.variants, st.calls);
}

static void test_robust_public(void)
{
    T_NEED_DATA(data);
    struct rb_state st = {0, 0};
    char path[4096];
    snprintf(path, sizeof path, "%s/scc", data);
    tl_each_file(path, ".json", rb_file, &st);
    snprintf(path, sizeof path, "%s/guardduty/panther_guardduty_findings.jsonl", data);
    rb_file(&st, path);
    snprintf(path, sizeof path, "%s/cloudtrail/stratus/aws.persistence.iam-create-admin-user.json",
             data);
    rb_file(&st, path);
    T_CHECK(st.variants > 5000);
}

int main(void)
{
    T_RUN(test_registry);
    T_RUN(test_detect_fallback);
    T_RUN(test_normalize_errors);
    T_RUN(test_text_and_emit_errors);
    T_RUN(test_numbers_in_payload);
    T_RUN(test_write_json);
    T_RUN(test_robust_examples);
    T_RUN(test_robust_public);
    return t_done();
}
