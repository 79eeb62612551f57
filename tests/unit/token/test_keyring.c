/*
 * Keyring: key file creation and the checks on open, and the known-answer
 * vectors of tests/data/token_kat.txt (written by tests/tools/token_kat.py,
 * an independent Python implementation).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/token.h"
#include "testkey.h"

#define KAT_EPOCH 1234

static void temp_path(char path[64])
{
    int fd;

    snprintf(path, 64, "/tmp/lsl-test-kr-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
}

static void test_create_open(void **state)
{
    struct lsl_keyring *kr = NULL, *kr2 = NULL;
    struct lsl_token t1, t2;
    struct stat st;
    char path[64];
    mode_t old_umask;

    (void)state;
    temp_path(path);
    /* A permissive umask must not widen the mode. */
    old_umask = umask(0);
    assert_int_equal(lsl_keyring_create(path, LSL_EPOCH_NEVER), 0);
    umask(old_umask);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 56);
    assert_int_equal(lsl_keyring_create(path, LSL_EPOCH_NEVER), -EEXIST);
    assert_int_equal(lsl_keyring_open(&kr, path), 0);
    assert_int_equal(lsl_keyring_kid(kr, 0), 0);
    assert_int_equal(lsl_token_derive(kr, 0, LSL_CLASS_IP, "1.2.3.4", 7, &t1),
                     0);
    /* Reopening gives the same key. */
    assert_int_equal(lsl_keyring_open(&kr2, path), 0);
    assert_int_equal(lsl_token_derive(kr2, 0, LSL_CLASS_IP, "1.2.3.4", 7, &t2),
                     0);
    assert_true(lsl_token_equal(&t1, &t2));
    assert_int_equal(lsl_token_derive(kr, 0, LSL_CLASS_COUNT, "x", 1, &t1),
                     -EINVAL);
    lsl_keyring_close(kr);
    lsl_keyring_close(kr2);
    lsl_keyring_close(NULL);
    unlink(path);
}

static void test_two_keys_differ(void **state)
{
    struct lsl_keyring *a = NULL, *b = NULL;
    struct lsl_token ta, tb;
    char pa[64], pb[64];

    (void)state;
    temp_path(pa);
    temp_path(pb);
    assert_int_equal(lsl_keyring_create(pa, LSL_EPOCH_NEVER), 0);
    assert_int_equal(lsl_keyring_create(pb, LSL_EPOCH_NEVER), 0);
    assert_int_equal(lsl_keyring_open(&a, pa), 0);
    assert_int_equal(lsl_keyring_open(&b, pb), 0);
    assert_int_equal(lsl_token_derive(a, 0, LSL_CLASS_USER, "42", 2, &ta), 0);
    assert_int_equal(lsl_token_derive(b, 0, LSL_CLASS_USER, "42", 2, &tb), 0);
    assert_false(lsl_token_equal(&ta, &tb));
    lsl_keyring_close(a);
    lsl_keyring_close(b);
    unlink(pa);
    unlink(pb);
}

static void test_bad_epoch_len(void **state)
{
    char path[64];

    (void)state;
    temp_path(path);
    assert_int_equal(lsl_keyring_create(path, (enum lsl_epoch_len)9), -EINVAL);
    assert_int_equal(access(path, F_OK), -1);
}

/* Write img as a key file of `mode`; return what open says. */
static int open_image(const uint8_t *img, size_t len, unsigned mode)
{
    struct lsl_keyring *kr = NULL;
    char path[64];
    int rc;

    testkey_write(path, img, len, mode);
    rc = lsl_keyring_open(&kr, path);
    lsl_keyring_close(kr);
    unlink(path);
    return rc;
}

static void test_open_checks(void **state)
{
    uint8_t key[32] = {1}, img[TESTKEY_FILE_SIZE + 1];
    struct lsl_keyring *kr = NULL;

    (void)state;
    testkey_image(img, key, 3);
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE, 0600), 0);
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE, 0400), 0);
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE, 0644), LSL_EKEYPERM);
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE, 0640), LSL_EKEYPERM);
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE, 0602), LSL_EKEYPERM);
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE - 1, 0600), LSL_EFORMAT);
    img[TESTKEY_FILE_SIZE] = 0;
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE + 1, 0600), LSL_EFORMAT);
    img[0] = 'X';
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE, 0600), LSL_EFORMAT);
    testkey_image(img, key, 3);
    img[8] = 2;
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE, 0600), LSL_EVERSION);
    testkey_image(img, key, 3);
    img[10] = 1;
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE, 0600), LSL_EFORMAT);
    testkey_image(img, key, 3);
    img[9] = 7;
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE, 0600), LSL_EFORMAT);
    img[9] = LSL_EPOCH_WEEK;
    assert_int_equal(open_image(img, TESTKEY_FILE_SIZE, 0600), 0);

    assert_int_equal(lsl_keyring_open(&kr, "/nonexistent/lsl/key"), -ENOENT);
}

static void test_kid(void **state)
{
    struct lsl_keyring *kr = testkey_open(1024 + 5);
    struct lsl_token t;

    (void)state;
    assert_int_equal(lsl_keyring_kid(kr, 0), 5);
    assert_int_equal(lsl_keyring_kid(kr, 1800000000), 5);
    assert_int_equal(lsl_token_derive(kr, 7, LSL_CLASS_ID, "a", 1, &t), 0);
    assert_int_equal(t.kid, 5);
    assert_int_equal(t.cls, LSL_CLASS_ID);
    lsl_keyring_close(kr);
}

/* Split "class\tvalue\ttoken\n" in place. */
static void split_kat(char *line, char **cls, char **value, char **tok)
{
    char *t1 = strchr(line, '\t'), *t2;

    assert_non_null(t1);
    t2 = strchr(t1 + 1, '\t');
    assert_non_null(t2);
    *t1 = *t2 = '\0';
    t2[1 + strcspn(t2 + 1, "\n")] = '\0';
    *cls = line;
    *value = t1 + 1;
    *tok = t2 + 1;
}

static void test_known_answers(void **state)
{
    struct lsl_keyring *kr = testkey_open(KAT_EPOCH);
    FILE *f = fopen(LSL_TEST_DATA "/token_kat.txt", "r");
    char line[512], norm[512], text[LSL_TOKEN_TEXT_MAX];
    unsigned checked = 0;

    (void)state;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *cls_s, *value, *want;
        enum lsl_class c;
        struct lsl_token t;
        long n;

        if (line[0] == '#')
            continue;
        split_kat(line, &cls_s, &value, &want);
        assert_int_equal(lsl_class_parse(cls_s, strlen(cls_s), &c), 0);
        n = lsl_token_normalize(c, value, strlen(value), norm, sizeof(norm));
        assert_true(n >= 0);
        assert_int_equal(lsl_token_derive(kr, 0, c, norm, (size_t)n, &t), 0);
        lsl_token_format(&t, text);
        if (strcmp(text, want) != 0)
            fail_msg("%s '%s': got %s want %s", cls_s, value, text, want);
        checked++;
    }
    fclose(f);
    assert_true(checked >= 30);
    lsl_keyring_close(kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_open),
        cmocka_unit_test(test_two_keys_differ),
        cmocka_unit_test(test_bad_epoch_len),
        cmocka_unit_test(test_open_checks),
        cmocka_unit_test(test_kid),
        cmocka_unit_test(test_known_answers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
