/*
 * check_inventory.h — one fuzz input through the inventory readers
 * (vuln/inventory.h), shared by fuzz/fuzz_inventory.c and the unit-test
 * smoke run. The first byte chooses the format (modulo INV_FORMAT_COUNT)
 * for inventory_parse, and, divided by INV_FORMAT_COUNT, the file name
 * inventory_detect is given; the rest is the file's text. inventory_parse
 * must return KB_OK or an error with a message, and whatever it kept
 * (packages, warnings) must be whole strings; inventory_detect must answer
 * KB_OK with a format, or KB_ENOTFOUND.
 */
#ifndef KOBAN_FUZZ_CHECK_INVENTORY_H
#define KOBAN_FUZZ_CHECK_INVENTORY_H

#include "check.h"
#include "vuln/inventory.h"

static const char *const fz_inventory_names[] = {
    "status",         "rpm.txt",
    "installed",      "package-lock.json",
    "yarn.lock",      "pnpm-lock.yaml",
    "Gemfile.lock",   "go.mod",
    "go.sum",         "requirements.txt",
    "poetry.lock",    "Cargo.lock",
    "composer.lock",  "bom.json",
    "sbom.spdx.json", "x.json",
    "inventory.txt",  "",
};

/* NULL when the readers behaved on this input, else why not. */
static inline const char *fz_inventory_one(const char *in, size_t size, void *stats)
{
    if (size == 0)
        return NULL;
    unsigned sel = (unsigned char)in[0];
    const char *text = in + 1;
    size_t len = size - 1;
    enum inventory_format f = (enum inventory_format)(sel % INV_FORMAT_COUNT);
    const char *name =
        fz_inventory_names[(sel / INV_FORMAT_COUNT) % KB_ARRAY_LEN(fz_inventory_names)];
    const char *bad = NULL;

    struct inventory inv = INVENTORY_INIT;
    struct kb_why why = {{0}};
    kb_err e = inventory_parse(f, text, len, name, &inv, &why);
    fz_count(stats, e == KB_OK && inv.n ? KB_OK : KB_EINVAL);
    if (!fz_err_ok(e, why.msg))
        bad = "inventory_parse: error without a message";
    unsigned sum = 0;
    for (size_t i = 0; i < inv.n; i++) {
        const struct inventory_pkg *p = &inv.pkgs[i];
        if (!p->ecosystem || !p->name || !p->version)
            bad = "inventory_parse: package without ecosystem, name or version";
        fz_touch(&sum, p->ecosystem);
        fz_touch(&sum, p->name);
        fz_touch(&sum, p->version);
        fz_touch(&sum, p->source);
        fz_touch(&sum, p->purl);
        fz_touch(&sum, p->location);
    }
    if (inv.nwarnings > INVENTORY_MAX_WARNINGS || inv.nwarnings > inv.warnings_total)
        bad = "inventory_parse: warning count out of range";
    for (size_t i = 0; i < inv.nwarnings; i++) {
        if (!inv.warnings[i] || !inv.warnings[i][0])
            bad = "inventory_parse: empty warning";
        fz_touch(&sum, inv.warnings[i]);
    }
    inventory_release(&inv);

    enum inventory_format d = INV_FORMAT_COUNT;
    e = inventory_detect(name, text, len, &d);
    if (!(e == KB_OK && d < INV_FORMAT_COUNT) && e != KB_ENOTFOUND)
        bad = "inventory_detect: neither a format nor KB_ENOTFOUND";
    return bad;
}

#endif
