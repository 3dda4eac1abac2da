/* inventory.c — the table of inventory formats, detection, and the
 * helpers every parser uses (inventory.h). */
#include "vuln/inventory_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef kb_err (*parse_fn)(const char *text, size_t len, const char *name, struct inventory *inv,
                           struct kb_why *why);

static const struct {
    const char *name;
    parse_fn parse;
} formats[INV_FORMAT_COUNT] = {
    [INV_DPKG] = {"dpkg", inventory_parse_dpkg},
    [INV_RPM] = {"rpm", inventory_parse_rpm},
    [INV_APK] = {"apk", inventory_parse_apk},
    [INV_NPM_LOCK] = {"package-lock", inventory_parse_npm_lock},
    [INV_YARN_LOCK] = {"yarn.lock", inventory_parse_yarn_lock},
    [INV_PNPM_LOCK] = {"pnpm-lock", inventory_parse_pnpm_lock},
    [INV_GEMFILE_LOCK] = {"Gemfile.lock", inventory_parse_gemfile_lock},
    [INV_GO_MOD] = {"go.mod", inventory_parse_go_mod},
    [INV_GO_SUM] = {"go.sum", inventory_parse_go_sum},
    [INV_REQUIREMENTS] = {"requirements.txt", inventory_parse_requirements},
    [INV_POETRY_LOCK] = {"poetry.lock", inventory_parse_poetry_lock},
    [INV_CARGO_LOCK] = {"Cargo.lock", inventory_parse_cargo_lock},
    [INV_COMPOSER_LOCK] = {"composer.lock", inventory_parse_composer_lock},
    [INV_CYCLONEDX] = {"cyclonedx", inventory_parse_cyclonedx},
    [INV_SPDX] = {"spdx", inventory_parse_spdx},
};

const char *inventory_format_name(enum inventory_format f)
{
    return (unsigned)f < INV_FORMAT_COUNT ? formats[f].name : "?";
}

kb_err inventory_format_parse(const char *name, enum inventory_format *out)
{
    for (size_t i = 0; name && i < INV_FORMAT_COUNT; i++)
        if (!strcasecmp(formats[i].name, name)) {
            *out = (enum inventory_format)i;
            return KB_OK;
        }
    return KB_ENOTFOUND;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

static bool has(const char *text, size_t len, const char *needle)
{
    return memmem(text, KB_MIN(len, (size_t)65536), needle, strlen(needle)) != NULL;
}

/* needle at the start of the text or of a line in its first 64 KiB */
static bool at_line_start(const char *text, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (len >= n && !memcmp(text, needle, n))
        return true;
    char nl[64];
    snprintf(nl, sizeof nl, "\n%s", needle);
    return has(text, len, nl);
}

/* The first line reads as the rpm query output inventory_rpm.c expects:
 * "NAME<TAB>EPOCH:VERSION-RELEASE<TAB>..." */
static bool rpm_line(const char *text, size_t len)
{
    const char *end = memchr(text, '\n', KB_MIN(len, (size_t)4096));
    size_t n = end ? (size_t)(end - text) : KB_MIN(len, (size_t)4096);
    const char *tab = memchr(text, '\t', n);
    if (!tab || tab == text)
        return false;
    const char *evr = tab + 1, *e = text + n;
    const char *tab2 = memchr(evr, '\t', (size_t)(e - evr));
    const char *colon = memchr(evr, ':', (size_t)((tab2 ? tab2 : e) - evr));
    return colon && memchr(colon, '-', (size_t)((tab2 ? tab2 : e) - colon)) != NULL;
}

kb_err inventory_detect(const char *filename, const char *text, size_t len,
                        enum inventory_format *out)
{
    const char *base = filename ? strrchr(filename, '/') : NULL;
    base = base ? base + 1 : filename ? filename : "";
    static const struct {
        const char *suffix;
        enum inventory_format f;
    } by_name[] = {
        {"package-lock.json", INV_NPM_LOCK}, {"npm-shrinkwrap.json", INV_NPM_LOCK},
        {"yarn.lock", INV_YARN_LOCK},        {"pnpm-lock.yaml", INV_PNPM_LOCK},
        {"Gemfile.lock", INV_GEMFILE_LOCK},  {"gems.locked", INV_GEMFILE_LOCK},
        {"go.mod", INV_GO_MOD},              {"go.sum", INV_GO_SUM},
        {"requirements.txt", INV_REQUIREMENTS}, {"poetry.lock", INV_POETRY_LOCK},
        {"Cargo.lock", INV_CARGO_LOCK},      {"composer.lock", INV_COMPOSER_LOCK},
        {".cdx.json", INV_CYCLONEDX},        {".spdx.json", INV_SPDX},
        {"/status", INV_DPKG},               {"installed", INV_APK},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(by_name); i++)
        if (ends_with(base, by_name[i].suffix) ||
            (filename && by_name[i].suffix[0] == '/' && ends_with(filename, by_name[i].suffix))) {
            *out = by_name[i].f;
            return KB_OK;
        }
    /* requirements-dev.txt, requirements/prod.txt, dev-requirements.txt */
    if ((strstr(base, "requirements") || (filename && strstr(filename, "requirements/"))) &&
        ends_with(base, ".txt")) {
        *out = INV_REQUIREMENTS;
        return KB_OK;
    }
    /* by content */
    if (has(text, len, "\"bomFormat\"") && has(text, len, "CycloneDX"))
        *out = INV_CYCLONEDX;
    else if (has(text, len, "\"spdxVersion\""))
        *out = INV_SPDX;
    else if (has(text, len, "\"lockfileVersion\""))
        *out = INV_NPM_LOCK;
    else if (at_line_start(text, len, "lockfileVersion:"))
        *out = INV_PNPM_LOCK; /* YAML: the key is not quoted */
    else if (has(text, len, "# yarn lockfile v1") || at_line_start(text, len, "__metadata:"))
        *out = INV_YARN_LOCK;
    else if (len > 9 && !memcmp(text, "Package: ", 9))
        *out = INV_DPKG;
    else if (len > 2 && (!memcmp(text, "C:", 2) || !memcmp(text, "P:", 2)))
        *out = INV_APK;
    else if (rpm_line(text, len))
        *out = INV_RPM;
    else if (at_line_start(text, len, "module ") && (at_line_start(text, len, "go ") ||
                                                     at_line_start(text, len, "require")))
        *out = INV_GO_MOD;
    else if (has(text, len, "/go.mod h1:"))
        *out = INV_GO_SUM;
    else if (at_line_start(text, len, "[[package]]") && has(text, len, "checksum = \""))
        *out = INV_CARGO_LOCK;
    else if (at_line_start(text, len, "[[package]]") && has(text, len, "python-versions"))
        *out = INV_POETRY_LOCK;
    else if (at_line_start(text, len, "GEM") && has(text, len, "  specs:"))
        *out = INV_GEMFILE_LOCK;
    else if (has(text, len, "\"packages-dev\"") && has(text, len, "\"content-hash\""))
        *out = INV_COMPOSER_LOCK;
    else
        return KB_ENOTFOUND;
    return KB_OK;
}

static void ensure_arena(struct inventory *inv)
{
    if (!inv->arena.limit)
        arena_init(&inv->arena, 256u * 1024 * 1024);
}

kb_err inventory_parse(enum inventory_format f, const char *text, size_t len, const char *name,
                       struct inventory *inv, struct kb_why *why)
{
    if ((unsigned)f >= INV_FORMAT_COUNT || !text)
        return kb_fail(why, KB_EINVAL, "inventory: bad arguments");
    if (len > INVENTORY_MAX_BYTES)
        return kb_fail(why, KB_ETOOBIG, "%s: larger than %u bytes", name ? name : "input",
                       INVENTORY_MAX_BYTES);
    ensure_arena(inv);
    return formats[f].parse(text, len, name ? name : "input", inv, why);
}

static const char *copy(struct inventory *inv, const char *s, size_t n)
{
    return s ? arena_strndup(&inv->arena, s, n) : NULL;
}

kb_err inventory_add(struct inventory *inv, const char *ecosystem, struct kb_str name,
                     struct kb_str version, const char *source, const char *purl,
                     const char *location, bool dev)
{
    if (!ecosystem)
        return KB_EINVAL;
    if (inv->n >= INVENTORY_MAX_PACKAGES)
        return KB_ETOOBIG;
    ensure_arena(inv);
    if (inv->n == inv->cap) {
        inv->cap = inv->cap ? inv->cap * 2 : 256;
        inv->pkgs = kb_realloc(inv->pkgs, inv->cap * sizeof *inv->pkgs);
    }
    struct inventory_pkg p = {
        .ecosystem = copy(inv, ecosystem, ecosystem ? strlen(ecosystem) : 0),
        .name = copy(inv, name.p ? name.p : "", name.p ? name.n : 0),
        .version = copy(inv, version.p ? version.p : "", version.p ? version.n : 0),
        .source = copy(inv, source, source ? strlen(source) : 0),
        .purl = copy(inv, purl, purl ? strlen(purl) : 0),
        .location = copy(inv, location, location ? strlen(location) : 0),
        .dev = dev};
    if (!p.ecosystem || !p.name || !p.version)
        return KB_ETOOBIG;
    inv->pkgs[inv->n++] = p;
    return KB_OK;
}

void inventory_warn(struct inventory *inv, const char *fmt, ...)
{
    inv->warnings_total++;
    if (inv->nwarnings >= INVENTORY_MAX_WARNINGS)
        return;
    if (inv->nwarnings == inv->capwarnings) {
        inv->capwarnings = inv->capwarnings ? inv->capwarnings * 2 : 16;
        inv->warnings = kb_realloc(inv->warnings, inv->capwarnings * sizeof *inv->warnings);
    }
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) >= 0)
        inv->warnings[inv->nwarnings++] = s;
    va_end(ap);
}

void inventory_release(struct inventory *inv)
{
    for (size_t i = 0; i < inv->nwarnings; i++)
        free(inv->warnings[i]);
    free(inv->warnings);
    free(inv->pkgs);
    arena_release(&inv->arena);
    memset(inv, 0, sizeof *inv);
}

bool inventory_source_of(const char *ecosystem, const char *name, const char *source,
                         const char *version, char *src, size_t srcn, char *src_version,
                         size_t vern)
{
    if (!ecosystem || !name || !source || !*source || !version)
        return false;
    bool dist = strncmp(ecosystem, "Debian", 6) == 0 || strncmp(ecosystem, "Ubuntu", 6) == 0 ||
                strncmp(ecosystem, "Alpine", 6) == 0;
    if (!dist)
        return false;
    size_t n = strcspn(source, " (");
    const char *open = strchr(source, '(');
    const char *ver = version;
    size_t vl = strlen(version);
    if (open) {
        const char *close = strchr(open, ')');
        if (!close || close == open + 1)
            return false;
        ver = open + 1;
        vl = (size_t)(close - ver);
    }
    if (n == 0 || n >= srcn || vl == 0 || vl >= vern)
        return false;
    memcpy(src, source, n);
    src[n] = 0;
    memcpy(src_version, ver, vl);
    src_version[vl] = 0;
    return strcmp(src, name) != 0;
}

/* The value of KEY= on its own line of an os-release text, unquoted. */
static bool os_value(const char *text, size_t len, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            const char *v = p + kl + 1;
            size_t vl = (size_t)(le - v);
            if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
                v++;
                vl -= 2;
            }
            if (vl == 0 || vl >= n)
                return false;
            memcpy(out, v, vl);
            out[vl] = 0;
            return true;
        }
        p = le + 1;
    }
    return false;
}

bool inventory_os_release(const char *text, size_t len, char *out, size_t n)
{
    char id[64], ver[64];
    if (!os_value(text, len, "ID", id, sizeof id) ||
        !os_value(text, len, "VERSION_ID", ver, sizeof ver))
        return false;
    int w = -1;
    if (strcmp(id, "debian") == 0) {
        w = snprintf(out, n, "Debian:%s", ver);
    } else if (strcmp(id, "ubuntu") == 0) {
        w = snprintf(out, n, "Ubuntu:%s", ver);
    } else if (strcmp(id, "alpine") == 0) {
        /* OSV names Alpine releases by branch: 3.19.1 -> v3.19 */
        const char *dot = strchr(ver, '.');
        const char *dot2 = dot ? strchr(dot + 1, '.') : NULL;
        int vl = dot2 ? (int)(dot2 - ver) : (int)strlen(ver);
        w = snprintf(out, n, "Alpine:v%.*s", vl, ver);
    }
    return w > 0 && (size_t)w < n;
}
