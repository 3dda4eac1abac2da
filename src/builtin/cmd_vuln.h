/*
 * cmd_vuln.h — the subcommands of `koban vuln` other than check, one file
 * each (cmd_vuln_<name>.c). cmd_vuln (cmd_vuln.c) dispatches to them with
 * argv[0] = the subcommand's name; each returns the process exit code
 * (0 ok, 1 findings/not found where it says so, 2 usage or error).
 */
#ifndef KOBAN_CMD_VULN_H
#define KOBAN_CMD_VULN_H

int cmd_vuln_sync(int argc, char **argv);

#include <stdbool.h>

struct kb_config;
struct feed_config;
/* `koban vuln sync` into cfg's store (cmd_vuln_sync_store.c): the feeds of
 * c, or the files under offline when not NULL. Returns the exit code. */
int vuln_sync_store(const struct kb_config *cfg, const struct feed_config *c,
                    const char *offline);
int cmd_vuln_inventory(int argc, char **argv); /* cmd_vuln_store.c */
int cmd_vuln_advisory(int argc, char **argv);  /* cmd_vuln_store.c: advisory add */
int cmd_vuln_search(int argc, char **argv);    /* cmd_vuln_store.c */
int cmd_vuln_list(int argc, char **argv);      /* cmd_vuln_store.c */
int cmd_vuln_show(int argc, char **argv);      /* cmd_vuln_store.c */
int cmd_vuln_triage(int argc, char **argv);    /* cmd_vuln_triage.c */
int cmd_vuln_vex(int argc, char **argv);       /* cmd_vuln_triage.c: vex import|export */

/* What the store commands share (cmd_vuln_store.c): --config and
 * --data-dir, --json, their usage lines, and loading the configuration
 * (0 or an exit code). */
struct vuln_cli {
    const char *config, *data_dir;
    bool json;
};
extern const char *const vuln_cli_usage;
int vuln_cli_load(const struct vuln_cli *c, struct kb_config *cfg);

#endif
