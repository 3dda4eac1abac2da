/*
 * route_internal.h — the parsed routing file shared by route_load.c (which
 * builds it from YAML) and route.c (matching and accessors). Not for other
 * modules: they use route.h.
 *
 * Ownership: every string and array reachable from a route_set lives in its
 * arena `mem`, except the nodes array (grown with kb_realloc while
 * loading); route_set_free releases both.
 */
#ifndef KOBAN_ROUTE_INTERNAL_H
#define KOBAN_ROUTE_INTERNAL_H

#include "formats/alert.h"
#include "lib/arena.h"
#include "notify/route.h"
#include "notify/route_yaml.h"

/* Bytes of the arena: strings, value lists and receivers of one file. A
 * 1 MiB file cannot need more than a small multiple of its size. */
#define ROUTE_ARENA_LIMIT (32u << 20)

#define ROUTE_SEV_ALL 0x1fu /* bit s: severity s matches (none..critical) */

/* A list of accepted values; n == 0 with v == NULL: the matcher is absent. */
struct route_values {
    const char **v;
    uint32_t n;
};

struct route_label_match {
    const char *key;
    struct route_values values;
};

struct route_node {
    int32_t receiver;     /* its own receiver index; -1: none */
    int32_t eff_receiver; /* its own, else the nearest ancestor's; -1: none */
    int32_t first_child;  /* node index; -1: a leaf */
    int32_t next_sibling; /* node index; -1: the last child */
    bool cont;            /* continue: true */
    uint8_t sev_mask;     /* ROUTE_SEV_ALL without a severity matcher */
    struct route_values sources, kinds;
    struct route_label_match *labels;
    uint32_t nlabels;
    unsigned line; /* where the node starts in the file */
};

struct route_recv {
    struct recv_config cfg; /* strings in the arena */
    double rate_per_sec;    /* 0: unlimited */
    unsigned concurrency;   /* 0: the worker's default */
};

struct route_set {
    struct arena mem;
    struct route_recv *recv; /* in the arena */
    size_t nrecv;
    struct route_node *nodes; /* node 0 is the root; kb_realloc'ed */
    size_t nnodes, capnodes;
    bool is_default;
    const char *koban_url;
    bool flood_on, flood_rule_on;
    struct flood_config flood, flood_rule;
    int64_t reminder_ms[KB_SEV_COUNT]; /* as written: 0 unset, -1 off, else ms */
    bool escalate_on;
    unsigned escalate_after;
    size_t escalate_recv;
    bool ops_on;
    size_t ops_recv;
    const char *ops_mention;
};

/* route_settings.c: sets the defaults of flood, flood_rule and reminders
 * (before a file is read). */
void route_settings_defaults(struct route_set *rs);
/* route_settings.c: reads flood, flood_rule, reminders, escalate and ops
 * from the file's top mapping (after the receivers). */
kb_err route_parse_settings(struct ry_ctx *y, struct route_set *rs, const yaml_node_t *root);
/* route_settings.c: the index of the receiver a scalar names, or an error
 * at v saying it is unknown. */
kb_err route_receiver_ref(struct ry_ctx *y, const struct route_set *rs, const yaml_node_t *v,
                          const char *path, size_t *idx);

#endif
