/*
 * cmd_vuln.h — the subcommands of `koban vuln` other than check, one file
 * each (cmd_vuln_<name>.c). cmd_vuln (cmd_vuln.c) dispatches to them with
 * argv[0] = the subcommand's name; each returns the process exit code
 * (0 ok, 1 findings/not found where it says so, 2 usage or error).
 */
#ifndef KOBAN_CMD_VULN_H
#define KOBAN_CMD_VULN_H

int cmd_vuln_sync(int argc, char **argv);

#endif
