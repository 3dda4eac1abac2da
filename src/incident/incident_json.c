/* incident_json.c — incidents as JSON (incident_json.h). */
#include "incident/incident_json.h"

#include "incident/incident.h"
#include "lib/timeutil.h"

#include <stdio.h>

static void jw_time(struct jw *w, const char *key, int64_t ms)
{
    jw_key(w, key);
    if (!ms) {
        jw_null(w);
        return;
    }
    char t[32], out[32];
    kb_time_format(ms, t);
    snprintf(out, sizeof out, "%.19sZ", t);
    jw_str(w, out);
}

static void jw_num(struct jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    if (v)
        jw_int(w, v);
    else
        jw_null(w);
}

void incident_write_fields(struct jw *w, const struct db_incident *r)
{
    jw_kv_int(w, "id", r->id);
    jw_kv_str(w, "service", r->service);
    jw_kv_str(w, "title", r->title);
    jw_kv_str(w, "summary", r->summary);
    jw_kv_str(w, "status", incident_status_name(r->status));
    jw_kv_str(w, "temperature", incident_temp_name(r->temperature));
    jw_kv_int(w, "level", r->level);
    jw_key(w, "drill");
    jw_bool(w, r->drill);
    jw_kv_str(w, "handler", r->handler);
    jw_kv_str(w, "scribe", r->scribe);
    jw_kv_str(w, "liaison", r->liaison);
    jw_time(w, "occurred", r->occurred);
    jw_time(w, "detected", r->detected);
    jw_time(w, "declared", r->declared);
    jw_time(w, "first_response", r->first_response);
    jw_time(w, "recovered", r->recovered);
    jw_time(w, "completed", r->completed);
    jw_time(w, "cancelled", r->cancelled);
    jw_time(w, "updated", r->updated);
    jw_kv_str(w, "slack_channel_id", r->slack_channel_id);
    jw_kv_str(w, "slack_channel_name", r->slack_channel_name);
    jw_num(w, "github_issue", r->github_issue);
    jw_num(w, "github_pr", r->github_pr);
    jw_num(w, "parent_id", r->parent_id);
}

static kb_err child(void *ctx, const struct db_incident *r)
{
    struct jw *w = ctx;
    jw_obj_begin(w);
    jw_kv_int(w, "id", r->id);
    jw_kv_str(w, "service", r->service);
    jw_kv_str(w, "title", r->title);
    jw_kv_str(w, "status", incident_status_name(r->status));
    jw_key(w, "drill");
    jw_bool(w, r->drill);
    jw_obj_end(w);
    return KB_OK;
}

static kb_err event(void *ctx, const struct db_incident_event *ev)
{
    struct jw *w = ctx;
    jw_obj_begin(w);
    jw_kv_int(w, "id", ev->id);
    jw_time(w, "at", ev->at);
    jw_kv_str(w, "kind", ev->kind);
    jw_kv_str(w, "field", ev->field);
    jw_kv_str(w, "value", ev->value);
    jw_kv_str(w, "text", ev->text);
    jw_kv_str(w, "actor", ev->actor);
    jw_kv_str(w, "source_ref", ev->source_ref);
    jw_obj_end(w);
    return KB_OK;
}

kb_err incident_write_show(struct jw *w, struct db *db, const struct db_incident *r)
{
    jw_obj_begin(w);
    incident_write_fields(w, r);
    jw_key(w, "tags");
    jw_arr_begin(w);
    for (size_t i = 0; i < r->ntags; i++)
        jw_str(w, r->tags[i]);
    jw_arr_end(w);
    jw_key(w, "issues");
    jw_arr_begin(w);
    for (size_t i = 0; i < r->nissues; i++)
        jw_int(w, r->issues[i]);
    jw_arr_end(w);
    jw_key(w, "children");
    jw_arr_begin(w);
    kb_err e = incident_children(db, r->id, child, w);
    jw_arr_end(w);
    jw_key(w, "timeline");
    jw_arr_begin(w);
    if (!e)
        e = db_incident_events(db, r->id, 0, NULL, 0, event, w);
    jw_arr_end(w);
    jw_obj_end(w);
    return e;
}
