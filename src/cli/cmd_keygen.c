/*
 * `logseal keygen`: the daemon's hash key and the officer key pair. The
 * officer secret is meant to leave the daemon host right after (the daemon
 * needs only hash.key and vault.pub). Nothing is overwritten: keys that
 * exist may be the only way to unseal an existing vault.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cli.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "logseal/rules.h"
#include "logseal/token.h"
#include "logseal/vault.h"

static void help(void)
{
    printf("usage: logseal keygen --dir KEYS [--epoch never|day|week|month]\n"
           "                      [--since YYYY-MM-DD]\n\n"
           "Create in KEYS (made 0700 if missing):\n"
           "  hash.key     the daemon's secret hashing key (0600)\n"
           "  vault.pub    the officer public key the daemon seals to\n"
           "  officer.key  the officer secret key (0600): move it off the\n"
           "               daemon host; only unsealing needs it\n"
           "Refuses to overwrite any existing key file.\n\n"
           "--epoch day|week|month makes hash.key ratchet: at each UTC day,\n"
           "week (from Monday) or month boundary of the LINES' times, the\n"
           "key is replaced by a one-way function of itself and the old key\n"
           "is destroyed, so tokens of past epochs can no longer be\n"
           "recomputed or linked. Default: never (one fixed key).\n"
           "--since DATE: the first epoch is the one holding DATE (UTC;\n"
           "default today); lines older than it count as late.\n");
}

static int check_absent(const char *dir, const char *const names[],
                        size_t n)
{
    char path[PATH_MAX];
    struct stat st;

    for (size_t i = 0; i < n; i++) {
        if (lsl_path_join(path, sizeof(path), dir, names[i]) != 0)
            return -ENAMETOOLONG;
        if (lstat(path, &st) == 0) {
            lsl_log_error("%s exists; refusing to overwrite keys (move it "
                          "away first if you really mean to replace it)",
                          path);
            return LSL_EEXIST;
        }
    }
    return 0;
}

static int create_keys(const char *dir, enum lsl_epoch_len len,
                       int64_t since)
{
    static const char *const names[] = { "hash.key", "vault.pub",
                                         "officer.key" };
    char p0[PATH_MAX], p1[PATH_MAX], p2[PATH_MAX];
    int rc;

    rc = lsl_mkdir_p(dir, 0700);
    if (rc) {
        lsl_log_error("%s: cannot create the directory: %s", dir,
                      lsl_strerror(rc));
        return rc;
    }
    rc = check_absent(dir, names, LSL_ARRAY_SIZE(names));
    if (rc)
        return rc;
    if (lsl_path_join(p0, sizeof(p0), dir, names[0]) ||
        lsl_path_join(p1, sizeof(p1), dir, names[1]) ||
        lsl_path_join(p2, sizeof(p2), dir, names[2]))
        return -ENAMETOOLONG;
    rc = lsl_keyring_create_at(p0, len, since);
    if (rc) {
        lsl_log_error("%s: %s", p0, lsl_strerror(rc));
        return rc;
    }
    rc = lsl_officer_keygen(p2, p1);
    if (rc)
        lsl_log_error("%s: %s", p2, lsl_strerror(rc));
    return rc;
}

static int parse_epoch(const char *s, enum lsl_epoch_len *out)
{
    static const char *const names[] = { "never", "day", "week", "month" };

    for (size_t i = 0; i < LSL_ARRAY_SIZE(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum lsl_epoch_len)i;
            return 0;
        }
    }
    return LSL_EUSAGE;
}

/* YYYY-MM-DD (UTC midnight) to unix seconds. */
static int parse_date(const char *s, int64_t *out)
{
    return lsl_time_parse("%Y-%m-%d", s, strlen(s), out) == 0 ? 0
                                                              : LSL_EUSAGE;
}

int lsl_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "epoch", required_argument, NULL, 'e' },
        { "since", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    enum lsl_epoch_len len = LSL_EPOCH_NEVER;
    int64_t since = (int64_t)time(NULL);
    const char *dir = NULL;
    int c, rc;

    while ((c = getopt_long(argc, argv, "d:e:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'e':
            if (parse_epoch(optarg, &len) != 0)
                return lsl_cli_usage_error("keygen", "--epoch takes never, "
                                                     "day, week or month");
            break;
        case 's':
            if (parse_date(optarg, &since) != 0)
                return lsl_cli_usage_error("keygen", "--since takes a date "
                                                     "YYYY-MM-DD");
            break;
        case 'h':
            help();
            return LSL_EXIT_OK;
        default:
            return lsl_cli_usage_error("keygen", "bad option");
        }
    }
    if (!dir || optind != argc)
        return lsl_cli_usage_error("keygen", "--dir KEYS is required");
    rc = create_keys(dir, len, since);
    if (rc)
        return LSL_EXIT_ERROR;
    printf("keys written to %s: hash.key, vault.pub, officer.key\n"
           "move officer.key to the security officers; the daemon needs "
           "only hash.key and vault.pub\n",
           dir);
    return LSL_EXIT_OK;
}
