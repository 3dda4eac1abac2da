/* test_asset_index.c — the inverted index of what assets run: entries
 * found by the advisory index's key (PyPI names normalized, Debian
 * releases sharing a key), insertion order, assets added twice, skipped
 * packages, a callback that stops the lookup, and missing arguments. */
#include "test.h"
#include "vuln/advisory_index.h"
#include "vuln/asset_index.h"

#include <stdio.h>
#include <string.h>

static void add(struct inventory *inv, const char *eco, const char *name, const char *ver,
                const char *loc)
{
    T_EQ_INT(inventory_add(inv, eco, (struct kb_str){name, strlen(name)},
                           (struct kb_str){ver, ver ? strlen(ver) : 0}, NULL, NULL, loc, false),
             KB_OK);
}

struct seen {
    char row[8][128];
    size_t n;
    size_t stop_after; /* 0: never stop */
};

static kb_err record(void *ctx, const struct assetidx_entry *e)
{
    struct seen *s = ctx;
    if (s->n >= 8)
        return KB_ETOOBIG;
    snprintf(s->row[s->n++], sizeof s->row[0], "%s %s %s %s %s", e->asset, e->ecosystem, e->name,
             e->version, e->location ? e->location : "-");
    if (s->stop_after && s->n == s->stop_after)
        return KB_EEXIST;
    return KB_OK;
}

static void test_lookup(void)
{
    struct assetidx *ai = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(assetidx_new(&ai), KB_OK);

    struct inventory a = INVENTORY_INIT, b = INVENTORY_INIT;
    add(&a, "PyPI", "Foo_Bar", "1.1", "requirements.txt:3");
    add(&a, "Debian:12", "openssl", "3.0.11-1~deb12u2", "status:120");
    add(&a, "npm", "left-pad", "1.2.0", NULL);
    add(&b, "PyPI", "foo.bar", "2.0.1", "poetry.lock:9");
    add(&b, "Debian:11", "openssl", "1.1.1w-0+deb11u1", "status:88");
    T_EQ_INT(assetidx_add(ai, "web-1", &a, &why), KB_OK);
    T_EQ_INT(assetidx_add(ai, "db-2", &b, &why), KB_OK);

    struct seen s = {0};
    T_EQ_INT(assetidx_lookup(ai, "PyPI", "FOO--bar", record, &s), KB_OK);
    T_EQ_INT(s.n, 2); /* PEP 503: one key; insertion order */
    T_EQ_STR(s.row[0], "web-1 PyPI Foo_Bar 1.1 requirements.txt:3");
    T_EQ_STR(s.row[1], "db-2 PyPI foo.bar 2.0.1 poetry.lock:9");

    memset(&s, 0, sizeof s);
    T_EQ_INT(assetidx_lookup(ai, "Debian:12", "openssl", record, &s), KB_OK);
    T_EQ_INT(s.n, 2); /* the key drops the release: the caller decides */
    T_EQ_STR(s.row[1], "db-2 Debian:11 openssl 1.1.1w-0+deb11u1 status:88");

    memset(&s, 0, sizeof s);
    T_EQ_INT(assetidx_lookup(ai, "npm", "left-pad", record, &s), KB_OK);
    T_EQ_INT(s.n, 1);
    T_EQ_STR(s.row[0], "web-1 npm left-pad 1.2.0 -");
    memset(&s, 0, sizeof s);
    T_EQ_INT(assetidx_lookup(ai, "npm", "Left-Pad", record, &s), KB_OK);
    T_EQ_INT(s.n, 0); /* npm names are exact */
    T_EQ_INT(assetidx_lookup(ai, "Go", "left-pad", record, &s), KB_OK);
    T_EQ_INT(s.n, 0);

    /* The same asset again: entries accumulate under one name. */
    T_EQ_INT(assetidx_add(ai, "web-1", &b, &why), KB_OK);
    memset(&s, 0, sizeof s);
    T_EQ_INT(assetidx_lookup(ai, "PyPI", "foo-bar", record, &s), KB_OK);
    T_EQ_INT(s.n, 3);
    T_EQ_STR(s.row[2], "web-1 PyPI foo.bar 2.0.1 poetry.lock:9");

    /* A callback's error stops the lookup and is returned. */
    memset(&s, 0, sizeof s);
    s.stop_after = 1;
    T_EQ_INT(assetidx_lookup(ai, "PyPI", "foo-bar", record, &s), KB_EEXIST);
    T_EQ_INT(s.n, 1);

    struct assetidx_stats st;
    assetidx_stats(ai, &st);
    T_EQ_INT(st.assets, 2);
    T_EQ_INT(st.entries, 7);
    T_EQ_INT(st.skipped, 0);
    T_EQ_INT(st.keys, 3);
    T_CHECK(st.bytes > 0);

    inventory_release(&a);
    inventory_release(&b);
    assetidx_free(ai);
}

static void test_bounds_and_errors(void)
{
    struct assetidx *ai = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(assetidx_new(&ai), KB_OK);
    struct inventory a = INVENTORY_INIT;
    add(&a, "npm", "ok", "1.0.0", NULL);
    add(&a, "npm", "no-version", "", NULL);
    char longname[OSV_MAX_STRING * 3];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    add(&a, "npm", longname, "1.0.0", NULL); /* longer than any advisory key */
    T_EQ_INT(assetidx_add(ai, "h", &a, &why), KB_OK);
    struct assetidx_stats st;
    assetidx_stats(ai, &st);
    T_EQ_INT(st.entries, 1);
    T_EQ_INT(st.skipped, 2);

    T_EQ_INT(assetidx_add(ai, "", &a, &why), KB_EINVAL);
    char bigname[ASSETIDX_MAX_NAME + 2];
    memset(bigname, 'a', sizeof bigname - 1);
    bigname[sizeof bigname - 1] = '\0';
    T_EQ_INT(assetidx_add(ai, bigname, &a, &why), KB_EINVAL);
    T_EQ_INT(assetidx_add(ai, NULL, &a, &why), KB_EINVAL);
    T_EQ_INT(assetidx_add(NULL, "h", &a, &why), KB_EINVAL);
    T_EQ_INT(assetidx_lookup(ai, NULL, "ok", record, NULL), KB_EINVAL);
    T_EQ_INT(assetidx_lookup(ai, "npm", "ok", NULL, NULL), KB_EINVAL);
    struct seen s = {0};
    T_EQ_INT(assetidx_lookup(ai, "npm", longname, record, &s), KB_OK);
    T_EQ_INT(s.n, 0);
    T_EQ_INT(assetidx_new(NULL), KB_EINVAL);
    inventory_release(&a);
    assetidx_free(ai);
    assetidx_free(NULL);
}

/* An inventory replaced: the asset's old entries are dropped, the new ones
 * found, the other assets untouched; dropped entries are counted. */
static void test_drop_asset(void)
{
    struct assetidx *ai = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(assetidx_new(&ai), KB_OK);
    struct inventory a = INVENTORY_INIT, b = INVENTORY_INIT, a2 = INVENTORY_INIT;
    add(&a, "npm", "left-pad", "1.2.0", "a:1");
    add(&a, "npm", "lodash", "4.17.20", "a:2");
    add(&b, "npm", "left-pad", "1.3.0", "b:1");
    add(&a2, "npm", "left-pad", "1.3.1", "a:9");
    T_EQ_INT(assetidx_add(ai, "web-1", &a, &why), KB_OK);
    T_EQ_INT(assetidx_add(ai, "web-2", &b, &why), KB_OK);
    assetidx_drop_asset(ai, "web-1");
    assetidx_drop_asset(ai, "nobody"); /* unknown: nothing */
    T_EQ_INT(assetidx_dead(ai), 2);
    T_EQ_INT(assetidx_add(ai, "web-1", &a2, &why), KB_OK);
    struct seen s = {0};
    T_EQ_INT(assetidx_lookup(ai, "npm", "left-pad", record, &s), KB_OK);
    T_EQ_INT(s.n, 2);
    T_EQ_STR(s.row[0], "web-2 npm left-pad 1.3.0 b:1");
    T_EQ_STR(s.row[1], "web-1 npm left-pad 1.3.1 a:9");
    memset(&s, 0, sizeof s);
    T_EQ_INT(assetidx_lookup(ai, "npm", "lodash", record, &s), KB_OK);
    T_EQ_INT(s.n, 0);
    struct assetidx_stats st;
    assetidx_stats(ai, &st);
    T_EQ_INT(st.entries, 2);
    inventory_release(&a);
    inventory_release(&b);
    inventory_release(&a2);
    assetidx_free(ai);
}

int main(void)
{
    T_RUN(test_lookup);
    T_RUN(test_drop_asset);
    T_RUN(test_bounds_and_errors);
    return t_done();
}
