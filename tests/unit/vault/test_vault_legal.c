/*
 * The vault's legal side: rewriting a file without some records (others
 * intact, a new file key, same name and epoch, unfinished files refused),
 * the erased list, legal holds (subject tokens and epochs, release), the
 * header epoch checked against the file name and record key ids, and
 * version 1 files (built here by hand) still read.
 */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "logseal/legal.h"
#include "vt_util.h"

struct fx {
    char *dir;
    struct lsl_officer_key *key;
    uint8_t pk[32];
    char path[4096];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = vt_tmpdir();
    vt_keys(f->dir, &f->key, f->pk);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    lsl_officer_key_close(f->key);
    vt_rmrf(f->dir);
    free(f);
    return 0;
}

static const char *const values[] = {"203.0.113.7", "198.51.100.23",
                                     "2001:db8::1"};

/* A finished file of epoch 7 (day epochs) with the three values. */
static void write_epoch7(struct fx *f)
{
    struct lsl_vault_writer_opts o;
    struct lsl_vault_writer *w = NULL;

    lsl_vault_writer_opts_init(&o);
    o.dir = f->dir;
    o.pubkey = f->pk;
    o.source = "posting";
    o.epoch = 7;
    o.epoch_len = LSL_EPOCH_DAY;
    assert_int_equal(lsl_vault_writer_open(&w, &o), 0);
    for (unsigned i = 0; i < 3; i++) {
        struct lsl_mapping m =
            vt_map(LSL_CLASS_IP, 7 + 1024 * i, values[i], 100 + i, 200 + i);

        vt_add(w, &m, true);
    }
    snprintf(f->path, sizeof(f->path), "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_close(w), 0);
}

static bool drop_second(const struct lsl_vault_record *r, void *ud)
{
    const struct lsl_mapping *m = ud;

    return lsl_token_equal(&r->tok, &m->tok);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_rewrite_drops_only_victims(void **state)
{
    struct fx *f = *state;
    struct lsl_mapping victim = vt_map(LSL_CLASS_IP, 7 + 1024, values[1], 0, 0);
    struct lsl_vault_file_info info;
    struct vt_coll got = {0};
    uint8_t *before, *after;
    size_t blen, alen, files;
    uint64_t dropped = 0;

    write_epoch7(f);
    files = count_entries(f->dir);
    before = vt_slurp(f->path, &blen);
    assert_int_equal(
        lsl_vault_rewrite(f->path, f->key, drop_second, &victim, &dropped), 0);
    assert_int_equal(dropped, 1);
    after = vt_slurp(f->path, &alen);
    /* A new file key: the sealed key differs; no temporary is left. */
    assert_memory_not_equal(before + 40, after + 40, 80);
    assert_int_equal(count_entries(f->dir), files);
    assert_int_equal(
        lsl_vault_read_file(f->path, f->key, vt_collect, &got, &info), 0);
    assert_int_equal(info.epoch, 7);
    assert_int_equal(info.epoch_len, LSL_EPOCH_DAY);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.v[0].value, values[0]);
    assert_string_equal(got.v[1].value, values[2]);
    assert_string_equal(got.v[1].source, "posting");
    assert_int_equal(got.v[1].first_seen, 102);
    assert_int_equal(got.v[1].last_seen, 202);
    /* Nothing to drop: the file is left byte for byte. */
    free(before);
    before = vt_slurp(f->path, &blen);
    assert_int_equal(
        lsl_vault_rewrite(f->path, f->key, drop_second, &victim, &dropped), 0);
    assert_int_equal(dropped, 0);
    free(after);
    after = vt_slurp(f->path, &alen);
    assert_int_equal(alen, blen);
    assert_memory_equal(before, after, blen);
    free(before);
    free(after);
    vt_coll_free(&got);
}

static void test_rewrite_refuses_unfinished(void **state)
{
    struct fx *f = *state;
    struct lsl_mapping victim = vt_map(LSL_CLASS_IP, 7, values[0], 0, 0);
    uint8_t *before, *after;
    size_t blen, alen, cut;

    write_epoch7(f);
    before = vt_slurp(f->path, &blen);
    /* Drop the final chunk: as if still being written. */
    cut = blen - 20;
    vt_spit(f->path, before, cut);
    assert_int_equal(
        lsl_vault_rewrite(f->path, f->key, drop_second, &victim, NULL),
        LSL_ETRUNC);
    after = vt_slurp(f->path, &alen);
    assert_int_equal(alen, cut);
    assert_memory_equal(before, after, cut);
    free(before);
    free(after);
}

static void test_erased_list(void **state)
{
    struct fx *f = *state;
    struct lsl_mapping a = vt_map(1, 1, "x", 0, 0), b = vt_map(1, 2, "y", 0, 0),
                       c = vt_map(1, 3, "z", 0, 0);
    struct lsl_tokset s = {0};

    assert_int_equal(lsl_legal_erased_load(f->dir, &s), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(lsl_legal_erased_add(f->dir, "CASE-1", &a.tok, 1), 0);
    assert_int_equal(lsl_legal_erased_add(f->dir, "CASE-2", &b.tok, 1), 0);
    assert_int_equal(lsl_legal_erased_add(f->dir, "bad\tcase", &c.tok, 1),
                     -EINVAL);
    assert_int_equal(lsl_legal_erased_load(f->dir, &s), 0);
    assert_true(lsl_tokset_has(&s, &a.tok));
    assert_true(lsl_tokset_has(&s, &b.tok));
    assert_false(lsl_tokset_has(&s, &c.tok));
    lsl_tokset_free(&s);
}

static void test_holds(void **state)
{
    struct fx *f = *state;
    struct lsl_mapping held = vt_map(2, 3, "u", 0, 0),
                       other = vt_map(2, 4, "v", 0, 0),
                       in_epoch = vt_map(2, 5 + 1024, "w", 0, 0);
    struct lsl_holds *h = NULL;
    size_t removed;

    assert_int_equal(lsl_holds_load(f->dir, &h), 0);
    assert_false(lsl_holds_token(h, &held.tok));
    assert_int_equal(lsl_holds_add_tokens(h, "SUBJ", &held.tok, 1), 0);
    assert_int_equal(lsl_holds_add_epoch(h, "EPOCH", 5), 0);
    assert_int_equal(lsl_holds_save(h), 0);
    lsl_holds_free(h);
    h = NULL;
    assert_int_equal(lsl_holds_load(f->dir, &h), 0);
    assert_true(lsl_holds_token(h, &held.tok));
    assert_false(lsl_holds_token(h, &other.tok));
    assert_true(lsl_holds_token(h, &in_epoch.tok)); /* kid 5: epoch held */
    assert_true(lsl_holds_epoch(h, 5));
    assert_true(lsl_holds_epoch(h, 3)); /* the held token's epoch id */
    assert_false(lsl_holds_epoch(h, 6));
    lsl_holds_release(h, "SUBJ", &removed);
    assert_int_equal(removed, 1);
    assert_false(lsl_holds_token(h, &held.tok));
    assert_false(lsl_holds_epoch(h, 3));
    assert_true(lsl_holds_epoch(h, 5));
    lsl_holds_release(h, "EPOCH", &removed);
    assert_int_equal(removed, 1);
    assert_false(lsl_holds_epoch(h, 5));
    assert_int_equal(lsl_holds_save(h), 0);
    lsl_holds_free(h);
    h = NULL;
    assert_int_equal(lsl_holds_load(f->dir, &h), 0);
    assert_false(lsl_holds_epoch(h, 5));
    lsl_holds_free(h);
}

static void test_epoch_name_and_kid(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer_opts o;
    struct lsl_vault_writer *w = NULL;
    struct lsl_mapping m = vt_map(LSL_CLASS_IP, 8, "10.0.0.1", 1, 1);
    char copy[4096];
    uint8_t *img;
    size_t len;

    write_epoch7(f);
    /* The same file under epoch 8's name. */
    img = vt_slurp(f->path, &len);
    snprintf(copy, sizeof(copy), "%s/8-copy.lsv", f->dir);
    vt_spit(copy, img, len);
    free(img);
    assert_int_equal(lsl_vault_read_file(copy, f->key, NULL, NULL, NULL),
                     LSL_EAUTH);
    unlink(copy);
    /* A ratcheting epoch-7 file holding a record of key id 8. */
    lsl_vault_writer_opts_init(&o);
    o.dir = f->dir;
    o.pubkey = f->pk;
    o.epoch = 7;
    o.epoch_len = LSL_EPOCH_WEEK;
    assert_int_equal(lsl_vault_writer_open(&w, &o), 0);
    vt_add(w, &m, true);
    snprintf(copy, sizeof(copy), "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_close(w), 0);
    assert_int_equal(lsl_vault_read_file(copy, f->key, NULL, NULL, NULL),
                     LSL_ECORRUPT);
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A version 1 file, assembled from the format description. */
static void test_reads_version_1(void **state)
{
    struct fx *f = *state;
    crypto_secretstream_xchacha20poly1305_state st;
    uint8_t img[1024], key[32], rec[64], *p = img;
    struct lsl_mapping m = vt_map(LSL_CLASS_USER, 3, "42", 10, 20);
    struct lsl_vault_file_info info;
    struct vt_coll got = {0};
    size_t rlen = 0;

    memcpy(p, "LSLVAULT", 8);
    p[8] = 1; /* version 1, reserved zero */
    memset(p + 9, 0, 3);
    put_le(p + 12, 3, 4);
    put_le(p + 16, 1700000000, 8);
    memset(p + 24, 0xab, 16);
    crypto_secretstream_xchacha20poly1305_keygen(key);
    assert_int_equal(crypto_box_seal(p + 40, key, 32, f->pk), 0);
    crypto_secretstream_xchacha20poly1305_init_push(&st, p + 120, key);
    rec[rlen++] = LSL_VAULT_REC_MAP;
    rec[rlen++] = m.tok.cls;
    put_le(rec + rlen, m.tok.kid, 2);
    rlen += 2;
    memcpy(rec + rlen, m.tok.hash, 15);
    rlen += 15;
    put_le(rec + rlen, 10, 8);
    put_le(rec + rlen + 8, 20, 8);
    put_le(rec + rlen + 16, 0, 2); /* no source */
    put_le(rec + rlen + 18, 2, 4);
    memcpy(rec + rlen + 22, "42", 2);
    rlen += 24;
    p = img + 144;
    put_le(p, rlen + crypto_secretstream_xchacha20poly1305_ABYTES, 4);
    crypto_secretstream_xchacha20poly1305_push(
        &st, p + 4, NULL, rec, rlen, img, 40,
        crypto_secretstream_xchacha20poly1305_TAG_FINAL);
    snprintf(f->path, sizeof(f->path), "%s/3-v1.lsv", f->dir);
    vt_spit(f->path, img,
            148 + rlen + crypto_secretstream_xchacha20poly1305_ABYTES);
    assert_int_equal(
        lsl_vault_read_file(f->path, f->key, vt_collect, &got, &info), 0);
    assert_int_equal(info.epoch, 3);
    assert_int_equal(info.epoch_len, LSL_EPOCH_NEVER);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.v[0].value, "42");
    vt_coll_free(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rewrite_drops_only_victims, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rewrite_refuses_unfinished, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_erased_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_name_and_kid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reads_version_1, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
