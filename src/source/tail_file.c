/*
 * Tail source: which file is which. Files are known by dev/ino, birth
 * time where the file system keeps one, and a fingerprint of their first
 * bytes, never by name alone. Rotation candidates are the path's rotation
 * names (path.N, path-SUFFIX) or the glob's matches, ordered oldest first:
 * by mtime, then path last, then the higher .N first, then by name.
 * Compressed rotations are never read (tail_gz.c counts what they held
 * unread). logrotate renames while we look: a listing is taken until two
 * looks agree, and a name opened must still hold the inode listed.
 *
 * These run on the loop thread and make small metadata calls (statx, open,
 * a pread of at most LSL_FP_SPAN bytes) on local files; the bulk reads go
 * through uv_fs_read. The id table is the one piece shared with the commit
 * job and is guarded by t->lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "logseal/array.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "tail_internal.h"

struct cands {
    struct tail_cand *v;
    size_t n, cap;
    bool compressed; /* list compressed files too */
    int pass;        /* which look at the directory (test seam) */
};

bool (*lsl_tail_scan_miss)(const char *path, int pass);

static void look_stat(struct tail_file *f, const struct stat *st)
{
    f->size = (uint64_t)st->st_size;
    f->nlink = (uint64_t)st->st_nlink;
    f->mtime = st->st_mtim;
}

/* The id and the head bytes it covers, read again. */
static int ident(int fd, struct lsl_file_id *id, uint8_t *head)
{
    int rc = lsl_file_id_get(fd, id);

    if (rc == 0 && id->fp_len > 0)
        rc = lsl_pread_exact(fd, head, id->fp_len, 0);
    /* The bytes must be those the fingerprint covers (no write between). */
    if (rc == 0 && id->fp_len > 0) {
        uint8_t fp[LSL_FP_BYTES];

        lsl_fp_of(head, id->fp_len, fp);
        if (memcmp(fp, id->fp, LSL_FP_BYTES) != 0)
            rc = -EAGAIN;
    }
    return rc;
}

int tail_file_ident(struct tail_file *f)
{
    int rc = ident(f->fd, &f->id, f->head);

    lsl_head_marks_of(f->head, rc == 0 ? f->id.fp_len : 0, &f->marks);
    return rc;
}

int tail_file_open(struct tail_file *f, const char *path)
{
    struct stat st;
    int rc;

    memset(f, 0, sizeof(*f));
    f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    /* (end_len 0: not left yet) */
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
    rc = tail_file_ident(f);
    if (rc)
        goto fail;
    look_stat(f, &st);
    f->prev_size = f->size;
    f->prev_mtime = f->mtime;
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
    sodium_memzero(f->head, sizeof(f->head));
}

/* Publish f's id and mtime for its generation (and, with `start`, the
 * fingerprint of the bytes before where reading began). */
static void ids_put(struct lsl_tail_source *t, const struct tail_file *f,
                    const struct lsl_checkpoint *start)
{
    struct tail_id *slot = NULL;

    uv_mutex_lock(&t->lock);
    for (size_t i = 0; i < TAIL_IDS; i++) {
        struct tail_id *e = &t->ids[i];

        /* Older than the last commit: no batch of it is in flight. */
        if (e->gen == f->gen || e->gen == 0 ||
            (!slot && e->gen < t->committed.file_id)) {
            slot = e;
            if (e->gen == f->gen)
                break;
        }
    }
    if (!slot) {
        slot = &t->ids[0];
        for (size_t i = 1; i < TAIL_IDS; i++)
            if (t->ids[i].gen < slot->gen)
                slot = &t->ids[i];
    }
    if (slot->gen != f->gen && !start)
        goto out; /* an update of a generation no longer tracked */
    slot->gen = f->gen;
    slot->id = f->id;
    slot->mtime_ns = tail_ns(&f->mtime);
    slot->deleted = f->nlink == 0;
    slot->heads = f->marks;
    if (start) {
        unsigned n =
            t->nfinished < LSL_CKPT_DONE ? t->nfinished : LSL_CKPT_DONE;

        slot->start = start->offset;
        slot->start_end_len = start->end_len;
        memcpy(slot->start_end_fp, start->end_fp, LSL_FP_BYTES);
        /* The most recent ones, oldest first. */
        for (unsigned i = 0; i < n; i++)
            slot->done[i] = t->finished[(t->nfinished - n + i) % TAIL_FINISHED];
        slot->ndone = n;
    }
out:
    uv_mutex_unlock(&t->lock);
}

int tail_file_look(struct lsl_tail_source *t, struct tail_file *f,
                   bool *rewritten)
{
    struct stat st;
    bool changed;

    if (fstat(f->fd, &st) < 0)
        return -errno;
    f->prev_size = f->size;
    f->prev_mtime = f->mtime;
    changed = tail_ns(&st.st_mtim) != tail_ns(&f->mtime) ||
              (uint64_t)st.st_nlink != f->nlink;
    look_stat(f, &st);
    *rewritten = f->size < f->offset ||
                 (f->id.fp_len > 0 && !lsl_file_fp_same(f->fd, &f->id));
    if (changed && f->gen && !*rewritten)
        ids_put(t, f, NULL);
    return 0;
}

bool tail_ids_get(struct lsl_tail_source *t, uint64_t gen, struct tail_id *e)
{
    bool found = false;

    uv_mutex_lock(&t->lock);
    for (size_t i = 0; i < TAIL_IDS && !found; i++) {
        if (t->ids[i].gen == gen) {
            *e = t->ids[i];
            found = true;
        }
    }
    uv_mutex_unlock(&t->lock);
    return found;
}

void tail_file_begin(struct lsl_tail_source *t, struct tail_file *f,
                     uint64_t offset)
{
    struct lsl_checkpoint start;

    memset(&start, 0, sizeof(start));
    start.offset = offset;
    /* Unreadable: resuming there later just checks less. */
    if (lsl_checkpoint_end_get(f->fd, &start) != 0)
        start.end_len = 0;
    f->gen = ++t->last_gen;
    f->start = offset;
    f->offset = offset;
    f->born = f->mtime;
    if (f->id.btime_ns > 0) {
        f->born.tv_sec = f->id.btime_ns / 1000000000;
        f->born.tv_nsec = f->id.btime_ns % 1000000000;
    }
    ids_put(t, f, &start);
}

void tail_file_mark_end(struct tail_file *f)
{
    struct lsl_checkpoint at;

    memset(&at, 0, sizeof(at));
    at.offset = f->offset;
    if (lsl_checkpoint_end_get(f->fd, &at) != 0)
        at.end_len = 0;
    f->end_len = at.end_len;
    memcpy(f->end_fp, at.end_fp, LSL_FP_BYTES);
}

/*
 * Does fd (size bytes) start with f's head, as a copy of f does? A copy
 * shorter than the fingerprint (taken before the last bytes it covers were
 * written) is compared byte by byte with the head kept in memory.
 */
static bool head_same(int fd, uint64_t size, const struct tail_file *f)
{
    uint8_t buf[LSL_FP_SPAN];
    bool same;

    if (f->id.fp_len == 0 || size == 0)
        return false;
    if (size >= f->id.fp_len)
        return lsl_file_fp_same(fd, &f->id);
    same = pread(fd, buf, (size_t)size, 0) == (ssize_t)size &&
           memcmp(buf, f->head, (size_t)size) == 0;
    sodium_memzero(buf, sizeof(buf));
    return same;
}

/* Does fd hold prev's bytes up to where prev was left (a copy of it)? */
static bool copy_of(int fd, const struct tail_file *prev)
{
    struct lsl_checkpoint at;
    struct stat st;

    if (fstat(fd, &st) != 0 || !head_same(fd, (uint64_t)st.st_size, prev))
        return false;
    /* Shorter than where prev was left: a copy taken before prev's last
     * lines were written (and read from prev), so no newer than them; a
     * new file with the same first bytes is written after prev was. */
    if ((uint64_t)st.st_size < prev->offset)
        return tail_ns(&st.st_mtim) <= tail_ns(&prev->mtime);
    if (prev->end_len == 0)
        return true; /* otherwise the bytes before the offset decide */
    memset(&at, 0, sizeof(at));
    at.offset = prev->offset;
    at.end_len = prev->end_len;
    memcpy(at.end_fp, prev->end_fp, LSL_FP_BYTES);
    return lsl_checkpoint_end_same(fd, &at);
}

bool tail_file_grow_fp(struct lsl_tail_source *t, struct tail_file *f)
{
    struct lsl_file_id id;
    uint8_t head[LSL_FP_SPAN];
    struct stat st;
    bool same;

    if (f->id.fp_len >= LSL_FP_SPAN || f->size <= f->id.fp_len)
        return true;
    /* The bytes fingerprinted must be the file the last look saw: one
     * rewritten since (copytruncate, then new lines; an empty file's
     * fingerprint covers nothing to tell) would have its new bytes
     * fingerprinted, then read as the old file's. */
    same = ident(f->fd, &id, head) == 0 && fstat(f->fd, &st) == 0 &&
           (uint64_t)st.st_size == f->size &&
           tail_ns(&st.st_mtim) == tail_ns(&f->mtime);
    if (same && id.fp_len > f->id.fp_len &&
        memcmp(head, f->head, f->id.fp_len) == 0) {
        f->id = id;
        memcpy(f->head, head, id.fp_len);
        lsl_head_marks_of(f->head, id.fp_len, &f->marks);
        ids_put(t, f, NULL);
    }
    sodium_memzero(head, sizeof(head));
    return same;
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

bool tail_was_finished(const struct lsl_tail_source *t,
                       const struct lsl_file_id *id)
{
    unsigned n = t->nfinished < TAIL_FINISHED ? t->nfinished : TAIL_FINISHED;

    for (unsigned i = 0; i < n; i++)
        if (t->finished[i].fp_len == id->fp_len &&
            memcmp(t->finished[i].fp, id->fp, LSL_FP_BYTES) == 0)
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
    char num[24];
    size_t n;

    if (dot && compressed(path)) {
        /* access.log.2.gz ranks as access.log.2 */
        n = (size_t)(dot - path);
        while (n > 0 && path[n - 1] != '.')
            n--;
        if (n == 0 || (size_t)(dot - path) - n >= sizeof(num))
            return 0;
        snprintf(num, sizeof(num), "%.*s", (int)((size_t)(dot - path) - n),
                 path + n);
        return strspn(num, "0123456789") == strlen(num) && num[0]
                   ? strtoul(num, NULL, 10)
                   : 0;
    }
    if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
        return 0;
    return strtoul(dot + 1, NULL, 10);
}

/* What stat says of the file at `path`, and its birth time where known
 * (an inode freed and given again to a new file is not the old file). */
static int stat_cand(const char *path, struct tail_cand *e)
{
    struct statx sx;

    memset(&e->st, 0, sizeof(e->st));
    if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS | STATX_BTIME, &sx) < 0)
        return -1;
    e->st.st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
    e->st.st_ino = (ino_t)sx.stx_ino;
    e->st.st_mode = sx.stx_mode;
    e->st.st_nlink = sx.stx_nlink;
    e->st.st_size = (off_t)sx.stx_size;
    e->st.st_mtim.tv_sec = sx.stx_mtime.tv_sec;
    e->st.st_mtim.tv_nsec = sx.stx_mtime.tv_nsec;
    e->btime_ns =
        (sx.stx_mask & STATX_BTIME)
            ? (int64_t)sx.stx_btime.tv_sec * 1000000000 + sx.stx_btime.tv_nsec
            : 0;
    return 0;
}

static int cands_add(struct cands *c, const char *path, bool is_path)
{
    struct tail_cand *e;
    bool gz = compressed(path);

    if ((gz && !c->compressed) ||
        (lsl_tail_scan_miss && lsl_tail_scan_miss(path, c->pass)))
        return 0;
    if (lsl_array_grow(&c->v, &c->cap, c->n + 1, sizeof(*c->v), 8))
        return -ENOMEM;
    e = &c->v[c->n];
    if (stat_cand(path, e) < 0 || !S_ISREG(e->st.st_mode) ||
        snprintf(e->path, sizeof(e->path), "%s", path) >= (int)sizeof(e->path))
        return 0;
    e->rank = rank_of(path);
    e->is_path = is_path;
    e->compressed = gz;
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

/* By mtime, then the path last, then the higher .N first, then by name. */
static int cmp_cand(const void *a, const void *b)
{
    const struct tail_cand *x = a, *y = b;

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

/*
 * A path's rotations by their names, which say their order whatever their
 * mtimes (a late write to a rotated file makes it look newer): the path
 * last, path.N with the higher N first; other names (path-DATE) by mtime.
 */
static int cmp_named(const void *a, const void *b)
{
    const struct tail_cand *x = a, *y = b;

    if (x->is_path != y->is_path)
        return x->is_path ? 1 : -1;
    if (x->rank && y->rank && x->rank != y->rank)
        return x->rank > y->rank ? -1 : 1;
    return cmp_cand(a, b);
}

/* One look at the directory: the matching names, each stat'ed. */
static int cands_scan(const struct lsl_tail_source *t, struct cands *c,
                      bool with_compressed, int pass)
{
    char pat[PATH_MAX + 2];
    int rc;

    memset(c, 0, sizeof(*c));
    c->compressed = with_compressed;
    c->pass = pass;
    if (t->is_glob)
        return cands_glob(c, t->path, false);
    snprintf(pat, sizeof(pat), "%s.*", t->path);
    rc = cands_glob(c, pat, false);
    snprintf(pat, sizeof(pat), "%s-*", t->path);
    if (rc == 0)
        rc = cands_glob(c, pat, false);
    return rc ? rc : cands_add(c, t->path, true);
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(((const struct tail_cand *)a)->path,
                  ((const struct tail_cand *)b)->path);
}

/* The same names on the same inodes (both sorted by path)? */
static bool cands_same(const struct cands *a, const struct cands *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].path, b->v[i].path) != 0 ||
            a->v[i].st.st_ino != b->v[i].st.st_ino ||
            a->v[i].st.st_dev != b->v[i].st.st_dev)
            return false;
    return true;
}

/*
 * Every file that may hold this source's lines, oldest first. A look
 * taken while logrotate renames (path.1 to path.2, ...) can miss a file or
 * see one twice: the names are read, then each is stat'ed, and a rename in
 * between moves a file to a name already passed (measured on ext4: about
 * 1 look in 100 during back-to-back rotations). So the directory is read
 * until two looks in a row agree (names and inodes), or CANDS_TRIES looks,
 * the last one then being used (the next wake looks again).
 */
#define CANDS_TRIES 8
static int cands_list(const struct lsl_tail_source *t, struct cands *c,
                      bool with_compressed)
{
    struct cands last = {0};
    int rc = 0;

    for (int i = 0; i < CANDS_TRIES; i++) {
        rc = cands_scan(t, c, with_compressed, i);
        if (rc)
            break;
        qsort(c->v, c->n, sizeof(*c->v), cmp_path);
        /* Stable, or never: this look. */
        if ((i > 0 && cands_same(&last, c)) || i == CANDS_TRIES - 1)
            break;
        free(last.v);
        last = *c;
        memset(c, 0, sizeof(*c));
    }
    free(last.v);
    if (rc == 0)
        qsort(c->v, c->n, sizeof(*c->v), t->is_glob ? cmp_cand : cmp_named);
    return rc;
}

int tail_cands(const struct lsl_tail_source *t, bool with_compressed,
               struct tail_cand **out, size_t *n)
{
    struct cands c;
    int rc = cands_list(t, &c, with_compressed);

    if (rc) {
        free(c.v);
        return rc;
    }
    *out = c.v;
    *n = c.n;
    return 0;
}

static bool same_inode(const struct stat *st, const struct lsl_file_id *id)
{
    return (uint64_t)st->st_dev == id->dev && (uint64_t)st->st_ino == id->ino;
}

/* The candidate is the file `id` names: its inode, and the same birth
 * time where both are known (not a new file on the inode freed). */
static bool is_file(const struct tail_cand *c, const struct lsl_file_id *id)
{
    return same_inode(&c->st, id) && (c->btime_ns == 0 || id->btime_ns == 0 ||
                                      c->btime_ns == id->btime_ns);
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

void (*lsl_tail_before_open)(const char *path);

enum adopt_res { ADOPT_NO, ADOPT_YES, ADOPT_MOVED };

/*
 * A file worth adopting after `prev`: not finished, not a copy of it.
 * ADOPT_MOVED if the name no longer holds the file listed (renamed since
 * the listing: it is out of date).
 */
static enum adopt_res adopt(struct lsl_tail_source *t,
                            const struct tail_cand *c,
                            const struct tail_file *prev, struct tail_file *out)
{
    int rc;

    if (lsl_tail_before_open)
        lsl_tail_before_open(c->path);
    rc = tail_file_open(out, c->path);
    if (rc)
        return rc == -ENOENT ? ADOPT_MOVED : ADOPT_NO;
    if (!is_file(c, &out->id)) {
        tail_file_close(out);
        return ADOPT_MOVED;
    }
    if (was_finished(t, out->fd))
        goto skip;
    if (prev && copy_of(out->fd, prev)) {
        /* Its lines were read from prev: never read it, restarts too. */
        tail_remember_finished(t, &out->id);
        goto skip;
    }
    return ADOPT_YES;
skip:
    tail_file_close(out);
    return ADOPT_NO;
}

/* One try of find_next on one listing; *moved if it is out of date. */
static int find_next_once(struct lsl_tail_source *t,
                          const struct tail_file *prev, bool by_time,
                          bool rotated_only, struct tail_file *out, bool *moved)
{
    struct cands c;
    size_t i = 0;
    int rc = cands_list(t, &c, false);

    out->fd = -1;
    *moved = false;
    if (rc)
        goto out;
    while (!by_time && i < c.n && !is_file(&c.v[i], &prev->id))
        i++;
    /* prev is gone (or rewritten): whatever was written since it was last
     * seen, in rotation order. */
    by_time = by_time || i == c.n;
    for (i = by_time ? 0 : i + 1; i < c.n && !*moved; i++) {
        enum adopt_res a;

        /* Copies looked for hold something: an empty rotation is none. */
        if ((by_time && ts_before(&c.v[i].st.st_mtim, &prev->mtime)) ||
            (rotated_only && (c.v[i].is_path || c.v[i].st.st_size == 0)) ||
            is_file(&c.v[i], &prev->id))
            continue;
        a = adopt(t, &c.v[i], prev, out);
        *moved = a == ADOPT_MOVED;
        if (a != ADOPT_YES)
            continue;
        /* A copy made since is born since; a rotation written late was
         * born before (known where the file system keeps birth times). */
        if (!rotated_only || out->id.btime_ns == 0 ||
            out->id.btime_ns >= tail_ns(&prev->mtime))
            break;
        tail_file_close(out);
    }
out:
    free(c.v);
    return rc;
}

/* Files renamed while the candidates are opened: list them again. */
static int find_next(struct lsl_tail_source *t, const struct tail_file *prev,
                     bool by_time, bool rotated_only, struct tail_file *out)
{
    bool moved = true;
    int rc = 0;

    for (int i = 0; i < CANDS_TRIES && moved && rc == 0; i++)
        rc = find_next_once(t, prev, by_time, rotated_only, out, &moved);
    return rc;
}

int tail_find_next(struct lsl_tail_source *t, const struct tail_file *prev,
                   bool by_time, struct tail_file *out)
{
    return find_next(t, prev, by_time, false, out);
}

int tail_find_rotated_since(struct lsl_tail_source *t,
                            const struct tail_file *prev, struct tail_file *out)
{
    return find_next(t, prev, true, true, out);
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
    rc = cands_list(t, &c, false);
    for (size_t i = c.n; rc == 0 && i > 0; i--)
        if (adopt(t, &c.v[i - 1], NULL, out) == ADOPT_YES)
            break;
    free(c.v);
    return rc;
}

/* What find_match looks for. */
struct match {
    const struct lsl_file_id *id;
    bool by_inode;                   /* else: a copy, by its head */
    uint64_t min_size;               /* at least this long */
    const struct lsl_file_id *skip;  /* not this inode */
    bool rotated_only;               /* not the file at the path */
    const struct lsl_checkpoint *cp; /* and its bytes before the offset */
};

/* First candidate that fits `m` in one listing, or out->fd -1; *moved if
 * the listing is out of date (a name holds another inode now). */
static int find_match_once(struct lsl_tail_source *t, const struct match *m,
                           struct tail_file *out, bool *moved)
{
    struct cands c;
    int rc = cands_list(t, &c, false);

    out->fd = -1;
    *moved = false;
    for (size_t i = 0; rc == 0 && i < c.n && !*moved; i++) {
        const struct stat *st = &c.v[i].st;
        int opened;

        if ((m->by_inode && !is_file(&c.v[i], m->id)) ||
            (m->skip && is_file(&c.v[i], m->skip)) ||
            (m->rotated_only && c.v[i].is_path) ||
            (uint64_t)st->st_size < m->min_size)
            continue;
        if (lsl_tail_before_open)
            lsl_tail_before_open(c.v[i].path);
        opened = tail_file_open(out, c.v[i].path);
        *moved =
            opened == -ENOENT || (opened == 0 && !is_file(&c.v[i], &out->id));
        if (opened != 0)
            continue;
        if (!*moved &&
            (m->by_inode ? lsl_file_id_same(out->fd, m->id)
                         : lsl_file_fp_same(out->fd, m->id)) &&
            (!m->cp || lsl_checkpoint_end_same(out->fd, m->cp)))
            break;
        tail_file_close(out);
    }
    free(c.v);
    return rc;
}

static int find_match(struct lsl_tail_source *t, const struct match *m,
                      struct tail_file *out)
{
    bool moved = true;
    int rc = 0;

    for (int i = 0; i < CANDS_TRIES && moved && rc == 0; i++)
        rc = find_match_once(t, m, out, &moved);
    return rc;
}

int tail_find_checkpointed(struct lsl_tail_source *t,
                           const struct lsl_checkpoint *cp,
                           struct tail_file *out)
{
    struct match m = {
        .id = &cp->file, .by_inode = true, .min_size = cp->offset, .cp = cp};
    int rc = find_match(t, &m, out);

    /* Not by inode: a copytruncate copy holds its bytes under a new one,
     * and is never the file at the path (a new file there with the same
     * first bytes is not taken for it) -- nor made of a file already
     * deleted (a new file with its first bytes, rotated since, is not). */
    if (rc == 0 && out->fd < 0 && cp->file.fp_len > 0 && !cp->deleted) {
        m.by_inode = false;
        m.rotated_only = true;
        rc = find_match(t, &m, out);
    }
    return rc;
}

int tail_skip_short_copies(struct lsl_tail_source *t,
                           const struct lsl_checkpoint *cp)
{
    struct cands c;
    struct tail_file f;
    int rc = cands_list(t, &c, false);

    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        const struct stat *st = &c.v[i].st;

        /* A copy is never the file at the path, nor the file itself. */
        if (c.v[i].is_path || is_file(&c.v[i], &cp->file) || st->st_size <= 0 ||
            (uint64_t)st->st_size >= cp->offset ||
            tail_ns(&st->st_mtim) > cp->mtime_ns ||
            tail_file_open(&f, c.v[i].path) != 0)
            continue;
        if (lsl_checkpoint_head_same(f.fd, f.size, cp)) {
            tail_remember_finished(t, &f.id);
            lsl_log_info("%s: %s is a copy of the checkpointed file taken "
                         "before its last committed bytes were written; "
                         "not read again",
                         t->base.name, f.path);
        }
        tail_file_close(&f);
    }
    free(c.v);
    return rc;
}

int tail_find_copy(struct lsl_tail_source *t, const struct tail_file *orig,
                   struct tail_file *out)
{
    struct match m = {
        .id = &orig->id, .min_size = orig->offset, .skip = &orig->id};

    if (orig->id.fp_len == 0) {
        out->fd = -1;
        return 0;
    }
    return find_match(t, &m, out);
}

enum tail_detach tail_detached(struct lsl_tail_source *t)
{
    struct tail_file next;
    struct stat st;

    if (t->cur.nlink == 0)
        return DETACH_DELETED;
    if (!t->is_glob) {
        /* No file at the path: cur lives on under another name. */
        if (stat(t->path, &st) < 0)
            return errno == ENOENT ? DETACH_ROTATED : DETACH_NONE;
        return same_inode(&st, &t->cur.id) ? DETACH_NONE : DETACH_ROTATED;
    }
    if (tail_find_next(t, &t->cur, false, &next) != 0 || next.fd < 0)
        return DETACH_NONE;
    tail_file_close(&next);
    return DETACH_ROTATED;
}
