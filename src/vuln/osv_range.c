/* osv_range.c — whether a package version is affected by an OSV record
 * (osv_affects, osv.h): package and ecosystem matching, the versions list,
 * and range evaluation as the OSV specification's pseudo-code does it.
 *
 * The specification sorts a range's events and walks them in order,
 * letting each event at or below the version set the state (introduced:
 * affected; fixed: not; last_affected, only when strictly below: not). The
 * state after the walk is therefore the effect of the last event, in that
 * order, that applies to the version. We find that event directly — the
 * greatest applying event by (version, position in the record) — which is
 * the same answer as a stable sort followed by the walk, with n
 * comparisons instead of n log n, and without comparing events that do not
 * apply. Equal versions keep the record's order (a stable sort), so
 * "introduced X, fixed X" is an empty range and "fixed X, introduced X"
 * starts a new one at X. */
#include "vuln/osv.h"

#include <stdio.h>
#include <strings.h>

#include "vuln/version.h"

/* Length of an ecosystem's base name (before the first ':'). */
static size_t eco_base_len(const char *eco)
{
    const char *c = strchr(eco, ':');
    return c ? (size_t)(c - eco) : strlen(eco);
}

static bool base_is(const char *eco, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(eco, name, n) == 0;
}

/* The next character of a PEP 503 normalized name, advancing *s; 0 at the
 * end. A run of '-', '_', '.' reads as one '-'. */
static char pep503_next(const char **s)
{
    char c = **s;
    if (!c)
        return 0;
    if (c == '-' || c == '_' || c == '.') {
        while (**s == '-' || **s == '_' || **s == '.')
            (*s)++;
        return '-';
    }
    (*s)++;
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

void osv_pypi_normalize(const char *name, char *out, size_t outsz)
{
    size_t n = 0;
    if (!outsz)
        return;
    for (char c; name && n + 1 < outsz && (c = pep503_next(&name));)
        out[n++] = c;
    out[n] = '\0';
}

static bool pypi_name_eq(const char *a, const char *b)
{
    for (;;) {
        char ca = pep503_next(&a), cb = pep503_next(&b);
        if (ca != cb)
            return false;
        if (!ca)
            return true;
    }
}

/* crates.io: ASCII case-insensitive, '-' and '_' the same. */
static bool crate_name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        char ca = *a == '_' ? '-' : *a, cb = *b == '_' ? '-' : *b;
        if (ca >= 'A' && ca <= 'Z')
            ca = (char)(ca - 'A' + 'a');
        if (cb >= 'A' && cb <= 'Z')
            cb = (char)(cb - 'A' + 'a');
        if (ca != cb)
            return false;
        if (!ca)
            return true;
    }
}

bool osv_package_matches(const char *rec_ecosystem, const char *rec_name, const char *ecosystem,
                         const char *package, bool *release_assumed)
{
    if (release_assumed)
        *release_assumed = false;
    if (!rec_ecosystem || !rec_name || !ecosystem || !package)
        return false;
    size_t rb = eco_base_len(rec_ecosystem), qb = eco_base_len(ecosystem);
    if (rb != qb || memcmp(rec_ecosystem, ecosystem, rb) != 0)
        return false;
    if (rec_ecosystem[rb] == ':') {
        if (ecosystem[qb] != ':') {
            if (release_assumed)
                *release_assumed = true;
        } else if (strcmp(rec_ecosystem + rb + 1, ecosystem + qb + 1) != 0) {
            return false;
        }
    }
    if (base_is(ecosystem, qb, "PyPI"))
        return pypi_name_eq(rec_name, package);
    if (base_is(ecosystem, qb, "crates.io"))
        return crate_name_eq(rec_name, package);
    if (base_is(ecosystem, qb, "NuGet") || base_is(ecosystem, qb, "Packagist"))
        return strcasecmp(rec_name, package) == 0;
    return strcmp(rec_name, package) == 0;
}

enum rv { RV_NO = 0, RV_YES, RV_UNKNOWN, RV_SKIP };

struct rres {
    const char *fixed;
    const char *last_affected;
};

static bool intro0(const struct osv_event *e)
{
    return e->kind == OSV_EV_INTRODUCED && strcmp(e->value, "0") == 0;
}

/* Orders two events as the specification sorts them: introduced "0" first. */
static kb_err ev_cmp(enum version_eco ord, const struct osv_event *a, const struct osv_event *b,
                     int *c, struct kb_why *why)
{
    bool za = intro0(a), zb = intro0(b);
    if (za || zb) {
        *c = za && zb ? 0 : za ? -1 : 1;
        return KB_OK;
    }
    return version_compare(ord, a->value, b->value, c, why);
}

/* Evaluates one SEMVER or ECOSYSTEM range under ordering ord. */
static enum rv eval_range(const struct osv_range *rg, enum version_eco ord, const char *version,
                          struct rres *res, struct kb_why *why)
{
    struct kb_why cw = {{0}};
    int c;
    /* BeforeLimits: with limit events, the version must be below one. */
    bool has_limit = false, before = false;
    for (size_t i = 0; i < rg->nevents; i++) {
        const struct osv_event *e = &rg->events[i];
        if (e->kind != OSV_EV_LIMIT)
            continue;
        has_limit = true;
        if (strchr(e->value, '*')) {
            before = true;
            continue;
        }
        if (version_compare(ord, version, e->value, &c, &cw))
            goto bad;
        if (c < 0)
            before = true;
    }
    if (has_limit && !before)
        return RV_NO;
    /* The last applying event in sorted order decides. */
    const struct osv_event *best = NULL;
    for (size_t i = 0; i < rg->nevents; i++) {
        const struct osv_event *e = &rg->events[i];
        if (e->kind == OSV_EV_LIMIT)
            continue;
        bool applies;
        if (intro0(e)) {
            applies = true;
        } else {
            if (version_compare(ord, version, e->value, &c, &cw))
                goto bad;
            applies = e->kind == OSV_EV_LAST_AFFECTED ? c > 0 : c >= 0;
        }
        if (!applies)
            continue;
        if (best) {
            if (ev_cmp(ord, e, best, &c, &cw))
                goto bad;
            if (c < 0)
                continue;
        }
        best = e; /* equal versions: the later in the record, as a stable sort */
    }
    if (!best || best->kind != OSV_EV_INTRODUCED)
        return RV_NO;
    /* Where it ends: the smallest fixed (else last_affected) above. */
    for (size_t i = 0; i < rg->nevents; i++) {
        const struct osv_event *e = &rg->events[i];
        if (e->kind != OSV_EV_FIXED && e->kind != OSV_EV_LAST_AFFECTED)
            continue;
        if (version_compare(ord, e->value, version, &c, &cw))
            goto bad;
        if (e->kind == OSV_EV_FIXED ? c <= 0 : c < 0)
            continue;
        const char **slot = e->kind == OSV_EV_FIXED ? &res->fixed : &res->last_affected;
        if (*slot) {
            if (version_compare(ord, e->value, *slot, &c, &cw))
                goto bad;
            if (c >= 0)
                continue;
        }
        *slot = e->value;
    }
    return RV_YES;
bad:
    kb_fail(why, KB_EINVAL, "%s", cw.msg);
    return RV_UNKNOWN;
}

/* The smallest fixed above version in any comparable range of an entry
 * (for a version matched by the versions list). */
static const char *entry_fixed(const struct osv_affected *a, bool have_eco, enum version_eco eco,
                               const char *version)
{
    const char *best = NULL;
    enum version_eco best_ord = VERSION_SEMVER;
    for (size_t i = 0; i < a->nranges; i++) {
        const struct osv_range *rg = &a->ranges[i];
        enum version_eco ord;
        if (rg->type == OSV_RANGE_SEMVER)
            ord = VERSION_SEMVER;
        else if (rg->type == OSV_RANGE_ECOSYSTEM && have_eco)
            ord = eco;
        else
            continue;
        for (size_t j = 0; j < rg->nevents; j++) {
            const struct osv_event *e = &rg->events[j];
            int c;
            if (e->kind != OSV_EV_FIXED || version_compare(ord, e->value, version, &c, NULL) ||
                c <= 0)
                continue;
            if (best &&
                (best_ord != ord || version_compare(ord, e->value, best, &c, NULL) || c >= 0))
                continue;
            best = e->value;
            best_ord = ord;
        }
    }
    return best;
}

static const char *range_type_name(const struct osv_range *rg)
{
    return rg->type_name ? rg->type_name : "?";
}

/* Evaluates one entry whose package matches. why gets the reason. */
static enum osv_verdict eval_entry(const struct osv_affected *a, size_t ai, const char *version,
                                   struct osv_match *m, struct kb_why *why)
{
    enum version_eco eco = VERSION_SEMVER;
    bool have_eco = version_eco_parse(a->package.ecosystem, &eco) == KB_OK;
    bool listed = false;
    for (size_t i = 0; i < a->nversions && !listed; i++)
        listed = strcmp(a->versions[i], version) == 0;
    struct kb_why unknown = {{0}};
    size_t unknown_range = OSV_NO_INDEX;
    size_t ngit = 0;
    for (size_t i = 0; i < a->nranges; i++) {
        const struct osv_range *rg = &a->ranges[i];
        enum version_eco ord;
        struct kb_why rw = {{0}};
        if (rg->type == OSV_RANGE_GIT) {
            ngit++;
            continue; /* commits, not versions: the versions list speaks for them */
        }
        if (rg->type == OSV_RANGE_SEMVER) {
            ord = VERSION_SEMVER;
        } else if (rg->type == OSV_RANGE_ECOSYSTEM && have_eco) {
            ord = eco;
        } else {
            if (unknown_range == OSV_NO_INDEX) {
                unknown_range = i;
                if (rg->type == OSV_RANGE_OTHER)
                    kb_fail(&unknown, KB_EUNSUPPORTED,
                            "affected[%zu].ranges[%zu]: range type %s is not defined by OSV", ai, i,
                            range_type_name(rg));
                else
                    kb_fail(&unknown, KB_EUNSUPPORTED,
                            "affected[%zu].ranges[%zu]: koban has no version ordering for "
                            "ecosystem '%s'",
                            ai, i, a->package.ecosystem);
            }
            continue;
        }
        struct rres res = {0};
        enum rv v = eval_range(rg, ord, version, &res, &rw);
        if (v == RV_YES) {
            m->range_index = i;
            m->in_versions = listed;
            m->fixed = res.fixed;
            m->last_affected = res.fixed ? NULL : res.last_affected;
            m->ecosystem_used = version_eco_name(ord);
            kb_fail(why, KB_OK, "affected[%zu].ranges[%zu] (%s, %s ordering): %s is in range%s%s",
                    ai, i, range_type_name(rg), version_eco_name(ord), version,
                    res.fixed ? ", fixed in " : "", res.fixed ? res.fixed : "");
            return OSV_AFFECTED;
        }
        if (v == RV_UNKNOWN && unknown_range == OSV_NO_INDEX) {
            unknown_range = i;
            kb_fail(&unknown, KB_EINVAL, "affected[%zu].ranges[%zu] (%s, %s ordering): %s", ai, i,
                    range_type_name(rg), version_eco_name(ord), rw.msg);
        }
    }
    if (listed) {
        m->in_versions = true;
        m->fixed = entry_fixed(a, have_eco, eco, version);
        kb_fail(why, KB_OK, "affected[%zu]: %s is listed in versions", ai, version);
        return OSV_AFFECTED;
    }
    if (unknown_range != OSV_NO_INDEX) {
        m->range_index = unknown_range;
        kb_fail(why, KB_OK, "%s", unknown.msg);
        return OSV_NOT_EVALUABLE;
    }
    kb_fail(why, KB_OK, "affected[%zu]: %s is in no range%s and not in versions", ai, version,
            ngit ? " (GIT ranges are not comparable with versions)" : "");
    return OSV_NOT_AFFECTED;
}

kb_err osv_affects(const struct osv_record *r, const char *ecosystem, const char *package,
                   const char *version, struct osv_match *out, struct kb_why *why)
{
    if (!out)
        return kb_fail(why, KB_EINVAL, "osv_affects: no output");
    memset(out, 0, sizeof *out);
    out->affected_index = out->range_index = OSV_NO_INDEX;
    if (!r || !ecosystem || !package || !version || !version[0])
        return kb_fail(why, KB_EINVAL, "osv_affects: missing argument");
    struct osv_match first_unknown = {0};
    struct kb_why unknown_why = {{0}}, last_why = {{0}};
    bool have_unknown = false, any_pkg = false;
    for (size_t i = 0; i < r->naffected; i++) {
        const struct osv_affected *a = &r->affected[i];
        bool assumed = false;
        if (!osv_package_matches(a->package.ecosystem, a->package.name, ecosystem, package,
                                 &assumed))
            continue;
        any_pkg = true;
        struct osv_match m = {
            .affected_index = i, .range_index = OSV_NO_INDEX, .release_assumed = assumed};
        struct kb_why w = {{0}};
        enum osv_verdict v = eval_entry(a, i, version, &m, &w);
        if (v == OSV_AFFECTED && assumed) {
            v = OSV_NOT_EVALUABLE;
            char tail[sizeof w.msg];
            snprintf(tail, sizeof tail, "%s", w.msg);
            kb_fail(&w, KB_OK, "%s; but the record is for %s and no release was given", tail,
                    a->package.ecosystem);
        }
        m.verdict = v;
        if (v == OSV_AFFECTED) {
            *out = m;
            kb_fail(why, KB_OK, "%s: %s", r->id, w.msg);
            return KB_OK;
        }
        if (v == OSV_NOT_EVALUABLE && !have_unknown) {
            have_unknown = true;
            first_unknown = m;
            unknown_why = w;
        }
        last_why = w;
    }
    if (have_unknown) {
        *out = first_unknown;
        kb_fail(why, KB_OK, "%s: %s", r->id, unknown_why.msg);
    } else if (!any_pkg) {
        kb_fail(why, KB_OK, "%s: no affected entry names %s/%s", r->id, ecosystem, package);
    } else {
        kb_fail(why, KB_OK, "%s: %s", r->id, last_why.msg);
    }
    return KB_OK;
}
