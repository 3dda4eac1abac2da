/*
 * inventory_gemfile_lock.c — Bundler's Gemfile.lock (also gems.locked).
 *
 *   GEM                              <- a source section: GEM, GIT or PATH
 *     remote: https://rubygems.org/
 *     specs:
 *       nokogiri (1.15.4-x86_64-linux)   <- 4 spaces: a locked gem
 *         racc (~> 1.4)                  <- 6 spaces: its dependency, not a gem
 *   BUNDLED WITH
 *      2.4.19
 *
 * Every gem under "specs:" of a GEM, GIT or PATH section is a package of
 * ecosystem RubyGems. Like Bundler's own lockfile reader, the text in the
 * parentheses is split at its first '-': before it the version, after it
 * the platform, which is dropped (1.15.4-x86_64-linux is 1.15.4). A gem
 * locked for several platforms appears once. The BUNDLED WITH version is
 * reported as the gem "bundler": since Bundler 2.3 that version is the one
 * that installs and loads the bundle. PLATFORMS, DEPENDENCIES, RUBY
 * VERSION, CHECKSUMS and PLUGIN SOURCE hold no installed gems of the
 * application and are read past. Gemfile.lock says nothing about groups,
 * so no package is marked dev.
 *
 * Reported and skipped: a specs line that is not "name (version)", a
 * line indented with a tab or by other than 4 or 6 spaces under specs:,
 * and a line at column 0 that is no section name (upper-case sections
 * koban does not know, from a later Bundler, are read past quietly). The
 * input is refused when it has none of the sections above.
 */
#include "vuln/inventory_internal.h"
#include "vuln/inventory_seen.h"
#include "vuln/inventory_util.h"

enum section { SEC_NONE, SEC_SOURCE, SEC_BUNDLED, SEC_OTHER };

static size_t indent(struct kb_str l)
{
    size_t k = 0;
    while (k < l.n && l.p[k] == ' ')
        k++;
    return k;
}

static bool gem_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* "name (version[-platform])" -> name, version. */
static bool spec_line(struct kb_str s, struct kb_str *name, struct kb_str *version)
{
    size_t k = 0;
    while (k < s.n && gem_name_char(s.p[k]))
        k++;
    if (!k || k + 3 > s.n || s.p[k] != ' ' || s.p[k + 1] != '(' || s.p[s.n - 1] != ')')
        return false;
    *name = (struct kb_str){s.p, k};
    struct kb_str v = {s.p + k + 2, s.n - k - 3};
    const char *dash = memchr(v.p, '-', v.n);
    if (dash)
        v.n = (size_t)(dash - v.p);
    *version = v;
    return v.n && inventory_printable(v) && !memchr(v.p, ' ', v.n);
}

static bool upper_words(struct kb_str s)
{
    for (size_t k = 0; k < s.n; k++)
        if (!((s.p[k] >= 'A' && s.p[k] <= 'Z') || s.p[k] == ' '))
            return false;
    return true;
}

INVENTORY_PARSER(gemfile_lock)
{
    struct inventory_cursor c;
    inventory_cursor_init(&c, text, len);
    struct inventory_seen seen = INVENTORY_SEEN_INIT;
    enum section sec = SEC_NONE;
    bool in_specs = false, bundler_seen = false;
    size_t sections = 0;
    kb_err e = KB_OK;
    struct kb_str l;
    while (!e && inventory_next_line(&c, &l)) {
        struct kb_str t = inventory_trim(l);
        if (!t.n)
            continue;
        if (l.p[0] == '\t') {
            inventory_warn(inv, "%s:%u: indented with a tab: line skipped", name, c.line);
            continue;
        }
        if (l.p[0] != ' ') { /* a section header */
            in_specs = false;
            sec = SEC_OTHER;
            if (kb_str_eq(t, "GEM") || kb_str_eq(t, "GIT") || kb_str_eq(t, "PATH"))
                sec = SEC_SOURCE;
            else if (kb_str_eq(t, "BUNDLED WITH"))
                sec = SEC_BUNDLED;
            else if (!kb_str_eq(t, "PLATFORMS") && !kb_str_eq(t, "DEPENDENCIES") &&
                     !kb_str_eq(t, "RUBY VERSION") && !kb_str_eq(t, "CHECKSUMS") &&
                     !kb_str_eq(t, "PLUGIN SOURCE")) {
                /* A later Bundler may add sections (upper-case words): read
                 * past them quietly; anything else at column 0 is damage. */
                if (!upper_words(t))
                    inventory_warn(inv, "%s:%u: not a section name: %.*s", name, c.line,
                                   (int)KB_MIN(t.n, 80), t.p);
                continue;
            }
            sections++;
            continue;
        }
        size_t ind = indent(l);
        if (sec == SEC_SOURCE && ind == 2) {
            in_specs = kb_str_eq(t, "specs:");
        } else if (sec == SEC_SOURCE && in_specs && ind == 4) {
            struct kb_str gem, version;
            if (!spec_line(t, &gem, &version)) {
                inventory_warn(inv, "%s:%u: not a gem and version \"name (1.2.3)\": %.*s", name,
                               c.line, (int)KB_MIN(t.n, 80), t.p);
                continue;
            }
            bool added;
            if ((e = inventory_seen_add(&seen, gem, version, &added)))
                e = kb_fail(why, e, "%s:%u: too many gems", name, c.line);
            else if (added)
                e = inventory_put(inv, "RubyGems", gem, version, NULL, NULL, name, c.line, false,
                                  why);
        } else if (sec == SEC_BUNDLED && !bundler_seen) {
            bundler_seen = true;
            if (!inventory_printable(t) || memchr(t.p, ' ', t.n))
                inventory_warn(inv, "%s:%u: BUNDLED WITH: not a version", name, c.line);
            else
                e = inventory_put(inv, "RubyGems", KB_STR_LIT("bundler"), t, NULL, NULL, name,
                                  c.line, false, why);
        } else if (sec == SEC_SOURCE && in_specs && ind != 6) {
            inventory_warn(inv,
                           "%s:%u: specs: lines are indented 4 (gems) or 6 (dependencies), "
                           "not %zu",
                           name, c.line, ind);
        }
    }
    inventory_seen_release(&seen);
    if (!e && !sections)
        return kb_fail(why, KB_EPARSE,
                       "%s: not a Gemfile.lock: no GEM, GIT, PATH or BUNDLED WITH section", name);
    return e;
}
