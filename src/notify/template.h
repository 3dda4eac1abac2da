/*
 * template.h — the text of notifications: a small, bounded template
 * language with escaping chosen by where the text goes (Slack mrkdwn,
 * GitHub markdown, a JSON string, plain text).
 *
 * Syntax (docs/NOTIFY.md, "Templates"):
 *   {{issue.title}}        a value, found by a dotted path in the context
 *                          (first segment: the first scope that has it),
 *                          escaped for the target
 *   {{issue.resource|code}} the value as inline code (Slack, GitHub)
 *   {{link|url}}           the value as a link target: http(s) URLs only,
 *                          anything else renders as nothing
 *   {{#path}}…{{/path}}    a section: rendered once when the value is
 *                          present and not empty/false/0/null; once per
 *                          element (at most TMPL_MAX_LOOP) for an array
 *   {{^path}}…{{/path}}    rendered when the value is absent or empty
 *   {{.}} {{.text}}        inside a section: the current element, or a
 *                          path in the innermost section value that has
 *                          it (root scopes are never searched for these)
 *   {{! comment }}         nothing
 * A section, inverted-section or comment tag alone on its line removes the
 * whole line, so templates can be laid out one tag per line.
 *
 * Template literal text is written as is (it is the template author's
 * markup); only values are escaped. Output is always valid UTF-8 (invalid
 * bytes in values become U+FFFD) and never longer than the caller's limit
 * in characters: text past it is cut and ends with "…".
 *
 * Ownership: struct tmpl and struct tmpl_set are created by tmpl_parse /
 * tmpl_set_load and freed by tmpl_free / tmpl_set_free; each owns a copy of
 * its text. A struct tmpl_ctx borrows its JSON values for a render.
 */
#ifndef KOBAN_TEMPLATE_H
#define KOBAN_TEMPLATE_H

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/kb.h"

#define TMPL_MAX_SOURCE (64u << 10) /* bytes of one template */
#define TMPL_MAX_NODES 2048         /* tags and text runs of one template */
#define TMPL_MAX_DEPTH 8            /* nested sections */
#define TMPL_MAX_LOOP 100           /* elements rendered by one array section */
#define TMPL_MAX_NAME 128           /* bytes of a tag's path */
#define TMPL_MAX_SCOPES 4           /* roots of a render context */

/* Where rendered text goes, which decides how values are escaped. */
enum tmpl_escape {
    TMPL_PLAIN = 0, /* plain text (Slack plain_text, GitHub titles, PagerDuty
                       summary): control characters but newline and tab
                       become spaces */
    TMPL_SLACK,     /* Slack mrkdwn: & < > as entities; * _ ~ ` that could
                       open or close formatting become look-alikes */
    TMPL_GITHUB,    /* GitHub markdown: HTML and markdown specials escaped,
                       @ and # cannot mention or link, newlines are spaces */
    TMPL_JSON,      /* the inside of a JSON string */
};

struct tmpl;

/* Parses a template. name is used in errors ("NAME:LINE: why"): a file
 * path, or "builtin:NAME". KB_EPARSE (KB_ETOOBIG past a bound) with why. */
kb_err tmpl_parse(const char *name, const char *text, size_t len, struct tmpl **out,
                  struct kb_why *why);
void tmpl_free(struct tmpl *t);
/* The name given to tmpl_parse. */
const char *tmpl_name(const struct tmpl *t);

/* What paths are resolved against: scopes[0] first. texts[i] is the JSON
 * text scopes[i] was parsed from (numbers are written as their source
 * text). Both borrowed for the render. */
struct tmpl_ctx {
    const struct json_value *scopes[TMPL_MAX_SCOPES];
    const char *texts[TMPL_MAX_SCOPES];
    size_t n;
};

/* Appends the rendering of t to out: at most max_chars characters (code
 * points; max_chars >= 8), cut with "…" when longer (*truncated set when
 * non-NULL). KB_ETOOBIG only when out's own byte maximum is reached (give
 * it 4 * max_chars + 16 bytes of room). */
/* Appends text s[0..n) to out escaped for esc, as a template value would
 * be (at most max_chars characters, cut with "…"). KB_ETOOBIG only when
 * out's byte maximum is reached. */
kb_err tmpl_escape_text(enum tmpl_escape esc, const char *s, size_t n, size_t max_chars,
                        struct buf *out);

kb_err tmpl_render(const struct tmpl *t, const struct tmpl_ctx *ctx, enum tmpl_escape esc,
                   size_t max_chars, struct buf *out, bool *truncated);

/* A set of named templates: a type's built-in defaults, each replaced by
 * the file of the same name in a user's folder when that file exists. */
struct tmpl_default {
    const char *name; /* "slack.title.tmpl" */
    const char *text; /* the built-in template */
};
struct tmpl_set;

/* Loads the n templates of defs: dir/NAME when dir is non-NULL and that
 * file exists, else the built-in text. Errors name the file and line
 * ("/etc/koban/tmpl/slack.body.tmpl:3: section {{#x}} is not closed");
 * KB_EIO when dir or a file cannot be read. */
kb_err tmpl_set_load(const struct tmpl_default *defs, size_t n, const char *dir,
                     struct tmpl_set **out, struct kb_why *why);
/* The template called name, or NULL when the set has none. */
const struct tmpl *tmpl_set_get(const struct tmpl_set *s, const char *name);
void tmpl_set_free(struct tmpl_set *s);

#endif
