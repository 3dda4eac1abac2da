/*
 * bench_vuln.c — the advisory index at company scale: N synthetic OSV
 * advisories loaded (parsed, grouped, indexed), then A assets of P
 * packages each matched against them.
 *
 *   bench_vuln [--advisories N] [--assets A] [--packages P] [--changes C] [--seed S]
 *              [--verify 1]
 *
 * Defaults: 200,000 advisories, 1,000 assets, 2,000 packages per asset.
 * Advisories have the shapes of the real feeds, spread over a universe of
 * N/4 package names per ecosystem so popular names carry several
 * advisories: npm (SEMVER introduced 0 / fixed), PyPI (ECOSYSTEM with two
 * ranges), Maven (group:artifact, ECOSYSTEM introduced/fixed or
 * last_affected), Debian (Debian:12 source packages, dpkg versions with
 * epochs and revisions, and a versions list); one in ten has a CVE alias
 * shared with another record, one in five a CVSS 3.1 vector. Asset
 * packages are drawn from the same universe with random versions, so a
 * realistic share of them are affected. Not part of bench/run.sh.
 *
 * Then the assets' packages go into an asset index (asset_index.h) and
 * --changes C random advisories (default 1,000) are changed one at a time
 * (new versions for the same package; one in ten withdrawn), each
 * replaced in the index (advidx_replace) and re-evaluated against every
 * asset (advidx_findings): the median and 99th percentile of that time.
 * With --verify 1, afterwards every asset package is matched again and
 * the count must equal the findings of every record through the asset
 * index (exit 1 otherwise): the replaced index agrees with itself.
 *
 * Memory: the bytes the first 1,000 records use in their arenas (parsed
 * again here, arena.used) against the resident memory after parsing
 * tells how much of it is the records' own data.
 *
 * Prints load time, match time (and matches per second), findings, the
 * re-evaluation times, the resident memory after each phase (VmRSS) and
 * the peak (VmHWM). Exit 2 on a load error.
 * Ownership: everything is local to main and freed before exit.
 */
#include "vuln/advisory_index.h"
#include "vuln/asset_index.h"

#include "vuln_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ADVISORIES 4000000u
#define MAX_ASSETS 100000u
#define MAX_PACKAGES 100000u
#define MAX_CHANGES 1000000u

static kb_err count(void *ctx, const struct advidx_hit *h)
{
    (void)h;
    (*(size_t *)ctx)++;
    return KB_OK;
}

static kb_err count_finding(void *ctx, const struct assetidx_entry *a, const struct advidx_hit *h)
{
    (void)a;
    (void)h;
    (*(size_t *)ctx)++;
    return KB_OK;
}

static int fail(struct advidx *idx, struct assetidx *ai, const char *msg)
{
    fprintf(stderr, "bench_vuln: %s\n", msg);
    advidx_free(idx);
    assetidx_free(ai);
    return 2;
}

int main(int argc, char **argv)
{
    unsigned long n = 200000, assets = 1000, pkgs = 2000, changes = 1000, seed = 42, verify = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        unsigned long v = strtoul(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--advisories"))
            n = v;
        else if (!strcmp(argv[i], "--assets"))
            assets = v;
        else if (!strcmp(argv[i], "--packages"))
            pkgs = v;
        else if (!strcmp(argv[i], "--changes"))
            changes = v;
        else if (!strcmp(argv[i], "--seed"))
            seed = v;
        else if (!strcmp(argv[i], "--verify"))
            verify = v;
    }
    if (!n || n > MAX_ADVISORIES || !assets || assets > MAX_ASSETS || !pkgs ||
        pkgs > MAX_PACKAGES || !changes || changes > MAX_CHANGES) {
        fprintf(stderr, "usage: bench_vuln [--advisories N<=%u] [--assets A<=%u] "
                        "[--packages P<=%u] [--changes C<=%u] [--seed S]\n",
                MAX_ADVISORIES, MAX_ASSETS, MAX_PACKAGES, MAX_CHANGES);
        return 2;
    }
    uint64_t s = seed | 1, universe = n / 16 + 1; /* per ecosystem: n/4 records over n/16 names */
    struct advidx *idx;
    struct assetidx *ai = NULL;
    struct kb_why why = {{0}};
    advidx_new(&idx);
    /* The generator's state before each record, so a change can replay its
     * package name: 8 bytes a record, counted in the figures below. */
    uint64_t *state = malloc(n * sizeof *state);
    if (!state)
        return fail(idx, ai, "out of memory");
    char text[2048];
    size_t text_bytes = 0;
    long rss0 = vm_kb("VmRSS:");
    double t0 = now_s();
    for (unsigned long i = 0; i < n; i++) {
        state[i] = s;
        int len = gen(i, &s, &s, universe, false, text, sizeof text);
        text_bytes += (size_t)len;
        if (advidx_add_text(idx, "bench", text, (size_t)len, &why) != KB_OK) {
            free(state);
            return fail(idx, ai, why.msg);
        }
    }
    double t1 = now_s();
    long rss_parsed = vm_kb("VmRSS:");
    if (advidx_finish(idx, &why) != KB_OK) {
        free(state);
        return fail(idx, ai, why.msg);
    }
    double t2 = now_s();
    long rss_indexed = vm_kb("VmRSS:");
    size_t nerr = 0;
    const char *const *errs = advidx_errors(idx, &nerr, NULL);
    if (nerr) {
        fprintf(stderr, "bench_vuln: %zu load errors, first: %s\n", nerr, errs[0]);
        free(state);
        return fail(idx, ai, "load errors");
    }
    struct advidx_stats st;
    advidx_stats(idx, &st);

    /* The assets' inventories into the asset index; the same packages are
     * then matched, replaying the generator from here. */
    uint64_t s_assets = s;
    char name[128], ver[64], asset[32];
    assetidx_new(&ai);
    double t5 = now_s();
    for (unsigned long a = 0; a < assets; a++) {
        struct inventory inv = INVENTORY_INIT;
        for (unsigned long p = 0; p < pkgs; p++) {
            int eco;
            asset_pkg(&s, universe, &eco, name, sizeof name, ver, sizeof ver);
            inventory_add(&inv, eco == 3 ? "Debian:12" : ecos[eco],
                          (struct kb_str){name, strlen(name)}, (struct kb_str){ver, strlen(ver)},
                          NULL, NULL, NULL, false);
        }
        snprintf(asset, sizeof asset, "asset-%lu", a);
        kb_err e = assetidx_add(ai, asset, &inv, &why);
        inventory_release(&inv);
        if (e != KB_OK) {
            free(state);
            return fail(idx, ai, why.msg);
        }
    }
    double t6 = now_s();
    long rss_assets = vm_kb("VmRSS:");
    struct assetidx_stats ast;
    assetidx_stats(ai, &ast);

    s = s_assets;
    size_t found = 0, unsure = 0;
    double t3 = now_s();
    for (unsigned long a = 0; a < assets; a++)
        for (unsigned long p = 0; p < pkgs; p++) {
            int eco;
            asset_pkg(&s, universe, &eco, name, sizeof name, ver, sizeof ver);
            size_t u = 0;
            advidx_match(idx, eco == 3 ? "Debian:12" : ecos[eco], name, ver, count, &found, &u);
            unsure += u;
        }
    double t4 = now_s();

    /* Changes: record i again with its package name and new versions. */
    double *lat = malloc(changes * sizeof *lat);
    size_t refound = 0, withdrawn = 0;
    for (unsigned long c = 0; c < changes && lat; c++) {
        uint64_t i = rnd(&s) % n, sn = state[i];
        bool wd = rnd(&s) % 10 == 0;
        int len = gen(i, &sn, &s, universe, wd, text, sizeof text);
        char id[32];
        snprintf(id, sizeof id, "BENCH-%llu", (unsigned long long)i);
        double c0 = now_s();
        size_t nf = 0;
        kb_err e = advidx_replace(idx, text, (size_t)len, NULL, &why);
        if (e == KB_OK)
            e = advidx_findings(idx, id, ai, count_finding, &nf, NULL);
        lat[c] = now_s() - c0;
        if (e != KB_OK) {
            free(lat);
            free(state);
            return fail(idx, ai, why.msg);
        }
        refound += nf;
        withdrawn += wd;
    }
    if (!lat) {
        free(state);
        return fail(idx, ai, "out of memory");
    }
    qsort(lat, changes, sizeof *lat, dbl_cmp);
    int rc = 0;
    if (verify) {
        size_t again = 0, through = 0;
        s = s_assets;
        for (unsigned long a = 0; a < assets; a++)
            for (unsigned long p = 0; p < pkgs; p++) {
                int eco;
                asset_pkg(&s, universe, &eco, name, sizeof name, ver, sizeof ver);
                advidx_match(idx, eco == 3 ? "Debian:12" : ecos[eco], name, ver, count, &again,
                             NULL);
            }
        for (unsigned long i = 0; i < n; i++) {
            char id[32];
            snprintf(id, sizeof id, "BENCH-%lu", i);
            advidx_findings(idx, id, ai, count_finding, &through, NULL);
        }
        printf("verify: matched=%zu through_asset_index=%zu %s\n", again, through,
               again == through ? "equal" : "DIFFERENT");
        rc = again == through ? 0 : 1;
    }
    /* What a parsed record holds: arena bytes handed out, first 1,000. */
    size_t used = 0, sample = n < 1000 ? n : 1000;
    uint64_t s2 = seed | 1;
    for (size_t i = 0; i < sample; i++) {
        int len = gen(i, &s2, &s2, universe, false, text, sizeof text);
        struct osv_record *r = NULL;
        if (osv_parse(text, (size_t)len, &r, NULL) == KB_OK)
            used += r->arena.used + sizeof *r;
        osv_record_free(r);
    }
    double matches = (double)assets * (double)pkgs;
    printf("advisories=%lu kept=%zu groups=%zu keys=%zu parse_s=%.2f index_s=%.2f "
           "assets=%lu packages=%lu match_s=%.2f matches_per_s=%.0f findings=%zu unsure=%zu\n",
           n, st.kept, st.groups, st.keys, t1 - t0, t2 - t1, assets, pkgs, t4 - t3,
           matches / (t4 - t3), found, unsure);
    printf("asset_index_s=%.2f asset_entries=%zu asset_keys=%zu asset_index_mb=%.1f\n", t6 - t5,
           ast.entries, ast.keys, (double)ast.bytes / 1048576.0);
    printf("changes=%lu withdrawn=%zu reeval_median_ms=%.3f reeval_p99_ms=%.3f "
           "reeval_max_ms=%.3f findings_per_change=%.1f\n",
           changes, withdrawn, lat[changes / 2] * 1e3, lat[changes * 99 / 100] * 1e3,
           lat[changes - 1] * 1e3, (double)refound / (double)changes);
    printf("rss_mb start=%ld parsed=%ld indexed=%ld assets=%ld peak=%ld "
           "record_text_mb=%.1f record_used_bytes=%.0f rss_per_record_bytes=%.0f\n",
           rss0 / 1024, rss_parsed / 1024, rss_indexed / 1024, rss_assets / 1024,
           vm_kb("VmHWM:") / 1024, (double)text_bytes / 1048576.0,
           (double)used / (double)sample, (double)(rss_parsed - rss0) * 1024.0 / (double)n);
    free(lat);
    free(state);
    assetidx_free(ai);
    advidx_free(idx);
    return rc;
}
