/*
 * bench_vuln_engine.c — the vulnerability engine's whole path at company
 * scale, as the daemon runs it: advisories stored in SQLite, assets'
 * inventories stored and evaluated, and changed advisories re-evaluated
 * on every asset with the findings diffed in the store and an alert told
 * per change (vuln/vuln_engine.h).
 *
 *   bench_vuln_engine [--advisories N] [--assets A] [--packages P] [--changes C]
 *                     [--seed S]
 *
 * Defaults: 200,000 advisories, 1,000 assets, 2,000 packages per asset,
 * 200 changes. The data is bench_vuln's (vuln_gen.h), so the two agree on
 * what is affected.
 *
 * 1. A store in a fresh directory under $TMPDIR (or /tmp): db_open
 *    DB_CLIENT (synchronous=FULL) with the daemon's cache (8 MiB), as the
 *    daemon's vulnerability connection opens it; N advisories stored with
 *    vuln_advisory_store in transactions of 10,000 (store_s).
 * 2. vuln_engine_open (loads them into the advisory index; open_s), with
 *    an alert callback that counts the alerts.
 * 3. A assets: each a CycloneDX JSON SBOM of P components whose purls span
 *    npm (scoped and not), PyPI, Maven and Debian 12, handed to
 *    vuln_engine_replace_inventory (parse, store the packages, evaluate,
 *    store the findings, tell them; inventories_s for all of them). From
 *    here on the connection does not checkpoint the WAL inside its
 *    commits, as the daemon's does (web/api_vuln.c); the checkpoint its
 *    chore would run is run after every INV_CHECKPOINT inventories and
 *    counted in inventories_s.
 * 4. The asset index, built from the store when an advisory change first
 *    needs it: built once by a change of an id that is not stored
 *    (asset_index_s), so it is not in the first change's time.
 * 5. C changes: an advisory with an open finding gets new versions (one
 *    in ten is withdrawn instead), stored with vuln_advisory_store and
 *    re-evaluated with vuln_engine_advisories_changed([id]); each timed
 *    from store to commit (reeval_median_ms, reeval_p99_ms, reeval_max_ms).
 *    The connection checkpoints the WAL between changes, not inside them.
 *
 * Prints one line of key=value: advisories, assets, packages (per asset),
 * stored_packages, findings (opened by the inventories), store_s, open_s,
 * inventories_s, asset_index_s, changes, withdrawn, reeval_median_ms,
 * reeval_p99_ms, reeval_max_ms, change_findings (opened, updated or
 * resolved by the changes), alerts (all), change_alerts, db_mb (database
 * and WAL after close), rss_peak_mb (VmHWM). Exit 2 on an error. The
 * directory is removed at the end.
 * Ownership: everything is local to main and freed before exit.
 */
#include "store/db.h"
#include "store/db_vuln.h"
#include "vuln/vuln_engine.h"

#include "vuln_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ADVISORIES 4000000u
#define MAX_ASSETS 100000u
#define MAX_PACKAGES 100000u
#define MAX_CHANGES 100000u
#define STORE_BATCH 10000u    /* advisories per transaction */
#define COMPONENT_MAX 512u    /* bytes of one SBOM component */
#define PICK_TRIES 100000u    /* draws to find an advisory that affects an asset */
#define DB_CACHE_MIB 8u       /* what the daemon's vulnerability connection uses */
#define INV_CHECKPOINT 20u    /* inventories between WAL checkpoints */

struct counts {
    size_t alerts;
};

static kb_err on_alert(void *ctx, const char *json, size_t len)
{
    (void)json;
    (void)len;
    ((struct counts *)ctx)->alerts++;
    return KB_OK;
}

/* Appends one CycloneDX component for the package to sbom; false when it
 * would not fit in cap. Purls are percent-encoded where the name or the
 * version needs it ('@' of an npm scope, ':' of a Debian epoch). */
static bool component(char *sbom, size_t *len, size_t cap, bool first, int eco, const char *name,
                      const char *ver)
{
    char purl[300], v[80];
    size_t j = 0;
    for (const char *p = ver; *p && j + 4 < sizeof v; p++) {
        if (*p == ':') {
            memcpy(v + j, "%3A", 3);
            j += 3;
        } else
            v[j++] = *p;
    }
    v[j] = '\0';
    switch (eco) {
    case 0:
        if (name[0] == '@')
            snprintf(purl, sizeof purl, "pkg:npm/%%40%s@%s", name + 1, v);
        else
            snprintf(purl, sizeof purl, "pkg:npm/%s@%s", name, v);
        break;
    case 1: snprintf(purl, sizeof purl, "pkg:pypi/%s@%s", name, v); break;
    case 2: {
        const char *colon = strchr(name, ':');
        int gl = colon ? (int)(colon - name) : 0;
        snprintf(purl, sizeof purl, "pkg:maven/%.*s/%s@%s", gl, name, colon ? colon + 1 : name, v);
        break;
    }
    default: snprintf(purl, sizeof purl, "pkg:deb/debian/%s@%s?distro=debian-12", name, v); break;
    }
    int n = snprintf(sbom + *len, cap - *len,
                     "%s\n{\"type\":\"library\",\"name\":\"%s\",\"version\":\"%s\","
                     "\"purl\":\"%s\"}",
                     first ? "" : ",", name, ver, purl);
    if (n < 0 || (size_t)n >= cap - *len)
        return false;
    *len += (size_t)n;
    return true;
}

/* Marks the record behind each open finding: its group key is "BENCH-i",
 * or "CVE-2024-x", the alias vuln_gen.h gives records 20x (npm) and
 * 20x + 10 (Maven), told apart by the finding's ecosystem. */
struct mark_ctx {
    unsigned char *affects;
    unsigned long n;
    size_t marked;
};

static void mark(struct mark_ctx *m, unsigned long long i)
{
    if (i < m->n && !m->affects[i]) {
        m->affects[i] = 1;
        m->marked++;
    }
}

static kb_err mark_affecting(void *ctx, const struct db_vuln_finding *f)
{
    struct mark_ctx *m = ctx;
    if (!strncmp(f->group_key, "BENCH-", 6)) {
        mark(m, strtoull(f->group_key + 6, NULL, 10));
    } else if (!strncmp(f->group_key, "CVE-2024-", 9)) {
        unsigned long long x = strtoull(f->group_key + 9, NULL, 10);
        mark(m, 20 * x + (strcmp(f->ecosystem, "Maven") ? 0 : 10));
    }
    return KB_OK;
}

static long file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* Everything main owns, released by cleanup. */
struct bench {
    char dir[256], path[300];
    struct db *db;
    struct db_vuln *dv;
    struct vuln_engine *e;
    uint64_t *state;        /* the generator's state before each record */
    unsigned char *affects; /* per record: it has an open finding after the inventories */
    char *sbom;
    double *lat;
};

static void close_store(struct bench *b)
{
    vuln_engine_close(b->e);
    b->e = NULL;
    db_vuln_close(b->dv);
    b->dv = NULL;
    db_close(b->db);
    b->db = NULL;
}

static void remove_dir(struct bench *b)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[320];
    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
        snprintf(p, sizeof p, "%s%s", b->path, suffix[i]);
        unlink(p);
    }
    rmdir(b->dir);
}

static int cleanup(struct bench *b, int rc, const char *what, const char *msg)
{
    if (what)
        fprintf(stderr, "bench_vuln_engine: %s: %s\n", what, msg);
    close_store(b);
    if (b->dir[0])
        remove_dir(b);
    free(b->state);
    free(b->affects);
    free(b->sbom);
    free(b->lat);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned long n = 200000, assets = 1000, pkgs = 2000, changes = 200, seed = 42;
    bool bad = argc % 2 == 0; /* options come in pairs */
    for (int i = 1; i + 1 < argc; i += 2) {
        char *end;
        unsigned long v = strtoul(argv[i + 1], &end, 10);
        bad = bad || *end || end == argv[i + 1];
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
        else
            bad = true;
    }
    if (bad || !n || n > MAX_ADVISORIES || !assets || assets > MAX_ASSETS || !pkgs ||
        pkgs > MAX_PACKAGES || !changes || changes > MAX_CHANGES) {
        fprintf(stderr, "usage: bench_vuln_engine [--advisories N<=%u] [--assets A<=%u] "
                        "[--packages P<=%u] [--changes C<=%u] [--seed S]\n",
                MAX_ADVISORIES, MAX_ASSETS, MAX_PACKAGES, MAX_CHANGES);
        return 2;
    }
    struct bench b = {0};
    struct kb_why why = {{0}};
    const char *tmp = getenv("TMPDIR");
    snprintf(b.dir, sizeof b.dir, "%s/koban-bench-vuln.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(b.dir)) {
        b.dir[0] = '\0';
        return cleanup(&b, 2, "mkdtemp", "cannot create a directory");
    }
    snprintf(b.path, sizeof b.path, "%s/koban.db", b.dir);
    db_global_init();
    if (db_open(b.path, DB_CLIENT, DB_CACHE_MIB, &b.db, &why) ||
        db_vuln_open(b.db, &b.dv))
        return cleanup(&b, 2, "store", why.msg[0] ? why.msg : "cannot open");

    /* 1. advisories into the store, in transactions as a feed sync does */
    uint64_t s = seed | 1, universe = n / 16 + 1; /* as bench_vuln */
    b.state = malloc(n * sizeof *b.state);
    b.affects = calloc(n, 1);
    b.lat = malloc(changes * sizeof *b.lat);
    size_t sbom_cap = 256 + (size_t)pkgs * COMPONENT_MAX;
    b.sbom = malloc(sbom_cap);
    if (!b.state || !b.affects || !b.lat || !b.sbom)
        return cleanup(&b, 2, "memory", "out of memory");
    char text[2048];
    double t0 = now_s();
    for (unsigned long i = 0; i < n; i++) {
        if (i % STORE_BATCH == 0 && db_begin(b.db))
            return cleanup(&b, 2, "begin", db_errmsg(b.db));
        b.state[i] = s;
        int len = gen(i, &s, &s, universe, false, text, sizeof text);
        if (vuln_advisory_store(b.dv, "bench", text, (size_t)len, 1700000000000, &why))
            return cleanup(&b, 2, "advisory", why.msg);
        if ((i % STORE_BATCH == STORE_BATCH - 1 || i + 1 == n) && db_commit(b.db))
            return cleanup(&b, 2, "commit", db_errmsg(b.db));
    }
    double t1 = now_s();

    /* 2. the engine, loading them */
    struct counts cnt = {0};
    struct vuln_engine_opts opts = {.alert = on_alert, .ctx = &cnt};
    if (vuln_engine_open(b.db, &opts, &b.e, &why))
        return cleanup(&b, 2, "engine", why.msg);
    double t2 = now_s();

    /* 3. every asset's SBOM. As in the daemon (web/api_vuln.c): the
     * engine's connection does not checkpoint inside its commits; a
     * background chore does, here every INV_CHECKPOINT inventories. */
    db_autocheckpoint(b.db, 0);
    size_t findings = 0, stored_pkgs = 0, unsure = 0;
    char name[128], ver[64], asset[32];
    for (unsigned long a = 0; a < assets; a++) {
        size_t len = (size_t)snprintf(b.sbom, sbom_cap,
                                      "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\","
                                      "\"version\":1,\"components\":[");
        for (unsigned long p = 0; p < pkgs; p++) {
            int eco;
            asset_pkg(&s, universe, &eco, name, sizeof name, ver, sizeof ver);
            if (!component(b.sbom, &len, sbom_cap - 4, p == 0, eco, name, ver))
                return cleanup(&b, 2, "sbom", "component too long");
        }
        memcpy(b.sbom + len, "\n]}", 4);
        len += 3;
        snprintf(asset, sizeof asset, "asset-%lu", a);
        struct vuln_eval_stats st;
        if (vuln_engine_replace_inventory(b.e, asset, "cyclonedx", "bom.json", b.sbom, len, &st,
                                          &why))
            return cleanup(&b, 2, asset, why.msg);
        findings += st.opened;
        stored_pkgs += st.packages;
        unsure += st.unsure;
        if (a % INV_CHECKPOINT == INV_CHECKPOINT - 1 || a + 1 == assets)
            db_checkpoint(b.db);
    }
    double t3 = now_s();
    size_t inv_alerts = cnt.alerts;

    /* 4. the asset index, rebuilt by the first change after inventories */
    const char *none = "BENCH-none";
    struct vuln_eval_stats st;
    if (vuln_engine_advisories_changed(b.e, &none, 1, &st, &why))
        return cleanup(&b, 2, "asset index", why.msg);
    double t4 = now_s();

    /* 5. changed advisories, one at a time, among those that affect some
     * asset (a change of any other one touches no package) */
    struct mark_ctx mc = {b.affects, n, 0};
    struct db_vuln_finding_filter flt = {.state = DB_VULN_OPEN};
    if (db_vuln_finding_each(b.dv, &flt, mark_affecting, &mc))
        return cleanup(&b, 2, "findings", db_errmsg(b.db));
    if (!mc.marked)
        return cleanup(&b, 2, "findings", "no advisory affects any asset");
    size_t withdrawn = 0, change_findings = 0, change_pkgs = 0;
    /* the chore's checkpoints: between changes and outside their time */
    db_checkpoint(b.db);
    for (unsigned long c = 0; c < changes; c++) {
        uint64_t i = rnd(&s) % n;
        for (unsigned t = 0; t < PICK_TRIES && !b.affects[i]; t++)
            i = rnd(&s) % n;
        uint64_t sn = b.state[i];
        bool wd = rnd(&s) % 10 == 0;
        int len = gen(i, &sn, &s, universe, wd, text, sizeof text);
        char id[32];
        snprintf(id, sizeof id, "BENCH-%llu", (unsigned long long)i);
        const char *ids[1] = {id};
        double c0 = now_s();
        if (vuln_advisory_store(b.dv, "bench", text, (size_t)len, 1700000000000 + (int64_t)c,
                                &why) ||
            vuln_engine_advisories_changed(b.e, ids, 1, &st, &why))
            return cleanup(&b, 2, id, why.msg);
        b.lat[c] = now_s() - c0;
        if (c % 20 == 19)
            db_checkpoint(b.db);
        withdrawn += wd;
        change_findings += st.opened + st.updated + st.resolved;
        change_pkgs += st.packages;
    }
    qsort(b.lat, changes, sizeof *b.lat, dbl_cmp);

    close_store(&b); /* the WAL is checkpointed at close */
    long db_bytes = file_bytes(b.path);
    char wal[320];
    snprintf(wal, sizeof wal, "%s-wal", b.path);
    db_bytes += file_bytes(wal);
    printf("advisories=%lu assets=%lu packages=%lu stored_packages=%zu findings=%zu unsure=%zu "
           "store_s=%.2f open_s=%.2f inventories_s=%.2f asset_index_s=%.2f changes=%lu "
           "withdrawn=%zu reeval_median_ms=%.3f reeval_p99_ms=%.3f reeval_max_ms=%.3f "
           "change_packages=%zu change_findings=%zu alerts=%zu change_alerts=%zu db_mb=%.1f "
           "rss_peak_mb=%ld\n",
           n, assets, pkgs, stored_pkgs, findings, unsure, t1 - t0, t2 - t1, t3 - t2, t4 - t3,
           changes, withdrawn, b.lat[changes / 2] * 1e3, b.lat[changes * 99 / 100] * 1e3,
           b.lat[changes - 1] * 1e3, change_pkgs, change_findings, cnt.alerts,
           cnt.alerts - inv_alerts, (double)db_bytes / 1048576.0, vm_kb("VmHWM:") / 1024);
    return cleanup(&b, 0, NULL, NULL);
}
