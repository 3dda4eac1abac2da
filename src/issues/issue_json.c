/* issue_json.c — the JSON shape of an issue (API and `koban issues --json`). */
#include "issues/issue.h"

#include "lib/timeutil.h"

static kb_err history_json(void *ctx, const struct db_history *h)
{
    struct jw *w = ctx;
    char t[32];
    kb_time_format(h->at, t);
    jw_obj_begin(w);
    jw_kv_str(w, "at", t);
    jw_kv_str(w, "from", h->from < 0 ? NULL : issue_state_name(h->from));
    jw_kv_str(w, "to", issue_state_name(h->to));
    jw_kv_str(w, "by", h->actor);
    jw_kv_str(w, "reason", h->reason);
    jw_kv_int(w, "seq", (int64_t)h->seq);
    jw_obj_end(w);
    return KB_OK;
}

/* Writes key: text when text is valid JSON, else key: fallback (a column
 * edited by hand must not break the API's output). */
static void raw_or(struct jw *w, const char *key, const char *text, const char *fallback)
{
    jw_key(w, key);
    if (text) {
        struct arena a = ARENA_INIT(1u << 20);
        struct json_value *v;
        bool ok = json_parse(text, strlen(text), NULL, &a, &v, NULL) == KB_OK;
        arena_release(&a);
        if (ok) {
            jw_raw(w, text, strlen(text));
            return;
        }
    }
    jw_raw(w, fallback, strlen(fallback));
}

void issue_write_json(struct jw *w, const struct db_issue *r, struct db *db)
{
    char fp[33], t1[32], t2[32], t3[32];
    issue_fp_hex(r->fp, fp);
    kb_time_format(r->first_seen, t1);
    kb_time_format(r->last_seen, t2);
    kb_time_format(r->state_changed, t3);
    jw_obj_begin(w);
    jw_kv_int(w, "id", r->id);
    jw_kv_str(w, "fingerprint", fp);
    jw_kv_str(w, "identity", r->identity);
    jw_kv_str(w, "source", r->source);
    jw_kv_str(w, "kind", r->kind);
    jw_kv_str(w, "title", r->title);
    jw_kv_str(w, "severity", kb_severity_name(r->severity));
    jw_kv_str(w, "native_severity", r->native_severity);
    jw_kv_str(w, "state", issue_state_name(r->state));
    jw_kv_str(w, "state_changed", t3);
    jw_kv_int(w, "count", r->count);
    jw_kv_str(w, "first_seen", t1);
    jw_kv_str(w, "last_seen", t2);
    jw_kv_str(w, "account", r->account);
    jw_kv_str(w, "region", r->region);
    jw_kv_str(w, "resource", r->resource);
    jw_key(w, "actor");
    jw_obj_begin(w);
    jw_kv_str(w, "user", r->actor_user);
    jw_kv_str(w, "ip", r->actor_ip);
    jw_obj_end(w);
    jw_kv_str(w, "host", r->host);
    jw_kv_int(w, "reopened", r->reopened);
    jw_kv_int(w, "first_seq", (int64_t)r->first_seq);
    jw_kv_int(w, "last_seq", (int64_t)r->last_seq);
    /* Triage (rules and policies of the newest occurrence that went through
     * them): koban wrote these columns as JSON, so they are copied as is. */
    raw_or(w, "rules", r->rules, "[]");
    raw_or(w, "policies", r->policies, "[]");
    raw_or(w, "labels", r->labels, "{}");
    raw_or(w, "annotations", r->annotations, "[]");
    jw_key(w, "muted");
    if (r->mute_reason) {
        jw_obj_begin(w);
        jw_kv_str(w, "reason", r->mute_reason);
        if (r->mute_until) {
            char tu[32];
            kb_time_format(r->mute_until, tu);
            jw_kv_str(w, "until", tu);
        } else {
            jw_kv_str(w, "until", NULL);
        }
        jw_obj_end(w);
    } else {
        jw_null(w);
    }
    if (db) {
        jw_key(w, "history");
        jw_arr_begin(w);
        db_issue_history(db, r->id, history_json, w);
        jw_arr_end(w);
    }
    jw_obj_end(w);
}
