/*
 * bench_vuln.c — the advisory index at company scale: N synthetic OSV
 * advisories loaded (parsed, grouped, indexed), then A assets of P
 * packages each matched against them.
 *
 *   bench_vuln [--advisories N] [--assets A] [--packages P] [--seed S]
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
 * Prints load time, match time (and matches per second), findings, and
 * the peak resident memory (VmHWM). Exit 2 on a load error.
 * Ownership: everything is local to main and freed before exit.
 */
#include "vuln/advisory_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ADVISORIES 4000000u
#define MAX_ASSETS 100000u
#define MAX_PACKAGES 100000u

static const char *const ecos[] = {"npm", "PyPI", "Maven", "Debian"};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pkg_name(int eco, uint64_t k, char *out, size_t n)
{
    switch (eco) {
    case 0: snprintf(out, n, "%spkg-%llu", k % 7 ? "" : "@scope/", (unsigned long long)k); break;
    case 1: snprintf(out, n, "Py_Pkg.%llu", (unsigned long long)k); break;
    case 2: snprintf(out, n, "org.ex%llu:lib-%llu", (unsigned long long)(k % 97),
                     (unsigned long long)k); break;
    default: snprintf(out, n, "srcpkg%llu", (unsigned long long)k); break;
    }
}

static void version(int eco, uint64_t a, uint64_t b, uint64_t c, char *out, size_t n)
{
    if (eco == 3)
        snprintf(out, n, "%s%llu.%llu.%llu-%llu", c % 5 ? "" : "1:", (unsigned long long)a,
                 (unsigned long long)b, (unsigned long long)c, (unsigned long long)(c % 4 + 1));
    else
        snprintf(out, n, "%llu.%llu.%llu", (unsigned long long)a, (unsigned long long)b,
                 (unsigned long long)c);
}

static int gen(uint64_t i, uint64_t *s, uint64_t universe, char *out, size_t n)
{
    int eco = (int)(i % 4);
    char name[128], v1[64], v2[64], v3[64], v4[64];
    pkg_name(eco, rnd(s) % universe, name, sizeof name);
    uint64_t maj = rnd(s) % 5;
    version(eco, maj, rnd(s) % 10, rnd(s) % 10, v1, sizeof v1);
    version(eco, maj + 1, rnd(s) % 10, rnd(s) % 10, v2, sizeof v2);
    version(eco, maj + 2, 0, rnd(s) % 10, v3, sizeof v3);
    version(eco, maj + 2, 5, rnd(s) % 10, v4, sizeof v4);
    char alias[64] = "", sev[160] = "", ranges[512];
    if (i % 10 == 0)
        snprintf(alias, sizeof alias, ",\"aliases\":[\"CVE-2024-%llu\"]",
                 (unsigned long long)(i / 20));
    if (i % 5 == 0)
        snprintf(sev, sizeof sev,
                 ",\"severity\":[{\"type\":\"CVSS_V3\",\"score\":"
                 "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:%s/S:U/C:H/I:H/A:H\"}]",
                 i % 3 ? "N" : "R");
    switch (eco) {
    case 0:
        snprintf(ranges, sizeof ranges,
                 "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},"
                 "{\"fixed\":\"%s\"}]}]", v2);
        break;
    case 1:
        snprintf(ranges, sizeof ranges,
                 "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"%s\"},"
                 "{\"fixed\":\"%s\"},{\"introduced\":\"%s\"},{\"fixed\":\"%s\"}]}]",
                 v1, v2, v3, v4);
        break;
    case 2:
        snprintf(ranges, sizeof ranges,
                 "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"%s\"},"
                 "{\"%s\":\"%s\"}]}]", v1, i % 2 ? "fixed" : "last_affected", v2);
        break;
    default:
        snprintf(ranges, sizeof ranges,
                 "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
                 "{\"fixed\":\"%s\"}]}],\"versions\":[\"%s\",\"%s\"]", v2, v1, v3);
        break;
    }
    return snprintf(out, n,
                    "{\"id\":\"BENCH-%llu\",\"modified\":\"2024-01-01T00:00:00Z\"%s%s,"
                    "\"affected\":[{\"package\":{\"ecosystem\":\"%s\",\"name\":\"%s\"},%s}]}",
                    (unsigned long long)i, alias, sev, eco == 3 ? "Debian:12" : ecos[eco],
                    name, ranges);
}

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static kb_err count(void *ctx, const struct advidx_hit *h)
{
    (void)h;
    (*(size_t *)ctx)++;
    return KB_OK;
}

int main(int argc, char **argv)
{
    unsigned long n = 200000, assets = 1000, pkgs = 2000, seed = 42;
    for (int i = 1; i + 1 < argc; i += 2) {
        unsigned long v = strtoul(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--advisories"))
            n = v;
        else if (!strcmp(argv[i], "--assets"))
            assets = v;
        else if (!strcmp(argv[i], "--packages"))
            pkgs = v;
        else if (!strcmp(argv[i], "--seed"))
            seed = v;
    }
    if (!n || n > MAX_ADVISORIES || !assets || assets > MAX_ASSETS || !pkgs ||
        pkgs > MAX_PACKAGES) {
        fprintf(stderr, "usage: bench_vuln [--advisories N<=%u] [--assets A<=%u] "
                        "[--packages P<=%u] [--seed S]\n",
                MAX_ADVISORIES, MAX_ASSETS, MAX_PACKAGES);
        return 2;
    }
    uint64_t s = seed | 1, universe = n / 16 + 1; /* per ecosystem: n/4 records over n/16 names */
    struct advidx *idx;
    struct kb_why why = {{0}};
    advidx_new(&idx);
    char text[2048];
    double t0 = now_s();
    for (unsigned long i = 0; i < n; i++) {
        int len = gen(i, &s, universe, text, sizeof text);
        if (advidx_add_text(idx, "bench", text, (size_t)len, &why) != KB_OK) {
            fprintf(stderr, "bench_vuln: %s\n", why.msg);
            advidx_free(idx);
            return 2;
        }
    }
    double t1 = now_s();
    if (advidx_finish(idx, &why) != KB_OK) {
        fprintf(stderr, "bench_vuln: %s\n", why.msg);
        advidx_free(idx);
        return 2;
    }
    double t2 = now_s();
    size_t nerr = 0;
    const char *const *errs = advidx_errors(idx, &nerr, NULL);
    if (nerr) {
        fprintf(stderr, "bench_vuln: %zu load errors, first: %s\n", nerr, errs[0]);
        advidx_free(idx);
        return 2;
    }
    struct advidx_stats st;
    advidx_stats(idx, &st);
    size_t found = 0, unsure = 0;
    char name[128], ver[64];
    double t3 = now_s();
    for (unsigned long a = 0; a < assets; a++)
        for (unsigned long p = 0; p < pkgs; p++) {
            int eco = (int)(rnd(&s) % 4);
            /* most packages are not in any advisory: names from a universe
             * 8 times wider than the advisories' */
            pkg_name(eco, rnd(&s) % (universe * 8), name, sizeof name);
            version(eco, rnd(&s) % 8, rnd(&s) % 10, rnd(&s) % 10, ver, sizeof ver);
            size_t u = 0;
            advidx_match(idx, eco == 3 ? "Debian:12" : ecos[eco], name, ver, count, &found, &u);
            unsure += u;
        }
    double t4 = now_s();
    double matches = (double)assets * (double)pkgs;
    printf("advisories=%lu kept=%zu groups=%zu keys=%zu parse_s=%.2f index_s=%.2f "
           "assets=%lu packages=%lu match_s=%.2f matches_per_s=%.0f findings=%zu unsure=%zu "
           "peak_rss_mb=%ld\n",
           n, st.kept, st.groups, st.keys, t1 - t0, t2 - t1, assets, pkgs, t4 - t3,
           matches / (t4 - t3), found, unsure, vm_hwm_kb() / 1024);
    advidx_free(idx);
    return 0;
}
