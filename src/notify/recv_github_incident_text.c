/* recv_github_incident_text.c — the request bodies of the github_incident
 * receiver (recv_github_incident.h): the incident's issue (title, facts,
 * marker, labels), comments, the branch, the draft's commit and the pull
 * request. User text is escaped for GitHub markdown. */
#include "notify/recv_github_incident.h"

#include <stdio.h>
#include <string.h>

static void esc(struct buf *t, struct kb_str s, size_t max)
{
    if (s.p)
        tmpl_escape_text(TMPL_GITHUB, s.p, s.n, max, t);
}

static void title(struct buf *t, const struct recv_job *job, const char *prefix)
{
    if (gi_is_true(gi_pl(job, "incident.drill")))
        buf_puts(t, "[DRILL] ");
    struct kb_str ti = json_str(gi_pl(job, "incident.title"));
    buf_printf(t, "%sIncident #%lld: ", prefix, (long long)gi_incident_id(job));
    tmpl_escape_text(TMPL_PLAIN, ti.p ? ti.p : "", ti.n, GI_TITLE_MAX - 40, t);
}

static void fact(struct buf *t, const struct recv_job *job, const char *label, const char *key,
                 const char *none)
{
    const struct json_value *v = gi_pl(job, key);
    struct kb_str s = json_str(v);
    int64_t n;
    if (!s.n && json_as_int(v, &n)) {
        buf_printf(t, "- **%s:** %lld\n", label, (long long)n);
        return;
    }
    if (!s.n && !none)
        return;
    buf_printf(t, "- **%s:** ", label);
    if (s.n)
        esc(t, s, 300);
    else
        buf_puts(t, none);
    buf_puts(t, "\n");
}

static void issue_body(struct buf *t, const struct recv_job *job)
{
    int64_t id = gi_incident_id(job);
    if (gi_is_true(gi_pl(job, "incident.drill")))
        buf_puts(t, "**DRILL**: a training run, not a real incident.\n\n");
    buf_printf(t, "**Incident #%lld: ", (long long)id);
    esc(t, json_str(gi_pl(job, "incident.title")), 300);
    buf_puts(t, "**\n\n");
    fact(t, job, "Service", "incident.service", "?");
    fact(t, job, "Status", "incident.status", "?");
    fact(t, job, "Level", "incident.level", "?");
    fact(t, job, "Temperature", "incident.temperature", NULL);
    fact(t, job, "Handler", "incident.handler", "unassigned");
    fact(t, job, "Detected", "incident.detected", NULL);
    fact(t, job, "Declared", "incident.declared", NULL);
    fact(t, job, "Slack channel", "incident.channel", NULL);
    struct kb_str sum = json_str(gi_pl(job, "incident.summary"));
    if (sum.n) {
        buf_puts(t, "\n");
        esc(t, sum, 4000);
        buf_puts(t, "\n");
    }
    buf_printf(t, "\n<!-- koban-incident:%lld -->\n", (long long)id);
}

static void label(struct jw *w, const char *prefix, struct kb_str v)
{
    if (kb_str_empty(v))
        return;
    char l[GI_LABEL_MAX + 1];
    int n = snprintf(l, sizeof l, "%s%.*s", prefix, (int)KB_MIN(v.n, GI_LABEL_MAX), v.p);
    size_t len = n < 0 ? 0 : KB_MIN((size_t)n, GI_LABEL_MAX);
    while (len > 0 && ((unsigned char)l[len - 1] & 0xC0) == 0x80) /* no cut character */
        len--;
    if (len > 0 && (unsigned char)l[len - 1] >= 0xC0)
        len--;
    jw_strn(w, l, len);
}

static void issue_fields(struct jw *w, struct buf *t, const struct recv_job *job)
{
    buf_reset(t);
    title(t, job, "");
    jw_key(w, "title");
    jw_strn(w, t->p, t->len);
    buf_reset(t);
    issue_body(t, job);
    jw_key(w, "body");
    jw_strn(w, t->p, t->len);
    jw_key(w, "labels");
    jw_arr_begin(w);
    jw_str(w, "incident");
    label(w, "service:", json_str(gi_pl(job, "incident.service")));
    int64_t lv = 0;
    char l[24];
    snprintf(l, sizeof l, "%lld", json_as_int(gi_pl(job, "incident.level"), &lv) ? (long long)lv : 0);
    label(w, "level:", kb_str_c(l));
    jw_arr_end(w);
}

static void base64(struct buf *out, const unsigned char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        q[0] = tab[(v >> 18) & 63];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        buf_append(out, q, 4);
    }
}

kb_err recv_gi_body(const struct recv_job *job, enum gi_act act, const struct gi_state *s,
                    struct jw *w, struct kb_why *why)
{
    struct buf t = BUF_INIT(4 * GI_TEXT_MAX + 1024);
    kb_err e = KB_OK;
    jw_obj_begin(w);
    switch (act) {
    case A_CREATE:
        issue_fields(w, &t, job);
        break;
    case A_UPDATE:
        issue_fields(w, &t, job);
        if (kb_str_eq(json_str(gi_pl(job, "incident.status")), "cancelled")) {
            jw_kv_str(w, "state", "closed");
            jw_kv_str(w, "state_reason", "not_planned");
        }
        break;
    case A_COMMENT: {
        struct kb_str tx = json_str(gi_pl(job, "text"));
        jw_key(w, "body");
        jw_strn(w, tx.p, KB_MIN(tx.n, (size_t)4 * GI_TEXT_MAX));
        break;
    }
    case A_BRANCH:
        buf_printf(&t, "refs/heads/koban/postmortem-%lld", (long long)gi_incident_id(job));
        jw_kv_str(w, "ref", t.p);
        jw_kv_str(w, "sha", s->sha);
        break;
    case A_PUT: {
        struct kb_str md = json_str(gi_pl(job, "markdown"));
        if (md.n > GI_MARKDOWN_MAX) {
            e = kb_fail(why, KB_ETOOBIG, "github_incident: draft larger than %u bytes",
                        GI_MARKDOWN_MAX);
            break;
        }
        struct buf b64 = BUF_INIT(GI_MARKDOWN_MAX / 3 * 4 + 16);
        base64(&b64, (const unsigned char *)(md.p ? md.p : ""), md.n);
        buf_printf(&t, "Postmortem draft for incident #%lld", (long long)gi_incident_id(job));
        jw_kv_str(w, "message", t.p);
        jw_key(w, "content");
        jw_strn(w, b64.p ? b64.p : "", b64.len);
        jw_kv_str(w, "branch", s->branch);
        if (s->fsha[0])
            jw_kv_str(w, "sha", s->fsha);
        buf_release(&b64);
        break;
    }
    case A_PR:
        title(&t, job, "Postmortem: ");
        jw_kv_str(w, "title", t.p);
        jw_kv_str(w, "head", s->branch);
        jw_kv_str(w, "base", s->base);
        buf_reset(&t);
        if (s->number > 0)
            buf_printf(&t, "Closes #%lld\n\n", (long long)s->number);
        buf_printf(&t, "The postmortem draft of incident #%lld (", (long long)gi_incident_id(job));
        esc(&t, json_str(gi_pl(job, "incident.service")), 64);
        buf_puts(&t, "): ");
        esc(&t, json_str(gi_pl(job, "incident.title")), 300);
        buf_puts(&t, ".\n");
        struct kb_str sum = json_str(gi_pl(job, "incident.summary"));
        if (sum.n) {
            buf_puts(&t, "\n");
            esc(&t, sum, 4000);
            buf_puts(&t, "\n");
        }
        buf_printf(&t, "\nFill in the sections marked _To be written_ in `%.*s`, then merge.\n",
                   (int)json_str(gi_pl(job, "path")).n, json_str(gi_pl(job, "path")).p);
        jw_key(w, "body");
        jw_strn(w, t.p, t.len);
        break;
    default:
        break;
    }
    jw_obj_end(w);
    buf_release(&t);
    return e;
}

