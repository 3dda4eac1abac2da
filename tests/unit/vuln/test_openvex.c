/* test_openvex.c — OpenVEX 0.2.0: export of koban's triage, the round trip
 * into a fresh store (same verdicts), matching by alias and by purl, and
 * malformed documents named by statement index and field. */
#include "test.h"

#include "lib/json.h"
#include "store/db.h"
#include "store/db_vuln.h"
#include "vuln/openvex.h"
#include "vuln/vuln_engine.h"
#include "vuln/vuln_triage.h"

#include <stdlib.h>

#define T0 INT64_C(1733356800000) /* 2024-12-05T00:00:00Z */

static const char XZ_ADV[] =
    "{\"id\":\"DSA-9999-1\",\"modified\":\"2024-03-29T00:00:00Z\",\"aliases\":[\"CVE-2024-3094\"],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian\",\"name\":\"xz-utils\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"5.6.0\"},"
    "{\"fixed\":\"5.6.1+really5.4.5-1\"}]}]}]}";
static const char NPM_ADV[] =
    "{\"id\":\"GHSA-aaaa-bbbb-cccc\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":"
    "[\"CVE-2024-1111\"],\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":"
    "\"@acme/left-pad\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},"
    "{\"fixed\":\"1.3.0\"}]}]}]}";

static const char DPKG[] = "Package: xz-utils\nStatus: install ok installed\n"
                           "Version: 5.6.0-0.2\n";
static const char CDX[] =
    "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{\"type\":\"library\","
    "\"name\":\"left-pad\",\"group\":\"@acme\",\"version\":\"1.2.0\",\"purl\":"
    "\"pkg:npm/%40acme/left-pad@1.2.0\"}]}";

struct env {
    char dir[64], path[128];
    struct db *db;
    struct vuln_engine *e;
    struct vuln_triage *t;
};

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return T0;
}

static void env_open(struct env *v)
{
    memset(v, 0, sizeof *v);
    snprintf(v->dir, sizeof v->dir, "/tmp/kbopenvex.XXXXXX");
    if (!mkdtemp(v->dir))
        abort();
    snprintf(v->path, sizeof v->path, "%s/koban.db", v->dir);
    struct kb_why why = {{0}};
    T_EQ_INT(db_open(v->path, DB_CLIENT, 0, &v->db, &why), KB_OK);
    struct vuln_engine_opts eo = {.now = fixed_now};
    T_EQ_INT(vuln_engine_open(v->db, &eo, &v->e, &why), KB_OK);
    struct vuln_triage_opts to = {.now = fixed_now};
    T_EQ_INT(vuln_triage_open(v->db, &to, &v->t), KB_OK);
    T_EQ_INT(vuln_engine_put_advisory(v->e, NULL, XZ_ADV, strlen(XZ_ADV), &why), KB_OK);
    T_EQ_INT(vuln_engine_put_advisory(v->e, NULL, NPM_ADV, strlen(NPM_ADV), &why), KB_OK);
    const char *ids[] = {"DSA-9999-1", "GHSA-aaaa-bbbb-cccc"};
    T_EQ_INT(vuln_engine_advisories_changed(v->e, ids, 2, NULL, &why), KB_OK);
    T_EQ_INT(vuln_engine_replace_inventory(v->e, "host-a", "dpkg", NULL, DPKG, strlen(DPKG), NULL,
                                           &why),
             KB_OK);
    T_EQ_INT(vuln_engine_replace_inventory(v->e, "host-b", "dpkg", NULL, DPKG, strlen(DPKG), NULL,
                                           &why),
             KB_OK);
    T_EQ_INT(vuln_engine_set_asset(v->e, "web-repo", "repository", NULL, &why), KB_OK);
    T_EQ_INT(vuln_engine_replace_inventory(v->e, "web-repo", "cyclonedx", NULL, CDX, strlen(CDX),
                                           NULL, &why),
             KB_OK);
}

static void env_close(struct env *v)
{
    vuln_triage_close(v->t);
    vuln_engine_close(v->e);
    db_close(v->db);
    char p[192];
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", v->path, sfx[i]);
        unlink(p);
    }
    rmdir(v->dir);
}

static const struct vuln_key XZ_A = {"CVE-2024-3094", "host-a", "Debian", "xz-utils"};
static const struct vuln_key PAD = {"CVE-2024-1111", "web-repo", "npm", "@acme/left-pad"};

static void triage(struct env *v, const struct vuln_key *k, const struct db_vuln_triage *t)
{
    struct kb_why why = {{0}};
    T_EQ_INT(vuln_triage_check(t, T0, &why), KB_OK);
    T_EQ_INT(vuln_triage_apply(v->t, k, t, NULL, NULL, 0, &why), KB_OK);
}

/* Applies every statement of a document; returns the findings triaged. */
static size_t import(struct env *v, const struct openvex_doc *d)
{
    size_t n = 0;
    struct kb_why why = {{0}};
    for (size_t i = 0; i < d->n; i++) {
        struct openvex_matches m = {0};
        T_EQ_INT(openvex_match(vuln_triage_store(v->t), &d->st[i], &m, &why), KB_OK);
        struct db_vuln_triage t;
        openvex_statement_triage(&d->st[i], d->author, &t);
        for (size_t k = 0; k < m.n; k++) {
            struct vuln_key key = {m.v[k].group_key, m.v[k].asset, m.v[k].ecosystem,
                                   m.v[k].package};
            T_EQ_INT(vuln_triage_apply(v->t, &key, &t, NULL, NULL, 0, &why), KB_OK);
            n++;
        }
        openvex_matches_release(&m);
    }
    return n;
}

static void test_round_trip(void)
{
    struct env a;
    env_open(&a);
    struct db_vuln_triage t1 = {.status = DB_VULN_NOT_AFFECTED,
                                .justification = "vulnerable_code_not_present",
                                .note = "patched build",
                                .author = "alice"};
    struct db_vuln_triage t2 = {.status = DB_VULN_AFFECTED, .note = "bump to 1.3.0",
                                .author = "bob"};
    triage(&a, &XZ_A, &t1);
    triage(&a, &PAD, &t2);
    struct buf out = BUF_INIT(1 << 20);
    struct kb_why why = {{0}};
    struct openvex_export_opts eo = {.author = "sec@example.com", .now = T0};
    size_t n = 0;
    T_EQ_INT(openvex_export(vuln_triage_store(a.t), &eo, &out, &n, &why), KB_OK);
    T_EQ_INT((int)n, 2);
    T_CHECK(strstr(out.p, "\"@context\":\"https://openvex.dev/ns/v0.2.0\"") != NULL);
    T_CHECK(strstr(out.p, "\"@id\":\"urn:uuid:") != NULL);
    T_CHECK(strstr(out.p, "\"timestamp\":\"2024-12-05T00:00:00.000Z\"") != NULL);
    T_CHECK(strstr(out.p, "\"version\":1") != NULL);
    T_CHECK(strstr(out.p, "\"aliases\":[\"DSA-9999-1\"]") != NULL);
    T_CHECK(strstr(out.p, "\"@id\":\"pkg:deb/debian/xz-utils@5.6.0-0.2\"") != NULL);
    T_CHECK(strstr(out.p, "\"@id\":\"pkg:npm/%40acme/left-pad@1.2.0\"") != NULL);
    T_CHECK(strstr(out.p, "\"impact_statement\":\"patched build\"") != NULL);
    T_CHECK(strstr(out.p, "\"action_statement\":\"bump to 1.3.0\"") != NULL);
    /* asset filter */
    struct buf one = BUF_INIT(1 << 20);
    eo.asset = "web-repo";
    T_EQ_INT(openvex_export(vuln_triage_store(a.t), &eo, &one, &n, &why), KB_OK);
    T_EQ_INT((int)n, 1);
    T_CHECK(strstr(one.p, "xz-utils") == NULL);
    buf_release(&one);

    /* into a fresh store with the same findings */
    struct openvex_doc d;
    T_EQ_INT(openvex_parse(out.p, out.len, &d, &why), KB_OK);
    T_EQ_INT((int)d.n, 2);
    T_EQ_STR(d.author, "sec@example.com");
    struct env b;
    env_open(&b);
    T_EQ_INT((int)import(&b, &d), 2);
    const struct vuln_key *keys[] = {&XZ_A, &PAD};
    const struct db_vuln_triage *want[] = {&t1, &t2};
    for (int i = 0; i < 2; i++) {
        struct db_vuln_triage got;
        T_EQ_INT(db_vuln_triage_get(vuln_triage_store(b.t), keys[i]->group_key, keys[i]->asset,
                                    keys[i]->ecosystem, keys[i]->package, &got),
                 KB_OK);
        T_EQ_INT(got.status, want[i]->status);
        T_EQ_STR(got.justification ? got.justification : "-",
                 want[i]->justification ? want[i]->justification : "-");
        T_EQ_STR(got.note, want[i]->note);
        T_EQ_STR(got.author, "sec@example.com");
        db_vuln_triage_release(&got);
    }
    /* host-b's xz finding was not in the document */
    struct db_vuln_triage none;
    T_EQ_INT(db_vuln_triage_get(vuln_triage_store(b.t), "CVE-2024-3094", "host-b", "Debian",
                                "xz-utils", &none),
             KB_ENOTFOUND);
    openvex_doc_release(&d);
    buf_release(&out);
    env_close(&b);
    env_close(&a);
}

/* A GHSA name with the CVE as alias, a purl product on every asset, an
 * asset product without subcomponents. */
static void test_matching(void)
{
    struct env v;
    env_open(&v);
    static const char doc[] =
        "{\"@context\":\"https://openvex.dev/ns/v0.2.0\",\"@id\":\"urn:x:1\",\"author\":\"a\","
        "\"timestamp\":\"2024-12-01T00:00:00Z\",\"version\":1,\"statements\":["
        "{\"vulnerability\":{\"name\":\"GHSA-zzzz\",\"aliases\":[\"CVE-2024-1111\"]},"
        "\"products\":[{\"@id\":\"web-repo\"}],\"status\":\"fixed\"},"
        "{\"vulnerability\":{\"name\":\"DSA-9999-1\"},"
        "\"products\":[{\"@id\":\"pkg:deb/debian/xz-utils@5.6.0-0.2?arch=amd64\"}],"
        "\"status\":\"under_investigation\",\"timestamp\":\"2024-12-02T00:00:00Z\"},"
        "{\"vulnerability\":\"CVE-2099-0001\",\"products\":[\"host-a\"],"
        "\"status\":\"affected\",\"action_statement\":\"none\"}]}";
    struct openvex_doc d;
    struct kb_why why = {{0}};
    T_EQ_INT(openvex_parse(doc, strlen(doc), &d, &why), KB_OK);
    T_EQ_INT((int)d.n, 3);
    struct openvex_matches m = {0};
    T_EQ_INT(openvex_match(vuln_triage_store(v.t), &d.st[0], &m, &why), KB_OK);
    T_EQ_INT((int)m.n, 1);
    T_EQ_STR(m.v[0].package, "@acme/left-pad");
    openvex_matches_release(&m);
    /* by the advisory id: its group; the purl names the package on both hosts */
    T_EQ_INT(openvex_match(vuln_triage_store(v.t), &d.st[1], &m, &why), KB_OK);
    T_EQ_INT((int)m.n, 2);
    T_CHECK(d.st[1].timestamp == INT64_C(1733097600000));
    openvex_matches_release(&m);
    T_EQ_INT(openvex_match(vuln_triage_store(v.t), &d.st[2], &m, &why), KB_OK);
    T_EQ_INT((int)m.n, 0);
    openvex_matches_release(&m);
    openvex_doc_release(&d);
    env_close(&v);
}

/* Many groups: each record parsed once for its ids. */
static void test_many_groups_aliases(void)
{
    struct env v;
    env_open(&v);
    struct kb_why why = {{0}};
    enum { N = 24 };
    const char *ids[N];
    char idbuf[N][32];
    for (int i = 0; i < N; i++) {
        char rec[512];
        snprintf(idbuf[i], sizeof idbuf[i], "GHSA-many-%02d", i);
        ids[i] = idbuf[i];
        snprintf(rec, sizeof rec,
                 "{\"id\":\"%s\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":"
                 "[\"CVE-2030-%04d\"],\"affected\":[{\"package\":{\"ecosystem\":"
                 "\"Debian\",\"name\":\"xz-utils\"},\"ranges\":[{\"type\":\"ECOSYSTEM\","
                 "\"events\":[{\"introduced\":\"0\"}]}]}]}",
                 idbuf[i], i);
        T_EQ_INT(vuln_engine_put_advisory(v.e, NULL, rec, strlen(rec), &why), KB_OK);
    }
    T_EQ_INT(vuln_engine_advisories_changed(v.e, ids, N, NULL, &why), KB_OK);
    struct db_vuln_triage t = {.status = DB_VULN_UNDER_INVESTIGATION, .author = "x"};
    for (int i = 0; i < N; i++) {
        char cve[32];
        snprintf(cve, sizeof cve, "CVE-2030-%04d", i);
        struct vuln_key k = {cve, "host-a", "Debian", "xz-utils"};
        triage(&v, &k, &t);
    }
    struct buf out = BUF_INIT(1 << 20);
    struct openvex_export_opts eo = {.author = "a", .now = T0};
    size_t n = 0;
    T_EQ_INT(openvex_export(vuln_triage_store(v.t), &eo, &out, &n, &why), KB_OK);
    T_EQ_INT((int)n, N);
    for (int i = 0; i < N; i++) {
        char want[96];
        snprintf(want, sizeof want, "\"name\":\"CVE-2030-%04d\",\"aliases\":[\"%s\"]", i,
                 idbuf[i]);
        T_CHECKF(strstr(out.p, want) != NULL, "missing %s", want);
    }
    buf_release(&out);
    env_close(&v);
}

static void bad(const char *doc, const char *want)
{
    struct openvex_doc d;
    struct kb_why why = {{0}};
    kb_err e = openvex_parse(doc, strlen(doc), &d, &why);
    T_CHECKF(e != KB_OK, "accepted: %s", doc);
    T_CHECKF(strstr(why.msg, want) != NULL, "'%s' lacks '%s'", why.msg, want);
}

#define HEAD                                                                                      \
    "{\"@context\":\"https://openvex.dev/ns/v0.2.0\",\"@id\":\"urn:x\",\"author\":\"a\","         \
    "\"timestamp\":\"2024-12-01T00:00:00Z\",\"statements\":["
#define V "\"vulnerability\":{\"name\":\"CVE-1\"},\"products\":[{\"@id\":\"h\"}]"

static void test_malformed(void)
{
    bad("{", "not JSON");
    bad("[]", "not a JSON object");
    bad("{\"@context\":\"https://example.com\"}", "@context");
    bad("{\"@context\":\"https://openvex.dev/ns/v0.2.0\",\"@id\":\"x\",\"author\":\"a\","
        "\"timestamp\":\"yesterday\",\"statements\":[]}",
        "timestamp");
    bad(HEAD "]", "");
    bad("{\"@context\":\"https://openvex.dev/ns/v0.2.0\",\"@id\":\"x\",\"author\":\"a\","
        "\"timestamp\":\"2024-12-01T00:00:00Z\"}",
        "statements: missing");
    bad(HEAD "{" V ",\"status\":\"fixed\"},{" V ",\"status\":\"maybe\"}]}",
        "statement 1: status: 'maybe'");
    bad(HEAD "{" V "}]}", "statement 0: status: missing");
    bad(HEAD "{" V ",\"status\":\"not_affected\"}]}", "statement 0: justification");
    bad(HEAD "{" V ",\"status\":\"not_affected\",\"justification\":\"meh\"}]}",
        "statement 0: justification: 'meh'");
    bad(HEAD "{" V ",\"status\":\"affected\"}]}", "statement 0: action_statement");
    bad(HEAD "{\"products\":[{\"@id\":\"h\"}],\"status\":\"fixed\"}]}",
        "statement 0: vulnerability");
    bad(HEAD "{\"vulnerability\":{\"name\":\"CVE-1\"},\"status\":\"fixed\"}]}",
        "statement 0: products");
    bad(HEAD "{\"vulnerability\":{\"name\":\"CVE-1\"},\"products\":[{\"x\":1}],"
             "\"status\":\"fixed\"}]}",
        "statement 0: products[0]: no @id");
    bad(HEAD "{\"vulnerability\":{\"name\":\"CVE-1\",\"aliases\":[1]},"
             "\"products\":[\"h\"],\"status\":\"fixed\"}]}",
        "statement 0: vulnerability.aliases[0]");
    bad(HEAD "{" V ",\"status\":\"fixed\",\"timestamp\":\"noon\"}]}",
        "statement 0: timestamp");
    /* not_affected with an impact statement only is valid OpenVEX */
    struct openvex_doc d;
    struct kb_why why = {{0}};
    static const char ok[] = HEAD "{" V ",\"status\":\"not_affected\",\"impact_statement\":"
                                  "\"never reached\"}]}";
    T_EQ_INT(openvex_parse(ok, strlen(ok), &d, &why), KB_OK);
    struct db_vuln_triage t;
    openvex_statement_triage(&d.st[0], "x", &t);
    T_EQ_STR(t.note, "never reached");
    /* koban's own rule still wants a justification */
    T_EQ_INT(vuln_triage_check(&t, 0, &why), KB_EINVAL);
    openvex_doc_release(&d);
}

int main(void)
{
    T_RUN(test_round_trip);
    T_RUN(test_matching);
    T_RUN(test_many_groups_aliases);
    T_RUN(test_malformed);
    return t_done();
}
