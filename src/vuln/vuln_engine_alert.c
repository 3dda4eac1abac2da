/* vuln_engine_alert.c — a finding change as koban alert JSON (the shape is
 * in vuln_engine.h; formats/fmt_vuln.c reads it). */
#include "vuln/vuln_engine_alert.h"

#include "formats/alert.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"

#include <stdio.h>
#include <string.h>

#define VE_ALERT_MAX_ID 128 /* bytes of one alias looked up for its EPSS score */

static void kv_opt(struct jw *w, const char *key, const char *v)
{
    if (v && *v)
        jw_kv_str(w, key, v);
}

/* The EPSS score of the finding's key or an alias; *found false when none. */
static kb_err epss_of(struct db_vuln *dv, const struct ve_alert *a, bool *found, double *score,
                      double *pct)
{
    *found = false;
    if (!dv)
        return KB_OK;
    kb_err e = db_vuln_epss_get(dv, a->f->group_key, found, score, pct, NULL);
    const char *p = a->aliases;
    for (size_t n_ids = 0; !e && !*found && p && *p && n_ids < 1000; n_ids++) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char id[VE_ALERT_MAX_ID];
        if (n && n < sizeof id) {
            memcpy(id, p, n);
            id[n] = '\0';
            e = db_vuln_epss_get(dv, id, found, score, pct, NULL);
        }
        p = end ? end + 1 : NULL;
    }
    return e;
}

kb_err ve_alert_write(struct buf *out, const struct ve_alert *a)
{
    return ve_alert_write_scored(out, a, NULL);
}

kb_err ve_alert_write_scored(struct buf *out, const struct ve_alert *a, struct db_vuln *dv)
{
    buf_reset(out);
    bool has_epss = false;
    double score = 0, pct = 0;
    char epss[32] = "", epss_pct[32] = "";
    if (epss_of(dv, a, &has_epss, &score, &pct) != KB_OK)
        return KB_EDB;
    if (has_epss) {
        snprintf(epss, sizeof epss, "%.5f", score);
        snprintf(epss_pct, sizeof epss_pct, "%.5f", pct);
    }
    char title[1024], cvss[32] = "", when[32];
    const struct db_vuln_finding *f = a->f;
    const char *what = f->suspected ? "possibly in" : "in";
    if (a->resolved)
        snprintf(title, sizeof title, "%s %s %s %s on %s: resolved (%s)", f->group_key, what,
                 f->package, f->installed, f->asset, a->change);
    else if (f->fixed)
        snprintf(title, sizeof title, "%s %s %s %s on %s (fixed in %s)", f->group_key, what,
                 f->package, f->installed, f->asset, f->fixed);
    else
        snprintf(title, sizeof title, "%s %s %s %s on %s (no fix yet)", f->group_key, what,
                 f->package, f->installed, f->asset);
    if (f->cvss >= 0)
        snprintf(cvss, sizeof cvss, "%.1f", f->cvss);
    kb_time_format(a->now, when);

    struct jw w;
    jw_init(&w, out);
    jw_obj_begin(&w);
    jw_kv_str(&w, "source", "vuln");
    jw_kv_str(&w, "kind", f->suspected ? "suspected-vulnerable-package" : "vulnerable-package");
    jw_kv_str(&w, "time", when);
    jw_kv_str(&w, "title", title);
    jw_kv_str(&w, "severity", kb_severity_name(f->severity));
    kv_opt(&w, "native_severity", cvss);
    jw_kv_str(&w, "state", a->resolved ? "resolved" : "open");
    jw_kv_str(&w, a->asset_kind == DB_VULN_REPOSITORY ? "resource" : "host", f->asset);
    jw_key(&w, "fields");
    jw_obj_begin(&w);
    jw_kv_str(&w, "advisory", f->group_key);
    kv_opt(&w, "aliases", a->aliases);
    jw_kv_str(&w, "asset", f->asset);
    jw_kv_str(&w, "asset_kind", db_vuln_asset_kind_name(a->asset_kind));
    jw_kv_str(&w, "ecosystem", f->ecosystem);
    jw_kv_str(&w, "package", f->package);
    jw_kv_str(&w, "installed", f->installed);
    kv_opt(&w, "fixed", f->fixed);
    kv_opt(&w, "cvss", cvss);
    jw_kv_str(&w, "kev", f->kev ? "true" : "false");
    kv_opt(&w, "epss", epss);
    kv_opt(&w, "epss_percentile", epss_pct);
    jw_kv_str(&w, "suspected", f->suspected ? "true" : "false");
    jw_kv_str(&w, "internet_facing", a->internet_facing ? "true" : "false");
    jw_kv_str(&w, "change", a->change);
    jw_obj_end(&w);
    jw_key(&w, "identity");
    jw_arr_begin(&w);
    jw_str(&w, "advisory");
    jw_str(&w, "asset");
    jw_str(&w, "ecosystem");
    jw_str(&w, "package");
    jw_arr_end(&w);
    jw_obj_end(&w);
    kb_err e = jw_finish(&w);
    return e ? e : buf_putc(out, '\0');
}
