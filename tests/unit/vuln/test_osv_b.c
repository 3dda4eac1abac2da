/* test_osv_b.c — OSV alias groups (the ALIAS-*, CVE-* and CYCLE-ROOT-*
 * records of ../shared/data/osv/records, and alias cycles, withdrawn and
 * superseded records written here), parse errors naming the field, the
 * bounds, and release/free. */
#include "osv_testlib.h"

static size_t group_with(const struct osv_groups *g, struct loaded *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->recs[i]->id, id))
            return g->group_of[i];
    return OSV_NO_INDEX;
}

static void test_data_groups(void)
{
    T_NEED_DATA(data);
    struct loaded l = {0};
    load_records(data, &l);
    struct osv_groups g;
    struct kb_why why = {{0}};
    T_EQ_INT(osv_group((const struct osv_record *const *)l.recs, l.n, &g, &why), KB_OK);
    /* 26 records; ALIAS-CVE-1 aliases CVE-1 and ALIAS, CVE-2 aliases CVE-1:
     * one group of 4; CVE-3 aliases CVE-4: one of 2; the rest alone. */
    T_EQ_INT(g.n, 22);
    size_t a = group_with(&g, &l, "ALIAS-CVE-1");
    T_CHECK(a != OSV_NO_INDEX);
    if (a != OSV_NO_INDEX) {
        T_EQ_STR(g.groups[a].key, "CVE-1");
        T_EQ_INT(g.groups[a].n, 4);
        static const char *want[] = {"ALIAS", "ALIAS-CVE-1", "CVE-1", "CVE-2"};
        for (size_t i = 0; i < 4 && i < g.groups[a].n; i++)
            T_EQ_STR(l.recs[g.groups[a].members[i]]->id, want[i]);
    }
    T_EQ_INT(group_with(&g, &l, "CVE-1"), a);
    T_EQ_INT(group_with(&g, &l, "CVE-2"), a);
    T_EQ_INT(group_with(&g, &l, "ALIAS"), a);
    size_t c3 = group_with(&g, &l, "CVE-3");
    T_CHECK(c3 != a && c3 == group_with(&g, &l, "CVE-4"));
    if (c3 != OSV_NO_INDEX)
        T_EQ_STR(g.groups[c3].key, "CVE-3");
    /* upstream never joins: CVE-3 names CVE-1/CVE-2 as upstream; the
     * CYCLE-ROOT records name each other as upstream in a cycle. */
    size_t r1 = group_with(&g, &l, "CYCLE-ROOT-1"), r2 = group_with(&g, &l, "CYCLE-ROOT-2"),
           r3 = group_with(&g, &l, "CYCLE-ROOT-3");
    T_CHECK(r1 != r2 && r2 != r3 && r1 != r3);
    if (r1 != OSV_NO_INDEX)
        T_EQ_INT(g.groups[r1].n, 1);
    T_CHECK(group_with(&g, &l, "DLA-3623-1") != group_with(&g, &l, "CVE-2023-21400"));
    T_CHECK(group_with(&g, &l, "UBUNTU-CVE-2023-21400") != group_with(&g, &l, "CVE-2023-21400"));
    T_EQ_INT(g.nwithdrawn + g.nsuperseded, 0);
    for (size_t i = 1; i < g.n; i++)
        T_CHECK(strcmp(g.groups[i - 1].key, g.groups[i].key) < 0);
    osv_groups_release(&g);
    free_records(&l);
}

/* ---- groups ---- */

static struct osv_record *grec(const char *id, const char *modified, const char *extra, int line)
{
    char json[1024];
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"modified\":\"%s\"%s%s}", id, modified,
             extra[0] ? "," : "", extra);
    return parse_ok(json, line);
}
#define GREC(id, mod, extra) grec(id, mod, extra, __LINE__)

static size_t gidx(const struct osv_groups *g, struct osv_record **recs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(recs[i]->id, id) && g->group_of[i] != OSV_NO_INDEX)
            return g->group_of[i];
    return OSV_NO_INDEX;
}

static void test_alias_cycles(void)
{
    const char *t = "2024-01-01T00:00:00Z";
    struct osv_record *recs[] = {
        GREC("GHSA-a", t, "\"aliases\":[\"GHSA-b\"]"),
        GREC("GHSA-b", t, "\"aliases\":[\"GHSA-c\"]"),
        GREC("GHSA-c", t, "\"aliases\":[\"GHSA-a\",\"GHSA-c\"]"), /* a cycle, and itself */
        GREC("GHSA-d", t, "\"aliases\":[\"GHSA-d\"]"),
        GREC("PYSEC-1", t, "\"aliases\":[\"CVE-2024-9\"]"), /* joined through an id */
        GREC("GO-1", t, "\"aliases\":[\"CVE-2024-9\"]"),    /* with no record */
        GREC("USN-1", t, "\"upstream\":[\"GHSA-a\"],\"related\":[\"GO-1\"]"),
    };
    size_t n = KB_ARRAY_LEN(recs);
    struct osv_groups g;
    T_EQ_INT(osv_group((const struct osv_record *const *)recs, n, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 4);
    size_t a = gidx(&g, recs, n, "GHSA-a");
    T_CHECK(a != OSV_NO_INDEX && a == gidx(&g, recs, n, "GHSA-b") &&
            a == gidx(&g, recs, n, "GHSA-c"));
    if (a != OSV_NO_INDEX) {
        T_EQ_INT(g.groups[a].n, 3);
        T_EQ_STR(g.groups[a].key, "GHSA-a");
    }
    size_t d = gidx(&g, recs, n, "GHSA-d");
    T_CHECK(d != a && d != OSV_NO_INDEX && g.groups[d].n == 1);
    size_t p = gidx(&g, recs, n, "PYSEC-1");
    T_CHECK(p != OSV_NO_INDEX && p == gidx(&g, recs, n, "GO-1"));
    if (p != OSV_NO_INDEX)
        T_EQ_STR(g.groups[p].key, "CVE-2024-9");
    size_t u = gidx(&g, recs, n, "USN-1");
    T_CHECK(u != a && u != p && u != OSV_NO_INDEX);
    osv_groups_release(&g);
    for (size_t i = 0; i < n; i++)
        osv_record_free(recs[i]);
    /* Nothing to group. */
    T_EQ_INT(osv_group(NULL, 0, &g, NULL), KB_OK);
    T_EQ_INT(g.n, 0);
    osv_groups_release(&g);
}

static void test_withdrawn_and_modified(void)
{
    struct osv_record *recs[] = {
        /* The older GHSA-x aliases CVE-1; the newer one CVE-2: the newer wins. */
        GREC("GHSA-x", "2024-01-01T00:00:00Z", "\"aliases\":[\"CVE-1\"]"),
        GREC("GHSA-x", "2024-06-01T00:00:00.5Z", "\"aliases\":[\"CVE-2\"]"),
        GREC("CVE-1", "2024-01-01T00:00:00Z", ""),
        GREC("CVE-2", "2024-01-01T00:00:00Z", ""),
        /* Withdrawn: dropped, and its aliases join nothing. */
        GREC("GHSA-w", "2024-01-01T00:00:00Z",
             "\"withdrawn\":\"2024-02-01T00:00:00Z\",\"aliases\":[\"CVE-1\",\"CVE-2\"]"),
        /* A newer withdrawn record drops the id, an older one does not. */
        GREC("GHSA-y", "2024-01-01T00:00:00Z", ""),
        GREC("GHSA-y", "2024-03-01T00:00:00Z", "\"withdrawn\":\"2024-03-01T00:00:00Z\""),
        GREC("GHSA-z", "2024-03-01T00:00:00Z", "\"withdrawn\":\"2024-03-01T00:00:00Z\""),
        GREC("GHSA-z", "2024-05-01T00:00:00Z", ""),
        /* Equal modified: the later in the input. */
        GREC("GHSA-e", "2024-01-01T00:00:00Z", "\"summary\":\"first\""),
        GREC("GHSA-e", "2024-01-01T00:00:00Z", "\"summary\":\"second\""),
    };
    size_t n = KB_ARRAY_LEN(recs);
    T_CHECK(recs[4] && recs[4]->withdrawn && recs[4]->withdrawn_ms > 0);
    struct osv_groups g;
    T_EQ_INT(osv_group((const struct osv_record *const *)recs, n, &g, NULL), KB_OK);
    T_EQ_INT(g.drop[0], OSV_DROP_SUPERSEDED);
    T_EQ_INT(g.drop[1], OSV_KEPT);
    T_EQ_INT(g.drop[4], OSV_DROP_WITHDRAWN);
    T_EQ_INT(g.drop[5], OSV_DROP_SUPERSEDED);
    T_EQ_INT(g.drop[6], OSV_DROP_WITHDRAWN);
    T_EQ_INT(g.drop[7], OSV_DROP_SUPERSEDED);
    T_EQ_INT(g.drop[8], OSV_KEPT);
    T_EQ_INT(g.drop[9], OSV_DROP_SUPERSEDED);
    T_EQ_INT(g.drop[10], OSV_KEPT);
    T_EQ_INT(g.nwithdrawn, 2);
    T_EQ_INT(g.nsuperseded, 4);
    T_EQ_INT(g.group_of[4], OSV_NO_INDEX);
    /* groups: {GHSA-x, CVE-2}, {CVE-1}, {GHSA-z}, {GHSA-e} */
    T_EQ_INT(g.n, 4);
    T_EQ_INT(g.group_of[1], g.group_of[3]);
    T_CHECK(g.group_of[1] != g.group_of[2]);
    if (g.group_of[1] != OSV_NO_INDEX) {
        T_EQ_STR(g.groups[g.group_of[1]].key, "CVE-2");
        T_EQ_INT(g.groups[g.group_of[1]].members[0], 3); /* "CVE-2" < "GHSA-x" */
        T_EQ_INT(g.groups[g.group_of[1]].members[1], 1);
    }
    T_EQ_STR(recs[10]->summary, "second");
    osv_groups_release(&g);
    for (size_t i = 0; i < n; i++)
        osv_record_free(recs[i]);
}

/* ---- parsing ---- */

static void bad(int line, const char *json, kb_err want, const char *msg)
{
    struct osv_record *r = (struct osv_record *)1;
    struct kb_why why = {{0}};
    kb_err e = osv_parse(json, strlen(json), &r, &why);
    T_CHECKF(e == want && r == NULL, "line %d: got %s (%s)", line, kb_strerror(e), why.msg);
    T_CHECKF(strstr(why.msg, msg) != NULL, "line %d: message '%s' lacks '%s'", line, why.msg, msg);
}
#define BAD(json, err, msg) bad(__LINE__, json, err, msg)

#define AFF3 "{\"package\":{\"ecosystem\":\"npm\",\"name\":\"x\"}}"

static void test_parse_errors(void)
{
    BAD("{\"id\":\"T\"," MOD ",\"affected\":[" AFF3 "," AFF3 ",{\"ranges\":[{\"type\":\"SEMVER\","
        "\"events\":[{\"introduced\":\"0\"},{\"introduced\":\"1.0.0\",\"fixed\":\"1.0.2\"}]}]}]}",
        KB_EINVAL, "affected[2].ranges[0].events[1]: more than one key");
    BAD("{\"id\":\"T\"," MOD ",\"affected\":[{\"ranges\":[{\"type\":\"SEMVER\",\"events\":"
        "[{\"introduced\":\"0\"},{}]}]}]}",
        KB_EINVAL, "affected[0].ranges[0].events[1]: no key");
    BAD("{\"id\":\"T\"," MOD ",\"affected\":[{\"ranges\":[{\"type\":\"SEMVER\",\"events\":"
        "[{\"introduced\":\"0\"},{\"fix\":\"1\"}]}]}]}",
        KB_EINVAL, "affected[0].ranges[0].events[1]: unknown key 'fix'");
    BAD("{\"id\":\"T\"," MOD ",\"affected\":[{\"ranges\":[{\"type\":\"SEMVER\",\"events\":"
        "[{\"introduced\":1}]}]}]}",
        KB_EINVAL, "affected[0].ranges[0].events[0].introduced: not a string");
    BAD("{\"id\":\"T\"," MOD ",\"affected\":[{\"ranges\":[{\"type\":\"SEMVER\",\"events\":"
        "[{\"fixed\":\"1\"}]}]}]}",
        KB_EINVAL, "affected[0].ranges[0]: events: no 'introduced' event");
    BAD("{\"id\":\"T\"," MOD ",\"affected\":[{\"ranges\":[{\"type\":\"SEMVER\",\"events\":"
        "[{\"introduced\":\"0\"},{\"fixed\":\"1.0.0\"},{\"last_affected\":\"2.0.0\"}]}]}]}",
        KB_EINVAL, "both 'fixed' and 'last_affected'");
    BAD("{\"id\":\"T\"," MOD ",\"affected\":[{\"ranges\":[{\"type\":\"GIT\",\"events\":"
        "[{\"introduced\":\"0\"}]}]}]}",
        KB_EINVAL, "affected[0].ranges[0]: GIT range without 'repo'");
    BAD("{\"id\":\"T\"," MOD ",\"affected\":[{\"ranges\":[{\"type\":\"SEMVER\",\"events\":[]}]}]}",
        KB_EINVAL, "affected[0].ranges[0]: no events");
    BAD("{\"id\":\"T\"," MOD
        ",\"affected\":[{\"ranges\":[{\"events\":[{\"introduced\":\"0\"}]}]}]}",
        KB_EINVAL, "affected[0].ranges[0]: missing 'type'");
    BAD("{\"id\":\"T\"," MOD ",\"affected\":[{\"package\":{\"ecosystem\":\"npm\"}}]}", KB_EINVAL,
        "affected[0].package: missing 'name'");
    BAD("{\"id\":\"T\"," MOD ",\"affected\":{}}", KB_EINVAL, "'affected': not an array");
    BAD("{\"id\":\"T\"," MOD ",\"aliases\":[\"a\",2]}", KB_EINVAL, "aliases[1]: not a string");
    BAD("{\"id\":\"T\"," MOD ",\"aliases\":[\"a\\u0000b\"]}", KB_EINVAL,
        "aliases[0]: contains a NUL");
    BAD("{\"id\":\"T\"," MOD ",\"severity\":[{\"type\":\"CVSS_V3\"}]}", KB_EINVAL,
        "severity[0]: missing 'score'");
    BAD("{\"id\":\"T\"," MOD ",\"references\":[{\"type\":\"WEB\"}]}", KB_EINVAL,
        "references[0]: missing 'url'");
    BAD("{\"modified\":\"2024-01-01T00:00:00Z\"}", KB_EINVAL, "missing 'id'");
    BAD("{\"id\":\"\"," MOD "}", KB_EINVAL, "id: empty");
    BAD("{\"id\":\"T\"}", KB_EINVAL, "missing 'modified'");
    BAD("{\"id\":\"T\",\"modified\":\"yesterday\"}", KB_EINVAL, "modified: not an RFC 3339 time");
    BAD("{\"id\":\"T\"," MOD ",\"withdrawn\":5}", KB_EINVAL, "withdrawn: not a string");
    BAD("[]", KB_EINVAL, "not a JSON object");
    BAD("{\"id\":\"T\",", KB_EPARSE, "line 1");
    /* Bounds. */
    size_t big = OSV_MAX_BYTES + 10;
    char *text = malloc(big + 1);
    memset(text, ' ', big);
    text[big] = '\0';
    memcpy(text, "{\"id\":\"T\"}", 10);
    struct osv_record *r = NULL;
    T_EQ_INT(osv_parse(text, big, &r, NULL), KB_ETOOBIG);
    free(text);
    size_t cap = 16 * (OSV_MAX_ITEMS + 2) + 64;
    char *many = malloc(cap);
    size_t n = (size_t)snprintf(many, cap, "{\"id\":\"T\"," MOD ",\"aliases\":[");
    for (int i = 0; i <= OSV_MAX_ITEMS; i++)
        n += (size_t)snprintf(many + n, cap - n, "%s\"A\"", i ? "," : "");
    snprintf(many + n, cap - n, "]}");
    struct kb_why why = {{0}};
    T_EQ_INT(osv_parse(many, strlen(many), &r, &why), KB_ETOOBIG);
    T_CHECKF(strstr(why.msg, "'aliases': more than") != NULL, "%s", why.msg);
    free(many);
}

static void test_parse_fields(void)
{
    /* details over the bound are cut on a UTF-8 boundary; the rest is kept. */
    size_t dn = OSV_MAX_DETAILS + 100;
    size_t cap = dn + 4096;
    char *json = malloc(cap);
    size_t n = (size_t)snprintf(
        json, cap,
        "{\"schema_version\":\"1.6.0\",\"id\":\"GHSA-1\",\"modified\":\"2024-01-02T03:04:05Z\","
        "\"published\":\"2024-01-01T00:00:00+09:00\",\"aliases\":[\"CVE-2024-1\"],"
        "\"related\":[\"CVE-2024-2\"],\"summary\":\"s\",\"severity\":[{\"type\":\"CVSS_V3\","
        "\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
        "\"references\":[{\"type\":\"ADVISORY\",\"url\":\"https://example.com/a\"}],"
        "\"database_specific\":{\"cwe_ids\":[\"CWE-79\"]},"
        "\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":\"x\",\"purl\":\"pkg:npm/x\"},"
        "\"ecosystem_specific\":{\"imports\":[]},\"versions\":[\"1.0.0\"]}],\"details\":\"");
    size_t start = n;
    json[n++] = 'a';
    while (n - start < dn) { /* then two-byte characters across the cut */
        json[n++] = (char)0xC3;
        json[n++] = (char)0xA9;
    }
    snprintf(json + n, cap - n, "\",\"future_field\":{\"x\":1}}");
    struct osv_record rec;
    struct kb_why why = {{0}};
    T_EQ_INT(osv_parse_into(json, strlen(json), &rec, &why), KB_OK);
    free(json);
    T_EQ_STR(rec.schema_version, "1.6.0");
    T_EQ_INT(rec.modified_ms, 1704164645000LL);
    T_EQ_INT(rec.published_ms, 1704034800000LL);
    T_CHECK(!rec.withdrawn && rec.withdrawn_ms == 0);
    T_EQ_INT(rec.naliases, 1);
    T_EQ_INT(rec.nrelated, 1);
    T_EQ_INT(rec.nupstream, 0);
    T_EQ_STR(rec.severity[0].type, "CVSS_V3");
    T_EQ_STR(rec.references[0].url, "https://example.com/a");
    T_EQ_STR(rec.database_specific, "{\"cwe_ids\":[\"CWE-79\"]}");
    T_EQ_STR(rec.affected[0].ecosystem_specific, "{\"imports\":[]}");
    T_CHECK(rec.affected[0].database_specific == NULL);
    T_EQ_STR(rec.affected[0].package.purl, "pkg:npm/x");
    T_CHECK(rec.details_cut);
    size_t dl = strlen(rec.details);
    T_CHECKF(dl <= OSV_MAX_DETAILS && dl >= OSV_MAX_DETAILS - 1, "%zu", dl);
    T_CHECK(((unsigned char)rec.details[dl - 1] & 0xC0) != 0xC0); /* not a cut lead byte */
    T_CHECK(rec.details[0] == 'a');
    /* Release keeps the struct usable; parse into it again. */
    osv_record_release(&rec);
    T_CHECK(rec.id == NULL && rec.naffected == 0);
    const char *small = "{\"id\":\"T\"," MOD "}";
    T_EQ_INT(osv_parse_into(small, strlen(small), &rec, NULL), KB_OK);
    T_EQ_STR(rec.id, "T");
    T_CHECK(rec.affected == NULL && rec.summary == NULL && rec.published_ms == 0);
    osv_record_release(&rec);
    osv_record_release(&rec); /* twice is harmless */
    /* A failed parse into leaves nothing to release. */
    T_EQ_INT(osv_parse_into("{\"id\":1}", 8, &rec, NULL), KB_EINVAL);
    T_CHECK(rec.id == NULL);
    osv_record_free(NULL);
    /* The input may go away at once: everything kept is copied. */
    char *tmp = strdup("{\"id\":\"COPY-1\"," MOD ",\"aliases\":[\"CVE-3\"]}");
    struct osv_record *r = NULL;
    T_EQ_INT(osv_parse(tmp, strlen(tmp), &r, NULL), KB_OK);
    memset(tmp, 'z', strlen(tmp));
    free(tmp);
    T_EQ_STR(r->id, "COPY-1");
    T_EQ_STR(r->aliases[0], "CVE-3");
    osv_record_free(r);
}

int main(void)
{
    T_RUN(test_data_groups);
    T_RUN(test_alias_cycles);
    T_RUN(test_withdrawn_and_modified);
    T_RUN(test_parse_errors);
    T_RUN(test_parse_fields);
    return t_done();
}
