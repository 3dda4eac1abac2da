/*
 * feed_util.c — shared pieces of the feed converters (feed_util.h).
 */
#include "vuln/feed_util.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/timeutil.h"
#include "vuln/osv.h"

/* ---- string lists ---- */

void feed_strs_init(struct feed_strs *s, size_t max_n, size_t max_bytes)
{
    memset(s, 0, sizeof *s);
    s->max_n = max_n;
    s->max_bytes = max_bytes;
}

bool feed_strs_has(const struct feed_strs *s, const char *p, size_t n)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i]) == n && memcmp(s->v[i], p, n) == 0)
            return true;
    return false;
}

void feed_strs_add(struct feed_strs *s, const char *p, size_t n)
{
    if (!p || n == 0 || feed_strs_has(s, p, n))
        return;
    if (s->n >= s->max_n || s->bytes + n > s->max_bytes) {
        s->more++;
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = kb_realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = kb_strndup(p, n);
    s->bytes += n;
}

void feed_strs_release(struct feed_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = s->bytes = s->more = 0;
}

void feed_strs_write(struct jw *w, const struct feed_strs *s)
{
    jw_arr_begin(w);
    for (size_t i = 0; i < s->n; i++)
        jw_str(w, s->v[i]);
    jw_arr_end(w);
}

/* ---- records ---- */

void feed_rec_init(struct feed_rec *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->out, OSV_MAX_BYTES);
    jw_init(&r->w, &r->out);
    feed_strs_init(&r->cpe, OSV_MAX_ITEMS, FEED_KOBAN_CPE_BYTES);
    feed_strs_init(&r->cwe, 256, FEED_TEXT_MAX);
    feed_strs_init(&r->text, 256, FEED_TEXT_MAX);
}

void feed_rec_release(struct feed_rec *r)
{
    buf_release(&r->out);
    feed_strs_release(&r->cpe);
    feed_strs_release(&r->cwe);
    feed_strs_release(&r->text);
}

void feed_rec_koban(struct feed_rec *r, const char *feed, const char *extra_key,
                    const char *extra_val)
{
    struct jw *w = &r->w;
    jw_key(w, "database_specific");
    jw_obj_begin(w);
    jw_key(w, "koban");
    jw_obj_begin(w);
    jw_kv_str(w, "feed", feed);
    jw_kv_str(w, "match", r->suspected ? "suspected" : "exact");
    if (r->cpe.n) {
        jw_key(w, "cpe");
        feed_strs_write(w, &r->cpe);
        /* The list is bounded so that the object stays within what
         * osv_parse keeps raw (OSV_MAX_RAW): say how many were left out. */
        if (r->cpe.more)
            jw_kv_int(w, "cpe_more", (int64_t)r->cpe.more);
    }
    if (r->cwe.n) {
        jw_key(w, "cwe");
        feed_strs_write(w, &r->cwe);
    }
    if (r->text.n) {
        struct buf t = BUF_INIT(FEED_TEXT_MAX + 64);
        for (size_t i = 0; i < r->text.n; i++) {
            if (i)
                buf_puts(&t, "\n");
            buf_puts(&t, r->text.v[i]);
        }
        jw_kv_str(w, "versions_text", t.p ? t.p : "");
        buf_release(&t);
    }
    if (extra_key && extra_val)
        jw_kv_str(w, extra_key, extra_val);
    jw_obj_end(w);
    jw_obj_end(w);
}

kb_err feed_rec_emit(struct feed_rec *r, const char *id, feed_adv_fn fn, void *ctx,
                     bool *cb_failed, struct kb_why *why)
{
    *cb_failed = false;
    kb_err e = jw_finish(&r->w);
    if (e)
        return kb_fail(why, KB_ETOOBIG, "the converted record is over %u bytes", OSV_MAX_BYTES);
    /* Every record handed on must be one the OSV parser takes: check here,
     * so that a feed's oddity is reported against its record and never
     * reaches the index. */
    struct osv_record *rec = NULL;
    struct kb_why pw = {{0}};
    e = osv_parse(r->out.p, r->out.len, &rec, &pw);
    osv_record_free(rec);
    if (e)
        return kb_fail(why, e, "the converted record is refused: %s", pw.msg);
    e = fn(ctx, id, r->out.p, r->out.len);
    if (e) {
        *cb_failed = true;
        return kb_fail(why, e, "%s: the callback failed (%s)", id, kb_strerror(e));
    }
    return KB_OK;
}

/* ---- JSON ---- */

kb_err feed_json_parse(const char *body, size_t len, struct arena *a, struct json_value **root,
                       struct kb_why *why)
{
    if (!body)
        return kb_fail(why, KB_EINVAL, "no body");
    if (len > FEED_MAX_BODY)
        return kb_fail(why, KB_ETOOBIG, "body of %zu bytes is over %u", len, FEED_MAX_BODY);
    struct json_limits lim = {.max_depth = FEED_MAX_DEPTH, .max_bytes = FEED_MAX_BODY};
    struct json_error jerr = {0};
    kb_err e = json_parse(body, len, &lim, a, root, &jerr);
    if (e)
        return kb_fail(why, e, "JSON line %u column %u: %s", jerr.line, jerr.col, jerr.msg);
    return KB_OK;
}

static const char *type_name(const struct json_value *v)
{
    static const char *const names[] = {"null",   "false", "true",  "a number",
                                        "a string", "an array", "an object"};
    return v->type < KB_ARRAY_LEN(names) ? names[v->type] : "?";
}

/* The member, or NULL when absent or null. */
static const struct json_value *member(const struct json_value *obj, const char *key)
{
    const struct json_value *v = json_get(obj, key);
    return v && v->type != JSON_NULL ? v : NULL;
}

kb_err feed_str(const struct json_value *obj, const char *key, bool required, const char *where,
                struct kb_str *out, struct kb_why *why)
{
    *out = KB_STR_NULL;
    const struct json_value *v = member(obj, key);
    if (!v)
        return required ? kb_fail(why, KB_EINVAL, "%s.%s: missing", where, key) : KB_OK;
    if (v->type != JSON_STRING)
        return kb_fail(why, KB_EINVAL, "%s.%s: not a string but %s", where, key, type_name(v));
    *out = json_str(v);
    return KB_OK;
}

kb_err feed_arr(const struct json_value *obj, const char *key, const char *where,
                const struct json_value **out, struct kb_why *why)
{
    *out = NULL;
    const struct json_value *v = member(obj, key);
    if (v && v->type != JSON_ARRAY)
        return kb_fail(why, KB_EINVAL, "%s.%s: not an array but %s", where, key, type_name(v));
    if (v && v->len > OSV_MAX_ITEMS)
        return kb_fail(why, KB_ETOOBIG, "%s.%s: %u elements, over %d", where, key, v->len,
                       OSV_MAX_ITEMS);
    *out = v;
    return KB_OK;
}

kb_err feed_obj(const struct json_value *obj, const char *key, const char *where,
                const struct json_value **out, struct kb_why *why)
{
    *out = NULL;
    const struct json_value *v = member(obj, key);
    if (v && v->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, "%s.%s: not an object but %s", where, key, type_name(v));
    *out = v;
    return KB_OK;
}

/* ---- times and text ---- */

kb_err feed_time(struct kb_str s, int64_t *ms)
{
    /* kb_time_parse_rfc3339 reads a time without a zone as UTC, which is
     * what NVD means by its zone-less times. */
    if (kb_str_empty(s) || s.n > 64)
        return KB_EINVAL;
    return kb_time_parse_rfc3339(s, ms);
}

kb_err feed_date(struct kb_str s, int64_t *ms)
{
    if (s.n != 10 || s.p[4] != '-' || s.p[7] != '-')
        return KB_EINVAL;
    char t[32];
    memcpy(t, s.p, 10);
    memcpy(t + 10, "T00:00:00Z", 11);
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (t[i] < '0' || t[i] > '9'))
            return KB_EINVAL;
    return kb_time_parse_rfc3339((struct kb_str){t, 20}, ms);
}

void feed_put_time(struct jw *w, const char *key, int64_t ms)
{
    char t[32];
    kb_time_format(ms, t);
    jw_kv_str(w, key, t);
}

/* Length of s[0..n) cut to at most max bytes on a UTF-8 boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

void feed_put_text(struct jw *w, struct kb_str s, bool with_details)
{
    if (kb_str_empty(s))
        return;
    /* skip leading white space; the summary is one line */
    size_t a = 0;
    while (a < s.n && (s.p[a] == ' ' || s.p[a] == '\n' || s.p[a] == '\r' || s.p[a] == '\t'))
        a++;
    size_t n = utf8_cut(s.p + a, s.n - a, FEED_SUMMARY_MAX);
    char line[FEED_SUMMARY_MAX + 1];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s.p[a + i];
        if (c == '\r' || c == '\n' || c == '\t')
            c = ' ';
        if (c == ' ' && o > 0 && line[o - 1] == ' ')
            continue;
        line[o++] = c;
    }
    while (o > 0 && line[o - 1] == ' ')
        o--;
    if (o > 0) {
        jw_key(w, "summary");
        jw_strn(w, line, o);
    }
    if (with_details) {
        jw_key(w, "details");
        jw_strn(w, s.p, s.n);
    }
}

/* ---- CPE ---- */

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

/* Splits the next ':'-separated component of s starting at *pos, decoding
 * 2.3 backslash escapes (uri false) or 2.2 %xx escapes (uri true), lower
 * casing when asked. false when it does not fit or an escape is bad. */
static bool cpe_field(struct kb_str s, size_t *pos, bool uri, bool lower, char *out, size_t outsz,
                      size_t *outn)
{
    size_t i = *pos, o = 0;
    while (i < s.n && s.p[i] != ':') {
        char c = s.p[i++];
        if (!uri && c == '\\') {
            if (i >= s.n)
                return false;
            c = s.p[i++];
        } else if (uri && c == '%') {
            int h = i + 1 < s.n ? hexval(s.p[i]) : -1, l = h >= 0 ? hexval(s.p[i + 1]) : -1;
            if (h < 0 || l < 0)
                return false;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (lower && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c == '\0' || o + 1 >= outsz)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    *outn = o;
    *pos = i < s.n ? i + 1 : i; /* past the ':' */
    return true;
}

kb_err feed_cpe_parse(struct kb_str s, struct feed_cpe *c, struct kb_why *why)
{
    memset(c, 0, sizeof *c);
    bool uri;
    size_t pos;
    if (s.n > 8 && memcmp(s.p, "cpe:2.3:", 8) == 0) {
        uri = false;
        pos = 8;
    } else if (s.n > 5 && memcmp(s.p, "cpe:/", 5) == 0) {
        uri = true;
        pos = 5;
    } else {
        return kb_fail(why, KB_EINVAL, "'%.*s': not a CPE 2.3 or 2.2 name", (int)KB_MIN(s.n, 80),
                       s.p ? s.p : "");
    }
    char part[8], vendor[FEED_NAME_MAX], product[FEED_NAME_MAX];
    size_t np, nv, npr, nver;
    if (!cpe_field(s, &pos, uri, true, part, sizeof part, &np) || np != 1 ||
        !strchr("aoh", part[0]) ||
        !cpe_field(s, &pos, uri, true, vendor, sizeof vendor, &nv) ||
        !cpe_field(s, &pos, uri, true, product, sizeof product, &npr) || nv == 0 || npr == 0 ||
        nv + npr + 2 > sizeof c->name ||
        !cpe_field(s, &pos, uri, false, c->version, sizeof c->version, &nver))
        return kb_fail(why, KB_EINVAL, "'%.*s': malformed CPE name", (int)KB_MIN(s.n, 80), s.p);
    if (!strcmp(vendor, "*") || !strcmp(product, "*"))
        return kb_fail(why, KB_EINVAL, "'%.*s': CPE without vendor or product",
                       (int)KB_MIN(s.n, 80), s.p);
    c->part = part[0];
    snprintf(c->name, sizeof c->name, "%s:%s", vendor, product);
    if (!strcmp(c->version, "*") || !strcmp(c->version, "-"))
        c->version[0] = '\0';
    return KB_OK;
}

void feed_put_cpe_entry(struct feed_rec *r, const struct feed_cpe *c,
                        const struct feed_cpe_range *rg, struct kb_str criteria)
{
    struct jw *w = &r->w;
    bool has_range = rg && (!kb_str_empty(rg->start_incl) || !kb_str_empty(rg->start_excl) ||
                            !kb_str_empty(rg->end_incl) || !kb_str_empty(rg->end_excl));
    jw_obj_begin(w);
    jw_key(w, "package");
    jw_obj_begin(w);
    jw_kv_str(w, "ecosystem", "CPE");
    jw_kv_str(w, "name", c->name);
    jw_obj_end(w);
    if (has_range) {
        jw_key(w, "ranges");
        jw_arr_begin(w);
        jw_obj_begin(w);
        jw_kv_str(w, "type", "ECOSYSTEM");
        jw_key(w, "events");
        jw_arr_begin(w);
        jw_obj_begin(w);
        if (!kb_str_empty(rg->start_incl))
            jw_kv_kstr(w, "introduced", rg->start_incl);
        else if (!kb_str_empty(rg->start_excl))
            jw_kv_kstr(w, "introduced", rg->start_excl);
        else
            jw_kv_str(w, "introduced", "0");
        jw_obj_end(w);
        /* OSV allows one of fixed / last_affected per range: an exclusive
         * end is the more precise of the two when both are given. */
        if (!kb_str_empty(rg->end_excl) || !kb_str_empty(rg->end_incl)) {
            jw_obj_begin(w);
            if (!kb_str_empty(rg->end_excl))
                jw_kv_kstr(w, "fixed", rg->end_excl);
            else
                jw_kv_kstr(w, "last_affected", rg->end_incl);
            jw_obj_end(w);
        }
        jw_arr_end(w);
        jw_obj_end(w);
        jw_arr_end(w);
    } else if (c->version[0]) {
        jw_key(w, "versions");
        jw_arr_begin(w);
        jw_str(w, c->version);
        jw_arr_end(w);
    } else {
        r->suspected = true;
    }
    jw_key(w, "database_specific");
    jw_obj_begin(w);
    if (!kb_str_empty(criteria))
        jw_kv_kstr(w, "cpe", criteria);
    if (has_range && kb_str_empty(rg->start_incl) && !kb_str_empty(rg->start_excl))
        jw_kv_kstr(w, "start_excluding", rg->start_excl);
    jw_obj_end(w);
    jw_obj_end(w);
    if (!kb_str_empty(criteria))
        feed_strs_add(&r->cpe, criteria.p, criteria.n);
}
