/*
 * route.c — walking the route tree for an issue, and the accessors
 * (route.h). Loading is in route_load.c.
 *
 * The walk is Alertmanager's: take(node) tries the children in order; a
 * matching child is taken recursively (it always yields at least itself),
 * and unless it has continue: true the siblings after it are not tried;
 * when no child matched, the node itself is the result. The results are
 * mapped to effective receivers and deduplicated in tree order. Depth is
 * bounded by ROUTE_MAX_DEPTH at load time, so the recursion is too.
 */
#include "notify/route_internal.h"

#include <stdlib.h>

/* Labels parsed at most once per call, and only when a label matcher is
 * reached: most trees never look at them. */
#define ROUTE_LABELS_ARENA (1u << 20)

struct walk {
    const struct route_set *rs;
    const struct route_input *in;
    size_t *out;
    size_t max, n;
    uint8_t seen[ROUTE_MAX_RECEIVERS / 8];
    bool labels_tried;
    const struct json_value *labels;
    struct arena arena;
};

static bool in_values(const struct route_values *vs, const char *s, size_t n)
{
    for (uint32_t i = 0; i < vs->n; i++)
        if (strlen(vs->v[i]) == n && memcmp(vs->v[i], s, n) == 0)
            return true;
    return false;
}

static bool match_text(const struct route_values *vs, const char *s)
{
    if (!vs->v)
        return true; /* no matcher */
    return s && in_values(vs, s, strlen(s));
}

static const struct json_value *labels_of(struct walk *w)
{
    if (w->labels_tried)
        return w->labels;
    w->labels_tried = true;
    if (w->in->labels) {
        w->labels = w->in->labels;
    } else if (w->in->labels_json) {
        struct json_value *v = NULL;
        arena_init(&w->arena, ROUTE_LABELS_ARENA);
        if (json_parse(w->in->labels_json, strlen(w->in->labels_json), NULL, &w->arena, &v, NULL) ==
            KB_OK)
            w->labels = v;
    }
    if (w->labels && w->labels->type != JSON_OBJECT)
        w->labels = NULL;
    return w->labels;
}

static bool node_matches(struct walk *w, const struct route_node *nd)
{
    int sev = w->in->severity;
    if (!(nd->sev_mask & (1u << sev)))
        return false;
    if (!match_text(&nd->sources, w->in->source) || !match_text(&nd->kinds, w->in->kind))
        return false;
    if (!nd->nlabels)
        return true;
    const struct json_value *labels = labels_of(w);
    if (!labels)
        return false;
    for (uint32_t i = 0; i < nd->nlabels; i++) {
        const struct route_label_match *lm = &nd->labels[i];
        struct kb_str v = json_str(json_get(labels, lm->key));
        if (!v.p || !in_values(&lm->values, v.p, v.n))
            return false;
    }
    return true;
}

static void add(struct walk *w, int32_t r)
{
    if (r < 0 || (size_t)r >= w->rs->nrecv)
        return;
    uint8_t bit = (uint8_t)(1u << (r % 8));
    if (w->seen[r / 8] & bit)
        return;
    w->seen[r / 8] |= bit;
    if (w->n < w->max)
        w->out[w->n++] = (size_t)r;
}

static void take(struct walk *w, int32_t idx)
{
    const struct route_node *nd = &w->rs->nodes[idx];
    bool any = false;
    for (int32_t c = nd->first_child; c >= 0; c = w->rs->nodes[c].next_sibling) {
        if (!node_matches(w, &w->rs->nodes[c]))
            continue;
        take(w, c);
        any = true;
        if (!w->rs->nodes[c].cont)
            break;
    }
    if (!any)
        add(w, nd->eff_receiver);
}

size_t route_match(const struct route_set *rs, const struct route_input *in, size_t *out,
                   size_t max)
{
    if (!rs || !in || in->severity <= KB_SEV_NONE || in->severity >= KB_SEV_COUNT ||
        rs->nnodes == 0)
        return 0;
    struct walk w = {.rs = rs, .in = in, .out = out, .max = out ? max : 0};
    take(&w, 0);
    if (w.labels_tried && !in->labels && in->labels_json)
        arena_release(&w.arena);
    return w.n;
}

void route_set_free(struct route_set *rs)
{
    if (!rs)
        return;
    /* Tokens live in the arena: clear them before the memory goes back. */
    for (size_t i = 0; i < rs->nrecv; i++)
        if (rs->recv[i].cfg.token)
            memset((char *)rs->recv[i].cfg.token, 0, strlen(rs->recv[i].cfg.token));
    arena_release(&rs->mem);
    free(rs->nodes);
    free(rs);
}

size_t route_nreceivers(const struct route_set *rs)
{
    return rs->nrecv;
}

const struct recv_config *route_receiver(const struct route_set *rs, size_t i)
{
    return i < rs->nrecv ? &rs->recv[i].cfg : NULL;
}

kb_err route_receiver_index(const struct route_set *rs, const char *name, size_t *i)
{
    for (size_t k = 0; name && k < rs->nrecv; k++)
        if (strcmp(rs->recv[k].cfg.name, name) == 0) {
            *i = k;
            return KB_OK;
        }
    return KB_ENOTFOUND;
}

double route_receiver_rate(const struct route_set *rs, size_t i)
{
    return i < rs->nrecv ? rs->recv[i].rate_per_sec : 0;
}

unsigned route_receiver_concurrency(const struct route_set *rs, size_t i)
{
    return i < rs->nrecv ? rs->recv[i].concurrency : 0;
}

bool route_is_default(const struct route_set *rs)
{
    return rs->is_default;
}

size_t route_nnodes(const struct route_set *rs)
{
    return rs->nnodes;
}

const char *route_koban_url(const struct route_set *rs)
{
    return rs->koban_url;
}

const struct flood_config *route_flood(const struct route_set *rs)
{
    return rs->flood_on ? &rs->flood : NULL;
}

const struct flood_config *route_flood_rule(const struct route_set *rs)
{
    return rs->flood_rule_on ? &rs->flood_rule : NULL;
}

int64_t route_reminder_ms(const struct route_set *rs, int severity)
{
    if (severity <= KB_SEV_NONE || severity >= KB_SEV_COUNT)
        return 0;
    for (int s = severity; s > KB_SEV_NONE; s--)
        if (rs->reminder_ms[s])
            return rs->reminder_ms[s] > 0 ? rs->reminder_ms[s] : 0;
    return 0;
}

bool route_escalate(const struct route_set *rs, unsigned *after, size_t *receiver)
{
    if (!rs->escalate_on)
        return false;
    if (after)
        *after = rs->escalate_after;
    if (receiver)
        *receiver = rs->escalate_recv;
    return true;
}

bool route_ops(const struct route_set *rs, size_t *receiver, const char **mention)
{
    if (!rs->ops_on)
        return false;
    if (receiver)
        *receiver = rs->ops_recv;
    if (mention)
        *mention = rs->ops_mention;
    return true;
}
