/*
 * pressmon's entry point: the command table (the git model, STYLE.md).
 * Each command lives in cli/<name>.c as cmd_<name>(argc, argv), where
 * argv[0] is the command's name.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct pm_command {
    const char *name;
    pm_cmd_fn fn;
    const char *summary;
};

static const struct pm_command commands[] = {
    {"record", cmd_record, "run a command (or nothing) and sample the system and its process tree"},
    {"runs", cmd_runs, "list recorded runs, newest first"},
    {"show", cmd_show, "one run: command, exit, sampling quality, metric summary"},
    {"events", cmd_events, "process lifecycle and kills of a run (who killed what), in time order"},
    {"diff", cmd_diff, "what separates one run (or group of runs) from another"},
    {"export", cmd_export, "one run to stdout as csv, jsonl, openmetrics or influx"},
    {"push", cmd_push, "send a run to Prometheus remote write, Influx or a Pushgateway"},
    {"rm", cmd_rm, "delete runs and everything recorded with them"},
    {"prune", cmd_prune, "delete all but the newest N runs, or the runs older than a time"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: pressmon [--version] [--help] <command> [<args>]\n\n"
               "pressmon records system pressure and a command's process tree at high\n"
               "frequency into SQLite, and tells failing runs from passing ones.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'pressmon <command> --help' describes a command and its options.\n"
               "The database is --db PATH, else $PRESSMON_DB, else ./pressmon.db.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return PM_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return PM_EXIT_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "-V") || !strcmp(name, "version")) {
        printf("pressmon %s\n", PM_VERSION);
        return PM_EXIT_OK;
    }
    /* Internal: the teardown helper a recording leaves behind (not a user
     * command, not listed). */
    if (!strcmp(name, "__teardown"))
        return pm_tree_teardown_main(argc - 2, argv + 2);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    pm_err("'%s' is not a pressmon command (see 'pressmon --help')", name);
    return PM_EXIT_USAGE;
}
