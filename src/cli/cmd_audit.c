/*
 * `logseal audit verify|show`: check the signed, hash-chained audit log of
 * a vault, or list its records. Neither needs a secret: verification uses
 * audit.pub (the vault's copy, or a trusted one given with --pub).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include "cli_internal.h"
#include "logseal/audit.h"
#include "logseal/buf.h"
#include "logseal/file.h"
#include "logseal/log.h"

struct audit_args {
    const char *vault;
    const char *pub;      /* verify: trusted audit.pub */
    const char *case_ref; /* show: filter */
    char log_path[PATH_MAX];
    char vault_pub[PATH_MAX];
};

static void help_verify(void)
{
    printf("usage: logseal audit verify --vault VAULTDIR [--pub KEYS/"
           "audit.pub]\n\n"
           "Check every record of VAULTDIR/audit.log: its signature (made\n"
           "with the officer key), its sequence number and its link to the\n"
           "record before. Names the first bad record: its line and why\n"
           "(edited or bad signature, deleted, reordered, inserted). Uses\n"
           "VAULTDIR/audit.pub unless --pub gives a trusted copy (the one\n"
           "keygen wrote next to vault.pub), which is then also compared\n"
           "with the vault's. Prints the record count and the head hash:\n"
           "note it elsewhere to detect records later cut from the end.\n\n"
           "exit: 0 intact, 3 a bad record or a replaced audit.pub, 1 error\n");
}

static void help_show(void)
{
    printf("usage: logseal audit show --vault VAULTDIR [--case REF]\n\n"
           "Print the records of VAULTDIR/audit.log (all, or those of case\n"
           "REF): seq, time (UTC), operator, case, action, query, count,\n"
           "tab-separated, text escaped as stored. Nothing is verified:\n"
           "use 'logseal audit verify' for that.\n");
}

/* Parse --vault, --pub, --case: LSL_CLI_GO, or the exit code to end with. */
static int parse_args(const char *cmd, int argc, char **argv,
                      struct audit_args *a, void (*help)(void))
{
    static const struct option opts[] = {
        {"vault", required_argument, NULL, 'v'},
        {"pub", required_argument, NULL, 'p'},
        {"case", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool verify = strcmp(cmd, "audit verify") == 0;
    int c;

    while ((c = getopt_long(argc, argv, "v:p:c:h", opts, NULL)) != -1) {
        if (c == 'h') {
            help();
            return LSL_EXIT_OK;
        }
        if (c == 'v')
            a->vault = optarg;
        else if (c == 'p' && verify)
            a->pub = optarg;
        else if (c == 'c' && !verify)
            a->case_ref = optarg;
        else
            return lsl_cli_usage_error(cmd, "bad option");
    }
    if (!a->vault || optind != argc)
        return lsl_cli_usage_error(cmd, "--vault VAULTDIR is required");
    if (lsl_path_join(a->log_path, PATH_MAX, a->vault, LSL_AUDIT_LOG_NAME) ||
        lsl_path_join(a->vault_pub, PATH_MAX, a->vault, LSL_AUDIT_PUB_NAME))
        return lsl_cli_usage_error(cmd, "--vault: path too long");
    return LSL_CLI_GO;
}

static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* The key to verify with; with --pub, the vault's copy must equal it. */
static int load_pub(const struct audit_args *a, struct lsl_audit_pub *pub)
{
    struct lsl_audit_pub vault_copy;
    const char *path = a->pub ? a->pub : a->vault_pub;
    int rc = lsl_audit_pub_load(path, pub);

    if (rc) {
        lsl_log_error("%s: cannot load the audit verification key: %s%s", path,
                      lsl_strerror(rc),
                      rc == -ENOENT && !a->pub
                          ? " (no officer action was recorded yet, or it "
                            "was deleted: give --pub KEYS/audit.pub)"
                          : "");
        return LSL_EXIT_ERROR;
    }
    if (!a->pub)
        return LSL_EXIT_OK;
    rc = lsl_audit_pub_load(a->vault_pub, &vault_copy);
    if (rc == 0 && memcmp(&vault_copy, pub, sizeof(*pub)) != 0) {
        lsl_log_error("%s differs from %s: the vault's audit key was "
                      "replaced",
                      a->vault_pub, a->pub);
        return LSL_EXIT_INTEGRITY;
    }
    return LSL_EXIT_OK;
}

static int audit_verify(int argc, char **argv)
{
    struct audit_args a = {0};
    struct lsl_audit_verdict v;
    struct lsl_audit_pub pub;
    char head[2 * LSL_AUDIT_HASH_BYTES + 1];
    int code, rc;

    code = parse_args("audit verify", argc, argv, &a, help_verify);
    if (code != LSL_CLI_GO)
        return code;
    if (!exists(a.log_path) && !exists(a.vault_pub)) {
        printf("%s: no audit records yet\n", a.log_path);
        return LSL_EXIT_OK;
    }
    code = load_pub(&a, &pub);
    if (code != LSL_EXIT_OK)
        return code;
    rc = lsl_audit_verify(a.log_path, &pub, &v);
    if (rc == LSL_EAUTH) {
        lsl_log_error("%s: line %llu: %s: %s (the %llu records before it "
                      "are intact)",
                      a.log_path, (unsigned long long)v.bad_line,
                      lsl_audit_fault_name(v.fault), v.detail,
                      (unsigned long long)v.records);
        return LSL_EXIT_INTEGRITY;
    }
    if (rc) {
        lsl_log_error("%s: cannot read the audit log: %s%s", a.log_path,
                      lsl_strerror(rc),
                      rc == -ENOENT ? " (audit.pub exists, so records were "
                                      "written: the log was deleted)"
                                    : "");
        return rc == -ENOENT ? LSL_EXIT_INTEGRITY : LSL_EXIT_ERROR;
    }
    if (v.records == 0) {
        lsl_log_error("%s: empty, but audit.pub exists: its records were "
                      "deleted (or the first append failed)",
                      a.log_path);
        return LSL_EXIT_INTEGRITY;
    }
    printf("%s: %llu records, signatures and chain intact; head %s\n",
           a.log_path, (unsigned long long)v.records,
           sodium_bin2hex(head, sizeof(head), v.head, sizeof(v.head)));
    return LSL_EXIT_OK;
}

struct show {
    struct lsl_buf want; /* escaped --case, empty: all */
    bool filter;
    uint64_t shown;
};

static int show_one(const struct lsl_audit_record *r, void *ud)
{
    struct show *s = ud;

    if (s->filter && (r->case_ref.len != s->want.len ||
                      memcmp(r->case_ref.p, s->want.p, s->want.len) != 0))
        return 0;
    printf("%llu\t%.*s\t%.*s\t%.*s\t%.*s\t%.*s\t%llu\n",
           (unsigned long long)r->seq, (int)r->time.len, r->time.p,
           (int)r->operator_name.len, r->operator_name.p, (int)r->case_ref.len,
           r->case_ref.p, (int)r->action.len, r->action.p, (int)r->query.len,
           r->query.p, (unsigned long long)r->count);
    s->shown++;
    return 0;
}

static int audit_show(int argc, char **argv)
{
    struct audit_args a = {0};
    struct show s = {0};
    uint64_t bad = 0;
    int code, rc = 0;

    code = parse_args("audit show", argc, argv, &a, help_show);
    if (code != LSL_CLI_GO)
        return code;
    s.filter = a.case_ref != NULL;
    if (s.filter)
        rc = lsl_audit_escape(&s.want, a.case_ref);
    if (rc == 0)
        rc = lsl_audit_read(a.log_path, show_one, &s, &bad);
    lsl_buf_free(&s.want);
    if (rc == LSL_ECORRUPT) {
        lsl_log_error("%s: line %llu is not an audit record; run 'logseal "
                      "audit verify'",
                      a.log_path, (unsigned long long)bad);
        return LSL_EXIT_INTEGRITY;
    }
    if (rc == -ENOENT) {
        lsl_log_info("%s: no audit records", a.log_path);
        return LSL_EXIT_OK;
    }
    if (rc) {
        lsl_log_error("%s: %s", a.log_path, lsl_strerror(rc));
        return LSL_EXIT_ERROR;
    }
    return fflush(stdout) == 0 ? LSL_EXIT_OK : LSL_EXIT_ERROR;
}

static const struct lsl_cmd audit_subcommands[] = {
    {"verify", "check signatures and the hash chain", audit_verify, false},
    {"show", "print the records (optionally of one case)", audit_show, false},
};

int lsl_cmd_audit(int argc, char **argv)
{
    return lsl_cli_dispatch("audit", audit_subcommands,
                            LSL_ARRAY_SIZE(audit_subcommands), argc, argv);
}
