/* vuln_triage.c — verdicts on findings and their effect on issues (rules,
 * expiry and the alert filter in vuln_triage.h). */
#include "vuln/vuln_triage.h"

#include "formats/alert.h"
#include "lib/arena.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vuln_triage {
    struct db *db;      /* borrowed */
    struct db_vuln *dv; /* owned */
    struct vuln_triage_opts o;
    struct issue_observer obs; /* copy of *o.obs, or zero */
};

static const char *const vuln_identity[] = {"advisory", "asset", "ecosystem", "package", NULL};

static const char *const justifications[] = {
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
};

bool vuln_justification_valid(const char *s)
{
    for (size_t i = 0; s && i < sizeof justifications / sizeof *justifications; i++)
        if (strcmp(s, justifications[i]) == 0)
            return true;
    return false;
}

void vuln_key_fp(const struct vuln_key *k, uint8_t fp[16])
{
    /* The same alert identity fmt_vuln.c gives the engine's alerts. */
    struct alert a;
    alert_init(&a, "vuln", vuln_identity);
    alert_add_field(&a, "advisory", kb_str_c(k->group_key));
    alert_add_field(&a, "asset", kb_str_c(k->asset));
    alert_add_field(&a, "ecosystem", kb_str_c(k->ecosystem));
    alert_add_field(&a, "package", kb_str_c(k->package));
    issue_identity(&a, fp, NULL);
}

kb_err vuln_triage_open(struct db *db, const struct vuln_triage_opts *o, struct vuln_triage **out)
{
    struct vuln_triage *t = kb_calloc(1, sizeof *t);
    t->db = db;
    if (o)
        t->o = *o;
    if (o && o->obs)
        t->obs = *o->obs;
    t->o.obs = NULL;
    kb_err e = db_vuln_open(db, &t->dv);
    if (e) {
        free(t);
        return e;
    }
    *out = t;
    return KB_OK;
}

void vuln_triage_close(struct vuln_triage *t)
{
    if (!t)
        return;
    db_vuln_close(t->dv);
    free(t);
}

struct db_vuln *vuln_triage_store(struct vuln_triage *t)
{
    return t->dv;
}

int64_t vuln_triage_now(struct vuln_triage *t)
{
    return t->o.now ? t->o.now(t->o.now_ctx) : kb_now_ms();
}

void vuln_found_release(struct vuln_found *f)
{
    free((char *)f->f.group_key);
    free((char *)f->f.asset);
    free((char *)f->f.ecosystem);
    free((char *)f->f.package);
    free((char *)f->f.installed);
    free((char *)f->f.fixed);
    free((char *)f->f.reason);
    if (f->triaged)
        db_vuln_triage_release(&f->t);
    memset(f, 0, sizeof *f);
}

static char *dup_or_null(const char *s)
{
    return s ? kb_strdup(s) : NULL;
}

kb_err vuln_triage_found_from(struct vuln_triage *t, const struct db_vuln_finding *f,
                              struct vuln_found *out)
{
    memset(out, 0, sizeof *out);
    out->f = *f;
    out->f.group_key = kb_strdup(f->group_key);
    out->f.asset = kb_strdup(f->asset);
    out->f.ecosystem = kb_strdup(f->ecosystem);
    out->f.package = kb_strdup(f->package);
    out->f.installed = dup_or_null(f->installed);
    out->f.fixed = dup_or_null(f->fixed);
    out->f.reason = dup_or_null(f->reason);
    struct vuln_key k = {f->group_key, f->asset, f->ecosystem, f->package};
    uint8_t fp[16];
    vuln_key_fp(&k, fp);
    issue_fp_hex(fp, out->hex);
    kb_err e = db_issue_find(t->db, fp, &out->issue, &out->issue_state);
    if (e == KB_ENOTFOUND) {
        out->issue = 0;
        e = KB_OK;
    }
    if (e)
        return e;
    e = db_vuln_triage_get(t->dv, f->group_key, f->asset, f->ecosystem, f->package, &out->t);
    out->triaged = e == KB_OK;
    return e == KB_ENOTFOUND ? KB_OK : e;
}

/* A finding walk that fills the first row whose fingerprint matches and
 * counts the others. */
struct match_ctx {
    struct vuln_triage *t;
    const char *prefix; /* hex prefix, or NULL */
    const uint8_t *fp;  /* exact fingerprint, or NULL */
    struct vuln_found *out;
    size_t n;
};

static kb_err match_one(void *ctx, const struct db_vuln_finding *f)
{
    struct match_ctx *m = ctx;
    struct vuln_key k = {f->group_key, f->asset, f->ecosystem, f->package};
    uint8_t fp[16];
    vuln_key_fp(&k, fp);
    if (m->fp) {
        if (memcmp(fp, m->fp, 16) != 0)
            return KB_OK;
    } else if (m->prefix) {
        char hex[33];
        issue_fp_hex(fp, hex);
        if (strncmp(hex, m->prefix, strlen(m->prefix)) != 0)
            return KB_OK;
    }
    if (m->n++ == 0)
        return vuln_triage_found_from(m->t, f, m->out);
    return KB_OK;
}

static kb_err walk_match(struct match_ctx *m, const struct db_vuln_finding_filter *flt)
{
    kb_err e = db_vuln_finding_each(m->t->dv, flt, match_one, m);
    if (e && m->n)
        vuln_found_release(m->out);
    return e;
}

kb_err vuln_triage_find_key(struct vuln_triage *t, const struct vuln_key *k,
                            struct vuln_found *out, struct kb_why *why)
{
    memset(out, 0, sizeof *out);
    struct match_ctx m = {.t = t, .out = out};
    struct db_vuln_finding_filter flt = {.asset = k->asset, .ecosystem = k->ecosystem,
                                         .package = k->package, .group_key = k->group_key,
                                         .state = -1, .limit = 1};
    kb_err e = walk_match(&m, &flt);
    if (e)
        return kb_fail(why, e, "reading findings: %s", kb_strerror(e));
    if (m.n == 0)
        return kb_fail(why, KB_ENOTFOUND, "no finding %s on %s (%s %s)", k->group_key, k->asset,
                       k->ecosystem, k->package);
    return KB_OK;
}

/* The value of NAME= in an issue's readable identity ("advisory=A
 * asset=B ecosystem=C package=D"), up to " NEXT=" (or the end). */
static char *identity_part(const char *id, const char *name, const char *next)
{
    char key[32], nk[32];
    snprintf(key, sizeof key, "%s=", name);
    const char *p = strncmp(id, key, strlen(key)) == 0 ? id : NULL;
    if (!p) {
        char sk[34];
        snprintf(sk, sizeof sk, " %s", key);
        p = strstr(id, sk);
        if (p)
            p++;
    }
    if (!p)
        return NULL;
    p += strlen(key);
    const char *end = NULL;
    if (next) {
        snprintf(nk, sizeof nk, " %s=", next);
        end = strstr(p, nk);
    }
    return kb_strndup(p, end ? (size_t)(end - p) : strlen(p));
}

static kb_err find_issue(struct vuln_triage *t, int64_t id, struct vuln_found *out,
                         struct kb_why *why)
{
    struct db_issue r;
    kb_err e = db_issue_get(t->db, id, &r);
    if (e == KB_ENOTFOUND)
        return kb_fail(why, e, "no issue %lld", (long long)id);
    if (e)
        return kb_fail(why, e, "reading issue %lld: %s", (long long)id, db_errmsg(t->db));
    if (!r.source || strcmp(r.source, "vuln") != 0) {
        e = kb_fail(why, KB_EINVAL, "issue %lld is not a vulnerability finding (source %s)",
                    (long long)id, r.source ? r.source : "?");
        db_issue_release(&r);
        return e;
    }
    /* The readable identity names the group: walk only its findings and
     * compare fingerprints (the identity text may be cut; the hash is not). */
    char *group = r.identity ? identity_part(r.identity, "advisory", "asset") : NULL;
    memset(out, 0, sizeof *out);
    struct match_ctx m = {.t = t, .fp = r.fp, .out = out};
    struct db_vuln_finding_filter flt = {.group_key = group, .state = -1};
    e = walk_match(&m, &flt);
    if (!e && m.n == 0 && group) { /* a group key the identity text cut */
        flt.group_key = NULL;
        e = walk_match(&m, &flt);
    }
    free(group);
    db_issue_release(&r);
    if (e)
        return kb_fail(why, e, "reading findings: %s", kb_strerror(e));
    if (m.n == 0)
        return kb_fail(why, KB_ENOTFOUND, "issue %lld has no finding in the store",
                       (long long)id);
    return KB_OK;
}

kb_err vuln_triage_find(struct vuln_triage *t, const char *ref, struct vuln_found *out,
                        struct kb_why *why)
{
    memset(out, 0, sizeof *out);
    const char *s = ref && ref[0] == '#' ? ref + 1 : ref;
    size_t n = s ? strlen(s) : 0, digits = 0, hex = 0;
    for (size_t i = 0; i < n; i++) {
        digits += isdigit((unsigned char)s[i]) != 0;
        hex += isxdigit((unsigned char)s[i]) != 0;
    }
    if (n && digits == n && (n < 8 || s != ref)) {
        char *end;
        long long id = strtoll(s, &end, 10);
        if (*end || id <= 0)
            return kb_fail(why, KB_EINVAL, "'%s' is not an issue id", ref);
        return find_issue(t, id, out, why);
    }
    if (n < 8 || n > 32 || hex != n)
        return kb_fail(why, KB_EINVAL,
                       "'%s' is neither an issue id nor a finding id (8 to 32 hex digits)", ref);
    char low[33];
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)s[i]);
    struct match_ctx m = {.t = t, .prefix = low, .out = out};
    struct db_vuln_finding_filter flt = {.state = -1};
    kb_err e = walk_match(&m, &flt);
    if (e)
        return kb_fail(why, e, "reading findings: %s", kb_strerror(e));
    if (m.n == 0)
        return kb_fail(why, KB_ENOTFOUND, "no finding with id %s", low);
    if (m.n > 1) {
        vuln_found_release(out);
        return kb_fail(why, KB_EINVAL, "finding id %s is ambiguous (%zu findings): give more digits",
                       low, m.n);
    }
    return KB_OK;
}

static bool closing(int status)
{
    return status == DB_VULN_NOT_AFFECTED || status == DB_VULN_FIXED;
}

kb_err vuln_triage_check(const struct db_vuln_triage *v, int64_t now, struct kb_why *why)
{
    if (v->status < 0 || v->status >= DB_VULN_TRIAGE_COUNT)
        return kb_fail(why, KB_EINVAL,
                       "status: not one of not_affected, affected, fixed, under_investigation");
    if (v->status == DB_VULN_NOT_AFFECTED && !v->justification)
        return kb_fail(why, KB_EINVAL,
                       "not_affected needs a justification (component_not_present, "
                       "vulnerable_code_not_present, vulnerable_code_not_in_execute_path, "
                       "vulnerable_code_cannot_be_controlled_by_adversary, "
                       "inline_mitigations_already_exist)");
    if (v->justification && v->status != DB_VULN_NOT_AFFECTED)
        return kb_fail(why, KB_EINVAL, "justification: only with the status not_affected");
    if (v->justification && !vuln_justification_valid(v->justification))
        return kb_fail(why, KB_EINVAL, "justification: '%s' is not an OpenVEX justification",
                       v->justification);
    if (v->until && !closing(v->status))
        return kb_fail(why, KB_EINVAL, "until: only with not_affected or fixed");
    if (v->until && v->until <= now)
        return kb_fail(why, KB_EINVAL, "until: the date has passed");
    if (v->note && strlen(v->note) > VULN_TRIAGE_MAX_NOTE)
        return kb_fail(why, KB_EINVAL, "note: over %u bytes", VULN_TRIAGE_MAX_NOTE);
    if (!v->author || !*v->author || strlen(v->author) > VULN_TRIAGE_MAX_AUTHOR)
        return kb_fail(why, KB_EINVAL, "author: empty or over %u bytes",
                       VULN_TRIAGE_MAX_AUTHOR);
    return KB_OK;
}

const char *vuln_issue_action_name(int a)
{
    static const char *const names[] = {"no issue", "closed", "reopened", "noted"};
    return a >= 0 && a <= VULN_ISSUE_NOTED ? names[a] : "?";
}

void vuln_triage_date(int64_t ms, char out[32])
{
    kb_time_format(ms, out);
    if (ms % 86400000 == 0 && strlen(out) >= 10)
        out[10] = '\0';
}

kb_err vuln_triage_parse_date(const char *s, int64_t *ms)
{
    if (!s)
        return KB_EINVAL;
    unsigned y, m, d;
    char tail;
    if (strlen(s) == 10 && sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) == 3) {
        if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
            return KB_EINVAL;
        *ms = kb_days_from_civil(y, m, d) * 86400000;
        return KB_OK;
    }
    return kb_time_parse_rfc3339(kb_str_c(s), ms);
}

void vuln_triage_reason(const struct db_vuln_triage *v, char *out, size_t n)
{
    char until[48] = "", date[32];
    if (v->until) {
        vuln_triage_date(v->until, date);
        snprintf(until, sizeof until, " until %s", date);
    }
    char just[96] = "";
    if (v->justification)
        snprintf(just, sizeof just, " (%s)", v->justification);
    snprintf(out, n, "triaged: %s%s%s by %s%s%.300s", db_vuln_triage_status_name(v->status), just,
             until, v->author ? v->author : "?", v->note && *v->note ? ": " : "",
             v->note ? v->note : "");
}

/* Adds a history row without changing the state (a note on an open issue). */
static kb_err issue_note(struct db *db, int64_t id, int state, int64_t at, const char *actor,
                         const char *reason)
{
    kb_err e = db_begin(db);
    if (e)
        return e;
    e = db_issue_set_state(db, id, state, state, at, actor, reason, 0);
    if (e) {
        db_rollback(db);
        return e;
    }
    return db_commit(db);
}

static bool finding_open(struct vuln_triage *t, const struct vuln_key *k)
{
    struct vuln_found f;
    struct kb_why why = {{0}};
    if (vuln_triage_find_key(t, k, &f, &why) != KB_OK)
        return false;
    bool open = f.f.state == DB_VULN_OPEN;
    vuln_found_release(&f);
    return open;
}

kb_err vuln_triage_apply(struct vuln_triage *t, const struct vuln_key *k,
                         const struct db_vuln_triage *v, int *action, char *reason,
                         size_t reason_size, struct kb_why *why)
{
    int64_t now = vuln_triage_now(t);
    struct db_vuln_triage tv = *v;
    if (!tv.at)
        tv.at = now;
    if (action)
        *action = VULN_ISSUE_NONE;
    kb_err e = db_vuln_triage_set(t->dv, k->group_key, k->asset, k->ecosystem, k->package, &tv);
    if (e)
        return kb_fail(why, e, "storing the triage: %s", db_errmsg(t->db));
    char rs[600];
    vuln_triage_reason(&tv, rs, sizeof rs);
    if (reason && reason_size)
        snprintf(reason, reason_size, "%s", rs);
    uint8_t fp[16];
    vuln_key_fp(k, fp);
    int64_t id = 0;
    int state = 0;
    e = db_issue_find(t->db, fp, &id, &state);
    if (e == KB_ENOTFOUND)
        return KB_OK;
    if (e)
        return kb_fail(why, e, "finding the issue: %s", db_errmsg(t->db));
    int act = VULN_ISSUE_NOTED;
    if (closing(tv.status) && state != ISSUE_CLOSED) {
        e = issue_transition(t->db, id, ISSUE_CLOSED, tv.author, rs, &t->obs, why);
        act = VULN_ISSUE_CLOSED;
    } else if (!closing(tv.status) && state == ISSUE_CLOSED && finding_open(t, k)) {
        /* a resolved finding's issue stays closed: the asset no longer
         * runs the version */
        e = issue_transition(t->db, id, ISSUE_OPEN, tv.author, rs, &t->obs, why);
        act = VULN_ISSUE_REOPENED;
    } else {
        e = issue_note(t->db, id, state, now, tv.author, rs);
        if (e)
            kb_fail(why, e, "noting the triage on issue %lld: %s", (long long)id,
                    db_errmsg(t->db));
    }
    if (!e && action)
        *action = act;
    return e;
}

/* ---- JSON ---- */

static void triage_json(struct jw *w, const struct db_vuln_triage *t)
{
    char ts[32];
    jw_obj_begin(w);
    jw_kv_str(w, "status", db_vuln_triage_status_name(t->status));
    jw_kv_str(w, "justification", t->justification);
    jw_kv_str(w, "note", t->note);
    jw_key(w, "until");
    if (t->until) {
        kb_time_format(t->until, ts);
        jw_str(w, ts);
    } else {
        jw_null(w);
    }
    jw_kv_str(w, "author", t->author);
    kb_time_format(t->at, ts);
    jw_kv_str(w, "at", ts);
    jw_obj_end(w);
}

void vuln_found_write_json(struct jw *w, const struct vuln_found *f)
{
    char ts[32];
    jw_obj_begin(w);
    jw_kv_str(w, "id", f->hex);
    jw_kv_str(w, "advisory", f->f.group_key);
    jw_kv_str(w, "asset", f->f.asset);
    jw_kv_str(w, "ecosystem", f->f.ecosystem);
    jw_kv_str(w, "package", f->f.package);
    jw_kv_str(w, "installed", f->f.installed);
    jw_kv_str(w, "fixed", f->f.fixed);
    jw_kv_str(w, "severity", kb_severity_name(f->f.severity));
    jw_key(w, "cvss");
    if (f->f.cvss >= 0)
        jw_double(w, f->f.cvss);
    else
        jw_null(w);
    jw_key(w, "kev");
    jw_bool(w, f->f.kev);
    jw_key(w, "suspected");
    jw_bool(w, f->f.suspected);
    jw_kv_str(w, "state", db_vuln_state_name(f->f.state));
    jw_kv_str(w, "reason", f->f.reason);
    kb_time_format(f->f.first_seen, ts);
    jw_kv_str(w, "first_seen", ts);
    kb_time_format(f->f.changed, ts);
    jw_kv_str(w, "changed", ts);
    jw_key(w, "issue");
    if (f->issue) {
        jw_obj_begin(w);
        jw_kv_int(w, "id", f->issue);
        jw_kv_str(w, "state", issue_state_name(f->issue_state));
        jw_obj_end(w);
    } else {
        jw_null(w);
    }
    jw_key(w, "triage");
    if (f->triaged)
        triage_json(w, &f->t);
    else
        jw_null(w);
    jw_obj_end(w);
}

/* ---- expiry ---- */

struct exp_item {
    char *key[4];
    int status;
    char *justification;
    int64_t until;
};

struct exp_ctx {
    int64_t now;
    struct exp_item *v;
    size_t n;
};

static kb_err exp_one(void *ctx, const char *group_key, const char *asset, const char *ecosystem,
                      const char *package, const struct db_vuln_triage *tr)
{
    struct exp_ctx *c = ctx;
    if (!closing(tr->status) || !tr->until || tr->until > c->now)
        return KB_OK;
    if (c->n >= VULN_TRIAGE_MAX_EXPIRE)
        return KB_ETOOBIG; /* the rest waits for the next call */
    struct exp_item *it = &c->v[c->n++];
    it->key[0] = kb_strdup(group_key);
    it->key[1] = kb_strdup(asset);
    it->key[2] = kb_strdup(ecosystem);
    it->key[3] = kb_strdup(package);
    it->status = tr->status;
    it->justification = dup_or_null(tr->justification);
    it->until = tr->until;
    return KB_OK;
}

/* Expires one verdict when its finding is still open. */
static kb_err expire_one(struct vuln_triage *t, const struct exp_item *it, int64_t now,
                         size_t *expired, size_t *reopened, struct kb_why *why)
{
    struct vuln_key k = {it->key[0], it->key[1], it->key[2], it->key[3]};
    struct vuln_found f;
    kb_err e = vuln_triage_find_key(t, &k, &f, why);
    if (e == KB_ENOTFOUND)
        return KB_OK;
    if (e)
        return e;
    bool open = f.f.state == DB_VULN_OPEN;
    vuln_found_release(&f);
    if (!open)
        return KB_OK; /* the asset no longer runs it: the verdict is moot */
    char date[32], reason[160];
    vuln_triage_date(it->until, date);
    snprintf(reason, sizeof reason, "triage expired (%s until %s)",
             db_vuln_triage_status_name(it->status), date);
    struct db_vuln_triage nv = {.status = DB_VULN_UNDER_INVESTIGATION,
                                .note = reason,
                                .author = "koban",
                                .at = now};
    e = db_vuln_triage_set(t->dv, k.group_key, k.asset, k.ecosystem, k.package, &nv);
    if (e)
        return kb_fail(why, e, "storing the triage: %s", db_errmsg(t->db));
    (*expired)++;
    uint8_t fp[16];
    vuln_key_fp(&k, fp);
    int64_t id = 0;
    int state = 0;
    e = db_issue_find(t->db, fp, &id, &state);
    if (e == KB_ENOTFOUND)
        return KB_OK;
    if (e)
        return kb_fail(why, e, "finding the issue: %s", db_errmsg(t->db));
    if (state == ISSUE_CLOSED) {
        e = issue_transition(t->db, id, ISSUE_OPEN, "koban", reason, &t->obs, why);
        if (!e)
            (*reopened)++;
        return e;
    }
    e = issue_note(t->db, id, state, now, "koban", reason);
    return e ? kb_fail(why, e, "noting on issue %lld: %s", (long long)id, db_errmsg(t->db)) : e;
}

kb_err vuln_triage_expire(struct vuln_triage *t, int64_t now, size_t *expired, size_t *reopened,
                          struct kb_why *why)
{
    size_t ex = 0, ro = 0;
    struct exp_ctx c = {.now = now, .v = kb_calloc(VULN_TRIAGE_MAX_EXPIRE, sizeof *c.v)};
    kb_err e = db_vuln_triage_each(t->dv, NULL, exp_one, &c);
    if (e == KB_ETOOBIG)
        e = KB_OK;
    if (e)
        kb_fail(why, e, "reading triage: %s", db_errmsg(t->db));
    for (size_t i = 0; !e && i < c.n; i++)
        e = expire_one(t, &c.v[i], now, &ex, &ro, why);
    for (size_t i = 0; i < c.n; i++) {
        for (int j = 0; j < 4; j++)
            free(c.v[i].key[j]);
        free(c.v[i].justification);
    }
    free(c.v);
    if (expired)
        *expired = ex;
    if (reopened)
        *reopened = ro;
    return e;
}

/* ---- the alert filter ---- */

static char *json_dup_str(const struct json_value *obj, const char *key)
{
    struct kb_str s = json_str(json_get(obj, key));
    return s.p ? kb_strndup(s.p, s.n) : NULL;
}

bool vuln_triage_alert_keep(struct vuln_triage *t, const char *json, size_t len, int64_t now)
{
    struct arena ar;
    arena_init(&ar, 4u * 1024 * 1024);
    struct json_value *root = NULL;
    struct json_limits lim = {.max_depth = 16, .max_bytes = 1u << 20};
    bool keep = true;
    if (json_parse(json, len, &lim, &ar, &root, NULL) != KB_OK || !root ||
        root->type != JSON_OBJECT)
        goto out;
    struct kb_str state = json_str(json_get(root, "state"));
    const struct json_value *fields = json_get(root, "fields");
    if (kb_str_eq(state, "resolved") || !fields || fields->type != JSON_OBJECT)
        goto out;
    char *k[4] = {json_dup_str(fields, "advisory"), json_dup_str(fields, "asset"),
                  json_dup_str(fields, "ecosystem"), json_dup_str(fields, "package")};
    if (k[0] && k[1] && k[2] && k[3]) {
        struct db_vuln_triage tr;
        if (db_vuln_triage_get(t->dv, k[0], k[1], k[2], k[3], &tr) == KB_OK) {
            keep = !(closing(tr.status) && (!tr.until || tr.until > now));
            db_vuln_triage_release(&tr);
        }
    }
    for (int i = 0; i < 4; i++)
        free(k[i]);
out:
    arena_release(&ar);
    return keep;
}
