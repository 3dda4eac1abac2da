/* test_version_a.c — the Debian, RPM, Alpine, PyPI, SemVer and CRAN
 * orderings: every line of their vectors in ../shared/data/versions, then
 * the edge rules by hand (tilde, caret, epochs, suffixes, PEP 440
 * normalization, Go pseudo-versions, invalid input, the length bound).
 * Each ordering is called directly (version_<name>_compare). */
#include "vuln/version_internal.h"

#include "vectors.h"

/* Runs one vectors file; a missing data folder skips, a missing or empty
 * file fails. */
static void run_vectors(const char *file, vectors_cmp_fn fn)
{
    T_NEED_DATA(data);
    char path[4096];
    snprintf(path, sizeof path, "%s/versions/%s", data, file);
    int failed_before = t_st.cur_failed;
    size_t n = vectors_check(path, fn);
    T_CHECKF(n > 0, "%s: missing or without vectors", path);
    fprintf(stderr, "  %s: %zu lines checked, %zu passed\n", file, n,
            t_st.cur_failed == failed_before ? n : n - (size_t)(t_st.cur_failed - failed_before));
}

static void test_vectors_debian(void)
{
    run_vectors("debian-versions.txt", version_debian_compare);
}
static void test_vectors_redhat(void)
{
    run_vectors("redhat-versions.txt", version_rpm_compare);
}
static void test_vectors_alpine(void)
{
    run_vectors("alpine-versions.txt", version_alpine_compare);
}
static void test_vectors_pypi(void)
{
    run_vectors("pypi-versions.txt", version_pypi_compare);
}
static void test_vectors_semver(void)
{
    run_vectors("semver-versions.txt", version_semver_compare);
}
static void test_vectors_cran(void)
{
    run_vectors("cran-versions.txt", version_cran_compare);
}

/* Checks that a orders before b (want -1), equal (0) or after (1), and the
 * reverse. */
#define ORD(fn, a, op, b)                                                                          \
    do {                                                                                           \
        int want_ = (op)[0] == '<' ? -1 : (op)[0] == '>' ? 1 : 0, got_ = 99, back_ = 99;           \
        struct kb_why why_ = {{0}};                                                                \
        kb_err e1_ = fn(a, strlen(a), b, strlen(b), &got_, &why_);                                 \
        kb_err e2_ = fn(b, strlen(b), a, strlen(a), &back_, &why_);                                \
        got_ = got_ < 0 ? -1 : got_ > 0;                                                           \
        back_ = back_ < 0 ? -1 : back_ > 0;                                                        \
        T_CHECKF(e1_ == KB_OK && e2_ == KB_OK && got_ == want_ && back_ == -want_,                 \
                 "%s %s %s: got %d/%d (err %d %s)", a, op, b, got_, back_, e1_ ? e1_ : e2_,        \
                 why_.msg);                                                                        \
    } while (0)

/* Checks that fn refuses bad (as either argument) with err, and that the
 * matching valid() agrees. */
#define BAD(name, bad, good, err)                                                                  \
    do {                                                                                           \
        int c_ = 99;                                                                               \
        struct kb_why why_ = {{0}};                                                                \
        kb_err e1_ = version_##name##_compare(bad, strlen(bad), good, strlen(good), &c_, &why_);   \
        T_CHECKF(e1_ == (err) && why_.msg[0], "'%s': got %d", bad, e1_);                           \
        kb_err e2_ = version_##name##_compare(good, strlen(good), bad, strlen(bad), &c_, NULL);    \
        T_CHECKF(e2_ == (err), "'%s' second: got %d", bad, e2_);                                   \
        T_CHECKF(!version_##name##_valid(bad, strlen(bad)), "'%s' valid", bad);                    \
        T_CHECKF(version_##name##_valid(good, strlen(good)), "'%s' invalid", good);                \
    } while (0)

static void test_debian_edges(void)
{
    /* '~' sorts before everything, even the end */
    ORD(version_debian_compare, "1.0~~", "<", "1.0~");
    ORD(version_debian_compare, "1.0~", "<", "1.0");
    ORD(version_debian_compare, "1.0~rc1", "<", "1.0");
    ORD(version_debian_compare, "1.0~rc1-1", "<", "1.0-1");
    ORD(version_debian_compare, "1.0-1~bpo1", "<", "1.0-1");
    /* letters before non-letters, the end before letters */
    ORD(version_debian_compare, "1.0a", "<", "1.0+");
    ORD(version_debian_compare, "1.0", "<", "1.0a");
    ORD(version_debian_compare, "1.0+dfsg", "<", "1.0.1"); /* '+' < '.', bytewise */
    ORD(version_debian_compare, "1.0Z", "<", "1.0a");
    /* epochs win over everything; absent is 0 */
    ORD(version_debian_compare, "1:0.1", ">", "9.9");
    ORD(version_debian_compare, "0:1.0", "=", "1.0");
    ORD(version_debian_compare, "007:1.0", "=", "7:1.0");
    /* the revision follows the last '-'; absent orders as 0 */
    ORD(version_debian_compare, "1.0-1-2", ">", "1.0-1-1");
    ORD(version_debian_compare, "1.0-1-2", ">", "1.0-2");
    ORD(version_debian_compare, "1.0", "=", "1.0-0");
    ORD(version_debian_compare, "1:2:3", "<", "1:2:4");
    ORD(version_debian_compare, "1.000000000000000000000000002", ">", "1.1");
    /* lenient like dpkg: trimmed, no leading digit, blank */
    ORD(version_debian_compare, " 1.0\t", "=", "1.0");
    ORD(version_debian_compare, "abc", ">", "0"); /* letters after the end */
    ORD(version_debian_compare, "", "<", "0");
    ORD(version_debian_compare, "", "<", "0:~~");
    ORD(version_debian_compare, "", "=", "");
    T_CHECK(version_debian_valid("", 0));
    BAD(debian, "  ", "1.0", KB_EINVAL);
    T_CHECK(version_debian_valid("abc", 3));
    BAD(debian, "a:1.0", "1.0", KB_EINVAL);
    BAD(debian, ":1.0", "1.0", KB_EINVAL);
    BAD(debian, "-1:1.0", "1.0", KB_EINVAL);
    BAD(debian, "1:", "1.0", KB_EINVAL);
    BAD(debian, "1.0-", "1.0", KB_EINVAL);
    BAD(debian, "1:-1", "1.0", KB_EINVAL);
    BAD(debian, "1.0 1", "1.0", KB_EINVAL);
    BAD(debian, "3000000000:1", "1.0", KB_EINVAL);
}

static void test_rpm_edges(void)
{
    ORD(version_rpm_compare, "1.0~rc1", "<", "1.0");
    ORD(version_rpm_compare, "1.0~~", "<", "1.0~");
    ORD(version_rpm_compare, "1.0^", ">", "1.0");
    ORD(version_rpm_compare, "1.0^git1", "<", "1.0.1");
    ORD(version_rpm_compare, "1.0^git1", "<", "1.0a");
    ORD(version_rpm_compare, "1.0~rc1^git1", "<", "1.0");
    /* numbers newer than letters; segments separated by anything else */
    ORD(version_rpm_compare, "1.a", "<", "1.1");
    ORD(version_rpm_compare, "1.0a", ">", "1.0");
    ORD(version_rpm_compare, "1_0", "=", "1.0");
    ORD(version_rpm_compare, "1.010", "=", "1.10");
    ORD(version_rpm_compare, "2.0.1", "=", "2.0..1");
    /* epoch, version, release */
    ORD(version_rpm_compare, "1:1.0-1", ">", "2.0-1");
    ORD(version_rpm_compare, "0:1.0-1", "=", "1.0-1");
    ORD(version_rpm_compare, ":1.0", "=", "0:1.0"); /* an empty epoch is 0 */
    ORD(version_rpm_compare, "a:2", "<", "1:1");    /* not an epoch: version "a:2" */
    ORD(version_rpm_compare, "a:2", ">", "a:1");
    ORD(version_rpm_compare, "1:2", ">", "5");
    ORD(version_rpm_compare, "1.0-1", "<", "1.0-2");
    ORD(version_rpm_compare, "1.0-1.el9", "<", "1.0-1.el9_1");
    ORD(version_rpm_compare, "1.0", "<", "1.0-0");
    ORD(version_rpm_compare, "1.0-a-2", ">", "1.0-a-1"); /* release after the last '-' */
    BAD(rpm, "", "1.0", KB_EINVAL);
    BAD(rpm, "1.0 -1", "1.0", KB_EINVAL);
    BAD(rpm, "1.0\n", "1.0", KB_EINVAL);
}

static void test_alpine_edges(void)
{
    ORD(version_alpine_compare, "1.2_alpha", "<", "1.2_beta");
    ORD(version_alpine_compare, "1.2_beta9", "<", "1.2_pre1");
    ORD(version_alpine_compare, "1.2_pre1", "<", "1.2_rc1");
    ORD(version_alpine_compare, "1.2_rc9", "<", "1.2");
    ORD(version_alpine_compare, "1.2", "<", "1.2_cvs");
    ORD(version_alpine_compare, "1.2_hg1", "<", "1.2_p1");
    ORD(version_alpine_compare, "1.2_p1", "<", "1.2a");
    ORD(version_alpine_compare, "1.2a", "<", "1.2.1");
    ORD(version_alpine_compare, "1.2_alpha", "<", "1.2_alpha0");
    ORD(version_alpine_compare, "1.2_rc1_p2", ">", "1.2_rc1");
    ORD(version_alpine_compare, "1.2_rc1_alpha", "<", "1.2_rc1");
    /* revisions */
    ORD(version_alpine_compare, "1.2", "<", "1.2-r0");
    ORD(version_alpine_compare, "1.2-r9", "<", "1.2-r10");
    ORD(version_alpine_compare, "1.2-r", "=", "1.2-r0");
    ORD(version_alpine_compare, "1.3_rc1-r5", "<", "1.3-r0");
    /* numbers: the first as a number, later ones with a leading zero as
     * strings */
    ORD(version_alpine_compare, "010", ">", "9");
    ORD(version_alpine_compare, "1.02", "<", "1.1");
    ORD(version_alpine_compare, "1.10", ">", "1.9");
    ORD(version_alpine_compare, "1.123456789012345678901234567890", ">", "1.99");
    /* invalid parts: older than any valid one, compared as strings */
    ORD(version_alpine_compare, "1.2_x", "<", "1.2_alpha");
    ORD(version_alpine_compare, "1.2X", "<", "1.2");
    ORD(version_alpine_compare, "1.2X-r2", ">", "1.2X-r1");
    ORD(version_alpine_compare, "1.2-rx", "<", "1.2");
    ORD(version_alpine_compare, "1.2-x", "=", "1.2-y");
    T_CHECK(version_alpine_valid("1.2_blah", 8));
    BAD(alpine, "", "1.0", KB_EINVAL);
    BAD(alpine, "1.0 -r1", "1.0", KB_EINVAL);
}

static void test_pypi_normalization(void)
{
    ORD(version_pypi_compare, "1.0ALPHA1", "=", "1.0a1");
    ORD(version_pypi_compare, "1.0-beta.2", "=", "1.0b2");
    ORD(version_pypi_compare, "1.0.c1", "=", "1.0rc1");
    ORD(version_pypi_compare, "1.0pre_2", "=", "1.0rc2");
    ORD(version_pypi_compare, "1.0preview", "=", "1.0rc0");
    ORD(version_pypi_compare, "v1.0", "=", "1.0");
    ORD(version_pypi_compare, "V1.0", "=", "1.0");
    ORD(version_pypi_compare, "  1.0\n", "=", "1.0");
    ORD(version_pypi_compare, "1.0-1", "=", "1.0.post1");
    ORD(version_pypi_compare, "1.0_post_1", "=", "1.0.post1");
    ORD(version_pypi_compare, "1.0rev", "=", "1.0.post0");
    ORD(version_pypi_compare, "1.0-r-3", "=", "1.0.post3");
    ORD(version_pypi_compare, "1.0DEV", "=", "1.0.dev0");
    ORD(version_pypi_compare, "1.0.0.0", "=", "1");
    ORD(version_pypi_compare, "01.002", "=", "1.2");
    ORD(version_pypi_compare, "0!1.0", "=", "1.0");
    ORD(version_pypi_compare, "1.0+Ubuntu-1", "=", "1.0+ubuntu.1");
    ORD(version_pypi_compare, "1.0+01", "=", "1.0+1");
    /* the order of the parts */
    ORD(version_pypi_compare, "1!0.1", ">", "2.0");
    ORD(version_pypi_compare, "1.0.dev0", "<", "1.0a0");
    ORD(version_pypi_compare, "1.0a1.dev1", "<", "1.0a1");
    ORD(version_pypi_compare, "1.0a1", "<", "1.0b0");
    ORD(version_pypi_compare, "1.0rc9", "<", "1.0");
    ORD(version_pypi_compare, "1.0", "<", "1.0+local");
    ORD(version_pypi_compare, "1.0+local", "<", "1.0.post0.dev0");
    ORD(version_pypi_compare, "1.0.post0.dev0", "<", "1.0.post0");
    ORD(version_pypi_compare, "1.0.post1", "<", "1.0.1");
    ORD(version_pypi_compare, "1.0+abc", "<", "1.0+1");
    ORD(version_pypi_compare, "1.0+abc", "<", "1.0+abd");
    ORD(version_pypi_compare, "1.0+1.2", "<", "1.0+1.2.a");
    ORD(version_pypi_compare, "1.0+9", "<", "1.0+10");
    ORD(version_pypi_compare, "1.99999999999999999999", "<", "1.100000000000000000000");
}

static void test_pypi_invalid(void)
{
    /* not PEP 440: ordered as LegacyVersion did, before every PEP 440
     * version */
    ORD(version_pypi_compare, "foo", "<", "0.0.dev0");
    ORD(version_pypi_compare, "1.0+", "<", "0");
    ORD(version_pypi_compare, "1.0-foo", "<", "1.0-goo");
    ORD(version_pypi_compare, "1.0-foo", "=", "1.0-FOO");
    ORD(version_pypi_compare, "1.0.0-foo", "=", "1.0-foo"); /* zeros before a word go */
    ORD(version_pypi_compare, "2.0-preview", "=", "2.0-c");
    ORD(version_pypi_compare, "2.0-dev", "<", "2.0-a"); /* dev reads '@' */
    ORD(version_pypi_compare, "2.0-x", "<", "2.0-x-1");
    ORD(version_pypi_compare, "123456789-x", "<", "99999999-x"); /* 8-wide padding */
    T_CHECK(version_pypi_valid("1.0-foo", 7));
    T_CHECK(version_pypi_valid("1.0", 3));
    /* separators after a label without a number, as packaging reads them */
    ORD(version_pypi_compare, "1.0-beta-", "=", "1.0b0");
    ORD(version_pypi_compare, "1.0Post-", "=", "1.0.post0");
    ORD(version_pypi_compare, "1.0a--1", "=", "1.0a0.post1");
    ORD(version_pypi_compare, "1.0a-1", "=", "1.0a1");
    BAD(pypi, "", "1.0", KB_EINVAL);
    BAD(pypi, "   ", "1.0", KB_EINVAL);
    BAD(pypi, "1.0\x01", "1.0", KB_EINVAL);
    BAD(pypi, "1.0\xc3\xa9", "1.0", KB_EINVAL);
}

static void test_semver_edges(void)
{
    ORD(version_semver_compare, "1.0.0-alpha", "<", "1.0.0-alpha.1");
    ORD(version_semver_compare, "1.0.0-1.2", "<", "1.0.0-1.10");
    ORD(version_semver_compare, "1.0.0-1", "<", "1.0.0-a");
    ORD(version_semver_compare, "1.0.0-rc.1+build.5", "=", "1.0.0-rc.1");
    ORD(version_semver_compare, "v2.0.0+incompatible", "=", "v2.0.0");
    ORD(version_semver_compare, "10.0.0", ">", "9.99.99");
    /* Go pseudo-versions: vX.0.0-timestamp-hash, after nothing released */
    ORD(version_semver_compare, "v0.0.0-20191109021931-daa7c04131f5", "<",
        "v0.0.0-20200102030405-0123456789ab");
    ORD(version_semver_compare, "v0.0.0-20191109021931-daa7c04131f5", "<", "v0.0.1");
    /* vX.Y.(Z+1)-0.timestamp-hash: after vX.Y.Z, before vX.Y.(Z+1) and its
     * prereleases */
    ORD(version_semver_compare, "v1.2.3", "<", "v1.2.4-0.20191109021931-daa7c04131f5");
    ORD(version_semver_compare, "v1.2.4-0.20191109021931-daa7c04131f5", "<", "v1.2.4-alpha");
    ORD(version_semver_compare, "v1.2.4-0.20191109021931-daa7c04131f5", "<", "v1.2.4");
    ORD(version_semver_compare, "v1.2.4-0.20191109021931-daa7c04131f5", "<",
        "v1.2.4-0.20191109021932-000000000000");
    /* vX.Y.Z-pre.0.timestamp-hash: after vX.Y.Z-pre, before vX.Y.Z-pre.1 */
    ORD(version_semver_compare, "v1.2.3-pre", "<", "v1.2.3-pre.0.20191109021931-daa7c04131f5");
    ORD(version_semver_compare, "v1.2.3-pre.0.20191109021931-daa7c04131f5", "<", "v1.2.3-pre.1");
    ORD(version_semver_compare, "v1.2.3-pre.0.20191109021931-daa7c04131f5", "<", "v1.2.3");
    T_CHECK(version_semver_valid("v1.2.4-0.20191109021931-daa7c04131f5", 36));
    /* the looser forms of the vectors */
    ORD(version_semver_compare, "1.2", "<", "1.2.0");
    ORD(version_semver_compare, "1.2-3", "=", "1.2.3");
    ORD(version_semver_compare, "1.2.3.9", "=", "1.2.3");
    ORD(version_semver_compare, "1-alpha", "<", "1");
    BAD(semver, "", "1.0.0", KB_EINVAL);
    BAD(semver, "v", "1.0.0", KB_EINVAL);
    BAD(semver, "latest", "1.0.0", KB_EINVAL);
    BAD(semver, "1.x", "1.0.0", KB_EINVAL);
    BAD(semver, "1.2.3-", "1.0.0", KB_EINVAL);
    BAD(semver, "1.2.3-a..b", "1.0.0", KB_EINVAL);
    BAD(semver, "1.2.3-a_b", "1.0.0", KB_EINVAL);
    BAD(semver, "1.2.3+", "1.0.0", KB_EINVAL);
    BAD(semver, "1.2.3 ", "1.0.0", KB_EINVAL);
}

static void test_cran_edges(void)
{
    ORD(version_cran_compare, "1.0-2", "=", "1.0.2");
    ORD(version_cran_compare, "01.00", "=", "1.0");
    ORD(version_cran_compare, "1.0", "<", "1.0.0");
    ORD(version_cran_compare, "1.9", "<", "1.10");
    ORD(version_cran_compare, "2.0-0", ">", "1.99999999999999999999");
    BAD(cran, "1", "1.0", KB_EINVAL);
    BAD(cran, "", "1.0", KB_EINVAL);
    BAD(cran, "1.a", "1.0", KB_EINVAL);
    BAD(cran, "1..2", "1.0", KB_EINVAL);
    BAD(cran, "1.0.", "1.0", KB_EINVAL);
    BAD(cran, "v1.0", "1.0", KB_EINVAL);
}

/* VERSION_MAX_LEN bytes are accepted, one more is refused, by every
 * ordering called directly. */
static void test_length_bound(void)
{
    static const struct {
        const char *name;
        vectors_cmp_fn cmp;
        bool (*valid)(const char *, size_t);
    } ecos[] = {
        {"debian", version_debian_compare, version_debian_valid},
        {"rpm", version_rpm_compare, version_rpm_valid},
        {"alpine", version_alpine_compare, version_alpine_valid},
        {"pypi", version_pypi_compare, version_pypi_valid},
        {"semver", version_semver_compare, version_semver_valid},
        {"cran", version_cran_compare, version_cran_valid},
    };
    char longest[VERSION_MAX_LEN + 2];
    /* "1.0000…0001" is a valid version of each */
    memset(longest, '0', sizeof longest);
    longest[0] = '1';
    longest[1] = '.';
    for (size_t k = 0; k < KB_ARRAY_LEN(ecos); k++) {
        int c = 99;
        struct kb_why why = {{0}};
        longest[VERSION_MAX_LEN - 1] = '1';
        kb_err e = ecos[k].cmp(longest, VERSION_MAX_LEN, "1.0", 3, &c, &why);
        T_CHECKF(e == KB_OK && c > 0, "%s: %zu bytes: err %d c %d %s", ecos[k].name,
                 (size_t)VERSION_MAX_LEN, e, c, why.msg);
        T_CHECKF(ecos[k].valid(longest, VERSION_MAX_LEN), "%s", ecos[k].name);
        longest[VERSION_MAX_LEN - 1] = '0';
        longest[VERSION_MAX_LEN] = '1';
        e = ecos[k].cmp(longest, VERSION_MAX_LEN + 1, "1.0", 3, &c, &why);
        T_CHECKF(e == KB_ETOOBIG, "%s: %d bytes: err %d", ecos[k].name, VERSION_MAX_LEN + 1, e);
        e = ecos[k].cmp("1.0", 3, longest, VERSION_MAX_LEN + 1, &c, &why);
        T_CHECKF(e == KB_ETOOBIG, "%s: second: err %d", ecos[k].name, e);
        T_CHECKF(!ecos[k].valid(longest, VERSION_MAX_LEN + 1), "%s", ecos[k].name);
        longest[VERSION_MAX_LEN] = '0';
    }
}

/* The strings are not NUL-terminated: a compare must stop at the length. */
static void test_lengths_not_nul(void)
{
    int c = 99;
    T_EQ_INT(version_debian_compare("1.0~rc1", 3, "1.0", 3, &c, NULL), KB_OK);
    T_EQ_INT(c, 0);
    T_EQ_INT(version_rpm_compare("1.0-5", 3, "1.0", 3, &c, NULL), KB_OK);
    T_EQ_INT(c, 0);
    T_EQ_INT(version_alpine_compare("1.2_rc1", 3, "1.2", 3, &c, NULL), KB_OK);
    T_EQ_INT(c, 0);
    T_EQ_INT(version_pypi_compare("1.0a1", 3, "1.0", 3, &c, NULL), KB_OK);
    T_EQ_INT(c, 0);
    T_EQ_INT(version_semver_compare("1.0.0-rc1", 5, "1.0.0", 5, &c, NULL), KB_OK);
    T_EQ_INT(c, 0);
    T_EQ_INT(version_cran_compare("1.0.1", 3, "1.0", 3, &c, NULL), KB_OK);
    T_EQ_INT(c, 0);
}

int main(void)
{
    T_RUN(test_vectors_debian);
    T_RUN(test_vectors_redhat);
    T_RUN(test_vectors_alpine);
    T_RUN(test_vectors_pypi);
    T_RUN(test_vectors_semver);
    T_RUN(test_vectors_cran);
    T_RUN(test_debian_edges);
    T_RUN(test_rpm_edges);
    T_RUN(test_alpine_edges);
    T_RUN(test_pypi_normalization);
    T_RUN(test_pypi_invalid);
    T_RUN(test_semver_edges);
    T_RUN(test_cran_edges);
    T_RUN(test_length_bound);
    T_RUN(test_lengths_not_nul);
    return t_done();
}
