/* incident_modal.c — the declaration modal and its submission (incident_modal.h). */
#include "incident/incident_modal.h"

#include "lib/arena.h"
#include "lib/json.h"
#include "lib/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IM_VALUES_DEPTH 16 /* view.state.values: block → action → option */

static void plain(struct jw *w, const char *key, const char *text)
{
    jw_key(w, key);
    jw_obj_begin(w);
    jw_kv_str(w, "type", "plain_text");
    jw_kv_str(w, "text", text);
    jw_obj_end(w);
}

static void option(struct jw *w, const char *text, const char *value)
{
    jw_obj_begin(w);
    plain(w, "text", text);
    jw_kv_str(w, "value", value);
    jw_obj_end(w);
}

/* An input block: {"type":"input","block_id":..,"label":..,"element":{ — the
 * caller writes the element's members and closes both objects. */
static void input_begin(struct jw *w, const char *block, const char *label, bool optional,
                        const char *hint, const char *element)
{
    jw_obj_begin(w);
    jw_kv_str(w, "type", "input");
    jw_kv_str(w, "block_id", block);
    plain(w, "label", label);
    if (optional) {
        jw_key(w, "optional");
        jw_bool(w, true);
    }
    if (hint)
        plain(w, "hint", hint);
    jw_key(w, "element");
    jw_obj_begin(w);
    jw_kv_str(w, "type", element);
    jw_kv_str(w, "action_id", "value");
}

static void input_end(struct jw *w)
{
    jw_obj_end(w);
    jw_obj_end(w);
}

void incident_modal_view(struct jw *w, const struct incident_modal_prefill *p)
{
    static const char *const temps[][2] = {
        {"Warm: users affected, being handled", "warm"},
        {"Hot: already bad, an emergency", "hot"},
        {"Cold: no user impact yet, or contained", "cold"},
    };
    jw_obj_begin(w);
    jw_kv_str(w, "type", "modal");
    jw_kv_str(w, "callback_id", INCIDENT_MODAL_CALLBACK);
    char meta[24] = "";
    if (p->issue > 0)
        snprintf(meta, sizeof meta, "%" PRId64, p->issue);
    jw_kv_str(w, "private_metadata", meta);
    plain(w, "title", p->drill ? "Declare a drill" : "Declare an incident");
    plain(w, "submit", "Declare");
    plain(w, "close", "Cancel");
    jw_key(w, "blocks");
    jw_arr_begin(w);

    input_begin(w, "service", "Service", false, "The affected service, e.g. payments",
                "plain_text_input");
    jw_kv_int(w, "max_length", INCIDENT_SERVICE_MAX);
    input_end(w);

    input_begin(w, "what", "What is happening", false,
                "The first line becomes the incident's title", "plain_text_input");
    jw_key(w, "multiline");
    jw_bool(w, true);
    jw_kv_int(w, "max_length", INCIDENT_MODAL_WHAT_MAX);
    if (p->what && *p->what) {
        size_t n = strlen(p->what);
        if (n > INCIDENT_MODAL_WHAT_MAX) { /* Slack refuses more than max_length */
            n = INCIDENT_MODAL_WHAT_MAX;
            while (n > 0 && ((unsigned char)p->what[n] & 0xC0) == 0x80)
                n--; /* not inside a UTF-8 character */
        }
        jw_key(w, "initial_value");
        jw_strn(w, p->what, n);
    }
    input_end(w);

    input_begin(w, "temperature", "Temperature", false, NULL, "static_select");
    jw_key(w, "initial_option");
    option(w, temps[0][0], temps[0][1]);
    jw_key(w, "options");
    jw_arr_begin(w);
    for (size_t i = 0; i < KB_ARRAY_LEN(temps); i++)
        option(w, temps[i][0], temps[i][1]);
    jw_arr_end(w);
    input_end(w);

    input_begin(w, "channel", "Channel name", true,
                "Lowercase letters, digits, - and _; empty: <service>-<YYYYMMDD>i",
                "plain_text_input");
    jw_kv_int(w, "max_length", INCIDENT_CHANNEL_MAX);
    input_end(w);

    static const char drill_text[] = "A drill: a training run, marked DRILL everywhere";
    input_begin(w, "drill", "Drill", true, NULL, "checkboxes");
    if (p->drill) {
        jw_key(w, "initial_options");
        jw_arr_begin(w);
        option(w, drill_text, "drill");
        jw_arr_end(w);
    }
    jw_key(w, "options");
    jw_arr_begin(w);
    option(w, drill_text, "drill");
    jw_arr_end(w);
    input_end(w);

    jw_arr_end(w);
    jw_obj_end(w);
}

kb_err incident_modal_open_body(const char *trigger_id, const struct incident_modal_prefill *p,
                                struct buf *out)
{
    buf_reset(out);
    struct jw w;
    jw_init(&w, out);
    jw_obj_begin(&w);
    jw_kv_str(&w, "trigger_id", trigger_id ? trigger_id : "");
    jw_key(&w, "view");
    incident_modal_view(&w, p);
    jw_obj_end(&w);
    return jw_finish(&w);
}

/* The input of block in values: its "value" action, or its only one. */
static const struct json_value *action_of(const struct json_value *values, const char *block)
{
    const struct json_value *b = json_get(values, block);
    if (!b || b->type != JSON_OBJECT)
        return NULL;
    const struct json_value *a = json_get(b, "value");
    return a ? a : b->u.child;
}

/* The text of a plain_text_input, spaces and newlines at both ends cut. */
static struct kb_str text_of(const struct json_value *values, const char *block)
{
    struct kb_str s = json_str(json_get(action_of(values, block), "value"));
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\n' || s.p[0] == '\t' || s.p[0] == '\r')) {
        s.p++;
        s.n--;
    }
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\n' || s.p[s.n - 1] == '\t' ||
                   s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

/* Characters (not bytes) of UTF-8 text. */
static size_t chars(struct kb_str s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++)
        n += ((unsigned char)s.p[i] & 0xC0) != 0x80;
    return n;
}

static kb_err bad(char block[16], const char *which, struct kb_why *why, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static kb_err bad(char block[16], const char *which, struct kb_why *why, const char *fmt, ...)
{
    snprintf(block, 16, "%s", which);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->msg, sizeof why->msg, fmt, ap);
    va_end(ap);
    return KB_EINVAL;
}

static kb_err read_values(const struct json_value *v, struct incident_modal_form *f,
                          char block[16], struct kb_why *why)
{
    struct kb_str svc = text_of(v, "service");
    if (!svc.n)
        return bad(block, "service", why, "Name the affected service.");
    if (svc.n > INCIDENT_SERVICE_MAX)
        return bad(block, "service", why, "At most %d characters.", INCIDENT_SERVICE_MAX);
    snprintf(f->service, sizeof f->service, "%.*s", (int)svc.n, svc.p);
    char probe[INCIDENT_CHANNEL_MAX + 1];
    struct kb_why w = {{0}};
    if (incident_channel_format(f->service, 0, 1, probe, &w))
        return bad(block, "service", why,
                   "Use letters, digits, spaces, '.', '/', '-' or '_': the service names the "
                   "incident's channel.");

    struct kb_str what = text_of(v, "what");
    if (!what.n)
        return bad(block, "what", why, "Say what is happening.");
    if (what.n > INCIDENT_TEXT_MAX)
        return bad(block, "what", why, "At most %d bytes.", INCIDENT_TEXT_MAX);
    size_t line = 0;
    while (line < what.n && what.p[line] != '\n' && what.p[line] != '\r')
        line++;
    size_t tl = line;
    while (tl > 0 && (what.p[tl - 1] == ' ' || what.p[tl - 1] == '\t'))
        tl--;
    snprintf(f->title, sizeof f->title, "%.*s", (int)tl, what.p);
    if (line < what.n)
        snprintf(f->summary, sizeof f->summary, "%.*s", (int)what.n, what.p);

    struct kb_str ch = text_of(v, "channel");
    if (ch.n) {
        size_t nc = chars(ch);
        if (nc > INCIDENT_CHANNEL_MAX)
            return bad(block, "channel", why, "At most %d characters (this is %zu).",
                       INCIDENT_CHANNEL_MAX, nc);
        snprintf(f->channel, sizeof f->channel, "%.*s", (int)ch.n, ch.p);
        if (incident_channel_check(f->channel, &w))
            return bad(block, "channel", why,
                       "Slack allows only lowercase letters, digits, - and _ in a channel "
                       "name.");
    }

    const struct json_value *t = action_of(v, "temperature");
    struct kb_str tv = json_str(json_get(json_get(t, "selected_option"), "value"));
    f->temperature = INCIDENT_WARM;
    if (tv.n) {
        char tn[16];
        snprintf(tn, sizeof tn, "%.*s", (int)KB_MIN(tv.n, sizeof tn - 1), tv.p);
        if (incident_temp_parse(tn, &f->temperature))
            return bad(block, "temperature", why, "Choose cold, warm or hot.");
    }

    const struct json_value *sel = json_get(action_of(v, "drill"), "selected_options");
    if (sel && sel->type == JSON_ARRAY)
        for (const struct json_value *o = sel->u.child; o; o = o->next)
            if (kb_str_eq(json_str(json_get(o, "value")), "drill"))
                f->drill = true;
    return KB_OK;
}

kb_err incident_modal_read(const char *values, const char *private_metadata,
                           struct incident_modal_form *f, char block[16], struct kb_why *why)
{
    memset(f, 0, sizeof *f);
    block[0] = 0;
    if (private_metadata && *private_metadata) {
        char *end;
        long long id = strtoll(private_metadata, &end, 10);
        if (*end == 0 && id > 0)
            f->issue = id;
    }
    struct arena a = ARENA_INIT(1u << 20);
    struct json_value *v = NULL;
    struct json_limits lim = {IM_VALUES_DEPTH, 256u * 1024};
    kb_err e;
    if (!values || json_parse(values, strlen(values), &lim, &a, &v, NULL) ||
        v->type != JSON_OBJECT)
        e = bad(block, "service", why, "The form came without its values: try again.");
    else
        e = read_values(v, f, block, why);
    arena_release(&a);
    return e;
}

/* {"response_action":"errors","errors":{block:text}} */
static kb_err errors(struct buf *reply, const char *block, const char *text)
{
    buf_reset(reply);
    struct jw w;
    jw_init(&w, reply);
    jw_obj_begin(&w);
    jw_kv_str(&w, "response_action", "errors");
    jw_key(&w, "errors");
    jw_obj_begin(&w);
    jw_kv_str(&w, block, text);
    jw_obj_end(&w);
    jw_obj_end(&w);
    return jw_finish(&w);
}

kb_err incident_modal_submit(struct db *db, const char *values, const char *private_metadata,
                             const char *actor, int64_t now, struct buf *reply, int64_t *id,
                             struct kb_why *why)
{
    *id = 0;
    struct incident_modal_form *f = kb_calloc(1, sizeof *f);
    char block[16];
    struct kb_why w = {{0}};
    kb_err e = incident_modal_read(values, private_metadata, f, block, &w);
    if (e) {
        e = errors(reply, block, w.msg);
        goto out;
    }
    struct incident_new n = {.service = f->service, .title = f->title,
                             .summary = f->summary[0] ? f->summary : NULL,
                             .temperature = f->temperature, .drill = f->drill, .now = now,
                             .actor = actor, .channel_name = f->channel[0] ? f->channel : NULL};
    e = incident_open(db, &n, id, &w);
    if (e == KB_EEXIST && f->channel[0]) {
        char text[160];
        snprintf(text, sizeof text, "#%s is taken: choose another name, or leave it empty.",
                 f->channel);
        e = errors(reply, "channel", text);
        goto out;
    }
    if (e == KB_EINVAL || e == KB_EEXIST) { /* read_values checks all incident_open does */
        e = errors(reply, "service", w.msg);
        goto out;
    }
    if (e) {
        e = kb_fail(why, e, "%s", w.msg);
        goto out;
    }
    if (f->issue > 0) {
        /* Its own transaction: an issue gone since the button was posted
         * leaves the incident declared, unlinked. */
        struct incident_change c;
        incident_change_init(&c);
        c.issues = &f->issue;
        c.nissues = 1;
        c.actor = actor;
        c.now = now;
        if (incident_update(db, *id, &c, NULL, &w) != KB_OK) {
            char q[160];
            log_warn("incident declared without its koban issue", "incident=%" PRId64
                     " issue=%" PRId64 " why=%s", *id, f->issue, kb_logq(q, sizeof q, w.msg));
        }
    }
    buf_reset(reply);
    buf_puts(reply, "{\"response_action\":\"clear\"}");
    e = KB_OK;
out:
    free(f);
    return e;
}
