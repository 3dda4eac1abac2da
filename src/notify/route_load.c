/*
 * route_load.c — building a route_set from the routing file (route.h).
 *
 * Order matters for the checks: receivers are read first, so that the
 * route tree, escalate and ops can refuse names that do not exist. The
 * tree is flattened into an array of nodes (parent before children, each
 * node linking its first child and next sibling by index), so that
 * growing the array while recursing never invalidates what a caller holds.
 */
#include "notify/recv_internal.h"
#include "notify/route_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_MAX_KEY 256 /* "route.routes[12].routes[3].match.labels.team" */

struct loader {
    struct ry_ctx y;
    struct route_set *rs;
    unsigned recv_line[ROUTE_MAX_RECEIVERS]; /* where each receiver starts */
};

/* ---- receivers ---------------------------------------------------------- */

enum { T_SLACK, T_GITHUB, T_PAGERDUTY, T_WEBHOOK, T_SLACK_INCIDENT, T_GITHUB_INCIDENT, T_COUNT };
static const char *const type_names[T_COUNT] = {"slack", "github", "pagerduty", "webhook",
                                                "slack_incident", "github_incident"};
/* Severities each type gets when the file has no route: (bit s = severity s). */
static const uint8_t type_default_mask[T_COUNT] = {
    1u << KB_SEV_LOW,                                                      /* slack */
    (1u << KB_SEV_MEDIUM) | (1u << KB_SEV_HIGH) | (1u << KB_SEV_CRITICAL), /* github */
    (1u << KB_SEV_HIGH) | (1u << KB_SEV_CRITICAL),                         /* pagerduty */
    ROUTE_SEV_ALL & ~1u,                                                   /* webhook */
    0, /* slack_incident: the incident bot's calls, never alerts */
    0, /* github_incident: the same */
};
/* Keys that only some types take; the rest apply to every type. */
static const struct {
    const char *key;
    uint8_t types; /* bit t: type t takes it */
} type_keys[] = {
    {"channel", 1u << T_SLACK},
    {"webhook_url", 1u << T_SLACK},
    {"repo", (1u << T_GITHUB) | (1u << T_GITHUB_INCIDENT)},
    {"url", 1u << T_WEBHOOK},
    {"base_url", (1u << T_SLACK) | (1u << T_GITHUB) | (1u << T_PAGERDUTY) |
                     (1u << T_SLACK_INCIDENT) | (1u << T_GITHUB_INCIDENT)},
};

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

static bool http_url(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

/* An optional URL-valued key. */
static kb_err url_key(struct loader *L, const yaml_node_t *row, const char *key, const char *where,
                      const char **out)
{
    *out = NULL;
    yaml_node_t *v = ry_get(&L->y, row, key);
    if (!v)
        return KB_OK;
    char path[PATH_MAX_KEY];
    snprintf(path, sizeof path, "%s.%s", where, key);
    kb_err e = ry_text(&L->y, v, path, true, out);
    if (e)
        return e;
    if (!http_url(*out))
        return ry_bad(&L->y, v, path, "expected an http:// or https:// URL");
    if (strlen(*out) >= RECV_URL_MAX)
        return ry_bad(&L->y, v, path, "longer than %d bytes", RECV_URL_MAX - 1);
    return KB_OK;
}

/* An optional text key, ${VAR} expanded. */
static kb_err text_key(struct loader *L, const yaml_node_t *row, const char *key, const char *where,
                       const char **out)
{
    *out = NULL;
    yaml_node_t *v = ry_get(&L->y, row, key);
    if (!v)
        return KB_OK;
    char path[PATH_MAX_KEY];
    snprintf(path, sizeof path, "%s.%s", where, key);
    return ry_text(&L->y, v, path, true, out);
}

static kb_err parse_receiver(struct loader *L, const yaml_node_t *row, size_t idx)
{
    static const char *const allowed[] = {
        "name", "type", "token",         "token_file", "channel",     "webhook_url", "base_url",
        "repo", "url",  "templates_dir", "rate",       "concurrency", NULL};
    struct ry_ctx *y = &L->y;
    struct route_recv *r = &L->rs->recv[idx];
    char where[64], path[PATH_MAX_KEY];
    snprintf(where, sizeof where, "receivers[%zu]", idx);
    kb_err e = ry_mapping(y, row, where, allowed);
    if (e)
        return e;
    L->recv_line[idx] = ry_line(row);

    yaml_node_t *v = ry_get(y, row, "name");
    snprintf(path, sizeof path, "%s.name", where);
    if (!v)
        return ry_bad(y, row, path, "is required");
    const char *name;
    if ((e = ry_scalar(y, v, path, &name)))
        return e;
    if (!name_ok(name))
        return ry_bad(y, v, path, "'%s': use 1 to 64 of a-z 0-9 _ -", name);
    for (size_t i = 0; i < idx; i++)
        if (strcmp(L->rs->recv[i].cfg.name, name) == 0)
            return ry_bad(y, v, path, "duplicate receiver name '%s' (first at line %u)", name,
                          L->recv_line[i]);
    if ((e = ry_keep(y, v, name, strlen(name), &r->cfg.name)))
        return e;

    v = ry_get(y, row, "type");
    snprintf(path, sizeof path, "%s.type", where);
    if (!v)
        return ry_bad(y, row, path, "is required (slack, github, pagerduty, webhook, "
                                    "slack_incident or github_incident)");
    const char *type;
    if ((e = ry_scalar(y, v, path, &type)))
        return e;
    int t = 0;
    while (t < T_COUNT && strcmp(type, type_names[t]) != 0)
        t++;
    if (t == T_COUNT)
        return ry_bad(y, v, path,
                      "unknown type '%s' (slack, github, pagerduty, webhook, slack_incident or "
                      "github_incident)",
                      type);
    r->cfg.type = type_names[t];
    for (size_t k = 0; k < KB_ARRAY_LEN(type_keys); k++) {
        yaml_node_t *kn = ry_get(y, row, type_keys[k].key);
        if (kn && !(type_keys[k].types & (1u << t))) {
            snprintf(path, sizeof path, "%s.%s", where, type_keys[k].key);
            return ry_bad(y, kn, path, "does not apply to type %s", type_names[t]);
        }
    }

    yaml_node_t *tok = ry_get(y, row, "token"), *tokf = ry_get(y, row, "token_file");
    snprintf(path, sizeof path, "%s.token_file", where);
    if (tok && tokf)
        return ry_bad(y, tokf, path, "give token or token_file, not both");
    if (tokf && (e = ry_read_secret(y, tokf, path, &r->cfg.token)))
        return e;
    if (tok && (e = text_key(L, row, "token", where, &r->cfg.token)))
        return e;
    if ((e = text_key(L, row, "channel", where, &r->cfg.channel)) ||
        (e = text_key(L, row, "repo", where, &r->cfg.repo)) ||
        (e = url_key(L, row, "webhook_url", where, &r->cfg.webhook_url)) ||
        (e = url_key(L, row, "base_url", where, &r->cfg.base_url)) ||
        (e = url_key(L, row, "url", where, &r->cfg.url)))
        return e;
    if ((v = ry_get(y, row, "templates_dir"))) {
        snprintf(path, sizeof path, "%s.templates_dir", where);
        if ((e = ry_path(y, v, path, &r->cfg.templates_dir)))
            return e;
    }
    if ((v = ry_get(y, row, "rate"))) {
        snprintf(path, sizeof path, "%s.rate", where);
        uint32_t n;
        int64_t per;
        if ((e = ry_rate(y, v, path, &n, &per)))
            return e;
        r->rate_per_sec = (double)n * 1000.0 / (double)per;
    }
    if ((v = ry_get(y, row, "concurrency"))) {
        snprintf(path, sizeof path, "%s.concurrency", where);
        uint64_t n;
        if ((e = ry_uint(y, v, path, 1, ROUTE_MAX_CONCURRENCY, &n)))
            return e;
        r->concurrency = (unsigned)n;
    }

    /* What each type cannot work without (the receivers check the same
     * when created; here the error can name the line). */
    const struct recv_config *c = &r->cfg;
    const char *missing = NULL;
    switch (t) {
    case T_SLACK:
        if (!c->webhook_url && !c->token)
            missing = "token (or webhook_url)";
        else if (!c->webhook_url && !c->channel)
            missing = "channel (or webhook_url)";
        break;
    case T_GITHUB:
    case T_GITHUB_INCIDENT:
        missing = !c->token ? "token" : !c->repo ? "repo (\"owner/name\")" : NULL;
        if (!missing && !recv_repo_ok(c->repo)) {
            snprintf(path, sizeof path, "%s.repo", where);
            return ry_bad(y, ry_get(y, row, "repo"), path, "'%s' is not \"owner/name\"", c->repo);
        }
        break;
    case T_PAGERDUTY:
        missing = !c->token ? "token (the routing key)" : NULL;
        break;
    case T_SLACK_INCIDENT:
        missing = !c->token ? "token (the bot token)" : NULL;
        break;
    default:
        missing = !c->url ? "url" : !c->token ? "token (the HMAC secret)" : NULL;
        break;
    }
    if (missing)
        return ry_bad(y, row, where, "a %s receiver needs %s", type_names[t], missing);
    return KB_OK;
}

static kb_err parse_receivers(struct loader *L, const yaml_node_t *seq)
{
    if (seq->type != YAML_SEQUENCE_NODE)
        return ry_bad(&L->y, seq, "receivers", "expected a list of receivers");
    size_t n = ry_len(seq);
    if (n > ROUTE_MAX_RECEIVERS)
        return ry_bad(&L->y, seq, "receivers", "more than %d receivers", ROUTE_MAX_RECEIVERS);
    if (n == 0)
        return KB_OK;
    L->rs->recv = arena_alloc(&L->rs->mem, n * sizeof *L->rs->recv);
    if (!L->rs->recv)
        return ry_full(&L->y, seq);
    memset(L->rs->recv, 0, n * sizeof *L->rs->recv);
    for (size_t i = 0; i < n; i++) {
        kb_err e = parse_receiver(L, ry_item(&L->y, seq, i), i);
        if (e)
            return e;
        L->rs->nrecv = i + 1;
    }
    return KB_OK;
}

/* ---- the route tree ------------------------------------------------------ */

static kb_err new_node(struct loader *L, const yaml_node_t *at, const char *path, int32_t *idx)
{
    struct route_set *rs = L->rs;
    if (rs->nnodes >= ROUTE_MAX_NODES)
        return kb_fail(L->y.why, KB_ETOOBIG, "%s:%u: %s: more than %d route nodes", L->y.name,
                       ry_line(at), path, ROUTE_MAX_NODES);
    if (rs->nnodes == rs->capnodes) {
        rs->capnodes = rs->capnodes ? rs->capnodes * 2 : 16;
        rs->nodes = kb_realloc(rs->nodes, rs->capnodes * sizeof *rs->nodes);
    }
    *idx = (int32_t)rs->nnodes++;
    struct route_node *nd = &rs->nodes[*idx];
    memset(nd, 0, sizeof *nd);
    nd->receiver = nd->eff_receiver = nd->first_child = nd->next_sibling = -1;
    nd->sev_mask = ROUTE_SEV_ALL;
    nd->line = ry_line(at);
    return KB_OK;
}

/* A value or a non-empty list of values, kept in the arena. */
static kb_err parse_values(struct loader *L, const yaml_node_t *v, const char *path,
                           struct route_values *out)
{
    struct ry_ctx *y = &L->y;
    size_t n = v->type == YAML_SEQUENCE_NODE ? ry_len(v) : 1;
    if (v->type == YAML_SEQUENCE_NODE && n == 0)
        return ry_bad(y, v, path, "an empty list matches nothing");
    if (n > ROUTE_MAX_VALUES)
        return ry_bad(y, v, path, "more than %d values", ROUTE_MAX_VALUES);
    out->v = arena_alloc(&L->rs->mem, n * sizeof *out->v);
    if (!out->v)
        return ry_full(y, v);
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *it = v->type == YAML_SEQUENCE_NODE ? ry_item(y, v, i) : v;
        const char *s;
        kb_err e = ry_scalar(y, it, path, &s);
        if (!e)
            e = ry_keep(y, it, s, it->data.scalar.length, &out->v[i]);
        if (e)
            return e;
    }
    out->n = (uint32_t)n;
    return KB_OK;
}

/* "high", "<= low", ">= medium", "> low", "< critical", or a list of names. */
static kb_err parse_severity(struct loader *L, const yaml_node_t *v, const char *path,
                             uint8_t *mask)
{
    struct ry_ctx *y = &L->y;
    *mask = 0;
    size_t n = v->type == YAML_SEQUENCE_NODE ? ry_len(v) : 1;
    if (v->type == YAML_SEQUENCE_NODE && n == 0)
        return ry_bad(y, v, path, "an empty list matches nothing");
    if (n > KB_SEV_COUNT * 4)
        return ry_bad(y, v, path, "too many values");
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *it = v->type == YAML_SEQUENCE_NODE ? ry_item(y, v, i) : v;
        const char *s;
        kb_err e = ry_scalar(y, it, path, &s);
        if (e)
            return e;
        /* An operator only on a single value: a list names severities. */
        char op[3] = "";
        if (v->type != YAML_SEQUENCE_NODE && (s[0] == '>' || s[0] == '<')) {
            size_t oplen = s[1] == '=' ? 2 : 1;
            memcpy(op, s, oplen);
            op[oplen] = '\0';
            s += oplen;
            while (*s == ' ')
                s++;
        }
        int sev;
        if (kb_severity_parse(s, &sev) != KB_OK)
            return ry_bad(y, it, path,
                          "unknown severity '%s' (none, low, medium, high, critical; "
                          "or \">= NAME\", \"<= NAME\")",
                          s);
        for (int k = 0; k < KB_SEV_COUNT; k++) {
            bool in = !strcmp(op, ">=")   ? k >= sev
                      : !strcmp(op, "<=") ? k <= sev
                      : !strcmp(op, ">")  ? k > sev
                      : !strcmp(op, "<")  ? k < sev
                                          : k == sev;
            if (in)
                *mask |= (uint8_t)(1u << k);
        }
    }
    *mask &= (uint8_t) ~(1u << KB_SEV_NONE); /* none never notifies */
    if (!*mask)
        return ry_bad(y, v, path, "matches no severity that notifies (none never does)");
    return KB_OK;
}

static kb_err parse_match(struct loader *L, int32_t idx, const yaml_node_t *m, const char *at)
{
    static const char *const allowed[] = {"severity", "source", "kind", "labels", NULL};
    struct ry_ctx *y = &L->y;
    char path[PATH_MAX_KEY];
    snprintf(path, sizeof path, "%s.match", at);
    kb_err e = ry_mapping(y, m, path, allowed);
    if (e)
        return e;
    struct route_node nd = L->rs->nodes[idx];
    yaml_node_t *v;
    if ((v = ry_get(y, m, "severity"))) {
        snprintf(path, sizeof path, "%s.match.severity", at);
        if ((e = parse_severity(L, v, path, &nd.sev_mask)))
            return e;
    }
    if ((v = ry_get(y, m, "source"))) {
        snprintf(path, sizeof path, "%s.match.source", at);
        if ((e = parse_values(L, v, path, &nd.sources)))
            return e;
    }
    if ((v = ry_get(y, m, "kind"))) {
        snprintf(path, sizeof path, "%s.match.kind", at);
        if ((e = parse_values(L, v, path, &nd.kinds)))
            return e;
    }
    if ((v = ry_get(y, m, "labels"))) {
        snprintf(path, sizeof path, "%s.match.labels", at);
        size_t n = ry_len(v);
        if (v->type == YAML_MAPPING_NODE && n > ROUTE_MAX_LABELS)
            return ry_bad(y, v, path, "more than %d labels", ROUTE_MAX_LABELS);
        if ((e = ry_mapping(y, v, path, NULL)))
            return e;
        nd.labels = arena_alloc(&L->rs->mem, (n ? n : 1) * sizeof *nd.labels);
        if (!nd.labels)
            return ry_full(y, v);
        for (size_t i = 0; i < n; i++) {
            yaml_node_pair_t *p = &v->data.mapping.pairs.start[i];
            yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
            yaml_node_t *val = yaml_document_get_node(y->doc, p->value);
            snprintf(path, sizeof path, "%s.match.labels.%s", at, ry_cstr(k));
            if ((e = ry_keep(y, k, ry_cstr(k), k->data.scalar.length, &nd.labels[i].key)) ||
                (e = parse_values(L, val, path, &nd.labels[i].values)))
                return e;
        }
        nd.nlabels = (uint32_t)n;
    }
    L->rs->nodes[idx] = nd;
    return KB_OK;
}

/* One node and, recursively, its children; depth 0 is the root. */
static kb_err parse_node(struct loader *L, const yaml_node_t *n, const char *at, int depth,
                         int32_t parent, int32_t *out)
{
    static const char *const root_keys[] = {"receiver", "routes", NULL};
    static const char *const child_keys[] = {"match", "receiver", "continue", "routes", NULL};
    struct ry_ctx *y = &L->y;
    char path[PATH_MAX_KEY];
    if (depth > ROUTE_MAX_DEPTH)
        return kb_fail(y->why, KB_ETOOBIG, "%s:%u: %s: routes nested deeper than %d", y->name,
                       ry_line(n), at, ROUTE_MAX_DEPTH);
    kb_err e = ry_mapping(y, n, at, depth ? child_keys : root_keys);
    if (!e && depth == 0 && !ry_get(y, n, "receiver") && !ry_get(y, n, "routes"))
        e = ry_bad(y, n, at, "needs a receiver, routes, or both");
    int32_t idx;
    if (e || (e = new_node(L, n, at, &idx)))
        return e;
    yaml_node_t *v;
    if ((v = ry_get(y, n, "match")) && (e = parse_match(L, idx, v, at)))
        return e;
    if ((v = ry_get(y, n, "continue"))) {
        snprintf(path, sizeof path, "%s.continue", at);
        bool b;
        if ((e = ry_bool(y, v, path, &b)))
            return e;
        L->rs->nodes[idx].cont = b;
    }
    int32_t eff = parent >= 0 ? L->rs->nodes[parent].eff_receiver : -1;
    if ((v = ry_get(y, n, "receiver"))) {
        snprintf(path, sizeof path, "%s.receiver", at);
        size_t r;
        if ((e = route_receiver_ref(&L->y, L->rs, v, path, &r)))
            return e;
        if (strcmp(L->rs->recv[r].cfg.type, "slack_incident") == 0)
            return ry_bad(y, v, path, "%s is a slack_incident receiver (the incident bot's); "
                                      "route alerts to a slack receiver",
                          L->rs->recv[r].cfg.name);
        if (strcmp(L->rs->recv[r].cfg.type, "github_incident") == 0)
            return ry_bad(y, v, path, "%s is a github_incident receiver (the incident bot's); "
                                      "route alerts to a github receiver",
                          L->rs->recv[r].cfg.name);
        L->rs->nodes[idx].receiver = eff = (int32_t)r;
    }
    L->rs->nodes[idx].eff_receiver = eff;
    if ((v = ry_get(y, n, "routes"))) {
        snprintf(path, sizeof path, "%s.routes", at);
        if (v->type != YAML_SEQUENCE_NODE)
            return ry_bad(y, v, path, "expected a list of routes");
        int32_t prev = -1;
        for (size_t i = 0; i < ry_len(v); i++) {
            snprintf(path, sizeof path, "%s.routes[%zu]", at, i);
            int32_t child;
            if ((e = parse_node(L, ry_item(y, v, i), path, depth + 1, idx, &child)))
                return e;
            if (prev < 0)
                L->rs->nodes[idx].first_child = child;
            else
                L->rs->nodes[prev].next_sibling = child;
            prev = child;
        }
    }
    *out = idx;
    return KB_OK;
}

/* No route: in the file: a receiver-less root with one continue: true
 * child per receiver, matching the severities its type gets by default. */
static kb_err default_tree(struct loader *L, const yaml_node_t *root)
{
    struct route_set *rs = L->rs;
    int32_t top, prev = -1;
    kb_err e = new_node(L, root, "route", &top);
    for (size_t i = 0; !e && i < rs->nrecv; i++) {
        int32_t c;
        if ((e = new_node(L, root, "route", &c)))
            break;
        int t = 0;
        while (t < T_COUNT - 1 && strcmp(rs->recv[i].cfg.type, type_names[t]) != 0)
            t++; /* every receiver has a known type: the loop stops at it */
        struct route_node *nd = &rs->nodes[c];
        nd->receiver = nd->eff_receiver = (int32_t)i;
        nd->cont = true;
        nd->sev_mask = type_default_mask[t];
        nd->line = L->recv_line[i];
        if (prev < 0)
            rs->nodes[top].first_child = c;
        else
            rs->nodes[prev].next_sibling = c;
        prev = c;
    }
    rs->is_default = true;
    return e;
}

/* ---- the file ------------------------------------------------------------ */

static kb_err parse_root(struct loader *L, yaml_node_t *root)
{
    static const char *const allowed[] = {"koban_url", "receivers", "route", "flood", "flood_rule",
                                          "reminders", "escalate",  "ops",   NULL};
    struct ry_ctx *y = &L->y;
    struct route_set *rs = L->rs;
    kb_err e = KB_OK;
    bool empty = !root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0);
    if (!empty)
        e = ry_mapping(y, root, "", allowed);
    yaml_node_t *v;
    if (!e && (v = ry_get(y, root, "koban_url"))) {
        if (!(e = ry_text(y, v, "koban_url", true, &rs->koban_url)) && !http_url(rs->koban_url))
            e = ry_bad(y, v, "koban_url", "expected an http:// or https:// URL");
    }
    if (!e && (v = ry_get(y, root, "receivers")))
        e = parse_receivers(L, v);
    for (size_t i = 0; !e && i < rs->nrecv; i++)
        rs->recv[i].cfg.koban_url = rs->koban_url;
    if (!e) {
        int32_t top;
        v = ry_get(y, root, "route");
        e = v ? parse_node(L, v, "route", 0, -1, &top) : default_tree(L, root);
    }
    if (!e)
        e = route_parse_settings(y, rs, root);
    return e;
}

static kb_err load(const char *text, size_t len, const char *name, const char *dir,
                   struct route_set **out, struct kb_why *why)
{
    *out = NULL;
    if (len > ROUTE_MAX_FILE)
        return kb_fail(why, KB_ETOOBIG, "%s: larger than %d bytes", name, ROUTE_MAX_FILE);
    struct route_set *rs = kb_calloc(1, sizeof *rs);
    arena_init(&rs->mem, ROUTE_ARENA_LIMIT);
    route_settings_defaults(rs);
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    kb_err e = KB_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        e = kb_fail(why, KB_EINVAL, "%s:%zu: %s%s%s", name, parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "not valid YAML", parser.context ? " " : "",
                    parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        route_set_free(rs);
        return e;
    }
    struct loader L = {.y = {&doc, name, dir, &rs->mem, why}, .rs = rs};
    e = parse_root(&L, yaml_document_get_root_node(&doc));
    if (!e) {
        /* A second document would be ignored silently: refuse it. */
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) { /* libyaml freed next */
            e = kb_fail(why, KB_EINVAL, "%s:%zu: %s", name, parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "not valid YAML");
        } else {
            if (yaml_document_get_root_node(&next))
                e = kb_fail(why, KB_EINVAL, "%s:%zu: only one YAML document is allowed", name,
                            next.start_mark.line + 1);
            yaml_document_delete(&next);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (e) {
        route_set_free(rs);
        return e;
    }
    *out = rs;
    return KB_OK;
}

kb_err route_load_buffer(const char *text, size_t len, const char *name, struct route_set **out,
                         struct kb_why *why)
{
    return load(text, len, name ? name : "(routes)", NULL, out, why);
}

kb_err route_load_file(const char *path, struct route_set **out, struct kb_why *why)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return kb_fail(why, KB_EIO, "%s: not a regular file", path);
    }
    if (st.st_size > ROUTE_MAX_FILE) {
        close(fd);
        return kb_fail(why, KB_ETOOBIG, "%s: larger than %d bytes", path, ROUTE_MAX_FILE);
    }
    /* One byte more than the bound tells a file that grew meanwhile. */
    char *text = kb_malloc(ROUTE_MAX_FILE + 1);
    size_t got = 0;
    kb_err e = KB_OK;
    while (got <= ROUTE_MAX_FILE) {
        ssize_t r = read(fd, text + got, ROUTE_MAX_FILE + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!e) {
        const char *slash = strrchr(path, '/');
        char *dir = slash ? kb_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : NULL;
        e = load(text, got, path, dir, out, why);
        free(dir);
    }
    free(text);
    return e;
}
