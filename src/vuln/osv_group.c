/* osv_group.c — records that describe the same vulnerability, joined
 * through their aliases (osv_group, osv.h).
 *
 * Every id — a record's own and every alias a kept record names — is a node
 * of a union-find forest (union by size, path halving), found through an
 * open-addressing table keyed by the id's bytes. A kept record joins its
 * node with each alias node; cycles (A→B→C→A, or a record naming itself)
 * only union nodes already together. upstream and related are never read
 * here. Withdrawn records are dropped before their aliases are read, so a
 * withdrawn record joins nothing; its id can still bridge records that
 * name it as their alias (their claim stands). */
#include "vuln/osv.h"

#include <stdlib.h>

#define NONE ((size_t)-1)
#define OSV_GROUP_MAX_NODES (64u * 1024 * 1024)

struct node {
    const char *id;
    size_t parent;
    size_t size;
    size_t rec; /* kept record with this id, or NONE */
};

struct gstate {
    struct node *nodes;
    size_t nnodes, capnodes;
    size_t *slots; /* node index + 1; 0 is empty */
    size_t nslots; /* power of two */
};

static uint64_t id_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* The node for id, created when absent. */
static size_t node_of(struct gstate *g, const char *id)
{
    size_t mask = g->nslots - 1;
    for (size_t i = (size_t)id_hash(id) & mask;; i = (i + 1) & mask) {
        size_t s = g->slots[i];
        if (!s) {
            size_t n = g->nnodes++;
            g->nodes[n] = (struct node){id, n, 1, NONE};
            g->slots[i] = n + 1;
            return n;
        }
        if (strcmp(g->nodes[s - 1].id, id) == 0)
            return s - 1;
    }
}

static size_t find(struct gstate *g, size_t x)
{
    while (g->nodes[x].parent != x) {
        g->nodes[x].parent = g->nodes[g->nodes[x].parent].parent;
        x = g->nodes[x].parent;
    }
    return x;
}

static void unite(struct gstate *g, size_t a, size_t b)
{
    a = find(g, a);
    b = find(g, b);
    if (a == b)
        return;
    if (g->nodes[a].size < g->nodes[b].size) {
        size_t t = a;
        a = b;
        b = t;
    }
    g->nodes[b].parent = a;
    g->nodes[a].size += g->nodes[b].size;
}

struct entry {
    const char *key;
    const char *id;
    size_t idx;
};

static int entry_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    return c ? c : strcmp(a->id, b->id);
}

static bool is_cve(const char *id)
{
    return strncmp(id, "CVE-", 4) == 0;
}

void osv_groups_release(struct osv_groups *g)
{
    if (!g)
        return;
    free(g->groups);
    free(g->group_of);
    free(g->drop);
    free(g->members_store);
    memset(g, 0, sizeof *g);
}

kb_err osv_group(const struct osv_record *const *records, size_t n, struct osv_groups *out,
                 struct kb_why *why)
{
    memset(out, 0, sizeof *out);
    if (n && !records)
        return kb_fail(why, KB_EINVAL, "osv_group: no records");
    if (n > OSV_GROUP_MAX_RECORDS)
        return kb_fail(why, KB_ETOOBIG, "osv_group: more than %d records", OSV_GROUP_MAX_RECORDS);
    size_t maxnodes = n;
    for (size_t i = 0; i < n; i++) {
        if (!records[i] || !records[i]->id)
            return kb_fail(why, KB_EINVAL, "osv_group: record %zu has no id", i);
        maxnodes += records[i]->naliases;
        if (maxnodes > OSV_GROUP_MAX_NODES)
            return kb_fail(why, KB_ETOOBIG, "osv_group: more than %u ids and aliases",
                           OSV_GROUP_MAX_NODES);
    }
    struct gstate g = {0};
    g.capnodes = maxnodes ? maxnodes : 1;
    g.nodes = kb_malloc(g.capnodes * sizeof *g.nodes);
    g.nslots = 16;
    while (g.nslots < 2 * g.capnodes)
        g.nslots *= 2;
    g.slots = kb_calloc(g.nslots, sizeof *g.slots);
    out->group_of = kb_malloc((n ? n : 1) * sizeof *out->group_of);
    out->drop = kb_calloc(n ? n : 1, sizeof *out->drop);

    /* 1. The newest record of each id: later modified, or later in the input. */
    for (size_t i = 0; i < n; i++) {
        out->group_of[i] = OSV_NO_INDEX;
        size_t nd = node_of(&g, records[i]->id);
        size_t prev = g.nodes[nd].rec;
        if (prev != NONE && records[prev]->modified_ms > records[i]->modified_ms) {
            out->drop[i] = OSV_DROP_SUPERSEDED;
            continue;
        }
        if (prev != NONE)
            out->drop[prev] = OSV_DROP_SUPERSEDED;
        g.nodes[nd].rec = i;
    }
    /* 2. Withdrawn records are dropped; 3. the kept ones join their aliases. */
    for (size_t i = 0; i < n; i++)
        if (out->drop[i] == OSV_KEPT && records[i]->withdrawn)
            out->drop[i] = OSV_DROP_WITHDRAWN;
    size_t nkept = 0;
    for (size_t i = 0; i < n; i++) {
        if (out->drop[i] != OSV_KEPT) {
            out->nwithdrawn += out->drop[i] == OSV_DROP_WITHDRAWN;
            out->nsuperseded += out->drop[i] == OSV_DROP_SUPERSEDED;
            continue;
        }
        nkept++;
        size_t me = node_of(&g, records[i]->id);
        for (size_t k = 0; k < records[i]->naliases; k++)
            unite(&g, me, node_of(&g, records[i]->aliases[k]));
    }
    /* 4. Each group's key: its first CVE id, else its smallest record id. */
    const char **cve = kb_calloc(g.nnodes ? g.nnodes : 1, sizeof *cve);
    const char **recid = kb_calloc(g.nnodes ? g.nnodes : 1, sizeof *recid);
    for (size_t x = 0; x < g.nnodes; x++) {
        size_t root = find(&g, x);
        const char *id = g.nodes[x].id;
        size_t rec = g.nodes[x].rec;
        if (is_cve(id) && (!cve[root] || strcmp(id, cve[root]) < 0))
            cve[root] = id;
        if (rec != NONE && out->drop[rec] == OSV_KEPT &&
            (!recid[root] || strcmp(id, recid[root]) < 0))
            recid[root] = id;
    }
    struct entry *ents = kb_malloc((nkept ? nkept : 1) * sizeof *ents);
    size_t ne = 0;
    for (size_t i = 0; i < n; i++) {
        if (out->drop[i] != OSV_KEPT)
            continue;
        size_t root = find(&g, node_of(&g, records[i]->id));
        ents[ne++] = (struct entry){cve[root] ? cve[root] : recid[root], records[i]->id, i};
    }
    qsort(ents, ne, sizeof *ents, entry_cmp);
    /* 5. Runs of one key are one group. */
    out->members_store = kb_malloc((ne ? ne : 1) * sizeof *out->members_store);
    out->groups = kb_malloc((ne ? ne : 1) * sizeof *out->groups);
    for (size_t i = 0; i < ne; i++) {
        if (i == 0 || strcmp(ents[i].key, ents[i - 1].key) != 0)
            out->groups[out->n++] = (struct osv_group){ents[i].key, out->members_store + i, 0};
        out->members_store[i] = ents[i].idx;
        out->groups[out->n - 1].n++;
        out->group_of[ents[i].idx] = out->n - 1;
    }
    free(ents);
    free(cve);
    free(recid);
    free(g.nodes);
    free(g.slots);
    return KB_OK;
}
