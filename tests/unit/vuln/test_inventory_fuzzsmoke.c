/* test_inventory_fuzzsmoke.c — a short, deterministic fuzz run of the
 * inventory readers in the unit tests: one valid seed per format
 * (fuzz/seeds/inventory, each checked to read with packages), the files of
 * ../shared/data/inventory (when present), then mutants of them through
 * inventory_parse in every format and inventory_detect, with the checks of
 * fuzz/check_inventory.h (KB_OK or an error with a message; no crash, no
 * leak). fuzz/fuzz_inventory.c does the long runs. */
#include "test.h"

#include "../../../fuzz/check_inventory.h"
#include "../../../fuzz/smoke.h"

#define ITERS 80000
#define MAX_SECS 4.0

static const char *const tokens[] = {
    "\n",
    "\r\n",
    "\n\n",
    " ",
    "  ",
    "\t",
    ":",
    ": ",
    "=",
    "==",
    "@",
    "#",
    "- ",
    "'",
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\\\n",
    "Package: ",
    "Version: ",
    "Source: x (",
    "P:",
    "V:",
    "o:",
    "[[package]]\n",
    "name = \"",
    "version = \"",
    "\"version\": ",
    "\"packages\": {",
    "node_modules/",
    "lockfileVersion: ",
    "specs:\n    ",
    "require (\n",
    "// indirect",
    "pkg:npm/%40a/b@1",
    "pkg:",
    "\"components\": [",
    "\"purl\": ",
    "&a ",
    "*a",
    "\xff",
    "\x00",
};

/* Every seed of fuzz/seeds/inventory reads in its format with packages. */
static void check_seed(const char *in, size_t n)
{
    struct inventory inv = INVENTORY_INIT;
    struct kb_why why = {{0}};
    enum inventory_format f = (enum inventory_format)((unsigned char)in[0] % INV_FORMAT_COUNT);
    kb_err e = inventory_parse(f, in + 1, n - 1, "seed", &inv, &why);
    T_CHECKF(e == KB_OK && inv.n > 0 && inv.nwarnings == 0, "%s seed: %s (%zu packages, %s)",
             inventory_format_name(f), why.msg, inv.n,
             inv.nwarnings ? inv.warnings[0] : "no warning");
    inventory_release(&inv);
}

static void test_mutations(void)
{
    struct smoke_seeds *s = calloc(1, sizeof *s);
    size_t own = smoke_add_dir(s, -1, KOBAN_SOURCE_DIR "/fuzz/seeds/inventory", NULL);
    T_EQ_INT(own, INV_FORMAT_COUNT);
    for (size_t i = 0; i < own; i++)
        check_seed(s->p[i], s->n[i]);
    const char *data = t_data_dir();
    if (data) {
        static const struct {
            const char *file;
            int sel;
        } shared[] = {{"dpkg_statusfield", INV_DPKG},
                      {"package-lock-only_package-lock.json", INV_NPM_LOCK},
                      {"doc.cyclonedx.json", INV_CYCLONEDX},
                      {"sbom.cdx.json", INV_CYCLONEDX},
                      {"sbom-with-nested-comps.cdx.json", INV_CYCLONEDX},
                      {"json-format.spdx.json", INV_SPDX}};
        for (size_t i = 0; i < KB_ARRAY_LEN(shared); i++) {
            char path[4200];
            snprintf(path, sizeof path, "%s/inventory/%s", data, shared[i].file);
            if (!smoke_add_file(s, shared[i].sel, path))
                fprintf(stderr, "    %s is absent: not used\n", path);
        }
    } else {
        fprintf(stderr, "    ../shared/data is absent: its inventory files are not used\n");
    }

    struct fz_stats st = {0};
    struct smoke_result r =
        smoke_run(s, ITERS, MAX_SECS, tokens, KB_ARRAY_LEN(tokens), fz_inventory_one, &st);
    fprintf(stderr, "    %zu seeds, %d inputs (%u accepted), %d failures, %.2f s\n", s->count,
            r.runs, st.ok, r.failures, r.secs);
    T_EQ_INT(r.failures, 0);
    T_CHECK(r.runs >= (int)s->count);
    T_CHECK(st.ok > (unsigned)r.runs / 100); /* the mutants must not all be refused */
    smoke_release(s);
    free(s);
}

int main(void)
{
    T_RUN(test_mutations);
    return t_done();
}
