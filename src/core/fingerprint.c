/*
 * File identity and fingerprints.
 *
 * A file's identity is dev/ino, its birth time where the file system keeps
 * one, a BLAKE2b-128 of its first bytes, and at a checkpoint one of the
 * bytes before the offset, so a reused inode or a file rewritten in place
 * is not taken for the old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/checkpoint.h"
#include "logseal/file.h"

void lsl_fp_of(const void *p, size_t len, uint8_t out[LSL_FP_BYTES])
{
    crypto_generichash(out, LSL_FP_BYTES, p, len, NULL, 0);
}

void lsl_head_marks_of(const uint8_t *head, size_t len,
                       struct lsl_head_marks *out)
{
    crypto_generichash_state st, end;
    size_t from = 0;

    out->n = 0;
    crypto_generichash_init(&st, NULL, 0, LSL_FP_BYTES);
    /* One pass: the state is copied and finished at each line end. */
    for (size_t i = 0; i + 1 < len && out->n < LSL_CKPT_HEADS; i++) {
        if (head[i] != '\n')
            continue;
        crypto_generichash_update(&st, head + from, i + 1 - from);
        from = i + 1;
        end = st;
        out->v[out->n].len = (uint32_t)from;
        crypto_generichash_final(&end, out->v[out->n].fp, LSL_FP_BYTES);
        out->n++;
    }
    sodium_memzero(&st, sizeof(st));
    sodium_memzero(&end, sizeof(end));
}

/* Hash `len` bytes of fd from `at`. LSL_ETRUNC if it has fewer. */
static int hash_range(int fd, uint64_t at, uint32_t len,
                      uint8_t out[LSL_FP_BYTES])
{
    uint8_t buf[LSL_FP_SPAN];
    int rc;

    if (len > LSL_FP_SPAN || at > INT64_MAX)
        return -EINVAL;
    rc = lsl_pread_exact(fd, buf, len, (off_t)at);
    if (rc == 0)
        lsl_fp_of(buf, len, out);
    sodium_memzero(buf, len);
    return rc;
}

static int hash_prefix(int fd, uint32_t len, uint8_t out[LSL_FP_BYTES])
{
    return hash_range(fd, 0, len, out);
}

int lsl_checkpoint_end_get(int fd, struct lsl_checkpoint *cp)
{
    cp->end_len = cp->offset < LSL_FP_SPAN ? (uint32_t)cp->offset : LSL_FP_SPAN;
    return hash_range(fd, cp->offset - cp->end_len, cp->end_len, cp->end_fp);
}

bool lsl_checkpoint_end_same(int fd, const struct lsl_checkpoint *cp)
{
    uint8_t fp[LSL_FP_BYTES];

    if (cp->end_len == 0)
        return true;
    if (cp->end_len > LSL_FP_SPAN || cp->offset < cp->end_len ||
        hash_range(fd, cp->offset - cp->end_len, cp->end_len, fp) != 0)
        return false;
    return memcmp(fp, cp->end_fp, LSL_FP_BYTES) == 0;
}

/* The birth time of fd, or 0 where the file system keeps none. */
static int64_t btime_of(int fd)
{
    struct statx sx;

    if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) != 0 ||
        !(sx.stx_mask & STATX_BTIME))
        return 0;
    return (int64_t)sx.stx_btime.tv_sec * 1000000000 + sx.stx_btime.tv_nsec;
}

int lsl_file_id_get(int fd, struct lsl_file_id *id)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -errno;
    memset(id, 0, sizeof(*id));
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    id->btime_ns = btime_of(fd);
    id->fp_len = st.st_size < LSL_FP_SPAN ? (uint32_t)st.st_size : LSL_FP_SPAN;
    return hash_prefix(fd, id->fp_len, id->fp);
}

bool lsl_file_fp_same(int fd_now, const struct lsl_file_id *then)
{
    uint8_t fp[LSL_FP_BYTES];

    if (then->fp_len > LSL_FP_SPAN ||
        hash_prefix(fd_now, then->fp_len, fp) != 0)
        return false;
    return memcmp(fp, then->fp, LSL_FP_BYTES) == 0;
}

bool lsl_file_id_same(int fd_now, const struct lsl_file_id *then)
{
    struct stat st;

    int64_t born;

    if (fstat(fd_now, &st) < 0 || (uint64_t)st.st_dev != then->dev ||
        (uint64_t)st.st_ino != then->ino)
        return false;
    born = then->btime_ns ? btime_of(fd_now) : 0;
    if (born && born != then->btime_ns)
        return false;
    return lsl_file_fp_same(fd_now, then);
}

bool lsl_checkpoint_head_same(int fd, uint64_t size,
                              const struct lsl_checkpoint *cp)
{
    uint8_t fp[LSL_FP_BYTES];

    if (size == 0)
        return false;
    if (cp->file.fp_len > 0 && size >= cp->file.fp_len)
        return lsl_file_fp_same(fd, &cp->file);
    for (unsigned i = 0; i < cp->heads.n && i < LSL_CKPT_HEADS; i++)
        if (cp->heads.v[i].len == size)
            return hash_range(fd, 0, (uint32_t)size, fp) == 0 &&
                   memcmp(fp, cp->heads.v[i].fp, LSL_FP_BYTES) == 0;
    return false;
}
