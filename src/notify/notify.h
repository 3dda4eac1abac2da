/*
 * notify.h — notifications as the daemon runs them: the routing file, one
 * receiver per entry, the notifier (issue changes → outbox jobs) and the
 * delivery worker (outbox → receivers), built and torn down together.
 *
 * Ownership: notify_new returns an object freed by notify_free, which stops
 * delivery first; it owns the route set, the receivers, the notifier and
 * the worker. The notifier it hands out lives as long as it.
 */
#ifndef KOBAN_NOTIFY_H
#define KOBAN_NOTIFY_H

#include "lib/buf.h"
#include "notify/deliver.h"
#include "notify/notifier.h"

struct notify_opts {
    const char *routes_path;     /* the routing file (docs/ROUTING.md) */
    const char *db_path;         /* the store, for the delivery worker */
    int64_t repeat_interval_ms;  /* 0: the notifier's default */
    struct deliver_config deliver; /* timeouts, backoff; db_path is set here */
};

struct notify;

/* Loads the routing file and builds everything; nothing runs yet.
 * KB_EINVAL/KB_EIO with why = "FILE:LINE: key: reason" on a bad file. */
kb_err notify_new(const struct notify_opts *o, struct notify **out, struct kb_why *why);
/* Starts delivery (recovers jobs left inflight by a process that died). */
kb_err notify_start(struct notify *n, struct kb_why *why);
struct notifier *notify_notifier(struct notify *n);
size_t notify_nreceivers(const struct notify *n);
/* Prometheus text of the notifier and the delivery worker. */
kb_err notify_metrics(struct notify *n, struct buf *out);
void notify_free(struct notify *n);

#endif
