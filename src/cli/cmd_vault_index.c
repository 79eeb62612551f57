/*
 * `logseal vault index`: build or bring up to date the sealed index of a
 * vault (sidx.h), so that unseal, disclose, identify and erase read a few
 * chunks instead of every vault file. Only files new or changed since the
 * last update are read. It reveals nothing, so it appends no audit record;
 * the files it reads are checked as every officer command checks them,
 * and their problems reported.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli_internal.h"
#include "logseal/log.h"
#include "logseal/sidx.h"
#include "officer_internal.h"
#include "session_internal.h"

struct index_run {
    size_t bad, cut;
};

static void help(void)
{
    printf("usage: logseal vault index --vault VAULTDIR --keys KEYS "
           "[--rebuild]\n"
           "                           [--share FILE]... "
           "[--passphrase-fd FD]\n\n"
           "Build, or bring up to date, the sealed index VAULTDIR/index:\n"
           "for every token, the chunks of the vault files holding its\n"
           "records, sealed with a key only the officer key gives. Only\n"
           "vault files that are new or changed since the last run are\n"
           "read (run it after each collection: 'vault import' and\n"
           "'vault erase' keep an existing index up to date themselves).\n"
           "A damaged index is replaced. unseal, disclose, identify and\n"
           "erase then read a few chunks instead of every file, with the\n"
           "same answers; a file the index does not cover as it is now is\n"
           "still read whole. Records nothing in the audit log.\n\n"
           "  --rebuild  build it anew from every vault file\n\n"
           "officer key: KEYS/officer.key, or --share FILE... "
           "[--passphrase-fd FD]\n\n"
           "exit: 0 done, 3 a vault file read now failed its integrity check\n"
           "(reported; the index records it as it is), 1 error\n");
}

static void on_file(const char *path, const struct lsl_vault_file_info *info,
                    int rc, void *ud)
{
    struct index_run *x = ud;

    if (rc == 0)
        return;
    if (rc == LSL_ETRUNC) {
        x->cut++;
        lsl_log_info("%s: not finished (%llu chunks so far): indexed as it "
                     "is; read again once it grows",
                     path, (unsigned long long)info->chunks);
        return;
    }
    x->bad++;
    lsl_log_error("%s: integrity failure at byte %llu: %s; only the records "
                  "before it are indexed ('logseal vault verify' for the "
                  "whole vault)",
                  path, (unsigned long long)info->error_offset,
                  lsl_strerror(rc));
}

static void report(const struct lsl_sidx_update_result *r, double secs)
{
    if (r->damage)
        printf("the old index did not open (%s): built anew\n",
               lsl_strerror(r->damage));
    printf("index: %zu vault files (%zu read now, %zu dropped), %llu "
           "records read, %llu entries in %zu runs (%zu merged), %.2f s\n",
           r->files, r->read, r->dropped, (unsigned long long)r->mappings,
           (unsigned long long)r->entries, r->runs, r->merged, secs);
}

static int index_run(struct lsl_cli_session *ss, bool rebuild,
                     struct index_run *x)
{
    struct lsl_sidx_update_opts o = {
        .rebuild = rebuild, .on_file = on_file, .ud = x};
    struct lsl_sidx_update_result res;
    struct timespec t0, t1;
    int rc = lsl_cli_session_open(ss);

    if (rc)
        return rc;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = lsl_sidx_update(ss->vault, ss->key, &o, &res);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        lsl_log_error("%s/%s: cannot update the index: %s (the old one, if "
                      "any, is left as it was)",
                      ss->vault, LSL_SIDX_DIR, lsl_strerror(rc));
        return rc;
    }
    report(&res, (double)(t1.tv_sec - t0.tv_sec) +
                     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}

int lsl_cmd_vault_index(int argc, char **argv)
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},
        {"vault", required_argument, NULL, 'v'},
        {"rebuild", no_argument, NULL, 'r'},
        LSL_CLI_OFFICER_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct lsl_cli_session ss = {.tolerate_log = true};
    struct index_run x = {0};
    bool rebuild = false;
    int c, rc, code;

    while ((c = getopt_long(argc, argv, "k:v:rh", opts, NULL)) != -1) {
        if ((rc = lsl_cli_session_option(&ss, c, optarg)) != 0) {
            if (rc < 0)
                return LSL_EXIT_USAGE;
        } else if (c == 'r') {
            rebuild = true;
        } else if (c == 'h') {
            help();
            return LSL_EXIT_OK;
        } else {
            return lsl_cli_usage_error("vault index", "bad option");
        }
    }
    if (!ss.vault || optind != argc)
        return lsl_cli_usage_error("vault index", "--vault VAULTDIR is "
                                                  "required");
    rc = index_run(&ss, rebuild, &x);
    code =
        lsl_cli_session_exit(&ss, rc, x.bad ? LSL_EXIT_INTEGRITY : LSL_EXIT_OK);
    lsl_cli_session_close(&ss);
    return code;
}
