/* advisory_index.c — OSV records loaded from files, grouped, indexed by package. */
#include "vuln/advisory_index.h"
#include "vuln/advisory_index_internal.h"

#include "lib/arena.h"
#include "lib/json.h"
#include "vuln/cvss.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

kb_err advidx_new(struct advidx **out)
{
    if (!out)
        return KB_EINVAL;
    struct advidx *idx = kb_calloc(1, sizeof *idx);
    arena_init(&idx->arena, SIZE_MAX / 2);
    *out = idx;
    return KB_OK;
}

void advidx_free(struct advidx *idx)
{
    if (!idx)
        return;
    for (size_t i = 0; i < idx->nrecs; i++)
        osv_record_free(idx->recs[i]);
    free(idx->recs);
    for (size_t i = 0; i < idx->nerrors; i++)
        free(idx->errors[i]);
    free(idx->errors);
    if (idx->finished)
        osv_groups_release(&idx->groups);
    free(idx->info);
    for (size_t g = 0; g < idx->ngrps; g++)
        advidx_grp_clear(&idx->grps[g]);
    free(idx->grps);
    free(idx->freeg);
    free(idx->ids);
    for (size_t i = 0; i < idx->tabsize; i++)
        free(idx->table[i].own);
    free(idx->table);
    free(idx->postings);
    arena_release(&idx->arena);
    free(idx);
}

static void load_error(struct advidx *idx, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void load_error(struct advidx *idx, const char *name, const char *fmt, ...)
{
    idx->errors_total++;
    if (idx->nerrors >= ADVIDX_MAX_ERRORS)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(name) + strlen(msg) + 3;
    char *s = kb_malloc(n);
    snprintf(s, n, "%s: %s", name, msg);
    if (!idx->errors)
        idx->errors = kb_calloc(ADVIDX_MAX_ERRORS, sizeof *idx->errors);
    idx->errors[idx->nerrors++] = s;
}

const char *const *advidx_errors(const struct advidx *idx, size_t *n, size_t *total)
{
    if (n)
        *n = idx ? idx->nerrors : 0;
    if (total)
        *total = idx ? idx->errors_total : 0;
    return idx ? (const char *const *)idx->errors : NULL;
}

kb_err advidx_add_text(struct advidx *idx, const char *name, const char *text, size_t len,
                       struct kb_why *why)
{
    if (!idx || !name || (!text && len))
        return kb_fail(why, KB_EINVAL, "advidx_add_text: missing argument");
    if (idx->finished)
        return kb_fail(why, KB_EINVAL, "advidx_add_text: the index is finished");
    if (idx->nrecs >= ADVIDX_MAX_RECORDS)
        return kb_fail(why, KB_ETOOBIG, "more than %u advisory records", ADVIDX_MAX_RECORDS);
    struct osv_record *r = NULL;
    struct kb_why pw = {{0}};
    kb_err e = osv_parse(text ? text : "", len, &r, &pw);
    if (e != KB_OK) {
        load_error(idx, name, "%s", pw.msg[0] ? pw.msg : kb_strerror(e));
        return KB_OK;
    }
    if (idx->nrecs == idx->caprecs) {
        idx->caprecs = idx->caprecs ? idx->caprecs * 2 : 256;
        idx->recs = kb_realloc(idx->recs, idx->caprecs * sizeof *idx->recs);
    }
    idx->recs[idx->nrecs++] = r;
    return KB_OK;
}

/* ---- directory walk ---- */

struct walk {
    struct advidx *idx;
    struct advidx_limits lim;
    size_t files, bytes;
    char *text; /* one file's bytes, reused */
};

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_json(const char *s)
{
    size_t n = strlen(s);
    return n > 5 && strcmp(s + n - 5, ".json") == 0;
}

static kb_err walk_file(struct walk *w, const char *path, struct kb_why *why)
{
    if (w->files >= w->lim.max_files)
        return kb_fail(why, KB_ETOOBIG, "more than %zu advisory files", w->lim.max_files);
    w->files++;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        load_error(w->idx, path, "cannot open: %s", strerror(errno));
        return KB_OK;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        load_error(w->idx, path, "not a regular file");
        close(fd);
        return KB_OK;
    }
    if ((uint64_t)st.st_size > w->lim.max_file_bytes) {
        load_error(w->idx, path, "%lld bytes, over the limit of %zu", (long long)st.st_size,
                   w->lim.max_file_bytes);
        close(fd);
        return KB_OK;
    }
    if ((size_t)st.st_size > w->lim.max_total_bytes - w->bytes) {
        close(fd);
        return kb_fail(why, KB_ETOOBIG, "advisory files over %zu bytes in all",
                       w->lim.max_total_bytes);
    }
    size_t want = (size_t)st.st_size, got = 0;
    /* Read at most one byte beyond what stat said: a file growing under us
     * is cut at the per-file limit, never read unbounded. */
    while (got <= want && got < w->lim.max_file_bytes) {
        ssize_t k = read(fd, w->text + got, w->lim.max_file_bytes - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            load_error(w->idx, path, "read failed: %s", strerror(errno));
            close(fd);
            return KB_OK;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    w->bytes += got;
    return advidx_add_text(w->idx, path, w->text, got, why);
}

static kb_err walk_dir(struct walk *w, const char *dir, int depth, struct kb_why *why)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (depth == 0)
            return kb_fail(why, KB_EIO, "%s: %s", dir, strerror(errno));
        load_error(w->idx, dir, "cannot open directory: %s", strerror(errno));
        return KB_OK;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    kb_err e = KB_OK;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        if (n >= w->lim.max_files) {
            e = kb_fail(why, KB_ETOOBIG, "%s: more than %zu entries", dir, w->lim.max_files);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = kb_realloc(names, cap * sizeof *names);
        }
        names[n++] = kb_strdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n && e == KB_OK; i++) {
        size_t plen = strlen(dir) + strlen(names[i]) + 2;
        char *path = kb_malloc(plen);
        snprintf(path, plen, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) != 0) {
            load_error(w->idx, path, "cannot stat: %s", strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            if (depth + 1 > ADVIDX_MAX_DEPTH)
                load_error(w->idx, path, "nested deeper than %d directories",
                           ADVIDX_MAX_DEPTH);
            else
                e = walk_dir(w, path, depth + 1, why);
        } else if (S_ISREG(st.st_mode) && ends_json(names[i])) {
            e = walk_file(w, path, why);
        }
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return e;
}

kb_err advidx_add_dir(struct advidx *idx, const char *dir, const struct advidx_limits *lim,
                      struct kb_why *why)
{
    if (!idx || !dir)
        return kb_fail(why, KB_EINVAL, "advidx_add_dir: missing argument");
    if (idx->finished)
        return kb_fail(why, KB_EINVAL, "advidx_add_dir: the index is finished");
    struct walk w = {.idx = idx};
    if (lim)
        w.lim = *lim;
    if (!w.lim.max_files)
        w.lim.max_files = 1000000;
    if (!w.lim.max_total_bytes)
        w.lim.max_total_bytes = (size_t)8 << 30;
    if (!w.lim.max_file_bytes || w.lim.max_file_bytes > OSV_MAX_BYTES)
        w.lim.max_file_bytes = OSV_MAX_BYTES;
    w.text = kb_malloc(w.lim.max_file_bytes + 1);
    kb_err e = walk_dir(&w, dir, 0, why);
    free(w.text);
    return e;
}

/* ---- keys ---- */

static size_t eco_base_len(const char *eco)
{
    const char *c = strchr(eco, ':');
    return c ? (size_t)(c - eco) : strlen(eco);
}

static bool base_is(const char *eco, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(eco, lit, n) == 0;
}

bool advidx_key(const char *ecosystem, const char *name, char *out, size_t outsz)
{
    if (!ecosystem || !name || !out || outsz < 2)
        return false;
    size_t b = eco_base_len(ecosystem), nl = strlen(name);
    if (b + 1 + nl + 1 > outsz)
        return false;
    memcpy(out, ecosystem, b);
    out[b] = ':';
    char *p = out + b + 1;
    /* Mirrors osv_package_matches: names that compare equal there get the
     * same key here, so the index never hides a record osv_affects would
     * match. */
    if (base_is(ecosystem, b, "PyPI")) {
        osv_pypi_normalize(name, p, outsz - b - 1);
        return true;
    }
    bool fold = base_is(ecosystem, b, "crates.io") || base_is(ecosystem, b, "NuGet") ||
                base_is(ecosystem, b, "Packagist");
    bool crate = base_is(ecosystem, b, "crates.io");
    for (size_t i = 0; i <= nl; i++) {
        char c = name[i];
        if (fold && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (crate && c == '_')
            c = '-';
        p[i] = c;
    }
    return true;
}

uint64_t advidx_key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

/* ---- severity ---- */

static void rec_severity_from_vec(const struct osv_severity *s, size_t n, struct rec_info *ri)
{
    for (size_t i = 0; i < n; i++) {
        if (!s[i].type || !s[i].score || strncmp(s[i].type, "CVSS_V", 6) != 0)
            continue;
        struct cvss c;
        if (cvss_parse_n(s[i].score, strlen(s[i].score), CVSS_PARSE_ANY_ORDER, &c, NULL) !=
            KB_OK)
            continue;
        double sc = cvss_base_score(&c);
        if (sc > ri->score) {
            ri->score = sc;
            ri->from = s[i].score;
        }
    }
}

/* GHSA's database_specific.severity, as koban's scale; 0 when absent. */
static int ghsa_severity(const char *raw)
{
    if (!raw)
        return 0;
    struct arena a = ARENA_INIT(64u * 1024);
    struct json_value *root = NULL;
    int sev = 0;
    if (json_parse(raw, strlen(raw), NULL, &a, &root, NULL) == KB_OK) {
        struct kb_str s = json_str(json_get(root, "severity"));
        static const struct {
            const char *name;
            int sev;
        } map[] = {{"LOW", 1}, {"MODERATE", 2}, {"MEDIUM", 2}, {"HIGH", 3}, {"CRITICAL", 4}};
        for (size_t i = 0; s.p && i < KB_ARRAY_LEN(map); i++)
            if (strlen(map[i].name) == s.n && strncasecmp(s.p, map[i].name, s.n) == 0)
                sev = map[i].sev;
    }
    arena_release(&a);
    return sev;
}

void advidx_rec_severity(const struct osv_record *r, struct rec_info *ri)
{
    ri->score = -1;
    ri->from = NULL;
    ri->note = NULL;
    rec_severity_from_vec(r->severity, r->nseverity, ri);
    for (size_t i = 0; i < r->naffected; i++)
        rec_severity_from_vec(r->affected[i].severity, r->affected[i].nseverity, ri);
    if (ri->from) {
        ri->severity = cvss_koban_severity(ri->score);
        if (ri->severity < 1)
            ri->severity = 1; /* a 0.0 score still names a known vulnerability */
        return;
    }
    int g = ghsa_severity(r->database_specific);
    for (size_t i = 0; !g && i < r->naffected; i++)
        g = ghsa_severity(r->affected[i].database_specific);
    if (g) {
        ri->severity = g;
        ri->from = "database_specific";
        return;
    }
    ri->severity = 2; /* medium: see the header */
    ri->from = "none";
    ri->note = "no CVSS vector";
}

/* ---- finish ---- */

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return (x->rec > y->rec) - (x->rec < y->rec);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted, distinct ids of members[0..n) and their aliases, but key,
 * into *list (kb_malloc'd when own, else in the arena; NULL when none). */
kb_err advidx_group_aliases(struct advidx *idx, const size_t *members, size_t n,
                            const char *key, bool own, const char ***list, size_t *nlist)
{
    size_t total = 0;
    for (size_t m = 0; m < n; m++)
        total += 1 + idx->recs[members[m]]->naliases;
    const char **tmp = kb_malloc((total ? total : 1) * sizeof *tmp);
    size_t k = 0;
    for (size_t m = 0; m < n; m++) {
        const struct osv_record *r = idx->recs[members[m]];
        tmp[k++] = r->id;
        for (size_t a = 0; a < r->naliases; a++)
            tmp[k++] = r->aliases[a];
    }
    if (k)
        qsort(tmp, k, sizeof *tmp, str_cmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (strcmp(tmp[i], key) != 0 && (u == 0 || strcmp(tmp[u - 1], tmp[i]) != 0))
            tmp[u++] = tmp[i];
    *list = NULL;
    *nlist = u;
    if (!u) {
        free(tmp);
        return KB_OK;
    }
    if (own) {
        *list = tmp;
        return KB_OK;
    }
    *list = arena_alloc(&idx->arena, u * sizeof **list);
    if (*list)
        memcpy(*list, tmp, u * sizeof **list);
    free(tmp);
    return *list ? KB_OK : KB_ETOOBIG;
}

static kb_err build_groups(struct advidx *idx, struct kb_why *why)
{
    idx->ngrps = idx->capgrps = idx->nlive = idx->groups.n;
    idx->grps = kb_calloc(idx->ngrps ? idx->ngrps : 1, sizeof *idx->grps);
    for (size_t g = 0; g < idx->groups.n; g++) {
        const struct osv_group *gr = &idx->groups.groups[g];
        struct advidx_grp *x = &idx->grps[g];
        x->key = gr->key;
        x->members = gr->members;
        x->n = gr->n;
        if (advidx_group_aliases(idx, gr->members, gr->n, gr->key, false, &x->aliases,
                                 &x->naliases) != KB_OK)
            return kb_fail(why, KB_ETOOBIG, "advisory index: out of arena");
        for (size_t m = 0; m < gr->n; m++) {
            const struct osv_record *r = idx->recs[gr->members[m]];
            advidx_id_put(idx, r->id, (uint32_t)g);
            for (size_t a = 0; a < r->naliases; a++)
                advidx_id_put(idx, r->aliases[a], (uint32_t)g);
        }
    }
    return KB_OK;
}

void advidx_make_hit(const struct advidx *idx, uint32_t ri, const struct osv_match *m,
                     struct advidx_hit *hit)
{
    const struct rec_info *inf = &idx->info[ri];
    const struct advidx_grp *g = &idx->grps[inf->group];
    *hit = (struct advidx_hit){
        .record = idx->recs[ri],
        .match = m,
        .group_key = g->key,
        .aliases = g->aliases,
        .naliases = g->naliases,
        .severity = inf->severity,
        .score = inf->score,
        .severity_from = inf->from,
        .note = inf->note,
    };
}

const struct slot *advidx_slot(const struct advidx *idx, const char *key)
{
    if (!idx->table)
        return NULL;
    size_t h = advidx_key_hash(key) & (idx->tabsize - 1);
    for (size_t probes = 0; probes < idx->tabsize && idx->table[h].key; probes++) {
        if (strcmp(idx->table[h].key, key) == 0)
            return &idx->table[h];
        h = (h + 1) & (idx->tabsize - 1);
    }
    return NULL;
}

static kb_err build_table(struct advidx *idx, struct kb_why *why)
{
    struct pair *pairs = NULL;
    size_t np = 0, cap = 0;
    char *key = kb_malloc(KEY_MAX);
    kb_err e = KB_OK;
    for (size_t i = 0; i < idx->nrecs && e == KB_OK; i++) {
        if (idx->groups.group_of[i] == OSV_NO_INDEX)
            continue;
        const struct osv_record *r = idx->recs[i];
        for (size_t a = 0; a < r->naffected; a++) {
            const struct osv_package *p = &r->affected[a].package;
            if (!p->ecosystem || !p->name || !advidx_key(p->ecosystem, p->name, key, KEY_MAX))
                continue;
            if (np == cap) {
                cap = cap ? cap * 2 : 1024;
                pairs = kb_realloc(pairs, cap * sizeof *pairs);
            }
            char *k = arena_strndup(&idx->arena, key, strlen(key));
            if (!k) {
                e = kb_fail(why, KB_ETOOBIG, "advisory index: out of arena");
                break;
            }
            pairs[np++] = (struct pair){k, (uint32_t)i};
        }
    }
    free(key);
    if (e != KB_OK) {
        free(pairs);
        return e;
    }
    if (np)
        qsort(pairs, np, sizeof *pairs, pair_cmp);
    size_t nkeys = 0;
    for (size_t i = 0; i < np; i++)
        if (i == 0 || strcmp(pairs[i].key, pairs[i - 1].key) != 0)
            nkeys++;
    idx->tabsize = 16;
    while (idx->tabsize < nkeys * 2)
        idx->tabsize *= 2;
    idx->table = kb_calloc(idx->tabsize, sizeof *idx->table);
    idx->postings = kb_malloc((np ? np : 1) * sizeof *idx->postings);
    size_t npost = 0;
    for (size_t i = 0; i < np;) {
        size_t j = i;
        uint32_t start = (uint32_t)npost;
        for (; j < np && strcmp(pairs[j].key, pairs[i].key) == 0; j++)
            if (j == i || pairs[j].rec != pairs[j - 1].rec) /* one record once per key */
                idx->postings[npost++] = pairs[j].rec;
        size_t h = advidx_key_hash(pairs[i].key) & (idx->tabsize - 1);
        while (idx->table[h].key)
            h = (h + 1) & (idx->tabsize - 1);
        idx->table[h] = (struct slot){pairs[i].key, start, (uint32_t)(npost - start), NULL, 0};
        i = j;
    }
    idx->nkeys = nkeys;
    free(pairs);
    return KB_OK;
}

kb_err advidx_finish(struct advidx *idx, struct kb_why *why)
{
    if (!idx)
        return kb_fail(why, KB_EINVAL, "advidx_finish: missing index");
    if (idx->finished)
        return KB_OK;
    kb_err e = osv_group((const struct osv_record *const *)idx->recs, idx->nrecs, &idx->groups,
                         why);
    if (e != KB_OK)
        return e;
    idx->finished = true;
    idx->info = kb_calloc(idx->nrecs ? idx->nrecs : 1, sizeof *idx->info);
    for (size_t i = 0; i < idx->nrecs; i++) {
        idx->info[i].group = idx->groups.group_of[i];
        if (idx->info[i].group != OSV_NO_INDEX)
            advidx_rec_severity(idx->recs[i], &idx->info[i]);
    }
    idx->nwithdrawn = idx->groups.nwithdrawn;
    idx->nsuperseded = idx->groups.nsuperseded;
    e = build_groups(idx, why);
    if (e == KB_OK)
        e = build_table(idx, why);
    return e;
}

void advidx_stats(const struct advidx *idx, struct advidx_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!idx)
        return;
    out->records = idx->nrecs;
    if (!idx->finished)
        return;
    out->withdrawn = idx->nwithdrawn;
    out->superseded = idx->nsuperseded;
    out->kept = idx->nrecs - out->withdrawn - out->superseded;
    out->groups = idx->nlive;
    out->keys = idx->nkeys;
}

kb_err advidx_match(const struct advidx *idx, const char *ecosystem, const char *name,
                    const char *version, advidx_cb cb, void *ctx, size_t *unsure)
{
    if (unsure)
        *unsure = 0;
    if (!idx || !idx->finished || !ecosystem || !name || !version || !cb)
        return KB_EINVAL;
    if (!idx->table || !*version)
        return KB_OK;
    char key[KEY_MAX];
    if (!advidx_key(ecosystem, name, key, sizeof key))
        return KB_OK; /* longer than any indexed name */
    const struct slot *sl = advidx_slot(idx, key);
    if (!sl)
        return KB_OK;
    const uint32_t *post = sl->own ? sl->own : idx->postings + sl->start;
    for (uint32_t i = 0; i < sl->n; i++) {
        uint32_t ri = post[i];
        struct osv_match m;
        if (idx->info[ri].group == OSV_NO_INDEX ||
            osv_affects(idx->recs[ri], ecosystem, name, version, &m, NULL) != KB_OK)
            continue;
        if (m.verdict == OSV_NOT_EVALUABLE && unsure)
            (*unsure)++;
        if (m.verdict != OSV_AFFECTED)
            continue;
        struct advidx_hit hit;
        advidx_make_hit(idx, ri, &m, &hit);
        kb_err e = cb(ctx, &hit);
        if (e != KB_OK)
            return e;
    }
    return KB_OK;
}
