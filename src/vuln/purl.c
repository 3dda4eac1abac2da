/* purl.c — package URL parsing, building and the OSV ecosystem map (purl.h).
 *
 * Parsing follows the purl specification's order: the scheme, then from
 * the right the subpath ('#') and the qualifiers ('?'), then from the left
 * the type, then from the right the version ('@') and the name ('/'); what
 * is left is the namespace. */
#include "vuln/purl.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into the arena. */
static kb_err decode(struct arena *a, const char *s, size_t n, const char *what, char **out,
                     struct kb_why *why)
{
    char *d = arena_alloc(a, n + 1);
    if (!d)
        return kb_fail(why, KB_ETOOBIG, "purl: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return kb_fail(why, KB_EPARSE, "purl %s: bad percent escape", what);
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return kb_fail(why, KB_EPARSE, "purl %s: NUL byte", what);
        d[k++] = c;
    }
    d[k] = '\0';
    *out = d;
    return KB_OK;
}

/* Decodes the '/'-separated segments of s[0..n), dropping empty ones (and
 * for a subpath also "." and ".."), joined by '/'. NULL when none remain. */
static kb_err decode_segments(struct arena *a, const char *s, size_t n, bool subpath,
                              const char *what, const char **out, struct kb_why *why)
{
    char *joined = arena_alloc(a, n + 1);
    if (!joined)
        return kb_fail(why, KB_ETOOBIG, "purl: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        char *seg = NULL;
        kb_err e = decode(a, s + i, j - i, what, &seg, why);
        if (e)
            return e;
        bool skip = !*seg || (subpath && (!strcmp(seg, ".") || !strcmp(seg, "..")));
        if (!skip) {
            if (k)
                joined[k++] = '/';
            size_t sl = strlen(seg);
            memcpy(joined + k, seg, sl);
            k += sl;
        }
        i = j + 1;
    }
    joined[k] = '\0';
    *out = k ? joined : NULL;
    return KB_OK;
}

static kb_err parse_qualifiers(struct arena *a, const char *s, size_t n, struct purl *out,
                               struct kb_why *why)
{
    struct purl_qualifier *q = arena_alloc(a, PURL_MAX_QUALIFIERS * sizeof *q);
    if (!q)
        return kb_fail(why, KB_ETOOBIG, "purl: out of memory");
    size_t nq = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        if (j > i && !eq)
            return kb_fail(why, KB_EPARSE, "purl qualifier '%.*s': no '='", (int)(j - i), s + i);
        if (eq && eq > s + i && eq + 1 < s + j) {
            if (nq == PURL_MAX_QUALIFIERS)
                return kb_fail(why, KB_ETOOBIG, "purl: more than %d qualifiers",
                               PURL_MAX_QUALIFIERS);
            char *key = arena_strndup(a, s + i, (size_t)(eq - (s + i)));
            char *val = NULL;
            if (!key)
                return kb_fail(why, KB_ETOOBIG, "purl: out of memory");
            for (char *c = key; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            kb_err e = decode(a, eq + 1, (size_t)(s + j - eq - 1), "qualifier", &val, why);
            if (e)
                return e;
            q[nq++] = (struct purl_qualifier){key, val};
        }
        i = j + 1;
    }
    out->qualifiers = q;
    out->nqualifiers = nq;
    return KB_OK;
}

static const char *rchr_n(const char *s, size_t n, char c)
{
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == c)
            return s + i - 1;
    return NULL;
}

kb_err purl_parse(const char *text, size_t len, struct arena *a, struct purl *out,
                  struct kb_why *why)
{
    memset(out, 0, sizeof *out);
    if (len > PURL_MAX_LEN)
        return kb_fail(why, KB_ETOOBIG, "purl longer than %d bytes", PURL_MAX_LEN);
    if (len < 4 || strncasecmp(text, "pkg:", 4) != 0)
        return kb_fail(why, KB_EPARSE, "purl '%.*s': does not start with 'pkg:'",
                       (int)KB_MIN(len, 80), text);
    const char *s = text + 4, *end = text + len;
    while (s < end && *s == '/')
        s++; /* "pkg://npm/x" is read as "pkg:npm/x" */
    const char *hash = rchr_n(s, (size_t)(end - s), '#');
    if (hash) {
        kb_err e = decode_segments(a, hash + 1, (size_t)(end - hash - 1), true, "subpath",
                                   &out->subpath, why);
        if (e)
            return e;
        end = hash;
    }
    const char *qm = rchr_n(s, (size_t)(end - s), '?');
    if (qm) {
        kb_err e = parse_qualifiers(a, qm + 1, (size_t)(end - qm - 1), out, why);
        if (e)
            return e;
        end = qm;
    }
    const char *slash = memchr(s, '/', (size_t)(end - s));
    if (!slash || slash == s)
        return kb_fail(why, KB_EPARSE, "purl '%.*s': no type", (int)KB_MIN(len, 80), text);
    char *type = arena_strndup(a, s, (size_t)(slash - s));
    if (!type)
        return kb_fail(why, KB_ETOOBIG, "purl: out of memory");
    for (char *c = type; *c; c++) {
        *c = (char)tolower((unsigned char)*c);
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '+' && *c != '-')
            return kb_fail(why, KB_EPARSE, "purl type '%s': bad character", type);
    }
    out->type = type;
    s = slash + 1;
    while (end > s && end[-1] == '/')
        end--;
    /* the version is after the last '@' that follows the last '/', so an
     * unencoded npm scope ("pkg:npm/@babel/core") is not taken for one */
    const char *last_slash = rchr_n(s, (size_t)(end - s), '/');
    const char *from = last_slash ? last_slash + 1 : s;
    const char *at = rchr_n(from, (size_t)(end - from), '@');
    if (at) {
        char *v = NULL;
        kb_err e = decode(a, at + 1, (size_t)(end - at - 1), "version", &v, why);
        if (e)
            return e;
        out->version = *v ? v : NULL;
        end = at;
    }
    const char *nslash = rchr_n(s, (size_t)(end - s), '/');
    const char *nstart = nslash ? nslash + 1 : s;
    char *name = NULL;
    kb_err e = decode(a, nstart, (size_t)(end - nstart), "name", &name, why);
    if (e)
        return e;
    if (!*name)
        return kb_fail(why, KB_EPARSE, "purl '%.*s': no name", (int)KB_MIN(len, 80), text);
    if (!strcmp(type, "pypi"))
        for (char *c = name; *c; c++)
            *c = *c == '_' ? '-' : (char)tolower((unsigned char)*c);
    out->name = name;
    if (nslash) {
        e = decode_segments(a, s, (size_t)(nslash - s), false, "namespace", &out->ns, why);
        if (e)
            return e;
    }
    return KB_OK;
}

const char *purl_qualifier(const struct purl *p, const char *key)
{
    for (size_t i = 0; i < p->nqualifiers; i++)
        if (!strcmp(p->qualifiers[i].key, key))
            return p->qualifiers[i].value;
    return NULL;
}

static const struct {
    const char *type, *ecosystem;
} type_map[] = {
    {"deb", "Debian"},        {"rpm", "Red Hat"},      {"apk", "Alpine"},
    {"npm", "npm"},           {"pypi", "PyPI"},        {"golang", "Go"},
    {"cargo", "crates.io"},   {"gem", "RubyGems"},     {"composer", "Packagist"},
    {"maven", "Maven"},       {"nuget", "NuGet"},      {"hex", "Hex"},
    {"pub", "Pub"},           {"cran", "CRAN"},        {"hackage", "Hackage"},
    {"swift", "SwiftURL"},    {"githubactions", "GitHub Actions"},
};

const char *purl_type_ecosystem(const char *type)
{
    for (size_t i = 0; type && i < KB_ARRAY_LEN(type_map); i++)
        if (!strcmp(type_map[i].type, type))
            return type_map[i].ecosystem;
    return NULL;
}

/* A distro qualifier "debian-12.4", "alpine-3.18.4", "rocky-9.2" or a bare
 * "12" / "bookworm": the name part (lowercase, may be empty) and the
 * version part. */
static void split_distro(const char *d, char *dname, size_t dcap, const char **dver)
{
    size_t i = 0;
    while (d[i] && !isdigit((unsigned char)d[i]) && i + 1 < dcap) {
        dname[i] = (char)tolower((unsigned char)d[i]);
        i++;
    }
    while (i > 0 && (dname[i - 1] == '-' || dname[i - 1] == '_' || dname[i - 1] == ' '))
        i--;
    dname[i] = '\0';
    const char *v = d;
    while (*v && !isdigit((unsigned char)*v))
        v++;
    *dver = v;
}

static const char *debian_codename(const char *name)
{
    static const struct {
        const char *code, *num;
    } codes[] = {{"jessie", "8"},   {"stretch", "9"},  {"buster", "10"},
                 {"bullseye", "11"}, {"bookworm", "12"}, {"trixie", "13"},
                 {"forky", "14"}};
    for (size_t i = 0; i < KB_ARRAY_LEN(codes); i++)
        if (!strcmp(codes[i].code, name))
            return codes[i].num;
    return NULL;
}

/* Writes eco, or eco ':' prefix release[0..reln) when reln > 0. */
static kb_err put(char *buf, size_t cap, const char *eco, const char *prefix, int reln,
                  const char *release)
{
    int n = reln > 0 ? snprintf(buf, cap, "%s:%s%.*s", eco, prefix, reln, release)
                     : snprintf(buf, cap, "%s", eco);
    return n < 0 || (size_t)n >= cap ? KB_ETOOBIG : KB_OK;
}

/* digits and dots up to the first other character */
static int major_len(const char *v)
{
    int n = 0;
    while (isdigit((unsigned char)v[n]))
        n++;
    return n;
}

static int major_minor_len(const char *v)
{
    int n = major_len(v);
    if (n && v[n] == '.' && isdigit((unsigned char)v[n + 1])) {
        n++;
        while (isdigit((unsigned char)v[n]))
            n++;
    }
    return n;
}

kb_err purl_ecosystem(const struct purl *p, char *buf, size_t cap)
{
    const char *base = purl_type_ecosystem(p->type);
    if (!base)
        return KB_ENOTFOUND;
    const char *vendor = p->ns ? p->ns : "";
    const char *distro = purl_qualifier(p, "distro");
    char dname[32] = "";
    const char *dver = "";
    if (distro)
        split_distro(distro, dname, sizeof dname, &dver);
    const char *who = *dname ? dname : vendor;

    if (!strcmp(p->type, "deb")) {
        if (!strcasecmp(who, "ubuntu") || !strcasecmp(vendor, "ubuntu")) {
            return put(buf, cap, "Ubuntu", "", major_minor_len(dver), dver);
        }
        /* "bookworm" or "debian-bookworm" */
        const char *code = strrchr(dname, '-') ? strrchr(dname, '-') + 1 : dname;
        const char *num = *dname && !*dver ? debian_codename(code) : NULL;
        if (num)
            return put(buf, cap, "Debian", "", (int)strlen(num), num);
        return put(buf, cap, "Debian", "", major_len(dver), dver);
    }
    if (!strcmp(p->type, "apk")) {
        const char *eco = !strcasecmp(who, "wolfi")        ? "Wolfi"
                          : !strcasecmp(who, "chainguard") ? "Chainguard"
                                                           : "Alpine";
        /* OSV spells Alpine releases "v3.18"; Wolfi and Chainguard have none */
        return put(buf, cap, eco, "v", !strcmp(eco, "Alpine") ? major_minor_len(dver) : 0, dver);
    }
    if (!strcmp(p->type, "rpm")) {
        static const struct {
            const char *vendor, *eco;
            bool release;
        } rpm_vendors[] = {
            {"rocky", "Rocky Linux", true}, {"almalinux", "AlmaLinux", true},
            {"alma", "AlmaLinux", true},    {"opensuse", "openSUSE", false},
            {"suse", "SUSE", false},        {"sles", "SUSE", false},
            {"mageia", "Mageia", false},    {"openeuler", "openEuler", false},
        };
        for (size_t i = 0; i < KB_ARRAY_LEN(rpm_vendors); i++)
            if (!strncasecmp(dname, rpm_vendors[i].vendor, strlen(rpm_vendors[i].vendor)) ||
                !strcasecmp(vendor, rpm_vendors[i].vendor)) {
                return put(buf, cap, rpm_vendors[i].eco, "",
                           rpm_vendors[i].release ? major_len(dver) : 0, dver);
            }
        return put(buf, cap, "Red Hat", "", 0, "");
    }
    return put(buf, cap, base, "", 0, "");
}

kb_err purl_package_name(const struct purl *p, char *buf, size_t cap)
{
    static const char *const bare[] = {"deb",  "rpm", "apk", "pypi", "gem",   "cargo",
                                       "nuget", "hex", "pub", "cran", "hackage"};
    bool keep_ns = p->ns != NULL;
    for (size_t i = 0; keep_ns && i < KB_ARRAY_LEN(bare); i++)
        if (!strcmp(p->type, bare[i]))
            keep_ns = false;
    int n = keep_ns ? snprintf(buf, cap, "%s%c%s", p->ns,
                               !strcmp(p->type, "maven") ? ':' : '/', p->name)
                    : snprintf(buf, cap, "%s", p->name);
    return n < 0 || (size_t)n >= cap ? KB_ETOOBIG : KB_OK;
}

/* Appends s percent-encoded (keeping unreserved characters, and '/' when
 * keep_slash) to buf at *k. */
static bool encode(char *buf, size_t cap, size_t *k, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~' ||
                     (keep_slash && c == '/');
        size_t need = plain ? 1 : 3;
        if (*k + need >= cap)
            return false;
        if (plain) {
            buf[(*k)++] = (char)c;
        } else {
            buf[(*k)++] = '%';
            buf[(*k)++] = hex[c >> 4];
            buf[(*k)++] = hex[c & 15];
        }
    }
    buf[*k] = '\0';
    return true;
}

static bool append(char *buf, size_t cap, size_t *k, const char *lit)
{
    size_t n = strlen(lit);
    if (*k + n >= cap)
        return false;
    memcpy(buf + *k, lit, n + 1);
    *k += n;
    return true;
}

kb_err purl_format(const char *type, const char *ns, const char *name, const char *version,
                   char *buf, size_t cap)
{
    size_t k = 0;
    if (!cap)
        return KB_ETOOBIG;
    buf[0] = '\0';
    bool ok = append(buf, cap, &k, "pkg:") && encode(buf, cap, &k, type, false) &&
              append(buf, cap, &k, "/");
    if (ok && ns && *ns)
        ok = encode(buf, cap, &k, ns, true) && append(buf, cap, &k, "/");
    ok = ok && encode(buf, cap, &k, name, false);
    if (ok && version && *version)
        ok = append(buf, cap, &k, "@") && encode(buf, cap, &k, version, false);
    return ok ? KB_OK : KB_ETOOBIG;
}
