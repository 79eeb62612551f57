/*
 * `logseal keygen`: the daemon's hash key, the officer key pair and the
 * audit verification key. The officer secret is meant to leave the daemon
 * host right after (the daemon needs only hash.key and vault.pub); with
 * --shares it is never written whole, only as k-of-n passphrase-sealed
 * shares.
 *
 * Nothing is overwritten: keys that exist may be the only way to unseal
 * an existing vault. Passphrases are all read before the first file is
 * created, and a keygen that fails removes what it created, so a failed
 * run leaves the directory as it was.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli_internal.h"
#include "logseal/auditlog.h"
#include "logseal/checkpoint.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "logseal/rules.h"
#include "logseal/token.h"
#include "logseal/vault.h"
#include "officer_internal.h"
#include "passphrase_internal.h"

/* Key files besides the shares: hash, public, audit, stop, checkpoint,
 * whole secret. */
enum { F_HASH, F_PUB, F_AUDIT, F_STOP, F_CKPT, F_SECRET, F_FIXED };

struct keygen {
    const char *dir;
    unsigned nshares, threshold; /* 0: no split */
    enum lsl_epoch_len epoch_len;
    int64_t since; /* the hash key's first epoch holds this time */
    char fixed[F_FIXED][PATH_MAX];
    char (*share)[PATH_MAX];                /* nshares paths */
    const char *share_path[LSL_SHARES_MAX]; /* share[i], for the opts */
    char *pass[LSL_SHARES_MAX];             /* sodium_malloc'd passphrases */
    struct lsl_shares_opts split;
    bool made[F_FIXED]; /* created by this run, for cleanup */
};

static void help(void)
{
    printf("usage: logseal keygen --dir KEYS [--shares N --threshold K "
           "[--passphrase-fd FD]]\n"
           "                      [--epoch never|day|week|month] "
           "[--since YYYY-MM-DD]\n"
           "       logseal keygen --dir KEYS --rotate-checkpoint-key\n\n"
           "Create in KEYS (made 0700 if missing):\n"
           "  hash.key     the daemon's secret hashing key (0600)\n"
           "  vault.pub    the officer public key the daemon seals to\n"
           "  audit.pub    the key that verifies the signed audit log (and\n"
           "               the stop list)\n"
           "  stop.key     the key of the stop list of erased subjects\n"
           "               (0600), which pipe and the daemon read\n"
           "  checkpoint.key  seals the fingerprints of log bytes in the\n"
           "               daemon's checkpoints (0600; the daemon makes it\n"
           "               if missing)\n"
           "  officer.key  the officer secret key (0600): move it off the\n"
           "               daemon host; only unsealing needs it\n"
           "With --shares N --threshold K, officer.key is not written: the\n"
           "secret is split so that any K of the N files officer.share.1..N\n"
           "(0600, each sealed with its holder's passphrase) rebuild it;\n"
           "K is at least 2. Passphrases (at least 12 characters, each\n"
           "share its own) are asked twice on the terminal, or read from\n"
           "--passphrase-fd FD, one line per share in order.\n"
           "LOGSEAL_PWHASH=interactive|moderate|sensitive sets the Argon2id\n"
           "cost of the share passphrases (default moderate; interactive is\n"
           "weaker, meant for tests). Refuses to overwrite any key file.\n\n"
           "--epoch day|week|month makes hash.key ratchet: at each UTC day,\n"
           "week (from Monday) or month boundary of the LINES' times, the\n"
           "key is replaced by a one-way function of itself and the old key\n"
           "is destroyed, so tokens of past epochs can no longer be\n"
           "recomputed or linked. Default: never (one fixed key).\n"
           "--since DATE: the first epoch is the one holding DATE (UTC;\n"
           "default today); lines older than it count as late.\n\n"
           "--rotate-checkpoint-key replaces checkpoint.key alone (after a\n"
           "leak, or on a schedule) and keeps the old one as\n"
           "checkpoint.key.old, which still opens the checkpoints it sealed.\n"
           "Reload or restart the daemon: each checkpoint is sealed with the\n"
           "new key at its next commit. When `logseal run --check` says no\n"
           "checkpoint needs checkpoint.key.old any more, remove it; a\n"
           "rotation is refused while it exists.\n");
}

static int plan_paths(struct keygen *g)
{
    static const char *const names[F_FIXED] = {
        "hash.key", "vault.pub",       "audit.pub",
        "stop.key", LSL_CKPT_KEY_FILE, "officer.key"};
    char name[32];

    for (int i = 0; i < F_FIXED; i++) {
        if (lsl_path_join(g->fixed[i], PATH_MAX, g->dir, names[i]))
            return -ENAMETOOLONG;
    }
    if (g->nshares == 0)
        return 0;
    g->share = calloc(g->nshares, sizeof(*g->share));
    if (!g->share)
        return -ENOMEM;
    for (unsigned i = 0; i < g->nshares; i++) {
        snprintf(name, sizeof(name), "officer.share.%u", i + 1);
        if (lsl_path_join(g->share[i], PATH_MAX, g->dir, name))
            return -ENAMETOOLONG;
        g->share_path[i] = g->share[i];
    }
    return 0;
}

static int refuse_existing(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return 0;
    lsl_log_error("%s exists; refusing to overwrite keys (move it away "
                  "first if you really mean to replace it)",
                  path);
    return -EEXIST;
}

static int check_absent(const struct keygen *g)
{
    int rc = 0;

    for (int i = 0; i < F_FIXED && rc == 0; i++)
        rc = refuse_existing(g->fixed[i]);
    for (unsigned i = 0; i < g->nshares && rc == 0; i++)
        rc = refuse_existing(g->share[i]);
    return rc;
}

/* A share passphrase must be long and its holder's own. */
static int check_passphrase(const struct keygen *g, unsigned i)
{
    size_t n = strlen(g->pass[i]);

    if (n < LSL_PASSPHRASE_MIN) {
        lsl_log_error("%s: the passphrase has %zu characters; at least %d "
                      "are needed (it alone protects the share)",
                      g->share[i], n, LSL_PASSPHRASE_MIN);
        return LSL_EUSAGE;
    }
    for (unsigned j = 0; j < i; j++) {
        if (strlen(g->pass[j]) == n &&
            sodium_memcmp(g->pass[j], g->pass[i], n) == 0) {
            lsl_log_error("%s: the same passphrase as %s; give each holder "
                          "their own",
                          g->share[i], g->share[j]);
            return LSL_EUSAGE;
        }
    }
    return 0;
}

static int read_passphrases(struct keygen *g)
{
    int fd = lsl_cli_officer_passphrase_fd();
    int rc = 0;

    for (unsigned i = 0; i < g->nshares && rc == 0; i++) {
        rc = lsl_cli_passphrase_get(fd, g->share[i], true, &g->pass[i]);
        if (rc == 0)
            rc = check_passphrase(g, i);
    }
    return rc;
}

/* The Argon2id cost from LOGSEAL_PWHASH. 0 or LSL_EUSAGE. */
static int pwhash_limits(struct lsl_shares_opts *o)
{
    const char *v = getenv("LOGSEAL_PWHASH");

    lsl_shares_opts_init(o);
    if (!v || !v[0] || strcmp(v, "moderate") == 0)
        return 0;
    if (strcmp(v, "interactive") == 0) {
        o->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        o->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    } else if (strcmp(v, "sensitive") == 0) {
        o->opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE;
        o->memlimit = crypto_pwhash_MEMLIMIT_SENSITIVE;
    } else {
        lsl_log_error("LOGSEAL_PWHASH=%s: expected interactive, moderate or "
                      "sensitive",
                      v);
        return LSL_EUSAGE;
    }
    return 0;
}

/* vault.pub and the shares of a freshly generated key. */
static int write_split(struct keygen *g, const struct lsl_officer_key *k)
{
    int rc;

    g->split.threshold = g->threshold;
    g->split.count = g->nshares;
    g->split.paths = g->share_path;
    g->split.passphrases = (const char *const *)g->pass;
    rc = lsl_officer_pubkey_write(k, g->fixed[F_PUB]);
    g->made[F_PUB] = rc == 0;
    if (rc == 0)
        rc = lsl_officer_shares_write(k, &g->split);
    if (rc)
        lsl_log_error("%s: cannot write the key shares: %s", g->dir,
                      lsl_strerror(rc));
    return rc;
}

/* stop.key: the writers' copy of the stop key the officer derives. */
static int write_stop_key(struct keygen *g, const struct lsl_officer_key *k)
{
    uint8_t *key = sodium_malloc(LSL_STOP_KEY_BYTES);
    int rc = key ? lsl_officer_stop_key(k, key) : -ENOMEM;

    if (rc == 0)
        rc = lsl_stop_key_write(g->fixed[F_STOP], key);
    g->made[F_STOP] = rc == 0;
    if (rc)
        lsl_log_error("%s: %s", g->fixed[F_STOP], lsl_strerror(rc));
    sodium_free(key);
    return rc;
}

/* The officer key: whole (officer.key) or split; then audit.pub, stop.key. */
static int write_officer(struct keygen *g)
{
    struct lsl_officer_key *k = NULL;
    struct lsl_audit_pub ap;
    int rc;

    if (g->nshares) {
        rc = lsl_officer_key_generate(&k);
        if (rc == 0)
            rc = write_split(g, k);
    } else {
        rc = lsl_officer_keygen(g->fixed[F_SECRET], g->fixed[F_PUB]);
        g->made[F_SECRET] = g->made[F_PUB] = rc == 0;
        if (rc == 0)
            rc = lsl_officer_key_open(&k, g->fixed[F_SECRET]);
        if (rc)
            lsl_log_error("%s: %s", g->fixed[F_SECRET], lsl_strerror(rc));
    }
    if (rc == 0) {
        rc = lsl_audit_pub_derive(k, &ap);
        if (rc == 0)
            rc = lsl_audit_pub_write(g->fixed[F_AUDIT], &ap);
        g->made[F_AUDIT] = rc == 0;
        if (rc)
            lsl_log_error("%s: %s", g->fixed[F_AUDIT], lsl_strerror(rc));
    }
    if (rc == 0)
        rc = write_stop_key(g, k);
    lsl_officer_key_close(k);
    return rc;
}

static int write_ckpt_key(struct keygen *g)
{
    struct lsl_ckpt_key *k = NULL;
    int rc = lsl_ckpt_key_open(g->fixed[F_CKPT], true, &k, &g->made[F_CKPT]);

    if (rc)
        lsl_log_error("%s: %s", g->fixed[F_CKPT], lsl_strerror(rc));
    lsl_ckpt_key_free(k);
    return rc;
}

static int create_keys(struct keygen *g)
{
    int rc;

    rc = lsl_mkdir_p(g->dir, 0700);
    if (rc) {
        lsl_log_error("%s: cannot create the directory: %s", g->dir,
                      lsl_strerror(rc));
        return rc;
    }
    rc = plan_paths(g);
    if (rc == 0)
        rc = pwhash_limits(&g->split);
    if (rc == 0)
        rc = check_absent(g);
    if (rc == 0)
        rc = read_passphrases(g);
    if (rc)
        return rc;
    rc = lsl_keyring_create_at(g->fixed[F_HASH], g->epoch_len, g->since);
    g->made[F_HASH] = rc == 0;
    if (rc)
        lsl_log_error("%s: %s", g->fixed[F_HASH], lsl_strerror(rc));
    if (rc == 0)
        rc = write_ckpt_key(g);
    if (rc == 0)
        rc = write_officer(g);
    /* Half a key set is worse than none: it invites a second keygen. */
    for (int i = 0; rc && i < F_FIXED; i++) {
        if (g->made[i])
            unlink(g->fixed[i]);
    }
    return rc;
}

/* --rotate-checkpoint-key. An exit code. */
static int rotate_ckpt_key(const char *dir)
{
    char path[PATH_MAX], old_id[LSL_CKPT_KID_LEN + 1];
    char new_id[LSL_CKPT_KID_LEN + 1];
    int rc = lsl_path_join(path, sizeof(path), dir, LSL_CKPT_KEY_FILE);

    if (rc == 0)
        rc = lsl_ckpt_key_rotate(path, old_id, new_id);
    if (rc == -EEXIST) {
        lsl_log_error("%s%s exists: the last rotation is not finished. "
                      "Remove it once `logseal run --check` says no "
                      "checkpoint needs it, then rotate again",
                      path, LSL_CKPT_KEY_OLD);
        return LSL_EXIT_ERROR;
    }
    if (rc) {
        lsl_log_error("%s: cannot rotate: %s", path, lsl_strerror(rc));
        return LSL_EXIT_ERROR;
    }
    printf("checkpoint.key rotated in %s: new key %s; the previous key %s "
           "is now checkpoint.key.old\nreload (SIGHUP) or restart the "
           "daemon: each checkpoint is sealed with the new key at its next "
           "commit; remove checkpoint.key.old when `logseal run --check` "
           "says no checkpoint needs it\n",
           dir, new_id, old_id);
    return LSL_EXIT_OK;
}

static int parse_count(const char *opt, const char *arg, unsigned *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < 1 || v > LSL_SHARES_MAX)
        return lsl_cli_usage_error("keygen", "--%s: expected 1..%d", opt,
                                   LSL_SHARES_MAX);
    *out = (unsigned)v;
    return 0;
}

/* --epoch NAME or --since YYYY-MM-DD (UTC midnight). 0 or exit code. */
static int parse_epoch_opt(int c, const char *arg, struct keygen *g)
{
    static const char *const names[] = {"never", "day", "week", "month"};

    if (c == 'S')
        return lsl_time_parse("%Y-%m-%d", arg, strlen(arg), &g->since) == 0
                   ? 0
                   : lsl_cli_usage_error("keygen", "--since takes a date "
                                                   "YYYY-MM-DD");
    for (size_t i = 0; i < LSL_ARRAY_SIZE(names); i++) {
        if (strcmp(arg, names[i]) == 0) {
            g->epoch_len = (enum lsl_epoch_len)i;
            return 0;
        }
    }
    return lsl_cli_usage_error("keygen", "--epoch takes never, day, week or "
                                         "month");
}

static void report(const struct keygen *g)
{
    if (g->nshares == 0) {
        printf("keys written to %s: hash.key, vault.pub, audit.pub, stop.key, "
               "checkpoint.key, officer.key\nmove officer.key to the "
               "security officers; the daemon needs hash.key, vault.pub, "
               "audit.pub, stop.key and checkpoint.key\n",
               g->dir);
        return;
    }
    printf("keys written to %s: hash.key, vault.pub, audit.pub, stop.key, "
           "checkpoint.key and %u "
           "shares officer.share.1..%u, any %u of which open the vault\n"
           "give each share to its holder; no officer.key was written\n",
           g->dir, g->nshares, g->nshares, g->threshold);
}

int lsl_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"shares", required_argument, NULL, 'n'},
        {"threshold", required_argument, NULL, 'k'},
        {"passphrase-fd", required_argument, NULL, LSL_CLI_OPT_PASSPHRASE_FD},
        {"epoch", required_argument, NULL, 'E'},
        {"since", required_argument, NULL, 'S'},
        {"rotate-checkpoint-key", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct keygen g = {.since = (int64_t)time(NULL)};
    bool rotate = false, created_opts = false;
    int c, rc = 0;

    while (rc == 0 && (c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            g.dir = optarg;
            break;
        case 'n':
            rc = parse_count("shares", optarg, &g.nshares);
            created_opts = true;
            break;
        case 'k':
            rc = parse_count("threshold", optarg, &g.threshold);
            created_opts = true;
            break;
        case LSL_CLI_OPT_PASSPHRASE_FD:
            rc = lsl_cli_officer_option(c, optarg) ? LSL_EXIT_USAGE : 0;
            created_opts = true;
            break;
        case 'E':
        case 'S':
            rc = parse_epoch_opt(c, optarg, &g);
            created_opts = true;
            break;
        case 'R':
            rotate = true;
            break;
        case 'h':
            help();
            return LSL_EXIT_OK;
        default:
            return lsl_cli_usage_error("keygen", "bad option");
        }
    }
    if (rc)
        return rc;
    if (!g.dir || optind != argc)
        return lsl_cli_usage_error("keygen", "--dir KEYS is required");
    if (rotate && created_opts)
        return lsl_cli_usage_error("keygen", "--rotate-checkpoint-key "
                                             "takes --dir alone");
    if (rotate)
        return rotate_ckpt_key(g.dir);
    if (!g.nshares != !g.threshold || g.threshold > g.nshares)
        return lsl_cli_usage_error("keygen", "--shares N and --threshold K "
                                             "go together, with K <= N");
    if (g.nshares && g.threshold < 2)
        return lsl_cli_usage_error("keygen", "--threshold 1 gives every "
                                             "holder the whole key: use K >= "
                                             "2 (or no --shares)");
    rc = create_keys(&g);
    for (unsigned i = 0; i < g.nshares; i++)
        sodium_free(g.pass[i]);
    free(g.share);
    if (rc)
        return rc == LSL_EUSAGE ? LSL_EXIT_USAGE : LSL_EXIT_ERROR;
    report(&g);
    return LSL_EXIT_OK;
}
