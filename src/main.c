/*
 * main.c — koban: a security operations server.
 * Dispatches git-style subcommands; each lives in src/builtin/cmd_<name>.c.
 */
#include "builtin/builtin.h"
#include "store/db.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#ifndef KOBAN_VERSION
#define KOBAN_VERSION "dev"
#endif

static void print_overview(FILE *f)
{
    fprintf(f, "usage: koban [--version] [--help] COMMAND [ARGS]\n\n"
               "koban hears every alert, judges it, and keeps the record.\n\n"
               "Commands:\n");
    for (size_t i = 0; koban_builtins[i]; i++)
        fprintf(f, "  %-12s %s\n", koban_builtins[i]->name, koban_builtins[i]->summary);
    fprintf(f, "\nSee 'koban help COMMAND' for a command's options, 'koban help config'\n"
               "for koban.yaml, and 'koban help formats' for the sources it reads.\n");
}

int main(int argc, char **argv)
{
    /* Ingest allocates and frees buffers of a few MiB per payload (parse
     * arenas, journal groups). With glibc's defaults each one is a fresh
     * mmap whose pages fault in again every time, which cost more CPU than
     * parsing. Keeping them in the heap lets freed pages be reused; the
     * bound on what stays cached is the trim threshold. */
    mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    db_global_init();
    if (argc < 2) {
        print_overview(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        print_overview(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("koban %s\n", KOBAN_VERSION);
        return 0;
    }
    const struct builtin *b = builtin_find(cmd);
    if (!b) {
        fprintf(stderr, "koban: '%s' is not a koban command. See 'koban --help'.\n", cmd);
        return 2;
    }
    /* `koban vuln sync --help`: vuln's subcommands explain themselves */
    bool subcommand_help = !strcmp(cmd, "vuln") && argc > 2 && argv[2][0] != '-';
    for (int i = 2; i < argc && !subcommand_help; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(b->usage, stdout);
            return 0;
        }
    return b->run(argc - 1, argv + 1);
}
