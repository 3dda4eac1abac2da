/* cvss4.c — CVSS v4.0 scoring (cvss.h): MacroVectors and interpolation, as
 * section 8.2 of the v4.0 specification describes, with the MacroVector
 * scores of its section 8.3.
 *
 * The score of a vector is the score of its MacroVector (the score of the
 * MacroVector's highest severity vector) minus the mean, over the EQs that
 * have a lower MacroVector, of (score difference to that lower MacroVector)
 * x (severity distance of the vector from the highest severity vector) /
 * (depth of the MacroVector). Every step below is done in IEEE doubles in
 * the order FIRST's reference calculator does it, so that the tenths agree
 * with it; the final rounding is the specification's "rounded to one decimal
 * place", half up, after adding 1e-6 so that a value one floating-point step
 * below an x.x5 tie (5.6499999999999995 for 5.65) is rounded as the tie it
 * stands for, as the reference implementations do since 2024. */
#include "vuln/cvss_internal.h"

#include <math.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* v4.0 specification, Table 23, in its order. */
const struct cvss_metric_def cvss4_metrics[C4_COUNT] = {
    [C4_AV] = {"AV", {"N", "A", "L", "P"}, true},
    [C4_AC] = {"AC", {"L", "H"}, true},
    [C4_AT] = {"AT", {"N", "P"}, true},
    [C4_PR] = {"PR", {"N", "L", "H"}, true},
    [C4_UI] = {"UI", {"N", "P", "A"}, true},
    [C4_VC] = {"VC", {"H", "L", "N"}, true},
    [C4_VI] = {"VI", {"H", "L", "N"}, true},
    [C4_VA] = {"VA", {"H", "L", "N"}, true},
    [C4_SC] = {"SC", {"H", "L", "N"}, true},
    [C4_SI] = {"SI", {"H", "L", "N"}, true},
    [C4_SA] = {"SA", {"H", "L", "N"}, true},
    [C4_E] = {"E", {"X", "A", "P", "U"}, false},
    [C4_CR] = {"CR", {"X", "H", "M", "L"}, false},
    [C4_IR] = {"IR", {"X", "H", "M", "L"}, false},
    [C4_AR] = {"AR", {"X", "H", "M", "L"}, false},
    [C4_MAV] = {"MAV", {"X", "N", "A", "L", "P"}, false},
    [C4_MAC] = {"MAC", {"X", "L", "H"}, false},
    [C4_MAT] = {"MAT", {"X", "N", "P"}, false},
    [C4_MPR] = {"MPR", {"X", "N", "L", "H"}, false},
    [C4_MUI] = {"MUI", {"X", "N", "P", "A"}, false},
    [C4_MVC] = {"MVC", {"X", "H", "L", "N"}, false},
    [C4_MVI] = {"MVI", {"X", "H", "L", "N"}, false},
    [C4_MVA] = {"MVA", {"X", "H", "L", "N"}, false},
    [C4_MSC] = {"MSC", {"X", "H", "L", "N"}, false},
    [C4_MSI] = {"MSI", {"X", "S", "H", "L", "N"}, false},
    [C4_MSA] = {"MSA", {"X", "S", "H", "L", "N"}, false},
    [C4_S] = {"S", {"X", "N", "P"}, false},
    [C4_AU] = {"AU", {"X", "N", "Y"}, false},
    [C4_R] = {"R", {"X", "A", "U", "I"}, false},
    [C4_V] = {"V", {"X", "D", "C"}, false},
    [C4_RE] = {"RE", {"X", "L", "M", "H"}, false},
    [C4_U] = {"U", {"X", "Clear", "Green", "Amber", "Red"}, false},
};

/* Scores of all MacroVectors, in tenths (0: no such MacroVector), indexed
 * [EQ1][EQ2][EQ3][EQ4 * 6 + EQ5 * 2 + EQ6]. Data of the CVSS v4.0
 * specification, section 8.3 ("Scores of all MacroVectors"), which
 * publishes them as cvss_lookup.js in FIRST's CVSS v4.0 calculator
 * (github.com/FIRSTdotorg/cvss-v4-calculator); 270 MacroVectors. With
 * EQ3 = 2 only EQ6 = 1 exists. */
static const uint8_t macro_score[3][2][3][18] = {
    /* 000 */ {{{100,  99,  98,  95,  95,  92,  100,  96,  93,  87,  91,  81,   93,  90,  89,  80,  81,  68},
    /* 001 */ { 98,  95,  95,  92,  90,  84,   93,  92,  89,  81,  81,  65,   88,  80,  78,  70,  69,  48},
    /* 002 */ {  0,  92,   0,  82,   0,  72,    0,  79,   0,  69,   0,  50,    0,  69,   0,  55,   0,  27}},
    /* 010 */ {{ 99,  97,  95,  92,  92,  85,   95,  91,  90,  83,  84,  71,   92,  81,  82,  71,  72,  53},
    /* 011 */ { 95,  93,  92,  85,  85,  73,   92,  82,  80,  72,  70,  59,   84,  70,  71,  52,  50,  30},
    /* 012 */ {  0,  86,   0,  75,   0,  52,    0,  71,   0,  52,   0,  29,    0,  63,   0,  29,   0,  17}}},
    /* 100 */ {{{ 98,  95,  94,  87,  91,  81,   94,  89,  86,  74,  77,  64,   87,  75,  74,  63,  63,  49},
    /* 101 */ { 94,  89,  88,  77,  76,  67,   86,  76,  74,  58,  59,  50,   72,  57,  57,  52,  52,  25},
    /* 102 */ {  0,  83,   0,  70,   0,  54,    0,  65,   0,  58,   0,  26,    0,  53,   0,  21,   0,  13}},
    /* 110 */ {{ 95,  90,  88,  76,  76,  70,   90,  77,  75,  62,  61,  53,   77,  66,  68,  59,  52,  30},
    /* 111 */ { 89,  78,  76,  67,  62,  58,   74,  59,  57,  57,  47,  23,   61,  52,  57,  29,  24,  16},
    /* 112 */ {  0,  71,   0,  59,   0,  30,    0,  58,   0,  26,   0,  15,    0,  23,   0,  13,   0,   6}}},
    /* 200 */ {{{ 93,  87,  86,  72,  75,  58,   86,  74,  74,  61,  56,  34,   70,  54,  52,  40,  40,  22},
    /* 201 */ { 85,  75,  74,  55,  62,  51,   72,  57,  55,  41,  46,  19,   53,  36,  34,  19,  19,   8},
    /* 202 */ {  0,  64,   0,  51,   0,  20,    0,  47,   0,  21,   0,  11,    0,  24,   0,   9,   0,   4}},
    /* 210 */ {{ 88,  75,  73,  53,  60,  50,   73,  55,  59,  40,  41,  20,   54,  43,  45,  22,  20,  11},
    /* 211 */ { 75,  55,  58,  45,  40,  21,   61,  51,  48,  18,  20,   9,   46,  18,  17,   7,   8,   2},
    /* 212 */ {  0,  53,   0,  24,   0,  14,    0,  24,   0,  12,   0,   5,    0,  10,   0,   3,   0,   1}}},
};

/* Severity levels for the severity distance, in tenths, most severe 0
 * (specification section 8.2: one step per metric value in Section 2's
 * order). E takes no part in distances. */
static int level(enum cvss4_metric m, char v)
{
    switch (m) {
    case C4_AV:
        return v == 'N' ? 0 : v == 'A' ? 1 : v == 'L' ? 2 : 3;
    case C4_PR:
        return v == 'N' ? 0 : v == 'L' ? 1 : 2;
    case C4_UI:
        return v == 'N' ? 0 : v == 'P' ? 1 : 2;
    case C4_AC:
        return v == 'L' ? 0 : 1;
    case C4_AT:
        return v == 'N' ? 0 : 1;
    case C4_VC:
    case C4_VI:
    case C4_VA:
        return v == 'H' ? 0 : v == 'L' ? 1 : 2;
    case C4_SC:
    case C4_SI:
    case C4_SA: /* S (Safety) exists only as a modified SI / SA */
        return v == 'S' ? 0 : v == 'H' ? 1 : v == 'L' ? 2 : 3;
    case C4_CR:
    case C4_IR:
    case C4_AR:
        return v == 'H' ? 0 : v == 'M' ? 1 : 2;
    default:
        return 0;
    }
}

/* The value a metric takes in scoring: threat and environmental metrics
 * only when with_te; E:X is E:A, CR/IR/AR:X are H (the worst case, as the
 * specification says); a defined modified metric replaces its base metric. */
static char eff(const struct cvss *c, enum cvss4_metric m, bool with_te)
{
    switch (m) {
    case C4_E: {
        char v = with_te ? cvss_letter(c, C4_E) : 'X';
        return v == 'X' ? 'A' : v;
    }
    case C4_CR:
    case C4_IR:
    case C4_AR: {
        char v = with_te ? cvss_letter(c, m) : 'X';
        return v == 'X' ? 'H' : v;
    }
    default:
        break;
    }
    if (with_te && m <= C4_SA) {
        /* MAV..MSA follow AV..SA in the same order, with AT after AC */
        static const enum cvss4_metric modified[] = {
            [C4_AV] = C4_MAV, [C4_AC] = C4_MAC, [C4_AT] = C4_MAT, [C4_PR] = C4_MPR,
            [C4_UI] = C4_MUI, [C4_VC] = C4_MVC, [C4_VI] = C4_MVI, [C4_VA] = C4_MVA,
            [C4_SC] = C4_MSC, [C4_SI] = C4_MSI, [C4_SA] = C4_MSA,
        };
        char v = cvss_letter(c, modified[m]);
        if (v != 'X')
            return v;
    }
    return cvss_letter(c, m);
}

void cvss4_macrovector(const struct cvss *c, bool with_te, int eq[6])
{
    char av = eff(c, C4_AV, with_te), pr = eff(c, C4_PR, with_te), ui = eff(c, C4_UI, with_te);
    char vc = eff(c, C4_VC, with_te), vi = eff(c, C4_VI, with_te), va = eff(c, C4_VA, with_te);
    char si = eff(c, C4_SI, with_te), sa = eff(c, C4_SA, with_te);
    /* Table 24: EQ1 (AV/PR/UI) */
    if (av == 'N' && pr == 'N' && ui == 'N')
        eq[0] = 0;
    else if ((av == 'N' || pr == 'N' || ui == 'N') && av != 'P')
        eq[0] = 1;
    else
        eq[0] = 2;
    /* Table 25: EQ2 (AC/AT) */
    eq[1] = eff(c, C4_AC, with_te) == 'L' && eff(c, C4_AT, with_te) == 'N' ? 0 : 1;
    /* Table 26: EQ3 (VC/VI/VA) */
    if (vc == 'H' && vi == 'H')
        eq[2] = 0;
    else if (vc == 'H' || vi == 'H' || va == 'H')
        eq[2] = 1;
    else
        eq[2] = 2;
    /* Table 27: EQ4 (SC/SI/SA; S only through MSI/MSA) */
    if (si == 'S' || sa == 'S')
        eq[3] = 0;
    else if (eff(c, C4_SC, with_te) == 'H' || si == 'H' || sa == 'H')
        eq[3] = 1;
    else
        eq[3] = 2;
    /* Table 28: EQ5 (E) */
    char e = eff(c, C4_E, with_te);
    eq[4] = e == 'A' ? 0 : e == 'P' ? 1 : 2;
    /* Table 29: EQ6 (CR/IR/AR with VC/VI/VA) */
    bool high = (eff(c, C4_CR, with_te) == 'H' && vc == 'H') ||
                (eff(c, C4_IR, with_te) == 'H' && vi == 'H') ||
                (eff(c, C4_AR, with_te) == 'H' && va == 'H');
    eq[5] = high ? 0 : 1;
}

/* The MacroVector's score in tenths; 0 when eq is outside the table or no
 * such MacroVector exists. */
static int macro(int e1, int e2, int e3, int e4, int e5, int e6)
{
    if (e1 > 2 || e2 > 1 || e3 > 2 || e4 > 2 || e5 > 2 || e6 > 1)
        return 0;
    return macro_score[e1][e2][e3][e4 * 6 + e5 * 2 + e6];
}

/* Highest severity vectors of each MacroVector level (specification Tables
 * 24 to 30), as levels of their metrics, in the reference calculator's
 * order (the first one the vector does not exceed is used). */
struct maxes {
    int n;
    uint8_t v[5][6];
};
/* EQ1: AV, PR, UI */
static const struct maxes eq1_max[3] = {
    {1, {{0, 0, 0}}},                       /* AV:N/PR:N/UI:N */
    {3, {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}, /* AV:A/PR:N/UI:N, AV:N/PR:L/UI:N, AV:N/PR:N/UI:P */
    {2, {{3, 0, 0}, {1, 1, 1}}},            /* AV:P/PR:N/UI:N, AV:A/PR:L/UI:P */
};
/* EQ2: AC, AT */
static const struct maxes eq2_max[2] = {
    {1, {{0, 0}}},         /* AC:L/AT:N */
    {2, {{1, 0}, {0, 1}}}, /* AC:H/AT:N, AC:L/AT:P */
};
/* EQ3+EQ6 (Table 30): VC, VI, VA, CR, IR, AR; [EQ3][EQ6], 20 cannot exist */
static const struct maxes eq36_max[3][2] = {
    {{1, {{0, 0, 0, 0, 0, 0}}},                        /* VC:H/VI:H/VA:H/CR:H/IR:H/AR:H */
     {2, {{0, 0, 1, 1, 1, 0}, {0, 0, 0, 1, 1, 1}}}},   /* H/H/L/M/M/H, H/H/H/M/M/M */
    {{2, {{1, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0}}},    /* L/H/H/H/H/H, H/L/H/H/H/H */
     {5,
      {{1, 0, 1, 0, 1, 0},     /* L/H/L/H/M/H */
       {1, 0, 0, 0, 1, 1},     /* L/H/H/H/M/M */
       {0, 1, 0, 1, 0, 1},     /* H/L/H/M/H/M */
       {0, 1, 1, 1, 0, 0},     /* H/L/L/M/H/H */
       {1, 1, 0, 0, 0, 1}}}},  /* L/L/H/H/H/M */
    {{0, {{0}}}, {1, {{1, 1, 1, 0, 0, 0}}}}, /* -, L/L/L/H/H/H */
};
/* EQ4: SC, SI, SA */
static const struct maxes eq4_max[3] = {
    {1, {{1, 0, 0}}}, /* SC:H/SI:S/SA:S */
    {1, {{1, 1, 1}}}, /* SC:H/SI:H/SA:H */
    {1, {{2, 2, 2}}}, /* SC:L/SI:L/SA:L */
};

/* Depth of each MacroVector level plus one, in steps: the divisor of the
 * proportion of distance, as FIRST's reference calculator tabulates it. */
static const int depth_eq1[3] = {1, 4, 5};
static const int depth_eq2[2] = {1, 2};
static const int depth_eq36[3][2] = {{7, 6}, {8, 8}, {0, 10}};
static const int depth_eq4[3] = {6, 5, 4};

static const enum cvss4_metric eq1_metrics[3] = {C4_AV, C4_PR, C4_UI};
static const enum cvss4_metric eq2_metrics[2] = {C4_AC, C4_AT};
static const enum cvss4_metric eq36_metrics[6] = {C4_VC, C4_VI, C4_VA, C4_CR, C4_IR, C4_AR};
static const enum cvss4_metric eq4_metrics[3] = {C4_SC, C4_SI, C4_SA};

/* Severity distances of the vector from one highest severity vector, per
 * metric, as doubles in tenths (0.1 per step: the reference works in those
 * doubles, and the last bit of the result depends on it). Returns false
 * when the vector is more severe than max in some metric. */
static bool distances(const int *lv, const uint8_t *max, int n, double *d)
{
    bool ok = true;
    for (int i = 0; i < n; i++) {
        d[i] = (double)lv[i] / 10.0 - (double)max[i] / 10.0;
        if (d[i] < 0)
            ok = false;
    }
    return ok;
}

/* Finds the first highest severity vector of one EQ level the vector does
 * not exceed, and gives the distances from it (with none, which the tables
 * rule out, the distances from the last). */
static void eq_distances(const struct cvss *c, bool with_te, const struct maxes *mx,
                         const enum cvss4_metric *ms, int n, double *d)
{
    int lv[6];
    for (int i = 0; i < n; i++)
        lv[i] = level(ms[i], eff(c, ms[i], with_te));
    for (int k = 0; k < mx->n; k++)
        if (distances(lv, mx->v[k], n, d))
            return;
}

double cvss4_score(const struct cvss *c, bool with_te)
{
    /* No impact on either system: 0.0 whatever else. */
    static const enum cvss4_metric impact[] = {C4_VC, C4_VI, C4_VA, C4_SC, C4_SI, C4_SA};
    bool none = true;
    for (size_t i = 0; i < KB_ARRAY_LEN(impact); i++)
        if (eff(c, impact[i], with_te) != 'N')
            none = false;
    if (none)
        return 0.0;

    int eq[6];
    cvss4_macrovector(c, with_te, eq);
    int e1 = eq[0], e2 = eq[1], e3 = eq[2], e4 = eq[3], e5 = eq[4], e6 = eq[5];
    double value = (double)macro(e1, e2, e3, e4, e5, e6) / 10.0;

    /* 1a. the next lower MacroVector of each EQ (EQ3 and EQ6 together) */
    int lower[5];
    lower[0] = macro(e1 + 1, e2, e3, e4, e5, e6);
    lower[1] = macro(e1, e2 + 1, e3, e4, e5, e6);
    if (e3 == 0 && e6 == 0) {
        /* two ways down (00 -> 01, 00 -> 10): the higher score */
        int left = macro(e1, e2, e3, e4, e5, e6 + 1), right = macro(e1, e2, e3 + 1, e4, e5, e6);
        lower[2] = left > right ? left : right;
    } else if (e3 == 1 && e6 == 0) {
        lower[2] = macro(e1, e2, e3, e4, e5, e6 + 1); /* 10 -> 11 */
    } else if (e6 == 1 && e3 < 2) {
        lower[2] = macro(e1, e2, e3 + 1, e4, e5, e6); /* 01 -> 11, 11 -> 21 */
    } else {
        lower[2] = 0; /* 21: none below */
    }
    lower[3] = macro(e1, e2, e3, e4 + 1, e5, e6);
    lower[4] = macro(e1, e2, e3, e4, e5 + 1, e6);

    /* 1b. severity distances from the highest severity vectors */
    double d1[3] = {0}, d2[2] = {0}, d36[6] = {0}, d4[3] = {0};
    eq_distances(c, with_te, &eq1_max[e1], eq1_metrics, 3, d1);
    eq_distances(c, with_te, &eq2_max[e2], eq2_metrics, 2, d2);
    eq_distances(c, with_te, &eq36_max[e3][e6], eq36_metrics, 6, d36);
    eq_distances(c, with_te, &eq4_max[e4], eq4_metrics, 3, d4);
    double cur[4];
    cur[0] = d1[0] + d1[1] + d1[2];
    cur[1] = d2[0] + d2[1];
    cur[2] = d36[0] + d36[1] + d36[2] + d36[3] + d36[4] + d36[5];
    cur[3] = d4[0] + d4[1] + d4[2];
    double depth[4];
    depth[0] = depth_eq1[e1] * 0.1;
    depth[1] = depth_eq2[e2] * 0.1;
    depth[2] = depth_eq36[e3][e6] * 0.1;
    depth[3] = depth_eq4[e4] * 0.1;

    /* 1c, 1d. proportion of the distance times the available score
     * difference; EQ5 (E) has no distance inside a MacroVector, so it only
     * counts in the mean. */
    int n_lower = 0;
    double norm[5] = {0};
    for (int i = 0; i < 5; i++) {
        if (!lower[i])
            continue;
        n_lower++;
        if (i == 4)
            continue;
        double available = value - (double)lower[i] / 10.0;
        double percent = cur[i] / depth[i];
        norm[i] = available * percent;
    }
    /* 2. the mean, 3. subtracted from the MacroVector's score */
    double mean = 0.0;
    if (n_lower) {
        double sum = norm[0] + norm[1];
        sum = sum + norm[2];
        sum = sum + norm[3];
        sum = sum + norm[4];
        mean = sum / n_lower;
    }
    value = value - mean;
    if (value < 0)
        value = 0.0;
    if (value > 10)
        value = 10.0;
    double t = (value + 1e-6) * 10.0;
    double r = floor(t);
    if (t - r >= 0.5)
        r += 1.0;
    return r / 10.0;
}
