/* Passphrases of key share holders (see passphrase.c). */
#ifndef LSL_CLI_PASSPHRASE_H
#define LSL_CLI_PASSPHRASE_H

#include <stdbool.h>

/* Longest passphrase accepted, in bytes. */
#define LSL_PASSPHRASE_MAX 1023

/*
 * Get one passphrase: the next line of file descriptor `fd` if fd >= 0
 * (no prompt, no confirmation), else from the terminal without echo,
 * prompting "PROMPT: " and, if `confirm`, asking again and refusing a
 * mismatch. Empty passphrases are refused. *out is NUL-terminated in
 * sodium_malloc memory: release with sodium_free. 0 or negative code,
 * logged with what to do.
 */
int lsl_cli_passphrase_get(int fd, const char *prompt, bool confirm,
                           char **out);

#endif
