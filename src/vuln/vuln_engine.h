/*
 * vuln_engine.h — advisories matched against what the assets run, kept as
 * findings in the store (store/db_vuln.h), and every change to a finding
 * told as a koban alert of source "vuln" (formats: fmt_vuln.c), so that
 * rules, policies and issues treat it like any other alert.
 *
 * A finding is one (advisory group, asset, ecosystem, package) whose
 * installed version an advisory affects. The engine keeps the advisories
 * (advisory_index.h) and the assets' packages (asset_index.h) in memory,
 * loaded from the store at open, and re-evaluates only what changed:
 *   - vuln_engine_replace_inventory: one asset's packages;
 *   - vuln_engine_advisories_changed: the packages the changed records
 *     name, before and after the change, on every asset.
 * Each evaluation compares the new findings with the stored ones and, in
 * one transaction, writes the differences and calls the alert callback for
 * each (a callback error rolls everything back):
 *
 *   change (fields.change)        when                              state
 *   "new asset affected"          an inventory brings an affected   open
 *                                 version
 *   "new advisory"                an advisory (new or changed)      open
 *                                 affects a package already there
 *   "fix available"               a fixed version appeared          open
 *   "installed: OLD -> NEW"       still affected after an upgrade   open
 *   "severity changed", "known exploited"                          open
 *   "upgraded: PKG OLD -> NEW"    the asset runs an unaffected      resolved
 *                                 version now
 *   "removed"                     the asset no longer has the       resolved
 *                                 package
 *   "no longer affected"          the advisory changed (withdrawn,  resolved
 *                                 range narrowed)
 * Re-evaluating with nothing changed writes and emits nothing.
 *
 * Suspected findings: an advisory whose database_specific.koban.match is
 * "suspected" (feed_convert.h) has CPE entries (ecosystem "CPE", name
 * "vendor:product"). They are matched loosely: every package, of any
 * ecosystem, whose normalized name (lower case, '-' '.' '_' alike; the
 * last part of a Maven "group:artifact", npm "@scope/name" or Go module
 * path) equals the CPE product. An entry's ranges are evaluated with the
 * package's own ecosystem ordering (SemVer when it has none); a version
 * that ordering refuses, or an entry with neither ranges nor versions,
 * counts as affected. Such findings (and any finding a suspected record
 * makes) carry suspected = true and kind "suspected-vulnerable-package".
 *
 * Alert JSON (one object; fmt_vuln.c reads it back):
 *   {"source":"vuln","kind":"vulnerable-package","time":"<RFC 3339>",
 *    "title":"CVE-2024-3094 in xz-utils 5.6.0-0.2 on host-a (fixed in 5.6.1+really5.4.5-1)",
 *    "severity":"critical","native_severity":"10.0","state":"open"|"resolved",
 *    "host":"host-a" (kind host) | "resource":"repo" (kind repository),
 *    "fields":{"advisory","aliases","ecosystem","package","installed","fixed",
 *              "cvss","kev","epss","epss_percentile","suspected","internet_facing",
 *              "change","asset","asset_kind"},
 *    "identity":["advisory","asset","ecosystem","package"]}
 * Field values are strings ("true"/"false"; cvss "9.8"; absent when
 * unknown). A resolved alert's title says why ("... upgraded: ...").
 *
 * KEV: a finding is kev when its group key or an alias is in vuln_kev.
 * EPSS: "epss" and "epss_percentile" ("0.97234") are the score in vuln_epss
 * of the group key, else of the first alias that has one, read when the
 * alert is written (a new EPSS file re-evaluates nothing); absent when none.
 * internet_facing: the asset's label of that name ("true" / "false").
 *
 * Ownership: the engine owns its indexes and copies; the db is borrowed
 * and must outlive the engine; the alert text handed to the callback is
 * valid during the call only. One thread at a time. Bounds: VULN_ENGINE_*
 * below and those of advisory_index.h, asset_index.h and inventory.h.
 */
#ifndef KOBAN_VULN_ENGINE_H
#define KOBAN_VULN_ENGINE_H

#include "lib/buf.h"
#include "lib/kb.h"
#include "store/db.h"

#define VULN_ENGINE_MAX_SUSPECTED 1000000u  /* suspected records kept */
#define VULN_ENGINE_MAX_CHANGED 100000u     /* ids per vuln_engine_advisories_changed */
#define VULN_ENGINE_MAX_ALERT (256u * 1024) /* bytes of one alert's JSON */

struct vuln_engine;

/* Receives each alert (JSON text, len bytes, NUL-terminated) inside the
 * evaluation's transaction. A non-KB_OK return rolls the evaluation back
 * and is returned. */
typedef kb_err (*vuln_alert_fn)(void *ctx, const char *json, size_t len);

struct vuln_engine_opts {
    vuln_alert_fn alert; /* may be NULL: findings are stored, nothing is told */
    void *ctx;
    int64_t (*now)(void *ctx); /* the clock (ms); NULL: kb_now_ms */
};

/* What one evaluation did. */
struct vuln_eval_stats {
    size_t packages; /* packages evaluated */
    size_t opened;   /* findings new or reopened */
    size_t updated;  /* findings still open that changed */
    size_t resolved; /* findings resolved */
    size_t unsure;   /* candidates that could not be decided (advidx_match) */
};

/* Opens the engine on db (borrowed; migration 5 applied): loads every
 * stored advisory into an advisory index (a record that no longer parses
 * is left out); the asset index is built from the stored packages when an
 * advisory change first needs it. *out owned by the caller:
 * vuln_engine_close (before db_close). */
kb_err vuln_engine_open(struct db *db, const struct vuln_engine_opts *opts,
                        struct vuln_engine **out, struct kb_why *why);
void vuln_engine_close(struct vuln_engine *e);

/* An asset's labels with some set: the string members of old (a JSON
 * object, or NULL) that kv does not name, then each "KEY=VALUE" of kv (the
 * last of a key wins), as a JSON object into out. KB_EINVAL, with why
 * naming it, for an entry without '=' or with an empty key. */
kb_err vuln_labels_merge(const char *old, const struct kb_str *kv, size_t n, struct buf *out,
                         struct kb_why *why);

/* Creates or updates an asset: kind "host" or "repository", labels a JSON
 * object of strings or NULL ({}). Open findings are told again when the
 * internet_facing label changes (their severity depends on it). */
kb_err vuln_engine_set_asset(struct vuln_engine *e, const char *asset, const char *kind,
                             const char *labels_json, struct kb_why *why);

/* Replaces what `asset` runs with the inventory in text[0..len): format by
 * name (inventory_format_parse; NULL: detected from `filename` and the
 * content). The asset is created as a host when unknown. The packages are
 * stored and the asset is re-evaluated; *stats (optional) says what
 * changed. Inventory warnings are not errors (see inventory.h); KB_EPARSE
 * or KB_ENOTFOUND (format not recognised) leave everything unchanged. */
kb_err vuln_engine_replace_inventory(struct vuln_engine *e, const char *asset, const char *format,
                                     const char *filename, const char *text, size_t len,
                                     struct vuln_eval_stats *stats, struct kb_why *why);

/* Stores an advisory (OSV JSON from a feed; feed name may be NULL) without
 * evaluating it: call vuln_engine_advisories_changed with its id after a
 * batch. KB_EPARSE / KB_EINVAL for a record osv_parse refuses. */
kb_err vuln_engine_put_advisory(struct vuln_engine *e, const char *feed, const char *text,
                                size_t len, struct kb_why *why);
/* The same without an engine, on any connection's store handle (the
 * daemon's feed sync stores with its own connection and has the engine
 * that serves inventories evaluate): now is the stored time (ms). */
struct db_vuln;
kb_err vuln_advisory_store(struct db_vuln *dv, const char *feed, const char *text, size_t len,
                           int64_t now, struct kb_why *why);

/* The advisories with these ids changed in the store (new, updated,
 * withdrawn): replaces them in the index and re-evaluates every asset
 * package they name, before and after. Ids not in the store are skipped.
 * At most VULN_ENGINE_MAX_CHANGED ids. */
kb_err vuln_engine_advisories_changed(struct vuln_engine *e, const char *const *ids, size_t n,
                                      struct vuln_eval_stats *stats, struct kb_why *why);

/* Re-evaluates every package of every asset (after a KEV update, say). */
kb_err vuln_engine_evaluate_all(struct vuln_engine *e, struct vuln_eval_stats *stats,
                                struct kb_why *why);

/* Every asset running a package named `name` (exact): fn(ctx, asset,
 * ecosystem, version, location or NULL), by asset. */
typedef kb_err (*vuln_search_fn)(void *ctx, const char *asset, const char *ecosystem,
                                 const char *version, const char *location);
kb_err vuln_engine_search(struct vuln_engine *e, const char *name, vuln_search_fn fn, void *ctx);

#endif
