/*
 * policy_load.c — compiling one YAML document into a struct policy (the
 * set and its files are policy_set.c).
 *
 * The vocabulary is docs/POLICIES.md. Parsing is strict: an unknown key, a
 * wrong type or an out-of-range value refuses the document with a message
 * naming file, line, policy and key, because a mistyped policy that loads
 * silently (`severty: none`) would change what people are woken up for.
 * One bad document never hides the good ones beside it.
 */
#include "formats/format.h"
#include "lib/buf.h"
#include "lib/timeutil.h"
#include "rules/policy_impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

struct lctx {
    struct policy_set *ps;
    yaml_document_t *doc;
    const char *file;
    const char *id; /* once known */
    struct kb_why *why;
};

static kb_err perr(struct lctx *c, const yaml_node_t *at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static kb_err perr(struct lctx *c, const yaml_node_t *at, const char *key, const char *fmt, ...)
{
    char reason[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (c->id)
        return kb_fail(c->why, KB_EINVAL, "%s:%u: policy '%s': %s: %s", c->file, py_line(at), c->id,
                       key, reason);
    return kb_fail(c->why, KB_EINVAL, "%s:%u: %s: %s", c->file, py_line(at), key, reason);
}

static void *zalloc(struct lctx *c, size_t n)
{
    void *p = arena_alloc(&c->ps->arena, n ? n : 1);
    if (!p) {
        fprintf(stderr, "koban: policy arena limit reached\n");
        abort(); /* POLICY_ARENA_LIMIT: a bound no real set reaches */
    }
    memset(p, 0, n ? n : 1);
    return p;
}

static const char *dup(struct lctx *c, const char *s, size_t n)
{
    char *p = zalloc(c, n + 1);
    memcpy(p, s, n);
    return p;
}

/* A scalar of at most max bytes, copied into the arena. */
static kb_err text(struct lctx *c, const yaml_node_t *n, const char *key, size_t max,
                   const char **out)
{
    const char *s = py_cstr(n);
    if (!s)
        return perr(c, n, key, "expected a text value");
    size_t len = n->data.scalar.length;
    if (len == 0)
        return perr(c, n, key, "empty");
    if (len > max)
        return perr(c, n, key, "longer than %zu bytes", max);
    if (memchr(s, '\0', len))
        return perr(c, n, key, "contains a NUL byte");
    *out = dup(c, s, len);
    return KB_OK;
}

static kb_err integer(struct lctx *c, const yaml_node_t *n, const char *key, long min, long max,
                      long *out)
{
    const char *s = py_cstr(n);
    char *end = NULL;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < min || v > max)
        return perr(c, n, key, "expected a whole number from %ld to %ld", min, max);
    *out = v;
    return KB_OK;
}

static kb_err number(struct lctx *c, const yaml_node_t *n, const char *key, double *out)
{
    const char *s = py_cstr(n);
    char *end = NULL;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || !isfinite(v))
        return perr(c, n, key, "expected a number");
    *out = v;
    return KB_OK;
}

static kb_err boolean(struct lctx *c, const yaml_node_t *n, const char *key, bool *out)
{
    const char *s = py_cstr(n);
    if (s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
        *out = true;
    else if (s && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
        *out = false;
    else
        return perr(c, n, key, "expected true or false");
    return KB_OK;
}

static kb_err severity(struct lctx *c, const yaml_node_t *n, const char *key, int *out)
{
    const char *s = py_cstr(n);
    if (!s || kb_severity_parse(s, out) != KB_OK)
        return perr(c, n, key, "expected a severity (none, low, medium, high, critical)");
    return KB_OK;
}

/* Keys of a mapping must all be in allowed[] (NULL-terminated). */
static kb_err only_keys(struct lctx *c, const yaml_node_t *map, const char *what,
                        const char *const *allowed)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const char *ks = py_cstr(k);
        bool ok = false;
        for (const char *const *a = allowed; ks && *a && !ok; a++)
            ok = strcmp(ks, *a) == 0;
        if (!ok)
            return perr(c, k, what, "unknown key '%s'", ks ? ks : "(not text)");
    }
    return KB_OK;
}

/* A field name a policy reads: an alert field or raw.<path>. */
static kb_err field_name(struct lctx *c, const yaml_node_t *n, const char *key, const char **out,
                         size_t *len)
{
    kb_err e = text(c, n, key, 256, out);
    if (!e)
        *len = strlen(*out);
    return e;
}

static kb_err sev_bands(struct lctx *c, yaml_node_t *n, struct sev_action *a)
{
    if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top == n->data.sequence.items.start)
        return perr(c, n, "severity.bands", "expected a list of {min, max, severity}");
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt > POLICY_MAX_BANDS)
        return perr(c, n, "severity.bands", "more than %d bands", POLICY_MAX_BANDS);
    a->bands = zalloc(c, cnt * sizeof *a->bands);
    static const char *const keys[] = {"min", "max", "severity", NULL};
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *b = yaml_document_get_node(c->doc, *it);
        struct sev_band *band = &a->bands[a->nbands++];
        band->min = -INFINITY;
        band->max = INFINITY;
        kb_err e;
        if (!b || b->type != YAML_MAPPING_NODE)
            return perr(c, b, "severity.bands", "expected {min, max, severity}");
        if ((e = only_keys(c, b, "severity.bands", keys)))
            return e;
        yaml_node_t *mn = py_get(c->doc, b, "min"), *mx = py_get(c->doc, b, "max");
        yaml_node_t *sv = py_get(c->doc, b, "severity");
        if (!sv || (!mn && !mx))
            return perr(c, b, "severity.bands", "a band needs a severity and min or max");
        if ((mn && (e = number(c, mn, "severity.bands.min", &band->min))) ||
            (mx && (e = number(c, mx, "severity.bands.max", &band->max))) ||
            (e = severity(c, sv, "severity.bands.severity", &band->sev)))
            return e;
        if (band->min >= band->max)
            return perr(c, b, "severity.bands", "min must be below max (max is exclusive)");
    }
    return KB_OK;
}

static kb_err sev_map(struct lctx *c, yaml_node_t *n, struct sev_action *a)
{
    if (n->type != YAML_MAPPING_NODE || n->data.mapping.pairs.top == n->data.mapping.pairs.start)
        return perr(c, n, "severity.map", "expected a mapping of value: severity");
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (cnt > POLICY_MAX_ROWS)
        return perr(c, n, "severity.map", "more than %d rows", POLICY_MAX_ROWS);
    a->rows = zalloc(c, cnt * sizeof *a->rows);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        struct sev_row *r = &a->rows[a->nrows++];
        kb_err e;
        if ((e = text(c, yaml_document_get_node(c->doc, p->key), "severity.map", 1024, &r->key)) ||
            (e = severity(c, yaml_document_get_node(c->doc, p->value), "severity.map", &r->sev)))
            return e;
        r->keylen = strlen(r->key);
    }
    return KB_OK;
}

/* `severity:`-shaped value: a name, or {raise|lower: N}, or
 * {from: FIELD, map: {...} | bands: [...], default: SEV}. */
static kb_err sev_action(struct lctx *c, yaml_node_t *n, const char *key, bool allow_from,
                         struct sev_action *a)
{
    a->def = -1;
    if (n->type == YAML_SCALAR_NODE) {
        a->op = SEV_SET;
        return severity(c, n, key, &a->value);
    }
    if (n->type != YAML_MAPPING_NODE)
        return perr(c, n, key, "expected a severity or a mapping");
    static const char *const keys[] = {"raise", "lower", "from", "map", "bands", "default", NULL};
    kb_err e = only_keys(c, n, key, keys);
    if (e)
        return e;
    yaml_node_t *raise = py_get(c->doc, n, "raise"), *lower = py_get(c->doc, n, "lower");
    yaml_node_t *from = py_get(c->doc, n, "from"), *map = py_get(c->doc, n, "map");
    yaml_node_t *bands = py_get(c->doc, n, "bands"), *def = py_get(c->doc, n, "default");
    if ((raise != NULL) + (lower != NULL) + (from != NULL) != 1)
        return perr(c, n, key, "expected exactly one of raise, lower, from");
    long steps;
    if (raise || lower) {
        if (map || bands || def)
            return perr(c, n, key, "map, bands and default go with from");
        if ((e = integer(c, raise ? raise : lower, key, 1, 4, &steps)))
            return e;
        a->op = raise ? SEV_RAISE : SEV_LOWER;
        a->value = (int)steps;
        return KB_OK;
    }
    if (!allow_from)
        return perr(c, from, key, "from is only allowed in severity");
    if ((map != NULL) == (bands != NULL))
        return perr(c, n, key, "from needs exactly one of map, bands");
    if ((e = field_name(c, from, "severity.from", &a->from, &a->fromlen)) ||
        (def && (e = severity(c, def, "severity.default", &a->def))))
        return e;
    a->op = map ? SEV_MAP : SEV_BANDS;
    return map ? sev_map(c, map, a) : sev_bands(c, bands, a);
}

/* A list of text (or one text) into a NULL-terminated array. */
static kb_err text_list(struct lctx *c, yaml_node_t *n, const char *key, size_t maxn, size_t maxlen,
                        const char ***out, uint32_t *count)
{
    yaml_node_item_t one[1];
    yaml_node_item_t *start = one, *top = one;
    if (n->type == YAML_SEQUENCE_NODE) {
        start = n->data.sequence.items.start;
        top = n->data.sequence.items.top;
    } else if (n->type == YAML_SCALAR_NODE) {
        one[0] = (yaml_node_item_t)(n - c->doc->nodes.start + 1);
        top = one + 1;
    }
    size_t cnt = (size_t)(top - start);
    if (cnt == 0 || cnt > maxn)
        return perr(c, n, key, "expected 1 to %zu values", maxn);
    const char **arr = zalloc(c, (cnt + 1) * sizeof *arr);
    for (size_t i = 0; i < cnt; i++) {
        kb_err e = text(c, yaml_document_get_node(c->doc, start[i]), key, maxlen, &arr[i]);
        if (e)
            return e;
    }
    *out = arr;
    if (count)
        *count = (uint32_t)cnt;
    return KB_OK;
}

static kb_err identity_list(struct lctx *c, yaml_node_t *n, const char *key, const char ***out)
{
    kb_err e = text_list(c, n, key, POLICY_MAX_IDENTITY, 128, out, NULL);
    for (const char **k = *out; !e && *k; k++)
        if (strncmp(*k, "raw.", 4) == 0)
            e = perr(c, n, key, "'%s': identity fields are alert fields, not raw.*", *k);
    return e;
}

/* "30s", "15m", "1h", "7d" -> ms. */
static kb_err duration(struct lctx *c, const yaml_node_t *n, const char *key, int64_t *ms)
{
    const char *s = py_cstr(n);
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    int64_t unit = 0;
    if (end && end[0] && !end[1])
        unit = end[0] == 's'   ? 1000
               : end[0] == 'm' ? 60000
               : end[0] == 'h' ? 3600000
               : end[0] == 'd' ? 86400000
                               : 0;
    if (!s || end == s || errno || unit == 0 || v <= 0 || v > POLICY_MAX_WITHIN_MS / unit)
        return perr(c, n, key, "expected a duration like 30s, 15m, 1h, 7d (at most 366d)");
    *ms = v * unit;
    return KB_OK;
}

/* "2026-12-31" (through the end of that day, UTC) or an RFC 3339 time. */
static kb_err expiry(struct lctx *c, const yaml_node_t *n, const char *key, int64_t *ms)
{
    const char *s = py_cstr(n);
    unsigned y, m, d;
    char tail;
    if (s && n->data.scalar.length == 10 && sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) == 3 &&
        y >= 1970 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
        *ms = (kb_days_from_civil(y, m, d) + 1) * 86400000LL;
        return KB_OK;
    }
    if (!s || kb_time_parse_rfc3339(kb_str_c(s), ms) != KB_OK || *ms <= 0)
        return perr(c, n, key, "expected a date (2026-12-31) or an RFC 3339 time");
    return KB_OK;
}

static kb_err parse_cidr(struct lctx *c, yaml_node_t *n, struct policy *p)
{
    static const char *const keys[] = {"field", "prefix", "family", NULL};
    if (n->type != YAML_MAPPING_NODE)
        return perr(c, n, "cidr", "expected {field, prefix, family}");
    kb_err e = only_keys(c, n, "cidr", keys);
    yaml_node_t *f = py_get(c->doc, n, "field"), *pre = py_get(c->doc, n, "prefix");
    yaml_node_t *fam = py_get(c->doc, n, "family");
    if (e)
        return e;
    if (!f || !pre)
        return perr(c, n, "cidr", "field and prefix are required");
    if ((e = text_list(c, f, "cidr.field", POLICY_MAX_CIDR_FIELDS, 256, &p->cidr.fields,
                       &p->cidr.nfields)))
        return e;
    p->cidr.fieldlens = zalloc(c, p->cidr.nfields * sizeof *p->cidr.fieldlens);
    for (uint32_t i = 0; i < p->cidr.nfields; i++)
        p->cidr.fieldlens[i] = strlen(p->cidr.fields[i]);
    const char *ps = py_cstr(pre);
    unsigned lo, hi;
    char tail;
    int k = ps ? sscanf(ps, "%u-%u%c", &lo, &hi, &tail) : 0;
    if (k == 1 && ps && !strchr(ps, '-'))
        hi = lo;
    else if (k != 2)
        return perr(c, pre, "cidr.prefix", "expected a length (8) or a range (1-7)");
    if (lo > hi || hi > 128)
        return perr(c, pre, "cidr.prefix", "expected lengths from 0 to 128, low-high");
    p->cidr.min = (int)lo;
    p->cidr.max = (int)hi;
    const char *fs = py_cstr(fam);
    if (fam && (!fs || (strcmp(fs, "ipv4") && strcmp(fs, "ipv6"))))
        return perr(c, fam, "cidr.family", "expected ipv4 or ipv6");
    p->cidr.family = !fs ? 0 : fs[3] == '4' ? 4 : 6;
    p->has_cidr = true;
    return KB_OK;
}

static kb_err parse_annotations(struct lctx *c, yaml_node_t *n, struct policy *p)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return perr(c, n, "annotations", "expected a list of text or {text, link}");
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt == 0 || cnt > POLICY_MAX_ANNOTATIONS)
        return perr(c, n, "annotations", "expected 1 to %d annotations", POLICY_MAX_ANNOTATIONS);
    p->annotations = zalloc(c, cnt * sizeof *p->annotations);
    static const char *const keys[] = {"text", "link", NULL};
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *a = yaml_document_get_node(c->doc, *it);
        struct policy_annotation *an = &p->annotations[p->nannotations++];
        an->policy = p->id;
        kb_err e;
        if (a && a->type == YAML_SCALAR_NODE) {
            if ((e = text(c, a, "annotations", POLICY_MAX_TEXT, &an->text)))
                return e;
            continue;
        }
        if (!a || a->type != YAML_MAPPING_NODE || (e = only_keys(c, a, "annotations", keys)))
            return a && a->type == YAML_MAPPING_NODE
                       ? e
                       : perr(c, a, "annotations", "expected text or {text, link}");
        yaml_node_t *t = py_get(c->doc, a, "text"), *l = py_get(c->doc, a, "link");
        if (!t)
            return perr(c, a, "annotations", "text is required");
        if ((e = text(c, t, "annotations.text", POLICY_MAX_TEXT, &an->text)) ||
            (l && (e = text(c, l, "annotations.link", POLICY_MAX_TEXT, &an->link))))
            return e;
        if (an->link && strncmp(an->link, "https://", 8) && strncmp(an->link, "http://", 7))
            return perr(c, l, "annotations.link", "expected an http:// or https:// address");
    }
    return KB_OK;
}

static kb_err parse_labels(struct lctx *c, yaml_node_t *n, struct policy *p)
{
    if (n->type != YAML_MAPPING_NODE)
        return perr(c, n, "labels", "expected a mapping of name: value");
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (cnt == 0 || cnt > POLICY_MAX_LABELS)
        return perr(c, n, "labels", "expected 1 to %d labels", POLICY_MAX_LABELS);
    p->labels = zalloc(c, cnt * sizeof *p->labels);
    for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top; q++) {
        struct policy_label *l = &p->labels[p->nlabels++];
        l->policy = p->id;
        kb_err e;
        if ((e = text(c, yaml_document_get_node(c->doc, q->key), "labels", 128, &l->key)) ||
            (e = text(c, yaml_document_get_node(c->doc, q->value), "labels", 1024, &l->value)))
            return e;
    }
    return KB_OK;
}

static kb_err parse_mute_close(struct lctx *c, yaml_node_t *root, struct policy *p)
{
    yaml_node_t *m = py_get(c->doc, root, "mute"), *cl = py_get(c->doc, root, "close");
    kb_err e;
    if (m) {
        static const char *const keys[] = {"reason", "until", NULL};
        if (m->type != YAML_MAPPING_NODE)
            return perr(c, m, "mute", "expected {reason, until}");
        if ((e = only_keys(c, m, "mute", keys)))
            return e;
        yaml_node_t *r = py_get(c->doc, m, "reason"), *u = py_get(c->doc, m, "until");
        if (!r)
            return perr(c, m, "mute", "a mute needs a reason");
        if ((e = text(c, r, "mute.reason", POLICY_MAX_TEXT, &p->mute_reason)) ||
            (u && (e = expiry(c, u, "mute.until", &p->mute_until_ms))))
            return e;
        p->has_mute = true;
    }
    if (cl) {
        static const char *const keys[] = {"reason", "identity", NULL};
        if (cl->type != YAML_MAPPING_NODE)
            return perr(c, cl, "close", "expected {reason, identity}");
        if ((e = only_keys(c, cl, "close", keys)))
            return e;
        yaml_node_t *r = py_get(c->doc, cl, "reason"), *id = py_get(c->doc, cl, "identity");
        if (!r)
            return perr(c, cl, "close", "a close needs a reason");
        if ((e = text(c, r, "close.reason", POLICY_MAX_TEXT, &p->close_reason)) ||
            (id && (e = identity_list(c, id, "close.identity", &p->close_identity))))
            return e;
        p->has_close = true;
    }
    return KB_OK;
}

static kb_err parse_escalate(struct lctx *c, yaml_node_t *n, struct policy *p)
{
    static const char *const keys[] = {"after", "within", "severity", NULL};
    if (n->type != YAML_MAPPING_NODE)
        return perr(c, n, "escalate", "expected {after, within, severity}");
    kb_err e = only_keys(c, n, "escalate", keys);
    yaml_node_t *a = py_get(c->doc, n, "after"), *w = py_get(c->doc, n, "within");
    yaml_node_t *s = py_get(c->doc, n, "severity");
    if (e)
        return e;
    if (!a || !s)
        return perr(c, n, "escalate", "after and severity are required");
    long after;
    if ((w && (e = duration(c, w, "escalate.within", &p->esc_within_ms))) ||
        (e = integer(c, a, "escalate.after", 2, w ? POLICY_MAX_WINDOW_COUNT : POLICY_MAX_AFTER,
                     &after)) ||
        (e = sev_action(c, s, "escalate.severity", false, &p->esc)))
        return e;
    p->esc_after = (uint32_t)after;
    p->has_escalate = true;
    return KB_OK;
}

/* Compiles `detection:` through the Sigma engine. */
static kb_err parse_detection(struct lctx *c, yaml_node_t *det, struct policy *p)
{
    if (det->type != YAML_MAPPING_NODE)
        return perr(c, det, "detection", "expected a mapping (Sigma detection)");
    struct buf text = BUF_INIT(SIGMA_MAX_FILE_BYTES);
    struct kb_why w = {{0}};
    size_t before = sigma_ruleset_count(c->ps->rules), n = 0;
    kb_err e = py_emit_rule(c->doc, det, p->id, &text, &w);
    if (!e)
        e = sigma_load_buffer(text.p, text.len, "detection", c->ps->rules, &n, &w);
    buf_release(&text);
    if (e || n != 1 || sigma_ruleset_count(c->ps->rules) != before + 1) {
        /* Sigma says "detection:LINE: KEY: reason" about the emitted text;
         * its line means nothing to the reader, so it is dropped. */
        const char *msg = w.msg;
        if (strncmp(msg, "detection:", 10) == 0) {
            const char *q = strstr(msg + 10, ": ");
            msg = q ? q + 2 : msg;
        }
        if (strncmp(msg, "detection", 9) == 0) /* already names its key */
            return kb_fail(c->why, KB_EINVAL, "%s:%u: policy '%s': %s", c->file, py_line(det),
                           c->id, msg);
        return perr(c, det, "detection", "%s", msg[0] ? msg : "not a Sigma detection");
    }
    p->rule = sigma_ruleset_rule(c->ps->rules, before);
    return KB_OK;
}

static kb_err compile(struct lctx *c, yaml_node_t *root, struct policy *p)
{
    static const char *const keys[] = {"id",        "title",    "description", "source",
                                       "detection", "cidr",     "severity",    "first_only",
                                       "escalate",  "identity", "labels",      "annotations",
                                       "mute",      "close",    "stop",        NULL};
    if (root->type != YAML_MAPPING_NODE)
        return perr(c, root, "(document)", "expected a mapping (a policy)");
    yaml_node_t *id = py_get(c->doc, root, "id");
    if (!id)
        return perr(c, root, "id", "missing (every policy has an id)");
    kb_err e = text(c, id, "id", POLICY_MAX_ID, &p->id);
    if (e)
        return e;
    for (const char *s = p->id; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.' || *s == ':'))
            return perr(c, id, "id", "use letters, digits and - _ . : only");
    if (policy_set_find(c->ps, p->id))
        return perr(c, id, "id", "'%s' is already loaded", p->id);
    c->id = p->id;
    if ((e = only_keys(c, root, "(policy)", keys)))
        return e;
    yaml_node_t *n;
    if ((n = py_get(c->doc, root, "title")) && (e = text(c, n, "title", 1024, &p->title)))
        return e;
    if ((n = py_get(c->doc, root, "description")) && !py_cstr(n))
        return perr(c, n, "description", "expected text");
    if ((n = py_get(c->doc, root, "source")) &&
        (e = text_list(c, n, "source", 32, 64, &p->sources, &p->nsources)))
        return e;
    /* A known format's name is kept as the registry's own string, which is
     * what alerts carry: the per-event source test is then mostly a pointer
     * compare (policy_eval.c, source_in). */
    for (uint32_t i = 0; i < p->nsources; i++) {
        const struct format *f = format_by_name(p->sources[i]);
        if (f)
            p->sources[i] = f->name;
    }
    if ((n = py_get(c->doc, root, "detection")) && (e = parse_detection(c, n, p)))
        return e;
    if ((n = py_get(c->doc, root, "cidr")) && (e = parse_cidr(c, n, p)))
        return e;
    if ((n = py_get(c->doc, root, "severity")) && (e = sev_action(c, n, "severity", true, &p->sev)))
        return e;
    if ((n = py_get(c->doc, root, "first_only")) &&
        (e = sev_action(c, n, "first_only", false, &p->first_only)))
        return e;
    if ((n = py_get(c->doc, root, "escalate")) && (e = parse_escalate(c, n, p)))
        return e;
    if ((n = py_get(c->doc, root, "identity")) &&
        (e = identity_list(c, n, "identity", &p->identity)))
        return e;
    if ((n = py_get(c->doc, root, "labels")) && (e = parse_labels(c, n, p)))
        return e;
    if ((n = py_get(c->doc, root, "annotations")) && (e = parse_annotations(c, n, p)))
        return e;
    if ((e = parse_mute_close(c, root, p)))
        return e;
    if ((n = py_get(c->doc, root, "stop")) && (e = boolean(c, n, "stop", &p->stop)))
        return e;
    return KB_OK;
}

kb_err policy_load_doc(struct policy_set *ps, yaml_document_t *doc, yaml_node_t *root,
                       const char *file, struct kb_why *why)
{
    if (ps->npol >= POLICY_MAX_POLICIES)
        return kb_fail(why, KB_ETOOBIG, "%s:%u: more than %d policies", file, py_line(root),
                       POLICY_MAX_POLICIES);
    struct lctx c = {.ps = ps, .doc = doc, .file = file, .why = why};
    struct policy *p = zalloc(&c, sizeof *p);
    p->file = dup(&c, file, strlen(file));
    p->line = py_line(root);
    kb_err e = compile(&c, root, p);
    if (e)
        return e; /* the arena keeps the half-built policy until the set is freed */
    if (ps->npol == ps->cappol) {
        ps->cappol = ps->cappol ? ps->cappol * 2 : 32;
        ps->pol = kb_realloc(ps->pol, ps->cappol * sizeof *ps->pol);
        /* The matched list of policy_eval holds every policy at most once. */
        ps->sc.matched = kb_realloc(ps->sc.matched, ps->cappol * sizeof *ps->sc.matched);
    }
    p->index = (uint32_t)ps->npol;
    ps->pol[ps->npol++] = p;
    return KB_OK;
}
