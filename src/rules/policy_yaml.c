/*
 * policy_yaml.c — libyaml helpers for policy files, and the emitter that
 * turns a policy's `detection:` into a Sigma rule document for the Sigma
 * engine (sigma_load_buffer).
 *
 * Why re-emit instead of handing Sigma a slice of the file: the detection
 * sits inside a larger document at any indentation, in block or flow
 * style, and may use aliases. Walking the loaded node tree and emitting it
 * keeps every scalar's style (a quoted '1' stays a string, a plain 1 stays
 * a number) whatever the layout was. Aliases are expanded, so the walk is
 * bounded in depth and in nodes (a "billion laughs" file stops cleanly).
 */
#include "lib/buf.h"
#include "rules/policy_impl.h"

#include <string.h>

#define EMIT_MAX_DEPTH 32
#define EMIT_MAX_NODES 65536

yaml_node_t *py_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
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

const char *py_cstr(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

unsigned py_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 0;
}

struct emit {
    yaml_emitter_t em;
    yaml_document_t *doc;
    size_t nodes;
    bool toobig; /* the output buffer or a bound refused */
};

static int write_buf(void *data, unsigned char *p, size_t n)
{
    return buf_append(data, p, n) == KB_OK;
}

static bool ev_scalar(struct emit *e, const char *tag, const char *s, size_t n,
                      yaml_scalar_style_t style)
{
    yaml_event_t ev;
    bool implicit = !tag || strcmp(tag, YAML_DEFAULT_SCALAR_TAG) == 0;
    if (!yaml_scalar_event_initialize(&ev, NULL, implicit ? NULL : (yaml_char_t *)tag,
                                      (yaml_char_t *)s, (int)n, implicit, implicit, style))
        return false;
    return yaml_emitter_emit(&e->em, &ev);
}

static bool emit_node(struct emit *e, yaml_node_t *n, int depth)
{
    if (!n || depth > EMIT_MAX_DEPTH || ++e->nodes > EMIT_MAX_NODES) {
        e->toobig = true;
        return false;
    }
    yaml_event_t ev;
    const char *tag = (const char *)n->tag;
    switch (n->type) {
    case YAML_SCALAR_NODE:
        if (n->data.scalar.length > SIGMA_MAX_TEXT) {
            e->toobig = true;
            return false;
        }
        return ev_scalar(e, tag, (const char *)n->data.scalar.value, n->data.scalar.length,
                         n->data.scalar.style);
    case YAML_SEQUENCE_NODE: {
        bool implicit = !tag || strcmp(tag, YAML_DEFAULT_SEQUENCE_TAG) == 0;
        if (!yaml_sequence_start_event_initialize(&ev, NULL, implicit ? NULL : (yaml_char_t *)tag,
                                                  implicit, YAML_ANY_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(&e->em, &ev))
            return false;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++)
            if (!emit_node(e, yaml_document_get_node(e->doc, *it), depth + 1))
                return false;
        return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(&e->em, &ev);
    }
    case YAML_MAPPING_NODE: {
        bool implicit = !tag || strcmp(tag, YAML_DEFAULT_MAPPING_TAG) == 0;
        if (!yaml_mapping_start_event_initialize(&ev, NULL, implicit ? NULL : (yaml_char_t *)tag,
                                                 implicit, YAML_ANY_MAPPING_STYLE) ||
            !yaml_emitter_emit(&e->em, &ev))
            return false;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
            if (!emit_node(e, yaml_document_get_node(e->doc, p->key), depth + 1) ||
                !emit_node(e, yaml_document_get_node(e->doc, p->value), depth + 1))
                return false;
        return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(&e->em, &ev);
    }
    default:
        return false;
    }
}

kb_err py_emit_rule(yaml_document_t *doc, yaml_node_t *det, const char *title, struct buf *out,
                    struct kb_why *why)
{
    struct emit e = {.doc = doc};
    if (!yaml_emitter_initialize(&e.em))
        return kb_fail(why, KB_EINVAL, "libyaml could not start an emitter");
    yaml_emitter_set_output(&e.em, write_buf, out);
    yaml_emitter_set_unicode(&e.em, 1);
    yaml_emitter_set_width(&e.em, -1);
    yaml_event_t ev;
    bool ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
              yaml_emitter_emit(&e.em, &ev) &&
              yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
              yaml_emitter_emit(&e.em, &ev) &&
              yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) &&
              yaml_emitter_emit(&e.em, &ev) &&
              ev_scalar(&e, NULL, "title", 5, YAML_PLAIN_SCALAR_STYLE) &&
              ev_scalar(&e, NULL, title, strlen(title), YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
              ev_scalar(&e, NULL, "detection", 9, YAML_PLAIN_SCALAR_STYLE) &&
              emit_node(&e, det, 0) && yaml_mapping_end_event_initialize(&ev) &&
              yaml_emitter_emit(&e.em, &ev) && yaml_document_end_event_initialize(&ev, 1) &&
              yaml_emitter_emit(&e.em, &ev) && yaml_stream_end_event_initialize(&ev) &&
              yaml_emitter_emit(&e.em, &ev) && yaml_emitter_flush(&e.em);
    const char *problem = e.em.problem;
    if (e.em.error == YAML_WRITER_ERROR)
        e.toobig = true;
    yaml_emitter_delete(&e.em);
    if (ok)
        return KB_OK;
    if (e.toobig)
        return kb_fail(why, KB_ETOOBIG, "too big or too deep (at most %d levels, %d nodes)",
                       EMIT_MAX_DEPTH, EMIT_MAX_NODES);
    return kb_fail(why, KB_EINVAL, "cannot be written as a Sigma detection: %s",
                   problem ? problem : "libyaml emitter error");
}
