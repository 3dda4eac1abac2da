/* version.c — the table of ecosystems and the checks every comparison
 * shares (version.h). */
#include "vuln/version_internal.h"

#include <strings.h>

struct version_ops {
    const char *name;
    kb_err (*compare)(const char *a, size_t an, const char *b, size_t bn, int *cmp,
                      struct kb_why *why);
    bool (*valid)(const char *s, size_t n);
};

#define OPS(name) {#name, version_##name##_compare, version_##name##_valid}
static const struct version_ops ecos[VERSION_ECO_COUNT] = {
    [VERSION_DEBIAN] = OPS(debian),       [VERSION_RPM] = OPS(rpm),
    [VERSION_ALPINE] = OPS(alpine),       [VERSION_PYPI] = OPS(pypi),
    [VERSION_SEMVER] = OPS(semver),       [VERSION_RUBYGEMS] = OPS(rubygems),
    [VERSION_MAVEN] = OPS(maven),         [VERSION_NUGET] = OPS(nuget),
    [VERSION_PACKAGIST] = OPS(packagist), [VERSION_PUB] = OPS(pub),
    [VERSION_CRAN] = OPS(cran),           [VERSION_HACKAGE] = OPS(hackage),
};
#undef OPS

/* OSV ecosystem names (the part before ':') and the ordering they use. */
static const struct {
    const char *osv;
    enum version_eco eco;
} osv_names[] = {
    {"Debian", VERSION_DEBIAN},    {"Ubuntu", VERSION_DEBIAN},
    {"Red Hat", VERSION_RPM},      {"Rocky Linux", VERSION_RPM},
    {"AlmaLinux", VERSION_RPM},    {"openSUSE", VERSION_RPM},
    {"SUSE", VERSION_RPM},         {"Mageia", VERSION_RPM},
    {"Photon OS", VERSION_RPM},    {"Alpine", VERSION_ALPINE},
    {"Wolfi", VERSION_ALPINE},     {"Chainguard", VERSION_ALPINE},
    {"PyPI", VERSION_PYPI},        {"npm", VERSION_SEMVER},
    {"Go", VERSION_SEMVER},        {"crates.io", VERSION_SEMVER},
    {"Hex", VERSION_SEMVER},       {"SwiftURL", VERSION_SEMVER},
    {"RubyGems", VERSION_RUBYGEMS}, {"Maven", VERSION_MAVEN},
    {"NuGet", VERSION_NUGET},      {"Packagist", VERSION_PACKAGIST},
    {"Pub", VERSION_PUB},          {"CRAN", VERSION_CRAN},
    {"Hackage", VERSION_HACKAGE},
};

kb_err version_eco_parse(const char *osv_ecosystem, enum version_eco *out)
{
    if (!osv_ecosystem)
        return KB_ENOTFOUND;
    const char *colon = strchr(osv_ecosystem, ':');
    size_t n = colon ? (size_t)(colon - osv_ecosystem) : strlen(osv_ecosystem);
    for (size_t i = 0; i < KB_ARRAY_LEN(osv_names); i++)
        if (strlen(osv_names[i].osv) == n && !strncasecmp(osv_names[i].osv, osv_ecosystem, n)) {
            *out = osv_names[i].eco;
            return KB_OK;
        }
    return KB_ENOTFOUND;
}

const char *version_eco_name(enum version_eco eco)
{
    return (unsigned)eco < VERSION_ECO_COUNT ? ecos[eco].name : "?";
}

kb_err version_compare(enum version_eco eco, const char *a, const char *b, int *cmp,
                       struct kb_why *why)
{
    if ((unsigned)eco >= VERSION_ECO_COUNT || !a || !b)
        return kb_fail(why, KB_EINVAL, "version: bad arguments");
    size_t an = strlen(a), bn = strlen(b);
    if (an > VERSION_MAX_LEN || bn > VERSION_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "%s version longer than %d bytes", ecos[eco].name,
                       VERSION_MAX_LEN);
    return ecos[eco].compare(a, an, b, bn, cmp, why);
}

bool version_valid(enum version_eco eco, const char *s)
{
    if ((unsigned)eco >= VERSION_ECO_COUNT || !s || strlen(s) > VERSION_MAX_LEN)
        return false;
    return ecos[eco].valid(s, strlen(s));
}
