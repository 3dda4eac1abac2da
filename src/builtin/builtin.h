/*
 * builtin.h — koban's subcommands, one file each (builtin/cmd_<name>.c),
 * and the small helpers they share. main.c only dispatches.
 *
 * Every command returns a process exit code: 0 success, 1 failure the user
 * can act on (message on stderr says where and why), 2 usage error.
 */
#ifndef KOBAN_BUILTIN_H
#define KOBAN_BUILTIN_H

#include "config/config.h"
#include "lib/buf.h"
#include "lib/kb.h"

struct builtin {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;  /* one line for `koban --help` */
    const char *usage;    /* full text for `koban help NAME` */
};

/* The command table, NULL-terminated. */
extern const struct builtin *const koban_builtins[];

int cmd_serve(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_normalize(int argc, char **argv);
int cmd_issues(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_journal(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_vuln(int argc, char **argv);
int cmd_incident(int argc, char **argv);

extern const struct builtin builtin_serve, builtin_ingest, builtin_normalize, builtin_issues,
    builtin_quarantine, builtin_journal, builtin_help, builtin_test, builtin_rules;
extern const struct builtin builtin_outbox;
extern const struct builtin builtin_vuln;
extern const struct builtin builtin_incident;

/* Finds a command by name. */
const struct builtin *builtin_find(const char *name);

/* Loads the configuration: `path` if given, else $KOBAN_CONFIG, else
 * ./koban.yaml when it exists, else built-in defaults. Prints the error and
 * returns non-zero on failure. data_dir_override replaces data_dir. */
int builtin_load_config(const char *path, const char *data_dir_override,
                        struct kb_config *cfg);

/* "<data_dir>/koban.db" and "<data_dir>/journal" (static-size buffers). */
void builtin_db_path(const struct kb_config *cfg, char *out, size_t n);
void builtin_journal_path(const struct kb_config *cfg, char *out, size_t n);
/* Creates data_dir (one level) when missing. */
int builtin_ensure_data_dir(const struct kb_config *cfg);

/* The notifier for cfg's notify.routes (both NULL when it is unset), for
 * commands that change issues outside the daemon: their changes become
 * outbox jobs that `koban serve` delivers. Free with builtin_notifier_close. */
struct route_set;
struct notifier;
kb_err builtin_notifier_open(const struct kb_config *cfg, struct route_set **rs,
                             struct notifier **nt, struct kb_why *why);
void builtin_notifier_close(struct route_set *rs, struct notifier *nt);

/* Prints "koban CMD: message" to stderr. Returns 1. */
int builtin_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the usage of a command to stderr. Returns 2. */
int builtin_usage(const struct builtin *b);

/* Reads a whole file ("-" = stdin) into out, bounded by max. */
kb_err builtin_read_file(const char *path, size_t max, struct buf *out, struct kb_why *why);

/* A whole input file in memory: a regular file is mapped read-only (no copy,
 * constant heap), anything else ("-", pipes) is read into buf. p/n are the
 * bytes; owner: the caller, through builtin_input_close(). */
struct builtin_input {
    const char *p;
    size_t n;
    void *map;
    size_t map_len;
    struct buf buf;
};
kb_err builtin_input_open(const char *path, size_t max, struct builtin_input *in,
                          struct kb_why *why);
void builtin_input_close(struct builtin_input *in);

#endif
