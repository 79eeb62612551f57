/*
 * Rewriting a vault file without some records (lsl_vault_rewrite, for
 * erase). Two passes over the old file: one to check it is complete and
 * intact and to learn whether anything is dropped, one to copy the kept
 * records into a new file.
 *
 * Invariants: the new file has a fresh file key (a new writer) and the
 * old file's epoch and epoch length; it is complete and fsynced under a
 * temporary name (".NAME.rewrite", which readers skip) before it is
 * renamed over the old name, so at every moment the directory holds the
 * old file or the new one, whole. The old file key is never reused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "logseal/file.h"
#include "logseal/legal.h"
#include "vault_internal.h"

/* Kept records between flushes: bounds the plaintext held in memory. */
#define FLUSH_EVERY 4096

struct pass {
    bool (*drop)(const struct lsl_vault_record *r, void *ud);
    void *ud;
    struct lsl_vault_writer *w; /* NULL in the first pass */
    uint64_t dropped, kept;
};

static int on_record(const struct lsl_vault_record *r, void *ud)
{
    struct pass *p = ud;
    int rc;

    if (p->drop(r, p->ud)) {
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

/* Second pass: copy kept records into tmp. */
static int copy_kept(const char *path, const char *tmp,
                     const struct lsl_officer_key *key,
                     const struct lsl_vault_file_info *info, struct pass *p)
{
    struct lsl_vault_writer_opts o;
    int rc, crc;

    lsl_vault_writer_opts_init(&o);
    o.dir = ".";
    o.path = tmp;
    o.pubkey = lsl_officer_key_pk(key);
    o.epoch = info->epoch;
    o.epoch_len = info->epoch_len;
    (void)unlink(tmp); /* left over by an earlier crash */
    rc = lsl_vault_writer_open(&p->w, &o);
    if (rc)
        return rc;
    p->dropped = 0;
    rc = lsl_vault_read_file(path, key, on_record, p, NULL);
    crc = lsl_vault_writer_close(p->w);
    p->w = NULL;
    return rc ? rc : crc;
}

int lsl_vault_rewrite(const char *path, const struct lsl_officer_key *key,
                      bool (*drop)(const struct lsl_vault_record *r, void *ud),
                      void *ud, uint64_t *dropped)
{
    struct pass p = {.drop = drop, .ud = ud};
    struct lsl_vault_file_info info;
    char tmp[4096];
    int rc;

    if (dropped)
        *dropped = 0;
    rc = lsl_vault_read_file(path, key, on_record, &p, &info);
    if (rc || p.dropped == 0)
        return rc;
    rc = temp_name(tmp, sizeof(tmp), path);
    if (rc)
        return rc;
    rc = copy_kept(path, tmp, key, &info, &p);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc == 0)
        rc = lsl_fsync_parent(path);
    else
        (void)unlink(tmp);
    if (rc == 0 && dropped)
        *dropped = p.dropped;
    return rc;
}
