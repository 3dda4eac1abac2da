/*
 * inventory.h — what software an asset runs: the packages read from a
 * host's package database or a repository's lockfile or SBOM, each as
 * (ecosystem, name, version), so advisories can be matched against them.
 *
 * One parser per format (inventory_<format>.c), registered in one table
 * (inventory.c): dpkg status, rpm query output, apk installed, npm
 * package-lock.json (v1-v3), yarn.lock, pnpm-lock.yaml, Gemfile.lock,
 * go.mod / go.sum, requirements.txt, poetry.lock, Cargo.lock,
 * composer.lock, CycloneDX JSON, SPDX JSON. The format is named by the
 * caller or detected from the file name and content (inventory_detect).
 *
 * Errors say where: "package-lock.json:1203: packages.node_modules/x:
 * version is not a string". A malformed entry is reported and skipped;
 * the good ones beside it are kept (the caller decides whether warnings
 * fail the submission).
 *
 * Ownership: struct inventory owns every string (copied into its arena)
 * and every message; inventory_release frees them. Input text is borrowed
 * for the call only.
 */
#ifndef KOBAN_INVENTORY_H
#define KOBAN_INVENTORY_H

#include "lib/arena.h"
#include "lib/kb.h"

#define INVENTORY_MAX_BYTES (64u * 1024 * 1024) /* one input file */
#define INVENTORY_MAX_PACKAGES 1000000          /* per inventory */
#define INVENTORY_MAX_WARNINGS 1000             /* messages kept */

/* OSV ecosystem names, as advisories spell them ("Debian", "npm", "PyPI",
 * "Go", "crates.io", "RubyGems", "Packagist", "Maven", "NuGet", "Alpine",
 * "Red Hat", ...). A distribution release may follow after ':' when the
 * input says it ("Debian:12", "Alpine:v3.18"). */
struct inventory_pkg {
    const char *ecosystem; /* OSV ecosystem name (see above) */
    const char *name;      /* as the ecosystem names it (npm scopes kept: "@a/b";
                              Maven "group:artifact"; Go module path) */
    const char *version;   /* installed/locked version, as written */
    const char *source;    /* dpkg/rpm: the source package when known; else NULL */
    const char *purl;      /* package URL when the input gives or implies one; else NULL */
    const char *location;  /* where it was found: "FILE:LINE" or a JSON path */
    bool dev;              /* a development-only dependency, when the input says so */
};

struct inventory {
    struct inventory_pkg *pkgs;
    size_t n, cap;
    char **warnings; /* "FILE:LINE: reason" */
    size_t nwarnings, capwarnings;
    size_t warnings_total; /* including those not kept */
    struct arena arena;
};

#define INVENTORY_INIT {0}

enum inventory_format {
    INV_DPKG = 0, INV_RPM, INV_APK, INV_NPM_LOCK, INV_YARN_LOCK, INV_PNPM_LOCK,
    INV_GEMFILE_LOCK, INV_GO_MOD, INV_GO_SUM, INV_REQUIREMENTS, INV_POETRY_LOCK,
    INV_CARGO_LOCK, INV_COMPOSER_LOCK, INV_CYCLONEDX, INV_SPDX, INV_FORMAT_COUNT
};

/* "dpkg", "rpm", "apk", "package-lock", "yarn.lock", "pnpm-lock", "Gemfile.lock",
 * "go.mod", "go.sum", "requirements.txt", "poetry.lock", "Cargo.lock",
 * "composer.lock", "cyclonedx", "spdx". */
const char *inventory_format_name(enum inventory_format f);
kb_err inventory_format_parse(const char *name, enum inventory_format *out);

/* The format of a file from its base name and first bytes; KB_ENOTFOUND
 * when it is none koban reads. */
kb_err inventory_detect(const char *filename, const char *text, size_t len,
                        enum inventory_format *out);

/* Parses text (named `name` in messages) and appends its packages to inv.
 * KB_OK even with warnings (see inv->warnings); KB_EPARSE when the input
 * as a whole is unreadable (not JSON, not YAML, not the format), with why
 * saying where; KB_ETOOBIG over the bounds. */
kb_err inventory_parse(enum inventory_format f, const char *text, size_t len, const char *name,
                       struct inventory *inv, struct kb_why *why);

void inventory_release(struct inventory *inv);

/* The source package a distribution's advisories name for this binary
 * package, when it differs: Debian and Ubuntu advisories (DSA, DLA, USN)
 * name source packages, dpkg's Source field says which ("xz-utils" or
 * "xz-utils (5.6.0-0.2)" when the versions differ); Alpine's name the
 * origin (apk's o: field). Fills src (the name) and src_version (the
 * version in parentheses, else version) and returns true; false for other
 * ecosystems, no source, a source equal to name, or a source that does not
 * fit. */
/* The OSV ecosystem with release of an os-release file's text
 * (/etc/os-release: ID and VERSION_ID): "Debian:12", "Ubuntu:22.04",
 * "Alpine:v3.19" into out; false for another distribution or a file
 * without them. */
bool inventory_os_release(const char *text, size_t len, char *out, size_t n);

bool inventory_source_of(const char *ecosystem, const char *name, const char *source,
                         const char *version, char *src, size_t srcn, char *src_version,
                         size_t vern);

/* For the parsers (inventory_<format>.c): add a package (strings copied;
 * NULL allowed for the optional ones) and a warning. */
kb_err inventory_add(struct inventory *inv, const char *ecosystem, struct kb_str name,
                     struct kb_str version, const char *source, const char *purl,
                     const char *location, bool dev);
void inventory_warn(struct inventory *inv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
