/* test_feed_fuzzsmoke.c — a short, deterministic fuzz run of the advisory
 * feed converters (feed_nvd_page, feed_ghsa_page, feed_jvn_overview,
 * feed_jvn_detail, feed_kev_parse) in the unit tests: the seeds of
 * fuzz/seeds/feed, the fixtures of tests/data/feeds and the NVD answers of
 * ../shared/data/osv/nvd (when present), then mutants of them, through the
 * checks of fuzz/check_feed.h (KB_OK or an error with a message; no crash,
 * no leak). fuzz/fuzz_feed.c does the long runs. */
#include "test.h"

#include "../../../fuzz/check_feed.h"
#include "../../../fuzz/smoke.h"

#define ITERS 50000
#define MAX_SECS 4.0

static const char *const tokens[] = {
    "<",
    ">",
    "</",
    "/>",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "&bogus;",
    "=\"",
    "<!DOCTYPE x [<!ENTITY e \"a\">]>",
    "<?xml version=\"1.0\"?>",
    "xmlns:x=\"u\"",
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "1e999",
    "-1",
    "\"\"",
    "\\u0000",
    "\"cve\":",
    "\"vulnerabilities\":[",
    "\"cpeMatch\":[",
    "\"versionEndExcluding\":",
    "\"vulnerable_version_range\":",
    "\"< 1.0, >= 2\"",
    "cpe:2.3:a:",
    "cpe:2.3:*:*:",
    "CVE-2024-",
    "\"dateAdded\":\"2024-13-40\"",
    "\"knownRansomwareCampaignUse\":\"Known\"",
};

static void test_mutations(void)
{
    struct smoke_seeds *s = calloc(1, sizeof *s);
    size_t own = smoke_add_dir(s, -1, KOBAN_SOURCE_DIR "/fuzz/seeds/feed", NULL);
    T_CHECK(own >= 5);
    static const struct {
        const char *file;
        int sel;
    } fixtures[] = {{"ghsa_page.json", FZ_GHSA},
                    {"jvn_overview.xml", FZ_JVN_OVERVIEW},
                    {"jvn_detail.xml", FZ_JVN_DETAIL},
                    {"kev_catalog.json", FZ_KEV}};
    for (size_t i = 0; i < KB_ARRAY_LEN(fixtures); i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/tests/data/feeds/%s", KOBAN_SOURCE_DIR, fixtures[i].file);
        T_CHECKF(smoke_add_file(s, fixtures[i].sel, path), "%s", path);
    }
    const char *data = t_data_dir();
    if (data) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/osv/nvd", data);
        fprintf(stderr, "    %zu NVD answers from %s\n", smoke_add_dir(s, FZ_NVD, dir, ".json"),
                dir);
    } else {
        fprintf(stderr, "    ../shared/data is absent: the NVD answers there are not used\n");
    }

    struct fz_stats st = {0};
    struct smoke_result r =
        smoke_run(s, ITERS, MAX_SECS, tokens, KB_ARRAY_LEN(tokens), fz_feed_one, &st);
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
