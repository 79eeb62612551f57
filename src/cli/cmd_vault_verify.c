/*
 * `logseal vault verify`: read every vault file with the officer key and
 * report, per file, whether it is intact, being written, cut short or
 * damaged (and where), with its entries counted per class; check the
 * writers' chains (deleted, planted, copied files), the audit log and the
 * stop list; then totals per epoch, with dates. It reveals no original, so
 * it appends no audit record.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli_internal.h"
#include "logseal/log.h"
#include "officer_internal.h"
#include "session_internal.h"

struct epoch_total {
    uint32_t epoch;
    uint8_t epoch_len;
    uint64_t map[LSL_CLASS_COUNT];
};

struct verify {
    uint64_t map[LSL_CLASS_COUNT]; /* MAP records of the current file */
    uint64_t seen;                 /* SEEN records of the current file */
    struct epoch_total *ep;
    size_t nep;
    size_t ok, writing, cut, bad;
    int err; /* -ENOMEM while counting */
};

static void help(void)
{
    printf("usage: logseal vault verify --vault VAULTDIR --keys KEYS "
           "[--strict]\n"
           "                            [--share FILE]... "
           "[--passphrase-fd FD]\n\n"
           "Read every vault file and check every record against its token,\n"
           "then print per file: ok, being written (a writer holds it), cut\n"
           "short (a crash or truncation: its intact chunks are usable;\n"
           "'vault repair' finishes it) or integrity failure at byte N\n"
           "(tampered, forged, reordered or foreign data, a wrong key), with\n"
           "its entries per class; then entries per epoch and class. Also\n"
           "checks each writer's chain of files (a deleted, planted or\n"
           "copied file), the audit log and the stop list. Reveals no\n"
           "original value; records nothing.\n\n"
           "  --strict   count files being written as failures too\n"
           "\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 every file intact and every chain whole, 3 a file cut\n"
           "short, damaged, forged or missing, or a bad audit log or stop\n"
           "list, 1 error\n");
}

static int on_record(const struct lsl_vault_record *r, void *ud)
{
    struct verify *v = ud;

    /* The reader delivers only records whose class it validated. */
    if (r->type == LSL_VAULT_REC_MAP)
        v->map[r->tok.cls % LSL_CLASS_COUNT]++;
    else
        v->seen++;
    return 0;
}

static void print_counts(const uint64_t *map)
{
    for (int c = 0; c < LSL_CLASS_COUNT; c++) {
        if (map[c])
            printf("\t%s %llu", lsl_class_name((enum lsl_class)c),
                   (unsigned long long)map[c]);
    }
    printf("\n");
}

static void add_to_epoch(struct verify *v,
                         const struct lsl_vault_file_info *info)
{
    struct epoch_total *e = NULL, *grown;

    for (size_t i = 0; i < v->nep && !e; i++)
        e = v->ep[i].epoch == info->epoch ? &v->ep[i] : NULL;
    if (!e) {
        grown = realloc(v->ep, (v->nep + 1) * sizeof(*grown));
        if (!grown) {
            v->err = -ENOMEM;
            return;
        }
        v->ep = grown;
        e = &v->ep[v->nep++];
        memset(e, 0, sizeof(*e));
        e->epoch = info->epoch;
        e->epoch_len = info->epoch_len;
    }
    for (int c = 0; c < LSL_CLASS_COUNT; c++)
        e->map[c] += v->map[c];
}

static void on_file(const char *path, const struct lsl_vault_file_info *info,
                    int rc, void *ud)
{
    struct verify *v = ud;
    uint64_t entries = 0;
    char ep[64];

    for (int c = 0; c < LSL_CLASS_COUNT; c++)
        entries += v->map[c];
    printf("%s\t", path);
    if (rc == 0) {
        printf("ok");
        v->ok++;
    } else if (rc == LSL_ETRUNC && info->writing) {
        printf("being written, %llu chunks so far",
               (unsigned long long)info->chunks);
        v->writing++;
    } else if (rc == LSL_ETRUNC) {
        printf("cut short after %llu intact chunks",
               (unsigned long long)info->chunks);
        v->cut++;
    } else {
        printf("integrity failure at byte %llu: %s",
               (unsigned long long)info->error_offset, lsl_strerror(rc));
        v->bad++;
    }
    lsl_cli_epoch_text(info->epoch, info->epoch_len, ep);
    printf("\tepoch %s\t%llu entries, %llu seen updates", ep,
           (unsigned long long)entries, (unsigned long long)v->seen);
    print_counts(v->map);
    add_to_epoch(v, info);
    memset(v->map, 0, sizeof(v->map));
    v->seen = 0;
}

/* The stop list must be there, verify, and hold what the log says. */
static bool check_stop_list(struct lsl_cli_session *ss)
{
    size_t want;
    int why;

    if (lsl_cli_session_stop_list_current(ss, &why))
        return true;
    lsl_ledger_stops(ss->ledger, &want);
    lsl_log_error("%s/%s: %s (the audit log has %zu entries): the writers "
                  "may let an erased subject back in; 'logseal vault "
                  "repair' writes it again",
                  ss->vault, LSL_STOP_LIST_NAME,
                  why == -ENOENT      ? "missing"
                  : why == LSL_ETRUNC ? "older than the audit log"
                                      : lsl_strerror(why),
                  want);
    return false;
}

static int verify_run(struct lsl_cli_session *ss, struct verify *v, bool strict)
{
    char ep[64];
    bool stop_ok;
    int rc = lsl_cli_session_open(ss);

    ss->on_file = on_file;
    ss->file_ud = v;
    if (rc == 0)
        rc = lsl_cli_session_read(ss, on_record, v);
    if (rc == 0)
        rc = v->err;
    if (rc)
        return rc;
    stop_ok = check_stop_list(ss);
    for (size_t i = 0; i < v->nep; i++) {
        lsl_cli_epoch_text(v->ep[i].epoch, v->ep[i].epoch_len, ep);
        printf("epoch %s total", ep);
        print_counts(v->ep[i].map);
    }
    printf("%zu files: %zu ok, %zu being written, %zu cut short, %zu "
           "failed%s\n",
           ss->files, v->ok, v->writing, v->cut, v->bad,
           ss->integrity && !v->bad ? "; the vault is not whole (see above)"
                                    : "");
    if (!stop_ok || (strict && v->writing))
        ss->integrity = ss->integrity ? ss->integrity : LSL_EAUTH;
    return 0;
}

int lsl_cmd_vault_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},
        {"vault", required_argument, NULL, 'v'},
        {"strict", no_argument, NULL, 's'},
        LSL_CLI_OFFICER_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct lsl_cli_session ss = {.tolerate_log = true};
    struct verify v = {0};
    bool strict = false;
    int c, rc, code;

    while ((c = getopt_long(argc, argv, "k:v:sh", opts, NULL)) != -1) {
        if ((rc = lsl_cli_session_option(&ss, c, optarg)) != 0) {
            if (rc < 0)
                return LSL_EXIT_USAGE;
        } else if (c == 's') {
            strict = true;
        } else if (c == 'h') {
            help();
            return LSL_EXIT_OK;
        } else {
            return lsl_cli_usage_error("vault verify", "bad option");
        }
    }
    if (!ss.vault || optind != argc)
        return lsl_cli_usage_error("vault verify", "--vault VAULTDIR is "
                                                   "required");
    rc = verify_run(&ss, &v, strict);
    code = lsl_cli_session_exit(&ss, rc, LSL_EXIT_OK);
    free(v.ep);
    lsl_cli_session_close(&ss);
    return code;
}
