/*
 * feed_jvn.c — MyJVN answers (XML) into ids and OSV records
 * (feed_convert.h): getVulnOverviewList (RSS 1.0 with a status:Status
 * element) and getVulnDetailInfo (VULDEF-Document).
 *
 * XML is read with libxml2 from memory only: no network (XML_PARSE_NONET),
 * no DTD loading, no entity substitution, and a document with a DOCTYPE is
 * refused as soon as the parser meets it (MyJVN never sends one), so no
 * entity is ever declared, fetched or expanded. Text is taken from text
 * and CDATA nodes only.
 *
 * Times in JVN carry +09:00 offsets; they are converted to UTC exactly.
 * The overview's firstRes is 1-based; feed_page_info.start is 0-based
 * (firstRes - 1), as NVD's startIndex.
 */
#include <stdio.h>
#include <stdlib.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vuln/feed_util.h"

#define JVN_MAX_NODES 100000   /* Vulinfo / item elements walked in one body */
#define JVN_TEXT_MAX (1u << 20) /* one element's text */

struct xml_guard {
    bool doctype;
};

/* SAX hook: the parser met <!DOCTYPE: stop before any declaration. */
static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    (void)name, (void)ext, (void)sys;
    xmlParserCtxtPtr c = ctx;
    ((struct xml_guard *)c->_private)->doctype = true;
    xmlStopParser(c);
}

static kb_err xml_read(const char *xml, size_t len, xmlDocPtr *out, struct kb_why *why)
{
    *out = NULL;
    if (!xml)
        return kb_fail(why, KB_EINVAL, "no body");
    if (len > FEED_MAX_BODY)
        return kb_fail(why, KB_ETOOBIG, "body of %zu bytes is over %u", len, FEED_MAX_BODY);
    xmlParserCtxtPtr c = xmlNewParserCtxt();
    if (!c)
        return kb_fail(why, KB_EPARSE, "XML: no parser context");
    struct xml_guard g = {false};
    c->_private = &g;
    c->sax->internalSubset = refuse_doctype;
    c->sax->externalSubset = refuse_doctype;
    /* No XML_PARSE_NOENT (no substitution), no DTDLOAD / DTDATTR, no
     * HUGE: libxml2's own bounds on depth and text stay on. */
    xmlDocPtr d = xmlCtxtReadMemory(c, xml, (int)len, NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    kb_err e = KB_OK;
    if (g.doctype) {
        e = kb_fail(why, KB_EINVAL, "XML line %d: a DOCTYPE is refused (no DTD or entity is read)",
                    c->input ? c->input->line : 0);
    } else if (!d || !c->wellFormed) {
        const xmlError *x = xmlCtxtGetLastError(c);
        char msg[160] = "not well-formed";
        if (x && x->message) {
            snprintf(msg, sizeof msg, "%s", x->message);
            size_t n = strlen(msg);
            while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                msg[--n] = '\0';
        }
        e = kb_fail(why, KB_EPARSE, "XML line %d: %s", x ? x->line : 0, msg);
    }
    if (e && d) {
        xmlFreeDoc(d);
        d = NULL;
    }
    xmlFreeParserCtxt(c);
    *out = d;
    return e;
}

/* Whether n is an element with this local name (any namespace). */
static bool is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static xmlNodePtr child(const xmlNode *n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

static xmlNodePtr next_named(xmlNodePtr c, const char *name)
{
    for (c = c ? c->next : NULL; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

/* The element's own text (text and CDATA children only: entity
 * references are never followed), white space trimmed, into b. */
static kb_err node_text(const xmlNode *n, struct buf *b)
{
    buf_reset(b);
    kb_err e = KB_OK;
    for (xmlNodePtr c = n ? n->children : NULL; c && !e; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            e = buf_puts(b, (const char *)c->content);
    if (e)
        return e;
    if (!b->p) {
        buf_puts(b, "");
        return KB_OK;
    }
    size_t a = 0;
    while (a < b->len && strchr(" \t\r\n", b->p[a]))
        a++;
    memmove(b->p, b->p + a, b->len - a + 1);
    b->len -= a;
    while (b->len && strchr(" \t\r\n", b->p[b->len - 1]))
        b->p[--b->len] = '\0';
    return KB_OK;
}

/* The child's text as a NUL-terminated string in b ("" when absent). */
static kb_err child_text(const xmlNode *n, const char *name, struct buf *b)
{
    xmlNodePtr c = child(n, name);
    if (c)
        return node_text(c, b);
    buf_reset(b);
    return buf_puts(b, "");
}

/* An attribute as an integer; false when absent or not one. */
static bool attr_int(const xmlNode *n, const char *name, int64_t *out)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    bool ok = false;
    if (v && v[0]) {
        char *end;
        long long x = strtoll((const char *)v, &end, 10);
        ok = *end == '\0' && x >= 0;
        *out = x;
    }
    xmlFree(v);
    return ok;
}

static bool attr_is(const xmlNode *n, const char *name, const char *want)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    bool eq = v && !strcmp((const char *)v, want);
    xmlFree(v);
    return eq;
}

/* The status:Status element: an error when retCd says so, else info. */
static kb_err jvn_status(const xmlNode *root, struct feed_page_info *pi, struct kb_why *why)
{
    xmlNodePtr st = child(root, "Status");
    if (!st)
        return kb_fail(why, KB_EINVAL, "no status:Status element");
    if (attr_is(st, "retCd", "1")) {
        xmlChar *code = xmlGetNoNsProp(st, (const xmlChar *)"errCd");
        xmlChar *msg = xmlGetNoNsProp(st, (const xmlChar *)"errMsg");
        kb_fail(why, KB_EINVAL, "MyJVN error %s: %s", code ? (const char *)code : "?",
                msg ? (const char *)msg : "");
        xmlFree(code);
        xmlFree(msg);
        return KB_EINVAL;
    }
    int64_t total = 0, first = 1, ret = 0;
    if (pi) {
        attr_int(st, "totalRes", &total);
        attr_int(st, "totalResRet", &ret);
        if (!attr_int(st, "firstRes", &first) || first < 1)
            first = 1;
        *pi = (struct feed_page_info){.total = total, .start = first - 1, .count = ret};
    }
    return KB_OK;
}

static bool jvndb_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n != 17 || memcmp(s, "JVNDB-", 6) != 0 || s[10] != '-')
        return false;
    for (size_t i = 6; i < n; i++)
        if (i != 10 && (s[i] < '0' || s[i] > '9'))
            return false;
    return true;
}

kb_err feed_jvn_overview(const char *xml, size_t len, feed_jvn_id_fn fn, void *ctx,
                         struct feed_page_info *info, struct kb_why *why)
{
    if (!fn)
        return kb_fail(why, KB_EINVAL, "no callback");
    xmlDocPtr d;
    kb_err e = xml_read(xml, len, &d, why);
    if (e)
        return e;
    xmlNodePtr root = xmlDocGetRootElement(d);
    struct feed_page_info pi = {0};
    if (!is(root, "RDF"))
        e = kb_fail(why, KB_EINVAL, "the root element is not rdf:RDF");
    else
        e = jvn_status(root, &pi, why);
    struct buf id = BUF_INIT(256), mod = BUF_INIT(256);
    size_t i = 0;
    for (xmlNodePtr it = e ? NULL : child(root, "item"); it && !e; it = next_named(it, "item"), i++) {
        int64_t ms = 0;
        if (i >= JVN_MAX_NODES)
            e = kb_fail(why, KB_ETOOBIG, "over %d items", JVN_MAX_NODES);
        else if (child_text(it, "identifier", &id) || !jvndb_id_ok(id.p))
            e = kb_fail(why, KB_EINVAL, "item[%zu] (line %d): sec:identifier '%.40s' is not a JVNDB id",
                        i, it->line, id.p ? id.p : "");
        else if (child_text(it, "modified", &mod) || (mod.len && feed_time(kb_str_c(mod.p), &ms)))
            e = kb_fail(why, KB_EINVAL, "item[%zu] %s: dcterms:modified '%.40s' is not a time", i,
                        id.p, mod.p ? mod.p : "");
        else if ((e = fn(ctx, id.p, ms)))
            kb_fail(why, e, "item[%zu] %s: the callback failed (%s)", i, id.p, kb_strerror(e));
    }
    buf_release(&id);
    buf_release(&mod);
    xmlFreeDoc(d);
    if (!e && info)
        *info = pi;
    return e;
}

/* ---- detail ---- */

/* Reads a JVN time child into *ms (0 when absent); an error when malformed. */
static kb_err jvn_time(const xmlNode *data, const char *name, const char *where, struct buf *t,
                       int64_t *ms, struct kb_why *why)
{
    *ms = 0;
    if (child_text(data, name, t))
        return kb_fail(why, KB_ETOOBIG, "%s.%s: too long", where, name);
    if (t->len && feed_time(kb_str_c(t->p), ms))
        return kb_fail(why, KB_EINVAL, "%s.%s: '%.40s' is not a time", where, name, t->p);
    return KB_OK;
}

/* Related items: aliases (CVE ids), CWE ids and, when refs, the references. */
static void jvn_related(struct feed_rec *r, const xmlNode *data, struct feed_strs *aliases,
                        bool refs, struct buf *t)
{
    struct feed_strs seen;
    feed_strs_init(&seen, OSV_MAX_ITEMS, SIZE_MAX);
    xmlNodePtr rel = child(data, "Related");
    size_t k = 0;
    for (xmlNodePtr it = child(rel, "RelatedItem"); it && k < OSV_MAX_ITEMS;
         it = next_named(it, "RelatedItem"), k++) {
        bool cwe = attr_is(it, "type", "cwe");
        if (!refs) {
            if (child_text(it, "VulinfoID", t))
                continue;
            if (cwe && !strncmp(t->p, "CWE-", 4) && t->p[4] >= '0' && t->p[4] <= '9')
                feed_strs_add(&r->cwe, t->p, t->len);
            else if (!cwe && !strncmp(t->p, "CVE-", 4) && t->len < 32)
                feed_strs_add(aliases, t->p, t->len);
            continue;
        }
        if (cwe || child_text(it, "URL", t) || t->len == 0 || feed_strs_has(&seen, t->p, t->len))
            continue;
        feed_strs_add(&seen, t->p, t->len);
        bool adv = attr_is(it, "type", "advisory") || attr_is(it, "type", "vendor");
        jw_obj_begin(&r->w);
        jw_kv_str(&r->w, "type", adv ? "ADVISORY" : "WEB");
        jw_kv_str(&r->w, "url", t->p);
        jw_obj_end(&r->w);
    }
    feed_strs_release(&seen);
}

static void jvn_severity(struct feed_rec *r, const xmlNode *data, struct buf *t)
{
    bool open = false, have3 = false, have4 = false;
    xmlNodePtr imp = child(data, "Impact");
    size_t k = 0;
    for (xmlNodePtr c = child(imp, "Cvss"); c && k < 64; c = next_named(c, "Cvss"), k++) {
        bool v3 = attr_is(c, "version", "3.0") || attr_is(c, "version", "3.1");
        bool v4 = attr_is(c, "version", "4.0");
        if ((!v3 || have3) && (!v4 || have4))
            continue; /* v2 is ignored; the first of each kind is kept */
        if (child_text(c, "Vector", t) || t->len == 0)
            continue;
        if (!open) {
            jw_key(&r->w, "severity");
            jw_arr_begin(&r->w);
            open = true;
        }
        jw_obj_begin(&r->w);
        jw_kv_str(&r->w, "type", v3 ? "CVSS_V3" : "CVSS_V4");
        jw_kv_str(&r->w, "score", t->p);
        jw_obj_end(&r->w);
        have3 |= v3;
        have4 |= v4;
    }
    if (open)
        jw_arr_end(&r->w);
}

static kb_err jvn_affected(struct feed_rec *r, const xmlNode *data, const char *where,
                           struct buf *t, struct kb_why *why)
{
    jw_key(&r->w, "affected");
    jw_arr_begin(&r->w);
    xmlNodePtr aff = child(data, "Affected");
    size_t k = 0;
    for (xmlNodePtr it = child(aff, "AffectedItem"); it; it = next_named(it, "AffectedItem"), k++) {
        if (k >= OSV_MAX_ITEMS)
            return kb_fail(why, KB_ETOOBIG, "%s.Affected: over %d items", where, OSV_MAX_ITEMS);
        size_t ncpe = 0;
        for (xmlNodePtr c = child(it, "Cpe"); c && ncpe < 256; c = next_named(c, "Cpe"), ncpe++) {
            struct feed_cpe cpe;
            struct kb_why cw = {{0}};
            if (node_text(c, t) || feed_cpe_parse(kb_str_c(t->p), &cpe, &cw))
                return kb_fail(why, KB_EINVAL, "%s.AffectedItem[%zu].Cpe (line %d): %s", where, k,
                               c->line, cw.msg[0] ? cw.msg : "too long");
            feed_put_cpe_entry(r, &cpe, NULL, kb_str_c(t->p));
        }
        /* the versions as JVN writes them: "product: v1, v2" */
        char line[FEED_TEXT_MAX];
        size_t o = 0, nv = 0;
        if (!child_text(it, "ProductName", t))
            o = (size_t)snprintf(line, sizeof line, "%.512s:", t->p);
        for (xmlNodePtr v = child(it, "VersionNumber"); v && o < sizeof line - 1;
             v = next_named(v, "VersionNumber"), nv++) {
            if (node_text(v, t) || t->len == 0)
                continue;
            int n = snprintf(line + o, sizeof line - o, "%s %s", nv ? "," : "", t->p);
            o = KB_MIN(o + (size_t)KB_MAX(n, 0), sizeof line - 1);
        }
        if (nv)
            feed_strs_add(&r->text, line, o);
        if (ncpe == 0)
            r->suspected = true; /* a product named only in words */
    }
    jw_arr_end(&r->w);
    return KB_OK;
}

static kb_err jvn_one(const xmlNode *vi, const char *where, char *id_out, size_t id_sz,
                      struct feed_rec *r, struct kb_why *why)
{
    struct buf t = BUF_INIT(JVN_TEXT_MAX);
    kb_err e = KB_OK;
    xmlNodePtr data = child(vi, "VulinfoData");
    int64_t pub = 0, mod = 0;
    if (child_text(vi, "VulinfoID", &t) || !jvndb_id_ok(t.p))
        e = kb_fail(why, KB_EINVAL, "%s.VulinfoID: '%.40s' is not a JVNDB id", where,
                    t.p ? t.p : "");
    else if (snprintf(id_out, id_sz, "%s", t.p), !data)
        e = kb_fail(why, KB_EINVAL, "%s: no VulinfoData", where);
    else if (!(e = jvn_time(data, "DateLastUpdated", where, &t, &mod, why)))
        e = jvn_time(data, "DateFirstPublished", where, &t, &pub, why);
    if (!e && !mod && !(mod = pub))
        e = kb_fail(why, KB_EINVAL, "%s: neither DateLastUpdated nor DateFirstPublished", where);
    if (e) {
        buf_release(&t);
        return e;
    }
    struct jw *w = &r->w;
    jw_obj_begin(w);
    jw_kv_str(w, "schema_version", "1.6.0");
    jw_kv_str(w, "id", id_out);
    feed_put_time(w, "modified", mod);
    if (pub)
        feed_put_time(w, "published", pub);
    if (!child_text(data, "Title", &t))
        feed_put_text(w, (struct kb_str){t.p, t.len}, false);
    if (!child_text(child(data, "VulinfoDescription"), "Overview", &t) && t.len) {
        jw_key(w, "details");
        jw_strn(w, t.p, t.len);
    }
    struct feed_strs aliases;
    feed_strs_init(&aliases, 256, FEED_TEXT_MAX);
    jvn_related(r, data, &aliases, false, &t);
    if (aliases.n) {
        jw_key(w, "aliases");
        feed_strs_write(w, &aliases);
    }
    feed_strs_release(&aliases);
    jvn_severity(r, data, &t);
    jw_key(w, "references");
    jw_arr_begin(w);
    jvn_related(r, data, NULL, true, &t);
    jw_arr_end(w);
    if (!(e = jvn_affected(r, data, where, &t, why))) {
        feed_rec_koban(r, "jvn", NULL, NULL);
        jw_obj_end(w);
    }
    buf_release(&t);
    return e;
}

kb_err feed_jvn_detail(const char *xml, size_t len, feed_adv_fn fn, feed_skip_fn skip, void *ctx,
                       struct kb_why *why)
{
    if (!fn)
        return kb_fail(why, KB_EINVAL, "no callback");
    xmlDocPtr d;
    kb_err e = xml_read(xml, len, &d, why);
    if (e)
        return e;
    xmlNodePtr root = xmlDocGetRootElement(d);
    if (!is(root, "VULDEF-Document"))
        e = kb_fail(why, KB_EINVAL, "the root element is not VULDEF-Document");
    else
        e = jvn_status(root, NULL, why);
    size_t i = 0;
    for (xmlNodePtr vi = e ? NULL : child(root, "Vulinfo"); vi && !e;
         vi = next_named(vi, "Vulinfo"), i++) {
        if (i >= JVN_MAX_NODES) {
            e = kb_fail(why, KB_ETOOBIG, "over %d Vulinfo elements", JVN_MAX_NODES);
            break;
        }
        char where[48], id[32] = "";
        snprintf(where, sizeof where, "Vulinfo[%zu]", i);
        struct kb_why rw = {{0}};
        struct feed_rec r;
        feed_rec_init(&r);
        bool cb_failed = false;
        kb_err re = jvn_one(vi, where, id, sizeof id, &r, &rw);
        if (!re)
            re = feed_rec_emit(&r, id, fn, ctx, &cb_failed, &rw);
        feed_rec_release(&r);
        if (re && cb_failed) {
            e = kb_fail(why, re, "%s", rw.msg);
        } else if (re && skip) {
            char at[96];
            snprintf(at, sizeof at, "%s (line %d)%s%s", where, vi->line, id[0] ? " " : "", id);
            skip(ctx, at, rw.msg);
        }
    }
    xmlFreeDoc(d);
    return e;
}
