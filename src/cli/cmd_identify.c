/*
 * `logseal identify`: who had address A (and source port P) at time T, in
 * one command, for the most common lawful request. The address's tokens
 * are found in the vault by value (any epoch); every line of the given
 * segments holding one of them, with its own time within T +- window and,
 * with --port, P as a field of its own, is an answer. Every token in
 * those lines (the account, the device: the point of the request) is
 * then unsealed; the action is audited, naming each token, before the
 * lines are printed restored, each followed by its tokens' table.
 *
 * The port is matched as a whole number standing as a field: between
 * blanks or quotes, or as a JSON value ("port":P), never the port of an
 * address:port pair nor a part of a longer number.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli_internal.h"
#include "logseal/array.h"
#include "logseal/log.h"
#include "officer_internal.h"
#include "segscan_internal.h"
#include "session_internal.h"
#include "subject_internal.h"

struct hit {
    size_t file;
    uint64_t line;
    size_t off, len; /* the pseudonymized line in id->text */
};

struct identify {
    struct lsl_subject subj;
    int64_t at, window;
    const char *port; /* NULL: any */
    char **files;     /* the segments: given, or found under directories */
    size_t nfiles, file;
    struct lsl_cli_segments segs;
    struct lsl_buf text; /* matching lines, pseudonymized */
    struct lsl_buf line;
    struct hit *hits;
    size_t nhits, cap;
    struct lsl_tokset wanted; /* every token of the matching lines */
    struct lsl_vault_index *ix;
    struct lsl_cli_session ss;
};

static void help(void)
{
    printf("usage: logseal identify --keys KEYS --vault VAULTDIR --case REF\n"
           "         --address A --at T [--window SECONDS] [--port P]\n"
           "         SEGMENT|DIR...\n\n"
           "Who had address A at time T (and source port P): print every\n"
           "line of the pseudonymized SEGMENTs (gzip or plain; a DIR: the\n"
           "finished segments under it, any layout, whose partition is\n"
           "within an hour of T) that holds\n"
           "one of A's tokens, whose own time is within T +- SECONDS\n"
           "(default 1) and, with --port, that holds P as a field of its\n"
           "own (the source port the nginx-disclosure and posting rules\n"
           "keep in clear). Each line is printed with every token restored\n"
           "(the account and device that made the request), then a table of\n"
           "its tokens: TOKEN class original first-seen last-seen. T is\n"
           "ISO 8601 (UTC unless an offset is given) or a CLF stamp. The\n"
           "action is audited, naming every token restored, before anything\n"
           "is printed.\n\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 lines found, 4 none, 3 integrity failure or a wrong\n"
           "officer key, 1 error\n");
}

static bool is_word(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
}

/* P as a field of its own (see the file comment). */
static bool has_port(const char *s, size_t len, const char *port)
{
    size_t n = strlen(port);

    for (size_t i = 0; i + n <= len; i++) {
        const char *p = s + i;
        char before = i ? s[i - 1] : ' ', after = i + n < len ? p[n] : ' ';

        if (memcmp(p, port, n) != 0 || is_word(after) || after == ':' ||
            is_word(before))
            continue;
        /* "a:P" is an address's port; "\"port\":P" is a JSON value. */
        if (before == ':' && !(i >= 2 && s[i - 2] == '"'))
            continue;
        return true;
    }
    return false;
}

/*
 * An address the ip6 mode wrote holds no epoch: its token's is that of
 * the line's other tokens (one line is tokenized with one epoch's key),
 * or else of the subject's token it matches.
 */
static void line_epoch(const char *s, size_t len, struct identify *id,
                       struct lsl_token *t)
{
    const struct lsl_token *m;
    struct lsl_token o;
    size_t pos = 0, tlen;

    if (t->kid != LSL_TOKEN_KID_IP6)
        return;
    for (; lsl_token_scan_any(s, len, &pos, &tlen, &o); pos += tlen) {
        if (o.kid != LSL_TOKEN_KID_IP6) {
            t->kid = o.kid;
            return;
        }
    }
    m = lsl_tokset_match(&id->subj.toks, t);
    if (m)
        t->kid = m->kid;
    else if (id->subj.toks.n)
        t->kid = id->subj.toks.v[0].kid;
}

static int add_hit(struct identify *id, const char *s, size_t len, uint64_t no)
{
    size_t pos = 0, tlen;
    struct lsl_token t;
    int rc = lsl_array_grow(&id->hits, &id->cap, id->nhits + 1,
                            sizeof(*id->hits), 16);

    if (rc)
        return rc;
    id->hits[id->nhits++] = (struct hit){
        .file = id->file, .line = no, .off = id->text.len, .len = len};
    while (rc == 0 && lsl_token_scan_any(s, len, &pos, &tlen, &t)) {
        line_epoch(s, len, id, &t);
        rc = lsl_tokset_add(&id->wanted, &t);
        pos += tlen;
    }
    return rc ? rc : lsl_buf_append(&id->text, s, len);
}

/* A line of the address, at the time (and port) asked. */
static int take_line(const char *s, size_t len, uint64_t no, void *ud)
{
    struct identify *id = ud;
    int64_t t = lsl_cli_line_time(s, len);
    size_t pos = 0, tlen;
    struct lsl_token tok;
    bool mine = false;

    if (t == LSL_CLI_NO_TIME || t < id->at - id->window ||
        t > id->at + id->window || (id->port && !has_port(s, len, id->port)))
        return 0;
    while (!mine && lsl_token_scan_any(s, len, &pos, &tlen, &tok)) {
        mine = lsl_tokset_match(&id->subj.toks, &tok) != NULL;
        pos += tlen;
    }
    return mine ? add_hit(id, s, len, no) : 0;
}

static int index_wanted(const struct lsl_vault_record *r, void *ud)
{
    struct identify *id = ud;

    return lsl_tokset_has(&id->wanted, &r->tok) ? lsl_vault_index_add(r, id->ix)
                                                : 0;
}

/* The restored line, then its tokens' table. */
static void print_hit(struct identify *id, const struct hit *h)
{
    const char *s = id->text.p + h->off;
    size_t pos = 0, done = 0, tlen;
    const struct lsl_vault_index_entry *e;
    struct lsl_token t;
    char first[32], last[32];

    printf("%s:%llu\t", id->files[h->file], (unsigned long long)h->line);
    while (lsl_token_scan_any(s, h->len, &pos, &tlen, &t)) {
        line_epoch(s, h->len, id, &t);
        if (!lsl_ledger_erased(id->ss.ledger, &t) &&
            (e = lsl_vault_index_lookup(id->ix, &t)) && e->has_value) {
            printf("%.*s%.*s", (int)(pos - done), s + done, (int)e->value.len,
                   e->value.p);
            done = pos + tlen;
        }
        pos += tlen;
    }
    printf("%.*s\n", (int)(h->len - done), s + done);
    for (pos = 0; lsl_token_scan_any(s, h->len, &pos, &tlen, &t); pos += tlen) {
        line_epoch(s, h->len, id, &t);
        e = lsl_vault_index_lookup(id->ix, &t);
        if (lsl_ledger_erased(id->ss.ledger, &t) || !e || !e->has_value) {
            printf("  %.*s\t%s\n", (int)tlen, s + pos,
                   lsl_ledger_erased(id->ss.ledger, &t) ? "erased"
                                                        : "not-found");
            continue;
        }
        lsl_cli_iso_time(e->first_seen, first);
        lsl_cli_iso_time(e->last_seen, last);
        printf("  %.*s\t%s\t%.*s\t%s\t%s\n", (int)tlen, s + pos,
               lsl_class_name((enum lsl_class)t.cls), (int)e->value.len,
               e->value.p, first, last);
    }
}

static int identify_run(struct identify *id)
{
    char query[128];
    int rc = lsl_cli_segment_tree(id->files, id->nfiles, id->at - id->window,
                                  id->at + id->window + 1, &id->segs);

    if (rc == 0) {
        id->files = id->segs.v;
        id->nfiles = id->segs.n;
        rc = lsl_cli_session_open(&id->ss);
    }
    if (rc == 0)
        rc = lsl_subject_find(&id->subj, &id->ss);
    for (size_t i = 0; rc == 0 && id->subj.toks.n && i < id->nfiles; i++) {
        id->file = i;
        rc = lsl_cli_segment_each(id->files[i], &id->line, take_line, id);
    }
    if (rc == 0)
        rc = lsl_vault_index_open(&id->ix);
    /* The vault was verified and checked whole by the first reading. */
    if (rc == 0 && id->nhits) {
        struct lsl_cli_want want = {.toks = id->wanted.v, .n = id->wanted.n};

        rc = lsl_cli_session_fetch(&id->ss, &want, index_wanted, id);
    }
    for (size_t i = 0; rc == 0 && i < id->wanted.n; i++)
        rc = lsl_cli_session_item_token(&id->ss, "tok", &id->wanted.v[i]);
    snprintf(query, sizeof(query), "address at %lld +- %llds%s%s: %zu lines",
             (long long)id->at, (long long)id->window, id->port ? " port " : "",
             id->port ? id->port : "", id->nhits);
    if (rc == 0)
        rc = lsl_cli_session_record(&id->ss, "identify", query, id->nhits);
    for (size_t i = 0; rc == 0 && i < id->nhits; i++)
        print_hit(id, &id->hits[i]);
    if (rc == 0 && fflush(stdout) != 0)
        rc = -errno;
    return rc;
}

struct iargs {
    const char *address;
};

static int parse(int argc, char **argv, struct identify *id, struct iargs *a)
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},
        {"vault", required_argument, NULL, 'v'},
        {"case", required_argument, NULL, 'c'},
        {"address", required_argument, NULL, 'a'},
        {"at", required_argument, NULL, 't'},
        {"window", required_argument, NULL, 'w'},
        {"port", required_argument, NULL, 'p'},
        LSL_CLI_OFFICER_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool at = false;
    char *end;
    int c, rc;

    while ((c = getopt_long(argc, argv, "k:v:c:a:t:w:p:h", opts, NULL)) != -1) {
        if ((rc = lsl_cli_session_option(&id->ss, c, optarg)) != 0) {
            if (rc < 0)
                return LSL_EXIT_USAGE;
        } else if (c == 'c') {
            id->ss.case_ref = optarg;
        } else if (c == 'a') {
            a->address = optarg;
        } else if (c == 't') {
            at = lsl_cli_parse_time(optarg, strlen(optarg), &id->at);
            if (!at)
                return lsl_cli_usage_error("identify",
                                           "--at: '%s' is not "
                                           "an ISO 8601 time",
                                           optarg);
        } else if (c == 'w') {
            id->window = strtoll(optarg, &end, 10);
            if (*end || end == optarg || id->window < 0)
                return lsl_cli_usage_error("identify", "--window takes "
                                                       "seconds");
        } else if (c == 'p') {
            if (!optarg[0] || strspn(optarg, "0123456789") != strlen(optarg))
                return lsl_cli_usage_error("identify", "--port takes a "
                                                       "number");
            id->port = optarg;
        } else if (c == 'h') {
            help();
            return LSL_EXIT_OK;
        } else {
            return lsl_cli_usage_error("identify", "bad option");
        }
    }
    if (!id->ss.keys || !id->ss.vault || !id->ss.case_ref ||
        !id->ss.case_ref[0] || !a->address || !at || optind == argc)
        return lsl_cli_usage_error("identify", "--keys, --vault, --case, "
                                               "--address, --at and at least "
                                               "one SEGMENT are required");
    id->files = argv + optind;
    id->nfiles = (size_t)(argc - optind);
    return LSL_CLI_GO;
}

int lsl_cmd_identify(int argc, char **argv)
{
    struct identify id = {.window = 1};
    struct iargs a = {0};
    int rc = parse(argc, argv, &id, &a), code;

    if (rc != LSL_CLI_GO)
        return rc;
    rc = lsl_subject_init(&id.subj, a.address, "ip");
    if (rc == 0)
        rc = identify_run(&id);
    code = lsl_cli_session_exit(&id.ss, rc,
                                id.nhits ? LSL_EXIT_OK : LSL_EXIT_NOTFOUND);
    if (rc == 0 && !id.nhits)
        lsl_log_error("no line of that address at that time%s",
                      id.port ? " and port" : "");
    lsl_cli_session_close(&id.ss);
    lsl_vault_index_free(id.ix);
    lsl_subject_free(&id.subj);
    lsl_tokset_free(&id.wanted);
    lsl_buf_free(&id.text);
    lsl_buf_free(&id.line);
    lsl_cli_segments_free(&id.segs);
    free(id.hits);
    return code;
}
