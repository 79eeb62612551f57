/*
 * Officer key shares on disk: writing k-of-n share files and rebuilding
 * the key from them, and every way a share can be wrong (passphrase,
 * another vault, another split, twice, too few, edited, readable by
 * others, already there).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/vault/vault_internal.h"
#include "vt_util.h"

#define N 3
#define K 2

struct fix {
    char *dir;
    char path[N][512];
    const char *paths[N];
    struct lsl_officer_key *key;
};

static const char *const pass[N] = {"alpha one alpha", "bravo two bravo",
                                    "charlie three"};

/* Fast Argon2id limits: the tests check logic, not cost. */
static void write_split(const struct lsl_officer_key *key,
                        const char *const *paths, int expect)
{
    struct lsl_shares_opts o;

    lsl_shares_opts_init(&o);
    o.threshold = K;
    o.count = N;
    o.paths = paths;
    o.passphrases = pass;
    o.opslimit = crypto_pwhash_OPSLIMIT_MIN;
    o.memlimit = crypto_pwhash_MEMLIMIT_MIN;
    assert_int_equal(lsl_officer_shares_write(key, &o), expect);
}

static int setup(void **state)
{
    static struct fix f;

    f.dir = vt_tmpdir();
    for (int i = 0; i < N; i++) {
        snprintf(f.path[i], sizeof(f.path[i]), "%s/officer.share.%d", f.dir,
                 i + 1);
        f.paths[i] = f.path[i];
    }
    assert_int_equal(lsl_officer_key_generate(&f.key), 0);
    write_split(f.key, f.paths, 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    lsl_officer_key_close(f->key);
    vt_rmrf(f->dir);
    return 0;
}

static int open_pair(struct fix *f, int a, int b, const char *pa,
                     const char *pb, const uint8_t *expect,
                     struct lsl_shares_status *st, struct lsl_officer_key **out)
{
    const char *paths[2] = {f->paths[a], f->paths[b]};
    const char *pw[2] = {pa, pb};

    return lsl_officer_key_from_shares(out, paths, pw, 2, expect, st);
}

static void test_any_two_rebuild(void **state)
{
    struct fix *f = *state;
    uint8_t pk[32];

    lsl_officer_key_public(f->key, pk);
    for (int a = 0; a < N; a++) {
        for (int b = 0; b < N; b++) {
            struct lsl_officer_key *k = NULL;

            if (a == b)
                continue;
            assert_int_equal(open_pair(f, a, b, pass[a], pass[b], pk, NULL, &k),
                             0);
            assert_memory_equal(lsl_officer_key_sk(k),
                                lsl_officer_key_sk(f->key), 32);
            lsl_officer_key_close(k);
        }
    }
}

static void test_files_are_private(void **state)
{
    struct fix *f = *state;
    struct stat st;

    for (int i = 0; i < N; i++) {
        assert_int_equal(stat(f->path[i], &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
}

static void test_too_few(void **state)
{
    struct fix *f = *state;
    struct lsl_shares_status st;
    struct lsl_officer_key *k = NULL;

    assert_int_equal(
        lsl_officer_key_from_shares(&k, f->paths, pass, 1, NULL, &st),
        LSL_ENOKEY);
    assert_int_equal(st.threshold, K);
    assert_null(k);
}

static void test_wrong_passphrase(void **state)
{
    struct fix *f = *state;
    struct lsl_shares_status st;
    struct lsl_officer_key *k = NULL;

    assert_int_equal(open_pair(f, 0, 2, pass[0], "charlie!", NULL, &st, &k),
                     LSL_EAUTH);
    assert_int_equal(st.bad, 1);
    assert_non_null(strstr(st.why, "passphrase"));
    assert_null(k);
}

static void test_same_share_twice(void **state)
{
    struct fix *f = *state;
    struct lsl_shares_status st;
    struct lsl_officer_key *k = NULL;

    assert_int_equal(open_pair(f, 1, 1, pass[1], pass[1], NULL, &st, &k),
                     LSL_EAUTH);
    assert_int_equal(st.bad, 1);
}

static void test_share_of_another_vault(void **state)
{
    struct fix *f = *state;
    struct lsl_officer_key *other = NULL, *k = NULL;
    struct lsl_shares_status st;
    char path[N][512];
    const char *paths[N];
    uint8_t pk[32];

    for (int i = 0; i < N; i++) {
        snprintf(path[i], sizeof(path[i]), "%s/other.%d", f->dir, i + 1);
        paths[i] = path[i];
    }
    assert_int_equal(lsl_officer_key_generate(&other), 0);
    write_split(other, paths, 0);
    lsl_officer_key_public(f->key, pk);
    /* Checked against vault.pub: the foreign share is named. */
    {
        const char *mixed[2] = {f->paths[0], paths[1]};
        const char *pw[2] = {pass[0], pass[1]};

        assert_int_equal(lsl_officer_key_from_shares(&k, mixed, pw, 2, pk, &st),
                         LSL_EAUTH);
        assert_int_equal(st.bad, 1);
        assert_non_null(strstr(st.why, "another vault"));
        /* Without vault.pub the shares still disagree with each other. */
        assert_int_equal(
            lsl_officer_key_from_shares(&k, mixed, pw, 2, NULL, &st),
            LSL_EAUTH);
        assert_int_equal(st.bad, 1);
        /* A complete foreign set does not match this vault.pub either. */
        assert_int_equal(
            lsl_officer_key_from_shares(&k, paths, pass, 2, pk, &st),
            LSL_EAUTH);
        assert_int_equal(st.bad, 0);
    }
    assert_null(k);
    lsl_officer_key_close(other);
}

static void test_edited_header(void **state)
{
    struct fix *f = *state;
    struct lsl_shares_status st;
    struct lsl_officer_key *k = NULL;
    uint8_t b;
    int fd;

    /* Byte 8 is the threshold: a holder cannot lower it unnoticed. */
    fd = open(f->path[2], O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &b, 1, 8), 1);
    b = 1;
    assert_int_equal(pwrite(fd, &b, 1, 8), 1);
    close(fd);
    assert_int_equal(
        lsl_officer_key_from_shares(&k, &f->paths[2], &pass[2], 1, NULL, &st),
        LSL_EAUTH);
    assert_int_equal(st.bad, 0);
    assert_null(k);
}

static void test_readable_by_others(void **state)
{
    struct fix *f = *state;
    struct lsl_shares_status st;
    struct lsl_officer_key *k = NULL;

    assert_int_equal(chmod(f->path[0], 0644), 0);
    assert_int_equal(open_pair(f, 1, 0, pass[1], pass[0], NULL, &st, &k),
                     LSL_EKEYPERM);
    assert_int_equal(st.bad, 1);
}

static void test_write_refuses_and_cleans(void **state)
{
    struct fix *f = *state;
    char path[N][512];
    const char *paths[N];
    struct stat st;

    for (int i = 0; i < N; i++) {
        snprintf(path[i], sizeof(path[i]), "%s/new.%d", f->dir, i + 1);
        paths[i] = path[i];
    }
    /* The last one exists: the first two must not be left behind. */
    paths[2] = f->path[0];
    write_split(f->key, paths, -EEXIST);
    assert_int_equal(stat(path[0], &st), -1);
    assert_int_equal(stat(path[1], &st), -1);
    assert_int_equal(stat(f->path[0], &st), 0);
}

static int split_with(const struct fix *f, const char *const *pw, unsigned k,
                      unsigned n)
{
    struct lsl_shares_opts o;

    lsl_shares_opts_init(&o);
    o.threshold = k;
    o.count = n;
    o.paths = f->paths;
    o.passphrases = pw;
    o.opslimit = crypto_pwhash_OPSLIMIT_MIN;
    o.memlimit = crypto_pwhash_MEMLIMIT_MIN;
    return lsl_officer_shares_write(f->key, &o);
}

/* Weak splits: empty, 1-character and equal passphrases, k = 1. */
static void test_weak_splits_refused(void **state)
{
    struct fix *f = *state;
    const char *const empty[N] = {"alpha one alpha", "", "charlie three"};
    const char *const one[N] = {"a", "bravo two bravo", "charlie three"};
    const char *const equal[N] = {"alpha one alpha", "bravo two bravo",
                                  "alpha one alpha"};

    assert_int_equal(split_with(f, empty, K, N), -EINVAL);
    assert_int_equal(split_with(f, one, K, N), -EINVAL);
    assert_int_equal(split_with(f, equal, K, N), -EINVAL);
    assert_int_equal(split_with(f, pass, 1, N), -EINVAL);
    assert_int_equal(split_with(f, pass, 1, 1), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_any_two_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_are_private, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_too_few, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_share_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_share_of_another_vault, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_edited_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readable_by_others, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_write_refuses_and_cleans, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_weak_splits_refused, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
