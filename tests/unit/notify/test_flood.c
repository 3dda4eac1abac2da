/* test_flood.c — flood control's token buckets: burst, START once, HOLDs
 * counted, refill, the end reported once with the held count, eviction
 * within the bound, and 10,000 identical copies in one second. Time is
 * passed in, so every case is exact. */
#include "notify/flood.h"
#include "test.h"

#include <stdint.h>

#define HOUR 3600000LL

struct ends {
    size_t n;
    struct flood_summary last;
    uint64_t held_total;
};

static void on_end(void *ctx, const struct flood_summary *s)
{
    struct ends *e = ctx;
    e->n++;
    e->last = *s;
    e->held_total += s->held;
}

static struct flood *mk(uint32_t rate, int64_t per_ms, uint32_t burst, size_t keys)
{
    struct flood_config c = {.rate = rate, .per_ms = per_ms, .burst = burst, .max_keys = keys};
    struct flood *f = NULL;
    struct kb_why why = {{0}};
    if (flood_new(&c, &f, &why) != KB_OK)
        fprintf(stderr, "  flood_new: %s\n", why.msg);
    return f;
}

static void key_n(uint8_t key[16], uint64_t n)
{
    /* fingerprints are hashes: spread n over the bytes like one */
    uint64_t h = n * 0x9e3779b97f4a7c15ULL + 1;
    memcpy(key, &h, 8);
    memcpy(key + 8, &n, 8);
}

static void test_burst_start_hold_refill_end(void)
{
    struct flood *f = mk(10, HOUR, 5, 0); /* 10/h, burst 5: a token every 6 min */
    uint8_t k[16];
    key_n(k, 1);
    T_EQ_INT(flood_interval_ms(f), 360000);
    for (int i = 0; i < 5; i++)
        T_EQ_INT(flood_take(f, k, i, NULL), FLOOD_PASS);
    struct flood_decision d;
    T_EQ_INT(flood_take(f, k, 10, &d), FLOOD_START);
    T_EQ_INT(d.verdict, FLOOD_START);
    T_CHECK(!d.evicted);
    for (int i = 0; i < 3; i++)
        T_EQ_INT(flood_take(f, k, 20 + i, NULL), FLOOD_HOLD);
    T_EQ_INT(flood_active(f), 1);

    struct ends e = {0};
    /* a held copy only 6 min ago at most, and no token yet */
    T_EQ_INT(flood_tick(f, 300000, on_end, &e), 0);
    /* the token is back at 360000: it passes, the flood goes on */
    T_EQ_INT(flood_take(f, k, 360000, NULL), FLOOD_PASS);
    T_EQ_INT(flood_tick(f, 360000 + 22, on_end, &e), 0);  /* (b) holds, (a) does not */
    T_EQ_INT(flood_take(f, k, 400000, NULL), FLOOD_HOLD); /* still flooding */
    /* (a) holds from about 720000, (b) from 400000 + 360000 */
    T_EQ_INT(flood_tick(f, 759999, on_end, &e), 0);
    T_EQ_INT(flood_tick(f, 760000, on_end, &e), 1);
    T_EQ_INT(e.n, 1);
    T_EQ_INT(e.last.held, 5); /* START + 3 HOLDs + 1 HOLD */
    T_EQ_INT(e.last.started_ms, 10);
    T_EQ_INT(e.last.last_held_ms, 400000);
    T_CHECK(memcmp(e.last.key, k, 16) == 0);
    T_EQ_INT(flood_active(f), 0);
    /* reported once */
    T_EQ_INT(flood_tick(f, 10 * HOUR, on_end, &e), 0);
    T_EQ_INT(e.n, 1);
    /* calm again: a full bucket (10 h later), then a new START */
    for (int i = 0; i < 5; i++)
        T_EQ_INT(flood_take(f, k, 10 * HOUR, NULL), FLOOD_PASS);
    T_EQ_INT(flood_take(f, k, 10 * HOUR, NULL), FLOOD_START);
    T_EQ_INT(flood_take(f, k, 10 * HOUR, NULL), FLOOD_HOLD);
    T_EQ_INT(flood_tick(f, 11 * HOUR, on_end, &e), 1);
    T_EQ_INT(e.last.held, 2);
    T_EQ_INT(e.last.started_ms, 10 * HOUR);
    flood_free(f);
}

static void test_ten_thousand_in_a_second(void)
{
    struct flood *f = mk(10, HOUR, 5, 0);
    uint8_t k[16];
    key_n(k, 42);
    int pass = 0, start = 0, hold = 0;
    for (int i = 0; i < 10000; i++) {
        switch (flood_take(f, k, 1000000 + i / 10, NULL)) { /* 0..999 ms */
        case FLOOD_PASS:
            pass++;
            break;
        case FLOOD_START:
            start++;
            break;
        case FLOOD_HOLD:
            hold++;
            break;
        }
    }
    T_EQ_INT(pass, 5);
    T_EQ_INT(start, 1);
    T_EQ_INT(hold, 9994);
    struct ends e = {0};
    T_EQ_INT(flood_tick(f, 1000999, on_end, &e), 0);
    T_EQ_INT(flood_tick(f, 1000000 + HOUR, on_end, &e), 1);
    T_EQ_INT(e.last.held, 9995);
    flood_free(f);
}

static void test_separate_keys_and_rule_keys(void)
{
    struct flood *f = mk(1, 1000, 1, 0);
    uint8_t a[16], b[16], r1[16], r2[16];
    key_n(a, 1);
    key_n(b, 2);
    T_EQ_INT(flood_take(f, a, 0, NULL), FLOOD_PASS);
    T_EQ_INT(flood_take(f, a, 0, NULL), FLOOD_START);
    T_EQ_INT(flood_take(f, b, 0, NULL), FLOOD_PASS); /* b has its own bucket */
    T_EQ_INT(flood_size(f), 2);
    flood_key_str("sigma-rule-1", 12, r1);
    flood_key_str("sigma-rule-1", 12, r2);
    T_CHECK(memcmp(r1, r2, 16) == 0);
    flood_key_str("sigma-rule-2", 12, r2);
    T_CHECK(memcmp(r1, r2, 16) != 0);
    flood_free(f);
}

static void test_fractional_rate_exact(void)
{
    struct flood *f = mk(3, 1000, 1, 0); /* 3/s: a token every 333.3 ms */
    uint8_t k[16];
    key_n(k, 7);
    T_EQ_INT(flood_interval_ms(f), 334);
    T_EQ_INT(flood_take(f, k, 0, NULL), FLOOD_PASS);
    T_EQ_INT(flood_take(f, k, 333, NULL), FLOOD_START); /* 999 of 1000 units */
    T_EQ_INT(flood_take(f, k, 334, NULL), FLOOD_PASS);  /* 1002, kept at burst: 1000 */
    T_EQ_INT(flood_take(f, k, 667, NULL), FLOOD_HOLD);  /* 0 + 999 */
    /* time going backwards adds nothing and breaks nothing */
    T_EQ_INT(flood_take(f, k, 100, NULL), FLOOD_HOLD);
    struct ends e = {0};
    T_EQ_INT(flood_tick(f, 1000, on_end, &e), 0); /* 333 ms since the last hold */
    T_EQ_INT(flood_tick(f, 1001, on_end, &e), 1);
    T_EQ_INT(e.last.held, 3);
    T_EQ_INT(e.last.last_held_ms, 667); /* the late copy counts at the latest time */
    /* a very long quiet spell fills the bucket without overflow */
    T_EQ_INT(flood_take(f, k, INT64_MAX / 2, NULL), FLOOD_PASS);
    T_EQ_INT(flood_take(f, k, INT64_MAX / 2, NULL), FLOOD_START);
    flood_free(f);
}

static void test_eviction_bound(void)
{
    struct flood *f = mk(10, HOUR, 2, 64);
    uint8_t k[16];
    for (uint64_t i = 0; i < 10000; i++) {
        key_n(k, i);
        T_EQ_INT(flood_take(f, k, (int64_t)i, NULL), FLOOD_PASS);
        T_CHECK(flood_size(f) <= 64);
    }
    T_EQ_INT(flood_size(f), 64);
    T_EQ_INT(flood_evicted(f), 10000 - 64);
    /* the most recent key is still known: its bucket holds one token */
    key_n(k, 9999);
    T_EQ_INT(flood_take(f, k, 10000, NULL), FLOOD_PASS);
    T_EQ_INT(flood_take(f, k, 10000, NULL), FLOOD_START);
    flood_free(f);
}

static void test_eviction_keeps_floods(void)
{
    /* 8 keys: one bucket of 8 ways, so every key competes */
    struct flood *f = mk(1, HOUR, 1, 8);
    uint8_t k[16];
    struct flood_decision d;
    for (uint64_t i = 0; i < 8; i++) {
        key_n(k, i);
        flood_take(f, k, 0, NULL);
        if (i != 3)
            T_EQ_INT(flood_take(f, k, 0, NULL), FLOOD_START);
    }
    T_EQ_INT(flood_active(f), 7);
    /* a new key pushes out the calm one (3), though it is not the oldest */
    key_n(k, 100);
    T_EQ_INT(flood_take(f, k, 1, &d), FLOOD_PASS);
    T_CHECK(!d.evicted);
    T_EQ_INT(flood_active(f), 7);
    key_n(k, 0);
    T_EQ_INT(flood_take(f, k, 2, NULL), FLOOD_HOLD); /* 0 is still flooding */
    /* now 8 floods (100 starts too); the next new key evicts the least
     * recently used, 1, and hands its flood back */
    key_n(k, 100);
    T_EQ_INT(flood_take(f, k, 3, NULL), FLOOD_START);
    T_EQ_INT(flood_active(f), 8);
    key_n(k, 200);
    T_EQ_INT(flood_take(f, k, 4, &d), FLOOD_PASS);
    T_CHECK(d.evicted);
    uint8_t want[16];
    key_n(want, 1);
    T_CHECK(memcmp(d.evicted_flood.key, want, 16) == 0);
    T_EQ_INT(d.evicted_flood.held, 1);
    T_EQ_INT(d.evicted_flood.started_ms, 0);
    T_EQ_INT(flood_active(f), 7);
    T_EQ_INT(flood_size(f), 8);
    /* the others end at the tick, once each */
    struct ends e = {0};
    T_EQ_INT(flood_tick(f, 2 * HOUR, on_end, &e), 7);
    T_EQ_INT(e.held_total, 8); /* 0 held two, five others one, 100 one */
    T_EQ_INT(flood_active(f), 0);
    flood_free(f);
}

static void test_bad_config(void)
{
    static const struct flood_config bad[] = {
        {.rate = 0, .per_ms = 1000, .burst = 1},
        {.rate = FLOOD_MAX_RATE + 1, .per_ms = 1000, .burst = 1},
        {.rate = 1, .per_ms = 0, .burst = 1},
        {.rate = 1, .per_ms = FLOOD_MAX_PERIOD_MS + 1, .burst = 1},
        {.rate = 1, .per_ms = 1000, .burst = 0},
        {.rate = 1, .per_ms = 1000, .burst = 1, .max_keys = FLOOD_MAX_KEYS + 1},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(bad); i++) {
        struct flood *f = (struct flood *)1;
        struct kb_why why = {{0}};
        T_EQ_INT(flood_new(&bad[i], &f, &why), KB_EINVAL);
        T_CHECK(f == NULL);
        T_CHECK(strncmp(why.msg, "flood: ", 7) == 0);
    }
    struct flood *f = mk(1, 1000, 1, 0);
    T_EQ_INT(flood_tick(f, 0, NULL, NULL), 0); /* nothing flooding: nothing to do */
    flood_free(f);
    flood_free(NULL);
}

int main(void)
{
    T_RUN(test_burst_start_hold_refill_end);
    T_RUN(test_ten_thousand_in_a_second);
    T_RUN(test_separate_keys_and_rule_keys);
    T_RUN(test_fractional_rate_exact);
    T_RUN(test_eviction_bound);
    T_RUN(test_eviction_keeps_floods);
    T_RUN(test_bad_config);
    return t_done();
}
