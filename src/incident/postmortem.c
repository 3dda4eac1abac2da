/* postmortem.c — the markdown postmortem draft (postmortem.h). */
#include "incident/postmortem.h"

#include "incident/incident.h"
#include "lib/timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define POSTMORTEM_SLACK (64 * 1024)

kb_err postmortem_escape(struct buf *out, const char *s, bool inline_only)
{
    kb_err e = KB_OK;
    for (const char *p = s ? s : ""; !e && *p; p++) {
        char c = *p;
        if (c == '\n' || c == '\r' || c == '\t') {
            if (inline_only || c != '\n')
                e = buf_putc(out, ' ');
            else
                e = buf_putc(out, '\n');
            continue;
        }
        /* The characters that start emphasis, code, links, HTML, headings,
         * strikethrough or break a table cell ('>' only quotes at the
         * start of a line, harmless in a draft, and "->" reads better). */
        if (strchr("\\`*_[]<|#~", c) && (e = buf_putc(out, '\\')))
            break;
        e = buf_putc(out, c);
    }
    return e;
}

/* "2021-02-24T01:02:03Z" (whole seconds, UTC), or a placeholder for 0. */
static void fmt_time(int64_t ms, char out[32])
{
    if (!ms) {
        snprintf(out, 32, "_unknown_");
        return;
    }
    char t[32];
    kb_time_format(ms, t);
    snprintf(out, 32, "%.19sZ", t);
}

static void fmt_duration(int64_t ms, char out[48])
{
    int64_t m = ms / 60000;
    if (m < 60)
        snprintf(out, 48, "%" PRId64 "m", m);
    else if (m < 48 * 60)
        snprintf(out, 48, "%" PRId64 "h %" PRId64 "m", m / 60, m % 60);
    else
        snprintf(out, 48, "%" PRId64 "d %" PRId64 "h", m / 1440, m % 1440 / 60);
}

/* One row of the metadata table; value NULL or "" prints placeholder. */
static void row(struct buf *b, const char *key, const char *value, const char *placeholder)
{
    buf_printf(b, "| %s | ", key);
    if (value && *value)
        postmortem_escape(b, value, true);
    else
        buf_puts(b, placeholder);
    buf_puts(b, " |\n");
}

static void row_raw(struct buf *b, const char *key, const char *value)
{
    buf_printf(b, "| %s | %s |\n", key, value);
}

static void section(struct buf *b, const char *title, const char *hint)
{
    buf_printf(b, "\n## %s\n\n_To be written: %s_\n", title, hint);
}

static void metadata(struct buf *b, const struct db_incident *inc)
{
    char t[32], v[64];
    buf_puts(b, "| | |\n|---|---|\n");
    snprintf(v, sizeof v, "%" PRId64, inc->id);
    row_raw(b, "Incident", v);
    row(b, "Service", inc->service, "");
    row_raw(b, "Status", incident_status_name(inc->status));
    row_raw(b, "Temperature", incident_temp_name(inc->temperature));
    snprintf(v, sizeof v, "%d", inc->level);
    row_raw(b, "Level", v);
    row(b, "Handler", inc->handler, "_to be filled_");
    row(b, "Scribe", inc->scribe, "_none_");
    row(b, "Liaison", inc->liaison, "_none_");
    const struct {
        const char *k;
        int64_t ms;
    } times[] = {{"Occurred", inc->occurred},   {"Detected", inc->detected},
                 {"Declared", inc->declared},   {"First response", inc->first_response},
                 {"Recovered", inc->recovered}, {"Completed", inc->completed}};
    for (size_t i = 0; i < KB_ARRAY_LEN(times); i++) {
        fmt_time(times[i].ms, t);
        row_raw(b, times[i].k, t);
    }
    if (inc->cancelled) {
        fmt_time(inc->cancelled, t);
        row_raw(b, "Cancelled", t);
    }
    int64_t from = inc->detected ? inc->detected : inc->declared;
    if (inc->recovered && inc->recovered >= from) {
        fmt_duration(inc->recovered - from, v);
        row_raw(b, "Time to recovery", v);
    } else {
        row_raw(b, "Time to recovery", "_unknown_");
    }
    buf_puts(b, "| Tags | ");
    for (size_t i = 0; i < inc->ntags; i++) {
        buf_puts(b, i ? ", " : "");
        postmortem_escape(b, inc->tags[i], true);
    }
    buf_puts(b, inc->ntags ? " |\n" : "_none_ |\n");
    buf_puts(b, "| Channel | ");
    if (inc->slack_channel_name) {
        buf_putc(b, '\\');
        buf_putc(b, '#');
        postmortem_escape(b, inc->slack_channel_name, true);
    } else {
        buf_puts(b, "_none_");
    }
    buf_puts(b, " |\n");
    if (inc->github_issue)
        snprintf(v, sizeof v, "\\#%" PRId64, inc->github_issue);
    else
        snprintf(v, sizeof v, "_none yet_");
    row_raw(b, "GitHub issue", v);
    if (inc->parent_id) {
        snprintf(v, sizeof v, "incident %" PRId64, inc->parent_id);
        row_raw(b, "Parent incident", v);
    }
}

/* A chat message reference shown as a link only when it is a plain
 * https URL (a Slack ts is printed as text). */
static void source_ref(struct buf *b, const char *ref)
{
    if (!ref || !*ref)
        return;
    bool url = !strncmp(ref, "https://", 8);
    for (const char *p = ref; url && *p; p++)
        url = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                     ":/._-?=&%+~",
                     *p) != NULL;
    if (url) {
        buf_printf(b, " ([message](%s))", ref);
    } else {
        buf_puts(b, " (message ");
        postmortem_escape(b, ref, true);
        buf_putc(b, ')');
    }
}

static bool in_timeline(const char *kind)
{
    return kind && (!strcmp(kind, "note") || !strcmp(kind, "pin") ||
                    !strcmp(kind, "status") || !strcmp(kind, "declared") ||
                    !strcmp(kind, "level"));
}

static void timeline(struct buf *b, const struct db_incident_event *ev, size_t nev)
{
    buf_puts(b, "\n## Timeline (UTC)\n\n");
    size_t shown = 0;
    for (size_t i = 0; i < nev; i++) {
        if (!in_timeline(ev[i].kind))
            continue;
        char t[32];
        fmt_time(ev[i].at, t);
        buf_printf(b, "- %s %s — ", t, ev[i].kind);
        if (ev[i].actor && *ev[i].actor) {
            buf_puts(b, "**");
            postmortem_escape(b, ev[i].actor, true);
            buf_puts(b, "**: ");
        }
        postmortem_escape(b, ev[i].text, true);
        source_ref(b, ev[i].source_ref);
        buf_putc(b, '\n');
        shown++;
    }
    if (!shown)
        buf_puts(b, "_To be written: what happened when (pin messages in the channel or add "
                    "notes)._\n");
}

kb_err postmortem_render(const struct db_incident *inc, const struct db_incident_event *ev,
                         size_t nev, const struct postmortem_child *children, size_t nchildren,
                         struct buf *out)
{
    struct buf *b = out;
    buf_puts(b, inc->drill ? "# DRILL — Postmortem: " : "# Postmortem: ");
    postmortem_escape(b, inc->title, true);
    buf_puts(b, "\n\n");
    if (inc->drill)
        buf_puts(b, "> **DRILL**: this was a training exercise, not a real incident.\n\n");
    buf_puts(b, "_Draft written by koban from the incident record; edit freely._\n\n");
    metadata(b, inc);
    buf_puts(b, "\n## Summary\n\n");
    if (inc->summary && *inc->summary) {
        postmortem_escape(b, inc->summary, false);
        buf_putc(b, '\n');
    } else {
        buf_puts(b, "_To be written: what happened, in two or three sentences._\n");
    }
    section(b, "Impact",
            "who and what was affected (features, screens, users), for how long, and whether "
            "users were told.");
    timeline(b, ev, nev);
    section(b, "Detection", "how the incident was noticed, and how it could be noticed sooner.");
    section(b, "Trigger", "the change or event that set it off.");
    section(b, "Root causes", "why it could happen (ask why until the answer is a decision).");
    section(b, "Resolution", "what was done to recover, and what completed it.");
    section(b, "What went well", "what helped (tools, people, practice).");
    section(b, "What went badly", "what slowed the response or made it worse.");
    section(b, "Where we got lucky", "what could have gone worse, and why it did not.");
    buf_puts(b, "\n## Action items\n\n| Action | Owner | Issue | Due |\n|---|---|---|---|\n"
                "| _To be written_ | | | |\n");
    buf_puts(b, "\n## Supporting links\n\n");
    if (inc->slack_channel_name) {
        buf_puts(b, "- Slack channel: \\#");
        postmortem_escape(b, inc->slack_channel_name, true);
        if (inc->slack_channel_id) {
            buf_puts(b, " (");
            postmortem_escape(b, inc->slack_channel_id, true);
            buf_putc(b, ')');
        }
        buf_putc(b, '\n');
    }
    if (inc->github_issue)
        buf_printf(b, "- GitHub issue: \\#%" PRId64 "\n", inc->github_issue);
    if (inc->github_pr)
        buf_printf(b, "- Pull request: \\#%" PRId64 "\n", inc->github_pr);
    if (inc->parent_id)
        buf_printf(b, "- Parent incident: %" PRId64 "\n", inc->parent_id);
    for (size_t i = 0; i < nchildren; i++) {
        buf_printf(b, "- Related incident %" PRId64 " (%s): ", children[i].id,
                   incident_status_name(children[i].status));
        postmortem_escape(b, children[i].title, true);
        buf_putc(b, '\n');
    }
    for (size_t i = 0; i < inc->nissues; i++)
        buf_printf(b, "- koban issue %" PRId64 " (`koban issues show %" PRId64 "`)\n",
                   inc->issues[i], inc->issues[i]);
    buf_puts(b, "- _Add dashboards, logs and documents here._\n");
    /* An append past the limit leaves the buffer as it was and later,
     * smaller ones may fit: a draft that came within POSTMORTEM_SLACK of
     * the limit may have lost a piece, so it is refused whole. Each single
     * append is far smaller (user text is bounded by incident.h). */
    return out->len + POSTMORTEM_SLACK <= out->max ? KB_OK : KB_ETOOBIG;
}

/* What postmortem_build reads: copies of the timeline and the children. */
struct pm_load {
    struct db_incident_event *ev;
    size_t nev;
    struct postmortem_child *ch;
    size_t nch;
};

static char *dup_or_null(const char *s)
{
    return s ? kb_strdup(s) : NULL;
}

static kb_err load_event(void *ctx, const struct db_incident_event *e)
{
    struct pm_load *l = ctx;
    if (!in_timeline(e->kind))
        return KB_OK;
    struct db_incident_event *c = &l->ev[l->nev++];
    *c = *e;
    c->kind = dup_or_null(e->kind);
    c->field = NULL;
    c->value = NULL;
    c->text = dup_or_null(e->text);
    c->actor = dup_or_null(e->actor);
    c->source_ref = dup_or_null(e->source_ref);
    return l->nev < POSTMORTEM_EVENTS_MAX ? KB_OK : KB_ETOOBIG;
}

static kb_err load_child(void *ctx, const struct db_incident *r)
{
    struct pm_load *l = ctx;
    if (l->nch >= POSTMORTEM_CHILDREN_MAX)
        return KB_OK;
    l->ch[l->nch++] = (struct postmortem_child){r->id, kb_strdup(r->title), r->status};
    return KB_OK;
}

static int by_time(const void *a, const void *b)
{
    const struct db_incident_event *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

kb_err postmortem_build(struct db *db, int64_t id, struct buf *out, struct kb_why *why)
{
    struct db_incident inc;
    kb_err e = db_incident_get(db, id, &inc);
    if (e == KB_ENOTFOUND)
        return kb_fail(why, e, "incident %" PRId64 ": no such incident", id);
    if (e)
        return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    struct pm_load l = {.ev = kb_calloc(POSTMORTEM_EVENTS_MAX, sizeof *l.ev),
                        .ch = kb_calloc(POSTMORTEM_CHILDREN_MAX, sizeof *l.ch)};
    e = db_incident_events(db, id, 0, NULL, 0, load_event, &l);
    if (e == KB_ETOOBIG)
        e = KB_OK; /* the first POSTMORTEM_EVENTS_MAX entries make the draft */
    if (!e)
        e = incident_children(db, id, load_child, &l);
    if (e) {
        kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    } else {
        qsort(l.ev, l.nev, sizeof *l.ev, by_time);
        if ((e = postmortem_render(&inc, l.ev, l.nev, l.ch, l.nch, out)))
            kb_fail(why, e, "the draft is over %zu bytes", out->max);
    }
    for (size_t i = 0; i < l.nev; i++) {
        free((char *)l.ev[i].kind);
        free((char *)l.ev[i].text);
        free((char *)l.ev[i].actor);
        free((char *)l.ev[i].source_ref);
    }
    for (size_t i = 0; i < l.nch; i++)
        free((char *)l.ch[i].title);
    free(l.ev);
    free(l.ch);
    db_incident_release(&inc);
    return e;
}
