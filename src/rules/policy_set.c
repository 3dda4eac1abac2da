/*
 * policy_set.c — the policy set: its life cycle, loading files and folders
 * document by document (each compiled by policy_load.c), load errors and
 * the accessors of policy.h.
 *
 * A file is read whole (bounded), then libyaml loads one document at a
 * time; a refused document is recorded and the next one is tried. A YAML
 * syntax error or a bound ends the file, keeping what loaded before it.
 */
#include "lib/buf.h"
#include "rules/policy_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define POLICY_MAX_DIR_FILES 1024

static void keep_error(struct policy_set *ps, const char *msg)
{
    if (ps->nerrors < POLICY_MAX_ERRORS) {
        if (ps->nerrors == ps->caperrors) {
            ps->caperrors = ps->caperrors ? ps->caperrors * 2 : 16;
            ps->errors = kb_realloc(ps->errors, ps->caperrors * sizeof *ps->errors);
        }
        ps->errors[ps->nerrors] = kb_strdup(msg);
    }
    ps->nerrors++;
}

kb_err policy_load_buffer(struct policy_set *ps, const char *text, size_t len, const char *name,
                          size_t *nloaded, struct kb_why *why)
{
    if (nloaded)
        *nloaded = 0;
    if (len > POLICY_MAX_FILE_BYTES)
        return kb_fail(why, KB_ETOOBIG, "%s: larger than %u bytes", name, POLICY_MAX_FILE_BYTES);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return kb_fail(why, KB_EINVAL, "%s: libyaml could not start", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    size_t ok = 0, bad = 0, docs = 0;
    kb_err ret = KB_OK;
    char first[sizeof why->msg] = "";
    for (;;) {
        yaml_document_t doc;
        struct kb_why w = {{0}};
        kb_err e;
        if (!yaml_parser_load(&parser, &doc)) {
            e = kb_fail(&w, KB_EPARSE, "%s:%zu: YAML: %s%s%s", name, parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                        parser.context ? parser.context : "");
        } else {
            yaml_node_t *root = yaml_document_get_root_node(&doc);
            if (!root) {
                yaml_document_delete(&doc);
                break;
            }
            e = ++docs > POLICY_MAX_DOCS ? kb_fail(&w, KB_ETOOBIG, "%s:%u: more than %d documents",
                                                   name, py_line(root), POLICY_MAX_DOCS)
                                         : policy_load_doc(ps, &doc, root, name, &w);
            yaml_document_delete(&doc);
        }
        if (!e) {
            ok++;
            continue;
        }
        keep_error(ps, w.msg);
        if (!first[0])
            memcpy(first, w.msg, sizeof first);
        bad++;
        if (!ret || e != KB_EINVAL)
            ret = e;
        if (e != KB_EINVAL) /* a syntax error or a bound ends the file */
            break;
    }
    yaml_parser_delete(&parser);
    if (nloaded)
        *nloaded = ok;
    if (ret)
        return kb_fail(why, ret, "%s%s", first,
                       bad > 1 ? " (and more errors: see policy_set_error)" : "");
    return KB_OK;
}

kb_err policy_load_file(struct policy_set *ps, const char *path, size_t *nloaded,
                        struct kb_why *why)
{
    if (nloaded)
        *nloaded = 0;
    struct kb_why w = {{0}};
    kb_err e = KB_OK;
    struct buf b = BUF_INIT(POLICY_MAX_FILE_BYTES + 1);
    FILE *f = fopen(path, "rb");
    if (!f) {
        e = kb_fail(&w, KB_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n) != KB_OK) {
            e = kb_fail(&w, KB_ETOOBIG, "%s: larger than %u bytes", path, POLICY_MAX_FILE_BYTES);
            goto out;
        }
    if (ferror(f)) {
        e = kb_fail(&w, KB_EIO, "%s: read error", path);
        goto out;
    }
    e = policy_load_buffer(ps, b.p ? b.p : "", b.len, path, nloaded, why);
    buf_release(&b);
    fclose(f);
    return e;
out:
    keep_error(ps, w.msg);
    if (f)
        fclose(f);
    buf_release(&b);
    return kb_fail(why, e, "%s", w.msg);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *s)
{
    size_t n = strlen(s);
    return s[0] != '.' &&
           ((n > 4 && !strcmp(s + n - 4, ".yml")) || (n > 5 && !strcmp(s + n - 5, ".yaml")));
}

kb_err policy_load_dir(struct policy_set *ps, const char *dir, size_t *nloaded, struct kb_why *why)
{
    if (nloaded)
        *nloaded = 0;
    DIR *d = opendir(dir);
    if (!d)
        return kb_fail(why, KB_EIO, "%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t nn = 0, cap = 0;
    kb_err ret = KB_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!yaml_name(de->d_name))
            continue;
        if (nn == POLICY_MAX_DIR_FILES) {
            ret = kb_fail(why, KB_ETOOBIG, "%s: more than %d policy files", dir,
                          POLICY_MAX_DIR_FILES);
            break;
        }
        if (nn == cap) {
            cap = cap ? cap * 2 : 16;
            names = kb_realloc(names, cap * sizeof *names);
        }
        names[nn++] = kb_strdup(de->d_name);
    }
    closedir(d);
    if (nn)
        qsort(names, nn, sizeof *names, cmp_names);
    for (size_t i = 0; i < nn; i++) {
        struct buf path = BUF_INIT(8192);
        struct kb_why w = {{0}};
        size_t n = 0;
        kb_err e = buf_printf(&path, "%s/%s", dir, names[i]);
        if (!e)
            e = policy_load_file(ps, path.p, &n, &w);
        else
            kb_fail(&w, e, "%s: path too long", dir);
        if (nloaded)
            *nloaded += n;
        if (e && !ret)
            ret = kb_fail(why, e, "%s", w.msg);
        buf_release(&path);
        free(names[i]);
    }
    free(names);
    return ret;
}

kb_err policy_set_new(struct policy_set **out, struct kb_why *why)
{
    struct policy_set *ps = kb_calloc(1, sizeof *ps);
    arena_init(&ps->arena, POLICY_ARENA_LIMIT);
    /* Policies see koban's own field names: no Sigma logsource or field
     * mapping tables get in between. */
    struct sigma_options opt = {.no_default_logsources = true, .no_default_fields = true};
    kb_err e = sigma_ruleset_new(&opt, &ps->rules, why);
    if (e) {
        arena_release(&ps->arena);
        free(ps);
        return e;
    }
    *out = ps;
    return KB_OK;
}

void policy_set_free(struct policy_set *ps)
{
    if (!ps)
        return;
    sigma_ruleset_free(ps->rules);
    for (size_t i = 0; i < ps->nerrors && i < POLICY_MAX_ERRORS; i++)
        free(ps->errors[i]);
    free(ps->errors);
    free(ps->pol);
    free(ps->sc.matched);
    arena_release(&ps->arena);
    free(ps);
}

size_t policy_set_nerrors(const struct policy_set *ps)
{
    return ps->nerrors;
}
const char *policy_set_error(const struct policy_set *ps, size_t i)
{
    return i < ps->nerrors && i < POLICY_MAX_ERRORS ? ps->errors[i] : NULL;
}
size_t policy_set_count(const struct policy_set *ps)
{
    return ps->npol;
}
const struct policy *policy_set_at(const struct policy_set *ps, size_t i)
{
    return i < ps->npol ? ps->pol[i] : NULL;
}
const struct policy *policy_set_find(const struct policy_set *ps, const char *id)
{
    for (size_t i = 0; i < ps->npol; i++)
        if (strcmp(ps->pol[i]->id, id) == 0)
            return ps->pol[i];
    return NULL;
}
const char *policy_id(const struct policy *p)
{
    return p->id;
}
const char *policy_title(const struct policy *p)
{
    return p->title;
}
const char *policy_file(const struct policy *p)
{
    return p->file;
}
unsigned policy_line(const struct policy *p)
{
    return p->line;
}

bool policy_mute(const struct policy *p, const char **reason, int64_t *until_ms)
{
    if (reason)
        *reason = p->has_mute ? p->mute_reason : NULL;
    if (until_ms)
        *until_ms = p->has_mute ? p->mute_until_ms : 0;
    return p->has_mute;
}

size_t policy_set_expired_mutes(const struct policy_set *ps, int64_t now_ms,
                                const struct policy **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < ps->npol; i++) {
        const struct policy *p = ps->pol[i];
        if (!p->has_mute || p->mute_until_ms == 0 || p->mute_until_ms > now_ms)
            continue;
        if (n < max && out)
            out[n] = p;
        n++;
    }
    return n;
}
