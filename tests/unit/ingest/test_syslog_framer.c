/*
 * test_syslog_framer.c — the RFC 6587 framer alone: both framings, mixed,
 * split at every byte boundary, oversized messages, bad counts, garbage.
 */
#include "ingest/syslog_net.h"

#include "test.h"

#define MAX_MSGS 64

struct got {
    int n;
    char *msg[MAX_MSGS];
    size_t len[MAX_MSGS];
    bool cut[MAX_MSGS];
    int overflow;
};

static void collect(void *ctx, const char *msg, size_t len, bool truncated)
{
    struct got *g = ctx;
    if (g->n >= MAX_MSGS) {
        g->overflow++;
        return;
    }
    g->msg[g->n] = malloc(len + 1);
    memcpy(g->msg[g->n], msg, len);
    g->msg[g->n][len] = '\0';
    g->len[g->n] = len;
    g->cut[g->n] = truncated;
    g->n++;
}

static void got_free(struct got *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->msg[i]);
    memset(g, 0, sizeof *g);
}

/* Frames stream (fed in pieces cut at the given offsets) and finishes. */
static void frame(const char *stream, size_t n, size_t max, const size_t *cuts, int ncuts,
                  struct got *g, uint64_t *framing_errors)
{
    struct syslog_framer f;
    syslog_framer_init(&f, max);
    size_t at = 0;
    for (int i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        syslog_framer_feed(&f, stream + at, end - at, collect, g);
        at = end;
    }
    syslog_framer_finish(&f, collect, g);
    T_CHECK(f.msg.cap <= max + 64); /* bounded whatever came in */
    T_EQ_INT(f.messages, (uint64_t)g->n + (uint64_t)g->overflow);
    if (framing_errors)
        *framing_errors = f.framing_errors;
    syslog_framer_release(&f);
}

struct want {
    const char *msg;
    bool cut;
};

/* Checks a stream against the expected messages: whole, split at every
 * byte boundary, split at every pair of boundaries (short streams) and
 * byte by byte. */
static void check(const char *stream, size_t max, const struct want *w, int nw,
                  uint64_t want_errors)
{
    size_t n = strlen(stream);
    size_t cuts[2];
    int runs = 0, good = 0;
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b++) {
            if (n > 80 && b != a)
                break;
            struct got g = {0};
            cuts[0] = a;
            cuts[1] = b;
            uint64_t errs = 0;
            frame(stream, n, max, cuts, b == a ? 1 : 2, &g, &errs);
            bool ok = g.n == nw && errs == want_errors;
            for (int i = 0; ok && i < nw; i++)
                ok = strcmp(g.msg[i], w[i].msg) == 0 && g.cut[i] == w[i].cut;
            T_CHECKF(ok, "stream \"%s\" cut at %zu,%zu: %d messages (want %d), first \"%s\", "
                         "errors %llu", stream, a, b, g.n, nw, g.n ? g.msg[0] : "",
                     (unsigned long long)errs);
            runs++;
            good += ok;
            got_free(&g);
            if (!ok)
                return;
        }
    }
    /* byte by byte */
    struct syslog_framer f;
    struct got g = {0};
    syslog_framer_init(&f, max);
    for (size_t i = 0; i < n; i++)
        syslog_framer_feed(&f, stream + i, 1, collect, &g);
    syslog_framer_finish(&f, collect, &g);
    T_EQ_INT(g.n, nw);
    for (int i = 0; i < nw && i < g.n; i++) {
        T_EQ_STR(g.msg[i], w[i].msg);
        T_EQ_INT(g.cut[i], w[i].cut);
    }
    got_free(&g);
    syslog_framer_release(&f);
    T_CHECK(runs > 0 && good == runs);
}

static void test_lf(void)
{
    check("<13>a b\n<14>c\n", 1024, (struct want[]){{"<13>a b", 0}, {"<14>c", 0}}, 2, 0);
    check("x\r\ny\r\n", 1024, (struct want[]){{"x", 0}, {"y", 0}}, 2, 0);
    check("\n\n\r\nx\n\n", 1024, (struct want[]){{"x", 0}}, 1, 0);
    /* an unterminated last line is delivered at end of stream */
    check("<13>one\n<13>two", 1024, (struct want[]){{"<13>one", 0}, {"<13>two", 0}}, 2, 0);
}

static void test_octet(void)
{
    check("5 hello3 abc", 1024, (struct want[]){{"hello", 0}, {"abc", 0}}, 2, 0);
    /* an LF inside an octet-counted message is content */
    check("6 <1>a\nb11 <2>x y z\n\n!\n", 1024,
          (struct want[]){{"<1>a\nb", 0}, {"<2>x y z\n\n!", 0}}, 2, 0);
    /* LF after a frame (some senders add one) */
    check("3 abc\n3 def\n", 1024, (struct want[]){{"abc", 0}, {"def", 0}}, 2, 0);
    /* CR/LF at the end of an octet-counted frame are content, kept as
     * counted; only LF framing drops its terminator (and a CR before it) */
    check("7 <1>ab\r\n\n4 cd\r\n<3>ef\r\n", 1024,
          (struct want[]){{"<1>ab\r\n", 0}, {"cd\r\n", 0}, {"<3>ef", 0}}, 3, 0);
    check("5 <1>a\r3 \n\n\n", 1024, (struct want[]){{"<1>a\r", 0}, {"\n\n\n", 0}}, 2, 0);
    /* a frame cut short by end of stream */
    check("10 abc", 1024, (struct want[]){{"abc", 1}}, 1, 0);
}

static void test_mixed(void)
{
    check("5 hello<13>line\n3 abc<14>x\n", 1024,
          (struct want[]){{"hello", 0}, {"<13>line", 0}, {"abc", 0}, {"<14>x", 0}}, 4, 0);
}

static void test_oversized(void)
{
    /* octet counting: 20 bytes with max 8 -> first 8, cut; the rest skipped */
    check("20 ABCDEFGHIJKLMNOPQRST3 abc", 8, (struct want[]){{"ABCDEFGH", 1}, {"abc", 0}}, 2,
          0);
    /* exactly max is not cut */
    check("8 ABCDEFGH1 z", 8, (struct want[]){{"ABCDEFGH", 0}, {"z", 0}}, 2, 0);
    /* LF framing: cut at max, discarded to the LF */
    check("<13>0123456789abcdef\nok\n", 8, (struct want[]){{"<13>0123", 1}, {"ok", 0}}, 2, 0);
    check("<13>0123\nok\n", 8, (struct want[]){{"<13>0123", 0}, {"ok", 0}}, 2, 0);
    /* a huge count costs nothing: 999999999 bytes announced, 30 sent */
    check("999999999 abcdefghijklmnopqrstuvwxyz1234", 8, (struct want[]){{"abcdefgh", 1}}, 1, 0);
}

static void test_bad_counts(void)
{
    /* digits not followed by SP: one framing error, read as a line */
    check("12a\n3 abc", 1024, (struct want[]){{"12a", 0}, {"abc", 0}}, 2, 1);
    /* a leading zero is not a count */
    check("0 x\n", 1024, (struct want[]){{"0 x", 0}}, 1, 1);
    /* ten digits: too long a count */
    check("1234567890 x\n", 1024, (struct want[]){{"1234567890 x", 0}}, 1, 1);
    /* digits then LF / end of stream */
    check("42\n", 1024, (struct want[]){{"42", 0}}, 1, 1);
    check("42", 1024, (struct want[]){{"42", 0}}, 1, 1);
}

static void test_garbage(void)
{
    uint32_t x = 7;
    char buf[4096];
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + (size_t)(round * 13) % sizeof buf;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            uint32_t r = x >> 16;
            /* biased towards digits, spaces and LF to reach every state */
            buf[i] = (r % 4 == 0) ? (char)('0' + r % 10)
                     : (r % 4 == 1) ? (r % 8 == 1 ? '\n' : ' ')
                                    : (char)(r >> 3);
        }
        size_t max = 1 + (size_t)round % 50;
        struct got g = {0};
        size_t cuts[1] = {n / 3};
        frame(buf, n, max, cuts, 1, &g, NULL);
        for (int i = 0; i < g.n; i++)
            T_CHECK(g.len[i] <= max);
        got_free(&g);
    }
}

int main(void)
{
    T_RUN(test_lf);
    T_RUN(test_octet);
    T_RUN(test_mixed);
    T_RUN(test_oversized);
    T_RUN(test_bad_counts);
    T_RUN(test_garbage);
    return t_done();
}
