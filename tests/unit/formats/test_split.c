/* test_split.c — how payloads are cut into events: every shape the ingest
 * paths accept, and the text-versus-JSON decision. */
#include "formats/split.h"
#include "test.h"

#define MAXEV 16

struct got {
    size_t n;
    enum split_kind kind[MAXEV];
    char raw[MAXEV][64];
};

static kb_err collect(void *ctx, const struct split_event *ev)
{
    struct got *g = ctx;
    if (g->n < MAXEV) {
        g->kind[g->n] = ev->kind;
        snprintf(g->raw[g->n], sizeof g->raw[0], "%.*s", (int)KB_MIN(ev->raw.n, (size_t)63),
                 ev->raw.p);
    }
    g->n++;
    return KB_OK;
}

static kb_err run(const char *body, struct got *g)
{
    memset(g, 0, sizeof *g);
    struct split_opts o = {.max_event = 1 << 20, .max_depth = 64, .max_events = 1000};
    struct arena ar = ARENA_INIT(1 << 20);
    struct kb_why why = {{0}};
    kb_err e = split_payload(body, strlen(body), &o, &ar, collect, g, &why);
    arena_release(&ar);
    return e;
}

static void test_json_shapes(void)
{
    struct got g;
    T_EQ_INT(run("{\"a\":1}", &g), KB_OK);
    T_EQ_INT(g.n, 1);
    T_EQ_INT(g.kind[0], SPLIT_JSON);
    T_EQ_INT(run("[{\"a\":1}, {\"b\":2}]", &g), KB_OK);
    T_EQ_INT(g.n, 2);
    T_EQ_STR(g.raw[1], "{\"b\":2}");
    T_EQ_INT(run("{\"Records\":[{\"x\":1},{\"x\":2},{\"x\":3}]}", &g), KB_OK);
    T_EQ_INT(g.n, 3);
    T_EQ_INT(run("{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n", &g), KB_OK);
    T_EQ_INT(g.n, 3);
    T_EQ_INT(run("{\"a\":1}\n{\"a\":\n{\"a\":3}\n", &g), KB_OK); /* NDJSON, one bad line */
    T_EQ_INT(g.n, 3);
    T_EQ_INT(g.kind[1], SPLIT_BAD);
    T_EQ_INT(run("[ null, true, 3 ]", &g), KB_OK);
    T_EQ_INT(g.n, 3);
}

static void test_text_or_json(void)
{
    T_CHECK(split_looks_json("  {\"a\":1}", 9));
    T_CHECK(split_looks_json("[1]", 3));
    T_CHECK(split_looks_json("[ \"x\"]", 6));
    T_CHECK(split_looks_json("[]", 2));
    T_CHECK(split_looks_json("[\n{\"a\":1}]", 10));
    T_CHECK(split_looks_json("[null]", 6));
    T_CHECK(split_looks_json("[", 1)); /* truncated: JSON, so the error says why */
    T_CHECK(!split_looks_json("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok", 56));
    T_CHECK(!split_looks_json("[notice] x", 10)); /* 'n' but not null */
    /* a digit may start a JSON number: such logs need ?source=syslog (or
     * the CLI's --source syslog) to be read as text */
    T_CHECK(split_looks_json("[2026-11-20 10:00] x", 20));
    T_CHECK(!split_looks_json("Dec 10 06:55:46 host sshd[1]: x", 31));
    /* Apache's error log is read as text lines, one event each */
    struct got g;
    T_EQ_INT(run("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok\n"
                 "[Sun Dec 04 04:47:44 2005] [error] mod_jk child in error state 6\n",
                 &g),
             KB_OK);
    T_EQ_INT(g.n, 2);
    T_EQ_INT(g.kind[0], SPLIT_TEXT);
    T_EQ_INT(g.kind[1], SPLIT_TEXT);
    /* a truncated array is still one bad JSON event, not text */
    T_EQ_INT(run("[{\"a\":1}, {\"b\":", &g), KB_OK);
    T_EQ_INT(g.n, 1);
    T_EQ_INT(g.kind[0], SPLIT_BAD);
}

int main(void)
{
    T_RUN(test_json_shapes);
    T_RUN(test_text_or_json);
    return t_done();
}
