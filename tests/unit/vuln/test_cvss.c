/* test_cvss.c — CVSS parsing and scoring (vuln/cvss.h): every CVSS metric
 * of the NVD responses in ../shared/data/osv/nvd scores as NVD published it;
 * the examples of FIRST's specifications and reference data (v3.1 examples
 * document, v4.0 reference vectors); the v3.0/v3.1 Roundup difference;
 * boundaries (no impact, scope changed, the 10.0 cap, x.x5 ties in v4.0);
 * the vector syntax rules (order, duplicates, mandatory metrics, values);
 * the qualitative ratings. */
#include "vuln/cvss.h"

#include "formats/alert.h"
#include "lib/arena.h"
#include "lib/json.h"

#include "test.h"

#include <dirent.h>
#include <math.h>
#include <strings.h>

/* Scores compared in tenths: 9.8 and 9.8000000001 are one score. */
static long tenths(double x)
{
    return lround(x * 10.0);
}

/* Parses v (strictly) and checks its base score and full score (cvss_score);
 * full < 0 means "same as base". */
static void check_scores(const char *v, double base, double full)
{
    struct cvss c;
    struct kb_why why = {{0}};
    kb_err e = cvss_parse(v, &c, &why);
    T_CHECKF(e == KB_OK, "%s: %s", v, why.msg);
    if (e)
        return;
    if (full < 0)
        full = base;
    double b = cvss_base_score(&c), s = cvss_score(&c);
    T_CHECKF(tenths(b) == tenths(base), "%s: base %.1f, want %.1f", v, b, base);
    T_CHECKF(tenths(s) == tenths(full), "%s: score %.1f, want %.1f", v, s, full);
}

/* --- NVD: every published CVSS metric ----------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct nvd_counts {
    int v30, v31, v40, v2, other;
};

/* Checks one cvssMetricV* array of an NVD CVE record. */
static void check_nvd_metrics(const char *file, const struct json_value *m, struct nvd_counts *n)
{
    size_t kn = m->key_len;
    bool v2 = kn == 12 && memcmp(m->key, "cvssMetricV2", 12) == 0;
    for (const struct json_value *el = m->type == JSON_ARRAY ? m->u.child : NULL; el;
         el = el->next) {
        const struct json_value *data = json_get(el, "cvssData");
        struct kb_str vec = json_str(json_get(data, "vectorString"));
        double want = -1;
        T_CHECKF(vec.p && json_as_double(json_get(data, "baseScore"), &want),
                 "%s: %.*s without vectorString or baseScore", file, (int)kn, m->key);
        if (!vec.p)
            continue;
        struct cvss c;
        struct kb_why why = {{0}};
        kb_err e = cvss_parse_n(vec.p, vec.n, 0, &c, &why);
        if (v2) {
            /* koban does not score v2: it must say so, not guess */
            T_CHECKF(e == KB_EUNSUPPORTED, "%s: v2 %.*s: got %d", file, (int)vec.n, vec.p, e);
            n->v2++;
            continue;
        }
        T_CHECKF(e == KB_OK, "%s: %.*s: %s", file, (int)vec.n, vec.p, why.msg);
        if (e)
            continue;
        double got = cvss_base_score(&c);
        T_CHECKF(tenths(got) == tenths(want), "%s: %.*s: computed %.1f, NVD says %.1f", file,
                 (int)vec.n, vec.p, got, want);
        /* baseSeverity, when given, is the specification's rating in capitals */
        struct kb_str sev = json_str(json_get(data, "baseSeverity"));
        if (!sev.p)
            sev = json_str(json_get(el, "baseSeverity"));
        if (sev.p) {
            const char *mine = cvss_severity(got);
            T_CHECKF(strlen(mine) == sev.n && strncasecmp(mine, sev.p, sev.n) == 0,
                     "%s: %.*s: severity %s, NVD says %.*s", file, (int)vec.n, vec.p, mine,
                     (int)sev.n, sev.p);
        }
        if (c.version == CVSS_V3_0)
            n->v30++;
        else if (c.version == CVSS_V3_1)
            n->v31++;
        else
            n->v40++;
    }
}

static void test_nvd_published_scores(void)
{
    T_NEED_DATA(data);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/osv/nvd", data);
    DIR *d = opendir(dir);
    T_CHECKF(d != NULL, "%s: cannot open", dir);
    if (!d)
        return;
    char *names[256];
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < KB_ARRAY_LEN(names)) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] != '.' && l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
            names[nn++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_str);
    T_CHECKF(nn > 0, "%s: no .json files", dir);

    struct nvd_counts n = {0};
    struct arena a;
    arena_init(&a, 64u << 20);
    for (size_t k = 0; k < nn; k++) {
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        size_t len = 0;
        char *text = t_read_file(path, &len);
        T_CHECKF(text != NULL, "%s: unreadable", path);
        struct json_value *root = NULL;
        struct json_error jerr;
        arena_reset(&a);
        if (text && json_parse(text, len, NULL, &a, &root, &jerr) == KB_OK) {
            const struct json_value *vulns = json_get(root, "vulnerabilities");
            for (const struct json_value *v = vulns ? vulns->u.child : NULL; v; v = v->next) {
                const struct json_value *metrics = json_path(v, "cve.metrics");
                if (!metrics || metrics->type != JSON_OBJECT)
                    continue;
                for (const struct json_value *m = metrics->u.child; m; m = m->next)
                    if (m->key_len > 11 && memcmp(m->key, "cvssMetricV", 11) == 0)
                        check_nvd_metrics(names[k], m, &n);
                    else
                        n.other++;
            }
        } else if (text) {
            T_CHECKF(0, "%s: %s", path, jerr.msg);
        }
        free(text);
        free(names[k]);
    }
    arena_release(&a);
    fprintf(stderr, "  nvd: %zu files, %d v3.1 + %d v3.0 + %d v4.0 scores equal to NVD's, "
                    "%d v2 refused as unsupported\n",
            nn, n.v31, n.v30, n.v40, n.v2);
    T_CHECK(n.v31 + n.v30 + n.v40 > 0);
}

/* --- v3.x -------------------------------------------------------------- */

/* CVSS v3.1 Examples document (FIRST): base vectors and their scores. */
static void test_v31_specification_examples(void)
{
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, -1); /* CVE-2013-1937 */
    check_scores("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, -1); /* POODLE */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, -1); /* CVE-2012-1516 */
    check_scores("CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2, -1); /* CVE-2009-0783 */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8, -1); /* CVE-2012-0384 */
    check_scores("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8, -1); /* CVE-2015-1098 */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, -1); /* Heartbleed */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, -1); /* Shellshock */
    check_scores("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8, -1); /* CVE-2008-1447 */
    check_scores("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8, -1); /* CVE-2014-2005 */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8, -1); /* CVE-2010-0467 */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N", 3.8, -1); /* spec section 6 */
}

static void test_v3_boundaries(void)
{
    /* no impact: 0.0, whatever the exploitability, in either scope */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, -1);
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:N", 0.0, -1);
    /* scope changed: 1.08 x (impact + exploitability) capped at 10.0 */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, -1);
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:L/A:L", 8.3, -1);
    /* PR weighs more with scope changed (0.68 / 0.5 instead of 0.62 / 0.27) */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2, -1);
    check_scores("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", 9.1, -1);
    /* the lowest non-zero base score */
    check_scores("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, -1);
    /* 3.0 uses the same base equations */
    check_scores("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, -1);
    check_scores("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, -1);
}

static void test_v3_roundup(void)
{
    /* v3.1 Appendix A: 4.000001 is floating-point noise on 4.0 */
    T_EQ_INT(tenths(cvss_roundup_v31(4.000001)), 40);
    T_EQ_INT(tenths(cvss_roundup_v31(4.02)), 41);
    T_EQ_INT(tenths(cvss_roundup_v31(4.00)), 40);
    T_EQ_INT(tenths(cvss_roundup_v31(4.1)), 41);
    T_EQ_INT(tenths(cvss_roundup_v31(10.0 * 0.92)), 92);
    /* v3.0 section 7: plain "smallest one-decimal number not below" */
    T_EQ_INT(tenths(cvss_roundup_v30(4.000001)), 41);
    T_EQ_INT(tenths(cvss_roundup_v30(4.02)), 41);
    T_EQ_INT(tenths(cvss_roundup_v30(4.00)), 40);
    T_EQ_INT(tenths(cvss_roundup_v30(10.0 * 0.92)), 93); /* 9.200000000000001 */
    /* Where it shows: a temporal score of 10.0 x RC:U (0.92). */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H/RC:U", 10.0, 9.2);
    check_scores("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H/RC:U", 10.0, 9.3);

    /* Over every base vector, 3.0 and 3.1 agree; over base x temporal, 3.0
     * is never lower and never more than 0.1 higher. */
    static const char *AV = "NALP", *AC = "LH", *PR = "NLH", *UI = "NR", *S = "UC", *CIA = "HLN",
                      *E = "XHFPU", *RL = "XUWTO", *RC = "XCRU";
    int n = 0, base_diff = 0, temporal_diff = 0, bad = 0;
    for (int i = 0; i < 4 * 2 * 3 * 2 * 2 * 27; i++) {
        int k = i;
        char v[160];
        int len = snprintf(v, sizeof v, "CVSS:3.1/AV:%c/AC:%c/PR:%c/UI:%c/S:%c/C:%c/I:%c/A:%c",
                           AV[k % 4], AC[k / 4 % 2], PR[k / 8 % 3], UI[k / 24 % 2],
                           S[k / 48 % 2], CIA[k / 96 % 3], CIA[k / 288 % 3], CIA[k / 864 % 3]);
        for (int t = 0; t < 5 * 5 * 4; t++) {
            snprintf(v + len, sizeof v - (size_t)len, "/E:%c/RL:%c/RC:%c", E[t % 5],
                     RL[t / 5 % 5], RC[t / 25]);
            struct cvss c1, c0;
            v[7] = '1';
            kb_err e1 = cvss_parse(v, &c1, NULL);
            v[7] = '0';
            kb_err e0 = cvss_parse(v, &c0, NULL);
            if (e0 || e1) {
                bad++;
                continue;
            }
            n++;
            if (t == 0 && tenths(cvss_base_score(&c0)) != tenths(cvss_base_score(&c1)))
                base_diff++;
            long d = tenths(cvss_score(&c0)) - tenths(cvss_score(&c1));
            if (d)
                temporal_diff++;
            if (d < 0 || d > 1)
                bad++;
        }
    }
    fprintf(stderr, "  %d v3.x base x temporal vectors: 3.0 and 3.1 differ in %d temporal "
                    "scores (by 0.1), in %d base scores\n",
            n, temporal_diff, base_diff);
    T_EQ_INT(n, 2592 * 100);
    T_EQ_INT(base_diff, 0);
    T_EQ_INT(bad, 0);
    T_CHECK(temporal_diff > 0);
}

static void test_v3_temporal_environmental(void)
{
    /* temporal: Roundup(6.1 x 0.94 x 0.97 x 1) = Roundup(5.56198) */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N/E:P/RL:W/RC:C", 6.1, 5.6);
    /* environmental: requirements and modified metrics; MS defaults to S */
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N/E:P/RL:W/RC:C/CR:H/IR:H/AR:H", 6.1,
                 6.8);
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MAV:L/MUI:R", 9.8, 7.8);
    check_scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MC:N/MI:N/MA:N", 9.8, 0.0);
    check_scores("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/MS:C", 8.8, 10.0);
    /* X everywhere is the base score, and the order is free in v3.x */
    check_scores("CVSS:3.1/E:X/AV:N/RL:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:X/MAV:X", 9.8, 9.8);
    struct cvss c;
    T_EQ_INT(cvss_parse("CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N", &c, NULL), KB_OK);
    T_EQ_INT(tenths(cvss_base_score(&c)), 98);
    T_EQ_STR(cvss_nomenclature(&c), "BaseScore");
    T_EQ_INT(cvss_parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U", &c, NULL), KB_OK);
    T_EQ_STR(cvss_nomenclature(&c), "TemporalScore");
    T_EQ_INT(cvss_parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AR:L", &c, NULL), KB_OK);
    T_EQ_STR(cvss_nomenclature(&c), "EnvironmentalScore");
}

/* --- v4.0 -------------------------------------------------------------- */

static void test_v40_base_vectors(void)
{
    /* the extremes and the specification's section 7 example */
    check_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0, -1);
    check_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, -1);
    check_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", 5.1, -1);
    check_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9, -1);
    check_scores("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 1.0, -1);
    /* no impact anywhere: 0.0 */
    check_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0, -1);
    /* vectors with the scores of FIRST's reference implementation */
    static const struct {
        const char *v;
        double score;
    } ref[] = {
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:H/SA:L", 9.2},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:N/SA:L", 7.8},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:L/SA:H", 7.9},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:N/VA:N/SC:L/SI:N/SA:L", 5.3},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:H/VI:H/VA:N/SC:N/SI:L/SA:L", 8.5},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:H", 6.3},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:N/VI:H/VA:H/SC:N/SI:N/SA:L", 6.9},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:P/VC:L/VI:L/VA:N/SC:L/SI:N/SA:N", 4.8},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H", 6.2},
        {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:N/SA:H", 9.5},
        {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:L/VI:L/VA:N/SC:H/SI:N/SA:N", 4.9},
        {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:N/SA:N", 2.1},
        {"CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:N/VI:N/VA:N/SC:N/SI:L/SA:N", 2.3},
        {"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:L/VA:L/SC:L/SI:N/SA:N", 1.8},
        {"CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:L/SI:H/SA:L", 9.4},
        {"CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:N/VI:L/VA:L/SC:H/SI:H/SA:L", 5.0},
        {"CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:H/SA:N", 4.0},
        {"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:N/VI:L/VA:N/SC:L/SI:H/SA:L", 7.0},
        /* half-up ties that binary floating point lands one step below */
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H", 8.6},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(ref); i++)
        check_scores(ref[i].v, ref[i].score, -1);
}

static void test_v40_threat_environmental(void)
{
    /* E:U lowers the score; 0.35 before rounding is 0.4 */
    check_scores("CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N/E:U", 2.0, 0.4);
    /* 8.95 before rounding is 9.0, Critical */
    check_scores("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:H/E:P", 9.5, 9.0);
    /* security requirements (reference data) */
    check_scores("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:H/IR:H/AR:H",
                 7.3, 7.3);
    check_scores("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:M/IR:M/AR:M",
                 7.3, 5.5);
    check_scores("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:L/IR:L/AR:L",
                 7.3, 5.4);
    check_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/CR:H/IR:H/AR:H",
                 0.0, 0.0);
    /* every group, with MSI:S/MSA:S (Safety) and supplemental metrics */
    check_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/E:P/CR:L/IR:L/"
                 "AR:L/MAV:N/MAC:L/MAT:N/MPR:L/MUI:A/MVC:H/MVI:H/MVA:H/MSC:H/MSI:S/MSA:S/S:P/AU:Y/"
                 "R:I/V:C/RE:H/U:Red",
                 8.4, 8.5);
    /* 0.95 before rounding is 1.0 */
    check_scores("CVSS:4.0/AV:P/AC:H/AT:P/PR:L/UI:P/VC:N/VI:L/VA:H/SC:N/SI:L/SA:N/E:U/CR:H/IR:H/"
                 "AR:H/MAV:L/MAC:H/MAT:P/MPR:L/MUI:P/MVC:L/MVI:L/MVA:L/MSC:L/MSI:L/MSA:S/S:N/AU:N/"
                 "R:U/V:D/RE:L/U:Clear",
                 4.3, 1.0);
    /* supplemental metrics never change the score */
    check_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:P/AU:Y/R:I/V:C/"
                 "RE:H/U:Red",
                 9.3, 9.3);
    /* explicit X is the same as absent */
    check_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/CR:X/MAV:X/"
                 "U:X",
                 9.3, 9.3);

    struct cvss c;
    char mv[7];
    T_EQ_INT(cvss_parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", &c, NULL),
             KB_OK);
    T_EQ_STR(cvss_nomenclature(&c), "CVSS-B");
    T_EQ_INT(cvss_macrovector(&c, mv), KB_OK);
    T_EQ_STR(mv, "000200");
    T_EQ_INT(cvss_parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/"
                        "MSI:S",
                        &c, NULL),
             KB_OK);
    T_EQ_STR(cvss_nomenclature(&c), "CVSS-BTE");
    T_EQ_INT(cvss_macrovector(&c, mv), KB_OK);
    T_EQ_STR(mv, "000020");
    T_EQ_INT(cvss_parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P", &c,
                        NULL),
             KB_OK);
    T_EQ_STR(cvss_nomenclature(&c), "CVSS-BT");
    T_EQ_INT(cvss_parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/AR:L", &c,
                        NULL),
             KB_OK);
    T_EQ_STR(cvss_nomenclature(&c), "CVSS-BE");
    T_EQ_INT(cvss_parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &c, NULL), KB_OK);
    T_EQ_INT(cvss_macrovector(&c, mv), KB_EINVAL);
}

static void test_v40_order(void)
{
    /* "A vector string must contain metrics in the order shown in Table 23,
     * every other ordering is invalid" — unless the caller relaxes it. */
    const char *v = "CVSS:4.0/AV:L/AC:H/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:N/SA:H/S:N/AU:N/R:I/"
                    "V:C/RE:M/U:Green/MAV:A/MAC:L/MAT:N/MPR:N/MUI:N/MVC:H/MVI:N/MVA:H/MSC:H/MSI:H/"
                    "MSA:H/CR:H/IR:M/AR:H/E:A";
    struct cvss c;
    struct kb_why why = {{0}};
    T_EQ_INT(cvss_parse(v, &c, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "'MAV' after 'U'") != NULL, "%s", why.msg);
    T_EQ_INT(cvss_parse_n(v, strlen(v), CVSS_PARSE_ANY_ORDER, &c, &why), KB_OK);
    T_EQ_INT(tenths(cvss_score(&c)), 86); /* 8.55 lands one step below */
    const char *swapped = "CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
    T_EQ_INT(cvss_parse(swapped, &c, &why), KB_EINVAL);
    T_CHECKF(strstr(why.msg, "'AV' after 'AC'") != NULL, "%s", why.msg);
    T_EQ_INT(cvss_parse_n(swapped, strlen(swapped), CVSS_PARSE_ANY_ORDER, &c, NULL), KB_OK);
    T_EQ_INT(tenths(cvss_base_score(&c)), 93);
    /* the reordered impact metrics some advisories publish */
    const char *mixed = "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/SC:N/VI:H/SI:N/VA:H/SA:N";
    T_EQ_INT(cvss_parse(mixed, &c, NULL), KB_EINVAL);
    T_EQ_INT(cvss_parse_n(mixed, strlen(mixed), CVSS_PARSE_ANY_ORDER, &c, NULL), KB_OK);
    T_EQ_STR(cvss_metric(&c, "SC"), "N");
    T_EQ_STR(cvss_metric(&c, "VA"), "H");
}

/* --- syntax ------------------------------------------------------------ */

static void test_malformed(void)
{
    static const struct {
        const char *v;
        kb_err err;
        const char *why; /* a part of the message */
    } bad[] = {
        /* the specification's invalid examples (v4.0 section 7) */
        {"CVSS:4.0/AV:F/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", KB_EINVAL,
         "metric 'AV': unknown value 'F' (one of N, A, L, P)"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/E:A/E:X", KB_EINVAL,
         "metric 'E' given twice"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/ui:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", KB_EINVAL,
         "unknown metric 'ui'"},
        {"AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", KB_EINVAL,
         "must start with"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/SC:N/SI:N/SA:N", KB_EINVAL,
         "missing mandatory metric 'VA'"},
        /* v3.x */
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", KB_EINVAL, "missing mandatory metric 'A'"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:L", KB_EINVAL, "'AV' given twice"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:A", KB_EINVAL,
         "metric 'E': unknown value 'A' (one of X, H, F, P, U)"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:X/C:H/I:H/A:H", KB_EINVAL, "metric 'S': unknown value"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AT:N", KB_EINVAL, "unknown metric 'AT'"},
        {"CVSS:3.1/AV:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", KB_EINVAL, "unknown value 'n'"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", KB_EINVAL, "trailing '/'"},
        {"CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", KB_EINVAL, "empty metric"},
        {"CVSS:3.1/AV:N/AC/PR:N/UI:N/S:U/C:H/I:H/A:H", KB_EINVAL, "not METRIC:VALUE"},
        {"CVSS:3.1/AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", KB_EINVAL, "unknown value 'NN'"},
        {"CVSS:3.1/AV:/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", KB_EINVAL, "unknown value ''"},
        {"CVSS:3.1/", KB_EINVAL, "empty metric"},
        {"CVSS:3.1", KB_EINVAL, "no metrics after"},
        {"cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", KB_EINVAL, "must start with"},
        {"", KB_EINVAL, "empty vector"},
        {" CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", KB_EINVAL, "must start with"},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n", KB_EINVAL, "unknown value 'H?'"},
        /* other versions */
        {"AV:N/AC:L/Au:N/C:P/I:P/A:P", KB_EUNSUPPORTED, "v2"},
        {"CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", KB_EUNSUPPORTED, "'2.0' is not supported"},
        {"CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", KB_EUNSUPPORTED, "'3.2'"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N", KB_EINVAL,
         "metric 'SI': unknown value 'S'"}, /* S only as MSI */
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:red", KB_EINVAL,
         "(one of X, Clear, Green, Amber, Red)"},
        {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A/E:A", KB_EINVAL,
         "given twice"},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(bad); i++) {
        struct cvss c;
        memset(&c, 0xab, sizeof c);
        struct kb_why why = {{0}};
        kb_err e = cvss_parse(bad[i].v, &c, &why);
        T_CHECKF(e == bad[i].err && strstr(why.msg, bad[i].why) != NULL,
                 "'%s': got %d \"%s\", want %d \"%s\"", bad[i].v, e, why.msg, bad[i].err,
                 bad[i].why);
        T_EQ_INT(c.val[0], 0xab); /* not written on failure */
    }
    /* a NUL inside the given length, the length bound, no vector */
    struct cvss c;
    struct kb_why why = {{0}};
    T_EQ_INT(cvss_parse_n("CVSS:3.1/AV:N\0", 14, 0, &c, &why), KB_EINVAL);
    char big[CVSS_MAX_VECTOR + 64];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    T_EQ_INT(cvss_parse(big, &c, &why), KB_ETOOBIG);
    T_EQ_INT(cvss_parse(NULL, &c, NULL), KB_EINVAL);
    /* the longest valid vector fits */
    const char *all = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A/CR:H/"
                      "IR:H/AR:H/MAV:N/MAC:L/MAT:N/MPR:N/MUI:N/MVC:H/MVI:H/MVA:H/MSC:H/MSI:S/MSA:S/"
                      "S:P/AU:Y/R:I/V:C/RE:H/U:Clear";
    T_CHECK(strlen(all) < CVSS_MAX_VECTOR);
    T_EQ_INT(cvss_parse(all, &c, &why), KB_OK);
    T_EQ_INT(tenths(cvss_score(&c)), 100);
    /* a message never echoes control characters */
    T_EQ_INT(cvss_parse("CVSS:3.1/AV:\x1b[31m/AC:L", &c, &why), KB_EINVAL);
    T_CHECKF(strchr(why.msg, '\x1b') == NULL, "%s", why.msg);
}

static void test_metric_accessor(void)
{
    struct cvss c;
    T_EQ_INT(cvss_parse("CVSS:4.0/AV:A/AC:H/AT:P/PR:L/UI:P/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:P/U:Amber",
                        &c, NULL),
             KB_OK);
    T_EQ_INT(c.version, CVSS_V4_0);
    T_EQ_STR(cvss_metric(&c, "AV"), "A");
    T_EQ_STR(cvss_metric(&c, "E"), "P");
    T_EQ_STR(cvss_metric(&c, "U"), "Amber");
    T_EQ_STR(cvss_metric(&c, "MAV"), "X");
    T_CHECK(cvss_metric(&c, "S ") == NULL);
    T_CHECK(cvss_metric(&c, "Au") == NULL);
    T_EQ_INT(cvss_parse("CVSS:3.0/AV:L/AC:H/PR:H/UI:N/S:U/C:L/I:L/A:L", &c, NULL), KB_OK);
    T_EQ_INT(c.version, CVSS_V3_0);
    T_EQ_STR(cvss_metric(&c, "S"), "U");
    T_EQ_STR(cvss_metric(&c, "RC"), "X");
    T_CHECK(cvss_metric(&c, "AT") == NULL);
}

/* --- ratings ----------------------------------------------------------- */

static void test_severity(void)
{
    static const struct {
        double s;
        const char *name;
        int sev;
    } r[] = {
        {0.0, "None", KB_SEV_NONE},      {0.1, "Low", KB_SEV_LOW},
        {3.9, "Low", KB_SEV_LOW},        {4.0, "Medium", KB_SEV_MEDIUM},
        {6.9, "Medium", KB_SEV_MEDIUM},  {7.0, "High", KB_SEV_HIGH},
        {8.9, "High", KB_SEV_HIGH},      {9.0, "Critical", KB_SEV_CRITICAL},
        {10.0, "Critical", KB_SEV_CRITICAL},
        /* computed doubles next to a boundary are taken at their tenth */
        {3.9999999999, "Medium", KB_SEV_MEDIUM}, {8.9999999999, "Critical", KB_SEV_CRITICAL},
        {6.9000000001, "Medium", KB_SEV_MEDIUM},
        {-1.0, "None", KB_SEV_NONE},     {NAN, "None", KB_SEV_NONE},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(r); i++) {
        T_EQ_STR(cvss_severity(r[i].s), r[i].name);
        T_EQ_INT(cvss_koban_severity(r[i].s), r[i].sev);
    }
}

int main(void)
{
    T_RUN(test_nvd_published_scores);
    T_RUN(test_v31_specification_examples);
    T_RUN(test_v3_boundaries);
    T_RUN(test_v3_roundup);
    T_RUN(test_v3_temporal_environmental);
    T_RUN(test_v40_base_vectors);
    T_RUN(test_v40_threat_environmental);
    T_RUN(test_v40_order);
    T_RUN(test_malformed);
    T_RUN(test_metric_accessor);
    T_RUN(test_severity);
    return t_done();
}
