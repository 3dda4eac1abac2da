/* incident.c — the incident model's rules (incident.h). */
#include "incident/incident.h"

#include "lib/timeutil.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* allowed[from][to]: the state machine of incident.h, which the functions
 * below consult for every status change. */
static const bool allowed[INCIDENT_STATUS_COUNT][INCIDENT_STATUS_COUNT] = {
    [INCIDENT_DECLARED] = {[INCIDENT_INVESTIGATING] = true, [INCIDENT_RECOVERED] = true,
                           [INCIDENT_CANCELLED] = true},
    [INCIDENT_INVESTIGATING] = {[INCIDENT_RECOVERED] = true, [INCIDENT_CANCELLED] = true},
    [INCIDENT_RECOVERED] = {[INCIDENT_INVESTIGATING] = true, [INCIDENT_COMPLETED] = true,
                            [INCIDENT_CANCELLED] = true},
};

bool incident_transition_ok(int from, int to)
{
    if (from < 0 || from >= INCIDENT_STATUS_COUNT || to < 0 || to >= INCIDENT_STATUS_COUNT)
        return false;
    return allowed[from][to];
}

static bool channel_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

kb_err incident_channel_check(const char *name, struct kb_why *why)
{
    size_t n = strlen(name);
    if (n == 0)
        return kb_fail(why, KB_EINVAL, "channel name is empty");
    if (n > INCIDENT_CHANNEL_MAX)
        return kb_fail(why, KB_EINVAL, "channel name '%.40s...' is %zu characters, over %d", name,
                       n, INCIDENT_CHANNEL_MAX);
    for (size_t i = 0; i < n; i++)
        if (!channel_char(name[i]))
            return kb_fail(why, KB_EINVAL,
                           "channel name '%s': character %zu ('%c') is not a lowercase letter, "
                           "digit, '-' or '_'",
                           name, i + 1, name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?');
    return KB_OK;
}

kb_err incident_channel_format(const char *service, int64_t day, int n,
                               char out[INCIDENT_CHANNEL_MAX + 1], struct kb_why *why)
{
    char svc[INCIDENT_CHANNEL_MAX + 1];
    size_t len = 0;
    for (const char *p = service; *p; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == ' ' || c == '.' || c == '/')
            c = '-';
        if (!channel_char(c))
            return kb_fail(why, KB_EINVAL,
                           "service '%s': '%c' cannot be in a Slack channel name (letters, "
                           "digits, '-' and '_' only)",
                           service, *p >= 0x20 && *p < 0x7f ? *p : '?');
        if (len < INCIDENT_CHANNEL_MAX)
            svc[len++] = c;
    }
    if (len == 0)
        return kb_fail(why, KB_EINVAL, "service is empty");
    char tail[32], date[32];
    kb_time_format(day, date);
    /* "YYYY-MM-DD..." -> "YYYYMMDD" */
    char ymd[9] = {date[0], date[1], date[2], date[3], date[5], date[6], date[8], date[9], 0};
    if (n > 1)
        snprintf(tail, sizeof tail, "-%si-%d", ymd, n);
    else
        snprintf(tail, sizeof tail, "-%si", ymd);
    size_t keep = KB_MIN(len, INCIDENT_CHANNEL_MAX - strlen(tail));
    while (keep > 1 && (svc[keep - 1] == '-' || svc[keep - 1] == '_'))
        keep--; /* "payments-" cut short reads badly as "payments--2021..." */
    snprintf(out, INCIDENT_CHANNEL_MAX + 1, "%.*s%s", (int)keep, svc, tail);
    return incident_channel_check(out, why);
}

kb_err incident_channel_pick(struct db *db, const char *service, int64_t day,
                             char out[INCIDENT_CHANNEL_MAX + 1], struct kb_why *why)
{
    for (int n = 1; n <= INCIDENT_CHANNEL_TRIES; n++) {
        kb_err e = incident_channel_format(service, day, n, out, why);
        if (e)
            return e;
        bool taken;
        if (db_incident_channel_taken(db, out, &taken))
            return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
        if (!taken)
            return KB_OK;
    }
    return kb_fail(why, KB_EEXIST, "every channel name for '%s' on that day is taken (%d tried)",
                   service, INCIDENT_CHANNEL_TRIES);
}

/* Checks a piece of user text: present when required, bounded. */
static kb_err check_text(const char *what, const char *s, bool required, size_t max,
                         struct kb_why *why)
{
    if (!s || !*s)
        return required ? kb_fail(why, KB_EINVAL, "%s is required", what) : KB_OK;
    if (strlen(s) > max)
        return kb_fail(why, KB_EINVAL, "%s is %zu bytes, over %zu", what, strlen(s), max);
    return KB_OK;
}

static kb_err check_level(int level, struct kb_why *why)
{
    if (level < 1 || level > 5)
        return kb_fail(why, KB_EINVAL, "level %d is not 1 (most severe) to 5", level);
    return KB_OK;
}

static kb_err check_times(int64_t occurred, int64_t detected, struct kb_why *why)
{
    if (occurred && detected && detected < occurred) {
        char a[32], b[32];
        kb_time_format(detected, a);
        kb_time_format(occurred, b);
        return kb_fail(why, KB_EINVAL, "detected (%s) is before occurred (%s)", a, b);
    }
    return KB_OK;
}

static kb_err add_event(struct db *db, int64_t id, int64_t at, const char *kind,
                        const char *field, const char *value, const char *text,
                        const char *actor, const char *ref, struct kb_why *why)
{
    struct db_incident_event ev = {.incident_id = id, .at = at, .kind = kind, .field = field,
                                   .value = value, .text = text, .actor = actor,
                                   .source_ref = ref};
    if (db_incident_event_add(db, &ev, NULL))
        return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    return KB_OK;
}

/* Ends a transaction: commits when e is KB_OK, else rolls back. */
static kb_err finish(struct db *db, kb_err e, struct kb_why *why)
{
    if (e) {
        db_rollback(db);
        return e;
    }
    if (db_commit(db)) {
        kb_err c = kb_fail(why, KB_EDB, "store: commit: %s", db_errmsg(db));
        db_rollback(db);
        return c;
    }
    return KB_OK;
}

kb_err incident_open(struct db *db, const struct incident_new *n, int64_t *id,
                     struct kb_why *why)
{
    kb_err e;
    int level = n->level ? n->level : INCIDENT_LEVEL_DEFAULT;
    if ((e = check_text("service", n->service, true, INCIDENT_SERVICE_MAX, why)) ||
        (e = check_text("title", n->title, true, INCIDENT_TEXT_MAX, why)) ||
        (e = check_text("summary", n->summary, false, INCIDENT_TEXT_MAX, why)) ||
        (e = check_text("handler", n->handler, false, INCIDENT_TEXT_MAX, why)) ||
        (e = check_level(level, why)) || (e = check_times(n->occurred, n->detected, why)))
        return e;
    if (n->temperature < 0 || n->temperature >= INCIDENT_TEMP_COUNT)
        return kb_fail(why, KB_EINVAL, "temperature %d is not cold, warm or hot", n->temperature);
    if (db_begin(db))
        return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    char channel[INCIDENT_CHANNEL_MAX + 1];
    if (n->channel_name && *n->channel_name) {
        bool taken = false;
        e = incident_channel_check(n->channel_name, why);
        if (!e && db_incident_channel_taken(db, n->channel_name, &taken))
            e = kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
        if (!e && taken)
            e = kb_fail(why, KB_EEXIST, "channel name '%s' is taken", n->channel_name);
        if (!e)
            snprintf(channel, sizeof channel, "%s", n->channel_name);
    } else {
        e = incident_channel_pick(db, n->service, n->now, channel, why);
    }
    struct db_incident r = {
        .service = (char *)n->service, .title = (char *)n->title,
        .summary = n->summary && *n->summary ? (char *)n->summary : NULL,
        .temperature = n->temperature, .level = level, .status = INCIDENT_DECLARED,
        .handler = n->handler && *n->handler ? (char *)n->handler : NULL,
        .occurred = n->occurred, .detected = n->detected, .declared = n->now,
        .slack_channel_name = channel, .drill = n->drill, .updated = n->now};
    if (!e && db_incident_insert(db, &r, id))
        e = kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    if (!e) {
        char text[256];
        snprintf(text, sizeof text, "%sincident declared: level %d, %s", n->drill ? "DRILL " : "",
                 level, incident_temp_name(n->temperature));
        e = add_event(db, *id, n->now, "declared", "status", "declared", text, n->actor, NULL,
                      why);
    }
    if (!e && r.handler) {
        char text[160];
        snprintf(text, sizeof text, "handler: %.120s", r.handler);
        e = add_event(db, *id, n->now, "role", "handler", r.handler, text, n->actor, NULL, why);
    }
    return finish(db, e, why);
}

void incident_change_init(struct incident_change *c)
{
    memset(c, 0, sizeof *c);
    c->status = -1;
    c->temperature = -1;
}

/* Replaces *slot with a copy of v ("" clears it) when it differs; *diff
 * says whether it did. */
static void set_str(char **slot, const char *v, bool *diff)
{
    const char *nv = v && *v ? v : NULL;
    *diff = (nv == NULL) != (*slot == NULL) || (nv && strcmp(nv, *slot) != 0);
    if (*diff) {
        free(*slot);
        *slot = nv ? kb_strdup(nv) : NULL;
    }
}

/* The text fields of a change: (event kind, field, where it goes). */
struct str_field {
    const char *kind, *name, *value;
    char **slot;
};

static kb_err validate_change(const struct db_incident *r, const struct incident_change *c,
                              struct kb_why *why)
{
    kb_err e;
    if (c->status >= 0 && c->status != r->status &&
        !incident_transition_ok(r->status, c->status))
        return kb_fail(why, KB_EINVAL,
                       "incident %" PRId64 " is %s: it cannot become %s (allowed from %s: %s)",
                       r->id, incident_status_name(r->status), incident_status_name(c->status),
                       incident_status_name(r->status),
                       r->status == INCIDENT_DECLARED        ? "investigating, recovered, cancelled"
                       : r->status == INCIDENT_INVESTIGATING ? "recovered, cancelled"
                       : r->status == INCIDENT_RECOVERED ? "investigating, completed, cancelled"
                                                         : "none, it is final");
    if (c->status >= INCIDENT_STATUS_COUNT)
        return kb_fail(why, KB_EINVAL, "status %d is unknown", c->status);
    if (c->temperature >= INCIDENT_TEMP_COUNT)
        return kb_fail(why, KB_EINVAL, "temperature %d is unknown", c->temperature);
    if (c->level && (e = check_level(c->level, why)))
        return e;
    if (c->title && !*c->title)
        return kb_fail(why, KB_EINVAL, "title cannot be empty");
    const char *texts[][2] = {{"title", c->title},     {"summary", c->summary},
                              {"handler", c->handler}, {"scribe", c->scribe},
                              {"liaison", c->liaison}, {"channel id", c->slack_channel_id}};
    for (size_t i = 0; i < KB_ARRAY_LEN(texts); i++)
        if ((e = check_text(texts[i][0], texts[i][1], false, INCIDENT_TEXT_MAX, why)))
            return e;
    if (c->slack_channel_name && (e = incident_channel_check(c->slack_channel_name, why)))
        return e;
    for (size_t i = 0; i < c->ntags; i++)
        if ((e = check_text("tag", c->tags[i], true, INCIDENT_TAG_MAX, why)))
            return e;
    if (c->github_issue < 0 || c->github_pr < 0)
        return kb_fail(why, KB_EINVAL, "a GitHub number must be positive");
    return check_times(c->occurred ? c->occurred : r->occurred,
                       c->detected ? c->detected : r->detected, why);
}

/* Applies c's status change to r with its times, and writes its event. */
static kb_err apply_status(struct db *db, struct db_incident *r, const struct incident_change *c,
                           bool *changed, struct kb_why *why)
{
    if (c->status < 0 || c->status == r->status)
        return KB_OK;
    int from = r->status;
    assert(incident_transition_ok(from, c->status)); /* validate_change refused the rest */
    r->status = c->status;
    if (c->status == INCIDENT_INVESTIGATING) {
        if (!r->first_response)
            r->first_response = c->now;
        r->recovered = 0; /* back from recovered: it broke again */
    } else if (c->status == INCIDENT_RECOVERED) {
        r->recovered = c->now;
    } else if (c->status == INCIDENT_COMPLETED) {
        r->completed = c->now;
    } else if (c->status == INCIDENT_CANCELLED) {
        r->cancelled = c->now;
    }
    *changed = true;
    char text[96];
    snprintf(text, sizeof text, "status: %s -> %s", incident_status_name(from),
             incident_status_name(c->status));
    return add_event(db, r->id, c->now, "status", "status", incident_status_name(c->status), text,
                     c->actor, c->source_ref, why);
}

/* Applies the numbers and times of c to r, an event for each change. */
static kb_err apply_numbers(struct db *db, struct db_incident *r,
                            const struct incident_change *c, bool *changed, struct kb_why *why)
{
    struct {
        const char *kind, *name;
        int64_t want, *slot;
        bool is_time;
    } nums[] = {
        {"level", "level", c->level, NULL, false},
        {"field", "occurred", c->occurred, &r->occurred, true},
        {"field", "detected", c->detected, &r->detected, true},
        {"link", "github_issue", c->github_issue, &r->github_issue, false},
        {"link", "github_pr", c->github_pr, &r->github_pr, false},
    };
    int64_t level = r->level;
    nums[0].slot = &level;
    kb_err e = KB_OK;
    for (size_t i = 0; !e && i < KB_ARRAY_LEN(nums); i++) {
        if (!nums[i].want || nums[i].want == *nums[i].slot)
            continue;
        *nums[i].slot = nums[i].want;
        *changed = true;
        char v[32], text[96];
        if (nums[i].is_time)
            kb_time_format(nums[i].want, v);
        else
            snprintf(v, sizeof v, "%" PRId64, nums[i].want);
        snprintf(text, sizeof text, "%s: %s", nums[i].name, v);
        e = add_event(db, r->id, c->now, nums[i].kind, nums[i].name, v, text, c->actor,
                      c->source_ref, why);
    }
    r->level = (int)level;
    if (!e && c->temperature >= 0 && c->temperature != r->temperature) {
        r->temperature = c->temperature;
        *changed = true;
        char text[64];
        snprintf(text, sizeof text, "temperature: %s", incident_temp_name(c->temperature));
        e = add_event(db, r->id, c->now, "field", "temperature",
                      incident_temp_name(c->temperature), text, c->actor, c->source_ref, why);
    }
    return e;
}

static kb_err apply_lists(struct db *db, struct db_incident *r, const struct incident_change *c,
                          bool *changed, struct kb_why *why)
{
    kb_err e = KB_OK;
    for (size_t i = 0; !e && i < c->ntags; i++) {
        bool added;
        kb_err a = db_incident_tag_add(db, r->id, c->tags[i], &added);
        if (a == KB_ETOOBIG)
            return kb_fail(why, a, "incident %" PRId64 " has %d tags already", r->id,
                           INCIDENT_TAGS_MAX);
        if (a)
            return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
        if (added) {
            *changed = true;
            char text[96];
            snprintf(text, sizeof text, "tag: %.80s", c->tags[i]);
            e = add_event(db, r->id, c->now, "tag", "tag", c->tags[i], text, c->actor,
                          c->source_ref, why);
        }
    }
    for (size_t i = 0; !e && i < c->nissues; i++) {
        bool added;
        kb_err a = db_incident_issue_add(db, r->id, c->issues[i], &added);
        if (a == KB_ENOTFOUND)
            return kb_fail(why, a, "issue %" PRId64 ": no such koban issue", c->issues[i]);
        if (a == KB_ETOOBIG)
            return kb_fail(why, a, "incident %" PRId64 " links %d issues already", r->id,
                           INCIDENT_ISSUES_MAX);
        if (a)
            return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
        if (added) {
            *changed = true;
            char v[32], text[64];
            snprintf(v, sizeof v, "%" PRId64, c->issues[i]);
            snprintf(text, sizeof text, "koban issue %" PRId64 " linked", c->issues[i]);
            e = add_event(db, r->id, c->now, "link", "issue", v, text, c->actor, c->source_ref,
                          why);
        }
    }
    return e;
}

kb_err incident_update(struct db *db, int64_t id, const struct incident_change *c,
                       bool *changed, struct kb_why *why)
{
    bool any = false;
    if (changed)
        *changed = false;
    if (db_begin(db))
        return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    struct db_incident r;
    kb_err e = db_incident_get(db, id, &r);
    if (e == KB_ENOTFOUND) {
        db_rollback(db);
        return kb_fail(why, e, "incident %" PRId64 ": no such incident", id);
    }
    if (e) {
        db_rollback(db);
        return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    }
    e = validate_change(&r, c, why);
    if (!e)
        e = apply_status(db, &r, c, &any, why);
    if (!e)
        e = apply_numbers(db, &r, c, &any, why);
    struct str_field strs[] = {
        {"field", "title", c->title, &r.title},
        {"field", "summary", c->summary, &r.summary},
        {"role", "handler", c->handler, &r.handler},
        {"role", "scribe", c->scribe, &r.scribe},
        {"role", "liaison", c->liaison, &r.liaison},
        {"link", "slack_channel_id", c->slack_channel_id, &r.slack_channel_id},
        {"link", "slack_channel_name", c->slack_channel_name, &r.slack_channel_name},
    };
    for (size_t i = 0; !e && i < KB_ARRAY_LEN(strs); i++) {
        bool diff;
        if (!strs[i].value)
            continue;
        set_str(strs[i].slot, strs[i].value, &diff);
        if (!diff)
            continue;
        any = true;
        char text[160];
        snprintf(text, sizeof text, "%s: %.120s", strs[i].name,
                 *strs[i].slot ? *strs[i].slot : "(cleared)");
        e = add_event(db, id, c->now, strs[i].kind, strs[i].name, *strs[i].slot, text, c->actor,
                      c->source_ref, why);
    }
    if (!e)
        e = apply_lists(db, &r, c, &any, why);
    if (!e && any) {
        r.updated = c->now;
        kb_err u = db_incident_update(db, &r);
        if (u == KB_EEXIST)
            e = kb_fail(why, u, "channel '%s' belongs to another incident",
                        r.slack_channel_name ? r.slack_channel_name : "");
        else if (u)
            e = kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    }
    db_incident_release(&r);
    e = finish(db, e, why);
    if (!e && changed)
        *changed = any;
    return e;
}

kb_err incident_note(struct db *db, int64_t id, const char *kind, const char *text,
                     const char *actor, int64_t at, const char *source_ref,
                     struct kb_why *why)
{
    kb_err e;
    if (strcmp(kind, "note") && strcmp(kind, "pin"))
        return kb_fail(why, KB_EINVAL, "'%s' is not note or pin", kind);
    if ((e = check_text(kind, text, true, INCIDENT_TEXT_MAX, why)) ||
        (e = check_text("actor", actor, false, 256, why)) ||
        (e = check_text("source reference", source_ref, false, 1024, why)))
        return e;
    if (db_begin(db))
        return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    struct db_incident_event ev = {.incident_id = id, .at = at, .kind = kind, .text = text,
                                   .actor = actor, .source_ref = source_ref};
    e = db_incident_event_add(db, &ev, NULL);
    if (e == KB_ENOTFOUND)
        e = kb_fail(why, e, "incident %" PRId64 ": no such incident", id);
    else if (e)
        e = kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    return finish(db, e, why);
}

struct height_ctx {
    struct db *db;
    int depth;   /* of the children being visited, 1 = the start's children */
    int max;     /* deepest seen */
    kb_err err;
};

static kb_err height_visit(void *ctx, const struct db_incident *r);

/* The depth of the subtree under id (0: no children), walking at most
 * INCIDENT_DEPTH_MAX levels (deeper trees cannot exist, the link refuses
 * them; the bound keeps a corrupt store from looping). */
static kb_err subtree_height(struct db *db, int64_t id, int depth, int *height)
{
    struct height_ctx h = {.db = db, .depth = depth + 1, .max = depth};
    if (depth >= INCIDENT_DEPTH_MAX) {
        *height = depth + 1;
        return KB_OK;
    }
    struct db_incident_filter f = {.status = -1, .parent_id = id, .limit = 10000};
    kb_err e = db_incident_list(db, &f, height_visit, &h);
    *height = h.max;
    return e ? e : h.err;
}

static kb_err height_visit(void *ctx, const struct db_incident *r)
{
    struct height_ctx *h = ctx;
    int sub;
    kb_err e = subtree_height(h->db, r->id, h->depth, &sub);
    if (e)
        return e;
    h->max = KB_MAX(h->max, sub);
    return KB_OK;
}

/* Checks that child may hang under parent; both exist. */
static kb_err check_link(struct db *db, int64_t child, int64_t parent, struct kb_why *why)
{
    if (child == parent)
        return kb_fail(why, KB_EINVAL, "incident %" PRId64 " cannot be its own parent", child);
    /* Walk up from parent: finding child there means a cycle. */
    int up = 1; /* incidents from the root down to parent */
    int64_t at = parent;
    for (; up <= INCIDENT_DEPTH_MAX + 1; up++) {
        struct db_incident a;
        kb_err g = db_incident_get(db, at, &a);
        if (g == KB_ENOTFOUND)
            break;
        if (g)
            return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
        int64_t next = a.parent_id;
        db_incident_release(&a);
        if (next == child)
            return kb_fail(why, KB_EINVAL,
                           "incident %" PRId64 " is an ancestor of %" PRId64
                           ": linking would make a cycle",
                           child, parent);
        if (!next)
            break;
        at = next;
    }
    int below;
    if (subtree_height(db, child, 0, &below))
        return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    if (up + 1 + below > INCIDENT_DEPTH_MAX)
        return kb_fail(why, KB_EINVAL,
                       "linking %" PRId64 " under %" PRId64
                       " makes a tree %d incidents deep, over %d",
                       child, parent, up + 1 + below, INCIDENT_DEPTH_MAX);
    return KB_OK;
}

kb_err incident_link(struct db *db, int64_t child, int64_t parent, const char *actor,
                     int64_t at, struct kb_why *why)
{
    if (db_begin(db))
        return kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    struct db_incident c = {0}, p = {0};
    kb_err e = db_incident_get(db, child, &c);
    if (e == KB_ENOTFOUND)
        e = kb_fail(why, e, "incident %" PRId64 ": no such incident", child);
    else if (e)
        e = kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    if (!e) {
        e = db_incident_get(db, parent, &p);
        if (e == KB_ENOTFOUND)
            e = kb_fail(why, e, "incident %" PRId64 ": no such incident (the parent)", parent);
        else if (e)
            e = kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
    }
    bool same = !e && c.parent_id == parent;
    if (!e && !same)
        e = check_link(db, child, parent, why);
    if (!e && !same) {
        int64_t old = c.parent_id;
        c.parent_id = parent;
        c.updated = at;
        if (db_incident_update(db, &c))
            e = kb_fail(why, KB_EDB, "store: %s", db_errmsg(db));
        char v[32], text[128];
        snprintf(v, sizeof v, "%" PRId64, parent);
        if (old)
            snprintf(text, sizeof text, "parent: incident %" PRId64 " (was %" PRId64 ")", parent,
                     old);
        else
            snprintf(text, sizeof text, "parent: incident %" PRId64, parent);
        if (!e)
            e = add_event(db, child, at, "link", "parent", v, text, actor, NULL, why);
        snprintf(v, sizeof v, "%" PRId64, child);
        snprintf(text, sizeof text, "child: incident %" PRId64 " (%.80s)", child, c.title);
        if (!e)
            e = add_event(db, parent, at, "link", "child", v, text, actor, NULL, why);
    }
    db_incident_release(&c);
    db_incident_release(&p);
    return finish(db, e, why);
}

kb_err incident_children(struct db *db, int64_t parent, db_incident_fn fn, void *ctx)
{
    struct db_incident_filter f = {.status = -1, .parent_id = parent,
                                   .limit = 10000};
    return parent > 0 ? db_incident_list(db, &f, fn, ctx) : KB_EINVAL;
}
