/* notify.c — the notification subsystem assembled for the daemon. */
#include "notify/notify.h"

#include <stdlib.h>
#include <string.h>

struct notify {
    struct route_set *rs;
    struct receiver **recv;
    size_t nrecv;
    struct notifier *notifier;
    struct deliver *deliver;
};

static void kick(void *ctx)
{
    deliver_kick(ctx);
}

/* Requests in flight per receiver when the routing file does not say.
 * Order per issue holds at any concurrency (a job waits for the earlier
 * ones of its issue); what differs is what the service tolerates: GitHub
 * asks for mutations one at a time (secondary rate limits) and Slack allows
 * about one message per second per channel, while PagerDuty's Events API
 * and a webhook take parallel requests. */
static unsigned concurrency_of(const struct route_set *rs, size_t i)
{
    unsigned c = route_receiver_concurrency(rs, i);
    if (c)
        return c;
    const char *type = route_receiver(rs, i)->type;
    return !strcmp(type, "pagerduty") || !strcmp(type, "webhook") ? 2 : 1;
}

kb_err notify_new(const struct notify_opts *o, struct notify **out, struct kb_why *why)
{
    *out = NULL;
    if (!o->routes_path || !*o->routes_path)
        return kb_fail(why, KB_EINVAL, "notify.routes: no routing file");
    struct notify *n = kb_calloc(1, sizeof *n);
    kb_err e = route_load_file(o->routes_path, &n->rs, why);
    if (!e) {
        n->nrecv = route_nreceivers(n->rs);
        if (n->nrecv > DELIVER_MAX_RECEIVERS)
            e = kb_fail(why, KB_ETOOBIG, "%s: more than %d receivers", o->routes_path,
                        DELIVER_MAX_RECEIVERS);
    }
    struct deliver_target t[DELIVER_MAX_RECEIVERS];
    if (!e) {
        n->recv = kb_calloc(n->nrecv ? n->nrecv : 1, sizeof *n->recv);
        for (size_t i = 0; i < n->nrecv && !e; i++) {
            struct kb_why rw = {{0}};
            e = receiver_new(route_receiver(n->rs, i), &n->recv[i], &rw);
            if (e)
                kb_fail(why, e, "%s: %s", o->routes_path, rw.msg);
            else
                t[i] = (struct deliver_target){
                    .receiver = n->recv[i],
                    .concurrency = concurrency_of(n->rs, i),
                    .rate_per_sec = route_receiver_rate(n->rs, i)};
        }
    }
    size_t ops = 0;
    const char *mention = NULL;
    bool has_ops = !e && route_ops(n->rs, &ops, &mention);
    if (has_ops) {
        const struct recv_config *oc = route_receiver(n->rs, ops);
        /* an error message is text for people: not an issue or an incident */
        if (strcmp(oc->type, "slack") && strcmp(oc->type, "webhook"))
            e = kb_fail(why, KB_EINVAL,
                        "%s: ops.receiver: %s is a %s receiver; koban's own errors go to a "
                        "slack or webhook receiver",
                        o->routes_path, oc->name, oc->type);
    }
    if (!e) {
        struct deliver_config dc = o->deliver;
        dc.db_path = o->db_path;
        dc.ops_receiver = has_ops ? route_receiver(n->rs, ops)->name : NULL;
        dc.ops_mention = has_ops ? mention : NULL;
        e = deliver_new(&dc, t, n->nrecv, &n->deliver, why);
    }
    if (!e) {
        struct notifier_opts no = {.repeat_interval_ms = o->repeat_interval_ms,
                                   .kick = kick, .kick_ctx = n->deliver};
        e = notifier_new(n->rs, &no, &n->notifier, why);
    }
    if (e) {
        notify_free(n);
        return e;
    }
    *out = n;
    return KB_OK;
}

kb_err notify_start(struct notify *n, struct kb_why *why)
{
    return deliver_start(n->deliver, why);
}

struct notifier *notify_notifier(struct notify *n)
{
    return n->notifier;
}

size_t notify_nreceivers(const struct notify *n)
{
    return n->nrecv;
}

kb_err notify_metrics(struct notify *n, struct buf *out)
{
    kb_err e = notifier_metrics(n->notifier, out);
    return e ? e : deliver_metrics(n->deliver, out);
}

void notify_free(struct notify *n)
{
    if (!n)
        return;
    deliver_free(n->deliver); /* stops it: no send after this */
    notifier_free(n->notifier);
    for (size_t i = 0; i < n->nrecv && n->recv; i++)
        receiver_free(n->recv[i]);
    free(n->recv);
    route_set_free(n->rs);
    free(n);
}
