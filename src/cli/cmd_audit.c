/*
 * `logseal audit verify|head|show`: check the signed, hash-chained audit
 * log of a vault (against a head kept outside the vault, too), print its
 * head to keep outside, or list its records. None needs a secret:
 * verification uses audit.pub (the vault's copy, or a trusted one given
 * with --pub).
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include "cli_internal.h"
#include "logseal/auditlog.h"
#include "logseal/buf.h"
#include "logseal/file.h"
#include "logseal/log.h"

/* Hex digits of the head hash `audit head` prints: 64 bits. */
#define HEAD_HEX 16

struct audit_args {
    const char *vault;
    const char *pub;      /* verify, head: trusted audit.pub */
    const char *case_ref; /* show: filter */
    const char *head;     /* verify: SEQ:HEX kept outside the vault */
    char log_path[PATH_MAX];
    char vault_pub[PATH_MAX];
};

static void help_verify(void)
{
    printf("usage: logseal audit verify --vault VAULTDIR [--pub KEYS/"
           "audit.pub]\n"
           "                            [--head SEQ:HASH]\n\n"
           "Check every record of VAULTDIR/audit.log: its signature (made\n"
           "with the officer key), its sequence number and its link to the\n"
           "record before. Names the first bad record: its line and why\n"
           "(edited or bad signature, deleted, reordered, inserted, torn).\n"
           "Uses VAULTDIR/audit.pub unless --pub gives a trusted copy (the\n"
           "one keygen wrote next to vault.pub), which is then also compared\n"
           "with the vault's. --head checks the log against a head noted\n"
           "earlier with 'logseal audit head' (kept outside the vault): the\n"
           "log must still hold that record, unchanged; a log deleted, cut\n"
           "or replaced by an older copy fails. Prints the record count and\n"
           "the head.\n\n"
           "exit: 0 intact, 3 a bad or torn record, a replaced audit.pub or\n"
           "a head the log does not hold, 1 error\n");
}

static void help_head(void)
{
    printf("usage: logseal audit head --vault VAULTDIR [--pub KEYS/"
           "audit.pub]\n\n"
           "Verify VAULTDIR/audit.log and print its head, SEQ:HASH (the\n"
           "record count and the first 16 hex digits of the last record's\n"
           "hash). Keep it outside the vault (a ticket, the case file,\n"
           "paper) and check the log against it later with 'logseal audit\n"
           "verify --head SEQ:HASH'.\n\n"
           "exit: 0 printed, 3 the log does not verify, 1 error\n");
}

static void help_show(void)
{
    printf("usage: logseal audit show --vault VAULTDIR [--case PATTERN]\n\n"
           "Print the records of VAULTDIR/audit.log (all, or those whose\n"
           "case matches PATTERN: the reference itself, or a shell pattern\n"
           "such as 'COURT-2025-*'; letter case is ignored): seq, time\n"
           "(UTC), operator, case, action, query, count and items (the\n"
           "tokens, shares and files the action touched), tab-separated,\n"
           "text escaped as stored. Nothing is verified: use 'logseal audit\n"
           "verify' for that.\n\n"
           "exit: 0 records shown, 4 no record matches, 3 a line is not a\n"
           "record, 1 error\n");
}

/*
 * Parse --vault, --pub, --case, --head: LSL_CLI_GO, or the exit code to
 * end with.
 */
static int parse_args(const char *cmd, int argc, char **argv,
                      struct audit_args *a, void (*help)(void))
{
    static const struct option opts[] = {
        {"vault", required_argument, NULL, 'v'},
        {"pub", required_argument, NULL, 'p'},
        {"case", required_argument, NULL, 'c'},
        {"head", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool show = strcmp(cmd, "audit show") == 0;
    bool verify = strcmp(cmd, "audit verify") == 0;
    int c;

    while ((c = getopt_long(argc, argv, "v:p:c:h", opts, NULL)) != -1) {
        if (c == 'h') {
            help();
            return LSL_EXIT_OK;
        }
        if (c == 'v')
            a->vault = optarg;
        else if (c == 'p' && !show)
            a->pub = optarg;
        else if (c == 'c' && show)
            a->case_ref = optarg;
        else if (c == 'H' && verify)
            a->head = optarg;
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

/* A head SEQ:HEX (at least HEAD_HEX hex digits) as noted earlier. */
struct head_check {
    uint64_t seq;
    char hex[2 * LSL_AUDIT_HASH_BYTES + 1];
    bool found, same;
};

static int parse_head(const char *text, struct head_check *h)
{
    char *end;
    size_t n;

    memset(h, 0, sizeof(*h));
    h->seq = strtoull(text, &end, 10);
    n = *end == ':' ? strlen(end + 1) : 0;
    if (end == text || h->seq == 0 || n < HEAD_HEX || n > sizeof(h->hex) - 1 ||
        strspn(end + 1, "0123456789abcdef") != n)
        return lsl_cli_usage_error("audit verify",
                                   "--head takes SEQ:HASH as 'logseal audit "
                                   "head' prints it");
    memcpy(h->hex, end + 1, n + 1);
    return 0;
}

static int match_head(const struct lsl_audit_record *r, void *ud)
{
    struct head_check *h = ud;
    char hex[2 * LSL_AUDIT_HASH_BYTES + 1];

    if (r->seq != h->seq)
        return 0;
    sodium_bin2hex(hex, sizeof(hex), r->hash, sizeof(r->hash));
    h->found = true;
    h->same = strncmp(hex, h->hex, strlen(h->hex)) == 0;
    return 0;
}

/* The log against the head kept outside the vault. */
static int check_head(const struct audit_args *a, const struct head_check *h)
{
    if (!a->head || (h->found && h->same))
        return LSL_EXIT_OK;
    lsl_log_error("%s: %s %llu noted as --head: the log was %s; the records "
                  "after the change cannot be trusted",
                  a->log_path,
                  h->found ? "record differs from" : "lacks record",
                  (unsigned long long)h->seq,
                  h->found ? "replaced (another chain, or a replayed copy)"
                           : "deleted or cut, or replaced by an older copy");
    return LSL_EXIT_INTEGRITY;
}

/* Verify and report. Fills v. -1 if good, else a non-zero exit code. */
static int verify_log(const struct audit_args *a, struct head_check *h,
                      struct lsl_audit_verdict *v)
{
    struct lsl_audit_pub pub;
    int code = load_pub(a, &pub), rc;

    if (code != LSL_EXIT_OK)
        return code;
    rc = lsl_audit_verify_each(a->log_path, &pub, match_head, h, v);
    if (rc == LSL_EAUTH || rc == LSL_ETRUNC) {
        lsl_log_error("%s: line %llu: %s: %s (the %llu records before it "
                      "are intact)",
                      a->log_path, (unsigned long long)v->bad_line,
                      lsl_audit_fault_name(v->fault), v->detail,
                      (unsigned long long)v->records);
        return LSL_EXIT_INTEGRITY;
    }
    if (rc) {
        lsl_log_error("%s: cannot read the audit log: %s%s", a->log_path,
                      lsl_strerror(rc),
                      rc == -ENOENT  ? " (audit.pub exists, so records were "
                                       "written: the log was deleted)"
                      : rc == -ELOOP ? " (it is a symlink: refused)"
                                     : "");
        return rc == -ENOENT || rc == -ELOOP ? LSL_EXIT_INTEGRITY
                                             : LSL_EXIT_ERROR;
    }
    if (v->records == 0) {
        lsl_log_error("%s: empty, but audit.pub exists: its records were "
                      "deleted (or the first append failed)",
                      a->log_path);
        return LSL_EXIT_INTEGRITY;
    }
    return -1;
}

static int audit_verify(int argc, char **argv)
{
    struct audit_args a = {0};
    struct lsl_audit_verdict v;
    struct head_check h = {0};
    char head[2 * LSL_AUDIT_HASH_BYTES + 1];
    int code;

    code = parse_args("audit verify", argc, argv, &a, help_verify);
    if (code != LSL_CLI_GO)
        return code;
    if (a.head && parse_head(a.head, &h))
        return LSL_EXIT_USAGE;
    if (!a.head && !exists(a.log_path) && !exists(a.vault_pub)) {
        printf("%s: no audit records yet\n", a.log_path);
        return LSL_EXIT_OK;
    }
    code = verify_log(&a, &h, &v);
    if (code >= 0)
        return code;
    code = check_head(&a, &h);
    if (code != LSL_EXIT_OK)
        return code;
    printf("%s: %llu records, signatures and chain intact%s; head %llu:%s\n",
           a.log_path, (unsigned long long)v.records,
           a.head ? ", it holds the head given" : "",
           (unsigned long long)v.records,
           sodium_bin2hex(head, sizeof(head), v.head, sizeof(v.head)));
    return LSL_EXIT_OK;
}

static int audit_head(int argc, char **argv)
{
    struct audit_args a = {0};
    struct lsl_audit_verdict v;
    struct head_check h = {0};
    char head[2 * LSL_AUDIT_HASH_BYTES + 1];
    int code = parse_args("audit head", argc, argv, &a, help_head);

    if (code != LSL_CLI_GO)
        return code;
    code = verify_log(&a, &h, &v);
    if (code >= 0)
        return code;
    sodium_bin2hex(head, sizeof(head), v.head, sizeof(v.head));
    head[HEAD_HEX] = '\0';
    printf("%llu:%s\n", (unsigned long long)v.records, head);
    return fflush(stdout) == 0 ? LSL_EXIT_OK : LSL_EXIT_ERROR;
}

struct show {
    struct lsl_buf want; /* escaped --case pattern, NUL-terminated */
    struct lsl_buf field;
    bool filter;
    uint64_t shown;
};

/* The case field matches the pattern (as escaped text, letter case
 * ignored): the exact reference, or a shell pattern. */
static bool case_matches(struct show *s, struct lsl_span c)
{
    s->field.len = 0;
    if (lsl_buf_append(&s->field, c.p, c.len) != 0 ||
        lsl_buf_putc(&s->field, '\0') != 0)
        return false;
    return fnmatch(s->want.p, s->field.p, FNM_NOESCAPE | FNM_CASEFOLD) == 0;
}

static int show_one(const struct lsl_audit_record *r, void *ud)
{
    struct show *s = ud;

    if (s->filter && !case_matches(s, r->case_ref))
        return 0;
    printf("%llu\t%.*s\t%.*s\t%.*s\t%.*s\t%.*s\t%llu\t%.*s\n",
           (unsigned long long)r->seq, (int)r->time.len, r->time.p,
           (int)r->operator_name.len, r->operator_name.p, (int)r->case_ref.len,
           r->case_ref.p, (int)r->action.len, r->action.p, (int)r->query.len,
           r->query.p, (unsigned long long)r->count, (int)r->items.len,
           r->items.p);
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
    if (rc == 0 && s.filter)
        rc = lsl_buf_putc(&s.want, '\0');
    if (rc == 0)
        rc = lsl_audit_read(a.log_path, show_one, &s, &bad);
    lsl_buf_free(&s.want);
    lsl_buf_free(&s.field);
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
    if (fflush(stdout) != 0)
        return LSL_EXIT_ERROR;
    if (s.filter && s.shown == 0) {
        lsl_log_error("%s: no record of a case matching '%s'", a.log_path,
                      a.case_ref);
        return LSL_EXIT_NOTFOUND;
    }
    return LSL_EXIT_OK;
}

static const struct lsl_cmd audit_subcommands[] = {
    {"verify", "check signatures and the hash chain", audit_verify, false},
    {"head", "print the head to keep outside the vault", audit_head, false},
    {"show", "print the records (optionally of one case)", audit_show, false},
};

int lsl_cmd_audit(int argc, char **argv)
{
    return lsl_cli_dispatch("audit", audit_subcommands,
                            LSL_ARRAY_SIZE(audit_subcommands), argc, argv);
}
