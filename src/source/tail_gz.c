/*
 * Tail source: rotations compressed before they were read. Their lines
 * are not read back (a compressed file is a finished archive, and gzip is
 * only one of the compressors logrotate may run), but what they held
 * unread is counted and named, so a loss is never silent: a compressed
 * rotation newer than the file the source was reading either is a copy of
 * that file (its head matches: counted from the source's offset on) or
 * was never read at all (counted whole). The size comes from the gzip
 * trailer (ISIZE: the size mod 2^32); other compressors are named with an
 * unknown count.
 *
 * Runs on the loop thread at file switches and restarts; inflates at most
 * LSL_FP_SPAN bytes of each candidate.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "logseal/log.h"
#include "tail_internal.h"

#define GZ_READ 4096

/* The first up to LSL_FP_SPAN uncompressed bytes and the trailer's size. */
static int gz_head(int fd, uint8_t *head, uint32_t *head_len, uint32_t *isize)
{
    uint8_t in[GZ_READ], tail[4];
    z_stream zs;
    ssize_t n;
    int rc = 0, zrc;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return -ENOMEM;
    zs.next_out = head;
    zs.avail_out = LSL_FP_SPAN;
    for (off_t at = 0; zs.avail_out > 0; at += n) {
        n = pread(fd, in, sizeof(in), at);
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        zs.next_in = in;
        zs.avail_in = (uInt)n;
        zrc = inflate(&zs, Z_NO_FLUSH);
        if (zrc == Z_STREAM_END)
            break;
        if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            rc = LSL_ECORRUPT;
            break;
        }
    }
    *head_len = LSL_FP_SPAN - zs.avail_out;
    inflateEnd(&zs);
    if (rc)
        return rc;
    n = pread(fd, tail, 4, lseek(fd, 0, SEEK_END) - 4);
    if (n != 4)
        return LSL_ECORRUPT;
    *isize = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 |
             (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
    return 0;
}

static bool counted(const struct lsl_tail_source *t, const struct stat *st)
{
    unsigned n = t->ncounted < TAIL_COUNTED ? t->ncounted : TAIL_COUNTED;

    for (unsigned i = 0; i < n; i++)
        if (t->counted[i].dev == (uint64_t)st->st_dev &&
            t->counted[i].ino == (uint64_t)st->st_ino)
            return true;
    return false;
}

/* Is `id` (a compressed file's head) the head of open file f now? */
static bool open_head(const struct lsl_tail_source *t,
                      const struct tail_file *f, const struct lsl_file_id *id)
{
    (void)t;
    return f->fd >= 0 && id->fp_len > 0 && lsl_file_fp_same(f->fd, id);
}

/* Bytes of `c` never read: -1 when unknown. */
static int64_t unread(struct lsl_tail_source *t, const struct tail_cand *c,
                      const struct lsl_file_id *prev, uint64_t offset,
                      bool *is_copy)
{
    uint8_t head[LSL_FP_SPAN], fp[LSL_FP_BYTES];
    uint32_t head_len = 0, isize = 0;
    struct lsl_file_id id;
    uint64_t size;
    int fd, rc = -1;

    *is_copy = false;
    if (strcmp(c->path + strlen(c->path) - 3, ".gz") != 0)
        return -1;
    fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) {
        rc = gz_head(fd, head, &head_len, &isize);
        close(fd);
    }
    if (rc)
        return -1;
    memset(&id, 0, sizeof(id));
    id.fp_len = head_len;
    lsl_fp_of(head, head_len, id.fp);
    /* Something read before (its head is a finished file's), or a file
     * still open for reading (compressed under us): not lost. */
    if (tail_was_finished(t, &id) || open_head(t, &t->cur, &id) ||
        open_head(t, &t->after, &id))
        return 0;
    if (prev->fp_len > 0 && head_len >= prev->fp_len) {
        lsl_fp_of(head, prev->fp_len, fp);
        *is_copy = memcmp(fp, prev->fp, LSL_FP_BYTES) == 0;
    }
    size = isize;
    if (*is_copy) {
        /* ISIZE wraps at 4 GiB: the smallest size at or past offset. */
        while (size < offset)
            size += (uint64_t)1 << 32;
        return (int64_t)(size - offset);
    }
    return (int64_t)size;
}

bool tail_count_compressed(struct lsl_tail_source *t,
                           const struct lsl_file_id *prev, int64_t mtime_ns,
                           uint64_t offset, const char *prev_path)
{
    struct tail_cand *c = NULL;
    bool copy_found = false;
    size_t n = 0;

    if (tail_cands(t, true, &c, &n) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool is_copy;
        int64_t lost;

        if (!c[i].compressed || tail_ns(&c[i].st.st_mtim) < mtime_ns ||
            counted(t, &c[i].st))
            continue;
        lost = unread(t, &c[i], prev, offset, &is_copy);
        copy_found = copy_found || is_copy;
        if (lost == 0)
            continue;
        t->counted[t->ncounted++ % TAIL_COUNTED] = (struct lsl_file_id){
            .dev = (uint64_t)c[i].st.st_dev, .ino = (uint64_t)c[i].st.st_ino};
        if (lost < 0) {
            lsl_log_warn("%s: %s was compressed before it was read; its "
                         "lines are lost (how many bytes is unknown)",
                         t->base.name, c[i].path);
            continue;
        }
        tail_lost(t, (uint64_t)lost);
        if (is_copy)
            lsl_log_warn("%s: %s (the compressed rotation of %s) holds "
                         "bytes %" PRIu64 "-%" PRIu64 " that were not read "
                         "before it was compressed: %" PRId64 " bytes lost",
                         t->base.name, c[i].path, prev_path, offset,
                         offset + (uint64_t)lost, lost);
        else
            lsl_log_warn("%s: %s was rotated and compressed before it was "
                         "read: its %" PRId64 " bytes are lost",
                         t->base.name, c[i].path, lost);
    }
    free(c);
    return copy_found;
}
