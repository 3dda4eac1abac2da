/* cvss.c — CVSS vector parsing for every version, the v3.0 and v3.1
 * equations, and the qualitative ratings (cvss.h). v4.0 scoring is in
 * cvss4.c.
 *
 * The v3.x equations are written in the operation order of the
 * specifications (and of FIRST's reference calculators), one operation per
 * statement where it matters, so that IEEE doubles give the published
 * results: the Roundup functions absorb the rest. */
#include "vuln/cvss_internal.h"

#include "formats/alert.h"

#include <math.h>
#include <stdio.h>

/* Floating-point contraction (fused multiply-add) would change the last bit
 * of intermediate results, and with it a tenth here and there. gcc in ISO C
 * mode does not contract; clang is told so. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* v3.1 specification, Table 15 (v3.0 has the same metrics and values). */
const struct cvss_metric_def cvss3_metrics[C3_COUNT] = {
    [C3_AV] = {"AV", {"N", "A", "L", "P"}, true},
    [C3_AC] = {"AC", {"L", "H"}, true},
    [C3_PR] = {"PR", {"N", "L", "H"}, true},
    [C3_UI] = {"UI", {"N", "R"}, true},
    [C3_S] = {"S", {"U", "C"}, true},
    [C3_C] = {"C", {"H", "L", "N"}, true},
    [C3_I] = {"I", {"H", "L", "N"}, true},
    [C3_A] = {"A", {"H", "L", "N"}, true},
    [C3_E] = {"E", {"X", "H", "F", "P", "U"}, false},
    [C3_RL] = {"RL", {"X", "U", "W", "T", "O"}, false},
    [C3_RC] = {"RC", {"X", "C", "R", "U"}, false},
    [C3_CR] = {"CR", {"X", "H", "M", "L"}, false},
    [C3_IR] = {"IR", {"X", "H", "M", "L"}, false},
    [C3_AR] = {"AR", {"X", "H", "M", "L"}, false},
    [C3_MAV] = {"MAV", {"X", "N", "A", "L", "P"}, false},
    [C3_MAC] = {"MAC", {"X", "L", "H"}, false},
    [C3_MPR] = {"MPR", {"X", "N", "L", "H"}, false},
    [C3_MUI] = {"MUI", {"X", "N", "R"}, false},
    [C3_MS] = {"MS", {"X", "U", "C"}, false},
    [C3_MC] = {"MC", {"X", "N", "L", "H"}, false},
    [C3_MI] = {"MI", {"X", "N", "L", "H"}, false},
    [C3_MA] = {"MA", {"X", "N", "L", "H"}, false},
};

const struct cvss_metric_def *cvss_table(enum cvss_version v, size_t *count)
{
    if (v == CVSS_V4_0) {
        *count = C4_COUNT;
        return cvss4_metrics;
    }
    *count = C3_COUNT;
    return cvss3_metrics;
}

char cvss_letter(const struct cvss *c, size_t i)
{
    size_t n;
    const struct cvss_metric_def *t = cvss_table(c->version, &n);
    if (i >= n)
        return 'X';
    unsigned v = c->val[i];
    return v ? t[i].values[v - 1][0] : 'X';
}

/* Writes s[0..n) into out for a message: printable ASCII as is, anything
 * else as '?', at most 16 bytes then "...". Input is never echoed raw. */
static const char *shown(const char *s, size_t n, char out[24])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 16; i++)
        out[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (n > 16) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

/* "N, A, L, P" for the error that names the allowed values. */
static void value_list(const struct cvss_metric_def *d, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t j = 0; j < CVSS_MAX_VALUES && d->values[j] && k + 1 < cap; j++) {
        int w = snprintf(out + k, cap - k, "%s%s", j ? ", " : "", d->values[j]);
        if (w < 0)
            break;
        k += (size_t)w;
    }
}

/* Reads the "CVSS:x.y/" prefix: the version, and the offset past it. */
static kb_err parse_prefix(const char *s, size_t n, enum cvss_version *v, size_t *off,
                           struct kb_why *why)
{
    static const struct {
        const char *prefix;
        enum cvss_version v;
    } known[] = {{"CVSS:3.0/", CVSS_V3_0}, {"CVSS:3.1/", CVSS_V3_1}, {"CVSS:4.0/", CVSS_V4_0}};
    for (size_t i = 0; i < KB_ARRAY_LEN(known); i++) {
        size_t pn = strlen(known[i].prefix);
        if (n >= pn && memcmp(s, known[i].prefix, pn) == 0) {
            *v = known[i].v;
            *off = pn;
            return KB_OK;
        }
    }
    char tmp[24];
    for (size_t i = 0; i < KB_ARRAY_LEN(known); i++)
        if (n == strlen(known[i].prefix) - 1 && memcmp(s, known[i].prefix, n) == 0)
            return kb_fail(why, KB_EINVAL, "no metrics after '%.*s'", (int)n, s);
    if (n >= 5 && memcmp(s, "CVSS:", 5) == 0) {
        const char *slash = memchr(s, '/', n);
        size_t vn = slash ? (size_t)(slash - s) - 5 : n - 5;
        return kb_fail(why, KB_EUNSUPPORTED, "CVSS version '%s' is not supported (3.0, 3.1, 4.0)",
                       shown(s + 5, vn, tmp));
    }
    /* A CVSS v2 vector has no prefix and an "Au" (Authentication) metric. */
    if ((n >= 3 && memcmp(s, "Au:", 3) == 0) || memmem(s, n, "/Au:", 4))
        return kb_fail(why, KB_EUNSUPPORTED,
                       "no 'CVSS:' prefix: a CVSS v2 vector? only 3.0, 3.1 and 4.0 are scored");
    return kb_fail(why, KB_EINVAL, "not a CVSS vector: it must start with 'CVSS:3.1/', "
                                   "'CVSS:3.0/' or 'CVSS:4.0/'");
}

kb_err cvss_parse_n(const char *s, size_t n, unsigned flags, struct cvss *out, struct kb_why *why)
{
    if (!s)
        return kb_fail(why, KB_EINVAL, "no vector");
    if (n > CVSS_MAX_VECTOR)
        return kb_fail(why, KB_ETOOBIG, "vector of %zu bytes: more than %d", n, CVSS_MAX_VECTOR);
    if (n == 0)
        return kb_fail(why, KB_EINVAL, "empty vector");
    if (memchr(s, '\0', n))
        return kb_fail(why, KB_EINVAL, "NUL byte in the vector");

    struct cvss c;
    memset(&c, 0, sizeof c);
    size_t pos = 0;
    kb_err e = parse_prefix(s, n, &c.version, &pos, why);
    if (e)
        return e;
    size_t count;
    const struct cvss_metric_def *t = cvss_table(c.version, &count);
    bool strict_order = c.version == CVSS_V4_0 && !(flags & CVSS_PARSE_ANY_ORDER);
    int last = -1; /* index of the previous metric, for the v4.0 order */
    char a[24], b[24], list[64];

    /* Each round reads one "NAME:VALUE" up to the next '/' or the end; the
     * position only moves forward, so the loop ends within n rounds. */
    for (;;) {
        const char *f = s + pos;
        const char *end = memchr(f, '/', n - pos);
        size_t fn = end ? (size_t)(end - f) : n - pos;
        if (fn == 0)
            return kb_fail(why, KB_EINVAL, "empty metric at byte %zu%s", pos,
                           pos == n ? " (trailing '/')" : "");
        const char *colon = memchr(f, ':', fn);
        if (!colon)
            return kb_fail(why, KB_EINVAL, "'%s' at byte %zu: not METRIC:VALUE",
                           shown(f, fn, a), pos);
        size_t kn = (size_t)(colon - f), vn = fn - kn - 1;
        int m = -1;
        for (size_t i = 0; i < count; i++)
            if (strlen(t[i].name) == kn && memcmp(t[i].name, f, kn) == 0) {
                m = (int)i;
                break;
            }
        if (m < 0)
            return kb_fail(why, KB_EINVAL, "unknown metric '%s' for CVSS %s (names are "
                                           "case-sensitive)",
                           shown(f, kn, a), c.version == CVSS_V4_0 ? "4.0" : "3.x");
        const struct cvss_metric_def *d = &t[m];
        if (c.val[m])
            return kb_fail(why, KB_EINVAL, "metric '%s' given twice", d->name);
        int v = -1;
        for (size_t j = 0; j < CVSS_MAX_VALUES && d->values[j]; j++)
            if (strlen(d->values[j]) == vn && memcmp(d->values[j], colon + 1, vn) == 0) {
                v = (int)j;
                break;
            }
        if (v < 0) {
            value_list(d, list, sizeof list);
            return kb_fail(why, KB_EINVAL, "metric '%s': unknown value '%s' (one of %s)", d->name,
                           shown(colon + 1, vn, b), list);
        }
        if (strict_order && m < last)
            return kb_fail(why, KB_EINVAL,
                           "metric '%s' after '%s': CVSS 4.0 requires the specification's order "
                           "(AV/AC/AT/PR/UI/VC/VI/VA/SC/SI/SA/E/CR/IR/AR/MAV/.../U)",
                           d->name, t[last].name);
        last = m;
        c.val[m] = (uint8_t)(v + 1);
        if (!end)
            break;
        pos += fn + 1;
    }
    for (size_t i = 0; i < count; i++)
        if (t[i].mandatory && !c.val[i])
            return kb_fail(why, KB_EINVAL, "missing mandatory metric '%s'", t[i].name);
    *out = c;
    return KB_OK;
}

kb_err cvss_parse(const char *vector, struct cvss *out, struct kb_why *why)
{
    if (!vector)
        return kb_fail(why, KB_EINVAL, "no vector");
    return cvss_parse_n(vector, strnlen(vector, CVSS_MAX_VECTOR + 1), 0, out, why);
}

const char *cvss_metric(const struct cvss *c, const char *name)
{
    size_t n;
    const struct cvss_metric_def *t = cvss_table(c->version, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return c->val[i] ? t[i].values[c->val[i] - 1] : "X";
    return NULL;
}

/* --- v3.x ------------------------------------------------------------ */

double cvss_roundup_v31(double x)
{
    /* Appendix A: round to an integer at 1e-5 first, so that 4.000001 (a
     * floating-point artefact of 4.0) is not taken up to 4.1. */
    long long i = llround(x * 100000.0);
    if (i % 10000 == 0)
        return (double)i / 100000.0;
    return (double)(i / 10000 + 1) / 10.0;
}

double cvss_roundup_v30(double x)
{
    return ceil(x * 10.0) / 10.0;
}

static double roundup3(const struct cvss *c, double x)
{
    return c->version == CVSS_V3_0 ? cvss_roundup_v30(x) : cvss_roundup_v31(x);
}

/* Section 7.4 weights by letter. */
static double w_av(char v)
{
    return v == 'N' ? 0.85 : v == 'A' ? 0.62 : v == 'L' ? 0.55 : 0.2;
}
static double w_ac(char v)
{
    return v == 'L' ? 0.77 : 0.44;
}
static double w_pr(char v, bool changed)
{
    if (v == 'N')
        return 0.85;
    if (v == 'L')
        return changed ? 0.68 : 0.62;
    return changed ? 0.5 : 0.27;
}
static double w_ui(char v)
{
    return v == 'N' ? 0.85 : 0.62;
}
static double w_cia(char v)
{
    return v == 'H' ? 0.56 : v == 'L' ? 0.22 : 0.0;
}
static double w_e(char v)
{
    return v == 'F' ? 0.97 : v == 'P' ? 0.94 : v == 'U' ? 0.91 : 1.0; /* X, H */
}
static double w_rl(char v)
{
    return v == 'W' ? 0.97 : v == 'T' ? 0.96 : v == 'O' ? 0.95 : 1.0; /* X, U */
}
static double w_rc(char v)
{
    return v == 'R' ? 0.96 : v == 'U' ? 0.92 : 1.0; /* X, C */
}
static double w_req(char v)
{
    return v == 'H' ? 1.5 : v == 'L' ? 0.5 : 1.0; /* X, M */
}

/* The modified metric when defined, else its base metric. */
static char mod3(const struct cvss *c, enum cvss3_metric m, enum cvss3_metric base)
{
    char v = cvss_letter(c, m);
    return v == 'X' ? cvss_letter(c, base) : v;
}

static double base3(const struct cvss *c)
{
    bool changed = cvss_letter(c, C3_S) == 'C';
    double iss = 1.0 - ((1.0 - w_cia(cvss_letter(c, C3_C))) * (1.0 - w_cia(cvss_letter(c, C3_I))) *
                        (1.0 - w_cia(cvss_letter(c, C3_A))));
    double impact;
    if (changed) {
        double lin = 7.52 * (iss - 0.029);
        double pw = 3.25 * pow(iss - 0.02, 15);
        impact = lin - pw;
    } else {
        impact = 6.42 * iss;
    }
    double expl = 8.22 * w_av(cvss_letter(c, C3_AV)) * w_ac(cvss_letter(c, C3_AC)) *
                  w_pr(cvss_letter(c, C3_PR), changed) * w_ui(cvss_letter(c, C3_UI));
    if (impact <= 0)
        return 0.0;
    double sum = impact + expl;
    if (changed)
        sum = 1.08 * sum;
    return roundup3(c, fmin(sum, 10.0));
}

static double temporal3(const struct cvss *c)
{
    double b = base3(c);
    double e = b * w_e(cvss_letter(c, C3_E));
    e = e * w_rl(cvss_letter(c, C3_RL));
    e = e * w_rc(cvss_letter(c, C3_RC));
    return roundup3(c, e);
}

static double environmental3(const struct cvss *c)
{
    char ms = mod3(c, C3_MS, C3_S);
    bool changed = ms == 'C';
    double mc = w_req(cvss_letter(c, C3_CR)) * w_cia(mod3(c, C3_MC, C3_C));
    double mi = w_req(cvss_letter(c, C3_IR)) * w_cia(mod3(c, C3_MI, C3_I));
    double ma = w_req(cvss_letter(c, C3_AR)) * w_cia(mod3(c, C3_MA, C3_A));
    double miss = fmin(1.0 - ((1.0 - mc) * (1.0 - mi) * (1.0 - ma)), 0.915);
    double impact;
    if (!changed) {
        impact = 6.42 * miss;
    } else if (c->version == CVSS_V3_0) {
        double lin = 7.52 * (miss - 0.029);
        double pw = 3.25 * pow(miss - 0.02, 15);
        impact = lin - pw;
    } else {
        double lin = 7.52 * (miss - 0.029);
        double in = miss * 0.9731;
        double pw = 3.25 * pow(in - 0.02, 13);
        impact = lin - pw;
    }
    double expl = 8.22 * w_av(mod3(c, C3_MAV, C3_AV)) * w_ac(mod3(c, C3_MAC, C3_AC)) *
                  w_pr(mod3(c, C3_MPR, C3_PR), changed) * w_ui(mod3(c, C3_MUI, C3_UI));
    if (impact <= 0)
        return 0.0;
    double sum = impact + expl;
    if (changed)
        sum = 1.08 * sum;
    double r = roundup3(c, fmin(sum, 10.0));
    r = r * w_e(cvss_letter(c, C3_E));
    r = r * w_rl(cvss_letter(c, C3_RL));
    r = r * w_rc(cvss_letter(c, C3_RC));
    return roundup3(c, r);
}

/* Whether any of metrics [from, to] is defined (not X). */
static bool any_defined(const struct cvss *c, size_t from, size_t to)
{
    for (size_t i = from; i <= to; i++)
        if (cvss_letter(c, i) != 'X')
            return true;
    return false;
}

/* --- the API ----------------------------------------------------------- */

double cvss_base_score(const struct cvss *c)
{
    if (c->version == CVSS_V4_0)
        return cvss4_score(c, false);
    return base3(c);
}

double cvss_score(const struct cvss *c)
{
    if (c->version == CVSS_V4_0)
        return cvss4_score(c, true);
    if (any_defined(c, C3_CR, C3_MA))
        return environmental3(c);
    return temporal3(c);
}

const char *cvss_nomenclature(const struct cvss *c)
{
    if (c->version != CVSS_V4_0) {
        if (any_defined(c, C3_CR, C3_MA))
            return "EnvironmentalScore";
        return any_defined(c, C3_E, C3_RC) ? "TemporalScore" : "BaseScore";
    }
    bool t = any_defined(c, C4_E, C4_E), e = any_defined(c, C4_CR, C4_MSA);
    return t ? (e ? "CVSS-BTE" : "CVSS-BT") : (e ? "CVSS-BE" : "CVSS-B");
}

kb_err cvss_macrovector(const struct cvss *c, char out[7])
{
    if (c->version != CVSS_V4_0)
        return KB_EINVAL;
    int eq[6];
    cvss4_macrovector(c, true, eq);
    for (int i = 0; i < 6; i++)
        out[i] = (char)('0' + eq[i]);
    out[6] = '\0';
    return KB_OK;
}

/* Section 5 (both versions): None 0.0, Low 0.1-3.9, Medium 4.0-6.9, High
 * 7.0-8.9, Critical 9.0-10.0, on the score in tenths. */
static int rating(double score)
{
    if (!(score >= 0.05)) /* also NaN */
        return KB_SEV_NONE;
    long t = lround(score * 10.0);
    if (t < 40)
        return KB_SEV_LOW;
    if (t < 70)
        return KB_SEV_MEDIUM;
    if (t < 90)
        return KB_SEV_HIGH;
    return KB_SEV_CRITICAL;
}

const char *cvss_severity(double score)
{
    static const char *const names[] = {"None", "Low", "Medium", "High", "Critical"};
    return names[rating(score)];
}

int cvss_koban_severity(double score)
{
    return rating(score);
}
