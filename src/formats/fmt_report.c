/*
 * fmt_report.c — a message someone reported to the security team (in
 * Slack, by reacting with the report emoji; src/incident/slack_app.c):
 *   {"report":{"reporter":"U01","reporter_name":"ana","channel":"C09",
 *    "channel_name":"payments","ts":"1700000000.000100",
 *    "permalink":"https://x.slack.com/archives/C09/p1700000000000100",
 *    "author":"U07","text":"the message","via":"slack-reaction",
 *    "time":"2026-12-04T21:00:00Z"}}
 *
 * One issue per reported message (identity: the message's channel and ts),
 * so several people reporting the same message add counts to one issue.
 * Severity medium: a person thought it worth the security team's time;
 * policies may change it. Field map: docs/ALERT_FORMAT.md ("report").
 */
#include "formats/formats_internal.h"

#define RP "report"
#define RP_TITLE_TEXT 80 /* bytes of the message quoted in the title */

static const char *const rp_identity[] = {"channel", "ts", NULL};

static int rp_detect(const struct json_value *root)
{
    const struct json_value *r = fmt_obj(root, "report");
    return r && json_str(fmt_get(r, "reporter")).p && json_str(fmt_get(r, "ts")).p ? 100 : 0;
}

/* At most max bytes of s, cut back to a UTF-8 character boundary. */
static struct kb_str rp_cut(struct kb_str s, size_t max)
{
    if (s.n <= max)
        return s;
    size_t n = max;
    while (n > 0 && ((unsigned char)s.p[n] & 0xC0) == 0x80)
        n--;
    return (struct kb_str){s.p, n};
}

static kb_err rp_normalize(const struct json_value *root, struct kb_str raw, struct arena *ar,
                           alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    const struct json_value *r = fmt_obj(root, "report");
    if (!r)
        return kb_fail(why, KB_EINVAL, RP ": field 'report' missing or not an object");
    struct alert a;
    alert_init(&a, RP, rp_identity);
    a.raw = raw;
    a.json = root;
    struct kb_str reporter, channel, ts;
    kb_err e;
    if ((e = fmt_need_str(r, "reporter", RP, "report.reporter", &reporter, why)) ||
        (e = fmt_need_str(r, "channel", RP, "report.channel", &channel, why)) ||
        (e = fmt_need_str(r, "ts", RP, "report.ts", &ts, why)))
        return e;
    struct kb_str via = fmt_str(r, "via");
    a.kind = kb_str_empty(via) ? KB_STR_LIT("report") : via;
    a.severity = KB_SEV_MEDIUM;
    a.native_severity = KB_STR_NULL;
    a.description = fmt_str(r, "text");
    a.actor_user = fmt_str(r, "author");
    a.resource = fmt_str(r, "permalink");
    fmt_time(fmt_str(r, "time"), &a.time_ms);
    struct kb_str who = fmt_str(r, "reporter_name");
    if (kb_str_empty(who))
        who = reporter;
    struct kb_str where = fmt_str(r, "channel_name");
    if (kb_str_empty(where))
        where = channel;
    struct kb_str quote = rp_cut(a.description, RP_TITLE_TEXT);
    if ((e = FMT_JOIN(ar, &a.title, KB_STR_LIT("Reported by "), who, KB_STR_LIT(" in #"), where,
                      KB_STR_LIT(": "), quote,
                      quote.n < a.description.n ? KB_STR_LIT("…") : KB_STR_LIT(""))))
        return kb_fail(why, e, RP ": arena limit reached");
    alert_add_field(&a, "reporter", reporter);
    alert_add_field(&a, "reporter_name", fmt_str(r, "reporter_name"));
    alert_add_field(&a, "channel", channel);
    alert_add_field(&a, "channel_name", fmt_str(r, "channel_name"));
    alert_add_field(&a, "ts", ts);
    alert_add_field(&a, "permalink", a.resource);
    return emit(ctx, &a);
}

const struct format format_report = {
    .name = RP,
    .summary = "messages reported to security (Slack report reaction)",
    .id = 10,
    .detect = rp_detect,
    .normalize_json = rp_normalize,
    .normalize_text = NULL,
    .identity = rp_identity,
};
