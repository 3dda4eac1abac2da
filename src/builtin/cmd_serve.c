/*
 * cmd_serve.c — `koban serve`: the daemon.
 *
 * Start order (each part borrows what was started before it):
 *   journal → intake → pipeline → spool → syslog → HTTP (+ issues API)
 * Stop order is the reverse for the ingest paths, so that every event
 * acknowledged before SIGTERM is durable and applied before exit:
 *   HTTP (answers in-flight requests) → syslog → spool → pipeline (drains
 *   the journal into the store) → journal (flushes, fsyncs).
 * When everything listens, <data_dir>/serve.json says where (ports, pid).
 */
#include "builtin/builtin.h"

#include "formats/format.h"
#include "incident/incident_service.h"
#include "ingest/intake.h"
#include "ingest/pipeline.h"
#include "ingest/spool.h"
#include "ingest/syslog_net.h"
#include "ingest/triage.h"
#include "lib/log.h"
#include "notify/notify.h"
#include "web/api_incidents.h"
#include "web/api_issues.h"
#include "web/api_slack.h"
#include "web/api_vuln.h"
#include "web/vuln_service.h"
#include "web/web.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const struct builtin builtin_serve = {
    "serve", cmd_serve, "run the koban server (HTTP, spool, syslog → store)",
    "usage: koban serve [--config FILE] [--data-dir DIR] [--listen ADDR]\n"
    "                   [--syslog-udp ADDR] [--syslog-tcp ADDR] [--rules DIR]\n"
    "                   [--check-config]\n\n"
    "Runs koban: events are accepted over HTTP (POST /v1/events), from the spool\n"
    "directory, and from syslog (UDP and TCP), written to the journal before they\n"
    "are acknowledged, normalized, and folded into issues.\n\n"
    "  --config FILE     koban.yaml (default: $KOBAN_CONFIG, ./koban.yaml, built-ins)\n"
    "  --data-dir DIR    override data_dir\n"
    "  --listen ADDR     override http.listen (host:port; port 0 = any free port)\n"
    "  --syslog-udp ADDR, --syslog-tcp ADDR   override syslog listeners ('' = off)\n"
    "  --no-spool        do not watch the spool directory\n"
    "  --rules DIR       override rules.dir (Sigma rules, searched recursively)\n"
    "  --check-config    validate the configuration and load every rule and policy;\n"
    "                    print the configuration and each error; exit 1 on any\n\n"
    "SIGTERM or SIGINT stops it cleanly: in-flight requests are answered and the\n"
    "journal is drained into the store first. SIGHUP reloads the rules and\n"
    "policies (so does a change of their files, within a few seconds); a set\n"
    "with any error is not used and the previous one stays. It also reopens\n"
    "enrich.geoip_db (a file that fails to open keeps the previous one).\n",
};

struct daemon {
    struct kb_config cfg;
    struct journal *journal;
    struct intake *intake;
    struct triage *triage;
    struct notify *notify; /* NULL without notify.routes */
    struct db_gate *gate;  /* the store connections' writer turns */
    struct pipeline *pipeline;
    struct spool *spool;
    struct syslog_net *syslog;
    struct api_issues *api;
    struct api_slack *slack; /* NULL without slack.signing_secret */
    struct incident_service *incidents; /* NULL without incident.config */
    struct api_vuln *vuln;
    struct api_incidents *incidents_api;
    struct vuln_service *vulns; /* triage expiry, scheduled feed syncs */
    struct web *web;
};

/* HTTP routes beyond the built-in ones: Slack's, then the issues API. */
static kb_err daemon_route(void *ctx, const struct web_request *req, struct web_response *resp)
{
    struct daemon *d = ctx;
    if (d->slack) {
        kb_err e = api_slack_route(d->slack, req, resp);
        if (e != KB_ENOTFOUND)
            return e;
    }
    kb_err e = api_vuln_route(d->vuln, req, resp);
    if (e == KB_ENOTFOUND)
        e = vuln_service_route(d->vulns, req, resp);
    if (e == KB_ENOTFOUND)
        e = api_incidents_route(d->incidents_api, req, resp);
    if (e != KB_ENOTFOUND)
        return e;
    return api_issues_route(d->api, req, resp);
}

static kb_err daemon_metrics(void *ctx, struct buf *out)
{
    struct daemon *d = ctx;
    pipeline_metrics(d->pipeline, out);
    if (d->spool)
        spool_metrics(d->spool, out);
    if (d->syslog)
        syslog_net_metrics(d->syslog, out);
    if (d->notify)
        notify_metrics(d->notify, out);
    if (d->slack)
        api_slack_metrics(d->slack, out);
    if (d->incidents)
        incident_service_metrics(d->incidents, out);
    if (d->vulns)
        vuln_service_metrics(d->vulns, out);
    return KB_OK; /* web adds its own, intake's and the journal's */
}

static kb_err daemon_health(void *ctx, struct kb_why *why)
{
    struct daemon *d = ctx;
    struct pipeline_stats st;
    pipeline_get_stats(d->pipeline, &st);
    uint64_t durable = journal_durable_seq(d->journal);
    if (durable > st.applied_seq + 10000000ULL)
        return kb_fail(why, KB_EBUSY, "pipeline lags %llu records behind the journal",
                       (unsigned long long)(durable - st.applied_seq));
    return KB_OK;
}

static void write_ready(struct daemon *d, uint16_t http_port)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/serve.json", d->cfg.data_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    char *host = NULL;
    uint16_t port;
    config_parse_addr(d->cfg.http.listen, &host, &port, NULL);
    fprintf(f, "{\"pid\":%d,\"http\":\"%s:%u\"", (int)getpid(), host ? host : "127.0.0.1",
            http_port);
    free(host);
    if (d->syslog) {
        fprintf(f, ",\"syslog_udp\":%u,\"syslog_tcp\":%u", syslog_net_udp_port(d->syslog),
                syslog_net_tcp_port(d->syslog));
    }
    fprintf(f, ",\"spool\":\"%s\"}\n", d->spool ? d->cfg.spool.dir : "");
    fclose(f);
    rename(tmp, path);
}

static void print_load_error(void *ctx, const char *msg)
{
    (void)ctx;
    printf("error: %s\n", msg);
}

static void daemon_stop(struct daemon *d)
{
    web_stop(d->web);
    api_issues_free(d->api);
    api_slack_free(d->slack);
    vuln_service_stop(d->vulns); /* before the API whose engine it uses */
    api_vuln_free(d->vuln);
    api_incidents_free(d->incidents_api);
    syslog_net_stop(d->syslog);
    spool_stop(d->spool);
    pipeline_stop(d->pipeline);
    incident_service_free(d->incidents);
    notify_free(d->notify); /* after the pipeline and the API, which tell it */
    db_gate_free(d->gate);  /* after every connection that used it */
    triage_free(d->triage);
    intake_free(d->intake);
    journal_close(d->journal);
    if (d->cfg.data_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/serve.json", d->cfg.data_dir);
        unlink(path);
    }
    config_release(&d->cfg);
}

int cmd_serve(int argc, char **argv)
{
    static const struct option lo[] = {
        {"config", required_argument, NULL, 'c'},     {"data-dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},     {"syslog-udp", required_argument, NULL, 'u'},
        {"syslog-tcp", required_argument, NULL, 't'}, {"check-config", no_argument, NULL, 'C'},
        {"no-spool", no_argument, NULL, 'S'},         {"rules", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0}};
    const char *config = NULL, *data_dir = NULL, *listen = NULL, *udp = NULL, *tcp = NULL;
    const char *rules = NULL;
    bool check = false, no_spool = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:l:", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'l': listen = optarg; break;
        case 'u': udp = optarg; break;
        case 't': tcp = optarg; break;
        case 'C': check = true; break;
        case 'S': no_spool = true; break;
        case 'r': rules = optarg; break;
        default: return builtin_usage(&builtin_serve);
        }
    }
    struct daemon d = {0};
    if (builtin_load_config(config, data_dir, &d.cfg))
        return 1;
    char **overrides[] = {&d.cfg.http.listen, &d.cfg.syslog.udp, &d.cfg.syslog.tcp,
                          &d.cfg.rules.dir};
    const char *values[] = {listen, udp, tcp, rules};
    for (int i = 0; i < 4; i++)
        if (values[i]) {
            free(*overrides[i]);
            *overrides[i] = kb_strdup(values[i]);
        }
    if (no_spool)
        d.cfg.spool.enabled = false;
    struct triage_opts to = {.rules_dir = d.cfg.rules.dir, .rules_mapping = d.cfg.rules.mapping,
                             .stock_policies = d.cfg.policies.stock,
                             .policies_dir = d.cfg.policies.dir,
                             .geoip_db = d.cfg.enrich.geoip_db};
    if (check) {
        size_t nerr = 0;
        struct kb_why tw = {{0}};
        to.no_watch = true;
        if (triage_new(&to, print_load_error, NULL, &nerr, &d.triage, &tw) != KB_OK) {
            fprintf(stderr, "koban serve: %s\n", tw.msg);
            config_release(&d.cfg);
            return 1;
        }
        struct triage_stats ts;
        triage_get_stats(d.triage, &ts);
        triage_free(d.triage);
        if (d.cfg.notify.routes && *d.cfg.notify.routes) {
            struct route_set *rs = NULL;
            if (route_load_file(d.cfg.notify.routes, &rs, &tw) != KB_OK) {
                printf("error: %s\n", tw.msg);
                nerr++;
            }
            route_set_free(rs);
        }
        char *text = NULL;
        config_dump(&d.cfg, &text);
        printf("# configuration is %s (%s); %llu rules, %llu correlations, %llu policies, "
               "%zu load error%s\n%s",
               nerr ? "NOT valid" : "valid", d.cfg.path ? d.cfg.path : "built-in defaults",
               (unsigned long long)ts.rules, (unsigned long long)ts.correlations,
               (unsigned long long)ts.policies, nerr, nerr == 1 ? "" : "s", text);
        free(text);
        config_release(&d.cfg);
        return nerr ? 1 : 0;
    }
    kb_log_set_level((enum kb_log_level)kb_log_level_parse(d.cfg.log_level));
    if (builtin_ensure_data_dir(&d.cfg)) {
        config_release(&d.cfg);
        return 1;
    }
    /* Signals are taken by sigwait in this thread only. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    char jpath[4096], dbpath[4096];
    builtin_journal_path(&d.cfg, jpath, sizeof jpath);
    builtin_db_path(&d.cfg, dbpath, sizeof dbpath);
    struct kb_why why = {{0}};
    struct journal_opts jo = {.segment_bytes = d.cfg.journal.segment_bytes,
                              .no_sync = !d.cfg.journal.fsync,
                              .compress_level = d.cfg.journal.compress_level};
    struct intake_opts io = {.max_event_bytes = d.cfg.ingest.max_event,
                             .max_events = d.cfg.ingest.max_events,
                             .max_json_depth = d.cfg.ingest.max_depth};
    struct pipeline_opts po = {.batch = d.cfg.store.batch, .cache_mib = d.cfg.store.cache_mib,
                               .max_json_depth = d.cfg.ingest.max_depth,
                               .max_event_bytes = d.cfg.ingest.max_event,
                               .retention_ms = (int64_t)d.cfg.journal.retention_days * 86400000};
    const char *stage = "rules and enrichment";
    size_t nerr = 0;
    /* A rule or policy that fails is logged; the others are used. */
    kb_err e = triage_new(&to, NULL, NULL, &nerr, &d.triage, &why);
    if (!e) {
        struct triage_stats ts;
        triage_get_stats(d.triage, &ts);
        kb_log(nerr ? KB_LOG_WARN : KB_LOG_INFO, "rules and policies loaded",
               "rules=%llu correlations=%llu policies=%llu errors=%zu",
               (unsigned long long)ts.rules, (unsigned long long)ts.correlations,
               (unsigned long long)ts.policies, nerr);
        po.triage = d.triage;
        io.triage = d.triage;
    }
    if (!e)
        e = db_gate_new(&d.gate);
    po.gate = d.gate;
    if (!e && d.cfg.notify.routes && *d.cfg.notify.routes && (stage = "notifications")) {
        struct notify_opts no = {
            .routes_path = d.cfg.notify.routes, .db_path = dbpath,
            .repeat_interval_ms = (int64_t)d.cfg.notify.repeat_interval_s * 1000,
            .deliver = {.timeout_ms = d.cfg.notify.timeout_ms,
                        .backoff_base_ms = d.cfg.notify.backoff_base_ms,
                        .backoff_cap_ms = d.cfg.notify.backoff_cap_ms,
                        .max_attempts = (int)d.cfg.notify.max_attempts,
                        .poll_ms = d.cfg.notify.poll_ms, .gate = d.gate}};
        e = notify_new(&no, &d.notify, &why);
        if (!e)
            po.notifier = notify_notifier(d.notify);
    }
    if (!e && (stage = "journal"))
        e = journal_open(jpath, &jo, &d.journal, &why);
    if (!e && (stage = "intake"))
        e = intake_new(d.journal, &io, &d.intake);
    if (!e && (stage = "store"))
        e = pipeline_new(d.journal, dbpath, &po, &d.pipeline, &why);
    if (!e && (stage = "pipeline"))
        e = pipeline_start(d.pipeline);
    if (!e && d.notify && (stage = "notifications"))
        e = notify_start(d.notify, &why); /* the store exists and is migrated now */
    struct spool_opts so = {.max_file = d.cfg.spool.max_file};
    if (!e && d.cfg.spool.enabled && (stage = "spool"))
        e = spool_start_opts(&d.cfg, &so, d.intake, d.journal, &d.spool, &why);
    if (!e && ((d.cfg.syslog.udp && *d.cfg.syslog.udp) || (d.cfg.syslog.tcp && *d.cfg.syslog.tcp)) &&
        (stage = "syslog"))
        e = syslog_net_start(&d.cfg, d.intake, &d.syslog, &why);
    if (!e && (stage = "issues API"))
        e = api_issues_new(dbpath, &d.api, &why);
    if (!e)
        api_issues_gate(d.api, d.gate);
    if (!e && d.notify)
        api_issues_notify(d.api, notify_notifier(d.notify));
    if (!e && d.cfg.incident.config && *d.cfg.incident.config && (stage = "incident bot")) {
        struct incident_service_opts iso = {.db_path = dbpath, .config_path = d.cfg.incident.config,
                                            .gate = d.gate};
        e = incident_service_new(&iso, &d.incidents, &why);
        if (!e)
            e = incident_service_start(d.incidents, &why);
    }
    if (!e && (stage = "incidents API"))
        e = api_incidents_new(dbpath, d.gate, &d.incidents_api, &why);
    if (!e && (stage = "vulnerabilities"))
        e = api_vuln_new(dbpath, d.intake, d.journal, d.gate, &d.vuln, &why);
    if (!e && d.notify)
        api_vuln_notify(d.vuln, notify_notifier(d.notify));
    if (!e)
        e = vuln_service_start(&d.cfg, dbpath, d.vuln, d.gate, &d.vulns, &why);
    if (!e && (stage = "slack"))
        e = api_slack_new(&d.cfg, d.intake, d.journal, dbpath, d.gate, &d.slack, &why);
    if (!e && (stage = "http")) {
        struct web_deps deps = {.cfg = &d.cfg, .journal = d.journal, .intake = d.intake,
                                .metrics = daemon_metrics, .metrics_ctx = &d,
                                .health = daemon_health, .health_ctx = &d,
                                .route = daemon_route, .route_ctx = &d};
        e = web_start(&deps, &d.web, &why);
    }
    if (e) {
        char q[300];
        log_error("startup failed", "stage=%s err=%s", stage,
                  kb_logq(q, sizeof q, why.msg[0] ? why.msg : kb_strerror(e)));
        fprintf(stderr, "koban serve: %s: %s\n", stage, why.msg[0] ? why.msg : kb_strerror(e));
        daemon_stop(&d);
        return 1;
    }
    uint16_t port = web_port(d.web);
    write_ready(&d, port);
    const char *laddr = d.cfg.http.listen;
    bool loopback = !strncmp(laddr, "127.", 4) || !strncmp(laddr, "localhost:", 10) ||
                    !strncmp(laddr, "[::1]:", 6);
    if (!loopback && (!d.cfg.http.token || !d.cfg.http.token[0]))
        log_warn("listening beyond loopback without http.token: whoever reaches this port "
                 "can post events and change issues",
                 "listen=%s", laddr);
    {
        char q[600];
        log_info("koban is serving", "http=%.*s:%u data_dir=%s spool=%s syslog_udp=%u "
                                     "syslog_tcp=%u journal_seq=%llu",
                 (int)(strrchr(laddr, ':') ? strrchr(laddr, ':') - laddr : 0), laddr, port,
                 kb_logq(q, sizeof q, d.cfg.data_dir), d.spool ? "on" : "off",
                 d.syslog ? syslog_net_udp_port(d.syslog) : 0,
                 d.syslog ? syslog_net_tcp_port(d.syslog) : 0,
                 (unsigned long long)journal_durable_seq(d.journal));
    }
    int sig = 0;
    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue; /* EINTR */
        if (sig != SIGHUP)
            break;
        log_info("SIGHUP: reloading rules and policies", NULL);
        triage_request_reload(d.triage); /* done by the pipeline between batches */
    }
    log_info("stopping", "signal=%d", sig);
    daemon_stop(&d);
    log_info("stopped", NULL);
    return 0;
}
