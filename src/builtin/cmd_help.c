/* cmd_help.c — `koban help [COMMAND|config|formats]`. */
#include "builtin/builtin.h"

#include "formats/format.h"

#include <stdio.h>
#include <stdlib.h>

const struct builtin builtin_help = {
    "help", cmd_help, "show help for a command, the configuration or the formats",
    "usage: koban help [COMMAND | config | formats]\n",
};

int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        printf("usage: koban [--version] [--help] COMMAND [ARGS]\n\nCommands:\n");
        for (size_t i = 0; koban_builtins[i]; i++)
            printf("  %-12s %s\n", koban_builtins[i]->name, koban_builtins[i]->summary);
        printf("\nAlso: 'koban help config', 'koban help formats'.\n");
        return 0;
    }
    const char *topic = argv[1];
    if (!strcmp(topic, "config")) {
        struct kb_config cfg;
        struct kb_why why = {{0}};
        if (config_load(NULL, &cfg, &why))
            return builtin_error("help", "%s", why.msg);
        char *text = NULL;
        config_dump(&cfg, &text);
        printf("koban.yaml — every key with its default (koban works with no file).\n"
               "Looked up as: --config FILE, $KOBAN_CONFIG, ./koban.yaml.\n"
               "Strings may be \"${ENV_VAR}\". Sizes take k/M/G or KiB/MiB/GiB.\n\n%s",
               text);
        free(text);
        config_release(&cfg);
        return 0;
    }
    if (!strcmp(topic, "formats")) {
        printf("Sources koban normalizes (force one with ?source=NAME or --source NAME):\n\n");
        for (size_t i = 0; i < format_count(); i++) {
            const struct format *f = format_at(i);
            printf("  %-14s %s\n", f->name, f->summary);
            printf("  %-14s identity:", "");
            for (const char *const *k = f->identity; k && *k; k++)
                printf(" %s", *k);
            printf("\n");
        }
        printf("\nThe common alert format is described in docs/ALERT_FORMAT.md.\n");
        return 0;
    }
    const struct builtin *b = builtin_find(topic);
    if (!b)
        return builtin_error("help", "no help for '%s'; try 'koban --help'", topic), 2;
    fputs(b->usage, stdout);
    return 0;
}
