/* advisory_index_internal.h — the advisory index's state, shared by
 * advisory_index.c (load, group, match) and advisory_index_update.c
 * (replacing one record, findings across an asset index). Not a public
 * interface. */
#ifndef KOBAN_ADVISORY_INDEX_INTERNAL_H
#define KOBAN_ADVISORY_INDEX_INTERNAL_H

#include "lib/arena.h"
#include "vuln/advisory_index.h"

#define KEY_MAX (OSV_MAX_STRING * 2 + 2)

/* A record's derived facts; group is OSV_NO_INDEX when it is dropped. */
struct rec_info {
    size_t group;
    int severity;
    double score;
    const char *from;
    const char *note;
};

/* A group of kept records. Built by advidx_finish: members point into
 * struct osv_groups and aliases into the arena. Rebuilt by advidx_replace:
 * both kb_malloc'd and owned here (own_*). A free slot has key NULL. */
struct advidx_grp {
    const char *key;
    const size_t *members;
    size_t n;
    const char **aliases;
    size_t naliases;
    size_t *own_members;
    const char **own_aliases;
};

/* (key, record) before sorting; one per distinct package of a record
 * (advidx_findings: rec is the affected[] entry). */
struct pair {
    const char *key;
    uint32_t rec;
};

/* A package key's records, in load order: postings[start..start+n) as
 * built, or own[0..n) (kb_malloc'd, cap) once advidx_replace changed it. */
struct slot {
    const char *key; /* NULL: empty */
    uint32_t start, n;
    uint32_t *own;
    uint32_t cap;
};

/* An id or alias of a kept record -> its group. id NULL: empty; the
 * address of a tombstone marker: deleted. */
struct idslot {
    const char *id;
    uint32_t group;
};

struct advidx {
    struct osv_record **recs;
    size_t nrecs, caprecs;
    char **errors;
    size_t nerrors, errors_total;
    bool finished;
    struct osv_groups groups;   /* as advidx_finish grouped (members kept) */
    struct rec_info *info;      /* per record (caprecs once finished) */
    struct advidx_grp *grps;    /* groups, live and free */
    size_t ngrps, capgrps, nlive;
    size_t *freeg;              /* free group slots */
    size_t nfreeg, capfreeg;
    struct idslot *ids;         /* open addressing, power of two */
    size_t idsize, idused;      /* idused counts tombstones too */
    size_t nwithdrawn, nsuperseded;
    struct slot *table;         /* open addressing, power of two */
    size_t tabsize, nkeys;
    uint32_t *postings;         /* record indexes, grouped by key */
    struct arena arena;         /* keys and alias lists */
};

uint64_t advidx_key_hash(const char *s);
void advidx_rec_severity(const struct osv_record *r, struct rec_info *ri);
kb_err advidx_group_aliases(struct advidx *idx, const size_t *members, size_t n,
                            const char *key, bool own, const char ***list, size_t *nlist);
void advidx_make_hit(const struct advidx *idx, uint32_t ri, const struct osv_match *m,
                     struct advidx_hit *hit);
const struct slot *advidx_slot(const struct advidx *idx, const char *key);
/* id -> group (inserted or overwritten), and its lookup (OSV_NO_INDEX). */
void advidx_id_put(struct advidx *idx, const char *id, uint32_t group);
size_t advidx_id_get(const struct advidx *idx, const char *id);
/* Frees what a group owns and marks it free. */
void advidx_grp_clear(struct advidx_grp *g);

#endif
