/*
 * vuln_gen.h — the synthetic advisories and asset packages of the
 * vulnerability benchmarks (bench_vuln.c, bench_vuln_engine.c), so both
 * measure the same data.
 *
 * Record i is an OSV advisory of ecosystem i % 4 (npm, PyPI, Maven,
 * Debian:12) in the shapes of the real feeds (bench_vuln.c says which),
 * its package name drawn from a universe of names per ecosystem; asset
 * packages are drawn from a universe 8 times wider with random versions,
 * so a realistic share of them are affected. Everything comes from a
 * xorshift state the caller owns: the same seed gives the same data,
 * whatever the compiler.
 *
 * Ownership: nothing is allocated; outputs go to caller buffers.
 */
#ifndef KOBAN_BENCH_VULN_GEN_H
#define KOBAN_BENCH_VULN_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const ecos[] = {"npm", "PyPI", "Maven", "Debian"};

static inline uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void pkg_name(int eco, uint64_t k, char *out, size_t n)
{
    switch (eco) {
    case 0: snprintf(out, n, "%spkg-%llu", k % 7 ? "" : "@scope/", (unsigned long long)k); break;
    case 1: snprintf(out, n, "Py_Pkg.%llu", (unsigned long long)k); break;
    case 2: snprintf(out, n, "org.ex%llu:lib-%llu", (unsigned long long)(k % 97),
                     (unsigned long long)k); break;
    default: snprintf(out, n, "srcpkg%llu", (unsigned long long)k); break;
    }
}

static inline void version(int eco, uint64_t a, uint64_t b, uint64_t c, char *out, size_t n)
{
    if (eco == 3)
        snprintf(out, n, "%s%llu.%llu.%llu-%llu", c % 5 ? "" : "1:", (unsigned long long)a,
                 (unsigned long long)b, (unsigned long long)c, (unsigned long long)(c % 4 + 1));
    else
        snprintf(out, n, "%llu.%llu.%llu", (unsigned long long)a, (unsigned long long)b,
                 (unsigned long long)c);
}

/* Record i: its package name drawn from *sn, everything else from *s (the
 * same state when loading; a replayed *sn and a fresh *s for a change). */
static inline int gen(uint64_t i, uint64_t *sn, uint64_t *s, uint64_t universe,
                      bool withdrawn, char *out, size_t n)
{
    int eco = (int)(i % 4);
    char name[128], v1[64], v2[64], v3[64], v4[64];
    pkg_name(eco, rnd(sn) % universe, name, sizeof name);
    /* draws in a fixed order (the order a compiler evaluates arguments in
     * is its own), the one the first figures were measured with */
    uint64_t maj = rnd(s) % 5, c1 = rnd(s) % 10, b1 = rnd(s) % 10;
    version(eco, maj, b1, c1, v1, sizeof v1);
    uint64_t c2 = rnd(s) % 10, b2 = rnd(s) % 10;
    version(eco, maj + 1, b2, c2, v2, sizeof v2);
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
                    "{\"id\":\"BENCH-%llu\",\"modified\":\"2024-01-01T00:00:00Z\"%s%s%s,"
                    "\"affected\":[{\"package\":{\"ecosystem\":\"%s\",\"name\":\"%s\"},%s}]}",
                    (unsigned long long)i,
                    withdrawn ? ",\"withdrawn\":\"2024-02-01T00:00:00Z\"" : "", alias, sev,
                    eco == 3 ? "Debian:12" : ecos[eco],
                    name, ranges);
}

/* A "Vm...:" figure of /proc/self/status in KiB, or -1. */
static inline long vm_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0)
            kb = strtol(line + fl, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static inline int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Package p of an asset, drawn from *s. */
static inline void asset_pkg(uint64_t *s, uint64_t universe, int *eco, char *name, size_t nn,
                             char *ver, size_t vn)
{
    *eco = (int)(rnd(s) % 4);
    /* most packages are not in any advisory: names from a universe 8 times
     * wider than the advisories' */
    pkg_name(*eco, rnd(s) % (universe * 8), name, nn);
    uint64_t c = rnd(s) % 10, b = rnd(s) % 10, a = rnd(s) % 8; /* as in gen */
    version(*eco, a, b, c, ver, vn);
}

/* The OSV ecosystem asset packages of ecosystem eco are stored under. */
static inline const char *vg_ecosystem(int eco)
{
    return eco == 3 ? "Debian:12" : ecos[eco];
}

#endif
