/*
 * The sealed index (sidx.h): lookups give exactly the records a full
 * reading gives (same records, same order), incrementally as files
 * arrive, change and go; runs merge; damage, another officer key and a
 * file changed under the index are all noticed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/legal.h"
#include "logseal/sidx.h"
#include "vt_util.h"

struct fx {
    char *dir;
    char vdir[512];
    struct lsl_officer_key *key;
    uint8_t pk[32];
    struct lsl_token *toks; /* every token written */
    size_t ntoks;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = vt_tmpdir();
    snprintf(f->vdir, sizeof(f->vdir), "%s/vault", f->dir);
    assert_int_equal(mkdir(f->vdir, 0700), 0);
    vt_keys(f->dir, &f->key, f->pk);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    lsl_officer_key_close(f->key);
    free(f->toks);
    vt_rmrf(f->dir);
    free(f);
    return 0;
}

static void note_tok(struct fx *f, const struct lsl_token *t)
{
    f->toks = realloc(f->toks, (f->ntoks + 1) * sizeof(*f->toks));
    assert_non_null(f->toks);
    f->toks[f->ntoks++] = *t;
}

/*
 * A file of n values "v<base+i>" in classes by i, flushed every `every`
 * adds (so it has many chunks), the first third seen again with a wider
 * range (SEEN records at close). Returns its path in out.
 */
static void write_file(struct fx *f, unsigned base, unsigned n, unsigned every,
                       char *out, size_t cap)
{
    struct lsl_vault_writer *w = vt_writer(f->vdir, f->pk, "edge-1:test", 0);
    char value[32];

    for (unsigned i = 0; i < n; i++) {
        struct lsl_mapping m;
        bool is_new;

        snprintf(value, sizeof(value), "v%u", base + i);
        m = vt_map(i % LSL_CLASS_COUNT, 7, value, 1000 + i, 1000 + i);
        assert_int_equal(lsl_vault_writer_add(w, &m, &is_new), 0);
        if (is_new)
            note_tok(f, &m.tok);
        if (every && i % every == every - 1)
            assert_int_equal(lsl_vault_writer_flush(w), 0);
    }
    for (unsigned i = 0; i < n / 3; i++) {
        struct lsl_mapping m;
        bool is_new;

        snprintf(value, sizeof(value), "v%u", base + i);
        m = vt_map(i % LSL_CLASS_COUNT, 7, value, 10, 99999);
        assert_int_equal(lsl_vault_writer_add(w, &m, &is_new), 0);
    }
    snprintf(out, cap, "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_close(w), 0);
}

struct filter {
    const struct lsl_token *keys;
    size_t n;
    struct vt_coll *out;
};

static int tok_cmp(const void *a, const void *b)
{
    const struct lsl_token *x = a, *y = b;
    int c = memcmp(x->hash, y->hash, LSL_TOKEN_HASH_BYTES);

    return c ? c : (x->cls > y->cls) - (x->cls < y->cls);
}

static int filtered(const struct lsl_vault_record *r, void *ud)
{
    struct filter *fl = ud;

    if (!bsearch(&r->tok, fl->keys, fl->n, sizeof(*fl->keys), tok_cmp))
        return 0;
    return vt_collect(r, fl->out);
}

/* The records of keys in a full reading of the vault. */
static void scan(struct fx *f, struct lsl_token *keys, size_t n,
                 struct vt_coll *out)
{
    struct filter fl = {keys, n, out};

    qsort(keys, n, sizeof(*keys), tok_cmp);
    assert_int_equal(
        lsl_vault_read_dir(f->vdir, f->key, filtered, &fl, NULL, NULL), 0);
}

/*
 * The records of keys through the index, files in the reader's order:
 * covered files through their chunks, others read whole. Returns how
 * many files had to be read whole.
 */
static size_t lookup(struct fx *f, struct lsl_token *keys, size_t n,
                     struct vt_coll *out)
{
    struct lsl_sidx *ix;
    struct lsl_sidx_loc *locs;
    size_t nlocs, nnames, whole = 0, at = 0;
    struct filter fl = {keys, n, out};
    char **names, path[1024];

    assert_int_equal(lsl_sidx_open(&ix, f->vdir, f->key), 0);
    assert_int_equal(lsl_sidx_find(ix, keys, n, &locs, &nlocs), 0);
    assert_int_equal(lsl_vault_list(f->vdir, &names, &nnames), 0);
    for (size_t i = 0; i < nnames; i++) {
        const struct lsl_sidx_file *sf;
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", f->vdir, names[i]);
        assert_int_equal(stat(path, &st), 0);
        sf = lsl_sidx_file(ix, names[i], &st);
        if (!sf) {
            whole++;
            assert_int_equal(
                lsl_vault_read_file(path, f->key, filtered, &fl, NULL), 0);
            continue;
        }
        for (at = 0; at < nlocs; at++) {
            if (locs[at].file == sf->no)
                assert_int_equal(lsl_sidx_read_chunk(ix, path, sf, &locs[at],
                                                     keys, n, vt_collect, out),
                                 0);
        }
    }
    lsl_vault_list_free(names, nnames);
    free(locs);
    lsl_sidx_close(ix);
    return whole;
}

static void same(const struct vt_coll *a, const struct vt_coll *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        if (memcmp(&a->v[i], &b->v[i], sizeof(a->v[i])) != 0)
            fail_msg("record %zu differs (token %s)", i, vt_hex(&a->v[i].tok));
    }
}

/* Every token alone, then all of them at once, index against scan. */
static void differential(struct fx *f, size_t expect_whole)
{
    for (size_t i = 0; i < f->ntoks; i += 97) {
        struct vt_coll a = {0}, b = {0};
        struct lsl_token k1 = f->toks[i], k2 = f->toks[i];

        scan(f, &k1, 1, &a);
        assert_int_equal(lookup(f, &k2, 1, &b), expect_whole);
        same(&a, &b);
        vt_coll_free(&a);
        vt_coll_free(&b);
    }
    struct vt_coll a = {0}, b = {0};
    struct lsl_token *k = malloc(f->ntoks * sizeof(*k));

    assert_non_null(k);
    memcpy(k, f->toks, f->ntoks * sizeof(*k));
    scan(f, k, f->ntoks, &a);
    memcpy(k, f->toks, f->ntoks * sizeof(*k));
    assert_int_equal(lookup(f, k, f->ntoks, &b), expect_whole);
    assert_true(a.n >= f->ntoks / 2);
    same(&a, &b);
    vt_coll_free(&a);
    vt_coll_free(&b);
    free(k);
}

static void update(struct fx *f, size_t budget,
                   struct lsl_sidx_update_result *res)
{
    struct lsl_sidx_update_opts o = {.run_budget = budget};

    assert_int_equal(lsl_sidx_update(f->vdir, f->key, &o, res), 0);
}

static void test_lookup_equals_scan(void **state)
{
    struct fx *f = *state;
    struct lsl_sidx_update_result res;
    char p1[512], p2[512], p3[512];

    write_file(f, 0, 3000, 250, p1, sizeof(p1));
    write_file(f, 2000, 2000, 0, p2, sizeof(p2)); /* overlaps: same tokens */
    write_file(f, 9000, 500, 100, p3, sizeof(p3));
    update(f, 0, &res);
    assert_int_equal(res.files, 3);
    assert_int_equal(res.read, 3);
    assert_int_equal(res.damage, 0);
    assert_true(res.entries >= 5500);
    differential(f, 0);
    /* Nothing changed: nothing read again. */
    update(f, 0, &res);
    assert_int_equal(res.read, 0);
    assert_int_equal(res.files, 3);
}

static void test_incremental(void **state)
{
    struct fx *f = *state;
    struct lsl_sidx_update_result res;
    char p1[512], p2[512], p3[512];
    size_t before;

    write_file(f, 0, 1500, 300, p1, sizeof(p1));
    update(f, 0, &res);
    write_file(f, 5000, 800, 200, p2, sizeof(p2));
    /* Not covered yet: read whole, and still the same answers. */
    differential(f, 1);
    update(f, 0, &res);
    assert_int_equal(res.read, 1);
    assert_int_equal(res.files, 2);
    differential(f, 0);
    /* A file goes: its tokens are no longer found. */
    before = f->ntoks;
    write_file(f, 7000, 300, 0, p3, sizeof(p3));
    update(f, 0, &res);
    assert_int_equal(unlink(p3), 0);
    update(f, 0, &res);
    assert_int_equal(res.files, 2);
    assert_int_equal(res.dropped, 1);
    f->ntoks = before;
    differential(f, 0);
}

static bool drop_some(const struct lsl_vault_record *r, void *ud)
{
    (void)ud;
    return r->tok.hash[0] < 64;
}

/* A file rewritten (erase) is not used through the index until read
 * again; a chunk read with the old state does not open. */
static void test_changed_file(void **state)
{
    struct fx *f = *state;
    struct lsl_sidx_update_result res;
    struct lsl_vault_rewrite_opts ro = {.drop = drop_some, .audit_seq = 1};
    struct lsl_vault_rewrite_result rr;
    struct lsl_sidx *ix;
    struct lsl_sidx_loc *locs;
    const struct lsl_sidx_file *sf;
    struct vt_coll sink = {0};
    struct stat st;
    char p1[512], name[256];
    size_t nlocs;

    write_file(f, 0, 1200, 200, p1, sizeof(p1));
    update(f, 0, &res);
    snprintf(name, sizeof(name), "%s", strrchr(p1, '/') + 1);
    assert_int_equal(lsl_sidx_open(&ix, f->vdir, f->key), 0);
    assert_int_equal(stat(p1, &st), 0);
    sf = lsl_sidx_file(ix, name, &st);
    assert_non_null(sf);
    assert_int_equal(lsl_sidx_find(ix, f->toks, f->ntoks, &locs, &nlocs), 0);
    assert_true(nlocs > 1);
    assert_int_equal(lsl_vault_rewrite(p1, f->key, &ro, &rr), 0);
    assert_true(rr.rewritten && rr.dropped > 0);
    assert_int_equal(stat(p1, &st), 0);
    assert_null(lsl_sidx_file(ix, name, &st));
    /* Had the identity check been fooled, the chunk would not open. */
    assert_int_equal(lsl_sidx_read_chunk(ix, p1, sf, &locs[nlocs - 1], f->toks,
                                         f->ntoks, vt_collect, &sink),
                     LSL_EAUTH);
    free(locs);
    lsl_sidx_close(ix);
    vt_coll_free(&sink);
    differential(f, 1);
    update(f, 0, &res);
    assert_int_equal(res.read, 1);
    differential(f, 0);
}

/* A small budget makes many runs; they merge to few, answers unchanged. */
static void test_merges(void **state)
{
    struct fx *f = *state;
    struct lsl_sidx_update_result res;
    char p[512];
    size_t merged = 0;

    for (unsigned k = 0; k < 10; k++) {
        write_file(f, k * 400, 400, 150, p, sizeof(p));
        update(f, 300, &res);
        merged += res.merged;
        assert_true(res.runs <= 12);
    }
    assert_true(merged > 0);
    assert_int_equal(res.files, 10);
    differential(f, 0);
}

static void flip(const char *path, long at)
{
    size_t len;
    uint8_t *p = vt_slurp(path, &len);

    if (at < 0)
        at += (long)len;
    assert_true((size_t)at < len);
    p[at] ^= 0x20;
    vt_spit(path, p, len);
    free(p);
}

static void test_damage(void **state)
{
    struct fx *f = *state;
    struct lsl_sidx_update_result res;
    struct lsl_officer_key *other;
    struct lsl_sidx *ix = NULL;
    struct lsl_sidx_loc *locs;
    uint8_t pk2[32];
    char p[512], path[1024], sub[600];
    size_t nlocs;

    write_file(f, 0, 4000, 500, p, sizeof(p));
    update(f, 0, &res);
    /* Another officer key opens nothing. */
    snprintf(sub, sizeof(sub), "%s/k2", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    vt_keys(sub, &other, pk2);
    assert_int_equal(lsl_sidx_open(&ix, f->vdir, other), LSL_EAUTH);
    lsl_officer_key_close(other);
    /* A damaged block of a run: a lookup says so. */
    snprintf(path, sizeof(path), "%s/index/run-1.lsi", f->vdir);
    flip(path, -100);
    assert_int_equal(lsl_sidx_open(&ix, f->vdir, f->key), 0);
    assert_int_equal(lsl_sidx_find(ix, f->toks, f->ntoks, &locs, &nlocs),
                     LSL_EAUTH);
    lsl_sidx_close(ix);
    /* A damaged manifest: open fails, the update rebuilds. */
    snprintf(path, sizeof(path), "%s/index/manifest", f->vdir);
    flip(path, -5);
    assert_int_equal(lsl_sidx_open(&ix, f->vdir, f->key), LSL_EAUTH);
    update(f, 0, &res);
    assert_int_equal(res.damage, LSL_EAUTH);
    assert_int_equal(res.read, 1);
    differential(f, 0);
    /* No index at all. */
    assert_int_equal(lsl_sidx_open(&ix, f->dir, f->key), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookup_equals_scan, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incremental, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
