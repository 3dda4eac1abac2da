/*
 * check_vex.h — one fuzz input through the advisory document readers that
 * need no store, shared by fuzz/fuzz_vex.c and the unit-test smoke run.
 * The first byte chooses (modulo 2): 0 openvex_parse (vuln/openvex.h; the
 * import's parse and check step — matching and applying statements need a
 * store and are not fuzzed here), 1 osv_parse (vuln/osv.h). Each must
 * return KB_OK with a whole document, or an error with a message.
 */
#ifndef KOBAN_FUZZ_CHECK_VEX_H
#define KOBAN_FUZZ_CHECK_VEX_H

#include "check.h"
#include "vuln/openvex.h"
#include "vuln/osv.h"

static inline const char *fz_vex_openvex(const char *text, size_t len, void *stats)
{
    struct openvex_doc d;
    memset(&d, 0, sizeof d);
    struct kb_why why = {{0}};
    kb_err e = openvex_parse(text, len, &d, &why);
    fz_count(stats, e);
    if (e != KB_OK)
        return fz_err_ok(e, why.msg) ? NULL : "openvex_parse: error without a message";
    const char *bad = NULL;
    unsigned sum = 0;
    fz_touch(&sum, d.id);
    fz_touch(&sum, d.author);
    if (d.n > OPENVEX_MAX_STATEMENTS)
        bad = "openvex_parse: too many statements kept";
    for (size_t i = 0; i < d.n; i++) {
        const struct openvex_statement *s = &d.st[i];
        if (!s->vuln)
            bad = "openvex_parse: statement without a vulnerability";
        fz_touch(&sum, s->vuln);
        for (size_t k = 0; k < s->naliases; k++)
            fz_touch(&sum, s->aliases[k]);
        for (size_t k = 0; k < s->nproducts; k++) {
            fz_touch(&sum, s->products[k].id);
            for (size_t j = 0; j < s->products[k].nsubs; j++)
                fz_touch(&sum, s->products[k].subs[j]);
        }
        fz_touch(&sum, s->justification);
        fz_touch(&sum, s->impact);
        fz_touch(&sum, s->action);
        fz_touch(&sum, s->notes);
    }
    openvex_doc_release(&d);
    return bad;
}

static inline const char *fz_vex_osv(const char *text, size_t len, void *stats)
{
    struct osv_record *r = NULL;
    struct kb_why why = {{0}};
    kb_err e = osv_parse(text, len, &r, &why);
    fz_count(stats, e);
    if (e != KB_OK)
        return fz_err_ok(e, why.msg) ? NULL : "osv_parse: error without a message";
    const char *bad = r && r->id ? NULL : "osv_parse: record without an id";
    unsigned sum = 0;
    if (r) {
        fz_touch(&sum, r->id);
        fz_touch(&sum, r->summary);
        fz_touch(&sum, r->details);
        fz_touch(&sum, r->database_specific);
        for (size_t i = 0; i < r->naliases; i++)
            fz_touch(&sum, r->aliases[i]);
    }
    osv_record_free(r);
    return bad;
}

/* NULL when the readers behaved on this input, else why not. */
static inline const char *fz_vex_one(const char *in, size_t size, void *stats)
{
    if (size == 0)
        return NULL;
    return ((unsigned char)in[0] & 1) ? fz_vex_osv(in + 1, size - 1, stats)
                                      : fz_vex_openvex(in + 1, size - 1, stats);
}

#endif
