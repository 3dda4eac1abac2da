/*
 * purl.h — package URLs ("pkg:type/namespace/name@version?qualifiers#subpath",
 * the purl specification): parsing with percent-decoding, building with
 * percent-encoding, and the map from a purl to the OSV ecosystem and
 * package name advisories use.
 *
 *   pkg:npm/%40babel/core@7.22.5        -> npm        "@babel/core"   7.22.5
 *   pkg:maven/org.apache/commons@1.2    -> Maven      "org.apache:commons"
 *   pkg:golang/github.com/a/b@v1.2.3    -> Go         "github.com/a/b"
 *   pkg:deb/debian/curl@7.88?distro=debian-12 -> Debian:12 "curl"
 *
 * Ownership: purl_parse copies every decoded string into the caller's
 * arena; struct purl points there and lives as long as that arena. The
 * other functions write into caller buffers and allocate nothing.
 * Bounds: PURL_MAX_LEN bytes of input, PURL_MAX_QUALIFIERS qualifiers.
 */
#ifndef KOBAN_PURL_H
#define KOBAN_PURL_H

#include "lib/arena.h"
#include "lib/kb.h"

#define PURL_MAX_LEN 4096
#define PURL_MAX_QUALIFIERS 32

struct purl_qualifier {
    const char *key;   /* lowercased */
    const char *value; /* decoded, never empty (empty values are dropped) */
};

struct purl {
    const char *type;    /* lowercased: "npm", "deb", "maven", ... */
    const char *ns;      /* namespace, decoded segments joined by '/'; NULL when absent */
    const char *name;    /* decoded; never empty (PyPI names normalized: lowercase, '_' -> '-') */
    const char *version; /* decoded; NULL when absent */
    const struct purl_qualifier *qualifiers; /* in input order */
    size_t nqualifiers;
    const char *subpath; /* decoded segments joined by '/'; NULL when absent */
};

/* Parses text[0..len). KB_EPARSE (why says what) when it is not a purl: no
 * "pkg:" scheme, no type or name, a bad percent escape, a NUL byte;
 * KB_ETOOBIG past the bounds or when the arena is full. */
kb_err purl_parse(const char *text, size_t len, struct arena *a, struct purl *out,
                  struct kb_why *why);

/* The value of qualifier key (lowercase), or NULL. */
const char *purl_qualifier(const struct purl *p, const char *key);

/* The OSV ecosystem of a purl type ("deb" -> "Debian", "pypi" -> "PyPI",
 * "cargo" -> "crates.io", ...), without a release; NULL when the type has
 * none (generic, docker, github, ...). */
const char *purl_type_ecosystem(const char *type);

/* The OSV ecosystem of p into buf, with the distribution release when the
 * purl says it ("Debian:12" from distro=debian-12 or distro=bookworm,
 * "Alpine:v3.18" from distro=alpine-3.18.4); the vendor chooses among
 * distributions (deb/ubuntu -> "Ubuntu", rpm/rocky -> "Rocky Linux", other
 * rpm -> "Red Hat"). KB_ENOTFOUND when the type has no ecosystem;
 * KB_ETOOBIG when buf is too small. */
kb_err purl_ecosystem(const struct purl *p, char *buf, size_t cap);

/* The package name as the ecosystem's advisories spell it into buf: Maven
 * "group:artifact", npm "@scope/name", Go, Composer and Swift
 * "namespace/name"; deb, rpm, apk and the one-level ecosystems the bare
 * name (their namespace is a vendor). KB_ETOOBIG when buf is too small. */
kb_err purl_package_name(const struct purl *p, char *buf, size_t cap);

/* Writes the canonical purl of (type, ns, name, version) into buf, each
 * part percent-encoded (ns may hold '/' between segments; ns and version
 * may be NULL). KB_ETOOBIG when buf is too small. */
kb_err purl_format(const char *type, const char *ns, const char *name, const char *version,
                   char *buf, size_t cap);

#endif
