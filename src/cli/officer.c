/*
 * The officer key as the officer-side commands need it: KEYS/officer.key,
 * or k of n key shares (--share, repeatable) with their holders'
 * passphrases (--passphrase-fd or the terminal).
 *
 * The share options live in process-wide state set while the command
 * parses its arguments; the passphrases are read only when the key is
 * opened and freed (wiped) right after the key is rebuilt.
 */
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "logseal/file.h"
#include "logseal/log.h"
#include "officer_internal.h"
#include "passphrase_internal.h"

static struct {
    const char *shares[LSL_SHARES_MAX];
    size_t nshares;
    int passphrase_fd;
    uint8_t used[LSL_SHARES_MAX]; /* share numbers that opened the key */
    unsigned nused;
    bool new_log;
    bool no_index;
} opts = {.passphrase_fd = -1};

int lsl_cli_officer_option(int c, const char *arg)
{
    char *end;
    long fd;

    if (c == LSL_CLI_OPT_NEW_LOG || c == LSL_CLI_OPT_NO_INDEX) {
        *(c == LSL_CLI_OPT_NEW_LOG ? &opts.new_log : &opts.no_index) = true;
        return 0;
    }
    if (c == LSL_CLI_OPT_SHARE) {
        if (opts.nshares == LSL_SHARES_MAX) {
            lsl_log_error("--share: at most %d shares", LSL_SHARES_MAX);
            return LSL_EUSAGE;
        }
        opts.shares[opts.nshares++] = arg;
        return 0;
    }
    errno = 0;
    fd = strtol(arg, &end, 10);
    if (errno || end == arg || *end || fd < 0 || fd > INT_MAX) {
        lsl_log_error("--passphrase-fd: '%s' is not a file descriptor "
                      "number",
                      arg);
        return LSL_EUSAGE;
    }
    opts.passphrase_fd = (int)fd;
    return 0;
}

bool lsl_cli_officer_new_log(void)
{
    return opts.new_log;
}

bool lsl_cli_officer_no_index(void)
{
    return opts.no_index;
}

int lsl_cli_officer_passphrase_fd(void)
{
    return opts.passphrase_fd;
}

/* KEYS/vault.pub into pk if present: 1 loaded, 0 absent, or an error. */
static int expected_pk(const char *keys_dir, uint8_t *pk)
{
    char path[PATH_MAX];
    int rc;

    if (!keys_dir)
        return 0;
    rc = lsl_path_join(path, sizeof(path), keys_dir, "vault.pub");
    if (rc == 0)
        rc = lsl_vault_pubkey_load(path, pk);
    if (rc == -ENOENT)
        return 0;
    if (rc) {
        lsl_log_error("%s: cannot check the shares against it: %s", path,
                      lsl_strerror(rc));
        return rc;
    }
    return 1;
}

static void log_share_error(int rc, const struct lsl_shares_status *st)
{
    if (rc == LSL_ENOKEY)
        lsl_log_error("too few shares: %zu given, this key needs %u (add "
                      "--share FILE for each share holder present)",
                      opts.nshares, st->threshold);
    else if (st->bad != SIZE_MAX)
        lsl_log_error("%s: %s%s%s", opts.shares[st->bad],
                      st->why ? st->why : "cannot use the share",
                      rc == LSL_EAUTH ? "" : ": ",
                      rc == LSL_EAUTH ? "" : lsl_strerror(rc));
    else
        lsl_log_error("cannot rebuild the officer key from the shares: %s",
                      st->why ? st->why : lsl_strerror(rc));
}

/* Read every share's passphrase, then rebuild the key. */
static int open_shares(const char *keys_dir, struct lsl_officer_key **out)
{
    char *pass[LSL_SHARES_MAX] = {NULL};
    struct lsl_shares_status st;
    uint8_t pk[LSL_VAULT_PUBKEY_BYTES];
    size_t n = 0;
    int have_pk, rc = 0;

    have_pk = expected_pk(keys_dir, pk);
    if (have_pk < 0)
        return have_pk;
    for (; n < opts.nshares && rc == 0; n++)
        rc = lsl_cli_passphrase_get(opts.passphrase_fd, opts.shares[n], false,
                                    &pass[n]);
    if (rc == 0) {
        rc = lsl_officer_key_from_shares(
            out, opts.shares, (const char *const *)pass, opts.nshares,
            have_pk ? pk : NULL, &st);
        if (rc)
            log_share_error(rc, &st);
        memcpy(opts.used, st.used, st.nused);
        opts.nused = rc == 0 ? st.nused : 0;
    }
    for (size_t i = 0; i < n; i++)
        sodium_free(pass[i]);
    return rc;
}

/* officer.key must be the secret half of KEYS/vault.pub, if present. */
static int check_pair(const char *keys_dir, const char *path,
                      struct lsl_officer_key **k)
{
    uint8_t want[LSL_VAULT_PUBKEY_BYTES], have[LSL_VAULT_PUBKEY_BYTES];
    int rc = expected_pk(keys_dir, want);

    if (rc <= 0)
        return rc;
    lsl_officer_key_public(*k, have);
    if (sodium_memcmp(want, have, sizeof(want)) == 0)
        return 0;
    lsl_log_error("%s is not the secret half of %s/vault.pub: another vault's "
                  "officer key; nothing was read or recorded",
                  path, keys_dir);
    lsl_officer_key_close(*k);
    *k = NULL;
    return LSL_EAUTH;
}

void lsl_cli_officer_shares_used(char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (unsigned i = 0; i < opts.nused && n + 5 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%u", i ? "," : "",
                              opts.used[i]);
}

int lsl_cli_officer_open(const char *keys_dir, struct lsl_officer_key **out)
{
    char path[PATH_MAX];
    struct stat st;
    int rc;

    if (!keys_dir && opts.nshares)
        return open_shares(NULL, out);
    if (!keys_dir) {
        lsl_log_error("no officer key: give --keys KEYS or --share FILE");
        return LSL_ENOKEY;
    }
    rc = lsl_path_join(path, sizeof(path), keys_dir, "officer.key");
    if (rc == 0 && opts.nshares) {
        if (lstat(path, &st) < 0 && errno == ENOENT)
            return open_shares(keys_dir, out);
        lsl_log_warn("%s exists: using it, not the --share files", path);
    }
    if (rc == 0)
        rc = lsl_officer_key_open(out, path);
    if (rc == 0)
        rc = check_pair(keys_dir, path, out);
    else
        lsl_log_error("%s: cannot use the officer key: %s%s", path,
                      lsl_strerror(rc),
                      rc == -ENOENT ? " (unsealing needs the officer secret "
                                      "key created by 'logseal keygen', or "
                                      "--share FILE for a split key)"
                      : rc == LSL_EKEYPERM  ? " (chmod 600 it)"
                      : rc == LSL_EKEYOWNER ? " (chown it to yourself)"
                                            : "");
    return rc;
}
