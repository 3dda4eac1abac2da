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
    if (db) {
        jw_key(w, "history");
        jw_arr_begin(w);
        db_issue_history(db, r->id, history_json, w);
        jw_arr_end(w);
    }
    jw_obj_end(w);
}
