/*
 * Fuzz target: the sealed index's decoding (sidx_store.c, sidx_find.c)
 * on hostile contents. Everything of an index is authenticated, so random
 * bytes would stop at the box; the target seals the input itself with the
 * index key of the officer key it made at start-up:
 *
 *   byte 0 even   the rest is the manifest's body as it is
 *   byte 0 odd    byte 1: the run's depth (% 9); bytes 2-3: its chunk
 *                 count; then blocks, each u16 length (LE) and that much
 *                 plaintext, sealed at their places in run-1.lsi (kind:
 *                 the plaintext's first byte if 1-3, else a leaf); the
 *                 manifest (one file, one run whose first block is the
 *                 chunk table, the second the first leaf, the last the
 *                 root) is made by the library
 *
 * Opening and looking up must return a documented code, never crash or
 * loop, and what a lookup returns must be sorted, unique and of a covered
 * file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz_util.h"
#include "logseal/file.h"
#include "src/vault/sidx_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lsl_officer_key *officer;
static char vault[512];

static void init(void)
{
    char sec[512], pub[512], lock[600];
    const char *dir = fz_tmpdir();
    int fd;

    snprintf(sec, sizeof(sec), "%s/officer.key", dir);
    snprintf(pub, sizeof(pub), "%s/vault.pub", dir);
    snprintf(vault, sizeof(vault), "%s/vault", dir);
    snprintf(lock, sizeof(lock), "%s/vault/index/lock", dir);
    FZ_CHECK(lsl_officer_keygen(sec, pub) == 0);
    FZ_CHECK(lsl_officer_key_open(&officer, sec) == 0);
    FZ_CHECK(lsl_mkdir_p(lock, 0700) == 0 && rmdir(lock) == 0);
    fd = open(lock, O_CREAT | O_WRONLY, 0600);
    FZ_CHECK(fd >= 0);
    close(fd);
}

static bool documented(int rc)
{
    return rc == 0 || rc == LSL_EAUTH || rc == LSL_ECORRUPT ||
           rc == LSL_EFORMAT || rc == LSL_EVERSION || rc == -ENOMEM ||
           rc == -ENOENT || rc == -EINVAL || rc == -EFBIG;
}

/* Seal the input's blocks into run-1.lsi; describe the run in r. */
static int write_run(struct lsl_sidx *ix, const uint8_t *p, size_t n,
                     struct sidx_run *r)
{
    struct lsl_buf file = {0};
    uint8_t hdr[SIDX_RUN_HDR] = "LSLSIDXR", ad[41];
    char path[4200];
    int rc;

    lsl_put_le(hdr + 8, SIDX_VERSION, 4);
    memcpy(hdr + 16, ix->lineage, SIDX_LINEAGE);
    rc = lsl_buf_append(&file, hdr, sizeof(hdr));
    r->ct_off = r->first_leaf = file.len;
    while (rc == 0 && n >= 2) {
        if (file.len > r->ct_off && r->first_leaf == r->ct_off)
            r->first_leaf = file.len;
        size_t len = (size_t)lsl_get_le(p, 2);
        enum sidx_kind kind;

        p += 2, n -= 2;
        len = len < n ? len : n;
        kind =
            len && p[0] >= 1 && p[0] <= 3 ? (enum sidx_kind)p[0] : SIDX_K_LEAF;
        r->root = file.len;
        lsl_sidx_block_ad(ix, 1, kind, file.len, ad);
        rc = lsl_sidx_box_seal(ix->key, ad, sizeof(ad), p, len, &file);
        p += len, n -= len;
    }
    if (rc == 0)
        rc = lsl_sidx_path(ix, "run-1.lsi", path, sizeof(path));
    if (rc == 0)
        rc = lsl_file_replace(path, 0600, file.p, file.len);
    lsl_buf_free(&file);
    return rc;
}

/* One covered file and one run made of the input's blocks. */
static int blocks_index(const uint8_t *data, size_t size)
{
    struct lsl_sidx *ix = NULL;
    int rc;

    if (size < 4)
        return 0;
    rc = lsl_sidx_alloc(&ix, vault, officer);
    if (rc)
        return rc;
    ix->files = calloc(1, sizeof(*ix->files));
    ix->runs = calloc(1, sizeof(*ix->runs));
    rc = ix->files && ix->runs ? 0 : -ENOMEM;
    if (rc == 0) {
        ix->files[0].name = strdup("0-h-20250101T000000Z-00000000.lsv");
        ix->files[0].pub.no = 1;
        ix->files[0].pub.vkey = -1;
        ix->nfiles = ix->files[0].name ? 1 : 0;
        ix->runs[0] =
            (struct sidx_run){.no = 1,
                              .entries = 1,
                              .nchunks = (uint32_t)lsl_get_le(data + 2, 2),
                              .depth = data[1] % 9,
                              .fd = -1};
        ix->nruns = 1;
        rc = write_run(ix, data + 4, size - 4, &ix->runs[0]);
    }
    if (rc == 0)
        rc = lsl_sidx_number(ix);
    if (rc == 0)
        rc = lsl_sidx_manifest_write(ix);
    lsl_sidx_close(ix);
    return rc;
}

static int raw_index(const uint8_t *data, size_t size)
{
    struct lsl_sidx *ix = NULL;
    int rc = lsl_sidx_alloc(&ix, vault, officer);

    if (rc == 0)
        rc = lsl_sidx_manifest_put(ix, data, size);
    lsl_sidx_close(ix);
    return rc;
}

/* Look up tokens made of the input; check what comes back. */
static void look_up(const uint8_t *data, size_t size)
{
    struct lsl_token keys[4];
    struct lsl_sidx_loc *locs = NULL;
    struct lsl_sidx *ix = NULL;
    size_t nlocs = 0;
    int rc = lsl_sidx_open(&ix, vault, officer);

    FZ_CHECK(documented(rc));
    if (rc)
        return;
    /* keys[0] stays all zero: a seed's entries can aim at it. */
    memset(keys, 0, sizeof(keys));
    for (size_t i = 1; i < 4; i++) {
        for (size_t k = 0; k < LSL_TOKEN_HASH_BYTES && size; k++)
            keys[i].hash[k] = data[(i * 7 + k * 3) % size];
        keys[i].cls = (uint8_t)(i % LSL_CLASS_COUNT);
    }
    rc = lsl_sidx_find(ix, keys, 4, &locs, &nlocs);
    FZ_CHECK(documented(rc));
    for (size_t i = 0; rc == 0 && i < nlocs; i++) {
        FZ_CHECK(lsl_sidx_by_no(ix, locs[i].file) != NULL);
        FZ_CHECK(i == 0 || locs[i - 1].file < locs[i].file ||
                 (locs[i - 1].file == locs[i].file &&
                  locs[i - 1].offset < locs[i].offset));
    }
    free(locs);
    lsl_sidx_close(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    int rc;

    if (!ready) {
        init();
        ready = true;
    }
    if (size == 0)
        return 0;
    rc = data[0] & 1 ? blocks_index(data, size) : raw_index(data + 1, size - 1);
    FZ_CHECK(rc == 0 || rc == -ENOMEM);
    look_up(data, size);
    return 0;
}
