/*
 * Opening the officer key for the officer-side commands: from
 * KEYS/officer.key, or from k of n key shares given with --share.
 *
 * Each officer-side command adds LSL_CLI_OFFICER_OPTIONS to its
 * getopt_long table, passes the matching results to
 * lsl_cli_officer_option(), shows LSL_CLI_OFFICER_HELP in its --help, and
 * calls lsl_cli_officer_open() as before. The options are kept in
 * process-wide state: one command runs per process.
 */
#ifndef LSL_CLI_OFFICER_H
#define LSL_CLI_OFFICER_H

#include <getopt.h>
#include "logseal/vault.h"

/* getopt_long values of the shared options (outside the char range). */
enum {
    LSL_CLI_OPT_SHARE = 0x100,
    LSL_CLI_OPT_PASSPHRASE_FD,
    LSL_CLI_OPT_NEW_LOG,
    LSL_CLI_OPT_NO_INDEX,
};

#define LSL_CLI_OFFICER_OPTIONS                                                \
    {"share", required_argument, NULL, LSL_CLI_OPT_SHARE},                     \
        {"passphrase-fd", required_argument, NULL, LSL_CLI_OPT_PASSPHRASE_FD}, \
        {"new-audit-log", no_argument, NULL, LSL_CLI_OPT_NEW_LOG},             \
    {                                                                          \
        "no-index", no_argument, NULL, LSL_CLI_OPT_NO_INDEX                    \
    }

/* True for the values lsl_cli_officer_option takes. */
#define LSL_CLI_IS_OFFICER_OPT(c)                                              \
    ((c) == LSL_CLI_OPT_SHARE || (c) == LSL_CLI_OPT_PASSPHRASE_FD ||           \
     (c) == LSL_CLI_OPT_NEW_LOG || (c) == LSL_CLI_OPT_NO_INDEX)

#define LSL_CLI_OFFICER_HELP                                                   \
    "officer key: KEYS/officer.key, or if it is absent, key shares:\n"         \
    "  --share FILE        a share file of a split key (repeat: any k of\n"    \
    "                      the n shares); checked against KEYS/vault.pub\n"    \
    "  --passphrase-fd FD  read the shares' passphrases from FD, one line\n"   \
    "                      per --share in order (default: ask on the\n"        \
    "                      terminal)\n"                                        \
    "  --new-audit-log     go on although the audit log is missing, does\n"    \
    "                      not verify (it is set aside) or is older than\n"    \
    "                      the vault shows; the new record says so\n"          \
    "  --no-index          read every vault file whole instead of through\n"   \
    "                      the sealed index (VAULTDIR/index, 'vault\n"         \
    "                      index'); the answers are the same\n"

/*
 * Record one shared option: c is one of LSL_CLI_OPT_*, arg its argument
 * (borrowed: argv; NULL for the flags). 0 or LSL_EUSAGE (logged:
 * too many shares, bad descriptor number).
 */
int lsl_cli_officer_option(int c, const char *arg);

/* --new-audit-log was given. */
bool lsl_cli_officer_new_log(void);

/* --no-index was given. */
bool lsl_cli_officer_no_index(void);

/* The --passphrase-fd given, or -1 (ask on the terminal). */
int lsl_cli_officer_passphrase_fd(void);

/*
 * Open the officer secret key from KEYS/officer.key or, when that file is
 * absent and shares were given, from the shares (their passphrases read
 * from --passphrase-fd or the terminal). Either must belong to
 * KEYS/vault.pub when that file is present (LSL_EAUTH otherwise). keys_dir may
 * be NULL when shares are given. Errors are logged with the path and what to
 * do. 0 or negative code.
 */
int lsl_cli_officer_open(const char *keys_dir, struct lsl_officer_key **out);

/*
 * The share numbers whose shares opened the key, "1,3", or "" if it came
 * from officer.key: the audit record names the holders who took part.
 */
void lsl_cli_officer_shares_used(char *out, size_t cap);

#endif
