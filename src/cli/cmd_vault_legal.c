/*
 * `logseal vault expire|hold|release`, and the options the `vault`
 * officer subcommands share (erase and repair: cmd_vault_erase.c).
 *
 *   expire   deletes the vault files of key epochs that ended more than
 *            DAYS ago, except those under a legal hold. Files of a fixed
 *            key (epoch length never) have no epoch end and are kept.
 *   hold     pins a subject's tokens (found in the vault now) or one
 *            epoch's files for a case.
 *   release  lifts every hold of a case.
 *
 * Holds live in the signed audit log (legal.h): each command runs in an
 * officer session (session_internal.h) whose log must verify, records its
 * action with what it touched (tokens, epochs, files removed) before it
 * changes anything, and reads the legal state from the log, so deleting a
 * file lifts no hold. The officer key is needed by all three: hold reads
 * originals, expire authenticates a file's header epoch before trusting
 * it for deletion, and every record is signed with it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli_internal.h"
#include "logseal/array.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "officer_internal.h"
#include "subject_internal.h"
#include "vaultcmd_internal.h"

static int check_opts(const char *cmd, const struct lsl_vault_opts *o)
{
    if (!o->keys || !o->vault)
        return lsl_cli_usage_error(cmd, "--keys and --vault are required");
    if (o->ref && (!o->ref[0] || strpbrk(o->ref, "\t\n\r")))
        return lsl_cli_usage_error(cmd, "--case must be non-empty, without "
                                        "tabs or newlines");
    return 0;
}

int lsl_cli_vault_parse(const char *cmd, int argc, char **argv,
                        struct lsl_vault_opts *o, void (*help)(void))
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

    *o = (struct lsl_vault_opts){.epoch = -1, .days = -1};
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
        case LSL_CLI_OPT_NEW_LOG:
        case LSL_CLI_OPT_NO_INDEX:
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

void lsl_cli_vault_session(struct lsl_cli_session *ss,
                           const struct lsl_vault_opts *o)
{
    memset(ss, 0, sizeof(*ss));
    ss->keys = o->keys;
    ss->vault = o->vault;
    ss->case_ref = o->ref;
}

int lsl_cli_vault_item_file(struct lsl_cli_session *ss, const char *key,
                            const struct lsl_vault_link *link)
{
    char hex[2 * LSL_VAULT_ID_BYTES + 1];

    return lsl_buf_printf(
        &ss->items, "%s%s=%s:%llu", ss->items.len ? " " : "", key,
        sodium_bin2hex(hex, sizeof(hex), link->writer, LSL_VAULT_ID_BYTES),
        (unsigned long long)link->seq);
}

/* Headers only: the index answers for the files it covers. */
static const struct lsl_cli_want no_tokens;

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
           "either. Refused when the audit log, which holds the legal\n"
           "holds, does not verify.\n\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 done, 3 some file or the audit log failed verification\n"
           "(files kept), 1 error\n");
}

struct victim {
    char *path;
    struct lsl_vault_link link;
    uint32_t epoch;
    uint8_t epoch_len;
};

struct expire {
    int64_t limit;
    struct lsl_ledger *ledger;
    struct victim *v;
    size_t n, cap;
    size_t held, fixed;
    int err;
};

/* A file is deleted if its authenticated epoch ended before the limit. */
static void expire_file(const char *path, const struct lsl_vault_file_info *i,
                        int rc, void *ud)
{
    struct expire *x = ud;
    int64_t end;

    if ((rc && rc != LSL_ETRUNC) || !i->have_keys)
        return; /* reported by the session; kept */
    if (i->epoch_len == LSL_EPOCH_NEVER) {
        x->fixed++;
        return;
    }
    end = lsl_epoch_start((enum lsl_epoch_len)i->epoch_len, i->epoch + 1);
    if (end >= x->limit)
        return;
    if (lsl_ledger_held_epoch(x->ledger, i->epoch)) {
        x->held++;
        return;
    }
    if (lsl_array_grow(&x->v, &x->cap, x->n + 1, sizeof(*x->v), 16)) {
        x->err = -ENOMEM; /* an error stays: the callback cannot return it */
        return;
    }
    x->v[x->n] = (struct victim){.path = strdup(path),
                                 .link = i->link,
                                 .epoch = i->epoch,
                                 .epoch_len = i->epoch_len};
    if (!x->v[x->n].path)
        x->err = -ENOMEM;
    else
        x->n++;
}

static int remove_victims(const struct expire *x)
{
    char ep[64];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < x->n; i++) {
        if (unlink(x->v[i].path) != 0) {
            rc = -errno;
            lsl_log_error("%s: cannot delete: %s", x->v[i].path,
                          lsl_strerror(rc));
            break;
        }
        lsl_cli_epoch_text(x->v[i].epoch, x->v[i].epoch_len, ep);
        printf("expired %s\tepoch %s\n", x->v[i].path, ep);
    }
    if (rc == 0 && x->n)
        rc = lsl_fsync_parent(x->v[0].path);
    return rc;
}

static int expire_run(struct lsl_cli_session *ss,
                      const struct lsl_vault_opts *o, struct expire *x)
{
    char query[64];
    int rc = lsl_cli_session_open(ss);

    x->limit = (int64_t)time(NULL) - o->days * 86400;
    x->ledger = ss->ledger;
    ss->on_file = expire_file;
    ss->file_ud = x;
    if (rc == 0)
        rc = lsl_cli_session_find(ss, &no_tokens, NULL, NULL);
    if (rc == 0)
        rc = x->err;
    for (size_t i = 0; rc == 0 && i < x->n; i++)
        rc = lsl_cli_vault_item_file(ss, "removed", &x->v[i].link);
    snprintf(query, sizeof(query), "older than %lld days", o->days);
    if (rc == 0)
        rc = lsl_cli_session_record(ss, "expire", query, x->n);
    if (rc == 0)
        rc = remove_victims(x);
    if (rc == 0 && x->n)
        lsl_cli_session_index_refresh(ss);
    if (rc == 0)
        printf("expired %zu vault files; kept %zu under legal hold and %zu "
               "of a fixed key\n",
               x->n, x->held, x->fixed);
    return rc;
}

int lsl_cmd_vault_expire(int argc, char **argv)
{
    struct lsl_cli_session ss;
    struct lsl_vault_opts o;
    struct expire x = {0};
    int rc = lsl_cli_vault_parse("vault expire", argc, argv, &o, expire_help),
        code;

    if (rc != LSL_CLI_GO)
        return rc;
    if (o.days < 0)
        return lsl_cli_usage_error("vault expire", "--older-than DAYS is "
                                                   "required");
    if (!o.ref)
        o.ref = "retention";
    lsl_cli_vault_session(&ss, &o);
    rc = expire_run(&ss, &o, &x);
    code = lsl_cli_session_exit(&ss, rc, LSL_EXIT_OK);
    for (size_t i = 0; i < x.n; i++)
        free(x.v[i].path);
    free(x.v);
    lsl_cli_session_close(&ss);
    return code;
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
           "subject's tokens found in the vault now and keeps the files of\n"
           "their epochs; an epoch hold keeps every file of epoch E (the\n"
           "number that starts the vault file names; 'vault verify' shows\n"
           "each epoch's date). The hold is a record of the signed audit\n"
           "log (tokens and epochs, never the value): deleting a file\n"
           "cannot lift it.\n\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 done, 4 the subject is not in the vault, 3 integrity\n"
           "failure, 1 error\n");
}

static int hold_subject(struct lsl_cli_session *ss,
                        const struct lsl_vault_opts *o, size_t *count)
{
    struct lsl_subject s;
    int rc = lsl_subject_init(&s, o->subject, o->cls);

    if (rc == 0)
        rc = lsl_subject_find(&s, ss);
    for (size_t i = 0; rc == 0 && i < s.toks.n; i++)
        rc = lsl_cli_session_item_token(ss, "tok", &s.toks.v[i]);
    *count = s.toks.n;
    lsl_subject_free(&s);
    return rc;
}

static int hold_run(struct lsl_cli_session *ss, const struct lsl_vault_opts *o)
{
    size_t count = 1;
    char query[64], item[32];
    int rc = lsl_cli_session_open(ss);

    if (rc == 0 && o->subject) {
        rc = hold_subject(ss, o, &count);
        snprintf(query, sizeof(query), "subject: %zu tokens", count);
    } else if (rc == 0) {
        rc = lsl_cli_session_find(ss, &no_tokens, NULL, NULL);
        snprintf(item, sizeof(item), "epoch=%lld", o->epoch);
        if (rc == 0)
            rc = lsl_cli_session_item(ss, item);
        snprintf(query, sizeof(query), "epoch %lld", o->epoch);
    }
    if (rc == 0 && count == 0) {
        lsl_log_error("the subject has no mapping in %s: nothing to hold",
                      o->vault);
        return LSL_ENOTFOUND;
    }
    if (rc == 0)
        rc = lsl_cli_session_record(ss, "hold", query, count);
    if (rc == 0)
        printf("hold for case %s: %s (audit record %llu)\n", o->ref, query,
               (unsigned long long)ss->head.seq);
    return rc;
}

int lsl_cmd_vault_hold(int argc, char **argv)
{
    struct lsl_cli_session ss;
    struct lsl_vault_opts o;
    int rc = lsl_cli_vault_parse("vault hold", argc, argv, &o, hold_help), code;

    if (rc != LSL_CLI_GO)
        return rc;
    if (!o.ref || (!o.subject == (o.epoch < 0)) ||
        (o.subject && !o.subject[0]) || o.epoch > (long long)UINT32_MAX)
        return lsl_cli_usage_error("vault hold", "--case and one of "
                                                 "--subject or --epoch are "
                                                 "required");
    lsl_cli_vault_session(&ss, &o);
    rc = hold_run(&ss, &o);
    code = lsl_cli_session_exit(&ss, rc, LSL_EXIT_OK);
    lsl_cli_session_close(&ss);
    return code;
}

static void release_help(void)
{
    printf("usage: logseal vault release --keys KEYS --vault VAULTDIR "
           "--case REF\n\n"
           "Lift every legal hold placed for case REF (recorded in the\n"
           "signed audit log).\n\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 done, 4 no hold of that case, 3 the audit log does not\n"
           "verify, 1 error\n");
}

static int release_run(struct lsl_cli_session *ss, const char *ref)
{
    struct lsl_buf esc = {0};
    size_t n = 0;
    int rc = lsl_cli_session_open(ss);

    /* The log keeps case references escaped: compare them so. */
    if (rc == 0)
        rc = lsl_audit_escape(&esc, ref);
    if (rc == 0)
        rc = lsl_buf_putc(&esc, '\0');
    if (rc == 0)
        n = lsl_ledger_holds_of(ss->ledger, esc.p);
    lsl_buf_free(&esc);
    if (rc == 0 && n == 0) {
        lsl_log_error("no hold of case %s in %s", ref, ss->vault);
        return LSL_ENOTFOUND;
    }
    if (rc == 0)
        rc = lsl_cli_session_record(ss, "release", "holds", n);
    if (rc == 0)
        printf("released %zu holds of case %s\n", n, ref);
    return rc;
}

int lsl_cmd_vault_release(int argc, char **argv)
{
    struct lsl_cli_session ss;
    struct lsl_vault_opts o;
    int rc = lsl_cli_vault_parse("vault release", argc, argv, &o, release_help),
        code;

    if (rc != LSL_CLI_GO)
        return rc;
    if (!o.ref)
        return lsl_cli_usage_error("vault release", "--case is required");
    lsl_cli_vault_session(&ss, &o);
    rc = release_run(&ss, o.ref);
    code = lsl_cli_session_exit(&ss, rc, LSL_EXIT_OK);
    lsl_cli_session_close(&ss);
    return code;
}
