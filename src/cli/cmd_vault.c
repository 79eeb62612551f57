/*
 * `logseal vault SUBCOMMAND`: officer tasks on a vault directory. Each
 * subcommand lives in its own cmd_vault_*.c and is one entry of
 * vault_subcommands below.
 */
#include "cli_internal.h"

static const struct lsl_cmd vault_subcommands[] = {
    {"verify", "check every vault file's integrity, count entries",
     lsl_cmd_vault_verify, false},
    {"erase", "remove a data subject's mappings", lsl_cmd_vault_erase, false},
    {"expire", "delete the files of expired key epochs", lsl_cmd_vault_expire,
     false},
    {"hold", "place a legal hold (subject or epoch)", lsl_cmd_vault_hold,
     false},
    {"release", "lift a case's legal holds", lsl_cmd_vault_release, false},
    {"repair", "finish vault files a crash cut short", lsl_cmd_vault_repair,
     false},
    {"index", "build or update the sealed index of a vault",
     lsl_cmd_vault_index, false},
    {"import", "take the vault files collected from a fleet's hosts",
     lsl_cmd_vault_import, false},
};

int lsl_cmd_vault(int argc, char **argv)
{
    return lsl_cli_dispatch("vault", vault_subcommands,
                            LSL_ARRAY_SIZE(vault_subcommands), argc, argv);
}
