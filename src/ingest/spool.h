/*
 * spool.h — the "drop a file and forget" ingest path.
 *
 * Files that appear in the spool directory are ingested once complete and
 * then moved: to done/ when at least one event was accepted (with
 * NAME.err beside it listing any rejected events), or to failed/ with
 * NAME.err saying why when nothing in it could be accepted. A file is moved
 * only after its events are durable in the journal; it is never deleted.
 * NAME.err is complete before NAME appears in done/ or failed/.
 *
 * When is a file complete? Writers should write NAME.tmp (or a dotfile) and
 * rename it; such names are ignored. For writers that do not, a file is taken
 * once it was closed after writing (inotify IN_CLOSE_WRITE) or moved in, and
 * its size and mtime have not changed for spool.settle_ms. A half-written
 * file that is still growing is left alone until it settles.
 *
 * Compressed files: a file whose name ends in .gz, or whose bytes start
 * with the gzip magic (1f 8b), is gunzipped as it is read (lib/inflate.h;
 * concatenated members are one file) and then ingested like the same file
 * uncompressed — e.g. CloudTrail's ACCOUNT_CloudTrail_REGION_..._ID.json.gz
 * as S3 delivers it, or x.ndjson.gz. It keeps its name in done/ or failed/.
 * Corrupt or truncated gzip goes to failed/ with NAME.err saying why
 * ("gzip: corrupt data at byte N (...)", "gzip: truncated stream ...").
 *
 * Bounds: a file is at most max_file bytes (spool_opts; 1 GiB by default),
 * both on disk and once decompressed, checked while reading, so a small
 * gzip bomb fails ("gzip: decompressed size exceeds N bytes", to failed/)
 * with at most max_file bytes decoded. A file that cannot be read (open or
 * read fails) is left in place and retried at the next rescan.
 *
 * Files already present at start are taken too (after a crash, a file that
 * was ingested but not yet moved is ingested again — the journal may then
 * hold its events twice; rare, and visible as doubled counts).
 *
 * Ownership: spool_start returns a spool (its own thread) freed by
 * spool_stop, which finishes the file in hand. Borrows the intake and the
 * journal.
 */
#ifndef KOBAN_SPOOL_H
#define KOBAN_SPOOL_H

#include "config/config.h"
#include "ingest/intake.h"

#define SPOOL_MAX_FILE (1024u * 1024 * 1024) /* default bound of one file: 1 GiB */

struct spool;

struct spool_opts {
    size_t max_file; /* bytes of one file, on disk and decompressed; 0 = SPOOL_MAX_FILE */
};

/* Starts watching cfg->spool.dir (creating it, done/ and failed/) with the
 * default options. */
kb_err spool_start(const struct kb_config *cfg, struct intake *in, struct journal *j,
                   struct spool **out, struct kb_why *why);
/* The same with opts (NULL = defaults). */
kb_err spool_start_opts(const struct kb_config *cfg, const struct spool_opts *opts,
                        struct intake *in, struct journal *j, struct spool **out,
                        struct kb_why *why);
void spool_stop(struct spool *s);
kb_err spool_metrics(struct spool *s, struct buf *out);

#endif
