/*
 * test_version_b.c — the RubyGems, Maven, NuGet, Packagist, Pub and
 * Hackage orderings (src/vuln/version_<name>.c), called directly:
 *   - every line of ../shared/data/versions/<eco>-versions.txt, in the
 *     written direction and swapped (A < B must give B > A), with the
 *     number of lines pinned so a shortened file is noticed;
 *   - hand-written cases for each ecosystem's edge rules, for invalid
 *     input, for strings that are not NUL-terminated and for the length
 *     bound (VERSION_MAX_LEN).
 * Without ../shared/data the vector tests skip (fail under CI=true); the
 * hand-written ones always run.
 */
#include "vuln/version_internal.h"

#include "vectors.h"

/* B <op> A for a line that says A <op'> B: checks antisymmetry. */
#define SWAPPED(name)                                                                              \
    static kb_err name##_swapped(const char *a, size_t an, const char *b, size_t bn, int *cmp,     \
                                 struct kb_why *why)                                               \
    {                                                                                              \
        int c = 0;                                                                                 \
        kb_err e = version_##name##_compare(b, bn, a, an, &c, why);                                \
        *cmp = c < 0 ? 1 : c > 0 ? -1 : 0;                                                         \
        return e;                                                                                  \
    }
SWAPPED(rubygems)
SWAPPED(maven)
SWAPPED(nuget)
SWAPPED(packagist)
SWAPPED(pub)
SWAPPED(hackage)

static void check_file(const char *data, const char *eco, vectors_cmp_fn fn, vectors_cmp_fn swapped,
                       size_t want)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/versions/%s-versions.txt", data, eco);
    size_t n = vectors_check(path, fn);
    T_CHECKF(n == want, "%s: %zu lines checked, expected %zu", path, n, want);
    size_t m = vectors_check(path, swapped);
    T_CHECKF(m == want, "%s swapped: %zu lines checked, expected %zu", path, m, want);
    fprintf(stderr, "  %s: %zu lines checked both ways\n", eco, n);
}

static void test_rubygems_vectors(void)
{
    T_NEED_DATA(data);
    check_file(data, "rubygems", version_rubygems_compare, rubygems_swapped, 25);
}

static void test_maven_vectors(void)
{
    T_NEED_DATA(data);
    check_file(data, "maven", version_maven_compare, maven_swapped, 102);
}

static void test_nuget_vectors(void)
{
    T_NEED_DATA(data);
    check_file(data, "nuget", version_nuget_compare, nuget_swapped, 35);
}

static void test_packagist_vectors(void)
{
    T_NEED_DATA(data);
    check_file(data, "packagist", version_packagist_compare, packagist_swapped, 95);
}

static void test_pub_vectors(void)
{
    T_NEED_DATA(data);
    check_file(data, "pub", version_pub_compare, pub_swapped, 100);
}

static void test_hackage_vectors(void)
{
    T_NEED_DATA(data);
    check_file(data, "hackage", version_hackage_compare, hackage_swapped, 11);
}

/* -1, 0 or 1; 9 when the comparison failed. */
static int ord(vectors_cmp_fn fn, const char *a, const char *b)
{
    int c = 99;
    struct kb_why why = {{0}};
    if (fn(a, strlen(a), b, strlen(b), &c, &why) != KB_OK)
        return 9;
    return c < 0 ? -1 : c > 0 ? 1 : 0;
}

/* a <want> b, and b <-want> a */
#define T_ORDER(fn, a, want, b)                                                                    \
    do {                                                                                           \
        int g1_ = ord(fn, a, b), g2_ = ord(fn, b, a);                                              \
        T_CHECKF(g1_ == (want) && g2_ == -(want), "'%s' vs '%s': got %d and %d, want %d", a, b,    \
                 g1_, g2_, want);                                                                  \
    } while (0)

/* s is refused by compare (either side) and by valid */
#define T_BAD(name, s)                                                                             \
    do {                                                                                           \
        int c_ = 0;                                                                                \
        struct kb_why w_ = {{0}};                                                                  \
        T_CHECKF(version_##name##_compare(s, strlen(s), "1", 1, &c_, &w_) == KB_EINVAL &&          \
                     w_.msg[0] && !version_##name##_valid(s, strlen(s)),                           \
                 #name " accepted '%s'", s);                                                       \
        T_CHECKF(version_##name##_compare("1", 1, s, strlen(s), &c_, &w_) == KB_EINVAL,            \
                 #name " accepted '%s' on the right", s);                                          \
    } while (0)

static void test_rubygems_rules(void)
{
    vectors_cmp_fn f = version_rubygems_compare;
    T_ORDER(f, "1.0", 0, "1.0.0");
    T_ORDER(f, "1.0", 1, "1.0.a");
    T_ORDER(f, "1.8.2.a10", 1, "1.8.2.a9");
    T_ORDER(f, "", 0, "0");         /* a blank version is "0" */
    T_ORDER(f, " 1.0\n", 0, "1.0"); /* blanks around are trimmed */
    T_ORDER(f, "0.beta.1", 0, "0.0.beta.1");
    T_ORDER(f, "0.0.beta", -1, "0.0.beta.1");
    T_ORDER(f, "5.a", -1, "5.0.0.rc2");
    T_ORDER(f, "5.x", 1, "5.0.0.rc2");
    T_ORDER(f, "1.0.0-1", -1, "1"); /* '-' reads ".pre.": a prerelease */
    T_ORDER(f, "1.0-1", 0, "1.0.pre.1");
    T_ORDER(f, "1.2.pre.1", 0, "1.2.0.pre.1.0");
    T_ORDER(f, "1.0.0-rc1", -1, "1.0.0");
    T_ORDER(f, "1.B", -1, "1.a"); /* strings compare by bytes */
    T_ORDER(f, "1.a.0.b", 0, "1.a.b");
    T_ORDER(f, "1.0.a.0.b", 1, "1.a.b"); /* only the first zero run goes */
    T_ORDER(f, "1.freeze.test", -1, "1");
    T_ORDER(f, "1beta", -1, "1");
    T_ORDER(f, "10000000000000000000000.1", 1, "9999999999999999999999.9");
    T_CHECK(version_rubygems_valid("", 0));
    T_CHECK(version_rubygems_valid("1.0-a-b.c-", 10));
    T_BAD(rubygems, "junk");
    T_BAD(rubygems, "1.0\n2.0");
    T_BAD(rubygems, "1..2");
    T_BAD(rubygems, "1.2 3.4");
    T_BAD(rubygems, "1.");
    T_BAD(rubygems, "1-");
    T_BAD(rubygems, ".1");
    T_BAD(rubygems, "1.0+build");
}

static void test_maven_rules(void)
{
    vectors_cmp_fn f = version_maven_compare;
    /* the POM reference's examples */
    T_ORDER(f, "1", -1, "1.1");
    T_ORDER(f, "1-snapshot", -1, "1");
    T_ORDER(f, "1", -1, "1-sp");
    T_ORDER(f, "1-foo2", -1, "1-foo10");
    T_ORDER(f, "1.foo", 0, "1-foo");
    T_ORDER(f, "1-foo", -1, "1-1");
    T_ORDER(f, "1-1", -1, "1.1");
    T_ORDER(f, "1.ga", 0, "1-ga");
    T_ORDER(f, "1-ga", 0, "1-0");
    T_ORDER(f, "1-0", 0, "1.0");
    T_ORDER(f, "1-sp", 1, "1-ga");
    T_ORDER(f, "1-sp.1", 1, "1-ga.1");
    T_ORDER(f, "1-sp-1", -1, "1-ga-1");
    T_ORDER(f, "1-a1", 0, "1-alpha-1");
    /* trimming before each hyphen */
    T_ORDER(f, "1-0-2", 0, "1-2");
    /* "a" is alpha only when a digit follows */
    T_ORDER(f, "1-a", 1, "1-alpha");
    T_ORDER(f, "1-zeta", 1, "1-sp");
    T_ORDER(f, "1-abc", -1, "1-ABD");
    T_ORDER(f, "1.0.0.RC1", -1, "1.0.0-RC2");
    T_ORDER(f, "1.0-Final", 0, "1.0-RELEASE");
    T_ORDER(f, "", 0, "0");
    T_ORDER(f, "1.0.0-SNAPSHOT", -1, "1.0.0-sp");
    T_ORDER(f, "1-milestone-1", -1, "1-rc-1");
    /* every string is a Maven version */
    T_CHECK(version_maven_valid("anything at all!", 16));
    T_EQ_INT(ord(f, "[odd]", "[odd]"), 0);
}

static void test_nuget_rules(void)
{
    vectors_cmp_fn f = version_nuget_compare;
    T_ORDER(f, "1", 0, "1.0.0.0");
    T_ORDER(f, "1.0.0-alpha", -1, "1.0.0-alpha.1");
    T_ORDER(f, "1.0.0-alpha.1", -1, "1.0.0-alpha.beta");
    T_ORDER(f, "1.0.0-2", -1, "1.0.0-10");
    /* beyond Int32 a label is text, and text is above numbers */
    T_ORDER(f, "1.0.0-a.2147483648", 1, "1.0.0-a.9");
    T_ORDER(f, "1.0.0-a.2147483647", -1, "1.0.0-a.b");
    T_ORDER(f, "1.0.0-a.-1", -1, "1.0.0-a.0"); /* Int32.TryParse reads "-1" */
    T_ORDER(f, "1.0.0+x", 0, "1.0.0+y");
    T_ORDER(f, "1.0.0-RC.1+x", 0, "1.0.0-rc.1");
    T_ORDER(f, "1.0.0.0-z", -1, "1.0.0");
    T_BAD(nuget, "1.2.3.4.5");
    T_BAD(nuget, "1.0.0-");
    T_BAD(nuget, "1.0.0-a..b");
    T_BAD(nuget, "1.0.0+");
    T_BAD(nuget, "1.0.0-a+b+c");
    T_BAD(nuget, "a");
    T_BAD(nuget, "");
    T_BAD(nuget, "v1.0.0");
    T_BAD(nuget, "1..0");
    T_BAD(nuget, "1.0_1");
}

static void test_packagist_rules(void)
{
    vectors_cmp_fn f = version_packagist_compare;
    T_ORDER(f, "1.0pl1", 0, "1.0p1");
    T_ORDER(f, "1.0p1", 0, "1.0patch1"); /* forms match by prefix */
    T_ORDER(f, "1.0abc", 0, "1.0a");
    T_ORDER(f, "1.0_1", 0, "1.0.1");
    T_ORDER(f, "1.0+1", 0, "1.0-1");
    T_ORDER(f, "1.0a", 1, "1.0-dev");
    T_ORDER(f, "1.0-dev", -1, "1.0");
    T_ORDER(f, "1.0.0", 1, "1.0");
    T_ORDER(f, "1.0.foo", -1, "1.0"); /* an unknown word ranks below '#' */
    T_ORDER(f, "1.0.#.dev", -1, "1.0");
    T_ORDER(f, "", -1, "0");
    T_ORDER(f, "v", 0, "");
    T_ORDER(f, "10", 1, "9");
    T_ORDER(f, "1.", -1, "1");
    T_ORDER(f, "1.", 0, "1.");
    T_ORDER(f, "1.a", 1, "1.");
    T_ORDER(f, "1.Rc1", -1, "1.rc1"); /* special forms are case-sensitive */
    T_CHECK(version_packagist_valid("dev-main", 8));
}

static void test_pub_rules(void)
{
    vectors_cmp_fn f = version_pub_compare;
    T_ORDER(f, "1", 0, "1.0.0");
    T_ORDER(f, "v1.2.3", 0, "1.2.3");
    T_ORDER(f, "1.1.3.4.5", 0, "1.1.3+4.5");
    T_ORDER(f, "1.1.3.4.5", 1, "1.1.3");
    T_ORDER(f, "1.0.0-pre", -1, "1.0.0-pre+build");
    T_ORDER(f, "1.0.0+1", -1, "1.0.0+a");
    T_ORDER(f, "1.0.0+a", -1, "1.0.0+a.0");
    T_ORDER(f, "1.2.3-a.-1", -1, "1.2.3-a.0");
    T_ORDER(f, "1.2.3-0x10", 0, "1.2.3-16");
    T_ORDER(f, "1.2.3-0x10", 1, "1.2.3-15");
    /* beyond 64 bits an identifier is text, above any number */
    T_ORDER(f, "1.2.3-99999999999999999999", 1, "1.2.3-100");
    T_ORDER(f, "1.2.3-9223372036854775807", -1, "1.2.3-a");
    T_ORDER(f, "01.2.3", 0, "1.2.3");
    T_BAD(pub, "1.2.x");
    T_BAD(pub, "");
    T_BAD(pub, "V1.2.3");
    T_BAD(pub, "1.2.3-");
    T_BAD(pub, "1.2.3+");
    T_BAD(pub, "1.2.3-a..b");
    T_BAD(pub, "a.b.c");
    T_BAD(pub, "1.2.3 ");
    T_BAD(pub, "1.2.3+a+b");
}

static void test_hackage_rules(void)
{
    vectors_cmp_fn f = version_hackage_compare;
    T_ORDER(f, "1.0", -1, "1.0.0");
    T_ORDER(f, "0", -1, "0.0");
    T_ORDER(f, "1.01", 0, "1.1");
    T_ORDER(f, "2", 1, "1.9.9.9");
    T_ORDER(f, "0.10", 1, "0.9");
    T_BAD(hackage, "");
    T_BAD(hackage, "1.");
    T_BAD(hackage, ".1");
    T_BAD(hackage, "1..2");
    T_BAD(hackage, "1.a");
    T_BAD(hackage, "1.0-tag");
    T_BAD(hackage, "v1");
}

/* Versions are (pointer, length): bytes past the length are not read as
 * part of the version. */
static void test_not_nul_terminated(void)
{
    static const struct {
        const char *name;
        vectors_cmp_fn fn;
    } ecos[] = {
        {"rubygems", version_rubygems_compare}, {"maven", version_maven_compare},
        {"nuget", version_nuget_compare},       {"packagist", version_packagist_compare},
        {"pub", version_pub_compare},           {"hackage", version_hackage_compare},
    };
    const char buf[] = "1.2.3.9-zz!";
    for (size_t i = 0; i < KB_ARRAY_LEN(ecos); i++) {
        int c = 99;
        struct kb_why why = {{0}};
        kb_err e = ecos[i].fn(buf, 5, "1.2.3", 5, &c, &why);
        T_CHECKF(e == KB_OK && c == 0, "%s: got %d (%s)", ecos[i].name, c, why.msg);
    }
}

/* Exactly VERSION_MAX_LEN bytes is accepted; one more is refused with
 * KB_ETOOBIG by compare and by valid. */
static void test_length_bound(void)
{
    static const struct {
        const char *name, *head;
        char fill;
        vectors_cmp_fn fn;
        bool (*valid)(const char *, size_t);
    } ecos[] = {
        {"rubygems", "1.0.0-", 'a', version_rubygems_compare, version_rubygems_valid},
        {"maven", "1.0.0-", 'a', version_maven_compare, version_maven_valid},
        {"nuget", "1.0.0-", 'a', version_nuget_compare, version_nuget_valid},
        {"packagist", "1.0.0-", 'a', version_packagist_compare, version_packagist_valid},
        {"pub", "1.0.0-", 'a', version_pub_compare, version_pub_valid},
        {"hackage", "1.", '0', version_hackage_compare, version_hackage_valid},
    };
    char s[VERSION_MAX_LEN + 2];
    for (size_t i = 0; i < KB_ARRAY_LEN(ecos); i++) {
        size_t h = strlen(ecos[i].head);
        memcpy(s, ecos[i].head, h);
        memset(s + h, ecos[i].fill, sizeof s - h);
        int c = 99;
        struct kb_why why = {{0}};
        kb_err e = ecos[i].fn(s, VERSION_MAX_LEN, s, VERSION_MAX_LEN, &c, &why);
        T_CHECKF(e == KB_OK && c == 0 && ecos[i].valid(s, VERSION_MAX_LEN), "%s at %d: %s",
                 ecos[i].name, VERSION_MAX_LEN, why.msg);
        e = ecos[i].fn(s, VERSION_MAX_LEN + 1, "1", 1, &c, &why);
        T_CHECKF(e == KB_ETOOBIG, "%s: %d-byte version not refused", ecos[i].name,
                 VERSION_MAX_LEN + 1);
        e = ecos[i].fn("1", 1, s, VERSION_MAX_LEN + 1, &c, &why);
        T_CHECKF(e == KB_ETOOBIG, "%s: %d-byte version on the right not refused", ecos[i].name,
                 VERSION_MAX_LEN + 1);
        T_CHECK(!ecos[i].valid(s, VERSION_MAX_LEN + 1));
    }
}

int main(void)
{
    T_RUN(test_rubygems_vectors);
    T_RUN(test_maven_vectors);
    T_RUN(test_nuget_vectors);
    T_RUN(test_packagist_vectors);
    T_RUN(test_pub_vectors);
    T_RUN(test_hackage_vectors);
    T_RUN(test_rubygems_rules);
    T_RUN(test_maven_rules);
    T_RUN(test_nuget_rules);
    T_RUN(test_packagist_rules);
    T_RUN(test_pub_rules);
    T_RUN(test_hackage_rules);
    T_RUN(test_not_nul_terminated);
    T_RUN(test_length_bound);
    return t_done();
}
