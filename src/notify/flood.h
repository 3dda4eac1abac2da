/*
 * flood.h — flood control: a token bucket per key (an issue identity's
 * fingerprint, or a rule id hashed with flood_key_str) that decides which
 * copies of a notification go out and which are held back and counted.
 *
 * Per key, the bucket holds up to `burst` tokens and gains `rate` tokens
 * every `per_ms` milliseconds (continuously: one token every per_ms/rate
 * ms). A new key starts full. flood_take():
 *
 *   a token is there      → FLOOD_PASS  (one token spent; notify as usual)
 *   none, key not flooding → FLOOD_START (the copy is held; the key is now
 *                            flooding: send one "flooding, dropping copies"
 *                            notice)
 *   none, key flooding     → FLOOD_HOLD  (the copy is held and counted)
 *
 * A copy that finds a token passes even while its key is flooding: a
 * steady stream above the rate gets `rate` copies through and holds the
 * rest. A key's flood ends at the first flood_tick(now) at which both
 *   (a) its bucket, refilled up to now, holds at least one token, and
 *   (b) no copy has been held for at least one refill interval, that is
 *       now - last_held_ms >= ceil(per_ms / rate);
 * the tick then reports the flood once (struct flood_summary: how many
 * copies were held, START included, and when it started) and the key is
 * calm again: its next held copy is a new START.
 *
 * Bounds: the table holds at most max_keys keys in fixed memory (64 bytes
 * a key), in buckets of 8 ways picked by the key; a new key in a full
 * bucket replaces the way used least recently among those not flooding
 * (a forgotten calm key merely starts full again next time), or, when all
 * 8 are flooding, the least recently used one, whose summary flood_take
 * hands back (struct flood_decision.evicted) so no flood goes unreported.
 *
 * Time is always passed in (ms, any epoch; a time earlier than one already
 * seen counts as no time passing), so the behaviour is deterministic.
 * Ownership and threads: flood_new returns a table the caller frees with
 * flood_free; one thread at a time may use it.
 */
#ifndef KOBAN_FLOOD_H
#define KOBAN_FLOOD_H

#include "lib/kb.h"

#define FLOOD_DEFAULT_KEYS 100000
#define FLOOD_MAX_KEYS 10000000
#define FLOOD_MAX_RATE 1000000 /* tokens per period */
#define FLOOD_MAX_BURST 1000000
#define FLOOD_MAX_PERIOD_MS 86400000 /* one day */

struct flood_config {
    uint32_t rate;   /* tokens gained every per_ms; 1..FLOOD_MAX_RATE */
    int64_t per_ms;  /* 1000 for N/s, 60000 for N/m, 3600000 for N/h */
    uint32_t burst;  /* bucket size; 1..FLOOD_MAX_BURST */
    size_t max_keys; /* 0: FLOOD_DEFAULT_KEYS; at most FLOOD_MAX_KEYS */
};

enum flood_verdict {
    FLOOD_PASS = 0, /* notify */
    FLOOD_START,    /* held: the first of a flood; send the flooding notice */
    FLOOD_HOLD,     /* held and counted */
};

/* A flood that ended (flood_tick) or was evicted (flood_take). */
struct flood_summary {
    uint8_t key[16];
    uint64_t held;        /* copies held back: the START and every HOLD */
    int64_t started_ms;   /* now_ms of the START */
    int64_t last_held_ms; /* now_ms of the last copy held */
};

struct flood_decision {
    enum flood_verdict verdict;         /* also flood_take's return value */
    bool evicted;                       /* taking this key pushed out a flooding key */
    struct flood_summary evicted_flood; /* when evicted: that flood, to be
                                           reported as ended */
};

struct flood;

/* A table for the given configuration; KB_EINVAL with why naming the field
 * when a value is out of its range. */
kb_err flood_new(const struct flood_config *c, struct flood **out, struct kb_why *why);
/* NULL is allowed. */
void flood_free(struct flood *f);

/* Decides one copy of key at now_ms (see the top of this file). d may be
 * NULL when the caller does not need eviction reports. */
enum flood_verdict flood_take(struct flood *f, const uint8_t key[16], int64_t now_ms,
                              struct flood_decision *d);

/* Called once for each flood that ended; s is borrowed for the call. */
typedef void (*flood_end_fn)(void *ctx, const struct flood_summary *s);

/* Ends every flood whose end condition holds at now_ms, calling cb for
 * each (cb may be NULL), and returns how many ended. Cost: nothing when no
 * key is flooding, else one pass over the table; call it about once a
 * second. cb must not call back into f. */
size_t flood_tick(struct flood *f, int64_t now_ms, flood_end_fn cb, void *ctx);

/* A key for a string (a rule id): 128 bits of XXH3 over s[0..n). */
void flood_key_str(const char *s, size_t n, uint8_t key[16]);

/* The refill interval: ms one token takes to come back, rounded up. */
int64_t flood_interval_ms(const struct flood *f);
/* Keys in the table, keys flooding now, and keys ever evicted. */
size_t flood_size(const struct flood *f);
size_t flood_active(const struct flood *f);
uint64_t flood_evicted(const struct flood *f);

#endif
