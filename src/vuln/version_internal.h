/*
 * version_internal.h — the per-ecosystem orderings behind version.h, one
 * file each (version_<name>.c). Strings are (pointer, length), not
 * NUL-terminated; lengths are at most VERSION_MAX_LEN (version.c checks).
 * compare returns KB_OK with *cmp < 0, 0, > 0, or KB_EINVAL with why when a
 * version is invalid for the ecosystem; valid says whether compare would
 * accept it.
 */
#ifndef KOBAN_VERSION_INTERNAL_H
#define KOBAN_VERSION_INTERNAL_H

#include "vuln/version.h"

#define VERSION_ECO_FNS(name)                                                              \
    kb_err version_##name##_compare(const char *a, size_t an, const char *b, size_t bn,   \
                                    int *cmp, struct kb_why *why);                         \
    bool version_##name##_valid(const char *s, size_t n)

VERSION_ECO_FNS(debian);
VERSION_ECO_FNS(rpm);
VERSION_ECO_FNS(alpine);
VERSION_ECO_FNS(pypi);
VERSION_ECO_FNS(semver);
VERSION_ECO_FNS(cran);
VERSION_ECO_FNS(rubygems);
VERSION_ECO_FNS(maven);
VERSION_ECO_FNS(nuget);
VERSION_ECO_FNS(packagist);
VERSION_ECO_FNS(pub);
VERSION_ECO_FNS(hackage);

#endif
