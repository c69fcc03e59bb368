/* factord: dispatches argv[1] to a sub-command (include/factord/cli.h). Only main exits. */
#include <stdio.h>
#include <string.h>

#include "factord/cli.h"
#include "factord/metrics.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

/* One line per sub-command; each parses its own flags and prints its own --help. */
static const command commands[] = {
    {"serve", fd_cmd_serve, "run the HTTP daemon"},
    {"migrate", fd_cmd_migrate, "create or upgrade a database and print its schema version"},
    {"train", fd_cmd_train, "train a model version against a database (no daemon needed)"},
    {"prices", fd_cmd_prices, "import daily bars and build monthly panels from them"},
    {"simulate", fd_cmd_simulate, "write a synthetic Gu-Kelly-Xiu panel as a long CSV"},
    {"report", fd_cmd_report, "print the comparison tables of finished backtests"},
    {"token", fd_cmd_token, "create, list and revoke the API's bearer tokens"},
    {"artifact", fd_cmd_artifact, "export, import or inspect a model version as one file"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
    fprintf(out, "usage: factord <command> [options]   (factord <command> --help for details)\n"
                 "\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n  --version  print the version\n  -h, --help show this help\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("factord %s%s%s\n", fd_build_version(), fd_build_commit()[0] ? " " : "",
               fd_build_commit());
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "factord: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
