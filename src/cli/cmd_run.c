/*
 * `logseal run`: the daemon. All the work is in lsl_daemon_run; this file
 * parses the command line and maps the result to an exit code.
 */
#include <getopt.h>
#include <stdio.h>
#include "cli_internal.h"
#include "logseal/daemon.h"

static void help(void)
{
    printf(
        "usage: logseal run --config FILE [--check]\n\n"
        "Run the daemon: follow the sources of the configuration file,\n"
        "pseudonymize their lines into gzip segments (or stdout), seal new\n"
        "token mappings into the vault, checkpoint what is safely written.\n\n"
        "  --config FILE  the configuration (see logseal.conf.example)\n"
        "  --check        load the configuration, its rules and keys, print\n"
        "                 what would run and where each source resumes,\n"
        "                 and exit: 0 if all is well\n\n"
        "signals: TERM/INT drain and exit 0 (a second one exits at once),\n"
        "HUP reloads the configuration (a broken one is logged and the\n"
        "running one kept), USR1 prints counters to stderr.\n"
        "exit codes: 0 clean stop, 1 error, 2 usage\n");
}

int lsl_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    bool check = false;
    int c;

    while ((c = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'n':
            check = true;
            break;
        case 'h':
            help();
            return LSL_EXIT_OK;
        default:
            return lsl_cli_usage_error("run", "unknown option");
        }
    }
    if (optind < argc)
        return lsl_cli_usage_error("run", "unexpected argument '%s'",
                                   argv[optind]);
    if (!config)
        return lsl_cli_usage_error("run", "--config FILE is required");
    if (check)
        return lsl_cli_exit_code(lsl_daemon_check(config, stdout));
    return lsl_cli_exit_code(lsl_daemon_run(config));
}
