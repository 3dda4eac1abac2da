/*
 * fmt_vuln.c — the alerts koban's vulnerability engine writes
 * (vuln/vuln_engine.h): one per change of a finding (an advisory group
 * affecting a package on an asset), read back through the ordinary
 * intake so that findings become issues like any other alert.
 *
 * Shape: {"source":"vuln","kind":..,"time":..,"title":..,"severity":..,
 * "native_severity":..,"state":"open"|"resolved","host"|"resource":..,
 * "fields":{"advisory":..,"asset":..,"ecosystem":..,"package":.., ...}}.
 * Every scalar member of "fields" becomes an alert field (at most
 * ALERT_MAX_FIELDS). Identity: advisory, asset, ecosystem, package — the
 * finding's key, whatever the title or severity become.
 * Malformed: no "fields" object, or one of the four identity fields
 * missing or not a string.
 */
#include "formats/formats_internal.h"

#include <stdio.h>

#define VULN "vuln"

static const char *const vuln_identity[] = {"advisory", "asset", "ecosystem", "package", NULL};

static int vuln_detect(const struct json_value *root)
{
    if (!root || root->type != JSON_OBJECT || !kb_str_eq(fmt_str(root, "source"), VULN))
        return 0;
    return fmt_obj(root, "fields") ? 100 : 0;
}

static kb_err vuln_normalize(const struct json_value *root, struct kb_str raw, struct arena *ar,
                             alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    if (!root || root->type != JSON_OBJECT)
        return kb_fail(why, KB_EINVAL, "vuln events must be JSON objects");
    const struct json_value *fields = fmt_obj(root, "fields");
    if (!fields)
        return kb_fail(why, KB_EINVAL, "vuln: field 'fields' missing or not an object");
    struct kb_str tmp;
    for (const char *const *k = vuln_identity; *k; k++) {
        char where[32];
        snprintf(where, sizeof where, "fields.%s", *k);
        kb_err e = fmt_need_str(fields, *k, VULN, where, &tmp, why);
        if (e)
            return e;
    }
    struct alert a;
    alert_init(&a, VULN, vuln_identity);
    a.raw = raw;
    a.json = root;
    const struct fmt_src src = fmt_src(root, raw);
    a.kind = fmt_str(root, "kind");
    if (kb_str_empty(a.kind))
        a.kind = KB_STR_LIT("vulnerable-package");
    a.title = fmt_str(root, "title");
    a.description = fmt_str(root, "description");
    a.native_severity = fmt_text(fmt_get(root, "native_severity"), &src, ar);
    int sev = fmt_sev_word(fmt_str(root, "severity"));
    a.severity = sev < 0 ? KB_SEV_MEDIUM : sev; /* a known vulnerability is never "none" */
    a.state = fmt_str(root, "state");
    a.host = fmt_str(root, "host");
    a.resource = fmt_str(root, "resource");
    fmt_time_value(fmt_get(root, "time"), &a.time_ms);
    for (const struct json_value *m = fields->u.child; m; m = m->next) {
        struct kb_str v = fmt_text(m, &src, ar);
        if (kb_str_empty(v))
            continue;
        const char *name = fmt_name(ar, "", (struct kb_str){m->key, m->key_len});
        if (!name)
            return kb_fail(why, KB_ETOOBIG, "vuln: arena limit");
        if (alert_add_field(&a, name, v) != KB_OK)
            break; /* past ALERT_MAX_FIELDS: the identity fields come first in koban's JSON */
    }
    return emit(ctx, &a);
}

const struct format format_vuln = {
    .name = VULN,
    .summary = "koban's vulnerability findings (vuln engine alerts)",
    .id = 11,
    .detect = vuln_detect,
    .normalize_json = vuln_normalize,
    .normalize_text = NULL,
    .identity = vuln_identity,
};
