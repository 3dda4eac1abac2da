/*
 * fmt_alertmanager.c — Prometheus Alertmanager webhook payloads:
 *   {"version":"4","groupKey":...,"status":"firing","receiver":...,
 *    "alerts":[{"status","labels","annotations","startsAt","endsAt",
 *               "generatorURL","fingerprint"}, ...]}
 * One payload yields one koban alert per contained alert; each keeps the
 * whole payload as raw (the journal stores the payload once).
 *
 * Identity is the alert's label set, as in Alertmanager itself: the field
 * "labels_hash" is hex(XXH3_64bits) over the sorted "name=value\n" pairs,
 * so annotations (which change every evaluation) never split an issue.
 * The whole payload is checked before anything is emitted, so a malformed
 * alert rejects the payload instead of leaving half of it delivered.
 */
#include "formats/formats_internal.h"

#include <stdlib.h>
#include <xxhash.h>

#define AM "alertmanager"
#define AM_MAX_ALERTS 1000
#define AM_MAX_LABELS 128

static const char *const am_identity[] = {"kind", "labels_hash", NULL};

static int am_detect(const struct json_value *root)
{
    if (!fmt_arr(root, "alerts"))
        return 0;
    if (fmt_get(root, "groupKey") || fmt_get(root, "version"))
        return 95;
    if (fmt_get(root, "receiver") || fmt_get(root, "status"))
        return 80;
    return 40;
}

/* Checks one element of alerts[]; returns KB_OK or KB_EINVAL with why. */
static kb_err am_check(const struct json_value *al, size_t i, struct kb_why *why)
{
    if (al->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, AM ": alerts[%zu] is not an object", i);
    const struct json_value *labels = fmt_get(al, "labels");
    if (!labels)
        return kb_fail(why, KB_EINVAL, AM ": alerts[%zu]: field 'labels' missing", i);
    if (labels->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, AM ": alerts[%zu]: field 'labels' is not an object", i);
    if (labels->len > AM_MAX_LABELS)
        return kb_fail(why, KB_EINVAL, AM ": alerts[%zu]: more than %d labels", i,
                       AM_MAX_LABELS);
    for (const struct json_value *l = labels->u.child; l; l = l->next)
        if (l->type != JSON_STRING)
            return kb_fail(why, KB_EINVAL, AM ": alerts[%zu]: label '%.*s' is not a string", i,
                           (int)KB_MIN(l->key_len, 64u), l->key);
    struct kb_str name = json_str(fmt_get(labels, "alertname"));
    if (kb_str_empty(name))
        return kb_fail(why, KB_EINVAL, AM ": alerts[%zu]: label 'alertname' missing", i);
    const struct json_value *ann = fmt_get(al, "annotations");
    if (ann && ann->type != JSON_OBJECT && ann->type != JSON_NULL)
        return kb_fail(why, KB_EINVAL, AM ": alerts[%zu]: field 'annotations' is not an object",
                       i);
    return KB_OK;
}

static int label_cmp(const void *x, const void *y)
{
    const struct json_value *a = *(const struct json_value *const *)x;
    const struct json_value *b = *(const struct json_value *const *)y;
    size_t n = KB_MIN(a->key_len, b->key_len);
    int c = n ? memcmp(a->key, b->key, n) : 0;
    if (c)
        return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* Sorts the labels into *sorted (arena) and hashes "k=v\n" over them. */
static kb_err am_labels(const struct json_value *labels, struct arena *ar,
                        const struct json_value ***sorted, size_t *count, struct kb_str *hash)
{
    size_t n = labels->len, bytes = 0, i = 0;
    const struct json_value **v = arena_alloc(ar, (n ? n : 1) * sizeof *v);
    if (!v)
        return KB_ETOOBIG;
    for (const struct json_value *l = labels->u.child; l && i < n; l = l->next) {
        v[i++] = l;
        bytes += l->key_len + l->len + 2;
    }
    n = i;
    qsort(v, n, sizeof *v, label_cmp);
    char *text = arena_alloc(ar, bytes + 1);
    if (!text)
        return KB_ETOOBIG;
    size_t off = 0;
    for (i = 0; i < n; i++) {
        memcpy(text + off, v[i]->key, v[i]->key_len);
        off += v[i]->key_len;
        text[off++] = '=';
        if (v[i]->len)
            memcpy(text + off, v[i]->u.str, v[i]->len);
        off += v[i]->len;
        text[off++] = '\n';
    }
    *sorted = v;
    *count = n;
    return fmt_printf(ar, hash, "%016llx", (unsigned long long)XXH3_64bits(text, off));
}

static kb_err am_one(const struct json_value *root, const struct json_value *al,
                     struct kb_str raw, struct arena *ar, alert_emit_fn emit, void *ctx,
                     struct kb_why *why)
{
    const struct json_value *labels = fmt_get(al, "labels");
    const struct json_value **sorted = NULL;
    size_t nlabels = 0;
    struct kb_str hash = KB_STR_NULL;
    if (am_labels(labels, ar, &sorted, &nlabels, &hash) != KB_OK)
        return kb_fail(why, KB_ETOOBIG, AM ": arena limit reached");

    struct alert a;
    alert_init(&a, AM, am_identity);
    a.raw = raw;
    a.json = root;
    a.kind = json_str(fmt_get(labels, "alertname"));
    a.state = fmt_str(al, "status");
    if (kb_str_empty(a.state))
        a.state = fmt_str(root, "status");
    a.native_id = fmt_str(al, "fingerprint");
    a.native_severity = json_str(fmt_get(labels, "severity"));
    /* critical -> critical (Alertmanager's convention for "page now", as in
     * every other source); high/error -> high, warning -> medium, info ->
     * low; anything else (none, absent, unknown) -> none. */
    if (fmt_str_ieq(a.native_severity, "critical"))
        a.severity = KB_SEV_CRITICAL;
    else if (fmt_str_ieq(a.native_severity, "high") || fmt_str_ieq(a.native_severity, "error"))
        a.severity = KB_SEV_HIGH;
    else if (fmt_str_ieq(a.native_severity, "warning"))
        a.severity = KB_SEV_MEDIUM;
    else if (fmt_str_ieq(a.native_severity, "info"))
        a.severity = KB_SEV_LOW;
    a.title = fmt_str(al, "annotations.summary");
    if (kb_str_empty(a.title))
        a.title = a.kind;
    a.description = fmt_str(al, "annotations.description");
    static const char *const res_keys[] = {"instance", "job", NULL};
    static const char *const acct_keys[] = {"project", "namespace", "cluster", NULL};
    a.resource = fmt_first_str(labels, res_keys);
    a.account = fmt_first_str(labels, acct_keys);
    a.region = json_str(fmt_get(labels, "region"));
    fmt_time(fmt_str(al, "startsAt"), &a.time_ms);

    alert_add_field(&a, "labels_hash", hash);
    alert_add_field(&a, "receiver", fmt_str(root, "receiver"));
    alert_add_field(&a, "generator_url", fmt_str(al, "generatorURL"));
    struct kb_str ends = fmt_str(al, "endsAt");
    if (!kb_str_eq(ends, "0001-01-01T00:00:00Z"))
        alert_add_field(&a, "ends_at", ends);
    for (size_t i = 0; i < nlabels; i++) {
        const struct json_value *l = sorted[i];
        const char *name = fmt_name(ar, "label.", (struct kb_str){l->key, l->key_len});
        if (!name)
            return kb_fail(why, KB_ETOOBIG, AM ": arena limit reached");
        if (alert_add_field(&a, name, json_str(l)) != KB_OK)
            break; /* field table full: the labels are still in raw and the hash */
    }
    return emit(ctx, &a);
}

static kb_err am_normalize(const struct json_value *root, struct kb_str raw, struct arena *ar,
                           alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    if (!root || root->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, AM ": a webhook payload must be a JSON object");
    const struct json_value *alerts = fmt_get(root, "alerts");
    if (!alerts)
        return kb_fail(why, KB_EINVAL, AM ": field 'alerts' missing");
    if (alerts->type != JSON_ARRAY)
        return kb_fail(why, KB_EINVAL, AM ": field 'alerts' is not an array");
    if (alerts->len > AM_MAX_ALERTS)
        return kb_fail(why, KB_ETOOBIG, AM ": more than %d alerts in one payload",
                       AM_MAX_ALERTS);
    size_t i = 0;
    kb_err e;
    for (const struct json_value *al = alerts->u.child; al; al = al->next, i++)
        if ((e = am_check(al, i, why)))
            return e;
    for (const struct json_value *al = alerts->u.child; al; al = al->next)
        if ((e = am_one(root, al, raw, ar, emit, ctx, why)))
            return e;
    return KB_OK;
}

const struct format format_alertmanager = {
    .name = AM,
    .summary = "Prometheus Alertmanager webhook payloads (one alert per element)",
    .id = 8,
    .detect = am_detect,
    .normalize_json = am_normalize,
    .normalize_text = NULL,
    .identity = am_identity,
};
