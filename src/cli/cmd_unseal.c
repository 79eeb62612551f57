/*
 * `logseal unseal`: originals of given tokens, for a lawful request. Reads
 * the vault (through the sealed index where it covers a file, else the
 * whole file; records verified against their tokens, the writers'
 * chains checked), keeps only the records of the asked tokens (merged per
 * token by a vault index), appends an audit record naming the tokens,
 * then prints one line (or JSON object) per token. With --line, the
 * tokens are those found in one pseudonymized log line, which is also
 * printed with them restored. Tokens an erase record erased are reported
 * as erased even if a copy of their mapping survives; tokens two records
 * map differently as conflict. Integrity problems are reported per file
 * and make the exit code 3.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli_internal.h"
#include "logseal/array.h"
#include "logseal/log.h"
#include "officer_internal.h"
#include "session_internal.h"

struct want {
    size_t order; /* position on the command line or in the line */
    struct lsl_token tok;
    char text[LSL_IP_TEXT_MAX]; /* a token or an address */
    /* The prefix-mode reading of the fd00::/8 address of the want before
     * it (which holds its ip6-mode reading): printed in its place when
     * that one is not found. */
    bool alt;
};

struct unseal {
    struct want *w;
    size_t n, cap;
    const char *line; /* --line */
    bool json;
    struct lsl_vault_index *ix;
    struct lsl_cli_session ss;
};

enum outcome { FOUND, NOT_FOUND, ERASED, CONFLICT };

static const char *const outcome_names[] = {"found", "not-found", "erased",
                                            "conflict"};

static void help(void)
{
    printf("usage: logseal unseal --keys KEYS --vault VAULTDIR --case REF\n"
           "                      [--share FILE]... [--passphrase-fd FD]\n"
           "                      [--json] [--tokens-from FILE|-] "
           "[TOKEN|ADDRESS...]\n"
           "       logseal unseal ... [--json] --line 'PSEUDONYMIZED LINE'\n\n"
           "An ADDRESS is one as the output holds it: written by the ip6\n"
           "mode (fd00::/8, the default for address fields) or by the\n"
           "prefix-preserving mode; --line reads both kinds too.\n"
           "Print, for each token: TOKEN, class, original value, first and\n"
           "last seen (UTC), tab-separated; 'not-found' if the vault has no\n"
           "record of it, 'erased' if its mapping was erased, 'conflict' if\n"
           "two records disagree (an integrity failure). --line takes\n"
           "every token of one pseudonymized log line, prints the line with\n"
           "the originals restored, then the table. --json prints one JSON\n"
           "object per token (token, class, value, first_seen, last_seen,\n"
           "sources, or status not-found/erased) and, with --line, a last\n"
           "object {\"line\": restored line}. Every call is appended to the\n"
           "signed audit log VAULTDIR/audit.log with the operator\n"
           "($LOGSEAL_OPERATOR or the login name), the case reference, the\n"
           "tokens asked for and the share holders, before anything is\n"
           "printed. Every record is checked against its token; a vault\n"
           "file forged, cut short or missing is reported (exit "
           "3).\n\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 all found, 4 some not found or erased, 3 integrity\n"
           "failure (vault, audit log) or a wrong officer key, 1 error\n");
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

/*
 * A token, or an address written in prefix mode, or one in fd00::/8
 * written by the ip6 mode (*ip6 set, tok its token; *alt its prefix-mode
 * reading, as such an address may be either). 0 or LSL_EUSAGE.
 */
static int parse_want(const char *s, size_t len, struct lsl_token *tok,
                      struct lsl_token *alt, bool *ip6,
                      char text[LSL_IP_TEXT_MAX])
{
    struct lsl_ipaddr ip;
    size_t pos = 0, tlen;

    *ip6 = false;
    if (lsl_token_parse(s, len, tok) == 0) {
        lsl_token_format(tok, text);
        return 0;
    }
    if (lsl_ipaddr_parse(s, len, &ip) == 0) {
        /* A prefix-mode address: its vault key is computed from it. */
        lsl_ipaddr_lookup_token(&ip, 0, tok);
        lsl_ipaddr_format(&ip, text);
        if (lsl_token_scan_any(text, strlen(text), &pos, &tlen, alt) &&
            pos == 0 && tlen == strlen(text)) {
            struct lsl_token t = *tok;

            *tok = *alt;
            tok->kid = 0;
            *alt = t;
            *ip6 = true;
        }
        return 0;
    }
    lsl_log_error("'%.*s' is neither a token (e.g. ip_...) nor an "
                  "address written in ip6 or prefix mode",
                  (int)(len > 40 ? 40 : len), s);
    return LSL_EUSAGE;
}

static struct want *want_slot(struct unseal *u)
{
    if (lsl_array_grow(&u->w, &u->cap, u->n + 1, sizeof(*u->w), 64))
        return NULL;
    u->w[u->n] = (struct want){.order = u->n};
    return &u->w[u->n++];
}

/* Add a token; with `dedup`, one already asked for is skipped. */
static int add_want(struct unseal *u, const char *s, size_t len, bool dedup)
{
    char text[LSL_IP_TEXT_MAX];
    struct lsl_token tok, alt;
    struct want *w;
    bool ip6;

    while (len &&
           (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
        len--;
    if (len == 0)
        return 0;
    if (parse_want(s, len, &tok, &alt, &ip6, text) != 0)
        return LSL_EUSAGE;
    for (size_t i = 0; dedup && i < u->n; i++) {
        if (!u->w[i].alt && lsl_token_equal(&u->w[i].tok, &tok))
            return 0;
    }
    if (!(w = want_slot(u)))
        return -ENOMEM;
    w->tok = tok;
    memcpy(w->text, text, sizeof(w->text));
    if (ip6) {
        if (!(w = want_slot(u)))
            return -ENOMEM;
        w->tok = alt;
        w->alt = true;
        memcpy(w->text, text, sizeof(w->text));
    }
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
        rc = add_want(u, line, (size_t)n, false);
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int add_line_tokens(struct unseal *u)
{
    size_t len = strlen(u->line), pos = 0, tlen;
    struct lsl_token t;
    int rc = 0;

    while (rc == 0 && lsl_token_scan_any(u->line, len, &pos, &tlen, &t)) {
        rc = add_want(u, u->line + pos, tlen, true);
        pos += tlen;
    }
    return rc;
}

static int on_record(const struct lsl_vault_record *r, void *ud)
{
    struct unseal *u = ud;
    struct want key = {.tok = r->tok}, *w;
    struct lsl_vault_record asked = *r;

    w = bsearch(&key, u->w, u->n, sizeof(*u->w), cmp_tok);
    if (!w)
        return 0;
    /* Merged under the token as asked (a prefix-mode address has kid 0). */
    asked.tok = w->tok;
    return lsl_vault_index_add(&asked, u->ix);
}

static enum outcome outcome_of(struct unseal *u, const struct lsl_token *t,
                               const struct lsl_vault_index_entry **e)
{
    *e = lsl_vault_index_lookup(u->ix, t);
    if (lsl_ledger_erased(u->ss.ledger, t))
        return ERASED;
    if (*e && (*e)->conflict)
        return CONFLICT;
    return *e && (*e)->has_value ? FOUND : NOT_FOUND;
}

static void print_json(const struct want *w, enum outcome o,
                       const struct lsl_vault_index_entry *e)
{
    char first[32], last[32];

    printf("{\"token\":\"%s\",\"class\":\"%s\"", w->text,
           lsl_class_name((enum lsl_class)w->tok.cls));
    if (o != FOUND) {
        printf(",\"status\":\"%s\"}\n", outcome_names[o]);
        return;
    }
    lsl_cli_iso_time(e->first_seen, first);
    lsl_cli_iso_time(e->last_seen, last);
    fputs(",\"value\":", stdout);
    lsl_cli_json_str(stdout, e->value.p, e->value.len);
    printf(",\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"sources\":[", first,
           last);
    for (size_t i = 0; i < e->nsources; i++) {
        fputs(i ? "," : "", stdout);
        lsl_cli_json_str(stdout, e->sources[i], strlen(e->sources[i]));
    }
    fputs("]}\n", stdout);
}

static void print_text(const struct want *w, enum outcome o,
                       const struct lsl_vault_index_entry *e)
{
    char first[32], last[32];

    if (o != FOUND) {
        printf("%s\t%s\n", w->text, outcome_names[o]);
        return;
    }
    lsl_cli_iso_time(e->first_seen, first);
    lsl_cli_iso_time(e->last_seen, last);
    printf("%s\t%s\t%.*s\t%s\t%s\n", w->text,
           lsl_class_name((enum lsl_class)w->tok.cls), (int)e->value.len,
           e->value.p, first, last);
}

/* The --line text with every found token replaced by its original. */
static int print_line(struct unseal *u)
{
    size_t len = strlen(u->line), pos = 0, done = 0, tlen;
    const struct lsl_vault_index_entry *e;
    struct lsl_buf b = {0};
    struct lsl_token t;
    int rc = 0;

    while (rc == 0 && lsl_token_scan_any(u->line, len, &pos, &tlen, &t)) {
        if (t.kid == LSL_TOKEN_KID_IP6)
            t.kid = 0; /* as asked: the index holds it under kid 0 */
        if (outcome_of(u, &t, &e) == FOUND) {
            rc = lsl_buf_append(&b, u->line + done, pos - done);
            if (rc == 0)
                rc = lsl_buf_append(&b, e->value.p, e->value.len);
            done = pos + tlen;
        }
        pos += tlen;
    }
    if (rc == 0)
        rc = lsl_buf_append(&b, u->line + done, len - done);
    if (rc == 0 && u->json) {
        fputs("{\"line\":", stdout);
        lsl_cli_json_str(stdout, b.p, b.len);
        fputs("}\n", stdout);
    } else if (rc == 0) {
        printf("%.*s\n", (int)b.len, b.p);
    }
    lsl_buf_free(&b); /* wipes: it held originals */
    return rc;
}

static int print_results(struct unseal *u, size_t *missing)
{
    const struct lsl_vault_index_entry *e;

    int rc = 0;

    *missing = 0;
    if (u->line && !u->json)
        rc = print_line(u);
    for (size_t i = 0; i < u->n; i++) {
        const struct want *w = &u->w[i];
        enum outcome o = outcome_of(u, &w->tok, &e);

        if (w->alt)
            continue;
        /* An fd00::/8 address found in its prefix-mode reading only. */
        if (o != FOUND && i + 1 < u->n && u->w[i + 1].alt &&
            outcome_of(u, &u->w[i + 1].tok, &e) == FOUND) {
            w = &u->w[i + 1];
            o = FOUND;
        }
        *missing += o != FOUND;
        if (u->json)
            print_json(w, o, e);
        else
            print_text(w, o, e);
    }
    if (rc == 0 && u->line && u->json)
        rc = print_line(u);
    if (fflush(stdout) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

static void free_unseal(struct unseal *u)
{
    lsl_vault_index_free(u->ix); /* wipes the originals */
    lsl_cli_session_close(&u->ss);
    free(u->w);
}

/* The tokens asked for, as items of the audit record (tokens only). */
static int audit_items(struct unseal *u, size_t *found)
{
    const struct lsl_vault_index_entry *e;
    int rc = 0;

    *found = 0;
    for (size_t i = 0; rc == 0 && i < u->n; i++) {
        *found += outcome_of(u, &u->w[i].tok, &e) == FOUND;
        rc = lsl_cli_session_item_token(&u->ss, "tok", &u->w[i].tok);
    }
    return rc;
}

/* Read the vault for the tokens asked (through the index if there is). */
static int find_tokens(struct unseal *u)
{
    struct lsl_token *toks = malloc(u->n * sizeof(*toks));
    struct lsl_cli_want want = {.toks = toks, .n = u->n};
    int rc;

    if (!toks)
        return -ENOMEM;
    for (size_t i = 0; i < u->n; i++)
        toks[i] = u->w[i].tok;
    rc = lsl_cli_session_find(&u->ss, &want, on_record, u);
    free(toks);
    return rc;
}

/*
 * Look the tokens up, record the action in the audit log, then print. The
 * audit record comes first: nothing is revealed that is not audited.
 */
static int unseal_run(struct unseal *u, size_t *missing)
{
    size_t found = 0;
    char query[64];
    int rc;

    rc = lsl_cli_session_open(&u->ss);
    if (rc == 0)
        rc = lsl_vault_index_open(&u->ix);
    if (rc)
        return rc;
    qsort(u->w, u->n, sizeof(*u->w), cmp_tok);
    rc = find_tokens(u);
    qsort(u->w, u->n, sizeof(*u->w), cmp_order);
    if (rc == 0 && lsl_vault_index_conflicts(u->ix)) {
        lsl_log_error("%s: %zu tokens have records with different values: "
                      "an integrity failure (reported as conflict)",
                      u->ss.vault, lsl_vault_index_conflicts(u->ix));
        u->ss.integrity = LSL_ECORRUPT;
    }
    if (rc == 0)
        rc = audit_items(u, &found);
    snprintf(query, sizeof(query), "%s%zu tokens", u->line ? "line: " : "",
             u->n);
    if (rc == 0)
        rc = lsl_cli_session_record(&u->ss, "unseal", query, found);
    if (rc == 0)
        rc = print_results(u, missing);
    return rc;
}

int lsl_cmd_unseal(int argc, char **argv)
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},
        {"vault", required_argument, NULL, 'v'},
        {"case", required_argument, NULL, 'c'},
        {"tokens-from", required_argument, NULL, 't'},
        {"line", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        LSL_CLI_OFFICER_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *from = NULL;
    struct unseal u = {0};
    size_t missing = 0;
    int c, rc = 0, code;

    while ((c = getopt_long(argc, argv, "k:v:c:t:l:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            u.ss.keys = optarg;
            break;
        case 'v':
            u.ss.vault = optarg;
            break;
        case 'c':
            u.ss.case_ref = optarg;
            break;
        case 't':
            from = optarg;
            break;
        case 'l':
            u.line = optarg;
            break;
        case 'j':
            u.json = true;
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
            return lsl_cli_usage_error("unseal", "bad option");
        }
    }
    if (!u.ss.keys || !u.ss.vault || !u.ss.case_ref || !u.ss.case_ref[0])
        return lsl_cli_usage_error("unseal", "--keys, --vault and --case "
                                             "are required");
    if (u.line && (from || optind < argc))
        return lsl_cli_usage_error("unseal", "--line takes no other "
                                             "tokens");
    for (int i = optind; i < argc && rc == 0; i++)
        rc = add_want(&u, argv[i], strlen(argv[i]), false);
    if (rc == 0 && from)
        rc = read_tokens_file(&u, from);
    if (rc == 0 && u.line)
        rc = add_line_tokens(&u);
    if (rc == 0 && u.n == 0)
        rc = lsl_cli_usage_error("unseal", u.line ? "no token in the line"
                                                  : "no token given");
    else if (rc == 0)
        rc = unseal_run(&u, &missing);
    code = lsl_cli_session_exit(&u.ss, rc,
                                missing ? LSL_EXIT_NOTFOUND : LSL_EXIT_OK);
    free_unseal(&u);
    return code;
}
