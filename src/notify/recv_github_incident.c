/*
 * recv_github_incident.c — the incident bot's GitHub calls (receiver type
 * "github_incident"): one GitHub issue per incident, and the postmortem
 * draft as a pull request that closes it. The incident code
 * (src/incident/incident_bot_github.c) writes one outbox job per action,
 * keyed by the incident id; jobs of one incident are delivered in order.
 *
 * Payload: {"event":"incident","op":OP,"incident":{id, service, title,
 * level, status, drill, temperature, handler, summary, declared, detected,
 * channel},...}
 *   op "issue":      text (what changed; "" when declared)
 *   op "postmortem": markdown (the draft), path (the file in the repo,
 *                    e.g. "postmortems/2026-12-04-incident-7.md")
 *
 * Step machine; each action is skipped when the state says it is done:
 *
 *   issue        FIND CREATE UPDATE COMMENT
 *   postmortem   FIND REPO REF BRANCH [FILE] PUT [PRFIND] PR
 *
 *   FIND    GET /search/issues?q="koban-incident:N" repo:o/r is:issue in:body
 *           — only when the state has no issue number; the items are
 *           checked for the exact marker <!-- koban-incident:N -->
 *   CREATE  POST /repos/o/r/issues {title, body + marker, labels} — only
 *           when there is still no number ("issue" only: a postmortem
 *           without an issue is opened without "Closes")
 *   UPDATE  PATCH /repos/o/r/issues/N {title, body, labels}; cancelled adds
 *           state closed, state_reason not_planned (completed is closed by
 *           the postmortem pull request when it is merged). Skipped when
 *           this job created the issue, unless it closes it.
 *   COMMENT POST /repos/o/r/issues/N/comments {body: text} — not when this
 *           job created the issue or text is empty
 *   REPO    GET /repos/o/r → default_branch ("base")
 *   REF     GET /repos/o/r/git/ref/heads/BASE → object.sha ("sha")
 *   BRANCH  POST /repos/o/r/git/refs {ref: refs/heads/koban/postmortem-N,
 *           sha} — 422 "Reference already exists" is fine ("branch")
 *   FILE    GET /repos/o/r/contents/PATH?ref=BRANCH → sha ("fsha"): only
 *           after a PUT was refused because the file exists (a retry)
 *   PUT     PUT /repos/o/r/contents/PATH {message, content (base64),
 *           branch, sha when known} ("committed")
 *   PRFIND  GET /repos/o/r/pulls?head=O:BRANCH&state=all: only after a PR
 *           was refused with "A pull request already exists" ("prx")
 *   PR      POST /repos/o/r/pulls {title, head, base, body "Closes #N" +
 *           summary} ("pr")
 *
 * State per incident: {"number":N, "pr":P, "branch":B, "base":..., "sha":
 * ..., "fsha":..., "committed":1, "exists":1, "prx":1, and the progress of
 * the job in flight: "job":ID, "done":K (issue actions before K are done),
 * "searched":A (FIND found nothing during attempt A), "new":true (this job
 * created the issue), "creating":MS (a CREATE went out whose answer was
 * not seen)}. Saved after each step, so a job retried after a crash
 * resumes where it stopped; a CREATE is always preceded by a FIND in the
 * same attempt, and while "creating" is younger than GI_SETTLE_MS a FIND
 * that finds nothing retries later instead of creating (GitHub's search
 * lags a create by a few seconds).
 *
 * Answers: 403/429 → retry after Retry-After, else at x-ratelimit-reset
 * when x-ratelimit-remaining is 0, else (429, or a 403 naming a rate limit)
 * after a minute; the 422s above are handled; other 4xx fail; 408, 5xx and
 * no answer retry. The request bodies are in recv_github_incident_text.c.
 */
#include "notify/recv_github_incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const gi_names[] = {
    "",          "search issues", "create issue", "update issue", "comment",
    "get repo",  "get base ref",  "create branch", "get file",    "commit draft",
    "find pull request", "open pull request"};

static const uint8_t gi_issue_plan[] = {A_FIND, A_CREATE, A_UPDATE, A_COMMENT};

static void copy_str(char *dst, size_t n, struct kb_str s)
{
    size_t k = s.p ? KB_MIN(s.n, n - 1) : 0;
    if (k)
        memcpy(dst, s.p, k);
    dst[k] = 0;
}

static void gi_state_read(const struct recv_job *job, struct gi_state *s)
{
    memset(s, 0, sizeof *s);
    struct arena a = ARENA_INIT(64u << 10);
    const struct json_value *st = recv_state(job, &a);
    if (st) {
        s->number = recv_state_int(st, "number", 0);
        s->pr = recv_state_int(st, "pr", 0);
        copy_str(s->branch, sizeof s->branch, json_str(json_get(st, "branch")));
        copy_str(s->base, sizeof s->base, json_str(json_get(st, "base")));
        copy_str(s->sha, sizeof s->sha, json_str(json_get(st, "sha")));
        copy_str(s->fsha, sizeof s->fsha, json_str(json_get(st, "fsha")));
        s->committed = recv_state_int(st, "committed", 0);
        s->exists = recv_state_int(st, "exists", 0);
        s->prx = recv_state_int(st, "prx", 0);
        if (recv_state_int(st, "job", 0) == job->id) {
            s->done = recv_state_int(st, "done", 0);
            s->searched = recv_state_int(st, "searched", 0);
            s->creating = recv_state_int(st, "creating", 0);
            const struct json_value *nw = json_get(st, "new");
            s->created = nw && nw->type == JSON_TRUE;
        }
    }
    arena_release(&a);
}

static char *gi_state_write(const struct recv_job *job, const struct gi_state *s)
{
    struct buf b = BUF_INIT(RECV_STATE_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    if (s->number > 0)
        jw_kv_int(&w, "number", s->number);
    if (s->pr > 0)
        jw_kv_int(&w, "pr", s->pr);
#define GI_KS(k)                                                                                   \
    if (s->k[0])                                                                                   \
        jw_kv_str(&w, #k, s->k);
#define GI_KI(k)                                                                                   \
    if (s->k)                                                                                      \
        jw_kv_int(&w, #k, s->k);
    GI_KS(branch)
    GI_KS(base)
    GI_KS(sha)
    GI_KS(fsha)
    GI_KI(committed)
    GI_KI(exists)
    GI_KI(prx)
    jw_kv_int(&w, "job", job->id);
    jw_kv_int(&w, "done", s->done);
    GI_KI(searched)
    GI_KI(creating)
#undef GI_KS
#undef GI_KI
    if (s->created) {
        jw_key(&w, "new");
        jw_bool(&w, true);
    }
    jw_obj_end(&w);
    if (jw_finish(&w)) {
        buf_release(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

/* A branch name or file path koban may put in a URL unescaped. */
static bool ref_ok(struct kb_str s)
{
    if (!s.n || s.n > GI_REF_MAX || s.p[0] == '/' || s.p[s.n - 1] == '/' ||
        memmem(s.p, s.n, "..", 2) || memmem(s.p, s.n, "//", 2))
        return false;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '/'))
            return false;
    }
    return true;
}

/* ---- which action ---------------------------------------------------------- */

static bool issue_applies(int act, const struct gi_state *s, const struct recv_job *job)
{
    bool cancelled = kb_str_eq(json_str(gi_pl(job, "incident.status")), "cancelled");
    switch (act) {
    case A_FIND:
        return s->number == 0 && s->searched != job->attempt;
    case A_CREATE:
        return s->number == 0;
    case A_UPDATE:
        return s->number > 0 && (!s->created || cancelled);
    case A_COMMENT:
        return s->number > 0 && !s->created && json_str(gi_pl(job, "text")).n > 0;
    default:
        return false;
    }
}

/* The action of this step, and (issue) its index in the plan. */
static enum gi_act gi_next(const struct recv_job *job, const struct gi_state *s, int *index)
{
    *index = -1;
    if (gi_op_is(job, "issue")) {
        for (int i = (int)s->done; i < (int)sizeof gi_issue_plan; i++)
            if (issue_applies(gi_issue_plan[i], s, job)) {
                *index = i;
                return gi_issue_plan[i];
            }
        return A_NONE;
    }
    if (!gi_op_is(job, "postmortem"))
        return A_NONE;
    if (s->number == 0 && s->searched != job->attempt)
        return A_FIND;
    if (!s->branch[0])
        return !s->base[0] ? A_REPO : !s->sha[0] ? A_REF : A_BRANCH;
    if (!s->committed)
        return s->exists && !s->fsha[0] ? A_FILE : A_PUT;
    if (!s->pr)
        return s->prx ? A_PRFIND : A_PR;
    return A_NONE;
}

static kb_err gi_build(const struct receiver *r, const struct recv_job *job, int step,
                       struct recv_request *req, struct kb_why *why)
{
    const struct recv_config *c = receiver_config(r);
    (void)step; /* the progress is all in the state */
    struct gi_state s;
    gi_state_read(job, &s);
    int idx;
    enum gi_act act = gi_next(job, &s, &idx);
    if (act == A_NONE)
        return KB_ENOTFOUND;
    int64_t id = gi_incident_id(job);
    if (!id)
        return kb_fail(why, KB_EINVAL, "github_incident: payload has no incident.id");
    struct kb_str path = json_str(gi_pl(job, "path"));
    if (gi_op_is(job, "postmortem") && !ref_ok(path))
        return kb_fail(why, KB_EINVAL, "github_incident: payload: path '%.*s' is not a plain "
                                       "relative path", (int)KB_MIN(path.n, 200), path.p);
    const char *base = c->base_url;
    kb_err e = KB_OK;
    char raw[512], owner[128];
    snprintf(owner, sizeof owner, "%.*s", (int)strcspn(c->repo, "/"), c->repo);
    struct buf q = BUF_INIT(1024);
    switch (act) {
    case A_FIND:
        snprintf(raw, sizeof raw, "\"koban-incident:%lld\" repo:%s is:issue in:body",
                 (long long)id, c->repo);
        e = buf_url_escape(&q, raw, strlen(raw));
        if (!e)
            e = recv_req_start(req, "GET", base, GI_DEFAULT_BASE, "/search/issues?q=%s&per_page=20",
                               q.p);
        break;
    case A_CREATE:
        e = recv_req_start(req, "POST", base, GI_DEFAULT_BASE, "/repos/%s/issues", c->repo);
        break;
    case A_UPDATE:
        e = recv_req_start(req, "PATCH", base, GI_DEFAULT_BASE, "/repos/%s/issues/%lld", c->repo,
                           (long long)s.number);
        break;
    case A_COMMENT:
        e = recv_req_start(req, "POST", base, GI_DEFAULT_BASE, "/repos/%s/issues/%lld/comments",
                           c->repo, (long long)s.number);
        break;
    case A_REPO:
        e = recv_req_start(req, "GET", base, GI_DEFAULT_BASE, "/repos/%s", c->repo);
        break;
    case A_REF:
        e = recv_req_start(req, "GET", base, GI_DEFAULT_BASE, "/repos/%s/git/ref/heads/%s",
                           c->repo, s.base);
        break;
    case A_BRANCH:
        e = recv_req_start(req, "POST", base, GI_DEFAULT_BASE, "/repos/%s/git/refs", c->repo);
        break;
    case A_FILE:
        e = recv_req_start(req, "GET", base, GI_DEFAULT_BASE, "/repos/%s/contents/%.*s?ref=%s",
                           c->repo, (int)path.n, path.p, s.branch);
        break;
    case A_PUT:
        e = recv_req_start(req, "PUT", base, GI_DEFAULT_BASE, "/repos/%s/contents/%.*s", c->repo,
                           (int)path.n, path.p);
        break;
    case A_PRFIND:
        snprintf(raw, sizeof raw, "%s:%s", owner, s.branch);
        e = buf_url_escape(&q, raw, strlen(raw));
        if (!e)
            e = recv_req_start(req, "GET", base, GI_DEFAULT_BASE,
                               "/repos/%s/pulls?head=%s&state=all", c->repo, q.p);
        break;
    case A_PR:
        e = recv_req_start(req, "POST", base, GI_DEFAULT_BASE, "/repos/%s/pulls", c->repo);
        break;
    default:
        break;
    }
    buf_release(&q);
    if (e)
        return kb_fail(why, e, "github_incident: URL too long");
    bool get = strcmp(req->method, "GET") == 0;
    if (!get) {
        struct jw w;
        jw_init(&w, &req->body);
        if ((e = recv_gi_body(job, act, &s, &w, why)))
            return e;
        if ((e = jw_finish(&w)))
            return kb_fail(why, e, "github_incident: body larger than %zu bytes", req->body.max);
    }
    if ((e = recv_github_headers(req, c->token, !get)))
        return kb_fail(why, e, "github_incident: too many headers");
    return KB_OK;
}

/* ---- answers --------------------------------------------------------------- */

/* 403 and 429: GitHub's rate limits. True when handled (a retry). */
static bool gi_limited(const struct recv_response *resp, struct recv_result *out,
                       const char *what)
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
    if (resp->status == 429 ||
        (resp->body.p && memmem(resp->body.p, resp->body.n, "rate limit", 10))) {
        recv_set(out, RECV_RETRY, GI_MIN_WAIT_MS, "%s: rate limited", what);
        return true;
    }
    return false; /* a plain 403: permissions */
}

static bool body_has(const struct recv_response *resp, const char *s)
{
    return resp->body.p && memmem(resp->body.p, resp->body.n, s, strlen(s));
}

/* The issue carrying the marker in a search answer: the lowest number, or
 * 0; -1 when the answer is unreadable. */
static int64_t gi_found(const struct json_value *v, int64_t id)
{
    const struct json_value *items = json_get(v, "items");
    if (!items || items->type != JSON_ARRAY)
        return -1;
    char marker[64];
    int ml = snprintf(marker, sizeof marker, "<!-- koban-incident:%lld -->", (long long)id);
    int64_t best = 0;
    size_t k = 0;
    for (const struct json_value *it = items->u.child; it && k < 100; it = it->next, k++) {
        struct kb_str body = json_str(json_get(it, "body"));
        int64_t num = 0;
        if (json_get(it, "pull_request") || !json_as_int(json_get(it, "number"), &num) ||
            num <= 0 || !body.p || !memmem(body.p, body.n, marker, (size_t)ml))
            continue;
        if (best == 0 || num < best)
            best = num;
    }
    return best;
}

static bool sha_ok(struct kb_str s)
{
    if (!s.n || s.n > GI_SHA_MAX)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!((s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] >= 'a' && s.p[i] <= 'f')))
            return false;
    return true;
}

static void gi_result(const struct receiver *r, const struct recv_job *job, int step,
                      const struct recv_response *resp, struct recv_result *out)
{
    (void)r;
    (void)step;
    recv_result_start(out);
    struct gi_state s;
    gi_state_read(job, &s);
    int idx;
    enum gi_act act = gi_next(job, &s, &idx);
    if (act == A_NONE) {
        recv_set(out, RECV_DONE, -1, "github_incident: nothing to send");
        return;
    }
    const char *what = gi_names[act];
    long st = resp->status;
    bool handled = false; /* a 422 (or 404, 409) this step expects */
    if (st == 422 && act == A_BRANCH && body_has(resp, "already exists")) {
        handled = true;
    } else if ((st == 422 && act == A_PUT && body_has(resp, "sha")) || (st == 409 && act == A_PUT)) {
        s.exists = 1; /* a retry: the file is there; read its sha and update it */
        s.fsha[0] = 0;
        out->state = gi_state_write(job, &s);
        recv_set(out, RECV_NEXT, -1, "%s: the file exists: updating it", what);
        return;
    } else if (st == 404 && act == A_FILE) {
        s.exists = 0; /* gone after all: create it */
        out->state = gi_state_write(job, &s);
        recv_set(out, RECV_NEXT, -1, "%s: no file: creating it", what);
        return;
    } else if (st == 422 && act == A_PR && body_has(resp, "pull request already exists")) {
        s.prx = 1;
        out->state = gi_state_write(job, &s);
        recv_set(out, RECV_NEXT, -1, "%s: one exists: finding it", what);
        return;
    }
    if (!handled && (gi_limited(resp, out, what) || !recv_http_common(resp, out, what))) {
        if (act == A_CREATE && st != 0 && s.creating) {
            s.creating = 0; /* answered: nothing was created to wait for */
            out->state = gi_state_write(job, &s);
        }
        return;
    }
    struct arena a = ARENA_INIT(16u << 20);
    struct json_value *v = NULL;
    if (!handled && act != A_UPDATE && act != A_COMMENT && act != A_PUT &&
        json_parse(resp->body.p ? resp->body.p : "", resp->body.n, NULL, &a, &v, NULL)) {
        recv_set(out, RECV_RETRY, -1, "github_incident: %s: HTTP %ld, unreadable answer", what, st);
        goto done;
    }
    if (idx >= 0)
        s.done = idx + 1;
    switch (act) {
    case A_FIND: {
        int64_t n = gi_found(v, gi_incident_id(job)), now = kb_now_ms();
        if (n < 0) {
            recv_set(out, RECV_RETRY, -1, "github_incident: %s: unreadable answer", what);
            goto done;
        }
        if (n > 0) {
            s.number = n;
            s.creating = 0;
        } else if (gi_op_is(job, "issue") && s.creating > 0 && now - s.creating < GI_SETTLE_MS) {
            recv_set(out, RECV_RETRY, KB_MIN(s.creating + GI_SETTLE_MS - now, GI_SETTLE_MS),
                     "github_incident: %s: an earlier create may not show yet", what);
            goto done;
        } else {
            if (idx >= 0)
                s.done = idx; /* a retry searches again before it creates */
            s.searched = job->attempt;
            if (gi_op_is(job, "issue"))
                s.creating = now; /* the CREATE goes out next */
        }
        break;
    }
    case A_CREATE: {
        int64_t n = 0;
        if (!json_as_int(json_get(v, "number"), &n) || n <= 0) {
            recv_set(out, RECV_RETRY, -1, "github_incident: %s: HTTP %ld without a number", what,
                     st);
            goto done;
        }
        s.number = n;
        s.created = true;
        s.creating = 0;
        break;
    }
    case A_REPO: {
        struct kb_str b = json_str(json_get(v, "default_branch"));
        if (!ref_ok(b)) {
            recv_set(out, RECV_FAIL, -1, "github_incident: %s: default_branch missing or unusable",
                     what);
            goto done;
        }
        copy_str(s.base, sizeof s.base, b);
        break;
    }
    case A_REF: {
        struct kb_str sha = json_str(json_path(v, "object.sha"));
        if (!sha_ok(sha)) {
            recv_set(out, RECV_RETRY, -1, "github_incident: %s: no sha in the answer", what);
            goto done;
        }
        copy_str(s.sha, sizeof s.sha, sha);
        break;
    }
    case A_BRANCH:
        snprintf(s.branch, sizeof s.branch, "koban/postmortem-%lld", (long long)gi_incident_id(job));
        break;
    case A_FILE: {
        struct kb_str sha = json_str(json_get(v, "sha"));
        if (!sha_ok(sha)) {
            recv_set(out, RECV_RETRY, -1, "github_incident: %s: no sha in the answer", what);
            goto done;
        }
        copy_str(s.fsha, sizeof s.fsha, sha);
        break;
    }
    case A_PUT:
        s.committed = 1;
        s.exists = 0;
        s.fsha[0] = 0;
        break;
    case A_PRFIND:
    case A_PR: {
        const struct json_value *pr = v;
        if (act == A_PRFIND)
            pr = v && v->type == JSON_ARRAY ? v->u.child : NULL;
        int64_t n = 0;
        if (!json_as_int(json_get(pr, "number"), &n) || n <= 0) {
            recv_set(out, act == A_PRFIND ? RECV_FAIL : RECV_RETRY, -1,
                     "github_incident: %s: no pull request number", what);
            goto done;
        }
        s.pr = n;
        s.prx = 0;
        break;
    }
    default:
        break;
    }
    out->state = gi_state_write(job, &s);
    int more;
    bool next = gi_next(job, &s, &more) != A_NONE;
    recv_set(out, next ? RECV_NEXT : RECV_DONE, -1, "github_incident: %s: ok (issue #%lld)", what,
             (long long)s.number);
done:
    arena_release(&a);
}

static kb_err gi_init(const struct recv_config *c, void **data, struct kb_why *why)
{
    *data = NULL;
    return recv_github_check(c, why);
}

const struct recv_ops recv_github_incident_ops = {
    .type = "github_incident",
    .init = gi_init,
    .fini = NULL,
    .build = gi_build,
    .result = gi_result,
};
