/*
 * sigma_match.c — evaluating a compiled rule on one event.
 *
 * Nothing here allocates: text comparisons run on the event's bytes against
 * needles lowercased at load time (ASCII case folding), numbers are
 * formatted into a stack buffer when the event text is not at hand, and
 * regexes use the ruleset's one PCRE2 match block.
 */
#include "rules/rules_field.h"
#include "rules/sigma_impl.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

struct mctx {
    const struct sigma_event *ev;
    struct sigma_scratch *sc;
    bool limited;
    bool prefilter; /* skip a regex whose required literal is absent */
};

static inline char lc(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
}

/* t[0..n) equals the needle s (already lowercased unless cased). */
static bool eqn(const char *t, const char *s, size_t n, bool cased)
{
    if (cased)
        return memcmp(t, s, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (lc(t[i]) != s[i])
            return false;
    return true;
}

static bool find(const char *t, size_t tn, const char *s, size_t n, bool cased)
{
    if (n == 0)
        return true;
    if (tn < n)
        return false;
    if (cased)
        return memmem(t, tn, s, n) != NULL;
    char f = s[0];
    for (size_t i = 0; i + n <= tn; i++)
        if (lc(t[i]) == f && eqn(t + i + 1, s + 1, n - 1, false))
            return true;
    return false;
}

static size_t utf8_len(unsigned char c0)
{
    return c0 < 0xc0 ? 1 : c0 < 0xe0 ? 2 : c0 < 0xf0 ? 3 : 4;
}

bool sigma_glob(const struct gseg *g, uint32_t ng, const char *t, size_t tn, bool cased)
{
    uint32_t i = 0, si = UINT32_MAX;
    size_t j = 0, sj = 0;
    for (;;) {
        if (i < ng && g[i].type == G_STAR) {
            si = i++;
            sj = j;
            continue;
        }
        if (i == ng) {
            if (j == tn || (ng && g[ng - 1].type == G_STAR))
                return true;
        } else if (g[i].type == G_LIT) {
            if (tn - j >= g[i].n && eqn(t + j, g[i].s, g[i].n, cased)) {
                j += g[i].n;
                i++;
                continue;
            }
        } else if (j < tn) { /* G_ONE: one character (UTF-8 sequence) */
            j += KB_MIN(utf8_len((unsigned char)t[j]), tn - j);
            i++;
            continue;
        }
        if (si == UINT32_MAX || sj >= tn)
            return false;
        j = ++sj;
        i = si + 1;
    }
}

static bool str_match(const struct sv *v, const char *t, size_t tn)
{
    switch (v->how) {
    case H_EXACT:
        return tn == v->n && eqn(t, v->s, tn, v->cased);
    case H_PREFIX:
        return tn >= v->n && eqn(t, v->s, v->n, v->cased);
    case H_SUFFIX:
        return tn >= v->n && eqn(t + tn - v->n, v->s, v->n, v->cased);
    case H_CONTAINS:
        return find(t, tn, v->s, v->n, v->cased);
    default:
        return sigma_glob(v->segs, v->nsegs, t, tn, v->cased);
    }
}

/* A scalar's text: strings as they are, numbers as written in the event
 * (or formatted into buf), booleans as true/false. */
static bool scalar_text(const struct mctx *m, const struct json_value *v, char *buf, size_t bufsz,
                        struct kb_str *out)
{
    switch (v->type) {
    case JSON_STRING:
        *out = (struct kb_str){v->u.str, v->len};
        return true;
    case JSON_TRUE:
        *out = KB_STR_LIT("true");
        return true;
    case JSON_FALSE:
        *out = KB_STR_LIT("false");
        return true;
    case JSON_NUMBER:
        if (m->ev->text && v->src_len && (size_t)v->src_off + v->src_len <= m->ev->len) {
            *out = (struct kb_str){m->ev->text + v->src_off, v->src_len};
        } else {
            int w = (v->flags & JSON_F_INT) ? snprintf(buf, bufsz, "%lld", (long long)v->i)
                                            : snprintf(buf, bufsz, "%.17g", v->d);
            *out = (struct kb_str){buf, w > 0 ? (size_t)KB_MIN((size_t)w, bufsz - 1) : 0};
        }
        return true;
    default:
        return false;
    }
}

static bool num_of(const struct json_value *v, double *d)
{
    return json_as_double(v, d);
}

static bool cmp(double a, uint8_t op, double b)
{
    switch (op) {
    case OP_LT: return a < b;
    case OP_LTE: return a <= b;
    case OP_GT: return a > b;
    case OP_GTE: return a >= b;
    default: return a == b;
    }
}

static int64_t days_from_civil(int64_t y, unsigned mo, unsigned d)
{
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (mo + (mo > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ISO 8601 week number of a date. */
static int iso_week(int64_t y, unsigned mo, unsigned d)
{
    int64_t days = days_from_civil(y, mo, d);
    int wd = (int)(((days % 7) + 7 + 3) % 7) + 1; /* 1970-01-01 was a Thursday; Mon=1 */
    int yday = (int)(days - days_from_civil(y, 1, 1)) + 1;
    int w = (yday - wd + 10) / 7;
    if (w < 1) {
        int64_t py = y - 1;
        int jan1 = (int)(((days_from_civil(py, 1, 1) % 7) + 7 + 3) % 7) + 1;
        return jan1 == 4 || (leap(py) && jan1 == 3) ? 53 : 52;
    }
    int jan1 = (int)(((days_from_civil(y, 1, 1) % 7) + 7 + 3) % 7) + 1;
    int weeks = jan1 == 4 || (leap(y) && jan1 == 3) ? 53 : 52;
    return w > weeks ? 1 : w;
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Extracts a time part from "YYYY-MM-DD[T ]HH:MM..." (as written, no
 * time-zone conversion) or from a number of seconds (milliseconds above
 * 1e11) since the epoch, read as UTC. */
static bool time_part(const struct json_value *v, uint8_t part, double *out)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0;
    if (v->type == JSON_STRING && v->len >= 10) {
        const char *s = v->u.str;
        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
            !digits(s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
            return false;
        if (v->len >= 16 && (s[10] == 'T' || s[10] == ' ' || s[10] == 't')) {
            if (!digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi))
                return false;
        } else if (part == TP_MINUTE || part == TP_HOUR) {
            return false;
        }
    } else if (v->type == JSON_NUMBER) {
        double t = v->d;
        if (!isfinite(t) || fabs(t) > 1e15)
            return false;
        if (fabs(t) > 1e11)
            t /= 1000;
        int64_t secs = (int64_t)floor(t), days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
        int64_t sod = secs - days * 86400;
        h = (int)(sod / 3600);
        mi = (int)(sod % 3600 / 60);
        /* civil from days */
        int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        d = (int)(doy - (153 * mp + 2) / 5 + 1);
        mo = (int)(mp < 10 ? mp + 3 : mp - 9);
        y = (int)((int64_t)yoe + era * 400 + (mo <= 2));
    } else {
        return false;
    }
    switch (part) {
    case TP_MINUTE: *out = mi; break;
    case TP_HOUR: *out = h; break;
    case TP_DAY: *out = d; break;
    case TP_WEEK: *out = iso_week(y, (unsigned)mo, (unsigned)d); break;
    case TP_MONTH: *out = mo; break;
    default: *out = y; break;
    }
    return true;
}

static bool cidr_match(const struct sv *v, const struct json_value *jv)
{
    char tmp[64];
    unsigned char addr[16];
    if (jv->type != JSON_STRING || jv->len == 0 || jv->len >= sizeof tmp)
        return false;
    memcpy(tmp, jv->u.str, jv->len);
    tmp[jv->len] = '\0';
    if (inet_pton(v->fam == 4 ? AF_INET : AF_INET6, tmp, addr) != 1)
        return false;
    unsigned full = v->bits / 8, rest = v->bits % 8;
    if (memcmp(addr, v->addr, full) != 0)
        return false;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((addr[full] & mask) != (v->addr[full] & mask))
            return false;
    }
    return true;
}

static bool re_match(struct mctx *m, const struct sv *v, const char *t, size_t tn)
{
    /* sv_re_literal proved every match contains re_lit (ASCII-folded) */
    if (m->prefilter && v->re_lit && !find(t, tn, v->re_lit, v->re_lit_n, false))
        return false;
    int rc = pcre2_match(v->re, (PCRE2_SPTR)t, tn, 0, 0, m->sc->md, m->sc->mctx);
    if (rc >= 0)
        return true;
    if (rc != PCRE2_ERROR_NOMATCH) {
        m->limited = true; /* match, depth or heap limit: counts as no match */
        m->sc->stats.re_limited++;
    }
    return false;
}

/* One compiled value against one present JSON value (arrays: any element). */
static bool value_match(struct mctx *m, const struct sv *v, const struct json_value *jv)
{
    if (jv->type == JSON_ARRAY) {
        for (const struct json_value *e = jv->u.child; e; e = e->next)
            if (value_match(m, v, e))
                return true;
        return false;
    }
    char buf[40];
    struct kb_str t;
    double d;
    switch (v->kind) {
    case SV_STR:
        return scalar_text(m, jv, buf, sizeof buf, &t) && str_match(v, t.p, t.n);
    case SV_NUM:
        if (jv->type == JSON_NUMBER)
            return ((jv->flags & JSON_F_INT) ? (double)jv->i : jv->d) == v->num;
        return jv->type == JSON_STRING && jv->len == v->n && memcmp(jv->u.str, v->s, v->n) == 0;
    case SV_BOOL:
        if (jv->type == JSON_TRUE || jv->type == JSON_FALSE)
            return (jv->type == JSON_TRUE) == v->b;
        return jv->type == JSON_STRING && jv->len == (v->b ? 4u : 5u) &&
               strncasecmp(jv->u.str, v->b ? "true" : "false", jv->len) == 0;
    case SV_NULL:
        return jv->type == JSON_NULL;
    case SV_RE:
        return scalar_text(m, jv, buf, sizeof buf, &t) && re_match(m, v, t.p, t.n);
    case SV_CIDR:
        return cidr_match(v, jv);
    case SV_CMP:
        return num_of(jv, &d) && cmp(d, v->op, v->num);
    case SV_TIME:
        return time_part(jv, v->part, &d) && cmp(d, v->op, v->num);
    default:
        return false;
    }
}

static const struct json_value *lookup(const struct json_value *root, const char *f, uint32_t n,
                                       const char *alt, uint32_t an)
{
    const struct json_value *v = rules_field(root, f, n);
    if (!v && alt)
        v = rules_field(root, alt, an);
    return v;
}

static bool fieldref_match(struct mctx *m, const struct sv *v, const struct json_value *jv)
{
    const struct json_value *o = lookup(m->ev->root, v->s, v->n, v->alt, v->alt_n);
    char b1[40], b2[40];
    struct kb_str a, b;
    if (!o || !scalar_text(m, o, b2, sizeof b2, &b))
        return false;
    if (jv->type == JSON_ARRAY) {
        for (const struct json_value *e = jv->u.child; e; e = e->next)
            if (fieldref_match(m, v, e))
                return true;
        return false;
    }
    if (!scalar_text(m, jv, b1, sizeof b1, &a))
        return false;
    struct sv tmp = {.kind = SV_STR, .how = v->how, .cased = true, .s = b.p, .n = (uint32_t)b.n};
    if (v->cased || tmp.how == H_GLOB)
        return tmp.how == H_GLOB ? false : str_match(&tmp, a.p, a.n);
    /* case-insensitive: compare folded bytes without copying */
    size_t n = b.n;
    switch (v->how) {
    case H_PREFIX:
        return a.n >= n && strncasecmp(a.p, b.p, n) == 0;
    case H_SUFFIX:
        return a.n >= n && strncasecmp(a.p + a.n - n, b.p, n) == 0;
    case H_CONTAINS:
        for (size_t i = 0; i + n <= a.n; i++)
            if (strncasecmp(a.p + i, b.p, n) == 0)
                return true;
        return n == 0;
    default:
        return a.n == n && strncasecmp(a.p, b.p, n) == 0;
    }
}

static bool sv_on(struct mctx *m, const struct sv *v, const struct json_value *jv)
{
    if (v->kind == SV_NULL)
        return !jv || jv->type == JSON_NULL;
    if (!jv)
        return false;
    if (v->kind == SV_FIELDREF)
        return fieldref_match(m, v, jv);
    return value_match(m, v, jv);
}

/* The values of an item against one candidate value (NULL: absent). */
static bool item_on(struct mctx *m, const struct sitem *it, const struct json_value *jv)
{
    if (it->nvals && it->vals[0].kind == SV_EXISTS)
        return (jv != NULL) == it->vals[0].b;
    if (it->neq && (!jv || jv->type == JSON_NULL)) {
        /* `neq: null` asks for a present, non-null value; other neq values
         * need a value to differ from */
        return false;
    }
    bool any = false;
    if (it->all) {
        uint32_t i = 0;
        any = true;
        while (i < it->nvals && any) {
            uint32_t g = it->vals[i].group;
            bool hit = false;
            for (; i < it->nvals && it->vals[i].group == g; i++)
                if (!hit && sv_on(m, &it->vals[i], jv))
                    hit = true;
            any = hit;
        }
    } else {
        /* An exact string of another length cannot match a string: tested
         * here, a long list ("kind: [18 event names]") costs a compare of
         * lengths per value instead of a chain of calls. */
        bool str = jv && jv->type == JSON_STRING;
        for (uint32_t i = 0; i < it->nvals && !any; i++) {
            const struct sv *v = &it->vals[i];
            if (str && v->kind == SV_STR && v->how == H_EXACT && v->n != jv->len)
                continue;
            any = sv_on(m, v, jv);
        }
    }
    if (it->neq) {
        if (it->nvals && it->vals[0].kind == SV_NULL)
            return true; /* present and not null, checked above */
        return !any;
    }
    return any;
}

/* Dotted path that crosses arrays: every element is tried. */
static bool walk(struct mctx *m, const struct sitem *it, const struct json_value *v,
                 const char *p, const char *end, unsigned *found)
{
    if (p >= end) {
        (*found)++;
        return item_on(m, it, v);
    }
    const char *dot = memchr(p, '.', (size_t)(end - p));
    size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
    const char *rest = dot ? dot + 1 : end;
    if (v->type == JSON_OBJECT) {
        const struct json_value *c = json_getn(v, p, n);
        return c && walk(m, it, c, rest, end, found);
    }
    if (v->type == JSON_ARRAY) {
        for (const struct json_value *e = v->u.child; e; e = e->next)
            if (walk(m, it, e, p, end, found))
                return true;
    }
    return false;
}

/* Keywords: each string (and number) leaf of the event. */
static bool leaves(struct mctx *m, const struct sv *v, const struct json_value *jv)
{
    if (jv->type == JSON_OBJECT || jv->type == JSON_ARRAY) {
        for (const struct json_value *e = jv->u.child; e; e = e->next)
            if (leaves(m, v, e))
                return true;
        return false;
    }
    char buf[40];
    struct kb_str t;
    return (jv->type == JSON_STRING || jv->type == JSON_NUMBER) &&
           scalar_text(m, jv, buf, sizeof buf, &t) && str_match(v, t.p, t.n);
}

static bool item_match(struct mctx *m, const struct sitem *it)
{
    const struct json_value *root = m->ev->root;
    if (!it->field) {
        bool any = false;
        if (!root)
            return false;
        if (it->all) {
            uint32_t i = 0;
            any = true;
            while (i < it->nvals && any) {
                uint32_t g = it->vals[i].group;
                bool hit = false;
                for (; i < it->nvals && it->vals[i].group == g; i++)
                    hit = hit || leaves(m, &it->vals[i], root);
                any = hit;
            }
            return any;
        }
        for (uint32_t i = 0; i < it->nvals && !any; i++)
            any = leaves(m, &it->vals[i], root);
        return any;
    }
    const struct json_value *jv = lookup(root, it->field, it->field_n, it->alt, it->alt_n);
    if (jv || !root)
        return item_on(m, it, jv);
    /* not found directly: a dotted path may cross arrays */
    unsigned found = 0;
    if (memchr(it->field, '.', it->field_n) &&
        walk(m, it, root, it->field, it->field + it->field_n, &found))
        return true;
    if (!found && it->alt && memchr(it->alt, '.', it->alt_n) &&
        walk(m, it, root, it->alt, it->alt + it->alt_n, &found))
        return true;
    return found ? false : item_on(m, it, NULL);
}

static bool sel_match(struct mctx *m, const struct ssel *s)
{
    for (uint32_t a = 0; a < s->n; a++) {
        bool all = true;
        for (uint32_t i = 0; i < s->alts[a].n && all; i++)
            all = item_match(m, &s->alts[a].items[i]);
        if (all)
            return true;
    }
    return false;
}

static bool eval_node(struct mctx *m, const struct sigma_rule *r, uint32_t idx, uint64_t *done,
                      uint64_t *val)
{
    const struct cnode *n = &r->nodes[idx];
    switch (n->op) {
    case C_SEL: {
        uint64_t bit = (uint64_t)1 << n->a;
        if (!(*done & bit)) {
            *done |= bit;
            if (sel_match(m, &r->sels[n->a]))
                *val |= bit;
        }
        return (*val & bit) != 0;
    }
    case C_NOT:
        return !eval_node(m, r, n->a, done, val);
    case C_AND:
        for (uint32_t i = 0; i < n->n; i++)
            if (!eval_node(m, r, r->kids[n->a + i], done, val))
                return false;
        return true;
    default:
        for (uint32_t i = 0; i < n->n; i++)
            if (eval_node(m, r, r->kids[n->a + i], done, val))
                return true;
        return false;
    }
}

static bool eval(const struct sigma_rule *r, const struct sigma_event *ev, bool prefilter,
                 bool *limited)
{
    struct mctx m = {.ev = ev, .sc = r->sc, .prefilter = prefilter};
    uint64_t done = 0, val = 0;
    bool hit = eval_node(&m, r, r->root, &done, &val);
    r->sc->stats.evaluated++;
    if (hit)
        r->sc->stats.matched++;
    *limited = m.limited;
    return hit;
}

bool sigma_eval(const struct sigma_rule *r, const struct sigma_event *ev, bool *limited)
{
    return eval(r, ev, false, limited);
}

bool sigma_eval_prefiltered(const struct sigma_rule *r, const struct sigma_event *ev,
                            bool *limited)
{
    return eval(r, ev, true, limited);
}

bool sigma_scalar_text(const struct sigma_event *ev, const struct json_value *v, char *buf,
                       size_t bufsz, struct kb_str *out)
{
    struct mctx m = {.ev = ev};
    return scalar_text(&m, v, buf, bufsz, out);
}

kb_err sigma_match(const struct sigma_rule *r, const struct sigma_event *ev, bool *matched)
{
    bool limited = false;
    *matched = sigma_eval(r, ev, &limited);
    return limited ? KB_ETOOBIG : KB_OK;
}
