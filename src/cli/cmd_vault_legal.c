/*
 * `logseal vault erase|expire|hold|release`: the vault side of lawful
 * requests and retention.
 *
 *   erase    a data subject's mappings: their tokens are put on the erased
 *            list (VAULTDIR/erased) first, then every vault file holding
 *            one is rewritten without them (new file key; legal.h). Tokens
 *            under a legal hold are kept and reported.
 *   expire   deletes the vault files of key epochs that ended more than
 *            DAYS ago, except those under a legal hold. Files of a fixed
 *            key (epoch length never) and version 1 files have no epoch
 *            end and are kept.
 *   hold     pins a subject's tokens (found in the vault now) or one
 *            epoch's files for a case, in VAULTDIR/holds.
 *   release  lifts every hold of a case.
 *
 * Every action is audited before anything is changed. The officer key is
 * needed by all four: erase and hold read originals, expire authenticates
 * a file's header epoch before trusting it for deletion, and the audit
 * trail records the key in use.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "audit.h"
#include "cli_internal.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "officer_internal.h"
#include "subject_internal.h"

struct vopts {
    const char *keys, *vault, *ref, *subject, *cls;
    long long epoch, days; /* -1: not given */
};

static int check_opts(const char *cmd, const struct vopts *o)
{
    if (!o->keys || !o->vault)
        return lsl_cli_usage_error(cmd, "--keys and --vault are required");
    if (o->ref && (!o->ref[0] || strpbrk(o->ref, "\t\n\r")))
        return lsl_cli_usage_error(cmd, "--case must be non-empty, without "
                                        "tabs or newlines");
    return 0;
}

/* Parse the options shared by the four subcommands: LSL_CLI_GO, or the
 * exit code to end with. */
static int parse(const char *cmd, int argc, char **argv, struct vopts *o,
                 void (*help)(void))
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},
        {"vault", required_argument, NULL, 'v'},
        {"case", required_argument, NULL, 'c'},
        {"subject", required_argument, NULL, 's'},
        {"class", required_argument, NULL, 'C'},
        {"epoch", required_argument, NULL, 'e'},
        {"older-than", required_argument, NULL, 'o'},
        LSL_CLI_OFFICER_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;

    *o = (struct vopts){.epoch = -1, .days = -1};
    while ((c = getopt_long(argc, argv, "k:v:c:s:C:e:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            o->keys = optarg;
            break;
        case 'v':
            o->vault = optarg;
            break;
        case 'c':
            o->ref = optarg;
            break;
        case 's':
            o->subject = optarg;
            break;
        case 'C':
            o->cls = optarg;
            break;
        case 'e':
        case 'o':
            errno = 0;
            *(c == 'e' ? &o->epoch : &o->days) = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg || optarg[0] == '-')
                return lsl_cli_usage_error(cmd, "'%s' is not a number", optarg);
            break;
        case LSL_CLI_OPT_SHARE:
        case LSL_CLI_OPT_PASSPHRASE_FD:
            if (lsl_cli_officer_option(c, optarg) != 0)
                return LSL_EXIT_USAGE;
            break;
        case 'h':
            help();
            return LSL_EXIT_OK;
        default:
            return lsl_cli_usage_error(cmd, "bad option");
        }
    }
    if (optind != argc)
        return lsl_cli_usage_error(cmd, "unexpected argument '%s'",
                                   argv[optind]);
    return check_opts(cmd, o) ? LSL_EXIT_USAGE : LSL_CLI_GO;
}

/* Sorted paths of the vault files in dir. 0 or -errno (logged). */
static int list_files(const char *dir, char ***out, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[PATH_MAX], **v = NULL, **nv;
    size_t len, sl = strlen(LSL_VAULT_SUFFIX);
    int rc = 0;

    *n = 0;
    if (!d) {
        rc = -errno;
        lsl_log_error("%s: cannot list the vault: %s", dir, lsl_strerror(rc));
        return rc;
    }
    while (rc == 0 && (de = readdir(d))) {
        len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= sl ||
            strcmp(de->d_name + len - sl, LSL_VAULT_SUFFIX) != 0)
            continue;
        rc = lsl_path_join(path, sizeof(path), dir, de->d_name);
        nv = rc ? NULL : realloc(v, (*n + 1) * sizeof(*v));
        if (!rc && (!nv || !(nv[*n] = strdup(path))))
            rc = -ENOMEM;
        if (nv)
            v = nv;
        if (rc == 0)
            (*n)++;
    }
    closedir(d);
    *out = v;
    return rc;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int load_holds(const char *vault, struct lsl_holds **h)
{
    int rc = lsl_holds_load(vault, h);

    if (rc)
        lsl_log_error("%s/holds: cannot read the legal holds: %s", vault,
                      lsl_strerror(rc));
    return rc;
}

/* Exit code of a finished subcommand. */
static int exit_code(int rc, const struct lsl_cli_vread *st)
{
    if (rc == LSL_EUSAGE)
        return LSL_EXIT_USAGE;
    if (rc == LSL_ENOTFOUND)
        return LSL_EXIT_NOTFOUND;
    if (rc)
        return lsl_cli_exit_code(rc);
    return st && st->integrity ? LSL_EXIT_INTEGRITY : LSL_EXIT_OK;
}

/* ---- erase ---- */

static void erase_help(void)
{
    printf("usage: logseal vault erase --keys KEYS --vault VAULTDIR "
           "--case REF\n"
           "                          --subject VALUE [--class CLASS]\n\n"
           "Remove the subject's mappings from the vault so their tokens\n"
           "can no longer be linked to them: the tokens go on the erased\n"
           "list (unseal then says 'erased'), and every vault file holding\n"
           "one is rewritten without it, under a new file key. Tokens under\n"
           "a legal hold are kept. A file still being written is not\n"
           "rewritten (warning): run erase again once it is "
           "finished.\n\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 done, 4 the subject is not in the vault, 3 integrity "
           "failure, 1 error\n");
}

static bool drop_victim(const struct lsl_vault_record *r, void *ud)
{
    return lsl_tokset_has(ud, &r->tok);
}

/* Rewrite every file without the victims' records. */
static int erase_files(const char *vault, const struct lsl_officer_key *key,
                       struct lsl_tokset *victims, size_t *files,
                       uint64_t *records, struct lsl_cli_vread *st)
{
    char **paths = NULL;
    size_t n = 0;
    int rc = list_files(vault, &paths, &n);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint64_t dropped = 0;
        int frc =
            lsl_vault_rewrite(paths[i], key, drop_victim, victims, &dropped);

        if (frc == LSL_ETRUNC) {
            lsl_log_warn("%s: unfinished (still being written, or cut "
                         "short): not rewritten; the subject's tokens are "
                         "on the erased list; run erase again once the "
                         "file is finished",
                         paths[i]);
            st->truncated = true;
        } else if (frc == LSL_EAUTH || frc == LSL_ECORRUPT ||
                   frc == LSL_EFORMAT || frc == LSL_EVERSION) {
            lsl_log_error("%s: integrity failure: %s; not rewritten", paths[i],
                          lsl_strerror(frc));
            st->integrity = st->integrity ? st->integrity : frc;
        } else if (frc) {
            lsl_log_error("%s: cannot rewrite: %s", paths[i],
                          lsl_strerror(frc));
            rc = frc;
        }
        *files += dropped != 0;
        *records += dropped;
    }
    free_list(paths, n);
    return rc;
}

static int erase_run(const struct vopts *o, struct lsl_subject *s,
                     struct lsl_officer_key *key, struct lsl_cli_vread *st)
{
    struct lsl_tokset victims = {0};
    struct lsl_holds *h = NULL;
    size_t held = 0, files = 0;
    uint64_t records = 0;
    char query[96];
    int rc;

    rc = lsl_subject_find(s, o->vault, key, st);
    if (rc == 0)
        rc = load_holds(o->vault, &h);
    for (size_t i = 0; rc == 0 && i < s->toks.n; i++) {
        if (lsl_holds_token(h, &s->toks.v[i]))
            held++;
        else
            rc = lsl_tokset_add(&victims, &s->toks.v[i]);
    }
    snprintf(query, sizeof(query), "subject: %zu tokens, %zu held", s->toks.n,
             held);
    if (rc == 0)
        rc = lsl_audit_append(o->vault, key, o->ref, "erase", query, victims.n);
    /* The marker first: from here on the tokens read as erased. */
    if (rc == 0 && victims.n)
        rc = lsl_legal_erased_add(o->vault, o->ref, victims.v, victims.n);
    if (rc == 0 && victims.n)
        rc = erase_files(o->vault, key, &victims, &files, &records, st);
    if (rc == 0)
        printf("erased %zu tokens of the subject: %" PRIu64 " records "
               "removed from %zu vault files; %zu tokens kept under legal "
               "hold\n",
               victims.n, records, files, held);
    if (rc == 0 && s->toks.n == 0) {
        lsl_log_error("the subject has no mapping in %s", o->vault);
        rc = LSL_ENOTFOUND;
    }
    lsl_tokset_free(&victims);
    lsl_holds_free(h);
    return rc;
}

int lsl_cmd_vault_erase(int argc, char **argv)
{
    struct lsl_officer_key *key = NULL;
    struct lsl_cli_vread st = {0};
    struct lsl_subject s;
    struct vopts o;
    int rc = parse("vault erase", argc, argv, &o, erase_help);

    if (rc != LSL_CLI_GO)
        return rc;
    if (!o.ref || !o.subject || !o.subject[0])
        return lsl_cli_usage_error("vault erase", "--case and --subject "
                                                  "are required");
    rc = lsl_subject_init(&s, o.subject, o.cls);
    if (rc == 0)
        rc = lsl_cli_officer_open(o.keys, &key);
    if (rc == 0)
        rc = erase_run(&o, &s, key, &st);
    lsl_officer_key_close(key);
    lsl_subject_free(&s);
    return exit_code(rc, &st);
}

/* ---- expire ---- */

static void expire_help(void)
{
    printf("usage: logseal vault expire --keys KEYS --vault VAULTDIR "
           "--older-than DAYS\n"
           "                           [--case REF]\n\n"
           "Delete the vault files of hash-key epochs that ended more than\n"
           "DAYS days ago (epoch start and length are in each file's\n"
           "authenticated header), except files under a legal hold. Files\n"
           "of a fixed key (keygen --epoch never) never expire. REF defaults\n"
           "to 'retention'. The tokens of deleted epochs can no longer be\n"
           "unsealed; with a ratcheting key they cannot be recomputed\n"
           "either.\n\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 done, 3 some file failed verification (kept), 1 error\n");
}

/* True if the file at path is to be deleted; counts what is kept. */
static bool expired(const char *path, const struct lsl_officer_key *key,
                    const struct lsl_holds *h, int64_t limit, size_t *held,
                    size_t *fixed, struct lsl_cli_vread *st)
{
    struct lsl_vault_file_info info;
    int rc = lsl_vault_read_file(path, key, NULL, NULL, &info);
    int64_t end;

    if (rc && rc != LSL_ETRUNC) {
        lsl_log_error("%s: integrity failure at byte %llu: %s; kept", path,
                      (unsigned long long)info.error_offset, lsl_strerror(rc));
        st->integrity = st->integrity ? st->integrity : rc;
        return false;
    }
    if (info.epoch_len == LSL_EPOCH_NEVER) {
        (*fixed)++;
        return false;
    }
    end = lsl_epoch_start((enum lsl_epoch_len)info.epoch_len, info.epoch + 1);
    if (end >= limit)
        return false;
    if (lsl_holds_epoch(h, info.epoch)) {
        (*held)++;
        return false;
    }
    return true;
}

static int expire_run(const struct vopts *o, struct lsl_officer_key *key,
                      struct lsl_cli_vread *st)
{
    int64_t limit = (int64_t)time(NULL) - o->days * 86400;
    size_t n = 0, nvict = 0, held = 0, fixed = 0;
    struct lsl_holds *h = NULL;
    char **paths = NULL, query[64];
    int rc = load_holds(o->vault, &h);

    if (rc == 0)
        rc = list_files(o->vault, &paths, &n);
    /* Victims are moved to the front of paths. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (expired(paths[i], key, h, limit, &held, &fixed, st)) {
            char *t = paths[nvict];

            paths[nvict++] = paths[i];
            paths[i] = t;
        }
    }
    snprintf(query, sizeof(query), "older than %lld days", o->days);
    if (rc == 0)
        rc = lsl_audit_append(o->vault, key, o->ref ? o->ref : "retention",
                              "expire", query, nvict);
    for (size_t i = 0; rc == 0 && i < nvict; i++) {
        if (unlink(paths[i]) != 0) {
            rc = -errno;
            lsl_log_error("%s: cannot delete: %s", paths[i], lsl_strerror(rc));
        }
    }
    if (rc == 0 && nvict)
        rc = lsl_fsync_parent(paths[0]);
    if (rc == 0)
        printf("expired %zu vault files; kept %zu under legal hold and %zu "
               "of a fixed key\n",
               nvict, held, fixed);
    free_list(paths, n);
    lsl_holds_free(h);
    return rc;
}

int lsl_cmd_vault_expire(int argc, char **argv)
{
    struct lsl_officer_key *key = NULL;
    struct lsl_cli_vread st = {0};
    struct vopts o;
    int rc = parse("vault expire", argc, argv, &o, expire_help);

    if (rc != LSL_CLI_GO)
        return rc;
    if (o.days < 0)
        return lsl_cli_usage_error("vault expire", "--older-than DAYS is "
                                                   "required");
    rc = lsl_cli_officer_open(o.keys, &key);
    if (rc == 0)
        rc = expire_run(&o, key, &st);
    lsl_officer_key_close(key);
    return exit_code(rc, &st);
}

/* ---- hold / release ---- */

static void hold_help(void)
{
    printf("usage: logseal vault hold --keys KEYS --vault VAULTDIR "
           "--case REF\n"
           "                         (--subject VALUE [--class CLASS] | "
           "--epoch E)\n\n"
           "Place a legal hold: neither erase nor expire removes what it\n"
           "pins until 'vault release --case REF'. A subject hold pins the\n"
           "subject's tokens found in the vault now (their token hashes are\n"
           "stored in VAULTDIR/holds, not the value) and keeps the files of\n"
           "their epochs; an epoch hold keeps every file of epoch E (the\n"
           "number that starts the vault file names).\n\n" LSL_CLI_OFFICER_HELP
           "\n"
           "exit: 0 done, 4 the subject is not in the vault, 1 error\n");
}

static int hold_subject(const struct vopts *o, struct lsl_officer_key *key,
                        struct lsl_holds *h, struct lsl_cli_vread *st,
                        size_t *count)
{
    struct lsl_subject s;
    int rc = lsl_subject_init(&s, o->subject, o->cls);

    if (rc == 0)
        rc = lsl_subject_find(&s, o->vault, key, st);
    if (rc == 0)
        rc = lsl_holds_add_tokens(h, o->ref, s.toks.v, s.toks.n);
    *count = s.toks.n;
    lsl_subject_free(&s);
    return rc;
}

static int hold_run(const struct vopts *o, struct lsl_officer_key *key,
                    struct lsl_cli_vread *st)
{
    struct lsl_holds *h = NULL;
    size_t count = 1;
    char query[64];
    int rc = load_holds(o->vault, &h);

    if (rc == 0 && o->subject)
        rc = hold_subject(o, key, h, st, &count);
    else if (rc == 0)
        rc = lsl_holds_add_epoch(h, o->ref, (uint32_t)o->epoch);
    if (o->subject)
        snprintf(query, sizeof(query), "subject: %zu tokens", count);
    else
        snprintf(query, sizeof(query), "epoch %lld", o->epoch);
    if (rc == 0)
        rc = lsl_audit_append(o->vault, key, o->ref, "hold", query, count);
    if (rc == 0 && count)
        rc = lsl_holds_save(h);
    if (rc == 0)
        printf("hold for case %s: %s\n", o->ref, query);
    if (rc == 0 && count == 0) {
        lsl_log_error("the subject has no mapping in %s: nothing to hold",
                      o->vault);
        rc = LSL_ENOTFOUND;
    }
    lsl_holds_free(h);
    return rc;
}

int lsl_cmd_vault_hold(int argc, char **argv)
{
    struct lsl_officer_key *key = NULL;
    struct lsl_cli_vread st = {0};
    struct vopts o;
    int rc = parse("vault hold", argc, argv, &o, hold_help);

    if (rc != LSL_CLI_GO)
        return rc;
    if (!o.ref || (!o.subject == (o.epoch < 0)) ||
        (o.subject && !o.subject[0]) || o.epoch > (long long)UINT32_MAX)
        return lsl_cli_usage_error("vault hold", "--case and one of "
                                                 "--subject or --epoch are "
                                                 "required");
    rc = lsl_cli_officer_open(o.keys, &key);
    if (rc == 0)
        rc = hold_run(&o, key, &st);
    lsl_officer_key_close(key);
    return exit_code(rc, &st);
}

static void release_help(void)
{
    printf("usage: logseal vault release --keys KEYS --vault VAULTDIR "
           "--case REF\n\n"
           "Lift every legal hold placed for case REF.\n\n" LSL_CLI_OFFICER_HELP
           "\n"
           "exit: 0 done, 4 no hold of that case, 1 error\n");
}

int lsl_cmd_vault_release(int argc, char **argv)
{
    struct lsl_officer_key *key = NULL;
    struct lsl_holds *h = NULL;
    size_t removed = 0;
    struct vopts o;
    int rc = parse("vault release", argc, argv, &o, release_help);

    if (rc != LSL_CLI_GO)
        return rc;
    if (!o.ref)
        return lsl_cli_usage_error("vault release", "--case is required");
    rc = lsl_cli_officer_open(o.keys, &key);
    if (rc == 0)
        rc = load_holds(o.vault, &h);
    if (rc == 0)
        lsl_holds_release(h, o.ref, &removed);
    if (rc == 0)
        rc = lsl_audit_append(o.vault, key, o.ref, "release", "holds", removed);
    if (rc == 0 && removed)
        rc = lsl_holds_save(h);
    if (rc == 0)
        printf("released %zu holds of case %s\n", removed, o.ref);
    if (rc == 0 && removed == 0)
        rc = LSL_ENOTFOUND;
    lsl_holds_free(h);
    lsl_officer_key_close(key);
    return exit_code(rc, NULL);
}
