/* test_incident_modal.c — the declaration modal: the views.open body (its
 * blocks, prefill, metadata), reading and checking a submission (each bad
 * field named by its block), and a submission on a real store (opened with
 * the chosen channel name, a taken name refused, the issue linked). */
#include "incident/incident_modal.h"
#include "lib/arena.h"
#include "lib/json.h"
#include "store/db.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#define NOW 1614128400000LL /* 2021-02-24T01:00:00Z */

static char dir[256], path[300];
static struct arena ar = ARENA_INIT(8u << 20);

static const struct json_value *parse(const char *text, size_t n)
{
    struct json_value *v = NULL;
    T_EQ_INT(json_parse(text, n, NULL, &ar, &v, NULL), KB_OK);
    return v;
}

static struct kb_str at(const struct json_value *v, const char *p)
{
    return json_str(json_path(v, p));
}

/* view.state.values of a submission; NULL fields are left out. */
static void values(struct buf *b, const char *service, const char *what, const char *temp,
                   const char *channel, bool drill)
{
    buf_reset(b);
    struct jw w;
    jw_init(&w, b);
    jw_obj_begin(&w);
    const char *texts[][2] = {{"service", service}, {"what", what}, {"channel", channel}};
    for (size_t i = 0; i < 3; i++) {
        jw_key(&w, texts[i][0]);
        jw_obj_begin(&w);
        jw_key(&w, "value");
        jw_obj_begin(&w);
        jw_kv_str(&w, "type", "plain_text_input");
        jw_kv_str(&w, "value", texts[i][1]); /* NULL: null, as Slack sends an empty input */
        jw_obj_end(&w);
        jw_obj_end(&w);
    }
    jw_key(&w, "temperature");
    jw_obj_begin(&w);
    jw_key(&w, "value");
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "static_select");
    if (temp) {
        jw_key(&w, "selected_option");
        jw_obj_begin(&w);
        jw_kv_str(&w, "value", temp);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_key(&w, "drill");
    jw_obj_begin(&w);
    jw_key(&w, "value");
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "checkboxes");
    jw_key(&w, "selected_options");
    jw_arr_begin(&w);
    if (drill) {
        jw_obj_begin(&w);
        jw_kv_str(&w, "value", "drill");
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    T_EQ_INT(jw_finish(&w), KB_OK);
}

static void test_view(void)
{
    struct buf b = BUF_INIT(INCIDENT_MODAL_VIEW_MAX);
    struct incident_modal_prefill none = {0};
    T_EQ_INT(incident_modal_open_body("13345.98.abc", &none, &b), KB_OK);
    arena_reset(&ar);
    const struct json_value *v = parse(b.p, b.len);
    T_EQ_KSTR(at(v, "trigger_id"), "13345.98.abc");
    T_EQ_KSTR(at(v, "view.type"), "modal");
    T_EQ_KSTR(at(v, "view.callback_id"), "koban_declare");
    T_EQ_KSTR(at(v, "view.private_metadata"), "");
    T_EQ_KSTR(at(v, "view.submit.text"), "Declare");
    static const char *const blocks[] = {"service", "what", "temperature", "channel", "drill"};
    static const char *const kinds[] = {"plain_text_input", "plain_text_input", "static_select",
                                        "plain_text_input", "checkboxes"};
    const struct json_value *bl = json_path(v, "view.blocks");
    T_CHECK(bl && bl->type == JSON_ARRAY && bl->len == 5);
    size_t i = 0;
    for (const struct json_value *x = bl ? bl->u.child : NULL; x && i < 5; x = x->next, i++) {
        T_EQ_KSTR(at(x, "type"), "input");
        T_EQ_KSTR(at(x, "block_id"), blocks[i]);
        T_EQ_KSTR(at(x, "element.type"), kinds[i]);
        T_EQ_KSTR(at(x, "element.action_id"), "value");
        bool optional = json_get(x, "optional") && json_get(x, "optional")->type == JSON_TRUE;
        T_CHECK(optional == (i >= 3)); /* channel and drill may be left out */
    }
    int64_t n = 0;
    T_CHECK(json_as_int(json_path(v, "view.blocks.3.element.max_length"), &n) && n == 80);
    T_CHECK(json_as_int(json_path(v, "view.blocks.0.element.max_length"), &n) && n == 64);
    T_CHECK(json_path(v, "view.blocks.1.element.multiline")->type == JSON_TRUE);
    T_CHECK(json_path(v, "view.blocks.1.element.initial_value") == NULL);
    T_EQ_KSTR(at(v, "view.blocks.2.element.initial_option.value"), "warm");
    T_EQ_KSTR(at(v, "view.blocks.2.element.options.0.value"), "warm");
    T_EQ_KSTR(at(v, "view.blocks.2.element.options.1.value"), "hot");
    T_EQ_KSTR(at(v, "view.blocks.2.element.options.2.value"), "cold");
    T_EQ_KSTR(at(v, "view.blocks.4.element.options.0.value"), "drill");
    T_CHECK(json_path(v, "view.blocks.4.element.initial_options") == NULL);

    /* from an alert message: its title, its id; a drill ticked */
    struct incident_modal_prefill pf = {.what = "SSH brute force \"on\" i-0abc", .issue = 12,
                                        .drill = true};
    T_EQ_INT(incident_modal_open_body("t", &pf, &b), KB_OK);
    arena_reset(&ar);
    v = parse(b.p, b.len);
    T_EQ_KSTR(at(v, "view.private_metadata"), "12");
    T_EQ_KSTR(at(v, "view.blocks.1.element.initial_value"), "SSH brute force \"on\" i-0abc");
    T_EQ_KSTR(at(v, "view.blocks.4.element.initial_options.0.value"), "drill");
    T_EQ_KSTR(at(v, "view.title.text"), "Declare a drill");

    /* a title longer than the field: cut at Slack's limit, between characters */
    char *longw = malloc(2 * INCIDENT_MODAL_WHAT_MAX + 2);
    longw[0] = 'x';
    for (size_t k = 1; k + 1 < 2 * INCIDENT_MODAL_WHAT_MAX; k += 2)
        memcpy(longw + k, "\xc3\xa9", 2); /* é */
    longw[2 * INCIDENT_MODAL_WHAT_MAX - 1] = 0;
    pf.what = longw;
    T_EQ_INT(incident_modal_open_body("t", &pf, &b), KB_OK);
    arena_reset(&ar);
    v = parse(b.p, b.len);
    struct kb_str iv = at(v, "view.blocks.1.element.initial_value");
    T_EQ_INT(iv.n, INCIDENT_MODAL_WHAT_MAX - 1); /* "x" + 1499 whole "é" */
    T_CHECK(json_utf8_valid(iv.p, iv.n, NULL));
    pf.what = "short";
    free(longw);

    /* a too small buffer fails cleanly */
    struct buf tiny = BUF_INIT(100);
    T_EQ_INT(incident_modal_open_body("t", &pf, &tiny), KB_ETOOBIG);
    buf_release(&tiny);
    buf_release(&b);
}

/* Reads values and expects block (NULL: accepted). */
static void expect(const char *vals, const char *meta, const char *block,
                   struct incident_modal_form *f)
{
    char blk[16];
    struct kb_why why = {{0}};
    kb_err e = incident_modal_read(vals, meta, f, blk, &why);
    if (block) {
        T_EQ_INT(e, KB_EINVAL);
        T_EQ_STR(blk, block);
        T_CHECK(why.msg[0] != 0);
    } else {
        T_CHECKF(e == KB_OK, "%s: %s", blk, why.msg);
    }
}

static void test_read(void)
{
    struct buf b = BUF_INIT(64 * 1024);
    struct incident_modal_form *f = calloc(1, sizeof *f);

    values(&b, "  Payments ", "card payments failing\nsince 09:40\n", "hot", NULL, true);
    expect(b.p, "12", NULL, f);
    T_EQ_STR(f->service, "Payments");
    T_EQ_STR(f->title, "card payments failing");
    T_EQ_STR(f->summary, "card payments failing\nsince 09:40");
    T_EQ_STR(f->channel, "");
    T_EQ_INT(f->temperature, INCIDENT_HOT);
    T_CHECK(f->drill);
    T_EQ_INT(f->issue, 12);

    values(&b, "auth", "login errors", NULL, "auth-outage_2", false);
    expect(b.p, "", NULL, f);
    T_EQ_STR(f->channel, "auth-outage_2");
    T_EQ_STR(f->summary, "");
    T_EQ_INT(f->temperature, INCIDENT_WARM);
    T_CHECK(!f->drill);
    T_EQ_INT(f->issue, 0);
    expect(b.p, "not-a-number", NULL, f);
    T_EQ_INT(f->issue, 0);

    char c80[81], c81[82];
    memset(c80, 'a', 80);
    c80[80] = 0;
    memset(c81, 'a', 81);
    c81[81] = 0;
    values(&b, "auth", "x", NULL, c80, false);
    expect(b.p, NULL, NULL, f);
    values(&b, "auth", "x", NULL, c81, false);
    expect(b.p, NULL, "channel", f);
    values(&b, "auth", "x", NULL, "Bad Name!", false);
    expect(b.p, NULL, "channel", f);
    values(&b, "auth", "x", NULL, "café", false);
    expect(b.p, NULL, "channel", f);

    values(&b, NULL, "x", NULL, NULL, false);
    expect(b.p, NULL, "service", f);
    values(&b, "   ", "x", NULL, NULL, false);
    expect(b.p, NULL, "service", f);
    values(&b, "pay$ments", "x", NULL, NULL, false);
    expect(b.p, NULL, "service", f);
    char s65[66];
    memset(s65, 's', 65);
    s65[65] = 0;
    values(&b, s65, "x", NULL, NULL, false);
    expect(b.p, NULL, "service", f);

    values(&b, "auth", NULL, NULL, NULL, false);
    expect(b.p, NULL, "what", f);
    values(&b, "auth", " \n ", NULL, NULL, false);
    expect(b.p, NULL, "what", f);
    values(&b, "auth", "x", "lukewarm", NULL, false);
    expect(b.p, NULL, "temperature", f);

    expect("not json", NULL, "service", f);
    expect(NULL, NULL, "service", f);
    free(f);
    buf_release(&b);
}

static struct db *open_db(void)
{
    struct db *db = NULL;
    struct kb_why why = {{0}};
    kb_err e = db_open(path, DB_CLIENT, 2, &db, &why);
    T_CHECKF(e == KB_OK, "%s", why.msg);
    return db;
}

static int64_t an_issue(struct db *db)
{
    struct db_issue r = {.identity = (char *)"kind=test", .source = (char *)"test",
                         .kind = (char *)"test", .title = (char *)"SSH brute force",
                         .severity = 3, .count = 1, .first_seen = NOW, .last_seen = NOW,
                         .last_received = NOW, .state_changed = NOW};
    memset(r.fp, 7, sizeof r.fp);
    int64_t id = 0;
    T_EQ_INT(db_issue_insert(db, &r, &id), KB_OK);
    return id;
}

static void test_submit(void)
{
    struct db *db = open_db();
    struct buf b = BUF_INIT(64 * 1024), reply = BUF_INIT(64 * 1024);
    struct kb_why why = {{0}};
    int64_t id = -1;

    /* a bad field: errors under it, nothing opened */
    values(&b, "auth", "login errors", NULL, "Bad Name!", false);
    T_EQ_INT(incident_modal_submit(db, b.p, "", "U0ANA", NOW, &reply, &id, &why), KB_OK);
    T_EQ_INT(id, 0);
    arena_reset(&ar);
    const struct json_value *v = parse(reply.p, reply.len);
    T_EQ_KSTR(at(v, "response_action"), "errors");
    T_CHECK(json_path(v, "errors.channel") != NULL);
    struct db_incident r;
    T_EQ_INT(db_incident_get(db, 1, &r), KB_ENOTFOUND);

    /* a chosen channel name */
    values(&b, "auth", "login errors", "cold", "auth-login", false);
    T_EQ_INT(incident_modal_submit(db, b.p, "", "U0ANA", NOW, &reply, &id, &why), KB_OK);
    T_EQ_INT(id, 1);
    T_EQ_STR(reply.p, "{\"response_action\":\"clear\"}");
    T_EQ_INT(db_incident_get(db, 1, &r), KB_OK);
    T_EQ_STR(r.service, "auth");
    T_EQ_STR(r.title, "login errors");
    T_EQ_STR(r.slack_channel_name, "auth-login");
    T_EQ_INT(r.temperature, INCIDENT_COLD);
    T_CHECK(!r.drill);
    db_incident_release(&r);

    /* the same name again: taken */
    values(&b, "auth", "more login errors", NULL, "auth-login", false);
    T_EQ_INT(incident_modal_submit(db, b.p, "", "U0ANA", NOW, &reply, &id, &why), KB_OK);
    T_EQ_INT(id, 0);
    arena_reset(&ar);
    v = parse(reply.p, reply.len);
    T_CHECK(strstr(json_str(json_path(v, "errors.channel")).p, "taken") != NULL);

    /* no name: koban picks one; the issue is linked; a drill */
    int64_t issue = an_issue(db);
    char meta[24];
    snprintf(meta, sizeof meta, "%lld", (long long)issue);
    values(&b, "Pay Ments", "SSH brute force", NULL, NULL, true);
    T_EQ_INT(incident_modal_submit(db, b.p, meta, "U0KEN", NOW, &reply, &id, &why), KB_OK);
    T_EQ_INT(id, 2);
    T_EQ_INT(db_incident_get(db, 2, &r), KB_OK);
    T_EQ_STR(r.slack_channel_name, "pay-ments-20210224i");
    T_CHECK(r.drill);
    T_CHECK(r.nissues == 1 && r.issues[0] == issue);
    db_incident_release(&r);

    /* an issue gone since: declared all the same, unlinked */
    values(&b, "auth", "x", NULL, NULL, false);
    T_EQ_INT(incident_modal_submit(db, b.p, "999999", "U0KEN", NOW, &reply, &id, &why), KB_OK);
    T_EQ_INT(id, 3);
    T_EQ_INT(db_incident_get(db, 3, &r), KB_OK);
    T_EQ_INT(r.nissues, 0);
    db_incident_release(&r);

    buf_release(&b);
    buf_release(&reply);
    db_close(db);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/koban-modal-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/koban.db", dir);
    T_RUN(test_view);
    T_RUN(test_read);
    T_RUN(test_submit);
    arena_release(&ar);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return t_done();
}
