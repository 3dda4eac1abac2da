/* test_inventory_b.c — the lockfile parsers for Ruby, Go, Python, Rust and
 * PHP: Gemfile.lock, go.mod, go.sum, requirements.txt, poetry.lock,
 * Cargo.lock and composer.lock. Each is called directly with small inputs
 * shaped like real ones, including the tricky variants and malformed
 * entries (reported with FILE:LINE while the good entries beside them are
 * kept). */
#include "test.h"
#include "vuln/inventory_internal.h"

typedef kb_err (*parse_fn)(const char *text, size_t len, const char *name, struct inventory *inv,
                           struct kb_why *why);

static kb_err run(parse_fn fn, const char *text, const char *name, struct inventory *inv,
                  struct kb_why *why)
{
    *inv = (struct inventory)INVENTORY_INIT;
    memset(why, 0, sizeof *why);
    return fn(text, strlen(text), name, inv, why);
}

static const struct inventory_pkg *find(const struct inventory *inv, const char *name,
                                        const char *version)
{
    for (size_t k = 0; k < inv->n; k++)
        if (!strcmp(inv->pkgs[k].name, name) && !strcmp(inv->pkgs[k].version, version))
            return &inv->pkgs[k];
    return NULL;
}

static size_t count_named(const struct inventory *inv, const char *name)
{
    size_t c = 0;
    for (size_t k = 0; k < inv->n; k++)
        c += !strcmp(inv->pkgs[k].name, name);
    return c;
}

static bool warned(const struct inventory *inv, const char *where, const char *what)
{
    for (size_t k = 0; k < inv->nwarnings; k++)
        if (!strncmp(inv->warnings[k], where, strlen(where)) && strstr(inv->warnings[k], what))
            return true;
    return false;
}

static void dump_warnings(const struct inventory *inv)
{
    for (size_t k = 0; k < inv->nwarnings; k++)
        fprintf(stderr, "    warning: %s\n", inv->warnings[k]);
}

/* Checks one package: present, ecosystem, location, dev. */
#define T_PKG(inv, eco, nm, ver, loc, isdev)                                                       \
    do {                                                                                           \
        const struct inventory_pkg *t_p_ = find((inv), (nm), (ver));                               \
        T_CHECKF(t_p_ != NULL, "no package %s %s", (nm), (ver));                                   \
        if (t_p_) {                                                                                \
            T_EQ_STR(t_p_->ecosystem, (eco));                                                      \
            T_EQ_STR(t_p_->location, (loc));                                                       \
            T_EQ_INT(t_p_->dev, (isdev));                                                          \
        }                                                                                          \
    } while (0)

/* ---- Gemfile.lock ---- */

static const char gemfile_lock[] =
    "GIT\n" /* 1 */
    "  remote: https://github.com/rails/rails.git\n"
    "  revision: 3b1ad9ac4b4bb1d2b7a3e5ba4a1b1d6d1f1a1a1a\n"
    "  branch: main\n"
    "  specs:\n" /* 5 */
    "    rails (7.2.0.alpha)\n"
    "      actioncable (= 7.2.0.alpha)\n"
    "\n"
    "PATH\n"
    "  remote: .\n" /* 10 */
    "  specs:\n"
    "    myapp (0.1.0)\n"
    "      rack (>= 2.0)\n"
    "\n"
    "GEM\n" /* 15 */
    "  remote: https://rubygems.org/\n"
    "  specs:\n"
    "    actioncable (7.1.2)\n"
    "      actionpack (= 7.1.2)\n"
    "      nio4r (~> 2.0)\n" /* 20 */
    "    nokogiri (1.15.4-arm64-darwin)\n"
    "      racc (~> 1.4)\n"
    "    nokogiri (1.15.4-x86_64-linux)\n"
    "      racc (~> 1.4)\n"
    "    broken-gem\n" /* 25 */
    "    racc (1.7.3)\n"
    "    rack (2.2.8)\n"
    "   odd (1.0)\n"
    "    sqlite3 (1.6.9-x86_64-linux-gnu)\n"
    "\n" /* 30 */
    "PLATFORMS\n"
    "  arm64-darwin\n"
    "  x86_64-linux\n"
    "\n"
    "DEPENDENCIES\n" /* 35 */
    "  nokogiri (~> 1.15)\n"
    "  rails!\n"
    "\n"
    "CHECKSUMS\n"
    "  racc (1.7.3) sha256=af64124836fdd3c00e830703d7f873ea5deabde923f37006a39f5a5e0da16387\n"
    "\n"
    "RUBY VERSION\n"
    "   ruby 3.2.2p53\n"
    "\n"
    "BUNDLED WITH\n" /* 45 */
    "   2.4.19\n";

static void test_gemfile_lock(void)
{
    struct inventory inv;
    struct kb_why why;
    T_EQ_INT(run(inventory_parse_gemfile_lock, gemfile_lock, "Gemfile.lock", &inv, &why), KB_OK);
    T_PKG(&inv, "RubyGems", "rails", "7.2.0.alpha", "Gemfile.lock:6", false);
    T_PKG(&inv, "RubyGems", "myapp", "0.1.0", "Gemfile.lock:12", false);
    T_PKG(&inv, "RubyGems", "actioncable", "7.1.2", "Gemfile.lock:18", false);
    T_PKG(&inv, "RubyGems", "nokogiri", "1.15.4", "Gemfile.lock:21", false);
    T_PKG(&inv, "RubyGems", "racc", "1.7.3", "Gemfile.lock:26", false);
    T_PKG(&inv, "RubyGems", "rack", "2.2.8", "Gemfile.lock:27", false);
    T_PKG(&inv, "RubyGems", "sqlite3", "1.6.9", "Gemfile.lock:29", false);
    T_PKG(&inv, "RubyGems", "bundler", "2.4.19", "Gemfile.lock:46", false);
    /* two platforms, one package; dependencies (6 spaces) are not packages */
    T_EQ_INT(count_named(&inv, "nokogiri"), 1);
    T_EQ_INT(count_named(&inv, "actionpack"), 0);
    T_EQ_INT(count_named(&inv, "ruby"), 0);
    T_EQ_INT(inv.n, 8);
    T_CHECK(warned(&inv, "Gemfile.lock:25:", "broken-gem"));
    T_CHECK(warned(&inv, "Gemfile.lock:28:", "not 3"));
    T_EQ_INT(inv.nwarnings, 2);
    if (inv.nwarnings != 2)
        dump_warnings(&inv);
    inventory_release(&inv);

    /* not a Gemfile.lock at all */
    T_EQ_INT(run(inventory_parse_gemfile_lock, "{\"a\": 1}\n", "Gemfile.lock", &inv, &why),
             KB_EPARSE);
    T_CHECK(strstr(why.msg, "Gemfile.lock: not a Gemfile.lock") != NULL);
    inventory_release(&inv);

    /* damage: a tab-indented gem, a stray line at column 0 (the gems after it
     * are in no known section) and a future section read past quietly */
    T_EQ_INT(run(inventory_parse_gemfile_lock,
                 "GEM\n  specs:\n    a (1.0)\n\tb (2.0)\n    c (3.0)\nFUTURE SECTION\n  x\n"
                 "garbage (9)\n    d (4.0)\n",
                 "Gemfile.lock", &inv, &why),
             KB_OK);
    T_PKG(&inv, "RubyGems", "a", "1.0", "Gemfile.lock:3", false);
    T_PKG(&inv, "RubyGems", "c", "3.0", "Gemfile.lock:5", false);
    T_EQ_INT(inv.n, 2);
    T_CHECK(warned(&inv, "Gemfile.lock:4:", "tab"));
    T_CHECK(warned(&inv, "Gemfile.lock:8:", "not a section name"));
    T_EQ_INT(inv.nwarnings, 2);
    inventory_release(&inv);

    /* CRLF line ends, and a lockfile with no gems */
    T_EQ_INT(run(inventory_parse_gemfile_lock,
                 "GEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n    rake (13.1.0)\r\n\r\n"
                 "PLATFORMS\r\n  ruby\r\n",
                 "gems.locked", &inv, &why),
             KB_OK);
    T_PKG(&inv, "RubyGems", "rake", "13.1.0", "gems.locked:4", false);
    T_EQ_INT(inv.n, 1);
    inventory_release(&inv);
}

/* ---- go.mod and go.sum ---- */

static const char go_mod[] =
    "// The service.\n" /* 1 */
    "module example.com/shop\n"
    "\n"
    "go 1.21\n"
    "\n" /* 5 */
    "toolchain go1.21.5\n"
    "\n"
    "require github.com/gin-gonic/gin v1.9.1\n"
    "\n"
    "require (\n" /* 10 */
    "\tgolang.org/x/net v0.17.0 // indirect\n"
    "\t\"github.com/quoted/mod\" v1.0.0\n"
    "\tgithub.com/docker/docker v24.0.7+incompatible\n"
    "\tgithub.com/pkg/errors v0.9.1\n"
    "\tgithub.com/local/thing v0.3.0\n" /* 15 */
    "\tgithub.com/pinned/only v1.1.0\n"
    "\tgithub.com/missing/version\n"
    "\tgolang.org/x/crypto v0.0.0-20220722155217-630584e8d5aa // indirect\n"
    ")\n"
    "\n" /* 20 */
    "replace github.com/pkg/errors => github.com/fork/errors v0.9.2\n"
    "\n"
    "replace (\n"
    "\tgithub.com/local/thing => ../thing\n"
    "\tgithub.com/pinned/only v1.0.0 => github.com/pinned/only v1.0.5\n" /* 25 */
    "\tgolang.org/x/net v0.17.0 => golang.org/x/net v0.19.0\n"
    "\tgolang.org/x/net => golang.org/x/net v0.18.0\n"
    ")\n"
    "\n"
    "exclude github.com/gin-gonic/gin v1.9.0\n" /* 30 */
    "\n"
    "retract (\n"
    "\tv1.0.1 // published by mistake\n"
    "\t[v1.0.2, v1.0.4]\n"
    ")\n"; /* 35 */

static void test_go_mod(void)
{
    struct inventory inv;
    struct kb_why why;
    T_EQ_INT(run(inventory_parse_go_mod, go_mod, "go.mod", &inv, &why), KB_OK);
    T_PKG(&inv, "Go", "github.com/gin-gonic/gin", "v1.9.1", "go.mod:8", false);
    /* the version-specific replace wins over the path-wide one */
    T_PKG(&inv, "Go", "golang.org/x/net", "v0.19.0", "go.mod:11", false);
    T_PKG(&inv, "Go", "github.com/quoted/mod", "v1.0.0", "go.mod:12", false);
    T_PKG(&inv, "Go", "github.com/docker/docker", "v24.0.7+incompatible", "go.mod:13", false);
    /* replaced by another module: the replacement is what is built */
    T_PKG(&inv, "Go", "github.com/fork/errors", "v0.9.2", "go.mod:14", false);
    /* replaced by a directory: kept as required */
    T_PKG(&inv, "Go", "github.com/local/thing", "v0.3.0", "go.mod:15", false);
    /* the replace names another version: no effect */
    T_PKG(&inv, "Go", "github.com/pinned/only", "v1.1.0", "go.mod:16", false);
    T_PKG(&inv, "Go", "golang.org/x/crypto", "v0.0.0-20220722155217-630584e8d5aa", "go.mod:18",
          false);
    T_EQ_INT(count_named(&inv, "example.com/shop"), 0);
    T_EQ_INT(count_named(&inv, "github.com/pkg/errors"), 0);
    T_EQ_INT(inv.n, 8);
    T_CHECK(warned(&inv, "go.mod:17:", "require"));
    T_EQ_INT(inv.nwarnings, 1);
    if (inv.nwarnings != 1)
        dump_warnings(&inv);
    inventory_release(&inv);

    /* an unclosed block keeps what it had; a bad replace is reported */
    T_EQ_INT(run(inventory_parse_go_mod,
                 "module m\nreplace a.b/c v1 => \nrequire (\n\ta.b/c v1.2.3\n\tx.y/z v0.1.0\n",
                 "svc/go.mod", &inv, &why),
             KB_OK);
    T_PKG(&inv, "Go", "a.b/c", "v1.2.3", "svc/go.mod:4", false);
    T_PKG(&inv, "Go", "x.y/z", "v0.1.0", "svc/go.mod:5", false);
    T_CHECK(warned(&inv, "svc/go.mod:2:", "replace"));
    T_CHECK(warned(&inv, "svc/go.mod:3:", "not closed"));
    inventory_release(&inv);

    /* not a go.mod */
    T_EQ_INT(run(inventory_parse_go_mod, "[package]\nname = \"x\"\n", "go.mod", &inv, &why),
             KB_EPARSE);
    T_CHECK(strstr(why.msg, "go.mod:1: not a go.mod") != NULL);
    inventory_release(&inv);
    T_EQ_INT(run(inventory_parse_go_mod, "// nothing\n\n", "go.mod", &inv, &why), KB_EPARSE);
    inventory_release(&inv);
}

static const char go_sum[] =
    "github.com/davecgh/go-spew v1.1.1 h1:vj9j/u1bqnvCEfJOwUhtlOARqs3+rkHYY13jYWTU97c=\n"
    "github.com/davecgh/go-spew v1.1.1/go.mod h1:J7Y8YcW2NihsgmVo/mv3lAwl/skON4iLHjSsI+c5H38=\n"
    "github.com/docker/docker v24.0.7+incompatible "
    "h1:Wo6l37AuwP3JaMnZa226lzVXGA3F9Ig1seQen0cKYlM=\n"
    "github.com/docker/docker v24.0.7+incompatible/go.mod "
    "h1:eEKB0N0r5NX/I1kEveEz05bcu8tLC/8azJZsviup8Sk=\n"
    "github.com/only/gomod v1.0.0/go.mod h1:abc=\n"
    "this line is not a go.sum line\n"
    "\n"
    "github.com/davecgh/go-spew v1.1.1 h1:vj9j/u1bqnvCEfJOwUhtlOARqs3+rkHYY13jYWTU97c=\n"
    "golang.org/x/sys v0.13.0 h1:Af8nKPmuFypiUBjVoU9V20FiaFXOcuZI21p0ycVYYGE=\r\n";

static void test_go_sum(void)
{
    struct inventory inv;
    struct kb_why why;
    T_EQ_INT(run(inventory_parse_go_sum, go_sum, "go.sum", &inv, &why), KB_OK);
    T_PKG(&inv, "Go", "github.com/davecgh/go-spew", "v1.1.1", "go.sum:1", false);
    T_PKG(&inv, "Go", "github.com/docker/docker", "v24.0.7+incompatible", "go.sum:3", false);
    T_PKG(&inv, "Go", "golang.org/x/sys", "v0.13.0", "go.sum:9", false);
    T_EQ_INT(count_named(&inv, "github.com/only/gomod"), 0);
    T_EQ_INT(inv.n, 3);
    T_CHECK(warned(&inv, "go.sum:6:", "module version hash"));
    T_EQ_INT(inv.nwarnings, 1);
    inventory_release(&inv);

    T_EQ_INT(run(inventory_parse_go_sum, "", "go.sum", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 0);
    inventory_release(&inv);
    T_EQ_INT(run(inventory_parse_go_sum, "\n\n# nope\nGEM\n", "go.sum", &inv, &why), KB_EPARSE);
    T_CHECK(strstr(why.msg, "go.sum:3: not a go.sum") != NULL);
    inventory_release(&inv);
}

/* ---- requirements.txt ---- */

static const char requirements[] =
    "# Production requirements\n" /* 1 */
    "requests==2.31.0\n"
    "Django[argon2,bcrypt] == 4.2.7 ; python_version >= \"3.8\"\n"
    "urllib3==1.26.18 \\\n"
    "    --hash=sha256:f76b0cd84bc97fc3b6b2fb3a2d5236bd4c2e5f9ac0db0a0e8f4b22c68b3b3e2a \\\n"
    "    --hash=sha256:34b97092d7e0a3a8cf7cd10e386f401b3737364026c45e622aa02903dffe0f07\n"
    "flask>=2.0\n"
    "numpy\n"
    "six==1.16.*\n"
    "-r base.txt\n" /* 10 */
    "--requirement=other.txt\n"
    "-c constraints.txt\n"
    "-e git+https://github.com/org/tool.git#egg=tool\n"
    "--index-url https://pypi.org/simple\n"
    "pkg @ https://example.com/pkg-1.0.tar.gz\n" /* 15 */
    "https://example.com/wheels/other-2.0-py3-none-any.whl\n"
    "./vendor/localpkg\n"
    "attrs===23.1.0\n"
    "typing_extensions==4.8.0; python_version<'3.8'\n"
    "requests==2.31.0\n" /* 20 */
    "cryptography==41.0.5  # pinned for CVE-2023-49083\n"
    "Jinja2 == 3.1.2 \\\n"
    "# a comment ends the continuation\n"
    "idna>=3.0,==3.4\n"
    "certifi==${CERTIFI_VERSION}\n" /* 25 */
    "--no-such-option\n"
    "zope.interface==6.1\n"
    "[not-a-name]==1\n"
    "charset-normalizer (==3.3.2)\n";

static void test_requirements(void)
{
    struct inventory inv;
    struct kb_why why;
    T_EQ_INT(run(inventory_parse_requirements, requirements, "requirements.txt", &inv, &why),
             KB_OK);
    T_PKG(&inv, "PyPI", "requests", "2.31.0", "requirements.txt:2", false);
    T_PKG(&inv, "PyPI", "Django", "4.2.7", "requirements.txt:3", false);
    T_PKG(&inv, "PyPI", "urllib3", "1.26.18", "requirements.txt:4", false);
    T_PKG(&inv, "PyPI", "attrs", "23.1.0", "requirements.txt:18", false);
    T_PKG(&inv, "PyPI", "typing_extensions", "4.8.0", "requirements.txt:19", false);
    T_PKG(&inv, "PyPI", "cryptography", "41.0.5", "requirements.txt:21", false);
    T_PKG(&inv, "PyPI", "Jinja2", "3.1.2", "requirements.txt:22", false);
    T_PKG(&inv, "PyPI", "idna", "3.4", "requirements.txt:24", false);
    T_PKG(&inv, "PyPI", "zope.interface", "6.1", "requirements.txt:27", false);
    T_PKG(&inv, "PyPI", "charset-normalizer", "3.3.2", "requirements.txt:29", false);
    T_EQ_INT(count_named(&inv, "requests"), 1);
    T_EQ_INT(inv.n, 10);
    const char *const expect[][2] = {
        {"requirements.txt:7:", "not pinned"},
        {"requirements.txt:8:", "not pinned"},
        {"requirements.txt:9:", "not pinned"},
        {"requirements.txt:10:", "not followed"},
        {"requirements.txt:11:", "not followed"},
        {"requirements.txt:12:", "not followed"},
        {"requirements.txt:13:", "editable"},
        {"requirements.txt:15:", "URL"},
        {"requirements.txt:16:", "URL"},
        {"requirements.txt:17:", "local path"},
        {"requirements.txt:25:", "not a version"},
        {"requirements.txt:26:", "unknown option"},
        {"requirements.txt:28:", "not a requirement"},
    };
    for (size_t k = 0; k < KB_ARRAY_LEN(expect); k++)
        T_CHECKF(warned(&inv, expect[k][0], expect[k][1]), "no warning %s %s", expect[k][0],
                 expect[k][1]);
    T_EQ_INT(inv.nwarnings, KB_ARRAY_LEN(expect));
    if (inv.nwarnings != KB_ARRAY_LEN(expect))
        dump_warnings(&inv);
    inventory_release(&inv);

    /* a byte order mark; a file ending inside a continuation; an empty file */
    T_EQ_INT(run(inventory_parse_requirements, "\xEF\xBB\xBFsix==1.16.0\n", "r.txt", &inv, &why),
             KB_OK);
    T_PKG(&inv, "PyPI", "six", "1.16.0", "r.txt:1", false);
    T_EQ_INT(inv.nwarnings, 0);
    inventory_release(&inv);
    T_EQ_INT(
        run(inventory_parse_requirements, "a==1 \\\n  --hash=sha256:00 \\", "r.txt", &inv, &why),
        KB_OK);
    T_PKG(&inv, "PyPI", "a", "1", "r.txt:1", false);
    inventory_release(&inv);
    T_EQ_INT(run(inventory_parse_requirements, "", "r.txt", &inv, &why), KB_OK);
    T_EQ_INT(inv.n + inv.nwarnings, 0);
    inventory_release(&inv);

    /* binary input is refused */
    *(&inv) = (struct inventory)INVENTORY_INIT;
    T_EQ_INT(inventory_parse_requirements("a==1\n\0\x01", 7, "r.txt", &inv, &why), KB_EPARSE);
    inventory_release(&inv);
}

/* ---- poetry.lock ---- */

static const char poetry_lock[] =
    "# This file is automatically @generated by Poetry 1.6.1 and should not be changed by hand.\n"
    "\n"
    "[[package]]\n" /* 3 */
    "name = \"certifi\"\n"
    "version = \"2023.7.22\"\n"
    "description = \"Python package for providing Mozilla's CA Bundle.\"\n"
    "category = \"main\"\n"
    "optional = false\n"
    "python-versions = \">=3.6\"\n"
    "files = [\n" /* 10 */
    "    {file = \"certifi-2023.7.22-py3-none-any.whl\", hash = \"sha256:92d6\"},\n"
    "]\n"
    "\n"
    "[[package]]\n" /* 14 */
    "name = \"pytest\"\n"
    "version = \"7.4.3\"\n"
    "description = \"\"\"pytest: simple powerful testing with Python\n"
    "[[package]]\n"
    "name = \"fake\"\"\"\"\n"
    "category = \"dev\"\n" /* 20 */
    "\n"
    "[package.dependencies]\n"
    "colorama = {version = \"*\", markers = \"sys_platform == \\\"win32\\\"\"}\n"
    "\n"
    "[[package]]\n" /* 25 */
    "name = \"Flask\"\n"
    "version = \"3.0.0\"\n"
    "groups = [\"main\", \"dev\"]\n"
    "\n"
    "[[package]]\n" /* 30 */
    "name = \"mkdocs\"\n"
    "version = \"1.5.3\"\n"
    "groups = [\"docs\"]\n"
    "\n"
    "[[package]]\n" /* 35 */
    "name = \"broken\"\n"
    "\n"
    "[[package]]\n"
    "name = \"mylib\"\n"
    "version = \"0.2.0\"\n" /* 40 */
    "develop = true\n"
    "\n"
    "[package.source]\n"
    "type = \"directory\"\n"
    "url = \"../mylib\"\n" /* 45 */
    "\n"
    "[[package]]\n"
    "version = 3\n"
    "name = \"numbered\"\n"
    "\n" /* 50 */
    "[metadata]\n"
    "lock-version = \"2.0\"\n"
    "python-versions = \"^3.11\"\n"
    "content-hash = \"8a5b\"\n";

static void test_poetry_lock(void)
{
    struct inventory inv;
    struct kb_why why;
    T_EQ_INT(run(inventory_parse_poetry_lock, poetry_lock, "poetry.lock", &inv, &why), KB_OK);
    T_PKG(&inv, "PyPI", "certifi", "2023.7.22", "poetry.lock:3", false);
    T_PKG(&inv, "PyPI", "pytest", "7.4.3", "poetry.lock:14", true);
    T_PKG(&inv, "PyPI", "Flask", "3.0.0", "poetry.lock:25", false);
    T_PKG(&inv, "PyPI", "mkdocs", "1.5.3", "poetry.lock:30", true);
    T_PKG(&inv, "PyPI", "mylib", "0.2.0", "poetry.lock:38", false);
    T_EQ_INT(count_named(&inv, "fake"), 0);
    T_EQ_INT(inv.n, 5);
    T_CHECK(warned(&inv, "poetry.lock:35:", "version is missing"));
    T_CHECK(warned(&inv, "poetry.lock:48:", "version is not a printable string"));
    T_EQ_INT(inv.nwarnings, 2);
    if (inv.nwarnings != 2)
        dump_warnings(&inv);
    inventory_release(&inv);

    /* not TOML: refused with the line */
    T_EQ_INT(run(inventory_parse_poetry_lock, "[[package]]\nname = \"a\"\nversion = 1.5\n",
                 "poetry.lock", &inv, &why),
             KB_EPARSE);
    T_CHECKF(strstr(why.msg, "poetry.lock:3: floats") != NULL, "%s", why.msg);
    inventory_release(&inv);
    T_EQ_INT(run(inventory_parse_poetry_lock, "package = \"x\"\n", "poetry.lock", &inv, &why),
             KB_EPARSE);
    inventory_release(&inv);
    T_EQ_INT(run(inventory_parse_poetry_lock, "[metadata]\nlock-version = \"2.0\"\n", "poetry.lock",
                 &inv, &why),
             KB_OK);
    T_EQ_INT(inv.n, 0);
    inventory_release(&inv);
}

/* ---- Cargo.lock ---- */

static const char cargo_lock[] =
    "# This file is automatically @generated by Cargo.\n"
    "# It is not intended for manual editing.\n"
    "version = 3\n"
    "\n"
    "[[package]]\n" /* 5 */
    "name = \"myapp\"\n"
    "version = \"0.1.0\"\n"
    "dependencies = [\n"
    " \"regex\",\n"
    " \"serde\",\n" /* 10 */
    "]\n"
    "\n"
    "[[package]]\n" /* 13 */
    "name = \"regex\"\n"
    "version = \"1.10.2\"\n"
    "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
    "checksum = \"380b951a9c5e80ddfd6136919eef32310721aa4aacd4889a8d39124b026ab343\"\n"
    "\n"
    "[[package]]\n" /* 19 */
    "name = \"serde\"\n"
    "version = \"1.0.193\"\n"
    "source = \"sparse+https://index.crates.io/\"\n"
    "\n"
    "[[package]]\n" /* 24 */
    "name = \"tokio\"\n"
    "version = \"1.35.0\"\n"
    "source = \"git+https://github.com/tokio-rs/tokio?branch=master#a1b2c3\"\n"
    "\n"
    "[[package]]\n" /* 29 */
    "name = \"noversion\"\n"
    "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
    "\n"
    "[[package]]\n" /* 33 */
    "name = \"helper-macros\"\n"
    "version = \"0.1.0\"\n"
    "\n"
    "[metadata]\n"
    "\"checksum regex 1.10.2 (registry+https://github.com/rust-lang/crates.io-index)\" = "
    "\"380b\"\n";

static void test_cargo_lock(void)
{
    struct inventory inv;
    struct kb_why why;
    T_EQ_INT(run(inventory_parse_cargo_lock, cargo_lock, "Cargo.lock", &inv, &why), KB_OK);
    T_PKG(&inv, "crates.io", "regex", "1.10.2", "Cargo.lock:13", false);
    T_PKG(&inv, "crates.io", "serde", "1.0.193", "Cargo.lock:19", false);
    T_PKG(&inv, "crates.io", "tokio", "1.35.0", "Cargo.lock:24", false);
    /* the workspace's own crates (no source) are not dependencies */
    T_EQ_INT(count_named(&inv, "myapp"), 0);
    T_EQ_INT(count_named(&inv, "helper-macros"), 0);
    T_EQ_INT(inv.n, 3);
    T_CHECK(warned(&inv, "Cargo.lock:29:", "noversion: version is missing"));
    T_EQ_INT(inv.nwarnings, 1);
    inventory_release(&inv);

    T_EQ_INT(run(inventory_parse_cargo_lock,
                 "version = 3\n[[package]]\nname = \"a\"\nname = \"b\"\n", "Cargo.lock", &inv,
                 &why),
             KB_EPARSE);
    T_CHECKF(strstr(why.msg, "Cargo.lock:4: duplicate key 'name'") != NULL, "%s", why.msg);
    inventory_release(&inv);
    T_EQ_INT(run(inventory_parse_cargo_lock, "{\"packages\": []}", "Cargo.lock", &inv, &why),
             KB_EPARSE);
    inventory_release(&inv);
}

/* ---- composer.lock ---- */

static const char composer_lock[] =
    "{\n"
    "    \"_readme\": [\"This file locks the dependencies of your project\"],\n"
    "    \"content-hash\": \"e3b0c44298fc1c149afbf4c8996fb924\",\n"
    "    \"packages\": [\n"
    "        {\n" /* 5 */
    "            \"name\": \"symfony/console\",\n"
    "            \"version\": \"v6.4.8\",\n"
    "            \"source\": {\"type\": \"git\", \"reference\": "
    "\"be5854cee0e8c7b110f00d695d11debdfa1a2a91\"}\n"
    "        },\n"
    "        {\n" /* 10 */
    "            \"name\": \"monolog/monolog\",\n"
    "            \"version\": \"3.6.0\"\n"
    "        },\n"
    "        {\"name\": \"acme/internal\", \"version\": \"dev-main\"},\n"
    "        {\"name\": \"vendor/upper\", \"version\": \"V2.0.1\"},\n" /* 15 */
    "        {\"name\": \"vendor/numeric\", \"version\": 5},\n"
    "        \"not-an-object\",\n"
    "        {\"version\": \"1.0.0\"}\n"
    "    ],\n"
    "    \"packages-dev\": [\n" /* 20 */
    "        {\"name\": \"phpunit/phpunit\", \"version\": \"10.5.20\"},\n"
    "        {\"name\": \"vimeo/psalm\", \"version\": \"v5.23.1\"}\n"
    "    ],\n"
    "    \"platform\": {\"php\": \">=8.1\"}\n"
    "}\n";

static void test_composer_lock(void)
{
    struct inventory inv;
    struct kb_why why;
    T_EQ_INT(run(inventory_parse_composer_lock, composer_lock, "composer.lock", &inv, &why), KB_OK);
    /* OSV's Packagist records spell versions without the leading 'v' */
    T_PKG(&inv, "Packagist", "symfony/console", "6.4.8", "composer.lock:5", false);
    T_PKG(&inv, "Packagist", "monolog/monolog", "3.6.0", "composer.lock:10", false);
    T_PKG(&inv, "Packagist", "acme/internal", "dev-main", "composer.lock:14", false);
    T_PKG(&inv, "Packagist", "vendor/upper", "2.0.1", "composer.lock:15", false);
    T_PKG(&inv, "Packagist", "phpunit/phpunit", "10.5.20", "composer.lock:21", true);
    T_PKG(&inv, "Packagist", "vimeo/psalm", "5.23.1", "composer.lock:22", true);
    T_EQ_INT(count_named(&inv, "php"), 0);
    T_EQ_INT(inv.n, 6);
    T_CHECK(warned(&inv, "composer.lock:16:", "vendor/numeric: version"));
    T_CHECK(warned(&inv, "composer.lock:17:", "packages[5]: not an object"));
    T_CHECK(warned(&inv, "composer.lock:18:", "packages[6]: name"));
    T_EQ_INT(inv.nwarnings, 3);
    inventory_release(&inv);

    T_EQ_INT(run(inventory_parse_composer_lock, "{\"packages\": [,]}", "composer.lock", &inv, &why),
             KB_EPARSE);
    T_CHECKF(strstr(why.msg, "composer.lock:1:") != NULL, "%s", why.msg);
    inventory_release(&inv);
    T_EQ_INT(run(inventory_parse_composer_lock, "[]", "composer.lock", &inv, &why), KB_EPARSE);
    inventory_release(&inv);
    T_EQ_INT(run(inventory_parse_composer_lock, "{\"packages\": {}}", "composer.lock", &inv, &why),
             KB_EPARSE);
    inventory_release(&inv);
    T_EQ_INT(run(inventory_parse_composer_lock, "{\"packages\": [], \"packages-dev\": null}",
                 "composer.lock", &inv, &why),
             KB_OK);
    T_EQ_INT(inv.n, 0);
    inventory_release(&inv);
}

int main(void)
{
    T_RUN(test_gemfile_lock);
    T_RUN(test_go_mod);
    T_RUN(test_go_sum);
    T_RUN(test_requirements);
    T_RUN(test_poetry_lock);
    T_RUN(test_cargo_lock);
    T_RUN(test_composer_lock);
    return t_done();
}
