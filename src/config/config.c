/*
 * config.c — koban.yaml loader.
 *
 * The file is loaded as a libyaml document (which keeps line numbers), then
 * walked against one table of known keys. Unknown keys and wrong types are
 * errors naming file, line and key: a typo must never silently fall back to
 * a default. String values may be "${ENV_VAR}" to keep secrets out of files.
 */
#include "config/config.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/url.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <yaml.h>

/* K_URL: a string that is an http(s) base URL (kb_base_url_ok), checked
 * where the line is known. */
enum key_type { K_STR, K_URL, K_BOOL, K_SIZE, K_UINT, K_INT };

/* Keys held as a char * (owned by the config). */
static bool key_is_text(enum key_type t)
{
    return t == K_STR || t == K_URL;
}

struct key_def {
    const char *name;  /* dotted */
    enum key_type type;
    size_t offset;     /* into struct kb_config */
    const char *help;
};

#define OFF(f) offsetof(struct kb_config, f)
static const struct key_def config_keys[] = {
    {"data_dir", K_STR, OFF(data_dir), "directory for the store, journal and spool"},
    {"log_level", K_STR, OFF(log_level), "debug | info | warn | error"},
    {"http.listen", K_STR, OFF(http.listen), "HTTP address, host:port (port 0: any free)"},
    {"http.token", K_STR, OFF(http.token), "bearer token required on /v1/ (empty: none)"},
    {"http.max_body", K_SIZE, OFF(http.max_body), "request body limit after gzip"},
    {"http.max_connections", K_UINT, OFF(http.max_connections), "concurrent connections"},
    {"http.timeout_s", K_UINT, OFF(http.timeout_s), "idle connection timeout, seconds"},
    {"http.threads", K_UINT, OFF(http.threads), "threads checking requests (0: one per CPU, at least 8)"},
    {"spool.enabled", K_BOOL, OFF(spool.enabled), "watch the spool directory"},
    {"spool.dir", K_STR, OFF(spool.dir), "spool directory (default <data_dir>/spool)"},
    {"spool.settle_ms", K_UINT, OFF(spool.settle_ms), "a file unchanged this long is complete"},
    {"spool.max_file", K_SIZE, OFF(spool.max_file), "largest spool file, on disk and after gunzip"},
    {"syslog.udp", K_STR, OFF(syslog.udp), "syslog UDP address (empty: off)"},
    {"syslog.tcp", K_STR, OFF(syslog.tcp), "syslog TCP address (empty: off)"},
    {"syslog.max_message", K_SIZE, OFF(syslog.max_message), "longest syslog message"},
    {"journal.segment_bytes", K_SIZE, OFF(journal.segment_bytes), "journal segment size"},
    {"journal.retention_days", K_UINT, OFF(journal.retention_days),
     "delete processed segments older than this (0: keep)"},
    {"journal.fsync", K_BOOL, OFF(journal.fsync), "fsync before acknowledging (keep true)"},
    {"journal.compress_level", K_INT, OFF(journal.compress_level),
     "zstd level for groups of events, -7 (fastest) to 19 (0: uncompressed)"},
    {"ingest.max_event", K_SIZE, OFF(ingest.max_event), "largest single event"},
    {"ingest.max_events", K_UINT, OFF(ingest.max_events), "events per payload"},
    {"ingest.max_depth", K_UINT, OFF(ingest.max_depth), "JSON nesting depth"},
    {"store.batch", K_UINT, OFF(store.batch), "events per store transaction"},
    {"store.cache_mib", K_UINT, OFF(store.cache_mib), "SQLite page cache, MiB"},
    {"rules.dir", K_STR, OFF(rules.dir), "Sigma rule files, searched recursively (empty: none)"},
    {"rules.mapping", K_STR, OFF(rules.mapping), "logsource, field and placeholder tables (docs/RULES.md)"},
    {"policies.stock", K_BOOL, OFF(policies.stock), "load the stock triage policies"},
    {"policies.dir", K_STR, OFF(policies.dir), "more policy files, after the stock ones (empty: none)"},
    {"enrich.geoip_db", K_STR, OFF(enrich.geoip_db),
     "GeoLite2/GeoIP2 Country or City .mmdb for actor.country (empty: off)"},
    {"notify.routes", K_STR, OFF(notify.routes),
     "routing file: receivers, routes, flood, reminders (empty: no notifications)"},
    {"notify.repeat_interval_s", K_UINT, OFF(notify.repeat_interval_s),
     "notify repeats of an issue at most this often, seconds"},
    {"notify.timeout_ms", K_UINT, OFF(notify.timeout_ms), "one request to a receiver"},
    {"notify.backoff_base_ms", K_UINT, OFF(notify.backoff_base_ms),
     "first retry delay (doubles, with jitter)"},
    {"notify.backoff_cap_ms", K_UINT, OFF(notify.backoff_cap_ms), "longest retry delay"},
    {"notify.max_attempts", K_UINT, OFF(notify.max_attempts),
     "attempts before a notification is dead-lettered"},
    {"notify.poll_ms", K_UINT, OFF(notify.poll_ms), "idle delivery threads look for due jobs"},
    {"slack.signing_secret", K_STR, OFF(slack.signing_secret),
     "Slack app signing secret: accept Slack's requests on /v1/slack/ (empty: off)"},
    {"slack.report_emoji", K_STR, OFF(slack.report_emoji),
     "reaction that reports a message to security (empty: off)"},
    {"slack.timeline_emoji", K_STR, OFF(slack.timeline_emoji),
     "reaction that adds a message to an incident's timeline (empty: off)"},
    {"slack.workspace_url", K_STR, OFF(slack.workspace_url),
     "https://NAME.slack.com, for links to messages"},
    {"slack.bot_token", K_STR, OFF(slack.bot_token),
     "bot token (xoxb-...) for the declaration modal (empty: no modal)"},
    {"slack.api_url", K_STR, OFF(slack.api_url), "Slack's Web API base URL"},
    {"slack.hooks_url", K_URL, OFF(slack.hooks_url),
     "Slack's response_url base: buttons are answered only under it"},
    {"incident.config", K_STR, OFF(incident.config),
     "incident bot settings: channels, invites, broadcasts, timekeeper (empty: no bot)"},
    {"vuln.feeds", K_STR, OFF(vuln.feeds),
     "advisory feeds to sync: osv, ghsa, nvd, jvn, kev, epss"},
    {"vuln.osv_ecosystems", K_STR, OFF(vuln.osv_ecosystems),
     "OSV ecosystems to sync, comma-separated (empty: all)"},
    {"vuln.nvd_api_key", K_STR, OFF(vuln.nvd_api_key), "NVD API key (faster sync)"},
    {"vuln.github_token", K_STR, OFF(vuln.github_token),
     "GitHub token for the advisory database (higher rate limit)"},
    {"vuln.osv_url", K_STR, OFF(vuln.osv_url), "OSV base URL (empty: the public one)"},
    {"vuln.nvd_url", K_STR, OFF(vuln.nvd_url), "NVD base URL (empty: the public one)"},
    {"vuln.ghsa_url", K_STR, OFF(vuln.ghsa_url), "GitHub API base URL (empty: the public one)"},
    {"vuln.jvn_url", K_STR, OFF(vuln.jvn_url), "MyJVN base URL (empty: the public one)"},
    {"vuln.kev_url", K_STR, OFF(vuln.kev_url), "CISA KEV base URL (empty: the public one)"},
    {"vuln.epss_url", K_STR, OFF(vuln.epss_url), "FIRST EPSS base URL (empty: the public one)"},
    {"vuln.sync_interval_s", K_UINT, OFF(vuln.sync_interval_s),
     "koban serve syncs the feeds this often, seconds (0: never)"},
};
#undef OFF

static void set_defaults(struct kb_config *c)
{
    memset(c, 0, sizeof *c);
    c->data_dir = kb_strdup("./var");
    c->log_level = kb_strdup("info");
    c->http.listen = kb_strdup("127.0.0.1:8478");
    c->http.max_body = 64u * 1024 * 1024;
    c->http.max_connections = 1024;
    c->http.timeout_s = 30;
    c->spool.enabled = true;
    c->spool.settle_ms = 500;
    c->spool.max_file = 1024u * 1024 * 1024;
    c->syslog.udp = kb_strdup("127.0.0.1:5514");
    c->syslog.tcp = kb_strdup("127.0.0.1:5514");
    c->syslog.max_message = 64 * 1024;
    c->journal.segment_bytes = 64u * 1024 * 1024;
    c->journal.retention_days = 30;
    c->journal.fsync = true;
    c->journal.compress_level = -3;
    c->ingest.max_event = 1024 * 1024;
    c->ingest.max_events = 100000;
    c->ingest.max_depth = 64;
    c->store.batch = 32768;
    c->store.cache_mib = 16;
    c->policies.stock = true;
    c->notify.repeat_interval_s = 3600;
    c->notify.timeout_ms = 30000;
    c->notify.backoff_base_ms = 1000;
    c->notify.backoff_cap_ms = 600000;
    c->notify.max_attempts = 20;
    c->notify.poll_ms = 1000;
    c->slack.report_emoji = kb_strdup("rotating_light");
    c->slack.timeline_emoji = kb_strdup("pushpin");
    c->vuln.feeds = kb_strdup("osv,ghsa,nvd,kev,epss");
    c->slack.api_url = kb_strdup("https://slack.com/api");
    c->slack.hooks_url = kb_strdup("https://hooks.slack.com");
}

kb_err config_parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return KB_EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return KB_EINVAL;
    while (*end == ' ')
        end++;
    unsigned long long mul = 1;
    if (*end == '\0' || strcasecmp(end, "b") == 0)
        mul = 1;
    else if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0)
        mul = 1000;
    else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0)
        mul = 1000 * 1000;
    else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gb") == 0)
        mul = 1000ULL * 1000 * 1000;
    else if (strcasecmp(end, "kib") == 0)
        mul = 1024;
    else if (strcasecmp(end, "mib") == 0)
        mul = 1024 * 1024;
    else if (strcasecmp(end, "gib") == 0)
        mul = 1024ULL * 1024 * 1024;
    else
        return KB_EINVAL;
    if (v > SIZE_MAX / mul)
        return KB_EINVAL;
    *out = (size_t)(v * mul);
    return KB_OK;
}

kb_err config_parse_addr(const char *s, char **host, uint16_t *port, struct kb_why *why)
{
    const char *colon;
    const char *hs = s;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return kb_fail(why, KB_EINVAL, "address '%s': expected [host]:port", s);
        hs = s + 1;
        hl = (size_t)(rb - hs);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return kb_fail(why, KB_EINVAL, "address '%s': expected host:port", s);
        hl = (size_t)(colon - s);
    }
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p < 0 || p > 65535)
        return kb_fail(why, KB_EINVAL, "address '%s': port must be 0..65535", s);
    *host = hl ? kb_strndup(hs, hl) : kb_strdup("0.0.0.0");
    *port = (uint16_t)p;
    return KB_OK;
}

static const struct key_def *find_key(const char *name)
{
    for (size_t i = 0; i < KB_ARRAY_LEN(config_keys); i++)
        if (strcmp(config_keys[i].name, name) == 0)
            return &config_keys[i];
    return NULL;
}

static bool is_section(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < KB_ARRAY_LEN(config_keys); i++)
        if (strncmp(config_keys[i].name, name, n) == 0 && config_keys[i].name[n] == '.')
            return true;
    return false;
}

/* Expands "${VAR}" (the whole value) from the environment. */
static kb_err expand_env(const char *v, char **out, const char *file, size_t line,
                         const char *key, struct kb_why *why)
{
    size_t n = strlen(v);
    if (n >= 4 && v[0] == '$' && v[1] == '{' && v[n - 1] == '}') {
        char name[128];
        if (n - 3 >= sizeof name)
            return kb_fail(why, KB_EINVAL, "%s:%zu: %s: variable name too long", file, line,
                           key);
        memcpy(name, v + 2, n - 3);
        name[n - 3] = '\0';
        const char *e = getenv(name);
        if (!e)
            return kb_fail(why, KB_EINVAL, "%s:%zu: %s: environment variable %s is not set",
                           file, line, key, name);
        *out = kb_strdup(e);
        return KB_OK;
    }
    *out = kb_strdup(v);
    return KB_OK;
}

static kb_err set_value(struct kb_config *c, const struct key_def *k, const char *v,
                        const char *file, size_t line, struct kb_why *why)
{
    void *field = (char *)c + k->offset;
    switch (k->type) {
    case K_STR:
    case K_URL: {
        char **dst = field;
        char *val = NULL;
        kb_err e = expand_env(v, &val, file, line, k->name, why);
        if (e)
            return e;
        if (k->type == K_URL && !kb_base_url_ok(val)) {
            e = kb_fail(why, KB_EINVAL,
                        "%s:%zu: %s: expected an http(s)://HOST[:PORT][/PATH] URL of at "
                        "most %d bytes, without user, query or fragment, got '%.200s'",
                        file, line, k->name, KB_BASE_URL_MAX, val);
            free(val);
            return e;
        }
        free(*dst);
        *dst = val;
        return KB_OK;
    }
    case K_BOOL:
        if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
            *(bool *)field = true;
        else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
            *(bool *)field = false;
        else
            return kb_fail(why, KB_EINVAL, "%s:%zu: %s: expected true or false, got '%s'", file,
                           line, k->name, v);
        return KB_OK;
    case K_SIZE:
        if (config_parse_size(v, field))
            return kb_fail(why, KB_EINVAL,
                           "%s:%zu: %s: expected a size like 1048576, 64KiB or 8MiB, got '%s'",
                           file, line, k->name, v);
        return KB_OK;
    case K_UINT: {
        char *end;
        errno = 0;
        unsigned long u = strtoul(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-' || u > 0xFFFFFFFFul)
            return kb_fail(why, KB_EINVAL, "%s:%zu: %s: expected a whole number, got '%s'",
                           file, line, k->name, v);
        *(unsigned *)field = (unsigned)u;
        return KB_OK;
    }
    case K_INT: {
        char *end;
        errno = 0;
        long l = strtol(v, &end, 10);
        if (errno || end == v || *end || l < INT_MIN || l > INT_MAX)
            return kb_fail(why, KB_EINVAL, "%s:%zu: %s: expected a whole number, got '%s'",
                           file, line, k->name, v);
        *(int *)field = (int)l;
        return KB_OK;
    }
    }
    return KB_EINVAL;
}

static kb_err walk_mapping(struct kb_config *c, yaml_document_t *doc, yaml_node_t *map,
                           const char *prefix, const char *file, struct kb_why *why)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        size_t line = kn->start_mark.line + 1;
        if (kn->type != YAML_SCALAR_NODE)
            return kb_fail(why, KB_EINVAL, "%s:%zu: keys must be plain names", file, line);
        char name[128];
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "",
                 (const char *)kn->data.scalar.value);
        if (vn->type == YAML_MAPPING_NODE) {
            if (!is_section(name))
                return kb_fail(why, KB_EINVAL, "%s:%zu: %s: unknown section", file, line, name);
            kb_err e = walk_mapping(c, doc, vn, name, file, why);
            if (e)
                return e;
            continue;
        }
        const struct key_def *k = find_key(name);
        if (!k)
            return kb_fail(why, KB_EINVAL, "%s:%zu: %s: unknown key%s", file, line, name,
                           is_section(name) ? " (this is a section: expected a mapping)" : "");
        if (vn->type != YAML_SCALAR_NODE)
            return kb_fail(why, KB_EINVAL, "%s:%zu: %s: expected a single value", file,
                           vn->start_mark.line + 1, name);
        const char *v = (const char *)vn->data.scalar.value;
        /* A plain empty value or ~ / null means "unset" for strings. */
        bool plain = vn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (key_is_text(k->type) && plain && (!*v || !strcmp(v, "~") || !strcmp(v, "null"))) {
            char **dst = (char **)((char *)c + k->offset);
            free(*dst);
            *dst = NULL;
            continue;
        }
        kb_err e = set_value(c, k, v, file, vn->start_mark.line + 1, why);
        if (e)
            return e;
    }
    return KB_OK;
}

static kb_err load_file(struct kb_config *c, const char *path, struct kb_why *why)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return kb_fail(why, KB_EIO, "%s: %s", path, strerror(errno));
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    kb_err e = KB_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        e = kb_fail(why, KB_EINVAL, "%s:%zu: YAML error: %s", path,
                    parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
        yaml_parser_delete(&parser);
        fclose(f);
        return e;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type == YAML_MAPPING_NODE)
        e = walk_mapping(c, &doc, root, "", path, why);
    else if (root && !(root->type == YAML_SCALAR_NODE && !root->data.scalar.length))
        e = kb_fail(why, KB_EINVAL, "%s:%zu: the file must be a mapping of keys", path,
                    root->start_mark.line + 1);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return e;
}

static kb_err validate(struct kb_config *c, struct kb_why *why)
{
    const char *f = c->path ? c->path : "(defaults)";
    if (!c->data_dir || !*c->data_dir)
        return kb_fail(why, KB_EINVAL, "%s: data_dir must not be empty", f);
    if (!c->http.listen)
        return kb_fail(why, KB_EINVAL, "%s: http.listen must be set", f);
    const char *addrs[] = {c->http.listen, c->syslog.udp, c->syslog.tcp};
    for (size_t i = 0; i < 3; i++) {
        if (!addrs[i] || !*addrs[i])
            continue;
        char *h = NULL;
        uint16_t port;
        struct kb_why w = {{0}};
        if (config_parse_addr(addrs[i], &h, &port, &w))
            return kb_fail(why, KB_EINVAL, "%s: %s", f, w.msg);
        free(h);
    }
    if (kb_log_level_valid(c->log_level) < 0)
        return kb_fail(why, KB_EINVAL, "%s: log_level: '%s' is not debug, info, warn or error",
                       f, c->log_level ? c->log_level : "");
    if (c->http.max_body < 1024)
        return kb_fail(why, KB_EINVAL, "%s: http.max_body: at least 1KiB", f);
    if (c->ingest.max_event < 256 || c->ingest.max_event > 8u * 1024 * 1024)
        return kb_fail(why, KB_EINVAL, "%s: ingest.max_event: between 256 and 8MiB", f);
    if (c->ingest.max_depth < 2 || c->ingest.max_depth > 1000)
        return kb_fail(why, KB_EINVAL, "%s: ingest.max_depth: between 2 and 1000", f);
    if (c->store.batch < 1 || c->store.batch > 1000000)
        return kb_fail(why, KB_EINVAL, "%s: store.batch: between 1 and 1000000", f);
    if (c->journal.segment_bytes < 64 * 1024)
        return kb_fail(why, KB_EINVAL, "%s: journal.segment_bytes: at least 64KiB", f);
    if (c->journal.compress_level < -7 || c->journal.compress_level > 19)
        return kb_fail(why, KB_EINVAL,
                       "%s: journal.compress_level: -7 (fastest) to 19, or 0 (off)", f);
    if (c->spool.max_file < 1024)
        return kb_fail(why, KB_EINVAL, "%s: spool.max_file: at least 1KiB", f);
    if (c->http.threads > 64)
        return kb_fail(why, KB_EINVAL, "%s: http.threads: at most 64", f);
    if (c->http.max_connections < 1 || c->http.max_connections > 65536)
        return kb_fail(why, KB_EINVAL, "%s: http.max_connections: between 1 and 65536", f);
    if (!c->spool.dir) {
        struct buf b = BUF_INIT(4096);
        buf_printf(&b, "%s/spool", c->data_dir);
        c->spool.dir = buf_take(&b, NULL);
    }
    return KB_OK;
}

kb_err config_load(const char *path, struct kb_config *cfg, struct kb_why *why)
{
    set_defaults(cfg);
    kb_err e = KB_OK;
    if (path) {
        cfg->path = kb_strdup(path);
        e = load_file(cfg, path, why);
    }
    if (e == KB_OK)
        e = validate(cfg, why);
    if (e)
        config_release(cfg);
    return e;
}

void config_release(struct kb_config *c)
{
    for (size_t i = 0; i < KB_ARRAY_LEN(config_keys); i++)
        if (key_is_text(config_keys[i].type)) {
            char **p = (char **)((char *)c + config_keys[i].offset);
            free(*p);
            *p = NULL;
        }
    free(c->path);
    c->path = NULL;
}

kb_err config_dump(const struct kb_config *c, char **out)
{
    struct buf b = BUF_INIT(64 * 1024);
    const char *section = "";
    for (size_t i = 0; i < KB_ARRAY_LEN(config_keys); i++) {
        const struct key_def *k = &config_keys[i];
        const char *dot = strchr(k->name, '.');
        const char *leaf = k->name;
        const char *indent = "";
        if (dot) {
            size_t sl = (size_t)(dot - k->name);
            if (strncmp(section, k->name, sl) != 0 || section[sl] != '.')
                buf_printf(&b, "%.*s:\n", (int)sl, k->name);
            section = k->name;
            leaf = dot + 1;
            indent = "  ";
        } else {
            section = "";
        }
        const void *field = (const char *)c + k->offset;
        switch (k->type) {
        case K_STR:
        case K_URL: {
            const char *s = *(char *const *)field;
            bool secret = (strcmp(k->name, "http.token") == 0 ||
                           strcmp(k->name, "slack.signing_secret") == 0 ||
                           strcmp(k->name, "slack.bot_token") == 0 ||
                           strcmp(k->name, "vuln.nvd_api_key") == 0 ||
                           strcmp(k->name, "vuln.github_token") == 0) && s;
            buf_printf(&b, "%s%s: %s%s%s", indent, leaf, s && !secret ? "\"" : "",
                       secret ? "\"(set)\"" : s ? s : "", s && !secret ? "\"" : "");
            break;
        }
        case K_BOOL:
            buf_printf(&b, "%s%s: %s", indent, leaf, *(const bool *)field ? "true" : "false");
            break;
        case K_SIZE:
            buf_printf(&b, "%s%s: %zu", indent, leaf, *(const size_t *)field);
            break;
        case K_UINT:
            buf_printf(&b, "%s%s: %u", indent, leaf, *(const unsigned *)field);
            break;
        case K_INT:
            buf_printf(&b, "%s%s: %d", indent, leaf, *(const int *)field);
            break;
        }
        buf_printf(&b, "    # %s\n", k->help);
    }
    *out = buf_take(&b, NULL);
    return KB_OK;
}
