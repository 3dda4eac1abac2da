/*
 * version.h — exact version ordering per package ecosystem, as each
 * ecosystem's own tools order versions (dpkg, rpm, apk, PEP 440, SemVer,
 * RubyGems, Maven, NuGet, Packagist, Pub, CRAN, Hackage). Advisories say
 * "introduced 1.2.0, fixed 1.2.7"; whether an installed version is affected
 * is only as right as this comparison.
 *
 * Each ecosystem is one file (version_<name>.c) with a parse and a compare,
 * registered in one table (version.c): adding an ecosystem is adding a file
 * and a line. The vectors in the files of ../shared/data/versions/ (one
 * "A <op> B" per line, produced by the ecosystems' own tools) are the
 * reference; the tests in tests/unit/vuln/ check every line.
 *
 * Ownership: nothing here allocates; every function works on the caller's
 * strings. Bounded: versions longer than VERSION_MAX_LEN are refused.
 */
#ifndef KOBAN_VERSION_H
#define KOBAN_VERSION_H

#include "lib/kb.h"

#define VERSION_MAX_LEN 256

enum version_eco {
    VERSION_DEBIAN = 0, /* dpkg: epoch, upstream, revision, '~' */
    VERSION_RPM,        /* rpmvercmp: '~', '^', epoch:version-release */
    VERSION_ALPINE,     /* apk */
    VERSION_PYPI,       /* PEP 440 */
    VERSION_SEMVER,     /* SemVer 2.0: npm, Cargo; Go with 'v' and pseudo-versions */
    VERSION_RUBYGEMS,
    VERSION_MAVEN,
    VERSION_NUGET,
    VERSION_PACKAGIST,  /* Composer */
    VERSION_PUB,
    VERSION_CRAN,
    VERSION_HACKAGE,
    VERSION_ECO_COUNT
};

/* The ecosystem for an OSV ecosystem name ("Debian", "Debian:12", "npm",
 * "PyPI", "Go", "crates.io", "Maven", "NuGet", "RubyGems", "Packagist",
 * "Alpine:v3.18", "Red Hat", "Rocky Linux", "AlmaLinux", "openSUSE",
 * "Ubuntu", "Pub", "CRAN", "Hackage", ...). KB_ENOTFOUND when koban has no
 * ordering for it. */
kb_err version_eco_parse(const char *osv_ecosystem, enum version_eco *out);
/* A short name: "debian", "rpm", "alpine", "pypi", "semver", ... */
const char *version_eco_name(enum version_eco eco);

/* Compares a and b under eco: *cmp < 0, 0 or > 0. KB_EINVAL (why: which
 * version and why) when either is not a valid version of the ecosystem and
 * the ecosystem's tools would refuse it; ecosystems whose tools order any
 * string (dpkg orders garbage too) never fail. KB_ETOOBIG past
 * VERSION_MAX_LEN. */
kb_err version_compare(enum version_eco eco, const char *a, const char *b, int *cmp,
                       struct kb_why *why);

/* Whether s is a valid version of eco (version_compare would accept it). */
bool version_valid(enum version_eco eco, const char *s);

#endif
