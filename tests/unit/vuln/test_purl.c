/* test_purl.c — package URLs (purl.h): parsing with percent-decoding,
 * namespaces, qualifiers and subpaths, what is refused, the bounds, the
 * map to OSV ecosystems and names, and building purls that parse back. */
#include "vuln/purl.h"

#include "test.h"

/* purl_parse of text into p (arena a); KB_OK expected. */
#define PURL_OK(text, p)                                                                           \
    do {                                                                                           \
        struct kb_why w_ = {{0}};                                                                  \
        kb_err e_ = purl_parse(text, strlen(text), &a, &(p), &w_);                                 \
        T_CHECKF(e_ == KB_OK, "%s: %d %s", text, e_, w_.msg);                                      \
    } while (0)

static void test_purl_parse(void)
{
    struct arena a;
    arena_init(&a, 1u << 20);
    struct purl p;
    PURL_OK("pkg:npm/%40babel/core@7.22.5", p);
    T_EQ_STR(p.type, "npm");
    T_EQ_STR(p.ns, "@babel");
    T_EQ_STR(p.name, "core");
    T_EQ_STR(p.version, "7.22.5");
    T_EQ_INT(p.nqualifiers, 0);
    T_CHECK(p.subpath == NULL);

    /* unencoded scope, "pkg://", uppercase type, qualifiers and subpath */
    PURL_OK("PKG://NPM/@babel/core", p);
    T_EQ_STR(p.type, "npm");
    T_EQ_STR(p.ns, "@babel");
    T_EQ_STR(p.name, "core");
    T_CHECK(p.version == NULL);
    PURL_OK("pkg:golang/google.golang.org//genproto@v0.0.0-2023%2Bx?Repository_URL=a%26b&empty="
            "&goos=linux#/googleapis/./api/../annotations/",
            p);
    T_EQ_STR(p.ns, "google.golang.org");
    T_EQ_STR(p.name, "genproto");
    T_EQ_STR(p.version, "v0.0.0-2023+x");
    T_EQ_INT(p.nqualifiers, 2);
    T_EQ_STR(purl_qualifier(&p, "repository_url"), "a&b");
    T_EQ_STR(purl_qualifier(&p, "goos"), "linux");
    T_CHECK(purl_qualifier(&p, "empty") == NULL);
    T_EQ_STR(p.subpath, "googleapis/api/annotations");
    PURL_OK("pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?classifier=sources", p);
    T_EQ_STR(p.ns, "org.apache.xmlgraphics");
    /* '@' and '/' inside a version are taken as written once decoded */
    PURL_OK("pkg:generic/name@1.0%40beta%2F2", p);
    T_EQ_STR(p.version, "1.0@beta/2");
    PURL_OK("pkg:pypi/Typing_Extensions@4.8.0", p);
    T_EQ_STR(p.name, "typing-extensions");
    PURL_OK("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64", p);
    T_EQ_STR(p.version, "2.36-9+deb12u4");
    T_EQ_STR(p.name, "libc6");

    /* refused */
    static const char *const bad[] = {
        "npm/x@1", "pkg:", "pkg:npm", "pkg:/x", "pkg:npm/", "pkg:npm/@1.0", "pkg:npm/a%2@1",
        "pkg:npm/a%00b", "pkg:np m/x", "pkg:npm/x?novalue", "pkg:npm/x@1%",
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(bad); i++) {
        struct kb_why w = {{0}};
        kb_err e = purl_parse(bad[i], strlen(bad[i]), &a, &p, &w);
        T_CHECKF(e == KB_EPARSE && w.msg[0], "%s: %d", bad[i], e);
    }
    char big[PURL_MAX_LEN + 10];
    memset(big, 'a', sizeof big);
    memcpy(big, "pkg:npm/", 8);
    T_EQ_INT(purl_parse(big, sizeof big, &a, &p, NULL), KB_ETOOBIG);
    char many[2048] = "pkg:npm/x@1?";
    for (int i = 0; i < PURL_MAX_QUALIFIERS + 1; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "k%d=v&", i);
    T_EQ_INT(purl_parse(many, strlen(many), &a, &p, NULL), KB_ETOOBIG);
    arena_release(&a);
}

/* The ecosystem and package name of a purl. */
#define ECO(text, want_eco, want_name)                                                             \
    do {                                                                                           \
        struct purl p_;                                                                            \
        char eco_[64] = "", name_[256] = "";                                                       \
        PURL_OK(text, p_);                                                                         \
        T_EQ_INT(purl_ecosystem(&p_, eco_, sizeof eco_), KB_OK);                                   \
        T_EQ_INT(purl_package_name(&p_, name_, sizeof name_), KB_OK);                              \
        T_EQ_STR(eco_, want_eco);                                                                  \
        T_EQ_STR(name_, want_name);                                                                \
    } while (0)

static void test_purl_ecosystems(void)
{
    struct arena a;
    arena_init(&a, 1u << 20);
    ECO("pkg:deb/debian/curl@1", "Debian", "curl");
    ECO("pkg:deb/debian/curl@1?distro=debian-12.4", "Debian:12", "curl");
    ECO("pkg:deb/debian/curl@1?distro=bookworm", "Debian:12", "curl");
    ECO("pkg:deb/debian/curl@1?distro=debian-bullseye", "Debian:11", "curl");
    ECO("pkg:deb/ubuntu/curl@1?distro=ubuntu-22.04", "Ubuntu:22.04", "curl");
    ECO("pkg:deb/ubuntu/curl@1", "Ubuntu", "curl");
    ECO("pkg:rpm/redhat/openssl@1:3.0.7-27.el9?distro=rhel-9.3", "Red Hat", "openssl");
    ECO("pkg:rpm/fedora/curl@7.50.3-1.fc25?distro=fedora-25", "Red Hat", "curl");
    ECO("pkg:rpm/rocky/bash@5.1?distro=rocky-9.2", "Rocky Linux:9", "bash");
    ECO("pkg:rpm/almalinux/bash@5.1", "AlmaLinux", "bash");
    ECO("pkg:rpm/opensuse/curl@8?distro=opensuse-leap-15.5", "openSUSE", "curl");
    ECO("pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.18.4", "Alpine:v3.18", "musl");
    ECO("pkg:apk/wolfi/glibc@2.38", "Wolfi", "glibc");
    ECO("pkg:npm/%40angular/core@16.0.0", "npm", "@angular/core");
    ECO("pkg:npm/left-pad@1.3.0", "npm", "left-pad");
    ECO("pkg:pypi/django@4.2", "PyPI", "django");
    ECO("pkg:golang/github.com/gorilla/context@v1.1.1", "Go", "github.com/gorilla/context");
    ECO("pkg:golang/stdlib@1.21.0", "Go", "stdlib");
    ECO("pkg:cargo/serde@1.0.0", "crates.io", "serde");
    ECO("pkg:gem/rails@7.0.0?platform=ruby", "RubyGems", "rails");
    ECO("pkg:composer/laravel/framework@10.0.0", "Packagist", "laravel/framework");
    ECO("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "Maven",
        "org.apache.logging.log4j:log4j-core");
    ECO("pkg:nuget/Newtonsoft.Json@13.0.1", "NuGet", "Newtonsoft.Json");
    ECO("pkg:hex/phoenix@1.7.0", "Hex", "phoenix");
    ECO("pkg:pub/http@1.1.0", "Pub", "http");
    ECO("pkg:swift/github.com/apple/swift-nio@2.0.0", "SwiftURL", "github.com/apple/swift-nio");
    struct purl p;
    char eco[64];
    PURL_OK("pkg:generic/openssl@1.1.1", p);
    T_EQ_INT(purl_ecosystem(&p, eco, sizeof eco), KB_ENOTFOUND);
    PURL_OK("pkg:docker/library/nginx@1.25", p);
    T_EQ_INT(purl_ecosystem(&p, eco, sizeof eco), KB_ENOTFOUND);
    T_CHECK(purl_type_ecosystem("cargo") && !strcmp(purl_type_ecosystem("cargo"), "crates.io"));
    T_CHECK(purl_type_ecosystem("github") == NULL);
    PURL_OK("pkg:deb/debian/curl@1?distro=debian-12", p);
    char tiny[6];
    T_EQ_INT(purl_ecosystem(&p, tiny, sizeof tiny), KB_ETOOBIG);
    arena_release(&a);
}

static void test_purl_format(void)
{
    char buf[256];
    T_EQ_INT(purl_format("npm", "@babel", "core", "7.0.0", buf, sizeof buf), KB_OK);
    T_EQ_STR(buf, "pkg:npm/%40babel/core@7.0.0");
    T_EQ_INT(purl_format("deb", "debian", "libc6", "2.36-9+deb12u4", buf, sizeof buf), KB_OK);
    T_EQ_STR(buf, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4");
    T_EQ_INT(purl_format("golang", "github.com/a b", "c", NULL, buf, sizeof buf), KB_OK);
    T_EQ_STR(buf, "pkg:golang/github.com/a%20b/c");
    T_EQ_INT(purl_format("npm", NULL, "x", "1:2", buf, sizeof buf), KB_OK);
    T_EQ_STR(buf, "pkg:npm/x@1%3A2");
    T_EQ_INT(purl_format("npm", NULL, "a-long-name", "1.0.0", buf, 12), KB_ETOOBIG);
    /* what purl_format writes, purl_parse reads back */
    struct arena a;
    arena_init(&a, 1u << 16);
    struct purl p;
    T_EQ_INT(purl_format("npm", "@s", "n%x", "1.0.0+b?#", buf, sizeof buf), KB_OK);
    PURL_OK(buf, p);
    T_EQ_STR(p.ns, "@s");
    T_EQ_STR(p.name, "n%x");
    T_EQ_STR(p.version, "1.0.0+b?#");
    arena_release(&a);
}

int main(void)
{
    T_RUN(test_purl_parse);
    T_RUN(test_purl_ecosystems);
    T_RUN(test_purl_format);
    return t_done();
}
