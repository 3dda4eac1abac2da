/*
 * route_yaml.c — the small walk over libyaml's document tree that the
 * routing file needs (route_yaml.h): errors with file, line and key path,
 * unknown and duplicate keys, typed scalars, ${VAR} expansion and
 * token_file. The notify module does not link the rules module, whose
 * rules_yaml.h does the same for Sigma files.
 */
#include "notify/route_yaml.h"

#include "lib/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned ry_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 0;
}

kb_err ry_bad(struct ry_ctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    char reason[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (!*path)
        return kb_fail(c->why, KB_EINVAL, "%s:%u: %s", c->name, ry_line(n), reason);
    return kb_fail(c->why, KB_EINVAL, "%s:%u: %s: %s", c->name, ry_line(n), path, reason);
}

yaml_node_t *ry_get(struct ry_ctx *c, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    size_t klen = strlen(key);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == klen &&
            memcmp(k->data.scalar.value, key, klen) == 0)
            return yaml_document_get_node(c->doc, p->value);
    }
    return NULL;
}

const char *ry_cstr(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

size_t ry_len(const yaml_node_t *n)
{
    if (!n)
        return 0;
    if (n->type == YAML_SEQUENCE_NODE)
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (n->type == YAML_MAPPING_NODE)
        return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    return 0;
}

yaml_node_t *ry_item(struct ry_ctx *c, const yaml_node_t *seq, size_t i)
{
    return yaml_document_get_node(c->doc, seq->data.sequence.items.start[i]);
}

kb_err ry_mapping(struct ry_ctx *c, const yaml_node_t *n, const char *path,
                  const char *const *allowed)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return ry_bad(c, n, path, "expected a mapping");
    size_t np = ry_len(n);
    yaml_node_pair_t *pairs = n->data.mapping.pairs.start;
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, pairs[i].key);
        const char *ks = ry_cstr(k);
        if (!ks)
            return ry_bad(c, k, path, "keys must be plain text");
        char full[320];
        snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "", ks);
        bool ok = allowed == NULL;
        for (const char *const *a = allowed; a && *a && !ok; a++)
            ok = strcmp(ks, *a) == 0;
        if (!ok)
            return ry_bad(c, k, full, "unknown key");
        /* Maps here are small (a few known keys, or at most
         * ROUTE_MAX_LABELS labels, checked by the caller first). */
        for (size_t j = 0; j < i; j++) {
            const char *prev = ry_cstr(yaml_document_get_node(c->doc, pairs[j].key));
            if (prev && strcmp(prev, ks) == 0)
                return ry_bad(c, k, full, "duplicate key");
        }
    }
    return KB_OK;
}

kb_err ry_scalar(struct ry_ctx *c, const yaml_node_t *n, const char *path, const char **out)
{
    *out = ry_cstr(n);
    if (!*out)
        return ry_bad(c, n, path, "expected a single value");
    /* "\0" in a double-quoted scalar would cut the text short unseen. */
    if (strlen(*out) != n->data.scalar.length)
        return ry_bad(c, n, path, "contains a NUL byte");
    return KB_OK;
}

static bool one_of(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

/* Quoted "true" is a string, as YAML says; only plain scalars are typed. */
static bool plain(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

kb_err ry_bool(struct ry_ctx *c, const yaml_node_t *n, const char *path, bool *out)
{
    static const char *const t[] = {"true", "True", "TRUE", NULL};
    static const char *const f[] = {"false", "False", "FALSE", NULL};
    const char *s = ry_cstr(n);
    if (plain(n) && one_of(s, t))
        *out = true;
    else if (plain(n) && one_of(s, f))
        *out = false;
    else
        return ry_bad(c, n, path, "expected true or false");
    return KB_OK;
}

bool ry_is_off(const yaml_node_t *n)
{
    static const char *const off[] = {"off", "Off", "OFF", "false", "False", "FALSE", NULL};
    return plain(n) && one_of(ry_cstr(n), off);
}

kb_err ry_uint(struct ry_ctx *c, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
               uint64_t *out)
{
    const char *s = ry_cstr(n);
    bool digits = plain(n) && s[0] != '\0';
    for (const char *p = s; digits && *p; p++)
        digits = *p >= '0' && *p <= '9';
    if (!digits)
        return ry_bad(c, n, path, "expected a whole number");
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return ry_bad(c, n, path, "%s is not in %llu..%llu", s, (unsigned long long)min,
                      (unsigned long long)max);
    *out = v;
    return KB_OK;
}

static bool var_start(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}
static bool var_char(char ch)
{
    return var_start(ch) || (ch >= '0' && ch <= '9');
}

kb_err ry_full(struct ry_ctx *c, const yaml_node_t *n)
{
    return kb_fail(c->why, KB_ETOOBIG, "%s:%u: the file needs more than %zu MiB in memory", c->name,
                   ry_line(n), c->mem->limit >> 20);
}

kb_err ry_keep(struct ry_ctx *c, const yaml_node_t *n, const char *s, size_t len, const char **out)
{
    *out = arena_strndup(c->mem, s, len);
    return *out ? KB_OK : ry_full(c, n);
}

kb_err ry_text(struct ry_ctx *c, const yaml_node_t *n, const char *path, bool expand,
               const char **out)
{
    const char *s;
    kb_err e = ry_scalar(c, n, path, &s);
    if (e)
        return e;
    struct buf b = BUF_INIT(ROUTE_MAX_VALUE);
    size_t len = n->data.scalar.length;
    for (size_t i = 0; i < len && !e; i++) {
        if (!expand || s[i] != '$' || i + 1 >= len || s[i + 1] != '{') {
            e = buf_putc(&b, s[i]);
            continue;
        }
        /* ${NAME}: the variable's value; a '$' not followed by '{' is
         * itself, so URLs and passwords with '$' need no escaping. */
        size_t k = i + 2;
        while (k < len && var_char(s[k]))
            k++;
        if (k >= len || s[k] != '}' || k == i + 2 || !var_start(s[i + 2])) {
            buf_release(&b);
            return ry_bad(c, n, path, "'${' must be followed by a variable name and '}'");
        }
        char var[128];
        if (k - (i + 2) >= sizeof var) {
            buf_release(&b);
            return ry_bad(c, n, path, "variable name too long");
        }
        memcpy(var, s + i + 2, k - (i + 2));
        var[k - (i + 2)] = '\0';
        const char *v = getenv(var);
        if (!v) {
            buf_release(&b);
            return ry_bad(c, n, path, "environment variable %s is not set", var);
        }
        e = buf_puts(&b, v);
        i = k;
    }
    if (e) {
        buf_release(&b);
        return ry_bad(c, n, path, "longer than %d bytes", ROUTE_MAX_VALUE);
    }
    if (b.len == 0) {
        buf_release(&b);
        return ry_bad(c, n, path, "empty value%s", expand && strchr(s, '$') ? " after ${...}" : "");
    }
    e = ry_keep(c, n, b.p, b.len, out);
    buf_release(&b);
    return e;
}

kb_err ry_path(struct ry_ctx *c, const yaml_node_t *n, const char *path, const char **out)
{
    const char *p;
    kb_err e = ry_text(c, n, path, true, &p);
    if (e)
        return e;
    if (p[0] == '/' || !c->dir) {
        *out = p;
        return KB_OK;
    }
    char full[4096];
    int w = snprintf(full, sizeof full, "%s/%s", c->dir, p);
    if (w < 0 || (size_t)w >= sizeof full)
        return ry_bad(c, n, path, "path too long");
    return ry_keep(c, n, full, (size_t)w, out);
}

kb_err ry_read_secret(struct ry_ctx *c, const yaml_node_t *n, const char *path, const char **out)
{
    const char *file;
    kb_err e = ry_path(c, n, path, &file);
    if (e)
        return e;
    /* O_NONBLOCK: a FIFO with no writer must not hang the load (it is
     * refused just below as not a regular file) */
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return ry_bad(c, n, path, "cannot open %s: %s", file, strerror(errno));
    char data[ROUTE_MAX_VALUE + 1];
    size_t got = 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ry_bad(c, n, path, "%s is not a regular file", file);
    }
    while (got < sizeof data) {
        ssize_t r = read(fd, data + got, sizeof data - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            close(fd);
            return ry_bad(c, n, path, "cannot read %s: %s", file, strerror(err));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got > ROUTE_MAX_VALUE)
        return ry_bad(c, n, path, "%s is longer than %d bytes", file, ROUTE_MAX_VALUE);
    /* Editors end files with a newline; the secret is the text before it. */
    while (got > 0 && (data[got - 1] == '\n' || data[got - 1] == '\r' || data[got - 1] == ' ' ||
                       data[got - 1] == '\t'))
        got--;
    if (got == 0)
        return ry_bad(c, n, path, "%s is empty", file);
    if (memchr(data, '\0', got) || memchr(data, '\n', got))
        return ry_bad(c, n, path, "%s must hold one line of text", file);
    e = ry_keep(c, n, data, got, out);
    memset(data, 0, sizeof data); /* no copy of the secret left on the stack */
    return e;
}

kb_err ry_rate(struct ry_ctx *c, const yaml_node_t *n, const char *path, uint32_t *count,
               int64_t *per_ms)
{
    const char *s;
    kb_err e = ry_scalar(c, n, path, &s);
    if (e)
        return e;
    const char *slash = strchr(s, '/');
    unsigned long long v = 0;
    size_t nd = 0;
    for (const char *p = s; p != slash && *p >= '0' && *p <= '9' && nd < 10; p++, nd++)
        v = v * 10 + (unsigned long long)(*p - '0');
    if (!slash || nd == 0 || s + nd != slash || slash[1] == '\0' || slash[2] != '\0' ||
        !strchr("smh", slash[1]))
        return ry_bad(c, n, path, "expected a rate like 5/s, 30/m or 10/h");
    if (v < 1 || v > FLOOD_MAX_RATE)
        return ry_bad(c, n, path, "%llu is not in 1..%d", v, FLOOD_MAX_RATE);
    *count = (uint32_t)v;
    *per_ms = slash[1] == 's' ? 1000 : slash[1] == 'm' ? 60000 : 3600000;
    return KB_OK;
}

kb_err ry_duration(struct ry_ctx *c, const yaml_node_t *n, const char *path, int64_t min_ms,
                   int64_t *out)
{
    const char *s;
    kb_err e = ry_scalar(c, n, path, &s);
    if (e)
        return e;
    static const int64_t max_ms = 366LL * 86400000;
    int64_t total = 0;
    const char *p = s;
    if (!*p)
        return ry_bad(c, n, path, "expected a duration like 30m, 1h or 1h30m");
    while (*p) {
        int64_t v = 0;
        size_t nd = 0;
        while (*p >= '0' && *p <= '9' && nd < 10) {
            v = v * 10 + (*p++ - '0');
            nd++;
        }
        int64_t unit = 0;
        if (p[0] == 'm' && p[1] == 's')
            unit = 1, p += 2;
        else if (*p == 's')
            unit = 1000, p++;
        else if (*p == 'm')
            unit = 60000, p++;
        else if (*p == 'h')
            unit = 3600000, p++;
        else if (*p == 'd')
            unit = 86400000, p++;
        /* At most 10 digits, so even days times the unit fit int64; an
         * 11th digit leaves unit 0 and is refused. */
        if (nd == 0 || unit == 0)
            return ry_bad(c, n, path, "expected a duration like 30m, 1h or 1h30m");
        total += v * unit;
        if (total > max_ms)
            return ry_bad(c, n, path, "longer than 366 days");
    }
    if (total < min_ms)
        return ry_bad(c, n, path, "shorter than %lld s", (long long)(min_ms / 1000));
    *out = total;
    return KB_OK;
}
