/*
 * `logseal disclose`: a data subject's records, for an access request.
 * The subject's tokens are found in the vault by original value (officer
 * key only), minus erased ones; then the given pseudonymized segments
 * (gzip, multi-member, or plain) are scanned and every line holding one
 * of those tokens is a record of the subject. Records are collected
 * first, the action is audited with their count, and only then printed,
 * with the subject's tokens restored and every other token left as is.
 *
 * --from/--to filter on the line's own time when it has one (a CLF
 * "[...]" timestamp or the first ISO 8601 date-time in the line); a line
 * without a recognizable time is kept. A directory given stands for the
 * segments under it (a host's output, a fleet's hive tree); its
 * partitions outside --from/--to are not read (segtree.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli_internal.h"
#include "logseal/array.h"
#include "logseal/log.h"
#include "logseal/rules.h"
#include "officer_internal.h"
#include "segscan_internal.h"
#include "subject_internal.h"

#define NO_TIME LSL_CLI_NO_TIME

struct rec {
    size_t file;     /* index in argv of segments */
    uint64_t line;   /* 1-based */
    int64_t time;    /* NO_TIME if none */
    size_t off, len; /* restored text in d->out */
};

struct disclose {
    struct lsl_subject subj;
    struct lsl_tokset live; /* subject's tokens, erased ones left out */
    int64_t from, to;       /* NO_TIME: unbounded */
    bool json;
    char **files; /* the segments: given, or found under directories */
    size_t nfiles;
    struct lsl_cli_segments segs;
    size_t file; /* being scanned */
    struct rec *recs;
    size_t nrecs, cap;
    struct lsl_buf out;  /* restored records: originals, wiped on free */
    struct lsl_buf line; /* the line being read */
};

static void help(void)
{
    printf(
        "usage: logseal disclose --keys KEYS --vault VAULTDIR --case REF\n"
        "         --subject VALUE [--class CLASS] [--from T] [--to T]\n"
        "         [--json] SEGMENT|DIR...\n\n"
        "Print every line of the pseudonymized SEGMENTs (gzip or plain;\n"
        "a DIR: every finished segment under it, in the default or the\n"
        "hive layout, without following symbolic links; partitions\n"
        "dt=/hour=/YYYY-MM-DD more than an hour outside --from/--to are\n"
        "skipped) that holds one of the subject's tokens, with those tokens\n"
        "restored to VALUE and every other token left as is. VALUE is\n"
        "normalized like the tokenizer does (IPv6 spelling, UUID case);\n"
        "--class limits it to one class. --from/--to (YYYY-MM-DD or\n"
        "ISO 8601, UTC unless an offset is given) keep lines whose own\n"
        "time is >= from and < to; lines without a recognizable time\n"
        "are kept. A summary (records per file and per UTC day) follows\n"
        "on stderr, or as a last JSON object with --json (one object\n"
        "per record: file, line, time, record). Audited before "
        "printing.\n\n" LSL_CLI_OFFICER_HELP "\n"
        "exit: 0 records found, 4 none, 3 vault integrity failure, "
        "1 error\n");
}

static bool in_range(const struct disclose *d, int64_t t)
{
    if (t == NO_TIME)
        return true;
    return (d->from == NO_TIME || t >= d->from) &&
           (d->to == NO_TIME || t < d->to);
}

/* If the line is the subject's, append it restored and record it. */
static int take_line(const char *s, size_t len, uint64_t no, void *ud)
{
    struct disclose *d = ud;
    size_t pos = 0, done = 0, tlen, start = d->out.len, file = d->file;
    struct lsl_token t;
    bool mine = false;
    int rc = 0;

    /* Tokens, and addresses the ip6 mode wrote (the default for address
     * fields): those match the subject's token of any epoch. */
    while (rc == 0 && lsl_token_scan_any(s, len, &pos, &tlen, &t)) {
        if (lsl_tokset_match(&d->live, &t)) {
            struct lsl_span v = lsl_subject_value(&d->subj, t.cls);

            mine = true;
            rc = lsl_buf_append(&d->out, s + done, pos - done);
            if (rc == 0)
                rc = lsl_buf_append(&d->out, v.p, v.len);
            done = pos + tlen;
        }
        pos += tlen;
    }
    if (rc || !mine || !in_range(d, lsl_cli_line_time(s, len))) {
        d->out.len = start;
        return rc;
    }
    rc = lsl_buf_append(&d->out, s + done, len - done);
    if (rc == 0)
        rc = lsl_array_grow(&d->recs, &d->cap, d->nrecs + 1, sizeof(*d->recs),
                            64);
    if (rc == 0)
        d->recs[d->nrecs++] = (struct rec){
            .file = file,
            .line = no,
            .time = lsl_cli_line_time(s, len),
            .off = start,
            .len = d->out.len - start,
        };
    return rc;
}

static int take_line(const char *s, size_t len, uint64_t no, void *ud);

static int scan_file(struct disclose *d, size_t file)
{
    d->file = file;
    return lsl_cli_segment_each(d->files[file], &d->line, take_line, d);
}

static void day_of(int64_t t, char out[32])
{
    if (t == NO_TIME) {
        snprintf(out, 32, "no-time");
        return;
    }
    lsl_cli_iso_time(t, out);
    out[10] = '\0';
}

struct day_count {
    char day[32];
    size_t n;
};

/* Records per UTC day, in order of first appearance. 0 or -ENOMEM. */
static int count_days(const struct disclose *d, struct day_count **out,
                      size_t *n)
{
    struct day_count *v = NULL;
    size_t nv = 0, i, k;
    char day[32];

    for (i = 0; i < d->nrecs; i++) {
        day_of(d->recs[i].time, day);
        for (k = 0; k < nv && strcmp(v[k].day, day) != 0; k++)
            ;
        if (k == nv) {
            struct day_count *nw = realloc(v, (nv + 1) * sizeof(*v));

            if (!nw) {
                free(v);
                return -ENOMEM;
            }
            v = nw;
            snprintf(v[nv].day, sizeof(v[nv].day), "%s", day);
            v[nv++].n = 0;
        }
        v[k].n++;
    }
    *out = v;
    *n = nv;
    return 0;
}

/* Counts per file, then per UTC day (records are in file order). */
static int print_summary(const struct disclose *d, FILE *f)
{
    struct day_count *days;
    size_t ndays, n;
    int rc = count_days(d, &days, &ndays);

    if (rc)
        return rc;
    fprintf(f,
            d->json ? "{\"summary\":{\"records\":%zu,\"files\":{"
                    : "logseal: disclose: %zu records\n",
            d->nrecs);
    for (size_t i = 0, k = 0; i < d->nfiles; i++) {
        for (n = 0; k < d->nrecs && d->recs[k].file == i; k++)
            n++;
        if (d->json) {
            fputs(i ? "," : "", f);
            lsl_cli_json_str(f, d->files[i], strlen(d->files[i]));
            fprintf(f, ":%zu", n);
        } else {
            fprintf(f, "  file %s: %zu\n", d->files[i], n);
        }
    }
    fputs(d->json ? "},\"days\":{" : "", f);
    for (size_t i = 0; i < ndays; i++)
        fprintf(f, d->json ? "%s\"%s\":%zu" : "%s  day %s: %zu\n",
                d->json && i ? "," : "", days[i].day, days[i].n);
    fputs(d->json ? "}}}\n" : "", f);
    free(days);
    return 0;
}

static int print_records(const struct disclose *d)
{
    char when[32];

    for (size_t i = 0; i < d->nrecs; i++) {
        const struct rec *r = &d->recs[i];

        if (!d->json) {
            printf("%.*s\n", (int)r->len, d->out.p + r->off);
            continue;
        }
        fputs("{\"file\":", stdout);
        lsl_cli_json_str(stdout, d->files[r->file], strlen(d->files[r->file]));
        printf(",\"line\":%llu,\"time\":", (unsigned long long)r->line);
        if (r->time == NO_TIME) {
            fputs("null", stdout);
        } else {
            lsl_cli_iso_time(r->time, when);
            printf("\"%s\"", when);
        }
        fputs(",\"record\":", stdout);
        lsl_cli_json_str(stdout, d->out.p + r->off, r->len);
        fputs("}\n", stdout);
    }
    return print_summary(d, d->json ? stdout : stderr);
}

/* The subject's tokens that are not erased, named in the audit record. */
static int live_tokens(struct disclose *d, struct lsl_cli_session *ss)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < d->subj.toks.n; i++) {
        if (lsl_ledger_erased(ss->ledger, &d->subj.toks.v[i]))
            continue;
        rc = lsl_tokset_add(&d->live, &d->subj.toks.v[i]);
        if (rc == 0)
            rc = lsl_cli_session_item_token(ss, "tok", &d->subj.toks.v[i]);
    }
    return rc;
}

static int disclose_run(struct disclose *d, struct lsl_cli_session *ss)
{
    char query[96];
    int rc;

    rc = lsl_cli_segment_tree(d->files, d->nfiles, d->from, d->to, &d->segs);
    if (rc == 0) {
        d->files = d->segs.v;
        d->nfiles = d->segs.n;
        rc = lsl_cli_session_open(ss);
    }
    if (rc == 0 && d->segs.pruned)
        lsl_log_info("--from/--to: %zu partitions skipped", d->segs.pruned);
    if (rc == 0)
        rc = lsl_subject_find(&d->subj, ss);
    if (rc == 0)
        rc = live_tokens(d, ss);
    for (size_t i = 0; rc == 0 && d->live.n && i < d->nfiles; i++)
        rc = scan_file(d, i);
    /* The subject's value is not written to the audit log: the case
     * reference ties the action to the request, the tokens to the vault. */
    snprintf(query, sizeof(query), "subject: %zu tokens, %zu segments",
             d->live.n, d->nfiles);
    if (rc == 0)
        rc = lsl_cli_session_record(ss, "disclose", query, d->nrecs);
    if (rc == 0)
        rc = print_records(d);
    if (rc == 0 && fflush(stdout) != 0)
        rc = -errno;
    return rc;
}

static int parse_bound(const char *s, int64_t *out)
{
    if (lsl_cli_parse_time(s, strlen(s), out))
        return 0;
    return lsl_cli_usage_error("disclose",
                               "'%s' is not a date or ISO 8601 "
                               "time",
                               s);
}

struct dargs {
    const char *keys, *vault, *ref, *subject, *cls;
};

/* Options into a and d; LSL_CLI_GO, or the exit code to end with. */
static int parse_args(int argc, char **argv, struct dargs *a,
                      struct disclose *d)
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},
        {"vault", required_argument, NULL, 'v'},
        {"case", required_argument, NULL, 'c'},
        {"subject", required_argument, NULL, 's'},
        {"class", required_argument, NULL, 'C'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        LSL_CLI_OFFICER_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char **str[128] = {
        ['k'] = &a->keys,    ['v'] = &a->vault, ['c'] = &a->ref,
        ['s'] = &a->subject, ['C'] = &a->cls,
    };
    int c;

    while ((c = getopt_long(argc, argv, "k:v:c:s:C:f:t:jh", opts, NULL)) !=
           -1) {
        if (c > 0 && c < 128 && str[c]) {
            *str[c] = optarg;
        } else if (c == 'f' || c == 't') {
            if (parse_bound(optarg, c == 'f' ? &d->from : &d->to))
                return LSL_EXIT_USAGE;
        } else if (c == 'j') {
            d->json = true;
        } else if (LSL_CLI_IS_OFFICER_OPT(c)) {
            if (lsl_cli_officer_option(c, optarg) != 0)
                return LSL_EXIT_USAGE;
        } else if (c == 'h') {
            help();
            return LSL_EXIT_OK;
        } else {
            return lsl_cli_usage_error("disclose", "bad option");
        }
    }
    if (!a->keys || !a->vault || !a->ref || !a->ref[0] || !a->subject ||
        !a->subject[0] || optind == argc)
        return lsl_cli_usage_error("disclose", "--keys, --vault, --case, "
                                               "--subject and at least one "
                                               "SEGMENT are required");
    d->files = argv + optind;
    d->nfiles = (size_t)(argc - optind);
    return LSL_CLI_GO;
}

int lsl_cmd_disclose(int argc, char **argv)
{
    struct disclose d = {.from = NO_TIME, .to = NO_TIME};
    struct lsl_cli_session ss = {0};
    struct dargs a = {0};
    int rc = parse_args(argc, argv, &a, &d), code;

    if (rc != LSL_CLI_GO)
        return rc;
    ss.keys = a.keys;
    ss.vault = a.vault;
    ss.case_ref = a.ref;
    rc = lsl_subject_init(&d.subj, a.subject, a.cls);
    if (rc == 0)
        rc = disclose_run(&d, &ss);
    code = lsl_cli_session_exit(&ss, rc,
                                d.nrecs ? LSL_EXIT_OK : LSL_EXIT_NOTFOUND);
    lsl_cli_session_close(&ss);
    lsl_subject_free(&d.subj);
    lsl_tokset_free(&d.live);
    lsl_buf_free(&d.out);
    lsl_buf_free(&d.line);
    free(d.recs);
    lsl_cli_segments_free(&d.segs);
    return code;
}
