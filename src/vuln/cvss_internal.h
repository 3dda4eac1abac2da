/*
 * cvss_internal.h — what cvss.c (parsing, v3.x, ratings) and cvss4.c (v4.0
 * scoring) share: the metric tables of each version and the indexes into
 * struct cvss.val. Not for use outside src/vuln/cvss*.c.
 */
#ifndef KOBAN_CVSS_INTERNAL_H
#define KOBAN_CVSS_INTERNAL_H

#include "vuln/cvss.h"

#define CVSS_MAX_VALUES 6

/* One metric of a version's vector table. For an optional metric values[0]
 * is "X" (Not Defined), so an absent metric reads as index 0. */
struct cvss_metric_def {
    const char *name;
    const char *values[CVSS_MAX_VALUES]; /* NULL-terminated when shorter */
    bool mandatory;
};

/* v3.x metrics in the order of the v3.1 specification's Table 15. */
enum cvss3_metric {
    C3_AV, C3_AC, C3_PR, C3_UI, C3_S, C3_C, C3_I, C3_A,            /* base */
    C3_E, C3_RL, C3_RC,                                             /* temporal */
    C3_CR, C3_IR, C3_AR, C3_MAV, C3_MAC, C3_MPR, C3_MUI, C3_MS,     /* environmental */
    C3_MC, C3_MI, C3_MA,
    C3_COUNT
};

/* v4.0 metrics in the order of the v4.0 specification's Table 23. */
enum cvss4_metric {
    C4_AV, C4_AC, C4_AT, C4_PR, C4_UI, C4_VC, C4_VI, C4_VA, C4_SC, C4_SI, C4_SA, /* base */
    C4_E,                                                                     /* threat */
    C4_CR, C4_IR, C4_AR, C4_MAV, C4_MAC, C4_MAT, C4_MPR, C4_MUI, C4_MVC,      /* environmental */
    C4_MVI, C4_MVA, C4_MSC, C4_MSI, C4_MSA,
    C4_S, C4_AU, C4_R, C4_V, C4_RE, C4_U,                                     /* supplemental */
    C4_COUNT
};

extern const struct cvss_metric_def cvss3_metrics[C3_COUNT];
extern const struct cvss_metric_def cvss4_metrics[C4_COUNT];

/* The table and its length for a version. */
const struct cvss_metric_def *cvss_table(enum cvss_version v, size_t *count);

/* The first letter of metric i's value ('X' when absent and optional).
 * Every scored value is one letter; only v4.0 U (Provider Urgency) has
 * longer ones, and it is never scored. */
char cvss_letter(const struct cvss *c, size_t i);

/* v4.0 scoring (cvss4.c). with_te: take threat and environmental metrics
 * into account (false gives CVSS-B). */
double cvss4_score(const struct cvss *c, bool with_te);
void cvss4_macrovector(const struct cvss *c, bool with_te, int eq[6]);

#endif
