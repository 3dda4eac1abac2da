/*
 * feed_settings.h — koban.yaml's vuln.* keys (config/config.h) as the
 * feeds' configuration (feed.h), for `koban vuln sync` and `koban serve`.
 *
 * Ownership: the feed_config borrows cfg's strings; the OSV ecosystems are
 * split into *mem, which the caller frees (after the last feed_sync).
 */
#ifndef KOBAN_FEED_SETTINGS_H
#define KOBAN_FEED_SETTINGS_H

#include "config/config.h"
#include "vuln/feed.h"

/* Every feed takes its defaults, then: only the feeds in vuln.feeds are
 * enabled; vuln.osv_ecosystems, the key and token, and the *_url keys.
 * KB_EINVAL with why naming the key for an unknown feed name or more than
 * FEED_MAX_ECOSYSTEMS ecosystems. */
kb_err feed_settings(const struct kb_config *cfg, struct feed_config *out, char **mem,
                     struct kb_why *why);

#endif
