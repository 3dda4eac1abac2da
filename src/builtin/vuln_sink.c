/* vuln_sink.c — engine alerts into the journal from the CLI (vuln_sink.h). */
#include "builtin/vuln_sink.h"

#include "formats/format.h"
#include "ingest/intake.h"
#include "ingest/pipeline.h"
#include "ingest/triage.h"
#include "lib/json.h"
#include "lib/log.h"
#include "notify/notifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define VS_WAIT_MS (3600 * 1000) /* the pipeline's fold of what was journaled */
#define VS_DURABLE_MS (60 * 1000) /* one alert's fsync */

struct vuln_sink {
    const char *cmd;
    struct journal *j;
    struct intake *in;
    struct pipeline *pl;
    struct triage *tr;
    struct route_set *routes;
    struct notifier *nt;
    struct db_gate *gate;
    struct vuln_triage *filter; /* borrowed */
    const struct format *fmt;
    uint64_t last_seq;
    size_t journaled, dropped, rejected;
    struct pipeline_stats before;
};

int vuln_sink_open(const char *cmd, const struct kb_config *cfg, const char *busy_hint,
                   struct vuln_sink **out)
{
    *out = NULL;
    if (builtin_ensure_data_dir(cfg))
        return 1;
    char jpath[4096], dbpath[4096];
    builtin_journal_path(cfg, jpath, sizeof jpath);
    builtin_db_path(cfg, dbpath, sizeof dbpath);
    struct vuln_sink *s = kb_calloc(1, sizeof *s);
    s->cmd = cmd;
    s->fmt = format_by_name("vuln");
    struct kb_why why = {{0}};
    struct journal_opts jo = {.segment_bytes = cfg->journal.segment_bytes,
                              .no_sync = !cfg->journal.fsync,
                              .compress_level = cfg->journal.compress_level};
    kb_err e = journal_open(jpath, &jo, &s->j, &why);
    if (e == KB_EBUSY) {
        builtin_error("vuln", "%s: %s\n(is 'koban serve' running on data_dir %s? %s)", cmd,
                      why.msg, cfg->data_dir, busy_hint);
        vuln_sink_close(s);
        return 1;
    }
    struct intake_opts io = {.max_event_bytes = cfg->ingest.max_event,
                             .max_events = SIZE_MAX / 4,
                             .max_json_depth = cfg->ingest.max_depth};
    struct pipeline_opts po = {.batch = cfg->store.batch, .cache_mib = cfg->store.cache_mib,
                               .max_json_depth = cfg->ingest.max_depth,
                               .max_event_bytes = cfg->ingest.max_event};
    if (!e && !s->fmt)
        e = kb_fail(&why, KB_ENOTFOUND, "the vuln format is not registered");
    if (!e) { /* the policies close resolved findings (policies/stock/50-vuln.yml) */
        struct triage_opts to = {.rules_dir = cfg->rules.dir, .rules_mapping = cfg->rules.mapping,
                                 .stock_policies = cfg->policies.stock,
                                 .policies_dir = cfg->policies.dir, .no_watch = true,
                                 .geoip_db = cfg->enrich.geoip_db};
        e = triage_new(&to, NULL, NULL, NULL, &s->tr, &why);
        po.triage = s->tr;
        io.triage = s->tr;
    }
    if (!e)
        e = builtin_notifier_open(cfg, &s->routes, &s->nt, &why);
    po.notifier = s->nt;
    if (!e)
        e = db_gate_new(&s->gate);
    po.gate = s->gate;
    if (!e)
        e = intake_new(s->j, &io, &s->in);
    if (!e)
        e = pipeline_new(s->j, dbpath, &po, &s->pl, &why);
    if (!e)
        e = pipeline_start(s->pl);
    if (e) {
        builtin_error("vuln", "%s: %s", cmd, why.msg[0] ? why.msg : kb_strerror(e));
        vuln_sink_close(s);
        return 1;
    }
    pipeline_get_stats(s->pl, &s->before);
    *out = s;
    return 0;
}

struct db_gate *vuln_sink_gate(struct vuln_sink *s)
{
    return s->gate;
}

void vuln_sink_filter(struct vuln_sink *s, struct vuln_triage *t)
{
    s->filter = t;
}

kb_err vuln_sink_alert(void *ctx, const char *json, size_t len)
{
    struct vuln_sink *s = ctx;
    if (s->filter && !vuln_triage_alert_keep(s->filter, json, len, vuln_triage_now(s->filter))) {
        s->dropped++;
        return KB_OK;
    }
    struct intake_report *rep = kb_calloc(1, sizeof *rep);
    struct kb_why why = {{0}};
    uint64_t seq = 0;
    kb_err e = intake_body(s->in, json, len, JOURNAL_PATH_CLI, s->fmt, rep, &seq, &why);
    if (!e && rep->accepted != 1) {
        /* kept in quarantine; the finding still changes */
        s->rejected++;
        fprintf(stderr, "koban vuln: %s: an alert was rejected: %s\n", s->cmd,
                rep->nreported ? rep->rejects[0].reason : "?");
    }
    free(rep);
    if (e) {
        fprintf(stderr, "koban vuln: %s: journal: %s\n", s->cmd,
                why.msg[0] ? why.msg : kb_strerror(e));
        return e;
    }
    if (seq && (e = journal_wait(s->j, seq, VS_DURABLE_MS)) != KB_OK)
        return e;
    s->journaled++;
    if (seq > s->last_seq)
        s->last_seq = seq;
    return KB_OK;
}

int vuln_sink_finish(struct vuln_sink *s)
{
    if (s->last_seq && pipeline_wait(s->pl, s->last_seq, VS_WAIT_MS) != KB_OK)
        return builtin_error("vuln", "%s: the pipeline did not fold the alerts in time", s->cmd);
    struct pipeline_stats after;
    pipeline_get_stats(s->pl, &after);
    printf("issues: %llu new, %llu updated, %llu reopened, %llu closed — see 'koban issues'\n",
           (unsigned long long)(after.created - s->before.created),
           (unsigned long long)(after.updated - s->before.updated),
           (unsigned long long)(after.reopened - s->before.reopened),
           (unsigned long long)(after.closed - s->before.closed));
    if (s->dropped)
        printf("%zu alert%s of triaged findings not journaled (see 'koban vuln list')\n",
               s->dropped, s->dropped == 1 ? "" : "s");
    return s->rejected ? 1 : 0;
}

void vuln_sink_close(struct vuln_sink *s)
{
    if (!s)
        return;
    pipeline_stop(s->pl);
    builtin_notifier_close(s->routes, s->nt);
    triage_free(s->tr);
    intake_free(s->in);
    journal_close(s->j);
    db_gate_free(s->gate);
    free(s);
}

int vuln_store_open(const char *cmd, const struct kb_config *cfg, bool create, struct db **out)
{
    *out = NULL;
    char path[4096];
    builtin_db_path(cfg, path, sizeof path);
    if (create && builtin_ensure_data_dir(cfg))
        return 1;
    if (!create && access(path, F_OK) != 0)
        return builtin_error("vuln", "%s: no store at %s (has 'koban serve' or 'koban vuln "
                                     "inventory' run with this data_dir?)", cmd, path);
    struct kb_why why = {{0}};
    if (db_open(path, DB_CLIENT, 8, out, &why))
        return builtin_error("vuln", "%s: %s", cmd, why.msg);
    return 0;
}

static void copy_str(const struct json_value *obj, const char *key, char *out, size_t n)
{
    struct kb_str s = json_str(json_get(obj, key));
    snprintf(out, n, "%.*s", (int)(s.p ? s.n : 0), s.p ? s.p : "");
}

bool vuln_alert_line(const char *json, size_t len, struct vuln_alert_line *out)
{
    struct arena ar;
    arena_init(&ar, 4u * 1024 * 1024);
    struct json_value *root = NULL;
    struct json_limits lim = {.max_depth = 16, .max_bytes = 1u << 20};
    bool ok = json_parse(json, len, &lim, &ar, &root, NULL) == KB_OK && root &&
              root->type == JSON_OBJECT;
    if (ok) {
        copy_str(root, "state", out->state, sizeof out->state);
        copy_str(root, "severity", out->severity, sizeof out->severity);
        copy_str(json_get(root, "fields"), "change", out->change, sizeof out->change);
        copy_str(root, "title", out->title, sizeof out->title);
    }
    arena_release(&ar);
    return ok;
}
