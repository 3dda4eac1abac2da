/*
 * mutate.h — a small deterministic mutator (xorshift64) for the unit-test
 * fuzz smoke run; libFuzzer does its own mutation in fuzz/fuzz_*.c.
 * Header only; every function is static inline.
 */
#ifndef KOBAN_FUZZ_MUTATE_H
#define KOBAN_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t mu_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Tokens that tend to reach the parser's edge cases. */
static const char *const mu_tokens[] = {
    "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\udc00", "\\ud83d\\ude00",
    "\\u0000", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\x80", "\xe2\x82", "\xff", "\x01",
    "1e999", "-0", "9223372036854775808", "-9223372036854775809", "0.", "01", "1e", "true",
    "nul", "null", " ", "\n", "\r\n", "{\"Records\":[", "[[[[[[[[", "]]]]]]]]", "\"k\":", "\xef\xbb\xbf",
};

/* Mutates buf[0..*n) in place (capacity cap) with 1..4 random edits; other
 * is a second input to splice from. */
static inline void mu_mutate(uint64_t *s, char *buf, size_t *n, size_t cap, const char *other,
                             size_t other_n)
{
    int edits = 1 + (int)(mu_next(s) % 4);
    for (int k = 0; k < edits; k++) {
        size_t len = *n;
        size_t at = len ? (size_t)(mu_next(s) % (len + 1)) : 0;
        switch (mu_next(s) % 8) {
        case 0: /* flip a bit */
            if (at < len)
                buf[at] ^= (char)(1u << (mu_next(s) % 8));
            break;
        case 1: /* random byte */
            if (at < len)
                buf[at] = (char)mu_next(s);
            break;
        case 2: { /* delete a range */
            size_t m = at < len ? 1 + (size_t)(mu_next(s) % (len - at < 16 ? len - at : 16)) : 0;
            memmove(buf + at, buf + at + m, len - at - m);
            *n = len - m;
            break;
        }
        case 3:
        case 4: { /* insert a token */
            const char *t = mu_tokens[mu_next(s) % (sizeof mu_tokens / sizeof mu_tokens[0])];
            size_t m = strlen(t);
            if (len + m <= cap) {
                memmove(buf + at + m, buf + at, len - at);
                memcpy(buf + at, t, m);
                *n = len + m;
            }
            break;
        }
        case 5: { /* duplicate a range */
            size_t from = len ? (size_t)(mu_next(s) % len) : 0;
            size_t m = len - from < 32 ? len - from : 32;
            if (len + m <= cap && m) {
                char tmp[32];
                memcpy(tmp, buf + from, m);
                memmove(buf + at + m, buf + at, len - at);
                memcpy(buf + at, tmp, m);
                *n = len + m;
            }
            break;
        }
        case 6: /* truncate */
            *n = at;
            break;
        default: { /* splice the tail of the other input */
            if (!other_n)
                break;
            size_t from = (size_t)(mu_next(s) % other_n);
            size_t m = other_n - from;
            if (at + m > cap)
                m = cap - at;
            memcpy(buf + at, other + from, m);
            *n = at + m;
            break;
        }
        }
    }
}

#endif
