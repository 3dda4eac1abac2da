/* incident_bot_config.c — the incident bot's settings file (incident_bot.h).
 * Read with the YAML helpers the routing file uses (notify/route_yaml.h),
 * so errors name the file, line and key the same way. */
#include "incident/incident_bot.h"

#include "lib/arena.h"
#include "notify/route_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IB_MAX_FILE (1024 * 1024)
#define IB_ARENA (4u * 1024 * 1024)

static kb_err read_list(struct ry_ctx *y, const yaml_node_t *n, const char *path,
                        struct incident_bot_list *out)
{
    if (!n)
        return KB_OK;
    if (n->type != YAML_SEQUENCE_NODE)
        return ry_bad(y, n, path, "expected a list");
    size_t len = ry_len(n);
    if (len > INCIDENT_BOT_MAX_LIST)
        return ry_bad(y, n, path, "more than %d entries", INCIDENT_BOT_MAX_LIST);
    out->v = arena_alloc(y->mem, (len ? len : 1) * sizeof *out->v);
    if (!out->v)
        return ry_bad(y, n, path, "too large");
    for (size_t i = 0; i < len; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s[%zu]", path, i);
        kb_err e = ry_text(y, ry_item(y, n, i), p, false, &out->v[i]);
        if (e)
            return e;
    }
    out->n = len;
    return KB_OK;
}

static kb_err read_url(struct ry_ctx *y, const yaml_node_t *n, const char *path, const char **out)
{
    if (!n)
        return KB_OK;
    kb_err e = ry_text(y, n, path, false, out);
    if (!e && strncmp(*out, "https://", 8) != 0 && strncmp(*out, "http://", 7) != 0)
        return ry_bad(y, n, path, "not an http(s) URL");
    return e;
}

static kb_err read_slack(struct ry_ctx *y, const yaml_node_t *n, struct incident_bot *b)
{
    static const char *const keys[] = {"receiver",   "private",    "invite",
                                       "invite_groups", "broadcast", "timekeeper",
                                       "timekeeper_mode", "flowchart", NULL};
    kb_err e = ry_mapping(y, n, "slack", keys);
    const yaml_node_t *v;
    if (!e && !(v = ry_get(y, n, "receiver")))
        return ry_bad(y, n, "slack", "receiver is required (a slack_incident receiver)");
    if (!e)
        e = ry_text(y, ry_get(y, n, "receiver"), "slack.receiver", false, &b->receiver);
    if (!e && (v = ry_get(y, n, "private")))
        e = ry_bool(y, v, "slack.private", &b->private_channels);
    if (!e)
        e = read_list(y, ry_get(y, n, "invite"), "slack.invite", &b->invite);
    if (!e)
        e = read_list(y, ry_get(y, n, "invite_groups"), "slack.invite_groups", &b->invite_groups);
    if (!e)
        e = read_list(y, ry_get(y, n, "broadcast"), "slack.broadcast", &b->broadcast);
    b->timekeeper_ms = 15 * 60000;
    if (!e && (v = ry_get(y, n, "timekeeper"))) {
        if (ry_is_off(v) || (ry_cstr(v) && strcmp(ry_cstr(v), "0") == 0))
            b->timekeeper_ms = 0;
        else
            e = ry_duration(y, v, "slack.timekeeper", 1000, &b->timekeeper_ms);
    }
    b->timekeeper_update = true;
    if (!e && (v = ry_get(y, n, "timekeeper_mode"))) {
        const char *m;
        if (!(e = ry_scalar(y, v, "slack.timekeeper_mode", &m))) {
            if (strcmp(m, "update") == 0)
                b->timekeeper_update = true;
            else if (strcmp(m, "post") == 0)
                b->timekeeper_update = false;
            else
                e = ry_bad(y, v, "slack.timekeeper_mode", "'%s' is not update or post", m);
        }
    }
    if (!e)
        e = read_url(y, ry_get(y, n, "flowchart"), "slack.flowchart", &b->flowchart);
    return e;
}

/* A folder in the repo: relative, of a-z A-Z 0-9 - _ . /, no "..". */
static bool dir_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "..") || strstr(s, "//"))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.' ||
              s[i] == '/'))
            return false;
    return true;
}

static kb_err read_github(struct ry_ctx *y, const yaml_node_t *n, struct incident_bot *b)
{
    static const char *const keys[] = {"receiver", "postmortem_dir", NULL};
    kb_err e = ry_mapping(y, n, "github", keys);
    const yaml_node_t *v;
    if (!e && !ry_get(y, n, "receiver"))
        return ry_bad(y, n, "github", "receiver is required (a github_incident receiver)");
    if (!e)
        e = ry_text(y, ry_get(y, n, "receiver"), "github.receiver", false, &b->github_receiver);
    b->postmortem_dir = "postmortems";
    if (!e && (v = ry_get(y, n, "postmortem_dir"))) {
        e = ry_text(y, v, "github.postmortem_dir", false, &b->postmortem_dir);
        if (!e && !dir_ok(b->postmortem_dir))
            e = ry_bad(y, v, "github.postmortem_dir",
                       "'%s' is not a relative folder (a-z A-Z 0-9 - _ . /, no '..')",
                       b->postmortem_dir);
    }
    return e;
}

static kb_err read_services(struct ry_ctx *y, const yaml_node_t *n, struct incident_bot *b)
{
    if (n->type != YAML_MAPPING_NODE)
        return ry_bad(y, n, "services", "expected a mapping of service names");
    size_t len = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
        len++;
    if (len > INCIDENT_BOT_MAX_SERVICES)
        return ry_bad(y, n, "services", "more than %d services", INCIDENT_BOT_MAX_SERVICES);
    b->services = arena_alloc(y->mem, (len ? len : 1) * sizeof *b->services);
    if (!b->services)
        return ry_bad(y, n, "services", "too large");
    memset(b->services, 0, (len ? len : 1) * sizeof *b->services);
    static const char *const keys[] = {"invite", "invite_groups", "manual", NULL};
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
        struct incident_bot_service *s = &b->services[b->nservices];
        kb_err e = ry_text(y, k, "services", false, &s->name);
        char path[160];
        snprintf(path, sizeof path, "services.%s", s->name ? s->name : "?");
        if (!e)
            e = ry_mapping(y, v, path, keys);
        char sub[200];
        snprintf(sub, sizeof sub, "%s.invite", path);
        if (!e)
            e = read_list(y, ry_get(y, v, "invite"), sub, &s->invite);
        snprintf(sub, sizeof sub, "%s.invite_groups", path);
        if (!e)
            e = read_list(y, ry_get(y, v, "invite_groups"), sub, &s->invite_groups);
        snprintf(sub, sizeof sub, "%s.manual", path);
        if (!e)
            e = read_url(y, ry_get(y, v, "manual"), sub, &s->manual);
        if (e)
            return e;
        b->nservices++;
    }
    return KB_OK;
}

kb_err incident_bot_load_buffer(const char *text, size_t len, const char *name,
                                struct incident_bot **out, struct kb_why *why)
{
    *out = NULL;
    struct incident_bot *b = kb_calloc(1, sizeof *b);
    struct arena *mem = kb_calloc(1, sizeof *mem);
    arena_init(mem, IB_ARENA);
    b->mem = mem;
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    kb_err e = KB_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        e = kb_fail(why, KB_EINVAL, "%s:%zu: %s", name, parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "not valid YAML");
        yaml_parser_delete(&parser);
        incident_bot_free(b);
        return e;
    }
    struct ry_ctx y = {&doc, name, NULL, mem, why};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    static const char *const keys[] = {"slack", "github", "services", NULL};
    if (!root)
        e = kb_fail(why, KB_EINVAL, "%s: empty: the slack section is required (or github)", name);
    if (!e)
        e = ry_mapping(&y, root, "", keys);
    const yaml_node_t *v = NULL, *gh = NULL;
    if (!e)
        gh = ry_get(&y, root, "github");
    if (!e && !(v = ry_get(&y, root, "slack")) && !gh)
        e = ry_bad(&y, root, "", "the slack section is required (or github)");
    if (!e && v)
        e = read_slack(&y, v, b);
    if (!e && gh)
        e = read_github(&y, gh, b);
    if (!e && (v = ry_get(&y, root, "services")))
        e = read_services(&y, v, b);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (e) {
        incident_bot_free(b);
        return e;
    }
    *out = b;
    return KB_OK;
}

kb_err incident_bot_load(const char *path, struct incident_bot **out, struct kb_why *why)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > IB_MAX_FILE) {
        close(fd);
        return kb_fail(why, KB_EINVAL, "%s: not a regular file of at most %d bytes", path,
                       IB_MAX_FILE);
    }
    char *text = kb_malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    kb_err e = incident_bot_load_buffer(text, got, path, out, why);
    free(text);
    return e;
}

void incident_bot_free(struct incident_bot *b)
{
    if (!b)
        return;
    if (b->mem) {
        arena_release(b->mem);
        free(b->mem);
    }
    free(b);
}
