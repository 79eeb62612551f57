/*
 * The sealed index at scale (bench/index runs it): write a vault of N
 * mappings (files of PER_FILE mappings, a chunk every 2000 as a daemon's
 * batches make them), build the index from nothing, then time single
 * lookups as an officer command makes them: open the index, find the
 * token, read its chunk, close.
 *
 *   index_bench DIR N [PER_FILE] [LOOKUPS]
 *
 * DIR gets keys/ (officer.key, vault.pub) and vault/; one line of results
 * (key=value) goes to stdout, sample tokens to DIR/tokens.txt.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "logseal/file.h"
#include "logseal/sidx.h"
#include "logseal/vault.h"

#define CHUNK_EVERY 2000

static double clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "index_bench: %s: %s\n", what, lsl_strerror(rc));
    exit(1);
}

static uint8_t vkey[LSL_VKEY_BYTES], wsecret[LSL_VAULT_WSECRET_BYTES];

static void mapping(uint64_t i, char value[32], struct lsl_mapping *m)
{
    int rc;

    memset(m, 0, sizeof(*m));
    snprintf(value, 32, "v%012llu", (unsigned long long)i);
    rc = lsl_token_derive_vkey(vkey, 0, (enum lsl_class)(i % LSL_CLASS_COUNT),
                               value, strlen(value), &m->tok);
    if (rc)
        die("derive", rc);
    m->value = (struct lsl_span){value, strlen(value)};
    m->first_seen = m->last_seen = 1764000000 + (int64_t)(i % 86400);
}

static void write_vault(const char *vdir, const uint8_t *pk, uint64_t n,
                        uint64_t per_file)
{
    struct lsl_vault_writer_opts o;
    struct lsl_vault_writer *w = NULL;
    struct lsl_mapping m;
    char value[32];
    bool is_new;
    int rc;

    lsl_vault_writer_opts_init(&o);
    o.dir = vdir;
    o.pubkey = pk;
    o.source = "bench:daemon";
    o.host = "bench";
    o.vkey = vkey;
    o.wsecret = wsecret;
    o.seen_cap = CHUNK_EVERY * 2;
    for (uint64_t i = 0; i < n; i++) {
        if (i % per_file == 0) {
            if ((rc = lsl_vault_writer_close(w)) != 0)
                die("close", rc);
            if ((rc = lsl_vault_writer_open(&w, &o)) != 0)
                die("open", rc);
        }
        mapping(i, value, &m);
        if ((rc = lsl_vault_writer_add(w, &m, &is_new)) != 0)
            die("add", rc);
        if (i % CHUNK_EVERY == CHUNK_EVERY - 1 &&
            (rc = lsl_vault_writer_flush(w)) != 0)
            die("flush", rc);
    }
    if ((rc = lsl_vault_writer_close(w)) != 0)
        die("close", rc);
}

static int count_rec(const struct lsl_vault_record *r, void *ud)
{
    (void)r;
    ++*(size_t *)ud;
    return 0;
}

/* One lookup as a command makes it; returns seconds. */
static double lookup(const char *vdir, const struct lsl_officer_key *key,
                     uint64_t i)
{
    struct lsl_sidx *ix;
    struct lsl_sidx_loc *locs;
    struct lsl_mapping m;
    char value[32], path[4096];
    size_t nlocs, got = 0;
    double t0 = now();
    int rc;

    mapping(i, value, &m);
    if ((rc = lsl_sidx_open(&ix, vdir, key)) != 0)
        die("sidx open", rc);
    if ((rc = lsl_sidx_find(ix, &m.tok, 1, &locs, &nlocs)) != 0)
        die("find", rc);
    for (size_t k = 0; k < nlocs; k++) {
        const struct lsl_sidx_file *f = NULL;
        char **names;
        size_t nn;
        struct stat st;

        /* The file of the location: the command knows it from its
         * listing; here found by number among the vault's names. */
        if (lsl_vault_list(vdir, &names, &nn) != 0)
            die("list", -EIO);
        for (size_t j = 0; j < nn && !f; j++) {
            if (lsl_path_join(path, sizeof(path), vdir, names[j]) == 0 &&
                stat(path, &st) == 0 &&
                (f = lsl_sidx_file(ix, names[j], &st)) && f->no != locs[k].file)
                f = NULL;
        }
        lsl_vault_list_free(names, nn);
        if (!f)
            die("file of a location", -ENOENT);
        rc = lsl_sidx_read_chunk(ix, path, f, &locs[k], &m.tok, 1, count_rec,
                                 &got);
        if (rc)
            die("read chunk", rc);
    }
    free(locs);
    lsl_sidx_close(ix);
    if (got != 1)
        die("lookup found no record", -ENOENT);
    return now() - t0;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static uint64_t du(const char *dir)
{
    char cmd[4200];
    unsigned long long kb = 0;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "du -sk '%s'", dir);
    p = popen(cmd, "r");
    if (p && fscanf(p, "%llu", &kb) != 1)
        kb = 0;
    if (p)
        pclose(p);
    return kb * 1024;
}

int main(int argc, char **argv)
{
    char keys[4096], vdir[4096], sec[4200], pub[4200], idx[4200];
    uint64_t n, per_file, lookups;
    struct lsl_sidx_update_result res;
    struct lsl_officer_key *key;
    uint8_t pk[32];
    double t0, c0, t_write, t_build, c_build, *lat;
    FILE *tf;
    int rc;

    if (argc < 3) {
        fprintf(stderr, "usage: index_bench DIR N [PER_FILE] [LOOKUPS]\n");
        return 2;
    }
    n = strtoull(argv[2], NULL, 10);
    per_file = argc > 3 ? strtoull(argv[3], NULL, 10) : 250000;
    lookups = argc > 4 ? strtoull(argv[4], NULL, 10) : 200;
    snprintf(keys, sizeof(keys), "%s/keys", argv[1]);
    snprintf(vdir, sizeof(vdir), "%s/vault", argv[1]);
    snprintf(sec, sizeof(sec), "%s/officer.key", keys);
    snprintf(pub, sizeof(pub), "%s/vault.pub", keys);
    mkdir(keys, 0700);
    mkdir(vdir, 0700);
    if ((rc = lsl_officer_keygen(sec, pub)) != 0 ||
        (rc = lsl_officer_key_open(&key, sec)) != 0 ||
        (rc = lsl_vault_pubkey_load(pub, pk)) != 0)
        die("keys", rc);
    randombytes_buf(vkey, sizeof(vkey));
    randombytes_buf(wsecret, sizeof(wsecret));
    t0 = now();
    write_vault(vdir, pk, n, per_file);
    t_write = now() - t0;
    t0 = now();
    c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    rc = lsl_sidx_update(
        vdir, key,
        &(struct lsl_sidx_update_opts){
            .threads = getenv("LSL_SIDX_THREADS")
                           ? (unsigned)atoi(getenv("LSL_SIDX_THREADS"))
                           : 0},
        &res);
    t_build = now() - t0;
    c_build = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (rc)
        die("build", rc);
    lat = malloc(lookups * sizeof(*lat));
    snprintf(idx, sizeof(idx), "%s/tokens.txt", argv[1]);
    tf = fopen(idx, "w");
    for (uint64_t k = 0; lat && tf && k < lookups; k++) {
        uint64_t i = (k * 2654435761u + 7) % n;
        struct lsl_mapping m;
        char value[32], text[LSL_TOKEN_TEXT_MAX];

        lat[k] = lookup(vdir, key, i);
        mapping(i, value, &m);
        lsl_token_format(&m.tok, text);
        fprintf(tf, "%s\n", text);
    }
    if (!lat || !tf)
        die("alloc", -ENOMEM);
    fclose(tf);
    qsort(lat, lookups, sizeof(*lat), dbl_cmp);
    snprintf(idx, sizeof(idx), "%s/index", vdir);
    printf("mappings=%llu files=%zu write_s=%.2f build_s=%.2f "
           "build_cpu_s=%.2f build_per_s=%.0f build_per_cpu_s=%.0f "
           "runs=%zu entries=%llu index_bytes=%llu "
           "vault_bytes=%llu lookup_median_ms=%.3f lookup_p95_ms=%.3f "
           "lookup_max_ms=%.3f\n",
           (unsigned long long)n, res.files, t_write, t_build, c_build,
           (double)n / t_build, (double)n / c_build, res.runs,
           (unsigned long long)res.entries, (unsigned long long)du(idx),
           (unsigned long long)(du(vdir) - du(idx)), lat[lookups / 2] * 1e3,
           lat[lookups * 95 / 100] * 1e3, lat[lookups - 1] * 1e3);
    free(lat);
    lsl_officer_key_close(key);
    return 0;
}
