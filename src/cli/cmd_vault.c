/*
 * `logseal vault SUBCOMMAND`: officer tasks on a vault directory. Each
 * subcommand lives in its own cmd_vault_*.c and is one entry of
 * vault_subcommands below.
 */
#include "cli_internal.h"

static const struct lsl_cmd vault_subcommands[] = {
    {"verify", "check every vault file's integrity, count entries",
     lsl_cmd_vault_verify},
    {"erase", "remove a data subject's mappings", lsl_cmd_vault_erase},
    {"expire", "delete the files of expired key epochs", lsl_cmd_vault_expire},
    {"hold", "place a legal hold (subject or epoch)", lsl_cmd_vault_hold},
    {"release", "lift a case's legal holds", lsl_cmd_vault_release},
    {"repair", "finish vault files a crash cut short", lsl_cmd_vault_repair},
};

int lsl_cmd_vault(int argc, char **argv)
{
    return lsl_cli_dispatch("vault", vault_subcommands,
                            LSL_ARRAY_SIZE(vault_subcommands), argc, argv);
}
