/*
 * spool.h — the "drop a file and forget" ingest path.
 *
 * Files that appear in the spool directory are ingested once complete and
 * then moved: to done/ when at least one event was accepted (with
 * NAME.err beside it listing any rejected events), or to failed/ with
 * NAME.err saying why when nothing in it could be accepted. A file is moved
 * only after its events are durable in the journal; it is never deleted.
 *
 * When is a file complete? Writers should write NAME.tmp (or a dotfile) and
 * rename it; such names are ignored. For writers that do not, a file is taken
 * once it was closed after writing (inotify IN_CLOSE_WRITE) or moved in, and
 * its size and mtime have not changed for spool.settle_ms. A half-written
 * file that is still growing is left alone until it settles.
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

struct spool;

kb_err spool_start(const struct kb_config *cfg, struct intake *in, struct journal *j,
                   struct spool **out, struct kb_why *why);
void spool_stop(struct spool *s);
kb_err spool_metrics(struct spool *s, struct buf *out);

#endif
