/*
 * logseal command line: dispatch to one subcommand per file (cmd_*.c).
 * Every subcommand parses its own options and prints its own --help.
 */
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli_internal.h"
#include "logseal/log.h"
#include "lsl_config.h"

static const struct lsl_cmd commands[] = {
    {"keygen", "create the hash key and the officer key pair", lsl_cmd_keygen,
     false},
    {"pipe", "pseudonymize lines from stdin or a file", lsl_cmd_pipe, false},
    {"run", "run the daemon from a configuration file", lsl_cmd_run, false},
    {"unseal", "reveal the originals of tokens (officer key)", lsl_cmd_unseal,
     false},
    {"disclose",
     "a data subject's records, originals restored "
     "(officer key)",
     lsl_cmd_disclose, false},
    {"identify",
     "who had an address (and port) at a time, identifiers restored "
     "(officer key)",
     lsl_cmd_identify, false},
    {"rules", "list rules, test them on sample lines", lsl_cmd_rules, true},
    {"audit", "verify, show, or print the head of the signed audit log",
     lsl_cmd_audit, true},
    {"vault",
     "officer tasks on the vault (verify, erase, repair, expire, hold, "
     "release)",
     lsl_cmd_vault, true},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: logseal COMMAND [OPTIONS]\n\n"
               "Pseudonymize access logs with keyed tokens; keep the "
               "originals only in a sealed vault.\n\ncommands:\n");
    for (size_t i = 0; i < LSL_ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'logseal COMMAND --help' describes a command.\n\n"
               "exit codes: 0 success, 1 error, 2 usage, 3 integrity "
               "failure (vault or audit log) or a wrong key, 4 token not "
               "found, 5 done only in part (erase, repair)\n");
}

/* `logseal help [COMMAND [SUBCOMMAND]]`: the usage of that command. */
static int help_command(int argc, char **argv)
{
    static char help_arg[] = "--help";
    char *args[4] = {NULL, NULL, help_arg, NULL};

    if (argc < 2) {
        usage(stdout);
        return LSL_EXIT_OK;
    }
    for (size_t i = 0; i < LSL_ARRAY_SIZE(commands); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        args[0] = argv[1];
        args[1] = argc > 2 && commands[i].group ? argv[2] : help_arg;
        return lsl_cli_run(&commands[i], args[1] == help_arg ? 2 : 3, args);
    }
    return lsl_cli_usage_error("help", "unknown command '%s'", argv[1]);
}

int lsl_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "logseal %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'logseal %s --help')\n", cmd);
    return LSL_EXIT_USAGE;
}

int lsl_cli_exit_code(int err)
{
    if (err == 0)
        return LSL_EXIT_OK;
    if (err == LSL_EAUTH || err == LSL_ECORRUPT || err == LSL_ETRUNC ||
        err == LSL_EFORGED)
        return LSL_EXIT_INTEGRITY;
    if (err == LSL_EUSAGE)
        return LSL_EXIT_USAGE;
    return LSL_EXIT_ERROR;
}

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static bool help_asked(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (is_help(argv[i]))
            return true;
    }
    return false;
}

int lsl_cli_run(const struct lsl_cmd *c, int argc, char **argv)
{
    static char help_arg[] = "--help";
    char *only_help[] = {argv[0], help_arg, NULL};

    if (!c->group && help_asked(argc, argv))
        return c->run(2, only_help);
    return c->run(argc, argv);
}

int lsl_cli_dispatch(const char *cmd, const struct lsl_cmd *table, size_t n,
                     int argc, char **argv)
{
    bool help = help_asked(argc, argv);
    FILE *f;

    for (size_t i = 0; argc >= 2 && i < n; i++) {
        if (strcmp(argv[1], table[i].name) == 0)
            return lsl_cli_run(&table[i], argc - 1, argv + 1);
    }
    f = help ? stdout : stderr;
    if (argc >= 2 && !help)
        fprintf(stderr, "logseal %s: unknown subcommand '%s'\n\n", cmd,
                argv[1]);
    fprintf(f, "usage: logseal %s SUBCOMMAND [OPTIONS]\n\nsubcommands:\n", cmd);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-8s %s\n", table[i].name, table[i].summary);
    fprintf(f, "\n'logseal %s SUBCOMMAND --help' describes one.\n", cmd);
    return help ? LSL_EXIT_OK : LSL_EXIT_USAGE;
}

void lsl_cli_iso_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm) ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "%lld", (long long)t);
}

/*
 * Batch buffers are large (hundreds of KiB) and pass between threads.
 * glibc raises its mmap threshold each time such a block is freed, after
 * which they come from per-thread heaps that fragment and never shrink:
 * the resident size then grew by ~4.5 MiB per million lines. A fixed
 * threshold keeps them mmapped, returned to the system when freed. A
 * process-wide choice, so the program makes it, not the library.
 */
static void malloc_tune(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD)
    (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

int main(int argc, char **argv)
{
    malloc_tune();
    /* Under systemd, log lines carry journald priorities instead of a
     * timestamp of their own. */
    (void)lsl_log_detect_journal();
    /* A closed stdout must be an error we report (EPIPE), not a silent
     * death that leaves a vault file unfinished. */
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0) {
        lsl_log_error("libsodium failed to initialise");
        return LSL_EXIT_ERROR;
    }
    if (argc < 2) {
        usage(stderr);
        return LSL_EXIT_USAGE;
    }
    if (is_help(argv[1]) || strcmp(argv[1], "help") == 0)
        return help_command(argc - 1, argv + 1);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("logseal %s\n", LSL_VERSION);
        return LSL_EXIT_OK;
    }
    for (size_t i = 0; i < LSL_ARRAY_SIZE(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return lsl_cli_run(&commands[i], argc - 1, argv + 1);
    }
    fprintf(stderr, "logseal: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return LSL_EXIT_USAGE;
}
