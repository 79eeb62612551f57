/*
 * Rewriting a vault file without some records, or up to its last whole
 * chunk (lsl_vault_rewrite, for erase and repair). Two passes over the old
 * file: one to check it (complete and intact, or cut short by a crash) and
 * to learn whether anything is dropped, one to copy the kept records into
 * a new file.
 *
 * Invariants: a file a writer still holds (its flock) is never touched.
 * The new file has a fresh file key, the old file's header fields (epoch,
 * id, writer, seq, prev: its place in the chain) plus LSL_VAULT_F_REWRITTEN
 * and the audit record's number, and the old file's verification key and
 * writer secret; it is complete and fsynced under a temporary name
 * (".NAME.rewrite", which readers skip) before it is renamed over the old
 * name, so at every moment the directory holds the old file or the new
 * one, whole. Then the old file's bytes are overwritten with zeros through
 * a descriptor opened before the rename: hard links to it (a backup made
 * with cp -l) lose the erased records too. The old file key is never
 * reused.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/file.h"
#include "logseal/legal.h"
#include "vault_internal.h"

/* Kept records between flushes: bounds the plaintext held in memory. */
#define FLUSH_EVERY 4096
#define ZERO_BLOCK  65536

struct pass {
    const struct lsl_vault_rewrite_opts *o;
    struct lsl_vault_writer *w; /* NULL in the first pass */
    uint64_t dropped, kept;
};

static int on_record(const struct lsl_vault_record *r, void *ud)
{
    struct pass *p = ud;
    int rc;

    if (p->o->drop && p->o->drop(r, p->o->ud)) {
        p->dropped++;
        return 0;
    }
    if (!p->w)
        return 0;
    rc = lsl_vault_writer_put(p->w, r);
    if (rc == 0 && ++p->kept % FLUSH_EVERY == 0)
        rc = lsl_vault_writer_flush(p->w);
    return rc;
}

static int temp_name(char *out, size_t cap, const char *path)
{
    const char *slash = strrchr(path, '/');
    int n;

    if (slash)
        n = snprintf(out, cap, "%.*s/.%s.rewrite", (int)(slash - path), path,
                     slash + 1);
    else
        n = snprintf(out, cap, ".%s.rewrite", path);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* A writer for tmp under the old file's header and keys. */
static int open_copy(const char *path, const char *tmp,
                     const struct lsl_officer_key *key, uint64_t audit_seq,
                     struct lsl_vault_writer **w)
{
    uint8_t *sec = sodium_malloc(LSL_VKEY_BYTES + LSL_VAULT_WSECRET_BYTES);
    struct lsl_vault_writer_opts o;
    struct lsl_vault_hdr h;
    int rc = sec ? 0 : -ENOMEM;

    if (rc == 0)
        rc = lsl_vault_header_secrets(path, key, &h, sec, sec + LSL_VKEY_BYTES);
    if (rc == 0) {
        lsl_vault_writer_opts_init(&o);
        o.dir = ".";
        o.path = tmp;
        o.pubkey = lsl_officer_key_pk(key);
        o.epoch = h.epoch;
        o.epoch_len = h.epoch_len;
        o.created = h.created;
        o.link = &h.link;
        o.flags = LSL_VAULT_F_REWRITTEN;
        o.audit_seq = audit_seq;
        o.vkey = sec;
        o.wsecret = sec + LSL_VKEY_BYTES;
        (void)unlink(tmp); /* left over by an earlier crash */
        rc = lsl_vault_writer_open(w, &o);
    }
    sodium_free(sec);
    return rc;
}

/* Second pass: copy kept records into tmp. */
static int copy_kept(const char *path, const char *tmp,
                     const struct lsl_officer_key *key, struct pass *p)
{
    int rc, crc;

    rc = open_copy(path, tmp, key, p->o->audit_seq, &p->w);
    if (rc)
        return rc;
    p->dropped = 0;
    rc = lsl_vault_read_file(path, key, on_record, p, NULL);
    if (rc == LSL_ETRUNC)
        rc = 0; /* the whole chunks are copied; the cut tail is not */
    crc = lsl_vault_writer_close(p->w);
    p->w = NULL;
    return rc ? rc : crc;
}

/* Overwrite the old file's bytes with zeros (every link to it). */
static int zero_fill(int fd)
{
    static const uint8_t zeros[ZERO_BLOCK];
    struct stat st;
    off_t off = 0;

    if (fstat(fd, &st) < 0)
        return -errno;
    while (off < st.st_size) {
        size_t n = (size_t)(st.st_size - off) < sizeof(zeros)
                       ? (size_t)(st.st_size - off)
                       : sizeof(zeros);
        ssize_t w = pwrite(fd, zeros, n, off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        off += w;
    }
    return fsync(fd) < 0 ? -errno : 0;
}

/* The old file, opened and locked: no writer holds it. */
static int open_old(const char *path, int *fd)
{
    *fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (*fd < 0)
        return -errno;
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    return errno == EWOULDBLOCK ? -EBUSY : -errno;
}

/* Copy, rename over the old name, then destroy the old bytes. */
static int replace(const char *path, int fd, const struct lsl_officer_key *key,
                   struct pass *p, struct lsl_vault_rewrite_result *res)
{
    char tmp[4096];
    int rc = temp_name(tmp, sizeof(tmp), path);

    if (rc == 0)
        rc = copy_kept(path, tmp, key, p);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc) {
        (void)unlink(tmp);
        return rc;
    }
    res->rewritten = true;
    rc = lsl_fsync_parent(path);
    if (rc == 0)
        rc = zero_fill(fd);
    res->overwritten = rc == 0;
    return rc;
}

int lsl_vault_rewrite(const char *path, const struct lsl_officer_key *key,
                      const struct lsl_vault_rewrite_opts *o,
                      struct lsl_vault_rewrite_result *res)
{
    struct pass p = {.o = o};
    struct lsl_vault_file_info info;
    int fd = -1, rc;

    memset(res, 0, sizeof(*res));
    rc = open_old(path, &fd);
    if (rc == 0)
        rc = lsl_vault_read_file(path, key, on_record, &p, &info);
    if (rc == LSL_ETRUNC) {
        res->was_cut = true;
        res->chunks = info.chunks;
        rc = 0;
    }
    if (rc == 0 && (p.dropped || res->was_cut))
        rc = replace(path, fd, key, &p, res);
    if (res->rewritten)
        res->dropped = p.dropped;
    if (fd >= 0)
        close(fd);
    return rc;
}
