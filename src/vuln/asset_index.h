/*
 * asset_index.h — what the assets run, inverted: for a package (ecosystem,
 * name), every asset that has it, with the version and where it was found.
 * It lets one changed advisory be re-evaluated against every asset by
 * looking up only the packages its affected[] entries name
 * (advidx_findings in advisory_index.h).
 *
 * Use: assetidx_new, assetidx_add for each asset's inventory (an asset may
 * be added several times: its entries accumulate), then assetidx_lookup.
 * Lookups see every entry added before them. When an asset's inventory is
 * replaced, assetidx_drop_asset then assetidx_add its new one.
 *
 * Key: advidx_key (advisory_index.h) of the entry's ecosystem and name, so
 * a lookup finds every spelling the advisory index would match ("Debian:11"
 * and "Debian:12" share "Debian:"; PyPI names PEP 503-normalized). The key
 * only narrows: the caller (osv_affects) decides each entry. A Debian,
 * Ubuntu or Alpine package built from a source package of another name
 * (inventory_source_of) is found under both names; under the source's it
 * carries the source version and still the binary's name.
 *
 * Ownership: struct assetidx owns copies of every string (asset names,
 * ecosystems, names, versions, locations) in its arena; the inventory
 * passed to assetidx_add is borrowed for the call only. What the lookup
 * callback receives points into the index and lives until assetidx_free.
 * Bounds: ASSETIDX_MAX_* below. Not thread-safe while adding; lookups on
 * an index no one adds to only read.
 */
#ifndef KOBAN_ASSET_INDEX_H
#define KOBAN_ASSET_INDEX_H

#include "lib/kb.h"
#include "vuln/inventory.h"

#define ASSETIDX_MAX_ASSETS 1000000u          /* distinct asset names */
#define ASSETIDX_MAX_ENTRIES 100000000u       /* package entries over all assets */
#define ASSETIDX_MAX_BYTES ((size_t)16 << 30) /* strings kept */
#define ASSETIDX_MAX_NAME 1024u               /* an asset name's bytes */

struct assetidx;

/* One package of one asset, handed to the lookup callback. */
struct assetidx_entry {
    const char *asset;     /* the asset name given to assetidx_add */
    const char *ecosystem; /* as the inventory spelled it ("Debian:12") */
    const char *name;      /* as the inventory spelled it */
    const char *version;
    const char *location;  /* "FILE:LINE" or a JSON path; NULL when none */
};

/* Called for each entry; a non-KB_OK return stops the lookup with it. */
typedef kb_err (*assetidx_cb)(void *ctx, const struct assetidx_entry *e);

/* A new, empty index (*out owned by the caller: assetidx_free). */
kb_err assetidx_new(struct assetidx **out);
void assetidx_free(struct assetidx *ai);

/* Adds every package of inv under the asset named `asset` (non-empty, at
 * most ASSETIDX_MAX_NAME bytes). Packages without ecosystem, name or
 * version, or whose key is too long for advidx_key, are skipped and
 * counted (assetidx_stats). KB_EINVAL for a missing argument or a bad
 * name; KB_ETOOBIG past a bound (entries added before it stay). */
kb_err assetidx_add(struct assetidx *ai, const char *asset, const struct inventory *inv,
                    struct kb_why *why);

/* Drops every entry of the asset (an inventory replaced: add the new one
 * after). Dropped entries keep their memory until the index is rebuilt;
 * assetidx_dead counts them, so the owner can rebuild when they outweigh
 * the live ones. O(entries). */
void assetidx_drop_asset(struct assetidx *ai, const char *asset);
size_t assetidx_dead(const struct assetidx *ai);

/* Calls cb for every entry whose key is that of (ecosystem, name), in the
 * order they were added. KB_EINVAL for a missing argument; else KB_OK or
 * what cb returned. */
kb_err assetidx_lookup(const struct assetidx *ai, const char *ecosystem, const char *name,
                       assetidx_cb cb, void *ctx);

/* Counts: distinct assets, entries kept, entries skipped, distinct keys,
 * and the bytes the index holds (arena, entries and tables). */
struct assetidx_stats {
    size_t assets, entries, skipped, keys, bytes;
};
void assetidx_stats(const struct assetidx *ai, struct assetidx_stats *out);

#endif
