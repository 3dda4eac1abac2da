/*
 * policy_eval.c — evaluating the policy set on one alert: the alert view
 * Sigma matches against, the cidr condition, identity fingerprints, and the
 * actions in the documented order (docs/POLICIES.md, "Evaluation").
 *
 * Nothing here allocates. The view is a JSON object built in the set's
 * scratch whose members point at the alert's strings; `raw` is a shallow
 * copy of the root of the parsed original (so its members are shared, not
 * copied), or the original text for text sources. Its key summary (json.h)
 * is all ones, which makes json_getn compare keys instead of trusting a
 * summary that was never computed.
 */
#include "rules/policy_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack; header and library ship together */
#include <xxhash.h>

#define WALK_BUDGET 4096 /* nodes one path lookup may visit */
#define WALK_DEPTH 64

/* ---- the view ---- */

static void view_add(struct json_value *root, uint32_t *n, const char *key, size_t key_len,
                     struct kb_str v)
{
    if (kb_str_empty(v) || *n >= POLICY_VIEW_MAX)
        return;
    struct json_value *m = &root[1 + *n];
    memset(m, 0, sizeof *m);
    m->type = JSON_STRING;
    m->len = (uint32_t)KB_MIN(v.n, (size_t)UINT32_MAX);
    m->key = key;
    m->key_len = (uint32_t)key_len;
    m->u.str = v.p;
    if (*n > 0)
        root[*n].next = m;
    (*n)++;
}

static const struct json_value *build_view(struct policy_scratch *sc, const struct alert *a)
{
    /* The alert's own members in alert_get's names, read straight from the
     * struct: looking each name up by strcmp showed in ingest profiles. */
#define VIEW_KEY(s) s, sizeof s - 1
    const struct {
        const char *key;
        size_t len;
        struct kb_str v;
    } core[] = {
        {VIEW_KEY("source"), kb_str_c(a->source)},
        {VIEW_KEY("kind"), a->kind},
        {VIEW_KEY("native_id"), a->native_id},
        {VIEW_KEY("title"), a->title},
        {VIEW_KEY("description"), a->description},
        {VIEW_KEY("native_severity"), a->native_severity},
        {VIEW_KEY("severity"), kb_str_c(kb_severity_name(a->severity))},
        {VIEW_KEY("account"), a->account},
        {VIEW_KEY("region"), a->region},
        {VIEW_KEY("resource"), a->resource},
        {VIEW_KEY("actor.user"), a->actor_user},
        {VIEW_KEY("actor.ip"), a->actor_ip},
        {VIEW_KEY("host"), a->host},
        {VIEW_KEY("outcome"), a->outcome},
        {VIEW_KEY("state"), a->state},
    };
#undef VIEW_KEY
    struct json_value *root = sc->view;
    memset(root, 0, sizeof *root);
    uint32_t n = 0;
    for (size_t i = 0; i < KB_ARRAY_LEN(core); i++)
        view_add(root, &n, core[i].key, core[i].len, core[i].v);
    for (uint32_t i = 0; i < a->nfields; i++) {
        const char *name = a->fields[i].name;
        size_t len = strlen(name);
        if (len != 3 || memcmp(name, "raw", 3) != 0)
            view_add(root, &n, name, len, a->fields[i].value);
    }
    if (a->json && n < POLICY_VIEW_MAX) {
        struct json_value *m = &root[1 + n];
        *m = *a->json;
        m->key = "raw";
        m->key_len = 3;
        m->next = NULL;
        if (n > 0)
            root[n].next = m;
        n++;
    } else {
        view_add(root, &n, "raw", 3, a->raw);
    }
    root->type = JSON_OBJECT;
    root->len = n;
    root->i = -1; /* key summary: every key may be present */
    root->u.child = n ? &root[1] : NULL;
    return root;
}

/* ---- path walking (cidr, severity.from) ---- */

/* Called for each scalar a path reaches; true stops the walk. */
typedef bool (*policy_leaf_fn)(void *ctx, const struct json_value *v, const char *input);

struct walk {
    policy_leaf_fn fn;
    void *ctx;
    const char *input;
    unsigned budget;
};

static bool all_digits(const char *p, size_t n)
{
    if (n == 0 || n > 9)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static bool walk(struct walk *w, const struct json_value *v, const char *p, const char *end,
                 int depth)
{
    if (!v || w->budget == 0 || depth > WALK_DEPTH)
        return false;
    w->budget--;
    const char *dot = p < end ? memchr(p, '.', (size_t)(end - p)) : NULL;
    size_t n = p < end ? (dot ? (size_t)(dot - p) : (size_t)(end - p)) : 0;
    const char *rest = dot ? dot + 1 : end;
    if (v->type == JSON_ARRAY) {
        if (all_digits(p, n)) { /* an index: "items.0.cidrIp" */
            size_t idx = strtoul(p, NULL, 10);
            const struct json_value *c = v->u.child;
            while (c && idx--)
                c = c->next;
            return walk(w, c, rest, end, depth + 1);
        }
        /* Any other segment (or the end of the path) applies to every
         * element: "items.ipRanges.items.cidrIp" searches nested lists. */
        for (const struct json_value *c = v->u.child; c; c = c->next)
            if (walk(w, c, p, end, depth + 1))
                return true;
        return false;
    }
    if (p >= end)
        return v->type != JSON_OBJECT && w->fn(w->ctx, v, w->input);
    if (v->type != JSON_OBJECT || n == 0)
        return false;
    return walk(w, json_getn(v, p, n), rest, end, depth + 1);
}

/* Walks path in the view: the exact key first ("actor.user"), else one
 * member per segment; arrays along the path and at its end are searched
 * element by element (bounded by WALK_BUDGET). True when fn stopped it. */
static bool policy_walk(const struct json_value *root, const char *input, const char *path,
                        size_t pathlen, policy_leaf_fn fn, void *ctx)
{
    struct walk w = {fn, ctx, input, WALK_BUDGET};
    const char *end = path + pathlen;
    const struct json_value *exact = json_getn(root, path, pathlen);
    if (exact) /* "actor.user", "mark.sra-remediated-event-time" */
        return walk(&w, exact, end, end, 0);
    return walk(&w, root, path, end, 0);
}

/* A scalar's text: strings as they are, numbers as written in the input. */
static struct kb_str leaf_text(const struct json_value *v, const char *input, size_t inlen)
{
    switch (v->type) {
    case JSON_STRING:
        return (struct kb_str){v->u.str, v->len};
    case JSON_TRUE:
        return KB_STR_LIT("true");
    case JSON_FALSE:
        return KB_STR_LIT("false");
    case JSON_NUMBER:
        if (input && v->src_len && (size_t)v->src_off + v->src_len <= inlen)
            return (struct kb_str){input + v->src_off, v->src_len};
        return KB_STR_NULL;
    default:
        return KB_STR_NULL;
    }
}

/* ---- cidr ---- */

struct cidr_ctx {
    const struct policy_cidr *c;
    size_t inlen;
};

/* "10.0.0.0/8", "fe80::/10", or a bare address (a host: /32, /128). */
static bool cidr_leaf(void *ctx, const struct json_value *v, const char *input)
{
    struct cidr_ctx *cc = ctx;
    struct kb_str t = leaf_text(v, input, cc->inlen);
    if (v->type != JSON_STRING || t.n == 0 || t.n > 64)
        return false;
    const char *slash = memchr(t.p, '/', t.n);
    size_t alen = slash ? (size_t)(slash - t.p) : t.n;
    char addr[64];
    unsigned char bin[16];
    if (alen == 0 || alen >= sizeof addr)
        return false;
    memcpy(addr, t.p, alen);
    addr[alen] = '\0';
    int fam = inet_pton(AF_INET, addr, bin) == 1 ? 4 : inet_pton(AF_INET6, addr, bin) == 1 ? 6 : 0;
    if (!fam || (cc->c->family && cc->c->family != fam))
        return false;
    int maxbits = fam == 4 ? 32 : 128, bits = maxbits;
    if (slash) {
        const char *d = slash + 1, *end = t.p + t.n;
        if (d == end || end - d > 3)
            return false;
        bits = 0;
        for (; d < end; d++) {
            if (*d < '0' || *d > '9')
                return false;
            bits = bits * 10 + (*d - '0');
        }
        if (bits > maxbits)
            return false;
    }
    return bits >= cc->c->min && bits <= cc->c->max;
}

static bool cidr_match(const struct policy_cidr *c, const struct json_value *root,
                       const struct alert *a)
{
    struct cidr_ctx cc = {c, a->raw.n};
    for (uint32_t i = 0; i < c->nfields; i++)
        if (policy_walk(root, a->raw.p, c->fields[i], c->fieldlens[i], cidr_leaf, &cc))
            return true;
    return false;
}

/* ---- severity actions ---- */

struct first_leaf {
    const struct json_value *v;
};

static bool first_leaf(void *ctx, const struct json_value *v, const char *input)
{
    ((struct first_leaf *)ctx)->v = v;
    return true;
}

static int sev_apply(const struct sev_action *s, int cur, const struct json_value *root,
                     const struct alert *a)
{
    switch (s->op) {
    case SEV_SET:
        return s->value;
    case SEV_RAISE:
        return KB_MIN(cur + s->value, KB_SEV_CRITICAL);
    case SEV_LOWER:
        return KB_MAX(cur - s->value, KB_SEV_NONE);
    case SEV_MAP:
    case SEV_BANDS:
        break;
    default:
        return cur;
    }
    struct first_leaf fl = {NULL};
    policy_walk(root, a->raw.p, s->from, s->fromlen, first_leaf, &fl);
    if (fl.v && s->op == SEV_MAP) {
        struct kb_str t = leaf_text(fl.v, a->raw.p, a->raw.n);
        for (uint32_t i = 0; t.p && i < s->nrows; i++)
            if (s->rows[i].keylen == t.n && strncasecmp(s->rows[i].key, t.p, t.n) == 0)
                return s->rows[i].sev;
    } else if (fl.v) {
        double x;
        if (json_as_double(fl.v, &x))
            for (uint32_t i = 0; i < s->nbands; i++)
                if (x >= s->bands[i].min && x < s->bands[i].max)
                    return s->bands[i].sev;
    }
    return s->def >= 0 ? s->def : cur;
}

/* ---- identity ---- */

/* Appends sep, name, "=" and value (at most 512 bytes of it) to text at
 * used, cut at textsz - 1 and NUL-terminated; returns the new length.
 * (snprintf here showed in ingest profiles.) */
static size_t text_put(char *text, size_t textsz, size_t used, struct kb_str sep,
                       struct kb_str name, struct kb_str v)
{
    struct kb_str parts[4] = {sep, name, KB_STR_LIT("="), {v.p, KB_MIN(v.n, (size_t)512)}};
    for (size_t i = 0; i < 4; i++) {
        size_t room = textsz - 1 - used, n = KB_MIN(parts[i].n, room);
        if (n)
            memcpy(text + used, parts[i].p, n);
        used += n;
    }
    text[used] = '\0';
    return used;
}

/* The bytes hashed for an identity, gathered here and hashed in one call
 * when they fit (almost always); longer inputs go through a streaming
 * state piece by piece. Both give the same hash: XXH3's streaming digest
 * equals the one-shot hash of the concatenated input. */
#define FP_BUF 1024

struct fp_hash {
    unsigned char buf[FP_BUF];
    size_t used;
    bool streaming;
    XXH3_state_t st;
};

static void fp_put(struct fp_hash *h, const void *p, size_t n)
{
    if (!h->streaming && n <= FP_BUF - h->used) {
        memcpy(h->buf + h->used, p, n);
        h->used += n;
        return;
    }
    if (!h->streaming) {
        XXH3_INITSTATE(&h->st);
        XXH3_128bits_reset(&h->st);
        XXH3_128bits_update(&h->st, h->buf, h->used);
        h->streaming = true;
    }
    XXH3_128bits_update(&h->st, p, n);
}

static void fp_put_str(struct fp_hash *h, const char *p, uint32_t n)
{
    if (!h->streaming && (size_t)n + sizeof n <= FP_BUF - h->used) {
        memcpy(h->buf + h->used, &n, sizeof n); /* fixed size: no call */
        if (n)
            memcpy(h->buf + h->used + sizeof n, p, n);
        h->used += sizeof n + n;
        return;
    }
    fp_put(h, &n, sizeof n);
    if (n)
        fp_put(h, p, n);
}

void policy_fingerprint(const struct alert *a, const char *const *names, uint8_t fp[16], char *text,
                        size_t textsz)
{
    /* Keep in step with issue_identity (src/issues/issue.c). */
    struct fp_hash h;
    h.used = 0;
    h.streaming = false;
    const char *src = a->source ? a->source : "";
    fp_put_str(&h, src, (uint32_t)strlen(src));
    size_t used = 0;
    if (text && textsz)
        text[0] = '\0';
    for (const char *const *k = names; k && *k; k++) {
        struct kb_str v = alert_get(a, *k);
        struct kb_str name = kb_str_c(*k);
        fp_put_str(&h, name.p, (uint32_t)name.n);
        fp_put_str(&h, v.p, (uint32_t)v.n);
        if (text && used + 1 < textsz) /* "name=value" pieces, cut at textsz */
            used = text_put(text, textsz, used, used ? KB_STR_LIT(" ") : KB_STR_LIT(""), name, v);
    }
    XXH128_hash_t hv = h.streaming ? XXH3_128bits_digest(&h.st) : XXH3_128bits(h.buf, h.used);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, hv);
    memcpy(fp, c.digest, 16);
    if (text && textsz && !used)
        snprintf(text, textsz, "(no identity fields)");
}

/* ---- evaluation ---- */

static bool source_in(const struct policy *p, const char *source)
{
    for (uint32_t i = 0; i < p->nsources; i++)
        if (p->sources[i] == source ||
            (source && p->sources[i][0] == source[0] && strcmp(p->sources[i], source) == 0))
            return true;
    return false;
}

struct counter {
    const struct policy_state *st;
    const uint8_t *fp;
    struct policy_result *res;
    bool have_ever;
    uint64_t ever;
};

/* Occurrences before this alert since since_ms; false when unknown. */
static bool count(struct counter *c, int64_t since_ms, uint64_t *n)
{
    if (!c->st || !c->st->occurrences)
        return false;
    c->res->state_used = true;
    if (since_ms == INT64_MIN && c->have_ever) {
        *n = c->ever;
        return true;
    }
    if (c->st->occurrences(c->st->ctx, c->fp, since_ms, n) != KB_OK) {
        c->res->state_error = true;
        return false;
    }
    if (since_ms == INT64_MIN) {
        c->have_ever = true;
        c->ever = c->res->prior = *n;
    }
    return true;
}

static void apply_meta(struct policy_result *res, const struct policy *p, const struct alert *a,
                       int64_t now_ms)
{
    if (p->has_mute) {
        if (p->mute_until_ms == 0 || p->mute_until_ms > now_ms) {
            if (!res->muted) {
                res->muted = true;
                res->mute_reason = p->mute_reason;
                res->mute_until_ms = p->mute_until_ms;
                res->mute_policy = p->id;
            }
        } else if (!res->expired_mute_policy) {
            res->expired_mute_policy = p->id;
        }
    }
    if (p->has_close && !res->close) {
        res->close = true;
        res->close_reason = p->close_reason;
        res->close_policy = p->id;
        policy_fingerprint(a, p->close_identity ? p->close_identity : res->identity, res->close_fp,
                           res->close_identity, sizeof res->close_identity);
    }
    for (uint32_t i = 0; i < p->nlabels; i++) {
        uint32_t j = 0;
        while (j < res->nlabels && strcmp(res->labels[j].key, p->labels[i].key) != 0)
            j++;
        if (j < res->nlabels)
            res->labels[j] = p->labels[i];
        else if (res->nlabels < POLICY_MAX_LABELS)
            res->labels[res->nlabels++] = p->labels[i];
    }
    for (uint32_t i = 0; i < p->nannotations && res->nannotations < POLICY_MAX_ANNOTATIONS; i++)
        res->annotations[res->nannotations++] = p->annotations[i];
}

static int apply_severity(const struct policy *p, int sev, const struct json_value *root,
                          const struct alert *a, struct counter *cnt, int64_t t)
{
    sev = sev_apply(&p->sev, sev, root, a);
    uint64_t n;
    /* first_only only ever lowers: repeats never become louder. */
    if (p->first_only.op && count(cnt, INT64_MIN, &n) && n > 0)
        sev = KB_MIN(sev, sev_apply(&p->first_only, sev, root, a));
    /* escalate only ever raises. */
    if (p->has_escalate && count(cnt, p->esc_within_ms ? t - p->esc_within_ms : INT64_MIN, &n) &&
        n + 1 >= p->esc_after)
        sev = KB_MAX(sev, sev_apply(&p->esc, sev, root, a));
    return sev;
}

kb_err policy_eval(struct policy_set *ps, const struct alert *a, const struct policy_state *st,
                   int64_t now_ms, struct policy_result *res)
{
    if (!ps || !a || !res)
        return KB_EINVAL;
    memset(res, 0, sizeof *res);
    res->initial = res->severity = a->severity;
    const struct json_value *root = build_view(&ps->sc, a);
    struct sigma_event ev = {root, a->raw.p, a->raw.n};

    /* 1. Which policies match, in load order (a `stop` ends the list). */
    const struct policy **m = ps->sc.matched;
    uint32_t nm = 0;
    for (size_t i = 0; i < ps->npol; i++) {
        const struct policy *p = ps->pol[i];
        if (p->nsources && !source_in(p, a->source))
            continue;
        bool hit = true;
        if (p->rule)
            sigma_match(p->rule, &ev, &hit); /* a regex limit hit reads as no match */
        if (!hit || (p->has_cidr && !cidr_match(&p->cidr, root, a)))
            continue;
        m[nm++] = p;
        if (p->stop)
            break;
    }
    res->nmatched = nm;

    /* 2. Identity: the last policy that names one. */
    res->identity = a->identity;
    for (uint32_t i = 0; i < nm; i++)
        if (m[i]->identity) {
            res->identity = m[i]->identity;
            res->identity_policy = m[i]->id;
        }
    policy_fingerprint(a, res->identity, res->fp, res->identity_text, sizeof res->identity_text);

    /* 3. Mute, close, labels, annotations; 4. severity, in order. */
    int64_t t = a->time_ms ? a->time_ms : now_ms;
    struct counter cnt = {st, res->fp, res, false, 0};
    int sev = a->severity;
    for (uint32_t i = 0; i < nm; i++) {
        apply_meta(res, m[i], a, now_ms);
        sev = apply_severity(m[i], sev, root, a, &cnt, t);
        if (i < POLICY_MAX_APPLIED) {
            res->applied[i].id = m[i]->id;
            res->applied[i].severity = sev;
            res->napplied = i + 1;
        }
    }
    res->severity = sev;

    /* 5. Record the occurrence (a closing event is not one). */
    if (!res->close && st && st->record && st->record(st->ctx, res->fp, t) != KB_OK)
        res->state_error = true;
    return KB_OK;
}
