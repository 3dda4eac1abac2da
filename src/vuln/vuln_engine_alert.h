/*
 * vuln_engine_alert.h — writes one finding change as koban alert JSON
 * (shape documented in vuln_engine.h). Used by vuln_engine.c.
 *
 * Ownership: everything is borrowed; the text goes into the caller's
 * buffer (NUL-terminated; the NUL is counted in out->len).
 */
#ifndef KOBAN_VULN_ENGINE_ALERT_H
#define KOBAN_VULN_ENGINE_ALERT_H

#include "lib/buf.h"
#include "store/db_vuln.h"

struct ve_alert {
    const struct db_vuln_finding *f; /* the finding as stored after the change */
    const char *aliases;             /* "GHSA-..,DSA-.." or NULL */
    const char *change;              /* fields.change */
    bool resolved;
    int asset_kind; /* enum db_vuln_asset_kind */
    bool internet_facing;
    int64_t now; /* the alert's time (ms) */
};

/* Replaces out's content with the alert. KB_ETOOBIG past out's bound. */
kb_err ve_alert_write(struct buf *out, const struct ve_alert *a);

/* The same, with fields "epss" and "epss_percentile" when dv (may be NULL:
 * none) has an EPSS score for the finding's group key or, failing that,
 * for one of a->aliases (the first listed that has one). KB_EDB when the
 * store cannot be read. */
kb_err ve_alert_write_scored(struct buf *out, const struct ve_alert *a, struct db_vuln *dv);

#endif
