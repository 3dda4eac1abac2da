/* feed_fetch_osv.c — the OSV feed (osv-vulnerabilities bucket), one
 * ecosystem at a time, and OSV records and zips for the offline import.
 *
 *   no cursor:  GET {base}/{Eco}/modified_id.csv  (its newest time: T)
 *               GET {base}/{Eco}/all.zip          every record
 *               cursor := T
 *   cursor C:   GET {base}/{Eco}/modified_id.csv  lines "<time>,<id>", newest
 *               first; the entries newer than C, oldest first:
 *               GET {base}/{Eco}/{id}.json         one record
 *               cursor := the time of the last entry delivered whose
 *                         successors are all newer (so entries sharing a time
 *                         are never split by the cursor)
 * The list is read before the archive, so a record changed while the
 * archive downloads is fetched again next time, never missed. This is the
 * only file that uses libzip. */
#include "vuln/feed_internal.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/timeutil.h"
#include "vuln/osv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#define OSV_MAX_ECOSYSTEMS 1000
#define OSV_MAX_CHANGES 2000000 /* entries of one incremental sync */
#define OSV_COMMIT_EVERY 200    /* cursor stored at least this often */
#define OSV_TIME_MAX 40

struct osv_change {
    int64_t ms;
    const char *id; /* into the list's body copy */
    size_t id_len;
    const char *time;
    size_t time_len;
};

kb_err feed_osv_record(struct feed_run *r, const char *json, size_t len, struct kb_why *why)
{
    struct arena a = ARENA_INIT(64u << 20);
    struct json_value *root = NULL;
    struct json_error je;
    char id[256];
    kb_err e = json_parse(json, len, NULL, &a, &root, &je);
    if (e != KB_OK) {
        feed_warn(r, "a record at line %u: not JSON: %s", je.line, je.msg);
        arena_release(&a);
        return KB_OK;
    }
    struct kb_str s = json_str(json_get(root, "id"));
    if (!s.p || !s.n || s.n >= sizeof id) {
        feed_warn(r, "a record without a usable \"id\" was skipped");
        arena_release(&a);
        return KB_OK;
    }
    memcpy(id, s.p, s.n);
    id[s.n] = '\0';
    arena_release(&a);
    return feed_deliver(r, id, json, len, why);
}

static bool ends_json(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

kb_err feed_osv_zip(struct feed_run *r, const char *data, size_t len, int64_t *n,
                    struct kb_why *why)
{
    zip_error_t ze;
    zip_error_init(&ze);
    int64_t done = 0;
    if (n)
        *n = 0;
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!z) {
        kb_err e =
            kb_fail(why, KB_EPARSE, "%s: not a zip archive: %s", r->name, zip_error_strerror(&ze));
        if (src)
            zip_source_free(src);
        zip_error_fini(&ze);
        return e;
    }
    zip_error_fini(&ze);
    zip_int64_t count = zip_get_num_entries(z, 0);
    char *text = NULL;
    kb_err e = KB_OK;
    for (zip_int64_t i = 0; i < count && e == KB_OK; i++) {
        zip_stat_t st;
        if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
            !(st.valid & ZIP_STAT_SIZE) || !ends_json(st.name))
            continue;
        if (st.size > OSV_MAX_BYTES) {
            feed_warn(r, "%s: over %u bytes, skipped", st.name, OSV_MAX_BYTES);
            continue;
        }
        if (!text)
            text = kb_malloc(OSV_MAX_BYTES + 1);
        zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)i, 0);
        zip_int64_t got = f ? zip_fread(f, text, st.size) : -1;
        if (f)
            zip_fclose(f);
        if (got < 0 || (zip_uint64_t)got != st.size) {
            e = kb_fail(why, KB_ECORRUPT, "%s: %s: cannot read it from the archive", r->name,
                        st.name);
            break;
        }
        text[got] = '\0';
        e = feed_osv_record(r, text, (size_t)got, why);
        done++;
        if (done % 1000 == 0)
            feed_progress(r, done, count);
        if (e == KB_OK && feed_over_budget(r, why))
            e = KB_ETIMEOUT;
    }
    free(text);
    zip_discard(z);
    if (n)
        *n = done;
    return e;
}

/* Parses modified_id.csv (newest first) into the entries newer than
 * cursor_ms (all when cursor_ms < 0), at most limit of them. */
static kb_err parse_list(struct feed_run *r, const char *eco, const char *p, size_t len,
                         int64_t cursor_ms, size_t limit, struct osv_change **out, size_t *nout,
                         struct kb_why *why)
{
    struct osv_change *v = NULL;
    size_t n = 0, cap = 0;
    const char *end = p + len;
    unsigned line = 0;
    while (p < end && n < limit) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *comma = memchr(p, ',', (size_t)(le - p));
        const char *ie = le;
        while (ie > p && (ie[-1] == '\r' || ie[-1] == ' '))
            ie--;
        if (le > p && !comma) {
            feed_warn(r, "%s/modified_id.csv line %u: no comma, skipped", eco, line);
        } else if (comma) {
            struct osv_change c = {.time = p,
                                   .time_len = (size_t)(comma - p),
                                   .id = comma + 1,
                                   .id_len = (size_t)(ie - comma - 1)};
            if (c.time_len >= OSV_TIME_MAX || !c.id_len ||
                kb_time_parse_rfc3339((struct kb_str){c.time, c.time_len}, &c.ms) != KB_OK) {
                feed_warn(r, "%s/modified_id.csv line %u: bad time or id, skipped", eco, line);
            } else {
                /* Newest first: the first entry at or before the cursor
                 * ends what is new. */
                if (cursor_ms >= 0 && c.ms <= cursor_ms)
                    break;
                if (n == OSV_MAX_CHANGES) {
                    free(v);
                    return kb_fail(why, KB_ETOOBIG, "%s: %s: more than %d changes at once", r->name,
                                   eco, OSV_MAX_CHANGES);
                }
                if (n == cap) {
                    cap = cap ? cap * 2 : 256;
                    v = kb_realloc(v, cap * sizeof *v);
                }
                v[n++] = c;
            }
        }
        p = nl ? nl + 1 : end;
    }
    *out = v;
    *nout = n;
    return KB_OK;
}

/* "{base}/{eco}/{leaf}" with eco and leaf escaped. */
static kb_err eco_url(struct feed_run *r, const char *eco, const char *leaf, size_t leaf_len,
                      const char *suffix, struct buf *u)
{
    buf_reset(u);
    kb_err e = buf_printf(u, "%s/", r->o.base_url);
    if (e == KB_OK)
        e = buf_url_escape(u, eco, strlen(eco));
    if (e == KB_OK)
        e = buf_putc(u, '/');
    char *l = kb_strndup(leaf, leaf_len);
    if (e == KB_OK)
        e = buf_url_escape(u, l, strlen(l));
    free(l);
    if (e == KB_OK)
        e = buf_puts(u, suffix);
    return e;
}

static kb_err set_cursor(struct feed_run *r, const char *key, const char *t, size_t tl,
                         struct kb_why *why)
{
    char v[OSV_TIME_MAX];
    snprintf(v, sizeof v, "%.*s", (int)tl, t);
    return feed_state_set(r, key, v, why);
}

static kb_err sync_eco(struct feed_run *r, const char *eco, struct kb_why *why)
{
    char key[128], cur[FEED_STATE_MAX];
    snprintf(key, sizeof key, "cursor:%s", eco);
    int64_t cursor_ms = -1;
    if (feed_state_get(r, key, cur, sizeof cur) &&
        kb_time_parse_rfc3339(kb_str_c(cur), &cursor_ms) != KB_OK) {
        feed_warn(r, "%s: state %s is not a time (%s): syncing it whole", eco, key, cur);
        cursor_ms = -1;
    }
    struct buf u = BUF_INIT(RECV_URL_MAX);
    struct recv_response resp;
    struct osv_change *ch = NULL;
    size_t n = 0;
    char *list = NULL;
    kb_err e = eco_url(r, eco, "modified_id.csv", 15, "", &u);
    if (e == KB_OK)
        e = feed_get(r, u.p, NULL, 0, NULL, &resp, why);
    if (e != KB_OK)
        goto out;
    /* The list's text outlives the next requests, which reuse the
     * client's body buffer. */
    list = kb_malloc(resp.body.n + 1);
    memcpy(list, resp.body.p, resp.body.n);
    list[resp.body.n] = '\0';
    size_t list_len = resp.body.n;
    /* A first sync needs only the newest time. */
    e = parse_list(r, eco, list, list_len, cursor_ms, cursor_ms < 0 ? 1 : SIZE_MAX, &ch, &n, why);
    if (e != KB_OK)
        goto out;
    if (cursor_ms < 0) {
        e = eco_url(r, eco, "all.zip", 7, "", &u);
        if (e == KB_OK)
            e = feed_get(r, u.p, NULL, 0, NULL, &resp, why);
        int64_t got = 0;
        if (e == KB_OK)
            e = feed_osv_zip(r, resp.body.p, resp.body.n, &got, why);
        if (e == KB_OK)
            feed_progress(r, got, got);
        if (e == KB_OK)
            e = n ? set_cursor(r, key, ch[0].time, ch[0].time_len, why)
                  : feed_state_set(r, key, "1970-01-01T00:00:00Z", why);
        goto out;
    }
    /* Oldest first; the cursor moves past a time only when every entry
     * at that time is delivered. */
    size_t safe = n; /* index (into ch) of the newest fully delivered time; n: none */
    size_t since_commit = 0;
    static const long gone[] = {404, 0};
    for (size_t k = n; k-- > 0;) {
        e = eco_url(r, eco, ch[k].id, ch[k].id_len, ".json", &u);
        if (e == KB_OK)
            e = feed_get(r, u.p, NULL, 0, gone, &resp, why);
        if (e != KB_OK)
            break;
        if (resp.status == 404)
            feed_warn(r, "%s/%.*s: gone (404), skipped", eco, (int)ch[k].id_len, ch[k].id);
        else if ((e = feed_osv_record(r, resp.body.p, resp.body.n, why)) != KB_OK)
            break;
        if (k == 0 || ch[k - 1].ms > ch[k].ms) {
            safe = k;
            if (++since_commit >= OSV_COMMIT_EVERY) {
                if ((e = set_cursor(r, key, ch[k].time, ch[k].time_len, why)) != KB_OK)
                    break;
                since_commit = 0;
            }
        }
        feed_progress(r, (int64_t)(n - k), (int64_t)n);
    }
    if (safe < n && (since_commit || e != KB_OK)) {
        struct kb_why w2 = {{0}};
        kb_err e2 = set_cursor(r, key, ch[safe].time, ch[safe].time_len, &w2);
        if (e == KB_OK && e2 != KB_OK) {
            e = e2;
            *why = w2;
        }
    }
out:
    free(ch);
    free(list);
    buf_release(&u);
    return e;
}

/* Every ecosystem the bucket lists in ecosystems.txt. */
static kb_err list_ecosystems(struct feed_run *r, char ***out, size_t *nout, struct kb_why *why)
{
    struct buf u = BUF_INIT(RECV_URL_MAX);
    struct recv_response resp;
    kb_err e = buf_printf(&u, "%s/ecosystems.txt", r->o.base_url);
    if (e == KB_OK)
        e = feed_get(r, u.p, NULL, 0, NULL, &resp, why);
    buf_release(&u);
    if (e != KB_OK)
        return e;
    char **v = kb_calloc(OSV_MAX_ECOSYSTEMS, sizeof *v);
    size_t n = 0;
    const char *p = resp.body.p, *end = p + resp.body.n;
    while (p < end && n < OSV_MAX_ECOSYSTEMS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        while (le > p && (le[-1] == '\r' || le[-1] == ' '))
            le--;
        if (le > p && le - p < 100)
            v[n++] = kb_strndup(p, (size_t)(le - p));
        p = nl ? nl + 1 : end;
    }
    *out = v;
    *nout = n;
    return KB_OK;
}

kb_err feed_osv_sync(struct feed_run *r, struct kb_why *why)
{
    char **listed = NULL;
    size_t n = r->o.n_ecosystems;
    const char *const *ecos = r->o.ecosystems;
    if (!n) {
        kb_err e = list_ecosystems(r, &listed, &n, why);
        if (e != KB_OK)
            return e;
        ecos = (const char *const *)listed;
    }
    /* One ecosystem failing does not stop the others; the first failure
     * is the feed's. */
    kb_err first = KB_OK;
    for (size_t i = 0; i < n; i++) {
        struct kb_why w = {{0}};
        kb_err e = sync_eco(r, ecos[i], &w);
        if (e != KB_OK && first == KB_OK) {
            first = e;
            *why = w;
        } else if (e != KB_OK) {
            feed_warn(r, "%s", w.msg);
        }
        if (e == KB_ETIMEOUT)
            break;
    }
    for (size_t i = 0; listed && i < n; i++)
        free(listed[i]);
    free(listed);
    return first;
}
