/* test_advisory_index.c — the advisory index: records written here (two
 * packages, ranges, aliases merged, withdrawn dropped, PyPI names), the
 * severity of a finding (CVSS 3.1, CVSS 4.0 out of order, GHSA
 * database_specific, none), load errors and the directory walk; one
 * record replaced in a finished index (a fix added, withdrawn, aliases
 * added and removed, packages moved, a new id) and its findings across an
 * asset index. */
#include "test.h"
#include "vuln/advisory_index.h"
#include "vuln/asset_index.h"
#include "vuln/cvss.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define V31 "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
/* v4.0 with VA before VC: GHSA publishes such orders. */
#define V40_ANY "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VA:N/VC:L/VI:L/SC:N/SI:N/SA:N"
#define V40_SPEC "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"

static const char *recs[] = {
    /* npm left-pad: introduced 0, fixed 1.3.0; aliased to a CVE. */
    "{\"id\":\"GHSA-aaaa\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":[\"CVE-2024-1\"],"
    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"" V31 "\"}],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"left-pad\"},"
    "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.3.0\"}]}]}]}",
    /* The CVE record of the same vulnerability: joins GHSA-aaaa's group. */
    "{\"id\":\"CVE-2024-1\",\"modified\":\"2024-01-02T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"left-pad\"},"
    "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"1.0.0\"},{\"fixed\":\"1.3.0\"}]}]}]}",
    /* PyPI Foo_Bar, two ranges, CVSS 4.0 out of order. */
    "{\"id\":\"PYSEC-1\",\"modified\":\"2024-01-01T00:00:00Z\","
    "\"severity\":[{\"type\":\"CVSS_V4\",\"score\":\"" V40_ANY "\"}],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"Foo_Bar\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"1.0\"},{\"fixed\":\"1.2\"},"
    "{\"introduced\":\"2.0\"},{\"fixed\":\"2.0.5\"}]}]}]}",
    /* GHSA severity only, last_affected. */
    "{\"id\":\"GHSA-bbbb\",\"modified\":\"2024-01-01T00:00:00Z\","
    "\"database_specific\":{\"severity\":\"MODERATE\"},"
    "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"lodash\"},"
    "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"4.0.0\"},{\"last_affected\":\"4.17.20\"}]}]}]}",
    /* No severity at all; a versions list. */
    "{\"id\":\"OSV-NONE\",\"modified\":\"2024-01-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"lodash\"},"
    "\"versions\":[\"4.17.5\"]}]}",
    /* Withdrawn: never matches. */
    "{\"id\":\"GHSA-gone\",\"modified\":\"2024-01-01T00:00:00Z\",\"withdrawn\":\"2024-02-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"lodash\"},"
    "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"}]}]}]}",
    /* An older copy of GHSA-bbbb with a wider range: superseded. */
    "{\"id\":\"GHSA-bbbb\",\"modified\":\"2023-01-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"lodash\"},"
    "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"}]}]}]}",
};

struct got {
    char ids[8][64];
    char fixed[8][32];
    int sev[8];
    double score[8];
    char note[8][32];
    char key[8][64];
    size_t naliases[8];
    char alias0[8][64];
    size_t n;
};

static kb_err collect(void *ctx, const struct advidx_hit *h)
{
    struct got *g = ctx;
    if (g->n >= 8)
        return KB_ETOOBIG;
    snprintf(g->ids[g->n], sizeof g->ids[0], "%s", h->record->id);
    snprintf(g->fixed[g->n], sizeof g->fixed[0], "%s", h->match->fixed ? h->match->fixed : "-");
    snprintf(g->note[g->n], sizeof g->note[0], "%s", h->note ? h->note : "");
    snprintf(g->key[g->n], sizeof g->key[0], "%s", h->group_key);
    snprintf(g->alias0[g->n], sizeof g->alias0[0], "%s", h->naliases ? h->aliases[0] : "");
    g->sev[g->n] = h->severity;
    g->score[g->n] = h->score;
    g->naliases[g->n] = h->naliases;
    g->n++;
    return KB_OK;
}

static struct advidx *build(void)
{
    struct advidx *idx = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(advidx_new(&idx), KB_OK);
    for (size_t i = 0; i < KB_ARRAY_LEN(recs); i++)
        T_EQ_INT(advidx_add_text(idx, "mem", recs[i], strlen(recs[i]), &why), KB_OK);
    T_EQ_INT(advidx_finish(idx, &why), KB_OK);
    return idx;
}

static void test_match_and_groups(void)
{
    struct advidx *idx = build();
    struct advidx_stats st;
    advidx_stats(idx, &st);
    T_EQ_INT(st.records, 7);
    T_EQ_INT(st.withdrawn, 1);
    T_EQ_INT(st.superseded, 1);
    T_EQ_INT(st.kept, 5);
    T_EQ_INT(st.groups, 4);
    T_EQ_INT(st.keys, 3); /* npm:left-pad, npm:lodash, PyPI:foo-bar */

    struct got g = {0};
    size_t unsure = 9;
    T_EQ_INT(advidx_match(idx, "npm", "left-pad", "1.2.0", collect, &g, &unsure), KB_OK);
    T_EQ_INT(unsure, 0);
    T_EQ_INT(g.n, 2); /* both records of the group; load order */
    T_EQ_STR(g.ids[0], "GHSA-aaaa");
    T_EQ_STR(g.ids[1], "CVE-2024-1");
    T_EQ_STR(g.key[0], "CVE-2024-1");
    T_EQ_STR(g.key[1], "CVE-2024-1");
    T_EQ_INT(g.naliases[0], 1);
    T_EQ_STR(g.alias0[0], "GHSA-aaaa");
    T_EQ_STR(g.fixed[0], "1.3.0");
    T_EQ_INT(g.sev[0], 4); /* 9.8 */
    T_CHECK(g.score[0] > 9.75 && g.score[0] < 9.85);
    T_EQ_INT(g.sev[1], 2); /* the CVE record has no vector */
    T_EQ_STR(g.note[1], "no CVSS vector");

    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "npm", "left-pad", "0.9.0", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 1); /* only GHSA-aaaa starts at 0 */
    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "npm", "left-pad", "1.3.0", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 0); /* fixed is exclusive */
    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "npm", "Left-Pad", "1.2.0", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 0); /* npm names are exact */

    /* lodash: GHSA from database_specific; the withdrawn and superseded
     * records (introduced 0) never match 3.0.0. */
    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "npm", "lodash", "3.0.0", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 0);
    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "npm", "lodash", "4.17.20", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 1);
    T_EQ_STR(g.ids[0], "GHSA-bbbb");
    T_EQ_INT(g.sev[0], 2); /* MODERATE */
    T_CHECK(g.score[0] < 0);
    T_EQ_STR(g.note[0], "");
    T_EQ_STR(g.fixed[0], "-");
    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "npm", "lodash", "4.17.5", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 2); /* the range and OSV-NONE's versions list */
    T_EQ_STR(g.ids[1], "OSV-NONE");
    T_EQ_INT(g.sev[1], 2);
    T_EQ_STR(g.note[1], "no CVSS vector");

    /* PyPI: PEP 503 names; the second range and its fix. */
    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "PyPI", "foo.bar", "2.0.1", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 1);
    T_EQ_STR(g.fixed[0], "2.0.5");
    struct cvss c;
    T_EQ_INT(cvss_parse(V40_SPEC, &c, NULL), KB_OK);
    T_CHECK(g.score[0] == cvss_base_score(&c));
    T_EQ_INT(g.sev[0], cvss_koban_severity(cvss_base_score(&c)));
    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "PyPI", "FOO--BAR", "1.1", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 1);
    T_EQ_STR(g.fixed[0], "1.2");
    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "PyPI", "foo-bar", "1.5", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 0);
    T_EQ_INT(advidx_match(idx, "PyPI", "nothing", "1.5", collect, &g, NULL), KB_OK);
    T_EQ_INT(advidx_match(idx, "Go", "left-pad", "1.2.0", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 0);
    advidx_free(idx);
}

static void test_keys(void)
{
    char k[64];
    T_CHECK(advidx_key("PyPI", "Foo._-Bar", k, sizeof k));
    T_EQ_STR(k, "PyPI:foo-bar");
    T_CHECK(advidx_key("crates.io", "Serde_JSON", k, sizeof k));
    T_EQ_STR(k, "crates.io:serde-json");
    T_CHECK(advidx_key("Debian:12", "OpenSSL", k, sizeof k));
    T_EQ_STR(k, "Debian:OpenSSL");
    T_CHECK(advidx_key("NuGet", "Newtonsoft.Json", k, sizeof k));
    T_EQ_STR(k, "NuGet:newtonsoft.json");
    T_CHECK(!advidx_key("npm", "a-name-longer-than-the-buffer", k, 8));
}

static void test_errors_and_dir(void)
{
    char dir[] = "/tmp/advidx-XXXXXX";
    T_CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/sub", dir);
    T_EQ_INT(mkdir(path, 0700), 0);
    struct {
        const char *name, *text;
    } files[] = {
        {"a.json", recs[0]},
        {"sub/b.json", recs[2]},
        {"sub/broken.json", "{\"id\":\"X\",\"modified\":\"yesterday\"}"},
        {"notes.txt", "not read"},
        {"sub/trunc.json", "{\"id\":"},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        FILE *f = fopen(path, "w");
        T_CHECK(f != NULL);
        if (f) {
            fputs(files[i].text, f);
            fclose(f);
        }
    }
    struct advidx *idx = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(advidx_new(&idx), KB_OK);
    T_EQ_INT(advidx_add_dir(idx, dir, NULL, &why), KB_OK);
    size_t n = 0, total = 0;
    const char *const *errs = advidx_errors(idx, &n, &total);
    T_EQ_INT(n, 2);
    T_EQ_INT(total, 2);
    T_CHECKF(n == 2 && strstr(errs[0], "sub/broken.json: ") && strstr(errs[0], "modified"), "%s",
             n ? errs[0] : "");
    T_CHECK(n == 2 && strstr(errs[1], "sub/trunc.json: "));
    T_EQ_INT(advidx_finish(idx, &why), KB_OK);
    struct advidx_stats st;
    advidx_stats(idx, &st);
    T_EQ_INT(st.records, 2);
    T_EQ_INT(advidx_add_text(idx, "late", recs[1], strlen(recs[1]), &why), KB_EINVAL);
    advidx_free(idx);

    /* Limits: one file only. */
    struct advidx_limits lim = {.max_files = 1};
    T_EQ_INT(advidx_new(&idx), KB_OK);
    T_EQ_INT(advidx_add_dir(idx, dir, &lim, &why), KB_ETOOBIG);
    advidx_free(idx);
    T_EQ_INT(advidx_new(&idx), KB_OK);
    T_EQ_INT(advidx_add_dir(idx, "/nonexistent/advidx", NULL, &why), KB_EIO);
    struct got g = {0};
    T_EQ_INT(advidx_match(idx, "npm", "x", "1", collect, &g, NULL), KB_EINVAL); /* not finished */
    advidx_free(idx);

    for (size_t i = 0; i < KB_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
}


/* ---- replace and findings ---- */

#define REC(id, extra, pkg, events)                                                          \
    "{\"id\":\"" id "\",\"modified\":\"2024-03-01T00:00:00Z\"" extra ",\"affected\":[{"      \
    "\"package\":{\"ecosystem\":\"npm\",\"name\":\"" pkg "\"},\"ranges\":[{\"type\":"        \
    "\"SEMVER\",\"events\":[" events "]}]}]}"

struct fgot {
    char row[8][160];
    size_t n;
};

static kb_err fcollect(void *ctx, const struct assetidx_entry *a, const struct advidx_hit *h)
{
    struct fgot *g = ctx;
    if (g->n >= 8)
        return KB_ETOOBIG;
    snprintf(g->row[g->n++], sizeof g->row[0], "%s %s@%s %s fixed=%s group=%s n=%zu", a->asset,
             a->name, a->version, h->record->id, h->match->fixed ? h->match->fixed : "-",
             h->group_key, h->naliases);
    return KB_OK;
}

static struct assetidx *assets(void)
{
    struct assetidx *ai = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(assetidx_new(&ai), KB_OK);
    struct inventory inv = INVENTORY_INIT;
    T_EQ_INT(inventory_add(&inv, "npm", (struct kb_str){"left-pad", 8},
                           (struct kb_str){"1.2.0", 5}, NULL, NULL, "package-lock.json:7", false),
             KB_OK);
    T_EQ_INT(inventory_add(&inv, "npm", (struct kb_str){"lodash", 6},
                           (struct kb_str){"4.17.5", 6}, NULL, NULL, NULL, false),
             KB_OK);
    T_EQ_INT(assetidx_add(ai, "web-1", &inv, &why), KB_OK);
    inventory_release(&inv);
    T_EQ_INT(inventory_add(&inv, "npm", (struct kb_str){"left-pad", 8},
                           (struct kb_str){"0.5.0", 5}, NULL, NULL, NULL, false),
             KB_OK);
    T_EQ_INT(assetidx_add(ai, "web-2", &inv, &why), KB_OK);
    inventory_release(&inv);
    return ai;
}

static void test_replace_fix_and_withdraw(void)
{
    struct advidx *idx = build();
    struct assetidx *ai = assets();
    struct kb_why why = {{0}};
    struct fgot f = {0};
    size_t unsure = 9;
    T_EQ_INT(advidx_findings(idx, "GHSA-aaaa", ai, fcollect, &f, &unsure), KB_OK);
    T_EQ_INT(unsure, 0);
    T_EQ_INT(f.n, 2);
    T_EQ_STR(f.row[0], "web-1 left-pad@1.2.0 GHSA-aaaa fixed=1.3.0 group=CVE-2024-1 n=1");
    T_EQ_STR(f.row[1], "web-2 left-pad@0.5.0 GHSA-aaaa fixed=1.3.0 group=CVE-2024-1 n=1");

    /* The fix moves to 1.2.5: the finding's fixed version follows; 0.5.0
     * is no longer in the range. */
    const char *fix = REC("GHSA-aaaa", ",\"aliases\":[\"CVE-2024-1\"]", "left-pad",
                          "{\"introduced\":\"1.0.0\"},{\"fixed\":\"1.2.5\"}");
    const struct osv_record *r = NULL;
    T_EQ_INT(advidx_replace(idx, fix, strlen(fix), &r, &why), KB_OK);
    T_CHECK(r && strcmp(r->id, "GHSA-aaaa") == 0);
    memset(&f, 0, sizeof f);
    T_EQ_INT(advidx_findings(idx, "GHSA-aaaa", ai, fcollect, &f, NULL), KB_OK);
    T_EQ_INT(f.n, 1);
    T_EQ_STR(f.row[0], "web-1 left-pad@1.2.0 GHSA-aaaa fixed=1.2.5 group=CVE-2024-1 n=1");
    struct got g = {0};
    T_EQ_INT(advidx_match(idx, "npm", "left-pad", "1.2.0", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 2); /* load order kept: the replaced record stays first */
    T_EQ_STR(g.ids[0], "GHSA-aaaa");
    T_EQ_STR(g.fixed[0], "1.2.5");
    T_EQ_INT(g.sev[0], 2); /* the new text has no vector */

    /* Withdrawn: its findings are gone, the CVE record stays alone. */
    const char *gone = "{\"id\":\"GHSA-aaaa\",\"modified\":\"2024-04-01T00:00:00Z\","
                       "\"withdrawn\":\"2024-04-01T00:00:00Z\",\"aliases\":[\"CVE-2024-1\"],"
                       "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"left-pad\"},"
                       "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"}]}]}]}";
    T_EQ_INT(advidx_replace(idx, gone, strlen(gone), &r, &why), KB_OK);
    T_CHECK(r == NULL);
    memset(&f, 0, sizeof f);
    T_EQ_INT(advidx_findings(idx, "GHSA-aaaa", ai, fcollect, &f, NULL), KB_OK);
    T_EQ_INT(f.n, 0);
    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "npm", "left-pad", "1.2.0", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 1);
    T_EQ_STR(g.ids[0], "CVE-2024-1");
    T_EQ_STR(g.key[0], "CVE-2024-1");
    T_EQ_INT(g.naliases[0], 0);
    struct advidx_stats st;
    advidx_stats(idx, &st);
    T_EQ_INT(st.withdrawn, 2);
    T_EQ_INT(st.kept, 4);
    T_EQ_INT(st.groups, 4); /* the CVE group lives on without GHSA-aaaa */

    /* Not withdrawn any more: back in the CVE's group. */
    T_EQ_INT(advidx_replace(idx, fix, strlen(fix), &r, &why), KB_OK);
    memset(&f, 0, sizeof f);
    T_EQ_INT(advidx_findings(idx, "CVE-2024-1", ai, fcollect, &f, NULL), KB_OK);
    T_EQ_INT(f.n, 1);
    T_EQ_STR(f.row[0], "web-1 left-pad@1.2.0 CVE-2024-1 fixed=1.3.0 group=CVE-2024-1 n=1");

    /* Refused text: an error, the index unchanged. */
    T_EQ_INT(advidx_replace(idx, "{\"id\":", 6, &r, &why), KB_EPARSE);
    advidx_stats(idx, &st);
    T_EQ_INT(st.kept, 5);
    assetidx_free(ai);
    advidx_free(idx);
}

static void test_replace_aliases_and_packages(void)
{
    struct advidx *idx = build();
    struct assetidx *ai = assets();
    struct kb_why why = {{0}};
    struct advidx_stats st;
    advidx_stats(idx, &st);
    T_EQ_INT(st.groups, 4);

    /* OSV-NONE names GHSA-bbbb as an alias: the two groups join. */
    const char *joined = "{\"id\":\"OSV-NONE\",\"modified\":\"2024-03-01T00:00:00Z\","
                         "\"aliases\":[\"GHSA-bbbb\"],\"affected\":[{\"package\":{\"ecosystem\":"
                         "\"npm\",\"name\":\"lodash\"},\"versions\":[\"4.17.5\"]}]}";
    T_EQ_INT(advidx_replace(idx, joined, strlen(joined), NULL, &why), KB_OK);
    advidx_stats(idx, &st);
    T_EQ_INT(st.groups, 3);
    struct fgot f = {0};
    T_EQ_INT(advidx_findings(idx, "OSV-NONE", ai, fcollect, &f, NULL), KB_OK);
    T_EQ_INT(f.n, 1);
    T_EQ_STR(f.row[0], "web-1 lodash@4.17.5 OSV-NONE fixed=- group=GHSA-bbbb n=1");
    memset(&f, 0, sizeof f);
    T_EQ_INT(advidx_findings(idx, "GHSA-bbbb", ai, fcollect, &f, NULL), KB_OK);
    T_EQ_INT(f.n, 1);
    T_EQ_STR(f.row[0], "web-1 lodash@4.17.5 GHSA-bbbb fixed=- group=GHSA-bbbb n=1");

    /* The alias dropped again: split back. */
    const char *split = "{\"id\":\"OSV-NONE\",\"modified\":\"2024-03-02T00:00:00Z\","
                        "\"affected\":[{\"package\":{\"ecosystem\":"
                        "\"npm\",\"name\":\"lodash\"},\"versions\":[\"4.17.5\"]}]}";
    T_EQ_INT(advidx_replace(idx, split, strlen(split), NULL, &why), KB_OK);
    advidx_stats(idx, &st);
    T_EQ_INT(st.groups, 4);
    memset(&f, 0, sizeof f);
    T_EQ_INT(advidx_findings(idx, "OSV-NONE", ai, fcollect, &f, NULL), KB_OK);
    T_EQ_STR(f.row[0], "web-1 lodash@4.17.5 OSV-NONE fixed=- group=OSV-NONE n=0");

    /* Moved from lodash to a package no record named before (a new key). */
    const char *moved = REC("OSV-NONE", "", "is-odd", "{\"introduced\":\"0\"}");
    T_EQ_INT(advidx_replace(idx, moved, strlen(moved), NULL, &why), KB_OK);
    struct got g = {0};
    T_EQ_INT(advidx_match(idx, "npm", "lodash", "4.17.5", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 1);
    T_EQ_STR(g.ids[0], "GHSA-bbbb");
    memset(&g, 0, sizeof g);
    T_EQ_INT(advidx_match(idx, "npm", "is-odd", "3.0.1", collect, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 1);
    advidx_stats(idx, &st);
    T_EQ_INT(st.keys, 4);

    /* A new id: appended, and found through a CVE alias. */
    const char *fresh = REC("GHSA-new", ",\"aliases\":[\"CVE-2024-1\"]", "left-pad",
                            "{\"introduced\":\"0\"}");
    T_EQ_INT(advidx_replace(idx, fresh, strlen(fresh), NULL, &why), KB_OK);
    advidx_stats(idx, &st);
    T_EQ_INT(st.records, 8);
    T_EQ_INT(st.kept, 6);
    memset(&f, 0, sizeof f);
    T_EQ_INT(advidx_findings(idx, "GHSA-new", ai, fcollect, &f, NULL), KB_OK);
    T_EQ_INT(f.n, 2);
    T_EQ_STR(f.row[1], "web-2 left-pad@0.5.0 GHSA-new fixed=- group=CVE-2024-1 n=2");
    memset(&f, 0, sizeof f);
    T_EQ_INT(advidx_findings(idx, "CVE-2024-404", ai, fcollect, &f, NULL), KB_OK);
    T_EQ_INT(f.n, 0);
    T_EQ_INT(advidx_findings(idx, NULL, ai, fcollect, &f, NULL), KB_EINVAL);

    /* Two entries of one package (names equal as keys): each asset once. */
    const char *twice = "{\"id\":\"GHSA-twice\",\"modified\":\"2024-03-01T00:00:00Z\","
                        "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":"
                        "\"left-pad\"},\"versions\":[\"0.5.0\"]},{\"package\":{\"ecosystem\":"
                        "\"npm\",\"name\":\"left-pad\"},\"ranges\":[{\"type\":\"SEMVER\","
                        "\"events\":[{\"introduced\":\"1.0.0\"}]}]}]}";
    T_EQ_INT(advidx_replace(idx, twice, strlen(twice), NULL, &why), KB_OK);
    memset(&f, 0, sizeof f);
    T_EQ_INT(advidx_findings(idx, "GHSA-twice", ai, fcollect, &f, NULL), KB_OK);
    T_EQ_INT(f.n, 2);
    T_EQ_STR(f.row[0], "web-1 left-pad@1.2.0 GHSA-twice fixed=- group=GHSA-twice n=0");
    T_EQ_STR(f.row[1], "web-2 left-pad@0.5.0 GHSA-twice fixed=- group=GHSA-twice n=0");

    struct advidx *open = NULL;
    T_EQ_INT(advidx_new(&open), KB_OK);
    T_EQ_INT(advidx_replace(open, fresh, strlen(fresh), NULL, &why), KB_EINVAL);
    advidx_free(open);
    assetidx_free(ai);
    advidx_free(idx);
}

int main(void)
{
    T_RUN(test_match_and_groups);
    T_RUN(test_keys);
    T_RUN(test_errors_and_dir);
    T_RUN(test_replace_fix_and_withdraw);
    T_RUN(test_replace_aliases_and_packages);
    return t_done();
}
