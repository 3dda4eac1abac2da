/* receiver.c — receiver objects, the table of receiver types, and the
 * request/result helpers every type uses. */
#include "notify/receiver.h"

#include "notify/recv_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Receiver types: adding one is adding its file and a line here. */
static const struct recv_ops *const recv_types[] = {
    &recv_slack_ops,     /* recv_slack.c */
    &recv_github_ops,    /* recv_github.c */
    &recv_pagerduty_ops, /* recv_pagerduty.c */
    &recv_webhook_ops,   /* recv_webhook.c */
    &recv_slack_incident_ops, /* recv_slack_incident.c */
    &recv_github_incident_ops, /* recv_github_incident.c */
};

struct receiver {
    char *name;
    const struct recv_ops *ops;
    struct recv_config cfg; /* strings owned */
    void *data;             /* the type's (ops->init) */
    void *ctx;              /* receiver_new_ops' caller's */
};

static char *dup_or_null(const char *s)
{
    return s ? kb_strdup(s) : NULL;
}

kb_err receiver_new(const struct recv_config *c, struct receiver **out, struct kb_why *why)
{
    *out = NULL;
    if (!c->name || !*c->name)
        return kb_fail(why, KB_EINVAL, "receiver: name is required");
    if (!c->type || !*c->type)
        return kb_fail(why, KB_EINVAL, "receiver %s: type is required", c->name);
    const struct recv_ops *ops = NULL;
    for (size_t i = 0; i < KB_ARRAY_LEN(recv_types); i++)
        if (recv_types[i] && strcmp(recv_types[i]->type, c->type) == 0)
            ops = recv_types[i];
    if (!ops)
        return kb_fail(why, KB_EINVAL, "receiver %s: type: unknown type \"%s\"", c->name,
                       c->type);
    struct receiver *r = calloc(1, sizeof *r);
    r->ops = ops;
    r->name = kb_strdup(c->name);
    r->cfg.name = r->name;
    r->cfg.type = ops->type;
    r->cfg.base_url = dup_or_null(c->base_url);
    r->cfg.token = dup_or_null(c->token);
    r->cfg.channel = dup_or_null(c->channel);
    r->cfg.webhook_url = dup_or_null(c->webhook_url);
    r->cfg.repo = dup_or_null(c->repo);
    r->cfg.url = dup_or_null(c->url);
    r->cfg.koban_url = dup_or_null(c->koban_url);
    r->cfg.templates_dir = dup_or_null(c->templates_dir);
    if (ops->init) {
        kb_err e = ops->init(&r->cfg, &r->data, why);
        if (e) {
            r->ops = NULL; /* no fini for data that init did not set */
            receiver_free(r);
            return e;
        }
    }
    *out = r;
    return KB_OK;
}

kb_err receiver_new_ops(const char *name, const struct recv_ops *ops, void *ctx,
                        struct receiver **out)
{
    *out = NULL;
    if (!name || !ops)
        return KB_EINVAL;
    struct receiver *r = calloc(1, sizeof *r);
    r->name = kb_strdup(name);
    r->cfg.name = r->name;
    r->cfg.type = ops->type;
    r->ops = ops;
    r->ctx = ctx;
    *out = r;
    return KB_OK;
}

void receiver_free(struct receiver *r)
{
    if (!r)
        return;
    if (r->ops && r->ops->fini && r->data)
        r->ops->fini(r->data);
    free((char *)r->cfg.base_url);
    free((char *)r->cfg.token);
    free((char *)r->cfg.channel);
    free((char *)r->cfg.webhook_url);
    free((char *)r->cfg.repo);
    free((char *)r->cfg.url);
    free((char *)r->cfg.koban_url);
    free((char *)r->cfg.templates_dir);
    free(r->name);
    free(r);
}

const char *receiver_name(const struct receiver *r)
{
    return r->name;
}
const struct recv_ops *receiver_ops(const struct receiver *r)
{
    return r->ops;
}
const struct recv_config *receiver_config(const struct receiver *r)
{
    return &r->cfg;
}
void *receiver_ctx(const struct receiver *r)
{
    return r->ctx;
}
void *receiver_data(const struct receiver *r)
{
    return r->data;
}

void recv_request_release(struct recv_request *r)
{
    for (size_t i = 0; i < r->nheaders; i++)
        free(r->headers[i]);
    r->nheaders = 0;
    buf_release(&r->body);
}

kb_err recv_request_header(struct recv_request *r, const char *fmt, ...)
{
    if (r->nheaders >= RECV_MAX_HEADERS)
        return KB_ETOOBIG;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return KB_ETOOBIG;
    r->headers[r->nheaders++] = s;
    return KB_OK;
}

void recv_result_release(struct recv_result *r)
{
    free(r->state);
    r->state = NULL;
}
