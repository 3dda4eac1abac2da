/* The reference: the two correlation rules of expected/sshd_bruteforce.yml
 * over syslog/loghub/OpenSSH_2k.log must give the alerts listed, row by row,
 * in expected/corr_sshd__loghub_openssh2k.tsv (44 event_count, 12
 * value_count).
 *
 * Each log line becomes one JSON event {"message", "src_ip", "user"}: the
 * syslog normalizer of src/formats splits the header and its sshd
 * extraction gives user and src_ip. The lines carry no year; they are read
 * with a reference time of 2018-01-01T00:00:00Z, so "Dec 10" is 2017-12-10,
 * the year the reference results use (times are UTC).
 *
 * The base rules are matched by hand here (the detection engine is tested on
 * its own): the test checks that the YAML still says what the hand-made
 * matchers do. */
#include "formats/syslog_parse.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"
#include "rules/correlate.h"
#include "test.h"

#include <yaml.h>

#define MAX_CORR 4
#define MAX_ROWS 128

/* The hand-made base rules: name, and the value of message|startswith. */
static const struct {
    const char *name;
    const char *prefix;
} base_rules[] = {
    {"sshd_failed_password", "Failed password for "}, /* base rule sshd_failed_password */
    {"sshd_invalid_user", "Invalid user "},           /* base rule sshd_invalid_user */
};

struct ref {
    struct corr_rule *corr[MAX_CORR];
    size_t ncorr;
    char *base_id[KB_ARRAY_LEN(base_rules)]; /* ids read from the YAML */
    size_t nbase_checked;
};

/* Reads the YAML: correlation documents become rules; base-rule documents
 * are checked against base_rules[]. */
static void load_yaml(const char *path, struct ref *rf)
{
    size_t len;
    char *text = t_read_file(path, &len);
    T_CHECKF(text != NULL, "cannot read %s", path);
    if (!text)
        return;
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(&p, &doc))
            break;
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        /* find top-level keys by hand: correlation, name, id, detection */
        yaml_node_t *corr = NULL, *name = NULL, *id = NULL, *det = NULL;
        for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < root->data.mapping.pairs.top;
             q++) {
            const char *k = (const char *)yaml_document_get_node(&doc, q->key)->data.scalar.value;
            yaml_node_t *v = yaml_document_get_node(&doc, q->value);
            if (strcmp(k, "correlation") == 0)
                corr = v;
            else if (strcmp(k, "name") == 0)
                name = v;
            else if (strcmp(k, "id") == 0)
                id = v;
            else if (strcmp(k, "detection") == 0)
                det = v;
        }
        if (corr && rf->ncorr < MAX_CORR) {
            struct kb_why why = {{0}};
            kb_err err = corr_rule_from_yaml(&doc, root, path, &rf->corr[rf->ncorr], &why);
            T_CHECKF(err == KB_OK, "%s", why.msg);
            if (err == KB_OK)
                rf->ncorr++;
        } else if (name && det) {
            /* detection: {selection: {"message|startswith": X}, condition: selection} */
            const char *prefix = NULL;
            yaml_node_t *sel = yaml_document_get_node(&doc, det->data.mapping.pairs.start->value);
            if (sel->type == YAML_MAPPING_NODE &&
                sel->data.mapping.pairs.top - sel->data.mapping.pairs.start == 1) {
                yaml_node_pair_t *q = sel->data.mapping.pairs.start;
                const char *k =
                    (const char *)yaml_document_get_node(&doc, q->key)->data.scalar.value;
                if (strcmp(k, "message|startswith") == 0)
                    prefix =
                        (const char *)yaml_document_get_node(&doc, q->value)->data.scalar.value;
            }
            const char *n = (const char *)name->data.scalar.value;
            for (size_t i = 0; i < KB_ARRAY_LEN(base_rules); i++)
                if (strcmp(n, base_rules[i].name) == 0) {
                    T_CHECKF(prefix && strcmp(prefix, base_rules[i].prefix) == 0,
                             "base rule %s no longer matches the hand-made matcher", n);
                    rf->base_id[i] = id ? kb_strdup((const char *)id->data.scalar.value) : NULL;
                    rf->nbase_checked++;
                }
        }
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&p);
    free(text);
}

/* ---- one log line -> one JSON event ---- */

struct line_ev {
    struct buf json;
    int64_t time_ms;
    struct kb_str message;
};

static kb_err on_syslog(void *ctx, struct alert *a)
{
    struct line_ev *le = ctx;
    le->time_ms = a->time_ms;
    le->message = a->description.p ? a->description : a->title;
    struct jw w;
    buf_reset(&le->json);
    jw_init(&w, &le->json);
    jw_obj_begin(&w);
    jw_kv_kstr(&w, "message", le->message);
    jw_kv_kstr(&w, "src_ip", alert_get(a, "src_ip"));
    jw_kv_kstr(&w, "user", alert_get(a, "user"));
    jw_obj_end(&w);
    return jw_finish(&w);
}

/* ---- alerts, formatted like the TSV rows ---- */

struct rows {
    const struct ref *rf;
    char *row[MAX_CORR][MAX_ROWS];
    size_t n[MAX_CORR];
    size_t overflow;
};

static void sql_time(int64_t ms, char out[32])
{
    kb_time_format(ms, out); /* 2017-12-10T07:27:52.000Z */
    out[10] = ' ';
    out[19] = '\0';
}

static kb_err on_alert(void *ctx, const struct corr_alert *a)
{
    struct rows *rw = ctx;
    size_t i = 0;
    while (i < rw->rf->ncorr && rw->rf->corr[i] != a->rule)
        i++;
    if (i == rw->rf->ncorr || rw->n[i] == MAX_ROWS) {
        rw->overflow++;
        return KB_OK;
    }
    char first[32], last[32], row[512];
    sql_time(a->first_ms, first);
    sql_time(a->last_ms, last);
    snprintf(row, sizeof row, "ALERT\t%s\t{'%s': '%.*s'}\t%.0f\tfirst=%s\tlast=%s", a->rule->title,
             a->rule->group_by[0], (int)a->group[0].n, a->group[0].p, a->value, first, last);
    rw->row[i][rw->n[i]++] = kb_strdup(row);
    return KB_OK;
}

static const struct json_value *lookup(const struct json_value *ev, const char *name, size_t len,
                                       void *ctx)
{
    const struct json_value *v = json_getn(ev, name, len);
    return v ? v : json_path(ev, name);
}

static void test_reference(void)
{
    T_NEED_DATA(data);
    char path[4096];
    struct ref rf;
    memset(&rf, 0, sizeof rf);
    snprintf(path, sizeof path, "%s/expected/sshd_bruteforce.yml", data);
    load_yaml(path, &rf);
    T_EQ_INT(rf.ncorr, 2);
    T_EQ_INT(rf.nbase_checked, 2);

    struct corr_engine *eng = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(corr_engine_new(rf.corr, rf.ncorr, NULL, &eng, &why), KB_OK);

    snprintf(path, sizeof path, "%s/syslog/loghub/OpenSSH_2k.log", data);
    size_t len = 0;
    char *log = t_read_file(path, &len);
    T_CHECKF(log != NULL, "cannot read %s", path);

    int64_t ref_ms = kb_days_from_civil(2018, 1, 1) * 86400000LL;
    struct rows rw;
    memset(&rw, 0, sizeof rw);
    rw.rf = &rf;
    struct line_ev le = {.json = BUF_INIT(1 << 20)};
    struct arena ar = ARENA_INIT(1 << 20);
    size_t nlines = 0, nmatch[KB_ARRAY_LEN(base_rules)] = {0};
    for (char *p = log, *end = log + len; eng && log && p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        struct kb_str line = {p, nl ? (size_t)(nl - p) : (size_t)(end - p)};
        p = nl ? nl + 1 : end;
        if (line.n == 0)
            continue;
        nlines++;
        arena_reset(&ar);
        struct kb_why w = {{0}};
        kb_err err = syslog_normalize_at(line, ref_ms, &ar, on_syslog, &le, &w);
        T_CHECKF(err == KB_OK, "line %zu: %s", nlines, w.msg);
        if (err != KB_OK)
            continue;
        struct json_value *ev = NULL;
        T_EQ_INT(json_parse(le.json.p, le.json.len, NULL, &ar, &ev, NULL), KB_OK);
        for (size_t i = 0; i < KB_ARRAY_LEN(base_rules); i++) {
            size_t pl = strlen(base_rules[i].prefix);
            if (le.message.n < pl || memcmp(le.message.p, base_rules[i].prefix, pl) != 0)
                continue;
            nmatch[i]++;
            struct corr_match m = {base_rules[i].name, rf.base_id[i], le.time_ms, nlines, ev};
            T_EQ_INT(corr_feed(eng, &m, lookup, on_alert, &rw), KB_OK);
        }
    }
    T_EQ_INT(nlines, 2000);
    /* 520 lines hold the text; in 2 of them it is inside "message repeated
     * 5 times: [ Failed password ...]", which startswith does not match */
    T_EQ_INT(nmatch[0], 518);
    T_EQ_INT(nmatch[1], 113); /* grep -c 'Invalid user ' */

    /* compare with the TSV: rows of the first rule, then of the second */
    snprintf(path, sizeof path, "%s/expected/corr_sshd__loghub_openssh2k.tsv", data);
    char *tsv = t_read_file(path, NULL);
    T_CHECKF(tsv != NULL, "cannot read %s", path);
    size_t row = 0, same = 0, total = 0;
    size_t want[MAX_CORR] = {0};
    for (char *p = tsv; tsv && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (*p) {
            size_t r = 0;
            while (r < rf.ncorr && !strstr(p, rf.corr[r]->title))
                r++;
            T_CHECKF(r < rf.ncorr, "TSV row names no rule: %s", p);
            if (r < rf.ncorr) {
                size_t k = want[r]++;
                const char *got = k < rw.n[r] ? rw.row[r][k] : "(none)";
                T_CHECKF(strcmp(got, p) == 0, "row %zu\n    want %s\n    got  %s", row + 1, p, got);
                same += strcmp(got, p) == 0;
            }
            row++;
        }
        p = nl ? nl + 1 : p + strlen(p);
    }
    for (size_t r = 0; r < rf.ncorr; r++) {
        T_EQ_INT(rw.n[r], want[r]);
        total += rw.n[r];
    }
    T_EQ_INT(want[0], 44);
    T_EQ_INT(want[1], 12);
    T_EQ_INT(rw.overflow, 0);
    fprintf(stderr, "  reference: %zu rows expected, %zu alerts emitted (%zu + %zu), %zu equal\n",
            row, total, rw.n[0], rw.n[1], same);

    free(tsv);
    free(log);
    arena_release(&ar);
    buf_release(&le.json);
    for (size_t r = 0; r < rf.ncorr; r++)
        for (size_t k = 0; k < rw.n[r]; k++)
            free(rw.row[r][k]);
    corr_engine_free(eng);
    for (size_t r = 0; r < rf.ncorr; r++)
        corr_rule_free(rf.corr[r]);
    for (size_t i = 0; i < KB_ARRAY_LEN(base_rules); i++)
        free(rf.base_id[i]);
}

int main(void)
{
    T_RUN(test_reference);
    return t_done();
}
