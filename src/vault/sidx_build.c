/*
 * Updating the sealed index (sidx.h): read the vault files that are new
 * or changed, write their (token, chunk) entries as a new run, merge runs
 * as they pile up, then write the next manifest.
 *
 * Invariants: a file is covered by the entries of exactly one reading,
 * the one its manifest record names (its number); entries of an older
 * number are dead and dropped when their run is merged. A run holds its
 * own chunk table, so its entries need nothing else. Memory per run is
 * bounded by the budget (entries are cut into runs at file boundaries).
 * Runs are merged while the newest holds at least half as many entries as
 * the one before it (or there are more than RUNS_MAX), so there are
 * O(log n) of them and every entry is rewritten O(log n) times. The old
 * manifest and its runs stay valid until the new manifest has replaced it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
#include "logseal/array.h"
#include "logseal/file.h"
#include "sidx_internal.h"

#define DEFAULT_BUDGET ((size_t)4 << 20)
#define RUNS_MAX       12

struct builder {
    struct lsl_sidx *ix; /* runs and numbers go here */
    struct lsl_sidx *nk; /* the new generation's verification keys */
    const struct lsl_officer_key *key;
    const struct lsl_sidx_update_opts *o;
    struct lsl_sidx_update_result *res;
    uint8_t *entries; /* SIDX_ENTRY each: tokens are pseudonyms */
    size_t n, cap;
    struct lsl_buf chunks; /* SIDX_CT each: stream states, wiped */
    size_t budget;
    struct sidx_file *files; /* the new generation's */
    size_t nfiles, capf;
    struct sidx_job *jobs; /* the files to read */
    size_t njobs, capj;
};

/* ---- sorting: by the first two hash bytes, then within each bucket ---- */

static int entry_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SIDX_ENTRY);
}

static int sort_entries(struct builder *b)
{
    size_t *start = calloc(65537, sizeof(*start));
    uint8_t *out = malloc(b->n ? b->n * SIDX_ENTRY : 1);

    if (!start || !out) {
        free(start);
        free(out);
        return -ENOMEM;
    }
    for (size_t i = 0; i < b->n; i++)
        start[lsl_sidx_get_be(b->entries + i * SIDX_ENTRY, 2) + 1]++;
    for (size_t k = 1; k <= 65536; k++)
        start[k] += start[k - 1];
    for (size_t i = 0; i < b->n; i++) {
        const uint8_t *e = b->entries + i * SIDX_ENTRY;

        memcpy(out + start[lsl_sidx_get_be(e, 2)]++ * SIDX_ENTRY, e,
               SIDX_ENTRY);
    }
    /* start[k] is now where bucket k ends. */
    for (size_t k = 0, from = 0; k < 65536; from = start[k++]) {
        if (start[k] - from > 1)
            qsort(out + from * SIDX_ENTRY, start[k] - from, SIDX_ENTRY,
                  entry_cmp);
    }
    free(start);
    free(b->entries);
    b->entries = out;
    b->cap = b->n;
    return 0;
}

static int add_run(struct lsl_sidx *ix, const struct sidx_run *r)
{
    struct sidx_run *v = realloc(ix->runs, (ix->nruns + 1) * sizeof(*v));

    if (!v)
        return -ENOMEM;
    ix->runs = v;
    ix->runs[ix->nruns++] = *r;
    return 0;
}

/* Write the collected entries as a new run and start over. */
static int flush_run(struct builder *b)
{
    struct sidx_run r = {.no = b->ix->next_run, .fd = -1};
    struct sidx_writer w = {.fd = -1};
    int rc;

    if (b->n == 0) {
        lsl_buf_wipe(&b->chunks);
        return 0;
    }
    rc = sort_entries(b);
    if (rc)
        return rc;
    b->ix->next_run++;
    rc = lsl_sidx_writer_open(&w, b->ix, &r, (const uint8_t *)b->chunks.p,
                              (uint32_t)(b->chunks.len / SIDX_CT));
    for (size_t i = 0; rc == 0 && i < b->n; i++) {
        const uint8_t *e = b->entries + i * SIDX_ENTRY;

        if (i == 0 || memcmp(e, e - SIDX_ENTRY, SIDX_ENTRY) != 0)
            rc = lsl_sidx_writer_add(&w, e);
    }
    if (w.fd >= 0) {
        int frc = lsl_sidx_writer_finish(&w, rc == 0);

        rc = rc ? rc : frc;
    }
    if (rc == 0)
        rc = add_run(b->ix, &r);
    b->n = 0;
    lsl_buf_wipe(&b->chunks);
    return rc;
}

/* ---- the file table of the new generation ---- */

static struct sidx_file *new_file(struct builder *b)
{
    if (lsl_array_grow(&b->files, &b->capf, b->nfiles + 1, sizeof(*b->files),
                       64))
        return NULL;
    memset(&b->files[b->nfiles], 0, sizeof(b->files[0]));
    return &b->files[b->nfiles];
}

static void ident_of(const struct stat *st, struct sidx_ident *d)
{
    d->dev = (uint64_t)st->st_dev;
    d->ino = (uint64_t)st->st_ino;
    d->size = (uint64_t)st->st_size;
    d->mtime_s = (int64_t)st->st_mtim.tv_sec;
    d->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
    d->ctime_s = (int64_t)st->st_ctim.tv_sec;
    d->ctime_ns = (int64_t)st->st_ctim.tv_nsec;
}

/* The old generation's record of name, if its identity is unchanged. */
static struct sidx_file *old_same(struct lsl_sidx *old, const char *name,
                                  const struct sidx_ident *id)
{
    size_t lo = 0, hi = old->nfiles;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(old->files[mid].name, name);

        if (c == 0)
            return memcmp(&old->files[mid].id, id, sizeof(*id)) == 0
                       ? &old->files[mid]
                       : NULL;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The index of verification key vk (kid) in the new table, added if new. */
static int vkey_slot(struct lsl_sidx *ix, const uint8_t *vk, uint16_t kid,
                     int *slot)
{
    uint8_t *mem;
    struct sidx_vkey *v;

    for (size_t i = 0; i < ix->nvkeys; i++) {
        if (ix->vkeys[i].kid == kid &&
            sodium_memcmp(ix->vkeys[i].vk, vk, LSL_VKEY_BYTES) == 0) {
            *slot = (int)i;
            return 0;
        }
    }
    mem = sodium_allocarray(ix->nvkeys + 1, LSL_VKEY_BYTES);
    v = realloc(ix->vkeys, (ix->nvkeys + 1) * sizeof(*v));
    if (v)
        ix->vkeys = v;
    if (!mem || !v) {
        sodium_free(mem);
        return -ENOMEM;
    }
    if (ix->nvkeys)
        memcpy(mem, ix->vkmem, ix->nvkeys * LSL_VKEY_BYTES);
    memcpy(mem + ix->nvkeys * LSL_VKEY_BYTES, vk, LSL_VKEY_BYTES);
    sodium_free(ix->vkmem);
    ix->vkmem = mem;
    ix->vkeys[ix->nvkeys].kid = kid;
    for (size_t i = 0; i <= ix->nvkeys; i++)
        ix->vkeys[i].vk = mem + i * LSL_VKEY_BYTES;
    *slot = (int)ix->nvkeys++;
    return 0;
}

/* Take a file read by a worker: its record, its entries into the run. */
static int job_done(struct sidx_job *j, void *ud)
{
    struct builder *b = ud;
    struct sidx_file *f = new_file(b);
    size_t base = b->chunks.len / SIDX_CT;
    int rc;

    if (!f)
        return -ENOMEM;
    if (j->rc == -ENOMEM || j->rc == -EFBIG)
        return j->rc;
    if (base + j->chunks.len / SIDX_CT >= UINT32_MAX)
        return -EFBIG;
    f->name = strdup(j->name);
    if (!f->name)
        return -ENOMEM;
    f->id = j->id;
    f->pub = (struct lsl_sidx_file){
        .no = j->no, .rc = j->rc, .info = j->info, .vkey = -1};
    b->nfiles++;
    rc = j->info.have_keys
             ? vkey_slot(b->nk, j->vkey,
                         (uint16_t)(j->info.epoch % (LSL_VAULT_KID_MAX + 1)),
                         &f->pub.vkey)
             : 0;
    if (rc == 0)
        rc = lsl_array_grow(&b->entries, &b->cap, b->n + j->n, SIDX_ENTRY,
                            65536);
    rc = rc ? rc : lsl_buf_append(&b->chunks, j->chunks.p, j->chunks.len);
    for (size_t i = 0; rc == 0 && i < j->n; i++) {
        uint8_t *e = b->entries + (b->n + i) * SIDX_ENTRY;

        memcpy(e, j->entries + i * SIDX_ENTRY, SIDX_ENTRY);
        lsl_sidx_put_be(e + SIDX_KEY, base + lsl_sidx_get_be(e + SIDX_KEY, 4),
                        4);
    }
    if (rc)
        return rc;
    b->n += j->n;
    b->res->mappings += j->n;
    b->res->read++;
    if (b->o->on_file)
        b->o->on_file(j->path, &j->info, j->rc, b->o->ud);
    return b->n >= b->budget ? flush_run(b) : 0;
}

/* A file to read (numbered now, read by the workers). */
static int add_job(struct builder *b, const char *path,
                   const struct sidx_ident *id)
{
    struct sidx_job *j;
    int rc =
        lsl_array_grow(&b->jobs, &b->capj, b->njobs + 1, sizeof(*b->jobs), 64);

    if (rc)
        return rc;
    j = &b->jobs[b->njobs];
    memset(j, 0, sizeof(*j));
    j->path = strdup(path);
    if (!j->path)
        return -ENOMEM;
    j->name = strrchr(j->path, '/') ? strrchr(j->path, '/') + 1 : j->path;
    j->id = *id;
    j->no = b->ix->next_file++;
    b->njobs++;
    return 0;
}

/* Keep an unchanged file's record (its verification key re-slotted). */
static int keep_file(struct builder *b, struct lsl_sidx *old,
                     struct sidx_file *of)
{
    struct sidx_file *f = new_file(b);
    int rc = 0;

    if (!f)
        return -ENOMEM;
    *f = *of;
    f->name = strdup(of->name);
    if (!f->name)
        return -ENOMEM;
    b->nfiles++;
    if (of->pub.vkey >= 0)
        rc = vkey_slot(b->nk, old->vkeys[of->pub.vkey].vk,
                       old->vkeys[of->pub.vkey].kid, &f->pub.vkey);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const struct sidx_file *)a)->name,
                  ((const struct sidx_file *)b)->name);
}

/* Walk the vault: keep what is unchanged, read the rest. */
static int scan_vault(struct builder *b, struct lsl_sidx *old, const char *dir)
{
    char **names = NULL, path[4096];
    size_t n = 0, kept = 0;
    struct sidx_ident id;
    struct stat st;
    int rc = lsl_vault_list(dir, &names, &n);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct sidx_file *of;

        /* As lsl_vault_read_dir: a name that is no regular file is
         * skipped. */
        if (lsl_path_join(path, sizeof(path), dir, names[i]) != 0 ||
            stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        ident_of(&st, &id);
        of = old_same(old, names[i], &id);
        if (of) {
            rc = keep_file(b, old, of);
            kept++;
        } else {
            rc = add_job(b, path, &id);
        }
    }
    lsl_vault_list_free(names, n);
    b->res->dropped = old->nfiles > kept ? old->nfiles - kept : 0;
    if (rc == 0)
        rc = lsl_sidx_read_jobs(b->key, b->jobs, b->njobs, b->o->threads,
                                job_done, b);
    if (rc == 0)
        rc = flush_run(b);
    if (rc == 0 && b->nfiles)
        qsort(b->files, b->nfiles, sizeof(*b->files), name_cmp);
    return rc;
}

/* ---- merging runs ---- */

struct cursor {
    struct sidx_run *r;
    struct lsl_buf leaf;
    uint64_t off; /* of the leaf in `leaf` */
    size_t pos, count;
    uint32_t *remap; /* run-local chunk -> merged chunk, or UINT32_MAX */
};

static int cursor_load(struct lsl_sidx *ix, struct cursor *c, uint64_t off)
{
    int rc = lsl_sidx_block_read(ix, c->r, off, SIDX_K_LEAF, &c->leaf);

    c->off = off;
    c->pos = 0;
    c->count = rc ? 0 : (size_t)lsl_get_le((const uint8_t *)c->leaf.p + 4, 4);
    return rc;
}

/* The cursor's current entry, or NULL at the end (after advancing). */
static int cursor_peek(struct lsl_sidx *ix, struct cursor *c, const uint8_t **e)
{
    int rc;

    while (c->pos == c->count) {
        uint64_t next =
            c->leaf.len ? lsl_get_le((const uint8_t *)c->leaf.p + 8, 8) : 0;

        if (!next) {
            *e = NULL;
            return 0;
        }
        if (next <= c->off)
            return LSL_ECORRUPT; /* a chain that does not move forward */
        rc = cursor_load(ix, c, next);
        if (rc)
            return rc;
    }
    *e = (const uint8_t *)c->leaf.p + SIDX_LEAF_HDR + c->pos * SIDX_ENTRY;
    return 0;
}

/* Chunks of run r whose file is still covered go to `out`, renumbered. */
static int remap_chunks(struct lsl_sidx *ix, struct cursor *c,
                        struct lsl_buf *out)
{
    const uint8_t *ce;
    int rc = lsl_sidx_run_open(ix, c->r);

    c->remap = malloc((c->r->nchunks ? c->r->nchunks : 1) * sizeof(uint32_t));
    if (rc == 0 && !c->remap)
        rc = -ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < c->r->nchunks; i++) {
        rc = lsl_sidx_chunk(ix, c->r, i, &ce);
        if (rc)
            break;
        c->remap[i] = UINT32_MAX;
        if (!lsl_sidx_by_no(ix, (uint32_t)lsl_get_le(ce, 4)))
            continue;
        c->remap[i] = (uint32_t)(out->len / SIDX_CT);
        rc = lsl_buf_append(out, ce, SIDX_CT);
    }
    if (rc == 0 && c->r->first_leaf)
        rc = cursor_load(ix, c, c->r->first_leaf);
    return rc;
}

/* The smallest current entry over the cursors, renumbered; -1: none. */
static int next_entry(struct lsl_sidx *ix, struct cursor *cs, size_t k,
                      uint8_t e[SIDX_ENTRY], int *which)
{
    *which = -1;
    for (size_t i = 0; i < k; i++) {
        const uint8_t *p;
        uint32_t to;
        int rc;

        for (;;) {
            rc = cursor_peek(ix, &cs[i], &p);
            if (rc)
                return rc;
            if (!p)
                break;
            to = (uint32_t)lsl_sidx_get_be(p + SIDX_KEY, 4);
            if (to < cs[i].r->nchunks && cs[i].remap[to] != UINT32_MAX)
                break;
            cs[i].pos++; /* a dead file's, or damaged: dropped */
        }
        if (!p)
            continue;
        to = cs[i].remap[lsl_sidx_get_be(p + SIDX_KEY, 4)];
        if (*which >= 0 && memcmp(p, e, SIDX_KEY) > 0)
            continue;
        if (*which >= 0 && memcmp(p, e, SIDX_KEY) == 0 &&
            to > lsl_sidx_get_be(e + SIDX_KEY, 4))
            continue;
        memcpy(e, p, SIDX_KEY);
        lsl_sidx_put_be(e + SIDX_KEY, to, 4);
        *which = (int)i;
    }
    return 0;
}

/* Merge runs[from..nruns) into one run in their place. */
static int merge_tail(struct lsl_sidx *ix, size_t from)
{
    size_t k = ix->nruns - from;
    struct cursor *cs = calloc(k, sizeof(*cs));
    struct sidx_run r = {.no = ix->next_run, .fd = -1};
    struct lsl_buf chunks = {0};
    struct sidx_writer w = {.fd = -1};
    uint8_t e[SIDX_ENTRY];
    int rc = cs ? 0 : -ENOMEM, which = 0;

    for (size_t i = 0; rc == 0 && i < k; i++) {
        cs[i].r = &ix->runs[from + i];
        rc = remap_chunks(ix, &cs[i], &chunks);
    }
    if (rc == 0)
        rc = lsl_sidx_writer_open(&w, ix, &r, (const uint8_t *)chunks.p,
                                  (uint32_t)(chunks.len / SIDX_CT));
    while (rc == 0) {
        rc = next_entry(ix, cs, k, e, &which);
        if (rc || which < 0)
            break;
        cs[which].pos++;
        rc = lsl_sidx_writer_add(&w, e);
    }
    if (w.fd >= 0) {
        int frc = lsl_sidx_writer_finish(&w, rc == 0);

        rc = rc ? rc : frc;
    }
    for (size_t i = 0; cs && i < k; i++) {
        lsl_buf_free(&cs[i].leaf);
        free(cs[i].remap);
        lsl_sidx_run_release(cs[i].r);
    }
    free(cs);
    lsl_buf_free(&chunks);
    if (rc)
        return rc;
    ix->next_run++;
    ix->nruns = from;
    return r.entries ? add_run(ix, &r) : 0;
}

static int merge_runs(struct lsl_sidx *ix, struct lsl_sidx_update_result *res)
{
    while (ix->nruns >= 2) {
        const struct sidx_run *last = &ix->runs[ix->nruns - 1];
        size_t before = ix->nruns;
        int rc;

        if (ix->nruns <= RUNS_MAX && last->entries * 2 < last[-1].entries)
            break;
        rc = merge_tail(ix, ix->nruns - 2);
        if (rc)
            return rc;
        res->merged += before - ix->nruns + 1;
    }
    return 0;
}

/* ---- the update ---- */

/* Remove run files the manifest does not name (merged, or a crash's). */
static void remove_stale_runs(const struct lsl_sidx *ix)
{
    DIR *d = opendir(ix->dir);
    struct dirent *de;

    while (d && (de = readdir(d)) != NULL) {
        uint64_t no;
        bool named = false;
        char path[4096];

        if (sscanf(de->d_name, "run-%" SCNu64 ".lsi", &no) != 1)
            continue;
        for (size_t i = 0; i < ix->nruns && !named; i++)
            named = ix->runs[i].no == no;
        if (!named && lsl_sidx_path(ix, de->d_name, path, sizeof(path)) == 0)
            unlink(path);
    }
    if (d)
        closedir(d);
}

/* Lock the index directory (created 0700) for the update. */
static int lock_index(struct lsl_sidx *ix)
{
    char path[4096];
    int rc = lsl_mkdir_p(ix->dir, 0700);

    rc = rc ? rc : lsl_sidx_path(ix, "lock", path, sizeof(path));
    if (rc)
        return rc;
    ix->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (ix->lock_fd < 0 || flock(ix->lock_fd, LOCK_EX) != 0)
        return -errno;
    return 0;
}

/* The old generation, or a fresh one (res->damage says why). */
static int load_old(struct lsl_sidx *ix, bool rebuild,
                    struct lsl_sidx_update_result *res)
{
    int rc = rebuild ? -ENOENT : lsl_sidx_manifest_load(ix);

    if (rc == LSL_EAUTH || rc == LSL_ECORRUPT || rc == LSL_EFORMAT ||
        rc == LSL_EVERSION) {
        res->damage = rc;
        rc = -ENOENT;
    }
    if (rc != -ENOENT)
        return rc;
    /* A new lineage: no block of an old index opens in the new one. */
    lsl_sidx_clear(ix);
    randombytes_buf(ix->lineage, sizeof(ix->lineage));
    ix->generation = 0;
    ix->next_run = 1;
    ix->next_file = 1;
    return 0;
}

/* Move the builder's file table and keys into ix (the new generation). */
static int adopt(struct lsl_sidx *ix, struct builder *b, struct lsl_sidx *nk)
{
    for (size_t i = 0; i < ix->nfiles; i++)
        free(ix->files[i].name);
    free(ix->files);
    ix->files = b->files;
    ix->nfiles = b->nfiles;
    b->files = NULL;
    b->nfiles = 0;
    free(ix->vkeys);
    sodium_free(ix->vkmem);
    ix->vkeys = nk->vkeys;
    ix->vkmem = nk->vkmem;
    ix->nvkeys = nk->nvkeys;
    nk->vkeys = NULL;
    nk->vkmem = NULL;
    nk->nvkeys = 0;
    return lsl_sidx_number(ix);
}

int lsl_sidx_update(const char *vault_dir, const struct lsl_officer_key *key,
                    const struct lsl_sidx_update_opts *o,
                    struct lsl_sidx_update_result *res)
{
    static const struct lsl_sidx_update_opts none;
    struct builder b = {.key = key, .o = o ? o : &none, .res = res};
    struct lsl_sidx *ix = NULL, *nk = NULL;
    int rc;

    memset(res, 0, sizeof(*res));
    b.budget = b.o->run_budget ? b.o->run_budget : DEFAULT_BUDGET;
    rc = lsl_vault_sodium_init();
    rc = rc ? rc : lsl_sidx_alloc(&ix, vault_dir, key);
    rc = rc ? rc : lsl_sidx_alloc(&nk, vault_dir, key);
    rc = rc ? rc : lock_index(ix);
    rc = rc ? rc : load_old(ix, b.o->rebuild, res);
    b.ix = ix;
    b.nk = nk;
    /* Against the old generation's files and keys; new runs go to ix. */
    rc = rc ? rc : scan_vault(&b, ix, vault_dir);
    rc = rc ? rc : adopt(ix, &b, nk);
    rc = rc ? rc : merge_runs(ix, res);
    if (rc == 0) {
        ix->generation++;
        rc = lsl_sidx_manifest_write(ix);
    }
    if (rc == 0)
        remove_stale_runs(ix);
    if (rc == 0) {
        res->files = ix->nfiles;
        res->runs = ix->nruns;
        for (size_t i = 0; i < ix->nruns; i++)
            res->entries += ix->runs[i].entries;
    }
    for (size_t i = 0; i < b.njobs; i++)
        free(b.jobs[i].path);
    free(b.jobs);
    free(b.entries);
    lsl_buf_free(&b.chunks);
    for (size_t i = 0; i < b.nfiles; i++)
        free(b.files[i].name);
    free(b.files);
    lsl_sidx_close(nk);
    lsl_sidx_close(ix);
    return rc;
}
