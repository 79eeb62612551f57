/*
 * `logseal unseal`: originals of given tokens, for a lawful request. Reads
 * every vault file, keeps only the records of the asked tokens, merges
 * their seen ranges, prints one line per token and appends an audit record.
 * Integrity problems are reported per file; a chunk that fails
 * authentication makes the exit code 3 even if every token was found.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "cli.h"
#include "audit.h"
#include "officer.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "logseal/vault.h"

struct want {
    size_t order; /* position on the command line */
    struct lsl_token tok;
    char text[LSL_IP_TEXT_MAX]; /* a token or an address */
    bool found;
    int64_t first, last;
    bool has_value;
    size_t value_off; /* in unseal.values */
    size_t value_len;
};

struct unseal {
    struct want *w;
    size_t n, cap;
    struct lsl_buf values; /* originals, wiped before free */
    int integrity; /* first integrity error */
    bool truncated;
};

static void help(void)
{
    printf("usage: logseal unseal --keys KEYS --vault VAULTDIR --case REF\n"
           "                      [--share FILE]... [--passphrase-fd FD]\n"
           "                      [--tokens-from FILE|-] [TOKEN|ADDRESS...]\n\n"
           "An ADDRESS is one written by the prefix-preserving IP mode.\n"
           "Print, for each token: TOKEN, class, original value, first and\n"
           "last seen (UTC), tab-separated; 'not-found' if the vault has no\n"
           "record of it. Every call is appended to the signed audit log\n"
           "VAULTDIR/audit.log with the operator ($LOGSEAL_OPERATOR or the\n"
           "login name), the case reference and counts, before anything is\n"
           "printed.\n\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 all found, 4 some not found, 3 vault integrity failure, "
           "1 error\n");
}

/*
 * Class and hash bytes, not the epoch id: keyed hashes of distinct epochs
 * never meet, and the vault key of a prefix-mode address is computed
 * without knowing its epoch (kid 0), so it must match any.
 */
static int cmp_tok(const void *a, const void *b)
{
    const struct want *x = a, *y = b;
    int c = memcmp(x->tok.hash, y->tok.hash, sizeof(x->tok.hash));

    if (c)
        return c;
    if (x->tok.cls != y->tok.cls)
        return x->tok.cls < y->tok.cls ? -1 : 1;
    return 0;
}

static int cmp_order(const void *a, const void *b)
{
    const struct want *x = a, *y = b;

    return x->order < y->order ? -1 : x->order > y->order;
}

static int add_want(struct unseal *u, const char *s, size_t len)
{
    struct lsl_ipaddr ip;
    struct want *w;

    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
                   s[len - 1] == ' '))
        len--;
    if (len == 0)
        return 0;
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 64;

        w = realloc(u->w, cap * sizeof(*w));
        if (!w)
            return -ENOMEM;
        u->w = w;
        u->cap = cap;
    }
    w = &u->w[u->n];
    memset(w, 0, sizeof(*w));
    w->order = u->n;
    if (lsl_token_parse(s, len, &w->tok) == 0) {
        lsl_token_format(&w->tok, w->text);
    } else if (lsl_ipaddr_parse(s, len, &ip) == 0) {
        /* A prefix-mode address: its vault key is computed from it. */
        lsl_ipaddr_lookup_token(&ip, 0, &w->tok);
        lsl_ipaddr_format(&ip, w->text);
    } else {
        lsl_log_error("'%.*s' is neither a token (e.g. ip_...) nor an "
                      "address written in prefix mode",
                      (int)(len > 40 ? 40 : len), s);
        return LSL_EUSAGE;
    }
    u->n++;
    return 0;
}

static int read_tokens_file(struct unseal *u, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    if (!f) {
        lsl_log_error("%s: %s", path, strerror(errno));
        return -errno;
    }
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0)
        rc = add_want(u, line, (size_t)n);
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int on_record(const struct lsl_vault_record *r, void *ud)
{
    struct unseal *u = ud;
    struct want key = { .tok = r->tok }, *w;

    w = bsearch(&key, u->w, u->n, sizeof(*w), cmp_tok);
    if (!w)
        return 0;
    if (!w->found || r->first_seen < w->first)
        w->first = r->first_seen;
    if (!w->found || r->last_seen > w->last)
        w->last = r->last_seen;
    w->found = true;
    if (r->type == LSL_VAULT_REC_MAP && !w->has_value) {
        w->value_off = u->values.len;
        w->value_len = r->value.len;
        w->has_value = true;
        return lsl_buf_append(&u->values, r->value.p, r->value.len);
    }
    return 0;
}

static void on_file(const char *path, const struct lsl_vault_file_info *info,
                    int rc, void *ud)
{
    struct unseal *u = ud;

    if (rc == 0)
        return;
    if (rc == LSL_ETRUNC) {
        lsl_log_warn("%s: cut short after %llu intact chunks (a crash, or "
                     "still being written); its intact records were used",
                     path, (unsigned long long)info->chunks);
        u->truncated = true;
        return;
    }
    lsl_log_error("%s: integrity failure at byte %llu: %s; records after "
                  "it were not used",
                  path, (unsigned long long)info->error_offset,
                  lsl_strerror(rc));
    if (!u->integrity)
        u->integrity = rc;
}

static int print_results(const struct unseal *u, size_t *missing)
{
    char first[32], last[32];

    *missing = 0;
    for (size_t i = 0; i < u->n; i++) {
        const struct want *w = &u->w[i];

        if (!w->has_value) {
            printf("%s\tnot-found\n", w->text);
            (*missing)++;
            continue;
        }
        lsl_cli_iso_time(w->first, first);
        lsl_cli_iso_time(w->last, last);
        printf("%s\t%s\t%.*s\t%s\t%s\n", w->text,
               lsl_class_name((enum lsl_class)w->tok.cls), (int)w->value_len,
               u->values.p + w->value_off, first, last);
    }
    return fflush(stdout) == 0 ? 0 : -errno;
}

static void free_wants(struct unseal *u)
{
    if (u->values.p)
        sodium_memzero(u->values.p, u->values.cap);
    lsl_buf_free(&u->values);
    free(u->w);
}

/*
 * Look the tokens up, record the action in the audit log, then print. The
 * audit record comes first: nothing is revealed that is not audited.
 */
static int unseal_run(struct unseal *u, const char *keys, const char *vault,
                      const char *ref, size_t *missing)
{
    size_t found = 0;
    struct lsl_officer_key *key = NULL;
    char query[64];
    int rc;

    rc = lsl_cli_officer_open(keys, &key);
    if (rc)
        return rc;
    qsort(u->w, u->n, sizeof(*u->w), cmp_tok);
    rc = lsl_vault_read_dir(vault, key, on_record, u, on_file, u);
    qsort(u->w, u->n, sizeof(*u->w), cmp_order);
    if (rc && rc != LSL_ETRUNC && rc != LSL_EAUTH && rc != LSL_ECORRUPT &&
        rc != LSL_EFORMAT) {
        lsl_log_error("%s: cannot read the vault: %s", vault,
                      lsl_strerror(rc));
        lsl_officer_key_close(key);
        return rc;
    }
    for (size_t i = 0; i < u->n; i++)
        found += u->w[i].has_value;
    snprintf(query, sizeof(query), "%zu tokens", u->n);
    rc = lsl_audit_append(vault, key, ref, "unseal", query, found);
    lsl_officer_key_close(key);
    if (rc)
        return rc;
    return print_results(u, missing);
}

int lsl_cmd_unseal(int argc, char **argv)
{
    static const struct option opts[] = {
        { "keys", required_argument, NULL, 'k' },
        { "vault", required_argument, NULL, 'v' },
        { "case", required_argument, NULL, 'c' },
        { "tokens-from", required_argument, NULL, 't' },
        LSL_CLI_OFFICER_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *keys = NULL, *vault = NULL, *ref = NULL, *from = NULL;
    struct unseal u = { 0 };
    size_t missing = 0;
    int c, rc = 0, code;

    while ((c = getopt_long(argc, argv, "k:v:c:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': keys = optarg; break;
        case 'v': vault = optarg; break;
        case 'c': ref = optarg; break;
        case 't': from = optarg; break;
        case LSL_CLI_OPT_SHARE:
        case LSL_CLI_OPT_PASSPHRASE_FD:
            if (lsl_cli_officer_option(c, optarg) != 0)
                return LSL_EXIT_USAGE;
            break;
        case 'h':
            help();
            return LSL_EXIT_OK;
        default:
            return lsl_cli_usage_error("unseal", "bad option");
        }
    }
    if (!keys || !vault || !ref || !ref[0])
        return lsl_cli_usage_error("unseal", "--keys, --vault and --case "
                                             "are required");
    for (int i = optind; i < argc && rc == 0; i++)
        rc = add_want(&u, argv[i], strlen(argv[i]));
    if (rc == 0 && from)
        rc = read_tokens_file(&u, from);
    if (rc == 0 && u.n == 0)
        rc = lsl_cli_usage_error("unseal", "no token given");
    else if (rc == 0)
        rc = unseal_run(&u, keys, vault, ref, &missing);
    if (rc == LSL_EXIT_USAGE || rc == LSL_EUSAGE)
        code = LSL_EXIT_USAGE;
    else if (rc)
        code = LSL_EXIT_ERROR;
    else if (u.integrity)
        code = LSL_EXIT_INTEGRITY;
    else
        code = missing ? LSL_EXIT_NOTFOUND : LSL_EXIT_OK;
    free_wants(&u);
    return code;
}
