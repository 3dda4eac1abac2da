/* test_inventory_a.c — the inventory parsers for dpkg, rpm, apk,
 * package-lock.json, yarn.lock, pnpm-lock.yaml, CycloneDX and SPDX, and
 * detection: every real file in ../shared/data/inventory (counts and
 * packages read off the files by hand), then small inputs for each
 * format's variants and malformed entries (a warning with FILE:LINE, the
 * good entries kept), format detection and the bounds. The parsers are
 * called through inventory_parse; purl.h has its own test (test_purl.c). */
#include "vuln/inventory.h"

#include "test.h"

#include <dirent.h>

/* Parses text as format f into a fresh inventory (released by the caller). */
static kb_err parse(enum inventory_format f, const char *text, const char *name,
                    struct inventory *inv, struct kb_why *why)
{
    *inv = (struct inventory)INVENTORY_INIT;
    return inventory_parse(f, text, strlen(text), name, inv, why);
}

static const struct inventory_pkg *find(const struct inventory *inv, const char *name,
                                        const char *version)
{
    for (size_t i = 0; i < inv->n; i++)
        if (!strcmp(inv->pkgs[i].name, name) && (!version || !strcmp(inv->pkgs[i].version, version)))
            return &inv->pkgs[i];
    return NULL;
}

static bool warned(const struct inventory *inv, const char *needle)
{
    for (size_t i = 0; i < inv->nwarnings; i++)
        if (strstr(inv->warnings[i], needle))
            return true;
    return false;
}

/* Checks one package: ecosystem, version, location, dev; purl and source
 * when given (NULL means "must be NULL", "" means "not checked"). */
#define PKG(inv, nm, ver, eco, loc, isdev, src, purl_)                                             \
    do {                                                                                           \
        const struct inventory_pkg *p_ = find(inv, nm, ver);                                       \
        T_CHECKF(p_ != NULL, "no package %s %s", nm, ver);                                         \
        if (p_) {                                                                                  \
            T_EQ_STR(p_->ecosystem, eco);                                                          \
            T_EQ_STR(p_->location, loc);                                                           \
            T_EQ_INT(p_->dev, isdev);                                                              \
            const char *s_ = (src), *u_ = (purl_);                                                 \
            if (!s_)                                                                               \
                T_CHECKF(p_->source == NULL, "%s: source %s", nm, p_->source);                     \
            else if (*s_)                                                                          \
                T_EQ_STR(p_->source, s_);                                                          \
            if (!u_)                                                                               \
                T_CHECKF(p_->purl == NULL, "%s: purl %s", nm, p_->purl);                           \
            else if (*u_)                                                                          \
                T_EQ_STR(p_->purl, u_);                                                            \
        }                                                                                          \
    } while (0)

#define WARNED(inv, needle) T_CHECKF(warned(inv, needle), "no warning with '%s'", needle)

/* Reads a real file, detects its format by name and content, parses it. */
static char *real(const char *data, const char *file, enum inventory_format want,
                  struct inventory *inv)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/inventory/%s", data, file);
    size_t len = 0;
    char *text = t_read_file(path, &len);
    *inv = (struct inventory)INVENTORY_INIT;
    T_CHECKF(text != NULL, "cannot read %s", path);
    if (!text)
        return NULL;
    enum inventory_format by_name = INV_FORMAT_COUNT, by_content = INV_FORMAT_COUNT;
    T_EQ_INT(inventory_detect(file, text, len, &by_name), KB_OK);
    T_EQ_INT(by_name, want);
    T_EQ_INT(inventory_detect(NULL, text, len, &by_content), KB_OK);
    T_EQ_INT(by_content, want);
    struct kb_why why = {{0}};
    kb_err e = inventory_parse(want, text, len, file, inv, &why);
    T_CHECKF(e == KB_OK, "%s: %d %s", file, e, why.msg);
    return text;
}

static void test_real_dpkg(void)
{
    T_NEED_DATA(data);
    struct inventory inv;
    char *text = real(data, "dpkg_statusfield", INV_DPKG, &inv);
    /* of the seven paragraphs only "install ok installed" is on disk */
    T_EQ_INT(inv.n, 1);
    PKG(&inv, "wantinstall_installed", "1.0", "Debian", "dpkg_statusfield:1", false, NULL, NULL);
    T_CHECK(!find(&inv, "wantdeinstall_installed", NULL));
    T_CHECK(!find(&inv, "wantinstall_unpacked", NULL));
    T_EQ_INT(inv.nwarnings, 1);
    WARNED(&inv, "dpkg_statusfield:25: package wantnostatus: no Status field");
    inventory_release(&inv);
    free(text);
}

static void test_real_npm(void)
{
    T_NEED_DATA(data);
    struct inventory inv;
    char *text = real(data, "package-lock-only_package-lock.json", INV_NPM_LOCK, &inv);
    T_EQ_INT(inv.n, 2); /* the root "" (my-library) is the project */
    T_EQ_INT(inv.nwarnings, 0);
    PKG(&inv, "wrappy", "1.0.2", "npm", "package-lock-only_package-lock.json:13", false, NULL,
        "pkg:npm/wrappy@1.0.2");
    PKG(&inv, "supports-color", "5.5.0", "npm", "package-lock-only_package-lock.json:18", false,
        NULL, "pkg:npm/supports-color@5.5.0");
    T_CHECK(!find(&inv, "my-library", NULL));
    inventory_release(&inv);
    free(text);
}

static void test_real_cyclonedx(void)
{
    T_NEED_DATA(data);
    struct inventory inv;
    /* only metadata.component (the subject): nothing, silently */
    char *text = real(data, "doc.cyclonedx.json", INV_CYCLONEDX, &inv);
    T_EQ_INT(inv.n, 0);
    T_EQ_INT(inv.nwarnings, 0);
    inventory_release(&inv);
    free(text);

    /* openssl's purl is pkg:generic (no ecosystem), Nginx has a CPE only */
    text = real(data, "sbom.cdx.json", INV_CYCLONEDX, &inv);
    T_EQ_INT(inv.n, 0);
    T_EQ_INT(inv.nwarnings, 2);
    WARNED(&inv, "sbom.cdx.json:7: component 'openssl' 1.1.1: purl 'pkg:generic/openssl@1.1.1': "
                 "type 'generic' has no OSV ecosystem");
    WARNED(&inv, "sbom.cdx.json:14: component 'Nginx' 1.21.1: no purl");
    inventory_release(&inv);
    free(text);

    /* the same two, and rustls nested inside Nginx */
    text = real(data, "sbom-with-nested-comps.cdx.json", INV_CYCLONEDX, &inv);
    T_EQ_INT(inv.n, 1);
    T_EQ_INT(inv.nwarnings, 2);
    PKG(&inv, "rustls", "0.23.13", "crates.io", "sbom-with-nested-comps.cdx.json:21", false, NULL,
        "pkg:cargo/rustls@0.23.13");
    inventory_release(&inv);
    free(text);
}

static void test_real_spdx(void)
{
    T_NEED_DATA(data);
    struct inventory inv;
    char *text = real(data, "json-format.spdx.json", INV_SPDX, &inv);
    T_EQ_INT(inv.n, 0); /* a document with no packages */
    T_EQ_INT(inv.nwarnings, 0);
    inventory_release(&inv);
    free(text);
}

/* Every file of the folder that koban detects parses without error. */
static void test_real_every_file(void)
{
    T_NEED_DATA(data);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/inventory", data);
    DIR *d = opendir(dir);
    T_CHECKF(d != NULL, "cannot open %s", dir);
    if (!d)
        return;
    int parsed = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len = 0;
        char *text = t_read_file(path, &len);
        enum inventory_format f;
        if (text && inventory_detect(de->d_name, text, len, &f) == KB_OK) {
            struct inventory inv = INVENTORY_INIT;
            struct kb_why why = {{0}};
            kb_err e = inventory_parse(f, text, len, de->d_name, &inv, &why);
            T_CHECKF(e == KB_OK, "%s: %d %s", de->d_name, e, why.msg);
            parsed++;
            inventory_release(&inv);
        } else {
            T_CHECKF(!strcmp(de->d_name, "LICENSE"), "%s: not detected", de->d_name);
        }
        free(text);
    }
    closedir(d);
    T_CHECKF(parsed >= 6, "only %d files parsed", parsed);
}

static void test_dpkg_variants(void)
{
    const char *text =
        "Package: libc6\n"
        "Status: install ok installed\n"
        "Architecture: amd64\n"
        "Source: glibc\n"
        "Version: 2.36-9+deb12u4\n"
        "Description: GNU C Library\n"
        " continuation line\n"
        " .\n"
        "\n"
        "package: gcc\r\n" /* field names ignore case; CRLF */
        "STATUS: hold ok installed\r\n"
        "Version: 4:12.2.0-3\r\n"
        "Source: gcc-defaults (1.203)\r\n"
        "\r\n"
        "Package: noversion\n"
        "Status: install ok installed\n"
        "\n\n\n"
        "Status: install ok installed\n"
        "Version: 1\n"
        "\n"
        "Package: badstatus\n"
        "Status: installed\n"
        "Version: 1\n"
        "garbage line\n"
        "\n"
        "Package: removed\n"
        "Status: deinstall ok config-files\n"
        "Version: 1\n"
        "\n"
        "Package: last\n"
        "Status: install ok installed\n"
        "Version: 0.1";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_DPKG, text, "status", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 3);
    PKG(&inv, "libc6", "2.36-9+deb12u4", "Debian", "status:1", false, "glibc", NULL);
    PKG(&inv, "gcc", "4:12.2.0-3", "Debian", "status:10", false, "gcc-defaults (1.203)", NULL);
    PKG(&inv, "last", "0.1", "Debian", "status:32", false, NULL, NULL);
    WARNED(&inv, "status:15: package noversion: no usable Version");
    WARNED(&inv, "status:20: paragraph without a Package field");
    WARNED(&inv, "status:23: package badstatus: Status 'installed' is not 'want flag status'");
    WARNED(&inv, "status:26: not a 'Field: value' line");
    T_EQ_INT(inv.nwarnings, 4);
    inventory_release(&inv);

    T_EQ_INT(parse(INV_DPKG, "", "empty", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 0);
    inventory_release(&inv);
    T_EQ_INT(parse(INV_DPKG, "{\"not\": \"dpkg\"}\n", "x.json", &inv, &why), KB_EPARSE);
    T_CHECKF(strstr(why.msg, "x.json") != NULL, "%s", why.msg);
    inventory_release(&inv);
}

static void test_rpm_variants(void)
{
    const char *text =
        "openssl-libs\t1:3.0.7-27.el9\tx86_64\topenssl-3.0.7-27.el9.src.rpm\n"
        "bash\t(none):5.1.8-9.el9\tx86_64\tbash-5.1.8-9.el9.src.rpm\n"
        "gpg-pubkey\t(none):fd431d51-4ae0493b\t(none)\t(none)\n"
        "broken\tnoversion\tx86_64\tbroken.src.rpm\n"
        "\n"
        "tzdata\t(none):2024a-1.el9\tnoarch\t(none)\n"
        "kernel-core-5.14.0-362.8.1.el9_3.x86_64\n"       /* plain rpm -qa */
        "perl-Time-HiRes-4:1.9767-3.el9.x86_64\n"          /* with an epoch */
        "python3-libs-3.9.18-1.el9\n"                      /* no arch */
        "nodashes\n";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_RPM, text, "rpm.txt", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 6);
    PKG(&inv, "openssl-libs", "1:3.0.7-27.el9", "Red Hat", "rpm.txt:1", false,
        "openssl-3.0.7-27.el9.src.rpm", NULL);
    PKG(&inv, "bash", "5.1.8-9.el9", "Red Hat", "rpm.txt:2", false, "bash-5.1.8-9.el9.src.rpm",
        NULL);
    PKG(&inv, "tzdata", "2024a-1.el9", "Red Hat", "rpm.txt:6", false, NULL, NULL);
    PKG(&inv, "kernel-core", "5.14.0-362.8.1.el9_3", "Red Hat", "rpm.txt:7", false, NULL, NULL);
    PKG(&inv, "perl-Time-HiRes", "4:1.9767-3.el9", "Red Hat", "rpm.txt:8", false, NULL, NULL);
    PKG(&inv, "python3-libs", "3.9.18-1.el9", "Red Hat", "rpm.txt:9", false, NULL, NULL);
    T_CHECK(!find(&inv, "gpg-pubkey", NULL));
    WARNED(&inv, "rpm.txt:4: package broken: version 'noversion'");
    WARNED(&inv, "rpm.txt:10: not NAME-VERSION-RELEASE.ARCH");
    T_EQ_INT(inv.nwarnings, 2);
    inventory_release(&inv);

    T_EQ_INT(parse(INV_RPM, "hello world\nfoo\n", "x", &inv, &why), KB_EPARSE);
    inventory_release(&inv);
}

static void test_apk_variants(void)
{
    const char *text = "C:Q1abc=\n"
                       "P:musl\n"
                       "V:1.2.4-r2\n"
                       "A:x86_64\n"
                       "o:musl\n"
                       "F:lib\n"
                       "R:ld-musl-x86_64.so.1\n"
                       "\n"
                       "C:Q1def=\n"
                       "P:libcrypto3\n"
                       "V:3.1.4-r1\n"
                       "o:openssl\n"
                       "\n"
                       "C:Q1ghi=\n"
                       "P:noversion\n"
                       "\n"
                       "P:busybox\n"
                       "V:1.36.1-r15\n";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_APK, text, "installed", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 3);
    PKG(&inv, "musl", "1.2.4-r2", "Alpine", "installed:1", false, "musl", NULL);
    PKG(&inv, "libcrypto3", "3.1.4-r1", "Alpine", "installed:9", false, "openssl", NULL);
    PKG(&inv, "busybox", "1.36.1-r15", "Alpine", "installed:17", false, NULL, NULL);
    WARNED(&inv, "installed:14: package noversion: no V: version");
    T_EQ_INT(inv.nwarnings, 1);
    inventory_release(&inv);
    T_EQ_INT(parse(INV_APK, "this is\nnot apk\n", "x", &inv, &why), KB_EPARSE);
    inventory_release(&inv);
}

static void test_npm_v1(void)
{
    const char *text = "{\n"
                       "  \"name\": \"app\", \"lockfileVersion\": 1,\n"
                       "  \"dependencies\": {\n"
                       "    \"a\": {\"version\": \"1.0.0\", \"dependencies\": {\n"
                       "      \"b\": {\"version\": \"2.0.0\", \"dev\": true}\n"
                       "    }},\n"
                       "    \"@s/c\": {\"version\": \"3.0.0\"},\n"
                       "    \"alias\": {\"version\": \"npm:real@4.0.0\"},\n"
                       "    \"local\": {\"version\": \"file:../local\"},\n"
                       "    \"gitdep\": {\"version\": \"github:u/r#abc\"},\n"
                       "    \"nover\": {\"resolved\": \"x\"},\n"
                       "    \"b\": {\"version\": \"2.0.0\"}\n"
                       "  }\n"
                       "}\n";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_NPM_LOCK, text, "package-lock.json", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 4);
    PKG(&inv, "a", "1.0.0", "npm", "package-lock.json:4", false, NULL, "pkg:npm/a@1.0.0");
    /* b nested under a (dev) and again at the top: listed once */
    PKG(&inv, "b", "2.0.0", "npm", "package-lock.json:5", true, NULL, "pkg:npm/b@2.0.0");
    PKG(&inv, "@s/c", "3.0.0", "npm", "package-lock.json:7", false, NULL,
        "pkg:npm/%40s/c@3.0.0");
    PKG(&inv, "real", "4.0.0", "npm", "package-lock.json:8", false, NULL, "pkg:npm/real@4.0.0");
    WARNED(&inv, "package-lock.json:11: dependencies.nover: version is not a string");
    T_EQ_INT(inv.nwarnings, 1);
    inventory_release(&inv);
}

static void test_npm_v3(void)
{
    const char *text =
        "{\n"
        "  \"lockfileVersion\": 3,\n"
        "  \"packages\": {\n"
        "    \"\": {\"name\": \"app\", \"version\": \"1.0.0\"},\n"
        "    \"node_modules/a\": {\"version\": \"1.0.0\"},\n"
        "    \"node_modules/a/node_modules/@s/b\": {\"version\": \"2.0.0\", \"dev\": true},\n"
        "    \"node_modules/ws-link\": {\"resolved\": \"packages/ws\", \"link\": true},\n"
        "    \"packages/ws\": {\"name\": \"ws\", \"version\": \"0.1.0\"},\n"
        "    \"node_modules/aliased\": {\"name\": \"real\", \"version\": \"3.0.0\"},\n"
        "    \"node_modules/bad\": {\"version\": 5},\n"
        "    \"node_modules/c\": \"nope\",\n"
        "    \"node_modules/x/node_modules/a\": {\"version\": \"1.0.0\"}\n"
        "  }\n"
        "}\n";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_NPM_LOCK, text, "package-lock.json", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 3);
    PKG(&inv, "a", "1.0.0", "npm", "package-lock.json:5", false, NULL, "pkg:npm/a@1.0.0");
    PKG(&inv, "@s/b", "2.0.0", "npm", "package-lock.json:6", true, NULL,
        "pkg:npm/%40s/b@2.0.0");
    PKG(&inv, "real", "3.0.0", "npm", "package-lock.json:9", false, NULL, "");
    T_CHECK(!find(&inv, "app", NULL) && !find(&inv, "ws", NULL) && !find(&inv, "ws-link", NULL));
    WARNED(&inv, "package-lock.json:10: packages.node_modules/bad: version is not a string");
    WARNED(&inv, "package-lock.json:11: packages.node_modules/c: not an object");
    T_EQ_INT(inv.nwarnings, 2);
    inventory_release(&inv);

    T_EQ_INT(parse(INV_NPM_LOCK, "{\n  \"lockfileVersion\": 2,\n  \"packages\": {,}\n}", "p.json",
                   &inv, &why),
             KB_EPARSE);
    T_CHECKF(!strncmp(why.msg, "p.json:3:", 9), "%s", why.msg);
    inventory_release(&inv);
    T_EQ_INT(parse(INV_NPM_LOCK, "{\"name\": \"x\"}", "p.json", &inv, &why), KB_EPARSE);
    inventory_release(&inv);
}

static void test_yarn_classic(void)
{
    const char *text =
        "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n"
        "# yarn lockfile v1\n"
        "\n"
        "\n"
        "\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n"
        "  version \"7.12.13\"\n"
        "  resolved \"https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz\"\n"
        "  dependencies:\n"
        "    \"@babel/highlight\" \"^7.12.13\"\n"
        "\n"
        "lodash@^4.17.15, lodash@^4.17.20:\n"
        "  version \"4.17.21\"\n"
        "\n"
        "\"string-width-cjs@npm:string-width@^4.2.0\":\n"
        "  version \"4.2.3\"\n"
        "\n"
        "noversion@^1.0.0:\n"
        "  resolved \"x\"\n"
        "\n"
        "left-pad@1.3.0:\n"
        "  version \"1.3.0\"\n";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_YARN_LOCK, text, "yarn.lock", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 4);
    PKG(&inv, "@babel/code-frame", "7.12.13", "npm", "yarn.lock:5", false, NULL,
        "pkg:npm/%40babel/code-frame@7.12.13");
    PKG(&inv, "lodash", "4.17.21", "npm", "yarn.lock:11", false, NULL, "");
    PKG(&inv, "string-width", "4.2.3", "npm", "yarn.lock:14", false, NULL, "");
    PKG(&inv, "left-pad", "1.3.0", "npm", "yarn.lock:20", false, NULL, "");
    WARNED(&inv, "yarn.lock:17: noversion: no version");
    T_EQ_INT(inv.nwarnings, 1);
    inventory_release(&inv);
}

static void test_yarn_berry(void)
{
    const char *text =
        "# This file is generated by running \"yarn install\" inside your project.\n"
        "\n"
        "__metadata:\n"
        "  version: 6\n"
        "  cacheKey: 8\n"
        "\n"
        "\"@babel/code-frame@npm:^7.0.0, @babel/code-frame@npm:^7.10.4\":\n"
        "  version: 7.12.13\n"
        "  resolution: \"@babel/code-frame@npm:7.12.13\"\n"
        "  linkType: hard\n"
        "\n"
        "\"my-app@workspace:.\":\n"
        "  version: 0.0.0-use.local\n"
        "  resolution: \"my-app@workspace:.\"\n"
        "  linkType: soft\n"
        "\n"
        "\"resolve@patch:resolve@^1.20.0#~builtin<compat/resolve>\":\n"
        "  version: 1.22.1\n"
        "  resolution: \"resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1\"\n"
        "  linkType: hard\n"
        "\n"
        "\"resolve@npm:^1.20.0\":\n"
        "  version: 1.22.1\n"
        "  resolution: \"resolve@npm:1.22.1\"\n"
        "  linkType: hard\n"
        "\n"
        "\"broken@npm:1\":\n"
        "  version: 1.0.0\n";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_YARN_LOCK, text, "yarn.lock", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 2);
    PKG(&inv, "@babel/code-frame", "7.12.13", "npm", "yarn.lock:7", false, NULL,
        "pkg:npm/%40babel/code-frame@7.12.13");
    PKG(&inv, "resolve", "1.22.1", "npm", "yarn.lock:22", false, NULL, "");
    WARNED(&inv, "yarn.lock:27: broken@npm:1: no resolution");
    T_EQ_INT(inv.nwarnings, 1);
    inventory_release(&inv);

    T_EQ_INT(parse(INV_YARN_LOCK, "__metadata:\n  version: 6\n\"a\": [unclosed\n", "yarn.lock",
                   &inv, &why),
             KB_EPARSE);
    T_CHECKF(!strncmp(why.msg, "yarn.lock:", 10), "%s", why.msg);
    inventory_release(&inv);
}

static void test_pnpm_v5(void)
{
    const char *text = "lockfileVersion: 5.4\n"
                       "\n"
                       "specifiers:\n"
                       "  a: ^1.0.0\n"
                       "\n"
                       "packages:\n"
                       "\n"
                       "  /a/1.0.0:\n"
                       "    resolution: {integrity: sha512-x}\n"
                       "    dev: false\n"
                       "\n"
                       "  /@s/b/2.0.0_a@1.0.0:\n"
                       "    resolution: {integrity: sha512-y}\n"
                       "    dev: true\n"
                       "\n"
                       "  /@s/b/2.0.0_c@3.0.0:\n"
                       "    resolution: {integrity: sha512-y}\n"
                       "    dev: true\n"
                       "\n"
                       "  github.com/u/repo/abc123:\n"
                       "    resolution: {tarball: https://codeload.github.com/u/repo/tar.gz/abc123}\n"
                       "    name: repo\n"
                       "    version: 0.5.0\n"
                       "\n"
                       "  registry.example.com/c/3.1.0:\n"
                       "    resolution: {integrity: sha512-w}\n"
                       "\n"
                       "  /nover:\n"
                       "    resolution: {integrity: sha512-z}\n";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_PNPM_LOCK, text, "pnpm-lock.yaml", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 4);
    PKG(&inv, "a", "1.0.0", "npm", "pnpm-lock.yaml:8", false, NULL, "pkg:npm/a@1.0.0");
    PKG(&inv, "c", "3.1.0", "npm", "pnpm-lock.yaml:25", false, NULL, "");
    PKG(&inv, "@s/b", "2.0.0", "npm", "pnpm-lock.yaml:12", true, NULL, "pkg:npm/%40s/b@2.0.0");
    PKG(&inv, "repo", "0.5.0", "npm", "pnpm-lock.yaml:20", false, NULL, "");
    WARNED(&inv, "pnpm-lock.yaml:28: packages./nover: no package name and version");
    T_EQ_INT(inv.nwarnings, 1);
    inventory_release(&inv);
}

static void test_pnpm_v6_v9(void)
{
    const char *v6 = "lockfileVersion: '6.0'\n"
                     "packages:\n"
                     "  /a@1.0.0:\n"
                     "    resolution: {integrity: sha512-x}\n"
                     "    dev: true\n"
                     "  /@s/ts-node@10.9.1(@types/node@20.4.1)(typescript@5.1.6):\n"
                     "    resolution: {integrity: sha512-y}\n"
                     "  /local@link:../local:\n"
                     "    resolution: {directory: ../local, type: directory}\n";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_PNPM_LOCK, v6, "pnpm-lock.yaml", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 2);
    PKG(&inv, "a", "1.0.0", "npm", "pnpm-lock.yaml:3", true, NULL, "");
    PKG(&inv, "@s/ts-node", "10.9.1", "npm", "pnpm-lock.yaml:6", false, NULL,
        "pkg:npm/%40s/ts-node@10.9.1");
    T_EQ_INT(inv.nwarnings, 0);
    inventory_release(&inv);

    const char *v9 = "lockfileVersion: '9.0'\n"
                     "\n"
                     "importers:\n"
                     "  .:\n"
                     "    dependencies:\n"
                     "      a:\n"
                     "        specifier: ^1.0.0\n"
                     "        version: 1.0.0\n"
                     "\n"
                     "packages:\n"
                     "\n"
                     "  '@babel/core@7.22.5':\n"
                     "    resolution: {integrity: sha512-x}\n"
                     "\n"
                     "  a@1.0.0:\n"
                     "    resolution: {integrity: sha512-y}\n"
                     "\n"
                     "snapshots:\n"
                     "\n"
                     "  '@babel/core@7.22.5': {}\n"
                     "  a@1.0.0(b@2.0.0): {}\n";
    T_EQ_INT(parse(INV_PNPM_LOCK, v9, "pnpm-lock.yaml", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 2);
    PKG(&inv, "@babel/core", "7.22.5", "npm", "pnpm-lock.yaml:12", false, NULL, "");
    PKG(&inv, "a", "1.0.0", "npm", "pnpm-lock.yaml:15", false, NULL, "");
    inventory_release(&inv);

    /* no packages at all, not pnpm, not YAML */
    T_EQ_INT(parse(INV_PNPM_LOCK, "lockfileVersion: '9.0'\nimporters: {}\n", "p", &inv, &why),
             KB_OK);
    T_EQ_INT(inv.n, 0);
    inventory_release(&inv);
    T_EQ_INT(parse(INV_PNPM_LOCK, "name: x\n", "p", &inv, &why), KB_EPARSE);
    inventory_release(&inv);
    T_EQ_INT(parse(INV_PNPM_LOCK, "a: [\n", "p", &inv, &why), KB_EPARSE);
    T_CHECKF(!strncmp(why.msg, "p:", 2), "%s", why.msg);
    inventory_release(&inv);
}

static void test_cyclonedx_variants(void)
{
    const char *text =
        "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\",\n"
        " \"metadata\": {\"component\": {\"name\": \"img\", \"purl\": \"pkg:oci/img@sha256%3Aab\"}},\n"
        " \"components\": [\n"
        "  {\"type\": \"library\", \"name\": \"curl\", \"version\": \"7.88.1-10+deb12u5\",\n"
        "   \"purl\": \"pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12&upstream=curl\"},\n"
        "  {\"type\": \"library\", \"name\": \"commons-text\",\n"
        "   \"purl\": \"pkg:maven/org.apache.commons/commons-text@1.9?type=jar\"},\n"
        "  {\"type\": \"library\", \"name\": \"x\", \"version\": \"v0.1.0\",\n"
        "   \"purl\": \"pkg:golang/github.com/gorilla/mux\"},\n"
        "  {\"type\": \"library\", \"name\": \"Django\", \"purl\": \"pkg:pypi/Django_Rest@3.0\"},\n"
        "  {\"type\": \"file\", \"name\": \"/etc/passwd\"},\n"
        "  {\"type\": \"library\", \"name\": \"bad\", \"purl\": \"pkg:npm/%zz@1\"},\n"
        "  {\"type\": \"library\", \"name\": \"apk\",\n"
        "   \"purl\": \"pkg:apk/alpine/musl@1.2.4-r2?distro=3.18.4\", \"scope\": \"excluded\",\n"
        "   \"components\": [{\"name\": \"inner\", \"purl\": \"pkg:gem/rails@7.0.1\"}]},\n"
        "  7\n"
        " ]}\n";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_CYCLONEDX, text, "bom.json", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 6);
    PKG(&inv, "curl", "7.88.1-10+deb12u5", "Debian:12", "bom.json:4", false, "curl", "");
    PKG(&inv, "org.apache.commons:commons-text", "1.9", "Maven", "bom.json:6", false, NULL,
        "pkg:maven/org.apache.commons/commons-text@1.9?type=jar");
    PKG(&inv, "github.com/gorilla/mux", "v0.1.0", "Go", "bom.json:8", false, NULL, "");
    PKG(&inv, "django-rest", "3.0", "PyPI", "bom.json:10", false, NULL, "");
    PKG(&inv, "musl", "1.2.4-r2", "Alpine:v3.18", "bom.json:13", true, NULL, "");
    PKG(&inv, "rails", "7.0.1", "RubyGems", "bom.json:15", false, NULL, "");
    T_CHECK(!find(&inv, "img", NULL));
    WARNED(&inv, "bom.json:12: component 'bad': purl name: bad percent escape");
    WARNED(&inv, "bom.json:16: components[7]: not an object");
    T_EQ_INT(inv.nwarnings, 2);
    inventory_release(&inv);

    T_EQ_INT(parse(INV_CYCLONEDX, "{\"spdxVersion\": \"SPDX-2.3\"}", "x", &inv, &why), KB_EPARSE);
    inventory_release(&inv);
    T_EQ_INT(parse(INV_CYCLONEDX, "[1,", "x", &inv, &why), KB_EPARSE);
    inventory_release(&inv);
}

static void test_spdx_variants(void)
{
    const char *text =
        "{\"spdxVersion\": \"SPDX-2.3\", \"SPDXID\": \"SPDXRef-DOCUMENT\",\n"
        " \"documentDescribes\": [\"SPDXRef-root\"],\n"
        " \"packages\": [\n"
        "  {\"SPDXID\": \"SPDXRef-root\", \"name\": \"my-image\"},\n"
        "  {\"SPDXID\": \"SPDXRef-a\", \"name\": \"lodash\", \"versionInfo\": \"4.17.21\",\n"
        "   \"externalRefs\": [{\"referenceCategory\": \"SECURITY\", \"referenceType\": \"cpe23Type\",\n"
        "     \"referenceLocator\": \"cpe:2.3:a:lodash:lodash:4.17.21\"},\n"
        "    {\"referenceCategory\": \"PACKAGE-MANAGER\", \"referenceType\": \"purl\",\n"
        "     \"referenceLocator\": \"pkg:npm/lodash\"}]},\n"
        "  {\"SPDXID\": \"SPDXRef-b\", \"name\": \"serde\", \"versionInfo\": \"1.0.0\",\n"
        "   \"externalRefs\": [{\"referenceCategory\": \"PACKAGE_MANAGER\", \"referenceType\": \"purl\",\n"
        "     \"referenceLocator\": \"pkg:cargo/serde@1.0.188\"}]},\n"
        "  {\"SPDXID\": \"SPDXRef-c\", \"name\": \"nopurl\", \"versionInfo\": \"1\"},\n"
        "  {\"SPDXID\": \"SPDXRef-d\", \"name\": \"Newtonsoft.Json\",\n"
        "   \"externalRefs\": [{\"referenceType\": \"purl\",\n"
        "     \"referenceLocator\": \"pkg:nuget/Newtonsoft.Json@13.0.1\"}]}\n"
        " ],\n"
        " \"relationships\": [{\"spdxElementId\": \"SPDXRef-DOCUMENT\",\n"
        "   \"relationshipType\": \"DESCRIBES\", \"relatedSpdxElement\": \"SPDXRef-root\"}]}\n";
    struct inventory inv;
    struct kb_why why = {{0}};
    T_EQ_INT(parse(INV_SPDX, text, "sbom.spdx.json", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 3);
    PKG(&inv, "lodash", "4.17.21", "npm", "sbom.spdx.json:5", false, NULL, "pkg:npm/lodash");
    PKG(&inv, "serde", "1.0.188", "crates.io", "sbom.spdx.json:10", false, NULL, "");
    PKG(&inv, "Newtonsoft.Json", "13.0.1", "NuGet", "sbom.spdx.json:14", false, NULL, "");
    WARNED(&inv, "sbom.spdx.json:13: package 'nopurl' 1: no purl, ecosystem unknown");
    T_EQ_INT(inv.nwarnings, 1);
    inventory_release(&inv);
    T_EQ_INT(parse(INV_SPDX, "{\"bomFormat\": \"CycloneDX\"}", "x", &inv, &why), KB_EPARSE);
    inventory_release(&inv);
}

static void test_detect(void)
{
    static const struct {
        const char *file;
        const char *text;
        enum inventory_format want;
    } cases[] = {
        {"/var/lib/dpkg/status", "", INV_DPKG},
        {"/lib/apk/db/installed", "", INV_APK},
        {"app/package-lock.json", "{}", INV_NPM_LOCK},
        {"npm-shrinkwrap.json", "{}", INV_NPM_LOCK},
        {"web/yarn.lock", "", INV_YARN_LOCK},
        {"pnpm-lock.yaml", "", INV_PNPM_LOCK},
        {"image.cdx.json", "{}", INV_CYCLONEDX},
        {"image.spdx.json", "{}", INV_SPDX},
        /* by content */
        {"status.txt", "Package: libc6\nStatus: install ok installed\n", INV_DPKG},
        {"db", "C:Q1x=\nP:musl\nV:1\n", INV_APK},
        {"db", "P:musl\nV:1\n", INV_APK},
        {"hosts.txt", "bash\t(none):5.1.8-9.el9\tx86_64\tbash.src.rpm\n", INV_RPM},
        {"lock", "# yarn lockfile v1\n\nlodash@^4:\n  version \"4.17.21\"\n", INV_YARN_LOCK},
        {"lock", "# comment\n\n__metadata:\n  version: 6\n", INV_YARN_LOCK},
        {"lock.yaml", "lockfileVersion: '9.0'\n", INV_PNPM_LOCK},
        {"lock.json", "{\"name\": \"x\", \"lockfileVersion\": 3}", INV_NPM_LOCK},
        {"bom.json", "{\"bomFormat\": \"CycloneDX\"}", INV_CYCLONEDX},
        {"sbom.json", "{\"spdxVersion\": \"SPDX-2.3\"}", INV_SPDX},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(cases); i++) {
        enum inventory_format f = INV_FORMAT_COUNT;
        kb_err e = inventory_detect(cases[i].file, cases[i].text, strlen(cases[i].text), &f);
        T_CHECKF(e == KB_OK && f == cases[i].want, "%s: %d %s (want %s)", cases[i].file, e,
                 inventory_format_name(f), inventory_format_name(cases[i].want));
    }
    enum inventory_format f;
    T_EQ_INT(inventory_detect("notes.txt", "hello\tworld\n", 12, &f), KB_ENOTFOUND);
    T_EQ_INT(inventory_detect(NULL, "", 0, &f), KB_ENOTFOUND);
    T_EQ_INT(inventory_format_parse("pnpm-lock", &f), KB_OK);
    T_EQ_INT(f, INV_PNPM_LOCK);
    T_EQ_INT(inventory_format_parse("CycloneDX", &f), KB_OK);
    T_EQ_INT(f, INV_CYCLONEDX);
    T_EQ_INT(inventory_format_parse("nope", &f), KB_ENOTFOUND);
}

static void test_bounds(void)
{
    struct inventory inv = INVENTORY_INIT;
    struct kb_why why = {{0}};
    /* the size is checked before anything is read */
    static const char small[] = "Package: x\n";
    T_EQ_INT(inventory_parse(INV_DPKG, small, (size_t)INVENTORY_MAX_BYTES + 1, "big", &inv, &why),
             KB_ETOOBIG);
    T_CHECKF(strstr(why.msg, "big") != NULL, "%s", why.msg);
    T_EQ_INT(inv.n, 0);
    inventory_release(&inv);

    /* warnings beyond the bound are counted, not kept; good lines still read */
    size_t nbad = INVENTORY_MAX_WARNINGS + 5;
    size_t cap = nbad * 8 + 64, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "ok\t(none):1-1\tx86_64\t(none)\n");
    for (size_t i = 0; i < nbad; i++)
        len += (size_t)snprintf(text + len, cap - len, "bad%zu\n", i % 100);
    T_EQ_INT(inventory_parse(INV_RPM, text, len, "rpm", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 1);
    T_EQ_INT(inv.nwarnings, INVENTORY_MAX_WARNINGS);
    T_EQ_INT(inv.warnings_total, nbad);
    inventory_release(&inv);
    free(text);

    /* JSON nested past the depth bound */
    size_t depth = 300;
    text = malloc(depth * 2 + 1);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    text[depth * 2] = '\0';
    T_CHECK(parse(INV_CYCLONEDX, text, "deep.json", &inv, &why) != KB_OK);
    inventory_release(&inv);
    free(text);
}

int main(void)
{
    T_RUN(test_real_dpkg);
    T_RUN(test_real_npm);
    T_RUN(test_real_cyclonedx);
    T_RUN(test_real_spdx);
    T_RUN(test_real_every_file);
    T_RUN(test_dpkg_variants);
    T_RUN(test_rpm_variants);
    T_RUN(test_apk_variants);
    T_RUN(test_npm_v1);
    T_RUN(test_npm_v3);
    T_RUN(test_yarn_classic);
    T_RUN(test_yarn_berry);
    T_RUN(test_pnpm_v5);
    T_RUN(test_pnpm_v6_v9);
    T_RUN(test_cyclonedx_variants);
    T_RUN(test_spdx_variants);
    T_RUN(test_detect);
    T_RUN(test_bounds);
    return t_done();
}
