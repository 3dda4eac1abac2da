/* rules_yaml.c — libyaml node helpers (see rules_yaml.h). */
#include "rules/rules_yaml.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

unsigned rules_yaml_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 0;
}

yaml_node_t *rules_yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    size_t klen = strlen(key);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == klen &&
            memcmp(k->data.scalar.value, key, klen) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

struct kb_str rules_yaml_text(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return KB_STR_NULL;
    return (struct kb_str){(const char *)n->data.scalar.value, n->data.scalar.length};
}

const char *rules_yaml_cstr(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_one_of(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

enum rules_yaml_type rules_yaml_type(const yaml_node_t *n, bool *b, int64_t *i, double *d)
{
    static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return RY_STRING;
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (len == 0 || is_one_of(s, nulls))
        return RY_NULL;
    if (is_one_of(s, trues) || is_one_of(s, falses)) {
        if (b)
            *b = s[0] == 't' || s[0] == 'T';
        return RY_BOOL;
    }
    /* Integers: [-+]?[0-9]+ (core schema decimal). Leading zeros are taken
     * as decimal too: Sigma values such as 0x... stay strings below. */
    size_t k = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    bool digits = k < len;
    for (size_t j = k; j < len; j++)
        if (s[j] < '0' || s[j] > '9')
            digits = false;
    if (digits) {
        errno = 0;
        char *end = NULL;
        long long v = strtoll(s, &end, 10);
        if (errno == 0 && end == s + len) {
            if (i)
                *i = v;
            if (d)
                *d = (double)v;
            return RY_INT;
        }
        return RY_STRING; /* too large for int64: keep the text */
    }
    /* Floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    size_t j = k, nd = 0;
    while (j < len && s[j] >= '0' && s[j] <= '9')
        j++, nd++;
    if (j < len && s[j] == '.') {
        j++;
        while (j < len && s[j] >= '0' && s[j] <= '9')
            j++, nd++;
    }
    if (nd > 0 && j < len && (s[j] == 'e' || s[j] == 'E')) {
        size_t e = j + 1;
        if (e < len && (s[e] == '-' || s[e] == '+'))
            e++;
        size_t ed = 0;
        while (e < len && s[e] >= '0' && s[e] <= '9')
            e++, ed++;
        j = ed ? e : j;
    }
    if (nd > 0 && j == len) {
        char *end = NULL;
        double v = strtod(s, &end);
        if (end == s + len && isfinite(v)) {
            if (d)
                *d = v;
            return RY_FLOAT;
        }
    }
    return RY_STRING;
}
