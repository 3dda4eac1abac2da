/*
 * recv_github.c — GitHub Issues: one GitHub issue per koban issue in the
 * configured repo, gathering its whole history as comments.
 *
 * Each event is a plan of actions, done in order, each skipped when it does
 * not apply:
 *
 *   opened        FIND CREATE
 *   repeated      FIND CREATE COMMENT
 *   reminder      FIND CREATE COMMENT
 *   reopened      FIND CREATE REOPEN COMMENT
 *   closed        FIND COMMENT CLOSE
 *   acknowledged, flood_started, flood_ended      FIND COMMENT
 *   test          CHECK (GET /repos/o/r: the token can see the repo)
 *
 *   FIND    GET /search/issues?q="koban:fp=FP" repo:o/r is:issue in:body —
 *           only when the state has no issue number (the mapping was lost,
 *           or a crash came between a create and its state); the answer's
 *           items are checked for the exact marker
 *   CREATE  POST /repos/o/r/issues {title, body + marker, labels
 *           [severity:X, source:Y]} — only when there is still no number
 *   REOPEN  PATCH /repos/o/r/issues/N {state: open, state_reason: reopened}
 *   COMMENT POST /repos/o/r/issues/N/comments {body}
 *   CLOSE   PATCH /repos/o/r/issues/N {state: closed, state_reason: completed}
 *   REOPEN and COMMENT are skipped when this job created the issue (its
 *   body says it all); without a number (closed, acknowledged with no
 *   GitHub issue found) nothing is sent.
 *
 * State: {"number":N, "count":C (the count last reported), and the
 * progress of the job in flight: "job":ID, "done":K (actions before index K
 * are done), "searched":A (FIND found nothing during attempt A), "new":true
 * (this job created the issue), "creating":MS (when a CREATE went out whose
 * answer was not seen: a crash, or no answer)}. The progress makes a
 * retried job resume after its last finished action (no second comment),
 * and a CREATE is always preceded by a FIND in the same attempt, so a job
 * retried after a crash during CREATE finds the issue by its marker instead
 * of opening a second one. GitHub's search index can lag a few seconds
 * behind a create (and GitHub may still be acting on the request of a
 * process that died): while "creating" is younger than GH_SETTLE_MS, a FIND
 * that finds nothing retries the job at the end of that time instead of
 * creating. The worker's step number is not used: the progress is all in
 * the state.
 *
 * Answers: 403/429 → retry after Retry-After, else at x-ratelimit-reset
 * when x-ratelimit-remaining is 0, else (429, or a 403 naming a secondary
 * rate limit) after a minute; other 403, 401, 404, 410, 422 and other 4xx
 * → fail; 408, 5xx and no answer → retry.
 */
#include "notify/recv_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GH_DEFAULT_BASE "https://api.github.com"
#define GH_TITLE_MAX 256  /* characters */
#define GH_BODY_MAX 60000 /* characters (GitHub: 65,536) */
#define GH_LABEL_MAX 50   /* bytes of a label name */
#define GH_MIN_WAIT_MS 60000
#define GH_SETTLE_MS 10000 /* an unanswered create may take this long to be found */

static const struct tmpl_default gh_templates[] = {
    {"github.title.tmpl", "{{issue.title}}"},
    {"github.body.tmpl",
     "**{{issue.title}}**\n"
     "\n"
     "- **Severity:** {{issue.severity}}\n"
     "- **State:** {{issue.state}}\n"
     "- **Source:** {{issue.source}}\n"
     "- **Kind:** {{issue.kind|code}}\n"
     "{{#issue.resource}}\n"
     "- **Resource:** {{issue.resource|code}}\n"
     "{{/issue.resource}}\n"
     "{{#issue.account}}\n"
     "- **Account:** {{issue.account|code}}{{#issue.region}} ({{issue.region}}){{/issue.region}}\n"
     "{{/issue.account}}\n"
     "{{#issue.actor.user}}\n"
     "- **Actor:** {{issue.actor.user|code}}{{#issue.actor.ip}} from "
     "{{issue.actor.ip|code}}{{/issue.actor.ip}}\n"
     "{{/issue.actor.user}}\n"
     "- **Count:** {{issue.count}}\n"
     "- **First seen:** {{issue.first_seen}}\n"
     "- **Last seen:** {{issue.last_seen}}\n"
     "{{#issue.annotations.0}}\n"
     "\n"
     "**Notes**\n"
     "\n"
     "{{/issue.annotations.0}}\n"
     "{{#issue.annotations}}\n"
     "- {{.text}}{{^.text}}{{.}}{{/.text}}{{#.link}} ([link]({{.link|url}})){{/.link}}\n"
     "{{/issue.annotations}}\n"
     "{{#link}}\n"
     "\n"
     "[Issue #{{issue.id}} in koban]({{link|url}})\n"
     "{{/link}}\n"
     "\n"
     "<details><summary>Identity</summary>\n"
     "\n"
     "{{issue.identity|code}}\n"
     "\n"
     "Fingerprint {{issue.fingerprint|code}}\n"
     "</details>\n"},
    {"github.comment.tmpl",
     "{{#is_repeated}}\n"
     "**Repeated:** seen {{issue.count}} times{{#new_occurrences}} "
     "(+{{new_occurrences}} since the last report){{/new_occurrences}}; last seen "
     "{{issue.last_seen}}.\n"
     "{{/is_repeated}}\n"
     "{{#is_reopened}}\n"
     "**Reopened**{{#reason}}: {{reason}}{{/reason}}. Seen {{issue.count}} times; last seen "
     "{{issue.last_seen}}.\n"
     "{{/is_reopened}}\n"
     "{{#is_closed}}\n"
     "**Closed**{{#reason}}: {{reason}}{{/reason}}.\n"
     "{{/is_closed}}\n"
     "{{#is_acknowledged}}\n"
     "**Acknowledged**{{#reason}}: {{reason}}{{/reason}}.\n"
     "{{/is_acknowledged}}\n"
     "{{#is_reminder}}\n"
     "**Reminder:** still {{issue.state}}; seen {{issue.count}} times, last seen "
     "{{issue.last_seen}}.\n"
     "{{/is_reminder}}\n"
     "{{#is_flood_started}}\n"
     "**Flooding:** further copies are counted but not notified.\n"
     "{{/is_flood_started}}\n"
     "{{#is_flood_ended}}\n"
     "**Flood over**{{#held_back}}: {{held_back}} copies were not notified{{/held_back}}.\n"
     "{{/is_flood_ended}}\n"},
};

enum gh_action { A_FIND, A_CREATE, A_REOPEN, A_COMMENT, A_CLOSE, A_CHECK };

struct gh_plan {
    const char *event;
    uint8_t n;
    uint8_t acts[4];
};

static const struct gh_plan gh_plans[] = {
    {"opened", 2, {A_FIND, A_CREATE}},
    {"repeated", 3, {A_FIND, A_CREATE, A_COMMENT}},
    {"reminder", 3, {A_FIND, A_CREATE, A_COMMENT}},
    {"reopened", 4, {A_FIND, A_CREATE, A_REOPEN, A_COMMENT}},
    {"closed", 3, {A_FIND, A_COMMENT, A_CLOSE}},
    {"acknowledged", 2, {A_FIND, A_COMMENT}},
    {"flood_started", 2, {A_FIND, A_COMMENT}},
    {"flood_ended", 2, {A_FIND, A_COMMENT}},
    {"test", 1, {A_CHECK}},
};

struct gh {
    struct tmpl_set *tmpls;
};

/* What the receiver remembers for an issue (see the top of the file). */
struct gh_state {
    int64_t number;   /* 0: no GitHub issue known */
    int64_t count;    /* -1: never reported */
    int64_t done;     /* progress of this job */
    int64_t searched; /* attempt of this job whose FIND found nothing; 0 none */
    bool created;     /* this job created the issue */
    int64_t creating; /* ms: a CREATE was sent and its answer not seen; 0 none */
};

static kb_err gh_init(const struct recv_config *c, void **data, struct kb_why *why)
{
    *data = NULL;
    kb_err e = recv_github_check(c, why);
    if (e)
        return e;
    struct gh *g = kb_calloc(1, sizeof *g);
    e = tmpl_set_load(gh_templates, KB_ARRAY_LEN(gh_templates), c->templates_dir, &g->tmpls, why);
    if (e) {
        free(g);
        return e;
    }
    *data = g;
    return KB_OK;
}

static void gh_fini(void *data)
{
    struct gh *g = data;
    tmpl_set_free(g->tmpls);
    free(g);
}

static const struct gh_plan *gh_plan(const struct recv_job *job)
{
    struct kb_str ev = recv_event(job);
    for (size_t i = 0; i < KB_ARRAY_LEN(gh_plans); i++)
        if (kb_str_eq(ev, gh_plans[i].event))
            return &gh_plans[i];
    return NULL;
}

static void gh_state_read(const struct recv_job *job, struct gh_state *s)
{
    struct arena a = ARENA_INIT(64u << 10);
    const struct json_value *st = recv_state(job, &a);
    s->number = recv_state_int(st, "number", 0);
    s->count = recv_state_int(st, "count", -1);
    bool mine = st && recv_state_int(st, "job", 0) == job->id;
    s->done = mine ? recv_state_int(st, "done", 0) : 0;
    s->searched = mine ? recv_state_int(st, "searched", 0) : 0;
    const struct json_value *nw = json_get(st, "new");
    s->created = mine && nw && nw->type == JSON_TRUE;
    s->creating = mine ? recv_state_int(st, "creating", 0) : 0;
    arena_release(&a);
}

static char *gh_state_write(const struct recv_job *job, const struct gh_state *s)
{
    struct buf b = BUF_INIT(RECV_STATE_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    if (s->number > 0)
        jw_kv_int(&w, "number", s->number);
    if (s->count >= 0)
        jw_kv_int(&w, "count", s->count);
    jw_kv_int(&w, "job", job->id);
    jw_kv_int(&w, "done", s->done);
    if (s->searched)
        jw_kv_int(&w, "searched", s->searched);
    if (s->created) {
        jw_key(&w, "new");
        jw_bool(&w, true);
    }
    if (s->creating > 0)
        jw_kv_int(&w, "creating", s->creating);
    jw_obj_end(&w);
    if (jw_finish(&w)) {
        buf_release(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

static bool applies(int act, const struct gh_state *s, const struct recv_job *job)
{
    switch (act) {
    case A_FIND:
        return s->number == 0 && s->searched != job->attempt;
    case A_CREATE:
        return s->number == 0;
    case A_REOPEN:
    case A_COMMENT:
        return s->number > 0 && !s->created;
    case A_CLOSE:
        return s->number > 0;
    case A_CHECK:
        return true;
    default:
        return false;
    }
}

/* Index in the plan of the next action to do, or -1: the job is done. */
static int gh_next(const struct gh_plan *p, const struct gh_state *s, const struct recv_job *job)
{
    for (int i = (int)s->done; p && i < p->n; i++)
        if (applies(p->acts[i], s, job))
            return i;
    return -1;
}

static struct kb_str gh_fp(const struct recv_job *job)
{
    struct kb_str fp = recv_issue_str(job, "fingerprint");
    if (fp.n == 0 || fp.n > 64)
        return KB_STR_NULL;
    for (size_t i = 0; i < fp.n; i++)
        if (!((fp.p[i] >= '0' && fp.p[i] <= '9') || (fp.p[i] >= 'a' && fp.p[i] <= 'f')))
            return KB_STR_NULL;
    return fp;
}

struct gh_more {
    const struct gh_state *st;
    int64_t count;
};

/* Template extras: what changed since the last report. */
static void gh_extras(struct jw *w, void *arg)
{
    const struct gh_more *m = arg;
    if (m->st->count < 0)
        return;
    jw_kv_int(w, "previous_count", m->st->count);
    if (m->count > m->st->count)
        jw_kv_int(w, "new_occurrences", m->count - m->st->count);
}

static void label(struct jw *w, const char *prefix, struct kb_str v)
{
    if (kb_str_empty(v))
        return;
    char l[GH_LABEL_MAX + 1];
    int n = snprintf(l, sizeof l, "%s%.*s", prefix, (int)KB_MIN(v.n, GH_LABEL_MAX), v.p);
    size_t len = n < 0 ? 0 : KB_MIN((size_t)n, GH_LABEL_MAX);
    while (len > 0 && ((unsigned char)l[len - 1] & 0xC0) == 0x80) /* no cut character */
        len--;
    if (len > 0 && (unsigned char)l[len - 1] >= 0xC0)
        len--;
    jw_strn(w, l, len);
}

static kb_err gh_body(const struct receiver *r, const struct recv_job *job, int act,
                      const struct gh_state *st, struct jw *w, struct kb_why *why)
{
    const struct gh *g = receiver_data(r);
    int64_t count = 0;
    json_as_int(json_get(recv_issue(job), "count"), &count);
    struct gh_more more = {st, count};
    struct recv_tctx tc;
    kb_err e = recv_tctx_init(&tc, r, job, gh_extras, &more);
    if (e)
        return kb_fail(why, e, "github: payload: %s", kb_strerror(e));
    struct buf t = BUF_INIT(4 * GH_BODY_MAX + 256);
    jw_obj_begin(w);
    if (act == A_CREATE) {
        if ((e = recv_render(g->tmpls, "github.title.tmpl", &tc, TMPL_PLAIN, GH_TITLE_MAX, &t,
                             why)))
            goto out;
        for (size_t i = 0; i < t.len; i++) /* a title is one line */
            if (t.p[i] == '\n' || t.p[i] == '\t')
                t.p[i] = ' ';
        jw_key(w, "title");
        jw_strn(w, t.p, t.len);
        if ((e = recv_render(g->tmpls, "github.body.tmpl", &tc, TMPL_GITHUB, GH_BODY_MAX, &t, why)))
            goto out;
        struct kb_str fp = gh_fp(job);
        if ((e = buf_printf(&t, "\n\n<!-- koban:fp=%.*s -->\n", (int)fp.n, fp.p)))
            goto out;
        jw_key(w, "body");
        jw_strn(w, t.p, t.len);
        jw_key(w, "labels");
        jw_arr_begin(w);
        label(w, "severity:", recv_issue_str(job, "severity"));
        label(w, "source:", recv_issue_str(job, "source"));
        jw_arr_end(w);
    } else if (act == A_COMMENT) {
        if ((e = recv_render(g->tmpls, "github.comment.tmpl", &tc, TMPL_GITHUB, GH_BODY_MAX, &t,
                             why)))
            goto out;
        size_t a = 0;
        while (a < t.len && (t.p[a] == '\n' || t.p[a] == ' '))
            a++;
        jw_key(w, "body");
        if (a == t.len) /* a user template said nothing for this event */
            jw_str(w, "(no details)");
        else
            jw_strn(w, t.p + a, t.len - a);
    } else if (act == A_REOPEN) {
        jw_kv_str(w, "state", "open");
        jw_kv_str(w, "state_reason", "reopened");
    } else if (act == A_CLOSE) {
        jw_kv_str(w, "state", "closed");
        jw_kv_str(w, "state_reason", "completed");
    }
    jw_obj_end(w);
out:
    buf_release(&t);
    recv_tctx_release(&tc);
    return e;
}

static kb_err gh_build(const struct receiver *r, const struct recv_job *job, int step,
                       struct recv_request *req, struct kb_why *why)
{
    const struct recv_config *c = receiver_config(r);
    const struct gh_plan *plan = gh_plan(job);
    struct gh_state st;
    gh_state_read(job, &st);
    /* Not bounded by step: each retried CREATE adds one to the worker's
     * step (FIND runs again first), so a bound would end a job without its
     * issue after a few failed creates. The progress is in the state; the
     * worker bounds the requests of one attempt. */
    (void)step;
    int i = gh_next(plan, &st, job);
    if (i < 0)
        return KB_ENOTFOUND;
    int act = plan->acts[i];
    struct kb_str fp = gh_fp(job);
    if (act != A_CHECK && !fp.p)
        return kb_fail(why, KB_EINVAL, "github: payload has no issue.fingerprint (hex)");
    kb_err e = KB_OK;
    switch (act) {
    case A_FIND: {
        struct buf q = BUF_INIT(1024);
        char raw[512];
        snprintf(raw, sizeof raw, "\"koban:fp=%.*s\" repo:%s is:issue in:body", (int)fp.n, fp.p,
                 c->repo);
        e = buf_url_escape(&q, raw, strlen(raw));
        if (!e)
            e = recv_req_start(req, "GET", c->base_url, GH_DEFAULT_BASE,
                               "/search/issues?q=%s&per_page=20", q.p);
        buf_release(&q);
        break;
    }
    case A_CHECK:
        e = recv_req_start(req, "GET", c->base_url, GH_DEFAULT_BASE, "/repos/%s", c->repo);
        break;
    case A_CREATE:
        e = recv_req_start(req, "POST", c->base_url, GH_DEFAULT_BASE, "/repos/%s/issues", c->repo);
        break;
    case A_COMMENT:
        e = recv_req_start(req, "POST", c->base_url, GH_DEFAULT_BASE,
                           "/repos/%s/issues/%lld/comments", c->repo, (long long)st.number);
        break;
    default:
        e = recv_req_start(req, "PATCH", c->base_url, GH_DEFAULT_BASE, "/repos/%s/issues/%lld",
                           c->repo, (long long)st.number);
        break;
    }
    if (e)
        return kb_fail(why, e, "github: URL too long");
    bool body = act != A_FIND && act != A_CHECK;
    if (body) {
        struct jw w;
        jw_init(&w, &req->body);
        if ((e = gh_body(r, job, act, &st, &w, why)))
            return e;
        if ((e = jw_finish(&w)))
            return kb_fail(why, e, "github: body larger than %zu bytes", req->body.max);
    }
    if ((e = recv_github_headers(req, c->token, body)))
        return kb_fail(why, e, "github: too many headers");
    return KB_OK;
}

/* 403 and 429: GitHub's rate limits. True when handled (a retry). */
static bool gh_limited(const struct recv_response *resp, struct recv_result *out, const char *what)
{
    if (resp->status != 403 && resp->status != 429)
        return false;
    if (resp->retry_after_ms >= 0) {
        recv_set(out, RECV_RETRY, resp->retry_after_ms, "%s: rate limited (Retry-After)", what);
        return true;
    }
    if (resp->ratelimit_remaining == 0 && resp->ratelimit_reset_ms >= 0) {
        int64_t wait = resp->ratelimit_reset_ms - kb_now_ms();
        recv_set(out, RECV_RETRY, KB_MAX(wait, (int64_t)1000),
                 "%s: rate limit used up until x-ratelimit-reset", what);
        return true;
    }
    bool secondary = resp->body.p && memmem(resp->body.p, resp->body.n, "rate limit", 10);
    if (resp->status == 429 || secondary) {
        recv_set(out, RECV_RETRY, GH_MIN_WAIT_MS, "%s: rate limited", what);
        return true;
    }
    return false; /* a plain 403: permissions */
}

/* The number of the issue carrying the marker in a search answer: the
 * lowest (the first one opened), or 0. -1: the answer is unreadable. */
static int64_t gh_found(const struct recv_response *resp, struct kb_str fp)
{
    struct arena a = ARENA_INIT(16u << 20);
    struct json_value *v = NULL;
    int64_t best = -1;
    if (json_parse(resp->body.p ? resp->body.p : "", resp->body.n, NULL, &a, &v, NULL) ||
        !json_get(v, "items") || json_get(v, "items")->type != JSON_ARRAY)
        goto out;
    char marker[96];
    int ml = snprintf(marker, sizeof marker, "<!-- koban:fp=%.*s -->", (int)fp.n, fp.p);
    best = 0;
    size_t k = 0;
    for (const struct json_value *it = json_get(v, "items")->u.child; it && k < 100;
         it = it->next, k++) {
        struct kb_str body = json_str(json_get(it, "body"));
        int64_t num = 0;
        if (json_get(it, "pull_request") || !json_as_int(json_get(it, "number"), &num) ||
            num <= 0 || !body.p || !memmem(body.p, body.n, marker, (size_t)ml))
            continue;
        if (best == 0 || num < best)
            best = num;
    }
out:
    arena_release(&a);
    return best;
}

static void gh_result(const struct receiver *r, const struct recv_job *job, int step,
                      const struct recv_response *resp, struct recv_result *out)
{
    static const char *const names[] = {"search issues", "create issue", "reopen issue",
                                        "comment",       "close issue",  "check repo"};
    recv_result_start(out);
    const struct gh_plan *plan = gh_plan(job);
    struct gh_state st;
    gh_state_read(job, &st);
    int i = gh_next(plan, &st, job);
    if (i < 0) {
        recv_set(out, RECV_DONE, -1, "github: nothing to send");
        return;
    }
    int act = plan->acts[i];
    const char *what = names[act];
    if (gh_limited(resp, out, what) || !recv_http_common(resp, out, what)) {
        if (act == A_CREATE && resp->status != 0 && st.creating) {
            st.creating = 0; /* answered: nothing was created to wait for */
            out->state = gh_state_write(job, &st);
        }
        return;
    }
    if (act == A_CHECK) {
        recv_set(out, RECV_DONE, -1, "github: %s: ok", what);
        return;
    }
    int64_t count = -1;
    json_as_int(json_get(recv_issue(job), "count"), &count);
    st.done = i + 1;
    if (act == A_FIND) {
        int64_t n = gh_found(resp, gh_fp(job));
        if (n < 0) {
            recv_set(out, RECV_RETRY, -1, "github: %s: unreadable answer", what);
            return;
        }
        int64_t now = kb_now_ms();
        if (n > 0) {
            st.number = n;
            st.creating = 0;
        } else if (st.creating > 0 && now - st.creating < GH_SETTLE_MS) {
            /* An earlier attempt's create may not show yet: look again
             * when it would have; the state stays as it is. */
            recv_set(out, RECV_RETRY, KB_MIN(st.creating + GH_SETTLE_MS - now, GH_SETTLE_MS),
                     "github: %s: an earlier create may not show yet", what);
            return;
        } else {
            st.done = i; /* a retry searches again before it creates */
            st.searched = job->attempt;
            st.creating = now; /* the CREATE goes out next */
        }
    } else if (act == A_CREATE) {
        struct arena a = ARENA_INIT(4u << 20);
        struct json_value *v = NULL;
        int64_t n = 0;
        if (json_parse(resp->body.p ? resp->body.p : "", resp->body.n, NULL, &a, &v, NULL) ||
            !json_as_int(json_get(v, "number"), &n) || n <= 0)
            n = 0;
        arena_release(&a);
        if (!n) { /* the retry searches first: no second issue */
            recv_set(out, RECV_RETRY, -1, "github: %s: HTTP %ld without a number", what,
                     resp->status);
            return;
        }
        st.number = n;
        st.created = true;
        st.creating = 0;
        st.count = count;
    } else if (act == A_COMMENT) {
        st.count = count;
    }
    out->state = gh_state_write(job, &st);
    bool more = gh_next(plan, &st, job) >= 0;
    if (st.number > 0)
        recv_set(out, more ? RECV_NEXT : RECV_DONE, -1, "github: %s: #%lld", what,
                 (long long)st.number);
    else
        recv_set(out, more ? RECV_NEXT : RECV_DONE, -1, "github: %s: no issue", what);
}

const struct recv_ops recv_github_ops = {
    .type = "github",
    .init = gh_init,
    .fini = gh_fini,
    .build = gh_build,
    .result = gh_result,
};
