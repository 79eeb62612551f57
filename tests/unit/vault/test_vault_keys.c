/* Officer key pair: generation, loading, and what a bad key file gets. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/vault/vault_internal.h"
#include "vt_util.h"

struct paths {
    char *dir;
    char sec[512];
    char pub[512];
};

static int setup(void **state)
{
    static struct paths p;

    p.dir = vt_tmpdir();
    snprintf(p.sec, sizeof(p.sec), "%s/officer.key", p.dir);
    snprintf(p.pub, sizeof(p.pub), "%s/vault.pub", p.dir);
    *state = &p;
    return 0;
}

static int teardown(void **state)
{
    struct paths *p = *state;

    vt_rmrf(p->dir);
    return 0;
}

static void test_keygen_and_load(void **state)
{
    struct paths *p = *state;
    struct lsl_officer_key *k = NULL;
    uint8_t pk[32], sealed[crypto_box_SEALBYTES + 4], plain[4];
    struct stat st;

    assert_int_equal(lsl_officer_keygen(p->sec, p->pub), 0);
    assert_int_equal(stat(p->sec, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 72);
    assert_int_equal(stat(p->pub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(st.st_size, 40);
    assert_int_equal(lsl_officer_key_open(&k, p->sec), 0);
    assert_int_equal(lsl_vault_pubkey_load(p->pub, pk), 0);
    assert_memory_equal(lsl_officer_key_pk(k), pk, 32);
    /* The loaded secret key opens what is sealed to the public key file. */
    assert_int_equal(crypto_box_seal(sealed, (const uint8_t *)"abcd", 4, pk),
                     0);
    assert_int_equal(crypto_box_seal_open(plain, sealed, sizeof(sealed),
                                          lsl_officer_key_pk(k),
                                          lsl_officer_key_sk(k)),
                     0);
    assert_memory_equal(plain, "abcd", 4);
    lsl_officer_key_close(k);
    lsl_officer_key_close(NULL);
    /* A second keygen never overwrites. */
    assert_int_equal(lsl_officer_keygen(p->sec, p->pub), -EEXIST);
}

static void test_keygen_pub_exists_leaves_no_secret(void **state)
{
    struct paths *p = *state;
    int fd = open(p->pub, O_WRONLY | O_CREAT | O_EXCL, 0644);

    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(lsl_officer_keygen(p->sec, p->pub), -EEXIST);
    assert_int_equal(access(p->sec, F_OK), -1);
}

static void test_permission_refused(void **state)
{
    struct paths *p = *state;
    struct lsl_officer_key *k = NULL;

    assert_int_equal(lsl_officer_keygen(p->sec, p->pub), 0);
    assert_int_equal(chmod(p->sec, 0644), 0);
    assert_int_equal(lsl_officer_key_open(&k, p->sec), LSL_EKEYPERM);
    assert_null(k);
    assert_int_equal(chmod(p->sec, 0640), 0);
    assert_int_equal(lsl_officer_key_open(&k, p->sec), LSL_EKEYPERM);
    assert_int_equal(chmod(p->sec, 0600), 0);
    assert_int_equal(lsl_officer_key_open(&k, p->sec), 0);
    lsl_officer_key_close(k);
}

/* Rewrite byte `at` of the secret key file with `v`. */
static void poke(const char *path, size_t at, uint8_t v)
{
    size_t len;
    uint8_t *b = vt_slurp(path, &len);

    b[at] = v;
    vt_spit(path, b, len);
    free(b);
}

static void test_mismatched_pair(void **state)
{
    struct paths *p = *state;
    struct lsl_officer_key *k = NULL;
    size_t len;
    uint8_t *b;

    assert_int_equal(lsl_officer_keygen(p->sec, p->pub), 0);
    b = vt_slurp(p->sec, &len);
    /* Flip one bit of the public half: it no longer matches sk. */
    poke(p->sec, 8 + 32 + 5, b[8 + 32 + 5] ^ 0x10);
    assert_int_equal(lsl_officer_key_open(&k, p->sec), LSL_EFORMAT);
    vt_spit(p->sec, b, len);
    /* Flip one bit of the secret half. */
    poke(p->sec, 8 + 3, b[8 + 3] ^ 0x01);
    assert_int_equal(lsl_officer_key_open(&k, p->sec), LSL_EFORMAT);
    vt_spit(p->sec, b, len);
    assert_int_equal(lsl_officer_key_open(&k, p->sec), 0);
    lsl_officer_key_close(k);
    free(b);
}

static void test_bad_files(void **state)
{
    struct paths *p = *state;
    struct lsl_officer_key *k = NULL;
    uint8_t pk[32];

    assert_int_equal(lsl_officer_keygen(p->sec, p->pub), 0);
    /* Each file is refused where the other kind is expected. */
    assert_int_equal(lsl_vault_pubkey_load(p->sec, pk), LSL_EFORMAT);
    assert_int_equal(chmod(p->pub, 0600), 0);
    assert_int_equal(lsl_officer_key_open(&k, p->pub), LSL_EFORMAT);
    poke(p->sec, 0, 'X');
    assert_int_equal(lsl_officer_key_open(&k, p->sec), LSL_EFORMAT);
    poke(p->pub, 7, '0');
    assert_int_equal(lsl_vault_pubkey_load(p->pub, pk), LSL_EFORMAT);
    assert_null(k);
    assert_int_equal(lsl_officer_key_open(&k, "/nonexistent/officer.key"),
                     -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_pub_exists_leaves_no_secret,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_permission_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mismatched_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
