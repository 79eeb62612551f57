/*
 * `logseal vault verify`: read every vault file with the officer key and
 * report, per file, whether it is intact, cut short or damaged (and
 * where), with its entries counted per class; then totals per epoch. It
 * reveals no original, so it appends no audit record.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli_internal.h"
#include "logseal/log.h"
#include "logseal/vault.h"
#include "officer_internal.h"

struct epoch_total {
    uint32_t epoch;
    uint64_t map[LSL_CLASS_COUNT];
};

struct verify {
    uint64_t map[LSL_CLASS_COUNT]; /* MAP records of the current file */
    uint64_t seen;                 /* SEEN records of the current file */
    struct epoch_total *ep;
    size_t nep;
    size_t files, ok, cut, bad;
    int err; /* -ENOMEM while counting */
};

static void help(void)
{
    printf("usage: logseal vault verify --vault VAULTDIR --keys KEYS "
           "[--strict]\n"
           "                            [--share FILE]... "
           "[--passphrase-fd FD]\n\n"
           "Read every vault file and print per file: ok, cut short (a\n"
           "crash or a file still being written: its intact chunks are\n"
           "usable) or integrity failure at byte N (tampered, reordered or\n"
           "foreign data, a wrong key), with its entries per class; then\n"
           "entries per epoch and class. Reveals no original value.\n\n"
           "  --strict   count cut-short files as failures\n"
           "\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 every file intact (cut short allowed without --strict),\n"
           "3 some file failed, 1 error\n");
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

static void add_to_epoch(struct verify *v, uint32_t epoch)
{
    struct epoch_total *e = NULL, *grown;

    for (size_t i = 0; i < v->nep && !e; i++)
        e = v->ep[i].epoch == epoch ? &v->ep[i] : NULL;
    if (!e) {
        grown = realloc(v->ep, (v->nep + 1) * sizeof(*grown));
        if (!grown) {
            v->err = -ENOMEM;
            return;
        }
        v->ep = grown;
        e = &v->ep[v->nep++];
        memset(e, 0, sizeof(*e));
        e->epoch = epoch;
    }
    for (int c = 0; c < LSL_CLASS_COUNT; c++)
        e->map[c] += v->map[c];
}

static void on_file(const char *path, const struct lsl_vault_file_info *info,
                    int rc, void *ud)
{
    struct verify *v = ud;
    uint64_t entries = 0;

    for (int c = 0; c < LSL_CLASS_COUNT; c++)
        entries += v->map[c];
    v->files++;
    printf("%s\t", path);
    if (rc == 0) {
        printf("ok");
        v->ok++;
    } else if (rc == LSL_ETRUNC) {
        printf("cut short after %llu intact chunks",
               (unsigned long long)info->chunks);
        v->cut++;
    } else {
        printf("integrity failure at byte %llu: %s",
               (unsigned long long)info->error_offset, lsl_strerror(rc));
        v->bad++;
    }
    printf("\tepoch %lu\t%llu entries, %llu seen updates",
           (unsigned long)info->epoch, (unsigned long long)entries,
           (unsigned long long)v->seen);
    print_counts(v->map);
    add_to_epoch(v, info->epoch);
    memset(v->map, 0, sizeof(v->map));
    v->seen = 0;
}

static int verify_run(const char *keys, const char *vault, bool strict)
{
    struct lsl_officer_key *key = NULL;
    struct verify v = {0};
    int rc;

    rc = lsl_cli_officer_open(keys, &key);
    if (rc)
        return LSL_EXIT_ERROR;
    rc = lsl_vault_read_dir(vault, key, on_record, &v, on_file, &v);
    lsl_officer_key_close(key);
    if (rc == 0 || rc == LSL_ETRUNC || rc == LSL_EAUTH || rc == LSL_ECORRUPT ||
        rc == LSL_EFORMAT || rc == LSL_EVERSION)
        rc = v.err;
    if (rc) {
        lsl_log_error("%s: cannot read the vault: %s", vault, lsl_strerror(rc));
        free(v.ep);
        return LSL_EXIT_ERROR;
    }
    for (size_t i = 0; i < v.nep; i++) {
        printf("epoch %lu total", (unsigned long)v.ep[i].epoch);
        print_counts(v.ep[i].map);
    }
    printf("%zu files: %zu ok, %zu cut short, %zu failed\n", v.files, v.ok,
           v.cut, v.bad);
    free(v.ep);
    return v.bad || (strict && v.cut) ? LSL_EXIT_INTEGRITY : LSL_EXIT_OK;
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
    const char *keys = NULL, *vault = NULL;
    bool strict = false;
    int c;

    while ((c = getopt_long(argc, argv, "k:v:sh", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keys = optarg;
            break;
        case 'v':
            vault = optarg;
            break;
        case 's':
            strict = true;
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
            return lsl_cli_usage_error("vault verify", "bad option");
        }
    }
    if (!vault || optind != argc)
        return lsl_cli_usage_error("vault verify", "--vault VAULTDIR is "
                                                   "required");
    return verify_run(keys, vault, strict);
}
