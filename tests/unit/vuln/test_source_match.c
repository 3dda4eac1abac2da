/* test_source_match.c — distributions' advisories name source packages:
 * inventory_source_of reads dpkg's Source field ("name" and "name
 * (version)") and apk's origin, only for Debian, Ubuntu and Alpine; the
 * asset index finds a binary package under its source's name, with the
 * source version and the binary's name; and an advisory for the source
 * package matches the binary through advidx. */
#include "test.h"

#include "vuln/advisory_index.h"
#include "vuln/asset_index.h"
#include "vuln/inventory.h"
#include "vuln/vuln_engine.h"

#include <stdlib.h>
#include <unistd.h>

#include <string.h>

static void test_source_of(void)
{
    char s[64], v[64];
    T_CHECK(inventory_source_of("Debian", "liblzma5", "xz-utils", "5.6.0-0.2", s, sizeof s, v,
                                sizeof v));
    T_EQ_STR(s, "xz-utils");
    T_EQ_STR(v, "5.6.0-0.2");
    T_CHECK(inventory_source_of("Debian:12", "libssl3", "openssl (3.0.11-1~deb12u2)",
                                "3.0.11-1~deb12u2+b1", s, sizeof s, v, sizeof v));
    T_EQ_STR(s, "openssl");
    T_EQ_STR(v, "3.0.11-1~deb12u2");
    T_CHECK(inventory_source_of("Alpine:v3.19", "libcrypto3", "openssl", "3.1.4-r5", s, sizeof s,
                                v, sizeof v));
    T_EQ_STR(s, "openssl");
    /* the same name, another ecosystem, no source, a broken field */
    T_CHECK(!inventory_source_of("Debian", "xz-utils", "xz-utils", "5.6.0", s, sizeof s, v,
                                 sizeof v));
    T_CHECK(!inventory_source_of("Red Hat", "openssl-libs", "openssl-3.0.7-24.el9.src.rpm",
                                 "1:3.0.7-24.el9", s, sizeof s, v, sizeof v));
    T_CHECK(!inventory_source_of("npm", "a", "b", "1.0.0", s, sizeof s, v, sizeof v));
    T_CHECK(!inventory_source_of("Debian", "a", NULL, "1", s, sizeof s, v, sizeof v));
    T_CHECK(!inventory_source_of("Debian", "a", "b (", "1", s, sizeof s, v, sizeof v));
    T_CHECK(!inventory_source_of("Debian", "a", "b ()", "1", s, sizeof s, v, sizeof v));
    T_CHECK(!inventory_source_of("Debian", "a", "b", "1", s, 1, v, sizeof v));
}

static const char STATUS[] =
    "Package: liblzma5\n"
    "Status: install ok installed\n"
    "Source: xz-utils\n"
    "Version: 5.6.0-0.2\n"
    "\n"
    "Package: libssl3\n"
    "Status: install ok installed\n"
    "Source: openssl (3.0.11-1~deb12u1)\n"
    "Version: 3.0.11-1~deb12u1+b1\n"
    "\n"
    "Package: zlib1g\n"
    "Status: install ok installed\n"
    "Source: zlib\n"
    "Version: 1:1.2.13.dfsg-1\n";

static const char ADV_XZ[] =
    "{\"id\":\"DSA-0001-1\",\"modified\":\"2024-03-30T00:00:00Z\",\"aliases\":[\"CVE-2024-3094\"],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"xz-utils\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"5.6.0-0.1\"},"
    "{\"fixed\":\"5.6.1+really5.4.5-1\"}]}]}]}";
static const char ADV_SSL[] =
    "{\"id\":\"DSA-0002-1\",\"modified\":\"2024-03-30T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"openssl\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
    "{\"fixed\":\"3.0.11-1~deb12u2\"}]}]}]}";

struct hits {
    int n;
    char pkg[8][32], ver[8][64], group[8][32];
};

static kb_err on_finding(void *ctx, const struct assetidx_entry *a, const struct advidx_hit *h)
{
    struct hits *x = ctx;
    if (x->n < 8) {
        snprintf(x->pkg[x->n], sizeof x->pkg[0], "%s", a->name);
        snprintf(x->ver[x->n], sizeof x->ver[0], "%s", a->version);
        snprintf(x->group[x->n], sizeof x->group[0], "%s", h->group_key);
    }
    x->n++;
    return KB_OK;
}

static void test_index_by_source(void)
{
    struct inventory inv = INVENTORY_INIT;
    struct kb_why why = {{0}};
    T_EQ_INT(inventory_parse(INV_DPKG, STATUS, strlen(STATUS), "status", &inv, &why), KB_OK);
    T_EQ_INT(inv.n, 3);
    /* the host's release, as the engine sets it from the asset's label */
    for (size_t i = 0; i < inv.n; i++)
        inv.pkgs[i].ecosystem = "Debian:12";
    struct assetidx *ai = NULL;
    T_EQ_INT(assetidx_new(&ai), KB_OK);
    T_EQ_INT(assetidx_add(ai, "host-a", &inv, &why), KB_OK);
    struct advidx *idx = NULL;
    T_EQ_INT(advidx_new(&idx), KB_OK);
    T_EQ_INT(advidx_add_text(idx, "xz", ADV_XZ, strlen(ADV_XZ), &why), KB_OK);
    T_EQ_INT(advidx_add_text(idx, "ssl", ADV_SSL, strlen(ADV_SSL), &why), KB_OK);
    T_EQ_INT(advidx_finish(idx, &why), KB_OK);
    size_t nerr = 0;
    const char *const *errs = advidx_errors(idx, &nerr, NULL);
    T_CHECKF(nerr == 0, "load error: %s", nerr ? errs[0] : "");
    struct hits h = {0};
    T_EQ_INT(advidx_findings(idx, "DSA-0001-1", ai, on_finding, &h, NULL), KB_OK);
    T_EQ_INT(h.n, 1);
    T_EQ_STR(h.pkg[0], "liblzma5"); /* the installed package, found by its source */
    T_EQ_STR(h.ver[0], "5.6.0-0.2");
    T_EQ_STR(h.group[0], "CVE-2024-3094");
    memset(&h, 0, sizeof h);
    T_EQ_INT(advidx_findings(idx, "DSA-0002-1", ai, on_finding, &h, NULL), KB_OK);
    T_EQ_INT(h.n, 1);
    T_EQ_STR(h.pkg[0], "libssl3");
    T_EQ_STR(h.ver[0], "3.0.11-1~deb12u1"); /* decided on the source version */
    advidx_free(idx);
    assetidx_free(ai);
    inventory_release(&inv);
}

struct alerts {
    int n;
    char text[8][1024];
};

static kb_err on_alert(void *ctx, const char *json, size_t len)
{
    struct alerts *a = ctx;
    if (a->n < 8)
        snprintf(a->text[a->n], sizeof a->text[0], "%.*s", (int)len, json);
    a->n++;
    return KB_OK;
}

/* The engine: a Debian host labelled with its release finds the binary
 * packages of an advisory's source package, and an upgrade resolves them. */
static void test_engine(void)
{
    char dir[] = "/tmp/koban-srcmatch-XXXXXX", path[300];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/koban.db", dir);
    struct db *db = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(path, DB_CLIENT, 2, &db, &why), KB_OK);
    struct alerts al = {0};
    struct vuln_engine_opts o = {.alert = on_alert, .ctx = &al};
    struct vuln_engine *e = NULL;
    T_EQ_INT(vuln_engine_open(db, &o, &e, &why), KB_OK);
    if (!e)
        return;
    T_EQ_INT(vuln_engine_put_advisory(e, "osv", ADV_XZ, strlen(ADV_XZ), &why), KB_OK);
    const char *ids[] = {"DSA-0001-1"};
    T_EQ_INT(vuln_engine_advisories_changed(e, ids, 1, NULL, &why), KB_OK);
    T_EQ_INT(vuln_engine_set_asset(e, "host-a", "host", "{\"release\":\"Debian:12\"}", &why),
             KB_OK);
    struct vuln_eval_stats st;
    T_EQ_INT(vuln_engine_replace_inventory(e, "host-a", "dpkg", "status", STATUS, strlen(STATUS),
                                           &st, &why),
             KB_OK);
    T_EQ_INT(st.opened, 1);
    T_EQ_INT(al.n, 1);
    T_CHECKF(strstr(al.text[0], "\"title\":\"CVE-2024-3094 in liblzma5 5.6.0-0.2 on host-a") != NULL,
             "%s", al.text[0]);
    T_CHECK(strstr(al.text[0], "\"ecosystem\":\"Debian:12\"") != NULL);
    /* the upgrade */
    char up[sizeof STATUS + 64];
    const char *at = strstr(STATUS, "5.6.0-0.2");
    snprintf(up, sizeof up, "%.*s5.6.1+really5.4.5-1%s", (int)(at - STATUS), STATUS, at + 9);
    T_EQ_INT(vuln_engine_replace_inventory(e, "host-a", "dpkg", "status", up, strlen(up), &st,
                                           &why),
             KB_OK);
    T_EQ_INT(st.resolved, 1);
    T_CHECK(al.n == 2 && strstr(al.text[1], "\"state\":\"resolved\"") != NULL);
    /* The advisory changes after the upgrade: the asset index holds the
     * new inventory (its entries were replaced, not left stale). */
    char later[sizeof ADV_XZ + 32];
    const char *fx = strstr(ADV_XZ, "5.6.1+really5.4.5-1");
    const char *md = strstr(ADV_XZ, "2024-03-30");
    T_CHECK(fx && md);
    snprintf(later, sizeof later, "%.*s2024-04-02%.*s5.6.2-1%s", (int)(md - ADV_XZ), ADV_XZ,
             (int)(fx - md - 10), md + 10, fx + strlen("5.6.1+really5.4.5-1"));
    T_EQ_INT(vuln_engine_put_advisory(e, "osv", later, strlen(later), &why), KB_OK);
    T_EQ_INT(vuln_engine_advisories_changed(e, ids, 1, &st, &why), KB_OK);
    T_EQ_INT(st.opened, 1);
    T_CHECKF(al.n == 3 && strstr(al.text[2], "liblzma5 5.6.1+really5.4.5-1 on host-a (fixed in "
                                              "5.6.2-1)") != NULL,
             "%s", al.n >= 3 ? al.text[2] : "");
    /* without the release label the Debian:12 record cannot be decided */
    T_EQ_INT(vuln_engine_set_asset(e, "host-b", "host", NULL, &why), KB_OK);
    T_EQ_INT(vuln_engine_replace_inventory(e, "host-b", "dpkg", "status", STATUS, strlen(STATUS),
                                           &st, &why),
             KB_OK);
    T_EQ_INT(st.opened, 0);
    T_CHECK(st.unsure >= 1);
    vuln_engine_close(e);
    db_close(db);
    char rm[340];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    T_EQ_INT(system(rm), 0);
}

int main(void)
{
    T_RUN(test_engine);
    T_RUN(test_source_of);
    T_RUN(test_index_by_source);
    return t_done();
}
