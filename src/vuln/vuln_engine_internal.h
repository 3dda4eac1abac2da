/*
 * vuln_engine_internal.h — what the engine's files share: the engine
 * itself (vuln_engine.c: lifecycle, evaluation, store and alerts) and the
 * matching of one package into finding candidates (vuln_engine_match.c:
 * exact through advidx, loose for suspected CPE records).
 *
 * Ownership: struct vuln_engine owns the indexes, the suspected records
 * and their product index; candidates' strings live in the arena the
 * caller passes to ve_match_package.
 */
#ifndef KOBAN_VULN_ENGINE_INTERNAL_H
#define KOBAN_VULN_ENGINE_INTERNAL_H

#include "lib/arena.h"
#include "lib/buf.h"
#include "store/db_vuln.h"
#include "vuln/advisory_index.h"
#include "vuln/asset_index.h"
#include "vuln/osv.h"
#include "vuln/vuln_engine.h"

#define VE_MAX_PRODUCT 256 /* bytes of a normalized product / package name */

/* One finding as the advisories say it is now. */
struct ve_cand {
    const char *group_key, *ecosystem, *package, *installed, *fixed, *aliases;
    int severity;
    double score; /* -1: no vector */
    bool suspected, kev;
};

struct ve_cands {
    struct ve_cand *v;
    size_t n, cap;
};

/* A suspected record's CPE entry under its normalized product. */
struct ve_susp_entry {
    const char *product; /* in susp_arena */
    size_t rec;          /* index into susp */
    size_t aff;          /* its affected[] entry */
};

struct vuln_engine {
    struct db *db;      /* borrowed */
    struct db_vuln *dv; /* owned */
    struct vuln_engine_opts o;
    struct advidx *idx;
    struct assetidx *assets; /* NULL until needed; rebuilt after an inventory change */
    /* suspected records (owned), sorted by id, their entries by product */
    struct osv_record **susp;
    size_t nsusp, capsusp;
    const struct osv_record **susp_sorted; /* the same, by id */
    struct ve_susp_entry *sidx;
    size_t nsidx;
    struct arena susp_arena;
    struct buf alert; /* one alert's JSON */
};

/* Whether the record says database_specific.koban.match == "suspected". */
bool ve_record_suspected(const struct osv_record *r);

/* The product a package name stands for, normalized (see vuln_engine.h)
 * into out; false when it does not fit or is empty. */
bool ve_normalize_product(const char *name, char *out, size_t outsz);

/* Replaces the suspected record with r's id by r (taken: the engine frees
 * it), or drops it when r is NULL, withdrawn or not suspected (then r is
 * freed). The product index is stale until ve_susp_rebuild. */
void ve_susp_set(struct vuln_engine *e, const char *id, struct osv_record *r);
void ve_susp_rebuild(struct vuln_engine *e);
/* The suspected record with this id, or NULL. */
const struct osv_record *ve_susp_find(const struct vuln_engine *e, const char *id);
/* The group key koban gives a suspected record: its first "CVE-" id among
 * id and aliases (byte order), else its id. */
const char *ve_susp_key(const struct osv_record *r);
/* Calls fn with each normalized product of the record's CPE entries. */
kb_err ve_susp_products(const struct osv_record *r, kb_err (*fn)(void *ctx, const char *product),
                        void *ctx);

/* The asset's entries in the asset index replaced by its packages after
 * an inventory: rows[0..n), as just stored (borrowed for the call). The
 * index is dropped instead (rebuilt when next needed) when dropped entries
 * outweigh live ones or on an error. */
kb_err ve_assets_replace(struct vuln_engine *e, const char *asset,
                         const struct db_vuln_package *rows, size_t n, struct kb_why *why);

/* Appends to out the candidates for one package: exact hits (advidx), also
 * under its source package when the distribution's advisories name that
 * (inventory_source_of; source may be NULL), and loose hits of suspected
 * records; merged by (group, ecosystem, package). *unsure grows by
 * advidx_match's count. Strings in ar. */
kb_err ve_match_package(struct vuln_engine *e, struct arena *ar, const char *ecosystem,
                        const char *name, const char *version, const char *source,
                        struct ve_cands *out, size_t *unsure);

/* Evaluates the asset (ecosystem and name NULL) or one package of it
 * inside the caller's transaction: new findings against stored ones, each
 * difference written and told. from_advisory chooses the change of a new
 * finding ("new advisory", else "new asset affected"). (vuln_engine.c) */
kb_err ve_eval_scope(struct vuln_engine *e, const char *asset, const char *ecosystem,
                     const char *name, bool from_advisory, struct vuln_eval_stats *st);
/* Rolls the transaction back and fills why ("WHAT: reason"); returns err. */
kb_err ve_txn_fail(struct vuln_engine *e, kb_err err, struct kb_why *why, const char *what);

#endif
