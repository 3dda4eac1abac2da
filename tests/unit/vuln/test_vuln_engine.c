/* test_vuln_engine.c — findings and their alerts from inventories and
 * advisories, on a real SQLite store: new findings, idempotence, a fix
 * appearing, upgrades and removals resolving findings with their reason,
 * a withdrawn advisory, suspected CPE matches, a repository asset with a
 * record of ../shared/data, reopening the engine from the store, search,
 * an inventory stored again and the asset index following it. */
#include "test.h"

#include "formats/format.h"
#include "store/db.h"
#include "store/db_vuln.h"
#include "vuln/vuln_engine.h"

#include <stdlib.h>

#define NOW INT64_C(1733356800000) /* 2024-12-05T00:00:00.000Z */
#define MAX_ALERTS 32

struct sink {
    char *a[MAX_ALERTS];
    size_t n;
};

static kb_err on_alert(void *ctx, const char *json, size_t len)
{
    struct sink *s = ctx;
    T_CHECK(strlen(json) == len);
    if (s->n < MAX_ALERTS)
        s->a[s->n++] = kb_strndup(json, len);
    return KB_OK;
}

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return NOW;
}

static void sink_clear(struct sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->a[i]);
    s->n = 0;
}

/* The alert whose text contains needle, or NULL. */
static const char *sink_find(const struct sink *s, const char *needle)
{
    for (size_t i = 0; i < s->n; i++)
        if (strstr(s->a[i], needle))
            return s->a[i];
    return NULL;
}

static const char XZ_ADV[] =
    "{\"id\":\"DSA-9999-1\",\"modified\":\"2024-03-29T00:00:00Z\",\"aliases\":[\"CVE-2024-3094\"],"
    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/"
    "A:H\"}],\"affected\":[{\"package\":{\"ecosystem\":\"Debian\",\"name\":\"xz-utils\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"5.6.0\"},"
    "{\"fixed\":\"5.6.1+really5.4.5-1\"}]}]}]}";

static const char SSL_ADV_NOFIX[] =
    "{\"id\":\"CVE-2099-0001\",\"modified\":\"2024-05-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian\",\"name\":\"openssl\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]}";

static const char SSL_ADV_FIX[] =
    "{\"id\":\"CVE-2099-0001\",\"modified\":\"2024-06-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian\",\"name\":\"openssl\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
    "{\"fixed\":\"3.0.99-1\"}]}]}]}";

/* As feed_convert.h writes an NVD record with a CPE range. */
static const char CPE_ADV[] =
    "{\"id\":\"CVE-2099-0002\",\"modified\":\"2024-05-01T00:00:00Z\","
    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/"
    "A:N\"}],\"affected\":[{\"package\":{\"ecosystem\":\"CPE\",\"name\":\"acme:widget\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
    "{\"fixed\":\"2.0\"}]}]}],"
    "\"database_specific\":{\"koban\":{\"feed\":\"nvd\",\"match\":\"suspected\","
    "\"cpe\":[\"cpe:2.3:a:acme:widget:*:*:*:*:*:*:*:*\"]}}}";

static const char CPE_ADV_WITHDRAWN[] =
    "{\"id\":\"CVE-2099-0002\",\"modified\":\"2024-07-01T00:00:00Z\","
    "\"withdrawn\":\"2024-07-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"CPE\",\"name\":\"acme:widget\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
    "{\"fixed\":\"2.0\"}]}]}],"
    "\"database_specific\":{\"koban\":{\"feed\":\"nvd\",\"match\":\"suspected\"}}}";

#define PKG(name, ver)                                                                             \
    "Package: " name "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " ver "\n\n"

static const char DPKG_1[] = PKG("xz-utils", "5.6.0-0.2") PKG("openssl", "3.0.11-1~deb12u2")
    PKG("widget", "1.5") PKG("bash", "5.2.15-2+b2");

static const char DPKG_2[] =
    PKG("xz-utils", "5.6.1+really5.4.5-1") PKG("widget", "1.5") PKG("bash", "5.2.15-2+b2");

static const char XZ_ALERT[] =
    "{\"source\":\"vuln\",\"kind\":\"vulnerable-package\",\"time\":\"2024-12-05T00:00:00.000Z\","
    "\"title\":\"CVE-2024-3094 in xz-utils 5.6.0-0.2 on host-a (fixed in 5.6.1+really5.4.5-1)\","
    "\"severity\":\"critical\",\"native_severity\":\"10.0\",\"state\":\"open\","
    "\"host\":\"host-a\",\"fields\":{\"advisory\":\"CVE-2024-3094\",\"aliases\":\"DSA-9999-1\","
    "\"asset\":\"host-a\",\"asset_kind\":\"host\",\"ecosystem\":\"Debian\","
    "\"package\":\"xz-utils\",\"installed\":\"5.6.0-0.2\",\"fixed\":\"5.6.1+really5.4.5-1\","
    "\"cvss\":\"10.0\",\"kev\":\"true\",\"suspected\":\"false\",\"internet_facing\":\"true\","
    "\"change\":\"new asset affected\"},"
    "\"identity\":[\"advisory\",\"asset\",\"ecosystem\",\"package\"]}";

static const char XZ_RESOLVED[] =
    "{\"source\":\"vuln\",\"kind\":\"vulnerable-package\",\"time\":\"2024-12-05T00:00:00.000Z\","
    "\"title\":\"CVE-2024-3094 in xz-utils 5.6.0-0.2 on host-a: resolved (upgraded: xz-utils "
    "5.6.0-0.2 -> 5.6.1+really5.4.5-1)\",\"severity\":\"critical\",\"native_severity\":\"10.0\","
    "\"state\":\"resolved\",\"host\":\"host-a\",\"fields\":{\"advisory\":\"CVE-2024-3094\","
    "\"asset\":\"host-a\",\"asset_kind\":\"host\",\"ecosystem\":\"Debian\","
    "\"package\":\"xz-utils\",\"installed\":\"5.6.0-0.2\",\"fixed\":\"5.6.1+really5.4.5-1\","
    "\"cvss\":\"10.0\",\"kev\":\"true\",\"suspected\":\"false\",\"internet_facing\":\"true\","
    "\"change\":\"upgraded: xz-utils 5.6.0-0.2 -> 5.6.1+really5.4.5-1\"},"
    "\"identity\":[\"advisory\",\"asset\",\"ecosystem\",\"package\"]}";

struct env {
    char dir[64], path[128];
    struct db *db;
    struct vuln_engine *e;
    struct sink s;
};

static void env_open_engine(struct env *v)
{
    struct kb_why why = {{0}};
    struct vuln_engine_opts o = {.alert = on_alert, .ctx = &v->s, .now = fixed_now};
    T_EQ_INT(vuln_engine_open(v->db, &o, &v->e, &why), KB_OK);
}

static void env_open(struct env *v)
{
    memset(v, 0, sizeof *v);
    snprintf(v->dir, sizeof v->dir, "/tmp/kbvulneng.XXXXXX");
    if (!mkdtemp(v->dir))
        abort();
    snprintf(v->path, sizeof v->path, "%s/koban.db", v->dir);
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(v->path, DB_CLIENT, 0, &v->db, &why), KB_OK);
    env_open_engine(v);
}

static void env_close(struct env *v)
{
    vuln_engine_close(v->e);
    db_close(v->db);
    sink_clear(&v->s);
    char p[192];
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", v->path, sfx[i]);
        unlink(p);
    }
    rmdir(v->dir);
}

static kb_err put(struct env *v, const char *text)
{
    struct kb_why why = {{0}};
    kb_err e = vuln_engine_put_advisory(v->e, NULL, text, strlen(text), &why);
    if (e)
        fprintf(stderr, "  put: %s\n", why.msg);
    return e;
}

static kb_err changed(struct env *v, const char *id, struct vuln_eval_stats *st)
{
    struct kb_why why = {{0}};
    const char *ids[] = {id};
    kb_err e = vuln_engine_advisories_changed(v->e, ids, 1, st, &why);
    if (e)
        fprintf(stderr, "  changed: %s\n", why.msg);
    return e;
}

static kb_err inventory(struct env *v, const char *asset, const char *fmt, const char *text,
                        struct vuln_eval_stats *st)
{
    struct kb_why why = {{0}};
    kb_err e =
        vuln_engine_replace_inventory(v->e, asset, fmt, "status", text, strlen(text), st, &why);
    if (e)
        fprintf(stderr, "  inventory: %s\n", why.msg);
    return e;
}

static kb_err collect(void *ctx, const struct db_vuln_finding *f)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%s %s %s %s %s;", f->group_key, f->package,
             db_vuln_state_name(f->state), f->suspected ? "suspected" : "exact",
             f->reason ? f->reason : "-");
    return KB_OK;
}

static void stored(struct env *v, char out[1024])
{
    out[0] = '\0';
    struct db_vuln *dv = NULL;
    T_EQ_INT(db_vuln_open(v->db, &dv), KB_OK);
    T_EQ_INT(db_vuln_finding_each(dv, NULL, collect, out), KB_OK);
    db_vuln_close(dv);
}

static kb_err on_search(void *ctx, const char *asset, const char *eco, const char *ver,
                        const char *loc)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s %s %s %s;", asset, eco, ver, loc ? loc : "-");
    return KB_OK;
}

static void test_lifecycle(void)
{
    struct env v;
    env_open(&v);
    struct kb_why why = {{0}};
    struct vuln_eval_stats st;
    char buf[1024];

    T_EQ_INT(put(&v, XZ_ADV), KB_OK);
    T_EQ_INT(put(&v, SSL_ADV_NOFIX), KB_OK);
    T_EQ_INT(put(&v, CPE_ADV), KB_OK);
    const char *ids[] = {"DSA-9999-1", "CVE-2099-0001", "CVE-2099-0002", "UNKNOWN-1"};
    T_EQ_INT(vuln_engine_advisories_changed(v.e, ids, 4, &st, &why), KB_OK);
    T_EQ_INT(v.s.n, 0); /* no assets yet */

    struct db_vuln *dv = NULL;
    T_EQ_INT(db_vuln_open(v.db, &dv), KB_OK);
    T_EQ_INT(db_vuln_kev_put(dv, "CVE-2024-3094", 1711929600000, false), KB_OK);
    db_vuln_close(dv);
    T_EQ_INT(vuln_engine_set_asset(v.e, "host-a", "host", "{\"internet_facing\":\"true\"}", &why),
             KB_OK);
    T_EQ_INT(vuln_engine_set_asset(v.e, "host-b", "laptop", NULL, &why), KB_EINVAL);
    T_EQ_INT(vuln_engine_set_asset(v.e, "host-b", "host", "[1]", &why), KB_EINVAL);

    /* a host's inventory: three findings, one suspected */
    T_EQ_INT(inventory(&v, "host-a", "dpkg", DPKG_1, &st), KB_OK);
    T_EQ_INT(st.packages, 4);
    T_EQ_INT(st.opened, 3);
    T_EQ_INT(v.s.n, 3);
    const char *xz = sink_find(&v.s, "\"package\":\"xz-utils\"");
    T_EQ_STR(xz, XZ_ALERT);
    const char *ssl = sink_find(&v.s, "\"package\":\"openssl\"");
    T_CHECK(ssl && strstr(ssl, "\"title\":\"CVE-2099-0001 in openssl 3.0.11-1~deb12u2 on host-a "
                               "(no fix yet)\""));
    T_CHECK(ssl && strstr(ssl, "\"severity\":\"medium\"") && !strstr(ssl, "\"fixed\""));
    const char *w = sink_find(&v.s, "\"package\":\"widget\"");
    T_CHECK(w && strstr(w, "\"kind\":\"suspected-vulnerable-package\""));
    T_CHECK(w && strstr(w, "\"title\":\"CVE-2099-0002 possibly in widget 1.5 on host-a "
                           "(fixed in 2.0)\""));
    T_CHECK(w && strstr(w, "\"suspected\":\"true\"") && strstr(w, "\"cvss\":\"7.5\"") &&
            strstr(w, "\"severity\":\"high\""));
    sink_clear(&v.s);

    /* nothing changed: nothing said */
    T_EQ_INT(inventory(&v, "host-a", "dpkg", DPKG_1, &st), KB_OK);
    T_EQ_INT(v.s.n, 0);
    T_EQ_INT(vuln_engine_evaluate_all(v.e, &st, &why), KB_OK);
    T_EQ_INT(v.s.n, 0);
    T_EQ_INT(vuln_engine_advisories_changed(v.e, ids, 3, &st, &why), KB_OK);
    T_EQ_INT(v.s.n, 0);

    /* the engine reopened from the store says nothing new either */
    vuln_engine_close(v.e);
    env_open_engine(&v);
    T_EQ_INT(vuln_engine_evaluate_all(v.e, &st, &why), KB_OK);
    T_EQ_INT(st.opened + st.updated + st.resolved, 0);
    T_EQ_INT(v.s.n, 0);

    /* a fix appears */
    T_EQ_INT(put(&v, SSL_ADV_FIX), KB_OK);
    T_EQ_INT(changed(&v, "CVE-2099-0001", &st), KB_OK);
    T_EQ_INT(st.updated, 1);
    T_EQ_INT(v.s.n, 1);
    T_CHECK(v.s.n && strstr(v.s.a[0], "\"change\":\"fix available\"") &&
            strstr(v.s.a[0], "(fixed in 3.0.99-1)\"") && strstr(v.s.a[0], "\"state\":\"open\""));
    sink_clear(&v.s);
    T_EQ_INT(changed(&v, "CVE-2099-0001", &st), KB_OK);
    T_EQ_INT(v.s.n, 0);

    /* upgrade xz, remove openssl: two resolved alerts with their reasons */
    T_EQ_INT(inventory(&v, "host-a", NULL, DPKG_2, &st), KB_OK);
    T_EQ_INT(st.resolved, 2);
    T_EQ_INT(v.s.n, 2);
    T_EQ_STR(sink_find(&v.s, "xz-utils"), XZ_RESOLVED);
    ssl = sink_find(&v.s, "openssl");
    T_CHECK(ssl && strstr(ssl, "\"state\":\"resolved\"") && strstr(ssl, "\"change\":\"removed\""));
    sink_clear(&v.s);
    stored(&v, buf);
    T_EQ_STR(buf, "CVE-2024-3094 xz-utils resolved exact upgraded: xz-utils 5.6.0-0.2 -> "
                  "5.6.1+really5.4.5-1;CVE-2099-0001 openssl resolved exact removed;"
                  "CVE-2099-0002 widget open suspected new asset affected;");

    /* the suspected advisory is withdrawn */
    T_EQ_INT(put(&v, CPE_ADV_WITHDRAWN), KB_OK);
    T_EQ_INT(changed(&v, "CVE-2099-0002", &st), KB_OK);
    T_EQ_INT(v.s.n, 1);
    T_CHECK(v.s.n && strstr(v.s.a[0], "\"change\":\"no longer affected\"") &&
            strstr(v.s.a[0], "\"state\":\"resolved\""));
    sink_clear(&v.s);

    /* a downgrade back to an affected version reopens the finding */
    T_EQ_INT(inventory(&v, "host-a", "dpkg", DPKG_1, &st), KB_OK);
    T_EQ_INT(st.opened, 2); /* xz and openssl; widget's advisory is withdrawn */
    T_CHECK(sink_find(&v.s, "\"package\":\"openssl\"") &&
            strstr(sink_find(&v.s, "\"package\":\"openssl\""), "(fixed in 3.0.99-1)"));
    sink_clear(&v.s);

    buf[0] = '\0';
    T_EQ_INT(vuln_engine_search(v.e, "xz-utils", on_search, buf), KB_OK);
    T_EQ_STR(buf, "host-a Debian 5.6.0-0.2 status:1;");
    env_close(&v);
}

/* An inventory is evaluated, and the asset index follows it, from the
 * packages as stored (ecosystem with the asset's release): storing the
 * same inventory again changes nothing, and an advisory change finds the
 * packages the last inventory brought as an engine reopened from the
 * store does. */
static const char BASH_ADV[] =
    "{\"id\":\"CVE-2099-0003\",\"modified\":\"2024-05-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian\",\"name\":\"bash\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"5.0\"},"
    "{\"fixed\":\"5.2.99-1\"}]}]}]}";

static void test_inventory_replaced(void)
{
    struct env v;
    env_open(&v);
    struct kb_why why = {{0}};
    struct vuln_eval_stats st;
    char once[1024], twice[1024];

    T_EQ_INT(put(&v, XZ_ADV), KB_OK);
    T_EQ_INT(changed(&v, "DSA-9999-1", &st), KB_OK); /* builds the (empty) asset index */
    T_EQ_INT(vuln_engine_set_asset(v.e, "host-r", "host", "{\"release\":\"Debian:12\"}", &why),
             KB_OK);
    T_EQ_INT(inventory(&v, "host-r", "dpkg", DPKG_2, &st), KB_OK);
    T_EQ_INT(st.packages, 3);
    T_EQ_INT(st.opened, 0);
    T_EQ_INT(inventory(&v, "host-r", "dpkg", DPKG_1, &st), KB_OK);
    T_EQ_INT(st.packages, 4);
    T_EQ_INT(st.opened, 1);
    T_EQ_INT(v.s.n, 1);
    T_CHECK(sink_find(&v.s, "\"ecosystem\":\"Debian:12\",\"package\":\"xz-utils\""));
    sink_clear(&v.s);
    stored(&v, once);
    T_EQ_STR(once, "CVE-2024-3094 xz-utils open exact new asset affected;");

    /* the same inventory again: the same findings, nothing told */
    T_EQ_INT(inventory(&v, "host-r", "dpkg", DPKG_1, &st), KB_OK);
    T_EQ_INT(st.packages, 4);
    T_EQ_INT(st.opened + st.updated + st.resolved, 0);
    T_EQ_INT(v.s.n, 0);
    stored(&v, twice);
    T_EQ_STR(twice, once);

    /* the index has bash of the last inventory, under Debian:12 */
    T_EQ_INT(put(&v, BASH_ADV), KB_OK);
    T_EQ_INT(changed(&v, "CVE-2099-0003", &st), KB_OK);
    T_EQ_INT(st.packages, 1);
    T_EQ_INT(st.opened, 1);
    T_EQ_INT(v.s.n, 1);
    T_CHECK(v.s.n && strstr(v.s.a[0], "\"change\":\"new advisory\"") &&
            strstr(v.s.a[0], "\"ecosystem\":\"Debian:12\",\"package\":\"bash\""));
    sink_clear(&v.s);

    /* an engine whose index is built from the store agrees */
    vuln_engine_close(v.e);
    env_open_engine(&v);
    T_EQ_INT(vuln_engine_evaluate_all(v.e, &st, &why), KB_OK);
    T_EQ_INT(st.packages, 4);
    T_EQ_INT(st.opened + st.updated + st.resolved, 0);
    T_EQ_INT(changed(&v, "CVE-2099-0003", &st), KB_OK);
    T_EQ_INT(st.packages, 1);
    T_EQ_INT(st.opened + st.updated + st.resolved, 0);
    T_EQ_INT(v.s.n, 0);
    env_close(&v);
}

/* A repository with a requirements.txt, against a record of the shared
 * OSV data (PyPI demo-lib, fixed in 1.2.0). */
static void test_repository_shared_record(void)
{
    T_NEED_DATA(data);
    char path[4200];
    snprintf(path, sizeof path, "%s/osv/records/MULTI-ECO-FIX-DEMO.json", data);
    size_t len = 0;
    char *rec = t_read_file(path, &len);
    if (!rec)
        T_SKIP("MULTI-ECO-FIX-DEMO.json is absent");
    struct env v;
    env_open(&v);
    struct kb_why why = {{0}};
    T_EQ_INT(vuln_engine_put_advisory(v.e, "osv", rec, len, &why), KB_OK);
    free(rec);
    T_EQ_INT(vuln_engine_set_asset(v.e, "shop-api", "repository", NULL, &why), KB_OK);
    struct vuln_eval_stats st;
    static const char req[] = "demo-lib==1.0.0\nrequests==2.31.0\n";
    T_EQ_INT(vuln_engine_replace_inventory(v.e, "shop-api", NULL, "requirements.txt", req,
                                           strlen(req), &st, &why),
             KB_OK);
    T_EQ_INT(v.s.n, 0); /* the advisory is stored but not yet announced to the engine */
    T_EQ_INT(changed(&v, "MULTI-ECO-FIX-DEMO", &st), KB_OK);
    T_EQ_INT(v.s.n, 1);
    const char *a = v.s.n ? v.s.a[0] : "";
    T_CHECK(strstr(a, "\"resource\":\"shop-api\"") && !strstr(a, "\"host\""));
    T_CHECK(strstr(a, "\"change\":\"new advisory\"") && strstr(a, "\"asset_kind\":\"repository\""));
    T_CHECK(strstr(a, "\"title\":\"MULTI-ECO-FIX-DEMO in demo-lib 1.0.0 on shop-api (fixed in "
                      "1.2.0)\""));
    T_CHECK(strstr(a, "\"internet_facing\":\"false\""));
    sink_clear(&v.s);
    static const char req2[] = "demo-lib==1.2.0\nrequests==2.31.0\n";
    T_EQ_INT(vuln_engine_replace_inventory(v.e, "shop-api", "requirements.txt", "requirements.txt",
                                           req2, strlen(req2), &st, &why),
             KB_OK);
    T_EQ_INT(v.s.n, 1);
    T_CHECK(v.s.n && strstr(v.s.a[0], "\"change\":\"upgraded: demo-lib 1.0.0 -> 1.2.0\""));
    /* an unreadable inventory changes nothing */
    T_EQ_INT(
        vuln_engine_replace_inventory(v.e, "shop-api", NULL, "notes.txt", "hello", 5, &st, &why),
        KB_ENOTFOUND);
    env_close(&v);
}

/* A callback error rolls the whole evaluation back: asked again, the same
 * alerts come. */
static int fail_n;
static kb_err failing(void *ctx, const char *json, size_t len)
{
    (void)ctx;
    (void)json;
    (void)len;
    return ++fail_n == 1 ? KB_EIO : KB_OK;
}

static void test_callback_error_rolls_back(void)
{
    struct env v;
    env_open(&v);
    struct kb_why why = {{0}};
    vuln_engine_close(v.e);
    struct vuln_engine_opts o = {.alert = failing, .now = fixed_now};
    T_EQ_INT(vuln_engine_open(v.db, &o, &v.e, &why), KB_OK);
    T_EQ_INT(put(&v, XZ_ADV), KB_OK);
    struct vuln_eval_stats st;
    T_EQ_INT(changed(&v, "DSA-9999-1", &st), KB_OK);
    T_EQ_INT(inventory(&v, "host-a", "dpkg", DPKG_1, &st), KB_EIO);
    char buf[1024];
    stored(&v, buf);
    T_EQ_STR(buf, "");
    T_EQ_INT(inventory(&v, "host-a", "dpkg", DPKG_1, &st), KB_OK);
    T_EQ_INT(st.opened, 1);
    env_close(&v);
}

/* koban's intake reads the alerts back (formats/fmt_vuln.c). */
struct got {
    int n;
    char title[256], sev[16], state[16], change[128], identity[128];
};

static kb_err on_normalized(void *ctx, struct alert *a)
{
    struct got *g = ctx;
    g->n++;
    snprintf(g->title, sizeof g->title, "%.*s", (int)a->title.n, a->title.p);
    snprintf(g->sev, sizeof g->sev, "%s", kb_severity_name(a->severity));
    snprintf(g->state, sizeof g->state, "%.*s", (int)a->state.n, a->state.p);
    struct kb_str c = alert_get(a, "change");
    snprintf(g->change, sizeof g->change, "%.*s", (int)c.n, c.p);
    size_t k = 0;
    for (const char *const *id = a->identity; id && *id; id++) {
        struct kb_str val = alert_get(a, *id);
        k += (size_t)snprintf(g->identity + k, sizeof g->identity - k, "%s=%.*s ", *id, (int)val.n,
                              val.p);
    }
    T_EQ_STR(a->source, "vuln");
    return KB_OK;
}

static void test_alert_reads_back(void)
{
    struct arena ar = ARENA_INIT(1u << 20);
    struct got g = {0};
    struct kb_why why = {{0}};
    T_EQ_INT(format_normalize(NULL, (struct kb_str){XZ_RESOLVED, strlen(XZ_RESOLVED)}, false, NULL,
                              &ar, on_normalized, &g, &why),
             KB_OK);
    T_EQ_INT(g.n, 1);
    T_EQ_STR(g.sev, "critical");
    T_EQ_STR(g.state, "resolved");
    T_EQ_STR(g.change, "upgraded: xz-utils 5.6.0-0.2 -> 5.6.1+really5.4.5-1");
    T_EQ_STR(g.identity, "advisory=CVE-2024-3094 asset=host-a ecosystem=Debian package=xz-utils ");
    T_CHECK(strncmp(g.title, "CVE-2024-3094 in xz-utils", 25) == 0);
    arena_reset(&ar);
    static const char bad[] = "{\"source\":\"vuln\",\"fields\":{\"advisory\":\"CVE-1\"}}";
    T_EQ_INT(format_normalize(format_by_name("vuln"), (struct kb_str){bad, strlen(bad)}, false,
                              NULL, &ar, on_normalized, &g, &why),
             KB_EINVAL);
    T_CHECK(strstr(why.msg, "asset") != NULL);
    arena_release(&ar);
}

int main(void)
{
    T_RUN(test_alert_reads_back);
    T_RUN(test_lifecycle);
    T_RUN(test_inventory_replaced);
    T_RUN(test_repository_shared_record);
    T_RUN(test_callback_error_rolls_back);
    return t_done();
}
