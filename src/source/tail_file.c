/*
 * Tail source: which file is which. Files are known by dev/ino plus a
 * fingerprint of their first bytes, never by name alone. Rotation
 * candidates are the path's rotation names (path.N, path-SUFFIX) or the
 * glob's matches, ordered oldest first: by mtime, then path last, then
 * the higher .N first, then by name. Compressed rotations are skipped.
 *
 * These run on the loop thread and make small metadata calls (stat, open,
 * a pread of at most LSL_FP_SPAN bytes) on local files; the bulk reads go
 * through uv_fs_read. The id table is the one piece shared with the commit
 * job and is guarded by t->lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tail_internal.h"

struct cand {
    char path[PATH_MAX];
    struct stat st;
    unsigned long rank; /* .N suffix */
    bool is_path;
};

struct cands {
    struct cand *v;
    size_t n, cap;
};

static void look_stat(struct tail_file *f, const struct stat *st)
{
    f->size = (uint64_t)st->st_size;
    f->nlink = (uint64_t)st->st_nlink;
    f->mtime = st->st_mtim;
}

int tail_file_open(struct tail_file *f, const char *path)
{
    struct stat st;
    int rc;

    memset(f, 0, sizeof(*f));
    f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (f->fd < 0)
        return -errno;
    if (fstat(f->fd, &st) < 0) {
        rc = -errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto fail;
    }
    rc = lsl_file_id_get(f->fd, &f->id);
    if (rc)
        goto fail;
    look_stat(f, &st);
    snprintf(f->path, sizeof(f->path), "%s", path);
    return 0;
fail:
    close(f->fd);
    f->fd = -1;
    return rc;
}

void tail_file_close(struct tail_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

int tail_file_look(struct tail_file *f, bool *rewritten)
{
    struct stat st;

    if (fstat(f->fd, &st) < 0)
        return -errno;
    look_stat(f, &st);
    *rewritten = f->size < f->offset ||
                 (f->id.fp_len > 0 && !lsl_file_fp_same(f->fd, &f->id));
    return 0;
}

static void ids_put(struct lsl_tail_source *t, uint64_t gen,
                    const struct lsl_file_id *id)
{
    struct tail_id *slot = NULL;

    uv_mutex_lock(&t->lock);
    for (size_t i = 0; i < TAIL_IDS; i++) {
        struct tail_id *e = &t->ids[i];

        /* Older than the last commit: no batch of it is in flight. */
        if (e->gen == gen || e->gen == 0 ||
            (!slot && e->gen < t->committed.file_id)) {
            slot = e;
            if (e->gen == gen)
                break;
        }
    }
    if (!slot) {
        slot = &t->ids[0];
        for (size_t i = 1; i < TAIL_IDS; i++)
            if (t->ids[i].gen < slot->gen)
                slot = &t->ids[i];
    }
    slot->gen = gen;
    slot->id = *id;
    uv_mutex_unlock(&t->lock);
}

bool tail_ids_get(struct lsl_tail_source *t, uint64_t gen,
                  struct lsl_file_id *id)
{
    bool found = false;

    uv_mutex_lock(&t->lock);
    for (size_t i = 0; i < TAIL_IDS && !found; i++) {
        if (t->ids[i].gen == gen) {
            *id = t->ids[i].id;
            found = true;
        }
    }
    uv_mutex_unlock(&t->lock);
    return found;
}

void tail_file_begin(struct lsl_tail_source *t, struct tail_file *f,
                     uint64_t offset)
{
    f->gen = ++t->last_gen;
    f->start = offset;
    f->offset = offset;
    ids_put(t, f->gen, &f->id);
}

void tail_file_grow_fp(struct lsl_tail_source *t, struct tail_file *f)
{
    struct lsl_file_id id;

    if (f->id.fp_len >= LSL_FP_SPAN || f->offset <= f->id.fp_len)
        return;
    if (lsl_file_id_get(f->fd, &id) != 0 || id.fp_len <= f->id.fp_len)
        return;
    f->id = id;
    ids_put(t, f->gen, &f->id);
}

void tail_remember_finished(struct lsl_tail_source *t,
                            const struct lsl_file_id *id)
{
    t->finished[t->nfinished++ % TAIL_FINISHED] = *id;
}

static bool was_finished(const struct lsl_tail_source *t, int fd)
{
    unsigned n = t->nfinished < TAIL_FINISHED ? t->nfinished : TAIL_FINISHED;

    for (unsigned i = 0; i < n; i++)
        if (lsl_file_id_same(fd, &t->finished[i]))
            return true;
    return false;
}

static bool compressed(const char *path)
{
    static const char *const ext[] = {".gz",  ".bz2", ".xz", ".zst",
                                      ".lz4", ".Z",   ".zip"};
    size_t n = strlen(path);

    for (size_t i = 0; i < LSL_ARRAY_SIZE(ext); i++) {
        size_t e = strlen(ext[i]);

        if (n > e && strcmp(path + n - e, ext[i]) == 0)
            return true;
    }
    return false;
}

static unsigned long rank_of(const char *path)
{
    const char *dot = strrchr(path, '.');

    if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
        return 0;
    return strtoul(dot + 1, NULL, 10);
}

static int cands_add(struct cands *c, const char *path, bool is_path)
{
    struct cand *e;

    if (compressed(path))
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct cand *v = realloc(c->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    e = &c->v[c->n];
    if (stat(path, &e->st) < 0 || !S_ISREG(e->st.st_mode) ||
        snprintf(e->path, sizeof(e->path), "%s", path) >= (int)sizeof(e->path))
        return 0;
    e->rank = rank_of(path);
    e->is_path = is_path;
    c->n++;
    return 0;
}

static int cands_glob(struct cands *c, const char *pattern, bool is_path)
{
    glob_t g;
    int rc = glob(pattern, GLOB_NOSORT, NULL, &g);

    if (rc == GLOB_NOMATCH)
        return 0;
    if (rc != 0)
        return rc == GLOB_NOSPACE ? -ENOMEM : -EIO;
    for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
        rc = cands_add(c, g.gl_pathv[i], is_path);
    globfree(&g);
    return rc;
}

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;

    if (x->st.st_mtim.tv_sec != y->st.st_mtim.tv_sec)
        return x->st.st_mtim.tv_sec < y->st.st_mtim.tv_sec ? -1 : 1;
    if (x->st.st_mtim.tv_nsec != y->st.st_mtim.tv_nsec)
        return x->st.st_mtim.tv_nsec < y->st.st_mtim.tv_nsec ? -1 : 1;
    if (x->is_path != y->is_path)
        return x->is_path ? 1 : -1;
    if (x->rank != y->rank)
        return x->rank > y->rank ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* Every file that may hold this source's lines, oldest first. */
static int cands_list(const struct lsl_tail_source *t, struct cands *c)
{
    char pat[PATH_MAX + 2];
    int rc;

    memset(c, 0, sizeof(*c));
    if (t->is_glob) {
        rc = cands_glob(c, t->path, false);
    } else {
        snprintf(pat, sizeof(pat), "%s.*", t->path);
        rc = cands_glob(c, pat, false);
        snprintf(pat, sizeof(pat), "%s-*", t->path);
        if (rc == 0)
            rc = cands_glob(c, pat, false);
        if (rc == 0)
            rc = cands_add(c, t->path, true);
    }
    if (rc == 0)
        qsort(c->v, c->n, sizeof(*c->v), cmp_cand);
    return rc;
}

static bool same_inode(const struct stat *st, const struct lsl_file_id *id)
{
    return (uint64_t)st->st_dev == id->dev && (uint64_t)st->st_ino == id->ino;
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* A file worth adopting after `prev`: not finished, not a copy of it. */
static bool adopt(struct lsl_tail_source *t, const struct cand *c,
                  const struct tail_file *prev, struct tail_file *out)
{
    if (tail_file_open(out, c->path) != 0)
        return false;
    if (was_finished(t, out->fd) ||
        (prev && prev->id.fp_len > 0 && lsl_file_fp_same(out->fd, &prev->id))) {
        tail_file_close(out);
        return false;
    }
    return true;
}

int tail_find_next(struct lsl_tail_source *t, const struct tail_file *prev,
                   struct tail_file *out)
{
    struct cands c;
    size_t i = 0;
    int rc = cands_list(t, &c);

    out->fd = -1;
    if (rc)
        goto out;
    while (i < c.n && !same_inode(&c.v[i].st, &prev->id))
        i++;
    if (i < c.n) {
        i++;
    } else {
        /* prev is gone: whatever was written since it was last seen. */
        for (i = 0; i < c.n && ts_before(&c.v[i].st.st_mtim, &prev->mtime); i++)
            ;
    }
    for (; i < c.n; i++)
        if (!same_inode(&c.v[i].st, &prev->id) && adopt(t, &c.v[i], prev, out))
            break;
out:
    free(c.v);
    return rc;
}

int tail_find_current(struct lsl_tail_source *t, struct tail_file *out)
{
    struct cands c;
    int rc;

    out->fd = -1;
    if (!t->is_glob) {
        rc = tail_file_open(out, t->path);
        if (rc == 0 && was_finished(t, out->fd))
            tail_file_close(out);
        return rc == -ENOENT ? 0 : rc;
    }
    rc = cands_list(t, &c);
    for (size_t i = c.n; rc == 0 && i > 0; i--)
        if (adopt(t, &c.v[i - 1], NULL, out))
            break;
    free(c.v);
    return rc;
}

/* First candidate (not `skip`) with `offset` bytes matching `id`. */
static int find_match(struct lsl_tail_source *t, const struct lsl_file_id *id,
                      uint64_t offset, bool by_inode,
                      const struct lsl_file_id *skip, struct tail_file *out)
{
    struct cands c;
    int rc = cands_list(t, &c);

    out->fd = -1;
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        const struct stat *st = &c.v[i].st;

        if ((by_inode && !same_inode(st, id)) ||
            (skip && same_inode(st, skip)) || (uint64_t)st->st_size < offset)
            continue;
        if (tail_file_open(out, c.v[i].path) != 0)
            continue;
        if (by_inode ? lsl_file_id_same(out->fd, id)
                     : lsl_file_fp_same(out->fd, id))
            break;
        tail_file_close(out);
    }
    free(c.v);
    return rc;
}

int tail_find_checkpointed(struct lsl_tail_source *t,
                           const struct lsl_checkpoint *cp,
                           struct tail_file *out)
{
    int rc = find_match(t, &cp->file, 0, true, NULL, out);

    /* Not by inode: a copytruncate copy holds its bytes under a new one. */
    if (rc == 0 && out->fd < 0 && cp->file.fp_len > 0)
        rc = find_match(t, &cp->file, cp->offset, false, NULL, out);
    return rc;
}

int tail_find_copy(struct lsl_tail_source *t, const struct tail_file *orig,
                   struct tail_file *out)
{
    if (orig->id.fp_len == 0) {
        out->fd = -1;
        return 0;
    }
    return find_match(t, &orig->id, orig->offset + 1, false, &orig->id, out);
}

enum tail_detach tail_detached(struct lsl_tail_source *t)
{
    struct tail_file next;
    struct stat st;

    if (t->cur.nlink == 0)
        return DETACH_DELETED;
    if (!t->is_glob) {
        if (stat(t->path, &st) < 0 || same_inode(&st, &t->cur.id))
            return DETACH_NONE;
        return DETACH_ROTATED;
    }
    if (tail_find_next(t, &t->cur, &next) != 0 || next.fd < 0)
        return DETACH_NONE;
    tail_file_close(&next);
    return DETACH_ROTATED;
}
